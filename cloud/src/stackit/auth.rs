//! STACKIT authentication: [`Credentials`] (a service-account key, or a static token) and the
//! token source that turns them into the bearer token of each API call.
//!
//! With a key, an access token is fetched from the token endpoint (`POST`, form-encoded
//! `grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer` and `assertion=<JWT>`), cached, and
//! fetched again once less than the leeway is left before it expires (the earlier of
//! `expires_in` and the token's own `exp` claim, read without checking its signature, as the
//! STACKIT SDK does). After a `401` the client asks for a fresh token once
//! ([`TokenSource::refresh`]). A static token is used as given.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::Method;
use plinth_retry::Deadline;
use reqwest::Url;
use serde_json::Value;

use super::key::ServiceAccountKey;
use crate::clock::Clock;
use crate::error::CloudError;
use crate::http::{Call, EachAttempt, HttpClient};
use crate::secret::Secret;
use crate::token::{Cached, TokenCache};

/// The OAuth grant type of the key flow.
pub const JWT_BEARER_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// How long before its expiry a cached token is replaced.
pub const DEFAULT_TOKEN_LEEWAY: Duration = Duration::from_mins(1);
/// What errors call the token request.
const TOKEN_OPERATION: &str = "token request";

/// How the client authenticates.
#[derive(Debug)]
pub enum Credentials {
    /// A service-account key, exchanged for access tokens at `token_endpoint` (the key's
    /// `credentials.tokenEndpoint` unless configured).
    Key {
        key: Box<ServiceAccountKey>,
        token_endpoint: Option<String>,
    },
    /// A token used as given (`STACKIT_SERVICE_ACCOUNT_TOKEN`).
    Token(Secret),
}

impl Credentials {
    /// A static token; refused when empty or not sendable in a header (the message never
    /// quotes it).
    pub fn static_token(token: Secret) -> Result<Self, CloudError> {
        let value = token.expose().trim();
        if value.is_empty() {
            return Err(CloudError::Credentials {
                origin: "STACKIT".to_owned(),
                field: "service-account token".to_owned(),
                message: "is empty".to_owned(),
            });
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(CloudError::Credentials {
                origin: "STACKIT".to_owned(),
                field: "service-account token".to_owned(),
                message: "holds characters a token cannot have (spaces, control or non-ASCII)"
                    .to_owned(),
            });
        }
        let trimmed = (value.len() != token.expose().len()).then(|| Secret::new(value));
        Ok(Self::Token(trimmed.unwrap_or(token)))
    }

    /// A service-account key; `token_endpoint` overrides the key's own.
    pub fn service_account_key(key: ServiceAccountKey, token_endpoint: Option<String>) -> Self {
        Self::Key {
            key: Box::new(key),
            token_endpoint,
        }
    }
}

/// The source of bearer tokens: the static token, or the key flow with its cache.
#[derive(Debug)]
pub(crate) struct TokenSource {
    inner: Source,
    leeway: Duration,
    cache: TokenCache,
}

#[derive(Debug)]
enum Source {
    Static(Secret),
    Key {
        key: Box<ServiceAccountKey>,
        url: Url,
    },
}

impl TokenSource {
    /// The token source of `credentials`; the token endpoint is checked as every URL the
    /// client calls.
    pub(crate) fn new(
        credentials: Credentials,
        http: &HttpClient,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, CloudError> {
        let inner = match credentials {
            Credentials::Token(token) => Source::Static(token),
            Credentials::Key {
                key,
                token_endpoint,
            } => {
                let Some(endpoint) =
                    token_endpoint.or_else(|| key.token_endpoint().map(str::to_owned))
                else {
                    return Err(CloudError::config(
                        "the token endpoint",
                        "is not configured and the service-account key names none (`credentials.tokenEndpoint`)",
                    ));
                };
                let url = http.check_url("the token endpoint", &endpoint)?;
                Source::Key { key, url }
            }
        };
        Ok(Self {
            inner,
            leeway: DEFAULT_TOKEN_LEEWAY,
            cache: TokenCache::new(clock),
        })
    }

    pub(crate) fn set_leeway(&mut self, leeway: Duration) {
        self.leeway = leeway;
    }

    /// Whether a fresh token can replace a refused one.
    pub(crate) fn can_refresh(&self) -> bool {
        matches!(self.inner, Source::Key { .. })
    }

    /// The token for the next call: the cached one while it is fresh, else a new one.
    pub(crate) async fn token(
        &self,
        http: &HttpClient,
        deadline: Deadline,
    ) -> Result<Secret, CloudError> {
        let (key, url) = match &self.inner {
            Source::Static(token) => return Ok(token.clone()),
            Source::Key { key, url } => (key, url),
        };
        self.cache
            .token(|now| fetch(http, key, url, now, self.leeway, deadline))
            .await
    }

    /// Forgets `refused` (the token a `401` answered) so the next [`TokenSource::token`]
    /// fetches a new one; a newer token another call already fetched is kept.
    pub(crate) async fn forget(&self, refused: &Secret) {
        self.cache.forget(refused).await;
    }
}

/// One token request: the assertion of `key` as of `now` exchanged at `url`.
async fn fetch(
    http: &HttpClient,
    key: &ServiceAccountKey,
    url: &Url,
    now: SystemTime,
    leeway: Duration,
    deadline: Deadline,
) -> Result<Cached, CloudError> {
    // Signed once here to report a key that cannot sign; then anew for every attempt: each
    // assertion's `jti` is good for one exchange, and a retry after an answer lost on the way
    // must not spend it twice.
    let form_of = |assertion: &Secret| {
        Secret::new(
            form_urlencoded::Serializer::new(String::new())
                .append_pair("grant_type", JWT_BEARER_GRANT)
                .append_pair("assertion", assertion.expose())
                .finish(),
        )
    };
    let first = form_of(&key.assertion(now)?);
    let fresh = || {
        key.assertion(now)
            .map_or_else(|_| first.clone(), |assertion| form_of(&assertion))
    };
    let call = Call {
        method: Method::POST,
        url: url.clone(),
        operation: TOKEN_OPERATION,
        query: Vec::new(),
        bearer: None,
        form: None,
        form_each: Some(EachAttempt(&fresh)),
    };
    let reply = http.send(&call, deadline).await?;
    let request = call.describe();
    let body: Value =
        serde_json::from_slice(&reply.body).map_err(|e| CloudError::decode_json(&request, &e))?;
    let token = match body.get("access_token") {
        Some(Value::String(t)) if !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()) => {
            Secret::new(t.as_str())
        }
        Some(_) => {
            return Err(CloudError::Decode {
                request,
                message: "`access_token` is not a usable token".to_owned(),
            });
        }
        None => {
            return Err(CloudError::Decode {
                request,
                message: "`access_token` is missing".to_owned(),
            });
        }
    };
    let by_lifetime = body
        .get("expires_in")
        .and_then(Value::as_u64)
        .filter(|s| *s > 0)
        .and_then(|s| now.checked_add(Duration::from_secs(s)));
    let by_claim = exp_claim(token.expose());
    let expires_at = match (by_lifetime, by_claim) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };
    Ok(Cached {
        token,
        refresh_at: expires_at.and_then(|at| at.checked_sub(leeway)),
    })
}

/// The `exp` claim of a JWT access token, read without checking its signature (only to know
/// when to replace it); None when the token is not a JWT or has no numeric `exp`.
fn exp_claim(token: &str) -> Option<SystemTime> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
    let exp = claims.get("exp")?.as_u64()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(exp))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_exp_claim_of_a_jwt_is_read_and_other_tokens_have_none() {
        let payload = URL_SAFE_NO_PAD.encode(r#"{"exp": 2000000000}"#);
        assert_eq!(
            exp_claim(&format!("eyJhbGciOiJub25lIn0.{payload}.sig")),
            Some(UNIX_EPOCH + Duration::from_secs(2_000_000_000))
        );
        assert_eq!(exp_claim("opaque-token"), None);
        assert_eq!(exp_claim("a.b.c"), None);
    }

    #[test]
    fn an_empty_or_unsendable_static_token_is_refused_without_quoting_it() {
        let err = Credentials::static_token(Secret::new("  ")).unwrap_err();
        assert_eq!(err.to_string(), "STACKIT: `service-account token` is empty");
        let err = Credentials::static_token(Secret::new("abc def-s3cr3t")).unwrap_err();
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        assert!(matches!(
            Credentials::static_token(Secret::new(" tok-1 \n")).unwrap(),
            Credentials::Token(t) if t.expose() == "tok-1"
        ));
    }
}
