//! The JSON report: the [`Report`] as serialised, a stable documented schema (docs/drift.md);
//! changes are additive only.

use serde::Serialize;

/// Renders the report (a drift [`Report`](super::Report), or any other report serialised as
/// its documented schema) as pretty JSON with a trailing newline.
pub fn render<R: Serialize>(report: &R) -> String {
    let mut out = serde_json::to_string_pretty(report).unwrap_or_default();
    out.push('\n');
    out
}
