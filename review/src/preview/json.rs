//! The JSON format: the [`DiffReport`] as it is (schema in `docs/diff.md`), every string
//! passed through the redactor.

use serde_json::Value;

use crate::diff::DiffReport;
use plinth_vocab::redact::Redactor;

fn redact_strings(value: &mut Value, redactor: &Redactor) {
    match value {
        Value::String(s) => *s = redactor.redact_text(s),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_strings(v, redactor)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_strings(v, redactor)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Pretty JSON following the schema in `docs/diff.md`; every string passes
/// [`Redactor::redact_text`] (the document stays valid JSON).
pub fn json(report: &DiffReport, redactor: &Redactor) -> String {
    let mut value = serde_json::to_value(report).unwrap_or(Value::Null);
    redact_strings(&mut value, redactor);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
