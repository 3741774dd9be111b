//! Benchmark: VPSie and KubeVirt cloud drift (issue 14). A repository whose cluster renders
//! 10 VPSie node groups is generated in a temporary folder; the test kit's fake VPSie API serves
//! the VMs of those groups (plus a few of no group) over HTTPS with client credentials, and the
//! fake Kubernetes API server serves the cluster's Nodes, its live NodeGroups and the KubeVirt
//! VMs and their instances. The run is [`engine::run_with_cloud`] with `--cloud-only
//! --all-vms`, the VPSie VMs listed through the real client and the Kubernetes objects through
//! the real kube-rs client, as `plinth drift --cloud-only --all-vms` runs it. Per size it prints
//! the requests (VPSie by endpoint, Kubernetes LISTs), the wall time, the peak memory growth and
//! the results by status, and asserts the planted findings are found and that requests do not
//! grow with the VMs.
//!
//! Each size runs in a child process (this binary again, `--size VPSIE KUBEVIRT`), so its peak
//! memory (`VmHWM` of `/proc/self/status`, before and after the run) is its own.
//!
//! `cargo bench -p plinth-drift --bench machines` (sizes 500/2000, the issue's, and 2000/8000)

use std::io::Write as _;
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Value, json};

use plinth_cloud::Secret;
use plinth_cloud::SystemClock;
use plinth_cloud::http::{DEFAULT_TIMEOUT, HttpConfig};
use plinth_cloud::tls::CaBundle;
use plinth_cloud::vpsie::{AuthHeader, Credentials, VpsieClient, VpsieConfig};
use plinth_drift::core::kubevirt::RunStatus;
use plinth_drift::core::vpsie::VpsieStatus;
use plinth_drift::engine::{
    self, CloudRequest, DriftRequest, KubevirtRequest, LiveSource, VpsieRequest,
};
use plinth_drift::source::kube::ConnectOptions;
use plinth_drift::source::vpsie::VpsieSource;
use plinth_testkit::vpsie::{FakeVpsie, Route, VpsieScenario};
use plinth_testkit::{FakeApiServer, Scenario};

/// The allocator of the `plinth` binary, so the figures are the binary's.
mod support;
use support::{kib_to_mib, peak_kib, write};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLUSTER: &str = "bench";
const GROUPS: usize = 10;
const VPSIE_CLUSTER: &str = "k8s-bench";
const NAMESPACE: &str = "kube-system";
/// The run's clock: every VM was created a day before.
const NOW: i64 = 1_796_040_000;
const SIZES: [(usize, usize); 2] = [(500, 2_000), (2_000, 8_000)];

fn group_name(g: usize) -> String {
    format!("pool-{g:02}")
}

/// VPSie VM `i`: every 50th not running, every 50th (another) never joined; the others have a
/// Node with their address.
fn vm(i: usize) -> Value {
    let status = if i % 50 == 7 { "stopped" } else { "running" };
    json!({
        "id": 10_000 + i, "identifier": format!("7a0c0000-0000-4000-8000-{i:012}"),
        "hostname": format!("{}-{i:05}", group_name(i % GROUPS)), "status": status,
        "default_ip": format!("10.{}.{}.{}", 30 + i / 65_000, (i / 250) % 260, i % 250 + 2),
        "boxsize_id": 12, "datacenter_id": 3, "created_on": "2026-11-29T12:00:00Z",
    })
}

fn joins(i: usize) -> bool {
    i % 50 != 7 && i % 50 != 17
}

fn node(i: usize) -> Value {
    let name = format!("{}-{i:05}", group_name(i % GROUPS));
    let ip = vm(i)["default_ip"].clone();
    json!({"apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name, "creationTimestamp": "2026-11-29T12:03:00Z", "labels": {
            "autoscaler.vpsie.com/managed": "true",
            "autoscaler.vpsie.com/nodegroup": group_name(i % GROUPS),
            "autoscaler.vpsie.com/vpsienode": name}},
        "status": {"addresses": [{"type": "InternalIP", "address": ip}],
            "conditions": [{"type": "Ready", "status": "True"}]}})
}

/// KubeVirt VM `i` and its instance when it runs: every 40th `Always` but stopped (drifted),
/// every 40th (another) crash-looping (failed), the rest in sync.
fn kubevirt(i: usize) -> Vec<Value> {
    let name = format!("vm-{i:05}");
    let meta = json!({"name": name, "namespace": NAMESPACE});
    let (strategy, printable, vmi) = match i % 40 {
        3 => ("Always", "Stopped", false),
        13 => ("Always", "CrashLoopBackOff", false),
        n if n % 2 == 0 => ("Always", "Running", true),
        _ => ("Halted", "Stopped", false),
    };
    let mut out = vec![
        json!({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
        "metadata": meta, "spec": {"runStrategy": strategy},
        "status": {"printableStatus": printable}}),
    ];
    if vmi {
        out.push(
            json!({"apiVersion": "kubevirt.io/v1", "kind": "VirtualMachineInstance",
            "metadata": meta, "status": {"phase": "Running"}}),
        );
    }
    out
}

fn cluster_yaml() -> String {
    let groups: Vec<Value> = (0..GROUPS)
        .map(|g| {
            json!({"name": group_name(g), "minNodes": 1, "maxNodes": 100,
                "datacenterID": "dc-ams1", "resourceIdentifier": VPSIE_CLUSTER,
                "project": "bench", "offeringIDs": ["12"], "kubernetesVersion": "v1.31.4"})
        })
        .collect();
    plinth_vocab::yaml::to_string(&json!({"name": CLUSTER, "nodeGroups": groups}))
}

/// One run (in the child process): prints the figures and asserts the results.
fn run(vpsie_vms: usize, kubevirt_vms: usize) {
    let fake = FakeVpsie::start(
        VpsieScenario::new("bench-client", "bench&secret=1").with(|s| {
            // Tokens expire by the fake's clock; the client reads the real one.
            s.start = std::time::SystemTime::now();
            s.vms = (0..vpsie_vms).map(vm).collect();
            s.clusters.insert(
                VPSIE_CLUSTER.to_owned(),
                json!({"identifier": VPSIE_CLUSTER, "nodes": []}),
            );
            s.node_groups.insert(
                VPSIE_CLUSTER.to_owned(),
                (0..GROUPS)
                    .map(|g| json!({"id": g + 1, "group_name": group_name(g), "nodes_count": 0}))
                    .collect(),
            );
        }),
    )
    .expect("the fake VPSie API starts");
    let mut objects: Vec<Value> = (0..vpsie_vms).filter(|i| joins(*i)).map(node).collect();
    objects.extend((0..kubevirt_vms).flat_map(kubevirt));
    let cluster = FakeApiServer::start(Scenario::new().objects(objects)).expect("the fake API");

    let repo = tempfile::tempdir().expect("temp dir");
    write(repo.path(), "assets/metadata.yaml", "assets: []\n");
    write(
        repo.path(),
        &format!("clusters/{CLUSTER}/cluster.yaml"),
        &cluster_yaml(),
    );
    let mut http = HttpConfig::default().with_timeout(DEFAULT_TIMEOUT);
    http.ca_bundle = fake.ca_pem().map(|pem| CaBundle {
        origin: "SSL_CERT_FILE".to_owned(),
        pem: pem.as_bytes().to_vec(),
    });
    let client = VpsieClient::new(
        VpsieConfig {
            base_url: fake.url(),
            http,
            auth_header: AuthHeader::Bearer,
        },
        Credentials::client(Secret::new("bench-client"), Secret::new("bench&secret=1")),
        Arc::new(SystemClock),
    )
    .expect("the client is built");
    let options = ConnectOptions {
        kubeconfig: Some(cluster.kubeconfig_path().to_path_buf()),
        allow_http_loopback: true,
        ..ConnectOptions::default()
    };
    let request = DriftRequest {
        repo: repo.path().to_path_buf(),
        cluster: CLUSTER.to_owned(),
        source: LiveSource::Cluster(options),
        namespace: None,
        mode: plinth_drift::Mode::Client,
        now_epoch: NOW,
        stack_bytes: 8 * 1024 * 1024,
    };
    let cloud = CloudRequest {
        vpsie: Some(VpsieRequest {
            source: VpsieSource::Api {
                client: Arc::new(client),
                deadline: DEFAULT_TIMEOUT * 4,
                cluster_identifiers: vec![VPSIE_CLUSTER.to_owned()],
            },
            discovery_timeout_secs: 900,
        }),
        kubevirt: Some(KubevirtRequest { all_vms: true }),
        only: true,
        ..CloudRequest::default()
    };
    cluster.clear_log();
    let before = peak_kib();
    let t0 = Instant::now();
    let run = engine::run_with_cloud(&request, Some(&cloud), &|_| {}).expect("the drift run");
    let wall = t0.elapsed().as_secs_f64();
    let growth = peak_kib().saturating_sub(before);

    let vpsie = run.report.vpsie.expect("a VPSie report");
    let kube = run.report.kubevirt.expect("a KubeVirt report");
    let kube_requests = cluster.request_log();
    let lists = kube_requests
        .iter()
        .filter(|r| {
            r.method == "GET" && !r.path.starts_with("/api?") && r.path.matches('/').count() >= 3
        })
        .count();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "VPSie {vpsie_vms} VMs in {GROUPS} node groups, KubeVirt {kubevirt_vms} VMs"
    );
    let _ = writeln!(
        out,
        "  VPSie requests     token {}, VM list {}, node groups {}, cluster info {}",
        fake.requests_to(Route::Token).len(),
        fake.requests_to(Route::Vms).len(),
        fake.requests_to(Route::NodeGroups).len(),
        fake.requests_to(Route::ClusterInfo).len()
    );
    let _ = writeln!(
        out,
        "  Kubernetes         {} requests ({lists} LIST or discovery of a group)",
        kube_requests.len()
    );
    let _ = writeln!(out, "  wall time          {wall:>8.3} s");
    let _ = writeln!(
        out,
        "  peak memory growth {:>8.1} MiB (VmHWM {:.1} -> {:.1} MiB)",
        kib_to_mib(growth),
        kib_to_mib(before),
        kib_to_mib(before + growth)
    );
    let _ = writeln!(out, "  VPSie              {}", vpsie.summary_line());
    let _ = writeln!(out, "  KubeVirt           {}", kube.summary_line());
    drop(out);
    let count = |s: VpsieStatus| vpsie.summary.get(&s).copied().unwrap_or(0);
    assert_eq!(
        count(VpsieStatus::NotRunning),
        (0..vpsie_vms).filter(|i| i % 50 == 7).count()
    );
    assert_eq!(
        count(VpsieStatus::FailedToJoin),
        (0..vpsie_vms).filter(|i| i % 50 == 17).count()
    );
    let kcount = |s: RunStatus| kube.summary.get(&s).copied().unwrap_or(0);
    assert_eq!(
        kcount(RunStatus::Drifted),
        (0..kubevirt_vms).filter(|i| i % 40 == 3).count()
    );
    assert_eq!(
        kcount(RunStatus::Failed),
        (0..kubevirt_vms).filter(|i| i % 40 == 13).count()
    );
    assert_eq!(fake.requests_to(Route::Token).len(), 1);
    assert_eq!(fake.requests_to(Route::Vms).len(), 1);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--size") {
        let n = |k: usize| {
            args.get(i + k)
                .and_then(|a| a.parse().ok())
                .expect("--size VPSIE KUBEVIRT")
        };
        run(n(1), n(2));
        return;
    }
    let exe = std::env::current_exe().expect("this binary");
    for (vpsie, kubevirt) in SIZES {
        let status = Command::new(&exe)
            .args(["--size", &vpsie.to_string(), &kubevirt.to_string()])
            .status()
            .expect("the child runs");
        assert!(status.success(), "the run of {vpsie}/{kubevirt} failed");
    }
}
