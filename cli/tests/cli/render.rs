//! CLI tests of `plinth render`: the example fleet, determinism, `--check`, atomic writes,
//! skipping unchanged clusters, kustomize compatibility, every bad input (exit 2, a located
//! message, nothing written) and the README's commands.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::format_push_string)]

use std::path::Path;

use plinth_testkit::tree::tree;

use crate::common::{
    assert_exit, copy_dir, example_copy, plinth, snapshot_dir, stderr, stdout, workspace,
};

#[test]
fn committed_example_output_is_up_to_date() {
    let out = plinth(&workspace(), &["render", "examples/fleet", "--check"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "examples/fleet/rendered is stale; run `cargo run -- render examples/fleet` and commit:\n{}{}",
        stdout(&out),
        stderr(&out)
    );
}

#[test]
fn rendering_twice_is_byte_identical_and_matches_the_committed_output() {
    let repo = example_copy();
    let committed = snapshot_dir(&repo.path().join("rendered"));
    for run in 0..2 {
        let out = plinth(repo.path(), &["render", ".", "--force"]);
        assert_eq!(out.status.code(), Some(0), "run {run}: {}", stderr(&out));
        assert_eq!(
            snapshot_dir(&repo.path().join("rendered")),
            committed,
            "run {run}"
        );
    }
}

#[test]
fn different_clusters_get_different_assets() {
    let repo = example_copy();
    let rendered = repo.path().join("rendered");
    let names = |c: &str| -> Vec<String> {
        let mut v: Vec<String> = fs_err::read_dir(rendered.join(c))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    let (gpu, plain, edge) = (names("gpu-east"), names("plain-west"), names("edge-hci"));
    assert!(
        gpu.len() > plain.len() && edge.len() > plain.len(),
        "{gpu:?} {plain:?} {edge:?}"
    );
    assert!(edge.iter().any(|f| f.starts_with("metallb_")), "{edge:?}");
    assert!(!gpu.iter().any(|f| f.starts_with("metallb_")), "{gpu:?}");
    assert!(
        gpu.iter().any(|f| f.starts_with("kubeletconfig_")),
        "{gpu:?}"
    );
    assert!(gpu.iter().any(|f| f.contains("vfio")), "{gpu:?}");
    assert!(!plain.iter().any(|f| f.contains("vfio")), "{plain:?}");
}

#[test]
fn check_lists_stale_missing_and_extra_files_and_exits_1() {
    let repo = example_copy();
    let dir = repo.path().join("rendered/plain-west");
    let index = dir.join("plinth-index.json");
    let victim = snapshot_dir(&dir)
        .into_keys()
        .find(|f| f.starts_with("hyperconverged_"))
        .unwrap();
    fs_err::write(dir.join(&victim), "tampered: true\n").unwrap();
    fs_err::remove_file(dir.join("kustomization.yaml")).unwrap();
    fs_err::write(dir.join("leftover.yaml"), "a: b\n").unwrap();
    let before = snapshot_dir(&repo.path().join("rendered"));
    let out = plinth(repo.path(), &["render", ".", "--check"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!("stale: rendered/plain-west/{victim}")),
        "{text}"
    );
    assert!(
        text.contains("missing: rendered/plain-west/kustomization.yaml"),
        "{text}"
    );
    assert!(
        text.contains("extra: rendered/plain-west/leftover.yaml"),
        "{text}"
    );
    assert_eq!(
        snapshot_dir(&repo.path().join("rendered")),
        before,
        "--check wrote"
    );
    assert!(index.is_file());
    // A folder of a cluster that no longer exists is extra too.
    copy_dir(&dir, &repo.path().join("rendered/retired"));
    let out = plinth(repo.path(), &["render", ".", "--check"]);
    assert!(
        stdout(&out).contains("extra: rendered/retired/"),
        "{}",
        stdout(&out)
    );
    // Rendering refuses to delete the files plinth did not write (`leftover.yaml`), naming
    // one, and changes nothing.
    let before = snapshot_dir(&repo.path().join("rendered"));
    let out = plinth(repo.path(), &["render", "."]);
    assert_exit(&out, 2, &["leftover.yaml` was not written by plinth"]);
    assert_eq!(snapshot_dir(&repo.path().join("rendered")), before);
    // Once they are moved away, rendering repairs everything and removes the retired
    // cluster's folder.
    fs_err::remove_file(dir.join("leftover.yaml")).unwrap();
    fs_err::remove_file(repo.path().join("rendered/retired/leftover.yaml")).unwrap();
    let out = plinth(repo.path(), &["render", "."]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!repo.path().join("rendered/retired").exists());
    assert_eq!(
        plinth(repo.path(), &["render", ".", "--check"])
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn unchanged_clusters_are_skipped_and_changed_ones_rendered() {
    let repo = example_copy();
    let out = plinth(repo.path(), &["render", "."]);
    assert!(stderr(&out).contains("3 unchanged"), "{}", stderr(&out));
    let inv = repo.path().join("clusters/plain-west/inventory.yaml");
    let mut text = fs_err::read_to_string(&inv).unwrap();
    text.push_str("  - name: plain-west-worker-2\n    roles: [worker]\n    numaNodes: 2\n");
    fs_err::write(&inv, text).unwrap();
    let out = plinth(repo.path(), &["render", "."]);
    assert!(
        stderr(&out).contains("rendered 1 cluster"),
        "{}",
        stderr(&out)
    );
    assert!(stderr(&out).contains("2 unchanged"), "{}", stderr(&out));
}

#[test]
fn one_failing_cluster_leaves_every_folder_untouched_and_no_staging_behind() {
    // The other clusters render and are staged while the bad one fails; none may be
    // swapped in and no staging folder may stay behind.
    let repo = example_copy();
    let root = repo.path().join("rendered");
    for entry in fs_err::read_dir(&root).unwrap() {
        let dir = entry.unwrap().path();
        if dir.is_dir() {
            fs_err::write(dir.join("marker.txt"), "previous run\n").unwrap();
        }
    }
    let before = snapshot_dir(&root);
    let cluster = repo.path().join("clusters/plain-west/cluster.yaml");
    let mut text = fs_err::read_to_string(&cluster).unwrap();
    text.push_str("notAKey: 1\n");
    fs_err::write(&cluster, text).unwrap();

    let out = plinth(repo.path(), &["render", ".", "--force"]);
    assert_exit(&out, 2, &["notAKey"]);
    assert_eq!(snapshot_dir(&root), before, "the output changed");
    let left: Vec<String> = fs_err::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".plinth-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

/// `plinth render . ARGS --output <a new folder>`, which must succeed: the names it wrote there.
fn rendered_elsewhere(repo: &Path, args: &[&str]) -> Vec<String> {
    let out_dir = tempfile::tempdir().unwrap();
    let mut all = vec!["render", "."];
    all.extend_from_slice(args);
    all.extend(["--output", out_dir.path().to_str().unwrap()]);
    let out = plinth(repo, &all);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    fs_err::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn cluster_and_output_flags_select_and_redirect() {
    let repo = example_copy();
    let written = rendered_elsewhere(repo.path(), &["--cluster", "edge-hci"]);
    assert_eq!(written, vec!["edge-hci"]);
    let out = plinth(repo.path(), &["render", ".", "--cluster", "nope"]);
    assert_exit(&out, 2, &["unknown cluster `nope`"]);
    assert!(
        stderr(&out)
            .contains("hint: the repository's clusters are: edge-hci, gpu-east, plain-west")
    );
}

#[test]
fn shards_partition_the_fleet() {
    let repo = example_copy();
    let mut seen = Vec::new();
    for shard in ["1/2", "2/2"] {
        seen.extend(rendered_elsewhere(repo.path(), &["--shard", shard]));
    }
    seen.sort();
    assert_eq!(seen, vec!["edge-hci", "gpu-east", "plain-west"]);
    assert_eq!(
        plinth(repo.path(), &["render", ".", "--shard", "3/2"])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn explain_prints_every_decision() {
    let out = plinth(
        &workspace(),
        &["render", "examples/fleet", "--explain", "--check"],
    );
    let text = stdout(&out);
    assert!(text.contains("cluster gpu-east"), "{text}");
    assert!(text.contains("+ vfio-assign"), "{text}");
    assert!(
        text.contains("- metallb-operator")
            && text.contains("cluster has no annotation `platform.kubevirt.io/enable-metallb`"),
        "{text}"
    );
}

#[test]
fn kubectl_kustomize_builds_every_rendered_cluster() {
    let Ok(version) = std::process::Command::new("kubectl")
        .args(["version", "--client"])
        .output()
    else {
        println!(
            "skipped: kubectl is not installed, so the kustomize compatibility check did not run"
        );
        return;
    };
    assert!(version.status.success());
    let rendered = workspace().join("examples/fleet/rendered");
    for entry in fs_err::read_dir(&rendered).unwrap() {
        let dir = entry.unwrap().path();
        let out = std::process::Command::new("kubectl")
            .arg("kustomize")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            dir.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        let built = String::from_utf8_lossy(&out.stdout);
        let index: serde_json::Value =
            serde_json::from_slice(&fs_err::read(dir.join("plinth-index.json")).unwrap()).unwrap();
        let objects = index["objects"].as_array().unwrap();
        assert_eq!(
            built.matches("\nkind: ").count() + usize::from(built.starts_with("kind: ")),
            objects.len(),
            "{}",
            dir.display()
        );
        // fifo order: kustomize keeps plinth's apply order.
        let mut last = 0;
        for o in objects {
            let name = format!("name: {}\n", o["name"].as_str().unwrap());
            let at = built[last..].find(&name).map(|i| i + last);
            assert!(
                at.is_some(),
                "{} out of order in {}",
                o["name"],
                dir.display()
            );
            last = at.unwrap();
        }
    }
}

fn assert_failed_cleanly(repo: &Path, case: &str) -> String {
    // Previous output exists and must survive untouched.
    let previous = repo.join("rendered/c1");
    fs_err::create_dir_all(&previous).unwrap();
    fs_err::write(previous.join("plinth-index.json"), "{\"previous\": true}\n").unwrap();
    fs_err::write(
        previous.join("configmap_platform_settings.yaml"),
        "previous: true\n",
    )
    .unwrap();
    let before = snapshot_dir(&repo.join("rendered"));
    let out = plinth(repo, &["render", "."]);
    assert_eq!(out.status.code(), Some(2), "{case}: {}", stderr(&out));
    assert_eq!(
        snapshot_dir(&repo.join("rendered")),
        before,
        "{case}: output changed"
    );
    assert!(stdout(&out).is_empty(), "{case}: {}", stdout(&out));
    stderr(&out)
}

#[test]
fn bad_inputs_exit_2_with_a_located_message_and_write_nothing() {
    let fixtures = workspace().join("cli/tests/fixtures/render-errors");
    let mut cases: Vec<_> = fs_err::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(cases.len() >= 14, "{cases:?}");
    for case in cases {
        let repo = tempfile::tempdir().unwrap();
        copy_dir(&fixtures.join(&case), repo.path());
        let message = assert_failed_cleanly(repo.path(), &case);
        insta::assert_snapshot!(format!("render_error__{case}"), message);
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_leading_out_of_the_repository_is_refused() {
    let outside = tempfile::tempdir().unwrap();
    fs_err::write(outside.path().join("secret.yaml.j2"), "password: hunter2\n").unwrap();
    let repo = tempfile::tempdir().unwrap();
    copy_dir(
        &workspace().join("cli/tests/fixtures/render-errors/undefined-variable"),
        repo.path(),
    );
    fs_err::remove_file(repo.path().join("assets/config.yaml.j2")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("secret.yaml.j2"),
        repo.path().join("assets/config.yaml.j2"),
    )
    .unwrap();
    let message = assert_failed_cleanly(repo.path(), "symlink");
    assert!(!message.contains("hunter2"));
    insta::assert_snapshot!("render_error__symlink_escape", message);
}

#[test]
fn readme_starts_with_the_two_commands_and_the_first_one_works() {
    let readme = fs_err::read_to_string(workspace().join("README.md")).unwrap();
    let block = readme
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the README has a sh code block");
    let commands: Vec<&str> = block
        .lines()
        .map(|l| l.split('#').next().unwrap().trim())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(
        commands,
        vec![
            "cargo run --release -- render examples/fleet",
            "cargo test --workspace"
        ],
        "the README's quick start changed; keep this test and .ci/run in step"
    );
    // `cargo run --release -- render examples/fleet` is `plinth render examples/fleet`.
    let repo = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("examples"), &repo.path().join("examples"));
    let out = plinth(repo.path(), &["render", "examples/fleet", "--force"]);
    assert_exit(&out, 0, &["rendered 3 clusters"]);
    let ci = fs_err::read_to_string(workspace().join(".ci/run")).unwrap();
    assert!(
        ci.contains("cargo test --workspace"),
        ".ci/run must run the README's test command"
    );
}

#[test]
fn help_exists_for_every_command() {
    for cmd in ["render", "catalog"] {
        let out = plinth(&workspace(), &[cmd, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        assert!(stdout(&out).contains("Usage: plinth"), "{cmd}");
    }
}

/// Runs `plinth render .` in `repo` and asserts exit 2, that stderr names `named`, and that
/// the whole repository (and `also`, when given) is unchanged.
fn refused(repo: &Path, args: &[&str], named: &str, also: Option<&Path>) -> String {
    let before = tree(repo);
    let also_before = also.map(tree);
    let mut all = vec!["render", "."];
    all.extend_from_slice(args);
    let out = plinth(repo, &all);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(
        err.contains(named),
        "{args:?}: `{named}` not named in: {err}"
    );
    assert!(tree(repo) == before, "{args:?}: the repository changed");
    assert!(also.map(tree) == also_before, "{args:?}: changed");
    err
}

#[test]
fn folders_and_files_plinth_did_not_write_are_never_replaced_or_removed() {
    // A folder named like a cluster but without plinth's index, or with an index that is
    // not plinth's: refused with a hint, never replaced.
    for index in [None, Some("{\"mine\": true}\n"), Some("not json")] {
        let repo = example_copy();
        let dir = repo.path().join("rendered/plain-west");
        fs_err::remove_dir_all(&dir).unwrap();
        fs_err::create_dir(&dir).unwrap();
        fs_err::write(dir.join("mine.yaml"), "kind: Mine\n").unwrap();
        if let Some(index) = index {
            fs_err::write(dir.join("plinth-index.json"), index).unwrap();
        }
        for flags in [&[][..], &["--force"][..]] {
            let err = refused(repo.path(), flags, "rendered/plain-west", None);
            assert!(
                err.contains("hint: plinth replaces and removes only"),
                "{err}"
            );
        }
    }
    // A user's file inside a folder plinth owns: refused, named, kept (also with --force
    // and when the cluster no longer exists).
    let repo = example_copy();
    fs_err::write(repo.path().join("rendered/gpu-east/notes.md"), "mine\n").unwrap();
    for flags in [&[][..], &["--force"][..]] {
        let err = refused(repo.path(), flags, "rendered/gpu-east/notes.md", None);
        assert!(err.contains("was not written by plinth"), "{err}");
        assert!(err.contains("hint: "), "{err}");
    }
    fs_err::remove_dir_all(repo.path().join("clusters/gpu-east")).unwrap();
    refused(repo.path(), &[], "rendered/gpu-east/notes.md", None);
    // A folder of the output root that plinth did not write is left alone, not reported.
    let repo = example_copy();
    let mine = repo.path().join("rendered/docs");
    fs_err::create_dir(&mine).unwrap();
    fs_err::write(mine.join("README.md"), "mine\n").unwrap();
    let out = plinth(repo.path(), &["render", ".", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(mine.join("README.md").is_file());
    let out = plinth(repo.path(), &["render", ".", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[cfg(unix)]
#[test]
fn symlinks_and_oversized_indexes_in_the_output_are_refused_and_nothing_is_deleted() {
    use std::os::unix::fs::symlink;
    let elsewhere = tempfile::tempdir().unwrap();
    fs_err::write(elsewhere.path().join("precious.txt"), "keep\n").unwrap();
    // The output root is a symlink.
    let repo = example_copy();
    let rendered = repo.path().join("rendered");
    fs_err::remove_dir_all(&rendered).unwrap();
    symlink(elsewhere.path(), &rendered).unwrap();
    refused(repo.path(), &[], "paths.output", Some(elsewhere.path()));
    let link = repo.path().join("out-link");
    symlink(elsewhere.path(), &link).unwrap();
    refused(
        repo.path(),
        &["--output", "out-link"],
        "symlink",
        Some(elsewhere.path()),
    );
    // A cluster folder in the output root is a symlink; the index is a symlink (to a copy).
    for (path, target, named) in [
        ("rendered/gpu-east", None, "rendered/gpu-east"),
        (
            "rendered/gpu-east/plinth-index.json",
            Some("index.json"),
            "plinth-index.json",
        ),
    ] {
        let repo = example_copy();
        let at = repo.path().join(path);
        let target = match target {
            None => {
                fs_err::remove_dir_all(&at).unwrap();
                elsewhere.path().to_path_buf()
            }
            Some(name) => {
                let copy = elsewhere.path().join(name);
                fs_err::copy(&at, &copy).unwrap();
                fs_err::remove_file(&at).unwrap();
                copy
            }
        };
        symlink(target, &at).unwrap();
        refused(repo.path(), &["--force"], named, Some(elsewhere.path()));
    }
    // The index is huge (sparse: nothing is read).
    let repo = example_copy();
    let index = repo.path().join("rendered/gpu-east/plinth-index.json");
    fs_err::File::options()
        .write(true)
        .open(&index)
        .unwrap()
        .set_len(300 * 1024 * 1024)
        .unwrap();
    let out = plinth(repo.path(), &["render", ".", "--force"]);
    assert_exit(&out, 2, &["bytes, more than any index"]);
    assert_eq!(fs_err::metadata(&index).unwrap().len(), 300 * 1024 * 1024);
}

#[test]
fn paths_output_stays_inside_the_repository_and_off_its_inputs() {
    let outside = tempfile::tempdir().unwrap();
    let absolute = outside.path().join("out").display().to_string();
    for value in [
        "..",
        "../out",
        "rendered/../../out",
        absolute.as_str(),
        ".",
        "./",
        "clusters",
        "clusters/gpu-east",
        "overlays",
        ".git",
        ".git/rendered",
        "plinth.yaml",
    ] {
        let repo = example_copy();
        fs_err::create_dir_all(repo.path().join(".git")).unwrap();
        let settings = repo.path().join("plinth.yaml");
        let text = fs_err::read_to_string(&settings)
            .unwrap()
            .replace("output: rendered", &format!("output: \"{value}\""));
        fs_err::write(&settings, text).unwrap();
        let err = refused(repo.path(), &[], "plinth.yaml", Some(outside.path()));
        assert!(err.contains("`paths.output`"), "{value}: {err}");
        assert!(!outside.path().join("out").exists(), "{value}");
    }
    // A catalog folder is an input too.
    let repo = example_copy();
    copy_dir(&workspace().join("assets"), &repo.path().join("assets"));
    let settings = repo.path().join("plinth.yaml");
    let text = fs_err::read_to_string(&settings)
        .unwrap()
        .replace("catalog: builtin", "catalog: assets/metadata.yaml")
        .replace("output: rendered", "output: assets/rendered");
    fs_err::write(&settings, text).unwrap();
    refused(repo.path(), &[], "`paths.output`", None);
    // A symlink on the way out of the repository.
    #[cfg(unix)]
    {
        let repo = example_copy();
        std::os::unix::fs::symlink(outside.path(), repo.path().join("out")).unwrap();
        let settings = repo.path().join("plinth.yaml");
        let text = fs_err::read_to_string(&settings)
            .unwrap()
            .replace("output: rendered", "output: out/rendered");
        fs_err::write(&settings, text).unwrap();
        refused(repo.path(), &[], "symlink", Some(outside.path()));
    }
}

#[test]
fn output_flag_may_leave_the_repository_but_not_overlap_its_inputs() {
    let repo = example_copy();
    for value in [
        ".",
        "..",
        "clusters",
        "clusters/gpu-east/x",
        "plinth.yaml",
        "overlays",
    ] {
        refused(repo.path(), &["--output", value], "--output", None);
    }
    // `--crds` is an input as well.
    let crds = repo.path().join("crds");
    fs_err::create_dir(&crds).unwrap();
    refused(
        repo.path(),
        &["--output", "crds/out", "--crds", "crds"],
        "--output",
        None,
    );
    let outside = tempfile::tempdir().unwrap();
    let target = outside.path().join("a/b");
    let out = plinth(
        repo.path(),
        &["render", ".", "--output", target.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(target.join("gpu-east/plinth-index.json").is_file());
}

#[cfg(unix)]
#[test]
fn a_symlinked_cluster_folder_is_refused_by_name_and_its_output_kept() {
    let repo = example_copy();
    let elsewhere = tempfile::tempdir().unwrap();
    let real = elsewhere.path().join("edge-hci");
    copy_dir(&repo.path().join("clusters/edge-hci"), &real);
    fs_err::remove_dir_all(repo.path().join("clusters/edge-hci")).unwrap();
    std::os::unix::fs::symlink(&real, repo.path().join("clusters/edge-hci")).unwrap();
    for flags in [&[][..], &["--force"][..], &["--check"][..]] {
        let err = refused(repo.path(), flags, "clusters/edge-hci", None);
        assert!(err.contains("symlink"), "{err}");
    }
    assert!(
        repo.path()
            .join("rendered/edge-hci/plinth-index.json")
            .is_file()
    );
}

/// A hand edit of a rendered file: new bytes from old ones.
type Edit = fn(&[u8]) -> Vec<u8>;

#[test]
fn hand_edits_with_old_timestamps_are_stale_for_check_and_rewritten_by_render() {
    let repo = example_copy();
    // Make the shortcut applicable first: a render that writes every folder.
    let out = plinth(repo.path(), &["render", ".", "--force"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let dir = repo.path().join("rendered/plain-west");
    let committed = snapshot_dir(&dir);
    let object = committed
        .keys()
        .find(|f| f.starts_with("hyperconverged_"))
        .unwrap()
        .clone();
    let edits: [(&str, Edit, bool); 5] = [
        // `cp -p` / `tar` / `rsync -t`: new bytes, an old mtime.
        (object.as_str(), |b| [b, b"# edited\n"].concat(), true),
        ("kustomization.yaml", |b| [b, b"# edited\n"].concat(), true),
        ("plinth-index.json", |b| [b, b" "].concat(), true),
        // Same size, old mtime.
        (object.as_str(), |b| b.to_ascii_uppercase(), true),
        // The index edited in place, keeping every field render reads.
        (
            "plinth-index.json",
            |b| {
                String::from_utf8_lossy(b)
                    .replacen("\"reason\": \"", "\"reason\": \"edited ", 1)
                    .into_bytes()
            },
            false,
        ),
    ];
    for (file, edit, backdate) in edits {
        let path = dir.join(file);
        let bytes = fs_err::read(&path).unwrap();
        let edited = edit(&bytes);
        assert!(edited != bytes, "{file}: the edit changed nothing");
        plinth_testkit::tree::edit(&path, &edited, backdate);
        let out = plinth(repo.path(), &["render", ".", "--check"]);
        assert_eq!(out.status.code(), Some(1), "{file}: {}", stdout(&out));
        assert!(
            stdout(&out).contains(&format!("stale: rendered/plain-west/{file}")),
            "{file}: {}",
            stdout(&out)
        );
        let out = plinth(repo.path(), &["render", "."]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("rendered 1 cluster"),
            "{file}: {}",
            stderr(&out)
        );
        assert!(snapshot_dir(&dir) == committed, "{file}: not repaired");
        let out = plinth(repo.path(), &["render", ".", "--check"]);
        assert_eq!(out.status.code(), Some(0), "{file}: {}", stdout(&out));
        // Unchanged again: skipped.
        let out = plinth(repo.path(), &["render", "."]);
        assert!(stderr(&out).contains("3 unchanged"), "{}", stderr(&out));
    }
}

#[test]
fn a_failed_render_leaves_no_output_folder_where_there_was_none() {
    let repo = example_copy();
    fs_err::remove_dir_all(repo.path().join("rendered")).unwrap();
    let cluster = repo.path().join("clusters/plain-west/cluster.yaml");
    let mut text = fs_err::read_to_string(&cluster).unwrap();
    text.push_str("notAKey: 1\n");
    fs_err::write(&cluster, text).unwrap();
    let nested = tempfile::tempdir().unwrap();
    let target = nested.path().join("a/b/out");
    for args in [
        vec!["render", "."],
        vec!["render", ".", "--output", target.to_str().unwrap()],
    ] {
        let out = plinth(repo.path(), &args);
        assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
        assert!(!repo.path().join("rendered").exists(), "{args:?}");
        assert!(!nested.path().join("a").exists(), "{args:?}");
    }
}

#[test]
fn check_reports_leftovers_of_an_interrupted_render_and_render_recovers_them() {
    let repo = example_copy();
    let rendered = repo.path().join("rendered");
    // Killed between the two renames of the fallback swap: the folder parked, its place empty.
    fs_err::rename(
        rendered.join("gpu-east"),
        rendered.join(".plinth-old-4242-gpu-east"),
    )
    .unwrap();
    fs_err::create_dir(rendered.join(".plinth-staging-4242-edge-hci")).unwrap();
    let out = plinth(repo.path(), &["render", ".", "--check"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("leftover: rendered/.plinth-old-4242-gpu-east")
            && text.contains("leftover: rendered/.plinth-staging-4242-edge-hci"),
        "{text}"
    );
    let out = plinth(repo.path(), &["-v", "render", "."]);
    assert_exit(&out, 0, &["put back `gpu-east`", "3 unchanged"]);
    let out = plinth(repo.path(), &["render", ".", "--check"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

/// `--explain` whose report cannot be written (a full disk behind stdout) fails the command,
/// and a failed command writes nothing: no staged folder, no new output root.
#[cfg(target_os = "linux")]
#[test]
fn a_render_whose_explanation_cannot_be_written_writes_nothing() {
    let repo = example_copy();
    fs_err::remove_dir_all(repo.path().join("rendered")).unwrap();
    let full = fs_err::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["render", ".", "--explain"])
        .current_dir(repo.path())
        .env("NO_COLOR", "1")
        .stdout(std::process::Stdio::from(full.into_parts().0))
        .output()
        .unwrap();
    assert!(!out.status.success(), "{}", stderr(&out));
    assert!(
        !repo.path().join("rendered").exists(),
        "a failed render left its output folder: {}",
        stderr(&out)
    );
}
