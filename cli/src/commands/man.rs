//! `plinth man`: man pages (clap's roff generator): `plinth.1` and one page per command
//! (`plinth-render.1`, …), written atomically into `--output-dir`, or the main page on
//! stdout without it.

use clap::CommandFactory as _;

use super::Outcome;
use crate::args::{Cli, ManArgs};
use crate::command_error::CommandError;
use crate::settings::GlobalSettings;

/// Every page as (file name, roff text): the main page first, then one per command in the
/// order `plinth --help` lists them (clap's own `help` command has none).
pub fn pages() -> anyhow::Result<Vec<(String, Vec<u8>)>> {
    let mut command = Cli::command();
    // Global flags and the version reach every subcommand, and each gets its display name
    // (`plinth-render`), which names its page.
    command.build();
    let mut pages = vec![("plinth.1".to_owned(), page(command.clone())?)];
    for sub in command.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("plinth-{}", sub.get_name());
        pages.push((format!("{name}.1"), page(sub.clone())?));
    }
    Ok(pages)
}

fn page(command: clap::Command) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    clap_mangen::Man::new(command).render(&mut out)?;
    Ok(out)
}

pub fn run(args: &ManArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let printer = global.printer;
    let pages = pages()?;
    let Some(dir) = args.output_dir.as_deref() else {
        let main = pages
            .first()
            .map(|(_, text)| text.as_slice())
            .unwrap_or_default();
        printer
            .data(&String::from_utf8_lossy(main))
            .map_err(anyhow::Error::from)?;
        return Ok(Outcome::Clean);
    };
    for (name, text) in &pages {
        crate::write::replacing(&dir.join(name), text)?;
    }
    printer.status(&format!(
        "wrote {} man pages into `{}`",
        pages.len(),
        dir.display()
    ));
    Ok(Outcome::Clean)
}
