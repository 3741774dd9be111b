//! The words every human format uses for who wrote a field, a pending removal and a
//! controller-managed field, as plain text (each format escapes them as it escapes notes).

use plinth_vocab::change::{FieldChange, Writer};

/// `changed by `kubectl-scale` (Update via scale) at 2026-11-29T10:02:00Z`, when known.
pub fn changed_by(change: &FieldChange) -> Option<String> {
    change.writer.as_ref().map(|w| format!("changed by {w}"))
}

/// `pending removal: applied by `plinth` (Apply) at T, no longer rendered; the next apply
/// removes it`.
pub fn pending_removal(change: &FieldChange) -> String {
    format!(
        "pending removal: applied by {}, no longer rendered; the next apply removes it",
        writer(change, "plinth")
    )
}

/// `managed by `kube-controller-manager` (Update) at T, not drift`.
pub fn managed_by(change: &FieldChange) -> String {
    format!("managed by {}, not drift", writer(change, "a controller"))
}

/// Whether any of `changes` has a known writer (the formats with tables add a column then).
pub fn any_writer(changes: &[FieldChange]) -> bool {
    changes.iter().any(|c| c.writer.is_some())
}

/// The change's writer (`` `plinth` (Apply) at T ``), or `unknown` when not known.
pub fn writer(change: &FieldChange, unknown: &str) -> String {
    change
        .writer
        .as_ref()
        .map_or_else(|| unknown.to_owned(), Writer::to_string)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn who_wrote_a_field_reads_the_same_everywhere() {
        let mut c = FieldChange::new("/spec/replicas".into(), Some(json!(3)), Some(json!(5)));
        assert_eq!(changed_by(&c), None);
        assert_eq!(
            pending_removal(&c),
            "pending removal: applied by plinth, no longer rendered; the next apply removes it"
        );
        assert_eq!(managed_by(&c), "managed by a controller, not drift");
        c.writer = Some(Writer {
            manager: "kubectl-scale".into(),
            operation: "Update".into(),
            time: Some("2026-11-29T10:02:00Z".into()),
            subresource: Some("scale".into()),
        });
        assert_eq!(
            changed_by(&c).unwrap(),
            "changed by `kubectl-scale` (Update via scale) at 2026-11-29T10:02:00Z"
        );
        assert_eq!(
            managed_by(&c),
            "managed by `kubectl-scale` (Update via scale) at 2026-11-29T10:02:00Z, not drift"
        );
        assert!(any_writer(&[c]));
    }
}
