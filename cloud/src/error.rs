//! [`CloudError`]: the one error type of the cloud clients.
//!
//! Every message names what failed (the request as method and operation, the configuration or
//! key field) and never a credential: no token, no assertion, no private key, no query string,
//! no body of a `5xx` response. A `4xx` response's own message is kept, passed through the
//! redaction policy. Causes go in `source`, never pasted into the message.

use http::StatusCode;
use plinth_retry::RetryError;

/// Why a cloud call, or setting one up, failed.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// A setting is unusable (endpoint, project id, region, CA bundle, timeout): names the
    /// field (in backticks where it is a setting's name), quotes a value only when it cannot
    /// be secret.
    #[error("cloud configuration: {field} {message}")]
    Config { field: String, message: String },
    /// Credentials are unusable (a service-account key that does not parse, a missing field, a
    /// private key that is not an RSA key): names the origin and field, never key material.
    #[error("{origin}: `{field}` {message}")]
    Credentials {
        origin: String,
        field: String,
        message: String,
    },
    /// A label selector term was refused before anything was sent.
    #[error("label selector: {message}")]
    Selector { message: String },
    /// The server answered with a status that is not retried (a `4xx`, or a `401` that a fresh
    /// token did not mend). `detail` is the server's message, redacted; never set for `5xx`.
    #[error("{request}: HTTP {status}{}{}", request_id_note(request_id.as_deref()), detail_note(detail.as_deref()))]
    Status {
        request: String,
        status: StatusCode,
        request_id: Option<String>,
        detail: Option<String>,
    },
    /// The request failed for good: the attempts ran out (connection errors, timeouts, `429`,
    /// `5xx`), or the server certificate was not accepted. Names the last reason only.
    #[error("{request} failed after {attempts} attempt(s): {reason}{}", request_id_note(request_id.as_deref()))]
    Failed {
        request: String,
        attempts: u32,
        reason: String,
        request_id: Option<String>,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The command's deadline passed before the request could be answered.
    #[error("{request} did not finish within the deadline of {deadline}")]
    Deadline { request: String, deadline: String },
    /// The response body was larger than the limit: reading stopped there.
    #[error("{request}: the response body exceeds the limit of {limit} bytes")]
    TooLarge { request: String, limit: u64 },
    /// The API answered with an envelope that says it failed (`error: true`), whatever the
    /// HTTP status: names the request and the envelope's `code`, never its `message` (it may
    /// repeat what was sent, credentials included).
    #[error("{request}: the API reported an error{}", code_note(*code))]
    Refused { request: String, code: Option<i64> },
    /// The response was not what the API documents (not JSON, a required field missing): names
    /// the place, never the content.
    #[error("{request}: unexpected response: {message}")]
    Decode { request: String, message: String },
}

impl CloudError {
    /// The HTTP status of a [`CloudError::Status`].
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            Self::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    pub(crate) fn config(field: &str, message: impl Into<String>) -> Self {
        Self::Config {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    /// The error the retry loop ended with, for `request`, with the last `request_id` seen.
    pub(crate) fn from_retry(err: RetryError<Self>, request_id: Option<String>) -> Self {
        match err {
            RetryError::Fatal(err) => err,
            RetryError::Deadline { request, deadline } => Self::Deadline { request, deadline },
            RetryError::Failed {
                source,
                reason,
                attempts,
                request,
            } => Self::Failed {
                request_id,
                source,
                reason,
                attempts,
                request,
            },
        }
    }

    /// A JSON decoding failure, by position and category only (`serde_json`'s own messages can
    /// quote the offending value).
    pub(crate) fn decode_json(request: &str, err: &serde_json::Error) -> Self {
        let what = match err.classify() {
            serde_json::error::Category::Io => "the body could not be read",
            serde_json::error::Category::Syntax => "the body is not valid JSON",
            serde_json::error::Category::Data => "the body has an unexpected shape",
            serde_json::error::Category::Eof => "the body ends early",
        };
        Self::Decode {
            request: request.to_owned(),
            message: format!("{what} (line {}, column {})", err.line(), err.column()),
        }
    }
}

fn request_id_note(id: Option<&str>) -> String {
    id.map(|id| format!(" (request id `{id}`)"))
        .unwrap_or_default()
}

fn code_note(code: Option<i64>) -> String {
    code.map(|c| format!(" (code {c})")).unwrap_or_default()
}

fn detail_note(detail: Option<&str>) -> String {
    detail.map(|d| format!(": {d}")).unwrap_or_default()
}
