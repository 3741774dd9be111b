//! The VPSie API client, for cloud drift: [`model`] (the VM and node-group shapes, read
//! defensively). The API has no official specification: `docs/cloud.md` says which public
//! client each fact comes from and where they disagree.

pub mod model;

pub use model::{NodeGroupInfo, Vm};
