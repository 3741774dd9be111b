//! `plinth report` (issue 15 item 2): the fleet view from the JSON reports of drift and apply
//! runs. Files and stdout, the exit codes, the same output whatever the order of the files,
//! every string redacted again, and bad input (not JSON, not a report, an unknown status, too
//! large) an error naming the file and the field, with nothing written.

use crate::browser::example_reports;
use crate::common::{plinth_reproducible, stderr, stdout, workspace};

fn report(args: &[&str]) -> std::process::Output {
    let mut all = vec!["report"];
    all.extend_from_slice(args);
    plinth_reproducible(&workspace(), &all)
}

fn paths(files: &[std::path::PathBuf]) -> Vec<String> {
    files.iter().map(|p| p.display().to_string()).collect()
}

/// `--output DIR` writes `fleet.html` and `fleet.md`, `--html`/`--markdown` each file,
/// `--format markdown` the summary to stdout; the order of the files changes nothing.
#[test]
fn the_fleet_view_to_files_and_stdout_in_any_order() {
    let tmp = tempfile::tempdir().unwrap();
    let files = paths(&example_reports(tmp.path()));
    let dir = tmp.path().join("out");
    let dir_arg = dir.display().to_string();
    let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
    args.extend(["--output", &dir_arg]);
    let out = report(&args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Problems in 2 of 2 clusters (3 report(s))"),
        "{}",
        stderr(&out)
    );
    let html = fs_err::read_to_string(dir.join("fleet.html")).unwrap();
    let md = fs_err::read_to_string(dir.join("fleet.md")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(md.starts_with("## plinth fleet report\n\n**Problems in 2 of 2 clusters** (newest report generated 2026-01-01T00:00:00Z)\n"), "{md}");
    assert!(md.contains("| `gpu-east` | problems |"), "{md}");
    assert!(md.contains("- `plain-west` **drifted** `HyperConverged.hco.kubevirt.io/openshift-cnv/kubevirt-hyperconverged`: `/spec/liveMigrationConfig/parallelMigrationsPerCluster`; changed by `kubectl-patch` (Update) at 2026-11-29T10:02:00Z\n"), "{md}");

    let mut reversed: Vec<&str> = files.iter().rev().map(String::as_str).collect();
    let (h, m) = (tmp.path().join("r.html"), tmp.path().join("r.md"));
    let (h_arg, m_arg) = (h.display().to_string(), m.display().to_string());
    reversed.extend(["--html", &h_arg, "--markdown", &m_arg]);
    assert_eq!(report(&reversed).status.code(), Some(1));
    assert_eq!(fs_err::read_to_string(&h).unwrap(), html);
    assert_eq!(fs_err::read_to_string(&m).unwrap(), md);

    let mut to_stdout: Vec<&str> = files.iter().map(String::as_str).collect();
    to_stdout.extend(["--format", "markdown"]);
    assert_eq!(stdout(&report(&to_stdout)), md);
    to_stdout.truncate(files.len());
    assert_eq!(stdout(&report(&to_stdout)), html);
}

/// A fleet in sync exits 0.
#[test]
fn a_fleet_in_sync_exits_zero() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("ok.json");
    fs_err::write(&file, drift_json("quiet", "in-sync", "")).unwrap();
    let out = report(&[&file.display().to_string(), "--format", "markdown"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("**In sync: 1 cluster**"),
        "{}",
        stdout(&out)
    );
}

/// A hand-crafted report's secrets are redacted again; its markup is escaped.
#[test]
fn a_crafted_report_is_redacted_and_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("evil.json");
    let token = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB";
    let note = format!("password=Sup3rS3cretValue! token {token} <script>alert(1)</script>");
    fs_err::write(&file, drift_json("evil", "drifted", &note)).unwrap();
    let dir = tmp.path().join("out");
    let out = report(&[
        &file.display().to_string(),
        "--output",
        &dir.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    for name in ["fleet.html", "fleet.md"] {
        let text = fs_err::read_to_string(dir.join(name)).unwrap();
        for leak in ["Sup3rS3cretValue", token, "<script>"] {
            assert!(!text.contains(leak), "{name} has `{leak}`:\n{text}");
        }
        assert!(
            text.contains("<redacted hmac-sha256:") || text.contains("&lt;redacted hmac-sha256:"),
            "{text}"
        );
    }
}

/// Bad input is exit 2 naming the file (and the field), and nothing is written.
#[test]
fn bad_reports_name_the_file_and_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let good = tmp.path().join("good.json");
    fs_err::write(&good, drift_json("a", "in-sync", "")).unwrap();
    let cases: [(&str, String, &[&str]); 5] = [
        (
            "not-json.json",
            "{".to_owned(),
            &["`", "not-json.json", "not JSON"],
        ),
        (
            "list.json",
            "[]".to_owned(),
            &["list.json", "not a JSON object"],
        ),
        (
            "unknown.json",
            r#"{"schemaVersion": 1, "cluster": "x"}"#.to_owned(),
            &["unknown.json", "`mode`", "`dryRun`"],
        ),
        (
            "status.json",
            drift_json("b", "sideways", ""),
            &[
                "status.json",
                "field `objects[0].status`",
                "`sideways` is not one of in-sync",
            ],
        ),
        (
            "version.json",
            drift_json("c", "in-sync", "").replace("\"schemaVersion\":1", "\"schemaVersion\":7"),
            &["version.json", "field `schemaVersion`", "version 7"],
        ),
    ];
    for (name, text, needles) in cases {
        let bad = tmp.path().join(name);
        fs_err::write(&bad, text).unwrap();
        let html = tmp.path().join("page.html");
        let out = report(&[
            &good.display().to_string(),
            &bad.display().to_string(),
            "--html",
            &html.display().to_string(),
        ]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        for n in needles {
            assert!(
                stderr(&out).contains(n),
                "{name}: no `{n}` in {}",
                stderr(&out)
            );
        }
        assert!(!html.exists(), "{name}: a page was written");
    }
    let big = tmp.path().join("big.json");
    fs_err::write(&big, vec![b' '; 1024 * 1024 + 1]).unwrap();
    let out = report(&[&big.display().to_string(), "--max-report-mib", "1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("big.json") && stderr(&out).contains("larger than 1048576 bytes"),
        "{}",
        stderr(&out)
    );
}

/// A drift report of cluster `cluster` with one ConfigMap of `status` and `note`.
fn drift_json(cluster: &str, status: &str, note: &str) -> String {
    serde_json::json!({
        "schemaVersion": 1,
        "plinthVersion": "0.1.0",
        "cluster": cluster,
        "generatedAt": "2026-01-01T00:00:00Z",
        "mode": "client",
        "source": "snapshot",
        "summary": {},
        "objects": [{
            "group": "", "kind": "ConfigMap", "namespace": "apps", "name": "settings",
            "apiVersion": "v1", "status": status,
            "changes": [], "notes": if note.is_empty() { vec![] } else { vec![note] },
            "staleOverrides": []
        }],
        "hardware": []
    })
    .to_string()
}
