//! [`LabelSelector`]: the `label_selector` of a STACKIT list request, built only from keys and
//! values that are checked term by term, so nothing in a value can add or change a term.
//!
//! Terms are `key=value` joined by `,`, as the STACKIT machine-controller-manager provider
//! sends them (the spec does not define the syntax further). A key is a name matching the
//! spec's key pattern (`^(?=.{1,63}$)([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`), optionally
//! after one DNS-subdomain prefix and `/` (the provider's `kubernetes.io/machineclass`; the
//! spec's pattern has no `/`, the provider writes it anyway); a value matches the spec's value
//! pattern (at most 63 characters, letters and digits at both ends, `-`, `_`, `.` inside, or
//! empty). So `,`, `=`, `!`, spaces and the rest never reach the query. The query string is
//! URL-encoded by the HTTP client.

use plinth_vocab::Redactor;

use crate::error::CloudError;

/// The machine-class label the STACKIT provider sets since 2026-01 (value: the class's name).
pub const MACHINE_CLASS_LABEL: &str = "kubernetes.io/machineclass";
/// The machine label the STACKIT provider sets since 2026-01 (value: the Machine's name).
pub const MACHINE_LABEL: &str = "kubernetes.io/machine";
/// The machine-class label of servers created before 2026-01.
pub const LEGACY_MACHINE_CLASS_LABEL: &str = "mcm.gardener.cloud/machineclass";
/// The machine label of servers created before 2026-01.
pub const LEGACY_MACHINE_LABEL: &str = "mcm.gardener.cloud/machine";

/// Equality terms over server labels, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    terms: Vec<(String, String)>,
}

impl LabelSelector {
    /// The empty selector (every server).
    pub fn new() -> Self {
        Self::default()
    }

    /// This selector with the term `key=value`; refused when the key or value does not match
    /// the rules above or the key is already used.
    pub fn equals(mut self, key: &str, value: &str) -> Result<Self, CloudError> {
        if let Err(why) = check_key(key) {
            return Err(CloudError::Selector {
                message: format!("{} {why}", describe_key(key)),
            });
        }
        if let Err(why) = check_value(value) {
            return Err(CloudError::Selector {
                message: format!("the value for key `{key}` {why}"),
            });
        }
        if self.terms.iter().any(|(k, _)| k == key) {
            return Err(CloudError::Selector {
                message: format!("key `{key}` is given twice"),
            });
        }
        self.terms.push((key.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// Whether there are no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms.
    pub fn terms(&self) -> &[(String, String)] {
        &self.terms
    }

    /// `k1=v1,k2=v2`: the value of the `label_selector` query parameter.
    pub fn to_query(&self) -> String {
        self.terms
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Whether `labels` satisfy every term.
    pub fn matches<'a>(&self, mut label: impl FnMut(&str) -> Option<&'a str>) -> bool {
        self.terms
            .iter()
            .all(|(k, v)| label(k).is_some_and(|found| found == v))
    }
}

/// The key as an error names it: quoted when it cannot be secret (printable, short, not
/// shaped like a credential), else by its length.
fn describe_key(key: &str) -> String {
    let quotable = !key.is_empty()
        && key.len() <= 253
        && key.bytes().all(|b| b.is_ascii_graphic() && b != b'`')
        && !Redactor::looks_secret(key);
    if quotable {
        format!("key `{key}`")
    } else {
        format!("a key of {} characters", key.chars().count())
    }
}

/// Letters and digits at both ends, `-`, `_`, `.` inside.
fn is_label_word(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || b"-_.".contains(c))
        }
        _ => false,
    }
}

fn check_key(key: &str) -> Result<(), &'static str> {
    let (prefix, name) = match key.split_once('/') {
        Some((prefix, name)) => (Some(prefix), name),
        None => (None, key),
    };
    if name.is_empty() || name.len() > 63 || !is_label_word(name) {
        return Err(
            "is not a label key: the name must be 1 to 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit",
        );
    }
    if let Some(prefix) = prefix {
        let dns = !prefix.is_empty()
            && prefix.len() <= 253
            && prefix.split('.').all(|part| {
                !part.is_empty()
                    && part.len() <= 63
                    && part
                        .bytes()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            });
        if !dns {
            return Err(
                "is not a label key: the part before `/` must be a lower-case DNS name (and only one `/` is allowed)",
            );
        }
    }
    Ok(())
}

fn check_value(value: &str) -> Result<(), &'static str> {
    if value.is_empty() || (value.len() <= 63 && is_label_word(value)) {
        Ok(())
    } else {
        Err(
            "is not a label value: at most 63 letters, digits, `-`, `_` or `.`, starting and ending with a letter or digit",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_label_forms_make_a_selector() {
        let s = LabelSelector::new()
            .equals(MACHINE_CLASS_LABEL, "workers-a1b2c")
            .unwrap()
            .equals("role", "")
            .unwrap();
        assert_eq!(
            s.to_query(),
            "kubernetes.io/machineclass=workers-a1b2c,role="
        );
        let legacy = LabelSelector::new()
            .equals(LEGACY_MACHINE_CLASS_LABEL, "workers")
            .unwrap();
        assert_eq!(legacy.to_query(), "mcm.gardener.cloud/machineclass=workers");
    }

    #[test]
    fn nothing_that_could_add_a_term_gets_through_a_value() {
        for bad in [
            "a,b=c",
            "a=b",
            "a!",
            "a b",
            "x,kubernetes.io/machine!=y",
            "-a",
            "a-",
            "a\n",
            "ä",
            &"a".repeat(64),
        ] {
            let err = LabelSelector::new()
                .equals(MACHINE_CLASS_LABEL, bad)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with("label selector: the value for key `kubernetes.io/machineclass` is not a label value"),
                "{bad:?}: {err}"
            );
            assert!(!err.contains(bad), "the value is never quoted: {err}");
        }
    }

    #[test]
    fn bad_keys_are_named_and_quoted_only_when_not_secret() {
        for bad in ["a,b", "a=b", "a b", "a/b/c", "A.io/x", "/x", "x/", "", "k!"] {
            let err = LabelSelector::new()
                .equals(bad, "v")
                .unwrap_err()
                .to_string();
            assert!(err.contains("is not a label key"), "{bad:?}: {err}");
        }
        let err = LabelSelector::new().equals("a,b", "v").unwrap_err();
        assert!(
            err.to_string().starts_with("label selector: key `a,b` "),
            "{err}"
        );
        let secret = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5,";
        let err = LabelSelector::new()
            .equals(secret, "v")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("label selector: a key of 41 characters "),
            "{err}"
        );
        let err = LabelSelector::new()
            .equals("role", "a")
            .unwrap()
            .equals("role", "b")
            .unwrap_err();
        assert_eq!(err.to_string(), "label selector: key `role` is given twice");
    }
}
