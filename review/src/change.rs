//! What happened to one object between base and head ([`ObjectChange`]): the word every
//! preview format and disruption message uses for it, and its one-character mark.

use serde::Serialize;

/// What happened to an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ObjectChange {
    Added,
    Removed,
    Renamed,
    Changed,
}

impl ObjectChange {
    /// `added`, `removed`, `renamed` or `changed`.
    pub fn word(self) -> &'static str {
        match self {
            Self::Added => "added",
            Self::Removed => "removed",
            Self::Renamed => "renamed",
            Self::Changed => "changed",
        }
    }

    /// `+`, `-`, `>` or `~`.
    pub fn mark(self) -> char {
        match self {
            Self::Added => '+',
            Self::Removed => '-',
            Self::Renamed => '>',
            Self::Changed => '~',
        }
    }
}
