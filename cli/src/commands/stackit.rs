//! STACKIT's settings for cloud drift: the cluster's `clouds.stackit` in `cluster.yaml` (and
//! its overlays) and the environment (`STACKIT_API_ENDPOINT`, `STACKIT_SERVICE_ACCOUNT_KEY_PATH`,
//! `STACKIT_SERVICE_ACCOUNT_TOKEN`, `SSL_CERT_FILE`) turned into the servers' source, the
//! STACKIT client built (every setting checked, the error naming it) before anything is sent.

use std::sync::Arc;
use std::time::Duration;

use plinth_cloud::http::HttpConfig;
use plinth_cloud::stackit::{
    ApiVersion, Credentials, ServiceAccountKey, StackitClient, StackitConfig,
};
use plinth_cloud::{CloudError, SystemClock};
use plinth_drift::core::desired::DesiredObject;
use plinth_drift::engine::{self, LiveSource};
use plinth_drift::source::kube::ConnectOptions;
use plinth_drift::source::stackit::ServerSource;
use plinth_renderer::cluster::StackitCloud;
use serde_json::Value;

use super::cloud::{Place, ca_bundle, listing_deadline, read_small};
use crate::command_error::CommandError;
use crate::settings::CloudEnv;

/// The key of the provider's credentials Secret that holds the service-account key.
const SECRET_KEY: &str = "serviceaccount.json";

/// The API as the source: the client built from `clouds.stackit` and the environment.
pub fn api_source(
    place: &Place<'_>,
    env: &CloudEnv,
    timeout: Duration,
    fleet: &plinth_renderer::Fleet,
    prepared: &plinth_renderer::render::Prepared,
    desired: &[DesiredObject],
) -> Result<ServerSource, CommandError> {
    let file = prepared.cluster.path.clone();
    // `clouds.stackit` composed from the cluster's overlays and `cluster.yaml`: each field is
    // named in the file that set it (a missing one in `cluster.yaml`).
    let composed = prepared.stackit_cloud().ok_or_else(|| {
        CommandError::config(format!(
            "`{file}`: `clouds.stackit` is not set (nor by an overlay): cloud drift needs the cluster's STACKIT project"
        ))
        .hint("add `clouds.stackit.projectId` and `region`, or read servers from a file with `--cloud-snapshot PATH`")
    })?;
    let at = |field: &str| {
        let from = composed.origin(field).unwrap_or(&file);
        format!("`{from}`: `clouds.stackit.{field}`")
    };
    let settings: StackitCloud = composed.value.clone();
    let required = |value: Option<String>, field: &str| {
        value
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| CommandError::config(format!("{} is required for `--cloud`", at(field))))
    };
    let project_id = required(settings.project_id.clone(), "projectId")?;
    let region = required(settings.region.clone(), "region")?;
    let api_version = match settings.api_version.as_deref() {
        None => ApiVersion::V2,
        Some(v) => v.parse().map_err(|_| {
            CommandError::config(format!("{} must be `v1` or `v2`", at("apiVersion")))
        })?,
    };
    let (endpoint, endpoint_origin) = match (&env.stackit_endpoint, &settings.endpoint) {
        (Some(e), _) => (e.clone(), "`STACKIT_API_ENDPOINT`".to_owned()),
        (None, Some(e)) => (e.clone(), at("endpoint")),
        (None, None) => {
            return Err(CommandError::config(format!(
                "no STACKIT API endpoint: set {} or `STACKIT_API_ENDPOINT` (there is no default)",
                at("endpoint")
            ))
            .hint("the public v2 endpoint is `https://iaas.api.stackit.cloud`"));
        }
    };
    let mut http = HttpConfig::default().with_timeout(timeout);
    http.ca_bundle = ca_bundle(fleet, settings.ca_file.as_deref(), env, &at)?;
    let credentials = credentials(env, place, desired)?;
    let config = StackitConfig {
        project_id: project_id.clone(),
        region: region.clone(),
        endpoint,
        api_version,
        http,
    };
    let client =
        StackitClient::new(config, credentials, Arc::new(SystemClock)).map_err(|e| match e {
            CloudError::Config { field, message } => {
                let name = field.trim_matches('`');
                // Only the settings of `clouds.stackit` are named there; other fields (the
                // CA bundle, the key's token endpoint) say where they came from themselves.
                let place = match name {
                    "endpoint" => endpoint_origin.clone(),
                    "projectId" | "region" | "apiVersion" => at(name),
                    _ => field,
                };
                CommandError::config(format!("{place} {message}"))
            }
            other => CommandError::config(other.to_string()),
        })?;
    Ok(ServerSource::Api {
        client: Arc::new(client),
        deadline: listing_deadline(timeout),
        project_id,
        region,
    })
}

/// The credentials: a service-account key file (`STACKIT_SERVICE_ACCOUNT_KEY_PATH`), else a
/// static token (`STACKIT_SERVICE_ACCOUNT_TOKEN`), else, with a cluster as the Kubernetes
/// source, the `serviceaccount.json` key of the Secret the machine classes'
/// `credentialsSecretRef` names.
fn credentials(
    env: &CloudEnv,
    place: &Place<'_>,
    desired: &[DesiredObject],
) -> Result<Credentials, CommandError> {
    if let Some(path) = &env.stackit_key_path {
        let text = read_small(path, "`STACKIT_SERVICE_ACCOUNT_KEY_PATH`")?;
        let key = ServiceAccountKey::parse(&path.display().to_string(), &text, None)
            .map_err(|e| CommandError::config(e.to_string()))?;
        return Ok(Credentials::service_account_key(key, None));
    }
    if let Some(token) = &env.stackit_token {
        return Credentials::static_token(token.clone())
            .map_err(|e| CommandError::config(format!("`STACKIT_SERVICE_ACCOUNT_TOKEN`: {e}")));
    }
    if let LiveSource::Cluster(options) = place.live {
        return in_cluster_credentials(options, desired);
    }
    Err(CommandError::config("no STACKIT credentials for `--cloud`").hint(
        "set `STACKIT_SERVICE_ACCOUNT_KEY_PATH` (a service-account key file) or `STACKIT_SERVICE_ACCOUNT_TOKEN`, or read servers from a file with `--cloud-snapshot PATH`",
    ))
}

/// The key of the Secret the rendered STACKIT machine classes' `credentialsSecretRef` names
/// (the first by namespace and name when they name several), read from the cluster. Classes of
/// other providers are never looked at: their Secrets are not plinth's to read.
fn in_cluster_credentials(
    options: &ConnectOptions,
    desired: &[DesiredObject],
) -> Result<Credentials, CommandError> {
    let Some((namespace, name)) = credentials_secret(desired) else {
        return Err(CommandError::config(
            "no STACKIT credentials for `--cloud`: no rendered machine class names a `credentialsSecretRef`",
        )
        .hint("set `STACKIT_SERVICE_ACCOUNT_KEY_PATH` or `STACKIT_SERVICE_ACCOUNT_TOKEN`"));
    };
    let origin = format!("Secret `{namespace}/{name}` key `{SECRET_KEY}`");
    let text = engine::secret_value(options, &namespace, &name, SECRET_KEY)?.ok_or_else(|| {
        CommandError::config(format!(
            "no STACKIT credentials for `--cloud`: the cluster has no {origin}"
        ))
        .hint("set `STACKIT_SERVICE_ACCOUNT_KEY_PATH` or `STACKIT_SERVICE_ACCOUNT_TOKEN`")
    })?;
    let text = zeroize::Zeroizing::new(text);
    let key = ServiceAccountKey::parse(&origin, &text, None)
        .map_err(|e| CommandError::config(e.to_string()))?;
    Ok(Credentials::service_account_key(key, None))
}

/// The Secret (namespace, name) the rendered STACKIT machine classes' `credentialsSecretRef`
/// names, the first by namespace and name; classes of other providers are never looked at.
fn credentials_secret(desired: &[DesiredObject]) -> Option<(String, String)> {
    desired
        .iter()
        .filter(|d| {
            d.index.kind == "MachineClass"
                && d.value.get("provider").and_then(Value::as_str) == Some("stackit")
        })
        .filter_map(|d| {
            let r = d.value.get("credentialsSecretRef")?;
            Some((
                r.get("namespace")?.as_str()?.to_owned(),
                r.get("name")?.as_str()?.to_owned(),
            ))
        })
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Only STACKIT classes name the Secret plinth reads; another provider's is never read.
    #[test]
    fn the_credentials_secret_is_a_stackit_class_s_only() {
        let class = |provider: &str, namespace: &str, name: &str| {
            json!({"apiVersion": "machine.sapcloud.io/v1alpha1", "kind": "MachineClass",
                "metadata": {"name": format!("{provider}-workers"), "namespace": "mcm"},
                "provider": provider,
                "credentialsSecretRef": {"namespace": namespace, "name": name}})
        };
        let desired = plinth_drift::core::desired::from_values(
            [
                class("aws", "aaa", "aws-creds"),
                class("stackit", "mcm", "stackit-creds"),
            ],
            "pools",
        );
        assert_eq!(
            credentials_secret(&desired),
            Some(("mcm".to_owned(), "stackit-creds".to_owned()))
        );
        let only_aws =
            plinth_drift::core::desired::from_values([class("aws", "aaa", "aws-creds")], "pools");
        assert_eq!(credentials_secret(&only_aws), None);
    }
}
