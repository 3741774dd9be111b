//! `plinth validate`: render every selected cluster in memory (nothing is written) and check
//! each object whose kind has a CRD in the schema folder against that CRD's schema.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use plinth_renderer::schema::Schemas;
use plinth_renderer::{Fleet, Problem, RenderedCluster, Source};

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
        }
    }
    checked
}

pub fn run(args: ValidateArgs, printer: Printer) -> anyhow::Result<Outcome> {
    let ValidateArgs {
        repo,
        crds,
        clusters,
    } = args;
    let source = Source::dir(&repo)
        .with_context(|| format!("cannot open the platform repository `{}`", repo.display()))?;
    let fleet = Fleet::open(source)?;
    let schemas = load_schemas(&repo, crds.as_deref(), &fleet)?;
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
                total.problems.extend(c.problems);
            }
            None => total.objects += rendered.objects.len(),
        }
    }
    let mut text = String::new();
    for p in &total.problems {
        let _ = writeln!(text, "{p}");
    }
    printer.data(&text)?;
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
    Ok(if total.problems.is_empty() {
        Outcome::Clean
    } else {
        Outcome::Found
    })
}
