//! What a change will disrupt at run time: node reboots (`MachineConfig`, `KubeletConfig`),
//! server replacement (a `MachineClass` whose replacement key changed), VM re-provisioning
//! (a `VPSie` `NodeGroup` offering or image change), VM restarts (a `KubeVirt`
//! `VirtualMachine` template change), workload rollouts (a pod template change) and
//! platform-wide changes (the `HyperConverged`). Each says what and why in one line.

use serde::Serialize;
use serde_json::Value;

use crate::change::ObjectChange;
use plinth_renderer::render::RenderedObject;
use plinth_vocab::group_of;
use plinth_vocab::labels::{
    ANNOTATION_REPLACEMENT_KEY, LABEL_ASSET, LABEL_CLUSTER, LABEL_MANAGED_BY,
};

/// What a change does at run time, most disruptive first: the order of every disruption list
/// (terminal, Markdown and JSON) is this order, then cluster, then object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Effect {
    /// Cloud servers are replaced.
    ReplaceServers,
    /// Autoscaled VMs are re-provisioned.
    ReprovisionVms,
    /// Nodes reboot.
    Reboot,
    /// A virtual machine restarts.
    RestartVm,
    /// A workload's pods are replaced.
    Rollout,
    /// The whole virtualization platform is reconfigured.
    Platform,
}

impl Effect {
    /// A short label for summaries.
    pub fn label(self) -> &'static str {
        match self {
            Self::Platform => "platform",
            Self::ReplaceServers => "replace servers",
            Self::Reboot => "reboot",
            Self::ReprovisionVms => "re-provision VMs",
            Self::RestartVm => "restart VM",
            Self::Rollout => "rollout",
        }
    }
}

/// One disruption a change will cause.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Disruption {
    pub effect: Effect,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    /// What and why, in one line.
    pub message: String,
}

impl Disruption {
    /// The order of disruptions: effect (most disruptive first), then kind, namespace, name
    /// and message.
    fn key(&self) -> (Effect, &str, Option<&str>, &str, &str) {
        (
            self.effect,
            &self.kind,
            self.namespace.as_deref(),
            &self.name,
            &self.message,
        )
    }
}

/// Sorts most disruptive first, then by kind, namespace and name.
pub fn sort(list: &mut [Disruption]) {
    list.sort_by(|a, b| a.key().cmp(&b.key()));
}

/// A disruption of one cluster in the fleet-wide list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClusterDisruption {
    pub cluster: String,
    #[serde(flatten)]
    pub disruption: Disruption,
}

/// Every cluster's disruptions in one list: most disruptive first, then by cluster, then by
/// object. The order every preview format shows them in.
pub fn fleet<'a>(
    clusters: impl IntoIterator<Item = (&'a str, &'a [Disruption])>,
) -> Vec<ClusterDisruption> {
    let mut out: Vec<ClusterDisruption> = clusters
        .into_iter()
        .flat_map(|(cluster, list)| {
            list.iter().map(move |d| ClusterDisruption {
                cluster: cluster.to_owned(),
                disruption: d.clone(),
            })
        })
        .collect();
    out.sort_by(|a, b| {
        let (x, y) = (a.disruption.key(), b.disruption.key());
        (x.0, &a.cluster, x.1, x.2, x.3, x.4).cmp(&(y.0, &b.cluster, y.1, y.2, y.3, y.4))
    });
    out
}

fn shown(kind: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} `{ns}/{name}`"),
        None => format!("{kind} `{name}`"),
    }
}

/// The pool a `MachineConfig` or `KubeletConfig` applies to.
fn machine_config_pool(obj: &Value) -> Option<String> {
    if let Some(role) = obj
        .pointer("/metadata/labels")
        .and_then(|l| l.get("machineconfiguration.openshift.io/role"))
        .and_then(Value::as_str)
    {
        return Some(role.to_owned());
    }
    let labels = obj
        .pointer("/spec/machineConfigPoolSelector/matchLabels")?
        .as_object()?;
    for (key, value) in labels {
        if let Some(pool) = key.strip_prefix("pools.operator.machineconfiguration.openshift.io/") {
            return Some(pool.to_owned());
        }
        if key == "machineconfiguration.openshift.io/role"
            && let Some(v) = value.as_str()
        {
            return Some(v.to_owned());
        }
    }
    labels
        .iter()
        .next()
        .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
}

/// Top-level keys under `pointer` whose values differ between `a` and `b`, sorted.
fn changed_keys(a: &Value, b: &Value, pointer: &str) -> Vec<String> {
    let empty = serde_json::Map::new();
    let x = a
        .pointer(pointer)
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let y = b
        .pointer(pointer)
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
    keys.into_iter()
        .filter(|k| x.get(*k) != y.get(*k))
        .cloned()
        .collect()
}

/// The Secret a `MachineClass` takes its userData from (its `secretRef`), among `objects`.
fn user_data_secret<'a>(class: &Value, objects: &'a [RenderedObject]) -> Option<&'a Value> {
    let reference = class.get("secretRef")?;
    let name = reference.get("name")?.as_str()?;
    let namespace = reference
        .get("namespace")
        .and_then(Value::as_str)
        .or_else(|| class.pointer("/metadata/namespace").and_then(Value::as_str));
    objects
        .iter()
        .find(|o| {
            o.identity.kind == "Secret"
                && o.identity.group.is_empty()
                && o.identity.name == name
                && o.identity.namespace.as_deref() == namespace
        })
        .map(|o| &o.value)
}

/// The fields whose change made a `MachineClass`'s replacement key change, as field paths
/// (`providerSpec.imageId`, `providerSpec.userData`); never their values. userData counts as
/// changed when the class's inline `providerSpec.userData` or the `userData` of the Secret its
/// `secretRef` names differs between `base` and `head` (both rendered, unredacted: compared,
/// never shown), or when `secretRef` itself changed.
fn replacement_causes(
    before: &Value,
    after: &Value,
    base: &[RenderedObject],
    head: &[RenderedObject],
) -> Vec<String> {
    let mut fields: Vec<String> = changed_keys(before, after, "/providerSpec")
        .into_iter()
        .filter(|k| plinth_renderer::pools::stackit::REPLACEMENT_FIELDS.contains(&k.as_str()))
        .map(|k| format!("providerSpec.{k}"))
        .collect();
    let secret_data = |class: &Value, objects: &[RenderedObject]| {
        user_data_secret(class, objects)
            .and_then(|s| {
                s.pointer("/data/userData")
                    .or_else(|| s.pointer("/stringData/userData"))
            })
            .cloned()
    };
    let user_data_changed = !fields.iter().any(|f| f == "providerSpec.userData")
        && (before.get("secretRef") != after.get("secretRef")
            || secret_data(before, base) != secret_data(after, head));
    if user_data_changed {
        fields.push("providerSpec.userData".to_owned());
        fields.sort();
    }
    fields
}

/// How a part of `metadata` counts when a change is judged by what an operator reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Metadata {
    /// Every entry but plinth's own labels counts.
    ReadButPlinths,
    /// Only these entries count.
    Only(&'static [&'static str]),
    /// Nothing counts.
    Ignored,
}

/// The HyperConverged's annotations that patch the configuration of the components it
/// deploys (KubeVirt, CDI, the network addons, SSP): changing one reconfigures the platform.
const HCO_JSON_PATCH_ANNOTATIONS: &[&str] = &[
    "kubevirt.kubevirt.io/jsonpatch",
    "containerizeddataimporter.kubevirt.io/jsonpatch",
    "networkaddonsconfigs.kubevirt.io/jsonpatch",
    "ssp.kubevirt.io/jsonpatch",
];

/// Whether `before` and `after` differ anywhere but in `metadata`, or in the labels or
/// annotations that count (`labels`, `annotations`).
fn changed_beyond(before: &Value, after: &Value, labels: Metadata, annotations: Metadata) -> bool {
    let counted = |v: &Value| -> Value {
        let mut v = v.clone();
        let meta = v.get("metadata").cloned().unwrap_or(Value::Null);
        let keep = |field: &str, how: Metadata| -> Value {
            let Some(Value::Object(mut map)) = meta.get(field).cloned() else {
                return Value::Null;
            };
            match how {
                Metadata::ReadButPlinths => {
                    for own in [LABEL_MANAGED_BY, LABEL_CLUSTER, LABEL_ASSET] {
                        map.remove(own);
                    }
                }
                Metadata::Only(keys) => map.retain(|k, _| keys.contains(&k.as_str())),
                Metadata::Ignored => map.clear(),
            }
            if map.is_empty() {
                Value::Null
            } else {
                Value::Object(map)
            }
        };
        if let Some(o) = v.as_object_mut() {
            o.insert(
                "metadata".into(),
                serde_json::json!({
                    "labels": keep("labels", labels),
                    "annotations": keep("annotations", annotations),
                }),
            );
        }
        v
    };
    counted(before) != counted(after)
}

/// The disruptions one object change causes. `before`/`after` are the (redacted) object
/// values; `base` and `head` are every object the cluster renders at base and at head (to
/// find the pools that use a machine class and the userData Secrets of machine classes).
pub fn classify(
    change: ObjectChange,
    before: Option<&Value>,
    after: Option<&Value>,
    base: &[RenderedObject],
    head: &[RenderedObject],
) -> Vec<Disruption> {
    let Some(obj) = after.or(before) else {
        return Vec::new();
    };
    let kind = obj["kind"].as_str().unwrap_or_default();
    let group = group_of(obj["apiVersion"].as_str().unwrap_or_default());
    let namespace = obj.pointer("/metadata/namespace").and_then(Value::as_str);
    let name = obj
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let what = shown(kind, namespace, name);
    let make = |effect: Effect, message: String| Disruption {
        effect,
        kind: kind.to_owned(),
        namespace: namespace.map(str::to_owned),
        name: name.to_owned(),
        message,
    };
    let both = before.zip(after);
    let changed_at =
        |pointer: &str| both.is_some_and(|(b, a)| b.pointer(pointer) != a.pointer(pointer));
    // A changed object whose only difference is metadata the operator does not read disrupts
    // nothing: the HyperConverged's labels and annotations but its JSON-patch ones, a
    // MachineConfig's annotations and plinth's own labels (other labels may select its pool),
    // a KubeletConfig's labels and annotations.
    let beyond = |labels: Metadata, annotations: Metadata| {
        both.is_none_or(|(b, a)| changed_beyond(b, a, labels, annotations))
    };
    let mut out = Vec::new();
    match (group, kind) {
        ("hco.kubevirt.io", "HyperConverged")
            if beyond(
                Metadata::Ignored,
                Metadata::Only(HCO_JSON_PATCH_ANNOTATIONS),
            ) =>
        {
            out.push(make(
                Effect::Platform,
                format!(
                    "touches the whole virtualization platform: {what} {}",
                    change.word()
                ),
            ));
        }
        ("machineconfiguration.openshift.io", "MachineConfig" | "KubeletConfig")
            if (kind == "MachineConfig" && beyond(Metadata::ReadButPlinths, Metadata::Ignored))
                || (kind == "KubeletConfig" && beyond(Metadata::Ignored, Metadata::Ignored)) =>
        {
            let pool = machine_config_pool(obj)
                .map_or_else(|| "its pool".to_owned(), |p| format!("pool `{p}`"));
            out.push(make(
                Effect::Reboot,
                format!("reboots the nodes of {pool}: {what} {}", change.word()),
            ));
        }
        ("machine.sapcloud.io", "MachineClass") if change == ObjectChange::Changed => {
            let (b, a) = both.expect("a changed object has both sides");
            let key = |v: &Value| {
                v.pointer("/metadata/annotations")
                    .and_then(|x| x.get(ANNOTATION_REPLACEMENT_KEY))
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            };
            let replaced = match (key(b), key(a)) {
                (Some(x), Some(y)) => x != y,
                _ => b.get("providerSpec") != a.get("providerSpec"),
            };
            if replaced {
                let fields = replacement_causes(b, a, base, head);
                let pools: Vec<String> = head
                    .iter()
                    .filter(|o| {
                        matches!(o.identity.kind.as_str(), "MachineDeployment" | "MachineSet")
                    })
                    .filter(|o| {
                        o.value
                            .pointer("/spec/template/spec/class/name")
                            .and_then(Value::as_str)
                            == Some(name)
                    })
                    .map(|o| format!("`{}`", o.identity.name))
                    .collect();
                let pools = if pools.is_empty() {
                    format!("pool `{name}`")
                } else {
                    format!("pool(s) {}", pools.join(", "))
                };
                let why = if fields.is_empty() {
                    String::new()
                } else {
                    let fields: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
                    format!(" (changed: {})", fields.join(", "))
                };
                out.push(make(
                    Effect::ReplaceServers,
                    format!(
                        "replaces the servers of {pools}: the replacement key of {what} changed{why}"
                    ),
                ));
            }
        }
        ("autoscaler.vpsie.com", "NodeGroup") if change == ObjectChange::Changed => {
            let fields: Vec<&str> = ["offeringIDs", "osImageID"]
                .into_iter()
                .filter(|f| changed_at(&format!("/spec/{f}")) || changed_at(&format!("/{f}")))
                .collect();
            if !fields.is_empty() {
                out.push(make(
                    Effect::ReprovisionVms,
                    format!(
                        "re-provisions the VMs of node group `{name}`: {what} {} changed",
                        fields.join(" and ")
                    ),
                ));
            }
        }
        ("kubevirt.io", "VirtualMachine") if changed_at("/spec/template") => {
            out.push(make(
                Effect::RestartVm,
                format!("restarts the VM: {what} template changed"),
            ));
        }
        ("apps", "Deployment" | "DaemonSet" | "StatefulSet") if changed_at("/spec/template") => {
            out.push(make(
                Effect::Rollout,
                format!("rolls out the workload: {what} pod template changed"),
            ));
        }
        _ => {}
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn one(change: ObjectChange, before: &Value, after: &Value) -> Vec<Disruption> {
        classify(change, Some(before), Some(after), &[], &[])
    }

    #[test]
    fn machine_config_reboots_its_pool() {
        let mc = |x: &str| {
            json!({"apiVersion": "machineconfiguration.openshift.io/v1", "kind": "MachineConfig",
                "metadata": {"name": "99-worker-x", "labels": {"machineconfiguration.openshift.io/role": "worker"}},
                "spec": {"config": x}})
        };
        let d = one(ObjectChange::Changed, &mc("a"), &mc("b"));
        assert_eq!(d[0].effect, Effect::Reboot);
        assert_eq!(
            d[0].message,
            "reboots the nodes of pool `worker`: MachineConfig `99-worker-x` changed"
        );
        let kc = json!({"apiVersion": "machineconfiguration.openshift.io/v1", "kind": "KubeletConfig",
            "metadata": {"name": "kc"},
            "spec": {"machineConfigPoolSelector": {"matchLabels": {"pools.operator.machineconfiguration.openshift.io/master": ""}}}});
        let d = classify(ObjectChange::Added, None, Some(&kc), &[], &[]);
        assert!(d[0].message.contains("pool `master`"), "{}", d[0].message);
    }

    #[test]
    fn metadata_the_operator_does_not_read_disrupts_nothing() {
        let with = |kind: &str, labels: Value, annotations: Value, spec: Value| {
            let group = if kind == "HyperConverged" {
                "hco.kubevirt.io/v1beta1"
            } else {
                "machineconfiguration.openshift.io/v1"
            };
            json!({"apiVersion": group, "kind": kind,
                "metadata": {"name": "x", "labels": labels, "annotations": annotations},
                "spec": spec})
        };
        let effects = |kind: &str, before: (Value, Value, Value), after: (Value, Value, Value)| {
            one(
                ObjectChange::Changed,
                &with(kind, before.0, before.1, before.2),
                &with(kind, after.0, after.1, after.2),
            )
            .iter()
            .map(|d| d.effect)
            .collect::<Vec<_>>()
        };
        let plinths = json!({"app.kubernetes.io/managed-by": "plinth", "plinth.dev/cluster": "c"});
        let role = json!({"machineconfiguration.openshift.io/role": "worker"});
        let spec = json!({"config": {"a": 1}});
        // The HyperConverged: labels and ordinary annotations no; a JSON-patch annotation or
        // the spec yes.
        let hco =
            |labels: &Value, annotations: Value, spec: Value| (labels.clone(), annotations, spec);
        assert!(
            effects(
                "HyperConverged",
                hco(&json!({}), json!({}), spec.clone()),
                hco(&plinths, json!({"team": "x"}), spec.clone())
            )
            .is_empty()
        );
        assert_eq!(
            effects(
                "HyperConverged",
                hco(&json!({}), json!({}), spec.clone()),
                hco(
                    &json!({}),
                    json!({"kubevirt.kubevirt.io/jsonpatch": "[]"}),
                    spec.clone()
                )
            ),
            [Effect::Platform]
        );
        assert_eq!(
            effects(
                "HyperConverged",
                hco(&json!({}), json!({}), spec.clone()),
                hco(&json!({}), json!({}), json!({"config": {"a": 2}}))
            ),
            [Effect::Platform]
        );
        // A MachineConfig: plinth's labels and annotations no; another label (it may select a
        // pool) or the spec yes.
        let mut with_plinths = role.clone();
        with_plinths
            .as_object_mut()
            .unwrap()
            .extend(plinths.as_object().unwrap().clone());
        assert!(
            effects(
                "MachineConfig",
                (role.clone(), json!({}), spec.clone()),
                (with_plinths.clone(), json!({"note": "y"}), spec.clone())
            )
            .is_empty()
        );
        let mut other = with_plinths.clone();
        other["pool"] = json!("gpu");
        assert_eq!(
            effects(
                "MachineConfig",
                (with_plinths.clone(), json!({}), spec.clone()),
                (other, json!({}), spec.clone())
            ),
            [Effect::Reboot]
        );
        // A KubeletConfig selects its pool in its spec: metadata never counts.
        assert!(
            effects(
                "KubeletConfig",
                (json!({}), json!({}), spec.clone()),
                (
                    json!({"any": "label"}),
                    json!({"any": "note"}),
                    spec.clone()
                )
            )
            .is_empty()
        );
        // Added and removed objects always count.
        let mc = with("MachineConfig", role.clone(), json!({}), spec);
        assert_eq!(
            classify(ObjectChange::Removed, Some(&mc), None, &[], &[])[0].effect,
            Effect::Reboot
        );
    }

    #[test]
    fn machine_class_replaces_servers_only_when_the_key_changes() {
        let mc = |key: &str, image: &str, label: &str| {
            json!({"apiVersion": "machine.sapcloud.io/v1alpha1", "kind": "MachineClass",
                "metadata": {"name": "w1", "namespace": "mcm", "annotations": {ANNOTATION_REPLACEMENT_KEY: key}},
                "providerSpec": {"imageId": image, "labels": {"x": label}}})
        };
        let d = one(
            ObjectChange::Changed,
            &mc("k1", "i1", "a"),
            &mc("k2", "i2", "a"),
        );
        assert_eq!(d[0].effect, Effect::ReplaceServers);
        assert!(
            d[0].message.contains("pool `w1`") && d[0].message.contains("imageId"),
            "{}",
            d[0].message
        );
        assert!(
            one(
                ObjectChange::Changed,
                &mc("k1", "i1", "a"),
                &mc("k1", "i1", "b")
            )
            .is_empty()
        );
    }

    fn rendered(value: Value) -> RenderedObject {
        RenderedObject {
            asset: "machine-classes".into(),
            wave: 10,
            identity: plinth_vocab::ObjectRef::of(&value).unwrap(),
            value,
        }
    }

    #[test]
    fn a_user_data_change_names_the_field_and_never_the_value() {
        let class = |key: &str| {
            json!({"apiVersion": "machine.sapcloud.io/v1alpha1", "kind": "MachineClass",
                "metadata": {"name": "w1", "namespace": "mcm", "annotations": {ANNOTATION_REPLACEMENT_KEY: key}},
                "providerSpec": {"imageId": "i1"},
                "secretRef": {"name": "w1-userdata", "namespace": "mcm"}})
        };
        let secret = |ud: &str| {
            rendered(json!({"apiVersion": "v1", "kind": "Secret",
                "metadata": {"name": "w1-userdata", "namespace": "mcm"},
                "data": {"userData": ud}}))
        };
        let (base, head) = ([secret("c2VjcmV0LTE=")], [secret("c2VjcmV0LTI=")]);
        let d = classify(
            ObjectChange::Changed,
            Some(&class("k1")),
            Some(&class("k2")),
            &base,
            &head,
        );
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].effect, Effect::ReplaceServers);
        assert_eq!(
            d[0].message,
            "replaces the servers of pool `w1`: the replacement key of MachineClass `mcm/w1` changed (changed: `providerSpec.userData`)"
        );
        assert!(!d[0].message.contains("c2VjcmV0"));
        // The image and the userData together; labels never count.
        let mut after = class("k2");
        after["providerSpec"]["imageId"] = json!("i2");
        after["providerSpec"]["labels"] = json!({"a": "b"});
        let d = classify(
            ObjectChange::Changed,
            Some(&class("k1")),
            Some(&after),
            &base,
            &head,
        );
        assert!(
            d[0].message
                .ends_with("(changed: `providerSpec.imageId`, `providerSpec.userData`)"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn the_fleet_list_orders_by_effect_then_cluster() {
        let d = |effect: Effect, name: &str| Disruption {
            effect,
            kind: "K".into(),
            namespace: None,
            name: name.into(),
            message: String::new(),
        };
        let a = [d(Effect::Platform, "h"), d(Effect::Rollout, "r")];
        let b = [d(Effect::ReplaceServers, "m"), d(Effect::Rollout, "q")];
        let z = [d(Effect::ReprovisionVms, "n"), d(Effect::Reboot, "x")];
        let listed: Vec<(String, String)> = fleet([("a", &a[..]), ("b", &b[..]), ("z", &z[..])])
            .into_iter()
            .map(|c| (c.cluster, c.disruption.name))
            .collect();
        let want = [
            ("b", "m"),
            ("z", "n"),
            ("z", "x"),
            ("a", "r"),
            ("b", "q"),
            ("a", "h"),
        ];
        assert_eq!(
            listed,
            want.map(|(c, n)| (c.to_owned(), n.to_owned())).to_vec()
        );
    }

    #[test]
    fn workloads_vms_node_groups_and_hco() {
        let dep = |img: &str, replicas: u32| {
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"},
                "spec": {"replicas": replicas, "template": {"spec": {"containers": [{"image": img}]}}}})
        };
        assert_eq!(
            one(ObjectChange::Changed, &dep("a", 1), &dep("b", 1))[0].effect,
            Effect::Rollout
        );
        assert!(one(ObjectChange::Changed, &dep("a", 1), &dep("a", 2)).is_empty());
        let vm = |cpu: u32| {
            json!({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine", "metadata": {"name": "vm", "namespace": "n"},
                "spec": {"template": {"spec": {"domain": {"cpu": {"cores": cpu}}}}}})
        };
        assert_eq!(
            one(ObjectChange::Changed, &vm(1), &vm(2))[0].effect,
            Effect::RestartVm
        );
        let ng = |offering: &str, max: u32| {
            json!({"apiVersion": "autoscaler.vpsie.com/v1alpha1", "kind": "NodeGroup", "metadata": {"name": "ng"},
                "spec": {"offeringIDs": [offering], "maxNodes": max}})
        };
        let d = one(ObjectChange::Changed, &ng("o1", 1), &ng("o2", 1));
        assert!(
            d[0].message.contains("offeringIDs changed"),
            "{}",
            d[0].message
        );
        assert!(one(ObjectChange::Changed, &ng("o1", 1), &ng("o1", 3)).is_empty());
        let hco = |n: u32| {
            json!({"apiVersion": "hco.kubevirt.io/v1beta1", "kind": "HyperConverged", "metadata": {"name": "kubevirt-hyperconverged"},
                "spec": {"liveMigrationConfig": {"parallelMigrationsPerCluster": n}}})
        };
        assert_eq!(
            one(ObjectChange::Changed, &hco(5), &hco(10))[0].effect,
            Effect::Platform
        );
    }
}
