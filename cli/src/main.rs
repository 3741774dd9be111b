//! The `plinth` binary: parse arguments, run the command, report the outcome as an exit code
//! (0 clean, 1 found something, 2 could not run).

mod args;
mod commands;
mod jobs;
mod printer;
mod report;

use std::process::ExitCode;

use clap::Parser as _;

/// mimalloc: a render allocates and frees millions of small values on every core, and glibc's
/// allocator spent about a third of the CPU time of a 1,000-cluster render doing so.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let printer = printer::Printer::new(cli.global.quiet, cli.global.verbose);
    match commands::run(cli.command, printer) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => report::error(&err),
    }
}
