//! The JSON report: the [`Report`] as serialised, a stable documented schema (docs/drift.md);
//! changes are additive only.

use super::Report;

/// Renders the report as pretty JSON with a trailing newline.
pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
    out.push('\n');
    out
}
