//! What the fake server validates, as `422 Invalid` field errors ([`Cause`]): Events on create
//! (`events.k8s.io/v1` and core `v1`, the rules of the real server's event validation) and
//! the fields a write may not change once set (a configurable set per kind, [`IMMUTABLE`] by
//! default).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::reply::Cause;

/// The fields a write may not change once set, per kind (dotted paths, separated by spaces),
/// as the real server's update validation refuses them: the fake's default set;
/// `Scenario::immutable_fields` replaces a kind's entry.
pub const IMMUTABLE: &[(&str, &str)] = &[
    ("ClusterRoleBinding", "roleRef"),
    ("CustomResourceDefinition", "spec.scope"),
    ("DaemonSet", "spec.selector"),
    ("Deployment", "spec.selector"),
    ("Job", "spec.selector spec.template spec.completionMode"),
    (
        "PersistentVolumeClaim",
        "spec.storageClassName spec.volumeName spec.accessModes spec.volumeMode spec.selector",
    ),
    ("ReplicaSet", "spec.selector"),
    ("RoleBinding", "roleRef"),
    ("Secret", "type"),
    ("Service", "spec.clusterIP"),
    (
        "StatefulSet",
        "spec.selector spec.serviceName spec.volumeClaimTemplates spec.podManagementPolicy",
    ),
    (
        "StorageClass",
        "provisioner parameters reclaimPolicy volumeBindingMode",
    ),
];

/// The default immutable fields, as the store keeps them (kind → dotted paths).
pub(crate) fn default_immutable() -> BTreeMap<String, Vec<String>> {
    IMMUTABLE
        .iter()
        .map(|(kind, paths)| {
            let paths = paths.split(' ').map(str::to_owned).collect();
            ((*kind).to_owned(), paths)
        })
        .collect()
}

/// The value at a dotted path (`spec.selector`).
fn at<'a>(value: &'a Value, dotted: &str) -> Option<&'a Value> {
    dotted
        .split('.')
        .try_fold(value, |node, field| node.get(field))
        .filter(|v| !v.is_null())
}

/// One `field is immutable` error per path of `paths` that `old` sets and `new` changes (or
/// drops).
pub(crate) fn immutable_causes(paths: &[String], old: &Value, new: &Value) -> Vec<Cause> {
    paths
        .iter()
        .filter_map(|p| {
            let was = at(old, p)?;
            let now = at(new, p);
            (now != Some(was))
                .then(|| Cause::invalid(p, now.unwrap_or(&Value::Null), "field is immutable"))
        })
        .collect()
}

/// The longest `reportingInstance`, `action` and `reason` the real server accepts.
const NAME_LIMIT: usize = 128;
/// The longest `note` (`message` in core `v1`), in bytes.
const NOTE_LIMIT: usize = 1024;

/// The field errors of an Event created in `namespace` through `group` (`events.k8s.io` or
/// `""` for core `v1`). Field names are the real server's (it validates its internal Event
/// type: `note` is reported as `message`, `regarding` as `involvedObject`, the deprecated
/// fields as `source`, `firstTimestamp`, `lastTimestamp`, `count`).
pub(crate) fn event_causes(group: &str, event: &Value, namespace: &str) -> Vec<Cause> {
    let v1 = group == "events.k8s.io";
    let text = |field: &str| event.get(field).and_then(Value::as_str).unwrap_or("");
    let (regarding, note, controller) = if v1 {
        ("regarding", "note", "reportingController")
    } else {
        ("involvedObject", "message", "reportingComponent")
    };
    let mut causes = Vec::new();
    if v1 {
        let name = event.pointer("/metadata/name").and_then(Value::as_str);
        if name.is_none_or(str::is_empty) {
            causes.push(Cause {
                message: "Required value: name or generateName is required".to_owned(),
                ..Cause::required("metadata.name")
            });
        }
    }
    if namespace.is_empty() {
        causes.push(Cause::required("metadata.namespace"));
    }
    let about_ns = event
        .pointer(&format!("/{regarding}/namespace"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let has_time = !text("eventTime").is_empty();
    let misplaced = if about_ns.is_empty() {
        // Cluster-scoped: `default` or `kube-system` (an old-style core Event: `default`).
        namespace != "default" && (!has_time || namespace != "kube-system")
    } else {
        namespace != about_ns
    };
    if misplaced {
        causes.push(Cause::invalid(
            "involvedObject.namespace",
            &json!(about_ns),
            "does not match event.namespace",
        ));
    }
    let too_long = |field: &str, limit: usize, len: usize| {
        (len > limit).then(|| {
            Cause::invalid(
                field,
                &json!(""),
                &format!("can have at most {limit} characters"),
            )
        })
    };
    // Core `v1` Events without `eventTime` are old-style: none of the new fields is required.
    if v1 || has_time {
        let ctrl = text(controller);
        if ctrl.is_empty() {
            causes.push(Cause::required(controller));
        } else if let Some(detail) = qualified_name_error(ctrl) {
            causes.push(Cause::invalid(controller, &json!(ctrl), detail));
        }
        for field in ["reportingInstance", "action", "reason"] {
            if text(field).is_empty() {
                causes.push(Cause::required(field));
            }
            causes.extend(too_long(field, NAME_LIMIT, text(field).chars().count()));
        }
        causes.extend(too_long("message", NOTE_LIMIT, text(note).len()));
    }
    if v1 {
        causes.extend(v1_only_causes(event));
    }
    causes
}

/// What only `events.k8s.io/v1` checks: `eventTime`, `type`, `series` and the deprecated
/// fields left unset.
fn v1_only_causes(event: &Value) -> Vec<Cause> {
    let mut causes = Vec::new();
    let text = |field: &str| event.get(field).and_then(Value::as_str).unwrap_or("");
    if text("eventTime").is_empty() {
        causes.push(Cause::required("eventTime"));
    }
    let kind = text("type");
    if kind != "Normal" && kind != "Warning" {
        causes.push(Cause::invalid(
            "type",
            &json!(""),
            &format!("has invalid value: {kind}"),
        ));
    }
    if let Some(series) = event.get("series").filter(|s| !s.is_null()) {
        if series.get("count").and_then(Value::as_i64).unwrap_or(0) < 2 {
            causes.push(Cause::invalid(
                "series.count",
                &json!(""),
                "should be at least 2",
            ));
        }
        if series.get("lastObservedTime").is_none_or(Value::is_null) {
            causes.push(Cause::required("series.lastObservedTime"));
        }
    }
    for (field, reported) in [
        ("deprecatedSource", "source"),
        ("deprecatedFirstTimestamp", "firstTimestamp"),
        ("deprecatedLastTimestamp", "lastTimestamp"),
        ("deprecatedCount", "count"),
    ] {
        let set = event.get(field).is_some_and(|v| match v {
            Value::Null => false,
            Value::Object(o) => o
                .values()
                .any(|x| x.as_str().is_some_and(|s| !s.is_empty())),
            Value::Number(n) => n.as_i64() != Some(0),
            Value::String(s) => !s.is_empty(),
            _ => true,
        });
        if set {
            causes.push(Cause::invalid(reported, &json!(""), "needs to be unset"));
        }
    }
    causes
}

/// Why `name` is not a qualified name (`[prefix/]name`: an optional DNS subdomain prefix, a
/// name of at most 63 alphanumerics, `-`, `_`, `.` starting and ending alphanumeric).
fn qualified_name_error(name: &str) -> Option<&'static str> {
    let (prefix, local) = match name.split_once('/') {
        Some((p, l)) => (Some(p), l),
        None => (None, name),
    };
    if let Some(p) = prefix {
        let ok = !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && !label.starts_with('-')
                    && !label.ends_with('-')
            });
        if !ok {
            return Some(
                "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
            );
        }
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    let ok = !local.is_empty()
        && local.len() <= 63
        && alnum(local.chars().next())
        && alnum(local.chars().last())
        && local
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    (!ok).then_some("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qualified_names() {
        assert_eq!(qualified_name_error("plinth.dev/apply"), None);
        assert_eq!(qualified_name_error("plinth"), None);
        assert!(qualified_name_error("Plinth.Dev/apply").is_some());
        assert!(qualified_name_error("-x").is_some());
        assert!(qualified_name_error("").is_some());
    }

    #[test]
    fn an_immutable_field_set_and_changed_or_dropped_is_refused_a_new_one_is_not() {
        let paths = vec!["spec.selector".to_owned()];
        let old = json!({"spec": {"selector": {"app": "a"}}});
        assert!(immutable_causes(&paths, &old, &old).is_empty());
        assert!(immutable_causes(&paths, &json!({}), &old).is_empty());
        let changed = immutable_causes(&paths, &old, &json!({"spec": {"selector": {"app": "b"}}}));
        assert_eq!(changed[0].field, "spec.selector");
        assert_eq!(
            changed[0].message,
            r#"Invalid value: {"app":"b"}: field is immutable"#
        );
        assert_eq!(immutable_causes(&paths, &old, &json!({})).len(), 1);
    }
}
