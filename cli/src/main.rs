//! The `plinth` binary: parse arguments, resolve the settings once, run the command, report
//! the outcome as an exit code (0 clean, 1 found something, 2 could not run).

mod args;
mod command_error;
mod commands;
mod jobs;
mod logging;
mod printer;
mod progress;
mod settings;
mod write;

use std::process::ExitCode;
use std::time::Instant;

use clap::{CommandFactory as _, FromArgMatches as _};

/// mimalloc: a render allocates and frees millions of small values on every core, and glibc's
/// allocator spent about a third of the CPU time of a 1,000-cluster render doing so.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // The command runs on a thread with a large stack, and so do the worker threads of the
    // global pool (drift uses it): nested input recurses as deep as the YAML reader allows.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(jobs::STACK_BYTES)
        .build_global();
    std::thread::Builder::new()
        .name("plinth".into())
        .stack_size(jobs::STACK_BYTES)
        .spawn(run)
        .map_or(ExitCode::from(2), |thread| {
            // A panic was reported by the hook; 101 is Rust's exit code for it.
            thread.join().unwrap_or(ExitCode::from(101))
        })
}

fn run() -> ExitCode {
    std::panic::set_hook(Box::new(command_error::report_panic));
    // Reads the environment once, and installs the redaction key before anything is printed.
    let parsed = args::Cli::command()
        .try_get_matches()
        .and_then(|matches| Ok((args::Cli::from_arg_matches(&matches)?, matches)));
    let (command, global, name) = match parsed {
        Ok((cli, matches)) => (
            cli.command,
            settings::GlobalSettings::resolve(cli.global),
            matches.subcommand_name().unwrap_or_default().to_owned(),
        ),
        Err(err) => {
            settings::GlobalSettings::resolve(args::GlobalArgs::default());
            return command_error::report_usage(&err);
        }
    };
    if let Err(err) = logging::init(&global.log) {
        return err.report();
    }
    let started = Instant::now();
    tracing::info!(command = %name, "command started");
    let (exit, outcome) = match commands::run(command, &global) {
        Ok(outcome) => (outcome.exit_code(), format!("{outcome:?}").to_lowercase()),
        Err(err) => {
            tracing::info!(command = %name, kind = ?err.kind, "command failed");
            (err.report(), "failed".to_owned())
        }
    };
    tracing::info!(
        command = %name,
        outcome = %outcome,
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "command finished"
    );
    exit
}
