//! The pull-request preview as one library call: open base and head (a revision, or the
//! working tree) straight from git, skip the clusters whose inputs are byte-identical on both
//! sides or whose input digests agree, render the rest on both sides and compare them into a
//! [`DiffReport`].
//!
//! Two steps, so that the caller can size its worker pool between them:
//! [`PullRequest::open`] reads both sides and picks the clusters, [`PullRequest::compare`]
//! renders and compares them on the current rayon pool.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use plinth_renderer::render::Prepared;
use plinth_renderer::{Fleet, RenderError, RenderedCluster, Source};
use plinth_vocab::redact::Redactor;
use rayon::prelude::*;

use crate::diff::{self, ClusterDiff, DiffReport, Side};
use crate::error::ReviewError;
use crate::git::{GitRepo, Revision};

/// What to compare.
#[derive(Debug, Clone, Copy)]
pub struct PreviewRequest<'a> {
    /// The platform repository (or a folder inside it).
    pub repo: &'a Path,
    /// The base revision.
    pub base: &'a str,
    /// The head revision; `None` for the working tree.
    pub head: Option<&'a str>,
    /// The clusters to compare; empty for all of them.
    pub clusters: &'a [String],
}

/// One side of the comparison: its name for messages and the opened fleet.
struct Opened {
    /// `base revision `main` (abc1234)` or `the working tree`.
    label: String,
    side: Side,
    fleet: Fleet,
    names: BTreeSet<String>,
    /// Every input file by path (output folder and hidden entries left out), or `None`
    /// when one could not be read cheaply (then every cluster is prepared).
    inputs: Option<BTreeMap<String, Vec<u8>>>,
}

/// Both sides opened and the clusters to compare chosen.
pub struct PullRequest {
    base: Opened,
    head: Opened,
    /// The clusters compared (asked for, or on either side), sorted.
    names: Vec<String>,
    /// Those whose input files are byte-identical on both sides.
    unchanged: BTreeSet<String>,
}

impl PullRequest {
    /// Opens the repository and both sides and chooses the clusters to compare.
    ///
    /// # Errors
    /// When the repository, a revision or a fleet cannot be read, or a cluster asked for
    /// exists on neither side ([`ReviewError::UnknownCluster`]).
    pub fn open(request: &PreviewRequest<'_>) -> Result<Self, ReviewError> {
        let repo = GitRepo::open(request.repo)
            .map_err(|source| ReviewError::open_repository(request.repo, source))?;
        let base = open_side(&repo, "base", Some(request.base))?;
        let head = open_side(&repo, "head", request.head)?;
        let all: BTreeSet<String> = base.names.union(&head.names).cloned().collect();
        let names: Vec<String> = if request.clusters.is_empty() {
            all.iter().cloned().collect()
        } else {
            if let Some(wanted) = request.clusters.iter().find(|w| !all.contains(*w)) {
                return Err(ReviewError::UnknownCluster {
                    name: wanted.clone(),
                    known: all.into_iter().collect(),
                });
            }
            request
                .clusters
                .iter()
                .cloned()
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect()
        };
        // Clusters whose input files are byte-identical need not even be prepared.
        let unchanged = unchanged_clusters(&base, &head);
        Ok(Self {
            base,
            head,
            names,
            unchanged,
        })
    }

    /// How many clusters are compared.
    pub fn cluster_count(&self) -> usize {
        self.names.len()
    }

    /// How many clusters (of all, not only those asked for) have byte-identical inputs on
    /// both sides.
    pub fn unchanged_count(&self) -> usize {
        self.unchanged.len()
    }

    /// How many clusters are prepared (and rendered where their digests differ).
    pub fn to_compare(&self) -> usize {
        self.pending().len()
    }

    /// The clusters compared whose inputs are not byte-identical.
    fn pending(&self) -> Vec<&String> {
        self.names
            .iter()
            .filter(|n| !self.unchanged.contains(*n))
            .collect()
    }

    /// Renders and compares the clusters on the current rayon pool.
    ///
    /// # Errors
    /// The first cluster (by name) that could not be prepared or rendered on a side.
    pub fn compare(&self, redactor: &Redactor) -> Result<DiffReport, ReviewError> {
        let results: Vec<Result<Option<ClusterDiff>, ReviewError>> = self
            .pending()
            .par_iter()
            .map(|name| compare(&self.base, &self.head, name, redactor))
            .collect();
        let mut clusters = Vec::new();
        for r in results {
            if let Some(c) = r? {
                clusters.push(c);
            }
        }
        Ok(DiffReport::new(
            self.base.side.clone(),
            self.head.side.clone(),
            self.names.len(),
            clusters,
        ))
    }
}

/// Reads every input file of a repository except the output folder and hidden entries.
fn input_files(source: &Source, output: &str, limit: u64) -> Option<BTreeMap<String, Vec<u8>>> {
    let mut paths = Vec::new();
    match source.root() {
        Some(root) => {
            for entry in fs_err::read_dir(root).ok()? {
                let entry = entry.ok()?;
                let name = entry.file_name().to_str()?.to_owned();
                if name.starts_with('.') || name == output {
                    continue;
                }
                if entry.file_type().ok()?.is_dir() {
                    paths.extend(source.files_under(&name).ok()?);
                } else {
                    paths.push(name);
                }
            }
        }
        None => paths = source.files_under("").ok()?,
    }
    let prefix = format!("{output}/");
    let mut files = BTreeMap::new();
    for path in paths {
        if path.starts_with(&prefix) {
            continue;
        }
        match source.read(&path, limit) {
            Ok(bytes) => {
                files.insert(path, bytes);
            }
            // Too large to be an input: a revision leaves such files out too (the renderer
            // reports them if it needs them).
            Err(RenderError::TooLarge { .. }) => {}
            Err(_) => return None,
        }
    }
    Some(files)
}

/// The clusters whose inputs are byte-identical on both sides: the same files outside the
/// clusters folder and the same files in the cluster's own folder (a cluster naming a
/// `userDataFile` is never assumed unchanged: the file may sit in another folder).
fn unchanged_clusters(base: &Opened, head: &Opened) -> BTreeSet<String> {
    let (Some(b), Some(a)) = (&base.inputs, &head.inputs) else {
        return BTreeSet::new();
    };
    let dir = &base.fleet.settings.paths.clusters;
    if *dir != head.fleet.settings.paths.clusters {
        return BTreeSet::new();
    }
    let prefix = format!("{dir}/");
    let shared = |m: &BTreeMap<String, Vec<u8>>| -> Vec<(String, Vec<u8>)> {
        m.iter()
            .filter(|(p, _)| !p.starts_with(&prefix))
            .map(|(p, v)| (p.clone(), v.clone()))
            .collect()
    };
    if shared(b) != shared(a) {
        return BTreeSet::new();
    }
    let by_cluster = |m: &BTreeMap<String, Vec<u8>>| {
        let mut out: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
        for (path, bytes) in m.range(prefix.clone()..) {
            let Some(rest) = path.strip_prefix(&prefix) else {
                break;
            };
            let name = rest.split_once('/').map_or(rest, |(n, _)| n);
            out.entry(name.to_owned())
                .or_default()
                .push((path.clone(), bytes.clone()));
        }
        out
    };
    let (b, a) = (by_cluster(b), by_cluster(a));
    b.into_iter()
        .filter(|(name, files)| {
            a.get(name) == Some(files)
                && !files
                    .iter()
                    .any(|(_, bytes)| bytes.windows(12).any(|w| w == b"userDataFile"))
        })
        .map(|(name, _)| name)
        .collect()
}

fn open_side(repo: &GitRepo, role: &str, rev: Option<&str>) -> Result<Opened, ReviewError> {
    let Some(spec) = rev else {
        let label = "the working tree".to_owned();
        let source = repo
            .worktree_source()
            .map_err(|source| ReviewError::read(&label, source))?;
        let side = Side {
            spec: "working tree".to_owned(),
            commit: None,
        };
        return open_fleet(label, side, source);
    };
    let resolved: Revision = repo
        .resolve(spec)
        .map_err(|source| ReviewError::read(&format!("{role} revision `{spec}`"), source))?;
    let label = format!("{role} revision `{spec}` ({})", resolved.short());
    let source = repo
        .source_at(&resolved)
        .map_err(|source| ReviewError::read(&label, source))?;
    let side = Side {
        spec: spec.to_owned(),
        commit: Some(resolved.id.clone()),
    };
    open_fleet(label, side, source)
}

fn open_fleet(label: String, side: Side, source: Source) -> Result<Opened, ReviewError> {
    let fleet = Fleet::open(source).map_err(|source| ReviewError::render(&label, source))?;
    let inputs = input_files(
        &fleet.source,
        &fleet.settings.paths.output,
        fleet.settings.limits.max_file_bytes,
    );
    let names = fleet
        .cluster_names()
        .map_err(|source| ReviewError::render(&label, source))?
        .into_iter()
        .collect();
    Ok(Opened {
        label,
        side,
        fleet,
        names,
        inputs,
    })
}

/// A cluster's prepared inputs on one side, or the error that stopped them.
type PrepareResult = Option<Result<Prepared, RenderError>>;

fn render_side(
    side: &Opened,
    name: &str,
    prepared: PrepareResult,
) -> Result<Option<RenderedCluster>, ReviewError> {
    let Some(prepared) = prepared else {
        return Ok(None);
    };
    let failed = |source| ReviewError::render_cluster(&side.label, name, source);
    let prepared = prepared.map_err(failed)?;
    side.fleet.render(&prepared).map(Some).map_err(failed)
}

fn prepare(side: &Opened, name: &str) -> PrepareResult {
    side.names.contains(name).then(|| side.fleet.prepare(name))
}

fn compare(
    base: &Opened,
    head: &Opened,
    name: &str,
    redactor: &Redactor,
) -> Result<Option<ClusterDiff>, ReviewError> {
    let before = prepare(base, name);
    let after = prepare(head, name);
    // Equal input digests render byte-identical output: nothing to compare.
    if let (Some(Ok(b)), Some(Ok(a))) = (&before, &after)
        && b.input_digest == a.input_digest
    {
        return Ok(None);
    }
    let before = render_side(base, name, before)?;
    let after = render_side(head, name, after)?;
    Ok(diff::compare_cluster(
        name,
        before.as_ref(),
        after.as_ref(),
        redactor,
    ))
}
