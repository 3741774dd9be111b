//! The STACKIT `Server` as the list operation returns it ([`Server`]), read defensively: every
//! field optional except the two the API requires (`name`, `machineType`), unknown fields
//! ignored, and the JSON object kept whole ([`Server::raw`]) for the comparison with
//! MachineClasses. `status` and `powerStatus` stay strings (the spec lists values but declares
//! a plain string), with helpers.
//!
//! The server's `securityGroups` (names), `networking`, `bootVolume.size`, `.performanceClass`
//! and `.source` are write-only in the spec and never come back; each NIC's `securityGroups`
//! (ids), `nics`, `userData` and `serviceAccountMails` only with `details=true`. `userData`
//! is dropped as the server is read, from [`Server::raw`] too: it carries the node's bootstrap
//! token, is never compared, and so never reaches a report, an error or a `Debug` print.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::selector::{
    LEGACY_MACHINE_CLASS_LABEL, LEGACY_MACHINE_LABEL, MACHINE_CLASS_LABEL, MACHINE_LABEL,
};

/// `status` values that mean the server is broken.
pub const UNHEALTHY_STATUSES: [&str; 1] = ["ERROR"];
/// `powerStatus` values that mean the server is broken.
pub const UNHEALTHY_POWER_STATUSES: [&str; 2] = ["CRASHED", "ERROR"];

/// One server.
#[derive(Debug, Clone, PartialEq)]
pub struct Server {
    pub id: Option<String>,
    pub name: String,
    pub machine_type: String,
    pub image_id: Option<String>,
    pub availability_zone: Option<String>,
    /// String-valued labels (a label whose value is not a string is left to [`Server::raw`]).
    pub labels: BTreeMap<String, String>,
    pub boot_volume: Option<BootVolume>,
    pub volumes: Vec<String>,
    /// Only with `details=true`.
    pub nics: Vec<Nic>,
    pub status: Option<String>,
    pub power_status: Option<String>,
    pub error_message: Option<String>,
    pub affinity_group: Option<String>,
    pub keypair_name: Option<String>,
    pub metadata: Option<Value>,
    /// Only with `details=true`.
    pub service_account_mails: Vec<String>,
    pub agent_provisioned: Option<bool>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    /// The object as the API sent it.
    pub raw: Value,
}

/// What the API returns of a server's boot volume (`id`, `deleteOnTermination`; the rest is
/// write-only).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootVolume {
    pub id: Option<String>,
    pub delete_on_termination: Option<bool>,
}

/// A network interface of a server (`details=true`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Nic {
    pub nic_id: Option<String>,
    pub network_id: Option<String>,
    pub network_name: Option<String>,
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub mac: Option<String>,
    pub public_ip: Option<String>,
    pub nic_security: Option<bool>,
    #[serde(default)]
    pub allowed_addresses: Vec<Value>,
    /// The security groups of the interface (ids).
    #[serde(default)]
    pub security_groups: Vec<String>,
}

/// Which labels identify a server's class and machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LabelForm {
    /// `kubernetes.io/machineclass`, `kubernetes.io/machine` (since 2026-01).
    Current,
    /// `mcm.gardener.cloud/machineclass`, `mcm.gardener.cloud/machine` (before).
    Legacy,
}

impl LabelForm {
    /// Both forms, the current one first.
    pub const ALL: [Self; 2] = [Self::Current, Self::Legacy];

    /// The machine-class label key.
    pub fn class_key(self) -> &'static str {
        match self {
            Self::Current => MACHINE_CLASS_LABEL,
            Self::Legacy => LEGACY_MACHINE_CLASS_LABEL,
        }
    }

    /// The machine label key.
    pub fn machine_key(self) -> &'static str {
        match self {
            Self::Current => MACHINE_LABEL,
            Self::Legacy => LEGACY_MACHINE_LABEL,
        }
    }
}

impl Server {
    /// Reads one item of a list response; the error names the missing or mistyped field,
    /// never a value.
    pub fn from_value(mut raw: Value) -> Result<Self, String> {
        let Some(object) = raw.as_object_mut() else {
            return Err("is not an object".to_owned());
        };
        object.remove("userData");
        let text = |field: &str| -> Result<Option<String>, String> {
            match raw.get(field) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.clone())),
                Some(_) => Err(format!("`{field}` is not a string")),
            }
        };
        let required = |field: &str| -> Result<String, String> {
            text(field)?.ok_or_else(|| format!("`{field}` is missing"))
        };
        let strings = |field: &str| -> Result<Vec<String>, String> {
            match raw.get(field) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|v| {
                        v.as_str()
                            .map(str::to_owned)
                            .ok_or_else(|| format!("`{field}` holds an item that is not a string"))
                    })
                    .collect(),
                Some(_) => Err(format!("`{field}` is not a list")),
            }
        };
        let typed = |field: &str| raw.get(field).filter(|v| !v.is_null());
        let labels = match typed("labels") {
            None => BTreeMap::new(),
            Some(Value::Object(map)) => map
                .iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_owned())))
                .collect(),
            Some(_) => return Err("`labels` is not an object".to_owned()),
        };
        let boot_volume = typed("bootVolume")
            .map(|v| BootVolume::deserialize(v).map_err(|_| "`bootVolume` has an unexpected shape"))
            .transpose()?;
        let nics = typed("nics")
            .map(|v| Vec::<Nic>::deserialize(v).map_err(|_| "`nics` has an unexpected shape"))
            .transpose()?
            .unwrap_or_default();
        let agent_provisioned = typed("agent")
            .and_then(|a| a.get("provisioned"))
            .and_then(Value::as_bool);
        Ok(Self {
            id: text("id")?,
            name: required("name")?,
            machine_type: required("machineType")?,
            image_id: text("imageId")?,
            availability_zone: text("availabilityZone")?,
            labels,
            boot_volume,
            volumes: strings("volumes")?,
            nics,
            status: text("status")?,
            power_status: text("powerStatus")?,
            error_message: text("errorMessage")?,
            affinity_group: text("affinityGroup")?,
            keypair_name: text("keypairName")?,
            metadata: typed("metadata").cloned(),
            service_account_mails: strings("serviceAccountMails")?,
            agent_provisioned,
            created_at: text("createdAt")?,
            updated_at: text("updatedAt")?,
            raw,
        })
    }

    /// Whether the server is broken: `status` `ERROR`, or `powerStatus` `CRASHED` or `ERROR`.
    pub fn is_unhealthy(&self) -> bool {
        self.status
            .as_deref()
            .is_some_and(|s| UNHEALTHY_STATUSES.contains(&s))
            || self
                .power_status
                .as_deref()
                .is_some_and(|s| UNHEALTHY_POWER_STATUSES.contains(&s))
    }

    /// The machine class the server's labels name, and in which form (the current form wins
    /// when both are set).
    pub fn machine_class(&self) -> Option<(LabelForm, &str)> {
        LabelForm::ALL.into_iter().find_map(|form| {
            self.labels
                .get(form.class_key())
                .map(|v| (form, v.as_str()))
        })
    }

    /// The Machine the server belongs to: the machine label (either form), else the server
    /// name, as the provider maps them.
    pub fn machine_name(&self) -> &str {
        LabelForm::ALL
            .into_iter()
            .find_map(|form| self.labels.get(form.machine_key()))
            .map_or(self.name.as_str(), String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_server_is_read_defensively_and_kept_whole() {
        let raw = json!({
            "id": "d61a8564-c8dd-4ffb-bc15-143e7d0c85ed",
            "name": "worker-1",
            "machineType": "c1.2",
            "labels": {"mcm.gardener.cloud/machineclass": "workers", "n": 3},
            "bootVolume": {"id": "b", "deleteOnTermination": true},
            "nics": [{"nicId": "n1", "ipv4": "10.0.0.4", "later": "ignored",
                "securityGroups": ["6f1c0001-2b1e-4c4a-9a51-0c2f5e7d0002"]}],
            "userData": "I2Nsb3VkLWNvbmZpZwpib290c3RyYXAtdG9rZW46IGFiY2RlZi4wMTIzNDU2Nzg5YWJjZGVm",
            "status": "ACTIVE",
            "powerStatus": "CRASHED",
            "somethingNew": {"x": 1},
        });
        let s = Server::from_value(raw.clone()).unwrap();
        assert_eq!(s.machine_type, "c1.2");
        assert_eq!(
            s.labels.len(),
            1,
            "non-string label values stay in raw only"
        );
        assert_eq!(s.machine_class(), Some((LabelForm::Legacy, "workers")));
        assert_eq!(s.machine_name(), "worker-1");
        assert_eq!(s.nics[0].ipv4.as_deref(), Some("10.0.0.4"));
        assert_eq!(
            s.boot_volume.as_ref().unwrap().delete_on_termination,
            Some(true)
        );
        assert_eq!(
            s.nics[0].security_groups,
            ["6f1c0001-2b1e-4c4a-9a51-0c2f5e7d0002"]
        );
        assert!(s.is_unhealthy());
        // userData (a bootstrap token) is dropped, from the raw object too.
        let mut expected = raw;
        expected.as_object_mut().unwrap().remove("userData");
        assert_eq!(s.raw, expected);
        assert!(!format!("{s:?}").contains("I2Nsb3Vk"));
    }

    #[test]
    fn unhealthy_means_status_error_or_power_crashed_or_error() {
        let server = |status: &str, power: &str| {
            Server::from_value(
                json!({"name": "a", "machineType": "t", "status": status, "powerStatus": power}),
            )
            .unwrap()
        };
        assert!(!server("ACTIVE", "RUNNING").is_unhealthy());
        assert!(!server("STOPPING", "STOPPED").is_unhealthy());
        assert!(server("ERROR", "RUNNING").is_unhealthy());
        assert!(server("ACTIVE", "ERROR").is_unhealthy());
        assert!(server("ACTIVE", "CRASHED").is_unhealthy());
    }

    #[test]
    fn a_server_without_a_required_field_names_it() {
        assert_eq!(
            Server::from_value(json!({"name": "a"})).unwrap_err(),
            "`machineType` is missing"
        );
        assert_eq!(
            Server::from_value(json!({"name": "a", "machineType": 3})).unwrap_err(),
            "`machineType` is not a string"
        );
    }
}
