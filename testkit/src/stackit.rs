//! A loopback fake of the STACKIT `IaaS` API and its token endpoint ([`FakeStackit`]), for the
//! cloud client's tests: HTTPS with a test CA (the client trusts it through its CA-bundle
//! parameter) or plain HTTP.
//!
//! It serves:
//!
//! - `POST /token`: the service-account key flow. The form must be
//!   `application/x-www-form-urlencoded` with `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`
//!   and an `assertion`: a JWT whose header says `RS512` and the scenario key's `kid`, whose
//!   RS512 signature verifies with the scenario's public key, whose `iss`, `sub`, `aud` are the
//!   key's, with a `jti` never seen before and `exp` = `iat` + 1 h. A good one gets
//!   `{access_token, expires_in, token_type, scope, refresh_token}`; the token is JWT-shaped
//!   (unsigned) with an `exp` claim, valid for the scenario's lifetime
//!   ([`StackitScenario::token_lifetime`]). A bad one gets `400 invalid_grant`, the reason in
//!   the request log;
//! - `GET /v1/projects/{projectId}/servers` and `GET /v2/projects/{projectId}/regions/{region}/servers`:
//!   the scenario's servers as `{items}`, filtered by `label_selector` (`k=v` terms joined by
//!   `,`; anything else is `400`), without `nics`, `userData` and `serviceAccountMails` unless
//!   `details=true`; `401` without a bearer token the fake issued (and that has not expired) or
//!   a static token of the scenario; `404` for another project or region;
//! - faults by endpoint and count ([`StackitFault`]): `401` (a revoked token), `429` with
//!   `Retry-After`, `5xx` with a body (that may carry secrets) and an `x-request-id`, slow
//!   responses, oversized bodies (with a declared length, or one that never ends), `400` with
//!   a message;
//! - a log of every request ([`StackitRequest`]): method, path, query, whether a bearer token
//!   was sent and which, status, and why a token request was refused.
//!
//! What it does not model: `docs/cloud.md` lists it (no other operation than `ListServers`,
//! no pagination, no label-selector syntax beyond `k=v`, no spec validation — Prism does that
//! — no clock skew, no rate limits beyond injected `429`s, no refresh-token grant).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Either, Full};
use hyper::body::{Bytes, Incoming};
use serde_json::{Value, json};
use tokio_rustls::rustls::pki_types::PrivateKeyDer;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;

use crate::loopback::Loopback;
use crate::reply::{Endless, Reply, reply};

/// The grant type of the key flow.
const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// The path of the token endpoint.
pub const TOKEN_PATH: &str = "/token";

/// An RSA key pair for tests, with the identity a service-account key carries.
#[derive(Debug, Clone)]
pub struct TestKey {
    /// The PKCS#8 PEM private key.
    pub private_pem: &'static str,
    public_der: Vec<u8>,
    pub kid: String,
    pub iss: String,
    pub sub: String,
    pub aud: String,
}

impl TestKey {
    /// The key scenarios trust by default.
    pub fn primary() -> Self {
        Self::new(
            include_str!("../assets/stackit-test-key.pem"),
            "kid-test-1",
            "d1b0c7a2-6f3e-4a8b-9c1d-2e3f4a5b6c7d",
        )
    }

    /// Another key, which scenarios with [`TestKey::primary`] do not trust.
    pub fn other() -> Self {
        Self::new(
            include_str!("../assets/stackit-other-key.pem"),
            "kid-test-2",
            "0a9b8c7d-6e5f-4a3b-8c1d-0e9f8a7b6c5d",
        )
    }

    fn new(private_pem: &'static str, kid: &str, sub: &str) -> Self {
        let der = PrivateKeyDer::from_pem_slice(private_pem.as_bytes()).expect("a test key");
        let PrivateKeyDer::Pkcs8(pkcs8) = der else {
            panic!("test keys are PKCS#8")
        };
        let pair = ring::signature::RsaKeyPair::from_pkcs8(pkcs8.secret_pkcs8_der())
            .expect("an RSA test key");
        let public_der = ring::signature::KeyPair::public_key(&pair)
            .as_ref()
            .to_vec();
        Self {
            private_pem,
            public_der,
            kid: kid.to_owned(),
            iss: format!("sa-{kid}@sa.stackit.cloud"),
            sub: sub.to_owned(),
            aud: "https://stackit-service-account-prod.apps.01.cf.eu01.stackit.cloud".to_owned(),
        }
    }

    /// A service-account key JSON for this key, its private key inline when `inline_private_key`,
    /// naming `token_endpoint`.
    pub fn key_json(&self, token_endpoint: &str, inline_private_key: bool) -> String {
        let mut credentials = json!({
            "kid": self.kid,
            "iss": self.iss,
            "sub": self.sub,
            "aud": self.aud,
            "tokenEndpoint": token_endpoint,
        });
        if inline_private_key {
            credentials["privateKey"] = self.private_pem.into();
        }
        json!({
            "id": "5b1c2f0e-7d3a-4e8b-9f6c-1a2b3c4d5e6f",
            "publicKey": "-----BEGIN PUBLIC KEY-----\n(not used)\n-----END PUBLIC KEY-----",
            "keyType": "USER_MANAGED",
            "keyOrigin": "GENERATED",
            "keyAlgorithm": "RSA_2048",
            "active": true,
            "createdAt": "2026-01-01T00:00:00Z",
            "credentials": credentials,
        })
        .to_string()
    }
}

/// Which endpoint a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Token,
    List,
}

/// What a fault answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StackitFaultKind {
    /// `401` as for a revoked token.
    Unauthorized,
    /// `429` with this `Retry-After` header value (seconds or an HTTP-date).
    TooManyRequests { retry_after: String },
    /// This `5xx` status with this body and an `x-request-id`.
    ServerError {
        status: u16,
        body: String,
        request_id: String,
    },
    /// `400` with `{code: 400, msg}`.
    BadRequest { message: String },
    /// The normal answer, after this delay.
    Slow { delay: Duration },
    /// `200` with a body of this many bytes and its `Content-Length`.
    Oversized { bytes: usize },
    /// `200` with a body that never ends and no `Content-Length`.
    Endless,
    /// The request is processed as normal (a token request's assertion is spent), then
    /// answered with this `5xx`: the answer lost on the way back.
    ProcessedThenLost { status: u16 },
}

/// A fault for the next `times` requests to `endpoint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackitFault {
    pub endpoint: Endpoint,
    pub times: u32,
    pub kind: StackitFaultKind,
}

impl StackitFault {
    pub fn new(endpoint: Endpoint, times: u32, kind: StackitFaultKind) -> Self {
        Self {
            endpoint,
            times,
            kind,
        }
    }
}

/// What a [`FakeStackit`] starts with.
#[derive(Debug, Clone)]
pub struct StackitScenario {
    pub project_id: String,
    pub region: String,
    servers: Vec<Value>,
    key: Option<TestKey>,
    static_tokens: Vec<String>,
    token_lifetime: Duration,
    faults: Vec<StackitFault>,
    latency: Duration,
    tls: bool,
}

impl StackitScenario {
    /// A project in a region with no servers, the [`TestKey::primary`] key trusted, tokens
    /// valid for an hour, served over HTTPS.
    pub fn new(project_id: &str, region: &str) -> Self {
        Self {
            project_id: project_id.to_owned(),
            region: region.to_owned(),
            servers: Vec::new(),
            key: Some(TestKey::primary()),
            static_tokens: Vec::new(),
            token_lifetime: Duration::from_hours(1),
            faults: Vec::new(),
            latency: Duration::ZERO,
            tls: true,
        }
    }

    /// Adds a server (a JSON object as the API returns it with `details=true`).
    #[must_use]
    pub fn server(mut self, server: Value) -> Self {
        self.servers.push(server);
        self
    }

    /// Trusts `key` (instead of the primary key) at the token endpoint.
    #[must_use]
    pub fn key(mut self, key: TestKey) -> Self {
        self.key = Some(key);
        self
    }

    /// Accepts `token` as a bearer token as given.
    #[must_use]
    pub fn static_token(mut self, token: &str) -> Self {
        self.static_tokens.push(token.to_owned());
        self
    }

    /// How long issued tokens are valid.
    #[must_use]
    pub fn token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    /// Injects a fault.
    #[must_use]
    pub fn fault(mut self, fault: StackitFault) -> Self {
        self.faults.push(fault);
        self
    }

    /// A delay before every answer.
    #[must_use]
    pub fn latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Serves plain HTTP instead of HTTPS.
    #[must_use]
    pub fn plain_http(mut self) -> Self {
        self.tls = false;
        self
    }
}

/// One request the fake received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackitRequest {
    pub method: String,
    pub path: String,
    /// Decoded query parameters, sorted.
    pub query: BTreeMap<String, String>,
    /// The bearer token sent, if any.
    pub bearer: Option<String>,
    pub status: u16,
    /// Why a token request was refused (`400 invalid_grant`), or a list request was
    /// unauthorized.
    pub refusal: Option<String>,
}

#[derive(Debug)]
struct Shared {
    scenario: StackitScenario,
    /// Issued tokens and when each stops being valid.
    issued: BTreeMap<String, Instant>,
    seen_jti: BTreeSet<String>,
    log: Vec<StackitRequest>,
    requests: u64,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running fake STACKIT API; stops when dropped.
#[derive(Debug)]
pub struct FakeStackit {
    shared: Arc<Mutex<Shared>>,
    loopback: Loopback,
}

impl FakeStackit {
    /// Starts the fake on `127.0.0.1:0`.
    pub fn start(scenario: StackitScenario) -> std::io::Result<Self> {
        let tls = scenario.tls;
        let shared = Arc::new(Mutex::new(Shared {
            scenario,
            issued: BTreeMap::new(),
            seen_jti: BTreeSet::new(),
            log: Vec::new(),
            requests: 0,
        }));
        let served = Arc::clone(&shared);
        let loopback = Loopback::start(tls, move |req| {
            let shared = Arc::clone(&served);
            async move { Ok::<_, std::convert::Infallible>(handle(req, &shared).await) }
        })?;
        Ok(Self { shared, loopback })
    }

    /// `https://127.0.0.1:<port>` (`http://` with [`StackitScenario::plain_http`]): the API
    /// endpoint.
    pub fn url(&self) -> String {
        self.loopback.url()
    }

    /// The token endpoint's URL.
    pub fn token_url(&self) -> String {
        format!("{}{TOKEN_PATH}", self.loopback.url())
    }

    /// The PEM certificate of the test CA (over HTTPS).
    pub fn ca_pem(&self) -> Option<&str> {
        self.loopback.ca_pem()
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<StackitRequest> {
        lock(&self.shared).log.clone()
    }

    /// The requests to the token endpoint.
    pub fn token_requests(&self) -> Vec<StackitRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path == TOKEN_PATH)
            .collect()
    }

    /// The list requests.
    pub fn list_requests(&self) -> Vec<StackitRequest> {
        self.requests()
            .into_iter()
            .filter(|r| r.path != TOKEN_PATH)
            .collect()
    }

    /// Injects a fault now.
    pub fn inject(&self, fault: StackitFault) {
        lock(&self.shared).scenario.faults.push(fault);
    }

    /// Makes every issued token invalid (the next list request with one gets `401`).
    pub fn expire_tokens(&self) {
        let now = Instant::now();
        for until in lock(&self.shared).issued.values_mut() {
            *until = now;
        }
    }
}

/// The request's parts the fake looks at.
struct Received {
    method: Method,
    path: String,
    query: BTreeMap<String, String>,
    bearer: Option<String>,
    content_type: String,
    body: Bytes,
}

async fn handle(req: Request<Incoming>, shared: &Mutex<Shared>) -> Reply {
    let (parts, body) = req.into_parts();
    let header_text = |name: header::HeaderName| {
        parts
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    let bearer = header_text(header::AUTHORIZATION)
        .strip_prefix("Bearer ")
        .map(str::to_owned);
    let incoming = Received {
        method: parts.method.clone(),
        path: parts.uri.path().to_owned(),
        query: form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect(),
        bearer,
        content_type: header_text(header::CONTENT_TYPE),
        body: body
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            .unwrap_or_default(),
    };
    let endpoint = if incoming.path == TOKEN_PATH {
        Endpoint::Token
    } else {
        Endpoint::List
    };
    let (fault, latency, slot) = {
        let mut s = lock(shared);
        s.requests += 1;
        let fault = take_fault(&mut s.scenario.faults, endpoint);
        s.log.push(StackitRequest {
            method: incoming.method.to_string(),
            path: incoming.path.clone(),
            query: incoming.query.clone(),
            bearer: incoming.bearer.clone(),
            status: 0,
            refusal: None,
        });
        (fault, s.scenario.latency, s.log.len() - 1)
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let (res, refusal) = match fault {
        Some(StackitFaultKind::Slow { delay }) => {
            tokio::time::sleep(delay).await;
            answer(&incoming, endpoint, shared)
        }
        Some(StackitFaultKind::ProcessedThenLost { status }) => {
            let (_, refusal) = answer(&incoming, endpoint, shared);
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_GATEWAY);
            (error(status, "the answer was lost"), refusal)
        }
        Some(kind) => (faulty(&kind, slot), None),
        None => answer(&incoming, endpoint, shared),
    };
    let mut s = lock(shared);
    if let Some(entry) = s.log.get_mut(slot) {
        entry.status = res.status().as_u16();
        entry.refusal = refusal;
    }
    res
}

fn take_fault(faults: &mut Vec<StackitFault>, endpoint: Endpoint) -> Option<StackitFaultKind> {
    let i = faults
        .iter()
        .position(|f| f.endpoint == endpoint && f.times > 0)?;
    faults[i].times -= 1;
    let kind = faults[i].kind.clone();
    if faults[i].times == 0 {
        faults.remove(i);
    }
    Some(kind)
}

fn faulty(kind: &StackitFaultKind, slot: usize) -> Reply {
    match kind {
        StackitFaultKind::Unauthorized => error(StatusCode::UNAUTHORIZED, "unauthorized"),
        StackitFaultKind::TooManyRequests { retry_after } => {
            let mut res = error(StatusCode::TOO_MANY_REQUESTS, "too many requests");
            if let Ok(v) = header::HeaderValue::from_str(retry_after) {
                res.headers_mut().insert(header::RETRY_AFTER, v);
            }
            res
        }
        StackitFaultKind::ServerError {
            status,
            body,
            request_id,
        } => {
            let mut res = Response::new(Either::Left(Full::new(Bytes::from(body.clone()))));
            *res.status_mut() =
                StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            if let Ok(v) = header::HeaderValue::from_str(request_id) {
                res.headers_mut().insert("x-request-id", v);
            }
            res
        }
        StackitFaultKind::BadRequest { message } => error(StatusCode::BAD_REQUEST, message),
        StackitFaultKind::Oversized { bytes } => {
            let mut body = format!("{{\"items\": [], \"padding{slot}\": \"");
            body.push_str(&" ".repeat(bytes.saturating_sub(body.len() + 2)));
            body.push_str("\"}");
            Response::new(Either::Left(Full::new(Bytes::from(body))))
        }
        StackitFaultKind::Endless => Response::new(Either::Right(Endless)),
        StackitFaultKind::Slow { .. } | StackitFaultKind::ProcessedThenLost { .. } => {
            unreachable!("answered after the request was processed")
        }
    }
}

/// `{code, msg}` as the `IaaS` API answers errors.
fn error(status: StatusCode, message: &str) -> Reply {
    reply(status, &json!({"code": status.as_u16(), "msg": message}))
}

fn answer(
    incoming: &Received,
    endpoint: Endpoint,
    shared: &Mutex<Shared>,
) -> (Reply, Option<String>) {
    match endpoint {
        Endpoint::Token => token(incoming, &mut lock(shared)),
        Endpoint::List => list(incoming, &lock(shared)),
    }
}

/// The token endpoint.
fn token(incoming: &Received, s: &mut Shared) -> (Reply, Option<String>) {
    let refuse = |why: &str| {
        (
            reply(
                StatusCode::BAD_REQUEST,
                &json!({"error": "invalid_grant", "error_description": why}),
            ),
            Some(why.to_owned()),
        )
    };
    if incoming.method != Method::POST {
        return refuse("the token endpoint takes POST");
    }
    if !incoming
        .content_type
        .starts_with("application/x-www-form-urlencoded")
    {
        return refuse("the body is not application/x-www-form-urlencoded");
    }
    let form: BTreeMap<String, String> = form_urlencoded::parse(&incoming.body)
        .into_owned()
        .collect();
    if form.get("grant_type").map(String::as_str) != Some(JWT_BEARER_GRANT) {
        return refuse("grant_type is not the JWT bearer grant");
    }
    let Some(assertion) = form.get("assertion") else {
        return refuse("no assertion");
    };
    let Some(key) = s.scenario.key.clone() else {
        return refuse("no key is trusted");
    };
    let claims = match verify_assertion(assertion, &key) {
        Ok(claims) => claims,
        Err(why) => return refuse(&why),
    };
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if jti.is_empty() || !s.seen_jti.insert(jti) {
        return refuse("jti is missing or was used before");
    }
    let lifetime = s.scenario.token_lifetime;
    let exp = SystemTime::now()
        .checked_add(lifetime)
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_secs());
    let n = s.issued.len() + 1;
    let token = format!(
        "{}.{}.fake-signature-{n}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(json!({"sub": key.sub, "exp": exp, "n": n}).to_string())
    );
    s.issued.insert(token.clone(), Instant::now() + lifetime);
    let body = json!({
        "access_token": token,
        "expires_in": lifetime.as_secs(),
        "refresh_token": format!("refresh-{n}"),
        "scope": "",
        "token_type": "Bearer",
    });
    (reply(StatusCode::OK, &body), None)
}

/// The claims of `assertion` when it is an RS512 JWT signed by `key` with its identity and a
/// one-hour lifetime.
fn verify_assertion(assertion: &str, key: &TestKey) -> Result<Value, String> {
    let parts: Vec<&str> = assertion.split('.').collect();
    let [header, claims, signature] = parts.as_slice() else {
        return Err("the assertion is not a JWT".to_owned());
    };
    let decode = |part: &str| -> Result<Value, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "a JWT part is not base64url".to_owned())?;
        serde_json::from_slice(&bytes).map_err(|_| "a JWT part is not JSON".to_owned())
    };
    let header = decode(header)?;
    if header.get("alg").and_then(Value::as_str) != Some("RS512") {
        return Err("alg is not RS512".to_owned());
    }
    if header.get("kid").and_then(Value::as_str) != Some(key.kid.as_str()) {
        return Err("kid is not the key's".to_owned());
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| "the signature is not base64url".to_owned())?;
    let signing_input = &assertion[..assertion.rfind('.').unwrap_or(0)];
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA512,
        &key.public_der,
    )
    .verify(signing_input.as_bytes(), &signature)
    .map_err(|_| "the signature does not verify with the key".to_owned())?;
    let claims = decode(claims)?;
    for (name, want) in [("iss", &key.iss), ("sub", &key.sub), ("aud", &key.aud)] {
        if claims.get(name).and_then(Value::as_str) != Some(want.as_str()) {
            return Err(format!("{name} is not the key's"));
        }
    }
    let iat = claims.get("iat").and_then(Value::as_u64);
    let exp = claims.get("exp").and_then(Value::as_u64);
    match (iat, exp) {
        (Some(iat), Some(exp)) if exp == iat + 3600 => Ok(claims),
        _ => Err("iat and exp are not an hour apart".to_owned()),
    }
}

/// The list endpoints.
fn list(incoming: &Received, s: &Shared) -> (Reply, Option<String>) {
    if incoming.method != Method::GET {
        return (
            error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed"),
            None,
        );
    }
    let segments: Vec<&str> = incoming.path.trim_matches('/').split('/').collect();
    let scenario = &s.scenario;
    let found = match segments.as_slice() {
        ["v1", "projects", project, "servers"] => *project == scenario.project_id,
        ["v2", "projects", project, "regions", region, "servers"] => {
            *project == scenario.project_id && *region == scenario.region
        }
        _ => return (error(StatusCode::NOT_FOUND, "not found"), None),
    };
    let authorized = incoming.bearer.as_ref().is_some_and(|t| {
        scenario.static_tokens.contains(t)
            || s.issued.get(t).is_some_and(|until| Instant::now() < *until)
    });
    if !authorized {
        let why = if incoming.bearer.is_some() {
            "the bearer token is unknown or expired"
        } else {
            "no bearer token"
        };
        return (
            error(StatusCode::UNAUTHORIZED, "unauthorized"),
            Some(why.to_owned()),
        );
    }
    if !found {
        return (error(StatusCode::NOT_FOUND, "project not found"), None);
    }
    let mut terms = Vec::new();
    if let Some(selector) = incoming.query.get("label_selector") {
        for term in selector.split(',') {
            match term.split_once('=') {
                Some((k, v)) if !k.is_empty() && !v.contains('=') => terms.push((k, v)),
                _ => {
                    return (
                        error(StatusCode::BAD_REQUEST, "invalid label selector"),
                        None,
                    );
                }
            }
        }
    }
    let details = incoming.query.get("details").map(String::as_str) == Some("true");
    let items: Vec<Value> = scenario
        .servers
        .iter()
        .filter(|server| {
            terms.iter().all(|(k, v)| {
                server
                    .get("labels")
                    .and_then(|l| l.get(*k))
                    .and_then(Value::as_str)
                    == Some(*v)
            })
        })
        .map(|server| {
            let mut server = server.clone();
            if !details && let Some(map) = server.as_object_mut() {
                for field in ["nics", "userData", "serviceAccountMails"] {
                    map.remove(field);
                }
            }
            server
        })
        .collect();
    let mut res = reply(StatusCode::OK, &json!({"items": items}));
    if let Ok(v) = header::HeaderValue::from_str(&format!("req-{}", s.requests)) {
        res.headers_mut().insert("x-request-id", v);
    }
    (res, None)
}
