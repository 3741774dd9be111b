//! Live state from a Kubernetes cluster through kube-rs: discovery of the rendered kinds, one
//! paginated LIST per kind and namespace with bounded concurrency, label-selected LISTs for
//! orphans, server-side apply dry-runs and the cluster's Nodes.
//!
//! Every request has a timeout and is retried by [`crate::retry`]; a read that fails for good
//! fails the whole fetch, so no object is ever reported in sync (or missing) unread.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};
use http::StatusCode;
use http_body_util::BodyExt as _;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::core::Request;
use kube::core::params::{ListParams, Patch, PatchParams};
use kube::{Client, Config};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::error::DriftError;
use crate::live::{KindRef, LiveSet, ObjectKey, group_of};
use crate::retry::{self, Attempt, RetryPolicy};

/// The field manager plinth applies with.
pub const FIELD_MANAGER: &str = "plinth";
/// Concurrent LIST requests at most.
pub const CONCURRENCY: usize = 8;
/// Objects per LIST page by default.
pub const PAGE_SIZE: u32 = 500;
/// Label plinth puts on every rendered object with the cluster name.
pub const LABEL_CLUSTER: &str = "plinth.dev/cluster";
/// Label plinth puts on every rendered object.
pub const LABEL_MANAGED_BY: &str = "app.kubernetes.io/managed-by";

/// How to reach the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// A kubeconfig file; `None`: in-cluster config when `KUBERNETES_SERVICE_HOST` is set and
    /// no context is named, else the default kubeconfig (`KUBECONFIG` or `~/.kube/config`).
    pub kubeconfig: Option<PathBuf>,
    /// A kubeconfig context; `None`: the current context.
    pub context: Option<String>,
    /// The limit on every request (default 30 s).
    pub timeout: Duration,
    /// Retries after a failed attempt (429, 5xx, timeouts, connection errors).
    pub retries: u32,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            kubeconfig: None,
            context: None,
            timeout: Duration::from_secs(30),
            retries: 5,
        }
    }
}

/// A served resource type, from discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Served {
    plural: String,
    namespaced: bool,
}

/// Discovery results per `apiVersion`: `None` when the group/version is not served.
type DiscoveryCache = BTreeMap<String, Option<BTreeMap<String, Served>>>;

/// A connected cluster.
pub struct ClusterLive {
    client: Client,
    policy: RetryPolicy,
    page_size: u32,
    discovery: Mutex<DiscoveryCache>,
}

impl std::fmt::Debug for ClusterLive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterLive")
            .field("policy", &self.policy)
            .field("page_size", &self.page_size)
            .finish_non_exhaustive()
    }
}

/// One LIST to run: where and what, and the `listed` triple it completes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ListJob {
    api_version: String,
    kind: String,
    plural: String,
    namespace: Option<String>,
    selector: Option<String>,
    marks: Option<(String, String, Option<String>)>,
}

impl ListJob {
    fn describe(&self) -> String {
        let scope = match &self.namespace {
            Some(ns) => format!("in namespace `{ns}`"),
            None => "in all namespaces".to_owned(),
        };
        match &self.selector {
            Some(sel) => format!("LIST `{}` {scope} with selector `{sel}`", self.kind),
            None => format!("LIST `{}` {scope}", self.kind),
        }
    }
}

impl ClusterLive {
    /// Loads the connection settings and builds a client (no request is sent yet).
    pub async fn connect(options: &ConnectOptions) -> Result<Self, DriftError> {
        let kube_options = KubeConfigOptions {
            context: options.context.clone(),
            ..KubeConfigOptions::default()
        };
        let mut config = if let Some(path) = &options.kubeconfig {
            let origin = format!("kubeconfig `{}`", path.display());
            let kubeconfig = Kubeconfig::read_from(path).map_err(|e| connect_error(&origin, e))?;
            Config::from_custom_kubeconfig(kubeconfig, &kube_options)
                .await
                .map_err(|e| connect_error(&origin, e))?
        } else if options.context.is_none() && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
        {
            Config::incluster().map_err(|e| connect_error("the in-cluster service account", e))?
        } else {
            Config::from_kubeconfig(&kube_options)
                .await
                .map_err(|e| connect_error("the default kubeconfig", e))?
        };
        if config.accept_invalid_certs {
            return Err(connect_error(
                "the kubeconfig",
                "`insecure-skip-tls-verify` is set; plinth always verifies the server certificate",
            ));
        }
        // plinth retries by itself (and honours Retry-After); kube's own retry layer is off so
        // every request is counted and bounded once.
        config.default_retry = false;
        // Each attempt as a whole (connect, send, response body) is bounded by the retry
        // policy's timeout; the connect timeout only makes an unreachable server fail fast.
        config.connect_timeout = Some(options.timeout);
        let client =
            Client::try_from(config).map_err(|e| connect_error("the connection settings", e))?;
        Ok(Self {
            client,
            policy: RetryPolicy::new(options.retries, options.timeout),
            page_size: PAGE_SIZE,
            discovery: Mutex::new(BTreeMap::new()),
        })
    }

    /// Changes the LIST page size (default [`PAGE_SIZE`]).
    #[must_use]
    pub fn with_page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size.max(1);
        self
    }

    /// Changes the retry policy (tests use short delays).
    #[must_use]
    pub fn with_retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Reads the live objects of the wanted kinds: discovery of each `apiVersion`, one paginated
    /// LIST per (kind, namespace), and one LIST per namespaced kind selecting
    /// `plinth.dev/cluster=<cluster>,app.kubernetes.io/managed-by=plinth` in all namespaces to
    /// find orphans. Kinds that are not served go to [`LiveSet::unserved`].
    pub async fn fetch(&self, wanted: &[KindRef], cluster: &str) -> Result<LiveSet, DriftError> {
        let mut live = LiveSet::default();
        let api_versions: BTreeSet<&str> = wanted.iter().map(|k| k.api_version.as_str()).collect();
        for api_version in api_versions {
            self.discover(api_version).await?;
        }
        let selector = format!("{LABEL_CLUSTER}={cluster},{LABEL_MANAGED_BY}=plinth");
        let mut jobs = BTreeSet::new();
        for want in wanted {
            let group = group_of(&want.api_version).to_owned();
            let Some(served) = self.served(&want.api_version, &want.kind).await else {
                live.unserved.insert((group, want.kind.clone()));
                continue;
            };
            let namespace = want.namespace.clone().filter(|_| served.namespaced);
            jobs.insert(ListJob {
                api_version: want.api_version.clone(),
                kind: want.kind.clone(),
                plural: served.plural.clone(),
                namespace: namespace.clone(),
                selector: None,
                marks: Some((group, want.kind.clone(), namespace)),
            });
            if served.namespaced {
                jobs.insert(ListJob {
                    api_version: want.api_version.clone(),
                    kind: want.kind.clone(),
                    plural: served.plural.clone(),
                    namespace: None,
                    selector: Some(selector.clone()),
                    marks: None,
                });
            }
        }
        let results: Vec<(ListJob, Vec<Value>)> = futures::stream::iter(jobs)
            .map(|job| async move {
                let items = self.list_all(&job).await?;
                Ok::<_, DriftError>((job, items))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        for (job, items) in results {
            for item in items {
                if let Some(key) = ObjectKey::of(&item) {
                    live.objects.insert(key, item);
                }
            }
            if let Some(mark) = job.marks {
                live.listed.insert(mark);
            }
        }
        Ok(live)
    }

    /// Server-side apply dry-run of a desired object (`dryRun=All`, field manager `plinth`,
    /// `force`): the object as the server would store it, defaults included. A `409` is a
    /// [`DriftError::Conflict`].
    pub async fn dry_run_apply(&self, desired: &Value) -> Result<Value, DriftError> {
        let api_version = desired
            .get("apiVersion")
            .and_then(Value::as_str)
            .unwrap_or("");
        let kind = desired.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = desired
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("");
        let namespace = desired
            .pointer("/metadata/namespace")
            .and_then(Value::as_str);
        let what = match namespace {
            Some(ns) => format!("server-side apply dry-run of `{kind}` `{ns}/{name}`"),
            None => format!("server-side apply dry-run of `{kind}` `{name}`"),
        };
        self.discover(api_version).await?;
        let Some(served) = self.served(api_version, kind).await else {
            return Err(DriftError::Api {
                request: what,
                attempts: 0,
                reason: format!("`{api_version}` `{kind}` is not served by the cluster"),
                source: None,
            });
        };
        let path = resource_path(
            api_version,
            &served.plural,
            namespace.filter(|_| served.namespaced),
        );
        let params = PatchParams::apply(FIELD_MANAGER).force().dry_run();
        let request = Request::new(path)
            .patch(name, &params, &Patch::Apply(desired))
            .map_err(|e| request_error(&what, e))?;
        let (status, body) = self.send(&what, request).await?;
        match status {
            s if s.is_success() => parse_json(&what, &body),
            StatusCode::CONFLICT => Err(DriftError::Conflict {
                request: what,
                message: status_message(&body),
            }),
            other => Err(status_error(what, other, &body)),
        }
    }

    /// [`Self::dry_run_apply`] for many objects, at most [`CONCURRENCY`] at a time; the results
    /// come back in the order of `desired`, one per object (a failure stays with its object).
    pub async fn dry_run_apply_many(&self, desired: &[&Value]) -> Vec<Result<Value, DriftError>> {
        futures::stream::iter(desired.iter().map(|d| self.dry_run_apply(d)))
            .buffered(CONCURRENCY)
            .collect()
            .await
    }

    /// Every Node of the cluster (paginated LIST).
    pub async fn nodes(&self) -> Result<Vec<Value>, DriftError> {
        self.discover("v1").await?;
        let plural = self
            .served("v1", "Node")
            .await
            .map_or_else(|| "nodes".to_owned(), |s| s.plural);
        let job = ListJob {
            api_version: "v1".to_owned(),
            kind: "Node".to_owned(),
            plural,
            namespace: None,
            selector: None,
            marks: None,
        };
        self.list_all(&job).await
    }

    async fn served(&self, api_version: &str, kind: &str) -> Option<Served> {
        let cache = self.discovery.lock().await;
        cache.get(api_version)?.as_ref()?.get(kind).cloned()
    }

    /// Discovery of one group/version (cached): which kinds it serves, with plural names and
    /// scope. A `404` means the group/version is not served.
    async fn discover(&self, api_version: &str) -> Result<(), DriftError> {
        // Held across the request so concurrent callers wait for one discovery, not repeat it.
        let mut cache = self.discovery.lock().await;
        if cache.contains_key(api_version) {
            return Ok(());
        }
        let path = if api_version.contains('/') {
            format!("/apis/{api_version}")
        } else {
            format!("/api/{api_version}")
        };
        let what = format!("discovery of `{api_version}`");
        let request = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| request_error(&what, e))?;
        let (status, body) = self.send(&what, request).await?;
        let entry = match status {
            StatusCode::NOT_FOUND => None,
            s if s.is_success() => {
                let doc = parse_json(&what, &body)?;
                let mut kinds = BTreeMap::new();
                for r in doc
                    .get("resources")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    let (Some(name), Some(kind)) = (
                        r.get("name").and_then(Value::as_str),
                        r.get("kind").and_then(Value::as_str),
                    ) else {
                        continue;
                    };
                    if name.contains('/') {
                        continue; // subresources such as `pods/status`
                    }
                    kinds.insert(
                        kind.to_owned(),
                        Served {
                            plural: name.to_owned(),
                            namespaced: r
                                .get("namespaced")
                                .and_then(Value::as_bool)
                                .unwrap_or(false),
                        },
                    );
                }
                Some(kinds)
            }
            other => return Err(status_error(what, other, &body)),
        };
        cache.insert(api_version.to_owned(), entry);
        Ok(())
    }

    /// Follows `continue` tokens until the list is complete; items get `apiVersion` and `kind`
    /// back (the API server leaves them out of list items).
    async fn list_all(&self, job: &ListJob) -> Result<Vec<Value>, DriftError> {
        let what = job.describe();
        let path = resource_path(&job.api_version, &job.plural, job.namespace.as_deref());
        let mut params = ListParams::default().limit(self.page_size);
        if let Some(sel) = &job.selector {
            params = params.labels(sel);
        }
        let mut items = Vec::new();
        loop {
            let request = Request::new(&path)
                .list(&params)
                .map_err(|e| request_error(&what, e))?;
            let (status, body) = self.send(&what, request).await?;
            if !status.is_success() {
                return Err(status_error(what, status, &body));
            }
            let mut page = parse_json(&what, &body)?;
            if let Some(list) = page.get_mut("items").and_then(Value::as_array_mut) {
                for mut item in list.drain(..) {
                    if let Some(o) = item.as_object_mut() {
                        o.entry("apiVersion")
                            .or_insert_with(|| job.api_version.clone().into());
                        o.entry("kind").or_insert_with(|| job.kind.clone().into());
                    }
                    items.push(item);
                }
            }
            match page.pointer("/metadata/continue").and_then(Value::as_str) {
                Some(token) if !token.is_empty() => params = params.continue_token(token),
                _ => return Ok(items),
            }
        }
    }

    /// Sends a request with the retry policy; returns the status and body of the first
    /// response that is not retried.
    async fn send(
        &self,
        what: &str,
        request: http::Request<Vec<u8>>,
    ) -> Result<(StatusCode, Vec<u8>), DriftError> {
        let (parts, body) = request.into_parts();
        retry::run(&self.policy, what, || {
            let mut builder = http::Request::builder()
                .method(parts.method.clone())
                .uri(parts.uri.clone());
            for (k, v) in &parts.headers {
                builder = builder.header(k, v);
            }
            let request = builder.body(kube::client::Body::from(body.clone()));
            let client = self.client.clone();
            async move {
                let request = match request {
                    Ok(r) => r,
                    Err(e) => return Attempt::Transport(kube::Error::HttpError(e)),
                };
                let response = match client.send(request).await {
                    Ok(r) => r,
                    Err(e) => return Attempt::Transport(e),
                };
                let status = response.status();
                if retry::is_retryable(status) {
                    return Attempt::Status {
                        status,
                        retry_after: retry::retry_after(response.headers()),
                    };
                }
                match response.into_body().collect().await {
                    Ok(b) => Attempt::Done((status, b.to_bytes().to_vec())),
                    Err(e) => Attempt::Transport(e),
                }
            }
        })
        .await
    }
}

/// `/api/v1[/namespaces/<ns>]/<plural>` or `/apis/<group>/<version>[/namespaces/<ns>]/<plural>`.
fn resource_path(api_version: &str, plural: &str, namespace: Option<&str>) -> String {
    let base = if api_version.contains('/') {
        format!("/apis/{api_version}")
    } else {
        format!("/api/{api_version}")
    };
    match namespace {
        Some(ns) => format!("{base}/namespaces/{ns}/{plural}"),
        None => format!("{base}/{plural}"),
    }
}

fn connect_error(
    origin: &str,
    source: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> DriftError {
    DriftError::Connect {
        origin: origin.to_owned(),
        source: source.into(),
    }
}

fn request_error(what: &str, source: impl std::error::Error + Send + Sync + 'static) -> DriftError {
    DriftError::Api {
        request: what.to_owned(),
        attempts: 0,
        reason: "the request could not be built".to_owned(),
        source: Some(Box::new(source)),
    }
}

fn parse_json(what: &str, body: &[u8]) -> Result<Value, DriftError> {
    serde_json::from_slice(body).map_err(|source| DriftError::Api {
        request: what.to_owned(),
        attempts: 1,
        reason: "the response is not valid JSON".to_owned(),
        source: Some(Box::new(source)),
    })
}

/// A non-retried failure status as an error: the status line, the `Status` reason and the field
/// paths of its causes, never the message or any other part of the body (it may echo values).
fn status_error(what: String, status: StatusCode, body: &[u8]) -> DriftError {
    let mut reason = format!("HTTP {status}");
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(r) = v
            .get("reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            let _ = write!(reason, " ({r})");
        }
        let fields: BTreeSet<&str> = v
            .pointer("/details/causes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|c| c.get("field").and_then(Value::as_str))
            .collect();
        if !fields.is_empty() {
            let _ = write!(
                reason,
                " at {}",
                fields
                    .iter()
                    .map(|f| format!("`{f}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    DriftError::Api {
        request: what,
        attempts: 1,
        reason,
        source: None,
    }
}

/// The message of a `409` `Status` (it names the conflicting fields and managers).
fn status_message(body: &[u8]) -> String {
    serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| "HTTP 409 Conflict".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(
            resource_path("v1", "configmaps", Some("a")),
            "/api/v1/namespaces/a/configmaps"
        );
        assert_eq!(
            resource_path("apps/v1", "deployments", None),
            "/apis/apps/v1/deployments"
        );
    }

    #[test]
    fn status_errors_keep_reason_and_fields_but_not_the_message() {
        let body = br#"{"kind":"Status","reason":"Invalid","message":"data.password: Invalid value: \"hunter2\"","details":{"causes":[{"field":"data.password","message":"hunter2"}]}}"#;
        let err = status_error(
            "PATCH `Secret` `a/s`".into(),
            StatusCode::UNPROCESSABLE_ENTITY,
            body,
        );
        let text = err.to_string();
        assert!(
            text.contains("Invalid") && text.contains("`data.password`"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "{text}");
    }
}
