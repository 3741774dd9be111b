//! Prism (`@stoplight/prism-cli`) as a mock of a real `OpenAPI` document, for tests that check
//! a client's requests against the specification: [`Prism::start`] runs
//! `prism mock --errors` on a free loopback port, waits until it listens, and kills it when
//! dropped. With `--errors` Prism answers a request that violates the document (path,
//! parameters, body) with a `4xx` instead of a mock response.
//!
//! Prism is looked for where `.ci/run` installs it (`.ci/prism/node_modules/.bin/prism` in the
//! workspace), then on `PATH`; the specifications in `../shared/specs/` beside the workspace.
//! When either is missing the start returns `None` and the test says it skipped.

use std::io::Write as _;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long Prism may take to start listening.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// A running Prism mock server; killed when dropped.
#[derive(Debug)]
pub struct Prism {
    child: Child,
    addr: SocketAddr,
    log: tempfile::NamedTempFile,
}

impl Prism {
    /// Starts Prism mocking the `OpenAPI` document `spec`; `None` (after printing why to stderr)
    /// when Prism or the document is absent — unless `PLINTH_REQUIRE_PRISM` is set (as
    /// `.ci/run` sets it), which makes that a failure, so CI never passes a Prism test that
    /// checked nothing. A Prism that is there but exits or does not listen is a failure.
    pub fn start(spec: &Path) -> Option<Self> {
        let required = std::env::var_os("PLINTH_REQUIRE_PRISM").is_some();
        let skip = |why: String| {
            assert!(!required, "PLINTH_REQUIRE_PRISM is set, but {why}");
            let _ = writeln!(std::io::stderr(), "skipped: {why}");
        };
        if !spec.is_file() {
            skip(format!("the specification `{}` is absent", spec.display()));
            return None;
        }
        let Some(prism) = find_prism() else {
            skip("Prism is not installed (`.ci/run` installs it into `.ci/prism`)".to_owned());
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .ok()?
            .port();
        let log = tempfile::NamedTempFile::new().ok()?;
        let child = Command::new(&prism)
            .args(["mock", "--errors", "-h", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .arg(spec)
            .stdin(Stdio::null())
            .stdout(log.reopen().ok()?)
            .stderr(log.reopen().ok()?)
            .spawn()
            .ok()?;
        let mut prism = Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
        };
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if let Ok(Some(status)) = prism.child.try_wait() {
                panic!(
                    "Prism exited ({status}) before listening:\n{}",
                    prism.log_text()
                );
            }
            if TcpStream::connect_timeout(&prism.addr, Duration::from_millis(200)).is_ok() {
                return Some(prism);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!(
            "Prism did not listen within {START_TIMEOUT:?}:\n{}",
            prism.log_text()
        );
    }

    /// `http://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// What Prism printed so far (its request validation messages among it).
    pub fn log_text(&self) -> String {
        fs_err::read_to_string(self.log.path()).unwrap_or_default()
    }
}

impl Drop for Prism {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The workspace this test kit belongs to.
fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The `prism` executable: the one `.ci/run` installs, else one on `PATH`.
pub fn find_prism() -> Option<PathBuf> {
    let local = workspace().join(".ci/prism/node_modules/.bin/prism");
    if local.is_file() {
        return Some(local);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("prism"))
            .find(|p| p.is_file())
    })
}

/// A specification in `../shared/specs/` beside the workspace, e.g.
/// `stackit-iaas/iaas-v2.json` (it may be absent).
pub fn shared_spec(relative: &str) -> PathBuf {
    workspace().join("../shared/specs").join(relative)
}
