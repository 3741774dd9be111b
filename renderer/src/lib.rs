//! plinth's renderer: turns a platform repository (catalog, templates, overlays, clusters and
//! hardware inventories) into deterministic manifests, one folder per cluster.
//!
//! Synchronous and pure apart from reading its [`source::Source`]; no Kubernetes client.

pub mod builtin;
pub mod catalog;
pub mod clouds;
pub mod cluster;
pub mod conformance;
pub mod decide;
pub mod engine;
pub mod error;
pub mod fsops;
pub mod index;
pub mod inventory;
pub mod output;
pub mod overlay;
pub mod pools;
pub mod render;
pub mod schema;
pub mod selection;
pub mod settings;
pub mod source;
pub mod stream;
pub mod template;

pub use error::{RenderError, Result};
pub use render::{Fleet, RenderedCluster, VERSION};
pub use selection::{Selection, Shard};
pub use source::Source;
