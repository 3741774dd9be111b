//! The STACKIT `IaaS` client: [`key`] (the service-account key and its JWT assertion), [`auth`]
//! (credentials and the token source), [`selector`] (label selectors), [`model`] (the
//! `Server`), [`client`] (configuration and `ListServers`).
//!
//! Facts about the API (paths, fields, statuses, the key flow) follow the public `OpenAPI`
//! documents of the `IaaS` API, v1 and v2, and the STACKIT SDK's key flow; `docs/cloud.md` says
//! what the client does and what it leaves to its callers.

pub mod auth;
pub mod client;
pub mod key;
pub mod model;
pub mod selector;

pub use auth::Credentials;
pub use client::{ApiVersion, StackitClient, StackitConfig};
pub use key::ServiceAccountKey;
pub use model::{LabelForm, Server};
pub use selector::LabelSelector;

/// Whether `s` is a UUID as the spec writes them: 8-4-4-4-12 lower-case hexadecimal digits.
pub(crate) fn is_uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => b.is_ascii_digit() || (b'a'..=b'f').contains(&b),
        })
}
