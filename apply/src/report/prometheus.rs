//! The Prometheus text exposition of an apply report (for a node-exporter textfile collector
//! or a Pushgateway): objects by cluster, kind and outcome; applies, throttles and pauses by
//! cluster and kind; whether the run was a dry run and when it ran.

use std::fmt::Write as _;

use plinth_drift::core::report::epoch_of;
use plinth_drift::core::report::prometheus::{count, gauges, header, label, objects_by_kind};

use crate::outcome::{ApplyReport, Outcome};

/// Renders the report as Prometheus text exposition format 0.0.4.
pub fn render(report: &ApplyReport) -> String {
    let cluster = label(&report.cluster);
    let mut out = String::new();
    let by_kind = objects_by_kind(
        &mut out,
        [
            "plinth_apply_objects",
            "Objects by cluster, kind and apply outcome (in a dry run, the outcome the run would have).",
            "outcome",
        ],
        &cluster,
        &Outcome::ALL,
        report
            .objects
            .iter()
            .map(|o| (o.key.kind.as_str(), o.outcome)),
    );
    // A dry run writes nothing: its applies are 0 (its plan is in `plinth_apply_objects`).
    let written: &[Outcome] = if report.dry_run {
        &[]
    } else {
        &[Outcome::Created, Outcome::Configured]
    };
    let per_kind: [(&str, &str, &[Outcome]); 3] = [
        (
            "plinth_apply_applies",
            "Objects written by server-side apply (created or configured); 0 in a dry run.",
            written,
        ),
        (
            "plinth_apply_throttles",
            "Drifted objects left alone because their anti-thrashing bucket was empty.",
            &[Outcome::Throttled],
        ),
        (
            "plinth_apply_pauses",
            "Objects left alone because reconcile-paused is set (by a person, or by plinth after repeated throttling).",
            &[Outcome::Paused],
        ),
    ];
    for (name, help, outcomes) in per_kind {
        header(&mut out, name, help);
        for (kind, counts) in &by_kind {
            let n: usize = outcomes
                .iter()
                .map(|o| counts.get(o).copied().unwrap_or(0))
                .sum();
            let _ = writeln!(
                out,
                "{name}{{cluster=\"{cluster}\",kind=\"{}\"}} {}",
                label(kind),
                count(n)
            );
        }
    }
    let per_cluster: [(&str, &str, i64); 2] = [
        (
            "plinth_apply_dry_run",
            "1 when the report is a dry run's plan (nothing written), 0 for an apply.",
            i64::from(report.dry_run),
        ),
        (
            "plinth_apply_last_run_timestamp_seconds",
            "When the apply report was made.",
            epoch_of(&report.generated_at).unwrap_or(0),
        ),
    ];
    gauges(&mut out, &cluster, &per_cluster);
    out
}
