//! The desired side: the objects of one rendered cluster, read from its committed folder
//! (`rendered/<cluster>/plinth-index.json` and the files it names) or taken from an in-memory
//! render.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use plinth_renderer::index::{self, Index, IndexObject};
use plinth_renderer::settings::Settings;
use plinth_renderer::{RenderedCluster, output};
use plinth_vocab::yaml;

use crate::core::live::KindRef;
use crate::error::DriftError;
use plinth_vocab::ObjectRef;

/// One rendered object with its index entry (file, asset, wave).
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredObject {
    pub index: IndexObject,
    pub value: Value,
}

impl DesiredObject {
    /// The object's key.
    pub fn key(&self) -> ObjectRef {
        ObjectRef::new(
            &self.index.api_version,
            &self.index.kind,
            self.index.namespace.as_deref(),
            &self.index.name,
        )
    }
}

/// Reads a rendered cluster folder (the one holding `plinth-index.json`).
pub fn from_folder(dir: &Path) -> Result<(Index, Vec<DesiredObject>), DriftError> {
    let (idx, folder) = Folder::open(dir)?;
    let objects = folder.load(0..folder.len())?;
    Ok((idx, objects))
}

/// A rendered cluster folder whose index is read and whose objects are read when asked for, a
/// part at a time, so that a large cluster is never held whole.
#[derive(Debug, Clone, PartialEq)]
pub struct Folder {
    dir: PathBuf,
    index_path: PathBuf,
    entries: Vec<IndexObject>,
}

impl Folder {
    /// Reads the index of the rendered cluster folder `dir`; its objects are read by
    /// [`Self::load`]. The index is returned too, without its objects.
    pub fn open(dir: &Path) -> Result<(Index, Self), DriftError> {
        let index_path = dir.join(index::FILE);
        let bytes = fs_err::read(&index_path).map_err(|source| DriftError::Io {
            path: index_path.display().to_string(),
            source,
        })?;
        let mut idx: Index = serde_json::from_slice(&bytes).map_err(|source| DriftError::Json {
            path: index_path.display().to_string(),
            source,
        })?;
        let entries = std::mem::take(&mut idx.objects);
        let folder = Self {
            dir: dir.to_path_buf(),
            index_path,
            entries,
        };
        Ok((idx, folder))
    }

    /// The number of objects.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the folder holds no object.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every object's index entry with a `null` value: the keys, kinds and namespaces of the
    /// desired set without its objects.
    pub fn outlines(&self) -> Vec<DesiredObject> {
        self.entries
            .iter()
            .map(|entry| DesiredObject {
                index: entry.clone(),
                value: Value::Null,
            })
            .collect()
    }

    /// The objects of the index entries in `range`, in index order. Files are read and parsed
    /// on every core; the first failing entry in index order is the error, as when they were
    /// read one by one.
    pub fn load(&self, range: std::ops::Range<usize>) -> Result<Vec<DesiredObject>, DriftError> {
        self.entries[range]
            .par_iter()
            .map(|entry| object_of(&self.dir, &self.index_path, entry))
            .collect::<Vec<_>>()
            .into_iter()
            .collect()
    }
}

/// The object of one index `entry` of the cluster folder `dir`.
fn object_of(
    dir: &Path,
    index_path: &Path,
    entry: &IndexObject,
) -> Result<DesiredObject, DriftError> {
    if entry.file.contains("..") || Path::new(&entry.file).is_absolute() {
        return Err(DriftError::Invalid {
            path: index_path.display().to_string(),
            message: format!("object file `{}` is outside the cluster folder", entry.file),
        });
    }
    let path = dir.join(&entry.file);
    let text = fs_err::read_to_string(&path).map_err(|source| DriftError::Io {
        path: path.display().to_string(),
        source,
    })?;
    let docs = yaml::from_str_multi(&text).map_err(|message| DriftError::Yaml {
        path: path.display().to_string(),
        message,
    })?;
    let value = docs.into_iter().next().ok_or_else(|| DriftError::Invalid {
        path: path.display().to_string(),
        message: "holds no object".into(),
    })?;
    Ok(DesiredObject {
        index: entry.clone(),
        value,
    })
}

/// The desired objects of an in-memory render, in apply order.
pub fn from_rendered(rendered: &RenderedCluster, settings: &Settings) -> Vec<DesiredObject> {
    let out = output::materialize(rendered, settings);
    let by_identity: BTreeMap<&ObjectRef, &Value> = rendered
        .objects
        .iter()
        .map(|o| (&o.identity, &o.value))
        .collect();
    out.index
        .objects
        .into_iter()
        .filter_map(|entry| {
            let identity = ObjectRef {
                group: plinth_vocab::group_of(&entry.api_version).to_owned(),
                kind: entry.kind.clone(),
                namespace: entry.namespace.clone(),
                name: entry.name.clone(),
            };
            let value = (*by_identity.get(&identity)?).clone();
            Some(DesiredObject {
                index: entry,
                value,
            })
        })
        .collect()
}

/// Desired objects from plain values (tests, benchmarks, tools that render elsewhere); every
/// object is attributed to `asset`, wave 0. Values without apiVersion, kind or name are skipped.
pub fn from_values(values: impl IntoIterator<Item = Value>, asset: &str) -> Vec<DesiredObject> {
    values
        .into_iter()
        .filter_map(|value| {
            let key = ObjectRef::of(&value)?;
            let index = IndexObject {
                file: String::new(),
                api_version: value.get("apiVersion")?.as_str()?.to_owned(),
                kind: key.kind,
                namespace: key.namespace,
                name: key.name,
                asset: asset.to_owned(),
                wave: 0,
                sha256: output::object_digest(&value),
            };
            Some(DesiredObject { index, value })
        })
        .collect()
}

/// The distinct (apiVersion, kind, namespace) of a desired set, sorted: what must be listed.
pub fn kinds(desired: &[DesiredObject]) -> Vec<KindRef> {
    let set: BTreeSet<KindRef> = desired
        .iter()
        .map(|d| KindRef {
            api_version: d.index.api_version.clone(),
            kind: d.index.kind.clone(),
            namespace: d.index.namespace.clone(),
        })
        .collect();
    set.into_iter().collect()
}
