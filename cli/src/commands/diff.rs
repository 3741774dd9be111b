//! `plinth diff`: the pull-request preview. Reads base (and head, or the working tree)
//! straight from git, renders the clusters whose inputs differ, compares them object by
//! object and prints the preview as terminal text, Markdown parts or JSON.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use plinth_renderer::render::Prepared;
use plinth_renderer::{Fleet, RenderedCluster, Source};
use plinth_review::diff::{self, ClusterDiff, DiffReport, Side};
use plinth_review::git::{GitRepo, Revision};
use plinth_review::preview;
use plinth_vocab::redact::Redactor;
use rayon::prelude::*;

use super::Outcome;
use crate::args::{ClustersArg, DiffArgs, DiffFormat, GitRepoArg, JobsArg};
use crate::command_error::CommandError;
use crate::printer::Printer;
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
    color: bool,
}

/// One side of the comparison: its name for messages and the opened fleet.
struct Opened {
    /// `base revision `main` (abc1234)` or `the working tree`.
    label: String,
    side: Side,
    fleet: Fleet,
    names: BTreeSet<String>,
    /// Every input file by path (output folder and hidden entries left out), or `None`
    /// when one could not be read cheaply (then every cluster is prepared).
    inputs: Option<BTreeMap<String, Vec<u8>>>,
}

/// Reads every input file of a repository except the output folder and hidden entries.
fn input_files(source: &Source, output: &str, limit: u64) -> Option<BTreeMap<String, Vec<u8>>> {
    let mut paths = Vec::new();
    match source.root() {
        Some(root) => {
            for entry in fs_err::read_dir(root).ok()? {
                let entry = entry.ok()?;
                let name = entry.file_name().to_str()?.to_owned();
                if name.starts_with('.') || name == output {
                    continue;
                }
                if entry.file_type().ok()?.is_dir() {
                    paths.extend(source.files_under(&name).ok()?);
                } else {
                    paths.push(name);
                }
            }
        }
        None => paths = source.files_under("").ok()?,
    }
    let prefix = format!("{output}/");
    let mut files = BTreeMap::new();
    for path in paths {
        if path.starts_with(&prefix) {
            continue;
        }
        match source.read(&path, limit) {
            Ok(bytes) => {
                files.insert(path, bytes);
            }
            // Too large to be an input: a revision leaves such files out too (the renderer
            // reports them if it needs them).
            Err(plinth_renderer::RenderError::TooLarge { .. }) => {}
            Err(_) => return None,
        }
    }
    Some(files)
}

/// The clusters whose inputs are byte-identical on both sides: the same files outside the
/// clusters folder and the same files in the cluster's own folder (a cluster naming a
/// `userDataFile` is never assumed unchanged: the file may sit in another folder).
fn unchanged_clusters(base: &Opened, head: &Opened) -> BTreeSet<String> {
    let (Some(b), Some(a)) = (&base.inputs, &head.inputs) else {
        return BTreeSet::new();
    };
    let dir = &base.fleet.settings.paths.clusters;
    if *dir != head.fleet.settings.paths.clusters {
        return BTreeSet::new();
    }
    let prefix = format!("{dir}/");
    let shared = |m: &BTreeMap<String, Vec<u8>>| -> Vec<(String, Vec<u8>)> {
        m.iter()
            .filter(|(p, _)| !p.starts_with(&prefix))
            .map(|(p, v)| (p.clone(), v.clone()))
            .collect()
    };
    if shared(b) != shared(a) {
        return BTreeSet::new();
    }
    let by_cluster = |m: &BTreeMap<String, Vec<u8>>| {
        let mut out: BTreeMap<String, Vec<(String, Vec<u8>)>> = BTreeMap::new();
        for (path, bytes) in m.range(prefix.clone()..) {
            let Some(rest) = path.strip_prefix(&prefix) else {
                break;
            };
            let name = rest.split_once('/').map_or(rest, |(n, _)| n);
            out.entry(name.to_owned())
                .or_default()
                .push((path.clone(), bytes.clone()));
        }
        out
    };
    let (b, a) = (by_cluster(b), by_cluster(a));
    b.into_iter()
        .filter(|(name, files)| {
            a.get(name) == Some(files)
                && !files
                    .iter()
                    .any(|(_, bytes)| bytes.windows(12).any(|w| w == b"userDataFile"))
        })
        .map(|(name, _)| name)
        .collect()
}

fn open_side(repo: &GitRepo, role: &str, rev: Option<&str>) -> anyhow::Result<Opened> {
    let Some(spec) = rev else {
        let source = repo
            .worktree_source()
            .context("cannot render the working tree")?;
        let side = Side {
            spec: "working tree".to_owned(),
            commit: None,
        };
        return open_fleet("the working tree".to_owned(), side, source);
    };
    let resolved: Revision = repo
        .resolve(spec)
        .with_context(|| format!("cannot render {role} revision `{spec}`"))?;
    let label = format!("{role} revision `{spec}` ({})", resolved.short());
    let source = repo
        .source_at(&resolved)
        .with_context(|| format!("cannot render {label}"))?;
    let side = Side {
        spec: spec.to_owned(),
        commit: Some(resolved.id.clone()),
    };
    open_fleet(label, side, source)
}

fn open_fleet(label: String, side: Side, source: Source) -> anyhow::Result<Opened> {
    let fleet = Fleet::open(source).with_context(|| format!("cannot render {label}"))?;
    let inputs = input_files(
        &fleet.source,
        &fleet.settings.paths.output,
        fleet.settings.limits.max_file_bytes,
    );
    let names = fleet
        .cluster_names()
        .with_context(|| format!("cannot render {label}"))?
        .into_iter()
        .collect();
    Ok(Opened {
        label,
        side,
        fleet,
        names,
        inputs,
    })
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
    let color = printer.color();
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
    Ok(diff(&settings, printer)?)
}

/// A cluster's prepared inputs on one side, or the error that stopped them.
type PrepareResult = Option<Result<Prepared, plinth_renderer::RenderError>>;

fn render_side(
    side: &Opened,
    name: &str,
    prepared: PrepareResult,
) -> anyhow::Result<Option<RenderedCluster>> {
    let Some(prepared) = prepared else {
        return Ok(None);
    };
    let context = || format!("cannot render {}: cluster `{name}`", side.label);
    let prepared = prepared.with_context(context)?;
    side.fleet.render(&prepared).map(Some).with_context(context)
}

fn prepare(side: &Opened, name: &str) -> PrepareResult {
    side.names.contains(name).then(|| side.fleet.prepare(name))
}

fn compare(
    base: &Opened,
    head: &Opened,
    name: &str,
    redactor: &Redactor,
) -> anyhow::Result<Option<ClusterDiff>> {
    let before = prepare(base, name);
    let after = prepare(head, name);
    // Equal input digests render byte-identical output: nothing to compare.
    if let (Some(Ok(b)), Some(Ok(a))) = (&before, &after)
        && b.input_digest == a.input_digest
    {
        return Ok(None);
    }
    let before = render_side(base, name, before)?;
    let after = render_side(head, name, after)?;
    Ok(diff::compare_cluster(
        name,
        before.as_ref(),
        after.as_ref(),
        redactor,
    ))
}

fn diff(s: &DiffSettings, printer: Printer) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let repo = GitRepo::open(&s.repo)
        .with_context(|| format!("cannot open the platform repository `{}`", s.repo.display()))?;
    let base = open_side(&repo, "base", Some(&s.base))?;
    let head = open_side(&repo, "head", s.head.as_deref())?;
    let all: BTreeSet<String> = base.names.union(&head.names).cloned().collect();
    let names: Vec<String> = if s.clusters.is_empty() {
        all.iter().cloned().collect()
    } else {
        for wanted in &s.clusters {
            if !all.contains(wanted) {
                let known: Vec<&String> = all.iter().collect();
                return Err(CommandError::unknown_cluster(wanted, &known).into());
            }
        }
        s.clusters
            .iter()
            .cloned()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect()
    };
    // Clusters whose input files are byte-identical need not even be prepared.
    let unchanged = unchanged_clusters(&base, &head);
    let names_to_compare: Vec<&String> = names.iter().filter(|n| !unchanged.contains(*n)).collect();
    printer.detail(&format!(
        "{} of {} clusters have identical inputs on both sides",
        unchanged.len(),
        names.len()
    ));
    let redactor = Redactor::shared();
    let pool = crate::jobs::pool(s.jobs, names_to_compare.len(), printer)?;
    let results: Vec<anyhow::Result<Option<ClusterDiff>>> = pool.install(|| {
        names_to_compare
            .par_iter()
            .map(|name| compare(&base, &head, name, redactor))
            .collect()
    });
    let mut clusters = Vec::new();
    for r in results {
        if let Some(c) = r? {
            clusters.push(c);
        }
    }
    let report = DiffReport::new(base.side.clone(), head.side.clone(), names.len(), clusters);
    printer.detail(&format!(
        "compared {} clusters in {:.2?}",
        names.len(),
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
            preview::terminal(report, redactor, s.color),
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
