//! `plinth discover` and `plinth drift` against a live cluster, run as the built binary against
//! the loopback fake API server: Nodes with NFD labels -> `inventory.yaml` -> detectors ->
//! render; hardware drift; in-sync and drifted objects through server-side apply dry-runs;
//! persistent server errors exit 2 without reporting anything in sync.

use std::path::Path;

use crate::common::{
    DISCOVER_STDOUT, assert_exit, assert_stdout, fixture_repo, plinth, plinth_live, render,
    rendered_objects, stderr, stdout,
};
use plinth_renderer::inventory::Inventory;
use plinth_testkit::{FakeApiServer, Fault, FaultKind, Scenario};
use serde_json::{Value, json};

const TOKEN: &str = "tok-0a1b2c3d4e5f";

/// A platform repository with one cluster, `prod`: a base ConfigMap always, a GPU ConfigMap
/// when the inventory has a GPU. The committed inventory has one worker without a GPU.
fn repo(dir: &Path) {
    fixture_repo("gpu-detect", dir);
}

fn node(name: &str, labels: &Value, taints: &Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "spec": {"taints": taints},
        "status": {"capacity": {"cpu": "64"}}})
}

/// Live nodes: a tainted control-plane node and a GPU worker with NFD labels.
fn nodes() -> Vec<Value> {
    vec![
        node(
            "m1",
            &json!({"node-role.kubernetes.io/control-plane": "", "kubernetes.io/hostname": "m1"}),
            &json!([{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
        ),
        node(
            "w1",
            &json!({
                "node-role.kubernetes.io/worker": "",
                "feature.node.kubernetes.io/cpu-model.vendor_id": "GenuineIntel",
                "feature.node.kubernetes.io/pci-0302_10de.present": "true",
                "feature.node.kubernetes.io/memory-numa": "true",
            }),
            &json!([]),
        ),
    ]
}

fn kubeconfig(server: &FakeApiServer) -> String {
    server.kubeconfig_path().display().to_string()
}

/// The [`repo`], rendered, in a new temporary folder.
fn rendered_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    repo(dir.path());
    render(dir.path());
    dir
}

/// `plinth drift ARGS` of `dir` against `server`, which must exit with `code`.
fn drift_against(
    dir: &Path,
    server: &FakeApiServer,
    args: &[&str],
    code: i32,
) -> std::process::Output {
    let out = plinth_live(dir, "drift", &kubeconfig(server), args);
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    out
}

#[test]
fn discover_round_trip_nodes_to_inventory_to_detectors_to_render() {
    let dir = tempfile::tempdir().expect("tempdir");
    repo(dir.path());
    let server =
        FakeApiServer::start(Scenario::new().token(TOKEN).objects(nodes())).expect("server");
    let kc = kubeconfig(&server);

    let out = plinth_live(dir.path(), "discover", &kc, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("2 node(s) discovered"), "{err}");
    assert!(
        err.contains("detector `gpuPresent` changes from false to true"),
        "{err}"
    );
    assert!(!err.contains(TOKEN));

    let path = dir.path().join("clusters/prod/inventory.yaml");
    let text = fs_err::read_to_string(&path).expect("inventory");
    let inventory: Inventory =
        plinth_vocab::yaml::from_str(&text, "inventory.yaml").expect("parse");
    let names: Vec<&str> = inventory.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(names, ["m1", "w1"]);
    assert_eq!(inventory.nodes[0].roles, ["control-plane"]);
    assert_eq!(
        inventory.nodes[1].cpu_vendor.as_deref(),
        Some("GenuineIntel")
    );
    assert!(!text.contains("kubernetes.io/hostname"), "{text}");
    let detectors = inventory.detectors();
    assert!(
        detectors["gpuPresent"] && detectors["numaNodesPresent"] && detectors["pciDevicesPresent"]
    );
    assert!(!detectors["hasSchedulableMasters"] && !detectors["sriovPresent"]);

    // The detectors drive the render: the GPU asset now applies.
    render(dir.path());
    assert!(
        dir.path()
            .join("rendered/prod/configmap_platform_gpu.yaml")
            .is_file()
    );

    // A second run is byte-identical and says so; `-o -` prints the same YAML.
    let again = plinth_live(dir.path(), "discover", &kc, &[]);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert!(
        stderr(&again).contains("is unchanged"),
        "{}",
        stderr(&again)
    );
    assert_eq!(fs_err::read_to_string(&path).expect("inventory"), text);
    let printed = plinth_live(dir.path(), "discover", &kc, &["-o", "-"]);
    assert_eq!(stdout(&printed), text);
}

#[test]
fn discover_refuses_an_unknown_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    repo(dir.path());
    let server = FakeApiServer::start(Scenario::new().objects(nodes())).expect("server");
    let out = plinth(
        dir.path(),
        &[
            "discover",
            ".",
            "--cluster",
            "nope",
            "--kubeconfig",
            &kubeconfig(&server),
            "--insecure-allow-http-loopback",
        ],
    );
    assert_exit(&out, 2, &["unknown cluster `nope`"]);
    assert!(
        server.request_log().is_empty(),
        "no request before the cluster is known"
    );
}

#[test]
fn drift_through_the_fake_server_in_sync_then_drifted_with_hardware_drift() {
    let dir = rendered_repo();
    let live = rendered_objects(dir.path());
    assert_eq!(live.len(), 1);
    // The live nodes match the committed inventory (one worker, no GPU).
    let plain = node(
        "w1",
        &json!({"node-role.kubernetes.io/worker": "", "feature.node.kubernetes.io/cpu-model.vendor_id": "GenuineIntel"}),
        &json!([]),
    );
    let server = FakeApiServer::start(
        Scenario::new()
            .token(TOKEN)
            .objects(live.clone())
            .object(plain)
            .default_fields("ConfigMap", json!({"immutable": false})),
    )
    .expect("server");
    let kc = kubeconfig(&server);
    let args = [
        "drift",
        ".",
        "--cluster",
        "prod",
        "--kubeconfig",
        &kc,
        "--insecure-allow-http-loopback",
        "--format",
        "json",
    ];

    let out = plinth(dir.path(), &args);
    assert_stdout(&out, 0, &[]);
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json report");
    assert_eq!(report["objects"][0]["status"], "in-sync", "{report:#}");
    assert_eq!(report["hardware"], json!([]));
    let before = server
        .get("v1", "ConfigMap", Some("platform"), "base")
        .expect("live");

    // Someone edits the live object: drift at /data/replicas.
    let mut edited = before.clone();
    edited["data"]["replicas"] = "5".into();
    server.put(edited);
    let out = plinth(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json report");
    let object = &report["objects"][0];
    assert_eq!(object["status"], "drifted", "{report:#}");
    let pointers: Vec<&str> = object["changes"]
        .as_array()
        .expect("changes")
        .iter()
        .filter_map(|c| c["pointer"].as_str())
        .collect();
    assert_eq!(pointers, ["/data/replicas"], "{report:#}");
    // The dry-runs stored nothing.
    assert_eq!(
        server
            .get("v1", "ConfigMap", Some("platform"), "base")
            .expect("live")["data"]["replicas"],
        "5"
    );

    // A GPU appears on the live nodes: hardware drift against the committed inventory.
    server.put(nodes()[1].clone());
    server.put(before);
    let out = plinth(dir.path(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json report");
    assert_eq!(report["objects"][0]["status"], "in-sync", "{report:#}");
    let gpu = report["hardware"]
        .as_array()
        .expect("hardware")
        .iter()
        .find(|h| h["detector"] == "gpuPresent")
        .expect("gpuPresent drift")
        .clone();
    assert_eq!(gpu["committed"], false);
    assert_eq!(gpu["live"], true);
    assert_eq!(gpu["nodes"], json!(["w1"]));
    let text = plinth_live(dir.path(), "drift", &kc, &[]);
    assert!(stdout(&text).contains("gpuPresent"), "{}", stdout(&text));
    assert!(!stdout(&text).contains(TOKEN) && !stderr(&text).contains(TOKEN));
}

#[test]
fn persistent_server_errors_exit_2_and_report_nothing_in_sync() {
    let dir = rendered_repo();
    let server = FakeApiServer::start(
        Scenario::new()
            .token(TOKEN)
            .objects(rendered_objects(dir.path())),
    )
    .expect("server");
    server.inject(
        Fault::new(FaultKind::ServerError(500))
            .matching("/namespaces/platform/configmaps")
            .times(u32::MAX),
    );
    let out = drift_against(
        dir.path(),
        &server,
        &["--retries", "2", "--format", "json"],
        2,
    );
    let err = stderr(&out);
    assert!(
        err.contains("LIST `ConfigMap` in namespace `platform` failed after 3 attempt(s): HTTP 500 Internal Server Error"),
        "{err}"
    );
    assert!(!err.contains(TOKEN), "{err}");
    let report = stdout(&out);
    assert!(
        !report.contains("in-sync"),
        "an unread object was reported: {report}"
    );
    let lists = server
        .request_log()
        .iter()
        .filter(|r| r.path == "/api/v1/namespaces/platform/configmaps")
        .count();
    assert_eq!(lists, 3);
}

#[test]
fn a_rate_limited_cluster_is_waited_for() {
    let dir = rendered_repo();
    let server = FakeApiServer::start(Scenario::new().objects(rendered_objects(dir.path())))
        .expect("server");
    server.inject(
        Fault::new(FaultKind::TooManyRequests {
            retry_after_secs: 1,
        })
        .times(2),
    );
    drift_against(dir.path(), &server, &[], 0);
    let throttled = server
        .request_log()
        .iter()
        .filter(|r| r.status == 429)
        .count();
    assert_eq!(throttled, 2);
}

/// Runs `plinth` with extra environment variables (and without an inherited `KUBECONFIG` or
/// in-cluster variables).
fn plinth_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_plinth"));
    cmd.args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .env_remove("KUBERNETES_SERVICE_HOST")
        .env_remove("KUBERNETES_SERVICE_PORT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the plinth binary runs")
}

#[test]
fn connection_settings_come_from_kubeconfig_env_context_or_in_cluster() {
    let dir = tempfile::tempdir().expect("tempdir");
    repo(dir.path());
    let server = FakeApiServer::start(Scenario::new().objects(nodes())).expect("server");
    let kc = kubeconfig(&server);
    let mut discover = DISCOVER_STDOUT.to_vec();
    discover.push("--insecure-allow-http-loopback");

    // `KUBECONFIG` is the default kubeconfig; `--context` picks a context in it.
    let out = plinth_env(dir.path(), &discover, &[("KUBECONFIG", &kc)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("name: w1"), "{}", stdout(&out));
    let in_context = |context| -> Vec<&str> {
        discover
            .iter()
            .copied()
            .chain(["--context", context])
            .collect()
    };
    let out = plinth_env(dir.path(), &in_context("fake"), &[("KUBECONFIG", &kc)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let out = plinth_env(dir.path(), &in_context("nope"), &[("KUBECONFIG", &kc)]);
    assert_exit(
        &out,
        2,
        &["context `nope` is not defined (contexts: `fake`)"],
    );

    // In a pod (KUBERNETES_SERVICE_HOST set, no flags) the service account is used; here there
    // is none, which is an error that says so, and nothing is sent anywhere.
    let requests = server.request_log().len();
    let out = plinth_env(
        dir.path(),
        &discover,
        &[
            ("KUBECONFIG", &kc),
            ("KUBERNETES_SERVICE_HOST", "127.0.0.1"),
            ("KUBERNETES_SERVICE_PORT", "1"),
        ],
    );
    assert_exit(
        &out,
        2,
        &["cannot load the cluster connection settings from the in-cluster service account"],
    );
    assert_eq!(server.request_log().len(), requests);

    // A kubeconfig that turns certificate checks off is refused.
    let insecure = dir.path().join("insecure-kubeconfig");
    let text = fs_err::read_to_string(server.kubeconfig_path())
        .expect("kubeconfig")
        .replace(
            "    server: ",
            "    insecure-skip-tls-verify: true\n    server: ",
        );
    fs_err::write(&insecure, text).expect("write");
    let out = plinth_env(
        dir.path(),
        &[
            "discover",
            ".",
            "--cluster",
            "prod",
            "--kubeconfig",
            &insecure.display().to_string(),
            "--insecure-allow-http-loopback",
        ],
        &[],
    );
    assert_exit(&out, 2, &["insecure-skip-tls-verify"]);
}

#[test]
fn client_mode_against_a_cluster_only_reads() {
    let dir = rendered_repo();
    let mut live = rendered_objects(dir.path());
    live[0]["data"]["replicas"] = "3".into();
    let server = FakeApiServer::start(Scenario::new().objects(live)).expect("server");
    let out = drift_against(
        dir.path(),
        &server,
        &["--mode", "client", "--format", "json"],
        1,
    );
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json report");
    assert_eq!(report["mode"], "client");
    assert_eq!(
        report["objects"][0]["changes"][0]["pointer"],
        "/data/replicas"
    );
    let log = server.request_log();
    assert!(
        log.iter().all(|r| r.method == "GET"),
        "{}",
        plinth_testkit::describe(&log)
    );
}
