//! Discovery: `/api`, `/apis` and the resource list of each group version, built from the
//! types the store serves (a CRD's kinds only while the CRD is stored and established).

use std::collections::BTreeMap;

use http::StatusCode;
use serde_json::{Value, json};

use crate::reply::{Reply, no_such_resource, reply};
use crate::store::Store;

/// The types the store serves now (not those whose CRD is missing or not established).
fn served(store: &Store) -> impl Iterator<Item = &crate::store::ResourceType> {
    store
        .types
        .iter()
        .enumerate()
        .filter(|(i, _)| !store.unserved.contains(i))
        .map(|(_, t)| t)
}

/// `/api`: the core group's versions.
pub(crate) fn core_versions() -> Reply {
    reply(
        StatusCode::OK,
        &json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
    )
}

/// `/apis`: every named group and its versions.
pub(crate) fn group_list(store: &Store) -> Value {
    let mut groups: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for t in served(store).filter(|t| !t.group.is_empty()) {
        let versions = groups.entry(t.group.as_str()).or_default();
        if !versions.contains(&t.version.as_str()) {
            versions.push(t.version.as_str());
        }
    }
    let groups: Vec<Value> = groups
        .into_iter()
        .map(|(name, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": format!("{name}/{v}"), "version": v}))
                .collect();
            json!({"name": name, "versions": versions, "preferredVersion": versions[0]})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/api/v1` or `/apis/<group>/<version>`: the resources of one group version.
pub(crate) fn resource_list(store: &Store, group: &str, version: &str) -> Reply {
    let resources: Vec<Value> = served(store)
        .filter(|t| t.group == group && t.version == version)
        .flat_map(|t| {
            let main = json!({
                "name": t.plural,
                "singularName": t.kind.to_ascii_lowercase(),
                "namespaced": t.namespaced,
                "kind": t.kind,
                "verbs": t.verbs,
            });
            let subresources = t.subresources.iter().map(|sub| {
                json!({
                    "name": format!("{}/{sub}", t.plural),
                    "singularName": "",
                    "namespaced": t.namespaced,
                    "kind": t.kind,
                    "verbs": ["get", "patch"],
                })
            });
            std::iter::once(main).chain(subresources)
        })
        .collect();
    if resources.is_empty() {
        return no_such_resource();
    }
    let gv = if group.is_empty() {
        version.to_owned()
    } else {
        format!("{group}/{version}")
    };
    reply(
        StatusCode::OK,
        &json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}
