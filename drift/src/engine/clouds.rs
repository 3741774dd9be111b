//! Cloud drift of one run ([`super::run_with_cloud`]), every provider's part of the report:
//! STACKIT servers against the rendered `MachineClass`es ([`crate::core::cloud`]), VPSie VMs
//! against the rendered `NodeGroup`s and the cluster's Nodes ([`crate::core::vpsie`]), and the
//! run state of KubeVirt `VirtualMachine`s against their run strategy
//! ([`crate::core::kubevirt`]). The Kubernetes objects the last two need (Nodes, VMs and their
//! instances, the live NodeGroups) come from the run's Kubernetes source, a snapshot or the
//! cluster ([`crate::source::machines`]).

use std::collections::BTreeSet;

use serde_json::Value;

use super::{LiveSource, Notice};
use crate::core::cloud::{self, ClassSpec, CloudOrigin, CloudReport};
use crate::core::desired::DesiredObject;
use crate::core::kubevirt::{self, KubevirtInput};
use crate::core::report::Report;
use crate::core::report::kubevirt::KubevirtReport;
use crate::core::report::vpsie::{VpsieOrigin, VpsieReport};
use crate::core::vpsie::{self, GroupSpec, VpsieInput};
use crate::error::DriftError;
use crate::source::kube::ClusterLive;
use crate::source::machines::{self, KUBEVIRT_API_VERSION, Machines, VPSIE_API_VERSION, Wanted};
use crate::source::snapshot::ReadOptions;
use crate::source::stackit::{self, ServerSource};
use crate::source::vpsie::{self as vpsie_source, VpsieSource};

/// Cloud drift in a run: which providers are compared, where their resources come from, and
/// whether the Kubernetes comparison is left out (`--cloud-only`).
#[derive(Debug, Clone, Default)]
pub struct CloudRequest {
    /// STACKIT servers.
    pub servers: Option<ServerSource>,
    /// VPSie VMs and node groups.
    pub vpsie: Option<VpsieRequest>,
    /// KubeVirt run state.
    pub kubevirt: Option<KubevirtRequest>,
    pub only: bool,
}

/// The VPSie part of a run.
#[derive(Debug, Clone)]
pub struct VpsieRequest {
    pub source: VpsieSource,
    /// How long a VM may take to join before it is `failed-to-join`.
    pub discovery_timeout_secs: i64,
}

/// The KubeVirt part of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KubevirtRequest {
    /// Every VM in the namespaces plinth manages, not only the rendered ones (`--all-vms`).
    pub all_vms: bool,
}

/// The cloud parts of a report.
#[derive(Debug, Clone, Default)]
pub struct CloudParts {
    pub stackit: Option<CloudReport>,
    pub vpsie: Option<VpsieReport>,
    pub kubevirt: Option<KubevirtReport>,
}

impl CloudParts {
    /// `report` with these parts.
    pub fn join(self, mut report: Report) -> Report {
        if let Some(c) = self.stackit {
            report = report.with_cloud(c);
        }
        if let Some(v) = self.vpsie {
            report = report.with_vpsie(v);
        }
        if let Some(k) = self.kubevirt {
            report = report.with_kubevirt(k);
        }
        report
    }
}

/// What a run's cloud drift needs of it besides the request.
pub struct Run<'a> {
    /// Every rendered object, placed (namespaced objects have their namespace).
    pub desired: &'a [DesiredObject],
    pub live: &'a LiveSource,
    pub now_epoch: i64,
    pub stack_bytes: usize,
    pub notify: &'a dyn Fn(Notice),
}

/// Every part `request` asks for.
///
/// # Errors
/// A provider's resources, or the Kubernetes objects they are matched with, cannot be read.
pub fn run(request: &CloudRequest, run: &Run<'_>) -> Result<CloudParts, DriftError> {
    let mut parts = CloudParts::default();
    if let Some(source) = &request.servers {
        parts.stackit = Some(stackit_part(run, source)?);
    }
    if request.vpsie.is_none() && request.kubevirt.is_none() {
        return Ok(parts);
    }
    let groups: Vec<GroupSpec> = run
        .desired
        .iter()
        .filter(|d| d.index.kind == "NodeGroup")
        .filter_map(|d| GroupSpec::of_object(&d.value))
        .collect();
    let rendered_vms: BTreeSet<(String, String)> = run
        .desired
        .iter()
        .filter(|d| is_kind(&d.value, KUBEVIRT_API_VERSION, "VirtualMachine"))
        .map(|d| {
            (
                d.index.namespace.clone().unwrap_or_default(),
                d.index.name.clone(),
            )
        })
        .collect();
    let wanted = Wanted {
        nodes: request.vpsie.is_some(),
        vm_namespaces: match request.kubevirt {
            None => BTreeSet::new(),
            Some(k) if k.all_vms => managed_namespaces(run.desired),
            Some(_) => rendered_vms.iter().map(|(ns, _)| ns.clone()).collect(),
        },
        node_group_namespaces: if request.vpsie.is_some() {
            run.desired
                .iter()
                .filter(|d| is_kind(&d.value, VPSIE_API_VERSION, "NodeGroup"))
                .filter_map(|d| d.index.namespace.clone())
                .collect()
        } else {
            BTreeSet::new()
        },
    };
    let machines = read_machines(run, &wanted)?;
    (run.notify)(Notice::Detail(format!(
        "cloud: {} Node(s), {} VirtualMachine(s), {} instance(s), {} NodeGroup(s) from the {}",
        machines.nodes.len(),
        machines.vms.len(),
        machines.vmis.len(),
        machines.node_groups.len(),
        run.live.name()
    )));
    for kind in &machines.unserved {
        (run.notify)(Notice::Warning(format!(
            "the cluster does not serve `{kind}`: none was read"
        )));
    }
    if let Some(vpsie) = &request.vpsie {
        parts.vpsie = Some(vpsie_part(run, vpsie, groups, &machines)?);
    }
    if let Some(kubevirt) = request.kubevirt {
        let input = KubevirtInput {
            vms: &machines.vms,
            vmis: &machines.vmis,
            rendered: &rendered_vms,
            all_vms: kubevirt.all_vms,
        };
        parts.kubevirt = Some(KubevirtReport::new(
            run.live.name(),
            kubevirt.all_vms,
            kubevirt::compare(&input),
        ));
    }
    Ok(parts)
}

/// The servers of `source` compared with the rendered STACKIT `MachineClass`es.
fn stackit_part(run: &Run<'_>, source: &ServerSource) -> Result<CloudReport, DriftError> {
    let classes: Vec<ClassSpec> = run
        .desired
        .iter()
        .filter(|d| d.index.kind == "MachineClass")
        .filter_map(|d| ClassSpec::of_object(&d.value))
        .collect();
    let servers = stackit::servers(source)?;
    (run.notify)(Notice::Detail(format!(
        "cloud: {} STACKIT server(s) from the {}, {} rendered machine class(es)",
        servers.len(),
        source.name(),
        classes.len()
    )));
    let (project_id, region) = match source {
        ServerSource::Api {
            project_id, region, ..
        } => (Some(project_id.clone()), Some(region.clone())),
        ServerSource::Snapshot { .. } => (None, None),
    };
    let origin = CloudOrigin {
        source: source.name().to_owned(),
        project_id,
        region,
    };
    // The API is always asked for details; a snapshot's servers say it themselves.
    let details = matches!(source, ServerSource::Api { .. }).then_some(true);
    Ok(CloudReport::new(
        origin,
        cloud::compare_listed(&classes, &servers, details),
    ))
}

/// The VMs and node groups of the request's source matched with the Nodes and compared with
/// the rendered `NodeGroup`s (each with its live `status`).
fn vpsie_part(
    run: &Run<'_>,
    request: &VpsieRequest,
    mut groups: Vec<GroupSpec>,
    machines: &Machines,
) -> Result<VpsieReport, DriftError> {
    for group in &mut groups {
        group.live_status = machines
            .node_groups
            .iter()
            .find(|g| {
                g.pointer("/metadata/name").and_then(Value::as_str) == Some(group.name.as_str())
                    && g.pointer("/metadata/namespace").and_then(Value::as_str)
                        == group.namespace.as_deref()
            })
            .and_then(|g| g.get("status"))
            .cloned();
    }
    let listing = vpsie_source::listing(&request.source)?;
    (run.notify)(Notice::Detail(format!(
        "cloud: {} VPSie VM(s), {} cluster node(s) and {} node group(s) from the {}, {} rendered NodeGroup(s)",
        listing.vms.len(),
        listing.cluster_nodes.len(),
        listing.groups.len(),
        request.source.name(),
        groups.len()
    )));
    let vms = vpsie::with_cluster_nodes(listing.vms, &listing.cluster_nodes);
    let input = VpsieInput {
        groups: &groups,
        api_groups: &listing.groups,
        groups_listed: listing.groups_listed,
        vms: &vms,
        nodes: &machines.nodes,
        now_epoch: run.now_epoch,
        discovery_timeout_secs: request.discovery_timeout_secs,
    };
    let cluster_identifier = match &request.source {
        VpsieSource::Api {
            cluster_identifiers,
            ..
        } => (!cluster_identifiers.is_empty()).then(|| cluster_identifiers.join(", ")),
        VpsieSource::Snapshot { .. } => None,
    };
    let origin = VpsieOrigin {
        source: request.source.name().to_owned(),
        cluster_identifier,
    };
    Ok(VpsieReport::new(
        origin,
        vpsie::compare(&input),
        request.discovery_timeout_secs,
    ))
}

/// The Kubernetes objects cloud drift needs, from the run's source.
fn read_machines(run: &Run<'_>, wanted: &Wanted) -> Result<Machines, DriftError> {
    match run.live {
        LiveSource::Snapshot {
            path,
            max_file_bytes,
            allow_empty,
        } => machines::from_snapshot(
            path,
            &ReadOptions {
                max_file_bytes: *max_file_bytes,
                allow_empty: *allow_empty,
            },
            wanted,
        ),
        LiveSource::Cluster(options) => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .thread_stack_size(run.stack_bytes)
                .enable_all()
                .build()
                .map_err(DriftError::Runtime)?;
            runtime.block_on(async {
                let cluster = ClusterLive::connect(options).await?;
                machines::from_cluster(&cluster, wanted).await
            })
        }
    }
}

/// Whether `object` is a `kind` of the group of `api_version` (any version of it).
fn is_kind(object: &Value, api_version: &str, kind: &str) -> bool {
    let group = |v: &str| v.split_once('/').map_or("", |(g, _)| g).to_owned();
    object.get("kind").and_then(Value::as_str) == Some(kind)
        && object
            .get("apiVersion")
            .and_then(Value::as_str)
            .is_some_and(|v| group(v) == group(api_version))
}

/// The namespaces plinth manages: those its rendered objects live in and the Namespaces it
/// renders.
fn managed_namespaces(desired: &[DesiredObject]) -> BTreeSet<String> {
    desired
        .iter()
        .filter_map(|d| {
            if d.index.kind == "Namespace" && d.index.namespace.is_none() {
                Some(d.index.name.clone())
            } else {
                d.index.namespace.clone()
            }
        })
        .collect()
}
