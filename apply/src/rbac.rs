//! The least-privilege RBAC that `plinth apply` and `plinth drift` need on one cluster's
//! rendered kinds (`plinth rbac`): per rendered (group, resource) `get`, `list`, `create`
//! and `patch` (server-side apply is a `PATCH`, and the API server checks `create` too when
//! the apply creates the object), `delete` only where prune may delete (never Namespaces or
//! CRDs unless asked), `create`/`patch` on `events.k8s.io` Events, `get`/`list` on Nodes when
//! the cluster has a hardware inventory, and bindings to one `ServiceAccount`. Discovery needs
//! no rule: Kubernetes grants it to every authenticated user (`system:discovery`).
//!
//! A kind's resource name is its plural, never guessed: from a CRD rendered for the cluster,
//! from the table of built-in kinds ([`BUILT_IN`]), or from a CRD of the `schemas` folder.
//! Kinds whose objects all live in one namespace get a Role there instead of `ClusterRole`
//! rules (unless [`RbacOptions::namespaced_roles`] is off). The output is sorted and stable.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use serde_json::{Value, json};

use plinth_drift::DriftError;
use plinth_drift::core::desired::DesiredObject;
use plinth_drift::core::scope;
use plinth_drift::engine::{self, Notice};
use plinth_renderer::RenderError;
use plinth_renderer::conformance;
use plinth_renderer::schema::{CrdResource, Schemas};
use plinth_vocab::group_of;
use plinth_vocab::names::is_dns_label;

/// The group of the Events plinth emits.
pub const EVENTS_GROUP: &str = "events.k8s.io";
/// The group of KubeVirt's VMs, whose run state `drift --cloud` reads.
pub const KUBEVIRT_GROUP: &str = "kubevirt.io";

/// The resource names (plurals) of the built-in kinds, by API group: Kubernetes' own and the
/// custom resources plinth's built-in catalog and worker pools render (their plurals and
/// scopes checked against the upstream CRDs by this module's tests where those are at hand).
/// The scope of these kinds comes from drift's [`scope::builtin_namespaced`].
pub const BUILT_IN: &[(&str, &[(&str, &str)])] = &[
    (
        "",
        &[
            ("ConfigMap", "configmaps"),
            ("Endpoints", "endpoints"),
            ("Event", "events"),
            ("LimitRange", "limitranges"),
            ("Namespace", "namespaces"),
            ("Node", "nodes"),
            ("PersistentVolume", "persistentvolumes"),
            ("PersistentVolumeClaim", "persistentvolumeclaims"),
            ("Pod", "pods"),
            ("PodTemplate", "podtemplates"),
            ("ReplicationController", "replicationcontrollers"),
            ("ResourceQuota", "resourcequotas"),
            ("Secret", "secrets"),
            ("Service", "services"),
            ("ServiceAccount", "serviceaccounts"),
        ],
    ),
    (
        "admissionregistration.k8s.io",
        &[
            ("MutatingAdmissionPolicy", "mutatingadmissionpolicies"),
            (
                "MutatingAdmissionPolicyBinding",
                "mutatingadmissionpolicybindings",
            ),
            (
                "MutatingWebhookConfiguration",
                "mutatingwebhookconfigurations",
            ),
            ("ValidatingAdmissionPolicy", "validatingadmissionpolicies"),
            (
                "ValidatingAdmissionPolicyBinding",
                "validatingadmissionpolicybindings",
            ),
            (
                "ValidatingWebhookConfiguration",
                "validatingwebhookconfigurations",
            ),
        ],
    ),
    (
        "apiextensions.k8s.io",
        &[("CustomResourceDefinition", "customresourcedefinitions")],
    ),
    ("apiregistration.k8s.io", &[("APIService", "apiservices")]),
    (
        "apps",
        &[
            ("ControllerRevision", "controllerrevisions"),
            ("DaemonSet", "daemonsets"),
            ("Deployment", "deployments"),
            ("ReplicaSet", "replicasets"),
            ("StatefulSet", "statefulsets"),
        ],
    ),
    (
        "autoscaling",
        &[("HorizontalPodAutoscaler", "horizontalpodautoscalers")],
    ),
    ("batch", &[("CronJob", "cronjobs"), ("Job", "jobs")]),
    (
        "certificates.k8s.io",
        &[
            ("CertificateSigningRequest", "certificatesigningrequests"),
            ("ClusterTrustBundle", "clustertrustbundles"),
        ],
    ),
    ("coordination.k8s.io", &[("Lease", "leases")]),
    ("discovery.k8s.io", &[("EndpointSlice", "endpointslices")]),
    ("events.k8s.io", &[("Event", "events")]),
    (
        "flowcontrol.apiserver.k8s.io",
        &[
            ("FlowSchema", "flowschemas"),
            ("PriorityLevelConfiguration", "prioritylevelconfigurations"),
        ],
    ),
    (
        "networking.k8s.io",
        &[
            ("IPAddress", "ipaddresses"),
            ("Ingress", "ingresses"),
            ("IngressClass", "ingressclasses"),
            ("NetworkPolicy", "networkpolicies"),
            ("ServiceCIDR", "servicecidrs"),
        ],
    ),
    ("node.k8s.io", &[("RuntimeClass", "runtimeclasses")]),
    ("policy", &[("PodDisruptionBudget", "poddisruptionbudgets")]),
    (
        "rbac.authorization.k8s.io",
        &[
            ("ClusterRole", "clusterroles"),
            ("ClusterRoleBinding", "clusterrolebindings"),
            ("Role", "roles"),
            ("RoleBinding", "rolebindings"),
        ],
    ),
    (
        "resource.k8s.io",
        &[
            ("DeviceClass", "deviceclasses"),
            ("ResourceClaim", "resourceclaims"),
            ("ResourceClaimTemplate", "resourceclaimtemplates"),
            ("ResourceSlice", "resourceslices"),
        ],
    ),
    ("scheduling.k8s.io", &[("PriorityClass", "priorityclasses")]),
    (
        "storage.k8s.io",
        &[
            ("CSIDriver", "csidrivers"),
            ("CSINode", "csinodes"),
            ("CSIStorageCapacity", "csistoragecapacities"),
            ("StorageClass", "storageclasses"),
            ("VolumeAttachment", "volumeattachments"),
            ("VolumeAttributesClass", "volumeattributesclasses"),
        ],
    ),
    // The custom resources of plinth's built-in catalog and worker pools.
    ("aaq.kubevirt.io", &[("AAQ", "aaqs")]),
    ("autoscaler.vpsie.com", &[("NodeGroup", "nodegroups")]),
    (
        "fence-agents-remediation.medik8s.io",
        &[(
            "FenceAgentsRemediationTemplate",
            "fenceagentsremediationtemplates",
        )],
    ),
    (
        "forklift.konveyor.io",
        &[("ForkliftController", "forkliftcontrollers")],
    ),
    ("hco.kubevirt.io", &[("HyperConverged", "hyperconvergeds")]),
    ("machine.sapcloud.io", &[("MachineClass", "machineclasses")]),
    (
        "machineconfiguration.openshift.io",
        &[
            ("KubeletConfig", "kubeletconfigs"),
            ("MachineConfig", "machineconfigs"),
        ],
    ),
    (
        "metallb.io",
        &[
            ("IPAddressPool", "ipaddresspools"),
            ("L2Advertisement", "l2advertisements"),
            ("MetalLB", "metallbs"),
        ],
    ),
    (
        "monitoring.coreos.com",
        &[
            ("PrometheusRule", "prometheusrules"),
            ("ServiceMonitor", "servicemonitors"),
        ],
    ),
    ("observability.openshift.io", &[("UIPlugin", "uiplugins")]),
    (
        "operator.openshift.io",
        &[("KubeDescheduler", "kubedeschedulers")],
    ),
    (
        "operators.coreos.com",
        &[
            ("OperatorGroup", "operatorgroups"),
            ("Subscription", "subscriptions"),
        ],
    ),
    (
        "remediation.medik8s.io",
        &[("NodeHealthCheck", "nodehealthchecks")],
    ),
    (
        "self-node-remediation.medik8s.io",
        &[(
            "SelfNodeRemediationTemplate",
            "selfnoderemediationtemplates",
        )],
    ),
];

/// An RBAC verb, in the order rules list them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    Get,
    List,
    Create,
    Patch,
    Delete,
}

impl Verb {
    /// The verb as RBAC rules spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "get",
            Self::List => "list",
            Self::Create => "create",
            Self::Patch => "patch",
            Self::Delete => "delete",
        }
    }
}

/// Where a kind's resource name came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameSource {
    /// A CRD rendered for the same cluster.
    RenderedCrd,
    /// The table of built-in kinds ([`BUILT_IN`]).
    BuiltIn,
    /// A CRD of the `schemas` folder (`--crds`).
    SchemasCrd,
}

/// A kind as requests name it: its resource (the plural) and scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    pub group: String,
    pub plural: String,
    pub namespaced: bool,
    pub source: NameSource,
}

/// How kinds are named: the CRDs rendered for the cluster first, then [`BUILT_IN`], then the
/// CRDs of the `schemas` folder.
#[derive(Debug, Clone, Default)]
pub struct Resources<'a> {
    rendered: BTreeMap<(String, String), CrdResource>,
    schemas: Option<&'a Schemas>,
}

impl<'a> Resources<'a> {
    /// The names the rendered CRDs of `desired` and the `schemas` folder (when there is one)
    /// define.
    pub fn new(desired: &[DesiredObject], schemas: Option<&'a Schemas>) -> Self {
        let rendered = desired
            .iter()
            .filter_map(|d| CrdResource::of(&d.value))
            .map(|r| ((r.group.clone(), r.kind.clone()), r))
            .collect();
        Self { rendered, schemas }
    }

    /// The resource of `kind` in `group`, or `None` when nothing names it.
    pub fn resolve(&self, group: &str, kind: &str) -> Option<Resource> {
        let key = (group.to_owned(), kind.to_owned());
        let crd = |r: &CrdResource, source| Resource {
            group: group.to_owned(),
            plural: r.plural.clone(),
            namespaced: r.namespaced,
            source,
        };
        if let Some(r) = self.rendered.get(&key) {
            return Some(crd(r, NameSource::RenderedCrd));
        }
        if let Some(plural) = built_in_plural(group, kind) {
            return Some(Resource {
                group: group.to_owned(),
                plural: plural.to_owned(),
                namespaced: scope::builtin_namespaced(group, kind),
                source: NameSource::BuiltIn,
            });
        }
        self.schemas
            .and_then(|s| s.resource(group, kind))
            .map(|r| crd(r, NameSource::SchemasCrd))
    }
}

/// The plural of a kind of [`BUILT_IN`].
pub fn built_in_plural(group: &str, kind: &str) -> Option<&'static str> {
    BUILT_IN
        .iter()
        .filter(|(g, _)| *g == group)
        .flat_map(|(_, kinds)| kinds.iter())
        .find(|(k, _)| *k == kind)
        .map(|(_, plural)| *plural)
}

/// What the RBAC grants beyond the rendered kinds, and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RbacOptions {
    /// The `ServiceAccount` the roles are bound to (and the name of every role and binding).
    pub service_account: String,
    /// Its namespace.
    pub service_account_namespace: String,
    /// Where namespaced objects that name no namespace are applied (drift's `--namespace`);
    /// unknown when `None`, and their kinds then get `ClusterRole` rules.
    pub namespace: Option<String>,
    /// `delete` on Namespaces (`apply --prune-namespaces`).
    pub prune_namespaces: bool,
    /// `delete` on `CustomResourceDefinitions` (`apply --prune-crds`).
    pub prune_crds: bool,
    /// A Role in the namespace of a kind whose objects all live in that one namespace, instead
    /// of `ClusterRole` rules.
    pub namespaced_roles: bool,
    /// What `drift --cloud` reads besides the rendered kinds: Nodes (`get`, `list`), and
    /// KubeVirt `VirtualMachine`s and `VirtualMachineInstance`s (`list`) in the namespaces
    /// plinth manages.
    pub cloud: bool,
}

impl Default for RbacOptions {
    fn default() -> Self {
        Self {
            service_account: "plinth".to_owned(),
            service_account_namespace: "plinth-system".to_owned(),
            namespace: None,
            prune_namespaces: false,
            prune_crds: false,
            namespaced_roles: true,
            cloud: false,
        }
    }
}

/// One rule of a role: these verbs on these resources of one group.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Rule {
    pub group: String,
    pub resources: BTreeSet<String>,
    pub verbs: BTreeSet<Verb>,
}

impl Rule {
    fn to_value(&self) -> Value {
        json!({
            "apiGroups": [self.group],
            "resources": self.resources,
            "verbs": self.verbs.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        })
    }
}

/// The RBAC of one cluster: the `ClusterRole`'s rules, the Roles' rules by namespace, and the
/// `ServiceAccount` they are bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rbac {
    pub cluster: String,
    pub service_account: String,
    pub service_account_namespace: String,
    /// The `ClusterRole`'s rules, sorted.
    pub cluster_rules: Vec<Rule>,
    /// Each Role's rules (sorted), by namespace.
    pub roles: BTreeMap<String, Vec<Rule>>,
}

/// The labels of every object `plinth rbac` writes. Never plinth's `managed-by` and cluster
/// labels: a live object with those and no longer rendered is an orphan `apply --prune` may
/// delete, and plinth must not prune its own access.
const LABELS: [(&str, &str); 2] = [
    ("app.kubernetes.io/name", "plinth"),
    ("app.kubernetes.io/component", "rbac"),
];

impl Rbac {
    /// Whether a request with `verb` on `resource` of `group` is allowed: in `namespace`
    /// (by the `ClusterRole` or that namespace's Role), or cluster-wide when `namespace` is
    /// `None` (the `ClusterRole` only).
    pub fn allows(&self, verb: Verb, group: &str, resource: &str, namespace: Option<&str>) -> bool {
        let grants = |rules: &[Rule]| {
            rules.iter().any(|r| {
                r.group == group && r.resources.contains(resource) && r.verbs.contains(&verb)
            })
        };
        grants(&self.cluster_rules)
            || namespace
                .and_then(|ns| self.roles.get(ns))
                .is_some_and(|rules| grants(rules))
    }

    /// The objects: the `ClusterRole` and its binding, then per namespace (sorted) the Role and
    /// its binding; each named after the `ServiceAccount`.
    pub fn objects(&self) -> Vec<Value> {
        let name = &self.service_account;
        let metadata = |namespace: Option<&str>| {
            let mut meta = json!({
                "name": name,
                "labels": LABELS.iter().map(|(k, v)| (*k, *v)).collect::<BTreeMap<_, _>>(),
            });
            if let Some(ns) = namespace {
                meta["namespace"] = json!(ns);
            }
            meta
        };
        let rules = |rules: &[Rule]| rules.iter().map(Rule::to_value).collect::<Vec<_>>();
        let subjects = json!([{
            "kind": "ServiceAccount",
            "name": name,
            "namespace": self.service_account_namespace,
        }]);
        let binding = |kind: &str, role_kind: &str, namespace: Option<&str>| {
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": kind,
                "metadata": metadata(namespace),
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": name},
                "subjects": subjects,
            })
        };
        let mut out = vec![
            json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "ClusterRole",
                "metadata": metadata(None),
                "rules": rules(&self.cluster_rules),
            }),
            binding("ClusterRoleBinding", "ClusterRole", None),
        ];
        for (namespace, role_rules) in &self.roles {
            out.push(json!({
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "Role",
                "metadata": metadata(Some(namespace)),
                "rules": rules(role_rules),
            }));
            out.push(binding("RoleBinding", "Role", Some(namespace)));
        }
        out
    }

    /// The objects as one YAML stream, after a comment saying what it is.
    pub fn to_yaml(&self) -> String {
        let mut out = format!(
            "# Least-privilege RBAC for `plinth apply` and `plinth drift` on cluster `{}`,\n# written by `plinth rbac`: regenerate it when the rendered kinds change.\n",
            self.cluster
        );
        for (i, object) in self.objects().iter().enumerate() {
            if i > 0 {
                out.push_str("---\n");
            }
            out.push_str(&plinth_vocab::yaml::to_string(object));
        }
        out
    }
}

/// Why the RBAC of a cluster cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum RbacError {
    /// The repository, the cluster or its desired state cannot be read.
    #[error(transparent)]
    Drift(#[from] DriftError),
    /// The cluster's inputs or the `schemas` folder cannot be read.
    #[error(transparent)]
    Render(#[from] RenderError),
    /// Rendered kinds whose resource name (plural) nothing defines.
    #[error(
        "cluster `{cluster}`: no resource name is known for {} rendered kind{}: {}",
        kinds.len(),
        if kinds.len() == 1 { "" } else { "s" },
        kinds.join(", ")
    )]
    UnknownResources {
        cluster: String,
        /// `Kind` of `apiVersion` (`file`), sorted.
        kinds: Vec<String>,
    },
    /// A `ServiceAccount` name or namespace that is not a DNS label.
    #[error(
        "the {what} `{value}` is not a valid Kubernetes name (lowercase letters, digits and `-`, at most 63 characters)"
    )]
    InvalidName { what: &'static str, value: String },
}

/// One `plinth rbac` run, as plain data.
#[derive(Debug, Clone)]
pub struct RbacRequest {
    /// The platform repository.
    pub repo: PathBuf,
    /// The cluster of the repository.
    pub cluster: String,
    /// A folder of CRDs naming custom kinds (default: the `schemas` setting of plinth.yaml).
    pub crds: Option<PathBuf>,
    pub options: RbacOptions,
}

/// The RBAC of one cluster: its desired state as `drift` loads it (the committed rendered
/// folder, else an in-memory render), named through its rendered CRDs, [`BUILT_IN`] and the
/// `schemas` folder; Nodes readable when the cluster has a hardware inventory.
///
/// # Errors
/// The repository, the cluster or the CRD folder cannot be read; a rendered kind has no known
/// resource name ([`RbacError::UnknownResources`]); a name in the options is invalid.
pub fn for_cluster(request: &RbacRequest, notify: &dyn Fn(Notice)) -> Result<Rbac, RbacError> {
    let fleet = engine::open_cluster(&request.repo, &request.cluster)?;
    let desired = engine::load_desired(&request.repo, &request.cluster, &fleet, notify)?;
    let schemas =
        conformance::load_schemas(&request.repo, request.crds.as_deref(), &fleet.settings)?;
    let read_nodes = fleet.prepare(&request.cluster)?.inventory.is_some();
    let resources = Resources::new(&desired, schemas.as_ref().map(|(_, s)| s));
    derive(
        &request.cluster,
        &desired,
        &resources,
        read_nodes,
        &request.options,
    )
}

/// A rendered kind: its apiVersion and first file (for messages), and the namespaces of its
/// objects (`None`: not known before run time).
struct RenderedKind {
    api_version: String,
    file: String,
    namespaces: BTreeSet<Option<String>>,
}

/// The resources of one role, by group and verbs: one rule each.
type ByGroupAndVerbs = BTreeMap<(String, BTreeSet<Verb>), BTreeSet<String>>;

/// Where a kind's rules go.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Home {
    /// The `ClusterRole`.
    Cluster,
    /// The Role of this namespace.
    Role(String),
}

/// The RBAC for the `desired` objects of `cluster`, their kinds named by `resources`;
/// `read_nodes` when drift compares the cluster's hardware inventory with its Nodes.
///
/// # Errors
/// A rendered kind has no known resource name; a name in `options` is not a DNS label.
pub fn derive(
    cluster: &str,
    desired: &[DesiredObject],
    resources: &Resources<'_>,
    read_nodes: bool,
    options: &RbacOptions,
) -> Result<Rbac, RbacError> {
    for (what, value) in [
        ("ServiceAccount name", &options.service_account),
        (
            "ServiceAccount namespace",
            &options.service_account_namespace,
        ),
    ] {
        if !is_dns_label(value) {
            return Err(RbacError::InvalidName {
                what,
                value: value.clone(),
            });
        }
    }
    // Each rendered kind, by (group, kind).
    let mut kinds: BTreeMap<(String, String), RenderedKind> = BTreeMap::new();
    for d in desired {
        let group = group_of(&d.index.api_version).to_owned();
        let entry = kinds
            .entry((group, d.index.kind.clone()))
            .or_insert_with(|| RenderedKind {
                api_version: d.index.api_version.clone(),
                file: d.index.file.clone(),
                namespaces: BTreeSet::new(),
            });
        let namespace = d
            .index
            .namespace
            .clone()
            .filter(|ns| !ns.is_empty())
            .or_else(|| options.namespace.clone());
        entry.namespaces.insert(namespace);
    }
    let mut grants: BTreeMap<(Home, String, String), BTreeSet<Verb>> = BTreeMap::new();
    let mut unknown = Vec::new();
    for (
        (group, kind),
        RenderedKind {
            api_version,
            file,
            namespaces,
        },
    ) in &kinds
    {
        let Some(resource) = resources.resolve(group, kind) else {
            let from = if file.is_empty() {
                String::new()
            } else {
                format!(" (`{file}`)")
            };
            unknown.push(format!("`{kind}` of `{api_version}`{from}"));
            continue;
        };
        let home = match namespaces.iter().collect::<Vec<_>>().as_slice() {
            [Some(ns)] if resource.namespaced && options.namespaced_roles => Home::Role(ns.clone()),
            _ => Home::Cluster,
        };
        let mut verbs = BTreeSet::from([Verb::Get, Verb::List, Verb::Create, Verb::Patch]);
        let never_pruned = (group.is_empty() && kind == "Namespace" && !options.prune_namespaces)
            || (group == "apiextensions.k8s.io"
                && kind == "CustomResourceDefinition"
                && !options.prune_crds);
        if !never_pruned {
            verbs.insert(Verb::Delete);
        }
        grants
            .entry((home, group.clone(), resource.plural))
            .or_default()
            .extend(verbs);
    }
    if !unknown.is_empty() {
        return Err(RbacError::UnknownResources {
            cluster: cluster.to_owned(),
            kinds: unknown,
        });
    }
    grants
        .entry((Home::Cluster, EVENTS_GROUP.to_owned(), "events".to_owned()))
        .or_default()
        // `get`: a standing problem's Event (a refused patch) is looked up before it is
        // created again, so a run with nothing to do writes nothing.
        .extend([Verb::Get, Verb::Create, Verb::Patch]);
    if read_nodes || options.cloud {
        grants
            .entry((Home::Cluster, String::new(), "nodes".to_owned()))
            .or_default()
            .extend([Verb::Get, Verb::List]);
    }
    if options.cloud {
        // The namespaces plinth manages: those its objects live in and the Namespaces it
        // renders; the VMs there are read with `--all-vms`, the rendered ones always.
        let managed: BTreeSet<String> = kinds
            .iter()
            .flat_map(|((group, kind), k)| {
                let own = (group.is_empty() && kind == "Namespace").then(|| {
                    desired
                        .iter()
                        .filter(|d| d.index.kind == "Namespace" && d.index.api_version == "v1")
                        .map(|d| d.index.name.clone())
                        .collect::<Vec<_>>()
                });
                k.namespaces
                    .iter()
                    .flatten()
                    .cloned()
                    .chain(own.into_iter().flatten())
            })
            .collect();
        for plural in ["virtualmachines", "virtualmachineinstances"] {
            let homes: Vec<Home> = if options.namespaced_roles && !managed.is_empty() {
                managed.iter().cloned().map(Home::Role).collect()
            } else {
                vec![Home::Cluster]
            };
            for home in homes {
                grants
                    .entry((home, KUBEVIRT_GROUP.to_owned(), plural.to_owned()))
                    .or_default()
                    .insert(Verb::List);
            }
        }
    }
    // One rule per (group, verbs), listing its resources.
    let mut rules: BTreeMap<Home, ByGroupAndVerbs> = BTreeMap::new();
    for ((home, group, plural), verbs) in grants {
        rules
            .entry(home)
            .or_default()
            .entry((group, verbs))
            .or_default()
            .insert(plural);
    }
    let mut rbac = Rbac {
        cluster: cluster.to_owned(),
        service_account: options.service_account.clone(),
        service_account_namespace: options.service_account_namespace.clone(),
        cluster_rules: Vec::new(),
        roles: BTreeMap::new(),
    };
    for (home, by_group) in rules {
        let mut list: Vec<Rule> = by_group
            .into_iter()
            .map(|((group, verbs), resources)| Rule {
                group,
                resources,
                verbs,
            })
            .collect();
        list.sort_by(|a, b| (&a.group, &a.resources).cmp(&(&b.group, &b.resources)));
        match home {
            Home::Cluster => rbac.cluster_rules = list,
            Home::Role(ns) => {
                rbac.roles.insert(ns, list);
            }
        }
    }
    Ok(rbac)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use plinth_drift::core::desired;

    fn objects(values: Vec<Value>) -> Vec<DesiredObject> {
        desired::from_values(values, "a")
    }

    fn obj(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Value {
        let mut v = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": name}});
        if let Some(ns) = namespace {
            v["metadata"]["namespace"] = json!(ns);
        }
        v
    }

    fn crd(group: &str, kind: &str, plural: &str, scope: &str) -> Value {
        json!({
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": format!("{plural}.{group}")},
            "spec": {"group": group, "scope": scope, "names": {"kind": kind, "plural": plural},
                     "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {"type": "object"}}}]},
        })
    }

    fn derive_with(values: Vec<Value>, options: &RbacOptions) -> Result<Rbac, RbacError> {
        let desired = objects(values);
        derive(
            "c1",
            &desired,
            &Resources::new(&desired, None),
            false,
            options,
        )
    }

    fn mixed() -> Vec<Value> {
        vec![
            obj("v1", "Namespace", None, "team"),
            obj("v1", "ConfigMap", Some("team"), "a"),
            obj("v1", "ConfigMap", Some("other"), "b"),
            obj("v1", "Secret", Some("team"), "s"),
            obj("v1", "Secret", Some("team"), "t"),
            obj("apps/v1", "Deployment", Some("team"), "d"),
            obj(
                "machineconfiguration.openshift.io/v1",
                "MachineConfig",
                None,
                "m",
            ),
            crd("example.com", "Widget", "widgetries", "Namespaced"),
            obj("example.com/v1", "Widget", Some("team"), "w"),
        ]
    }

    #[test]
    fn rendered_kinds_get_their_verbs_where_their_objects_live() {
        let rbac = derive_with(mixed(), &RbacOptions::default()).unwrap();
        let team = Some("team");
        // Every request a full apply and prune make on the rendered objects is allowed.
        for (group, resource, namespace) in [
            ("", "namespaces", None),
            ("", "configmaps", team),
            ("", "configmaps", Some("other")),
            ("", "configmaps", None),
            ("", "secrets", team),
            ("apps", "deployments", team),
            ("machineconfiguration.openshift.io", "machineconfigs", None),
            ("apiextensions.k8s.io", "customresourcedefinitions", None),
            ("example.com", "widgetries", team),
        ] {
            for verb in [Verb::Get, Verb::List, Verb::Create, Verb::Patch] {
                assert!(
                    rbac.allows(verb, group, resource, namespace),
                    "{verb:?} {group}/{resource} in {namespace:?}"
                );
            }
        }
        for (group, resource, namespace) in [
            ("", "configmaps", team),
            ("", "secrets", team),
            ("example.com", "widgetries", team),
            ("machineconfiguration.openshift.io", "machineconfigs", None),
        ] {
            assert!(rbac.allows(Verb::Delete, group, resource, namespace));
        }
        assert!(rbac.allows(Verb::Create, EVENTS_GROUP, "events", team));
        assert!(rbac.allows(Verb::Patch, EVENTS_GROUP, "events", Some("default")));

        // And nothing else: no delete of Namespaces or CRDs, Secrets only in their namespace,
        // no kind that is not rendered, no core Events, no Nodes without an inventory.
        for (verb, group, resource, namespace) in [
            (Verb::Delete, "", "namespaces", None),
            (
                Verb::Delete,
                "apiextensions.k8s.io",
                "customresourcedefinitions",
                None,
            ),
            (Verb::Get, "", "secrets", Some("other")),
            (Verb::List, "", "secrets", None),
            (Verb::List, "apps", "deployments", None),
            (Verb::Get, "", "pods", team),
            (Verb::Create, "", "events", team),
            (Verb::Delete, EVENTS_GROUP, "events", team),
            (Verb::List, "", "nodes", None),
            (Verb::Get, "example.com", "widgets", team),
        ] {
            assert!(
                !rbac.allows(verb, group, resource, namespace),
                "{verb:?} {group}/{resource} in {namespace:?} must be refused"
            );
        }
        // ConfigMaps live in two namespaces: ClusterRole rules; the rest of `team`: its Role.
        assert_eq!(rbac.roles.keys().collect::<Vec<_>>(), ["team"]);
        let role = &rbac.roles["team"];
        assert_eq!(
            role.iter()
                .map(|r| format!(
                    "{}:{}",
                    r.group,
                    r.resources.iter().cloned().collect::<Vec<_>>().join(",")
                ))
                .collect::<Vec<_>>(),
            [":secrets", "apps:deployments", "example.com:widgetries"]
        );
    }

    #[test]
    fn flags_widen_prune_and_keep_everything_in_the_cluster_role() {
        let options = RbacOptions {
            prune_namespaces: true,
            prune_crds: true,
            namespaced_roles: false,
            ..RbacOptions::default()
        };
        let rbac = derive_with(mixed(), &options).unwrap();
        assert!(rbac.roles.is_empty());
        assert!(rbac.allows(Verb::Delete, "", "namespaces", None));
        assert!(rbac.allows(
            Verb::Delete,
            "apiextensions.k8s.io",
            "customresourcedefinitions",
            None
        ));
        assert!(rbac.allows(Verb::List, "", "secrets", None));
    }

    #[test]
    fn objects_without_a_namespace_land_in_the_given_one_else_anywhere() {
        let values = || {
            vec![
                obj("v1", "ConfigMap", None, "a"),
                obj("v1", "ConfigMap", Some("x"), "b"),
            ]
        };
        let rbac = derive_with(values(), &RbacOptions::default()).unwrap();
        assert!(
            rbac.roles.is_empty(),
            "the namespace is only known at run time"
        );
        assert!(rbac.allows(Verb::Patch, "", "configmaps", None));
        let options = RbacOptions {
            namespace: Some("x".into()),
            ..RbacOptions::default()
        };
        let rbac = derive_with(values(), &options).unwrap();
        assert!(rbac.allows(Verb::Patch, "", "configmaps", Some("x")));
        assert!(!rbac.allows(Verb::Patch, "", "configmaps", Some("y")));
    }

    #[test]
    fn nodes_are_readable_with_an_inventory() {
        let desired = objects(vec![obj("v1", "ConfigMap", Some("x"), "a")]);
        let rbac = derive(
            "c1",
            &desired,
            &Resources::new(&desired, None),
            true,
            &RbacOptions::default(),
        )
        .unwrap();
        assert!(rbac.allows(Verb::List, "", "nodes", None));
        assert!(rbac.allows(Verb::Get, "", "nodes", None));
        assert!(!rbac.allows(Verb::Patch, "", "nodes", None));
    }

    /// `--cloud`: Nodes, and the VMs and their instances listed in each managed namespace
    /// (a Role there), nothing written.
    #[test]
    fn cloud_drift_reads_nodes_and_the_vms_of_the_managed_namespaces() {
        let desired = objects(vec![
            obj("v1", "ConfigMap", Some("apps"), "a"),
            obj("v1", "Namespace", None, "vms"),
        ]);
        let cloud = RbacOptions {
            cloud: true,
            ..RbacOptions::default()
        };
        let rbac = derive(
            "c1",
            &desired,
            &Resources::new(&desired, None),
            false,
            &cloud,
        )
        .unwrap();
        assert!(rbac.allows(Verb::List, "", "nodes", None));
        for ns in ["apps", "vms"] {
            for plural in ["virtualmachines", "virtualmachineinstances"] {
                assert!(
                    rbac.allows(Verb::List, KUBEVIRT_GROUP, plural, Some(ns)),
                    "{plural} in {ns}"
                );
                assert!(!rbac.allows(Verb::Patch, KUBEVIRT_GROUP, plural, Some(ns)));
            }
        }
        assert!(!rbac.allows(Verb::List, KUBEVIRT_GROUP, "virtualmachines", Some("other")));
        let plain = derive(
            "c1",
            &desired,
            &Resources::new(&desired, None),
            false,
            &RbacOptions::default(),
        )
        .unwrap();
        assert!(!plain.allows(Verb::List, "", "nodes", None));
        assert!(!plain.allows(Verb::List, KUBEVIRT_GROUP, "virtualmachines", Some("apps")));
    }

    #[test]
    fn unknown_kinds_are_an_error_naming_each_never_a_guess() {
        let err = derive_with(
            vec![
                obj("example.com/v1", "Gadget", Some("x"), "g"),
                obj("example.com/v1", "Widget", None, "w"),
                obj("v1", "ConfigMap", Some("x"), "a"),
            ],
            &RbacOptions::default(),
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "cluster `c1`: no resource name is known for 2 rendered kinds: `Gadget` of `example.com/v1`, `Widget` of `example.com/v1`"
        );
        // A CRD of the schemas folder names it.
        let mut schemas = Schemas::default();
        schemas
            .add_crd(
                &crd("example.com", "Gadget", "gadgets", "Cluster"),
                "g.yaml",
            )
            .unwrap();
        let desired = objects(vec![obj("example.com/v1", "Gadget", None, "g")]);
        let rbac = derive(
            "c1",
            &desired,
            &Resources::new(&desired, Some(&schemas)),
            false,
            &RbacOptions::default(),
        )
        .unwrap();
        assert!(rbac.allows(Verb::Delete, "example.com", "gadgets", None));
    }

    #[test]
    fn names_must_be_dns_labels() {
        let options = RbacOptions {
            service_account_namespace: "Bad/ns".into(),
            ..RbacOptions::default()
        };
        let err = derive_with(vec![], &options).unwrap_err();
        assert!(
            err.to_string()
                .contains("ServiceAccount namespace `Bad/ns`"),
            "{err}"
        );
    }

    #[test]
    fn the_yaml_is_sorted_stable_and_never_carries_plinths_ownership_labels() {
        let rbac = derive_with(mixed(), &RbacOptions::default()).unwrap();
        let text = rbac.to_yaml();
        let mut reversed = mixed();
        reversed.reverse();
        assert_eq!(
            derive_with(reversed, &RbacOptions::default())
                .unwrap()
                .to_yaml(),
            text,
            "the order of the rendered objects does not matter"
        );
        let docs = plinth_vocab::yaml::from_str_multi(&text).unwrap();
        assert_eq!(docs, rbac.objects());
        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(
            kinds,
            ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"]
        );
        for d in &docs {
            let labels = &d["metadata"]["labels"];
            assert!(
                labels.get(plinth_vocab::labels::LABEL_MANAGED_BY).is_none(),
                "{d}"
            );
            assert!(
                labels.get(plinth_vocab::labels::LABEL_CLUSTER).is_none(),
                "{d}"
            );
        }
        assert_eq!(
            docs[1]["subjects"],
            json!([{"kind": "ServiceAccount", "name": "plinth", "namespace": "plinth-system"}])
        );
    }

    /// The plurals and scopes of the built-in catalog's custom kinds are those of their
    /// upstream CRDs (`../shared/specs`, when present beside the repository).
    #[test]
    fn built_in_custom_kinds_match_their_upstream_crds() {
        let specs = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs");
        if !specs.is_dir() {
            #[allow(clippy::print_stderr)]
            {
                eprintln!("skipped: {} not found", specs.display());
            }
            return;
        }
        let loaded: Vec<Schemas> = ["crds", "kubevirt-hco", "gardener-mcm"]
            .iter()
            .map(|dir| Schemas::load_dir(&specs.join(dir), 64 << 20).unwrap())
            .collect();
        let mut checked = 0;
        for (group, kinds) in BUILT_IN {
            for (kind, plural) in *kinds {
                let Some(upstream) = loaded.iter().find_map(|s| s.resource(group, kind)) else {
                    continue;
                };
                assert_eq!(upstream.plural, *plural, "{kind}.{group}");
                assert_eq!(
                    upstream.namespaced,
                    scope::builtin_namespaced(group, kind),
                    "the scope of {kind}.{group}"
                );
                checked += 1;
            }
        }
        assert!(checked >= 15, "only {checked} kinds checked");
    }
}
