//! Live state from a snapshot: files or folders as `kubectl get -o yaml` writes them (single
//! objects, multi-document files, `kind: List` or `*List` with `items`), YAML or JSON.
//!
//! Reads are bounded: a file's size is checked from its metadata before it is opened, and the
//! read itself stops one byte past the limit, so a file that grows meanwhile is caught too. Only
//! regular files are read: a FIFO, socket or device (as the snapshot path or with a snapshot
//! file name in a folder) is refused, naming the path, instead of blocking forever. A symlink
//! inside a folder is followed only when it points at a regular file; one that points at a
//! folder (a possible loop) or anything else is refused.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use plinth_vocab::yaml;

use crate::core::desired::DesiredObject;
use crate::core::live::{KindRef, LiveSet};
use crate::core::scope::Placement;
use crate::error::DriftError;
use plinth_vocab::{ObjectRef, group_of};

/// The largest snapshot file read by default: 256 MiB (`kubectl get -A -o yaml` of a whole
/// cluster can be large; `--max-snapshot-file-mib` changes it).
pub const DEFAULT_MAX_FILE_BYTES: u64 = 256 * 1024 * 1024;

/// The file names a snapshot folder is read from.
const EXTENSIONS: [&str; 3] = [".yaml", ".yml", ".json"];

/// Reads a snapshot file or folder (recursively; `.yaml`, `.yml` and `.json` files, hidden
/// entries skipped), files up to [`DEFAULT_MAX_FILE_BYTES`]. Every (kind, namespace) in
/// `wanted` counts as listed: a snapshot is taken to hold everything that was live.
pub fn load(path: &Path, wanted: &[KindRef]) -> Result<LiveSet, DriftError> {
    let mut live = read(path, DEFAULT_MAX_FILE_BYTES)?;
    mark_listed(&mut live, wanted);
    Ok(live)
}

/// Reads a snapshot for the desired objects of a cluster: places them first (namespace
/// defaulting, [`Placement::from_snapshot`]: a namespaced object rendered without a namespace
/// is compared in `namespace`, else `default`), then counts their kinds and namespaces as
/// listed, as [`load`] does.
pub fn load_for(
    path: &Path,
    desired: &mut [DesiredObject],
    namespace: Option<&str>,
) -> Result<LiveSet, DriftError> {
    load_for_bounded(path, desired, namespace, DEFAULT_MAX_FILE_BYTES)
}

/// [`load_for`] with files of at most `max_file_bytes` each.
pub fn load_for_bounded(
    path: &Path,
    desired: &mut [DesiredObject],
    namespace: Option<&str>,
    max_file_bytes: u64,
) -> Result<LiveSet, DriftError> {
    let mut live = read(path, max_file_bytes)?;
    Placement::from_snapshot(&live, namespace).place(desired);
    mark_listed(&mut live, &crate::core::desired::kinds(desired));
    Ok(live)
}

/// Every object of a snapshot file or folder, nothing marked listed.
fn read(path: &Path, max_file_bytes: u64) -> Result<LiveSet, DriftError> {
    let mut files = Vec::new();
    collect(path, &mut files)?;
    files.sort();
    // Files parse independently: on every core, then merged in file order.
    let parsed: Vec<Result<Vec<Value>, DriftError>> = files
        .par_iter()
        .map(|f| parse_file(f, max_file_bytes))
        .collect();
    let mut live = LiveSet::default();
    for (file, docs) in files.iter().zip(parsed) {
        for doc in docs? {
            add(&mut live, doc, file)?;
        }
    }
    Ok(live)
}

fn mark_listed(live: &mut LiveSet, wanted: &[KindRef]) {
    for w in wanted {
        live.listed.insert((
            group_of(&w.api_version).to_owned(),
            w.kind.clone(),
            w.namespace.clone(),
        ));
    }
}

/// Parses snapshot text (one file's content) into `live`; `origin` names it in errors.
pub fn add_text(live: &mut LiveSet, text: &str, origin: &Path) -> Result<(), DriftError> {
    let docs = yaml::from_str_multi(text).map_err(|message| DriftError::Yaml {
        path: origin.display().to_string(),
        message,
    })?;
    for doc in docs {
        add(live, doc, origin)?;
    }
    Ok(())
}

/// The documents of one file: JSON (`kubectl get -o json`) through the JSON parser, which is
/// much faster, anything else as YAML.
fn parse_file(file: &Path, max_file_bytes: u64) -> Result<Vec<Value>, DriftError> {
    let text = read_bounded(file, max_file_bytes)?;
    if text.trim_start().starts_with('{')
        && let Ok(value) = serde_json::from_str::<Value>(&text)
    {
        return Ok(vec![value]);
    }
    yaml::from_str_multi(&text).map_err(|message| DriftError::Yaml {
        path: file.display().to_string(),
        message,
    })
}

/// A snapshot file's text: a regular file (checked before it is opened, as opening a FIFO
/// blocks), at most `limit` bytes by its metadata and by what is actually read.
fn read_bounded(file: &Path, limit: u64) -> Result<String, DriftError> {
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

fn add(live: &mut LiveSet, doc: Value, file: &Path) -> Result<(), DriftError> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = doc
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if api_version.starts_with("kustomize.config.k8s.io/") {
        // A kustomization beside the objects (a rendered folder used as a snapshot): not live.
        return Ok(());
    }
    if kind == "List" || (kind.ends_with("List") && doc.get("items").is_some()) {
        let Some(Value::Array(items)) = doc.get("items") else {
            return Err(DriftError::Invalid {
                path: file.display().to_string(),
                message: format!("`{kind}` has no `items` list"),
            });
        };
        // Items of a typed list (`PodList`) may omit apiVersion/kind.
        let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
        let api_version = doc.get("apiVersion").and_then(Value::as_str);
        for item in items {
            let mut item = item.clone();
            if let (Some(k), Some(obj)) = (item_kind, item.as_object_mut()) {
                obj.entry("kind")
                    .or_insert_with(|| Value::String(k.to_owned()));
                if let Some(v) = api_version {
                    obj.entry("apiVersion")
                        .or_insert_with(|| Value::String(v.to_owned()));
                }
            }
            add(live, item, file)?;
        }
        return Ok(());
    }
    let key = ObjectRef::of(&doc).ok_or_else(|| DriftError::Invalid {
        path: file.display().to_string(),
        message: format!("an object lacks `apiVersion`, `kind` or `metadata.name` (kind `{kind}`)"),
    })?;
    live.objects.insert(key, doc);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let err = load_for_bounded(dir.path(), &mut desired, None, 10).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("big.yaml") && text.contains("limit of 10 bytes"),
            "{text}"
        );
        assert!(text.contains("--max-snapshot-file-mib"), "{text}");
        assert!(load_for_bounded(dir.path(), &mut desired, None, 1024).is_ok());
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
