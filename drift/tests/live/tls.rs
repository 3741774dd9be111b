//! TLS against the fake API server: the server certificate is verified against the CA of the
//! kubeconfig; an unknown issuer fails the connection (never retried into success, never
//! skipped).

use plinth_drift::DriftError;
use plinth_drift::error::chain;
use plinth_drift::source::kube::ConnectOptions;
use plinth_testkit::{FakeApiServer, Scenario};
use serde_json::json;

use crate::support;

/// Options for `kubeconfig`, one retry, and no plain HTTP.
fn options(kubeconfig: &std::path::Path) -> ConnectOptions {
    ConnectOptions {
        allow_http_loopback: false,
        ..support::options_for(kubeconfig, 1)
    }
}

fn server() -> FakeApiServer {
    FakeApiServer::start(Scenario::new().tls().token("tls-token").object(json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "a"}
    })))
    .expect("server")
}

#[tokio::test]
async fn https_with_the_kubeconfig_ca_works() {
    let server = server();
    assert!(server.url().starts_with("https://127.0.0.1:"));
    let live =
        support::read(support::connect_plain(&options(server.kubeconfig_path())).await).await;
    assert_eq!(live.objects.len(), 1);
}

#[tokio::test]
async fn an_unknown_issuer_is_refused() {
    let server = server();
    let (_dir, path) = support::edited_kubeconfig(&server, |text| {
        text.lines()
            .filter(|l| !l.contains("certificate-authority-data"))
            .flat_map(|l| [l, "\n"])
            .collect()
    });
    let err = support::read_error(support::connect_plain(&options(&path)).await).await;
    assert!(matches!(err, DriftError::Api { .. }), "{err:?}");
    let chain = chain(&err);
    assert!(
        chain.starts_with(
            "discovery of `v1` failed after 1 attempt(s): the server certificate was not accepted"
        ),
        "{chain}"
    );
    assert!(chain.contains("UnknownIssuer"), "{chain}");
    assert!(!chain.contains("tls-token"), "{chain}");
    assert!(
        server.request_log().is_empty(),
        "a request got through: {chain}"
    );
}
