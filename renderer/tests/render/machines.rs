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

/// Runs a rules table: each case merges its patch into `base`, renders it as the only entry of
/// `list` in `cluster.yaml`, and expects the field path of its single problem (or none).
fn assert_rules(cases: &[(&str, Value, Option<&str>)], base: Value, list: &str, kind: &str) {
    let mut failures = Vec::new();
    for (case, patch, want) in cases {
        let pool = merged(base.clone(), patch);
        let name = pool["name"].as_str().unwrap_or_default().to_owned();
        let cluster = json!({list: [pool]});
        let got = problem_fields(
            render(&cluster, &[]),
            &format!("cluster c1 / {kind} {name}"),
        );
        let want: Vec<String> = want.iter().map(|w| (*w).to_owned()).collect();
        if got != want {
            failures.push(format!("{case}: want {want:?}, got {got:?}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

#[test]
fn machine_class_rules_table() {
    let long_key = "k".repeat(128);
    let ok_key = "k".repeat(127);
    let long_meta = "v".repeat(256);
    // (case, merge patch on the pool, expected field path of the single problem or None)
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        ("valid: the full pool", json!({}), None),
        (
            "valid: boot from a snapshot without imageId",
            json!({"providerSpec": {"imageId": null, "bootVolume": {"source": {"type": "snapshot", "id": VOL}}}}),
            None,
        ),
        (
            "valid: boot from an image volume source",
            json!({"providerSpec": {"bootVolume": {"source": {"type": "image", "id": IMAGE}}}}),
            None,
        ),
        (
            "valid: nicIds instead of networkId",
            json!({"providerSpec": {"networking": {"networkId": null, "nicIds": [NET, VOL]}}}),
            None,
        ),
        (
            "valid: metro availability zone",
            json!({"providerSpec": {"availabilityZone": "eu01-m"}}),
            None,
        ),
        (
            "valid: keypair of 127 characters",
            json!({"providerSpec": {"keypairName": ok_key}}),
            None,
        ),
        (
            "valid: IPv6 allowed address",
            json!({"providerSpec": {"allowedAddresses": ["fd00::/64", "0.0.0.0/0"]}}),
            None,
        ),
        (
            "valid: machine type with suffixes",
            json!({"providerSpec": {"machineType": "g1a.8d.gpu1"}}),
            None,
        ),
        (
            "valid: no optional fields",
            json!({"providerSpec": {"securityGroups": null, "allowedAddresses": null, "bootVolume": null, "volumes": null,
                "keypairName": null, "availabilityZone": null, "affinityGroup": null, "serviceAccountMails": null,
                "agent": null, "metadata": null, "labels": null, "userData": null}, "nodeTemplate": null}),
            None,
        ),
        (
            "valid: a secretRef you manage instead of credentials",
            json!({"providerSpec": {"userData": null}, "credentialsSecretRef": null, "secretRef": {"name": "my-secret"}}),
            None,
        ),
        (
            "region pattern",
            json!({"providerSpec": {"region": "EU-01"}}),
            Some("providerSpec.region"),
        ),
        (
            "region required",
            json!({"providerSpec": {"region": null}}),
            Some("providerSpec.region"),
        ),
        (
            "machineType pattern",
            json!({"providerSpec": {"machineType": "large"}}),
            Some("providerSpec.machineType"),
        ),
        (
            "machineType required",
            json!({"providerSpec": {"machineType": null}}),
            Some("providerSpec.machineType"),
        ),
        (
            "imageId lowercase UUID",
            json!({"providerSpec": {"imageId": IMAGE.to_uppercase()}}),
            Some("providerSpec.imageId"),
        ),
        (
            "imageId or bootVolume.source",
            json!({"providerSpec": {"imageId": null}}),
            Some("providerSpec.imageId"),
        ),
        (
            "networking both variants",
            json!({"providerSpec": {"networking": {"nicIds": [NET]}}}),
            Some("providerSpec.networking"),
        ),
        (
            "networking no variant",
            json!({"providerSpec": {"networking": {"networkId": null}}}),
            Some("providerSpec.networking"),
        ),
        (
            "networking required",
            json!({"providerSpec": {"networking": null}}),
            Some("providerSpec.networking"),
        ),
        (
            "networkId UUID",
            json!({"providerSpec": {"networking": {"networkId": "net-1"}}}),
            Some("providerSpec.networking.networkId"),
        ),
        (
            "nicIds not empty",
            json!({"providerSpec": {"networking": {"networkId": null, "nicIds": []}}}),
            Some("providerSpec.networking.nicIds"),
        ),
        (
            "nicIds UUIDs",
            json!({"providerSpec": {"networking": {"networkId": null, "nicIds": ["nic"]}}}),
            Some("providerSpec.networking.nicIds[0]"),
        ),
        (
            "allowedAddresses CIDR",
            json!({"providerSpec": {"allowedAddresses": ["10.0.0.0/8", "10.0.0.0/33"]}}),
            Some("providerSpec.allowedAddresses[1]"),
        ),
        (
            "allowedAddresses CIDR needs a prefix",
            json!({"providerSpec": {"allowedAddresses": ["10.0.0.1"]}}),
            Some("providerSpec.allowedAddresses[0]"),
        ),
        (
            "securityGroups names",
            json!({"providerSpec": {"securityGroups": ["ok", "no!"]}}),
            Some("providerSpec.securityGroups[1]"),
        ),
        (
            "bootVolume.source.type",
            json!({"providerSpec": {"bootVolume": {"source": {"type": "disk", "id": VOL}}}}),
            Some("providerSpec.bootVolume.source.type"),
        ),
        (
            "bootVolume.source.id UUID",
            json!({"providerSpec": {"bootVolume": {"source": {"type": "volume", "id": "v"}}}}),
            Some("providerSpec.bootVolume.source.id"),
        ),
        (
            "bootVolume.size positive",
            json!({"providerSpec": {"bootVolume": {"size": 0}}}),
            Some("providerSpec.bootVolume.size"),
        ),
        (
            "bootVolume.performanceClass name",
            json!({"providerSpec": {"bootVolume": {"performanceClass": "-x"}}}),
            Some("providerSpec.bootVolume.performanceClass"),
        ),
        (
            "volumes UUIDs",
            json!({"providerSpec": {"volumes": [VOL, "data"]}}),
            Some("providerSpec.volumes[1]"),
        ),
        (
            "keypairName length",
            json!({"providerSpec": {"keypairName": long_key}}),
            Some("providerSpec.keypairName"),
        ),
        (
            "keypairName characters",
            json!({"providerSpec": {"keypairName": "my key"}}),
            Some("providerSpec.keypairName"),
        ),
        (
            "availabilityZone form",
            json!({"providerSpec": {"availabilityZone": "eu01"}}),
            Some("providerSpec.availabilityZone"),
        ),
        (
            "availabilityZone lowercase",
            json!({"providerSpec": {"availabilityZone": "EU01-1"}}),
            Some("providerSpec.availabilityZone"),
        ),
        (
            "affinityGroup UUID",
            json!({"providerSpec": {"affinityGroup": "group-1"}}),
            Some("providerSpec.affinityGroup"),
        ),
        (
            "serviceAccountMails at most one",
            json!({"providerSpec": {"serviceAccountMails": ["a@b.example", "c@d.example"]}}),
            Some("providerSpec.serviceAccountMails"),
        ),
        (
            "serviceAccountMails email",
            json!({"providerSpec": {"serviceAccountMails": ["not-a-mail"]}}),
            Some("providerSpec.serviceAccountMails[0]"),
        ),
        (
            "metadata key",
            json!({"providerSpec": {"metadata": {"bad/key": "x"}}}),
            Some("providerSpec.metadata.bad/key"),
        ),
        (
            "metadata value length",
            json!({"providerSpec": {"metadata": {"long": long_meta}}}),
            Some("providerSpec.metadata.long"),
        ),
        (
            "labels reserved stackit- prefix",
            json!({"providerSpec": {"labels": {"stackit-team": "x"}}}),
            Some("providerSpec.labels.stackit-team"),
        ),
        (
            "labels key characters",
            json!({"providerSpec": {"labels": {"-pool": "x"}}}),
            Some("providerSpec.labels.-pool"),
        ),
        (
            "labels value characters",
            json!({"providerSpec": {"labels": {"pool": "a b"}}}),
            Some("providerSpec.labels.pool"),
        ),
        (
            "name is a DNS subdomain",
            json!({"name": "Worker_A"}),
            Some("name"),
        ),
        (
            "namespace is a DNS label",
            json!({"namespace": "Bad_NS"}),
            Some("namespace"),
        ),
        (
            "userData inline or file, not both",
            json!({"userDataFile": "userdata/worker.yaml"}),
            Some("userDataFile"),
        ),
        (
            "userData and secretRef",
            json!({"secretRef": {"name": "mine"}}),
            Some("secretRef"),
        ),
        (
            "credentials required",
            json!({"credentialsSecretRef": null}),
            Some("credentialsSecretRef"),
        ),
        (
            "credentialsSecretRef name",
            json!({"credentialsSecretRef": {"name": "Bad Name"}}),
            Some("credentialsSecretRef.name"),
        ),
        (
            "nodeTemplate capacity quantities",
            json!({"nodeTemplate": {"capacity": {"cpu": "lots"}}}),
            Some("nodeTemplate.capacity.cpu"),
        ),
        (
            "nodeTemplate capacity required",
            json!({"nodeTemplate": {"capacity": null, "zone": "eu01-1"}}),
            Some("nodeTemplate.capacity"),
        ),
        (
            "userDataFile exists",
            json!({"providerSpec": {"userData": null}, "userDataFile": "missing.yaml"}),
            Some("userDataFile"),
        ),
        (
            "userDataFile stays in the repository",
            json!({"providerSpec": {"userData": null}, "userDataFile": "../../../etc/passwd"}),
            Some("userDataFile"),
        ),
    ];
    assert_rules(&cases, base_pool(), "machineClasses", "MachineClass");
}

#[test]
fn node_group_rules_table() {
    let cases: Vec<(&str, Value, Option<&str>)> = vec![
        ("valid: the full group", json!({}), None),
        ("valid: scale from zero", json!({"minNodes": 0}), None),
        ("valid: min equals max", json!({"minNodes": 5}), None),
        (
            "valid: pre-release version",
            json!({"kubernetesVersion": "v1.32.0-rc.1+build.5"}),
            None,
        ),
        (
            "valid: only the required fields",
            json!({"osImageID": null, "preferredInstanceType": null, "allowMixedInstances": null, "labels": null,
                "taints": null, "scaleUpPolicy": null, "scaleDownPolicy": null, "sshKeyIDs": null, "tags": null, "notes": null}),
            None,
        ),
        ("minNodes >= 0", json!({"minNodes": -1}), Some("minNodes")),
        (
            "minNodes required",
            json!({"minNodes": null}),
            Some("minNodes"),
        ),
        (
            "maxNodes >= 1",
            json!({"minNodes": 0, "maxNodes": 0}),
            Some("maxNodes"),
        ),
        (
            "maxNodes >= minNodes",
            json!({"minNodes": 6}),
            Some("maxNodes"),
        ),
        (
            "maxNodes required",
            json!({"maxNodes": null}),
            Some("maxNodes"),
        ),
        (
            "datacenterID required",
            json!({"datacenterID": null}),
            Some("datacenterID"),
        ),
        (
            "datacenterID not empty",
            json!({"datacenterID": " "}),
            Some("datacenterID"),
        ),
        (
            "resourceIdentifier required",
            json!({"resourceIdentifier": null}),
            Some("resourceIdentifier"),
        ),
        (
            "project required",
            json!({"project": null}),
            Some("project"),
        ),
        (
            "offeringIDs at least one",
            json!({"offeringIDs": [], "preferredInstanceType": null}),
            Some("offeringIDs"),
        ),
        (
            "offeringIDs required",
            json!({"offeringIDs": null}),
            Some("offeringIDs"),
        ),
        (
            "offeringIDs no duplicates",
            json!({"offeringIDs": ["a", "a"], "preferredInstanceType": "a"}),
            Some("offeringIDs[1]"),
        ),
        (
            "kubernetesVersion needs a v",
            json!({"kubernetesVersion": "1.31.2"}),
            Some("kubernetesVersion"),
        ),
        (
            "kubernetesVersion is semver",
            json!({"kubernetesVersion": "v1.31"}),
            Some("kubernetesVersion"),
        ),
        (
            "kubernetesVersion required",
            json!({"kubernetesVersion": null}),
            Some("kubernetesVersion"),
        ),
        (
            "preferredInstanceType among offerings",
            json!({"preferredInstanceType": "huge"}),
            Some("preferredInstanceType"),
        ),
        (
            "labels keys",
            json!({"labels": {"bad key": "x"}}),
            Some("labels.bad key"),
        ),
        (
            "labels values",
            json!({"labels": {"tier": "a b"}}),
            Some("labels.tier"),
        ),
        (
            "managed label stays true",
            json!({"labels": {"autoscaler.vpsie.com/managed": "false"}}),
            Some("labels.autoscaler.vpsie.com/managed"),
        ),
        (
            "taint effect",
            json!({"taints": [{"key": "k", "effect": "Never"}]}),
            Some("taints[0].effect"),
        ),
        (
            "taint key",
            json!({"taints": [{"key": "-k", "effect": "NoSchedule"}]}),
            Some("taints[0].key"),
        ),
        (
            "scaleUpPolicy threshold is a percentage",
            json!({"scaleUpPolicy": {"cpuThreshold": 101}}),
            Some("scaleUpPolicy.cpuThreshold"),
        ),
        (
            "scaleDownPolicy cooldown >= 0",
            json!({"scaleDownPolicy": {"cooldownSeconds": -1}}),
            Some("scaleDownPolicy.cooldownSeconds"),
        ),
        (
            "scaleDownPolicy window >= 0",
            json!({"scaleDownPolicy": {"stabilizationWindowSeconds": -5}}),
            Some("scaleDownPolicy.stabilizationWindowSeconds"),
        ),
        (
            "sshKeyIDs not empty",
            json!({"sshKeyIDs": [""]}),
            Some("sshKeyIDs[0]"),
        ),
        (
            "name is a DNS subdomain",
            json!({"name": "Workers!"}),
            Some("name"),
        ),
    ];
    assert_rules(&cases, base_group(), "nodeGroups", "NodeGroup");
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
