//! Faults a test injects into the fake server ([`Fault`], [`FaultKind`]): which requests they
//! hit and the response each kind gives instead of the normal one.

use std::time::Duration;

use http::{Response, StatusCode, header};
use http_body_util::Either;
use serde_json::{Value, json};

use crate::reply::{Endless, Reply, failure, field_conflicts, reply};

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
    /// `409` as a server-side apply conflicting with a field `manager` owns: the real body,
    /// one `FieldManagerConflict` cause for `field` (e.g. `.spec.replicas`).
    FieldConflict { manager: String, field: String },
    /// `409` for a stale `resourceVersion` ("the object has been modified; ...").
    StaleResourceVersion,
    /// `504` with `reason: Timeout`, as the server answers a request it could not finish in
    /// time (it may still be processing it).
    Timeout,
    /// The connection is closed without a response, before the request is processed.
    DropConnection,
    /// The request is processed (a write is stored), then the connection is closed without
    /// a response: the client cannot know the write happened.
    DropResponse,
}

/// A fault applied to the next `times` requests whose path contains `path_contains` (and
/// whose method is `method`, when set).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    kind: FaultKind,
    times: u32,
    path_contains: String,
    method: Option<String>,
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
            method: None,
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

    /// Only the `n`th matching request is hit (1: the next one), once.
    #[must_use]
    pub fn nth(self, n: u32) -> Self {
        self.every(n).times(1)
    }

    /// Only requests with this HTTP method match (`GET`, `PATCH`, `POST`, `PUT`, `DELETE`;
    /// a LIST is a `GET`).
    #[must_use]
    pub fn verb(mut self, method: &str) -> Self {
        self.method = Some(method.to_ascii_uppercase());
        self
    }
}

/// Takes the fault that applies to a `method` request for `path`, if any.
pub(crate) fn take(faults: &mut [Fault], method: &str, path: &str) -> Option<FaultKind> {
    for fault in faults {
        if fault.times == 0
            || !path.contains(&fault.path_contains)
            || fault.method.as_deref().is_some_and(|m| m != method)
        {
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

/// The response a fault gives instead of the normal one; `None` when the normal response
/// follows (after the delay of a [`FaultKind::Slow`]; for the connection drops, which the
/// server handles itself). `slot` numbers the request (for the tokens of
/// [`FaultKind::EndlessContinue`]).
pub(crate) async fn injected(fault: &FaultKind, slot: usize) -> Option<Reply> {
    let res = match fault {
        FaultKind::TooManyRequests { retry_after_secs } => {
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
        FaultKind::ServerError(code) => {
            let code = StatusCode::from_u16(*code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            failure(
                code,
                "InternalError",
                "an error on the server has prevented the request from succeeding",
            )
        }
        FaultKind::ClientError(code) => {
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
        FaultKind::EndlessBody => {
            let mut res = Response::new(Either::Right(Endless));
            res.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            res
        }
        FaultKind::EndlessContinue { same_token } => {
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
        FaultKind::Body { code, body } => reply(
            StatusCode::from_u16(*code).unwrap_or(StatusCode::BAD_REQUEST),
            body,
        ),
        FaultKind::FieldConflict { manager, field } => {
            let message = format!("conflict with \"{manager}\"");
            field_conflicts(
                &format!("Apply failed with 1 conflict: {message}: {field}"),
                &[(message, field.clone())],
            )
        }
        FaultKind::StaleResourceVersion => failure(
            StatusCode::CONFLICT,
            "Conflict",
            "Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again",
        ),
        FaultKind::Timeout => failure(
            StatusCode::GATEWAY_TIMEOUT,
            "Timeout",
            "the server was unable to return a response in the time allotted, but may still be processing the request",
        ),
        FaultKind::Slow(delay) => {
            tokio::time::sleep(*delay).await;
            return None;
        }
        FaultKind::DropConnection | FaultKind::DropResponse => return None,
    };
    Some(res)
}
