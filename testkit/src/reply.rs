//! The fake server's responses: JSON bodies and Kubernetes `Status` failures.

use http::{Response, StatusCode, header};
use http_body_util::{Either, Full};
use hyper::body::Bytes;
use serde_json::{Value, json};

use crate::faults::Endless;

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

/// `404`: no such path or resource type.
pub(crate) fn no_such_resource() -> Reply {
    failure(
        StatusCode::NOT_FOUND,
        "NotFound",
        "the server could not find the requested resource",
    )
}
