//! `plinth apply` as one library call against the fake API server through the real kube-rs
//! client: the example cluster's planted drift applied, a conflict with another field manager
//! reported (and taken with `--force-conflicts`), a run with nothing drifted that writes
//! nothing, a dry run that writes nothing.

use std::path::{Path, PathBuf};

use plinth_apply::outcome::{ApplyReport, Outcome};
use plinth_apply::run::{self, ApplyRequest};
use plinth_drift::source::snapshot;
use plinth_testkit::{FakeApiServer, Scenario};

mod support;

/// 2026-01-01T00:00:00Z.
const EPOCH: i64 = 1_767_225_600;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet")
}

/// A fake API server holding the example snapshot of `plain-west`.
fn server() -> FakeApiServer {
    let live = snapshot::load(&example().join("live/plain-west"), &[]).expect("the snapshot");
    FakeApiServer::start(
        Scenario::new()
            .serve_events()
            .objects(live.objects.into_values()),
    )
    .expect("server")
}

fn request(server: &FakeApiServer, now: i64) -> ApplyRequest {
    support::request(&example(), "plain-west", server, now)
}

/// Runs `request` on a plain thread (the run starts its own runtime).
fn apply(request: ApplyRequest) -> ApplyReport {
    std::thread::spawn(move || run::run(&request, &|_| {}).expect("apply runs").report)
        .join()
        .expect("the apply thread")
}

fn outcome(report: &ApplyReport, name: &str) -> Outcome {
    report
        .objects
        .iter()
        .find(|o| o.key.name == name)
        .unwrap_or_else(|| panic!("{name} not in {report:#?}"))
        .outcome
}

/// The writes the server recorded (dry-runs left out), as `VERB path`.
fn writes(server: &FakeApiServer) -> Vec<String> {
    server
        .writes()
        .iter()
        .filter(|w| !w.dry_run)
        .map(|w| format!("{} {}", w.verb(), w.request.path))
        .collect()
}

fn hco(report: &ApplyReport) -> &plinth_apply::outcome::ObjectOutcome {
    report
        .objects
        .iter()
        .find(|o| o.key.name == "kubevirt-hyperconverged")
        .expect("the HyperConverged")
}

#[test]
fn drift_is_applied_conflicts_are_reported_and_a_run_with_nothing_drifted_writes_nothing() {
    let server = server();
    // The planted drift: the HyperConverged configured, the missing MachineConfig created,
    // the refused patch skipped.
    let first = apply(request(&server, EPOCH));
    assert_eq!(hco(&first).outcome, Outcome::Configured, "{first:#?}");
    assert_eq!(
        outcome(&first, "99-openshift-machineconfig-worker-psi-karg"),
        Outcome::Created
    );
    assert_eq!(outcome(&first, "90-worker-kubevirt-swap"), Outcome::Skipped);
    let path = "/spec/liveMigrationConfig/parallelMigrationsPerCluster";
    let stored = || {
        server
            .get(
                "hco.kubevirt.io/v1beta1",
                "HyperConverged",
                Some("openshift-cnv"),
                "kubevirt-hyperconverged",
            )
            .expect("stored")
    };
    assert_eq!(stored().pointer(path), Some(&serde_json::json!(5)));

    // Someone patches the field again: a conflict with `kubectl-patch`, reported with its
    // manager and field; nothing written to the object.
    assert!(server.edit_as(
        "kubectl-patch",
        "hco.kubevirt.io/v1beta1",
        "HyperConverged",
        Some("openshift-cnv"),
        "kubevirt-hyperconverged",
        |o| o["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] = 10.into(),
    ));
    let second = apply(request(&server, EPOCH + 60));
    let h = hco(&second);
    assert_eq!(h.outcome, Outcome::Conflict, "{second:#?}");
    assert_eq!(h.conflicts.len(), 1, "{h:#?}");
    assert_eq!(h.conflicts[0].manager, "kubectl-patch");
    assert!(
        h.conflicts[0]
            .field
            .contains("parallelMigrationsPerCluster"),
        "{h:#?}"
    );
    assert_eq!(stored().pointer(path), Some(&serde_json::json!(10)));
    assert_eq!(second.exit_code(), 1);

    // With --force-conflicts the field is taken back.
    let mut forced = request(&server, EPOCH + 120);
    forced.force_conflicts = true;
    let third = apply(forced);
    assert_eq!(hco(&third).outcome, Outcome::Configured, "{third:#?}");
    assert_eq!(stored().pointer(path), Some(&serde_json::json!(5)));
    assert_eq!(third.exit_code(), 0, "{third:#?}");

    // Nothing drifted: zero writes.
    server.clear_writes();
    let fourth = apply(request(&server, EPOCH + 180));
    assert!(
        fourth
            .objects
            .iter()
            .all(|o| matches!(o.outcome, Outcome::Unchanged | Outcome::Skipped)),
        "{fourth:#?}"
    );
    assert_eq!(writes(&server), Vec::<String>::new());
}

#[test]
fn a_dry_run_writes_nothing() {
    let server = server();
    let mut dry = request(&server, EPOCH);
    dry.dry_run = true;
    dry.force_conflicts = true;
    let report = apply(dry);
    assert!(report.dry_run);
    assert_eq!(
        outcome(&report, "kubevirt-hyperconverged"),
        Outcome::Configured
    );
    assert_eq!(
        outcome(&report, "99-openshift-machineconfig-worker-psi-karg"),
        Outcome::Created
    );
    assert_eq!(writes(&server), Vec::<String>::new());
}

/// A script (a plain HTTP client, whose writes are drift) sets the HyperConverged's field back
/// after every write: plinth applies it as long as the bucket lasts (5 per hour), is
/// throttled, and on the third throttled run in a row pauses the object and emits
/// `ThrashingDetected` naming the field and the writer; later runs leave it alone. (A
/// controller plinth expects to write the field would be "managed by" it, not drift, and
/// never fought over.)
#[test]
fn an_object_fought_over_is_throttled_then_paused_with_an_event() {
    let server = server();
    server.controller(
        "Go-http-client",
        (
            "hco.kubevirt.io/v1beta1",
            "HyperConverged",
            Some("openshift-cnv"),
            "kubevirt-hyperconverged",
        ),
        |o| o["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] = 10.into(),
    );
    let mut outcomes = Vec::new();
    for run in 0..10 {
        let mut r = request(&server, EPOCH + run * 60);
        r.force_conflicts = true;
        let report = apply(r);
        outcomes.push(hco(&report).outcome);
    }
    let (configured, throttled, paused) =
        (Outcome::Configured, Outcome::Throttled, Outcome::Paused);
    assert_eq!(
        outcomes,
        [
            configured, configured, configured, configured, configured, throttled, throttled,
            paused, paused, paused
        ]
    );
    let stored = server
        .get(
            "hco.kubevirt.io/v1beta1",
            "HyperConverged",
            Some("openshift-cnv"),
            "kubevirt-hyperconverged",
        )
        .expect("stored");
    assert_eq!(
        stored.pointer("/metadata/annotations/platform.kubevirt.io~1reconcile-paused"),
        Some(&serde_json::json!("true"))
    );
    let thrashing: Vec<serde_json::Value> = server
        .events()
        .into_iter()
        .filter(|e| e["reason"] == "ThrashingDetected")
        .collect();
    assert_eq!(thrashing.len(), 1, "{thrashing:#?}");
    let note = thrashing[0]["note"].as_str().unwrap_or_default();
    assert!(note.contains("parallelMigrationsPerCluster"), "{note}");
    assert!(note.contains("Go-http-client"), "{note}");
    assert_eq!(thrashing[0]["regarding"]["name"], "kubevirt-hyperconverged");
}
