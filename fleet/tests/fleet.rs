//! The fleet view's library: reports read back from their JSON as written, newest per
//! cluster and kind, the grid, problems first with who changed what, the page escaped and
//! self-contained, the Markdown summary within its limit, errors naming file and field.

#![allow(clippy::unwrap_used)]

use plinth_apply::outcome::{ApplyReport, ObjectOutcome, Outcome};
use plinth_drift::core::report::{Mode, ObjectResult, Report, Status, json};
use plinth_fleet::{Fleet, Input, Source, State, page, parse, summary};
use plinth_vocab::ObjectRef;
use plinth_vocab::change::{FieldChange, Writer};
use plinth_vocab::redact::Redactor;
use serde_json::json;

fn redactor() -> Redactor {
    Redactor::with_key(b"k")
}

fn object(name: &str, status: Status) -> ObjectResult {
    let mut changes = Vec::new();
    if status == Status::Drifted {
        let mut c = FieldChange::new(
            "/data/mode".into(),
            Some(json!("registry.example/team/api:1.2.3-alpine")),
            Some(json!("registry.example/team/api:1.2.4-alpine")),
        );
        c.writer = Some(Writer {
            manager: "kubectl-edit".into(),
            operation: "Update".into(),
            time: Some("2026-11-29T10:02:00Z".into()),
            subresource: None,
        });
        changes.push(c);
    }
    ObjectResult {
        key: ObjectRef::new("v1", "ConfigMap", Some("apps"), name),
        api_version: "v1".into(),
        asset: None,
        status,
        changes,
        pending_removal: vec![],
        managed: vec![],
        notes: vec![],
        stale_overrides: vec![],
    }
}

fn drift(cluster: &str, at: &str, objects: Vec<ObjectResult>) -> String {
    json::render(&Report::new(
        cluster,
        at.into(),
        Mode::Client,
        "snapshot",
        objects,
        vec![],
    ))
}

fn apply(cluster: &str, at: &str, outcome: Outcome) -> String {
    let o = ObjectOutcome {
        key: ObjectRef::new("apps/v1", "Deployment", Some("apps"), "web"),
        api_version: "apps/v1".into(),
        asset: None,
        wave: 0,
        outcome,
        reason: Some("drifted again within the window".into()),
        changes: vec![],
        conflicts: vec![],
        throttle: None,
        next_window: None,
        notes: vec![],
    };
    json::render(&ApplyReport::new(
        cluster,
        at.into(),
        false,
        "cluster",
        vec![o],
    ))
}

fn read(name: &str, text: &str) -> Input {
    parse(name, text.as_bytes(), &redactor()).unwrap()
}

/// The fleet of a drifted `west` (drift and a throttled apply), an in-sync `east`, and an
/// older report of `east` that the newer one replaces.
fn fleet() -> Fleet {
    Fleet::new(vec![
        read(
            "east-old.json",
            &drift(
                "east",
                "2026-01-01T00:00:00Z",
                vec![object("a", Status::Missing)],
            ),
        ),
        read(
            "west.json",
            &drift(
                "west",
                "2026-01-02T00:00:00Z",
                vec![
                    object("a", Status::InSync),
                    object("b", Status::Drifted),
                    object("c", Status::Orphaned),
                ],
            ),
        ),
        read(
            "east.json",
            &drift(
                "east",
                "2026-01-03T00:00:00Z",
                vec![object("a", Status::InSync)],
            ),
        ),
        read(
            "west-apply.json",
            &apply("west", "2026-01-02T00:05:00Z", Outcome::Throttled),
        ),
    ])
}

/// A report reads back as it was written (its objects, changes and writers).
#[test]
fn a_report_reads_back_as_written() {
    let text = drift(
        "west",
        "2026-01-02T00:00:00Z",
        vec![object("b", Status::Drifted)],
    );
    let Input::Drift(report) = read("w.json", &text) else {
        panic!("not a drift report")
    };
    assert_eq!(json::render(&report), text);
    let text = apply("west", "2026-01-02T00:05:00Z", Outcome::Throttled);
    let Input::Apply(report) = read("a.json", &text) else {
        panic!("not an apply report")
    };
    assert_eq!(json::render(&report), text);
}

/// Clusters by name, the newest report of each kind, the fleet's state and headline, the
/// grid's columns and cells, the problems worst first with their writers.
#[test]
fn the_fleet_of_several_reports() {
    let fleet = fleet();
    let names: Vec<&str> = fleet.clusters.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["east", "west"]);
    assert_eq!((fleet.reports, fleet.superseded), (4, 1));
    assert_eq!(fleet.generated_at.as_deref(), Some("2026-01-03T00:00:00Z"));
    assert_eq!(fleet.clusters[0].state(), State::InSync);
    assert_eq!(fleet.state(), State::Problems);
    assert_eq!(fleet.headline(), "Problems in 1 of 2 clusters");
    assert_eq!(
        fleet.columns(),
        [
            (Source::Objects, "orphaned"),
            (Source::Objects, "drifted"),
            (Source::Objects, "in-sync"),
            (Source::Apply, "throttled"),
        ]
    );
    assert_eq!(
        Fleet::count(&fleet.clusters[0], Source::Objects, "in-sync"),
        Some(1)
    );
    assert_eq!(
        Fleet::count(&fleet.clusters[0], Source::Apply, "throttled"),
        None
    );
    let problems = fleet.problems();
    let seen: Vec<(&str, &str)> = problems
        .iter()
        .map(|p| (p.status.as_str(), p.what.as_str()))
        .collect();
    assert_eq!(
        seen,
        [
            ("orphaned", "`ConfigMap/apps/c`"),
            ("drifted", "`ConfigMap/apps/b`"),
            ("throttled", "`Deployment.apps/apps/web` (apply)"),
        ]
    );
    assert_eq!(problems[1].detail, "`/data/mode`");
    assert_eq!(
        problems[1].who,
        ["`kubectl-edit` (Update) at 2026-11-29T10:02:00Z"]
    );
    assert_eq!(problems[2].detail, "drifted again within the window");
}

/// The page: self-contained, the verdict first, the grid, problems before the per-cluster
/// details, changes inside long values marked, no literal backtick.
#[test]
fn the_page() {
    let html = page::render(&fleet());
    assert!(
        html.contains("content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\"")
    );
    let verdict = html.find("id=\"verdict\"").unwrap();
    let grid = html.find("<table class=\"grid\">").unwrap();
    let problems = html.find("<table class=\"problems\">").unwrap();
    let details = html.find("<details class=\"cluster\">").unwrap();
    assert!(verdict < grid && grid < problems && problems < details);
    assert!(html.contains("Problems in 1 of 2 clusters"));
    assert!(html.contains("<td class=\"n\" title=\"1 throttled (Apply)\"><span class=\"s throttled\">1</span></td>"), "{html}");
    assert!(html.contains("<td class=\"zero\" title=\"no such report\">"));
    assert!(
        html.contains("<del>3</del>") && html.contains("<ins>4</ins>"),
        "{html}"
    );
    assert!(html.contains("<code>kubectl-edit</code> (Update)"));
    let body = &html[html.find("<body>").unwrap()..];
    assert!(!body.contains('`'), "{body}");
    assert_eq!(html.matches("id=\"verdict\"").count(), 1);
}

/// The summary: verdict, grid and problems; cut short with a note within a limit.
#[test]
fn the_summary_fits_its_limit() {
    let fleet = fleet();
    let md = summary::render(&fleet);
    assert!(md.starts_with("## plinth fleet report\n\n**Problems in 1 of 2 clusters** (newest report generated 2026-01-03T00:00:00Z)\n\n| Cluster | State | objects: orphaned | objects: drifted | objects: in-sync | apply: throttled |\n|---|---|---:|---:|---:|---:|\n| `east` | in sync | 0 | 0 | 1 | – |\n| `west` | problems | 1 | 1 | 1 | 1 |\n"), "{md}");
    assert!(md.contains("### Problems (3)\n\n- `west` **orphaned** `ConfigMap/apps/c`\n- `west` **drifted** `ConfigMap/apps/b`: `/data/mode`; changed by `kubectl-edit` (Update) at 2026-11-29T10:02:00Z\n"), "{md}");
    assert!(!md.contains("Cut short"));
    let many: Vec<ObjectResult> = (0..3000)
        .map(|i| object(&format!("o{i:04}"), Status::Missing))
        .collect();
    let big = Fleet::new(vec![read(
        "big.json",
        &drift("big", "2026-01-01T00:00:00Z", many),
    )]);
    let md = summary::render(&big);
    assert!(md.len() <= summary::MAX_CHARS, "{}", md.len());
    assert!(md.contains("*Cut short to fit a comment: "), "{md}");
    assert!(md.contains(" more problem(s) not shown; the HTML page has everything.*"));
    let small = summary::render_within(&big, 1000);
    assert!(small.len() <= 1000, "{}", small.len());
}

/// Bad input names the file and the field.
#[test]
fn bad_input_names_the_file_and_the_field() {
    let r = redactor();
    let err = |text: &str| {
        parse("x.json", text.as_bytes(), &r)
            .unwrap_err()
            .to_string()
    };
    assert!(err("{").starts_with("`x.json`: not JSON"), "{}", err("{"));
    assert_eq!(
        err(r#"{"schemaVersion": 2}"#),
        "`x.json`: field `schemaVersion`: version 2 is not known (this plinth reads 1)"
    );
    let text = drift(
        "w",
        "2026-01-01T00:00:00Z",
        vec![object("a", Status::InSync)],
    )
    .replace("\"in-sync\"\n", "\"sideways\"\n")
    .replace("\"status\": \"in-sync\"", "\"status\": \"sideways\"");
    assert!(
        err(&text).starts_with(
            "`x.json`: field `objects[0].status`: `sideways` is not one of in-sync, drifted"
        ),
        "{}",
        err(&text)
    );
    let text = drift("w", "2026-01-01T00:00:00Z", vec![]).replace("\"cluster\": \"w\",", "");
    assert_eq!(err(&text), "`x.json`: missing field `cluster`");
    let text = apply("w", "2026-01-01T00:00:00Z", Outcome::Failed)
        .replace("\"wave\": 0", "\"wave\": \"zero\"");
    assert!(
        err(&text).starts_with("`x.json`: field `objects[0]`: invalid type"),
        "{}",
        err(&text)
    );
}

/// Every string is redacted on the way in, even where the report model would not redact it.
#[test]
fn every_string_is_redacted_again() {
    let token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    let text = drift(
        token,
        "2026-01-01T00:00:00Z",
        vec![object(token, Status::Missing)],
    );
    let fleet = Fleet::new(vec![read("t.json", &text)]);
    for out in [page::render(&fleet), summary::render(&fleet)] {
        assert!(!out.contains(token), "{out}");
    }
}

/// Files: larger than the bound or not a regular file (a folder) are errors naming them.
#[test]
fn files_are_bounded_and_regular() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("r.json");
    let text = drift("w", "2026-01-01T00:00:00Z", vec![]);
    fs_err::write(&file, &text).unwrap();
    let r = redactor();
    assert!(plinth_fleet::read(&file, text.len() as u64, &r).is_ok());
    let err = plinth_fleet::read(&file, text.len() as u64 - 1, &r).unwrap_err();
    assert!(err.to_string().contains("r.json`: larger than"), "{err}");
    let err = plinth_fleet::read(tmp.path(), 1024, &r).unwrap_err();
    assert!(err.to_string().ends_with(": not a regular file"), "{err}");
}

/// The example's VPSie and KubeVirt drift (recorded answers of `plain-west`) reads back as
/// written, and its findings are the fleet's problems, in their own grid columns.
#[test]
fn vpsie_and_kubevirt_results_read_back_and_are_problems() {
    use plinth_drift::engine::{self, CloudRequest, DriftRequest, KubevirtRequest, LiveSource};
    use plinth_drift::source::vpsie::VpsieSource;
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet");
    let request = DriftRequest {
        repo: example.clone(),
        cluster: "plain-west".to_owned(),
        source: LiveSource::Snapshot {
            path: example.join("cloud/plain-west/cluster"),
            max_file_bytes: 1 << 20,
            allow_empty: false,
        },
        namespace: None,
        mode: Mode::Client,
        now_epoch: 1_796_040_000,
        stack_bytes: 8 << 20,
    };
    let cloud = CloudRequest {
        vpsie: Some(engine::VpsieRequest {
            source: VpsieSource::Snapshot {
                path: example.join("cloud/plain-west/vpsie.json"),
                max_file_bytes: 1 << 20,
            },
            discovery_timeout_secs: 900,
        }),
        kubevirt: Some(KubevirtRequest { all_vms: true }),
        only: true,
        ..CloudRequest::default()
    };
    let report = engine::run_with_cloud(&request, Some(&cloud), &|_| {})
        .unwrap()
        .report;
    let text = json::render(&report);
    let Input::Drift(read_back) = read("pw.json", &text) else {
        panic!("not a drift report")
    };
    assert_eq!(json::render(&read_back), text);
    let fleet = Fleet::new(vec![Input::Drift(read_back)]);
    assert_eq!(fleet.state(), State::Problems);
    let columns = fleet.columns();
    assert!(
        columns.contains(&(Source::Vpsie, "failed-to-join")),
        "{columns:?}"
    );
    assert!(
        columns.contains(&(Source::Kubevirt, "failed")),
        "{columns:?}"
    );
    let problems: Vec<String> = fleet.problems().iter().map(|p| p.status.clone()).collect();
    for status in [
        "orphaned-node",
        "failed-to-join",
        "drifted",
        "failed",
        "miscounted",
    ] {
        assert!(
            problems.iter().any(|p| p == status),
            "{status}: {problems:?}"
        );
    }
    assert!(
        !problems.iter().any(|p| p == "in-sync"),
        "in-sync rows are not problems"
    );
}
