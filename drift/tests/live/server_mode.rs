//! Server-side mode end to end against the fake API server: the SSA dry-run of the desired
//! object compared with live. Server defaults (top-level and inside named list items),
//! reordered containers, managedFields and status are in sync; a real change is found at its
//! pointer; the dry-runs write nothing.

use std::time::Duration;

use plinth_drift::compare_server_side;
use plinth_drift::source::kube::{CONCURRENCY, ClusterLive};
use plinth_testkit::{FakeApiServer, Scenario};
use serde_json::{Value, json};

use crate::support;

fn desired() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "a",
            "labels": {"app.kubernetes.io/managed-by": "plinth", "plinth.dev/cluster": "prod"}},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "app", "image": "registry.example/app:1.2"},
                    {"name": "sidecar", "image": "registry.example/proxy:3"},
                ]},
            },
        },
    })
}

/// What the live object looks like after a real server stored `desired()`: defaults at the top
/// and inside each container, containers in another order, managedFields and status.
fn live() -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "a",
            "labels": {"app.kubernetes.io/managed-by": "plinth", "plinth.dev/cluster": "prod"},
            "annotations": {"deployment.kubernetes.io/revision": "3"},
            "managedFields": [{"manager": "kube-controller-manager", "operation": "Update"}]},
        "spec": {
            "replicas": 2,
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {
                    "restartPolicy": "Always",
                    "containers": [
                        {"name": "sidecar", "image": "registry.example/proxy:3",
                         "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log"},
                        {"name": "app", "image": "registry.example/app:1.2",
                         "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log"},
                    ],
                },
            },
        },
        "status": {"replicas": 2, "readyReplicas": 2},
    })
}

async fn connect(server: &FakeApiServer) -> ClusterLive {
    support::connect_plain(&support::options(server, 2)).await
}

/// The server-side apply dry-run of `desired()` on `server`.
async fn dry_run(server: &FakeApiServer) -> Value {
    connect(server)
        .await
        .dry_run_apply(&desired())
        .await
        .expect("dry run")
}

#[tokio::test]
async fn server_defaults_and_reordered_containers_are_in_sync() {
    let server = FakeApiServer::start(Scenario::new().object(live())).expect("server");
    let stored = server
        .get("apps/v1", "Deployment", Some("a"), "web")
        .expect("live");
    let cluster = connect(&server).await;
    let dry_run = cluster.dry_run_apply(&desired()).await.expect("dry run");
    let changes = compare_server_side(&dry_run, &stored);
    assert!(changes.is_empty(), "{changes:#?}");
    assert_eq!(
        server
            .get("apps/v1", "Deployment", Some("a"), "web")
            .expect("live"),
        stored
    );
}

#[tokio::test]
async fn a_changed_image_and_replicas_are_drift() {
    let mut drifted = live();
    drifted["spec"]["replicas"] = 5.into();
    drifted["spec"]["template"]["spec"]["containers"][1]["image"] =
        "registry.example/app:9.9".into();
    let server = FakeApiServer::start(Scenario::new().object(drifted)).expect("server");
    let stored = server
        .get("apps/v1", "Deployment", Some("a"), "web")
        .expect("live");
    let dry_run = dry_run(&server).await;
    let changes = compare_server_side(&dry_run, &stored);
    let pointers: Vec<&str> = changes.iter().map(|c| c.pointer.as_str()).collect();
    assert_eq!(
        pointers,
        ["/spec/replicas", "/spec/template/spec/containers/1/image"],
        "{changes:#?}"
    );
    let replicas = &changes[0];
    assert_eq!(replicas.before, Some(json!(2)));
    assert_eq!(replicas.after, Some(json!(5)));
}

#[tokio::test]
async fn a_missing_object_dry_runs_as_a_create() {
    let server = FakeApiServer::start(
        Scenario::new().default_fields("Deployment", json!({"spec": {"revisionHistoryLimit": 10}})),
    )
    .expect("server");
    let dry_run = dry_run(&server).await;
    assert_eq!(dry_run["spec"]["revisionHistoryLimit"], 10);
    assert_eq!(dry_run["metadata"]["generation"], 1);
    assert_eq!(server.object_count(), 0);
}

#[tokio::test]
async fn many_dry_runs_keep_their_order_and_their_own_failures() {
    let mut objects = Vec::new();
    for i in 0..20 {
        let mut d = desired();
        d["metadata"]["name"] = format!("web-{i:02}").into();
        objects.push(d);
    }
    // One object of a kind the cluster does not serve fails on its own.
    objects[7] =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    let server = FakeApiServer::start(Scenario::new()).expect("server");
    server.inject(
        plinth_testkit::Fault::new(plinth_testkit::FaultKind::Slow(Duration::from_millis(50)))
            .matching("/deployments/")
            .times(u32::MAX),
    );
    let refs: Vec<&Value> = objects.iter().collect();
    let results = connect(&server).await.dry_run_apply_many(&refs).await;
    assert_eq!(results.len(), 20);
    for (i, r) in results.iter().enumerate() {
        if i == 7 {
            assert!(r.is_err());
        } else {
            let name = r.as_ref().expect("dry run")["metadata"]["name"].clone();
            assert_eq!(name, json!(format!("web-{i:02}")));
        }
    }
    let most = server.max_in_flight();
    assert!(most > 1 && most <= CONCURRENCY, "{most}");
    assert_eq!(server.object_count(), 0);
    let discoveries = server
        .request_log()
        .iter()
        .filter(|r| r.is_discovery())
        .count();
    assert_eq!(
        discoveries, 2,
        "one discovery per group/version, however many callers"
    );
}
