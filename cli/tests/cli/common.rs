//! Helpers shared by the CLI tests: run the built `plinth` binary, copy fixture folders,
//! snapshot folders.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::format_push_string)]
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root (the parent of the `cli` package).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `plinth` command with `args` in `cwd`, without colour and without an inherited
/// redaction key or log settings; a test adds what else it needs (a key, a clock, git settings) and runs it.
pub fn plinth_command(cwd: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_plinth"));
    cmd.args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("PLINTH_REDACTION_KEY")
        .env_remove("RUST_LOG")
        .env_remove("PLINTH_LOG_FORMAT");
    cmd
}

/// Runs `plinth` with `args` in `cwd`, without colour and without inherited redaction keys.
pub fn plinth(cwd: &Path, args: &[&str]) -> Output {
    plinth_command(cwd, args)
        .output()
        .expect("the plinth binary runs")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copies a folder recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    copy_dir_except(from, to, &[]);
}

/// Copies a folder recursively, leaving out every entry named in `skip` (at any depth).
pub fn copy_dir_except(from: &Path, to: &Path, skip: &[&str]) {
    fs_err::create_dir_all(to).unwrap();
    for entry in fs_err::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if skip.contains(&name.as_str()) {
            continue;
        }
        let target = to.join(&name);
        if entry.file_type().unwrap().is_dir() {
            copy_dir_except(&entry.path(), &target, skip);
        } else {
            fs_err::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file below `dir` (relative path -> bytes), hidden entries included.
pub fn snapshot_dir(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(base: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        let Ok(entries) = fs_err::read_dir(dir) else {
            return;
        };
        for entry in entries {
            let entry = entry.unwrap();
            let path = entry.path();
            if entry.file_type().unwrap().is_dir() {
                walk(base, &path, out);
            } else {
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                out.insert(rel, fs_err::read(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Writes `files` (path relative to `dir`, text) into `dir`, creating folders as needed.
pub fn write_files(dir: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let path = dir.join(path);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    }
}

/// A platform repository with one cluster, `prod`, rendering one ConfigMap (`platform/base`):
/// the smallest repository the commands that talk to a cluster need.
pub fn one_configmap_repo(dir: &Path) {
    write_files(
        dir,
        &[
            (
                "assets/metadata.yaml",
                "assets:\n  - name: base-config\n    path: base.yaml.j2\n    phase: 0\n    install: always\n    component: ConfigMap\n    reconcile_order: 1\n",
            ),
            (
                "assets/base.yaml.j2",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n  namespace: platform\ndata:\n  a: \"1\"\n",
            ),
            ("clusters/prod/cluster.yaml", "name: prod\n"),
        ],
    );
}

/// `plinth COMMAND . --cluster prod --kubeconfig KUBECONFIG --insecure-allow-http-loopback
/// EXTRA…` in `dir`: a command against the loopback fake API server, for the `prod` cluster of
/// the test repositories.
pub fn plinth_live(dir: &Path, command: &str, kubeconfig: &str, extra: &[&str]) -> Output {
    let mut args = cluster_args(command, kubeconfig);
    args.push("--insecure-allow-http-loopback");
    args.extend_from_slice(extra);
    plinth(dir, &args)
}

/// `COMMAND . --cluster prod --kubeconfig KUBECONFIG`: the arguments of a command against a
/// live cluster, for the `prod` cluster of the test repositories.
pub fn cluster_args<'a>(command: &'a str, kubeconfig: &'a str) -> Vec<&'a str> {
    vec![
        command,
        ".",
        "--cluster",
        "prod",
        "--kubeconfig",
        kubeconfig,
    ]
}

/// `plinth discover . --cluster prod -o - --kubeconfig KUBECONFIG EXTRA…` in `dir`: the
/// inventory on stdout.
pub fn discover_stdout(dir: &Path, kubeconfig: &Path, extra: &[&str]) -> Output {
    let kc = kubeconfig.display().to_string();
    let mut args = DISCOVER_STDOUT.to_vec();
    args.extend(["--kubeconfig", &kc]);
    args.extend(extra);
    plinth(dir, &args)
}

/// The rendered objects of `prod` under `dir` (as the live cluster would hold them), in file
/// order.
pub fn rendered_objects(dir: &Path) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    let folder = dir.join("rendered/prod");
    let mut files: Vec<_> = fs_err::read_dir(&folder)
        .expect("rendered folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .filter(|p| !p.ends_with("kustomization.yaml"))
        .collect();
    files.sort();
    for path in files {
        let text = fs_err::read_to_string(&path).expect("read");
        out.extend(plinth_vocab::yaml::from_str_multi(&text).expect("yaml"));
    }
    out
}

/// `plinth render .` in `dir`, which must succeed.
pub fn render(dir: &Path) {
    let out = plinth(dir, &["render", "."]);
    assert!(out.status.success(), "{}", stderr(&out));
}

/// Asserts that `out` exited with `code` and that its stderr holds every one of `needles`.
pub fn assert_exit(out: &Output, code: i32, needles: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    for needle in needles {
        assert!(err.contains(needle), "{needle} not in: {err}");
    }
}

/// Asserts that `out` exited with `code` and that its stdout holds every one of `needles`.
pub fn assert_stdout(out: &Output, code: i32, needles: &[&str]) {
    let (data, err) = (stdout(out), stderr(out));
    assert_eq!(out.status.code(), Some(code), "{data}{err}");
    for needle in needles {
        assert!(data.contains(needle), "{needle} not in: {data}");
    }
}

/// 2026-01-01T00:00:00Z, so that reports are reproducible.
pub const EPOCH: &str = "1767225600";

/// [`plinth`] with a fixed clock (`SOURCE_DATE_EPOCH`) and redaction key: reports are
/// reproducible.
pub fn plinth_reproducible(cwd: &Path, args: &[&str]) -> Output {
    plinth_command(cwd, args)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .env("PLINTH_REDACTION_KEY", "test-key")
        .output()
        .expect("the plinth binary runs")
}

/// `plinth drift examples/fleet --cluster plain-west EXTRA…` in the workspace, reproducibly.
pub fn drift_example(extra: &[&str]) -> Output {
    let mut args = vec!["drift", "examples/fleet", "--cluster", "plain-west"];
    args.extend_from_slice(extra);
    plinth_reproducible(&workspace(), &args)
}

/// A temporary folder holding [`one_configmap_repo`].
pub fn prod_repo() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    one_configmap_repo(tmp.path());
    tmp
}

/// A temporary git repository whose `plinth` runs in the work tree with `env` added.
pub struct GitPlatform {
    repo: plinth_testkit::git::TempRepo,
    env: &'static [(&'static str, &'static str)],
}

impl std::ops::Deref for GitPlatform {
    type Target = plinth_testkit::git::TempRepo;
    fn deref(&self) -> &Self::Target {
        &self.repo
    }
}

impl GitPlatform {
    pub fn with_env(
        repo: plinth_testkit::git::TempRepo,
        env: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self { repo, env }
    }

    /// `plinth ARGS` in the work tree.
    pub fn plinth(&self, args: &[&str]) -> Output {
        let mut cmd = plinth_command(&self.root, args);
        cmd.envs(self.env.iter().copied());
        cmd.output().expect("the plinth binary runs")
    }
}

/// `discover . --cluster prod -o -`: the inventory of `prod` on stdout.
pub const DISCOVER_STDOUT: [&str; 6] = ["discover", ".", "--cluster", "prod", "-o", "-"];

/// A kubeconfig (as JSON, which is YAML) with one context `x` -> cluster `c`, user `u`.
pub fn kubeconfig_text(cluster: &serde_json::Value, user: &serde_json::Value) -> String {
    serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "c", "cluster": cluster}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    })
    .to_string()
}

/// A copy of the example fleet in a temporary folder.
pub fn example_copy() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("examples/fleet"), tmp.path());
    tmp
}

/// The environment that keeps the system's and the user's git configuration away from a
/// `plinth` that reads or writes a test repository.
pub const NO_GIT_CONFIG: [(&str, &str); 2] = [
    ("GIT_CONFIG_NOSYSTEM", "1"),
    ("GIT_CONFIG_GLOBAL", "/dev/null"),
];

/// Copies the platform repository `cli/tests/fixtures/repos/NAME` into `dir`.
pub fn fixture_repo(name: &str, dir: &Path) {
    copy_dir(
        &workspace().join("cli/tests/fixtures/repos").join(name),
        dir,
    );
}
