//! `plinth apply`'s lifecycle paths run end to end through the real kube-rs client against the
//! fake API server, each proven by what the fake stores, its write log and its Events: a kind
//! whose CRD is not served (skipped, one standing `CRDMissing` Event), a CRD applied in an
//! earlier wave and waited for (or not served in time), an immutable field refused and, with
//! `--recreate`, the object deleted and created again, the Events of real runs (valid,
//! about the right object, no secret in any note), and adoption only with `--adopt`.

mod support;

use serde_json::{Value, json};

use plinth_apply::outcome::{ApplyReport, ObjectOutcome, Outcome};
use plinth_apply::run::ApplyRequest;
use plinth_testkit::{FakeApiServer, Fault, FaultKind, Scenario};

use support::{EPOCH, named, plinths, repo_with, stored, try_apply};

/// The namespace of the namespaced test objects.
const NS: &str = "apps";
/// The annotation prefix of the example fleet's `plinth.yaml`.
const PREFIX: &str = "platform.kubevirt.io";

/// An apply of `repo`'s `plain-west` against `server` at `now` (`--force-conflicts`, as
/// [`support::request`]).
fn request(server: &FakeApiServer, repo: &tempfile::TempDir, now: i64) -> ApplyRequest {
    support::request(server, repo.path(), now)
}

fn apply(request: ApplyRequest) -> ApplyReport {
    try_apply(request).expect("apply runs")
}

/// The object `name` of `report`, checked to have `outcome` and a reason naming each of
/// `words`.
fn expect<'a>(
    report: &'a ApplyReport,
    name: &str,
    outcome: Outcome,
    words: &[&str],
) -> &'a ObjectOutcome {
    let o = named(report, name);
    assert_eq!(o.outcome, outcome, "{name}: {report:#?}");
    let reason = o.reason.as_deref().unwrap_or_default();
    for word in words {
        assert!(reason.contains(word), "{name}: `{word}` not in {reason}");
    }
    o
}

/// Every write the server received (dry runs and refused ones included), as
/// `METHOD path` with ` (dry run)` for dry runs.
fn all_writes(server: &FakeApiServer) -> Vec<String> {
    server
        .writes()
        .iter()
        .map(|w| {
            let dry = if w.dry_run { " (dry run)" } else { "" };
            format!("{} {}{dry}", w.request.method, w.request.path)
        })
        .collect()
}

/// The writes whose path contains `part`.
fn writes_to(server: &FakeApiServer, part: &str) -> Vec<String> {
    all_writes(server)
        .into_iter()
        .filter(|w| w.contains(part))
        .collect()
}

/// A ConfigMap in [`NS`] with `data`.
fn config_map(name: &str, data: Value) -> Value {
    let mut value = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": NS}});
    value["data"] = data;
    value
}

/// `value` with the annotation `<prefix>/<name>: text`.
fn annotated(mut value: Value, name: &str, text: &str) -> Value {
    value["metadata"]["annotations"][format!("{PREFIX}/{name}")] = text.into();
    value
}

/// The Events the server stores with `reason`.
fn events_of(server: &FakeApiServer, reason: &str) -> Vec<Value> {
    server
        .events()
        .into_iter()
        .filter(|e| e["reason"] == reason)
        .collect()
}

/// The only stored Event with `reason`.
fn event_of(server: &FakeApiServer, reason: &str) -> Value {
    let mut found = events_of(server, reason);
    assert_eq!(found.len(), 1, "{reason}: {found:#?}");
    found.remove(0)
}

/// Every Event `POST` the server received was accepted (`201`): the fake validates them as
/// the real server does and answers `422` to an invalid one.
fn assert_events_accepted(server: &FakeApiServer) {
    let refused: Vec<String> = server
        .writes()
        .iter()
        .filter(|w| w.request.method == "POST" && w.request.status != 201)
        .map(|w| format!("{} {} {}", w.request.status, w.request.path, w.body))
        .collect();
    assert_eq!(refused, Vec::<String>::new());
}

/// The `uid` and `resourceVersion` of a stored object.
fn identity(object: &Value) -> (Value, Value) {
    (
        object["metadata"]["uid"].clone(),
        object["metadata"]["resourceVersion"].clone(),
    )
}

/// A custom resource of a kind the cluster does not serve (no CRD installed, none rendered)
/// is skipped with a `CRDMissing` reason, never written, and one valid `CRDMissing` Event is
/// posted in its namespace; a second run finds that Event (a standing problem is looked up
/// first) and writes nothing at all.
#[test]
fn a_kind_whose_crd_is_not_served_is_skipped_with_one_crd_missing_event() {
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1", "namespace": NS}, "spec": {"size": 1}});
    let repo = repo_with(&[(widget, 0)]);
    let server = support::server_with(Vec::new(), |s| s);
    let first = apply(request(&server, &repo, EPOCH));
    expect(
        &first,
        "w1",
        Outcome::Skipped,
        &["does not serve `example.com/v1`", "CRD not installed"],
    );
    assert_eq!(writes_to(&server, "widgets"), Vec::<String>::new());
    assert_eq!(
        all_writes(&server),
        [format!(
            "POST /apis/events.k8s.io/v1/namespaces/{NS}/events"
        )]
    );
    assert_events_accepted(&server);
    let event = event_of(&server, "CRDMissing");
    assert_eq!(event["type"], "Warning");
    assert_eq!(event["action"], "Skip");
    assert_eq!(event["metadata"]["namespace"], NS);
    assert_eq!(
        event["regarding"],
        json!({"apiVersion": "example.com/v1", "kind": "Widget", "namespace": NS, "name": "w1"})
    );
    assert_eq!(first.exit_code(), 0, "a skip leaves nothing unapplied");

    server.clear_writes();
    let second = apply(request(&server, &repo, EPOCH + 60));
    assert_eq!(named(&second, "w1").outcome, Outcome::Skipped);
    assert_eq!(all_writes(&server), Vec::<String>::new());
    assert_eq!(events_of(&server, "CRDMissing").len(), 1);
}

/// The CRD of `Widget` (`widgets.example.com`, namespaced, `v1` served).
fn widget_crd() -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.com"},
        "spec": {"group": "example.com", "scope": "Namespaced",
            "names": {"kind": "Widget", "listKind": "WidgetList", "plural": "widgets",
                "singular": "widget"},
            "versions": [{"name": "v1", "served": true, "storage": true,
                "schema": {"openAPIV3Schema": {"type": "object",
                    "x-kubernetes-preserve-unknown-fields": true}}}]}})
}

/// A repository rendering the Widget CRD in wave 0 and a Widget in wave 1, and a server that
/// serves CRDs (none stored) and a new CRD's kinds only `after` requests after it is created.
fn crd_and_widget(after: u32) -> (tempfile::TempDir, FakeApiServer) {
    let widget = json!({"apiVersion": "example.com/v1", "kind": "Widget",
        "metadata": {"name": "w1", "namespace": NS}, "spec": {"size": 1}});
    let repo = repo_with(&[(widget_crd(), 0), (widget, 1)]);
    let server = support::server_with(Vec::new(), |s: Scenario| {
        s.serve("apiextensions.k8s.io/v1", "CustomResourceDefinition", false)
            .crd_established_after(after)
            .serve_events()
    });
    (repo, server)
}

/// A CRD rendered in an earlier wave is applied first and waited for: its custom resource is
/// created only once the cluster serves the kind (a few requests after the CRD was created),
/// with no `CRDMissing` Event.
#[test]
fn a_custom_resource_waits_for_the_crd_an_earlier_wave_applies() {
    let (repo, server) = crd_and_widget(3);
    let mut r = request(&server, &repo, EPOCH);
    r.crd_wait = std::time::Duration::from_secs(5);
    let report = apply(r);
    assert_eq!(
        named(&report, "widgets.example.com").outcome,
        Outcome::Created,
        "{report:#?}"
    );
    let w = named(&report, "w1");
    assert_eq!(w.outcome, Outcome::Created, "{report:#?}");
    let stored_widget = stored(&server, w).expect("the Widget is stored");
    assert_eq!(stored_widget["spec"]["size"], 1);
    // The CRD's apply comes before the Widget's, and the Widget's was accepted at once.
    let applies: Vec<String> = server
        .writes()
        .iter()
        .filter(|w| w.manager.as_deref() == Some("plinth") && !w.dry_run)
        .map(|w| format!("{} {}", w.request.status, w.request.path))
        .collect();
    assert_eq!(
        applies,
        [
            "201 /apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com"
                .to_owned(),
            format!("201 /apis/example.com/v1/namespaces/{NS}/widgets/w1"),
        ]
    );
    // It waited: discovery did not serve the kind at first, then did, before the Widget's
    // apply.
    let log = server.request_log();
    let discovery = |status: u16| {
        log.iter()
            .position(|r| r.path == "/apis/example.com/v1" && r.status == status)
            .unwrap_or(usize::MAX)
    };
    let widget_apply = log
        .iter()
        .position(|r| r.method == "PATCH" && r.path.contains("/widgets/"))
        .expect("the Widget's apply");
    assert!(
        discovery(404) < discovery(200) && discovery(200) < widget_apply,
        "{}",
        plinth_testkit::describe(&log)
    );
    assert_eq!(events_of(&server, "CRDMissing"), Vec::<Value>::new());
    assert_eq!(report.exit_code(), 0);
}

/// When the cluster does not serve the kind within `crd_wait`, the custom resource is skipped
/// (the reason names the kind and the wait) and nothing is written for it; the CRD is still
/// reported `created`, as the server accepted it.
#[test]
fn a_custom_resource_whose_crd_is_not_served_in_time_is_skipped() {
    let (repo, server) = crd_and_widget(u32::MAX);
    let mut r = request(&server, &repo, EPOCH);
    r.crd_wait = std::time::Duration::from_millis(300);
    let report = apply(r);
    let crd = named(&report, "widgets.example.com");
    assert_eq!(crd.outcome, Outcome::Created, "{report:#?}");
    assert!(stored(&server, crd).is_some());
    let w = expect(&report, "w1", Outcome::Skipped, &["`Widget`", "300ms"]);
    assert!(
        !w.notes.iter().any(|n| n.contains("is served")),
        "no longer waiting: {w:#?}"
    );
    assert_eq!(writes_to(&server, "widgets/"), Vec::<String>::new());
    assert_eq!(writes_to(&server, "example.com/v1"), Vec::<String>::new());
    assert!(stored(&server, w).is_none());
    // A `CRDMissing` Event about the custom resource, as for a kind never served.
    let events = server.events();
    let missing: Vec<&Value> = events
        .iter()
        .filter(|e| e["reason"] == "CRDMissing")
        .collect();
    assert_eq!(missing.len(), 1, "{events:#?}");
    assert_eq!(missing[0]["regarding"]["name"], "w1");
    assert_eq!(missing[0]["regarding"]["kind"], "Widget");
}

/// The Deployment `web` in [`NS`] with `app` as its selector.
fn deployment(app: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}}}})
}

/// A repository rendering the Deployment with selector `app: web` and a server holding it,
/// plinth's, with `app: web-old` (`spec.selector` is immutable: the fake answers `422`).
fn immutable_selector() -> (tempfile::TempDir, FakeApiServer) {
    let repo = repo_with(&[(deployment("web"), 0)]);
    let server = support::server_with(vec![plinths(deployment("web-old"))], |s| {
        s.immutable_fields("Deployment", &["spec.selector"])
    });
    (repo, server)
}

/// An apply with `--recreate` (and `--dry-run` when `dry_run`), checked to leave the
/// Deployment with `outcome` and exactly `notes`.
fn recreating(
    server: &FakeApiServer,
    repo: &tempfile::TempDir,
    dry_run: bool,
    (outcome, notes): (Outcome, &[&str]),
) -> ApplyReport {
    let mut r = request(server, repo, EPOCH);
    r.recreate = true;
    r.dry_run = dry_run;
    let report = apply(r);
    let web = expect(&report, "web", outcome, &[]);
    assert_eq!(web.notes, notes, "{web:#?}");
    report
}

fn stored_web(server: &FakeApiServer) -> Value {
    server
        .get("apps/v1", "Deployment", Some(NS), "web")
        .expect("the Deployment is stored")
}

/// An apply refused for an immutable field is reported `failed`, naming the field and
/// `--recreate`; nothing is deleted and the object is left as it was.
#[test]
fn an_immutable_field_is_reported_and_nothing_deleted_without_recreate() {
    let (repo, server) = immutable_selector();
    let before = stored_web(&server);
    let report = apply(request(&server, &repo, EPOCH));
    expect(
        &report,
        "web",
        Outcome::Failed,
        &["spec.selector", "--recreate"],
    );
    let deletes: Vec<String> = all_writes(&server)
        .into_iter()
        .filter(|w| w.starts_with("DELETE"))
        .collect();
    assert_eq!(deletes, Vec::<String>::new());
    assert_eq!(stored_web(&server), before);
    assert_eq!(report.exit_code(), 1);
}

/// With `--recreate`, an object whose apply an immutable field refused is deleted (only while
/// it is the object read: a `uid` precondition) and created again: a new `uid`, the rendered
/// selector, outcome `created` (the server's answer to the second apply) with a note saying
/// why.
#[test]
fn with_recreate_an_immutable_field_deletes_and_creates_the_object_again() {
    let (repo, server) = immutable_selector();
    let (old_uid, _) = identity(&stored_web(&server));
    let report = recreating(
        &server,
        &repo,
        false,
        (
            Outcome::Created,
            &["deleted and created again: immutable spec.selector"],
        ),
    );
    let now = stored_web(&server);
    assert_ne!(now["metadata"]["uid"], old_uid);
    assert_eq!(
        now.pointer("/spec/selector/matchLabels/app"),
        Some(&json!("web"))
    );
    let deletes: Vec<Value> = server
        .writes()
        .into_iter()
        .filter(|w| w.request.method == "DELETE")
        .map(|w| w.body)
        .collect();
    assert_eq!(deletes.len(), 1, "{deletes:#?}");
    assert_eq!(deletes[0]["preconditions"]["uid"], old_uid, "{deletes:#?}");
    // `DriftCorrected` is about the object as it is now, not the one deleted.
    let corrected = event_of(&server, "DriftCorrected");
    assert_eq!(
        corrected["regarding"]["uid"], now["metadata"]["uid"],
        "{corrected:#}"
    );
    assert_eq!(report.exit_code(), 0);
}

/// `--dry-run --recreate` writes nothing (dry-runs only) and says the object would be
/// deleted and created again.
#[test]
fn a_dry_run_with_recreate_says_what_it_would_recreate_and_writes_nothing() {
    let (repo, server) = immutable_selector();
    let before = stored_web(&server);
    recreating(
        &server,
        &repo,
        true,
        (
            Outcome::Configured,
            &["would be deleted and created again: immutable spec.selector"],
        ),
    );
    assert_eq!(
        all_writes(&server),
        [format!(
            "PATCH /apis/apps/v1/namespaces/{NS}/deployments/web (dry run)"
        )]
    );
    assert_eq!(stored_web(&server), before);
}

/// With `--recreate`, a delete the server refuses leaves the object `failed` (the reason
/// names the refusal), never reported applied, and as it was.
#[test]
fn with_recreate_a_refused_delete_leaves_the_object_failed() {
    let (repo, server) = immutable_selector();
    let before = stored_web(&server);
    server.inject(
        Fault::new(FaultKind::ClientError(403))
            .matching("/deployments/web")
            .verb("DELETE"),
    );
    let report = recreating(&server, &repo, false, (Outcome::Failed, &[]));
    expect(&report, "web", Outcome::Failed, &["403"]);
    assert_eq!(stored_web(&server), before);
    assert_eq!(events_of(&server, "DriftCorrected"), Vec::<Value>::new());
    assert_eq!(report.exit_code(), 1);
}

/// With `--recreate`, when the object was deleted but its second apply fails, it is reported
/// `failed` — never `created` — and its note says it was deleted and not created again.
#[test]
fn with_recreate_a_failed_create_after_the_delete_is_reported_failed() {
    let (repo, server) = immutable_selector();
    // The dry-run and the apply are refused for the selector; the third apply (after the
    // delete) is refused too.
    server.inject(
        Fault::new(FaultKind::ClientError(403))
            .matching("/deployments/web")
            .verb("PATCH")
            .every(3)
            .times(1),
    );
    recreating(
        &server,
        &repo,
        false,
        (
            Outcome::Failed,
            &["deleted, but not created again: immutable spec.selector"],
        ),
    );
    assert!(
        server
            .get("apps/v1", "Deployment", Some(NS), "web")
            .is_none()
    );
}

/// A secret-shaped value: a connection string with a password.
const LIVE_DSN: &str = "postgres://app:LiveHunter2Passw0rd@db.apps.svc:5432/app";
const RENDERED_DSN: &str = "postgres://app:RenderedS3cretPassw0rd@db.apps.svc:5432/app";
const LIVE_PASSWORD: &str = "live-Zq9xP4wT7mK2";
const RENDERED_PASSWORD: &str = "rendered-Xy7vB3nR8jL5";

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn secret(password: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
        "metadata": {"name": "creds", "namespace": NS},
        "data": {"password": b64(password)}})
}

fn team_namespace() -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}})
}

/// What [`events_of_real_runs`] renders and what the cluster holds: a drifted ConfigMap and
/// Secret (secret-shaped values in the drifted fields), a cluster-scoped Namespace whose live
/// `patch` override is refused (it touches `/metadata/name`), and `ConfigMap`s whose `patch`
/// and `ignore-fields` overrides do not parse.
fn events_fixture() -> (tempfile::TempDir, FakeApiServer) {
    let repo = repo_with(&[
        (team_namespace(), 0),
        (
            config_map("settings", json!({"mode": "fast", "dsn": RENDERED_DSN})),
            0,
        ),
        (secret(RENDERED_PASSWORD), 0),
        (config_map("broken-patch", json!({"mode": "fast"})), 0),
        (config_map("broken-ignore", json!({"mode": "fast"})), 0),
    ]);
    let live = vec![
        plinths(annotated(
            team_namespace(),
            "patch",
            r#"[{"op": "replace", "path": "/metadata/name", "value": "team-b"}]"#,
        )),
        plinths(config_map(
            "settings",
            json!({"mode": "slow", "dsn": LIVE_DSN}),
        )),
        plinths(secret(LIVE_PASSWORD)),
        plinths(annotated(
            config_map("broken-patch", json!({"mode": "slow"})),
            "patch",
            "{not a patch",
        )),
        plinths(annotated(
            config_map("broken-ignore", json!({"mode": "slow"})),
            "ignore-fields",
            "data/mode",
        )),
    ];
    (repo, support::server_with(live, |s| s))
}

/// The Event with `reason` is about the stored object `o` as it was read (`before`: its
/// `uid` and `resourceVersion`), in `namespace`, from `plinth.dev/apply` as `instance`.
fn assert_about(event: &Value, o: &ObjectOutcome, before: &Value, namespace: &str, instance: &str) {
    let (uid, rv) = identity(before);
    let regarding = &event["regarding"];
    assert_eq!(regarding["kind"], o.key.kind.as_str(), "{event:#}");
    assert_eq!(regarding["name"], o.key.name.as_str(), "{event:#}");
    assert_eq!(
        regarding.get("namespace").and_then(Value::as_str),
        o.key.namespace.as_deref(),
        "{event:#}"
    );
    assert_eq!(regarding["uid"], uid, "{event:#}");
    assert_eq!(regarding["resourceVersion"], rv, "{event:#}");
    assert_eq!(event["metadata"]["namespace"], namespace, "{event:#}");
    assert_eq!(
        event["reportingController"], "plinth.dev/apply",
        "{event:#}"
    );
    assert_eq!(event["reportingInstance"], instance, "{event:#}");
}

/// Real runs emit `DriftCorrected` (after the apply was accepted; the note names the
/// fields), `PatchBlocked`, `InvalidPatch` and `InvalidIgnoreFields`: each accepted by the
/// fake's validation, about the right object (its `uid` and `resourceVersion` as read), in
/// its namespace — for the cluster-scoped Namespace in the events namespace given — with
/// `reportingController: plinth.dev/apply` and the `reportingInstance` given. No value of a
/// drifted field, secret-shaped or not, appears in any Event; a second run posts no Event
/// again.
#[test]
fn events_of_real_runs_are_valid_about_the_right_object_and_hold_no_secret() {
    let (repo, server) = events_fixture();
    let get = |kind: &str, namespace: Option<&str>, name: &str| {
        server.get("v1", kind, namespace, name).expect("stored")
    };
    let before: Vec<(&str, Value)> = vec![
        ("team-a", get("Namespace", None, "team-a")),
        ("settings", get("ConfigMap", Some(NS), "settings")),
        ("creds", get("Secret", Some(NS), "creds")),
        ("broken-patch", get("ConfigMap", Some(NS), "broken-patch")),
        ("broken-ignore", get("ConfigMap", Some(NS), "broken-ignore")),
    ];
    let instance = "plinth-apply-29061840-x7k2p";
    let run = |now: i64| {
        let mut r = request(&server, &repo, now);
        r.events_namespace = "kube-system".into();
        r.reporting_instance = instance.into();
        apply(r)
    };
    let report = run(EPOCH);
    assert_events_accepted(&server);
    let was = |name: &str| &before.iter().find(|(n, _)| *n == name).expect(name).1;

    for name in ["settings", "creds"] {
        let o = named(&report, name);
        assert_eq!(o.outcome, Outcome::Configured, "{report:#?}");
    }
    let corrected = events_of(&server, "DriftCorrected");
    assert_eq!(corrected.len(), 2, "{corrected:#?}");
    for event in &corrected {
        let name = event["regarding"]["name"].as_str().unwrap_or_default();
        let o = named(&report, name);
        assert_about(event, o, was(name), NS, instance);
        assert_eq!(event["type"], "Normal");
        assert_eq!(event["action"], "Apply");
    }
    let settings_note = corrected
        .iter()
        .find(|e| e["regarding"]["name"] == "settings")
        .and_then(|e| e["note"].as_str())
        .unwrap_or_default()
        .to_owned();
    assert!(
        settings_note.contains("mode") && settings_note.contains("dsn"),
        "{settings_note}"
    );

    let blocked = event_of(&server, "PatchBlocked");
    let team = named(&report, "team-a");
    assert_eq!(team.outcome, Outcome::Skipped, "{report:#?}");
    assert_about(&blocked, team, was("team-a"), "kube-system", instance);
    for (reason, name) in [
        ("InvalidPatch", "broken-patch"),
        ("InvalidIgnoreFields", "broken-ignore"),
    ] {
        let o = named(&report, name);
        assert_eq!(o.outcome, Outcome::Skipped, "{report:#?}");
        let event = event_of(&server, reason);
        assert_about(&event, o, was(name), NS, instance);
        assert_eq!(event["type"], "Warning");
        assert_eq!(event["action"], "Skip");
    }

    let secrets = [
        LIVE_DSN.to_owned(),
        RENDERED_DSN.to_owned(),
        "LiveHunter2Passw0rd".to_owned(),
        "RenderedS3cretPassw0rd".to_owned(),
        LIVE_PASSWORD.to_owned(),
        RENDERED_PASSWORD.to_owned(),
        b64(LIVE_PASSWORD),
        b64(RENDERED_PASSWORD),
    ];
    let all_events = serde_json::to_string(&server.events()).expect("json");
    for secret in &secrets {
        assert!(
            !all_events.contains(secret.as_str()),
            "{secret} in {all_events}"
        );
    }

    // The drift is corrected and the standing problems are known: nothing is posted again.
    let count = server.events().len();
    server.clear_writes();
    let second = run(EPOCH + 60);
    assert_eq!(server.events().len(), count, "{:#?}", server.events());
    assert_eq!(all_writes(&server), Vec::<String>::new(), "{second:#?}");
}

/// A live object with the rendered identity that another manager created, without plinth's
/// labels, is `skipped` ("pass --adopt") with zero writes, dry-runs included; with `--adopt`
/// it is applied and carries plinth's labels.
#[test]
fn an_object_plinth_did_not_create_is_applied_only_with_adopt() {
    let repo = repo_with(&[(config_map("legacy", json!({"mode": "fast"})), 0)]);
    let server = FakeApiServer::start(Scenario::new().serve_events().object_created_by(
        "kubectl-create",
        config_map("legacy", json!({"mode": "slow"})),
    ))
    .expect("server");
    let report = apply(request(&server, &repo, EPOCH));
    let legacy = expect(
        &report,
        "legacy",
        Outcome::Skipped,
        &["not created by plinth; pass --adopt"],
    );
    assert_eq!(all_writes(&server), Vec::<String>::new());
    let stored_legacy = || stored(&server, legacy).expect("stored");
    assert_eq!(stored_legacy()["data"]["mode"], "slow");

    let mut adopting = request(&server, &repo, EPOCH + 60);
    adopting.adopt = true;
    let adopted = apply(adopting);
    let legacy = named(&adopted, "legacy");
    assert_eq!(legacy.outcome, Outcome::Configured, "{adopted:#?}");
    assert!(
        legacy.notes.iter().any(|n| n.contains("adopted")),
        "{legacy:#?}"
    );
    let now = stored_legacy();
    assert_eq!(now["data"]["mode"], "fast");
    let labels = plinths(json!({}))["metadata"]["labels"].clone();
    assert_eq!(now["metadata"]["labels"], labels, "{now:#}");
}
