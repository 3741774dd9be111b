//! The terminal report: a summary line, then every object that is not in sync with its
//! field-level changes (who wrote them, where known), pending removals, controller-managed
//! fields, stale overrides and hardware drift.

use std::fmt::Write as _;

use plinth_vocab::change::FieldChange;

use super::wording::Group;
use super::{Report, show};
use crate::core::report::cloud::CloudReport;
use crate::core::report::kubevirt::KubevirtReport;
use crate::core::report::vpsie::VpsieReport;

/// Renders the report as plain text (no colour).
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "drift report for cluster `{}` ({}, {})",
        report.cluster,
        report.provenance(),
        report.generated_at
    );
    let _ = writeln!(out, "{}", summary_line(report));
    for o in report.not_in_sync() {
        out.push('\n');
        let _ = writeln!(out, "{:<9} {}{}", o.status.as_str(), o.key, o.asset_note());
        for group in Group::ALL {
            for c in group.of(o) {
                field(&mut out, c, report.content_diff(o, c), group.who_line(c));
            }
        }
        for n in &o.notes {
            let _ = writeln!(out, "    note: {n}");
        }
    }
    let stale = report.stale_overrides();
    if !stale.is_empty() {
        let _ = writeln!(out, "\nstale overrides:");
        for (o, s) in stale {
            let _ = writeln!(out, "  {}: {s}", o.key);
        }
    }
    if !report.hardware.is_empty() {
        let _ = writeln!(out, "\nhardware drift:");
        for h in &report.hardware {
            let nodes = if h.nodes.is_empty() {
                String::new()
            } else {
                format!(" (live on {})", h.nodes.join(", "))
            };
            let _ = writeln!(
                out,
                "  detector `{}`: committed inventory says {}, live nodes say {}{nodes}",
                h.detector, h.committed, h.live
            );
        }
    }
    if let Some(cloud) = &report.cloud {
        cloud_section(&mut out, cloud);
    }
    if let Some(vpsie) = &report.vpsie {
        vpsie_section(&mut out, vpsie);
    }
    if let Some(kubevirt) = &report.kubevirt {
        kubevirt_section(&mut out, kubevirt);
    }
    out
}

/// The KubeVirt section: what was compared, the VMs' summary, then every finding with its
/// state, strategy, error and notes.
fn kubevirt_section(out: &mut String, kubevirt: &KubevirtReport) {
    let _ = writeln!(out, "\n{}", kubevirt.origin_line());
    let _ = writeln!(out, "{}", kubevirt.summary_line());
    for v in kubevirt.findings() {
        out.push('\n');
        let _ = writeln!(out, "{:<9} {}", v.status.as_str(), v.heading());
        for line in v.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
}

/// The VPSie section: what was compared, the summary, then every group, VM and Node that is a
/// finding with its details and notes.
fn vpsie_section(out: &mut String, vpsie: &VpsieReport) {
    let _ = writeln!(out, "\n{}", vpsie.origin_line());
    let _ = writeln!(out, "{}", vpsie.summary_line());
    for row in vpsie.findings() {
        out.push('\n');
        let _ = writeln!(out, "{:<9} {}", row.status().as_str(), row.heading());
        for line in row.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
}

/// The cloud section: the servers' summary, then every server with its differences, what a
/// replacement would change, what could not be compared, and notes.
fn cloud_section(out: &mut String, cloud: &CloudReport) {
    let _ = writeln!(out, "\ncloud: {}", cloud.origin_line());
    let _ = writeln!(out, "{}", cloud.summary_line());
    for s in &cloud.servers {
        out.push('\n');
        let _ = writeln!(out, "{:<9} {}", s.status.as_str(), s.heading());
        for c in &s.changes {
            field(out, c, None, None);
        }
        for line in s.lines() {
            let _ = writeln!(out, "    {line}");
        }
    }
}

/// One changed field: where, both values (or the decoded `diff` of a file's contents) and
/// who wrote it.
pub fn field(out: &mut String, c: &FieldChange, diff: Option<&str>, who: Option<String>) {
    let _ = writeln!(out, "    {}", c.shown_path());
    if let Some(diff) = diff {
        let _ = writeln!(out, "      file contents (decoded):");
        for line in diff.lines() {
            let _ = writeln!(out, "        {line}");
        }
    } else {
        let _ = writeln!(out, "      desired: {}", show(c.before.as_ref()));
        let _ = writeln!(out, "      live:    {}", show(c.after.as_ref()));
    }
    if let Some(who) = who {
        let _ = writeln!(out, "      {who}");
    }
}

/// `12 objects: 8 in-sync, 2 drifted, 1 missing, 1 orphaned` (zero counts left out).
pub fn summary_line(report: &Report) -> String {
    summary_of(
        report.objects.len(),
        report.status_counts().map(|(s, n)| (s.as_str(), n)),
    )
}

/// `12 objects: 8 in-sync, 2 drifted` for `n` objects and the `counts` of each word.
pub fn summary_of<'a>(n: usize, counts: impl Iterator<Item = (&'a str, usize)>) -> String {
    counted(n, ["object", "objects"], counts)
}

/// `3 VMs: 1 in-sync, 2 drifted` for `n` things named `[singular, plural]` and the `counts`
/// of each word (zero counts left out by the caller).
pub fn counted<'a>(
    n: usize,
    [singular, plural]: [&str; 2],
    counts: impl Iterator<Item = (&'a str, usize)>,
) -> String {
    let parts: Vec<String> = counts.map(|(word, k)| format!("{k} {word}")).collect();
    let noun = if n == 1 { singular } else { plural };
    if parts.is_empty() {
        format!("{n} {noun}")
    } else {
        format!("{n} {noun}: {}", parts.join(", "))
    }
}
