//! One module per subcommand; each returns an [`Outcome`] that maps to the exit code, or a
//! [`CommandError`]. What commands share lives in `shared`, `cluster_client` and the cloud settings
//! (`cloud`, `stackit`, `vpsie`), never in a sibling command.

mod apply;
mod catalog;
mod cloud;
mod cluster_client;
mod commit;
mod completions;
mod diff;
mod discover;
mod drift;
mod man;
mod rbac;
mod render;
mod report;
mod shared;
mod stackit;
mod validate;
mod vpsie;

use std::process::ExitCode;

use crate::args::Command;
use crate::command_error::CommandError;
use crate::settings::GlobalSettings;

/// What a command found, as the exit code says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report (exit 0).
    Clean,
    /// Changes, drift or stale output found (exit 1).
    Found,
}

impl Outcome {
    pub fn exit_code(self) -> ExitCode {
        match self {
            Self::Clean => ExitCode::SUCCESS,
            Self::Found => ExitCode::from(1),
        }
    }
}

/// Runs one command.
pub fn run(command: Command, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    match command {
        Command::Render(args) => render::run(args, global),
        Command::Catalog(args) => catalog::run(args, global),
        Command::Validate(args) => validate::run(args, global),
        Command::Diff(args) => diff::run(args, global),
        Command::Commit(args) => commit::run(args, global),
        Command::Drift(args) => drift::run(args, global),
        Command::Discover(args) => discover::run(args, global),
        Command::Apply(args) => apply::run(args, global),
        Command::Rbac(args) => rbac::run(args, global),
        Command::Completions(args) => completions::run(&args, global),
        Command::Man(args) => man::run(&args, global),
        Command::Report(args) => report::run(args, global),
    }
}
