//! `plinth diff` on real git repositories in temporary folders: template, inventory,
//! machine class and secret changes, clusters added and removed, renames, base equal to
//! head, a revision that fails to render, the working tree left untouched, planted secrets
//! that must not appear in any format, and a Markdown preview far larger than one comment.

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Command;

use plinth_testkit::git::TempRepo;
use serde_json::Value;

use crate::common::{GitPlatform, assert_exit, copy_dir_except, write_files};

const KEY: &str = "test-redaction-key";

type Repo = GitPlatform;

/// A temporary git repository (the work tree is the folder `platform` inside the temporary
/// folder); `plinth` runs with the test redaction key.
fn new_repo() -> Repo {
    GitPlatform::with_env(
        TempRepo::in_subfolder("platform"),
        &[("PLINTH_REDACTION_KEY", KEY)],
    )
}

/// A repository holding the platform of [`platform`] with the base secrets, committed.
fn platform_repo() -> Repo {
    let repo = new_repo();
    platform(&repo, &BASE_SECRETS);
    repo
}

impl GitPlatform {
    /// `plinth diff ARGS --format json`: exit code and the parsed report.
    fn diff_json(&self, args: &[&str]) -> (i32, Value) {
        let mut all = vec!["diff", "--format", "json"];
        all.extend_from_slice(args);
        let out = self.plinth(&all);
        let code = out.status.code().unwrap();
        assert!(
            code != 2,
            "plinth diff failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (code, serde_json::from_slice(&out.stdout).unwrap())
    }
}

const CATALOG: &str = r"
assets:
  - name: hco
    path: hco.yaml.j2
    install: always
    component: HyperConverged
    reconcile_order: 0
  - name: app
    path: app.yaml.j2
    install: always
    reconcile_order: 1
  - name: worker-tuning
    path: mc.yaml.j2
    install: always
    reconcile_order: 1
  - name: vms
    path: vm.yaml.j2
    install: always
    reconcile_order: 1
  - name: gpu-operator
    path: gpu.yaml.j2
    install: opt-in
    reconcile_order: 1
    conditions:
      - type: hardware-detection
        detector: pciDevicesPresent
";

const HCO: &str = r"apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata:
  name: kubevirt-hyperconverged
  namespace: kubevirt-hyperconverged
spec:
  liveMigrationConfig:
    parallelMigrationsPerCluster: {{ params.migrations }}
";

const APP: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
spec:
  replicas: {{ params.replicas }}
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
        - name: web
          image: {{ params.image }}
          env:
            - name: DB_PASSWORD
              value: {{ params.dbPassword | tojson }}
            - name: OPAQUE
              value: {{ params.opaque | tojson }}
---
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: apps
type: Opaque
stringData:
  password: {{ params.dbPassword | tojson }}
data:
  token: {{ params.tokenB64 | tojson }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: apps
  annotations:
    example.com/ca: {{ params.pem | tojson }}
data:
  app.yaml: {{ ("listen: 8080\npassword: " ~ params.filePassword ~ "\n") | tojson }}
  auth: {{ ("Bearer " ~ params.bearer) | tojson }}
  jwt: {{ params.jwt | tojson }}
  key.pem: {{ params.pem | tojson }}
"#;

const MC: &str = r"apiVersion: machineconfiguration.openshift.io/v1
kind: MachineConfig
metadata:
  name: 99-worker-tuning
  labels:
    machineconfiguration.openshift.io/role: worker
spec:
  kernelArguments: {{ params.kernelArgs | tojson }}
";

const VM: &str = r"apiVersion: kubevirt.io/v1
kind: VirtualMachine
metadata:
  name: {{ params.vmName }}
  namespace: vms
spec:
  runStrategy: Always
  template:
    spec:
      domain:
        cpu:
          cores: {{ params.vmCores }}
";

const GPU: &str = r#"apiVersion: v1
kind: ConfigMap
metadata:
  name: gpu-operator-config
  namespace: gpu
data:
  driver: "550"
"#;

/// Planted secrets: none of them (nor their base64) may appear in any output.
struct Secrets {
    db_password: &'static str,
    opaque: &'static str,
    token: &'static str,
    file_password: &'static str,
    bearer: &'static str,
    jwt: &'static str,
    pem_material: &'static str,
    user_data: &'static str,
}

const BASE_SECRETS: Secrets = Secrets {
    db_password: "PlantedDbPassw0rd-base",
    opaque: "Zx8qR2vLp9Tn4WmK7bYc3HdJ6sFaQ1base",
    token: "planted-token-value-base",
    file_password: "PlantedFileSecret42base",
    bearer: "PlantedBearerToken123456base",
    jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkLWJhc2UifQ.c2lnbmF0dXJlLWJhc2U",
    pem_material: "MIIEowPLANTEDPEMKEYMATERIALbase",
    user_data: "planted-userdata-secret-base",
};

const HEAD_SECRETS: Secrets = Secrets {
    db_password: "PlantedDbPassw0rd-head",
    opaque: "Qm7tW2xKp4Ln9RvB3cYh8JdF6sGaZ5head",
    token: "planted-token-value-head",
    file_password: "PlantedFileSecret42head",
    bearer: "PlantedBearerToken123456head",
    jwt: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwbGFudGVkLWhlYWQifQ.c2lnbmF0dXJlLWhlYWQ",
    pem_material: "MIIEowPLANTEDPEMKEYMATERIALhead",
    user_data: "planted-userdata-secret-head",
};

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

impl Secrets {
    fn all(&self) -> Vec<String> {
        let mut out: Vec<String> = [
            self.db_password,
            self.opaque,
            self.token,
            self.file_password,
            self.bearer,
            self.jwt,
            self.pem_material,
            self.user_data,
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        out.push(b64(self.token));
        out.push(b64(&format!(
            "#cloud-config\npassword: {}\n",
            self.user_data
        )));
        out
    }
}

/// Knobs of one cluster's `cluster.yaml`.
#[derive(Clone)]
struct ClusterKnobs {
    image: String,
    replicas: u32,
    vm_name: String,
    vm_cores: u32,
    kernel_args: String,
    migrations: u32,
    machine_image: String,
    pool_label: String,
    offering: String,
}

impl Default for ClusterKnobs {
    fn default() -> Self {
        Self {
            image: "registry.example.invalid/web:1.0".into(),
            replicas: 2,
            vm_name: "db-vm".into(),
            vm_cores: 2,
            kernel_args: "nosmt".into(),
            migrations: 5,
            machine_image: "3f1c8a2e-5b6d-4e7f-8a9b-0c1d2e3f4a5b".into(),
            pool_label: "a".into(),
            offering: "small-2cpu-4gb".into(),
        }
    }
}

fn cluster_yaml(k: &ClusterKnobs, s: &Secrets) -> String {
    let pem = format!(
        "-----BEGIN RSA PRIVATE KEY-----\n{}\n-----END RSA PRIVATE KEY-----\n",
        s.pem_material
    );
    let params = serde_json::json!({
        "image": k.image,
        "replicas": k.replicas,
        "vmName": k.vm_name,
        "vmCores": k.vm_cores,
        "kernelArgs": [k.kernel_args],
        "migrations": k.migrations,
        "dbPassword": s.db_password,
        "opaque": s.opaque,
        "tokenB64": b64(s.token),
        "filePassword": s.file_password,
        "bearer": s.bearer,
        "jwt": s.jwt,
        "pem": pem,
    });
    let cluster = serde_json::json!({
        "params": params,
        "machineClasses": [{
            "name": "worker-a",
            "providerSpec": {
                "region": "eu01",
                "machineType": "c1.2",
                "imageId": k.machine_image,
                "networking": {"networkId": "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"},
                "labels": {"pool": k.pool_label},
                "userData": format!("#cloud-config\npassword: {}\n", s.user_data),
            },
            "credentialsSecretRef": {"name": "stackit-credentials"},
        }],
        "nodeGroups": [{
            "name": "workers",
            "minNodes": 1,
            "maxNodes": 5,
            "datacenterID": "dc-fra1",
            "resourceIdentifier": "k8s-4711",
            "project": "prj-1",
            "offeringIDs": [k.offering],
            "kubernetesVersion": "v1.31.2",
        }],
    });
    serde_json::to_string_pretty(&cluster).unwrap()
}

const NO_PCI: &str = "nodes:\n  - name: n1\n    roles: [worker]\n";
const WITH_PCI: &str = "nodes:\n  - name: n1\n    roles: [worker]\n    pciDevices:\n      - {vendor: \"10de\", device: \"20b7\", class: \"0302\", name: NVIDIA A30}\n";

/// A platform repository with clusters `c1` and `c2`, committed; returns the commit.
fn platform(repo: &Repo, secrets: &Secrets) -> String {
    write_files(
        &repo.root,
        &[
            ("assets/metadata.yaml", CATALOG),
            ("assets/hco.yaml.j2", HCO),
            ("assets/app.yaml.j2", APP),
            ("assets/mc.yaml.j2", MC),
            ("assets/vm.yaml.j2", VM),
            ("assets/gpu.yaml.j2", GPU),
        ],
    );
    for c in ["c1", "c2"] {
        repo.write(
            &format!("clusters/{c}/cluster.yaml"),
            cluster_yaml(&ClusterKnobs::default(), secrets),
        );
        repo.write(&format!("clusters/{c}/inventory.yaml"), NO_PCI);
    }
    repo.commit("platform")
}

fn set_cluster(repo: &Repo, name: &str, k: &ClusterKnobs, s: &Secrets) {
    repo.write(&format!("clusters/{name}/cluster.yaml"), cluster_yaml(k, s));
}

/// The platform with each named cluster changed (uncommitted) to those knobs and secrets, and
/// the JSON report of `plinth diff --base HEAD`.
fn changed_platform(changes: &[(&str, &ClusterKnobs, &Secrets)]) -> (Repo, Value) {
    let repo = platform_repo();
    for (name, knobs, secrets) in changes {
        set_cluster(&repo, name, knobs, secrets);
    }
    let (_, report) = repo.diff_json(&["--base", "HEAD"]);
    (repo, report)
}

fn cluster<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("cluster {name} not in {report:#}"))
}

fn object<'a>(cluster: &'a Value, kind: &str, name: &str) -> &'a Value {
    cluster["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["kind"] == kind && o["name"] == name)
        .unwrap_or_else(|| panic!("{kind} {name} not in {cluster:#}"))
}

fn effects(cluster: &Value) -> Vec<String> {
    cluster["disruptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["effect"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn base_equal_to_head_is_clean() {
    let repo = platform_repo();
    let out = repo.plinth(&["diff", "--base", "HEAD", "--head", "HEAD"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("no changes in 2 clusters"), "{text}");
    // The working tree equal to HEAD is clean too.
    assert_eq!(
        repo.plinth(&["diff", "--base", "HEAD"]).status.code(),
        Some(0)
    );
}

#[test]
fn template_change_rolls_out_the_workload() {
    let repo = platform_repo();
    repo.write(
        "assets/app.yaml.j2",
        APP.replace(
            "      containers:\n",
            "      terminationGracePeriodSeconds: 30\n      containers:\n",
        ),
    );
    let (code, report) = repo.diff_json(&["--base", "HEAD"]);
    assert_eq!(code, 1);
    assert_eq!(report["head"]["spec"], "working tree");
    assert_eq!(report["summary"]["objectsChanged"], 2, "{report:#}");
    for name in ["c1", "c2"] {
        let c = cluster(&report, name);
        let dep = object(c, "Deployment", "web");
        assert_eq!(dep["change"], "changed");
        assert_eq!(
            dep["fields"][0]["pointer"],
            "/spec/template/spec/terminationGracePeriodSeconds"
        );
        assert_eq!(dep["fields"][0]["after"], 30);
        assert!(dep.get("fields").unwrap()[0].get("before").is_none());
        assert!(
            dep["diff"]
                .as_str()
                .unwrap()
                .contains("+      terminationGracePeriodSeconds: 30")
        );
        assert_eq!(effects(c), ["rollout"]);
        assert_eq!(
            c["disruptions"][0]["message"],
            "rolls out the workload: Deployment `apps/web` pod template changed"
        );
    }
}

#[test]
fn inventory_change_explains_the_asset_that_entered() {
    let repo = platform_repo();
    repo.write("clusters/c1/inventory.yaml", WITH_PCI);
    let base = repo.git(&["rev-parse", "HEAD"]);
    let head = repo.commit("c1 gets a GPU");
    let (code, report) = repo.diff_json(&["--base", base.trim(), "--head", &head]);
    assert_eq!(code, 1);
    assert_eq!(report["clusters"].as_array().unwrap().len(), 1);
    let c = cluster(&report, "c1");
    assert_eq!(
        object(c, "ConfigMap", "gpu-operator-config")["change"],
        "added"
    );
    let inclusion = &c["inclusion"][0];
    assert_eq!(inclusion["asset"], "gpu-operator");
    assert_eq!(inclusion["direction"], "entered");
    let cond = &inclusion["conditions"][0];
    assert_eq!(cond["before"], false);
    assert_eq!(cond["after"], true);
    assert!(
        cond["condition"]
            .as_str()
            .unwrap()
            .contains("pciDevicesPresent"),
        "{cond}"
    );
    assert!(cond["because"].as_str().unwrap().contains("n1"), "{cond}");
    // The terminal and Markdown formats say the same in words.
    let out = repo.plinth(&["diff", "--base", "HEAD~1", "--head", "HEAD"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("c1: asset `gpu-operator` entered"), "{text}");
}

#[test]
fn clusters_added_and_removed() {
    let repo = platform_repo();
    fs_err::rename(repo.root.join("clusters/c2"), repo.root.join("clusters/c3")).unwrap();
    repo.commit("c2 becomes c3");
    let (code, report) = repo.diff_json(&["--base", "HEAD~1", "--head", "HEAD"]);
    assert_eq!(code, 1);
    assert_eq!(cluster(&report, "c2")["status"], "removed");
    assert_eq!(cluster(&report, "c3")["status"], "added");
    assert_eq!(report["summary"]["clustersAdded"], 1);
    assert_eq!(report["summary"]["clustersRemoved"], 1);
    let removed = cluster(&report, "c2")["objects"].as_array().unwrap();
    assert!(removed.iter().all(|o| o["change"] == "removed"));
    assert_eq!(
        removed.len(),
        cluster(&report, "c3")["objects"].as_array().unwrap().len()
    );
    // `--cluster` narrows the comparison.
    let (_, only) = repo.diff_json(&["--base", "HEAD~1", "--head", "HEAD", "--cluster", "c3"]);
    assert_eq!(only["clusters"].as_array().unwrap().len(), 1);
}

#[test]
fn renamed_objects_are_reported_as_renames() {
    let knobs = ClusterKnobs {
        vm_name: "database-vm".into(),
        ..ClusterKnobs::default()
    };
    let (_, report) = changed_platform(&[("c1", &knobs, &BASE_SECRETS)]);
    let c = cluster(&report, "c1");
    let vm = object(c, "VirtualMachine", "database-vm");
    assert_eq!(vm["change"], "renamed");
    assert_eq!(vm["previousName"], "db-vm");
    assert_eq!(vm["fields"][0]["pointer"], "/metadata/name");
    assert_eq!(c["objects"].as_array().unwrap().len(), 1);
}

#[test]
fn machine_class_node_group_and_node_changes_are_disruptions() {
    let knobs = ClusterKnobs {
        machine_image: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d".into(),
        offering: "medium-4cpu-8gb".into(),
        kernel_args: "mitigations=off".into(),
        vm_cores: 4,
        migrations: 2,
        ..ClusterKnobs::default()
    };
    // Only a label of the pool: no server is replaced.
    let label_only = ClusterKnobs {
        pool_label: "b".into(),
        ..ClusterKnobs::default()
    };
    let (repo, report) = changed_platform(&[
        ("c1", &knobs, &BASE_SECRETS),
        ("c2", &label_only, &BASE_SECRETS),
    ]);
    let c1 = cluster(&report, "c1");
    assert_eq!(
        effects(c1),
        [
            "replace-servers",
            "reprovision-vms",
            "reboot",
            "restart-vm",
            "platform"
        ]
    );
    let messages: Vec<&str> = c1["disruptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        messages[0].starts_with("replaces the servers of pool `worker-a`"),
        "{messages:?}"
    );
    assert!(
        messages[0].ends_with("(changed: `providerSpec.imageId`)"),
        "{messages:?}"
    );
    assert_eq!(
        messages[2],
        "reboots the nodes of pool `worker`: MachineConfig `99-worker-tuning` changed"
    );
    assert!(messages[1].contains("offeringIDs changed"), "{messages:?}");
    let c2 = cluster(&report, "c2");
    assert_eq!(object(c2, "MachineClass", "worker-a")["change"], "changed");
    assert!(effects(c2).is_empty(), "{c2:#}");
    // The Markdown summary leads with the disruptions.
    let out = repo.plinth(&["diff", "--base", "HEAD", "--format", "markdown"]);
    let md = String::from_utf8(out.stdout).unwrap();
    let disruptions = md.find("### Disruptions").unwrap();
    assert!(disruptions < md.find("### Cluster `c1`").unwrap());
    assert!(
        md.contains("| reboot | `c1` | reboots the nodes of pool `worker`"),
        "{md}"
    );
}

/// The fleet's disruptions are ordered by effect (server replacement first), then cluster, in
/// the terminal, Markdown and JSON formats alike; a userData change says it replaces servers
/// and names the field, never its value.
#[test]
fn disruptions_are_ordered_by_effect_then_cluster_in_every_format() {
    // c1 (first by name): a VM restart and a rollout. c2: only its pool's userData changes.
    let knobs = ClusterKnobs {
        image: "registry.example.invalid/web:1.1".into(),
        vm_cores: 4,
        ..ClusterKnobs::default()
    };
    let mut secrets = BASE_SECRETS;
    secrets.user_data = HEAD_SECRETS.user_data;
    let (repo, report) = changed_platform(&[
        ("c1", &knobs, &BASE_SECRETS),
        ("c2", &ClusterKnobs::default(), &secrets),
    ]);
    let expected = [
        ("replace-servers", "c2"),
        ("restart-vm", "c1"),
        ("rollout", "c1"),
    ];
    let listed: Vec<(String, String)> = report["disruptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["effect"].as_str().unwrap().to_owned(),
                d["cluster"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String)> = expected
        .iter()
        .map(|(e, c)| ((*e).to_owned(), (*c).to_owned()))
        .collect();
    assert_eq!(listed, want, "{:#}", report["disruptions"]);
    let replace = &report["disruptions"][0];
    assert_eq!(
        replace["message"],
        "replaces the servers of pool `worker-a`: the replacement key of MachineClass `machine-controller-manager/worker-a` changed (changed: `providerSpec.userData`)"
    );
    assert_eq!(replace["kind"], "MachineClass");
    assert_eq!(effects(cluster(&report, "c2")), ["replace-servers"]);

    let labels = [
        ("replace-servers", "replace servers"),
        ("restart-vm", "restart VM"),
        ("rollout", "rollout"),
    ];
    let label = |effect: &str| labels.iter().find(|(e, _)| *e == effect).unwrap().1;
    // Each format lists the disruptions in the expected order.
    let in_order = |format: &str, line: &dyn Fn(&str, &str) -> String| {
        let out = repo.plinth(&["diff", "--base", "HEAD", "--format", format]);
        let text = String::from_utf8(out.stdout).unwrap();
        let mut at = 0;
        for (effect, cluster) in expected {
            let line = line(label(effect), cluster);
            let found = text[at..]
                .find(&line)
                .unwrap_or_else(|| panic!("{line} after {at}: {text}"));
            at += found + line.len();
        }
        text
    };
    let text = in_order("terminal", &|label, cluster| {
        format!("  [{label}] {cluster}: ")
    });
    let md = in_order("markdown", &|label, cluster| {
        format!("| {label} | `{cluster}` | ")
    });
    for text in [&text, &md, &report.to_string()] {
        assert!(!text.contains(HEAD_SECRETS.user_data) && !text.contains(BASE_SECRETS.user_data));
    }
}

#[test]
fn secret_change_shows_which_secret_changed_without_values() {
    let mut changed = BASE_SECRETS;
    changed.token = HEAD_SECRETS.token;
    let (_, report) = changed_platform(&[("c1", &ClusterKnobs::default(), &changed)]);
    let c = cluster(&report, "c1");
    let secret = object(c, "Secret", "db");
    assert_eq!(secret["fields"].as_array().unwrap().len(), 1);
    let field = &secret["fields"][0];
    assert_eq!(field["pointer"], "/data/token");
    let before = field["before"].as_str().unwrap();
    let after = field["after"].as_str().unwrap();
    assert!(
        before.starts_with("<redacted hmac-sha256:") && after.starts_with("<redacted hmac-sha256:")
    );
    assert_ne!(before, after);
    let text = report.to_string();
    assert!(!text.contains(BASE_SECRETS.token) && !text.contains(&b64(BASE_SECRETS.token)));
    assert!(!text.contains(&b64(HEAD_SECRETS.token)));
}

#[test]
fn planted_secrets_appear_in_no_format() {
    let repo = platform_repo();
    // Every secret changes in c1; c2 is removed and c3 added, so secrets also appear in
    // wholly added and removed objects.
    set_cluster(&repo, "c1", &ClusterKnobs::default(), &HEAD_SECRETS);
    fs_err::rename(repo.root.join("clusters/c2"), repo.root.join("clusters/c3")).unwrap();
    set_cluster(&repo, "c3", &ClusterKnobs::default(), &HEAD_SECRETS);
    let out_dir = repo.root.join("../preview");
    let mut outputs: Vec<(String, String)> = Vec::new();
    for format in ["terminal", "markdown", "json"] {
        let out = repo.plinth(&["diff", "--base", "HEAD", "--format", format]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        outputs.push((
            format!("{format} stdout"),
            String::from_utf8(out.stdout).unwrap(),
        ));
        outputs.push((
            format!("{format} stderr"),
            String::from_utf8(out.stderr).unwrap(),
        ));
        let dir = out_dir.join(format);
        let out = repo.plinth(&[
            "diff",
            "--base",
            "HEAD",
            "--format",
            format,
            "--output-dir",
            dir.to_str().unwrap(),
        ]);
        assert_eq!(out.status.code(), Some(1));
        for entry in fs_err::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            outputs.push((
                path.display().to_string(),
                fs_err::read_to_string(&path).unwrap(),
            ));
        }
    }
    let mut planted = BASE_SECRETS.all();
    planted.extend(HEAD_SECRETS.all());
    // The test can fail: the rendered manifests do carry the head secrets in clear.
    let render_dir = out_dir.join("rendered");
    let render = repo.plinth(&["render", "--output", render_dir.to_str().unwrap()]);
    assert!(
        render.status.success(),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    let mut rendered = String::new();
    for cluster in ["c1", "c3"] {
        for entry in fs_err::read_dir(render_dir.join(cluster)).unwrap() {
            rendered.push_str(&fs_err::read_to_string(entry.unwrap().path()).unwrap());
        }
    }
    let in_clear = planted
        .iter()
        .filter(|s| rendered.contains(s.as_str()))
        .count();
    assert!(
        in_clear >= 8,
        "only {in_clear} planted secrets rendered in clear"
    );
    let mut leaks = Vec::new();
    for (name, text) in &outputs {
        for secret in &planted {
            if text.contains(secret.as_str()) {
                leaks.push(format!("{secret} in {name}"));
            }
        }
    }
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
    // Reviewers still see which values changed.
    let json = &outputs.iter().find(|(n, _)| n == "json stdout").unwrap().1;
    assert!(json.matches("<redacted hmac-sha256:").count() > 10);
    let report: Value = serde_json::from_str(json).unwrap();
    let c1 = cluster(&report, "c1");
    let pointers: Vec<&str> = object(c1, "ConfigMap", "web-config")["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["pointer"].as_str().unwrap())
        .collect();
    assert_eq!(
        pointers,
        [
            "/data/app.yaml",
            "/data/auth",
            "/data/jwt",
            "/data/key.pem",
            "/metadata/annotations/example.com~1ca"
        ]
    );
    // The fingerprint is keyed: the same secret under another key has another fingerprint.
    let other = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args(["diff", "--base", "HEAD", "--format", "json"])
        .current_dir(&repo.root)
        .env("PLINTH_REDACTION_KEY", "another-key")
        .output()
        .unwrap();
    let other: Value = serde_json::from_slice(&other.stdout).unwrap();
    assert_ne!(
        object(cluster(&other, "c1"), "Secret", "db")["fields"][0]["after"],
        object(c1, "Secret", "db")["fields"][0]["after"]
    );
}

#[test]
fn a_revision_that_fails_to_render_exits_2_naming_it() {
    let repo = platform_repo();
    repo.write("assets/vm.yaml.j2", "{% if %}broken\n");
    let head = repo.commit("broken template");
    let out = repo.plinth(&["diff", "--base", "HEAD~1", "--head", "HEAD"]);
    assert_exit(
        &out,
        2,
        &[
            &format!("cannot render head revision `HEAD` ({})", &head[..7]),
            "vm.yaml.j2",
        ],
    );
    // An unknown revision is named too.
    let out = repo.plinth(&["diff", "--base", "no-such-branch"]);
    assert_exit(&out, 2, &["cannot render base revision `no-such-branch`"]);
}

#[test]
fn diff_leaves_the_working_tree_and_index_untouched() {
    let repo = platform_repo();
    set_cluster(
        &repo,
        "c1",
        &ClusterKnobs {
            replicas: 3,
            ..ClusterKnobs::default()
        },
        &BASE_SECRETS,
    );
    repo.git(&["add", "clusters/c1/cluster.yaml"]);
    repo.write("clusters/c2/inventory.yaml", WITH_PCI);
    let status = repo.git(&["status", "--porcelain"]);
    let index = repo.git(&["ls-files", "-s"]);
    let head = repo.git(&["rev-parse", "HEAD"]);
    let (code, report) = repo.diff_json(&["--base", "HEAD"]);
    assert_eq!(code, 1);
    // The working tree (staged and unstaged changes) is head.
    assert_eq!(
        report["clusters"].as_array().unwrap().len(),
        2,
        "{report:#}"
    );
    assert_eq!(repo.git(&["status", "--porcelain"]), status);
    assert_eq!(repo.git(&["ls-files", "-s"]), index);
    assert_eq!(repo.git(&["rev-parse", "HEAD"]), head);
}

#[test]
fn rendered_output_in_the_revision_is_ignored() {
    let repo = platform_repo();
    let render = repo.plinth(&["render"]);
    assert!(
        render.status.success(),
        "{}",
        String::from_utf8_lossy(&render.stderr)
    );
    repo.commit("rendered");
    // A stale committed output does not change what the diff compares.
    repo.write(
        "rendered/c1/extra.yaml",
        "apiVersion: v1\nkind: ConfigMap\n",
    );
    repo.commit("junk in rendered");
    let (code, _) = repo.diff_json(&["--base", "HEAD~2", "--head", "HEAD"]);
    assert_eq!(code, 0);
}

/// A fleet whose preview is far larger than one GitHub comment: 30 clusters, each with a
/// ConfigMap of 300 changed keys.
#[test]
fn markdown_larger_than_a_comment_is_split_into_parts() {
    let repo = new_repo();
    repo.write(
        "assets/metadata.yaml",
        "assets:\n  - name: big\n    path: big.yaml.j2\n    install: always\n",
    );
    repo.write(
        "assets/big.yaml.j2",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\n  namespace: x\ndata:\n{% for i in range(300) %}  key-{{ i }}: \"value {{ i }} of revision {{ params.rev }}\"\n{% endfor %}",
    );
    for i in 0..30 {
        repo.write(
            &format!("clusters/c{i:02}/cluster.yaml"),
            "params:\n  rev: one\n",
        );
    }
    repo.commit("base");
    for i in 0..30 {
        repo.write(
            &format!("clusters/c{i:02}/cluster.yaml"),
            "params:\n  rev: two\n",
        );
    }
    let dir = repo.root.join("../parts");
    // A stale part of an earlier, larger preview goes; other files stay.
    fs_err::create_dir_all(&dir).unwrap();
    fs_err::write(dir.join("preview-part-99.md"), "stale").unwrap();
    fs_err::write(dir.join("preview-notes.txt"), "keep").unwrap();
    let out = repo.plinth(&[
        "diff",
        "--base",
        "HEAD",
        "--format",
        "markdown",
        "--output-dir",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!dir.join("preview-part-99.md").exists());
    fs_err::remove_file(dir.join("preview-notes.txt")).unwrap();
    let mut files: Vec<PathBuf> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let n = files.len();
    assert!(n >= 4, "only {n} parts");
    // Named as docs/diff.md says: `preview-part-01.md`, `preview-part-02.md`, ...
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let expected: Vec<String> = (1..=n).map(|i| format!("preview-part-{i:02}.md")).collect();
    assert_eq!(names, expected);
    let mut all = String::new();
    for (i, path) in files.iter().enumerate() {
        let text = fs_err::read_to_string(path).unwrap();
        assert!(
            text.chars().count() <= 65_536,
            "{} too long",
            path.display()
        );
        assert!(
            text.contains(&format!("part {}/{n}", i + 1)),
            "{}",
            path.display()
        );
        assert_eq!(text.matches("```").count() % 2, 0, "{}", path.display());
        all.push_str(&text);
    }
    let first = fs_err::read_to_string(&files[0]).unwrap();
    assert!(first.contains("## plinth preview") && first.contains("### Clusters"));
    // Nothing is cut: every changed line of every cluster is somewhere.
    for i in 0..30 {
        assert!(
            all.contains(&format!("| `c{i:02}` | changed |")),
            "c{i:02} summary"
        );
    }
    let mut missing = String::new();
    for key in 0..300 {
        let line = format!("+  key-{key}: value {key} of revision two");
        let count = all.matches(&line).count();
        if count != 30 {
            let _ = writeln!(missing, "{line}: {count} times");
        }
    }
    assert!(missing.is_empty(), "{missing}");
    // Stdout holds the same parts when no folder is given.
    let out = repo.plinth(&["diff", "--base", "HEAD", "--format", "markdown"]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.matches("<!-- plinth-preview part ").count(), n);
}

#[test]
fn a_platform_folder_inside_a_larger_repository() {
    let repo = platform_repo();
    // Move everything one level down: the git root is the parent of the platform folder.
    let outer = TempRepo::new();
    copy_dir_except(&repo.root, &outer.root.join("platform"), &[".git"]);
    outer.commit("nested");
    outer.write(
        "platform/assets/vm.yaml.j2",
        VM.replace("runStrategy: Always", "runStrategy: Manual"),
    );
    let out = Command::new(env!("CARGO_BIN_EXE_plinth"))
        .args([
            "diff", "--base", "HEAD", "--repo", "platform", "--format", "json",
        ])
        .current_dir(&outer.root)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["objectsChanged"], 2);
}

/// The exact preview a reviewer reads, for a change with every kind of disruption, in the
/// terminal and Markdown formats.
#[test]
fn preview_snapshots() {
    let repo = platform_repo();
    let knobs = ClusterKnobs {
        machine_image: "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d".into(),
        offering: "medium-4cpu-8gb".into(),
        kernel_args: "mitigations=off".into(),
        image: "registry.example.invalid/web:1.1".into(),
        vm_cores: 4,
        migrations: 2,
        ..ClusterKnobs::default()
    };
    let mut secrets = BASE_SECRETS;
    secrets.db_password = HEAD_SECRETS.db_password;
    set_cluster(&repo, "c1", &knobs, &secrets);
    repo.write("clusters/c1/inventory.yaml", WITH_PCI);
    let short = repo.git(&["rev-parse", "--short=7", "HEAD"]);
    let mut settings = insta::Settings::clone_current();
    settings.add_filter(short.trim(), "[base]");
    settings.bind(|| {
        for format in ["terminal", "markdown"] {
            let out = repo.plinth(&["diff", "--base", "HEAD", "--format", format]);
            assert_eq!(out.status.code(), Some(1));
            insta::assert_snapshot!(
                format!("preview_{format}"),
                String::from_utf8(out.stdout).unwrap()
            );
        }
    });
}
