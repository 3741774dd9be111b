//! The self-contained HTML apply report: inline style, no script and no external fetch (a
//! Content-Security-Policy forbids them), the summary, then every object in apply order with
//! its outcome, wave, asset, reason, conflicts, throttle state, notes and the fields it
//! changes (desired and live side by side, with who wrote them).

use std::fmt::Write as _;

use plinth_drift::core::report::html::{esc, fields, open_page, open_table, summary_table};
use plinth_drift::core::report::html_kit::badge_as;
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
    body(&mut out, report, esc);
    out.push_str("</body>\n</html>\n");
    out
}

/// The page's content under its title: provenance, summary and the objects in apply order
/// (also a part of the fleet view); reasons and notes written as HTML by `text` (escaped,
/// or with their code spans as `<code>`).
pub fn body(out: &mut String, report: &ApplyReport, text: fn(&str) -> String) {
    let _ = writeln!(out, "<p>{}.</p>", esc(&super::provenance(report)));
    summary_table(
        out,
        "Outcome",
        report
            .outcome_counts()
            .map(|(o, n)| (outcome(o.as_str(), o.verb(report.dry_run)), n)),
        report.objects.len(),
    );
    open_table(
        out,
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
            let _ = write!(out, "<div>{}</div>", text(d));
        }
        if !o.changes.is_empty() {
            fields(out, &o.changes, Group::Changes, |_| None);
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</table>\n");
}

/// An outcome's badge (coloured by the outcome, reading as the verb).
fn outcome(class: &str, verb: &str) -> String {
    badge_as(class, verb)
}
