//! Pool defaults (`stackit.machineClassDefaults`, `vpsie.nodeGroupDefaults`): the layers they
//! come from (each overlay's `values` in order, then the cluster's `params`), merged under
//! each pool with `null` unsetting an inherited key and exactly-one-of groups replaced as a
//! whole, and the layer an inherited value came from, named in problems.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::overlay::{OneOf, Overlay, merge_layer};
use plinth_vocab::Problem;

/// One layer of defaults.
#[derive(Debug)]
struct Layer<'a> {
    /// Where it comes from, for messages: ``overlay `x` (`overlays/x/overlay.yaml`)``.
    origin: String,
    /// The field path of the defaults in that file (`values.stackit.machineClassDefaults`).
    field: String,
    /// The defaults; `null` when the layer sets them (or their parent) to `null`, which
    /// unsets everything inherited.
    defaults: &'a Value,
}

/// The defaults of one kind of pool for one cluster, least specific layer first.
#[derive(Debug)]
pub(crate) struct Defaults<'a> {
    layers: Vec<Layer<'a>>,
    groups: &'static [OneOf],
}

/// The defaults at `path` of a layer's values; `null` when the layer unsets them (or their
/// parent).
fn defaults_at<'a>(values: &'a Map<String, Value>, path: [&str; 2]) -> Option<&'a Value> {
    match values.get(path[0])? {
        null @ Value::Null => Some(null),
        parent => parent.get(path[1]),
    }
}

/// The value at a problem's field path (`providerSpec.labels.example.com/tier`,
/// `providerSpec.nicIds[0]`): keys are matched whole, so keys holding dots work; an index
/// stops at the list (lists are inherited or replaced whole).
fn lookup<'v>(map: &'v Map<String, Value>, field: &str) -> Option<&'v Value> {
    let (value, rest) = map
        .iter()
        .filter_map(|(k, v)| {
            let rest = field.strip_prefix(k.as_str())?;
            (rest.is_empty() || rest.starts_with('.') || rest.starts_with('[')).then_some((
                k.len(),
                v,
                rest,
            ))
        })
        .max_by_key(|(len, _, _)| *len)
        .map(|(_, v, rest)| (v, rest))?;
    match rest.strip_prefix('.') {
        Some(rest) => lookup(value.as_object()?, rest),
        None => Some(value),
    }
}

fn present(map: &Map<String, Value>, field: &str) -> bool {
    lookup(map, field).is_some_and(|v| !v.is_null())
}

impl<'a> Defaults<'a> {
    /// The layers for the defaults at `path` of a cluster (whose `cluster.yaml` is at
    /// `cluster_path`, with `params`) composing `overlays`, merged honouring `groups`.
    pub fn new(
        overlays: &'a [Arc<Overlay>],
        cluster_path: &str,
        params: &'a Map<String, Value>,
        path: [&str; 2],
        groups: &'static [OneOf],
    ) -> Self {
        let mut layers = Vec::new();
        for o in overlays {
            if let Some(defaults) = defaults_at(&o.values, path) {
                layers.push(Layer {
                    origin: format!("overlay `{}` (`{}`)", o.name, o.path),
                    field: format!("values.{}.{}", path[0], path[1]),
                    defaults,
                });
            }
        }
        if let Some(defaults) = defaults_at(params, path) {
            layers.push(Layer {
                origin: format!("the `params` of `{cluster_path}`"),
                field: format!("params.{}.{}", path[0], path[1]),
                defaults,
            });
        }
        Self { layers, groups }
    }

    /// Checks the shape of every layer as `T` (unknown keys, wrong types); each bad layer is a
    /// problem of `location` naming the layer. Whether all are good.
    pub fn check<T: DeserializeOwned>(&self, location: &str, problems: &mut Vec<Problem>) -> bool {
        let mut ok = true;
        for layer in &self.layers {
            if layer.defaults.is_null() {
                continue;
            }
            if let Err(e) = serde_json::from_value::<T>(layer.defaults.clone()) {
                problems.push(Problem {
                    location: location.to_owned(),
                    field: layer.field.clone(),
                    message: format!("invalid pool defaults in {}: {e}", layer.origin),
                });
                ok = false;
            }
        }
        ok
    }

    /// The defaults merged under `own` (a pool as written): `null` unsets, a group key given
    /// by a more specific layer drops the group's other keys inherited.
    pub fn merge(&self, own: &Map<String, Value>) -> Map<String, Value> {
        let mut merged = Map::new();
        for layer in &self.layers {
            match layer.defaults {
                Value::Object(d) => merge_layer(&mut merged, d, self.groups),
                // Unset with `null` (any other shape is a problem `check` reports).
                _ => merged.clear(),
            }
        }
        merge_layer(&mut merged, own, self.groups);
        merged
    }

    /// The layer the value at `field` of a merged pool came from, when the pool (`own`) does
    /// not set it itself: the last layer that sets it, unless a later one unset everything.
    fn origin(&self, own: &Map<String, Value>, field: &str) -> Option<&str> {
        if present(own, field) {
            return None;
        }
        for layer in self.layers.iter().rev() {
            match layer.defaults {
                Value::Object(d) if present(d, field) => return Some(&layer.origin),
                Value::Object(_) => {}
                _ => return None,
            }
        }
        None
    }

    /// Says in each of `problems` (of one pool: `own` as written, `merged` with its defaults)
    /// which layer an inherited value came from. For a map (`networking` with both variants)
    /// each inherited key is named.
    pub fn annotate(
        &self,
        own: &Map<String, Value>,
        merged: &Map<String, Value>,
        problems: &mut [Problem],
    ) {
        for p in problems {
            if p.field.is_empty() {
                continue;
            }
            let Some(value) = lookup(merged, &p.field) else {
                continue;
            };
            let note = match value {
                Value::Object(m) => {
                    let inherited: Vec<(&String, &str)> = m
                        .keys()
                        .filter_map(|k| Some((k, self.origin(own, &format!("{}.{k}", p.field))?)))
                        .collect();
                    let mut origins: Vec<&str> = inherited.iter().map(|(_, o)| *o).collect();
                    origins.sort_unstable();
                    origins.dedup();
                    match origins.as_slice() {
                        [] => None,
                        [one] if inherited.len() == m.len() => {
                            Some(format!("inherited from {one}"))
                        }
                        _ => Some(
                            inherited
                                .iter()
                                .map(|(k, o)| format!("`{k}` inherited from {o}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                    }
                }
                _ => self
                    .origin(own, &p.field)
                    .map(|o| format!("inherited from {o}")),
            };
            if let Some(note) = note {
                p.message = format!("{} ({note})", p.message);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lookup_matches_whole_keys_holding_dots_and_stops_at_lists() {
        let m = json!({"providerSpec": {"labels": {"example.com/tier": "a"}, "nicIds": ["x"]}});
        let m = m.as_object().unwrap();
        assert_eq!(
            lookup(m, "providerSpec.labels.example.com/tier"),
            Some(&json!("a"))
        );
        assert_eq!(lookup(m, "providerSpec.nicIds[0]"), Some(&json!(["x"])));
        assert_eq!(lookup(m, "providerSpec.region"), None);
        assert_eq!(lookup(m, "provider"), None);
    }
}
