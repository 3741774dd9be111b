//! `plinth-bench`: plinth's benchmarks. Prints figures; never a timed test. One subcommand
//! per benchmark (`render`), plus `fleet` to write the synthetic fleet on its own.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use plinth_bench::{big, diff, fleet, render};

/// The allocator of the `plinth` binary, so the floor is measured with the same one.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// plinth's benchmarks: figures printed on stdout, progress on stderr
#[derive(Debug, Parser)]
#[command(name = "plinth-bench", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write the synthetic benchmark fleet (a platform repository) into a folder
    Fleet(FleetArgs),
    /// Time `plinth render` over a generated fleet against the floor and `kubectl kustomize`
    Render(RenderArgs),
    /// Time `plinth diff` (the PR preview) over a generated fleet with about 1% changed
    Diff(DiffArgs),
    /// Time `plinth render` of one big cluster (10,000 and 100,000 objects by default)
    Big(BigArgs),
}

/// The flags every timing benchmark takes: what to time and where to work.
#[derive(Debug, Args)]
struct Harness {
    /// The plinth binary (default: `plinth` beside this binary, i.e. `target/release/plinth`)
    #[arg(long, value_name = "PATH")]
    plinth: Option<PathBuf>,
    /// Work in this folder and keep it (default: a temporary folder, removed afterwards)
    #[arg(long, value_name = "DIR")]
    workdir: Option<PathBuf>,
}

impl Harness {
    /// The plinth binary to time (the one given, else `plinth` beside this binary) and the
    /// work folder.
    fn resolve(self) -> std::io::Result<(PathBuf, Option<PathBuf>)> {
        let Self { plinth, workdir } = self;
        let plinth = match plinth {
            Some(p) => p,
            None => std::env::current_exe()?
                .with_file_name(format!("plinth{}", std::env::consts::EXE_SUFFIX)),
        };
        Ok((plinth, workdir))
    }
}

#[derive(Debug, Args)]
struct BigArgs {
    /// Object counts, one cluster each, comma-separated
    #[arg(long, value_delimiter = ',', default_values_t = [10_000usize, 100_000])]
    objects: Vec<usize>,
    /// Seed of the deterministic generator
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Timed runs per size (the median is reported)
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Worker threads of plinth (default: one per core)
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    #[command(flatten)]
    harness: Harness,
}

#[derive(Debug, Args)]
struct DiffArgs {
    /// Number of clusters
    #[arg(long, default_value_t = 1000)]
    clusters: usize,
    /// Seed of the deterministic generator
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Timed runs per format (the median is reported)
    #[arg(long, default_value_t = 3)]
    runs: usize,
    #[command(flatten)]
    harness: Harness,
}

#[derive(Debug, Args)]
struct FleetArgs {
    /// Folder to write the platform repository into
    dir: PathBuf,
    /// Number of clusters
    #[arg(long, default_value_t = 1000)]
    clusters: usize,
    /// Seed of the deterministic generator
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

#[derive(Debug, Args)]
struct RenderArgs {
    /// Number of clusters
    #[arg(long, default_value_t = 1000)]
    clusters: usize,
    /// Seed of the deterministic generator
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads, and kustomize processes at once (default: one per core)
    #[arg(short, long, value_name = "N")]
    jobs: Option<usize>,
    /// Time `kubectl kustomize` over this many clusters only and extrapolate linearly
    #[arg(long, value_name = "N")]
    kustomize_clusters: Option<usize>,
    /// Time plinth (full and nothing changed) and the floor this many times; the median is
    /// reported, with the spread
    #[arg(long, value_name = "N", default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..))]
    runs: u32,
    #[command(flatten)]
    harness: Harness,
}

fn progress(message: &str) {
    let _ = writeln!(std::io::stderr().lock(), "plinth-bench: {message}");
}

/// Writes figures to stdout as they come.
fn report(text: &str) {
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
}

fn run(cli: Cli) -> anyhow::Result<String> {
    match cli.command {
        Command::Fleet(FleetArgs {
            dir,
            clusters,
            seed,
        }) => {
            let stats = fleet::generate(&dir, clusters, seed)?;
            Ok(format!(
                "wrote {} clusters ({} files, {} bytes) into `{}`\n",
                stats.clusters,
                stats.files,
                stats.bytes,
                dir.display()
            ))
        }
        Command::Render(RenderArgs {
            clusters,
            seed,
            jobs,
            kustomize_clusters,
            runs,
            harness,
        }) => {
            let (plinth, workdir) = harness.resolve()?;
            let jobs = jobs_or_cores(jobs);
            let bench = render::RenderBench {
                clusters,
                seed,
                jobs,
                kustomize_clusters,
                runs: runs as usize,
                plinth,
                workdir,
            };
            render::run(&bench, &mut progress, &mut report)?;
            Ok(String::new())
        }
        Command::Diff(DiffArgs {
            clusters,
            seed,
            runs,
            harness,
        }) => {
            let (plinth, workdir) = harness.resolve()?;
            let bench = diff::DiffBench {
                clusters,
                seed,
                runs,
                plinth,
                workdir,
            };
            diff::run(&bench, &mut progress)
        }
        Command::Big(BigArgs {
            objects,
            seed,
            runs,
            jobs,
            harness,
        }) => {
            let (plinth, workdir) = harness.resolve()?;
            let jobs = jobs_or_cores(jobs);
            let bench = big::BigBench {
                objects,
                seed,
                runs,
                jobs,
                plinth,
                workdir,
            };
            big::run(&bench, &mut progress, &mut report)?;
            Ok(String::new())
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(figures) => {
            report(&figures);
            ExitCode::SUCCESS
        }
        Err(err) => {
            let mut stderr = std::io::stderr().lock();
            let _ = writeln!(stderr, "error: {err}");
            for cause in err.chain().skip(1) {
                let _ = writeln!(stderr, "  Caused by: {cause}");
            }
            ExitCode::from(2)
        }
    }
}

/// Worker threads: the number given, else one per core.
fn jobs_or_cores(jobs: Option<usize>) -> usize {
    jobs.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, std::num::NonZero::get))
}
