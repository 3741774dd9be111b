//! Adversarial CLI tests of `plinth apply`, as a user drives it: flag combinations, exit
//! codes 0/1/2 exactly as documented, bad input that names the file and field and writes
//! nothing (to the cluster or to disk), deterministic reports, `--output-dir` and `-q`; run
//! against the example snapshot and against the fake API server with a kubeconfig.

use std::path::Path;
use std::process::Output;

use plinth_testkit::{FakeApiServer, Scenario};
use serde_json::{Value, json};

use crate::common::{
    EPOCH, assert_exit, cluster_args, plinth_reproducible as plinth, prod_repo, render,
    rendered_objects, snapshot_dir, stderr, stdout, workspace,
};

/// The README's plan of the example snapshot.
const PLAN: &str =
    "apply examples/fleet --cluster plain-west --dry-run --snapshot examples/fleet/live/plain-west";

/// Asserts that `out` exited with `code`, showing its stderr when not.
fn exits(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", stderr(out));
}

const FORMATS: [&str; 6] = ["text", "json", "markdown", "junit", "prometheus", "html"];

/// `PLAN` and `extra`.
fn plan(extra: &[&str]) -> Output {
    let mut args: Vec<&str> = PLAN.split(' ').collect();
    args.extend_from_slice(extra);
    plinth(&workspace(), &args)
}

/// `--format F` for every format and `--output-dir dir`.
fn every_format(dir: &str) -> Vec<&str> {
    let mut args = Vec::new();
    for f in FORMATS {
        args.extend(["--format", f]);
    }
    args.extend(["--output-dir", dir]);
    args
}

#[test]
fn prune_namespaces_or_crds_without_prune_exit_2_naming_prune() {
    for flag in ["--prune-namespaces", "--prune-crds"] {
        let out = plan(&[flag]);
        assert_exit(&out, 2, &["--prune"]);
        assert_eq!(stdout(&out), "", "nothing planned");
    }
}

/// Two plans of the same snapshot are the same bytes in every format (the clock fixed by
/// `SOURCE_DATE_EPOCH`, the only time stamp the reports hold).
#[test]
fn the_plan_is_byte_identical_across_runs_in_every_format() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    for dir in [&a, &b] {
        let d = dir.path().to_string_lossy().into_owned();
        let out = plan(&every_format(&d));
        exits(&out, 1);
        assert_eq!(stdout(&out), "", "reports go to the files only");
    }
    let (first, second) = (snapshot_dir(a.path()), snapshot_dir(b.path()));
    assert_eq!(first.len(), 6, "{:?}", first.keys());
    assert_eq!(first, second);
    for f in FORMATS {
        let one = plan(&["--format", f]);
        let two = plan(&["--format", f]);
        assert_eq!(stdout(&one), stdout(&two), "{f}");
    }
}

/// `-q` prints the report and nothing else: no status on stderr.
#[test]
fn quiet_prints_only_the_report() {
    let out = plan(&["-q"]);
    exits(&out, 1);
    assert_eq!(stderr(&out), "");
    assert_eq!(stdout(&out), stdout(&plan(&[])));
}

/// An `--output-dir` that cannot be a directory (a file is there) is refused, exit 2, with
/// nothing written beside it.
#[test]
fn an_output_dir_that_is_a_file_exits_2() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("reports");
    fs_err::write(&file, "mine\n").unwrap();
    let d = file.to_string_lossy().into_owned();
    let out = plan(&every_format(&d));
    exits(&out, 2);
    assert_eq!(fs_err::read_to_string(&file).unwrap(), "mine\n");
    assert_eq!(snapshot_dir(tmp.path()).len(), 1);
}

// ---------------------------------------------------------------------------------------
// Against the fake API server.

/// The `prod` repository rendered, and a fake API server holding its objects as `live`
/// makes them.
fn cluster(live: impl Fn(Value) -> Value) -> (tempfile::TempDir, FakeApiServer) {
    let repo = prod_repo();
    render(repo.path());
    let objects: Vec<Value> = rendered_objects(repo.path())
        .into_iter()
        .map(live)
        .collect();
    let server =
        FakeApiServer::start(Scenario::new().serve_events().objects(objects)).expect("server");
    (repo, server)
}

/// `plinth apply . --cluster prod` against `server`, reproducibly, with `extra`.
fn apply(repo: &Path, server: &FakeApiServer, extra: &[&str]) -> Output {
    let kc = server.kubeconfig_path().display().to_string();
    let mut args = cluster_args("apply", &kc);
    args.push("--insecure-allow-http-loopback");
    args.extend_from_slice(extra);
    plinth(repo, &args)
}

/// Appends `text` to the file `name` of `repo` (made when missing).
fn append(repo: &Path, name: &str, text: &str) {
    let path = repo.join(name);
    let old = fs_err::read_to_string(&path).unwrap_or_default();
    fs_err::write(&path, old + text).unwrap();
}

/// [`apply`], which must exit with `code`.
fn apply_exits(repo: &Path, server: &FakeApiServer, extra: &[&str], code: i32) -> Output {
    let out = apply(repo, server, extra);
    exits(&out, code);
    out
}

/// The writes the server stored (not dry runs, accepted).
fn stored_writes(server: &FakeApiServer) -> Vec<String> {
    server
        .writes()
        .iter()
        .filter(|w| w.stored())
        .map(|w| format!("{} {}", w.request.method, w.request.path))
        .collect()
}

fn drifted(mut object: Value) -> Value {
    object["data"]["a"] = json!("2");
    object
}

fn data_a(server: &FakeApiServer) -> Value {
    server
        .get("v1", "ConfigMap", Some("platform"), "base")
        .expect("stored")["data"]["a"]
        .clone()
}

/// In sync: exit 0 and not one write, dry-run or not.
#[test]
fn an_apply_with_nothing_drifted_exits_0_and_writes_nothing() {
    let (repo, server) = cluster(|o| o);
    apply_exits(repo.path(), &server, &[], 0);
    assert_eq!(server.writes().len(), 0, "{:#?}", server.writes());
}

/// Drifted: `--dry-run` exits 1 and stores nothing; the apply exits 0 and corrects it; the
/// next run exits 0 with nothing written.
#[test]
fn exit_codes_of_a_dry_run_an_apply_and_the_run_after() {
    let (repo, server) = cluster(drifted);
    let out = apply_exits(repo.path(), &server, &["--dry-run"], 1);
    assert!(stdout(&out).contains("would configure"), "{}", stdout(&out));
    assert_eq!(stored_writes(&server), Vec::<String>::new());
    assert_eq!(data_a(&server), "2");

    apply_exits(repo.path(), &server, &[], 0);
    assert_eq!(data_a(&server), "1");

    server.clear_writes();
    apply_exits(repo.path(), &server, &[], 0);
    assert_eq!(server.writes().len(), 0, "{:#?}", server.writes());
}

/// `--events-namespace` other than `default` or `kube-system`: exit 2 naming the flag,
/// before a single request reaches the cluster.
#[test]
fn a_bad_events_namespace_exits_2_before_any_request() {
    let (repo, server) = cluster(drifted);
    for ns in ["kube-public", "../default", ""] {
        let out = apply(repo.path(), &server, &["--events-namespace", ns]);
        assert_exit(&out, 2, &["--events-namespace"]);
        assert_eq!(server.request_log().len(), 0, "{ns}");
    }
}

/// A `plinth.yaml` ending in `settings` makes `plinth apply` exit 2 naming the file and
/// `needle`, with nothing written to the drifted cluster.
fn assert_settings_refused(settings: &str, needle: &str) {
    let (repo, server) = cluster(drifted);
    append(repo.path(), "plinth.yaml", settings);
    let out = apply(repo.path(), &server, &[]);
    assert_exit(&out, 2, &["plinth.yaml", needle]);
    assert_eq!(stored_writes(&server), Vec::<String>::new(), "{settings}");
    assert_eq!(data_a(&server), "2");
}

/// `apply.throttle` values that do not read (negative, past `u32`, an unknown key) and
/// `windowMinutes: 0` (every apply would expire at once: the gate would never throttle nor
/// pause anything): exit 2 naming `plinth.yaml` and the line (an unknown key or a refused
/// value by name), before anything is written.
#[test]
fn bad_throttle_settings_exit_2_naming_the_field_and_write_nothing() {
    for (throttle, needle) in [
        ("capacity: -1", "line 3"),
        ("capacity: 99999999999", "line 3"),
        ("windowMinutes: x", "line 3"),
        ("capcity: 5", "capcity"),
        (
            "windowMinutes: 0",
            "plinth.yaml: apply.throttle.windowMinutes",
        ),
    ] {
        assert_settings_refused(&format!("apply:\n  throttle:\n    {throttle}\n"), needle);
    }
}

/// `apply.throttle.capacity: 0` throttles every apply: exit 1, the object untouched but for
/// the gate's annotation.
#[test]
fn a_throttle_capacity_of_zero_throttles_and_exits_1() {
    let (repo, server) = cluster(drifted);
    append(
        repo.path(),
        "plinth.yaml",
        "apply:\n  throttle:\n    capacity: 0\n",
    );
    let out = apply_exits(repo.path(), &server, &["--format", "json"], 1);
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    assert_eq!(report["summary"]["throttled"], 1, "{report:#}");
    assert_eq!(data_a(&server), "2");
}

/// An `--output-dir` that cannot be written is found before the cluster is: exit 2 and the
/// drifted object untouched (an apply whose report cannot be written must not have run).
#[test]
fn an_unwritable_output_dir_exits_2_before_writing_the_cluster() {
    let (repo, server) = cluster(drifted);
    let file = repo.path().join("reports");
    fs_err::write(&file, "mine\n").unwrap();
    let d = file.to_string_lossy().into_owned();
    let out = apply(
        repo.path(),
        &server,
        &["--format", "json", "--output-dir", &d],
    );
    exits(&out, 2);
    assert_eq!(stored_writes(&server), Vec::<String>::new());
    assert_eq!(data_a(&server), "2");
}

/// The clock the reports show is the one given (`SOURCE_DATE_EPOCH`).
#[test]
fn the_report_time_is_the_clock_given() {
    let out = plan(&["--format", "json"]);
    let report: Value = serde_json::from_str(&stdout(&out)).expect("json");
    let epoch: i64 = EPOCH.parse().unwrap();
    assert_eq!(
        report["generatedAt"],
        plinth_drift::core::report::rfc3339(epoch)
    );
}

/// A maintenance window that does not parse stops the run before a single request reaches
/// the cluster: exit 2 naming the file and the field.
#[test]
fn a_bad_window_exits_2_before_any_request() {
    let (repo, server) = cluster(drifted);
    append(
        repo.path(),
        "clusters/prod/cluster.yaml",
        "maintenanceWindows:\n  - schedule: \"*/0 * * * *\"\n    duration: 1h\n",
    );
    let out = apply(repo.path(), &server, &["--allow-disruption"]);
    assert_exit(
        &out,
        2,
        &["clusters/prod/cluster.yaml: maintenanceWindows[0].schedule"],
    );
    assert_eq!(server.request_log().len(), 0);
}

/// Two dry runs against the same cluster print the same bytes, in every format.
#[test]
fn dry_runs_against_a_cluster_are_byte_identical() {
    let (repo, server) = cluster(drifted);
    for f in FORMATS {
        let one = apply(repo.path(), &server, &["--dry-run", "--format", f]);
        let two = apply(repo.path(), &server, &["--dry-run", "--format", f]);
        assert_eq!(one.status.code(), Some(1), "{}", stderr(&one));
        assert_eq!(stdout(&one), stdout(&two), "{f}");
    }
    assert_eq!(stored_writes(&server), Vec::<String>::new());
}

/// An `annotationPrefix` the API server would refuse as an annotation key's prefix (not a
/// DNS subdomain) would make every write of the gate's annotations fail, disabling the
/// anti-thrashing gate: exit 2 naming `plinth.yaml` and `annotationPrefix`, nothing written.
#[test]
fn an_annotation_prefix_that_is_not_a_dns_subdomain_exits_2_and_writes_nothing() {
    for prefix in ["\"\"", "Not A Prefix", "a/b", "-x.io", "\"x..io\""] {
        assert_settings_refused(&format!("annotationPrefix: {prefix}\n"), "annotationPrefix");
    }
}

/// `--dry-run --snapshot` exits by the same rules as a run: 0 when the snapshot holds what
/// is rendered, 1 when something would be configured; and `--snapshot` without `--dry-run`
/// is refused (exit 2), nothing on stdout.
#[test]
fn snapshot_plans_exit_0_in_sync_and_1_with_drift() {
    let repo = prod_repo();
    render(repo.path());
    let objects = rendered_objects(repo.path());
    for (objects, code) in [
        (objects.clone(), 0),
        (objects.into_iter().map(drifted).collect(), 1),
    ] {
        let text: Vec<String> = objects.iter().map(Value::to_string).collect();
        fs_err::create_dir_all(repo.path().join("live")).unwrap();
        fs_err::write(repo.path().join("live/objects.yaml"), text.join("\n---\n")).unwrap();
        let args = ["apply", ".", "--cluster", "prod", "--snapshot", "live"];
        let out = plinth(repo.path(), &[&args[..], &["--dry-run"]].concat());
        exits(&out, code);
        let refused = plinth(repo.path(), &args);
        assert_exit(&refused, 2, &["--dry-run"]);
        assert_eq!(stdout(&refused), "");
    }
}
