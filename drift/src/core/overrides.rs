//! The Patched Baseline override annotations (`<prefix>/mode`, `<prefix>/reconcile-paused`,
//! `<prefix>/patch`, `<prefix>/ignore-fields`): parsing, the refusal rules for patches, and
//! their application to the desired object in memory.

use json_patch::jsonptr::PointerBuf;
use json_patch::{Patch, PatchOperation};
use serde_json::Value;

use crate::core::compare::paired_index;
use plinth_vocab::pointer;

/// Kinds on which a `patch` override is refused: they reboot nodes or grant privileges.
pub const SENSITIVE_KINDS: &[&str] = &[
    "MachineConfig",
    "KubeletConfig",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ServiceAccount",
    "SecurityContextConstraints",
    "PodSecurityPolicy",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
];

/// Pointers a `patch` may not touch (nor anything under them).
pub const FORBIDDEN_POINTERS: &[&str] = &[
    "/metadata/name",
    "/metadata/namespace",
    "/metadata/managedFields",
    "/apiVersion",
    "/kind",
    "/status",
];

/// The override annotations found on one object, still unparsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub mode: Option<String>,
    pub paused: Option<String>,
    pub patch: Option<String>,
    pub ignore_fields: Option<String>,
    /// Where they were read: `live` or `desired`, for messages.
    pub origin: &'static str,
}

impl Overrides {
    /// The override annotations of `obj` under `prefix`.
    pub fn of(obj: &Value, prefix: &str, origin: &'static str) -> Self {
        let annotation = |name: &str| {
            obj.pointer("/metadata/annotations")
                .and_then(|a| a.get(format!("{prefix}/{name}")))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            mode: annotation("mode"),
            paused: annotation("reconcile-paused"),
            patch: annotation("patch"),
            ignore_fields: annotation("ignore-fields"),
            origin,
        }
    }

    /// Overrides of the live object where it sets them (users annotate the live object, as
    /// with the operator of the seed), else those of the desired object (set in the repo).
    pub fn resolve(desired: &Value, live: &Value, prefix: &str) -> Self {
        let from_live = Self::of(live, prefix, "live");
        let from_desired = Self::of(desired, prefix, "desired");
        Self {
            mode: from_live.mode.or(from_desired.mode),
            paused: from_live.paused.or(from_desired.paused),
            patch: from_live.patch.clone().or(from_desired.patch.clone()),
            ignore_fields: from_live
                .ignore_fields
                .clone()
                .or(from_desired.ignore_fields.clone()),
            origin: if from_live.patch.is_some() || from_live.ignore_fields.is_some() {
                "live"
            } else {
                "desired"
            },
        }
    }
}

/// Why an override could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OverrideProblem {
    /// The annotation does not parse or cannot be applied.
    Invalid(String),
    /// The patch is well-formed but not allowed (sensitive kind, forbidden path).
    Refused(String),
}

/// Parses a `patch` annotation (a JSON array of RFC 6902 operations) and checks the refusal
/// rules for `kind`.
pub fn parse_patch(text: &str, kind: &str, prefix: &str) -> Result<Patch, OverrideProblem> {
    let patch: Patch = serde_json::from_str(text).map_err(|err| {
        OverrideProblem::Invalid(format!(
            "`{prefix}/patch` is not an RFC 6902 JSON patch: {err}"
        ))
    })?;
    if SENSITIVE_KINDS.contains(&kind) {
        return Err(OverrideProblem::Refused(format!(
            "`{prefix}/patch` refused: patches are not allowed on {kind} (sensitive kind)"
        )));
    }
    for op in &patch.0 {
        let mut pointers = vec![op.path().as_str()];
        if let PatchOperation::Move(m) = op {
            pointers.push(m.from.as_str());
        }
        if let PatchOperation::Copy(c) = op {
            pointers.push(c.from.as_str());
        }
        for p in pointers {
            // Refused: the forbidden pointer itself, anything below it, and anything above
            // it (`""`, `/metadata`), which would replace it wholesale.
            if let Some(forbidden) = FORBIDDEN_POINTERS.iter().find(|f| {
                p == **f
                    || p.starts_with(&format!("{f}/"))
                    || p.is_empty()
                    || f.starts_with(&format!("{p}/"))
            }) {
                return Err(OverrideProblem::Refused(format!(
                    "`{prefix}/patch` refused: operation on `{p}`, but a patch may not change `{forbidden}`"
                )));
            }
        }
    }
    Ok(patch)
}

/// Applies a parsed patch to a copy of `desired`.
pub fn apply_patch(desired: &Value, patch: &Patch, prefix: &str) -> Result<Value, OverrideProblem> {
    let mut out = desired.clone();
    json_patch::patch(&mut out, &patch.0).map_err(|err| {
        OverrideProblem::Invalid(format!(
            "`{prefix}/patch` cannot be applied: operation {} at `{}`: {}",
            err.operation, err.path, err.kind
        ))
    })?;
    Ok(out)
}

/// Parses an `ignore-fields` annotation: comma-separated RFC 6901 pointers.
pub fn parse_ignore_fields(text: &str, prefix: &str) -> Result<Vec<String>, OverrideProblem> {
    let mut out = Vec::new();
    for raw in text.split(',') {
        let p = raw.trim();
        if p.is_empty() {
            continue;
        }
        if !p.starts_with('/') || PointerBuf::parse(p).is_err() {
            return Err(OverrideProblem::Invalid(format!(
                "`{prefix}/ignore-fields`: `{p}` is not an RFC 6901 JSON pointer (it must start with `/`)"
            )));
        }
        out.push(p.to_owned());
    }
    if out.is_empty() {
        return Err(OverrideProblem::Invalid(format!(
            "`{prefix}/ignore-fields` names no pointer"
        )));
    }
    Ok(out)
}

/// What [`apply_ignore_fields`] did with each pointer, in the annotation's order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Ignored {
    /// Pointers whose live value was copied into desired, or whose desired field was removed.
    pub applied: Vec<String>,
    /// Pointers absent in both desired and live: they do nothing.
    pub stale: Vec<String>,
}

/// Copies the live values at `pointers` into `desired` (removing the field from desired where
/// live lacks it). Returns which pointers did that and which are absent in both (stale).
///
/// A pointer names a field of the desired object, list indexes included. Where it goes
/// through a list matched by merge key (containers by `name`, ...), the live value is taken
/// from the live item with the desired item's key, wherever live has it: the item the
/// comparison pairs it with (`kind` selects kind-specific merge keys).
pub fn apply_ignore_fields(
    desired: &mut Value,
    live: &Value,
    pointers: &[String],
    prefix: &str,
    kind: &str,
) -> Result<Ignored, OverrideProblem> {
    let mut out = Ignored::default();
    for p in pointers {
        let ptr = PointerBuf::parse(p.as_str()).map_err(|err| {
            OverrideProblem::Invalid(format!("`{prefix}/ignore-fields`: `{p}`: {err}"))
        })?;
        let live_value = live_pointer(desired, live, p, kind).and_then(|lp| live.pointer(&lp));
        match (live_value, desired.pointer(p).is_some()) {
            (Some(value), _) => {
                ptr.assign(desired, value.clone()).map_err(|err| {
                    OverrideProblem::Invalid(format!(
                        "`{prefix}/ignore-fields`: cannot copy the live value of `{p}` into the desired object: {err}"
                    ))
                })?;
                out.applied.push(p.clone());
            }
            (None, true) => {
                ptr.delete(desired);
                out.applied.push(p.clone());
            }
            (None, false) => out.stale.push(p.clone()),
        }
    }
    Ok(out)
}

/// The live counterpart of the desired pointer `p`: object keys are the same; a list index
/// is that of the desired item, mapped to the live item the comparison pairs it with
/// ([`paired_index`]: by merge key, or by position for lists without one). `None` when live has
/// no such item or the pointer does not fit live.
fn live_pointer(desired: &Value, live: &Value, p: &str, kind: &str) -> Option<String> {
    let mut desired = Some(desired);
    let mut live = live;
    let mut field: Option<String> = None;
    let mut out = Vec::new();
    for token in p.split('/').skip(1) {
        let token = pointer::unescape(token);
        match live {
            Value::Array(items) => {
                let index: usize = token.parse().ok()?;
                let desired_items = desired
                    .and_then(Value::as_array)
                    .map_or(&[][..], Vec::as_slice);
                let j = paired_index(kind, field.as_deref(), desired_items, items, index)?;
                desired = desired_items.get(index);
                live = items.get(j)?;
                out.push(j.to_string());
            }
            Value::Object(map) => {
                desired = desired.and_then(|d| d.get(token.as_str()));
                live = map.get(token.as_str())?;
                out.push(token.clone());
            }
            _ => return None,
        }
        field = Some(token);
    }
    Some(pointer::of(&out))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const P: &str = "platform.kubevirt.io";

    #[test]
    fn reads_annotations_preferring_live() {
        let desired = json!({"metadata": {"annotations": {
            "platform.kubevirt.io/patch": "[]", "platform.kubevirt.io/mode": "managed"}}});
        let live = json!({"metadata": {"annotations": {"platform.kubevirt.io/mode": "unmanaged"}}});
        let o = Overrides::resolve(&desired, &live, P);
        assert_eq!(o.mode.as_deref(), Some("unmanaged"));
        assert_eq!(o.patch.as_deref(), Some("[]"));
        assert_eq!(o.origin, "desired");
        let other = Overrides::of(&live, "example.com", "live");
        assert_eq!(other.mode, None);
    }

    #[test]
    fn patch_is_refused_on_sensitive_kinds_and_paths() {
        let ok = r#"[{"op": "replace", "path": "/spec/replicas", "value": 3}]"#;
        assert!(parse_patch(ok, "Deployment", P).is_ok());
        assert!(
            matches!(parse_patch(ok, "MachineConfig", P), Err(OverrideProblem::Refused(m)) if m.contains("MachineConfig"))
        );
        assert!(matches!(
            parse_patch(ok, "ClusterRoleBinding", P),
            Err(OverrideProblem::Refused(_))
        ));
        for path in [
            "/metadata/name",
            "/metadata/namespace",
            "/metadata/managedFields/0",
            "/apiVersion",
            "/kind",
            "/status/phase",
        ] {
            let p = format!(r#"[{{"op": "add", "path": "{path}", "value": 1}}]"#);
            assert!(
                matches!(parse_patch(&p, "Deployment", P), Err(OverrideProblem::Refused(m)) if m.contains(path)),
                "{path}"
            );
        }
        // A parent of a forbidden pointer would replace it wholesale.
        for parent in [
            r#"[{"op": "replace", "path": "", "value": {}}]"#,
            r#"[{"op": "add", "path": "/metadata", "value": {"name": "x"}}]"#,
            r#"[{"op": "remove", "path": "/metadata"}]"#,
            r#"[{"op": "copy", "from": "/spec", "path": "/metadata"}]"#,
            r#"[{"op": "move", "from": "/metadata", "path": "/spec/m"}]"#,
        ] {
            assert!(
                matches!(
                    parse_patch(parent, "Deployment", P),
                    Err(OverrideProblem::Refused(_))
                ),
                "{parent}"
            );
        }
        assert!(
            parse_patch(
                r#"[{"op": "add", "path": "/metadata/labels/a", "value": "b"}]"#,
                "Deployment",
                P
            )
            .is_ok(),
            "siblings of forbidden pointers stay patchable"
        );
        let mv = r#"[{"op": "move", "from": "/status/x", "path": "/spec/x"}]"#;
        assert!(matches!(
            parse_patch(mv, "Deployment", P),
            Err(OverrideProblem::Refused(_))
        ));
        // `/metadata/namespaceX` is not under `/metadata/namespace`.
        let near = r#"[{"op": "add", "path": "/metadata/labels", "value": {}}]"#;
        assert!(parse_patch(near, "Deployment", P).is_ok());
    }

    #[test]
    fn invalid_patch_is_reported() {
        assert!(matches!(
            parse_patch("{not json", "Deployment", P),
            Err(OverrideProblem::Invalid(_))
        ));
        let p = parse_patch(
            r#"[{"op": "remove", "path": "/spec/nope"}]"#,
            "Deployment",
            P,
        )
        .unwrap();
        assert!(
            matches!(apply_patch(&json!({"spec": {}}), &p, P), Err(OverrideProblem::Invalid(m)) if m.contains("/spec/nope"))
        );
    }

    #[test]
    fn ignore_fields_copy_live_values() {
        let mut desired = json!({"spec": {"replicas": 2, "paused": false}});
        let live = json!({"spec": {"replicas": 5, "extra": {"a": 1}}});
        let ptrs = parse_ignore_fields(
            " /spec/replicas, /spec/paused ,/spec/extra/a,/spec/nothing",
            P,
        )
        .unwrap();
        let ignored = apply_ignore_fields(&mut desired, &live, &ptrs, P, "Deployment").unwrap();
        assert_eq!(desired, json!({"spec": {"replicas": 5, "extra": {"a": 1}}}));
        assert_eq!(ignored.stale, ["/spec/nothing"]);
        assert_eq!(
            ignored.applied,
            ["/spec/replicas", "/spec/paused", "/spec/extra/a"]
        );
    }

    /// List indexes in pointers are those of the desired object; through lists with merge keys
    /// the live value comes from the item with the same key, wherever live has it.
    #[test]
    fn ignore_fields_follow_merge_keys_not_positions() {
        let containers = |c: Value| json!({"spec": {"template": {"spec": {"containers": c}}}});
        let mut desired = containers(json!([
            {"name": "app", "image": "app:1", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]},
            {"name": "proxy", "image": "proxy:1"}
        ]));
        let live = containers(json!([
            {"name": "proxy", "image": "proxy:2"},
            {"name": "app", "image": "app:9", "env": [{"name": "B", "value": "7"}, {"name": "A", "value": "1"}]}
        ]));
        let ptrs = parse_ignore_fields(
            "/spec/template/spec/containers/0/image, /spec/template/spec/containers/0/env/1/value, /spec/template/spec/containers/0/args",
            P,
        )
        .unwrap();
        let ignored = apply_ignore_fields(&mut desired, &live, &ptrs, P, "Deployment").unwrap();
        assert_eq!(ignored.stale, ["/spec/template/spec/containers/0/args"]);
        assert_eq!(
            desired,
            containers(json!([
                {"name": "app", "image": "app:9", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "7"}]},
                {"name": "proxy", "image": "proxy:1"}
            ]))
        );
        // A desired item no live item pairs with: the field is removed from desired (the
        // comparison reports the item missing).
        let mut desired = containers(json!([{"name": "gone", "image": "g:1"}]));
        apply_ignore_fields(&mut desired, &live, &ptrs[..1], P, "Deployment").unwrap();
        assert_eq!(desired, containers(json!([{"name": "gone"}])));
        // Lists without merge keys stay positional.
        let mut desired = json!({"spec": {"args": ["a", "b"]}});
        let live = json!({"spec": {"args": ["x", "y"]}});
        let ptrs = parse_ignore_fields("/spec/args/1", P).unwrap();
        apply_ignore_fields(&mut desired, &live, &ptrs, P, "Deployment").unwrap();
        assert_eq!(desired, json!({"spec": {"args": ["a", "y"]}}));
    }

    #[test]
    fn ignore_fields_rejects_non_pointers() {
        assert!(parse_ignore_fields("spec.replicas", P).is_err());
        assert!(parse_ignore_fields(" , ", P).is_err());
    }
}
