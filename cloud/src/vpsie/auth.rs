//! VPSie authentication: [`Credentials`] (a client id and secret, or a pre-issued token),
//! [`AuthHeader`] (how the token is sent) and the token source that caches it.
//!
//! With a client id and secret, a token comes from `POST {base}/auth/from/api` with the form
//! `clientId=..&clientSecret=..` (`application/x-www-form-urlencoded`, every reserved
//! character percent-encoded, so a secret holding `&`, `=`, `+` or `%` arrives intact and adds
//! no field). The answer's `accessToken.token` is used until 5 minutes before
//! `accessToken.expires` (RFC 3339; absent or unreadable: an hour from the token request).
//! One token request at a time: callers that find the cache stale wait for the one in flight
//! and share its token. Errors of the token request carry the HTTP status or the envelope's
//! `code`, never the answer's `message`, the form or the token.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use http::{HeaderName, Method};
use plinth_retry::Deadline;
use reqwest::Url;
use serde_json::Value;

use crate::clock::Clock;
use crate::error::CloudError;
use crate::http::{Call, HttpClient, TokenHeader};
use crate::secret::Secret;
use crate::token::{Cached, TokenCache};

/// How long before its expiry a cached token is replaced (the autoscaler's
/// `DefaultTokenRefreshBuffer`).
pub const TOKEN_REFRESH_BUFFER: Duration = Duration::from_mins(5);
/// How long a token is assumed valid when its answer gives no readable expiry.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_hours(1);
/// The token endpoint, relative to the base URL.
pub const TOKEN_PATH: [&str; 3] = ["auth", "from", "api"];
/// What errors call the token request.
pub(crate) const TOKEN_OPERATION: &str = "token request";
/// Where errors say the credentials come from.
const ORIGIN: &str = "VPSie";

/// How the client sends its token on API calls.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum AuthHeader {
    /// `Authorization: Bearer <token>` (the autoscaler's form).
    #[default]
    Bearer,
    /// `Vpsie-Auth: <token>` (the form `govpsie`'s callers use).
    VpsieAuth,
}

impl AuthHeader {
    /// `bearer`, `vpsie-auth`: the names [`AuthHeader::from_str`](std::str::FromStr) reads.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
            Self::VpsieAuth => "vpsie-auth",
        }
    }

    pub(crate) fn token_header(self) -> TokenHeader {
        match self {
            Self::Bearer => TokenHeader::Bearer,
            Self::VpsieAuth => TokenHeader::Raw(HeaderName::from_static("vpsie-auth")),
        }
    }
}

impl std::str::FromStr for AuthHeader {
    type Err = CloudError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "bearer" => Ok(Self::Bearer),
            "vpsie-auth" => Ok(Self::VpsieAuth),
            _ => Err(CloudError::config(
                "`authHeader`",
                "must be `bearer` or `vpsie-auth`",
            )),
        }
    }
}

/// How the client authenticates; `Debug` shows no secret.
#[derive(Debug, Clone)]
pub enum Credentials {
    /// A client id and secret (the autoscaler Secret's `clientId` and `clientSecret`),
    /// exchanged for tokens.
    Client {
        client_id: Secret,
        client_secret: Secret,
    },
    /// A pre-issued token (the Secret's `token`), used as given and never expiring.
    Token(Secret),
}

impl Credentials {
    /// A client id and secret.
    pub fn client(client_id: Secret, client_secret: Secret) -> Self {
        Self::Client {
            client_id,
            client_secret,
        }
    }

    /// A pre-issued token.
    pub fn token(token: Secret) -> Self {
        Self::Token(token)
    }

    /// The token source of these credentials, the token endpoint under `base`. Empty values
    /// and a token that cannot be a header value are refused, naming the field only.
    pub(crate) fn into_source(
        self,
        base: &Url,
        clock: Arc<dyn Clock>,
    ) -> Result<TokenSource, CloudError> {
        let (client_id, client_secret) = match self {
            Self::Token(token) => {
                let trimmed = token.expose().trim();
                return if sendable(trimmed) {
                    Ok(TokenSource::Static(Secret::new(trimmed)))
                } else {
                    Err(unusable(
                        "token",
                        "is empty or holds characters a token cannot have (spaces, control or non-ASCII)",
                    ))
                };
            }
            Self::Client {
                client_id,
                client_secret,
            } => (client_id, client_secret),
        };
        if client_id.expose().trim().is_empty() {
            return Err(unusable("clientId", "is empty"));
        }
        if client_secret.expose().is_empty() {
            return Err(unusable("clientSecret", "is empty"));
        }
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("clientId", client_id.expose().trim())
            .append_pair("clientSecret", client_secret.expose())
            .finish();
        Ok(TokenSource::Requested {
            form: Secret::new(form),
            url: super::join(base, &TOKEN_PATH),
            cache: TokenCache::new(clock),
            requests: AtomicU64::new(0),
        })
    }
}

/// A credentials error naming `field`, never its value.
fn unusable(field: &str, message: &str) -> CloudError {
    CloudError::Credentials {
        origin: ORIGIN.to_owned(),
        field: field.to_owned(),
        message: message.to_owned(),
    }
}

/// Whether `token` can be sent as a header value as it is (visible ASCII only).
fn sendable(token: &str) -> bool {
    !token.is_empty() && token.bytes().all(|b| b.is_ascii_graphic())
}

/// The source of API tokens: the pre-issued token, or the token request with its cache.
#[derive(Debug)]
pub(crate) enum TokenSource {
    Static(Secret),
    /// The encoded form of the token request, where it goes, the cache, and how many token
    /// requests were sent (retries of one request not counted).
    Requested {
        form: Secret,
        url: Url,
        cache: TokenCache,
        requests: AtomicU64,
    },
}

impl TokenSource {
    /// Whether a fresh token can replace a refused one.
    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self, Self::Requested { .. })
    }

    /// How many token requests were sent.
    pub(crate) fn requests_made(&self) -> u64 {
        match self {
            Self::Static(_) => 0,
            Self::Requested { requests, .. } => requests.load(Ordering::Relaxed),
        }
    }

    /// The token for the next call: the cached one until 5 minutes before it expires, else a
    /// new one (one request however many callers ask at once).
    pub(crate) async fn token(
        &self,
        http: &HttpClient,
        deadline: Deadline,
    ) -> Result<Secret, CloudError> {
        match self {
            Self::Static(token) => Ok(token.clone()),
            Self::Requested {
                form,
                url,
                cache,
                requests,
            } => {
                let request = |now| {
                    requests.fetch_add(1, Ordering::Relaxed);
                    fetch(http, form, url, now, deadline)
                };
                cache.token(request).await
            }
        }
    }

    /// Drops `refused` (the token a `401` answered) unless a newer one replaced it already.
    pub(crate) async fn forget(&self, refused: &Secret) {
        if let Self::Requested { cache, .. } = self {
            cache.forget(refused).await;
        }
    }
}

/// One token request at `now`.
async fn fetch(
    http: &HttpClient,
    form: &Secret,
    url: &Url,
    now: SystemTime,
    deadline: Deadline,
) -> Result<Cached, CloudError> {
    let call = Call {
        form: Some(form),
        ..Call::new(Method::POST, url.clone(), TOKEN_OPERATION)
    };
    let reply = http
        .send(&call, deadline)
        .await
        .map_err(super::without_detail)?;
    let (token, expires) = read_token(&call.describe(), &reply.body)?;
    let expires = expires.unwrap_or_else(|| now + DEFAULT_TOKEN_LIFETIME);
    Ok(Cached {
        token,
        refresh_at: Some(expires.checked_sub(TOKEN_REFRESH_BUFFER).unwrap_or(expires)),
    })
}

/// The token and its expiry (None when absent or not RFC 3339) of a token answer; `error:
/// true` or a missing, empty or unsendable token is an error carrying the `code` only.
fn read_token(request: &str, body: &[u8]) -> Result<(Secret, Option<SystemTime>), CloudError> {
    let body: Value =
        serde_json::from_slice(body).map_err(|e| CloudError::decode_json(request, &e))?;
    if body.get("error").and_then(Value::as_bool) == Some(true) {
        return Err(CloudError::Refused {
            request: request.to_owned(),
            code: body.get("code").and_then(Value::as_i64),
        });
    }
    let access = body.get("accessToken");
    let token = match access.and_then(|a| a.get("token")).and_then(Value::as_str) {
        Some(t) if sendable(t) => Secret::new(t),
        _ => {
            return Err(CloudError::Decode {
                request: request.to_owned(),
                message: "`accessToken.token` is missing, empty or not a usable token".to_owned(),
            });
        }
    };
    let expires = access
        .and_then(|a| a.get("expires"))
        .and_then(Value::as_str)
        .and_then(|t| t.trim().parse::<jiff::Timestamp>().ok())
        .map(SystemTime::from);
    Ok((token, expires))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_answer_is_read_with_or_without_a_readable_expiry() {
        let (token, expires) = read_token(
            "r",
            br#"{"accessToken": {"token": "tok-1", "expires": "2026-11-30T12:00:00+01:00"}}"#,
        )
        .unwrap();
        assert_eq!(token.expose(), "tok-1");
        assert_eq!(
            expires,
            Some(SystemTime::from(
                "2026-11-30T11:00:00Z".parse::<jiff::Timestamp>().unwrap()
            ))
        );
        for expires in [r#""tomorrow""#, "17", "null"] {
            let body = format!(r#"{{"accessToken": {{"token": "t", "expires": {expires}}}}}"#);
            assert_eq!(read_token("r", body.as_bytes()).unwrap().1, None);
        }
    }

    #[test]
    fn a_failed_or_empty_token_answer_is_an_error_without_its_message() {
        let err = read_token(
            "r",
            br#"{"error": true, "code": 403, "message": "bad secret s3cr3t", "accessToken": {"token": "tok"}}"#,
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "r: the API reported an error (code 403)");
        for body in [
            r#"{"accessToken": {"token": ""}}"#,
            r#"{"accessToken": {"token": "a b"}}"#,
            r#"{"message": "s3cr3t"}"#,
        ] {
            let err = read_token("r", body.as_bytes()).unwrap_err().to_string();
            assert_eq!(
                err,
                "r: unexpected response: `accessToken.token` is missing, empty or not a usable token"
            );
        }
    }

    #[test]
    fn credentials_never_print_and_unusable_ones_are_refused_by_field() {
        let c = Credentials::client(Secret::new("id-s3cr3t"), Secret::new("pw-s3cr3t"));
        assert!(!format!("{c:?}").contains("s3cr3t"));
        let base = Url::parse("https://api.example.invalid/v2").unwrap();
        let clock: Arc<dyn Clock> = Arc::new(crate::clock::SystemClock);
        let err = |c| {
            Credentials::into_source(c, &base, Arc::clone(&clock))
                .unwrap_err()
                .to_string()
        };
        assert_eq!(
            err(Credentials::client(Secret::new(" "), Secret::new("x"))),
            "VPSie: `clientId` is empty"
        );
        assert_eq!(
            err(Credentials::client(Secret::new("i"), Secret::new(""))),
            "VPSie: `clientSecret` is empty"
        );
        let text = err(Credentials::token(Secret::new("a s3cr3t")));
        assert!(
            text.starts_with("VPSie: `token` is empty or holds"),
            "{text}"
        );
        assert!(!text.contains("s3cr3t"));
        assert_eq!(
            "vpsie-auth".parse::<AuthHeader>().unwrap(),
            AuthHeader::VpsieAuth
        );
        assert!("Bearer".parse::<AuthHeader>().is_err());
    }
}
