//! The one way commands write files beside the rendered output (previews, reports,
//! inventories): through a new temporary file renamed over the target, so a reader never sees
//! half a file, and a symlink planted at the target (replaced) or at a temporary name
//! (skipped) is never written through. (Rendered output has its own staged, atomic writer in the renderer.)

use std::io::Write as _;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file beside it that this call creates itself
/// (`create_new`: an existing file or symlink of that name, say one committed to the
/// repository and pointing elsewhere, is never written through), then renames it over `path`
/// (a symlink at `path` is replaced, not followed). A failed write removes the temporary file
/// and leaves `path` as it was.
pub fn replacing(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or_else(|| Path::new("."));
    fs_err::create_dir_all(dir)?;
    let name = path
        .file_name()
        .map_or_else(|| "output".into(), |n| n.to_string_lossy().into_owned());
    let pid = std::process::id();
    let mut attempt = 0_u32;
    let (tmp, mut file) = loop {
        let tmp = dir.join(format!(".{name}.plinth-{pid}-{attempt}.tmp"));
        match fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(file) => break (tmp, file),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && attempt < 100 => {
                attempt += 1;
            }
            Err(e) => return Err(e.into()),
        }
    };
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| {
            drop(file);
            fs_err::rename(&tmp, path)
        });
    if let Err(e) = written {
        let _ = fs_err::remove_file(&tmp);
        return Err(e.into());
    }
    Ok(())
}

/// Whether `path` is a regular file holding exactly `bytes` (a FIFO or device there is never
/// opened, and a file of another size is never read): a write that would change nothing can be
/// skipped.
pub fn holds(path: &Path, bytes: &[u8]) -> bool {
    fs_err::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && fs_err::read(path).is_ok_and(|old| old == bytes)
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
        // A planted temporary name is not followed (nor removed: plinth did not write it).
        let tmp = out.join(format!(".preview.txt.plinth-{}-0.tmp", std::process::id()));
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
            fs_err::symlink_metadata(&tmp).is_ok_and(|m| m.file_type().is_symlink()),
            "the planted name is left as it was"
        );
        let left: Vec<_> = fs_err::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(
            left.len(),
            2,
            "no temporary file of plinth's left: {left:?}"
        );
    }
}
