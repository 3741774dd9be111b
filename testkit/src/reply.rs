//! The fake server's responses: JSON bodies, Kubernetes `Status` failures and the endless
//! body of [`crate::FaultKind::EndlessBody`].

use std::convert::Infallible;

use http::{Response, StatusCode, header};
use http_body_util::{Either, Full};
use hyper::body::Bytes;
use serde_json::{Value, json};

/// A response: a JSON body, or the endless body of [`crate::FaultKind::EndlessBody`].
pub(crate) type Reply = Response<Either<Full<Bytes>, Endless>>;

/// `status` with `body` as JSON.
pub(crate) fn reply(status: StatusCode, body: &Value) -> Reply {
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

/// `code` with a `Status` body of this reason and message.
pub(crate) fn failure(code: StatusCode, reason: &str, message: &str) -> Reply {
    reply(code, &status_body(code, reason, message))
}

/// `409` for fields owned by other managers: a `Status` whose `details.causes` carry one
/// `FieldManagerConflict` per `(message, field)`.
pub(crate) fn field_conflicts(message: &str, causes: &[(String, String)]) -> Reply {
    let mut body = status_body(StatusCode::CONFLICT, "Conflict", message);
    let causes: Vec<Value> = causes
        .iter()
        .map(|(m, f)| json!({"reason": "FieldManagerConflict", "message": m, "field": f}))
        .collect();
    body["details"] = json!({"causes": causes});
    reply(StatusCode::CONFLICT, &body)
}

/// `404`: no such path or resource type.
pub(crate) fn no_such_resource() -> Reply {
    failure(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
    )
}

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
