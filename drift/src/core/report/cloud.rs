//! The cloud part of a drift report: each server's result ([`ServerResult`], its
//! [`ServerStatus`]) and the [`CloudReport`] of a run, redacted like the rest of the report.
//! The comparison that makes them is `core::cloud`.

use std::collections::BTreeMap;

use plinth_vocab::change::FieldChange;
use plinth_vocab::redact::Redactor;
use serde::Serialize;

use super::{desired_and_live, present_counts};

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
                .chain(s.server_status.as_mut())
                .chain(s.power_status.as_mut())
            {
                // The server's answers, printed on terminals: no control characters either.
                *text = printable(&redactor.redact_text(text));
            }
            for text in s.notes.iter_mut().chain(&mut s.not_comparable) {
                *text = printable(text);
            }
        }
        out
    }
}

/// `text` with every control character (an escape sequence's `ESC`, a bell, a newline) made a
/// space: values from a cloud API are printed on terminals.
pub(super) fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}
