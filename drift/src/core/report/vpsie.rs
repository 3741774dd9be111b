//! The VPSie part of a drift report: each rendered node group's, VM's and Kubernetes Node's
//! result ([`GroupResult`], [`VmResult`], [`NodeResult`], their [`VpsieStatus`]) and the
//! [`VpsieReport`] of a run, redacted like the rest of the report. The matching that makes
//! them is `core::vpsie`.

use std::collections::BTreeMap;

use plinth_vocab::redact::Redactor;
use serde::{Deserialize, Serialize};

use super::present_counts;
use crate::core::report::cloud::printable;

/// The result of a node group, a VM or a Node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VpsieStatus {
    /// Nothing to report.
    InSync,
    /// A running VM with no Node yet, younger than the discovery timeout (not a finding).
    Joining,
    /// A running VM with no Node, older than the discovery timeout (or of unknown age).
    FailedToJoin,
    /// A VM of a group that is not running.
    NotRunning,
    /// A VM whose offering or image is not the group's.
    Stale,
    /// A Node the autoscaler labelled that no VM matched.
    OrphanedNode,
    /// A matched Node without the autoscaler's labels (or with wrong values).
    MissingLabels,
    /// A group whose VM count is outside `minNodes`..`maxNodes`.
    OutOfBounds,
    /// A group whose live `status` counts differ from the VMs and Nodes found.
    Miscounted,
    /// A rendered group the VPSie API does not list (or lists as deleted).
    MissingGroup,
}

impl VpsieStatus {
    /// Every status, in report order.
    pub const ALL: [Self; 10] = [
        Self::InSync,
        Self::Joining,
        Self::FailedToJoin,
        Self::NotRunning,
        Self::Stale,
        Self::OrphanedNode,
        Self::MissingLabels,
        Self::OutOfBounds,
        Self::Miscounted,
        Self::MissingGroup,
    ];

    /// The status as written in every format.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InSync => "in-sync",
            Self::Joining => "joining",
            Self::FailedToJoin => "failed-to-join",
            Self::NotRunning => "not-running",
            Self::Stale => "stale",
            Self::OrphanedNode => "orphaned-node",
            Self::MissingLabels => "missing-labels",
            Self::OutOfBounds => "out-of-bounds",
            Self::Miscounted => "miscounted",
            Self::MissingGroup => "missing-group",
        }
    }

    /// Whether the status is a finding (exit code 1): all but `in-sync` and `joining`.
    pub fn is_finding(self) -> bool {
        !matches!(self, Self::InSync | Self::Joining)
    }
}

impl std::fmt::Display for VpsieStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A rendered node group's result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupResult {
    pub name: String,
    pub status: VpsieStatus,
    /// The group's VMs that exist and are running (or joining).
    pub current: usize,
    /// Those matched to a Node whose `Ready` condition is `True`.
    pub ready: usize,
    pub min_nodes: i64,
    pub max_nodes: i64,
    /// The API's id of the group (`K8sNodeGroup.id`, else the live `status.vpsieGroupID`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpsie_group_id: Option<i64>,
    /// The API's own count of the group's nodes (`nodes_count`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub api_nodes_count: Option<i64>,
    /// The live `NodeGroup`'s `status.currentNodes` and `status.readyNodes`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_current: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_ready: Option<i64>,
    pub notes: Vec<String>,
}

/// A VM's result (only the VMs of rendered groups are listed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VmResult {
    pub hostname: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    /// The rendered group it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub status: VpsieStatus,
    /// The API's `status`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vm_status: Option<String>,
    /// `default_ip`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The Node matched to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// `ip` or `hostname`: how the Node was matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub matched_by: Option<String>,
    /// `created_on` as the API sent it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created_on: Option<String>,
    /// Seconds since `created_on` at the time of the run, when it parses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub age_secs: Option<i64>,
    /// The offering (`boxsize_id`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub offering: Option<i64>,
    pub notes: Vec<String>,
}

/// A Kubernetes Node's result (the Nodes matched to a listed VM, and the orphaned ones).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeResult {
    pub name: String,
    pub status: VpsieStatus,
    /// The group of its VM, else the group its `autoscaler.vpsie.com/nodegroup` label names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The hostname of the VM matched to it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vm: Option<String>,
    /// The keys of the autoscaler's labels it lacks or carries with a wrong value.
    pub missing_labels: Vec<String>,
    pub notes: Vec<String>,
}

/// What the formats need of every row, whatever its kind.
pub trait VpsieRow {
    /// `group`, `vm` or `node` (the Prometheus `kind`).
    fn kind(&self) -> &'static str;
    fn status(&self) -> VpsieStatus;
    /// How every format heads the row.
    fn heading(&self) -> String;
    /// A stable name of the row: `<group>`, `<group>/<hostname>`, `<node>`.
    fn key(&self) -> String;
    /// The lines every format shows under the heading: details, then notes.
    fn lines(&self) -> Vec<String>;
}

/// `` (group `g`)`` or ` (no group)`.
fn of_group(group: Option<&str>) -> String {
    group.map_or_else(|| " (no group)".to_owned(), |g| format!(" (group `{g}`)"))
}

impl VpsieRow for GroupResult {
    fn kind(&self) -> &'static str {
        "group"
    }
    fn status(&self) -> VpsieStatus {
        self.status
    }
    fn heading(&self) -> String {
        format!("node group `{}`", self.name)
    }
    fn key(&self) -> String {
        self.name.clone()
    }
    fn lines(&self) -> Vec<String> {
        let mut lines = vec![format!(
            "{} current, {} ready (minNodes {}, maxNodes {})",
            self.current, self.ready, self.min_nodes, self.max_nodes
        )];
        lines.extend(self.notes.iter().cloned());
        lines
    }
}

impl VpsieRow for VmResult {
    fn kind(&self) -> &'static str {
        "vm"
    }
    fn status(&self) -> VpsieStatus {
        self.status
    }
    fn heading(&self) -> String {
        format!("VM `{}`{}", self.hostname, of_group(self.group.as_deref()))
    }
    fn key(&self) -> String {
        format!("{}/{}", self.group.as_deref().unwrap_or(""), self.hostname)
    }
    fn lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let mut facts: Vec<String> = self.id.iter().map(|id| format!("id {id}")).collect();
        facts.extend(self.vm_status.iter().map(|s| format!("status `{s}`")));
        facts.extend(self.ip.iter().map(|ip| format!("IP {ip}")));
        facts.extend(self.offering.iter().map(|o| format!("offering {o}")));
        facts.extend(self.created_on.iter().map(|c| match self.age_secs {
            Some(age) => format!("created {c} ({} ago)", duration(age)),
            None => format!("created {c}"),
        }));
        if !facts.is_empty() {
            lines.push(facts.join(", "));
        }
        if let Some(node) = &self.node {
            let by = self.matched_by.as_deref().unwrap_or("?");
            lines.push(format!("Node `{node}` (matched by {by})"));
        }
        lines.extend(self.notes.iter().cloned());
        lines
    }
}

impl VpsieRow for NodeResult {
    fn kind(&self) -> &'static str {
        "node"
    }
    fn status(&self) -> VpsieStatus {
        self.status
    }
    fn heading(&self) -> String {
        format!("Node `{}`{}", self.name, of_group(self.group.as_deref()))
    }
    fn key(&self) -> String {
        self.name.clone()
    }
    fn lines(&self) -> Vec<String> {
        // The notes name each missing or wrong label (`missing_labels` lists their keys).
        let mut lines: Vec<String> = self.vm.iter().map(|vm| format!("VM `{vm}`")).collect();
        lines.extend(self.notes.iter().cloned());
        lines
    }
}

/// The rows the matching makes, before they are sorted into a [`VpsieReport`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VpsieResults {
    pub groups: Vec<GroupResult>,
    pub vms: Vec<VmResult>,
    pub nodes: Vec<NodeResult>,
}

/// Where the VMs of a [`VpsieReport`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpsieOrigin {
    /// `api` or `snapshot`.
    pub source: String,
    /// The VPSie cluster's UUID (the groups' `resourceIdentifier`).
    pub cluster_identifier: Option<String>,
}

/// The VPSie part of a drift report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VpsieReport {
    /// `api` (listed from the API) or `snapshot`.
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster_identifier: Option<String>,
    /// How long a running VM may go without a Node before it is `failed-to-join`.
    pub discovery_timeout_secs: i64,
    /// Number of groups, VMs and Nodes per status (every status present, zeros included).
    pub summary: BTreeMap<VpsieStatus, usize>,
    /// Groups by name.
    pub groups: Vec<GroupResult>,
    /// VMs by group, hostname and id.
    pub vms: Vec<VmResult>,
    /// Nodes by name.
    pub nodes: Vec<NodeResult>,
}

impl VpsieReport {
    /// A report over `results` (sorted here), with the summary computed.
    pub fn new(origin: VpsieOrigin, results: VpsieResults, discovery_timeout_secs: i64) -> Self {
        let VpsieResults {
            mut groups,
            mut vms,
            mut nodes,
        } = results;
        groups.sort_by(|a, b| a.name.cmp(&b.name));
        vms.sort_by(|a, b| (&a.group, &a.hostname, a.id).cmp(&(&b.group, &b.hostname, b.id)));
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        let mut out = Self {
            source: origin.source,
            cluster_identifier: origin.cluster_identifier,
            discovery_timeout_secs,
            summary: BTreeMap::new(),
            groups,
            vms,
            nodes,
        };
        let mut summary: BTreeMap<VpsieStatus, usize> =
            VpsieStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for row in out.rows() {
            *summary.entry(row.status()).or_default() += 1;
        }
        out.summary = summary;
        out
    }

    /// Every row: groups, then VMs, then Nodes, each in report order.
    pub fn rows(&self) -> impl Iterator<Item = &dyn VpsieRow> {
        let groups = self.groups.iter().map(|r| r as &dyn VpsieRow);
        let vms = self.vms.iter().map(|r| r as &dyn VpsieRow);
        let nodes = self.nodes.iter().map(|r| r as &dyn VpsieRow);
        groups.chain(vms).chain(nodes)
    }

    /// The rows that are findings: what text and Markdown list.
    pub fn findings(&self) -> impl Iterator<Item = &dyn VpsieRow> {
        self.rows().filter(|r| r.status().is_finding())
    }

    /// Whether any group, VM or Node is a finding.
    pub fn has_findings(&self) -> bool {
        self.findings().next().is_some()
    }

    /// The statuses that at least one row has, with their counts.
    pub fn status_counts(&self) -> impl Iterator<Item = (VpsieStatus, usize)> + '_ {
        present_counts(VpsieStatus::ALL, &self.summary)
    }

    /// `VPSie nodes (listed from the API, cluster `uuid`, discovery timeout 900 s)`.
    pub fn origin_line(&self) -> String {
        let mut parts = vec![if self.source == "api" {
            "listed from the API".to_owned()
        } else {
            "from a snapshot".to_owned()
        }];
        parts.extend(
            self.cluster_identifier
                .iter()
                .map(|c| format!("cluster `{c}`")),
        );
        parts.push(format!(
            "discovery timeout {}",
            duration(self.discovery_timeout_secs)
        ));
        format!("VPSie nodes ({})", parts.join(", "))
    }

    /// `1 group, 3 VMs, 2 Nodes: 4 in-sync, 1 joining, 1 failed-to-join`.
    pub fn summary_line(&self) -> String {
        let noun =
            |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
        let what = [
            noun(self.groups.len(), "group", "groups"),
            noun(self.vms.len(), "VM", "VMs"),
            noun(self.nodes.len(), "Node", "Nodes"),
        ]
        .join(", ");
        let parts: Vec<String> = self
            .status_counts()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        if parts.is_empty() {
            what
        } else {
            format!("{what}: {}", parts.join(", "))
        }
    }

    /// A copy whose every string from the cloud or the cluster went through the redaction
    /// policy and lost its control characters: VM hostnames, Node names, label values and notes
    /// are printed on terminals and in PR comments.
    #[must_use]
    pub fn redacted(&self, redactor: &Redactor) -> Self {
        let clean = |text: &mut String| *text = printable(&redactor.redact_text(text));
        let mut out = self.clone();
        out.cluster_identifier.iter_mut().for_each(clean);
        for g in &mut out.groups {
            clean(&mut g.name);
            g.notes.iter_mut().for_each(clean);
        }
        for v in &mut out.vms {
            clean(&mut v.hostname);
            for text in [
                &mut v.group,
                &mut v.vm_status,
                &mut v.ip,
                &mut v.node,
                &mut v.matched_by,
                &mut v.created_on,
            ]
            .into_iter()
            .flatten()
            {
                clean(text);
            }
            v.notes.iter_mut().for_each(clean);
        }
        for n in &mut out.nodes {
            clean(&mut n.name);
            n.group.iter_mut().chain(n.vm.as_mut()).for_each(clean);
            n.missing_labels.iter_mut().for_each(clean);
            n.notes.iter_mut().for_each(clean);
        }
        out
    }
}

/// `secs` as people read a duration: its two largest units (`15m`, `2h 5m`, `10d 4h`, `45s`;
/// a negative duration, a clock behind the cloud's, as `-` and the rest).
pub fn duration(secs: i64) -> String {
    if secs < 0 {
        return format!("-{}", duration(secs.saturating_neg()));
    }
    let units = [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let mut rest = secs;
    let mut parts = Vec::new();
    for (name, size) in units {
        let n = rest / size;
        rest %= size;
        if n > 0 || (!parts.is_empty() && parts.len() < 2) {
            parts.push(format!("{n}{name}"));
        }
        if parts.len() == 2 {
            break;
        }
    }
    while parts.len() > 1 && parts.last().is_some_and(|p| p.starts_with('0')) {
        parts.pop();
    }
    if parts.is_empty() {
        "0s".to_owned()
    } else {
        parts.join(" ")
    }
}

#[cfg(test)]
mod duration_tests {
    use super::duration;

    #[test]
    fn durations_read_as_their_two_largest_units() {
        for (secs, text) in [
            (0, "0s"),
            (45, "45s"),
            (900, "15m"),
            (7_500, "2h 5m"),
            (7_200, "2h"),
            (879_591, "10d 4h"),
            (86_401, "1d"),
            (-90, "-1m 30s"),
        ] {
            assert_eq!(duration(secs), text, "{secs}");
        }
    }
}
