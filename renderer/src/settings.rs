//! `plinth.yaml`: where things are in the platform repository, the annotation prefix, the
//! output flavour and the limits on untrusted input. Every key has a default, so a repository
//! without `plinth.yaml` works.

use serde::Deserialize;

use crate::error::Result;
use crate::source::Source;
use crate::yaml;

/// The catalog value meaning "use the baseline shipped inside plinth".
pub const BUILTIN: &str = "builtin";

/// Repository paths.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Paths {
    /// The catalog file, or `builtin`. Default: `assets/metadata.yaml` when it exists,
    /// otherwise the built-in baseline.
    #[serde(default)]
    pub catalog: Option<String>,
    #[serde(default = "default_clusters")]
    pub clusters: String,
    #[serde(default = "default_overlays")]
    pub overlays: String,
    #[serde(default = "default_output")]
    pub output: String,
}

fn default_clusters() -> String {
    "clusters".into()
}
fn default_overlays() -> String {
    "overlays".into()
}
fn default_output() -> String {
    "rendered".into()
}

impl Default for Paths {
    fn default() -> Self {
        Self {
            catalog: None,
            clusters: default_clusters(),
            overlays: default_overlays(),
            output: default_output(),
        }
    }
}

/// The shape of each rendered cluster folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Flavour {
    /// Object files plus a `kustomization.yaml` listing them in apply order.
    #[default]
    Kustomize,
    /// Object files only (Argo CD directory apps, `kubectl apply -f`).
    Plain,
}

/// Output settings.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct OutputSettings {
    #[serde(default)]
    pub flavour: Flavour,
}

/// Limits on untrusted input.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    /// Largest input file read, in bytes (default 4 MiB).
    #[serde(default = "default_max_file_bytes")]
    pub max_file_bytes: u64,
    /// Template instructions allowed per render of one template (default 5,000,000).
    #[serde(default = "default_fuel")]
    pub template_fuel: u64,
}

fn default_max_file_bytes() -> u64 {
    4 * 1024 * 1024
}
fn default_fuel() -> u64 {
    5_000_000
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: default_max_file_bytes(),
            template_fuel: default_fuel(),
        }
    }
}

/// Everything `plinth.yaml` can say.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Settings {
    #[serde(default)]
    pub paths: Paths,
    /// Prefix of plinth's per-object override annotations (`<prefix>/patch`, ...).
    #[serde(default = "default_prefix")]
    pub annotation_prefix: String,
    #[serde(default)]
    pub output: OutputSettings,
    #[serde(default)]
    pub limits: Limits,
    /// A folder of CRD files used to validate rendered objects offline.
    #[serde(default)]
    pub schemas: Option<String>,
}

fn default_prefix() -> String {
    "platform.kubevirt.io".into()
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            paths: Paths::default(),
            annotation_prefix: default_prefix(),
            output: OutputSettings::default(),
            limits: Limits::default(),
            schemas: None,
        }
    }
}

/// The settings file name.
pub const FILE: &str = "plinth.yaml";

impl Settings {
    /// Reads `plinth.yaml` at the repository root; defaults when there is none. Returns the
    /// raw bytes too, since they are part of every cluster's input digest.
    pub fn load(source: &Source) -> Result<(Self, Vec<u8>)> {
        if !source.is_file(FILE)? {
            return Ok((Self::default(), Vec::new()));
        }
        let text = source.read_text(FILE, default_max_file_bytes())?;
        let settings: Self = yaml::from_str(&text, FILE)?;
        Ok((settings, text.into_bytes()))
    }
}
