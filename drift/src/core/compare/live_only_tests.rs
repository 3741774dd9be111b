//! Tests of the live-only rules: what is drift in a live object without `managedFields`
//! (ownership unknown), and what stays quiet.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{Comparison, OWNERSHIP_UNKNOWN_NOTE, compare_client, compare_client_side_noted};
use crate::core::ownership::Policy;
use plinth_testkit::fields::managed_entry as entry;

/// An object of kind `kind` holding `leaf` at the dotted `path`; a numeric segment is a list
/// whose items are named `a` (so that keyed lists pair desired and live items).
fn nest(kind: &str, path: &str, leaf: Value) -> Value {
    let mut value = leaf;
    for seg in path.rsplit('.') {
        value = if seg.parse::<usize>().is_ok() {
            if let Value::Object(item) = &mut value {
                item.entry("name").or_insert(json!("a"));
            }
            json!([value])
        } else {
            json!({ seg: value })
        };
    }
    value["kind"] = json!(kind);
    value
}

/// The JSON pointer of a dotted path.
fn pointer(path: &str) -> String {
    format!("/{}", path.replace('.', "/"))
}

/// `obj` with `metadata.managedFields`: ownership known.
pub(super) fn with_owners(mut obj: Value) -> Value {
    obj["metadata"]["managedFields"] = json!([{"manager": "plinth", "operation": "Apply"}]);
    obj
}

/// Asserts that `live` differs from `desired` exactly by `want` (pointer and live value, desired
/// absent) with the ownership note, and is in sync once it has `managedFields`.
fn assert_live_only(kind: &str, desired: &Value, live: &Value, want: &[(String, Value)]) {
    let (changes, note) = compare_client_side_noted(desired, live, kind);
    let found: Vec<(String, Value)> = changes
        .iter()
        .map(|c| {
            assert_eq!(c.before, None, "{kind} {}: desired absent", c.pointer);
            (c.pointer.clone(), c.after.clone().unwrap_or_default())
        })
        .collect();
    assert_eq!(found, want, "{kind}");
    assert_eq!(note, Some(OWNERSHIP_UNKNOWN_NOTE), "{kind}");
    let (changes, note) = compare_client_side_noted(desired, &with_owners(live.clone()), kind);
    assert_eq!((changes, note), (vec![], None), "{kind} with managedFields");
}

/// Asserts that `live` is in sync with `desired`, without a note.
fn assert_quiet(kind: &str, desired: &Value, live: &Value) {
    let (changes, note) = compare_client_side_noted(desired, live, kind);
    assert_eq!((changes, note), (vec![], None), "{kind}: {live}");
}

/// Each list matched by key, in the kind named: (kind, list path, an item plinth renders, a
/// live-only item).
const LISTS: &[(&str, &str, &str, &str)] = &[
    (
        "Deployment",
        "spec.template.spec.containers",
        r#"{"name": "app"}"#,
        r#"{"name": "miner", "image": "x"}"#,
    ),
    (
        "StatefulSet",
        "spec.template.spec.initContainers",
        r#"{"name": "init"}"#,
        r#"{"name": "sneaky"}"#,
    ),
    (
        "Pod",
        "spec.containers.0.ports",
        r#"{"containerPort": 80}"#,
        r#"{"containerPort": 22, "protocol": "TCP"}"#,
    ),
    (
        "Service",
        "spec.ports",
        r#"{"port": 80}"#,
        r#"{"port": 8443, "protocol": "TCP", "targetPort": 8443}"#,
    ),
    (
        "DaemonSet",
        "spec.template.spec.containers.0.env",
        r#"{"name": "A", "value": "1"}"#,
        r#"{"name": "LD_PRELOAD", "value": "/tmp/x.so"}"#,
    ),
    (
        "Job",
        "spec.template.spec.volumes",
        r#"{"name": "data", "emptyDir": {}}"#,
        r#"{"name": "extra", "secret": {"secretName": "s"}}"#,
    ),
    (
        "ReplicaSet",
        "spec.template.spec.containers.0.volumeMounts",
        r#"{"name": "data", "mountPath": "/data"}"#,
        r#"{"name": "extra", "mountPath": "/extra"}"#,
    ),
    (
        "Pod",
        "spec.tolerations",
        r#"{"key": "a", "operator": "Exists"}"#,
        r#"{"operator": "Exists"}"#,
    ),
    (
        "VirtualMachine",
        "spec.template.spec.domain.devices.disks",
        r#"{"name": "root", "disk": {"bus": "virtio"}}"#,
        r#"{"name": "usb", "disk": {"bus": "usb"}}"#,
    ),
    (
        "VirtualMachine",
        "spec.template.spec.domain.devices.interfaces",
        r#"{"name": "default", "masquerade": {}}"#,
        r#"{"name": "tap", "bridge": {}}"#,
    ),
    (
        "VirtualMachine",
        "spec.template.spec.networks",
        r#"{"name": "default", "pod": {}}"#,
        r#"{"name": "tap", "multus": {"networkName": "host"}}"#,
    ),
    (
        "PrometheusRule",
        "spec.groups.0.rules",
        r#"{"alert": "Down", "expr": "up == 0"}"#,
        r#"{"alert": "Silence", "expr": "vector(0)"}"#,
    ),
];

fn parse(text: &str) -> Value {
    serde_json::from_str(text).expect("test table")
}

#[test]
fn live_only_items_of_keyed_lists_are_drift_without_managed_fields() {
    for (kind, path, rendered, extra) in LISTS {
        let (rendered, extra) = (parse(rendered), parse(extra));
        let desired = nest(kind, path, json!([rendered]));
        let live = nest(kind, path, json!([extra, rendered]));
        let want = [(format!("{}/0", pointer(path)), extra.clone())];
        assert_live_only(kind, &desired, &live, &want);
        // A list desired does not set at all: each live item is live-only.
        let (parent, field) = path.rsplit_once('.').expect("test table");
        let mut bare = desired.clone();
        let holder = bare
            .pointer_mut(&pointer(parent))
            .and_then(Value::as_object_mut)
            .expect("test table");
        holder.remove(field);
        if parent
            .rsplit('.')
            .next()
            .is_some_and(|s| s.parse::<usize>().is_ok())
        {
            // Keep the key of the item (a container, a group) that the list belongs to.
            holder.insert("name".into(), json!("a"));
        }
        let want = [
            (format!("{}/0", pointer(path)), extra),
            (format!("{}/1", pointer(path)), rendered),
        ];
        assert_live_only(kind, &bare, &live, &want);
    }
}

#[test]
fn what_admission_adds_to_pods_stays_quiet() {
    let desired = json!({"kind": "Pod", "spec": {"containers": [{"name": "a"}]}});
    let live = json!({"kind": "Pod", "spec": {
        "containers": [{"name": "a", "volumeMounts": [{
            "name": "kube-api-access-7x2lq", "readOnly": true,
            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"
        }]}],
        "volumes": [{"name": "kube-api-access-7x2lq", "projected": {"sources": []}}],
        "tolerations": [
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ]
    }});
    assert_quiet("Pod", &desired, &live);
}

#[test]
fn live_only_keys_of_configmap_and_secret_data_are_drift_without_managed_fields() {
    for (kind, fields) in [
        ("ConfigMap", &["data", "binaryData"][..]),
        ("Secret", &["data"]),
    ] {
        for &field in fields {
            let desired = json!({"kind": kind, field: {"a": "eA=="}});
            let live = json!({"kind": kind, field: {"a": "eA==", "b": "eQ=="}});
            assert_live_only(
                kind,
                &desired,
                &live,
                &[(format!("/{field}/b"), json!("eQ=="))],
            );
            let (changes, _) = compare_client_side_noted(&desired, &live, kind);
            assert_eq!(changes[0].secret, kind == "Secret", "{kind} {field}");
            // No map desired at all, or an empty one: every live key is live-only.
            for desired in [json!({"kind": kind}), json!({"kind": kind, field: {}})] {
                let want = [
                    (format!("/{field}/a"), json!("eA==")),
                    (format!("/{field}/b"), json!("eQ==")),
                ];
                assert_live_only(kind, &desired, &live, &want);
            }
        }
    }
    // Other kinds' `data`, and the token a service-account token Secret is filled with.
    let live = json!({"kind": "X", "data": {"a": "1", "b": "2"}});
    assert_quiet("X", &json!({"kind": "X", "data": {"a": "1"}}), &live);
    let desired = json!({"kind": "Secret", "type": "kubernetes.io/service-account-token"});
    let mut live = desired.clone();
    live["data"] = json!({"token": "dG9rZW4=", "ca.crt": "Y2E="});
    assert_quiet("Secret", &desired, &live);
}

/// Each security-relevant field: (kind, dotted path, the live value that is drift, a live
/// value that is not).
const SECURITY: &[(&str, &str, &str, &str)] = &[
    (
        "Deployment",
        "spec.template.spec.containers.0.securityContext.privileged",
        "true",
        "false",
    ),
    (
        "StatefulSet",
        "spec.template.spec.initContainers.0.securityContext.allowPrivilegeEscalation",
        "true",
        "false",
    ),
    (
        "DaemonSet",
        "spec.template.spec.containers.0.securityContext.capabilities.add",
        r#"["SYS_ADMIN"]"#,
        "[]",
    ),
    ("Pod", "spec.hostNetwork", "true", "false"),
    ("Job", "spec.template.spec.hostPID", "true", "false"),
    (
        "CronJob",
        "spec.jobTemplate.spec.template.spec.hostIPC",
        "true",
        "false",
    ),
    (
        "ReplicaSet",
        "spec.template.spec.volumes.0.hostPath",
        r#"{"path": "/"}"#,
        "null",
    ),
    ("Pod", "spec.securityContext.runAsUser", "0", "1000"),
    (
        "CronJob",
        "spec.jobTemplate.spec.template.spec.containers.0.securityContext.runAsUser",
        "0",
        "65534",
    ),
    ("Service", "spec.externalIPs", r#"["203.0.113.7"]"#, "[]"),
    ("CronJob", "spec.suspend", "true", "false"),
    ("Job", "spec.suspend", "true", "false"),
    ("Deployment", "spec.paused", "true", "false"),
];

#[test]
fn live_only_security_fields_are_drift_without_managed_fields() {
    for (kind, path, set, unset) in SECURITY {
        let live = nest(kind, path, parse(set));
        let mut desired = live.clone();
        let (parent, field) = path.rsplit_once('.').expect("test table");
        desired
            .pointer_mut(&pointer(parent))
            .and_then(Value::as_object_mut)
            .expect("test table")
            .remove(field);
        assert_live_only(kind, &desired, &live, &[(pointer(path), parse(set))]);
        assert_quiet(kind, &desired, &nest(kind, path, parse(unset)));
    }
    // Elsewhere the same names mean nothing special.
    for (kind, path) in [
        ("Deployment", "spec.suspend"),
        ("Job", "spec.paused"),
        ("X", "spec.externalIPs"),
        ("X", "spec.hostNetwork"),
    ] {
        let live = nest(kind, path, json!(true));
        assert_quiet(kind, &json!({"kind": kind, "spec": {}}), &live);
    }
}

/// The workload kinds plinth renders, with where their pod spec is.
const WORKLOADS: &[(&str, &str)] = &[
    ("Pod", "spec"),
    ("Deployment", "spec.template.spec"),
    ("StatefulSet", "spec.template.spec"),
    ("DaemonSet", "spec.template.spec"),
    ("ReplicaSet", "spec.template.spec"),
    ("Job", "spec.template.spec"),
    ("CronJob", "spec.jobTemplate.spec.template.spec"),
];

/// A pod spec with containers, ports, env and volumes.
fn arb_pod_spec() -> impl Strategy<Value = Value> {
    let container = (
        prop::collection::btree_set(1u16..100, 0..3),
        prop::collection::btree_set("[A-C]", 0..3),
        any::<bool>(),
    );
    (prop::collection::vec(container, 1..4), 0usize..3).prop_map(|(containers, volumes)| {
        let volumes: Vec<Value> = (0..volumes)
            .map(|v| json!({"name": format!("v{v}"), "emptyDir": {}}))
            .collect();
        let containers: Vec<Value> = containers
            .into_iter()
            .enumerate()
            .map(|(i, (ports, env, mount))| {
                let mut c = json!({
                    "name": format!("c{i}"),
                    "image": "registry.example/app:1",
                    "ports": ports.iter().map(|p| json!({"containerPort": 8000 + p})).collect::<Vec<_>>(),
                    "env": env.iter().map(|e| json!({"name": e, "value": "x"})).collect::<Vec<_>>(),
                });
                if mount && !volumes.is_empty() {
                    c["volumeMounts"] = json!([{"name": "v0", "mountPath": "/v0"}]);
                }
                c
            })
            .collect();
        json!({"containers": containers, "volumes": volumes})
    })
}

/// What the API server adds to a pod spec: field defaults, `protocol: TCP` on ports, an empty
/// pod security context, and (on a Pod) admission's tolerations and token volume.
fn add_server_defaults(spec: &mut Value, pod: bool) {
    for c in spec["containers"].as_array_mut().into_iter().flatten() {
        c["imagePullPolicy"] = json!("IfNotPresent");
        c["terminationMessagePath"] = json!("/dev/termination-log");
        c["terminationMessagePolicy"] = json!("File");
        c["resources"] = json!({});
        for p in c["ports"].as_array_mut().into_iter().flatten() {
            p["protocol"] = json!("TCP");
        }
        if pod {
            let mounts = c
                .as_object_mut()
                .expect("a container")
                .entry("volumeMounts")
                .or_insert(json!([]));
            if let Some(mounts) = mounts.as_array_mut() {
                mounts.push(json!({"name": "kube-api-access-abcde", "readOnly": true,
                    "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}));
            }
        }
    }
    spec["dnsPolicy"] = json!("ClusterFirst");
    spec["restartPolicy"] = json!("Always");
    spec["schedulerName"] = json!("default-scheduler");
    spec["securityContext"] = json!({});
    spec["terminationGracePeriodSeconds"] = json!(30);
    if pod {
        spec["nodeName"] = json!("worker-1");
        spec["serviceAccountName"] = json!("default");
        spec["enableServiceLinks"] = json!(true);
        spec["tolerations"] = json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ]);
        if let Some(volumes) = spec["volumes"].as_array_mut() {
            volumes.push(json!({"name": "kube-api-access-abcde", "projected": {"sources": []}}));
        }
    }
    // The server keeps list order, but a client may have reordered: reverse keyed lists.
    if let Some(containers) = spec["containers"].as_array_mut() {
        containers.reverse();
    }
}

proptest! {
    /// A desired workload of every kind plinth renders, with server-style defaults added to
    /// it and no `managedFields`, is in sync and gets no note; one change by hand on top (an
    /// added container or volume, `hostNetwork`, `hostPID`, `privileged`) is found.
    #[test]
    fn a_desired_object_with_server_defaults_is_in_sync(
        workload in prop::sample::select(WORKLOADS),
        spec in arb_pod_spec(),
        replicas in 1u8..4,
        tamper in arb_tamper(),
    ) {
        let (kind, at) = workload;
        let desired = nest(kind, at, spec.clone());
        let mut live = desired.clone();
        let live_spec = live.pointer_mut(&pointer(at)).expect("built above");
        add_server_defaults(live_spec, kind == "Pod");
        let meta = json!({"name": "w", "namespace": "n", "uid": "u", "resourceVersion": "7",
            "generation": 2, "creationTimestamp": "2026-01-01T00:00:00Z"});
        live["metadata"] = meta;
        live["status"] = json!({"observedGeneration": 2});
        if kind != "Pod" {
            live["spec"]["replicas"] = json!(replicas);
            live["spec"]["revisionHistoryLimit"] = json!(10);
        }
        if kind == "CronJob" {
            live["spec"]["suspend"] = json!(false);
            live["spec"]["concurrencyPolicy"] = json!("Allow");
        }
        if kind == "Deployment" {
            live["spec"]["strategy"] = json!({"type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
            live["spec"]["progressDeadlineSeconds"] = json!(600);
        }
        let (changes, note) = compare_client_side_noted(&desired, &live, kind);
        prop_assert_eq!(changes, vec![]);
        prop_assert_eq!(note, None);
        // Applied by plinth, nobody else touching it: in sync, nothing managed or pending.
        let mut owned = live.clone();
        owned["metadata"]["managedFields"] = json!([entry("plinth", "Apply", T1, &desired)]);
        let found = compare_client(&desired, &owned, kind, &Policy::default());
        prop_assert_eq!(found, Comparison::default());
        // One change by hand on top of the defaults is found, at its pointer.
        let (field, value) = tamper;
        let spec = live.pointer_mut(&pointer(at)).expect("built above");
        let at_pointer = match field {
            "containers" | "volumes" => {
                let list = spec[field].as_array_mut().expect("built above");
                list.push(value.clone());
                format!("{}/{field}/{}", pointer(at), list.len() - 1)
            }
            "privileged" => {
                // The containers were reversed: the first desired one is last.
                let last = spec["containers"].as_array().map_or(0, Vec::len) - 1;
                spec["containers"][last]["securityContext"] = json!({"privileged": true});
                format!("{}/containers/{last}/securityContext/privileged", pointer(at))
            }
            _ => {
                spec[field] = value.clone();
                format!("{}/{field}", pointer(at))
            }
        };
        let (changes, note) = compare_client_side_noted(&desired, &live, kind);
        let found: Vec<&str> = changes.iter().map(|c| c.pointer.as_str()).collect();
        prop_assert_eq!(found, vec![at_pointer.as_str()]);
        prop_assert_eq!(note, Some(OWNERSHIP_UNKNOWN_NOTE));
        // The same change made with `kubectl edit` after plinth's apply: found, and its writer
        // named.
        let edited = live.pointer(&at_pointer).cloned().expect("changed above");
        let mut by_hand = Value::Null;
        let segments = plinth_vocab::pointer::segments(&at_pointer);
        let mut slot = &mut by_hand;
        let mut held = &live;
        for seg in &segments {
            held = match held {
                Value::Array(items) => &items[seg.parse::<usize>().expect("an index")],
                other => &other[seg.as_str()],
            };
            // A list item is owned by its key: keep the item's `name`.
            if held.is_object() && held.get("name").is_some() && seg.parse::<usize>().is_ok() {
                *slot = json!([{"name": held["name"].clone()}]);
                slot = &mut slot[0];
            } else if seg.parse::<usize>().is_ok() {
                *slot = json!([Value::Null]);
                slot = &mut slot[0];
            } else {
                slot = &mut slot[seg.as_str()];
            }
        }
        *slot = edited;
        live["metadata"]["managedFields"] = json!([
            entry("plinth", "Apply", T1, &desired),
            entry("kubectl-edit", "Update", T2, &by_hand),
        ]);
        let found = compare_client(&desired, &live, kind, &Policy::default());
        let found: Vec<(&str, &str)> = found
            .changes
            .iter()
            .map(|c| (c.pointer.as_str(), c.writer.as_ref().map_or("", |w| w.manager.as_str())))
            .collect();
        prop_assert_eq!(found, vec![(at_pointer.as_str(), "kubectl-edit")]);
    }
}

const T1: &str = "2026-11-29T09:00:00Z";
const T2: &str = "2026-11-29T10:02:00Z";

/// A change made by hand to a pod spec: the field and the value added.
fn arb_tamper() -> impl Strategy<Value = (&'static str, Value)> {
    prop::sample::select(vec![
        ("containers", json!({"name": "miner", "image": "x"})),
        (
            "volumes",
            json!({"name": "root", "hostPath": {"path": "/"}}),
        ),
        ("hostNetwork", json!(true)),
        ("hostPID", json!(true)),
        ("privileged", json!(true)),
    ])
}
