//! `plinth discover`: read a live cluster's Node objects and write the cluster's hardware
//! inventory (`clusters/<name>/inventory.yaml`), deterministically and atomically.

use std::path::PathBuf;

use anyhow::Context as _;
use plinth_drift::core::discover;
use plinth_drift::engine;
use plinth_drift::source::kube::ConnectOptions;
use plinth_renderer::{Fleet, Source};

use super::Outcome;
use crate::args::DiscoverArgs;
use crate::printer::Printer;
use crate::report::Hinted;

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
    fn resolve(args: DiscoverArgs, fleet: &Fleet) -> anyhow::Result<Self> {
        let DiscoverArgs {
            repo,
            cluster,
            kubeconfig,
            context,
            output,
            timeout,
            retries,
            client,
        } = args;
        let known = fleet.cluster_names()?;
        if !known.contains(&cluster) {
            return Err(Hinted {
                message: format!("unknown cluster `{cluster}`"),
                hint: format!(
                    "the repository's clusters are: {}; create `{}/{cluster}/cluster.yaml` first",
                    known.join(", "),
                    fleet.settings.paths.clusters
                ),
            }
            .into());
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
            connect: super::cluster_client::connect_options(
                kubeconfig, context, timeout, retries, client,
            ),
            target,
        })
    }
}

/// Runs `plinth discover`.
pub fn run(args: DiscoverArgs, printer: Printer) -> anyhow::Result<Outcome> {
    let source = Source::dir(&args.repo).with_context(|| {
        format!(
            "cannot open the platform repository `{}`",
            args.repo.display()
        )
    })?;
    let fleet = Fleet::open(source)?;
    let settings = DiscoverSettings::resolve(args, &fleet)?;
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
            if super::cluster_client::holds(path, text.as_bytes()) {
                printer.status(&format!("`{}` is unchanged", path.display()));
            } else {
                crate::write::replacing(path, text.as_bytes())?;
                printer.status(&format!("wrote `{}`", path.display()));
            }
        }
    }
    Ok(Outcome::Clean)
}
