//! The Markdown report, for a pull request comment or an issue: a summary table, every
//! object in apply order in one table (outcome, object, wave, reason, conflicts, throttle
//! state, notes), then one section per object with changes, in a field/desired/live table
//! with who wrote them.

use std::fmt::Write as _;

use plinth_drift::core::report::markdown::{cell, code, prose, row, table};
use plinth_drift::core::report::wording::Group;

use crate::outcome::ApplyReport;

/// Renders the report as GitHub-flavoured Markdown.
pub fn render(report: &ApplyReport) -> String {
    let mut out = String::new();
    let title = super::title(report);
    let mut heading = title[..1].to_uppercase();
    heading.push_str(&title[1..]);
    let _ = writeln!(out, "## {heading}: `{}`\n", cell(&report.cluster));
    let _ = writeln!(out, "{}.\n", prose(&super::provenance(report)));
    let _ = writeln!(out, "| Outcome | Objects |\n|---|---:|");
    for (o, n) in report.outcome_counts() {
        row(
            &mut out,
            &[o.verb(report.dry_run).to_owned(), n.to_string()],
        );
    }
    let _ = writeln!(out, "| **total** | **{}** |", report.objects.len());
    if report.objects.is_empty() {
        return out;
    }
    let _ = writeln!(
        out,
        "\n| Outcome | Object | Wave | Details |\n|---|---|---:|---|"
    );
    for o in &report.objects {
        let mut details = super::details(o);
        details.extend(o.notes.iter().cloned());
        let details: Vec<String> = details.iter().map(|d| prose(d)).collect();
        row(
            &mut out,
            &[
                o.outcome.verb(report.dry_run).to_owned(),
                code(&o.key.to_string()),
                o.wave.to_string(),
                details.join("<br>"),
            ],
        );
    }
    for o in report.objects.iter().filter(|o| !o.changes.is_empty()) {
        let _ = writeln!(
            out,
            "\n### {} {}\n",
            o.outcome.verb(report.dry_run),
            code(&o.key.to_string())
        );
        table(&mut out, &o.changes, Group::Changes, |_| None);
    }
    out
}
