//! The render benchmark: generate a fleet, time the real `plinth render` (full, then again
//! with nothing changed), the floor (serialising, hashing and writing the same bytes) and
//! `kubectl kustomize` over the equivalent overlays, and print the figures as a table.

#![allow(
    clippy::cast_precision_loss,
    reason = "figures are printed with a few significant digits; counts stay far below 2^52"
)]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use plinth_renderer::output::{self, ClusterOutput};
use plinth_renderer::{Fleet, RenderedCluster, Source};
use plinth_vocab::yaml;
use rayon::prelude::*;
use sha2::{Digest as _, Sha256};

use crate::workdir::Workdir;
use crate::{fleet, kustomize};

/// Settings of one benchmark run.
#[derive(Debug, Clone)]
pub struct RenderBench {
    pub clusters: usize,
    pub seed: u64,
    /// Worker threads for plinth, the floor and the number of kustomize processes at once.
    pub jobs: usize,
    /// Time kustomize over this many clusters only, and extrapolate linearly.
    pub kustomize_clusters: Option<usize>,
    /// Timed runs of plinth and the floor; the median is reported.
    pub runs: usize,
    /// The `plinth` binary to run.
    pub plinth: PathBuf,
    /// Keep the work folder here instead of a temporary one.
    pub workdir: Option<PathBuf>,
}

/// One timed child process.
#[derive(Debug, Clone)]
pub struct ChildRun {
    pub wall: Duration,
    /// Peak resident set size (`VmHWM`), KiB, when it could be read.
    pub peak_rss_kib: Option<u64>,
    /// User and system CPU time, when it could be read.
    pub cpu: Option<Cpu>,
    pub stderr: String,
}

/// CPU time of a process, from `/proc/<pid>/stat` (in clock ticks of 1/100 s, Linux's
/// `USER_HZ` on every architecture plinth runs on).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Cpu {
    pub user_ticks: u64,
    pub system_ticks: u64,
}

impl Cpu {
    fn read(stat_path: &str) -> Option<Self> {
        let stat = fs_err::read_to_string(stat_path).ok()?;
        // Fields after the command name (which may hold spaces) start at field 3 (`state`).
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        Some(Self {
            user_ticks: fields.get(11)?.parse().ok()?,
            system_ticks: fields.get(12)?.parse().ok()?,
        })
    }

    fn since(self, earlier: Self) -> Self {
        Self {
            user_ticks: self.user_ticks.saturating_sub(earlier.user_ticks),
            system_ticks: self.system_ticks.saturating_sub(earlier.system_ticks),
        }
    }

    /// User plus system time, seconds.
    fn seconds(self) -> f64 {
        (self.user_ticks + self.system_ticks) as f64 / 100.0
    }

    /// `a / b` of two CPU times, shown, or `n/a`.
    fn ratio(a: Option<Self>, b: Option<Self>) -> String {
        match (a, b) {
            (Some(a), Some(b)) if b.seconds() > 0.0 => format!("{:.2}", a.seconds() / b.seconds()),
            _ => "n/a".into(),
        }
    }

    pub fn show(cpu: Option<Self>) -> String {
        cpu.map_or_else(
            || "n/a".into(),
            |c| {
                format!(
                    "{:.2}s user + {:.2}s sys",
                    c.user_ticks as f64 / 100.0,
                    c.system_ticks as f64 / 100.0
                )
            },
        )
    }
}

fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = fs_err::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Runs `cmd` to completion, timing it and sampling its peak RSS from `/proc` while it runs
/// (`VmHWM` only grows, so the last sample is the peak up to a few milliseconds before exit).
pub fn run_timed(cmd: &mut Command) -> anyhow::Result<ChildRun> {
    let err_file = tempfile::tempfile().context("cannot create a temporary file")?;
    let started = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(
            err_file
                .try_clone()
                .context("cannot share a temporary file")?,
        )
        .spawn()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    let pid = child.id();
    let mut peak = None;
    let mut cpu = None;
    let stat = format!("/proc/{pid}/stat");
    let status = loop {
        if let Some(status) = child
            .try_wait()
            .context("cannot wait for a child process")?
        {
            break status;
        }
        if let Some(kib) = vm_hwm_kib(pid) {
            peak = Some(peak.map_or(kib, |p: u64| p.max(kib)));
        }
        if let Some(c) = Cpu::read(&stat) {
            cpu = Some(c);
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let wall = started.elapsed();
    let mut stderr = String::new();
    let mut f = err_file;
    std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(0))?;
    std::io::Read::read_to_string(&mut f, &mut stderr)?;
    if !status.success() {
        bail!("{cmd:?} failed ({status}):\n{stderr}");
    }
    Ok(ChildRun {
        wall,
        peak_rss_kib: peak,
        cpu,
        stderr,
    })
}

/// A cluster rendered in-process, and its files.
type Rendered = (RenderedCluster, ClusterOutput);

/// Time spent in each phase of an in-process render, summed over worker threads.
#[derive(Debug, Default)]
struct Phases {
    prepare: AtomicU64,
    render: AtomicU64,
    materialize: AtomicU64,
}

fn add(counter: &AtomicU64, since: Instant) -> Instant {
    let now = Instant::now();
    let nanos = u64::try_from((now - since).as_nanos()).unwrap_or(u64::MAX);
    counter.fetch_add(nanos, Ordering::Relaxed);
    now
}

fn secs(counter: &AtomicU64) -> f64 {
    Duration::from_nanos(counter.load(Ordering::Relaxed)).as_secs_f64()
}

/// Renders every cluster in-process (untimed by the headline figures; its phases are
/// reported as a profile).
fn render_in_process(
    repo: &Path,
    pool: &rayon::ThreadPool,
) -> anyhow::Result<(Vec<Rendered>, Phases, Duration)> {
    let started = Instant::now();
    let fleet = Fleet::open(Source::dir(repo)?)?;
    let names = fleet.cluster_names()?;
    let phases = Phases::default();
    let results: Vec<anyhow::Result<Rendered>> = pool.install(|| {
        names
            .par_iter()
            .map(|name| {
                let t = Instant::now();
                let prepared = fleet.prepare(name)?;
                let t = add(&phases.prepare, t);
                let rendered = fleet.render(&prepared)?;
                let t = add(&phases.render, t);
                let out = output::materialize(&rendered, &fleet.settings);
                add(&phases.materialize, t);
                Ok((rendered, out))
            })
            .collect()
    });
    let all = results.into_iter().collect::<anyhow::Result<Vec<_>>>()?;
    Ok((all, phases, started.elapsed()))
}

/// The run with the median wall time (the upper one of an even count) and the spread of all
/// runs' wall times as `min-max`.
fn median<T>(mut runs: Vec<T>, wall: impl Fn(&T) -> Duration) -> (T, String) {
    runs.sort_by_key(|r| wall(r));
    let spread = match (runs.first(), runs.last()) {
        (Some(lo), Some(hi)) => format!(
            "{:.3}-{:.3}s",
            wall(lo).as_secs_f64(),
            wall(hi).as_secs_f64()
        ),
        _ => String::new(),
    };
    let mid = runs.len() / 2;
    (runs.swap_remove(mid), spread)
}

/// The floor: serialise every object and the index, hash every object's canonical form, and
/// write the same files plinth writes into a fresh folder, in parallel.
fn floor(
    out_root: &Path,
    clusters: &[Rendered],
    pool: &rayon::ThreadPool,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    pool.install(|| {
        clusters.par_iter().try_for_each(|(rendered, out)| {
            let dir = out_root.join(&rendered.name);
            fs_err::create_dir_all(&dir)?;
            let files: std::collections::BTreeMap<(&str, Option<&str>, &str), &str> = out
                .index
                .objects
                .iter()
                .map(|o| {
                    (
                        (o.kind.as_str(), o.namespace.as_deref(), o.name.as_str()),
                        o.file.as_str(),
                    )
                })
                .collect();
            for o in &rendered.objects {
                let id = &o.identity;
                let file = files
                    .get(&(id.kind.as_str(), id.namespace.as_deref(), id.name.as_str()))
                    .context("an object is missing from the index")?;
                let mut text =
                    format!("# rendered by plinth from asset {}; do not edit\n", o.asset);
                text.push_str(&yaml::to_string(&o.value));
                let digest = hex::encode(Sha256::digest(output::canonical(&o.value)));
                std::hint::black_box(digest);
                fs_err::write(dir.join(file), text)?;
            }
            let mut index = serde_json::to_string_pretty(&out.index)?;
            index.push('\n');
            fs_err::write(dir.join(plinth_renderer::index::FILE), index)?;
            if let Some(k) = out.files.get(output::KUSTOMIZATION) {
                fs_err::write(dir.join(output::KUSTOMIZATION), k)?;
            }
            anyhow::Ok(())
        })
    })?;
    Ok(started.elapsed())
}

/// Whether two output roots hold the same files with the same bytes; returns the file count.
fn same_tree(plinth_out: &Path, floor_out: &Path, clusters: &[Rendered]) -> anyhow::Result<usize> {
    let mut count = 0;
    for (rendered, out) in clusters {
        for name in out.files.keys() {
            let ours = fs_err::read(plinth_out.join(&rendered.name).join(name))?;
            let floor = fs_err::read(floor_out.join(&rendered.name).join(name))?;
            if ours != floor {
                bail!(
                    "`{}/{name}` differs between plinth's output and the floor",
                    rendered.name
                );
            }
            count += 1;
        }
    }
    Ok(count)
}

/// The kustomize half of the benchmark.
#[derive(Debug)]
struct KustomizeRun {
    timed_clusters: usize,
    wall: Duration,
    /// `wall` scaled to the whole fleet (equal to `wall` when every cluster was timed).
    fleet_wall: Duration,
    layout: kustomize::LayoutStats,
    equivalent: String,
}

fn kubectl_available() -> bool {
    Command::new("kubectl")
        .args(["version", "--client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn run_kustomize(
    work: &Path,
    clusters: &[Rendered],
    timed: usize,
    pool: &rayon::ThreadPool,
) -> anyhow::Result<KustomizeRun> {
    let layout_dir = work.join("kustomize");
    let rendered: Vec<RenderedCluster> = clusters.iter().map(|(r, _)| r.clone()).collect();
    let layout = kustomize::build(&layout_dir, &rendered)?;
    let built_dir = work.join("kustomize-built");
    fs_err::create_dir_all(&built_dir)?;
    let selected = &rendered[..timed.min(rendered.len())];
    let started = Instant::now();
    pool.install(|| {
        selected.par_iter().try_for_each(|c| {
            let out = fs_err::File::create(built_dir.join(format!("{}.yaml", c.name)))?;
            let status = Command::new("kubectl")
                .arg("kustomize")
                .arg(layout_dir.join(kustomize::overlay_dir(&c.name)))
                .stdin(Stdio::null())
                .stdout(out.into_file())
                .stderr(Stdio::inherit())
                .status()?;
            if !status.success() {
                bail!("`kubectl kustomize` failed for `{}` ({status})", c.name);
            }
            Ok(())
        })
    })?;
    let wall = started.elapsed();
    let fleet_wall = wall.mul_f64(rendered.len() as f64 / selected.len().max(1) as f64);
    // Check, untimed, that kustomize built what plinth rendered.
    let mut mismatches = Vec::new();
    for c in selected {
        let text = fs_err::read_to_string(built_dir.join(format!("{}.yaml", c.name)))?;
        if let Err(e) = kustomize::compare(&text, c) {
            mismatches.push(format!("{}: {e}", c.name));
        }
    }
    let equivalent = if mismatches.is_empty() {
        format!("yes, all {} built clusters", selected.len())
    } else {
        format!(
            "NO, {} of {} differ; first: {}",
            mismatches.len(),
            selected.len(),
            mismatches[0]
        )
    };
    Ok(KustomizeRun {
        timed_clusters: selected.len(),
        wall,
        fleet_wall,
        layout,
        equivalent,
    })
}

fn machine() -> String {
    let cpu = fs_err::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("model name"))
                .map(|v| v.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = fs_err::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(
            || "? GiB".into(),
            |kib| format!("{:.1} GiB", kib as f64 / 1_048_576.0),
        );
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let load = fs_err::read_to_string("/proc/loadavg").ok().map_or_else(
        || "?".into(),
        |l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "),
    );
    format!("{cores} cores ({cpu}), {mem} RAM; load average before the run {load}")
}

/// The work folder of a benchmark of the plinth binary `plinth` (named, or a temporary one
/// whose name starts with `prefix`), after checking the binary is there.
pub fn prepare(plinth: &Path, named: Option<&Path>, prefix: &str) -> anyhow::Result<Workdir> {
    require_plinth(plinth)?;
    Workdir::new(named, prefix)
}

/// Fails with how to build it when the plinth binary to time is missing.
fn require_plinth(plinth: &Path) -> anyhow::Result<()> {
    if !plinth.is_file() {
        bail!(
            "`{}` not found: build it first with `cargo build --release -p plinth`",
            plinth.display()
        );
    }
    Ok(())
}

pub fn rss(kib: Option<u64>) -> String {
    kib.map_or_else(|| "n/a".into(), |k| format!("{:.0} MiB", k as f64 / 1024.0))
}

/// Runs the benchmark: progress goes to `progress`, the figures (a small table) to `report`,
/// before the temporary work folder is removed (which can take a while on a file system
/// mounted with `discard`).
pub fn run(
    b: &RenderBench,
    progress: &mut dyn FnMut(&str),
    report: &mut dyn FnMut(&str),
) -> anyhow::Result<()> {
    let machine = machine();
    let workdir = prepare(&b.plinth, b.workdir.as_deref(), "plinth-bench-")?;
    let work = workdir.path();
    let repo = work.join("repo");
    let out = work.join("rendered");
    for d in [
        &repo,
        &out,
        &work.join("floor"),
        &work.join("kustomize"),
        &work.join("kustomize-built"),
    ] {
        if d.exists() {
            fs_err::remove_dir_all(d)?;
        }
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(b.jobs)
        .build()
        .context("cannot start worker threads")?;

    progress(&format!(
        "generating {} clusters (seed {})",
        b.clusters, b.seed
    ));
    let t = Instant::now();
    let stats = fleet::generate(&repo, b.clusters, b.seed)?;
    let generate_wall = t.elapsed();

    let plinth_cmd = || {
        let mut c = Command::new(&b.plinth);
        c.arg("render")
            .arg(&repo)
            .arg("--output")
            .arg(&out)
            .arg("--jobs")
            .arg(b.jobs.to_string());
        c
    };
    let runs = b.runs.max(1);
    let mut full_runs = Vec::with_capacity(runs);
    let mut again_runs = Vec::with_capacity(runs);
    for run in 1..=runs {
        if out.exists() {
            fs_err::remove_dir_all(&out)?;
        }
        progress(&format!("plinth render (full), run {run} of {runs}"));
        full_runs.push(run_timed(&mut plinth_cmd())?);
        progress(&format!(
            "plinth render (nothing changed), run {run} of {runs}"
        ));
        again_runs.push(run_timed(&mut plinth_cmd())?);
    }
    let (full, full_spread) = median(full_runs, |r| r.wall);
    let (again, again_spread) = median(again_runs, |r| r.wall);

    progress("in-process render (for the floor and the profile)");
    let (clusters, phases, in_process) = render_in_process(&repo, &pool)?;
    let objects: usize = clusters.iter().map(|(r, _)| r.objects.len()).sum();
    let files: usize = clusters.iter().map(|(_, o)| o.files.len()).sum();
    let bytes: usize = clusters
        .iter()
        .flat_map(|(_, o)| o.files.values())
        .map(Vec::len)
        .sum();

    progress("floor: serialise, hash and write the same bytes");
    let floor_dir = work.join("floor");
    let mut floor_runs = Vec::with_capacity(runs);
    for _ in 0..runs {
        if floor_dir.exists() {
            fs_err::remove_dir_all(&floor_dir)?;
        }
        let before = Cpu::read("/proc/self/stat");
        let wall = floor(&floor_dir, &clusters, &pool)?;
        let cpu = Cpu::read("/proc/self/stat")
            .zip(before)
            .map(|(after, before)| after.since(before));
        floor_runs.push((wall, cpu));
    }
    let ((floor_wall, floor_cpu), floor_spread) = median(floor_runs, |f| f.0);
    let same = same_tree(&out, &floor_dir, &clusters)?;

    let kustomize = if kubectl_available() {
        let timed = b
            .kustomize_clusters
            .unwrap_or(b.clusters)
            .min(b.clusters)
            .max(1);
        progress(&format!(
            "kubectl kustomize over {timed} cluster overlays, {} at a time",
            b.jobs
        ));
        Some(run_kustomize(work, &clusters, timed, &pool)?)
    } else {
        progress("skipped kustomize: `kubectl` not found on PATH");
        None
    };

    let full_s = full.wall.as_secs_f64();
    let mut t = String::new();
    let _ = writeln!(t, "plinth render benchmark");
    let _ = writeln!(t, "machine            {machine}");
    let _ = writeln!(t, "jobs               {}", b.jobs);
    let _ = writeln!(
        t,
        "runs               {runs} of plinth and of the floor; the median run is shown (spread of wall times: full {full_spread}, nothing changed {again_spread}, floor {floor_spread})"
    );
    let _ = writeln!(
        t,
        "fleet              {} clusters, {objects} objects ({:.1} per cluster), {} input files, {:.1} MiB in, {files} files / {:.1} MiB out; generated in {:.2}s",
        b.clusters,
        objects as f64 / b.clusters.max(1) as f64,
        stats.files,
        stats.bytes as f64 / 1_048_576.0,
        bytes as f64 / 1_048_576.0,
        generate_wall.as_secs_f64()
    );
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "| measurement                     |      wall | objects/s | CPU                       | peak RSS | note |"
    );
    let _ = writeln!(
        t,
        "|---------------------------------|-----------|-----------|---------------------------|----------|------|"
    );
    let _ = writeln!(
        t,
        "| plinth render (full)            | {:>8.3}s | {:>9.0} | {:<25} | {:>8} | fresh output folder |",
        full_s,
        objects as f64 / full_s,
        Cpu::show(full.cpu),
        rss(full.peak_rss_kib)
    );
    let _ = writeln!(
        t,
        "| plinth render (nothing changed) | {:>8.3}s | {:>9} | {:<25} | {:>8} | {:.1}% of the full render (target < 10%); CPU time {}x of the full render's |",
        again.wall.as_secs_f64(),
        "-",
        Cpu::show(again.cpu),
        rss(again.peak_rss_kib),
        100.0 * again.wall.as_secs_f64() / full_s,
        Cpu::ratio(again.cpu, full.cpu)
    );
    let floor_s = floor_wall.as_secs_f64();
    let _ = writeln!(
        t,
        "| floor (serialise, hash, write)  | {:>8.3}s | {:>9.0} | {:<25} | {:>8} | plinth/floor = {:.2}x (target <= 2x); in CPU time {}x; {same} files byte-identical to plinth's |",
        floor_s,
        objects as f64 / floor_s,
        Cpu::show(floor_cpu),
        "-",
        full_s / floor_s,
        Cpu::ratio(full.cpu, floor_cpu)
    );
    if let Some(k) = &kustomize {
        let ks = k.fleet_wall.as_secs_f64();
        let note = if k.timed_clusters < b.clusters {
            format!(
                "EXTRAPOLATED linearly from {} of {} clusters ({:.3}s measured)",
                k.timed_clusters,
                b.clusters,
                k.wall.as_secs_f64()
            )
        } else {
            "all clusters measured".to_owned()
        };
        let _ = writeln!(
            t,
            "| kubectl kustomize (overlays)    | {:>8.3}s | {:>9.0} | {:<25} | {:>8} | {note}; {} processes at a time |",
            ks,
            objects as f64 / ks,
            "-",
            "-",
            b.jobs
        );
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "plinth vs kustomize: {:.1}x faster (target >= 50x)",
            ks / full_s
        );
        let _ = writeln!(
            t,
            "kustomize layout: {} base objects; per cluster overlays hold {} own objects and {} JSON patches in all; output equivalent to plinth's: {}",
            k.layout.base_objects, k.layout.overlay_objects, k.layout.patches, k.equivalent
        );
    } else {
        let _ = writeln!(t);
        let _ = writeln!(
            t,
            "kubectl kustomize: skipped (`kubectl` not found on PATH)"
        );
    }
    let _ = writeln!(t);
    let _ = writeln!(
        t,
        "profile (in-process render of the same fleet, {:.3}s wall; seconds summed over {} threads): prepare (read, parse, hash inputs) {:.3}s, render (decide, templates, parse YAML, patch) {:.3}s, materialize (serialise YAML, hash, index) {:.3}s",
        in_process.as_secs_f64(),
        b.jobs,
        secs(&phases.prepare),
        secs(&phases.render),
        secs(&phases.materialize)
    );
    let _ = writeln!(t, "plinth said: {}", full.stderr.trim());
    let _ = writeln!(t, "plinth said (again): {}", again.stderr.trim());
    report(&t);
    if b.workdir.is_none() {
        progress("removing the temporary work folder");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_timed_measures_a_real_child_and_reports_failures() {
        let ok = run_timed(Command::new("sh").args(["-c", "echo hello >&2; sleep 0.05"])).unwrap();
        assert!(ok.wall >= Duration::from_millis(50), "{ok:?}");
        assert_eq!(ok.stderr.trim(), "hello");
        assert!(ok.peak_rss_kib.is_some_and(|k| k > 0), "{ok:?}");
        assert!(ok.cpu.is_some(), "{ok:?}");
        let err = run_timed(Command::new("sh").args(["-c", "echo broken >&2; exit 3"]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("broken") && err.contains('3'), "{err}");
    }

    #[test]
    fn cpu_times_are_read_from_proc() {
        let cpu = Cpu::read("/proc/self/stat").unwrap();
        let later = Cpu {
            user_ticks: cpu.user_ticks + 150,
            system_ticks: cpu.system_ticks + 5,
        };
        assert_eq!(Cpu::show(Some(later.since(cpu))), "1.50s user + 0.05s sys");
        assert_eq!(Cpu::show(None), "n/a");
    }

    #[test]
    fn a_missing_plinth_binary_says_how_to_build_it() {
        let bench = RenderBench {
            clusters: 1,
            seed: 1,
            jobs: 1,
            kustomize_clusters: None,
            runs: 1,
            plinth: PathBuf::from("no-such-dir/plinth"),
            workdir: None,
        };
        let err = run(&bench, &mut |_| {}, &mut |_| {})
            .unwrap_err()
            .to_string();
        assert!(err.contains("cargo build --release -p plinth"), "{err}");
    }

    #[test]
    fn a_small_fleet_runs_end_to_end_against_the_built_plinth() {
        // The test binary lives in `target/<profile>/deps/`; plinth, when built, one level up.
        let exe = std::env::current_exe().unwrap();
        let plinth = exe
            .parent()
            .and_then(Path::parent)
            .map(|d| d.join(format!("plinth{}", std::env::consts::EXE_SUFFIX)))
            .unwrap();
        if !plinth.is_file() {
            println!("skipped: `{}` not built", plinth.display());
            return;
        }
        let work = tempfile::tempdir().unwrap();
        let bench = RenderBench {
            clusters: 3,
            seed: 5,
            jobs: 2,
            kustomize_clusters: Some(1),
            runs: 2,
            plinth,
            workdir: Some(work.path().to_path_buf()),
        };
        let mut text = String::new();
        run(&bench, &mut |_| {}, &mut |t| text.push_str(t)).unwrap();
        assert!(text.contains("| plinth render (full)"), "{text}");
        assert!(text.contains("files byte-identical to plinth's"), "{text}");
        if kubectl_available() {
            assert!(
                text.contains("EXTRAPOLATED linearly from 1 of 3 clusters"),
                "{text}"
            );
            assert!(
                text.contains("output equivalent to plinth's: yes"),
                "{text}"
            );
        }
    }
}
