//! The terminal report, which is also the `--dry-run` plan: one line per object in apply
//! order (`created   Deployment.apps/ns/name`, or `would create …` in a dry run) with its
//! reason, conflicts and throttle state, the fields it changes with who wrote them, its
//! notes, and a summary line.

use std::fmt::Write as _;

use plinth_drift::core::report::text::field;
use plinth_drift::core::report::wording::Group;

use crate::outcome::ApplyReport;

/// Renders the report as plain text (no colour).
pub fn render(report: &ApplyReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} for cluster `{}` ({})",
        super::title(report),
        report.cluster,
        super::provenance(report)
    );
    // The verb column: as wide as `would configure` in a plan; in a run as wide as drift's
    // status column (`configured` runs one over).
    let width = if report.dry_run { 15 } else { 9 };
    for o in &report.objects {
        let details = super::details(o);
        let details = if details.is_empty() {
            String::new()
        } else {
            format!(" ({})", one_line(&details.join("; ")))
        };
        let _ = writeln!(
            out,
            "{:<width$} {}{details}",
            o.outcome.verb(report.dry_run),
            one_line(&o.key.to_string())
        );
        for c in &o.changes {
            field(&mut out, c, None, Group::Changes.who_line(c));
        }
        for n in &o.notes {
            let _ = writeln!(out, "    note: {}", one_line(n));
        }
    }
    let _ = writeln!(out, "\n{}", super::summary_line(report));
    out
}

/// `text` on one line: a reason or note carrying a newline cannot forge another object's
/// line.
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}
