//! A whole render of a selection of clusters as one library call: skip the clusters whose
//! inputs did not change, render the others in parallel (on the rayon pool the caller
//! installs), check them against the CRD schemas, and stage each folder as soon as it is
//! rendered — or, for `--check`, keep them in memory to compare with the disk. Nothing is
//! visible in the output until the caller commits the staged render; dropping it instead
//! removes every staged folder.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use rayon::prelude::*;

use crate::decide::Decision;
use crate::error::{RenderError, Result};
use crate::fsops::Fs;
use crate::output::{self, ClusterOutput, Output};
use crate::render::Fleet;
use crate::schema::Schemas;
use crate::selection::Selection;

/// What to render and how.
#[derive(Debug, Clone, Copy)]
pub struct RenderRequest<'a> {
    /// The checked output root (see `Settings::output_root`).
    pub out_root: &'a Path,
    pub selection: &'a Selection,
    /// Compare with the disk instead of writing (`--check`).
    pub check: bool,
    /// Keep every rendered cluster's decisions ([`RenderRun::decisions`]); every selected
    /// cluster is rendered, even one whose inputs did not change (`--explain`).
    pub explain: bool,
    /// Render and write every selected cluster, even one whose output is current (`--force`).
    pub force: bool,
    /// CRD schemas every rendered object is checked against before anything is staged.
    pub schemas: Option<&'a Schemas>,
}

/// What a render did, whatever its mode.
#[derive(Debug)]
pub struct RenderRun<'fs> {
    /// Clusters rendered (not skipped as unchanged).
    pub rendered: usize,
    /// Clusters skipped: their inputs or their bytes match the output.
    pub unchanged: usize,
    /// Objects of the rendered clusters.
    pub objects: usize,
    /// Every rendered cluster's decisions, in selection order (only when asked to explain).
    pub decisions: Vec<(String, Vec<Decision>)>,
    /// What recovery of an interrupted earlier render did (write mode), one line each.
    pub recovered: Vec<String>,
    pub result: RenderResult<'fs>,
}

/// The rendered folders: in memory for `--check`, staged for a write.
#[derive(Debug)]
pub enum RenderResult<'fs> {
    /// `--check`: every rendered cluster's files, to compare with the disk ([`output::check`]).
    Kept(Vec<ClusterOutput>),
    /// A write: staged, not yet visible.
    Staged(StagedRender<'fs>),
}

/// Rendered folders staged beside the output; [`StagedRender::commit`] swaps them in, and
/// dropping the value without committing removes them.
#[derive(Debug)]
pub struct StagedRender<'fs> {
    writer: Output<'fs>,
    staged: Vec<output::Staged>,
    done: bool,
}

impl StagedRender<'_> {
    /// The cluster folders of the output whose cluster is not in `keep` (retired clusters,
    /// removed by [`StagedRender::commit`] when given).
    pub fn retired(&self, keep: &BTreeSet<String>) -> Result<Vec<String>> {
        output::retired_clusters(self.writer.root(), keep)
    }

    /// Swaps every staged folder in and removes the folders of `remove`; the folders that
    /// could not be deleted afterwards (the next render deletes them).
    pub fn commit(mut self, remove: &[String]) -> Result<Vec<String>> {
        // A failed commit undoes its own swaps and staging; nothing is left to abandon.
        self.done = true;
        self.writer.commit(&self.staged, remove)
    }
}

impl Drop for StagedRender<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.writer.abandon(&self.staged);
        }
    }
}

/// One cluster's outcome.
enum Rendered {
    Kept(Box<(ClusterOutput, Vec<Decision>)>),
    Staged {
        name: String,
        objects: usize,
        decisions: Vec<Decision>,
        staged: output::Staged,
    },
    Unchanged,
}

/// Renders `request.selection` of `fleet`. In write mode the output is opened first (an
/// interrupted earlier render is recovered) and every rendered folder is staged; the first
/// error removes whatever was staged and is returned.
pub fn render<'fs>(
    fleet: &Fleet,
    request: &RenderRequest<'_>,
    fs: &'fs Fs,
) -> Result<RenderRun<'fs>> {
    render_with_progress(fleet, request, fs, &|_, _| {})
}

/// [`render`], telling `progress` after each selected cluster is done (rendered, skipped as
/// unchanged, or failed) how many of how many are: `progress(done, total)`, from the worker
/// threads, in no particular order of clusters.
///
/// # Errors
/// As [`render`].
pub fn render_with_progress<'fs>(
    fleet: &Fleet,
    request: &RenderRequest<'_>,
    fs: &'fs Fs,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<RenderRun<'fs>> {
    let RenderRequest {
        out_root,
        selection,
        check,
        explain,
        force,
        schemas,
    } = *request;
    // Recovery of interrupted runs comes first, so every folder is in place before it is
    // compared; `--check` only reports leftovers.
    let (writer, recovered) = if check {
        (None, Vec::new())
    } else {
        let (writer, recovered) = Output::open(out_root, fs)?;
        (Some(writer), recovered)
    };
    let may_skip = !(check || explain || force);
    let total = selection.names.len();
    let done = AtomicUsize::new(0);
    let _span = tracing::info_span!("render", clusters = total, check).entered();
    let render_one = |name: &String| -> Result<Rendered> {
        tracing::trace!(cluster = %name, "rendering cluster");
        // A digest that cannot be computed is reported by `prepare` below.
        if may_skip && output::is_current(out_root, name, || fleet.input_digest(name).ok()) {
            return Ok(Rendered::Unchanged);
        }
        let prepared = fleet.prepare(name)?;
        let rendered = fleet.render(&prepared)?;
        tracing::debug!(cluster = %name, objects = rendered.objects.len(), "cluster rendered");
        if let Some(schemas) = schemas {
            let checked = crate::conformance::check(schemas, &rendered);
            if !checked.problems.is_empty() {
                return Err(RenderError::Problems(checked.problems));
            }
        }
        let out = output::materialize(&rendered, &fleet.settings);
        let decisions = rendered.decisions;
        let Some(writer) = &writer else {
            return Ok(Rendered::Kept(Box::new((out, decisions))));
        };
        // Not proven unchanged by timestamps: the same comparison as `--check` decides,
        // so whatever `--check` calls stale is rewritten.
        if may_skip && output::matches_disk(out_root, &out) {
            return Ok(Rendered::Unchanged);
        }
        // Staged as soon as rendered, so a fleet's files never sit in memory at once;
        // nothing is swapped in until every cluster has rendered and staged.
        Ok(Rendered::Staged {
            staged: writer.stage(&out)?,
            name: out.name,
            objects: out.index.objects.len(),
            decisions,
        })
    };
    let results: Vec<Result<Rendered>> = selection
        .names
        .par_iter()
        .map(|name| {
            let result = render_one(name);
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, total);
            result
        })
        .collect();
    let mut kept = Vec::new();
    let mut staged = Vec::new();
    let mut failure = None;
    let mut run = RenderRun {
        rendered: 0,
        unchanged: 0,
        objects: 0,
        decisions: Vec::new(),
        recovered,
        result: RenderResult::Kept(Vec::new()),
    };
    for result in results {
        let (name, count, decisions) = match result {
            Err(err) => {
                failure = failure.or(Some(err));
                continue;
            }
            Ok(Rendered::Unchanged) => {
                run.unchanged += 1;
                continue;
            }
            Ok(Rendered::Kept(out)) => {
                let (out, decisions) = *out;
                let name = out.name.clone();
                let count = out.index.objects.len();
                kept.push(out);
                (name, count, decisions)
            }
            Ok(Rendered::Staged {
                name,
                objects,
                decisions,
                staged: s,
            }) => {
                staged.push(s);
                (name, objects, decisions)
            }
        };
        run.rendered += 1;
        run.objects += count;
        if explain {
            run.decisions.push((name, decisions));
        }
    }
    tracing::info!(
        rendered = run.rendered,
        unchanged = run.unchanged,
        objects = run.objects,
        failed = failure.is_some(),
        "clusters rendered"
    );
    run.result = match writer {
        Some(writer) => RenderResult::Staged(StagedRender {
            writer,
            staged,
            done: false,
        }),
        None => RenderResult::Kept(kept),
    };
    // Dropping the staged render removes what was staged.
    match failure {
        Some(err) => Err(err),
        None => Ok(run),
    }
}
