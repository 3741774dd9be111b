//! `plinth report`: the fleet view from the JSON reports of drift and apply runs of many
//! clusters: one self-contained HTML page and a Markdown summary, to files (atomically) or one
//! of them to stdout. Every file is read and checked before anything is written.

use std::path::PathBuf;

use plinth_fleet::{Fleet, State};
use plinth_vocab::redact::Redactor;

use super::Outcome;
use crate::args::{FleetFormat, FleetReportArgs};
use crate::command_error::CommandError;
use crate::settings::GlobalSettings;

/// Runs `plinth report`: exit 0 when every cluster is in sync, 1 when some cluster has
/// problems or is incomplete, 2 for a report that cannot be read.
pub fn run(args: FleetReportArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let FleetReportArgs {
        files,
        output,
        html,
        markdown,
        format,
        max_report_mib,
    } = args;
    let printer = global.printer;
    let max_bytes = max_report_mib.max(1).saturating_mul(1024 * 1024);
    let redactor = Redactor::shared();
    let mut inputs = Vec::with_capacity(files.len());
    for file in &files {
        let input = plinth_fleet::read(file, max_bytes, redactor).map_err(|e| {
            CommandError::user(e.to_string())
                .hint("give the JSON reports of `plinth drift --format json` and `plinth apply --format json`")
        })?;
        inputs.push(input);
    }
    let fleet = Fleet::new(inputs);
    let mut targets: Vec<(PathBuf, String)> = Vec::new();
    if let Some(dir) = &output {
        fs_err::create_dir_all(dir).map_err(anyhow::Error::from)?;
        targets.push((dir.join("fleet.html"), plinth_fleet::page::render(&fleet)));
        targets.push((dir.join("fleet.md"), plinth_fleet::summary::render(&fleet)));
    }
    if let Some(path) = &html {
        targets.push((path.clone(), plinth_fleet::page::render(&fleet)));
    }
    if let Some(path) = &markdown {
        targets.push((path.clone(), plinth_fleet::summary::render(&fleet)));
    }
    if targets.is_empty() {
        let text = match format {
            FleetFormat::Html => plinth_fleet::page::render(&fleet),
            FleetFormat::Markdown => plinth_fleet::summary::render(&fleet),
        };
        printer.data(&text).map_err(anyhow::Error::from)?;
    }
    for (path, text) in &targets {
        crate::write::replacing(path, text.as_bytes())?;
        printer.status(&format!("wrote `{}`", path.display()));
    }
    printer.status(&format!(
        "{} ({} report(s))",
        fleet.headline(),
        fleet.reports
    ));
    Ok(match fleet.state() {
        State::InSync => Outcome::Clean,
        State::Problems | State::Incomplete => Outcome::Found,
    })
}
