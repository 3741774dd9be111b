//! The RBAC `plinth rbac` derives for the example's `plain-west`, enforced by the fake API
//! server: a full apply (every read, dry-run, apply, the gate's annotations, the Events)
//! succeeds with no `403`; with one verb taken out of the role, the object it refuses is
//! reported `failed` naming the `403` — never `configured` — and left as it was.

mod support;

use std::path::Path;

use serde_json::Value;

use plinth_apply::outcome::{ApplyReport, Outcome};
use plinth_apply::rbac::{self, RbacOptions, RbacRequest};
use plinth_testkit::{FakeApiServer, RbacRule, git};

use support::{EPOCH, example, live_objects, named, request, server_with, stored, try_apply};

/// The `ClusterRole` and `Roles` `plinth rbac --cluster plain-west` writes, each changed by
/// `edit`.
fn roles(mut edit: impl FnMut(&mut Value)) -> Vec<Value> {
    let request = RbacRequest {
        repo: example(),
        cluster: "plain-west".into(),
        crds: None,
        options: RbacOptions::default(),
    };
    let derived = rbac::for_cluster(&request, &|_| {}).expect("plinth rbac");
    derived
        .objects()
        .into_iter()
        .filter(|o| o["kind"] == "ClusterRole" || o["kind"] == "Role")
        .map(|mut o| {
            edit(&mut o);
            o
        })
        .collect()
}

/// The example snapshot in a fake server that enforces `roles`.
fn enforcing(roles: &[Value]) -> FakeApiServer {
    let enforced = roles.iter().flat_map(RbacRule::from_role).collect();
    server_with(live_objects(), |s| s.with_rbac(enforced))
}

/// The requests the server refused with `403`, as `METHOD path`, but for the orphan LISTs
/// (a `GET` of a whole collection selecting plinth's labels): drift looks for orphans in
/// every kind the cluster serves, rendered or not, and a refused orphan LIST is a warning
/// ("orphans of this kind were not looked for"), which least privilege makes expected.
fn forbidden(server: &FakeApiServer) -> Vec<String> {
    server
        .request_log()
        .iter()
        .filter(|r| r.status == 403)
        .filter(|r| {
            !(r.method == "GET"
                && r.query
                    .get("labelSelector")
                    .is_some_and(|s| s.contains("managed-by=plinth")))
        })
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn hco(report: &ApplyReport) -> &plinth_apply::outcome::ObjectOutcome {
    named(report, "kubevirt-hyperconverged")
}

/// The MachineConfig the planted drift misses.
const PSI: &str = "99-openshift-machineconfig-worker-psi-karg";

const PARALLEL: &str = "/spec/liveMigrationConfig/parallelMigrationsPerCluster";

/// The HyperConverged as `server` stores it after the run of `report`.
fn stored_hco(server: &FakeApiServer, report: &ApplyReport) -> Value {
    stored(server, hco(report)).expect("stored")
}

#[test]
fn the_derived_rbac_allows_a_full_apply() {
    let server = enforcing(&roles(|_| {}));
    let report = try_apply(request(&server, &example(), EPOCH)).expect("apply runs");
    assert_eq!(forbidden(&server), Vec::<String>::new(), "{report:#?}");
    assert!(
        report
            .objects
            .iter()
            .all(|o| o.outcome != Outcome::Failed
                && o.notes.iter().all(|n| !n.contains("could not"))),
        "{report:#?}"
    );
    assert_eq!(hco(&report).outcome, Outcome::Configured, "{report:#?}");
    assert_eq!(named(&report, PSI).outcome, Outcome::Created);
    assert_eq!(
        stored_hco(&server, &report).pointer(PARALLEL),
        Some(&serde_json::json!(5))
    );
    assert!(!server.events().is_empty(), "the Events were emitted");
    assert_eq!(report.exit_code(), 0);
}

#[test]
fn without_patch_on_the_hyperconverged_its_apply_fails_naming_the_403() {
    let before = live_objects()
        .into_iter()
        .find(|o| o["kind"] == "HyperConverged")
        .expect("the live HyperConverged");
    let mut found = false;
    let roles = roles(|role| {
        for rule in role["rules"].as_array_mut().into_iter().flatten() {
            let names_hco = rule["resources"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r == "hyperconvergeds"));
            if names_hco && let Some(verbs) = rule["verbs"].as_array_mut() {
                verbs.retain(|v| v != "patch");
                found = true;
            }
        }
    });
    assert!(found, "a rule for hyperconvergeds: {roles:#?}");
    let server = enforcing(&roles);
    let report = try_apply(request(&server, &example(), EPOCH)).expect("apply runs");
    let h = hco(&report);
    assert_eq!(h.outcome, Outcome::Failed, "{report:#?}");
    let reason = h.reason.as_deref().unwrap_or_default();
    assert!(reason.contains("403"), "{reason}");
    assert!(!forbidden(&server).is_empty());
    assert_eq!(
        stored_hco(&server, &report).pointer(PARALLEL),
        before.pointer(PARALLEL)
    );
    assert_ne!(before.pointer(PARALLEL), Some(&serde_json::json!(5)));
    // The other objects are applied as without the restriction.
    assert_eq!(named(&report, PSI).outcome, Outcome::Created);
    assert_eq!(report.exit_code(), 1);
}

/// Copies the directory `from` into `to`, recursively.
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for entry in std::fs::read_dir(from).expect("read_dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

/// A copy of the example fleet whose rendered `plain-west` no longer holds the object of
/// `file` (the file, its `kustomization.yaml` line and its index entry removed).
fn without_rendered(file: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    copy_dir(&example(), dir.path());
    let rendered = dir.path().join("rendered/plain-west");
    std::fs::remove_file(rendered.join(file)).expect("the rendered file");
    let read = |name: &str| {
        String::from_utf8(std::fs::read(rendered.join(name)).expect(name)).expect("UTF-8")
    };
    let line = format!("- {file}");
    let text = read("kustomization.yaml");
    let kustomization: Vec<&str> = text.lines().filter(|l| *l != line).collect();
    git::write(
        &rendered,
        "kustomization.yaml",
        kustomization.join("\n") + "\n",
    );
    let mut index: Value = serde_json::from_str(&read("plinth-index.json")).expect("json");
    if let Some(objects) = index["objects"].as_array_mut() {
        objects.retain(|o| o["file"] != file);
    }
    git::write(
        &rendered,
        "plinth-index.json",
        serde_json::to_string_pretty(&index).expect("json") + "\n",
    );
    dir
}

/// `--prune` under the derived RBAC: the MachineConfig the first apply created, no longer
/// rendered, is deleted with no `403`.
#[test]
fn the_derived_rbac_allows_a_prune() {
    let server = enforcing(&roles(|_| {}));
    let first = try_apply(request(&server, &example(), EPOCH)).expect("apply runs");
    let name = PSI;
    assert_eq!(named(&first, name).outcome, Outcome::Created);
    let repo = without_rendered(&format!("machineconfig_{name}.yaml"));
    let mut prune = request(&server, repo.path(), EPOCH + 60);
    prune.prune = true;
    let report = try_apply(prune).expect("apply --prune runs");
    assert_eq!(forbidden(&server), Vec::<String>::new(), "{report:#?}");
    let pruned = named(&report, name);
    assert_eq!(pruned.outcome, Outcome::Pruned, "{pruned:#?}");
    assert_eq!(
        server.get(
            "machineconfiguration.openshift.io/v1",
            "MachineConfig",
            None,
            name
        ),
        None
    );
    assert!(
        server
            .writes()
            .iter()
            .any(|w| w.stored() && w.request.method == "DELETE" && w.request.path.ends_with(name))
    );
}
