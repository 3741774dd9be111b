//! STACKIT servers, the cloud edge of drift: listed from the `IaaS` API through
//! [`plinth_cloud::stackit::StackitClient`] (one `ListServers` request with `details=true` and
//! no selector, so both label forms and the servers of classes no longer rendered are seen),
//! or read from a snapshot file (`--cloud-snapshot`): a `ListServers` response
//! (`{"items": [...]}`) or a JSON list of them (one per label form, say), servers as the API
//! returns them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use plinth_cloud::stackit::{LabelSelector, Server, StackitClient};
use plinth_cloud::{CloudError, Deadline};
use serde_json::Value;

use crate::error::DriftError;

/// Where the servers come from.
#[derive(Debug, Clone)]
pub enum ServerSource {
    /// A file of `ListServers` responses, read up to `max_file_bytes`.
    Snapshot { path: PathBuf, max_file_bytes: u64 },
    /// The API: a client built (and its settings checked) by the caller, and the time the
    /// listing may take, retries included.
    Api {
        client: Arc<StackitClient>,
        deadline: Duration,
        project_id: String,
        region: String,
    },
}

impl ServerSource {
    /// `api` or `snapshot`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Snapshot { .. } => "snapshot",
            Self::Api { .. } => "api",
        }
    }
}

/// The servers of the source (not yet filtered by label).
///
/// # Errors
/// The snapshot cannot be read or parsed (the error names the file and the item), or the API
/// call failed ([`DriftError::Cloud`]: never a credential or a `5xx` body).
pub fn servers(source: &ServerSource) -> Result<Vec<Server>, DriftError> {
    match source {
        ServerSource::Snapshot {
            path,
            max_file_bytes,
        } => read_snapshot(path, *max_file_bytes),
        ServerSource::Api {
            client, deadline, ..
        } => {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(DriftError::Runtime)?;
            runtime
                .block_on(client.list_servers(
                    &LabelSelector::new(),
                    true,
                    Deadline::after(*deadline),
                ))
                .map_err(cloud_error)
        }
    }
}

fn cloud_error(source: CloudError) -> DriftError {
    DriftError::Cloud {
        what: "cannot list the STACKIT servers".to_owned(),
        source: Box::new(source),
    }
}

/// Reads a cloud snapshot: `{"items": [...]}` or a list of such objects.
///
/// # Errors
/// The file is not a regular file, is too large, is not JSON (reported by line and column,
/// never by content), or an item is not a server (named by its place).
pub fn read_snapshot(path: &Path, max_file_bytes: u64) -> Result<Vec<Server>, DriftError> {
    let value = crate::source::snapshot::read_json(path, max_file_bytes)?;
    let invalid = |message: String| crate::source::snapshot::invalid_file(path, message);
    let responses: Vec<(String, &Value)> = match &value {
        Value::Array(list) => list
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("[{i}]."), v))
            .collect(),
        other => vec![(String::new(), other)],
    };
    let mut servers = Vec::new();
    for (at, response) in responses {
        let items = response
            .get("items")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                invalid(format!(
                    "{at}items: is missing or not a list (a `ListServers` response is `{{\"items\": [...]}}`)"
                ))
            })?;
        for (i, item) in items.iter().enumerate() {
            let server = Server::from_value(item.clone())
                .map_err(|message| invalid(format!("{at}items[{i}]: {message}")))?;
            servers.push(server);
        }
    }
    Ok(servers)
}
