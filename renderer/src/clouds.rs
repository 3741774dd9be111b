//! Cloud accounts of a cluster (`clouds:` in `cluster.yaml` and overlays), for cloud drift
//! (`plinth drift --cloud`): nothing rendered depends on them. Composed from the overlays a
//! cluster composes and `cluster.yaml`, field by field ([`StackitCloud::compose`]).

use std::collections::BTreeMap;

use serde::Deserialize;

/// `clouds` of `cluster.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Clouds {
    pub stackit: Option<StackitCloud>,
}

/// `clouds.stackit`: where the cluster's STACKIT servers are. Values are checked where they
/// are used (the client names the field); this only reads them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct StackitCloud {
    /// The project (a UUID).
    pub project_id: Option<String>,
    /// The region (`eu01`).
    pub region: Option<String>,
    /// The `IaaS` API's base URL; no default (`STACKIT_API_ENDPOINT` otherwise).
    pub endpoint: Option<String>,
    /// `v1` or `v2` (default `v2`, what the provider calls).
    pub api_version: Option<String>,
    /// A CA bundle (PEM) to trust besides the system's, repository-relative.
    pub ca_file: Option<String>,
}

/// A value composed from several files, with the file each field came from (by field name).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sourced<T> {
    pub value: T,
    pub origins: BTreeMap<&'static str, String>,
}

impl<T> Sourced<T> {
    /// The file that set `field` (its camelCase name), for messages.
    pub fn origin(&self, field: &str) -> Option<&str> {
        self.origins.get(field).map(String::as_str)
    }
}

impl StackitCloud {
    /// `layers` (file, settings) composed in order, each set field of a later layer winning;
    /// `None` when no layer sets `clouds.stackit`.
    pub fn compose<'a>(
        layers: impl IntoIterator<Item = (&'a str, Option<&'a Self>)>,
    ) -> Option<Sourced<Self>> {
        let mut out: Option<Sourced<Self>> = None;
        for (file, layer) in layers {
            let Some(layer) = layer else { continue };
            let composed = out.get_or_insert_with(Sourced::default);
            let fields: [(&'static str, &Option<String>, &mut Option<String>); 5] = [
                (
                    "projectId",
                    &layer.project_id,
                    &mut composed.value.project_id,
                ),
                ("region", &layer.region, &mut composed.value.region),
                ("endpoint", &layer.endpoint, &mut composed.value.endpoint),
                (
                    "apiVersion",
                    &layer.api_version,
                    &mut composed.value.api_version,
                ),
                ("caFile", &layer.ca_file, &mut composed.value.ca_file),
            ];
            for (name, from, to) in fields {
                if let Some(v) = from {
                    *to = Some(v.clone());
                    composed.origins.insert(name, file.to_owned());
                }
            }
        }
        out
    }
}
