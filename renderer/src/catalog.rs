//! The asset catalog (`assets/metadata.yaml`) in the virt-platform operator's format: assets
//! with their template, phase, install mode, reconcile order, group, gated CRD, template
//! parameters and conditions; plus the optional `features`, `framework` and
//! `excluded_assets` blocks.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{Map, Value};
use serde_saphyr::Spanned;

use crate::error::{RenderError, Result};
use crate::source::{Source, join_beside};
use plinth_vocab::Problem;
use plinth_vocab::yaml;

/// How an asset is installed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Install {
    /// Applied unless a condition fails.
    Always,
    /// Applied only when it has conditions and all of them hold.
    OptIn,
}

impl Install {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Always => "always",
            Self::OptIn => "opt-in",
        }
    }
}

/// A hardware detector derived from the inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Detector {
    PciDevicesPresent,
    NumaNodesPresent,
    GpuPresent,
    SriovPresent,
    UsbDevicesPresent,
    HasSchedulableMasters,
}

impl Detector {
    pub const ALL: [Self; 6] = [
        Self::PciDevicesPresent,
        Self::NumaNodesPresent,
        Self::GpuPresent,
        Self::SriovPresent,
        Self::UsbDevicesPresent,
        Self::HasSchedulableMasters,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::PciDevicesPresent => "pciDevicesPresent",
            Self::NumaNodesPresent => "numaNodesPresent",
            Self::GpuPresent => "gpuPresent",
            Self::SriovPresent => "sriovPresent",
            Self::UsbDevicesPresent => "usbDevicesPresent",
            Self::HasSchedulableMasters => "hasSchedulableMasters",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// One condition of an asset; all of an asset's conditions must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// The cluster carries annotation `key` (with `value`, when given).
    Annotation { key: String, value: Option<String> },
    /// A hardware detector is true for the cluster's inventory.
    HardwareDetection { detector: Detector },
    /// A feature gate is enabled for the cluster.
    FeatureGate { gate: String },
    /// A topology fact of the cluster is true.
    Topology { field: String },
    /// The rendered HyperConverged leaves the field at this dotted path unset.
    HcoFieldUnconfigured { path: String },
    /// The cluster names an image for `key` in its `images` map.
    Image { key: String },
}

const KNOWN_CONDITIONS: &str =
    "annotation, hardware-detection, feature-gate, topology, hco-field-unconfigured, image";

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Annotation {
                key,
                value: Some(v),
            } => write!(f, "annotation {key}={}", shown_annotation_value(key, v)),
            Self::Annotation { key, value: None } => write!(f, "annotation {key}"),
            Self::HardwareDetection { detector } => write!(f, "hardware {}", detector.name()),
            Self::FeatureGate { gate } => write!(f, "feature-gate {gate}"),
            Self::Topology { field } => write!(f, "topology {field}"),
            Self::HcoFieldUnconfigured { path } => write!(f, "hco-field-unconfigured {path}"),
            Self::Image { key } => write!(f, "image {key}"),
        }
    }
}

/// How an annotation value the catalog asks for is shown in `--explain`, `catalog` and the
/// committed `plinth-index.json`: as written, unless its key names a credential or the
/// value looks secret by content (docs/security.md) — then as
/// [`plinth_vocab::redact::SECRET_PLACEHOLDER`]. The cluster's annotation equals it when the
/// condition holds, so showing it would echo the cluster's value; a fixed placeholder (not a
/// keyed fingerprint) keeps the index deterministic.
pub fn shown_annotation_value<'a>(key: &str, value: &'a str) -> &'a str {
    let name = key.rsplit('/').next().unwrap_or(key);
    // Whether any rule of the one policy would touch it (the key only decides, never shown).
    let touched = || plinth_vocab::redact::Redactor::with_key(&[0; 32]).redact_text(value) != value;
    if plinth_vocab::redact::is_credential_key(name)
        || plinth_vocab::redact::Redactor::looks_secret(value)
        || touched()
    {
        plinth_vocab::redact::SECRET_PLACEHOLDER
    } else {
        value
    }
}

/// One asset of the catalog, validated.
#[derive(Debug, Clone)]
pub struct Asset {
    pub name: String,
    /// The template path as written in the catalog (relative to the catalog's folder).
    pub path: String,
    /// The template path relative to the repository (or to the built-in baseline).
    pub resolved_path: String,
    pub phase: i64,
    pub install: Install,
    pub component: Option<String>,
    pub reconcile_order: i64,
    pub group: Option<String>,
    pub gate_crd: Option<String>,
    pub template_params: Map<String, Value>,
    pub conditions: Vec<Condition>,
    /// Line of the asset's `name` in the catalog.
    pub line: usize,
}

impl Asset {
    /// The HyperConverged golden config renders before everything else.
    pub fn is_hco(&self) -> bool {
        self.component.as_deref() == Some("HyperConverged")
    }

    /// The asset as templates see it (`asset` in the context).
    pub fn to_context(&self) -> Value {
        let mut m = Map::new();
        m.insert("name".into(), self.name.clone().into());
        m.insert("path".into(), self.path.clone().into());
        m.insert("phase".into(), self.phase.into());
        m.insert("install".into(), self.install.as_str().into());
        m.insert(
            "component".into(),
            self.component.clone().map_or(Value::Null, Value::from),
        );
        m.insert("reconcile_order".into(), self.reconcile_order.into());
        if let Some(g) = &self.group {
            m.insert("group".into(), g.clone().into());
        }
        if let Some(g) = &self.gate_crd {
            m.insert("gate_crd".into(), g.clone().into());
        }
        Value::Object(m)
    }
}

/// A user-facing feature: a named set of assets and groups.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Feature {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub maturity: Option<String>,
    #[serde(default)]
    pub assets: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
    #[serde(default)]
    pub requires: Vec<String>,
    #[serde(default)]
    pub recommended: Vec<String>,
}

/// Framework-level settings: maturity and the opt-in annotation (`key=value`).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Framework {
    pub maturity: Option<String>,
    pub opt_in: Option<String>,
}

/// A loaded, validated catalog.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Where the catalog file is (repository-relative, or `builtin:` prefixed for display).
    pub path: String,
    pub assets: Vec<Asset>,
    pub features: Vec<Feature>,
    pub framework: Framework,
    /// Assets deliberately left out of feature tracking (they are still rendered).
    pub excluded_assets: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    #[serde(default)]
    assets: Vec<RawAsset>,
    #[serde(default)]
    features: Vec<Feature>,
    #[serde(default)]
    framework: Option<Framework>,
    #[serde(default)]
    excluded_assets: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAsset {
    name: Spanned<String>,
    path: String,
    #[serde(default)]
    phase: i64,
    install: Install,
    #[serde(default)]
    component: Option<String>,
    #[serde(default)]
    reconcile_order: i64,
    #[serde(default)]
    group: Option<String>,
    #[serde(default)]
    gate_crd: Option<String>,
    #[serde(default)]
    template_params: Option<Map<String, Value>>,
    #[serde(default)]
    conditions: Option<Vec<Spanned<Value>>>,
}

fn line_of<T>(s: &Spanned<T>) -> usize {
    usize::try_from(s.referenced.line()).unwrap_or(0)
}

fn str_field(obj: &Map<String, Value>, key: &str) -> Option<String> {
    match obj.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn parse_condition(path: &str, asset: &str, raw: &Spanned<Value>) -> Result<Condition> {
    let line = line_of(raw);
    let bad = |message: String| RenderError::Invalid {
        path: format!("`{path}` line {line}"),
        message: format!("asset `{asset}`: {message}"),
    };
    let Value::Object(obj) = &raw.value else {
        return Err(bad("a condition must be a mapping with a `type`".into()));
    };
    let kind = str_field(obj, "type").ok_or_else(|| bad("condition has no `type`".into()))?;
    let need = |key: &str| {
        str_field(obj, key).ok_or_else(|| bad(format!("condition `{kind}` needs `{key}`")))
    };
    let allowed: &[&str] = match kind.as_str() {
        "annotation" => &["type", "key", "value"],
        "hardware-detection" => &["type", "detector"],
        "feature-gate" => &["type", "value"],
        "topology" => &["type", "field"],
        "hco-field-unconfigured" => &["type", "path"],
        "image" => &["type", "key"],
        _ => {
            return Err(RenderError::UnknownCondition {
                path: path.to_owned(),
                line,
                asset: asset.to_owned(),
                kind,
                known: KNOWN_CONDITIONS,
            });
        }
    };
    if let Some(extra) = obj.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(bad(format!("condition `{kind}` has unknown key `{extra}`")));
    }
    Ok(match kind.as_str() {
        "annotation" => Condition::Annotation {
            key: need("key")?,
            value: str_field(obj, "value"),
        },
        "hardware-detection" => {
            let name = need("detector")?;
            let detector = Detector::parse(&name).ok_or_else(|| {
                bad(format!(
                    "unknown detector `{name}` (known: {})",
                    Detector::ALL.map(Detector::name).join(", ")
                ))
            })?;
            Condition::HardwareDetection { detector }
        }
        "feature-gate" => Condition::FeatureGate {
            gate: need("value")?,
        },
        "topology" => Condition::Topology {
            field: need("field")?,
        },
        "hco-field-unconfigured" => Condition::HcoFieldUnconfigured {
            path: need("path")?,
        },
        _ => Condition::Image { key: need("key")? },
    })
}

impl Catalog {
    /// Loads and validates the catalog at `path` in `source`.
    pub fn load(source: &Source, path: &str, limit: u64, display_prefix: &str) -> Result<Self> {
        let text = source.read_text(path, limit)?;
        Self::parse(&text, path, display_prefix)
    }

    /// Parses a catalog text; `path` locates it for template paths and errors.
    pub fn parse(text: &str, path: &str, display_prefix: &str) -> Result<Self> {
        let shown = format!("{display_prefix}{path}");
        let raw: RawCatalog = yaml::from_str(text, &shown)?;
        let mut assets = Vec::with_capacity(raw.assets.len());
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for a in raw.assets {
            let name = a.name.value.clone();
            let line = line_of(&a.name);
            if name.is_empty() {
                return Err(RenderError::Invalid {
                    path: format!("`{shown}` line {line}"),
                    message: "asset has an empty name".into(),
                });
            }
            if let Some(first_line) = seen.insert(name.clone(), line) {
                return Err(RenderError::DuplicateAsset {
                    path: shown,
                    name,
                    line,
                    first_line,
                });
            }
            let conditions = a
                .conditions
                .unwrap_or_default()
                .iter()
                .map(|c| parse_condition(&shown, &name, c))
                .collect::<Result<Vec<_>>>()?;
            let resolved_path = join_beside(path, &a.path).map_err(|err| match err {
                RenderError::PathEscape { path, reason } => RenderError::Invalid {
                    path: format!("`{shown}` line {line}"),
                    message: format!("asset `{name}`: template path `{path}` {reason}"),
                },
                other => other,
            })?;
            assets.push(Asset {
                name,
                path: a.path,
                resolved_path,
                phase: a.phase,
                install: a.install,
                component: a.component,
                reconcile_order: a.reconcile_order,
                group: a.group,
                gate_crd: a.gate_crd,
                template_params: a.template_params.unwrap_or_default(),
                conditions,
                line,
            });
        }
        let catalog = Self {
            path: shown,
            assets,
            features: raw.features,
            framework: raw.framework.unwrap_or_default(),
            excluded_assets: raw.excluded_assets,
        };
        catalog.check_references()?;
        Ok(catalog)
    }

    /// Features, and `excluded_assets`, must name assets and groups that exist.
    fn check_references(&self) -> Result<()> {
        let names: BTreeSet<&str> = self.assets.iter().map(|a| a.name.as_str()).collect();
        let groups: BTreeSet<&str> = self
            .assets
            .iter()
            .filter_map(|a| a.group.as_deref())
            .collect();
        let mut problems = Vec::new();
        let mut lists = Vec::new();
        for f in &self.features {
            lists.push((
                format!("features[{}].assets", f.name),
                &f.assets,
                &names,
                "asset",
            ));
            lists.push((
                format!("features[{}].groups", f.name),
                &f.groups,
                &groups,
                "group",
            ));
        }
        lists.push((
            "excluded_assets".into(),
            &self.excluded_assets,
            &names,
            "asset",
        ));
        for (field, list, known, what) in lists {
            for unknown in list.iter().filter(|n| !known.contains(n.as_str())) {
                problems.push(Problem {
                    location: self.path.clone(),
                    field: field.clone(),
                    message: format!("names unknown {what} `{unknown}`"),
                });
            }
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(RenderError::Problems(problems))
        }
    }

    /// The framework opt-in annotation as `(key, value)`, when the catalog declares one.
    pub fn framework_opt_in(&self) -> Option<(String, Option<String>)> {
        let raw = self.framework.opt_in.as_deref()?;
        Some(match raw.split_once('=') {
            Some((k, v)) => (k.trim().to_owned(), Some(v.trim().to_owned())),
            None => (raw.trim().to_owned(), None),
        })
    }

    /// The framework opt-in annotation (`key=value`, or `key`) when the catalog declares one
    /// and `cluster` does not carry it: then no asset of the catalog renders for the cluster.
    pub fn unmet_opt_in(&self, cluster: &crate::cluster::Cluster) -> Option<String> {
        let (key, value) = self.framework_opt_in()?;
        if cluster.has_annotation(&key, value.as_deref()) {
            return None;
        }
        Some(value.map_or_else(|| key.clone(), |v| format!("{key}={v}")))
    }

    /// The features an asset belongs to (by name or by group).
    pub fn features_of(&self, asset: &Asset) -> Vec<&str> {
        self.features
            .iter()
            .filter(|f| {
                f.assets.contains(&asset.name)
                    || asset
                        .group
                        .as_ref()
                        .is_some_and(|g| f.groups.iter().any(|x| x == g))
            })
            .map(|f| f.name.as_str())
            .collect()
    }

    /// Assets in render order: HyperConverged first, then by reconcile order, then catalog order.
    pub fn render_order(&self) -> Vec<&Asset> {
        let mut order: Vec<(usize, &Asset)> = self.assets.iter().enumerate().collect();
        order.sort_by_key(|(i, a)| (!a.is_hco(), a.reconcile_order, *i));
        order.into_iter().map(|(_, a)| a).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_and_aliases_share_conditions() {
        let text = "assets:\n  - name: a\n    path: a.yaml.j2\n    install: opt-in\n    conditions: &c\n      - type: image\n        key: x\n  - name: b\n    path: b.yaml.j2\n    install: opt-in\n    conditions: *c\n";
        let c = Catalog::parse(text, "assets/metadata.yaml", "").unwrap();
        assert_eq!(
            c.assets[1].conditions,
            vec![Condition::Image { key: "x".into() }]
        );
        assert_eq!(c.assets[1].resolved_path, "assets/b.yaml.j2");
    }

    #[test]
    fn duplicate_names_name_both_lines() {
        let text = "assets:\n  - name: a\n    path: a\n    install: always\n  - name: a\n    path: b\n    install: always\n";
        let err = Catalog::parse(text, "m.yaml", "").unwrap_err().to_string();
        assert_eq!(
            err,
            "`m.yaml` line 5: asset `a` is defined twice (first at line 2)"
        );
    }

    #[test]
    fn unknown_condition_types_name_the_asset() {
        let text = "assets:\n  - name: a\n    path: a\n    install: always\n    conditions:\n      - type: moon-phase\n        value: full\n";
        let err = Catalog::parse(text, "m.yaml", "").unwrap_err().to_string();
        assert!(
            err.contains("asset `a` has unknown condition type `moon-phase`"),
            "{err}"
        );
        assert!(err.contains("line 6"), "{err}");
    }

    #[test]
    fn hco_renders_first() {
        let text = "assets:\n  - name: a\n    path: a\n    install: always\n    reconcile_order: 0\n  - name: h\n    path: h\n    install: always\n    component: HyperConverged\n    reconcile_order: 0\n";
        let c = Catalog::parse(text, "m.yaml", "").unwrap();
        let order: Vec<_> = c.render_order().iter().map(|a| a.name.as_str()).collect();
        assert_eq!(order, ["h", "a"]);
    }
}
