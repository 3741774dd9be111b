//! The platform repository as a git repository: revisions read straight from the object
//! database into a [`Source`] (no checkout; the working tree and index are never touched),
//! the dirty check, and hydrated commits built in memory and written to `refs/heads/NAME`
//! only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use git2::{FileMode, ObjectType, Oid, Repository, TreeWalkMode, TreeWalkResult};

use plinth_renderer::settings::{self, Settings};
use plinth_renderer::source::{self, Source};

/// What can go wrong reading or writing the git repository. Messages name the revision,
/// branch or path; the libgit2 cause sits in `source`.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("`{path}` is not inside a git repository")]
    NotARepository {
        path: String,
        #[source]
        source: git2::Error,
    },
    #[error("`{path}` is a bare git repository; this needs a working tree")]
    Bare { path: String },
    #[error("cannot resolve revision `{rev}`")]
    Resolve {
        rev: String,
        #[source]
        source: git2::Error,
    },
    #[error("revision `{rev}` has no folder `{prefix}` (the platform repository)")]
    NoPrefix { rev: String, prefix: String },
    #[error("revision `{rev}`: cannot read `{path}`")]
    Read {
        rev: String,
        path: String,
        #[source]
        source: git2::Error,
    },
    #[error(
        "revision `{rev}`: `{path}` is {size} bytes, more than the limit of {limit} bytes (`limits.maxFileBytes`)"
    )]
    TooLarge {
        rev: String,
        path: String,
        size: u64,
        limit: u64,
    },
    #[error("cannot read the status of the working tree")]
    Status {
        #[source]
        source: git2::Error,
    },
    #[error("`{name}` is not a valid branch name")]
    BadBranch { name: String },
    #[error(
        "branch `{name}` is checked out in the working tree; a hydrated branch must be a separate branch"
    )]
    CheckedOut { name: String },
    #[error("cannot write the hydrated commit on branch `{branch}`")]
    Write {
        branch: String,
        #[source]
        source: git2::Error,
    },
    #[error("cannot open the working tree `{path}`")]
    Worktree {
        path: String,
        #[source]
        source: Box<plinth_renderer::RenderError>,
    },
}

/// The repository-relative file a symlink at `link` pointing at `target` names, when it
/// stays inside the tree (`..` is resolved; absolute targets and escapes give `None`).
fn resolve_link(link: &str, target: &str) -> Option<String> {
    if target.starts_with('/') {
        return None;
    }
    let mut parts: Vec<&str> = link.split('/').collect();
    parts.pop();
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            other => parts.push(other),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// A resolved revision: what the user typed and the commit it names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// What the user typed (`origin/main`, `HEAD~1`, a sha).
    pub spec: String,
    /// The full commit id, 40 hex digits.
    pub id: String,
}

impl Revision {
    /// The first 7 hex digits of the commit id.
    pub fn short(&self) -> &str {
        &self.id[..7.min(self.id.len())]
    }
}

/// The result of [`GitRepo::commit_hydrated`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommitOutcome {
    /// A new commit was written and the branch moved to it.
    Created { id: String, parent: Option<String> },
    /// The rendered tree equals the branch tip's; nothing was written.
    Unchanged { tip: String },
}

/// A platform repository inside a git repository (possibly in a sub-folder of it).
pub struct GitRepo {
    repo: Repository,
    /// The platform repository folder, as given.
    dir: PathBuf,
    /// The platform repository's folder relative to the git root, `""` or `platform/`.
    prefix: String,
}

impl std::fmt::Debug for GitRepo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitRepo")
            .field("dir", &self.dir)
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn git_path(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => s.to_str().map(str::to_owned),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

impl GitRepo {
    /// Opens the git repository that contains `dir` (the platform repository folder).
    pub fn open(dir: &Path) -> Result<Self, GitError> {
        let repo = Repository::discover(dir).map_err(|source| GitError::NotARepository {
            path: dir.display().to_string(),
            source,
        })?;
        let prefix = match (repo.workdir(), fs_err::canonicalize(dir)) {
            (Some(workdir), Ok(real)) => {
                let workdir = fs_err::canonicalize(workdir).unwrap_or_else(|_| workdir.to_owned());
                real.strip_prefix(&workdir)
                    .map(git_path)
                    .unwrap_or_default()
            }
            _ => String::new(),
        };
        let prefix = if prefix.is_empty() {
            prefix
        } else {
            format!("{prefix}/")
        };
        Ok(Self {
            repo,
            dir: dir.to_owned(),
            prefix,
        })
    }

    /// The platform repository's folder relative to the git root (`""` at the root).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Resolves a revision (`origin/main`, a sha, `HEAD~1`, a tag) to a commit.
    pub fn resolve(&self, rev: &str) -> Result<Revision, GitError> {
        let commit = self
            .repo
            .revparse_single(rev)
            .and_then(|o| o.peel_to_commit())
            .map_err(|source| GitError::Resolve {
                rev: rev.to_owned(),
                source,
            })?;
        Ok(Revision {
            spec: rev.to_owned(),
            id: commit.id().to_string(),
        })
    }

    /// The summary line of a revision's commit message.
    pub fn summary(&self, rev: &Revision) -> Option<String> {
        let oid = Oid::from_str(&rev.id).ok()?;
        let commit = self.repo.find_commit(oid).ok()?;
        commit.summary().ok().flatten().map(str::to_owned)
    }

    /// The working tree of the platform repository as a source.
    pub fn worktree_source(&self) -> Result<Source, GitError> {
        Source::dir(&self.dir).map_err(|source| GitError::Worktree {
            path: self.dir.display().to_string(),
            source: Box::new(source),
        })
    }

    /// Reads the platform repository as it is at `rev` into memory: every file except the
    /// output folder (`paths.output` of that revision's `plinth.yaml`), hidden entries,
    /// submodules and files larger than `limits.maxFileBytes` outside the folders the
    /// renderer reads (an oversized file inside them is an error). Symlinks are followed
    /// when they point at another file of the revision.
    pub fn source_at(&self, rev: &Revision) -> Result<Source, GitError> {
        let read_err = |path: &str, source| GitError::Read {
            rev: rev.spec.clone(),
            path: path.to_owned(),
            source,
        };
        let oid = Oid::from_str(&rev.id).map_err(|e| read_err("", e))?;
        let commit = self.repo.find_commit(oid).map_err(|e| read_err("", e))?;
        let mut tree = commit.tree().map_err(|e| read_err("", e))?;
        if !self.prefix.is_empty() {
            let folder = self.prefix.trim_end_matches('/');
            let entry = tree
                .get_path(Path::new(folder))
                .map_err(|_| GitError::NoPrefix {
                    rev: rev.spec.clone(),
                    prefix: folder.to_owned(),
                })?;
            tree = entry
                .to_object(&self.repo)
                .and_then(|o| o.peel_to_tree())
                .map_err(|e| read_err(folder, e))?;
        }
        let odb = self.repo.odb().map_err(|e| read_err("", e))?;

        // The revision's own settings say where its output is and how large a file may be.
        let settings = match tree.get_path(Path::new(settings::FILE)) {
            Ok(entry) => {
                let blob = self
                    .repo
                    .find_blob(entry.id())
                    .map_err(|e| read_err(settings::FILE, e))?;
                let files = BTreeMap::from([(settings::FILE.to_owned(), blob.content().to_vec())]);
                Settings::load(&Source::memory(files))
                    .map(|(s, _)| s)
                    .unwrap_or_default()
            }
            Err(_) => Settings::default(),
        };
        let limit = settings.limits.max_file_bytes;
        let output =
            source::normalize(&settings.paths.output).unwrap_or_else(|_| "rendered".into());
        let mut needed: Vec<String> = vec![
            settings.paths.clusters.clone(),
            settings.paths.overlays.clone(),
            "assets".to_owned(),
        ];
        if let Some(catalog) = settings.paths.catalog.as_deref()
            && let Some((dir, _)) = catalog.rsplit_once('/')
        {
            needed.push(dir.to_owned());
        }
        if let Some(schemas) = &settings.schemas {
            needed.push(schemas.clone());
        }
        let needed: Vec<String> = needed
            .iter()
            .filter_map(|d| source::normalize(d).ok())
            .map(|d| format!("{d}/"))
            .collect();

        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        let mut links: Vec<(String, String)> = Vec::new();
        let mut failure: Option<GitError> = None;
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            let Ok(name) = entry.name() else {
                return TreeWalkResult::Skip;
            };
            let path = format!("{dir}{name}");
            if name.starts_with('.') || path == output || path.starts_with(&format!("{output}/")) {
                return TreeWalkResult::Skip;
            }
            match entry.kind() {
                Some(ObjectType::Blob) => {}
                _ => return TreeWalkResult::Ok,
            }
            let size = match odb.read_header(entry.id()) {
                Ok((size, _)) => size as u64,
                Err(e) => {
                    failure = Some(read_err(&path, e));
                    return TreeWalkResult::Abort;
                }
            };
            if size > limit {
                if path == settings::FILE || needed.iter().any(|d| path.starts_with(d.as_str())) {
                    failure = Some(GitError::TooLarge {
                        rev: rev.spec.clone(),
                        path,
                        size,
                        limit,
                    });
                    return TreeWalkResult::Abort;
                }
                return TreeWalkResult::Ok;
            }
            let blob = match self.repo.find_blob(entry.id()) {
                Ok(blob) => blob,
                Err(e) => {
                    failure = Some(read_err(&path, e));
                    return TreeWalkResult::Abort;
                }
            };
            if entry.filemode() == i32::from(FileMode::Link) {
                if let Ok(target) = std::str::from_utf8(blob.content()) {
                    links.push((path, target.to_owned()));
                }
            } else {
                files.insert(path, blob.content().to_vec());
            }
            TreeWalkResult::Ok
        })
        .map_err(|e| failure.take().unwrap_or_else(|| read_err("", e)))?;
        if let Some(err) = failure {
            return Err(err);
        }
        // Symlinks inside the revision: the target's content, when it is a file of the tree.
        for (path, target) in links {
            if let Some(resolved) = resolve_link(&path, &target)
                && let Some(bytes) = files.get(&resolved).cloned()
            {
                files.insert(path, bytes);
            }
        }
        Ok(Source::memory(files))
    }

    /// Tracked files of the platform repository whose working-tree or index content differs
    /// from `HEAD`, sorted (untracked and ignored files do not count, nor does anything in
    /// the output folder `output`, which is derived).
    pub fn dirty_paths(&self, output: &str) -> Result<Vec<String>, GitError> {
        let mut options = git2::StatusOptions::new();
        options
            .include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(true);
        if !self.prefix.is_empty() {
            options.pathspec(self.prefix.trim_end_matches('/'));
        }
        let statuses = self
            .repo
            .statuses(Some(&mut options))
            .map_err(|source| GitError::Status { source })?;
        let output = format!("{}{}/", self.prefix, output.trim_end_matches('/'));
        let mut paths: Vec<String> = statuses
            .iter()
            .filter(|s| s.status() != git2::Status::CURRENT && !s.status().is_ignored())
            .filter_map(|s| s.path().ok().map(str::to_owned))
            .filter(|p| !p.starts_with(&output))
            .collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
    }

    /// The commit id a local branch points at, when the branch exists.
    pub fn branch_tip(&self, branch: &str) -> Option<String> {
        self.repo
            .find_reference(&format!("refs/heads/{branch}"))
            .ok()?
            .peel_to_commit()
            .ok()
            .map(|c| c.id().to_string())
    }

    /// Writes `files` (repository-relative path -> bytes) plus the metadata file as the whole
    /// tree of a new commit on `refs/heads/<branch>` whose parent is the branch tip (none for
    /// a new branch). Built in memory, so files not in `files` are gone from the new tree.
    /// No commit when the tree, apart from the metadata file's folder, equals the tip's.
    /// Never touches the index or the working tree; refuses the checked-out branch.
    pub fn commit_hydrated(
        &self,
        branch: &str,
        files: &BTreeMap<String, Vec<u8>>,
        metadata: (&str, &[u8]),
        message: &str,
    ) -> Result<CommitOutcome, GitError> {
        let refname = format!("refs/heads/{branch}");
        if branch.is_empty() || !git2::Reference::is_valid_name(&refname) {
            return Err(GitError::BadBranch {
                name: branch.to_owned(),
            });
        }
        if !self.repo.is_bare()
            && let Ok(head) = self.repo.find_reference("HEAD")
            && head.symbolic_target().ok().flatten() == Some(refname.as_str())
        {
            return Err(GitError::CheckedOut {
                name: branch.to_owned(),
            });
        }
        let write = |source| GitError::Write {
            branch: branch.to_owned(),
            source,
        };
        let repo = &self.repo;
        let empty = repo
            .treebuilder(None)
            .and_then(|b| b.write())
            .and_then(|oid| repo.find_tree(oid))
            .map_err(write)?;
        let mut updates = git2::build::TreeUpdateBuilder::new();
        for (path, bytes) in files {
            let oid = repo.blob(bytes).map_err(write)?;
            updates.upsert(path.as_str(), oid, FileMode::Blob);
        }
        let content = updates.create_updated(repo, &empty).map_err(write)?;
        let content_tree = repo.find_tree(content).map_err(write)?;

        let meta_dir = metadata.0.split_once('/').map_or(metadata.0, |(d, _)| d);
        let tip = repo
            .find_reference(&refname)
            .ok()
            .and_then(|r| r.peel_to_commit().ok());
        if let Some(tip) = &tip {
            let tip_tree = tip.tree().map_err(write)?;
            let mut without_meta = repo.treebuilder(Some(&tip_tree)).map_err(write)?;
            if without_meta.get(meta_dir).map_err(write)?.is_some() {
                without_meta.remove(meta_dir).map_err(write)?;
            }
            if without_meta.write().map_err(write)? == content {
                return Ok(CommitOutcome::Unchanged {
                    tip: tip.id().to_string(),
                });
            }
        }
        let meta_oid = repo.blob(metadata.1).map_err(write)?;
        let mut with_meta = git2::build::TreeUpdateBuilder::new();
        with_meta.upsert(metadata.0, meta_oid, FileMode::Blob);
        let tree_id = with_meta
            .create_updated(repo, &content_tree)
            .map_err(write)?;
        let tree = repo.find_tree(tree_id).map_err(write)?;
        let signature = repo
            .signature()
            .or_else(|_| git2::Signature::now("plinth", "plinth@localhost"))
            .map_err(write)?;
        let parents: Vec<&git2::Commit<'_>> = tip.iter().collect();
        let id = repo
            .commit(
                Some(&refname),
                &signature,
                &signature,
                message,
                &tree,
                &parents,
            )
            .map_err(write)?;
        Ok(CommitOutcome::Created {
            id: id.to_string(),
            parent: tip.map(|t| t.id().to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_ids() {
        let rev = Revision {
            spec: "HEAD".into(),
            id: "0123456789abcdef0123456789abcdef01234567".into(),
        };
        assert_eq!(rev.short(), "0123456");
    }
}
