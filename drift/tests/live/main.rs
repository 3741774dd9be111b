//! The live sources and the engine against the loopback fake API server (one test binary, one
//! module per concern): fetching, faults, limits, server-side mode, TLS, and a whole drift run
//! through [`plinth_drift::engine`].

mod engine;
mod faults;
mod fetch;
mod limits;
mod server_mode;
mod support;
mod tls;
mod versions;
