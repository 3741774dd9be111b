//! A whole `plinth apply` as one library call: the drift state of the cluster (desired
//! objects, live objects, per-object results, read through the drift engine), the plan
//! ([`crate::plan`]), and — unless it is a dry run — the writes, in plan order: a server-side
//! apply dry-run confirms each candidate first (an object the server would not change is
//! `unchanged` and costs no write), then the apply as field manager `plinth`, the removal of
//! what others added that the apply leaves ([`crate::removal`]) — the apply carries the
//! gate's new state; a throttled or pausing object gets it alone, as `plinth-gate` — the
//! Events, the deletes of `--prune`. Every outcome is what
//! the server answered: nothing is reported as applied that it did not accept.

use std::time::Duration;

use serde_json::Value;

use plinth_drift::core::compare::compare_server_side;
use plinth_drift::core::desired::DesiredObject;
use plinth_drift::core::live::LiveSet;
use plinth_drift::core::ownership::Policy;
use plinth_drift::core::pipeline::{self, is_own_annotation, without_own_annotations};
use plinth_drift::core::report::rfc3339;
use plinth_drift::engine::{self, DriftRequest, LiveSource, Notice, Progress, Task};
use plinth_drift::source::kube::{ApplyAnswer, ApplyParams, ClusterLive};
use plinth_drift::source::snapshot;
use plinth_drift::{DriftError, ObjectResult};
use plinth_vocab::redact::Redactor;

use crate::events::{Emitter, Reason, Regarding, corrected_note};
use crate::outcome::{ApplyReport, Conflict, ObjectOutcome, Outcome};
use crate::plan::{
    self, Action, DueEvent, FIELD_MANAGER, GATE_FIELD_MANAGER, Plan, PlanInput, PlanOptions, Step,
};
use crate::removal;

/// One apply run, as plain data.
#[derive(Debug, Clone)]
pub struct ApplyRequest {
    /// The drift run it starts from: repository, cluster, live source (a snapshot only for a
    /// dry run), namespace, clock, stack size. Its mode is ignored: candidates are confirmed
    /// by a server-side dry-run.
    pub drift: DriftRequest,
    /// Print the plan, write nothing.
    pub dry_run: bool,
    /// Take over live objects plinth did not create.
    pub adopt: bool,
    /// Delete live objects with plinth's labels for the cluster that are no longer rendered.
    pub prune: bool,
    pub prune_namespaces: bool,
    pub prune_crds: bool,
    /// Apply with `force`: take fields other managers own instead of reporting the conflict.
    pub force_conflicts: bool,
    /// Delete and create again an object whose apply an immutable field refused.
    pub recreate: bool,
    /// Who emits the Events (`reportingInstance`: the pod or host name).
    pub reporting_instance: String,
    /// Where Events about cluster-scoped objects go.
    pub events_namespace: String,
    /// How long to wait for a CRD applied in this run to be served before its custom
    /// resources.
    pub crd_wait: Duration,
    /// `--allow-disruption`: apply disruptive changes (node reboots, server replacement, VM
    /// re-provisioning and restarts, platform-wide changes) outside a maintenance window.
    pub allow_disruption: bool,
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct ApplyRun {
    /// The results in apply order, redacted with the shared redaction policy.
    pub report: ApplyReport,
}

/// Why an apply could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Reading desired or live state failed.
    #[error(transparent)]
    Drift(#[from] DriftError),
    /// A snapshot holds no cluster to write to.
    #[error(
        "a snapshot can only be planned: pass --dry-run, or a cluster (--kubeconfig, --context)"
    )]
    SnapshotNeedsDryRun,
    /// A maintenance window does not parse (file and field path named).
    #[error(transparent)]
    Window(#[from] crate::window::WindowError),
}

/// Runs a whole apply: `notify` hears every [`Notice`] as it happens.
///
/// # Errors
/// The repository, the cluster's inputs or the live state cannot be read; a snapshot source
/// without `dry_run`. A write that fails is not an error: its object's outcome says so.
pub fn run(request: &ApplyRequest, notify: &dyn Fn(Notice)) -> Result<ApplyRun, ApplyError> {
    let drift = &request.drift;
    let fleet = engine::open_cluster(&drift.repo, &drift.cluster)?;
    check_settings(&fleet.settings)?;
    let mut desired = engine::load_desired(&drift.repo, &drift.cluster, &fleet, notify)?;
    let settings = &fleet.settings;
    // Bad windows fail the run before anything is read from the cluster or written.
    let maintenance_windows = maintenance_windows(&fleet, &drift.cluster)?;
    let policy = Policy::new(
        &settings.drift.gitops_managers,
        &settings.drift.drift_managers,
    );
    let options = PlanOptions {
        adopt: request.adopt,
        prune: request.prune,
        prune_namespaces: request.prune_namespaces,
        prune_crds: request.prune_crds,
        force_conflicts: request.force_conflicts,
        prefix: settings.annotation_prefix.clone(),
        cluster: drift.cluster.clone(),
        throttle: settings.apply.throttle.clone(),
        now: drift.now_epoch,
        allow_disruption: request.allow_disruption,
        maintenance_windows,
    };
    // Drift's client-side results, then the plan.
    let plan_of = |desired: &[DesiredObject], live: &LiveSet| -> Plan {
        let results: Vec<ObjectResult> =
            pipeline::run_client_side_with(desired, live, &options.prefix, &drift.cluster, &policy);
        plan::plan(
            PlanInput {
                results: &results,
                desired,
                live,
            },
            &options,
        )
    };
    let generated_at = rfc3339(drift.now_epoch);
    let objects = match &drift.source {
        LiveSource::Snapshot {
            path,
            max_file_bytes,
            allow_empty,
        } => {
            if !request.dry_run {
                return Err(ApplyError::SnapshotNeedsDryRun);
            }
            let read = snapshot::ReadOptions {
                max_file_bytes: *max_file_bytes,
                allow_empty: *allow_empty,
            };
            let live =
                snapshot::load_for_with(path, &mut desired, drift.namespace.as_deref(), &read)
                    .map_err(|source| DriftError::Snapshot {
                        path: path.display().to_string(),
                        source: Box::new(source),
                    })?
                    .live;
            plan_of(&desired, &live).outcomes()
        }
        LiveSource::Cluster(connect) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_stack_size(drift.stack_bytes)
                .enable_all()
                .build()
                .map_err(DriftError::Runtime)?;
            runtime.block_on(async {
                let cluster = ClusterLive::connect(connect).await?;
                let live = engine::read_live(&cluster, &mut desired, drift, notify).await?;
                let plan = plan_of(&desired, &live);
                notify(Notice::Detail(format!(
                    "planned {} objects, {} writes at most",
                    plan.steps.len(),
                    plan.writes()
                )));
                let writer = Writer {
                    cluster: &cluster,
                    live: &live,
                    request,
                    prefix: &options.prefix,
                    emitter: Emitter {
                        reporting_instance: &request.reporting_instance,
                        cluster_scoped_namespace: &request.events_namespace,
                        redactor: Redactor::shared(),
                        now: drift.now_epoch,
                    },
                    notify,
                };
                Ok::<_, ApplyError>(writer.walk(&plan).await)
            })?
        }
    };
    let report = ApplyReport::new(
        &drift.cluster,
        generated_at,
        request.dry_run,
        drift.source.name(),
        objects,
    )
    .redacted(Redactor::shared());
    Ok(ApplyRun { report })
}

/// Checks the settings without which the anti-thrashing gate would never hold anything:
/// `annotationPrefix` (the API server refuses an annotation key whose prefix is not a DNS
/// subdomain, so every write of the gate's annotations would fail) and
/// `apply.throttle.windowMinutes` (0: every apply expires at once).
fn check_settings(settings: &plinth_renderer::settings::Settings) -> Result<(), DriftError> {
    let invalid = |field: &str, message: String| DriftError::Invalid {
        path: format!("{}: {field}", plinth_renderer::settings::FILE),
        message,
    };
    let prefix = &settings.annotation_prefix;
    if !plinth_vocab::names::is_dns_subdomain(prefix, 253) {
        return Err(invalid(
            "annotationPrefix",
            format!(
                "`{prefix}` is not a DNS subdomain (lowercase letters, digits, `-` and `.`, \
                 e.g. `platform.example.com`): the API server would refuse plinth's annotations"
            ),
        ));
    }
    if settings.apply.throttle.window_minutes == 0 {
        return Err(invalid(
            "apply.throttle.windowMinutes",
            "is 0: every apply would expire at once and nothing would ever be throttled; \
             give at least 1"
                .to_owned(),
        ));
    }
    Ok(())
}

/// The maintenance windows of `cluster`: `cluster.yaml`'s `maintenanceWindows` when it has
/// the key, else `plinth.yaml`'s `apply.maintenanceWindows`.
fn maintenance_windows(
    fleet: &plinth_renderer::Fleet,
    cluster: &str,
) -> Result<Vec<crate::window::Window>, ApplyError> {
    let settings = &fleet.settings;
    let path = format!("{}/{cluster}/cluster.yaml", settings.paths.clusters);
    let text = fleet
        .source
        .read_text(&path, settings.limits.max_file_bytes)
        .map_err(DriftError::from)?;
    let spec = plinth_renderer::cluster::Cluster::parse(&text, path.clone(), cluster)
        .map_err(DriftError::from)?
        .spec;
    let (specs, origin) = match &spec.maintenance_windows {
        Some(list) => (list.as_slice(), (path.as_str(), "maintenanceWindows")),
        None => (
            settings.apply.maintenance_windows.as_slice(),
            (plinth_renderer::settings::FILE, "apply.maintenanceWindows"),
        ),
    };
    Ok(crate::window::parse(
        specs,
        crate::window::Origin {
            file: origin.0,
            field: origin.1,
        },
    )?)
}

/// The writes of one run against a cluster.
struct Writer<'a> {
    cluster: &'a ClusterLive,
    live: &'a LiveSet,
    request: &'a ApplyRequest,
    /// The annotation prefix (`plinth.yaml` `annotationPrefix`).
    prefix: &'a str,
    emitter: Emitter<'a>,
    notify: &'a dyn Fn(Notice),
}

/// What a server-side apply dry-run says of a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Confirmed {
    /// Nothing more to do: unchanged, or refused (the outcome says which).
    Settled,
    /// The apply changes the object; with `force` when it must take plinth's own
    /// annotations back from another manager (the gate's, after a throttled run).
    Apply { force: bool },
    /// The apply changes nothing, but fields others added are to be removed.
    RemoveOnly,
}

impl Writer<'_> {
    /// Every step in plan order; a dry run confirms candidates and writes nothing.
    async fn walk(&self, plan: &Plan) -> Vec<ObjectOutcome> {
        let total = plan.steps.len();
        let mut out = Vec::with_capacity(total);
        for step in &plan.steps {
            out.push(self.step(step).await);
            (self.notify)(Notice::Progress(Progress {
                task: Task::Apply,
                done: out.len(),
                total,
            }));
        }
        tracing::info!(
            objects = total,
            dry_run = self.request.dry_run,
            "objects applied"
        );
        out
    }

    async fn step(&self, step: &Step) -> ObjectOutcome {
        let mut outcome = step.to_outcome();
        match step.action {
            Action::Create | Action::Configure => self.apply(step, &mut outcome).await,
            Action::Throttle | Action::Pause => {
                // Forced: only whether the server would change anything matters here.
                if let Some(body) = &step.confirm
                    && self.confirm(step, body, true, &mut outcome).await == Confirmed::Settled
                {
                    return outcome;
                }
                if self.request.dry_run {
                    return outcome;
                }
                if self.write_gate(step, &mut outcome).await {
                    self.emit(step, &mut outcome).await;
                } else if step.action == Action::Pause {
                    // Not paused: the annotation is not there and no Event was emitted.
                    outcome
                        .notes
                        .retain(|n| !n.starts_with("sets `") && !n.starts_with("Event `"));
                    let runs = outcome
                        .throttle
                        .as_ref()
                        .map_or(0, |t| t.throttled_runs.saturating_add(1));
                    fail(
                        &mut outcome,
                        format!(
                            "throttled {runs} runs in a row, but the pause could not be \
                             written; the next run tries again"
                        ),
                    );
                }
            }
            Action::Prune => {
                if !self.request.dry_run {
                    self.prune(step, &mut outcome).await;
                }
            }
            Action::Skip(_) => {
                if !self.request.dry_run {
                    self.emit_standing(step, &step.events, &mut outcome).await;
                }
            }
            Action::Hold => {
                // Nothing written: a dry-run only says whether the server would change it.
                if let Some(body) = &step.confirm {
                    self.confirm(step, body, true, &mut outcome).await;
                }
            }
            Action::Unchanged | Action::Paused | Action::Fail => {}
        }
        outcome
    }

    /// A `Create` or `Configure` step: wait for its CRD, confirm by a dry-run that the server
    /// would change something, apply, write the gate, emit `DriftCorrected`.
    async fn apply(&self, step: &Step, outcome: &mut ObjectOutcome) {
        let Some(body) = &step.body else {
            return fail(outcome, "nothing to apply (no rendered body)".to_owned());
        };
        // A dry run creates nothing: neither the CRD waited for nor, for a missing object,
        // anything to compare with (its namespace may not exist yet either). The plan says it.
        if self.request.dry_run && (step.waits_for.is_some() || step.action == Action::Create) {
            return;
        }
        if let Some(crd) = &step.waits_for
            && !self.wait_for_kind(body).await
        {
            let reason = format!(
                "the cluster did not serve `{}` `{}` within {:?} after {crd} was applied",
                step.api_version, step.key.kind, self.request.crd_wait
            );
            outcome.outcome = Outcome::Skipped;
            outcome.reason = Some(reason.clone());
            let waited = format!("applied once {crd} is served");
            outcome.notes.retain(|n| *n != waited);
            let due = [DueEvent {
                reason: Reason::CrdMissing,
                note: reason,
            }];
            self.emit_standing(step, &due, outcome).await;
            return;
        }
        // Confirm a change of a live object first: the server's own view of what the apply
        // would change (creating a missing object always changes something).
        let confirmed = if step.action == Action::Configure {
            self.confirm(step, body, step.force, outcome).await
        } else {
            Confirmed::Apply { force: step.force }
        };
        if confirmed == Confirmed::Settled || self.request.dry_run {
            return;
        }
        let applied = match confirmed {
            // The apply would change nothing: only what others added is removed, and the
            // gate's state is written on its own.
            Confirmed::RemoveOnly => {
                outcome.outcome = Outcome::Configured;
                self.live.objects.get(&step.key).cloned()
            }
            // The apply carries the gate's state.
            Confirmed::Apply { force } => self.server_side_apply(step, body, force, outcome).await,
            Confirmed::Settled => None,
        };
        let Some(object) = applied else {
            return;
        };
        let removed = self.remove_added(step, body, &object, outcome).await;
        if confirmed == Confirmed::RemoveOnly {
            self.write_gate(step, outcome).await;
        }
        self.emit(step, outcome).await;
        if step.action == Action::Configure && removed {
            // Created again (`--recreate`): about the new object, not the one deleted.
            let recreated = (outcome.outcome == Outcome::Created)
                .then(|| Regarding::new(&step.key, &step.api_version, Some(&object)));
            let event = self.emitter.event(
                Reason::DriftCorrected,
                recreated.as_ref().unwrap_or(&step.regarding),
                &corrected_note(&step.changes),
            );
            self.post(event, outcome).await;
        }
    }

    /// The server-side apply of a `Create` or `Configure` step (with `--recreate`, a delete and
    /// a new apply when an immutable field refused it): the object as the server stored it,
    /// the outcome `created` or `configured`; `None` when it was not accepted (the outcome
    /// says why).
    async fn server_side_apply(
        &self,
        step: &Step,
        body: &Value,
        force: bool,
        outcome: &mut ObjectOutcome,
    ) -> Option<Value> {
        let params = |force: bool| ApplyParams {
            manager: FIELD_MANAGER.to_owned(),
            force,
            dry_run: false,
        };
        let mut answer = self.cluster.apply(body, &params(force)).await;
        // The gate's state is plinth's own: a conflict over nothing else is not one.
        if let Ok(ApplyAnswer::Conflict { causes, .. }) = &answer
            && self.only_own(causes)
        {
            answer = self.cluster.apply(body, &params(true)).await;
        }
        if let Ok(ApplyAnswer::Invalid { fields, .. }) = &answer
            && self.request.recreate
        {
            (self.notify)(Notice::Status(format!(
                "recreating {} (immutable {})",
                step.key,
                fields.join(", ")
            )));
            answer = match self.cluster.delete(body, self.live_uid(step)).await {
                Ok(_) => {
                    let again = self.cluster.apply(body, &params(force)).await;
                    let done = if matches!(again, Ok(ApplyAnswer::Accepted { .. })) {
                        "deleted and created again"
                    } else {
                        "deleted, but not created again"
                    };
                    outcome
                        .notes
                        .push(format!("{done}: immutable {}", fields.join(", ")));
                    again
                }
                Err(e) => Err(e),
            };
        }
        match answer {
            Ok(ApplyAnswer::Accepted { created, object }) => {
                // An object that was missing is `created` even when the server answers `200`:
                // a retry after a response lost on the way found what the first attempt
                // stored.
                outcome.outcome = if created || step.action == Action::Create {
                    Outcome::Created
                } else {
                    Outcome::Configured
                };
                Some(object)
            }
            Ok(answer) => {
                refused(outcome, answer);
                None
            }
            Err(e) => {
                fail(outcome, plinth_drift::error::chain(&e));
                None
            }
        }
    }

    /// Removes the step's [`Step::removals`] from `object` (what the apply left) with a JSON
    /// patch as field manager `plinth`, each only while it holds the value drift saw: `false`
    /// when the server refused it (the outcome is then `failed`, saying the apply itself was
    /// accepted). A field changed since it was read is left for the next run, in a note.
    async fn remove_added(
        &self,
        step: &Step,
        body: &Value,
        object: &Value,
        outcome: &mut ObjectOutcome,
    ) -> bool {
        let Some(live) = self.live.objects.get(&step.key) else {
            return true;
        };
        if step.removals.is_empty() {
            return true;
        }
        let (ops, changed) = removal::patch(&step.key.kind, &step.removals, live, object);
        if !changed.is_empty() {
            outcome.notes.push(format!(
                "changed since it was read, left for the next run: {}",
                changed.join(", ")
            ));
        }
        if ops.is_empty() {
            return true;
        }
        let answer = self
            .cluster
            .json_patch(body, &Value::Array(ops), FIELD_MANAGER, false)
            .await;
        let why = match answer {
            Ok(ApplyAnswer::Accepted { .. }) => return true,
            Ok(ApplyAnswer::Invalid { reason, .. }) => reason,
            Ok(ApplyAnswer::Conflict { message, .. }) => message,
            Err(e) => plinth_drift::error::chain(&e),
        };
        fail(
            outcome,
            format!(
                "the apply was accepted, but removing what others added was not ({why}); the \
                 next run tries again"
            ),
        );
        false
    }

    /// Sends `body` as a server-side apply dry-run (field manager `plinth`, `force` as
    /// given) to learn what the apply would do: [`Confirmed::Settled`] when that settles the
    /// step — the outcome is then `unchanged` (the server's result equals live and nobody
    /// added anything to remove: the client-side comparison saw a difference the server does
    /// not, a default it could not know), or what the server's refusal gives (a conflict, an
    /// invalid object, a failure); [`Confirmed::RemoveOnly`] when the apply would change
    /// nothing but there are fields to remove; else [`Confirmed::Apply`]. An immutable field
    /// refused under `--recreate` settles nothing: the apply that follows deletes and creates
    /// the object.
    async fn confirm(
        &self,
        step: &Step,
        body: &Value,
        force: bool,
        outcome: &mut ObjectOutcome,
    ) -> Confirmed {
        let params = ApplyParams {
            manager: FIELD_MANAGER.to_owned(),
            force,
            dry_run: true,
        };
        let mut answer = self.cluster.apply(body, &params).await;
        let mut force = force;
        // The gate's state is plinth's own: a conflict over nothing else is not one (the
        // apply takes it back with `force`).
        if let Ok(ApplyAnswer::Conflict { causes, .. }) = &answer
            && self.only_own(causes)
        {
            force = true;
            answer = self
                .cluster
                .apply(body, &ApplyParams { force, ..params })
                .await;
        }
        match answer {
            Ok(ApplyAnswer::Accepted { object, .. }) => {
                // plinth's own annotations (the gate's new state the body carries) do not
                // count as a change.
                let same = self.live.objects.get(&step.key).is_some_and(|live| {
                    let object = without_own_annotations(&object, &Value::Null, self.prefix);
                    let live = without_own_annotations(live, &Value::Null, self.prefix);
                    compare_server_side(&object, &live).is_empty()
                });
                if !same {
                    Confirmed::Apply { force }
                } else if !step.removals.is_empty() {
                    Confirmed::RemoveOnly
                } else {
                    outcome.outcome = Outcome::Unchanged;
                    outcome.reason = Some(
                        "the server-side dry-run changes nothing (a default the client-side \
                         comparison could not know)"
                            .to_owned(),
                    );
                    outcome.throttle = None;
                    Confirmed::Settled
                }
            }
            // An immutable field with `--recreate`: not settled, the apply recreates it.
            Ok(ApplyAnswer::Invalid { fields, .. })
                if self.request.recreate && !fields.is_empty() =>
            {
                if self.request.dry_run {
                    outcome.notes.push(format!(
                        "would be deleted and created again: immutable {}",
                        fields.join(", ")
                    ));
                }
                Confirmed::Apply { force }
            }
            Ok(answer) => {
                refused(outcome, answer);
                Confirmed::Settled
            }
            Err(e) => {
                fail(outcome, plinth_drift::error::chain(&e));
                Confirmed::Settled
            }
        }
    }

    /// Whether every field of a conflict's `causes` is one of plinth's own annotations (the
    /// gate's state another manager — `plinth-gate` after a throttled run — owns now).
    fn only_own(&self, causes: &[(String, String)]) -> bool {
        !causes.is_empty()
            && causes.iter().all(|(_, field)| {
                field
                    .strip_prefix(".metadata.annotations.")
                    .is_some_and(|key| is_own_annotation(key, self.prefix))
            })
    }

    /// Writes the gate's annotations (as `plinth-gate`, forced); `false` when that failed.
    async fn write_gate(&self, step: &Step, outcome: &mut ObjectOutcome) -> bool {
        let Some(body) = step.gate_body() else {
            return true;
        };
        let params = ApplyParams {
            manager: GATE_FIELD_MANAGER.to_owned(),
            force: true,
            dry_run: false,
        };
        if let Ok(ApplyAnswer::Accepted { .. }) = self.cluster.apply(&body, &params).await {
            true
        } else {
            outcome.notes.push(
                "the anti-thrashing annotation could not be written: the next run sees a full \
                 bucket"
                    .to_owned(),
            );
            false
        }
    }

    /// Emits the step's due Events.
    async fn emit(&self, step: &Step, outcome: &mut ObjectOutcome) {
        for due in &step.events {
            let event = self.emitter.event(due.reason, &step.regarding, &due.note);
            self.post(event, outcome).await;
        }
    }

    /// Emits `events` about the step's object as standing problems: each only when the cluster
    /// does not hold it yet (a refused patch is reported once, not on every run).
    async fn emit_standing(&self, step: &Step, events: &[DueEvent], outcome: &mut ObjectOutcome) {
        for due in events {
            let event = self
                .emitter
                .standing(due.reason, &step.regarding, &due.note);
            let text = |p: &str| event.pointer(p).and_then(Value::as_str).unwrap_or("");
            match self
                .cluster
                .event_exists(text("/metadata/namespace"), text("/metadata/name"))
                .await
            {
                Ok(true) => {}
                Ok(false) => self.post(event, outcome).await,
                Err(e) => outcome.notes.push(format!(
                    "the Event could not be looked up: {}",
                    plinth_drift::error::chain(&e)
                )),
            }
        }
    }

    async fn post(&self, event: Value, outcome: &mut ObjectOutcome) {
        if let Err(e) = self.cluster.create_event(&event).await {
            outcome.notes.push(format!(
                "the Event could not be emitted: {}",
                plinth_drift::error::chain(&e)
            ));
        }
    }

    /// Deletes an orphan.
    async fn prune(&self, step: &Step, outcome: &mut ObjectOutcome) {
        let body = serde_json::json!({
            "apiVersion": step.api_version,
            "kind": step.key.kind,
            "metadata": {"name": step.key.name, "namespace": step.key.namespace},
        });
        match self.cluster.delete(&body, self.live_uid(step)).await {
            Ok(true) => {}
            Ok(false) => outcome.notes.push("already gone".to_owned()),
            Err(e) => fail(outcome, plinth_drift::error::chain(&e)),
        }
    }

    /// The `uid` of the step's object as read: a delete holds only for that object.
    fn live_uid(&self, step: &Step) -> Option<&str> {
        self.live
            .objects
            .get(&step.key)
            .and_then(|l| l.pointer("/metadata/uid"))
            .and_then(Value::as_str)
    }

    /// Waits (bounded by the request's CRD wait) until the cluster serves the kind of `body`.
    async fn wait_for_kind(&self, body: &Value) -> bool {
        let text = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or("");
        let (api_version, kind) = (text("/apiVersion"), text("/kind"));
        let start = tokio::time::Instant::now();
        loop {
            if matches!(self.cluster.serves_now(api_version, kind).await, Ok(true)) {
                return true;
            }
            if start.elapsed() >= self.request.crd_wait {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(500).min(self.request.crd_wait)).await;
        }
    }
}

/// The outcome of an apply the server refused: a conflict with its managers and fields, or an
/// invalid object (an immutable field) with the fields.
fn refused(outcome: &mut ObjectOutcome, answer: ApplyAnswer) {
    match answer {
        ApplyAnswer::Conflict { causes, message } => {
            outcome.outcome = Outcome::Conflict;
            outcome.conflicts = causes
                .into_iter()
                .map(|(manager, field)| Conflict { manager, field })
                .collect();
            outcome.reason = Some(format!(
                "{message}; pass --force-conflicts to take the fields"
            ));
            outcome.throttle = None;
        }
        ApplyAnswer::Invalid { fields, reason } => {
            let hint = if fields.is_empty() {
                String::new()
            } else {
                "; pass --recreate to delete and create it again".to_owned()
            };
            fail(
                outcome,
                format!("the server refused the object: {reason}{hint}"),
            );
        }
        ApplyAnswer::Accepted { .. } => {}
    }
}

/// Marks `outcome` failed with `reason`.
fn fail(outcome: &mut ObjectOutcome, reason: String) {
    outcome.outcome = Outcome::Failed;
    outcome.reason = Some(reason);
    outcome.throttle = None;
}
