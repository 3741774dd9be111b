//! What a fake server starts with ([`Scenario`]): the types it serves, the objects it
//! stores, the fields it defaults on apply and those it keeps immutable, how soon a CRD's
//! kinds are served, an optional bearer token, TLS, RBAC rules and a latency per request.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::rbac::RbacRule;
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
    /// Immutable fields per kind replacing the defaults of [`crate::IMMUTABLE`].
    pub(crate) immutable: BTreeMap<String, Vec<String>>,
    pub(crate) crd_delay: u32,
    pub(crate) rbac: Option<Vec<RbacRule>>,
    pub(crate) user: Option<String>,
    pub(crate) latency: Duration,
    pub(crate) require_namespaces: bool,
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

    /// Serves `events.k8s.io/v1` and core `v1` `Event` (namespaced; created with `POST`,
    /// validated, listable; [`crate::FakeApiServer::events`]). Not served unless asked, so
    /// the discovery of other tests stays as it was.
    #[must_use]
    pub fn serve_events(self) -> Self {
        self.serve("events.k8s.io/v1", "Event", true)
            .serve("v1", "Event", true)
    }

    /// The fields of `kind` a write (apply, update) may not change once set (dotted paths,
    /// e.g. `spec.selector`), replacing the defaults ([`crate::IMMUTABLE`]); `&[]`: none.
    #[must_use]
    pub fn immutable_fields(mut self, kind: &str, paths: &[&str]) -> Self {
        self.immutable.insert(
            kind.to_owned(),
            paths.iter().map(|p| (*p).to_owned()).collect(),
        );
        self
    }

    /// A CRD created (or changed to serve a new version) by a client is established, and its
    /// kinds served, only after this many more requests (0, the default: at once), as the
    /// real server takes a moment before it serves a new kind.
    #[must_use]
    pub fn crd_established_after(mut self, requests: u32) -> Self {
        self.crd_delay = requests;
        self
    }

    /// Checks every resource request against these rules (a ClusterRole-like list, see
    /// [`RbacRule`]): a request no rule allows gets `403 Forbidden`. Discovery is always
    /// allowed.
    #[must_use]
    pub fn with_rbac(mut self, rules: Vec<RbacRule>) -> Self {
        self.rbac = Some(rules);
        self
    }

    /// The user named in `403` messages under [`Scenario::with_rbac`] (default
    /// `system:serviceaccount:plinth:plinth`).
    #[must_use]
    pub fn user(mut self, name: &str) -> Self {
        self.user = Some(name.to_owned());
        self
    }

    /// Creates objects (by apply or `POST`) only in a Namespace that is stored and not being
    /// deleted, as the real server's namespace lifecycle admission does (`404 namespaces "x"
    /// not found`, `403 ... because it is being terminated`); without it any namespace will do.
    #[must_use]
    pub fn require_namespaces(mut self) -> Self {
        self.require_namespaces = true;
        self
    }

    /// Delays every response by `latency` (a round trip to a remote API server, for
    /// benchmarks); requests still overlap.
    #[must_use]
    pub fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
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
