//! `plinth catalog`: the assets of the catalog, the features they make up, missing
//! templates, and per cluster which assets apply and why.

use std::fmt::Write as _;

use plinth_vocab::redact::Redactor;
use serde_json::json;

use super::Outcome;
use super::shared;
use crate::args::{CatalogArgs, ListFormat, RepoArg};
use crate::command_error::CommandError;
use crate::settings::GlobalSettings;

pub fn run(args: CatalogArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let printer = global.printer;
    let CatalogArgs {
        repo: RepoArg { repo },
        clusters,
        format,
    } = args;
    let fleet = shared::open_fleet(&repo)?;
    let catalog = &fleet.catalog;
    let missing = fleet.missing_templates()?;
    let selection = if clusters.is_empty() {
        Vec::new()
    } else {
        fleet.select(&clusters, None)?.names
    };
    let mut explained = Vec::new();
    for name in &selection {
        let prepared = fleet.prepare(name)?;
        let (decisions, err) = fleet.explain(&prepared);
        // A render error may quote a value: redacted like every error (docs/security.md).
        let err = err.map(|e| Redactor::shared().redact_text(&e.to_string()));
        explained.push((name.clone(), decisions, err));
    }

    let text = match format {
        ListFormat::Json => {
            let assets: Vec<_> = catalog
                .assets
                .iter()
                .map(|a| {
                    json!({
                        "name": a.name,
                        "path": a.path,
                        "phase": a.phase,
                        "install": a.install.as_str(),
                        "component": a.component,
                        "reconcileOrder": a.reconcile_order,
                        "group": a.group,
                        "gateCrd": a.gate_crd,
                        "conditions": a.conditions.iter().map(ToString::to_string).collect::<Vec<_>>(),
                        "features": catalog.features_of(a),
                        "templateMissing": missing.iter().any(|(n, _)| *n == a.name),
                    })
                })
                .collect();
            let clusters: Vec<_> = explained
                .iter()
                .map(|(name, decisions, err)| {
                    json!({"cluster": name, "decisions": decisions, "renderError": err})
                })
                .collect();
            let mut doc = json!({
                "catalog": catalog.path,
                "assets": assets,
                "features": catalog.features,
                "framework": catalog.framework,
                "excludedAssets": catalog.excluded_assets,
                "clusters": clusters,
            });
            omit_nulls(&mut doc);
            // Every string passes the one text redaction on its own, so the document stays
            // valid JSON (a `key=value` rule on the whole text would run to the line's end).
            redact_strings(&mut doc, Redactor::shared());
            format!("{}\n", serde_json::to_string_pretty(&doc)?)
        }
        ListFormat::Text => {
            let mut out = format!(
                "catalog {} ({} assets)\n",
                catalog.path,
                catalog.assets.len()
            );
            let width = catalog
                .assets
                .iter()
                .map(|a| a.name.len())
                .max()
                .unwrap_or(0);
            for a in &catalog.assets {
                let conds = if a.conditions.is_empty() {
                    "-".to_owned()
                } else {
                    a.conditions
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join(" AND ")
                };
                let _ = writeln!(
                    out,
                    "  {:width$}  order {:>2}  {:7}  {:24}  {conds}",
                    a.name,
                    a.reconcile_order,
                    a.install.as_str(),
                    a.component.as_deref().unwrap_or("-"),
                );
            }
            for (asset, path) in &missing {
                let _ = writeln!(out, "  ! asset `{asset}`: template `{path}` does not exist");
            }
            if !catalog.features.is_empty() {
                let _ = writeln!(out, "features");
                for f in &catalog.features {
                    let _ = writeln!(
                        out,
                        "  {} [{}]: {}",
                        f.name,
                        f.maturity.as_deref().unwrap_or("ga"),
                        f.description
                    );
                }
            }
            for (name, decisions, err) in &explained {
                let _ = writeln!(out, "cluster {name}");
                for d in decisions {
                    let mark = if d.included { '+' } else { '-' };
                    let _ = writeln!(out, "  {mark} {:width$}  {}", d.asset, d.reason);
                }
                if let Some(e) = err {
                    let _ = writeln!(out, "  ! the cluster does not render: {e}");
                }
            }
            out
        }
    };
    // The catalog's own texts (condition values, feature names) pass the one text
    // redaction like every other output (docs/security.md); JSON string by string above.
    let text = match format {
        ListFormat::Json => text,
        ListFormat::Text => Redactor::shared().redact_text(&text),
    };
    printer.data(&text)?;
    Ok(Outcome::Clean)
}

/// Leaves out every field whose value is `null`, at any depth, as `diff` and `drift` leave out
/// absent optional fields: a field is either there with a value or not there at all.
fn omit_nulls(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(omit_nulls);
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(omit_nulls),
        _ => {}
    }
}

/// Redacts every string of a JSON document in place.
fn redact_strings(value: &mut serde_json::Value, redactor: &Redactor) {
    match value {
        serde_json::Value::String(s) => *s = redactor.redact_text(s),
        serde_json::Value::Object(map) => {
            for v in map.values_mut() {
                redact_strings(v, redactor);
            }
        }
        serde_json::Value::Array(items) => {
            for v in items {
                redact_strings(v, redactor);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON catalog stays valid JSON when a string holds a credential-like `key=value`
    /// (the text rule replaces to the end of a line: per string, not over the document).
    #[test]
    fn redacted_json_stays_valid() {
        let mut v = json!({"conditions": ["annotation example.io/password=hunter2", "x"]});
        redact_strings(&mut v, &Redactor::with_key(b"k"));
        let text = serde_json::to_string_pretty(&v).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["conditions"][1], "x");
    }

    #[test]
    fn nulls_are_left_out_at_every_depth() {
        let mut v = json!({"a": null, "b": [{"c": null, "d": 1}, null], "e": {"f": null}});
        omit_nulls(&mut v);
        assert_eq!(v, json!({"b": [{"d": 1}, null], "e": {}}));
    }
}
