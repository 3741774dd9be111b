//! CLI tests of `plinth render`: the example fleet, determinism, `--check`, atomic writes,
//! skipping unchanged clusters, kustomize compatibility, every bad input (exit 2, a located
//! message, nothing written) and the README's commands.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::format_push_string)]

mod common;

use std::path::Path;

use common::{copy_dir, plinth, snapshot_dir, stderr, stdout, workspace};

fn example_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("examples/fleet"), tmp.path());
    tmp
}

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
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("leftover.yaml` was not written by plinth"),
        "{}",
        stderr(&out)
    );
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
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("notAKey"), "{}", stderr(&out));
    assert_eq!(snapshot_dir(&root), before, "the output changed");
    let left: Vec<String> = fs_err::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".plinth-"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[test]
fn cluster_and_output_flags_select_and_redirect() {
    let repo = example_copy();
    let out_dir = tempfile::tempdir().unwrap();
    let out = plinth(
        repo.path(),
        &[
            "render",
            ".",
            "--cluster",
            "edge-hci",
            "--output",
            out_dir.path().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let written: Vec<String> = fs_err::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, vec!["edge-hci"]);
    let out = plinth(repo.path(), &["render", ".", "--cluster", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown cluster `nope`"),
        "{}",
        stderr(&out)
    );
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
        let out_dir = tempfile::tempdir().unwrap();
        let out = plinth(
            repo.path(),
            &[
                "render",
                ".",
                "--shard",
                shard,
                "--output",
                out_dir.path().to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        for e in fs_err::read_dir(out_dir.path()).unwrap() {
            seen.push(e.unwrap().file_name().to_string_lossy().into_owned());
        }
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
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("rendered 3 clusters"),
        "{}",
        stderr(&out)
    );
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
