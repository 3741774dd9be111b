//! The one error type of review time ([`ReviewError`]): what failed, naming the repository,
//! revision or cluster, with the cause in its `source`.

use std::path::{Path, PathBuf};

use plinth_renderer::RenderError;

use crate::git::GitError;

/// How many dirty paths [`ReviewError::Dirty`] names before it says how many more there are.
const DIRTY_SHOWN: usize = 10;

/// Why a preview or a hydrated commit could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    /// The platform repository could not be opened.
    #[error("cannot open the platform repository `{}`", path.display())]
    OpenRepository {
        path: PathBuf,
        #[source]
        source: GitError,
    },
    /// A side of the comparison (the base or head revision, or the working tree) could not
    /// be read from git.
    #[error("cannot render {label}")]
    Read {
        label: String,
        #[source]
        source: GitError,
    },
    /// A side's fleet could not be opened or its clusters listed.
    #[error("cannot render {label}")]
    Render {
        label: String,
        #[source]
        source: Box<RenderError>,
    },
    /// One cluster of a side could not be rendered.
    #[error("cannot render {label}: cluster `{cluster}`")]
    RenderCluster {
        label: String,
        cluster: String,
        #[source]
        source: Box<RenderError>,
    },
    /// A cluster asked for exists on neither side; `known` are the clusters that do.
    #[error("unknown cluster `{name}`")]
    UnknownCluster { name: String, known: Vec<String> },
    /// The working tree has uncommitted changes to tracked files (`HEAD` would not be what
    /// the user sees); `head` is the short id of `HEAD`.
    #[error(
        "the working tree has uncommitted changes to tracked files: {}",
        dirty_list(paths)
    )]
    Dirty { paths: Vec<String>, head: String },
    /// A git operation failed.
    #[error(transparent)]
    Git(#[from] GitError),
    /// The metadata file of a hydrated commit could not be written as JSON.
    #[error(transparent)]
    Metadata(#[from] serde_json::Error),
}

impl ReviewError {
    /// [`ReviewError::OpenRepository`] of `path`.
    pub(crate) fn open_repository(path: &Path, source: GitError) -> Self {
        Self::OpenRepository {
            path: path.to_path_buf(),
            source,
        }
    }

    /// [`ReviewError::Read`] of the side named `label`.
    pub(crate) fn read(label: &str, source: GitError) -> Self {
        Self::Read {
            label: label.to_owned(),
            source,
        }
    }

    /// [`ReviewError::Render`] of the side named `label`.
    pub(crate) fn render(label: &str, source: RenderError) -> Self {
        Self::Render {
            label: label.to_owned(),
            source: Box::new(source),
        }
    }

    /// [`ReviewError::RenderCluster`] of `cluster` on the side named `label`.
    pub(crate) fn render_cluster(label: &str, cluster: &str, source: RenderError) -> Self {
        Self::RenderCluster {
            label: label.to_owned(),
            cluster: cluster.to_owned(),
            source: Box::new(source),
        }
    }
}

/// The first few dirty paths, and how many more there are.
fn dirty_list(paths: &[String]) -> String {
    let shown: Vec<&str> = paths.iter().take(DIRTY_SHOWN).map(String::as_str).collect();
    let more = if paths.len() > DIRTY_SHOWN {
        format!(" and {} more", paths.len() - DIRTY_SHOWN)
    } else {
        String::new()
    };
    format!("{}{more}", shown.join(", "))
}
