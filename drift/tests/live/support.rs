//! What the live-source tests share: connection options for the fake API server, a client with
//! a fast retry policy, the one kind most tests read, a kubeconfig edited on the way, and
//! counts over the server's request log.

use std::path::{Path, PathBuf};
use std::time::Duration;

use plinth_drift::DriftError;
use plinth_drift::core::live::{KindRef, LiveSet};
use plinth_drift::source::kube::{ClusterLive, ConnectOptions};
use plinth_drift::transport::RetryPolicy;
use plinth_testkit::{FakeApiServer, Fault, FaultKind, LoggedRequest};
use tempfile::TempDir;

/// `ConfigMap`s in namespace `a`: what most tests read.
pub fn config_maps_in_a() -> Vec<KindRef> {
    vec![KindRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some("a".into()),
    }]
}

/// Options for the kubeconfig at `kubeconfig` (a plain-HTTP loopback server allowed), with
/// `retries` retries and the default timeout of 30 s.
pub fn options_for(kubeconfig: &Path, retries: u32) -> ConnectOptions {
    ConnectOptions {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        retries,
        allow_http_loopback: true,
        ..ConnectOptions::default()
    }
}

/// Options for `server`'s own kubeconfig.
pub fn options(server: &FakeApiServer, retries: u32) -> ConnectOptions {
    options_for(server.kubeconfig_path(), retries)
}

/// A retry policy that waits 10 ms, then up to 40 ms, between `attempts` attempts.
pub fn fast_retries(attempts: u32, timeout: Duration) -> RetryPolicy {
    RetryPolicy {
        attempts,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(40),
        timeout,
    }
}

/// A client for `options` that retries fast ([`fast_retries`], one attempt more than the
/// options' retries, with their timeout).
pub async fn connect(options: &ConnectOptions) -> ClusterLive {
    ClusterLive::connect(options)
        .await
        .expect("connect")
        .with_retry_policy(fast_retries(options.retries + 1, options.timeout))
}

/// A client for `options` with the retry policy the options give.
pub async fn connect_plain(options: &ConnectOptions) -> ClusterLive {
    ClusterLive::connect(options).await.expect("connect")
}

/// A copy of `server`'s kubeconfig passed through `edit`, in a temporary folder that lives as
/// long as the returned guard.
pub fn edited_kubeconfig(
    server: &FakeApiServer,
    edit: impl FnOnce(&str) -> String,
) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    let text = fs_err::read_to_string(server.kubeconfig_path()).expect("kubeconfig");
    fs_err::write(&path, edit(&text)).expect("write");
    (dir, path)
}

/// How many requests `server` has answered that match `which`.
pub fn count(server: &FakeApiServer, which: impl Fn(&LoggedRequest) -> bool) -> usize {
    server.request_log().iter().filter(|r| which(r)).count()
}

/// How many requests `server` has answered for exactly `path`.
pub fn hits(server: &FakeApiServer, path: &str) -> usize {
    count(server, |r| r.path == path)
}

/// Makes `server` answer the next `times` requests whose path contains `path` with `kind`.
pub fn inject(server: &FakeApiServer, kind: FaultKind, path: &str, times: u32) {
    server.inject(Fault::new(kind).matching(path).times(times));
}

/// `429 Too Many Requests` with `Retry-After: <secs>`.
pub fn too_many_requests(retry_after_secs: u64) -> FaultKind {
    FaultKind::TooManyRequests { retry_after_secs }
}

/// Makes `server` answer every request whose path contains `path` with `kind`.
pub fn always(server: &FakeApiServer, path: &str, kind: FaultKind) {
    inject(server, kind, path, u32::MAX);
}

/// What `cluster` reads of the `ConfigMap`s in namespace `a` for cluster `prod`.
pub async fn read(cluster: ClusterLive) -> LiveSet {
    cluster
        .fetch(&config_maps_in_a(), "prod")
        .await
        .expect("fetch")
}

/// Why `cluster` cannot read the `ConfigMap`s in namespace `a` for cluster `prod`.
pub async fn read_error(cluster: ClusterLive) -> DriftError {
    cluster
        .fetch(&config_maps_in_a(), "prod")
        .await
        .expect_err("the fetch fails")
}
