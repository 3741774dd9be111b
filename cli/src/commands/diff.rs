//! `plinth diff`: the pull-request preview. The arguments become a
//! [`PreviewRequest`]; [`PullRequest`] (in `plinth-review`) reads both sides from git,
//! renders and compares; this command prints the preview as terminal text, Markdown parts or
//! JSON, or writes it to `--output-dir`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use plinth_review::diff::DiffReport;
use plinth_review::preview;
use plinth_review::pull_request::{PreviewRequest, PullRequest};
use plinth_vocab::redact::Redactor;

use super::Outcome;
use crate::args::{ClustersArg, DiffArgs, DiffFormat, GitRepoArg, JobsArg};
use crate::command_error::CommandError;
use crate::printer::{Printer, Role};
use crate::settings::GlobalSettings;

/// Settings of one diff run, resolved from the arguments and the global settings.
#[derive(Debug)]
struct DiffSettings {
    repo: PathBuf,
    base: String,
    head: Option<String>,
    clusters: Vec<String>,
    format: DiffFormat,
    output_dir: Option<PathBuf>,
    jobs: Option<usize>,
}

pub fn run(args: DiffArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let DiffArgs {
        base,
        head,
        repo: GitRepoArg { repo },
        clusters: ClustersArg { clusters },
        format,
        output_dir,
        jobs: JobsArg { jobs },
    } = args;
    // A preview written to files is never coloured.
    let printer = if output_dir.is_some() {
        global.printer.without_color()
    } else {
        global.printer
    };
    let settings = DiffSettings {
        repo,
        base,
        head,
        clusters,
        format,
        output_dir,
        jobs,
    };
    Ok(diff(&settings, printer)?)
}

fn diff(s: &DiffSettings, printer: Printer) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let request = PreviewRequest {
        repo: &s.repo,
        base: &s.base,
        head: s.head.as_deref(),
        clusters: &s.clusters,
    };
    let review = PullRequest::open(&request)?;
    printer.detail(&format!(
        "{} of {} clusters have identical inputs on both sides",
        review.unchanged_count(),
        review.cluster_count()
    ));
    let redactor = Redactor::shared();
    let pool = crate::jobs::pool(s.jobs, review.to_compare(), printer)?;
    let report = pool.install(|| review.compare(redactor))?;
    printer.detail(&format!(
        "compared {} clusters in {:.2?}",
        review.cluster_count(),
        started.elapsed()
    ));
    emit(&report, s, redactor, printer)?;
    Ok(if report.has_changes() {
        Outcome::Found
    } else {
        Outcome::Clean
    })
}

fn emit(
    report: &DiffReport,
    s: &DiffSettings,
    redactor: &Redactor,
    printer: Printer,
) -> anyhow::Result<()> {
    let files: BTreeMap<String, String> = match s.format {
        DiffFormat::Terminal => BTreeMap::from([(
            "preview.txt".to_owned(),
            preview::terminal(report, redactor, &terminal_style(printer)),
        )]),
        DiffFormat::Json => {
            BTreeMap::from([("preview.json".to_owned(), preview::json(report, redactor))])
        }
        DiffFormat::Markdown => {
            let parts = preview::markdown_parts(report, redactor, preview::GITHUB_COMMENT_LIMIT);
            let n = parts.len();
            parts
                .into_iter()
                .enumerate()
                .map(|(i, p)| (preview::part_file_name(i, n), p))
                .collect()
        }
    };
    if let Some(dir) = &s.output_dir {
        return write_files(dir, &files, printer);
    }
    let text: Vec<&str> = files.values().map(String::as_str).collect();
    printer
        .data(&text.join("\n"))
        .context("cannot write the preview to stdout")
}

/// The terminal preview's marks: the printer's colours (none when colour is off).
fn terminal_style(printer: Printer) -> preview::Style {
    let mark = |role| {
        let (prefix, suffix) = printer.codes(role);
        preview::Mark { prefix, suffix }
    };
    preview::Style {
        header: mark(Role::Heading),
        added: mark(Role::Added),
        removed: mark(Role::Removed),
        changed: mark(Role::Changed),
        warning: mark(Role::Changed),
        hunk: mark(Role::Position),
    }
}

fn write_files(
    dir: &Path,
    files: &BTreeMap<String, String>,
    printer: Printer,
) -> anyhow::Result<()> {
    fs_err::create_dir_all(dir)?;
    // Parts of an earlier, larger preview must not linger beside the new ones.
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let ours = matches!(name.as_str(), "preview.txt" | "preview.json")
            || name
                .strip_prefix("preview-part-")
                .and_then(|rest| rest.strip_suffix(".md"))
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
        if ours && !files.contains_key(&name) {
            fs_err::remove_file(entry.path())?;
        }
    }
    for (name, text) in files {
        crate::write::replacing(&dir.join(name), text.as_bytes())?;
    }
    printer.status(&format!(
        "wrote {} file(s) to `{}`",
        files.len(),
        dir.display()
    ));
    Ok(())
}
