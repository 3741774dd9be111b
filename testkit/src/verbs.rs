//! The verbs the fake server answers on a resource path, one function each: `GET` of one
//! object, `LIST`, server-side apply and JSON patch (`PATCH`), create (`POST`, with Event
//! validation), update (`PUT`) and `DELETE`. A new verb (watch, delete of a collection) is one more function and
//! one more arm in [`resource`].

use std::collections::BTreeMap;

use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::objects::Deletion;
use crate::reply::{Reply, failure, field_conflicts, invalid, no_such_resource, reply};
use crate::selector::Selector;
use crate::store::{ApplyError, ResourceType, Store, StoreKey, labels_of, str_at};
use crate::validate::event_causes;

/// What a request on a resource path asks, apart from the path.
pub(crate) struct Call<'a> {
    pub method: &'a Method,
    pub query: &'a BTreeMap<String, String>,
    pub content_type: &'a str,
    pub body: &'a [u8],
    /// The manager of a create or update without `fieldManager`: the `User-Agent` up to its
    /// first `/`, as the real server derives it.
    pub agent_manager: &'a str,
}

impl Call<'_> {
    /// Whether the request asks for a dry run (`dryRun=All` in the query, or `"dryRun":
    /// ["All"]` in a `DeleteOptions` body).
    pub(crate) fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|d| d == "All")
            || self.body_option("dryRun").is_some_and(|d| d == "All")
    }

    /// A `DeleteOptions` value from the query or the body (a list's first item).
    pub(crate) fn body_option(&self, field: &str) -> Option<String> {
        let body: Value = serde_json::from_slice(self.body).ok()?;
        match body.get(field)? {
            Value::String(s) => Some(s.clone()),
            Value::Array(items) => items.first()?.as_str().map(str::to_owned),
            _ => None,
        }
    }

    /// The `fieldManager` of the request, or the one derived from the `User-Agent`.
    fn manager(&self) -> &str {
        self.query
            .get("fieldManager")
            .map(String::as_str)
            .filter(|m| !m.is_empty())
            .unwrap_or(self.agent_manager)
    }
}

/// The object (or collection) a resource path names, its type resolved.
struct Target<'a> {
    t: usize,
    ty: ResourceType,
    namespace: Option<&'a str>,
}

impl Target<'_> {
    fn key(&self, name: &str) -> StoreKey {
        (self.t, self.namespace.map(str::to_owned), name.to_owned())
    }

    fn not_found(&self, name: &str) -> Reply {
        failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("{} \"{name}\" not found", self.qualified()),
        )
    }

    /// `<plural>.<group>`, or `<plural>` in the core group.
    fn qualified(&self) -> String {
        if self.ty.group.is_empty() {
            self.ty.plural.clone()
        } else {
            format!("{}.{}", self.ty.plural, self.ty.group)
        }
    }

    /// The response to a refused write of `name`.
    fn refused(&self, name: &str, error: ApplyError) -> Reply {
        match error {
            ApplyError::BadRequest(m) => failure(StatusCode::BAD_REQUEST, "BadRequest", &m),
            ApplyError::Conflict(m) => failure(StatusCode::CONFLICT, "Conflict", &m),
            ApplyError::FieldConflicts(m, causes) => field_conflicts(&m, &causes),
            ApplyError::Invalid(causes) => invalid(&self.ty.group, &self.ty.kind, name, &causes),
            ApplyError::AlreadyExists => failure(
                StatusCode::CONFLICT,
                "AlreadyExists",
                &format!("{} \"{name}\" already exists", self.qualified()),
            ),
            ApplyError::NotFound => self.not_found(name),
        }
    }
}

/// Answers a request on `/api/v1/<rest>` or `/apis/<group>/<version>/<rest>`.
pub(crate) fn resource(
    store: &mut Store,
    group: &str,
    version: &str,
    rest: &[&str],
    call: &Call<'_>,
) -> Reply {
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural, tail @ ..] if tail.len() <= 1 => {
            (Some(*ns), *plural, tail.first().copied())
        }
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return no_such_resource(),
    };
    let Some(t) = store.type_at(group, version, plural) else {
        return no_such_resource();
    };
    let ty = store.types[t].clone();
    if namespace.is_some() && !ty.namespaced {
        return no_such_resource();
    }
    let target = Target { t, ty, namespace };
    match (call.method, name) {
        (&Method::GET, None) => list(store, t, namespace, call.query),
        (&Method::GET, Some(name)) => get(store, &target, name),
        (&Method::PATCH, Some(name)) if call.content_type.starts_with(JSON_PATCH) => {
            json_patch(store, &target, name, call)
        }
        (&Method::PATCH, Some(name)) => apply(store, &target, name, call),
        (&Method::POST, None) => create(store, &target, call),
        (&Method::PUT, Some(name)) => update(store, &target, name, call),
        (&Method::DELETE, Some(name)) => delete(store, &target, name, call),
        _ => failure(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            "the fake API server does not model this verb",
        ),
    }
}

/// `GET` of one object.
fn get(store: &Store, target: &Target<'_>, name: &str) -> Reply {
    match store.objects.get(&target.key(name)) {
        Some(s) => reply(StatusCode::OK, &s.value),
        None => target.not_found(name),
    }
}

/// Server-side apply: `PATCH` with `application/apply-patch+yaml`.
fn apply(store: &mut Store, target: &Target<'_>, name: &str, call: &Call<'_>) -> Reply {
    let (query, namespace) = (call.query, target.namespace);
    if !call
        .content_type
        .starts_with("application/apply-patch+yaml")
    {
        return failure(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            "the fake API server only models server-side apply patches",
        );
    }
    let Some(manager) = query.get("fieldManager").filter(|m| !m.is_empty()) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
        );
    };
    let Ok(value) = serde_json::from_slice::<Value>(call.body) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the apply body is not JSON",
        );
    };
    if target.ty.namespaced && namespace.is_none() {
        return target.not_found(name);
    }
    if target.ty.namespaced && str_at(&value, "/metadata/namespace") != namespace.unwrap_or("") {
        return failure(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request",
        );
    }
    let force = query.get("force").is_some_and(|f| f == "true");
    let key = target.key(name);
    let created = !store.objects.contains_key(&key);
    if created && let Some(refused) = namespace_refusal(store, target, name) {
        return refused;
    }
    match store.apply(&key, &value, manager, force, call.dry_run()) {
        Ok(v) => reply(
            if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            },
            &v,
        ),
        Err(e) => target.refused(name, e),
    }
}

/// The media type of a JSON patch (RFC 6902).
const JSON_PATCH: &str = "application/json-patch+json";

/// A JSON patch (`PATCH` with `application/json-patch+json`, RFC 6902) by the request's
/// field manager: an `Update` like a `PUT` of the patched object (the fields that changed move
/// to the manager's `Update` entry, removed fields lose their owners). A patch that does not
/// decode is a `400`; one that does not apply (a `test` that fails, a path that does not
/// exist) a `422`, as the real server answers, and nothing is stored.
fn json_patch(store: &mut Store, target: &Target<'_>, name: &str, call: &Call<'_>) -> Reply {
    let Ok(patch) = serde_json::from_slice::<json_patch::Patch>(call.body) else {
        return failure(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the JSON patch does not decode",
        );
    };
    let key = target.key(name);
    let Some(stored) = store.objects.get(&key) else {
        return target.not_found(name);
    };
    let mut value = stored.value.clone();
    if let Err(e) = json_patch::patch(&mut value, &patch) {
        return failure(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid",
            &format!("the server rejected our request due to an error in our request: {e}"),
        );
    }
    match store.replace(&key, &value, call.manager(), call.dry_run()) {
        Ok(v) => reply(StatusCode::OK, &v),
        Err(e) => target.refused(name, e),
    }
}

/// The `400` the real server gives for a body it cannot decode.
fn undecodable() -> Reply {
    failure(
        StatusCode::BAD_REQUEST,
        "BadRequest",
        "the request body is not JSON",
    )
}

/// Create: `POST` to a collection; Events (`events.k8s.io/v1` and core `v1`) are validated
/// first (`422` with one cause per field error).
fn create(store: &mut Store, target: &Target<'_>, call: &Call<'_>) -> Reply {
    let Ok(value) = serde_json::from_slice::<Value>(call.body) else {
        return undecodable();
    };
    let name = str_at(&value, "/metadata/name").to_owned();
    if target.ty.namespaced && target.namespace.is_none() {
        return no_such_resource();
    }
    let body_ns = str_at(&value, "/metadata/namespace");
    if target.ty.namespaced && !body_ns.is_empty() && Some(body_ns) != target.namespace {
        return failure(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the namespace of the provided object does not match the namespace sent on the request",
        );
    }
    if target.ty.kind == "Event" && matches!(target.ty.group.as_str(), "" | "events.k8s.io") {
        let causes = event_causes(&target.ty.group, &value, target.namespace.unwrap_or(""));
        if !causes.is_empty() {
            return invalid(&target.ty.group, &target.ty.kind, &name, &causes);
        }
    }
    if let Some(refused) = namespace_refusal(store, target, &name) {
        return refused;
    }
    match store.create(
        target.t,
        target.namespace,
        &value,
        call.manager(),
        call.dry_run(),
    ) {
        Ok(v) => reply(StatusCode::CREATED, &v),
        Err(e) => target.refused(&name, e),
    }
}

/// With [`Store::require_namespaces`], why an object cannot be created in the target's
/// namespace, as the real server's namespace lifecycle admission says: `404 namespaces "x"
/// not found` when no such Namespace is stored, `403` while it is being deleted.
fn namespace_refusal(store: &Store, target: &Target<'_>, name: &str) -> Option<Reply> {
    let ns = target.namespace.filter(|_| store.require_namespaces)?;
    let namespace = store
        .key_of("v1", "Namespace", None, ns)
        .and_then(|key| store.objects.get(&key));
    match namespace {
        None => Some(failure(
            StatusCode::NOT_FOUND,
            "NotFound",
            &format!("namespaces \"{ns}\" not found"),
        )),
        Some(n) if n.value.pointer("/metadata/deletionTimestamp").is_some() => Some(failure(
            StatusCode::FORBIDDEN,
            "Forbidden",
            &format!(
                "{} \"{}\" is forbidden: unable to create new content in namespace {ns} because it is being terminated",
                target.qualified(),
                name,
            ),
        )),
        Some(_) => None,
    }
}

/// Update: `PUT` of a whole object.
fn update(store: &mut Store, target: &Target<'_>, name: &str, call: &Call<'_>) -> Reply {
    let Ok(value) = serde_json::from_slice::<Value>(call.body) else {
        return undecodable();
    };
    match store.replace(&target.key(name), &value, call.manager(), call.dry_run()) {
        Ok(v) => reply(StatusCode::OK, &v),
        Err(e) => target.refused(name, e),
    }
}

/// `DELETE` of one object: `200` with the deleted object for custom resources (kinds a
/// stored CRD serves) and for objects with finalizers (marked with `deletionTimestamp`, still
/// stored until a write removes the last finalizer), with a `Success` `Status` naming it
/// otherwise, as the real server answers; `404` when absent; `409` when the `preconditions`
/// (`uid`, `resourceVersion`) do not hold. `propagationPolicy` is only recorded (there is no
/// garbage collector).
fn delete(store: &mut Store, target: &Target<'_>, name: &str, call: &Call<'_>) -> Reply {
    let custom = store.objects.iter().any(|((t, _, _), s)| {
        store.is_crd(*t) && str_at(&s.value, "/spec/group") == target.ty.group
    });
    let options: Value = serde_json::from_slice(call.body).unwrap_or(Value::Null);
    let preconditions = options.get("preconditions").cloned().unwrap_or(Value::Null);
    let gone = match store.delete(&target.key(name), &preconditions, call.dry_run()) {
        Ok(Deletion::Marked(object)) => return reply(StatusCode::OK, &object),
        Ok(Deletion::Removed(object)) => object,
        Err(e) => return target.refused(name, e),
    };
    if custom {
        return reply(StatusCode::OK, &gone);
    }
    reply(
        StatusCode::OK,
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Success",
            "details": {
                "name": name,
                "group": target.ty.group,
                "kind": target.ty.plural,
                "uid": str_at(&gone, "/metadata/uid"),
            },
        }),
    )
}

/// `GET` of a collection: one page of the objects of type `t` (in `namespace`, or all)
/// matching the label selector.
fn list(
    store: &Store,
    t: usize,
    namespace: Option<&str>,
    query: &BTreeMap<String, String>,
) -> Reply {
    let ty = &store.types[t];
    let selector = match query.get("labelSelector") {
        Some(text) => match Selector::parse(text) {
            Some(s) => s,
            None => {
                return failure(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "unable to parse requirement",
                );
            }
        },
        None => Selector::default(),
    };
    let offset: usize = match query.get("continue").filter(|c| !c.is_empty()) {
        Some(token) => match token.strip_prefix("fake-").and_then(|n| n.parse().ok()) {
            Some(n) => n,
            None => {
                return failure(
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "continue key is not valid",
                );
            }
        },
        None => 0,
    };
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let matching: Vec<&Value> = store
        .objects
        .iter()
        .filter(|((ot, ons, _), _)| {
            *ot == t && (namespace.is_none() || ons.as_deref() == namespace)
        })
        .filter(|(_, s)| selector.matches(&labels_of(&s.value)))
        .map(|(_, s)| &s.value)
        .collect();
    let page: Vec<Value> = matching
        .iter()
        .skip(offset)
        .take(limit)
        .map(|v| {
            let mut item = (*v).clone();
            if let Some(o) = item.as_object_mut() {
                o.remove("apiVersion");
                o.remove("kind");
            }
            item
        })
        .collect();
    let next = offset.saturating_add(page.len());
    let mut metadata = json!({"resourceVersion": store.resource_version.to_string()});
    if next < matching.len() {
        metadata["continue"] = format!("fake-{next}").into();
        metadata["remainingItemCount"] = (matching.len() - next).into();
    }
    reply(
        StatusCode::OK,
        &json!({
            "kind": format!("{}List", ty.kind),
            "apiVersion": ty.api_version(),
            "metadata": metadata,
            "items": page,
        }),
    )
}
