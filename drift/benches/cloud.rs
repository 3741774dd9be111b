//! Benchmark: cloud drift against the fake STACKIT API (issue 13). A repository whose cluster
//! renders 20 STACKIT `MachineClass`es is generated in a temporary folder; the test kit's fake
//! STACKIT API answers every request after 20 ms and serves N servers spread over the classes
//! (both label forms, a few drifted, stale, unhealthy and orphaned, a few not plinth's); the run
//! is [`engine::run_with_cloud`] with `--cloud-only`, the servers listed through the real
//! client (HTTPS with the fake's CA, a service-account key, so a token request too), as
//! `plinth drift --cloud-only` runs it. Per N it prints the requests by endpoint, the response
//! bytes, the wall time, the peak memory growth and the results by status, and asserts that
//! the planted statuses are found and that the requests do not grow with the servers.
//!
//! Each N runs in a child process (this binary again, `--servers N`), so its peak memory
//! (`VmHWM` of `/proc/self/status`, before and after the run) is its own.
//!
//! `cargo bench -p plinth-drift --bench cloud [-- N...]` (default 100 1000 5000)

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use plinth_cloud::SystemClock;
use plinth_cloud::http::{DEFAULT_MAX_BODY_BYTES, DEFAULT_RETRIES, DEFAULT_TIMEOUT, HttpConfig};
use plinth_cloud::stackit::{
    ApiVersion, Credentials, LabelForm, ServiceAccountKey, StackitClient, StackitConfig,
};
use plinth_cloud::tls::CaBundle;
use plinth_drift::core::cloud::ServerStatus;
use plinth_drift::engine::{self, CloudRequest, DriftRequest, LiveSource};
use plinth_drift::source::stackit::ServerSource;
use plinth_testkit::stackit::{FakeStackit, StackitScenario, TestKey};

/// The allocator of the `plinth` binary, so the figures are the binary's.
mod support;
use support::{kib_to_mib, peak_kib, write};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLUSTER: &str = "bench";
const PROJECT: &str = "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b0a";
const REGION: &str = "eu01";
const CLASSES: usize = 20;
const LATENCY: Duration = Duration::from_millis(20);
const IMAGE: &str = "2a0c9d1e-4b7f-4e36-9a51-8f3d6c2b7e10";
const NETWORK: &str = "6f1e2d3c-4b5a-4978-8c6d-5e4f3a2b1c0d";
/// The size of each server's `userData` (base64 of a cloud-init with the bootstrap token, as
/// machine-controller-manager writes it; the API returns it with `details=true`).
const USER_DATA_BYTES: usize = 4096;
/// The default servers per run.
const DEFAULT_SIZES: [usize; 3] = [100, 1_000, 5_000];

fn class_name(c: usize) -> String {
    format!("pool-{c:02}")
}

/// Every 50 servers: one drifted (a label the class sets changed), one stale (an older machine
/// type), one unhealthy (`ERROR`/`CRASHED`), one orphaned (a class no longer rendered), one not
/// plinth's (no machine labels: not listed); the rest in sync.
fn planted(i: usize) -> Option<ServerStatus> {
    match i % 50 {
        7 => Some(ServerStatus::Drifted),
        17 => Some(ServerStatus::Stale),
        27 => Some(ServerStatus::Unhealthy),
        37 => Some(ServerStatus::Orphaned),
        47 => None,
        _ => Some(ServerStatus::InSync),
    }
}

/// The `cluster.yaml` of a cluster with [`CLASSES`] STACKIT pools in `PROJECT` at `endpoint`.
fn cluster_yaml(endpoint: &str) -> String {
    let pools: Vec<Value> = (0..CLASSES)
        .map(|c| {
            json!({
                "name": class_name(c),
                "credentialsSecretRef": {"name": "stackit-credentials"},
                "providerSpec": {
                    "region": REGION,
                    "machineType": "c1.4",
                    "imageId": IMAGE,
                    "availabilityZone": "eu01-1",
                    "networking": {"networkId": NETWORK},
                    "labels": {"pool": class_name(c)},
                },
            })
        })
        .collect();
    let cluster = json!({
        "name": CLUSTER,
        "machineClasses": pools,
        "clouds": {"stackit": {"projectId": PROJECT, "region": REGION, "endpoint": endpoint}},
    });
    plinth_vocab::yaml::to_string(&cluster)
}

/// Server `i` as the API returns it with `details=true`.
fn server(i: usize, user_data: &str) -> Value {
    let status = planted(i);
    let class = match status {
        Some(ServerStatus::Orphaned) => "retired-pool".to_owned(),
        _ => class_name(i % CLASSES),
    };
    let name = format!("{class}-{i:05}");
    let form = if i.is_multiple_of(2) {
        LabelForm::Current
    } else {
        LabelForm::Legacy
    };
    let pool = match status {
        Some(ServerStatus::Drifted) => "changed-by-hand".to_owned(),
        _ => class.clone(),
    };
    let labels = match status {
        None => json!({"team": "bastion"}),
        _ => json!({"pool": pool, form.class_key(): class, form.machine_key(): name}),
    };
    let unhealthy = status == Some(ServerStatus::Unhealthy);
    json!({
        "id": format!("5e3c0001-1a2b-4c3d-8e4f-{i:012}"),
        "name": name,
        "machineType": if status == Some(ServerStatus::Stale) { "c1.2" } else { "c1.4" },
        "imageId": IMAGE,
        "availabilityZone": "eu01-1",
        "labels": labels,
        "bootVolume": {"id": format!("b0e10001-2c3d-4e5f-8a6b-{i:012}"), "deleteOnTermination": true},
        "volumes": [],
        "agent": {"provisioned": true},
        "nics": [{
            "nicId": format!("c1d20001-3e4f-4a5b-8c6d-{i:012}"),
            "networkId": NETWORK,
            "networkName": "workers",
            "ipv4": format!("10.20.{}.{}", i / 250, i % 250 + 2),
            "nicSecurity": true,
            "allowedAddresses": [],
            "securityGroups": ["9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"],
        }],
        "serviceAccountMails": [],
        "userData": user_data,
        "status": if unhealthy { "ERROR" } else { "ACTIVE" },
        "powerStatus": if unhealthy { "CRASHED" } else { "RUNNING" },
        "createdAt": "2026-10-01T08:00:00Z",
        "updatedAt": "2026-11-20T08:00:00Z",
    })
}

/// What one run measured, as the child prints it on its last line for the parent.
#[derive(Debug, PartialEq, Eq)]
struct Requests {
    token: usize,
    list: usize,
}

/// One run with `n` servers (in the child process): prints the figures, asserts the results,
/// and ends with a `requests token=T list=L` line.
fn run(n: usize) {
    let user_data = "I".repeat(USER_DATA_BYTES);
    // The body the fake sends is `{"items":[...]}` of every server (none filtered), and the
    // same without `userData`: counted server by server, so that no copy of the whole list
    // raises the peak memory before the run is measured.
    let (mut body_bytes, mut bare_bytes) = (r#"{"items":[]}"#.len(), r#"{"items":[]}"#.len());
    let mut scenario = StackitScenario::new(PROJECT, REGION).latency(LATENCY);
    for i in 0..n {
        let comma = usize::from(i > 0);
        body_bytes += comma + server(i, &user_data).to_string().len();
        bare_bytes += comma + server(i, "").to_string().len();
        scenario = scenario.server(server(i, &user_data));
    }
    let fake = FakeStackit::start(scenario).expect("the fake STACKIT API starts");

    let repo = tempfile::tempdir().expect("temp dir");
    write(repo.path(), "assets/metadata.yaml", "assets: []\n");
    write(
        repo.path(),
        &format!("clusters/{CLUSTER}/cluster.yaml"),
        &cluster_yaml(&fake.url()),
    );
    let source = api_source(repo.path(), &fake);
    let request = DriftRequest {
        repo: repo.path().to_path_buf(),
        cluster: CLUSTER.to_owned(),
        // Not read: `--cloud-only`.
        source: LiveSource::Snapshot {
            path: repo.path().join("live"),
            max_file_bytes: 1,
            allow_empty: false,
        },
        namespace: None,
        mode: plinth_drift::Mode::Client,
        now_epoch: 0,
        stack_bytes: 8 * 1024 * 1024,
    };
    let cloud = CloudRequest {
        servers: Some(source),
        only: true,
        ..CloudRequest::default()
    };

    let before = peak_kib();
    let t0 = Instant::now();
    let run = engine::run_with_cloud(&request, Some(&cloud), &|_| {}).expect("the drift run");
    let wall = t0.elapsed().as_secs_f64();
    let growth = peak_kib().saturating_sub(before);

    let report = run.report.cloud.expect("a cloud report");
    let count = |s: &ServerStatus| report.summary.get(s).copied().unwrap_or(0);
    let found: BTreeMap<ServerStatus, usize> =
        ServerStatus::ALL.iter().map(|s| (*s, count(s))).collect();
    let expected: BTreeMap<ServerStatus, usize> = ServerStatus::ALL
        .iter()
        .map(|s| (*s, (0..n).filter(|i| planted(*i) == Some(*s)).count()))
        .collect();
    let requests = Requests {
        token: fake.token_requests().len(),
        list: fake.list_requests().len(),
    };
    let failed = fake.requests().iter().filter(|r| r.status != 200).count();

    #[allow(clippy::cast_precision_loss)]
    let per_server = |bytes: usize| bytes as f64 / n.max(1) as f64;
    #[allow(
        clippy::cast_precision_loss,
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss
    )]
    let fit = |bytes: usize| (DEFAULT_MAX_BODY_BYTES as f64 / per_server(bytes)) as u64;
    let by_status: Vec<String> = ServerStatus::ALL
        .iter()
        .map(|s| format!("{s} {}", count(s)))
        .collect();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "cloud drift: {n} servers ({} plinth's) over {CLASSES} classes, {} ms latency",
        report.servers.len(),
        LATENCY.as_millis()
    );
    let _ = writeln!(
        out,
        "  requests           token {}, list {} ({failed} not 200)",
        requests.token, requests.list
    );
    let _ = writeln!(
        out,
        "  response bytes     {body_bytes} ({:.0} per server with {USER_DATA_BYTES} B of userData: {} fit in {} MiB; {:.0} without: {})",
        per_server(body_bytes),
        fit(body_bytes),
        DEFAULT_MAX_BODY_BYTES / (1024 * 1024),
        per_server(bare_bytes),
        fit(bare_bytes),
    );
    let _ = writeln!(out, "  wall time          {wall:>8.3} s");
    let _ = writeln!(
        out,
        "  peak memory growth {:>8.1} MiB (VmHWM {:.1} -> {:.1} MiB)",
        kib_to_mib(growth),
        kib_to_mib(before),
        kib_to_mib(before + growth)
    );
    let _ = writeln!(out, "  results            {}", by_status.join(", "));
    let _ = writeln!(
        out,
        "requests token={} list={}",
        requests.token, requests.list
    );
    drop(out);
    assert_eq!(found, expected, "the planted statuses are found");
    assert_eq!(failed, 0, "every request succeeded");
}

/// The API source as `plinth drift --cloud` builds it: project and region from the cluster's
/// `clouds.stackit`, the endpoint the fake's, the fake's CA as the CA bundle (as with
/// `SSL_CERT_FILE`), a service-account key, the default timeout, retries and body limit.
fn api_source(repo: &Path, fake: &FakeStackit) -> ServerSource {
    let fleet = engine::open_cluster(repo, CLUSTER).expect("the repository opens");
    let prepared = fleet.prepare(CLUSTER).expect("the cluster is read");
    let settings = prepared
        .cluster
        .spec
        .clouds
        .stackit
        .clone()
        .expect("clouds.stackit");
    let project_id = settings.project_id.expect("projectId");
    let region = settings.region.expect("region");
    let mut http = HttpConfig::default().with_timeout(DEFAULT_TIMEOUT);
    http.ca_bundle = fake.ca_pem().map(|pem| CaBundle {
        origin: "SSL_CERT_FILE".to_owned(),
        pem: pem.as_bytes().to_vec(),
    });
    let key_json = TestKey::primary().key_json(&fake.token_url(), true);
    let key = ServiceAccountKey::parse("key.json", key_json.as_bytes(), None).expect("key");
    let config = StackitConfig {
        project_id: project_id.clone(),
        region: region.clone(),
        endpoint: settings.endpoint.expect("endpoint"),
        api_version: ApiVersion::V2,
        http,
    };
    let client = StackitClient::new(
        config,
        Credentials::service_account_key(key, None),
        Arc::new(SystemClock),
    )
    .expect("the client is built");
    ServerSource::Api {
        client: Arc::new(client),
        deadline: DEFAULT_TIMEOUT.saturating_mul(DEFAULT_RETRIES + 1) + Duration::from_secs(30),
        project_id,
        region,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = args.iter().position(|a| a == "--servers") {
        let n = args
            .get(at + 1)
            .and_then(|a| a.parse().ok())
            .expect("--servers N");
        run(n);
        return;
    }
    let mut sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    if sizes.is_empty() {
        sizes = DEFAULT_SIZES.to_vec();
    }
    let exe = std::env::current_exe().expect("this benchmark");
    let mut seen = Vec::new();
    for n in sizes {
        let output = Command::new(&exe)
            .args(["--servers", &n.to_string()])
            .output()
            .expect("the child runs");
        let text = String::from_utf8_lossy(&output.stdout);
        let mut lines: Vec<&str> = text.lines().collect();
        let summary = lines.pop().unwrap_or("");
        let mut out = std::io::stdout().lock();
        for line in lines {
            let _ = writeln!(out, "{line}");
        }
        drop(out);
        assert!(
            output.status.success(),
            "the run with {n} servers failed: {}{summary}",
            String::from_utf8_lossy(&output.stderr)
        );
        let counts: Vec<usize> = summary
            .strip_prefix("requests token=")
            .map(|rest| {
                rest.split(" list=")
                    .filter_map(|v| v.parse().ok())
                    .collect()
            })
            .unwrap_or_default();
        let [token, list] = counts[..] else {
            panic!("the run with {n} servers printed no request counts: {summary}")
        };
        seen.push((n, Requests { token, list }));
    }
    for (n, requests) in &seen {
        assert_eq!(
            *requests,
            Requests { token: 1, list: 1 },
            "with {n} servers: one token request and one list request, whatever the servers"
        );
    }
}
