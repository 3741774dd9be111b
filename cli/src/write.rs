//! The one way commands write files beside the rendered output (previews, reports,
//! inventories): through a new temporary file renamed over the target, so a reader never sees
//! half a file and a symlink planted at the target or the temporary name is replaced, never
//! written through. (Rendered output has its own staged, atomic writer in the renderer.)

use std::io::Write as _;
use std::path::Path;

/// Writes `path` through a new temporary file renamed over it: a symlink (or hard link) placed
/// at `path` is replaced, never written through, and a reader never sees half a file.
pub fn replacing(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let tmp = path.with_file_name(format!(".{name}.{}.tmp", std::process::id()));
    // A leftover (or planted) temporary file or symlink goes first: `create_new` never
    // follows one.
    if fs_err::symlink_metadata(&tmp).is_ok() {
        fs_err::remove_file(&tmp)?;
    }
    let written = fs_err::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&tmp)
        .and_then(|mut f| f.write_all(bytes))
        .and_then(|()| fs_err::rename(&tmp, path));
    if let Err(err) = written {
        let _ = fs_err::remove_file(&tmp);
        return Err(err.into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_symlink_at_the_target_or_the_temporary_name_is_replaced_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("victim");
        fs_err::write(&outside, "keep").unwrap();
        let out = dir.path().join("out");
        fs_err::create_dir(&out).unwrap();
        std::os::unix::fs::symlink(&outside, out.join("preview.txt")).unwrap();
        // A planted temporary name is not followed either.
        let tmp = out.join(format!(".preview.txt.{}.tmp", std::process::id()));
        std::os::unix::fs::symlink(&outside, &tmp).unwrap();
        replacing(&out.join("preview.txt"), b"new").unwrap();
        assert_eq!(fs_err::read_to_string(&outside).unwrap(), "keep");
        let meta = fs_err::symlink_metadata(out.join("preview.txt")).unwrap();
        assert!(meta.is_file(), "the symlink is replaced by a file");
        assert_eq!(
            fs_err::read_to_string(out.join("preview.txt")).unwrap(),
            "new"
        );
        assert!(
            fs_err::symlink_metadata(&tmp).is_err(),
            "no temporary file left"
        );
    }
}
