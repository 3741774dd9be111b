//! The fake API server's state: served resource types, stored objects and the
//! simplified server-side apply that merges into them.

use std::collections::{BTreeMap, BTreeSet};

use plinth_vocab::pointer;
use serde_json::{Map, Value, json};

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
    /// The verbs discovery lists (`get`, `list`, `patch` unless changed with
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
            verbs: ["get", "list", "patch"].map(str::to_owned).to_vec(),
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

/// One stored object with the fields each manager applied (leaf JSON pointers).
#[derive(Debug, Clone)]
pub struct Stored {
    pub value: Value,
    pub owners: BTreeMap<String, BTreeSet<String>>,
}

/// Everything the fake server knows.
#[derive(Debug, Default)]
pub struct Store {
    pub types: Vec<ResourceType>,
    pub objects: BTreeMap<StoreKey, Stored>,
    pub defaults: BTreeMap<String, Value>,
    pub resource_version: u64,
    pub uid_counter: u64,
}

/// Why an apply was rejected.
#[derive(Debug)]
pub enum ApplyError {
    /// 400: the body is not an object of this type.
    BadRequest(String),
    /// 409: stale `resourceVersion` or a field owned by another manager.
    Conflict(String),
}

impl Store {
    /// The index of the type served at `group/version/plural`.
    pub fn type_at(&self, group: &str, version: &str, plural: &str) -> Option<usize> {
        self.types
            .iter()
            .position(|t| t.group == group && t.version == version && t.plural == plural)
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

    fn next_rv(&mut self) -> String {
        self.resource_version += 1;
        self.resource_version.to_string()
    }

    /// Stores an object (seeding, or a write by another client), filling server-populated
    /// metadata and the declared defaults.
    pub fn seed(&mut self, mut value: Value) {
        let api_version = str_at(&value, "/apiVersion").to_owned();
        let kind = str_at(&value, "/kind").to_owned();
        let namespace = value
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let name = str_at(&value, "/metadata/name").to_owned();
        let namespaced = namespace.is_some() && !CLUSTER_SCOPED.contains(&kind.as_str());
        let t = self.type_for(&api_version, &kind, namespaced);
        if let Some(defaults) = self.defaults.get(&kind) {
            // Defaulting happens on every write, seeding included.
            let mut with_defaults = defaults.clone();
            merge(&mut with_defaults, &value);
            value = with_defaults;
        }
        let rv = self.next_rv();
        self.uid_counter += 1;
        let uid = format!("00000000-0000-4000-8000-{:012x}", self.uid_counter);
        if let Some(meta) = value.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.entry("resourceVersion").or_insert_with(|| rv.into());
            meta.entry("uid").or_insert_with(|| uid.into());
            meta.entry("creationTimestamp")
                .or_insert_with(|| "2026-01-01T00:00:00Z".into());
            meta.entry("generation").or_insert_with(|| 1.into());
        }
        let ns = if self.types[t].namespaced {
            namespace
        } else {
            None
        };
        self.objects.insert(
            (t, ns, name),
            Stored {
                value,
                owners: BTreeMap::new(),
            },
        );
    }

    /// Server-side apply of `body` to `key` by `manager`; returns the resulting object and
    /// stores it unless `dry_run`.
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
        let mut leaves = BTreeSet::new();
        collect_leaves(&applied, String::new(), &mut leaves);

        let (mut merged, mut owners, created) = match existing {
            Some(old) => (old.value, old.owners, false),
            None => (Value::Object(Map::new()), BTreeMap::new(), true),
        };
        if !force {
            let mut conflicts = Vec::new();
            for (other, fields) in &owners {
                if other == manager {
                    continue;
                }
                for p in fields.intersection(&leaves) {
                    if merged.pointer(p) != applied.pointer(p) {
                        conflicts.push(format!("conflict with \"{other}\": {p}"));
                    }
                }
            }
            if !conflicts.is_empty() {
                return Err(ApplyError::Conflict(format!(
                    "Apply failed with {} conflict(s): {}",
                    conflicts.len(),
                    conflicts.join(", ")
                )));
            }
        }
        let before = merged.clone();
        merge(&mut merged, &applied);
        if let Some(defaults) = self.defaults.get(&t.kind) {
            let mut with_defaults = defaults.clone();
            merge(&mut with_defaults, &merged);
            merged = with_defaults;
        }
        for (other, fields) in &mut owners {
            if other != manager {
                fields.retain(|p| !leaves.contains(p));
            }
        }
        owners.retain(|_, f| !f.is_empty());
        owners.insert(manager.to_owned(), leaves);

        let changed = created || spec_like(&before) != spec_like(&merged);
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
            meta.insert(
                "managedFields".into(),
                managed_fields(&owners, &t.api_version()),
            );
        }
        if !dry_run {
            self.objects.insert(
                key.clone(),
                Stored {
                    value: merged.clone(),
                    owners,
                },
            );
        }
        Ok(merged)
    }
}

/// The value without what the server sets (status, resource version, generation, managed
/// fields, uid, creation time).
fn spec_like(v: &Value) -> Value {
    let mut v = v.clone();
    strip_server_fields(&mut v);
    v
}

fn strip_server_fields(v: &mut Value) {
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

/// Deep merge: objects merge key by key; lists whose items all carry a `name` (containers,
/// env, volumes, ports) merge item by item on it, the way associative lists do; everything else
/// is replaced.
pub fn merge(into: &mut Value, from: &Value) {
    let named = |v: &Value| {
        v.as_array().is_some_and(|items| {
            !items.is_empty()
                && items
                    .iter()
                    .all(|i| i.get("name").is_some_and(Value::is_string))
        })
    };
    if named(into) && named(from) {
        if let (Value::Array(a), Value::Array(b)) = (&mut *into, from) {
            for item in b {
                match a.iter_mut().find(|x| x.get("name") == item.get("name")) {
                    Some(slot) => merge(slot, item),
                    None => a.push(item.clone()),
                }
            }
        }
        return;
    }
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(slot)
                        if (slot.is_object() && v.is_object())
                            || (slot.is_array() && v.is_array()) =>
                    {
                        merge(slot, v);
                    }
                    _ => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

fn collect_leaves(v: &Value, prefix: String, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) if !o.is_empty() => {
            for (k, child) in o {
                collect_leaves(child, format!("{prefix}/{}", pointer::escape(k)), out);
            }
        }
        _ => {
            if !prefix.is_empty() {
                out.insert(prefix);
            }
        }
    }
}

fn managed_fields(owners: &BTreeMap<String, BTreeSet<String>>, api_version: &str) -> Value {
    let entries: Vec<Value> = owners
        .iter()
        .map(|(manager, fields)| {
            let mut tree = Map::new();
            for p in fields {
                let mut node = &mut tree;
                for token in p.split('/').skip(1) {
                    let key = format!("f:{}", token.replace("~1", "/").replace("~0", "~"));
                    node = node
                        .entry(key)
                        .or_insert_with(|| Value::Object(Map::new()))
                        .as_object_mut()
                        .expect("managed field nodes are objects");
                }
            }
            json!({
                "manager": manager,
                "operation": "Apply",
                "apiVersion": api_version,
                "time": "2026-01-01T00:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": Value::Object(tree),
            })
        })
        .collect();
    Value::Array(entries)
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
    fn named_lists_merge_by_name_others_are_replaced() {
        let mut live = json!({"containers": [{"name": "a", "image": "x", "terminationMessagePath": "/dev/t"}, {"name": "b"}], "args": [1, 2]});
        merge(
            &mut live,
            &json!({"containers": [{"name": "a", "image": "y"}, {"name": "c"}], "args": [3]}),
        );
        assert_eq!(
            live,
            json!({"containers": [{"name": "a", "image": "y", "terminationMessagePath": "/dev/t"}, {"name": "b"}, {"name": "c"}], "args": [3]})
        );
    }

    #[test]
    fn apply_conflicts_without_force_and_takes_over_with_it() {
        let mut s = Store::default();
        s.seed(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}}));
        let key = (0, Some("n".to_owned()), "c".to_owned());
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"a": "1"}});
        s.apply(&key, &body, "other", false, false).unwrap();
        let mine = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"a": "2"}});
        assert!(matches!(
            s.apply(&key, &mine, "plinth", false, false),
            Err(ApplyError::Conflict(_))
        ));
        let out = s.apply(&key, &mine, "plinth", true, false).unwrap();
        assert_eq!(out["data"]["a"], "2");
        assert_eq!(out["metadata"]["managedFields"][0]["manager"], "plinth");
    }
}
