//! The HTML pages in a real browser (issue 15 item 3): the single-cluster drift page of the
//! example fleet and the fleet page of several reports, served from a loopback server that
//! records every request and opened in headless Chromium. The DOM (`--dump-dom`) has the
//! verdict first, problem rows before in-sync rows, a label for every status and no literal
//! backtick; the server saw the page's own request and nothing else; a screenshot of each
//! page is written under the test's output folder (printed) for people to look at. Skips
//! (and says so) without Chromium, unless `PLINTH_REQUIRE_CHROMIUM` is set.

use std::path::{Path, PathBuf};

use plinth_testkit::chromium::{Chromium, PAGE_PATH, PageServer};
use serde_json::Value;

use crate::common::{plinth_reproducible, stderr, workspace};

/// Where the screenshots go: the test's output folder under the target directory.
fn out_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("browser");
    fs_err::create_dir_all(&dir).unwrap();
    dir
}

/// The example fleet's JSON reports in `dir`: `plain-west` drift (from its snapshot),
/// `gpu-east` cloud drift (from its server snapshot) and a `plain-west` apply plan.
pub fn example_reports(dir: &Path) -> Vec<PathBuf> {
    let runs = [
        (
            "plain-west-drift",
            "drift examples/fleet --cluster plain-west --snapshot examples/fleet/live/plain-west",
        ),
        (
            "gpu-east-drift",
            "drift examples/fleet --cluster gpu-east --cloud-only \
             --cloud-snapshot examples/fleet/cloud/gpu-east/stackit-servers.json",
        ),
        (
            "plain-west-apply",
            "apply examples/fleet --cluster plain-west --snapshot examples/fleet/live/plain-west \
             --dry-run",
        ),
    ];
    runs.iter()
        .map(|(name, line)| {
            let mut args: Vec<&str> = line.split_whitespace().collect();
            let out = dir.join(name);
            let out_arg = out.display().to_string();
            args.extend([
                "--format",
                "json",
                "--format",
                "html",
                "--output-dir",
                &out_arg,
            ]);
            let run = plinth_reproducible(&workspace(), &args);
            assert_eq!(run.status.code(), Some(1), "{name}: {}", stderr(&run));
            let file = if name.ends_with("apply") {
                "apply.json"
            } else {
                "drift.json"
            };
            out.join(file)
        })
        .collect()
}

/// `html` opened in Chromium from a fresh recording server: its DOM and the requests seen.
fn open(chromium: &Chromium, html: String, screenshot: &Path) -> (String, Vec<String>) {
    let server = PageServer::start(html.clone()).unwrap();
    let dom = chromium.dump_dom(&server.url()).unwrap();
    let seen = server.requests();
    let shots = PageServer::start(html).unwrap();
    chromium
        .screenshot(&shots.url(), screenshot, 1280, 1600)
        .unwrap();
    let png = fs_err::read(screenshot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG"),
        "not a PNG: {}",
        screenshot.display()
    );
    eprintln!("screenshot: {}", screenshot.display());
    assert_eq!(
        shots.requests(),
        [format!("GET {PAGE_PATH}")],
        "the page fetched something while it was drawn"
    );
    (dom, seen)
}

/// The statuses of the rows (`<tr class="row" data-status="…">`) in `dom`, in order.
fn row_statuses(dom: &str) -> Vec<String> {
    dom.split("<tr class=\"row\" data-status=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

/// The checks both pages pass: the verdict before anything else of the body, no literal
/// backtick, the one request.
fn assert_common(dom: &str, requests: &[String], verdict: &str) {
    let body = &dom[dom.find("<body>").expect("a body")..];
    let first = body.find("id=\"verdict\"").expect("a verdict element");
    for later in ["<table", "<section", "<details"] {
        if let Some(at) = body.find(later) {
            assert!(first < at, "the verdict comes after `{later}`");
        }
    }
    assert!(body.contains(verdict), "no verdict `{verdict}` in:\n{body}");
    assert!(!dom.contains('`'), "a literal backtick in the page:\n{dom}");
    assert_eq!(
        requests,
        [format!("GET {PAGE_PATH}")],
        "the page made a request of its own"
    );
}

/// The single-cluster page of `plain-west`: the drift verdict first, problem rows before
/// in-sync rows, every status of the report labelled.
#[test]
fn the_single_cluster_page_in_a_browser() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let reports = example_reports(tmp.path());
    let html = fs_err::read_to_string(tmp.path().join("plain-west-drift/drift.html")).unwrap();
    let (dom, requests) = open(&chromium, html, &out_dir().join("drift-plain-west.png"));
    assert_common(&dom, &requests, "Drift in 4 of 10 objects");
    let json: Value = serde_json::from_str(&fs_err::read_to_string(&reports[0]).unwrap()).unwrap();
    for (status, n) in json["summary"].as_object().unwrap() {
        if n.as_u64() > Some(0) {
            assert!(
                dom.contains(&format!("<span class=\"s {status}\">{status}</span>")),
                "no label for `{status}`"
            );
        }
    }
    let rows = row_statuses(&dom);
    let first_in_sync = rows
        .iter()
        .position(|s| s == "in-sync")
        .expect("in-sync rows");
    assert!(first_in_sync >= 4, "{rows:?}");
    assert!(
        rows[first_in_sync..].iter().all(|s| s == "in-sync"),
        "a problem after an in-sync row: {rows:?}"
    );
    assert_eq!(
        &rows[..first_in_sync],
        ["orphaned", "drifted", "missing", "refused"]
    );
    // In-sync rows are folded away.
    let folded = dom
        .find("<details class=\"quiet\">")
        .expect("folded in-sync rows");
    assert!(dom[..folded].matches("data-status=\"in-sync\"").count() == 0);
    // The change's writer is a code span, not backticks.
    assert!(dom.contains("<code>kubectl-patch</code> (Update)"), "{dom}");
}

/// The fleet page of three reports of two clusters: the fleet's verdict, the grid with a
/// labelled cell per count, problems first (orphans before drift before held applies), and
/// each cluster's details.
#[test]
fn the_fleet_page_in_a_browser() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let reports = example_reports(tmp.path());
    let mut args = vec!["report".to_owned()];
    args.extend(reports.iter().map(|p| p.display().to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = plinth_reproducible(&workspace(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let html = String::from_utf8(out.stdout).unwrap();
    let shot = out_dir().join("fleet.png");
    let (dom, requests) = open(&chromium, html, &shot);
    assert_common(&dom, &requests, "Problems in 2 of 2 clusters");
    for status in [
        "orphaned",
        "drifted",
        "missing",
        "refused",
        "in-sync",
        "unhealthy",
        "stale",
        "held",
        "skipped",
        "unchanged",
    ] {
        assert!(
            dom.contains(&format!("<span class=\"s {status}\">{status}</span>")),
            "no label for `{status}`"
        );
    }
    assert!(
        dom.contains(
            "title=\"1 unhealthy (STACKIT servers)\"><span class=\"s unhealthy\">1</span>"
        ),
        "{dom}"
    );
    let problems = &dom[dom.find("<table class=\"problems\">").unwrap()..];
    let problems = &problems[..problems.find("</table>").unwrap()];
    let rows = row_statuses(problems);
    assert_eq!(
        rows,
        [
            "orphaned",
            "orphaned",
            "drifted",
            "drifted",
            "missing",
            "unhealthy",
            "stale",
            "refused",
            "held",
            "held"
        ]
    );
    assert!(
        problems.contains("<code>kubectl-patch</code> (Update) at 2026-11-29T10:02:00Z"),
        "who changed the drifted field: {problems}"
    );
    let details = dom.find("Clusters in detail").unwrap();
    assert!(dom[details..].contains("<details class=\"cluster\"><summary><code>gpu-east</code>"));
}

/// The recording server sees what a page fetches: a page that asks for an image (no policy)
/// makes a second request. Without this the checks above could pass on a server that
/// records nothing.
#[test]
fn the_recording_server_sees_a_page_that_fetches() {
    let Some(chromium) = Chromium::find() else {
        return;
    };
    let html = "<!DOCTYPE html><html><head><link rel=\"icon\" href=\"data:,\"></head>\
                <body><img src=\"/probe.png\" alt=\"\"></body></html>";
    let server = PageServer::start(html.to_owned()).unwrap();
    chromium.dump_dom(&server.url()).unwrap();
    let seen = server.requests();
    assert!(seen.contains(&"GET /probe.png".to_owned()), "{seen:?}");
}
