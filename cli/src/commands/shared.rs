//! What several commands share, so that no command imports another: opening the platform
//! repository.

use std::path::Path;

use anyhow::Context as _;
use plinth_renderer::{Fleet, Source};

/// Opens the platform repository folder `repo`.
pub fn open_fleet(repo: &Path) -> anyhow::Result<Fleet> {
    let source = Source::dir(repo)
        .with_context(|| format!("cannot open the platform repository `{}`", repo.display()))?;
    Ok(Fleet::open(source)?)
}
