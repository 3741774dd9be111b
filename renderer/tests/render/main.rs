//! The renderer's integration tests: one test binary, one module per concern, shared helpers
//! in [`common`].

mod common;

mod builtin_crds;
mod engine;
mod git_ci_templates;
mod limits;
mod machines;
mod output_faults;
mod output_names;
mod overlay_values;
mod public_catalogs;
mod render_pipeline;
mod schema;
mod template_bounds;
