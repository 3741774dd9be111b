//! Offline schema validation against the real CRDs in `../shared/specs`: the rendered machine
//! classes and the built-in `HyperConverged` golden config pass, planted violations are caught.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::path::Path;

use plinth_renderer::Fleet;
use plinth_renderer::schema::Schemas;
use serde_json::{Value, json};

fn load(dir: &Path) -> Schemas {
    Schemas::load_dir(dir, 16 * 1024 * 1024).unwrap()
}

/// Problems of `obj` as `field: message` lines.
fn violations(schemas: &Schemas, obj: &Value) -> Vec<String> {
    schemas
        .validate(obj, "obj")
        .expect("a CRD covers the object")
        .into_iter()
        .map(|p| format!("{}: {}", p.field, p.message))
        .collect()
}

fn fleet_with(cluster: &str, extra: &[(&str, &str)]) -> Fleet {
    let files = [&[("clusters/c1/cluster.yaml", cluster)][..], extra].concat();
    Fleet::open(crate::common::repo(&files)).unwrap()
}

const POOLS: &str = r"
overlays: [stackit-eu01]
machineClasses:
  - name: small
    providerSpec:
      machineType: c1.2
      userData: |
        #cloud-config
        hostname: small
    nodeTemplate:
      capacity: {cpu: 2, memory: 4Gi}
  - name: gpu
    providerSpec:
      machineType: g1a.8d
      bootVolume:
        size: 200
        source: {type: image, id: 0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}
      serviceAccountMails: [workers@compute.sa.stackit.cloud]
    userDataFile: worker.yaml
    nodeTemplate:
      capacity: {cpu: 8, memory: 64Gi, nvidia.com/gpu: 1}
      virtualCapacity: {hugepages-1Gi: 16Gi}
      architecture: amd64
  - name: plain
    providerSpec:
      machineType: t1.1
      userData: null
    credentialsSecretRef: null
    secretRef: {name: stackit-secret, namespace: mcm}
";

#[test]
fn every_rendered_machine_class_passes_the_real_mcm_crd() {
    let Some(specs) = crate::common::specs("") else {
        return;
    };
    let schemas = load(&specs.join("gardener-mcm"));
    assert!(
        schemas
            .kinds()
            .iter()
            .any(|k| k == "MachineClass.machine.sapcloud.io/v1alpha1"),
        "{:?}",
        schemas.kinds()
    );
    let fleet = fleet_with(POOLS, &[("clusters/c1/worker.yaml", "#cloud-config\n")]);
    let rendered = fleet.render_cluster("c1").unwrap();
    let classes: Vec<&Value> = rendered
        .objects
        .iter()
        .filter(|o| o.identity.kind == "MachineClass")
        .map(|o| &o.value)
        .collect();
    assert_eq!(classes.len(), 3);
    for class in classes {
        assert_eq!(
            violations(&schemas, class),
            Vec::<String>::new(),
            "{class:#}"
        );
    }
}

#[test]
fn planted_machine_class_violations_are_caught_with_their_paths() {
    let Some(specs) = crate::common::specs("") else {
        return;
    };
    let schemas = load(&specs.join("gardener-mcm"));
    let fleet = fleet_with(POOLS, &[("clusters/c1/worker.yaml", "#cloud-config\n")]);
    let rendered = fleet.render_cluster("c1").unwrap();
    let good = rendered
        .objects
        .iter()
        .find(|o| o.identity.kind == "MachineClass" && o.identity.name == "gpu")
        .unwrap()
        .value
        .clone();
    let plant = |patch: Value| {
        let mut v = good.clone();
        json_patch::merge(&mut v, &patch);
        violations(&schemas, &v)
    };
    assert_eq!(
        plant(json!({"providerSpec": null})),
        ["providerSpec: is required"]
    );
    assert_eq!(
        plant(json!({"provider": 5})),
        ["provider: must be of type string, not integer"]
    );
    assert_eq!(
        plant(json!({"spec": {"x": 1}})),
        ["spec: is not a field of this schema (unknown field)"]
    );
    assert_eq!(
        plant(json!({"secretRef": {"key": "userData"}})),
        ["secretRef.key: is not a field of this schema (unknown field)"]
    );
    assert_eq!(
        plant(json!({"nodeTemplate": {"region": null}})),
        ["nodeTemplate.region: is required"]
    );
    let got = plant(json!({"nodeTemplate": {"capacity": {"cpu": "eight"}}}));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with("nodeTemplate.capacity.cpu: does not match the pattern"),
        "{got:?}"
    );
    assert_eq!(
        plant(json!({"nodeTemplate": {"capacity": {"cpu": true}}})),
        ["nodeTemplate.capacity.cpu: must be an integer or a string, not boolean"]
    );
    // providerSpec preserves unknown fields: anything goes inside it, as the CRD says.
    assert!(plant(json!({"providerSpec": {"anything": {"nested": [1, 2]}}})).is_empty());
    // nodeTemplate preserves unknown fields too.
    assert!(plant(json!({"nodeTemplate": {"extra": "x"}})).is_empty());
}

fn hco_of(fleet: &Fleet) -> Value {
    let rendered = fleet.render_cluster("c1").unwrap();
    rendered
        .objects
        .iter()
        .find(|o| o.identity.kind == "HyperConverged")
        .expect("the built-in catalog renders a HyperConverged")
        .value
        .clone()
}

#[test]
fn the_built_in_hco_golden_config_passes_the_real_hco_crd() {
    let Some(specs) = crate::common::specs("") else {
        return;
    };
    let schemas = load(&specs.join("kubevirt-hco"));
    for cluster in [
        "name: c1\n",
        "name: c1\nannotations: {platform.kubevirt.io/openshift: \"true\"}\nparams: {hcoNamespace: kubevirt-hyperconverged}\n",
    ] {
        let hco = hco_of(&fleet_with(cluster, &[]));
        assert!(schemas.covers(&hco), "no CRD for {}", hco["apiVersion"]);
        assert_eq!(violations(&schemas, &hco), Vec::<String>::new());
    }
}

#[test]
fn planted_hco_violations_are_caught_with_their_paths() {
    let Some(specs) = crate::common::specs("") else {
        return;
    };
    let schemas = load(&specs.join("kubevirt-hco"));
    let good = hco_of(&fleet_with("name: c1\n", &[]));
    let plant = |patch: Value| {
        let mut v = good.clone();
        json_patch::merge(&mut v, &patch);
        violations(&schemas, &v)
    };
    assert_eq!(
        plant(json!({"spec": {"notAField": true}})),
        ["spec.notAField: is not a field of this schema (unknown field)"]
    );
    let got = plant(json!({"spec": {"uninstallStrategy": "Never"}}));
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].starts_with(
            "spec.uninstallStrategy: a string of 5 characters is not one of the allowed values"
        ),
        "{got:?}"
    );
    assert_eq!(
        plant(json!({"spec": {"featureGates": {"downwardMetrics": "yes"}}})),
        ["spec.featureGates.downwardMetrics: must be of type boolean, not string"]
    );
}

#[test]
fn every_crd_of_the_shared_specs_loads_and_its_patterns_compile() {
    let Some(specs) = crate::common::specs("") else {
        return;
    };
    for dir in ["gardener-mcm", "kubevirt-hco"] {
        let schemas = load(&specs.join(dir));
        assert!(!schemas.is_empty(), "{dir}: no CRD loaded");
    }
}

/// A violation never quotes the offending value: a token, a URL password or a JWT put where a
/// pattern, an enum, a format, a bound or a set expects something else stays out of the
/// message (only the field path, the value's type and what the schema allows are named).
#[test]
fn violations_never_quote_the_offending_value() {
    let crd = json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "spec": {"group": "example.io", "names": {"kind": "Thing"}, "versions": [{"name": "v1",
    "schema": {"openAPIV3Schema": {"type": "object", "properties": {
        "apiVersion": {"type": "string"}, "kind": {"type": "string"},
        "metadata": {"type": "object"},
        "spec": {"type": "object", "properties": {
            "mode": {"type": "string", "enum": ["a", "b"]},
            "name": {"type": "string", "pattern": "^[a-z]+$"},
            "short": {"type": "string", "maxLength": 3},
            "when": {"type": "string", "format": "date-time"},
            "blob": {"type": "string", "format": "byte"},
            "size": {"type": "integer", "maximum": 10, "format": "int32"},
            "count": {"type": "integer"},
            "tags": {"type": "array", "items": {"type": "string"}, "x-kubernetes-list-type": "set"},
            "ports": {"type": "array", "x-kubernetes-list-type": "map", "x-kubernetes-list-map-keys": ["name"],
                "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
        }}}}}}]}});
    let mut schemas = Schemas::default();
    schemas.add_crd(&crd, "thing.yaml").unwrap();
    let secrets = [
        "ghp_0123456789abcdefghijABCDEFGHIJ012345",
        "postgres://app:Sup3rS3cretPw@db:5432/app",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkIn0.c2lnbmF0dXJlcGxhbnRlZA",
        "hunter2",
    ];
    for secret in secrets {
        let obj = json!({"apiVersion": "example.io/v1", "kind": "Thing", "metadata": {"name": "t"},
            "spec": {"mode": secret, "name": secret, "short": secret, "when": secret, "blob": secret,
                "size": secret, "count": 4_294_967_297_u64, "tags": [secret, secret],
                "ports": [{"name": secret}, {"name": secret}]}});
        let got = violations(&schemas, &obj);
        assert!(got.len() >= 8, "{got:#?}");
        for line in &got {
            assert!(!line.contains(secret), "{secret} quoted in {line}");
            for part in secret.split([':', '/', '@', '.']).filter(|p| p.len() >= 6) {
                assert!(!line.contains(part), "{part} quoted in {line}");
            }
        }
    }
    // Numbers are not quoted either (a PIN is a number).
    let obj = json!({"apiVersion": "example.io/v1", "kind": "Thing", "metadata": {"name": "t"},
        "spec": {"size": 918_273_645_u64}});
    for line in violations(&schemas, &obj) {
        assert!(!line.contains("918273645"), "{line}");
    }
}
