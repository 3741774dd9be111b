//! The fleet's Markdown summary, for a scheduled CI job's issue comment: the verdict, the
//! grid as a table, the problems list; at most [`MAX_CHARS`] characters (a GitHub comment's
//! limit), the problems and then the grid cut short with a note saying how many were left out.
//! Live text cannot forge Markdown (the drift report's escaping); names are code spans.

use std::fmt::Write as _;

use plinth_drift::core::report::markdown::{code, prose};

use crate::{Fleet, Problem};

/// The most characters a summary has (bytes, which are never fewer).
pub const MAX_CHARS: usize = 65_536;

/// Room kept for the closing note.
const NOTE_ROOM: usize = 400;

/// Renders the fleet's summary.
pub fn render(fleet: &Fleet) -> String {
    render_within(fleet, MAX_CHARS)
}

/// The summary in at most `limit` bytes (at least the heading and the verdict).
pub fn render_within(fleet: &Fleet, limit: usize) -> String {
    let mut out = String::from("## plinth fleet report\n\n");
    let _ = write!(out, "**{}**", prose(&fleet.headline()));
    if let Some(at) = &fleet.generated_at {
        let _ = write!(out, " (newest report generated {})", prose(at));
    }
    out.push_str("\n\n");
    let budget = limit.saturating_sub(NOTE_ROOM);
    let columns = fleet.columns();
    let mut header = String::from("| Cluster | State |");
    let mut rule = String::from("|---|---|");
    for (source, status) in &columns {
        let _ = write!(header, " {}: {status} |", source.noun());
        rule.push_str("---:|");
    }
    let _ = writeln!(out, "{header}\n{rule}");
    let mut left_out = Vec::new();
    for (i, c) in fleet.clusters.iter().enumerate() {
        let mut row = format!("| {} | {} |", code(&c.name), c.state().word());
        for (source, status) in &columns {
            match Fleet::count(c, *source, status) {
                Some(n) => {
                    let _ = write!(row, " {n} |");
                }
                None => row.push_str(" \u{2013} |"),
            }
        }
        row.push('\n');
        if out.len() + row.len() > budget {
            left_out.push(format!(
                "{} more cluster(s) in the grid",
                fleet.clusters.len() - i
            ));
            break;
        }
        out.push_str(&row);
    }
    let problems = fleet.problems();
    let _ = write!(out, "\n### Problems ({})\n\n", problems.len());
    if problems.is_empty() {
        out.push_str("None: every cluster is in sync.\n");
    }
    for (i, p) in problems.iter().enumerate() {
        let line = problem_line(p);
        if !left_out.is_empty() || out.len() + line.len() > budget {
            left_out.push(format!("{} more problem(s)", problems.len() - i));
            break;
        }
        out.push_str(&line);
    }
    if !left_out.is_empty() {
        let _ = writeln!(
            out,
            "\n*Cut short to fit a comment: {} not shown; the HTML page has everything.*",
            left_out.join(" and ")
        );
    }
    out
}

/// `- `cluster` **drifted** `Kind/ns/name`: details; changed by …`.
fn problem_line(p: &Problem) -> String {
    let mut line = format!(
        "- {} **{}** {}",
        code(&p.cluster),
        prose(&p.status),
        prose(&p.what)
    );
    if !p.detail.is_empty() {
        let _ = write!(line, ": {}", prose(&p.detail));
    }
    if !p.who.is_empty() {
        let _ = write!(line, "; changed by {}", prose(&p.who.join(", ")));
    }
    line.push('\n');
    line
}
