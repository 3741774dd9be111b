//! What the commands that talk to a live cluster (`drift`, `discover`) share: their connection
//! flags turned into [`ConnectOptions`] once, and the atomic write of what they produce.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use plinth_drift::cluster::{ConnectOptions, Limits};

use crate::args::ClusterClientArgs;

/// The connection settings from the connection flags (every flag destructured, so a new one
/// that is not handled fails to compile).
pub fn connect_options(
    kubeconfig: Option<PathBuf>,
    context: Option<String>,
    timeout: u64,
    retries: u32,
    client: ClusterClientArgs,
) -> ConnectOptions {
    let ClusterClientArgs {
        deadline,
        max_response_mib,
        max_pages,
        max_kinds,
        insecure_allow_http_loopback,
    } = client;
    ConnectOptions {
        kubeconfig,
        context,
        timeout: Duration::from_secs(timeout.max(1)),
        retries,
        deadline: Duration::from_secs(deadline.max(1)),
        limits: Limits {
            max_response_bytes: max_response_mib.max(1).saturating_mul(1024 * 1024),
            max_pages: max_pages.max(1),
            max_kinds: max_kinds.max(1),
        },
        allow_http_loopback: insecure_allow_http_loopback,
    }
}

/// Writes `bytes` to `path` through a temporary file beside it that this call creates itself
/// (`create_new`: an existing file or symlink of that name, say one committed to the
/// repository and pointing elsewhere, is never written through), then renames it over `path`
/// (a symlink at `path` is replaced, not followed). A failed write removes the temporary file
/// and leaves `path` as it was.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
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
/// opened, and a file of another size is never read).
pub fn holds(path: &Path, bytes: &[u8]) -> bool {
    fs_err::symlink_metadata(path).is_ok_and(|m| m.is_file() && m.len() == bytes.len() as u64)
        && fs_err::read(path).is_ok_and(|old| old == bytes)
}
