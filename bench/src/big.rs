//! The one-big-cluster benchmark: `plinth render` of a single cluster of 10,000, 100,000 or
//! more objects (the generated fleet's first cluster with many virtual machines per tenant),
//! to show that the cost per object stays flat as a cluster grows.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::Context as _;

use crate::fleet;
use crate::render::{ChildRun, Cpu, prepare, rss, run_timed};

/// What to run.
#[derive(Debug, Clone)]
pub struct BigBench {
    /// Object counts to render, one cluster each (about; the report gives the real count).
    pub objects: Vec<usize>,
    pub seed: u64,
    pub runs: usize,
    pub jobs: usize,
    pub plinth: PathBuf,
    pub workdir: Option<PathBuf>,
}

/// Settings of the big cluster's repository: the limits raised so one template may render
/// 100,000 objects (its output is about 50 MB).
const PLINTH_YAML: &str = "\
# plinth settings of the one-big-cluster benchmark (written by plinth-bench)
paths:
  catalog: assets/metadata.yaml
limits:
  maxFileBytes: 1073741824
  templateFuel: 2000000000
";

/// Writes a repository with one cluster of about `objects` objects into `dir`.
pub fn generate(dir: &Path, objects: usize, seed: u64) -> anyhow::Result<()> {
    fleet::generate(dir, 1, seed)?;
    fs_err::write(dir.join("plinth.yaml"), PLINTH_YAML)?;
    let path = dir.join(format!("clusters/{}/cluster.yaml", fleet::cluster_name(0)));
    let text = fs_err::read_to_string(&path)?;
    let tenants = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("tenants: ["))
        .map(|l| l.split(',').count())
        .context("the generated cluster has no tenants")?;
    // About 60 objects besides the virtual machines; each VM is a VirtualMachine and a
    // DataVolume.
    let vms = objects.saturating_sub(60).div_ceil(2 * tenants).max(1);
    let text = text.replace("  vmsPerTenant: 2\n", &format!("  vmsPerTenant: {vms}\n"));
    fs_err::write(&path, text)?;
    Ok(())
}

fn count_objects(out: &Path) -> anyhow::Result<usize> {
    let cluster = out.join(fleet::cluster_name(0));
    let text = fs_err::read_to_string(cluster.join("plinth-index.json"))?;
    let index: serde_json::Value = serde_json::from_str(&text)?;
    index["objects"]
        .as_array()
        .map(Vec::len)
        .context("the index has no objects")
}

/// Runs the benchmark; the figures go to `report`.
#[allow(clippy::cast_precision_loss)] // figures for people, not exact arithmetic
pub fn run(
    b: &BigBench,
    progress: &mut dyn FnMut(&str),
    report: &mut dyn FnMut(&str),
) -> anyhow::Result<()> {
    let workdir = prepare(&b.plinth, b.workdir.as_deref(), "plinth-bench-big-")?;
    let work = workdir.path();
    let mut table = String::from(
        "| objects | wall (median) | runs | CPU (user + sys) | peak RSS | µs per object |\n|---|---|---|---|---|---|\n",
    );
    let mut previous: Option<(usize, f64)> = None;
    let mut ratios = String::new();
    for &target in &b.objects {
        let repo = work.join(format!("big-{target}"));
        if repo.exists() {
            fs_err::remove_dir_all(&repo)?;
        }
        generate(&repo, target, b.seed)?;
        let mut runs: Vec<ChildRun> = Vec::new();
        let mut objects = 0;
        for i in 0..b.runs.max(1) {
            let out = work.join(format!("big-{target}-out"));
            if out.exists() {
                fs_err::remove_dir_all(&out)?;
            }
            progress(&format!("{target} objects: run {} of {}", i + 1, b.runs));
            let run = run_timed(
                Command::new(&b.plinth)
                    .arg("render")
                    .arg(&repo)
                    .arg("--output")
                    .arg(&out)
                    .arg("--jobs")
                    .arg(b.jobs.to_string()),
            )?;
            objects = count_objects(&out)?;
            runs.push(run);
        }
        runs.sort_by_key(|r| r.wall);
        let walls: Vec<String> = runs
            .iter()
            .map(|r| format!("{:.2}", r.wall.as_secs_f64()))
            .collect();
        let median = &runs[runs.len() / 2];
        let secs = median.wall.as_secs_f64();
        let cpu = Cpu::show(median.cpu);
        let rss = rss(median.peak_rss_kib);
        let _ = writeln!(
            table,
            "| {objects} | {secs:.2} s | {} | {cpu} | {rss} | {:.1} |",
            walls.join(", "),
            secs * 1e6 / objects as f64
        );
        if let Some((n, t)) = previous {
            let _ = writeln!(
                ratios,
                "{objects} against {n} objects: {:.1}x the objects, {:.1}x the time",
                objects as f64 / n as f64,
                secs / t
            );
        }
        previous = Some((objects, secs));
    }
    report(&table);
    report(&ratios);
    Ok(())
}
