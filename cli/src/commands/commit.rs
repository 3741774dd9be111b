//! `plinth commit`: renders a revision and writes the rendered tree as a commit on a
//! hydrated branch (`<cluster>/…` at the root, plus `.plinth/source.json`) for Argo CD or
//! Flux to follow. Never touches the working tree or the index; pushing is left to git.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context as _;
use plinth_renderer::output;
use plinth_renderer::{Fleet, RenderError, VERSION};
use plinth_review::git::{CommitOutcome, GitRepo};
use rayon::prelude::*;
use serde_json::json;

use super::Outcome;
use crate::args::{CommitArgs, GitRepoArg, JobsArg};
use crate::command_error::CommandError;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

/// Where the metadata file sits in the hydrated tree.
pub const METADATA_FILE: &str = ".plinth/source.json";
/// The trailer naming the source commit.
pub const TRAILER: &str = "Plinth-Source";

/// Settings of one commit run.
#[derive(Debug)]
struct CommitSettings {
    repo: PathBuf,
    branch: String,
    source: Option<String>,
    allow_dirty: bool,
    message: Option<String>,
    jobs: Option<usize>,
}

pub fn run(args: CommitArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let CommitArgs {
        branch,
        source,
        repo: GitRepoArg { repo },
        allow_dirty,
        message,
        jobs: JobsArg { jobs },
    } = args;
    Ok(commit(
        &CommitSettings {
            repo,
            branch,
            source,
            allow_dirty,
            message,
            jobs,
        },
        global.printer,
    )?)
}

fn commit(s: &CommitSettings, printer: Printer) -> anyhow::Result<Outcome> {
    let repo = GitRepo::open(&s.repo)
        .with_context(|| format!("cannot open the platform repository `{}`", s.repo.display()))?;
    let spec = s.source.as_deref().unwrap_or("HEAD");
    let rev = repo.resolve(spec)?;
    let label = format!("source revision `{spec}` ({})", rev.short());
    let source = repo
        .source_at(&rev)
        .with_context(|| format!("cannot render {label}"))?;
    let fleet = Fleet::open(source).with_context(|| format!("cannot render {label}"))?;

    if s.source.is_none() && !s.allow_dirty {
        let dirty = repo.dirty_paths(&fleet.settings.paths.output)?;
        if !dirty.is_empty() {
            let shown: Vec<&str> = dirty.iter().take(10).map(String::as_str).collect();
            let more = if dirty.len() > 10 {
                format!(" and {} more", dirty.len() - 10)
            } else {
                String::new()
            };
            return Err(CommandError::user(format!(
                "the working tree has uncommitted changes to tracked files: {}{more}",
                shown.join(", ")
            ))
            .hint(format!(
                "commit them first, or pass `--allow-dirty` to hydrate `HEAD` ({}) as committed, without them",
                rev.short()
            ))
            .into());
        }
    }

    let names = fleet
        .cluster_names()
        .with_context(|| format!("cannot render {label}"))?;
    let pool = crate::jobs::pool(s.jobs, names.len(), printer)?;
    let outputs: Vec<Result<output::ClusterOutput, RenderError>> = pool.install(|| {
        names
            .par_iter()
            .map(|name| {
                let prepared = fleet.prepare(name)?;
                let rendered = fleet.render(&prepared)?;
                Ok(output::materialize(&rendered, &fleet.settings))
            })
            .collect()
    });
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (name, out) in names.iter().zip(outputs) {
        let out = out.with_context(|| format!("cannot render {label}: cluster `{name}`"))?;
        for (file, bytes) in out.files {
            files.insert(format!("{}/{file}", out.name), bytes);
        }
    }
    let metadata = json!({
        "schemaVersion": 1,
        "sourceCommit": rev.id,
        "sourceRevision": spec,
        "plinthVersion": VERSION,
        "clusters": names,
    });
    let mut metadata = serde_json::to_string_pretty(&metadata)?;
    metadata.push('\n');
    let first = s.message.clone().unwrap_or_else(|| {
        let summary = repo.summary(&rev).unwrap_or_default();
        format!("plinth: render {} {summary}", rev.short())
            .trim_end()
            .to_owned()
    });
    let message = format!("{}\n\n{TRAILER}: {}\n", first.trim_end(), rev.id);
    match repo.commit_hydrated(
        &s.branch,
        &files,
        (METADATA_FILE, metadata.as_bytes()),
        &message,
    )? {
        CommitOutcome::Created { id, parent } => {
            printer.status(&format!(
                "committed {} on branch `{}` ({} clusters from {label}{})",
                &id[..7],
                s.branch,
                names.len(),
                parent.map_or_else(
                    || ", new branch".to_owned(),
                    |p| format!(", parent {}", &p[..7])
                )
            ));
            printer
                .data(&format!("{id}\n"))
                .context("cannot write to stdout")?;
        }
        CommitOutcome::Unchanged { tip } => {
            printer.status(&format!(
                "branch `{}` already holds the rendered tree of {label} (tip {}); no commit",
                s.branch,
                &tip[..7]
            ));
        }
    }
    Ok(Outcome::Clean)
}
