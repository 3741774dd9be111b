//! plinth's drift report: compares the rendered manifests of a cluster with its live state
//! (a `kubectl get -o yaml` snapshot or a live cluster), honouring the per-object override
//! annotations of the Patched Baseline.
//!
//! Three layers, arrows pointing down only:
//! - [`engine`] runs a whole drift as one library call (desired state, live source, comparison,
//!   orphans, hardware drift, report);
//! - [`source`] (live sources: [`source::snapshot`] files and [`source::kube`] clusters) and
//!   [`transport`] (the HTTP layer every remote source shares: retries, deadline) are the I/O
//!   edges;
//! - [`core`] is pure and synchronous: desired state, overrides, normalisation, comparison,
//!   the pipeline, scope, reports and inventories. It imports no I/O module.

pub mod core;
pub mod engine;
pub mod error;
pub mod source;
pub mod transport;

pub use crate::core::compare::{compare_client_side, compare_server_side};
pub use crate::core::desired::DesiredObject;
pub use crate::core::live::{KindRef, LiveSet};
pub use crate::core::pipeline::{Evaluation, Outcome, evaluate};
pub use crate::core::report::{Format, Mode, ObjectResult, Report, Status, Verdict};
pub use engine::{DriftRequest, DriftRun, LiveSource};
pub use error::DriftError;
pub use source::kube::{ClusterLive, ConnectOptions};
