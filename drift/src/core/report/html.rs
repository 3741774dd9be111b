//! The self-contained HTML report: inline style, no script and no external fetch (a strict
//! Content-Security-Policy); the verdict first, then each source of results (Kubernetes
//! objects, STACKIT servers) with its problems before its in-sync rows, a distinct colour,
//! icon and label per status, and desired and live values side by side for every changed
//! field (what changed inside long values marked, who wrote it where known, decoded file
//! contents as a diff), pending removals, and the fields controllers manage (in-sync objects
//! included). The building blocks are `html_kit`'s; apply's page shares the table helpers.

use std::fmt::Write as _;

use plinth_vocab::change::FieldChange;

use super::html_kit::{self, Row, Section};
use super::wording::Group;
use super::{NO_KUBERNETES_SOURCE, Report, Status, Verdict, markup, show};
use crate::core::report::cloud::CloudReport;
use crate::core::report::kubevirt::KubevirtReport;
use crate::core::report::vpsie::VpsieReport;

/// The page's style before the status badges' colours.
const LAYOUT: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24}\
table{border-collapse:collapse;margin:.5rem 0 1rem}\
td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}code,pre{font-family:ui-monospace,monospace;font-size:.9em}\
pre{margin:0;white-space:pre-wrap;word-break:break-all}\
.s{font-weight:600;padding:.1rem .4rem;border-radius:.3rem}";

/// The page's style after the badges' colours.
const FOLDS: &str = "details{margin:.5rem 0}summary{cursor:pointer}";

/// Renders the report as one HTML page.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    html_kit::page_head(
        &mut out,
        &format!("plinth drift report: {}", report.cluster),
    );
    body(&mut out, report, 2);
    html_kit::page_end(&mut out);
    out
}

/// The page's content under its title: the verdict, where live state came from, the count of
/// each status, then one section per source of results (problems first, in-sync folded) and
/// the hardware drift; headings at `level` (2 on its own page, deeper inside the fleet view).
pub fn body(out: &mut String, report: &Report, level: u8) {
    let (kind, text) = headline(report);
    html_kit::verdict(out, kind, &text, level <= 2);
    let _ = writeln!(
        out,
        "<p class=\"meta\">{}, generated {}.</p>",
        esc(&report.provenance()),
        esc(&report.generated_at)
    );
    summary_table(
        out,
        "Status",
        report.status_counts().map(|(s, n)| (badge(s.as_str()), n)),
        report.objects.len(),
    );
    for s in sections(report) {
        html_kit::section(out, &s, level);
    }
    if !report.hardware.is_empty() {
        let _ = writeln!(out, "<h{level}>Hardware drift</h{level}>");
        open_table(out, None, &["Detector", "Committed", "Live", "Live nodes"]);
        for h in &report.hardware {
            row(
                out,
                [
                    format!("<code>{}</code>", esc(&h.detector)),
                    h.committed.to_string(),
                    h.live.to_string(),
                    esc(&h.nodes.join(", ")),
                ],
            );
            out.push('\n');
        }
        out.push_str("</table>\n");
    }
}

/// The verdict of `report` as a headline: its kind (`in-sync`, `drift`, `incomplete`, the
/// headline's class) and its words (`Drift in 3 of 58 objects`).
pub fn headline(report: &Report) -> (&'static str, String) {
    let objects = report.objects.len();
    let servers = report.cloud.as_ref().map_or(0, |c| c.servers.len());
    let mut found = Vec::new();
    let findings = report
        .objects
        .iter()
        .filter(|o| o.status.is_finding())
        .count();
    if findings > 0 {
        found.push(of(findings, objects, "objects"));
    }
    if let Some(cloud) = &report.cloud {
        let n = cloud.not_in_sync().count();
        if n > 0 {
            found.push(of(n, servers, "STACKIT servers"));
        }
    }
    if let Some(vpsie) = &report.vpsie {
        let n = vpsie.findings().count();
        if n > 0 {
            found.push(of(n, vpsie.rows().count(), "VPSie groups, VMs and Nodes"));
        }
    }
    if let Some(kubevirt) = &report.kubevirt {
        let n = kubevirt.findings().count();
        if n > 0 {
            found.push(of(n, kubevirt.vms.len(), "KubeVirt VMs"));
        }
    }
    if !report.hardware.is_empty() {
        found.push(format!("{} hardware detector(s)", report.hardware.len()));
    }
    let drift = found.join(" and ");
    match report.verdict() {
        Verdict::Incomplete => {
            let errors = report.count(Status::Error);
            let mut text = format!(
                "Incomplete: {} could not be compared",
                of(errors, objects, "objects")
            );
            if !drift.is_empty() {
                let _ = write!(text, "; drift in {drift}");
            }
            ("incomplete", text)
        }
        Verdict::Drift if drift.is_empty() => ("drift", "Drift found".to_owned()),
        Verdict::Drift => ("drift", format!("Drift in {drift}")),
        Verdict::InSync => {
            let mut whole = Vec::new();
            if report.source != NO_KUBERNETES_SOURCE || objects > 0 {
                whole.push(format!(
                    "{objects} {}",
                    plural(objects, "object", "objects")
                ));
            }
            if report.cloud.is_some() {
                whole.push(format!(
                    "{servers} STACKIT {}",
                    plural(servers, "server", "servers")
                ));
            }
            if let Some(vpsie) = &report.vpsie {
                whole.push(format!(
                    "{} VPSie groups, VMs and Nodes",
                    vpsie.rows().count()
                ));
            }
            if let Some(kubevirt) = &report.kubevirt {
                let n = kubevirt.vms.len();
                whole.push(format!("{n} KubeVirt {}", plural(n, "VM", "VMs")));
            }
            ("in-sync", format!("In sync: {}", whole.join(", ")))
        }
    }
}

/// `3 of 58 objects`.
fn of(n: usize, total: usize, noun: &str) -> String {
    format!("{n} of {total} {noun}")
}

fn plural(n: usize, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 { one } else { many }
}

/// The report's sources of results, each a [`Section`]: Kubernetes objects (unless only the
/// cloud was compared), then each cloud's resources. A new source is one more function
/// mapping its results into rows, called here.
pub fn sections(report: &Report) -> Vec<Section> {
    let mut out = Vec::new();
    if report.source != NO_KUBERNETES_SOURCE || !report.objects.is_empty() {
        out.push(kubernetes_section(report));
    }
    if let Some(cloud) = &report.cloud {
        out.push(stackit_section(cloud));
    }
    if let Some(vpsie) = &report.vpsie {
        out.push(vpsie_section(vpsie));
    }
    if let Some(kubevirt) = &report.kubevirt {
        out.push(kubevirt_section(kubevirt));
    }
    out
}

/// The VPSie node groups, VMs and Nodes: status, what it is, its kind, and its lines.
fn vpsie_section(vpsie: &VpsieReport) -> Section {
    let rows = vpsie
        .rows()
        .map(|r| {
            let mut row = Row::new(r.status().as_str(), r.heading());
            row.columns.push(r.kind().to_owned());
            row.lines = r.lines();
            row
        })
        .collect();
    Section {
        title: "VPSie nodes".to_owned(),
        noun: "groups, VMs and Nodes".to_owned(),
        origin: Some(vpsie.origin_line()),
        heading_column: "Resource".to_owned(),
        columns: vec!["Kind".to_owned()],
        rows,
    }
}

/// The KubeVirt VMs: status, VM, its state and run strategy, and its lines.
fn kubevirt_section(kubevirt: &KubevirtReport) -> Section {
    let rows = kubevirt
        .vms
        .iter()
        .map(|v| {
            let mut row = Row::new(v.status.as_str(), v.heading());
            row.columns
                .push(v.state.map(|s| s.as_str().to_owned()).unwrap_or_default());
            row.columns
                .push(v.strategy.as_deref().map(code_span).unwrap_or_default());
            row.lines = v.lines();
            row
        })
        .collect();
    Section {
        title: "KubeVirt VMs".to_owned(),
        noun: "VMs".to_owned(),
        origin: Some(kubevirt.origin_line()),
        heading_column: "VM".to_owned(),
        columns: vec!["State".to_owned(), "Run strategy".to_owned()],
        rows,
    }
}

/// The Kubernetes objects: status, object, asset, and the fields of each group, notes and
/// stale overrides.
fn kubernetes_section(report: &Report) -> Section {
    let rows = report
        .objects
        .iter()
        .map(|o| {
            let mut row = Row::new(o.status.as_str(), code_span(&o.key.to_string()));
            row.columns
                .push(o.asset.as_deref().map(code_span).unwrap_or_default());
            for group in Group::ALL {
                if !group.of(o).is_empty() {
                    fields(&mut row.detail_html, group.of(o), group, |c| {
                        report.content_diff(o, c)
                    });
                }
            }
            row.lines.extend(o.notes.iter().cloned());
            row.lines.extend(
                o.stale_overrides
                    .iter()
                    .map(|s| format!("stale override: {s}")),
            );
            row
        })
        .collect();
    Section {
        title: "Kubernetes objects".to_owned(),
        noun: "objects".to_owned(),
        origin: None,
        heading_column: "Object".to_owned(),
        columns: vec!["Asset".to_owned()],
        rows,
    }
}

/// The STACKIT servers: status, server, class, their differences with the class and lines.
fn stackit_section(cloud: &CloudReport) -> Section {
    let rows = cloud
        .servers
        .iter()
        .map(|s| {
            let mut row = Row::new(s.status.as_str(), code_span(&s.name));
            row.columns.push(
                s.machine_class
                    .as_deref()
                    .map(code_span)
                    .unwrap_or_default(),
            );
            if !s.changes.is_empty() {
                fields(&mut row.detail_html, &s.changes, Group::Changes, |_| None);
            }
            row.lines = s.lines();
            row
        })
        .collect();
    Section {
        title: "STACKIT servers".to_owned(),
        noun: "servers".to_owned(),
        origin: Some(cloud.origin_line()),
        heading_column: "Server".to_owned(),
        columns: vec!["Class".to_owned()],
        rows,
    }
}

/// `text` as a code span of the wording (`` `text` ``, or ``` `` te`xt `` ``` when it has a
/// backtick).
pub fn code_span(text: &str) -> String {
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

/// The page up to its `<h1>` `title`: no script, no external fetch (a Content-Security-Policy
/// that forbids them), the style inline with `badges`, the colours of the status badges.
pub fn open_page(out: &mut String, title: &str, badges: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>{LAYOUT}{badges}{FOLDS}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(title),
        esc(title)
    );
}

/// The summary table: a row of each badge (the first column, headed `heading`) with its
/// count of objects, and the `total`.
pub fn summary_table(
    out: &mut String,
    heading: &str,
    rows: impl Iterator<Item = (String, usize)>,
    total: usize,
) {
    open_table(out, None, &[heading, "Objects"]);
    for (badge, n) in rows {
        row(out, [badge, n.to_string()]);
        out.push('\n');
    }
    let _ = writeln!(out, "<tr><th>total</th><th>{total}</th></tr>\n</table>");
}

/// A `<details>` of `changes`, fields of `group`: field, desired and live (a decoded file
/// content, `diff` of the change, as one diff across both), and who wrote them when the group
/// has that column.
pub fn fields<'r>(
    out: &mut String,
    changes: &[FieldChange],
    group: Group,
    diff: impl Fn(&FieldChange) -> Option<&'r str>,
) {
    let who = group.who_column(changes);
    let summary = format!("{} {}", changes.len(), group.title().unwrap_or("field(s)"));
    let extra = who.map(|w| format!("<th>{w}</th>")).unwrap_or_default();
    let _ = write!(
        out,
        "<details open><summary>{}</summary><table><tr><th>Field</th><th>Desired</th><th>Live</th>{extra}</tr>",
        esc(&summary)
    );
    for c in changes {
        let _ = write!(out, "<tr><td><code>{}</code></td>", esc(c.shown_path()));
        if let Some(diff) = diff(c) {
            let _ = write!(out, "<td colspan=\"2\"><pre>{}</pre></td>", esc(diff));
        } else {
            let (desired, live) = (pretty(c.before.as_ref()), pretty(c.after.as_ref()));
            let (desired, live) = html_kit::marked_pair(&desired, &live)
                .unwrap_or_else(|| (esc(&desired), esc(&live)));
            let _ = write!(
                out,
                "<td><pre>{desired}</pre></td><td><pre>{live}</pre></td>"
            );
        }
        if who.is_some() {
            let _ = write!(out, "<td>{}</td>", html_kit::inline(&group.who_cell(c)));
        }
        out.push_str("</tr>");
    }
    out.push_str("</table></details>");
}

/// One table row of `cells` (HTML already).
pub fn row<const N: usize>(out: &mut String, cells: [String; N]) {
    out.push_str("<tr>");
    for cell in cells {
        let _ = write!(out, "<td>{cell}</td>");
    }
    out.push_str("</tr>");
}

/// A status as a coloured badge.
pub fn badge(status: &str) -> String {
    html_kit::badge(status)
}

/// A table (under an `<h2>` heading when there is one) and its header row.
pub fn open_table(out: &mut String, heading: Option<&str>, columns: &[&str]) {
    if let Some(heading) = heading {
        let _ = writeln!(out, "<h2>{heading}</h2>");
    }
    out.push_str("<table>\n<tr>");
    for column in columns {
        let _ = write!(out, "<th>{column}</th>");
    }
    out.push_str("</tr>\n");
}

pub fn pretty(value: Option<&serde_json::Value>) -> String {
    match value {
        Some(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
            serde_json::to_string_pretty(v).unwrap_or_default()
        }
        other => show(other),
    }
}

pub fn esc(text: &str) -> String {
    markup::escape(text, markup::Dialect::Html)
}

#[cfg(test)]
mod tests {
    use plinth_vocab::ObjectRef;

    use super::*;
    use crate::core::report::{Mode, ObjectResult};

    fn object(name: &str, status: Status, note: &str) -> ObjectResult {
        ObjectResult {
            key: ObjectRef::new("v1", "ConfigMap", Some("apps"), name),
            api_version: "v1".into(),
            asset: None,
            status,
            changes: vec![],
            pending_removal: vec![],
            managed: vec![],
            notes: vec![note.to_owned()],
            stale_overrides: vec![],
        }
    }

    fn report(objects: Vec<ObjectResult>) -> Report {
        Report::new(
            "c",
            "2026-01-01T00:00:00Z".into(),
            Mode::Client,
            "snapshot",
            objects,
            vec![],
        )
    }

    /// The headline says the verdict in words: in sync, drift in how many, incomplete.
    #[test]
    fn the_headline_says_the_verdict() {
        let quiet = object("a", Status::InSync, "");
        assert_eq!(
            headline(&report(vec![quiet.clone()])),
            ("in-sync", "In sync: 1 object".to_owned())
        );
        let drifted = object("b", Status::Drifted, "");
        assert_eq!(
            headline(&report(vec![quiet.clone(), drifted.clone()])),
            ("drift", "Drift in 1 of 2 objects".to_owned())
        );
        let error = object("e", Status::Error, "");
        assert_eq!(
            headline(&report(vec![quiet, drifted, error])),
            (
                "incomplete",
                "Incomplete: 1 of 3 objects could not be compared; drift in 1 of 3 objects"
                    .to_owned()
            )
        );
    }

    /// The verdict first, problems before the in-sync rows (folded), code spans as `<code>`.
    #[test]
    fn problems_come_first_and_no_markdown_is_left() {
        let html = render(&report(vec![
            object("a", Status::InSync, "compared `v1`"),
            object("b", Status::Missing, "note with `code`"),
            object("c", Status::Orphaned, ""),
            object("d", Status::Unmanaged, ""),
        ]));
        let at = |needle: &str| {
            html.find(needle)
                .unwrap_or_else(|| panic!("{needle}: {html}"))
        };
        assert!(at("id=\"verdict\"") < at("<table"));
        assert!(at("data-status=\"orphaned\"") < at("data-status=\"missing\""));
        assert!(at("data-status=\"missing\"") < at("data-status=\"unmanaged\""));
        assert!(at("<details class=\"quiet\">") < at("data-status=\"in-sync\""));
        assert!(html.contains("note with <code>code</code>"));
        assert!(!html[at("<body>")..].contains('`'), "{html}");
    }
}
