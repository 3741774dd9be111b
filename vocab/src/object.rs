//! The one reference to a Kubernetes object used everywhere: API group (not version), kind,
//! namespace and name — what identifies an object across a render, a diff, a drift report and
//! a live cluster.

use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// Identifies one object: API group (not version), kind, namespace, name. Ordered by group,
/// kind, namespace and name, so sorted collections of references are deterministic.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    /// API group, empty for the core group (`v1`).
    pub group: String,
    pub kind: String,
    /// `None` for cluster-scoped objects; an empty namespace is `None`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectRef {
    /// The reference of an object given its `apiVersion`, kind, namespace and name.
    pub fn new(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        Self {
            group: group_of(api_version).to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// The reference of a Kubernetes object value; `None` when it lacks a non-empty
    /// `apiVersion`, `kind` or `metadata.name`.
    pub fn of(value: &Value) -> Option<Self> {
        let api_version = value.get("apiVersion")?.as_str()?;
        let kind = value.get("kind")?.as_str()?;
        let metadata = value.get("metadata")?;
        let name = metadata.get("name")?.as_str()?;
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            return None;
        }
        let namespace = metadata.get("namespace").and_then(Value::as_str);
        Some(Self::new(api_version, kind, namespace, name))
    }

    /// The (group, kind, namespace) triple under which this object is listed.
    pub fn listing(&self) -> (String, String, Option<String>) {
        (
            self.group.clone(),
            self.kind.clone(),
            self.namespace.clone(),
        )
    }

    /// `Kind.group` (or `Kind` for the core group).
    pub fn qualified_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    /// The reference as messages quote it: `` `Kind.group` `namespace/name` ``.
    pub fn quoted(&self) -> Quoted<'_> {
        Quoted(self)
    }
}

/// `Kind.group/namespace/name` (or `Kind/name`), as reports and keys print it.
impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.qualified_kind();
        match &self.namespace {
            Some(ns) => write!(f, "{kind}/{ns}/{}", self.name),
            None => write!(f, "{kind}/{}", self.name),
        }
    }
}

/// An [`ObjectRef`] as error messages quote it ([`ObjectRef::quoted`]).
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(&'a ObjectRef);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = self.0.qualified_kind();
        match &self.0.namespace {
            Some(ns) => write!(f, "`{kind}` `{ns}/{}`", self.0.name),
            None => write!(f, "`{kind}` `{}`", self.0.name),
        }
    }
}

/// The API group of an `apiVersion`: `apps/v1` → `apps`, `v1` → the empty string (core).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_uses_group_not_version() {
        let a = ObjectRef::new("apps/v1", "Deployment", Some("ns"), "x");
        let b = ObjectRef::new("apps/v1beta1", "Deployment", Some("ns"), "x");
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "Deployment.apps/ns/x");
        assert_eq!(a.quoted().to_string(), "`Deployment.apps` `ns/x`");
        let c = ObjectRef::new("v1", "ConfigMap", None, "y");
        assert_eq!(c.group, "");
        assert_eq!(c.to_string(), "ConfigMap/y");
        assert_eq!(c.quoted().to_string(), "`ConfigMap` `y`");
    }

    #[test]
    fn empty_namespace_is_none() {
        let k = ObjectRef::new("v1", "Namespace", Some(""), "n");
        assert_eq!(k.namespace, None);
    }

    #[test]
    fn of_needs_api_version_kind_and_name() {
        let v = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": ""}});
        assert_eq!(
            ObjectRef::of(&v),
            Some(ObjectRef::new("v1", "ConfigMap", None, "a"))
        );
        for bad in [
            serde_json::json!({"kind": "ConfigMap", "metadata": {"name": "a"}}),
            serde_json::json!({"apiVersion": "", "kind": "ConfigMap", "metadata": {"name": "a"}}),
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": ""}}),
            serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap"}),
        ] {
            assert_eq!(ObjectRef::of(&bad), None, "{bad}");
        }
    }
}
