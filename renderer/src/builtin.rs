//! The baseline shipped inside plinth: the catalog and templates of `assets/` and the overlay
//! layers of `overlays/`, embedded at build time so a platform repository without its own
//! catalog renders the built-in one.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use include_dir::{Dir, include_dir};

use crate::source::Source;

static ASSETS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../assets");
static OVERLAYS: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/../overlays");

/// How built-in paths are shown in messages.
pub const PREFIX: &str = "builtin:";
/// The built-in catalog's path within [`source`].
pub const CATALOG: &str = "assets/metadata.yaml";

fn collect(dir: &Dir<'static>, prefix: &str, out: &mut BTreeMap<String, Vec<u8>>) {
    for file in dir.files() {
        out.insert(
            format!("{prefix}/{}", file.path().display()),
            file.contents().to_vec(),
        );
    }
    for sub in dir.dirs() {
        collect(sub, prefix, out);
    }
}

/// The built-in baseline as an in-memory source: `assets/...` and `overlays/...`.
pub fn source() -> Source {
    static SOURCE: OnceLock<Source> = OnceLock::new();
    SOURCE
        .get_or_init(|| {
            let mut files = BTreeMap::new();
            collect(&ASSETS, "assets", &mut files);
            collect(&OVERLAYS, "overlays", &mut files);
            Source::memory(files)
        })
        .clone()
}
