//! Temporary git repositories driven by the real `git` command, isolated from the user's and
//! the system's git configuration, with a fixed author.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs `git ARGS` in `root` with no system or global configuration and a fixed author.
pub fn git_output(root: &Path, args: &[&str]) -> Output {
    Command::new("git")
        .args(args)
        .current_dir(root)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .expect("git runs")
}

/// [`git_output`] that must succeed; its stdout.
///
/// # Panics
/// When git fails, with its stderr.
pub fn git(root: &Path, args: &[&str]) -> String {
    let out = git_output(root, args);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Writes `content` to `root/rel`, creating the folders on the way.
///
/// # Panics
/// When the file cannot be written.
pub fn write(root: &Path, rel: &str, content: impl AsRef<[u8]>) {
    let path = root.join(rel);
    fs_err::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
    fs_err::write(path, content).expect("write");
}

/// A git repository in a temporary folder, removed when dropped.
#[derive(Debug)]
pub struct TempRepo {
    tmp: tempfile::TempDir,
    /// The work tree.
    pub root: PathBuf,
}

impl TempRepo {
    /// A new repository (branch `main`) whose work tree is the temporary folder itself.
    pub fn new() -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().to_path_buf();
        Self::init(tmp, root)
    }

    /// A new repository (branch `main`) whose work tree is the folder `name` inside a
    /// temporary folder, so that the test can also use the folder around it.
    pub fn in_subfolder(name: &str) -> Self {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join(name);
        fs_err::create_dir_all(&root).expect("mkdir");
        Self::init(tmp, root)
    }

    fn init(tmp: tempfile::TempDir, root: PathBuf) -> Self {
        let repo = Self { tmp, root };
        repo.git(&["init", "-q", "-b", "main"]);
        repo
    }

    /// The temporary folder the work tree lives in (the work tree itself for [`TempRepo::new`]).
    pub fn temp_dir(&self) -> &Path {
        self.tmp.path()
    }

    /// `git ARGS` in the work tree; must succeed.
    pub fn git(&self, args: &[&str]) -> String {
        git(&self.root, args)
    }

    /// `git ARGS` in the work tree, whatever its outcome.
    pub fn git_output(&self, args: &[&str]) -> Output {
        git_output(&self.root, args)
    }

    /// Writes a file of the work tree.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        write(&self.root, rel, content);
    }

    /// Stages everything and commits (an empty commit when nothing changed); the new `HEAD`.
    pub fn commit(&self, message: &str) -> String {
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"]).trim().to_owned()
    }
}

impl Default for TempRepo {
    fn default() -> Self {
        Self::new()
    }
}
