//! Live state from a snapshot: files or folders as `kubectl get -o yaml` writes them (single
//! objects, multi-document files, `kind: List` or `*List` with `items`), YAML or JSON.

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde_json::Value;

use plinth_renderer::yaml;

use crate::desired::DesiredObject;
use crate::error::DriftError;
use crate::live::{KindRef, LiveSet, ObjectKey, group_of};
use crate::scope::Placement;

/// Reads a snapshot file or folder (recursively; `.yaml`, `.yml` and `.json` files, hidden
/// entries skipped). Every (kind, namespace) in `wanted` counts as listed: a snapshot is taken
/// to hold everything that was live.
pub fn load(path: &Path, wanted: &[KindRef]) -> Result<LiveSet, DriftError> {
    let mut live = read(path)?;
    mark_listed(&mut live, wanted);
    Ok(live)
}

/// Reads a snapshot for the desired objects of a cluster: places them first (namespace
/// defaulting, [`Placement::from_snapshot`]: a namespaced object rendered without a namespace
/// is compared in `namespace`, else `default`), then counts their kinds and namespaces as
/// listed, as [`load`] does.
pub fn load_for(
    path: &Path,
    desired: &mut [DesiredObject],
    namespace: Option<&str>,
) -> Result<LiveSet, DriftError> {
    let mut live = read(path)?;
    Placement::from_snapshot(&live, namespace).place(desired);
    mark_listed(&mut live, &crate::desired::kinds(desired));
    Ok(live)
}

/// Every object of a snapshot file or folder, nothing marked listed.
fn read(path: &Path) -> Result<LiveSet, DriftError> {
    let mut files = Vec::new();
    collect(path, &mut files)?;
    files.sort();
    // Files parse independently: on every core, then merged in file order.
    let parsed: Vec<Result<Vec<Value>, DriftError>> =
        files.par_iter().map(|f| parse_file(f)).collect();
    let mut live = LiveSet::default();
    for (file, docs) in files.iter().zip(parsed) {
        for doc in docs? {
            add(&mut live, doc, file)?;
        }
    }
    Ok(live)
}

fn mark_listed(live: &mut LiveSet, wanted: &[KindRef]) {
    for w in wanted {
        live.listed.insert((
            group_of(&w.api_version).to_owned(),
            w.kind.clone(),
            w.namespace.clone(),
        ));
    }
}

/// Parses snapshot text (one file's content) into `live`; `origin` names it in errors.
pub fn add_text(live: &mut LiveSet, text: &str, origin: &Path) -> Result<(), DriftError> {
    let docs = yaml::from_str_multi(text).map_err(|message| DriftError::Yaml {
        path: origin.display().to_string(),
        message,
    })?;
    for doc in docs {
        add(live, doc, origin)?;
    }
    Ok(())
}

/// The documents of one file: JSON (`kubectl get -o json`) through the JSON parser, which is
/// much faster, anything else as YAML.
fn parse_file(file: &Path) -> Result<Vec<Value>, DriftError> {
    let text = fs_err::read_to_string(file).map_err(|source| DriftError::Io {
        path: file.display().to_string(),
        source,
    })?;
    if text.trim_start().starts_with('{')
        && let Ok(value) = serde_json::from_str::<Value>(&text)
    {
        return Ok(vec![value]);
    }
    yaml::from_str_multi(&text).map_err(|message| DriftError::Yaml {
        path: file.display().to_string(),
        message,
    })
}

fn collect(path: &Path, out: &mut Vec<PathBuf>) -> Result<(), DriftError> {
    let meta = fs_err::metadata(path).map_err(|source| DriftError::Io {
        path: path.display().to_string(),
        source,
    })?;
    if meta.is_file() {
        out.push(path.to_path_buf());
        return Ok(());
    }
    let entries = fs_err::read_dir(path).map_err(|source| DriftError::Io {
        path: path.display().to_string(),
        source,
    })?;
    for entry in entries {
        let entry = entry.map_err(|source| DriftError::Io {
            path: path.display().to_string(),
            source,
        })?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let child = entry.path();
        if child.is_dir() {
            collect(&child, out)?;
        } else if [".yaml", ".yml", ".json"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(child);
        }
    }
    Ok(())
}

fn add(live: &mut LiveSet, doc: Value, file: &Path) -> Result<(), DriftError> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or_default();
    let api_version = doc
        .get("apiVersion")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if api_version.starts_with("kustomize.config.k8s.io/") {
        // A kustomization beside the objects (a rendered folder used as a snapshot): not live.
        return Ok(());
    }
    if kind == "List" || (kind.ends_with("List") && doc.get("items").is_some()) {
        let Some(Value::Array(items)) = doc.get("items") else {
            return Err(DriftError::Invalid {
                path: file.display().to_string(),
                message: format!("`{kind}` has no `items` list"),
            });
        };
        // Items of a typed list (`PodList`) may omit apiVersion/kind.
        let item_kind = kind.strip_suffix("List").filter(|k| !k.is_empty());
        let api_version = doc.get("apiVersion").and_then(Value::as_str);
        for item in items {
            let mut item = item.clone();
            if let (Some(k), Some(obj)) = (item_kind, item.as_object_mut()) {
                obj.entry("kind")
                    .or_insert_with(|| Value::String(k.to_owned()));
                if let Some(v) = api_version {
                    obj.entry("apiVersion")
                        .or_insert_with(|| Value::String(v.to_owned()));
                }
            }
            add(live, item, file)?;
        }
        return Ok(());
    }
    let key = ObjectKey::of(&doc).ok_or_else(|| DriftError::Invalid {
        path: file.display().to_string(),
        message: format!("an object lacks `apiVersion`, `kind` or `metadata.name` (kind `{kind}`)"),
    })?;
    live.objects.insert(key, doc);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_lists_typed_lists_and_multi_docs() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(
            dir.path().join("a.yaml"),
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a, namespace: ns}\n",
        )
        .unwrap();
        fs_err::create_dir(dir.path().join("sub")).unwrap();
        fs_err::write(
            dir.path().join("sub/b.yml"),
            "apiVersion: v1\nkind: ServiceList\nitems:\n- metadata: {name: s, namespace: ns}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: ns}\n",
        )
        .unwrap();
        fs_err::write(dir.path().join("notes.txt"), "not yaml: [").unwrap();
        let wanted = [KindRef {
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("ns".into()),
        }];
        let live = load(dir.path(), &wanted).unwrap();
        let keys: Vec<String> = live.objects.keys().map(ToString::to_string).collect();
        assert_eq!(
            keys,
            ["ConfigMap/ns/a", "Service/ns/s", "Deployment.apps/ns/d"]
        );
        assert!(
            live.listed
                .contains(&(String::new(), "ConfigMap".into(), Some("ns".into())))
        );
    }

    #[test]
    fn bad_files_name_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.yaml");
        fs_err::write(&path, "kind: ConfigMap\nmetadata: {}\n").unwrap();
        let err = load(dir.path(), &[]).unwrap_err();
        assert!(err.to_string().contains("bad.yaml"), "{err}");
    }
}
