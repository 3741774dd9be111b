//! The render of a selection as one library call ([`engine::render`]): staged folders become
//! visible only on commit, a dropped or failed render leaves nothing behind, unchanged clusters
//! are skipped, and `--check` keeps the folders in memory to compare with the disk.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use plinth_renderer::engine::{self, RenderRequest, RenderResult, RenderRun};
use plinth_renderer::fsops::Fs;
use plinth_renderer::{Fleet, Selection, output};

use crate::common::one_asset_fleet;

fn fleet(template: &str) -> Fleet {
    one_asset_fleet("cm", template, &["a", "b"])
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

/// Nothing is left in the output root: no cluster folder, no staging.
fn assert_nothing_left(out_root: &Path) {
    let left = entries(out_root);
    assert!(left.is_empty(), "staging left behind: {left:?}");
}

/// An output root in a temporary folder, every cluster of a fleet selected, the real file
/// system.
struct Setup {
    _dir: tempfile::TempDir,
    out_root: PathBuf,
    selection: Selection,
    fs: Fs,
}

impl Setup {
    fn new(fleet: &Fleet) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let out_root = dir.path().join("rendered");
        Self {
            _dir: dir,
            out_root,
            selection: fleet.select(&[], None).unwrap(),
            fs: Fs::real(),
        }
    }

    /// A write (or with `check`, a `--check`) render of the whole selection.
    fn render(&self, fleet: &Fleet, check: bool) -> plinth_renderer::Result<RenderRun<'_>> {
        let request = RenderRequest {
            out_root: &self.out_root,
            selection: &self.selection,
            check,
            explain: false,
            force: false,
            schemas: None,
        };
        engine::render(fleet, &request, &self.fs)
    }
}

#[test]
fn staged_folders_appear_on_commit_and_unchanged_clusters_are_skipped() {
    let fleet = fleet(GOOD);
    let setup = Setup::new(&fleet);
    let out_root = &setup.out_root;

    let run = setup.render(&fleet, false).unwrap();
    assert_eq!((run.rendered, run.unchanged, run.objects), (2, 0, 2));
    let RenderResult::Staged(staged) = run.result else {
        panic!("a write stages")
    };
    assert!(
        !entries(out_root).iter().any(|e| e == "a" || e == "b"),
        "nothing is visible before the commit: {:?}",
        entries(out_root)
    );
    let keep: BTreeSet<String> = setup.selection.names.iter().cloned().collect();
    assert!(staged.retired(&keep).unwrap().is_empty());
    assert!(staged.commit(&[]).unwrap().is_empty());
    assert_eq!(entries(out_root), ["a", "b"]);
    assert!(out_root.join("a").join(output::KUSTOMIZATION).is_file());

    // Again: both clusters are current.
    let again = setup.render(&fleet, false).unwrap();
    assert_eq!((again.rendered, again.unchanged), (0, 2));
    drop(again);
    assert_eq!(entries(out_root), ["a", "b"]);

    // `--check` keeps the folders in memory; they match the disk.
    let check = setup.render(&fleet, true).unwrap();
    let RenderResult::Kept(outputs) = check.result else {
        panic!("a check keeps")
    };
    assert_eq!(outputs.len(), 2);
    let report = output::check(out_root, &outputs, Some(&keep)).unwrap();
    assert!(report.is_clean(), "{report:?}");
}

#[test]
fn a_dropped_render_leaves_nothing_behind() {
    let fleet = fleet(GOOD);
    let setup = Setup::new(&fleet);
    let run = setup.render(&fleet, false).unwrap();
    assert_eq!(run.rendered, 2);
    drop(run);
    assert_nothing_left(&setup.out_root);
}

#[test]
fn a_failing_cluster_fails_the_render_and_removes_what_was_staged() {
    // Cluster `b` renders invalid YAML; `a` renders and is staged first.
    let fleet = fleet(
        "{% if cluster.name == 'b' %}: : bad{% else %}apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: n\n{% endif %}\n",
    );
    let setup = Setup::new(&fleet);
    let err = setup.render(&fleet, false).unwrap_err();
    assert!(err.to_string().contains("cluster `b`"), "{err}");
    assert_nothing_left(&setup.out_root);
}
