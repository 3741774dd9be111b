//! Ownership-aware comparison: live objects with `managedFields` as a real API server writes
//! them (field sets built with the fake API server's `fieldsV1` notation), judged by who wrote
//! each live-only or changed field.

use serde_json::{Value, json};

use plinth_testkit::fields::managed_entry as entry;

use super::{Comparison, compare_client};
use crate::core::ownership::Policy;

const T0: &str = "2026-11-29T08:00:00Z";
const T1: &str = "2026-11-29T09:00:00Z";
const T2: &str = "2026-11-29T10:02:00Z";

/// [`entry`] written through the `subresource`.
fn entry_via(manager: &str, time: &str, subresource: &str, owned: &Value) -> Value {
    let mut e = entry(manager, "Update", time, owned);
    e["subresource"] = json!(subresource);
    e
}

/// The Deployment plinth renders.
fn desired() -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "apps", "labels": {"app": "web"}},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "registry.example/web:1",
                    "ports": [{"name": "http", "containerPort": 8080}]}]}}}})
}

/// What the API server adds to [`desired`] when it stores it.
fn defaults() -> Value {
    json!({"spec": {"progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
        "strategy": {"type": "RollingUpdate",
            "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
        "template": {"spec": {"containers": [{"name": "web", "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log",
                "terminationMessagePolicy": "File", "resources": {},
                "ports": [{"containerPort": 8080, "protocol": "TCP"}]}],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName":
                "default-scheduler", "securityContext": {}, "terminationGracePeriodSeconds": 30}}}})
}

/// `base` with `extra` merged in (objects key by key, lists item by item by position).
fn merged(base: &Value, extra: &Value) -> Value {
    let mut out = base.clone();
    merge(&mut out, extra);
    out
}

fn merge(into: &mut Value, from: &Value) {
    match (into, from) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                merge(a.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (i, v) in b.iter().enumerate() {
                match a.get_mut(i) {
                    Some(slot) => merge(slot, v),
                    None => a.push(v.clone()),
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

/// The live object: `body` with `managedFields` and a creation time.
fn live(body: &Value, managed: &[Value]) -> Value {
    let mut out = body.clone();
    out["metadata"]["managedFields"] = json!(managed);
    out["metadata"]["creationTimestamp"] = json!(T0);
    out
}

fn compare(live: &Value) -> Comparison {
    compare_client(&desired(), live, "Deployment", &Policy::default())
}

/// (pointer, manager) of each change.
fn attributed(changes: &[plinth_vocab::change::FieldChange]) -> Vec<(String, String)> {
    changes
        .iter()
        .map(|c| {
            let manager = c.writer.as_ref().map(|w| w.manager.clone());
            (c.pointer.clone(), manager.unwrap_or_default())
        })
        .collect()
}

fn pairs(rows: &[(&str, &str)]) -> Vec<(String, String)> {
    rows.iter()
        .map(|(p, m)| ((*p).to_owned(), (*m).to_owned()))
        .collect()
}

/// The stored object of a Deployment created by `creator` (an `Update` owning every field it
/// sent and every default) and later taken over by a GitOps `applier`.
fn taken_over(creator: &str, applier: &str, operation: &str) -> Value {
    let body = merged(&desired(), &defaults());
    live(
        &body,
        &[
            entry(creator, "Update", T0, &body),
            entry(applier, operation, T1, &desired()),
        ],
    )
}

#[test]
fn an_object_plinth_applied_and_nobody_touched_is_in_sync() {
    let body = merged(&desired(), &defaults());
    let found = compare(&live(&body, &[entry("plinth", "Apply", T0, &desired())]));
    assert_eq!(found, Comparison::default());
}

/// The false-positive trap: the `Update` entry of the manager that created an object owns
/// every server default; taken over later, the object is still in sync.
#[test]
fn defaults_owned_by_the_creator_of_an_object_taken_over_are_not_drift() {
    for creator in [
        "kubectl-create",
        "kubectl-client-side-apply",
        "Go-http-client",
        "before-first-apply",
    ] {
        for (applier, operation) in [
            ("plinth", "Apply"),
            ("argocd-controller", "Update"),
            ("argocd-application-controller", "Update"),
            ("argocd-controller", "Apply"),
            ("kustomize-controller", "Apply"),
        ] {
            let found = compare(&taken_over(creator, applier, operation));
            assert_eq!(found, Comparison::default(), "{creator} then {applier}");
        }
    }
}

#[test]
fn fields_people_add_after_the_last_apply_are_drift_with_who_and_when() {
    let base = taken_over("kubectl-create", "plinth", "Apply");
    let cases = [
        (
            "kubectl-edit",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "web",
                "securityContext": {"privileged": true}}]}}}}),
            "/spec/template/spec/containers/0/securityContext/privileged",
        ),
        (
            "kubectl-patch",
            json!({"spec": {"template": {"spec": {"hostNetwork": true}}}}),
            "/spec/template/spec/hostNetwork",
        ),
        (
            "kubectl-label",
            json!({"metadata": {"labels": {"team": "x"}}}),
            "/metadata/labels/team",
        ),
        (
            "kubectl-annotate",
            json!({"metadata": {"annotations": {"note": "hand"}}}),
            "/metadata/annotations/note",
        ),
        (
            "kubectl-set",
            json!({"spec": {"template": {"spec": {"containers": [{"name": "web",
                "env": [{"name": "DEBUG", "value": "1"}]}]}}}}),
            "/spec/template/spec/containers/0/env/0",
        ),
        ("curl", json!({"spec": {"paused": true}}), "/spec/paused"),
    ];
    for (manager, edit, want) in cases {
        let mut obj = merged(&base, &edit);
        obj["metadata"]["managedFields"]
            .as_array_mut()
            .unwrap()
            .push(entry(manager, "Update", T2, &edit));
        let found = compare(&obj);
        assert_eq!(
            attributed(&found.changes),
            pairs(&[(want, manager)]),
            "{manager}"
        );
        let writer = found.changes[0].writer.as_ref().unwrap();
        assert_eq!(
            (writer.operation.as_str(), writer.time.as_deref()),
            ("Update", Some(T2))
        );
        assert!(found.pending_removal.is_empty() && found.managed.is_empty());
    }
}

#[test]
fn an_added_container_is_one_change_named_by_its_key() {
    let mut obj = taken_over("kubectl-client-side-apply", "plinth", "Apply");
    let sidecar = json!({"name": "proxy", "image": "registry.example/proxy:2"});
    obj["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(sidecar.clone());
    let owned = json!({"spec": {"template": {"spec": {"containers": [sidecar]}}}});
    obj["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .push(entry("kubectl-edit", "Update", T2, &owned));
    let found = compare(&obj);
    assert_eq!(
        attributed(&found.changes),
        pairs(&[("/spec/template/spec/containers/1", "kubectl-edit")])
    );
    assert_eq!(
        found.changes[0].keyed_path.as_deref(),
        Some("/spec/template/spec/containers/[name=proxy]")
    );
}

/// Removes `f:spec.f:replicas` from every entry of `obj`: an `Update` that changes a field
/// takes it from its other owners.
fn disown_replicas(obj: &mut Value) {
    for e in obj["metadata"]["managedFields"].as_array_mut().unwrap() {
        if let Some(spec) = e["fieldsV1"]["f:spec"].as_object_mut() {
            spec.remove("f:replicas");
        }
    }
}

#[test]
fn a_scaled_deployment_names_the_scale_and_an_autoscaler_is_managed_not_drift() {
    let mut obj = taken_over("kubectl-create", "plinth", "Apply");
    obj["spec"]["replicas"] = json!(5);
    disown_replicas(&mut obj);
    let replicas = json!({"spec": {"replicas": 5}});
    let managed = obj["metadata"]["managedFields"].as_array_mut().unwrap();
    managed.push(entry_via("kubectl-scale", T2, "scale", &replicas));
    let found = compare(&obj);
    assert_eq!(
        attributed(&found.changes),
        pairs(&[("/spec/replicas", "kubectl-scale")])
    );
    let c = &found.changes[0];
    assert_eq!(
        (c.before.clone(), c.after.clone()),
        (Some(json!(2)), Some(json!(5)))
    );
    assert_eq!(
        c.writer.as_ref().unwrap().to_string(),
        format!("`kubectl-scale` (Update via scale) at {T2}")
    );

    // The same change by the horizontal pod autoscaler (through the controller manager).
    let managed = obj["metadata"]["managedFields"].as_array_mut().unwrap();
    managed.pop();
    managed.push(entry_via("kube-controller-manager", T2, "scale", &replicas));
    let found = compare(&obj);
    assert!(found.changes.is_empty(), "{:?}", found.changes);
    assert!(!found.is_drift());
    assert_eq!(
        attributed(&found.managed),
        pairs(&[("/spec/replicas", "kube-controller-manager")])
    );

    // ... unless the controller is listed among the drift managers.
    let policy = Policy::new(&[], &["kube-controller-manager".to_owned()]);
    let found = compare_client(&desired(), &obj, "Deployment", &policy);
    assert_eq!(
        attributed(&found.changes),
        pairs(&[("/spec/replicas", "kube-controller-manager")])
    );
}

#[test]
fn an_operators_annotation_is_managed_by_it() {
    let mut obj = taken_over("kubectl-create", "plinth", "Apply");
    let note = json!({"metadata": {"annotations": {"operator.example/seen": "yes"}}});
    obj = merged(&obj, &note);
    obj["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .push(entry("example-operator", "Update", T2, &note));
    let found = compare(&obj);
    assert!(!found.is_drift(), "{found:?}");
    assert_eq!(
        attributed(&found.managed),
        pairs(&[(
            "/metadata/annotations/operator.example~1seen",
            "example-operator"
        )])
    );
}

#[test]
fn what_plinth_applied_and_no_longer_renders_is_pending_removal() {
    let applied = merged(
        &desired(),
        &json!({"metadata": {"annotations": {"old": "x"}}}),
    );
    let body = merged(&applied, &defaults());
    let found = compare(&live(&body, &[entry("plinth", "Apply", T1, &applied)]));
    assert!(found.changes.is_empty(), "{:?}", found.changes);
    assert_eq!(
        attributed(&found.pending_removal),
        pairs(&[("/metadata/annotations/old", "plinth")])
    );
    assert!(found.is_drift());
}

#[test]
fn a_client_side_apply_after_the_takeover_owns_only_what_it_applied() {
    let mut obj = taken_over("kubectl-client-side-apply", "argocd-controller", "Apply");
    // A person re-applies their own manifest by hand, adding a label: the entry's time moves
    // past the takeover, and it still owns every default of the creation.
    let mine = merged(
        &desired(),
        &json!({"metadata": {"labels": {"owner": "me"}}}),
    );
    obj = merged(&obj, &json!({"metadata": {"labels": {"owner": "me"}}}));
    obj["metadata"]["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration": mine.to_string()});
    let with_defaults = merged(&mine, &defaults());
    obj["metadata"]["managedFields"][0] =
        entry("kubectl-client-side-apply", "Update", T2, &with_defaults);
    let found = compare(&obj);
    assert_eq!(
        attributed(&found.changes),
        pairs(&[("/metadata/labels/owner", "kubectl-client-side-apply")])
    );
}

#[test]
fn never_applied_objects_judge_writes_after_creation() {
    let body = merged(&desired(), &defaults());
    let edit = json!({"spec": {"template": {"spec": {"hostPID": true}}}});
    let obj = live(
        &merged(&body, &edit),
        &[
            entry("kubectl-create", "Update", T0, &body),
            entry("kubectl-edit", "Update", T1, &edit),
        ],
    );
    let found = compare(&obj);
    assert_eq!(
        attributed(&found.changes),
        pairs(&[("/spec/template/spec/hostPID", "kubectl-edit")])
    );
    // The creator alone: its defaults are quiet, plinth's rules judge what it added.
    let extra = json!({"spec": {"template": {"spec": {"hostIPC": true}}}});
    let created = merged(&body, &extra);
    let found = compare(&live(
        &created,
        &[entry("kubectl-create", "Update", T0, &created)],
    ));
    assert_eq!(
        attributed(&found.changes),
        pairs(&[("/spec/template/spec/hostIPC", "kubectl-create")])
    );
}

#[test]
fn a_renumbered_named_port_is_a_change_of_its_port() {
    let mut obj = taken_over("kubectl-create", "plinth", "Apply");
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = json!(9090);
    let found = compare(&obj);
    assert_eq!(found.changes.len(), 1, "{:?}", found.changes);
    let c = &found.changes[0];
    assert_eq!(
        c.pointer,
        "/spec/template/spec/containers/0/ports/0/containerPort"
    );
    assert_eq!(
        c.shown_path(),
        "/spec/template/spec/containers/[name=web]/ports/[name=http]/containerPort"
    );
    assert_eq!(
        (c.before.clone(), c.after.clone()),
        (Some(json!(8080)), Some(json!(9090)))
    );
}

/// A client plinth does not know (any name: `--field-manager` is free) that makes a container
/// privileged, opens the host network or adds a container is drift, named; what it writes
/// elsewhere (an annotation) is "managed by" it.
#[test]
fn security_fields_and_added_containers_are_drift_whoever_wrote_them() {
    let cases = [
        (
            json!({"spec": {"template": {"spec": {"containers": [{"name": "web",
                "securityContext": {"privileged": true}}]}}}}),
            "/spec/template/spec/containers/0/securityContext/privileged",
        ),
        (
            json!({"spec": {"template": {"spec": {"hostNetwork": true}}}}),
            "/spec/template/spec/hostNetwork",
        ),
    ];
    for (edit, want) in cases {
        let mut obj = merged(&taken_over("kubectl-create", "plinth", "Apply"), &edit);
        obj["metadata"]["managedFields"]
            .as_array_mut()
            .unwrap()
            .push(entry("my-tool", "Update", T2, &edit));
        let found = compare(&obj);
        assert_eq!(attributed(&found.changes), pairs(&[(want, "my-tool")]));
    }
    let mut obj = taken_over("kubectl-create", "plinth", "Apply");
    let miner = json!({"name": "miner", "image": "x"});
    obj["spec"]["template"]["spec"]["containers"]
        .as_array_mut()
        .unwrap()
        .push(miner.clone());
    let owned = json!({"spec": {"template": {"spec": {"containers": [miner]}}},
        "metadata": {"annotations": {"tool.example/seen": "1"}}});
    obj = merged(
        &obj,
        &json!({"metadata": {"annotations": {"tool.example/seen": "1"}}}),
    );
    obj["metadata"]["managedFields"]
        .as_array_mut()
        .unwrap()
        .push(entry("my-tool", "Update", T2, &owned));
    let found = compare(&obj);
    assert_eq!(
        attributed(&found.changes),
        pairs(&[("/spec/template/spec/containers/1", "my-tool")])
    );
    assert_eq!(
        attributed(&found.managed),
        pairs(&[("/metadata/annotations/tool.example~1seen", "my-tool")])
    );
}
