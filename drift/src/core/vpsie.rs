//! VPSie drift, pure: the VMs of the rendered `NodeGroup`s (`autoscaler.vpsie.com`) matched
//! with the cluster's Kubernetes Nodes the way the VPSie autoscaler matches them, and the
//! groups' counts checked against their bounds and their live status.
//!
//! A VM belongs to a rendered group when its hostname starts, in any case, with the group's
//! name and a `-` (the autoscaler names a `VPSieNode` `<group>-<suffix>` and the VM's hostname
//! starts with it; the longest group name wins), or when the Node matched to it carries an
//! `autoscaler.vpsie.com/nodegroup` label naming the group. Other VMs are not listed.
//!
//! Matching: the running VMs (`status` `running` or empty), newest first, each take one Node:
//! first by IP (a Node whose `InternalIP` or `ExternalIP` is the VM's `default_ip`, unless its
//! `autoscaler.vpsie.com/vpsienode` label names another `VPSieNode`), else by hostname (the
//! Node's name or Hostname address equals the VM's hostname, or one is the other's prefix at a
//! `.`, or the hostname starts with the Node's `vpsienode` label); the newest Node wins among
//! several, a Node is never matched twice, control-plane Nodes never.
//!
//! Statuses: a VM is `not-running`, `failed-to-join` (running, no Node, older than the
//! discovery timeout or of unknown age), `stale` (its offering or image is not the group's),
//! `joining` (running, no Node yet, younger than the timeout) or `in-sync`, in that order of
//! precedence. A matched Node is `missing-labels` without the autoscaler's three labels
//! (`managed=true`, `nodegroup=<group>`, `vpsienode`); an unmatched Node that carries them is
//! `orphaned-node`. A group is `missing-group` (the API lists node groups, none of that name),
//! `out-of-bounds` (its running VMs outside `minNodes`..`maxNodes`), `miscounted` (its live
//! `status.currentNodes`/`readyNodes` differ from the VMs and Ready Nodes found) or `in-sync`.
//!
//! The results' types, their redaction and summary are the report's
//! ([`super::report::vpsie`]).

use std::cmp::Reverse;
use std::collections::BTreeSet;

use plinth_cloud::vpsie::{ClusterNode, NodeGroupInfo, Vm};
use plinth_renderer::pools::vpsie::{API_VERSION, KIND, LABEL_MANAGED};
use serde_json::{Map, Value};

use super::report::epoch_of;
use super::report::vpsie::duration;
pub use super::report::vpsie::{
    GroupResult, NodeResult, VmResult, VpsieOrigin, VpsieReport, VpsieResults, VpsieRow,
    VpsieStatus,
};

/// How long the autoscaler looks for a new VM's Node before it gives up (its
/// `DiscoveryTimeout`): 15 minutes.
pub const DEFAULT_DISCOVERY_TIMEOUT_SECS: i64 = 900;
/// The label naming a Node's node group.
pub const LABEL_NODEGROUP: &str = "autoscaler.vpsie.com/nodegroup";
/// The label naming the `VPSieNode` that claimed a Node.
pub const LABEL_VPSIENODE: &str = "autoscaler.vpsie.com/vpsienode";
/// The labels that mark a control-plane Node (never matched).
const CONTROL_PLANE_LABELS: [&str; 2] = [
    "node-role.kubernetes.io/control-plane",
    "node-role.kubernetes.io/master",
];

/// A rendered `NodeGroup` as the comparison needs it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GroupSpec {
    pub name: String,
    pub namespace: Option<String>,
    pub min_nodes: i64,
    pub max_nodes: i64,
    pub offering_ids: Vec<String>,
    pub os_image_id: Option<String>,
    pub datacenter_id: Option<String>,
    /// The VPSie cluster's UUID.
    pub resource_identifier: Option<String>,
    /// The live `NodeGroup`'s `.status`, when known.
    pub live_status: Option<Value>,
}

impl GroupSpec {
    /// The group of a rendered `autoscaler.vpsie.com` `NodeGroup`, or none for any other
    /// object. An absent `minNodes` reads as 0, an absent `maxNodes` as no upper bound.
    pub fn of_object(object: &Value) -> Option<Self> {
        let group = API_VERSION.split('/').next().unwrap_or(API_VERSION);
        let api_version = object.get("apiVersion")?.as_str()?;
        if object.get("kind")?.as_str()? != KIND || api_version.split('/').next() != Some(group) {
            return None;
        }
        let spec = object.get("spec").unwrap_or(&Value::Null);
        let text = |field: &str| spec.get(field).and_then(scalar_text);
        Some(Self {
            name: object.pointer("/metadata/name")?.as_str()?.to_owned(),
            namespace: object
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_owned),
            min_nodes: spec.get("minNodes").and_then(Value::as_i64).unwrap_or(0),
            max_nodes: spec
                .get("maxNodes")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MAX),
            offering_ids: spec
                .get("offeringIDs")
                .and_then(Value::as_array)
                .map(|ids| ids.iter().filter_map(scalar_text).collect())
                .unwrap_or_default(),
            os_image_id: text("osImageID"),
            datacenter_id: text("datacenterID"),
            resource_identifier: text("resourceIdentifier"),
            live_status: None,
        })
    }
}

/// A string, or a number as its digits.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The VMs to match: the VM list, and the worker nodes of the VPSie-managed cluster's info
/// that the list lacks (by IP or hostname) as VMs without an id or creation time — VPSie-managed
/// nodes may be missing from `GET /vm`, and the autoscaler then matches with the cluster's node
/// list too. Control-plane (`master`) nodes are left out.
pub fn with_cluster_nodes(mut vms: Vec<Vm>, nodes: &[ClusterNode]) -> Vec<Vm> {
    let extra: Vec<Vm> = nodes
        .iter()
        .filter(|n| !n.is_master())
        .filter(|n| {
            !vms.iter().any(|vm| {
                vm.hostname.eq_ignore_ascii_case(&n.hostname)
                    || (n.ip.is_some() && vm.default_ip == n.ip)
            })
        })
        .map(ClusterNode::as_vm)
        .collect();
    vms.extend(extra);
    vms
}

/// What [`compare`] reads.
#[derive(Debug, Clone, Copy)]
pub struct VpsieInput<'a> {
    /// The rendered node groups.
    pub groups: &'a [GroupSpec],
    /// The node groups the API lists.
    pub api_groups: &'a [NodeGroupInfo],
    /// Whether they were listed at all (a snapshot may leave them out): a rendered group
    /// the listing lacks is `missing-group` only then, even when the listing is empty.
    pub groups_listed: bool,
    /// Every VM of the account.
    pub vms: &'a [Vm],
    /// The cluster's `core/v1` Node objects as the API returns them.
    pub nodes: &'a [Value],
    /// The time of the run, in seconds since the epoch.
    pub now_epoch: i64,
    /// [`DEFAULT_DISCOVERY_TIMEOUT_SECS`] unless configured.
    pub discovery_timeout_secs: i64,
}

/// Seconds since the epoch of an RFC 3339 timestamp (`T`, `t` or a space between date and
/// time, optional fraction, `Z` or an offset), or none.
pub fn rfc3339_epoch(ts: &str) -> Option<i64> {
    let ts = ts.trim();
    let b = ts.as_bytes();
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
    let shape = b.len() >= 20
        && [0..4, 5..7, 8..10, 11..13, 14..16, 17..19]
            .into_iter()
            .all(digits)
        && b[4] == b'-'
        && b[7] == b'-'
        && matches!(b[10], b'T' | b't' | b' ')
        && b[13] == b':'
        && b[16] == b':';
    if !shape {
        return None;
    }
    let num = |r: std::ops::Range<usize>| ts[r].parse::<i64>().unwrap_or(-1);
    let in_range = (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && (0..24).contains(&num(11..13))
        && (0..60).contains(&num(14..16))
        && (0..=60).contains(&num(17..19));
    if !in_range {
        return None;
    }
    let mut rest = &ts[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        rest = &fraction[n..];
    }
    let offset = match rest {
        "Z" | "z" => 0,
        _ => {
            let sign = match rest.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            let hm = &rest.as_bytes()[1..];
            if hm.len() != 5
                || hm[2] != b':'
                || !hm[..2].iter().chain(&hm[3..]).all(u8::is_ascii_digit)
            {
                return None;
            }
            sign * (num_of(&hm[..2]) * 3600 + num_of(&hm[3..]) * 60)
        }
    };
    Some(epoch_of(ts)? - offset)
}

/// The value of ASCII digits.
fn num_of(digits: &[u8]) -> i64 {
    digits.iter().fold(0, |n, d| n * 10 + i64::from(d - b'0'))
}

/// A Node as matching reads it (every part optional).
struct NodeView<'a> {
    name: &'a str,
    lower: String,
    labels: Option<&'a Map<String, Value>>,
    /// `InternalIP` and `ExternalIP` addresses.
    ips: Vec<&'a str>,
    /// Hostname addresses, lower-cased.
    hostnames: Vec<String>,
    created: Option<i64>,
    control_plane: bool,
    ready: bool,
}

impl<'a> NodeView<'a> {
    fn of(node: &'a Value) -> Option<Self> {
        let name = node.pointer("/metadata/name")?.as_str()?;
        let labels = node.pointer("/metadata/labels").and_then(Value::as_object);
        let addresses = node
            .pointer("/status/addresses")
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let address = |types: &[&str]| -> Vec<&'a str> {
            addresses
                .iter()
                .filter(|a| {
                    a.get("type")
                        .and_then(Value::as_str)
                        .is_some_and(|t| types.contains(&t))
                })
                .filter_map(|a| a.get("address").and_then(Value::as_str))
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .collect()
        };
        let ready = node
            .pointer("/status/conditions")
            .and_then(Value::as_array)
            .is_some_and(|cs| {
                cs.iter().any(|c| {
                    c.get("type").and_then(Value::as_str) == Some("Ready")
                        && c.get("status").and_then(Value::as_str) == Some("True")
                })
            });
        Some(Self {
            name,
            lower: name.to_lowercase(),
            labels,
            ips: address(&["InternalIP", "ExternalIP"]),
            hostnames: address(&["Hostname"])
                .into_iter()
                .map(str::to_lowercase)
                .collect(),
            created: node
                .pointer("/metadata/creationTimestamp")
                .and_then(Value::as_str)
                .and_then(rfc3339_epoch),
            control_plane: CONTROL_PLANE_LABELS
                .iter()
                .any(|l| labels.is_some_and(|ls| ls.contains_key(*l))),
            ready,
        })
    }

    /// A label's value (a non-string value reads as absent).
    fn label(&self, key: &str) -> Option<&'a str> {
        self.labels?.get(key)?.as_str()
    }

    /// The `vpsienode` label, lower-cased, when not empty.
    fn vpsienode(&self) -> Option<String> {
        self.label(LABEL_VPSIENODE)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_lowercase)
    }

    /// Whether another `VPSieNode` claimed the Node: its `vpsienode` label does not name the
    /// VM's `host`name (lower-cased) — see [`names_host`].
    fn claimed_by_other(&self, host: &str) -> bool {
        self.vpsienode().is_some_and(|v| !names_host(&v, host))
    }

    /// Whether the Node's name or a Hostname address is `host`, or one is the other's prefix
    /// at a `.`, or `host` starts with the Node's `vpsienode` label.
    fn hostname_matches(&self, host: &str) -> bool {
        let same =
            |name: &str| name == host || dotted_prefix(name, host) || dotted_prefix(host, name);
        same(&self.lower)
            || self.hostnames.iter().any(|h| same(h))
            || self.vpsienode().is_some_and(|v| names_host(&v, host))
    }
}

/// Whether the `VPSieNode` named `vpsienode` is the one of the VM `host`: the hostname starts
/// with its name, the autoscaler's own rule (a bare prefix: `workers-1` also names
/// `workers-10-x`; the IP pass, which runs first for every VM, is what keeps such names apart).
fn names_host(vpsienode: &str, host: &str) -> bool {
    host.starts_with(vpsienode)
}

/// Whether `short` is `long`'s prefix followed by a `.` (`n1` of `n1.example.com`).
fn dotted_prefix(long: &str, short: &str) -> bool {
    !short.is_empty()
        && long
            .strip_prefix(short)
            .is_some_and(|rest| rest.starts_with('.'))
}

/// The index of the rendered group `hostname` belongs to by name: the longest group name that
/// is, in any case, the hostname's prefix followed by a `-`.
fn group_by_hostname(groups: &[GroupSpec], hostname: &str) -> Option<usize> {
    let host = hostname.to_lowercase();
    groups
        .iter()
        .enumerate()
        .filter(|(_, g)| {
            !g.name.is_empty()
                && host
                    .strip_prefix(&g.name.to_lowercase())
                    .is_some_and(|rest| rest.starts_with('-'))
        })
        .max_by_key(|(_, g)| g.name.len())
        .map(|(i, _)| i)
}

/// How a VM is matched with a Node.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Pass {
    /// A Node whose `InternalIP` or `ExternalIP` is the VM's `default_ip`, unless another
    /// `VPSieNode` claimed it.
    Ip,
    /// A Node whose name, Hostname address or `vpsienode` label names the VM's hostname.
    Hostname,
}

/// The Node one VM takes among the free Nodes in `pass`, the newest when several qualify.
fn match_vm(vm: &Vm, nodes: &[NodeView<'_>], taken: &[bool], pass: Pass) -> Option<usize> {
    let host = vm.hostname.trim().to_lowercase();
    let free = |i: usize| !taken[i] && !nodes[i].control_plane;
    let newest = |pick: &dyn Fn(&NodeView<'_>) -> bool| {
        nodes
            .iter()
            .enumerate()
            .filter(|(i, n)| free(*i) && pick(n))
            .max_by_key(|(_, n)| (n.created.unwrap_or(i64::MIN), Reverse(n.name)))
            .map(|(i, _)| i)
    };
    match pass {
        Pass::Ip => {
            let ip = vm
                .default_ip
                .as_deref()
                .map(str::trim)
                .filter(|ip| !ip.is_empty())?;
            newest(&|n| n.ips.contains(&ip) && !n.claimed_by_other(&host))
        }
        Pass::Hostname if host.is_empty() => None,
        Pass::Hostname => newest(&|n| n.hostname_matches(&host)),
    }
}

/// Matches the VMs with the Nodes and checks the groups: one result per group, per VM of a
/// group and per Node matched to such a VM or labelled by the autoscaler and unmatched.
pub fn compare(input: &VpsieInput<'_>) -> VpsieResults {
    let nodes: Vec<NodeView<'_>> = input.nodes.iter().filter_map(NodeView::of).collect();
    let created: Vec<Option<i64>> = input
        .vms
        .iter()
        .map(|vm| vm.created_on.as_deref().and_then(rfc3339_epoch))
        .collect();
    // Candidates newest first; unknown creation times last; ties by id, then hostname.
    let mut candidates: Vec<usize> = (0..input.vms.len())
        .filter(|i| input.vms[*i].is_running())
        .collect();
    candidates.sort_by_key(|i| {
        let vm = &input.vms[*i];
        (
            Reverse(created[*i].unwrap_or(i64::MIN)),
            vm.id,
            &vm.hostname,
        )
    });
    // IP first for every candidate, then hostname for those still unmatched: an exact address
    // is never lost to a newer VM whose hostname merely resembles the Node's name.
    let mut taken = vec![false; nodes.len()];
    let mut matched: Vec<Option<(usize, &'static str)>> = vec![None; input.vms.len()];
    for (pass, by) in [(Pass::Ip, "ip"), (Pass::Hostname, "hostname")] {
        for &i in &candidates {
            if matched[i].is_some() {
                continue;
            }
            if let Some(n) = match_vm(&input.vms[i], &nodes, &taken, pass) {
                taken[n] = true;
                matched[i] = Some((n, by));
            }
        }
    }
    let mut results = VpsieResults::default();
    let mut reported_nodes = BTreeSet::new();
    let mut counts = vec![(0usize, 0usize); input.groups.len()];
    for (i, vm) in input.vms.iter().enumerate() {
        let node = matched[i].map(|(n, _)| &nodes[n]);
        let group = group_by_hostname(input.groups, &vm.hostname).or_else(|| {
            let label = node?.label(LABEL_NODEGROUP)?;
            input.groups.iter().position(|g| g.name == label)
        });
        let Some(g) = group else { continue };
        let spec = &input.groups[g];
        let vm_result = vm_result(input, spec, vm, created[i], matched[i], &nodes);
        if vm_result.status != VpsieStatus::NotRunning {
            counts[g].0 += 1;
            if node.is_some_and(|n| n.ready) {
                counts[g].1 += 1;
            }
        }
        if let Some((n, _)) = matched[i] {
            reported_nodes.insert(n);
            results.nodes.push(matched_node(&nodes[n], spec, vm));
        }
        results.vms.push(vm_result);
    }
    for (n, node) in nodes.iter().enumerate() {
        if !taken[n] && !reported_nodes.contains(&n) && !node.control_plane {
            results.nodes.extend(orphaned_node(node, input.groups));
        }
    }
    for (g, spec) in input.groups.iter().enumerate() {
        results.groups.push(group_result(spec, input, counts[g]));
    }
    results
}

/// The result of a VM of the group `spec`.
fn vm_result(
    input: &VpsieInput<'_>,
    spec: &GroupSpec,
    vm: &Vm,
    created: Option<i64>,
    matched: Option<(usize, &'static str)>,
    nodes: &[NodeView<'_>],
) -> VmResult {
    // A creation time far after the run's time (a clock behind the cloud's, or a report time
    // fixed by `SOURCE_DATE_EPOCH`) says nothing about the VM's age: unknown, not young.
    let age = created
        .map(|c| input.now_epoch.saturating_sub(c))
        .filter(|age| *age >= input.discovery_timeout_secs.saturating_neg());
    let mut result = VmResult {
        hostname: vm.hostname.clone(),
        id: vm.id,
        group: Some(spec.name.clone()),
        status: VpsieStatus::InSync,
        vm_status: vm.status.clone(),
        ip: vm.default_ip.clone(),
        node: matched.map(|(n, _)| nodes[n].name.to_owned()),
        matched_by: matched.map(|(_, by)| by.to_owned()),
        created_on: vm.created_on.clone(),
        age_secs: age,
        offering: vm.boxsize_id,
        notes: Vec::new(),
    };
    if !vm.is_running() {
        result.status = VpsieStatus::NotRunning;
        result.notes.push(format!(
            "the VM is not running (status `{}`): it counts for no group and is never matched",
            vm.status.as_deref().unwrap_or("")
        ));
        return result;
    }
    let stale = stale_notes(spec, vm);
    let stale_status = !stale.is_empty();
    result.notes.extend(stale);
    if matched.is_some() {
        if stale_status {
            result.status = VpsieStatus::Stale;
        }
        return result;
    }
    let timeout = input.discovery_timeout_secs;
    result.status = match age {
        Some(age) if age < timeout => {
            result.notes.push(format!(
                "no Node yet, {} after creation (discovery timeout {})",
                duration(age),
                duration(timeout)
            ));
            if stale_status {
                VpsieStatus::Stale
            } else {
                VpsieStatus::Joining
            }
        }
        Some(age) => {
            result.notes.push(format!(
                "no Node matched {} after creation (discovery timeout {})",
                duration(age),
                duration(timeout)
            ));
            VpsieStatus::FailedToJoin
        }
        None => {
            result.notes.push(
                "no Node matched, and the VM's age is unknown (`created_on` absent, not RFC 3339, or later than the report's time)"
                    .to_owned(),
            );
            VpsieStatus::FailedToJoin
        }
    };
    result
}

/// Why a VM is stale: its offering is not among the group's `offeringIDs`, or its image is not
/// the group's `osImageID` (each compared only when the group names numeric ids, as the API
/// does).
fn stale_notes(spec: &GroupSpec, vm: &Vm) -> Vec<String> {
    let mut notes = Vec::new();
    let offerings: Option<Vec<i64>> = (!spec.offering_ids.is_empty())
        .then(|| spec.offering_ids.iter().map(|o| digits(o)).collect())
        .flatten();
    if let (Some(offerings), Some(size)) = (offerings, vm.boxsize_id)
        && !offerings.contains(&size)
    {
        notes.push(format!(
            "its offering (boxsize_id {size}) is not among the group's offeringIDs ({})",
            spec.offering_ids.join(", ")
        ));
    }
    let image = spec.os_image_id.as_deref().and_then(digits);
    if let (Some(image), Some(got)) = (image, vm.boximage_id)
        && image != got
    {
        notes.push(format!(
            "its image (boximage_id {got}) is not the group's osImageID ({image})"
        ));
    }
    notes
}

/// The number a string of digits names (surrounding spaces allowed), or none.
fn digits(text: &str) -> Option<i64> {
    let text = text.trim();
    (!text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()))
        .then(|| text.parse().ok())
        .flatten()
}

/// The result of the Node matched to a VM of the group `spec`: `missing-labels` without the
/// autoscaler's labels (L1–L3).
fn matched_node(node: &NodeView<'_>, spec: &GroupSpec, vm: &Vm) -> NodeResult {
    let mut missing = Vec::new();
    let mut notes = Vec::new();
    let mut want = |key: &str, expected: Option<&str>| {
        let got = node.label(key).map(str::trim).filter(|v| !v.is_empty());
        match (got, expected) {
            (None, _) => {
                missing.push(key.to_owned());
                notes.push(format!("label `{key}` is absent"));
            }
            (Some(got), Some(expected)) if got != expected => {
                missing.push(key.to_owned());
                notes.push(format!("label `{key}` is `{got}`, expected `{expected}`"));
            }
            _ => {}
        }
    };
    want(LABEL_MANAGED, Some("true"));
    want(LABEL_NODEGROUP, Some(&spec.name));
    want(LABEL_VPSIENODE, None);
    NodeResult {
        name: node.name.to_owned(),
        status: if missing.is_empty() {
            VpsieStatus::InSync
        } else {
            VpsieStatus::MissingLabels
        },
        group: Some(spec.name.clone()),
        vm: Some(vm.hostname.clone()),
        missing_labels: missing,
        notes,
    }
}

/// The result of an unmatched Node that the autoscaler labelled (`managed=true`, a
/// `nodegroup` naming a rendered group, or a `vpsienode`): `orphaned-node`; none otherwise.
fn orphaned_node(node: &NodeView<'_>, groups: &[GroupSpec]) -> Option<NodeResult> {
    let nodegroup = node.label(LABEL_NODEGROUP);
    let mut carried = Vec::new();
    if node.label(LABEL_MANAGED) == Some("true") {
        carried.push(format!("`{LABEL_MANAGED}=true`"));
    }
    if let Some(g) = nodegroup.filter(|g| groups.iter().any(|s| s.name == *g)) {
        carried.push(format!("`{LABEL_NODEGROUP}={g}`"));
    }
    if let Some(v) = node.label(LABEL_VPSIENODE).filter(|v| !v.trim().is_empty()) {
        carried.push(format!("`{LABEL_VPSIENODE}={v}`"));
    }
    if carried.is_empty() {
        return None;
    }
    Some(NodeResult {
        name: node.name.to_owned(),
        status: VpsieStatus::OrphanedNode,
        group: nodegroup.map(str::to_owned),
        vm: None,
        missing_labels: Vec::new(),
        notes: vec![format!(
            "no running VM matched this Node, which carries {}",
            carried.join(", ")
        )],
    })
}

/// The result of a rendered group whose VMs number `current`, `ready` of them on a Ready Node.
fn group_result(
    spec: &GroupSpec,
    input: &VpsieInput<'_>,
    (current, ready): (usize, usize),
) -> GroupResult {
    let api_groups = input.api_groups;
    let status_field = |field: &str| {
        spec.live_status
            .as_ref()
            .and_then(|s| s.get(field))
            .and_then(Value::as_i64)
    };
    let api = api_groups
        .iter()
        .filter(|a| a.group_name.eq_ignore_ascii_case(&spec.name))
        .min_by_key(|a| (a.is_deleted(), a.id));
    let mut result = GroupResult {
        name: spec.name.clone(),
        status: VpsieStatus::InSync,
        current,
        ready,
        min_nodes: spec.min_nodes,
        max_nodes: spec.max_nodes,
        vpsie_group_id: api
            .and_then(|a| a.id)
            .or_else(|| status_field("vpsieGroupID")),
        api_nodes_count: api.and_then(|a| a.nodes_count),
        status_current: status_field("currentNodes"),
        status_ready: status_field("readyNodes"),
        notes: Vec::new(),
    };
    let mut statuses = Vec::new();
    if input.groups_listed {
        match api {
            None => {
                statuses.push(VpsieStatus::MissingGroup);
                result
                    .notes
                    .push("the VPSie API lists no node group of this name".to_owned());
            }
            Some(a) if a.is_deleted() => {
                statuses.push(VpsieStatus::MissingGroup);
                result
                    .notes
                    .push("the VPSie API lists this node group as deleted".to_owned());
            }
            Some(_) => {}
        }
    }
    let n = i64::try_from(current).unwrap_or(i64::MAX);
    if n < spec.min_nodes || n > spec.max_nodes {
        statuses.push(VpsieStatus::OutOfBounds);
        let (side, bound) = if n < spec.min_nodes {
            ("below minNodes", spec.min_nodes)
        } else {
            ("above maxNodes", spec.max_nodes)
        };
        result
            .notes
            .push(format!("{current} running VMs, {side} {bound}"));
    }
    for (field, got, counted, what) in [
        (
            "currentNodes",
            result.status_current,
            current,
            "running VMs",
        ),
        (
            "readyNodes",
            result.status_ready,
            ready,
            "VMs on a Ready Node",
        ),
    ] {
        if let Some(got) = got
            && got != i64::try_from(counted).unwrap_or(i64::MAX)
        {
            statuses.push(VpsieStatus::Miscounted);
            result.notes.push(format!(
                "status.{field} is {got}, counted {counted} ({what}; the status may lag after discovery)"
            ));
        }
    }
    if let Some(pos) = spec.offering_ids.iter().position(|o| digits(o).is_none()) {
        result.notes.push(format!(
            "offeringIDs are not all numeric ids (`{}`): the VMs' offerings were not compared",
            spec.offering_ids[pos]
        ));
    }
    if spec
        .os_image_id
        .as_deref()
        .is_some_and(|i| digits(i).is_none())
    {
        result
            .notes
            .push("osImageID is not a numeric id: the VMs' images were not compared".to_owned());
    }
    // Precedence: missing-group, out-of-bounds, miscounted (their order in `statuses`).
    result.status = statuses.first().copied().unwrap_or(VpsieStatus::InSync);
    result
}

#[cfg(test)]
#[path = "vpsie_tests.rs"]
mod tests;
