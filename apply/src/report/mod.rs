//! The apply report in the six formats of the drift report ([`Format`], shared with it):
//! text (the `--dry-run` plan and the run's result), JSON (the documented schema), Markdown,
//! `JUnit` XML, Prometheus text exposition and a self-contained HTML page. Every format takes
//! a report already [redacted](crate::outcome::ApplyReport::redacted) and writes its objects
//! in apply order.

pub mod html;
pub mod junit;
pub mod markdown;
pub mod prometheus;
pub mod text;

pub use plinth_drift::Format;

use plinth_drift::core::report::text::summary_of;

use crate::outcome::{ApplyReport, Conflict, ObjectOutcome};

/// Renders `report` (already redacted) in `format`.
pub fn render(format: Format, report: &ApplyReport) -> String {
    match format {
        Format::Text => text::render(report),
        Format::Json => plinth_drift::core::report::json::render(report),
        Format::Markdown => markdown::render(report),
        Format::Junit => junit::render(report),
        Format::Prometheus => prometheus::render(report),
        Format::Html => html::render(report),
    }
}

/// The file `format` is written to with `--output-dir`.
pub fn file_name(format: Format) -> &'static str {
    match format {
        Format::Text => "apply.txt",
        Format::Json => "apply.json",
        Format::Markdown => "apply.md",
        Format::Junit => "apply-junit.xml",
        Format::Prometheus => "apply.prom",
        Format::Html => "apply.html",
    }
}

/// What the report is, for a heading: `apply plan (dry run)` or `apply report`.
fn title(report: &ApplyReport) -> &'static str {
    if report.dry_run {
        "apply plan (dry run)"
    } else {
        "apply report"
    }
}

/// `cluster source, generated 2026-…`: where live state came from and when.
fn provenance(report: &ApplyReport) -> String {
    format!(
        "{} source, generated {}",
        report.source, report.generated_at
    )
}

/// `12 objects: 2 created, 1 configured, 9 unchanged` (zero counts left out; a dry run's
/// actions as `would create`, ...).
pub fn summary_line(report: &ApplyReport) -> String {
    summary_of(
        report.objects.len(),
        report
            .outcome_counts()
            .map(|(o, n)| (o.verb(report.dry_run), n)),
    )
}

/// `conflict with "kubectl-edit": .spec.replicas, .spec.paused; with "helm": .data.x` (the
/// managers in the order the server named them, each with its fields); `None` without
/// conflicts.
pub fn conflicts(conflicts: &[Conflict]) -> Option<String> {
    let mut managers: Vec<(&str, Vec<&str>)> = Vec::new();
    for c in conflicts {
        match managers.iter_mut().find(|(m, _)| *m == c.manager) {
            Some((_, fields)) => fields.push(&c.field),
            None => managers.push((&c.manager, vec![&c.field])),
        }
    }
    let parts: Vec<String> = managers
        .iter()
        .map(|(m, fields)| format!("with {m:?}: {}", fields.join(", ")))
        .collect();
    (!parts.is_empty()).then(|| format!("conflict {}", parts.join("; ")))
}

/// What an object's line says after its name, as plain text (each format escapes it):
/// the reason, the conflicts and the throttle state.
pub fn details(o: &ObjectOutcome) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(reason) = &o.reason {
        out.push(reason.clone());
    }
    out.extend(conflicts(&o.conflicts));
    if let Some(t) = &o.throttle {
        out.push(format!("throttle: {t}"));
    }
    out
}

#[cfg(test)]
mod tests;
