//! `plinth validate`: render every selected cluster in memory (nothing is written) and check
//! each object whose kind has a CRD in the schema folder against that CRD's schema. Kinds
//! that no CRD covers are named on stderr; built-in Kubernetes kinds (no CRD exists for them,
//! the API server checks them) are only counted. `--require-schemas` turns an unchecked
//! custom-resource kind into a failure (exit 2).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use plinth_renderer::schema::Schemas;
use plinth_renderer::{Fleet, RenderedCluster, Source};
use plinth_vocab::Problem;

use super::Outcome;
use crate::args::ValidateArgs;
use crate::printer::Printer;

/// Loads the CRD folder named by `--crds` (relative to the current folder) or, without the
/// flag, by the `schemas` setting (relative to the repository). `None` when neither is set.
pub fn load_schemas(
    repo: &Path,
    flag: Option<&Path>,
    fleet: &Fleet,
) -> anyhow::Result<Option<(PathBuf, Schemas)>> {
    let dir = match (flag, fleet.settings.schemas.as_deref()) {
        (Some(dir), _) => dir.to_path_buf(),
        (None, Some(setting)) => {
            let rel = plinth_renderer::source::normalize(setting)
                .context("the `schemas` setting of plinth.yaml")?;
            repo.join(rel)
        }
        (None, None) => return Ok(None),
    };
    let schemas = Schemas::load_dir(&dir, fleet.settings.limits.max_file_bytes)
        .with_context(|| format!("cannot load the CRD schemas of `{}`", dir.display()))?;
    Ok(Some((dir, schemas)))
}

/// What checking one rendered cluster found.
#[derive(Debug, Default)]
pub struct Checked {
    pub objects: usize,
    pub covered: usize,
    pub problems: Vec<Problem>,
    /// Custom-resource kinds no CRD covers (`Kind.group/version`) and their object counts.
    pub unchecked: BTreeMap<String, usize>,
    /// Objects of built-in Kubernetes kinds (never covered by a CRD).
    pub built_in: usize,
}

/// API groups served by Kubernetes itself: no CRD describes their kinds.
const BUILT_IN_GROUPS: &[&str] = &[
    "",
    "apps",
    "batch",
    "autoscaling",
    "policy",
    "networking.k8s.io",
    "rbac.authorization.k8s.io",
    "storage.k8s.io",
    "scheduling.k8s.io",
    "coordination.k8s.io",
    "node.k8s.io",
    "discovery.k8s.io",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "certificates.k8s.io",
    "events.k8s.io",
    "flowcontrol.apiserver.k8s.io",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "resource.k8s.io",
    "internal.apiserver.k8s.io",
    "storagemigration.k8s.io",
];

/// Whether `apiVersion` belongs to a built-in Kubernetes API group.
fn is_built_in(api_version: &str) -> bool {
    let group = api_version.rsplit_once('/').map_or("", |(g, _)| g);
    BUILT_IN_GROUPS.contains(&group)
}

/// Checks every object of `rendered` that a CRD of `schemas` covers.
pub fn check(schemas: &Schemas, rendered: &RenderedCluster) -> Checked {
    let mut checked = Checked::default();
    for o in &rendered.objects {
        checked.objects += 1;
        let id = &o.identity;
        let name = match &id.namespace {
            Some(ns) => format!("{ns}/{}", id.name),
            None => id.name.clone(),
        };
        let location = format!("cluster {} / {} {name}", rendered.name, id.kind);
        if let Some(problems) = schemas.validate(&o.value, &location) {
            checked.covered += 1;
            checked.problems.extend(problems);
        } else {
            let api_version = o
                .value
                .get("apiVersion")
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default();
            if is_built_in(api_version) {
                checked.built_in += 1;
            } else {
                let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
                *checked
                    .unchecked
                    .entry(format!("{}.{group}/{version}", id.kind))
                    .or_default() += 1;
            }
        }
    }
    checked
}

pub fn run(args: ValidateArgs, printer: Printer) -> anyhow::Result<Outcome> {
    let ValidateArgs {
        repo,
        crds,
        clusters,
        require_schemas,
    } = args;
    let source = Source::dir(&repo)
        .with_context(|| format!("cannot open the platform repository `{}`", repo.display()))?;
    let fleet = Fleet::open(source)?;
    let schemas = load_schemas(&repo, crds.as_deref(), &fleet)?;
    if schemas.is_none() && require_schemas {
        return Err(crate::report::Hinted {
            message: "`--require-schemas` needs a CRD folder, and none is given".to_owned(),
            hint: "pass `--crds DIR` or set `schemas` in plinth.yaml".to_owned(),
        }
        .into());
    }
    if schemas.is_none() {
        printer.warn(
            "no CRD folder given (`--crds DIR` or `schemas` in plinth.yaml): only plinth's own rules are checked",
        );
    }
    let selection = super::render::select(&fleet, &clusters, None)?;
    let mut total = Checked::default();
    for name in &selection.names {
        let rendered = fleet.render_cluster(name)?;
        match &schemas {
            Some((_, s)) => {
                let c = check(s, &rendered);
                total.objects += c.objects;
                total.covered += c.covered;
                total.built_in += c.built_in;
                total.problems.extend(c.problems);
                for (kind, n) in c.unchecked {
                    *total.unchecked.entry(kind).or_default() += n;
                }
            }
            None => total.objects += rendered.objects.len(),
        }
    }
    let mut text = String::new();
    for p in &total.problems {
        let _ = writeln!(text, "{p}");
    }
    // Violations quote no value (schema.rs); the text redaction is the second line of defence.
    printer.data(&plinth_vocab::redact::Redactor::shared().redact_text(&text))?;
    let against = match &schemas {
        Some((dir, s)) => format!(
            " against {} CRD schema{} of `{}` ({} objects covered)",
            s.len(),
            if s.len() == 1 { "" } else { "s" },
            dir.display(),
            total.covered
        ),
        None => String::new(),
    };
    printer.status(&format!(
        "validated {} objects of {} cluster{}{against}: {} violation{}",
        total.objects,
        selection.names.len(),
        if selection.names.len() == 1 { "" } else { "s" },
        total.problems.len(),
        if total.problems.len() == 1 { "" } else { "s" },
    ));
    if let Some((dir, _)) = &schemas {
        if total.built_in > 0 {
            printer.detail(&format!(
                "{} objects of built-in Kubernetes kinds are not checked (no CRD exists for them)",
                total.built_in
            ));
        }
        if !total.unchecked.is_empty() {
            let list = total
                .unchecked
                .iter()
                .map(|(kind, n)| format!("{kind} ({n} object{})", if *n == 1 { "" } else { "s" }))
                .collect::<Vec<_>>()
                .join(", ");
            let message = format!(
                "{} rendered kind{} no CRD schema in `{}` and went unchecked: {list}",
                total.unchecked.len(),
                if total.unchecked.len() == 1 {
                    " has"
                } else {
                    "s have"
                },
                dir.display()
            );
            if require_schemas {
                return Err(crate::report::Hinted {
                    message,
                    hint: "add the CRDs of these kinds to the folder, or drop `--require-schemas`"
                        .to_owned(),
                }
                .into());
            }
            printer.warn(&message);
        }
    }
    Ok(if total.problems.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_groups() {
        for v in [
            "v1",
            "apps/v1",
            "batch/v1",
            "networking.k8s.io/v1",
            "rbac.authorization.k8s.io/v1",
        ] {
            assert!(is_built_in(v), "{v}");
        }
        for v in [
            "example.io/v1",
            "kubevirt.io/v1",
            "gateway.networking.k8s.io/v1",
            "machine.sapcloud.io/v1alpha1",
        ] {
            assert!(!is_built_in(v), "{v}");
        }
    }
}
