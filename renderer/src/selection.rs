//! Which clusters of the fleet a command works on: all of them or the named ones, then one
//! shard of those (`I/N`, 1-based). Every command that takes cluster names selects here, so an
//! unknown cluster is one error everywhere.

use std::collections::BTreeSet;

use crate::error::{RenderError, Result};
use crate::render::Fleet;

/// The selected clusters, sorted by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub names: Vec<String>,
    /// Whether every cluster of the repository is selected (so stale folders can go).
    pub complete: bool,
}

/// Shard `index` of `count` (1-based): the clusters whose position modulo `count` is
/// `index - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` (1-based), as given to `--shard`.
    pub fn parse(text: &str) -> Result<Self> {
        let bad = |problem: String, source| RenderError::Shard {
            text: text.to_owned(),
            problem,
            source,
        };
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| bad("expected I/N, e.g. 2/8".to_owned(), None))?;
        let index: usize = i
            .trim()
            .parse()
            .map_err(|e| bad(format!("`{i}` is not a number"), Some(e)))?;
        let count: usize = n
            .trim()
            .parse()
            .map_err(|e| bad(format!("`{n}` is not a number"), Some(e)))?;
        if count == 0 || index == 0 || index > count {
            return Err(bad("I must be between 1 and N".to_owned(), None));
        }
        Ok(Self { index, count })
    }
}

impl Fleet {
    /// Resolves cluster names (none: every cluster) and a shard (`I/N`) against the
    /// repository's clusters. A name the repository does not hold is
    /// [`RenderError::UnknownCluster`].
    pub fn select(&self, wanted: &[String], shard: Option<&str>) -> Result<Selection> {
        let all = self.cluster_names()?;
        let mut names = if wanted.is_empty() {
            all.clone()
        } else {
            let known: BTreeSet<&String> = all.iter().collect();
            if let Some(unknown) = wanted.iter().find(|w| !known.contains(w)) {
                return Err(RenderError::UnknownCluster {
                    name: unknown.clone(),
                    known: all,
                });
            }
            let set: BTreeSet<&String> = wanted.iter().collect();
            set.into_iter().cloned().collect()
        };
        let mut complete = wanted.is_empty();
        if let Some(shard) = shard {
            let Shard { index, count } = Shard::parse(shard)?;
            names = names
                .into_iter()
                .enumerate()
                .filter(|(k, _)| k % count == index - 1)
                .map(|(_, name)| name)
                .collect();
            complete = complete && count == 1;
        }
        Ok(Selection { names, complete })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards() {
        assert_eq!(Shard::parse("2/8").unwrap(), Shard { index: 2, count: 8 });
        assert_eq!(
            Shard::parse(" 1 / 1 ").unwrap(),
            Shard { index: 1, count: 1 }
        );
        for (text, message) in [
            ("2", "`--shard 2`: expected I/N, e.g. 2/8"),
            ("x/8", "`--shard x/8`: `x` is not a number"),
            ("1/y", "`--shard 1/y`: `y` is not a number"),
            ("0/8", "`--shard 0/8`: I must be between 1 and N"),
            ("9/8", "`--shard 9/8`: I must be between 1 and N"),
            ("1/0", "`--shard 1/0`: I must be between 1 and N"),
        ] {
            assert_eq!(Shard::parse(text).unwrap_err().to_string(), message);
        }
    }
}
