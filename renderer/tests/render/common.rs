//! Helpers every module of the renderer's integration tests shares: in-memory repositories and
//! the folder of real upstream specs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plinth_renderer::{Fleet, Source};

/// A repository in memory holding `files` (repository-relative path, text).
pub fn repo(files: &[(&str, &str)]) -> Source {
    let map: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
        .collect();
    Source::memory(map)
}

/// A repository whose catalog has one asset, `name`, always installed and rendered from
/// `assets/<name>.yaml.j2` (`template`), and an empty `clusters/<c>/cluster.yaml` for each of
/// `clusters`, opened.
///
/// # Panics
/// When the repository does not open.
pub fn one_asset_fleet(name: &str, template: &str, clusters: &[&str]) -> Fleet {
    let catalog = format!(
        "assets:\n  - name: {name}\n    path: {name}.yaml.j2\n    install: always\n    reconcile_order: 1\n"
    );
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::from([
        ("assets/metadata.yaml".to_owned(), catalog.into_bytes()),
        (
            format!("assets/{name}.yaml.j2"),
            template.as_bytes().to_vec(),
        ),
    ]);
    for c in clusters {
        files.insert(format!("clusters/{c}/cluster.yaml"), Vec::new());
    }
    Fleet::open(Source::memory(files)).expect("the repository opens")
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
