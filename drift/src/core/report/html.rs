//! The self-contained HTML report: inline style, no script and no external fetch; per-object
//! status, and desired and live values side by side for every changed field (who wrote it,
//! where known; decoded file contents as a diff), pending removals, and the fields
//! controllers manage (in-sync objects included).

use std::fmt::Write as _;

use plinth_vocab::change::FieldChange;

use super::wording::Group;
use super::{Report, markup, show};
use crate::core::report::cloud::CloudReport;

/// The page's style before the status badges' colours.
const LAYOUT: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24}\
table{border-collapse:collapse;margin:.5rem 0 1rem}\
td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}code,pre{font-family:ui-monospace,monospace;font-size:.9em}\
pre{margin:0;white-space:pre-wrap;word-break:break-all}\
.s{font-weight:600;padding:.1rem .4rem;border-radius:.3rem}";

/// The colours of the drift statuses' badges.
const BADGES: &str = ".in-sync{background:#dafbe1}.drifted,.missing,.orphaned,.refused,.invalid{background:#ffebe9}\
.error{background:#ffd8b5}.unmanaged,.paused{background:#eaeef2}";

/// The colours of the cloud servers' badges that the drift statuses do not have (only on a
/// page with cloud results).
const CLOUD_BADGES: &str = ".stale,.unhealthy{background:#ffebe9}";

/// The page's style after the badges' colours.
const FOLDS: &str = "details{margin:.5rem 0}summary{cursor:pointer}";

/// Renders the report as one HTML page.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let badges = if report.cloud.is_some() {
        format!("{BADGES}{CLOUD_BADGES}")
    } else {
        BADGES.to_owned()
    };
    open_page(
        &mut out,
        &format!("plinth drift report: {}", report.cluster),
        &badges,
    );
    let _ = writeln!(
        out,
        "<p>{}, generated {}.</p>",
        esc(&report.provenance()),
        esc(&report.generated_at)
    );
    summary_table(
        &mut out,
        "Status",
        report.status_counts().map(|(s, n)| (badge(s.as_str()), n)),
        report.objects.len(),
    );
    open_table(
        &mut out,
        Some("Objects"),
        &["Status", "Object", "Asset", "Details"],
    );
    for o in &report.objects {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>",
            badge(o.status.as_str()),
            esc(&o.key.to_string()),
            esc(o.asset.as_deref().unwrap_or(""))
        );
        for group in Group::ALL {
            if !group.of(o).is_empty() {
                fields(&mut out, group.of(o), group, |c| report.content_diff(o, c));
            }
        }
        for n in &o.notes {
            let _ = write!(out, "<div>{}</div>", esc(n));
        }
        for s in &o.stale_overrides {
            let _ = write!(out, "<div>stale override: {}</div>", esc(s));
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</table>\n");
    if !report.hardware.is_empty() {
        open_table(
            &mut out,
            Some("Hardware drift"),
            &["Detector", "Committed", "Live", "Live nodes"],
        );
        for h in &report.hardware {
            row(
                &mut out,
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
    if let Some(cloud) = &report.cloud {
        cloud_section(&mut out, cloud);
    }
    out.push_str("</body>\n</html>\n");
    out
}

/// The cloud section: a summary table and every server with its differences and lines.
fn cloud_section(out: &mut String, cloud: &CloudReport) {
    let _ = writeln!(out, "<h2>Cloud</h2>\n<p>{}.</p>", esc(&cloud.origin_line()));
    open_table(out, None, &["Status", "Servers"]);
    for (status, n) in cloud.status_counts() {
        row(out, [badge(status.as_str()), n.to_string()]);
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "<tr><th>total</th><th>{}</th></tr>\n</table>",
        cloud.servers.len()
    );
    open_table(out, None, &["Status", "Server", "Class", "Details"]);
    for s in &cloud.servers {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>",
            badge(s.status.as_str()),
            esc(&s.name),
            esc(s.machine_class.as_deref().unwrap_or(""))
        );
        if !s.changes.is_empty() {
            fields(out, &s.changes, Group::Changes, |_| None);
        }
        for line in s.lines() {
            let _ = write!(out, "<div>{}</div>", esc(&line));
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</table>\n");
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
        match diff(c) {
            Some(diff) => {
                let _ = write!(out, "<td colspan=\"2\"><pre>{}</pre></td>", esc(diff));
            }
            None => {
                let _ = write!(
                    out,
                    "<td><pre>{}</pre></td><td><pre>{}</pre></td>",
                    esc(&pretty(c.before.as_ref())),
                    esc(&pretty(c.after.as_ref()))
                );
            }
        }
        if who.is_some() {
            let _ = write!(out, "<td>{}</td>", esc(&group.who_cell(c)));
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
    format!("<span class=\"s {status}\">{status}</span>")
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
