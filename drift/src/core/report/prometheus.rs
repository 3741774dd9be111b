//! The Prometheus text exposition of a report (for a node-exporter textfile collector or a
//! Pushgateway): objects by cluster, kind and status, changes, pending removals,
//! controller-managed fields, stale overrides, hardware drift and the timestamp of the run.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use super::{Report, Status, epoch_of};
use crate::core::report::cloud::{CloudReport, ServerStatus};
use crate::core::report::kubevirt::{KubevirtReport, RunStatus};
use crate::core::report::vpsie::{VpsieReport, VpsieStatus};

/// Renders the report as Prometheus text exposition format 0.0.4.
pub fn render(report: &Report) -> String {
    let cluster = label(&report.cluster);
    let mut out = String::new();
    objects_by_kind(
        &mut out,
        [
            "plinth_drift_objects",
            "Objects by cluster, kind and drift status.",
            "status",
        ],
        &cluster,
        &Status::ALL,
        report
            .objects
            .iter()
            .map(|o| (o.key.kind.as_str(), o.status)),
    );
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
    gauges(&mut out, &cluster, &per_cluster);
    if let Some(cloud) = &report.cloud {
        servers(&mut out, &cluster, cloud);
    }
    if let Some(vpsie) = &report.vpsie {
        vpsie_resources(&mut out, &cluster, vpsie);
    }
    if let Some(kubevirt) = &report.kubevirt {
        kubevirt_vms(&mut out, &cluster, kubevirt);
    }
    out
}

/// `plinth_drift_kubevirt_vms{cluster, status}`: the VMs by run-state status, zeros included.
fn kubevirt_vms(out: &mut String, cluster: &str, kubevirt: &KubevirtReport) {
    let name = "plinth_drift_kubevirt_vms";
    header(
        out,
        name,
        "KubeVirt VMs by cluster and run-state status against their run strategy.",
    );
    for status in RunStatus::ALL {
        let _ = writeln!(
            out,
            "{name}{{cluster=\"{cluster}\",status=\"{status}\"}} {}",
            kubevirt.summary.get(&status).copied().unwrap_or(0)
        );
    }
}

/// `plinth_drift_vpsie_resources{cluster, kind, status}`: the groups, VMs and Nodes by kind
/// (`group`, `vm`, `node`, each always present) and status, zeros included.
fn vpsie_resources(out: &mut String, cluster: &str, vpsie: &VpsieReport) {
    let name = "plinth_drift_vpsie_resources";
    header(
        out,
        name,
        "VPSie node groups, VMs and Nodes by cluster, kind and drift status.",
    );
    let mut counts: BTreeMap<(&str, VpsieStatus), usize> = BTreeMap::new();
    for row in vpsie.rows() {
        *counts.entry((row.kind(), row.status())).or_default() += 1;
    }
    for kind in ["group", "vm", "node"] {
        for status in VpsieStatus::ALL {
            let _ = writeln!(
                out,
                "{name}{{cluster=\"{cluster}\",kind=\"{kind}\",status=\"{status}\"}} {}",
                counts.get(&(kind, status)).copied().unwrap_or(0)
            );
        }
    }
}

/// `plinth_drift_cloud_servers{cluster, class, status}`: the servers by class (empty for a
/// server with a machine label and no class) and status, zeros included.
fn servers(out: &mut String, cluster: &str, cloud: &CloudReport) {
    let name = "plinth_drift_cloud_servers";
    header(
        out,
        name,
        "Cloud servers by cluster, machine class and drift status.",
    );
    let mut by_class: BTreeMap<&str, BTreeMap<ServerStatus, usize>> = BTreeMap::new();
    for s in &cloud.servers {
        *by_class
            .entry(s.machine_class.as_deref().unwrap_or(""))
            .or_default()
            .entry(s.status)
            .or_default() += 1;
    }
    for (class, counts) in &by_class {
        for status in ServerStatus::ALL {
            let _ = writeln!(
                out,
                "{name}{{cluster=\"{cluster}\",class=\"{}\",status=\"{status}\"}} {}",
                label(class),
                counts.get(&status).copied().unwrap_or(0)
            );
        }
    }
}

/// One gauge of each `(name, help, value)` for the cluster (`cluster`, a label value
/// already).
pub fn gauges(out: &mut String, cluster: &str, gauges: &[(&str, &str, i64)]) {
    for (name, help, value) in gauges {
        header(out, name, help);
        let _ = writeln!(out, "{name}{{cluster=\"{cluster}\"}} {value}");
    }
}

/// The gauge `[name, help, label]` of the objects by cluster (`cluster`, a label value
/// already), kind and `label` (each of `all`, zeros included) from the `(kind, value)` of
/// every object; returns those counts.
pub fn objects_by_kind<'a, K: Ord + Copy + fmt::Display>(
    out: &mut String,
    [name, help, label_name]: [&str; 3],
    cluster: &str,
    all: &[K],
    objects: impl Iterator<Item = (&'a str, K)>,
) -> BTreeMap<&'a str, BTreeMap<K, usize>> {
    let mut by_kind: BTreeMap<&str, BTreeMap<K, usize>> = BTreeMap::new();
    for (kind, value) in objects {
        *by_kind.entry(kind).or_default().entry(value).or_default() += 1;
    }
    header(out, name, help);
    for (kind, counts) in &by_kind {
        for value in all {
            let n = counts.get(value).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "{name}{{cluster=\"{cluster}\",kind=\"{}\",{label_name}=\"{value}\"}} {n}",
                label(kind),
            );
        }
    }
    by_kind
}

/// The `# HELP` and `# TYPE … gauge` lines of a metric.
pub fn header(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} gauge");
}

/// A count as a sample value.
pub fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Escapes a label value (backslash, quote, newline).
pub fn label(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
