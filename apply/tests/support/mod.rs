//! What the tests and the benchmark of `plinth apply` share: the example fleet's
//! `plain-west` in the fake API server, an apply request against it that retries fast (an
//! attempt limit under a second shortens the waits between attempts), and the stored state
//! of a reported object.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use plinth_apply::outcome::{ApplyReport, ObjectOutcome};
use plinth_apply::run::{self, ApplyError, ApplyRequest};
use plinth_drift::core::report::Mode;
use plinth_drift::engine::{DriftRequest, LiveSource};
use plinth_drift::source::kube::ConnectOptions;
use plinth_drift::source::snapshot;
use plinth_testkit::{FakeApiServer, Scenario};

/// 2026-01-01T00:00:00Z.
pub const EPOCH: i64 = 1_767_225_600;

/// The example fleet.
pub fn example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet")
}

/// The example snapshot of `plain-west`, as objects.
pub fn live_objects() -> Vec<Value> {
    snapshot::load(&example().join("live/plain-west"), &[])
        .expect("the snapshot")
        .objects
        .into_values()
        .collect()
}

/// A fake API server serving Events and `objects`, with `tweak` applied to the scenario.
pub fn server_with(objects: Vec<Value>, tweak: impl FnOnce(Scenario) -> Scenario) -> FakeApiServer {
    FakeApiServer::start(tweak(Scenario::new().serve_events().objects(objects))).expect("server")
}

/// An apply of `repo`'s `plain-west` against `server` at `now`, with `--force-conflicts`,
/// attempts of at most 200 ms (so retries wait about 50 ms) and 5 retries.
pub fn request(server: &FakeApiServer, repo: &Path, now: i64) -> ApplyRequest {
    request_for(server, repo, "plain-west", now)
}

/// [`request`] for `cluster` of `repo` (the benchmark's generated repository too).
pub fn request_for(server: &FakeApiServer, repo: &Path, cluster: &str, now: i64) -> ApplyRequest {
    ApplyRequest {
        drift: DriftRequest {
            repo: repo.to_path_buf(),
            cluster: cluster.into(),
            source: LiveSource::Cluster(ConnectOptions {
                kubeconfig: Some(server.kubeconfig_path().to_path_buf()),
                allow_http_loopback: true,
                timeout: Duration::from_millis(200),
                retries: 5,
                ..ConnectOptions::default()
            }),
            namespace: None,
            mode: Mode::Client,
            now_epoch: now,
            stack_bytes: 8 << 20,
        },
        dry_run: false,
        adopt: false,
        prune: false,
        prune_namespaces: false,
        prune_crds: false,
        force_conflicts: true,
        recreate: false,
        reporting_instance: "test".into(),
        events_namespace: "default".into(),
        crd_wait: Duration::from_secs(2),
        // The example's planted drift configures the HyperConverged and creates a
        // MachineConfig, both disruptive; the disruption gate has its own tests
        // (`tests/disruption.rs`).
        allow_disruption: true,
    }
}

/// Runs `request` on a plain thread (the run starts its own runtime).
pub fn try_apply(request: ApplyRequest) -> Result<ApplyReport, ApplyError> {
    std::thread::spawn(move || run::run(&request, &|_| {}).map(|r| r.report))
        .join()
        .expect("the apply thread")
}

/// The outcome of the object called `name` in `report`.
pub fn named<'a>(report: &'a ApplyReport, name: &str) -> &'a ObjectOutcome {
    let found = report.objects.iter().find(|o| o.key.name == name);
    found.unwrap_or_else(|| panic!("{name} not in {report:#?}"))
}

/// The object `o` names as the server stores it.
pub fn stored(server: &FakeApiServer, o: &ObjectOutcome) -> Option<Value> {
    server.get(
        &o.api_version,
        &o.key.kind,
        o.key.namespace.as_deref(),
        &o.key.name,
    )
}

/// The writes the server stored (accepted, not dry runs), as `METHOD path`.
pub fn stored_writes(server: &FakeApiServer) -> Vec<String> {
    server
        .writes()
        .iter()
        .filter(|w| !w.dry_run && w.request.status != 0 && w.stored())
        .map(|w| format!("{} {}", w.request.method, w.request.path))
        .collect()
}

/// The asset of every object [`repo_with`] renders.
pub const ASSET: &str = "lifecycle";

/// A repository whose committed `rendered/plain-west/` holds exactly `objects` (each with its
/// sync wave), rendered from asset [`ASSET`] (with plinth's labels, as `plinth render` writes
/// them), with the example fleet's `plinth.yaml` and a
/// bare cluster `plain-west`: a test states the rendered objects it needs and nothing else.
pub fn repo_with(objects: &[(Value, i64)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path();
    let settings = std::fs::read(example().join("plinth.yaml")).expect("plinth.yaml");
    plinth_testkit::git::write(root, "plinth.yaml", settings);
    plinth_testkit::git::write(
        root,
        "clusters/plain-west/cluster.yaml",
        "name: plain-west\n",
    );
    let entries: Vec<Value> = objects
        .iter()
        .enumerate()
        .map(|(i, (value, wave))| {
            let text = |p: &str| value.pointer(p).and_then(Value::as_str);
            let value = plinths(value.clone());
            let file = format!("object_{i:03}.yaml");
            plinth_testkit::git::write(
                root,
                &format!("rendered/plain-west/{file}"),
                serde_json::to_string_pretty(&value).expect("json") + "\n",
            );
            serde_json::json!({
                "file": file,
                "apiVersion": text("/apiVersion").expect("apiVersion"),
                "kind": text("/kind").expect("kind"),
                "namespace": text("/metadata/namespace"),
                "name": text("/metadata/name").expect("name"),
                "asset": ASSET,
                "wave": wave,
                "sha256": "0".repeat(64),
            })
        })
        .collect();
    let index = serde_json::json!({
        "schemaVersion": 1,
        "plinthVersion": "0.1.0",
        "cluster": "plain-west",
        "inputDigest": "sha256:unknown",
        "objects": entries,
        "assets": [],
    });
    plinth_testkit::git::write(
        root,
        "rendered/plain-west/plinth-index.json",
        serde_json::to_string_pretty(&index).expect("json") + "\n",
    );
    dir
}

/// `value`'s labels set to plinth's for `plain-west` and asset [`ASSET`]: a live object as
/// plinth applied it.
pub fn plinths(mut value: Value) -> Value {
    for (name, label) in [
        ("app.kubernetes.io/managed-by", "plinth"),
        ("plinth.dev/cluster", "plain-west"),
        ("plinth.dev/asset", ASSET),
    ] {
        value["metadata"]["labels"][name] = label.into();
    }
    value
}
