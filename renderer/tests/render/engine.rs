//! The render of a selection as one library call ([`engine::render`]): staged folders become
//! visible only on commit, a dropped or failed render leaves nothing behind, unchanged clusters
//! are skipped, and `--check` keeps the folders in memory to compare with the disk.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;

use plinth_renderer::engine::{self, RenderRequest, RenderResult};
use plinth_renderer::fsops::Fs;
use plinth_renderer::{Fleet, output};

use crate::common::repo;

const CATALOG: &str = "assets:
  - name: cm
    path: cm.yaml.j2
    install: always
    reconcile_order: 1
";

fn fleet(template: &str) -> Fleet {
    Fleet::open(repo(&[
        ("assets/metadata.yaml", CATALOG),
        ("assets/cm.yaml.j2", template),
        ("clusters/a/cluster.yaml", ""),
        ("clusters/b/cluster.yaml", ""),
    ]))
    .unwrap()
}

const GOOD: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: n\ndata: {v: \"{{ cluster.name }}\"}\n";

/// Every entry of `dir`, sorted (hidden staging folders included).
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs_err::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn request<'a>(
    out_root: &'a Path,
    selection: &'a plinth_renderer::Selection,
    check: bool,
) -> RenderRequest<'a> {
    RenderRequest {
        out_root,
        selection,
        check,
        explain: false,
        force: false,
        schemas: None,
    }
}

#[test]
fn staged_folders_appear_on_commit_and_unchanged_clusters_are_skipped() {
    let fleet = fleet(GOOD);
    let dir = tempfile::tempdir().unwrap();
    let out_root = dir.path().join("rendered");
    let selection = fleet.select(&[], None).unwrap();
    let fs = Fs::real();

    let run = engine::render(&fleet, &request(&out_root, &selection, false), &fs).unwrap();
    assert_eq!((run.rendered, run.unchanged, run.objects), (2, 0, 2));
    let RenderResult::Staged(staged) = run.result else {
        panic!("a write stages")
    };
    assert!(
        !entries(&out_root).iter().any(|e| e == "a" || e == "b"),
        "nothing is visible before the commit: {:?}",
        entries(&out_root)
    );
    let keep: BTreeSet<String> = selection.names.iter().cloned().collect();
    assert!(staged.retired(&out_root, &keep).unwrap().is_empty());
    assert!(staged.commit(&[]).unwrap().is_empty());
    assert_eq!(entries(&out_root), ["a", "b"]);
    assert!(out_root.join("a").join(output::KUSTOMIZATION).is_file());

    // Again: both clusters are current.
    let again = engine::render(&fleet, &request(&out_root, &selection, false), &fs).unwrap();
    assert_eq!((again.rendered, again.unchanged), (0, 2));
    drop(again);
    assert_eq!(entries(&out_root), ["a", "b"]);

    // `--check` keeps the folders in memory; they match the disk.
    let check = engine::render(&fleet, &request(&out_root, &selection, true), &fs).unwrap();
    let RenderResult::Kept(outputs) = check.result else {
        panic!("a check keeps")
    };
    assert_eq!(outputs.len(), 2);
    let report = output::check(&out_root, &outputs, Some(&keep)).unwrap();
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn a_dropped_render_leaves_nothing_behind() {
    let fleet = fleet(GOOD);
    let dir = tempfile::tempdir().unwrap();
    let out_root = dir.path().join("rendered");
    let selection = fleet.select(&[], None).unwrap();
    let fs = Fs::real();
    let run = engine::render(&fleet, &request(&out_root, &selection, false), &fs).unwrap();
    assert_eq!(run.rendered, 2);
    drop(run);
    assert!(
        entries(&out_root).is_empty(),
        "staging left behind: {:?}",
        entries(&out_root)
    );
}

#[test]
fn a_failing_cluster_fails_the_render_and_removes_what_was_staged() {
    // Cluster `b` renders invalid YAML; `a` renders and is staged first.
    let fleet = fleet(
        "{% if cluster.name == 'b' %}: : bad{% else %}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: n\n{% endif %}\n",
    );
    let dir = tempfile::tempdir().unwrap();
    let out_root = dir.path().join("rendered");
    let selection = fleet.select(&[], None).unwrap();
    let fs = Fs::real();
    let err = engine::render(&fleet, &request(&out_root, &selection, false), &fs).unwrap_err();
    assert!(err.to_string().contains("cluster `b`"), "{err}");
    assert!(
        entries(&out_root).is_empty(),
        "staging left behind: {:?}",
        entries(&out_root)
    );
}
