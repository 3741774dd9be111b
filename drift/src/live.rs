//! Live state, whatever its source: the objects read, and which (kind, namespace) pairs were
//! listed completely, so that an absent object is `missing` only where the read succeeded.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Serialize;
use serde_json::Value;

/// Identifies one object across desired and live: API group (not version), kind, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectKey {
    /// API group, empty for the core group (`v1`).
    pub group: String,
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
}

impl ObjectKey {
    /// The key of an object given its `apiVersion`, kind, namespace and name.
    pub fn new(api_version: &str, kind: &str, namespace: Option<&str>, name: &str) -> Self {
        Self {
            group: group_of(api_version).to_owned(),
            kind: kind.to_owned(),
            namespace: namespace.filter(|n| !n.is_empty()).map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// The key of a Kubernetes object value, `None` when it lacks `apiVersion`, `kind` or a name.
    pub fn of(value: &Value) -> Option<Self> {
        let api_version = value.get("apiVersion")?.as_str()?;
        let kind = value.get("kind")?.as_str()?;
        let metadata = value.get("metadata")?;
        let name = metadata.get("name")?.as_str()?;
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
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        match &self.namespace {
            Some(ns) => write!(f, "{kind}/{ns}/{}", self.name),
            None => write!(f, "{kind}/{}", self.name),
        }
    }
}

/// The API group of an `apiVersion`: `apps/v1` → `apps`, `v1` → the empty string (core).
pub fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// A kind to read from a cluster, with the namespace to list it in (`None`: cluster-scoped or
/// all namespaces).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KindRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
}

/// What was read from the live side.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveSet {
    /// Every live object read, by key.
    pub objects: BTreeMap<ObjectKey, Value>,
    /// The (group, kind, namespace) triples that were listed completely. An object absent from
    /// `objects` is `missing` only when its triple is here.
    pub listed: BTreeSet<(String, String, Option<String>)>,
    /// (group, kind) pairs whose API is not served by the cluster (e.g. the CRD is not installed).
    pub unserved: BTreeSet<(String, String)>,
    /// What could not be read without making the run fail, one line per kind or group/version
    /// (an orphan LIST answered `403`/`404`/`405`, a failed discovery of a group/version that
    /// holds no rendered kind): orphans of those kinds were not looked for.
    pub warnings: BTreeSet<String>,
}

impl LiveSet {
    /// Whether the (group, kind, namespace) of `key` was listed completely.
    pub fn was_listed(&self, key: &ObjectKey) -> bool {
        self.listed.contains(&key.listing())
    }

    /// Whether the API of `key`'s kind is known not to be served.
    pub fn is_unserved(&self, key: &ObjectKey) -> bool {
        self.unserved
            .contains(&(key.group.clone(), key.kind.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_uses_group_not_version() {
        let a = ObjectKey::new("apps/v1", "Deployment", Some("ns"), "x");
        let b = ObjectKey::new("apps/v1beta1", "Deployment", Some("ns"), "x");
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "Deployment.apps/ns/x");
        let c = ObjectKey::new("v1", "ConfigMap", None, "y");
        assert_eq!(c.group, "");
        assert_eq!(c.to_string(), "ConfigMap/y");
    }

    #[test]
    fn empty_namespace_is_none() {
        let k = ObjectKey::new("v1", "Namespace", Some(""), "n");
        assert_eq!(k.namespace, None);
    }
}
