//! The fake API server's state: served resource types, stored objects and the
//! simplified server-side apply that merges into them, with the fields each manager owns.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value, json};

use crate::fields::{
    FieldSet, display, fields_of, is_item, merge, remove_at, to_fields_v1, value_at,
};
use crate::reply::Cause;

/// A resource type the fake server serves (one entry of a discovery document).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    /// API group; empty for the core group.
    pub group: String,
    /// API version within the group, e.g. `v1`.
    pub version: String,
    /// Kind, e.g. `ConfigMap`.
    pub kind: String,
    /// Plural resource name used in URLs, e.g. `configmaps`.
    pub plural: String,
    /// Whether objects live in namespaces.
    pub namespaced: bool,
    /// The verbs discovery lists (those the fake answers — `create`, `delete`, `get`, `list`,
    /// `patch`, `update` — unless changed with
    /// [`ResourceType::with_verbs`]); the server itself answers every verb it models.
    pub verbs: Vec<String>,
    /// Subresources discovery lists as `<plural>/<name>` (none unless added with
    /// [`ResourceType::with_subresource`]); they are not served.
    pub subresources: Vec<String>,
}

impl ResourceType {
    /// A resource type from its `apiVersion` and kind, with the plural guessed the way
    /// `kubectl` guesses it for regular kinds.
    pub fn new(api_version: &str, kind: &str, namespaced: bool) -> Self {
        let (group, version) = split_api_version(api_version);
        Self {
            group,
            version,
            kind: kind.to_owned(),
            plural: plural_of(kind),
            namespaced,
            verbs: ["create", "delete", "get", "list", "patch", "update"]
                .map(str::to_owned)
                .to_vec(),
            subresources: Vec::new(),
        }
    }

    /// The same type with other verbs in discovery (e.g. `["get"]`: a kind that cannot be
    /// listed).
    #[must_use]
    pub fn with_verbs(mut self, verbs: &[&str]) -> Self {
        self.verbs = verbs.iter().map(|v| (*v).to_owned()).collect();
        self
    }

    /// The same type with a subresource (`status`, `scale`) in discovery.
    #[must_use]
    pub fn with_subresource(mut self, name: &str) -> Self {
        self.subresources.push(name.to_owned());
        self
    }

    /// The `apiVersion` string of this type.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }
}

/// Splits `group/version` (or the core group's bare `v1`).
pub fn split_api_version(api_version: &str) -> (String, String) {
    match api_version.split_once('/') {
        Some((g, v)) => (g.to_owned(), v.to_owned()),
        None => (String::new(), api_version.to_owned()),
    }
}

/// The plural resource name of a kind (lowercase, `y` -> `ies`, `s`/`x` -> `es`).
pub fn plural_of(kind: &str) -> String {
    let lower = kind.to_ascii_lowercase();
    if lower == "endpoints" {
        return lower;
    }
    if let Some(stem) = lower.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if lower.ends_with('s') || lower.ends_with('x') {
        return format!("{lower}es");
    }
    format!("{lower}s")
}

/// Kinds that are cluster-scoped among those plinth renders or reads.
pub const CLUSTER_SCOPED: &[&str] = &[
    "APIService",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "KubeletConfig",
    "MachineConfig",
    "MachineConfigPool",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "SecurityContextConstraints",
    "StorageClass",
    "ValidatingWebhookConfiguration",
];

/// The key of a stored object: resource type index, namespace, name.
pub type StoreKey = (usize, Option<String>, String);

/// Who owns fields of an object: a manager name, its operation (`Apply` or `Update`) and the
/// subresource it wrote through (`""` for the object itself, `scale`, `status`), as
/// `managedFields` entries are told apart.
pub type ManagerKey = (String, &'static str, String);

/// The fields one manager owns and when it last wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owned {
    pub fields: FieldSet,
    pub time: String,
}

/// One stored object with the fields each manager owns.
#[derive(Debug, Clone)]
pub struct Stored {
    pub value: Value,
    pub owners: BTreeMap<ManagerKey, Owned>,
}

/// Everything the fake server knows.
#[derive(Debug, Default)]
pub struct Store {
    pub types: Vec<ResourceType>,
    pub objects: BTreeMap<StoreKey, Stored>,
    pub defaults: BTreeMap<String, Value>,
    pub resource_version: u64,
    pub uid_counter: u64,
    /// The scenario clock: seconds after 2026-01-01T00:00:00Z; every write by a manager
    /// advances it by one second.
    pub clock: u64,
    /// Types known but not served (their CRD is not stored, or not established yet): absent
    /// from discovery, `404` on their paths.
    pub unserved: BTreeSet<usize>,
    /// The fields a write may not change once set, per kind (dotted paths).
    pub immutable: BTreeMap<String, Vec<String>>,
    /// How many requests after a CRD is created or changed its kinds become served.
    pub crd_delay: u32,
    /// CRDs whose kinds are not served yet, with the requests still to wait.
    pub pending_crds: Vec<(StoreKey, u32)>,
    /// Whether an object can be created only in a stored Namespace that is not being
    /// deleted.
    pub require_namespaces: bool,
}

/// Why an apply was rejected.
#[derive(Debug)]
pub enum ApplyError {
    /// 400: the body is not an object of this type.
    BadRequest(String),
    /// 409: stale `resourceVersion`.
    Conflict(String),
    /// 409: fields owned by other managers: the message, and one `(message, field)` per
    /// conflict for the `Status` body's `details.causes`.
    FieldConflicts(String, Vec<(String, String)>),
    /// 422: the write changes fields that are immutable (or the object is invalid).
    Invalid(Vec<Cause>),
    /// 409: a create of an object that exists.
    AlreadyExists,
    /// 404: an update of an object that does not exist.
    NotFound,
}

impl Store {
    /// The index of the type served at `group/version/plural`.
    pub fn type_at(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        self.types.iter().enumerate().position(|(i, t)| {
            t.group == group
                && t.version == version
                && t.plural == plural
                && !self.unserved.contains(&i)
        })
    }

    /// The index of the type for an object's `apiVersion` and kind, registering it when new.
    pub fn type_for(&mut self, api_version: &str, kind: &str, namespaced: bool) -> usize {
        let (group, version) = split_api_version(api_version);
        if let Some(i) = self
            .types
            .iter()
            .position(|t| t.group == group && t.version == version && t.kind == kind)
        {
            return i;
        }
        self.types
            .push(ResourceType::new(api_version, kind, namespaced));
        self.types.len() - 1
    }

    /// The key of a stored object of a served type, if the type is served.
    pub fn key_of(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<StoreKey> {
        let (group, version) = split_api_version(api_version);
        let t = self.types.iter().enumerate().position(|(i, t)| {
            t.group == group
                && t.version == version
                && t.kind == kind
                && !self.unserved.contains(&i)
        })?;
        let ns = namespace
            .filter(|_| self.types[t].namespaced)
            .map(str::to_owned);
        Some((t, ns, name.to_owned()))
    }

    pub(crate) fn next_rv(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// The time of the next write on the scenario clock; the clock moves only when `commit`.
    pub(crate) fn tick(&mut self, commit: bool) -> String {
        let next = self.clock + 1;
        if commit {
            self.clock = next;
        }
        clock_time(next)
    }

    pub(crate) fn with_defaults(&self, kind: &str, value: Value) -> Value {
        match self.defaults.get(kind) {
            Some(defaults) => {
                let mut with_defaults = defaults.clone();
                merge(&mut with_defaults, &value);
                with_defaults
            }
            None => value,
        }
    }

    /// Stores an object (seeding, or a write by another client), filling server-populated
    /// metadata and the declared defaults; with `creator`, that manager owns every field of
    /// the stored object (defaults included) through an `Update` entry, as after `kubectl
    /// create` or a client-side `kubectl apply`.
    pub fn seed(&mut self, value: Value, creator: Option<&str>) {
        let key = self.insert_new(value, creator);
        if self.is_crd(key.0) {
            self.serve_crd_kinds(&key, true);
        }
    }

    /// Stores a new object as [`Store::seed`] does, without serving the kinds of a CRD; its key.
    pub(crate) fn insert_new(&mut self, value: Value, creator: Option<&str>) -> StoreKey {
        let api_version = str_at(&value, "/apiVersion").to_owned();
        let kind = str_at(&value, "/kind").to_owned();
        let namespace = value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let name = str_at(&value, "/metadata/name").to_owned();
        let namespaced = namespace.is_some() && !CLUSTER_SCOPED.contains(&kind.as_str());
        let t = self.type_for(&api_version, &kind, namespaced);
        // Defaulting happens on every write, seeding included.
        let mut value = self.with_defaults(&kind, value);
        let rv = self.next_rv();
        self.uid_counter += 1;
        let uid = format!("00000000-0000-4000-8000-{:012x}", self.uid_counter);
        let mut owners = BTreeMap::new();
        if let Some(creator) = creator {
            let owned = Owned {
                fields: owned_fields(&value),
                time: self.tick(true),
            };
            owners.insert((creator.to_owned(), UPDATE, String::new()), owned);
        }
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.entry("resourceVersion").or_insert_with(|| rv.into());
            meta.entry("uid").or_insert_with(|| uid.into());
            meta.entry("creationTimestamp")
                .or_insert_with(|| "2026-01-01T00:00:00Z".into());
            meta.entry("generation").or_insert_with(|| 1.into());
            if !owners.is_empty() {
                meta.insert(
                    "managedFields".into(),
                    managed_fields(&owners, &api_version),
                );
            }
        }
        let ns = if self.types[t].namespaced {
            namespace
        } else {
            None
        };
        let key = (t, ns, name);
        self.objects.insert(key.clone(), Stored { value, owners });
        key
    }

    /// A write of the stored object at `key` by `manager` (operation `Update`, e.g. `kubectl
    /// edit`), through `subresource` (`""` for the object itself, `scale`): `edit` changes the
    /// object; the fields it changed or added move to `manager`'s entry for that subresource,
    /// the fields it removed leave every manager. `false` when no such object is stored.
    pub fn edit(
        &mut self,
        key: &StoreKey,
        manager: &str,
        subresource: &str,
        edit: impl FnOnce(&mut Value),
    ) -> bool {
        let Some(old) = self.objects.get(key).cloned() else {
            return false;
        };
        let kind = self.types[key.0].kind.clone();
        let mut value = old.value.clone();
        edit(&mut value);
        let mut value = self.with_defaults(&kind, value);
        let (before, after) = (spec_like(&old.value), spec_like(&value));
        let (old_set, new_set) = (owned_fields(&old.value), owned_fields(&value));
        let changed: FieldSet = new_set
            .iter()
            .filter(|p| {
                let was = value_at(&before, p);
                was.is_none() || (!is_item(p) && was != value_at(&after, p))
            })
            .cloned()
            .collect();
        let mut owners = old.owners;
        for owned in owners.values_mut() {
            owned
                .fields
                .retain(|p| new_set.contains(p) && !changed.contains(p));
        }
        if !changed.is_empty() {
            let time = self.tick(true);
            let mine = owners
                .entry((manager.to_owned(), UPDATE, subresource.to_owned()))
                .or_insert_with(|| Owned {
                    fields: FieldSet::new(),
                    time: time.clone(),
                });
            mine.fields.extend(changed.iter().cloned());
            mine.time = time;
        }
        owners.retain(|_, o| !o.fields.is_empty());
        let spec_changed = before != after || old_set != new_set;
        let rv = if spec_changed {
            self.next_rv()
        } else {
            str_at(&old.value, "/metadata/resourceVersion").to_owned()
        };
        let generation = old
            .value
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            + i64::from(spec_changed);
        let api_version = self.types[key.0].api_version();
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), rv.into());
            meta.insert("generation".into(), generation.into());
            set_managed_fields(meta, &owners, &api_version);
        }
        self.objects.insert(key.clone(), Stored { value, owners });
        true
    }

    /// Server-side apply of `body` to `key` by `manager`; returns the resulting object and
    /// stores it unless `dry_run`. Fields `manager` applied before and `body` no longer sets
    /// are removed unless another manager owns them (or something inside them).
    pub fn apply(
        &mut self,
        key: &StoreKey,
        body: &Value,
        manager: &str,
        force: bool,
        dry_run: bool,
    ) -> Result<Value, ApplyError> {
        let t = self.types[key.0].clone();
        if str_at(body, "/kind") != t.kind || str_at(body, "/apiVersion") != t.api_version() {
            return Err(ApplyError::BadRequest(format!(
                "body is not a {} {}",
                t.api_version(),
                t.kind
            )));
        }
        if str_at(body, "/metadata/name") != key.2 {
            return Err(ApplyError::BadRequest(
                "the name of the object does not match the name in the URL".into(),
            ));
        }
        let existing = self.objects.get(key).cloned();
        if let (Some(want), Some(old)) = (
            body.pointer("/metadata/resourceVersion")
                .and_then(Value::as_str),
            existing.as_ref(),
        ) && Some(want)
            != old
                .value
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
        {
            return Err(ApplyError::Conflict(
                "the object has been modified; please apply your changes to the latest version and try again"
                    .into(),
            ));
        }
        let mut applied = body.clone();
        strip_server_fields(&mut applied);
        let applied_set = owned_fields(&applied);
        let me: ManagerKey = (manager.to_owned(), APPLY, String::new());

        let (mut merged, mut owners, created) = match existing {
            Some(old) => (old.value, old.owners, false),
            None => (Value::Object(Map::new()), BTreeMap::new(), true),
        };
        // A field conflicts when another manager owns it and the apply changes its value.
        let mut conflicts = Vec::new();
        for (other, owned) in &owners {
            if *other == me {
                continue;
            }
            for p in owned.fields.intersection(&applied_set) {
                if !is_item(p) && value_at(&merged, p) != value_at(&applied, p) {
                    conflicts.push((other.clone(), p.clone()));
                }
            }
        }
        if !force && !conflicts.is_empty() {
            let causes: Vec<(String, String)> = conflicts
                .iter()
                .map(|((other, operation, _), p)| {
                    // The real server names the API version of an `Update` owner.
                    let using = if *operation == UPDATE {
                        format!(" using {}", t.api_version())
                    } else {
                        String::new()
                    };
                    (format!("conflict with \"{other}\"{using}"), display(p))
                })
                .collect();
            let text: Vec<String> = causes.iter().map(|(m, f)| format!("{m}: {f}")).collect();
            return Err(ApplyError::FieldConflicts(
                format!(
                    "Apply failed with {} conflict(s): {}",
                    causes.len(),
                    text.join(", ")
                ),
                causes,
            ));
        }
        let before = merged.clone();
        // What this manager applied before and no longer applies is removed, unless another
        // manager owns it or something inside it.
        if let Some(previous) = owners.get(&me) {
            for p in previous.fields.difference(&applied_set) {
                let shared = owners
                    .iter()
                    .any(|(other, o)| *other != me && o.fields.iter().any(|q| q.starts_with(p)));
                if !shared {
                    remove_at(&mut merged, p);
                }
            }
        }
        merge(&mut merged, &applied);
        merged = self.with_defaults(&t.kind, merged);
        self.check_immutable(&t.kind, &before, &merged)?;
        // Forced: the conflicting fields move to this manager; fields applied with the value
        // another manager set are shared.
        for (other, owned) in &mut owners {
            if *other != me {
                owned
                    .fields
                    .retain(|p| !conflicts.iter().any(|(_, c)| c == p));
            }
        }
        owners.retain(|_, o| !o.fields.is_empty());

        let changed = created || spec_like(&before) != spec_like(&merged);
        let unchanged_entry = owners
            .get(&me)
            .filter(|o| o.fields == applied_set && !changed);
        if unchanged_entry.is_none() {
            let time = self.tick(!dry_run);
            owners.insert(
                me,
                Owned {
                    fields: applied_set,
                    time,
                },
            );
        }
        let rv = if dry_run || !changed {
            before
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or("0")
                .to_owned()
        } else {
            self.next_rv()
        };
        let generation = before
            .pointer("/metadata/generation")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            + i64::from(changed);
        let uid = if let Some(u) = before.pointer("/metadata/uid").and_then(Value::as_str) {
            u.to_owned()
        } else {
            self.uid_counter += 1;
            format!("00000000-0000-4000-8000-{:012x}", self.uid_counter)
        };
        if let Some(meta) = merged.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.insert("resourceVersion".into(), rv.into());
            meta.insert("generation".into(), generation.into());
            meta.insert("uid".into(), uid.into());
            meta.entry("creationTimestamp")
                .or_insert_with(|| "2026-01-01T00:00:00Z".into());
            set_managed_fields(meta, &owners, &t.api_version());
        }
        if !dry_run {
            self.objects.insert(
                key.clone(),
                Stored {
                    value: merged.clone(),
                    owners,
                },
            );
            self.after_write(key);
        }
        Ok(merged)
    }
}

pub(crate) const APPLY: &str = "Apply";
pub(crate) const UPDATE: &str = "Update";

/// The value without what the server sets (status, resource version, generation, managed
/// fields, uid, creation time).
pub(crate) fn spec_like(v: &Value) -> Value {
    let mut v = v.clone();
    strip_server_fields(&mut v);
    v
}

pub(crate) fn strip_server_fields(v: &mut Value) {
    if let Some(o) = v.as_object_mut() {
        o.remove("status");
        if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            for k in [
                "resourceVersion",
                "generation",
                "managedFields",
                "uid",
                "creationTimestamp",
            ] {
                m.remove(k);
            }
        }
    }
}

/// The fields of an object that `managedFields` tracks: everything but status, the server's
/// metadata, `apiVersion`, `kind`, `metadata.name` and `metadata.namespace` (which the real
/// server strips too).
pub(crate) fn owned_fields(v: &Value) -> FieldSet {
    let mut v = spec_like(v);
    if let Some(o) = v.as_object_mut() {
        o.remove("apiVersion");
        o.remove("kind");
        if let Some(m) = o.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("name");
            m.remove("namespace");
            if m.is_empty() {
                o.remove("metadata");
            }
        }
    }
    fields_of(&v)
}

/// The `managedFields` of an object: one entry per manager and operation (none at all when no
/// manager owns anything).
fn set_managed_fields(
    meta: &mut Map<String, Value>,
    owners: &BTreeMap<ManagerKey, Owned>,
    api_version: &str,
) {
    if owners.is_empty() {
        meta.remove("managedFields");
    } else {
        meta.insert("managedFields".into(), managed_fields(owners, api_version));
    }
}

fn managed_fields(owners: &BTreeMap<ManagerKey, Owned>, api_version: &str) -> Value {
    let entries: Vec<Value> = owners
        .iter()
        .map(|((manager, operation, subresource), owned)| {
            let mut entry = json!({
                "manager": manager,
                "operation": operation,
                "apiVersion": api_version,
                "time": owned.time,
                "fieldsType": "FieldsV1",
                "fieldsV1": to_fields_v1(&owned.fields),
            });
            if !subresource.is_empty() {
                entry["subresource"] = subresource.as_str().into();
            }
            entry
        })
        .collect();
    Value::Array(entries)
}

/// The RFC 3339 time `seconds` after 2026-01-01T00:00:00Z.
pub fn clock_time(seconds: u64) -> String {
    let days = seconds / 86_400;
    let rest = seconds % 86_400;
    // Days from 2026-01-01 to a civil date (Howard Hinnant's algorithm, from 1970-01-01).
    let z = i64::try_from(days).unwrap_or(i64::MAX / 2) + 20_454 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3_600,
        rest % 3_600 / 60,
        rest % 60
    )
}

/// The string at a JSON pointer, or `""`.
pub fn str_at<'a>(v: &'a Value, pointer: &str) -> &'a str {
    v.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

/// The labels of an object as a sorted map.
pub fn labels_of(v: &Value) -> BTreeMap<String, String> {
    v.pointer("/metadata/labels")
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals() {
        assert_eq!(plural_of("ConfigMap"), "configmaps");
        assert_eq!(plural_of("NetworkPolicy"), "networkpolicies");
        assert_eq!(plural_of("Ingress"), "ingresses");
        assert_eq!(plural_of("Gateway"), "gateways");
    }

    #[test]
    fn apply_conflicts_without_force_and_takes_over_with_it() {
        let mut s = Store::default();
        s.seed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}), None);
        let key = (0, Some("n".to_owned()), "c".to_owned());
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"a": "1"}});
        s.apply(&key, &body, "other", false, false).unwrap();
        let mine = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"a": "2"}});
        assert!(matches!(
            s.apply(&key, &mine, "plinth", false, false),
            Err(ApplyError::FieldConflicts(..))
        ));
        let out = s.apply(&key, &mine, "plinth", true, false).unwrap();
        assert_eq!(out["data"]["a"], "2");
        assert_eq!(out["metadata"]["managedFields"][0]["manager"], "plinth");
    }

    #[test]
    fn an_apply_removes_what_its_manager_no_longer_applies_unless_another_owns_it() {
        let mut s = Store::default();
        s.seed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}), None);
        let key = (0, Some("n".to_owned()), "c".to_owned());
        let cm = |labels: Value, data: Value| {
            json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "c", "namespace": "n", "labels": labels}, "data": data})
        };
        s.apply(
            &key,
            &cm(json!({"a": "1", "b": "2"}), json!({"x": "1", "y": "2"})),
            "plinth",
            false,
            false,
        )
        .unwrap();
        // Another manager applies `y` with the same value: shared.
        s.apply(
            &key,
            &cm(json!({}), json!({"y": "2"})),
            "argocd-controller",
            false,
            false,
        )
        .unwrap();
        let dry = s
            .apply(
                &key,
                &cm(json!({"a": "1"}), json!({"x": "1"})),
                "plinth",
                false,
                true,
            )
            .unwrap();
        assert_eq!(
            dry["metadata"]["labels"],
            json!({"a": "1"}),
            "dropped: removed"
        );
        assert_eq!(dry["data"], json!({"x": "1", "y": "2"}), "shared: kept");
        assert_eq!(
            s.objects[&key].value["metadata"]["labels"]["b"], "2",
            "a dry-run stores nothing"
        );
    }

    #[test]
    fn the_clock_counts_seconds_from_new_year_2026() {
        assert_eq!(clock_time(0), "2026-01-01T00:00:00Z");
        assert_eq!(clock_time(59 * 86_400 + 3_661), "2026-03-01T01:01:01Z");
        assert_eq!(clock_time(365 * 86_400), "2027-01-01T00:00:00Z");
    }

    #[test]
    fn removed_fields_leave_every_manager_and_a_dry_run_keeps_the_clock() {
        let mut s = Store::default();
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n", "labels": {"a": "1", "b": "2"}}});
        s.seed(cm.clone(), Some("kubectl-create"));
        let key = (0, Some("n".to_owned()), "c".to_owned());
        assert!(s.edit(&key, "kubectl-label", "", |v| {
            v["metadata"]["labels"] = json!({"a": "1"});
        }));
        let stored = &s.objects[&key].value;
        assert_eq!(
            stored["metadata"]["managedFields"],
            json!([{"manager": "kubectl-create", "operation": "Update", "apiVersion": "v1",
                "time": "2026-01-01T00:00:01Z", "fieldsType": "FieldsV1",
                "fieldsV1": {"f:metadata": {"f:labels": {"f:a": {}}}}}]),
            "a removal owns nothing and moves nothing"
        );
        let dry = s.apply(&key, &cm, "plinth", false, true).unwrap();
        assert_eq!(
            dry["metadata"]["managedFields"][1]["time"],
            "2026-01-01T00:00:02Z"
        );
        assert_eq!(s.clock, 1);
    }
}
