//! `plinth discover`: read a live cluster's Node objects and write the cluster's hardware
//! inventory (`clusters/<name>/inventory.yaml`), deterministically and atomically.

use std::path::{Path, PathBuf};

use plinth_drift::core::discover;
use plinth_drift::engine;
use plinth_drift::source::kube::ConnectOptions;
use plinth_renderer::Fleet;

use super::Outcome;
use super::shared;
use crate::args::DiscoverArgs;
use crate::command_error::CommandError;
use crate::settings::GlobalSettings;

/// Where the inventory goes.
#[derive(Debug)]
enum Target {
    Stdout,
    File(PathBuf),
}

/// Settings of one discover run, resolved once from the arguments and `plinth.yaml`.
#[derive(Debug)]
struct DiscoverSettings {
    cluster: String,
    connect: ConnectOptions,
    target: Target,
}

impl DiscoverSettings {
    fn resolve(
        repo: &Path,
        args: DiscoverArgs,
        fleet: &Fleet,
        global: &GlobalSettings,
    ) -> Result<Self, CommandError> {
        let DiscoverArgs {
            repo: _,
            cluster,
            kubeconfig,
            output,
            requests,
        } = args;
        let known = fleet.cluster_names()?;
        if !known.contains(&cluster) {
            return Err(
                CommandError::unknown_cluster(&cluster, &known).hint(format!(
                    "create `{}/{cluster}/cluster.yaml` first",
                    fleet.settings.paths.clusters
                )),
            );
        }
        let target = match output {
            Some(p) if p.as_os_str() == "-" => Target::Stdout,
            Some(p) => Target::File(p),
            None => Target::File(
                repo.join(&fleet.settings.paths.clusters)
                    .join(&cluster)
                    .join("inventory.yaml"),
            ),
        };
        Ok(Self {
            cluster,
            connect: super::cluster_client::connect_options(kubeconfig, requests, &global.kube_env),
            target,
        })
    }
}

/// Runs `plinth discover`.
pub fn run(args: DiscoverArgs, global: &GlobalSettings) -> Result<Outcome, CommandError> {
    let printer = global.printer;
    let repo = args.repo.repo.clone();
    let fleet = shared::open_fleet(&repo)?;
    let settings = DiscoverSettings::resolve(&repo, args, &fleet, global)?;
    let committed = fleet.prepare(&settings.cluster)?.inventory;

    let inventory = engine::discover_inventory(&settings.connect)?;
    let text = format!(
        "# Hardware inventory of cluster `{}`, written by `plinth discover` from its Node objects.\n{}",
        settings.cluster,
        discover::inventory_yaml(&inventory)
    );
    printer.status(&format!(
        "cluster `{}`: {} node(s) discovered",
        settings.cluster,
        inventory.nodes.len()
    ));
    if let Some(committed) = &committed {
        for d in discover::hardware_drift(committed, &inventory) {
            printer.status(&format!(
                "detector `{}` changes from {} to {}",
                d.detector, d.committed, d.live
            ));
        }
    }

    match &settings.target {
        Target::Stdout => printer.data(&text)?,
        Target::File(path) => {
            if crate::write::holds(path, text.as_bytes()) {
                printer.status(&format!("`{}` is unchanged", path.display()));
            } else {
                crate::write::replacing(path, text.as_bytes())?;
                printer.status(&format!("wrote `{}`", path.display()));
            }
        }
    }
    Ok(Outcome::Clean)
}
