//! The renderer's error type: every variant names the file, line or field path it is about.
//!
//! Messages that come from a library (the template engine, a template filter, the YAML reader,
//! JSON patches) may quote a *value* taken from an input — a parameter, an annotation, a
//! rendered field — and a value may be a credential. Such messages are shown through
//! [`hide_values`]: a quoted span stays only when it is provably not a value (template source
//! text, a field name, what the schema expected, a template variable path); otherwise it reads
//! `<value>`. The CLI's error reporter redacts the whole text again (docs/security.md).

use plinth_vocab::Problem;
use plinth_vocab::problem::{list as format_problems, location_suffix};
use plinth_vocab::quoted::{hide_quoted_values, hide_values};
use plinth_vocab::yaml::YamlError;

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
    #[error(transparent)]
    Yaml(#[from] YamlError),
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
    #[error("template `{path}` line {line}: {}", template_message(message, expr.as_deref()))]
    Template {
        path: String,
        line: usize,
        message: String,
        /// The template's own text at fault (`include params.which`): source, never a value.
        expr: Option<String>,
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
    #[error(
        "cluster `{cluster}`: asset `{asset}` rendered invalid YAML from `{path}`: {}",
        hide_quoted_values(message)
    )]
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
    #[error(
        "cluster `{cluster}`: {what} cannot be applied to {object}: {}",
        hide_values(message, "")
    )]
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
    /// A cluster name the repository does not hold (`known` are the ones it does).
    #[error("unknown cluster `{name}`")]
    UnknownCluster { name: String, known: Vec<String> },
    /// A shard that is not `I/N` with `1 <= I <= N`.
    #[error("`--shard {text}`: {problem}")]
    Shard {
        text: String,
        problem: String,
        #[source]
        source: Option<std::num::ParseIntError>,
    },
    /// The `schemas` setting of `plinth.yaml` is not a path inside the repository.
    #[error("the `schemas` setting of plinth.yaml")]
    SchemasSetting(#[source] Box<RenderError>),
    /// The CRD folder cannot be loaded.
    #[error("cannot load the CRD schemas of `{dir}`")]
    SchemasFolder {
        dir: String,
        #[source]
        source: Box<RenderError>,
    },
    #[error("cannot write `{path}`")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

/// A template engine message (`kind: detail in` and the expression in backticks): the
/// expression (template source) is kept, quoted values in the detail are hidden.
fn template_message(message: &str, expr: Option<&str>) -> String {
    if let Some(expr) = expr {
        let shown = hide_values(message, expr);
        return if message.contains(&format!("`{expr}`")) {
            shown
        } else {
            format!("{shown} in `{expr}`")
        };
    }
    match message.rfind(" in `") {
        Some(at) if message.ends_with('`') => {
            let expr = &message[at + 5..message.len() - 1];
            format!("{} in `{expr}`", hide_values(&message[..at], expr))
        }
        _ => hide_values(message, ""),
    }
}

pub type Result<T, E = RenderError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Values quoted by the template engine, a filter, the YAML reader or a patch are hidden;
    /// template source, field names, expected values and variable paths stay readable.
    #[test]
    fn quoted_values_are_hidden_and_names_kept() {
        let err = RenderError::Template {
            path: "a.j2".into(),
            line: 3,
            message: "template not found: tried to include non-existing template 'hunter2-planted' in `include params.q`".into(),
            expr: None,
        };
        assert_eq!(
            err.to_string(),
            "template `a.j2` line 3: template not found: tried to include non-existing template '<value>' in `include params.q`"
        );
        let err = RenderError::Template {
            path: "a.j2".into(),
            line: 1,
            message: "invalid operation: `s3cr3t` is not a Kubernetes quantity in `quantity`"
                .into(),
            expr: None,
        };
        assert!(!err.to_string().contains("s3cr3t"), "{err}");
        let err = RenderError::Template {
            path: "a.j2".into(),
            line: 1,
            message: "undefined value: `params.q.x` is undefined in `.x.y`".into(),
            expr: None,
        };
        assert!(
            err.to_string().contains("`params.q.x` is undefined"),
            "{err}"
        );
        let err = RenderError::Yaml(YamlError {
            path: "c.yaml".into(),
            line: Some(2),
            column: Some(1),
            message: "unknown variant `hunter2`, expected `always` or `opt-in`".into(),
        });
        assert_eq!(
            err.to_string(),
            "`c.yaml` line 2 column 1: unknown variant `<value>`, expected `always` or `opt-in`"
        );
        let err = RenderError::Yaml(YamlError {
            path: "c.yaml".into(),
            line: Some(2),
            column: Some(1),
            message: "unknown field `bogus`, expected one of name, labels".into(),
        });
        assert!(err.to_string().contains("`bogus`"), "{err}");
        let err = RenderError::Template {
            path: "a.j2".into(),
            line: 1,
            message: "syntax error: unexpected string 'hunter2'".into(),
            expr: None,
        };
        assert!(!err.to_string().contains("hunter2"), "{err}");
        let err = RenderError::RenderedYaml {
            cluster: "c".into(),
            asset: "a".into(),
            path: "a.j2".into(),
            message: "invalid type: string \"hunter2\", expected a map; unclosed bracket '['"
                .into(),
        };
        assert!(
            !err.to_string().contains("hunter2") && err.to_string().contains("'['"),
            "{err}"
        );
    }
}
