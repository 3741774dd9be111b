//! Identity across API versions against the fake API server: a VirtualMachine rendered at
//! `kubevirt.io/v1alpha3` on a cluster that serves only `kubevirt.io/v1` is found (discovery
//! picks a served version of its group), is the same object and is in sync, with a note naming
//! both versions; a server-side dry-run at the unserved rendered version fails, naming the
//! version the cluster serves.

use plinth_drift::core::live::KindRef;
use plinth_drift::core::report::Status;
use plinth_drift::core::{desired, pipeline};
use plinth_drift::source::kube::ClusterLive;
use plinth_testkit::{FakeApiServer, Scenario};
use plinth_vocab::ObjectRef;
use serde_json::{Value, json};

use crate::support;

fn vm(api_version: &str) -> Value {
    json!({
        "apiVersion": api_version, "kind": "VirtualMachine",
        "metadata": {"name": "vm-1", "namespace": "vms"},
        "spec": {"runStrategy": "Always"},
    })
}

/// A cluster that serves `VirtualMachine` at `kubevirt.io/v1` only, holding `vm-1`.
fn server() -> FakeApiServer {
    let scenario = Scenario::new()
        .serve("kubevirt.io/v1", "VirtualMachine", true)
        .object(vm("kubevirt.io/v1"));
    FakeApiServer::start(scenario).expect("server")
}

/// The `VirtualMachine`s of namespace `vms`, as rendered: at `kubevirt.io/v1alpha3`.
fn wanted() -> [KindRef; 1] {
    [KindRef {
        api_version: "kubevirt.io/v1alpha3".into(),
        kind: "VirtualMachine".into(),
        namespace: Some("vms".into()),
    }]
}

async fn connect(server: &FakeApiServer) -> ClusterLive {
    support::connect(&support::options(server, 1)).await
}

#[tokio::test]
async fn an_object_rendered_at_an_unserved_version_is_read_at_a_served_one() {
    let server = server();
    let desired = desired::from_values([vm("kubevirt.io/v1alpha3")], "vms");
    let cluster = connect(&server).await;
    let placement = cluster.placement(&desired, None).await.expect("placement");
    assert!(placement.namespaced("kubevirt.io", "VirtualMachine"));
    let live = cluster.fetch(&wanted(), "prod").await.expect("fetch");
    assert!(live.unserved.is_empty(), "{:?}", live.unserved);
    let key = ObjectRef::new(
        "kubevirt.io/v1alpha3",
        "VirtualMachine",
        Some("vms"),
        "vm-1",
    );
    assert_eq!(live.objects[&key]["apiVersion"], "kubevirt.io/v1");
    assert!(live.was_listed(&key));
    let log = server.request_log();
    assert_eq!(
        support::hits(
            &server,
            "/apis/kubevirt.io/v1/namespaces/vms/virtualmachines"
        ),
        1,
        "{}",
        plinth_testkit::describe(&log)
    );

    let results = pipeline::run_client_side(&desired, &live, "platform.kubevirt.io", "prod");
    assert_eq!(results.len(), 1);
    assert_eq!(results[0].status, Status::InSync, "{:?}", results[0]);
    assert_eq!(
        results[0].notes,
        ["compared `kubevirt.io/v1alpha3` (desired) with `kubevirt.io/v1` (live)"]
    );
}

#[tokio::test]
async fn a_dry_run_at_an_unserved_version_fails_naming_the_served_one() {
    let server = server();
    let cluster = connect(&server).await;
    // As the engine does: live state first, then the dry-runs.
    cluster.fetch(&wanted(), "prod").await.expect("fetch");
    let err = cluster
        .dry_run_apply(&vm("kubevirt.io/v1alpha3"))
        .await
        .expect_err("the rendered version is not served");
    let text = plinth_drift::error::chain(&err);
    assert!(
        text.contains("`kubevirt.io/v1alpha3` `VirtualMachine` is not served by the cluster (it serves `VirtualMachine` at `kubevirt.io/v1`)"),
        "{text}"
    );
    // At the served version it goes through.
    let dry_run = cluster
        .dry_run_apply(&vm("kubevirt.io/v1"))
        .await
        .expect("dry run");
    assert_eq!(dry_run["spec"]["runStrategy"], "Always");
}
