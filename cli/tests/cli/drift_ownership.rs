//! `plinth drift` against the fake API server, end to end through the built binary: a
//! Deployment plinth applied and `kubectl scale` changed afterwards (through the `scale`
//! subresource) is drift, and the JSON report names who changed it, how and when.

use std::path::Path;

use plinth_testkit::{FakeApiServer, Scenario};
use serde_json::{Value, json};

use crate::common::{
    cluster_args, plinth_reproducible as plinth, render, rendered_objects, stderr, stdout,
    write_files,
};

/// A repository whose cluster `prod` renders one Deployment, `apps/web`, with 2 replicas.
fn deployment_repo(dir: &Path) {
    write_files(
        dir,
        &[
            (
                "assets/metadata.yaml",
                "assets:\n  - name: web\n    path: web.yaml.j2\n    install: always\n    reconcile_order: 1\n",
            ),
            (
                "assets/web.yaml.j2",
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: apps\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n        - name: web\n          image: registry.example/web:1.0\n",
            ),
            ("clusters/prod/cluster.yaml", "name: prod\n"),
        ],
    );
}

/// `plinth drift . --cluster prod --kubeconfig <server> --format json` in `dir`: the exit
/// code and the report.
fn drift_json(dir: &Path, server: &FakeApiServer) -> (Option<i32>, Value) {
    let kubeconfig = server.kubeconfig_path().display().to_string();
    let mut args = cluster_args("drift", &kubeconfig);
    args.extend(["--insecure-allow-http-loopback", "--format", "json"]);
    let out = plinth(dir, &args);
    let report = serde_json::from_str(&stdout(&out))
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(&out), stderr(&out)));
    (out.status.code(), report)
}

#[test]
fn a_kubectl_scale_after_plinth_applied_is_drift_with_its_writer_in_the_json_report() {
    let tmp = tempfile::tempdir().unwrap();
    deployment_repo(tmp.path());
    render(tmp.path());
    let server = FakeApiServer::start(Scenario::new()).unwrap();
    for object in rendered_objects(tmp.path()) {
        server.apply_as("plinth", &object).unwrap();
    }
    let (code, report) = drift_json(tmp.path(), &server);
    assert_eq!(code, Some(0), "{report:#}");

    assert!(server.scale_as(
        "kubectl-scale",
        ("apps/v1", "Deployment", Some("apps"), "web"),
        5
    ));
    let (code, report) = drift_json(tmp.path(), &server);
    assert_eq!(code, Some(1), "{report:#}");
    let web = &report["objects"][0];
    assert_eq!(web["status"], "drifted", "{report:#}");
    assert_eq!(
        web["changes"],
        json!([{
            "pointer": "/spec/replicas",
            "desired": 2,
            "live": 5,
            "writer": {
                "manager": "kubectl-scale",
                "operation": "Update",
                "time": server.now(),
                "subresource": "scale",
            },
        }]),
        "{report:#}"
    );
}
