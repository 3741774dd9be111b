//! Benchmark: drift of 10,000 objects from a snapshot (DESIGN §9: under 1 s). Generates a
//! desired set and a `kubectl get -o yaml`-style snapshot of it (server fields, defaults,
//! reordered lists, quantities in other units, 1% real drift) in a temporary folder, then
//! times reading the snapshot, the pipeline and comparison, and the report in every format.
//!
//! `cargo bench -p plinth-drift --bench drift [-- OBJECTS] [--managed-fields] [--only LAYOUT]`

use std::io::Write as _;
use std::time::Instant;

use serde_json::{Value, json};

use plinth_drift::core::report::{Format, Mode, Report, rfc3339};
use plinth_drift::core::{desired, pipeline};
use plinth_drift::source::snapshot;
use plinth_vocab::redact::Redactor;

/// The allocator of the `plinth` binary, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const PREFIX: &str = "platform.kubevirt.io";
const CLUSTER: &str = "bench";

fn desired_object(i: usize) -> Value {
    let ns = format!("team-{:02}", i % 40);
    let labels = json!({
        "app.kubernetes.io/managed-by": "plinth",
        "plinth.dev/cluster": CLUSTER,
        "plinth.dev/asset": format!("asset-{}", i % 25),
        "app": format!("app-{i}"),
    });
    match i % 5 {
        0 => json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": format!("app-{i}"), "namespace": ns, "labels": labels},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": format!("app-{i}")}},
                "template": {"metadata": {"labels": {"app": format!("app-{i}")}}, "spec": {
                    "containers": [
                        {"name": "main", "image": format!("registry.example/app:{i}"),
                         "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                         "ports": [{"containerPort": 8080}, {"containerPort": 9090, "name": "metrics"}],
                         "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}},
                        {"name": "sidecar", "image": "registry.example/proxy:1"}
                    ],
                    "tolerations": [{"key": "dedicated", "operator": "Exists"}]
                }}
            }
        }),
        1 => json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": format!("cfg-{i}"), "namespace": ns, "labels": labels},
            "data": {"mode": "fast", "retries": "3", "endpoint": format!("https://svc-{i}.example")}
        }),
        2 => json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": format!("svc-{i}"), "namespace": ns, "labels": labels},
            "spec": {"selector": {"app": format!("app-{i}")}, "ports": [{"port": 80, "targetPort": 8080}, {"port": 9090, "name": "metrics"}]}
        }),
        3 => json!({
            "apiVersion": "kubevirt.io/v1", "kind": "VirtualMachine",
            "metadata": {"name": format!("vm-{i}"), "namespace": ns, "labels": labels},
            "spec": {"runStrategy": "Always", "template": {"spec": {
                "domain": {"memory": {"guest": "4Gi"}, "cpu": {"cores": 2},
                           "devices": {"disks": [{"name": "root", "disk": {"bus": "virtio"}}, {"name": "cloudinit", "disk": {"bus": "virtio"}}],
                                       "interfaces": [{"name": "default", "masquerade": {}}]}},
                "networks": [{"name": "default", "pod": {}}],
                "volumes": [{"name": "root", "dataVolume": {"name": format!("vm-{i}-root")}},
                            {"name": "cloudinit", "cloudInitNoCloud": {"userData": "#cloud-config\n"}}]
            }}}
        }),
        _ => json!({
            "apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
            "metadata": {"name": format!("rules-{i}"), "namespace": ns, "labels": labels},
            "spec": {"groups": [{"name": "g", "rules": [
                {"alert": "Down", "expr": format!("up{{job=\"app-{i}\"}} == 0"), "for": "5m"},
                {"record": "r", "expr": "sum(rate(x[5m]))"}
            ]}]}
        }),
    }
}

/// What the API server would return for `desired`: server metadata, status, defaults,
/// reordered lists, quantities in other units; every 100th object really drifted.
fn live_object(desired: &Value, i: usize) -> Value {
    let mut live = desired.clone();
    let meta = live["metadata"].as_object_mut().expect("metadata");
    meta.insert(
        "uid".into(),
        json!(format!("00000000-0000-0000-0000-{i:012}")),
    );
    meta.insert("resourceVersion".into(), json!(format!("{}", 100_000 + i)));
    meta.insert("creationTimestamp".into(), json!("2026-01-01T00:00:00Z"));
    meta.insert("managedFields".into(), json!([{"manager": "plinth", "operation": "Apply", "fieldsType": "FieldsV1", "fieldsV1": {"f:spec": {}}}]));
    match i % 5 {
        0 => {
            let spec = &mut live["spec"];
            spec["revisionHistoryLimit"] = json!(10);
            spec["strategy"] = json!({"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}});
            let pod = &mut spec["template"]["spec"];
            pod["dnsPolicy"] = json!("ClusterFirst");
            let containers = pod["containers"].as_array_mut().expect("containers");
            containers.reverse();
            let main = &mut containers[1];
            main["imagePullPolicy"] = json!("IfNotPresent");
            main["resources"]["requests"]["cpu"] = json!("0.25");
            main["resources"]["limits"] = json!({"cpu": 1, "memory": "1024Mi"});
            main["env"].as_array_mut().expect("env").reverse();
            if i.is_multiple_of(100) {
                main["image"] = json!("registry.example/app:drifted");
            }
            live["status"] = json!({"replicas": 2, "readyReplicas": 2});
        }
        1 if i % 100 == 1 => live["data"]["mode"] = json!("slow"),
        2 => {
            live["spec"]["clusterIP"] = json!("172.30.0.1");
            live["spec"]["type"] = json!("ClusterIP");
            let ports = live["spec"]["ports"].as_array_mut().expect("ports");
            ports.reverse();
            for p in ports {
                p["protocol"] = json!("TCP");
            }
        }
        3 => {
            live["spec"]["template"]["spec"]["domain"]["memory"]["guest"] = json!("4096Mi");
            live["spec"]["template"]["spec"]["domain"]["devices"]["disks"]
                .as_array_mut()
                .expect("disks")
                .reverse();
            live["status"] = json!({"printableStatus": "Running", "ready": true});
        }
        _ => {}
    }
    live
}

/// Snapshot layouts the bench reads: a `List` file per 500 objects in YAML and in JSON, one
/// `List` file per kind, and the whole snapshot as ONE YAML `List` file and ONE JSON file.
const LAYOUTS: [&str; 5] = ["yaml", "json", "kinds", "one-yaml", "one-json"];

/// A server-side apply `managedFields` entry naming every field of `live`, as the API server
/// writes one for each manager (`--managed-fields` puts two on every object).
fn managed_fields(live: &Value) -> Value {
    fn fields(v: &Value) -> Value {
        match v {
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (format!("f:{k}"), fields(v)))
                    .chain(std::iter::once((".".to_owned(), json!({}))))
                    .collect(),
            ),
            _ => json!({}),
        }
    }
    let entry = |manager: &str, op: &str| {
        json!({"manager": manager, "operation": op, "apiVersion": live["apiVersion"],
               "time": "2026-01-01T00:00:00Z", "fieldsType": "FieldsV1",
               "fieldsV1": fields(&json!({"metadata": live["metadata"]["labels"], "spec": live["spec"]}))})
    };
    json!([
        entry("plinth", "Apply"),
        entry("kube-controller-manager", "Update")
    ])
}

/// Writes a `List` of `items` to `path` in YAML or JSON.
fn write_list(path: &std::path::Path, items: &[Value], as_json: bool) {
    let list = json!({"apiVersion": "v1", "kind": "List", "metadata": {"resourceVersion": ""}, "items": items});
    let text = if as_json {
        serde_json::to_string_pretty(&list).expect("json")
    } else {
        plinth_vocab::yaml::to_string(&list)
    };
    fs_err::write(path, text).expect("write snapshot");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let n: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let managed = args.iter().any(|a| a == "--managed-fields");
    // `--only LAYOUT` reads one layout (for peak memory with `/usr/bin/time -v`).
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str);
    let values: Vec<Value> = (0..n).map(desired_object).collect();
    let desired = desired::from_values(values, "bench");
    let live_values: Vec<Value> = desired
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let mut live = live_object(&d.value, i);
            if managed {
                live["metadata"]["managedFields"] = managed_fields(&live);
            }
            live
        })
        .collect();
    let kinds = desired::kinds(&desired);
    let mut read = Vec::new();
    for layout in LAYOUTS.into_iter().filter(|l| only.is_none_or(|o| o == *l)) {
        let dir = tempfile::tempdir().expect("temp dir");
        match layout {
            "yaml" | "json" => {
                for (no, chunk) in live_values.chunks(500).enumerate() {
                    let file = dir.path().join(format!("live-{no:03}.{layout}"));
                    write_list(&file, chunk, layout == "json");
                }
            }
            "kinds" => {
                let mut by_kind: std::collections::BTreeMap<&str, Vec<Value>> =
                    std::collections::BTreeMap::new();
                for v in &live_values {
                    let kind = v["kind"].as_str().expect("kind");
                    by_kind.entry(kind).or_default().push(v.clone());
                }
                for (kind, items) in by_kind {
                    write_list(&dir.path().join(format!("{kind}.yaml")), &items, false);
                }
            }
            "one-yaml" => write_list(&dir.path().join("live.yaml"), &live_values, false),
            _ => write_list(&dir.path().join("live.json"), &live_values, true),
        }
        let bytes: u64 = std::fs::read_dir(dir.path())
            .expect("read dir")
            .map(|e| e.expect("entry").metadata().expect("metadata").len())
            .sum();
        let t0 = Instant::now();
        let live = snapshot::load(dir.path(), &kinds).expect("snapshot");
        read.push((layout, t0.elapsed().as_secs_f64(), bytes, live));
    }
    let live = &read[0].3;
    for (layout, _, _, other) in &read[1..] {
        assert_eq!(live, other, "the {layout} snapshot reads as the first one");
    }

    let t1 = Instant::now();
    let objects = pipeline::run_client_side(&desired, live, PREFIX, CLUSTER);
    let t_compare = t1.elapsed().as_secs_f64();

    let t2 = Instant::now();
    let report = Report::new(
        CLUSTER,
        rfc3339(0),
        Mode::Client,
        "snapshot",
        objects,
        Vec::new(),
    )
    .redacted(&Redactor::with_key(b"bench"));
    let mut bytes = 0;
    for f in Format::ALL {
        bytes += f.render(&report).len();
    }
    let t_report = t2.elapsed().as_secs_f64();

    let drifted = report.count(plinth_drift::Status::Drifted);
    #[allow(clippy::cast_precision_loss)]
    let rate = |secs: f64| n as f64 / secs;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "drift benchmark: {n} objects ({drifted} drifted), {} kinds x namespaces{}",
        kinds.len(),
        if managed { ", managedFields" } else { "" }
    );
    for (layout, secs, bytes, _) in &read {
        let _ = writeln!(
            out,
            "  read {layout:<13} {secs:>8.3} s  {:>10.0} objects/s  ({} MB)",
            rate(*secs),
            bytes / 1_000_000
        );
    }
    let _ = writeln!(
        out,
        "  overrides+compare  {t_compare:>8.3} s  {:>10.0} objects/s",
        rate(t_compare)
    );
    let _ = writeln!(
        out,
        "  report, 6 formats  {t_report:>8.3} s  ({bytes} bytes)"
    );
    for (layout, secs, _, _) in &read {
        let total = secs + t_compare + t_report;
        let _ = writeln!(
            out,
            "  total ({layout:<8})   {total:>8.3} s  {:>10.0} objects/s",
            rate(total)
        );
    }
    let expected = (0..n).filter(|i| i % 100 <= 1).count();
    assert_eq!(drifted, expected, "exactly the planted drift is found");
}
