//! What every preview format says the same way: the sides, counts, statuses, values,
//! inclusion changes and object headings.

use std::fmt::Write as _;

use serde_json::Value;

use crate::diff::{
    ClusterStatus, DiffReport, InclusionChange, InclusionDirection, ObjectDiff, Side,
};

/// Values longer than this are not repeated in field tables; the unified diff shows them.
const FIELD_VALUE_MAX: usize = 200;

pub(super) fn side_text(side: &Side) -> String {
    match &side.commit {
        Some(c) => format!("`{}` ({})", side.spec, &c[..7.min(c.len())]),
        None => format!("`{}`", side.spec),
    }
}

pub(super) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

pub(super) fn status_word(status: ClusterStatus) -> &'static str {
    match status {
        ClusterStatus::Added => "added",
        ClusterStatus::Removed => "removed",
        ClusterStatus::Changed => "changed",
    }
}

pub(super) fn value_text(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}

pub(super) fn short_value(v: Option<&Value>) -> String {
    let text = value_text(v);
    if text.chars().count() > FIELD_VALUE_MAX {
        format!("({} characters, see the diff)", text.chars().count())
    } else {
        text
    }
}

pub(super) fn counts_line(report: &DiffReport) -> String {
    let s = &report.summary;
    format!(
        "{} of {} clusters changed ({} added, {} removed); objects: {} added, {} removed, {} changed, {} renamed; {}; {} entering or leaving",
        s.clusters_changed + s.clusters_added + s.clusters_removed,
        s.clusters_compared,
        s.clusters_added,
        s.clusters_removed,
        s.objects_added,
        s.objects_removed,
        s.objects_changed,
        s.objects_renamed,
        plural(s.disruptions, "disruption"),
        plural(s.inclusion_changes, "asset"),
    )
}

pub(super) fn inclusion_text(i: &InclusionChange) -> String {
    let verb = match i.direction {
        InclusionDirection::Entered => "entered",
        InclusionDirection::Left => "left",
    };
    if i.conditions.is_empty() {
        return format!("asset `{}` {verb}: {}", i.asset, i.reason);
    }
    let why: Vec<String> = i
        .conditions
        .iter()
        .map(|c| {
            let b = c.before.map_or("absent".to_owned(), |v| v.to_string());
            let a = c.after.map_or("absent".to_owned(), |v| v.to_string());
            format!("`{}` {b} → {a} ({})", c.condition, c.because)
        })
        .collect();
    format!("asset `{}` {verb}: {}", i.asset, why.join("; "))
}

pub(super) fn object_heading(o: &ObjectDiff) -> String {
    let mut text = format!("{} {}", o.change.mark(), o.title());
    if let Some(prev) = &o.previous_name {
        let _ = write!(text, " (renamed from `{prev}`)");
    }
    let _ = write!(text, " [asset {}]", o.asset);
    text
}
