//! `ClusterLive` against the loopback fake API server: request counts that grow with kinds ×
//! namespaces and not with objects, pagination, orphan label selectors, unserved kinds,
//! server-side apply dry-runs and conflicts, Nodes.

use std::time::Duration;

use plinth_drift::DriftError;
use plinth_drift::cluster::{ClusterLive, ConnectOptions};
use plinth_drift::live::{KindRef, ObjectKey};
use plinth_drift::retry::RetryPolicy;
use plinth_testkit::{FakeApiServer, LoggedRequest, Scenario};
use serde_json::{Value, json};

async fn connect(server: &FakeApiServer) -> ClusterLive {
    let options = ConnectOptions {
        kubeconfig: Some(server.kubeconfig_path().to_path_buf()),
        context: None,
        timeout: Duration::from_secs(30),
        retries: 3,
    };
    ClusterLive::connect(&options)
        .await
        .expect("connect")
        .with_retry_policy(RetryPolicy {
            attempts: 4,
            base_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(20),
            timeout: Duration::from_secs(30),
        })
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
        // One LIST per (kind, namespace) and one orphan LIST per kind; discovery once per
        // group/version.
        assert_eq!(
            lists(&log),
            kinds * namespaces + kinds,
            "{}",
            plinth_testkit::describe(&log)
        );
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
    let key = ObjectKey::new("v1", "ConfigMap", Some("ns-0"), "o-7");
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
    let wanted = [KindRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some("a".into()),
    }];
    let live = connect(&server)
        .await
        .fetch(&wanted, "prod")
        .await
        .expect("fetch");
    let names: Vec<String> = live.objects.keys().map(ToString::to_string).collect();
    assert_eq!(names, ["ConfigMap/a/rendered", "ConfigMap/old/orphan"]);
    assert!(live.was_listed(&ObjectKey::new("v1", "ConfigMap", Some("a"), "x")));
    assert!(!live.was_listed(&ObjectKey::new("v1", "ConfigMap", Some("old"), "x")));
    let selected = server
        .request_log()
        .into_iter()
        .find(|r| r.query.contains_key("labelSelector"))
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
    // Cluster-scoped kinds need no orphan LIST: the full LIST already sees them.
    assert_eq!(lists(&server.request_log()), 1);
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
    assert!(
        most > 1 && most <= plinth_drift::cluster::CONCURRENCY,
        "{most} requests at once"
    );
}
