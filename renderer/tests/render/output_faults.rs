//! Fault injection into the output swap: every file-system operation of a render's write
//! (create, write, rename, exchange, remove) is made to fail in turn, once (an I/O error) and
//! from then on (a kill), with and without the atomic exchange. After each, every cluster
//! folder must be entirely old or entirely new, an error must leave everything old and no
//! scratch folder behind, and the next run must recover and end equal to a clean render.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use plinth_renderer::fsops::{Fault, Fs};
use plinth_renderer::index::{self, Index};
use plinth_renderer::output::{self, ClusterOutput, Output};
use plinth_renderer::{RenderError, VERSION};

type Tree = BTreeMap<String, Vec<u8>>;

/// A cluster folder as plinth lays it out: object files and a plinth index naming them.
fn cluster(name: &str, generation: &str, objects: usize) -> ClusterOutput {
    let mut files: Tree = (0..objects)
        .map(|i| {
            (
                format!("configmap_{i}.yaml"),
                format!("# {name} {generation} {i}\n").into_bytes(),
            )
        })
        .collect();
    let index = Index {
        schema_version: index::SCHEMA_VERSION,
        plinth_version: VERSION.to_owned(),
        cluster: name.to_owned(),
        input_digest: format!("sha256:{generation}"),
        objects: Vec::new(),
        assets: Vec::new(),
        files: files
            .keys()
            .map(|k| (k.clone(), format!("{generation}-{k}")))
            .collect(),
        machine_classes: Vec::new(),
    };
    files.insert(
        index::FILE.to_owned(),
        serde_json::to_vec_pretty(&index).unwrap(),
    );
    ClusterOutput {
        name: name.to_owned(),
        files,
        index,
    }
}

/// What the CLI does: open (recover), stage every cluster, commit.
fn write(
    root: &Path,
    fs: &Fs,
    outputs: &[ClusterOutput],
    remove: &[String],
) -> Result<Vec<String>, RenderError> {
    let (writer, _) = Output::open(root, fs)?;
    let mut staged = Vec::new();
    for out in outputs {
        match writer.stage(out) {
            Ok(s) => staged.push(s),
            Err(err) => {
                writer.abandon(&staged);
                return Err(err);
            }
        }
    }
    writer.commit(&staged, remove)
}

fn folder(dir: &Path) -> Option<Tree> {
    let meta = fs_err::symlink_metadata(dir).ok()?;
    assert!(meta.is_dir(), "{} is not a folder", dir.display());
    let mut tree = Tree::new();
    for entry in fs_err::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        assert!(
            entry.file_type().unwrap().is_file(),
            "{}",
            entry.path().display()
        );
        tree.insert(
            entry.file_name().to_string_lossy().into_owned(),
            fs_err::read(entry.path()).unwrap(),
        );
    }
    Some(tree)
}

/// Every entry of the output root: cluster folders and scratch folders alike.
fn root_tree(root: &Path) -> BTreeMap<String, Option<Tree>> {
    let Ok(entries) = fs_err::read_dir(root) else {
        return BTreeMap::new();
    };
    entries
        .map(|e| {
            let e = e.unwrap();
            let name = e.file_name().to_string_lossy().into_owned();
            (name, folder(&e.path()))
        })
        .collect()
}

struct Scenario {
    old: Vec<ClusterOutput>,
    new: Vec<ClusterOutput>,
    remove: Vec<String>,
}

impl Scenario {
    /// a, b change (b loses a file, a gains one), c stays, d is removed, e is new.
    fn fleet() -> Self {
        Self {
            old: vec![
                cluster("a", "old", 2),
                cluster("b", "old", 3),
                cluster("c", "old", 1),
                cluster("d", "old", 2),
            ],
            new: vec![
                cluster("a", "new", 3),
                cluster("b", "new", 2),
                cluster("e", "new", 2),
            ],
            remove: vec!["d".to_owned()],
        }
    }

    fn set_up(&self, root: &Path) {
        write(root, &Fs::real(), &self.old, &[]).unwrap();
    }

    /// The old output, set up in `rendered` of a new temporary folder (kept while it lives).
    fn set_up_in_temp(&self) -> (tempfile::TempDir, std::path::PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("rendered");
        self.set_up(&root);
        (tmp, root)
    }

    fn expected_clean(&self) -> BTreeMap<String, Option<Tree>> {
        let (_tmp, root) = self.set_up_in_temp();
        let left = write(&root, &Fs::real(), &self.new, &self.remove).unwrap();
        assert!(left.is_empty());
        root_tree(&root)
    }

    fn old_of(&self, name: &str) -> Option<Tree> {
        self.old
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.files.clone())
    }

    fn new_of(&self, name: &str) -> Option<Tree> {
        if self.remove.iter().any(|r| r == name) {
            return None;
        }
        self.new
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.files.clone())
            .or_else(|| self.old_of(name))
    }
}

/// Runs the scenario with the N-th operation failing, for every N, and checks the
/// invariants. Returns how many operations a run takes.
fn every_fault(scenario: &Scenario, exchange: bool, kill: bool, root_exists: bool) -> usize {
    let clean = scenario.expected_clean();
    let names = ["a", "b", "c", "d", "e"];
    let mut n = 1;
    loop {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("out").join("rendered");
        if root_exists {
            scenario.set_up(&root);
        }
        let fault = if kill { Fault::From(n) } else { Fault::Once(n) };
        let mut fs = Fs::failing(fault);
        if !exchange {
            fs = fs.without_exchange();
        }
        let result = write(&root, &fs, &scenario.new, &scenario.remove);
        let hit = fs.operations() >= n;
        let case = format!("fault {fault:?}, exchange {exchange}, root existed {root_exists}");

        // Every cluster folder is entirely old or entirely new, at every point.
        let tree = root_tree(&root);
        for name in names {
            let now = tree.get(name).cloned().flatten();
            let (old, new) = if root_exists {
                (scenario.old_of(name), scenario.new_of(name))
            } else {
                (
                    None,
                    scenario
                        .new
                        .iter()
                        .find(|c| c.name == name)
                        .map(|c| c.files.clone()),
                )
            };
            // Without an exchange, a kill between the two renames leaves the old folder
            // parked beside its empty place; the next run puts it back.
            let parked = now.is_none()
                && !exchange
                && tree.iter().any(|(k, v)| {
                    k.starts_with(".plinth-old-") && k.ends_with(&format!("-{name}")) && *v == old
                });
            assert!(
                now == old || now == new || parked,
                "{case}: `{name}` is neither old nor new: {:?}",
                now.map(|t| t.into_keys().collect::<Vec<_>>())
            );
        }
        for name in tree.keys() {
            assert!(
                names.contains(&name.as_str()) || name.starts_with(output::SCRATCH_PREFIX),
                "{case}: unexpected `{name}`"
            );
        }
        if !kill && hit {
            match &result {
                // An error leaves the previous output exactly, and nothing behind.
                Err(_) => {
                    if root_exists {
                        let before: Vec<_> = names.iter().map(|n| scenario.old_of(n)).collect();
                        let now: Vec<_> = names
                            .iter()
                            .map(|n| tree.get(*n).cloned().flatten())
                            .collect();
                        assert_eq!(now, before, "{case}: a failed render changed the output");
                    } else {
                        assert!(
                            !root.exists() && !root.parent().unwrap().exists(),
                            "{case}: a failed render left the output folder behind"
                        );
                    }
                    assert!(output::leftovers(&root).is_empty(), "{case}: leftovers");
                }
                // Only deleting an old folder failed: the output is new and complete; the
                // folder it could not delete is reported.
                Ok(left) => {
                    assert_eq!(left.len(), 1, "{case}");
                    assert_eq!(output::leftovers(&root).len(), 1, "{case}");
                }
            }
        }
        if kill && hit && root_exists {
            // `render --check` sees what an interrupted run left (when it left anything).
            let clusters_ok = names
                .iter()
                .all(|n| tree.get(*n).cloned().flatten() == scenario.new_of(n));
            assert!(
                clusters_ok || !output::leftovers(&root).is_empty() || result.is_err(),
                "{case}"
            );
        }

        // The next run recovers and ends where a clean render ends.
        let left = write(&root, &Fs::real(), &scenario.new, &scenario.remove)
            .unwrap_or_else(|e| panic!("{case}: the next run failed: {e}"));
        assert!(left.is_empty(), "{case}: {left:?}");
        if root_exists {
            assert_eq!(root_tree(&root), clean, "{case}: not a clean render");
        } else {
            let want: BTreeMap<_, _> = scenario
                .new
                .iter()
                .map(|c| (c.name.clone(), Some(c.files.clone())))
                .collect();
            assert_eq!(root_tree(&root), want, "{case}: not a clean render");
        }
        if !hit {
            return n - 1;
        }
        n += 1;
    }
}

/// Every operation of a re-render fails in turn (`kill`: from then on), with and without the
/// atomic exchange; at least 20 operations are tried each way.
fn every_fault_of_a_rerender(kill: bool) {
    let scenario = Scenario::fleet();
    for exchange in [true, false] {
        let ops = every_fault(&scenario, exchange, kill, true);
        assert!(ops >= 20, "only {ops} operations were tried");
    }
}

#[test]
fn an_io_error_at_any_operation_leaves_the_old_output_or_the_new_one() {
    every_fault_of_a_rerender(false);
}

#[test]
fn a_kill_at_any_operation_is_recovered_by_the_next_run() {
    every_fault_of_a_rerender(true);
}

#[test]
fn a_failed_first_render_leaves_no_output_folder() {
    let scenario = Scenario::fleet();
    for kill in [false, true] {
        every_fault(&scenario, true, kill, false);
    }
}

#[test]
fn leftovers_of_an_interrupted_run_are_put_back_or_deleted() {
    let scenario = Scenario::fleet();
    let (_tmp, root) = scenario.set_up_in_temp();
    // A run killed between its two renames: `a` parked, its place empty; a staging folder
    // and a parked removed folder beside it.
    fs_err::rename(root.join("a"), root.join(".plinth-old-99-a")).unwrap();
    fs_err::create_dir(root.join(".plinth-staging-99-b")).unwrap();
    fs_err::write(root.join(".plinth-staging-99-b/half.yaml"), "x").unwrap();
    fs_err::rename(root.join("d"), root.join(".plinth-removed-99-d")).unwrap();
    // The clock probe of a run killed while it waited for the clock to move on.
    fs_err::write(root.join(".plinth-clock-99"), "").unwrap();
    assert_eq!(output::leftovers(&root).len(), 4);
    let (_, recovered) = Output::open(&root, &Fs::real()).unwrap();
    assert_eq!(recovered.len(), 4, "{recovered:?}");
    assert!(output::leftovers(&root).is_empty());
    assert_eq!(folder(&root.join("a")), scenario.old_of("a"));
    assert!(!root.join("d").exists());
}

/// Puts something plinth did not write into an output root.
type Spoil = dyn Fn(&Path);

#[test]
fn commit_refuses_folders_and_files_plinth_did_not_write_and_changes_nothing() {
    let scenario = Scenario::fleet();
    // A user's note inside a folder plinth owns, a folder plinth never wrote named like a
    // cluster, a folder whose index is not plinth's, and a symlinked cluster folder.
    let cases: Vec<(&str, Box<Spoil>)> = vec![
        (
            "a/notes.md",
            Box::new(|r: &Path| fs_err::write(r.join("a/notes.md"), "mine").unwrap()),
        ),
        (
            "e",
            Box::new(|r: &Path| {
                fs_err::create_dir(r.join("e")).unwrap();
                fs_err::write(r.join("e/keep.txt"), "mine").unwrap();
            }),
        ),
        (
            "e/plinth-index.json",
            Box::new(|r: &Path| {
                fs_err::create_dir(r.join("e")).unwrap();
                fs_err::write(r.join("e/plinth-index.json"), "{\"mine\": true}").unwrap();
            }),
        ),
        (
            "d/sub",
            Box::new(|r: &Path| fs_err::create_dir(r.join("d/sub")).unwrap()),
        ),
        #[cfg(unix)]
        (
            "b",
            Box::new(|r: &Path| {
                fs_err::rename(r.join("b"), r.join("real-b")).unwrap();
                std::os::unix::fs::symlink(r.join("real-b"), r.join("b")).unwrap();
            }),
        ),
    ];
    for (named, make) in cases {
        let (_tmp, root) = scenario.set_up_in_temp();
        make(&root);
        let before = root_tree_following(&root);
        let err = write(&root, &Fs::real(), &scenario.new, &scenario.remove).unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, RenderError::NotOwned { .. }) && text.contains(named),
            "{named}: {text}"
        );
        assert_eq!(root_tree_following(&root), before, "{named}: changed");
    }
}

/// Like `root_tree`, for trees that may hold symlinks and sub-folders (paths -> bytes).
fn root_tree_following(root: &Path) -> BTreeMap<String, Vec<u8>> {
    plinth_testkit::tree::tree_with(root, |path, kind| {
        if kind.is_symlink() {
            b"<symlink>".to_vec()
        } else {
            fs_err::read(path).unwrap()
        }
    })
}

#[test]
fn cluster_names_that_are_not_plain_folder_names_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rendered");
    let fs = Fs::real();
    let (writer, _) = Output::open(&root, &fs).unwrap();
    for name in ["..", ".", ".git", "a/b", "../x", "", ".plinth-old-1-a"] {
        let err = writer.stage(&cluster(name, "new", 1)).unwrap_err();
        assert!(matches!(err, RenderError::NotOwned { .. }), "{name}: {err}");
    }
    assert!(output::leftovers(&root).is_empty());
    assert_eq!(fs_err::read_dir(&root).unwrap().count(), 0);
}

#[cfg(unix)]
#[test]
fn the_unchanged_shortcut_holds_after_a_write_and_not_after_any_edit() {
    let digest = || Some("sha256:new".to_owned());
    for (file, backdate) in [
        ("configmap_0.yaml", true),
        ("configmap_1.yaml", false),
        (index::FILE, true),
        (index::FILE, false),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("rendered");
        write(&root, &Fs::real(), &[cluster("a", "new", 2)], &[]).unwrap();
        assert!(
            output::is_current(&root, "a", digest),
            "{file}: just written"
        );
        assert!(!output::is_current(&root, "a", || Some(
            "sha256:other".to_owned()
        )));
        let path = root.join("a").join(file);
        let mut bytes = fs_err::read(&path).unwrap();
        bytes.push(b' ');
        plinth_testkit::tree::edit(&path, &bytes, backdate);
        assert!(
            !output::is_current(&root, "a", digest),
            "{file} (backdated: {backdate}): an edit went unnoticed"
        );
    }
    // A file added or removed is noticed too.
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rendered");
    write(&root, &Fs::real(), &[cluster("a", "new", 2)], &[]).unwrap();
    fs_err::remove_file(root.join("a/configmap_1.yaml")).unwrap();
    assert!(!output::is_current(&root, "a", digest));
}

/// The clock probe of the swap is created new: a symlink planted at its name (say, committed
/// into the output folder) is never written through, nor removed.
#[cfg(unix)]
#[test]
fn a_symlink_planted_at_the_clock_probe_is_not_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("rendered");
    fs_err::create_dir(&root).unwrap();
    let victim = tmp.path().join("victim");
    fs_err::write(&victim, "keep").unwrap();
    let planted = root.join(format!(".plinth-clock-{}", std::process::id()));
    std::os::unix::fs::symlink(&victim, &planted).unwrap();
    write(&root, &Fs::real(), &[cluster("a", "new", 2)], &[]).unwrap();
    assert_eq!(fs_err::read_to_string(&victim).unwrap(), "keep");
    assert!(fs_err::symlink_metadata(&planted).is_ok_and(|m| m.file_type().is_symlink()));
    // Without a probe the swap does not wait for the clock: the output is complete, only the
    // unchanged shortcut may stay unproven (the next render then compares byte for byte).
    let clean = tmp.path().join("clean");
    write(&clean, &Fs::real(), &[cluster("a", "new", 2)], &[]).unwrap();
    assert_eq!(folder(&root.join("a")), folder(&clean.join("a")));
}
