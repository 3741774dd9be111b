//! The apply plan: from a drift run's per-object results, the rendered objects and the live
//! ones, what `plinth apply` will do with each object before it writes anything, in reconcile
//! order (then the prune candidates, in prune order). Pure: no I/O; `now` is an option.
//!
//! Fail-closed: only rendered objects are ever applied; a live object plinth did not create
//! (no plinth labels for the cluster and no `managedFields` entry of manager `plinth`) is
//! skipped unless `adopt`; only orphans that carry all of plinth's labels for the cluster, of
//! kinds whose listing raised no warning, are pruned, and only with `prune`.

use std::collections::BTreeMap;

use json_patch::jsonptr::PointerBuf;
use serde_json::{Map, Value, json};

use plinth_drift::core::desired::DesiredObject;
use plinth_drift::core::live::LiveSet;
use plinth_drift::core::overrides::{self, OverrideProblem, Overrides};
use plinth_drift::core::report::{ObjectResult, Status, rfc3339};
use plinth_renderer::settings::Throttle;
use plinth_vocab::ObjectRef;
use plinth_vocab::change::FieldChange;
use plinth_vocab::labels::{
    ANNOTATION_SYNC_WAVE, LABEL_ASSET, LABEL_CLUSTER, LABEL_MANAGED_BY, MANAGED_BY_PLINTH,
};

use plinth_review::change::ObjectChange;

use crate::disruption::{self, Judgement};
use crate::events::{self, Reason, Regarding};
use crate::gate::{self, Bucket, Decision};
use crate::order;
use crate::outcome::{self, ObjectOutcome, Outcome};
use crate::removal::{self, Removal};

/// The field manager of plinth's server-side applies (the objects' rendered fields).
pub const FIELD_MANAGER: &str = "plinth";
/// The field manager of the gate's writes made without an apply (`<prefix>/apply-history`,
/// `<prefix>/reconcile-paused` of a throttled or pausing object, or of one whose apply would
/// change nothing): a metadata-only server-side apply with `force`. It never carries the
/// rendered fields, so a throttled run never rewrites them; plinth's next apply, which
/// carries the gate's state itself, takes the annotation back.
pub const GATE_FIELD_MANAGER: &str = "plinth-gate";
/// The annotation's name after the prefix that pauses an object.
pub const PAUSED: &str = "reconcile-paused";

/// How the plan is made: `plinth apply`'s flags, `plinth.yaml`'s settings and the run's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanOptions {
    /// `--adopt`: apply to live objects plinth did not create.
    pub adopt: bool,
    /// `--prune`: delete orphans carrying plinth's labels for the cluster.
    pub prune: bool,
    /// `--prune-namespaces`: Namespaces may be pruned too.
    pub prune_namespaces: bool,
    /// `--prune-crds`: `CustomResourceDefinition`s may be pruned too.
    pub prune_crds: bool,
    /// `--force-conflicts`: take fields other managers own (each apply step's `force`).
    pub force_conflicts: bool,
    /// The annotation prefix (`plinth.yaml` `annotationPrefix`).
    pub prefix: String,
    /// The cluster, as in the `plinth.dev/cluster` label.
    pub cluster: String,
    /// `apply.throttle` of `plinth.yaml`.
    pub throttle: Throttle,
    /// The run's time, seconds since the epoch.
    pub now: i64,
    /// `--allow-disruption`: disruptive changes go ahead outside a maintenance window.
    pub allow_disruption: bool,
    /// The maintenance windows (`cluster.yaml`'s, else `plinth.yaml`'s `apply.`):
    /// disruptive changes are held while none is open ([`crate::disruption`]).
    pub maintenance_windows: Vec<crate::window::Window>,
}

/// What a drift run produced that the plan reads.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    /// The drift run's per-object results (every rendered object, and the orphans).
    pub results: &'a [ObjectResult],
    /// The rendered objects with their index entries (wave, asset).
    pub desired: &'a [DesiredObject],
    /// The live objects by key, what was listed, and the listing warnings.
    pub live: &'a LiveSet,
}

/// Why an object is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Skip {
    /// `<prefix>/mode: unmanaged`.
    Unmanaged,
    /// A `patch` override is refused (sensitive kind, forbidden path).
    Refused,
    /// An override annotation does not parse or cannot be applied.
    Invalid,
    /// The kind is not served and no earlier step applies its CRD.
    CrdMissing,
    /// The live object is not plinth's and `--adopt` was not given.
    NotPlinths,
    /// A live object of this cluster no longer rendered, and `--prune` not given (or not
    /// for this kind: Namespaces, CRDs).
    NotPruned,
    /// An orphan whose ownership cannot be established: not deleted.
    OwnershipUnknown,
    /// A drift result with no rendered object: never written.
    NotRendered,
}

/// What a step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// In sync: no write.
    Unchanged,
    /// Missing: server-side apply `body` (creates it).
    Create,
    /// Drifted (or its plinth labels removed): server-side apply `body`.
    Configure,
    /// The gate's bucket is empty: write only the gate's annotations.
    Throttle,
    /// Paused by its `<prefix>/reconcile-paused: "true"` annotation: nothing written.
    Paused,
    /// Throttled for the `pause_after`-th run in a row: write the gate's annotations (the
    /// pause included) and emit `ThrashingDetected`.
    Pause,
    /// Not touched, for `Skip`'s reason.
    Skip(Skip),
    /// Delete (an orphan, with `--prune`).
    Prune,
    /// The live object could not be read: nothing written.
    Fail,
    /// A disruptive change outside a maintenance window: nothing written
    /// ([`crate::disruption`]).
    Hold,
}

impl Action {
    /// The outcome the step has when everything it writes is accepted.
    pub fn outcome(self) -> Outcome {
        match self {
            Self::Unchanged => Outcome::Unchanged,
            Self::Create => Outcome::Created,
            Self::Configure => Outcome::Configured,
            Self::Throttle => Outcome::Throttled,
            Self::Paused | Self::Pause => Outcome::Paused,
            Self::Skip(_) => Outcome::Skipped,
            Self::Prune => Outcome::Pruned,
            Self::Fail => Outcome::Failed,
            Self::Hold => Outcome::Held,
        }
    }
}

/// An Event the step calls for, whatever its writes do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueEvent {
    pub reason: Reason,
    /// The note, not yet redacted ([`events::Emitter::event`] redacts and bounds it).
    pub note: String,
}

/// One object's step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub key: ObjectRef,
    pub api_version: String,
    pub asset: Option<String>,
    /// The sync wave (the index's; an orphan's from its sync-wave annotation, else 0).
    pub wave: i64,
    pub action: Action,
    /// Why (skips, pauses, throttles, failures), as reports print it.
    pub reason: Option<String>,
    /// `Create`/`Configure`: the server-side apply body (field manager [`FIELD_MANAGER`]):
    /// the effective desired object (after the `patch` override) with the `ignore-fields`
    /// pointers removed, so plinth never owns an ignored field, plinth's labels present, and
    /// the gate's new state (`<prefix>/apply-history`) carried along: one write.
    pub body: Option<Value>,
    /// Apply with `force=true` (`--force-conflicts`).
    pub force: bool,
    /// Gate annotations (full names → values): written with [`Step::gate_body`] instead of an
    /// apply (`Throttle`/`Pause`, or a `Configure` whose apply would change nothing and only
    /// removes what others added); a `Create`/`Configure` apply carries them in its body.
    pub annotations: BTreeMap<String, String>,
    /// The gate's state before this run's apply.
    pub throttle: Option<outcome::Throttle>,
    /// The drift changes (desired and live values, with their writers).
    pub changes: Vec<FieldChange>,
    pub notes: Vec<String>,
    /// Events due (not `DriftCorrected`: emit it once a `Configure` apply is accepted, with
    /// [`events::corrected_note`] of `changes`).
    pub events: Vec<DueEvent>,
    /// The object the events are about (uid and resource version from the live object).
    pub regarding: Regarding,
    /// A `CustomResourceDefinition` an earlier step applies that must be served before this
    /// step's apply (wait for it, bounded; not served in time: skip as `CRDMissing`).
    pub waits_for: Option<ObjectRef>,
    /// For a throttled or pausing object, the body its apply would send: the executor
    /// dry-runs it first, and an object the server would not change is `unchanged` (a
    /// client-side difference the server does not see never throttles or pauses anything).
    pub confirm: Option<Value>,
    /// `Configure`, `Throttle`, `Pause`: the fields someone else added that drift reports and
    /// server-side apply would leave (see [`crate::removal`]): removed after the apply.
    pub removals: Vec<Removal>,
    /// A held step: when the next maintenance window starts (seconds since the epoch).
    pub next_window: Option<i64>,
}

impl Step {
    fn new(key: &ObjectRef, api_version: &str, wave: i64, live: Option<&Value>) -> Self {
        Self {
            key: key.clone(),
            api_version: api_version.to_owned(),
            asset: None,
            wave,
            action: Action::Unchanged,
            reason: None,
            body: None,
            force: false,
            annotations: BTreeMap::new(),
            throttle: None,
            changes: Vec::new(),
            notes: Vec::new(),
            events: Vec::new(),
            regarding: Regarding::new(key, api_version, live),
            waits_for: None,
            confirm: None,
            removals: Vec::new(),
            next_window: None,
        }
    }

    fn skip(&mut self, why: Skip, reason: impl Into<String>) {
        self.action = Action::Skip(why);
        self.reason = Some(reason.into());
    }

    /// The number of writes the step makes when all succeed: the apply (which carries the
    /// gate's annotations), else the gate's annotations alone, and the delete.
    pub fn writes(&self) -> usize {
        usize::from(self.body.is_some())
            + usize::from(self.body.is_none() && !self.annotations.is_empty())
            + usize::from(self.action == Action::Prune)
    }

    /// The metadata-only server-side apply body (field manager [`GATE_FIELD_MANAGER`],
    /// `force=true`) that writes the gate's annotations; `None` when there are none.
    pub fn gate_body(&self) -> Option<Value> {
        if self.annotations.is_empty() {
            return None;
        }
        let mut metadata = Map::new();
        metadata.insert("name".into(), json!(self.key.name));
        if let Some(ns) = &self.key.namespace {
            metadata.insert("namespace".into(), json!(ns));
        }
        metadata.insert("annotations".into(), json!(self.annotations));
        Some(json!({
            "apiVersion": self.api_version,
            "kind": self.key.kind,
            "metadata": metadata,
        }))
    }

    /// The step as a report's object: the outcome it has when everything it writes is
    /// accepted (a dry run prints these through the apply report; the executor changes the
    /// outcome where a write fails). Besides the step's notes, it says what the step waits
    /// for, the pause it sets and the Events it emits.
    pub fn to_outcome(&self) -> ObjectOutcome {
        let mut notes = self.notes.clone();
        notes.extend(
            self.waits_for
                .iter()
                .map(|crd| format!("applied once {crd} is served")),
        );
        notes.extend(
            self.annotations
                .iter()
                .filter(|(name, _)| name.ends_with(&format!("/{PAUSED}")))
                .map(|(name, value)| format!("sets `{name}: \"{value}\"`")),
        );
        notes.extend(
            self.events
                .iter()
                .map(|e| format!("Event `{}`", e.reason.as_str())),
        );
        ObjectOutcome {
            key: self.key.clone(),
            api_version: self.api_version.clone(),
            asset: self.asset.clone(),
            wave: self.wave,
            outcome: self.action.outcome(),
            reason: self.reason.clone(),
            changes: self.changes.clone(),
            conflicts: Vec::new(),
            throttle: self.throttle.clone(),
            next_window: self.next_window.map(rfc3339),
            notes,
        }
    }
}

/// What `plinth apply` will do, object by object: rendered objects in reconcile order, then
/// orphans in prune order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub steps: Vec<Step>,
}

impl Plan {
    /// Every step as a report's object, in order.
    pub fn outcomes(&self) -> Vec<ObjectOutcome> {
        self.steps.iter().map(Step::to_outcome).collect()
    }

    /// The writes the plan makes when all succeed (0 when nothing drifted).
    pub fn writes(&self) -> usize {
        self.steps.iter().map(Step::writes).sum()
    }
}

/// The plan of one apply run.
pub fn plan(input: PlanInput<'_>, options: &PlanOptions) -> Plan {
    let desired: BTreeMap<ObjectRef, &DesiredObject> =
        input.desired.iter().map(|d| (d.key(), d)).collect();
    let mut steps = Vec::new();
    let mut prunes = Vec::new();
    for result in input.results {
        if result.status == Status::Orphaned {
            prunes.push(prune_step(result, input, options));
        } else {
            steps.push(rendered_step(
                result,
                desired.get(&result.key).copied(),
                input,
                options,
            ));
        }
    }
    order::sort_reconcile(&mut steps, |s| (s.wave, &s.key));
    order::sort_prune(&mut prunes, |s| (s.wave, &s.key));
    steps.extend(prunes);
    hold_disruptive(&mut steps, input, options);
    Plan { steps }
}

/// The disruption gate ([`crate::disruption`]) over the steps that write an object: a
/// disruptive change while no maintenance window is open is held (nothing written, the
/// anti-thrashing gate not consulted); one that goes ahead says why in a note.
fn hold_disruptive(steps: &mut [Step], input: PlanInput<'_>, options: &PlanOptions) {
    let rules = disruption::Rules {
        windows: &options.maintenance_windows,
        allow: options.allow_disruption,
        cluster: &options.cluster,
        now: options.now,
    };
    let mut gate = disruption::Gate::new(input.live, input.desired, rules);
    for step in steps {
        // A changed object: the live one as the apply leaves it (not the body, which lacks
        // what the server fills in).
        let applied;
        let (change, after) = match step.action {
            Action::Create => (ObjectChange::Added, step.body.as_ref()),
            Action::Configure | Action::Throttle | Action::Pause => {
                applied = input
                    .live
                    .objects
                    .get(&step.key)
                    .map(|live| disruption::as_applied(live, &step.changes));
                (ObjectChange::Changed, applied.as_ref())
            }
            Action::Prune => (ObjectChange::Removed, None),
            _ => continue,
        };
        match gate.judge(change, &step.key, after) {
            Judgement::Go => {}
            Judgement::Noted(note) => step.notes.push(note),
            Judgement::Hold { reason, next } => {
                // Nothing written; a changed object's body is kept for the executor to
                // confirm by a dry-run that the server would change it at all.
                let body = step.body.take().or_else(|| step.confirm.take());
                step.confirm = body.filter(|_| change == ObjectChange::Changed);
                step.action = Action::Hold;
                step.reason = Some(reason);
                step.next_window = next;
                step.force = false;
                step.annotations.clear();
                step.throttle = None;
                step.events.clear();
                step.waits_for = None;
            }
        }
    }
}

/// The value of the label `name` of `obj`.
fn label<'v>(obj: &'v Value, name: &str) -> Option<&'v str> {
    obj.pointer("/metadata/labels")
        .and_then(|l| l.get(name))
        .and_then(Value::as_str)
}

/// Whether `obj` carries `managed-by: plinth` and `plinth.dev/cluster: <cluster>`.
fn labelled_for(obj: &Value, cluster: &str) -> bool {
    label(obj, LABEL_MANAGED_BY) == Some(MANAGED_BY_PLINTH)
        && label(obj, LABEL_CLUSTER) == Some(cluster)
}

/// Whether `obj` has a `managedFields` entry of manager [`FIELD_MANAGER`].
fn written_by_plinth(obj: &Value) -> bool {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|entries| {
            entries
                .iter()
                .any(|e| e.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER))
        })
}

/// The step of a rendered object (or of a result the index does not hold).
fn rendered_step(
    result: &ObjectResult,
    desired: Option<&DesiredObject>,
    input: PlanInput<'_>,
    options: &PlanOptions,
) -> Step {
    let live = input.live.objects.get(&result.key);
    let wave = desired.map_or(0, |d| d.index.wave);
    let mut step = Step::new(&result.key, &result.api_version, wave, live);
    step.asset.clone_from(&result.asset);
    step.notes.clone_from(&result.notes);
    step.notes.extend(result.stale_overrides.iter().cloned());
    step.changes = result
        .changes
        .iter()
        .chain(&result.pending_removal)
        .cloned()
        .collect();
    let Some(desired) = desired else {
        step.skip(
            Skip::NotRendered,
            "not in the rendered index: plinth never writes it",
        );
        return step;
    };
    let prefix = options.prefix.as_str();
    match result.status {
        Status::InSync => {
            // Labels someone removed from an object plinth applied are restored.
            if let Some(live) =
                live.filter(|l| !labelled_for(l, &options.cluster) && written_by_plinth(l))
            {
                step.notes.push(labels_note(live, &options.cluster));
                candidate(&mut step, desired, Some(live), Action::Configure, options);
            }
        }
        Status::Missing => {
            if input.live.is_unserved(&result.key) {
                if let Some(crd) = crd_applied_before(&step, input.desired) {
                    step.waits_for = Some(crd);
                } else {
                    let reason = format!(
                        "the cluster does not serve `{}` (CRD not installed) and no earlier step applies its CRD",
                        result.api_version
                    );
                    step.events.push(DueEvent {
                        reason: Reason::CrdMissing,
                        note: reason.clone(),
                    });
                    step.skip(Skip::CrdMissing, reason);
                    return step;
                }
            }
            candidate(&mut step, desired, None, Action::Create, options);
        }
        Status::Drifted => match live {
            Some(l) if labelled_for(l, &options.cluster) => {
                candidate(&mut step, desired, Some(l), Action::Configure, options);
            }
            Some(l) if written_by_plinth(l) => {
                step.notes.push(labels_note(l, &options.cluster));
                candidate(&mut step, desired, Some(l), Action::Configure, options);
            }
            Some(l) if options.adopt => {
                step.notes
                    .push("adopted: not created by plinth (`--adopt`)".to_owned());
                candidate(&mut step, desired, Some(l), Action::Configure, options);
            }
            Some(_) => step.skip(Skip::NotPlinths, "not created by plinth; pass --adopt"),
            None => {
                step.action = Action::Fail;
                step.reason = Some("drifted, but the live object is not in the live set".into());
            }
        },
        Status::Unmanaged => step.skip(
            Skip::Unmanaged,
            format!("unmanaged (`{prefix}/mode: unmanaged`)"),
        ),
        Status::Paused => {
            step.action = Action::Paused;
            step.reason = Some(format!("paused (`{prefix}/{PAUSED}: \"true\"`)"));
        }
        Status::Refused => {
            let note = first_note(&mut step, &format!("`{prefix}/patch` refused"));
            step.events.push(DueEvent {
                reason: Reason::PatchBlocked,
                note: note.clone(),
            });
            step.skip(Skip::Refused, note);
        }
        Status::Invalid => {
            let note = first_note(&mut step, "an override annotation is invalid");
            let reason = if note.contains(&format!("`{prefix}/patch`")) {
                Some(Reason::InvalidPatch)
            } else if note.contains(&format!("`{prefix}/ignore-fields`")) {
                Some(Reason::InvalidIgnoreFields)
            } else {
                None
            };
            step.events.extend(reason.map(|reason| DueEvent {
                reason,
                note: note.clone(),
            }));
            step.skip(Skip::Invalid, note);
        }
        Status::Error | Status::Orphaned => {
            step.action = Action::Fail;
            step.reason = Some(first_note(&mut step, "the live object could not be read"));
        }
    }
    if let Some(live) = live
        && matches!(
            step.action,
            Action::Configure | Action::Throttle | Action::Pause
        )
    {
        step.removals = removal::removals(&result.changes, live);
        if result.changes.iter().any(removal::is_restart) {
            step.notes.push(format!(
                "left as is: a rollout restart (`{}`); removing it would restart the pods again",
                removal::RESTARTED_AT
            ));
        }
        if !step.removals.is_empty() {
            let fields: Vec<String> = step.removals.iter().map(Removal::describe).collect();
            step.notes.push(format!(
                "removes what others added (server-side apply leaves it): {}",
                fields.join(", ")
            ));
        }
    }
    step
}

/// The drift note that says why (the override's refusal, the read failure), taken out of the
/// step's notes to be its reason; else `fallback`.
fn first_note(step: &mut Step, fallback: &str) -> String {
    if step.notes.is_empty() {
        fallback.to_owned()
    } else {
        step.notes.remove(0)
    }
}

/// The note of an object plinth applied whose labels someone removed.
fn labels_note(live: &Value, cluster: &str) -> String {
    let missing: Vec<String> = [
        (LABEL_MANAGED_BY, MANAGED_BY_PLINTH),
        (LABEL_CLUSTER, cluster),
    ]
    .into_iter()
    .filter(|(name, value)| label(live, name) != Some(*value))
    .map(|(name, _)| format!("`{name}`"))
    .collect();
    format!(
        "plinth's labels {} were removed or changed: restored",
        missing.join(", ")
    )
}

/// The `CustomResourceDefinition` among the rendered objects that defines `step`'s kind and
/// comes before it in reconcile order.
fn crd_applied_before(step: &Step, desired: &[DesiredObject]) -> Option<ObjectRef> {
    desired.iter().find_map(|d| {
        let key = d.key();
        let defines = order::is_crd(&key)
            && d.value.pointer("/spec/group").and_then(Value::as_str)
                == Some(step.key.group.as_str())
            && d.value.pointer("/spec/names/kind").and_then(Value::as_str)
                == Some(step.key.kind.as_str());
        let before = order::reconcile_cmp((d.index.wave, &key), (step.wave, &step.key)).is_lt();
        (defines && before).then_some(key)
    })
}

/// A `Create` or `Configure` candidate through the gate: the apply body, the gate's verdict
/// and the annotations it writes.
fn candidate(
    step: &mut Step,
    desired: &DesiredObject,
    live: Option<&Value>,
    action: Action,
    options: &PlanOptions,
) {
    let prefix = options.prefix.as_str();
    let body = match apply_body(desired, live, options) {
        Ok(body) => body,
        Err(OverrideProblem::Refused(m)) => return step.skip(Skip::Refused, m),
        Err(OverrideProblem::Invalid(m)) => return step.skip(Skip::Invalid, m),
    };
    let history_name = gate_history(prefix);
    let history = live
        .and_then(|l| l.pointer("/metadata/annotations"))
        .and_then(|a| a.get(&history_name))
        .and_then(Value::as_str);
    let (bucket, problem) = Bucket::read_or_empty(history, &options.throttle, prefix);
    step.notes.extend(problem.map(|p| p.to_string()));
    let now = options.now;
    step.throttle = Some(bucket.to_throttle(now));
    match bucket.decide(now) {
        Decision::Allow { .. } => {
            // The gate's state goes with the apply (one write); `annotations` keeps it for the
            // executor to write alone when no apply is sent (only what others added is
            // removed).
            let history = bucket.after_apply(now);
            let mut body = body;
            if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
                let annotations = meta.entry("annotations").or_insert_with(|| json!({}));
                if let Some(map) = annotations.as_object_mut() {
                    map.insert(history_name.clone(), json!(history));
                }
            }
            step.action = action;
            step.body = Some(body);
            step.force = options.force_conflicts;
            step.annotations.insert(history_name, history);
        }
        Decision::Throttled { .. } => {
            step.action = Action::Throttle;
            step.confirm = Some(body);
            step.reason = Some(match bucket.next_token_at(now) {
                Some(next) => format!(
                    "throttled: {} applies in the last {} minutes; the next token frees up at {}",
                    options.throttle.capacity,
                    options.throttle.window_minutes,
                    rfc3339(next)
                ),
                None => "throttled: `apply.throttle.capacity` is 0".to_owned(),
            });
            step.annotations
                .insert(history_name, bucket.after_throttle(now));
        }
        Decision::Pause => {
            let runs = bucket.throttled_runs().saturating_add(1);
            step.action = Action::Pause;
            step.confirm = Some(body);
            step.reason = Some(format!(
                "paused by plinth: throttled {runs} runs in a row; remove `{prefix}/{PAUSED}` to resume"
            ));
            step.annotations
                .insert(history_name, bucket.after_throttle(now));
            step.annotations
                .insert(format!("{prefix}/{PAUSED}"), "true".to_owned());
            step.events.push(DueEvent {
                reason: Reason::ThrashingDetected,
                note: events::thrashing_note(runs, &step.changes, prefix),
            });
        }
    }
}

/// The object's identity in `body`: `apiVersion`, `kind`, `metadata.name` and
/// `metadata.namespace`, as (pointer, value).
fn identity_of(body: &Value) -> Vec<(&'static str, &'static str, Value)> {
    [
        ("", "apiVersion"),
        ("", "kind"),
        ("metadata", "name"),
        ("metadata", "namespace"),
    ]
    .into_iter()
    .filter_map(|(parent, key)| {
        let holder = if parent.is_empty() {
            Some(body)
        } else {
            body.get(parent)
        };
        Some((parent, key, holder?.get(key)?.clone()))
    })
    .collect()
}

/// Puts the identity [`identity_of`] read back into `body` (an `ignore-fields` pointer may
/// have removed it, or `metadata` whole).
fn restore_identity(body: &mut Value, identity: Vec<(&'static str, &'static str, Value)>) {
    for (parent, key, value) in identity {
        let Some(object) = body.as_object_mut() else {
            return;
        };
        let holder = if parent.is_empty() {
            Some(object)
        } else {
            object
                .entry(parent)
                .or_insert_with(|| json!({}))
                .as_object_mut()
        };
        if let Some(holder) = holder {
            holder.insert(key.to_owned(), value);
        }
    }
}

/// The full name of the gate's annotation: `<prefix>/apply-history`.
fn gate_history(prefix: &str) -> String {
    format!("{prefix}/{}", gate::HISTORY)
}

/// The server-side apply body of a rendered object: the `patch` override applied, the
/// `ignore-fields` pointers removed, a rendered gate annotation left out (the gate's state is
/// plinth's alone: the candidate adds the new one), plinth's labels set.
///
/// # Errors
/// An override that does not parse or is not allowed (drift reports those objects `invalid`
/// or `refused` before they get here).
fn apply_body(
    desired: &DesiredObject,
    live: Option<&Value>,
    options: &PlanOptions,
) -> Result<Value, OverrideProblem> {
    let prefix = options.prefix.as_str();
    let o = match live {
        Some(live) => Overrides::resolve(&desired.value, live, prefix),
        None => Overrides::of(&desired.value, prefix, "desired"),
    };
    let mut body = match &o.patch {
        Some(text) => {
            let patch = overrides::parse_patch(text, &desired.index.kind, prefix)?;
            overrides::apply_patch(&desired.value, &patch, prefix)?
        }
        None => desired.value.clone(),
    };
    if let Some(text) = &o.ignore_fields {
        let pointers = overrides::parse_ignore_fields(text, prefix)?;
        let identity = identity_of(&body);
        for p in pointers {
            if let Ok(ptr) = PointerBuf::parse(p.as_str()) {
                ptr.delete(&mut body);
            }
        }
        // The identity stays whatever the pointers name: the request's path is built from it.
        restore_identity(&mut body, identity);
    }
    let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) else {
        return Err(OverrideProblem::Invalid(
            "the rendered object has no `metadata`".into(),
        ));
    };
    if let Some(annotations) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        annotations.remove(&format!("{prefix}/{}", gate::HISTORY));
    }
    let labels = meta.entry("labels").or_insert_with(|| json!({}));
    if let Some(labels) = labels.as_object_mut() {
        labels.insert(LABEL_MANAGED_BY.into(), json!(MANAGED_BY_PLINTH));
        labels.insert(LABEL_CLUSTER.into(), json!(options.cluster));
        labels.insert(LABEL_ASSET.into(), json!(desired.index.asset));
    }
    Ok(body)
}

/// The step of an orphan: pruned only with `--prune` (and the flag for Namespaces and CRDs),
/// when all of plinth's labels for the cluster are on it and no listing warning touches its
/// kind (a Namespace: no warning at all; a CRD: none about the kind it defines, and the kind
/// no longer rendered).
fn prune_step(result: &ObjectResult, input: PlanInput<'_>, options: &PlanOptions) -> Step {
    let live = input.live.objects.get(&result.key);
    let wave = live
        .and_then(|l| l.pointer("/metadata/annotations"))
        .and_then(|a| a.get(ANNOTATION_SYNC_WAVE))
        .and_then(Value::as_str)
        .and_then(|w| w.trim().parse().ok())
        .unwrap_or(0);
    let mut step = Step::new(&result.key, &result.api_version, wave, live);
    step.asset.clone_from(&result.asset);
    step.notes.clone_from(&result.notes);
    let key = &result.key;
    let unsure = |group: &str, kind: &str| listing_warned(&input.live.warnings, group, kind);
    let defined = live.and_then(|l| {
        Some((
            l.pointer("/spec/group")?.as_str()?,
            l.pointer("/spec/names/kind")?.as_str()?,
        ))
    });
    let ownership_problem = match live {
        None => Some("not in the live listing".to_owned()),
        Some(l) if !labelled_for(l, &options.cluster) || label(l, LABEL_ASSET).is_none() => {
            Some("its plinth labels are partial".to_owned())
        }
        Some(_) if unsure(&key.group, &key.kind) => Some(format!(
            "the listing of `{}` raised a warning",
            key.qualified_kind()
        )),
        Some(_) if order::is_namespace(key) && !input.live.warnings.is_empty() => {
            Some("a listing raised a warning, so what the Namespace holds is not known".to_owned())
        }
        Some(_) if order::is_crd(key) => defined.and_then(|(group, kind)| {
            if unsure(group, kind) {
                Some(format!("the listing of `{kind}.{group}` raised a warning"))
            } else if input.desired.iter().any(|d| {
                d.index.kind == kind && plinth_vocab::group_of(&d.index.api_version) == group
            }) {
                Some(format!("`{kind}.{group}` objects are still rendered"))
            } else {
                None
            }
        }),
        Some(_) => None,
    };
    if !options.prune {
        step.skip(
            Skip::NotPruned,
            "no longer rendered; pass --prune to delete it",
        );
    } else if order::is_namespace(key) && !options.prune_namespaces {
        step.skip(
            Skip::NotPruned,
            "a Namespace: pass --prune-namespaces to delete it",
        );
    } else if order::is_crd(key) && !options.prune_crds {
        step.skip(
            Skip::NotPruned,
            "a CustomResourceDefinition: pass --prune-crds to delete it",
        );
    } else if let Some(problem) = ownership_problem {
        step.skip(
            Skip::OwnershipUnknown,
            format!("not deleted: ownership cannot be established ({problem})"),
        );
    } else {
        step.action = Action::Prune;
    }
    step
}

/// Whether a listing warning of the drift run concerns objects of `group` and `kind`: it
/// names the kind, or the kinds of a version of the group.
fn listing_warned(warnings: &std::collections::BTreeSet<String>, group: &str, kind: &str) -> bool {
    let qualified = if group.is_empty() {
        format!("`{kind}`")
    } else {
        format!("`{kind}.{group}`")
    };
    let versions = if group.is_empty() {
        "`v1`".to_owned()
    } else {
        format!("`{group}/")
    };
    warnings
        .iter()
        .any(|w| w.contains(&qualified) || (w.contains("of the kinds of") && w.contains(&versions)))
}

#[cfg(test)]
mod tests {
    use plinth_drift::core::desired;
    use plinth_drift::core::pipeline::run_client_side;
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    const P: &str = "platform.kubevirt.io";
    const NOW: i64 = 1_764_500_000;

    fn options() -> PlanOptions {
        PlanOptions {
            adopt: false,
            prune: false,
            prune_namespaces: false,
            prune_crds: false,
            force_conflicts: false,
            prefix: P.into(),
            cluster: "c".into(),
            throttle: Throttle::default(),
            now: NOW,
            // The disruption gate has its own tests (`crate::disruption`).
            allow_disruption: true,
            maintenance_windows: Vec::new(),
        }
    }

    fn labels() -> Value {
        json!({"app.kubernetes.io/managed-by": "plinth", "plinth.dev/cluster": "c", "plinth.dev/asset": "a"})
    }

    fn object(av: &str, kind: &str, ns: Option<&str>, name: &str, spec: Value) -> Value {
        let mut o = json!({"apiVersion": av, "kind": kind,
            "metadata": {"name": name, "labels": labels()}});
        o["spec"] = spec;
        if let Some(ns) = ns {
            o["metadata"]["namespace"] = json!(ns);
        }
        o
    }

    /// The CRD of `kind` in group `example.com`.
    fn crd_of(kind: &str) -> Value {
        object(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            None,
            &format!("{}s.example.com", kind.to_lowercase()),
            json!({"group": "example.com", "names": {"kind": kind}}),
        )
    }

    fn prune_all() -> PlanOptions {
        PlanOptions {
            prune: true,
            prune_namespaces: true,
            prune_crds: true,
            ..options()
        }
    }

    fn deployment(replicas: i64) -> Value {
        object(
            "apps/v1",
            "Deployment",
            Some("shop"),
            "web",
            json!({"replicas": replicas}),
        )
    }

    /// `obj` with `metadata.<field>` set to `value`.
    fn with(mut obj: Value, field: &str, value: Value) -> Value {
        obj["metadata"][field] = value;
        obj
    }

    fn plinth_managed() -> Value {
        json!([{"manager": "plinth", "operation": "Apply", "apiVersion": "apps/v1",
            "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}])
    }

    struct Case {
        desired: Vec<DesiredObject>,
        live: LiveSet,
        results: Vec<ObjectResult>,
    }

    /// The drift run of `desired` against `live` (every desired kind listed).
    fn case(desired: Vec<Value>, live: Vec<Value>) -> Case {
        let desired = desired::from_values(desired, "a");
        let mut set = LiveSet::default();
        for o in live {
            set.objects.insert(ObjectRef::of(&o).unwrap(), o);
        }
        for d in &desired {
            set.listed.insert(d.key().listing());
        }
        let results = run_client_side(&desired, &set, P, "c");
        Case {
            desired,
            live: set,
            results,
        }
    }

    impl Case {
        fn rerun(&mut self) {
            self.results = run_client_side(&self.desired, &self.live, P, "c");
        }

        fn plan(&self, options: &PlanOptions) -> Plan {
            plan(
                PlanInput {
                    results: &self.results,
                    desired: &self.desired,
                    live: &self.live,
                },
                options,
            )
        }
    }

    fn actions(plan: &Plan) -> Vec<(String, Action)> {
        plan.steps
            .iter()
            .map(|s| (s.key.to_string(), s.action))
            .collect()
    }

    #[test]
    fn nothing_drifted_is_zero_writes() {
        let objects = vec![
            deployment(2),
            object("v1", "ConfigMap", Some("shop"), "cfg", json!({})),
            object("v1", "Namespace", None, "shop", json!({})),
        ];
        let c = case(objects.clone(), objects);
        let plan = c.plan(&options());
        assert!(
            plan.steps.iter().all(|s| s.action == Action::Unchanged),
            "{plan:?}"
        );
        assert_eq!(plan.writes(), 0);
        assert!(
            plan.steps
                .iter()
                .all(|s| s.body.is_none() && s.annotations.is_empty())
        );
        // Reconcile order: the Namespace first.
        assert_eq!(
            actions(&plan)
                .into_iter()
                .map(|(k, _)| k)
                .collect::<Vec<_>>(),
            [
                "Namespace/shop",
                "ConfigMap/shop/cfg",
                "Deployment.apps/shop/web"
            ]
        );
        assert_eq!(
            plan.outcomes()
                .iter()
                .map(|o| o.outcome)
                .collect::<Vec<_>>(),
            [Outcome::Unchanged; 3]
        );
    }

    #[test]
    fn missing_and_drifted_objects_are_applied_through_the_gate() {
        let patch = r#"[{"op": "replace", "path": "/spec/replicas", "value": 4}]"#;
        let mut desired = deployment(2);
        desired["spec"]["paused"] = json!(false);
        // People annotate the live object.
        let live = with(
            with(
                deployment(7),
                "annotations",
                json!({"platform.kubevirt.io/patch": patch,
                    "platform.kubevirt.io/ignore-fields": "/spec/paused",
                    "platform.kubevirt.io/apply-history": format!("v1 t=0 {}", NOW - 60)}),
            ),
            "managedFields",
            plinth_managed(),
        );
        let c = case(
            vec![
                desired,
                object("v1", "ConfigMap", Some("shop"), "new", json!({})),
            ],
            vec![live],
        );
        let plan = c.plan(&PlanOptions {
            force_conflicts: true,
            ..options()
        });
        assert_eq!(
            actions(&plan),
            [
                ("ConfigMap/shop/new".into(), Action::Create),
                ("Deployment.apps/shop/web".into(), Action::Configure)
            ]
        );
        let web = &plan.steps[1];
        let body = web.body.as_ref().unwrap();
        // The patch applied, the ignored field removed, plinth's labels on, the gate's new
        // state carried by the apply (one write).
        assert_eq!(body["spec"], json!({"replicas": 4}));
        assert_eq!(body["metadata"]["labels"], labels());
        assert_eq!(
            body["metadata"]["annotations"],
            json!({"platform.kubevirt.io/apply-history": format!("v1 t=0 {},{NOW}", NOW - 60)}),
            "{body}"
        );
        assert!(web.force);
        assert_eq!(
            web.throttle,
            Some(outcome::Throttle {
                tokens: 4,
                capacity: 5,
                throttled_runs: 0,
                next_token_at: None
            })
        );
        assert_eq!(
            web.annotations,
            BTreeMap::from([(
                "platform.kubevirt.io/apply-history".to_owned(),
                format!("v1 t=0 {},{NOW}", NOW - 60)
            )])
        );
        assert_eq!(
            web.gate_body(),
            Some(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "web", "namespace": "shop",
                    "annotations": {"platform.kubevirt.io/apply-history": format!("v1 t=0 {},{NOW}", NOW - 60)}}}))
        );
        assert_eq!(web.changes[0].pointer, "/spec/replicas");
        let new = &plan.steps[0];
        assert_eq!(new.body.as_ref().unwrap()["metadata"]["labels"], labels());
        assert_eq!(
            new.annotations.values().collect::<Vec<_>>(),
            [&format!("v1 t=0 {NOW}")]
        );
        // One write each: the apply carries the gate's state.
        assert_eq!(plan.writes(), 2);
        assert_eq!(
            plan.outcomes()
                .iter()
                .map(|o| o.outcome)
                .collect::<Vec<_>>(),
            [Outcome::Created, Outcome::Configured]
        );
    }

    #[test]
    fn an_object_plinth_did_not_create_is_not_adopted_without_adopt() {
        let mut foreign = deployment(5);
        foreign["metadata"]["labels"] = json!({"app": "web"});
        let c = case(vec![deployment(2)], vec![foreign.clone()]);
        let plan = c.plan(&options());
        assert_eq!(plan.steps[0].action, Action::Skip(Skip::NotPlinths));
        assert_eq!(
            plan.steps[0].reason.as_deref(),
            Some("not created by plinth; pass --adopt")
        );
        assert_eq!(plan.writes(), 0);
        let plan = c.plan(&PlanOptions {
            adopt: true,
            ..options()
        });
        assert_eq!(plan.steps[0].action, Action::Configure);
        assert!(plan.steps[0].notes.iter().any(|n| n.contains("--adopt")));
        // Labels for another cluster are not plinth's labels for this one.
        let mut other = deployment(5);
        other["metadata"]["labels"]["plinth.dev/cluster"] = json!("other");
        let c = case(vec![deployment(2)], vec![other]);
        assert_eq!(
            c.plan(&options()).steps[0].action,
            Action::Skip(Skip::NotPlinths)
        );
    }

    #[test]
    fn labels_someone_removed_are_restored() {
        let mut live = with(deployment(2), "managedFields", plinth_managed());
        live["metadata"]["labels"] = json!({"plinth.dev/asset": "a"});
        let c = case(vec![deployment(2)], vec![live.clone()]);
        let step = &c.plan(&options()).steps[0];
        assert_eq!(step.action, Action::Configure);
        assert_eq!(
            step.notes.last().map(String::as_str),
            Some(
                "plinth's labels `app.kubernetes.io/managed-by`, `plinth.dev/cluster` were removed or changed: restored"
            )
        );
        assert_eq!(step.body.as_ref().unwrap()["metadata"]["labels"], labels());
        // Also when the labels are ignored, so drift calls the object in sync.
        let ignored = with(
            live,
            "annotations",
            json!({"platform.kubevirt.io/ignore-fields": "/metadata/labels"}),
        );
        let c = case(vec![deployment(2)], vec![ignored]);
        assert_eq!(c.results[0].status, Status::InSync);
        let step = &c.plan(&options()).steps[0];
        assert_eq!(step.action, Action::Configure, "{step:?}");
        assert_eq!(step.body.as_ref().unwrap()["metadata"]["labels"], labels());
    }

    #[test]
    fn a_thrashed_object_is_throttled_then_paused_with_the_event() {
        let history = |runs: u32| {
            let times: Vec<String> = (0..5).map(|i| (NOW - 600 + i * 60).to_string()).collect();
            format!("v1 t={runs} {}", times.join(","))
        };
        let live = |runs: u32| {
            let mut l = with(
                deployment(9),
                "managedFields",
                json!([
                {"manager": "plinth", "operation": "Apply", "apiVersion": "apps/v1", "time": "2025-11-30T10:00:00Z",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:labels": {}}}},
                {"manager": "kubectl-scale", "operation": "Update", "apiVersion": "apps/v1", "time": "2025-11-30T10:05:00Z", "subresource": "scale",
                    "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {"f:replicas": {}}}}]),
            );
            l["metadata"]["annotations"] =
                json!({"platform.kubevirt.io/apply-history": history(runs)});
            l
        };
        let c = case(vec![deployment(2)], vec![live(0)]);
        let step = &c.plan(&options()).steps[0];
        assert_eq!(step.action, Action::Throttle);
        assert!(step.body.is_none());
        assert_eq!(
            step.reason.as_deref(),
            Some(
                "throttled: 5 applies in the last 60 minutes; the next token frees up at 2025-11-30T11:43:20Z"
            )
        );
        assert_eq!(step.annotations.values().collect::<Vec<_>>(), [&history(1)]);
        assert_eq!(step.to_outcome().outcome, Outcome::Throttled);
        let c = case(vec![deployment(2)], vec![live(2)]);
        let step = &c.plan(&options()).steps[0];
        assert_eq!(step.action, Action::Pause);
        assert_eq!(step.to_outcome().outcome, Outcome::Paused);
        assert_eq!(
            step.annotations,
            BTreeMap::from([
                ("platform.kubevirt.io/apply-history".to_owned(), history(3)),
                (
                    "platform.kubevirt.io/reconcile-paused".to_owned(),
                    "true".to_owned()
                ),
            ])
        );
        assert_eq!(step.events.len(), 1);
        assert_eq!(step.events[0].reason, Reason::ThrashingDetected);
        assert!(
            step.events[0]
                .note
                .contains("/spec/replicas (by `kubectl-scale`)"),
            "{}",
            step.events[0].note
        );
        let notes = step.to_outcome().notes;
        assert_eq!(
            notes[notes.len() - 2..],
            [
                "sets `platform.kubevirt.io/reconcile-paused: \"true\"`",
                "Event `ThrashingDetected`"
            ]
        );
        // The next run sees the pause and touches nothing.
        let mut c = c;
        let paused = with(
            live(3),
            "annotations",
            json!({"platform.kubevirt.io/reconcile-paused": "true"}),
        );
        c.live
            .objects
            .insert(ObjectRef::of(&paused).unwrap(), paused);
        c.rerun();
        let plan = c.plan(&options());
        assert_eq!(plan.steps[0].action, Action::Paused);
        assert_eq!(plan.writes(), 0);
    }

    #[test]
    fn a_garbled_history_counts_as_empty_with_a_note() {
        let live = with(
            deployment(9),
            "annotations",
            json!({"platform.kubevirt.io/apply-history": "someone wrote this"}),
        );
        let c = case(vec![deployment(2)], vec![live]);
        let step = &c.plan(&options()).steps[0];
        assert_eq!(step.action, Action::Configure);
        assert!(
            step.notes
                .iter()
                .any(|n| n.contains("read as an empty bucket")),
            "{:?}",
            step.notes
        );
        assert_eq!(step.throttle.as_ref().unwrap().tokens, 5);
    }

    #[test]
    fn a_kind_not_served_is_skipped_unless_its_crd_comes_first() {
        let widget = object("example.com/v1", "Widget", Some("shop"), "w", json!({}));
        let crd = crd_of("Widget");
        let mut c = case(vec![widget.clone()], vec![]);
        c.live.listed.clear();
        c.live
            .unserved
            .insert(("example.com".into(), "Widget".into()));
        c.rerun();
        let step = &c.plan(&options()).steps[0];
        assert_eq!(step.action, Action::Skip(Skip::CrdMissing));
        assert_eq!(step.events[0].reason, Reason::CrdMissing);
        assert!(step.notes[0].contains("does not serve"));
        let mut c2 = case(vec![widget, crd], vec![]);
        c2.live.listed.retain(|(g, _, _)| g != "example.com");
        c2.live.unserved = c.live.unserved.clone();
        c2.rerun();
        let plan = c2.plan(&options());
        assert_eq!(
            actions(&plan),
            [
                (
                    "CustomResourceDefinition.apiextensions.k8s.io/widgets.example.com".into(),
                    Action::Create
                ),
                ("Widget.example.com/shop/w".into(), Action::Create)
            ]
        );
        assert_eq!(plan.steps[1].waits_for, Some(plan.steps[0].key.clone()));
        assert!(plan.steps[1].to_outcome().notes.contains(
            &"applied once CustomResourceDefinition.apiextensions.k8s.io/widgets.example.com is served".to_owned()
        ));
    }

    #[test]
    fn overrides_that_stop_the_comparison_are_skipped_with_their_events() {
        let annotated = |a: Value| with(deployment(9), "annotations", a);
        let c = case(
            vec![deployment(2)],
            vec![annotated(json!({"platform.kubevirt.io/mode": "unmanaged"}))],
        );
        let step = &c.plan(&options()).steps[0];
        assert_eq!(
            (step.action, step.reason.as_deref()),
            (
                Action::Skip(Skip::Unmanaged),
                Some("unmanaged (`platform.kubevirt.io/mode: unmanaged`)")
            )
        );
        let cases = [
            (
                json!({"platform.kubevirt.io/patch": "not json"}),
                Skip::Invalid,
                Some(Reason::InvalidPatch),
            ),
            (
                json!({"platform.kubevirt.io/ignore-fields": "spec"}),
                Skip::Invalid,
                Some(Reason::InvalidIgnoreFields),
            ),
            (
                json!({"platform.kubevirt.io/reconcile-paused": "maybe"}),
                Skip::Invalid,
                None,
            ),
            (
                json!({"platform.kubevirt.io/patch": r#"[{"op": "replace", "path": "/metadata/name", "value": "x"}]"#}),
                Skip::Refused,
                Some(Reason::PatchBlocked),
            ),
        ];
        for (annotations, skip, event) in cases {
            let c = case(vec![deployment(2)], vec![annotated(annotations.clone())]);
            let step = &c.plan(&options()).steps[0];
            assert_eq!(step.action, Action::Skip(skip), "{annotations}");
            assert_eq!(
                step.reason.as_ref(),
                c.results[0].notes.first(),
                "{annotations}"
            );
            // The note is the reason, not said twice.
            assert!(!step.notes.contains(step.reason.as_ref().unwrap()));
            assert_eq!(
                step.events.iter().map(|e| e.reason).collect::<Vec<_>>(),
                Vec::from_iter(event),
                "{annotations}"
            );
            assert_eq!(step.writes(), 0);
        }
    }

    #[test]
    fn unreadable_and_unrendered_objects_are_never_written() {
        let mut c = case(vec![deployment(2)], vec![]);
        c.live.listed.clear();
        c.rerun();
        let step = &c.plan(&options()).steps[0];
        assert_eq!(step.action, Action::Fail);
        assert_eq!(step.to_outcome().outcome, Outcome::Failed);
        // A drift result the index does not hold (a caller's mistake) is not applied.
        let mut c = case(vec![deployment(2)], vec![]);
        let mut stray = c.results[0].clone();
        stray.key.name = "stray".into();
        c.results.push(stray);
        let plan = c.plan(&options());
        let step = plan.steps.iter().find(|s| s.key.name == "stray").unwrap();
        assert_eq!(step.action, Action::Skip(Skip::NotRendered));
        assert!(step.body.is_none());
    }

    #[test]
    fn orphans_are_pruned_only_when_allowed_and_owned() {
        let ns = object("v1", "Namespace", None, "old", json!({}));
        let crd = crd_of("Gadget");
        let gadget = with(
            object("example.com/v1", "Gadget", Some("old"), "g", json!({})),
            "annotations",
            json!({"argocd.argoproj.io/sync-wave": "2"}),
        );
        let cm = object("v1", "ConfigMap", Some("old"), "cm", json!({}));
        let mut partial = object("v1", "Secret", Some("old"), "s", json!({}));
        partial["metadata"]["labels"]
            .as_object_mut()
            .unwrap()
            .remove("plinth.dev/asset");
        let live = vec![ns, crd, gadget, cm, partial];
        let mut c = case(vec![deployment(2)], live);
        c.live
            .objects
            .insert(ObjectRef::of(&deployment(2)).unwrap(), deployment(2));
        c.rerun();
        let plan = c.plan(&options());
        assert!(
            plan.steps[1..]
                .iter()
                .all(|s| s.action == Action::Skip(Skip::NotPruned)),
            "{plan:?}"
        );
        assert_eq!(plan.writes(), 0);
        let all = prune_all();
        let plan = c.plan(&all);
        assert_eq!(
            actions(&plan)[1..],
            [
                ("Gadget.example.com/old/g".into(), Action::Prune),
                ("Secret/old/s".into(), Action::Skip(Skip::OwnershipUnknown)),
                ("ConfigMap/old/cm".into(), Action::Prune),
                (
                    "CustomResourceDefinition.apiextensions.k8s.io/gadgets.example.com".into(),
                    Action::Prune
                ),
                ("Namespace/old".into(), Action::Prune),
            ]
        );
        assert_eq!(plan.steps[1].wave, 2);
        let plan = c.plan(&PlanOptions {
            prune: true,
            ..options()
        });
        assert_eq!(plan.steps[4].action, Action::Skip(Skip::NotPruned));
        assert_eq!(
            plan.steps[4].reason.as_deref(),
            Some("a CustomResourceDefinition: pass --prune-crds to delete it")
        );
        assert_eq!(
            plan.steps[5].reason.as_deref(),
            Some("a Namespace: pass --prune-namespaces to delete it")
        );
        // A listing warning about the custom resources' kind: neither they nor their CRD nor
        // any Namespace are deleted; the ConfigMap still is.
        c.live.warnings.insert(
            "orphaned `Gadget.example.com` objects were not looked for: LIST was refused: 403"
                .into(),
        );
        let plan = c.plan(&all);
        assert_eq!(
            actions(&plan)[1..]
                .iter()
                .map(|(_, a)| *a)
                .collect::<Vec<_>>(),
            [
                Action::Skip(Skip::OwnershipUnknown),
                Action::Skip(Skip::OwnershipUnknown),
                Action::Prune,
                Action::Skip(Skip::OwnershipUnknown),
                Action::Skip(Skip::OwnershipUnknown),
            ]
        );
        assert_eq!(
            plan.steps[1].reason.as_deref(),
            Some(
                "not deleted: ownership cannot be established (the listing of `Gadget.example.com` raised a warning)"
            )
        );
        // A group's discovery failed: the same for its kinds.
        c.live.warnings.clear();
        c.live.warnings.insert(
            "orphaned objects of the kinds of `example.com/v1` were not looked for: 503".into(),
        );
        assert_eq!(
            c.plan(&all).steps[1].action,
            Action::Skip(Skip::OwnershipUnknown)
        );
    }

    #[test]
    fn a_crd_whose_kind_is_still_rendered_is_not_pruned() {
        let crd = crd_of("Gadget");
        let gadget = object("example.com/v1", "Gadget", Some("shop"), "g", json!({}));
        let c = case(vec![gadget.clone()], vec![crd, gadget]);
        let all = prune_all();
        let plan = c.plan(&all);
        assert_eq!(plan.steps[1].action, Action::Skip(Skip::OwnershipUnknown));
        assert!(
            plan.steps[1]
                .reason
                .as_deref()
                .unwrap()
                .contains("still rendered")
        );
    }

    /// The example repository's `plain-west` against its live snapshot (whose planted drift
    /// its README lists): the plan of each planted case.
    #[test]
    fn the_example_cluster_plans_its_planted_drift() {
        use plinth_drift::core::ownership::Policy;
        use plinth_drift::core::pipeline::run_client_side_with;
        use plinth_drift::source::snapshot;
        use plinth_renderer::{Fleet, Source};

        let repo = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet");
        let fleet = Fleet::open(Source::dir(&repo).unwrap()).unwrap();
        let rendered = fleet.render_cluster("plain-west").unwrap();
        let mut desired = desired::from_rendered(&rendered, &fleet.settings);
        let live = snapshot::load_for(&repo.join("live/plain-west"), &mut desired, None).unwrap();
        let prefix = fleet.settings.annotation_prefix.clone();
        let policy = Policy::new(
            &fleet.settings.drift.gitops_managers,
            &fleet.settings.drift.drift_managers,
        );
        let results = run_client_side_with(&desired, &live, &prefix, "plain-west", &policy);
        let input = PlanInput {
            results: &results,
            desired: &desired,
            live: &live,
        };
        let options = PlanOptions {
            prefix,
            cluster: "plain-west".into(),
            throttle: fleet.settings.apply.throttle.clone(),
            ..options()
        };
        let got = |plan: &Plan, kind: &str, name: &str| {
            let step = plan
                .steps
                .iter()
                .find(|s| s.key.kind == kind && s.key.name == name)
                .unwrap_or_else(|| panic!("{kind} {name}"));
            (
                step.action,
                step.events.iter().map(|e| e.reason).collect::<Vec<_>>(),
            )
        };
        let plan = plan(input, &options);
        assert_eq!(
            got(&plan, "HyperConverged", "kubevirt-hyperconverged"),
            (Action::Configure, vec![])
        );
        assert_eq!(
            got(
                &plan,
                "MachineConfig",
                "99-openshift-machineconfig-worker-psi-karg"
            ),
            (Action::Create, vec![])
        );
        assert_eq!(
            got(&plan, "MachineConfig", "90-worker-kubevirt-swap"),
            (Action::Skip(Skip::Refused), vec![Reason::PatchBlocked])
        );
        assert_eq!(
            got(&plan, "ForkliftController", "forklift-controller"),
            (Action::Skip(Skip::NotPruned), vec![])
        );
        for in_sync in ["cluster", "kubevirt-workers", "virt-platform-alerts"] {
            assert!(
                plan.steps
                    .iter()
                    .any(|s| s.key.name == in_sync && s.action == Action::Unchanged),
                "{in_sync}"
            );
        }
        // One apply (carrying the gate's state) for each of the two candidates, nothing else.
        assert_eq!(plan.writes(), 2);
        let pruned = super::plan(
            input,
            &PlanOptions {
                prune: true,
                ..options
            },
        );
        assert_eq!(
            got(&pruned, "ForkliftController", "forklift-controller"),
            (Action::Prune, vec![])
        );
        assert_eq!(pruned.steps.last().map(|s| s.action), Some(Action::Prune));
    }

    /// One object of the property test: whether it is rendered, how it is live.
    #[derive(Debug, Clone)]
    struct Arbitrary {
        rendered: bool,
        live: Option<(i64, u8, bool)>,
    }

    fn arbitrary() -> impl Strategy<Value = Arbitrary> {
        (
            any::<bool>(),
            prop::option::of((1_i64..3, 0_u8..4, any::<bool>())),
        )
            .prop_map(|(rendered, live)| Arbitrary { rendered, live })
    }

    proptest! {
        /// Whatever drift found and whatever the flags: only rendered objects get a body, with
        /// plinth's labels; a live object is applied to only when it is plinth's (labels for
        /// the cluster, or written by `plinth`) or `--adopt`; only orphans with all of plinth's
        /// labels are pruned, and only with `--prune`; rendered steps are in reconcile order.
        #[test]
        fn the_plan_is_fail_closed(
            objects in prop::collection::vec(arbitrary(), 1..8),
            adopt in any::<bool>(),
            prune in any::<bool>(),
        ) {
            let (mut desired, mut live) = (Vec::new(), Vec::new());
            for (i, o) in objects.iter().enumerate() {
                let name = format!("o{i}");
                let rendered = object("v1", "ConfigMap", Some("shop"), &name, json!({"n": 1}));
                if o.rendered {
                    desired.push(rendered.clone());
                }
                if let Some((n, labelling, plinth_wrote)) = o.live {
                    let mut l = rendered;
                    l["spec"]["n"] = json!(n);
                    match labelling {
                        0 => {}
                        1 => l["metadata"]["labels"] = json!({}),
                        2 => l["metadata"]["labels"]["plinth.dev/cluster"] = json!("other"),
                        _ => {
                            l["metadata"]["labels"].as_object_mut().unwrap().remove("plinth.dev/asset");
                        }
                    }
                    if plinth_wrote {
                        l["metadata"]["managedFields"] = plinth_managed();
                    }
                    live.push(l);
                }
            }
            let c = case(desired, live);
            let options = PlanOptions { adopt, prune, ..options() };
            let plan = c.plan(&options);
            let rendered: Vec<ObjectRef> = c.desired.iter().map(DesiredObject::key).collect();
            for step in &plan.steps {
                let l = c.live.objects.get(&step.key);
                if step.body.is_some() || matches!(step.action, Action::Create | Action::Configure) {
                    prop_assert!(rendered.contains(&step.key));
                    prop_assert_eq!(&step.body.as_ref().unwrap()["metadata"]["labels"], &labels());
                }
                if step.action == Action::Configure {
                    let l = l.unwrap();
                    prop_assert!(adopt || labelled_for(l, "c") || written_by_plinth(l), "{:?}", step);
                }
                if step.action == Action::Prune {
                    prop_assert!(prune && !rendered.contains(&step.key));
                    prop_assert_eq!(&l.unwrap()["metadata"]["labels"], &labels());
                }
            }
            prop_assert!(plan.steps.len() == c.results.len());
            let applied: Vec<&Step> = plan.steps.iter().filter(|s| rendered.contains(&s.key)).collect();
            for pair in applied.windows(2) {
                prop_assert!(order::reconcile_cmp((pair[0].wave, &pair[0].key), (pair[1].wave, &pair[1].key)).is_lt());
            }
        }
    }
}
