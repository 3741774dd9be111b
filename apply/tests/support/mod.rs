//! What the apply tests and the apply benchmark share: an [`ApplyRequest`] against a fake API
//! server (its kubeconfig, plain HTTP on loopback), every flag off.

use std::path::Path;
use std::time::Duration;

use plinth_apply::run::ApplyRequest;
use plinth_drift::core::report::Mode;
use plinth_drift::engine::{DriftRequest, LiveSource};
use plinth_drift::source::kube::ConnectOptions;
use plinth_testkit::FakeApiServer;

/// An apply of `cluster` of the repository `repo` against `server` at `now`, every flag off.
pub fn request(repo: &Path, cluster: &str, server: &FakeApiServer, now: i64) -> ApplyRequest {
    ApplyRequest {
        drift: DriftRequest {
            repo: repo.to_path_buf(),
            cluster: cluster.into(),
            source: LiveSource::Cluster(ConnectOptions {
                kubeconfig: Some(server.kubeconfig_path().to_path_buf()),
                allow_http_loopback: true,
                ..ConnectOptions::default()
            }),
            namespace: None,
            mode: Mode::Client,
            now_epoch: now,
            stack_bytes: 8 << 20,
        },
        dry_run: false,
        adopt: false,
        prune: false,
        prune_namespaces: false,
        prune_crds: false,
        force_conflicts: false,
        recreate: false,
        reporting_instance: "test".into(),
        events_namespace: "default".into(),
        crd_wait: Duration::from_secs(5),
    }
}
