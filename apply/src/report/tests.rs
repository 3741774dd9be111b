//! The apply report's formats: a snapshot of each for a run (and a plan) with every outcome,
//! hostile names escaped in each, no secret in any, and the exit code rules.

use serde_json::{Value, json};

use plinth_drift::core::report::rfc3339;
use plinth_vocab::ObjectRef;
use plinth_vocab::change::{FieldChange, Writer};
use plinth_vocab::redact::Redactor;

use super::{Format, file_name, render};
use crate::outcome::{ApplyReport, Conflict, ObjectOutcome, Outcome, Throttle};

/// The Secret's password, desired and live (base64): no format may show either.
const PASSWORD: [&str; 2] = ["aHVudGVyMg==", "c3dvcmRmaXNo"];

fn writer(manager: &str) -> Writer {
    Writer {
        manager: manager.into(),
        operation: "Update".into(),
        time: Some("2026-11-29T10:02:00Z".into()),
        subresource: None,
    }
}

fn object(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> ObjectOutcome {
    ObjectOutcome {
        key: ObjectRef::new(api_version, kind, namespace, name),
        api_version: api_version.into(),
        asset: None,
        wave: 0,
        outcome: Outcome::Unchanged,
        reason: None,
        changes: vec![],
        conflicts: vec![],
        throttle: None,
        next_window: None,
        notes: vec![],
    }
}

fn change(pointer: &str, desired: Value, live: Option<Value>) -> FieldChange {
    FieldChange::new(pointer.into(), Some(desired), live)
}

/// A bucket of capacity 5 with `tokens` left, throttled `runs` runs in a row.
fn throttle(tokens: u32, runs: u32, next_token_at: Option<&str>) -> Throttle {
    Throttle {
        tokens,
        capacity: 5,
        throttled_runs: runs,
        next_token_at: next_token_at.map(str::to_owned),
    }
}

/// `o` in `wave` with `outcome` for `reason`.
fn left(mut o: ObjectOutcome, wave: i64, outcome: Outcome, reason: &str) -> ObjectOutcome {
    o.wave = wave;
    o.outcome = outcome;
    o.reason = Some(reason.into());
    o
}

/// One object of each outcome, in apply order (pruned last).
fn every_outcome() -> Vec<ObjectOutcome> {
    let mut namespace = object("v1", "Namespace", None, "apps");
    namespace.wave = -1;
    namespace.outcome = Outcome::Created;
    namespace.asset = Some("apps-base".into());

    let mut web = object("apps/v1", "Deployment", Some("apps"), "web");
    web.outcome = Outcome::Configured;
    web.asset = Some("apps-base".into());
    let mut replicas = change("/spec/replicas", json!(3), Some(json!(5)));
    replicas.writer = Some(writer("kubectl-edit"));
    web.changes = vec![replicas];
    web.throttle = Some(throttle(4, 0, None));
    web.notes = vec!["plinth labels restored".into()];

    let settings = object("v1", "ConfigMap", Some("apps"), "settings");

    let mut api = left(
        object("apps/v1", "Deployment", Some("apps"), "api"),
        0,
        Outcome::Throttled,
        "drifted again within the window",
    );
    let mut image = change(
        "/spec/template/spec/containers/0/image",
        json!("api:1.2"),
        Some(json!("api:1.1")),
    );
    image.keyed_path = Some("/spec/template/spec/containers/[name=api]/image".into());
    image.writer = Some(writer("deploy-bot"));
    api.changes = vec![image];
    api.throttle = Some(throttle(0, 2, Some("2026-11-30T10:15:00Z")));

    let mut hco = left(
        object(
            "hco.kubevirt.io/v1beta1",
            "HyperConverged",
            Some("openshift-cnv"),
            "kubevirt-hyperconverged",
        ),
        0,
        Outcome::Paused,
        "reconcile-paused: set by plinth after 3 throttled runs",
    );
    hco.notes = vec!["Event ThrashingDetected emitted".into()];

    let widget = left(
        object("example.io/v1", "Widget", Some("apps"), "w"),
        1,
        Outcome::Skipped,
        "CRD `widgets.example.io` not served",
    );

    let mut pool = left(
        object(
            "machineconfiguration.openshift.io/v1",
            "MachineConfigPool",
            None,
            "worker",
        ),
        1,
        Outcome::Held,
        "disruptive (node reboot) outside the maintenance window; next window 2026-12-01T02:00:00Z",
    );
    pool.changes = vec![change("/spec/paused", json!(false), Some(json!(true)))];
    pool.next_window = Some("2026-12-01T02:00:00Z".into());

    let mut service = object("v1", "Service", Some("apps"), "web");
    service.wave = 1;
    service.outcome = Outcome::Conflict;
    service.conflicts = vec![
        Conflict {
            manager: "kubectl-edit".into(),
            field: ".spec.type".into(),
        },
        Conflict {
            manager: "helm".into(),
            field: ".spec.ports[port=80].targetPort".into(),
        },
        Conflict {
            manager: "kubectl-edit".into(),
            field: ".spec.sessionAffinity".into(),
        },
    ];

    let mut password = change(
        "/data/password",
        json!(PASSWORD[0]),
        Some(json!(PASSWORD[1])),
    );
    password.secret = true;
    password.writer = Some(writer("kubectl-edit"));
    let mut secret = left(
        object("v1", "Secret", Some("apps"), "db"),
        1,
        Outcome::Failed,
        "the server refused the apply after 3 retries (503)",
    );
    secret.changes = vec![password];

    let old = left(
        object("v1", "ConfigMap", Some("apps"), "old"),
        0,
        Outcome::Pruned,
        "no longer rendered",
    );

    vec![
        namespace, web, settings, api, hco, widget, pool, service, secret, old,
    ]
}

fn report(dry_run: bool, objects: Vec<ObjectOutcome>) -> ApplyReport {
    let source = if dry_run { "snapshot" } else { "cluster" };
    let mut report = ApplyReport::new("west", rfc3339(1_796_033_700), dry_run, source, objects);
    // The snapshots do not change with plinth's version.
    report.plinth_version = "0.0.0-test".into();
    report.redacted(&Redactor::with_key(b"k"))
}

#[test]
fn every_format_of_a_run_with_every_outcome() {
    let report = report(false, every_outcome());
    for format in Format::ALL {
        insta::assert_snapshot!(format!("run_{}", format.name()), render(format, &report));
    }
}

/// A dry run's plan says what would be done, and applies nothing in its metrics.
#[test]
fn every_format_of_a_plan_with_every_outcome() {
    let report = report(true, every_outcome());
    for format in Format::ALL {
        insta::assert_snapshot!(format!("plan_{}", format.name()), render(format, &report));
    }
    let text = render(Format::Text, &report);
    assert!(text.contains("would create    Namespace/apps\n"), "{text}");
    assert!(
        text.contains("would configure Deployment.apps/apps/web (throttle: 4 of 5 applies left)\n"),
        "{text}"
    );
    let prometheus = render(Format::Prometheus, &report);
    assert!(
        prometheus.contains("plinth_apply_applies{cluster=\"west\",kind=\"Deployment\"} 0\n"),
        "{prometheus}"
    );
}

/// The text report's lines, as the docs show them.
#[test]
fn text_lines_name_the_outcome_the_object_and_why() {
    let text = render(Format::Text, &report(false, every_outcome()));
    for line in [
        "created   Namespace/apps\n",
        "configured Deployment.apps/apps/web (throttle: 4 of 5 applies left)\n    /spec/replicas\n      desired: 3\n      live:    5\n      changed by `kubectl-edit` (Update) at 2026-11-29T10:02:00Z\n    note: plinth labels restored\n",
        "throttled Deployment.apps/apps/api (drifted again within the window; throttle: 0 of 5 applies left, next at 2026-11-30T10:15:00Z, throttled 2 runs in a row)\n    /spec/template/spec/containers/[name=api]/image\n",
        "conflict  Service/apps/web (conflict with \"kubectl-edit\": .spec.type, .spec.sessionAffinity; with \"helm\": .spec.ports[port=80].targetPort)\n",
        "skipped   Widget.example.io/apps/w (CRD `widgets.example.io` not served)\n",
        "\n10 objects: 1 created, 1 configured, 1 unchanged, 1 throttled, 1 paused, 1 skipped, 1 held, 1 conflict, 1 pruned, 1 failed\n",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

/// The JSON report is the `ApplyReport` serialisation: the changes as in drift's JSON.
#[test]
fn json_changes_have_desired_live_and_writer() {
    let report = report(false, every_outcome());
    let json: Value = serde_json::from_str(&render(Format::Json, &report)).unwrap();
    assert_eq!(json["schemaVersion"], 1);
    assert_eq!(json["summary"]["conflict"], 1);
    let web = &json["objects"][1];
    assert_eq!(web["outcome"], "configured");
    assert_eq!(
        web["changes"],
        json!([{"pointer": "/spec/replicas", "desired": 3, "live": 5,
            "writer": {"manager": "kubectl-edit", "operation": "Update", "time": "2026-11-29T10:02:00Z"}}])
    );
    assert_eq!(
        json["objects"][3]["changes"][0]["keyedPath"],
        "/spec/template/spec/containers/[name=api]/image"
    );
    assert_eq!(
        json["objects"][7]["conflicts"][1],
        json!({"manager": "helm", "field": ".spec.ports[port=80].targetPort"})
    );
    assert_eq!(json["objects"][3]["throttle"]["throttledRuns"], 2);
}

/// Unredacted, the password is in the report; redacted (as every format gets it), in no
/// format, encoded or not, and the fingerprint stands in its place.
#[test]
fn no_secret_in_any_format() {
    let raw = ApplyReport::new("west", rfc3339(0), false, "cluster", every_outcome());
    assert!(render(Format::Json, &raw).contains(PASSWORD[0]));
    let mut objects = every_outcome();
    objects[8].notes = vec!["live password=hunter2".into()];
    objects[8].reason = Some("token ghp_0123456789abcdefghijABCDEFGHIJ012345 refused".into());
    let report = ApplyReport::new("west", rfc3339(0), false, "cluster", objects)
        .redacted(&Redactor::with_key(b"k"));
    for format in Format::ALL {
        let out = render(format, &report);
        for leak in PASSWORD.iter().chain(&["hunter2", "ghp_0123456789abcdef"]) {
            assert!(
                !out.contains(leak),
                "{} leaks `{leak}`:\n{out}",
                format.name()
            );
        }
        if format != Format::Prometheus {
            assert!(
                out.contains("redacted hmac-sha256:"),
                "{} shows no fingerprint:\n{out}",
                format.name()
            );
        }
    }
}

/// A name, reason, note and conflict manager made to break out of each format stay inside
/// their field.
#[test]
fn hostile_names_are_escaped_in_every_format() {
    let hostile = "x<script>alert(1)</script>|`y`\n]]><!--";
    let mut o = object("v1", "ConfigMap", Some("apps"), hostile);
    o.outcome = Outcome::Conflict;
    o.reason = Some(hostile.into());
    o.notes = vec![hostile.into()];
    o.conflicts = vec![Conflict {
        manager: hostile.into(),
        field: ".data.x".into(),
    }];
    let mut kind = object("v1", "Odd\"Kind\n", Some("apps"), "k");
    kind.outcome = Outcome::Paused;
    let report = report(false, vec![o, kind]);
    for format in [Format::Html, Format::Junit] {
        let out = render(format, &report);
        for raw in ["<script>", "]]>", "<!--"] {
            assert!(!out.contains(raw), "{} has `{raw}`:\n{out}", format.name());
        }
        assert!(
            out.contains("x&lt;script&gt;alert(1)&lt;/script&gt;|`y`"),
            "{out}"
        );
    }
    let html = render(Format::Html, &report);
    assert!(html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
    assert!(
        !html.contains("src=\"") && !html.contains("href="),
        "{html}"
    );

    let markdown = render(Format::Markdown, &report);
    let rows: Vec<&str> = markdown
        .lines()
        .filter(|l| l.starts_with("| conflict |"))
        .collect();
    assert_eq!(rows.len(), 2, "{markdown}");
    // Every row of the objects table has its four cells: no pipe or newline escaped them.
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    assert_eq!(cells(rows[1]), 5, "{}", rows[1]);
    // Markup only inside the name's code span (shown literally), escaped everywhere else.
    let outside_code = markdown
        .split("``")
        .step_by(2)
        .collect::<String>()
        .replace("<br>", "");
    assert!(!outside_code.contains('<'), "{markdown}");
    assert!(
        rows[1].contains("| x&lt;script&gt;alert(1)&lt;/script&gt;\\|`y` \\]\\]&gt;"),
        "{}",
        rows[1]
    );

    let text = render(Format::Text, &report);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[1].starts_with("conflict  ConfigMap/apps/x<script>"),
        "{text}"
    );
    assert!(lines[1].ends_with("]]><!--\": .data.x)"), "{text}");
    assert!(lines[2].starts_with("    note: "), "{text}");

    let prometheus = render(Format::Prometheus, &report);
    assert!(
        prometheus.contains("kind=\"Odd\\\"Kind\\n\",outcome=\"paused\"} 1\n"),
        "{prometheus}"
    );
    let json: Value = serde_json::from_str(&render(Format::Json, &report)).unwrap();
    assert_eq!(json["objects"][0]["name"], hostile);
}

/// Exit 1 when anything was left unapplied, 0 when everything is in sync or was applied
/// (skipped and pruned objects included).
#[test]
fn exit_code_is_one_only_when_something_was_left_unapplied() {
    let with = |outcome: Outcome| {
        let mut o = object("v1", "ConfigMap", Some("apps"), "c");
        o.outcome = outcome;
        ApplyReport::new("west", rfc3339(0), false, "cluster", vec![o]).exit_code()
    };
    let codes: Vec<(Outcome, i32)> = Outcome::ALL.into_iter().map(|o| (o, with(o))).collect();
    assert_eq!(
        codes,
        [
            (Outcome::Created, 0),
            (Outcome::Configured, 0),
            (Outcome::Unchanged, 0),
            (Outcome::Throttled, 1),
            (Outcome::Paused, 1),
            (Outcome::Skipped, 0),
            (Outcome::Held, 1),
            (Outcome::Conflict, 1),
            (Outcome::Pruned, 0),
            (Outcome::Failed, 1),
        ]
    );
    let empty = ApplyReport::new("west", rfc3339(0), false, "cluster", vec![]);
    assert_eq!(empty.exit_code(), 0);
    assert_eq!(report(false, every_outcome()).exit_code(), 1);
}

#[test]
fn formats_have_names_and_file_names_of_their_own() {
    let names: Vec<(&str, &str)> = Format::ALL
        .into_iter()
        .map(|f| (f.name(), file_name(f)))
        .collect();
    assert_eq!(
        names,
        [
            ("text", "apply.txt"),
            ("json", "apply.json"),
            ("markdown", "apply.md"),
            ("junit", "apply-junit.xml"),
            ("prometheus", "apply.prom"),
            ("html", "apply.html"),
        ]
    );
    assert_eq!(Format::named("junit"), Some(Format::Junit));
}

/// The apply report's changes are redacted by the drift report's code: the same changes,
/// a `MachineConfig` file content that is a private key once decoded among them, come out
/// the same from both.
#[test]
fn changes_are_redacted_exactly_as_drift_redacts_them() {
    use base64::Engine as _;
    use plinth_drift::core::report::{Mode, ObjectResult, Report};
    let key = ObjectRef::new(
        "machineconfiguration.openshift.io/v1",
        "MachineConfig",
        None,
        "99-worker",
    );
    let url = |text: &str| {
        let b64 = base64::engine::general_purpose::STANDARD.encode(text);
        json!(format!("data:;base64,{b64}"))
    };
    let mut file = FieldChange::new(
        "/spec/config/storage/files/0/contents/source".into(),
        Some(url("# none\n")),
        Some(url(
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjE\n-----END OPENSSH PRIVATE KEY-----\n",
        )),
    );
    file.secret = true;
    let mut token = change(
        "/metadata/annotations/note",
        json!("ghp_0123456789abcdefghijABCDEFGHIJ012345"),
        Some(json!("plain")),
    );
    token.writer = Some(writer("kubectl-edit"));
    let changes = vec![file, token];
    let mut applied = object(&key.group, &key.kind, None, &key.name);
    applied.key = key.clone();
    applied.outcome = Outcome::Configured;
    applied.changes = changes.clone();
    let drifted = ObjectResult {
        key,
        api_version: "machineconfiguration.openshift.io/v1".into(),
        asset: None,
        status: plinth_drift::Status::Drifted,
        changes,
        pending_removal: vec![],
        managed: vec![],
        notes: vec![],
        stale_overrides: vec![],
    };
    let redactor = Redactor::with_key(b"k");
    let drift = Report::new(
        "west",
        rfc3339(0),
        Mode::Client,
        "cluster",
        vec![drifted],
        vec![],
    )
    .redacted(&redactor);
    let apply =
        ApplyReport::new("west", rfc3339(0), false, "cluster", vec![applied]).redacted(&redactor);
    assert_eq!(apply.objects[0].changes, drift.objects[0].changes);
    let shown = render(Format::Json, &apply);
    assert!(
        !shown.contains("PRIVATE KEY") && !shown.contains("ghp_"),
        "{shown}"
    );
}
