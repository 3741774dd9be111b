//! The KubeVirt part of a drift report: each VM's run-state result ([`VmRunResult`], its
//! [`RunStatus`]) and the [`KubevirtReport`] of a run, redacted like the rest of the report.
//! The mapping and the rules that make them are `core::kubevirt`.

use std::collections::BTreeMap;
use std::fmt;

use plinth_vocab::redact::Redactor;
use serde::{Deserialize, Serialize};

use super::present_counts;
use crate::core::report::cloud::printable;
use crate::core::report::text::counted;

/// At most this many characters of an error after redaction (condition messages can be
/// long).
const ERROR_CHARS: usize = 500;

/// A VM's run state in plinth's own model, decoupled from the Kubernetes types: no `pending`
/// (a VM on its way up is `stopped`, starting), and an error state is `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VmState {
    Running,
    Stopped,
    Stopping,
    Migrating,
    Failed,
}

impl VmState {
    /// The state as written in every format.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "running",
            Self::Stopped => "stopped",
            Self::Stopping => "stopping",
            Self::Migrating => "migrating",
            Self::Failed => "failed",
        }
    }

    /// Whether the VM is up (running or migrating to another host).
    pub fn is_up(self) -> bool {
        matches!(self, Self::Running | Self::Migrating)
    }
}

impl fmt::Display for VmState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A VM's run-state result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunStatus {
    /// The state is what the run strategy asks (or nothing is asked).
    InSync,
    /// On its way up, as the run strategy asks: not a finding.
    Starting,
    /// The state contradicts the run strategy.
    Drifted,
    /// An error state the run strategy does not excuse.
    Failed,
    /// Rendered, not listed in the cluster.
    Missing,
}

impl RunStatus {
    /// Every status, in report order.
    pub const ALL: [Self; 5] = [
        Self::InSync,
        Self::Starting,
        Self::Drifted,
        Self::Failed,
        Self::Missing,
    ];

    /// The status as written in every format.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InSync => "in-sync",
            Self::Starting => "starting",
            Self::Drifted => "drifted",
            Self::Failed => "failed",
            Self::Missing => "missing",
        }
    }

    /// Whether the status is a finding (exit code 1).
    pub fn is_finding(self) -> bool {
        matches!(self, Self::Drifted | Self::Failed | Self::Missing)
    }
}

impl fmt::Display for RunStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One VM's run-state result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmRunResult {
    pub namespace: String,
    pub name: String,
    /// plinth renders the VM (else it is listed through `--all-vms`).
    pub rendered: bool,
    pub status: RunStatus,
    /// The mapped state; absent for a `missing` VM.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<VmState>,
    /// The run strategy (`spec.runStrategy`, else the one `spec.running` stands for).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// The strategy was read from the deprecated `spec.running`.
    pub strategy_from_running: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printable_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vmi_phase: Option<String>,
    /// The error, from the printable status and the VM's failure conditions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `status.startFailure` counts failed starts in a row.
    pub crash_loop: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready: Option<bool>,
    pub notes: Vec<String>,
}

impl VmRunResult {
    /// ``vm `namespace/name` ``: how every format heads the VM.
    pub fn heading(&self) -> String {
        format!("vm `{}/{}`", self.namespace, self.name)
    }

    /// The lines every format shows under the VM: state and strategy, the error, the notes.
    pub fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(state) = self.state {
            let strategy = match (&self.strategy, self.strategy_from_running) {
                (Some(s), true) => format!("run strategy {s} (from spec.running)"),
                (Some(s), false) => format!("run strategy {s}"),
                (None, _) => "no run strategy".to_owned(),
            };
            let mut seen = vec![format!("state {state}"), strategy];
            seen.extend(
                self.printable_status
                    .iter()
                    .map(|p| format!("printableStatus {p}")),
            );
            seen.extend(self.vmi_phase.iter().map(|p| format!("VMI phase {p}")));
            lines.push(seen.join(", "));
        }
        lines.extend(self.error.iter().map(|e| format!("error: {e}")));
        if !self.rendered {
            lines.push("not rendered by plinth (listed with --all-vms)".to_owned());
        }
        lines.extend(self.notes.iter().cloned());
        lines
    }
}

/// The KubeVirt part of a drift report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KubevirtReport {
    /// `cluster` or `snapshot`.
    pub source: String,
    /// `--all-vms`: every listed VM was compared, rendered or not.
    pub all_vms: bool,
    /// Number of VMs per status (every status present, zeros included).
    pub summary: BTreeMap<RunStatus, usize>,
    /// VMs sorted by namespace and name.
    pub vms: Vec<VmRunResult>,
}

impl KubevirtReport {
    /// A report over `vms` (sorted here), with the summary computed.
    pub fn new(source: &str, all_vms: bool, mut vms: Vec<VmRunResult>) -> Self {
        vms.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let mut summary: BTreeMap<RunStatus, usize> =
            RunStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for v in &vms {
            *summary.entry(v.status).or_default() += 1;
        }
        Self {
            source: source.to_owned(),
            all_vms,
            summary,
            vms,
        }
    }

    /// `KubeVirt VMs (from the cluster, rendered VMs)`: what was compared.
    pub fn origin_line(&self) -> String {
        let source = if self.source == "cluster" {
            "listed from the cluster"
        } else {
            "from a snapshot"
        };
        let which = if self.all_vms {
            "every VM listed"
        } else {
            "rendered VMs"
        };
        format!("KubeVirt VMs ({source}, {which})")
    }

    /// Whether any VM is a finding.
    pub fn has_findings(&self) -> bool {
        self.vms.iter().any(|v| v.status.is_finding())
    }

    /// The statuses that at least one VM has, with their counts.
    pub fn status_counts(&self) -> impl Iterator<Item = (RunStatus, usize)> + '_ {
        present_counts(RunStatus::ALL, &self.summary)
    }

    /// The VMs that are findings.
    pub fn findings(&self) -> impl Iterator<Item = &VmRunResult> {
        self.vms.iter().filter(|v| v.status.is_finding())
    }

    /// `3 VMs: 1 in-sync, 2 drifted`.
    pub fn summary_line(&self) -> String {
        counted(
            self.vms.len(),
            ["VM", "VMs"],
            self.status_counts().map(|(s, n)| (s.as_str(), n)),
        )
    }

    /// A copy whose every string went through the redaction policy and lost its control
    /// characters: printable statuses and condition messages can carry anything.
    #[must_use]
    pub fn redacted(&self, redactor: &Redactor) -> Self {
        let mut out = self.clone();
        let clean = |text: &mut String| *text = printable(&redactor.redact_text(text));
        for v in &mut out.vms {
            for text in [&mut v.namespace, &mut v.name]
                .into_iter()
                .chain(v.strategy.as_mut())
                .chain(v.printable_status.as_mut())
                .chain(v.vmi_phase.as_mut())
                .chain(&mut v.notes)
            {
                clean(text);
            }
            if let Some(error) = &mut v.error {
                clean(error);
                // Cut after redaction: a secret across the cut is never shown in part.
                if error.chars().count() > ERROR_CHARS {
                    *error = error.chars().take(ERROR_CHARS).collect::<String>() + "…";
                }
            }
        }
        out
    }
}
