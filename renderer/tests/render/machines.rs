//! Machine classes and node groups through the real render pipeline: one table-driven case per
//! validation rule (valid and invalid), overlay defaults, userData, replacement keys, index.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::BTreeMap;

use base64::Engine as _;

use plinth_renderer::output;
use plinth_renderer::{Fleet, RenderError, RenderedCluster, Source};
use serde_json::{Value, json};

const IMAGE: &str = "3f1c8a2e-5b6d-4e7f-8a9b-0c1d2e3f4a5b";
const NET: &str = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d";
const VOL: &str = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

/// A repository with an empty catalog (so only machine classes and node groups render), one
/// cluster `c1` and the given extra files.
fn repo(cluster: &Value, extra: &[(&str, &str)]) -> Source {
    let cluster = plinth_vocab::yaml::to_string(cluster);
    let base = [
        ("assets/metadata.yaml", "assets: []\n"),
        ("clusters/c1/cluster.yaml", cluster.as_str()),
    ];
    crate::common::repo(&[&base[..], extra].concat())
}

fn render(cluster: &Value, extra: &[(&str, &str)]) -> Result<RenderedCluster, RenderError> {
    let fleet = Fleet::open(repo(cluster, extra))?;
    fleet.render_cluster("c1")
}

fn base_pool() -> Value {
    json!({
        "name": "worker-a",
        "providerSpec": {
            "region": "eu01",
            "machineType": "c1.2",
            "imageId": IMAGE,
            "networking": {"networkId": NET},
            "securityGroups": ["k8s-workers"],
            "allowedAddresses": ["10.96.0.0/12"],
            "bootVolume": {"size": 50, "performanceClass": "storage_premium_perf2", "deleteOnTermination": true},
            "volumes": [VOL],
            "keypairName": "ops@example.org",
            "availabilityZone": "eu01-1",
            "affinityGroup": VOL,
            "serviceAccountMails": ["workers@compute.sa.stackit.cloud"],
            "agent": {"provisioned": true},
            "metadata": {"cost center": "4711", "team:owner": "platform"},
            "labels": {"pool": "worker-a"},
            "userData": "#cloud-config\npassword: hunter2\n",
        },
        "credentialsSecretRef": {"name": "stackit-credentials"},
        "nodeTemplate": {"capacity": {"cpu": 2, "memory": "4Gi", "gpu": "0"}},
    })
}

fn base_group() -> Value {
    json!({
        "name": "workers",
        "minNodes": 1,
        "maxNodes": 5,
        "datacenterID": "dc-fra1",
        "resourceIdentifier": "k8s-4711",
        "project": "prj-1",
        "offeringIDs": ["small-2cpu-4gb", "medium-4cpu-8gb"],
        "kubernetesVersion": "v1.31.2",
        "osImageID": "ubuntu-24.04",
        "preferredInstanceType": "small-2cpu-4gb",
        "allowMixedInstances": true,
        "labels": {"node-role.kubernetes.io/worker": ""},
        "taints": [{"key": "dedicated", "value": "vms", "effect": "NoSchedule"}],
        "scaleUpPolicy": {"enabled": true, "cpuThreshold": 80, "memoryThreshold": 80, "stabilizationWindowSeconds": 60},
        "scaleDownPolicy": {"enabled": true, "cpuThreshold": 50, "memoryThreshold": 50, "stabilizationWindowSeconds": 600, "cooldownSeconds": 600},
        "sshKeyIDs": ["key-1"],
        "tags": ["env=prod"],
        "notes": "managed by plinth",
    })
}

fn merged(base: Value, patch: &Value) -> Value {
    let mut v = base;
    json_patch::merge(&mut v, patch);
    v
}

/// The field paths of the problems located at `location`, or the error text when the render
/// failed some other way.
fn problem_fields(result: Result<RenderedCluster, RenderError>, location: &str) -> Vec<String> {
    match result {
        Ok(_) => Vec::new(),
        Err(RenderError::Problems(ps)) => ps
            .into_iter()
            .map(|p| {
                assert_eq!(
                    p.location, location,
                    "problem at an unexpected location: {p}"
                );
                p.field
            })
            .collect(),
        Err(other) => vec![format!("<not a problem list: {other}>")],
    }
}

/// One case of a rules table (`fixtures/*_rules.yaml`): a merge patch on the base pool and the
/// field path of the single problem it must cause (none for a valid pool).
#[derive(Debug, serde::Deserialize)]
struct RuleCase {
    case: String,
    patch: Value,
    problem: Option<String>,
}

/// Puts the values the fixtures name (`$IMAGE`, `$LONG_KEY`, ...) in place.
fn substitute(value: &mut Value) {
    match value {
        Value::String(s) if s.starts_with('$') => {
            *s = match s.as_str() {
                "$IMAGE" => IMAGE.to_owned(),
                "$IMAGE_UPPERCASE" => IMAGE.to_uppercase(),
                "$NET" => NET.to_owned(),
                "$VOL" => VOL.to_owned(),
                "$LONG_KEY" => "k".repeat(128),
                "$OK_KEY" => "k".repeat(127),
                "$LONG_META" => "v".repeat(256),
                other => panic!("unknown fixture value `{other}`"),
            };
        }
        Value::Array(items) => items.iter_mut().for_each(substitute),
        Value::Object(map) => map.values_mut().for_each(substitute),
        _ => {}
    }
}

/// Runs the rules table `fixture`: each case merges its patch into `base`, renders it as the
/// only entry of `list` in `cluster.yaml`, and expects the field path of its single problem
/// (or none).
fn assert_rules(fixture: &str, base: &Value, list: &str, kind: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/render/fixtures")
        .join(fixture);
    let text = fs_err::read_to_string(&path).unwrap();
    let cases: Vec<RuleCase> = serde_saphyr::from_str(&text).unwrap();
    assert!(!cases.is_empty(), "no cases in {fixture}");
    let total = cases.len();
    let mut failures = Vec::new();
    for RuleCase {
        case,
        mut patch,
        problem,
    } in cases
    {
        substitute(&mut patch);
        let pool = merged(base.clone(), &patch);
        let name = pool["name"].as_str().unwrap_or_default().to_owned();
        let cluster = json!({list: [pool]});
        let got = problem_fields(
            render(&cluster, &[]),
            &format!("cluster c1 / {kind} {name}"),
        );
        let want: Vec<String> = problem.into_iter().collect();
        if got != want {
            failures.push(format!("{case}: want {want:?}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        total,
        failures.join("\n")
    );
}

#[test]
fn machine_class_rules_table() {
    assert_rules(
        "machine_class_rules.yaml",
        &base_pool(),
        "machineClasses",
        "MachineClass",
    );
}

#[test]
fn node_group_rules_table() {
    assert_rules(
        "node_group_rules.yaml",
        &base_group(),
        "nodeGroups",
        "NodeGroup",
    );
}

#[test]
fn every_problem_of_every_pool_is_reported_at_once() {
    let bad_a = merged(
        base_pool(),
        &json!({"providerSpec": {"region": "EU", "machineType": null, "keypairName": "a b"}}),
    );
    let bad_b = merged(
        base_pool(),
        &json!({"name": "worker-b", "providerSpec": {"availabilityZone": "x"}}),
    );
    let bad_g = merged(base_group(), &json!({"maxNodes": 0}));
    let cluster = json!({"machineClasses": [bad_a, bad_b], "nodeGroups": [bad_g]});
    let Err(RenderError::Problems(problems)) = render(&cluster, &[]) else {
        panic!("expected problems");
    };
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "cluster c1 / MachineClass worker-a: `providerSpec.keypairName`: `a b` may only hold letters, digits and `@`, `.`, `_`, `-`",
            "cluster c1 / MachineClass worker-a: `providerSpec.machineType`: is required (e.g. `c1.2`)",
            "cluster c1 / MachineClass worker-a: `providerSpec.region`: `EU` must match `^[a-z0-9]+$` (e.g. `eu01`)",
            "cluster c1 / MachineClass worker-b: `providerSpec.availabilityZone`: `x` must look like `eu01-1` or `eu01-m` (`^[a-z0-9]+-(?:\\d+|m)$`)",
            "cluster c1 / NodeGroup workers: `maxNodes`: 0 must be 1 or more",
        ]
    );
    let text = RenderError::Problems(problems).to_string();
    assert!(text.starts_with("5 problems found:"), "{text}");
    assert!(
        !text.contains("hunter2"),
        "userData leaked into an error: {text}"
    );
}

#[test]
fn duplicate_pool_names_are_problems() {
    let cluster = json!({"machineClasses": [base_pool(), base_pool()]});
    let fields = problem_fields(render(&cluster, &[]), "cluster c1 / MachineClass worker-a");
    assert_eq!(fields, ["name"]);
}

#[test]
fn a_typo_in_a_pool_is_a_located_yaml_error() {
    let text = "machineClasses:\n  - name: w\n    providerSpec:\n      machineTyp: c1.2\n";
    let mut files = BTreeMap::new();
    files.insert("assets/metadata.yaml".to_owned(), b"assets: []\n".to_vec());
    files.insert(
        "clusters/c1/cluster.yaml".to_owned(),
        text.as_bytes().to_vec(),
    );
    let fleet = Fleet::open(Source::memory(files)).unwrap();
    let err = fleet.render_cluster("c1").unwrap_err().to_string();
    assert!(err.contains("clusters/c1/cluster.yaml"), "{err}");
    assert!(err.contains("machineTyp"), "{err}");
    assert!(err.contains("line 4"), "{err}");
}

fn object<'a>(rendered: &'a RenderedCluster, kind: &str, name: &str) -> &'a Value {
    &rendered
        .objects
        .iter()
        .find(|o| o.identity.kind == kind && o.identity.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
        .value
}

#[test]
fn user_data_lands_base64_in_the_secret_mcm_reads_and_never_in_the_class() {
    let pool = merged(
        base_pool(),
        &json!({"providerSpec": {"userData": null}, "userDataFile": "userdata/worker.yaml"}),
    );
    let cluster = json!({"machineClasses": [pool]});
    let cloud_init = "#cloud-config\nruncmd: [echo s3cr3t-token]\n";
    let rendered = render(
        &cluster,
        &[("clusters/c1/userdata/worker.yaml", cloud_init)],
    )
    .unwrap();
    let secret = object(&rendered, "Secret", "worker-a-userdata");
    let data = secret["data"]["userData"].as_str().unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    assert_eq!(decoded, cloud_init.as_bytes());
    assert_eq!(
        secret["metadata"]["namespace"],
        "machine-controller-manager"
    );
    let class = object(&rendered, "MachineClass", "worker-a");
    assert_eq!(class["provider"], "stackit");
    assert!(class["providerSpec"].get("userData").is_none());
    assert_eq!(
        class["secretRef"],
        json!({"name": "worker-a-userdata", "namespace": "machine-controller-manager"})
    );
    assert_eq!(
        class["credentialsSecretRef"],
        json!({"name": "stackit-credentials", "namespace": "machine-controller-manager"})
    );
    // The node template is completed from the providerSpec.
    assert_eq!(class["nodeTemplate"]["instanceType"], "c1.2");
    assert_eq!(class["nodeTemplate"]["region"], "eu01");
    assert_eq!(class["nodeTemplate"]["zone"], "eu01-1");
    // plinth's labels and the sync wave are stamped like on any object.
    assert_eq!(
        class["metadata"]["labels"]["plinth.dev/asset"],
        "machine-classes"
    );
    assert_eq!(
        class["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        "10"
    );
    // No output file carries the cloud-init in clear.
    let fleet = Fleet::open(repo(
        &cluster,
        &[("clusters/c1/userdata/worker.yaml", cloud_init)],
    ))
    .unwrap();
    let out = output::materialize(&rendered, &fleet.settings);
    for (file, bytes) in &out.files {
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("s3cr3t-token"),
            "{file} carries the userData in clear"
        );
    }
    // The userData file is an input: changing it changes the input digest.
    let prepared = fleet.prepare("c1").unwrap();
    let other = Fleet::open(repo(
        &cluster,
        &[("clusters/c1/userdata/worker.yaml", "#cloud-config\n")],
    ))
    .unwrap();
    assert_ne!(
        prepared.input_digest,
        other.prepare("c1").unwrap().input_digest
    );
}

#[test]
fn node_groups_carry_the_managed_label_and_every_field() {
    let cluster = json!({"nodeGroups": [base_group()]});
    let rendered = render(&cluster, &[]).unwrap();
    let g = object(&rendered, "NodeGroup", "workers");
    assert_eq!(g["apiVersion"], "autoscaler.vpsie.com/v1alpha1");
    assert_eq!(g["metadata"]["namespace"], "kube-system");
    assert_eq!(
        g["metadata"]["labels"]["autoscaler.vpsie.com/managed"],
        "true"
    );
    assert_eq!(g["spec"]["labels"]["autoscaler.vpsie.com/managed"], "true");
    assert_eq!(g["metadata"]["labels"]["plinth.dev/asset"], "node-groups");
    for field in [
        "minNodes",
        "maxNodes",
        "datacenterID",
        "resourceIdentifier",
        "project",
        "offeringIDs",
        "kubernetesVersion",
        "osImageID",
        "preferredInstanceType",
        "allowMixedInstances",
        "labels",
        "taints",
        "scaleUpPolicy",
        "scaleDownPolicy",
        "sshKeyIDs",
        "tags",
        "notes",
    ] {
        assert!(g["spec"].get(field).is_some(), "spec.{field} missing");
    }
    assert!(g["spec"].get("name").is_none());
}

#[test]
fn overlay_defaults_fill_pools_and_the_pool_wins() {
    // The built-in `stackit-eu01` overlay carries region, image, network, security groups.
    let cluster = json!({
        "overlays": ["stackit-eu01"],
        "machineClasses": [
            {"name": "small", "providerSpec": {"machineType": "c1.2"}},
            {"name": "big", "providerSpec": {"machineType": "g1a.8d", "securityGroups": ["gpu"],
                "bootVolume": {"size": 200}, "labels": {"pool": "big"}}},
        ],
    });
    let rendered = render(&cluster, &[]).unwrap();
    let small = object(&rendered, "MachineClass", "small");
    assert_eq!(small["providerSpec"]["region"], "eu01");
    assert_eq!(
        small["providerSpec"]["securityGroups"],
        json!(["k8s-workers"])
    );
    assert!(small["providerSpec"]["networking"]["networkId"].is_string());
    let big = object(&rendered, "MachineClass", "big");
    assert_eq!(big["providerSpec"]["machineType"], "g1a.8d");
    // Lists are replaced, maps merge key by key.
    assert_eq!(big["providerSpec"]["securityGroups"], json!(["gpu"]));
    assert_eq!(big["providerSpec"]["bootVolume"]["size"], 200);
    assert_eq!(
        big["providerSpec"]["bootVolume"]["deleteOnTermination"],
        true
    );
    assert_eq!(big["providerSpec"]["labels"]["pool"], "big");
    assert_eq!(big["providerSpec"]["labels"]["plinth-region"], "eu01");
    // The cluster's params override the overlay's defaults.
    let cluster = merged(
        cluster,
        &json!({"params": {"stackit": {"machineClassDefaults": {"providerSpec": {"availabilityZone": "eu01-2"}}}}}),
    );
    let rendered = render(&cluster, &[]).unwrap();
    assert_eq!(
        object(&rendered, "MachineClass", "small")["providerSpec"]["availabilityZone"],
        "eu01-2"
    );
    // A typo in the defaults is a located problem too.
    let cluster = merged(
        cluster,
        &json!({"params": {"stackit": {"machineClassDefaults": {"providerSpek": {}}}}}),
    );
    let Err(RenderError::Problems(ps)) = render(&cluster, &[]) else {
        panic!("expected problems")
    };
    assert_eq!(ps[0].location, "cluster c1");
    assert_eq!(ps[0].field, "params.stackit.machineClassDefaults");
    assert!(ps[0].message.contains("providerSpek"), "{}", ps[0].message);
}

fn key_of(rendered: &RenderedCluster, name: &str) -> String {
    object(rendered, "MachineClass", name)["metadata"]["annotations"]["plinth.dev/replacement-key"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[test]
fn replacement_key_changes_exactly_when_servers_would_be_replaced() {
    let key = |patch: Value| {
        let cluster = json!({"machineClasses": [merged(base_pool(), &patch)]});
        key_of(&render(&cluster, &[]).unwrap(), "worker-a")
    };
    let base = key(json!({}));
    assert_eq!(base.len(), 16);
    assert!(base.bytes().all(|b| b.is_ascii_hexdigit()));
    // Updated in place by STACKIT: no replacement.
    assert_eq!(
        base,
        key(json!({"providerSpec": {"labels": {"pool": "other"}}}))
    );
    assert_eq!(
        base,
        key(json!({"providerSpec": {"metadata": {"cost center": "42"}}}))
    );
    assert_eq!(base, key(json!({"nodeTemplate": {"capacity": {"cpu": 4}}})));
    // Fixed at creation: replacement.
    for patch in [
        json!({"providerSpec": {"machineType": "c1.4"}}),
        json!({"providerSpec": {"imageId": VOL}}),
        json!({"providerSpec": {"bootVolume": {"size": 100}}}),
        json!({"providerSpec": {"userData": "#cloud-config\n"}}),
        json!({"providerSpec": {"availabilityZone": "eu01-2"}}),
        json!({"providerSpec": {"securityGroups": ["other"]}}),
    ] {
        assert_ne!(base, key(patch.clone()), "{patch}");
    }
    // Recorded in the index.
    let cluster = json!({"machineClasses": [base_pool()]});
    let rendered = render(&cluster, &[]).unwrap();
    let fleet = Fleet::open(repo(&cluster, &[])).unwrap();
    let out = output::materialize(&rendered, &fleet.settings);
    assert_eq!(out.index.machine_classes.len(), 1);
    assert_eq!(out.index.machine_classes[0].name, "worker-a");
    assert_eq!(out.index.machine_classes[0].replacement_key, base);
    let index_text = String::from_utf8(out.files["plinth-index.json"].clone()).unwrap();
    assert!(index_text.contains("\"replacementKey\""), "{index_text}");
}

#[test]
fn a_patch_on_a_machine_class_is_applied_and_the_key_follows_it() {
    let plain = json!({"machineClasses": [base_pool()]});
    let patched = merged(
        plain.clone(),
        &json!({"patches": [{
            "target": {"kind": "MachineClass", "name": "worker-a"},
            "mergePatch": {"providerSpec": {"machineType": "c1.4"}},
        }]}),
    );
    let rendered = render(&patched, &[]).unwrap();
    assert_eq!(
        object(&rendered, "MachineClass", "worker-a")["providerSpec"]["machineType"],
        "c1.4"
    );
    let direct = json!({"machineClasses": [merged(base_pool(), &json!({"providerSpec": {"machineType": "c1.4"}}))]});
    assert_eq!(
        key_of(&rendered, "worker-a"),
        key_of(&render(&direct, &[]).unwrap(), "worker-a")
    );
    assert_ne!(
        key_of(&rendered, "worker-a"),
        key_of(&render(&plain, &[]).unwrap(), "worker-a")
    );
}

#[test]
fn rendering_twice_is_byte_identical() {
    let cluster = json!({"overlays": ["stackit-eu01"], "machineClasses": [base_pool()], "nodeGroups": [base_group()]});
    let fleet = Fleet::open(repo(&cluster, &[])).unwrap();
    let a = output::materialize(&fleet.render_cluster("c1").unwrap(), &fleet.settings);
    let b = output::materialize(&fleet.render_cluster("c1").unwrap(), &fleet.settings);
    assert_eq!(a.files, b.files);
}

// ---------------------------------------------------------------------------------------------
// Layers of pool defaults: `null` unsets, a networking variant replaces the inherited one,
// problems name the layer an inherited value came from.

const NIC: &str = "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a";

fn problems(result: Result<RenderedCluster, RenderError>) -> Vec<String> {
    match result {
        Err(RenderError::Problems(ps)) => ps.iter().map(ToString::to_string).collect(),
        Ok(_) => panic!("expected problems, the cluster rendered"),
        Err(other) => panic!("expected problems, got: {other}"),
    }
}

#[test]
fn stackit_pool_switches_networking_variant_over_an_overlay() {
    // The built-in `stackit-eu01` overlay gives `networkId`; the pool gives `nicIds`.
    let cluster = json!({
        "overlays": ["stackit-eu01"],
        "machineClasses": [
            {"name": "nics", "providerSpec": {"machineType": "c1.2", "networking": {"nicIds": [NIC]}}},
            {"name": "net", "providerSpec": {"machineType": "c1.2"}},
        ],
    });
    let rendered = render(&cluster, &[]).unwrap();
    assert_eq!(
        object(&rendered, "MachineClass", "nics")["providerSpec"]["networking"],
        json!({"nicIds": [NIC]})
    );
    let inherited = &object(&rendered, "MachineClass", "net")["providerSpec"]["networking"];
    assert!(
        inherited["networkId"].is_string() && inherited.get("nicIds").is_none(),
        "{inherited}"
    );
    // The cluster's params switch every pool to `nicIds`; a pool switches back to `networkId`.
    let cluster = json!({
        "overlays": ["stackit-eu01"],
        "params": {"stackit": {"machineClassDefaults": {"providerSpec": {"networking": {"nicIds": [NIC]}}}}},
        "machineClasses": [
            {"name": "nics", "providerSpec": {"machineType": "c1.2"}},
            {"name": "net", "providerSpec": {"machineType": "c1.2", "networking": {"networkId": NET}}},
        ],
    });
    let rendered = render(&cluster, &[]).unwrap();
    assert_eq!(
        object(&rendered, "MachineClass", "nics")["providerSpec"]["networking"],
        json!({"nicIds": [NIC]})
    );
    assert_eq!(
        object(&rendered, "MachineClass", "net")["providerSpec"]["networking"],
        json!({"networkId": NET})
    );
    // An overlay after another one switches too.
    let overlay = format!(
        "values:\n  stackit:\n    machineClassDefaults:\n      providerSpec:\n        networking:\n          nicIds: [{NIC}]\n"
    );
    let cluster = json!({
        "overlays": ["stackit-eu01", "nics"],
        "machineClasses": [{"name": "nics", "providerSpec": {"machineType": "c1.2"}}],
    });
    let rendered = render(&cluster, &[("overlays/nics/overlay.yaml", &overlay)]).unwrap();
    assert_eq!(
        object(&rendered, "MachineClass", "nics")["providerSpec"]["networking"],
        json!({"nicIds": [NIC]})
    );
}

#[test]
fn null_in_a_stackit_pool_unsets_an_inherited_default() {
    let cluster = json!({
        "overlays": ["stackit-eu01"],
        "params": {"stackit": {"machineClassDefaults": {"providerSpec": {"securityGroups": null}}}},
        "machineClasses": [{
            "name": "bare",
            "providerSpec": {
                "machineType": "c1.2",
                "availabilityZone": null,
                "agent": null,
                "labels": {"plinth-region": null, "pool": "bare"},
                "bootVolume": {"performanceClass": null},
            },
            "credentialsSecretRef": null,
            "secretRef": {"name": "my-credentials"},
        }],
    });
    let rendered = render(&cluster, &[]).unwrap();
    let class = object(&rendered, "MachineClass", "bare");
    let spec = &class["providerSpec"];
    for gone in ["availabilityZone", "agent", "securityGroups"] {
        assert!(spec.get(gone).is_none(), "{gone} still set: {spec}");
    }
    assert_eq!(spec["labels"], json!({"pool": "bare"}));
    assert_eq!(
        spec["bootVolume"],
        json!({"deleteOnTermination": true, "size": 50})
    );
    assert_eq!(spec["region"], "eu01");
    assert!(class.get("credentialsSecretRef").is_none(), "{class}");
    assert_eq!(class["secretRef"]["name"], "my-credentials");
    // Inherited again without the nulls: the defaults are back.
    let cluster = json!({
        "overlays": ["stackit-eu01"],
        "machineClasses": [{"name": "bare", "providerSpec": {"machineType": "c1.2"}}],
    });
    let rendered = render(&cluster, &[]).unwrap();
    let spec = &object(&rendered, "MachineClass", "bare")["providerSpec"];
    assert_eq!(spec["availabilityZone"], "eu01-1");
    assert_eq!(spec["labels"]["plinth-region"], "eu01");
}

#[test]
fn a_conflicting_stackit_default_names_the_overlay_it_came_from() {
    let both = format!(
        "values:\n  stackit:\n    machineClassDefaults:\n      secretRef: {{name: shared-userdata}}\n      providerSpec:\n        region: EU01\n        networking: {{networkId: {NET}, nicIds: [{NIC}]}}\n"
    );
    let cluster = json!({
        "overlays": ["stackit-eu01", "legacy"],
        "machineClasses": [{
            "name": "w",
            "providerSpec": {"machineType": "c1.2", "userData": "#cloud-config\n"},
        }],
    });
    let found = problems(render(&cluster, &[("overlays/legacy/overlay.yaml", &both)]));
    insta::assert_snapshot!(found.join("\n"), @r"
    cluster c1 / MachineClass w: `providerSpec.networking`: give exactly one of `networkId` or `nicIds`, not both (inherited from overlay `legacy` (`overlays/legacy/overlay.yaml`))
    cluster c1 / MachineClass w: `providerSpec.region`: `EU01` must match `^[a-z0-9]+$` (e.g. `eu01`) (inherited from overlay `legacy` (`overlays/legacy/overlay.yaml`))
    cluster c1 / MachineClass w: `secretRef`: plinth renders the userData Secret itself; with userData, use `credentialsSecretRef` for the credentials and leave `secretRef` out (inherited from overlay `legacy` (`overlays/legacy/overlay.yaml`))
    ");
    // The pool's own value is not attributed to a layer; one from the params is.
    let cluster = json!({
        "overlays": ["stackit-eu01"],
        "params": {"stackit": {"machineClassDefaults": {"providerSpec": {"availabilityZone": "eu01"}}}},
        "machineClasses": [{"name": "w", "providerSpec": {"machineType": "large"}}],
    });
    let found = problems(render(&cluster, &[]));
    insta::assert_snapshot!(found.join("\n"), @r"
    cluster c1 / MachineClass w: `providerSpec.availabilityZone`: `eu01` must look like `eu01-1` or `eu01-m` (`^[a-z0-9]+-(?:\d+|m)$`) (inherited from the `params` of `clusters/c1/cluster.yaml`)
    cluster c1 / MachineClass w: `providerSpec.machineType`: `large` is not a STACKIT machine type (`^[a-z]+\d+[a-z]*\.\d+[a-z]*(\.[a-z]+\d+)*$`, e.g. `c1.2`, `g1a.8d`)
    ");
    // A typo in one overlay's defaults names that overlay.
    let typo = "values:\n  stackit:\n    machineClassDefaults:\n      providerSpek: {}\n";
    let cluster = json!({
        "overlays": ["stackit-eu01", "legacy"],
        "machineClasses": [{"name": "w", "providerSpec": {"machineType": "c1.2"}}],
    });
    let found = problems(render(&cluster, &[("overlays/legacy/overlay.yaml", typo)]));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].starts_with("cluster c1: `values.stackit.machineClassDefaults`: invalid pool defaults in overlay `legacy` (`overlays/legacy/overlay.yaml`): unknown field `providerSpek`"),
        "{found:?}"
    );
}

#[test]
fn null_in_a_vpsie_node_group_unsets_an_inherited_default() {
    let defaults = "values:\n  vpsie:\n    nodeGroupDefaults:\n      datacenterID: dc-fra1\n      project: prj-1\n      resourceIdentifier: k8s-4711\n      kubernetesVersion: v1.31.2\n      osImageID: ubuntu-24.04\n      preferredInstanceType: small-2cpu-4gb\n      labels: {tier: general, zone: fra1}\n      scaleDownPolicy: {enabled: true, cooldownSeconds: 600}\n";
    let cluster = json!({
        "overlays": ["vpsie-fra1"],
        "nodeGroups": [
            {"name": "plain", "minNodes": 0, "maxNodes": 3, "offeringIDs": ["medium-4cpu-8gb"],
             "osImageID": null, "preferredInstanceType": null, "labels": {"zone": null},
             "scaleDownPolicy": {"cooldownSeconds": null}},
            {"name": "inheriting", "minNodes": 0, "maxNodes": 3, "offeringIDs": ["small-2cpu-4gb"]},
        ],
    });
    let rendered = render(&cluster, &[("overlays/vpsie-fra1/overlay.yaml", defaults)]).unwrap();
    let spec = &object(&rendered, "NodeGroup", "plain")["spec"];
    assert!(spec.get("osImageID").is_none(), "{spec}");
    assert!(spec.get("preferredInstanceType").is_none(), "{spec}");
    assert_eq!(
        spec["labels"],
        json!({"tier": "general", "autoscaler.vpsie.com/managed": "true"})
    );
    assert_eq!(spec["scaleDownPolicy"], json!({"enabled": true}));
    assert_eq!(spec["datacenterID"], "dc-fra1");
    let spec = &object(&rendered, "NodeGroup", "inheriting")["spec"];
    assert_eq!(spec["osImageID"], "ubuntu-24.04");
    assert_eq!(spec["labels"]["zone"], "fra1");
    // The cluster's params unset a default of the overlay for every group.
    let mut cluster = cluster;
    cluster["params"] = json!({"vpsie": {"nodeGroupDefaults": {"labels": {"tier": null}}}});
    let rendered = render(&cluster, &[("overlays/vpsie-fra1/overlay.yaml", defaults)]).unwrap();
    let spec = &object(&rendered, "NodeGroup", "inheriting")["spec"];
    assert_eq!(
        spec["labels"],
        json!({"zone": "fra1", "autoscaler.vpsie.com/managed": "true"})
    );
}

#[test]
fn a_bad_vpsie_default_names_the_overlay_it_came_from() {
    let defaults = "values:\n  vpsie:\n    nodeGroupDefaults:\n      datacenterID: dc-fra1\n      project: prj-1\n      resourceIdentifier: k8s-4711\n      kubernetesVersion: '1.31'\n      preferredInstanceType: large-8cpu\n";
    let cluster = json!({
        "overlays": ["vpsie-fra1"],
        "nodeGroups": [{"name": "g", "minNodes": 0, "maxNodes": 3, "offeringIDs": ["small-2cpu-4gb"]}],
    });
    let found = problems(render(
        &cluster,
        &[("overlays/vpsie-fra1/overlay.yaml", defaults)],
    ));
    insta::assert_snapshot!(found.join("\n"), @r"
    cluster c1 / NodeGroup g: `kubernetesVersion`: `1.31` is not a semantic version with a leading `v` (e.g. `v1.31.2`) (inherited from overlay `vpsie-fra1` (`overlays/vpsie-fra1/overlay.yaml`))
    cluster c1 / NodeGroup g: `preferredInstanceType`: `large-8cpu` is not one of `offeringIDs` (inherited from overlay `vpsie-fra1` (`overlays/vpsie-fra1/overlay.yaml`))
    ");
}
