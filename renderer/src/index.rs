//! `plinth-index.json`: what a rendered cluster folder holds and why. Its field names are a
//! stable, documented interface (docs/index-format.md); changes are additive only.

use serde::{Deserialize, Serialize};

use crate::decide::Decision;
use crate::pools::stackit;
use crate::render::RenderedObject;
use plinth_vocab::labels::ANNOTATION_REPLACEMENT_KEY;

/// The index file name inside each cluster folder.
pub const FILE: &str = "plinth-index.json";
/// The schema version written today.
pub const SCHEMA_VERSION: u32 = 1;

/// One rendered object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexObject {
    pub file: String,
    pub api_version: String,
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    pub name: String,
    pub asset: String,
    pub wave: i64,
    /// sha256 of the object's canonical form (compact JSON, keys sorted), hex.
    pub sha256: String,
}

/// One asset decision, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexDecision {
    pub asset: String,
    pub included: bool,
    pub reason: String,
    #[serde(default)]
    pub conditions: Vec<IndexCondition>,
}

/// One condition outcome, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexCondition {
    pub condition: String,
    pub held: bool,
    pub because: String,
}

impl From<&Decision> for IndexDecision {
    fn from(d: &Decision) -> Self {
        Self {
            asset: d.asset.clone(),
            included: d.included,
            reason: d.reason.clone(),
            conditions: d
                .conditions
                .iter()
                .map(|c| IndexCondition {
                    condition: c.condition.clone(),
                    held: c.held,
                    because: c.because.clone(),
                })
                .collect(),
        }
    }
}

/// One rendered STACKIT machine class and its replacement key: the PR preview compares keys
/// to say which pools get their servers replaced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IndexMachineClass {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// First 16 hex digits of the sha256 of the providerSpec fields that force replacement.
    pub replacement_key: String,
}

/// The index entries of the rendered machine classes, sorted by namespace and name.
pub fn machine_classes(objects: &[RenderedObject]) -> Vec<IndexMachineClass> {
    let mut out: Vec<IndexMachineClass> = objects
        .iter()
        .filter(|o| {
            o.value["kind"] == stackit::KIND && o.value["apiVersion"] == stackit::API_VERSION
        })
        .filter_map(|o| {
            let key = o
                .value
                .pointer("/metadata/annotations")
                .and_then(|a| a.get(ANNOTATION_REPLACEMENT_KEY))
                .and_then(serde_json::Value::as_str)?;
            Some(IndexMachineClass {
                name: o.identity.name.clone(),
                namespace: o.identity.namespace.clone(),
                replacement_key: key.to_owned(),
            })
        })
        .collect();
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    out
}

/// The whole index of one cluster folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Index {
    pub schema_version: u32,
    pub plinth_version: String,
    pub cluster: String,
    /// sha256 over every input the cluster was rendered from, `sha256:<hex>`.
    pub input_digest: String,
    /// Objects in apply order.
    pub objects: Vec<IndexObject>,
    /// Every asset of the catalog, included or not, with the reason.
    pub assets: Vec<IndexDecision>,
    /// sha256 (hex) of every other file of the folder, by file name; lets a re-render skip a
    /// cluster only when its folder is exactly what plinth wrote.
    #[serde(default)]
    pub files: std::collections::BTreeMap<String, String>,
    /// Rendered STACKIT machine classes with their replacement keys, sorted by namespace and name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub machine_classes: Vec<IndexMachineClass>,
}
