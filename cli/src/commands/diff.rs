//! `plinth diff`: the pull-request preview. The arguments become a
//! [`PreviewRequest`]; [`PullRequest`] (in `plinth-review`) reads both sides from git,
//! renders and compares; this command prints the preview as terminal text, Markdown parts or
//! JSON, or writes it to `--output-dir`.

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use plinth_review::ReviewError;
use plinth_review::diff::DiffReport;
use plinth_review::preview;
use plinth_review::pull_request::{PreviewRequest, PullRequest};
use plinth_vocab::redact::Redactor;

use super::Outcome;
use crate::args::{DiffArgs, DiffFormat};
use crate::printer::Printer;
use crate::report::Hinted;

/// Settings of one diff run, resolved from the arguments and the environment.
#[derive(Debug)]
struct DiffSettings {
    repo: PathBuf,
    base: String,
    head: Option<String>,
    clusters: Vec<String>,
    format: DiffFormat,
    output_dir: Option<PathBuf>,
    jobs: Option<usize>,
    color: bool,
}

pub fn run(args: DiffArgs, printer: Printer) -> anyhow::Result<Outcome> {
    let DiffArgs {
        base,
        head,
        repo,
        clusters,
        format,
        output_dir,
        jobs,
    } = args;
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let color = output_dir.is_none() && !no_color && std::io::stdout().is_terminal();
    let settings = DiffSettings {
        repo,
        base,
        head,
        clusters,
        format,
        output_dir,
        jobs,
        color,
    };
    diff(&settings, printer).map_err(|err| redact_error(err, Redactor::shared()))
}

/// An error whose messages hold something that looks like a credential (a template line
/// quoted by a parser, say) comes back with those values fingerprinted; other errors are
/// returned as they are, hints included.
pub fn redact_error(err: anyhow::Error, redactor: &Redactor) -> anyhow::Error {
    let messages: Vec<String> = err.chain().map(ToString::to_string).collect();
    let redacted: Vec<String> = messages.iter().map(|m| redactor.redact_text(m)).collect();
    if redacted == messages {
        return err;
    }
    let mut rebuilt: Option<anyhow::Error> = None;
    for message in redacted.into_iter().rev() {
        rebuilt = Some(match rebuilt {
            None => anyhow::Error::msg(message),
            Some(inner) => inner.context(message),
        });
    }
    rebuilt.unwrap_or(err)
}

fn diff(s: &DiffSettings, printer: Printer) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let request = PreviewRequest {
        repo: &s.repo,
        base: &s.base,
        head: s.head.as_deref(),
        clusters: &s.clusters,
    };
    let review = PullRequest::open(&request).map_err(|err| match err {
        ReviewError::UnknownCluster { ref known, .. } => anyhow::Error::new(Hinted {
            message: err.to_string(),
            hint: format!("the clusters are: {}", known.join(", ")),
        }),
        err => err.into(),
    })?;
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
            preview::terminal(report, redactor, &terminal_style(s.color)),
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

/// The terminal preview's marks: ANSI colours when `color` (a TTY without `NO_COLOR`).
/// Glue until the printer owns the colour style.
fn terminal_style(color: bool) -> preview::Style {
    if !color {
        return preview::Style::plain();
    }
    let mark = |prefix| preview::Mark {
        prefix,
        suffix: "\x1b[0m",
    };
    preview::Style {
        header: mark("\x1b[1m"),
        added: mark("\x1b[32m"),
        removed: mark("\x1b[31m"),
        changed: mark("\x1b[33m"),
        warning: mark("\x1b[33m"),
        hunk: mark("\x1b[36m"),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_holding_credentials_are_redacted() {
        let r = Redactor::with_key(b"k");
        let err = anyhow::anyhow!("line 3: password: hunter2").context("cannot render");
        let text = format!("{:#}", redact_error(err, &r));
        assert!(!text.contains("hunter2"), "{text}");
        assert!(
            text.starts_with("cannot render: line 3: password: <redacted"),
            "{text}"
        );
        let plain = anyhow::anyhow!("plain").context("outer");
        assert_eq!(format!("{:#}", redact_error(plain, &r)), "outer: plain");
    }
}
