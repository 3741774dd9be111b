//! The hydrated commit of `plinth commit` as a library call: render a revision and write the
//! rendered tree as a commit on a hydrated branch (`<cluster>/…` at the root, plus
//! [`METADATA_FILE`]) without touching the working tree or the index.
//!
//! Two steps, so that the caller can size its worker pool between them:
//! [`Hydration::open`] reads the revision and checks the working tree,
//! [`Hydration::commit`] renders every cluster on the current rayon pool and commits.

use std::collections::BTreeMap;
use std::path::Path;

use plinth_renderer::output;
use plinth_renderer::{Fleet, RenderError, VERSION};
use rayon::prelude::*;
use serde_json::json;

use crate::error::ReviewError;
use crate::git::{CommitOutcome, GitRepo, Revision};

/// Where the metadata file sits in the hydrated tree.
pub const METADATA_FILE: &str = ".plinth/source.json";
/// The trailer naming the source commit.
pub const TRAILER: &str = "Plinth-Source";

/// What to hydrate.
#[derive(Debug, Clone, Copy)]
pub struct HydrateRequest<'a> {
    /// The platform repository (or a folder inside it).
    pub repo: &'a Path,
    /// The hydrated branch.
    pub branch: &'a str,
    /// The source revision; `None` for `HEAD`, which must then match the working tree.
    pub source: Option<&'a str>,
    /// Hydrate `HEAD` even when tracked files have uncommitted changes.
    pub allow_dirty: bool,
    /// The first line of the commit message (default: `plinth: render <id> <summary>`).
    pub message: Option<&'a str>,
}

/// A source revision opened for hydration.
pub struct Hydration<'a> {
    request: HydrateRequest<'a>,
    repo: GitRepo,
    spec: &'a str,
    rev: Revision,
    /// `source revision `HEAD` (abc1234)`.
    label: String,
    fleet: Fleet,
    names: Vec<String>,
}

/// What [`Hydration::commit`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hydrated {
    pub outcome: CommitOutcome,
    /// `source revision `HEAD` (abc1234)`.
    pub label: String,
    /// How many clusters were rendered.
    pub clusters: usize,
}

impl<'a> Hydration<'a> {
    /// Opens the repository and the source revision and lists its clusters.
    ///
    /// # Errors
    /// When the repository, the revision or its fleet cannot be read, or (hydrating `HEAD`
    /// without `allow_dirty`) tracked files have uncommitted changes
    /// ([`ReviewError::Dirty`]).
    pub fn open(request: HydrateRequest<'a>) -> Result<Self, ReviewError> {
        let repo = GitRepo::open(request.repo)
            .map_err(|source| ReviewError::open_repository(request.repo, source))?;
        let spec = request.source.unwrap_or("HEAD");
        let rev = repo.resolve(spec)?;
        let label = format!("source revision `{spec}` ({})", rev.short());
        let source = repo
            .source_at(&rev)
            .map_err(|source| ReviewError::read(&label, source))?;
        let fleet = Fleet::open(source).map_err(|source| ReviewError::render(&label, source))?;
        if request.source.is_none() && !request.allow_dirty {
            let dirty = repo.dirty_paths(&fleet.settings.paths.output)?;
            if !dirty.is_empty() {
                return Err(ReviewError::Dirty {
                    paths: dirty,
                    head: rev.short().to_owned(),
                });
            }
        }
        let names = fleet
            .cluster_names()
            .map_err(|source| ReviewError::render(&label, source))?;
        Ok(Self {
            request,
            repo,
            spec,
            rev,
            label,
            fleet,
            names,
        })
    }

    /// How many clusters are rendered.
    pub fn cluster_count(&self) -> usize {
        self.names.len()
    }

    /// Renders every cluster on the current rayon pool and commits the tree on the branch
    /// (no commit when the branch already holds it).
    ///
    /// # Errors
    /// The first cluster (by name) that could not be rendered, or the commit could not be
    /// written.
    pub fn commit(self) -> Result<Hydrated, ReviewError> {
        let outputs: Vec<Result<output::ClusterOutput, RenderError>> = self
            .names
            .par_iter()
            .map(|name| {
                let prepared = self.fleet.prepare(name)?;
                let rendered = self.fleet.render(&prepared)?;
                Ok(output::materialize(&rendered, &self.fleet.settings))
            })
            .collect();
        let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
        for (name, out) in self.names.iter().zip(outputs) {
            let out =
                out.map_err(|source| ReviewError::render_cluster(&self.label, name, source))?;
            for (file, bytes) in out.files {
                files.insert(format!("{}/{file}", out.name), bytes);
            }
        }
        let metadata = json!({
            "schemaVersion": 1,
            "sourceCommit": self.rev.id,
            "sourceRevision": self.spec,
            "plinthVersion": VERSION,
            "clusters": self.names,
        });
        let mut metadata = serde_json::to_string_pretty(&metadata)?;
        metadata.push('\n');
        let first = self.request.message.map_or_else(
            || {
                let summary = self.repo.summary(&self.rev).unwrap_or_default();
                format!("plinth: render {} {summary}", self.rev.short())
                    .trim_end()
                    .to_owned()
            },
            str::to_owned,
        );
        let message = format!("{}\n\n{TRAILER}: {}\n", first.trim_end(), self.rev.id);
        let outcome = self.repo.commit_hydrated(
            self.request.branch,
            &files,
            (METADATA_FILE, metadata.as_bytes()),
            &message,
        )?;
        Ok(Hydrated {
            outcome,
            label: self.label,
            clusters: self.names.len(),
        })
    }
}
