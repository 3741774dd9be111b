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

/// One `details.causes[]` entry of an `Invalid` (`422`) `Status`: the field and what is wrong
/// with it, worded as the real server's field errors (`Required value`, `Invalid value: ...`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cause {
    /// `FieldValueRequired`, `FieldValueInvalid`, `FieldValueNotSupported`, `FieldValueTooLong`.
    pub reason: &'static str,
    pub field: String,
    pub message: String,
}

impl Cause {
    /// `<field>: Required value`.
    pub(crate) fn required(field: &str) -> Self {
        Self {
            reason: "FieldValueRequired",
            field: field.to_owned(),
            message: "Required value".to_owned(),
        }
    }

    /// `<field>: Invalid value: <value as JSON>: <detail>`.
    pub(crate) fn invalid(field: &str, value: &Value, detail: &str) -> Self {
        Self {
            reason: "FieldValueInvalid",
            field: field.to_owned(),
            message: format!("Invalid value: {value}: {detail}"),
        }
    }
}

/// `422 Unprocessable Entity` as the real server refuses an object that fails validation: a
/// `Status` with `reason: Invalid`, the message `<Kind>[.<group>] "<name>" is invalid: <field>:
/// <message>` (several in `[...]`, comma-separated) and `details` naming the object with one
/// cause per field error.
pub(crate) fn invalid(group: &str, kind: &str, name: &str, causes: &[Cause]) -> Reply {
    let qualified = if group.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}.{group}")
    };
    let errors: Vec<String> = causes
        .iter()
        .map(|c| format!("{}: {}", c.field, c.message))
        .collect();
    let errors = match errors.as_slice() {
        [one] => one.clone(),
        _ => format!("[{}]", errors.join(", ")),
    };
    let code = StatusCode::UNPROCESSABLE_ENTITY;
    let mut body = status_body(
        code,
        "Invalid",
        &format!("{qualified} \"{name}\" is invalid: {errors}"),
    );
    let causes: Vec<Value> = causes
        .iter()
        .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
        .collect();
    body["details"] = json!({"name": name, "group": group, "kind": kind, "causes": causes});
    reply(code, &body)
}

/// `403 Forbidden` with this message and `details` naming the object (or collection) refused.
pub(crate) fn forbidden(message: &str, group: &str, resource: &str, name: &str) -> Reply {
    let code = StatusCode::FORBIDDEN;
    let mut body = status_body(code, "Forbidden", message);
    let mut details = json!({"group": group, "kind": resource});
    if !name.is_empty() {
        details["name"] = name.into();
    }
    body["details"] = details;
    reply(code, &body)
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
