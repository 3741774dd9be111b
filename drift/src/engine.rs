//! A whole drift run as one library call: desired state (the committed rendered folder, else an
//! in-memory render), live state (a snapshot or the cluster), the comparison of every object
//! (client-side, or through a server-side apply dry-run), orphans, hardware drift and the
//! redacted [`Report`]. The binary turns its arguments into a [`DriftRequest`], calls [`run`],
//! writes the report and prints; `plinth apply` runs the same sequence.

use std::collections::BTreeSet;
use std::ops::Range;
use std::path::{Path, PathBuf};

use futures::stream::{self, StreamExt as _};
use plinth_renderer::inventory::Inventory;
use plinth_renderer::{Fleet, Source, index};
use plinth_vocab::ObjectRef;
use plinth_vocab::labels::{LABEL_MANAGED_BY, MANAGED_BY_PLINTH};
use plinth_vocab::redact::Redactor;
use rayon::prelude::*;
use serde_json::Value;

use crate::core::compare::{Comparison, compare_client, compare_server};
use crate::core::desired::{self, DesiredObject};
use crate::core::discover;
use crate::core::live::{CompactLive, KindRef, LiveSet};
use crate::core::ownership::Policy;
use crate::core::pipeline::{self, Evaluation, Outcome as Step, without_own_annotations};
use crate::core::report::{self, HardwareDrift, Mode, ObjectResult, Report};
use crate::core::scope::Placement;
use crate::error::{DriftError, chain};
use crate::source::kube::{ClusterLive, ConnectOptions};
use crate::source::snapshot;

pub mod clouds;

pub use clouds::{CloudRequest, KubevirtRequest, VpsieRequest};

/// Server-side apply dry-runs in flight at once.
pub const DRY_RUN_CONCURRENCY: usize = 8;

/// Where live state comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiveSource {
    /// A `kubectl get -o yaml` file or folder, each file read up to `max_file_bytes`; one
    /// holding no objects at all is refused unless `allow_empty`.
    Snapshot {
        path: PathBuf,
        max_file_bytes: u64,
        allow_empty: bool,
    },
    /// The cluster itself.
    Cluster(ConnectOptions),
}

impl LiveSource {
    /// The report's name for the source: `snapshot` or `cluster`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Snapshot { .. } => "snapshot",
            Self::Cluster(_) => "cluster",
        }
    }
}

/// One drift run, as plain data.
#[derive(Debug, Clone)]
pub struct DriftRequest {
    /// The platform repository.
    pub repo: PathBuf,
    /// The cluster of the repository to compare.
    pub cluster: String,
    /// Where live state comes from.
    pub source: LiveSource,
    /// Where namespaced objects rendered without a namespace go (else the snapshot's or the
    /// context's default namespace).
    pub namespace: Option<String>,
    /// Client-side comparison or server-side apply dry-runs (a cluster source only).
    pub mode: Mode,
    /// The report's time, in seconds since the epoch (the binary reads the clock).
    pub now_epoch: i64,
    /// The stack size of the async runtime's worker threads.
    pub stack_bytes: usize,
}

/// Something a run tells its caller while it works, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// A step the user should see.
    Status(String),
    /// A step shown when asked for details.
    Detail(String),
    /// Something the user should know that does not stop the run.
    Warning(String),
    /// How far a long step has come (a progress bar in a terminal; counts only).
    Progress(Progress),
}

/// How far a long step of a run has come: `done` of `total` items of `task`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub task: Task,
    pub done: usize,
    pub total: usize,
}

/// The long steps a run reports progress of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// Kinds read from the cluster (one step: the LISTs run together).
    ReadKinds,
    /// Objects compared through a server-side apply dry-run.
    Compare,
    /// Objects applied (or, in a dry run, confirmed) by `apply`.
    Apply,
}

impl Task {
    /// What the items are, for a progress bar's label.
    pub const fn label(self) -> &'static str {
        match self {
            Self::ReadKinds => "reading kinds",
            Self::Compare => "comparing objects",
            Self::Apply => "applying objects",
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone)]
pub struct DriftRun {
    /// The report, redacted with the shared redaction policy.
    pub report: Report,
}

/// Runs a whole drift: `notify` hears every [`Notice`] as it happens.
///
/// # Errors
/// The repository or the cluster's inputs cannot be read, the cluster is not one of the
/// repository's ([`DriftError::UnknownCluster`]), the snapshot cannot be read, or the cluster
/// cannot be reached or read. An object that cannot be compared is not an error: the report
/// says so.
pub fn run(request: &DriftRequest, notify: &dyn Fn(Notice)) -> Result<DriftRun, DriftError> {
    run_with_cloud(request, None, notify)
}

/// Runs a whole drift, with cloud drift when `cloud` is given: the cluster's STACKIT servers,
/// VPSie VMs and KubeVirt run state join the report ([`Report::cloud`], [`Report::vpsie`],
/// [`Report::kubevirt`]).
///
/// # Errors
/// As [`run`], and a provider's resources cannot be listed or read.
pub fn run_with_cloud(
    request: &DriftRequest,
    cloud: Option<&CloudRequest>,
    notify: &dyn Fn(Notice),
) -> Result<DriftRun, DriftError> {
    let fleet = open_cluster(&request.repo, &request.cluster)?;
    let desired = desired_side(&request.repo, &request.cluster, &fleet, notify)?;
    let cloud_parts = cloud
        .map(|c| {
            // Only VPSie and KubeVirt read the Kubernetes source (and need its namespace).
            let namespace = if c.vpsie.is_some() || c.kubevirt.is_some() {
                default_namespace(request)?
            } else {
                "default".to_owned()
            };
            let objects = cloud_desired(&desired, &namespace)?;
            let run = clouds::Run {
                desired: &objects,
                live: &request.source,
                now_epoch: request.now_epoch,
                stack_bytes: request.stack_bytes,
                notify,
            };
            clouds::run(c, &run)
        })
        .transpose()?;
    if let (Some(parts), true) = (&cloud_parts, cloud.is_some_and(|c| c.only)) {
        let report = Report::new(
            &request.cluster,
            report::rfc3339(request.now_epoch),
            request.mode,
            report::NO_KUBERNETES_SOURCE,
            Vec::new(),
            Vec::new(),
        );
        let report = parts.clone().join(report).redacted(Redactor::shared());
        return Ok(DriftRun { report });
    }
    let prefix = fleet.settings.annotation_prefix.clone();
    let policy = Policy::new(
        &fleet.settings.drift.gitops_managers,
        &fleet.settings.drift.drift_managers,
    );

    let (objects, hardware) = match &request.source {
        LiveSource::Snapshot {
            path,
            max_file_bytes,
            allow_empty,
        } => {
            let options = snapshot::ReadOptions {
                max_file_bytes: *max_file_bytes,
                allow_empty: *allow_empty,
            };
            let in_snapshot = |source| DriftError::Snapshot {
                path: path.display().to_string(),
                source: Box::new(source),
            };
            let snapshot::CompactSnapshot { mut live, files } =
                snapshot::read_compact(path, &options).map_err(in_snapshot)?;
            for file in &files {
                notify(Notice::Detail(file_line(file)));
            }
            notify(Notice::Detail(format!(
                "read {} live objects from the snapshot `{}`",
                live.objects.len(),
                path.display()
            )));
            let against = Against {
                namespace: request.namespace.as_deref(),
                prefix: &prefix,
                cluster: &request.cluster,
                policy: &policy,
            };
            let objects = against.compare(&desired, &mut live, &in_snapshot)?;
            (objects, Vec::new())
        }
        LiveSource::Cluster(options) => {
            let committed = fleet.prepare(&request.cluster)?.inventory;
            let cluster = Cluster {
                request,
                prefix: &prefix,
                policy: &policy,
                committed: committed.as_ref(),
            };
            cluster.compare(options, &mut desired.all()?, notify)?
        }
    };

    let report = Report::new(
        &request.cluster,
        report::rfc3339(request.now_epoch),
        request.mode,
        request.source.name(),
        objects,
        hardware,
    );
    let report = cloud_parts
        .unwrap_or_default()
        .join(report)
        .redacted(Redactor::shared());
    Ok(DriftRun { report })
}

/// Where namespaced objects rendered without a namespace go, as the Kubernetes comparison
/// places them: `--namespace`, else the context's namespace (a cluster), else `default`.
fn default_namespace(request: &DriftRequest) -> Result<String, DriftError> {
    if let Some(ns) = &request.namespace {
        return Ok(ns.clone());
    }
    let LiveSource::Cluster(options) = &request.source else {
        return Ok("default".to_owned());
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DriftError::Runtime)?;
    runtime.block_on(async {
        Ok(ClusterLive::connect(options)
            .await?
            .default_namespace()
            .to_owned())
    })
}

/// What cloud drift reads of the desired side: every object's outline (its key and
/// namespace), with the value of the kinds it compares (`MachineClass`, `NodeGroup`,
/// `VirtualMachine`) read; a `NodeGroup` or `VirtualMachine` rendered without a namespace goes
/// to `namespace` (its index and its `metadata`).
fn cloud_desired(desired: &Desired, namespace: &str) -> Result<Vec<DesiredObject>, DriftError> {
    let mut objects = desired.outlines();
    for (i, object) in objects.iter_mut().enumerate() {
        let kind = object.index.kind.clone();
        if !matches!(
            kind.as_str(),
            "MachineClass" | "NodeGroup" | "VirtualMachine"
        ) {
            continue;
        }
        if let Some(loaded) = desired.load(i..i + 1)?.pop() {
            *object = loaded;
        }
        if kind != "MachineClass" && object.index.namespace.is_none() {
            object.index.namespace = Some(namespace.to_owned());
            if let Some(meta) = object
                .value
                .get_mut("metadata")
                .and_then(Value::as_object_mut)
            {
                meta.insert("namespace".to_owned(), Value::from(namespace));
            }
        }
    }
    Ok(objects)
}

/// The repository at `repo` opened, with `cluster` one of its clusters.
///
/// # Errors
/// The repository cannot be opened, or has no cluster `cluster`
/// ([`DriftError::UnknownCluster`]).
pub fn open_cluster(repo: &Path, cluster: &str) -> Result<Fleet, DriftError> {
    let source = Source::dir(repo).map_err(|source| DriftError::Repository {
        path: repo.display().to_string(),
        source: Box::new(source),
    })?;
    let fleet = Fleet::open(source)?;
    let known = fleet.cluster_names()?;
    if !known.contains(&cluster.to_owned()) {
        return Err(DriftError::UnknownCluster {
            cluster: cluster.to_owned(),
            known,
        });
    }
    Ok(fleet)
}

/// The desired state of `cluster` (of `fleet`, opened from `repo`), every object read: the
/// committed rendered folder when there is one (warning when its inputs changed since), else
/// an in-memory render. What `apply` and `rbac` work from.
///
/// # Errors
/// The committed folder or the repository's inputs cannot be read or rendered.
pub fn load_desired(
    repo: &Path,
    cluster: &str,
    fleet: &Fleet,
    notify: &dyn Fn(Notice),
) -> Result<Vec<DesiredObject>, DriftError> {
    desired_side(repo, cluster, fleet, notify)?.all()
}

/// The committed rendered folder when there is one (warning when its inputs changed since),
/// its objects read when compared; else an in-memory render.
fn desired_side(
    repo: &Path,
    cluster: &str,
    fleet: &Fleet,
    notify: &dyn Fn(Notice),
) -> Result<Desired, DriftError> {
    let folder = repo.join(&fleet.settings.paths.output).join(cluster);
    if folder.join(index::FILE).is_file() {
        let (idx, objects) = desired::Folder::open(&folder)?;
        let prepared = fleet.prepare(cluster)?;
        if prepared.input_digest != idx.input_digest {
            notify(Notice::Warning(format!(
                "the committed output of cluster `{cluster}` is older than its inputs; comparing the committed manifests (run `plinth render` to refresh them)"
            )));
        }
        notify(Notice::Detail(format!(
            "desired state: {} objects from `{}`",
            objects.len(),
            display_rel(repo, &folder)
        )));
        return Ok(Desired::Folder(objects));
    }
    notify(Notice::Status(format!(
        "no committed output for cluster `{cluster}`; rendering it in memory"
    )));
    let rendered = fleet.render_cluster(cluster)?;
    Ok(Desired::Rendered(desired::from_rendered(
        &rendered,
        &fleet.settings,
    )))
}

/// The desired side of a run: a committed rendered folder, whose objects are read a part at a
/// time, or the objects of an in-memory render.
enum Desired {
    Folder(desired::Folder),
    Rendered(Vec<DesiredObject>),
}

impl Desired {
    fn len(&self) -> usize {
        match self {
            Self::Folder(folder) => folder.len(),
            Self::Rendered(objects) => objects.len(),
        }
    }

    /// The objects in `range`, in order.
    fn load(&self, range: Range<usize>) -> Result<Vec<DesiredObject>, DriftError> {
        match self {
            Self::Folder(folder) => folder.load(range),
            Self::Rendered(objects) => Ok(objects[range].to_vec()),
        }
    }

    /// Every object.
    fn all(self) -> Result<Vec<DesiredObject>, DriftError> {
        match self {
            Self::Folder(folder) => folder.load(0..folder.len()),
            Self::Rendered(objects) => Ok(objects),
        }
    }

    /// Every object's index entry with a `null` value (keys, kinds and namespaces only).
    fn outlines(&self) -> Vec<DesiredObject> {
        match self {
            Self::Folder(folder) => folder.outlines(),
            Self::Rendered(objects) => objects
                .iter()
                .map(|d| DesiredObject {
                    index: d.index.clone(),
                    value: Value::Null,
                })
                .collect(),
        }
    }
}

/// Desired objects compared with a snapshot at a time: the objects of one part and their live
/// copies are parsed, compared and dropped before the next part is read.
const SNAPSHOT_PART: usize = 256;

/// What a snapshot is compared in, besides the two sides.
struct Against<'a> {
    /// Where namespaced objects rendered without a namespace go (else `default`).
    namespace: Option<&'a str>,
    /// The annotation prefix of the override annotations.
    prefix: &'a str,
    /// The cluster, whose labelled objects that are not rendered are orphans.
    cluster: &'a str,
    /// Who is who among the field managers.
    policy: &'a Policy,
}

impl Against<'_> {
    /// Compares the desired side with a snapshot held compactly: places the desired objects
    /// (namespace defaulting, [`Placement::from_keys`] of the snapshot), counts their kinds and
    /// namespaces as listed, then runs the client-side pipeline [`SNAPSHOT_PART`] objects at a
    /// time (neither side is ever held whole as values), and looks for orphans among the live
    /// objects that are not rendered. `in_snapshot` wraps an error of a live object.
    fn compare(
        &self,
        desired: &Desired,
        live: &mut CompactLive,
        in_snapshot: &dyn Fn(DriftError) -> DriftError,
    ) -> Result<Vec<ObjectResult>, DriftError> {
        let placement = Placement::from_keys(live.objects.keys(), self.namespace);
        let mut outlines = desired.outlines();
        placement.place(&mut outlines);
        live.listed
            .extend(desired::kinds(&outlines).iter().map(KindRef::listing));
        let unparsable = |error| in_snapshot(snapshot::unparsable(&error));
        let mut results = Vec::with_capacity(outlines.len() + 1);
        let mut start = 0;
        while start < desired.len() {
            let end = (start + SNAPSHOT_PART).min(desired.len());
            let mut part = desired.load(start..end)?;
            placement.place(&mut part);
            let keys: Vec<ObjectRef> = part.iter().map(DesiredObject::key).collect();
            let part_live = live.live_set(&keys).map_err(unparsable)?;
            // Every live object of the part is rendered: no orphan is found among them.
            results.extend(pipeline::run_client_side_with(
                &part,
                &part_live,
                self.prefix,
                self.cluster,
                self.policy,
            ));
            // Freeing a tree of maps takes about as long as building it: on every core too.
            rayon::join(
                || part.into_par_iter().for_each(drop),
                || part_live.objects.into_par_iter().for_each(drop),
            );
            start = end;
        }
        // Orphans are among the live objects not rendered: those carrying plinth's managed-by
        // label (its text is in theirs), and Services, which tell whether an Endpoints object
        // is a Service's.
        let rendered: BTreeSet<ObjectRef> = outlines.iter().map(DesiredObject::key).collect();
        let label = format!("{LABEL_MANAGED_BY:?}:{MANAGED_BY_PLINTH:?}");
        let others = live.objects.iter().filter(|(key, text)| {
            !rendered.contains(*key)
                && (text.contains(&label) || (key.group.is_empty() && key.kind == "Service"))
        });
        let others = live
            .live_set(others.map(|(key, _)| key))
            .map_err(unparsable)?;
        results.extend(pipeline::orphans(&outlines, &others, self.cluster));
        Ok(results)
    }
}

/// What one snapshot file held, for `-v`: `` snapshot file `a.yaml`: 3 objects ``, and how
/// many of them were identical copies of objects read before (kept once).
fn file_line(file: &snapshot::FileRead) -> String {
    let plural = if file.objects == 1 { "" } else { "s" };
    let copies = match file.copies {
        0 => String::new(),
        n => format!(" ({n} of them already read, identical, kept once)"),
    };
    format!(
        "snapshot file `{}`: {} object{plural}{copies}",
        file.path.display(),
        file.objects
    )
}

fn display_rel(base: &Path, path: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The comparison against a live cluster: what it needs besides the connection.
struct Cluster<'a> {
    request: &'a DriftRequest,
    /// The annotation prefix of the override annotations.
    prefix: &'a str,
    /// Who is who among the field managers.
    policy: &'a Policy,
    /// The cluster's committed hardware inventory, when it has one.
    committed: Option<&'a Inventory>,
}

impl Cluster<'_> {
    /// Reads live state from the cluster (after placing the desired objects: namespaced ones
    /// without a namespace go to the request's namespace, else the context's), runs the pipeline
    /// (server-side dry-run per object in server mode) and, when the cluster has a committed
    /// inventory, compares its hardware.
    fn compare(
        &self,
        options: &ConnectOptions,
        desired: &mut [DesiredObject],
        notify: &dyn Fn(Notice),
    ) -> Result<(Vec<ObjectResult>, Vec<HardwareDrift>), DriftError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_stack_size(self.request.stack_bytes)
            .enable_all()
            .build()
            .map_err(DriftError::Runtime)?;
        runtime.block_on(async {
            let live_cluster = ClusterLive::connect(options).await?;
            let live = read_live(&live_cluster, desired, self.request, notify).await?;
            let desired = &*desired;
            // One dry-run per object in server mode: at most DRY_RUN_CONCURRENCY in flight,
            // results kept in order.
            let evaluations = pipeline::evaluate(desired, &live, self.prefix);
            let client = &live_cluster;
            let mode = self.request.mode;
            let policy = self.policy;
            let prefix = self.prefix;
            let total = evaluations.len();
            let mut done = 0;
            let mut results: Vec<ObjectResult> = stream::iter(evaluations)
                .map(|eval| async move { compare_one(client, eval, mode, policy, prefix).await })
                .buffered(DRY_RUN_CONCURRENCY)
                .inspect(|_| {
                    done += 1;
                    notify(Notice::Progress(Progress {
                        task: Task::Compare,
                        done,
                        total,
                    }));
                })
                .collect()
                .await;
            results.extend(pipeline::orphans(desired, &live, &self.request.cluster));
            let hardware = match self.committed {
                Some(inventory) => {
                    let nodes = live_cluster.nodes().await?;
                    let live_inventory = discover::inventory_from_nodes(&nodes);
                    discover::hardware_drift(inventory, &live_inventory)
                }
                None => Vec::new(),
            };
            Ok((results, hardware))
        })
    }
}

/// Reads the live state of `desired` from a connected cluster: places the desired objects
/// (namespaced ones without a namespace go to the request's namespace, else the context's),
/// then LISTs every rendered kind and plinth's orphans (warnings are notified). What `drift`
/// and `apply` read.
///
/// # Errors
/// Discovery or a LIST of a rendered kind fails.
pub async fn read_live(
    cluster: &ClusterLive,
    desired: &mut [DesiredObject],
    request: &DriftRequest,
    notify: &dyn Fn(Notice),
) -> Result<LiveSet, DriftError> {
    cluster
        .placement(desired, request.namespace.as_deref())
        .await?
        .place(desired);
    let wanted = desired::kinds(desired);
    let kinds = |done| {
        Notice::Progress(Progress {
            task: Task::ReadKinds,
            done,
            total: wanted.len(),
        })
    };
    notify(kinds(0));
    let live: LiveSet = cluster.fetch(&wanted, &request.cluster).await?;
    notify(kinds(wanted.len()));
    for warning in &live.warnings {
        notify(Notice::Warning(warning.clone()));
    }
    tracing::info!(
        kinds = wanted.len(),
        objects = live.objects.len(),
        unserved = live.unserved.len(),
        warnings = live.warnings.len(),
        "kinds listed"
    );
    notify(Notice::Detail(format!(
        "read {} live objects from the cluster",
        live.objects.len()
    )));
    Ok(live)
}

/// Compares one evaluated object: client-side in plinth, or through a server-side apply
/// dry-run; a failed dry-run makes the object `error`, never `in-sync`.
async fn compare_one(
    client: &ClusterLive,
    mut eval: Evaluation,
    mode: Mode,
    policy: &Policy,
    prefix: &str,
) -> ObjectResult {
    let found = match (&eval.outcome, mode) {
        (
            Step::Compare {
                effective_desired,
                live,
            },
            Mode::Client,
        ) => compare_client(effective_desired, live, &eval.key.kind, policy),
        (
            Step::Compare {
                effective_desired,
                live,
            },
            Mode::Server,
        ) => match client.dry_run_apply(effective_desired).await {
            Ok(dry_run) => {
                // What the server keeps of plinth's own annotations is left out as it is
                // from live (the evaluation's live object no longer holds them).
                let dry_run = without_own_annotations(&dry_run, effective_desired, prefix);
                compare_server(&dry_run, effective_desired, live, &eval.key.kind, policy)
            }
            Err(err) => {
                eval.outcome = Step::Final(report::Status::Error);
                eval.notes
                    .push(format!("server-side apply dry-run failed: {}", chain(&err)));
                Comparison::default()
            }
        },
        (Step::Final(_), _) => Comparison::default(),
    };
    eval.finish(found)
}

/// The decoded value of `key` of the Secret `namespace/name` in the cluster `options` reach
/// (`None`: no such Secret or key): the in-cluster credentials of cloud drift.
///
/// # Errors
/// The cluster cannot be reached, or refuses the read (the error never holds the value).
pub fn secret_value(
    options: &ConnectOptions,
    namespace: &str,
    name: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, DriftError> {
    Ok(secret_values(options, namespace, name, &[key])?.and_then(|mut v| v.remove(key)))
}

/// The decoded values of `keys` of the Secret `namespace/name` in the cluster `options` reach,
/// read with one `GET` (`None`: no such Secret; a key it lacks is left out).
///
/// # Errors
/// The cluster cannot be reached, or refuses the read (the error never holds a value).
pub fn secret_values(
    options: &ConnectOptions,
    namespace: &str,
    name: &str,
    keys: &[&str],
) -> Result<Option<std::collections::BTreeMap<String, Vec<u8>>>, DriftError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DriftError::Runtime)?;
    runtime.block_on(async {
        let cluster = ClusterLive::connect(options).await?;
        cluster.secret_values(namespace, name, keys).await
    })
}

/// The inventory of a live cluster, read from its Node objects (what `plinth discover` writes).
///
/// # Errors
/// The cluster cannot be reached or its Nodes cannot be read.
pub fn discover_inventory(options: &ConnectOptions) -> Result<Inventory, DriftError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(DriftError::Runtime)?;
    let nodes = runtime.block_on(async {
        let cluster = ClusterLive::connect(options).await?;
        cluster.nodes().await
    })?;
    Ok(discover::inventory_from_nodes(&nodes))
}
