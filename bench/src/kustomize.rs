//! The kustomize equivalent of a rendered fleet, for a side-by-side benchmark: a `base/` with
//! the objects every cluster has (in their most common form, without the cluster label) and
//! one overlay per cluster that adds its own objects, patches the base objects that differ
//! (RFC 6902, as `json_patch::diff` finds them) and sets the cluster label, so that
//! `kubectl kustomize overlays/<cluster>` builds the same objects plinth renders.

use std::collections::BTreeMap;
use std::path::Path;

use plinth_renderer::RenderedCluster;
use plinth_vocab::labels::LABEL_CLUSTER;
use plinth_vocab::yaml;
use serde_json::{Value, json};

/// What [`build`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LayoutStats {
    /// Objects in `base/`.
    pub base_objects: usize,
    /// Base objects patched by some overlay, counted per cluster.
    pub patches: usize,
    /// Objects only in a cluster's overlay, counted per cluster.
    pub overlay_objects: usize,
    pub files: usize,
}

/// An object's key for kustomize: apiVersion, kind, namespace and name.
type Key = (String, String, String, String);

fn key_of(v: &Value) -> Key {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    (
        s("/apiVersion"),
        s("/kind"),
        s("/metadata/namespace"),
        s("/metadata/name"),
    )
}

/// The object without the per-cluster label (the overlay's `labels` sets it back).
fn neutral(v: &Value) -> Value {
    let mut v = v.clone();
    if let Some(labels) = v
        .pointer_mut("/metadata/labels")
        .and_then(Value::as_object_mut)
    {
        labels.remove(LABEL_CLUSTER);
    }
    v
}

fn canonical(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn write(path: &Path, text: &str, stats: &mut LayoutStats) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent)?;
    }
    fs_err::write(path, text)?;
    stats.files += 1;
    Ok(())
}

/// The overlay folder of `cluster`, relative to the layout's root.
pub fn overlay_dir(cluster: &str) -> String {
    format!("overlays/{cluster}")
}

/// Writes the kustomize layout of `clusters` into `dir`.
pub fn build(dir: &Path, clusters: &[RenderedCluster]) -> std::io::Result<LayoutStats> {
    let mut stats = LayoutStats::default();
    // For every key: how many clusters have it, and how often each form occurs.
    let mut forms: BTreeMap<Key, BTreeMap<String, usize>> = BTreeMap::new();
    for c in clusters {
        for o in &c.objects {
            *forms
                .entry(key_of(&o.value))
                .or_default()
                .entry(canonical(&neutral(&o.value)))
                .or_default() += 1;
        }
    }
    let mut base: BTreeMap<Key, Value> = BTreeMap::new();
    for (key, counts) in forms {
        let present: usize = counts.values().sum();
        if present != clusters.len() {
            continue;
        }
        let mut best: Option<(&String, usize)> = None;
        for (form, n) in &counts {
            if best.is_none_or(|(_, m)| *n > m) {
                best = Some((form, *n));
            }
        }
        if let Some((form, _)) = best {
            base.insert(key, serde_json::from_str(form).unwrap_or(Value::Null));
        }
    }
    let mut resources = Vec::with_capacity(base.len());
    for (i, value) in base.values().enumerate() {
        let file = format!("object-{i:03}.yaml");
        write(
            &dir.join("base").join(&file),
            &yaml::to_string(value),
            &mut stats,
        )?;
        resources.push(file);
    }
    stats.base_objects = base.len();
    let kustomization = json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    });
    write(
        &dir.join("base/kustomization.yaml"),
        &yaml::to_string(&kustomization),
        &mut stats,
    )?;

    for c in clusters {
        let folder = dir.join(overlay_dir(&c.name));
        let mut resources = vec![Value::from("../../base")];
        let mut patches = Vec::new();
        for o in &c.objects {
            let key = key_of(&o.value);
            let mine = neutral(&o.value);
            match base.get(&key) {
                Some(b) if *b == mine => {}
                Some(b) => {
                    let ops = json_patch::diff(b, &mine);
                    let (api_version, kind, namespace, name) = &key;
                    let (group, version) =
                        api_version.rsplit_once('/').unwrap_or(("", api_version));
                    let mut target =
                        json!({"group": group, "version": version, "kind": kind, "name": name});
                    if !namespace.is_empty() {
                        target["namespace"] = namespace.clone().into();
                    }
                    patches.push(json!({
                        "target": target,
                        "patch": serde_json::to_string(&ops).unwrap_or_default(),
                    }));
                    stats.patches += 1;
                }
                None => {
                    let file = format!("object-{:03}.yaml", resources.len());
                    write(&folder.join(&file), &yaml::to_string(&mine), &mut stats)?;
                    resources.push(file.into());
                    stats.overlay_objects += 1;
                }
            }
        }
        let mut kustomization = json!({
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": resources,
            "labels": [{"pairs": {LABEL_CLUSTER: c.name}, "includeSelectors": false}],
        });
        if !patches.is_empty() {
            kustomization["patches"] = Value::Array(patches);
        }
        write(
            &folder.join("kustomization.yaml"),
            &yaml::to_string(&kustomization),
            &mut stats,
        )?;
    }
    Ok(stats)
}

/// Compares what `kubectl kustomize` built for a cluster with what plinth rendered; the error
/// names the first object that differs.
pub fn compare(built: &str, rendered: &RenderedCluster) -> Result<(), String> {
    let docs = yaml::from_str_multi(built)?;
    let got: BTreeMap<Key, Value> = docs.into_iter().map(|d| (key_of(&d), d)).collect();
    let want: BTreeMap<Key, &Value> = rendered
        .objects
        .iter()
        .map(|o| (key_of(&o.value), &o.value))
        .collect();
    for (key, w) in &want {
        match got.get(key) {
            None => return Err(format!("kustomize did not build {key:?}")),
            Some(g) if g != *w => {
                let ops = json_patch::diff(w, g);
                return Err(format!(
                    "{key:?} differs: {}",
                    serde_json::to_string(&ops).unwrap_or_default()
                ));
            }
            Some(_) => {}
        }
    }
    if let Some(extra) = got.keys().find(|k| !want.contains_key(*k)) {
        return Err(format!(
            "kustomize built {extra:?}, which plinth does not render"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use plinth_renderer::{Fleet, Source};

    use super::*;
    use crate::fleet;

    #[test]
    fn kubectl_kustomize_builds_what_plinth_renders() {
        let repo = tempfile::tempdir().unwrap();
        fleet::generate(repo.path(), 8, 3).unwrap();
        let fleet = Fleet::open(Source::dir(repo.path()).unwrap()).unwrap();
        let rendered: Vec<RenderedCluster> = fleet
            .cluster_names()
            .unwrap()
            .iter()
            .map(|n| fleet.render_cluster(n).unwrap())
            .collect();
        let layout = tempfile::tempdir().unwrap();
        let stats = build(layout.path(), &rendered).unwrap();
        assert!(stats.base_objects > 10, "{stats:?}");
        assert!(stats.patches > 0 && stats.overlay_objects > 0, "{stats:?}");

        let Ok(probe) = Command::new("kubectl")
            .arg("version")
            .arg("--client")
            .output()
        else {
            println!("skipped: kubectl not found");
            return;
        };
        assert!(probe.status.success());
        for c in &rendered {
            let out = Command::new("kubectl")
                .arg("kustomize")
                .arg(layout.path().join(overlay_dir(&c.name)))
                .output()
                .unwrap();
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{}: {stderr}", c.name);
            let text = String::from_utf8(out.stdout).unwrap();
            compare(&text, c).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        }
    }

    #[test]
    fn compare_names_the_object_that_differs() {
        let repo = tempfile::tempdir().unwrap();
        fleet::generate(repo.path(), 1, 3).unwrap();
        let fleet = Fleet::open(Source::dir(repo.path()).unwrap()).unwrap();
        let rendered = fleet.render_cluster(&fleet::cluster_name(0)).unwrap();
        let mut text = String::new();
        for o in &rendered.objects {
            text.push_str("---\n");
            text.push_str(&yaml::to_string(&o.value));
        }
        compare(&text, &rendered).unwrap();
        let changed = text.replacen(
            "completionTimeoutPerGiB: 800",
            "completionTimeoutPerGiB: 801",
            1,
        );
        let err = compare(&changed, &rendered).unwrap_err();
        assert!(
            err.contains("HyperConverged") && err.contains("801"),
            "{err}"
        );
    }
}
