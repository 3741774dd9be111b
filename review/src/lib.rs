//! plinth's review time: what a pull request changes and what it disrupts.
//!
//! [`git`] reads a revision of the platform repository (and writes the hydrated branch of
//! `plinth commit`); [`change`] names what happened to an object; [`diff`] compares two
//! renders of a cluster object by object and field by field; [`disruption`] says which
//! changes reboot nodes, replace servers or restart VMs; [`preview`] writes the result for a
//! terminal, a PR comment (Markdown, split to fit) and JSON. [`pull_request`] runs the whole
//! preview (both sides from git, render, compare) and [`hydrate`] the hydrated commit, each
//! as a library call; [`ReviewError`] is why either failed. Synchronous apart from rayon, no
//! Kubernetes client.

pub mod change;
pub mod diff;
pub mod disruption;
pub mod error;
pub mod git;
pub mod hydrate;
pub mod preview;
pub mod pull_request;

pub use error::ReviewError;
