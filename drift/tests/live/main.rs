//! The live sources and the engine against the loopback fake API server (one test binary, one
//! module per concern): fetching, faults, limits, ownership from managedFields, server-side
//! mode, TLS, and a whole drift run through [`plinth_drift::engine`].

mod engine;
mod faults;
mod fetch;
mod limits;
mod ownership;
mod server_mode;
mod support;
mod tls;
mod versions;
