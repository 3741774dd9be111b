//! The words every human format uses for who wrote a field, a pending removal and a
//! controller-managed field, as plain text (each format escapes them as it escapes notes),
//! and the three groups of fields an object lists.

use plinth_vocab::change::{FieldChange, Writer};

use super::ObjectResult;

/// The groups of fields an object lists, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// `changes`: drift.
    Changes,
    /// `pending_removal`: drift, applied earlier and no longer rendered.
    PendingRemoval,
    /// `managed`: owned by a controller expected to write them, not drift.
    Managed,
}

impl Group {
    pub const ALL: [Self; 3] = [Self::Changes, Self::PendingRemoval, Self::Managed];

    /// The object's fields of this group.
    pub fn of(self, o: &ObjectResult) -> &[FieldChange] {
        match self {
            Self::Changes => &o.changes,
            Self::PendingRemoval => &o.pending_removal,
            Self::Managed => &o.managed,
        }
    }

    /// What the group is, after its count in a heading (`3 field(s)`); `None` for changes.
    pub fn title(self) -> Option<&'static str> {
        match self {
            Self::Changes => None,
            Self::PendingRemoval => Some(
                "pending removal(s): applied earlier, no longer rendered; the next apply removes them",
            ),
            Self::Managed => Some("field(s) managed by controllers (not drift)"),
        }
    }

    /// The heading of the "who" column of a table of `changes` of this group; none for
    /// changes of which no writer is known.
    pub fn who_column(self, changes: &[FieldChange]) -> Option<&'static str> {
        match self {
            Self::Changes => changes
                .iter()
                .any(|c| c.writer.is_some())
                .then_some("Changed by"),
            Self::PendingRemoval => Some("Applied by"),
            Self::Managed => Some("Managed by"),
        }
    }

    /// The "who" cell of a table row (empty for a change of unknown writer).
    pub fn who_cell(self, change: &FieldChange) -> String {
        match self {
            Self::Changes => writer(change, ""),
            Self::PendingRemoval => writer(change, "plinth"),
            Self::Managed => writer(change, "a controller"),
        }
    }

    /// The line that says who wrote the field and what that means, for the formats without
    /// tables: `changed by …` (when known), `pending removal: applied by …, no longer
    /// rendered; the next apply removes it`, `managed by …, not drift`.
    pub fn who_line(self, change: &FieldChange) -> Option<String> {
        match self {
            Self::Changes => change.writer.as_ref().map(|w| format!("changed by {w}")),
            Self::PendingRemoval => Some(format!(
                "pending removal: applied by {}, no longer rendered; the next apply removes it",
                writer(change, "plinth")
            )),
            Self::Managed => Some(format!(
                "managed by {}, not drift",
                writer(change, "a controller")
            )),
        }
    }
}

/// The change's writer (`` `plinth` (Apply) at T ``), or `unknown` when not known.
fn writer(change: &FieldChange, unknown: &str) -> String {
    change
        .writer
        .as_ref()
        .map_or_else(|| unknown.to_owned(), Writer::to_string)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Each group's line, column and cell, for a field of unknown writer and one written by
    /// `kubectl-scale` through the scale subresource.
    #[test]
    fn who_wrote_a_field_reads_the_same_everywhere() {
        let unknown = FieldChange::new("/spec/replicas".into(), Some(json!(3)), Some(json!(5)));
        let mut known = unknown.clone();
        known.writer = Some(Writer {
            manager: "kubectl-scale".into(),
            operation: "Update".into(),
            time: Some("2026-11-29T10:02:00Z".into()),
            subresource: Some("scale".into()),
        });
        let who = "`kubectl-scale` (Update via scale) at 2026-11-29T10:02:00Z";
        let seen = |c: &FieldChange| -> Vec<(Option<String>, Option<&str>, String)> {
            Group::ALL
                .iter()
                .map(|g| {
                    (
                        g.who_line(c),
                        g.who_column(std::slice::from_ref(c)),
                        g.who_cell(c),
                    )
                })
                .collect()
        };
        let pending = "no longer rendered; the next apply removes it";
        assert_eq!(
            seen(&unknown),
            [
                (None, None, String::new()),
                (
                    Some(format!("pending removal: applied by plinth, {pending}")),
                    Some("Applied by"),
                    "plinth".into()
                ),
                (
                    Some("managed by a controller, not drift".into()),
                    Some("Managed by"),
                    "a controller".into()
                ),
            ]
        );
        assert_eq!(
            seen(&known),
            [
                (
                    Some(format!("changed by {who}")),
                    Some("Changed by"),
                    who.into()
                ),
                (
                    Some(format!("pending removal: applied by {who}, {pending}")),
                    Some("Applied by"),
                    who.into()
                ),
                (
                    Some(format!("managed by {who}, not drift")),
                    Some("Managed by"),
                    who.into()
                ),
            ]
        );
    }
}
