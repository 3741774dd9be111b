//! Ownership judged on live objects exactly as real API servers return them (`kubectl get -o
//! yaml --show-managed-fields`): `.` markers on maps and items a write created, atomic maps
//! and structs owned as a leaf `{}`, `k:` port keys with their protocol, `v:` finalizers,
//! status subresource entries, entries at another API version, objects created by hand, by
//! Helm, by Argo CD or Flux, and malformed `managedFields` that must never panic.

use serde_json::{Value, json};

use super::{Comparison, compare_client, compare_server};
use crate::core::ownership::Policy;

const CREATED: &str = "2026-11-29T08:00:00Z";
const EDITED: &str = "2026-11-29T10:02:00Z";

/// The YAML text named `name` in `ownership_shapes.yaml`.
fn text(name: &str) -> &'static str {
    static TEXTS: std::sync::OnceLock<std::collections::BTreeMap<String, String>> =
        std::sync::OnceLock::new();
    TEXTS
        .get_or_init(|| {
            serde_saphyr::from_str(include_str!("ownership_shapes.yaml")).expect("fixtures")
        })
        .get(name)
        .unwrap_or_else(|| panic!("no fixture {name}"))
        .as_str()
}

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("test YAML")
}

fn client(desired: &Value, live: &Value) -> Comparison {
    let kind = desired["kind"].as_str().unwrap_or_default();
    compare_client(desired, live, kind, &Policy::default())
}

fn server(dry_run: &Value, desired: &Value, live: &Value) -> Comparison {
    let kind = desired["kind"].as_str().unwrap_or_default();
    compare_server(dry_run, desired, live, kind, &Policy::default())
}

/// (shown path, manager) of each change.
fn rows(changes: &[plinth_vocab::change::FieldChange]) -> Vec<(String, String)> {
    changes
        .iter()
        .map(|c| {
            let manager = c.writer.as_ref().map(|w| w.manager.clone());
            (c.shown_path().to_owned(), manager.unwrap_or_default())
        })
        .collect()
}

fn want(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
        .collect()
}

/// Asserts the (shown path, manager) of each of `found`'s changes.
fn found_changes(found: &Comparison, expected: &[(&str, &str)]) {
    assert_eq!(rows(&found.changes), want(expected), "{found:#?}");
}

/// Asserts that both modes find the `expected` changes in `live`: client-side, and
/// server-side with `dry_run` (what the apply dry-run of `desired` returned).
fn both_find(desired: &Value, live: &Value, dry_run: &Value, expected: &[(&str, &str)]) {
    found_changes(&client(desired, live), expected);
    found_changes(&server(dry_run, desired, live), expected);
}

/// Asserts the (shown path, manager) of each of `found`'s managed fields.
fn found_managed(found: &Comparison, expected: &[(&str, &str)]) {
    assert_eq!(rows(&found.managed), want(expected), "{found:#?}");
}

/// Asserts the (shown path, manager) of each of `found`'s pending removals.
fn found_pending_removal(found: &Comparison, expected: &[(&str, &str)]) {
    assert_eq!(rows(&found.pending_removal), want(expected), "{found:#?}");
}

/// `live` with `managedFields` (a YAML list as `kubectl get --show-managed-fields` prints it).
fn with_fields(mut live: Value, managed: &str) -> Value {
    live["metadata"]["managedFields"] = yaml(managed);
    live["metadata"]["creationTimestamp"] = json!(CREATED);
    live
}

fn in_sync(found: &Comparison, what: &str) {
    assert!(
        found.changes.is_empty() && found.pending_removal.is_empty(),
        "{what}: {found:#?}"
    );
}

// --- Services: an atomic selector, defaults, a selector patched by hand -------------------

fn service() -> Value {
    yaml(text("service"))
}

/// The Service as the API server stores it: every default filled in.
fn service_live(selector: &Value) -> Value {
    let mut live = service();
    live["spec"] = yaml(text("service_live"));
    live["spec"]["selector"] = selector.clone();
    live
}

#[test]
fn a_defaulted_service_plinth_applied_is_in_sync() {
    let live = with_fields(
        service_live(&json!({"app": "web"})),
        text("service_applied"),
    );
    let found = client(&service(), &live);
    assert_eq!(found, Comparison::default());
}

/// Created by `kubectl create` (whose `Update` owns the defaults it sent back), taken over.
#[test]
fn a_service_created_by_hand_and_taken_over_is_in_sync() {
    let created = text("a_service_created_by_hand_and_taken_over_is_in_sync");
    let live = with_fields(
        service_live(&json!({"app": "web"})),
        &format!("{created}{}", text("service_applied")),
    );
    assert_eq!(client(&service(), &live), Comparison::default());
}

#[test]
fn a_key_patched_into_an_atomic_selector_is_drift_by_the_patch_in_both_modes() {
    let selector = json!({"app": "web", "version": "canary"});
    let live = with_fields(service_live(&selector), text("selector_patched"));
    let found = client(&service(), &live);
    let expected = want(&[("/spec/selector/version", "kubectl-patch")]);
    assert_eq!(rows(&found.changes), expected, "client");
    // The dry-run (plinth's apply, forced) takes the selector back.
    let mut dry_run = live.clone();
    dry_run["spec"]["selector"] = json!({"app": "web"});
    let found = server(&dry_run, &service(), &live);
    assert_eq!(rows(&found.changes), expected, "server");
}

#[test]
fn a_value_changed_in_an_atomic_selector_names_the_patch() {
    let live = with_fields(
        service_live(&json!({"app": "evil"})),
        text("selector_patched"),
    );
    let mut dry_run = live.clone();
    dry_run["spec"]["selector"] = json!({"app": "web"});
    both_find(
        &service(),
        &live,
        &dry_run,
        &[("/spec/selector/app", "kubectl-patch")],
    );
}

// --- Deployments: created by a client-side `kubectl apply`, taken over, then touched --------

fn deployment() -> Value {
    yaml(text("deployment"))
}

/// The Deployment as stored: defaults, bookkeeping annotations and status.
fn deployment_live() -> Value {
    let mut live = deployment();
    live["metadata"]["annotations"] = json!({
        "deployment.kubernetes.io/revision": "1",
        "kubectl.kubernetes.io/last-applied-configuration": deployment().to_string()});
    live["metadata"]["generation"] = json!(1);
    live["spec"] = yaml(text("deployment_live"));
    live["status"] = json!({"availableReplicas": 3, "observedGeneration": 1, "replicas": 3});
    live
}

fn taken_over() -> Value {
    with_fields(deployment_live(), text("deployment_taken_over"))
}

/// `live` with one more `managedFields` entry (YAML).
fn and_entry(mut live: Value, entry: &str) -> Value {
    let added: Value = yaml(entry);
    live["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .extend(added.as_array().unwrap().iter().cloned());
    live
}

#[test]
fn a_deployment_created_client_side_and_taken_over_is_in_sync_in_both_modes() {
    let live = taken_over();
    assert_eq!(client(&deployment(), &live), Comparison::default());
    assert_eq!(server(&live, &deployment(), &live), Comparison::default());
}

/// `kubectl rollout restart`: an annotation map on the pod template, created by the restart.
#[test]
fn a_rollout_restart_is_drift_by_kubectl_rollout() {
    let mut live = and_entry(
        taken_over(),
        text("a_rollout_restart_is_drift_by_kubectl_rollout"),
    );
    live["spec"]["template"]["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/restartedAt": "2026-11-29T10:02:00Z"});
    let found = client(&deployment(), &live);
    let expected = want(&[("/spec/template/metadata/annotations", "kubectl-rollout")]);
    assert_eq!(rows(&found.changes), expected);
    assert_eq!(rows(&server(&live, &deployment(), &live).changes), expected);
}

/// The horizontal pod autoscaler writes `replicas` through the scale subresource.
#[test]
fn replicas_an_autoscaler_wrote_are_managed_in_both_modes() {
    let mut live = taken_over();
    for e in live["metadata"]["managedFields"].as_array_mut().unwrap() {
        if let Some(spec) = e["fieldsV1"]["f:spec"].as_object_mut() {
            spec.remove("f:replicas");
        }
    }
    let mut live = and_entry(
        live,
        text("replicas_an_autoscaler_wrote_are_managed_in_both_modes"),
    );
    live["spec"]["replicas"] = json!(7);
    let found = client(&deployment(), &live);
    assert!(!found.is_drift(), "{found:#?}");
    let managed = want(&[("/spec/replicas", "kube-controller-manager")]);
    assert_eq!(rows(&found.managed), managed);
    let mut dry_run = live.clone();
    dry_run["spec"]["replicas"] = json!(3);
    let found = server(&dry_run, &deployment(), &live);
    assert!(!found.is_drift(), "{found:#?}");
    assert_eq!(rows(&found.managed), managed);
}

/// The creator's leaf `f:resources: {}` (empty when it was created) does not make it an
/// owner of what a controller later wrote inside: that stays managed by the controller.
#[test]
fn a_controller_write_inside_a_struct_the_creator_left_empty_is_managed() {
    let mut live = and_entry(
        taken_over(),
        text("a_controller_write_inside_a_struct_the_creator_left_empty_is_managed"),
    );
    let resources = json!({"requests": {"cpu": "250m"}});
    live["spec"]["template"]["spec"]["containers"][0]["resources"] = resources.clone();
    let found = client(&deployment(), &live);
    assert!(!found.is_drift(), "{found:#?}");
    let path = "/spec/template/spec/containers/[name=nginx]/resources/requests/cpu";
    found_managed(&found, &[(path, "vpa-recommender")]);
    // Desired sets the value: the controller's value is still managed, not drift.
    let mut desired = deployment();
    desired["spec"]["template"]["spec"]["containers"][0]["resources"] =
        json!({"requests": {"cpu": "100m"}});
    let found = client(&desired, &live);
    assert!(!found.is_drift(), "{found:#?}");
    found_managed(&found, &[(path, "vpa-recommender")]);
}

// --- GitOps controllers' own bookkeeping -------------------------------------------------

/// Flux's kustomize-controller applies plinth's output with two labels of its own: they are
/// not something plinth applied and no longer renders.
#[test]
fn the_labels_flux_adds_to_what_it_applies_are_not_pending_removal() {
    // plinth's apply of the taken-over Deployment, made by Flux with its labels.
    let mut applied = yaml(text("deployment_taken_over"))[2].clone();
    applied["manager"] = json!("kustomize-controller");
    let labels = &mut applied["fieldsV1"]["f:metadata"]["f:labels"];
    labels["f:kustomize.toolkit.fluxcd.io/name"] = json!({});
    labels["f:kustomize.toolkit.fluxcd.io/namespace"] = json!({});
    let mut live = deployment_live();
    live["metadata"]["managedFields"] = json!([applied]);
    live["metadata"]["creationTimestamp"] = json!(CREATED);
    live["metadata"]["labels"] = json!({"app": "nginx",
        "kustomize.toolkit.fluxcd.io/name": "apps",
        "kustomize.toolkit.fluxcd.io/namespace": "flux-system"});
    let found = client(&deployment(), &live);
    in_sync(&found, "flux labels");
    in_sync(&server(&live, &deployment(), &live), "flux labels, server");
}

/// Argo CD (label tracking, its default before 3.0) created the object client-side, then
/// synced it server-side: its instance label is its own bookkeeping.
#[test]
fn argo_cds_tracking_label_is_not_pending_removal() {
    let mut live = with_fields(
        deployment_live(),
        text("argo_cds_tracking_label_is_not_pending_removal"),
    );
    live["metadata"]["labels"]["app.kubernetes.io/instance"] = json!("web");
    in_sync(&client(&deployment(), &live), "argo label");
    // A label plinth applied itself and no longer renders is still pending removal.
    let mut live = taken_over();
    live["metadata"]["labels"]["app.kubernetes.io/instance"] = json!("web");
    live["metadata"]["managedFields"][2]["fieldsV1"]["f:metadata"]["f:labels"]["f:app.kubernetes.io/instance"] =
        json!({});
    let found = client(&deployment(), &live);
    found_pending_removal(
        &found,
        &[("/metadata/labels/app.kubernetes.io~1instance", "plinth")],
    );
}

// --- Storage: a claim the binder bound, a StatefulSet's claim templates -------------------

#[test]
fn a_bound_claim_is_in_sync_its_volume_managed_by_the_binder() {
    let desired = yaml(text(
        "a_bound_claim_is_in_sync_its_volume_managed_by_the_binder_2",
    ));
    let mut live = desired.clone();
    live["metadata"]["annotations"] = json!({
        "pv.kubernetes.io/bind-completed": "yes",
        "pv.kubernetes.io/bound-by-controller": "yes",
        "volume.beta.kubernetes.io/storage-provisioner": "rancher.io/local-path",
        "volume.kubernetes.io/storage-provisioner": "rancher.io/local-path"});
    live["metadata"]["finalizers"] = json!(["kubernetes.io/pvc-protection"]);
    live["spec"]["storageClassName"] = json!("local-path");
    live["spec"]["volumeMode"] = json!("Filesystem");
    live["spec"]["volumeName"] = json!("pvc-5c1f0e2a");
    live["spec"]["resources"]["requests"]["storage"] = json!("1024Mi");
    live["status"] = json!({"phase": "Bound", "capacity": {"storage": "1Gi"}});
    let live = with_fields(
        live,
        text("a_bound_claim_is_in_sync_its_volume_managed_by_the_binder"),
    );
    let found = client(&desired, &live);
    in_sync(&found, "bound claim");
    let managed: Vec<String> = found.managed.iter().map(|c| c.pointer.clone()).collect();
    assert!(
        managed.contains(&"/spec/volumeName".to_owned()),
        "{managed:?}"
    );
    in_sync(&server(&live, &desired, &live), "bound claim, server");
}

// --- Finalizers (`v:` set values) ----------------------------------------------------------

#[test]
fn a_finalizer_added_by_hand_is_drift_and_a_controllers_is_managed() {
    let mut live = and_entry(
        taken_over(),
        text("a_finalizer_added_by_hand_is_drift_and_a_controllers_is_managed"),
    );
    live["metadata"]["finalizers"] = json!(["example.com/backup", "example.com/block-delete"]);
    let added = [("/metadata/finalizers/1", "kubectl-patch")];
    both_find(&deployment(), &live, &live, &added);
    let found = client(&deployment(), &live);
    found_managed(&found, &[("/metadata/finalizers/0", "backup-operator")]);
}

// --- CronJobs -------------------------------------------------------------------------------

fn cron_job() -> Value {
    yaml(text("cron_job"))
}

fn cron_job_live() -> Value {
    let mut live = cron_job();
    live["spec"]["concurrencyPolicy"] = json!("Allow");
    live["spec"]["failedJobsHistoryLimit"] = json!(1);
    live["spec"]["successfulJobsHistoryLimit"] = json!(3);
    live["spec"]["suspend"] = json!(false);
    let pod = &mut live["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    pod["dnsPolicy"] = json!("ClusterFirst");
    pod["schedulerName"] = json!("default-scheduler");
    pod["securityContext"] = json!({});
    pod["terminationGracePeriodSeconds"] = json!(30);
    pod["containers"][0]["imagePullPolicy"] = json!("IfNotPresent");
    pod["containers"][0]["resources"] = json!({});
    live["status"] = json!({"lastScheduleTime": "2026-11-29T10:00:00Z"});
    live
}

#[test]
fn a_cron_job_suspended_by_hand_is_drift_and_its_defaults_are_not() {
    let live = with_fields(cron_job_live(), text("cron_job_applied"));
    assert_eq!(client(&cron_job(), &live), Comparison::default());
    let mut live = and_entry(
        live,
        text("a_cron_job_suspended_by_hand_is_drift_and_its_defaults_are_not"),
    );
    live["spec"]["suspend"] = json!(true);
    let expected = want(&[("/spec/suspend", "kubectl-patch")]);
    assert_eq!(rows(&client(&cron_job(), &live).changes), expected);
    assert_eq!(rows(&server(&live, &cron_job(), &live).changes), expected);
}

// --- KubeVirt: rendered at v1alpha3, read at v1, the controller's annotations ---------------

fn vm(api_version: &str) -> Value {
    let mut vm = yaml(text("vm"));
    vm["apiVersion"] = json!(api_version);
    vm
}

fn vm_live() -> Value {
    let mut live = vm("kubevirt.io/v1");
    live["metadata"]["annotations"] = json!({
        "kubevirt.io/latest-observed-api-version": "v1",
        "kubevirt.io/storage-observed-api-version": "v1"});
    live["metadata"]["finalizers"] = json!(["kubevirt.io/virtualMachineControllerFinalize"]);
    let domain = &mut live["spec"]["template"]["spec"]["domain"];
    domain["machine"] = json!({"type": "q35"});
    domain["firmware"] = json!({"uuid": "0b7e2c55-6f0a-5a4c-9d43-6c1ab4e7e1f0"});
    live["status"] = json!({"created": true, "ready": true, "printableStatus": "Running"});
    with_fields(live, text("vm_fields"))
}

#[test]
fn a_vm_read_at_another_version_with_its_controllers_annotations_is_in_sync() {
    let found = client(&vm("kubevirt.io/v1alpha3"), &vm_live());
    in_sync(&found, "vm");
    assert!(found.managed.iter().all(|c| {
        c.writer
            .as_ref()
            .is_some_and(|w| w.manager == "virt-controller")
    }));
}

/// `kubectl patch vm vm1 --type merge -p '{"spec":{"running":null,"runStrategy":"Halted"}}'`.
#[test]
fn a_vm_stopped_by_hand_through_its_run_strategy_is_drift() {
    let mut live = vm_live();
    live["spec"]
        .as_object_mut()
        .unwrap()
        .remove("running")
        .unwrap();
    live["spec"]["runStrategy"] = json!("Halted");
    live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]
        .as_object_mut()
        .unwrap()
        .remove("f:running");
    let live = and_entry(
        live,
        text("a_vm_stopped_by_hand_through_its_run_strategy_is_drift"),
    );
    let found = client(&vm("kubevirt.io/v1alpha3"), &live);
    found_changes(
        &found,
        &[
            ("/spec/running", ""),
            ("/spec/runStrategy", "kubectl-patch"),
        ],
    );
}

// --- Objects operators default: HyperConverged, a ConfigMap a controller fills --------------

#[test]
fn what_an_operator_defaults_in_its_resource_is_managed_not_drift() {
    let desired = yaml(text(
        "what_an_operator_defaults_in_its_resource_is_managed_not_drift_2",
    ));
    let mut live = desired.clone();
    live["metadata"]["finalizers"] = json!(["kubevirt.io/hyperconverged"]);
    live["spec"]["featureGates"]["enableCommonBootImageImport"] = json!(true);
    live["spec"]["liveMigrationConfig"] = json!({"completionTimeoutPerGiB": 800,
        "parallelMigrationsPerCluster": 5, "progressTimeout": 150});
    live["spec"]["uninstallStrategy"] = json!("BlockUninstallIfWorkloadsExist");
    let live = with_fields(
        live,
        text("what_an_operator_defaults_in_its_resource_is_managed_not_drift"),
    );
    let found = client(&desired, &live);
    in_sync(&found, "hyperconverged");
    assert!(!found.managed.is_empty());
    in_sync(&server(&live, &desired, &live), "hyperconverged, server");
}

#[test]
fn a_key_a_controller_adds_to_a_rendered_config_map_is_managed_and_one_by_hand_is_drift() {
    let desired = yaml(text(
        "a_key_a_controller_adds_to_a_rendered_config_map_is_managed_and_one_by_hand_is_drift_2",
    ));
    let mut live = desired.clone();
    live["data"]["ca.crt"] =
        json!("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n");
    live["data"]["debug"] = json!("true");
    let live = with_fields(
        live,
        text(
            "a_key_a_controller_adds_to_a_rendered_config_map_is_managed_and_one_by_hand_is_drift",
        ),
    );
    let found = client(&desired, &live);
    found_changes(&found, &[("/data/debug", "kubectl-edit")]);
    found_managed(&found, &[("/data/ca.crt", "trust-manager")]);
    let found = server(&live, &desired, &live);
    found_changes(&found, &[("/data/debug", "kubectl-edit")]);
}

// --- Helm-created objects taken over --------------------------------------------------------

#[test]
fn a_deployment_helm_created_and_plinth_took_over_is_in_sync() {
    let mut live = deployment_live();
    live["metadata"]["labels"]["app.kubernetes.io/managed-by"] = json!("Helm");
    live["metadata"]["annotations"] = json!({"deployment.kubernetes.io/revision": "1",
        "meta.helm.sh/release-name": "web", "meta.helm.sh/release-namespace": "apps"});
    let mut managed: Value = yaml(text("deployment_taken_over"));
    managed[0]["manager"] = json!("helm");
    managed[0]["fieldsV1"]["f:metadata"] = yaml(text(
        "a_deployment_helm_created_and_plinth_took_over_is_in_sync_2",
    ));
    live["metadata"]["managedFields"] = managed;
    live["metadata"]["creationTimestamp"] = json!(CREATED);
    let found = client(&deployment(), &live);
    // The defaults the install sent back are not "managed by helm": Helm is no controller.
    assert_eq!(found, Comparison::default());
    assert_eq!(server(&live, &deployment(), &live), Comparison::default());
    // A `helm upgrade` over the taken-over object after plinth's apply is drift.
    live["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.25");
    let live = and_entry(
        live,
        text("a_deployment_helm_created_and_plinth_took_over_is_in_sync"),
    );
    let found = client(&deployment(), &live);
    let image = "/spec/template/spec/containers/[name=nginx]/image";
    found_changes(&found, &[(image, "helm")]);
}

// --- Malformed managedFields: never a panic, never an error --------------------------------

/// The Deployment with a container added by hand and `managedFields` replaced by `managed`.
fn edited_with(managed: Value) -> Comparison {
    let mut live = deployment_live();
    live["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(json!({"name": "shell", "image": "busybox"}));
    live["metadata"]["managedFields"] = managed;
    client(&deployment(), &live)
}

#[test]
fn malformed_managed_fields_never_panic() {
    let key = r#"k:{"name":"nginx"}"#;
    let shapes = [
        json!({"manager": "plinth"}),
        json!("plinth"),
        json!(42),
        json!([null, 1, "x", []]),
        json!([{"manager": 7, "operation": [], "time": {}, "fieldsV1": "f:spec"}]),
        json!([{"manager": "kubectl-edit", "time": "yesterday", "fieldsV1": []}]),
        json!([{"manager": "kubectl-edit", "time": "2026-11-29T10:02:00Z", "fieldsV1": {
            "f:spec": {"f:template": {"f:spec": {"f:containers": {
                "k:{not json": {}, "k:[1,2]": {}, "k:{}": {".": {}}, "v:": {}, "v:{": {},
                "i:-1": {}, "i:99999999999999999999999": {}, "i:0": {"f:image": {}},
                key: "not an object", "": {}, "x:unknown": {}}}}}}}]),
    ];
    for managed in shapes {
        let found = edited_with(managed.clone());
        let added = "/spec/template/spec/containers/1";
        assert!(
            found.changes.iter().any(|c| c.pointer == added),
            "{managed}: {found:#?}"
        );
    }
}

/// A field set that is an object owning nothing usable: ownership known, nobody owns the added
/// container (the judgement may not name a writer), and nothing panics.
#[test]
fn a_field_set_of_junk_owns_nothing() {
    let managed = json!([{"manager": "kubectl-edit", "time": "2026-13-45T99:99:99Z",
        "fieldsV1": {"f:spec": 3, "f:metadata": null, "f:status": {"f:x": []}}}]);
    let found = edited_with(managed);
    assert!(
        found.changes.iter().all(|c| c.writer.is_none()),
        "{found:#?}"
    );
}

/// Huge and deep field sets: linear work, no recursion past what the parsers allow.
#[test]
fn huge_field_sets_are_judged_without_panic() {
    let mut keys = serde_json::Map::new();
    for i in 0..5_000 {
        keys.insert(
            format!(r#"k:{{"name":"c{i}"}}"#),
            json!({".": {}, "f:image": {}}),
        );
    }
    let managed = json!([{"manager": "kubectl-edit", "operation": "Update",
        "time": "2026-11-29T10:02:00Z",
        "fieldsV1": {"f:spec": {"f:template": {"f:spec": {"f:containers": keys}}}}}]);
    let found = edited_with(managed);
    assert!(found.changes.is_empty(), "{found:#?}");
}

/// A Deployment whose container has `n` variables set by hand (`kubectl set env`), each
/// owned by that and seven other entries: the live-only items, judged one by one.
fn with_variables(n: usize) -> Value {
    let mut live = deployment_live();
    let mut keys = serde_json::Map::new();
    let mut env = Vec::new();
    for i in 0..n {
        env.push(json!({"name": format!("V{i}"), "value": "x"}));
        let fields = json!({".": {}, "f:name": {}, "f:value": {}});
        keys.insert(format!(r#"k:{{"name":"V{i}"}}"#), fields);
    }
    live["spec"]["template"]["spec"]["containers"][0]["env"] = json!(env);
    let container = json!({r#"k:{"name":"nginx"}"#: {"f:env": keys}});
    let mut managed: Value = yaml(text("deployment_taken_over"));
    for m in ["kubectl-set", "a", "b", "c", "d", "e", "f", "g"] {
        managed
            .as_array_mut()
            .unwrap()
            .push(json!({"manager": m, "operation": "Update",
            "time": EDITED, "fieldsV1":
                {"f:spec": {"f:template": {"f:spec": {"f:containers": container}}}}}));
    }
    live["metadata"]["managedFields"] = managed;
    live
}

/// Keyed items are found by their key, not by a scan of every `k:` entry: judging every item
/// of a long list takes time linear in its length (it was quadratic: 36 times as long for 4
/// times the items).
#[test]
fn judging_a_long_keyed_list_takes_linear_time() {
    let timed = |n: usize| {
        let live = with_variables(n);
        (0..2)
            .map(|_| {
                let start = std::time::Instant::now();
                let found = client(&deployment(), &live);
                assert_eq!(found.changes.len(), n);
                start.elapsed()
            })
            .min()
            .unwrap()
    };
    let (short, long) = (timed(500), timed(2_000));
    assert!(
        long < short * 10,
        "500 items: {short:?}, 2000 items: {long:?}"
    );
    let found = client(&deployment(), &with_variables(3));
    let last = &found.changes[2];
    assert_eq!(
        last.shown_path(),
        "/spec/template/spec/containers/[name=nginx]/env/[name=V2]"
    );
    assert_eq!(last.writer.as_ref().unwrap().manager, "kubectl-set");
}

// --- Admission mutation, entries without a time ---------------------------------------------

/// A mutating webhook (Kyverno adding a label, an injected `securityContext`) runs after the
/// API server records the request's managed fields: what it adds has no owner, a default.
/// Kyverno's background "mutate existing" writes as `kyverno`: managed by it.
#[test]
fn what_admission_and_policy_engines_add_is_not_drift() {
    let mut live = taken_over();
    live["metadata"]["labels"]["policy.example/team"] = json!("payments");
    live["spec"]["template"]["spec"]["securityContext"] = json!({"runAsNonRoot": true});
    let found = client(&deployment(), &live);
    assert_eq!(found, Comparison::default());
    live["metadata"]["annotations"]["policies.kyverno.io/last-applied-patches"] =
        json!("add-team.add-team.kyverno.io: added /metadata/labels/team");
    let live = and_entry(
        live,
        text("what_admission_and_policy_engines_add_is_not_drift"),
    );
    let found = client(&deployment(), &live);
    assert!(!found.is_drift(), "{found:#?}");
    found_managed(
        &found,
        &[(
            "/metadata/annotations/policies.kyverno.io~1last-applied-patches",
            "kyverno",
        )],
    );
}

/// OpenShift's CLI writes as `oc` where a command names no manager: a person, not a
/// controller.
#[test]
fn a_change_made_with_oc_is_drift() {
    let mut live = taken_over();
    live["spec"]["template"]["spec"]["hostNetwork"] = json!(true);
    let live = and_entry(live, text("a_change_made_with_oc_is_drift"));
    let found = client(&deployment(), &live);
    found_changes(&found, &[("/spec/template/spec/hostNetwork", "oc")]);
}

/// A container plinth applied and no longer renders: the next apply removes the whole item
/// (with the defaults the server filled in), so it is one pending removal, the item, in both
/// modes (it was each of its fields, and in server mode also a change).
#[test]
fn a_container_plinth_no_longer_renders_is_one_pending_removal_in_both_modes() {
    let mut live = taken_over();
    live["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(
            json!({"name": "sidecar", "image": "proxy:1", "imagePullPolicy": "IfNotPresent",
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File", "resources": {}}),
        );
    let plinth = &mut live["metadata"]["managedFields"][2]["fieldsV1"];
    plinth["f:spec"]["f:template"]["f:spec"]["f:containers"][r#"k:{"name":"sidecar"}"#] =
        json!({".": {}, "f:image": {}, "f:name": {}});
    let expected = want(&[("/spec/template/spec/containers/[name=sidecar]", "plinth")]);
    let found = client(&deployment(), &live);
    assert_eq!(rows(&found.pending_removal), expected, "client: {found:#?}");
    assert!(found.changes.is_empty(), "client: {found:#?}");
    let mut dry_run = live.clone();
    dry_run["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .pop();
    let found = server(&dry_run, &deployment(), &live);
    assert_eq!(rows(&found.pending_removal), expected, "server: {found:#?}");
    assert!(found.changes.is_empty(), "server: {found:#?}");
    // A field someone else wrote in it since stays theirs: the apply keeps the item.
    let live = and_entry(
        live,
        text("a_container_plinth_no_longer_renders_is_one_pending_removal_in_both_modes"),
    );
    let found = client(&deployment(), &live);
    let item = "/spec/template/spec/containers/[name=sidecar]";
    found_changes(
        &found,
        &[(&format!("{item}/imagePullPolicy"), "kubectl-edit")],
    );
    found_pending_removal(
        &found,
        &[
            (&format!("{item}/image"), "plinth"),
            (&format!("{item}/name"), "plinth"),
        ],
    );
}
/// Entries whose writes the rules judge whatever their time says: one without a time (never
/// after the baseline), and `ancient-changes`, where the API server merges the oldest
/// `Update` managers beyond the ten it keeps (people and controllers mixed), like what
/// `before-first-apply` owns. A label only it owns is quiet (neither drift nor "managed by"),
/// a container only it owns is drift by the rules, named by its writer.
#[test]
fn what_entries_of_unknown_time_or_writers_own_is_judged_by_the_rules() {
    for (manager, time) in [("kubectl-edit", None), ("ancient-changes", Some(EDITED))] {
        let mut live = taken_over();
        live["metadata"]["labels"]["team"] = json!("x");
        live["spec"]["template"]["spec"]["containers"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "shell", "image": "busybox"}));
        let mut entry: Value = yaml(text(
            "what_entries_of_unknown_time_or_writers_own_is_judged_by_the_rules",
        ));
        entry["manager"] = json!(manager);
        if let Some(time) = time {
            entry["time"] = json!(time);
        }
        live["metadata"]["managedFields"]
            .as_array_mut()
            .unwrap()
            .push(entry);
        let found = client(&deployment(), &live);
        found_changes(
            &found,
            &[("/spec/template/spec/containers/[name=shell]", manager)],
        );
        assert!(found.managed.is_empty(), "{manager}: {found:#?}");
    }
}

/// An atomic struct holding a server default (`fieldRef` gets `apiVersion: v1`): the default
/// is not pending removal (plinth applied the struct without it) nor drift (the creator of an
/// object taken over owns it as a leaf `{}` too).
#[test]
fn a_default_inside_an_atomic_struct_is_not_drift() {
    let mut desired = deployment();
    let env = json!([{"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]);
    desired["spec"]["template"]["spec"]["containers"][0]["env"] = env;
    let mut live = taken_over();
    live["spec"]["template"]["spec"]["containers"][0]["env"] = json!([{"name": "POD",
        "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}}]);
    let owned = json!({"f:env": {r#"k:{"name":"POD"}"#:
        {".": {}, "f:name": {}, "f:valueFrom": {"f:fieldRef": {}}}}});
    for e in [0, 2] {
        let container = &mut live["metadata"]["managedFields"][e]["fieldsV1"]["f:spec"]["f:template"]
            ["f:spec"]["f:containers"][r#"k:{"name":"nginx"}"#];
        container["f:env"] = owned["f:env"].clone();
    }
    assert_eq!(client(&desired, &live), Comparison::default());
    assert_eq!(server(&live, &desired, &live), Comparison::default());
}

/// `kubectl patch netpol deny-all -p '{"spec":{"podSelector":{"matchLabels":{"app":"x"}}}}'`
/// narrows a policy that selected every pod: the selector is atomic, the patch owns it whole.
#[test]
fn a_network_policy_narrowed_by_hand_is_drift_by_the_patch() {
    let desired = json!({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "deny-all", "namespace": "apps"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}});
    let mut live = with_fields(
        desired.clone(),
        r#"[{"apiVersion": "networking.k8s.io/v1", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:policyTypes": {}}}, "manager": "plinth",
            "operation": "Apply", "time": "2026-11-29T09:00:00Z"},
            {"apiVersion": "networking.k8s.io/v1", "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:podSelector": {}}}, "manager": "kubectl-patch",
            "operation": "Update", "time": "2026-11-29T10:02:00Z"}]"#,
    );
    live["spec"]["podSelector"] = json!({"matchLabels": {"app": "x"}});
    let found = client(&desired, &live);
    assert!(found.is_drift(), "{found:#?}");
    assert!(
        found
            .changes
            .iter()
            .all(|c| c.pointer.starts_with("/spec/podSelector")
                && c.writer
                    .as_ref()
                    .is_some_and(|w| w.manager == "kubectl-patch")),
        "{found:#?}"
    );
}

/// The API server generates a Job's selector and its pod template's labels after it records
/// who wrote what: nobody owns them, they are not drift.
#[test]
fn a_jobs_generated_selector_and_labels_are_not_drift() {
    let desired = json!({"apiVersion": "batch/v1", "kind": "Job",
        "metadata": {"name": "migrate", "namespace": "apps"},
        "spec": {"template": {"spec": {"restartPolicy": "Never",
            "containers": [{"name": "migrate", "image": "registry.example/migrate:1"}]}}}});
    let mut live = with_fields(
        desired.clone(),
        r#"[{"apiVersion": "batch/v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec":
            {"f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"migrate\"}":
            {".": {}, "f:image": {}, "f:name": {}}}, "f:restartPolicy": {}}}}},
            "manager": "plinth", "operation": "Apply", "time": "2026-11-29T09:00:00Z"}]"#,
    );
    let uid = "7d1f0c52-5b7e-4f1e-9a51-2f6b3c1d9e10";
    let labels = json!({"batch.kubernetes.io/controller-uid": uid,
        "batch.kubernetes.io/job-name": "migrate", "controller-uid": uid, "job-name": "migrate"});
    live["spec"]["selector"] = json!({"matchLabels": {"batch.kubernetes.io/controller-uid": uid}});
    live["spec"]["template"]["metadata"] = json!({"labels": labels});
    live["spec"]["backoffLimit"] = json!(6);
    live["spec"]["completionMode"] = json!("NonIndexed");
    live["spec"]["suspend"] = json!(false);
    assert_eq!(client(&desired, &live), Comparison::default());
    assert_eq!(server(&live, &desired, &live), Comparison::default());
}
