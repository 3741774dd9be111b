//! Bounds on what a cluster can make plinth read, against the fake API server: a body that
//! never ends, a LIST that never stops sending `continue` tokens, a discovery document with
//! 100,000 kinds, a `Retry-After` past the deadline, a server slower than the deadline, and a
//! plain `http://` server without the loopback test flag. Each ends with an error that names
//! the limit and the flag that raises it.

use std::time::Duration;

use plinth_drift::DriftError;
use plinth_drift::source::kube::{ClusterLive, ConnectOptions, Limits};
use plinth_testkit::{FakeApiServer, FaultKind, Scenario};
use serde_json::json;

use crate::support::{self, connect, hits};

fn server(scenario: Scenario) -> FakeApiServer {
    FakeApiServer::start(scenario.object(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "c0", "namespace": "a"},
    })))
    .expect("server")
}

/// The LIST of `ConfigMap`s in namespace `a`.
const LIST_PATH: &str = "/api/v1/namespaces/a/configmaps";

fn options(server: &FakeApiServer) -> ConnectOptions {
    support::options(server, 2)
}

/// What reading `ConfigMap`s in namespace `a` with `options` fails with.
async fn fetch_error(options: &ConnectOptions) -> DriftError {
    support::read_error(connect(options).await).await
}

/// A server whose `ConfigMap` LIST always answers with `fault`, and what reading it fails with,
/// the connection options changed by `adjust`.
async fn failing_list(
    fault: FaultKind,
    adjust: impl FnOnce(&mut ConnectOptions),
) -> (FakeApiServer, DriftError) {
    let server = server(Scenario::new());
    support::always(&server, LIST_PATH, fault);
    let mut options = options(&server);
    adjust(&mut options);
    let err = fetch_error(&options).await;
    (server, err)
}

fn limit_flag(err: &DriftError) -> &'static str {
    match err {
        DriftError::Limit { flag, .. } => flag,
        other => panic!("not a limit error: {other}"),
    }
}

#[tokio::test]
async fn an_endless_body_stops_at_the_response_limit() {
    let (server, err) = failing_list(FaultKind::EndlessBody, |o| {
        o.limits.max_response_bytes = 1024 * 1024;
    })
    .await;
    assert_eq!(limit_flag(&err), "--max-response-mib", "{err}");
    let text = err.to_string();
    assert!(
        text.contains("LIST `ConfigMap` in namespace `a`") && text.contains("1 MiB"),
        "{text}"
    );
    // Not retried: a retry would only read the same endless body again.
    let endless = support::count(&server, |r| r.fault == Some(FaultKind::EndlessBody));
    assert_eq!(endless, 1);
}

#[tokio::test]
async fn endless_continue_tokens_stop_at_the_page_limit() {
    let fault = FaultKind::EndlessContinue { same_token: false };
    let (server, err) = failing_list(fault, |o| o.limits.max_pages = 25).await;
    assert_eq!(limit_flag(&err), "--max-pages", "{err}");
    assert!(err.to_string().contains("25 pages"), "{err}");
    let pages = hits(&server, LIST_PATH);
    assert_eq!(pages, 25);
}

#[tokio::test]
async fn a_repeated_continue_token_ends_the_list_at_once() {
    let fault = FaultKind::EndlessContinue { same_token: true };
    let (server, err) = failing_list(fault, |_| {}).await;
    assert!(
        err.to_string().contains("the same `continue` token twice"),
        "{err}"
    );
    let pages = hits(&server, LIST_PATH);
    assert_eq!(pages, 2);
}

#[tokio::test]
async fn a_discovery_of_100000_kinds_makes_no_lists() {
    let server = server(Scenario::new().serve_many("huge.example.com/v1", 100_000));
    let err = fetch_error(&options(&server)).await;
    assert_eq!(limit_flag(&err), "--max-kinds", "{err}");
    assert!(err.to_string().contains("2000 kinds"), "{err}");
    let lists = support::count(&server, |r| r.path.contains("/kind0"));
    assert_eq!(lists, 0);
}

#[tokio::test]
async fn the_kind_limit_is_configurable() {
    let server = server(Scenario::new().serve_many("many.example.com/v1", 30));
    let mut options = options(&server);
    options.limits = Limits {
        max_kinds: 100,
        ..Limits::default()
    };
    let live = support::read(connect(&options).await).await;
    assert_eq!(live.objects.len(), 1);
    options.limits.max_kinds = 10;
    let err = fetch_error(&options).await;
    assert_eq!(limit_flag(&err), "--max-kinds", "{err}");
}

/// A `Retry-After` that ends past the deadline is not waited for: the request fails at once,
/// saying what the server asked.
#[tokio::test]
async fn a_retry_after_past_the_deadline_fails_at_once() {
    let server = server(Scenario::new());
    let fault = support::too_many_requests(3600);
    support::inject(&server, fault, LIST_PATH, 1);
    let mut options = options(&server);
    options.deadline = Duration::from_mins(2);
    let err = fetch_error(&options).await;
    assert!(matches!(err, DriftError::Deadline { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("the server asked to retry after 3600s") && text.contains("`--deadline`"),
        "{text}"
    );
    let tries = hits(&server, LIST_PATH);
    assert_eq!(tries, 1);
}

/// A `Retry-After` within the deadline is honoured (the retry succeeds).
#[tokio::test]
async fn a_retry_after_within_the_deadline_is_honoured() {
    let server = server(Scenario::new());
    let fault = support::too_many_requests(1);
    support::inject(&server, fault, LIST_PATH, 1);
    let live = support::read(connect(&options(&server)).await).await;
    assert_eq!(live.objects.len(), 1);
}

/// The per-request timeout is longer than the deadline: the deadline ends the request.
#[tokio::test]
async fn the_deadline_bounds_a_slow_server() {
    let (_server, err) = failing_list(FaultKind::Slow(Duration::from_hours(1)), |o| {
        o.timeout = Duration::from_hours(1);
        o.deadline = Duration::from_secs(2);
    })
    .await;
    assert!(matches!(err, DriftError::Deadline { .. }), "{err}");
    assert!(err.to_string().contains("deadline of 2s"), "{err}");
}

/// Plain HTTP is refused before any request unless the loopback test flag allows it.
#[tokio::test]
async fn plain_http_is_refused_without_the_loopback_flag() {
    let server = server(Scenario::new().token("SECRET-http-token"));
    let mut options = options(&server);
    options.allow_http_loopback = false;
    let err = ClusterLive::connect(&options).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("cluster `fake`")
            && text.contains("plain HTTP")
            && text.contains("--insecure-allow-http-loopback"),
        "{text}"
    );
    assert!(!text.contains("SECRET"), "{text}");
    assert!(server.request_log().is_empty());
}
