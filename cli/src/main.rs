//! The `plinth` binary: parse arguments, resolve the settings once, run the command, report
//! the outcome as an exit code (0 clean, 1 found something, 2 could not run).

mod args;
mod command_error;
mod commands;
mod jobs;
mod printer;
mod settings;
mod write;

use std::process::ExitCode;

use clap::Parser as _;

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
    let (command, global) = match args::Cli::try_parse() {
        Ok(cli) => (cli.command, settings::GlobalSettings::resolve(cli.global)),
        Err(err) => {
            settings::GlobalSettings::resolve(args::GlobalArgs::default());
            return command_error::report_usage(&err);
        }
    };
    match commands::run(command, &global) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => err.report(),
    }
}
