//! plinth's drift report: compares the rendered manifests of a cluster with its live state
//! (a `kubectl get -o yaml` snapshot or a live cluster), honouring the per-object override
//! annotations of the Patched Baseline.

pub mod error;
pub mod live;

pub use error::DriftError;
pub use live::{KindRef, LiveSet, ObjectKey};
