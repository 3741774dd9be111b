//! `plinth validate`: render every selected cluster in memory (nothing is written) and check
//! each object whose kind has a CRD in the schema folder against that CRD's schema. Kinds
//! that no CRD covers are named on stderr; built-in Kubernetes kinds (no CRD exists for them,
//! the API server checks them) are only counted. `--require-schemas` turns an unchecked
//! custom-resource kind into a failure (exit 2).

use std::fmt::Write as _;

use plinth_renderer::conformance::{self, Checked};

use super::Outcome;
use super::shared;
use crate::args::{ClustersArg, RepoArg, ValidateArgs};
use crate::command_error::CommandError;
use crate::settings::GlobalSettings;

pub fn run(args: ValidateArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let printer = global.printer;
    let ValidateArgs {
        repo: RepoArg { repo },
        crds,
        clusters: ClustersArg { clusters },
        require_schemas,
    } = args;
    let fleet = shared::open_fleet(&repo)?;
    let schemas = conformance::load_schemas(&repo, crds.as_deref(), &fleet.settings)?;
    if schemas.is_none() && require_schemas {
        return Err(CommandError::user(
            "`--require-schemas` needs a CRD folder, and none is given",
        )
        .hint("pass `--crds DIR` or set `schemas` in plinth.yaml"));
    }
    if schemas.is_none() {
        printer.warn(
            "no CRD folder given (`--crds DIR` or `schemas` in plinth.yaml): only plinth's own rules are checked",
        );
    }
    let selection = fleet.select(&clusters, None)?;
    let mut total = Checked::default();
    for name in &selection.names {
        let rendered = fleet.render_cluster(name)?;
        match &schemas {
            Some((_, s)) => total.add(conformance::check(s, &rendered)),
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
                return Err(CommandError::config(message).hint(
                    "add the CRDs of these kinds to the folder, or drop `--require-schemas`",
                ));
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
