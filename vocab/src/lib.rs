//! plinth's vocabulary: the Kubernetes words every part of plinth speaks — build time
//! (`plinth-renderer`), review time (`plinth-review`) and run time (`plinth-drift`).
//!
//! Object references, JSON pointers, quantities, label and annotation names, name rules,
//! located problems, YAML reading with its limits, and the one redaction policy. Pure: no file
//! system, no network, no environment.

pub mod change;
pub mod labels;
pub mod names;
pub mod object;
pub mod pointer;
pub mod problem;
pub mod quantity;
pub mod quoted;
pub mod redact;
pub mod yaml;

pub use object::{ObjectRef, group_of};
pub use problem::Problem;
pub use redact::Redactor;
pub use yaml::YamlError;
