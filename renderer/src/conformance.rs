//! Rendered clusters checked against the CRD schemas of a folder ([`Schemas`]): which folder
//! (the `--crds` flag or the `schemas` setting), what a check of one cluster found (objects
//! covered, violations, custom-resource kinds no CRD covers), and which API groups are
//! Kubernetes' own (no CRD ever describes them).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::error::{RenderError, Result};
use crate::render::RenderedCluster;
use crate::schema::Schemas;
use crate::settings::Settings;
use plinth_vocab::Problem;

/// Loads the CRD folder `flag` (as given, relative to the current folder) or, without it, the
/// one of the `schemas` setting (relative to `repo`). `None` when neither is set.
pub fn load_schemas(
    repo: &Path,
    flag: Option<&Path>,
    settings: &Settings,
) -> Result<Option<(PathBuf, Schemas)>> {
    let dir = match (flag, settings.schemas.as_deref()) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(setting)) => {
            let rel = crate::source::normalize(setting)
                .map_err(|e| RenderError::SchemasSetting(Box::new(e)))?;
            repo.join(rel)
        }
        (None, None) => return Ok(None),
    };
    let schemas = Schemas::load_dir(&dir, settings.limits.max_file_bytes).map_err(|e| {
        RenderError::SchemasFolder {
            dir: dir.display().to_string(),
            source: Box::new(e),
        }
    })?;
    Ok(Some((dir, schemas)))
}

/// What checking rendered clusters found.
#[derive(Debug, Default)]
pub struct Checked {
    pub objects: usize,
    pub covered: usize,
    pub problems: Vec<Problem>,
    /// Custom-resource kinds no CRD covers (`Kind.group/version`) and their object counts.
    pub unchecked: BTreeMap<String, usize>,
    /// Objects of built-in Kubernetes kinds (never covered by a CRD).
    pub built_in: usize,
}

impl Checked {
    /// Adds what checking another cluster found.
    pub fn add(&mut self, other: Self) {
        self.objects += other.objects;
        self.covered += other.covered;
        self.built_in += other.built_in;
        self.problems.extend(other.problems);
        for (kind, n) in other.unchecked {
            *self.unchecked.entry(kind).or_default() += n;
        }
    }
}

/// API groups served by Kubernetes itself: no CRD describes their kinds.
const BUILT_IN_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "certificates.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "resource.k8s.io",
    "internal.apiserver.k8s.io",
    "storagemigration.k8s.io",
];

/// Whether `apiVersion` belongs to a built-in Kubernetes API group.
pub fn is_built_in(api_version: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    BUILT_IN_GROUPS.contains(&group)
}

/// Checks every object of `rendered` that a CRD of `schemas` covers.
pub fn check(schemas: &Schemas, rendered: &RenderedCluster) -> Checked {
    let mut checked = Checked::default();
    for o in &rendered.objects {
        checked.objects += 1;
        let id = &o.identity;
        let name = match &id.namespace {
            Some(ns) => format!("{ns}/{}", id.name),
            None => id.name.clone(),
        };
        let location = format!("cluster {} / {} {name}", rendered.name, id.kind);
        if let Some(problems) = schemas.validate(&o.value, &location) {
            checked.covered += 1;
            checked.problems.extend(problems);
        } else {
            let api_version = o
                .value
                .get("apiVersion")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            if is_built_in(api_version) {
                checked.built_in += 1;
            } else {
                let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
                *checked
                    .unchecked
                    .entry(format!("{}.{group}/{version}", id.kind))
                    .or_default() += 1;
            }
        }
    }
    checked
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_groups() {
        for v in [
            "v1",
            "apps/v1",
            "batch/v1",
            "networking.k8s.io/v1",
            "rbac.authorization.k8s.io/v1",
        ] {
            assert!(is_built_in(v), "{v}");
        }
        for v in [
            "example.io/v1",
            "kubevirt.io/v1",
            "gateway.networking.k8s.io/v1",
            "machine.sapcloud.io/v1alpha1",
        ] {
            assert!(!is_built_in(v), "{v}");
        }
    }
}
