//! The Prometheus text exposition of a report (for a node-exporter textfile collector or a
//! Pushgateway): objects by cluster, kind and status, changes, pending removals,
//! controller-managed fields, stale overrides, hardware drift and the timestamp of the run.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::{Report, Status, epoch_of};

/// Renders the report as Prometheus text exposition format 0.0.4.
pub fn render(report: &Report) -> String {
    let cluster = label(&report.cluster);
    let mut by_kind: BTreeMap<&str, BTreeMap<Status, usize>> = BTreeMap::new();
    for o in &report.objects {
        *by_kind
            .entry(&o.key.kind)
            .or_default()
            .entry(o.status)
            .or_default() += 1;
    }
    let mut out = String::new();
    header(
        &mut out,
        "plinth_drift_objects",
        "Objects by cluster, kind and drift status.",
    );
    for (kind, counts) in &by_kind {
        for s in Status::ALL {
            let n = counts.get(&s).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "plinth_drift_objects{{cluster=\"{cluster}\",kind=\"{}\",status=\"{}\"}} {n}",
                label(kind),
                s.as_str()
            );
        }
    }
    let changes: usize = report.objects.iter().map(|o| o.changes.len()).sum();
    let stale: usize = report.objects.iter().map(|o| o.stale_overrides.len()).sum();
    let pending: usize = report.objects.iter().map(|o| o.pending_removal.len()).sum();
    let managed: usize = report.objects.iter().map(|o| o.managed.len()).sum();
    let per_cluster: [(&str, &str, i64); 6] = [
        (
            "plinth_drift_field_changes",
            "Field-level differences found.",
            count(changes),
        ),
        (
            "plinth_drift_pending_removals",
            "Live fields applied earlier and no longer rendered (drift: the next apply removes them).",
            count(pending),
        ),
        (
            "plinth_drift_managed_fields",
            "Live fields owned by a controller expected to write them (not drift).",
            count(managed),
        ),
        (
            "plinth_drift_stale_overrides",
            "Override annotations that no longer do anything.",
            count(stale),
        ),
        (
            "plinth_drift_hardware_drift",
            "Hardware detectors whose live value differs from the committed inventory.",
            count(report.hardware.len()),
        ),
        (
            "plinth_drift_last_run_timestamp_seconds",
            "When the drift report was made.",
            epoch_of(&report.generated_at).unwrap_or(0),
        ),
    ];
    for (name, help, value) in per_cluster {
        header(&mut out, name, help);
        let _ = writeln!(out, "{name}{{cluster=\"{cluster}\"}} {value}");
    }
    out
}

/// The `# HELP` and `# TYPE … gauge` lines of a metric.
fn header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// A count as a sample value.
fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Escapes a label value (backslash, quote, newline).
fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
