//! What several commands share, so that no command imports another: the cluster selection
//! (`--cluster`, `--shard`), opening the platform repository, and the CRD schemas
//! (`--crds` or the `schemas` setting) with the check of rendered objects against them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use plinth_renderer::schema::Schemas;
use plinth_renderer::{Fleet, RenderedCluster, Source};
use plinth_vocab::Problem;

use crate::command_error::CommandError;

/// Opens the platform repository folder `repo`.
pub fn open_fleet(repo: &Path) -> anyhow::Result<Fleet> {
    let source = Source::dir(repo)
        .with_context(|| format!("cannot open the platform repository `{}`", repo.display()))?;
    Ok(Fleet::open(source)?)
}

/// Fails with the one "unknown cluster" error unless `cluster` is one of the repository's.
pub fn require_cluster(fleet: &Fleet, cluster: &str) -> anyhow::Result<()> {
    let known = fleet.cluster_names()?;
    if known.iter().any(|k| k == cluster) {
        Ok(())
    } else {
        Err(CommandError::unknown_cluster(cluster, &known).into())
    }
}

/// Which clusters to render: all, or a named subset; then a shard of those.
#[derive(Debug)]
pub struct Selection {
    pub names: Vec<String>,
    /// Whether every cluster of the repository is selected (so stale folders can go).
    pub complete: bool,
}

/// Parses `--shard I/N` (1-based).
pub fn parse_shard(text: &str) -> anyhow::Result<(usize, usize)> {
    let (i, n) = text
        .split_once('/')
        .with_context(|| format!("`--shard {text}`: expected I/N, e.g. 2/8"))?;
    let (i, n): (usize, usize) = (
        i.trim()
            .parse()
            .with_context(|| format!("`--shard {text}`: `{i}` is not a number"))?,
        n.trim()
            .parse()
            .with_context(|| format!("`--shard {text}`: `{n}` is not a number"))?,
    );
    if n == 0 || i == 0 || i > n {
        bail!("`--shard {text}`: I must be between 1 and N");
    }
    Ok((i, n))
}

/// Resolves `--cluster` and `--shard` against the repository's clusters.
pub fn select(fleet: &Fleet, wanted: &[String], shard: Option<&str>) -> anyhow::Result<Selection> {
    let all = fleet.cluster_names()?;
    let mut names = if wanted.is_empty() {
        all.clone()
    } else {
        let known: BTreeSet<&String> = all.iter().collect();
        for w in wanted {
            if !known.contains(w) {
                return Err(CommandError::unknown_cluster(w, &all).into());
            }
        }
        let set: BTreeSet<&String> = wanted.iter().collect();
        set.into_iter().cloned().collect()
    };
    let mut complete = wanted.is_empty();
    if let Some(shard) = shard {
        let (i, n) = parse_shard(shard)?;
        names = names
            .into_iter()
            .enumerate()
            .filter(|(k, _)| k % n == i - 1)
            .map(|(_, name)| name)
            .collect();
        complete = complete && n == 1;
    }
    Ok(Selection { names, complete })
}

/// Loads the CRD folder named by `--crds` (relative to the current folder) or, without the
/// flag, by the `schemas` setting (relative to the repository). `None` when neither is set.
pub fn load_schemas(
    repo: &Path,
    flag: Option<&Path>,
    fleet: &Fleet,
) -> anyhow::Result<Option<(PathBuf, Schemas)>> {
    let dir = match (flag, fleet.settings.schemas.as_deref()) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(setting)) => {
            let rel = plinth_renderer::source::normalize(setting)
                .context("the `schemas` setting of plinth.yaml")?;
            repo.join(rel)
        }
        (None, None) => return Ok(None),
    };
    let schemas = Schemas::load_dir(&dir, fleet.settings.limits.max_file_bytes)
        .with_context(|| format!("cannot load the CRD schemas of `{}`", dir.display()))?;
    Ok(Some((dir, schemas)))
}

/// What checking one rendered cluster found.
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
fn is_built_in(api_version: &str) -> bool {
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
