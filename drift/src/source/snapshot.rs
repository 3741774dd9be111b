//! Live state from a snapshot: files or folders as `kubectl get -o yaml` writes them (single
//! objects, multi-document files, `kind: List` or `*List` with `items`), YAML or JSON.
//!
//! Reads are bounded: a file's size is checked from its metadata before it is opened, and the
//! read itself stops one byte past the limit, so a file that grows meanwhile is caught too. Only
//! regular files are read: a FIFO, socket or device (as the snapshot path or with a snapshot
//! file name in a folder) is refused, naming the path, instead of blocking forever. A symlink
//! inside a folder is followed only when it points at a regular file; one that points at a
//! folder (a possible loop) or anything else is refused.
//!
//! A snapshot is read whole and must be consistent: an object (group, kind, namespace, name)
//! found twice is kept once when both copies are the same parsed value and is an error naming
//! both files otherwise (never "the last one wins"); a snapshot holding no objects at all is
//! an error unless allowed ([`ReadOptions::allow_empty`]); a `.json` file is read by the JSON
//! parser alone, so that a truncated one is reported as JSON.
//!
//! A large snapshot is never held as one document: the items of a JSON `List` are parsed one
//! by one from the text (on every core), those of a YAML `List` are made compact as the reader
//! takes them, and every object is kept as its compact JSON text ([`read_compact`],
//! [`CompactLive`]), to be parsed again, a part at a time, when compared.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use plinth_vocab::yaml;

use crate::core::desired::DesiredObject;
use crate::core::live::{self, CompactLive, KindRef, LiveSet, Unparsable};
use crate::core::scope::Placement;
use crate::error::DriftError;
use plinth_vocab::ObjectRef;

/// Objects with their keys, each as compact JSON text.
type Keyed = Vec<(ObjectRef, Box<str>)>;

/// An object as read: its key, the index of its file and its compact text.
type Located = (ObjectRef, usize, Box<str>);

/// The largest snapshot file read by default: 256 MiB (`kubectl get -A -o yaml` of a whole
/// cluster can be large; `--max-snapshot-file-mib` changes it).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The file names a snapshot folder is read from.
const EXTENSIONS: [&str; 3] = [".yaml", ".yml", ".json"];

/// How a snapshot is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// The largest file read, in bytes.
    pub max_file_bytes: u64,
    /// Whether a snapshot holding no objects at all is read (every rendered object is then
    /// `missing`) instead of refused with [`DriftError::EmptySnapshot`].
    pub allow_empty: bool,
}

impl Default for ReadOptions {
    /// Files up to [`DEFAULT_MAX_FILE_BYTES`]; an empty snapshot is refused.
    fn default() -> Self {
        Self {
            max_file_bytes: DEFAULT_MAX_FILE_BYTES,
            allow_empty: false,
        }
    }
}

/// What one snapshot file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRead {
    /// The file.
    pub path: PathBuf,
    /// The objects read from it (the items of a `List` one by one), copies included.
    pub objects: usize,
    /// Of those, identical copies of an object read before (from this file or an earlier
    /// one): kept once.
    pub copies: usize,
}

/// A snapshot as read: its live objects and what each of its files held, in file order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    pub live: LiveSet,
    pub files: Vec<FileRead>,
}

/// A snapshot as read, its objects held compactly ([`CompactLive`]): what a drift run keeps
/// while it compares.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactSnapshot {
    pub live: CompactLive,
    pub files: Vec<FileRead>,
}

/// Reads a snapshot file or folder (recursively; `.yaml`, `.yml` and `.json` files, hidden
/// entries skipped) with the default [`ReadOptions`]. Every (kind, namespace) in `wanted`
/// counts as listed: a snapshot is taken to hold everything that was live.
pub fn load(path: &Path, wanted: &[KindRef]) -> Result<LiveSet, DriftError> {
    let mut live = read(path, &ReadOptions::default())?.live;
    mark_listed(&mut live, wanted);
    Ok(live)
}

/// Reads a snapshot for the desired objects of a cluster, with the default [`ReadOptions`]:
/// see [`load_for_with`].
pub fn load_for(
    path: &Path,
    desired: &mut [DesiredObject],
    namespace: Option<&str>,
) -> Result<LiveSet, DriftError> {
    load_for_with(path, desired, namespace, &ReadOptions::default()).map(|s| s.live)
}

/// Reads a snapshot for the desired objects of a cluster: places them first (namespace
/// defaulting, [`Placement::from_snapshot`]: a namespaced object rendered without a namespace
/// is compared in `namespace`, else `default`), then counts their kinds and namespaces as
/// listed, as [`load`] does.
pub fn load_for_with(
    path: &Path,
    desired: &mut [DesiredObject],
    namespace: Option<&str>,
    options: &ReadOptions,
) -> Result<Snapshot, DriftError> {
    let mut snapshot = read(path, options)?;
    Placement::from_snapshot(&snapshot.live, namespace).place(desired);
    mark_listed(&mut snapshot.live, &crate::core::desired::kinds(desired));
    Ok(snapshot)
}

/// Every object of a snapshot file or folder, nothing marked listed, parsed: see
/// [`read_compact`].
fn read(path: &Path, options: &ReadOptions) -> Result<Snapshot, DriftError> {
    let CompactSnapshot { live, files } = read_compact(path, options)?;
    let live = live.into_live_set().map_err(|e| unparsable(&e))?;
    Ok(Snapshot { live, files })
}

/// The error for a live object whose compact text does not parse again.
pub fn unparsable(error: &Unparsable) -> DriftError {
    DriftError::Invalid {
        path: error.key.to_string(),
        message: format!("the live object cannot be read again: {}", error.source),
    }
}

/// Every object of a snapshot file or folder, nothing marked listed, each held as its compact
/// JSON text ([`CompactLive`]). An object found twice (same group, kind, namespace and name) is
/// kept once when both copies are the same value, and is an error naming both files otherwise;
/// no object at all is an error unless `options.allow_empty`.
///
/// # Errors
/// A file cannot be read or parsed, two copies of an object differ, or the snapshot is empty
/// (and that is not allowed).
pub fn read_compact(path: &Path, options: &ReadOptions) -> Result<CompactSnapshot, DriftError> {
    let mut files = Vec::new();
    collect(path, &mut files)?;
    files.sort();
    // Files parse independently: on every core, then merged in file order.
    let parsed: Vec<Result<Keyed, DriftError>> = files
        .par_iter()
        .map(|f| objects_of(f, options.max_file_bytes))
        .collect();
    let mut counts = Vec::with_capacity(files.len());
    // Every object with the file it was read from, then sorted by key (stable: copies stay in
    // file order) and merged run by run: one sort rather than a map lookup per object keeps
    // the merge near linear for one file of 100,000 objects.
    let mut read: Vec<Located> = Vec::new();
    // A file that cannot be read is the error unless the files before it conflict.
    let mut unreadable = None;
    for (index, (file, found)) in files.iter().zip(parsed).enumerate() {
        let found = match found {
            Ok(found) => found,
            Err(error) => {
                unreadable = Some(error);
                break;
            }
        };
        counts.push(FileRead {
            path: file.clone(),
            objects: found.len(),
            copies: 0,
        });
        read.extend(found.into_iter().map(|(key, text)| (key, index, text)));
    }
    // Position in reading order, so the conflict reported is the first one read.
    let mut read: Vec<(usize, Located)> = read.into_iter().enumerate().collect();
    read.par_sort_by(|(_, (a, ..)), (_, (b, ..))| a.cmp(b));
    let mut objects: Vec<(ObjectRef, Box<str>)> = Vec::with_capacity(read.len());
    let mut first_at = 0;
    let mut conflict: Option<(usize, DriftError)> = None;
    for (position, (key, index, text)) in read {
        if let Some((last, first)) = objects.last()
            && *last == key
        {
            match difference(first, &text) {
                None => counts[index].copies += 1,
                Some(pointer) if conflict.as_ref().is_none_or(|(at, _)| position < *at) => {
                    let error = DriftError::Duplicate {
                        object: key.to_string(),
                        first: files[first_at].display().to_string(),
                        second: files[index].display().to_string(),
                        pointer,
                    };
                    conflict = Some((position, error));
                }
                Some(_) => {}
            }
            continue;
        }
        first_at = index;
        objects.push((key, text));
    }
    if let Some(error) = conflict.map(|(_, error)| error).or(unreadable) {
        return Err(error);
    }
    if objects.is_empty() && !options.allow_empty {
        return Err(DriftError::EmptySnapshot {
            path: path.display().to_string(),
            files: files.len(),
        });
    }
    let live = CompactLive {
        objects: objects.into_iter().collect(),
        ..CompactLive::default()
    };
    Ok(CompactSnapshot {
        live,
        files: counts,
    })
}

/// Whether two copies of an object differ: `None` when they are the same value, else the
/// pointer of the first field where they differ. Equal texts are equal values; different texts
/// are parsed to be compared as values (`0.0` and `-0.0` are one number).
fn difference(first: &str, second: &str) -> Option<String> {
    if first == second {
        return None;
    }
    match (live::parse(first), live::parse(second)) {
        (Ok(first), Ok(second)) => (first != second).then(|| first_difference(&first, &second)),
        _ => Some("/".to_owned()),
    }
}

/// The pointer of the first field where two copies of an object differ (no value: either
/// could be secret).
fn first_difference(first: &Value, second: &Value) -> String {
    plinth_vocab::change::field_changes(first, second)
        .into_iter()
        .map(|c| c.pointer)
        .find(|p| !p.is_empty())
        .unwrap_or_else(|| "/".to_owned())
}

fn mark_listed(live: &mut LiveSet, wanted: &[KindRef]) {
    live.listed.extend(wanted.iter().map(KindRef::listing));
}

/// The objects of one file, each with its key and compact text, in file order.
fn objects_of(file: &Path, max_file_bytes: u64) -> Result<Keyed, DriftError> {
    let text = read_bounded(file, max_file_bytes)?;
    let mut out = Vec::new();
    if text.trim().is_empty() {
        return Ok(out);
    }
    let json_name = file
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"));
    let json_like = json_name || text.trim_start().starts_with('{');
    if json_like && let Some(list) = JsonList::of(&text) {
        let kind = list
            .kind
            .as_ref()
            .and_then(Value::as_str)
            .unwrap_or_default();
        let api_version = list.api_version.as_ref().and_then(Value::as_str);
        let texts: Vec<&str> = list.items.iter().flatten().map(|raw| raw.get()).collect();
        let items = Items {
            kind,
            api_version,
            parse: |text| serde_json::from_str(text),
            compact: false,
        };
        return items.objects(texts, file);
    }
    for doc in parse_file(file, &text, json_name)? {
        mapped_objects(doc, file, &mut out)?;
    }
    Ok(out)
}

/// A JSON `List` (or typed list such as `PodList`), its items left as text: each is parsed on
/// its own, on every core, so that the whole document is never one [`Value`] tree.
#[derive(serde::Deserialize)]
struct JsonList<'a> {
    #[serde(rename = "apiVersion")]
    api_version: Option<Value>,
    kind: Option<Value>,
    #[serde(borrow)]
    items: Option<Vec<&'a serde_json::value::RawValue>>,
}

impl<'a> JsonList<'a> {
    /// `text` as a list of items, when it is valid JSON holding a `List` or typed list with
    /// an `items` array, not a kustomization (else `None`: the whole document is parsed as
    /// before, with the same answers and errors).
    fn of(text: &'a str) -> Option<Self> {
        let list: Self = serde_json::from_str(text).ok()?;
        let kind = list.kind.as_ref()?.as_str()?;
        let kustomize = list
            .api_version
            .as_ref()
            .and_then(Value::as_str)
            .is_some_and(is_kustomize);
        (kind.ends_with("List") && list.items.is_some() && !kustomize).then_some(list)
    }
}

/// The items of a `List`, each as JSON text, with what they may omit.
struct Items<'a> {
    /// The list's kind (`PodList`: items without a kind are `Pod`s).
    kind: &'a str,
    /// The list's `apiVersion`, for items without one.
    api_version: Option<&'a str>,
    /// How an item's text is parsed.
    parse: fn(&str) -> Result<Value, serde_json::Error>,
    /// Whether the texts are compact already ([`live::compact`]): then an item that names its
    /// own kind and `apiVersion` keeps its text, only its key is read from it.
    compact: bool,
}

/// What keys an object, read from its text without parsing the rest.
#[derive(serde::Deserialize)]
struct Head<'a> {
    #[serde(rename = "apiVersion", borrow)]
    api_version: Option<&'a str>,
    #[serde(borrow)]
    kind: Option<&'a str>,
    #[serde(borrow)]
    metadata: Option<HeadMetadata<'a>>,
}

#[derive(serde::Deserialize)]
struct HeadMetadata<'a> {
    #[serde(borrow)]
    name: Option<&'a str>,
    #[serde(borrow)]
    namespace: Option<&'a str>,
}

impl Head<'_> {
    /// The key of a compact `text` that is a whole object by itself: not a list, not a
    /// kustomization, with a non-empty `apiVersion`, kind and name given as plain strings
    /// (else `None`, and the text is parsed whole).
    fn key(text: &str) -> Option<ObjectRef> {
        let head: Head<'_> = serde_json::from_str(text).ok()?;
        let api_version = head
            .api_version
            .filter(|v| !v.is_empty() && !is_kustomize(v))?;
        let kind = head
            .kind
            .filter(|k| !k.is_empty() && !k.ends_with("List"))?;
        let metadata = head.metadata?;
        let name = metadata.name.filter(|n| !n.is_empty())?;
        Some(ObjectRef::new(api_version, kind, metadata.namespace, name))
    }
}

impl Items<'_> {
    /// The objects of the items `texts`, parsed on every core, in order; the first item that
    /// fails, in order, is the error.
    fn objects<T>(&self, texts: Vec<T>, file: &Path) -> Result<Keyed, DriftError>
    where
        T: AsRef<str> + Into<Box<str>> + Send,
    {
        let item_kind = self.kind.strip_suffix("List").filter(|k| !k.is_empty());
        let count = texts.len();
        let parsed: Vec<Result<Keyed, DriftError>> = texts
            .into_par_iter()
            .map(|text| {
                if self.compact
                    && let Some(key) = Head::key(text.as_ref())
                {
                    return Ok(vec![(key, text.into())]);
                }
                let mut item = (self.parse)(text.as_ref()).map_err(|source| DriftError::Json {
                    path: file.display().to_string(),
                    source,
                })?;
                fill_item(&mut item, item_kind, self.api_version);
                let mut out = Vec::new();
                flatten(item, file, &mut out)?;
                Ok(out)
            })
            .collect();
        let mut out = Vec::with_capacity(count);
        for found in parsed {
            out.extend(found?);
        }
        Ok(out)
    }
}

/// Whether an `apiVersion` is kustomize's (a kustomization beside the objects is not live).
fn is_kustomize(api_version: &str) -> bool {
    api_version.starts_with("kustomize.config.k8s.io/")
}

/// A document's root `items` as their compact texts: what [`parse_file`] keeps of a list's
/// items while it reads the rest of the file.
#[allow(
    clippy::needless_pass_by_value,
    reason = "the item map of the YAML reader takes each item by value"
)]
fn compact_item(item: Value) -> Value {
    Value::String(live::compact(&item).into_string())
}

/// The objects of a document as [`parse_file`] returns it (its root `items` as compact texts):
/// the items of a list, parsed on every core, else the document itself, its items restored.
fn mapped_objects(
    mut doc: Value,
    file: &Path,
    out: &mut Vec<(ObjectRef, Box<str>)>,
) -> Result<(), DriftError> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = doc.get("apiVersion").and_then(Value::as_str);
    let list = kind.ends_with("List") && matches!(doc.get("items"), Some(Value::Array(_)));
    if !list || api_version.is_some_and(is_kustomize) {
        if let Some(Value::Array(items)) = doc.get_mut("items") {
            for item in items {
                let text = item.as_str().unwrap_or("null");
                *item = live::parse(text).map_err(|source| DriftError::Json {
                    path: file.display().to_string(),
                    source,
                })?;
            }
        }
        return flatten(doc, file, out);
    }
    let Some(Value::Array(items)) = doc.get_mut("items").map(Value::take) else {
        return Ok(());
    };
    // Owned, so that an item's text is kept, not copied.
    let texts: Vec<String> = items
        .into_iter()
        .map(|i| match i {
            Value::String(text) => text,
            other => other.to_string(),
        })
        .collect();
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = doc.get("apiVersion").and_then(Value::as_str);
    let list = Items {
        kind,
        api_version,
        parse: live::parse,
        compact: true,
    };
    out.extend(list.objects(texts, file)?);
    Ok(())
}

/// The documents of one file's `text`, the items under each one's root `items` key as their
/// compact JSON text ([`compact_item`]): a `.json` file through the JSON parser alone, so that
/// a truncated one is reported as JSON with the line and column; other files holding a JSON
/// object through the JSON parser too (much faster), and anything else as YAML, each item made
/// compact as soon as it is read.
fn parse_file(file: &Path, text: &str, json_name: bool) -> Result<Vec<Value>, DriftError> {
    let compact_items = |doc| yaml::fast::map_root_items(Some(&compact_item), doc);
    if json_name {
        return serde_json::from_str::<Value>(text)
            .map(|value| vec![compact_items(value)])
            .map_err(|source| DriftError::Json {
                path: file.display().to_string(),
                source,
            });
    }
    if text.trim_start().starts_with('{')
        && let Ok(value) = serde_json::from_str::<Value>(text)
    {
        return Ok(vec![compact_items(value)]);
    }
    yaml::from_str_multi_mapping_items(text, &compact_item).map_err(|message| DriftError::Yaml {
        path: file.display().to_string(),
        message,
    })
}

/// A cloud snapshot file (JSON), read up to `limit` bytes and parsed; the error names the file
/// and, for bad JSON, the line and column, never the content.
pub(crate) fn read_json(file: &Path, limit: u64) -> Result<Value, DriftError> {
    let text = read_bounded(file, limit)?;
    serde_json::from_str(&text).map_err(|e| {
        invalid_file(
            file,
            format!(
                "is not valid JSON ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            ),
        )
    })
}

/// The error of a cloud snapshot `file` whose content is not what it should be.
pub(crate) fn invalid_file(file: &Path, message: String) -> DriftError {
    DriftError::Invalid {
        path: format!("`{}`", file.display()),
        message,
    }
}

/// A snapshot file's text: a regular file (checked before it is opened, as opening a FIFO
/// blocks), at most `limit` bytes by its metadata and by what is actually read.
pub(crate) fn read_bounded(file: &Path, limit: u64) -> Result<String, DriftError> {
    let io = |source| DriftError::Io {
        path: file.display().to_string(),
        source,
    };
    let meta = fs_err::metadata(file).map_err(io)?;
    if !meta.is_file() {
        return Err(not_regular(file, &meta));
    }
    let too_large = |size: u64| DriftError::Invalid {
        path: file.display().to_string(),
        message: format!(
            "the snapshot file is larger ({size} bytes) than the limit of {limit} bytes (raise it with `--max-snapshot-file-mib`)"
        ),
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let handle = open_regular(file)
        .map_err(io)?
        .ok_or_else(|| DriftError::Invalid {
            path: file.display().to_string(),
            message: "is no longer a regular file (it was replaced while being read); snapshots are read from regular files only".to_owned(),
        })?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    handle
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| DriftError::Invalid {
        path: file.display().to_string(),
        message: "the snapshot file is not UTF-8 text".to_owned(),
    })
}

/// Opens `path` for reading without ever blocking in `open` (on Unix with `O_NONBLOCK`, so a
/// FIFO swapped in after a metadata check does not wait for a writer) and returns it only if
/// the opened file is a regular file (checked on the handle, not the path); `None` otherwise.
pub(crate) fn open_regular(path: &Path) -> std::io::Result<Option<std::fs::File>> {
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.custom_flags(libc::O_NONBLOCK);
    }
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Ok(None);
    }
    // Reads of a regular file never block; the flag only mattered for `open`.
    Ok(Some(file))
}

/// The error for a path that is neither a regular file nor a folder.
fn not_regular(path: &Path, meta: &std::fs::Metadata) -> DriftError {
    DriftError::Invalid {
        path: path.display().to_string(),
        message: format!(
            "is a {}, not a regular file; snapshots are read from regular files only",
            file_kind(meta)
        ),
    }
}

/// `FIFO`, `socket`, `device`, ... for messages.
fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        let t = meta.file_type();
        if t.is_fifo() {
            return "FIFO";
        }
        if t.is_socket() {
            return "socket";
        }
        if t.is_block_device() || t.is_char_device() {
            return "device";
        }
    }
    if meta.is_dir() {
        "folder"
    } else if meta.file_type().is_symlink() {
        "symlink"
    } else {
        "special file"
    }
}

/// The snapshot files under `path`: the path itself when it is a regular file (a symlink to
/// one included), else the `.yaml`/`.yml`/`.json` files of the folder, recursively. Refused,
/// naming the path: a snapshot path that is neither file nor folder, and in a folder any entry
/// with a snapshot file name that is not a regular file, and any symlink that does not point
/// at a regular file (a symlinked folder could make a loop).
fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), DriftError> {
    let meta = fs_err::metadata(path).map_err(|source| DriftError::Io {
        path: path.display().to_string(),
        source,
    })?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    if !meta.is_dir() {
        return Err(not_regular(path, &meta));
    }
    walk(path, out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), DriftError> {
    let io = |path: &Path, source| DriftError::Io {
        path: path.display().to_string(),
        source,
    };
    let entries = fs_err::read_dir(dir).map_err(|e| io(dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let child = entry.path();
        let own = fs_err::symlink_metadata(&child).map_err(|e| io(&child, e))?;
        let wanted = EXTENSIONS.iter().any(|ext| name.ends_with(ext));
        if own.is_dir() {
            walk(&child, out)?;
        } else if own.file_type().is_symlink() {
            let target = fs_err::metadata(&child).map_err(|e| io(&child, e))?;
            if target.is_file() {
                if wanted {
                    out.push(child);
                }
            } else {
                return Err(DriftError::Invalid {
                    path: child.display().to_string(),
                    message: format!(
                        "is a symlink to a {}; in a snapshot folder only symlinks to regular files are followed",
                        file_kind(&target)
                    ),
                });
            }
        } else if !own.is_file() {
            if wanted {
                return Err(not_regular(&child, &own));
            }
        } else if wanted {
            out.push(child);
        }
    }
    Ok(())
}

/// `doc` as objects, each with its compact text: itself, or the items of a `List` or typed
/// list (`PodList`), whose items may omit `apiVersion` and `kind`. A kustomization beside the
/// objects (a rendered folder used as a snapshot) is not live and gives none. Each item's
/// [`Value`] is dropped once its text is made, so a large list is held once, as text.
fn flatten(
    mut doc: Value,
    file: &Path,
    out: &mut Vec<(ObjectRef, Box<str>)>,
) -> Result<(), DriftError> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = doc.get("apiVersion").and_then(Value::as_str);
    if api_version.is_some_and(is_kustomize) {
        return Ok(());
    }
    if !(kind == "List" || (kind.ends_with("List") && doc.get("items").is_some())) {
        let key = ObjectRef::of(&doc).ok_or_else(|| DriftError::Invalid {
            path: file.display().to_string(),
            message: format!(
                "an object lacks `apiVersion`, `kind` or `metadata.name` (kind `{kind}`)"
            ),
        })?;
        out.push((key, live::compact(&doc)));
        return Ok(());
    }
    let kind = kind.to_owned();
    let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
    let api_version = api_version.map(str::to_owned);
    let Some(Value::Array(items)) = doc.get_mut("items").map(Value::take) else {
        return Err(DriftError::Invalid {
            path: file.display().to_string(),
            message: format!("`{kind}` has no `items` list"),
        });
    };
    for mut item in items {
        fill_item(&mut item, item_kind, api_version.as_deref());
        flatten(item, file, out)?;
    }
    Ok(())
}

/// The `kind` (`Pod` of a `PodList`) and `apiVersion` of its list, for an item that omits them.
fn fill_item(item: &mut Value, item_kind: Option<&str>, api_version: Option<&str>) {
    if let (Some(k), Some(obj)) = (item_kind, item.as_object_mut()) {
        obj.entry("kind")
            .or_insert_with(|| Value::String(k.to_owned()));
        if let Some(v) = api_version {
            obj.entry("apiVersion")
                .or_insert_with(|| Value::String(v.to_owned()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::chain;

    /// A ConfigMap `a` without a namespace.
    const CONFIG_MAP: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";

    /// A temporary folder holding `files` (relative path, content).
    fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let path = dir.path().join(name);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, text).unwrap();
        }
        dir
    }

    /// A FIFO put in place after the metadata check (a race a test cannot time) must not block
    /// the open: [`open_regular`] refuses it on the handle instead.
    #[cfg(unix)]
    #[test]
    fn open_regular_never_blocks_on_a_fifo() {
        let dir = folder(&[("a.yaml", "a: 1\n")]);
        let fifo = dir.path().join("live.yaml");
        mkfifo(&fifo);
        assert!(open_regular(&fifo).unwrap().is_none());
        assert!(open_regular(&dir.path().join("a.yaml")).unwrap().is_some());
    }

    #[test]
    fn reads_lists_typed_lists_and_multi_docs() {
        let dir = folder(&[
            (
                "a.yaml",
                "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a, namespace: ns}\n",
            ),
            (
                "sub/b.yml",
                "apiVersion: v1\nkind: ServiceList\nitems:\n- metadata: {name: s, namespace: ns}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}\n",
            ),
            ("notes.txt", "not yaml: ["),
        ]);
        let wanted = [KindRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("ns".into()),
        }];
        let live = load(dir.path(), &wanted).unwrap();
        let keys: Vec<String> = live.objects.keys().map(ToString::to_string).collect();
        assert_eq!(
            keys,
            ["ConfigMap/ns/a", "Service/ns/s", "Deployment.apps/ns/d"]
        );
        assert!(
            live.listed
                .contains(&(String::new(), "ConfigMap".into(), Some("ns".into())))
        );
    }

    #[test]
    fn bad_files_name_the_path() {
        let dir = folder(&[("bad.yaml", "kind: ConfigMap\nmetadata: {}\n")]);
        let err = load(dir.path(), &[]).unwrap_err();
        assert!(err.to_string().contains("bad.yaml"), "{err}");
    }

    #[test]
    fn files_over_the_limit_are_refused_by_their_size() {
        let dir = folder(&[("big.yaml", CONFIG_MAP)]);
        let mut desired = Vec::new();
        let bounded = |max_file_bytes| ReadOptions {
            max_file_bytes,
            allow_empty: false,
        };
        let err = load_for_with(dir.path(), &mut desired, None, &bounded(10)).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("big.yaml") && text.contains("limit of 10 bytes"),
            "{text}"
        );
        assert!(text.contains("--max-snapshot-file-mib"), "{text}");
        assert!(load_for_with(dir.path(), &mut desired, None, &bounded(1024)).is_ok());
    }

    /// A file whose metadata understates its size (as `/proc` files do, or a file that grows
    /// while read) is still caught by the bounded read.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_read_itself_is_bounded() {
        let path = Path::new("/proc/self/status");
        assert_eq!(fs_err::metadata(path).unwrap().len(), 0);
        let err = read_bounded(path, 16).unwrap_err();
        assert!(err.to_string().contains("limit of 16 bytes"), "{err}");
    }

    /// A ConfigMap `a` in `ns` with `data.k` set to `value`, as a YAML document.
    fn config_map(value: &str) -> String {
        format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, namespace: ns}}\ndata: {{k: {value}}}\n"
        )
    }

    fn read_default(path: &Path) -> Result<Snapshot, DriftError> {
        read(path, &ReadOptions::default())
    }

    /// The same object as a document, as a `List` item in another file and as JSON: read once,
    /// each file counting what it held.
    #[test]
    fn identical_copies_are_read_once() {
        let item = config_map("v").replace('\n', "\n  ");
        let dir = folder(&[
            (
                "a.yaml",
                &format!("{}---\n{}", config_map("v"), config_map("v")),
            ),
            (
                "b.yaml",
                &format!("apiVersion: v1\nkind: List\nitems:\n- {item}\n"),
            ),
            (
                "c.json",
                r#"{"kind": "ConfigMap", "apiVersion": "v1", "data": {"k": "v"}, "metadata": {"namespace": "ns", "name": "a"}}"#,
            ),
        ]);
        let snapshot = read_default(dir.path()).unwrap();
        assert_eq!(snapshot.live.objects.len(), 1);
        let counts: Vec<(usize, usize)> = snapshot
            .files
            .iter()
            .map(|f| (f.objects, f.copies))
            .collect();
        assert_eq!(counts, [(2, 1), (1, 1), (1, 1)]);
    }

    /// Of several conflicts, the one read first is reported (objects are merged in key order),
    /// and a conflict in the files before an unreadable one wins over it, as when files were
    /// merged one by one.
    #[test]
    fn the_first_conflict_read_is_the_error() {
        let named = |name: &str, value: &str| {
            config_map(value).replace("name: a", &format!("name: {name}"))
        };
        let a = format!("{}---\n{}", named("p", "1"), named("q", "1"));
        let b = format!("{}---\n{}", named("q", "2"), named("p", "2"));
        let dir = folder(&[("a.yaml", &a), ("b.yaml", &b), ("c.yaml", "a: [\n")]);
        let text = read_default(dir.path()).unwrap_err().to_string();
        assert!(
            text.contains("`ConfigMap/ns/q` is in the snapshot twice"),
            "{text}"
        );
        let dir = folder(&[("a.yaml", &a), ("b.yaml", "a: [\n"), ("c.yaml", &b)]);
        let text = read_default(dir.path()).unwrap_err().to_string();
        assert!(text.contains("b.yaml"), "{text}");
    }

    #[test]
    fn differing_copies_are_an_error_naming_both_files() {
        let dir = folder(&[("a.yaml", &config_map("v")), ("b.yaml", &config_map("w"))]);
        let err = read_default(dir.path()).unwrap_err();
        assert!(matches!(err, DriftError::Duplicate { .. }), "{err:?}");
        let text = err.to_string();
        for needle in [
            "`ConfigMap/ns/a` is in the snapshot twice with different content",
            "a.yaml` and in `",
            "b.yaml`",
            "first differ at `/data/k`",
        ] {
            assert!(text.contains(needle), "`{needle}` not in {text}");
        }
        // No value is quoted: either copy may be a secret.
        assert!(!text.contains("`w`") && !text.contains(": w"), "{text}");
        // In one file, whatever the order of the documents.
        let dir = folder(&[(
            "one.yaml",
            &format!("{}---\n{}", config_map("w"), config_map("v")),
        )]);
        let text = read_default(dir.path()).unwrap_err().to_string();
        assert!(
            text.contains("both in `") && text.contains("one.yaml`"),
            "{text}"
        );
    }

    /// A `List` reads the same from JSON (its items parsed one by one from the text) as from
    /// YAML (each item kept as compact text as soon as read): a typed list whose `kind` comes
    /// after its items, items that omit `kind` and `apiVersion` or name them, a `List` nested
    /// in it, and a document with `items` that is no list.
    #[test]
    fn lists_read_the_same_from_json_and_yaml() {
        let list = serde_json::json!({
            "apiVersion": "v1",
            "items": [
                {"metadata": {"name": "s", "namespace": "ns"}, "spec": {"ports": [{"port": 80}]}},
                {"apiVersion": "v1", "kind": "List", "items": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "ns"}}
                ]},
                {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "t", "namespace": "ns"}}
            ],
            "kind": "ServiceList"
        });
        let widget = serde_json::json!({"apiVersion": "example.com/v1", "kind": "Widget",
            "metadata": {"name": "w"}, "items": [{"a": 1}, "b"]});
        let json = format!("{}\n", serde_json::to_string_pretty(&list).unwrap());
        let yaml = format!(
            "{}---\n{}",
            yaml::to_string(&list),
            yaml::to_string(&widget)
        );
        let dir = folder(&[("list.json", &json), ("widget.json", &widget.to_string())]);
        let from_json = read_default(dir.path()).unwrap().live;
        let dir = folder(&[("all.yaml", &yaml)]);
        let from_yaml = read_default(dir.path()).unwrap().live;
        assert_eq!(from_json, from_yaml);
        let keys: Vec<String> = from_json.objects.keys().map(ToString::to_string).collect();
        assert_eq!(
            keys,
            [
                "ConfigMap/ns/c",
                "Secret/ns/t",
                "Service/ns/s",
                "Widget.example.com/w"
            ]
        );
        let service = &from_json.objects[&ObjectRef::new("v1", "Service", Some("ns"), "s")];
        assert_eq!(service["spec"]["ports"][0]["port"], 80);
        let widget_read =
            &from_json.objects[&ObjectRef::new("example.com/v1", "Widget", None, "w")];
        assert_eq!(*widget_read, widget);
    }

    /// Copies equal as values are one object, even when their compact texts differ (`0.0` and
    /// `-0.0` are one number).
    #[test]
    fn copies_equal_as_values_are_read_once() {
        let copy = |zero: &str| {
            format!(
                r#"{{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {{"name": "a", "namespace": "ns"}}, "x": {zero}}}"#
            )
        };
        let dir = folder(&[("a.json", &copy("0.0")), ("b.json", &copy("-0.0"))]);
        let snapshot = read_default(dir.path()).unwrap();
        assert_eq!(snapshot.live.objects.len(), 1);
        let counts: Vec<(usize, usize)> = snapshot
            .files
            .iter()
            .map(|f| (f.objects, f.copies))
            .collect();
        assert_eq!(counts, [(1, 0), (1, 1)]);
    }

    /// An empty file, a file of blank lines, a folder without snapshot files and an empty
    /// `List` hold no objects: refused unless allowed.
    #[test]
    fn empty_snapshots_are_refused_unless_allowed() {
        let files = folder(&[
            ("empty.yaml", ""),
            ("blank.json", "\n  \n"),
            ("list.yaml", "apiVersion: v1\nitems: []\nkind: List\n"),
        ]);
        let no_files = folder(&[("notes.txt", "nothing")]);
        for path in [
            files.path().join("empty.yaml"),
            files.path().join("blank.json"),
            files.path().join("list.yaml"),
            files.path().to_path_buf(),
            no_files.path().to_path_buf(),
        ] {
            let err = read_default(&path).unwrap_err();
            assert!(
                matches!(&err, DriftError::EmptySnapshot { path: p, .. } if *p == path.display().to_string()),
                "{err:?}"
            );
            assert!(err.to_string().contains("holds no objects"), "{err}");
            let allowed = ReadOptions {
                allow_empty: true,
                ..ReadOptions::default()
            };
            let snapshot = read(&path, &allowed).unwrap();
            assert!(snapshot.live.objects.is_empty());
            assert!(snapshot.files.iter().all(|f| f.objects == 0));
        }
        let err = read_default(no_files.path()).unwrap_err().to_string();
        assert!(err.contains("(0 snapshot file(s) read)"), "{err}");
    }

    /// A truncated `.json` file is reported by the JSON parser, with its line and column.
    #[test]
    fn truncated_json_is_reported_as_json() {
        let dir = folder(&[(
            "live.json",
            "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \"ConfigMap\",\n  \"metadata\": {\"na",
        )]);
        let err = read_default(dir.path()).unwrap_err();
        assert!(matches!(err, DriftError::Json { .. }), "{err:?}");
        let text = chain(&err);
        assert!(text.contains("live.json` is not valid JSON"), "{text}");
        assert!(text.contains("line 4 column"), "{text}");
    }

    #[cfg(unix)]
    fn mkfifo(path: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap()
            .success();
        assert!(ok);
    }

    #[cfg(unix)]
    #[test]
    fn fifos_and_devices_are_refused_not_read() {
        let dir = folder(&[("a.yaml", CONFIG_MAP)]);
        let fifo = dir.path().join("live.yaml");
        mkfifo(&fifo);
        let err = load(dir.path(), &[]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("live.yaml") && text.contains("FIFO"),
            "{text}"
        );
        // The snapshot path itself.
        let err = load(&fifo, &[]).unwrap_err();
        assert!(err.to_string().contains("FIFO"), "{err}");
        // A FIFO without a snapshot file name is not a snapshot file: ignored like `notes.txt`.
        fs_err::remove_file(&fifo).unwrap();
        mkfifo(&dir.path().join("pipe"));
        assert_eq!(load(dir.path(), &[]).unwrap().objects.len(), 1);
        // A device, through a symlink with a snapshot file name.
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
        let err = load(dir.path(), &[]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("zero.yaml") && text.contains("device"),
            "{text}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_only_to_regular_files() {
        let dir = tempfile::tempdir().unwrap();
        let outside = folder(&[(
            "cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: linked, namespace: ns}\n",
        )]);
        let target = outside.path().join("cm.yaml");
        std::os::unix::fs::symlink(&target, dir.path().join("cm.yaml")).unwrap();
        let live = load(dir.path(), &[]).unwrap();
        assert_eq!(live.objects.len(), 1);
        // A symlinked folder could loop back on itself: refused, named.
        std::os::unix::fs::symlink(dir.path(), dir.path().join("again")).unwrap();
        let err = load(dir.path(), &[]).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("again") && text.contains("symlink to a folder"),
            "{text}"
        );
    }
}
