//! The Patched Baseline pipeline, per desired object, in the order of DESIGN §6: missing,
//! `mode: unmanaged`, `reconcile-paused`, `patch` (with its refusal rules), `ignore-fields`;
//! then comparison. Pure and synchronous: the live side is already read.

use std::borrow::Cow;
use std::collections::BTreeSet;

use rayon::prelude::*;
use serde_json::Value;

use plinth_vocab::labels::{LABEL_ASSET, LABEL_CLUSTER, LABEL_MANAGED_BY, MANAGED_BY_PLINTH};

use crate::core::compare::{Comparison, compare_client, version_note};
use crate::core::desired::DesiredObject;
use crate::core::live::LiveSet;
use crate::core::overrides::{self, OverrideProblem, Overrides};
use crate::core::ownership::Policy;
use crate::core::report::{ObjectResult, Status};
use plinth_vocab::ObjectRef;

/// What the pipeline decided for one desired object before comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The object's status is settled without a comparison (missing, unmanaged, paused,
    /// refused, invalid, error).
    Final(Status),
    /// Compare these two.
    Compare {
        effective_desired: Value,
        live: Value,
    },
}

/// One desired object after steps 1–4, with the outcome `O` of those steps.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluated<O> {
    pub key: ObjectRef,
    pub api_version: String,
    pub asset: Option<String>,
    pub outcome: O,
    pub notes: Vec<String>,
    pub stale_overrides: Vec<String>,
}

/// One desired object after steps 1–4, owning what is left to compare.
pub type Evaluation = Evaluated<Outcome>;

impl<O> Evaluated<O> {
    /// The same evaluation with its outcome turned by `f`.
    fn map<P>(self, f: impl FnOnce(O) -> P) -> Evaluated<P> {
        Evaluated {
            key: self.key,
            api_version: self.api_version,
            asset: self.asset,
            outcome: f(self.outcome),
            notes: self.notes,
            stale_overrides: self.stale_overrides,
        }
    }

    /// The object's result with `status` and what the comparison found.
    fn result(mut self, status: Status, found: Comparison) -> ObjectResult {
        self.notes.extend(found.notes);
        ObjectResult {
            key: self.key,
            api_version: self.api_version,
            asset: self.asset,
            status,
            changes: found.changes,
            pending_removal: found.pending_removal,
            managed: found.managed,
            notes: self.notes,
            stale_overrides: self.stale_overrides,
        }
    }
}

/// The status of a compared object.
fn compared(found: &Comparison) -> Status {
    if found.is_drift() {
        Status::Drifted
    } else {
        Status::InSync
    }
}

impl Evaluation {
    /// The object's result once compared (`found` is ignored for a final outcome).
    pub fn finish(self, found: Comparison) -> ObjectResult {
        match &self.outcome {
            Outcome::Final(status) => {
                let status = *status;
                self.result(status, Comparison::default())
            }
            Outcome::Compare { .. } => self.result(compared(&found), found),
        }
    }
}

/// Steps 1–4 for every desired object.
pub fn evaluate(desired: &[DesiredObject], live: &LiveSet, prefix: &str) -> Vec<Evaluation> {
    desired
        .iter()
        .map(|d| evaluate_one(d, live, prefix).into_owned())
        .collect()
}

/// [`Outcome`] borrowing the desired and live objects where no override changed them.
enum Step<'a> {
    Final(Status),
    Compare {
        effective: Cow<'a, Value>,
        live: Cow<'a, Value>,
    },
}

/// [`Evaluation`] with a borrowing [`Step`].
type Eval<'a> = Evaluated<Step<'a>>;

impl Eval<'_> {
    fn into_owned(self) -> Evaluation {
        self.map(|step| match step {
            Step::Final(status) => Outcome::Final(status),
            Step::Compare { effective, live } => Outcome::Compare {
                effective_desired: effective.into_owned(),
                live: live.into_owned(),
            },
        })
    }

    fn settle(mut self, problem: OverrideProblem) -> Self {
        let (status, message) = match problem {
            OverrideProblem::Invalid(m) => (Status::Invalid, m),
            OverrideProblem::Refused(m) => (Status::Refused, m),
        };
        self.notes.push(message);
        self.outcome = Step::Final(status);
        self
    }

    /// Compares client-side under `policy` and settles the result.
    fn finish_client_side(self, policy: &Policy) -> ObjectResult {
        let (status, found) = match &self.outcome {
            Step::Final(status) => (*status, Comparison::default()),
            Step::Compare { effective, live } => {
                let found = compare_client(effective, live, &self.key.kind, policy);
                (compared(&found), found)
            }
        };
        self.result(status, found)
    }
}

/// An override annotation that, when on, stops the comparison (step 2): `mode: unmanaged`,
/// `reconcile-paused: "true"`.
struct Switch<'a> {
    /// The annotation's name after the prefix.
    name: &'static str,
    value: Option<&'a str>,
    on: &'static str,
    off: &'static str,
    /// Whether the values are written quoted (YAML strings that look like booleans).
    quoted: bool,
    /// The object's status when the switch is on.
    status: Status,
}

impl Switch<'_> {
    /// `None` when the switch is off or absent; else the final status and its note (`invalid`
    /// for a value that is neither on nor off).
    fn check(&self, prefix: &str) -> Option<(Status, String)> {
        let shown = |v: &str| {
            if self.quoted {
                format!("\"{v}\"")
            } else {
                v.to_owned()
            }
        };
        let name = self.name;
        match self.value {
            None => None,
            Some(v) if v == self.off => None,
            Some(v) if v == self.on => Some((
                self.status,
                format!("`{prefix}/{name}: {}`: not compared", shown(v)),
            )),
            Some(other) => Some((
                Status::Invalid,
                format!(
                    "`{prefix}/{name}` is `{other}`; expected `{}` or `{}`",
                    shown(self.on),
                    shown(self.off)
                ),
            )),
        }
    }
}

fn evaluate_one<'a>(d: &'a DesiredObject, live: &'a LiveSet, prefix: &str) -> Eval<'a> {
    let key = d.key();
    let mut eval = Eval {
        key: key.clone(),
        api_version: d.index.api_version.clone(),
        asset: Some(d.index.asset.clone()),
        outcome: Step::Final(Status::Error),
        notes: Vec::new(),
        stale_overrides: Vec::new(),
    };
    // 1. missing (only where the listing succeeded; otherwise nothing can be said)
    let Some(live_obj) = live.objects.get(&key) else {
        if live.is_unserved(&key) {
            eval.outcome = Step::Final(Status::Missing);
            eval.notes.push(format!(
                "the cluster does not serve `{}` (CRD not installed?)",
                d.index.api_version
            ));
        } else if live.was_listed(&key) {
            eval.outcome = Step::Final(Status::Missing);
        } else {
            eval.notes.push(
                "the live object could not be read (its kind and namespace were not listed)".into(),
            );
        }
        return eval;
    };
    let o = Overrides::resolve(&d.value, live_obj, prefix);
    // 2. unmanaged, paused
    let switches = [
        Switch {
            name: "mode",
            value: o.mode.as_deref(),
            on: "unmanaged",
            off: "managed",
            quoted: false,
            status: Status::Unmanaged,
        },
        Switch {
            name: "reconcile-paused",
            value: o.paused.as_deref(),
            on: "true",
            off: "false",
            quoted: true,
            status: Status::Paused,
        },
    ];
    for switch in switches {
        if let Some((status, note)) = switch.check(prefix) {
            eval.notes.push(note);
            eval.outcome = Step::Final(status);
            return eval;
        }
    }
    // 3. patch
    let mut effective = Cow::Borrowed(&d.value);
    if let Some(text) = &o.patch {
        let applied = overrides::parse_patch(text, &key.kind, prefix)
            .and_then(|p| overrides::apply_patch(&effective, &p, prefix));
        match applied {
            Ok(patched) => {
                if patched == *effective {
                    eval.stale_overrides.push(format!(
                        "`{prefix}/patch` changes nothing in the desired object"
                    ));
                } else {
                    eval.notes.push(format!(
                        "`{prefix}/patch` applied (from the {} object)",
                        o.origin
                    ));
                }
                effective = Cow::Owned(patched);
            }
            Err(problem) => return eval.settle(problem),
        }
    }
    // 4. ignore-fields
    if let Some(text) = &o.ignore_fields {
        let result = overrides::parse_ignore_fields(text, prefix).and_then(|ptrs| {
            overrides::apply_ignore_fields(effective.to_mut(), live_obj, &ptrs, prefix, &key.kind)
        });
        match result {
            Ok(ignored) => {
                // Only the pointers that did something are noted as applied; the others are
                // stale, and only that.
                if !ignored.applied.is_empty() {
                    eval.notes.push(format!(
                        "`{prefix}/ignore-fields` applied: {}",
                        ignored.applied.join(", ")
                    ));
                }
                for p in ignored.stale {
                    eval.stale_overrides.push(format!(
                        "`{prefix}/ignore-fields`: `{p}` is absent in both desired and live"
                    ));
                }
            }
            Err(problem) => return eval.settle(problem),
        }
    }
    // 5. compare (at whatever version of the group live was read)
    eval.notes.extend(version_note(&effective, live_obj));
    // The gate's state is plinth's bookkeeping, never applied: a template that renders it
    // sets nothing.
    let history = format!("{prefix}/{GATE_HISTORY}");
    if effective
        .pointer("/metadata/annotations")
        .is_some_and(|a| a.get(&history).is_some())
        && let Some(annotations) = effective
            .to_mut()
            .pointer_mut("/metadata/annotations")
            .and_then(Value::as_object_mut)
    {
        annotations.remove(&history);
    }
    eval.outcome = Step::Compare {
        live: without_own_annotations(live_obj, &effective, prefix),
        effective,
    };
    eval
}

/// The annotations plinth reads or writes on a live object, after the prefix: the overrides a
/// person sets there, and the anti-thrashing gate's state.
pub const OWN_ANNOTATIONS: &[&str] = &[
    "mode",
    "reconcile-paused",
    "patch",
    "ignore-fields",
    GATE_HISTORY,
];

/// The anti-thrashing gate's state annotation, after the prefix.
pub const GATE_HISTORY: &str = "apply-history";

/// Whether the annotation `key` is one of plinth's own ([`OWN_ANNOTATIONS`] under `prefix`).
pub fn is_own_annotation(key: &str, prefix: &str) -> bool {
    key.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('/'))
        .is_some_and(|name| OWN_ANNOTATIONS.contains(&name))
}

/// `live` without plinth's own annotations ([`OWN_ANNOTATIONS`] under `prefix`) that
/// `desired` does not set: a person's override on the live object is read, never compared (it
/// is not drift, and an apply must never remove it); the gate's state is plinth's bookkeeping.
/// Borrowed when there are none (almost always).
pub fn without_own_annotations<'a>(
    live: &'a Value,
    desired: &Value,
    prefix: &str,
) -> Cow<'a, Value> {
    let own = |map: &Value| -> Vec<String> {
        map.as_object()
            .into_iter()
            .flat_map(|m| m.keys())
            .filter(|k| is_own_annotation(k, prefix))
            .cloned()
            .collect()
    };
    let Some(annotations) = live.pointer("/metadata/annotations") else {
        return Cow::Borrowed(live);
    };
    let desired_sets = desired.pointer("/metadata/annotations");
    let drop: Vec<String> = own(annotations)
        .into_iter()
        .filter(|k| desired_sets.and_then(|d| d.get(k)).is_none())
        .collect();
    if drop.is_empty() {
        return Cow::Borrowed(live);
    }
    let mut out = live.clone();
    if let Some(map) = out
        .pointer_mut("/metadata/annotations")
        .and_then(Value::as_object_mut)
    {
        for k in &drop {
            map.remove(k);
        }
        if map.is_empty()
            && let Some(meta) = out.get_mut("metadata").and_then(Value::as_object_mut)
        {
            meta.remove("annotations");
        }
    }
    Cow::Owned(out)
}

/// Live objects labelled as plinth's for `cluster` that are not rendered any more, whatever
/// their kind. Objects a controller derived from another one, copying its labels, are not
/// orphans of their own: those with `metadata.ownerReferences` (Pods, `ReplicaSet`s,
/// `EndpointSlice`s, ...) and the `Endpoints` of a rendered or live Service of the same name
/// (the endpoints controller copies the Service's labels and sets no owner).
pub fn orphans(desired: &[DesiredObject], live: &LiveSet, cluster: &str) -> Vec<ObjectResult> {
    let rendered: BTreeSet<ObjectRef> = desired.iter().map(DesiredObject::key).collect();
    let service_of = |key: &ObjectRef| ObjectRef {
        group: String::new(),
        kind: "Service".to_owned(),
        namespace: key.namespace.clone(),
        name: key.name.clone(),
    };
    let derived = |key: &ObjectRef, obj: &Value| {
        let owned = obj
            .pointer("/metadata/ownerReferences")
            .and_then(Value::as_array)
            .is_some_and(|owners| !owners.is_empty());
        let endpoints_of_a_service = key.group.is_empty() && key.kind == "Endpoints" && {
            let service = service_of(key);
            rendered.contains(&service) || live.objects.contains_key(&service)
        };
        owned || endpoints_of_a_service
    };
    live.objects
        .iter()
        .filter(|(key, obj)| {
            let label = |name: &str| {
                obj.pointer("/metadata/labels")
                    .and_then(|l| l.get(name))
                    .and_then(Value::as_str)
            };
            !rendered.contains(*key)
                && label(LABEL_MANAGED_BY) == Some(MANAGED_BY_PLINTH)
                && label(LABEL_CLUSTER) == Some(cluster)
                && !derived(key, obj)
        })
        .map(|(key, obj)| ObjectResult {
            key: key.clone(),
            api_version: obj
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            asset: obj
                .pointer("/metadata/labels")
                .and_then(|l| l.get(LABEL_ASSET))
                .and_then(Value::as_str)
                .map(str::to_owned),
            status: Status::Orphaned,
            changes: Vec::new(),
            pending_removal: Vec::new(),
            managed: Vec::new(),
            notes: vec![
                "carries plinth's labels for this cluster but is no longer rendered".into(),
            ],
            stale_overrides: Vec::new(),
        })
        .collect()
}

/// The whole client-side run: evaluate, compare each object client-side, add orphans.
/// Ownership is judged under the default [`Policy`] ([`run_client_side_with`] takes one).
pub fn run_client_side(
    desired: &[DesiredObject],
    live: &LiveSet,
    prefix: &str,
    cluster: &str,
) -> Vec<ObjectResult> {
    run_client_side_with(desired, live, prefix, cluster, &Policy::default())
}

/// [`run_client_side`] judging ownership under `policy` (the managers of `plinth.yaml`).
pub fn run_client_side_with(
    desired: &[DesiredObject],
    live: &LiveSet,
    prefix: &str,
    cluster: &str,
    policy: &Policy,
) -> Vec<ObjectResult> {
    // Objects are independent: evaluate and compare them on every core, keeping their order.
    let mut results: Vec<ObjectResult> = desired
        .par_iter()
        .map(|d| evaluate_one(d, live, prefix).finish_client_side(policy))
        .collect();
    results.extend(orphans(desired, live, cluster));
    results
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::{Value, json};

    use super::*;
    use crate::core::desired;

    const P: &str = "platform.kubevirt.io";

    fn deployment(replicas: i64, annotations: &Value) -> Value {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "d", "namespace": "ns", "annotations": annotations},
            "spec": {"replicas": replicas}
        })
    }

    fn live_set(objects: &[Value], listed: &[DesiredObject]) -> LiveSet {
        let mut live = LiveSet::default();
        for o in objects {
            live.objects.insert(ObjectRef::of(o).unwrap(), o.clone());
        }
        for d in listed {
            live.listed.insert(d.key().listing());
        }
        live
    }

    #[test]
    fn an_object_whose_kind_was_not_listed_is_an_error_not_missing() {
        let d = desired::from_values([deployment(1, &json!({}))], "a");
        let results = run_client_side(&d, &LiveSet::default(), P, "c");
        assert_eq!(results[0].status, Status::Error);
        let mut live = LiveSet::default();
        live.unserved.insert(("apps".into(), "Deployment".into()));
        let results = run_client_side(&d, &live, P, "c");
        assert_eq!(results[0].status, Status::Missing);
        assert!(
            results[0].notes[0].contains("does not serve"),
            "{:?}",
            results[0].notes
        );
        let results = run_client_side(&d, &live_set(&[], &d), P, "c");
        assert_eq!(results[0].status, Status::Missing);
    }

    #[test]
    fn a_live_object_at_another_version_of_its_group_is_the_same_object() {
        let vm = |api_version: &str| {
            json!({"apiVersion": api_version, "kind": "VirtualMachine",
                "metadata": {"name": "vm", "namespace": "ns"}, "spec": {"running": true}})
        };
        let d = desired::from_values([vm("kubevirt.io/v1alpha3")], "a");
        let live = live_set(&[vm("kubevirt.io/v1")], &d);
        let result = &run_client_side(&d, &live, P, "c")[0];
        assert_eq!(result.status, Status::InSync, "{result:?}");
        assert_eq!(result.api_version, "kubevirt.io/v1alpha3");
        assert_eq!(
            result.notes,
            ["compared `kubevirt.io/v1alpha3` (desired) with `kubevirt.io/v1` (live)"]
        );
        // The same version: no note.
        let live = live_set(&[vm("kubevirt.io/v1alpha3")], &d);
        assert!(run_client_side(&d, &live, P, "c")[0].notes.is_empty());
    }

    /// An override a person put on the live object with `kubectl annotate` (after plinth's
    /// last apply: otherwise a live-only annotation by a drift manager is drift), and the
    /// gate's state, are read, never compared; another annotation added so is drift.
    #[test]
    fn own_annotations_on_the_live_object_are_never_drift() {
        let d = desired::from_values([deployment(1, &json!({}))], "a");
        let managed = json!([
            {"manager": "plinth", "operation": "Apply", "time": "2026-11-01T00:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}},
            {"manager": "kubectl-annotate", "operation": "Update", "time": "2026-11-02T00:00:00Z",
             "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:annotations": {
                ".": {}, "f:platform.kubevirt.io/ignore-fields": {}, "f:platform.kubevirt.io/apply-history": {},
                "f:team": {}}}}}
        ]);
        let live_with = |annotations: Value| {
            let mut live = deployment(1, &annotations);
            live["metadata"]["managedFields"] = managed.clone();
            live_set(&[live], &d)
        };
        let own = json!({"platform.kubevirt.io/ignore-fields": "/spec/paused",
            "platform.kubevirt.io/apply-history": "v1 t=0 1"});
        let result = &run_client_side(&d, &live_with(own.clone()), P, "c")[0];
        assert_eq!(result.status, Status::InSync, "{result:#?}");
        assert!(result.pending_removal.is_empty() && result.managed.is_empty());
        // A template that renders the gate's state sets nothing: in sync whatever live holds.
        let rendered = desired::from_values(
            [deployment(
                1,
                &json!({"platform.kubevirt.io/apply-history": "v1 t=9 0"}),
            )],
            "a",
        );
        let mut live = deployment(1, &own);
        live["metadata"]["managedFields"] = managed.clone();
        let result = &run_client_side(&rendered, &live_set(&[live], &rendered), P, "c")[0];
        assert_eq!(result.status, Status::InSync, "{result:#?}");
        let mut other = own;
        other["team"] = json!("x");
        let result = &run_client_side(&d, &live_with(other), P, "c")[0];
        assert_eq!(result.status, Status::Drifted, "{result:#?}");
        // The annotations map is `kubectl-annotate`'s (it created it): reported whole,
        // without plinth's own annotations.
        let found: Vec<(&str, Option<&Value>)> = result
            .changes
            .iter()
            .map(|c| (c.pointer.as_str(), c.after.as_ref()))
            .collect();
        assert_eq!(
            found,
            [("/metadata/annotations", Some(&json!({"team": "x"})))]
        );
    }

    #[test]
    fn the_prefix_is_configurable() {
        let d = desired::from_values([deployment(1, &json!({}))], "a");
        let live = deployment(5, &json!({"example.com/mode": "unmanaged"}));
        let live = live_set(&[live], &d);
        assert_eq!(
            run_client_side(&d, &live, P, "c")[0].status,
            Status::Drifted
        );
        assert_eq!(
            run_client_side(&d, &live, "example.com", "c")[0].status,
            Status::Unmanaged
        );
    }

    #[test]
    fn evaluate_yields_the_effective_desired_object() {
        let d = desired::from_values([deployment(1, &json!({}))], "a");
        let patch = r#"[{"op": "replace", "path": "/spec/replicas", "value": 4}]"#;
        let live = deployment(4, &json!({"platform.kubevirt.io/patch": patch}));
        let evals = evaluate(&d, &live_set(std::slice::from_ref(&live), &d), P);
        let Outcome::Compare {
            effective_desired,
            live: l,
        } = &evals[0].outcome
        else {
            panic!("{:?}", evals[0].outcome);
        };
        assert_eq!(effective_desired["spec"]["replicas"], 4);
        // Compared with live without plinth's own annotations (the override read from it).
        let mut compared = live.clone();
        compared["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("annotations");
        assert_eq!(l, &compared);
    }

    #[test]
    fn orphans_are_of_any_kind_but_not_objects_derived_from_others() {
        let ours = json!({"app.kubernetes.io/managed-by": "plinth", "plinth.dev/cluster": "c"});
        let obj = |av: &str, kind: &str, name: &str, extra: Value| {
            let mut o = json!({"apiVersion": av, "kind": kind,
                "metadata": {"name": name, "namespace": "ns", "labels": ours}});
            if let (Some(meta), Value::Object(extra)) = (o["metadata"].as_object_mut(), extra) {
                meta.extend(extra);
            }
            o
        };
        let owner = json!({"ownerReferences": [{"apiVersion": "v1", "kind": "Service", "name": "web", "uid": "u"}]});
        let d = desired::from_values([obj("v1", "Service", "web", json!({}))], "a");
        let live = live_set(
            &[
                obj("v1", "Service", "web", json!({})),
                obj("v1", "Endpoints", "web", json!({})),
                obj("discovery.k8s.io/v1", "EndpointSlice", "web-x1", owner),
                obj("v1", "Service", "old", json!({})),
                obj("v1", "Endpoints", "old", json!({})),
                obj("v1", "Endpoints", "manual", json!({})),
                obj("kubevirt.io/v1", "VirtualMachine", "vm", json!({})),
            ],
            &d,
        );
        let names: Vec<String> = orphans(&d, &live, "c")
            .iter()
            .map(|o| o.key.to_string())
            .collect();
        assert_eq!(
            names,
            [
                "Endpoints/ns/manual",
                "Service/ns/old",
                "VirtualMachine.kubevirt.io/ns/vm"
            ]
        );
    }

    proptest! {
        /// `patch` runs before `ignore-fields`: a field both patched and ignored takes the live
        /// value, so it is never drift; patched alone, it is drift exactly when the patched
        /// value differs from live.
        #[test]
        fn patch_then_ignore_fields(desired_n in 0i64..5, patched in 0i64..5, live_n in 0i64..5, ignore in any::<bool>()) {
            let d = desired::from_values([deployment(desired_n, &json!({}))], "a");
            let patch = format!(r#"[{{"op": "replace", "path": "/spec/replicas", "value": {patched}}}]"#);
            let mut annotations = json!({"platform.kubevirt.io/patch": patch});
            if ignore {
                annotations["platform.kubevirt.io/ignore-fields"] = json!("/spec/replicas");
            }
            let live = live_set(&[deployment(live_n, &annotations)], &d);
            let result = &run_client_side(&d, &live, P, "c")[0];
            let expected = if ignore || patched == live_n { Status::InSync } else { Status::Drifted };
            prop_assert_eq!(result.status, expected);
            let evals = evaluate(&d, &live, P);
            if let Outcome::Compare { effective_desired, .. } = &evals[0].outcome {
                let want = if ignore { live_n } else { patched };
                prop_assert_eq!(&effective_desired["spec"]["replicas"], &json!(want));
            }
            // A patch that sets what was rendered anyway is reported as stale.
            prop_assert_eq!(result.stale_overrides.iter().any(|s| s.contains("changes nothing")), patched == desired_n);
        }
    }
}
