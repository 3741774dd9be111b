//! A snapshot of a folder tree (repository-relative path -> what stands there), to assert
//! that a command left a tree as it found it, and a hand edit to a file in it.

use std::collections::BTreeMap;
use std::fs::FileType;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Every entry below `root` (symlinks not followed, recorded as their target; folders as
/// `<dir>`; files larger than 1 MiB by size only, others by content).
///
/// # Panics
/// When the tree cannot be read.
#[must_use]
pub fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    tree_with(root, |path, kind| {
        if kind.is_symlink() {
            let target = fs_err::read_link(path).expect("read link");
            format!("-> {}", target.display()).into_bytes()
        } else {
            let meta = fs_err::symlink_metadata(path).expect("metadata");
            if meta.len() > 1 << 20 {
                format!("{} bytes", meta.len()).into_bytes()
            } else {
                fs_err::read(path).expect("read")
            }
        }
    })
}

/// Every entry below `root`, folders recorded as `<dir>` (and walked; symlinks are not
/// followed), every other entry as `leaf(path, file type)` says.
///
/// # Panics
/// When the tree cannot be read.
pub fn tree_with(
    root: &Path,
    mut leaf: impl FnMut(&Path, &FileType) -> Vec<u8>,
) -> BTreeMap<String, Vec<u8>> {
    fn walk(
        base: &Path,
        dir: &Path,
        leaf: &mut dyn FnMut(&Path, &FileType) -> Vec<u8>,
        out: &mut BTreeMap<String, Vec<u8>>,
    ) {
        for entry in fs_err::read_dir(dir).expect("read folder") {
            let entry = entry.expect("folder entry");
            let path = entry.path();
            let rel = path
                .strip_prefix(base)
                .expect("below the root")
                .display()
                .to_string();
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                out.insert(rel, b"<dir>".to_vec());
                walk(base, &path, leaf, out);
            } else {
                out.insert(rel, leaf(&path, &kind));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut leaf, &mut out);
    out
}

/// Writes `bytes` to the file at `path`, as a hand edit would; with `backdate` its
/// modification time is then set back to 2000-01-01 (an edit that an mtime check misses).
///
/// # Panics
/// When the file cannot be written.
pub fn edit(path: &Path, bytes: &[u8], backdate: bool) {
    fs_err::write(path, bytes).expect("write");
    if backdate {
        let old = SystemTime::UNIX_EPOCH + Duration::from_hours(262_968);
        fs_err::File::options()
            .write(true)
            .open(path)
            .expect("open")
            .set_modified(old)
            .expect("set the modification time");
    }
}
