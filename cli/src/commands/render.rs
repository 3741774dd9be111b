//! `plinth render`: render the fleet, or with `--check` compare the committed output.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use plinth_renderer::decide::Decision;
use plinth_renderer::fsops::Fs;
use plinth_renderer::output::{self, ClusterOutput, Output};
use plinth_renderer::{Fleet, RenderError, conformance};
use rayon::prelude::*;

use super::Outcome;
use super::shared;
use crate::args::{ClustersArg, JobsArg, RenderArgs, RepoArg};
use crate::command_error::CommandError;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

/// Settings of one render run, resolved from the arguments and `plinth.yaml`.
#[derive(Debug)]
struct RenderSettings {
    /// The repository's canonical root (paths are shown relative to it).
    repo: PathBuf,
    /// The checked output root (see `Settings::output_root`).
    out_root: PathBuf,
    clusters: Vec<String>,
    check: bool,
    explain: bool,
    force: bool,
    shard: Option<String>,
    jobs: Option<usize>,
    /// CRD schemas every rendered object is checked against before anything is written.
    schemas: Option<plinth_renderer::schema::Schemas>,
}

enum Rendered {
    /// Rendered and kept in memory (`--check` compares it with the disk).
    Kept(Box<(ClusterOutput, Vec<Decision>)>),
    /// Rendered and already written to a staging folder; its bytes are gone from memory.
    Staged {
        name: String,
        objects: usize,
        decisions: Vec<Decision>,
        staged: output::Staged,
    },
    Unchanged,
}

fn explain_text(cluster: &str, decisions: &[Decision]) -> String {
    let width = decisions.iter().map(|d| d.asset.len()).max().unwrap_or(0);
    let mut out = format!("cluster {cluster}\n");
    for d in decisions {
        let mark = if d.included { '+' } else { '-' };
        let _ = writeln!(out, "  {mark} {:width$}  {}", d.asset, d.reason);
    }
    out
}

/// Gives a refusal of the output code its hint, with paths inside the repository shown
/// relative to it.
fn hinted(err: RenderError, repo: &Path) -> anyhow::Error {
    match err {
        RenderError::NotOwned { path, reason, hint } => {
            let prefix = format!("{}/", repo.display());
            CommandError::config(format!("`{}` {reason}", path.replace(&prefix, "")))
                .hint(hint.replace(&prefix, ""))
                .into()
        }
        other => other.into(),
    }
}

pub fn run(args: RenderArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let printer = global.printer;
    let RenderArgs {
        repo: RepoArg { repo },
        clusters: ClustersArg { clusters },
        output,
        check,
        explain,
        force,
        shard,
        jobs: JobsArg { jobs },
        crds,
    } = args;
    let fleet = shared::open_fleet(&repo)?;
    let root = fleet
        .source
        .root()
        .map(Path::to_path_buf)
        .context("the repository has no folder")?;
    let extra_inputs: Vec<PathBuf> = crds.iter().cloned().collect();
    let out_root = fleet
        .settings
        .output_root(&root, output.as_deref(), &extra_inputs)?;
    let schemas =
        conformance::load_schemas(&repo, crds.as_deref(), &fleet.settings)?.map(|(_, s)| s);
    let settings = RenderSettings {
        repo: root,
        out_root,
        clusters,
        check,
        explain,
        force,
        shard,
        jobs,
        schemas,
    };
    Ok(render(&fleet, &settings, printer)?)
}

fn render(fleet: &Fleet, s: &RenderSettings, printer: Printer) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let selection = fleet.select(&s.clusters, s.shard.as_deref())?;
    let pool = crate::jobs::pool(s.jobs, selection.names.len(), printer)?;
    let shown = s
        .out_root
        .strip_prefix(&s.repo)
        .unwrap_or(&s.out_root)
        .display()
        .to_string();
    let fs = Fs::real();
    // Recovery of interrupted runs comes first, so every folder is in place before it is
    // compared; `--check` only reports leftovers.
    let writer = if s.check {
        None
    } else {
        let (writer, recovered) = Output::open(&s.out_root, &fs).map_err(|e| hinted(e, &s.repo))?;
        for line in recovered {
            printer.detail(&format!("`{shown}`: {line}"));
        }
        Some(writer)
    };
    let may_skip = !(s.check || s.explain || s.force);
    let results: Vec<Result<Rendered, RenderError>> = pool.install(|| {
        selection
            .names
            .par_iter()
            .map(|name| {
                // A digest that cannot be computed is reported by `prepare` below.
                if may_skip
                    && output::is_current(&s.out_root, name, || fleet.input_digest(name).ok())
                {
                    return Ok(Rendered::Unchanged);
                }
                let prepared = fleet.prepare(name)?;
                let rendered = fleet.render(&prepared)?;
                if let Some(schemas) = &s.schemas {
                    let checked = conformance::check(schemas, &rendered);
                    if !checked.problems.is_empty() {
                        return Err(RenderError::Problems(checked.problems));
                    }
                }
                let out = output::materialize(&rendered, &fleet.settings);
                let decisions = rendered.decisions;
                let Some(writer) = &writer else {
                    return Ok(Rendered::Kept(Box::new((out, decisions))));
                };
                // Not proven unchanged by timestamps: the same comparison as `--check`
                // decides, so whatever `--check` calls stale is rewritten.
                if may_skip && output::matches_disk(&s.out_root, &out) {
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
            })
            .collect()
    });
    let mut outputs = Vec::new();
    let mut staged = Vec::new();
    let mut failure = None;
    let mut rendered = 0usize;
    let mut unchanged = 0usize;
    let mut objects = 0usize;
    let mut explained = String::new();
    for result in results {
        let (name, count, decisions) = match result {
            Err(err) => {
                failure = failure.or(Some(err));
                continue;
            }
            Ok(Rendered::Unchanged) => {
                unchanged += 1;
                continue;
            }
            Ok(Rendered::Kept(kept)) => {
                let (out, decisions) = *kept;
                let name = out.name.clone();
                let count = out.index.objects.len();
                outputs.push(out);
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
        rendered += 1;
        objects += count;
        if s.explain {
            explained.push_str(&explain_text(&name, &decisions));
        }
    }
    if let Some(err) = failure {
        if let Some(writer) = &writer {
            writer.abandon(&staged);
        }
        return Err(hinted(err, &s.repo));
    }
    if s.explain
        && let Err(err) = printer.data(&explained)
    {
        // A failed command writes nothing: not even staged folders or a new output root.
        if let Some(writer) = &writer {
            writer.abandon(&staged);
        }
        return Err(err.into());
    }

    let Some(writer) = writer else {
        let expected: BTreeSet<String> = selection.names.iter().cloned().collect();
        let report = output::check(
            &s.out_root,
            &outputs,
            selection.complete.then_some(&expected),
        )?;
        if report.is_clean() {
            printer.status(&format!(
                "`{shown}` is up to date ({rendered} clusters, {objects} objects)"
            ));
            return Ok(Outcome::Clean);
        }
        let mut text = String::new();
        for (label, files) in [
            ("stale", &report.stale),
            ("missing", &report.missing),
            ("extra", &report.extra),
            ("leftover", &report.leftovers),
        ] {
            for f in files {
                let _ = writeln!(text, "{label}: {shown}/{f}");
            }
        }
        printer.data(&text)?;
        let leftovers = if report.leftovers.is_empty() {
            String::new()
        } else {
            format!(", {} left by an interrupted render", report.leftovers.len())
        };
        printer.status(&format!(
            "`{shown}` is out of date: {} stale, {} missing, {} extra{leftovers}; run `plinth render` and commit the result",
            report.stale.len(),
            report.missing.len(),
            report.extra.len()
        ));
        return Ok(Outcome::Found);
    };

    let remove: Vec<String> = if selection.complete {
        let keep: BTreeSet<String> = selection.names.iter().cloned().collect();
        match output::retired_clusters(&s.out_root, &keep) {
            Ok(names) => names,
            Err(err) => {
                writer.abandon(&staged);
                return Err(err.into());
            }
        }
    } else {
        Vec::new()
    };
    let left = writer
        .commit(&staged, &remove)
        .map_err(|e| hinted(e, &s.repo))?;
    for r in &remove {
        printer.detail(&format!(
            "removed `{shown}/{r}`: the cluster no longer exists"
        ));
    }
    for l in &left {
        printer.warn(&format!(
            "could not delete the old folder `{l}`; the next `plinth render` deletes it"
        ));
    }
    printer.status(&format!(
        "rendered {rendered} cluster{} ({objects} objects) into `{shown}`{} in {:.2}s",
        if rendered == 1 { "" } else { "s" },
        if unchanged > 0 {
            format!(", {unchanged} unchanged")
        } else {
            String::new()
        },
        started.elapsed().as_secs_f64()
    ));
    Ok(Outcome::Clean)
}
