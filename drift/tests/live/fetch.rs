//! `ClusterLive` against the loopback fake API server: request counts that grow with kinds ×
//! namespaces and not with objects, pagination, orphan label selectors on every listable kind,
//! unserved kinds, refused orphan LISTs, namespace placement from discovery, server-side apply
//! dry-runs and conflicts, Nodes.

use std::time::Duration;

use plinth_drift::DriftError;
use plinth_drift::core::live::KindRef;
use plinth_drift::source::kube::{CONCURRENCY, ClusterLive};
use plinth_testkit::{FakeApiServer, LoggedRequest, Scenario};
use plinth_vocab::ObjectRef;
use serde_json::{Value, json};

use crate::support;

/// A client with 4 attempts per request, retrying fast.
async fn connect(server: &FakeApiServer) -> ClusterLive {
    support::connect(&support::options(server, 3)).await
}

fn labels(cluster: Option<&str>) -> Value {
    match cluster {
        Some(c) => json!({"app.kubernetes.io/managed-by": "plinth", "plinth.dev/cluster": c}),
        None => json!({}),
    }
}

fn object(api_version: &str, kind: &str, ns: &str, name: &str, cluster: Option<&str>) -> Value {
    json!({
        "apiVersion": api_version, "kind": kind,
        "metadata": {"name": name, "namespace": ns, "labels": labels(cluster)},
        "data": {"k": "v"},
    })
}

const KINDS: [(&str, &str); 4] = [
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("apps/v1", "Deployment"),
    ("kubevirt.io/v1", "VirtualMachine"),
];

/// A cluster with `kinds` kinds in `namespaces` namespaces, `per` objects each; returns the
/// server and the wanted kinds.
fn fleet(kinds: usize, namespaces: usize, per: usize) -> (FakeApiServer, Vec<KindRef>) {
    let mut scenario = Scenario::new().serve("kubevirt.io/v1", "VirtualMachine", true);
    let mut wanted = Vec::new();
    for (av, kind) in &KINDS[..kinds] {
        for n in 0..namespaces {
            let ns = format!("ns-{n}");
            wanted.push(KindRef {
                api_version: (*av).to_owned(),
                kind: (*kind).to_owned(),
                namespace: Some(ns.clone()),
            });
            for i in 0..per {
                scenario = scenario.object(object(av, kind, &ns, &format!("o-{i}"), Some("prod")));
            }
        }
    }
    (FakeApiServer::start(scenario).expect("server"), wanted)
}

fn lists(log: &[LoggedRequest]) -> usize {
    log.iter()
        .filter(|r| r.method == "GET" && !r.is_discovery())
        .count()
}

/// The label-selected (orphan) LISTs, by path.
fn orphan_lists(log: &[LoggedRequest]) -> Vec<String> {
    let mut paths: Vec<String> = log
        .iter()
        .filter(|r| r.query.contains_key("labelSelector"))
        .map(|r| r.path.clone())
        .collect();
    paths.sort();
    paths
}

/// The kinds `Scenario::new()` serves (`Namespace`, `Node`, `ConfigMap`, `Secret`, `Service`,
/// `ServiceAccount`, `Deployment`), plus `VirtualMachine` in `fleet`.
const FLEET_SERVED_KINDS: usize = 8;

#[tokio::test]
async fn requests_grow_with_kinds_and_namespaces_not_objects() {
    let mut counts = Vec::new();
    for (kinds, namespaces, per) in [(2, 2, 10), (2, 2, 100), (3, 4, 10), (4, 5, 10)] {
        let (server, wanted) = fleet(kinds, namespaces, per);
        let live = connect(&server)
            .await
            .fetch(&wanted, "prod")
            .await
            .expect("fetch");
        assert_eq!(live.objects.len(), kinds * namespaces * per);
        assert_eq!(live.listed.len(), kinds * namespaces);
        let log = server.request_log();
        // One LIST per rendered (kind, namespace), and one orphan LIST per kind the cluster
        // serves (rendered or not); discovery once per group/version.
        assert_eq!(
            lists(&log),
            kinds * namespaces + FLEET_SERVED_KINDS,
            "{}",
            plinth_testkit::describe(&log)
        );
        assert_eq!(orphan_lists(&log).len(), FLEET_SERVED_KINDS);
        counts.push(log.len());
    }
    assert_eq!(
        counts[0], counts[1],
        "10x the objects must not add requests"
    );
    assert!(counts[2] > counts[1] && counts[3] > counts[2], "{counts:?}");
    eprintln!("requests for (2x2x10, 2x2x100, 3x4x10, 4x5x10): {counts:?}");
}

#[tokio::test]
async fn pagination_reads_every_page() {
    let (server, wanted) = fleet(1, 1, 1234);
    let live = connect(&server)
        .await
        .with_page_size(50)
        .fetch(&wanted, "prod")
        .await
        .expect("fetch");
    assert_eq!(live.objects.len(), 1234);
    let log = server.request_log();
    let pages = log
        .iter()
        .filter(|r| r.path == "/api/v1/namespaces/ns-0/configmaps")
        .count();
    assert_eq!(pages, 25, "{}", plinth_testkit::describe(&log));
    assert!(
        log.iter()
            .any(|r| r.query.get("continue").is_some_and(|c| !c.is_empty()))
    );
    // List items come back without apiVersion/kind; the client puts them back.
    let key = ObjectRef::new("v1", "ConfigMap", Some("ns-0"), "o-7");
    assert_eq!(live.objects[&key]["kind"], "ConfigMap");
    assert_eq!(live.objects[&key]["apiVersion"], "v1");
}

#[tokio::test]
async fn orphans_are_found_by_label_selector_in_other_namespaces() {
    let server = FakeApiServer::start(
        Scenario::new()
            .object(object("v1", "ConfigMap", "a", "rendered", Some("prod")))
            .object(object("v1", "ConfigMap", "old", "orphan", Some("prod")))
            .object(object(
                "v1",
                "ConfigMap",
                "old",
                "other-cluster",
                Some("staging"),
            ))
            .object(object("v1", "ConfigMap", "old", "unlabelled", None)),
    )
    .expect("server");
    let live = support::read(connect(&server).await).await;
    let names: Vec<String> = live.objects.keys().map(ToString::to_string).collect();
    assert_eq!(names, ["ConfigMap/a/rendered", "ConfigMap/old/orphan"]);
    assert!(live.was_listed(&ObjectRef::new("v1", "ConfigMap", Some("a"), "x")));
    assert!(!live.was_listed(&ObjectRef::new("v1", "ConfigMap", Some("old"), "x")));
    let selected = server
        .request_log()
        .into_iter()
        .find(|r| r.query.contains_key("labelSelector") && r.path == "/api/v1/configmaps")
        .expect("a label-selected list");
    assert_eq!(selected.path, "/api/v1/configmaps");
    assert_eq!(
        selected.query["labelSelector"],
        "plinth.dev/cluster=prod,app.kubernetes.io/managed-by=plinth"
    );
}

#[tokio::test]
async fn unserved_kinds_are_reported_not_listed() {
    let server = FakeApiServer::start(Scenario::new()).expect("server");
    let wanted = [
        KindRef {
            api_version: "hco.kubevirt.io/v1beta1".into(),
            kind: "HyperConverged".into(),
            namespace: Some("kubevirt-hyperconverged".into()),
        },
        KindRef {
            api_version: "v1".into(),
            kind: "Bogus".into(),
            namespace: None,
        },
        KindRef {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            namespace: None,
        },
    ];
    let live = connect(&server)
        .await
        .fetch(&wanted, "prod")
        .await
        .expect("fetch");
    let unserved: Vec<_> = live.unserved.iter().cloned().collect();
    assert_eq!(
        unserved,
        [
            (String::new(), "Bogus".to_owned()),
            ("hco.kubevirt.io".to_owned(), "HyperConverged".to_owned())
        ]
    );
    assert!(
        live.listed
            .contains(&(String::new(), "Namespace".to_owned(), None))
    );
    // A rendered cluster-scoped kind needs no orphan LIST: its full LIST already sees them.
    // Every other served kind gets one, cluster-wide.
    let log = server.request_log();
    assert_eq!(
        orphan_lists(&log),
        [
            "/api/v1/configmaps",
            "/api/v1/nodes",
            "/api/v1/secrets",
            "/api/v1/serviceaccounts",
            "/api/v1/services",
            "/apis/apps/v1/deployments",
        ]
    );
    assert_eq!(lists(&log), 1 + 6, "{}", plinth_testkit::describe(&log));
}

/// Orphans are looked for in every kind the cluster serves with `list`, not only the rendered
/// ones (as `kubectl apply --prune` does): one label-selected LIST per kind, cluster-wide;
/// subresources and kinds that cannot be listed are skipped; a kind whose LIST is refused, or
/// a group/version whose discovery fails, is a warning, not a failure.
#[tokio::test]
async fn orphans_of_kinds_no_longer_rendered_are_found() {
    use plinth_testkit::{Fault, FaultKind, ResourceType};
    let server = FakeApiServer::start(
        Scenario::new()
            .object(object("v1", "ConfigMap", "a", "rendered", Some("prod")))
            .object(json!({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                "metadata": {"name": "legacy", "namespace": "vms", "labels": labels(Some("prod"))}}))
            .object(json!({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                "metadata": {"name": "staging", "namespace": "vms", "labels": labels(Some("staging"))}}))
            .object(json!({"apiVersion": "machineconfiguration.openshift.io/v1", "kind": "KubeletConfig",
                "metadata": {"name": "old-kc", "labels": labels(Some("prod"))}}))
            .serve_type(
                ResourceType::new("kubevirt.io/v1", "VirtualMachine", true)
                    .with_subresource("status"),
            )
            .serve_type(ResourceType::new("example.com/v1", "Gadget", true).with_verbs(&["get"]))
            .serve("example.com/v1", "Widget", true)
            .serve("example.com/v1", "Gizmo", false)
            .serve("metrics.k8s.io/v1beta1", "PodMetrics", true),
    )
    .expect("server");
    server.inject(
        Fault::new(FaultKind::ClientError(403))
            .matching("/widgets")
            .times(u32::MAX),
    );
    server.inject(
        Fault::new(FaultKind::ClientError(404))
            .matching("/gizmos")
            .times(u32::MAX),
    );
    server.inject(
        Fault::new(FaultKind::ServerError(503))
            .matching("/apis/metrics.k8s.io/v1beta1")
            .times(u32::MAX),
    );
    let live = support::read(connect(&server).await).await;
    let names: Vec<String> = live.objects.keys().map(ToString::to_string).collect();
    assert_eq!(
        names,
        [
            "ConfigMap/a/rendered",
            "VirtualMachine.kubevirt.io/vms/legacy",
            "KubeletConfig.machineconfiguration.openshift.io/old-kc",
        ]
    );
    let warnings: Vec<&String> = live.warnings.iter().collect();
    assert_eq!(warnings.len(), 3, "{warnings:#?}");
    assert!(
        warnings[0].starts_with("orphaned `Gizmo.example.com` objects were not looked for: LIST `Gizmo` in all namespaces with selector `plinth.dev/cluster=prod,app.kubernetes.io/managed-by=plinth` was refused: HTTP 404 Not Found (NotFound)"),
        "{warnings:#?}"
    );
    assert!(
        warnings[1].starts_with("orphaned `Widget.example.com` objects were not looked for:")
            && warnings[1].ends_with("was refused: HTTP 403 Forbidden (Forbidden)"),
        "{warnings:#?}"
    );
    assert!(
        warnings[2].starts_with("orphaned objects of the kinds of `metrics.k8s.io/v1beta1` were not looked for: discovery of `metrics.k8s.io/v1beta1` failed after 4 attempt(s): HTTP 503"),
        "{warnings:#?}"
    );
    let log = server.request_log();
    // One orphan LIST per listable kind, cluster-wide; none for Gadget (no `list` verb), none
    // for a subresource, none for the kinds of a group/version whose discovery failed.
    let orphans = orphan_lists(&log);
    assert_eq!(
        orphans,
        [
            "/api/v1/configmaps",
            "/api/v1/namespaces",
            "/api/v1/nodes",
            "/api/v1/secrets",
            "/api/v1/serviceaccounts",
            "/api/v1/services",
            "/apis/apps/v1/deployments",
            "/apis/example.com/v1/gizmos",
            "/apis/example.com/v1/widgets",
            "/apis/kubevirt.io/v1/virtualmachines",
            "/apis/machineconfiguration.openshift.io/v1/kubeletconfigs",
        ],
        "{}",
        plinth_testkit::describe(&log)
    );
    assert!(
        !log.iter()
            .any(|r| r.path.contains("gadgets") || r.path.ends_with("/status")),
        "{}",
        plinth_testkit::describe(&log)
    );
    // The orphans are reported as such, whatever their kind.
    let desired = plinth_drift::core::desired::from_values(
        [object("v1", "ConfigMap", "a", "rendered", Some("prod"))],
        "asset",
    );
    let orphaned: Vec<String> = plinth_drift::core::pipeline::orphans(&desired, &live, "prod")
        .iter()
        .map(|o| o.key.to_string())
        .collect();
    assert_eq!(
        orphaned,
        [
            "VirtualMachine.kubevirt.io/vms/legacy",
            "KubeletConfig.machineconfiguration.openshift.io/old-kc",
        ]
    );
}

/// Namespaced objects rendered without a namespace go to the kubeconfig context's namespace
/// (or the one asked for); discovery says which kinds are namespaced.
#[tokio::test]
async fn placement_follows_discovery_and_the_context_namespace() {
    let server = FakeApiServer::start(
        Scenario::new()
            .serve("example.com/v1", "Widget", false)
            .serve("hco.kubevirt.io/v1beta1", "HyperConverged", true),
    )
    .expect("server");
    let desired = || {
        plinth_drift::core::desired::from_values(
            [
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "k", "namespace": "kept"}}),
                json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w", "namespace": "stray"}}),
                json!({"apiVersion": "hco.kubevirt.io/v1beta1", "kind": "HyperConverged", "metadata": {"name": "h"}}),
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}),
                json!({"apiVersion": "unserved.example.com/v1", "kind": "Thing", "metadata": {"name": "t"}}),
            ],
            "asset",
        )
    };
    let keys = |d: &[plinth_drift::DesiredObject]| -> Vec<String> {
        d.iter().map(|o| o.key().to_string()).collect()
    };
    // The desired objects placed by `cluster`, namespaced ones without one in `asked`.
    let placed = async |cluster: &ClusterLive, asked: Option<&str>| {
        let mut objects = desired();
        cluster
            .placement(&objects, asked)
            .await
            .expect("placement")
            .place(&mut objects);
        objects
    };
    let cluster = connect(&server).await;
    assert_eq!(cluster.default_namespace(), "default");
    let objects = placed(&cluster, None).await;
    assert_eq!(
        keys(&objects),
        [
            "ConfigMap/default/c",
            "ConfigMap/kept/k",
            "Widget.example.com/w",
            "HyperConverged.hco.kubevirt.io/default/h",
            "Namespace/n",
            "Thing.unserved.example.com/default/t",
        ]
    );
    assert_eq!(objects[0].value["metadata"]["namespace"], "default");
    assert_eq!(objects[2].value["metadata"].get("namespace"), None);

    // The context's namespace, and `--namespace` over it.
    let (_dir, path) = support::edited_kubeconfig(&server, |text| {
        text.replace("namespace: default", "namespace: team-a")
    });
    let cluster = ClusterLive::connect(&support::options_for(&path, 0))
        .await
        .expect("connect");
    assert_eq!(cluster.default_namespace(), "team-a");
    for (asked, expected) in [
        (None, "ConfigMap/team-a/c"),
        (Some("ops"), "ConfigMap/ops/c"),
    ] {
        let objects = placed(&cluster, asked).await;
        assert_eq!(objects[0].key().to_string(), expected);
    }
}

#[tokio::test]
async fn dry_run_apply_returns_the_merged_object_and_stores_nothing() {
    let live_cm = object("v1", "ConfigMap", "a", "c", Some("prod"));
    let server = FakeApiServer::start(
        Scenario::new()
            .object(live_cm)
            .default_fields("ConfigMap", json!({"immutable": false})),
    )
    .expect("server");
    let before = server
        .get("v1", "ConfigMap", Some("a"), "c")
        .expect("stored");
    let cluster = connect(&server).await;
    let mut desired = object("v1", "ConfigMap", "a", "c", Some("prod"));
    desired["data"]["k"] = "changed".into();
    let out = cluster.dry_run_apply(&desired).await.expect("dry run");
    assert_eq!(out["data"]["k"], "changed");
    assert_eq!(
        out["immutable"], false,
        "server defaults are in the dry-run result"
    );
    assert_eq!(out["metadata"]["managedFields"][0]["manager"], "plinth");
    assert_eq!(
        server
            .get("v1", "ConfigMap", Some("a"), "c")
            .expect("stored"),
        before
    );

    let patch = server
        .request_log()
        .into_iter()
        .find(|r| r.method == "PATCH")
        .expect("a patch");
    assert_eq!(patch.query["dryRun"], "All");
    assert_eq!(patch.query["fieldManager"], "plinth");
    assert_eq!(patch.query["force"], "true");

    // A missing object dry-runs as a create; still nothing is stored.
    let fresh = object("v1", "ConfigMap", "a", "fresh", Some("prod"));
    cluster.dry_run_apply(&fresh).await.expect("dry run create");
    assert!(server.get("v1", "ConfigMap", Some("a"), "fresh").is_none());
}

#[tokio::test]
async fn conflicts_are_reported_as_such() {
    let server =
        FakeApiServer::start(Scenario::new().object(object("v1", "ConfigMap", "a", "c", None)))
            .expect("server");
    let mut desired = object("v1", "ConfigMap", "a", "c", None);
    desired["metadata"]["resourceVersion"] = "999".into();
    let err = connect(&server)
        .await
        .dry_run_apply(&desired)
        .await
        .unwrap_err();
    assert!(matches!(err, DriftError::Conflict { .. }), "{err:?}");
    assert_eq!(
        err.to_string(),
        "server-side apply dry-run of `ConfigMap` `a/c` conflicts: the object has been modified; please apply your changes to the latest version and try again"
    );

    let unserved =
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}});
    let err = connect(&server)
        .await
        .dry_run_apply(&unserved)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("is not served"), "{err}");
}

#[tokio::test]
async fn nodes_are_listed_with_kind() {
    let server = FakeApiServer::start(
        Scenario::new()
            .object(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}}))
            .object(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})),
    )
    .expect("server");
    let nodes = connect(&server)
        .await
        .with_page_size(1)
        .nodes()
        .await
        .expect("nodes");
    let names: Vec<&str> = nodes
        .iter()
        .filter_map(|n| n["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["n1", "n2"]);
    assert!(nodes.iter().all(|n| n["kind"] == "Node"));
}

#[tokio::test]
async fn lists_run_concurrently_but_bounded() {
    let (server, wanted) = fleet(1, 20, 1);
    server.inject(
        plinth_testkit::Fault::new(plinth_testkit::FaultKind::Slow(Duration::from_millis(100)))
            .matching("/namespaces/")
            .times(u32::MAX),
    );
    let live = connect(&server)
        .await
        .fetch(&wanted, "prod")
        .await
        .expect("fetch");
    assert_eq!(live.listed.len(), 20);
    let most = server.max_in_flight();
    assert!(most > 1 && most <= CONCURRENCY, "{most} requests at once");
}
