//! `plinth rbac`: the least-privilege RBAC that `apply` and `drift` need on one cluster's
//! rendered kinds, as one YAML stream on stdout or in a file (written atomically).

use std::path::Path;

use plinth_apply::rbac::{self, RbacOptions, RbacRequest};
use plinth_drift::engine::Notice;

use super::Outcome;
use crate::args::{RbacArgs, RepoArg};
use crate::command_error::CommandError;
use crate::settings::GlobalSettings;

pub fn run(args: RbacArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let printer = global.printer;
    let RbacArgs {
        repo: RepoArg { repo },
        cluster,
        output,
        service_account,
        service_account_namespace,
        namespace,
        prune_namespaces,
        prune_crds,
        cluster_role_only,
        cloud,
        crds,
    } = args;
    let request = RbacRequest {
        repo,
        cluster,
        crds,
        options: RbacOptions {
            service_account,
            service_account_namespace,
            namespace,
            prune_namespaces,
            prune_crds,
            namespaced_roles: !cluster_role_only,
            cloud,
        },
    };
    let notices = crate::progress::Notices::new(printer);
    let notify = |notice: Notice| notices.hear(notice);
    let rbac = rbac::for_cluster(&request, &notify)?;
    let text = rbac.to_yaml();
    match output.as_deref() {
        None => printer.data(&text)?,
        Some(path) if path == Path::new("-") => printer.data(&text)?,
        Some(path) => {
            crate::write::replacing(path, text.as_bytes())?;
            printer.status(&format!("wrote `{}`", path.display()));
        }
    }
    printer.detail(&format!(
        "cluster `{}`: {} ClusterRole rule(s), {} Role(s)",
        request.cluster,
        rbac.cluster_rules.len(),
        rbac.roles.len()
    ));
    Ok(Outcome::Clean)
}
