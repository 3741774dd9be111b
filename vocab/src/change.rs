//! A field that differs between two versions of an object, and the walk that finds them:
//! the review's "before and after" of a pull request and the drift report's "desired and
//! live" are the same comparison.

use serde::Serialize;
use serde_json::Value;

use crate::pointer;

/// One field that differs: where (an RFC 6901 pointer into the object) and both values;
/// `None` where the field is absent on that side (`before` for an added field, `after` for a
/// removed one). Drift reads `before` as the desired value and `after` as the live one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    pub pointer: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
    /// Whether the value at `pointer` is a secret on either side (by its position, its
    /// sibling `name`, or its content): reports show a fingerprint, never the value.
    #[serde(skip)]
    pub secret: bool,
    /// `pointer` with the list items matched by key named by their key instead of their
    /// position (`/spec/ports/[name=http]/port`), for people; `None` when it has no such item.
    #[serde(skip)]
    pub keyed_path: Option<String>,
    /// Who wrote the live (`after`) value, where the object's `metadata.managedFields` say.
    #[serde(skip)]
    pub writer: Option<Writer>,
}

/// A field manager's last write, from one entry of an object's `metadata.managedFields`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Writer {
    /// The field manager (`kubectl-edit`, `plinth`, `kube-controller-manager`, ...).
    pub manager: String,
    /// `Apply` (server-side apply) or `Update` (any other write).
    pub operation: String,
    /// When the manager last changed its fields (RFC 3339), where recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// The subresource written through (`scale`, `status`), when not the object itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
}

impl std::fmt::Display for Writer {
    /// `` `kubectl-scale` (Update via scale) at 2026-11-29T10:02:00Z ``.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}` ({}", self.manager, self.operation)?;
        if let Some(sub) = &self.subresource {
            write!(f, " via {sub}")?;
        }
        f.write_str(")")?;
        if let Some(time) = &self.time {
            write!(f, " at {time}")?;
        }
        Ok(())
    }
}

impl FieldChange {
    /// A change of the field at `pointer` from `before` to `after`, not (yet) known secret.
    pub fn new(pointer: String, before: Option<Value>, after: Option<Value>) -> Self {
        Self {
            pointer,
            before,
            after,
            secret: false,
            keyed_path: None,
            writer: None,
        }
    }

    /// Where the change is, for people: the keyed path when there is one, else the pointer.
    pub fn shown_path(&self) -> &str {
        self.keyed_path.as_deref().unwrap_or(&self.pointer)
    }
}

/// Every field that differs between two values: objects key by key (sorted), arrays position
/// by position; a subtree present on one side only is one change, and so is a value whose
/// type differs.
pub fn field_changes(before: &Value, after: &Value) -> Vec<FieldChange> {
    field_changes_with(before, after, &|x, y, _| x == y)
}

/// [`field_changes`] where two leaves (values that are not both objects or both arrays) are
/// the same when `same(before, after, path)` says so, `path` being the unescaped segments of
/// their place.
pub fn field_changes_with(
    before: &Value,
    after: &Value,
    same: &dyn Fn(&Value, &Value, &[String]) -> bool,
) -> Vec<FieldChange> {
    let mut out = Vec::new();
    walk(before, after, &mut Vec::new(), same, &mut out);
    out
}

fn walk(
    before: &Value,
    after: &Value,
    path: &mut Vec<String>,
    same: &dyn Fn(&Value, &Value, &[String]) -> bool,
    out: &mut Vec<FieldChange>,
) {
    let mut step = |segment: String, x: Option<&Value>, y: Option<&Value>, out: &mut Vec<_>| {
        path.push(segment);
        match (x, y) {
            (Some(x), Some(y)) => walk(x, y, path, same, out),
            (x, y) => out.push(FieldChange::new(pointer::of(path), x.cloned(), y.cloned())),
        }
        path.pop();
    };
    match (before, after) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                step(key.clone(), a.get(key), b.get(key), out);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for index in 0..a.len().max(b.len()) {
                step(index.to_string(), a.get(index), b.get(index), out);
            }
        }
        (x, y) if same(x, y, path) => {}
        (x, y) => out.push(FieldChange::new(
            pointer::of(path),
            Some(x.clone()),
            Some(y.clone()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn changes_are_pointers_with_both_sides() {
        let a = json!({"a": 1, "b": {"c/d": [1, 2]}, "gone": true});
        let b = json!({"a": 2, "b": {"c/d": [1]}, "new": "x"});
        let got: Vec<(String, Option<Value>, Option<Value>)> = field_changes(&a, &b)
            .into_iter()
            .map(|c| (c.pointer, c.before, c.after))
            .collect();
        assert_eq!(
            got,
            vec![
                ("/a".into(), Some(json!(1)), Some(json!(2))),
                ("/b/c~1d/1".into(), Some(json!(2)), None),
                ("/gone".into(), Some(json!(true)), None),
                ("/new".into(), None, Some(json!("x"))),
            ]
        );
        assert!(field_changes(&a, &a).is_empty());
    }

    #[test]
    fn leaves_compare_with_the_given_rule() {
        let a = json!({"n": "1", "s": "x"});
        let b = json!({"n": 1, "s": "y"});
        let text_or_number = |x: &Value, y: &Value, _: &[String]| {
            x == y || x.as_str().is_some_and(|t| *t == *y.to_string())
        };
        let got = field_changes_with(&a, &b, &text_or_number);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].pointer, "/s");
    }
}
