//! Ownership judged on live objects exactly as real API servers return them (`kubectl get -o
//! yaml --show-managed-fields`): `.` markers on maps and items a write created, atomic maps
//! and structs owned as a leaf `{}`, `k:` port keys with their protocol, `v:` finalizers,
//! status subresource entries, entries at another API version, objects created by hand, by
//! Helm, by Argo CD or Flux, and malformed `managedFields` that must never panic.

use serde_json::{Value, json};

use super::{Comparison, compare_client, compare_server};
use crate::core::ownership::Policy;

const CREATED: &str = "2026-11-29T08:00:00Z";
const APPLIED: &str = "2026-11-29T09:00:00Z";
const EDITED: &str = "2026-11-29T10:02:00Z";

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
    yaml(
        "apiVersion: v1
kind: Service
metadata: {name: web, namespace: apps, labels: {app: web}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
",
    )
}

/// The Service as the API server stores it: every default filled in.
fn service_live(selector: &Value) -> Value {
    let mut live = service();
    live["spec"] = yaml(
        "clusterIP: 10.96.12.7
clusterIPs: [10.96.12.7]
internalTrafficPolicy: Cluster
ipFamilies: [IPv4]
ipFamilyPolicy: SingleStack
ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
sessionAffinity: None
type: ClusterIP
",
    );
    live["spec"]["selector"] = selector.clone();
    live
}

const SERVICE_APPLIED: &str = r#"
- apiVersion: v1
  fieldsType: FieldsV1
  fieldsV1:
    f:metadata: {f:labels: {f:app: {}}}
    f:spec:
      f:ports:
        k:{"port":80,"protocol":"TCP"}: {.: {}, f:name: {}, f:port: {}, f:targetPort: {}}
      f:selector: {}
  manager: plinth
  operation: Apply
  time: "2026-11-29T09:00:00Z"
"#;

#[test]
fn a_defaulted_service_plinth_applied_is_in_sync() {
    let live = with_fields(service_live(&json!({"app": "web"})), SERVICE_APPLIED);
    let found = client(&service(), &live);
    assert_eq!(found, Comparison::default());
}

/// Created by `kubectl create` (whose `Update` owns the defaults it sent back), taken over.
#[test]
fn a_service_created_by_hand_and_taken_over_is_in_sync() {
    let created = r#"
- apiVersion: v1
  fieldsType: FieldsV1
  fieldsV1:
    f:metadata: {f:labels: {.: {}, f:app: {}}}
    f:spec:
      f:internalTrafficPolicy: {}
      f:ports:
        .: {}
        k:{"port":80,"protocol":"TCP"}: {.: {}, f:name: {}, f:port: {}, f:protocol: {}, f:targetPort: {}}
      f:selector: {}
      f:sessionAffinity: {}
      f:type: {}
  manager: kubectl-create
  operation: Update
  time: "2026-11-29T08:00:00Z"
"#;
    let live = with_fields(
        service_live(&json!({"app": "web"})),
        &format!("{created}{SERVICE_APPLIED}"),
    );
    assert_eq!(client(&service(), &live), Comparison::default());
}

/// `kubectl patch svc web -p '{"spec":{"selector":{"version":"canary"}}}'`: the selector is
/// an atomic map, so the patch takes all of it (`f:selector: {}`) from plinth.
const SELECTOR_PATCHED: &str = r#"
- apiVersion: v1
  fieldsType: FieldsV1
  fieldsV1:
    f:metadata: {f:labels: {f:app: {}}}
    f:spec:
      f:ports:
        k:{"port":80,"protocol":"TCP"}: {.: {}, f:name: {}, f:port: {}, f:targetPort: {}}
  manager: plinth
  operation: Apply
  time: "2026-11-29T09:00:00Z"
- apiVersion: v1
  fieldsType: FieldsV1
  fieldsV1:
    f:spec: {f:selector: {}}
  manager: kubectl-patch
  operation: Update
  time: "2026-11-29T10:02:00Z"
"#;

#[test]
fn a_key_patched_into_an_atomic_selector_is_drift_by_the_patch_in_both_modes() {
    let selector = json!({"app": "web", "version": "canary"});
    let live = with_fields(service_live(&selector), SELECTOR_PATCHED);
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
    let live = with_fields(service_live(&json!({"app": "evil"})), SELECTOR_PATCHED);
    let found = client(&service(), &live);
    assert_eq!(
        rows(&found.changes),
        want(&[("/spec/selector/app", "kubectl-patch")])
    );
    let mut dry_run = live.clone();
    dry_run["spec"]["selector"] = json!({"app": "web"});
    let found = server(&dry_run, &service(), &live);
    assert_eq!(
        rows(&found.changes),
        want(&[("/spec/selector/app", "kubectl-patch")])
    );
}
