//! `plinth drift`: compare a cluster's rendered manifests with its live state (a snapshot or
//! the cluster itself) and report drift in one or more formats.

use std::path::PathBuf;
use std::time::Instant;

use plinth_drift::core::report::{
    self, CloudReport, Format, KubevirtReport, Mode, Report, Verdict, VpsieReport,
};
use plinth_drift::engine::{self, CloudRequest, DriftRequest, DriftRun, LiveSource, Notice};

use super::Outcome;
use super::{cloud, shared};
use crate::args::{DriftArgs, DriftMode, RepoArg};
use crate::command_error::CommandError;
use crate::printer::Printer;
use crate::settings::GlobalSettings;

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
    /// Cloud drift (`--cloud`, `--cloud-only`, `--cloud-snapshot`).
    cloud: Option<CloudRequest>,
}

impl DriftSettings {
    fn resolve(args: DriftArgs, global: &GlobalSettings) -> Result<Self, CommandError> {
        let DriftArgs {
            repo: RepoArg { repo },
            cluster,
            live,
            mode,
            reports,
            cloud,
        } = args;
        let namespace = live.namespace.clone();
        let max_file_bytes = live
            .max_snapshot_file_mib
            .max(1)
            .saturating_mul(1024 * 1024);
        let source = shared::live_source(live, global);
        let place = cloud::Place {
            repo: &repo,
            cluster: &cluster,
            live: &source,
            max_file_bytes,
        };
        let cloud = cloud::request(&cloud, &place, &global.cloud_env)?;
        // Nothing is compared on the Kubernetes side: the report says `client`, not the
        // default of a cluster source.
        let mode = if cloud.as_ref().is_some_and(|c| c.only) && mode.is_none() {
            Some(DriftMode::Client)
        } else {
            mode
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
        let (formats, output_dir) = shared::report_targets(reports)?;
        Ok(Self {
            repo,
            cluster,
            source,
            namespace,
            mode,
            formats,
            output_dir,
            cloud,
        })
    }
}

/// Runs `plinth drift`.
pub fn run(args: DriftArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let printer = global.printer;
    let settings = DriftSettings::resolve(args, global)?;
    let started = Instant::now();
    let request = DriftRequest {
        repo: settings.repo.clone(),
        cluster: settings.cluster.clone(),
        source: settings.source.clone(),
        namespace: settings.namespace.clone(),
        mode: settings.mode,
        now_epoch: global.now_epoch(),
        stack_bytes: crate::jobs::STACK_BYTES,
    };
    let notices = crate::progress::Notices::new(printer);
    let notify = |notice: Notice| notices.hear(notice);
    let DriftRun { report } = engine::run_with_cloud(&request, settings.cloud.as_ref(), &notify)?;
    let cloud: String = [
        report.cloud.as_ref().map(CloudReport::summary_line),
        report.vpsie.as_ref().map(VpsieReport::summary_line),
        report.kubevirt.as_ref().map(KubevirtReport::summary_line),
    ]
    .into_iter()
    .flatten()
    .fold(String::new(), |mut out, line| {
        out.push_str("; ");
        out.push_str(&line);
        out
    });
    printer.status(&format!(
        "cluster `{}`: {}{cloud} in {:.2}s",
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

/// One format to stdout, or every format to its file under `--output-dir` (atomically).
fn write_reports(
    settings: &DriftSettings,
    report: &Report,
    printer: Printer,
) -> anyhow::Result<()> {
    shared::write_each(
        &settings.formats,
        settings.output_dir.as_deref(),
        printer,
        |format| (format.file_name(), format.render(report)),
    )
}
