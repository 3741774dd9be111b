//! One module per subcommand; each returns an [`Outcome`] that maps to the exit code.

mod catalog;
mod cluster_client;
mod commit;
mod diff;
mod discover;
mod drift;
mod render;
mod validate;

use std::process::ExitCode;

use crate::args::Command;
use crate::printer::Printer;

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
pub fn run(command: Command, printer: Printer) -> anyhow::Result<Outcome> {
    match command {
        Command::Render(args) => render::run(args, printer),
        Command::Catalog(args) => catalog::run(args, printer),
        Command::Validate(args) => validate::run(args, printer),
        Command::Diff(args) => diff::run(args, printer),
        Command::Commit(args) => commit::run(args, printer),
        Command::Drift(args) => drift::run(args, printer),
        Command::Discover(args) => discover::run(args, printer),
    }
}
