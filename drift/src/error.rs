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
}
