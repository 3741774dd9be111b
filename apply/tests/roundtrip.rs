//! Render → apply → drift: whatever was deleted or edited in the live cluster before, after
//! an apply (with `--force-conflicts`) the drift engine — client-side and server-side — calls
//! every rendered object the apply reported `created`, `configured` or `unchanged` `in-sync`;
//! and the apply wrote nothing outside the rendered index (every stored `PATCH`, `POST` and
//! `DELETE` is a rendered object's, or an Event's).

mod support;

use proptest::prelude::*;
use serde_json::Value;

use plinth_apply::outcome::{ApplyReport, Outcome};
use plinth_drift::core::report::{Mode, Status};
use plinth_drift::engine;
use plinth_testkit::FakeApiServer;

use support::{EPOCH, example, live_objects, request, server_with, try_apply};

/// Changes the first scalar under `spec` (in key order, lists included) as `kubectl edit`
/// would: a string gets a suffix, a number grows by one, a boolean flips; `false` when there
/// is none. Inside a list the edit may rename a keyed item: the renamed item is then another
/// manager's, and the apply must remove it.
fn edit_first_leaf(value: &mut Value) -> bool {
    match value {
        Value::String(s) => {
            s.push_str("-edited");
            true
        }
        Value::Number(n) => {
            *value = (n.as_i64().unwrap_or(0) + 1).into();
            true
        }
        Value::Bool(b) => {
            *b = !*b;
            true
        }
        Value::Object(map) => map.values_mut().any(edit_first_leaf),
        Value::Array(items) => items.iter_mut().any(edit_first_leaf),
        Value::Null => false,
    }
}

fn text<'a>(o: &'a Value, pointer: &str) -> Option<&'a str> {
    o.pointer(pointer).and_then(Value::as_str)
}

/// Edits the live objects `edit` selects (by position) with `kubectl edit`, and labels and
/// annotates those `label` selects with `kubectl label`/`kubectl annotate`, as other clients
/// would.
fn disturb(server: &FakeApiServer, live: &[Value], edit: &[bool], label: &[bool]) {
    for (i, o) in live.iter().enumerate() {
        let (api_version, kind) = (
            text(o, "/apiVersion").unwrap_or(""),
            text(o, "/kind").unwrap_or(""),
        );
        let (namespace, name) = (
            text(o, "/metadata/namespace"),
            text(o, "/metadata/name").unwrap_or(""),
        );
        if edit.get(i).copied().unwrap_or(false) {
            server.edit_as("kubectl-edit", api_version, kind, namespace, name, |o| {
                if let Some(spec) = o.get_mut("spec") {
                    edit_first_leaf(spec);
                }
            });
        }
        if label.get(i).copied().unwrap_or(false) {
            server.edit_as("kubectl-label", api_version, kind, namespace, name, |o| {
                o["metadata"]["labels"]["team"] = "platform".into();
            });
            server.edit_as(
                "kubectl-annotate",
                api_version,
                kind,
                namespace,
                name,
                |o| {
                    o["metadata"]["annotations"]["ticket"] = "OPS-1".into();
                },
            );
        }
    }
}

/// Every stored write is to a rendered object of `report` or an Event.
fn writes_stay_in_the_index(server: &FakeApiServer, report: &ApplyReport) {
    for w in server.writes().iter().filter(|w| w.stored()) {
        let path = &w.request.path;
        let event = w.request.method == "POST" && path.starts_with("/apis/events.k8s.io/v1/");
        let rendered = report.objects.iter().any(|o| {
            let group = if o.key.group.is_empty() {
                "/api/v1/".to_owned()
            } else {
                format!("/apis/{}/", o.api_version)
            };
            let scope = o
                .key
                .namespace
                .as_ref()
                .map_or(String::new(), |ns| format!("/namespaces/{ns}/"));
            path.starts_with(&group)
                && path.contains(&scope)
                && path.ends_with(&format!("/{}", o.key.name))
        });
        assert!(
            event || rendered,
            "{} {path} is outside the index",
            w.request.method
        );
    }
}

fn roundtrip(delete: &[bool], edit: &[bool], label: &[bool]) {
    // Deleted objects: the snapshot without them.
    let live: Vec<Value> = live_objects()
        .into_iter()
        .enumerate()
        .filter(|(i, _)| !delete.get(*i).copied().unwrap_or(false))
        .map(|(_, o)| o)
        .collect();
    let server = server_with(live.clone(), |s| s);
    disturb(&server, &live, edit, label);
    roundtrip_on(&server);
}

/// Applies to `server` and checks the drift engine and the write log.
fn roundtrip_on(server: &FakeApiServer) {
    let request = request(server, &example(), EPOCH);
    let report = try_apply(request.clone()).expect("apply runs");
    writes_stay_in_the_index(server, &report);
    for mode in [Mode::Client, Mode::Server] {
        let mut drift = request.drift.clone();
        drift.mode = mode;
        drift.now_epoch = EPOCH + 60;
        let run = std::thread::spawn(move || engine::run(&drift, &|_| {}))
            .join()
            .expect("the drift thread")
            .expect("drift runs");
        for o in report.objects.iter().filter(|o| {
            matches!(
                o.outcome,
                Outcome::Created | Outcome::Configured | Outcome::Unchanged
            )
        }) {
            let result = run
                .report
                .objects
                .iter()
                .find(|r| r.key == o.key)
                .unwrap_or_else(|| panic!("{:?} not in the drift report", o.key));
            assert_eq!(
                result.status,
                Status::InSync,
                "{mode:?}: apply said {:?}: {result:#?}",
                o.outcome
            );
        }
    }
}

#[test]
fn the_planted_drift_applied_is_in_sync() {
    roundtrip(&[], &[], &[]);
}

/// `kubectl edit` renames a keyed list item (a PrometheusRule group): another manager now owns
/// an item plinth does not render, which server-side apply alone would leave (it removes only
/// what plinth owns). The apply removes it (a JSON patch guarded by a `test` of its value), so
/// drift finds the object in sync.
#[test]
fn a_renamed_list_item_is_removed_by_the_apply() {
    let server = server_with(live_objects(), |s| s);
    assert!(server.edit_as(
        "kubectl-edit",
        "monitoring.coreos.com/v1",
        "PrometheusRule",
        Some("openshift-cnv"),
        "virt-platform-alerts",
        |o| {
            if let Some(name) = o.pointer_mut("/spec/groups/0/name")
                && let Some(s) = name.as_str()
            {
                *name = format!("{s}-edited").into();
            }
        },
    ));
    roundtrip_on(&server);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    #[test]
    fn whatever_was_deleted_edited_or_labelled_an_apply_leaves_in_sync(
        delete in prop::collection::vec(prop::bool::weighted(0.2), 16),
        edit in prop::collection::vec(prop::bool::weighted(0.3), 16),
        label in prop::collection::vec(prop::bool::weighted(0.2), 16),
    ) {
        roundtrip(&delete, &edit, &label);
    }
}
