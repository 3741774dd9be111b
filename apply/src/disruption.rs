//! The disruption gate: "an unattended apply must not reboot a node pool at 3 pm". A step
//! whose change the PR preview's classifier ([`plinth_review::disruption::classify`]) calls
//! disruptive — node reboots, server replacement, VM re-provisioning or restarts, platform-wide
//! changes: every effect but a workload rollout — is made only while a maintenance window
//! ([`crate::window`]) is open, or with `--allow-disruption`; otherwise it is **held**: nothing
//! written (no gate token spent, no throttled run counted), its reason the classifier's message
//! and the next window.
//!
//! The classifier sees what preview sees, a change from one object to another: for a create
//! (`added`) the apply body, for a prune (`removed`) the live object, and for a configure
//! (`changed`) the live object before and the live object as the apply leaves it after
//! ([`as_applied`]: drift's changes made, what others added removed) — not the apply body,
//! which lacks everything the server and controllers fill in (status, defaults), so it would
//! differ from any live object; base = the live objects, head = the rendered ones. So
//! `plinth diff` and `plinth apply` agree on what is disruptive.

use plinth_drift::core::desired::DesiredObject;
use plinth_drift::core::live::LiveSet;
use plinth_renderer::render::RenderedObject;
use plinth_review::change::ObjectChange;
use plinth_review::disruption::{Disruption, Effect, classify};
use plinth_vocab::change::FieldChange;
use plinth_vocab::labels::LABEL_ASSET;
use plinth_vocab::{ObjectRef, pointer};
use serde_json::Value;

use crate::removal;
use crate::window::{self, Verdict, Window};

/// What the gate says of one step's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Not disruptive: go ahead.
    Go,
    /// Disruptive, but a window is open or `--allow-disruption` was given: go ahead, with
    /// this note.
    Noted(String),
    /// Disruptive, and no window open: hold it, for this reason, until `next` (seconds since
    /// the epoch; none when no window is configured or none opens again).
    Hold { reason: String, next: Option<i64> },
}

/// When disruptive changes may be made: the windows, the flag, the cluster and the time.
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// The maintenance windows of the cluster.
    pub windows: &'a [Window],
    /// `--allow-disruption`.
    pub allow: bool,
    /// The cluster, for the reason of a hold.
    pub cluster: &'a str,
    /// The run's time, seconds since the epoch.
    pub now: i64,
}

/// The disruption gate of one plan: its rules, and what the classifier compares.
pub struct Gate<'a> {
    live: &'a LiveSet,
    desired: &'a [DesiredObject],
    rules: Rules<'a>,
    /// The live (base) and rendered (head) objects, gathered for the first change judged.
    sides: Option<(Vec<RenderedObject>, Vec<RenderedObject>)>,
    verdict: Option<Verdict>,
}

impl<'a> Gate<'a> {
    /// The gate of a plan from `live` to `desired` under `rules`.
    pub fn new(live: &'a LiveSet, desired: &'a [DesiredObject], rules: Rules<'a>) -> Self {
        Self {
            live,
            desired,
            rules,
            sides: None,
            verdict: None,
        }
    }

    /// The disruptions (rollouts left out) of the change of `key` to `after` (the apply
    /// body; none for a delete), the live object being before.
    pub fn disruptions(
        &mut self,
        change: ObjectChange,
        key: &ObjectRef,
        after: Option<&Value>,
    ) -> Vec<Disruption> {
        let before = match change {
            ObjectChange::Added => None,
            _ => self.live.objects.get(key),
        };
        let (base, head) = self
            .sides
            .get_or_insert_with(|| sides(self.live, self.desired));
        classify(change, before, after, base, head)
            .into_iter()
            .filter(|d| d.effect != Effect::Rollout)
            .collect()
    }

    /// Whether the change of `key` to `after` goes ahead now.
    pub fn judge(
        &mut self,
        change: ObjectChange,
        key: &ObjectRef,
        after: Option<&Value>,
    ) -> Judgement {
        let found = self.disruptions(change, key, after);
        if found.is_empty() {
            return Judgement::Go;
        }
        let what: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        let what = what.join("; ");
        if self.rules.allow {
            return Judgement::Noted(format!(
                "disruptive, applied with `--allow-disruption`: {what}"
            ));
        }
        let Rules {
            windows,
            cluster,
            now,
            ..
        } = self.rules;
        let (held, next) = match self
            .verdict
            .get_or_insert_with(|| window::verdict(windows, now))
        {
            Verdict::Open => {
                return Judgement::Noted(format!(
                    "disruptive, applied inside a maintenance window: {what}"
                ));
            }
            Verdict::NoWindows => (
                format!("held: no maintenance window configured for cluster `{cluster}`"),
                None,
            ),
            Verdict::Closed { next: Some(next) } => (
                format!("held until the maintenance window {}", next.shown),
                Some(next.at),
            ),
            Verdict::Closed { next: None } => (
                format!("held: no maintenance window of cluster `{cluster}` opens again"),
                None,
            ),
        };
        Judgement::Hold {
            reason: format!("{what}; {held}; --allow-disruption applies it now"),
            next,
        }
    }
}

/// `live` as an apply leaves it: each of drift's `changes` (desired value at its pointer, a
/// live-only field removed) made, except a rollout restart's mark, which an apply leaves
/// ([`crate::removal::is_restart`]). What the classifier compares with `live` for a
/// configured object.
pub fn as_applied(live: &Value, changes: &[FieldChange]) -> Value {
    let mut out = live.clone();
    for change in changes.iter().filter(|c| !removal::is_restart(c)) {
        let path = pointer::segments(&change.pointer);
        let Some((last, parent)) = path.split_last() else {
            continue;
        };
        let Some(parent) = parent_at(&mut out, parent, change.before.is_some()) else {
            continue;
        };
        match (parent, &change.before) {
            (Value::Object(map), Some(desired)) => {
                map.insert(last.clone(), desired.clone());
            }
            (Value::Object(map), None) => {
                map.remove(last);
            }
            (Value::Array(items), desired) => match (last.parse::<usize>(), desired) {
                (Ok(i), Some(d)) if i < items.len() => items[i] = d.clone(),
                (Ok(_), Some(d)) => items.push(d.clone()),
                (Ok(i), None) if i < items.len() => {
                    items.remove(i);
                }
                _ => {}
            },
            _ => {}
        }
    }
    out
}

/// The value at `path` in `root`; with `create`, missing maps on the way are created.
fn parent_at<'v>(root: &'v mut Value, path: &[String], create: bool) -> Option<&'v mut Value> {
    let mut at = root;
    for seg in path {
        at = match at {
            Value::Object(map) => {
                if create {
                    map.entry(seg.clone())
                        .or_insert_with(|| Value::Object(serde_json::Map::new()))
                } else {
                    map.get_mut(seg)?
                }
            }
            Value::Array(items) => items.get_mut(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(at)
}

/// The live objects (base) and the rendered ones (head) as the classifier takes them.
fn sides(live: &LiveSet, desired: &[DesiredObject]) -> (Vec<RenderedObject>, Vec<RenderedObject>) {
    let base = live
        .objects
        .iter()
        .map(|(key, value)| RenderedObject {
            asset: value
                .pointer("/metadata/labels")
                .and_then(|l| l.get(LABEL_ASSET))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            wave: 0,
            identity: key.clone(),
            value: value.clone(),
        })
        .collect();
    let head = desired
        .iter()
        .map(|d| RenderedObject {
            asset: d.index.asset.clone(),
            wave: d.index.wave,
            identity: d.key(),
            value: d.value.clone(),
        })
        .collect();
    (base, head)
}

#[cfg(test)]
mod tests {
    use plinth_drift::core::desired;
    use plinth_drift::core::pipeline::run_client_side;
    use plinth_renderer::settings::{MaintenanceWindow, Throttle};
    use plinth_vocab::labels::ANNOTATION_REPLACEMENT_KEY;
    use serde_json::json;

    use super::*;
    use crate::outcome::Outcome;
    use crate::plan::{Action, Plan, PlanInput, PlanOptions, Step, plan};
    use crate::window::{Origin, parse};

    const PREFIX: &str = "platform.kubevirt.io";
    /// Thursday 2026-12-03 12:00 UTC.
    const THURSDAY_NOON: i64 = 1_796_299_200;

    /// The weekend window of the brief: Saturday and Sunday from 02:00 Berlin time, 4 hours.
    fn weekend() -> Vec<Window> {
        windows("0 2 * * sat,sun", "4h", "Europe/Berlin")
    }

    fn windows(schedule: &str, duration: &str, zone: &str) -> Vec<Window> {
        let spec = MaintenanceWindow {
            schedule: schedule.into(),
            duration: duration.into(),
            time_zone: Some(zone.into()),
        };
        parse(
            &[spec],
            Origin {
                file: "plinth.yaml",
                field: "apply.maintenanceWindows",
            },
        )
        .expect("the window parses")
    }

    /// `plinth apply` of cluster `c` without flags, at Thursday noon, with `windows`.
    fn options(windows: Vec<Window>) -> PlanOptions {
        PlanOptions {
            adopt: false,
            prune: true,
            prune_namespaces: false,
            prune_crds: false,
            force_conflicts: false,
            prefix: PREFIX.into(),
            cluster: "c".into(),
            throttle: Throttle::default(),
            now: THURSDAY_NOON,
            allow_disruption: false,
            maintenance_windows: windows,
        }
    }

    /// An object of cluster `c` with plinth's labels (and those of `extra`).
    fn obj(api_version: &str, kind: &str, at: (Option<&str>, &str), extra: &Value) -> Value {
        let (namespace, name) = at;
        let mut o = json!({"apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "labels": {"app.kubernetes.io/managed-by": "plinth",
                "plinth.dev/cluster": "c", "plinth.dev/asset": "a"}}});
        if let Some(ns) = namespace {
            o["metadata"]["namespace"] = json!(ns);
        }
        if let (Some(o), Some(extra)) = (o.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                if k == "metadata" {
                    for (mk, mv) in v.as_object().into_iter().flatten() {
                        o["metadata"][mk] = mv.clone();
                    }
                } else {
                    o.insert(k.clone(), v.clone());
                }
            }
        }
        o
    }

    fn machine_config(name: &str, config: &str) -> Value {
        obj(
            "machineconfiguration.openshift.io/v1",
            "MachineConfig",
            (None, name),
            &json!({"metadata": {"labels": {"machineconfiguration.openshift.io/role": "worker",
                "app.kubernetes.io/managed-by": "plinth", "plinth.dev/cluster": "c",
                "plinth.dev/asset": "a"}},
                "spec": {"config": {"storage": {"files": [{"path": config}]}}}}),
        )
    }

    /// The plan of `desired` against `live` (every kind of both listed) with `options`.
    fn plan_of(desired: Vec<Value>, live: Vec<Value>, options: &PlanOptions) -> Plan {
        let desired = desired::from_values(desired, "a");
        let mut set = LiveSet::default();
        for o in live {
            let key = ObjectRef::of(&o).expect("a key");
            set.listed.insert(key.listing());
            set.objects.insert(key, o);
        }
        for d in &desired {
            set.listed.insert(d.key().listing());
        }
        let results = run_client_side(&desired, &set, PREFIX, "c");
        plan(
            PlanInput {
                results: &results,
                desired: &desired,
                live: &set,
            },
            options,
        )
    }

    fn step<'p>(plan: &'p Plan, name: &str) -> &'p Step {
        plan.steps
            .iter()
            .find(|s| s.key.name == name)
            .unwrap_or_else(|| panic!("{name} not in {plan:#?}"))
    }

    /// The step of `name` in `plan`, held for a reason that starts with `reason`.
    fn held_for<'p>(plan: &'p Plan, name: &str, reason: &str) -> &'p Step {
        let s = step(plan, name);
        assert_eq!(s.action, Action::Hold, "{s:#?}");
        let got = s.reason.as_deref().unwrap_or_default();
        assert!(got.starts_with(reason), "{got}");
        s
    }

    #[test]
    fn a_machine_config_change_is_held_outside_the_window_and_applied_inside_or_when_allowed() {
        let desired = vec![machine_config("99-worker-x", "/etc/b")];
        let live = vec![machine_config("99-worker-x", "/etc/a")];
        let held = plan_of(desired.clone(), live.clone(), &options(weekend()));
        let s = step(&held, "99-worker-x");
        assert_eq!(s.action, Action::Hold);
        assert_eq!(
            s.reason.as_deref(),
            Some(
                "reboots the nodes of pool `worker`: MachineConfig `99-worker-x` changed; held until the maintenance window 2026-12-05 02:00 Europe/Berlin (in 1d 13h); --allow-disruption applies it now"
            )
        );
        // Nothing written: no apply, no gate annotation (no token spent); the body is kept to
        // confirm by a dry-run that the server would change it.
        assert_eq!(
            (s.body.as_ref(), s.annotations.len(), s.writes()),
            (None, 0, 0)
        );
        assert!(s.confirm.is_some() && s.throttle.is_none());
        let o = s.to_outcome();
        assert_eq!(o.outcome, Outcome::Held);
        assert_eq!(o.next_window.as_deref(), Some("2026-12-05T01:00:00Z"));
        assert_eq!(held.writes(), 0);

        // Saturday 03:00 Berlin: inside the window.
        let inside = PlanOptions {
            now: THURSDAY_NOON + 38 * 3600,
            ..options(weekend())
        };
        let s = step(
            &plan_of(desired.clone(), live.clone(), &inside),
            "99-worker-x",
        )
        .clone();
        assert_eq!(s.action, Action::Configure);
        assert!(s.body.is_some() && !s.annotations.is_empty());
        assert!(
            s.notes
                .iter()
                .any(|n| n.starts_with("disruptive, applied inside a maintenance window: reboots")),
            "{:?}",
            s.notes
        );

        let allowed = PlanOptions {
            allow_disruption: true,
            ..options(Vec::new())
        };
        let s = step(&plan_of(desired, live, &allowed), "99-worker-x").clone();
        assert_eq!(s.action, Action::Configure);
        assert!(s.notes.iter().any(|n| n.contains("`--allow-disruption`")));
    }

    #[test]
    fn no_window_configured_holds_and_says_so() {
        let p = plan_of(
            vec![machine_config("99-worker-x", "/etc/b")],
            vec![machine_config("99-worker-x", "/etc/a")],
            &options(Vec::new()),
        );
        let s = step(&p, "99-worker-x");
        assert_eq!(s.action, Action::Hold);
        assert!(
            s.reason
                .as_deref()
                .is_some_and(|r| r.ends_with("; held: no maintenance window configured for cluster `c`; --allow-disruption applies it now")),
            "{:?}",
            s.reason
        );
        assert_eq!(s.to_outcome().next_window, None);
    }

    #[test]
    fn a_pod_template_change_is_a_rollout_never_held() {
        let deployment = |image: &str| {
            obj(
                "apps/v1",
                "Deployment",
                (Some("shop"), "web"),
                &json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": image}]}}}}),
            )
        };
        let p = plan_of(
            vec![deployment("b")],
            vec![deployment("a")],
            &options(weekend()),
        );
        let s = step(&p, "web");
        assert_eq!(s.action, Action::Configure);
        assert!(s.notes.iter().all(|n| !n.contains("disruptive")));
    }

    #[test]
    fn a_hyperconverged_change_is_held() {
        let hco = |n: i64| {
            obj(
                "hco.kubevirt.io/v1beta1",
                "HyperConverged",
                (Some("openshift-cnv"), "kubevirt-hyperconverged"),
                &json!({"spec": {"liveMigrationConfig": {"parallelMigrationsPerCluster": n}}}),
            )
        };
        let p = plan_of(vec![hco(5)], vec![hco(10)], &options(weekend()));
        held_for(
            &p,
            "kubevirt-hyperconverged",
            "touches the whole virtualization platform: HyperConverged `openshift-cnv/kubevirt-hyperconverged` changed; held until",
        );
    }

    /// Restoring plinth's labels on a MachineConfig that otherwise matches (the server filled
    /// in `status` and a default the body does not carry) changes nothing the operator reads:
    /// not held. The classifier compares the live object with itself as the apply leaves it,
    /// not with the apply body.
    #[test]
    fn a_label_restore_on_a_machine_config_is_not_held() {
        let desired = machine_config("99-worker-x", "/etc/a");
        let mut live = desired.clone();
        live["metadata"]["labels"] = json!({"machineconfiguration.openshift.io/role": "worker"});
        live["metadata"]["managedFields"] = json!([{"manager": "plinth", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {}}]);
        live["spec"]["fips"] = json!(false);
        live["status"] = json!({"observedGeneration": 3});
        let p = plan_of(vec![desired], vec![live], &options(weekend()));
        let s = step(&p, "99-worker-x");
        assert_eq!(s.action, Action::Configure, "{s:#?}");
        assert!(
            s.notes
                .iter()
                .any(|n| n.contains("were removed or changed: restored"))
        );
        assert!(s.notes.iter().all(|n| !n.contains("disruptive")));
    }

    #[test]
    fn as_applied_makes_drifts_changes_and_leaves_a_restart() {
        let live = json!({"metadata": {"labels": {"team": "x", "keep": "y"}},
            "spec": {"groups": [{"name": "a"}, {"name": "b"}], "n": 10,
                "template": {"metadata": {"annotations": {removal::RESTARTED_AT: "t"}}}},
            "status": {"phase": "Up"}});
        let change = |pointer: &str, desired: Option<Value>, live: Option<Value>| {
            FieldChange::new(pointer.to_owned(), desired, live)
        };
        let applied = as_applied(
            &live,
            &[
                change("/spec/n", Some(json!(5)), Some(json!(10))),
                change("/metadata/labels/team", None, Some(json!("x"))),
                change("/spec/groups/1", None, Some(json!({"name": "b"}))),
                change("/spec/groups/2", Some(json!({"name": "c"})), None),
                change("/spec/new/deep", Some(json!(true)), None),
                change(
                    "/spec/template/metadata/annotations",
                    None,
                    Some(json!({removal::RESTARTED_AT: "t"})),
                ),
            ],
        );
        assert_eq!(
            applied,
            json!({"metadata": {"labels": {"keep": "y"}},
                "spec": {"groups": [{"name": "a"}, {"name": "c"}], "n": 5, "new": {"deep": true},
                    "template": {"metadata": {"annotations": {removal::RESTARTED_AT: "t"}}}},
                "status": {"phase": "Up"}})
        );
    }

    #[test]
    fn a_machine_class_is_held_only_when_its_replacement_key_changes() {
        let class = |key: &str, image: &str, label: &str| {
            obj(
                "machine.sapcloud.io/v1alpha1",
                "MachineClass",
                (Some("mcm"), "w1"),
                &json!({"metadata": {"annotations": {ANNOTATION_REPLACEMENT_KEY: key}},
                    "providerSpec": {"imageId": image, "labels": {"x": label}}}),
            )
        };
        let same_key = plan_of(
            vec![class("k1", "i1", "b")],
            vec![class("k1", "i1", "a")],
            &options(weekend()),
        );
        assert_eq!(step(&same_key, "w1").action, Action::Configure);
        let new_key = plan_of(
            vec![class("k2", "i2", "a")],
            vec![class("k1", "i1", "a")],
            &options(weekend()),
        );
        held_for(
            &new_key,
            "w1",
            "replaces the servers of pool `w1`: the replacement key of MachineClass `mcm/w1` changed (changed: `providerSpec.imageId`);",
        );
    }

    #[test]
    fn a_missing_machine_config_and_the_prune_of_one_are_held() {
        let p = plan_of(
            vec![machine_config("99-worker-new", "/etc/a")],
            vec![machine_config("99-worker-old", "/etc/a")],
            &options(weekend()),
        );
        let created = held_for(
            &p,
            "99-worker-new",
            "reboots the nodes of pool `worker`: MachineConfig `99-worker-new` added;",
        );
        // Nothing to confirm: the object does not exist.
        assert!(created.confirm.is_none());
        held_for(
            &p,
            "99-worker-old",
            "reboots the nodes of pool `worker`: MachineConfig `99-worker-old` removed;",
        );
        assert_eq!(p.writes(), 0);
        // The held steps keep their place in the plan's order: the prune last.
        assert_eq!(
            p.steps.last().map(|s| s.key.name.as_str()),
            Some("99-worker-old")
        );
    }

    #[test]
    fn a_throttled_disruptive_change_is_held_without_counting_a_throttled_run() {
        let throttled = PlanOptions {
            throttle: Throttle {
                capacity: 0,
                ..Throttle::default()
            },
            ..options(weekend())
        };
        let desired = vec![machine_config("99-worker-x", "/etc/b")];
        let live = vec![machine_config("99-worker-x", "/etc/a")];
        let allowed = PlanOptions {
            allow_disruption: true,
            ..throttled.clone()
        };
        // Allowed, the gate throttles it and writes its annotations.
        let s = step(
            &plan_of(desired.clone(), live.clone(), &allowed),
            "99-worker-x",
        )
        .clone();
        assert_eq!(s.action, Action::Throttle);
        assert!(!s.annotations.is_empty());
        // Held: the gate's annotations are not written.
        let p = plan_of(desired, live, &throttled);
        let s = step(&p, "99-worker-x");
        assert_eq!(s.action, Action::Hold);
        assert!(s.annotations.is_empty() && s.events.is_empty());
        assert!(s.confirm.is_some());
    }

    /// The example's `plain-west` against its live snapshot, `--prune`: the objects apply
    /// holds are exactly those the PR preview's classifier calls disruptive (rollouts aside),
    /// given each changed object's live and rendered values.
    #[test]
    fn apply_holds_what_the_preview_calls_disruptive_in_the_example() {
        use plinth_drift::core::report::Status;
        use plinth_drift::source::snapshot;
        use plinth_renderer::{Fleet, Source};
        use std::collections::BTreeSet;

        // The example's settings are the defaults (prefix, managers).
        const CLUSTER: &str = "plain-west";
        let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet");
        let rendered = Fleet::open(Source::dir(&example).expect("the example"))
            .and_then(|f| f.render_cluster(CLUSTER))
            .expect("the example renders");
        let mut desired =
            desired::from_rendered(&rendered, &plinth_renderer::settings::Settings::default());
        let snapshot_dir = example.join("live").join(CLUSTER);
        let live = snapshot::load_for(&snapshot_dir, &mut desired, None).expect("the snapshot");
        let results = run_client_side(&desired, &live, PREFIX, CLUSTER);
        let options = PlanOptions {
            cluster: CLUSTER.into(),
            ..options(weekend())
        };
        let p = plan(
            PlanInput {
                results: &results,
                desired: &desired,
                live: &live,
            },
            &options,
        );
        let held: BTreeSet<ObjectRef> = p
            .steps
            .iter()
            .filter(|s| s.action == Action::Hold)
            .map(|s| s.key.clone())
            .collect();

        // What the preview says of the same changes: the rendered object against the live one.
        let rendered_side: Vec<RenderedObject> = rendered.objects.clone();
        let base: Vec<RenderedObject> = live
            .objects
            .iter()
            .map(|(key, value)| RenderedObject {
                asset: String::new(),
                wave: 0,
                identity: key.clone(),
                value: value.clone(),
            })
            .collect();
        let by_key: std::collections::BTreeMap<ObjectRef, &Value> =
            desired.iter().map(|d| (d.key(), &d.value)).collect();
        let disruptive: BTreeSet<ObjectRef> = results
            .iter()
            .filter_map(|r| {
                let change = match r.status {
                    Status::Missing => ObjectChange::Added,
                    Status::Drifted => ObjectChange::Changed,
                    Status::Orphaned => ObjectChange::Removed,
                    _ => return None,
                };
                let before = live.objects.get(&r.key);
                let after = by_key.get(&r.key).copied();
                let found = classify(change, before, after, &base, &rendered_side);
                found
                    .iter()
                    .any(|d| d.effect != Effect::Rollout)
                    .then(|| r.key.clone())
            })
            .collect();
        let names =
            |set: &BTreeSet<ObjectRef>| set.iter().map(ToString::to_string).collect::<Vec<_>>();
        assert_eq!(names(&held), names(&disruptive));
        // The example's planted drift: the HyperConverged changed, a MachineConfig missing.
        assert_eq!(
            names(&held),
            [
                "HyperConverged.hco.kubevirt.io/openshift-cnv/kubevirt-hyperconverged",
                "MachineConfig.machineconfiguration.openshift.io/99-openshift-machineconfig-worker-psi-karg",
            ]
        );
    }
}
