//! Object-by-object comparison of two renders of a fleet (base and head): per cluster the
//! objects added, removed, renamed and changed, field-level changes as RFC 6901 pointers
//! with before/after values, unified diffs of the YAML, the disruption each change will
//! cause, and the assets that entered or left the cluster with the condition that changed.
//!
//! Every object is redacted ([`Redactor::redact_object`]) before it is compared, so secret
//! values only ever appear as keyed fingerprints: an unchanged secret keeps its fingerprint
//! and a changed one gets a new one. A rename is a removed and an added object of the same
//! group, kind and namespace whose content is equal apart from `metadata.name`.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;

use crate::change::ObjectChange;
use crate::disruption::{self, ClusterDisruption, Disruption};
use plinth_renderer::decide::{ConditionOutcome, Decision};
use plinth_renderer::render::{RenderedCluster, RenderedObject, VERSION};
use plinth_vocab::ObjectRef;
use plinth_vocab::change::{FieldChange, field_changes};
use plinth_vocab::redact::Redactor;
use plinth_vocab::yaml;

/// Version of the JSON schema of [`DiffReport`]; bumped only on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// Which revision a side of the comparison is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Side {
    /// What the user named: a revision (`origin/main`) or `working tree`.
    pub spec: String,
    /// The commit id, absent for the working tree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// The whole comparison.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DiffReport {
    pub schema_version: u32,
    pub plinth_version: String,
    pub base: Side,
    pub head: Side,
    pub summary: Summary,
    /// Every cluster's disruptions: most disruptive effect first, then by cluster, then by
    /// object (the order of the terminal and Markdown disruption tables too).
    pub disruptions: Vec<ClusterDisruption>,
    /// Clusters with at least one change, sorted by name.
    pub clusters: Vec<ClusterDiff>,
}

/// Counts over every cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub clusters_compared: usize,
    pub clusters_changed: usize,
    pub clusters_added: usize,
    pub clusters_removed: usize,
    pub objects_added: usize,
    pub objects_removed: usize,
    pub objects_changed: usize,
    pub objects_renamed: usize,
    pub disruptions: usize,
    pub inclusion_changes: usize,
}

/// What happened to a cluster between base and head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClusterStatus {
    Added,
    Removed,
    Changed,
}

/// One cluster's changes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDiff {
    pub name: String,
    pub status: ClusterStatus,
    /// What the changes will do at run time, most disruptive first.
    pub disruptions: Vec<Disruption>,
    /// Assets that entered or left the cluster, with the conditions that changed.
    pub inclusion: Vec<InclusionChange>,
    /// Changed objects, sorted by kind, namespace and name.
    pub objects: Vec<ObjectDiff>,
}

/// One changed object.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectDiff {
    pub change: ObjectChange,
    pub api_version: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// The name in base, for a renamed object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub previous_name: Option<String>,
    /// The asset that renders it (head's, or base's for a removed object).
    pub asset: String,
    /// Field-level changes (changed and renamed objects only), in pointer order.
    pub fields: Vec<FieldChange>,
    /// A unified diff of the redacted YAML.
    pub diff: String,
}

impl ObjectDiff {
    /// `Kind namespace/name` or `Kind name`.
    pub fn title(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }
}

/// Whether an asset entered or left a cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum InclusionDirection {
    Entered,
    Left,
}

/// An asset that entered or left a cluster, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InclusionChange {
    pub asset: String,
    pub direction: InclusionDirection,
    /// Head's decision reason (base's when the asset left the catalog).
    pub reason: String,
    /// The conditions whose outcome changed; empty when only the asset's own definition
    /// changed (new in the catalog, conditions edited).
    pub conditions: Vec<ConditionChange>,
}

/// A condition whose outcome changed between base and head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConditionChange {
    pub condition: String,
    /// Base's outcome, absent when base did not have the condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<bool>,
    /// Head's outcome, absent when head does not have the condition.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<bool>,
    /// The fact that decided it (head's, or base's when head lacks the condition).
    pub because: String,
}

impl DiffReport {
    /// Builds a report from the per-cluster comparisons (only changed clusters are kept).
    pub fn new(
        base: Side,
        head: Side,
        clusters_compared: usize,
        clusters: Vec<ClusterDiff>,
    ) -> Self {
        let mut clusters: Vec<ClusterDiff> = clusters
            .into_iter()
            .filter(|c| c.status != ClusterStatus::Changed || !c.is_empty())
            .collect();
        clusters.sort_by(|a, b| a.name.cmp(&b.name));
        let mut s = Summary {
            clusters_compared,
            ..Summary::default()
        };
        for c in &clusters {
            match c.status {
                ClusterStatus::Added => s.clusters_added += 1,
                ClusterStatus::Removed => s.clusters_removed += 1,
                ClusterStatus::Changed => s.clusters_changed += 1,
            }
            for o in &c.objects {
                match o.change {
                    ObjectChange::Added => s.objects_added += 1,
                    ObjectChange::Removed => s.objects_removed += 1,
                    ObjectChange::Renamed => s.objects_renamed += 1,
                    ObjectChange::Changed => s.objects_changed += 1,
                }
            }
            s.disruptions += c.disruptions.len();
            s.inclusion_changes += c.inclusion.len();
        }
        let disruptions = disruption::fleet(
            clusters
                .iter()
                .map(|c| (c.name.as_str(), c.disruptions.as_slice())),
        );
        Self {
            schema_version: SCHEMA_VERSION,
            plinth_version: VERSION.to_owned(),
            base,
            head,
            summary: s,
            disruptions,
            clusters,
        }
    }

    /// Whether anything changed (exit code 1).
    pub fn has_changes(&self) -> bool {
        !self.clusters.is_empty()
    }
}

impl ClusterDiff {
    /// Whether the cluster has no change at all.
    pub fn is_empty(&self) -> bool {
        self.objects.is_empty() && self.inclusion.is_empty() && self.disruptions.is_empty()
    }
}

/// A unified diff (3 lines of context) of two YAML texts with `a/…` and `b/…` headers.
pub fn unified(before: &str, after: &str, path: &str) -> String {
    similar::TextDiff::from_lines(before, after)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

fn object_path(cluster: &str, id: &ObjectRef) -> String {
    let kind = if id.group.is_empty() {
        id.kind.clone()
    } else {
        format!("{}.{}", id.kind, id.group)
    };
    match &id.namespace {
        Some(ns) => format!("{cluster}/{kind}/{ns}/{}", id.name),
        None => format!("{cluster}/{kind}/{}", id.name),
    }
}

fn yaml_of(value: Option<&Value>) -> String {
    value.map(yaml::to_string).unwrap_or_default()
}

/// The value with `metadata.name` blanked, for rename detection.
fn without_name(value: &Value) -> Value {
    let mut v = value.clone();
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.insert("name".to_owned(), Value::String(String::new()));
    }
    v
}

/// The object's group, kind and namespace (its name blanked) and its canonical content with
/// the name blanked: equal for a removed and an added object that are a rename.
type ContentKey = (ObjectRef, Vec<u8>);

fn content_key(o: &RenderedObject) -> ContentKey {
    let id = ObjectRef {
        name: String::new(),
        ..o.identity.clone()
    };
    let content = serde_json::to_vec(&without_name(&o.value)).unwrap_or_default();
    (id, content)
}

fn object_index(c: Option<&RenderedCluster>) -> BTreeMap<&ObjectRef, &RenderedObject> {
    c.map(|c| c.objects.iter().map(|o| (&o.identity, o)).collect())
        .unwrap_or_default()
}

/// The objects of an index in the order the comparison visits them: by kind, group,
/// namespace and name. The order decides which of several equal removed objects a rename
/// pairs with and the order of ties in the output, so it is spelled out here rather than
/// taken from [`ObjectRef`]'s own order (group first).
fn visit_order<'a>(
    index: &BTreeMap<&'a ObjectRef, &'a RenderedObject>,
) -> Vec<(&'a ObjectRef, &'a RenderedObject)> {
    let mut list: Vec<(&ObjectRef, &RenderedObject)> =
        index.iter().map(|(k, o)| (*k, *o)).collect();
    list.sort_by(|(a, _), (b, _)| {
        (&a.kind, &a.group, &a.namespace, &a.name).cmp(&(&b.kind, &b.group, &b.namespace, &b.name))
    });
    list
}

struct Pending<'a> {
    change: ObjectChange,
    before: Option<&'a RenderedObject>,
    after: Option<&'a RenderedObject>,
}

/// Compares one cluster. `base`/`head` absent mean the cluster does not exist on that side.
/// Returns `None` when both are absent.
pub fn compare_cluster(
    name: &str,
    base: Option<&RenderedCluster>,
    head: Option<&RenderedCluster>,
    redactor: &Redactor,
) -> Option<ClusterDiff> {
    let status = match (base, head) {
        (None, None) => return None,
        (None, Some(_)) => ClusterStatus::Added,
        (Some(_), None) => ClusterStatus::Removed,
        (Some(_), Some(_)) => ClusterStatus::Changed,
    };
    let before = object_index(base);
    let after = object_index(head);

    let mut pending: Vec<Pending<'_>> = Vec::new();
    let mut removed: Vec<&RenderedObject> = Vec::new();
    let mut added: Vec<&RenderedObject> = Vec::new();
    for (key, b) in visit_order(&before) {
        match after.get(key) {
            Some(a) if a.value == b.value => {}
            Some(a) => pending.push(Pending {
                change: ObjectChange::Changed,
                before: Some(b),
                after: Some(a),
            }),
            None => removed.push(b),
        }
    }
    for (key, a) in visit_order(&after) {
        if !before.contains_key(key) {
            added.push(a);
        }
    }
    // Renames: same group, kind and namespace, equal apart from the name.
    let mut by_content: BTreeMap<ContentKey, Vec<usize>> = BTreeMap::new();
    for (i, r) in removed.iter().enumerate() {
        by_content.entry(content_key(r)).or_default().push(i);
    }
    let mut renamed_from: BTreeSet<usize> = BTreeSet::new();
    for a in added {
        let matched = by_content.get_mut(&content_key(a)).and_then(|list| {
            let first = list.first().copied();
            if first.is_some() {
                list.remove(0);
            }
            first
        });
        match matched {
            Some(i) => {
                renamed_from.insert(i);
                pending.push(Pending {
                    change: ObjectChange::Renamed,
                    before: Some(removed[i]),
                    after: Some(a),
                });
            }
            None => pending.push(Pending {
                change: ObjectChange::Added,
                before: None,
                after: Some(a),
            }),
        }
    }
    for (i, r) in removed.iter().enumerate() {
        if !renamed_from.contains(&i) {
            pending.push(Pending {
                change: ObjectChange::Removed,
                before: Some(r),
                after: None,
            });
        }
    }

    let mut objects = Vec::with_capacity(pending.len());
    let mut disruptions = Vec::new();
    for p in pending {
        let red_before = p.before.map(|o| redactor.redact_object(&o.value));
        let red_after = p.after.map(|o| redactor.redact_object(&o.value));
        let shown = p
            .after
            .or(p.before)
            .expect("a change has at least one side");
        let id = &shown.identity;
        let fields = match (&red_before, &red_after) {
            (Some(b), Some(a)) => field_changes(b, a),
            _ => Vec::new(),
        };
        let diff = redactor.redact_text(&unified(
            &yaml_of(red_before.as_ref()),
            &yaml_of(red_after.as_ref()),
            &object_path(name, id),
        ));
        disruptions.extend(disruption::classify(
            p.change,
            red_before.as_ref(),
            red_after.as_ref(),
            base.map_or(&[][..], |b| &b.objects[..]),
            head.map_or(&[][..], |h| &h.objects[..]),
        ));
        objects.push(ObjectDiff {
            change: p.change,
            api_version: shown.value["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            kind: id.kind.clone(),
            namespace: id.namespace.clone(),
            name: id.name.clone(),
            previous_name: (p.change == ObjectChange::Renamed)
                .then(|| p.before.map(|b| b.identity.name.clone()))
                .flatten(),
            asset: shown.asset.clone(),
            fields,
            diff,
        });
    }
    objects.sort_by(|a, b| {
        (&a.kind, &a.namespace, &a.name, a.change).cmp(&(&b.kind, &b.namespace, &b.name, b.change))
    });
    disruption::sort(&mut disruptions);

    let inclusion = inclusion_changes(
        base.map_or(&[][..], |c| &c.decisions[..]),
        head.map_or(&[][..], |c| &c.decisions[..]),
        status,
    );
    Some(ClusterDiff {
        name: name.to_owned(),
        status,
        disruptions,
        inclusion,
        objects,
    })
}

/// A decision's conditions by name (none for an absent decision).
fn conditions_by_name(decision: Option<&Decision>) -> BTreeMap<&str, &ConditionOutcome> {
    decision
        .map(|d| {
            d.conditions
                .iter()
                .map(|c| (c.condition.as_str(), c))
                .collect()
        })
        .unwrap_or_default()
}

/// Assets whose inclusion differs between base and head, with the conditions whose outcome
/// changed. For an added or removed cluster nothing is listed (every asset moves).
pub fn inclusion_changes(
    base: &[Decision],
    head: &[Decision],
    status: ClusterStatus,
) -> Vec<InclusionChange> {
    if status != ClusterStatus::Changed {
        return Vec::new();
    }
    let before: BTreeMap<&str, &Decision> = base.iter().map(|d| (d.asset.as_str(), d)).collect();
    let after: BTreeMap<&str, &Decision> = head.iter().map(|d| (d.asset.as_str(), d)).collect();
    let assets: BTreeSet<&str> = before.keys().chain(after.keys()).copied().collect();
    let mut out = Vec::new();
    for asset in assets {
        let b = before.get(asset);
        let a = after.get(asset);
        let was = b.is_some_and(|d| d.included);
        let is = a.is_some_and(|d| d.included);
        if was == is {
            continue;
        }
        let mut conditions = Vec::new();
        let old = conditions_by_name(b.copied());
        let new = conditions_by_name(a.copied());
        let names: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
        for cond in names {
            let (o, n) = (old.get(cond), new.get(cond));
            if o.map(|c| c.held) == n.map(|c| c.held) {
                continue;
            }
            conditions.push(ConditionChange {
                condition: cond.to_owned(),
                before: o.map(|c| c.held),
                after: n.map(|c| c.held),
                because: n.or(o).map(|c| c.because.clone()).unwrap_or_default(),
            });
        }
        let reason = match (a, b) {
            (Some(d), _) => d.reason.clone(),
            (None, Some(d)) => format!("no longer in the catalog (was: {})", d.reason),
            (None, None) => String::new(),
        };
        let reason = if b.is_none() {
            format!("new in the catalog: {reason}")
        } else {
            reason
        };
        out.push(InclusionChange {
            asset: asset.to_owned(),
            direction: if is {
                InclusionDirection::Entered
            } else {
                InclusionDirection::Left
            },
            reason,
            conditions,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(kind: &str, name: &str, value: Value) -> RenderedObject {
        let mut v = value;
        v["kind"] = json!(kind);
        v["apiVersion"] = json!(if kind == "Deployment" {
            "apps/v1"
        } else {
            "v1"
        });
        v["metadata"]["name"] = json!(name);
        v["metadata"]["namespace"] = json!("ns");
        RenderedObject {
            asset: "a".into(),
            wave: 0,
            identity: ObjectRef::of(&v).unwrap(),
            value: v,
        }
    }

    fn cluster(objects: Vec<RenderedObject>, decisions: Vec<Decision>) -> RenderedCluster {
        RenderedCluster {
            name: "c".into(),
            objects,
            decisions,
            input_digest: String::new(),
        }
    }

    fn arbitrary_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            "[a-z0-9 /~:=]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map("[a-z/~]{1,4}", inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn field_changes_are_empty_exactly_when_equal(a in arbitrary_json(), b in arbitrary_json()) {
            proptest::prop_assert!(field_changes(&a, &a).is_empty());
            proptest::prop_assert_eq!(field_changes(&a, &b).is_empty(), a == b);
        }

        #[test]
        fn every_change_points_at_its_before_and_after(a in arbitrary_json(), b in arbitrary_json()) {
            for c in field_changes(&a, &b) {
                proptest::prop_assert_eq!(c.before.as_ref(), a.pointer(&c.pointer));
                proptest::prop_assert_eq!(c.after.as_ref(), b.pointer(&c.pointer));
                proptest::prop_assert!(c.before != c.after);
            }
        }

        #[test]
        fn redaction_is_idempotent_and_hides_secret_data(
            extra in arbitrary_json(),
            secret in "S3cr3t-[A-Za-z0-9]{6,20}",
        ) {
            let r = Redactor::with_key(b"p");
            let obj = json!({"kind": "Secret", "data": {"k": secret.clone()}, "extra": extra});
            let once = r.redact_object(&obj);
            proptest::prop_assert_eq!(&r.redact_object(&once), &once);
            let quoted = format!("\"{secret}\"");
            proptest::prop_assert!(!once.to_string().contains(&quoted));
            let text = yaml::to_string(&once);
            proptest::prop_assert_eq!(r.redact_text(&r.redact_text(&text)), r.redact_text(&text));
        }
    }

    #[test]
    fn field_changes_use_pointers() {
        let changes = field_changes(
            &json!({"a": {"b/c": 1, "x": [1, 2, 3]}, "gone": true}),
            &json!({"a": {"b/c": 2, "x": [1, 2]}, "new": {"deep": 1}}),
        );
        let pointers: Vec<&str> = changes.iter().map(|c| c.pointer.as_str()).collect();
        assert_eq!(pointers, ["/a/b~1c", "/a/x/2", "/gone", "/new"]);
        assert_eq!(changes[0].before, Some(json!(1)));
        assert_eq!(changes[0].after, Some(json!(2)));
        assert_eq!(changes[1].after, None);
        assert_eq!(changes[3].before, None);
    }

    #[test]
    fn compares_objects_and_detects_renames() {
        let r = Redactor::with_key(b"k");
        let config_maps = |entries: &[(&str, &str)]| {
            let objects = entries
                .iter()
                .map(|(name, k)| {
                    object("ConfigMap", name, json!({"data": {"k": k}, "metadata": {}}))
                })
                .collect();
            cluster(objects, vec![])
        };
        let base = config_maps(&[
            ("same", "v"),
            ("old-name", "r"),
            ("edited", "1"),
            ("gone", "g"),
        ]);
        let head = config_maps(&[
            ("same", "v"),
            ("new-name", "r"),
            ("edited", "2"),
            ("fresh", "f"),
        ]);
        let d = compare_cluster("c", Some(&base), Some(&head), &r).unwrap();
        let got: Vec<(ObjectChange, &str)> = d
            .objects
            .iter()
            .map(|o| (o.change, o.name.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (ObjectChange::Changed, "edited"),
                (ObjectChange::Added, "fresh"),
                (ObjectChange::Removed, "gone"),
                (ObjectChange::Renamed, "new-name"),
            ]
        );
        let edited = &d.objects[0];
        assert_eq!(edited.fields[0].pointer, "/data/k");
        assert!(
            edited.diff.contains("-  k: '1'") || edited.diff.contains("-  k: \"1\""),
            "{}",
            edited.diff
        );
        assert_eq!(d.objects[3].previous_name.as_deref(), Some("old-name"));
    }

    #[test]
    fn secrets_are_compared_redacted() {
        let r = Redactor::with_key(b"k");
        let secret = |v: &str| {
            object(
                "Secret",
                "s",
                json!({"data": {"password": v}, "metadata": {}}),
            )
        };
        let base = cluster(vec![secret("b2xk")], vec![]);
        let head = cluster(vec![secret("bmV3")], vec![]);
        let d = compare_cluster("c", Some(&base), Some(&head), &r).unwrap();
        let text = serde_json::to_string(&d).unwrap();
        assert!(!text.contains("b2xk") && !text.contains("bmV3"), "{text}");
        assert_eq!(
            d.objects[0].fields[0].before,
            Some(json!(r.fingerprint("b2xk")))
        );
    }

    #[test]
    fn inclusion_names_the_condition_that_changed() {
        let decision = |included: bool, held: bool, because: &str| Decision {
            asset: "gpu-operator".into(),
            included,
            reason: if included {
                "all conditions hold"
            } else {
                "a condition failed"
            }
            .into(),
            conditions: vec![ConditionOutcome {
                condition: "inventory has pci-devices".into(),
                held,
                because: because.into(),
            }],
        };
        let out = inclusion_changes(
            &[decision(false, false, "no node has PCI devices")],
            &[decision(true, true, "PCI devices on node(s) n1")],
            ClusterStatus::Changed,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].direction, InclusionDirection::Entered);
        assert_eq!(out[0].conditions[0].before, Some(false));
        assert_eq!(out[0].conditions[0].after, Some(true));
        assert_eq!(out[0].conditions[0].because, "PCI devices on node(s) n1");
    }
}
