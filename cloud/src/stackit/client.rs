//! [`StackitClient`]: the STACKIT `IaaS` API as plinth uses it — listing a project's servers
//! (`ListServers`, v1 or v2 paths), authenticated by [`Credentials`], over the shared
//! [`HttpClient`].
//!
//! The configuration ([`StackitConfig`]) is explicit: there is no default endpoint. The
//! project id must be a UUID and the region a plain name; both go into the path as checked
//! segments. The spec's list operation has no pagination: one request per selector, its body
//! bounded by [`crate::http::HttpConfig::max_body_bytes`].

use std::sync::Arc;
use std::time::Duration;

use http::{Method, StatusCode};
use plinth_retry::Deadline;
use reqwest::Url;
use serde_json::Value;

use super::auth::{Credentials, TokenSource};
use super::model::Server;
use super::selector::LabelSelector;
use crate::clock::Clock;
use crate::error::CloudError;
use crate::http::{Call, HttpClient, HttpConfig};
use crate::secret::Secret;

/// The operation id of the list request, as the spec names it.
const LIST_SERVERS: &str = "ListServers";

/// Which version of the `IaaS` API's paths to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApiVersion {
    /// `GET /v1/projects/{projectId}/servers` (the region is part of the host).
    V1,
    /// `GET /v2/projects/{projectId}/regions/{region}/servers` (what the provider calls).
    V2,
}

impl ApiVersion {
    /// `v1`, `v2`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

impl std::str::FromStr for ApiVersion {
    type Err = CloudError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "v1" => Ok(Self::V1),
            "v2" => Ok(Self::V2),
            _ => Err(CloudError::config("`apiVersion`", "must be `v1` or `v2`")),
        }
    }
}

/// Where and how to reach a project's servers.
#[derive(Debug, Clone)]
pub struct StackitConfig {
    /// The project (a UUID).
    pub project_id: String,
    /// The region (`eu01`): a path segment in v2.
    pub region: String,
    /// The API's base URL, e.g. `https://iaas.api.stackit.cloud`; no default.
    pub endpoint: String,
    pub api_version: ApiVersion,
    /// Timeout, retries, CA bundle, loopback flag, body limit.
    pub http: HttpConfig,
}

/// A client for one project and region.
#[derive(Debug)]
pub struct StackitClient {
    http: HttpClient,
    tokens: TokenSource,
    project_id: String,
    region: String,
    endpoint: Url,
    api_version: ApiVersion,
}

impl StackitClient {
    /// A client for `config` authenticating with `credentials`; `clock` gives "now" for
    /// assertions and token expiry. Every setting is checked here; the error names it.
    pub fn new(
        config: StackitConfig,
        credentials: Credentials,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CloudError> {
        let StackitConfig {
            project_id,
            region,
            endpoint,
            api_version,
            http,
        } = config;
        if !super::is_uuid(&project_id) {
            return Err(CloudError::config(
                "`projectId`",
                "is not a UUID (8-4-4-4-12 lower-case hexadecimal digits)",
            ));
        }
        if !is_region(&region) {
            return Err(CloudError::config(
                "`region`",
                "is not a region name (lower-case letters, digits and `-`, e.g. `eu01`)",
            ));
        }
        if endpoint.trim().is_empty() {
            return Err(CloudError::config(
                "`endpoint`",
                "is not set (there is no default endpoint)",
            ));
        }
        let endpoint = http.check_url("`endpoint`", endpoint.trim())?;
        let http = HttpClient::new(http)?;
        let tokens = TokenSource::new(credentials, &http, clock)?;
        Ok(Self {
            http,
            tokens,
            project_id,
            region,
            endpoint,
            api_version,
        })
    }

    /// This client replacing cached tokens `leeway` before they expire (default 60 s).
    #[must_use]
    pub fn with_token_leeway(mut self, leeway: Duration) -> Self {
        self.tokens.set_leeway(leeway);
        self
    }

    /// The URL of the list request (without query).
    pub fn list_url(&self) -> Url {
        let mut url = self.endpoint.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty();
            match self.api_version {
                ApiVersion::V1 => {
                    segments.extend(["v1", "projects", &self.project_id, "servers"]);
                }
                ApiVersion::V2 => {
                    segments.extend([
                        "v2",
                        "projects",
                        &self.project_id,
                        "regions",
                        &self.region,
                        "servers",
                    ]);
                }
            }
        }
        url
    }

    /// The project's servers matching `selector` (`label_selector`, omitted when empty), with
    /// `details` (NICs, service-account mails, user data). One request; on a `401` with a
    /// service-account key, one more with a fresh token.
    pub async fn list_servers(
        &self,
        selector: &LabelSelector,
        details: bool,
        deadline: Deadline,
    ) -> Result<Vec<Server>, CloudError> {
        let mut query = Vec::new();
        if !selector.is_empty() {
            query.push(("label_selector", selector.to_query()));
        }
        query.push(("details", details.to_string()));
        let url = self.list_url();
        let token = self.tokens.token(&self.http, deadline).await?;
        let call = |token: &Secret| list_call(&url, &query, token).describe();
        let reply = match self
            .http
            .send(&list_call(&url, &query, &token), deadline)
            .await
        {
            Err(err)
                if err.status() == Some(StatusCode::UNAUTHORIZED) && self.tokens.can_refresh() =>
            {
                self.tokens.forget(&token).await;
                let fresh = self.tokens.token(&self.http, deadline).await?;
                self.http
                    .send(&list_call(&url, &query, &fresh), deadline)
                    .await?
            }
            other => other?,
        };
        parse_list(&call(&token), &reply.body)
    }
}

/// The `ListServers` call with `token`.
fn list_call<'a>(url: &Url, query: &[(&'a str, String)], token: &'a Secret) -> Call<'a> {
    Call {
        method: Method::GET,
        url: url.clone(),
        operation: LIST_SERVERS,
        query: query.to_vec(),
        bearer: Some(token),
        form: None,
        form_each: None,
    }
}

/// The `items` of a `ServerListResponse`.
fn parse_list(request: &str, body: &[u8]) -> Result<Vec<Server>, CloudError> {
    let decode = |message: String| CloudError::Decode {
        request: request.to_owned(),
        message,
    };
    let mut doc: Value =
        serde_json::from_slice(body).map_err(|e| CloudError::decode_json(request, &e))?;
    let Some(Value::Array(items)) = doc.get_mut("items").map(Value::take) else {
        return Err(decode("`items` is missing or not a list".to_owned()));
    };
    items
        .into_iter()
        .enumerate()
        .map(|(i, item)| {
            Server::from_value(item).map_err(|why| decode(format!("`items[{i}]`: {why}")))
        })
        .collect()
}

/// A region name: 1 to 63 lower-case letters, digits and `-`, starting with a letter or digit.
fn is_region(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && !s.starts_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    const PROJECT: &str = "d61a8564-c8dd-4ffb-bc15-143e7d0c85ed";

    fn config(project_id: &str, region: &str, endpoint: &str, v: ApiVersion) -> StackitConfig {
        StackitConfig {
            project_id: project_id.to_owned(),
            region: region.to_owned(),
            endpoint: endpoint.to_owned(),
            api_version: v,
            http: HttpConfig::default(),
        }
    }

    fn client(c: StackitConfig) -> Result<StackitClient, CloudError> {
        StackitClient::new(
            c,
            Credentials::static_token(Secret::new("t")).unwrap(),
            Arc::new(SystemClock),
        )
    }

    #[test]
    fn the_list_paths_of_v1_and_v2() {
        let v1 = client(config(
            PROJECT,
            "eu01",
            "https://iaas.example.invalid",
            ApiVersion::V1,
        ))
        .unwrap();
        assert_eq!(
            v1.list_url().as_str(),
            format!("https://iaas.example.invalid/v1/projects/{PROJECT}/servers")
        );
        let v2 = client(config(
            PROJECT,
            "eu01",
            "https://iaas.example.invalid/base/",
            ApiVersion::V2,
        ))
        .unwrap();
        assert_eq!(
            v2.list_url().as_str(),
            format!("https://iaas.example.invalid/base/v2/projects/{PROJECT}/regions/eu01/servers")
        );
    }

    #[test]
    fn bad_settings_are_refused_naming_the_field() {
        let err = |c| client(c).unwrap_err().to_string();
        assert_eq!(
            err(config(
                "my-project",
                "eu01",
                "https://x.invalid",
                ApiVersion::V2
            )),
            "cloud configuration: `projectId` is not a UUID (8-4-4-4-12 lower-case hexadecimal digits)"
        );
        assert!(
            err(config(
                PROJECT,
                "eu01/../x",
                "https://x.invalid",
                ApiVersion::V2
            ))
            .contains("`region` is not a region name")
        );
        assert_eq!(
            err(config(PROJECT, "eu01", "", ApiVersion::V2)),
            "cloud configuration: `endpoint` is not set (there is no default endpoint)"
        );
        assert!(
            err(config(PROJECT, "eu01", "http://x.invalid", ApiVersion::V2))
                .contains("`endpoint` must be an `https://` URL")
        );
        assert_eq!(
            "v3".parse::<ApiVersion>().unwrap_err().to_string(),
            "cloud configuration: `apiVersion` must be `v1` or `v2`"
        );
    }

    #[test]
    fn a_list_without_items_or_with_a_bad_item_is_an_error_naming_the_place() {
        let err = parse_list("`GET` `ListServers`", br#"{"servers": []}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`GET` `ListServers`: unexpected response: `items` is missing or not a list"
        );
        let err = parse_list(
            "r",
            br#"{"items": [{"name": "a", "machineType": "t"}, {"name": "s3cr3t"}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            err,
            "r: unexpected response: `items[1]`: `machineType` is missing"
        );
        let err = parse_list("r", br#"{"items": "s3cr3t"#)
            .unwrap_err()
            .to_string();
        assert!(
            !err.contains("s3cr3t") && err.contains("ends early"),
            "{err}"
        );
    }
}
