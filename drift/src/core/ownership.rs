//! Who wrote which field of a live object: `metadata.managedFields` parsed into one field set
//! per manager entry (structured-merge-diff `FieldsV1`: `f:<field>`, `k:{..}` keyed list items,
//! `v:<value>` set values, `i:<index>`, `.` for the field or item itself), with the entry's
//! operation and time, and the [`Policy`] that says which managers apply plinth's output
//! (GitOps), which write by hand or unexpectedly (drift), and which are controllers expected
//! to write what they own.
//!
//! How a live field that desired does not set is judged ([`Ownership::judge`]):
//! - written by a drift manager *after* the object was last applied by a GitOps manager (or,
//!   never applied, after it was created): **drift**, attributed to that manager;
//! - owned only by a GitOps manager's `Apply` entry: **pending removal** (the next apply drops
//!   it), except the labels Argo CD and Flux add to everything they apply, owned by them alone
//!   ([`TRACKING_LABELS`]): their bookkeeping, not drift;
//! - owned by a controller: **managed by** that controller, not drift;
//! - owned by a drift manager that wrote before the last apply (the `kubectl create` or
//!   client-side `kubectl apply` that created the object owns every server default), or by a
//!   GitOps `Update` entry (Argo CD's client-side sync owns defaults the same way): ambiguous,
//!   judged by plinth's live-only rules like a field of an object without `managedFields`;
//! - owned by nobody: a server default, not drift.

use std::collections::BTreeMap;

use serde_json::Value;

use plinth_vocab::change::Writer;

use crate::core::report::epoch_of;

/// The GitOps managers by default: plinth itself, Argo CD's application controller (as
/// `argocd-controller` for server-side apply, `argocd-application-controller` for what it
/// creates or syncs client-side) and Flux's kustomize-controller.
pub const GITOPS_MANAGERS: &[&str] = &[
    "plinth",
    "argocd-controller",
    "argocd-application-controller",
    "kustomize-controller",
];

/// The drift managers by default: every `kubectl` command (`kubectl-edit`, `kubectl-patch`,
/// `kubectl-scale`, `kubectl-set`, `kubectl-label`, `kubectl-annotate`, `kubectl-create`,
/// `kubectl-client-side-apply`, `kubectl` for `apply --server-side`, ...), OpenShift's `oc`
/// (its commands that name no manager write as `oc`), the dashboards people edit through,
/// `helm` (a release installed or upgraded over plinth's objects: the install that created an
/// object owns its defaults like `kubectl create`), the names the API server gives plain HTTP
/// clients (the user agent's product: `curl`, `Go-http-client`, `python-requests`, ...),
/// `before-first-apply` (the entry the API server makes for what an object held before its
/// first server-side apply: writers unknown, its time that apply's), `ancient-changes` (the
/// oldest `Update` entries beyond the ten the API server keeps, merged: writers unknown, never
/// judged written after the baseline) and `unknown`. A trailing `*` matches any rest.
pub const DRIFT_MANAGERS: &[&str] = &[
    "kubectl",
    "kubectl-*",
    "oc",
    "k9s",
    "kubernetes-dashboard",
    "headlamp",
    "lens",
    "helm",
    "curl",
    "Wget",
    "Go-http-client",
    "python-requests",
    "python-urllib3",
    "Python-urllib",
    "OpenAPI-Generator",
    "node-fetch",
    "axios",
    "undici",
    "okhttp",
    "Java",
    "Apache-HttpClient",
    "HTTPie",
    "PostmanRuntime",
    "insomnia",
    "Mozilla",
    "before-first-apply",
    ANCIENT_CHANGES,
    "unknown",
];

/// The entry the API server merges the oldest `Update` managers into beyond the ten it keeps.
const ANCIENT_CHANGES: &str = "ancient-changes";

/// Which managers are which: GitOps appliers, drift writers; everyone else is a controller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    gitops: Vec<String>,
    drift: Vec<String>,
}

impl Default for Policy {
    fn default() -> Self {
        Self::new(&[], &[])
    }
}

/// What kind of writer a manager is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Applies plinth's output (`plinth`, `argocd-controller`, `kustomize-controller`, ...).
    GitOps,
    /// Writes by hand or unexpectedly: its writes after the last apply are drift.
    Drift,
    /// A controller expected to write what it owns.
    Controller,
}

impl Policy {
    /// The default lists extended by `gitops` and `drift` (names, or prefixes ending in `*`).
    /// A manager in both is a GitOps manager.
    pub fn new(gitops: &[String], drift: &[String]) -> Self {
        let with = |defaults: &[&str], extra: &[String]| {
            defaults
                .iter()
                .map(|s| (*s).to_owned())
                .chain(extra.iter().cloned())
                .collect()
        };
        Self {
            gitops: with(GITOPS_MANAGERS, gitops),
            drift: with(DRIFT_MANAGERS, drift),
        }
    }

    /// The class of `manager`.
    pub fn class(&self, manager: &str) -> Class {
        let matches = |pattern: &String| match pattern.strip_suffix('*') {
            Some(prefix) => manager.starts_with(prefix),
            None => manager == pattern,
        };
        if self.gitops.iter().any(matches) {
            Class::GitOps
        } else if self.drift.iter().any(matches) {
            Class::Drift
        } else {
            Class::Controller
        }
    }
}

/// One node of a manager's field set.
#[derive(Debug, Default)]
struct Node {
    /// The field or item itself is owned (`.`, or a leaf `{}`).
    own: bool,
    /// A leaf `{}`: the whole value is owned (an atomic map or struct, a `Service` `selector`),
    /// unless another entry owns fields inside it.
    leaf: bool,
    fields: BTreeMap<String, Node>,
    /// `k:` items by their key's field names (sorted), then by the key's values in that order
    /// as JSON text, with the order the item came in: found without a scan of the list.
    keys: BTreeMap<Vec<String>, BTreeMap<String, (usize, Node)>>,
    /// `v:` items by their value as JSON text.
    values: BTreeMap<String, Node>,
    indices: BTreeMap<usize, Node>,
}

/// The JSON text of `values`, the form [`Node::keys`] and [`Node::values`] are looked up by.
fn key_text<T: serde::Serialize + ?Sized>(values: &T) -> Option<String> {
    serde_json::to_string(values).ok()
}

impl Node {
    fn parse(v: &Value) -> Self {
        let mut node = Self::default();
        let Some(map) = v.as_object() else {
            return node;
        };
        if map.is_empty() {
            node.own = true;
            node.leaf = true;
        }
        for (order, (element, child)) in map.iter().enumerate() {
            if element == "." {
                node.own = true;
            } else if let Some(name) = element.strip_prefix("f:") {
                node.fields.insert(name.to_owned(), Self::parse(child));
            } else if let Some(key) = element.strip_prefix("k:") {
                if let Ok(Value::Object(key)) = serde_json::from_str(key) {
                    let mut pairs: Vec<(&String, &Value)> = key.iter().collect();
                    pairs.sort_by_key(|(name, _)| *name);
                    let names = pairs.iter().map(|(name, _)| (*name).clone()).collect();
                    let values: Vec<&Value> = pairs.iter().map(|(_, value)| *value).collect();
                    if let Some(text) = key_text(&values) {
                        let by_value: &mut BTreeMap<String, (usize, Node)> =
                            node.keys.entry(names).or_default();
                        by_value
                            .entry(text)
                            .or_insert_with(|| (order, Self::parse(child)));
                    }
                }
            } else if let Some(value) = element.strip_prefix("v:") {
                let text = serde_json::from_str::<Value>(value)
                    .ok()
                    .and_then(|value| key_text(&value));
                if let Some(text) = text {
                    node.values
                        .entry(text)
                        .or_insert_with(|| Self::parse(child));
                }
            } else if let Some(Ok(i)) = element.strip_prefix("i:").map(str::parse) {
                node.indices.insert(i, Self::parse(child));
            }
        }
        node
    }

    fn has_children(&self) -> bool {
        !(self.fields.is_empty()
            && self.keys.is_empty()
            && self.values.is_empty()
            && self.indices.is_empty())
    }

    /// The child for the list item `item` at `index`: the first `k:` entry whose key fields
    /// all have the item's values (a port without `protocol` has the API server's default,
    /// `TCP`), else the `v:` entry of its value, else the `i:` entry of its index.
    fn item(&self, index: usize, item: &Value) -> Option<&Self> {
        let keyed = item.as_object().and_then(|fields| {
            let tcp = Value::String("TCP".to_owned());
            self.keys
                .iter()
                .filter_map(|(names, by_value)| {
                    let values: Option<Vec<&Value>> = names
                        .iter()
                        .map(|name| match fields.get(name) {
                            Some(v) => Some(v),
                            None if name == "protocol" => Some(&tcp),
                            None => None,
                        })
                        .collect();
                    let text = key_text(&values?)?;
                    by_value.get(&text)
                })
                .min_by_key(|(order, _)| *order)
                .map(|(_, node)| node)
        });
        keyed
            .or_else(|| key_text(item).and_then(|text| self.values.get(&text)))
            .or_else(|| self.indices.get(&index))
    }
}

/// How far an entry's field set reaches at a path.
enum Reach<'n> {
    /// The set has a node at the path.
    Node(&'n Node),
    /// An owned list above the path has no finer entries, or a map or struct above it is a
    /// leaf: the manager owns it whole (atomic). `map` for a map or struct, whose prefix of
    /// `depth` segments is atomic only where no entry owns fields inside it.
    Atomic { depth: usize, map: bool },
    /// Not at all.
    None,
}

/// Walks `node` along `path` in `live`.
fn reach<'n>(mut node: &'n Node, live: &Value, path: &[String]) -> Reach<'n> {
    let mut value = Some(live);
    for (depth, seg) in path.iter().enumerate() {
        let here = value;
        let (child, next) = match here {
            Some(Value::Object(map)) => (node.fields.get(seg), map.get(seg)),
            Some(Value::Array(items)) => match seg.parse::<usize>().ok() {
                Some(i) => match items.get(i) {
                    Some(item) => (node.item(i, item), Some(item)),
                    None => (None, None),
                },
                None => (None, None),
            },
            _ => (None, None),
        };
        match child {
            Some(c) => {
                node = c;
                value = next;
            }
            None if node.own && !node.has_children() && here.is_some_and(Value::is_array) => {
                return Reach::Atomic { depth, map: false };
            }
            None if node.leaf && here.is_some_and(Value::is_object) => {
                return Reach::Atomic { depth, map: true };
            }
            None => return Reach::None,
        }
    }
    Reach::Node(node)
}

/// One manager entry of `managedFields`.
#[derive(Debug)]
pub struct Entry {
    pub writer: Writer,
    pub class: Class,
    /// The entry's time in seconds since the epoch, where recorded.
    epoch: Option<i64>,
    set: Node,
}

/// The judgement of a live field desired does not set (see the module documentation).
#[derive(Debug, Clone, Copy)]
pub enum Judgement<'o> {
    /// Written by a drift manager since the last apply.
    Drift(&'o Entry),
    /// Owned only by a GitOps manager's `Apply`: the next apply removes it.
    PendingRemoval(&'o Entry),
    /// Owned by a controller expected to write it.
    Managed(&'o Entry),
    /// Ownership does not settle it: plinth's live-only rules do (the entry is the owner).
    Rules(&'o Entry),
    /// Owned below this field: judge each part. With an owner of the field or of something in
    /// it whose writes are ambiguous, when no drift manager wrote in it since the last apply:
    /// plinth's rules on the whole field (an extra container item, a `hostPath` volume source)
    /// then still apply.
    Inside(Option<&'o Entry>),
    /// Owned by nobody: a server default.
    Unowned,
}

/// The parsed `managedFields` of one live object.
#[derive(Debug)]
pub struct Ownership {
    entries: Vec<Entry>,
    /// Writes at or before this time predate the object's last apply (or its creation, never
    /// applied): they may own server defaults.
    baseline: Option<i64>,
    /// `kubectl.kubernetes.io/last-applied-configuration`, parsed.
    last_applied: Option<Value>,
}

/// plinth's own field manager.
const PLINTH: &str = "plinth";

/// The labels a GitOps controller adds to everything it applies, its own bookkeeping and never
/// part of plinth's output: Flux's kustomize-controller's `kustomize.toolkit.fluxcd.io/name`
/// and `/namespace`, Argo CD's `app.kubernetes.io/instance` (its label tracking).
const TRACKING_LABELS: &[&str] = &[
    "kustomize.toolkit.fluxcd.io/name",
    "kustomize.toolkit.fluxcd.io/namespace",
    "app.kubernetes.io/instance",
];

/// Whether `path` is one of the [`TRACKING_LABELS`] of an object.
fn tracking_label(path: &[String]) -> bool {
    matches!(path, [m, l, key] if m == "metadata" && l == "labels"
        && TRACKING_LABELS.contains(&key.as_str()))
}

/// The manager `kubectl apply` (client-side) records.
const CLIENT_SIDE_APPLY: &str = "kubectl-client-side-apply";

impl Ownership {
    /// The ownership of `live`; `None` when it has no `metadata.managedFields` (a snapshot
    /// captured without `--show-managed-fields`).
    pub fn of(live: &Value, policy: &Policy) -> Option<Self> {
        let raw = live.pointer("/metadata/managedFields")?.as_array()?;
        // What is not an entry (not an object, or a field set that is not one) is no evidence
        // of ownership: without any entry, ownership is unknown.
        let entries: Vec<Entry> = raw
            .iter()
            .filter(|e| e.is_object() && e.get("fieldsV1").is_none_or(Value::is_object))
            .map(|e| {
                let text = |name: &str| e.get(name).and_then(Value::as_str).map(str::to_owned);
                let manager = text("manager").unwrap_or_else(|| "unknown".to_owned());
                let time = text("time");
                Entry {
                    class: policy.class(&manager),
                    epoch: time.as_deref().and_then(epoch_of),
                    writer: Writer {
                        manager,
                        operation: text("operation").unwrap_or_else(|| "Update".to_owned()),
                        time,
                        subresource: text("subresource").filter(|s| !s.is_empty()),
                    },
                    // An entry without a field set owns nothing (but says ownership is known).
                    set: e.get("fieldsV1").map(Node::parse).unwrap_or_default(),
                }
            })
            .collect();
        if entries.is_empty() {
            return None;
        }
        let applied = entries
            .iter()
            .filter(|e| e.class == Class::GitOps)
            .filter_map(|e| e.epoch)
            .max();
        let created = live
            .pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str)
            .and_then(epoch_of)
            .or_else(|| entries.iter().filter_map(|e| e.epoch).min());
        let last_applied = live
            .pointer("/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration")
            .and_then(Value::as_str)
            .and_then(|s| serde_json::from_str(s).ok());
        Some(Self {
            entries,
            baseline: applied.or(created),
            last_applied,
        })
    }

    /// The entries that own the field or item at `path` of `live` itself (or an atomic list
    /// holding it).
    pub fn owners(&self, live: &Value, path: &[String]) -> Vec<&Entry> {
        self.owners_where(live, path, |_| true)
    }

    /// [`Self::owners`], counting an atomic list's owner only when `atomic(entry)`.
    fn owners_where(
        &self,
        live: &Value,
        path: &[String],
        atomic: impl Fn(&Entry) -> bool,
    ) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| match reach(&e.set, live, path) {
                Reach::Node(n) => n.own,
                Reach::Atomic { depth, map } => {
                    atomic(e) && !(map && self.owned_inside(live, &path[..depth]))
                }
                Reach::None => false,
            })
            .collect()
    }

    /// Whether some entry owns something below `path` (not necessarily `path` itself).
    fn owned_inside(&self, live: &Value, path: &[String]) -> bool {
        !self.inside(live, path).is_empty()
    }

    /// The entries that own something below `path`.
    fn inside(&self, live: &Value, path: &[String]) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|e| matches!(reach(&e.set, live, path), Reach::Node(n) if n.has_children()))
            .collect()
    }

    /// Whether `entry` wrote after the baseline (never `ancient-changes`, whose writers and
    /// times are mixed).
    fn after_baseline(&self, entry: &Entry) -> bool {
        entry.writer.manager != ANCIENT_CHANGES
            && matches!((entry.epoch, self.baseline), (Some(t), Some(b)) if t > b)
    }

    /// Whether `entry`, a drift manager, wrote after the baseline (and, for a client-side
    /// `kubectl apply`, wrote `path` as part of what it applied: that manager owns every
    /// default of an object it created).
    fn fresh(&self, entry: &Entry, live: &Value, path: &[String]) -> bool {
        self.after_baseline(entry)
            && (entry.writer.manager != CLIENT_SIDE_APPLY
                || self
                    .last_applied
                    .as_ref()
                    .is_none_or(|applied| in_applied(applied, live, path)))
    }

    /// The latest controller among the owners of the field or item at `path` of `live`
    /// itself.
    pub fn controller_owner(&self, live: &Value, path: &[String]) -> Option<&Entry> {
        self.owners(live, path)
            .into_iter()
            .filter(|e| e.class == Class::Controller)
            .max_by_key(|e| e.epoch)
    }

    /// The judgement of the live-only field or item at `path` of `live`.
    pub fn judge(&self, live: &Value, path: &[String]) -> Judgement<'_> {
        // A GitOps manager owning an atomic list (a StatefulSet's `volumeClaimTemplates`)
        // applied the list as rendered: what the server defaults inside its items is not
        // something it applied and no longer renders.
        let owners = self.owners_where(live, path, |e| e.class != Class::GitOps);
        let fresh = owners
            .iter()
            .filter(|e| e.class == Class::Drift && self.fresh(e, live, path))
            .max_by_key(|e| e.epoch);
        if let Some(e) = fresh {
            return Judgement::Drift(e);
        }
        let at = live_at(live, path);
        // Only a map or a list has something inside it.
        let inside = if at.is_some_and(|v| v.is_object() || v.is_array()) {
            self.inside(live, path)
        } else {
            Vec::new()
        };
        // Owned only by GitOps managers, one through `Apply`, and nobody else wrote inside it:
        // the next apply removes it whole (a container plinth no longer renders, with the
        // defaults the server filled in).
        let applied = owners
            .iter()
            .find(|e| e.class == Class::GitOps && e.writer.operation == "Apply");
        if let Some(e) = applied
            && owners
                .iter()
                .chain(&inside)
                .all(|o| o.class == Class::GitOps)
        {
            return if owners.iter().all(|o| o.writer.manager != PLINTH) && tracking_label(path) {
                Judgement::Unowned
            } else {
                Judgement::PendingRemoval(e)
            };
        }
        let ambiguous = |e: &&&Entry| match e.class {
            Class::Drift => true,
            Class::GitOps => e.writer.operation != "Apply",
            Class::Controller => false,
        };
        if !inside.is_empty() {
            let fresh_inside = inside
                .iter()
                .any(|e| e.class == Class::Drift && self.after_baseline(e));
            let owner = owners.iter().chain(&inside).find(ambiguous).copied();
            return Judgement::Inside(owner.filter(|_| !fresh_inside));
        }
        let controller = owners
            .iter()
            .filter(|e| e.class == Class::Controller)
            .max_by_key(|e| e.epoch);
        if let Some(e) = controller {
            return Judgement::Managed(e);
        }
        owners
            .first()
            .map_or(Judgement::Unowned, |e| Judgement::Rules(e))
    }

    /// The writer to name for a live value at `path` that differs from desired: the latest
    /// owner, preferring a drift manager's write after the last apply. `Some(true)` with it
    /// when every owner is a controller (the value is managed, not drift).
    pub fn writer_of(&self, live: &Value, path: &[String]) -> Option<(&Entry, bool)> {
        let owners = self.owners(live, path);
        let fresh = owners
            .iter()
            .filter(|e| e.class == Class::Drift && self.fresh(e, live, path))
            .max_by_key(|e| e.epoch);
        let chosen = fresh.or_else(|| owners.iter().max_by_key(|e| e.epoch))?;
        let managed = owners.iter().all(|e| e.class == Class::Controller);
        Some((chosen, managed))
    }
}

/// The value at `path` in `live`.
fn live_at<'v>(live: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(live, |v, seg| match v {
        Value::Object(map) => map.get(seg),
        Value::Array(items) => items.get(seg.parse::<usize>().ok()?),
        _ => None,
    })
}

/// The fields that identify a list item, in the order tried, when matching a live item with
/// one of a client-side apply's `last-applied-configuration`.
const ITEM_KEYS: &[&str] = &[
    "name",
    "containerPort",
    "port",
    "mountPath",
    "devicePath",
    "key",
    "ip",
    "alert",
    "record",
];

/// Whether the live field at `path` of `live` is in `applied` (a client-side apply's
/// `last-applied-configuration`), list items matched by their identifying field.
fn in_applied(applied: &Value, live: &Value, path: &[String]) -> bool {
    let mut a = applied;
    let mut l = live;
    for seg in path {
        match (a, l) {
            (Value::Object(am), Value::Object(lm)) => match (am.get(seg), lm.get(seg)) {
                (Some(an), Some(ln)) => (a, l) = (an, ln),
                _ => return false,
            },
            (Value::Array(items), Value::Array(live_items)) => {
                let Some(item) = seg.parse::<usize>().ok().and_then(|i| live_items.get(i)) else {
                    return false;
                };
                let same = |c: &&Value| {
                    ITEM_KEYS
                        .iter()
                        .find_map(|k| item.get(*k).map(|v| c.get(*k) == Some(v)))
                        .unwrap_or(*c == item)
                };
                match items.iter().find(same) {
                    Some(found) => (a, l) = (found, item),
                    None => return false,
                }
            }
            _ => return false,
        }
    }
    true
}
