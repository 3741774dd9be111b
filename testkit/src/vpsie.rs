//! A loopback fake of the VPSie API ([`FakeVpsie`]) for the VPSie client's tests, built on the
//! request and response shapes the public Go clients use (the project's VPSie facts and
//! `OpenAPI` subset, which are derived from those clients, not official): HTTPS with a test CA
//! (the client trusts it through its CA-bundle parameter) or plain HTTP.
//!
//! Under a configurable base path (`/v2`, `/apps/v2`) it serves:
//!
//! - `POST {base}/auth/from/api`: the token request. It must be `POST` with `Content-Type:
//!   application/x-www-form-urlencoded` and `Accept: application/json`, and its form must
//!   decode (percent-decoding, `+` as space) to exactly two fields, `clientId` and
//!   `clientSecret`, each once, equal to the scenario's. What it decoded is logged
//!   ([`VpsieRequest::form`]) so a test can check a secret arrived byte for byte. A good one
//!   gets `{error: false, accessToken: {token, expires}, refreshToken: {..}}`, `expires` in
//!   RFC 3339 on the fake's clock ([`FakeVpsie::now`], moved by [`FakeVpsie::advance`]); a
//!   bad one gets `401` whose `message` repeats the secret it received (as a careless server
//!   might), the reason in the log;
//! - `GET {base}/vm`: the scenario's VMs, as `govpsie` reads them (`{error, data, total}`),
//!   or in pages of [`VpsieScenario::page_size`] as the autoscaler models them (`{data,
//!   pagination}`, `?page=N`);
//! - `GET {base}/k8s/node/groups/byClusterId/{id}`: the node groups of that cluster in the
//!   envelope `{error, code, message, data}` (`404` with `error: true` for another cluster);
//! - `GET {base}/k8s/cluster/byId/{id}`: the cluster info of [`VpsieScenario::clusters`] in
//!   the same envelope (`data: {identifier, nodes[], masters[], slaves[], ...}`);
//! - a token in `Authorization: Bearer` or `Vpsie-Auth` (both accepted, the log says which):
//!   one the fake issued and that has not expired on its clock, or a static token of the
//!   scenario; else `401`;
//! - faults by route and call number ([`VpsieFault`]): `401`, `429` with `Retry-After`,
//!   `5xx` with a body (that may carry secrets), `200` with `error: true` and a message,
//!   slow answers, oversized or endless bodies;
//! - a log of every request ([`VpsieRequest`]): method, path, query, which auth header and
//!   token, the decoded form, status, why it was refused.
//!
//! What it does not model: other operations (VM actions, cluster info, offers), rate limits
//! beyond injected `429`s, the refresh token, `projectId` filters, real VPSie error texts.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Bytes, Incoming};
use serde_json::{Value, json};

use crate::loopback::Loopback;
use crate::reply::{Endless, Reply, reply};

/// The token path, relative to the base path.
pub const TOKEN_PATH: &str = "/auth/from/api";
/// Where the fake's clock starts unless a scenario says otherwise: 2026-11-30T12:00:00Z.
pub const DEFAULT_START_SECS: u64 = 1_796_040_000;

/// Which endpoint a request or a fault is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Route {
    Token,
    Vms,
    NodeGroups,
    ClusterInfo,
}

/// What a fault answers instead of the normal answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VpsieFaultKind {
    /// `401` as for a revoked token.
    Unauthorized,
    /// `429` with this `Retry-After` value.
    TooManyRequests { retry_after: String },
    /// This `5xx` status with this body and an `x-request-id`.
    ServerError { status: u16, body: String },
    /// `200` with `{error: true, code, message}`.
    ErrorEnvelope { code: i64, message: String },
    /// The normal answer after this delay.
    Slow { delay: Duration },
    /// `200` with a JSON body of about this many bytes and its `Content-Length`.
    Oversized { bytes: usize },
    /// `200` with a body that never ends.
    Endless,
}

/// A fault on the calls `first_call ..= first_call + times - 1` (counted from 1 per route).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpsieFault {
    pub route: Route,
    pub first_call: u32,
    pub times: u32,
    pub kind: VpsieFaultKind,
}

impl VpsieFault {
    /// `kind` on the next call to `route` (the first, unless [`VpsieFault::at_call`]).
    pub fn new(route: Route, kind: VpsieFaultKind) -> Self {
        Self {
            route,
            first_call: 1,
            times: 1,
            kind,
        }
    }

    /// From the `n`-th call to the route on (1 is the first).
    #[must_use]
    pub fn at_call(mut self, n: u32) -> Self {
        self.first_call = n;
        self
    }

    /// For `n` calls in a row.
    #[must_use]
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    fn hits(&self, route: Route, call: u32) -> bool {
        self.route == route && call >= self.first_call && call - self.first_call < self.times
    }
}

/// What a [`FakeVpsie`] starts with; change it with [`VpsieScenario::with`].
#[derive(Debug, Clone)]
pub struct VpsieScenario {
    /// The base path (`/v2`, `/apps/v2`).
    pub base_path: String,
    pub client_id: String,
    pub client_secret: String,
    /// How long issued tokens are valid.
    pub token_lifetime: Duration,
    /// Where the fake's clock starts.
    pub start: SystemTime,
    /// The VMs, JSON values as `GET /vm` returns them.
    pub vms: Vec<Value>,
    /// The node groups (JSON values) per cluster identifier; another cluster is `404`.
    pub node_groups: BTreeMap<String, Vec<Value>>,
    /// The cluster info (`data` of `GET /k8s/cluster/byId/{id}`) per cluster identifier;
    /// another cluster is `404`.
    pub clusters: BTreeMap<String, Value>,
    /// Serves `GET /vm` in pages of this size with a `pagination` object.
    pub page_size: Option<usize>,
    /// Tokens accepted as given.
    pub static_tokens: Vec<String>,
    pub faults: Vec<VpsieFault>,
    /// HTTPS with a test CA (default), else plain HTTP.
    pub tls: bool,
}

impl VpsieScenario {
    /// An account reached with `client_id` and `client_secret`, base path `/v2`, no VMs,
    /// tokens valid for an hour, the clock at [`DEFAULT_START_SECS`], served over HTTPS.
    pub fn new(client_id: &str, client_secret: &str) -> Self {
        Self {
            base_path: "/v2".to_owned(),
            client_id: client_id.to_owned(),
            client_secret: client_secret.to_owned(),
            token_lifetime: Duration::from_hours(1),
            start: UNIX_EPOCH + Duration::from_secs(DEFAULT_START_SECS),
            vms: Vec::new(),
            node_groups: BTreeMap::new(),
            clusters: BTreeMap::new(),
            page_size: None,
            static_tokens: Vec::new(),
            faults: Vec::new(),
            tls: true,
        }
    }

    /// This scenario changed by `change` (`scenario.with(|s| s.tls = false)`).
    #[must_use]
    pub fn with(mut self, change: impl FnOnce(&mut Self)) -> Self {
        change(&mut self);
        self
    }
}

/// Which header carried a request's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum AuthKind {
    None,
    Bearer,
    VpsieAuth,
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VpsieRequest {
    pub route: Option<Route>,
    pub method: String,
    /// The path as sent (still percent-encoded).
    pub path: String,
    /// Decoded query parameters, sorted.
    pub query: BTreeMap<String, String>,
    pub auth: AuthKind,
    pub token: Option<String>,
    /// A token request's form, decoded, in the order sent.
    pub form: Option<Vec<(String, String)>>,
    pub status: u16,
    /// Why the request was refused (the token request's checks, an unknown token).
    pub refusal: Option<String>,
}

#[derive(Debug)]
struct Shared {
    scenario: VpsieScenario,
    now: SystemTime,
    /// Issued tokens and when each expires on the fake's clock.
    issued: BTreeMap<String, SystemTime>,
    calls: BTreeMap<Route, u32>,
    log: Vec<VpsieRequest>,
}

/// The fake's state, even after a handler panicked holding it.
fn lock(state: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake VPSie API (the loopback server and the state its handler shares); stops
/// when dropped.
#[derive(Debug)]
pub struct FakeVpsie {
    loopback: Loopback,
    shared: Arc<Mutex<Shared>>,
}

impl FakeVpsie {
    /// Starts the fake on `127.0.0.1:0`.
    pub fn start(mut scenario: VpsieScenario) -> std::io::Result<Self> {
        scenario.base_path = format!("/{}", scenario.base_path.trim_matches('/'));
        let tls = scenario.tls;
        let shared = Arc::new(Mutex::new(Shared {
            now: scenario.start,
            scenario,
            issued: BTreeMap::new(),
            calls: BTreeMap::new(),
            log: Vec::new(),
        }));
        let served = Arc::clone(&shared);
        let loopback = Loopback::start(tls, move |req| {
            let shared = Arc::clone(&served);
            async move { Ok::<_, std::convert::Infallible>(handle(req, &shared).await) }
        })?;
        Ok(Self { loopback, shared })
    }

    /// The base URL: `https://127.0.0.1:<port>/v2` (or the scenario's base path; `http://`
    /// without [`VpsieScenario::tls`]).
    pub fn url(&self) -> String {
        format!(
            "{}{}",
            self.loopback.url(),
            lock(&self.shared).scenario.base_path
        )
    }

    /// The PEM certificate of the test CA (over HTTPS).
    pub fn ca_pem(&self) -> Option<&str> {
        self.loopback.ca_pem()
    }

    /// The fake's clock.
    pub fn now(&self) -> SystemTime {
        lock(&self.shared).now
    }

    /// Moves the fake's clock (tokens past their expiry get `401`).
    pub fn advance(&self, by: Duration) {
        lock(&self.shared).now += by;
    }

    /// Makes every issued token expire now.
    pub fn expire_tokens(&self) {
        let mut s = lock(&self.shared);
        let now = s.now;
        for until in s.issued.values_mut() {
            *until = now;
        }
    }

    /// Injects a fault now (call numbers count from the fake's start).
    pub fn inject(&self, fault: VpsieFault) {
        lock(&self.shared).scenario.faults.push(fault);
    }

    /// Every token issued so far.
    pub fn issued_tokens(&self) -> Vec<String> {
        lock(&self.shared).issued.keys().cloned().collect()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<VpsieRequest> {
        lock(&self.shared).log.clone()
    }

    /// The requests to `route`.
    pub fn requests_to(&self, route: Route) -> Vec<VpsieRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.route == Some(route))
            .collect()
    }
}

/// The request's parts the fake looks at.
struct Received {
    method: Method,
    route: Option<Route>,
    /// The cluster identifier of a node-group request, percent-decoded.
    cluster: String,
    query: BTreeMap<String, String>,
    auth: AuthKind,
    token: Option<String>,
    content_type: String,
    accept: String,
    body: Bytes,
}

async fn handle(req: Request<Incoming>, shared: &Mutex<Shared>) -> Reply {
    let (parts, body) = req.into_parts();
    let text = |name: &str| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let bearer = text("authorization").and_then(|a| a.strip_prefix("Bearer ").map(str::to_owned));
    let (auth, token) = match (bearer, text("vpsie-auth")) {
        (Some(t), _) => (AuthKind::Bearer, Some(t)),
        (None, Some(t)) => (AuthKind::VpsieAuth, Some(t)),
        (None, None) => (AuthKind::None, None),
    };
    let path = parts.uri.path().to_owned();
    let base_path = lock(shared).scenario.base_path.clone();
    let (route, cluster) = route_of(&base_path, &path);
    let incoming = Received {
        method: parts.method.clone(),
        route,
        cluster,
        query: form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect(),
        auth,
        token,
        content_type: text("content-type").unwrap_or_default(),
        accept: text("accept").unwrap_or_default(),
        body: body
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default(),
    };
    let (fault, slot) = {
        let mut s = lock(shared);
        let fault = route.and_then(|route| {
            let call = s.calls.entry(route).or_default();
            *call += 1;
            let call = *call;
            s.scenario
                .faults
                .iter()
                .find(|f| f.hits(route, call))
                .map(|f| f.kind.clone())
        });
        s.log.push(VpsieRequest {
            route,
            method: incoming.method.to_string(),
            path,
            query: incoming.query.clone(),
            auth: incoming.auth,
            token: incoming.token.clone(),
            form: None,
            status: 0,
            refusal: None,
        });
        (fault, s.log.len() - 1)
    };
    if let Some(VpsieFaultKind::Slow { delay }) = &fault {
        tokio::time::sleep(*delay).await;
    }
    let outcome = match fault {
        None | Some(VpsieFaultKind::Slow { .. }) => answer(&incoming, &mut lock(shared)),
        Some(kind) => Outcome::plain(faulty(&kind, slot)),
    };
    let mut s = lock(shared);
    if let Some(entry) = s.log.get_mut(slot) {
        entry.status = outcome.reply.status().as_u16();
        entry.form = outcome.form;
        entry.refusal = outcome.refusal;
    }
    outcome.reply
}

/// The route of `path` under `base` and, for node groups, the decoded cluster identifier.
fn route_of(base: &str, path: &str) -> (Option<Route>, String) {
    let Some(rest) = path.strip_prefix(base) else {
        return (None, String::new());
    };
    if rest == TOKEN_PATH {
        return (Some(Route::Token), String::new());
    }
    if rest == "/vm" {
        return (Some(Route::Vms), String::new());
    }
    for (prefix, route) in [
        ("/k8s/node/groups/byClusterId/", Route::NodeGroups),
        ("/k8s/cluster/byId/", Route::ClusterInfo),
    ] {
        if let Some(id) = rest.strip_prefix(prefix)
            && !id.is_empty()
            && !id.contains('/')
        {
            return (Some(route), percent_decode(id));
        }
    }
    (None, String::new())
}

/// `%XX` sequences decoded (a path segment: `+` stays `+`); invalid ones kept as sent.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// An answer and what the log keeps of it.
struct Outcome {
    reply: Reply,
    form: Option<Vec<(String, String)>>,
    refusal: Option<String>,
}

impl Outcome {
    fn plain(reply: Reply) -> Self {
        Self {
            reply,
            form: None,
            refusal: None,
        }
    }

    fn refused(reply: Reply, why: &str) -> Self {
        Self {
            reply,
            form: None,
            refusal: Some(why.to_owned()),
        }
    }
}

/// The autoscaler's `ErrorResponse`: `{error, message, code}`.
fn error_response(status: StatusCode, message: &str) -> Reply {
    reply(
        status,
        &json!({"error": status.canonical_reason().unwrap_or("error"), "message": message, "code": status.as_u16()}),
    )
}

fn faulty(kind: &VpsieFaultKind, slot: usize) -> Reply {
    match kind {
        VpsieFaultKind::Unauthorized => error_response(StatusCode::UNAUTHORIZED, "unauthorized"),
        VpsieFaultKind::TooManyRequests { retry_after } => {
            let mut res = error_response(StatusCode::TOO_MANY_REQUESTS, "rate limited");
            if let Ok(v) = header::HeaderValue::from_str(retry_after) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        VpsieFaultKind::ServerError { status, body } => {
            let mut res = Response::new(Either::Left(Full::new(Bytes::from(body.clone()))));
            *res.status_mut() =
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if let Ok(v) = header::HeaderValue::from_str(&format!("vpsie-req-{slot}")) {
                res.headers_mut().insert("x-request-id", v);
            }
            res
        }
        VpsieFaultKind::ErrorEnvelope { code, message } => reply(
            StatusCode::OK,
            &json!({"error": true, "code": code, "message": message, "data": null}),
        ),
        VpsieFaultKind::Oversized { bytes } => {
            let padding = " ".repeat(bytes.saturating_sub(40));
            reply(
                StatusCode::OK,
                &json!({"error": false, "data": [], "padding": padding}),
            )
        }
        VpsieFaultKind::Endless => Response::new(Either::Right(Endless)),
        VpsieFaultKind::Slow { .. } => unreachable!("answered normally after the delay"),
    }
}

fn answer(incoming: &Received, s: &mut Shared) -> Outcome {
    match incoming.route {
        None => Outcome::plain(error_response(StatusCode::NOT_FOUND, "not found")),
        Some(Route::Token) => token(incoming, s),
        Some(route) => {
            if incoming.method != Method::GET {
                return Outcome::plain(error_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "method not allowed",
                ));
            }
            let now = s.now;
            let known = incoming.token.as_ref().is_some_and(|t| {
                s.scenario.static_tokens.contains(t)
                    || s.issued.get(t).is_some_and(|until| now < *until)
            });
            if !known {
                let why = if incoming.token.is_some() {
                    "the token is unknown or expired"
                } else {
                    "no token"
                };
                return Outcome::refused(
                    error_response(StatusCode::UNAUTHORIZED, "invalid or expired token"),
                    why,
                );
            }
            match route {
                Route::Vms => vms(incoming, &s.scenario),
                Route::ClusterInfo => {
                    by_cluster(s.scenario.clusters.get(&incoming.cluster).cloned())
                }
                _ => by_cluster(
                    s.scenario
                        .node_groups
                        .get(&incoming.cluster)
                        .map(|g| Value::Array(g.clone())),
                ),
            }
        }
    }
}

/// The token request, checked field by field.
fn token(incoming: &Received, s: &mut Shared) -> Outcome {
    let form: Vec<(String, String)> = form_urlencoded::parse(&incoming.body)
        .into_owned()
        .collect();
    let checks = [
        (
            incoming.method == Method::POST,
            "the token request is not a POST",
        ),
        (
            incoming
                .content_type
                .split(';')
                .next()
                .is_some_and(|t| t.trim() == "application/x-www-form-urlencoded"),
            "the body is not application/x-www-form-urlencoded",
        ),
        (
            incoming.accept.contains("application/json"),
            "Accept does not name application/json",
        ),
        (
            form.len() == 2
                && form.iter().filter(|(k, _)| k == "clientId").count() == 1
                && form.iter().filter(|(k, _)| k == "clientSecret").count() == 1,
            "the form is not exactly `clientId` and `clientSecret`",
        ),
    ];
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let refusal = checks
        .iter()
        .find(|(ok, _)| !ok)
        .map(|(_, why)| *why)
        .or_else(|| {
            (field("clientId") != Some(s.scenario.client_id.as_str())
                || field("clientSecret") != Some(s.scenario.client_secret.as_str()))
            .then_some("the client id or secret is wrong")
        });
    let mut outcome = if let Some(why) = refusal {
        // As a careless server might: the message repeats the secret it received.
        let message = format!(
            "invalid client credentials: {}",
            field("clientSecret").unwrap_or_default()
        );
        Outcome::refused(error_response(StatusCode::UNAUTHORIZED, &message), why)
    } else {
        Outcome::plain(issue(s))
    };
    outcome.form = Some(form);
    outcome
}

/// A new token, valid for the scenario's lifetime on the fake's clock.
fn issue(s: &mut Shared) -> Reply {
    let n = s.issued.len() + 1;
    let token = format!("vpsie-token-{n}-{:08x}", n.wrapping_mul(0x9e37_79b9));
    let expires = s.now + s.scenario.token_lifetime;
    s.issued.insert(token.clone(), expires);
    let refresh_expires = expires + Duration::from_hours(24);
    let body = json!({
        "error": false,
        "code": 200,
        "message": "ok",
        "accessToken": {"token": token, "expires": rfc3339(expires)},
        "refreshToken": {"token": format!("vpsie-refresh-{n}"), "expires": rfc3339(refresh_expires)},
    });
    reply(StatusCode::OK, &body)
}

/// `at` in RFC 3339 (UTC).
fn rfc3339(at: SystemTime) -> String {
    jiff::Timestamp::try_from(at).map_or_else(|_| "never".to_owned(), |t| t.to_string())
}

/// `GET /vm`: everything (`govpsie`'s shape) or one page (the autoscaler's).
fn vms(incoming: &Received, scenario: &VpsieScenario) -> Outcome {
    let all = &scenario.vms;
    let Some(size) = scenario.page_size.map(|size| size.max(1)) else {
        return Outcome::plain(reply(
            StatusCode::OK,
            &json!({"error": false, "data": all, "total": all.len()}),
        ));
    };
    let page = match incoming.query.get("page").map(|p| p.parse::<usize>()) {
        None => 1,
        Some(Ok(p)) if p >= 1 => p,
        Some(_) => {
            return Outcome::plain(error_response(StatusCode::BAD_REQUEST, "invalid page"));
        }
    };
    let total_pages = all.len().div_ceil(size).max(1);
    let data: Vec<&Value> = all.iter().skip((page - 1) * size).take(size).collect();
    Outcome::plain(reply(
        StatusCode::OK,
        &json!({
            "data": data,
            "pagination": {"total": all.len(), "count": data.len(), "per_page": size,
                "current_page": page, "total_pages": total_pages},
        }),
    ))
}

/// `GET /k8s/node/groups/byClusterId/{id}` and `GET /k8s/cluster/byId/{id}`: `data`, the
/// cluster's, in the envelope; `404` for a cluster the scenario does not know.
fn by_cluster(data: Option<Value>) -> Outcome {
    match data {
        Some(data) => Outcome::plain(reply(
            StatusCode::OK,
            &json!({"error": false, "code": 200, "message": "", "data": data}),
        )),
        None => Outcome::plain(reply(
            StatusCode::NOT_FOUND,
            &json!({"error": true, "code": 404, "message": "cluster not found", "data": null}),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_cluster_identifiers_are_read_under_the_base_path() {
        assert_eq!(route_of("/v2", "/v2/auth/from/api").0, Some(Route::Token));
        assert_eq!(route_of("/apps/v2", "/apps/v2/vm").0, Some(Route::Vms));
        assert_eq!(route_of("/v2", "/apps/v2/vm").0, None);
        assert_eq!(
            route_of("/v2", "/v2/k8s/node/groups/byClusterId/a%2Fb+c%25"),
            (Some(Route::NodeGroups), "a/b+c%".to_owned())
        );
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(DEFAULT_START_SECS)),
            "2026-11-30T12:00:00Z"
        );
    }

    #[test]
    fn a_fault_hits_the_calls_it_names() {
        let f = VpsieFault::new(Route::Vms, VpsieFaultKind::Unauthorized)
            .at_call(2)
            .times(2);
        let hit: Vec<u32> = (1..6).filter(|c| f.hits(Route::Vms, *c)).collect();
        assert_eq!(hit, [2, 3]);
        assert!(!f.hits(Route::Token, 2));
    }
}
