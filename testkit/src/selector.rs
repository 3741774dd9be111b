//! Kubernetes label selectors as the API server accepts them in `?labelSelector=`.

use std::collections::BTreeMap;

use plinth_vocab::labels::selector_terms;

/// One requirement of a label selector.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Requirement {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector: every requirement must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selector(Vec<Requirement>);

impl Selector {
    /// Parses `a=b,c!=d,e in (x,y),f notin (z),g,!h`; `None` when it is malformed.
    pub fn parse(text: &str) -> Option<Self> {
        let mut reqs = Vec::new();
        for part in selector_terms(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(parse_requirement(part)?);
        }
        Some(Self(reqs))
    }

    /// Whether a label map satisfies the selector.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|r| match r {
            Requirement::Equals(k, v) => labels.get(k) == Some(v),
            Requirement::NotEquals(k, v) => labels.get(k) != Some(v),
            Requirement::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            Requirement::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            Requirement::Exists(k) => labels.contains_key(k),
            Requirement::NotExists(k) => !labels.contains_key(k),
        })
    }
}

fn parse_set(rest: &str) -> Option<Vec<String>> {
    let inner = rest.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(inner.split(',').map(|v| v.trim().to_owned()).collect())
}

fn valid_key(key: &str) -> Option<String> {
    let key = key.trim();
    (!key.is_empty() && !key.contains([' ', '=', '!', '(', ')'])).then(|| key.to_owned())
}

fn parse_requirement(part: &str) -> Option<Requirement> {
    if let Some((k, v)) = part.split_once("!=") {
        return Some(Requirement::NotEquals(valid_key(k)?, v.trim().to_owned()));
    }
    if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
        return Some(Requirement::Equals(valid_key(k)?, v.trim().to_owned()));
    }
    if let Some((k, rest)) = part.split_once(" notin ") {
        return Some(Requirement::NotIn(valid_key(k)?, parse_set(rest)?));
    }
    if let Some((k, rest)) = part.split_once(" in ") {
        return Some(Requirement::In(valid_key(k)?, parse_set(rest)?));
    }
    if let Some(k) = part.strip_prefix('!') {
        return Some(Requirement::NotExists(valid_key(k)?));
    }
    Some(Requirement::Exists(valid_key(part)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn equality_set_and_existence() {
        let l = labels(&[("app", "web"), ("tier", "front")]);
        let ok = |s: &str| Selector::parse(s).unwrap().matches(&l);
        assert!(ok("app=web"));
        assert!(ok("app==web,tier"));
        assert!(!ok("app!=web"));
        assert!(ok("tier in (front, back)"));
        assert!(!ok("tier notin (front)"));
        assert!(ok("!missing"));
        assert!(!ok("missing"));
        assert!(ok(""));
    }

    #[test]
    fn malformed_is_rejected() {
        assert!(Selector::parse("a in b").is_none());
        assert!(Selector::parse("=x").is_none());
    }
}
