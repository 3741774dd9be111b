//! Raw command-line arguments (clap). Commands turn them into settings once.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use plinth_drift::core::report::Format;

/// GitOps rendering pipeline and drift reporter for Kubernetes platforms that run virtual
/// machines.
#[derive(Debug, Parser)]
#[command(name = "plinth", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Default, Clone, Copy, Args)]
pub struct GlobalArgs {
    /// Print nothing but data and errors
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more detail on stderr (repeat for more)
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Format of the log lines on stderr: `text`, or `json` (one object per line, for
    /// in-cluster runs; default: `PLINTH_LOG_FORMAT`, else `text`)
    #[arg(long, value_enum, value_name = "FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
}

/// Formats of the log lines (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One line of text per event
    Text,
    /// One JSON object per line
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Render the fleet into one folder per cluster
    Render(RenderArgs),
    /// Show the asset catalog and, per cluster, which assets apply and why
    Catalog(CatalogArgs),
    /// Render in memory and check every object against the CRD schemas of a folder
    Validate(ValidateArgs),
    /// Preview what a change does to every cluster: objects, fields, disruptions
    Diff(DiffArgs),
    /// Write the rendered tree of a revision as a commit on a hydrated branch
    Commit(CommitArgs),
    /// Compare a cluster's rendered manifests with its live state and report drift
    Drift(DriftArgs),
    /// Write a cluster's hardware inventory from the live cluster's Node objects
    Discover(DiscoverArgs),
    /// Correct drift: server-side apply what is missing or drifted, throttled per object
    Apply(ApplyArgs),
    /// Write the least-privilege RBAC that `apply` and `drift` need on a cluster's rendered kinds
    Rbac(RbacArgs),
    /// Write the shell completion script for a shell to stdout
    Completions(CompletionsArgs),
    /// Write the man pages: `plinth.1` and one per command (the main page to stdout without
    /// --output-dir)
    Man(ManArgs),
    /// Gather the JSON reports of drift and apply runs of many clusters into one fleet view
    Report(FleetReportArgs),
}

/// Formats of `plinth diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    /// Text for a terminal (coloured on a TTY unless `NO_COLOR` is set)
    Terminal,
    /// Markdown for pull-request comments, split into parts that fit a GitHub comment
    Markdown,
    /// JSON (schema in docs/diff.md)
    Json,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The base revision (`origin/main`, a commit, `HEAD~1`)
    #[arg(long, value_name = "REV")]
    pub base: String,
    /// The head revision (default: the working tree)
    #[arg(long, value_name = "REV")]
    pub head: Option<String>,
    #[command(flatten)]
    pub repo: GitRepoArg,
    #[command(flatten)]
    pub clusters: ClustersArg,
    /// Output format
    #[arg(long, value_enum, default_value_t = DiffFormat::Terminal)]
    pub format: DiffFormat,
    /// Write the preview to files in this folder (one per Markdown part) instead of stdout
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
    #[command(flatten)]
    pub jobs: JobsArg,
}

#[derive(Debug, Args)]
pub struct CommitArgs {
    /// The hydrated branch to commit on (created when missing)
    #[arg(long, value_name = "NAME")]
    pub branch: String,
    /// The revision to render (default: `HEAD`, refused when the working tree is dirty)
    #[arg(long, value_name = "REV")]
    pub source: Option<String>,
    #[command(flatten)]
    pub repo: GitRepoArg,
    /// Hydrate `HEAD` even when tracked files have uncommitted changes (they are not included)
    #[arg(long)]
    pub allow_dirty: bool,
    /// The commit message's first lines (the `Plinth-Source` trailer is always added)
    #[arg(short, long, value_name = "TEXT")]
    pub message: Option<String>,
    #[command(flatten)]
    pub jobs: JobsArg,
}

/// Output format of listing commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub repo: RepoArg,
    #[command(flatten)]
    pub clusters: ClustersArg,
    /// Output folder (default: `paths.output` of plinth.yaml, `rendered`)
    #[arg(short, long, value_name = "DIR")]
    pub output: Option<PathBuf>,
    /// Write nothing; exit 1 listing stale, missing and extra files when the output is out of date
    #[arg(long)]
    pub check: bool,
    /// Print, per cluster, every asset's decision and the condition that made it
    #[arg(long)]
    pub explain: bool,
    /// Re-render clusters whose inputs have not changed since the last render
    #[arg(long)]
    pub force: bool,
    /// Render only shard I of N (`--shard 2/8`), for fleets split across CI jobs
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    #[command(flatten)]
    pub jobs: JobsArg,
    /// Validate every object against the CRDs in this folder before writing (default: the
    /// `schemas` setting of plinth.yaml, when set)
    #[arg(long, value_name = "DIR")]
    pub crds: Option<PathBuf>,
    /// Write one cluster's objects to stdout as one YAML stream, as `kubectl kustomize` builds
    /// its rendered folder, and nothing to disk (the Argo CD plugin; needs one `--cluster`)
    #[arg(long, conflicts_with_all = ["check", "output", "shard", "explain"])]
    pub stdout: bool,
}

#[derive(Debug, Args)]
pub struct CatalogArgs {
    #[command(flatten)]
    pub repo: RepoArg,
    /// Explain the decisions for these clusters (repeatable)
    #[arg(short, long = "cluster", value_name = "NAME")]
    pub clusters: Vec<String>,
    /// Output format
    #[arg(long, value_enum, default_value_t = ListFormat::Text)]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub repo: RepoArg,
    /// Folder of CRD files (default: the `schemas` setting of plinth.yaml)
    #[arg(long, value_name = "DIR")]
    pub crds: Option<PathBuf>,
    #[command(flatten)]
    pub clusters: ClustersArg,
    /// Fail (exit 2) when a rendered custom-resource kind has no CRD schema in the folder
    #[arg(long)]
    pub require_schemas: bool,
}

/// How `plinth drift` compares desired and live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriftMode {
    /// Subset comparison after normalisation, in plinth (default with `--snapshot`)
    Client,
    /// Server-side apply dry-run compared with live (default with a cluster)
    Server,
}

/// Parses `--format` of `plinth drift` into the report [`Format`] of that name.
fn drift_format() -> impl TypedValueParser<Value = Format> {
    PossibleValuesParser::new(Format::ALL.map(Format::name))
        .map(|name| Format::named(&name).expect("clap offers only the formats' names"))
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    #[command(flatten)]
    pub repo: RepoArg,
    /// The cluster to compare
    #[arg(short, long, value_name = "NAME")]
    pub cluster: String,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Comparison mode (default: client with --snapshot, server with a cluster)
    #[arg(long, value_enum)]
    pub mode: Option<DriftMode>,
    #[command(flatten)]
    pub reports: ReportArgs,
    #[command(flatten)]
    pub cloud: CloudArgs,
}

/// Cloud drift (`drift`): the cluster's STACKIT servers against its machine classes, its VPSie
/// VMs against its node groups and Nodes, and its KubeVirt VMs' run state.
#[derive(Debug, Args)]
pub struct CloudArgs {
    /// Also compare every cloud the cluster uses: STACKIT servers with its machine classes
    /// (`clouds.stackit`), VPSie VMs with its node groups and Nodes (`clouds.vpsie`), and its
    /// KubeVirt VMs' run state with their run strategy
    #[arg(long)]
    pub cloud: bool,
    /// Compare the clouds only, not the Kubernetes objects
    #[arg(long)]
    pub cloud_only: bool,
    /// Read the STACKIT servers from a file instead of the API: a `ListServers` response
    /// (`{"items": [...]}`) or a JSON list of them
    #[arg(long, value_name = "PATH")]
    pub cloud_snapshot: Option<PathBuf>,
    /// Read the VPSie VMs and node groups from a file instead of the API:
    /// `{"vms": <GET /vm response>, "nodeGroups": <node-group list response>}`
    #[arg(long, value_name = "PATH")]
    pub vpsie_snapshot: Option<PathBuf>,
    /// VPSie credentials from a file: YAML or JSON with `clientId` and `clientSecret` (or
    /// `token`) and optional `url`, or the autoscaler's Secret as `kubectl get -o yaml` writes it
    #[arg(long, value_name = "PATH")]
    pub vpsie_credentials: Option<PathBuf>,
    /// How long a VPSie VM may take to join as a Node before it is `failed-to-join`
    /// (`15m`, `900s`, `1h`; default: `clouds.vpsie.discoveryTimeout`, else 15m)
    #[arg(long, value_name = "DURATION")]
    pub discovery_timeout: Option<String>,
    /// Compare the run state of every KubeVirt VM in the namespaces plinth manages, not only
    /// the rendered ones
    #[arg(long)]
    pub all_vms: bool,
    /// Limit on every request to a cloud API, in seconds (default: `STACKIT_API_TIMEOUT`,
    /// else 30)
    #[arg(long, value_name = "SECS")]
    pub cloud_timeout: Option<u64>,
}

/// Where live state comes from: a snapshot, or the cluster (`drift`, `apply`).
#[derive(Debug, Args)]
pub struct LiveArgs {
    /// Read live state from files or folders as `kubectl get -o yaml` writes them
    #[arg(long, value_name = "PATH", conflicts_with_all = ["kubeconfig", "context"])]
    pub snapshot: Option<PathBuf>,
    /// Largest snapshot file read, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 256)]
    pub max_snapshot_file_mib: u64,
    /// Accept a snapshot holding no objects at all (every rendered object is then missing)
    #[arg(long, requires = "snapshot")]
    pub allow_empty: bool,
    #[command(flatten)]
    pub kubeconfig: KubeconfigArgs,
    /// Namespace of rendered namespaced objects that name none (default: the context's
    /// namespace with a cluster, `default` with a snapshot)
    #[arg(short, long, value_name = "NAME")]
    pub namespace: Option<String>,
    #[command(flatten)]
    pub requests: RequestArgs,
}

/// Report formats and where they go (`drift`, `apply`).
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// Report format; repeat with --output-dir to write several
    #[arg(long = "format", value_name = "FORMAT", value_parser = drift_format())]
    pub formats: Vec<Format>,
    /// Write each report format to a file in this folder instead of stdout
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub repo: RepoArg,
    /// The cluster to correct
    #[arg(short, long, value_name = "NAME")]
    pub cluster: String,
    #[command(flatten)]
    pub live: LiveArgs,
    /// Print the plan (what would be written, in which order, the throttle state, what is
    /// skipped and why) and write nothing; the only mode with --snapshot
    #[arg(long)]
    pub dry_run: bool,
    /// Take over live objects plinth did not create (no plinth labels, no `plinth` field
    /// manager)
    #[arg(long)]
    pub adopt: bool,
    /// Delete live objects with plinth's labels for the cluster that are no longer rendered
    #[arg(long)]
    pub prune: bool,
    /// With --prune: Namespaces too
    #[arg(long, requires = "prune")]
    pub prune_namespaces: bool,
    /// With --prune: CRDs too
    #[arg(long, requires = "prune")]
    pub prune_crds: bool,
    /// Take fields other field managers own instead of reporting the conflict
    #[arg(long)]
    pub force_conflicts: bool,
    /// Delete and create again an object whose apply an immutable field refused
    #[arg(long)]
    pub recreate: bool,
    /// Apply disruptive changes now, outside a maintenance window: node reboots
    /// (MachineConfig, KubeletConfig), server replacement (a MachineClass replacement key),
    /// VM re-provisioning (NodeGroup offering or image) and restarts (VirtualMachine template),
    /// platform-wide changes (HyperConverged). Without it they are `held` unless a window of
    /// `maintenanceWindows` (cluster.yaml, else plinth.yaml `apply:`) is open
    #[arg(long)]
    pub allow_disruption: bool,
    /// Namespace of the Events about cluster-scoped objects (`default` or `kube-system`)
    #[arg(long, value_name = "NAME", default_value = "default")]
    pub events_namespace: String,
    /// Longest wait for a CRD applied in this run to be served, in seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub crd_wait: u64,
    #[command(flatten)]
    pub reports: ReportArgs,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    #[command(flatten)]
    pub repo: RepoArg,
    /// The cluster whose inventory to write
    #[arg(short, long, value_name = "NAME")]
    pub cluster: String,
    #[command(flatten)]
    pub kubeconfig: KubeconfigArgs,
    /// Where to write the inventory, `-` for stdout (default: `clusters/<NAME>/inventory.yaml`)
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub requests: RequestArgs,
}

#[derive(Debug, Args)]
pub struct RbacArgs {
    #[command(flatten)]
    pub repo: RepoArg,
    /// The cluster whose rendered kinds the RBAC covers
    #[arg(short, long, value_name = "NAME")]
    pub cluster: String,
    /// Write the RBAC to this file (atomically) instead of stdout; `-` for stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// The service account the roles are bound to (also the name of every role and binding)
    #[arg(long, value_name = "NAME", default_value = "plinth")]
    pub service_account: String,
    /// The service account's namespace
    #[arg(long, value_name = "NAME", default_value = "plinth-system")]
    pub service_account_namespace: String,
    /// Namespace of rendered namespaced objects that name none (as `drift --namespace`);
    /// without it their kinds get cluster-wide rules
    #[arg(short, long, value_name = "NAME")]
    pub namespace: Option<String>,
    /// Allow deleting Namespaces, for `apply --prune --prune-namespaces`
    #[arg(long)]
    pub prune_namespaces: bool,
    /// Allow deleting CRDs, for `apply --prune --prune-crds`
    #[arg(long)]
    pub prune_crds: bool,
    /// Keep every rule in the cluster role, also for kinds whose objects all live in one
    /// namespace (drift and prune then look for their orphans in every namespace)
    #[arg(long)]
    pub cluster_role_only: bool,
    /// Also what `drift --cloud` reads in the cluster: Nodes, and the KubeVirt VMs and their
    /// instances in the namespaces plinth manages (the cloud credentials Secret is granted by
    /// name, by hand)
    #[arg(long)]
    pub cloud: bool,
    /// Folder of CRDs naming custom kinds (default: the `schemas` setting of plinth.yaml)
    #[arg(long, value_name = "DIR")]
    pub crds: Option<PathBuf>,
}

/// Bounds on a command's work with a live cluster, and the loopback test switch.
#[derive(Debug, Clone, Copy, Args)]
pub struct ClusterClientArgs {
    /// Overall limit on the command's work with the cluster, in seconds (requests, retries and
    /// waits for `Retry-After` included)
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub deadline: u64,
    /// Largest response body read from the cluster, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 128)]
    pub max_response_mib: u64,
    /// Most pages (of 500 objects) one LIST may take
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub max_pages: u32,
    /// Most kinds (and API group/versions) one run discovers and lists
    #[arg(long, value_name = "N", default_value_t = 2000)]
    pub max_kinds: usize,
    /// Accept a plain `http://` server in the kubeconfig when it is a loopback address
    /// (`127.0.0.0/8`, `::1`, `localhost`) — for tests against a local fake server only
    #[arg(long)]
    pub insecure_allow_http_loopback: bool,
}

/// The platform repository as a folder (`plinth render [REPO]`).
#[derive(Debug, Args)]
pub struct RepoArg {
    /// The platform repository (default: the current folder)
    #[arg(default_value = ".")]
    pub repo: PathBuf,
}

/// The platform repository inside a git repository (`--repo DIR`), for the commands that read
/// revisions.
#[derive(Debug, Args)]
pub struct GitRepoArg {
    /// The platform repository, inside a git repository (default: the current folder)
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub repo: PathBuf,
}

/// `--jobs N`.
#[derive(Debug, Clone, Copy, Args)]
pub struct JobsArg {
    /// Worker threads (default: one per core)
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
}

/// Where the live cluster's connection settings come from.
#[derive(Debug, Args)]
pub struct KubeconfigArgs {
    /// Kubeconfig file of the live cluster (default: `KUBECONFIG`, `~/.kube/config`, in-cluster)
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<PathBuf>,
    /// Kubeconfig context (default: the current context)
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
}

/// How requests to the live cluster are bounded and retried.
#[derive(Debug, Clone, Copy, Args)]
pub struct RequestArgs {
    /// Limit on every request to the cluster, in seconds
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    pub timeout: u64,
    /// Retries after a failed request (429, 5xx, timeouts)
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub retries: u32,
    #[command(flatten)]
    pub client: ClusterClientArgs,
}

/// `-c/--cluster NAME…`: the clusters a fleet-wide command works on.
#[derive(Debug, Args)]
pub struct ClustersArg {
    /// Only these clusters (repeatable; default: every cluster)
    #[arg(short, long = "cluster", value_name = "NAME")]
    pub clusters: Vec<String>,
}

/// The shells `plinth completions` writes a script for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
    Powershell,
    Elvish,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete in
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write `plinth.1` and one page per command (`plinth-render.1`, …) into this folder
    #[arg(long, value_name = "DIR")]
    pub output_dir: Option<PathBuf>,
}

/// Formats of `plinth report` on stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FleetFormat {
    /// One self-contained HTML page
    Html,
    /// A Markdown summary for an issue comment (at most 65,536 characters)
    Markdown,
}

#[derive(Debug, Args)]
pub struct FleetReportArgs {
    /// JSON reports of `plinth drift --format json` and `plinth apply --format json`
    #[arg(value_name = "FILES", required = true)]
    pub files: Vec<PathBuf>,
    /// Write `fleet.html` and `fleet.md` in this folder
    #[arg(long, value_name = "DIR", conflicts_with_all = ["html", "markdown", "format"])]
    pub output: Option<PathBuf>,
    /// Write the HTML page to this file
    #[arg(long, value_name = "FILE", conflicts_with = "format")]
    pub html: Option<PathBuf>,
    /// Write the Markdown summary to this file
    #[arg(long, value_name = "FILE", conflicts_with = "format")]
    pub markdown: Option<PathBuf>,
    /// What to print on stdout when no file is given
    #[arg(long, value_enum, default_value_t = FleetFormat::Html)]
    pub format: FleetFormat,
    /// The largest report read, in MiB
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub max_report_mib: u64,
}
