//! `plinth commit`: renders a revision and writes the rendered tree as a commit on a
//! hydrated branch (`<cluster>/…` at the root, plus `.plinth/source.json`) for Argo CD or
//! Flux to follow. Never touches the working tree or the index; pushing is left to git. The
//! arguments become a [`HydrateRequest`]; [`Hydration`] (in `plinth-review`) renders and
//! commits; this command prints what happened.

use std::path::PathBuf;

use anyhow::Context as _;
use plinth_review::git::CommitOutcome;
use plinth_review::hydrate::{HydrateRequest, Hydrated, Hydration};

use super::Outcome;
use crate::args::{CommitArgs, GitRepoArg, JobsArg};
use crate::command_error::CommandError;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

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
    let request = HydrateRequest {
        repo: &s.repo,
        branch: &s.branch,
        source: s.source.as_deref(),
        allow_dirty: s.allow_dirty,
        message: s.message.as_deref(),
    };
    let hydration = Hydration::open(request)?;
    let pool = crate::jobs::pool(s.jobs, hydration.cluster_count(), printer)?;
    let Hydrated {
        outcome,
        label,
        clusters,
    } = pool.install(|| hydration.commit())?;
    match outcome {
        CommitOutcome::Created { id, parent } => {
            printer.status(&format!(
                "committed {} on branch `{}` ({clusters} clusters from {label}{})",
                &id[..7],
                s.branch,
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
