//! The CLI integration tests: one test binary, one module per command or concern, all running
//! the built `plinth` binary; the shared helpers are in `common`.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod common;

mod apply;
mod apply_adversarial;
mod browser;
mod catalog;
mod cloud;
mod cloud_machines;
mod cluster_client;
mod commit;
mod conveniences;
mod diff;
mod discover;
mod drift;
mod drift_ownership;
mod kubeconfig;
mod leaks;
mod limits;
mod machines;
mod rbac;
mod render;
mod render_stdout;
mod report;
mod validate_schemas;
