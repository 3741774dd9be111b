//! The disruption gate against the fake API server through the real kube-rs client: the
//! example's planted drift (the HyperConverged changed, a MachineConfig missing), both
//! disruptive, is held outside a maintenance window — zero writes to either, no gate
//! annotation — and applied inside one.

mod support;

use std::path::Path;

use plinth_apply::outcome::{ApplyReport, Outcome};
use plinth_testkit::FakeApiServer;

use support::EPOCH;

const HCO: &str = "kubevirt-hyperconverged";
const MACHINE_CONFIG: &str = "99-openshift-machineconfig-worker-psi-karg";

fn server() -> FakeApiServer {
    support::server_with(support::live_objects(), |s| s)
}

/// `plinth apply` of `repo`'s `plain-west` at `now`, without `--allow-disruption`.
fn apply(server: &FakeApiServer, repo: &Path, now: i64) -> ApplyReport {
    let mut request = support::request(server, repo, now);
    request.allow_disruption = false;
    support::try_apply(request).expect("apply runs")
}

/// The writes the server stored to the `HyperConverged` or the `MachineConfig`s.
fn disruptive_writes(server: &FakeApiServer) -> Vec<String> {
    support::stored_writes(server)
        .into_iter()
        .filter(|w| w.contains("hyperconvergeds") || w.contains("machineconfigs"))
        .collect()
}

/// A copy of the example fleet whose `plinth.yaml` has `windows` under `apply:`.
fn example_with_windows(windows: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut pending = vec![support::example()];
    let root = support::example();
    while let Some(from) = pending.pop() {
        let to = dir
            .path()
            .join(from.strip_prefix(&root).expect("below the example"));
        if from.is_dir() {
            fs_err::create_dir_all(&to).expect("mkdir");
            for entry in fs_err::read_dir(&from).expect("read_dir") {
                pending.push(entry.expect("entry").path());
            }
        } else {
            fs_err::copy(&from, &to).expect("copy");
        }
    }
    let settings = dir.path().join("plinth.yaml");
    let text = fs_err::read_to_string(&settings).expect("plinth.yaml");
    fs_err::write(
        &settings,
        format!("{text}apply:\n  maintenanceWindows:\n{windows}"),
    )
    .expect("write plinth.yaml");
    dir
}

#[test]
fn outside_a_window_the_disruptive_drift_is_held_and_nothing_is_written_to_it() {
    let server = server();
    let report = apply(&server, &support::example(), EPOCH);
    for name in [HCO, MACHINE_CONFIG] {
        let o = support::named(&report, name);
        assert_eq!(o.outcome, Outcome::Held, "{o:#?}");
        assert!(
            o.reason.as_deref().is_some_and(|r| r.contains(
                "held: no maintenance window configured for cluster `plain-west`; --allow-disruption applies it now"
            )),
            "{o:#?}"
        );
    }
    assert_eq!(disruptive_writes(&server), Vec::<String>::new());
    let hco = support::stored(&server, support::named(&report, HCO)).expect("stored");
    let annotations = hco.pointer("/metadata/annotations");
    assert!(
        annotations.is_none_or(|a| a.get("platform.kubevirt.io/apply-history").is_none()),
        "{annotations:?}"
    );
    assert!(
        support::stored(&server, support::named(&report, MACHINE_CONFIG)).is_none(),
        "the missing MachineConfig was created"
    );
    assert_eq!(report.exit_code(), 1);
}

#[test]
fn inside_a_window_it_is_applied() {
    // 2026-01-01 is a Thursday: the window is open from 00:00 to 02:00 UTC.
    let repo = example_with_windows("    - schedule: \"0 0 * * thu\"\n      duration: 2h\n");
    let first = server();
    let report = apply(&first, repo.path(), EPOCH + 600);
    assert_eq!(support::named(&report, HCO).outcome, Outcome::Configured);
    assert_eq!(
        support::named(&report, MACHINE_CONFIG).outcome,
        Outcome::Created
    );
    assert!(
        support::named(&report, HCO)
            .notes
            .iter()
            .any(|n| n.starts_with("disruptive, applied inside a maintenance window: touches the whole virtualization platform")),
        "{report:#?}"
    );
    // Each: one apply, carrying the gate's annotations.
    assert_eq!(
        disruptive_writes(&first).len(),
        2,
        "{:?}",
        disruptive_writes(&first)
    );

    // At 02:00 the window is closed: the next is the next Thursday, in the JSON report too.
    let fresh = server();
    let report = apply(&fresh, repo.path(), EPOCH + 7200);
    let hco = support::named(&report, HCO);
    assert_eq!(hco.outcome, Outcome::Held);
    assert_eq!(hco.next_window.as_deref(), Some("2026-01-08T00:00:00Z"));
    assert!(
        hco.reason
            .as_deref()
            .is_some_and(|r| r
                .contains("held until the maintenance window 2026-01-08 00:00 UTC (in 6d 22h)")),
        "{hco:#?}"
    );
    assert_eq!(disruptive_writes(&fresh), Vec::<String>::new());
}
