//! Adversarial tests of `plinth apply`, as its users and attackers use it: someone with edit
//! rights in the cluster crafting the `<prefix>/apply-history` annotation (garbage, numbers
//! at the ends of the range, thousands of times, times far in the future or the past) or
//! putting plinth's labels on a foreign object; a pull-request author rendering the gate's
//! own annotations or odd `apply.throttle` values; and a hostile API server answering `409`
//! with odd causes, `422` echoing secrets, or refusing Events. Each test names the behaviour
//! it proves: bounded, no panic, nothing written outside the index, no secret echoed.

mod support;

use serde_json::{Value, json};

use plinth_apply::gate::Bucket;
use plinth_apply::outcome::{ApplyReport, Outcome};
use plinth_apply::report::{self, Format};
use plinth_renderer::settings::Throttle;
use plinth_testkit::{FakeApiServer, Fault, FaultKind};

use support::{EPOCH, named, plinths, repo_with, stored, try_apply};

/// The annotation prefix of the example fleet's `plinth.yaml`.
const PREFIX: &str = "platform.kubevirt.io";
const NS: &str = "apps";
/// The longest `apply-history` value plinth writes under the default throttle (5 times).
const MAX_WRITTEN: usize = 12 + 21 * 5;

fn history_name() -> String {
    format!("{PREFIX}/apply-history")
}

/// A ConfigMap in [`NS`] with `data`.
fn config_map(name: &str, data: Value) -> Value {
    let mut object = json!({"apiVersion": "v1", "kind": "ConfigMap"});
    object["metadata"] = json!({"name": name, "namespace": NS});
    object["data"] = data;
    object
}

/// A repository rendering the ConfigMap `cm` (`mode: fast`) and a fake API server holding it
/// as plinth applied it, drifted (`mode: slow`).
fn drifted_cm() -> (tempfile::TempDir, FakeApiServer) {
    let repo = repo_with(&[(config_map("cm", json!({"mode": "fast"})), 0)]);
    let live = plinths(config_map("cm", json!({"mode": "slow"})));
    (repo, support::server_with(vec![live], |s| s))
}

/// The ConfigMap `cm` as the fake stores it.
fn stored_cm(server: &FakeApiServer) -> Value {
    server
        .get("v1", "ConfigMap", Some(NS), "cm")
        .expect("cm stored")
}

/// The fake answers the `PATCH`es of the ConfigMap `cm` with `code` and `body`: only the
/// `nth` one, else every one.
fn answer_patches(server: &FakeApiServer, code: u16, body: Value, nth: Option<u32>) {
    let fault = Fault::new(FaultKind::Body { code, body })
        .matching("/configmaps/cm")
        .verb("PATCH");
    server.inject(match nth {
        Some(n) => fault.nth(n),
        None => fault.times(u32::MAX),
    });
}

/// `value` with the annotation `name: text`.
fn annotated(mut value: Value, name: &str, text: &str) -> Value {
    value["metadata"]["annotations"][name] = text.into();
    value
}

fn apply(request: plinth_apply::run::ApplyRequest) -> ApplyReport {
    try_apply(request).expect("apply runs")
}

/// A `Status` answer: `code`, `reason`, `message` and the `details.causes`.
fn status(code: u16, reason: impl Into<String>, message: String, causes: Value) -> Value {
    let mut body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure"});
    body["code"] = code.into();
    body["reason"] = Value::String(reason.into());
    body["message"] = message.into();
    body["details"]["causes"] = causes;
    body
}

/// Asserts that the object `name` of `report` has `outcome`.
fn expect_outcome(report: &ApplyReport, name: &str, outcome: Outcome) {
    assert_eq!(named(report, name).outcome, outcome, "{report:#?}");
}

/// Every write the server received, as `METHOD path`.
fn all_writes(server: &FakeApiServer) -> Vec<String> {
    server
        .writes()
        .iter()
        .map(|w| format!("{} {}", w.request.method, w.request.path))
        .collect()
}

/// Every report format of `report`, concatenated.
fn every_format(report: &ApplyReport) -> String {
    [
        Format::Text,
        Format::Json,
        Format::Markdown,
        Format::Junit,
        Format::Prometheus,
        Format::Html,
    ]
    .into_iter()
    .map(|f| report::render(f, report))
    .collect::<Vec<_>>()
    .join("\n")
}

/// `(stored apply-history value, stored data.mode)` of the ConfigMap `name`.
fn stored_state(server: &FakeApiServer, name: &str) -> (Option<String>, Value) {
    let object = server
        .get("v1", "ConfigMap", Some(NS), name)
        .expect("stored");
    let history = object["metadata"]["annotations"][history_name()]
        .as_str()
        .map(str::to_owned);
    (history, object["data"]["mode"].clone())
}

// ---------------------------------------------------------------------------------------
// The gate's annotation, crafted by someone with edit rights in the cluster.

/// Crafted `apply-history` values: garbage, numbers at the ends of `i64` and `u32`, times far
/// in the past and the future, negative times, thousands of times, a huge value.
fn crafted_histories() -> Vec<(&'static str, String)> {
    let thousands = (0..2000)
        .map(|i| (EPOCH - 2000 + i).to_string())
        .collect::<Vec<_>>()
        .join(",");
    vec![
        ("garbage", "\u{0}\u{7f}<script>v1 t=".to_owned()),
        ("smallest time", format!("v1 t=0 {}", i64::MIN)),
        (
            "smallest times",
            format!("v1 t=0 {},{}", i64::MIN, i64::MIN + 1),
        ),
        ("largest time", format!("v1 t=0 {}", i64::MAX)),
        ("negative times", "v1 t=0 -3600,-5,-1".to_owned()),
        ("most runs", format!("v1 t={} {}", u32::MAX, EPOCH - 10)),
        ("too many runs", "v1 t=99999999999999999999".to_owned()),
        (
            "a time past i64",
            "v1 t=0 99999999999999999999999".to_owned(),
        ),
        ("thousands of times", format!("v1 t=0 {thousands}")),
        ("a huge value", format!("v1 t=0 {}", "1,".repeat(50_000))),
        ("a newer format", "v2 t=0 anything".to_owned()),
    ]
}

/// No crafted value makes the gate panic, and whatever it reads, what it writes back is a
/// valid value of at most `capacity` times: the annotation stays bounded.
#[test]
fn a_crafted_history_never_panics_the_gate_and_what_it_writes_is_bounded() {
    let settings = Throttle::default();
    for (what, value) in crafted_histories() {
        for now in [EPOCH, 0, i64::MAX / 2] {
            let (bucket, _) = Bucket::read_or_empty(Some(&value), &settings, PREFIX);
            let _ = bucket.decide(now);
            let _ = bucket.to_throttle(now);
            for written in [bucket.after_apply(now), bucket.after_throttle(now)] {
                assert!(written.len() <= MAX_WRITTEN, "{what}: {written}");
                Bucket::read(Some(&written), &settings, PREFIX)
                    .unwrap_or_else(|e| panic!("{what}: {written} does not read: {e}"));
            }
        }
    }
}

/// A time at the very start of `i64` is far in the past: it holds no token (the bucket is
/// full), instead of overflowing the age computation.
#[test]
fn a_history_time_at_the_start_of_the_range_holds_no_token() {
    let settings = Throttle::default();
    let bucket =
        Bucket::read(Some(&format!("v1 t=0 {}", i64::MIN)), &settings, PREFIX).expect("reads");
    assert_eq!(bucket.tokens(EPOCH), settings.capacity);
    assert_eq!(bucket.after_apply(EPOCH), format!("v1 t=0 {EPOCH}"));
}

/// `apply.throttle` at its edges: a window of `u32::MAX` minutes and `u32::MAX` applies
/// neither panic nor write an unbounded value.
#[test]
fn throttle_settings_at_the_edges_never_panic() {
    for (capacity, window_minutes, pause_after) in [
        (0, 0, 0),
        (u32::MAX, u32::MAX, u32::MAX),
        (1, u32::MAX, 1),
        (5, 0, 3),
    ] {
        let settings = Throttle {
            capacity,
            window_minutes,
            pause_after,
        };
        for (what, value) in crafted_histories() {
            let (bucket, _) = Bucket::read_or_empty(Some(&value), &settings, PREFIX);
            let _ = bucket.decide(EPOCH);
            let t = bucket.to_throttle(EPOCH);
            assert!(t.tokens <= capacity, "{what}");
            let _ = bucket.after_apply(EPOCH);
            let _ = bucket.after_throttle(EPOCH);
        }
    }
}

/// Against the fake, a drifted ConfigMap carrying each crafted history: every run finishes,
/// writes only the ConfigMap (and Events), and leaves a bounded, valid history.
#[test]
fn a_crafted_history_on_a_live_object_is_bounded_and_writes_only_the_object() {
    for (what, value) in crafted_histories() {
        let repo = repo_with(&[(config_map("cm", json!({"mode": "fast"})), 0)]);
        let live = plinths(annotated(
            config_map("cm", json!({"mode": "slow"})),
            &history_name(),
            &value,
        ));
        let server = support::server_with(vec![live], |s| s);
        let report = apply(support::request(&server, repo.path(), EPOCH));
        let cm = named(&report, "cm");
        assert!(
            matches!(
                cm.outcome,
                Outcome::Configured | Outcome::Throttled | Outcome::Paused
            ),
            "{what}: {report:#?}"
        );
        for write in all_writes(&server) {
            assert!(
                write.ends_with("/configmaps/cm") || write.contains("/events"),
                "{what}: {write}"
            );
        }
        let (history, _) = stored_state(&server, "cm");
        let history = history.unwrap_or_default();
        assert!(history.len() <= MAX_WRITTEN, "{what}: {history}");
        Bucket::read(Some(&history), &Throttle::default(), PREFIX)
            .unwrap_or_else(|e| panic!("{what}: {history}: {e}"));
        // The crafted value is never echoed whole in a report.
        if value.len() > 40 {
            assert!(!every_format(&report).contains(&value), "{what}");
        }
    }
}

/// A paused object stays paused whatever its history says (an empty bucket, a reset count):
/// nothing is written to it.
#[test]
fn a_crafted_history_never_unpauses_an_object() {
    for value in ["v1 t=0", "garbage", "v1 t=0 -1"] {
        let repo = repo_with(&[(config_map("cm", json!({"mode": "fast"})), 0)]);
        let live = plinths(annotated(
            annotated(
                config_map("cm", json!({"mode": "slow"})),
                &history_name(),
                value,
            ),
            &format!("{PREFIX}/reconcile-paused"),
            "true",
        ));
        let server = support::server_with(vec![live], |s| s);
        let report = apply(support::request(&server, repo.path(), EPOCH));
        expect_outcome(&report, "cm", Outcome::Paused);
        assert_eq!(all_writes(&server), Vec::<String>::new());
        assert_eq!(report.exit_code(), 1);
    }
}

// ---------------------------------------------------------------------------------------
// The gate's annotations, rendered by a pull-request author.

/// The recent applies that exhaust the default bucket at [`EPOCH`].
fn exhausted() -> String {
    let times: Vec<String> = (1..=5)
        .rev()
        .map(|i| (EPOCH - 60 * i).to_string())
        .collect();
    format!("v1 t=0 {}", times.join(","))
}

/// The run of a ConfigMap rendered with `<prefix>/apply-history: "v1 t=0"` (`mode: fast`)
/// whose live bucket is empty (`mode` as given).
fn rendered_history_run(mode: &str) -> (FakeApiServer, ApplyReport) {
    let rendered = annotated(
        config_map("cm", json!({"mode": "fast"})),
        &history_name(),
        "v1 t=0",
    );
    let repo = repo_with(&[(rendered, 0)]);
    let live = plinths(annotated(
        config_map("cm", json!({"mode": mode})),
        &history_name(),
        &exhausted(),
    ));
    let server = support::server_with(vec![live], |s| s);
    let report = apply(support::request(&server, repo.path(), EPOCH));
    (server, report)
}

/// A template that renders `<prefix>/apply-history: "v1 t=0"` cannot refill the bucket: the
/// object whose live bucket is empty is throttled, its rendered fields untouched, and plinth's
/// own apply never carries (nor owns) the history.
#[test]
fn a_rendered_history_annotation_never_refills_the_bucket() {
    let (server, report) = rendered_history_run("slow");
    expect_outcome(&report, "cm", Outcome::Throttled);
    let (history, mode) = stored_state(&server, "cm");
    assert_eq!(mode, "slow");
    assert!(
        history.as_deref().is_some_and(|h| h.starts_with("v1 t=1 ")),
        "{history:?}"
    );
    for w in server.writes() {
        if w.manager.as_deref() == Some("plinth") {
            assert!(!w.body.to_string().contains("apply-history"), "{}", w.body);
        }
    }
}

/// A template that renders `<prefix>/reconcile-paused: "false"` cannot unpause an object a
/// person (or plinth) paused: the live annotation wins, nothing is written.
#[test]
fn a_rendered_reconcile_paused_false_never_unpauses_an_object() {
    let paused = format!("{PREFIX}/reconcile-paused");
    let rendered = annotated(config_map("cm", json!({"mode": "fast"})), &paused, "false");
    let repo = repo_with(&[(rendered, 0)]);
    let live = plinths(annotated(
        config_map("cm", json!({"mode": "slow"})),
        &paused,
        "true",
    ));
    let server = support::server_with(vec![live], |s| s);
    let report = apply(support::request(&server, repo.path(), EPOCH));
    expect_outcome(&report, "cm", Outcome::Paused);
    assert_eq!(all_writes(&server), Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------
// plinth's labels on a foreign object.

fn foreign(name: &str, labels: &[(&str, &str)]) -> Value {
    let mut cm = config_map(name, json!({"owner": "someone else"}));
    for (k, v) in labels {
        cm["metadata"]["labels"][*k] = (*v).into();
    }
    cm
}

/// A foreign object someone labelled as plinth's is never deleted without `--prune`, and
/// with it only when all three labels name this cluster: partial or another cluster's
/// labels are not ownership.
#[test]
fn plinths_labels_on_a_foreign_object_are_pruned_only_with_prune_and_all_three() {
    let repo = repo_with(&[(config_map("kept", json!({"mode": "fast"})), 0)]);
    let all = [
        ("app.kubernetes.io/managed-by", "plinth"),
        ("plinth.dev/cluster", "plain-west"),
        ("plinth.dev/asset", "x"),
    ];
    let live = vec![
        plinths(config_map("kept", json!({"mode": "fast"}))),
        foreign("full", &all),
        foreign("partial", &all[..2]),
        foreign(
            "other-cluster",
            &[all[0], ("plinth.dev/cluster", "gpu-east"), all[2]],
        ),
    ];
    let server = support::server_with(live, |s| s);
    let report = apply(support::request(&server, repo.path(), EPOCH));
    assert_eq!(all_writes(&server), Vec::<String>::new(), "{report:#?}");
    assert_eq!(named(&report, "full").outcome, Outcome::Skipped);

    let mut pruning = support::request(&server, repo.path(), EPOCH + 60);
    pruning.prune = true;
    let report = apply(pruning);
    expect_outcome(&report, "full", Outcome::Pruned);
    let deletes: Vec<String> = all_writes(&server)
        .into_iter()
        .filter(|w| w.starts_with("DELETE"))
        .collect();
    assert_eq!(
        deletes,
        vec![format!("DELETE /api/v1/namespaces/{NS}/configmaps/full")]
    );
    for name in ["partial", "other-cluster", "kept"] {
        assert!(
            server.get("v1", "ConfigMap", Some(NS), name).is_some(),
            "{name}"
        );
    }
    assert!(report.objects.iter().all(|o| o.key.name != "other-cluster"));
    assert_eq!(named(&report, "partial").outcome, Outcome::Skipped);
}

// ---------------------------------------------------------------------------------------
// Secret-looking values someone added, and a hostile API server.

const ADDED_SECRET: &str = "postgres://app:AddedHunter2Passw0rd@db.apps.svc/app";
const TOKEN: &str = "ghp_Zq9xP4wT7mK2Zq9xP4wT7mK2Zq9xP4wT7mK2";

/// A drifted ConfigMap to which `kubectl annotate` added secret-looking annotations.
fn annotated_by_someone() -> (tempfile::TempDir, FakeApiServer) {
    let (repo, server) = drifted_cm();
    let object = stored_cm(&server);
    let mut edited = object.clone();
    edited["metadata"]["annotations"]["db-dsn"] = ADDED_SECRET.into();
    edited["metadata"]["annotations"]["api-token"] = TOKEN.into();
    server
        .apply_as("kubectl-annotate", &edited)
        .expect("annotated");
    (repo, server)
}

fn assert_no_secret(what: &str, text: &str) {
    for secret in [ADDED_SECRET, "AddedHunter2Passw0rd", TOKEN] {
        assert!(!text.contains(secret), "{what}: {secret} in {text}");
    }
}

/// Secret-looking annotations someone added are removed by the apply, and their values
/// appear in no report format and no Event.
#[test]
fn secret_looking_annotations_someone_added_are_in_no_report_or_event() {
    let (repo, server) = annotated_by_someone();
    let report = apply(support::request(&server, repo.path(), EPOCH));
    expect_outcome(&report, "cm", Outcome::Configured);
    assert_no_secret("reports", &every_format(&report));
    assert_no_secret(
        "events",
        &serde_json::to_string(&server.events()).expect("json"),
    );
    let stored = stored_cm(&server);
    assert!(
        stored["metadata"]["annotations"].get("api-token").is_none(),
        "{stored:#}"
    );
}

/// A JSON patch (the removal of what others added) answered `422` with a body echoing the
/// values it tested: the object is `failed` saying so, and no value is echoed.
#[test]
fn a_removal_answered_422_echoing_its_values_fails_without_echoing_them() {
    let (repo, server) = annotated_by_someone();
    let echo = status(
        422,
        "Invalid",
        format!("the test failed: value {ADDED_SECRET} {TOKEN}"),
        json!([{"field": "metadata.annotations.api-token",
            "message": format!("Invalid value: {TOKEN}")}]),
    );
    // The third PATCH of the ConfigMap: the dry-run, the apply, then the JSON patch.
    answer_patches(&server, 422, echo, Some(3));
    let report = apply(support::request(&server, repo.path(), EPOCH));
    let cm = named(&report, "cm");
    assert_eq!(cm.outcome, Outcome::Failed, "{report:#?}");
    let reason = cm.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("removing what others added"), "{reason}");
    assert_no_secret("reports", &every_format(&report));
    assert_no_secret(
        "events",
        &serde_json::to_string(&server.events()).expect("json"),
    );
    assert_eq!(report.exit_code(), 1);
}

/// The apply itself answered `422` (or `409`) with a body echoing secrets in its reason,
/// message and causes (field and manager): `failed` (or `conflict`), and nothing echoed.
#[test]
fn an_apply_answered_422_or_409_echoing_secrets_never_echoes_them() {
    for (code, outcome) in [(422, Outcome::Failed), (409, Outcome::Conflict)] {
        let (repo, server) = annotated_by_someone();
        let echo = status(
            code,
            format!("Invalid {TOKEN}"),
            format!("ConfigMap \"cm\" is invalid: {ADDED_SECRET}"),
            json!([{"type": "FieldManagerConflict", "field": format!(".data.dsn={ADDED_SECRET}"),
                "message": format!("conflict with \"{TOKEN}\" using v1")}]),
        );
        answer_patches(&server, code, echo, None);
        let mut request = support::request(&server, repo.path(), EPOCH);
        request.force_conflicts = false;
        let report = apply(request);
        expect_outcome(&report, "cm", outcome);
        assert_no_secret("reports", &every_format(&report));
        assert_eq!(report.exit_code(), 1);
    }
}

/// `409` answers with odd causes (none, no field, no manager, newlines and a huge list) are
/// a `conflict` or `failed` outcome, never a panic; no report line is broken by them.
#[test]
fn a_409_with_odd_causes_is_reported_without_breaking_a_line() {
    let huge: Vec<Value> = (0..5000)
        .map(|i| {
            json!({"type": "FieldManagerConflict", "field": format!(".data.k{i}"),
            "message": "conflict with \"x\""})
        })
        .collect();
    let bodies = [
        json!({"kind": "Status", "code": 409, "reason": "Conflict"}),
        json!({"kind": "Status", "code": 409, "reason": "Conflict",
            "details": {"causes": [{"type": "FieldManagerConflict"}]}}),
        json!({"kind": "Status", "code": 409, "reason": "Conflict\nforged line",
            "details": {"causes": [{"field": ".data.mode\nforged line",
                "message": "conflict with \"evil\nforged line\""}]}}),
        json!({"kind": "Status", "code": 409, "details": {"causes": huge}}),
        json!("not a status"),
    ];
    for body in bodies {
        let (repo, server) = drifted_cm();
        answer_patches(&server, 409, body.clone(), None);
        let mut request = support::request(&server, repo.path(), EPOCH);
        request.force_conflicts = false;
        let report = apply(request);
        let cm = named(&report, "cm");
        assert!(
            matches!(cm.outcome, Outcome::Conflict | Outcome::Failed),
            "{body}: {report:#?}"
        );
        assert_eq!(report.exit_code(), 1);
        let text = report::render(Format::Text, &report);
        assert!(
            text.lines().all(|l| !l.starts_with("forged line")),
            "{text}"
        );
        let stored_cm = stored(&server, cm).expect("cm");
        assert_eq!(stored_cm["data"]["mode"], "slow");
    }
}

/// Events the server refuses (`403`, `422`, `500` after retries) leave the applied object
/// reported as applied, with a note; the run finishes with exit code 0.
#[test]
fn refused_events_leave_applied_objects_reported_applied_with_a_note() {
    for code in [403, 422, 500] {
        let (repo, server) = drifted_cm();
        server.inject(
            Fault::new(if code == 500 {
                FaultKind::ServerError(500)
            } else {
                FaultKind::ClientError(code)
            })
            .matching("/events")
            .verb("POST")
            .times(u32::MAX),
        );
        let report = apply(support::request(&server, repo.path(), EPOCH));
        let cm = named(&report, "cm");
        assert_eq!(cm.outcome, Outcome::Configured, "{code}: {report:#?}");
        assert!(
            cm.notes
                .iter()
                .any(|n| n.contains("Event could not be emitted")),
            "{code}: {cm:#?}"
        );
        assert_eq!(report.exit_code(), 0);
        let (_, mode) = stored_state(&server, "cm");
        assert_eq!(mode, "fast");
    }
}

/// Names that would change a request's path, rendered by a pull-request author, are never
/// sent: no write goes anywhere but the rendered, valid objects and Events.
#[test]
fn names_that_would_change_a_request_path_are_never_sent() {
    let odd = [
        "../secrets",
        "a%2Fb",
        "x?dryRun=All",
        "y#frag",
        "with space",
    ];
    let mut rendered: Vec<(Value, i64)> = odd
        .iter()
        .map(|name| (config_map(name, json!({"mode": "fast"})), 0))
        .collect();
    let mut in_bad_namespace = config_map("cm", json!({"mode": "fast"}));
    in_bad_namespace["metadata"]["namespace"] = "apps/configmaps".into();
    rendered.push((in_bad_namespace, 0));
    rendered.push((config_map("good", json!({"mode": "fast"})), 0));
    let repo = repo_with(&rendered);
    let server = support::server_with(Vec::new(), |s| s);
    let result = try_apply(support::request(&server, repo.path(), EPOCH));
    for write in all_writes(&server) {
        assert!(
            write.ends_with("/namespaces/apps/configmaps/good")
                || write.contains("/namespaces/apps/events"),
            "{write}"
        );
    }
    if let Ok(report) = result {
        for o in &report.objects {
            if o.key.name != "good" {
                assert!(
                    !matches!(o.outcome, Outcome::Created | Outcome::Configured),
                    "{report:#?}"
                );
            }
        }
    }
}

/// An `ignore-fields` override someone with edit rights put on the live object that names the
/// object's identity (`/metadata/namespace`, `/metadata/name`, `/kind`, `/apiVersion`) never
/// sends a write anywhere but the object's own path (and its Events).
#[test]
fn an_ignore_fields_override_naming_the_identity_never_moves_a_write() {
    for pointer in [
        "/metadata/namespace",
        "/metadata/name",
        "/kind",
        "/apiVersion",
        "/metadata",
    ] {
        let repo = repo_with(&[(config_map("cm", json!({"mode": "fast"})), 0)]);
        let live = plinths(annotated(
            config_map("cm", json!({"mode": "slow"})),
            &format!("{PREFIX}/ignore-fields"),
            pointer,
        ));
        let server = support::server_with(vec![live], |s| s);
        let result = try_apply(support::request(&server, repo.path(), EPOCH));
        for write in all_writes(&server) {
            assert!(
                write.ends_with(&format!("/namespaces/{NS}/configmaps/cm"))
                    || write.contains(&format!("/namespaces/{NS}/events")),
                "{pointer}: {write}"
            );
        }
        let report = result.unwrap_or_else(|e| panic!("{pointer}: {e}"));
        assert!(!report.objects.is_empty(), "{pointer}");
    }
}

/// A label with a secret-looking value and an annotation whose key holds a token, added by
/// someone: neither value nor token appears in a report or an Event.
#[test]
fn a_secret_looking_label_or_annotation_key_is_in_no_report_or_event() {
    const AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
    let (repo, server) = drifted_cm();
    let mut edited = stored_cm(&server);
    edited["metadata"]["labels"]["aws-key"] = AWS_KEY.into();
    edited["metadata"]["annotations"]["password"] = "Zq9xP4wT7mK2vB3nR8jL5".into();
    server.apply_as("kubectl-label", &edited).expect("labelled");
    let report = apply(support::request(&server, repo.path(), EPOCH));
    expect_outcome(&report, "cm", Outcome::Configured);
    let all = every_format(&report) + &serde_json::to_string(&server.events()).expect("json");
    for secret in [AWS_KEY, "Zq9xP4wT7mK2vB3nR8jL5"] {
        assert!(!all.contains(secret), "{secret} in {all}");
    }
}

// ---------------------------------------------------------------------------------------
// Maintenance windows at the edges, as a pull-request author may write them.

/// The windows `schedule`/`duration`/`zone` parse to, or the error.
fn window(
    schedule: &str,
    duration: &str,
    zone: Option<&str>,
) -> Result<Vec<plinth_apply::window::Window>, plinth_apply::window::WindowError> {
    let spec = plinth_renderer::settings::MaintenanceWindow {
        schedule: schedule.to_owned(),
        duration: duration.to_owned(),
        time_zone: zone.map(str::to_owned),
    };
    plinth_apply::window::parse(
        &[spec],
        plinth_apply::window::Origin {
            file: "plinth.yaml",
            field: "apply.maintenanceWindows",
        },
    )
}

/// The verdict at `now`, which must take well under a second or two.
fn timed_verdict(
    windows: &[plinth_apply::window::Window],
    now: i64,
    what: &str,
) -> plinth_apply::window::Verdict {
    let start = std::time::Instant::now();
    let verdict = plinth_apply::window::verdict(windows, now);
    assert!(
        start.elapsed() < std::time::Duration::from_secs(3),
        "{what} at {now}: {:?}",
        start.elapsed()
    );
    verdict
}

/// Schedules at the edges (every minute, a week long, a day that never comes, a leap day,
/// steps of 0, reversed ranges, huge numbers), odd zones (45-minute offsets, half-hour DST,
/// a day skipped) and clocks at the ends of the range: each parses or is refused naming the
/// field, and no verdict panics or takes long.
#[test]
fn maintenance_windows_at_the_edges_never_panic_nor_hang() {
    use plinth_apply::window::Verdict;
    let always_open = [
        ("* * * * *", "1m"),
        ("0 0 * * *", "168h"),
        ("0 0 * * 0-7", "24h"),
        ("*/1 * * * *", "10080m"),
    ];
    for (schedule, duration) in always_open {
        let w = window(schedule, duration, None).expect(schedule);
        for now in [EPOCH, EPOCH + 30, EPOCH + 86_399] {
            assert_eq!(
                timed_verdict(&w, now, schedule),
                Verdict::Open,
                "{schedule} {duration}"
            );
        }
    }
    let leap = window("0 0 29 2 *", "1h", None).expect("leap day");
    match timed_verdict(&leap, EPOCH, "leap day") {
        Verdict::Closed { next: Some(next) } => {
            assert_eq!(next.at, 1_835_395_200, "2028-02-29T00:00:00Z: {next:?}");
        }
        other => panic!("leap day: {other:?}"),
    }
    for schedule in ["0 0 31 2 *", "0 0 30 2 *", "0 0 31 4,6,9,11 *"] {
        if let Ok(w) = window(schedule, "1h", None) {
            assert!(
                matches!(
                    timed_verdict(&w, EPOCH, schedule),
                    Verdict::Closed { next: None }
                ),
                "{schedule}"
            );
        }
    }
    for (schedule, duration, field) in [
        ("*/0 * * * *", "1h", "schedule"),
        ("99999999999999999999 * * * *", "1h", "schedule"),
        ("0 0 * * *", "169h", "duration"),
        ("0 0 * * *", "99999999999999999999h", "duration"),
        ("0 0 * * *", "-1h", "duration"),
        ("0 0 * * *", "1m1h", "duration"),
    ] {
        match window(schedule, duration, None) {
            Err(e) => assert!(e.path.ends_with(field), "{schedule} {duration}: {e}"),
            Ok(w) => {
                let _ = timed_verdict(&w, EPOCH, schedule);
            }
        }
    }
    if let Ok(w) = window("59-0 * * * *", "1h", None) {
        let _ = timed_verdict(&w, EPOCH, "reversed range");
    }
    for zone in ["", "../../../etc/passwd", "/etc/localtime", "Mars/Olympus"] {
        let e = window("0 2 * * *", "1h", Some(zone)).expect_err(zone);
        assert!(e.path.ends_with("timeZone"), "{zone}: {e}");
    }
    for zone in [
        "Asia/Kathmandu",
        "Australia/Lord_Howe",
        "Pacific/Chatham",
        "America/St_Johns",
        "Etc/GMT+12",
        "Pacific/Kiritimati",
        "Pacific/Apia",
        "Antarctica/Troll",
    ] {
        let w = window("30 2 * * *", "30m", Some(zone)).expect(zone);
        for now in [
            EPOCH,
            1_325_152_800,
            0,
            -1,
            i64::MIN,
            i64::MAX,
            253_402_300_799,
        ] {
            match timed_verdict(&w, now, zone) {
                Verdict::Closed { next: Some(next) } => {
                    assert!(next.at > now, "{zone} at {now}: {next:?}");
                    assert!(next.at - now <= 2 * 86_400, "{zone} at {now}: {next:?}");
                }
                Verdict::Open | Verdict::Closed { next: None } | Verdict::NoWindows => {}
            }
        }
    }
}

/// A field manager name someone chose (a newline and a forged report line in it, a
/// secret-looking token, 4 KiB long) that wrote a drifted field: no line of the plan's text
/// report is forged and the token appears in no format.
#[test]
fn a_crafted_field_manager_name_forges_no_report_line() {
    let managers = [
        "kubectl\nconfigured ConfigMap/apps/forged".to_owned(),
        format!("kubectl-{TOKEN}"),
        format!("kubectl-{}", "x".repeat(4096)),
    ];
    for manager in managers {
        let repo = repo_with(&[(config_map("cm", json!({"mode": "fast"})), 0)]);
        let server = support::server_with(
            vec![plinths(config_map("cm", json!({"mode": "fast"})))],
            |s| s,
        );
        assert!(
            server.edit_as(&manager, "v1", "ConfigMap", Some(NS), "cm", |o| {
                o["data"]["mode"] = "slow".into();
            })
        );
        let mut dry = support::request(&server, repo.path(), EPOCH);
        dry.dry_run = true;
        let report = apply(dry);
        let text = report::render(Format::Text, &report);
        assert!(
            !text
                .lines()
                .any(|l| l.starts_with("configured ConfigMap/apps/forged")),
            "{text}"
        );
        let all = every_format(&report);
        assert!(!all.contains(TOKEN), "{all}");
    }
}

/// Labels and annotations someone added whose keys need escaping in a JSON pointer (`/`,
/// `~`) are removed by the apply, and the run after writes nothing.
#[test]
fn added_keys_with_slashes_and_tildes_are_removed_and_the_next_run_writes_nothing() {
    let (repo, server) = drifted_cm();
    let mut edited = stored_cm(&server);
    edited["metadata"]["labels"]["example.com/team"] = "a".into();
    edited["metadata"]["annotations"]["example.com/a~b"] = "b".into();
    edited["metadata"]["annotations"]["x~1y"] = "c".into();
    edited["data"]["k/~0"] = "d".into();
    server.apply_as("kubectl-edit", &edited).expect("edited");
    let report = apply(support::request(&server, repo.path(), EPOCH));
    expect_outcome(&report, "cm", Outcome::Configured);
    let now = stored_cm(&server);
    assert!(
        now["metadata"]["labels"].get("example.com/team").is_none(),
        "{now:#}"
    );
    let annotations = now["metadata"]["annotations"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert!(!annotations.contains_key("example.com/a~b"), "{now:#}");
    assert!(!annotations.contains_key("x~1y"), "{now:#}");
    assert!(now["data"].get("k/~0").is_none(), "{now:#}");
    server.clear_writes();
    let again = apply(support::request(&server, repo.path(), EPOCH + 60));
    expect_outcome(&again, "cm", Outcome::Unchanged);
    assert_eq!(all_writes(&server), Vec::<String>::new());
}

/// A run's clock at the ends of the range (a `SOURCE_DATE_EPOCH` of `i64::MIN` or
/// `i64::MAX`, 0, before 1970), with a crafted history and a maintenance window: no panic.
#[test]
fn clocks_at_the_ends_of_the_range_never_panic() {
    for now in [i64::MIN, -1, 0, i64::MAX] {
        let repo = repo_with(&[(config_map("cm", json!({"mode": "fast"})), 0)]);
        let live = plinths(annotated(
            config_map("cm", json!({"mode": "slow"})),
            &history_name(),
            &format!("v1 t=1 {},{}", i64::MIN, i64::MAX),
        ));
        let server = support::server_with(vec![live], |s| s);
        let report = apply(support::request(&server, repo.path(), now));
        let _ = every_format(&report);
        assert!(!report.objects.is_empty());
    }
}

/// A run that would pause an object (its third throttled run) but whose write of the pause
/// the server refuses does not report the object `paused` — the annotation is not there, and
/// no `ThrashingDetected` was emitted — but `failed`, saying so; exit 1.
#[test]
fn a_pause_the_server_refused_is_not_reported_paused() {
    let repo = repo_with(&[(config_map("cm", json!({"mode": "fast"})), 0)]);
    let history = exhausted().replacen("t=0", "t=2", 1);
    let live = plinths(annotated(
        config_map("cm", json!({"mode": "slow"})),
        &history_name(),
        &history,
    ));
    let server = support::server_with(vec![live], |s| s);
    // The first PATCH is the forced dry-run that confirms the change; the second writes the
    // gate's annotations (the pause).
    server.inject(
        Fault::new(FaultKind::ClientError(403))
            .matching("/configmaps/cm")
            .verb("PATCH")
            .nth(2),
    );
    let report = apply(support::request(&server, repo.path(), EPOCH));
    let cm = named(&report, "cm");
    let stored_cm = stored_cm(&server);
    assert!(
        stored_cm["metadata"]["annotations"]
            .get(format!("{PREFIX}/reconcile-paused"))
            .is_none(),
        "{stored_cm:#}"
    );
    assert_eq!(server.events().len(), 0);
    assert_eq!(cm.outcome, Outcome::Failed, "{cm:#?}");
    assert!(
        cm.reason
            .as_deref()
            .unwrap_or_default()
            .contains("could not be written"),
        "{cm:#?}"
    );
    assert!(
        cm.notes
            .iter()
            .all(|n| !n.starts_with("sets `") && !n.contains("ThrashingDetected")),
        "{cm:#?}"
    );
    assert_eq!(report.exit_code(), 1);
}

/// A template that renders the gate's own `<prefix>/apply-history` on an object that is
/// otherwise in sync: the rendered value is not a difference (the gate owns the annotation),
/// so the object is `unchanged` and the run sends nothing at all, not even a dry-run.
#[test]
fn a_rendered_history_annotation_on_an_object_in_sync_costs_no_request() {
    let (server, report) = rendered_history_run("fast");
    expect_outcome(&report, "cm", Outcome::Unchanged);
    assert_eq!(all_writes(&server), Vec::<String>::new(), "{report:#?}");
}
