//! Cloud accounts of a cluster (`clouds:` in `cluster.yaml` and overlays), for cloud drift
//! (`plinth drift --cloud`): nothing rendered depends on them. Composed from the overlays a
//! cluster composes and `cluster.yaml`, field by field ([`CloudSettings::compose`]).

use std::collections::BTreeMap;

use serde::Deserialize;

/// `clouds` of `cluster.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct Clouds {
    pub stackit: Option<StackitCloud>,
    pub vpsie: Option<VpsieCloud>,
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

/// The settings of one cloud in `clouds:`: optional text fields, composed field by field.
pub trait CloudSettings: Default + Clone {
    /// Each field, by its camelCase name.
    fn fields_mut(&mut self) -> Vec<(&'static str, &mut Option<String>)>;

    /// `layers` (file, settings) composed in order, each set field of a later layer winning;
    /// `None` when no layer sets the cloud.
    fn compose<'a>(
        layers: impl IntoIterator<Item = (&'a str, Option<&'a Self>)>,
    ) -> Option<Sourced<Self>>
    where
        Self: 'a,
    {
        let mut out: Option<Sourced<Self>> = None;
        for (file, layer) in layers {
            let Some(layer) = layer else { continue };
            let composed = out.get_or_insert_with(Sourced::default);
            let mut layer = layer.clone();
            let from = layer.fields_mut();
            let to = composed.value.fields_mut();
            let mut set = Vec::new();
            for ((name, from), (_, to)) in from.into_iter().zip(to) {
                if let Some(v) = from.take() {
                    *to = Some(v);
                    set.push(name);
                }
            }
            for name in set {
                composed.origins.insert(name, file.to_owned());
            }
        }
        out
    }
}

impl CloudSettings for StackitCloud {
    fn fields_mut(&mut self) -> Vec<(&'static str, &mut Option<String>)> {
        vec![
            ("projectId", &mut self.project_id),
            ("region", &mut self.region),
            ("endpoint", &mut self.endpoint),
            ("apiVersion", &mut self.api_version),
            ("caFile", &mut self.ca_file),
        ]
    }
}

/// `clouds.vpsie`: where the cluster's VPSie VMs and node groups are. Values are checked
/// where they are used; this only reads them.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields, rename_all = "camelCase")]
pub struct VpsieCloud {
    /// The API's base URL (default `https://api.vpsie.com/v2`; public clients disagree on the
    /// prefix, so it is a setting).
    pub endpoint: Option<String>,
    /// The VPSie Kubernetes cluster's identifier (a UUID), whose node groups are listed;
    /// default: the rendered NodeGroups' `resourceIdentifier`.
    pub cluster_identifier: Option<String>,
    /// `bearer` (`Authorization: Bearer`, the default) or `vpsie-auth` (`Vpsie-Auth`).
    pub auth_header: Option<String>,
    /// A CA bundle (PEM) to trust besides the system's, repository-relative.
    pub ca_file: Option<String>,
    /// How long a VM may take to join as a Node before it is `failed to join` (`15m`, `900s`,
    /// `1h`; default 15 minutes, the autoscaler's).
    pub discovery_timeout: Option<String>,
    /// The Secret holding `clientId`, `clientSecret` (or `token`) and optional `url`, as
    /// `namespace/name` (default `kube-system/vpsie-secret`, the autoscaler's).
    pub credentials_secret: Option<String>,
}

impl CloudSettings for VpsieCloud {
    fn fields_mut(&mut self) -> Vec<(&'static str, &mut Option<String>)> {
        vec![
            ("endpoint", &mut self.endpoint),
            ("clusterIdentifier", &mut self.cluster_identifier),
            ("authHeader", &mut self.auth_header),
            ("caFile", &mut self.ca_file),
            ("discoveryTimeout", &mut self.discovery_timeout),
            ("credentialsSecret", &mut self.credentials_secret),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Later layers win field by field, and each field names the file that set it.
    #[test]
    fn vpsie_settings_compose_field_by_field() {
        let overlay = VpsieCloud {
            endpoint: Some("https://a.example/v2".to_owned()),
            discovery_timeout: Some("20m".to_owned()),
            ..VpsieCloud::default()
        };
        let cluster = VpsieCloud {
            endpoint: Some("https://b.example/v2".to_owned()),
            ..VpsieCloud::default()
        };
        let composed = VpsieCloud::compose([
            ("overlays/o/overlay.yaml", Some(&overlay)),
            ("overlays/p/overlay.yaml", None),
            ("clusters/c/cluster.yaml", Some(&cluster)),
        ])
        .unwrap();
        assert_eq!(
            composed.value.endpoint.as_deref(),
            Some("https://b.example/v2")
        );
        assert_eq!(composed.value.discovery_timeout.as_deref(), Some("20m"));
        assert_eq!(composed.origin("endpoint"), Some("clusters/c/cluster.yaml"));
        assert_eq!(
            composed.origin("discoveryTimeout"),
            Some("overlays/o/overlay.yaml")
        );
        assert_eq!(composed.origin("caFile"), None);
        assert!(VpsieCloud::compose([("c", None)]).is_none());
    }
}
