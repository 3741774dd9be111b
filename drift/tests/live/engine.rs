//! A whole drift as one library call ([`plinth_drift::engine::run`]) on the example repository:
//! against its live snapshot, and against the fake API server holding the same live objects,
//! which must give the same verdict object by object.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use plinth_drift::core::report::{Mode, Report, Status, Verdict};
use plinth_drift::engine::{self, DriftRequest, LiveSource, Notice};
use plinth_drift::source::snapshot;
use plinth_drift::{DriftError, DriftRun};
use plinth_testkit::{FakeApiServer, Scenario};

use crate::support;

/// 2026-01-01T00:00:00Z.
const EPOCH: i64 = 1_767_225_600;

fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet")
}

fn snapshot_path() -> PathBuf {
    example().join("live/plain-west")
}

fn request(source: LiveSource, mode: Mode) -> DriftRequest {
    DriftRequest {
        repo: example(),
        cluster: "plain-west".into(),
        source,
        namespace: None,
        mode,
        now_epoch: EPOCH,
        stack_bytes: 8 << 20,
    }
}

/// Runs `request` on a plain thread (the engine starts its own runtime), keeping its notices.
fn run(request: DriftRequest) -> (Result<DriftRun, DriftError>, Vec<Notice>) {
    std::thread::spawn(move || {
        let notices = RefCell::new(Vec::new());
        let result = engine::run(&request, &|n| notices.borrow_mut().push(n));
        (result, notices.into_inner())
    })
    .join()
    .expect("the engine thread")
}

fn statuses(report: &Report) -> Vec<(String, Status)> {
    report
        .objects
        .iter()
        .map(|o| (o.key.to_string(), o.status))
        .collect()
}

fn from_snapshot() -> Report {
    let source = LiveSource::Snapshot {
        path: snapshot_path(),
        max_file_bytes: snapshot::DEFAULT_MAX_FILE_BYTES,
        allow_empty: false,
    };
    let (result, notices) = run(request(source, Mode::Client));
    let report = result.expect("drift from the snapshot").report;
    assert!(
        notices.iter().any(|n| matches!(n,
            Notice::Detail(text) if text.starts_with("read ") && text.contains("from the snapshot"))),
        "{notices:?}"
    );
    report
}

#[test]
fn the_snapshot_run_reports_the_planted_drift() {
    let report = from_snapshot();
    assert_eq!(report.verdict(), Verdict::Drift);
    assert_eq!(report.source, "snapshot");
    assert_eq!(report.generated_at, "2026-01-01T00:00:00Z");
    let statuses = statuses(&report);
    for (key, status) in [
        (
            "HyperConverged.hco.kubevirt.io/openshift-cnv/kubevirt-hyperconverged",
            Status::Drifted,
        ),
        (
            "ForkliftController.forklift.konveyor.io/openshift-mtv/forklift-controller",
            Status::Orphaned,
        ),
    ] {
        assert!(
            statuses.contains(&(key.to_owned(), status)),
            "{key} is not {status:?}: {statuses:#?}"
        );
    }
}

#[test]
fn an_unknown_cluster_is_refused_with_the_known_ones() {
    let mut request = request(
        LiveSource::Snapshot {
            path: snapshot_path(),
            max_file_bytes: snapshot::DEFAULT_MAX_FILE_BYTES,
            allow_empty: false,
        },
        Mode::Client,
    );
    request.cluster = "nope".into();
    let (result, notices) = run(request);
    match result {
        Err(DriftError::UnknownCluster { cluster, known }) => {
            assert_eq!(cluster, "nope");
            assert!(known.contains(&"plain-west".to_owned()), "{known:?}");
        }
        other => panic!("not an unknown cluster: {other:?}"),
    }
    assert!(notices.is_empty(), "{notices:?}");
}

/// The fake API server holding the snapshot's objects gives the snapshot's verdict for every
/// rendered object, client-side and through server-side apply dry-runs.
#[test]
fn the_cluster_run_agrees_with_the_snapshot_run() {
    let live = snapshot::load(&snapshot_path(), &[]).expect("the snapshot");
    let server =
        FakeApiServer::start(Scenario::new().objects(live.objects.into_values())).expect("server");
    let expected: Vec<(String, Status)> = statuses(&from_snapshot())
        .into_iter()
        .filter(|(_, status)| *status != Status::Orphaned)
        .collect();
    for mode in [Mode::Client, Mode::Server] {
        let source = LiveSource::Cluster(support::options(&server, 0));
        let (result, notices) = run(request(source, mode));
        let report = result.expect("drift from the cluster").report;
        assert_eq!(report.source, "cluster");
        assert_eq!(report.mode, mode);
        let rendered: Vec<(String, Status)> = statuses(&report)
            .into_iter()
            .filter(|(_, status)| *status != Status::Orphaned)
            .collect();
        if mode == Mode::Client {
            assert_eq!(rendered, expected);
        } else {
            assert_eq!(rendered.len(), expected.len(), "{rendered:#?}");
        }
        assert!(
            notices
                .iter()
                .any(|n| matches!(n, Notice::Detail(text) if text.contains("from the cluster"))),
            "{notices:?}"
        );
    }
    assert!(
        support::count(&server, |r| r.method == "PATCH") > 0,
        "server mode sends dry-runs"
    );
    assert!(
        support::count(&server, |r| r.method == "PATCH"
            && r.query.get("dryRun").is_none_or(|d| d != "All"))
            == 0,
        "every PATCH is a dry-run"
    );
}
