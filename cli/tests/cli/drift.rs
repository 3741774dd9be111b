//! CLI tests of `plinth drift` on snapshot folders: the example repository's live snapshot,
//! every report format, the in-memory render fallback and the exit codes.

use std::path::{Path, PathBuf};

use crate::common::{
    assert_exit, assert_stdout, copy_dir_except, drift_example, example_copy,
    plinth_reproducible as plinth, render, stderr, stdout, workspace, write_files,
};

/// `plinth drift --cluster plain-west --snapshot live/plain-west` in a copy of the example.
fn drift_copy(repo: &Path) -> std::process::Output {
    plinth(
        repo,
        &[
            "drift",
            "--cluster",
            "plain-west",
            "--snapshot",
            "live/plain-west",
        ],
    )
}

fn example() -> PathBuf {
    workspace().join("examples/fleet")
}

/// The README's command: the example snapshot has planted drift and exits 1.
#[test]
fn example_snapshot_reports_the_planted_drift() {
    let out = drift_example(&["--snapshot", "examples/fleet/live/plain-west"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "drifted   HyperConverged.hco.kubevirt.io/openshift-cnv/kubevirt-hyperconverged",
        "/spec/liveMigrationConfig/parallelMigrationsPerCluster",
        "missing   MachineConfig.machineconfiguration.openshift.io/99-openshift-machineconfig-worker-psi-karg",
        "orphaned  ForkliftController.forklift.konveyor.io/openshift-mtv/forklift-controller",
        "refused   MachineConfig.machineconfiguration.openshift.io/90-worker-kubevirt-swap",
        "`/spec/pauseRequests` is absent in both desired and live",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    // The descheduler (patch), the health check (ignore-fields) and the reordered alert rules
    // are in sync.
    for quiet in [
        "KubeDescheduler",
        "NodeHealthCheck.remediation.medik8s.io/kubevirt-workers\n",
        "PrometheusRule",
    ] {
        assert!(
            !text.contains(&format!(" {quiet}")),
            "`{quiet}` reported in:\n{text}"
        );
    }
    insta::assert_snapshot!("example_text", text);
}

#[test]
fn every_format_is_written_to_the_output_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("reports");
    let dir_arg = dir.display().to_string();
    let mut args = vec![
        "drift",
        "examples/fleet",
        "--cluster",
        "plain-west",
        "--snapshot",
        "examples/fleet/live/plain-west",
        "--output-dir",
        &dir_arg,
    ];
    for f in ["text", "json", "markdown", "junit", "prometheus", "html"] {
        args.extend(["--format", f]);
    }
    let out = plinth(&workspace(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "", "reports go to files, not stdout");
    let read = |name: &str| fs_err::read_to_string(dir.join(name)).unwrap();

    let json: serde_json::Value = serde_json::from_str(&read("drift.json")).unwrap();
    assert_eq!(json["schemaVersion"], 1);
    assert_eq!(json["cluster"], "plain-west");
    assert_eq!(json["generatedAt"], "2026-01-01T00:00:00Z");
    assert_eq!(json["mode"], "client");
    assert_eq!(json["source"], "snapshot");
    assert_eq!(json["summary"]["drifted"], 1);
    assert_eq!(json["summary"]["missing"], 1);
    assert_eq!(json["summary"]["orphaned"], 1);
    assert_eq!(json["summary"]["refused"], 1);
    let total = json["objects"].as_array().unwrap().len();
    assert_eq!(
        json["summary"]["in-sync"],
        total - 4,
        "everything else is in sync"
    );
    let hco = json["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == "HyperConverged")
        .unwrap();
    assert_eq!(hco["status"], "drifted");
    assert_eq!(hco["group"], "hco.kubevirt.io");
    assert_eq!(
        hco["changes"],
        serde_json::json!([{
            "pointer": "/spec/liveMigrationConfig/parallelMigrationsPerCluster",
            "desired": 5,
            "live": 10,
            "writer": {"manager": "kubectl-patch", "operation": "Update",
                "time": "2026-11-29T10:02:00Z"}
        }])
    );

    let junit = read("drift-junit.xml");
    let counts = format!("tests=\"{total}\" failures=\"4\" errors=\"0\" skipped=\"0\"");
    assert!(junit.contains(&counts), "{junit}");
    assert_eq!(junit.matches("<testcase ").count(), total, "{junit}");

    let prom = read("drift.prom");
    assert!(
        prom.contains("plinth_drift_objects{cluster=\"plain-west\",kind=\"HyperConverged\",status=\"drifted\"} 1"),
        "{prom}"
    );
    assert!(
        prom.contains("plinth_drift_last_run_timestamp_seconds{cluster=\"plain-west\"} 1767225600"),
        "{prom}"
    );

    let html = read("drift.html");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.contains("parallelMigrationsPerCluster"));
    // The empty `data:` favicon is the page's one `href`: the browser asks for no favicon.
    let page = html.replacen("<link rel=\"icon\" href=\"data:,\">", "", 1);
    for external in ["src=", "href=", "@import", "url("] {
        assert!(
            !page.contains(external),
            "the HTML page fetches something: `{external}`"
        );
    }

    let md = read("drift.md");
    assert!(
        md.contains("| `/spec/liveMigrationConfig/parallelMigrationsPerCluster` | `5` | `10` |"),
        "{md}"
    );
    let summary = format!(
        "{total} objects: {} in-sync, 1 drifted, 1 missing, 1 orphaned, 1 refused",
        total - 4
    );
    assert!(read("drift.txt").contains(&summary));
}

#[test]
fn a_snapshot_of_the_rendered_objects_is_in_sync() {
    let tmp = tempfile::tempdir().unwrap();
    let snap = tmp.path().join("snap");
    copy_dir_except(
        &example().join("rendered/plain-west"),
        &snap,
        &["plinth-index.json"],
    );
    let snap_arg = snap.display().to_string();
    let out = drift_example(&["--snapshot", &snap_arg, "--format", "json"]);
    assert_stdout(&out, 0, &[]);
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(
        json["summary"]["in-sync"],
        json["objects"].as_array().unwrap().len()
    );
}

#[test]
fn without_committed_output_the_cluster_is_rendered_in_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    copy_dir_except(&example(), &repo, &["rendered"]);
    let out = drift_copy(&repo);
    assert_exit(&out, 1, &["rendering it in memory"]);
    let committed = drift_example(&["--snapshot", "examples/fleet/live/plain-west"]);
    assert_eq!(
        stdout(&out),
        stdout(&committed),
        "in-memory and committed desired state agree"
    );
}

#[test]
fn unreadable_input_exits_2_with_the_path() {
    let ws = workspace();
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.yaml");
    fs_err::write(
        &bad,
        "apiVersion: v1\nkind: ConfigMap\nmetadata: [unclosed\n",
    )
    .unwrap();
    let bad_arg = bad.display().to_string();
    let live = "examples/fleet/live/plain-west";
    let cases: [(&str, &[&str], &[&str]); 5] = [
        (
            "plain-west",
            &["--snapshot", "no/such/folder"],
            &["no/such/folder"],
        ),
        (
            "nowhere",
            &["--snapshot", live],
            &[
                "unknown cluster `nowhere`",
                "hint: the repository's clusters are:",
            ],
        ),
        (
            "plain-west",
            &["--snapshot", live, "--format", "json", "--format", "html"],
            &["need `--output-dir`"],
        ),
        (
            "plain-west",
            &["--snapshot", live, "--mode", "server"],
            &["`--mode server` needs a live cluster"],
        ),
        ("plain-west", &["--snapshot", &bad_arg], &["bad.yaml"]),
    ];
    for (cluster, extra, needles) in cases {
        let mut args = vec!["drift", "examples/fleet", "--cluster", cluster];
        args.extend_from_slice(extra);
        assert_exit(&plinth(&ws, &args), 2, needles);
    }
}

#[test]
fn a_missing_kubeconfig_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = tmp.path().join("nope.kubeconfig").display().to_string();
    let out = drift_example(&["--kubeconfig", &cfg]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).starts_with("error: "), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "",
        "no report when the live state could not be read"
    );
}

#[test]
fn a_stale_committed_output_is_compared_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    copy_dir_except(&example(), &repo, &[]);
    let cluster = repo.join("clusters/plain-west/cluster.yaml");
    let mut text = fs_err::read_to_string(&cluster).unwrap();
    text.push_str("# an edit after the last render\n");
    fs_err::write(&cluster, text).unwrap();
    let out = drift_copy(&repo);
    assert_exit(
        &out,
        1,
        &["warning: the committed output of cluster `plain-west` is older than its inputs"],
    );
}

/// A platform repository with one cluster, `prod`, rendering one ConfigMap without a
/// namespace, rendered and committed.
fn repo_without_namespaces(dir: &Path) {
    let files = [
        (
            "assets/metadata.yaml",
            "assets:\n  - name: settings\n    path: settings.yaml.j2\n    phase: 0\n    install: always\n    component: ConfigMap\n    reconcile_order: 1\n",
        ),
        (
            "assets/settings.yaml.j2",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: fast\n",
        ),
        ("clusters/prod/cluster.yaml", "name: prod\n"),
    ];
    write_files(dir, &files);
    render(dir);
}

/// The rendered object in `rendered/prod/<file>` of the repository at `dir`.
fn rendered_object(dir: &Path, file: &str) -> serde_json::Value {
    let text = fs_err::read_to_string(dir.join("rendered/prod").join(file)).expect("test setup");
    plinth_vocab::yaml::from_str_multi(&text)
        .expect("test setup")
        .remove(0)
}

/// The rendered ConfigMap of [`repo_without_namespaces`] as it is live in `namespace`.
fn live_settings(dir: &Path, namespace: &str) -> serde_json::Value {
    let mut value = rendered_object(dir, "configmap_settings.yaml");
    value["metadata"]["namespace"] = namespace.into();
    value
}

/// A namespaced object rendered without a namespace is compared with the live one in the
/// namespace it is applied into: `default`, or `--namespace`.
#[test]
fn objects_without_a_namespace_are_compared_in_the_target_namespace() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repo_without_namespaces(&repo);
    for namespace in ["default", "team-a"] {
        let snap = tmp.path().join(format!("{namespace}.json"));
        fs_err::write(&snap, live_settings(&repo, namespace).to_string()).unwrap();
    }
    let drift = |snapshot: &str, extra: &[&str]| {
        let mut args = vec!["drift", ".", "--cluster", "prod", "--snapshot", snapshot];
        args.extend(extra);
        plinth(&repo, &args)
    };
    let in_default = tmp.path().join("default.json").display().to_string();
    let in_team = tmp.path().join("team-a.json").display().to_string();

    let cases: [(&str, &[&str], i32, &[&str]); 4] = [
        (&in_default, &[], 0, &["1 object: 1 in-sync"]),
        (&in_team, &[], 1, &["missing   ConfigMap/default/settings"]),
        (&in_team, &["--namespace", "team-a"], 0, &[]),
        (&in_team, &["-n", "team-a"], 0, &[]),
    ];
    for (snapshot, extra, code, needles) in cases {
        assert_stdout(&drift(snapshot, extra), code, needles);
    }
}

/// A plain snapshot (no managedFields) with a key added by hand to a rendered ConfigMap is
/// drift with the note that ownership was unknown (exit 1); the same capture with
/// managedFields is in sync, as before.
#[test]
fn a_live_only_configmap_key_in_a_plain_snapshot_is_drift() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repo_without_namespaces(&repo);
    let mut live = live_settings(&repo, "default");
    live["data"]["debug"] = "true".into();
    let snap = tmp.path().join("plain.json");
    fs_err::write(&snap, live.to_string()).unwrap();
    live["metadata"]["managedFields"] =
        serde_json::json!([{"manager": "plinth", "operation": "Apply"}]);
    let owned = tmp.path().join("owned.json");
    fs_err::write(&owned, live.to_string()).unwrap();
    let drift = |snapshot: &Path| {
        let snapshot = snapshot.display().to_string();
        plinth(
            &repo,
            &["drift", ".", "--cluster", "prod", "--snapshot", &snapshot],
        )
    };
    assert_stdout(
        &drift(&snap),
        1,
        &[
            "/data/debug",
            "live object has no managedFields: live-only fields judged by plinth's rules",
        ],
    );
    assert_stdout(&drift(&owned), 0, &["1 object: 1 in-sync"]);
}

/// Against a cluster: the object without a namespace is read and dry-run in the context's
/// namespace; a live object of a kind no longer rendered at all, with plinth's labels for the
/// cluster, is orphaned; a kind whose orphan LIST is forbidden is a warning, not a failure.
#[test]
fn drift_against_a_cluster_places_objects_and_finds_orphans_of_every_kind() {
    use plinth_testkit::{FakeApiServer, Fault, FaultKind, Scenario};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repo_without_namespaces(&repo);
    let labels = serde_json::json!({
        "app.kubernetes.io/managed-by": "plinth",
        "plinth.dev/cluster": "prod",
        "plinth.dev/asset": "old-vms",
    });
    let server = FakeApiServer::start(
        Scenario::new()
            .object(live_settings(&repo, "default"))
            .object(serde_json::json!({
                "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                "metadata": {"name": "legacy", "namespace": "vms", "labels": labels},
                "spec": {"runStrategy": "Always"},
            }))
            .serve("example.com/v1", "Widget", true),
    )
    .unwrap();
    server.inject(
        Fault::new(FaultKind::ClientError(403))
            .matching("/widgets")
            .times(u32::MAX),
    );
    let kubeconfig = server.kubeconfig_path().display().to_string();
    let drift = |extra: &[&str]| {
        let mut args = vec![
            "drift",
            ".",
            "--cluster",
            "prod",
            "--kubeconfig",
            &kubeconfig,
            "--insecure-allow-http-loopback",
            "--format",
            "json",
        ];
        args.extend(extra);
        plinth(&repo, &args)
    };

    let out = drift(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let statuses: Vec<(String, String, String)> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap().to_owned(),
                format!(
                    "{}/{}",
                    o["namespace"].as_str().unwrap(),
                    o["name"].as_str().unwrap()
                ),
                o["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            (
                "ConfigMap".into(),
                "default/settings".into(),
                "in-sync".into()
            ),
            (
                "VirtualMachine".into(),
                "vms/legacy".into(),
                "orphaned".into()
            ),
        ]
    );
    assert!(
        stderr(&out).contains(
            "warning: orphaned `Widget.example.com` objects were not looked for: LIST `Widget` in all namespaces"
        ),
        "{}",
        stderr(&out)
    );

    // `--namespace` wins over the context's namespace: the object is missing there, and the
    // one in `default` (plinth's labels, not rendered there) is an orphan.
    let out = drift(&["--namespace", "elsewhere"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let settings: Vec<(&str, &str)> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] == "ConfigMap")
        .map(|o| {
            (
                o["namespace"].as_str().unwrap(),
                o["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        settings,
        [("default", "orphaned"), ("elsewhere", "missing")]
    );
}

/// A case of [`snapshots_are_read_whole_and_consistent`]: the snapshot, extra arguments, the
/// exit code, needles in stdout and needles in stderr.
type SnapshotCase<'a> = (&'a str, &'a [&'a str], i32, &'a [&'a str], &'a [&'a str]);

/// Snapshot integrity on [`repo_without_namespaces`]: one object twice (identical: read once;
/// different: exit 2 naming both files), an empty file or folder (exit 2 with a hint, unless
/// `--allow-empty`), `-v` counting objects per file, and a truncated `.json` file reported as
/// JSON.
#[test]
fn snapshots_are_read_whole_and_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repo_without_namespaces(&repo);
    let live = live_settings(&repo, "default");
    let mut changed = live.clone();
    changed["data"]["mode"] = "slow".into();
    let as_yaml = |value: &serde_json::Value| plinth_vocab::yaml::to_string(value);
    let (live_json, live_yaml) = (live.to_string(), as_yaml(&live));
    let truncated = &live_json[..live_json.len() / 2];
    write_files(
        tmp.path(),
        &[
            ("same/a.json", &live_json),
            ("same/b.yaml", &format!("{live_yaml}---\n{live_yaml}")),
            ("differ/a.yaml", &live_yaml),
            ("differ/b.yaml", &as_yaml(&changed)),
            ("empty.yaml", ""),
            ("cut.json", truncated),
        ],
    );
    fs_err::create_dir_all(tmp.path().join("empty-folder")).unwrap();
    let at = |name: &str| tmp.path().join(name).display().to_string();
    let empty_hint = "hint: check how the snapshot was captured";

    let cases: [SnapshotCase; 6] = [
        (
            "same",
            &["-v"],
            0,
            &["1 object: 1 in-sync"],
            &[
                "same/a.json`: 1 object\n",
                "same/b.yaml`: 2 objects (2 of them already read, identical, kept once)\n",
                "read 1 live objects from the snapshot",
            ],
        ),
        (
            "differ",
            &[],
            2,
            &[],
            &[
                "`ConfigMap/default/settings` is in the snapshot twice with different content",
                "differ/a.yaml` and in `",
                "differ/b.yaml` (they first differ at `/data/mode`)",
                "hint: keep one copy of the object",
            ],
        ),
        (
            "empty.yaml",
            &[],
            2,
            &[],
            &[
                "empty.yaml` holds no objects (1 snapshot file(s) read)",
                empty_hint,
                "`--allow-empty`",
            ],
        ),
        (
            "empty-folder",
            &[],
            2,
            &[],
            &[
                "empty-folder` holds no objects (0 snapshot file(s) read)",
                empty_hint,
                "`--allow-empty`",
            ],
        ),
        (
            "empty.yaml",
            &["--allow-empty"],
            1,
            &["missing   ConfigMap/default/settings"],
            &[],
        ),
        (
            "cut.json",
            &[],
            2,
            &[],
            &[
                "cut.json` is not valid JSON",
                "EOF while parsing",
                "line 1 column",
            ],
        ),
    ];
    for (snapshot, extra, code, out_needles, err_needles) in cases {
        let snapshot = at(snapshot);
        let mut args = vec!["drift", ".", "--cluster", "prod", "--snapshot", &snapshot];
        args.extend(extra);
        let out = plinth(&repo, &args);
        assert_stdout(&out, code, out_needles);
        assert_exit(&out, code, err_needles);
        if code == 2 {
            assert_eq!(stdout(&out), "", "no report when the snapshot is refused");
        }
    }
}

/// A platform repository with one cluster, `prod`, rendering a VirtualMachine at
/// `kubevirt.io/v1alpha3`, rendered and committed; returns the VM as a cluster that serves
/// `kubevirt.io/v1` returns it.
fn repo_with_an_old_vm(dir: &Path) -> serde_json::Value {
    let files = [
        (
            "assets/metadata.yaml",
            "assets:\n  - name: vms\n    path: vm.yaml.j2\n    phase: 0\n    install: always\n    component: VirtualMachine\n    reconcile_order: 1\n",
        ),
        (
            "assets/vm.yaml.j2",
            "apiVersion: kubevirt.io/v1alpha3\nkind: VirtualMachine\nmetadata:\n  name: db-1\n  namespace: vms\nspec:\n  runStrategy: Always\n",
        ),
        ("clusters/prod/cluster.yaml", "name: prod\n"),
    ];
    write_files(dir, &files);
    render(dir);
    let mut live = rendered_object(dir, "virtualmachine_vms_db-1.yaml");
    live["apiVersion"] = "kubevirt.io/v1".into();
    live
}

/// An object is identified by group, kind, namespace and name: a VM rendered at
/// `kubevirt.io/v1alpha3` and read at `kubevirt.io/v1` is in sync, from a snapshot and from a
/// cluster that serves only `v1`, and the report names both versions; a server-side dry-run at
/// the unserved rendered version is an error naming the served one.
#[test]
fn an_object_read_at_another_version_of_its_group_is_the_same_object() {
    use plinth_testkit::{FakeApiServer, Scenario};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    let live = repo_with_an_old_vm(&repo);
    let note = "compared `kubevirt.io/v1alpha3` (desired) with `kubevirt.io/v1` (live)";
    let snap = tmp.path().join("live.json");
    fs_err::write(&snap, live.to_string()).unwrap();
    let snap = snap.display().to_string();
    // `plinth drift . --cluster prod --format FORMAT`, live state from `live`.
    let drift = |live: &[&str], format: &str| {
        let mut args = vec!["drift", ".", "--cluster", "prod", "--format", format];
        args.extend(live);
        plinth(&repo, &args)
    };
    let from_snapshot = |format: &str| drift(&["--snapshot", &snap], format);
    let out = from_snapshot("json");
    assert_stdout(&out, 0, &[note]);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["objects"][0]["status"], "in-sync");
    assert_eq!(report["objects"][0]["apiVersion"], "kubevirt.io/v1alpha3");
    assert_eq!(report["objects"][0]["notes"][0], note);
    // Where a format shows an in-sync object's details (JSON, HTML), it shows the note.
    assert_stdout(
        &from_snapshot("html"),
        0,
        &["<code>kubevirt.io/v1alpha3</code> (desired) with"],
    );

    let server = FakeApiServer::start(
        Scenario::new()
            .serve("kubevirt.io/v1", "VirtualMachine", true)
            .object(live),
    )
    .unwrap();
    let kubeconfig = server.kubeconfig_path().display().to_string();
    let from_cluster = |mode: &str| {
        let live = [
            "--kubeconfig",
            &kubeconfig,
            "--insecure-allow-http-loopback",
        ];
        drift(&[&live[..], &["--mode", mode]].concat(), "json")
    };
    assert_stdout(&from_cluster("client"), 0, &["\"in-sync\"", note]);
    let out = from_cluster("server");
    assert_stdout(
        &out,
        2,
        &[
            "\"error\"",
            "`kubevirt.io/v1alpha3` `VirtualMachine` is not served by the cluster (it serves `VirtualMachine` at `kubevirt.io/v1`)",
        ],
    );
}

/// `drift.driftManagers` in plinth.yaml turns a controller's writes into drift: the example
/// HyperConverged's finalizer, written by its operator after Argo CD's apply, is "managed by"
/// the operator by default and drift once the operator is listed. A misspelt key is refused.
#[test]
fn plinth_yaml_lists_the_drift_managers() {
    let repo = example_copy();
    let json = |out: &std::process::Output| -> serde_json::Value {
        serde_json::from_str(&stdout(out)).unwrap()
    };
    let args = [
        "drift",
        ".",
        "--cluster",
        "plain-west",
        "--snapshot",
        "live/plain-west",
        "--format",
        "json",
    ];
    let hco = |report: &serde_json::Value| -> serde_json::Value {
        report["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["kind"] == "HyperConverged")
            .cloned()
            .unwrap()
    };
    let before = hco(&json(&plinth(repo.path(), &args)));
    assert_eq!(before["managed"][0]["pointer"], "/metadata/finalizers/0");
    assert_eq!(
        before["managed"][0]["writer"]["manager"],
        "hyperconverged-cluster-operator"
    );
    assert_eq!(before["changes"].as_array().unwrap().len(), 1);
    assert_eq!(before["changes"][0]["writer"]["manager"], "kubectl-patch");

    let settings = repo.path().join("plinth.yaml");
    let mut text = fs_err::read_to_string(&settings).unwrap_or_default();
    text.push_str("drift:\n  driftManagers: [\"hyperconverged-*\"]\n");
    fs_err::write(&settings, &text).unwrap();
    let after = hco(&json(&plinth(repo.path(), &args)));
    let pointers: Vec<&str> = after["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/metadata/finalizers",
            "/spec/liveMigrationConfig/parallelMigrationsPerCluster"
        ]
    );
    assert!(after.get("managed").is_none(), "{after}");

    fs_err::write(&settings, text.replace("driftManagers", "driftManager")).unwrap();
    let out = plinth(repo.path(), &args);
    assert_exit(&out, 2, &["plinth.yaml", "driftManager"]);
}

/// A repository in `parent` rendering one MachineConfig with two ignition files (`data:`
/// URLs, base64 and percent-encoded, as OpenShift writes them) for cluster `prod`; its path.
fn repo_with_a_machine_config(parent: &Path) -> PathBuf {
    let dir = parent.join("repo");
    let files = [
        (
            "assets/metadata.yaml",
            "assets:\n  - name: vfio\n    path: vfio.yaml.j2\n    phase: 0\n    install: always\n    component: MachineConfig\n    reconcile_order: 1\n",
        ),
        (
            "assets/vfio.yaml.j2",
            "apiVersion: machineconfiguration.openshift.io/v1\nkind: MachineConfig\nmetadata:\n  name: 100-worker-vfio-pci\n  labels:\n    machineconfiguration.openshift.io/role: worker\nspec:\n  config:\n    ignition:\n      version: 3.2.0\n    storage:\n      files:\n      - contents:\n          source: data:text/plain;charset=utf-8;base64,b3B0aW9ucyB2ZmlvLXBjaSBpZHM9MTBkZToyMGI3CnNvZnRkZXAgbm91dmVhdSBwcmU6IHZmaW8tcGNpCg==\n        mode: 420\n        overwrite: true\n        path: /etc/modprobe.d/vfio.conf\n      - contents:\n          source: data:,placeholder%0A\n        mode: 384\n        overwrite: true\n        path: /etc/ssh/deploy_key\n",
        ),
        ("clusters/prod/cluster.yaml", "name: prod\n"),
    ];
    write_files(&dir, &files);
    render(&dir);
    dir
}

/// A MachineConfig whose file contents were changed on the cluster: the readable change is a
/// line diff of the decoded texts; a password written into the other file (percent-encoded, so
/// its encoded form hides it from a plain look at the value) appears in no format, decoded or
/// encoded, only as a fingerprint.
#[test]
fn machine_config_file_contents_are_diffed_and_secrets_never_shown() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = repo_with_a_machine_config(tmp.path());
    let mut live = rendered_object(&repo, "machineconfig_100-worker-vfio-pci.yaml");
    let files = "/spec/config/storage/files";
    *live.pointer_mut(&format!("{files}/0/contents/source")).unwrap() = "data:text/plain;charset=utf-8;base64,b3B0aW9ucyB2ZmlvLXBjaSBpZHM9MTBkZToxZWI4CnNvZnRkZXAgbm91dmVhdSBwcmU6IHZmaW8tcGNpCg==".into();
    let password = "correct-horse-battery-staple";
    *live
        .pointer_mut(&format!("{files}/1/contents/source"))
        .unwrap() = format!("data:,user%3Ddeploy%0Apassword%3D{password}%0A").into();
    let snap = tmp.path().join("live.json");
    fs_err::write(&snap, live.to_string()).unwrap();
    let snap = snap.display().to_string();
    let drift = |extra: &[&str]| {
        let mut args = vec!["drift", ".", "--cluster", "prod", "--snapshot", &snap];
        args.extend(extra);
        plinth(&repo, &args)
    };
    assert_stdout(
        &drift(&["--format", "markdown"]),
        1,
        &[
            "| `/spec/config/storage/files/0/contents/source` | *decoded below* | *decoded below* |",
            "`/spec/config/storage/files/0/contents/source` file contents (decoded):\n\n```diff\n--- desired\n+++ live\n@@ -1,2 +1,2 @@\n-options vfio-pci ids=10de:20b7\n+options vfio-pci ids=10de:1eb8\n softdep nouveau pre: vfio-pci\n```\n",
            "| `/spec/config/storage/files/1/contents/source` | `\"data:,placeholder%0A\"` | `\"<redacted hmac-sha256:",
        ],
    );
    let dir = tmp.path().join("reports");
    let dir_arg = dir.display().to_string();
    let mut args = vec!["--output-dir", dir_arg.as_str()];
    for f in ["text", "json", "markdown", "junit", "prometheus", "html"] {
        args.extend(["--format", f]);
    }
    assert_exit(&drift(&args), 1, &[]);
    let mut read = 0;
    for entry in fs_err::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = fs_err::read_to_string(&path).unwrap();
        for leak in [password, "password%3D", "password="] {
            assert!(
                !text.contains(leak),
                "{} shows `{leak}`:\n{text}",
                path.display()
            );
        }
        read += 1;
    }
    assert_eq!(read, 6, "one file per format");
    let text = fs_err::read_to_string(dir.join("drift.txt")).unwrap();
    assert!(
        text.contains(
            "        -options vfio-pci ids=10de:20b7\n        +options vfio-pci ids=10de:1eb8\n"
        ),
        "{text}"
    );
}

/// Overrides that do nothing (an `ignore-fields` pointer absent on both sides, a patch that
/// changes nothing) are stale and only that: no "applied" note in JSON, and JUnit shows them in
/// the object's test case and the suite's output.
#[test]
fn stale_overrides_are_not_noted_as_applied() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    repo_without_namespaces(&repo);
    let overrides = [
        ("ignore-fields", "/data/nothing"),
        (
            "patch",
            r#"[{"op": "replace", "path": "/data/mode", "value": "fast"}]"#,
        ),
    ];
    let mut live = live_settings(&repo, "default");
    for (name, value) in overrides {
        live["metadata"]["annotations"][format!("platform.kubevirt.io/{name}")] = value.into();
    }
    let snap = tmp.path().join("live.json");
    fs_err::write(&snap, live.to_string()).unwrap();
    let snap = snap.display().to_string();
    let report = |format: &str| {
        let out = plinth(
            &repo,
            &[
                "drift",
                ".",
                "--cluster",
                "prod",
                "--snapshot",
                &snap,
                "--format",
                format,
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout(&out)
    };
    let json: serde_json::Value = serde_json::from_str(&report("json")).unwrap();
    let object = &json["objects"][0];
    assert_eq!(object["status"], "in-sync");
    assert_eq!(object["notes"], serde_json::json!([]), "{object}");
    assert_eq!(
        object["staleOverrides"],
        serde_json::json!([
            "`platform.kubevirt.io/patch` changes nothing in the desired object",
            "`platform.kubevirt.io/ignore-fields`: `/data/nothing` is absent in both desired and live"
        ])
    );
    let junit = report("junit");
    for needle in [
        "<system-out>stale override: `platform.kubevirt.io/patch` changes nothing",
        "<system-out>stale overrides:\n  ConfigMap/default/settings: `platform.kubevirt.io/patch`",
        "\n  ConfigMap/default/settings: `platform.kubevirt.io/ignore-fields`: `/data/nothing` is absent",
    ] {
        assert!(junit.contains(needle), "{needle} not in {junit}");
    }
}
