//! VPSie's settings for cloud drift: the cluster's `clouds.vpsie` (and its overlays), the
//! flags (`--vpsie-credentials`, `--discovery-timeout`) and the environment (`VPSIE_API_URL`,
//! `VPSIE_CLIENT_ID`, `VPSIE_CLIENT_SECRET`, `VPSIE_TOKEN`, `SSL_CERT_FILE`) turned into the
//! source of VMs and node groups, the client built (every setting checked, the error naming it)
//! before anything is sent.
//!
//! Credentials, first found wins: the `--vpsie-credentials` file (the flag is the most explicit),
//! the environment (client credentials, else a token), the autoscaler's Secret in the cluster
//! (`clouds.vpsie.credentialsSecret`, default `kube-system/vpsie-secret`; keys `clientId`,
//! `clientSecret`, `token`, `url`). The base URL: `VPSIE_API_URL`, the credentials' `url`,
//! `clouds.vpsie.endpoint`, then `https://api.vpsie.com/v2`. An endpoint the repository sets must
//! be a `vpsie.com` host: the credentials are the operator's, and a pull request may change the
//! repository.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use plinth_cloud::http::HttpConfig;
use plinth_cloud::vpsie::{AuthHeader, Credentials, VpsieClient, VpsieConfig};
use plinth_cloud::{CloudError, Secret, SystemClock};
use plinth_drift::core::desired::DesiredObject;
use plinth_drift::core::vpsie::DEFAULT_DISCOVERY_TIMEOUT_SECS;
use plinth_drift::engine::{self, LiveSource};
use plinth_drift::source::vpsie::VpsieSource;
use plinth_renderer::cluster::{Sourced, VpsieCloud};
use serde_json::Value;
use zeroize::Zeroizing;

use super::cloud::{Place, ca_bundle, check_repo_endpoint, listing_deadline, read_small};
use crate::command_error::CommandError;
use crate::settings::CloudEnv;

/// The base URL when nothing sets one: the autoscaler's default.
pub const DEFAULT_ENDPOINT: &str = "https://api.vpsie.com/v2";
/// The domain an endpoint set in the repository must be under.
const VPSIE_DOMAIN: &str = "vpsie.com";
/// The autoscaler's Secret.
const DEFAULT_SECRET: (&str, &str) = ("kube-system", "vpsie-secret");
/// The longest discovery timeout accepted: a week.
const MAX_DISCOVERY_TIMEOUT_SECS: i64 = 7 * 86_400;

/// What the VPSie settings are read from.
pub struct Settings<'a> {
    pub place: &'a Place<'a>,
    pub env: &'a CloudEnv,
    /// The limit on one request.
    pub timeout: Duration,
    pub fleet: &'a plinth_renderer::Fleet,
    /// `clouds.vpsie`, composed from the overlays and `cluster.yaml` (none when unset).
    pub composed: Option<&'a Sourced<VpsieCloud>>,
    /// `cluster.yaml`, where an unset field is said to be missing.
    pub cluster_file: &'a str,
    pub desired: &'a [DesiredObject],
}

/// Credentials as read, before the client takes them.
struct Found {
    credentials: Credentials,
    /// The `url` they carry (a Secret's or a file's).
    url: Option<String>,
}

impl Settings<'_> {
    fn value(&self) -> VpsieCloud {
        self.composed.map(|c| c.value.clone()).unwrap_or_default()
    }

    /// `` `file`: `clouds.vpsie.<field>` ``: where a field was set (or would be).
    fn at(&self, field: &str) -> String {
        let from = self
            .composed
            .and_then(|c| c.origin(field))
            .unwrap_or(self.cluster_file);
        format!("`{from}`: `clouds.vpsie.{field}`")
    }

    /// The discovery timeout: the flag, else `clouds.vpsie.discoveryTimeout`, else 15 minutes.
    ///
    /// # Errors
    /// The duration does not parse or is out of range; the message names the flag or field.
    pub fn discovery_timeout(&self, flag: Option<&str>) -> Result<i64, CommandError> {
        let (text, origin) = match (flag, self.value().discovery_timeout) {
            (Some(f), _) => (f.to_owned(), "`--discovery-timeout`".to_owned()),
            (None, Some(v)) => (v, self.at("discoveryTimeout")),
            (None, None) => return Ok(DEFAULT_DISCOVERY_TIMEOUT_SECS),
        };
        parse_duration(&text)
            .filter(|s| (1..=MAX_DISCOVERY_TIMEOUT_SECS).contains(s))
            .ok_or_else(|| {
                CommandError::config(format!(
                    "{origin} must be a duration of 1s to 7d such as `15m`, `900s` or `1h`"
                ))
            })
    }

    /// The API as the source: the client built from `clouds.vpsie`, the flags and the
    /// environment.
    ///
    /// # Errors
    /// A setting is unusable or no credentials are found (exit 2), naming the field.
    pub fn api_source(&self, credentials_file: Option<&Path>) -> Result<VpsieSource, CommandError> {
        let settings = self.value();
        let found = self.credentials(credentials_file, &settings)?;
        // The operator's settings (the environment, the credentials' own `url`) before the
        // repository's, which may only name VPSie's own hosts.
        let (endpoint, endpoint_origin) =
            match (&self.env.vpsie_url, &found.url, &settings.endpoint) {
                (Some(u), _, _) => (u.clone(), "`VPSIE_API_URL`".to_owned()),
                (None, Some(u), _) => (u.clone(), "the credentials' `url`".to_owned()),
                (None, None, Some(u)) => {
                    check_repo_endpoint(u, VPSIE_DOMAIN, &self.at("endpoint"), "VPSIE_API_URL")?;
                    (u.clone(), self.at("endpoint"))
                }
                (None, None, None) => (
                    DEFAULT_ENDPOINT.to_owned(),
                    "the default endpoint".to_owned(),
                ),
            };
        let auth_header = match settings.auth_header.as_deref() {
            None | Some("bearer") => AuthHeader::Bearer,
            Some("vpsie-auth") => AuthHeader::VpsieAuth,
            Some(_) => {
                return Err(CommandError::config(format!(
                    "{} must be `bearer` or `vpsie-auth`",
                    self.at("authHeader")
                )));
            }
        };
        let mut http = HttpConfig::default().with_timeout(self.timeout);
        http.ca_bundle = ca_bundle(self.fleet, settings.ca_file.as_deref(), self.env, &|f| {
            self.at(f)
        })?;
        let config = VpsieConfig {
            base_url: endpoint,
            http,
            auth_header,
        };
        let client = VpsieClient::new(config, found.credentials, Arc::new(SystemClock)).map_err(
            |e| match e {
                CloudError::Config { message, .. } => {
                    CommandError::config(format!("{endpoint_origin}: {message}"))
                }
                other => CommandError::config(other.to_string()),
            },
        )?;
        Ok(VpsieSource::Api {
            client: Arc::new(client),
            deadline: listing_deadline(self.timeout),
            cluster_identifiers: self.cluster_identifiers(&settings),
        })
    }

    /// `clouds.vpsie.clusterIdentifier`, else the distinct `resourceIdentifier`s of the
    /// rendered VPSie NodeGroups.
    fn cluster_identifiers(&self, settings: &VpsieCloud) -> Vec<String> {
        if let Some(id) = &settings.cluster_identifier {
            return vec![id.clone()];
        }
        let ids: std::collections::BTreeSet<String> = self
            .desired
            .iter()
            .filter(|d| d.index.kind == "NodeGroup")
            .filter_map(|d| d.value.pointer("/spec/resourceIdentifier")?.as_str())
            .map(str::to_owned)
            .collect();
        ids.into_iter().collect()
    }

    fn credentials(
        &self,
        file: Option<&Path>,
        settings: &VpsieCloud,
    ) -> Result<Found, CommandError> {
        if let Some(path) = file {
            let what = format!("`--vpsie-credentials` `{}`", path.display());
            let bytes = Zeroizing::new(read_small(path, "`--vpsie-credentials`")?);
            let keys = credentials_file(&bytes)
                .map_err(|m| CommandError::config(format!("{what}: {m}")))?;
            return from_keys(keys, &what);
        }
        let env = self.env;
        match (&env.vpsie_client_id, &env.vpsie_client_secret) {
            (Some(id), Some(secret)) => {
                return Ok(Found {
                    credentials: client_credentials(id.clone(), secret.clone(), "the environment")?,
                    url: None,
                });
            }
            (Some(_), None) | (None, Some(_)) => {
                return Err(CommandError::config(
                    "`VPSIE_CLIENT_ID` and `VPSIE_CLIENT_SECRET` must be set together",
                ));
            }
            (None, None) => {}
        }
        if let Some(token) = &env.vpsie_token {
            return Ok(Found {
                credentials: Credentials::token(token.clone()),
                url: None,
            });
        }
        if let LiveSource::Cluster(options) = self.place.live {
            let (namespace, name) = match &settings.credentials_secret {
                None => (DEFAULT_SECRET.0.to_owned(), DEFAULT_SECRET.1.to_owned()),
                Some(text) => match text.split_once('/') {
                    Some((ns, n)) if !ns.is_empty() && !n.is_empty() && !n.contains('/') => {
                        (ns.to_owned(), n.to_owned())
                    }
                    _ => {
                        return Err(CommandError::config(format!(
                            "{} must be `namespace/name`",
                            self.at("credentialsSecret")
                        )));
                    }
                },
            };
            let what = format!("Secret `{namespace}/{name}`");
            let mut keys = BTreeMap::new();
            let values = engine::secret_values(
                options,
                &namespace,
                &name,
                &["clientId", "clientSecret", "token", "url"],
            )?
            .unwrap_or_default();
            for (key, bytes) in values {
                let bytes = Zeroizing::new(bytes);
                let text = std::str::from_utf8(&bytes).map_err(|_| {
                    CommandError::config(format!("{what} key `{key}` is not UTF-8 text"))
                })?;
                keys.insert(key, Secret::new(text.trim()));
            }
            if keys.is_empty() {
                return Err(no_credentials(&format!(
                    "the cluster has no {what} with `clientId` and `clientSecret`"
                )));
            }
            return from_keys(keys, &what);
        }
        Err(no_credentials(
            "set `VPSIE_CLIENT_ID` and `VPSIE_CLIENT_SECRET` (or `VPSIE_TOKEN`), or give `--vpsie-credentials FILE`",
        ))
    }
}

fn no_credentials(detail: &str) -> CommandError {
    CommandError::config(format!("no VPSie credentials for `--cloud`: {detail}"))
        .hint("or read VMs and node groups from a file with `--vpsie-snapshot PATH`")
}

fn client_credentials(id: Secret, secret: Secret, what: &str) -> Result<Credentials, CommandError> {
    if id.expose().trim().is_empty() || secret.expose().trim().is_empty() {
        return Err(CommandError::config(format!(
            "{what}: `clientId` and `clientSecret` must not be empty"
        )));
    }
    Ok(Credentials::client(id, secret))
}

/// Credentials from the keys of a file or a Secret: client credentials, else a token.
fn from_keys(mut keys: BTreeMap<String, Secret>, what: &str) -> Result<Found, CommandError> {
    let url = keys.remove("url").map(|u| u.expose().to_owned());
    let credentials = match (
        keys.remove("clientId"),
        keys.remove("clientSecret"),
        keys.remove("token"),
    ) {
        (Some(id), Some(secret), _) => client_credentials(id, secret, what)?,
        (None, None, Some(token)) if !token.expose().is_empty() => Credentials::token(token),
        _ => {
            return Err(CommandError::config(format!(
                "{what} must hold `clientId` and `clientSecret` (or `token`)"
            )));
        }
    };
    Ok(Found { credentials, url })
}

/// The keys of a credentials file: a YAML or JSON map of `clientId`, `clientSecret`, `token`
/// and `url`, or a Secret manifest (its `stringData`, and its `data` decoded). The message never
/// quotes the content.
fn credentials_file(bytes: &[u8]) -> Result<BTreeMap<String, Secret>, String> {
    let text = std::str::from_utf8(bytes).map_err(|_| "is not UTF-8 text".to_owned())?;
    let value: Value = serde_saphyr::from_str(text)
        .map_err(|_| "is not a YAML or JSON map (the content is not repeated here)".to_owned())?;
    let Value::Object(map) = &value else {
        return Err("is not a YAML or JSON map".to_owned());
    };
    let mut keys = BTreeMap::new();
    let wanted = ["clientId", "clientSecret", "token", "url"];
    if value.get("kind").and_then(Value::as_str) == Some("Secret") {
        for (k, v) in value
            .get("data")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if !wanted.contains(&k.as_str()) {
                continue;
            }
            let decoded = v
                .as_str()
                .and_then(|s| {
                    base64::engine::general_purpose::STANDARD
                        .decode(s.trim())
                        .ok()
                })
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| format!("`data.{k}` is not base64-encoded UTF-8 text"))?;
            keys.insert(k.clone(), Secret::new(decoded.trim()));
        }
        for (k, v) in value
            .get("stringData")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if let (true, Some(s)) = (wanted.contains(&k.as_str()), v.as_str()) {
                keys.insert(k.clone(), Secret::new(s.trim()));
            }
        }
        return Ok(keys);
    }
    for (k, v) in map {
        if !wanted.contains(&k.as_str()) {
            return Err(format!(
                "`{}` is not a key of VPSie credentials (`clientId`, `clientSecret`, `token`, `url`)",
                k.escape_debug()
            ));
        }
        let s = v.as_str().ok_or_else(|| format!("`{k}` is not a string"))?;
        keys.insert(k.clone(), Secret::new(s.trim()));
    }
    Ok(keys)
}

/// `15m`, `900s`, `1h`, `2d` or a number of seconds, in seconds.
fn parse_duration(text: &str) -> Option<i64> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: i64 = number.parse().ok()?;
    let factor = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return None,
    };
    n.checked_mul(factor)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("900"), Some(900));
        assert_eq!(parse_duration("1h"), Some(3600));
        assert_eq!(parse_duration("2d"), Some(172_800));
        for bad in [
            "",
            "m",
            "15 m",
            "1.5h",
            "-1m",
            "1w",
            "99999999999999999999s",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_credentials_file_is_a_map_or_a_secret() {
        let keys = credentials_file(b"clientId: id\nclientSecret: 'a&b=c+d%e'\n").unwrap();
        assert_eq!(keys["clientSecret"].expose(), "a&b=c+d%e");
        let secret = credentials_file(
            b"apiVersion: v1\nkind: Secret\nmetadata: {name: vpsie-secret}\ndata:\n  clientId: aWQ=\n  clientSecret: czNjcjN0\nstringData:\n  url: https://api.example/v2\n",
        )
        .unwrap();
        assert_eq!(secret["clientId"].expose(), "id");
        assert_eq!(secret["clientSecret"].expose(), "s3cr3t");
        assert_eq!(secret["url"].expose(), "https://api.example/v2");
        for (bad, needle) in [
            (&b"- a"[..], "not a YAML or JSON map"),
            (b"password: hunter2", "`password` is not a key"),
            (b"clientId: [1]", "`clientId` is not a string"),
            (
                b"kind: Secret\ndata: {clientId: '%%%'}",
                "`data.clientId` is not base64",
            ),
            (b"\xff", "not UTF-8"),
        ] {
            let err = credentials_file(bad).unwrap_err();
            assert!(err.contains(needle), "{err}");
            assert!(!err.contains("hunter2"));
        }
    }
}
