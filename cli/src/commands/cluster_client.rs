//! What the commands that talk to a live cluster (`drift`, `discover`) share: their connection
//! flags turned into [`ConnectOptions`] once.

use std::time::Duration;

use plinth_drift::source::kube::{ConnectOptions, KubeEnv, Limits};

use crate::args::{ClusterClientArgs, KubeconfigArgs, RequestArgs};

/// The connection settings from the connection flags (every flag destructured, so a new one
/// that is not handled fails to compile) and the Kubernetes client environment.
pub fn connect_options(
    kubeconfig: KubeconfigArgs,
    requests: RequestArgs,
    kube_env: &KubeEnv,
) -> ConnectOptions {
    let KubeconfigArgs {
        kubeconfig,
        context,
    } = kubeconfig;
    let RequestArgs {
        timeout,
        retries,
        client,
    } = requests;
    let ClusterClientArgs {
        deadline,
        max_response_mib,
        max_pages,
        max_kinds,
        insecure_allow_http_loopback,
    } = client;
    ConnectOptions {
        kubeconfig,
        context,
        timeout: Duration::from_secs(timeout.max(1)),
        retries,
        deadline: Duration::from_secs(deadline.max(1)),
        limits: Limits {
            max_response_bytes: max_response_mib.max(1).saturating_mul(1024 * 1024),
            max_pages: max_pages.max(1),
            max_kinds: max_kinds.max(1),
        },
        allow_http_loopback: insecure_allow_http_loopback,
        env: kube_env.clone(),
    }
}
