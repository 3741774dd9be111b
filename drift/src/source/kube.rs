//! Live state from a Kubernetes cluster through kube-rs: discovery of the rendered kinds, one
//! paginated LIST per kind and namespace with bounded concurrency, one label-selected LIST per
//! listable kind the cluster serves to find orphans (as `kubectl apply --prune` looks for what
//! it prunes), server-side apply dry-runs and the cluster's Nodes.
//!
//! Every request has a timeout and is retried by [`crate::transport`] within the command's
//! [`Deadline`]; a read that fails for good fails the whole fetch, so no object is ever reported
//! in sync (or missing) unread. What the cluster sends is bounded ([`Limits`]): the bytes of one
//! response, the pages of one LIST and the kinds of one run. The connection settings are checked
//! first ([`kubeconfig`]): `https` only, credentials that are well-formed, credential plugins
//! run by plinth with bounded output and errors that never carry what they printed.

mod kubeconfig;

use plinth_vocab::labels::{LABEL_CLUSTER, LABEL_MANAGED_BY, MANAGED_BY_PLINTH};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};
use http::StatusCode;
use http_body_util::BodyExt as _;
use kube::Client;
use kube::core::Request;
use kube::core::params::{ListParams, Patch, PatchParams};
use serde_json::Value;
use tokio::sync::Mutex;

use crate::core::desired::DesiredObject;
use crate::core::live::{KindRef, LiveSet};
use crate::core::scope::Placement;
use crate::error::DriftError;
use crate::transport::{self, Attempt, Deadline, Failure, RetryPolicy, TransportError};
use plinth_vocab::{ObjectRef, group_of};

/// The field manager plinth applies with.
pub const FIELD_MANAGER: &str = "plinth";

/// How a server-side apply is sent: the field manager, `force` (take fields other managers
/// own), `dryRun=All`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplyParams {
    pub manager: String,
    pub force: bool,
    pub dry_run: bool,
}

impl ApplyParams {
    /// A forced dry-run as `manager`.
    pub fn dry_run(manager: &str) -> Self {
        Self {
            manager: manager.to_owned(),
            force: true,
            dry_run: true,
        }
    }
}

/// What the API server answered to a server-side apply.
#[derive(Debug, Clone, PartialEq)]
pub enum ApplyAnswer {
    /// Accepted: the object as stored (as it would be, in a dry run); `created` when it did
    /// not exist before (`201`).
    Accepted { object: Value, created: bool },
    /// `409`: fields other managers own, as (manager, field) pairs from `details.causes`; the
    /// message without any value.
    Conflict {
        causes: Vec<(String, String)>,
        message: String,
    },
    /// `422`: the fields the server names (an immutable field), and the reason without any
    /// value.
    Invalid { fields: Vec<String>, reason: String },
}
/// Concurrent LIST requests at most.
pub const CONCURRENCY: usize = 8;
/// Objects per LIST page by default.
pub const PAGE_SIZE: u32 = 500;

/// How to reach the cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectOptions {
    /// A kubeconfig file; `None`: in-cluster config when [`KubeEnv::in_cluster`] and no context
    /// is named, else the default kubeconfig (`KUBECONFIG` or `~/.kube/config`, from [`env`]).
    ///
    /// [`env`]: ConnectOptions::env
    pub kubeconfig: Option<PathBuf>,
    /// A kubeconfig context; `None`: the current context.
    pub context: Option<String>,
    /// The limit on every request (default 30 s).
    pub timeout: Duration,
    /// Retries after a failed attempt (429, 5xx, timeouts, connection errors).
    pub retries: u32,
    /// The overall limit on the command's work with the cluster, from [`ClusterLive::connect`]
    /// on (default [`DEFAULT_DEADLINE`]): no request, retry or wait goes past it.
    pub deadline: Duration,
    /// Bounds on what the cluster may send.
    pub limits: Limits,
    /// Accept a plain `http://` server when it is a loopback address (`127.0.0.0/8`, `::1`,
    /// `localhost`), for tests against a local fake server; any other `http://` server is
    /// refused whatever this says, as the bearer token would travel in clear.
    pub allow_http_loopback: bool,
    /// What the process environment says about where the connection settings are; the library
    /// never reads the environment itself, the binary fills this in.
    pub env: KubeEnv,
}

/// The three environment variables that say where kubectl would look for connection
/// settings, read by the binary and handed in (empty by default: no default kubeconfig, not
/// in a pod).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KubeEnv {
    /// `KUBECONFIG`: a list of kubeconfig files, merged.
    pub kubeconfig: Option<OsString>,
    /// `HOME`: `~/.kube/config` is the default kubeconfig.
    pub home: Option<PathBuf>,
    /// Whether `KUBERNETES_SERVICE_HOST` is set: running in a pod, the service account is used
    /// when no kubeconfig or context is named.
    pub in_cluster: bool,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            kubeconfig: None,
            context: None,
            timeout: Duration::from_secs(30),
            retries: 5,
            deadline: DEFAULT_DEADLINE,
            limits: Limits::default(),
            allow_http_loopback: false,
            env: KubeEnv::default(),
        }
    }
}

/// The default overall deadline of a command that talks to a cluster: 10 minutes.
pub const DEFAULT_DEADLINE: Duration = Duration::from_mins(10);

/// Bounds on what a cluster may make plinth read. Each has a flag that raises it; the error
/// that reports one names the flag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The largest response body read, in bytes (default 128 MiB, `--max-response-mib`).
    pub max_response_bytes: u64,
    /// The most pages one LIST may take (default 1,000 pages of 500 objects, `--max-pages`).
    pub max_pages: u32,
    /// The most kinds (and group/versions) one run discovers and lists (default 2,000,
    /// `--max-kinds`).
    pub max_kinds: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_response_bytes: 128 * 1024 * 1024,
            max_pages: 1_000,
            max_kinds: 2_000,
        }
    }
}

/// A served resource type, from discovery.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Served {
    plural: String,
    namespaced: bool,
    /// Whether discovery lists the `list` verb.
    listable: bool,
}

/// The kinds one group/version serves, by kind; `None` when the group/version is not served.
type ResourceList = Option<BTreeMap<String, Served>>;

/// Discovery results per `apiVersion`.
type DiscoveryCache = BTreeMap<String, ResourceList>;

/// The named groups of `/apis`, each with its group/versions, preferred first.
type GroupVersions = Vec<(String, Vec<String>)>;

/// A connected cluster.
pub struct ClusterLive {
    client: Client,
    policy: RetryPolicy,
    deadline: Deadline,
    limits: Limits,
    page_size: u32,
    discovery: Mutex<DiscoveryCache>,
    /// `/apis`, once read.
    groups: Mutex<Option<GroupVersions>>,
    /// The kubeconfig context's namespace (in a pod: the service account's), else `default`.
    default_namespace: String,
}

impl std::fmt::Debug for ClusterLive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterLive")
            .field("policy", &self.policy)
            .field("deadline", &self.deadline)
            .field("limits", &self.limits)
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
    /// An orphan LIST: a `403`, `404` or `405` answer is a warning for the kind, not a failure.
    orphans_only: bool,
}

/// What a LIST returned.
enum Listing {
    Items(Vec<Value>),
    /// An orphan LIST the server refused (`403`, `404`, `405`), with the reason.
    Refused(String),
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
    /// Loads and checks the connection settings ([`kubeconfig`]) and builds a client (no request
    /// is sent yet; a credential plugin runs now). The deadline starts here.
    pub async fn connect(options: &ConnectOptions) -> Result<Self, DriftError> {
        let deadline = Deadline::after(options.deadline);
        let (mut config, origin) = kubeconfig::load(options, deadline).await?;
        // plinth retries by itself (and honours Retry-After); kube's own retry layer is off so
        // every request is counted and bounded once.
        config.default_retry = false;
        // Each attempt as a whole (connect, send, response body) is bounded by the retry
        // policy's timeout; the connect timeout only makes an unreachable server fail fast.
        config.connect_timeout = Some(options.timeout);
        let default_namespace = config.default_namespace.clone();
        let client = Client::try_from(config).map_err(|e| connect_error(&origin, e))?;
        Ok(Self {
            client,
            policy: retry_policy(options),
            deadline,
            limits: options.limits,
            page_size: PAGE_SIZE,
            discovery: Mutex::new(BTreeMap::new()),
            groups: Mutex::new(None),
            default_namespace,
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

    /// The namespace kubectl would apply an object without one into: the kubeconfig context's
    /// namespace (in a pod, the service account's), else `default`.
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    /// Where the desired objects land in this cluster ([`Placement`]): each kind's scope from
    /// discovery (kinds the cluster does not serve keep the built-in scope), and `namespace`
    /// (else [`Self::default_namespace`]) for namespaced objects that name none.
    pub async fn placement(
        &self,
        desired: &[DesiredObject],
        namespace: Option<&str>,
    ) -> Result<Placement, DriftError> {
        let mut placement = Placement::new(namespace.unwrap_or(&self.default_namespace));
        let kinds: BTreeSet<(&str, &str)> = desired
            .iter()
            .map(|d| (d.index.api_version.as_str(), d.index.kind.as_str()))
            .collect();
        for (api_version, kind) in kinds {
            if let Some((_, served)) = self.served_version(api_version, kind).await? {
                placement.set_namespaced(group_of(api_version), kind, served.namespaced);
            }
        }
        Ok(placement)
    }

    /// Reads the live objects of the wanted kinds: discovery of each `apiVersion`, one paginated
    /// LIST per (kind, namespace), and, to find orphans, one LIST selecting
    /// `plinth.dev/cluster=<cluster>,app.kubernetes.io/managed-by=plinth` in all namespaces per
    /// kind the cluster serves with the `list` verb (rendered or not; subresources skipped;
    /// a rendered cluster-scoped kind's full LIST already sees them). Kinds that are not served
    /// go to [`LiveSet::unserved`]. An orphan LIST answered `403`, `404` or `405`, or a group
    /// version without rendered kinds whose discovery fails, is a warning in
    /// [`LiveSet::warnings`]: orphans of those kinds were not looked for.
    pub async fn fetch(&self, wanted: &[KindRef], cluster: &str) -> Result<LiveSet, DriftError> {
        let mut live = LiveSet::default();
        let rendered: BTreeSet<(&str, &str)> = wanted
            .iter()
            .map(|k| (group_of(&k.api_version), k.kind.as_str()))
            .collect();
        self.check_kinds(
            "reading the rendered kinds",
            "rendered kinds",
            rendered.len(),
        )?;
        let selector = format!("{LABEL_CLUSTER}={cluster},{LABEL_MANAGED_BY}={MANAGED_BY_PLINTH}");
        let orphan_job = |api_version: &str, kind: &str, served: &Served| ListJob {
            api_version: api_version.to_owned(),
            kind: kind.to_owned(),
            plural: served.plural.clone(),
            namespace: None,
            selector: Some(selector.clone()),
            marks: None,
            orphans_only: true,
        };
        let mut jobs = BTreeSet::new();
        // (group, kind) pairs whose orphans the rendered kinds' LISTs already look for.
        let mut covered = BTreeSet::new();
        for want in wanted {
            let group = group_of(&want.api_version).to_owned();
            // Read at a version the cluster serves: the rendered one, else another of its group.
            let Some((api_version, served)) =
                self.served_version(&want.api_version, &want.kind).await?
            else {
                live.unserved.insert((group, want.kind.clone()));
                continue;
            };
            covered.insert((group.clone(), want.kind.clone()));
            let namespace = want.namespace.clone().filter(|_| served.namespaced);
            jobs.insert(ListJob {
                api_version: api_version.clone(),
                kind: want.kind.clone(),
                plural: served.plural.clone(),
                namespace: namespace.clone(),
                selector: None,
                marks: Some((group, want.kind.clone(), namespace)),
                orphans_only: false,
            });
            if served.namespaced && served.listable {
                jobs.insert(orphan_job(&api_version, &want.kind, &served));
            }
        }
        for (api_version, kind, served) in self.served_kinds(&mut live).await? {
            if served.listable
                && !covered.contains(&(group_of(&api_version).to_owned(), kind.clone()))
            {
                jobs.insert(orphan_job(&api_version, &kind, &served));
            }
        }
        let mut results: Vec<(ListJob, Listing)> = futures::stream::iter(jobs)
            .map(|job| async move {
                let listing = self.list_all(&job).await?;
                Ok::<_, DriftError>((job, listing))
            })
            .buffer_unordered(CONCURRENCY)
            .try_collect()
            .await?;
        // In job order, whatever order the LISTs ended in: one object read at two versions of
        // its group (rendered at both) is kept as the same one every run.
        results.sort_by(|a, b| a.0.cmp(&b.0));
        for (job, listing) in results {
            let items = match listing {
                Listing::Items(items) => items,
                Listing::Refused(reason) => {
                    live.warnings.insert(format!(
                        "orphaned `{}` objects were not looked for: {} was refused: {reason}",
                        kind_name(&job.api_version, &job.kind),
                        job.describe()
                    ));
                    continue;
                }
            };
            for item in items {
                if let Some(key) = ObjectRef::of(&item) {
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
        let what = describe_apply(desired, true);
        match self
            .apply(desired, &ApplyParams::dry_run(FIELD_MANAGER))
            .await?
        {
            ApplyAnswer::Accepted { object, .. } => Ok(object),
            ApplyAnswer::Conflict { message, .. } => Err(DriftError::Conflict {
                request: what,
                message,
            }),
            ApplyAnswer::Invalid { reason, .. } => Err(DriftError::Api {
                request: what,
                attempts: 1,
                reason,
                source: None,
            }),
        }
    }

    /// Server-side apply of `body` (`PATCH` with `application/apply-patch+yaml`) under
    /// `params`, at the object's own `apiVersion` (as Argo CD or Flux apply it). The
    /// server's answer: accepted (`201` when it created the object), a `409` conflict with the
    /// managers and fields of its causes, or a `422` with the fields it names (an immutable
    /// field). Retries as every request; a kind the cluster does not serve, and any other
    /// status, is an error. Names that would change the request path are never sent.
    pub async fn apply(
        &self,
        body: &Value,
        params: &ApplyParams,
    ) -> Result<ApplyAnswer, DriftError> {
        let what = describe_apply(body, params.dry_run);
        let (path, name) = self.object_path(body, &what).await?;
        let mut query = PatchParams::apply(&params.manager);
        if params.force {
            query = query.force();
        }
        if params.dry_run {
            query = query.dry_run();
        }
        // A `409` for a stale `resourceVersion` (the object changed while the server handled
        // the apply) is retried like a transient failure: the apply names no version, so the
        // same request is right again; a field conflict is an answer.
        let mut attempt = 1;
        let (status, reply) = loop {
            let request = Request::new(&path)
                .patch(&name, &query, &Patch::Apply(body))
                .map_err(|e| request_error(&what, e))?;
            let (status, reply) = self.send(&what, request).await?;
            let stale = status == StatusCode::CONFLICT
                && serde_json::from_slice::<Value>(&reply).is_ok_and(|v| is_stale(&v));
            if !stale || attempt >= self.policy.attempts {
                break (status, reply);
            }
            tokio::time::sleep(self.policy.delay(attempt, None)).await;
            attempt += 1;
        };
        match status {
            s if s.is_success() => Ok(ApplyAnswer::Accepted {
                object: parse_json(&what, &reply)?,
                created: s == StatusCode::CREATED,
            }),
            StatusCode::CONFLICT => Ok(ApplyAnswer::Conflict {
                causes: conflict_causes(&reply),
                message: status_message(&reply),
            }),
            StatusCode::UNPROCESSABLE_ENTITY => Ok(ApplyAnswer::Invalid {
                fields: cause_fields(&reply),
                reason: status_reason(status, &reply),
            }),
            other => Err(status_error(what, other, &reply)),
        }
    }

    /// A JSON patch (RFC 6902, `application/json-patch+json`) of the object `body` names, as
    /// field manager `manager`: `operations` is the patch (an array of operations; `test`
    /// operations make it hold only for the values read). The server's answer: accepted with
    /// the object, or a `422` when the patch does not apply (a `test` failed: the object
    /// changed since it was read) with the reason; any other status is an error. Retries as
    /// every request.
    pub async fn json_patch(
        &self,
        body: &Value,
        operations: &Value,
        manager: &str,
        dry_run: bool,
    ) -> Result<ApplyAnswer, DriftError> {
        let what = format!("JSON patch of {}", describe_object(body));
        let (path, name) = self.object_path(body, &what).await?;
        let mut query = PatchParams {
            field_manager: Some(manager.to_owned()),
            ..PatchParams::default()
        };
        if dry_run {
            query = query.dry_run();
        }
        // kube's own JSON patch type needs another major version of `json-patch` than the
        // workspace uses; the request is built as a merge patch of the operations (the same
        // path, query and body bytes) and only its media type is changed.
        let mut request = Request::new(&path)
            .patch(&name, &query, &Patch::Merge(operations))
            .map_err(|e| request_error(&what, e))?;
        request.headers_mut().insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json-patch+json"),
        );
        let (status, reply) = self.send(&what, request).await?;
        match status {
            s if s.is_success() => Ok(ApplyAnswer::Accepted {
                object: parse_json(&what, &reply)?,
                created: false,
            }),
            StatusCode::UNPROCESSABLE_ENTITY => Ok(ApplyAnswer::Invalid {
                fields: cause_fields(&reply),
                reason: status_reason(status, &reply),
            }),
            other => Err(status_error(what, other, &reply)),
        }
    }

    /// Deletes the object `body` names (its `apiVersion`, `kind`, namespace and name) with
    /// background propagation, only while its `uid` is `uid` when given (the object read, not
    /// one created under its name since); `false` when it was already gone (`404`). A `uid`
    /// that no longer holds is a [`DriftError::Conflict`], and nothing is deleted.
    pub async fn delete(&self, body: &Value, uid: Option<&str>) -> Result<bool, DriftError> {
        let what = format!("delete of {}", describe_object(body));
        let (path, name) = self.object_path(body, &what).await?;
        let mut params = kube::api::DeleteParams::background();
        params.preconditions = uid.map(|uid| kube::api::Preconditions {
            uid: Some(uid.to_owned()),
            resource_version: None,
        });
        let request = Request::new(path)
            .delete(&name, &params)
            .map_err(|e| request_error(&what, e))?;
        let (status, reply) = self.send(&what, request).await?;
        match status {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            StatusCode::CONFLICT => Err(DriftError::Conflict {
                request: what,
                message: "the object was replaced since it was read: not deleted".to_owned(),
            }),
            other => Err(status_error(what, other, &reply)),
        }
    }

    /// Sends `request`: `true` on success, `false` on `404`, else an error.
    async fn found(
        &self,
        what: String,
        request: http::Request<Vec<u8>>,
    ) -> Result<bool, DriftError> {
        let (status, reply) = self.send(&what, request).await?;
        match status {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            other => Err(status_error(what, other, &reply)),
        }
    }

    /// Creates an `events.k8s.io/v1` Event; one that already exists (`409`: a retried
    /// request, or the same event twice in a second) counts as created.
    pub async fn create_event(&self, event: &Value) -> Result<(), DriftError> {
        let namespace = event
            .pointer("/metadata/namespace")
            .and_then(Value::as_str)
            .unwrap_or("default");
        let what = format!("create of an Event in namespace `{namespace}`");
        if let Some(problem) = path_segment_problem(namespace, false) {
            return Err(unsendable(what, "metadata.namespace", problem));
        }
        let path = resource_path("events.k8s.io/v1", "events", Some(namespace));
        let body = serde_json::to_vec(event).map_err(|e| request_error(&what, e))?;
        let request = Request::new(path)
            .create(&kube::api::PostParams::default(), body)
            .map_err(|e| request_error(&what, e))?;
        let (status, reply) = self.send(&what, request).await?;
        match status {
            s if s.is_success() || s == StatusCode::CONFLICT => Ok(()),
            other => Err(status_error(what, other, &reply)),
        }
    }

    /// Whether the `events.k8s.io/v1` Event `name` exists in `namespace`.
    pub async fn event_exists(&self, namespace: &str, name: &str) -> Result<bool, DriftError> {
        let what = format!("read of the Event `{namespace}/{name}`");
        for (field, value) in [("metadata.namespace", namespace), ("metadata.name", name)] {
            if let Some(problem) = path_segment_problem(value, false) {
                return Err(unsendable(what, field, problem));
            }
        }
        let path = resource_path("events.k8s.io/v1", "events", Some(namespace));
        let request = Request::new(path)
            .get(name, &kube::api::GetParams::default())
            .map_err(|e| request_error(&what, e))?;
        self.found(what, request).await
    }

    /// The decoded value of `key` of the Secret `namespace/name` (`None`: no such Secret or no
    /// such key). The value (a credential) never reaches an error or a log.
    pub async fn secret_value(
        &self,
        namespace: &str,
        name: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>, DriftError> {
        Ok(self
            .secret_values(namespace, name, &[key])
            .await?
            .and_then(|mut values| values.remove(key)))
    }

    /// The decoded values of `keys` of the Secret `namespace/name`, read with one `GET` (so the
    /// values belong together even while the Secret is rotated); `None` when there is no such
    /// Secret, and a key it lacks is left out.
    ///
    /// # Errors
    /// The read fails or is refused, or a value is not base64 (the error names the key, never
    /// the value).
    pub async fn secret_values(
        &self,
        namespace: &str,
        name: &str,
        keys: &[&str],
    ) -> Result<Option<BTreeMap<String, Vec<u8>>>, DriftError> {
        use base64::Engine as _;
        let what = format!("read of the Secret `{namespace}/{name}`");
        for (field, value) in [("metadata.namespace", namespace), ("metadata.name", name)] {
            if let Some(problem) = path_segment_problem(value, false) {
                return Err(unsendable(what, field, problem));
            }
        }
        let path = resource_path("v1", "secrets", Some(namespace));
        let request = Request::new(path)
            .get(name, &kube::api::GetParams::default())
            .map_err(|e| request_error(&what, e))?;
        let (status, body) = self.send(&what, request).await?;
        if status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(status_error(what, status, &body));
        }
        let secret = parse_json(&what, &body)?;
        let mut values = BTreeMap::new();
        for key in keys {
            let Some(encoded) = secret
                .get("data")
                .and_then(|d| d.get(*key))
                .and_then(Value::as_str)
            else {
                continue;
            };
            let value = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|_| DriftError::Invalid {
                    path: what.clone(),
                    message: format!("`data.{key}` is not base64"),
                })?;
            values.insert((*key).to_owned(), value);
        }
        Ok(Some(values))
    }

    /// Whether the cluster serves `kind` at `api_version` now, discovering that group/version
    /// again (a CRD applied a moment ago).
    pub async fn serves_now(&self, api_version: &str, kind: &str) -> Result<bool, DriftError> {
        self.discovery.lock().await.remove(api_version);
        match self.discover(api_version).await {
            Ok(()) => Ok(self.served(api_version, kind).await.is_some()),
            Err(e) => Err(e),
        }
    }

    /// The path of the collection holding the object `body` names, and its name, from
    /// discovery; an error for a kind not served or a name that would change the path.
    async fn object_path(&self, body: &Value, what: &str) -> Result<(String, String), DriftError> {
        let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str);
        let api_version = text("/apiVersion").unwrap_or("");
        let kind = text("/kind").unwrap_or("");
        let name = text("/metadata/name").unwrap_or("");
        let namespace = text("/metadata/namespace");
        // The name and namespace become path segments and the flags a query after them: a
        // `#` would cut the query off (a real, forced apply), a `?`, `/` or `%` change what
        // is addressed. Such names are invalid in Kubernetes; never send them.
        for (field, value) in [
            ("metadata.name", Some(name)),
            ("metadata.namespace", namespace),
            ("apiVersion", Some(api_version)),
        ] {
            if let Some(problem) =
                value.and_then(|v| path_segment_problem(v, field == "apiVersion"))
            {
                return Err(unsendable(what.to_owned(), field, problem));
            }
        }
        self.discover(api_version).await?;
        let Some(served) = self.served(api_version, kind).await else {
            let elsewhere = self
                .known_elsewhere(api_version, kind)
                .await
                .map(|at| format!(" (it serves `{kind}` at `{at}`)"))
                .unwrap_or_default();
            return Err(DriftError::Api {
                request: what.to_owned(),
                attempts: 0,
                reason: format!("`{api_version}` `{kind}` is not served by the cluster{elsewhere}"),
                source: None,
            });
        };
        let path = resource_path(
            api_version,
            &served.plural,
            namespace.filter(|_| served.namespaced),
        );
        Ok((path, name.to_owned()))
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
        Ok(self
            .list_kind("v1", "Node", None)
            .await?
            .unwrap_or_default())
    }

    /// Every object of `kind` (at a version of its group the cluster serves, as
    /// [`ClusterLive::fetch`] reads it) in `namespace`, or cluster-wide when `None` or when
    /// the kind is cluster-scoped (paginated LIST). `None` when the cluster does not serve
    /// the kind.
    ///
    /// # Errors
    /// Discovery or the LIST fails, or is refused.
    pub async fn list_kind(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
    ) -> Result<Option<Vec<Value>>, DriftError> {
        let Some((api_version, served)) = self.served_version(api_version, kind).await? else {
            return Ok(None);
        };
        let job = ListJob {
            api_version,
            kind: kind.to_owned(),
            plural: served.plural.clone(),
            namespace: namespace.filter(|_| served.namespaced).map(str::to_owned),
            selector: None,
            marks: None,
            orphans_only: false,
        };
        match self.list_all(&job).await? {
            Listing::Items(items) => Ok(Some(items)),
            Listing::Refused(reason) => Err(DriftError::Api {
                request: job.describe(),
                attempts: 1,
                reason,
                source: None,
            }),
        }
    }

    /// The version of its group at which `kind` is read: `api_version` itself when the cluster
    /// serves the kind there, else the group's preferred version when it serves it, else the
    /// first other version that does (a VirtualMachine rendered at `kubevirt.io/v1alpha3`, on a
    /// cluster that serves only `kubevirt.io/v1`: one object, whatever version it is read at).
    /// `None` when no version of the group serves the kind.
    async fn served_version(
        &self,
        api_version: &str,
        kind: &str,
    ) -> Result<Option<(String, Served)>, DriftError> {
        self.discover(api_version).await?;
        if let Some(served) = self.served(api_version, kind).await {
            return Ok(Some((api_version.to_owned(), served)));
        }
        let group = group_of(api_version);
        if group.is_empty() {
            return Ok(None); // the core group has one version
        }
        let groups = self.api_groups().await?;
        let others = groups
            .iter()
            .filter(|(name, _)| name == group)
            .flat_map(|(_, versions)| versions)
            // A version whose name would change the request path is never asked for.
            .filter(|v| *v != api_version && path_segment_problem(v, true).is_none());
        for other in others {
            // Another version that cannot be discovered is passed over, as the orphan search
            // passes over group versions it cannot read: the rendered version decides.
            if self.discover(other).await.is_err() {
                continue;
            }
            if let Some(served) = self.served(other, kind).await {
                return Ok(Some((other.clone(), served)));
            }
        }
        Ok(None)
    }

    /// Another version of `api_version`'s group at which discovery has already seen `kind`
    /// served (no request is sent: [`Self::fetch`] has looked where the rendered kinds are).
    async fn known_elsewhere(&self, api_version: &str, kind: &str) -> Option<String> {
        let groups = self.groups.lock().await.clone()?;
        let cache = self.discovery.lock().await;
        let group = group_of(api_version);
        groups
            .iter()
            .filter(|(name, _)| name == group)
            .flat_map(|(_, versions)| versions)
            .find(|v| {
                cache
                    .get(*v)
                    .and_then(Option::as_ref)
                    .is_some_and(|kinds| kinds.contains_key(kind))
            })
            .cloned()
    }

    /// `/apis` (read once): every named group with its group/versions, preferred first.
    async fn api_groups(&self) -> Result<GroupVersions, DriftError> {
        let mut cache = self.groups.lock().await;
        if let Some(groups) = &*cache {
            return Ok(groups.clone());
        }
        let doc = self.get_json("/apis", "discovery of `/apis`").await?;
        let mut groups = Vec::new();
        for group in items(doc.get("groups")) {
            let name = group
                .get("name")
                .and_then(Value::as_str)
                .map_or_else(String::new, str::to_owned);
            let preferred = group
                .pointer("/preferredVersion/groupVersion")
                .and_then(Value::as_str);
            let versions = items(group.get("versions"))
                .filter_map(|v| v.get("groupVersion").and_then(Value::as_str))
                .filter(|v| Some(*v) != preferred);
            let ordered = preferred.into_iter().chain(versions).map(str::to_owned);
            groups.push((name, ordered.collect()));
        }
        *cache = Some(groups.clone());
        Ok(groups)
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
        if let Some(problem) = path_segment_problem(api_version, true) {
            return Err(unsendable(
                format!("discovery of `{api_version}`"),
                "apiVersion",
                problem,
            ));
        }
        let entry = self.resource_list(api_version).await?;
        cache.insert(api_version.to_owned(), entry);
        Ok(())
    }

    /// Every kind the cluster serves, once per (group, kind): from the group's preferred
    /// version when it serves the kind, else from the first other version that does (as
    /// `kubectl api-resources` lists them). `GET /api` and `/apis`, then one discovery per
    /// group/version not yet cached, [`CONCURRENCY`] at a time. A group/version whose discovery
    /// fails (an aggregated API that is down answers `503`) is a warning in `live`: only orphans
    /// of its kinds are at stake, the rendered kinds were discovered before.
    async fn served_kinds(
        &self,
        live: &mut LiveSet,
    ) -> Result<Vec<(String, String, Served)>, DriftError> {
        let mut api_versions: Vec<String> = Vec::new();
        let core = self.get_json("/api", "discovery of `/api`").await?;
        api_versions.extend(
            items(core.get("versions"))
                .filter_map(Value::as_str)
                .map(str::to_owned),
        );
        for (_, versions) in self.api_groups().await? {
            api_versions.extend(versions);
        }
        let distinct: BTreeSet<&str> = api_versions.iter().map(String::as_str).collect();
        self.check_kinds(
            "discovery of `/apis`",
            "the cluster serves more group/versions",
            distinct.len(),
        )?;
        let missing: Vec<String> = {
            let cache = self.discovery.lock().await;
            let mut seen = BTreeSet::new();
            api_versions
                .iter()
                .filter(|av| !cache.contains_key(*av) && seen.insert(av.as_str()))
                .cloned()
                .collect()
        };
        let fetched: Vec<(String, Result<ResourceList, DriftError>)> =
            futures::stream::iter(missing)
                .map(|av| async move {
                    let entry = self.resource_list(&av).await;
                    (av, entry)
                })
                .buffer_unordered(CONCURRENCY)
                .collect()
                .await;
        let mut cache = self.discovery.lock().await;
        let mut failed = BTreeSet::new();
        for (api_version, entry) in fetched {
            match entry {
                Ok(entry) => {
                    cache.insert(api_version, entry);
                }
                Err(err) => {
                    live.warnings.insert(format!(
                        "orphaned objects of the kinds of `{api_version}` were not looked for: {}",
                        crate::error::chain(&err)
                    ));
                    failed.insert(api_version);
                }
            }
        }
        let mut seen = BTreeSet::new();
        let mut out = Vec::new();
        for api_version in api_versions.iter().filter(|av| !failed.contains(*av)) {
            let Some(Some(kinds)) = cache.get(api_version) else {
                continue;
            };
            for (kind, served) in kinds {
                if seen.insert((group_of(api_version).to_owned(), kind.clone())) {
                    out.push((api_version.clone(), kind.clone(), served.clone()));
                }
            }
        }
        self.check_kinds("discovery", "the cluster serves more kinds", out.len())?;
        Ok(out)
    }

    /// Fails when `count` kinds (or group/versions) exceed [`Limits::max_kinds`]: each would
    /// cost a LIST, and a cluster that advertises 100,000 of them must not make 100,000.
    fn check_kinds(&self, request: &str, what: &str, count: usize) -> Result<(), DriftError> {
        let limit = self.limits.max_kinds;
        if count <= limit {
            return Ok(());
        }
        Err(DriftError::Limit {
            request: request.to_owned(),
            what: format!("{what} ({count}) than one run reads"),
            limit: format!("{limit} kinds"),
            flag: "--max-kinds",
        })
    }

    /// GET of a discovery document.
    async fn get_json(&self, path: &str, what: &str) -> Result<Value, DriftError> {
        let request = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| request_error(what, e))?;
        let (status, body) = self.send(what, request).await?;
        if !status.is_success() {
            return Err(status_error(what.to_owned(), status, &body));
        }
        parse_json(what, &body)
    }

    /// The kinds one group/version serves (subresources such as `pods/status` left out);
    /// `None` when it is not served (`404`).
    async fn resource_list(&self, api_version: &str) -> Result<ResourceList, DriftError> {
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
        match status {
            StatusCode::NOT_FOUND => Ok(None),
            s if s.is_success() => {
                let doc = parse_json(&what, &body)?;
                let mut kinds = BTreeMap::new();
                for r in items(doc.get("resources")) {
                    let (Some(name), Some(kind)) = (
                        r.get("name").and_then(Value::as_str),
                        r.get("kind").and_then(Value::as_str),
                    ) else {
                        continue;
                    };
                    if name.contains('/') {
                        continue; // subresources such as `pods/status`
                    }
                    if path_segment_problem(name, false).is_some() {
                        // No real resource is named so; a request to it would address another.
                        continue;
                    }
                    let listable = r
                        .get("verbs")
                        .and_then(Value::as_array)
                        .is_none_or(|verbs| verbs.iter().any(|v| v == "list"));
                    kinds.insert(
                        kind.to_owned(),
                        Served {
                            plural: name.to_owned(),
                            namespaced: r
                                .get("namespaced")
                                .and_then(Value::as_bool)
                                .unwrap_or(false),
                            listable,
                        },
                    );
                }
                Ok(Some(kinds))
            }
            other => Err(status_error(what, other, &body)),
        }
    }

    /// Follows `continue` tokens until the list is complete; items get `apiVersion` and `kind`
    /// back (the API server leaves them out of list items). An orphan LIST answered `403`,
    /// `404` or `405` is [`Listing::Refused`].
    async fn list_all(&self, job: &ListJob) -> Result<Listing, DriftError> {
        let what = job.describe();
        // A namespace such as `kube-system/secrets?x=` would list another resource and have
        // its items taken for this kind (Secrets read as ConfigMaps, values in the report).
        for (field, value) in [
            ("metadata.namespace", job.namespace.as_deref()),
            ("plural", Some(job.plural.as_str())),
        ] {
            if let Some(problem) = value.and_then(|v| path_segment_problem(v, false)) {
                return Err(unsendable(what, field, problem));
            }
        }
        let path = resource_path(&job.api_version, &job.plural, job.namespace.as_deref());
        let mut params = ListParams::default().limit(self.page_size);
        if let Some(sel) = &job.selector {
            params = params.labels(sel);
        }
        let mut items = Vec::new();
        let mut pages: u32 = 0;
        let mut last_token: Option<String> = None;
        loop {
            pages += 1;
            let request = Request::new(&path)
                .list(&params)
                .map_err(|e| request_error(&what, e))?;
            let (status, body) = self.send(&what, request).await?;
            if !status.is_success() {
                let refusable = matches!(
                    status,
                    StatusCode::FORBIDDEN | StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED
                );
                if job.orphans_only && refusable {
                    return Ok(Listing::Refused(status_reason(status, &body)));
                }
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
                Some(token) if !token.is_empty() => {
                    if last_token.as_deref() == Some(token) {
                        return Err(DriftError::Api {
                            request: what,
                            attempts: 1,
                            reason: format!(
                                "the server sent the same `continue` token twice (page {pages}); the list would never end"
                            ),
                            source: None,
                        });
                    }
                    if pages >= self.limits.max_pages {
                        return Err(DriftError::Limit {
                            request: what,
                            what: format!(
                                "the server still sent a `continue` token after {pages} pages of up to {} objects",
                                self.page_size
                            ),
                            limit: format!("{} pages", self.limits.max_pages),
                            flag: "--max-pages",
                        });
                    }
                    params = params.continue_token(token);
                    last_token = Some(token.to_owned());
                }
                _ => return Ok(Listing::Items(items)),
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
        let max_bytes = self.limits.max_response_bytes;
        transport::run_within(&self.policy, self.deadline, what, || {
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
                    Err(e) => return transport_failure(kube::Error::HttpError(e)),
                };
                let response = match client.send(request).await {
                    Ok(r) => r,
                    Err(e) => return transport_failure(e),
                };
                let status = response.status();
                if transport::is_retryable(status) {
                    return Attempt::Status {
                        status,
                        retry_after: transport::retry_after(response.headers()),
                    };
                }
                let declared = response
                    .headers()
                    .get(http::header::CONTENT_LENGTH)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok());
                if let Some(len) = declared.filter(|len| *len > max_bytes) {
                    return Attempt::Fatal(too_large(what, Some(len), max_bytes));
                }
                match read_bounded(response.into_body(), max_bytes).await {
                    Ok(Some(bytes)) => Attempt::Done((status, bytes)),
                    Ok(None) => Attempt::Fatal(too_large(what, None, max_bytes)),
                    Err(e) => transport_failure(e),
                }
            }
        })
        .await
    }
}

/// The retry policy of `options`: the default delays, shortened in proportion to an attempt
/// limit under a second (a test against a local server; the CLI's limit is at least a second,
/// where nothing changes), so a test of many retried faults does not wait seconds.
fn retry_policy(options: &ConnectOptions) -> RetryPolicy {
    let mut policy = RetryPolicy::new(options.retries, options.timeout);
    policy.base_delay = policy.base_delay.min(options.timeout / 4);
    policy.max_delay = policy.max_delay.min(options.timeout.saturating_mul(8));
    policy
}

/// The elements of `value` when it is an array, else none.
fn items(value: Option<&Value>) -> std::slice::Iter<'_, Value> {
    value
        .and_then(Value::as_array)
        .map_or(&[][..], Vec::as_slice)
        .iter()
}

/// A kube-rs error before a response, classified for the retry loop.
fn transport_failure<T>(err: kube::Error) -> Attempt<T> {
    let failure = if certificate_rejected(&err) {
        Failure::CertificateRejected
    } else if matches!(
        err,
        kube::Error::HyperError(_) | kube::Error::Service(_) | kube::Error::ReadEvents(_)
    ) {
        Failure::Connection
    } else {
        Failure::Unsendable
    };
    Attempt::Transport(TransportError {
        failure,
        source: Box::new(err),
    })
}

/// Whether the TLS handshake failed because the server certificate was not accepted (unknown
/// issuer, wrong name, expired): retrying cannot help, and the error should say so.
fn certificate_rejected(err: &kube::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(c) = cause {
        let text = c.to_string();
        if text.contains("invalid peer certificate") || text.contains("certificate verify failed") {
            return true;
        }
        cause = c.source();
    }
    false
}

/// Reads a response body up to `max_bytes`; `None` as soon as it holds more (the rest is never
/// read, so an endless body costs at most `max_bytes`).
async fn read_bounded(
    mut body: kube::client::Body,
    max_bytes: u64,
) -> Result<Option<Vec<u8>>, kube::Error> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            if out.len() as u64 + data.len() as u64 > max_bytes {
                return Ok(None);
            }
            out.extend_from_slice(&data);
        }
    }
    Ok(Some(out))
}

/// The error for a response larger than [`Limits::max_response_bytes`].
fn too_large(what: &str, declared: Option<u64>, max_bytes: u64) -> DriftError {
    DriftError::Limit {
        request: what.to_owned(),
        what: match declared {
            Some(len) => format!("the response body is larger ({len} bytes) than plinth reads"),
            None => {
                "the response body grew larger than plinth reads; the rest was not read".to_owned()
            }
        },
        limit: format!("{} MiB", max_bytes / (1024 * 1024)),
        flag: "--max-response-mib",
    }
}

/// The error for a request not sent because `field` cannot go into its path.
fn unsendable(request: String, field: &str, problem: &str) -> DriftError {
    DriftError::Api {
        request,
        attempts: 0,
        reason: format!("`{field}` {problem}; the request was not sent"),
        source: None,
    }
}

/// Why `value` cannot go into a request path as it is (one segment; with `api_version` a
/// `group/version` pair may hold one `/`), `None` when it can: empty, `.` or `..`, or holding
/// `/`, `%`, `#`, `?`, a space or a character that is not printable ASCII.
fn path_segment_problem(value: &str, api_version: bool) -> Option<&'static str> {
    if value.is_empty() {
        return Some("is empty");
    }
    let segments: Vec<&str> = if api_version {
        value.splitn(2, '/').collect()
    } else {
        vec![value]
    };
    if segments
        .iter()
        .any(|s| s.is_empty() || *s == "." || *s == "..")
    {
        return Some("is not a valid path segment (empty, `.` or `..`)");
    }
    if segments.iter().any(|s| {
        s.chars()
            .any(|c| matches!(c, '/' | '%' | '#' | '?') || !c.is_ascii_graphic())
    }) {
        return Some(
            "holds a character no Kubernetes name has (`/`, `%`, `#`, `?`, a space or a character that is not printable ASCII)",
        );
    }
    None
}

/// What an apply is, for messages: ``server-side apply [dry-run] of `Kind` `ns/name` ``.
fn describe_apply(body: &Value, dry_run: bool) -> String {
    let verb = if dry_run {
        "server-side apply dry-run"
    } else {
        "server-side apply"
    };
    format!("{verb} of {}", describe_object(body))
}

/// `` `Kind` `ns/name` `` (`` `Kind` `name` `` without a namespace).
fn describe_object(body: &Value) -> String {
    let text = |pointer: &str| body.pointer(pointer).and_then(Value::as_str).unwrap_or("");
    let (kind, name) = (text("/kind"), text("/metadata/name"));
    match body.pointer("/metadata/namespace").and_then(Value::as_str) {
        Some(ns) => format!("`{kind}` `{ns}/{name}`"),
        None => format!("`{kind}` `{name}`"),
    }
}

/// The (manager, field) pairs of a `409`'s `details.causes` (`conflict with "<manager>"`);
/// names that are not printable are left out.
fn conflict_causes(body: &[u8]) -> Vec<(String, String)> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    items(v.pointer("/details/causes"))
        .filter_map(|c| {
            let field = c.get("field").and_then(Value::as_str)?;
            let manager = c
                .get("message")
                .and_then(Value::as_str)?
                .split_once("conflict with \"")?
                .1
                .split_once('"')?
                .0;
            Some((printable_name(manager), printable_name(field)))
        })
        .collect()
}

/// The field paths of a `Status`'s `details.causes`.
fn cause_fields(body: &[u8]) -> Vec<String> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let fields: BTreeSet<String> = items(v.pointer("/details/causes"))
        .filter_map(|c| c.get("field").and_then(Value::as_str))
        .map(printable_name)
        .collect();
    fields.into_iter().collect()
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
    DriftError::Api {
        request: what,
        attempts: 1,
        reason: status_reason(status, body),
        source: None,
    }
}

/// The status line, the `Status` reason and the field paths of its causes (see
/// [`status_error`]).
fn status_reason(status: StatusCode, body: &[u8]) -> String {
    let mut reason = format!("HTTP {status}");
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(r) = v
            .get("reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        {
            let _ = write!(reason, " ({r})");
        }
        let fields: BTreeSet<&str> = items(v.pointer("/details/causes"))
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
    reason
}

/// `Kind.group` (`Kind` for the core group), as reports name kinds.
fn kind_name(api_version: &str, kind: &str) -> String {
    match group_of(api_version) {
        "" => kind.to_owned(),
        group => format!("{kind}.{group}"),
    }
}

/// The API server's fixed text for a stale `resourceVersion` (it quotes no value).
const STALE: &str =
    "the object has been modified; please apply your changes to the latest version and try again";

/// Whether a `409` `Status` is the stale-`resourceVersion` one (not a field conflict).
fn is_stale(status: &Value) -> bool {
    status
        .get("message")
        .and_then(Value::as_str)
        .is_some_and(|m| m.ends_with(STALE))
}

/// What a `409` `Status` says, without its `message` (a server may echo the applied values
/// there; only the API server's fixed text for a stale `resourceVersion` is kept): the field paths of its causes and the field managers they name (the quoted name in
/// `conflict with "<manager>"`), else the reason alone.
fn status_message(body: &[u8]) -> String {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return "HTTP 409 Conflict".to_owned();
    };
    if is_stale(&v) {
        return STALE.to_owned();
    }
    let causes: Vec<&Value> = items(v.pointer("/details/causes")).collect();
    let fields: BTreeSet<String> = causes
        .iter()
        .filter_map(|c| c.get("field").and_then(Value::as_str))
        .map(|f| format!("`{}`", printable_name(f)))
        .collect();
    let managers: BTreeSet<String> = causes
        .iter()
        .filter_map(|c| c.get("message").and_then(Value::as_str))
        .filter_map(|m| m.split_once("conflict with \"")?.1.split_once('"'))
        .map(|(manager, _)| format!("`{}`", printable_name(manager)))
        .collect();
    let mut text = "HTTP 409 Conflict".to_owned();
    if let Some(r) = v
        .get("reason")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        let _ = write!(text, " ({})", printable_name(r));
    }
    if !fields.is_empty() {
        let _ = write!(
            text,
            " at {}",
            fields.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    if !managers.is_empty() {
        let _ = write!(
            text,
            " owned by {}",
            managers.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    text
}

/// A name from a server answer fit to quote: printable ASCII without backticks, at most 120
/// characters.
fn printable_name(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '`' || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(120)
        .collect()
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
    fn names_that_would_change_the_request_path_are_refused() {
        for bad in ["", ".", "..", "a#", "a?b", "a/b", "a%23", "a b", "ä", "a\n"] {
            assert!(path_segment_problem(bad, false).is_some(), "{bad:?}");
        }
        for good in ["a", "a.b-c", "system:controller:x", "a_b@c"] {
            assert_eq!(path_segment_problem(good, false), None, "{good:?}");
        }
        assert_eq!(path_segment_problem("apps/v1", true), None);
        assert_eq!(path_segment_problem("v1", true), None);
        for bad in ["apps/v1/x", "v1#", "../v1", "apps/"] {
            assert!(path_segment_problem(bad, true).is_some(), "{bad:?}");
        }
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
