//! The drift crate's error type: every variant names the file, object or field path it is about.

/// Everything that can stop a drift run. Messages carry the location; causes sit in `source`.
#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    #[error("cannot read `{path}`")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("`{path}` is not valid YAML: {message}")]
    Yaml { path: String, message: String },
    #[error("`{path}` is not valid JSON")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    /// Two copies of one object (same group, kind, namespace and name) in a snapshot are not
    /// the same value: which one is live cannot be told. `pointer` is the first field where
    /// they differ (never a value).
    #[error(
        "`{object}` is in the snapshot twice with different content, {} (they first differ at `{pointer}`); plinth cannot tell which copy is live",
        places(.first, .second)
    )]
    Duplicate {
        object: String,
        first: String,
        second: String,
        pointer: String,
    },
    /// A snapshot holding no objects at all (an empty file or folder, or the output of a
    /// `kubectl get` that failed or found nothing).
    #[error(
        "`{path}` holds no objects ({files} snapshot file(s) read): an empty file or folder, or the output of a `kubectl get` that failed or found nothing"
    )]
    EmptySnapshot { path: String, files: usize },
    #[error(transparent)]
    Render(#[from] plinth_renderer::RenderError),
    /// The platform repository cannot be opened.
    #[error("cannot open the platform repository `{path}`")]
    Repository {
        path: String,
        #[source]
        source: Box<plinth_renderer::RenderError>,
    },
    /// The cluster asked for is not one of the repository's (`known`, sorted).
    #[error("unknown cluster `{cluster}`")]
    UnknownCluster { cluster: String, known: Vec<String> },
    /// The snapshot (a file or folder) cannot be read.
    #[error("cannot read the snapshot `{path}`")]
    Snapshot {
        path: String,
        #[source]
        source: Box<DriftError>,
    },
    /// The async runtime that talks to the cluster cannot be started.
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    /// The cluster connection settings could not be loaded (kubeconfig, context, in-cluster).
    #[error("cannot load the cluster connection settings from {origin}")]
    Connect {
        origin: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A request to the API server failed for good (after retries where they apply). The message
    /// names the request and the last reason; never a token, header or body.
    #[error("{request} failed after {attempts} attempt(s): {reason}")]
    Api {
        request: String,
        attempts: u32,
        reason: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// Server-side apply refused the object because another field manager owns fields it sets
    /// or its `resourceVersion` is stale (HTTP 409).
    #[error("{request} conflicts: {message}")]
    Conflict { request: String, message: String },
    /// A bound on what the cluster may send was reached (response size, pages of one LIST,
    /// kinds per run). The message names the limit and the flag that raises it.
    #[error("{request}: {what} (the limit is {limit}; raise it with `{flag}`)")]
    Limit {
        request: String,
        what: String,
        limit: String,
        flag: &'static str,
    },
    /// The command's overall deadline passed before the cluster work was done.
    #[error(
        "{request} did not finish within the deadline of {deadline} (raise it with `--deadline`)"
    )]
    Deadline { request: String, deadline: String },
    /// A cloud API call failed, or could not be set up: the cause names the request or the
    /// setting, never a credential or a `5xx` body.
    #[error("{what}")]
    Cloud {
        what: String,
        #[source]
        source: Box<plinth_cloud::CloudError>,
    },
    /// The kubeconfig (or in-cluster configuration) is unusable: the message names the file,
    /// the cluster or user entry and the field, never a credential.
    #[error("{origin}: {entry}: {message}")]
    Kubeconfig {
        origin: String,
        entry: String,
        message: String,
    },
}

/// `err` and every cause after it, joined by `: ` (for a message that must fit on one line, such
/// as a note in the report).
pub fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Where the two copies of a duplicated object are: one file or two.
fn places(first: &str, second: &str) -> String {
    if first == second {
        format!("both in `{first}`")
    } else {
        format!("in `{first}` and in `{second}`")
    }
}
