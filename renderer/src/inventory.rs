//! The committed hardware inventory of a cluster (`clusters/<name>/inventory.yaml`) and the
//! detectors derived from it, following Node Feature Discovery's label conventions.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::catalog::Detector;

/// The NFD label set on nodes with more than one NUMA node.
pub const NFD_NUMA: &str = "feature.node.kubernetes.io/memory-numa";
/// The NFD label set on nodes with an SR-IOV capable NIC.
pub const NFD_SRIOV: &str = "feature.node.kubernetes.io/network-sriov.capable";
const NFD_PCI_PREFIX: &str = "feature.node.kubernetes.io/pci-";
const NFD_USB_PREFIX: &str = "feature.node.kubernetes.io/usb-";
const NFD_CPU_VENDOR: &str = "feature.node.kubernetes.io/cpu-model.vendor_id";

/// A PCI device of a node, as `lspci -nn` names it: vendor, device and class ids in hex.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PciDevice {
    pub vendor: String,
    pub device: String,
    #[serde(default)]
    pub class: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

/// A USB device of a node.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct UsbDevice {
    pub vendor: String,
    pub product: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Taint {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub effect: String,
}

/// One node of the inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Node {
    pub name: String,
    #[serde(default)]
    pub roles: Vec<String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub taints: Vec<Taint>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_vendor: Option<String>,
    #[serde(default)]
    pub numa_nodes: u32,
    #[serde(default)]
    pub pci_devices: Vec<PciDevice>,
    #[serde(default)]
    pub usb_devices: Vec<UsbDevice>,
}

impl Node {
    fn is_master(&self) -> bool {
        self.roles
            .iter()
            .any(|r| r == "master" || r == "control-plane")
    }

    fn label_true(&self, key: &str) -> bool {
        self.labels.get(key).is_some_and(|v| v == "true")
    }

    fn nfd_pci_classes(&self) -> impl Iterator<Item = &str> {
        // `feature.node.kubernetes.io/pci-<class>_<vendor>.present` (class first, 4 hex digits).
        self.labels.iter().filter_map(|(k, v)| {
            let rest = k.strip_prefix(NFD_PCI_PREFIX)?;
            (v == "true" && rest.ends_with(".present"))
                .then(|| rest.split('_').next().unwrap_or(""))
        })
    }

    fn numa(&self) -> bool {
        self.numa_nodes > 1 || self.label_true(NFD_NUMA)
    }

    fn pci(&self) -> bool {
        !self.pci_devices.is_empty() || self.nfd_pci_classes().next().is_some()
    }

    fn gpu(&self) -> bool {
        let is_gpu_class = |c: &str| c.starts_with("0300") || c.starts_with("0302");
        self.pci_devices.iter().any(|d| is_gpu_class(&d.class))
            || self.nfd_pci_classes().any(is_gpu_class)
            || self.label_true("nvidia.com/gpu.present")
    }

    fn sriov(&self) -> bool {
        self.label_true(NFD_SRIOV)
    }

    fn usb(&self) -> bool {
        !self.usb_devices.is_empty()
            || self.labels.iter().any(|(k, v)| {
                k.starts_with(NFD_USB_PREFIX) && k.ends_with(".present") && v == "true"
            })
    }

    fn schedulable_master(&self) -> bool {
        self.is_master()
            && !self.taints.iter().any(|t| {
                (t.key == "node-role.kubernetes.io/master"
                    || t.key == "node-role.kubernetes.io/control-plane")
                    && (t.effect == "NoSchedule" || t.effect == "NoExecute")
            })
    }

    fn cpu_vendor(&self) -> Option<&str> {
        self.cpu_vendor
            .as_deref()
            .or_else(|| self.labels.get(NFD_CPU_VENDOR).map(String::as_str))
    }
}

/// The inventory file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    #[serde(default)]
    pub nodes: Vec<Node>,
}

impl Inventory {
    /// Evaluates one detector, with the names of the nodes that made it true.
    pub fn detect(&self, detector: Detector) -> (bool, Vec<&str>) {
        let pred: fn(&Node) -> bool = match detector {
            Detector::PciDevicesPresent => Node::pci,
            Detector::NumaNodesPresent => Node::numa,
            Detector::GpuPresent => Node::gpu,
            Detector::SriovPresent => Node::sriov,
            Detector::UsbDevicesPresent => Node::usb,
            Detector::HasSchedulableMasters => Node::schedulable_master,
        };
        let nodes: Vec<&str> = self
            .nodes
            .iter()
            .filter(|n| pred(n))
            .map(|n| n.name.as_str())
            .collect();
        (!nodes.is_empty(), nodes)
    }

    /// All detectors at once.
    pub fn detectors(&self) -> BTreeMap<&'static str, bool> {
        Detector::ALL
            .into_iter()
            .map(|d| (d.name(), self.detect(d).0))
            .collect()
    }

    /// The `hardware` value templates see.
    pub fn to_context(&self) -> Value {
        let mut hw = serde_json::Map::new();
        for (k, v) in self.detectors() {
            hw.insert(k.to_owned(), v.into());
        }
        let vendors: BTreeSet<&str> = self.nodes.iter().filter_map(Node::cpu_vendor).collect();
        hw.insert("cpuVendors".into(), json!(vendors));
        hw.insert(
            "maxNumaNodes".into(),
            json!(self.nodes.iter().map(|n| n.numa_nodes).max().unwrap_or(0)),
        );
        let pci: BTreeSet<PciDevice> = self
            .nodes
            .iter()
            .flat_map(|n| n.pci_devices.iter())
            .map(|d| PciDevice {
                address: None,
                ..d.clone()
            })
            .collect();
        hw.insert("pciDevices".into(), json!(pci));
        let usb: BTreeSet<&UsbDevice> = self
            .nodes
            .iter()
            .flat_map(|n| n.usb_devices.iter())
            .collect();
        hw.insert("usbDevices".into(), json!(usb));
        let nodes: Vec<Value> = self
            .nodes
            .iter()
            .map(|n| {
                json!({
                    "name": n.name,
                    "roles": n.roles,
                    "labels": n.labels,
                    "numaNodes": n.numa_nodes,
                    "cpuVendor": n.cpu_vendor(),
                })
            })
            .collect();
        hw.insert("nodes".into(), Value::Array(nodes));
        Value::Object(hw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inv(text: &str) -> Inventory {
        plinth_vocab::yaml::from_str(text, "inventory.yaml").unwrap()
    }

    #[test]
    fn nfd_labels_drive_detectors() {
        let i = inv(
            "nodes:\n- name: n1\n  labels:\n    feature.node.kubernetes.io/pci-0302_10de.present: \"true\"\n    feature.node.kubernetes.io/memory-numa: \"true\"\n    feature.node.kubernetes.io/network-sriov.capable: \"true\"\n",
        );
        let d = i.detectors();
        assert!(
            d["pciDevicesPresent"] && d["gpuPresent"] && d["numaNodesPresent"] && d["sriovPresent"]
        );
        assert!(!d["usbDevicesPresent"] && !d["hasSchedulableMasters"]);
    }

    #[test]
    fn tainted_masters_are_not_schedulable() {
        let i = inv(
            "nodes:\n- name: m1\n  roles: [master]\n  taints:\n  - key: node-role.kubernetes.io/master\n    effect: NoSchedule\n",
        );
        assert!(!i.detectors()["hasSchedulableMasters"]);
        let j = inv("nodes:\n- name: m1\n  roles: [control-plane, worker]\n");
        assert_eq!(
            j.detect(Detector::HasSchedulableMasters),
            (true, vec!["m1"])
        );
    }

    #[test]
    fn numa_count_and_devices_count() {
        let i = inv(
            "nodes:\n- name: n\n  numaNodes: 2\n  pciDevices:\n  - {vendor: '8086', device: '1572', class: '0200'}\n  usbDevices:\n  - {vendor: '046d', product: c52b}\n",
        );
        let d = i.detectors();
        assert!(d["numaNodesPresent"] && d["pciDevicesPresent"] && d["usbDevicesPresent"]);
        assert!(!d["gpuPresent"]);
    }
}
