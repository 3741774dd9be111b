//! `plinth apply` as one library call against the fake API server through the real kube-rs
//! client: the example cluster's planted drift applied, a conflict with another field manager
//! reported (and taken with `--force-conflicts`), a run with nothing drifted that writes
//! nothing, a dry run that writes nothing.

mod support;

use plinth_apply::outcome::{ApplyReport, Outcome};
use plinth_apply::run::ApplyRequest;
use plinth_testkit::FakeApiServer;

use support::EPOCH;

/// A fake API server holding the example snapshot of `plain-west`.
fn server() -> FakeApiServer {
    support::server_with(support::live_objects(), |s| s)
}

/// An apply of the example's `plain-west` at `now`, without `--force-conflicts`.
fn request(server: &FakeApiServer, now: i64) -> ApplyRequest {
    let mut request = support::request(server, &support::example(), now);
    request.force_conflicts = false;
    request
}

/// Runs `request` (the run starts its own runtime).
fn apply(request: ApplyRequest) -> ApplyReport {
    support::try_apply(request).expect("apply runs")
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

/// The orphaned `ForkliftController` (plinth's labels for the cluster, no longer rendered) is
/// left alone without `--prune` and deleted with it; nothing else is deleted.
#[test]
fn orphans_are_deleted_only_with_prune() {
    let server = server();
    let forklift = || {
        server.get(
            "forklift.konveyor.io/v1beta1",
            "ForkliftController",
            Some("openshift-mtv"),
            "forklift-controller",
        )
    };
    assert!(forklift().is_some(), "the snapshot holds the orphan");
    let plain = apply(request(&server, EPOCH));
    assert_eq!(outcome(&plain, "forklift-controller"), Outcome::Skipped);
    assert!(forklift().is_some());
    let mut pruning = request(&server, EPOCH + 60);
    pruning.prune = true;
    let pruned = apply(pruning);
    assert_eq!(outcome(&pruned, "forklift-controller"), Outcome::Pruned);
    assert!(forklift().is_none());
    let deletes: Vec<String> = writes(&server)
        .into_iter()
        .filter(|w| w.starts_with("delete "))
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:?}");
}

/// Someone removes plinth's labels from an object plinth applied: the next run recognises it
/// by its identity in the index and its field manager, and puts the labels back. An object
/// plinth never applied whose labels are gone is not plinth's any more: skipped, not adopted.
#[test]
fn labels_someone_removed_are_restored_on_what_plinth_applied() {
    let server = server();
    let first = apply(request(&server, EPOCH));
    assert_eq!(hco(&first).outcome, Outcome::Configured, "{first:#?}");
    let unlabel = |name: &str, api_version: &str, kind: &str, namespace: Option<&str>| {
        assert!(
            server.edit_as("kubectl-label", api_version, kind, namespace, name, |o| {
                o["metadata"]["labels"] = serde_json::json!({});
            }),
            "{name}"
        );
    };
    let hco_key = (
        "hco.kubevirt.io/v1beta1",
        "HyperConverged",
        Some("openshift-cnv"),
        "kubevirt-hyperconverged",
    );
    let labels_of = |(api_version, kind, namespace, name): (&str, &str, Option<&str>, &str)| {
        server
            .get(api_version, kind, namespace, name)
            .expect("stored")["metadata"]["labels"]
            .clone()
    };
    let labels = labels_of(hco_key);
    assert_eq!(labels["app.kubernetes.io/managed-by"], "plinth", "{labels}");
    unlabel(hco_key.3, hco_key.0, hco_key.1, hco_key.2);
    // The health check was in sync: plinth never applied it.
    unlabel(
        "kubevirt-workers",
        "remediation.medik8s.io/v1alpha1",
        "NodeHealthCheck",
        None,
    );
    let second = apply(request(&server, EPOCH + 60));
    assert_eq!(hco(&second).outcome, Outcome::Configured, "{second:#?}");
    assert_eq!(labels_of(hco_key), labels);
    assert_eq!(outcome(&second, "kubevirt-workers"), Outcome::Skipped);
}

/// A delete holds only for the object that was read: under another `uid` (an object created
/// under the same name since) nothing is deleted and the answer says why.
#[test]
fn a_delete_holds_only_for_the_object_read() {
    use plinth_drift::ClusterLive;
    let server = server();
    let key = (
        "forklift.konveyor.io/v1beta1",
        "ForkliftController",
        Some("openshift-mtv"),
        "forklift-controller",
    );
    let stored = || server.get(key.0, key.1, key.2, key.3);
    let uid = stored().expect("stored")["metadata"]["uid"]
        .as_str()
        .expect("a uid")
        .to_owned();
    let body = serde_json::json!({"apiVersion": key.0, "kind": key.1,
        "metadata": {"namespace": key.2, "name": key.3}});
    let options = match support::request(&server, &support::example(), EPOCH)
        .drift
        .source
    {
        plinth_drift::LiveSource::Cluster(options) => options,
        plinth_drift::LiveSource::Snapshot { .. } => unreachable!("a cluster request"),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let cluster = ClusterLive::connect(&options).await.expect("connect");
        let refused = cluster.delete(&body, Some("another-uid")).await;
        assert!(
            matches!(refused, Err(plinth_drift::DriftError::Conflict { .. })),
            "{refused:?}"
        );
        assert!(stored().is_some(), "nothing deleted");
        assert!(cluster.delete(&body, Some(&uid)).await.expect("deleted"));
        assert!(stored().is_none());
    });
}

/// The `HyperConverged` of the example, as `(apiVersion, kind, namespace, name)`.
const HCO: (&str, &str, Option<&str>, &str) = (
    "hco.kubevirt.io/v1beta1",
    "HyperConverged",
    Some("openshift-cnv"),
    "kubevirt-hyperconverged",
);

/// Labels `kubectl label` added to the stored HCO, and one its operator (a controller) added.
fn label_hco(server: &FakeApiServer) {
    let (api_version, kind, namespace, name) = HCO;
    assert!(
        server.edit_as("kubectl-label", api_version, kind, namespace, name, |o| {
            o["metadata"]["labels"]["team"] = "platform".into();
        })
    );
    assert!(
        server.edit_as("hco-operator", api_version, kind, namespace, name, |o| {
            o["metadata"]["labels"]["hco.kubevirt.io/version"] = "1.14.0".into();
        })
    );
}

/// What others added and server-side apply alone would leave (a label `kubectl label` added)
/// the apply removes with one JSON patch guarded by a `test` of the value (no apply when the
/// server-side dry-run changes nothing); the object is `configured` and `DriftCorrected` is
/// emitted; the next run writes nothing. A label a controller added is not drift and stays.
#[test]
fn what_others_added_is_removed_and_what_a_controller_added_stays() {
    let server = support::server_with(
        support::live_objects(),
        plinth_testkit::Scenario::serve_events,
    );
    let first = apply(request(&server, EPOCH));
    assert_eq!(hco(&first).outcome, Outcome::Configured, "{first:#?}");
    label_hco(&server);
    let before = server.writes().len();
    let second = apply(request(&server, EPOCH + 60));
    let hco_outcome = hco(&second);
    assert_eq!(hco_outcome.outcome, Outcome::Configured, "{second:#?}");
    assert!(
        hco_outcome
            .notes
            .iter()
            .any(|n| n.contains("`/metadata/labels/team` (by kubectl-label)")),
        "{hco_outcome:#?}"
    );
    let (api_version, kind, namespace, name) = HCO;
    let stored = server
        .get(api_version, kind, namespace, name)
        .expect("stored");
    let labels = &stored["metadata"]["labels"];
    assert!(labels.get("team").is_none(), "{labels}");
    assert_eq!(labels["hco.kubevirt.io/version"], "1.14.0");
    // The JSON patch (its `test` first), the gate's annotation, the Event; no apply.
    let writes = server.writes();
    let patches: Vec<_> = writes[before..]
        .iter()
        .filter(|w| w.stored() && w.request.path.ends_with("/kubevirt-hyperconverged"))
        .collect();
    assert_eq!(patches.len(), 2, "{patches:#?}");
    assert_eq!(patches[0].manager.as_deref(), Some("plinth"));
    assert_eq!(
        patches[0].body,
        serde_json::json!([
            {"op": "test", "path": "/metadata/labels/team", "value": "platform"},
            {"op": "remove", "path": "/metadata/labels/team"}
        ])
    );
    assert_eq!(patches[1].manager.as_deref(), Some("plinth-gate"));
    assert!(
        server
            .events()
            .iter()
            .any(|e| e["reason"] == "DriftCorrected" && e["regarding"]["name"] == name),
        "{:#?}",
        server.events()
    );
    let quiet = server.writes().len();
    let third = apply(request(&server, EPOCH + 120));
    assert_eq!(hco(&third).outcome, Outcome::Unchanged, "{third:#?}");
    assert!(
        server.writes()[quiet..].iter().all(|w| !w.stored()),
        "{:#?}",
        &server.writes()[quiet..]
    );
}

/// A field that changed between the apply and the removal (another client wrote it in
/// between) is not removed: the patch's `test` fails, the object is reported `failed` with
/// the apply accepted, and nothing another client wrote is lost.
#[test]
fn a_field_changed_before_its_removal_is_kept_and_reported() {
    let server = server();
    apply(request(&server, EPOCH));
    label_hco(&server);
    let (api_version, kind, namespace, name) = HCO;
    assert!(
        server.edit_as("kubectl-edit", api_version, kind, namespace, name, |o| {
            o["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] = 9.into();
        })
    );
    // After plinth's apply, another client changes the label it is about to remove.
    server.controller("kubectl-label", HCO, |o| {
        o["metadata"]["labels"]["team"] = "storage".into();
    });
    // `--force-conflicts`: plinth takes back the field `kubectl edit` changed.
    let report = apply(support::request(&server, &support::example(), EPOCH + 60));
    let outcome = hco(&report);
    assert_eq!(outcome.outcome, Outcome::Failed, "{outcome:#?}");
    let reason = outcome.reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("the apply was accepted, but removing what others added was not"),
        "{reason}"
    );
    let stored = server
        .get(api_version, kind, namespace, name)
        .expect("stored");
    assert_eq!(stored["metadata"]["labels"]["team"], "storage");
}

/// An override annotation a person sets on the live object (`kubectl annotate`) is read, not
/// treated as drift: the apply never removes it (another annotation added with it is removed),
/// and the field it ignores is left as it is.
#[test]
fn override_annotations_set_on_the_live_object_are_kept() {
    let server = server();
    apply(support::request(&server, &support::example(), EPOCH));
    let (api_version, kind, namespace, name) = HCO;
    assert!(server.edit_as(
        "kubectl-annotate",
        api_version,
        kind,
        namespace,
        name,
        |o| {
            o["metadata"]["annotations"]["platform.kubevirt.io/ignore-fields"] =
                "/spec/liveMigrationConfig/parallelMigrationsPerCluster".into();
            o["metadata"]["annotations"]["team"] = "platform".into();
        }
    ));
    assert!(
        server.edit_as("kubectl-edit", api_version, kind, namespace, name, |o| {
            o["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"] = 9.into();
        })
    );
    let report = apply(support::request(&server, &support::example(), EPOCH + 60));
    let outcome = hco(&report);
    assert_eq!(outcome.outcome, Outcome::Configured, "{outcome:#?}");
    let stored = server
        .get(api_version, kind, namespace, name)
        .expect("stored");
    assert_eq!(
        stored["metadata"]["annotations"]["platform.kubevirt.io/ignore-fields"],
        "/spec/liveMigrationConfig/parallelMigrationsPerCluster"
    );
    assert!(stored["metadata"]["annotations"].get("team").is_none());
    assert_eq!(
        stored["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"],
        9
    );
}

/// An apply carries the gate's state: one write per corrected object. After a throttled run
/// the gate's own write (`plinth-gate`) owns that annotation; the next allowed apply takes it
/// back (a conflict over plinth's own annotation only is not a conflict), without
/// `--force-conflicts`.
#[test]
fn one_write_per_correction_and_the_gates_annotation_taken_back_after_a_throttle() {
    let server = server();
    apply(support::request(&server, &support::example(), EPOCH));
    let (api_version, kind, namespace, name) = HCO;
    let unlabel = || {
        assert!(
            server.edit_as("kubectl-label", api_version, kind, namespace, name, |o| {
                o["metadata"]["labels"] = serde_json::json!({});
            })
        );
    };
    let hco_writes = |from: usize| -> Vec<String> {
        server.writes()[from..]
            .iter()
            .filter(|w| w.stored() && w.request.path.ends_with(name))
            .map(|w| format!("{} {}", w.verb(), w.manager.as_deref().unwrap_or("")))
            .collect()
    };
    for i in 1..=4 {
        unlabel();
        let before = server.writes().len();
        let report = apply(request(&server, EPOCH + i * 60));
        assert_eq!(hco(&report).outcome, Outcome::Configured, "{report:#?}");
        assert_eq!(hco_writes(before), ["patch plinth"], "run {i}");
    }
    unlabel();
    let report = apply(request(&server, EPOCH + 300));
    assert_eq!(hco(&report).outcome, Outcome::Throttled, "{report:#?}");
    // An hour after the first apply a token is free again.
    let before = server.writes().len();
    let report = apply(request(&server, EPOCH + 3700));
    assert_eq!(hco(&report).outcome, Outcome::Configured, "{report:#?}");
    assert_eq!(hco_writes(before), ["patch plinth"]);
    let stored = server
        .get(api_version, kind, namespace, name)
        .expect("stored");
    let owners: Vec<&str> = stored["metadata"]["managedFields"]
        .as_array()
        .expect("managedFields")
        .iter()
        .filter(|e| {
            e.pointer("/fieldsV1/f:metadata/f:annotations/f:platform.kubevirt.io~1apply-history")
                .is_some()
        })
        .filter_map(|e| e["manager"].as_str())
        .collect();
    assert_eq!(owners, ["plinth"]);
}
