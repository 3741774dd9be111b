//! What a fake server starts with ([`Scenario`]): the types it serves, the objects it
//! stores, the fields it defaults on apply, an optional bearer token and TLS.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::store::ResourceType;

/// The objects and types a fake server starts with.
#[derive(Debug, Clone, Default)]
pub struct Scenario {
    pub(crate) types: Vec<ResourceType>,
    /// Each object with the manager that created it, if any.
    pub(crate) objects: Vec<(Value, Option<String>)>,
    pub(crate) defaults: BTreeMap<String, Value>,
    pub(crate) token: Option<String>,
    pub(crate) tls: bool,
}

impl Scenario {
    /// An empty scenario that still serves the core types plinth reads (`Namespace`, `Node`,
    /// `ConfigMap`, `Secret`, `Service`, `ServiceAccount`) and `apps/v1` `Deployment`.
    pub fn new() -> Self {
        let types = [
            ("v1", "Namespace", false),
            ("v1", "Node", false),
            ("v1", "ConfigMap", true),
            ("v1", "Secret", true),
            ("v1", "Service", true),
            ("v1", "ServiceAccount", true),
            ("apps/v1", "Deployment", true),
        ]
        .into_iter()
        .map(|(av, k, ns)| ResourceType::new(av, k, ns))
        .collect();
        Self {
            types,
            ..Self::default()
        }
    }

    /// Serves one more type (no objects needed).
    #[must_use]
    pub fn serve(mut self, api_version: &str, kind: &str, namespaced: bool) -> Self {
        self.types
            .push(ResourceType::new(api_version, kind, namespaced));
        self
    }

    /// Serves `count` more made-up kinds (`Kind000000`, `Kind000001`, ...) in `api_version`,
    /// namespaced and listable: a discovery document as large as a test needs.
    #[must_use]
    pub fn serve_many(mut self, api_version: &str, count: usize) -> Self {
        self.types.extend(
            (0..count).map(|i| ResourceType::new(api_version, &format!("Kind{i:06}"), true)),
        );
        self
    }

    /// Serves one more type as described, with its discovery verbs and subresources
    /// ([`ResourceType::with_verbs`], [`ResourceType::with_subresource`]).
    #[must_use]
    pub fn serve_type(mut self, resource_type: ResourceType) -> Self {
        self.types.push(resource_type);
        self
    }

    /// Adds a stored object; its type is served from then on (namespaced when the object has a
    /// namespace and the kind is not a known cluster-scoped one).
    #[must_use]
    pub fn object(mut self, value: Value) -> Self {
        self.objects.push((value, None));
        self
    }

    /// Adds a stored object as created by `manager` (e.g. `kubectl-client-side-apply` or
    /// `kubectl-create`): one `Update` entry in its `managedFields` owns every field of the
    /// stored object, declared defaults included. An object added with [`Scenario::object`]
    /// has no `managedFields`.
    #[must_use]
    pub fn object_created_by(mut self, manager: &str, value: Value) -> Self {
        self.objects.push((value, Some(manager.to_owned())));
        self
    }

    /// Adds many stored objects.
    #[must_use]
    pub fn objects(mut self, values: impl IntoIterator<Item = Value>) -> Self {
        self.objects.extend(values.into_iter().map(|v| (v, None)));
        self
    }

    /// Fields the server fills in on apply for a kind when the applied object leaves them out
    /// (the only defaulting the fake does).
    #[must_use]
    pub fn default_fields(mut self, kind: &str, fields: Value) -> Self {
        self.defaults.insert(kind.to_owned(), fields);
        self
    }

    /// Requires `Authorization: Bearer <token>` on every request (`401` otherwise) and puts
    /// the token in the generated kubeconfig.
    #[must_use]
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Serves HTTPS with a certificate for `127.0.0.1` issued by a fresh test CA; the
    /// kubeconfig carries the CA (`certificate-authority-data`), see [`crate::FakeApiServer::ca_pem`].
    #[must_use]
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }
}
