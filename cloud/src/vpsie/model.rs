//! What the VPSie API returns, read defensively: a VM of `GET /vm` ([`Vm`]) and a Kubernetes
//! node group of `GET /k8s/node/groups/byClusterId/{id}` ([`NodeGroupInfo`]).
//!
//! The API has no official specification; these shapes follow the two public Go clients
//! (the autoscaler's and `govpsie`), which disagree in places (`../shared/specs/vpsie/FACTS.md`
//! upstream of this project). So every field is optional but the ones matching needs, a number
//! may come as a JSON number or a string of digits, unknown fields are ignored, and a value of
//! the wrong type is read as absent rather than failing the whole listing. Only a VM that is
//! not a JSON object, or has neither `hostname` nor `name`, is an error.

use serde_json::Value;

/// One VM (the autoscaler's `VPS`, `govpsie`'s `VmData`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vm {
    /// The numeric id (`id`).
    pub id: Option<i64>,
    /// The UUID (`identifier`).
    pub identifier: Option<String>,
    pub name: Option<String>,
    /// `hostname`, else `name`: what hostname matching compares.
    pub hostname: String,
    /// `status` (`running`, `stopped`, `suspended`, ...; no authoritative list), else
    /// `govpsie`'s `state`. Empty or absent counts as running, as the autoscaler does.
    pub status: Option<String>,
    /// `default_ip`: the address matched against a Node's addresses.
    pub default_ip: Option<String>,
    pub default_ipv6: Option<String>,
    pub private_ip: Option<String>,
    /// The offering (`boxsize_id`).
    pub boxsize_id: Option<i64>,
    pub datacenter_id: Option<i64>,
    /// The image (`boximage_id`, `govpsie` only).
    pub boximage_id: Option<i64>,
    pub os_name: Option<String>,
    pub os_version: Option<String>,
    /// `created_on` as sent (RFC 3339 expected; the live format is unverified).
    pub created_on: Option<String>,
    pub tags: Vec<String>,
}

impl Vm {
    /// Whether the VM counts as running: `status` `running` (any case) or empty or absent.
    pub fn is_running(&self) -> bool {
        self.status
            .as_deref()
            .is_none_or(|s| s.trim().is_empty() || s.trim().eq_ignore_ascii_case("running"))
    }

    /// The VM of one element of a VM list.
    ///
    /// # Errors
    /// The element is not an object, or has neither `hostname` nor `name` (the message names
    /// the field, never a value).
    pub fn from_value(value: &Value) -> Result<Self, String> {
        if !value.is_object() {
            return Err("is not a JSON object".to_owned());
        }
        let name = text(value, "name");
        let hostname = text(value, "hostname")
            .or_else(|| name.clone())
            .ok_or("has neither `hostname` nor `name`")?;
        Ok(Self {
            id: number(value, "id"),
            identifier: text(value, "identifier"),
            name,
            hostname,
            status: text(value, "status").or_else(|| text(value, "state")),
            default_ip: text(value, "default_ip"),
            default_ipv6: text(value, "default_ipv6"),
            private_ip: text(value, "private_ip"),
            boxsize_id: number(value, "boxsize_id"),
            datacenter_id: number(value, "datacenter_id"),
            boximage_id: number(value, "boximage_id"),
            os_name: text(value, "os_name"),
            os_version: text(value, "os_version"),
            created_on: text(value, "created_on"),
            tags: value
                .get("tags")
                .and_then(Value::as_array)
                .map(|tags| {
                    tags.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        })
    }
}

/// One Kubernetes node group of a VPSie-managed cluster (`K8sNodeGroup`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeGroupInfo {
    /// The numeric id (`id`; a NodeGroup's `status.vpsieGroupID`).
    pub id: Option<i64>,
    /// `group_name`.
    pub group_name: String,
    pub identifier: Option<String>,
    /// The offering (`boxsize_id`).
    pub boxsize_id: Option<i64>,
    pub datacenter_id: Option<i64>,
    /// The datacenter's UUID (`dcIdentifier`).
    pub dc_identifier: Option<String>,
    /// The API's own count of the group's nodes (`nodes_count`).
    pub nodes_count: Option<i64>,
    pub is_active: Option<i64>,
    pub is_deleted: Option<i64>,
}

impl NodeGroupInfo {
    /// The group of one element of a node-group list.
    ///
    /// # Errors
    /// The element is not an object or has no `group_name`.
    pub fn from_value(value: &Value) -> Result<Self, String> {
        if !value.is_object() {
            return Err("is not a JSON object".to_owned());
        }
        Ok(Self {
            id: number(value, "id"),
            group_name: text(value, "group_name").ok_or("has no `group_name`")?,
            identifier: text(value, "identifier"),
            boxsize_id: number(value, "boxsize_id"),
            datacenter_id: number(value, "datacenter_id"),
            dc_identifier: text(value, "dcIdentifier"),
            nodes_count: number(value, "nodes_count"),
            is_active: number(value, "is_active"),
            is_deleted: number(value, "is_deleted"),
        })
    }

    /// Whether the API marks the group deleted (`is_deleted` non-zero).
    pub fn is_deleted(&self) -> bool {
        self.is_deleted.is_some_and(|d| d != 0)
    }
}

/// One node of a VPSie-managed Kubernetes cluster, as the cluster-info endpoint lists it
/// (`GET /k8s/cluster/byId/{id}`, `nodes[]`, `masters[]`, `slaves[]`: `K8sClusterNode`).
/// VPSie-managed nodes may be missing from `GET /vm`; the autoscaler then matches a Node with
/// such an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterNode {
    /// The node's UUID (`identifier`).
    pub identifier: Option<String>,
    pub hostname: String,
    pub ip: Option<String>,
    /// `running`, ...
    pub status: Option<String>,
    /// `master` or `slave` (`role`, else the list it came from).
    pub role: Option<String>,
}

impl ClusterNode {
    /// The node of one element of a cluster-info list (`list`: `nodes`, `masters`, `slaves`).
    ///
    /// # Errors
    /// The element is not an object or has no `hostname`.
    pub fn from_value(value: &Value, list: &str) -> Result<Self, String> {
        if !value.is_object() {
            return Err("is not a JSON object".to_owned());
        }
        let role = text(value, "role").or_else(|| match list {
            "masters" => Some("master".to_owned()),
            "slaves" => Some("slave".to_owned()),
            _ => None,
        });
        Ok(Self {
            identifier: text(value, "identifier"),
            hostname: text(value, "hostname").ok_or("has no `hostname`")?,
            ip: text(value, "ip"),
            status: text(value, "status"),
            role,
        })
    }

    /// Every node of a cluster info's `data` (`nodes[]`, `slaves[]`, `masters[]`), each once
    /// (by identifier, else hostname in any case), in that order.
    ///
    /// # Errors
    /// `data` is not an object, a list is not a list, or an element is not a node; the message
    /// names the place (`` `data.nodes[2]` has no `hostname` ``), never a value.
    pub fn all_of(data: &Value) -> Result<Vec<Self>, String> {
        let Value::Object(data) = data else {
            return Err("`data` is not an object".to_owned());
        };
        let mut out: Vec<Self> = Vec::new();
        for list in ["nodes", "slaves", "masters"] {
            let elements = match data.get(list) {
                Some(Value::Array(elements)) => elements.as_slice(),
                None | Some(Value::Null) => &[],
                Some(_) => return Err(format!("`data.{list}` is not a list")),
            };
            for (i, element) in elements.iter().enumerate() {
                let node = Self::from_value(element, list)
                    .map_err(|m| format!("`data.{list}[{i}]` {m}"))?;
                let seen = out.iter().any(|n| match (&n.identifier, &node.identifier) {
                    (Some(a), Some(b)) => a == b,
                    _ => n.hostname.eq_ignore_ascii_case(&node.hostname),
                });
                if !seen {
                    out.push(node);
                }
            }
        }
        Ok(out)
    }

    /// Whether the node is a control-plane node (`role` `master`).
    pub fn is_master(&self) -> bool {
        self.role
            .as_deref()
            .is_some_and(|r| r.eq_ignore_ascii_case("master"))
    }

    /// The node as a VM of the VM list would be (no id, no creation time): what matching reads.
    pub fn as_vm(&self) -> Vm {
        Vm {
            id: None,
            identifier: self.identifier.clone(),
            name: Some(self.hostname.clone()),
            hostname: self.hostname.clone(),
            status: self.status.clone(),
            default_ip: self.ip.clone(),
            default_ipv6: None,
            private_ip: None,
            boxsize_id: None,
            datacenter_id: None,
            boximage_id: None,
            os_name: None,
            os_version: None,
            created_on: None,
            tags: Vec::new(),
        }
    }
}

/// A string field (a number is written as its digits); empty strings are absent.
fn text(value: &Value, field: &str) -> Option<String> {
    match value.get(field)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// An integer field, as a JSON integer or a string of digits.
fn number(value: &Value, field: &str) -> Option<i64> {
    match value.get(field)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_vm_is_read_defensively() {
        let vm = Vm::from_value(&json!({"id": "12", "hostname": "workers-a1",
            "status": "", "default_ip": "10.0.0.5", "boxsize_id": 7, "tags": ["a", 3],
            "cpu": "not a number", "created_on": "2026-11-30T10:00:00Z"}))
        .unwrap();
        assert_eq!(vm.id, Some(12));
        assert_eq!(vm.hostname, "workers-a1");
        assert!(vm.is_running(), "an empty status counts as running");
        assert_eq!(vm.boxsize_id, Some(7));
        assert_eq!(vm.tags, ["a"]);
        let named = Vm::from_value(&json!({"name": "n1", "status": "Stopped"})).unwrap();
        assert_eq!(named.hostname, "n1");
        assert!(!named.is_running());
        assert!(Vm::from_value(&json!({"id": 1})).is_err());
        assert!(Vm::from_value(&json!([1])).is_err());
    }

    #[test]
    fn a_cluster_node_is_read_with_its_role() {
        let n = ClusterNode::from_value(
            &json!({"identifier": "u-1", "hostname": "k8s-w1", "ip": "10.0.0.7", "status": "running"}),
            "slaves",
        )
        .unwrap();
        assert_eq!(n.role.as_deref(), Some("slave"));
        assert!(!n.is_master());
        let vm = n.as_vm();
        assert_eq!((vm.id, vm.default_ip.as_deref()), (None, Some("10.0.0.7")));
        assert!(ClusterNode::from_value(&json!({"role": "master"}), "nodes").is_err());
        assert!(
            ClusterNode::from_value(&json!({"hostname": "m", "role": "MASTER"}), "nodes")
                .unwrap()
                .is_master()
        );
    }

    #[test]
    fn a_node_group_is_read_defensively() {
        let g = NodeGroupInfo::from_value(&json!({"id": 4, "group_name": "workers",
            "nodes_count": "3", "is_deleted": 0}))
        .unwrap();
        assert_eq!(g.id, Some(4));
        assert_eq!(g.nodes_count, Some(3));
        assert!(!g.is_deleted());
        assert!(NodeGroupInfo::from_value(&json!({"id": 4})).is_err());
    }
}
