//! `plinth.yaml`: where things are in the platform repository, the annotation prefix, the
//! output flavour and the limits on untrusted input. Every key has a default, so a repository
//! without `plinth.yaml` works.

use std::path::{Component, Path, PathBuf};

use serde::Deserialize;

use crate::error::{RenderError, Result};
use crate::source::Source;
use plinth_vocab::yaml;

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
    /// How `plinth drift` judges who changed a live field.
    #[serde(default)]
    pub drift: DriftSettings,
    /// How `plinth apply` paces and gates its writes.
    #[serde(default)]
    pub apply: ApplySettings,
}

/// `apply:` in `plinth.yaml`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApplySettings {
    /// The anti-thrashing gate.
    #[serde(default)]
    pub throttle: Throttle,
    /// When disruptive changes (node reboots, server replacement, VM re-provisioning and
    /// restarts, platform-wide changes) may be applied; a cluster's `cluster.yaml`
    /// `maintenanceWindows` wins when present. None: they are always held (unless
    /// `--allow-disruption`).
    #[serde(default)]
    pub maintenance_windows: Vec<MaintenanceWindow>,
}

/// One maintenance window as written: a 5-field cron `schedule`, a `duration` (`30m`, `4h`,
/// `1h30m`) and an IANA `timeZone` (default `UTC`). `plinth apply` parses and checks it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MaintenanceWindow {
    pub schedule: String,
    pub duration: String,
    #[serde(default)]
    pub time_zone: Option<String>,
}

/// The anti-thrashing gate: a token bucket per object, `capacity` applies per
/// `window_minutes` (default 5 per 60 minutes, a `CronJob`'s cadence; `windowMinutes: 1` is the
/// seed's 5 per minute for a loop); after `pause_after` consecutive throttled runs the object
/// is paused (`<prefix>/reconcile-paused: "true"`) until a person removes the annotation.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Throttle {
    #[serde(default = "default_capacity")]
    pub capacity: u32,
    #[serde(default = "default_window_minutes")]
    pub window_minutes: u32,
    #[serde(default = "default_pause_after")]
    pub pause_after: u32,
}

fn default_capacity() -> u32 {
    5
}
fn default_window_minutes() -> u32 {
    60
}
fn default_pause_after() -> u32 {
    3
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            capacity: default_capacity(),
            window_minutes: default_window_minutes(),
            pause_after: default_pause_after(),
        }
    }
}

/// `drift:` in `plinth.yaml`: the field managers that extend plinth's built-in lists (a name,
/// or a prefix ending in `*`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DriftSettings {
    /// Managers that apply plinth's output besides `plinth`, `argocd-controller` and
    /// `kustomize-controller`: their applies are the baseline, what only they applied and no
    /// longer rendered is pending removal.
    #[serde(default)]
    pub gitops_managers: Vec<String>,
    /// Managers whose writes after the last apply are drift besides people's tools (`kubectl`
    /// and every `kubectl-*`, dashboards, plain HTTP clients): a controller listed here is no
    /// longer "expected".
    #[serde(default)]
    pub drift_managers: Vec<String>,
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
            drift: DriftSettings::default(),
            apply: ApplySettings::default(),
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

/// Where `render` writes, and why it may: the output root is `paths.output` (or `--output`)
/// resolved against the repository, checked before anything is read or written.
impl Settings {
    /// The output root. `repo` is the repository's canonical root; `flag` is `--output`
    /// (relative to the working folder), which may point outside the repository;
    /// `paths.output` may not (no `..`, not absolute, no symlink on the way). Neither may
    /// overlap an input: the repository root, `plinth.yaml`, `.git`, the catalog folder,
    /// the clusters and overlays folders, the schema folder and `extra_inputs` (absolute
    /// paths, e.g. `--crds`): the output may not be, hold, or lie inside any of them.
    pub fn output_root(
        &self,
        repo: &Path,
        flag: Option<&Path>,
        extra_inputs: &[PathBuf],
    ) -> Result<PathBuf> {
        let (out, shown) = if let Some(flag) = flag {
            let shown = format!("`--output {}`", flag.display());
            let invalid = |message: String| RenderError::Invalid {
                path: shown.clone(),
                message,
            };
            let absolute = std::path::absolute(flag).map_err(|e| invalid(e.to_string()))?;
            if fs_err::symlink_metadata(&absolute).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(invalid(
                        "is a symlink; plinth never writes its output through one: give the real folder"
                            .to_owned(),
                    ));
            }
            (resolve(&absolute).map_err(invalid)?, shown)
        } else {
            let invalid = |message: String| RenderError::Invalid {
                path: format!("`{FILE}`"),
                message: format!("`paths.output`: {message}"),
            };
            let rel = &self.paths.output;
            let normal = crate::source::normalize(rel).map_err(|err| match err {
                RenderError::PathEscape { reason, .. } => invalid(format!("`{rel}` {reason}")),
                other => other,
            })?;
            let mut at = repo.to_path_buf();
            for part in normal.split('/') {
                at.push(part);
                if fs_err::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
                    return Err(invalid(format!(
                        "`{rel}` leads through the symlink `{}`; the output must be a real folder inside the repository",
                        at.strip_prefix(repo).unwrap_or(&at).display()
                    )));
                }
            }
            (at, format!("`{FILE}`"))
        };
        let overlap = |message: String| RenderError::Invalid {
            path: shown.clone(),
            message: if flag.is_none() {
                format!("`paths.output`: {message}")
            } else {
                message
            },
        };
        if repo.starts_with(&out) {
            return Err(overlap(
                "the output folder would hold the repository itself; plinth would replace its inputs"
                    .to_owned(),
            ));
        }
        let mut inputs: Vec<(String, PathBuf)> = [
            FILE.to_owned(),
            ".git".to_owned(),
            self.paths.clusters.clone(),
            self.paths.overlays.clone(),
        ]
        .into_iter()
        .chain(self.schemas.clone())
        .chain(self.catalog_inputs(repo))
        .filter_map(|rel| crate::source::normalize(&rel).ok())
        .map(|rel| (rel.clone(), repo.join(rel)))
        .collect();
        inputs.extend(
            extra_inputs
                .iter()
                .filter_map(|p| std::path::absolute(p).ok().and_then(|p| resolve(&p).ok()))
                .map(|p| (p.display().to_string(), p)),
        );
        for (name, input) in inputs {
            let input = fs_err::canonicalize(&input).unwrap_or(input);
            if out.starts_with(&input) || input.starts_with(&out) {
                return Err(overlap(format!(
                    "the output folder overlaps the input `{name}`; plinth replaces what is in its output folder, so it must not be, hold or lie inside an input"
                )));
            }
        }
        Ok(out)
    }

    /// The catalog's inputs: its folder (when not the repository root) and the file itself.
    fn catalog_inputs(&self, repo: &Path) -> Vec<String> {
        let file = match self.paths.catalog.as_deref() {
            Some(BUILTIN) => return Vec::new(),
            Some(path) => path.to_owned(),
            None if repo.join("assets/metadata.yaml").is_file() => "assets/metadata.yaml".into(),
            None => return Vec::new(),
        };
        let mut inputs = vec![file.clone()];
        if let Some((dir, _)) = file.trim_start_matches("./").rsplit_once('/') {
            inputs.push(dir.to_owned());
        }
        inputs
    }
}

/// Resolves an absolute path whose tail may not exist yet: the longest existing prefix is
/// canonicalised (symlinks resolved), the rest appended; `..` in the rest is refused.
fn resolve(path: &Path) -> std::result::Result<PathBuf, String> {
    let mut existing = path.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(canonical) = fs_err::canonicalize(&existing) {
            let mut out = canonical;
            for part in rest.iter().rev() {
                out.push(part);
            }
            return Ok(out);
        }
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_owned());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    if path.components().any(|c| c == Component::ParentDir) {
        return Err("contains `..` below a folder that does not exist".to_owned());
    }
    Ok(path.to_path_buf())
}
