//! Serving: [`FakeApiServer`] binds a loopback port on a thread of its own, accepts HTTP (or
//! HTTPS) connections, logs every request ([`LoggedRequest`]), applies injected faults and
//! routes the rest to discovery or to the verbs on a resource.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::Value;

use crate::discovery;
use crate::faults::{self, Fault, FaultKind};
use crate::loopback::Loopback;
use crate::rbac::{self, RbacRule};
use crate::reply::{Reply, failure, no_such_resource, reply};
use crate::scenario::Scenario;
use crate::store::Store;
use crate::verbs::{self, Call};

/// The user named in `403` messages unless a scenario names another.
const DEFAULT_USER: &str = "system:serviceaccount:plinth:plinth";

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

/// One write request the server received (any method but `GET`), refused or not.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    /// Method (`POST`, `PUT`, `PATCH`, `DELETE`), path, decoded query (`fieldManager`,
    /// `force`, `dryRun`, ...), the response status (0 while pending or when the connection
    /// was dropped) and the fault injected, as in the request log.
    pub request: LoggedRequest,
    /// The `fieldManager` query parameter.
    pub manager: Option<String>,
    /// Whether it asked for a dry run (`dryRun=All`, or `dryRun: ["All"]` in a delete's body).
    pub dry_run: bool,
    /// Whether it asked to force conflicts (`force=true`).
    pub force: bool,
    /// A delete's `propagationPolicy` (query or body), recorded only.
    pub propagation_policy: Option<String>,
    /// The body as JSON (`null` when empty or not JSON).
    pub body: Value,
}

impl Write {
    /// Whether the server accepted it (a `2xx`) and it was not a dry run: it changed (or
    /// could have changed) what is stored.
    pub fn stored(&self) -> bool {
        (200..300).contains(&self.request.status) && !self.dry_run
    }

    /// The verb as RBAC names it: `create` (`POST`), `update` (`PUT`), `patch`, `delete`
    /// (`deletecollection` on a collection path).
    pub fn verb(&self) -> &'static str {
        let r = &self.request;
        rbac::attributes(
            &r.method.parse().unwrap_or(http::Method::GET),
            &r.path,
            &r.query,
        )
        .map_or("", |a| a.verb)
    }
}

/// How a controller in the fake changes its object.
struct Edit(Box<dyn Fn(&mut Value) + Send>);

impl std::fmt::Debug for Edit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Edit")
    }
}

/// A controller in the fake ([`FakeApiServer::controller`]): after every accepted write that
/// changed its `object`, it makes its `edit` as its `manager`; `seen` is the
/// `resourceVersion` it last saw (after its own edit).
#[derive(Debug)]
struct Controller {
    manager: String,
    object: (String, String, Option<String>, String),
    edit: Edit,
    seen: String,
}

#[derive(Debug, Default)]
struct Shared {
    store: Store,
    faults: Vec<Fault>,
    log: Vec<LoggedRequest>,
    writes: Vec<Write>,
    token: Option<String>,
    rbac: Option<Vec<RbacRule>>,
    user: String,
    latency: std::time::Duration,
    controllers: Vec<Controller>,
    in_flight: usize,
    max_in_flight: usize,
}

/// A running fake API server; stops when dropped.
#[derive(Debug)]
pub struct FakeApiServer {
    shared: Arc<Mutex<Shared>>,
    kubeconfig: PathBuf,
    _dir: tempfile::TempDir,
    loopback: Loopback,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

impl FakeApiServer {
    /// Starts the server on `127.0.0.1:0` and writes a kubeconfig pointing at it.
    pub fn start(scenario: Scenario) -> std::io::Result<Self> {
        let mut immutable = crate::validate::default_immutable();
        immutable.extend(scenario.immutable);
        let mut store = Store {
            types: scenario.types,
            defaults: scenario.defaults,
            immutable,
            crd_delay: scenario.crd_delay,
            require_namespaces: scenario.require_namespaces,
            ..Store::default()
        };
        for (object, creator) in scenario.objects {
            store.seed(object, creator.as_deref());
        }
        let shared = Arc::new(Mutex::new(Shared {
            store,
            token: scenario.token.clone(),
            rbac: scenario.rbac,
            user: scenario.user.unwrap_or_else(|| DEFAULT_USER.to_owned()),
            latency: scenario.latency,
            ..Shared::default()
        }));
        let served = Arc::clone(&shared);
        let loopback = Loopback::start(scenario.tls, move |req| {
            let shared = Arc::clone(&served);
            async move { handle(req, &shared).await }
        })?;
        let dir = tempfile::tempdir()?;
        let kubeconfig = dir.path().join("kubeconfig");
        fs_err::write(
            &kubeconfig,
            kubeconfig_text(
                loopback.addr(),
                scenario.token.as_deref(),
                loopback.ca_pem(),
            ),
        )?;
        Ok(Self {
            shared,
            kubeconfig,
            _dir: dir,
            loopback,
        })
    }

    /// `http://127.0.0.1:<port>` (`https://` with [`Scenario::tls`]).
    pub fn url(&self) -> String {
        self.loopback.url()
    }

    /// The PEM certificate of the test CA that issued the server certificate (with
    /// [`Scenario::tls`]).
    pub fn ca_pem(&self) -> Option<&str> {
        self.loopback.ca_pem()
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

    /// Every write request received so far (`POST`, `PUT`, `PATCH`, `DELETE`), in order,
    /// refused, faulted and dry-run ones included: "zero writes" is
    /// `writes().iter().all(|w| !w.stored())` or `writes().is_empty()`.
    pub fn writes(&self) -> Vec<Write> {
        lock(&self.shared).writes.clone()
    }

    /// Forgets the writes received so far.
    pub fn clear_writes(&self) {
        lock(&self.shared).writes.clear();
    }

    /// The Events stored (`events.k8s.io/v1` and core `v1`, see [`Scenario::serve_events`]),
    /// in the order they were created.
    pub fn events(&self) -> Vec<Value> {
        let shared = lock(&self.shared);
        let store = &shared.store;
        let mut events: Vec<&Value> = store
            .objects
            .iter()
            .filter(|((t, _, _), _)| {
                let ty = &store.types[*t];
                ty.kind == "Event" && (ty.group.is_empty() || ty.group == "events.k8s.io")
            })
            .map(|(_, s)| &s.value)
            .collect();
        let rv = |v: &Value| -> u64 {
            crate::store::str_at(v, "/metadata/resourceVersion")
                .parse()
                .unwrap_or(0)
        };
        events.sort_by_key(|v| rv(v));
        events.into_iter().cloned().collect()
    }

    /// Runs a controller in the fake: after every accepted write (any client's) that changes
    /// the object `(api_version, kind, namespace, name)`, `edit` changes it as `manager` would
    /// with an update (as [`Self::edit_as`]), e.g. reverting a field plinth applied — the
    /// "someone keeps fighting over this object" of a thrash test. Its own edits do not
    /// trigger it again.
    pub fn controller(
        &self,
        manager: &str,
        (api_version, kind, namespace, name): (&str, &str, Option<&str>, &str),
        edit: impl Fn(&mut Value) + Send + 'static,
    ) {
        let mut shared = lock(&self.shared);
        let object = (
            api_version.to_owned(),
            kind.to_owned(),
            namespace.map(str::to_owned),
            name.to_owned(),
        );
        let seen = shared
            .store
            .key_of(api_version, kind, namespace, name)
            .and_then(|k| shared.store.objects.get(&k))
            .map(|s| crate::store::str_at(&s.value, "/metadata/resourceVersion").to_owned())
            .unwrap_or_default();
        shared.controllers.push(Controller {
            manager: manager.to_owned(),
            object,
            edit: Edit(Box::new(edit)),
            seen,
        });
    }

    /// Delays every response from now on by `latency` (see [`Scenario::with_latency`]).
    pub fn set_latency(&self, latency: std::time::Duration) {
        lock(&self.shared).latency = latency;
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
        let key = shared.store.key_of(api_version, kind, namespace, name)?;
        shared.store.objects.get(&key).map(|s| s.value.clone())
    }

    /// Changes a stored object as the field manager `manager` would with an update (e.g.
    /// `kubectl-edit`, `kubectl-scale`, a controller): `edit` changes the object in place; the
    /// fields it changed or added move to an `Update` entry of `manager` in `managedFields`
    /// (time from the scenario clock), fields it removed leave every manager, and
    /// `resourceVersion`/`generation` move when something other than status changed. `false`
    /// when no such object is stored.
    pub fn edit_as(
        &self,
        manager: &str,
        api_version: &str,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
        edit: impl FnOnce(&mut Value),
    ) -> bool {
        self.write_as(manager, "", (api_version, kind, namespace, name), edit)
    }

    /// Sets `spec.replicas` of the stored object `(api_version, kind, namespace, name)` through
    /// its `scale` subresource, as `manager` (`kubectl-scale`, the horizontal pod autoscaler in
    /// `kube-controller-manager`) would: like [`Self::edit_as`], with the field moving to an
    /// `Update` entry of `manager` that carries `subresource: scale`. `false` when no such
    /// object is stored.
    pub fn scale_as(
        &self,
        manager: &str,
        object: (&str, &str, Option<&str>, &str),
        replicas: i64,
    ) -> bool {
        self.write_as(manager, "scale", object, |v| {
            v["spec"]["replicas"] = replicas.into();
        })
    }

    /// An `Update` of the object `(api_version, kind, namespace, name)` by `manager` through
    /// `subresource` (`""`: the object itself); `false` when no such object is stored.
    fn write_as(
        &self,
        manager: &str,
        subresource: &str,
        (api_version, kind, namespace, name): (&str, &str, Option<&str>, &str),
        edit: impl FnOnce(&mut Value),
    ) -> bool {
        let mut shared = lock(&self.shared);
        let Some(key) = shared.store.key_of(api_version, kind, namespace, name) else {
            return false;
        };
        let edited = shared.store.edit(&key, manager, subresource, edit);
        shared.store.reap(&key);
        edited
    }

    /// A forced server-side apply of `value` by `manager`, stored (what `PATCH` with
    /// `application/apply-patch+yaml`, `fieldManager=<manager>` and `force=true` does, without
    /// a client): the stored object, or why the apply was refused (the object's type is not
    /// served, or the body is not an object of it).
    pub fn apply_as(&self, manager: &str, value: &Value) -> Result<Value, String> {
        let mut shared = lock(&self.shared);
        let text = |pointer: &str| value.pointer(pointer).and_then(Value::as_str);
        let (Some(api_version), Some(kind), Some(name)) =
            (text("/apiVersion"), text("/kind"), text("/metadata/name"))
        else {
            return Err("the object has no apiVersion, kind or metadata.name".into());
        };
        let Some(key) = shared
            .store
            .key_of(api_version, kind, text("/metadata/namespace"), name)
        else {
            return Err(format!("`{api_version}` `{kind}` is not served"));
        };
        shared
            .store
            .apply(&key, value, manager, true, false)
            .map_err(|e| format!("{e:?}"))
    }

    /// The scenario clock: the time of the last write by a manager (`2026-01-01T00:00:00Z`
    /// before any), which is the `time` of that write's `managedFields` entry.
    pub fn now(&self) -> String {
        crate::store::clock_time(lock(&self.shared).store.clock)
    }

    /// Stores (or replaces) an object as if another client had written it; `managedFields` it
    /// carries are kept as given (a test's hand-written entries), owned fields are not tracked.
    pub fn put(&self, value: Value) {
        lock(&self.shared).store.seed(value, None);
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

struct InFlight<'a>(&'a Mutex<Shared>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        lock(self.0).in_flight -= 1;
    }
}

/// Why a connection was closed without a response ([`FaultKind::DropConnection`],
/// [`FaultKind::DropResponse`]): hyper closes a connection whose service fails.
#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by an injected fault")
    }
}

impl std::error::Error for Dropped {}

async fn handle(req: Request<Incoming>, shared: &Mutex<Shared>) -> Result<Reply, Dropped> {
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
    let header_text = |name: header::HeaderName| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let content_type = header_text(header::CONTENT_TYPE);
    let agent = header_text(header::USER_AGENT);
    let agent_manager = match agent.split('/').next() {
        Some(m) if !m.is_empty() => m.chars().take(128).collect(),
        _ => "unknown".to_owned(),
    };
    let body = req
        .into_body()
        .collect()
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let call = Call {
        method: &method,
        query: &query,
        content_type: &content_type,
        body: &body,
        agent_manager: &agent_manager,
    };
    let (fault, slot, write_slot, latency) = {
        let mut s = lock(shared);
        s.store.request_seen();
        let fault = faults::take(&mut s.faults, method.as_str(), &path);
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        let request = LoggedRequest {
            method: method.to_string(),
            path: path.clone(),
            query: query.clone(),
            status: 0,
            fault: fault.clone(),
        };
        let write_slot = (method != http::Method::GET).then(|| {
            s.writes.push(record_write(&call, request.clone()));
            s.writes.len() - 1
        });
        s.log.push(request);
        (fault, s.log.len() - 1, write_slot, s.latency)
    };
    // Counts the request as in flight until it is answered or its client goes away.
    let _in_flight = InFlight(shared);
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    if fault == Some(FaultKind::DropConnection) {
        return Err(Dropped);
    }
    let injected = match &fault {
        Some(kind) => faults::injected(kind, slot).await,
        None => None,
    };
    let res = injected.unwrap_or_else(|| route(&path, &call, authorized, shared));
    if fault == Some(FaultKind::DropResponse) {
        return Err(Dropped);
    }
    let status = res.status().as_u16();
    let mut s = lock(shared);
    if let Some(entry) = s.log.get_mut(slot).filter(|e| e.path == path) {
        entry.status = status;
    }
    if let Some(entry) = write_slot
        .and_then(|w| s.writes.get_mut(w))
        .filter(|e| e.request.path == path)
    {
        entry.request.status = status;
    }
    if write_slot.is_some() && res.status().is_success() {
        run_controllers(&mut s);
    }
    Ok(res)
}

/// Lets each controller react to a change of its object.
fn run_controllers(s: &mut Shared) {
    let Shared {
        store, controllers, ..
    } = s;
    for c in controllers {
        let (api_version, kind, namespace, name) = &c.object;
        let Some(key) = store.key_of(api_version, kind, namespace.as_deref(), name) else {
            continue;
        };
        let rv = |store: &Store| {
            store
                .objects
                .get(&key)
                .map(|o| crate::store::str_at(&o.value, "/metadata/resourceVersion").to_owned())
        };
        match rv(store) {
            Some(now) if now != c.seen => {
                store.edit(&key, &c.manager, "", |v| (c.edit.0)(v));
                store.reap(&key);
                c.seen = rv(store).unwrap_or_default();
            }
            _ => {}
        }
    }
}

/// The record of a write request (its status still 0).
fn record_write(call: &Call<'_>, request: LoggedRequest) -> Write {
    let query = call.query;
    Write {
        manager: query.get("fieldManager").cloned(),
        dry_run: call.dry_run(),
        force: query.get("force").is_some_and(|f| f == "true"),
        propagation_policy: query
            .get("propagationPolicy")
            .cloned()
            .or_else(|| call.body_option("propagationPolicy")),
        body: serde_json::from_slice(call.body).unwrap_or(Value::Null),
        request,
    }
}

/// Routes a request by path: discovery, or a verb on a resource (after the RBAC check of a
/// scenario with rules).
fn route(path: &str, call: &Call<'_>, authorized: bool, shared: &Mutex<Shared>) -> Reply {
    if !authorized {
        return failure(StatusCode::UNAUTHORIZED, "Unauthorized", "Unauthorized");
    }
    let mut s = lock(shared);
    if let Some(rules) = &s.rbac
        && let Some(attributes) = rbac::attributes(call.method, path, call.query)
        && let Some(refused) = rbac::check(rules, &s.user, &attributes)
    {
        return refused;
    }
    let store = &mut s.store;
    let segments: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    match segments.as_slice() {
        ["api"] => discovery::core_versions(),
        ["apis"] => reply(StatusCode::OK, &discovery::group_list(store)),
        ["api", "v1"] => discovery::resource_list(store, "", "v1"),
        ["apis", group, version] => discovery::resource_list(store, group, version),
        ["api", "v1", rest @ ..] => verbs::resource(store, "", "v1", rest, call),
        ["apis", group, version, rest @ ..] => verbs::resource(store, group, version, rest, call),
        _ => no_such_resource(),
    }
}

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
