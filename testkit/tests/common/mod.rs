//! What the fake API server's integration tests share: a kube-rs client for a server.

use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use plinth_testkit::FakeApiServer;

/// A kube-rs client from the server's kubeconfig, without retries.
pub async fn client(server: &FakeApiServer) -> Client {
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig_path()).expect("kubeconfig");
    let mut config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    config.default_retry = false;
    Client::try_from(config).expect("client")
}
