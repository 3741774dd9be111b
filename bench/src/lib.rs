//! plinth's benchmarks as a library: the deterministic fleet generator, the kustomize
//! equivalent of a rendered fleet, and the render benchmark, for the `plinth-bench` binary
//! and for other benchmarks that need a fleet.

pub mod big;
pub mod diff;
pub mod fleet;
pub mod kustomize;
pub mod render;
pub mod workdir;
