//! The renderer's error type: every variant names the file, line or field path it is about.

use std::fmt;

/// One located problem found while validating input; many are reported at once.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Problem {
    /// Where the problem is: a repository-relative file, or `cluster/object`.
    pub location: String,
    /// The field path inside that location (`spec.providerSpec.region`), empty when none.
    pub field: String,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            write!(f, "{}: {}", self.location, self.message)
        } else {
            write!(f, "{}: `{}`: {}", self.location, self.field, self.message)
        }
    }
}

/// Everything that can stop a render. Messages carry the location; causes sit in `source`.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("cannot read `{path}`")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "`{path}` is {size} bytes, more than the limit of {limit} bytes (`limits.maxFileBytes`)"
    )]
    TooLarge { path: String, size: u64, limit: u64 },
    #[error("`{path}`{}: {message}", location_suffix(*.line, *.column))]
    Yaml {
        path: String,
        line: Option<usize>,
        column: Option<usize>,
        message: String,
    },
    #[error("`{path}` is not valid UTF-8")]
    NotUtf8 { path: String },
    #[error("path `{path}` {reason}")]
    PathEscape { path: String, reason: &'static str },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("`{path}` line {line}: asset `{name}` is defined twice (first at line {first_line})")]
    DuplicateAsset {
        path: String,
        name: String,
        line: usize,
        first_line: usize,
    },
    #[error(
        "`{path}` line {line}: asset `{asset}` has unknown condition type `{kind}` (known: {known})"
    )]
    UnknownCondition {
        path: String,
        line: usize,
        asset: String,
        kind: String,
        known: &'static str,
    },
    #[error("asset `{asset}`: template `{path}` does not exist")]
    MissingTemplate { asset: String, path: String },
    #[error("template `{path}` line {line}: {message}")]
    Template {
        path: String,
        line: usize,
        message: String,
    },
    #[error(
        "template `{path}`{}: ran out of fuel after {fuel} instructions (a runaway loop?); raise `limits.templateFuel` if the template is right",
        location_suffix(*.line, None)
    )]
    FuelExhausted {
        path: String,
        line: Option<usize>,
        fuel: u64,
    },
    #[error(
        "asset `{asset}`: template `{path}`{}: output is larger than the limit of {limit} bytes (a runaway loop?); raise `limits.maxFileBytes` if the template is right",
        location_suffix(*.line, None)
    )]
    TemplateOutputTooLarge {
        asset: String,
        path: String,
        line: Option<usize>,
        limit: u64,
    },
    #[error("cluster `{cluster}`: asset `{asset}` rendered invalid YAML from `{path}`: {message}")]
    RenderedYaml {
        cluster: String,
        asset: String,
        path: String,
        message: String,
    },
    #[error("cluster `{cluster}`: {what} matches no rendered object (target: {target})")]
    PatchTargetNoMatch {
        cluster: String,
        what: String,
        target: String,
    },
    #[error(
        "cluster `{cluster}`: {what} matches no rendered object because no catalog asset renders: the catalog's opt-in annotation `{annotation}` (`framework.opt_in` in `{catalog}`) is missing on the cluster; add it under `annotations` in `{path}`"
    )]
    OptInMissing {
        cluster: String,
        what: String,
        annotation: String,
        catalog: String,
        path: String,
    },
    #[error("cluster `{cluster}`: {what} cannot be applied to {object}: {message}")]
    PatchFailed {
        cluster: String,
        what: String,
        object: String,
        message: String,
    },
    #[error(
        "cluster `{cluster}`: object {identity} is rendered twice, by asset `{first}` and by asset `{second}`"
    )]
    DuplicateObject {
        cluster: String,
        identity: String,
        first: String,
        second: String,
    },
    #[error("{} problem{} found:\n{}", .0.len(), if .0.len() == 1 { "" } else { "s" }, format_problems(.0))]
    Problems(Vec<Problem>),
    /// plinth refuses to replace or remove something it did not write (or cannot tell).
    #[error("`{path}` {reason}")]
    NotOwned {
        path: String,
        reason: String,
        hint: String,
    },
    #[error("cannot write `{path}`")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn location_suffix(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" line {l} column {c}"),
        (Some(l), None) => format!(" line {l}"),
        _ => String::new(),
    }
}

fn format_problems(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

pub type Result<T, E = RenderError> = std::result::Result<T, E>;
