//! The HTTP layer every cloud client shares ([`HttpClient`]): reqwest over rustls ([`crate::tls`]),
//! `https` only (plain `http` only to a loopback host, behind
//! [`HttpConfig::allow_http_loopback`]), no redirects followed, no proxy unless one is
//! configured, the retry loop and deadline of `plinth-retry`, bounded bodies, and errors that
//! name the request and never a credential.
//!
//! A response is sorted by status: `2xx` is read (bounded) and handed back; `429` and `5xx`
//! are retried and their bodies never read; any other status ends the call with
//! [`CloudError::Status`], carrying the server's message (from a bounded read) passed through
//! the redaction policy.

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use plinth_retry::{Attempt, Deadline, Failure, RetryPolicy, TransportError};
use plinth_vocab::Redactor;
use reqwest::Url;

use crate::error::CloudError;
use crate::secret::Secret;
use crate::tls::{self, CaBundle};

/// The default limit on one attempt.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default number of retries after the first attempt.
pub const DEFAULT_RETRIES: u32 = 3;
/// The default limit on a response body.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// How much of an error response (`4xx`) is read for its message.
const MAX_ERROR_BODY_BYTES: u64 = 64 * 1024;
/// How much of a server's error message an error keeps.
const MAX_DETAIL_CHARS: usize = 300;
/// Headers a request id is read from, in order.
const REQUEST_ID_HEADERS: [&str; 3] = ["x-request-id", "x-trace-id", "x-correlation-id"];

/// How a client talks HTTP: retries and timeouts, trust, limits.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// Attempts, backoff and the limit on one attempt (default: 3 retries, 30 s).
    pub policy: RetryPolicy,
    /// Certificate authorities to trust besides the system's.
    pub ca_bundle: Option<CaBundle>,
    /// Whether the system's roots are trusted (default `true`; tests that must trust only
    /// their own CA turn it off).
    pub system_roots: bool,
    /// Allows plain `http` to a loopback host (tests); every other host still needs `https`.
    pub allow_http_loopback: bool,
    /// The limit on a response body, in bytes.
    pub max_body_bytes: u64,
    /// A proxy for every request (`https://` or `http://` URL; it may carry credentials, which
    /// no error repeats). None: direct connections; the environment is never read.
    pub proxy: Option<Secret>,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            policy: RetryPolicy::new(DEFAULT_RETRIES, DEFAULT_TIMEOUT),
            ca_bundle: None,
            system_roots: true,
            allow_http_loopback: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            proxy: None,
        }
    }
}

impl HttpConfig {
    /// This configuration with `timeout` as the limit on one attempt.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.policy.timeout = timeout;
        self
    }

    /// `text` as a URL a client with this configuration may call, for the setting `field`: `https`, or `http` to a
    /// loopback host when allowed; no user, password, query or fragment. The message quotes
    /// the URL only when it is one of those it accepts.
    pub fn check_url(&self, field: &str, text: &str) -> Result<Url, CloudError> {
        let url = Url::parse(text).map_err(|_| CloudError::config(field, "is not a valid URL"))?;
        self.check_parsed(field, &url)?;
        Ok(url)
    }

    fn check_parsed(&self, field: &str, url: &Url) -> Result<(), CloudError> {
        if !url.username().is_empty() || url.password().is_some() {
            return Err(CloudError::config(
                field,
                "must not carry a user or password",
            ));
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(CloudError::config(
                field,
                "must not carry a query or fragment",
            ));
        }
        match url.scheme() {
            "https" => Ok(()),
            "http" if !self.allow_http_loopback => Err(CloudError::config(
                field,
                "must be an `https://` URL (plain `http` is allowed only to a loopback host in tests)",
            )),
            "http" if is_loopback(url) => Ok(()),
            "http" => Err(CloudError::config(
                field,
                "may use plain `http` only to a loopback host",
            )),
            _ => Err(CloudError::config(field, "must be an `https://` URL")),
        }
    }
}

/// One request: what is sent, and what errors call it.
#[derive(Debug, Clone)]
pub struct Call<'a> {
    pub method: Method,
    pub url: Url,
    /// The API's name for the operation (`ListServers`, `token exchange`): errors say it.
    pub operation: &'a str,
    /// Query parameters, URL-encoded when sent; errors never repeat them.
    pub query: Vec<(&'a str, String)>,
    /// Sent as `Authorization: Bearer <token>`.
    pub bearer: Option<&'a Secret>,
    /// An `application/x-www-form-urlencoded` body, already encoded.
    pub form: Option<&'a Secret>,
    /// An `application/x-www-form-urlencoded` body made anew for every attempt (wins over
    /// `form`): a token request's assertion carries a one-time `jti`, which a retry must not
    /// send again.
    pub form_each: Option<EachAttempt<'a>>,
}

/// A body made anew for every attempt of a [`Call`]; its `Debug` shows nothing of it.
#[derive(Clone, Copy)]
pub struct EachAttempt<'a>(pub &'a (dyn Fn() -> Secret + Sync));

impl std::fmt::Debug for EachAttempt<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EachAttempt(<redacted>)")
    }
}

impl<'a> Call<'a> {
    /// `method` at `url`, called `operation`: no query, token or body yet (set the fields).
    pub fn new(method: Method, url: Url, operation: &'a str) -> Self {
        Self {
            method,
            url,
            operation,
            query: Vec::new(),
            bearer: None,
            form: None,
            form_each: None,
        }
    }

    /// `` `GET` `ListServers` at `host:port` ``: the request as errors name it, without its
    /// path, query or headers.
    pub fn describe(&self) -> String {
        let host = self.url.host_str().unwrap_or("?");
        match self.url.port() {
            Some(port) => format!("`{}` `{}` at `{host}:{port}`", self.method, self.operation),
            None => format!("`{}` `{}` at `{host}`", self.method, self.operation),
        }
    }
}

/// Where a [`Call`]'s token (`bearer`) goes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum TokenHeader {
    /// `Authorization: Bearer <token>`.
    #[default]
    Bearer,
    /// `<name>: <token>`: the raw token under an API's own header (VPSie's `Vpsie-Auth`).
    Raw(HeaderName),
}

/// A successful (`2xx`) response, its body read in full within the limit. Its `Debug` shows
/// the status, the header names and the body's length, never the body (a token response
/// holds the access token).
#[derive(Clone)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field(
                "headers",
                &self
                    .headers
                    .keys()
                    .map(HeaderName::as_str)
                    .collect::<Vec<_>>(),
            )
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// The shared HTTP client; cheap to clone.
#[derive(Debug, Clone)]
pub struct HttpClient {
    client: reqwest::Client,
    config: HttpConfig,
}

impl HttpClient {
    /// A client with `config`: TLS settings built once, the proxy checked.
    pub fn new(config: HttpConfig) -> Result<Self, CloudError> {
        if config.policy.timeout.is_zero() {
            return Err(CloudError::config("`timeout`", "must be more than zero"));
        }
        if config.max_body_bytes == 0 {
            return Err(CloudError::config(
                "the response body limit",
                "must be more than zero",
            ));
        }
        let tls = tls::client_config(
            config.ca_bundle.as_ref(),
            config.system_roots,
            config.allow_http_loopback,
        )?;
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured(tls)
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!config.allow_http_loopback)
            .user_agent(concat!("plinth/", env!("CARGO_PKG_VERSION")));
        builder = match &config.proxy {
            Some(proxy) => builder.proxy(
                reqwest::Proxy::all(proxy.expose())
                    .map_err(|_| CloudError::config("`proxy`", "is not a valid proxy URL"))?,
            ),
            None => builder.no_proxy(),
        };
        let client = builder
            .build()
            .map_err(|_| CloudError::config("the HTTP client", "could not be set up"))?;
        Ok(Self { client, config })
    }

    /// The configuration this client was built with.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    /// `text` as a URL this client may call (see [`HttpConfig::check_url`]).
    pub fn check_url(&self, field: &str, text: &str) -> Result<Url, CloudError> {
        self.config.check_url(field, text)
    }

    /// Sends `call` with the retry policy within `deadline` and returns the first `2xx`
    /// response; any other outcome is a [`CloudError`] naming the call.
    pub async fn send(&self, call: &Call<'_>, deadline: Deadline) -> Result<Reply, CloudError> {
        self.send_as(call, &TokenHeader::Bearer, deadline).await
    }

    /// [`HttpClient::send`] with the call's token under `token_header`.
    pub async fn send_as(
        &self,
        call: &Call<'_>,
        token_header: &TokenHeader,
        deadline: Deadline,
    ) -> Result<Reply, CloudError> {
        let request = call.describe();
        self.config
            .check_parsed(&format!("the URL of {request}"), &call.url)?;
        // A bearer token that is not a valid header value is refused, never dropped: the
        // request would go out unauthenticated.
        let authorization = match call.bearer {
            Some(token) => {
                let (name, value) = match token_header {
                    TokenHeader::Bearer => {
                        (header::AUTHORIZATION, format!("Bearer {}", token.expose()))
                    }
                    TokenHeader::Raw(name) => (name.clone(), token.expose().to_owned()),
                };
                let value = HeaderValue::try_from(value).map_err(|_| {
                    CloudError::config(
                        &format!("the bearer token of {request}"),
                        "is not a valid HTTP header value",
                    )
                })?;
                Some((name, value))
            }
            None => None,
        };
        let last_request_id: Mutex<Option<String>> = Mutex::new(None);
        let result = plinth_retry::run_within(&self.config.policy, deadline, &request, || {
            let builder = self.request(call, authorization.clone());
            let request = &request;
            let last_request_id = &last_request_id;
            async move {
                let response = match builder.send().await {
                    Ok(response) => response,
                    Err(err) => return transport_failure(err),
                };
                let status = response.status();
                let request_id = request_id(response.headers());
                if plinth_retry::is_retryable(status) {
                    // The body of a 5xx is never read: it may hold anything.
                    *last_request_id
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner) = request_id;
                    return Attempt::Status {
                        status,
                        retry_after: plinth_retry::retry_after(response.headers()),
                    };
                }
                if status.is_success() {
                    let headers = response.headers().clone();
                    let limit = self.config.max_body_bytes;
                    return match read_bounded(response, limit).await {
                        Ok(Some(body)) => Attempt::Done(Reply {
                            status,
                            headers,
                            body,
                        }),
                        Ok(None) => Attempt::Fatal(CloudError::TooLarge {
                            request: request.clone(),
                            limit,
                        }),
                        Err(err) => transport_failure(err),
                    };
                }
                let detail = match read_bounded(response, MAX_ERROR_BODY_BYTES).await {
                    Ok(Some(body)) => error_detail(&body),
                    _ => None,
                };
                Attempt::Fatal(CloudError::Status {
                    request: request.clone(),
                    status,
                    request_id,
                    detail,
                })
            }
        })
        .await;
        result.map_err(|err| {
            CloudError::from_retry(
                err,
                last_request_id
                    .into_inner()
                    .unwrap_or_else(PoisonError::into_inner),
            )
        })
    }

    fn request(
        &self,
        call: &Call<'_>,
        authorization: Option<(HeaderName, HeaderValue)>,
    ) -> reqwest::RequestBuilder {
        let mut builder = self
            .client
            .request(call.method.clone(), call.url.clone())
            .header(header::ACCEPT, "application/json");
        if !call.query.is_empty() {
            builder = builder.query(&call.query);
        }
        if let Some((name, mut value)) = authorization {
            value.set_sensitive(true);
            builder = builder.header(name, value);
        }
        let fresh = call.form_each.map(|make| (make.0)());
        if let Some(form) = fresh.as_ref().or(call.form) {
            builder = builder
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(form.expose().to_owned());
        }
        builder
    }
}

/// Whether `url`'s host is a loopback address or `localhost`.
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// A reqwest error before a response, classified for the retry loop; the URL (and so the
/// query) is taken out of it.
fn transport_failure<T>(err: reqwest::Error) -> Attempt<T, CloudError> {
    let failure = if tls::certificate_rejected(&err) {
        Failure::CertificateRejected
    } else if err.is_builder() {
        Failure::Unsendable
    } else {
        Failure::Connection
    };
    Attempt::Transport(TransportError {
        failure,
        source: Box::new(err.without_url()),
    })
}

/// The body of `response`, read chunk by chunk; `None` as soon as it passes `limit` bytes (a
/// declared length over the limit ends it before anything is read). Nothing is allocated from
/// the declared length.
async fn read_bounded(
    mut response: reqwest::Response,
    limit: u64,
) -> Result<Option<Vec<u8>>, reqwest::Error> {
    if response.content_length().is_some_and(|len| len > limit) {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if (body.len() as u64).saturating_add(chunk.len() as u64) > limit {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}

/// A request id the server sent, when it is one: short, of id characters only, and not
/// shaped like a credential.
fn request_id(headers: &HeaderMap) -> Option<String> {
    REQUEST_ID_HEADERS.iter().find_map(|name| {
        let value = headers.get(*name)?.to_str().ok()?.trim();
        let plain = !value.is_empty()
            && value.len() <= 128
            && value
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
        (plain && !Redactor::looks_secret(value)).then(|| value.to_owned())
    })
}

/// The message of an error body (`{code, msg}` as STACKIT sends, `message`, OAuth's
/// `error_description`/`error`, or the text itself): one line, shortened, redacted.
fn error_detail(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let message = match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(value) => ["msg", "message", "error_description", "error"]
            .iter()
            .find_map(|k| value.get(*k).and_then(serde_json::Value::as_str))
            .map(str::to_owned)?,
        Err(_) => text.into_owned(),
    };
    let line: String = message
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let line = line.trim();
    if line.is_empty() {
        return None;
    }
    // Redacted whole first, then shortened: a secret cut in two would be a fragment no rule
    // recognises.
    let line = Redactor::shared().redact_text(line);
    if line.chars().count() <= MAX_DETAIL_CHARS {
        return Some(line);
    }
    Some(line.chars().take(MAX_DETAIL_CHARS).chain(['…']).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(allow_http_loopback: bool) -> HttpClient {
        HttpClient::new(HttpConfig {
            allow_http_loopback,
            ..HttpConfig::default()
        })
        .unwrap()
    }

    #[test]
    fn plain_http_is_refused_without_the_loopback_flag() {
        let err = client(false)
            .check_url("`endpoint`", "http://127.0.0.1:8080")
            .unwrap_err();
        assert!(
            err.to_string().contains("must be an `https://` URL"),
            "{err}"
        );
    }

    #[test]
    fn the_loopback_flag_allows_plain_http_to_loopback_hosts_only() {
        let c = client(true);
        for ok in ["http://127.0.0.1:1", "http://[::1]:1", "http://localhost:1"] {
            c.check_url("`endpoint`", ok).unwrap();
        }
        let err = c
            .check_url("`endpoint`", "http://iaas.example.invalid")
            .unwrap_err();
        assert!(err.to_string().contains("only to a loopback host"), "{err}");
    }

    #[test]
    fn urls_with_credentials_or_queries_are_refused_without_quoting_them() {
        let c = client(false);
        for bad in [
            "https://user:s3cr3t-pass@iaas.example.invalid",
            "https://iaas.example.invalid/?token=s3cr3t-pass",
            "ftp://iaas.example.invalid",
        ] {
            let err = c.check_url("`endpoint`", bad).unwrap_err().to_string();
            assert!(!err.contains("s3cr3t"), "{err}");
            assert!(
                err.starts_with("cloud configuration: `endpoint` must"),
                "{err}"
            );
        }
    }

    #[test]
    fn a_request_id_is_kept_only_when_it_is_plainly_an_id() {
        let mut h = HeaderMap::new();
        h.insert("x-request-id", HeaderValue::from_static("req-1234.abcd"));
        assert_eq!(request_id(&h).as_deref(), Some("req-1234.abcd"));
        h.insert("x-request-id", HeaderValue::from_static("a b c"));
        assert_eq!(request_id(&h), None);
        h.insert(
            "x-request-id",
            HeaderValue::from_static("ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"),
        );
        assert_eq!(request_id(&h), None);
    }

    #[test]
    fn an_error_message_is_taken_from_the_body_shortened_and_redacted() {
        assert_eq!(
            error_detail(br#"{"code":404,"msg":"Project not found"}"#).as_deref(),
            Some("Project not found")
        );
        let leaked = error_detail(
            br#"{"error":"invalid_grant","error_description":"bad assertion Bearer eyJhbGciOiJSUzUxMiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXNlY3JldA"}"#,
        )
        .unwrap();
        assert!(!leaked.contains("c2lnbmF0dXJlLXNlY3JldA"), "{leaked}");
        let long = "x".repeat(1000);
        assert_eq!(
            error_detail(long.as_bytes()).unwrap().chars().count(),
            MAX_DETAIL_CHARS + 1
        );
        assert_eq!(error_detail(b"  \n "), None);
        // A secret across the cut is redacted whole, before the message is shortened.
        let token = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5";
        for at in 270..MAX_DETAIL_CHARS {
            let body = format!(r#"{{"code":400,"msg":"{} {token}"}}"#, "x".repeat(at));
            let shown = error_detail(body.as_bytes()).unwrap();
            assert!(!shown.contains("ghp_aB3dE5"), "at {at}: {shown}");
        }
    }
}
