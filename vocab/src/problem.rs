//! A located problem found while validating input; many are reported at once.

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

/// Problems as an indented list, one `  - location: message` line each.
pub fn list(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// ` line L column C`, ` line L` or nothing: the location suffix of an error message.
pub fn location_suffix(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" line {l} column {c}"),
        (Some(l), None) => format!(" line {l}"),
        _ => String::new(),
    }
}
