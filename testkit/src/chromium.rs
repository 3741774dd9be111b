//! Headless Chromium for the browser tests of plinth's HTML pages: [`PageServer`] serves one
//! page from a loopback HTTP server that records every request (a page that fetches anything
//! shows up there), and [`Chromium`] opens it headless to dump its DOM (`--dump-dom`) or take
//! a screenshot (`--screenshot`), each run with a fresh profile and without the background
//! networking that would reach the vendor's hosts.
//!
//! Chromium is looked for on `PATH` (`chromium`, as Debian's package installs it, then
//! `chromium-browser`, `google-chrome`). When it is absent [`Chromium::find`] returns `None`
//! and the test says it skipped — unless `PLINTH_REQUIRE_CHROMIUM` is set (as `.ci/run` sets
//! it), which makes that a failure.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::body::Bytes;

use crate::loopback::Loopback;

/// The executables tried, in order.
const NAMES: [&str; 3] = ["chromium", "chromium-browser", "google-chrome"];

/// The page's path on the [`PageServer`].
pub const PAGE_PATH: &str = "/page.html";

/// A Chromium executable.
#[derive(Debug, Clone)]
pub struct Chromium {
    binary: PathBuf,
}

impl Chromium {
    /// The Chromium on `PATH`; `None` (after printing why to stderr) when there is none —
    /// unless `PLINTH_REQUIRE_CHROMIUM` is set, which makes that a failure.
    pub fn find() -> Option<Self> {
        let found = std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .flat_map(|dir| NAMES.iter().map(move |n| dir.join(n)))
                .find(|p| p.is_file())
        });
        if found.is_none() {
            let why = "Chromium is not installed (`apt-get install chromium`)";
            assert!(
                std::env::var_os("PLINTH_REQUIRE_CHROMIUM").is_none(),
                "PLINTH_REQUIRE_CHROMIUM is set, but {why}"
            );
            let _ = writeln!(std::io::stderr(), "skipped: {why}");
        }
        found.map(|binary| Self { binary })
    }

    /// The DOM of `url` after it loaded, serialised (`--dump-dom`).
    pub fn dump_dom(&self, url: &str) -> std::io::Result<String> {
        let out = self.run(&["--dump-dom", url])?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// A PNG screenshot of `url` in a window of `width` × `height` pixels, written to `path`.
    pub fn screenshot(
        &self,
        url: &str,
        path: &Path,
        width: u32,
        height: u32,
    ) -> std::io::Result<()> {
        let shot = format!("--screenshot={}", path.display());
        let size = format!("--window-size={width},{height}");
        self.run(&[&shot, &size, "--hide-scrollbars", url])?;
        if path.is_file() {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "Chromium wrote no screenshot to `{}`",
                path.display()
            )))
        }
    }

    /// Runs Chromium headless with `args` and a fresh profile; its stdout.
    fn run(&self, args: &[&str]) -> std::io::Result<Vec<u8>> {
        let profile = tempfile::tempdir()?;
        let out = Command::new(&self.binary)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
                "--disable-extensions",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .args(args)
            .output()?;
        if !out.status.success() {
            return Err(std::io::Error::other(format!(
                "Chromium failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(out.stdout)
    }
}

/// A loopback HTTP server of one page at [`PAGE_PATH`] (`404` for anything else) that
/// records every request it gets; stopped when dropped.
#[derive(Debug)]
pub struct PageServer {
    server: Loopback,
    requests: Arc<Mutex<Vec<String>>>,
}

impl PageServer {
    /// Serves `html` on a free loopback port.
    pub fn start(html: String) -> std::io::Result<Self> {
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = Arc::clone(&requests);
        let page = Bytes::from(html);
        let server = Loopback::start(false, move |req: http::Request<hyper::body::Incoming>| {
            let log = Arc::clone(&log);
            let page = page.clone();
            async move {
                type Error = Box<dyn std::error::Error + Send + Sync>;
                let path = req.uri().path().to_owned();
                log.lock()
                    .map_err(|_| Error::from("the request log is poisoned"))?
                    .push(format!("{} {}", req.method(), req.uri()));
                let response = if path == PAGE_PATH {
                    Response::builder()
                        .header("content-type", "text/html; charset=utf-8")
                        .body(Full::new(page))
                } else {
                    Response::builder()
                        .status(StatusCode::NOT_FOUND)
                        .body(Full::new(Bytes::new()))
                };
                response.map_err(Error::from)
            }
        })?;
        Ok(Self { server, requests })
    }

    /// The page's URL.
    pub fn url(&self) -> String {
        format!("{}{PAGE_PATH}", self.server.url())
    }

    /// Every request so far, `GET /page.html`, in order.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().map(|r| r.clone()).unwrap_or_default()
    }
}
