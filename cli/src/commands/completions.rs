//! `plinth completions SHELL`: the shell's completion script (clap's generator) on stdout,
//! for every command and flag the binary has.

use clap::CommandFactory as _;
use clap_complete::Shell as Generator;

use super::Outcome;
use crate::args::{Cli, CompletionsArgs, Shell};
use crate::command_error::CommandError;
use crate::settings::GlobalSettings;

/// The completion script of `shell` for the whole command line.
pub fn script(shell: Shell) -> Vec<u8> {
    let generator = match shell {
        Shell::Bash => Generator::Bash,
        Shell::Zsh => Generator::Zsh,
        Shell::Fish => Generator::Fish,
        Shell::Powershell => Generator::PowerShell,
        Shell::Elvish => Generator::Elvish,
    };
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(generator, &mut command, "plinth", &mut out);
    out
}

pub fn run(args: &CompletionsArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let text = String::from_utf8_lossy(&script(args.shell)).into_owned();
    global.printer.data(&text).map_err(anyhow::Error::from)?;
    Ok(Outcome::Clean)
}
