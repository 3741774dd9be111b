//! The git layer on real repositories: revisions read into memory without a checkout
//! (output folder and hidden entries skipped, sizes bounded, symlinks followed inside the
//! tree, sub-folder platforms), the dirty check, and hydrated commits read back with `git`.

#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use plinth_review::git::{CommitOutcome, GitError, GitRepo};
use plinth_testkit::git::{TempRepo, git, write};

/// A repository whose first commit holds `files`, and that commit's id.
fn committed(files: &[(&str, &[u8])]) -> (TempRepo, String) {
    let tmp = TempRepo::new();
    for (path, content) in files {
        tmp.write(path, content);
    }
    let id = tmp.commit("one");
    (tmp, id)
}

/// [`committed`], opened as a [`GitRepo`] at its root.
fn opened(files: &[(&str, &[u8])]) -> (TempRepo, String, GitRepo) {
    let (tmp, id) = committed(files);
    let repo = GitRepo::open(&tmp.root).unwrap();
    (tmp, id, repo)
}

#[test]
fn revisions_are_read_from_the_object_database() {
    let (tmp, first) = committed(&[
        ("clusters/a/cluster.yaml", b"params: {v: 1}\n"),
        ("rendered/a/x.yaml", b"old output\n"),
        (".github/workflows/ci.yml", b"on: push\n"),
    ]);
    let root = tmp.root.as_path();
    write(root, "clusters/a/cluster.yaml", b"params: {v: 2}\n");
    write(root, "clusters/b/cluster.yaml", b"{}\n");
    tmp.commit("two");
    // The working tree moves on; revisions do not see it.
    write(root, "clusters/a/cluster.yaml", b"params: {v: 3}\n");

    let repo = GitRepo::open(root).unwrap();
    for spec in ["HEAD~1", first.as_str(), &first[..10]] {
        let rev = repo.resolve(spec).unwrap();
        assert_eq!(rev.id, first);
        let src = repo.source_at(&rev).unwrap();
        assert_eq!(src.files_under("").unwrap(), ["clusters/a/cluster.yaml"]);
        assert_eq!(
            src.read_text("clusters/a/cluster.yaml", 100).unwrap(),
            "params: {v: 1}\n"
        );
    }
    let head = repo.resolve("main").unwrap();
    let src = repo.source_at(&head).unwrap();
    assert_eq!(
        src.read_text("clusters/a/cluster.yaml", 100).unwrap(),
        "params: {v: 2}\n"
    );
    assert!(src.is_file("clusters/b/cluster.yaml").unwrap());
    assert!(!src.is_file("rendered/a/x.yaml").unwrap());
    let worktree = repo.worktree_source().unwrap();
    assert_eq!(
        worktree.read_text("clusters/a/cluster.yaml", 100).unwrap(),
        "params: {v: 3}\n"
    );

    let err = repo.resolve("no-such-rev").unwrap_err();
    assert_eq!(err.to_string(), "cannot resolve revision `no-such-rev`");
}

#[test]
fn the_revisions_own_output_folder_and_size_limit_apply() {
    let (tmp, _, repo) = opened(&[
        (
            "plinth.yaml",
            b"paths:\n  output: out\nlimits:\n  maxFileBytes: 100\n",
        ),
        ("clusters/a/cluster.yaml", b"{}\n"),
        ("out/a/x.yaml", b"output\n"),
        ("rendered/keep.txt", b"not output here\n"),
        ("docs/big.bin", &[b'x'; 500]),
    ]);
    let root = tmp.root.as_path();
    let src = repo.source_at(&repo.resolve("HEAD").unwrap()).unwrap();
    assert_eq!(
        src.files_under("").unwrap(),
        [
            "clusters/a/cluster.yaml",
            "plinth.yaml",
            "rendered/keep.txt"
        ]
    );
    // An oversized file the renderer would read is an error naming revision and path.
    write(root, "clusters/a/inventory.yaml", [b'x'; 500]);
    tmp.commit("two");
    let err = repo.source_at(&repo.resolve("HEAD").unwrap()).unwrap_err();
    assert!(
        matches!(
            err,
            GitError::TooLarge {
                size: 500,
                limit: 100,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "revision `HEAD`: `clusters/a/inventory.yaml` is 500 bytes, more than the limit of 100 bytes (`limits.maxFileBytes`)"
    );
}

#[cfg(unix)]
#[test]
fn symlinks_inside_the_tree_are_followed() {
    let tmp = TempRepo::new();
    let root = tmp.root.as_path();
    write(root, "shared/inventory.yaml", b"nodes: []\n");
    write(root, "clusters/a/cluster.yaml", b"{}\n");
    std::os::unix::fs::symlink(
        "../../shared/inventory.yaml",
        root.join("clusters/a/inventory.yaml"),
    )
    .unwrap();
    std::os::unix::fs::symlink("/etc/hostname", root.join("clusters/a/escape.yaml")).unwrap();
    tmp.commit("links");
    let repo = GitRepo::open(root).unwrap();
    let src = repo.source_at(&repo.resolve("HEAD").unwrap()).unwrap();
    assert_eq!(
        src.read_text("clusters/a/inventory.yaml", 100).unwrap(),
        "nodes: []\n"
    );
    assert!(!src.is_file("clusters/a/escape.yaml").unwrap());
}

#[test]
fn a_platform_in_a_sub_folder() {
    let (tmp, _) = committed(&[
        ("platform/clusters/a/cluster.yaml", b"{}\n"),
        ("other/file.txt", b"x\n"),
    ]);
    let root = tmp.root.as_path();
    let repo = GitRepo::open(&root.join("platform")).unwrap();
    assert_eq!(repo.prefix(), "platform/");
    let src = repo.source_at(&repo.resolve("HEAD").unwrap()).unwrap();
    assert_eq!(src.files_under("").unwrap(), ["clusters/a/cluster.yaml"]);
    // Dirty files outside the platform folder do not count.
    write(root, "other/file.txt", b"changed\n");
    assert!(repo.dirty_paths("rendered").unwrap().is_empty());
    write(root, "platform/clusters/a/cluster.yaml", b"{x: 1}\n");
    assert_eq!(
        repo.dirty_paths("rendered").unwrap(),
        ["platform/clusters/a/cluster.yaml"]
    );
}

#[test]
fn dirty_paths_ignore_untracked_files_and_the_output() {
    let (tmp, _, repo) = opened(&[
        ("clusters/a/cluster.yaml", b"{}\n"),
        ("rendered/a/x.yaml", b"x\n"),
    ]);
    let root = tmp.root.as_path();
    write(root, "new.txt", b"untracked\n");
    write(root, "rendered/a/x.yaml", b"changed\n");
    assert!(repo.dirty_paths("rendered").unwrap().is_empty());
    write(root, "clusters/a/cluster.yaml", b"{a: 1}\n");
    git(root, &["add", "clusters/a/cluster.yaml"]);
    assert_eq!(
        repo.dirty_paths("rendered").unwrap(),
        ["clusters/a/cluster.yaml"]
    );
}

#[test]
fn hydrated_commits_are_built_in_memory() {
    let (tmp, source, repo) = opened(&[("clusters/a/cluster.yaml", b"{}\n")]);
    let root = tmp.root.as_path();
    let files = BTreeMap::from([
        ("a/x.yaml".to_owned(), b"x: 1\n".to_vec()),
        ("a/y.yaml".to_owned(), b"y: 1\n".to_vec()),
    ]);
    let first = repo
        .commit_hydrated(
            "hydrated",
            &files,
            (".plinth/source.json", b"{\"n\": 1}\n"),
            "m1\n",
        )
        .unwrap();
    let CommitOutcome::Created { id, parent: None } = first else {
        panic!("{first:?}");
    };
    assert_eq!(git(root, &["rev-parse", "hydrated"]).trim(), id);
    assert_eq!(
        git(root, &["ls-tree", "-r", "--name-only", "hydrated"]),
        ".plinth/source.json\na/x.yaml\na/y.yaml\n"
    );
    // Only the metadata differs: no commit.
    let again = repo
        .commit_hydrated(
            "hydrated",
            &files,
            (".plinth/source.json", b"{\"n\": 2}\n"),
            "m2\n",
        )
        .unwrap();
    assert_eq!(again, CommitOutcome::Unchanged { tip: id.clone() });
    // A file dropped from the set is gone from the next tree.
    let fewer = BTreeMap::from([("a/x.yaml".to_owned(), b"x: 2\n".to_vec())]);
    let next = repo
        .commit_hydrated("hydrated", &fewer, (".plinth/source.json", b"{}\n"), "m3\n")
        .unwrap();
    let CommitOutcome::Created { parent, .. } = next else {
        panic!("{next:?}");
    };
    assert_eq!(parent.as_deref(), Some(id.as_str()));
    assert_eq!(
        git(root, &["ls-tree", "-r", "--name-only", "hydrated"]),
        ".plinth/source.json\na/x.yaml\n"
    );
    assert_eq!(git(root, &["show", "hydrated:a/x.yaml"]), "x: 2\n");
    // HEAD, index and working tree are as they were.
    assert_eq!(git(root, &["rev-parse", "HEAD"]).trim(), source);
    assert_eq!(git(root, &["status", "--porcelain"]), "");
    let err = repo
        .commit_hydrated("main", &fewer, (".plinth/source.json", b"{}\n"), "m\n")
        .unwrap_err();
    assert!(matches!(err, GitError::CheckedOut { .. }), "{err:?}");
    let err = repo
        .commit_hydrated("a..b", &fewer, (".plinth/source.json", b"{}\n"), "m\n")
        .unwrap_err();
    assert_eq!(err.to_string(), "`a..b` is not a valid branch name");
}
