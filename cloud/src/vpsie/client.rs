//! [`VpsieClient`]: the VPSie API as plinth reads it — the VM list (`GET /vm`) and a cluster's
//! node groups (`GET /k8s/node/groups/byClusterId/{id}`), authenticated by [`Credentials`],
//! over the shared [`HttpClient`] (TLS, timeouts, retries, `Retry-After`, bounded bodies).
//!
//! The base URL is configuration ([`VpsieConfig::base_url`], default [`DEFAULT_BASE_URL`]):
//! public clients disagree on the prefix. A `401` gets one fresh token and one more try. An
//! answer whose envelope says `error: true` fails whatever its status. Errors carry the HTTP
//! status or the envelope's `code` only, never the server's message: VPSie error messages
//! may repeat what was sent.
//!
//! `GET /vm` pagination is unverified: pages are followed only when the answer's `pagination`
//! says there are more (`total_pages > current_page`), with `?page=N`, at most [`MAX_PAGES`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::{Method, StatusCode};
use plinth_retry::Deadline;
use reqwest::Url;
use serde_json::{Map, Value};

use super::auth::{AuthHeader, Credentials, TokenSource};
use super::model::{ClusterNode, NodeGroupInfo, Vm};
use super::{join, without_detail};
use crate::clock::Clock;
use crate::error::CloudError;
use crate::http::{Call, HttpClient, HttpConfig};
use crate::secret::Secret;

/// The base URL the autoscaler uses by default (`govpsie` uses `https://api.vpsie.com/apps/v2`).
pub const DEFAULT_BASE_URL: &str = "https://api.vpsie.com/v2";
/// The most pages of `GET /vm` one listing reads.
pub const MAX_PAGES: u64 = 100;
/// The operation names errors use (the autoscaler's).
const LIST_VMS: &str = "ListVMs";
const LIST_NODE_GROUPS: &str = "ListK8sNodeGroups";
const GET_CLUSTER_INFO: &str = "GetK8sClusterInfo";

/// Where and how to reach the VPSie API.
#[derive(Debug, Clone)]
pub struct VpsieConfig {
    /// The API's base URL, paths appended to it (`https://api.vpsie.com/v2`, or `/apps/v2`).
    pub base_url: String,
    /// Timeout, retries, CA bundle, loopback flag, body limit.
    pub http: HttpConfig,
    /// How the token is sent on API calls.
    pub auth_header: AuthHeader,
}

impl Default for VpsieConfig {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.to_owned(),
            http: HttpConfig::default(),
            auth_header: AuthHeader::default(),
        }
    }
}

/// A client of the VPSie API; share it behind an `Arc` (one token cache).
#[derive(Debug)]
pub struct VpsieClient {
    http: HttpClient,
    tokens: TokenSource,
    base: Url,
    auth_header: AuthHeader,
    /// API calls sent (retries of one call not counted).
    calls: AtomicU64,
}

impl VpsieClient {
    /// A client for `config` authenticating with `credentials`; `clock` gives "now" for
    /// token expiry. Every setting is checked here; the error names it.
    pub fn new(
        config: VpsieConfig,
        credentials: Credentials,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CloudError> {
        if config.base_url.trim().is_empty() {
            return Err(CloudError::config("`url`", "is empty"));
        }
        let base = config.http.check_url("`url`", config.base_url.trim())?;
        let tokens = credentials.into_source(&base, clock)?;
        Ok(Self {
            http: HttpClient::new(config.http)?,
            tokens,
            base,
            auth_header: config.auth_header,
            calls: AtomicU64::new(0),
        })
    }

    /// The base URL, as checked.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// The HTTP calls this client made so far: token requests and API calls (retries of one
    /// call not counted).
    pub fn requests_made(&self) -> u64 {
        self.calls.load(Ordering::Relaxed) + self.tokens.requests_made()
    }

    /// Every VM of the account (`GET {base}/vm`), following pages while the answer's
    /// `pagination` announces more.
    ///
    /// # Errors
    /// The request fails, the envelope says `error: true`, `data` is not a list, an element
    /// is not a VM (the error names `data[i]` and the field), a page asked for is not the
    /// page served, or more than [`MAX_PAGES`] pages are announced.
    pub async fn list_vms(&self, deadline: Deadline) -> Result<Vec<Vm>, CloudError> {
        let url = join(&self.base, &["vm"]);
        let mut vms = Vec::new();
        let mut page: Option<u64> = None;
        loop {
            let query = page
                .map(|p| vec![("page", p.to_string())])
                .unwrap_or_default();
            let (request, doc) = self.get(LIST_VMS, &url, query, deadline).await?;
            let pagination = Pagination::of(&doc);
            if let (Some(asked), Some(served)) = (page, pagination.current_page)
                && asked != served
            {
                return Err(decode(
                    &request,
                    format!("page {asked} was asked for and `pagination.current_page` is {served}"),
                ));
            }
            let items = items(&request, doc, Vm::from_value)?;
            let added = items.len();
            vms.extend(items);
            let current = page.or(pagination.current_page).unwrap_or(1);
            let more = pagination.total_pages.is_some_and(|total| total > current);
            if !more || added == 0 {
                return Ok(vms);
            }
            if current >= MAX_PAGES {
                return Err(decode(
                    &request,
                    format!("`pagination.total_pages` announces more than {MAX_PAGES} pages"),
                ));
            }
            page = Some(current + 1);
        }
    }

    /// The node groups of the VPSie-managed cluster `cluster_identifier`
    /// (`GET {base}/k8s/node/groups/byClusterId/{id}`, the id path-escaped).
    ///
    /// # Errors
    /// The identifier is empty or not a path segment, the request fails, the envelope says
    /// `error: true`, `data` is not a list, or an element is not a node group.
    pub async fn list_node_groups(
        &self,
        cluster_identifier: &str,
        deadline: Deadline,
    ) -> Result<Vec<NodeGroupInfo>, CloudError> {
        let id = path_segment(cluster_identifier)?;
        let url = join(&self.base, &["k8s", "node", "groups", "byClusterId", id]);
        let (request, doc) = self
            .get(LIST_NODE_GROUPS, &url, Vec::new(), deadline)
            .await?;
        items(&request, doc, NodeGroupInfo::from_value)
    }

    /// The nodes of the VPSie-managed cluster `cluster_identifier` as its cluster info lists
    /// them (`GET {base}/k8s/cluster/byId/{id}`: `data.nodes[]`, `masters[]`, `slaves[]`, each
    /// node once by identifier, else hostname).
    ///
    /// # Errors
    /// The identifier is not a path segment, the request fails, the envelope says
    /// `error: true`, `data` is not an object, or an element is not a node.
    pub async fn cluster_nodes(
        &self,
        cluster_identifier: &str,
        deadline: Deadline,
    ) -> Result<Vec<ClusterNode>, CloudError> {
        let id = path_segment(cluster_identifier)?;
        let url = join(&self.base, &["k8s", "cluster", "byId", id]);
        let (request, doc) = self
            .get(GET_CLUSTER_INFO, &url, Vec::new(), deadline)
            .await?;
        match doc.get("data") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(data) => ClusterNode::all_of(data).map_err(|m| decode(&request, m)),
        }
    }

    /// One `GET` with the current token (and, after a `401` with renewable credentials, once
    /// more with a fresh one): the request as errors name it and the answer's envelope.
    async fn get(
        &self,
        operation: &str,
        url: &Url,
        query: Vec<(&str, String)>,
        deadline: Deadline,
    ) -> Result<(String, Map<String, Value>), CloudError> {
        let token = self.tokens.token(&self.http, deadline).await?;
        let (request, body) = match self.send(operation, url, &query, &token, deadline).await {
            Err(err)
                if err.status() == Some(StatusCode::UNAUTHORIZED) && self.tokens.can_refresh() =>
            {
                self.tokens.forget(&token).await;
                let fresh = self.tokens.token(&self.http, deadline).await?;
                self.send(operation, url, &query, &fresh, deadline).await
            }
            other => other,
        }
        .map_err(without_detail)?;
        envelope(&request, &body).map(|doc| (request, doc))
    }

    /// One `GET` with `token`: the request as errors name it and the body.
    async fn send(
        &self,
        operation: &str,
        url: &Url,
        query: &[(&str, String)],
        token: &Secret,
        deadline: Deadline,
    ) -> Result<(String, Vec<u8>), CloudError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let call = Call {
            query: query.to_vec(),
            bearer: Some(token),
            ..Call::new(Method::GET, url.clone(), operation)
        };
        let reply = self
            .http
            .send_as(&call, &self.auth_header.token_header(), deadline)
            .await?;
        Ok((call.describe(), reply.body))
    }
}

/// `cluster_identifier` as one segment of a URL path, or a configuration error.
fn path_segment(cluster_identifier: &str) -> Result<&str, CloudError> {
    let id = cluster_identifier.trim();
    if id.is_empty() || id == "." || id == ".." || id.chars().any(char::is_control) {
        return Err(CloudError::config(
            "the cluster identifier",
            "is empty or not usable in a URL path",
        ));
    }
    Ok(id)
}

fn decode(request: &str, message: String) -> CloudError {
    CloudError::Decode {
        request: request.to_owned(),
        message,
    }
}

/// The answer as a JSON object whose `error` is not `true`.
fn envelope(request: &str, body: &[u8]) -> Result<Map<String, Value>, CloudError> {
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| CloudError::decode_json(request, &e))?;
    let Value::Object(doc) = doc else {
        return Err(decode(request, "the body is not a JSON object".to_owned()));
    };
    if doc.get("error").and_then(Value::as_bool) == Some(true) {
        return Err(CloudError::Refused {
            request: request.to_owned(),
            code: doc.get("code").and_then(Value::as_i64),
        });
    }
    Ok(doc)
}

/// The elements of the envelope's `data` list (`null` is an empty list), each read by `read`;
/// an element that does not read is an error naming its index and what is wrong.
fn items<T>(
    request: &str,
    mut doc: Map<String, Value>,
    read: impl Fn(&Value) -> Result<T, String>,
) -> Result<Vec<T>, CloudError> {
    let data = match doc.remove("data") {
        Some(Value::Array(data)) => data,
        Some(Value::Null) => Vec::new(),
        _ => {
            return Err(decode(
                request,
                "`data` is missing or not a list".to_owned(),
            ));
        }
    };
    data.iter()
        .enumerate()
        .map(|(i, item)| read(item).map_err(|why| decode(request, format!("`data[{i}]` {why}"))))
        .collect()
}

/// What an answer's `pagination` says (the autoscaler's `ListVPSResponse`); absent numbers
/// are None.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Pagination {
    current_page: Option<u64>,
    total_pages: Option<u64>,
}

impl Pagination {
    fn of(doc: &Map<String, Value>) -> Self {
        let number = |field: &str| {
            doc.get("pagination")
                .and_then(|p| p.get(field))
                .and_then(Value::as_u64)
        };
        Self {
            current_page: number("current_page"),
            total_pages: number("total_pages"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SystemClock;

    fn client(base_url: &str) -> Result<VpsieClient, CloudError> {
        VpsieClient::new(
            VpsieConfig {
                base_url: base_url.to_owned(),
                ..VpsieConfig::default()
            },
            Credentials::token(Secret::new("t")),
            Arc::new(SystemClock),
        )
    }

    #[test]
    fn paths_are_appended_to_the_base_and_segments_escaped() {
        let c = client("https://api.example.invalid/apps/v2/").unwrap();
        assert_eq!(
            join(c.base_url(), &["vm"]).as_str(),
            "https://api.example.invalid/apps/v2/vm"
        );
        assert_eq!(
            join(c.base_url(), &["byClusterId", "a/b?c#d%"]).as_str(),
            "https://api.example.invalid/apps/v2/byClusterId/a%2Fb%3Fc%23d%25"
        );
        assert_eq!(
            join(c.base_url(), &super::super::auth::TOKEN_PATH).as_str(),
            "https://api.example.invalid/apps/v2/auth/from/api"
        );
    }

    #[test]
    fn the_base_url_follows_the_rules_of_the_http_layer() {
        assert_eq!(client(DEFAULT_BASE_URL).unwrap().base_url().path(), "/v2");
        for (bad, why) in [
            ("", "`url` is empty"),
            (
                "http://api.example.invalid/v2",
                "`url` must be an `https://` URL",
            ),
            (
                "https://u:s3cr3t@api.example.invalid",
                "must not carry a user",
            ),
            (
                "https://api.example.invalid/v2?k=s3cr3t",
                "must not carry a query",
            ),
        ] {
            let err = client(bad).unwrap_err().to_string();
            assert!(err.contains(why) && !err.contains("s3cr3t"), "{err}");
        }
    }

    #[test]
    fn an_envelope_with_error_true_or_a_bad_element_is_an_error_naming_the_place() {
        let err = envelope(
            "r",
            br#"{"error": true, "code": 500, "message": "s3cr3t", "data": []}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "r: the API reported an error (code 500)");
        let doc = envelope(
            "r",
            br#"{"data": [{"hostname": "a"}, {"id": 2, "name": false}]}"#,
        )
        .unwrap();
        let err = items("r", doc, Vm::from_value).unwrap_err().to_string();
        assert_eq!(
            err,
            "r: unexpected response: `data[1]` has neither `hostname` nor `name`"
        );
        let doc = envelope("r", br#"{"error": false, "data": null, "total": 0}"#).unwrap();
        assert!(items("r", doc, Vm::from_value).unwrap().is_empty());
        let doc = envelope("r", br#"{"data": "s3cr3t"}"#).unwrap();
        assert_eq!(
            items("r", doc, Vm::from_value).unwrap_err().to_string(),
            "r: unexpected response: `data` is missing or not a list"
        );
        assert!(envelope("r", b"[1]").is_err());
    }

    #[tokio::test]
    async fn an_unusable_cluster_identifier_is_refused_before_any_request() {
        let c = client(DEFAULT_BASE_URL).unwrap();
        for id in ["", " ", "..", "a\nb"] {
            let err = c
                .list_node_groups(id, Deadline::after(std::time::Duration::from_secs(1)))
                .await
                .unwrap_err();
            assert!(matches!(err, CloudError::Config { .. }), "{err}");
        }
        assert_eq!(c.requests_made(), 0);
    }
}
