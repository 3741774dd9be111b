//! Hardware inventory from a live cluster's Node objects (Node Feature Discovery labels, roles,
//! taints) and hardware drift: detectors whose live value differs from the committed inventory.

use std::collections::{BTreeMap, BTreeSet};

use plinth_renderer::catalog::Detector;
use plinth_renderer::inventory::{Inventory, NFD_NUMA, Node, PciDevice, Taint, UsbDevice};
use serde_json::Value;

use crate::core::report::HardwareDrift;

const NFD_PREFIX: &str = "feature.node.kubernetes.io/";
const NFD_PCI_PREFIX: &str = "feature.node.kubernetes.io/pci-";
const NFD_USB_PREFIX: &str = "feature.node.kubernetes.io/usb-";
const NFD_CPU_VENDOR: &str = "feature.node.kubernetes.io/cpu-model.vendor_id";
const ROLE_PREFIX: &str = "node-role.kubernetes.io/";

/// Labels kept besides the Node Feature Discovery ones: they describe hardware and placement,
/// not the node's identity, so the inventory stays stable when nodes are replaced alike.
const KEPT_LABELS: &[&str] = &[
    "kubernetes.io/arch",
    "node.kubernetes.io/instance-type",
    "nvidia.com/gpu.present",
    "topology.kubernetes.io/region",
    "topology.kubernetes.io/zone",
];

/// The inventory the Node objects describe, nodes sorted by name.
///
/// - roles: `node-role.kubernetes.io/<role>` labels;
/// - labels: every `feature.node.kubernetes.io/*` label plus a few hardware/placement labels;
/// - taints: `spec.taints` (key, value, effect);
/// - CPU vendor: `feature.node.kubernetes.io/cpu-model.vendor_id`;
/// - PCI devices: `feature.node.kubernetes.io/pci-<class>_<vendor>[_<device>].present`;
/// - USB devices: `feature.node.kubernetes.io/usb-<class>_<vendor>_<device>.present`;
/// - NUMA nodes: NFD labels say only whether there is more than one, so the count is a lower
///   bound: 2 with `memory-numa: "true"`, 1 when NFD labelled the node without it, 0 (unknown)
///   when the node carries no NFD label at all.
pub fn inventory_from_nodes(nodes: &[Value]) -> Inventory {
    let mut out: Vec<Node> = nodes.iter().filter_map(node_from).collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Inventory { nodes: out }
}

/// A label or taint value as the committed inventory shows it: as the cluster has it, unless
/// the one redaction policy calls it secret (by content, or under a credential-named key) —
/// then the fixed placeholder, which keeps the file deterministic (docs/security.md).
fn shown(key: &str, value: &str) -> String {
    use plinth_vocab::redact::{Redactor, SECRET_PLACEHOLDER, is_credential_key};
    let name = key.rsplit('/').next().unwrap_or(key);
    let secret = (is_credential_key(name) && !value.is_empty())
        || Redactor::looks_secret(value)
        || Redactor::with_key(&[0; 32]).redact_text(value) != value;
    if secret {
        SECRET_PLACEHOLDER.to_owned()
    } else {
        value.to_owned()
    }
}

fn node_from(node: &Value) -> Option<Node> {
    let name = node.pointer("/metadata/name")?.as_str()?.to_owned();
    let all: BTreeMap<String, String> = node
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default();
    let roles: BTreeSet<String> = all
        .keys()
        .filter_map(|k| k.strip_prefix(ROLE_PREFIX))
        .filter(|r| !r.is_empty())
        .map(str::to_owned)
        .collect();
    let labels: BTreeMap<String, String> = all
        .iter()
        .filter(|(k, _)| k.starts_with(NFD_PREFIX) || KEPT_LABELS.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), shown(k, v)))
        .collect();
    let taints = node
        .pointer("/spec/taints")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| {
            Some(Taint {
                key: t.get("key")?.as_str()?.to_owned(),
                value: t
                    .get("value")
                    .and_then(Value::as_str)
                    .map(|v| shown(t.get("key").and_then(Value::as_str).unwrap_or(""), v)),
                effect: t.get("effect")?.as_str()?.to_owned(),
            })
        })
        .collect();
    // The `_`-separated fields of every `<prefix><fields>.present=true` label that has at
    // least `fields` of them.
    let present = |prefix: &str, fields: usize| -> Vec<Vec<String>> {
        labels
            .iter()
            .filter(|(_, v)| v.as_str() == "true")
            .filter_map(|(k, _)| k.strip_prefix(prefix)?.strip_suffix(".present"))
            .map(|rest| rest.split('_').map(str::to_owned).collect::<Vec<_>>())
            .filter(|f| f.len() >= fields)
            .collect()
    };
    let pci_devices: BTreeSet<PciDevice> = present(NFD_PCI_PREFIX, 2)
        .into_iter()
        .map(|f| PciDevice {
            class: f[0].clone(),
            vendor: f[1].clone(),
            device: f.get(2).cloned().unwrap_or_default(),
            name: None,
            address: None,
        })
        .collect();
    let usb_devices: BTreeSet<UsbDevice> = present(NFD_USB_PREFIX, 3)
        .into_iter()
        .map(|f| UsbDevice {
            vendor: f[1].clone(),
            product: f[2].clone(),
            name: None,
        })
        .collect();
    let numa_nodes = if labels.get(NFD_NUMA).is_some_and(|v| v == "true") {
        2
    } else {
        u32::from(labels.keys().any(|k| k.starts_with(NFD_PREFIX)))
    };
    Some(Node {
        name,
        roles: roles.into_iter().collect(),
        cpu_vendor: labels.get(NFD_CPU_VENDOR).cloned(),
        labels,
        taints,
        numa_nodes,
        pci_devices: pci_devices.into_iter().collect(),
        usb_devices: usb_devices.into_iter().collect(),
    })
}

/// The inventory as the YAML `plinth discover` writes.
pub fn inventory_yaml(inventory: &Inventory) -> String {
    let value = serde_json::to_value(inventory).unwrap_or(Value::Null);
    plinth_vocab::yaml::to_string(&value)
}

/// Detectors whose value differs between the committed inventory and the live nodes, in
/// detector order, with the live nodes on which each holds.
pub fn hardware_drift(committed: &Inventory, live: &Inventory) -> Vec<HardwareDrift> {
    Detector::ALL
        .into_iter()
        .filter_map(|d| {
            let (was, _) = committed.detect(d);
            let (is, nodes) = live.detect(d);
            (was != is).then(|| HardwareDrift {
                detector: d.name().to_owned(),
                committed: was,
                live: is,
                nodes: nodes.into_iter().map(str::to_owned).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn gpu_node() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "gpu-1", "labels": {
                "kubernetes.io/hostname": "gpu-1",
                "node-role.kubernetes.io/worker": "",
                "feature.node.kubernetes.io/pci-0302_10de.present": "true",
                "feature.node.kubernetes.io/usb-ff_0781_5583.present": "true",
                "feature.node.kubernetes.io/memory-numa": "true",
                "feature.node.kubernetes.io/network-sriov.capable": "true",
                "feature.node.kubernetes.io/cpu-model.vendor_id": "AMD",
            }},
            "spec": {"taints": [{"key": "nvidia.com/gpu", "effect": "NoSchedule", "timeAdded": "2026-01-01T00:00:00Z"}]},
        })
    }

    fn master() -> Value {
        json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "m-1", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"taints": [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]},
        })
    }

    /// A cluster controls its Node objects: a taint or kept label value that looks like a
    /// credential is not written into the committed inventory.
    #[test]
    fn secret_label_and_taint_values_are_not_written() {
        let token = "ghp_Pl4nt3dGhPT0k3nAbCdEfGhIjKlMnOpQrS0";
        let node = json!({
            "metadata": {"name": "n-1", "labels": {
                "feature.node.kubernetes.io/custom-token": token,
                "feature.node.kubernetes.io/cpu-model.vendor_id": "Intel",
            }},
            "spec": {"taints": [
                {"key": "example.io/password", "value": "hunter2", "effect": "NoSchedule"},
                {"key": "example.io/note", "value": format!("Bearer {token}"), "effect": "NoSchedule"},
                {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"},
            ]}
        });
        let text = inventory_yaml(&inventory_from_nodes(&[node]));
        for secret in [token, "hunter2"] {
            assert!(!text.contains(secret), "{text}");
        }
        assert!(text.contains("Intel") && text.contains("gpu"), "{text}");
    }

    #[test]
    fn nodes_become_an_inventory() {
        let inv = inventory_from_nodes(&[gpu_node(), master()]);
        assert_eq!(inv.nodes.len(), 2);
        let gpu = &inv.nodes[0];
        assert_eq!(gpu.name, "gpu-1");
        assert_eq!(gpu.roles, ["worker"]);
        assert_eq!(gpu.cpu_vendor.as_deref(), Some("AMD"));
        assert_eq!(gpu.numa_nodes, 2);
        assert_eq!(gpu.pci_devices[0].class, "0302");
        assert_eq!(gpu.pci_devices[0].vendor, "10de");
        assert_eq!(gpu.usb_devices[0].product, "5583");
        assert!(!gpu.labels.contains_key("kubernetes.io/hostname"));
        assert_eq!(gpu.taints[0].key, "nvidia.com/gpu");
        assert_eq!(inv.nodes[1].roles, ["control-plane"]);
        assert_eq!(inv.nodes[1].numa_nodes, 0);
        let d = inv.detectors();
        assert!(
            d["gpuPresent"] && d["numaNodesPresent"] && d["sriovPresent"] && d["usbDevicesPresent"]
        );
        assert!(!d["hasSchedulableMasters"]);
    }

    #[test]
    fn the_yaml_round_trips_and_is_deterministic() {
        let a = inventory_yaml(&inventory_from_nodes(&[master(), gpu_node()]));
        let b = inventory_yaml(&inventory_from_nodes(&[gpu_node(), master()]));
        assert_eq!(a, b);
        let back: Inventory = plinth_vocab::yaml::from_str(&a, "inventory.yaml").unwrap();
        assert_eq!(back, inventory_from_nodes(&[gpu_node(), master()]));
    }

    #[test]
    fn hardware_drift_lists_changed_detectors_only() {
        let committed = inventory_from_nodes(&[master()]);
        let live = inventory_from_nodes(&[master(), gpu_node()]);
        let drift = hardware_drift(&committed, &live);
        let names: Vec<&str> = drift.iter().map(|d| d.detector.as_str()).collect();
        assert_eq!(
            names,
            [
                "pciDevicesPresent",
                "numaNodesPresent",
                "gpuPresent",
                "sriovPresent",
                "usbDevicesPresent"
            ]
        );
        assert!(
            drift
                .iter()
                .all(|d| !d.committed && d.live && d.nodes == ["gpu-1"])
        );
        assert!(hardware_drift(&live, &live).is_empty());
    }
}
