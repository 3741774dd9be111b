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
    #[error(transparent)]
    Render(#[from] plinth_renderer::RenderError),
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
}
