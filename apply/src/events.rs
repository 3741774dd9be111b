//! The Kubernetes Events `plinth apply` emits: events.k8s.io/v1 `Event` bodies (FACTS (a)) for
//! `ThrashingDetected`, `PatchBlocked`, `InvalidPatch`, `InvalidIgnoreFields`, `CRDMissing`
//! and `DriftCorrected`, with a deterministic name, the note redacted and bounded, ready to
//! `POST` to `/apis/events.k8s.io/v1/namespaces/{namespace}/events`.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};

use plinth_drift::core::report::rfc3339;
use plinth_vocab::ObjectRef;
use plinth_vocab::change::FieldChange;
use plinth_vocab::redact::Redactor;

/// `reportingController` of every event plinth emits.
pub const REPORTING_CONTROLLER: &str = "plinth.dev/apply";
/// Where events about cluster-scoped objects go unless configured otherwise (the API server
/// takes them in `default` or `kube-system`).
pub const DEFAULT_CLUSTER_SCOPED_NAMESPACE: &str = "default";
/// The longest `note` the API server takes, in bytes.
pub const MAX_NOTE_BYTES: usize = 1024;
/// The longest `reportingInstance`, `action` and `reason`, in characters.
const MAX_SHORT: usize = 128;
/// The longest object name (a DNS subdomain).
const MAX_NAME: usize = 253;

/// Why an event is emitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Reason {
    /// The object kept being changed back after plinth's applies: plinth paused it.
    ThrashingDetected,
    /// A `<prefix>/patch` override was refused (sensitive kind or forbidden path).
    PatchBlocked,
    /// A `<prefix>/patch` override does not parse or cannot be applied.
    InvalidPatch,
    /// A `<prefix>/ignore-fields` override does not parse or cannot be applied.
    InvalidIgnoreFields,
    /// The object's kind is not served (its CRD is not installed): skipped.
    CrdMissing,
    /// plinth applied the object and corrected its drift.
    DriftCorrected,
}

impl Reason {
    /// The event's `reason`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ThrashingDetected => "ThrashingDetected",
            Self::PatchBlocked => "PatchBlocked",
            Self::InvalidPatch => "InvalidPatch",
            Self::InvalidIgnoreFields => "InvalidIgnoreFields",
            Self::CrdMissing => "CRDMissing",
            Self::DriftCorrected => "DriftCorrected",
        }
    }

    /// The event's `type`: `Normal` for `DriftCorrected`, else `Warning`.
    pub fn event_type(self) -> &'static str {
        match self {
            Self::DriftCorrected => "Normal",
            _ => "Warning",
        }
    }

    /// The `action` plinth took: `Pause` for `ThrashingDetected`, `Apply` for
    /// `DriftCorrected`, `Skip` for the others.
    pub fn action(self) -> &'static str {
        match self {
            Self::ThrashingDetected => "Pause",
            Self::DriftCorrected => "Apply",
            _ => "Skip",
        }
    }
}

/// The object an event is about (`regarding`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Regarding {
    pub key: ObjectRef,
    pub api_version: String,
    /// The live object's `metadata.uid`, when it exists.
    pub uid: Option<String>,
    /// The live object's `metadata.resourceVersion`, when it exists.
    pub resource_version: Option<String>,
}

impl Regarding {
    /// The object `key` at `api_version`, with its uid and resource version from `live` where
    /// it exists.
    pub fn new(key: &ObjectRef, api_version: &str, live: Option<&Value>) -> Self {
        let meta = |field: &str| {
            live.and_then(|l| l.pointer(&format!("/metadata/{field}")))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            key: key.clone(),
            api_version: api_version.to_owned(),
            uid: meta("uid"),
            resource_version: meta("resourceVersion"),
        }
    }

    fn object_reference(&self) -> Value {
        let mut out = Map::new();
        out.insert("apiVersion".into(), json!(self.api_version));
        out.insert("kind".into(), json!(self.key.kind));
        if let Some(ns) = &self.key.namespace {
            out.insert("namespace".into(), json!(ns));
        }
        out.insert("name".into(), json!(self.key.name));
        if let Some(uid) = &self.uid {
            out.insert("uid".into(), json!(uid));
        }
        if let Some(rv) = &self.resource_version {
            out.insert("resourceVersion".into(), json!(rv));
        }
        Value::Object(out)
    }
}

/// What every event of one run shares.
#[derive(Debug, Clone, Copy)]
pub struct Emitter<'a> {
    /// `reportingInstance`: which plinth (the pod or host name), at most 128 characters.
    pub reporting_instance: &'a str,
    /// The namespace of events about cluster-scoped objects
    /// ([`DEFAULT_CLUSTER_SCOPED_NAMESPACE`] unless configured).
    pub cluster_scoped_namespace: &'a str,
    /// Redacts every note.
    pub redactor: &'a Redactor,
    /// The run's time, seconds since the epoch (`eventTime`).
    pub now: i64,
}

impl Emitter<'_> {
    /// The events.k8s.io/v1 `Event` body for `reason` about `regarding`, saying `note`
    /// (redacted, then cut to [`MAX_NOTE_BYTES`] on a character boundary).
    pub fn event(&self, reason: Reason, regarding: &Regarding, note: &str) -> Value {
        self.body(reason, regarding, note, &self.now.to_string())
    }

    /// [`Self::event`] for a standing problem (a refused or invalid override, a CRD not
    /// served): named by the reason, the object and the note instead of the time, so the
    /// same problem seen by the next run is the same Event, and need not be created again.
    pub fn standing(&self, reason: Reason, regarding: &Regarding, note: &str) -> Value {
        self.body(reason, regarding, note, note)
    }

    /// The Event body, named by `reason`, `regarding` and `distinct`.
    fn body(&self, reason: Reason, regarding: &Regarding, note: &str, distinct: &str) -> Value {
        let namespace = regarding
            .key
            .namespace
            .as_deref()
            .unwrap_or(self.cluster_scoped_namespace);
        let note = truncate(&self.redactor.redact_text(note), MAX_NOTE_BYTES);
        json!({
            "apiVersion": "events.k8s.io/v1",
            "kind": "Event",
            "metadata": {
                "name": Self::name(reason, regarding, distinct),
                "namespace": namespace,
            },
            "eventTime": micro_time(self.now),
            "reportingController": REPORTING_CONTROLLER,
            "reportingInstance": truncate(self.reporting_instance, MAX_SHORT),
            "action": reason.action(),
            "reason": reason.as_str(),
            "type": reason.event_type(),
            "regarding": regarding.object_reference(),
            "note": note,
        })
    }

    /// `<regarding-name>.<16 hex digits>`: the object's name made a DNS subdomain, and a
    /// hash of the reason, the object and `distinct` (the time, or a standing problem's note),
    /// so a run names the same event the same.
    fn name(reason: Reason, regarding: &Regarding, distinct: &str) -> String {
        let mut hash = Sha256::new();
        for part in [
            reason.as_str(),
            &regarding.api_version,
            &regarding.key.to_string(),
            distinct,
        ] {
            hash.update(part.as_bytes());
            hash.update([0]);
        }
        let digest = hex::encode(hash.finalize());
        let suffix = &digest[..16];
        // A DNS subdomain: lowercase alphanumeric labels (inner `-` allowed) joined by `.`.
        let labels: Vec<String> = regarding
            .key
            .name
            .split('.')
            .map(|label| {
                let label: String = label
                    .chars()
                    .map(|c| {
                        let c = c.to_ascii_lowercase();
                        if c.is_ascii_alphanumeric() { c } else { '-' }
                    })
                    .collect();
                label.trim_matches('-').to_owned()
            })
            .filter(|label| !label.is_empty())
            .collect();
        let mut base = labels.join(".");
        base.truncate(MAX_NAME - suffix.len() - 1);
        let base = base.trim_end_matches(['-', '.']);
        if base.is_empty() {
            suffix.to_owned()
        } else {
            format!("{base}.{suffix}")
        }
    }
}

/// `ThrashingDetected`'s note: how many runs found the object throttled, the fields that kept
/// coming back with the managers that wrote them (where `managedFields` said), and how to
/// resume.
pub fn thrashing_note(throttled_runs: u32, changes: &[FieldChange], prefix: &str) -> String {
    let mut note = format!(
        "plinth paused this object after {throttled_runs} consecutive throttled runs: its fields kept changing back after plinth applied them"
    );
    note.push_str(&fields_and_writers(changes));
    let _ = write!(
        note,
        "; remove the annotation `{prefix}/reconcile-paused` to resume"
    );
    note
}

/// `DriftCorrected`'s note: the fields plinth set back, with the managers that had changed
/// them.
pub fn corrected_note(changes: &[FieldChange]) -> String {
    format!(
        "plinth applied the rendered object{}",
        fields_and_writers(changes)
    )
}

/// The fields of `changes` with their writers, then the writers (`; fields: /a (by ...), /b;
/// written by ...`); nothing when there are none.
fn fields_and_writers(changes: &[FieldChange]) -> String {
    let mut out = String::new();
    if changes.is_empty() {
        return out;
    }
    let fields: Vec<String> = changes
        .iter()
        .map(|c| match &c.writer {
            Some(w) => format!("{} (by `{}`)", c.shown_path(), w.manager),
            None => c.shown_path().to_owned(),
        })
        .collect();
    let _ = write!(out, "; fields: {}", fields.join(", "));
    let managers: BTreeSet<&str> = changes
        .iter()
        .filter_map(|c| c.writer.as_ref().map(|w| w.manager.as_str()))
        .collect();
    if !managers.is_empty() {
        let managers: Vec<String> = managers.iter().map(|m| format!("`{m}`")).collect();
        let _ = write!(out, "; written by {}", managers.join(", "));
    }
    out
}

/// `text` cut to at most `max` bytes on a character boundary.
fn truncate(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

/// A `MicroTime` (`2026-01-01T12:00:00.000000Z`) for seconds since the epoch.
fn micro_time(secs: i64) -> String {
    let t = rfc3339(secs);
    match t.strip_suffix('Z') {
        Some(base) => format!("{base}.000000Z"),
        None => t,
    }
}

#[cfg(test)]
mod tests {
    use plinth_vocab::change::Writer;

    use super::*;

    fn emitter(redactor: &Redactor) -> Emitter<'_> {
        Emitter {
            reporting_instance: "plinth-apply-28900000-abcde",
            cluster_scoped_namespace: DEFAULT_CLUSTER_SCOPED_NAMESPACE,
            redactor,
            now: 1_764_500_000,
        }
    }

    fn deployment() -> Regarding {
        let live = json!({"metadata": {"uid": "u-1", "resourceVersion": "42"}});
        Regarding::new(
            &ObjectRef::new("apps/v1", "Deployment", Some("shop"), "web"),
            "apps/v1",
            Some(&live),
        )
    }

    #[test]
    fn an_event_has_every_required_field() {
        let r = Redactor::with_key(b"k");
        let e = emitter(&r).event(Reason::ThrashingDetected, &deployment(), "kept coming back");
        let name = e["metadata"]["name"].as_str().unwrap().to_owned();
        assert!(name.starts_with("web.") && name.len() == 4 + 16, "{name}");
        assert_eq!(
            e,
            json!({
                "apiVersion": "events.k8s.io/v1",
                "kind": "Event",
                "metadata": {"name": name, "namespace": "shop"},
                "eventTime": "2025-11-30T10:53:20.000000Z",
                "reportingController": "plinth.dev/apply",
                "reportingInstance": "plinth-apply-28900000-abcde",
                "action": "Pause",
                "reason": "ThrashingDetected",
                "type": "Warning",
                "regarding": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop",
                    "name": "web", "uid": "u-1", "resourceVersion": "42"},
                "note": "kept coming back",
            })
        );
        // Deterministic: the same inputs name the same event; another reason or time another.
        assert_eq!(
            emitter(&r).event(Reason::ThrashingDetected, &deployment(), "x")["metadata"]["name"],
            json!(name)
        );
        let other = emitter(&r).event(Reason::DriftCorrected, &deployment(), "x");
        assert_ne!(other["metadata"]["name"], json!(name));
        assert_eq!(other["type"], "Normal");
        assert_eq!(other["action"], "Apply");
        let later = Emitter {
            now: 1_764_500_001,
            ..emitter(&r)
        };
        assert_ne!(
            later.event(Reason::ThrashingDetected, &deployment(), "x")["metadata"]["name"],
            json!(name)
        );
    }

    #[test]
    fn cluster_scoped_objects_report_to_the_configured_namespace() {
        let r = Redactor::with_key(b"k");
        let crd = Regarding::new(
            &ObjectRef::new(
                "rbac.authorization.k8s.io/v1",
                "ClusterRole",
                None,
                "system:Reader",
            ),
            "rbac.authorization.k8s.io/v1",
            None,
        );
        let e = emitter(&r).event(Reason::PatchBlocked, &crd, "refused");
        assert_eq!(e["metadata"]["namespace"], "default");
        assert!(e["regarding"].get("uid").is_none());
        assert!(e["regarding"].get("namespace").is_none());
        let name = e["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("system-reader."), "{name}");
        for (odd, want) in [("a_.b", "a.b."), ("-x..y-", "x.y."), (":::", "")] {
            let r = Regarding::new(
                &ObjectRef::new("v1", "ConfigMap", Some("n"), odd),
                "v1",
                None,
            );
            let name = emitter(&Redactor::with_key(b"k")).event(Reason::CrdMissing, &r, "x")["metadata"]["name"]
                .as_str()
                .unwrap()
                .to_owned();
            assert!(
                name.starts_with(want) && name.len() == want.len() + 16,
                "{odd}: {name}"
            );
        }
        let ks = Emitter {
            cluster_scoped_namespace: "kube-system",
            ..emitter(&r)
        };
        assert_eq!(
            ks.event(Reason::CrdMissing, &crd, "x")["metadata"]["namespace"],
            "kube-system"
        );
        assert_eq!(
            ks.event(Reason::CrdMissing, &crd, "x")["reason"],
            "CRDMissing"
        );
    }

    #[test]
    fn the_note_is_redacted_and_bounded_on_a_character_boundary() {
        let r = Redactor::with_key(b"k");
        let secret = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let e = emitter(&r).event(
            Reason::InvalidPatch,
            &deployment(),
            &format!("patch sets token {secret}"),
        );
        let note = e["note"].as_str().unwrap();
        assert!(!note.contains(secret), "{note}");
        assert!(note.contains("<redacted"), "{note}");
        let long = "é".repeat(700);
        let e = emitter(&r).event(Reason::InvalidIgnoreFields, &deployment(), &long);
        let note = e["note"].as_str().unwrap();
        assert_eq!(note.len(), 1024);
        assert!(note.chars().all(|c| c == 'é'));
        let long_name = Regarding::new(
            &ObjectRef::new("v1", "ConfigMap", Some("n"), &"a".repeat(253)),
            "v1",
            None,
        );
        let e = emitter(&r).event(Reason::InvalidIgnoreFields, &long_name, "x");
        assert_eq!(e["metadata"]["name"].as_str().unwrap().len(), 253);
    }

    #[test]
    fn thrashing_names_fields_and_managers() {
        let writer = |m: &str| Writer {
            manager: m.into(),
            operation: "Update".into(),
            time: None,
            subresource: None,
        };
        let mut replicas =
            FieldChange::new("/spec/replicas".into(), Some(json!(2)), Some(json!(5)));
        replicas.writer = Some(writer("kubectl-scale"));
        let mut image = FieldChange::new(
            "/spec/template/spec/containers/0/image".into(),
            Some(json!("a")),
            Some(json!("b")),
        );
        image.keyed_path = Some("/spec/template/spec/containers/[name=web]/image".into());
        image.writer = Some(writer("argo-rollouts"));
        let paused = FieldChange::new("/spec/paused".into(), None, Some(json!(true)));
        assert_eq!(
            thrashing_note(3, &[replicas, image, paused], "platform.kubevirt.io"),
            "plinth paused this object after 3 consecutive throttled runs: its fields kept changing back after plinth applied them; \
             fields: /spec/replicas (by `kubectl-scale`), /spec/template/spec/containers/[name=web]/image (by `argo-rollouts`), /spec/paused; \
             written by `argo-rollouts`, `kubectl-scale`; remove the annotation `platform.kubevirt.io/reconcile-paused` to resume"
        );
        assert_eq!(corrected_note(&[]), "plinth applied the rendered object");
    }
}
