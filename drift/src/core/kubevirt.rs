//! KubeVirt run state, pure: each `VirtualMachine` (with its `VirtualMachineInstance`) mapped
//! into plinth's own model of VM state ([`DomainVm`], [`VmState`]), then compared with its run
//! strategy.
//!
//! The mapping is defensive: the VM and VMI are read as JSON values, and any absent or
//! wrong-typed field maps to a defined state, never a panic. `status.printableStatus` decides
//! first; without it the VMI's `status.phase`; without both the VM is stopped. There is no
//! `pending` at the VM level: a VM on its way up is `stopped` with a starting marker, and an
//! error state is `failed` with the error taken from the printable status and the VM's
//! `Failure` condition.
//!
//! The run-state rules, per strategy (the result is one [`RunStatus`]):
//!
//! - `Always`: running or migrating is in sync, starting is `starting`, failed is `failed`,
//!   any other state (stopped, stopping, crash-looping) is `drifted`;
//! - `Halted`: running, migrating or starting is `drifted`, stopping is in sync (on its way
//!   down), failed is `failed`;
//! - `Manual`: never drift, an error state included (the error is in the result and a note);
//! - `RerunOnFailure`: stopped after a success (VMI `Succeeded`, or `Stopped` with the
//!   controller's `status.runStrategy`) is in sync, failed or crash-looping is `failed`, stopped
//!   without a success is `drifted`;
//! - `Once`: stopped after completion, success or failure, is in sync (a failure is a note);
//! - `WaitAsReceiver`, an unknown strategy string, or no strategy at all: in sync with a note,
//!   never guessed.
//!
//! A rendered VM absent from the listing is `missing`. The results' types, their redaction
//! and summary are the report's ([`super::report::kubevirt`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::Value;

// The state is defined beside the report's types (the report must not depend on the
// comparison); this module is its home for every caller.
pub use super::report::kubevirt::{KubevirtReport, RunStatus, VmRunResult, VmState};

/// A VM's `spec.runStrategy`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunStrategy {
    Always,
    RerunOnFailure,
    Manual,
    Halted,
    Once,
    WaitAsReceiver,
    /// Any other string (the empty placeholder included), kept verbatim.
    Unknown(String),
}

impl RunStrategy {
    /// The strategy a `spec.runStrategy` string names.
    pub fn parse(text: &str) -> Self {
        match text {
            "Always" => Self::Always,
            "RerunOnFailure" => Self::RerunOnFailure,
            "Manual" => Self::Manual,
            "Halted" => Self::Halted,
            "Once" => Self::Once,
            "WaitAsReceiver" => Self::WaitAsReceiver,
            other => Self::Unknown(other.to_owned()),
        }
    }

    /// The strategy as KubeVirt spells it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Always => "Always",
            Self::RerunOnFailure => "RerunOnFailure",
            Self::Manual => "Manual",
            Self::Halted => "Halted",
            Self::Once => "Once",
            Self::WaitAsReceiver => "WaitAsReceiver",
            Self::Unknown(s) => s,
        }
    }
}

impl fmt::Display for RunStrategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A VM as plinth sees it, decoupled from the Kubernetes types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainVm {
    pub namespace: String,
    pub name: String,
    /// `spec.runStrategy`, else the deprecated `spec.running` read as its strategy; none
    /// when the VM sets neither.
    pub strategy: Option<RunStrategy>,
    /// The strategy was read from the deprecated `spec.running`.
    pub strategy_from_running: bool,
    pub state: VmState,
    /// On its way up (`Starting`, `Provisioning`, a VMI not yet running): `state` is
    /// `stopped`.
    pub starting: bool,
    /// `printableStatus` `Paused`: `state` is `running`.
    pub paused: bool,
    pub printable_status: Option<String>,
    pub vmi_phase: Option<String>,
    /// The error, from the printable status, the `Failure` condition, the VMI phase or the
    /// start failures.
    pub error: Option<String>,
    /// `status.startFailure.consecutiveFailCount` > 0.
    pub crash_loop: bool,
    /// `status.ready`, else the `Ready` condition.
    pub ready: Option<bool>,
    /// The strategy the controller last recorded (`status.runStrategy`).
    pub status_strategy: Option<String>,
    /// What the mapping noticed (a deprecated field, an unknown value).
    pub notes: Vec<String>,
}

/// Printable statuses of a VM on its way up.
const STARTING: [&str; 4] = [
    "Starting",
    "Provisioning",
    "WaitingForVolumeBinding",
    "WaitingForReceiver",
];

/// Printable statuses that are errors.
const ERRORS: [&str; 7] = [
    "CrashLoopBackOff",
    "ErrorUnschedulable",
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrorPvcNotFound",
    "DataVolumeError",
    "Unknown",
];

/// Maps a `VirtualMachine` and its `VirtualMachineInstance` (if any) into the domain model.
/// Never panics, whatever the shape of either value.
pub fn map_vm(vm: &Value, vmi: Option<&Value>) -> DomainVm {
    let text = |v: &Value, at: &str| v.pointer(at).and_then(Value::as_str).map(str::to_owned);
    let mut out = DomainVm {
        namespace: text(vm, "/metadata/namespace").unwrap_or_default(),
        name: text(vm, "/metadata/name").unwrap_or_default(),
        strategy: None,
        strategy_from_running: false,
        state: VmState::Stopped,
        starting: false,
        paused: false,
        printable_status: text(vm, "/status/printableStatus"),
        vmi_phase: vmi.and_then(|v| text(v, "/status/phase")),
        error: None,
        crash_loop: false,
        ready: None,
        status_strategy: text(vm, "/status/runStrategy"),
        notes: Vec::new(),
    };
    strategy(vm, &mut out);
    let conditions = failure_conditions(vm);
    let vmi = vmi.filter(|v| v.is_object());
    let printable = out.printable_status.clone();
    match printable.as_deref() {
        Some(p) => from_printable(p, vmi, &conditions, &mut out),
        None => from_vmi(vmi, &mut out),
    }
    let fails = vm
        .pointer("/status/startFailure/consecutiveFailCount")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if fails > 0 {
        out.crash_loop = true;
        out.notes
            .push(format!("crash loop: the last {fails} start(s) failed"));
    }
    if out.error.is_none() && !conditions.is_empty() {
        out.error = Some(conditions.join("; "));
    }
    out.ready = vm
        .pointer("/status/ready")
        .and_then(Value::as_bool)
        .or_else(|| condition(vm, "Ready").map(status_true));
    out
}

/// The strategy: `spec.runStrategy`, else `spec.running` (deprecated), never guessed.
fn strategy(vm: &Value, out: &mut DomainVm) {
    let run_strategy = vm.pointer("/spec/runStrategy").filter(|v| !v.is_null());
    let running = vm.pointer("/spec/running").filter(|v| !v.is_null());
    if let Some(value) = run_strategy {
        let Some(s) = value.as_str() else {
            out.notes
                .push("spec.runStrategy is not a string: run strategy unknown".to_owned());
            return;
        };
        let parsed = RunStrategy::parse(s);
        if let RunStrategy::Unknown(s) = &parsed {
            out.notes.push(format!(
                "unknown run strategy `{s}`: run state not compared"
            ));
        }
        if running.is_some() {
            out.notes.push(
                "both spec.runStrategy and the deprecated spec.running are set (KubeVirt \
                 rejects it): spec.runStrategy is used"
                    .to_owned(),
            );
        }
        out.strategy = Some(parsed);
    } else if let Some(value) = running {
        match value.as_bool() {
            Some(r) => {
                let s = if r {
                    RunStrategy::Always
                } else {
                    RunStrategy::Halted
                };
                out.notes.push(format!(
                    "spec.running: {r} is deprecated: read as run strategy {s}"
                ));
                out.strategy = Some(s);
                out.strategy_from_running = true;
            }
            None => out
                .notes
                .push("spec.running is not a boolean: run strategy unknown".to_owned()),
        }
    } else {
        out.notes.push(
            "no run strategy (neither spec.runStrategy nor spec.running): run state not compared"
                .to_owned(),
        );
    }
}

/// The state from `status.printableStatus` (`p`), the VMI deciding an unknown value.
fn from_printable(p: &str, vmi: Option<&Value>, conditions: &[String], out: &mut DomainVm) {
    match p {
        "Running" => out.state = VmState::Running,
        "Paused" => {
            out.state = VmState::Running;
            out.paused = true;
            out.notes.push("paused".to_owned());
        }
        "Migrating" => out.state = VmState::Migrating,
        "Stopping" | "Terminating" => out.state = VmState::Stopping,
        "Stopped" => out.state = VmState::Stopped,
        p if STARTING.contains(&p) => {
            out.state = VmState::Stopped;
            out.starting = true;
        }
        p if ERRORS.contains(&p) => {
            out.state = VmState::Failed;
            let mut error = format!("printableStatus {p}");
            if !conditions.is_empty() {
                error = format!("{error}: {}", conditions.join("; "));
            }
            out.error = Some(error);
        }
        other => {
            out.notes.push(format!("unknown printableStatus `{other}`"));
            if out.vmi_phase.is_some() {
                from_vmi(vmi, out);
            } else {
                out.state = VmState::Failed;
                out.error = Some(format!("unknown printableStatus {other} and no VMI phase"));
            }
        }
    }
}

/// The state from the VMI's `status.phase` (no VMI: stopped).
fn from_vmi(vmi: Option<&Value>, out: &mut DomainVm) {
    let Some(vmi) = vmi else {
        out.state = VmState::Stopped;
        return;
    };
    match out.vmi_phase.as_deref().unwrap_or("") {
        "Running" if migrating(vmi) => out.state = VmState::Migrating,
        "Running" => out.state = VmState::Running,
        "" | "Pending" | "Scheduling" | "Scheduled" | "WaitingForSync" => {
            out.state = VmState::Stopped;
            out.starting = true;
        }
        "Succeeded" => out.state = VmState::Stopped,
        "Failed" | "Unknown" => {
            out.state = VmState::Failed;
            out.error = Some(format!(
                "VMI phase {}",
                out.vmi_phase.as_deref().unwrap_or_default()
            ));
        }
        other => {
            out.state = VmState::Failed;
            out.error = Some(format!("unknown VMI phase {other}"));
        }
    }
}

/// Whether the VMI's `status.migrationState` is a migration in progress (started, neither
/// completed nor failed).
fn migrating(vmi: &Value) -> bool {
    let Some(state) = vmi
        .pointer("/status/migrationState")
        .filter(|v| v.is_object())
    else {
        return false;
    };
    let flag = |k: &str| state.get(k).and_then(Value::as_bool).unwrap_or(false);
    !flag("completed") && !flag("failed")
}

/// The VM's condition of `kind`, if listed.
fn condition<'a>(vm: &'a Value, kind: &str) -> Option<&'a Value> {
    vm.pointer("/status/conditions")
        .and_then(Value::as_array)?
        .iter()
        .find(|c| c.get("type").and_then(Value::as_str) == Some(kind))
}

fn status_true(c: &Value) -> bool {
    c.get("status").and_then(Value::as_str) == Some("True")
}

/// `Failure: reason: message` of each true condition that says the VM failed (`Failure`,
/// `ManualRecoveryRequired`).
fn failure_conditions(vm: &Value) -> Vec<String> {
    ["Failure", "ManualRecoveryRequired"]
        .into_iter()
        .filter_map(|kind| {
            let c = condition(vm, kind).filter(|c| status_true(c))?;
            let part = |k: &str| c.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
            let detail: Vec<&str> = [part("reason"), part("message")]
                .into_iter()
                .flatten()
                .collect();
            Some(if detail.is_empty() {
                kind.to_owned()
            } else {
                format!("{kind}: {}", detail.join(": "))
            })
        })
        .collect()
}

/// What [`compare`] compares.
#[derive(Debug, Clone, Copy)]
pub struct KubevirtInput<'a> {
    /// The listed `VirtualMachine`s.
    pub vms: &'a [Value],
    /// The listed `VirtualMachineInstance`s (matched to their VM by namespace and name).
    pub vmis: &'a [Value],
    /// `(namespace, name)` of every VM plinth renders.
    pub rendered: &'a BTreeSet<(String, String)>,
    /// `--all-vms`: every VM listed is compared, rendered or not.
    pub all_vms: bool,
}

/// The run state of every rendered VM (with `all_vms`, of every listed VM), sorted by
/// namespace and name; a rendered VM not listed is `missing`. A VM listed twice counts once
/// (the first), and a listed item without a name is left out.
pub fn compare(input: &KubevirtInput<'_>) -> Vec<VmRunResult> {
    let key = |v: &Value| {
        let name = v.pointer("/metadata/name").and_then(Value::as_str)?;
        let namespace = v
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("");
        Some((namespace.to_owned(), name.to_owned()))
    };
    let mut vmis: BTreeMap<(String, String), &Value> = BTreeMap::new();
    for vmi in input.vmis {
        if let Some(k) = key(vmi) {
            vmis.entry(k).or_insert(vmi);
        }
    }
    let mut results: BTreeMap<(String, String), VmRunResult> = BTreeMap::new();
    for vm in input.vms {
        let Some(k) = key(vm) else { continue };
        let rendered = input.rendered.contains(&k);
        if results.contains_key(&k) || !(rendered || input.all_vms) {
            continue;
        }
        let domain = map_vm(vm, vmis.get(&k).copied());
        results.insert(k, judge(&domain, rendered));
    }
    for (namespace, name) in input.rendered {
        let k = (namespace.clone(), name.clone());
        results.entry(k).or_insert_with(|| VmRunResult {
            namespace: namespace.clone(),
            name: name.clone(),
            rendered: true,
            status: RunStatus::Missing,
            state: None,
            strategy: None,
            strategy_from_running: false,
            printable_status: None,
            vmi_phase: None,
            error: None,
            crash_loop: false,
            ready: None,
            notes: vec!["rendered, not listed in the cluster".to_owned()],
        });
    }
    results.into_values().collect()
}

/// The run-state result of one mapped VM against its strategy.
pub fn judge(vm: &DomainVm, rendered: bool) -> VmRunResult {
    let mut notes = vm.notes.clone();
    let status = rule(vm, &mut notes);
    VmRunResult {
        namespace: vm.namespace.clone(),
        name: vm.name.clone(),
        rendered,
        status,
        state: Some(vm.state),
        strategy: vm.strategy.as_ref().map(|s| s.as_str().to_owned()),
        strategy_from_running: vm.strategy_from_running,
        printable_status: vm.printable_status.clone(),
        vmi_phase: vm.vmi_phase.clone(),
        error: vm.error.clone(),
        crash_loop: vm.crash_loop,
        ready: vm.ready,
        notes,
    }
}

/// The rules of the module documentation; notes what explains the result.
fn rule(vm: &DomainVm, notes: &mut Vec<String>) -> RunStatus {
    use RunStatus::{Drifted, Failed, InSync, Starting};
    let state = vm.state;
    let Some(strategy) = &vm.strategy else {
        return InSync;
    };
    match strategy {
        RunStrategy::Always => {
            if state == VmState::Failed {
                Failed
            } else if vm.crash_loop {
                notes.push("run strategy Always but crash-looping".to_owned());
                Drifted
            } else if state.is_up() {
                InSync
            } else if vm.starting {
                Starting
            } else {
                notes.push(format!("run strategy Always but {state}"));
                Drifted
            }
        }
        RunStrategy::Halted => {
            if state == VmState::Failed {
                Failed
            } else if state.is_up() || vm.starting {
                let what = if vm.starting {
                    "starting"
                } else {
                    state.as_str()
                };
                notes.push(format!("run strategy Halted but {what}"));
                Drifted
            } else {
                if state == VmState::Stopping {
                    notes.push("stopping, as run strategy Halted asks".to_owned());
                }
                InSync
            }
        }
        RunStrategy::Manual => {
            if state == VmState::Failed {
                notes.push(format!(
                    "in an error state ({}): not drift, the run strategy is Manual",
                    vm.error.as_deref().unwrap_or("no detail")
                ));
                InSync
            } else if vm.starting {
                Starting
            } else {
                InSync
            }
        }
        RunStrategy::RerunOnFailure => {
            if state == VmState::Failed || vm.crash_loop {
                Failed
            } else if state.is_up() {
                InSync
            } else if vm.starting {
                Starting
            } else if state == VmState::Stopping {
                notes.push("stopping".to_owned());
                InSync
            } else if vm.vmi_phase.as_deref() == Some("Succeeded")
                || (vm.printable_status.as_deref() == Some("Stopped")
                    && vm.status_strategy.is_some())
            {
                notes.push("stopped after a successful run (not restarted)".to_owned());
                InSync
            } else {
                notes.push(
                    "run strategy RerunOnFailure but stopped without a successful run".to_owned(),
                );
                Drifted
            }
        }
        RunStrategy::Once => {
            if vm.starting {
                return Starting;
            }
            if state == VmState::Failed {
                notes.push(format!(
                    "run strategy Once: ended in failure ({}), not restarted",
                    vm.error.as_deref().unwrap_or("no detail")
                ));
            } else if state == VmState::Stopped {
                notes.push("stopped after its one run".to_owned());
            }
            InSync
        }
        RunStrategy::WaitAsReceiver => {
            notes.push(
                "run strategy WaitAsReceiver: a receiver of an incoming migration, not compared"
                    .to_owned(),
            );
            InSync
        }
        RunStrategy::Unknown(_) => InSync,
    }
}

#[cfg(test)]
#[path = "kubevirt_tests.rs"]
mod tests;
