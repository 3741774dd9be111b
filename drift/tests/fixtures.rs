//! Fixture cases: one folder per case under `tests/fixtures/` with `desired.yaml` (the
//! rendered objects) and `live.yaml` (a `kubectl get -o yaml` snapshot), read as `plinth drift
//! --snapshot` reads them (namespace defaulting included). The text report is snapshotted; a
//! case named `*-sync` must be in sync and a `*-drift` case must find drift.

use std::path::{Path, PathBuf};

use plinth_drift::core::report::{Format, Mode, Report, Verdict, rfc3339};
use plinth_drift::core::{desired, pipeline};
use plinth_drift::source::snapshot;
use plinth_testkit::fields::managed_entry as entry;

const PREFIX: &str = "platform.kubevirt.io";
const CLUSTER: &str = "test";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn run(case: &str) -> Report {
    let (desired, live) = load(case);
    report(&desired, &live, 1_767_225_600)
}

/// The desired objects and the live snapshot of `case`.
fn load(case: &str) -> (Vec<plinth_drift::DesiredObject>, plinth_drift::LiveSet) {
    let dir = fixtures().join(case);
    let text = fs_err::read_to_string(dir.join("desired.yaml")).expect("test setup");
    let values = plinth_vocab::yaml::from_str_multi(&text).expect("test setup");
    let mut desired = desired::from_values(values, "example");
    let live = snapshot::load_for(&dir.join("live.yaml"), &mut desired, None).expect("test setup");
    (desired, live)
}

/// The client-side report of `desired` against `live`, made at `epoch`.
fn report(
    desired: &[plinth_drift::DesiredObject],
    live: &plinth_drift::LiveSet,
    epoch: i64,
) -> Report {
    let objects = pipeline::run_client_side(desired, live, PREFIX, CLUSTER);
    Report::new(
        CLUSTER,
        rfc3339(epoch),
        Mode::Client,
        "snapshot",
        objects,
        Vec::new(),
    )
}

/// Each object's status, the object named by `name`.
fn statuses(
    report: &Report,
    name: fn(&plinth_drift::ObjectResult) -> String,
) -> Vec<(String, plinth_drift::Status)> {
    report.objects.iter().map(|o| (name(o), o.status)).collect()
}

/// `rows` with owned names, to compare with [`statuses`].
fn owned(rows: &[(&str, plinth_drift::Status)]) -> Vec<(String, plinth_drift::Status)> {
    rows.iter().map(|(n, s)| ((*n).to_owned(), *s)).collect()
}

fn check(case: &str) {
    let report = run(case);
    let text = Format::Text.render(&report);
    let expected = if case.ends_with("-sync") {
        Verdict::InSync
    } else {
        Verdict::Drift
    };
    assert_eq!(report.verdict(), expected, "{case}:\n{text}");
    insta::assert_snapshot!(case, text);
}

macro_rules! cases {
    ($($name:ident => $folder:literal,)*) => {
        $(
            #[test]
            fn $name() {
                check($folder);
            }
        )*

        #[test]
        fn every_fixture_folder_has_a_test() {
            let known = [$($folder),*];
            for entry in fs_err::read_dir(fixtures()).expect("test setup") {
                let name = entry.expect("test setup").file_name().to_string_lossy().into_owned();
                assert!(known.contains(&name.as_str()), "fixture folder `{name}` has no test");
            }
        }
    };
}

cases! {
    server_defaults_sync => "server-defaults-sync",
    server_defaults_drift => "server-defaults-drift",
    reordered_lists_sync => "reordered-lists-sync",
    reordered_lists_drift => "reordered-lists-drift",
    quantities_sync => "quantities-sync",
    quantities_drift => "quantities-drift",
    cpu_number_string_sync => "cpu-number-string-sync",
    cpu_number_string_drift => "cpu-number-string-drift",
    managed_fields_sync => "managed-fields-sync",
    managed_fields_drift => "managed-fields-drift",
    status_sync => "status-sync",
    status_drift => "status-drift",
    overrides_drift => "overrides-drift",
    omitted_zero_values_sync => "omitted-zero-values-sync",
    omitted_zero_values_drift => "omitted-zero-values-drift",
    default_namespace_sync => "default-namespace-sync",
    default_namespace_drift => "default-namespace-drift",
    ignore_fields_reordered_sync => "ignore-fields-reordered-sync",
    ignore_fields_reordered_drift => "ignore-fields-reordered-drift",
    orphan_kinds_sync => "orphan-kinds-sync",
    orphan_kinds_drift => "orphan-kinds-drift",
    api_versions_sync => "api-versions-sync",
    api_versions_drift => "api-versions-drift",
    live_only_lists_drift => "live-only-lists-drift",
    live_only_data_drift => "live-only-data-drift",
    live_only_security_drift => "live-only-security-drift",
    live_only_owned_sync => "live-only-owned-sync",
}

/// Each drift case finds exactly the fields that were changed in its live copy, no more.
#[test]
fn drift_cases_find_exactly_the_changed_fields() {
    let expect: &[(&str, &[&str])] = &[
        (
            "server-defaults-drift",
            &[
                "/spec/template/spec/containers/0/image",
                "/spec/ports/0/targetPort",
            ],
        ),
        (
            "reordered-lists-drift",
            &[
                "/spec/template/spec/containers/1/env/1/value",
                "/spec/template/spec/domain/devices/interfaces/0/bridge",
                "/spec/groups/1/rules/1/for",
            ],
        ),
        (
            "quantities-drift",
            &[
                "/spec/template/spec/containers/0/resources/requests/memory",
                "/spec/template/spec/domain/memory/guest",
            ],
        ),
        (
            "cpu-number-string-drift",
            &[
                "/spec/containers/0/resources/requests/cpu",
                "/spec/hard/pods",
            ],
        ),
        (
            "managed-fields-drift",
            &["/metadata/labels/plinth.dev~1cluster"],
        ),
        (
            "status-drift",
            &["/spec/liveMigrationConfig/parallelMigrationsPerCluster"],
        ),
        (
            "omitted-zero-values-drift",
            &[
                "/spec/paused",
                "/spec/template/spec/containers/0/args/0",
                "/spec/template/spec/containers/0/env/0/value",
                "/spec/template/spec/containers/0/volumeMounts/0/readOnly",
                "/spec/featureGates/deployKubeSecondaryDNS",
                "/spec/liveMigrationConfig/parallelMigrationsPerCluster",
                "/metadata/labels",
                "/spec/automountServiceAccountToken",
                "/spec/containers/0/securityContext/allowPrivilegeEscalation",
            ],
        ),
        (
            "default-namespace-drift",
            &["/data/mode", "/rules/0/verbs/2"],
        ),
        (
            "ignore-fields-reordered-drift",
            &[
                "/spec/template/spec/containers/0/image",
                "/spec/template/spec/containers/1/env/1/value",
                "/spec/template/spec/domain/devices/disks/1/disk/bus",
            ],
        ),
        (
            "api-versions-drift",
            &["/spec/runStrategy", "/spec/maxReplicas"],
        ),
        (
            "live-only-lists-drift",
            &[
                "/spec/template/spec/initContainers/0",
                "/spec/template/spec/containers/0",
                "/spec/template/spec/containers/1/ports/0",
                "/spec/template/spec/containers/1/env/1",
                "/spec/template/spec/containers/1/volumeMounts/1",
                "/spec/template/spec/volumes/1",
                "/spec/template/spec/tolerations/1",
                "/spec/ports/1",
                "/spec/template/spec/domain/devices/disks/1",
                "/spec/template/spec/domain/devices/interfaces/1",
                "/spec/template/spec/networks/1",
                "/spec/groups/0/rules/1",
            ],
        ),
        (
            "live-only-data-drift",
            &["/data/debug", "/binaryData/payload.bin", "/data/password"],
        ),
        (
            "live-only-security-drift",
            &[
                "/spec/hostPID",
                "/spec/securityContext/runAsUser",
                "/spec/paused",
                "/spec/template/spec/hostNetwork",
                "/spec/template/spec/containers/0/securityContext/privileged",
                "/spec/template/spec/containers/0/securityContext/allowPrivilegeEscalation",
                "/spec/template/spec/containers/0/securityContext/capabilities/add",
                "/spec/template/spec/hostIPC",
                "/spec/template/spec/initContainers/0/securityContext/runAsUser",
                "/spec/template/spec/volumes/0/hostPath",
                "/spec/suspend",
                "/spec/suspend",
                "/spec/jobTemplate/spec/template/spec/hostNetwork",
                "/spec/externalIPs",
            ],
        ),
    ];
    for (case, pointers) in expect {
        let report = run(case);
        let mut found: Vec<&str> = report
            .objects
            .iter()
            .flat_map(|o| o.changes.iter().map(|c| c.pointer.as_str()))
            .collect();
        found.sort_unstable();
        let mut want = pointers.to_vec();
        want.sort_unstable();
        assert_eq!(found, want, "{case}");
    }
}

/// Every status of the overrides case, object by object.
#[test]
fn overrides_follow_the_patched_baseline_order() {
    use plinth_drift::Status::*;
    let report = run("overrides-drift");
    let got = statuses(&report, |o| o.key.name.clone());
    let want = [
        ("bad-mode", Invalid),
        ("bad-patch", Invalid),
        ("left-behind", Orphaned),
        ("missing", Missing),
        ("noop-patch", InSync),
        ("renamed", Refused),
        ("repo-unmanaged", Unmanaged),
        ("ignored", InSync),
        ("patch-then-ignore", InSync),
        ("patched", InSync),
        ("paused-app", Paused),
        ("unmanaged-app", Unmanaged),
        ("90-worker-swap", Refused),
    ];
    assert_eq!(got, owned(&want));
    let stale: Vec<&String> = report
        .objects
        .iter()
        .flat_map(|o| &o.stale_overrides)
        .collect();
    assert_eq!(stale.len(), 2, "{stale:?}");
    assert!(stale[0].contains("changes nothing"), "{stale:?}");
    assert!(stale[1].contains("/spec/paused"), "{stale:?}");
}

/// Object by object: namespaced objects rendered without a namespace are matched in `default`
/// only, cluster-scoped ones without theirs.
#[test]
fn objects_without_a_namespace_are_matched_in_the_default_namespace() {
    use plinth_drift::Status::{Drifted, Missing};
    let report = run("default-namespace-drift");
    let got = statuses(&report, |o| o.key.to_string());
    let want = [
        ("ConfigMap/default/elsewhere", Missing),
        ("ConfigMap/default/settings", Drifted),
        ("ClusterRole.rbac.authorization.k8s.io/vm-viewer", Drifted),
    ];
    assert_eq!(got, owned(&want));
}

/// Orphans of every kind, not only the rendered ones; never what a controller derived.
#[test]
fn orphans_of_kinds_no_longer_rendered_are_reported() {
    use plinth_drift::Status::{InSync, Orphaned};
    let report = run("orphan-kinds-drift");
    let got: Vec<(String, plinth_drift::Status, Option<String>)> = report
        .objects
        .iter()
        .map(|o| (o.key.to_string(), o.status, o.asset.clone()))
        .collect();
    let want = [
        ("Service/apps/web", Orphaned, Some("web")),
        ("Deployment.apps/apps/web", InSync, Some("example")),
        (
            "VirtualMachine.kubevirt.io/vms/legacy-db",
            Orphaned,
            Some("legacy-vms"),
        ),
        (
            "KubeletConfig.machineconfiguration.openshift.io/old-cpu-manager",
            Orphaned,
            None,
        ),
        ("Route.route.openshift.io/apps/legacy", Orphaned, None),
    ];
    let want: Vec<(String, plinth_drift::Status, Option<String>)> = want
        .iter()
        .map(|(k, s, a)| ((*k).to_owned(), *s, a.map(str::to_owned)))
        .collect();
    assert_eq!(got, want);
}

/// Secret values never reach a report, in any format: they become keyed fingerprints.
#[test]
fn secret_drift_is_redacted_in_every_format() {
    let desired = desired::from_values(
        [serde_json::json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "creds", "namespace": "apps"},
            "stringData": {"password": "hunter2-desired"},
            "data": {"token": "ZGVzaXJlZC10b2tlbg=="}
        })],
        "example",
    );
    let mut live = plinth_drift::LiveSet::default();
    let value = serde_json::json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "creds", "namespace": "apps"},
        "stringData": {"password": "hunter2-live"},
        "data": {"token": "bGl2ZS10b2tlbg=="}
    });
    live.objects
        .insert(plinth_vocab::ObjectRef::of(&value).unwrap(), value);
    live.listed
        .insert((String::new(), "Secret".into(), Some("apps".into())));
    let report =
        report(&desired, &live, 0).redacted(&plinth_vocab::redact::Redactor::with_key(b"test"));
    assert_eq!(report.verdict(), Verdict::Drift);
    assert_eq!(report.objects[0].changes.len(), 2);
    for format in Format::ALL {
        let text = format.render(&report);
        for secret in ["hunter2", "ZGVzaXJlZC10b2tlbg==", "bGl2ZS10b2tlbg=="] {
            assert!(
                !text.contains(secret),
                "{format:?} leaks `{secret}`:\n{text}"
            );
        }
        if format != Format::Prometheus {
            assert!(
                text.contains("redacted hmac-sha256:"),
                "{format:?}:\n{text}"
            );
        }
    }
}

/// Every format of the overrides case, snapshotted as emitted.
#[test]
fn every_format_of_the_overrides_case() {
    let mut report = run("overrides-drift");
    report
        .hardware
        .push(plinth_drift::core::report::HardwareDrift {
            detector: "gpuPresent".into(),
            committed: false,
            live: true,
            nodes: vec!["worker-1".into()],
        });
    for format in Format::ALL.into_iter().filter(|f| *f != Format::Text) {
        insta::assert_snapshot!(
            format!("overrides-drift.{}", format.name()),
            format.render(&report)
        );
    }
}

/// A live object read at another version of its API group is the same object: never drift at
/// `/apiVersion`, and every format that shows notes names both versions.
#[test]
fn objects_read_at_another_version_of_their_group_note_both_versions() {
    let report = run("api-versions-drift");
    let notes: Vec<(String, &[String])> = report
        .objects
        .iter()
        .map(|o| (o.key.to_string(), o.notes.as_slice()))
        .collect();
    let note = |desired: &str, live: &str| {
        vec![format!(
            "compared `{desired}` (desired) with `{live}` (live)"
        )]
    };
    assert_eq!(
        notes,
        [
            (
                "HorizontalPodAutoscaler.autoscaling/apps/web".to_owned(),
                note("autoscaling/v2beta2", "autoscaling/v2").as_slice()
            ),
            (
                "VirtualMachine.kubevirt.io/vms/db-1".to_owned(),
                note("kubevirt.io/v1alpha3", "kubevirt.io/v1").as_slice()
            ),
        ]
    );
    for format in Format::ALL.into_iter().filter(|f| *f != Format::Prometheus) {
        let text = format.render(&report);
        for version in [
            "kubevirt.io/v1alpha3",
            "kubevirt.io/v1",
            "autoscaling/v2beta2",
        ] {
            assert!(
                text.contains(version),
                "{format:?} lacks `{version}`:\n{text}"
            );
        }
        assert!(text.contains("(desired) with"), "{format:?}:\n{text}");
    }
}

/// A Secret key found live only (no managedFields) is reported with its value redacted in
/// every format; a ConfigMap's live-only key is shown.
#[test]
fn live_only_secret_keys_stay_redacted_in_every_format() {
    let report =
        run("live-only-data-drift").redacted(&plinth_vocab::redact::Redactor::with_key(b"test"));
    for format in Format::ALL {
        let text = format.render(&report);
        // `hunter2` in base64, the live-only Secret value.
        assert!(!text.contains("aHVudGVyMg=="), "{format:?}:\n{text}");
        if format != Format::Prometheus {
            assert!(text.contains("/data/password"), "{format:?}:\n{text}");
            assert!(text.contains("/data/debug"), "{format:?}:\n{text}");
        }
    }
}

/// Gives every live object of `live` without `managedFields` the entries `entries(key, live
/// object)` returns.
fn own(
    live: &mut plinth_drift::LiveSet,
    entries: impl Fn(&plinth_vocab::ObjectRef, &serde_json::Value) -> Vec<serde_json::Value>,
) {
    for (key, obj) in &mut live.objects {
        if obj.pointer("/metadata/managedFields").is_none() {
            obj["metadata"]["managedFields"] = serde_json::Value::Array(entries(key, obj));
        }
    }
}

/// The name of every fixture case folder.
fn case_names() -> impl Iterator<Item = String> {
    fs_err::read_dir(fixtures()).expect("test setup").map(|e| {
        e.expect("test setup")
            .file_name()
            .to_string_lossy()
            .into_owned()
    })
}

/// (object, status, changed pointers) of every object of `report`.
fn findings(report: &Report) -> Vec<(String, plinth_drift::Status, Vec<String>)> {
    report
        .objects
        .iter()
        .map(|o| {
            let mut pointers: Vec<String> = o
                .changes
                .iter()
                .chain(&o.pending_removal)
                .map(|c| c.pointer.clone())
                .collect();
            pointers.sort();
            (o.key.to_string(), o.status, pointers)
        })
        .collect()
}

/// Every case again with the `managedFields` a real API server writes for an object created
/// by hand and later taken over by plinth: a `kubectl-create` `Update` entry owning every live
/// field (server defaults included, the false-positive trap) and a later `plinth` `Apply`
/// entry owning what plinth renders. Ownership then settles nothing plinth's rules would not:
/// every object gets the same status and the same changed fields as without `managedFields`.
#[test]
fn every_case_is_judged_the_same_when_created_by_hand_and_taken_over() {
    for case in case_names() {
        let (desired, mut live) = load(&case);
        let plain = report(&desired, &live, 0);
        own(&mut live, |key, obj| {
            let mut entries = vec![entry(
                "kubectl-create",
                "Update",
                "2026-11-29T08:00:00Z",
                obj,
            )];
            if let Some(d) = desired.iter().find(|d| d.key() == *key) {
                entries.push(entry("plinth", "Apply", "2026-11-29T09:00:00Z", &d.value));
            }
            entries
        });
        let owned = report(&desired, &live, 0);
        assert_eq!(findings(&owned), findings(&plain), "{case}");
    }
}

/// Every in-sync case again with only plinth's `Apply` entry (the object plinth created and
/// nobody else touched): still in sync, nothing managed or pending removal.
#[test]
fn every_sync_case_applied_by_plinth_alone_stays_in_sync() {
    for case in case_names().filter(|c| c.ends_with("-sync")) {
        let (desired, mut live) = load(&case);
        own(&mut live, |key, _| {
            desired
                .iter()
                .filter(|d| d.key() == *key)
                .map(|d| entry("plinth", "Apply", "2026-11-29T09:00:00Z", &d.value))
                .collect()
        });
        let report = report(&desired, &live, 0);
        assert_eq!(
            report.verdict(),
            Verdict::InSync,
            "{case}: {}",
            Format::Json.render(&report)
        );
        for o in &report.objects {
            assert!(
                o.managed.is_empty() && o.pending_removal.is_empty(),
                "{case}: {o:?}"
            );
        }
    }
}
