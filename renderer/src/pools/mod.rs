//! Worker pools declared in `cluster.yaml`, one module per provider: STACKIT machine classes
//! ([`stackit`]) and `VPSie` node groups ([`vpsie`]). What every provider shares lives here: the
//! pools of one cluster as rendering needs them, the problem report, the serde helpers for
//! `null`, and the loop that merges the defaults under each pool and validates it. A new
//! provider is a new sibling module implementing [`Pool`].
//!
//! Pools know nothing of the cluster type: `cluster` reads them, `render` renders them.

mod defaults;
pub mod stackit;
pub mod vpsie;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::RenderError;
use crate::overlay::{OneOf, Overlay};
use defaults::Defaults;
use plinth_vocab::Problem;
use plinth_vocab::names::is_dns_label;

/// The pools of one kind of one cluster, with everything rendering them reads.
#[derive(Debug, Clone, Copy)]
pub struct Pools<'a, P> {
    /// The cluster's name.
    pub cluster: &'a str,
    /// Repository-relative path of the cluster's `cluster.yaml`.
    pub path: &'a str,
    /// The pools as typed.
    pub declared: &'a [P],
    /// The same pools as written (`null`s included); empty when the cluster kept none.
    pub written: &'a [Map<String, Value>],
    /// The cluster's `params` (the most specific layer of defaults).
    pub params: &'a Map<String, Value>,
    /// The cluster's overlays, in order (each may carry defaults in its `values`).
    pub overlays: &'a [Arc<Overlay>],
}

/// One kind of pool: how it is named in `cluster.yaml` and in problems, and where its
/// defaults sit.
pub trait Pool: Serialize + DeserializeOwned {
    /// The shape of its defaults (every field but the name).
    type Defaults: DeserializeOwned;
    /// Kind of the rendered object, in problem locations.
    const KIND: &'static str;
    /// The list in `cluster.yaml` (`machineClasses`).
    const LIST: &'static str;
    /// Where its defaults sit in overlay values and cluster params.
    const DEFAULTS_PATH: [&'static str; 2];
    /// Its exactly-one-of groups.
    const ONE_OF: &'static [OneOf];
    /// The field, and what to call the defaults, when they cannot be merged under a pool.
    const MERGE_FAILURE: (&'static str, &'static str);
    /// The pool's name, as written.
    fn name(&self) -> &str;
}

/// Collects the problems of one object: `location` is `cluster <c> / <Kind> <name>`.
#[derive(Debug)]
pub(crate) struct Report<'a> {
    pub location: String,
    pub problems: &'a mut Vec<Problem>,
}

impl Report<'_> {
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem {
            location: self.location.clone(),
            field: field.into(),
            message: message.into(),
        });
    }

    /// A problem at `field` when `namespace` is given and is not a DNS label.
    pub fn namespace(&mut self, field: impl Into<String>, namespace: Option<&str>) {
        if let Some(ns) = namespace
            && !is_dns_label(ns)
        {
            self.add(
                field,
                format!("`{ns}` is not a valid namespace (a DNS label)"),
            );
        }
    }
}

/// The location of a pool in problems: `cluster <c> / <Kind> <pool>`.
fn location(kind: &str, cluster: &str, pool: &str) -> String {
    format!("cluster {cluster} / {kind} {pool}")
}

/// Reads a field given as `null` as its default: in `cluster.yaml` and pool defaults, `null`
/// unsets what a less specific layer gave (the merge removes it; this only lets it be read).
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Reads a label map whose values may be `null` (unsetting an inherited label), leaving those
/// out.
pub(crate) fn labels_without_nulls<'de, D>(
    deserializer: D,
) -> Result<Option<BTreeMap<String, String>>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    let labels = Option::<BTreeMap<String, Option<String>>>::deserialize(deserializer)?;
    Ok(labels.map(|m| m.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()))
}

/// Pool `i` of `typed` as written in `cluster.yaml` (`null`s included) when the cluster kept
/// it, else as the typed pool serialises.
fn own_value<T: Serialize>(
    written: &[Map<String, Value>],
    typed: &T,
    i: usize,
) -> Map<String, Value> {
    match written.get(i) {
        Some(m) => m.clone(),
        None => match serde_json::to_value(typed) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        },
    }
}

impl<P: Pool> Pools<'_, P> {
    /// Merges the defaults under every pool and checks it with `check` (which may compute
    /// something the pool's objects need). Problems of every pool are added to `problems`,
    /// with the layer an inherited value came from; only pools without problems are returned.
    pub(crate) fn checked<X>(
        &self,
        problems: &mut Vec<Problem>,
        mut check: impl FnMut(&P, &mut Report<'_>) -> X,
    ) -> Vec<(P, X)> {
        if self.declared.is_empty() {
            return Vec::new();
        }
        let cluster_loc = format!("cluster {}", self.cluster);
        let defaults = Defaults::new(
            self.overlays,
            self.path,
            self.params,
            P::DEFAULTS_PATH,
            P::ONE_OF,
        );
        if !defaults.check::<P::Defaults>(&cluster_loc, problems) {
            return Vec::new();
        }
        let mut names = BTreeSet::new();
        let mut out = Vec::new();
        for (i, raw) in self.declared.iter().enumerate() {
            let before = problems.len();
            let mut r = Report {
                location: location(P::KIND, self.cluster, raw.name()),
                problems,
            };
            if !names.insert(raw.name().to_owned()) {
                r.add("name", format!("is declared twice in `{}`", P::LIST));
            }
            let own = own_value(self.written, raw, i);
            let merged = defaults.merge(&own);
            let pool: P = match serde_json::from_value(Value::Object(merged.clone())) {
                Ok(p) => p,
                Err(e) => {
                    let (field, what) = P::MERGE_FAILURE;
                    r.add(field, format!("cannot merge the {what}: {e}"));
                    continue;
                }
            };
            let x = check(&pool, &mut r);
            if r.problems.len() > before {
                defaults.annotate(&own, &merged, &mut r.problems[before..]);
                continue;
            }
            out.push((pool, x));
        }
        out
    }
}

/// Turns collected problems into the render error (or nothing, when there are none).
pub fn problems_error(mut problems: Vec<Problem>) -> Result<(), RenderError> {
    if problems.is_empty() {
        return Ok(());
    }
    problems.sort();
    problems.dedup();
    Err(RenderError::Problems(problems))
}
