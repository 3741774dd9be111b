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
use plinth_vocab::yaml;

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

/// The longest file name plinth writes, in bytes: file systems refuse names over 255 bytes,
/// while a Kubernetes kind, namespace (63) and name (253) together may be longer.
const MAX_FILE_NAME: usize = 200;

/// `name`, or when it is longer than [`MAX_FILE_NAME`], its start with a digest of the
/// object's identity, so a valid object with a long name is still written, under a distinct
/// name (the index maps every object to its file).
fn bounded_name(name: String, o: &RenderedObject) -> String {
    if name.len() <= MAX_FILE_NAME {
        return name;
    }
    let digest = hex::encode(Sha256::digest(o.identity.to_string().as_bytes()));
    let tag = &digest[..16];
    let stem = name.trim_end_matches(".yaml");
    // `sanitize` keeps names ASCII, so any byte offset is a character boundary.
    let keep = MAX_FILE_NAME - tag.len() - ".yaml".len() - 1;
    format!("{}-{tag}.yaml", &stem[..keep.min(stem.len())])
}

/// One cluster's folder, in memory: relative file name -> bytes.
#[derive(Debug, Clone)]
pub struct ClusterOutput {
    pub name: String,
    pub files: BTreeMap<String, Vec<u8>>,
    pub index: Index,
}

/// `objects` in apply order: by wave, then by kind ([`KIND_ORDER`]), then in render order.
pub fn in_apply_order(objects: &[RenderedObject]) -> Vec<&RenderedObject> {
    let mut order: Vec<(usize, &RenderedObject)> = objects.iter().enumerate().collect();
    order.sort_by_key(|(i, o)| (o.wave, kind_rank(&o.identity.kind), *i));
    order.into_iter().map(|(_, o)| o).collect()
}

/// Lays out a rendered cluster as files.
pub fn materialize(rendered: &RenderedCluster, settings: &Settings) -> ClusterOutput {
    let order = in_apply_order(&rendered.objects);

    // Names are `<kind>_<namespace>_<name>.yaml`; when two objects differ only by API group,
    // both get the group in their name.
    let plain_names: Vec<String> = order.iter().map(|o| file_name(o, false)).collect();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for name in &plain_names {
        *counts.entry(name.as_str()).or_default() += 1;
    }
    let mut files = BTreeMap::new();
    let mut objects = Vec::with_capacity(order.len());
    let mut used = BTreeSet::new();
    for (o, plain) in order.iter().zip(&plain_names) {
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
        let name = bounded_name(name, o);
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
        machine_classes: index::machine_classes(&rendered.objects),
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

/// The largest `plinth-index.json` plinth reads (an index of 100,000 objects is about 40 MB).
pub const INDEX_LIMIT: u64 = 256 * 1024 * 1024;

/// Every scratch folder plinth makes in the output root starts with this (staging folders,
/// old folders parked during a swap, removed folders waiting to be deleted).
pub const SCRATCH_PREFIX: &str = ".plinth-";
const STAGING: &str = ".plinth-staging-";
const OLD: &str = ".plinth-old-";
const REMOVED: &str = ".plinth-removed-";
/// A probe file that reads the file system's clock before a swap (see `wait_past_indexes`).
const CLOCK: &str = ".plinth-clock-";

/// The fields of an index that ownership and the unchanged check need; the rest is skipped.
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Head {
    schema_version: u32,
    plinth_version: String,
    cluster: String,
    input_digest: String,
    #[serde(default)]
    objects: Vec<HeadObject>,
    #[serde(default)]
    files: BTreeMap<String, String>,
}

#[derive(serde::Deserialize)]
struct HeadObject {
    file: String,
}

/// A cluster folder of the output root that plinth wrote, as found on disk.
struct Owned {
    head: Head,
    dir: std::fs::Metadata,
    index: std::fs::Metadata,
    /// Every other entry of the folder with its metadata (symlinks not followed).
    entries: Vec<(String, std::fs::Metadata)>,
}

impl Owned {
    /// Entries plinth did not write: not named in the index, or not a regular file.
    fn foreign(&self) -> Vec<&str> {
        let mut owned: BTreeSet<&str> = self.head.files.keys().map(String::as_str).collect();
        owned.extend(self.head.objects.iter().map(|o| o.file.as_str()));
        if self.head.files.is_empty() {
            owned.insert(KUSTOMIZATION);
        }
        self.entries
            .iter()
            .filter(|(name, meta)| !meta.is_file() || !owned.contains(name.as_str()))
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

fn refuse(path: &Path, reason: impl Into<String>, hint: impl Into<String>) -> RenderError {
    RenderError::NotOwned {
        path: path.display().to_string(),
        reason: reason.into(),
        hint: hint.into(),
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> RenderError + '_ {
    move |source| RenderError::Io {
        path: path.display().to_string(),
        source,
    }
}

fn write_err(path: &Path) -> impl Fn(std::io::Error) -> RenderError + '_ {
    move |source| RenderError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Refuses a name that is not a plain folder name (`..`, hidden, with a slash).
fn check_name(out_root: &Path, name: &str) -> Result<()> {
    if name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\', '\0'])
        || Path::new(name).components().count() != 1
    {
        return Err(refuse(
            &out_root.join(name),
            format!("cannot hold cluster `{name}`: a cluster name must be a plain folder name"),
            "rename the cluster folder under the clusters folder",
        ));
    }
    Ok(())
}

const MOVE_AWAY: &str = "plinth replaces and removes only folders it wrote (they hold its \
                         `plinth-index.json`); move this one out of the output folder, or \
                         render into another folder (`paths.output` in `plinth.yaml`, or \
                         `--output`)";

/// Reads the index of `dir`, refusing anything that is not a plinth index.
fn read_head(dir: &Path) -> Result<(Head, std::fs::Metadata)> {
    use std::io::Read as _;
    let path = dir.join(index::FILE);
    let meta = match fs_err::symlink_metadata(&path) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(refuse(
                dir,
                format!("was not written by plinth: it has no `{}`", index::FILE),
                MOVE_AWAY,
            ));
        }
        Err(err) => return Err(io_err(&path)(err)),
    };
    if !meta.is_file() {
        return Err(refuse(
            &path,
            "is not a regular file (a symlink?); plinth never follows one in its output",
            MOVE_AWAY,
        ));
    }
    if meta.len() > INDEX_LIMIT {
        return Err(refuse(
            &path,
            format!(
                "is {} bytes, more than any index plinth writes ({INDEX_LIMIT} bytes)",
                meta.len()
            ),
            MOVE_AWAY,
        ));
    }
    let mut bytes = Vec::new();
    fs_err::File::open(&path)
        .map_err(io_err(&path))?
        .take(INDEX_LIMIT + 1)
        .read_to_end(&mut bytes)
        .map_err(io_err(&path))?;
    match serde_json::from_slice::<Head>(&bytes) {
        // A plinth index of another cluster (a copied folder) is still plinth's.
        Ok(head) if head.schema_version == index::SCHEMA_VERSION && !head.cluster.is_empty() => {
            Ok((head, meta))
        }
        _ => Err(refuse(&path, "is not an index plinth wrote", MOVE_AWAY)),
    }
}

/// What `out_root/<name>` holds: nothing, or a folder plinth wrote. Anything else (a file, a
/// symlink, a folder without plinth's index) is refused.
fn inspect(out_root: &Path, name: &str) -> Result<Option<Owned>> {
    check_name(out_root, name)?;
    let dir = out_root.join(name);
    let meta = match fs_err::symlink_metadata(&dir) {
        Ok(meta) => meta,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(io_err(&dir)(err)),
    };
    if meta.file_type().is_symlink() {
        return Err(refuse(
            &dir,
            "is a symlink; plinth never writes through, replaces or removes one",
            "replace the symlink with the folder itself, or remove it, then render again",
        ));
    }
    if !meta.is_dir() {
        return Err(refuse(&dir, "is not a folder", MOVE_AWAY));
    }
    let (head, index_meta) = read_head(&dir)?;
    let mut entries = Vec::new();
    for entry in fs_err::read_dir(&dir).map_err(io_err(&dir))? {
        let entry = entry.map_err(io_err(&dir))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == index::FILE {
            continue;
        }
        // `DirEntry::metadata` does not follow symlinks.
        let meta = entry.metadata().map_err(io_err(&entry.path()))?;
        entries.push((name, meta));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Some(Owned {
        head,
        dir: meta,
        index: index_meta,
        entries,
    }))
}

/// Whether nothing in the folder changed since plinth wrote it, from timestamps alone. plinth
/// writes the index last, with one write, so its mtime equals its ctime, and the swap renames
/// the folder after it (a rename sets the folder's ctime). A hand edit sets the edited file's
/// ctime to now, whatever its mtime is made to say afterwards (`cp -p`, `tar`, `rsync -t`
/// and `touch -d` set mtimes, never ctimes), so an edit shows as a file whose ctime is later
/// than the index's, or an index whose ctime differs from its mtime or is later than its
/// folder's. Any doubt means "not proven unchanged", never "changed".
#[cfg(unix)]
fn untouched(o: &Owned) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let mtime = |m: &std::fs::Metadata| (m.mtime(), m.mtime_nsec());
    let ctime = |m: &std::fs::Metadata| (m.ctime(), m.ctime_nsec());
    let (index_m, index_c) = (mtime(&o.index), ctime(&o.index));
    index_m == index_c
        && index_c < ctime(&o.dir)
        && o.entries
            .iter()
            .all(|(_, m)| mtime(m) <= index_m && ctime(m) <= index_c)
}

#[cfg(not(unix))]
fn untouched(_: &Owned) -> bool {
    false
}

/// The shortcut of an unchanged re-render: true only when `out_root/<cluster>` is provably
/// what plinth last wrote for inputs with `input_digest` (same digest and plinth version,
/// exactly the files of its index, all regular, none touched since, see [`untouched`]).
/// False means "unknown": the caller renders the cluster and compares it with the disk
/// ([`matches_disk`], the comparison `render --check` makes), so `render` and `--check` agree
/// on what is current. `input_digest` is only computed when everything else holds.
pub fn is_current(
    out_root: &Path,
    cluster: &str,
    input_digest: impl FnOnce() -> Option<String>,
) -> bool {
    let Ok(Some(owned)) = inspect(out_root, cluster) else {
        return false;
    };
    let head = &owned.head;
    if head.plinth_version != VERSION
        || head.cluster != cluster
        || head.files.len() != owned.entries.len()
        || owned
            .entries
            .iter()
            .any(|(name, meta)| !meta.is_file() || !head.files.contains_key(name))
        || !untouched(&owned)
    {
        return false;
    }
    input_digest().as_deref() == Some(head.input_digest.as_str())
}

/// How one cluster folder on disk differs from `out`.
#[derive(Debug, Default)]
struct Difference {
    stale: Vec<String>,
    missing: Vec<String>,
    extra: Vec<String>,
}

fn compare(out_root: &Path, out: &ClusterOutput) -> Difference {
    let mut diff = Difference::default();
    let dir = out_root.join(&out.name);
    let meta = fs_err::symlink_metadata(&dir);
    if meta
        .as_ref()
        .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
    {
        // A new cluster: every file is missing, without a `stat` per file.
        diff.missing = out.files.keys().cloned().collect();
        return diff;
    }
    let real_dir = meta.is_ok_and(|m| m.is_dir());
    for (name, bytes) in &out.files {
        let path = dir.join(name);
        match fs_err::symlink_metadata(&path) {
            Ok(meta) if real_dir && meta.is_file() => {
                let same = meta.len() == bytes.len() as u64
                    && fs_err::read(&path).is_ok_and(|on_disk| on_disk == *bytes);
                if !same {
                    diff.stale.push(name.clone());
                }
            }
            Ok(_) => diff.stale.push(name.clone()),
            Err(_) => diff.missing.push(name.clone()),
        }
    }
    if real_dir && let Ok(entries) = fs_err::read_dir(&dir) {
        diff.extra = entries
            .filter_map(std::result::Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !out.files.contains_key(n))
            .collect();
        diff.extra.sort();
    }
    diff
}

/// Whether `out_root/<cluster>` holds exactly `out`, byte for byte and nothing else: the
/// comparison `render --check` makes.
pub fn matches_disk(out_root: &Path, out: &ClusterOutput) -> bool {
    let diff = compare(out_root, out);
    diff.stale.is_empty() && diff.missing.is_empty() && diff.extra.is_empty()
}

/// Folders of the output root that plinth wrote (sorted): real folders holding plinth's index.
/// Anything else is not plinth's and is never listed, replaced or removed.
pub fn rendered_clusters(out_root: &Path) -> Result<Vec<String>> {
    retired_clusters(out_root, &BTreeSet::new())
}

/// Like [`rendered_clusters`], without the clusters in `keep` (which are not inspected).
pub fn retired_clusters(out_root: &Path, keep: &BTreeSet<String>) -> Result<Vec<String>> {
    let mut names = Vec::new();
    let entries = match fs_err::read_dir(out_root) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(names),
        Err(err) => return Err(io_err(out_root)(err)),
    };
    for entry in entries {
        let entry = entry.map_err(io_err(out_root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.')
            && !keep.contains(&name)
            && matches!(inspect(out_root, &name), Ok(Some(_)))
        {
            names.push(name);
        }
    }
    names.sort();
    Ok(names)
}

/// Scratch folders (and clock probes) of interrupted runs left in the output root (sorted
/// names).
pub fn leftovers(out_root: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs_err::read_dir(out_root)
        .into_iter()
        .flatten()
        .filter_map(std::result::Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let kind = e.file_type().ok()?;
            let scratch = (kind.is_dir() && name.starts_with(SCRATCH_PREFIX))
                || (kind.is_file() && name.starts_with(CLOCK));
            scratch.then_some(name)
        })
        .collect();
    names.sort();
    names
}

/// A cluster folder written in full to a staging folder in the output root, waiting for
/// [`Output::commit`] (or [`Output::abandon`]).
#[derive(Debug)]
pub struct Staged {
    stage: PathBuf,
    name: String,
}

/// One step of a swap, remembered so that it can be undone.
enum Swapped {
    /// A new cluster folder renamed into place.
    Fresh { stage: PathBuf, target: PathBuf },
    /// Exchanged atomically: the staging path now holds the old folder.
    Exchanged { stage: PathBuf, target: PathBuf },
    /// Two renames: the old folder parked at `old`.
    Parked {
        stage: PathBuf,
        target: PathBuf,
        old: PathBuf,
    },
    /// A cluster no longer rendered, parked at `park` to be deleted.
    Removed { target: PathBuf, park: PathBuf },
}

/// The output root opened for writing. Every change goes through its [`Fs`].
///
/// The protocol, which keeps every cluster folder entirely old or entirely new whatever
/// fails or is killed when: each cluster is written to `.plinth-staging-<pid>-<name>`; only
/// when all are staged, each is swapped in with one atomic exchange (`renameat2`
/// `RENAME_EXCHANGE`), or where there is none by renaming the old folder to
/// `.plinth-old-<pid>-<name>` and the staging folder into place; clusters no longer rendered
/// are renamed to `.plinth-removed-<pid>-<name>`. An error undoes every swap made so far.
/// Only then are the old folders deleted. The next run's [`Output::open`] recovers whatever
/// an interrupted run left: an old folder whose place is empty is put back, every other
/// scratch folder is deleted.
#[derive(Debug)]
pub struct Output<'fs> {
    root: PathBuf,
    fs: &'fs crate::fsops::Fs,
    /// Folders this run created (the root and missing parents), outermost last.
    created: Vec<PathBuf>,
    pid: u32,
}

impl<'fs> Output<'fs> {
    /// The output root this writer swaps folders into.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Opens `root` for writing: refuses a symlink or a file there, recovers what interrupted
    /// runs left (returned as messages) and creates the missing folders, which
    /// [`Output::abandon`] removes again, so a failed render leaves no empty folder behind.
    pub fn open(root: &Path, fs: &'fs crate::fsops::Fs) -> Result<(Self, Vec<String>)> {
        let mut missing = Vec::new();
        let mut at = root.to_path_buf();
        loop {
            match fs_err::symlink_metadata(&at) {
                Ok(meta) if meta.file_type().is_symlink() && at == root => {
                    return Err(refuse(
                        root,
                        "is a symlink; plinth never writes its output through one",
                        "give the real folder (`paths.output` in `plinth.yaml`, or `--output`)",
                    ));
                }
                Ok(meta) if at == root && !meta.is_dir() => {
                    return Err(refuse(root, "is not a folder", MOVE_AWAY));
                }
                Ok(_) => break,
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    missing.push(at.clone());
                    match at.parent() {
                        Some(parent) if !parent.as_os_str().is_empty() => {
                            at = parent.to_path_buf();
                        }
                        _ => break,
                    }
                }
                Err(err) => return Err(io_err(&at)(err)),
            }
        }
        let mut output = Self {
            root: root.to_path_buf(),
            fs,
            created: Vec::new(),
            pid: std::process::id(),
        };
        while let Some(dir) = missing.pop() {
            if let Err(err) = fs.create_dir(&dir) {
                output.remove_created();
                return Err(write_err(&dir)(err));
            }
            output.created.insert(0, dir);
        }
        let recovered = output.recover()?;
        Ok((output, recovered))
    }

    /// Puts back old folders whose place is empty and deletes every other scratch folder.
    fn recover(&self) -> Result<Vec<String>> {
        let mut done = Vec::new();
        for name in leftovers(&self.root) {
            let path = self.root.join(&name);
            if name.starts_with(CLOCK) && fs_err::symlink_metadata(&path).is_ok_and(|m| m.is_file())
            {
                self.fs.remove_file(&path).map_err(write_err(&path))?;
                done.push(format!("removed `{name}`, left by an interrupted render"));
                continue;
            }
            let cluster = [STAGING, OLD, REMOVED]
                .iter()
                .find_map(|p| name.strip_prefix(p))
                .and_then(|rest| rest.split_once('-'))
                .map(|(_, cluster)| cluster);
            let Some(cluster) = cluster else { continue };
            let target = self.root.join(cluster);
            if name.starts_with(OLD)
                && check_name(&self.root, cluster).is_ok()
                && fs_err::symlink_metadata(&target)
                    .is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound)
            {
                self.fs.rename(&path, &target).map_err(write_err(&target))?;
                done.push(format!(
                    "put back `{cluster}`, which an interrupted render had moved to `{name}`"
                ));
            } else {
                self.fs.remove_dir_all(&path).map_err(write_err(&path))?;
                done.push(format!("removed `{name}`, left by an interrupted render"));
            }
        }
        Ok(done)
    }

    /// Writes one cluster's files to a staging folder (the index last). On an error the
    /// staging folder is removed again.
    pub fn stage(&self, out: &ClusterOutput) -> Result<Staged> {
        check_name(&self.root, &out.name)?;
        let stage = self
            .root
            .join(format!("{STAGING}{}-{}", self.pid, out.name));
        self.fs.create_dir(&stage).map_err(write_err(&stage))?;
        // The index goes last: `is_current` trusts files not newer than it.
        let files = out
            .files
            .iter()
            .filter(|(n, _)| n.as_str() != index::FILE)
            .chain(out.files.get_key_value(index::FILE));
        for (name, bytes) in files {
            let path = stage.join(name);
            if let Err(err) = self.fs.write_new(&path, bytes) {
                let _ = self.fs.remove_dir_all(&stage);
                return Err(write_err(&path)(err));
            }
        }
        Ok(Staged {
            stage,
            name: out.name.clone(),
        })
    }

    /// Deletes the staging folders and the folders this run created: a failed render
    /// writes nothing.
    pub fn abandon(&self, staged: &[Staged]) {
        for s in staged {
            if fs_err::symlink_metadata(&s.stage).is_ok() {
                let _ = self.fs.remove_dir_all(&s.stage);
            }
        }
        self.remove_created();
    }

    fn remove_created(&self) {
        for dir in &self.created {
            // Only when empty: `remove_dir` refuses anything else.
            if fs_err::read_dir(dir).is_ok_and(|mut e| e.next().is_none()) {
                let _ = self.fs.remove_dir(dir);
            }
        }
    }

    fn owned_or_absent(&self, name: &str) -> Result<bool> {
        let Some(owned) = inspect(&self.root, name)? else {
            return Ok(false);
        };
        if let Some(first) = owned.foreign().first() {
            let dir = self.root.join(name);
            return Err(refuse(
                &dir.join(first),
                format!(
                    "was not written by plinth (it is not in `{}`); plinth never deletes a file it did not create",
                    index::FILE
                ),
                format!(
                    "plinth replaces `{}` as a whole; move the file out of it, then render again",
                    dir.display()
                ),
            ));
        }
        Ok(true)
    }

    /// Swaps every staged folder into place and removes the folders of the clusters in
    /// `remove` that plinth wrote, as described on [`Output`]. Refuses (before changing
    /// anything) a target that plinth did not write or that holds a file plinth did not
    /// write. Returns the scratch folders it could not delete afterwards (the output is
    /// complete; the next run deletes them).
    pub fn commit(&self, staged: &[Staged], remove: &[String]) -> Result<Vec<String>> {
        let mut exists = Vec::with_capacity(staged.len());
        let mut removals = Vec::new();
        let checked = staged
            .iter()
            .try_for_each(|s| {
                exists.push(self.owned_or_absent(&s.name)?);
                Ok(())
            })
            .and_then(|()| {
                remove.iter().try_for_each(|name| {
                    if self.owned_or_absent(name)? {
                        removals.push(name);
                    }
                    Ok(())
                })
            });
        if let Err(err) = checked {
            self.abandon(staged);
            return Err(err);
        }

        self.wait_past_indexes(staged);
        let mut done: Vec<Swapped> = Vec::new();
        let mut exchange = true;
        let mut failure = None;
        for (s, exists) in staged.iter().zip(exists) {
            match self.swap_one(s, exists, &mut exchange) {
                Ok(step) => done.push(step),
                Err(err) => {
                    failure = Some(err);
                    break;
                }
            }
        }
        if failure.is_none() {
            for name in removals {
                let target = self.root.join(name);
                let park = self.root.join(format!("{REMOVED}{}-{name}", self.pid));
                match self.fs.rename(&target, &park) {
                    Ok(()) => done.push(Swapped::Removed { target, park }),
                    Err(err) => {
                        failure = Some(write_err(&target)(err));
                        break;
                    }
                }
            }
        }
        if let Some(err) = failure {
            self.undo(done);
            self.abandon(staged);
            return Err(err);
        }

        let mut left = Vec::new();
        for step in done {
            let parked = match step {
                Swapped::Fresh { .. } => continue,
                Swapped::Exchanged { stage, .. } => stage,
                Swapped::Parked { old, .. } => old,
                Swapped::Removed { park, .. } => park,
            };
            if self.fs.remove_dir_all(&parked).is_err() {
                left.push(parked.display().to_string());
            }
        }
        Ok(left)
    }

    /// Waits until the file system's clock has moved past the newest staged index, so that
    /// the swap (which sets each folder's ctime) and any edit after it carry a later time than
    /// the index: [`untouched`] can then tell an edit made in the same clock tick as plinth's
    /// write (file systems stamp times from a coarse clock, a few milliseconds a tick). The
    /// file system's time is read from a probe file plinth creates and removes; bounded (at
    /// most about a second), and without a probe the shortcut merely stays unproven.
    #[cfg(unix)]
    fn wait_past_indexes(&self, staged: &[Staged]) {
        use std::os::unix::fs::MetadataExt as _;
        let ctime = |m: &std::fs::Metadata| (m.ctime(), m.ctime_nsec());
        let Some(newest) = staged
            .iter()
            .filter_map(|s| std::fs::symlink_metadata(s.stage.join(index::FILE)).ok())
            .map(|m| ctime(&m))
            .max()
        else {
            return;
        };
        let probe = self.root.join(format!("{CLOCK}{}", self.pid));
        for _ in 0..1000 {
            // Created new each time (never through a file or symlink planted at that name),
            // read, and removed again: only what this call created is removed.
            let now = fs_err::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&probe)
                .and_then(|file| {
                    let meta = file.metadata();
                    drop(file);
                    let _ = fs_err::remove_file(&probe);
                    meta
                })
                .map(|m| ctime(&m));
            match now {
                Ok(now) if now > newest => break,
                Ok(_) => std::thread::sleep(std::time::Duration::from_millis(1)),
                Err(_) => break,
            }
        }
    }

    #[cfg(not(unix))]
    fn wait_past_indexes(&self, _: &[Staged]) {}

    fn swap_one(&self, s: &Staged, exists: bool, exchange: &mut bool) -> Result<Swapped> {
        let target = self.root.join(&s.name);
        let stage = s.stage.clone();
        if !exists {
            self.fs
                .rename(&stage, &target)
                .map_err(write_err(&target))?;
            return Ok(Swapped::Fresh { stage, target });
        }
        if *exchange {
            if self
                .fs
                .exchange(&stage, &target)
                .map_err(write_err(&target))?
            {
                return Ok(Swapped::Exchanged { stage, target });
            }
            *exchange = false;
        }
        let old = self.root.join(format!("{OLD}{}-{}", self.pid, s.name));
        self.fs.rename(&target, &old).map_err(write_err(&target))?;
        if let Err(err) = self.fs.rename(&stage, &target) {
            // Put the old folder back; if that fails too, the next run does.
            let _ = self.fs.rename(&old, &target);
            return Err(write_err(&target)(err));
        }
        Ok(Swapped::Parked { stage, target, old })
    }

    /// Undoes swaps, newest first. Best effort: what a failure here leaves, the next run's
    /// recovery settles (every folder is entirely old or new at every point regardless).
    fn undo(&self, done: Vec<Swapped>) {
        for step in done.into_iter().rev() {
            let _ = match step {
                Swapped::Fresh { stage, target } => self.fs.rename(&target, &stage),
                Swapped::Exchanged { stage, target } => {
                    self.fs.exchange(&stage, &target).map(|_| ())
                }
                Swapped::Parked { stage, target, old } => self
                    .fs
                    .rename(&target, &stage)
                    .and_then(|()| self.fs.rename(&old, &target)),
                Swapped::Removed { target, park } => self.fs.rename(&park, &target),
            };
        }
    }
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
    /// Scratch folders of interrupted runs (`.plinth-…`); the next `render` recovers them.
    pub leftovers: Vec<String>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.stale.is_empty()
            && self.missing.is_empty()
            && self.extra.is_empty()
            && self.leftovers.is_empty()
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
        let diff = compare(out_root, out);
        let located = |names: Vec<String>| names.into_iter().map(|n| format!("{}/{n}", out.name));
        report.stale.extend(located(diff.stale));
        report.missing.extend(located(diff.missing));
        report.extra.extend(located(diff.extra));
    }
    if let Some(expected) = expected_clusters {
        for name in retired_clusters(out_root, expected)? {
            report.extra.push(format!("{name}/"));
        }
    }
    report.leftovers = leftovers(out_root);
    report.stale.sort();
    report.missing.sort();
    report.extra.sort();
    Ok(report)
}
