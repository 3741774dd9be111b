//! The Kubernetes objects cloud drift reads besides the rendered ones: the cluster's Nodes
//! (for VPSie VM ↔ Node matching), its `VirtualMachine`s and `VirtualMachineInstance`s (for
//! KubeVirt run state) and the live `NodeGroup`s (their `status` counts). From a cluster: one
//! paginated LIST per kind and namespace (Nodes cluster-wide), never one GET per object; from a
//! snapshot: the objects of those kinds the snapshot holds.

use std::collections::BTreeSet;
use std::path::Path;

use plinth_vocab::ObjectRef;
use serde_json::Value;

use crate::error::DriftError;
use crate::source::kube::ClusterLive;
use crate::source::snapshot::{self, ReadOptions};

/// `kubevirt.io/v1`, where `VirtualMachine`s and their instances are read.
pub const KUBEVIRT_API_VERSION: &str = "kubevirt.io/v1";
/// `autoscaler.vpsie.com/v1alpha1`, where `NodeGroup`s are read.
pub const VPSIE_API_VERSION: &str = "autoscaler.vpsie.com/v1alpha1";

/// What to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    /// Every Node of the cluster.
    pub nodes: bool,
    /// The namespaces whose `VirtualMachine`s and `VirtualMachineInstance`s are read.
    pub vm_namespaces: BTreeSet<String>,
    /// The namespaces whose `NodeGroup`s are read.
    pub node_group_namespaces: BTreeSet<String>,
}

/// What was read, each list in key order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Machines {
    pub nodes: Vec<Value>,
    pub vms: Vec<Value>,
    pub vmis: Vec<Value>,
    pub node_groups: Vec<Value>,
    /// Kinds the cluster does not serve (`VirtualMachine`, ...): said in the report.
    pub unserved: BTreeSet<String>,
}

impl Machines {
    /// The LISTs a cluster read makes for `wanted`: (apiVersion, kind, namespace).
    fn listings(wanted: &Wanted) -> Vec<(&'static str, &'static str, Option<&str>)> {
        let mut out = Vec::new();
        if wanted.nodes {
            out.push(("v1", "Node", None));
        }
        for ns in &wanted.vm_namespaces {
            out.push((KUBEVIRT_API_VERSION, "VirtualMachine", Some(ns.as_str())));
            out.push((
                KUBEVIRT_API_VERSION,
                "VirtualMachineInstance",
                Some(ns.as_str()),
            ));
        }
        for ns in &wanted.node_group_namespaces {
            out.push((VPSIE_API_VERSION, "NodeGroup", Some(ns.as_str())));
        }
        out
    }

    fn list_of(&mut self, kind: &str) -> &mut Vec<Value> {
        match kind {
            "Node" => &mut self.nodes,
            "VirtualMachine" => &mut self.vms,
            "VirtualMachineInstance" => &mut self.vmis,
            _ => &mut self.node_groups,
        }
    }

    fn sort(&mut self) {
        for list in [
            &mut self.nodes,
            &mut self.vms,
            &mut self.vmis,
            &mut self.node_groups,
        ] {
            list.sort_by_cached_key(|v| ObjectRef::of(v).map(|k| (k.namespace, k.name)));
        }
    }
}

/// Reads `wanted` from a connected cluster: one LIST per kind and namespace, in order. A kind
/// the cluster does not serve is noted in [`Machines::unserved`], not an error.
///
/// # Errors
/// Discovery or a LIST fails or is refused.
pub async fn from_cluster(cluster: &ClusterLive, wanted: &Wanted) -> Result<Machines, DriftError> {
    let mut out = Machines::default();
    for (api_version, kind, namespace) in Machines::listings(wanted) {
        match cluster.list_kind(api_version, kind, namespace).await? {
            Some(items) => out.list_of(kind).extend(items),
            None => {
                out.unserved.insert(kind.to_owned());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Reads `wanted` from the snapshot at `path` (every file, as a drift run reads it): the
/// objects of those kinds in those namespaces.
///
/// # Errors
/// The snapshot cannot be read.
pub fn from_snapshot(
    path: &Path,
    options: &ReadOptions,
    wanted: &Wanted,
) -> Result<Machines, DriftError> {
    let in_snapshot = |source| DriftError::Snapshot {
        path: path.display().to_string(),
        source: Box::new(source),
    };
    let options = ReadOptions {
        allow_empty: true,
        ..*options
    };
    let compact = snapshot::read_compact(path, &options)
        .map_err(in_snapshot)?
        .live;
    let listings = Machines::listings(wanted);
    let keys: Vec<&ObjectRef> = compact
        .objects
        .keys()
        .filter(|key| {
            listings.iter().any(|(api_version, kind, namespace)| {
                key.kind == *kind
                    && key.group == api_version.split_once('/').map_or("", |(g, _)| g)
                    && namespace.is_none_or(|ns| key.namespace.as_deref() == Some(ns))
            })
        })
        .collect();
    let live = compact
        .live_set(keys)
        .map_err(|e| in_snapshot(snapshot::unparsable(&e)))?;
    let mut out = Machines::default();
    for (key, value) in live.objects {
        out.list_of(&key.kind).push(value);
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_snapshot_gives_the_wanted_kinds_in_the_wanted_namespaces() {
        let dir = tempfile::tempdir().unwrap();
        let items = json!({"apiVersion": "v1", "kind": "List", "items": [
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}},
            {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}},
            {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                "metadata": {"name": "a", "namespace": "vms"}},
            {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
                "metadata": {"name": "b", "namespace": "elsewhere"}},
            {"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
                "metadata": {"name": "a", "namespace": "vms"}},
            {"apiVersion": "autoscaler.vpsie.com/v1alpha1", "kind": "NodeGroup",
                "metadata": {"name": "g", "namespace": "kube-system"}},
            {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "vms"}},
        ]});
        fs_err::write(dir.path().join("all.json"), items.to_string()).unwrap();
        let wanted = Wanted {
            nodes: true,
            vm_namespaces: ["vms".to_owned()].into(),
            node_group_namespaces: ["kube-system".to_owned()].into(),
        };
        let m = from_snapshot(dir.path(), &ReadOptions::default(), &wanted).unwrap();
        let names = |l: &[Value]| -> Vec<String> {
            l.iter()
                .map(|v| v["metadata"]["name"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(names(&m.nodes), ["n1", "n2"]);
        assert_eq!(names(&m.vms), ["a"]);
        assert_eq!(names(&m.vmis), ["a"]);
        assert_eq!(names(&m.node_groups), ["g"]);
        let none = from_snapshot(dir.path(), &ReadOptions::default(), &Wanted::default()).unwrap();
        assert!(none.nodes.is_empty() && none.vms.is_empty());
    }
}
