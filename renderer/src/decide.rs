//! Whether an asset applies to a cluster, and why: every condition is evaluated and
//! explained, so `render --explain` and the index can say what decided each asset.

use serde::Serialize;
use serde_json::Value;

use crate::catalog::{Asset, Catalog, Condition, Detector, Install, shown_annotation_value};
use crate::cluster::Cluster;
use crate::inventory::Inventory;

/// The outcome of one condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConditionOutcome {
    /// The condition as written (`annotation platform.kubevirt.io/enable-mtv=true`).
    pub condition: String,
    pub held: bool,
    /// The fact that decided it.
    pub because: String,
}

/// Whether an asset is included in a cluster, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub asset: String,
    pub included: bool,
    pub reason: String,
    pub conditions: Vec<ConditionOutcome>,
}

/// The facts conditions are evaluated against.
#[derive(Debug)]
pub struct Facts<'a> {
    pub cluster: &'a Cluster,
    pub inventory: Option<&'a Inventory>,
    /// The rendered HyperConverged, once it exists.
    pub hco: Option<&'a Value>,
}

fn dotted(value: &Value, path: &str) -> Option<Value> {
    let mut cur = value;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        cur = cur.get(part)?;
    }
    (!cur.is_null()).then(|| cur.clone())
}

impl Facts<'_> {
    fn detector(&self, d: Detector) -> (bool, String) {
        match self.inventory {
            None => (false, "the cluster has no inventory.yaml".to_owned()),
            Some(inv) => {
                let (held, nodes) = inv.detect(d);
                if held {
                    let mut shown: Vec<&str> = nodes.iter().take(3).copied().collect();
                    if nodes.len() > 3 {
                        shown.push("…");
                    }
                    (
                        true,
                        format!("{} on node(s) {}", d.name(), shown.join(", ")),
                    )
                } else {
                    (false, format!("no node in inventory.yaml has {}", d.name()))
                }
            }
        }
    }

    /// Evaluates one condition.
    pub fn evaluate(&self, c: &Condition) -> ConditionOutcome {
        let spec = &self.cluster.spec;
        let (held, because) = match c {
            // The cluster's value is never echoed (it lands in `--explain`, `catalog` and the
            // committed index, and an annotation may hold anything): only the key, whether it
            // is set, and the catalog's own wanted value.
            Condition::Annotation { key, value } => match (spec.annotations.get(key), value) {
                (None, _) => (false, format!("cluster has no annotation `{key}`")),
                (Some(v), Some(want)) if v != want => (
                    false,
                    format!(
                        "cluster annotation `{key}` is set, but not to `{}`",
                        shown_annotation_value(key, want)
                    ),
                ),
                (Some(_), Some(want)) => (
                    true,
                    format!(
                        "cluster annotation `{key}` is `{}`",
                        shown_annotation_value(key, want)
                    ),
                ),
                (Some(_), None) => (true, format!("cluster annotation `{key}` is set")),
            },
            Condition::HardwareDetection { detector } => self.detector(*detector),
            Condition::FeatureGate { gate } => {
                if spec.feature_gates.iter().any(|g| g == gate) {
                    (true, format!("feature gate `{gate}` is enabled"))
                } else {
                    (false, format!("feature gate `{gate}` is not enabled"))
                }
            }
            Condition::Topology { field } => {
                if let Some(v) = spec.topology.get(field) {
                    (*v, format!("cluster.yaml sets topology `{field}: {v}`"))
                } else if let Some(d) = Detector::parse(field) {
                    self.detector(d)
                } else {
                    (
                        false,
                        format!("topology `{field}` is not set for the cluster"),
                    )
                }
            }
            Condition::HcoFieldUnconfigured { path } => {
                match self.hco.and_then(|h| dotted(h, path)) {
                    Some(_) => (false, format!("the HyperConverged sets `{path}`")),
                    None => (true, format!("the HyperConverged leaves `{path}` unset")),
                }
            }
            Condition::Image { key } => match spec.images.get(key) {
                Some(_) => (true, format!("cluster names an image for `{key}`")),
                None => (false, format!("cluster `images` has no `{key}`")),
            },
        };
        ConditionOutcome {
            condition: c.to_string(),
            held,
            because,
        }
    }

    /// Decides one asset.
    pub fn decide(&self, catalog: &Catalog, asset: &Asset) -> Decision {
        let conditions: Vec<ConditionOutcome> =
            asset.conditions.iter().map(|c| self.evaluate(c)).collect();
        let failed = conditions.iter().find(|c| !c.held);
        let (included, reason) = if let Some((key, value)) = catalog.framework_opt_in()
            && !self.cluster.has_annotation(&key, value.as_deref())
        {
            let want = value.map_or(key.clone(), |v| {
                format!("{key}={}", shown_annotation_value(&key, &v))
            });
            (
                false,
                format!("the catalog's framework opt-in annotation `{want}` is not on the cluster"),
            )
        } else if let Some(f) = failed {
            (
                false,
                format!("`{}` does not hold: {}", f.condition, f.because),
            )
        } else {
            match (asset.install, conditions.len()) {
                (Install::OptIn, 0) => (
                    false,
                    "install: opt-in without conditions is never installed".to_owned(),
                ),
                (Install::OptIn, n) => (true, format!("opt-in and all {n} condition(s) hold")),
                (Install::Always, 0) => (true, "install: always".to_owned()),
                (Install::Always, n) => (
                    true,
                    format!("install: always and all {n} condition(s) hold"),
                ),
            }
        };
        Decision {
            asset: asset.name.clone(),
            included,
            reason,
            conditions,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value of a cluster annotation never appears in an explanation (it reaches
    /// `--explain`, `catalog` and the committed index): only the key, whether it is set, and
    /// the value the catalog asks for.
    fn parse_cluster(text: &str) -> Cluster {
        Cluster::parse(text, "clusters/c/cluster.yaml".to_owned(), "c").unwrap()
    }

    fn facts_of(cluster: &Cluster) -> Facts<'_> {
        Facts {
            cluster,
            inventory: None,
            hco: None,
        }
    }

    #[test]
    fn annotation_values_are_not_echoed() {
        let secret = "ghp_0123456789abcdefghijABCDEFGHIJ012345";
        let cluster = parse_cluster(&format!(
            "name: c\nannotations:\n  example.io/token: {secret}\n"
        ));
        let facts = facts_of(&cluster);
        let key = "example.io/token".to_owned();
        for (value, held) in [(None, true), (Some("other".to_owned()), false)] {
            let outcome = facts.evaluate(&Condition::Annotation {
                key: key.clone(),
                value,
            });
            assert_eq!(outcome.held, held);
            let text = format!("{} {}", outcome.condition, outcome.because);
            assert!(!text.contains(secret), "{text}");
            assert!(text.contains("example.io/token"), "{text}");
        }
        let outcome = facts.evaluate(&Condition::Annotation {
            key,
            value: Some(secret.to_owned()),
        });
        assert!(outcome.held);
        // A condition that holds asks for exactly the cluster's value: a secret-looking one
        // (by content, or under a credential-named key) is not shown either.
        let text = format!("{} {}", outcome.condition, outcome.because);
        assert!(!text.contains(secret), "{text}");
        let cluster = parse_cluster(
            "name: c\nannotations:\n  example.io/password: hunter2\n  example.io/tier: gold\n",
        );
        let facts = facts_of(&cluster);
        for (key, want, shown) in [
            ("example.io/password", "hunter2", false),
            ("example.io/password", "other", false),
            ("example.io/tier", "gold", true),
        ] {
            let outcome = facts.evaluate(&Condition::Annotation {
                key: key.to_owned(),
                value: Some(want.to_owned()),
            });
            let text = format!("{} {}", outcome.condition, outcome.because);
            assert_eq!(text.contains(want), shown, "{text}");
        }
    }
}
