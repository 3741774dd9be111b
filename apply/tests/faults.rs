//! A full apply of the example's planted drift (with `--force-conflicts`, so the
//! HyperConverged is configured) with one fault injected at each write call in turn — the Nth
//! `PATCH` (dry-runs, applies, the gate's annotations), the Nth `POST` (Events) — for every
//! fault kind: `429` with `Retry-After`, `500`, `503`, `504`, a timeout, a connection dropped
//! before the request is processed, a response dropped after it was processed, and (on
//! `PATCH`es) a `409` field conflict. The run always finishes; every object's outcome matches
//! what the fake stored: `created`/`configured` objects hold the applied value, `failed` or
//! `conflict` ones hold what they held before. A response dropped after the server stored the
//! write is retried: the apply is idempotent, the retry is accepted, and the outcome claims
//! what happened (`created` for an object that was missing, though the retry's `200` says
//! "updated") — never less than the truth.

mod support;

use std::collections::BTreeMap;

use serde_json::Value;

use plinth_apply::outcome::{ApplyReport, Outcome};
use plinth_testkit::{FakeApiServer, Fault, FaultKind};

use support::{EPOCH, example, live_objects, request, server_with, stored, try_apply};

/// A fresh server holding the example snapshot, with `fault` (if any) injected.
fn server(fault: Option<Fault>) -> FakeApiServer {
    let server = server_with(live_objects(), |s| s);
    if let Some(fault) = fault {
        server.inject(fault);
    }
    server
}

/// The applied part of an object: everything but `metadata` and `status`.
fn applied_part(object: &Value) -> Value {
    let mut o = object.clone();
    if let Some(map) = o.as_object_mut() {
        map.remove("metadata");
        map.remove("status");
    }
    o
}

/// The run without faults: its report and, per applied object name, what the server then
/// stores of it.
fn baseline() -> (ApplyReport, BTreeMap<String, Value>, usize, usize) {
    let server = server(None);
    let report = try_apply(request(&server, &example(), EPOCH)).expect("the baseline runs");
    let applied = report
        .objects
        .iter()
        .filter(|o| matches!(o.outcome, Outcome::Created | Outcome::Configured))
        .map(|o| {
            let value = stored(&server, o).expect("an applied object is stored");
            (o.key.name.clone(), applied_part(&value))
        })
        .collect();
    let count = |method: &str| {
        server
            .writes()
            .iter()
            .filter(|w| w.request.method == method)
            .count()
    };
    (report, applied, count("PATCH"), count("POST"))
}

/// One faulted run checked against the baseline: it finishes; each object the baseline
/// applied is reported applied exactly when the server holds the applied value; objects
/// neither run applied are reported as in the baseline. Returns the report.
fn check(
    kind: &FaultKind,
    method: &str,
    nth: u32,
    baseline: &(ApplyReport, BTreeMap<String, Value>, usize, usize),
) -> ApplyReport {
    let (base, applied, _, _) = baseline;
    let before: BTreeMap<String, Value> = live_objects()
        .iter()
        .map(|o| {
            (
                o["metadata"]["name"].as_str().unwrap_or("").to_owned(),
                applied_part(o),
            )
        })
        .collect();
    let what = format!("{kind:?} at {method} #{nth}");
    let server = server(Some(Fault::new(kind.clone()).verb(method).nth(nth)));
    let report = match try_apply(request(&server, &example(), EPOCH)) {
        Ok(r) => r,
        Err(e) => panic!("{what}: the run did not finish: {e}"),
    };
    assert_eq!(
        report.objects.len(),
        base.objects.len(),
        "{what}: {report:#?}"
    );
    for (o, b) in report.objects.iter().zip(&base.objects) {
        assert_eq!(o.key, b.key, "{what}: the order changed");
        let now = stored(&server, o).map(|v| applied_part(&v));
        match applied.get(&o.key.name) {
            Some(desired) => match o.outcome {
                Outcome::Created | Outcome::Configured => {
                    assert_eq!(o.outcome, b.outcome, "{what}: {o:#?}");
                    assert_eq!(
                        now.as_ref(),
                        Some(desired),
                        "{what}: reported applied: {o:#?}"
                    );
                }
                Outcome::Failed | Outcome::Conflict => {
                    assert_ne!(
                        now.as_ref(),
                        Some(desired),
                        "{what}: stored but reported {:?}: {o:#?}",
                        o.outcome
                    );
                    assert_eq!(now.as_ref(), before.get(&o.key.name), "{what}: {o:#?}");
                    assert!(o.reason.is_some(), "{what}: no reason: {o:#?}");
                }
                other => panic!("{what}: {} reported {other:?}: {o:#?}", o.key.name),
            },
            None => assert_eq!(o.outcome, b.outcome, "{what}: {o:#?}"),
        }
    }
    // The write log agrees: an object is reported applied exactly when the server accepted
    // an apply of it by `plinth` (a dropped response's retry accepted again).
    let accepted: Vec<String> = server
        .writes()
        .iter()
        .filter(|w| w.stored() && w.manager.as_deref() == Some("plinth"))
        .map(|w| w.request.path.clone())
        .collect();
    for o in &report.objects {
        let applied = matches!(o.outcome, Outcome::Created | Outcome::Configured);
        let written = accepted
            .iter()
            .any(|p| p.ends_with(&format!("/{}", o.key.name)));
        assert_eq!(applied, written, "{what}: {o:#?} {accepted:#?}");
    }
    report
}

/// Every write call in turn for each of `kinds` (each retried: the run ends as without
/// faults, every outcome the same).
fn transient(kinds: &[FaultKind]) {
    let baseline = baseline();
    let (base, _, patches, posts) = &baseline;
    // The HyperConverged's dry-run and apply, the MachineConfig's create (each apply carries
    // the gate's state); the Events.
    assert!(
        *patches >= 3 && *posts >= 1,
        "{patches} PATCHes, {posts} POSTs"
    );
    for kind in kinds {
        for (method, calls) in [("PATCH", *patches), ("POST", *posts)] {
            for nth in 1..=u32::try_from(calls).expect("few calls") {
                let report = check(kind, method, nth, &baseline);
                let outcomes = |r: &ApplyReport| -> Vec<Outcome> {
                    r.objects.iter().map(|o| o.outcome).collect()
                };
                assert_eq!(
                    outcomes(&report),
                    outcomes(base),
                    "{kind:?} at {method} #{nth}: {report:#?}"
                );
                assert_eq!(
                    report.exit_code(),
                    base.exit_code(),
                    "{kind:?} {method} #{nth}"
                );
            }
        }
    }
}

#[test]
fn throttling_and_server_errors_are_retried_at_every_write() {
    transient(&[
        FaultKind::TooManyRequests {
            retry_after_secs: 0,
        },
        FaultKind::ServerError(500),
        FaultKind::ServerError(503),
    ]);
}

#[test]
fn timeouts_are_retried_at_every_write() {
    transient(&[FaultKind::ServerError(504), FaultKind::Timeout]);
}

#[test]
fn a_dropped_connection_is_retried_at_every_write() {
    transient(&[FaultKind::DropConnection]);
}

/// The server stored the write, then the connection dropped: the retried apply is accepted
/// again and the outcome is the same as without the fault (a created object is `created`,
/// although the retry found it and answered `200`).
#[test]
fn a_response_dropped_after_the_write_was_stored_is_reported_as_applied() {
    transient(&[FaultKind::DropResponse]);
}

/// A `409` conflict at each `PATCH` in turn: at an object's dry-run or apply the object is
/// reported as a `conflict` naming the manager and field, and left as it was; at the gate's
/// annotations (written forced, a 409 there is not expected from a real server) the object
/// stays `configured` with a note; the other objects are unaffected. Nothing is retried.
#[test]
fn a_field_conflict_at_each_patch_is_reported_and_nothing_is_stored() {
    let baseline = baseline();
    let patches = u32::try_from(baseline.2).expect("few calls");
    let kind = FaultKind::FieldConflict {
        manager: "kubectl-edit".into(),
        field: ".spec.example".into(),
    };
    let mut conflicts = 0;
    for nth in 1..=patches {
        let report = check(&kind, "PATCH", nth, &baseline);
        for o in report
            .objects
            .iter()
            .filter(|o| o.outcome == Outcome::Conflict)
        {
            conflicts += 1;
            assert_eq!(o.conflicts.len(), 1, "{o:#?}");
            assert_eq!(o.conflicts[0].manager, "kubectl-edit");
            assert!(o.conflicts[0].field.contains("example"), "{o:#?}");
            assert_eq!(report.exit_code(), 1);
        }
    }
    assert!(
        conflicts >= 2,
        "the dry-runs and applies of both objects: {conflicts}"
    );
}

/// A `409` for a stale `resourceVersion` ("the object has been modified") at each `PATCH` in
/// turn is retried, as the issue asks: the run ends as without the fault.
#[test]
fn a_stale_resource_version_is_retried_at_every_patch() {
    transient(&[FaultKind::StaleResourceVersion]);
}
