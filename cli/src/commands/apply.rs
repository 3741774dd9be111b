//! `plinth apply`: correct a cluster's drift — server-side apply, in reconcile order, of every
//! rendered object the drift engine calls missing or drifted, through the per-object
//! anti-thrashing gate, disruptive changes held outside maintenance windows unless
//! `--allow-disruption`; `--dry-run` prints the plan (from the cluster, or from a snapshot).

use std::time::{Duration, Instant};

use plinth_apply::outcome::ApplyReport;
use plinth_apply::report;
use plinth_apply::run::{self, ApplyRequest, ApplyRun};
use plinth_drift::core::report::Mode;
use plinth_drift::engine::{DriftRequest, Notice};

use super::{Outcome, shared};
use crate::args::ApplyArgs;
use crate::command_error::CommandError;
use crate::settings::GlobalSettings;

/// Runs `plinth apply`.
pub fn run(args: ApplyArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let printer = global.printer;
    if !matches!(args.events_namespace.as_str(), "default" | "kube-system") {
        return Err(CommandError::user(format!(
            "`--events-namespace {}`: Events about cluster-scoped objects must go to `default` or `kube-system`",
            args.events_namespace
        )));
    }
    let (formats, output_dir) = shared::report_targets(args.reports)?;
    // The reports' folder is checked before the cluster is written: an apply whose report
    // cannot be written must not have run.
    if let Some(dir) = output_dir.as_deref() {
        writable_dir(dir)?;
    }
    let namespace = args.live.namespace.clone();
    let cluster = args.cluster;
    let request = ApplyRequest {
        drift: DriftRequest {
            repo: args.repo.repo,
            cluster: cluster.clone(),
            source: shared::live_source(args.live, global),
            namespace,
            mode: Mode::Client,
            now_epoch: global.now_epoch(),
            stack_bytes: crate::jobs::STACK_BYTES,
        },
        dry_run: args.dry_run,
        adopt: args.adopt,
        prune: args.prune,
        prune_namespaces: args.prune_namespaces,
        prune_crds: args.prune_crds,
        force_conflicts: args.force_conflicts,
        recreate: args.recreate,
        reporting_instance: global.reporting_instance.clone(),
        events_namespace: args.events_namespace,
        crd_wait: Duration::from_secs(args.crd_wait),
        allow_disruption: args.allow_disruption,
    };
    let started = Instant::now();
    let notices = crate::progress::Notices::new(printer);
    let notify = |notice: Notice| notices.hear(notice);
    let ApplyRun { report } = run::run(&request, &notify).map_err(|e| match e {
        run::ApplyError::Drift(e) => CommandError::from(e),
        other @ run::ApplyError::SnapshotNeedsDryRun => CommandError::user(other.to_string())
            .hint("`plinth apply --dry-run --snapshot PATH` prints the plan of a snapshot"),
        run::ApplyError::Window(e) => CommandError::user(e.to_string()).hint(
            "a window is `schedule` (5-field cron), `duration` (`30m`, `4h`, `1h30m`, at most 7 days) and `timeZone` (IANA, default `UTC`)",
        ),
    })?;
    printer.status(&format!(
        "cluster `{cluster}`: {} in {:.2}s",
        report::summary_line(&report),
        started.elapsed().as_secs_f64()
    ));
    shared::write_each(&formats, output_dir.as_deref(), printer, |format| {
        (report::file_name(format), report::render(format, &report))
    })?;
    Ok(outcome_of(&report))
}

/// Makes `dir` and checks that a file can be created in it (removed again at once).
fn writable_dir(dir: &std::path::Path) -> anyhow::Result<()> {
    fs_err::create_dir_all(dir)?;
    let probe = dir.join(format!(".plinth-{}-probe.tmp", std::process::id()));
    fs_err::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)?;
    fs_err::remove_file(&probe)?;
    Ok(())
}

/// Exit 1 when something was left unapplied (throttled, paused, held, conflict, failed) —
/// in a dry run, also when something would be written (created, configured, pruned), as
/// `plinth drift` exits 1 on drift.
fn outcome_of(report: &ApplyReport) -> Outcome {
    use plinth_apply::outcome::Outcome as Done;
    let pending = report.dry_run
        && report
            .objects
            .iter()
            .any(|o| matches!(o.outcome, Done::Created | Done::Configured | Done::Pruned));
    if report.exit_code() == 0 && !pending {
        Outcome::Clean
    } else {
        Outcome::Found
    }
}
