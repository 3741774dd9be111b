//! `plinth drift`: compare a cluster's rendered manifests with its live state (a snapshot or
//! the cluster itself) and report drift in one or more formats.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context as _;
use futures::stream::{self, StreamExt as _};
use plinth_drift::cluster::{ClusterLive, ConnectOptions};
use plinth_drift::desired::{self, DesiredObject};
use plinth_drift::pipeline::{self, Evaluation, Outcome as Step};
use plinth_drift::report::{self, Format, HardwareDrift, Mode, ObjectResult, Report, Verdict};
use plinth_drift::{LiveSet, compare_server_side, discover, snapshot};
use plinth_renderer::inventory::Inventory;
use plinth_renderer::{Fleet, index};
use plinth_vocab::redact::Redactor;

use super::Outcome;
use super::shared;
use crate::args::{DriftArgs, DriftFormat, DriftMode, RepoArg};
use crate::command_error::{self, CommandError};
use crate::printer::Printer;
use crate::settings::GlobalSettings;

/// Where live state comes from.
#[derive(Debug)]
enum LiveSource {
    Snapshot { path: PathBuf, max_file_bytes: u64 },
    Cluster(ConnectOptions),
}

/// Settings of one drift run, resolved once from the arguments and `plinth.yaml`.
#[derive(Debug)]
struct DriftSettings {
    repo: PathBuf,
    cluster: String,
    source: LiveSource,
    /// Where namespaced objects rendered without a namespace go (`--namespace`).
    namespace: Option<String>,
    mode: Mode,
    formats: Vec<Format>,
    output_dir: Option<PathBuf>,
}

impl DriftSettings {
    fn resolve(args: DriftArgs, global: &GlobalSettings) -> Result<Self, CommandError> {
        let DriftArgs {
            repo: RepoArg { repo },
            cluster,
            snapshot,
            max_snapshot_file_mib,
            kubeconfig,
            namespace,
            mode,
            formats,
            output_dir,
            requests,
        } = args;
        let source = match snapshot {
            Some(path) => LiveSource::Snapshot {
                path,
                max_file_bytes: max_snapshot_file_mib.max(1).saturating_mul(1024 * 1024),
            },
            None => LiveSource::Cluster(super::cluster_client::connect_options(
                kubeconfig,
                requests,
                &global.kube_env,
            )),
        };
        let mode = match (mode, &source) {
            (Some(DriftMode::Client), _) | (None, LiveSource::Snapshot { .. }) => Mode::Client,
            (Some(DriftMode::Server), LiveSource::Snapshot { .. }) => {
                return Err(CommandError::user(
                    "`--mode server` needs a live cluster, not a snapshot",
                )
                .hint(
                    "drop `--snapshot` (and give `--kubeconfig`/`--context`), or use `--mode client`",
                ));
            }
            (Some(DriftMode::Server) | None, LiveSource::Cluster(_)) => Mode::Server,
        };
        let formats: BTreeSet<Format> = formats.into_iter().map(format_of).collect();
        let mut formats: Vec<Format> = formats.into_iter().collect();
        if formats.is_empty() {
            formats.push(Format::Text);
        }
        if formats.len() > 1 && output_dir.is_none() {
            return Err(
                CommandError::user("several `--format`s need `--output-dir`")
                    .hint("add `--output-dir DIR`; each format is written to its own file there"),
            );
        }
        Ok(Self {
            repo,
            cluster,
            source,
            namespace,
            mode,
            formats,
            output_dir,
        })
    }
}

fn format_of(f: DriftFormat) -> Format {
    match f {
        DriftFormat::Text => Format::Text,
        DriftFormat::Json => Format::Json,
        DriftFormat::Markdown => Format::Markdown,
        DriftFormat::Junit => Format::Junit,
        DriftFormat::Prometheus => Format::Prometheus,
        DriftFormat::Html => Format::Html,
    }
}

/// Runs `plinth drift`.
pub fn run(args: DriftArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let printer = global.printer;
    let settings = DriftSettings::resolve(args, global)?;
    let started = Instant::now();
    let fleet = shared::open_fleet(&settings.repo)?;
    shared::require_cluster(&fleet, &settings.cluster)?;
    let mut desired = load_desired(&settings, &fleet, printer)?;
    let prefix = fleet.settings.annotation_prefix.clone();

    let (objects, hardware, source_name) = match &settings.source {
        LiveSource::Snapshot {
            path,
            max_file_bytes,
        } => {
            let live = snapshot::load_for_bounded(
                path,
                &mut desired,
                settings.namespace.as_deref(),
                *max_file_bytes,
            )
            .with_context(|| format!("cannot read the snapshot `{}`", path.display()))?;
            printer.detail(&format!(
                "read {} live objects from the snapshot `{}`",
                live.objects.len(),
                path.display()
            ));
            let objects = pipeline::run_client_side(&desired, &live, &prefix, &settings.cluster);
            (objects, Vec::new(), "snapshot")
        }
        LiveSource::Cluster(options) => {
            let committed = fleet.prepare(&settings.cluster)?.inventory;
            let (objects, hardware) = from_cluster(
                options,
                &mut desired,
                settings.namespace.as_deref(),
                &prefix,
                &settings.cluster,
                settings.mode,
                committed.as_ref(),
                printer,
            )?;
            (objects, hardware, "cluster")
        }
    };

    let report = Report::new(
        &settings.cluster,
        report::rfc3339(global.now_epoch()),
        settings.mode,
        source_name,
        objects,
        hardware,
    )
    .redacted(Redactor::shared());
    printer.status(&format!(
        "cluster `{}`: {} in {:.2}s",
        settings.cluster,
        report::text::summary_line(&report),
        started.elapsed().as_secs_f64()
    ));
    write_reports(&settings, &report, printer)?;
    match report.verdict() {
        Verdict::InSync => Ok(Outcome::Clean),
        Verdict::Drift => Ok(Outcome::Found),
        Verdict::Incomplete => {
            let n = report.count(report::Status::Error);
            Err(anyhow::anyhow!(
                "{n} object(s) of cluster `{}` could not be compared (see the report)",
                settings.cluster
            )
            .into())
        }
    }
}

/// The committed rendered folder when there is one (warning when its inputs changed since),
/// else an in-memory render.
fn load_desired(
    settings: &DriftSettings,
    fleet: &Fleet,
    printer: Printer,
) -> anyhow::Result<Vec<DesiredObject>> {
    let folder = settings
        .repo
        .join(&fleet.settings.paths.output)
        .join(&settings.cluster);
    if folder.join(index::FILE).is_file() {
        let (idx, objects) = desired::from_folder(&folder)?;
        let prepared = fleet.prepare(&settings.cluster)?;
        if prepared.input_digest != idx.input_digest {
            printer.warn(&format!(
                "the committed output of cluster `{}` is older than its inputs; comparing the committed manifests (run `plinth render` to refresh them)",
                settings.cluster
            ));
        }
        printer.detail(&format!(
            "desired state: {} objects from `{}`",
            objects.len(),
            display_rel(&settings.repo, &folder)
        ));
        return Ok(objects);
    }
    printer.status(&format!(
        "no committed output for cluster `{}`; rendering it in memory",
        settings.cluster
    ));
    let rendered = fleet.render_cluster(&settings.cluster)?;
    Ok(desired::from_rendered(&rendered, &fleet.settings))
}

fn display_rel(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Reads live state from the cluster (after placing the desired objects: namespaced ones
/// without a namespace go to `namespace`, else the context's), runs the pipeline (server-side
/// dry-run per object in server mode) and, when the cluster has a committed inventory, compares
/// its hardware.
#[allow(clippy::too_many_arguments)]
fn from_cluster(
    options: &ConnectOptions,
    desired: &mut [DesiredObject],
    namespace: Option<&str>,
    prefix: &str,
    cluster: &str,
    mode: Mode,
    committed: Option<&Inventory>,
    printer: Printer,
) -> anyhow::Result<(Vec<ObjectResult>, Vec<HardwareDrift>)> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(crate::jobs::STACK_BYTES)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let live_cluster = ClusterLive::connect(options).await?;
        live_cluster
            .placement(desired, namespace)
            .await?
            .place(desired);
        let desired = &*desired;
        let wanted = desired::kinds(desired);
        let live: LiveSet = live_cluster.fetch(&wanted, cluster).await?;
        for warning in &live.warnings {
            printer.warn(warning);
        }
        printer.detail(&format!(
            "read {} live objects from the cluster",
            live.objects.len()
        ));
        // One dry-run per object in server mode: at most DRY_RUN_CONCURRENCY in flight, results
        // kept in order.
        let evaluations = pipeline::evaluate(desired, &live, prefix);
        let client = &live_cluster;
        let mut results: Vec<ObjectResult> = stream::iter(evaluations)
            .map(|eval| async move { compare_one(client, eval, mode).await })
            .buffered(DRY_RUN_CONCURRENCY)
            .collect()
            .await;
        results.extend(pipeline::orphans(desired, &live, cluster));
        let hardware = match committed {
            Some(inventory) => {
                let nodes = live_cluster.nodes().await?;
                let live_inventory = discover::inventory_from_nodes(&nodes);
                discover::hardware_drift(inventory, &live_inventory)
            }
            None => Vec::new(),
        };
        Ok::<_, anyhow::Error>((results, hardware))
    })
}

/// Server-side apply dry-runs in flight at once.
const DRY_RUN_CONCURRENCY: usize = 8;

/// Compares one evaluated object: client-side in plinth, or through a server-side apply
/// dry-run; a failed dry-run makes the object `error`, never `in-sync`.
async fn compare_one(client: &ClusterLive, mut eval: Evaluation, mode: Mode) -> ObjectResult {
    let changes = match (&eval.outcome, mode) {
        (
            Step::Compare {
                effective_desired,
                live,
            },
            Mode::Client,
        ) => plinth_drift::compare_client_side(effective_desired, live, &eval.key.kind),
        (
            Step::Compare {
                effective_desired,
                live,
            },
            Mode::Server,
        ) => match client.dry_run_apply(effective_desired).await {
            Ok(dry_run) => compare_server_side(&dry_run, live),
            Err(err) => {
                eval.outcome = Step::Final(report::Status::Error);
                eval.notes.push(format!(
                    "server-side apply dry-run failed: {}",
                    command_error::one_line(&err)
                ));
                Vec::new()
            }
        },
        (Step::Final(_), _) => Vec::new(),
    };
    eval.finish(changes)
}

/// One format to stdout, or every format to its file under `--output-dir` (atomically).
fn write_reports(
    settings: &DriftSettings,
    report: &Report,
    printer: Printer,
) -> anyhow::Result<()> {
    let Some(dir) = &settings.output_dir else {
        let format = settings.formats.first().copied().unwrap_or(Format::Text);
        printer.data(&format.render(report))?;
        return Ok(());
    };
    fs_err::create_dir_all(dir)?;
    for format in &settings.formats {
        let path = dir.join(format.file_name());
        crate::write::replacing(&path, format.render(report).as_bytes())?;
        printer.status(&format!("wrote `{}`", path.display()));
    }
    Ok(())
}
