//! The rendered tree: one folder per cluster with one object per file (stable names), a
//! `kustomization.yaml` in apply order and `plinth-index.json`. Folders are built in memory,
//! written beside the output and swapped in only when every cluster is ready, so a failed
//! render leaves the previous output untouched; `check` compares without writing.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::error::{RenderError, Result};
use crate::index::{self, Index, IndexDecision, IndexObject};
use crate::render::{RenderedCluster, RenderedObject, VERSION};
use crate::settings::{Flavour, Settings};
use crate::yaml;

/// The kustomization file name.
pub const KUSTOMIZATION: &str = "kustomization.yaml";

/// Within one wave, kinds apply in this order (the order Argo CD and Helm use), so a
/// namespace exists before what lives in it; other kinds follow in render order.
const KIND_ORDER: &[&str] = &[
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

fn kind_rank(kind: &str) -> usize {
    KIND_ORDER
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(KIND_ORDER.len())
}

/// The canonical form of an object: compact JSON with sorted keys.
pub fn canonical(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_default()
}

/// sha256 of the canonical form, hex.
pub fn object_digest(value: &Value) -> String {
    hex::encode(Sha256::digest(canonical(value)))
}

fn sanitize(part: &str) -> String {
    part.chars()
        .map(|c| {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

fn file_name(o: &RenderedObject, with_group: bool) -> String {
    let id = &o.identity;
    let mut kind = sanitize(&id.kind);
    if with_group && !id.group.is_empty() {
        kind = format!("{kind}.{}", sanitize(&id.group));
    }
    match &id.namespace {
        Some(ns) => format!("{kind}_{}_{}.yaml", sanitize(ns), sanitize(&id.name)),
        None => format!("{kind}_{}.yaml", sanitize(&id.name)),
    }
}

/// One cluster's folder, in memory: relative file name -> bytes.
#[derive(Debug, Clone)]
pub struct ClusterOutput {
    pub name: String,
    pub files: BTreeMap<String, Vec<u8>>,
    pub index: Index,
}

/// Lays out a rendered cluster as files.
pub fn materialize(rendered: &RenderedCluster, settings: &Settings) -> ClusterOutput {
    let mut order: Vec<(usize, &RenderedObject)> = rendered.objects.iter().enumerate().collect();
    order.sort_by_key(|(i, o)| (o.wave, kind_rank(&o.identity.kind), *i));

    // Names are `<kind>_<namespace>_<name>.yaml`; when two objects differ only by API group,
    // both get the group in their name.
    let plain_names: Vec<String> = order.iter().map(|(_, o)| file_name(o, false)).collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &plain_names {
        *counts.entry(name.as_str()).or_default() += 1;
    }
    let mut files = BTreeMap::new();
    let mut objects = Vec::with_capacity(order.len());
    let mut used = BTreeSet::new();
    for ((_, o), plain) in order.iter().zip(&plain_names) {
        let mut name = if counts[plain.as_str()] > 1 {
            file_name(o, true)
        } else {
            plain.clone()
        };
        if !used.insert(name.clone()) {
            // Sanitising folded two distinct identities together; keep them apart.
            let tag = &hex::encode(Sha256::digest(o.identity.to_string().as_bytes()))[..8];
            name = format!("{}-{tag}.yaml", name.trim_end_matches(".yaml"));
            used.insert(name.clone());
        }
        let mut text = format!("# rendered by plinth from asset {}; do not edit\n", o.asset);
        text.push_str(&yaml::to_string(&o.value));
        files.insert(name.clone(), text.into_bytes());
        objects.push(IndexObject {
            file: name,
            api_version: o.value["apiVersion"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            kind: o.identity.kind.clone(),
            namespace: o.identity.namespace.clone(),
            name: o.identity.name.clone(),
            asset: o.asset.clone(),
            wave: o.wave,
            sha256: object_digest(&o.value),
        });
    }
    if settings.output.flavour == Flavour::Kustomize {
        let resources: Vec<&str> = objects.iter().map(|o| o.file.as_str()).collect();
        let k = json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
            "sortOptions": {"order": "fifo"},
        });
        let mut text =
            String::from("# rendered by plinth; resources in apply order; do not edit\n");
        text.push_str(&yaml::to_string(&k));
        files.insert(KUSTOMIZATION.to_owned(), text.into_bytes());
    }
    let digests = files
        .iter()
        .map(|(name, bytes)| (name.clone(), hex::encode(Sha256::digest(bytes))))
        .collect();
    let index = Index {
        schema_version: index::SCHEMA_VERSION,
        plinth_version: VERSION.to_owned(),
        cluster: rendered.name.clone(),
        input_digest: rendered.input_digest.clone(),
        objects,
        assets: rendered.decisions.iter().map(IndexDecision::from).collect(),
        files: digests,
        machine_classes: crate::machine_class::index_entries(&rendered.objects),
    };
    let mut text = serde_json::to_string_pretty(&index).unwrap_or_default();
    text.push('\n');
    files.insert(index::FILE.to_owned(), text.into_bytes());
    ClusterOutput {
        name: rendered.name.clone(),
        files,
        index,
    }
}

/// Whether `out_root/<cluster>` is exactly what plinth last wrote for inputs with
/// `input_digest`: same digest and plinth version, the same set of files, and every file's
/// bytes unchanged. Only then may a render skip the cluster.
/// `input_digest` is only computed when there is an index to compare it with.
pub fn is_current(
    out_root: &Path,
    cluster: &str,
    input_digest: impl FnOnce() -> Option<String>,
) -> bool {
    /// The fields of the index the check needs; the rest is skipped unparsed.
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        plinth_version: String,
        input_digest: String,
        #[serde(default)]
        files: BTreeMap<String, String>,
    }
    let Ok(bytes) = fs_err::read(out_root.join(cluster).join(index::FILE)) else {
        return false;
    };
    let Ok(index) = serde_json::from_slice::<Head>(&bytes) else {
        return false;
    };
    if index.plinth_version != VERSION
        || index.files.is_empty()
        || input_digest().as_deref() != Some(index.input_digest.as_str())
    {
        return false;
    }
    let dir = out_root.join(cluster);
    let Ok(entries) = fs_err::read_dir(&dir) else {
        return false;
    };
    // Fast path, as git's index and make do: the index is written last, so when no file
    // of the folder is newer than it, none was touched since plinth wrote them. Otherwise
    // every file is hashed and compared with what the index recorded.
    let index_time = fs_err::metadata(dir.join(index::FILE)).and_then(|m| m.modified());
    let mut names = Vec::new();
    let mut untouched = index_time.is_ok();
    for entry in entries {
        let Ok(entry) = entry else { return false };
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == index::FILE {
            continue;
        }
        if !index.files.contains_key(&name) {
            return false;
        }
        if untouched {
            let modified = entry.metadata().and_then(|m| m.modified());
            untouched = matches!((&modified, &index_time), (Ok(m), Ok(i)) if m <= i);
        }
        names.push(name);
    }
    if names.len() != index.files.len() {
        return false;
    }
    if untouched {
        return true;
    }
    let mut present = 0usize;
    for name in names {
        let want = &index.files[&name];
        match fs_err::read(dir.join(&name)) {
            Ok(bytes) if hex::encode(Sha256::digest(&bytes)) == *want => present += 1,
            _ => return false,
        }
    }
    present == index.files.len()
}

/// Whether a folder of the output root holds plinth output (it has an index).
fn is_plinth_folder(dir: &Path) -> bool {
    dir.join(index::FILE).is_file()
}

/// Folders of the output root that plinth wrote (sorted).
pub fn rendered_clusters(out_root: &Path) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let Ok(entries) = fs_err::read_dir(out_root) else {
        return Ok(names);
    };
    for entry in entries {
        let entry = entry.map_err(|source| RenderError::Io {
            path: out_root.display().to_string(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && is_plinth_folder(&entry.path()) {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> RenderError + '_ {
    move |source| RenderError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// A cluster folder written in full to a staging folder beside its place, waiting for
/// [`swap_in`] (or [`discard`]). Staging every folder before swapping any in means an error
/// before the swap leaves the old output as it was.
#[derive(Debug)]
pub struct Staged {
    stage: PathBuf,
    target: PathBuf,
}

/// Writes one cluster's files to a staging folder in `out_root` (created if need be). On an
/// error the staging folder is removed again.
pub fn stage(out_root: &Path, out: &ClusterOutput) -> Result<Staged> {
    fs_err::create_dir_all(out_root).map_err(write_err(out_root))?;
    let stage = out_root.join(format!(
        ".plinth-staging-{}-{}",
        std::process::id(),
        out.name
    ));
    if stage.exists() {
        fs_err::remove_dir_all(&stage).map_err(write_err(&stage))?;
    }
    fs_err::create_dir(&stage).map_err(write_err(&stage))?;
    // The index goes last: `is_current` trusts files not newer than it.
    let files = out
        .files
        .iter()
        .filter(|(n, _)| n.as_str() != index::FILE)
        .chain(out.files.get_key_value(index::FILE));
    for (name, bytes) in files {
        let path = stage.join(name);
        if let Err(err) = fs_err::write(&path, bytes) {
            let _ = fs_err::remove_dir_all(&stage);
            return Err(write_err(&path)(err));
        }
    }
    Ok(Staged {
        stage,
        target: out_root.join(&out.name),
    })
}

/// Removes staging folders that will not be swapped in (another cluster failed).
pub fn discard(staged: &[Staged]) {
    for s in staged {
        let _ = fs_err::remove_dir_all(&s.stage);
    }
}

/// Swaps every staged folder into its place, then removes the folders of clusters in
/// `remove` (only plinth's own folders). Nothing is swapped until everything was staged.
pub fn swap_in(staged: &[Staged], out_root: &Path, remove: &[String]) -> Result<()> {
    let pid = std::process::id();
    for Staged { stage, target } in staged {
        let old = target.with_file_name(format!(
            ".plinth-old-{pid}-{}",
            target
                .file_name()
                .map(|n| n.to_string_lossy())
                .unwrap_or_default()
        ));
        let had_old = target.exists();
        if had_old {
            fs_err::rename(target, &old).map_err(write_err(target))?;
        }
        fs_err::rename(stage, target).map_err(write_err(target))?;
        if had_old {
            fs_err::remove_dir_all(&old).map_err(write_err(&old))?;
        }
    }
    for name in remove {
        let dir = out_root.join(name);
        if is_plinth_folder(&dir) {
            fs_err::remove_dir_all(&dir).map_err(write_err(&dir))?;
        }
    }
    Ok(())
}

/// What `render --check` found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// Files whose content differs (`cluster/file`).
    pub stale: Vec<String>,
    /// Files that should exist but do not.
    pub missing: Vec<String>,
    /// Files (or whole cluster folders) that exist but should not.
    pub extra: Vec<String>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.stale.is_empty() && self.missing.is_empty() && self.extra.is_empty()
    }
}

/// Compares rendered outputs with what is on disk. `expected_clusters`, when given, is the
/// full set of clusters: plinth folders outside it are reported as extra.
pub fn check(
    out_root: &Path,
    outputs: &[ClusterOutput],
    expected_clusters: Option<&BTreeSet<String>>,
) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    for out in outputs {
        let dir = out_root.join(&out.name);
        for (name, bytes) in &out.files {
            match fs_err::read(dir.join(name)) {
                Ok(on_disk) if on_disk == *bytes => {}
                Ok(_) => report.stale.push(format!("{}/{name}", out.name)),
                Err(_) => report.missing.push(format!("{}/{name}", out.name)),
            }
        }
        if let Ok(entries) = fs_err::read_dir(&dir) {
            let mut extra: Vec<String> = entries
                .filter_map(std::result::Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !out.files.contains_key(n))
                .map(|n| format!("{}/{n}", out.name))
                .collect();
            extra.sort();
            report.extra.extend(extra);
        }
    }
    if let Some(expected) = expected_clusters {
        for name in rendered_clusters(out_root)? {
            if !expected.contains(&name) {
                report.extra.push(format!("{name}/"));
            }
        }
    }
    report.stale.sort();
    report.missing.sort();
    report.extra.sort();
    Ok(report)
}
