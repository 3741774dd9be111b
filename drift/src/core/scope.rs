//! Where rendered objects land: a namespaced object rendered without `metadata.namespace` is
//! applied into the target namespace (kubectl: `--namespace`, else the context's namespace,
//! else `default`; Argo CD and Flux: the destination namespace), and a cluster-scoped object
//! never has a namespace (the API server clears one). Desired objects are placed this way
//! before they are matched with live ones.
//!
//! Whether a kind is namespaced comes from the cluster's discovery when there is a cluster,
//! else from the live objects of that kind in a snapshot, else from [`CLUSTER_SCOPED`].

use std::collections::BTreeMap;

use serde_json::Value;

use crate::core::desired::DesiredObject;
use crate::core::live::LiveSet;
use plinth_vocab::{ObjectRef, group_of};

/// The namespace of a namespaced object that names none, when nothing else is said.
pub const DEFAULT_NAMESPACE: &str = "default";

/// Cluster-scoped kinds by API group (`""`: core), as the API servers serve them
/// (`kubectl api-resources --namespaced=false`): Kubernetes' own, OpenShift's and those of
/// the operators a VM platform runs. Kinds of [`CLUSTER_SCOPED_GROUPS`] are cluster-scoped
/// too; every other kind is taken as namespaced.
pub const CLUSTER_SCOPED: &[(&str, &[&str])] = &[
    (
        "",
        &["ComponentStatus", "Namespace", "Node", "PersistentVolume"],
    ),
    (
        "admissionregistration.k8s.io",
        &[
            "MutatingAdmissionPolicy",
            "MutatingAdmissionPolicyBinding",
            "MutatingWebhookConfiguration",
            "ValidatingAdmissionPolicy",
            "ValidatingAdmissionPolicyBinding",
            "ValidatingWebhookConfiguration",
        ],
    ),
    ("apiextensions.k8s.io", &["CustomResourceDefinition"]),
    ("apiregistration.k8s.io", &["APIService"]),
    (
        "authentication.k8s.io",
        &["SelfSubjectReview", "TokenReview"],
    ),
    (
        "authorization.k8s.io",
        &[
            "SelfSubjectAccessReview",
            "SelfSubjectRulesReview",
            "SubjectAccessReview",
        ],
    ),
    (
        "certificates.k8s.io",
        &["CertificateSigningRequest", "ClusterTrustBundle"],
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        &["FlowSchema", "PriorityLevelConfiguration"],
    ),
    ("internal.apiserver.k8s.io", &["StorageVersion"]),
    (
        "networking.k8s.io",
        &["IPAddress", "IngressClass", "ServiceCIDR"],
    ),
    ("node.k8s.io", &["RuntimeClass"]),
    ("policy", &["PodSecurityPolicy"]),
    (
        "rbac.authorization.k8s.io",
        &["ClusterRole", "ClusterRoleBinding"],
    ),
    (
        "resource.k8s.io",
        &["DeviceClass", "DeviceTaintRule", "ResourceSlice"],
    ),
    ("scheduling.k8s.io", &["PriorityClass"]),
    (
        "storage.k8s.io",
        &[
            "CSIDriver",
            "CSINode",
            "StorageClass",
            "VolumeAttachment",
            "VolumeAttributesClass",
        ],
    ),
    ("storagemigration.k8s.io", &["StorageVersionMigration"]),
    (
        "snapshot.storage.k8s.io",
        &["VolumeSnapshotClass", "VolumeSnapshotContent"],
    ),
    ("gateway.networking.k8s.io", &["GatewayClass"]),
    // OpenShift
    (
        "machineconfiguration.openshift.io",
        &[
            "ContainerRuntimeConfig",
            "ControllerConfig",
            "KubeletConfig",
            "MachineConfig",
            "MachineConfigPool",
        ],
    ),
    (
        "security.openshift.io",
        &["RangeAllocation", "SecurityContextConstraints"],
    ),
    ("quota.openshift.io", &["ClusterResourceQuota"]),
    ("project.openshift.io", &["Project"]),
    ("image.openshift.io", &["Image"]),
    (
        "user.openshift.io",
        &["Group", "Identity", "User", "UserIdentityMapping"],
    ),
    ("oauth.openshift.io", &["OAuthClient"]),
    (
        "console.openshift.io",
        &[
            "ConsoleCLIDownload",
            "ConsoleLink",
            "ConsoleNotification",
            "ConsolePlugin",
            "ConsoleQuickStart",
            "ConsoleYAMLSample",
        ],
    ),
    ("observability.openshift.io", &["UIPlugin"]),
    ("operators.coreos.com", &["OLMConfig", "Operator"]),
    ("k8s.ovn.org", &["ClusterUserDefinedNetwork", "EgressIP"]),
    // KubeVirt and the operators around it (HyperConverged and KubeVirt are namespaced)
    ("aaq.kubevirt.io", &["AAQ"]),
    (
        "cdi.kubevirt.io",
        &["CDI", "CDIConfig", "ObjectTransfer", "StorageProfile"],
    ),
    (
        "networkaddonsoperator.network.kubevirt.io",
        &["NetworkAddonsConfig"],
    ),
    ("hostpathprovisioner.kubevirt.io", &["HostPathProvisioner"]),
    ("migrations.kubevirt.io", &["MigrationPolicy"]),
    (
        "instancetype.kubevirt.io",
        &[
            "VirtualMachineClusterInstancetype",
            "VirtualMachineClusterPreference",
        ],
    ),
    (
        "nmstate.io",
        &[
            "NMState",
            "NodeNetworkConfigurationEnactment",
            "NodeNetworkConfigurationPolicy",
            "NodeNetworkState",
        ],
    ),
    ("remediation.medik8s.io", &["NodeHealthCheck"]),
    ("nodemaintenance.medik8s.io", &["NodeMaintenance"]),
    ("cert-manager.io", &["ClusterIssuer"]),
    ("nfd.k8s-sigs.io", &["NodeFeatureRule"]),
    ("nvidia.com", &["ClusterPolicy"]),
];

/// API groups whose every kind is cluster-scoped (OpenShift's cluster configuration).
pub const CLUSTER_SCOPED_GROUPS: &[&str] = &["config.openshift.io"];

/// Whether a kind is namespaced according to the built-in lists alone.
pub fn builtin_namespaced(group: &str, kind: &str) -> bool {
    !(CLUSTER_SCOPED_GROUPS.contains(&group)
        || CLUSTER_SCOPED
            .iter()
            .any(|(g, kinds)| *g == group && kinds.contains(&kind)))
}

/// How kinds are scoped, and where namespaced objects that name no namespace go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    namespace: String,
    /// Scopes known from the live side, by (group, kind): `true` when namespaced. Kinds not
    /// here use [`builtin_namespaced`].
    known: BTreeMap<(String, String), bool>,
}

impl Placement {
    /// Built-in scopes only; namespaced objects without a namespace go to `namespace`.
    pub fn new(namespace: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            known: BTreeMap::new(),
        }
    }

    /// Records a kind's scope as the cluster serves it (discovery's `namespaced`).
    pub fn set_namespaced(&mut self, group: &str, kind: &str, namespaced: bool) {
        self.known
            .insert((group.to_owned(), kind.to_owned()), namespaced);
    }

    /// Scopes as a snapshot shows them: a kind whose live objects have a namespace is
    /// namespaced, one whose objects have none is cluster-scoped; other kinds use the built-in
    /// lists. Namespaced objects without a namespace go to `namespace`, else `default`.
    pub fn from_snapshot(live: &LiveSet, namespace: Option<&str>) -> Self {
        Self::from_keys(live.objects.keys(), namespace)
    }

    /// [`Self::from_snapshot`] from the keys of the snapshot's objects.
    pub fn from_keys<'a>(
        keys: impl IntoIterator<Item = &'a ObjectRef>,
        namespace: Option<&str>,
    ) -> Self {
        let mut placement = Self::new(namespace.unwrap_or(DEFAULT_NAMESPACE));
        for key in keys {
            let namespaced = key.namespace.is_some();
            let entry = placement
                .known
                .entry((key.group.clone(), key.kind.clone()))
                .or_insert(namespaced);
            *entry |= namespaced;
        }
        placement
    }

    /// The namespace namespaced objects without one go to.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Whether objects of `group`/`kind` live in namespaces.
    pub fn namespaced(&self, group: &str, kind: &str) -> bool {
        self.known
            .get(&(group.to_owned(), kind.to_owned()))
            .copied()
            .unwrap_or_else(|| builtin_namespaced(group, kind))
    }

    /// Places every desired object: a namespaced one without a namespace gets
    /// [`Self::namespace`] (in its index entry and in `metadata.namespace`, so that a
    /// server-side dry-run targets it too); a cluster-scoped one loses any namespace it names.
    pub fn place(&self, desired: &mut [DesiredObject]) {
        for d in desired {
            let group = group_of(&d.index.api_version);
            let has_namespace = d.index.namespace.as_deref().is_some_and(|n| !n.is_empty());
            if self.namespaced(group, &d.index.kind) {
                if !has_namespace {
                    d.index.namespace = Some(self.namespace.clone());
                    if let Some(meta) = d.value.get_mut("metadata").and_then(Value::as_object_mut) {
                        meta.insert("namespace".into(), Value::String(self.namespace.clone()));
                    }
                }
            } else {
                d.index.namespace = None;
                if let Some(meta) = d.value.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.remove("namespace");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::desired;
    use plinth_vocab::ObjectRef;

    fn objects() -> Vec<DesiredObject> {
        desired::from_values(
            [
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}),
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "n", "namespace": "team"}}),
                json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "r", "namespace": "stray"}}),
                json!({"apiVersion": "hco.kubevirt.io/v1beta1", "kind": "HyperConverged", "metadata": {"name": "h"}}),
                json!({"apiVersion": "machineconfiguration.openshift.io/v1", "kind": "MachineConfig", "metadata": {"name": "m"}}),
                json!({"apiVersion": "config.openshift.io/v1", "kind": "Proxy", "metadata": {"name": "cluster"}}),
                json!({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}),
            ],
            "a",
        )
    }

    fn keys(desired: &[DesiredObject]) -> Vec<String> {
        desired.iter().map(|d| d.key().to_string()).collect()
    }

    #[test]
    fn namespaced_objects_get_the_namespace_and_cluster_scoped_ones_lose_theirs() {
        let mut desired = objects();
        Placement::new("default").place(&mut desired);
        assert_eq!(
            keys(&desired),
            [
                "ConfigMap/default/c",
                "ConfigMap/team/n",
                "ClusterRole.rbac.authorization.k8s.io/r",
                "HyperConverged.hco.kubevirt.io/default/h",
                "MachineConfig.machineconfiguration.openshift.io/m",
                "Proxy.config.openshift.io/cluster",
                "Widget.example.com/default/w",
            ]
        );
        assert_eq!(desired[0].value["metadata"]["namespace"], "default");
        assert_eq!(desired[2].value["metadata"].get("namespace"), None);
        assert_eq!(desired[4].value["metadata"].get("namespace"), None);
    }

    #[test]
    fn discovery_and_snapshots_override_the_built_in_list() {
        let mut desired = objects();
        let mut placement = Placement::new("team-a");
        placement.set_namespaced("example.com", "Widget", false);
        placement.set_namespaced("", "ConfigMap", true);
        placement.place(&mut desired);
        assert_eq!(desired[0].key().to_string(), "ConfigMap/team-a/c");
        assert_eq!(desired[6].key().to_string(), "Widget.example.com/w");

        let mut live = LiveSet::default();
        for (av, kind, ns) in [
            ("example.com/v1", "Widget", None),
            ("example.com/v1", "Gadget", Some("x")),
            ("example.com/v1", "Gadget", None),
        ] {
            live.objects.insert(
                ObjectRef::new(av, kind, ns, "o"),
                json!({"apiVersion": av, "kind": kind}),
            );
        }
        let placement = Placement::from_snapshot(&live, None);
        assert_eq!(placement.namespace(), "default");
        assert!(!placement.namespaced("example.com", "Widget"));
        assert!(
            placement.namespaced("example.com", "Gadget"),
            "namespaced objects prove a namespaced kind"
        );
        assert!(!placement.namespaced("", "Namespace"));
        assert!(placement.namespaced("hco.kubevirt.io", "HyperConverged"));
        assert_eq!(
            Placement::from_snapshot(&live, Some("ops")).namespace(),
            "ops"
        );
    }
}
