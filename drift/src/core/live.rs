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

impl KindRef {
    /// The (group, kind, namespace) triple that listing this kind covers.
    pub fn listing(&self) -> (String, String, Option<String>) {
        (
            plinth_vocab::group_of(&self.api_version).to_owned(),
            self.kind.clone(),
            self.namespace.clone(),
        )
    }
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

/// Live objects held compactly, as a snapshot is: each object as its compact JSON text (keys
/// sorted, as [`Value`] serializes them), a fraction of the memory of its [`Value`] tree, and
/// parsed again, a part of the objects at a time, when compared.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompactLive {
    /// Every live object read, by key, as compact JSON text.
    pub objects: BTreeMap<ObjectRef, Box<str>>,
    /// The (group, kind, namespace) triples that were listed completely, as in [`LiveSet`].
    pub listed: BTreeSet<(String, String, Option<String>)>,
}

/// A live object that could not be parsed again from its compact text (which [`compact`] made,
/// so never in practice).
#[derive(Debug)]
pub struct Unparsable {
    pub key: ObjectRef,
    pub source: serde_json::Error,
}

/// The compact JSON text of `value`.
pub fn compact(value: &Value) -> Box<str> {
    Value::to_string(value).into_boxed_str()
}

/// `text`, a compact text made by [`compact`], parsed again. Without the JSON parser's depth
/// limit: the value was read within the limits of the YAML or JSON reader that read it first.
///
/// # Errors
/// `text` is not JSON.
pub fn parse(text: &str) -> Result<Value, serde_json::Error> {
    use serde::Deserialize as _;
    let mut reader = serde_json::Deserializer::from_str(text);
    reader.disable_recursion_limit();
    let value = Value::deserialize(&mut reader)?;
    reader.end()?;
    Ok(value)
}

impl CompactLive {
    /// The objects of `keys` held here (others are skipped), parsed on every core, with every
    /// listed triple: the [`LiveSet`] the pipeline compares those objects with.
    ///
    /// # Errors
    /// The first object, in `keys` order, whose text does not parse again.
    pub fn live_set<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a ObjectRef>,
    ) -> Result<LiveSet, Unparsable> {
        let held: Vec<(&ObjectRef, &str)> = keys
            .into_iter()
            .filter_map(|key| self.objects.get_key_value(key))
            .map(|(key, text)| (key, &**text))
            .collect();
        Ok(LiveSet {
            objects: parse_all(held)?,
            listed: self.listed.clone(),
            ..LiveSet::default()
        })
    }

    /// Every object parsed: the whole [`LiveSet`].
    ///
    /// # Errors
    /// The first object, in key order, whose text does not parse again.
    pub fn into_live_set(self) -> Result<LiveSet, Unparsable> {
        let objects = parse_all(
            self.objects
                .iter()
                .map(|(key, text)| (key, &**text))
                .collect(),
        )?;
        Ok(LiveSet {
            objects,
            listed: self.listed,
            ..LiveSet::default()
        })
    }
}

/// `held` parsed on every core; the first failure in `held` order is the error.
fn parse_all(held: Vec<(&ObjectRef, &str)>) -> Result<BTreeMap<ObjectRef, Value>, Unparsable> {
    use rayon::prelude::*;
    held.into_par_iter()
        .map(|(key, text)| {
            parse(text)
                .map(|value| (key.clone(), value))
                .map_err(|source| Unparsable {
                    key: key.clone(),
                    source,
                })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compact text is parsed again whatever its depth (the YAML readers allow deeper values
    /// than the JSON parser's 128 levels), and the set of some keys holds just those.
    #[test]
    fn compact_texts_parse_again_at_any_depth() {
        let depth = 150;
        let text = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        assert!(serde_json::from_str::<Value>(&text).is_err());
        let value = parse(&text).unwrap();
        assert_eq!(&*compact(&value), text);
        let key = |name: &str| ObjectRef::new("v1", "ConfigMap", Some("ns"), name);
        let live = CompactLive {
            objects: [(key("deep"), compact(&value)), (key("other"), "{}".into())].into(),
            listed: BTreeSet::from([(String::new(), "ConfigMap".into(), Some("ns".into()))]),
        };
        let part = live.live_set(&[key("deep"), key("absent")]).unwrap();
        assert_eq!(part.objects, BTreeMap::from([(key("deep"), value)]));
        assert_eq!(part.listed, live.listed);
        assert!(parse("{} x").is_err());
    }
}
