//! Cloud drift, pure: STACKIT servers compared with the cluster's rendered `MachineClass`es.
//!
//! A server is plinth's business when it carries a machine-class label (either form:
//! `kubernetes.io/machineclass` or the older `mcm.gardener.cloud/machineclass`) or a machine
//! label; any other server is not listed. Each listed server gets one [`ServerStatus`], in this
//! order of precedence:
//!
//! 1. `orphaned`: its class label names a class not rendered for the cluster, or it has a
//!    machine label and no class label;
//! 2. `unhealthy`: `status` `ERROR`, or `powerStatus` `CRASHED` or `ERROR` (its differences
//!    are still listed);
//! 3. `drifted`: a field the API changes in place (the labels the class sets, `metadata`)
//!    differs — someone changed the server after it was created;
//! 4. `stale`: only fields fixed at creation differ (machine type, image, zone, key pair,
//!    affinity group, service-account mails, networking, volumes, boot volume
//!    `deleteOnTermination`, agent): the server was built from an older version of the class
//!    (one whose replacement key was another), and a rollout replaces it;
//! 5. `in-sync`.
//!
//! Every difference says whether a replacement would change it (fields fixed at creation) or
//! the API updates it in place. Fields the class sets that the API does not return
//! (`securityGroups`, `bootVolume.{source, size, performanceClass}`, `userData`,
//! `allowedAddresses`, and without `details` `networking` and `serviceAccountMails`) are
//! listed per server as not comparable, never passed silently.
//!
//! The results' types, their redaction and summary are the report's
//! ([`super::report::cloud`]).

use std::collections::{BTreeMap, BTreeSet};

use plinth_cloud::stackit::Server;
use plinth_cloud::stackit::model::LabelForm;
use plinth_vocab::change::FieldChange;
use plinth_vocab::labels::ANNOTATION_REPLACEMENT_KEY;
use plinth_vocab::pointer;
use serde_json::{Value, json};

pub use super::report::cloud::{CloudOrigin, CloudReport, ServerResult, ServerStatus};

/// A rendered `MachineClass` as the comparison needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassSpec {
    pub name: String,
    pub provider_spec: Value,
    /// Its `plinth.dev/replacement-key` annotation.
    pub replacement_key: Option<String>,
    /// Whether its userData comes from a Secret (`secretRef`).
    pub has_secret_ref: bool,
}

impl ClassSpec {
    /// The class of a rendered STACKIT `MachineClass` object, or none for any other object.
    pub fn of_object(object: &Value) -> Option<Self> {
        if object.get("kind")?.as_str()? != "MachineClass"
            || object.get("provider").and_then(Value::as_str) != Some("stackit")
        {
            return None;
        }
        Some(Self {
            name: object.pointer("/metadata/name")?.as_str()?.to_owned(),
            provider_spec: object.get("providerSpec").cloned().unwrap_or(json!({})),
            replacement_key: object
                .pointer(&format!(
                    "/metadata/annotations/{}",
                    pointer::escape(ANNOTATION_REPLACEMENT_KEY)
                ))
                .and_then(Value::as_str)
                .map(str::to_owned),
            has_secret_ref: object.get("secretRef").is_some(),
        })
    }
}

/// Compares every server with the classes: one result per server that carries a machine or
/// machine-class label (a server listed twice, once per label form, counts once).
pub fn compare(classes: &[ClassSpec], servers: &[Server]) -> Vec<ServerResult> {
    compare_listed(classes, servers, None)
}

/// [`compare`], knowing whether the servers were listed with `details=true` (`Some(true)`
/// from the API, which always asks for them); `None` infers it per server from the fields
/// only details carry (a snapshot's servers), so a server the API returned without its empty
/// lists is never called in sync for want of them.
pub fn compare_listed(
    classes: &[ClassSpec],
    servers: &[Server],
    details: Option<bool>,
) -> Vec<ServerResult> {
    let by_name: BTreeMap<&str, &ClassSpec> =
        classes.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for server in servers {
        let identity = server.id.clone().unwrap_or_else(|| server.name.clone());
        if !seen.insert(identity) {
            continue;
        }
        if let Some(result) = compare_one(&by_name, server, details) {
            out.push(result);
        }
    }
    out
}

/// The result of one server, or none when it carries none of the provider's labels.
fn compare_one(
    classes: &BTreeMap<&str, &ClassSpec>,
    server: &Server,
    details: Option<bool>,
) -> Option<ServerResult> {
    let machine_label = LabelForm::ALL
        .into_iter()
        .find(|f| server.labels.contains_key(f.machine_key()));
    let (label, class_name) = match (server.machine_class(), machine_label) {
        (Some((form, class)), _) => (form.class_key(), Some(class.to_owned())),
        (None, Some(form)) => (form.machine_key(), None),
        (None, None) => return None,
    };
    let mut result = ServerResult {
        name: server.name.clone(),
        id: server.id.clone(),
        machine_class: class_name.clone(),
        label: label.to_owned(),
        machine: server.machine_name().to_owned(),
        status: ServerStatus::InSync,
        server_status: server.status.clone(),
        power_status: server.power_status.clone(),
        replacement_key: None,
        changes: Vec::new(),
        replacement: Vec::new(),
        not_comparable: Vec::new(),
        notes: Vec::new(),
    };
    let class = class_name.as_deref().and_then(|c| classes.get(c).copied());
    let Some(class) = class else {
        result.status = ServerStatus::Orphaned;
        result.notes.push(match &class_name {
            Some(c) => format!("its class `{c}` is not rendered for the cluster"),
            None => "it has a machine label and no machine-class label".to_owned(),
        });
        unhealthy_note(server, &mut result);
        return Some(result);
    };
    result.replacement_key.clone_from(&class.replacement_key);
    let mut diff = Diff::default();
    diff.compare(class, server, details);
    result.not_comparable = diff.not_comparable;
    let in_place = diff.changes.iter().any(|(_, replaced)| !replaced);
    for (change, replaced) in diff.changes {
        if replaced {
            result.replacement.push(change.pointer.clone());
        }
        result.changes.push(change);
    }
    result.status = if server.is_unhealthy() {
        ServerStatus::Unhealthy
    } else if in_place {
        ServerStatus::Drifted
    } else if !result.changes.is_empty() {
        ServerStatus::Stale
    } else {
        ServerStatus::InSync
    };
    unhealthy_note(server, &mut result);
    Some(result)
}

/// Notes why an unhealthy server is unhealthy (its `errorMessage` is the API's text: the
/// report redacts it).
fn unhealthy_note(server: &Server, result: &mut ServerResult) {
    if !server.is_unhealthy() {
        return;
    }
    let message = server
        .error_message
        .as_deref()
        .map(|m| format!(": {}", one_line(m)))
        .unwrap_or_default();
    result.notes.push(format!(
        "unhealthy: status {}, powerStatus {}{message}",
        server.status.as_deref().unwrap_or("(absent)"),
        server.power_status.as_deref().unwrap_or("(absent)")
    ));
}

/// `text` on one line, redacted, then at most 300 characters: redacted before it is cut, so a
/// secret across the cut is never shown in part.
fn one_line(text: &str) -> String {
    let line = text
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    plinth_vocab::redact::Redactor::shared()
        .redact_text(&line)
        .chars()
        .take(300)
        .collect()
}

/// The differences of one server and what could not be compared.
#[derive(Default)]
struct Diff {
    /// Each change, and whether a replacement would change it.
    changes: Vec<(FieldChange, bool)>,
    not_comparable: Vec<String>,
}

impl Diff {
    fn compare(&mut self, class: &ClassSpec, server: &Server, details: Option<bool>) {
        let spec = &class.provider_spec;
        let raw = &server.raw;
        let details = details.unwrap_or_else(|| {
            raw.get("nics").is_some() || raw.get("serviceAccountMails").is_some()
        });
        // Fields fixed at creation, compared as the API returns them.
        for field in [
            "machineType",
            "imageId",
            "availabilityZone",
            "keypairName",
            "affinityGroup",
        ] {
            if let Some(want) = spec.get(field).filter(|v| !v.is_null()) {
                // A server booted from a volume may come back without `imageId` (FACTS: empty
                // when it boots from a volume): not comparable, never a false `stale`.
                let boots_from_volume = field == "imageId"
                    && spec.get("bootVolume").is_some()
                    && raw.get(field).is_none_or(|v| v.is_null() || v == "");
                if boots_from_volume {
                    self.not_comparable(
                        "imageId (not returned for a server that boots from a volume)",
                    );
                } else {
                    self.differ(&format!("/{field}"), want, raw.get(field), true);
                }
            }
        }
        if let Some(want) = spec.get("volumes").and_then(Value::as_array) {
            self.set_differ("/volumes", want, raw.get("volumes"), true);
        }
        if let Some(want) = spec.pointer("/bootVolume/deleteOnTermination") {
            match raw.pointer("/bootVolume/deleteOnTermination") {
                Some(got) => self.differ("/bootVolume/deleteOnTermination", want, Some(got), true),
                None => self.not_comparable("bootVolume.deleteOnTermination (not returned)"),
            }
        }
        if let Some(want) = spec.pointer("/agent/provisioned") {
            match raw.pointer("/agent/provisioned") {
                Some(got) => self.differ("/agent/provisioned", want, Some(got), true),
                None => self.not_comparable("agent.provisioned (not returned)"),
            }
        }
        if let Some(want) = spec.get("serviceAccountMails").and_then(Value::as_array) {
            if details {
                let got = raw.get("serviceAccountMails").cloned().unwrap_or(json!([]));
                self.set_differ("/serviceAccountMails", want, Some(&got), true);
            } else {
                self.not_comparable("serviceAccountMails (listed without details)");
            }
        }
        self.networking(spec, server, details);
        // Fields the API updates in place: each key the class sets.
        for field in ["labels", "metadata"] {
            for (key, want) in spec
                .get(field)
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let at = format!("/{field}/{}", pointer::escape(key));
                self.differ(&at, want, raw.pointer(&at), false);
            }
        }
        // Write-only fields.
        for (at, name) in [
            ("/securityGroups", "securityGroups (write-only)"),
            ("/bootVolume/source", "bootVolume.source (write-only)"),
            ("/bootVolume/size", "bootVolume.size (write-only)"),
            (
                "/bootVolume/performanceClass",
                "bootVolume.performanceClass (write-only)",
            ),
            (
                "/allowedAddresses",
                "allowedAddresses (not compared with the NICs' addresses)",
            ),
        ] {
            if spec.pointer(at).is_some() {
                self.not_comparable(name);
            }
        }
        if class.has_secret_ref || spec.get("userData").is_some() {
            self.not_comparable("userData (not returned in a comparable form)");
        }
    }

    /// `networking`: a `networkId` must be the network of one of the server's NICs, `nicIds`
    /// the server's NICs; both need `details`.
    fn networking(&mut self, spec: &Value, server: &Server, details: bool) {
        let Some(networking) = spec.get("networking") else {
            return;
        };
        if !details {
            self.not_comparable("networking (listed without details)");
            return;
        }
        if let Some(want) = networking.get("networkId").and_then(Value::as_str) {
            let networks: Vec<&str> = server
                .nics
                .iter()
                .filter_map(|n| n.network_id.as_deref())
                .collect();
            if !networks.contains(&want) {
                self.change(
                    "/networking/networkId",
                    Some(json!(want)),
                    Some(json!(networks)),
                    true,
                );
            }
        }
        if let Some(want) = networking.get("nicIds").and_then(Value::as_array) {
            let got: Vec<Value> = server
                .nics
                .iter()
                .filter_map(|n| n.nic_id.clone().map(Value::String))
                .collect();
            self.set_differ("/networking/nicIds", want, Some(&Value::Array(got)), true);
        }
    }

    fn differ(&mut self, at: &str, want: &Value, got: Option<&Value>, replaced: bool) {
        if got != Some(want) {
            self.change(at, Some(want.clone()), got.cloned(), replaced);
        }
    }

    /// Lists compared as sets (order is not meaningful for ids and mails).
    fn set_differ(&mut self, at: &str, want: &[Value], got: Option<&Value>, replaced: bool) {
        let set = |items: &[Value]| items.iter().map(Value::to_string).collect::<BTreeSet<_>>();
        let got_items = got.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        if set(want) != set(got_items) {
            self.change(
                at,
                Some(Value::Array(want.to_vec())),
                got.cloned(),
                replaced,
            );
        }
    }

    fn change(&mut self, at: &str, want: Option<Value>, got: Option<Value>, replaced: bool) {
        self.changes
            .push((FieldChange::new(at.to_owned(), want, got), replaced));
    }

    fn not_comparable(&mut self, what: &str) {
        self.not_comparable.push(what.to_owned());
    }
}

#[cfg(test)]
#[path = "cloud_tests.rs"]
mod tests;
