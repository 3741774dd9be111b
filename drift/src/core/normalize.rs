//! Normalisation before comparison: drops what the API server writes (status, managedFields,
//! uid, resourceVersion, timestamps, bookkeeping annotations) so that only what a manifest
//! can set is compared. Idempotent: normalising twice gives the same value.

use serde_json::{Map, Value};

/// Metadata fields the API server populates; never set by a manifest.
pub const SERVER_METADATA: &[&str] = &[
    "managedFields",
    "resourceVersion",
    "uid",
    "creationTimestamp",
    "generation",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
];

/// Annotations written by clients and controllers for their own bookkeeping.
pub const BOOKKEEPING_ANNOTATIONS: &[&str] = &[
    "kubectl.kubernetes.io/last-applied-configuration",
    "deployment.kubernetes.io/revision",
    "argocd.argoproj.io/tracking-id",
];

/// A copy of `obj` without `status`, server-populated metadata and bookkeeping annotations;
/// empty `annotations`/`labels` maps left behind are removed too.
pub fn normalize(obj: &Value) -> Value {
    let mut out = obj.clone();
    normalize_in_place(&mut out);
    out
}

/// [`normalize`] without the copy.
pub fn normalize_in_place(obj: &mut Value) {
    let Some(map) = obj.as_object_mut() else {
        return;
    };
    map.remove("status");
    if let Some(Value::Object(meta)) = map.get_mut("metadata") {
        for field in SERVER_METADATA {
            meta.remove(*field);
        }
        if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
            for name in BOOKKEEPING_ANNOTATIONS {
                annotations.remove(*name);
            }
        }
        drop_if_empty(meta, "annotations");
        drop_if_empty(meta, "labels");
    }
}

fn drop_if_empty(meta: &mut Map<String, Value>, field: &str) {
    let empty = match meta.get(field) {
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Null) => true,
        _ => false,
    };
    if empty {
        meta.remove(field);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    #[test]
    fn drops_server_fields_and_status() {
        let live = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {
                "name": "a", "namespace": "n", "uid": "u", "resourceVersion": "12",
                "creationTimestamp": "2026-01-01T00:00:00Z", "generation": 3,
                "managedFields": [{"manager": "kubectl"}],
                "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"},
                "labels": {"x": "y"}
            },
            "data": {"k": "v"},
            "status": {"phase": "Active"}
        });
        assert_eq!(
            normalize(&live),
            json!({
                "apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "a", "namespace": "n", "labels": {"x": "y"}},
                "data": {"k": "v"}
            })
        );
    }

    #[test]
    fn non_objects_are_left_alone() {
        assert_eq!(normalize(&json!([1, 2])), json!([1, 2]));
        assert_eq!(normalize(&json!("x")), json!("x"));
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "[a-z0-9]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let named = [
                "status",
                "metadata",
                "annotations",
                "labels",
                "managedFields",
                "uid",
            ];
            let keys = crate::core::generators::keys(&named, "[a-z]{1,5}");
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map(keys, inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        #[test]
        fn normalize_is_idempotent(value in arb_json()) {
            let once = normalize(&value);
            prop_assert_eq!(normalize(&once), once);
        }
    }
}
