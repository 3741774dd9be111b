//! plinth's cloud API clients, for cloud drift (run time): one hardened HTTP layer every
//! provider shares, and the providers' clients over it.
//!
//! - [`http`]: [`http::HttpClient`] — reqwest over rustls (`ring`, TLS 1.2+, the system roots
//!   plus an optional CA bundle, [`tls`]), `https` only unless a loopback test flag allows
//!   plain `http` to loopback hosts, a timeout on every attempt (default 30 s), retries with
//!   exponential backoff and jitter on connection errors, timeouts, `429` and `5xx` (at most 3
//!   by default, `Retry-After` honoured within the command's deadline: the loop of
//!   `plinth-retry`), bounded response bodies, no redirects;
//! - [`error`]: [`CloudError`], whose messages name the request and never a credential, a
//!   query or a `5xx` body; `4xx` messages pass the redaction policy;
//! - [`secret`]: [`Secret`], credentials that print as `<redacted>` and are zeroed on drop;
//! - [`clock`]: [`Clock`], where "now" comes from;
//! - [`stackit`]: the STACKIT `IaaS` client (service-account key flow, static token,
//!   `ListServers` with label selectors, the `Server` model);
//! - [`vpsie`]: the VPSie API client (client id and secret or a pre-issued token, the VM list
//!   and a cluster's node groups, the `Vm` and `NodeGroupInfo` model).
//!
//! The library reads no environment and no file but the platform's CA store: the binary hands
//! in endpoints, credentials, CA bundles and the clock.

pub mod clock;
pub mod error;
pub mod http;
pub mod secret;
pub mod stackit;
pub mod tls;
mod token;
pub mod vpsie;

pub use clock::{Clock, SystemClock};
pub use error::CloudError;
pub use plinth_retry::{Deadline, RetryPolicy};
pub use secret::Secret;
