//! What the drift benchmarks share: the process's peak memory, and writing the files of a
//! generated repository.

use std::path::Path;

/// `VmHWM` of this process in KiB (0 where `/proc` has none).
pub fn peak_kib() -> u64 {
    fs_err::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// KiB as MiB, for printing.
#[allow(clippy::cast_precision_loss)]
pub fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Writes `text` to `rel` under `root`, creating its folders.
pub fn write(root: &Path, rel: &str, text: &str) {
    let path = root.join(rel);
    fs_err::create_dir_all(path.parent().expect("a parent")).expect("create dir");
    fs_err::write(path, text).expect("write");
}
