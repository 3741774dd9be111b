//! `plinth commit` on real git repositories, read back with the real `git` command: the
//! hydrated tree, the trailer and metadata file, no commit when nothing changed, stale
//! files gone, the working tree and index untouched, dirty sources refused.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::process::Output;

use plinth_testkit::git::TempRepo;
use serde_json::Value;

use crate::common::{GitPlatform, NO_GIT_CONFIG, assert_exit};

type Repo = GitPlatform;

/// A temporary git repository; `plinth` runs without the user's git configuration.
fn new_repo() -> Repo {
    GitPlatform::with_env(TempRepo::new(), &NO_GIT_CONFIG)
}

impl GitPlatform {
    fn ok(&self, args: &[&str]) -> Output {
        let out = self.plinth(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "plinth {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

/// Two clusters rendering one ConfigMap each from a template.
fn platform(repo: &Repo) -> String {
    repo.write(
        "assets/metadata.yaml",
        "assets:\n  - name: settings\n    path: settings.yaml.j2\n    install: always\n",
    );
    repo.write(
        "assets/settings.yaml.j2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: platform\ndata:\n  cluster: {{ cluster.name }}\n  tier: {{ params.tier }}\n",
    );
    repo.write("clusters/a/cluster.yaml", "params:\n  tier: gold\n");
    repo.write("clusters/b/cluster.yaml", "params:\n  tier: silver\n");
    repo.write("README.md", "the platform\n");
    repo.commit("platform")
}

/// The `Plinth-Source` trailer of the tip of `hydrated`.
fn trailer(repo: &Repo) -> String {
    repo.git(&[
        "log",
        "-1",
        "--format=%(trailers:key=Plinth-Source,valueonly)",
        "hydrated",
    ])
}

fn files_on(repo: &Repo, branch: &str) -> Vec<String> {
    repo.git(&["ls-tree", "-r", "--name-only", branch])
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn writes_the_rendered_tree_with_trailer_and_metadata() {
    let repo = new_repo();
    let source = platform(&repo);
    let out = repo.ok(&["commit", "--branch", "hydrated"]);
    let id = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    assert_eq!(repo.git(&["rev-parse", "hydrated"]).trim(), id);
    assert_eq!(
        files_on(&repo, "hydrated"),
        [
            ".plinth/source.json",
            "a/configmap_platform_settings.yaml",
            "a/kustomization.yaml",
            "a/plinth-index.json",
            "b/configmap_platform_settings.yaml",
            "b/kustomization.yaml",
            "b/plinth-index.json",
        ]
    );
    let message = repo.git(&["log", "-1", "--format=%B", "hydrated"]);
    assert!(
        message.starts_with(&format!("plinth: render {} platform", &source[..7])),
        "{message}"
    );
    let trailers = trailer(&repo);
    assert_eq!(trailers.trim(), source);
    // A new branch has no parent.
    assert_eq!(
        repo.git(&["log", "--format=%H", "hydrated"])
            .lines()
            .count(),
        1
    );
    let meta: Value =
        serde_json::from_str(&repo.git(&["show", "hydrated:.plinth/source.json"])).unwrap();
    assert_eq!(meta["sourceCommit"], source);
    assert_eq!(meta["clusters"], serde_json::json!(["a", "b"]));
    assert!(meta["plinthVersion"].is_string());
    // The files are exactly what `plinth render` writes.
    repo.ok(&["render"]);
    let rendered = fs_err::read_to_string(
        repo.root
            .join("rendered/a/configmap_platform_settings.yaml"),
    )
    .unwrap();
    assert_eq!(
        repo.git(&["show", "hydrated:a/configmap_platform_settings.yaml"]),
        rendered
    );
}

#[test]
fn no_commit_when_the_tree_is_unchanged_and_stale_files_vanish() {
    let repo = new_repo();
    platform(&repo);
    repo.ok(&["commit", "--branch", "hydrated"]);
    let first = repo.git(&["rev-parse", "hydrated"]);
    // A change that renders nothing new: no commit, even though the source commit moved.
    repo.write("README.md", "the platform, documented\n");
    repo.commit("docs");
    let out = repo.ok(&["commit", "--branch", "hydrated"]);
    assert!(String::from_utf8(out.stdout).unwrap().is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("no commit"), "{err}");
    assert_eq!(repo.git(&["rev-parse", "hydrated"]), first);
    // Removing a cluster: its folder is gone from the next commit, whose parent is the tip.
    fs_err::remove_dir_all(repo.root.join("clusters/b")).unwrap();
    let source = repo.commit("drop b");
    repo.ok(&[
        "commit",
        "--branch",
        "hydrated",
        "--message",
        "hydrate without b",
    ]);
    assert_eq!(repo.git(&["rev-parse", "hydrated^"]), first);
    assert!(
        files_on(&repo, "hydrated")
            .iter()
            .all(|f| !f.starts_with("b/"))
    );
    assert!(files_on(&repo, "hydrated").contains(&"a/kustomization.yaml".to_owned()));
    let message = repo.git(&["log", "-1", "--format=%B", "hydrated"]);
    assert_eq!(
        message.trim(),
        format!("hydrate without b\n\nPlinth-Source: {source}")
    );
}

#[test]
fn never_touches_the_working_tree_index_or_head() {
    let repo = new_repo();
    platform(&repo);
    repo.write("notes.txt", "untracked\n");
    repo.write("clusters/a/cluster.yaml", "params:\n  tier: platinum\n");
    repo.git(&["add", "clusters/a/cluster.yaml"]);
    let status = repo.git(&["status", "--porcelain"]);
    let index = repo.git(&["ls-files", "-s"]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    let branch = repo.git(&["symbolic-ref", "HEAD"]);
    repo.ok(&["commit", "--branch", "hydrated", "--allow-dirty"]);
    assert_eq!(repo.git(&["status", "--porcelain"]), status);
    assert_eq!(repo.git(&["ls-files", "-s"]), index);
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
    assert_eq!(repo.git(&["symbolic-ref", "HEAD"]), branch);
    // The hydrated tree is HEAD's, not the staged change's.
    let shown = repo.git(&["show", "hydrated:a/configmap_platform_settings.yaml"]);
    assert!(shown.contains("tier: gold"), "{shown}");
}

#[test]
fn a_dirty_source_is_refused_unless_allowed() {
    let repo = new_repo();
    platform(&repo);
    repo.write("clusters/a/cluster.yaml", "params:\n  tier: platinum\n");
    let out = repo.plinth(&["commit", "--branch", "hydrated"]);
    assert_exit(
        &out,
        2,
        &[
            "uncommitted changes to tracked files: clusters/a/cluster.yaml",
            "--allow-dirty",
        ],
    );
    assert!(
        !repo
            .git_output(&["rev-parse", "--verify", "-q", "hydrated"])
            .status
            .success()
    );
    // Untracked files and changes to the rendered output do not make the source dirty.
    repo.git(&["checkout", "-q", "--", "clusters/a/cluster.yaml"]);
    repo.ok(&["render"]);
    repo.commit("rendered");
    repo.write("rendered/a/kustomization.yaml", "edited\n");
    repo.write("scratch.txt", "untracked\n");
    repo.ok(&["commit", "--branch", "hydrated"]);
}

#[test]
fn source_revision_and_refusals() {
    let repo = new_repo();
    let first = platform(&repo);
    repo.write("clusters/a/cluster.yaml", "params:\n  tier: platinum\n");
    repo.commit("platinum");
    repo.ok(&["commit", "--branch", "hydrated", "--source", "HEAD~1"]);
    let shown = repo.git(&["show", "hydrated:a/configmap_platform_settings.yaml"]);
    assert!(shown.contains("tier: gold"), "{shown}");
    let trailers = trailer(&repo);
    assert_eq!(trailers.trim(), first);
    // The checked-out branch is never a hydrated branch.
    let out = repo.plinth(&["commit", "--branch", "main"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("checked out")
    );
    // Nor is an invalid name.
    let out = repo.plinth(&["commit", "--branch", "bad..name"]);
    assert_eq!(out.status.code(), Some(2));
    // An unknown source revision is named.
    let out = repo.plinth(&["commit", "--branch", "hydrated", "--source", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("`nope`"));
}
