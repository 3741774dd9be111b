//! The self-contained HTML report: inline style, no script and no external fetch; per-object
//! status, and desired and live values side by side for every changed field.

use std::fmt::Write as _;

use super::{Report, markup, show};

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24}\
table{border-collapse:collapse;margin:.5rem 0 1rem}\
td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}\
th{background:#f6f8fa}code,pre{font-family:ui-monospace,monospace;font-size:.9em}\
pre{margin:0;white-space:pre-wrap;word-break:break-all}\
.s{font-weight:600;padding:.1rem .4rem;border-radius:.3rem}\
.in-sync{background:#dafbe1}.drifted,.missing,.orphaned,.refused,.invalid{background:#ffebe9}\
.error{background:#ffd8b5}.unmanaged,.paused{background:#eaeef2}\
details{margin:.5rem 0}summary{cursor:pointer}";

/// Renders the report as one HTML page.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let title = format!("plinth drift report: {}", report.cluster);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(&title),
        esc(&title)
    );
    let _ = writeln!(
        out,
        "<p>{}, generated {}.</p>",
        esc(&report.provenance()),
        esc(&report.generated_at)
    );
    open_table(&mut out, None, &["Status", "Objects"]);
    for (s, n) in report.status_counts() {
        row(&mut out, [badge(s.as_str()), n.to_string()]);
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "<tr><th>total</th><th>{}</th></tr>\n</table>",
        report.objects.len()
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
        if !o.changes.is_empty() {
            let _ = write!(
                out,
                "<details open><summary>{} field(s)</summary><table><tr><th>Field</th><th>Desired</th><th>Live</th></tr>",
                o.changes.len()
            );
            for c in &o.changes {
                row(
                    &mut out,
                    [
                        format!("<code>{}</code>", esc(&c.pointer)),
                        format!("<pre>{}</pre>", esc(&pretty(c.before.as_ref()))),
                        format!("<pre>{}</pre>", esc(&pretty(c.after.as_ref()))),
                    ],
                );
            }
            out.push_str("</table></details>");
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
    out.push_str("</body>\n</html>\n");
    out
}

/// One table row of `cells` (HTML already).
fn row<const N: usize>(out: &mut String, cells: [String; N]) {
    out.push_str("<tr>");
    for cell in cells {
        let _ = write!(out, "<td>{cell}</td>");
    }
    out.push_str("</tr>");
}

/// A status as a coloured badge.
fn badge(status: &str) -> String {
    format!("<span class=\"s {status}\">{status}</span>")
}

/// A table (under an `<h2>` heading when there is one) and its header row.
fn open_table(out: &mut String, heading: Option<&str>, columns: &[&str]) {
    if let Some(heading) = heading {
        let _ = writeln!(out, "<h2>{heading}</h2>");
    }
    out.push_str("<table>\n<tr>");
    for column in columns {
        let _ = write!(out, "<th>{column}</th>");
    }
    out.push_str("</tr>\n");
}

fn pretty(value: Option<&serde_json::Value>) -> String {
    match value {
        Some(v @ (serde_json::Value::Object(_) | serde_json::Value::Array(_))) => {
            serde_json::to_string_pretty(v).unwrap_or_default()
        }
        other => show(other),
    }
}

fn esc(text: &str) -> String {
    markup::escape(text, markup::Dialect::Html)
}
