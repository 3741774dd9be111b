//! What several commands share, so that no command imports another: opening the platform
//! repository, the live source of `drift` and `apply`, their report formats and where they are
//! written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use plinth_drift::core::report::Format;
use plinth_drift::engine::LiveSource;
use plinth_renderer::{Fleet, Source};

use crate::args::{LiveArgs, ReportArgs};
use crate::command_error::CommandError;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

/// Opens the platform repository folder `repo`.
pub fn open_fleet(repo: &Path) -> anyhow::Result<Fleet> {
    let source = Source::dir(repo)
        .with_context(|| format!("cannot open the platform repository `{}`", repo.display()))?;
    Ok(Fleet::open(source)?)
}

/// The live source the arguments name: the snapshot, else the cluster.
pub fn live_source(live: LiveArgs, global: &GlobalSettings) -> LiveSource {
    match live.snapshot {
        Some(path) => LiveSource::Snapshot {
            path,
            max_file_bytes: live
                .max_snapshot_file_mib
                .max(1)
                .saturating_mul(1024 * 1024),
            allow_empty: live.allow_empty,
        },
        None => LiveSource::Cluster(super::cluster_client::connect_options(
            live.kubeconfig,
            live.requests,
            &global.kube_env,
        )),
    }
}

/// The report formats (text when none) and the output folder; several formats need a folder.
pub fn report_targets(reports: ReportArgs) -> Result<(Vec<Format>, Option<PathBuf>), CommandError> {
    let formats: BTreeSet<Format> = reports.formats.into_iter().collect();
    let mut formats: Vec<Format> = formats.into_iter().collect();
    if formats.is_empty() {
        formats.push(Format::Text);
    }
    if formats.len() > 1 && reports.output_dir.is_none() {
        return Err(
            CommandError::user("several `--format`s need `--output-dir`")
                .hint("add `--output-dir DIR`; each format is written to its own file there"),
        );
    }
    Ok((formats, reports.output_dir))
}

/// Each of `formats` rendered by `render` (its file name and text): the first to stdout
/// without `output_dir`, else each to its file there (atomically).
pub fn write_each(
    formats: &[Format],
    output_dir: Option<&Path>,
    printer: Printer,
    render: impl Fn(Format) -> (&'static str, String),
) -> anyhow::Result<()> {
    let Some(dir) = output_dir else {
        let format = formats.first().copied().unwrap_or(Format::Text);
        printer.data(&render(format).1)?;
        return Ok(());
    };
    fs_err::create_dir_all(dir)?;
    for format in formats {
        let (name, text) = render(*format);
        let path = dir.join(name);
        crate::write::replacing(&path, text.as_bytes())?;
        printer.status(&format!("wrote `{}`", path.display()));
    }
    Ok(())
}
