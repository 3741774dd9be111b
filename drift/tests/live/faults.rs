//! Faults injected into the fake API server: `429` with `Retry-After`, `500`, responses slower
//! than the timeout, persistent failures and a vanished server. Retries recover from the
//! transient ones; the persistent ones fail the fetch with an error that names the request and
//! never the token.

use std::time::{Duration, Instant};

use plinth_drift::DriftError;
use plinth_drift::source::kube::{ClusterLive, ConnectOptions};
use plinth_testkit::{FakeApiServer, FaultKind, Scenario};
use serde_json::json;

use crate::support::{self, config_maps_in_a as wanted};

const TOKEN: &str = "tok-9f8e7d6c5b4a";

fn server() -> FakeApiServer {
    let mut scenario = Scenario::new().token(TOKEN);
    for i in 0..5 {
        scenario = scenario.object(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("c{i}"), "namespace": "a"},
        }));
    }
    FakeApiServer::start(scenario).expect("server")
}

/// A client with `attempts` attempts of at most `timeout` each, retrying fast.
async fn connect(server: &FakeApiServer, timeout: Duration, attempts: u32) -> ClusterLive {
    support::connect(&ConnectOptions {
        timeout,
        ..support::options(server, attempts - 1)
    })
    .await
}

/// A server whose next `times` `ConfigMap` LISTs answer with `fault`, and a client with
/// `attempts` attempts of at most `timeout` each.
async fn faulty(
    fault: FaultKind,
    times: u32,
    timeout: Duration,
    attempts: u32,
) -> (FakeApiServer, ClusterLive) {
    let server = server();
    support::inject(&server, fault, LIST_PATH, times);
    let cluster = connect(&server, timeout, attempts).await;
    (server, cluster)
}

/// [`faulty`], read to the error it ends in.
async fn failing(
    fault: FaultKind,
    times: u32,
    timeout: Duration,
    attempts: u32,
) -> (FakeApiServer, DriftError) {
    let (server, cluster) = faulty(fault, times, timeout, attempts).await;
    (server, support::read_error(cluster).await)
}

fn statuses(server: &FakeApiServer, path: &str) -> Vec<u16> {
    server
        .request_log()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.status)
        .collect()
}

const LIST_PATH: &str = "/api/v1/namespaces/a/configmaps";

#[tokio::test]
async fn too_many_requests_waits_for_retry_after_then_succeeds() {
    let fault = support::too_many_requests(1);
    let (server, cluster) = faulty(fault, 1, Duration::from_secs(30), 4).await;
    let started = Instant::now();
    let live = cluster.fetch(&wanted(), "prod").await.expect("fetch");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(live.objects.len(), 5);
    assert_eq!(statuses(&server, LIST_PATH), [429, 200]);
}

#[tokio::test]
async fn server_errors_are_retried() {
    let server = server();
    support::inject(&server, FaultKind::ServerError(500), LIST_PATH, 2);
    support::inject(&server, FaultKind::ServerError(503), "/api/v1", 1);
    let live = support::read(connect(&server, Duration::from_secs(30), 4).await).await;
    assert_eq!(live.objects.len(), 5);
    assert_eq!(statuses(&server, "/api/v1"), [503, 200]);
    assert_eq!(statuses(&server, LIST_PATH), [500, 500, 200]);
}

#[tokio::test]
async fn a_response_slower_than_the_timeout_is_retried() {
    let fault = FaultKind::Slow(Duration::from_secs(3));
    let (server, cluster) = faulty(fault, 1, Duration::from_millis(500), 3).await;
    let live = support::read(cluster).await;
    assert_eq!(live.objects.len(), 5);
    let log = server.request_log();
    let list: Vec<_> = log.iter().filter(|r| r.path == LIST_PATH).collect();
    assert!(
        list.iter().any(|r| r.fault.is_some())
            && list.iter().any(|r| r.fault.is_none() && r.status == 200),
        "{}",
        plinth_testkit::describe(&log)
    );
}

#[tokio::test]
async fn persistent_server_errors_fail_the_fetch_naming_the_request() {
    let (server, err) = failing(
        FaultKind::ServerError(500),
        u32::MAX,
        Duration::from_secs(30),
        3,
    )
    .await;
    assert!(
        matches!(err, DriftError::Api { attempts: 3, .. }),
        "{err:?}"
    );
    let text = format!("{err} {err:?}");
    assert_eq!(
        err.to_string(),
        "LIST `ConfigMap` in namespace `a` failed after 3 attempt(s): HTTP 500 Internal Server Error"
    );
    assert!(!text.contains(TOKEN), "the token leaked: {text}");
    assert_eq!(statuses(&server, LIST_PATH), [500, 500, 500]);
}

#[tokio::test]
async fn persistent_slowness_fails_with_a_timeout() {
    let fault = FaultKind::Slow(Duration::from_secs(2));
    let (_server, err) = failing(fault, 2, Duration::from_millis(300), 2).await;
    assert_eq!(
        err.to_string(),
        "LIST `ConfigMap` in namespace `a` failed after 2 attempt(s): no response within 300ms"
    );
}

#[tokio::test]
async fn client_errors_are_not_retried() {
    let server = FakeApiServer::start(Scenario::new().token("other-token")).expect("server");
    // A kubeconfig with a wrong token: the server answers 401 every time.
    let (_dir, path) =
        support::edited_kubeconfig(&server, |text| text.replace("other-token", TOKEN));
    let err =
        support::read_error(support::connect_plain(&support::options_for(&path, 3)).await).await;
    assert_eq!(
        err.to_string(),
        "discovery of `v1` failed after 1 attempt(s): HTTP 401 Unauthorized (Unauthorized)"
    );
    assert!(!format!("{err:?}").contains(TOKEN));
    assert_eq!(server.request_log().len(), 1);
}

#[tokio::test]
async fn a_vanished_server_is_a_connection_error_after_retries() {
    let server = server();
    let cluster = connect(&server, Duration::from_secs(5), 2).await;
    drop(server);
    let err = cluster.fetch(&wanted(), "prod").await.unwrap_err();
    assert!(
        err.to_string()
            .starts_with("discovery of `v1` failed after 2 attempt(s): the connection failed"),
        "{err}"
    );
    assert!(!format!("{err:?}").contains(TOKEN));
}
