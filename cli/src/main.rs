//! The `plinth` binary: parse arguments, resolve the settings once, run the command, report
//! the outcome as an exit code (0 clean, 1 found something, 2 could not run).

mod args;
mod command_error;
mod commands;
mod jobs;
mod printer;
mod settings;
mod write;

use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use plinth_vocab::redact::Redactor;

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
    std::panic::set_hook(Box::new(report_panic));
    // Reads the environment once, and installs the redaction key before anything is printed.
    let (cli, global) = match args::Cli::try_parse() {
        Ok(cli) => {
            let global = settings::GlobalSettings::resolve(cli.global);
            (cli.command, global)
        }
        Err(err) => {
            settings::GlobalSettings::resolve(args::GlobalArgs::default());
            return report_usage(&err);
        }
    };
    match commands::run(cli, &global) {
        Ok(outcome) => outcome.exit_code(),
        Err(err) => err.report(),
    }
}

/// A panic message may quote a value: it is redacted like every other line.
fn report_panic(info: &std::panic::PanicHookInfo<'_>) {
    let message = info
        .payload()
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| info.payload().downcast_ref::<String>().cloned())
        .unwrap_or_default();
    let location = info
        .location()
        .map(|l| format!(" at {}:{}", l.file(), l.line()))
        .unwrap_or_default();
    let _ = writeln!(
        std::io::stderr(),
        "error: plinth panicked{location}: {}",
        Redactor::shared().redact_text(&message)
    );
}

/// Argument errors echo the offending argument: redacted too (help and version are not).
fn report_usage(err: &clap::Error) -> ExitCode {
    let text = err.render().to_string();
    let _ = if err.use_stderr() {
        write!(
            std::io::stderr(),
            "{}",
            Redactor::shared().redact_text(&text)
        )
    } else {
        write!(std::io::stdout(), "{text}")
    };
    ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2))
}
