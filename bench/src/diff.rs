//! The PR-preview benchmark: the generated fleet committed in a temporary git repository,
//! about 1% of its objects changed in the working tree (VM images and hugepages of one
//! cluster in sixteen), then `plinth diff --base HEAD` timed end to end with the release
//! binary, in Markdown (with `--output-dir`) and JSON.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use plinth_renderer::{Fleet, Source};
use rayon::prelude::*;

use crate::fleet;
use crate::workdir::Workdir;

/// What to measure.
#[derive(Debug, Clone)]
pub struct DiffBench {
    pub clusters: usize,
    pub seed: u64,
    /// Timed runs per format; the median is reported.
    pub runs: usize,
    /// The plinth binary.
    pub plinth: PathBuf,
    /// Work in this folder and keep it (default: a temporary folder).
    pub workdir: Option<PathBuf>,
}

/// `git ARGS` in `root` (isolated from the user's configuration, see
/// [`plinth_testkit::git`]); its stdout.
fn git(root: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = plinth_testkit::git::git_output(root, args);
    if !out.status.success() {
        bail!(
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Edits every sixteenth cluster (about 9 objects each, so about 1% of all objects):
/// another VM image (every VM and its disk change) and
/// other hugepages (a MachineConfig change, so the preview has disruptions to classify).
fn change_clusters(root: &Path, clusters: usize) -> anyhow::Result<usize> {
    let mut edited = 0;
    for i in (0..clusters).step_by(16) {
        let path = root.join(format!("clusters/{}/cluster.yaml", fleet::cluster_name(i)));
        let text = fs_err::read_to_string(&path)?;
        let mut out = String::with_capacity(text.len());
        for line in text.lines() {
            if line.starts_with("  vmImage: ") {
                out.push_str("  vmImage: docker://registry.example.invalid/images/fedora:43");
            } else if line.starts_with("  hugepages: ") {
                out.push_str("  hugepages: 64");
            } else {
                out.push_str(line);
            }
            out.push('\n');
        }
        fs_err::write(&path, out)?;
        edited += 1;
    }
    Ok(edited)
}

fn count_objects(root: &Path) -> anyhow::Result<usize> {
    let fleet = Fleet::open(Source::dir(root)?)?;
    let names = fleet.cluster_names()?;
    let counts: Vec<anyhow::Result<usize>> = names
        .par_iter()
        .map(|n| Ok(fleet.render_cluster(n)?.objects.len()))
        .collect();
    counts.into_iter().sum()
}

fn time_diff(b: &DiffBench, root: &Path, args: &[&str]) -> anyhow::Result<(Duration, Vec<u8>)> {
    let started = Instant::now();
    let out = Command::new(&b.plinth)
        .args(["diff", "--base", "HEAD"])
        .args(args)
        .current_dir(root)
        .env("PLINTH_REDACTION_KEY", "bench")
        .env("NO_COLOR", "1")
        .output()
        .with_context(|| format!("cannot run `{}`", b.plinth.display()))?;
    let wall = started.elapsed();
    if out.status.code() != Some(1) {
        bail!(
            "plinth diff exited {:?} (expected 1, changes found): {}",
            out.status.code(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok((wall, out.stdout))
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

/// Runs the benchmark; returns the figures as text.
pub fn run(b: &DiffBench, progress: &mut dyn FnMut(&str)) -> anyhow::Result<String> {
    let workdir = Workdir::new(b.workdir.as_deref(), "plinth-bench-diff-")?;
    let work = workdir.path();
    let root = work.join("platform");
    if root.exists() {
        fs_err::remove_dir_all(&root)?;
    }
    progress(&format!("writing a fleet of {} clusters", b.clusters));
    let stats = fleet::generate(&root, b.clusters, b.seed)?;
    git(&root, &["init", "-q", "-b", "main"])?;
    git(&root, &["add", "-A"])?;
    git(&root, &["commit", "-q", "-m", "fleet"])?;
    progress("counting rendered objects");
    let objects = count_objects(&root)?;
    let edited = change_clusters(&root, b.clusters)?;

    progress("timing `plinth diff --base HEAD --format json`");
    let (_, warm) = time_diff(b, &root, &["--format", "json"])?;
    let report: serde_json::Value =
        serde_json::from_slice(&warm).context("plinth diff wrote invalid JSON")?;
    let s = &report["summary"];
    let changed = [
        "objectsAdded",
        "objectsRemoved",
        "objectsChanged",
        "objectsRenamed",
    ]
    .iter()
    .map(|k| s[*k].as_u64().unwrap_or(0))
    .sum::<u64>();
    let mut json_times = Vec::new();
    for _ in 0..b.runs.max(1) {
        json_times.push(time_diff(b, &root, &["--format", "json"])?.0);
    }
    progress("timing `plinth diff --base HEAD --format markdown --output-dir`");
    let parts_dir = work.join("preview");
    let parts_arg = parts_dir.to_string_lossy().into_owned();
    let mut md_times = Vec::new();
    for _ in 0..b.runs.max(1) {
        md_times.push(
            time_diff(
                b,
                &root,
                &["--format", "markdown", "--output-dir", &parts_arg],
            )?
            .0,
        );
    }
    let parts = fs_err::read_dir(&parts_dir)?.count();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);

    let mut out = String::new();
    let _ = writeln!(out, "PR preview benchmark (`plinth diff --base HEAD`)");
    let _ = writeln!(
        out,
        "fleet: {} clusters, {} objects rendered, {} input files ({} bytes), seed {}",
        b.clusters, objects, stats.files, stats.bytes, b.seed
    );
    #[allow(clippy::cast_precision_loss)]
    let share = changed as f64 * 100.0 / objects.max(1) as f64;
    let _ = writeln!(
        out,
        "change: {edited} clusters edited in the working tree; {changed} objects changed ({share:.2}% of all), {} disruptions",
        s["disruptions"].as_u64().unwrap_or(0)
    );
    let _ = writeln!(out, "cores: {cores}; runs per format: {}", b.runs.max(1));
    let _ = writeln!(
        out,
        "json:     median {:.3} s (runs: {})",
        median(json_times.clone()).as_secs_f64(),
        list(&json_times)
    );
    let _ = writeln!(
        out,
        "markdown: median {:.3} s (runs: {}), {parts} part(s)",
        median(md_times.clone()).as_secs_f64(),
        list(&md_times)
    );
    Ok(out)
}

fn list(times: &[Duration]) -> String {
    times
        .iter()
        .map(|t| format!("{:.3}", t.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(", ")
}
