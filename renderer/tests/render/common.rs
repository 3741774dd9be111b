//! Helpers every module of the renderer's integration tests shares: in-memory repositories and
//! the folder of real upstream specs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plinth_renderer::Source;

/// A repository in memory holding `files` (repository-relative path, text).
pub fn repo(files: &[(&str, &str)]) -> Source {
    let map: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
        .collect();
    Source::memory(map)
}

/// `../shared/specs/<sub>` beside the repository, when it is there (the tests that need it say
/// they were skipped otherwise).
pub fn specs(sub: &str) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/specs")
        .join(sub);
    if dir.is_dir() {
        Some(dir)
    } else {
        #[allow(clippy::print_stderr)]
        {
            eprintln!("skipped: {} not found", dir.display());
        }
        None
    }
}
