//! The folder a benchmark works in: the one the user named (created, and kept), or a
//! temporary one, removed when the [`Workdir`] is dropped.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

/// A benchmark's work folder.
#[derive(Debug)]
pub struct Workdir {
    path: PathBuf,
    _temp: Option<tempfile::TempDir>,
}

impl Workdir {
    /// `named` (created if missing), or a new temporary folder whose name starts with
    /// `prefix`.
    ///
    /// # Errors
    /// When the folder cannot be created.
    pub fn new(named: Option<&Path>, prefix: &str) -> anyhow::Result<Self> {
        if let Some(dir) = named {
            fs_err::create_dir_all(dir)?;
            return Ok(Self {
                path: dir.to_path_buf(),
                _temp: None,
            });
        }
        let temp = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .context("cannot create a temporary folder")?;
        Ok(Self {
            path: temp.path().to_path_buf(),
            _temp: Some(temp),
        })
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
