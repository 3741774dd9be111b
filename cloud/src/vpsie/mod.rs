//! The VPSie API client, for cloud drift: [`auth`] (credentials, the auth header, the token
//! source), [`client`] (configuration, `GET /vm`, a cluster's node groups), [`model`] (the
//! VM and node-group shapes, read defensively). The API has no official specification:
//! `docs/cloud.md` says which public client each fact comes from and where they disagree.

pub mod auth;
pub mod client;
pub mod model;

pub use auth::{AuthHeader, Credentials};
pub use client::{DEFAULT_BASE_URL, VpsieClient, VpsieConfig};
pub use model::{ClusterNode, NodeGroupInfo, Vm};

use reqwest::Url;

use crate::error::CloudError;

/// `base` with `segments` appended, each percent-encoded as one segment.
pub(crate) fn join(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty().extend(segments);
    }
    url
}

/// `err` without the server's message: VPSie errors say the status only.
pub(crate) fn without_detail(err: CloudError) -> CloudError {
    match err {
        CloudError::Status {
            request,
            status,
            request_id,
            detail: _,
        } => CloudError::Status {
            request,
            status,
            request_id,
            detail: None,
        },
        other => other,
    }
}
