//! Field-level comparison of a desired object with a live one.
//!
//! Client-side ([`compare_client_side`]): after normalisation, every field the desired object
//! sets must be present and equal in live; fields only live has are server defaults or other
//! managers' fields, not drift. Lists with merge keys are matched by key (containers by
//! `name`, ports by `containerPort`/`port` and `protocol`, ...), tolerations as a set,
//! quantities by value (`1Gi` == `1024Mi`, `"1"` == `1` CPU).
//!
//! Without ownership (a live object with no `metadata.managedFields`, such as a plain
//! snapshot), some live-only fields are drift too ([`compare_client_side_noted`]): live-only
//! items of the lists matched by key that plinth renders ([`WATCHED_LISTS`]), live-only keys of
//! the maps plinth renders whole (ConfigMap and Secret `data`/`binaryData`), and the
//! security-relevant fields of [`security_field`] when set live and not desired.
//!
//! Server-side ([`compare_server_side`]): the server-side apply dry-run result of the desired
//! object is what live would become; every difference between it and live is drift.

use std::borrow::Cow;

use serde_json::{Map, Value};

use plinth_vocab::quantity::Quantity;

use plinth_vocab::change::{FieldChange, field_changes_with};
use plinth_vocab::{group_of, pointer};

use plinth_vocab::change::Writer;

use crate::core::normalize::{BOOKKEEPING_ANNOTATIONS, SERVER_METADATA, normalize};
use crate::core::ownership::{Judgement, Ownership, Policy};

/// Client-side subset comparison of `desired` with `live`, as if both were normalised first
/// ([`normalize`]: the fields it drops are skipped rather than copied away). `kind` is the
/// object's kind, which selects kind-specific merge keys (`PrometheusRule` `rules`). A live
/// object without `managedFields` is also judged by the live-only rules
/// ([`compare_client_side_noted`], which says when they found drift).
pub fn compare_client_side(desired: &Value, live: &Value, kind: &str) -> Vec<FieldChange> {
    compare_client_side_noted(desired, live, kind).0
}

/// The note on an object whose live copy has no `metadata.managedFields` and in which the
/// live-only rules found drift.
pub const OWNERSHIP_UNKNOWN_NOTE: &str = "live object has no managedFields: live-only fields \
     judged by plinth's rules (capture with `--show-managed-fields` to see who changed them)";

/// [`compare_client_side`], with [`OWNERSHIP_UNKNOWN_NOTE`] when `live` has no
/// `metadata.managedFields` (ownership unknown) and the live-only rules found drift: live-only
/// items of [`WATCHED_LISTS`] (except what admission adds to a Pod), live-only keys of
/// ConfigMap and Secret `data`/`binaryData` (except in service-account token Secrets, which
/// the token controller fills), and live-only [`security_field`]s. With `managedFields`,
/// live-only fields are never drift here.
pub fn compare_client_side_noted(
    desired: &Value,
    live: &Value,
    kind: &str,
) -> (Vec<FieldChange>, Option<&'static str>) {
    let c = compare_client(desired, live, kind, &Policy::default());
    let note = c
        .notes
        .iter()
        .any(|n| n == OWNERSHIP_UNKNOWN_NOTE)
        .then_some(OWNERSHIP_UNKNOWN_NOTE);
    (c.changes, note)
}

/// What comparing one object found.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// Drift: fields that differ, and live-only fields judged drift (with who wrote them where
    /// the object's `managedFields` say).
    pub changes: Vec<FieldChange>,
    /// Live fields a GitOps manager applied and desired no longer sets: drift too.
    pub pending_removal: Vec<FieldChange>,
    /// Live fields a controller owns that differ from desired or are not desired: not drift.
    pub managed: Vec<FieldChange>,
    /// Notes for the report ([`OWNERSHIP_UNKNOWN_NOTE`]).
    pub notes: Vec<String>,
}

impl Comparison {
    /// Whether the object drifted.
    pub fn is_drift(&self) -> bool {
        !(self.changes.is_empty() && self.pending_removal.is_empty())
    }
}

/// The client-side comparison of `desired` with `live` (see [`compare_client_side`]), with
/// ownership: when `live` has `metadata.managedFields`, live-only fields are judged by who
/// wrote them under `policy` ([`Ownership::judge`]) and every changed field names its writer;
/// without, by plinth's live-only rules.
pub fn compare_client(desired: &Value, live: &Value, kind: &str, policy: &Policy) -> Comparison {
    compare_owned(desired, live, kind, Ownership::of(live, policy).as_ref())
}

/// [`compare_client`] with `live`'s ownership already parsed.
fn compare_owned(
    desired: &Value,
    live: &Value,
    kind: &str,
    ownership: Option<&Ownership>,
) -> Comparison {
    let mut cx = Subset::new(kind, live, ownership, true);
    let mut path = Vec::new();
    let desired = secret_string_data_as_data(desired, kind);
    let desired = desired.as_ref();
    cx.value(desired, live, &mut path);
    let mut out = Comparison {
        changes: cx.changes,
        pending_removal: cx.pending,
        managed: cx.managed,
        notes: Vec::new(),
    };
    if ownership.is_none() && cx.live_only.is_some_and(|l| l.found) {
        out.notes.push(OWNERSHIP_UNKNOWN_NOTE.to_owned());
    }
    for list in [&mut out.changes, &mut out.pending_removal, &mut out.managed] {
        drop_version_change(list, desired, live);
        mark_secrets(list, desired, live);
    }
    out
}

/// The server-side comparison ([`compare_server_side`]) with ownership: every change names the
/// writer of its live value, changes only controllers own are `managed`, and live-only fields
/// the dry-run keeps because other managers own them are judged as in [`compare_client`]
/// against `desired` (an apply never removes what someone else wrote, so the dry-run alone
/// cannot see a field added by hand).
pub fn compare_server(
    dry_run: &Value,
    desired: &Value,
    live: &Value,
    kind: &str,
    policy: &Policy,
) -> Comparison {
    let ownership = Ownership::of(live, policy);
    let client = compare_owned(desired, live, kind, ownership.as_ref());
    let mut out = Comparison {
        notes: client.notes,
        pending_removal: client.pending_removal,
        ..Comparison::default()
    };
    let seen = |list: &[FieldChange], p: &str| list.iter().any(|c| c.pointer == p);
    // A list item the dry-run adds that live lacks, in a list where the client comparison found
    // a change: the item's key itself changed (a renumbered Service port, matched by number).
    // The apply adds a second item beside the live one (a real server may refuse it); the
    // client comparison, which matched the items by name, says what changed and who did it.
    let rekeyed = |c: &FieldChange| {
        c.after.is_none()
            && c.pointer.rsplit_once('/').is_some_and(|(list, last)| {
                last.parse::<usize>().is_ok()
                    && client.changes.iter().any(|k| {
                        k.pointer
                            .strip_prefix(list)
                            .is_some_and(|rest| rest.starts_with('/'))
                    })
            })
    };
    let mut rekeyed_lists = Vec::new();
    for mut change in compare_server_side(dry_run, live) {
        if seen(&out.pending_removal, &change.pointer) {
            continue;
        }
        if rekeyed(&change) {
            if let Some((list, _)) = change.pointer.rsplit_once('/') {
                rekeyed_lists.push(format!("{list}/"));
            }
            continue;
        }
        let path = pointer::segments(&change.pointer);
        let owner = ownership.as_ref().and_then(|o| o.writer_of(live, &path));
        if change.after.is_some() {
            change.writer = owner.map(|(e, _)| e.writer.clone());
        }
        change.keyed_path = keyed_path(kind, live, &path);
        if change.after.is_some() && owner.is_some_and(|(_, managed)| managed) {
            out.managed.push(change);
        } else {
            out.changes.push(change);
        }
    }
    for change in client.changes {
        let in_rekeyed = rekeyed_lists.iter().any(|l| change.pointer.starts_with(l));
        if (change.before.is_none() || in_rekeyed) && !seen(&out.changes, &change.pointer) {
            out.changes.push(change);
        }
    }
    for change in client.managed {
        if !seen(&out.managed, &change.pointer) && !seen(&out.changes, &change.pointer) {
            out.managed.push(change);
        }
    }
    out
}

/// Drops the change at `/apiVersion` when both sides are in the same API group: an object is
/// identified by group, kind, namespace and name, so a live object read at another version of
/// its group (`kubevirt.io/v1alpha3` rendered, `kubevirt.io/v1` read) is the same object, not
/// drift ([`version_note`] says which versions were compared).
fn drop_version_change(changes: &mut Vec<FieldChange>, desired: &Value, live: &Value) {
    if versions_compared(desired, live).is_some() {
        changes.retain(|c| c.pointer != "/apiVersion");
    }
}

/// The desired and live `apiVersion` when they differ within one API group.
fn versions_compared<'v>(desired: &'v Value, live: &'v Value) -> Option<(&'v str, &'v str)> {
    let version = |obj: &'v Value| obj.get("apiVersion").and_then(Value::as_str);
    let (d, l) = (version(desired)?, version(live)?);
    (d != l && group_of(d) == group_of(l)).then_some((d, l))
}

/// The note saying which versions of one API group were compared, when they differ:
/// ``compared `kubevirt.io/v1alpha3` (desired) with `kubevirt.io/v1` (live)``.
pub fn version_note(desired: &Value, live: &Value) -> Option<String> {
    versions_compared(desired, live)
        .map(|(d, l)| format!("compared `{d}` (desired) with `{l}` (live)"))
}

/// `value` found at `path` without the parts [`normalize`] drops (only the root, `metadata`
/// and its annotations hold any).
fn pruned<'v>(path: &[String], value: &'v Value) -> Cow<'v, Value> {
    match path {
        [] => Cow::Owned(normalize(value)),
        [m] if m == "metadata" => {
            let mut wrapper = serde_json::json!({ "metadata": value });
            crate::core::normalize::normalize_in_place(&mut wrapper);
            Cow::Owned(wrapper["metadata"].take())
        }
        [m, a] if m == "metadata" && a == "annotations" => match value {
            Value::Object(map) => Cow::Owned(Value::Object(
                map.iter()
                    .filter(|(k, _)| !BOOKKEEPING_ANNOTATIONS.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            )),
            other => Cow::Borrowed(other),
        },
        _ => Cow::Borrowed(value),
    }
}

/// Whether `key` under `path` is one of the fields [`normalize`] drops.
fn normalized_away(path: &[String], key: &str) -> bool {
    match path {
        [] => key == "status",
        [m] if m == "metadata" => SERVER_METADATA.contains(&key),
        [m, a] if m == "metadata" && a == "annotations" => BOOKKEEPING_ANNOTATIONS.contains(&key),
        _ => false,
    }
}

/// Whether normalisation removes the live map `value` at `path`/`key`: a `metadata.labels` or
/// `metadata.annotations` map that is empty once bookkeeping annotations are dropped.
fn live_dropped(path: &[String], key: &str, value: &Value) -> bool {
    matches!(path, [m] if m == "metadata")
        && matches!(key, "labels" | "annotations")
        && value.as_object().is_some_and(|map| {
            map.keys()
                .all(|k| key == "annotations" && BOOKKEEPING_ANNOTATIONS.contains(&k.as_str()))
        })
}

/// Server-side comparison: every difference between the SSA dry-run result and live, after
/// dropping what the server writes on every request (managedFields, resourceVersion,
/// generation, uid, creationTimestamp, status).
pub fn compare_server_side(dry_run: &Value, live: &Value) -> Vec<FieldChange> {
    let dry_run = normalize(dry_run);
    let live = normalize(live);
    let mut changes = field_changes_with(&dry_run, &live, &scalar_eq);
    drop_version_change(&mut changes, &dry_run, &live);
    mark_secrets(&mut changes, &dry_run, &live);
    changes
}

/// A Secret's `stringData` as the API server stores it: base64 under `data`, `stringData`
/// winning over `data` for the same key, and no `stringData` (which the server never returns).
fn secret_string_data_as_data<'v>(desired: &'v Value, kind: &str) -> Cow<'v, Value> {
    use base64::Engine as _;
    let Some(string_data) = desired.get("stringData").and_then(Value::as_object) else {
        return Cow::Borrowed(desired);
    };
    if kind != "Secret" {
        return Cow::Borrowed(desired);
    }
    let mut out = desired.clone();
    let mut data = out
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    for (k, v) in string_data {
        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        data.insert(
            k.clone(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(text)),
        );
    }
    if let Some(map) = out.as_object_mut() {
        map.remove("stringData");
        map.insert("data".into(), Value::Object(data));
    }
    Cow::Owned(out)
}

/// Flags the changes whose value is a secret in `desired` or `live`, by what the redactor
/// would hide in the whole objects (so an env entry's `name` counts, which a report that sees
/// only the changed value could not know).
fn mark_secrets(changes: &mut [FieldChange], desired: &Value, live: &Value) {
    if changes.is_empty() {
        return;
    }
    let probe = plinth_vocab::redact::Redactor::with_key(b"plinth drift secret probe");
    let (redacted_desired, redacted_live) =
        (probe.redact_object(desired), probe.redact_object(live));
    for c in changes {
        c.secret = desired.pointer(&c.pointer) != redacted_desired.pointer(&c.pointer)
            || live.pointer(&c.pointer) != redacted_live.pointer(&c.pointer);
    }
}

struct Subset<'a> {
    kind: &'a str,
    changes: Vec<FieldChange>,
    pending: Vec<FieldChange>,
    managed: Vec<FieldChange>,
    /// Set when live-only fields are judged at all (not in a probe): by ownership when known,
    /// else by plinth's rules.
    live_only: Option<LiveOnly>,
    /// The live object's ownership, when it has `managedFields`.
    ownership: Option<&'a Ownership>,
    /// The whole live object (ownership is looked up from its root).
    live_root: &'a Value,
    /// The list items on the current path named by their key: (depth of the index, label).
    labels: Vec<(usize, String)>,
    /// The writer the live-only rules name (the ambiguous owner they judge for).
    rules_writer: Option<Writer>,
}

/// Where a found change goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Found {
    Drift,
    PendingRemoval,
    Managed,
}

/// The state of the live-only rules for one object whose ownership is unknown.
#[derive(Debug, Clone, Copy)]
struct LiveOnly {
    /// Whether the object's top-level `data` and `binaryData` are maps plinth renders whole.
    whole_maps: bool,
    /// Whether a rule found drift.
    found: bool,
}

/// The lists matched by key whose live-only items are drift when ownership is unknown:
/// containers, init containers, ports (container and Service), env, volumes, volume mounts,
/// tolerations, `KubeVirt` disks, interfaces and networks, and (in a `PrometheusRule`) rules.
const WATCHED_LISTS: &[&str] = &[
    "containers",
    "initContainers",
    "ports",
    "env",
    "volumes",
    "volumeMounts",
    "tolerations",
    "disks",
    "interfaces",
    "networks",
];

/// Whether the list at `path` is one of [`WATCHED_LISTS`] (or `PrometheusRule` rules).
fn watched_list(kind: &str, path: &[String]) -> bool {
    match path.last().map(String::as_str) {
        Some("rules") => kind == "PrometheusRule",
        Some(field) => WATCHED_LISTS.contains(&field),
        None => false,
    }
}

/// Whether a live-only list item at `path` is one the API server's admission adds to every
/// Pod: the `DefaultTolerationSeconds` tolerations (`not-ready`, `unreachable`, `NoExecute`)
/// and the service-account token volume (`kube-api-access-*`, projected) and its mount. They
/// are not drift in any object (in a pod template they grant what every Pod gets anyway).
fn admission_default(path: &[String], item: &Value) -> bool {
    let field = |name: &str| item.get(name).and_then(Value::as_str);
    match path.last().map(String::as_str) {
        Some("tolerations") => {
            matches!(
                field("key"),
                Some("node.kubernetes.io/not-ready" | "node.kubernetes.io/unreachable")
            ) && field("operator") == Some("Exists")
                && field("effect") == Some("NoExecute")
        }
        Some("volumes") => {
            field("name").is_some_and(|n| n.starts_with("kube-api-access-"))
                && item.get("projected").is_some()
        }
        Some("volumeMounts") => {
            field("mountPath") == Some("/var/run/secrets/kubernetes.io/serviceaccount")
        }
        _ => false,
    }
}

/// Whether a pod spec is at `path` in an object of kind `kind`: a Pod's `spec`, or any
/// `template.spec` (Deployment, `StatefulSet`, `DaemonSet`, Job, `ReplicaSet`, a `CronJob`'s
/// `jobTemplate`, a `KubeVirt` VM template).
fn pod_spec(kind: &str, path: &[String]) -> bool {
    match path {
        [s] => kind == "Pod" && s == "spec",
        [.., t, s] => t == "template" && s == "spec",
        [] => false,
    }
}

/// Whether the live-only `value` at `path` (its last segment the field's name) is a
/// security-relevant setting that is drift when not desired, ownership unknown:
/// `securityContext` `privileged: true`, `allowPrivilegeEscalation: true`, `runAsUser: 0` and a
/// non-empty `capabilities.add` (container or pod level); in a pod spec `hostNetwork`,
/// `hostPID` or `hostIPC` `true`; a `hostPath` volume source; a non-empty Service
/// `spec.externalIPs`; `suspend: true` in a `CronJob`'s or Job's spec; `paused: true` in a
/// Deployment's spec.
fn security_field(kind: &str, path: &[String], value: &Value) -> bool {
    let Some((field, parent)) = path.split_last() else {
        return false;
    };
    let is_true = value.as_bool() == Some(true);
    let in_spec = parent.last().is_some_and(|p| p == "spec");
    let non_empty = value.as_array().is_some_and(|a| !a.is_empty());
    match field.as_str() {
        "privileged" | "allowPrivilegeEscalation" => {
            is_true && parent.last().is_some_and(|p| p == "securityContext")
        }
        "runAsUser" => {
            value.as_i64() == Some(0) && parent.last().is_some_and(|p| p == "securityContext")
        }
        "add" => non_empty && parent.ends_with(&["securityContext".into(), "capabilities".into()]),
        "hostNetwork" | "hostPID" | "hostIPC" => is_true && pod_spec(kind, parent),
        "hostPath" => {
            value.is_object() && parent.len() >= 2 && parent[parent.len() - 2] == "volumes"
        }
        "externalIPs" => non_empty && kind == "Service" && parent == ["spec"],
        "suspend" => is_true && in_spec && matches!(kind, "CronJob" | "Job"),
        "paused" => is_true && kind == "Deployment" && parent == ["spec"],
        _ => false,
    }
}

/// How the items of a list are matched between desired and live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListMatch {
    /// By the values of these fields (with defaults for absent ones).
    Keys(&'static [(&'static str, Option<&'static str>)]),
    /// Ports: `containerPort` when the items have one, else `port`; with `protocol` (TCP).
    Ports,
    /// `PrometheusRule` rules: by `alert` or `record`.
    AlertOrRecord,
    /// As a set: each desired item must match some live item.
    Set,
    /// By position.
    Position,
}

const BY_NAME: &[(&str, Option<&str>)] = &[("name", None)];
const BY_MOUNT_PATH: &[(&str, Option<&str>)] = &[("mountPath", None)];
const BY_DEVICE_PATH: &[(&str, Option<&str>)] = &[("devicePath", None)];
const BY_IP: &[(&str, Option<&str>)] = &[("ip", None)];

fn list_match(kind: &str, field: Option<&str>) -> ListMatch {
    match field {
        Some(
            "containers"
            | "initContainers"
            | "ephemeralContainers"
            | "env"
            | "volumes"
            | "disks"
            | "interfaces"
            | "networks"
            | "imagePullSecrets"
            | "inputs"
            | "sources",
        ) => ListMatch::Keys(BY_NAME),
        Some("groups") if kind == "PrometheusRule" => ListMatch::Keys(BY_NAME),
        Some("rules") if kind == "PrometheusRule" => ListMatch::AlertOrRecord,
        Some("volumeMounts") => ListMatch::Keys(BY_MOUNT_PATH),
        Some("volumeDevices") => ListMatch::Keys(BY_DEVICE_PATH),
        Some("hostAliases") => ListMatch::Keys(BY_IP),
        Some("ports") => ListMatch::Ports,
        Some("tolerations" | "finalizers") => ListMatch::Set,
        _ => ListMatch::Position,
    }
}

/// The merge key of one list item, `None` when the item does not carry it.
fn item_key(how: ListMatch, item: &Value) -> Option<Vec<String>> {
    let obj = item.as_object()?;
    let field = |name: &str, default: Option<&str>| -> Option<String> {
        match obj.get(name) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => default.map(str::to_owned),
            Some(other) => Some(other.to_string()),
        }
    };
    match how {
        ListMatch::Keys(keys) => keys.iter().map(|(k, d)| field(k, *d)).collect(),
        ListMatch::Ports => {
            let port = if obj.contains_key("containerPort") {
                field("containerPort", None)?
            } else {
                field("port", None)?
            };
            Some(vec![port, field("protocol", Some("TCP"))?])
        }
        ListMatch::AlertOrRecord => {
            if let Some(alert) = field("alert", None) {
                Some(vec!["alert".into(), alert])
            } else {
                Some(vec!["record".into(), field("record", None)?])
            }
        }
        ListMatch::Set | ListMatch::Position => None,
    }
}

/// `[name=http]`: the label naming a list item by its key in a keyed path; `None` for lists
/// matched by position or as a set, and for an item without its key. Ports are named by their
/// `name` when they have one.
fn item_label(how: ListMatch, item: &Value) -> Option<String> {
    let named = |field: &str| -> Option<String> {
        let v = item.get(field)?;
        Some(match v {
            Value::String(s) => format!("{field}={s}"),
            other => format!("{field}={other}"),
        })
    };
    let parts: Vec<String> = match how {
        ListMatch::Keys(keys) => keys.iter().map(|(k, _)| named(k)).collect::<Option<_>>()?,
        ListMatch::Ports => {
            if let Some(name) = named("name") {
                vec![name]
            } else {
                let port = named("containerPort").or_else(|| named("port"))?;
                let protocol = named("protocol").unwrap_or_else(|| "protocol=TCP".to_owned());
                vec![port, protocol]
            }
        }
        ListMatch::AlertOrRecord => vec![named("alert").or_else(|| named("record"))?],
        ListMatch::Set | ListMatch::Position => return None,
    };
    Some(format!("[{}]", parts.join(",")))
}

/// Ports are matched by `name` when every port on both sides has one, unique on its side (a
/// renumbered port is then a change of its `port`, not one port removed and another added);
/// else by number and protocol. Other lists keep `how`.
fn by_name_when_named(how: ListMatch, desired: &[Value], live: &[Value]) -> ListMatch {
    if how != ListMatch::Ports {
        return how;
    }
    let unique_names = |items: &[Value]| {
        let names: Option<Vec<&str>> = items
            .iter()
            .map(|i| i.get("name").and_then(Value::as_str))
            .collect();
        names.is_some_and(|mut n| {
            let len = n.len();
            n.sort_unstable();
            n.dedup();
            n.len() == len
        })
    };
    if !desired.is_empty() && unique_names(desired) && unique_names(live) {
        ListMatch::Keys(BY_NAME)
    } else {
        how
    }
}

/// The keyed path of `path` in `root` (see [`FieldChange::keyed_path`]): every item of a list
/// matched by key named by its key; `None` when the path has no such item.
fn keyed_path(kind: &str, root: &Value, path: &[String]) -> Option<String> {
    let mut value = Some(root);
    let mut any = false;
    let mut segments = Vec::with_capacity(path.len());
    for (depth, seg) in path.iter().enumerate() {
        let label = match value {
            Some(Value::Array(items)) => seg.parse::<usize>().ok().and_then(|i| {
                let how = list_match(kind, depth.checked_sub(1).map(|p| path[p].as_str()));
                item_label(how, items.get(i)?)
            }),
            _ => None,
        };
        value = match value {
            Some(Value::Object(map)) => map.get(seg),
            Some(Value::Array(items)) => seg.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        any |= label.is_some();
        segments.push(label.unwrap_or_else(|| pointer::escape(seg)));
    }
    any.then(|| format!("/{}", segments.join("/")))
}

/// For a list matched by merge key: the index of the live item paired with each desired item
/// (`None`: no live item has its key). Each live item pairs with at most one desired item, so
/// duplicate keys pair up in order. `None` when a desired item lacks its key: the whole list is
/// then compared by position.
fn keyed_pairs(how: ListMatch, desired: &[Value], live: &[Value]) -> Option<Vec<Option<usize>>> {
    let keys: Vec<Vec<String>> = desired
        .iter()
        .map(|d| item_key(how, d))
        .collect::<Option<_>>()?;
    let live_keys: Vec<Option<Vec<String>>> = live.iter().map(|l| item_key(how, l)).collect();
    let mut used = vec![false; live.len()];
    Some(
        keys.into_iter()
            .map(|key| {
                let j =
                    (0..live.len()).find(|&j| !used[j] && live_keys[j].as_ref() == Some(&key))?;
                used[j] = true;
                Some(j)
            })
            .collect(),
    )
}

/// The index of the live item that the client-side comparison pairs with `desired[index]`, in
/// a list held by the field `field` of an object of kind `kind`: for lists with merge keys the
/// live item with the same key (`None` when there is none, or when `desired` has no item at
/// `index`); for lists compared by position or as a set, the same index. Override pointers
/// (`ignore-fields`) resolve list indexes through this, so they name the same live item the
/// comparison looks at.
pub(crate) fn paired_index(
    kind: &str,
    field: Option<&str>,
    desired: &[Value],
    live: &[Value],
    index: usize,
) -> Option<usize> {
    match list_match(kind, field) {
        ListMatch::Position | ListMatch::Set => Some(index),
        keyed => {
            desired.get(index)?;
            match keyed_pairs(by_name_when_named(keyed, desired, live), desired, live) {
                Some(pairs) => pairs.get(index).copied().flatten(),
                None => Some(index),
            }
        }
    }
}

/// Where the field `pointer` names in `from` is in `to`, another version of the same object of
/// kind `kind` (a write in between may have added or reordered list items): the same map keys;
/// for a list matched by merge key the item with the same key, for a list compared as a set
/// the first equal item, for a list compared by position the same index. `None` when `to` no
/// longer holds it.
pub fn relocate(kind: &str, from: &Value, pointer: &str, to: &Value) -> Option<String> {
    let path = pointer::segments(pointer);
    let (mut old, mut new) = (from, to);
    let mut out = Vec::with_capacity(path.len());
    for (depth, seg) in path.iter().enumerate() {
        let (next_old, next_new, at) = match (old, new) {
            (Value::Object(was), Value::Object(now)) => (was.get(seg)?, now.get(seg)?, seg.clone()),
            (Value::Array(was), Value::Array(now)) => {
                let index: usize = seg.parse().ok()?;
                let item = was.get(index)?;
                let field = depth.checked_sub(1).map(|p| path[p].as_str());
                let found = match list_match(kind, field) {
                    ListMatch::Position => (index < now.len()).then_some(index)?,
                    ListMatch::Set => now.iter().position(|o| o == item)?,
                    keyed => {
                        let key = item_key(keyed, item)?;
                        now.iter()
                            .position(|o| item_key(keyed, o).as_ref() == Some(&key))?
                    }
                };
                (item, &now[found], found.to_string())
            }
            _ => return None,
        };
        out.push(at);
        (old, new) = (next_old, next_new);
    }
    Some(pointer::of(&out))
}

/// Map-typed fields whose empty value (`{}`) the API server drops (Go `omitempty` on a map);
/// their entries are kept whatever their value, so `labels: {a: ""}` is not a zero value. An
/// empty struct such as KubeVirt's `bridge: {}` or `emptyDir: {}` is never dropped (`omitempty`
/// does not apply to structs, and a pointer to an empty struct is written as `{}`), and it
/// means something: it is not in this list.
const MAP_FIELDS: &[&str] = &[
    "annotations",
    "labels",
    "data",
    "binaryData",
    "stringData",
    "nodeSelector",
    "matchLabels",
    "selector",
    "parameters",
    "limits",
    "requests",
    "hard",
    "capacity",
];

/// Fields whose absence means something other than their zero value (optional pointer fields
/// with a default or a special meaning for "unset"), so a desired `false` or `0` there is drift
/// when live lacks the field: `allowPrivilegeEscalation` and `automountServiceAccountToken`
/// (unset: allowed), `hostUsers` and `enableServiceLinks` (unset: `true`), `runAsUser`,
/// `runAsGroup` and `fsGroup` (`0` is root, unset is the image's user), `tolerationSeconds`
/// (unset: tolerate forever, `0`: evict now), `ttlSecondsAfterFinished` (unset: never deleted),
/// `terminationGracePeriodSeconds`, `replicas`, `revisionHistoryLimit`, `backoffLimit`,
/// `maxSurge`, `maxUnavailable`, `minAvailable` and `defaultMode` (unset: a non-zero default).
const ZERO_IS_NOT_ABSENT: &[&str] = &[
    "allowPrivilegeEscalation",
    "automountServiceAccountToken",
    "backoffLimit",
    "defaultMode",
    "enableServiceLinks",
    "fsGroup",
    "hostUsers",
    "maxSurge",
    "maxUnavailable",
    "minAvailable",
    "replicas",
    "revisionHistoryLimit",
    "runAsGroup",
    "runAsUser",
    "terminationGracePeriodSeconds",
    "tolerationSeconds",
    "ttlSecondsAfterFinished",
];

/// Whether a desired field asserts nothing, whatever live has: `null`, and for map-typed fields
/// `{}` (a subset of any map) or a map of `null`s only (each entry sets nothing).
fn asserts_nothing(key: &str, value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => MAP_FIELDS.contains(&key) && m.values().all(Value::is_null),
        _ => false,
    }
}

/// Whether a desired value is one the API server leaves out when it writes the object (Go
/// `omitempty`), so that live lacking the field is in sync: `false`, `0`, `""` and `[]` for a
/// field of an object (`parent` is the field holding that object), unless the object is a map
/// (its entries are kept, `labels: {a: ""}` included) or the field's absence means something
/// else ([`ZERO_IS_NOT_ABSENT`]). A zero value against a live non-zero one is still compared.
#[allow(clippy::float_cmp)]
fn omitted_when_zero(parent: Option<&str>, key: &str, value: &Value) -> bool {
    let zero = match value {
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f == 0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => return a.is_empty(),
        Value::Null | Value::Object(_) => false,
    };
    zero && !ZERO_IS_NOT_ABSENT.contains(&key) && !parent.is_some_and(|p| MAP_FIELDS.contains(&p))
}

/// Whether a value says nothing (null, `{}`, `[]`).
fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

impl<'a> Subset<'a> {
    /// A comparison of an object of `kind` against `live`; `judge_live_only` is false for a
    /// probe (a trial match of two list items), which only wants to know whether they differ.
    fn new(
        kind: &'a str,
        live: &'a Value,
        ownership: Option<&'a Ownership>,
        judge_live_only: bool,
    ) -> Self {
        Self {
            kind,
            changes: Vec::new(),
            pending: Vec::new(),
            managed: Vec::new(),
            live_only: judge_live_only.then_some(LiveOnly {
                whole_maps: matches!(kind, "ConfigMap" | "Secret")
                    && live.get("type").and_then(Value::as_str)
                        != Some("kubernetes.io/service-account-token"),
                found: false,
            }),
            ownership,
            live_root: live,
            labels: Vec::new(),
            rules_writer: None,
        }
    }

    /// `path` with the list items of [`Self::labels`] named by their key, when there are any.
    fn keyed(&self, path: &[String]) -> Option<String> {
        let labels: Vec<&(usize, String)> = self
            .labels
            .iter()
            .filter(|(d, _)| *d < path.len())
            .collect();
        if labels.is_empty() {
            return None;
        }
        let mut segments: Vec<String> = path.iter().map(|s| pointer::escape(s)).collect();
        for (depth, label) in labels {
            segments[*depth].clone_from(label);
        }
        Some(format!("/{}", segments.join("/")))
    }

    fn push(&mut self, path: &[String], desired: Option<&Value>, live: Option<&Value>) {
        let (found, writer) = match (live, self.ownership) {
            (Some(_), Some(own)) => match own.writer_of(self.live_root, path) {
                Some((e, true)) => (Found::Managed, Some(e.writer.clone())),
                Some((e, false)) => (Found::Drift, Some(e.writer.clone())),
                None => (Found::Drift, None),
            },
            _ => (Found::Drift, None),
        };
        self.record(found, path, desired, live, writer);
    }

    fn record(
        &mut self,
        found: Found,
        path: &[String],
        desired: Option<&Value>,
        live: Option<&Value>,
        writer: Option<Writer>,
    ) {
        let mut change = FieldChange::new(
            pointer::of(path),
            desired.map(|v| pruned(path, v).into_owned()),
            live.map(|v| pruned(path, v).into_owned()),
        );
        change.keyed_path = self.keyed(path);
        change.writer = writer;
        match found {
            Found::Drift => self.changes.push(change),
            Found::PendingRemoval => self.pending.push(change),
            Found::Managed => self.managed.push(change),
        }
    }

    /// Reports the live-only `live` at `path` (desired absent), a rule having judged it drift.
    fn push_live_only(&mut self, path: &[String], live: &Value) {
        let writer = self.rules_writer.clone();
        self.record(Found::Drift, path, None, Some(live), writer);
        if let Some(rules) = &mut self.live_only {
            rules.found = true;
        }
    }

    /// Runs `f` with the list item `item` at the end of `path` labelled by its key (`how`).
    fn in_item<R>(
        &mut self,
        how: ListMatch,
        path: &mut Vec<String>,
        index: usize,
        item: &Value,
        f: impl FnOnce(&mut Self, &mut Vec<String>) -> R,
    ) -> R {
        let label = item_label(how, item);
        if let Some(label) = &label {
            self.labels.push((path.len(), label.clone()));
        }
        path.push(index.to_string());
        let out = f(self, path);
        path.pop();
        if label.is_some() {
            self.labels.pop();
        }
        out
    }

    /// Whether `path` is a map plinth renders whole (ConfigMap and Secret `data`/`binaryData`).
    fn whole_map(&self, path: &[String]) -> bool {
        self.live_only.is_some_and(|l| l.whole_maps)
            && matches!(path, [m] if m == "data" || m == "binaryData")
    }

    /// Judges the live value at `path` that desired does not set: by its owners when the
    /// object's ownership is known ([`Self::owned`]), else by plinth's rules ([`Self::rules`]).
    /// Nothing in a probe.
    fn live_only(&mut self, path: &mut Vec<String>, live: &Value) {
        if self.live_only.is_none() || live.is_null() {
            return;
        }
        match self.ownership {
            Some(own) => self.owned(own, path, live),
            None => self.rules(path, live),
        }
    }

    /// Whether a live-only rule reports the live value at `path` as a whole: a security field,
    /// an item of a watched list (except what admission adds to every Pod), a key of a map
    /// plinth renders whole.
    fn rule_applies(&self, path: &[String], live: &Value) -> bool {
        let Some((_, parent)) = path.split_last() else {
            return false;
        };
        self.suspicious(path, live) || (self.whole_map(parent) && !live.is_null())
    }

    /// Whether the live-only value at `path` is drift whoever wrote it, a controller too: a
    /// security field, an item of a watched list (except what admission adds to every Pod).
    fn suspicious(&self, path: &[String], live: &Value) -> bool {
        let Some((last, parent)) = path.split_last() else {
            return false;
        };
        security_field(self.kind, path, live)
            || (last.parse::<usize>().is_ok()
                && watched_list(self.kind, parent)
                && !admission_default(parent, live))
    }

    /// Applies the live-only rules to the live value at `path` that desired does not set: a
    /// value a rule applies to is reported whole; anything else is searched for those.
    fn rules(&mut self, path: &mut Vec<String>, live: &Value) {
        if live.is_null() {
            return;
        }
        if self.rule_applies(path, live) {
            self.push_live_only(path, live);
            return;
        }
        match live {
            Value::Array(items) => {
                let how = list_match(self.kind, path.last().map(String::as_str));
                for (j, item) in items.iter().enumerate() {
                    self.in_item(how, path, j, item, |cx, path| cx.rules(path, item));
                }
            }
            Value::Object(map) => {
                for (k, v) in map {
                    if !normalized_away(path, k) {
                        path.push(k.clone());
                        self.rules(path, v);
                        path.pop();
                    }
                }
            }
            _ => {}
        }
    }

    /// Judges the live value at `path` that desired does not set by who wrote it
    /// ([`Ownership::judge`]).
    fn owned(&mut self, own: &Ownership, path: &mut Vec<String>, live: &Value) {
        if live.is_null() {
            return;
        }
        match own.judge(self.live_root, path) {
            Judgement::Drift(e) => {
                self.record(Found::Drift, path, None, Some(live), Some(e.writer.clone()));
            }
            Judgement::PendingRemoval(e) => {
                let writer = Some(e.writer.clone());
                self.record(Found::PendingRemoval, path, None, Some(live), writer);
            }
            Judgement::Managed(e) => {
                // No controller is expected to make a pod privileged or add a container to a
                // workload plinth renders, and a client can give itself any name: those are
                // drift, whoever wrote them.
                let found = if self.suspicious(path, live) {
                    Found::Drift
                } else {
                    Found::Managed
                };
                self.record(found, path, None, Some(live), Some(e.writer.clone()));
            }
            Judgement::Rules(e) => {
                let outer = self.rules_writer.replace(e.writer.clone());
                self.rules(path, live);
                self.rules_writer = outer;
            }
            Judgement::Inside(ambiguous) => {
                if let Some(e) = ambiguous.filter(|_| self.rule_applies(path, live)) {
                    let outer = self.rules_writer.replace(e.writer.clone());
                    self.push_live_only(path, live);
                    self.rules_writer = outer;
                    return;
                }
                if let Some(e) = own
                    .controller_owner(self.live_root, path)
                    .filter(|_| self.suspicious(path, live))
                {
                    self.record(Found::Drift, path, None, Some(live), Some(e.writer.clone()));
                    return;
                }
                match live {
                    Value::Array(items) => {
                        let how = list_match(self.kind, path.last().map(String::as_str));
                        for (j, item) in items.iter().enumerate() {
                            self.in_item(how, path, j, item, |cx, path| cx.owned(own, path, item));
                        }
                    }
                    Value::Object(map) => {
                        for (k, v) in map {
                            if !normalized_away(path, k) {
                                path.push(k.clone());
                                self.owned(own, path, v);
                                path.pop();
                            }
                        }
                    }
                    _ => {}
                }
            }
            Judgement::Unowned => {}
        }
    }

    /// Judges the items of the list at `path` that no desired item was paired with
    /// (`paired[j]`): every one when ownership is known; those of watched lists by the rules.
    fn unpaired_items(
        &mut self,
        how: ListMatch,
        live: &[Value],
        paired: &[bool],
        path: &mut Vec<String>,
    ) {
        if self.live_only.is_none() || (self.ownership.is_none() && !watched_list(self.kind, path))
        {
            return;
        }
        for (j, item) in live.iter().enumerate() {
            if !paired[j] {
                self.in_item(how, path, j, item, |cx, path| cx.live_only(path, item));
            }
        }
    }

    fn value(&mut self, desired: &Value, live: &Value, path: &mut Vec<String>) {
        match (desired, live) {
            (Value::Object(d), Value::Object(l)) => self.object(d, l, path),
            (Value::Array(d), Value::Array(l)) => self.array(d, l, path),
            (d, l) => {
                if !(scalar_eq(d, l, path)
                    || is_empty(&pruned(path, d)) && is_empty(&pruned(path, l)))
                {
                    self.push(path, Some(d), Some(l));
                }
            }
        }
    }

    fn object(
        &mut self,
        desired: &Map<String, Value>,
        live: &Map<String, Value>,
        path: &mut Vec<String>,
    ) {
        for (key, d) in desired {
            // A desired `null` sets nothing; normalised-away fields are not compared.
            if d.is_null() || normalized_away(path, key) {
                continue;
            }
            let parent = path.last().map(String::as_str);
            // A zero value the API server would not write back (`readOnly: false`, `[]`) is in
            // sync with an absent field; against a live value it is compared like any other.
            let omitted = omitted_when_zero(parent, key, d);
            path.push(key.clone());
            // A map-typed `{}` asserts nothing, whatever live has (a subset of any map).
            if asserts_nothing(key, &pruned(path, d)) {
                if let Some(l) = live.get(key) {
                    self.live_only(path, l);
                }
                path.pop();
                continue;
            }
            // What normalisation removes from live (a `null`, a `labels` or `annotations` map
            // left empty) is an unset field here too; a desired map is still compared entry by
            // entry with a live empty one.
            let parent_path = &path[..path.len() - 1];
            match live
                .get(key)
                .filter(|l| !(l.is_null() || !d.is_object() && live_dropped(parent_path, key, l)))
            {
                Some(l) => self.value(d, l, path),
                None if omitted => {}
                None => self.push(path, Some(d), None),
            }
            path.pop();
        }
        if self.live_only.is_none() {
            return;
        }
        for (key, l) in live {
            if desired.get(key).is_some_and(|d| !d.is_null()) || normalized_away(path, key) {
                continue;
            }
            path.push(key.clone());
            self.live_only(path, l);
            path.pop();
        }
    }

    fn array(&mut self, desired: &[Value], live: &[Value], path: &mut Vec<String>) {
        let how = list_match(self.kind, path.last().map(String::as_str));
        match how {
            ListMatch::Position => self.positional(desired, live, path),
            ListMatch::Set => {
                let mut paired = vec![false; live.len()];
                for (i, d) in desired.iter().enumerate() {
                    let mut found = false;
                    for (j, l) in live.iter().enumerate() {
                        let mut probe = Subset::new(self.kind, self.live_root, None, false);
                        let mut p = path.clone();
                        probe.value(d, l, &mut p);
                        if probe.changes.is_empty() {
                            found = true;
                            paired[j] = true;
                            // Unpaired live items only matter to the live-only rules.
                            if self.live_only.is_none() {
                                break;
                            }
                        }
                    }
                    if !found {
                        path.push(i.to_string());
                        self.push(path, Some(d), None);
                        path.pop();
                    }
                }
                self.unpaired_items(how, live, &paired, path);
            }
            keyed => {
                let keyed = by_name_when_named(keyed, desired, live);
                let Some(pairs) = keyed_pairs(keyed, desired, live) else {
                    // An item without its key: fall back to positions for the whole list.
                    self.positional(desired, live, path);
                    return;
                };
                let mut paired = vec![false; live.len()];
                for (i, (d, pair)) in desired.iter().zip(pairs).enumerate() {
                    if let Some(j) = pair {
                        paired[j] = true;
                        let l = &live[j];
                        self.in_item(keyed, path, j, l, |cx, path| cx.value(d, l, path));
                    } else {
                        self.in_item(keyed, path, i, d, |cx, path| cx.push(path, Some(d), None));
                    }
                }
                self.unpaired_items(keyed, live, &paired, path);
            }
        }
    }

    fn positional(&mut self, desired: &[Value], live: &[Value], path: &mut Vec<String>) {
        for (i, d) in desired.iter().enumerate() {
            path.push(i.to_string());
            match live.get(i) {
                Some(l) => self.value(d, l, path),
                None => self.push(path, Some(d), None),
            }
            path.pop();
        }
        // Extra live items in a list without merge keys change its meaning (args, rules).
        for (i, l) in live.iter().enumerate().skip(desired.len()) {
            path.push(i.to_string());
            self.push(path, None, Some(l));
            path.pop();
        }
    }
}

/// Fields whose values are Kubernetes quantities (resources, capacity, `KubeVirt` memory).
fn quantity_context(path: &[String]) -> bool {
    // Free-form maps hold text an application reads literally: never quantities.
    if path.iter().any(|seg| {
        matches!(
            seg.as_str(),
            "data" | "binaryData" | "stringData" | "annotations" | "labels" | "env"
        )
    }) {
        return false;
    }
    path.iter().any(|seg| {
        matches!(
            seg.as_str(),
            "resources"
                | "requests"
                | "limits"
                | "capacity"
                | "allocatable"
                | "hard"
                | "overcommit"
        )
    }) || matches!(
        path.last().map(String::as_str),
        Some("memory" | "cpu" | "storage" | "guest" | "ephemeral-storage" | "sizeLimit" | "size")
    )
}

fn as_quantity(value: &Value) -> Option<Quantity> {
    match value {
        Value::String(s) => Quantity::parse(s),
        Value::Number(n) => Quantity::parse(&n.to_string()),
        _ => None,
    }
}

/// Scalar equality: numbers by value (`1` == `1.0`, integers exactly); in quantity fields
/// (resources, capacity, sizes; never inside data, labels, annotations or env), quantities by
/// value across strings and numbers.
fn scalar_eq(desired: &Value, live: &Value, path: &[String]) -> bool {
    if desired == live {
        return true;
    }
    match (desired, live) {
        (Value::Number(a), Value::Number(b)) => {
            // Integers exactly (f64 would equate integers above 2^53 that differ); `1` and
            // `1.0` are equal.
            if let (Some(a), Some(b)) = (a.as_i64(), b.as_i64()) {
                return a == b;
            }
            if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
                return a == b;
            }
            if let (Some(a), Some(b)) = (a.as_f64(), b.as_f64()) {
                #[allow(clippy::float_cmp)]
                return a == b;
            }
            false
        }
        // Quantities compare by value only in fields that hold quantities: elsewhere `512Mi`
        // and `0.5Gi` are different text.
        _ if quantity_context(path) => quantity_eq(desired, live),
        _ => false,
    }
}

fn quantity_eq(a: &Value, b: &Value) -> bool {
    matches!((as_quantity(a), as_quantity(b)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::live_only_tests::with_owners;
    #[test]
    fn secret_string_data_compares_as_the_data_the_server_returns() {
        let desired = json!({"kind": "Secret", "stringData": {"a": "x"}, "data": {"b": "eQ=="}});
        let live = json!({"kind": "Secret", "data": {"a": "eA==", "b": "eQ=="}, "type": "Opaque"});
        assert_eq!(compare_client_side(&desired, &live, "Secret"), vec![]);
        let edited_live = json!({"kind": "Secret", "data": {"a": "eg==", "b": "eQ=="}});
        let changes = compare_client_side(&desired, &edited_live, "Secret");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].pointer, "/data/a");
        assert!(changes[0].secret, "Secret data is flagged secret");
    }

    #[test]
    fn env_credentials_are_flagged_secret_and_others_are_not() {
        let obj = |pw: &str, level: &str| {
            serde_json::json!({"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
                {"name": "app", "env": [
                    {"name": "DB_PASSWORD", "value": pw},
                    {"name": "LOG_LEVEL", "value": level}
                ]}
            ]}}}})
        };
        let changes = compare_client_side(
            &obj("hunter2", "info"),
            &obj("hunter3", "debug"),
            "Deployment",
        );
        assert_eq!(changes.len(), 2, "{changes:?}");
        for c in &changes {
            let is_password = c.before.as_ref().and_then(Value::as_str) == Some("hunter2");
            assert_eq!(c.secret, is_password, "{c:?}");
        }
    }

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    /// `obj` with `metadata.managedFields`: ownership known, live-only fields are not drift.
    fn deployment(containers: &Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "n"},
            "spec": {"replicas": 2, "template": {"spec": {"containers": containers}}}
        })
    }

    /// A VirtualMachine rendered at `kubevirt.io/v1alpha3` and read back at `kubevirt.io/v1`.
    fn vm(api_version: &str, run_strategy: &str) -> Value {
        json!({
            "apiVersion": api_version, "kind": "VirtualMachine",
            "metadata": {"name": "vm", "namespace": "n"},
            "spec": {"runStrategy": run_strategy}
        })
    }

    #[test]
    fn another_version_of_the_same_group_is_not_drift_at_api_version() {
        let (desired, live) = (
            vm("kubevirt.io/v1alpha3", "Always"),
            vm("kubevirt.io/v1", "Always"),
        );
        assert_eq!(
            compare_client_side(&desired, &live, "VirtualMachine"),
            vec![]
        );
        assert_eq!(compare_server_side(&desired, &live), vec![]);
        assert_eq!(
            version_note(&desired, &live).as_deref(),
            Some("compared `kubevirt.io/v1alpha3` (desired) with `kubevirt.io/v1` (live)")
        );
        // Other fields still count, in both modes.
        let halted = vm("kubevirt.io/v1", "Halted");
        for changes in [
            compare_client_side(&desired, &halted, "VirtualMachine"),
            compare_server_side(&desired, &halted),
        ] {
            let pointers: Vec<&str> = changes.iter().map(|c| c.pointer.as_str()).collect();
            assert_eq!(pointers, ["/spec/runStrategy"]);
        }
    }

    #[test]
    fn api_versions_of_different_groups_still_differ() {
        let hpa = |api_version: &str| {
            json!({"apiVersion": api_version, "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "h", "namespace": "n"}, "spec": {"maxReplicas": 3}})
        };
        let (v2, v1) = (hpa("autoscaling/v2"), hpa("autoscaling/v1"));
        assert_eq!(compare_server_side(&v2, &v1), vec![]);
        assert_eq!(
            version_note(&v2, &v1).as_deref(),
            Some("compared `autoscaling/v2` (desired) with `autoscaling/v1` (live)")
        );
        assert_eq!(version_note(&v2, &v2), None);
        let other_group = hpa("example.com/v2");
        assert_eq!(version_note(&v2, &other_group), None);
        let changes = compare_server_side(&v2, &other_group);
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].pointer, "/apiVersion");
    }

    #[test]
    fn pointer_escapes() {
        let p = pointer::of(&["metadata", "labels", "a/b~c"]);
        assert_eq!(p, "/metadata/labels/a~1b~0c");
    }

    #[test]
    fn extra_live_fields_are_not_drift() {
        let d = deployment(&json!([{"name": "a", "image": "x"}]));
        let mut l =
            deployment(&json!([{"name": "a", "image": "x", "imagePullPolicy": "IfNotPresent"}]));
        l["spec"]["strategy"] = json!({"type": "RollingUpdate"});
        assert_eq!(compare_client_side(&d, &l, "Deployment"), vec![]);
    }

    #[test]
    fn containers_match_by_name_whatever_the_order() {
        let d = deployment(&json!([{"name": "a", "image": "x"}, {"name": "b", "image": "y"}]));
        let l = deployment(&json!([{"name": "b", "image": "y"}, {"name": "a", "image": "x"}]));
        assert_eq!(compare_client_side(&d, &l, "Deployment"), vec![]);
        let l = deployment(&json!([{"name": "b", "image": "z"}, {"name": "a", "image": "x"}]));
        let changes = compare_client_side(&d, &l, "Deployment");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].pointer, "/spec/template/spec/containers/0/image");
        assert_eq!(changes[0].before, Some(json!("y")));
        assert_eq!(changes[0].after, Some(json!("z")));
    }

    #[test]
    fn missing_list_item_is_drift() {
        let d = deployment(&json!([{"name": "a"}, {"name": "b"}]));
        let l = deployment(&json!([{"name": "a"}]));
        let changes = compare_client_side(&d, &l, "Deployment");
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].pointer, "/spec/template/spec/containers/1");
        assert_eq!(changes[0].after, None);
    }

    #[test]
    fn quantities_compare_by_value() {
        let c = |mem: Value, cpu: Value| {
            deployment(
                &json!([{"name": "a", "resources": {"limits": {"memory": mem, "cpu": cpu}}}]),
            )
        };
        // (desired memory and CPU, live memory and CPU, how many changes)
        let cases = [
            ((json!("1Gi"), json!("1")), (json!("1024Mi"), json!(1)), 0),
            ((json!("1Gi"), json!("500m")), (json!("1Gi"), json!(0.5)), 0),
            ((json!("1Gi"), json!("1")), (json!("2Gi"), json!("1")), 1),
            ((json!("1Gi"), json!("1")), (json!("1Gi"), json!("2")), 1),
        ];
        for ((mem, cpu), (live_mem, live_cpu), want) in cases {
            let changes = compare_client_side(&c(mem, cpu), &c(live_mem, live_cpu), "Deployment");
            assert_eq!(changes.len(), want, "{changes:#?}");
        }
    }

    #[test]
    fn string_vs_number_outside_quantities_is_drift() {
        let d = json!({"kind": "X", "spec": {"mode": "1"}});
        let l = json!({"kind": "X", "spec": {"mode": 1}});
        assert_eq!(compare_client_side(&d, &l, "X").len(), 1);
    }

    #[test]
    fn ports_match_by_port_and_protocol() {
        let svc = |ports: Value| json!({"kind": "Service", "spec": {"ports": ports}});
        let d = svc(json!([{"port": 80}, {"port": 53, "protocol": "UDP"}]));
        let l = svc(
            json!([{"port": 53, "protocol": "UDP", "targetPort": 53}, {"port": 80, "protocol": "TCP", "targetPort": 80}]),
        );
        assert_eq!(compare_client_side(&d, &l, "Service"), vec![]);
        let l = with_owners(svc(
            json!([{"port": 53, "protocol": "TCP"}, {"port": 80, "protocol": "TCP"}]),
        ));
        assert_eq!(compare_client_side(&d, &l, "Service").len(), 1);
    }

    #[test]
    fn tolerations_are_a_set() {
        let pod = |t: Value| json!({"kind": "Pod", "spec": {"tolerations": t}});
        let d = pod(json!([{"key": "a", "operator": "Exists"}]));
        let l = pod(json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "a", "operator": "Exists"}
        ]));
        assert_eq!(compare_client_side(&d, &l, "Pod"), vec![]);
        let l = with_owners(pod(json!([{"key": "b", "operator": "Exists"}])));
        assert_eq!(compare_client_side(&d, &l, "Pod").len(), 1);
    }

    #[test]
    fn prometheus_rules_match_by_alert_and_record() {
        let pr = |rules: Value| json!({"kind": "PrometheusRule", "spec": {"groups": [{"name": "g", "rules": rules}]}});
        let d = pr(json!([{"alert": "A", "expr": "up == 0"}, {"record": "r", "expr": "sum(x)"}]));
        let l = pr(
            json!([{"record": "r", "expr": "sum(x)"}, {"alert": "A", "expr": "up == 0", "for": "0s"}]),
        );
        assert_eq!(compare_client_side(&d, &l, "PrometheusRule"), vec![]);
        // Role rules are positional.
        let role = |rules: Value| json!({"kind": "Role", "rules": rules});
        let d = role(json!([{"verbs": ["get"]}, {"verbs": ["list"]}]));
        let l = role(json!([{"verbs": ["list"]}, {"verbs": ["get"]}]));
        assert_eq!(compare_client_side(&d, &l, "Role").len(), 2);
    }

    #[test]
    fn kubevirt_devices_match_by_name() {
        let vm = |disks: Value| json!({"kind": "VirtualMachine", "spec": {"template": {"spec": {"domain": {"devices": {"disks": disks}}}}}});
        let d = vm(
            json!([{"name": "root", "disk": {"bus": "virtio"}}, {"name": "cloudinit", "disk": {"bus": "virtio"}}]),
        );
        let l = vm(
            json!([{"name": "cloudinit", "disk": {"bus": "virtio"}}, {"name": "root", "disk": {"bus": "virtio"}, "bootOrder": 1}]),
        );
        assert_eq!(compare_client_side(&d, &l, "VirtualMachine"), vec![]);
    }

    #[test]
    fn empty_desired_values_match_absent_live() {
        let d = json!({"kind": "X", "metadata": {"labels": {}}, "spec": {"selector": {}, "b": [], "c": null}});
        let l = json!({"kind": "X", "metadata": {}, "spec": {}});
        assert_eq!(compare_client_side(&d, &l, "X"), vec![]);
        // An empty struct is a choice (KubeVirt `bridge: {}`): its absence is drift.
        let d = json!({"kind": "X", "spec": {"bridge": {}}});
        let l = json!({"kind": "X", "spec": {"sriov": {}}});
        assert_eq!(compare_client_side(&d, &l, "X").len(), 1);
    }

    /// Go's `omitempty` drops `false`, `0`, `""` and `[]`: live lacking such a field is in
    /// sync with a desired zero value, in built-in types and custom resources alike.
    #[test]
    fn zero_values_the_server_omits_match_absent_live() {
        let d = json!({"kind": "Pod", "spec": {
            "hostNetwork": false,
            "priority": 0,
            "containers": [{
                "name": "a", "stdin": false, "workingDir": "", "args": [],
                "env": [{"name": "E", "value": ""}],
                "ports": [{"containerPort": 80, "hostPort": 0}],
                "volumeMounts": [{"name": "v", "mountPath": "/v", "readOnly": false}]
            }]
        }});
        let l = json!({"kind": "Pod", "spec": {"containers": [{
            "name": "a",
            "env": [{"name": "E"}],
            "ports": [{"containerPort": 80, "protocol": "TCP"}],
            "volumeMounts": [{"mountPath": "/v", "name": "v"}]
        }]}});
        assert_eq!(compare_client_side(&d, &l, "Pod"), vec![]);
        let d = json!({"kind": "HyperConverged", "spec": {"featureGates": {"enableCommonBootImageImport": false}, "liveMigrationConfig": {"parallelOutboundMigrationsPerNode": 0.0}}});
        let l = json!({"kind": "HyperConverged", "spec": {"featureGates": {}, "liveMigrationConfig": {}}});
        assert_eq!(compare_client_side(&d, &l, "HyperConverged"), vec![]);
    }

    #[test]
    fn zero_values_are_still_compared_with_live_values_and_non_zero_ones_with_absence() {
        let mount = |m: Value| json!({"kind": "Pod", "spec": {"containers": [{"name": "a", "volumeMounts": [m], "args": ["--x"]}]}});
        let pointers = |d: &Value, l: &Value| -> Vec<String> {
            compare_client_side(d, l, "Pod")
                .into_iter()
                .map(|c| c.pointer)
                .collect()
        };
        let ro = "/spec/containers/0/volumeMounts/0/readOnly";
        // A zero desired value against a live non-zero one.
        let d = mount(json!({"mountPath": "/v", "readOnly": false}));
        let l = mount(json!({"mountPath": "/v", "readOnly": true}));
        assert_eq!(pointers(&d, &l), [ro]);
        // A non-zero desired value against an absent field.
        let d = mount(json!({"mountPath": "/v", "readOnly": true}));
        let l = mount(json!({"mountPath": "/v"}));
        assert_eq!(pointers(&d, &l), [ro]);
        // `[]` against a live list compared by position: the extra live items are drift.
        let mut d = mount(json!({"mountPath": "/v"}));
        d["spec"]["containers"][0]["args"] = json!([]);
        let l = mount(json!({"mountPath": "/v"}));
        assert_eq!(pointers(&d, &l), ["/spec/containers/0/args/0"]);
    }

    /// Where unset means something else than zero, and in maps (whose entries the server keeps
    /// whatever their value), a desired zero value against an absent field is drift.
    #[test]
    fn zero_values_whose_absence_means_something_else_are_drift() {
        let d = json!({"kind": "Pod", "metadata": {"labels": {"tier": ""}}, "spec": {
            "automountServiceAccountToken": false,
            "tolerations": [{"key": "k", "operator": "Exists", "tolerationSeconds": 0}],
            "containers": [{"name": "a", "securityContext": {"allowPrivilegeEscalation": false, "runAsUser": 0}}]
        }});
        let l = with_owners(json!({"kind": "Pod", "metadata": {"labels": {}}, "spec": {
            "tolerations": [{"key": "k", "operator": "Exists"}],
            "containers": [{"name": "a", "securityContext": {}}]
        }}));
        let mut found: Vec<String> = compare_client_side(&d, &l, "Pod")
            .into_iter()
            .map(|c| c.pointer)
            .collect();
        found.sort();
        assert_eq!(
            found,
            [
                "/metadata/labels/tier",
                "/spec/automountServiceAccountToken",
                "/spec/containers/0/securityContext/allowPrivilegeEscalation",
                "/spec/containers/0/securityContext/runAsUser",
                "/spec/tolerations/0",
            ]
        );
        let cm = |data: Value| json!({"kind": "ConfigMap", "data": data});
        assert_eq!(
            compare_client_side(&cm(json!({"empty": ""})), &cm(json!({})), "ConfigMap").len(),
            1
        );
    }

    #[test]
    fn paired_index_follows_merge_keys() {
        let desired = [
            json!({"name": "a"}),
            json!({"name": "b"}),
            json!({"name": "b"}),
        ];
        let live = [
            json!({"name": "b"}),
            json!({"name": "c"}),
            json!({"name": "b"}),
            json!({"name": "a"}),
        ];
        let pair = |i| paired_index("Deployment", Some("containers"), &desired, &live, i);
        assert_eq!(
            [pair(0), pair(1), pair(2), pair(3)],
            [Some(3), Some(0), Some(2), None]
        );
        // Lists without merge keys, and keyed lists where an item lacks its key: positions.
        assert_eq!(
            paired_index("Deployment", Some("args"), &desired, &live, 1),
            Some(1)
        );
        let keyless = [json!({"image": "x"})];
        assert_eq!(
            paired_index("Deployment", Some("containers"), &keyless, &live, 0),
            Some(0)
        );
        assert_eq!(
            paired_index("Deployment", Some("containers"), &desired, &[], 0),
            None
        );
    }

    fn arb_object() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0i64..4).prop_map(|n| json!(n)),
            prop_oneof![
                Just("1Gi"),
                Just("1024Mi"),
                Just("1"),
                Just("500m"),
                Just("a"),
                Just("")
            ]
            .prop_map(|s| json!(s)),
        ];
        let named = [
            "name",
            "containers",
            "env",
            "ports",
            "port",
            "tolerations",
            "resources",
            "cpu",
            "status",
            "metadata",
            "managedFields",
            "labels",
        ];
        let keys = crate::core::generators::keys(&named, "[a-c]");
        leaf.prop_recursive(4, 40, 5, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(keys.clone(), inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Every object is in sync with itself, and with live copies of it that only add
        /// server-populated fields.
        #[test]
        fn an_object_is_in_sync_with_itself(obj in arb_object()) {
            prop_assert_eq!(compare_client_side(&obj, &obj, "X"), vec![]);
            prop_assert_eq!(compare_server_side(&obj, &obj), vec![]);
            let mut live = obj.clone();
            if let Some(map) = live.as_object_mut() {
                map.insert("status".into(), json!({"phase": "Running"}));
                if let Some(Value::Object(meta)) = map.get_mut("metadata") {
                    meta.insert("uid".into(), json!("u"));
                    meta.insert("managedFields".into(), json!([{"manager": "m"}]));
                }
            }
            prop_assert_eq!(compare_client_side(&obj, &live, "X"), vec![]);
        }

        /// Skipping what normalisation drops gives the same result as normalising first.
        #[test]
        fn comparison_ignores_what_normalisation_drops(
            d in prop::collection::btree_map("[a-c]|status|metadata", arb_object(), 0..4),
            l in prop::collection::btree_map("[a-c]|status|metadata", arb_object(), 0..4),
        ) {
            let d = Value::Object(d.into_iter().collect());
            let mut l = Value::Object(l.into_iter().collect());
            // Normalisation drops `managedFields`, which decides whether live-only fields are
            // judged: compare with the same ownership on both sides, unknown then known.
            if let Some(Value::Object(meta)) = l.get_mut("metadata") {
                meta.remove("managedFields");
            }
            prop_assert_eq!(
                compare_client_side(&d, &l, "X"),
                compare_client_side(&normalize(&d), &normalize(&l), "X")
            );
            if l.get("metadata").is_none_or(Value::is_object) {
                prop_assert_eq!(
                    compare_client_side(&d, &with_owners(l.clone()), "X"),
                    compare_client_side(&normalize(&d), &with_owners(normalize(&l)), "X")
                );
            }
        }
    }

    #[test]
    fn server_side_reports_every_difference() {
        let dry = json!({"kind": "X", "metadata": {"name": "a", "resourceVersion": "2", "managedFields": []}, "spec": {"a": 1, "b": [1, 2]}});
        let live = json!({"kind": "X", "metadata": {"name": "a", "resourceVersion": "1"}, "spec": {"a": 2, "b": [1], "c": true}, "status": {}});
        let changes = compare_server_side(&dry, &live);
        let pointers: Vec<&str> = changes.iter().map(|c| c.pointer.as_str()).collect();
        assert_eq!(pointers, ["/spec/a", "/spec/b/1", "/spec/c"]);
        assert_eq!(compare_server_side(&live, &live), vec![]);
    }
}

#[cfg(test)]
mod live_only_tests;

#[cfg(test)]
mod ownership_tests;

#[cfg(test)]
mod ownership_shapes;
