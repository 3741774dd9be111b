//! `--jobs N`: the worker threads of a command, clamped to what can help, so an absurd value
//! (`--jobs 1000000`) neither stalls nor aborts the process starting threads.

use anyhow::Context as _;

use crate::printer::Printer;

/// The stack of every thread plinth starts (address space, touched only as deep as it is
/// used): reading and merging nested input recurses as deep as the YAML reader's depth limit
/// allows, which overflows the 2 MiB default of spawned threads in a debug build.
pub const STACK_BYTES: usize = 64 << 20;

/// Threads per core beyond which more threads only cost memory and start-up time (rendering
/// is CPU-bound; a few extra threads cover waits on the disk).
pub const PER_CORE: usize = 4;

/// The number of worker threads for `work` independent items when `--jobs` asked for
/// `requested`: at most [`PER_CORE`] per core and at most one per item (at least one).
/// `None` and `0` mean one per core.
pub fn threads(requested: Option<usize>, work: usize, cores: usize) -> usize {
    let cores = cores.max(1);
    let most = cores.saturating_mul(PER_CORE).min(work).max(1);
    match requested {
        None | Some(0) => cores.min(most),
        Some(n) => n.min(most),
    }
}

/// A thread pool for `work` items, sized by [`threads`]; says under `-v` when `--jobs` was
/// clamped.
pub fn pool(
    requested: Option<usize>,
    work: usize,
    printer: Printer,
) -> anyhow::Result<rayon::ThreadPool> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let n = threads(requested, work, cores);
    if let Some(asked) = requested.filter(|&r| r > n) {
        printer.detail(&format!(
            "--jobs {asked}: using {n} worker thread{} ({cores} core{}, {work} item{} of work; at most {PER_CORE} per core and one per item)",
            if n == 1 { "" } else { "s" },
            if cores == 1 { "" } else { "s" },
            if work == 1 { "" } else { "s" },
        ));
    }
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .stack_size(STACK_BYTES)
        .build()
        .context("cannot start the worker threads")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absurd_values_are_clamped_to_cores_and_work() {
        assert_eq!(threads(Some(1_000_000), 1000, 2), 8);
        assert_eq!(threads(Some(usize::MAX), 1000, 2), 8);
        assert_eq!(threads(Some(usize::MAX), 3, 2), 3);
        assert_eq!(threads(Some(usize::MAX), 0, 2), 1);
        assert_eq!(threads(Some(usize::MAX), 1000, usize::MAX), 1000);
    }

    #[test]
    fn sane_values_and_the_default_are_kept() {
        assert_eq!(threads(Some(3), 1000, 2), 3);
        assert_eq!(threads(Some(1), 1000, 2), 1);
        assert_eq!(threads(None, 1000, 2), 2);
        assert_eq!(threads(Some(0), 1000, 2), 2);
        assert_eq!(threads(None, 1, 16), 1);
    }
}
