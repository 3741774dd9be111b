//! One cluster of the fleet (`clusters/<name>/cluster.yaml`): its facts, the overlays it
//! composes, free parameters, images, patches, machine classes and node groups.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};

pub use crate::clouds::{CloudSettings, Clouds, Sourced, StackitCloud, VpsieCloud};
use crate::error::{RenderError, Result};
use crate::overlay::{Overlay, Patch};
use crate::pools::Pools;
use crate::pools::stackit::MachineClassPool;
use crate::pools::vpsie::NodeGroupPool;
use plinth_vocab::names::is_dns_label;
use plinth_vocab::yaml;

/// A cluster as declared in `cluster.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct ClusterSpec {
    /// Must match the folder name when given.
    pub name: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub feature_gates: Vec<String>,
    /// Explicit topology facts; they win over facts derived from the inventory.
    pub topology: BTreeMap<String, bool>,
    /// Overlay names, composed in order.
    pub overlays: Vec<String>,
    pub params: Map<String, Value>,
    pub images: BTreeMap<String, String>,
    /// Cluster-local patches, applied after the overlays' patches.
    pub patches: Vec<Patch>,
    /// STACKIT machine classes (see [`crate::pools::stackit`]).
    pub machine_classes: Vec<MachineClassPool>,
    /// `VPSie` node groups (see [`crate::pools::vpsie`]).
    pub node_groups: Vec<NodeGroupPool>,
    /// When `plinth apply` may make disruptive changes to this cluster: wins over
    /// `plinth.yaml`'s `apply.maintenanceWindows` when present (an empty list: never).
    pub maintenance_windows: Option<Vec<crate::settings::MaintenanceWindow>>,
    /// The cluster's cloud accounts, for cloud drift (`plinth drift --cloud`); nothing
    /// rendered depends on them.
    pub clouds: Clouds,
}

/// A loaded cluster: its folder name, the file it came from, and its spec.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub name: String,
    /// Repository-relative path of `cluster.yaml`.
    pub path: String,
    pub spec: ClusterSpec,
    /// The line of each of `spec.patches` in `cluster.yaml` (0 when unknown).
    pub patch_lines: Vec<usize>,
    /// The pools as written, `null`s included (the typed spec cannot tell a `null` from an
    /// absent key, and a `null` unsets an inherited default).
    pub pool_values: PoolValues,
}

/// `machineClasses` and `nodeGroups` of `cluster.yaml` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PoolValues {
    pub machine_classes: Vec<Map<String, Value>>,
    pub node_groups: Vec<Map<String, Value>>,
}

impl Cluster {
    /// Parses the text of `path` (a `cluster.yaml`) for the cluster whose folder is `name`.
    pub fn parse(text: &str, path: String, name: &str) -> Result<Self> {
        let spec: ClusterSpec = yaml::from_str_data(text, &path)?;
        if let Some(declared) = &spec.name
            && declared != name
        {
            return Err(RenderError::Invalid {
                path: format!("`{path}`"),
                message: format!(
                    "`name` is `{declared}` but the cluster's folder is `{name}`; they must match"
                ),
            });
        }
        if !is_dns_label(name) {
            return Err(RenderError::Invalid {
                path: format!("`{path}`"),
                message: format!(
                    "cluster name `{name}` must be a DNS label (lowercase letters, digits and `-`, at most 63 characters)"
                ),
            });
        }
        let patch_lines = if spec.patches.is_empty() {
            Vec::new()
        } else {
            crate::overlay::patch_lines(text, spec.patches.len())
        };
        let pool_values = if spec.machine_classes.is_empty() && spec.node_groups.is_empty() {
            PoolValues::default()
        } else {
            // The typed reading above succeeded, so this one does too.
            yaml::from_str_data(text, &path).unwrap_or_default()
        };
        Ok(Self {
            name: name.to_owned(),
            path,
            spec,
            patch_lines,
            pool_values,
        })
    }

    /// Names patch `i` of `cluster.yaml` in errors: its file, line and index.
    pub fn patch_label(&self, i: usize) -> String {
        crate::overlay::patch_label(&self.path, &self.patch_lines, i)
    }

    /// The cluster's STACKIT machine classes, with the defaults of `overlays` and its params.
    pub fn machine_classes<'a>(
        &'a self,
        overlays: &'a [Arc<Overlay>],
    ) -> Pools<'a, MachineClassPool> {
        self.pools(
            &self.spec.machine_classes,
            &self.pool_values.machine_classes,
            overlays,
        )
    }

    /// The cluster's `VPSie` node groups, with the defaults of `overlays` and its params.
    pub fn node_groups<'a>(&'a self, overlays: &'a [Arc<Overlay>]) -> Pools<'a, NodeGroupPool> {
        self.pools(
            &self.spec.node_groups,
            &self.pool_values.node_groups,
            overlays,
        )
    }

    fn pools<'a, P>(
        &'a self,
        declared: &'a [P],
        written: &'a [Map<String, Value>],
        overlays: &'a [Arc<Overlay>],
    ) -> Pools<'a, P> {
        Pools {
            cluster: &self.name,
            path: &self.path,
            declared,
            written,
            params: &self.spec.params,
            overlays,
        }
    }

    /// Whether the cluster carries annotation `key` (with `value`, when given).
    pub fn has_annotation(&self, key: &str, value: Option<&str>) -> bool {
        match (self.spec.annotations.get(key), value) {
            (Some(v), Some(want)) => v == want,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}
