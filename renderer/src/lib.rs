//! plinth's renderer: turns a platform repository (catalog, templates, overlays, clusters and
//! hardware inventories) into deterministic manifests, one folder per cluster.
//!
//! Synchronous and pure apart from reading its [`source::Source`]; no Kubernetes client.

pub mod builtin;
pub mod catalog;
pub mod cluster;
pub mod decide;
pub mod diff;
pub mod disruption;
pub mod error;
pub mod fsops;
pub mod git;
pub mod index;
pub mod inventory;
pub mod machine_class;
pub mod node_group;
pub mod output;
pub mod overlay;
mod pool_defaults;
pub mod preview;
pub mod quantity;
pub mod redact;
pub mod render;
pub mod schema;
pub mod settings;
pub mod source;
pub mod template;
pub mod yaml;

pub use error::{Problem, RenderError, Result};
pub use render::{Fleet, RenderedCluster, VERSION};
pub use source::Source;
