//! CLI tests of `plinth apply`: the README's dry-run plan of the example snapshot, the
//! refusal to write from a snapshot, report formats, a run against the fake API server, and
//! the disruption gate (maintenance windows, `--allow-disruption`).

use crate::common::{
    assert_exit, example_copy, plinth_reproducible as plinth, stderr, stdout, workspace,
};

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

/// The README's command: the plan of the example snapshot, exit 1 (something left
/// unapplied). The planted drift of the HyperConverged and the missing MachineConfig are
/// disruptive, and the example configures no maintenance window: both are held.
#[test]
fn the_dry_run_plan_of_the_example_snapshot() {
    let out = plinth(&workspace(), &PLAN);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "held            HyperConverged.hco.kubevirt.io/openshift-cnv/kubevirt-hyperconverged (touches the whole virtualization platform: HyperConverged `openshift-cnv/kubevirt-hyperconverged` changed; held: no maintenance window configured for cluster `plain-west`; --allow-disruption applies it now)",
        "changed by `kubectl-patch` (Update) at 2026-11-29T10:02:00Z",
        "held            MachineConfig.machineconfiguration.openshift.io/99-openshift-machineconfig-worker-psi-karg (reboots the nodes of pool `worker`",
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
    assert_eq!(report["summary"]["held"], 2);
    assert_eq!(report["summary"]["configured"], 0);
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

/// `--allow-disruption`: the disruptive drift is planned as any other, with a note.
#[test]
fn allow_disruption_plans_the_disruptive_drift() {
    let mut args = PLAN.to_vec();
    args.push("--allow-disruption");
    let out = plinth(&workspace(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    for needle in [
        "would configure HyperConverged.hco.kubevirt.io/openshift-cnv/kubevirt-hyperconverged",
        "would create    MachineConfig.machineconfiguration.openshift.io/99-openshift-machineconfig-worker-psi-karg",
        "note: disruptive, applied with `--allow-disruption`: reboots the nodes of pool `worker`",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
    assert!(!text.contains("held"), "{text}");
}

/// The plan of the example snapshot in a copy whose `plinth.yaml` (or `cluster.yaml`) says
/// `windows`.
fn plan_with_windows(file: &str, key: &str, windows: &str, extra: &[&str]) -> std::process::Output {
    let repo = example_copy();
    let path = repo.path().join(file);
    let text = fs_err::read_to_string(&path).unwrap();
    fs_err::write(&path, format!("{text}{key}\n{windows}")).unwrap();
    let mut args = vec![
        "apply",
        ".",
        "--cluster",
        "plain-west",
        "--dry-run",
        "--snapshot",
        "live/plain-west",
    ];
    args.extend(extra);
    plinth(repo.path(), &args)
}

/// Outside the window (the clock is Thursday 2026-01-01 00:00 UTC) the plan holds the
/// disruptive drift until the next window, named in the text and, in UTC, in the JSON.
#[test]
fn the_dry_run_shows_held_objects_and_the_next_window() {
    let weekend =
        "    - schedule: \"0 2 * * sat,sun\"\n      duration: 4h\n      timeZone: Europe/Berlin\n";
    let out = plan_with_windows("plinth.yaml", "apply:\n  maintenanceWindows:", weekend, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("held            MachineConfig.machineconfiguration.openshift.io/99-openshift-machineconfig-worker-psi-karg (reboots the nodes of pool `worker`: MachineConfig `99-openshift-machineconfig-worker-psi-karg` added; held until the maintenance window 2026-01-03 02:00 Europe/Berlin (in 2d 1h); --allow-disruption applies it now)"),
        "{text}"
    );
    let out = plan_with_windows(
        "plinth.yaml",
        "apply:\n  maintenanceWindows:",
        weekend,
        &["--format", "json"],
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("JSON");
    let held: Vec<&serde_json::Value> = report["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["outcome"] == "held")
        .collect();
    assert_eq!(held.len(), 2, "{report:#}");
    assert!(
        held.iter()
            .all(|o| o["nextWindow"] == "2026-01-03T01:00:00Z"),
        "{report:#}"
    );

    // The cluster's own windows win: open on Thursdays from midnight, so nothing is held.
    let thursday = "  - schedule: \"0 0 * * thu\"\n    duration: 1h\n";
    let out = plan_with_windows(
        "clusters/plain-west/cluster.yaml",
        "maintenanceWindows:",
        thursday,
        &[],
    );
    let text = stdout(&out);
    assert!(text.contains("would configure HyperConverged"), "{text}");
    assert!(
        text.contains("note: disruptive, applied inside a maintenance window: touches the whole virtualization platform"),
        "{text}"
    );
}

/// A window that does not parse: exit 2 naming the file and the field, nothing planned.
#[test]
fn a_bad_window_exits_2_naming_the_field() {
    let two = |second: &str| {
        format!("    - schedule: \"0 2 * * *\"\n      duration: 1h\n    - {second}\n")
    };
    for (file, key, windows, needle) in [
        (
            "plinth.yaml",
            "apply:\n  maintenanceWindows:",
            two("schedule: \"0 2 * * *\"\n      duration: 1h\n      timeZone: Mars/Olympus"),
            "plinth.yaml: apply.maintenanceWindows[1].timeZone: `Mars/Olympus` is not an IANA time zone",
        ),
        (
            "plinth.yaml",
            "apply:\n  maintenanceWindows:",
            two("schedule: \"0 2 * *\"\n      duration: 1h"),
            "plinth.yaml: apply.maintenanceWindows[1].schedule: `0 2 * *` is not a 5-field cron schedule",
        ),
        (
            "clusters/plain-west/cluster.yaml",
            "maintenanceWindows:",
            "  - schedule: \"0 2 * * *\"\n    duration: 0m\n".to_owned(),
            "clusters/plain-west/cluster.yaml: maintenanceWindows[0].duration: `0m`",
        ),
        (
            "plinth.yaml",
            "apply:\n  maintenanceWindows:",
            two("schedule: \"0 2 * * *\"\n      duration: 1h\n      timezone: UTC"),
            "timezone",
        ),
    ] {
        let out = plan_with_windows(file, key, &windows, &[]);
        assert_exit(&out, 2, &[needle]);
        assert_eq!(stdout(&out), "", "nothing planned");
    }
}
