//! Dev-only test helpers for plinth: a loopback fake Kubernetes API server that real kube-rs
//! clients talk to over HTTP.
//!
//! [`FakeApiServer::start`] binds `127.0.0.1:0` on a thread of its own (so both sync and async
//! tests, and child processes given its kubeconfig, can use it) and serves:
//!
//! - discovery: `/api`, `/apis`, `/api/v1`, `/apis/<group>/<version>`;
//! - `GET` of one object, `404` with a `Status` body when absent;
//! - `LIST` per type, cluster-wide or per namespace, with `limit`/`continue` pagination and
//!   `labelSelector` (`=`, `==`, `!=`, `in`, `notin`, existence); items are returned without
//!   `apiVersion`/`kind`, as the real server does;
//! - server-side apply (`PATCH` with `application/apply-patch+yaml`), with `fieldManager`
//!   (required), `force`, `dryRun=All` (the merged object is returned and nothing is stored),
//!   `resourceVersion` preconditions (`409` when stale), conflicts with fields another manager
//!   owns (`409` unless `force`), `generation` and `resourceVersion` bumps;
//! - `managedFields` in structured-merge-diff notation (`f:`, `k:`, `v:`, `.`) per manager and
//!   operation (and subresource), updated on apply (fields an applier stops applying are
//!   removed unless another manager owns them), on edits made as a named manager
//!   ([`FakeApiServer::edit_as`], [`FakeApiServer::scale_as`] through the `scale`
//!   subresource) and on objects seeded as created by a manager
//!   ([`Scenario::object_created_by`]), with times from a scenario clock
//!   ([`FakeApiServer::now`]);
//! - JSON patches (`PATCH` with `application/json-patch+json`, RFC 6902 with `test`) as an
//!   `Update` by the request's field manager, `422` when an operation does not apply;
//! - create (`POST`), update (`PUT`) and `DELETE` (a `Status`, or the object for custom
//!   resources and objects held by finalizers; preconditions; `propagationPolicy` recorded);
//! - Events (`events.k8s.io/v1` and core `v1`, [`Scenario::serve_events`]) validated on
//!   create as the real server does (`422 Invalid` with its causes) and listed by
//!   [`FakeApiServer::events`];
//! - `422` when a write changes an immutable field ([`IMMUTABLE`],
//!   [`Scenario::immutable_fields`]);
//! - kinds served while their `CustomResourceDefinition` is stored (optionally only after
//!   [`Scenario::crd_established_after`] more requests);
//! - optional RBAC ([`Scenario::with_rbac`], [`RbacRule`]): `403` with the real message;
//! - a record of every write ([`FakeApiServer::writes`], [`Write`]), controllers that react
//!   to writes ([`FakeApiServer::controller`]) and a latency per request
//!   ([`Scenario::with_latency`]);
//! - injectable faults ([`Fault`], by path, verb and call number): `429` with `Retry-After`,
//!   `500`/`503`, `504` timeouts, `409` conflicts, slow responses, dropped connections
//!   (before or after the request is processed), a body that never ends, LISTs that never
//!   stop sending `continue` tokens; and, with [`Scenario::serve_many`], discovery documents
//!   of any size.
//!
//! What it does **not** model: list types and merge keys come from a fixed table
//! (`fields.rs`), not from schemas (no `x-kubernetes-list-type`); no admission, `OpenAPI` or CRD
//! schema validation beyond Events and immutable fields; defaulting is only what a scenario
//! declares with [`Scenario::default_fields`]; apply bodies must be JSON (which kube-rs
//! sends); no watch, delete of a collection, garbage collection, merge patches,
//! subresource endpoints, field selectors, `resourceVersion` semantics on LIST, table output,
//! protobuf or authentication beyond an optional bearer token; namespaces need not exist;
//! continue tokens do not expire. `docs/fake-api-server.md` has the details.
//!
//! Beside it, for the cloud clients: [`stackit::FakeStackit`], a loopback fake of the STACKIT
//! `IaaS` API's `ListServers` and token endpoint with scenarios and faults (`stackit.rs`),
//! [`vpsie::FakeVpsie`], a loopback fake of the VPSie API's token request, VM list and node
//! groups with scenarios and faults (`vpsie.rs`), and [`prism::Prism`], Prism mocking a real
//! `OpenAPI` document to validate requests (`prism.rs`). The fakes serve through
//! `loopback.rs` (a loopback port, HTTP or HTTPS, a thread of its own).
//!
//! One concern per file: `server.rs` (serving, the request log and the write record, routing
//! by path, controllers), `discovery.rs`, `verbs.rs` (one function per verb: a new verb is one
//! more function), `store.rs` (objects, owners, apply, edits), `objects.rs` (create, update,
//! delete, CRDs), `validate.rs` (Events, immutable fields), `rbac.rs`, `fields.rs` (field
//! sets, merge keys, the merge), `selector.rs`, `tls.rs`, `faults.rs`
//! (what to inject and the response each fault gives), `reply.rs` (JSON and `Status`
//! responses), `scenario.rs` (what a server starts with) and [`git`] (a temporary git
//! repository for tests that drive real git) and [`tree`] (a snapshot of a folder tree).

pub mod chromium;
mod discovery;
mod faults;
pub mod fields;
pub mod git;
mod loopback;
mod objects;
pub mod prism;
mod rbac;
mod reply;
mod scenario;
mod selector;
mod server;
pub mod stackit;
mod store;
mod tls;
pub mod tree;
mod validate;
mod verbs;
pub mod vpsie;

pub use faults::{Fault, FaultKind};
pub use rbac::RbacRule;
pub use reply::Endless;
pub use scenario::Scenario;
pub use selector::Selector;
pub use server::{FakeApiServer, LoggedRequest, Write, describe};
pub use store::{ResourceType, plural_of, split_api_version};
pub use validate::IMMUTABLE;
