//! Live state, whatever its source: the objects read, and which (kind, namespace) pairs were
//! listed completely, so that an absent object is `missing` only where the read succeeded.

use std::collections::{BTreeMap, BTreeSet};

use plinth_vocab::ObjectRef;
use serde_json::Value;

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
    pub objects: BTreeMap<ObjectRef, Value>,
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
    pub fn was_listed(&self, key: &ObjectRef) -> bool {
        self.listed.contains(&key.listing())
    }

    /// Whether the API of `key`'s kind is known not to be served.
    pub fn is_unserved(&self, key: &ObjectRef) -> bool {
        self.unserved
            .contains(&(key.group.clone(), key.kind.clone()))
    }
}
