//! `plinth render`: render the fleet, or with `--check` compare the committed output, or with
//! `--stdout` print one cluster as a YAML stream (the Argo CD plugin). The arguments become a
//! [`RenderRequest`]; [`engine::render`] (in `plinth-renderer`) renders and stages; this
//! command prints, and commits what was staged.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use plinth_renderer::decide::Decision;
use plinth_renderer::engine::{self, RenderRequest, RenderResult, RenderRun};
use plinth_renderer::fsops::Fs;
use plinth_renderer::output;
use plinth_renderer::stream;
use plinth_renderer::{Fleet, RenderError, conformance};

use super::Outcome;
use super::shared;
use crate::args::{ClustersArg, JobsArg, RenderArgs, RepoArg};
use crate::command_error::CommandError;
use crate::printer::Printer;
use crate::progress::Bar;
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
        stdout,
    } = args;
    let fleet = shared::open_fleet(&repo)?;
    if stdout {
        return to_stdout(&fleet, &repo, &clusters, crds.as_deref(), printer);
    }
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

/// `--stdout`: one cluster rendered in memory and printed as the YAML stream `kubectl
/// kustomize` builds from its rendered folder; nothing is written to disk, and nothing reaches
/// stdout unless the whole cluster rendered.
fn to_stdout(
    fleet: &Fleet,
    repo: &Path,
    clusters: &[String],
    crds: Option<&Path>,
    printer: Printer,
) -> Result<Outcome, CommandError> {
    let [cluster] = clusters else {
        return Err(CommandError::user(format!(
            "`--stdout` renders exactly one cluster, and {} were given",
            clusters.len()
        ))
        .hint("name it with `--cluster NAME` (in the Argo CD plugin: the `CLUSTER` env of the Application)"));
    };
    let started = Instant::now();
    let selection = fleet.select(std::slice::from_ref(cluster), None)?;
    let schemas = conformance::load_schemas(repo, crds, &fleet.settings)?.map(|(_, s)| s);
    let mut text = String::new();
    for name in &selection.names {
        text.push_str(&stream::render_stream(fleet, name, schemas.as_ref())?);
    }
    printer.data(&text).context("cannot write to stdout")?;
    printer.status(&format!(
        "rendered cluster `{cluster}` to stdout in {:.2}s",
        started.elapsed().as_secs_f64()
    ));
    Ok(Outcome::Clean)
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
    let request = RenderRequest {
        out_root: &s.out_root,
        selection: &selection,
        check: s.check,
        explain: s.explain,
        force: s.force,
        schemas: s.schemas.as_ref(),
    };
    let bar = Bar::new(printer, "rendering clusters", selection.names.len());
    let progress = |done, _| bar.set(done);
    let RenderRun {
        rendered,
        unchanged,
        objects,
        decisions,
        recovered,
        result,
    } = pool
        .install(|| engine::render_with_progress(fleet, &request, &fs, &progress))
        .map_err(|e| hinted(e, &s.repo))?;
    drop(bar);
    for line in recovered {
        printer.detail(&format!("`{shown}`: {line}"));
    }
    if s.explain {
        let explained: String = decisions
            .iter()
            .map(|(name, decisions)| explain_text(name, decisions))
            .collect();
        // A failed command writes nothing: dropping the staged render removes its folders.
        printer.data(&explained)?;
    }

    let staged = match result {
        RenderResult::Staged(staged) => staged,
        RenderResult::Kept(outputs) => {
            let expected: BTreeSet<String> = selection.names.iter().cloned().collect();
            let report = output::check(
                &s.out_root,
                &outputs,
                selection.complete.then_some(&expected),
            )?;
            return check_outcome(&report, &shown, rendered, objects, printer);
        }
    };
    let remove: Vec<String> = if selection.complete {
        let keep: BTreeSet<String> = selection.names.iter().cloned().collect();
        staged.retired(&keep)?
    } else {
        Vec::new()
    };
    let left = staged.commit(&remove).map_err(|e| hinted(e, &s.repo))?;
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

/// `--check`: the stale, missing, extra and leftover files on stdout, a summary on stderr.
fn check_outcome(
    report: &output::CheckReport,
    shown: &str,
    rendered: usize,
    objects: usize,
    printer: Printer,
) -> anyhow::Result<Outcome> {
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
    Ok(Outcome::Found)
}
