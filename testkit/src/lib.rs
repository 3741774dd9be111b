//! Dev-only test helpers for plinth: a loopback fake Kubernetes API server that real kube-rs
//! clients talk to over HTTP.
//!
//! [`FakeApiServer::start`] binds `127.0.0.1:0` on a thread of its own (so both sync and async
//! tests, and child processes given its kubeconfig, can use it) and serves:
//!
//! - discovery: `/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`;
//! - `GET` of one object, `404` with a `Status` body when absent;
//! - `LIST` per type, cluster-wide or per namespace, with `limit`/`continue` pagination and
//!   `labelSelector` (`=`, `==`, `!=`, `in`, `notin`, existence); items are returned without
//!   `apiVersion`/`kind`, as the real server does;
//! - server-side apply (`PATCH` with `application/apply-patch+yaml`), with `fieldManager`
//!   (required), `force`, `dryRun=All` (the merged object is returned and nothing is stored),
//!   `resourceVersion` preconditions (`409` when stale), conflicts with fields another manager
//!   applied (`409` unless `force`), `managedFields`, `generation` and `resourceVersion` bumps;
//! - injectable faults ([`Fault`]): `429` with `Retry-After`, `500`/`503`, slow responses, a
//!   body that never ends, LISTs that never stop sending `continue` tokens; and, with
//!   [`Scenario::serve_many`], discovery documents of any size.
//!
//! What it does **not** model: field ownership is tracked per leaf JSON pointer, not with the
//! real structured-merge-diff sets, and lists are replaced wholesale (no merge keys, no
//! `x-kubernetes-list-type`); no admission, validation or `OpenAPI` schemas; defaulting is only
//! what a scenario declares with [`Scenario::default_fields`]; apply bodies must be JSON (which
//! kube-rs sends); no watch, create (`POST`), update (`PUT`), delete, subresources, field
//! selectors, `resourceVersion` semantics on LIST, table output, protobuf or authentication
//! beyond an optional bearer token; continue tokens do not expire.

pub mod git;
mod selector;
mod store;
mod tls;

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};

pub use selector::Selector;
use store::{ApplyError, Store, StoreKey, labels_of, str_at};
pub use store::{ResourceType, plural_of, split_api_version};

/// The objects and types a fake server starts with.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    types: Vec<ResourceType>,
    objects: Vec<Value>,
    defaults: BTreeMap<String, Value>,
    token: Option<String>,
    tls: bool,
}

impl Scenario {
    /// An empty scenario that still serves the core types plinth reads (`Namespace`, `Node`,
    /// `ConfigMap`, `Secret`, `Service`, `ServiceAccount`) and `apps/v1` `Deployment`.
    pub fn new() -> Self {
        let types = [
            ("v1", "Namespace", false),
            ("v1", "Node", false),
            ("v1", "ConfigMap", true),
            ("v1", "Secret", true),
            ("v1", "Service", true),
            ("v1", "ServiceAccount", true),
            ("apps/v1", "Deployment", true),
        ]
        .into_iter()
        .map(|(av, k, ns)| ResourceType::new(av, k, ns))
        .collect();
        Self {
            types,
            ..Self::default()
        }
    }

    /// Serves one more type (no objects needed).
    #[must_use]
    pub fn serve(mut self, api_version: &str, kind: &str, namespaced: bool) -> Self {
        self.types
            .push(ResourceType::new(api_version, kind, namespaced));
        self
    }

    /// Serves `count` more made-up kinds (`Kind000000`, `Kind000001`, ...) in `api_version`,
    /// namespaced and listable: a discovery document as large as a test needs.
    #[must_use]
    pub fn serve_many(mut self, api_version: &str, count: usize) -> Self {
        self.types.extend(
            (0..count).map(|i| ResourceType::new(api_version, &format!("Kind{i:06}"), true)),
        );
        self
    }

    /// Serves one more type as described, with its discovery verbs and subresources
    /// ([`ResourceType::with_verbs`], [`ResourceType::with_subresource`]).
    #[must_use]
    pub fn serve_type(mut self, resource_type: ResourceType) -> Self {
        self.types.push(resource_type);
        self
    }

    /// Adds a stored object; its type is served from then on (namespaced when the object has a
    /// namespace and the kind is not a known cluster-scoped one).
    #[must_use]
    pub fn object(mut self, value: Value) -> Self {
        self.objects.push(value);
        self
    }

    /// Adds many stored objects.
    #[must_use]
    pub fn objects(mut self, values: impl IntoIterator<Item = Value>) -> Self {
        self.objects.extend(values);
        self
    }

    /// Fields the server fills in on apply for a kind when the applied object leaves them out
    /// (the only defaulting the fake does).
    #[must_use]
    pub fn default_fields(mut self, kind: &str, fields: Value) -> Self {
        self.defaults.insert(kind.to_owned(), fields);
        self
    }

    /// Requires `Authorization: Bearer <token>` on every request (`401` otherwise) and puts
    /// the token in the generated kubeconfig.
    #[must_use]
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Serves HTTPS with a certificate for `127.0.0.1` issued by a fresh test CA; the
    /// kubeconfig carries the CA (`certificate-authority-data`), see [`FakeApiServer::ca_pem`].
    #[must_use]
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }
}

/// What an injected fault does to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FaultKind {
    /// `429 Too Many Requests` with `Retry-After: <seconds>`.
    TooManyRequests { retry_after_secs: u64 },
    /// A `5xx` status (500, 503, ...) with a `Status` body.
    ServerError(u16),
    /// A `4xx` status (403, 404, ...) with a `Status` body whose reason fits the code
    /// (`Forbidden`, `NotFound`, ...); clients do not retry these.
    ClientError(u16),
    /// The normal response, sent only after this delay.
    Slow(Duration),
    /// `200` with a body (spaces, no `Content-Length`) that never ends.
    EndlessBody,
    /// A LIST page (`200`, no items) whose `metadata.continue` asks for one more page, forever:
    /// a new token each time, or with `same_token` the same one again.
    EndlessContinue { same_token: bool },
    /// This status with exactly this JSON body (a server that echoes values in its errors).
    Body { code: u16, body: Value },
}

/// A fault applied to the next `times` requests whose path contains `path_contains`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    kind: FaultKind,
    times: u32,
    path_contains: String,
    every: u32,
    seen: u32,
}

impl Fault {
    /// A fault that hits the next matching request once.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            times: 1,
            path_contains: String::new(),
            every: 1,
            seen: 0,
        }
    }

    /// How many matching requests it hits (`u32::MAX`: all of them).
    #[must_use]
    pub fn times(mut self, times: u32) -> Self {
        self.times = times;
        self
    }

    /// Only requests whose path contains this text match.
    #[must_use]
    pub fn matching(mut self, path_contains: &str) -> Self {
        path_contains.clone_into(&mut self.path_contains);
        self
    }

    /// Only every `n`th matching request is hit (1: each one).
    #[must_use]
    pub fn every(mut self, n: u32) -> Self {
        self.every = n.max(1);
        self
    }
}

/// One request the server received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// Decoded query parameters, sorted.
    pub query: BTreeMap<String, String>,
    /// The response status; 0 while the response is still pending (a slow fault).
    pub status: u16,
    /// The fault injected into it, if any.
    pub fault: Option<FaultKind>,
}

impl LoggedRequest {
    /// Whether this was a discovery request.
    pub fn is_discovery(&self) -> bool {
        self.path == "/api"
            || self.path == "/apis"
            || self.path == "/api/v1"
            || (self.path.starts_with("/apis/") && self.path.split('/').count() == 4)
    }
}

#[derive(Debug, Default)]
struct Shared {
    store: Store,
    faults: Vec<Fault>,
    log: Vec<LoggedRequest>,
    token: Option<String>,
    in_flight: usize,
    max_in_flight: usize,
}

/// A running fake API server; stops when dropped.
#[derive(Debug)]
pub struct FakeApiServer {
    addr: SocketAddr,
    shared: Arc<Mutex<Shared>>,
    kubeconfig: PathBuf,
    ca_pem: Option<String>,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeApiServer {
    /// Starts the server on `127.0.0.1:0` and writes a kubeconfig pointing at it.
    pub fn start(scenario: Scenario) -> std::io::Result<Self> {
        let mut store = Store {
            types: scenario.types,
            defaults: scenario.defaults,
            ..Store::default()
        };
        for object in scenario.objects {
            store.seed(object);
        }
        let shared = Arc::new(Mutex::new(Shared {
            store,
            token: scenario.token.clone(),
            ..Shared::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let dir = tempfile::tempdir()?;
        let kubeconfig = dir.path().join("kubeconfig");
        let tls = if scenario.tls {
            Some(tls::TestCa::new().map_err(std::io::Error::other)?)
        } else {
            None
        };
        let ca_pem = tls.as_ref().map(|t| t.ca_pem.clone());
        fs_err::write(
            &kubeconfig,
            kubeconfig_text(addr, scenario.token.as_deref(), ca_pem.as_deref()),
        )?;
        let acceptor = tls.map(|t| t.acceptor);

        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let served = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            runtime.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
                    return;
                };
                tokio::select! {
                    () = accept_loop(listener, served, acceptor) => {}
                    _ = stopped => {}
                }
            });
        });
        Ok(Self {
            addr,
            shared,
            kubeconfig,
            ca_pem,
            _dir: dir,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:<port>` (`https://` with [`Scenario::tls`]).
    pub fn url(&self) -> String {
        let scheme = if self.ca_pem.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{}", self.addr)
    }

    /// The PEM certificate of the test CA that issued the server certificate (with
    /// [`Scenario::tls`]).
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// A kubeconfig file (in a temp dir owned by the server) whose only context, `fake`,
    /// points at this server.
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// Every request received so far, in order.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        lock(&self.shared).log.clone()
    }

    /// Forgets the requests received so far.
    pub fn clear_log(&self) {
        lock(&self.shared).log.clear();
    }

    /// Adds a fault; faults are consulted in the order they were injected.
    pub fn inject(&self, fault: Fault) {
        lock(&self.shared).faults.push(fault);
    }

    /// Removes every fault not yet used up.
    pub fn clear_faults(&self) {
        lock(&self.shared).faults.clear();
    }

    /// The stored object, as a GET would return it.
    pub fn get(
        &self,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Value> {
        let shared = lock(&self.shared);
        let (group, version) = split_api_version(api_version);
        let t = shared
            .store
            .types
            .iter()
            .position(|t| t.group == group && t.version == version && t.kind == kind)?;
        let ns = namespace
            .filter(|_| shared.store.types[t].namespaced)
            .map(str::to_owned);
        shared
            .store
            .objects
            .get(&(t, ns, name.to_owned()))
            .map(|s| s.value.clone())
    }

    /// Stores (or replaces) an object as if another client had written it.
    pub fn put(&self, value: Value) {
        lock(&self.shared).store.seed(value);
    }

    /// The most requests the server was handling at once so far.
    pub fn max_in_flight(&self) -> usize {
        lock(&self.shared).max_in_flight
    }

    /// How many objects are stored.
    pub fn object_count(&self) -> usize {
        lock(&self.shared).store.objects.len()
    }
}

impl Drop for FakeApiServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn kubeconfig_text(addr: SocketAddr, token: Option<&str>, ca_pem: Option<&str>) -> String {
    use base64::Engine as _;
    let user = match token {
        Some(t) => format!("{{token: \"{t}\"}}"),
        None => "{}".to_owned(),
    };
    let (scheme, ca) = match ca_pem {
        Some(pem) => (
            "https",
            format!(
                "    certificate-authority-data: {}\n",
                base64::engine::general_purpose::STANDARD.encode(pem)
            ),
        ),
        None => ("http", String::new()),
    };
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: fake\n  cluster:\n{ca}    server: {scheme}://{addr}\nusers:\n- name: fake\n  user: {user}\ncontexts:\n- name: fake\n  context:\n    cluster: fake\n    user: fake\n    namespace: default\ncurrent-context: fake\n"
    )
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    shared: Arc<Mutex<Shared>>,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let shared = Arc::clone(&shared);
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let shared = Arc::clone(&shared);
                async move { Ok::<_, Infallible>(handle(req, &shared).await) }
            });
            let http = hyper::server::conn::http1::Builder::new();
            match acceptor {
                // A client that rejects the certificate ends the handshake: nothing is served.
                Some(acceptor) => {
                    if let Ok(tls) = acceptor.accept(stream).await {
                        let _ = http.serve_connection(TokioIo::new(tls), service).await;
                    }
                }
                None => {
                    let _ = http.serve_connection(TokioIo::new(stream), service).await;
                }
            }
        });
    }
}

type Reply = Response<Either<Full<Bytes>, Endless>>;

/// A response body that yields 64 KiB of spaces forever.
#[derive(Debug)]
pub struct Endless;

impl hyper::body::Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Infallible>>> {
        static CHUNK: [u8; 64 * 1024] = [b' '; 64 * 1024];
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(Bytes::from_static(
            &CHUNK,
        )))))
    }
}

fn reply(status: StatusCode, body: &Value) -> Reply {
    let mut res = Response::new(Either::Left(Full::new(Bytes::from(body.to_string()))));
    *res.status_mut() = status;
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("application/json"),
    );
    res
}

fn status_body(code: StatusCode, reason: &str, message: &str) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code.as_u16(),
    })
}

fn failure(code: StatusCode, reason: &str, message: &str) -> Reply {
    reply(code, &status_body(code, reason, message))
}

/// Takes the fault that applies to this request, if any.
fn take_fault(shared: &mut Shared, path: &str) -> Option<FaultKind> {
    for fault in &mut shared.faults {
        if fault.times == 0 || !path.contains(&fault.path_contains) {
            continue;
        }
        fault.seen += 1;
        if fault.seen % fault.every != 0 {
            continue;
        }
        fault.times = fault.times.saturating_sub(1);
        return Some(fault.kind.clone());
    }
    None
}

struct InFlight<'a>(&'a Mutex<Shared>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        lock(self.0).in_flight -= 1;
    }
}

async fn handle(req: Request<Incoming>, shared: &Mutex<Shared>) -> Reply {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query: BTreeMap<String, String> =
        form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let authorized = {
        let s = lock(shared);
        s.token.as_ref().is_none_or(|t| {
            req.headers()
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.strip_prefix("Bearer ") == Some(t.as_str()))
        })
    };
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let (fault, slot) = {
        let mut s = lock(shared);
        let fault = take_fault(&mut s, &path);
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        s.log.push(LoggedRequest {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            status: 0,
            fault: fault.clone(),
        });
        (fault, s.log.len() - 1)
    };
    // Counts the request as in flight until it is answered or its client goes away.
    let _in_flight = InFlight(shared);
    let res = match &fault {
        Some(FaultKind::TooManyRequests { retry_after_secs }) => {
            let mut res = failure(
                StatusCode::TOO_MANY_REQUESTS,
                "TooManyRequests",
                "the server has received too many requests and has asked us to try again later",
            );
            res.headers_mut().insert(
                header::RETRY_AFTER,
                header::HeaderValue::from(*retry_after_secs),
            );
            res
        }
        Some(FaultKind::ServerError(code)) => {
            let code = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            failure(
                code,
                "InternalError",
                "an error on the server has prevented the request from succeeding",
            )
        }
        Some(FaultKind::ClientError(code)) => {
            let code = StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_REQUEST);
            let reason = match code {
                StatusCode::UNAUTHORIZED => "Unauthorized",
                StatusCode::FORBIDDEN => "Forbidden",
                StatusCode::NOT_FOUND => "NotFound",
                StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
                StatusCode::CONFLICT => "Conflict",
                _ => "BadRequest",
            };
            failure(code, reason, "the request was refused by an injected fault")
        }
        Some(FaultKind::EndlessBody) => {
            let mut res = Response::new(Either::Right(Endless));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            res
        }
        Some(FaultKind::EndlessContinue { same_token }) => {
            let token = if *same_token {
                "fake-endless".to_owned()
            } else {
                format!("fake-endless-{slot}")
            };
            reply(
                StatusCode::OK,
                &json!({
                    "kind": "List",
                    "apiVersion": "v1",
                    "metadata": {"resourceVersion": "1", "continue": token},
                    "items": [],
                }),
            )
        }
        Some(FaultKind::Body { code, body }) => reply(
            StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_REQUEST),
            body,
        ),
        Some(FaultKind::Slow(delay)) => {
            tokio::time::sleep(*delay).await;
            route(
                &method,
                &path,
                &query,
                &content_type,
                &body,
                authorized,
                shared,
            )
        }
        None => route(
            &method,
            &path,
            &query,
            &content_type,
            &body,
            authorized,
            shared,
        ),
    };
    if let Some(entry) = lock(shared).log.get_mut(slot).filter(|e| e.path == path) {
        entry.status = res.status().as_u16();
    }
    res
}

fn route(
    method: &Method,
    path: &str,
    query: &BTreeMap<String, String>,
    content_type: &str,
    body: &[u8],
    authorized: bool,
    shared: &Mutex<Shared>,
) -> Reply {
    if !authorized {
        return failure(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    let mut s = lock(shared);
    let store = &mut s.store;
    let segments: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match segments.as_slice() {
        ["api"] => reply(
            StatusCode::OK,
            &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
        ),
        ["apis"] => reply(StatusCode::OK, &group_list(store)),
        ["api", "v1"] => resource_list(store, "", "v1"),
        ["apis", group, version] => resource_list(store, group, version),
        ["api", "v1", rest @ ..] => {
            resource(store, "", "v1", rest, method, query, content_type, body)
        }
        ["apis", group, version, rest @ ..] => resource(
            store,
            group,
            version,
            rest,
            method,
            query,
            content_type,
            body,
        ),
        _ => failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        ),
    }
}

fn group_list(store: &Store) -> Value {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in store.types.iter().filter(|t| !t.group.is_empty()) {
        let versions = groups.entry(t.group.as_str()).or_default();
        if !versions.contains(&t.version.as_str()) {
            versions.push(t.version.as_str());
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(name, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
                .collect();
            json!({"name": name, "versions": versions, "preferredVersion": versions[0]})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

fn resource_list(store: &Store, group: &str, version: &str) -> Reply {
    let resources: Vec<Value> = store
        .types
        .iter()
        .filter(|t| t.group == group && t.version == version)
        .flat_map(|t| {
            let main = json!({
                "name": t.plural,
                "singularName": t.kind.to_ascii_lowercase(),
                "namespaced": t.namespaced,
                "kind": t.kind,
                "verbs": t.verbs,
            });
            let subresources = t.subresources.iter().map(|sub| {
                json!({
                    "name": format!("{}/{sub}", t.plural),
                    "singularName": "",
                    "namespaced": t.namespaced,
                    "kind": t.kind,
                    "verbs": ["get", "patch"],
                })
            });
            std::iter::once(main).chain(subresources)
        })
        .collect();
    if resources.is_empty() {
        return failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        );
    }
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    reply(
        StatusCode::OK,
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

#[allow(clippy::too_many_arguments)]
fn resource(
    store: &mut Store,
    group: &str,
    version: &str,
    rest: &[&str],
    method: &Method,
    query: &BTreeMap<String, String>,
    content_type: &str,
    body: &[u8],
) -> Reply {
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural, tail @ ..] if tail.len() <= 1 => {
            (Some(*ns), *plural, tail.first().copied())
        }
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => {
            return failure(
                StatusCode::NOT_FOUND,
                "NotFound",
                "the server could not find the requested resource",
            );
        }
    };
    let Some(t) = store.type_at(group, version, plural) else {
        return failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        );
    };
    let ty = store.types[t].clone();
    if namespace.is_some() && !ty.namespaced {
        return failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            "the server could not find the requested resource",
        );
    }
    let not_found = |name: &str| {
        failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("{}.{} \"{name}\" not found", ty.plural, ty.group),
        )
    };
    match (method, name) {
        (&Method::GET, None) => list(store, t, namespace, query),
        (&Method::GET, Some(name)) => {
            let key: StoreKey = (t, namespace.map(str::to_owned), name.to_owned());
            match store.objects.get(&key) {
                Some(s) => reply(StatusCode::OK, &s.value),
                None => not_found(name),
            }
        }
        (&Method::PATCH, Some(name)) => {
            if !content_type.starts_with("application/apply-patch+yaml") {
                return failure(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "UnsupportedMediaType",
                    "the fake API server only models server-side apply patches",
                );
            }
            let Some(manager) = query.get("fieldManager").filter(|m| !m.is_empty()) else {
                return failure(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
                );
            };
            let Ok(value) = serde_json::from_slice::<Value>(body) else {
                return failure(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "the apply body is not JSON",
                );
            };
            if ty.namespaced && namespace.is_none() {
                return not_found(name);
            }
            if ty.namespaced && str_at(&value, "/metadata/namespace") != namespace.unwrap_or("") {
                return failure(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "the namespace of the provided object does not match the namespace sent on the request",
                );
            }
            let force = query.get("force").is_some_and(|f| f == "true");
            let dry_run = query.get("dryRun").is_some_and(|d| d == "All");
            let key: StoreKey = (t, namespace.map(str::to_owned), name.to_owned());
            let created = !store.objects.contains_key(&key);
            match store.apply(&key, &value, manager, force, dry_run) {
                Ok(v) => reply(
                    if created {
                        StatusCode::CREATED
                    } else {
                        StatusCode::OK
                    },
                    &v,
                ),
                Err(ApplyError::BadRequest(m)) => {
                    failure(StatusCode::BAD_REQUEST, "BadRequest", &m)
                }
                Err(ApplyError::Conflict(m)) => failure(StatusCode::CONFLICT, "Conflict", &m),
            }
        }
        _ => failure(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the fake API server does not model this verb",
        ),
    }
}

fn list(
    store: &Store,
    t: usize,
    namespace: Option<&str>,
    query: &BTreeMap<String, String>,
) -> Reply {
    let ty = &store.types[t];
    let selector = match query.get("labelSelector") {
        Some(text) => match Selector::parse(text) {
            Some(s) => s,
            None => {
                return failure(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "unable to parse requirement",
                );
            }
        },
        None => Selector::default(),
    };
    let offset: usize = match query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => match token.strip_prefix("fake-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => {
                return failure(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "continue key is not valid",
                );
            }
        },
        None => 0,
    };
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let matching: Vec<&Value> = store
        .objects
        .iter()
        .filter(|((ot, ons, _), _)| {
            *ot == t && (namespace.is_none() || ons.as_deref() == namespace)
        })
        .filter(|(_, s)| selector.matches(&labels_of(&s.value)))
        .map(|(_, s)| &s.value)
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| {
            let mut item = (*v).clone();
            if let Some(o) = item.as_object_mut() {
                o.remove("apiVersion");
                o.remove("kind");
            }
            item
        })
        .collect();
    let next = offset.saturating_add(page.len());
    let mut metadata = json!({"resourceVersion": store.resource_version.to_string()});
    if next < matching.len() {
        metadata["continue"] = format!("fake-{next}").into();
        metadata["remainingItemCount"] = (matching.len() - next).into();
    }
    reply(
        StatusCode::OK,
        &json!({
            "kind": format!("{}List", ty.kind),
            "apiVersion": ty.api_version(),
            "metadata": metadata,
            "items": page,
        }),
    )
}

/// A short human summary of a request log (method, path and query), for test failure output.
pub fn describe(log: &[LoggedRequest]) -> String {
    let mut out = String::new();
    for r in log {
        let q: Vec<String> = r.query.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            out,
            "{} {} {} -> {}",
            r.method,
            r.path,
            q.join("&"),
            r.status
        );
    }
    out
}
