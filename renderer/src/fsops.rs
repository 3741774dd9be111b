//! The file-system operations that change the output tree (create a folder, write a new file,
//! rename, exchange, remove), behind one small struct. The output code does every change
//! through it, so tests can make the N-th operation fail (once, like an I/O error, or from
//! then on, like a kill) and check that no cluster folder is ever lost or half-written.

use std::io;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Which operation fails, for tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The N-th operation (1-based) fails with an I/O error; the ones after it succeed.
    Once(usize),
    /// The N-th operation and every one after it fail: the process was killed there, so
    /// nothing it would have done afterwards (cleanup included) happens.
    From(usize),
}

/// The output tree's file-system layer: the real file system, optionally with a fault.
#[derive(Debug, Default)]
pub struct Fs {
    fault: Option<Fault>,
    count: AtomicUsize,
    no_exchange: bool,
}

impl Fs {
    /// The real file system.
    pub fn real() -> Self {
        Self::default()
    }

    /// The real file system where one operation (or every one from it on) fails.
    pub fn failing(fault: Fault) -> Self {
        Self {
            fault: Some(fault),
            ..Self::default()
        }
    }

    /// Behaves as if the platform had no atomic exchange, so the two-rename fallback runs.
    #[must_use]
    pub fn without_exchange(mut self) -> Self {
        self.no_exchange = true;
        self
    }

    /// How many operations were attempted so far.
    pub fn operations(&self) -> usize {
        self.count.load(Ordering::SeqCst)
    }

    fn tick(&self) -> io::Result<()> {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let fails = match self.fault {
            None => false,
            Some(Fault::Once(at)) => n == at,
            Some(Fault::From(at)) => n >= at,
        };
        if fails {
            return Err(io::Error::other(format!("injected fault at operation {n}")));
        }
        Ok(())
    }

    /// Creates one folder (its parent must exist).
    pub fn create_dir(&self, path: &Path) -> io::Result<()> {
        self.tick()?;
        fs_err::create_dir(path)
    }

    /// Writes a file that must not exist yet (never writes through a symlink or over a file).
    pub fn write_new(&self, path: &Path, bytes: &[u8]) -> io::Result<()> {
        use std::io::Write as _;
        self.tick()?;
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)?;
        file.write_all(bytes)
    }

    /// Renames `from` to `to` (`to` must not be a non-empty folder).
    pub fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.tick()?;
        fs_err::rename(from, to)
    }

    /// Atomically exchanges two existing paths. `Ok(false)` when the platform or file system
    /// offers no exchange (nothing was changed; the caller falls back to two renames).
    pub fn exchange(&self, a: &Path, b: &Path) -> io::Result<bool> {
        if self.no_exchange {
            return Ok(false);
        }
        self.tick()?;
        exchange(a, b)
    }

    /// Removes a folder and everything in it.
    pub fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        self.tick()?;
        fs_err::remove_dir_all(path)
    }

    /// Removes an empty folder.
    pub fn remove_dir(&self, path: &Path) -> io::Result<()> {
        self.tick()?;
        fs_err::remove_dir(path)
    }

    /// Removes a file.
    pub fn remove_file(&self, path: &Path) -> io::Result<()> {
        self.tick()?;
        fs_err::remove_file(path)
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn exchange(a: &Path, b: &Path) -> io::Result<bool> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(true),
        Err(e)
            if e == rustix::io::Errno::INVAL
                || e == rustix::io::Errno::NOSYS
                || e == rustix::io::Errno::OPNOTSUPP =>
        {
            Ok(false)
        }
        Err(e) => Err(io::Error::from(e)),
    }
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
#[allow(clippy::unnecessary_wraps)]
fn exchange(_: &Path, _: &Path) -> io::Result<bool> {
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_once_fails_only_that_operation() {
        let tmp = tempfile::tempdir().unwrap();
        let fs = Fs::failing(Fault::Once(2));
        fs.create_dir(&tmp.path().join("a")).unwrap();
        assert!(fs.create_dir(&tmp.path().join("b")).is_err());
        fs.create_dir(&tmp.path().join("c")).unwrap();
        assert!(!tmp.path().join("b").exists());
        assert_eq!(fs.operations(), 3);
    }

    #[test]
    fn a_fault_from_fails_everything_after() {
        let tmp = tempfile::tempdir().unwrap();
        let fs = Fs::failing(Fault::From(1));
        assert!(fs.create_dir(&tmp.path().join("a")).is_err());
        assert!(fs.create_dir(&tmp.path().join("b")).is_err());
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn exchange_swaps_two_folders() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
        fs_err::create_dir(&a).unwrap();
        fs_err::write(a.join("x"), "a").unwrap();
        fs_err::create_dir(&b).unwrap();
        if Fs::real().exchange(&a, &b).unwrap() {
            assert!(b.join("x").is_file());
            assert!(!a.join("x").exists());
        }
    }
}
