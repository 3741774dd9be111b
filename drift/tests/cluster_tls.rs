//! TLS against the fake API server: the server certificate is verified against the CA of the
//! kubeconfig; an unknown issuer fails the connection (never retried into success, never
//! skipped).

use std::error::Error as _;
use std::time::Duration;

use plinth_drift::DriftError;
use plinth_drift::core::live::KindRef;
use plinth_drift::source::kube::{ClusterLive, ConnectOptions};
use plinth_testkit::{FakeApiServer, Scenario};
use serde_json::json;

fn wanted() -> Vec<KindRef> {
    vec![KindRef {
        api_version: "v1".into(),
        kind: "ConfigMap".into(),
        namespace: Some("a".into()),
    }]
}

fn options(kubeconfig: &std::path::Path) -> ConnectOptions {
    ConnectOptions {
        kubeconfig: Some(kubeconfig.to_path_buf()),
        context: None,
        timeout: Duration::from_secs(30),
        retries: 1,
        ..ConnectOptions::default()
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
    let live = ClusterLive::connect(&options(server.kubeconfig_path()))
        .await
        .expect("connect")
        .fetch(&wanted(), "prod")
        .await
        .expect("fetch");
    assert_eq!(live.objects.len(), 1);
}

#[tokio::test]
async fn an_unknown_issuer_is_refused() {
    let server = server();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("kubeconfig");
    let text = fs_err::read_to_string(server.kubeconfig_path()).expect("kubeconfig");
    let without_ca: String = text
        .lines()
        .filter(|l| !l.contains("certificate-authority-data"))
        .flat_map(|l| [l, "\n"])
        .collect();
    fs_err::write(&path, without_ca).expect("write");
    let err = ClusterLive::connect(&options(&path))
        .await
        .expect("connect")
        .fetch(&wanted(), "prod")
        .await
        .unwrap_err();
    assert!(matches!(err, DriftError::Api { .. }), "{err:?}");
    let mut chain = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        chain.push_str(" / ");
        chain.push_str(&c.to_string());
        cause = c.source();
    }
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
