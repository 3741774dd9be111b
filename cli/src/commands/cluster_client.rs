//! What the commands that talk to a live cluster (`drift`, `discover`) share: their connection
//! flags turned into [`ConnectOptions`] once, and the atomic write of what they produce.

use std::path::{Path, PathBuf};
use std::time::Duration;

use plinth_drift::source::kube::{ConnectOptions, KubeEnv, Limits};

use crate::args::ClusterClientArgs;

/// The connection settings from the connection flags (every flag destructured, so a new one
/// that is not handled fails to compile).
pub fn connect_options(
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    timeout: u64,
    retries: u32,
    client: ClusterClientArgs,
) -> ConnectOptions {
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
        env: kube_env(),
    }
}

/// Where kubectl would look for connection settings, from the environment (`KUBECONFIG`,
/// `HOME`, `KUBERNETES_SERVICE_HOST`): the one place the cluster commands read it.
pub fn kube_env() -> KubeEnv {
    KubeEnv {
        kubeconfig: std::env::var_os("KUBECONFIG"),
        home: std::env::var_os("HOME").map(PathBuf::from),
        in_cluster: std::env::var_os("KUBERNETES_SERVICE_HOST").is_some(),
    }
}

/// Whether `path` is a regular file holding exactly `bytes` (a FIFO or device there is never
/// opened, and a file of another size is never read).
pub fn holds(path: &Path, bytes: &[u8]) -> bool {
    fs_err::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && fs_err::read(path).is_ok_and(|old| old == bytes)
}
