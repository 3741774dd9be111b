//! VPSie VMs and Kubernetes node groups, the VPSie edge of cloud drift: listed from the API
//! through [`plinth_cloud::vpsie::VpsieClient`] (one `GET /vm`, its pages when it says there
//! are more, and per VPSie cluster its node-group list and its info's node list), or read from
//! a snapshot file
//! (`--vpsie-snapshot`): `{"vms": ..., "nodeGroups": ..., "clusterInfo": ...}`, each the API's
//! response (`{"data": ...}`) or its data; `nodeGroups` may be left out (then no group is
//! called missing at VPSie), and so may `clusterInfo` (the VPSie-managed cluster's node list).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use plinth_cloud::vpsie::{ClusterNode, NodeGroupInfo, Vm, VpsieClient};
use plinth_cloud::{CloudError, Deadline};
use serde_json::Value;

use crate::error::DriftError;

/// Where the VMs and node groups come from.
#[derive(Debug, Clone)]
pub enum VpsieSource {
    /// A snapshot file, read up to `max_file_bytes`.
    Snapshot { path: PathBuf, max_file_bytes: u64 },
    /// The API: a client built (and its settings checked) by the caller, the time the listing
    /// may take, retries included, and the VPSie clusters whose node groups are listed.
    Api {
        client: Arc<VpsieClient>,
        deadline: Duration,
        cluster_identifiers: Vec<String>,
    },
}

impl VpsieSource {
    /// `api` or `snapshot`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Snapshot { .. } => "snapshot",
            Self::Api { .. } => "api",
        }
    }
}

/// What a source gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VpsieListing {
    pub vms: Vec<Vm>,
    pub groups: Vec<NodeGroupInfo>,
    /// Whether node groups were listed at all (a snapshot may leave them out).
    pub groups_listed: bool,
    /// The nodes of the VPSie-managed clusters' info (VPSie-managed nodes may be missing from
    /// the VM list).
    pub cluster_nodes: Vec<ClusterNode>,
}

/// The VMs and node groups of `source`.
///
/// # Errors
/// The snapshot cannot be read or parsed (the error names the file and the item), or an API
/// call failed ([`DriftError::Cloud`]: never a credential, a token response or a `5xx` body).
pub fn listing(source: &VpsieSource) -> Result<VpsieListing, DriftError> {
    let mut listing = list(source)?;
    // A VM listed twice (a server that ignores the page asked for, a snapshot of overlapping
    // pages) counts once.
    let mut seen = std::collections::BTreeSet::new();
    listing.vms.retain(|vm| {
        seen.insert((
            vm.id,
            vm.identifier.clone(),
            vm.id.is_none().then(|| vm.hostname.clone()),
        ))
    });
    Ok(listing)
}

fn list(source: &VpsieSource) -> Result<VpsieListing, DriftError> {
    match source {
        VpsieSource::Snapshot {
            path,
            max_file_bytes,
        } => read_snapshot(path, *max_file_bytes),
        VpsieSource::Api {
            client,
            deadline,
            cluster_identifiers,
        } => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(DriftError::Runtime)?;
            let deadline = Deadline::after(*deadline);
            runtime.block_on(async {
                let vms = client
                    .list_vms(deadline)
                    .await
                    .map_err(|e| cloud_error("cannot list the VPSie VMs", e))?;
                let mut groups = Vec::new();
                let mut cluster_nodes = Vec::new();
                for id in cluster_identifiers {
                    groups.extend(client.list_node_groups(id, deadline).await.map_err(|e| {
                        cloud_error(
                            &format!("cannot list the node groups of VPSie cluster `{id}`"),
                            e,
                        )
                    })?);
                    cluster_nodes.extend(client.cluster_nodes(id, deadline).await.map_err(
                        |e| cloud_error(&format!("cannot read VPSie cluster `{id}`"), e),
                    )?);
                }
                Ok(VpsieListing {
                    vms,
                    groups,
                    groups_listed: !cluster_identifiers.is_empty(),
                    cluster_nodes,
                })
            })
        }
    }
}

fn cloud_error(what: &str, source: CloudError) -> DriftError {
    DriftError::Cloud {
        what: what.to_owned(),
        source: Box::new(source),
    }
}

/// Reads a VPSie snapshot: `{"vms": ..., "nodeGroups": ...}`.
///
/// # Errors
/// The file is not a regular file, is too large, is not JSON (reported by line and column,
/// never by content), or an item is not a VM or node group (named by its place).
pub fn read_snapshot(path: &Path, max_file_bytes: u64) -> Result<VpsieListing, DriftError> {
    let value = crate::source::snapshot::read_json(path, max_file_bytes)?;
    let invalid = |message: String| crate::source::snapshot::invalid_file(path, message);
    if !value.is_object() {
        return Err(invalid(
            "is not a VPSie snapshot (`{\"vms\": [...], \"nodeGroups\": [...]}`)".to_owned(),
        ));
    }
    let items = |field: &str| -> Result<Option<&Vec<Value>>, DriftError> {
        match value.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(list)) => Ok(Some(list)),
            Some(response) => match response.get("data") {
                Some(Value::Array(list)) => Ok(Some(list)),
                _ => Err(invalid(format!(
                    "{field}: is not a list nor an API response with a `data` list"
                ))),
            },
        }
    };
    let vms = items("vms")?
        .ok_or_else(|| invalid("vms: is missing (the `GET /vm` response)".to_owned()))?
        .iter()
        .enumerate()
        .map(|(i, v)| Vm::from_value(v).map_err(|m| invalid(format!("vms[{i}]: {m}"))))
        .collect::<Result<Vec<_>, _>>()?;
    let listed = items("nodeGroups")?;
    let groups = listed
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, v)| {
            NodeGroupInfo::from_value(v).map_err(|m| invalid(format!("nodeGroups[{i}]: {m}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let cluster_nodes = match value.get("clusterInfo") {
        None | Some(Value::Null) => Vec::new(),
        Some(info) => {
            let data = info
                .get("data")
                .filter(|_| info.get("nodes").is_none())
                .unwrap_or(info);
            ClusterNode::all_of(data).map_err(|m| invalid(format!("clusterInfo: {m}")))?
        }
    };
    Ok(VpsieListing {
        vms,
        groups,
        groups_listed: listed.is_some(),
        cluster_nodes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn snapshot(value: &Value) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vpsie.json");
        fs_err::write(&path, value.to_string()).unwrap();
        (dir, path)
    }

    #[test]
    fn a_snapshot_holds_responses_or_lists() {
        let (_d, path) = snapshot(&json!({
            "vms": {"data": [{"id": 1, "hostname": "general-a"}], "pagination": {"total": 1}},
            "nodeGroups": [{"id": 3, "group_name": "general"}],
        }));
        let listing = read_snapshot(&path, 1 << 20).unwrap();
        assert_eq!(listing.vms.len(), 1);
        assert_eq!(listing.groups[0].group_name, "general");
        assert!(listing.groups_listed);
        let (_d, path) = snapshot(&json!({"vms": []}));
        assert!(!read_snapshot(&path, 1 << 20).unwrap().groups_listed);
        // The cluster info: the response or its data.
        for info in [
            json!({"error": false, "data": {"nodes": [{"hostname": "w1", "ip": "10.0.0.1"}]}}),
            json!({"nodes": [{"hostname": "w1", "ip": "10.0.0.1"}]}),
        ] {
            let (_d, path) = snapshot(&json!({"vms": [], "clusterInfo": info}));
            let nodes = read_snapshot(&path, 1 << 20).unwrap().cluster_nodes;
            assert_eq!(nodes.len(), 1, "{info}");
        }
    }

    #[test]
    fn a_vm_listed_twice_counts_once() {
        let (_d, path) = snapshot(&json!({"vms": [
            {"id": 1, "hostname": "general-a"}, {"id": 1, "hostname": "general-a"},
            {"id": 2, "hostname": "general-b"}, {"hostname": "x"}, {"hostname": "x"},
        ]}));
        let source = VpsieSource::Snapshot {
            path,
            max_file_bytes: 1 << 20,
        };
        let hosts: Vec<String> = listing(&source)
            .unwrap()
            .vms
            .into_iter()
            .map(|v| v.hostname)
            .collect();
        assert_eq!(hosts, ["general-a", "general-b", "x"]);
    }

    #[test]
    fn a_bad_snapshot_names_the_place() {
        for (value, needle) in [
            (json!([]), "is not a VPSie snapshot"),
            (json!({}), "vms: is missing"),
            (json!({"vms": {"items": []}}), "vms: is not a list"),
            (json!({"vms": [{"id": 1}]}), "vms[0]: has neither"),
            (
                json!({"vms": [], "nodeGroups": [{"id": 1}]}),
                "nodeGroups[0]: has no",
            ),
        ] {
            let (_d, path) = snapshot(&value);
            let err = read_snapshot(&path, 1 << 20).unwrap_err().to_string();
            assert!(err.contains(needle), "{err}");
        }
    }
}
