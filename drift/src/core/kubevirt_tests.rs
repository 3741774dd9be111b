//! Tests of the KubeVirt mapping, the run-state rules, and the KubeVirt section of every
//! report format.

use std::collections::BTreeSet;

use plinth_vocab::redact::Redactor;
use serde_json::{Value, json};

use super::*;
use crate::core::report::{Format, Mode, Report, Verdict, rfc3339};

/// A VM in `apps` named `name` with `spec` and `status`.
fn vm(name: &str, spec: Value, status: Value) -> Value {
    let mut vm = json!({
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachine",
        "metadata": {"namespace": "apps", "name": name},
    });
    vm["spec"] = spec;
    vm["status"] = status;
    vm
}

/// A VMI in `apps` named `name` with `status`.
fn vmi(name: &str, status: Value) -> Value {
    let mut vmi = json!({
        "apiVersion": "kubevirt.io/v1",
        "kind": "VirtualMachineInstance",
        "metadata": {"namespace": "apps", "name": name},
    });
    vmi["status"] = status;
    vmi
}

/// A VM with `runStrategy` `strategy` and `printableStatus` `printable`.
fn with(strategy: &str, printable: &str) -> Value {
    vm(
        "v",
        json!({"runStrategy": strategy}),
        json!({"printableStatus": printable}),
    )
}

fn state(vm: &Value) -> (VmState, bool) {
    let d = map_vm(vm, None);
    (d.state, d.starting)
}

/// The result of `vm` (with `vmi`), rendered.
fn judged(vm: &Value, vmi: Option<&Value>) -> VmRunResult {
    judge(&map_vm(vm, vmi), true)
}

fn status(vm: &Value) -> RunStatus {
    judged(vm, None).status
}

fn has_note(r: &VmRunResult, part: &str) -> bool {
    r.notes.iter().any(|n| n.contains(part))
}

// --- mapping ---------------------------------------------------------------------------

#[test]
fn printable_status_maps_to_the_domain_state() {
    for (p, want) in [
        ("Running", (VmState::Running, false)),
        ("Paused", (VmState::Running, false)),
        ("Migrating", (VmState::Migrating, false)),
        ("Stopping", (VmState::Stopping, false)),
        ("Terminating", (VmState::Stopping, false)),
        ("Stopped", (VmState::Stopped, false)),
        ("Starting", (VmState::Stopped, true)),
        ("Provisioning", (VmState::Stopped, true)),
        ("WaitingForVolumeBinding", (VmState::Stopped, true)),
        ("WaitingForReceiver", (VmState::Stopped, true)),
    ] {
        assert_eq!(state(&with("Always", p)), want, "{p}");
    }
    let paused = map_vm(&with("Always", "Paused"), None);
    assert!(paused.paused && paused.notes.iter().any(|n| n == "paused"));
}

#[test]
fn error_printable_statuses_are_failed_with_the_error_text() {
    let errors = "CrashLoopBackOff ErrorUnschedulable ErrImagePull ImagePullBackOff \
                  ErrorPvcNotFound DataVolumeError Unknown";
    for p in errors.split_whitespace() {
        let d = map_vm(&with("Always", p), None);
        assert_eq!(d.state, VmState::Failed, "{p}");
        assert_eq!(
            d.error.as_deref(),
            Some(format!("printableStatus {p}").as_str())
        );
    }
    let v = vm(
        "v",
        json!({"runStrategy": "Always"}),
        json!({"printableStatus": "ErrorUnschedulable", "conditions": [
            {"type": "Ready", "status": "False"},
            {"type": "Failure", "status": "True", "reason": "FailedCreate",
             "message": "0/3 nodes are available: insufficient memory"},
        ]}),
    );
    let d = map_vm(&v, None);
    assert_eq!(
        d.error.as_deref(),
        Some(
            "printableStatus ErrorUnschedulable: Failure: FailedCreate: 0/3 nodes are available: insufficient memory"
        )
    );
    assert_eq!(d.ready, Some(false));
}

#[test]
fn a_true_failure_condition_is_the_error() {
    let condition = |s: &str| {
        vm(
            "v",
            json!({"runStrategy": "Always"}),
            json!({"printableStatus": "Running", "conditions": [
                {"type": "Failure", "status": s, "reason": "R", "message": "M"}]}),
        )
    };
    assert_eq!(
        map_vm(&condition("True"), None).error.as_deref(),
        Some("Failure: R: M")
    );
    assert_eq!(map_vm(&condition("False"), None).error, None);
}

#[test]
fn an_unknown_printable_status_is_decided_by_the_vmi_else_failed() {
    let v = with("Always", "SomethingNew");
    let running = map_vm(&v, Some(&vmi("v", json!({"phase": "Running"}))));
    assert_eq!(running.state, VmState::Running);
    assert!(running.notes.iter().any(|n| n.contains("SomethingNew")));
    let alone = map_vm(&v, None);
    assert_eq!(alone.state, VmState::Failed);
    assert!(alone.error.unwrap().contains("SomethingNew"));
}

#[test]
fn without_printable_status_the_vmi_phase_decides() {
    let spec = json!({"runStrategy": "Always"});
    let v = vm("v", spec.clone(), json!({}));
    for (phase, want) in [
        (json!("Running"), (VmState::Running, false)),
        (json!("Pending"), (VmState::Stopped, true)),
        (json!("Scheduling"), (VmState::Stopped, true)),
        (json!("Scheduled"), (VmState::Stopped, true)),
        (json!(""), (VmState::Stopped, true)),
        (json!(null), (VmState::Stopped, true)),
        (json!("Succeeded"), (VmState::Stopped, false)),
        (json!("Failed"), (VmState::Failed, false)),
        (json!("Unknown"), (VmState::Failed, false)),
    ] {
        let d = map_vm(&v, Some(&vmi("v", json!({"phase": phase}))));
        assert_eq!((d.state, d.starting), want, "{phase}");
    }
    let migrating = vmi(
        "v",
        json!({"phase": "Running", "migrationState": {"startTimestamp": "t"}}),
    );
    assert_eq!(map_vm(&v, Some(&migrating)).state, VmState::Migrating);
    let done = vmi(
        "v",
        json!({"phase": "Running", "migrationState": {"completed": true}}),
    );
    assert_eq!(map_vm(&v, Some(&done)).state, VmState::Running);
}

#[test]
fn no_vmi_and_no_status_is_stopped() {
    let bare = json!({"metadata": {"namespace": "apps", "name": "v"}});
    let d = map_vm(&bare, None);
    assert_eq!((d.state, d.starting), (VmState::Stopped, false));
}

#[test]
fn start_failures_are_a_crash_loop() {
    let v = vm(
        "v",
        json!({"runStrategy": "Always"}),
        json!({"printableStatus": "Starting", "startFailure": {"consecutiveFailCount": 3}}),
    );
    let d = map_vm(&v, None);
    assert!(d.crash_loop);
    let zero = vm(
        "v",
        json!({"runStrategy": "Always"}),
        json!({"printableStatus": "Starting", "startFailure": {"consecutiveFailCount": 0}}),
    );
    assert!(!map_vm(&zero, None).crash_loop);
}

/// Any shape maps to a defined state: absent, null and wrong-typed fields, a VMI that is not
/// an object.
#[test]
fn any_shape_maps_without_panic() {
    let odd = [
        json!(null),
        json!(42),
        json!("vm"),
        json!([]),
        json!({}),
        json!({"metadata": [], "spec": "x", "status": 7}),
        json!({"spec": {"runStrategy": 3, "running": "yes"}, "status": {"printableStatus": false}}),
        json!({"status": {"conditions": "Failure", "startFailure": {"consecutiveFailCount": "9"}}}),
        json!({"status": {"conditions": [null, 1, {"type": 5}], "ready": "true"}}),
    ];
    let vmis = [
        None,
        Some(json!(null)),
        Some(json!([])),
        Some(json!({"status": {"phase": 1}})),
        Some(json!({"status": {"phase": "Running", "migrationState": 1}})),
    ];
    for v in &odd {
        for i in &vmis {
            let d = map_vm(v, i.as_ref());
            let _ = judge(&d, false);
        }
    }
    let d = map_vm(&json!({"spec": {"runStrategy": 3}}), None);
    assert_eq!((d.state, d.strategy), (VmState::Stopped, None));
}

// --- strategy --------------------------------------------------------------------------

#[test]
fn deprecated_running_is_read_as_its_strategy() {
    for (running, want) in [(true, RunStrategy::Always), (false, RunStrategy::Halted)] {
        let v = vm(
            "v",
            json!({"running": running}),
            json!({"printableStatus": "Stopped"}),
        );
        let d = map_vm(&v, None);
        assert_eq!(d.strategy, Some(want));
        assert!(d.strategy_from_running);
        assert!(d.notes.iter().any(|n| n.contains("deprecated")), "{d:?}");
    }
    let r = judged(
        &vm(
            "v",
            json!({"running": true}),
            json!({"printableStatus": "Stopped"}),
        ),
        None,
    );
    assert_eq!(r.status, RunStatus::Drifted);
    assert!(r.strategy_from_running);
}

#[test]
fn both_set_run_strategy_wins_with_a_note() {
    let v = vm(
        "v",
        json!({"runStrategy": "Halted", "running": true}),
        json!({"printableStatus": "Stopped"}),
    );
    let d = map_vm(&v, None);
    assert_eq!(d.strategy, Some(RunStrategy::Halted));
    assert!(!d.strategy_from_running);
    assert!(d.notes.iter().any(|n| n.contains("KubeVirt rejects it")));
}

#[test]
fn no_strategy_is_in_sync_with_a_note_never_guessed() {
    let r = judged(
        &vm("v", json!({}), json!({"printableStatus": "Running"})),
        None,
    );
    assert_eq!(r.status, RunStatus::InSync);
    assert_eq!(r.strategy, None);
    assert!(has_note(&r, "no run strategy"), "{r:?}");
    let stopped = judged(
        &vm("v", json!({}), json!({"printableStatus": "Stopped"})),
        None,
    );
    assert_eq!(stopped.status, RunStatus::InSync);
}

#[test]
fn an_unknown_strategy_is_kept_verbatim_with_a_note() {
    let r = judged(&with("Sometimes", "Stopped"), None);
    assert_eq!(r.status, RunStatus::InSync);
    assert_eq!(r.strategy.as_deref(), Some("Sometimes"));
    assert!(has_note(&r, "unknown run strategy `Sometimes`"), "{r:?}");
}

// --- run-state rules ---------------------------------------------------------------------

#[test]
fn always_but_not_running_is_drifted() {
    for p in ["Stopped", "Stopping"] {
        let r = judged(&with("Always", p), None);
        assert_eq!(r.status, RunStatus::Drifted, "{p}");
        assert!(has_note(&r, "run strategy Always but"), "{r:?}");
    }
    assert_eq!(status(&with("Always", "Running")), RunStatus::InSync);
    assert_eq!(status(&with("Always", "Paused")), RunStatus::InSync);
}

#[test]
fn always_but_crash_looping_is_drifted() {
    let v = vm(
        "v",
        json!({"runStrategy": "Always"}),
        json!({"printableStatus": "Stopped", "startFailure": {"consecutiveFailCount": 4}}),
    );
    let r = judged(&v, None);
    assert_eq!(r.status, RunStatus::Drifted);
    assert!(r.crash_loop && has_note(&r, "crash-looping"), "{r:?}");
}

#[test]
fn always_and_failed_is_failed_with_the_error() {
    let r = judged(&with("Always", "ErrImagePull"), None);
    assert_eq!(r.status, RunStatus::Failed);
    assert_eq!(r.error.as_deref(), Some("printableStatus ErrImagePull"));
    assert_eq!(
        status(&with("Always", "CrashLoopBackOff")),
        RunStatus::Failed
    );
}

#[test]
fn always_and_starting_is_starting() {
    assert_eq!(status(&with("Always", "Starting")), RunStatus::Starting);
    assert!(!RunStatus::Starting.is_finding());
}

#[test]
fn always_and_migrating_counts_as_running() {
    assert_eq!(status(&with("Always", "Migrating")), RunStatus::InSync);
}

#[test]
fn halted_but_running_is_drifted() {
    for p in ["Running", "Migrating", "Paused", "Starting"] {
        let r = judged(&with("Halted", p), None);
        assert_eq!(r.status, RunStatus::Drifted, "{p}");
        assert!(has_note(&r, "run strategy Halted but"), "{r:?}");
    }
    assert_eq!(status(&with("Halted", "Stopped")), RunStatus::InSync);
}

#[test]
fn halted_and_stopping_is_in_sync_with_a_note() {
    let r = judged(&with("Halted", "Stopping"), None);
    assert_eq!(r.status, RunStatus::InSync);
    assert!(has_note(&r, "stopping"), "{r:?}");
}

#[test]
fn manual_never_drifts_an_error_state_included() {
    for p in [
        "Running",
        "Stopped",
        "Stopping",
        "Migrating",
        "ErrorPvcNotFound",
    ] {
        assert_eq!(status(&with("Manual", p)), RunStatus::InSync, "{p}");
    }
    assert_eq!(status(&with("Manual", "Starting")), RunStatus::Starting);
    let r = judged(&with("Manual", "ErrorPvcNotFound"), None);
    assert!(r.error.is_some(), "the error is kept: {r:?}");
    assert!(
        has_note(&r, "not drift, the run strategy is Manual"),
        "{r:?}"
    );
}

#[test]
fn rerun_on_failure_stopped_after_success_is_in_sync() {
    let after_success = judged(
        &vm("v", json!({"runStrategy": "RerunOnFailure"}), json!({})),
        Some(&vmi("v", json!({"phase": "Succeeded"}))),
    );
    assert_eq!(after_success.status, RunStatus::InSync);
    let history = vm(
        "v",
        json!({"runStrategy": "RerunOnFailure"}),
        json!({"printableStatus": "Stopped", "runStrategy": "RerunOnFailure"}),
    );
    let r = judged(&history, None);
    assert_eq!(r.status, RunStatus::InSync);
    assert!(has_note(&r, "after a successful run"), "{r:?}");
    // Stopped with no sign of a run: the strategy asks for one.
    assert_eq!(
        status(&with("RerunOnFailure", "Stopped")),
        RunStatus::Drifted
    );
    assert_eq!(
        status(&with("RerunOnFailure", "Running")),
        RunStatus::InSync
    );
}

#[test]
fn rerun_on_failure_failed_or_crash_looping_is_failed() {
    assert_eq!(
        status(&with("RerunOnFailure", "CrashLoopBackOff")),
        RunStatus::Failed
    );
    let looping = vm(
        "v",
        json!({"runStrategy": "RerunOnFailure"}),
        json!({"printableStatus": "Stopped", "runStrategy": "RerunOnFailure",
               "startFailure": {"consecutiveFailCount": 2}}),
    );
    assert_eq!(status(&looping), RunStatus::Failed);
}

#[test]
fn once_stopped_after_completion_is_normal_and_a_failure_is_a_note() {
    let spec = json!({"runStrategy": "Once"});
    let succeeded = judged(
        &vm("v", spec.clone(), json!({})),
        Some(&vmi("v", json!({"phase": "Succeeded"}))),
    );
    assert_eq!(succeeded.status, RunStatus::InSync);
    let failed = judged(
        &vm("v", spec, json!({})),
        Some(&vmi("v", json!({"phase": "Failed"}))),
    );
    assert_eq!(failed.status, RunStatus::InSync);
    assert!(
        has_note(&failed, "ended in failure (VMI phase Failed)"),
        "{failed:?}"
    );
    assert_eq!(status(&with("Once", "Running")), RunStatus::InSync);
}

#[test]
fn wait_as_receiver_is_in_sync_with_a_note() {
    let r = judged(&with("WaitAsReceiver", "WaitingForReceiver"), None);
    assert_eq!(r.status, RunStatus::InSync);
    assert!(has_note(&r, "WaitAsReceiver"), "{r:?}");
}

// --- compare -----------------------------------------------------------------------------

fn rendered(names: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    names
        .iter()
        .map(|(n, m)| ((*n).to_owned(), (*m).to_owned()))
        .collect()
}

#[test]
fn a_rendered_vm_absent_from_the_listing_is_missing() {
    let vms = [with("Always", "Running")];
    let want = rendered(&[("apps", "v"), ("apps", "gone")]);
    let results = compare(&KubevirtInput {
        vms: &vms,
        vmis: &[],
        rendered: &want,
        all_vms: false,
    });
    let statuses: Vec<_> = results
        .iter()
        .map(|r| (r.name.as_str(), r.status))
        .collect();
    assert_eq!(
        statuses,
        [("gone", RunStatus::Missing), ("v", RunStatus::InSync)]
    );
    assert_eq!(results[0].state, None);
}

#[test]
fn only_rendered_vms_are_compared_unless_all_vms() {
    let vms = [
        vm(
            "mine",
            json!({"runStrategy": "Always"}),
            json!({"printableStatus": "Running"}),
        ),
        vm(
            "other",
            json!({"runStrategy": "Always"}),
            json!({"printableStatus": "Stopped"}),
        ),
    ];
    let want = rendered(&[("apps", "mine")]);
    let input = |all_vms| KubevirtInput {
        vms: &vms,
        vmis: &[],
        rendered: &want,
        all_vms,
    };
    let only = compare(&input(false));
    assert_eq!(only.len(), 1);
    let all = compare(&input(true));
    assert_eq!(all.len(), 2);
    assert!(all[0].rendered && !all[1].rendered);
    assert_eq!(all[1].status, RunStatus::Drifted);
    assert!(all[1].lines().iter().any(|l| l.contains("--all-vms")));
}

#[test]
fn vmis_are_matched_by_namespace_and_name() {
    let vms = [vm("v", json!({"runStrategy": "Always"}), json!({}))];
    let mut elsewhere = vmi("v", json!({"phase": "Running"}));
    elsewhere["metadata"]["namespace"] = json!("other");
    let want = rendered(&[("apps", "v")]);
    let input = |vmis| {
        compare(&KubevirtInput {
            vms: &vms,
            vmis,
            rendered: &want,
            all_vms: false,
        })
    };
    let elsewhere = [elsewhere];
    assert_eq!(input(&elsewhere)[0].status, RunStatus::Drifted);
    let here = [vmi("v", json!({"phase": "Running"}))];
    assert_eq!(input(&here)[0].status, RunStatus::InSync);
}

#[test]
fn results_are_sorted_and_a_vm_listed_twice_counts_once() {
    let mut b = with("Always", "Running");
    b["metadata"] = json!({"namespace": "b", "name": "x"});
    let mut a2 = with("Always", "Running");
    a2["metadata"] = json!({"namespace": "a", "name": "y"});
    let mut a1 = with("Always", "Stopped");
    a1["metadata"] = json!({"namespace": "a", "name": "x"});
    let unnamed = json!({"metadata": {"namespace": "a"}});
    let vms = [b, a2.clone(), a1, a2, unnamed];
    let none = BTreeSet::new();
    let results = compare(&KubevirtInput {
        vms: &vms,
        vmis: &[],
        rendered: &none,
        all_vms: true,
    });
    let keys: Vec<_> = results
        .iter()
        .map(|r| format!("{}/{}", r.namespace, r.name))
        .collect();
    assert_eq!(keys, ["a/x", "a/y", "b/x"]);
    let report = KubevirtReport::new("snapshot", true, results.into_iter().rev().collect());
    let keys: Vec<_> = report.vms.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(keys, ["x", "y", "x"]);
    assert_eq!(report.summary_line(), "3 VMs: 2 in-sync, 1 drifted");
}

// --- report ------------------------------------------------------------------------------

const TOKEN: &str = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5";

/// A report with every run status, a secret and an escape sequence in a condition message.
fn report() -> Report {
    let vms = [
        vm(
            "ok",
            json!({"runStrategy": "Always"}),
            json!({"printableStatus": "Running"}),
        ),
        vm(
            "booting",
            json!({"runStrategy": "Always"}),
            json!({"printableStatus": "Starting"}),
        ),
        vm(
            "down",
            json!({"runStrategy": "Always"}),
            json!({"printableStatus": "Stopped"}),
        ),
        vm(
            "broken",
            json!({"runStrategy": "Always"}),
            json!({"printableStatus": "ErrImagePull", "conditions": [
                {"type": "Failure", "status": "True", "reason": "Pull",
                 "message": format!("token {TOKEN}\u{1b}[2J\nend")}]}),
        ),
    ];
    let want = rendered(&[
        ("apps", "ok"),
        ("apps", "booting"),
        ("apps", "down"),
        ("apps", "broken"),
        ("apps", "gone"),
    ]);
    let results = compare(&KubevirtInput {
        vms: &vms,
        vmis: &[],
        rendered: &want,
        all_vms: false,
    });
    Report::new("c", rfc3339(0), Mode::Client, "cluster", vec![], vec![])
        .with_kubevirt(KubevirtReport::new("cluster", false, results))
        .redacted(&Redactor::with_key(b"k"))
}

#[test]
fn every_string_is_redacted_and_printable() {
    let report = report();
    let kubevirt = report.kubevirt.as_ref().unwrap();
    let broken = kubevirt.vms.iter().find(|v| v.name == "broken").unwrap();
    let error = broken.error.as_deref().unwrap();
    assert!(!error.contains("ghp_aB3dE5"), "{error}");
    assert!(!error.chars().any(char::is_control), "{error:?}");
    for format in Format::ALL {
        let out = format.render(&report);
        assert!(!out.contains("ghp_aB3dE5"), "{}: {out}", format.name());
        assert!(!out.contains('\u{1b}'), "{}: {out}", format.name());
    }
    let long = KubevirtReport::new(
        "cluster",
        false,
        vec![judged(
            &vm(
                "v",
                json!({"runStrategy": "Always"}),
                json!({"printableStatus": "Unknown", "conditions": [
                    {"type": "Failure", "status": "True", "message": "x".repeat(2000)}]}),
            ),
            None,
        )],
    )
    .redacted(&Redactor::with_key(b"k"));
    assert!(long.vms[0].error.as_ref().unwrap().chars().count() <= 501);
}

#[test]
fn findings_are_drift_for_the_verdict() {
    assert_eq!(report().verdict(), Verdict::Drift);
    let quiet = KubevirtReport::new(
        "snapshot",
        false,
        vec![
            judged(&with("Always", "Running"), None),
            judged(&with("Always", "Starting"), None),
        ],
    );
    assert!(!quiet.has_findings());
    let report =
        Report::new("c", rfc3339(0), Mode::Client, "snapshot", vec![], vec![]).with_kubevirt(quiet);
    assert_eq!(report.verdict(), Verdict::InSync);
}

#[test]
fn text_lists_findings_under_kubevirt_vms() {
    let text = Format::Text.render(&report());
    let section = &text[text
        .find("KubeVirt VMs (listed from the cluster, rendered VMs)\n")
        .unwrap()..];
    assert!(
        section.contains("5 VMs: 1 in-sync, 1 starting, 1 drifted, 1 failed, 1 missing\n"),
        "{section}"
    );
    assert!(
        section.contains(
            "drifted   vm `apps/down`\n    state stopped, run strategy Always, printableStatus Stopped\n    run strategy Always but stopped\n"
        ),
        "{section}"
    );
    assert!(
        section.contains("failed    vm `apps/broken`\n"),
        "{section}"
    );
    assert!(
        section.contains("    error: printableStatus ErrImagePull: Failure: Pull: token <redacted"),
        "{section}"
    );
    assert!(
        section.contains("missing   vm `apps/gone`\n    rendered, not listed in the cluster\n"),
        "{section}"
    );
    assert!(
        !section.contains("apps/ok") && !section.contains("apps/booting"),
        "{section}"
    );
}

#[test]
fn markdown_lists_findings_under_kubevirt_vms() {
    let md = Format::Markdown.render(&report());
    assert!(
        md.contains("\n## KubeVirt VMs (listed from the cluster, rendered VMs)\n\n| Status | VMs |\n|---|---:|\n| in-sync | 1 |\n| starting | 1 |\n| drifted | 1 |\n| failed | 1 |\n| missing | 1 |\n| **total** | **5** |\n"),
        "{md}"
    );
    assert!(
        md.contains("\n### drifted vm `apps/down`\n\n- state stopped, run strategy Always, printableStatus Stopped\n- run strategy Always but stopped\n"),
        "{md}"
    );
    assert!(!md.contains("apps/ok"), "{md}");
}

#[test]
fn junit_has_one_test_case_per_vm() {
    let junit = Format::Junit.render(&report());
    assert!(junit.contains("tests=\"5\" failures=\"3\""), "{junit}");
    for name in ["ok", "booting", "down", "broken", "gone"] {
        let case = format!("<testcase classname=\"c.VirtualMachine\" name=\"vm/apps/{name}\">");
        assert_eq!(junit.matches(&case).count(), 1, "{name}: {junit}");
    }
    assert!(
        junit.contains("<failure message=\"drifted vm `apps/down`\" type=\"drifted\">"),
        "{junit}"
    );
    assert!(
        junit.contains("name=\"vm/apps/booting\">\n      <system-out>starting\n"),
        "{junit}"
    );
}

#[test]
fn prometheus_counts_every_status_with_zeros() {
    let prometheus = Format::Prometheus.render(&report());
    for (status, n) in [
        ("in-sync", 1),
        ("starting", 1),
        ("drifted", 1),
        ("failed", 1),
        ("missing", 1),
    ] {
        let line = format!("plinth_drift_kubevirt_vms{{cluster=\"c\",status=\"{status}\"}} {n}\n");
        assert!(prometheus.contains(&line), "{line}: {prometheus}");
    }
    let empty = Report::new("c", rfc3339(0), Mode::Client, "snapshot", vec![], vec![])
        .with_kubevirt(KubevirtReport::new("snapshot", false, vec![]));
    let prometheus = Format::Prometheus.render(&empty);
    assert_eq!(
        prometheus.matches("plinth_drift_kubevirt_vms{").count(),
        5,
        "{prometheus}"
    );
    assert!(prometheus.contains("plinth_drift_kubevirt_vms{cluster=\"c\",status=\"missing\"} 0\n"));
}

#[test]
fn json_names_are_camel_case_and_absent_without_kubevirt() {
    let json = serde_json::to_value(report()).unwrap();
    let kubevirt = &json["kubevirt"];
    assert_eq!(kubevirt["source"], "cluster");
    assert_eq!(kubevirt["allVms"], false);
    assert_eq!(kubevirt["summary"]["in-sync"], 1);
    let down = &kubevirt["vms"][2];
    assert_eq!(down["name"], "down");
    assert_eq!(down["status"], "drifted");
    assert_eq!(down["state"], "stopped");
    assert_eq!(down["strategy"], "Always");
    assert_eq!(down["strategyFromRunning"], false);
    assert_eq!(down["printableStatus"], "Stopped");
    let plain = Report::new("c", rfc3339(0), Mode::Client, "snapshot", vec![], vec![]);
    assert!(
        serde_json::to_value(plain)
            .unwrap()
            .get("kubevirt")
            .is_none()
    );
}
