//! The self-contained HTML apply report: inline style, no script and no external fetch (a
//! Content-Security-Policy forbids them), the summary, then every object in apply order with
//! its outcome, wave, asset, reason, conflicts, throttle state, notes and the fields it
//! changes (desired and live side by side, with who wrote them).

use std::fmt::Write as _;

use plinth_drift::core::report::html::{badge, esc, fields, open_page, open_table, summary_table};
use plinth_drift::core::report::wording::Group;

use crate::outcome::ApplyReport;

/// The colours of the outcomes' badges: green for written, grey for left alone on purpose,
/// red for left unapplied, orange for a failure.
const BADGES: &str = ".created,.configured,.pruned,.unchanged{background:#dafbe1}\
.skipped{background:#eaeef2}.throttled,.paused,.held,.conflict{background:#ffebe9}\
.failed{background:#ffd8b5}";

/// Renders the report as one HTML page.
pub fn render(report: &ApplyReport) -> String {
    let mut out = String::new();
    open_page(
        &mut out,
        &format!("plinth {}: {}", super::title(report), report.cluster),
        BADGES,
    );
    let _ = writeln!(out, "<p>{}.</p>", esc(&super::provenance(report)));
    summary_table(
        &mut out,
        "Outcome",
        report
            .outcome_counts()
            .map(|(o, n)| (outcome(o.as_str(), o.verb(report.dry_run)), n)),
        report.objects.len(),
    );
    open_table(
        &mut out,
        Some("Objects, in apply order"),
        &["Outcome", "Object", "Wave", "Asset", "Details"],
    );
    for o in &report.objects {
        let _ = write!(
            out,
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>",
            outcome(o.outcome.as_str(), o.outcome.verb(report.dry_run)),
            esc(&o.key.to_string()),
            o.wave,
            esc(o.asset.as_deref().unwrap_or(""))
        );
        for d in super::details(o).iter().chain(&o.notes) {
            let _ = write!(out, "<div>{}</div>", esc(d));
        }
        if !o.changes.is_empty() {
            fields(&mut out, &o.changes, Group::Changes, |_| None);
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</table>\n</body>\n</html>\n");
    out
}

/// An outcome's badge (coloured by the outcome, reading as the verb).
fn outcome(class: &str, verb: &str) -> String {
    if class == verb {
        badge(class)
    } else {
        format!("<span class=\"s {class}\">{verb}</span>")
    }
}
