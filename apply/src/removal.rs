//! Fields someone else added that an apply removes.
//!
//! Server-side apply removes only fields its own field manager applied before: a label
//! `kubectl label` added, a list item `kubectl edit` renamed, a key someone added to a spec stay
//! whatever plinth applies. Drift calls them drift (written by a drift manager after plinth's
//! last apply, or found by plinth's live-only rules), so an apply that left them would call the
//! object corrected while the next drift run still finds it drifted. After the apply, plinth
//! removes exactly those fields with a JSON patch (RFC 6902) guarded by `test` operations: each
//! is removed only while it still holds the value drift saw (as Flux's kustomize-controller
//! undoes `kubectl edit`). Fields a controller owns, fields an `ignore-fields` override covers,
//! and what only another GitOps tool applied are not drift and never removed.

use serde_json::{Value, json};

use plinth_drift::core::compare::relocate;
use plinth_vocab::change::FieldChange;
use plinth_vocab::pointer;

/// One field to remove.
#[derive(Debug, Clone, PartialEq)]
pub struct Removal {
    /// Where the field is in the live object the plan read.
    pub pointer: String,
    /// For people: the keyed path (`/spec/groups/[name=x]`), else the pointer.
    pub shown: String,
    /// Who wrote it, where the object's `managedFields` say.
    pub writer: Option<String>,
    /// The live value: the patch's `test`. Never printed (it may be a secret).
    value: Value,
}

impl Removal {
    /// `` `path` (by manager) `` for notes.
    pub fn describe(&self) -> String {
        match &self.writer {
            Some(w) => format!("`{}` (by {w})", self.shown),
            None => format!("`{}`", self.shown),
        }
    }
}

/// The fields of `live` that drift reports as added by someone else (`changes` are the drift
/// changes, not the pending removals or controller-managed fields): the live-only ones, except
/// `status` and server-set metadata (only labels and annotations are removed from `metadata`).
pub fn removals(changes: &[FieldChange], live: &Value) -> Vec<Removal> {
    let mut out = Vec::new();
    for c in changes
        .iter()
        .filter(|c| c.before.is_none() && !is_restart(c))
    {
        let Some(after) = &c.after else { continue };
        let writer = c.writer.as_ref().map(|w| w.manager.clone());
        if is_metadata_map(&c.pointer) {
            // A labels or annotations map someone else created: its entries one by one, as
            // drift shows them (never what drift leaves out: bookkeeping annotations,
            // plinth's own overrides and gate state, which a person may have set there).
            for key in after.as_object().into_iter().flat_map(|m| m.keys()) {
                let pointer = format!("{}/{}", c.pointer, pointer::escape(key));
                if let Some(value) = live.pointer(&pointer) {
                    out.push(Removal {
                        shown: pointer.clone(),
                        pointer,
                        writer: writer.clone(),
                        value: value.clone(),
                    });
                }
            }
        } else if removable(&c.pointer)
            && let Some(value) = live.pointer(&c.pointer)
        {
            out.push(Removal {
                pointer: c.pointer.clone(),
                shown: c.keyed_path.clone().unwrap_or_else(|| c.pointer.clone()),
                writer,
                value: value.clone(),
            });
        }
    }
    out
}

/// Whether `pointer` is `/metadata/labels` or `/metadata/annotations`.
fn is_metadata_map(pointer: &str) -> bool {
    matches!(pointer, "/metadata/labels" | "/metadata/annotations")
}

/// The annotation `kubectl rollout restart` sets on a pod template.
pub const RESTARTED_AT: &str = "kubectl.kubernetes.io/restartedAt";

/// Whether `change` is the mark of a rollout restart: the [`RESTARTED_AT`] annotation, or the
/// annotations map holding only it (the restart created the map). Drift reports it (someone
/// restarted the pods by hand); an apply leaves it, since removing it changes the pod template
/// and restarts the pods once more.
pub fn is_restart(change: &FieldChange) -> bool {
    let path = pointer::segments(&change.pointer);
    match path.as_slice() {
        [.., annotations, key] if annotations == "annotations" => key == RESTARTED_AT,
        [.., annotations] if annotations == "annotations" => change
            .after
            .as_ref()
            .and_then(Value::as_object)
            .is_some_and(|m| m.len() == 1 && m.contains_key(RESTARTED_AT)),
        _ => false,
    }
}

/// Whether a live-only field at `pointer` is one an apply may remove.
fn removable(pointer: &str) -> bool {
    let path = pointer::segments(pointer);
    match path.first().map(String::as_str) {
        None | Some("status" | "apiVersion" | "kind") => false,
        Some("metadata") => {
            matches!(
                path.get(1).map(String::as_str),
                Some("labels" | "annotations")
            ) && path.len() == 3
        }
        Some(_) => true,
    }
}

/// The removals as a JSON patch of `object` (the object as the apply left it; `live` the one
/// the removals were found in, of kind `kind`): a `test` of the value drift saw and a `remove`
/// for each field `object` still holds with that value, later list items before earlier ones
/// so every index holds when it is applied. Also what `object` no longer holds as it was (left
/// for the next run).
pub fn patch(
    kind: &str,
    removals: &[Removal],
    live: &Value,
    object: &Value,
) -> (Vec<Value>, Vec<String>) {
    let mut found: Vec<(Vec<Key>, String, &Value)> = Vec::new();
    let mut changed = Vec::new();
    for r in removals {
        match relocate(kind, live, &r.pointer, object) {
            Some(at) if object.pointer(&at) == Some(&r.value) => {
                found.push((order_key(&at), at, &r.value));
            }
            _ => changed.push(r.describe()),
        }
    }
    found.sort_by(|a, b| b.0.cmp(&a.0));
    found.dedup_by(|a, b| a.1 == b.1);
    let ops = found
        .into_iter()
        .flat_map(|(_, at, value)| {
            [
                json!({"op": "test", "path": at, "value": value}),
                json!({"op": "remove", "path": at}),
            ]
        })
        .collect();
    (ops, changed)
}

/// A pointer segment ordered as list indexes are (numerically), map keys as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    Index(usize),
    Name(String),
}

fn order_key(pointer: &str) -> Vec<Key> {
    pointer::segments(pointer)
        .into_iter()
        .map(|s| s.parse().map_or(Key::Name(s), Key::Index))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use plinth_vocab::change::Writer;

    fn added(pointer: &str, keyed: Option<&str>, value: Value, by: Option<&str>) -> FieldChange {
        let mut c = FieldChange::new(pointer.to_owned(), None, Some(value));
        c.keyed_path = keyed.map(str::to_owned);
        c.writer = by.map(|m| Writer {
            manager: m.to_owned(),
            operation: "Update".to_owned(),
            time: None,
            subresource: None,
        });
        c
    }

    /// `doc` with the JSON patch `ops` applied.
    fn applied(doc: &Value, ops: Vec<Value>) -> Value {
        let patch: json_patch::Patch = serde_json::from_value(Value::Array(ops)).unwrap();
        let mut doc = doc.clone();
        json_patch::patch(&mut doc, &patch).unwrap();
        doc
    }

    fn rule() -> Value {
        json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "PrometheusRule",
            "metadata": {"name": "r", "labels": {"team": "x", "app": "a"}, "resourceVersion": "7"},
            "spec": {"groups": [{"name": "a-edited", "rules": []}, {"name": "b", "rules": []}]},
        })
    }

    #[test]
    fn only_live_only_fields_outside_status_and_server_metadata_are_removed() {
        let live = rule();
        let changes = vec![
            added(
                "/metadata/labels/team",
                None,
                json!("x"),
                Some("kubectl-label"),
            ),
            added("/metadata/resourceVersion", None, json!("7"), None),
            added("/status/phase", None, json!("Up"), None),
            added(
                "/spec/groups/0",
                Some("/spec/groups/[name=a-edited]"),
                json!({"name": "a-edited", "rules": []}),
                Some("kubectl-edit"),
            ),
            // A changed value: the apply itself restores it.
            FieldChange::new(
                "/metadata/labels/app".to_owned(),
                Some(json!("b")),
                Some(json!("a")),
            ),
        ];
        let found = removals(&changes, &live);
        let shown: Vec<String> = found.iter().map(Removal::describe).collect();
        assert_eq!(
            shown,
            [
                "`/metadata/labels/team` (by kubectl-label)",
                "`/spec/groups/[name=a-edited]` (by kubectl-edit)"
            ]
        );
    }

    /// A whole annotations map someone else created is removed entry by entry, as drift shows
    /// it: an annotation drift leaves out (a person's override) stays.
    #[test]
    fn a_metadata_map_someone_created_is_removed_entry_by_entry() {
        let live = json!({"metadata": {"annotations": {
            "team": "x", "platform.kubevirt.io/ignore-fields": "/spec/a"}}});
        let found = removals(
            &[added(
                "/metadata/annotations",
                None,
                json!({"team": "x"}),
                Some("kubectl-annotate"),
            )],
            &live,
        );
        let shown: Vec<String> = found.iter().map(Removal::describe).collect();
        assert_eq!(
            shown,
            ["`/metadata/annotations/team` (by kubectl-annotate)"]
        );
        let (ops, _) = patch("ConfigMap", &found, &live, &live);
        assert_eq!(
            applied(&live, ops),
            json!({"metadata": {"annotations": {"platform.kubevirt.io/ignore-fields": "/spec/a"}}})
        );
    }

    #[test]
    fn a_rollout_restart_is_left_where_it_is() {
        let mut live = rule();
        live["spec"]["template"] =
            json!({"metadata": {"annotations": {RESTARTED_AT: "2026-11-29T10:02:00Z"}}});
        let map = added(
            "/spec/template/metadata/annotations",
            None,
            json!({RESTARTED_AT: "2026-11-29T10:02:00Z"}),
            Some("kubectl-rollout"),
        );
        let key = added(
            "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt",
            None,
            json!("2026-11-29T10:02:00Z"),
            Some("kubectl-rollout"),
        );
        assert!(is_restart(&map) && is_restart(&key));
        assert!(removals(&[map, key], &live).is_empty());
        // Another annotation beside it is removed.
        live["spec"]["template"]["metadata"]["annotations"]["x"] = json!("y");
        let other = added(
            "/spec/template/metadata/annotations/x",
            None,
            json!("y"),
            Some("kubectl-edit"),
        );
        assert!(!is_restart(&other));
        assert_eq!(removals(&[other], &live).len(), 1);
    }

    #[test]
    fn the_patch_follows_items_the_apply_moved_and_removes_later_indexes_first() {
        let live = rule();
        let found = removals(
            &[
                added(
                    "/spec/groups/0",
                    None,
                    json!({"name": "a-edited", "rules": []}),
                    None,
                ),
                added("/metadata/labels/team", None, json!("x"), None),
            ],
            &live,
        );
        // The apply added group `a` back in front: the renamed group is now item 1.
        let mut after = live.clone();
        after["spec"]["groups"] = json!([
            {"name": "a", "rules": []},
            {"name": "a-edited", "rules": []},
            {"name": "b", "rules": []}
        ]);
        let (ops, changed) = patch("PrometheusRule", &found, &live, &after);
        assert!(changed.is_empty());
        let paths: Vec<&str> = ops.iter().map(|o| o["path"].as_str().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "/spec/groups/1",
                "/spec/groups/1",
                "/metadata/labels/team",
                "/metadata/labels/team"
            ]
        );
        let patched = applied(&after, ops);
        assert_eq!(
            patched["spec"]["groups"],
            json!([{"name": "a", "rules": []}, {"name": "b", "rules": []}])
        );
        assert!(patched.pointer("/metadata/labels/team").is_none());
    }

    #[test]
    fn a_field_changed_since_it_was_read_is_left_alone() {
        let live = rule();
        let found = removals(
            &[added("/metadata/labels/team", None, json!("x"), None)],
            &live,
        );
        let mut after = live.clone();
        after["metadata"]["labels"]["team"] = json!("y");
        let (ops, changed) = patch("PrometheusRule", &found, &live, &after);
        assert!(ops.is_empty());
        assert_eq!(changed, ["`/metadata/labels/team`"]);
    }

    #[test]
    fn several_items_of_one_list_are_removed_highest_index_first() {
        let live = json!({"spec": {"groups": [
            {"name": "x"}, {"name": "keep"}, {"name": "y"}
        ]}});
        let found = removals(
            &[
                added("/spec/groups/0", None, json!({"name": "x"}), None),
                added("/spec/groups/2", None, json!({"name": "y"}), None),
            ],
            &live,
        );
        let (ops, _) = patch("PrometheusRule", &found, &live, &live);
        let patched = applied(&live, ops);
        assert_eq!(patched, json!({"spec": {"groups": [{"name": "keep"}]}}));
    }
}
