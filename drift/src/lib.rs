//! plinth's drift report: compares the rendered manifests of a cluster with its live state
//! (a `kubectl get -o yaml` snapshot or a live cluster), honouring the per-object override
//! annotations of the Patched Baseline.
//!
//! The core is pure and synchronous: [`desired`] and [`snapshot`] read files,
//! [`pipeline::evaluate`] runs the override steps, [`compare`] finds field-level changes and
//! [`report`] renders the result in every format.

pub mod cluster;
pub mod compare;
pub mod desired;
pub mod discover;
pub mod error;
pub mod live;
pub mod normalize;
pub mod overrides;
pub mod pipeline;
pub mod report;
pub mod retry;
pub mod scope;
pub mod snapshot;

pub use cluster::{ClusterLive, ConnectOptions};
pub use compare::{compare_client_side, compare_server_side};
pub use desired::DesiredObject;
pub use error::DriftError;
pub use live::{KindRef, LiveSet};
pub use pipeline::{Evaluation, Outcome, evaluate};
pub use report::{Format, Mode, ObjectResult, Report, Status, Verdict};
