//! A drift of thousands of objects from one JSON snapshot file, as `kubectl get -o json`
//! writes it, through [`plinth_drift::engine::run`]: the live objects are held as compact text
//! and both sides are compared a part at a time, so the memory the run allocates at its peak
//! stays under three times the snapshot's size on disk (it was about ten times when every
//! object of both sides was held as a `serde_json::Value`), and the report is the one the
//! pipeline gives with every object of both sides in memory. A thread samples the process's
//! resident anonymous memory during the run (this binary holds this one test, so nothing else
//! allocates meanwhile; Linux only, where `/proc/self/status` tells it).

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

use plinth_drift::core::desired;
use plinth_drift::core::pipeline;
use plinth_drift::core::report::{self, Mode, Report, Status};
use plinth_drift::engine::{self, DriftRequest, LiveSource};
use plinth_drift::source::snapshot;
use plinth_vocab::redact::Redactor;

/// The process's resident anonymous memory (heap and stacks, not mapped files), in bytes.
fn rss_anon() -> usize {
    let status = fs_err::read_to_string("/proc/self/status").expect("test setup");
    status
        .lines()
        .find_map(|l| l.strip_prefix("RssAnon:"))
        .and_then(|v| v.trim().strip_suffix("kB"))
        .and_then(|v| v.trim().parse::<usize>().ok())
        .expect("RssAnon in /proc/self/status")
        * 1024
}

/// Runs `f` while a thread samples [`rss_anon`]; returns its answer and the highest sample.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let mut peak = rss_anon();
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_anon());
                std::thread::sleep(Duration::from_millis(1));
            }
            peak.max(rss_anon())
        })
    };
    let answer = f();
    done.store(true, Ordering::Relaxed);
    (answer, sampler.join().expect("the sampling thread"))
}

/// Objects rendered: more than a few parts of the engine's comparison.
const OBJECTS: usize = 6_000;
const CLUSTER: &str = "plain-west";
/// 2026-01-01T00:00:00Z.
const EPOCH: i64 = 1_767_225_600;

/// Rendered object `i`: a Deployment or a ConfigMap labelled as plinth's; every tenth has no
/// namespace (placed in `default`).
fn rendered(i: usize) -> Value {
    let labels = json!({
        "app.kubernetes.io/managed-by": "plinth",
        "plinth.dev/asset": "bulk",
        "plinth.dev/cluster": CLUSTER,
        "app": format!("app-{i}"),
    });
    let mut metadata = json!({"name": format!("obj-{i}"), "labels": labels});
    if !i.is_multiple_of(10) {
        metadata["namespace"] = json!(format!("ns-{}", i % 7));
    }
    if i.is_multiple_of(2) {
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": metadata,
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": format!("app-{i}")}},
                "template": {
                    "metadata": {"labels": {"app": format!("app-{i}")}},
                    "spec": {"containers": [{
                        "name": "app", "image": format!("registry.example.invalid/app:{i}"),
                        "ports": [{"name": "http", "containerPort": 8080}],
                        "env": [{"name": "LEVEL", "value": "info"}, {"name": "INDEX", "value": i.to_string()}],
                        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}}
                    }]}
                }
            }
        })
    } else {
        json!({
            "apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata,
            "data": {"config.yaml": format!("index: {i}\nlevel: info\n"), "mode": "fast"}
        })
    }
}

/// Object `i` as the API server returns it: server fields, a `managedFields` entry, defaults,
/// a Deployment's `status`; every hundredth changed by hand.
fn live(i: usize) -> Value {
    let mut o = rendered(i);
    let api_version = o["apiVersion"].clone();
    let meta = &mut o["metadata"];
    if meta.get("namespace").is_none() {
        meta["namespace"] = json!("default");
    }
    meta["uid"] = json!(format!("00000000-0000-0000-0000-{i:012}"));
    meta["resourceVersion"] = json!((10_000 + i).to_string());
    meta["creationTimestamp"] = json!("2026-11-29T10:00:00Z");
    meta["managedFields"] = json!([{
        "apiVersion": api_version, "fieldsType": "FieldsV1",
        "fieldsV1": {"f:metadata": {"f:labels": {"f:app": {}}}},
        "manager": "plinth", "operation": "Apply", "time": "2026-11-29T10:00:00Z"
    }]);
    if o["kind"] == "Deployment" {
        o["spec"]["strategy"] = json!({"type": "RollingUpdate"});
        o["status"] = json!({"replicas": 2, "readyReplicas": 2, "observedGeneration": 1});
        if i.is_multiple_of(100) {
            o["spec"]["replicas"] = json!(5);
        }
    }
    o
}

/// Copies the example repository into `to`.
fn copy_tree(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).expect("test setup");
    for entry in fs_err::read_dir(from).expect("test setup") {
        let entry = entry.expect("test setup");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("test setup").is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            fs_err::copy(entry.path(), target).expect("test setup");
        }
    }
}

/// The example repository with the rendered folder of `plain-west` replaced by [`OBJECTS`]
/// objects, and a JSON snapshot of them (plus an orphan), as `kubectl get -o json` indents it.
fn repository(dir: &Path) -> std::path::PathBuf {
    let repo = dir.join("repo");
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/fleet"),
        &repo,
    );
    let folder = repo.join("rendered").join(CLUSTER);
    let index_path = folder.join("plinth-index.json");
    let mut index: Value =
        serde_json::from_str(&fs_err::read_to_string(&index_path).expect("test setup"))
            .expect("the example index");
    fs_err::remove_dir_all(&folder).expect("test setup");
    fs_err::create_dir_all(&folder).expect("test setup");
    let mut entries = Vec::new();
    for i in 0..OBJECTS {
        let value = rendered(i);
        let file = format!("obj-{i}.yaml");
        fs_err::write(folder.join(&file), plinth_vocab::yaml::to_string(&value))
            .expect("test setup");
        let mut entry = json!({
            "file": file, "apiVersion": value["apiVersion"], "kind": value["kind"],
            "name": value["metadata"]["name"], "asset": "bulk", "wave": 0, "sha256": "0".repeat(64),
        });
        if let Some(ns) = value["metadata"].get("namespace") {
            entry["namespace"] = ns.clone();
        }
        entries.push(entry);
    }
    index["objects"] = Value::Array(entries);
    fs_err::write(
        &index_path,
        serde_json::to_string_pretty(&index).expect("test setup"),
    )
    .expect("test setup");
    // Written an item at a time, so that the test holds no more than the run it measures.
    let mut orphan = live(1);
    orphan["metadata"]["name"] = json!("obj-gone");
    let mut text = String::from("{\n    \"apiVersion\": \"v1\",\n    \"items\": [\n");
    for (n, item) in (0..OBJECTS).map(live).chain([orphan]).enumerate() {
        if n > 0 {
            text.push_str(",\n");
        }
        let pretty = serde_json::to_string_pretty(&item).expect("test setup");
        for line in pretty.lines() {
            text.push_str("        ");
            text.push_str(line);
            text.push('\n');
        }
        text.pop();
    }
    text.push_str(
        "\n    ],\n    \"kind\": \"List\",\n    \"metadata\": {\"resourceVersion\": \"\"}\n}\n",
    );
    fs_err::write(dir.join("live.json"), text).expect("test setup");
    repo
}

#[cfg(target_os = "linux")]
#[test]
fn a_large_json_snapshot_is_compared_in_parts_within_three_times_its_size() {
    let dir = tempfile::tempdir().expect("test setup");
    let repo = repository(dir.path());
    let snapshot_path = dir.path().join("live.json");
    let size = usize::try_from(fs_err::metadata(&snapshot_path).expect("test setup").len())
        .expect("test setup");
    let request = DriftRequest {
        repo: repo.clone(),
        cluster: CLUSTER.into(),
        source: LiveSource::Snapshot {
            path: snapshot_path.clone(),
            max_file_bytes: snapshot::DEFAULT_MAX_FILE_BYTES,
            allow_empty: false,
        },
        namespace: None,
        mode: Mode::Client,
        now_epoch: EPOCH,
        stack_bytes: 8 << 20,
    };
    let before = rss_anon();
    let (run, peak) = peak_during(|| engine::run(&request, &|_| {}).expect("the drift run"));
    let peak = peak.saturating_sub(before);
    eprintln!("peak growth {peak} bytes for a snapshot of {size} bytes");
    let objects = run.report.objects;

    // The same answer as the pipeline with both sides whole in memory.
    let (_, mut whole) =
        desired::from_folder(&repo.join("rendered").join(CLUSTER)).expect("test setup");
    let live = snapshot::load_for(&snapshot_path, &mut whole, None).expect("test setup");
    let expected = Report::new(
        CLUSTER,
        report::rfc3339(EPOCH),
        Mode::Client,
        "snapshot",
        pipeline::run_client_side(&whole, &live, "platform.kubevirt.io", CLUSTER),
        Vec::new(),
    )
    .redacted(Redactor::shared());
    assert!(objects == expected.objects, "the reports differ");
    let drifted: Vec<String> = objects
        .iter()
        .filter(|o| o.status == Status::Drifted)
        .map(|o| o.key.name.clone())
        .collect();
    assert_eq!(drifted.len(), OBJECTS / 100, "{drifted:?}");
    let orphaned: Vec<String> = objects
        .iter()
        .filter(|o| o.status == Status::Orphaned)
        .map(|o| o.key.to_string())
        .collect();
    assert_eq!(orphaned, ["ConfigMap/ns-1/obj-gone"]);
    assert_eq!(
        objects
            .iter()
            .filter(|o| o.status == Status::InSync)
            .count(),
        OBJECTS - OBJECTS / 100
    );
    assert!(
        peak < 3 * size,
        "the run grew by {peak} bytes of memory at its peak for a snapshot of {size} bytes"
    );
}
