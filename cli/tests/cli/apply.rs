//! CLI tests of `plinth apply`: the README's dry-run plan of the example snapshot, the
//! refusal to write from a snapshot, report formats, and a run against the fake API server.

use crate::common::{assert_exit, plinth_reproducible as plinth, stderr, stdout, workspace};

/// The README's command: the plan of the example snapshot.
const PLAN: [&str; 7] = [
    "apply",
    "examples/fleet",
    "--cluster",
    "plain-west",
    "--dry-run",
    "--snapshot",
    "examples/fleet/live/plain-west",
];

/// The README's command: the plan of the example snapshot, exit 1 (something to write).
#[test]
fn the_dry_run_plan_of_the_example_snapshot() {
    let out = plinth(&workspace(), &PLAN);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "would configure HyperConverged.hco.kubevirt.io/openshift-cnv/kubevirt-hyperconverged",
        "changed by `kubectl-patch` (Update) at 2026-11-29T10:02:00Z",
        "would create    MachineConfig.machineconfiguration.openshift.io/99-openshift-machineconfig-worker-psi-karg",
        "skipped         MachineConfig.machineconfiguration.openshift.io/90-worker-kubevirt-swap",
        "skipped         ForkliftController.forklift.konveyor.io/openshift-mtv/forklift-controller (no longer rendered; pass --prune to delete it)",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

/// A snapshot holds no cluster to write to: without `--dry-run` it is refused (exit 2).
#[test]
fn a_snapshot_is_only_planned() {
    let without: Vec<&str> = PLAN.iter().copied().filter(|a| *a != "--dry-run").collect();
    assert_exit(&plinth(&workspace(), &without), 2, &["--dry-run"]);
}

/// The plan in JSON names each object's outcome; several formats need `--output-dir`.
#[test]
fn the_plan_in_json_and_several_formats() {
    let args = PLAN;
    let mut json_args = args.to_vec();
    json_args.extend(["--format", "json"]);
    let out = plinth(&workspace(), &json_args);
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    assert_eq!(report["dryRun"], true);
    assert_eq!(report["summary"]["configured"], 1);
    assert_eq!(report["summary"]["created"], 1);
    let dir = tempfile::tempdir().unwrap();
    let mut many = args.to_vec();
    let out_dir = dir.path().to_string_lossy().into_owned();
    many.extend([
        "--format",
        "json",
        "--format",
        "junit",
        "--output-dir",
        &out_dir,
    ]);
    let out = plinth(&workspace(), &many);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(dir.path().join("apply.json").is_file());
    assert!(dir.path().join("apply-junit.xml").is_file());
    let mut two = args.to_vec();
    two.extend(["--format", "json", "--format", "junit"]);
    assert_exit(&plinth(&workspace(), &two), 2, &["--output-dir"]);
}
