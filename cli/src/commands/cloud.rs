//! Cloud drift's settings for `plinth drift`: which providers a run compares, from the flags
//! (`--cloud`, `--cloud-only`, `--cloud-snapshot`, `--vpsie-snapshot`, `--all-vms`) and what
//! the cluster renders and configures (`clouds:` in `cluster.yaml` and its overlays), turned
//! into the drift library's [`CloudRequest`]. Each provider's settings are checked (the error
//! naming the field) before anything is sent: STACKIT in `stackit`, VPSie in `vpsie`.
//!
//! `--cloud` and `--cloud-only` compare every provider the cluster uses: STACKIT when it
//! renders STACKIT `MachineClass`es or sets `clouds.stackit`, VPSie when it renders VPSie
//! `NodeGroup`s or sets `clouds.vpsie`, KubeVirt run state when it renders `VirtualMachine`s.
//! Without them, each snapshot flag selects its provider alone, and `--all-vms` KubeVirt.

use std::path::Path;
use std::time::Duration;

use plinth_cloud::http::{DEFAULT_RETRIES, DEFAULT_TIMEOUT};
use plinth_drift::core::desired::DesiredObject;
use plinth_drift::engine::{self, CloudRequest, KubevirtRequest, LiveSource};
use plinth_drift::source::stackit::ServerSource;
use plinth_drift::source::vpsie::VpsieSource;
use serde_json::Value;

use super::{stackit, vpsie};
use crate::args::CloudArgs;
use crate::command_error::CommandError;
use crate::settings::CloudEnv;

/// Largest credentials file or CA bundle read, in bytes.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;
/// Time a listing may take besides its attempts (the backoff between them).
const BACKOFF_ALLOWANCE: Duration = Duration::from_secs(30);
/// The longest cloud timeout accepted: a day.
const MAX_TIMEOUT_SECS: u64 = 86_400;

/// What a drift run is about, as cloud drift needs it.
pub struct Place<'a> {
    pub repo: &'a Path,
    pub cluster: &'a str,
    /// The Kubernetes source: with a cluster and no credentials in the environment, they come
    /// from a Secret in the cluster.
    pub live: &'a LiveSource,
    /// The limit on a snapshot file.
    pub max_file_bytes: u64,
}

/// The cloud part of a drift run the arguments ask for, if any.
///
/// # Errors
/// A setting is missing or unusable (exit 2): the message names the file and the field
/// (`clouds.stackit.projectId`), the flag or the environment variable, never a credential.
pub fn request(
    args: &CloudArgs,
    place: &Place<'_>,
    env: &CloudEnv,
) -> Result<Option<CloudRequest>, CommandError> {
    let every = args.cloud || args.cloud_only;
    // A VPSie flag that would do nothing is an error, not a silent no-op.
    let vpsie_flag = [
        (args.vpsie_credentials.is_some(), "--vpsie-credentials"),
        (args.discovery_timeout.is_some(), "--discovery-timeout"),
    ]
    .into_iter()
    .find_map(|(given, flag)| given.then_some(flag));
    if !every && args.cloud_snapshot.is_none() && args.vpsie_snapshot.is_none() && !args.all_vms {
        return match vpsie_flag {
            Some(flag) => Err(CommandError::user(format!(
                "`{flag}` does nothing without `--cloud`, `--cloud-only` or `--vpsie-snapshot`"
            ))),
            None => Ok(None),
        };
    }
    let fleet = engine::open_cluster(place.repo, place.cluster)?;
    let prepared = fleet.prepare(place.cluster)?;
    let desired = engine::load_desired(place.repo, place.cluster, &fleet, &|_| {})?;
    let uses = Uses::of(&desired);
    let timeout = timeout(args.cloud_timeout, env)?;
    let servers = match &args.cloud_snapshot {
        Some(path) => Some(ServerSource::Snapshot {
            path: path.clone(),
            max_file_bytes: place.max_file_bytes,
        }),
        None if every && (uses.stackit || prepared.stackit_cloud().is_some()) => Some(
            stackit::api_source(place, env, timeout, &fleet, &prepared, &desired)?,
        ),
        None => None,
    };
    let vpsie_cloud = prepared.vpsie_cloud();
    let vpsie = if args.vpsie_snapshot.is_some() || (every && (uses.vpsie || vpsie_cloud.is_some()))
    {
        let settings = vpsie::Settings {
            place,
            env,
            timeout,
            fleet: &fleet,
            composed: vpsie_cloud.as_ref(),
            cluster_file: &prepared.cluster.path,
            desired: &desired,
        };
        let source = match &args.vpsie_snapshot {
            Some(path) => VpsieSource::Snapshot {
                path: path.clone(),
                max_file_bytes: place.max_file_bytes,
            },
            None => settings.api_source(args.vpsie_credentials.as_deref())?,
        };
        Some(engine::VpsieRequest {
            source,
            discovery_timeout_secs: settings
                .discovery_timeout(args.discovery_timeout.as_deref())?,
        })
    } else {
        if let Some(flag) = vpsie_flag {
            return Err(CommandError::user(format!(
                "`{flag}` does nothing here: cluster `{}` renders no VPSie NodeGroup and sets no `clouds.vpsie`, and no `--vpsie-snapshot` is given",
                place.cluster
            )));
        }
        None
    };
    let kubevirt = (args.all_vms || (every && uses.kubevirt)).then_some(KubevirtRequest {
        all_vms: args.all_vms,
    });
    if servers.is_none() && vpsie.is_none() && kubevirt.is_none() {
        return Err(CommandError::config(format!(
            "`{}`: cluster `{}` uses no cloud plinth compares: it renders no STACKIT `MachineClass`, VPSie `NodeGroup` or KubeVirt `VirtualMachine` and sets no `clouds`",
            prepared.cluster.path, place.cluster
        ))
        .hint("drop `--cloud`, or compare every VM of the managed namespaces with `--all-vms`"));
    }
    Ok(Some(CloudRequest {
        servers,
        vpsie,
        kubevirt,
        only: args.cloud_only,
    }))
}

/// Which providers the rendered objects use.
struct Uses {
    stackit: bool,
    vpsie: bool,
    kubevirt: bool,
}

impl Uses {
    fn of(desired: &[DesiredObject]) -> Self {
        let has = |test: &dyn Fn(&Value) -> bool| desired.iter().any(|d| test(&d.value));
        let api_group = |v: &Value| {
            v.get("apiVersion")
                .and_then(Value::as_str)
                .and_then(|a| a.split_once('/'))
                .map(|(g, _)| g.to_owned())
        };
        Self {
            stackit: has(&|v| {
                v.get("kind").and_then(Value::as_str) == Some("MachineClass")
                    && v.get("provider").and_then(Value::as_str) == Some("stackit")
            }),
            vpsie: has(&|v| {
                v.get("kind").and_then(Value::as_str) == Some("NodeGroup")
                    && api_group(v).as_deref() == Some("autoscaler.vpsie.com")
            }),
            kubevirt: has(&|v| {
                v.get("kind").and_then(Value::as_str) == Some("VirtualMachine")
                    && api_group(v).as_deref() == Some("kubevirt.io")
            }),
        }
    }
}

/// `--cloud-timeout`, else `STACKIT_API_TIMEOUT` (whole seconds), else 30 s.
fn timeout(flag: Option<u64>, env: &CloudEnv) -> Result<Duration, CommandError> {
    let secs = match (flag, &env.stackit_timeout) {
        (Some(s), _) => s,
        (None, Some(text)) => text
            .to_str()
            .and_then(|t| t.trim().trim_end_matches('s').parse::<u64>().ok())
            .ok_or_else(|| {
                CommandError::user("`STACKIT_API_TIMEOUT` must be a number of seconds (e.g. `30`)")
            })?,
        (None, None) => return Ok(DEFAULT_TIMEOUT),
    };
    if secs == 0 || secs > MAX_TIMEOUT_SECS {
        return Err(CommandError::user(format!(
            "the cloud timeout (`--cloud-timeout`, `STACKIT_API_TIMEOUT`) must be 1 to {MAX_TIMEOUT_SECS} seconds"
        )));
    }
    Ok(Duration::from_secs(secs))
}

/// The time a listing may take, retries included, when each attempt may take `timeout`.
pub fn listing_deadline(timeout: Duration) -> Duration {
    timeout
        .saturating_mul(DEFAULT_RETRIES.saturating_add(1))
        .saturating_add(BACKOFF_ALLOWANCE)
}

/// A small regular file (`what` names where its path came from), at most
/// [`MAX_FILE_BYTES`].
pub fn read_small(path: &Path, what: &str) -> Result<Vec<u8>, CommandError> {
    let fail =
        |message: String| CommandError::config(format!("{what} `{}`: {message}", path.display()));
    let meta = fs_err::metadata(path).map_err(|e| fail(e.kind().to_string()))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".to_owned()));
    }
    if meta.len() > MAX_FILE_BYTES {
        return Err(fail(format!("is larger than {MAX_FILE_BYTES} bytes")));
    }
    std::fs::read(path).map_err(|e| fail(e.kind().to_string()))
}

/// `SSL_CERT_FILE` and a `caFile` setting (repository-relative, `at` naming where it was set),
/// both trusted when both are given.
pub fn ca_bundle(
    fleet: &plinth_renderer::Fleet,
    ca_file: Option<&str>,
    env: &CloudEnv,
    at: &dyn Fn(&str) -> String,
) -> Result<Option<plinth_cloud::tls::CaBundle>, CommandError> {
    let mut origins = Vec::new();
    let mut pem = Vec::new();
    if let Some(path) = &env.ssl_cert_file {
        pem.extend(read_small(path, "`SSL_CERT_FILE`")?);
        origins.push("SSL_CERT_FILE".to_owned());
    }
    if let Some(rel) = ca_file {
        let bytes = fleet
            .source
            .read(rel, MAX_FILE_BYTES)
            .map_err(|e| CommandError::config(format!("{}: {e}", at("caFile"))))?;
        pem.push(b'\n');
        pem.extend(bytes);
        origins.push(format!("caFile `{rel}`"));
    }
    Ok((!origins.is_empty()).then(|| plinth_cloud::tls::CaBundle {
        origin: origins.join(" and "),
        pem,
    }))
}

/// An endpoint a repository file sets (`clouds.<provider>.endpoint`, `at` naming where), checked
/// before any credential goes there: a pull-request author changes repository files, and the
/// credentials come from the operator (environment, files, the cluster). So the host must be
/// the provider's `domain` or under it; any other endpoint is the operator's to set, in the
/// environment (`env_var`).
///
/// # Errors
/// The host is elsewhere; the message names the field and the variable to use instead.
pub fn check_repo_endpoint(
    url: &str,
    domain: &str,
    at: &str,
    env_var: &str,
) -> Result<(), CommandError> {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let host = host
        .rsplit_once(':')
        .filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()))
        .map_or(host, |(host, _)| host)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    if host == domain || host.ends_with(&format!(".{domain}")) {
        return Ok(());
    }
    Err(CommandError::config(format!(
        "{at} must name a host under `{domain}`: the credentials go to this endpoint, and a repository file may be changed by anyone who opens a pull request"
    ))
    .hint(format!(
        "set `{env_var}` in the environment to use another endpoint (a proxy, a test server)"
    )))
}

#[cfg(test)]
mod tests {
    use super::check_repo_endpoint;

    #[test]
    fn a_repository_endpoint_must_be_the_provider_s() {
        for ok in [
            "https://api.vpsie.com/v2",
            "https://vpsie.com",
            "https://API.VPSIE.COM:443/apps/v2",
        ] {
            assert!(
                check_repo_endpoint(ok, "vpsie.com", "f", "V").is_ok(),
                "{ok}"
            );
        }
        for bad in [
            "https://evil.example/v2",
            "https://api.vpsie.com.evil.example/v2",
            "https://evilvpsie.com/v2",
            "https://api.vpsie.com@evil.example/v2",
            "http://127.0.0.1:8080/v2",
        ] {
            let err = check_repo_endpoint(
                bad,
                "vpsie.com",
                "`f`: `clouds.vpsie.endpoint`",
                "VPSIE_API_URL",
            )
            .unwrap_err()
            .to_string();
            assert!(
                err.contains("must name a host under `vpsie.com`"),
                "{bad}: {err}"
            );
        }
    }
}
