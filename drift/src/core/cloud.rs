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

use std::collections::{BTreeMap, BTreeSet};

use plinth_cloud::stackit::Server;
use plinth_cloud::stackit::model::LabelForm;
use plinth_vocab::change::FieldChange;
use plinth_vocab::labels::ANNOTATION_REPLACEMENT_KEY;
use plinth_vocab::pointer;
use plinth_vocab::redact::Redactor;
use serde::Serialize;
use serde_json::{Value, json};

use super::report::{desired_and_live, present_counts};

/// The `kind` under which server values are redacted (no Kubernetes kind has secret paths
/// by that name: values are redacted by content).
const REDACTION_KIND: &str = "StackitServer";

/// A server's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerStatus {
    /// Every comparable field matches its class.
    InSync,
    /// A field the API updates in place differs from the class.
    Drifted,
    /// Only fields fixed at creation differ: built from an older class.
    Stale,
    /// `status` `ERROR`, `powerStatus` `CRASHED` or `ERROR`.
    Unhealthy,
    /// Its class is not rendered for the cluster, or it has a machine label and no class.
    Orphaned,
}

impl ServerStatus {
    /// Every status, in report order.
    pub const ALL: [Self; 5] = [
        Self::InSync,
        Self::Drifted,
        Self::Stale,
        Self::Unhealthy,
        Self::Orphaned,
    ];

    /// The status as written in every format.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InSync => "in-sync",
            Self::Drifted => "drifted",
            Self::Stale => "stale",
            Self::Unhealthy => "unhealthy",
            Self::Orphaned => "orphaned",
        }
    }

    /// Whether the status is a finding (exit code 1).
    pub fn is_finding(self) -> bool {
        self != Self::InSync
    }
}

impl std::fmt::Display for ServerStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One server's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServerResult {
    /// The server's name.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The class its label names (none for a machine label without a class label).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub machine_class: Option<String>,
    /// The label key that names the class or the machine (`kubernetes.io/machineclass`, ...).
    pub label: String,
    /// The Machine it belongs to (the machine label, else the server name).
    pub machine: String,
    pub status: ServerStatus,
    /// The API's `status` and `powerStatus`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_status: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub power_status: Option<String>,
    /// The class's replacement key (`plinth.dev/replacement-key`), when the class is rendered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement_key: Option<String>,
    /// Each difference: `desired` is the class's value, `live` the server's.
    #[serde(serialize_with = "desired_and_live")]
    pub changes: Vec<FieldChange>,
    /// The pointers of `changes` a replacement would change (fields fixed at creation); the
    /// others the API updates in place.
    pub replacement: Vec<String>,
    /// Fields the class sets that cannot be compared for this server.
    pub not_comparable: Vec<String>,
    pub notes: Vec<String>,
}

impl ServerResult {
    /// `server `name` (class `c`)`: how every format heads the server.
    pub fn heading(&self) -> String {
        match &self.machine_class {
            Some(class) => format!("server `{}` (class `{class}`)", self.name),
            None => format!("server `{}` (no class)", self.name),
        }
    }

    /// What a replacement would do, one line, when anything.
    pub fn replacement_line(&self) -> Option<String> {
        if self.replacement.is_empty() {
            return None;
        }
        let key = self
            .replacement_key
            .as_deref()
            .map(|k| format!(" (class replacement key `{k}`)"))
            .unwrap_or_default();
        Some(format!(
            "a replacement would change {}{key}",
            self.replacement.join(", ")
        ))
    }

    /// The lines every format shows under the server's fields: what a replacement would
    /// change, what could not be compared, and the notes.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.replacement_line().into_iter().collect();
        if !self.not_comparable.is_empty() {
            lines.push(format!(
                "not comparable: {}",
                self.not_comparable.join(", ")
            ));
        }
        lines.extend(self.notes.iter().cloned());
        lines
    }
}

/// The cloud part of a drift report.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CloudReport {
    /// `stackit`.
    pub provider: String,
    /// `api` (listed from the API) or `snapshot` (`--cloud-snapshot`).
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Number of servers per status (every status present, zeros included).
    pub summary: BTreeMap<ServerStatus, usize>,
    /// Servers sorted by class, name and id.
    pub servers: Vec<ServerResult>,
}

/// Where the servers of a [`CloudReport`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudOrigin {
    /// `api` or `snapshot`.
    pub source: String,
    pub project_id: Option<String>,
    pub region: Option<String>,
}

impl CloudReport {
    /// A report over `servers` (sorted here), with the summary computed.
    pub fn new(origin: CloudOrigin, mut servers: Vec<ServerResult>) -> Self {
        servers.sort_by(|a, b| {
            (&a.machine_class, &a.name, &a.id).cmp(&(&b.machine_class, &b.name, &b.id))
        });
        let mut summary: BTreeMap<ServerStatus, usize> =
            ServerStatus::ALL.iter().map(|s| (*s, 0)).collect();
        for s in &servers {
            *summary.entry(s.status).or_default() += 1;
        }
        Self {
            provider: "stackit".to_owned(),
            source: origin.source,
            project_id: origin.project_id,
            region: origin.region,
            summary,
            servers,
        }
    }

    /// `STACKIT servers (API, project `p`, region `r`)`: what was compared.
    pub fn origin_line(&self) -> String {
        let mut parts = vec![if self.source == "api" {
            "listed from the API".to_owned()
        } else {
            "from a snapshot".to_owned()
        }];
        parts.extend(self.project_id.iter().map(|p| format!("project `{p}`")));
        parts.extend(self.region.iter().map(|r| format!("region `{r}`")));
        format!("STACKIT servers ({})", parts.join(", "))
    }

    /// Whether any server is a finding.
    pub fn has_findings(&self) -> bool {
        self.servers.iter().any(|s| s.status.is_finding())
    }

    /// The statuses that at least one server has, with their counts.
    pub fn status_counts(&self) -> impl Iterator<Item = (ServerStatus, usize)> + '_ {
        present_counts(ServerStatus::ALL, &self.summary)
    }

    /// The servers that are not in sync.
    pub fn not_in_sync(&self) -> impl Iterator<Item = &ServerResult> {
        self.servers
            .iter()
            .filter(|s| s.status != ServerStatus::InSync)
    }

    /// `3 servers: 1 in-sync, 2 drifted`.
    pub fn summary_line(&self) -> String {
        let parts: Vec<String> = self
            .status_counts()
            .map(|(s, n)| format!("{n} {s}"))
            .collect();
        let n = self.servers.len();
        let noun = if n == 1 { "server" } else { "servers" };
        if parts.is_empty() {
            format!("{n} {noun}")
        } else {
            format!("{n} {noun}: {}", parts.join(", "))
        }
    }

    /// A copy whose values, names and notes went through the redaction policy: server labels
    /// and metadata may carry secrets.
    #[must_use]
    pub fn redacted(&self, redactor: &Redactor) -> Self {
        let mut out = self.clone();
        for s in &mut out.servers {
            for c in &mut s.changes {
                // Under a prefix: a server's `metadata` is not Kubernetes metadata, whose
                // fields the policy leaves alone.
                let at = format!("/server{}", c.pointer);
                for side in [&mut c.before, &mut c.after] {
                    *side = side
                        .take()
                        .map(|v| redactor.redact_value_at(REDACTION_KIND, &at, &v));
                }
                c.pointer = redactor.redact_text(&c.pointer);
            }
            for text in s
                .replacement
                .iter_mut()
                .chain(&mut s.not_comparable)
                .chain(&mut s.notes)
            {
                *text = redactor.redact_text(text);
            }
            for text in [&mut s.name, &mut s.machine, &mut s.label]
                .into_iter()
                .chain(s.machine_class.as_mut())
                .chain(s.id.as_mut())
            {
                *text = redactor.redact_text(text);
            }
        }
        out
    }
}

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
    let by_name: BTreeMap<&str, &ClassSpec> =
        classes.iter().map(|c| (c.name.as_str(), c)).collect();
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for server in servers {
        let identity = server.id.clone().unwrap_or_else(|| server.name.clone());
        if !seen.insert(identity) {
            continue;
        }
        if let Some(result) = compare_one(&by_name, server) {
            out.push(result);
        }
    }
    out
}

/// The result of one server, or none when it carries none of the provider's labels.
fn compare_one(classes: &BTreeMap<&str, &ClassSpec>, server: &Server) -> Option<ServerResult> {
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
    diff.compare(class, server);
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
    let mut note = format!(
        "unhealthy: status {}, powerStatus {}",
        server.status.as_deref().unwrap_or("(absent)"),
        server.power_status.as_deref().unwrap_or("(absent)")
    );
    if let Some(message) = &server.error_message {
        note.push_str(&format!(": {}", one_line(message)));
    }
    result.notes.push(note);
}

/// `text` on one line, at most 300 characters.
fn one_line(text: &str) -> String {
    text.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
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
    fn compare(&mut self, class: &ClassSpec, server: &Server) {
        let spec = &class.provider_spec;
        let raw = &server.raw;
        let details = raw.get("nics").is_some() || raw.get("serviceAccountMails").is_some();
        // Fields fixed at creation, compared as the API returns them.
        for field in [
            "machineType",
            "imageId",
            "availabilityZone",
            "keypairName",
            "affinityGroup",
        ] {
            if let Some(want) = spec.get(field).filter(|v| !v.is_null()) {
                self.differ(&format!("/{field}"), want, raw.get(field), true);
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
        // Fields the API updates in place.
        for (key, want) in spec
            .get("labels")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let at = format!("/labels/{}", pointer::escape(key));
            self.differ(&at, want, raw.pointer(&at), false);
        }
        for (key, want) in spec
            .get("metadata")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let at = format!("/metadata/{}", pointer::escape(key));
            self.differ(&at, want, raw.pointer(&at), false);
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
