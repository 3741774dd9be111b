//! The VPSie API client, for cloud drift: [`auth`] (credentials, the auth header, the token
//! source), [`client`] (configuration, `GET /vm`, a cluster's node groups), [`model`] (the
//! VM and node-group shapes, read defensively). The API has no official specification:
//! `docs/cloud.md` says which public client each fact comes from and where they disagree.

pub mod auth;
pub mod client;
pub mod model;

pub use auth::{AuthHeader, Credentials};
pub use client::{DEFAULT_BASE_URL, VpsieClient, VpsieConfig};
pub use model::{NodeGroupInfo, Vm};
