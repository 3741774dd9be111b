//! Where a platform repository's files come from: a folder on disk or a set of files held in
//! memory (a git revision, the built-in baseline). Every path is repository-relative,
//! confined to the repository (no `..`, no absolute paths, no symlink leading out) and every
//! read is bounded in size.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{RenderError, Result};

/// The files of one platform repository (or of the built-in baseline).
#[derive(Debug, Clone)]
pub enum Source {
    /// A folder on disk; `root` is canonical.
    Dir { root: PathBuf },
    /// Files held in memory, keyed by normalised relative path.
    Memory {
        files: Arc<BTreeMap<String, Vec<u8>>>,
    },
}

/// Normalises a repository-relative path: `./a//b` -> `a/b`; refuses absolute paths and `..`.
pub fn normalize(path: &str) -> Result<String> {
    if path.starts_with('/') || path.starts_with('\\') || Path::new(path).is_absolute() {
        return Err(RenderError::PathEscape {
            path: path.to_owned(),
            reason: "is absolute; paths must be relative to the repository",
        });
    }
    let mut parts = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => {
                return Err(RenderError::PathEscape {
                    path: path.to_owned(),
                    reason: "contains `..`; paths must stay inside the repository",
                });
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Err(RenderError::PathEscape {
            path: path.to_owned(),
            reason: "names the repository root, not a file or folder inside it",
        });
    }
    Ok(parts.join("/"))
}

/// Joins a relative path onto the folder of `base` (a file path), then normalises it.
pub fn join_beside(base: &str, rel: &str) -> Result<String> {
    let dir = base.rsplit_once('/').map_or("", |(d, _)| d);
    if rel.starts_with('/') {
        return normalize(rel);
    }
    let joined = if dir.is_empty() {
        rel.to_owned()
    } else {
        format!("{dir}/{rel}")
    };
    normalize(&joined).map_err(|err| match err {
        RenderError::PathEscape { reason, .. } => RenderError::PathEscape {
            path: rel.to_owned(),
            reason,
        },
        other => other,
    })
}

impl Source {
    /// A folder on disk. The folder must exist.
    pub fn dir(root: impl AsRef<Path>) -> Result<Self> {
        let root = root.as_ref();
        let canonical = fs_err::canonicalize(root).map_err(|source| RenderError::Io {
            path: root.display().to_string(),
            source,
        })?;
        Ok(Self::Dir { root: canonical })
    }

    /// Files held in memory.
    pub fn memory(files: BTreeMap<String, Vec<u8>>) -> Self {
        Self::Memory {
            files: Arc::new(files),
        }
    }

    /// The on-disk root, when there is one.
    pub fn root(&self) -> Option<&Path> {
        match self {
            Self::Dir { root } => Some(root),
            Self::Memory { .. } => None,
        }
    }

    fn resolve(root: &Path, rel: &str) -> Result<Option<PathBuf>> {
        let path = root.join(rel);
        match fs_err::canonicalize(&path) {
            Ok(canonical) if canonical.starts_with(root) => Ok(Some(canonical)),
            Ok(_) => Err(RenderError::PathEscape {
                path: rel.to_owned(),
                reason: "is a symlink that leads outside the repository",
            }),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                // A dangling symlink is reported as missing; a link whose target is outside
                // is refused above only when the target exists.
                Ok(None)
            }
            Err(source) => Err(RenderError::Io {
                path: rel.to_owned(),
                source,
            }),
        }
    }

    /// Whether `rel` names a file.
    pub fn is_file(&self, rel: &str) -> Result<bool> {
        let rel = normalize(rel)?;
        match self {
            Self::Dir { root } => Ok(Self::resolve(root, &rel)?.is_some_and(|p| p.is_file())),
            Self::Memory { files } => Ok(files.contains_key(&rel)),
        }
    }

    /// Reads a file, refusing files larger than `limit` bytes.
    pub fn read(&self, rel: &str, limit: u64) -> Result<Vec<u8>> {
        let rel = normalize(rel)?;
        match self {
            Self::Dir { root } => {
                let Some(file) = Self::resolve(root, &rel)? else {
                    return Err(RenderError::Io {
                        path: rel,
                        source: std::io::Error::from(std::io::ErrorKind::NotFound),
                    });
                };
                let io = |source| RenderError::Io {
                    path: rel.clone(),
                    source,
                };
                // A FIFO or a device would block or never end: only regular files are read.
                if !fs_err::metadata(&file).map_err(io)?.is_file() {
                    return Err(RenderError::Invalid {
                        path: format!("`{rel}`"),
                        message: "is not a regular file".into(),
                    });
                }
                let file = fs_err::File::open(&file).map_err(io)?;
                let size = file.metadata().map_err(io)?.len();
                if size > limit {
                    return Err(RenderError::TooLarge {
                        path: rel,
                        size,
                        limit,
                    });
                }
                let mut buf = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
                // Read one byte past the limit so a file that grows while read is still caught.
                file.take(limit + 1).read_to_end(&mut buf).map_err(io)?;
                if buf.len() as u64 > limit {
                    return Err(RenderError::TooLarge {
                        path: rel,
                        size: buf.len() as u64,
                        limit,
                    });
                }
                Ok(buf)
            }
            Self::Memory { files } => {
                let data = files.get(&rel).ok_or_else(|| RenderError::Io {
                    path: rel.clone(),
                    source: std::io::Error::from(std::io::ErrorKind::NotFound),
                })?;
                if data.len() as u64 > limit {
                    return Err(RenderError::TooLarge {
                        path: rel,
                        size: data.len() as u64,
                        limit,
                    });
                }
                Ok(data.clone())
            }
        }
    }

    /// Reads a UTF-8 text file, bounded like [`Source::read`].
    pub fn read_text(&self, rel: &str, limit: u64) -> Result<String> {
        let bytes = self.read(rel, limit)?;
        String::from_utf8(bytes).map_err(|_| RenderError::NotUtf8 {
            path: normalize(rel).unwrap_or_else(|_| rel.to_owned()),
        })
    }

    /// Every file below folder `rel` (recursively, hidden entries skipped), sorted; `""` is the
    /// whole source.
    pub fn files_under(&self, rel: &str) -> Result<Vec<String>> {
        let rel = if rel.is_empty() {
            String::new()
        } else {
            normalize(rel)?
        };
        match self {
            Self::Dir { root } => {
                let mut out = Vec::new();
                let start = if rel.is_empty() {
                    Some(root.clone())
                } else {
                    Self::resolve(root, &rel)?
                };
                let Some(start) = start else {
                    return Ok(out);
                };
                let mut stack = vec![(start, rel.clone())];
                while let Some((dir, shown)) = stack.pop() {
                    if !dir.is_dir() {
                        continue;
                    }
                    let io = |source| RenderError::Io {
                        path: shown.clone(),
                        source,
                    };
                    for entry in fs_err::read_dir(&dir).map_err(io)? {
                        let entry = entry.map_err(io)?;
                        // No path plinth reads can name it (paths are UTF-8), so it is no input.
                        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                            continue;
                        };
                        if name.starts_with('.') {
                            continue;
                        }
                        let child = if shown.is_empty() {
                            name
                        } else {
                            format!("{shown}/{name}")
                        };
                        let kind = entry.file_type().map_err(io)?;
                        if kind.is_symlink() && entry.path().is_dir() {
                            return Err(symlinked_folder(&child));
                        }
                        if kind.is_dir() {
                            stack.push((entry.path(), child));
                        } else if kind.is_file() || kind.is_symlink() {
                            out.push(child);
                        }
                    }
                }
                out.sort();
                Ok(out)
            }
            Self::Memory { files } => {
                let prefix = if rel.is_empty() {
                    String::new()
                } else {
                    format!("{rel}/")
                };
                Ok(files
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .map(|(k, _)| k.clone())
                    .filter(|k| !k.split('/').any(|p| p.starts_with('.')))
                    .collect())
            }
        }
    }

    /// The names of the sub-folders of `rel`, sorted; empty when `rel` does not exist.
    pub fn subdirs(&self, rel: &str) -> Result<Vec<String>> {
        let rel = normalize(rel)?;
        match self {
            Self::Dir { root } => {
                let Some(dir) = Self::resolve(root, &rel)? else {
                    return Ok(Vec::new());
                };
                if !dir.is_dir() {
                    return Ok(Vec::new());
                }
                let io = |source| RenderError::Io {
                    path: rel.clone(),
                    source,
                };
                let mut names = Vec::new();
                for entry in fs_err::read_dir(&dir).map_err(io)? {
                    let entry = entry.map_err(io)?;
                    let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                        // Never dropped silently: a cluster would vanish from the fleet.
                        return Err(not_utf8_name(&rel, &entry.file_name()));
                    };
                    if name.starts_with('.') {
                        continue;
                    }
                    let kind = entry.file_type().map_err(io)?;
                    // A symlink is never followed to a folder, and never skipped silently
                    // either: a symlinked cluster folder would vanish from the fleet.
                    if kind.is_symlink() && !entry.path().is_file() {
                        return Err(symlinked_folder(&format!("{rel}/{name}")));
                    }
                    if kind.is_dir() {
                        names.push(name);
                    }
                }
                names.sort();
                Ok(names)
            }
            Self::Memory { files } => {
                let prefix = format!("{rel}/");
                let mut names: Vec<String> = files
                    .range(prefix.clone()..)
                    .take_while(|(k, _)| k.starts_with(&prefix))
                    .filter_map(|(k, _)| {
                        let rest = &k[prefix.len()..];
                        rest.split_once('/').map(|(d, _)| d.to_owned())
                    })
                    .filter(|d| !d.starts_with('.'))
                    .collect();
                names.dedup();
                Ok(names)
            }
        }
    }
}

/// A folder whose name is not UTF-8: refused with its name (lossily shown), never skipped, so
/// no cluster silently drops out of the fleet.
fn not_utf8_name(dir: &str, name: &std::ffi::OsStr) -> RenderError {
    let name = name.to_string_lossy();
    RenderError::Invalid {
        path: if dir.is_empty() {
            format!("`{name}`")
        } else {
            format!("`{dir}/{name}`")
        },
        message: "has a name that is not UTF-8; plinth reads only UTF-8 names: rename it".into(),
    }
}

fn symlinked_folder(rel: &str) -> RenderError {
    RenderError::Invalid {
        path: format!("`{rel}`"),
        message: "is a symlink to a folder (or a dangling one); plinth follows no symlinked \
                  folders: replace it with the folder itself"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(target_os = "linux")]
    #[test]
    fn names_that_are_not_utf8_are_refused_never_skipped() {
        use std::os::unix::ffi::OsStrExt as _;
        let repo = tempfile::tempdir().unwrap();
        let odd = std::ffi::OsStr::from_bytes(b"gpu-\xff");
        fs_err::create_dir_all(repo.path().join("clusters/a")).unwrap();
        fs_err::create_dir_all(repo.path().join("clusters").join(odd)).unwrap();
        let source = Source::dir(repo.path()).unwrap();
        let err = source.subdirs("clusters").unwrap_err().to_string();
        assert!(
            err.contains("clusters/gpu-") && err.contains("not UTF-8"),
            "{err}"
        );
    }

    #[test]
    fn normalize_refuses_escapes() {
        assert_eq!(normalize("./a//b/./c").unwrap(), "a/b/c");
        assert!(normalize("../x").is_err());
        assert!(normalize("a/../../x").is_err());
        assert!(normalize("/etc/passwd").is_err());
        assert!(normalize("").is_err());
    }

    #[test]
    fn join_beside_uses_the_folder_of_the_base() {
        assert_eq!(
            join_beside("assets/metadata.yaml", "hco/a.yaml.j2").unwrap(),
            "assets/hco/a.yaml.j2"
        );
        assert!(join_beside("assets/metadata.yaml", "../../secret").is_err());
    }

    #[test]
    fn memory_subdirs_are_sorted_and_unique() {
        let mut files = BTreeMap::new();
        for f in [
            "clusters/b/cluster.yaml",
            "clusters/a/cluster.yaml",
            "clusters/a/inventory.yaml",
        ] {
            files.insert(f.to_owned(), Vec::new());
        }
        let src = Source::memory(files);
        assert_eq!(src.subdirs("clusters").unwrap(), vec!["a", "b"]);
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_leading_out_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        fs_err::write(outside.path().join("secret"), "x").unwrap();
        let repo = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path().join("secret"), repo.path().join("link"))
            .unwrap();
        let src = Source::dir(repo.path()).unwrap();
        let err = src.read("link", 100).unwrap_err();
        assert!(err.to_string().contains("outside the repository"), "{err}");
    }

    #[test]
    fn oversized_files_are_refused_with_their_size() {
        let repo = tempfile::tempdir().unwrap();
        fs_err::write(repo.path().join("big"), vec![b'a'; 2000]).unwrap();
        let src = Source::dir(repo.path()).unwrap();
        let err = src.read("big", 1000).unwrap_err();
        assert!(err.to_string().contains("2000 bytes"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn symlinked_folders_are_refused_by_name_not_skipped() {
        let repo = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(repo.path().join("real/a")).unwrap();
        fs_err::write(repo.path().join("real/a/cluster.yaml"), "x").unwrap();
        fs_err::create_dir_all(repo.path().join("clusters/b")).unwrap();
        std::os::unix::fs::symlink(repo.path().join("real/a"), repo.path().join("clusters/a"))
            .unwrap();
        let src = Source::dir(repo.path()).unwrap();
        let err = src.subdirs("clusters").unwrap_err().to_string();
        assert!(
            err.contains("`clusters/a`") && err.contains("symlink"),
            "{err}"
        );
        let err = src.files_under("clusters").unwrap_err().to_string();
        assert!(
            err.contains("`clusters/a`") && err.contains("symlink"),
            "{err}"
        );
        // A dangling one is refused too; a symlink to a file inside the repository is fine.
        fs_err::remove_file(repo.path().join("clusters/a")).unwrap();
        std::os::unix::fs::symlink(repo.path().join("gone"), repo.path().join("clusters/a"))
            .unwrap();
        assert!(src.subdirs("clusters").is_err());
        fs_err::remove_file(repo.path().join("clusters/a")).unwrap();
        std::os::unix::fs::symlink(
            repo.path().join("real/a/cluster.yaml"),
            repo.path().join("clusters/note"),
        )
        .unwrap();
        assert_eq!(src.subdirs("clusters").unwrap(), ["b"]);
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_not_read() {
        let repo = tempfile::tempdir().unwrap();
        let fifo = repo.path().join("pipe");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            return;
        }
        let src = Source::dir(repo.path()).unwrap();
        let err = src.read("pipe", 100).unwrap_err().to_string();
        assert!(err.contains("not a regular file"), "{err}");
    }
}
