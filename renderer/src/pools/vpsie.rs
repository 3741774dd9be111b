//! `VPSie` node groups (`nodeGroups` in `cluster.yaml`) rendered into the `VPSie` autoscaler's
//! `NodeGroup` objects (`autoscaler.vpsie.com/v1alpha1`), validated against the autoscaler's
//! rules and carrying the `autoscaler.vpsie.com/managed: "true"` label it acts on.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Pool, Pools, Report, labels_without_nulls};
use crate::overlay::OneOf;
use plinth_vocab::Problem;
use plinth_vocab::names::{is_dns_subdomain, k8s_label_key_problem, k8s_label_value_problem};

/// API version of the rendered node groups.
pub const API_VERSION: &str = "autoscaler.vpsie.com/v1alpha1";
/// Kind of the rendered node groups.
pub const KIND: &str = "NodeGroup";
/// The asset name node groups are rendered under.
pub const ASSET: &str = "node-groups";
/// The sync wave of node groups: after the platform baseline.
pub const WAVE: i64 = 10;
/// The label the autoscaler needs on what it manages.
pub const LABEL_MANAGED: &str = "autoscaler.vpsie.com/managed";
/// Namespace of a node group that names none (and whose defaults name none).
pub const DEFAULT_NAMESPACE: &str = "kube-system";
/// Where node-group defaults sit in the merged overlay values / cluster params.
pub const DEFAULTS_PATH: [&str; 2] = ["vpsie", "nodeGroupDefaults"];

static SEMVER_V: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^v(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$",
    )
    .expect("built-in pattern compiles")
});

/// A Kubernetes taint for the group's nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Taint {
    pub key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    pub effect: String,
}

/// Declares a scaling policy: every field both policies share, then the fields given. The two
/// stay two types because scale-up takes no `cooldownSeconds` (and `deny_unknown_fields` rules
/// out `flatten`).
macro_rules! scale_policy {
    ($(#[$meta:meta])* pub struct $name:ident { $($tail:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields, rename_all = "camelCase")]
        pub struct $name {
            #[serde(skip_serializing_if = "Option::is_none")]
            pub enabled: Option<bool>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub cpu_threshold: Option<i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub memory_threshold: Option<i64>,
            #[serde(skip_serializing_if = "Option::is_none")]
            pub stabilization_window_seconds: Option<i64>,
            $($tail)*
        }

        impl $name {
            /// The problems of the fields every policy shares, the policy written as `field`.
            fn validate_shared(&self, r: &mut Report<'_>, field: &str) {
                percent(r, &format!("{field}.cpuThreshold"), self.cpu_threshold);
                percent(r, &format!("{field}.memoryThreshold"), self.memory_threshold);
                non_negative(
                    r,
                    &format!("{field}.stabilizationWindowSeconds"),
                    self.stabilization_window_seconds,
                );
            }
        }
    };
}

scale_policy! {
    /// When the autoscaler adds nodes.
    pub struct ScaleUpPolicy {}
}

scale_policy! {
    /// When the autoscaler removes nodes.
    pub struct ScaleDownPolicy {
        #[serde(skip_serializing_if = "Option::is_none")]
        pub cooldown_seconds: Option<i64>,
    }
}

/// Declares a struct with every field of a node group but its name, after the fields given:
/// a node group as written and its defaults share one field list (and so one serde shape).
macro_rules! node_group_fields {
    ($(#[$meta:meta])* pub struct $name:ident { $($head:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($head)*
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub namespace: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub min_nodes: Option<i64>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub max_nodes: Option<i64>,
            #[serde(
                default,
                rename = "datacenterID",
                skip_serializing_if = "Option::is_none"
            )]
            pub datacenter_id: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub resource_identifier: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub project: Option<String>,
            #[serde(
                default,
                rename = "offeringIDs",
                skip_serializing_if = "Option::is_none"
            )]
            pub offering_ids: Option<Vec<String>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub kubernetes_version: Option<String>,
            #[serde(default, rename = "osImageID", skip_serializing_if = "Option::is_none")]
            pub os_image_id: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub preferred_instance_type: Option<String>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub allow_mixed_instances: Option<bool>,
            /// Labels for the group's nodes.
            #[serde(
                default,
                deserialize_with = "labels_without_nulls",
                skip_serializing_if = "Option::is_none"
            )]
            pub labels: Option<BTreeMap<String, String>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub taints: Option<Vec<Taint>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scale_up_policy: Option<ScaleUpPolicy>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub scale_down_policy: Option<ScaleDownPolicy>,
            #[serde(default, rename = "sshKeyIDs", skip_serializing_if = "Option::is_none")]
            pub ssh_key_ids: Option<Vec<String>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub tags: Option<Vec<String>>,
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub notes: Option<String>,
        }
    };
}

node_group_fields! {
    /// One `VPSie` node group as declared under `nodeGroups:` in `cluster.yaml`. Required
    /// fields are optional here because overlay defaults may fill them; [`validate`] requires
    /// them.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct NodeGroupPool {
        pub name: String,
    }
}

node_group_fields! {
    /// Node-group defaults (`values.vpsie.nodeGroupDefaults` of an overlay, or the cluster's
    /// `params`): every field of a node group but its name.
    #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, rename_all = "camelCase")]
    pub struct NodeGroupDefaults {}
}

fn required_text(r: &mut Report<'_>, field: &str, value: Option<&String>, example: &str) {
    match value {
        None => r.add(field, format!("is required (e.g. `{example}`)")),
        Some(v) if v.trim().is_empty() => r.add(field, "must not be empty"),
        Some(_) => {}
    }
}

fn percent(r: &mut Report<'_>, field: &str, value: Option<i64>) {
    if let Some(v) = value
        && !(0..=100).contains(&v)
    {
        r.add(field, format!("{v} must be a percentage between 0 and 100"));
    }
}

fn non_negative(r: &mut Report<'_>, field: &str, value: Option<i64>) {
    if let Some(v) = value
        && v < 0
    {
        r.add(field, format!("{v} must be 0 or more (seconds)"));
    }
}

/// Checks a node group (defaults already merged) against the autoscaler's rules.
pub(crate) fn validate(g: &NodeGroupPool, r: &mut Report<'_>) {
    if !is_dns_subdomain(&g.name, 253) {
        r.add(
            "name",
            format!(
                "`{}` must be a DNS subdomain (lowercase letters, digits, `-`, `.`)",
                g.name
            ),
        );
    }
    r.namespace("namespace", g.namespace.as_deref());
    match g.min_nodes {
        None => r.add("minNodes", "is required (0 or more)"),
        Some(n) if n < 0 => r.add("minNodes", format!("{n} must be 0 or more")),
        Some(n) if n > i64::from(i32::MAX) => r.add("minNodes", format!("{n} is too large")),
        Some(_) => {}
    }
    match g.max_nodes {
        None => r.add("maxNodes", "is required (1 or more)"),
        Some(n) if n < 1 => r.add("maxNodes", format!("{n} must be 1 or more")),
        Some(n) if n > i64::from(i32::MAX) => r.add("maxNodes", format!("{n} is too large")),
        Some(max) => {
            if let Some(min) = g.min_nodes
                && max < min
            {
                r.add(
                    "maxNodes",
                    format!("{max} is less than `minNodes` ({min}); it must be at least as large"),
                );
            }
        }
    }
    required_text(r, "datacenterID", g.datacenter_id.as_ref(), "dc-fra1");
    required_text(
        r,
        "resourceIdentifier",
        g.resource_identifier.as_ref(),
        "k8s-cluster-id",
    );
    required_text(r, "project", g.project.as_ref(), "project-id");
    match &g.offering_ids {
        None => r.add("offeringIDs", "is required: at least one offering"),
        Some(ids) if ids.is_empty() => r.add("offeringIDs", "must name at least one offering"),
        Some(ids) => {
            let mut seen = BTreeSet::new();
            for (i, id) in ids.iter().enumerate() {
                if id.trim().is_empty() {
                    r.add(format!("offeringIDs[{i}]"), "must not be empty");
                } else if !seen.insert(id) {
                    r.add(
                        format!("offeringIDs[{i}]"),
                        format!("`{id}` is listed twice"),
                    );
                }
            }
        }
    }
    match &g.kubernetes_version {
        None => r.add("kubernetesVersion", "is required (e.g. `v1.31.2`)"),
        Some(v) if !SEMVER_V.is_match(v) => r.add(
            "kubernetesVersion",
            format!("`{v}` is not a semantic version with a leading `v` (e.g. `v1.31.2`)"),
        ),
        Some(_) => {}
    }
    if let Some(os) = &g.os_image_id
        && os.trim().is_empty()
    {
        r.add("osImageID", "must not be empty when given");
    }
    if let (Some(p), Some(ids)) = (&g.preferred_instance_type, &g.offering_ids)
        && !ids.contains(p)
    {
        r.add(
            "preferredInstanceType",
            format!("`{p}` is not one of `offeringIDs`"),
        );
    }
    for (k, v) in g.labels.iter().flatten() {
        let field = format!("labels.{k}");
        if let Some(m) = k8s_label_key_problem(k) {
            r.add(&field, m);
        }
        if let Some(m) = k8s_label_value_problem(k, v) {
            r.add(&field, m);
        }
        if k == LABEL_MANAGED && v != "true" {
            r.add(
                &field,
                format!("must be `\"true\"` (plinth sets it): the autoscaler acts only on nodes labelled `{LABEL_MANAGED}: \"true\"`"),
            );
        }
    }
    for (i, t) in g.taints.iter().flatten().enumerate() {
        if let Some(m) = k8s_label_key_problem(&t.key) {
            r.add(
                format!("taints[{i}].key"),
                m.replace("label key", "taint key"),
            );
        }
        if let Some(v) = &t.value
            && let Some(m) = k8s_label_value_problem(&t.key, v)
        {
            r.add(format!("taints[{i}].value"), m.replace("label", "taint"));
        }
        if !matches!(
            t.effect.as_str(),
            "NoSchedule" | "PreferNoSchedule" | "NoExecute"
        ) {
            r.add(
                format!("taints[{i}].effect"),
                format!(
                    "`{}` must be one of `NoSchedule`, `PreferNoSchedule`, `NoExecute`",
                    t.effect
                ),
            );
        }
    }
    if let Some(p) = &g.scale_up_policy {
        p.validate_shared(r, "scaleUpPolicy");
    }
    if let Some(p) = &g.scale_down_policy {
        p.validate_shared(r, "scaleDownPolicy");
        non_negative(r, "scaleDownPolicy.cooldownSeconds", p.cooldown_seconds);
    }
    for (i, k) in g.ssh_key_ids.iter().flatten().enumerate() {
        if k.trim().is_empty() {
            r.add(format!("sshKeyIDs[{i}]"), "must not be empty");
        }
    }
    for (i, t) in g.tags.iter().flatten().enumerate() {
        if t.trim().is_empty() {
            r.add(format!("tags[{i}]"), "must not be empty");
        }
    }
}

impl Pool for NodeGroupPool {
    type Defaults = NodeGroupDefaults;
    const KIND: &'static str = KIND;
    const LIST: &'static str = "nodeGroups";
    const DEFAULTS_PATH: [&'static str; 2] = DEFAULTS_PATH;
    const ONE_OF: &'static [OneOf] = &[];
    const MERGE_FAILURE: (&'static str, &'static str) = ("", "node-group defaults");
    fn name(&self) -> &str {
        &self.name
    }
}

/// Renders every node group of a cluster. Problems of every group are added to `problems`;
/// objects are returned only for groups without problems.
pub fn render(pools: &Pools<'_, NodeGroupPool>, problems: &mut Vec<Problem>) -> Vec<Value> {
    pools
        .checked(problems, validate)
        .iter()
        .map(|(group, ())| object_of(group))
        .collect()
}

/// The `NodeGroup` object of one valid group.
pub fn object_of(g: &NodeGroupPool) -> Value {
    let namespace = g
        .namespace
        .clone()
        .unwrap_or_else(|| DEFAULT_NAMESPACE.to_owned());
    let mut spec = g.clone();
    spec.name = String::new();
    spec.namespace = None;
    let mut labels = spec.labels.take().unwrap_or_default();
    labels.insert(LABEL_MANAGED.to_owned(), "true".to_owned());
    spec.labels = Some(labels);
    let mut spec = serde_json::to_value(&spec).unwrap_or_else(|_| json!({}));
    if let Some(m) = spec.as_object_mut() {
        m.remove("name");
    }
    json!({
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {
            "name": g.name,
            "namespace": namespace,
            "labels": {LABEL_MANAGED: "true"},
        },
        "spec": spec,
    })
}
