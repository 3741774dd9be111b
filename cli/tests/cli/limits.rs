//! CLI tests of resource limits: an absurd `--jobs` is clamped (and said so under `-v`)
//! instead of stalling on thread start-up, and a template that produces more than
//! `limits.maxFileBytes` stops with exit 2, a located message and nothing written.

#![allow(clippy::unwrap_used)]

use crate::common::{assert_exit, example_copy, plinth, snapshot_dir, stderr, write_files};

#[test]
fn absurd_jobs_are_clamped_and_the_render_is_unchanged() {
    let repo = example_copy();
    let committed = snapshot_dir(&repo.path().join("rendered"));
    for jobs in ["1000000", "18446744073709551615"] {
        let out = plinth(
            repo.path(),
            &["-v", "render", ".", "--force", "--jobs", jobs],
        );
        assert_eq!(
            out.status.code(),
            Some(0),
            "--jobs {jobs}: {}",
            stderr(&out)
        );
        let err = stderr(&out);
        assert!(
            err.contains(&format!("--jobs {jobs}: using ")) && err.contains("worker thread"),
            "{err}"
        );
        assert_eq!(snapshot_dir(&repo.path().join("rendered")), committed);
        let out = plinth(repo.path(), &["render", ".", "--check", "--jobs", jobs]);
        assert_eq!(
            out.status.code(),
            Some(0),
            "--jobs {jobs}: {}",
            stderr(&out)
        );
        assert!(!stderr(&out).contains("worker thread"), "only under -v");
    }
}

#[test]
fn a_template_past_the_output_limit_fails_located_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let files = [
        ("plinth.yaml", "limits:\n  maxFileBytes: 100000\n"),
        (
            "assets/metadata.yaml",
            "assets:\n  - name: bomb\n    path: bomb.yaml.j2\n    install: always\n    reconcile_order: 0\n",
        ),
        (
            "assets/bomb.yaml.j2",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n{% for i in range(100000) %}\n  k{{ i }}: {{ 'x' * 1000 }}\n{% endfor %}\n",
        ),
        ("clusters/c1/cluster.yaml", "name: c1\n"),
    ];
    write_files(root, &files);
    let out = plinth(root, &["render", "."]);
    assert_exit(
        &out,
        2,
        &[
            "asset `bomb`: template `assets/bomb.yaml.j2` line 7: output is larger than the limit of 100000 bytes",
        ],
    );
    assert!(!root.join("rendered").exists());
}

/// Deeply nested input (flow and block style, up to and past the YAML reader's depth limit)
/// is read or refused with exit 2 — never a stack overflow, in a debug build too — in every
/// command that reads a cluster.
#[test]
fn deeply_nested_input_is_read_or_refused_never_a_crash() {
    for depth in [150, 199, 250, 5000] {
        let flow = format!(
            "name: c1\nparams:\n  x: {}1{}\n",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let mut block = String::from("name: c1\nparams:\n");
        for i in 0..depth.min(400) {
            block += &"  ".repeat(i + 1);
            block += "k";
            block += &i.to_string();
            block += ":\n";
        }
        block += &"  ".repeat(depth.min(400) + 1);
        block += "v: 1\n";
        for text in [flow, block] {
            let tmp = tempfile::tempdir().unwrap();
            fs_err::create_dir_all(tmp.path().join("clusters/c1")).unwrap();
            fs_err::write(tmp.path().join("clusters/c1/cluster.yaml"), &text).unwrap();
            for args in [
                &["render", "."][..],
                &["render", ".", "--check"],
                &["catalog", ".", "--cluster", "c1"],
                &["validate", "."],
            ] {
                let out = plinth(tmp.path(), args);
                let code = out.status.code();
                assert!(
                    matches!(code, Some(0..=2)),
                    "depth {depth}, {args:?}: exit {code:?}: {}",
                    stderr(&out)
                );
                if code == Some(2) {
                    assert!(stderr(&out).contains("cluster.yaml"), "{}", stderr(&out));
                }
            }
        }
    }
}
