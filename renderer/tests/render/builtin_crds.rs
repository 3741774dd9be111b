//! The built-in assets against the real upstream CRDs of `../shared/specs/crds`: rendered
//! with every opt-in and every optional parameter switched on, every object of a kind those
//! CRDs define must validate; and parameters keep their type through each template that
//! takes them (an integer stays an integer, a percentage or quantity string stays a string).

#![allow(clippy::unwrap_used, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use plinth_renderer::schema::Schemas;
use plinth_renderer::{Fleet, RenderedCluster, Source};
use serde_json::{Value, json};

/// Every opt-in annotation of the built-in catalog, every feature gate it reads, and every
/// optional parameter the templates take.
const EVERYTHING: &str = r#"name: c1
labels:
  region: eu-east
annotations:
  platform.kubevirt.io/openshift: "true"
  platform.kubevirt.io/enable-vfio: "true"
  platform.kubevirt.io/enable-mtv: "true"
  platform.kubevirt.io/enable-metallb: "true"
  platform.kubevirt.io/enable-observability: "true"
  platform.kubevirt.io/enable-aaq: "true"
  platform.kubevirt.io/enable-node-maintenance: "true"
  platform.kubevirt.io/enable-fence-agents: "true"
  platform.kubevirt.io/enable-usb-passthrough: "true"
  platform.kubevirt.io/enable-kubevirt-metrics-exporter: "true"
  platform.kubevirt.io/enable-kubelet-performance-settings: "true"
  platform.kubevirt.io/enable-incident-detection: "true"
featureGates:
  - CPUManager
images:
  kubevirt-metrics-exporter: registry.example.invalid/exporter:v1.0.0
params:
  hcoNamespace: openshift-cnv
  nodeHealthCheck:
    minHealthy: 2
    unhealthyDuration: 120s
    snrStrategy: OutOfServiceTaint
    snrTimeout: 5m
  fenceAgents:
    agent: fence_redfish
    templateName: far-template
    sharedParameters: {--lanplus: "", --port: 623}
    nodeParameters:
      --ip: {m0: 192.0.2.10, w0: 192.0.2.11}
    sharedSecretName: bmc-shared
    nodeSecretNames: {m0: bmc-m0, w0: bmc-w0}
    remediationStrategy: ResourceDeletion
    remediationTimeout: 10m
    retryCount: 3
    retryInterval: 10s
    timeout: 30s
  liveMigration:
    parallelMigrationsPerCluster: 4
    parallelOutboundMigrationsPerNode: 1
    completionTimeoutPerGiB: 200
    progressTimeout: 300
    allowAutoConverge: true
    allowPostCopy: true
    bandwidthPerMigration: 64Mi
    network: migration-net
  hco:
    evictionStrategy: LiveMigrate
    vmiCPUAllocationRatio: 8
    memoryOvercommitPercentage: 150
    tuningPolicy: highBurst
    uninstallStrategy: BlockUninstallIfWorkloadsExist
    enableCommonBootImageImport: true
    featureGates:
      deployKubeSecondaryDNS: true
  alerts:
    migrationStuckAfter: 1800
    migrationFailuresPerHour: 5
    launcherMemoryRequestRatio: 0.9
    swapUsedRatio: 0.7
  swap: {size: 16Gi, file: /var/lib/kubevirt-swap/swapfile, diskReserve: 20Gi, role: worker}
  pciPassthrough: {role: worker}
  vfio: {role: worker}
  usb: {role: worker}
  kubelet: {role: worker, maxPods: 250}
  cpuManager: {reservedSystemCPUs: "0-1", systemReservedCPU: 1000m, systemReservedMemory: 2Gi}
  numa: {topologyManagerPolicy: single-numa-node, topologyManagerScope: pod}
  descheduler:
    mode: Automatic
    deschedulingIntervalSeconds: 120
    deviationThresholds: AsymmetricLow
    actualUtilizationProfile: PrometheusCPUCombined
    softTainter: true
    excludedNamespaces: [kube-system, openshift-cnv]
  workloadAvailability: {namespace: openshift-workload-availability, manageOperatorGroup: true}
  nodeMaintenance:
    channel: stable
    source: redhat-operators
    sourceNamespace: openshift-marketplace
    installPlanApproval: Manual
    startingCSV: node-maintenance-operator.v5.4.0
  mtv: {namespace: openshift-mtv, maxVmInflight: 10, precopyInterval: 30}
  metallb:
    namespace: metallb-system
    logLevel: debug
    speakerNodeSelector: {node-role.kubernetes.io/worker: ""}
    speakerTolerations: [{key: example, operator: Exists, effect: NoSchedule}]
    addressPools:
      - {name: public, addresses: [192.0.2.0/28], autoAssign: false, avoidBuggyIPs: true}
      - {name: bgp, addresses: [198.51.100.0/28], l2Advertisement: false}
  observability: {incidents: true}
"#;

/// GPUs, NUMA, SR-IOV and USB, and schedulable masters.
const INVENTORY: &str = r#"nodes:
  - name: m0
    roles: [control-plane, master, worker]
    cpuVendor: GenuineIntel
    numaNodes: 2
    labels:
      feature.node.kubernetes.io/network-sriov.capable: "true"
      feature.node.kubernetes.io/memory-numa: "true"
      feature.node.kubernetes.io/pci-0302_10de.present: "true"
    pciDevices:
      - {vendor: "10de", device: "20b7", class: "0302", name: NVIDIA A30, address: "0000:3b:00.0"}
    usbDevices:
      - {vendor: "096e", product: "0608", name: Feitian ePass token}
  - name: w0
    roles: [worker]
    cpuVendor: GenuineIntel
    numaNodes: 2
    labels:
      feature.node.kubernetes.io/memory-numa: "true"
"#;

fn render(cluster: &str) -> RenderedCluster {
    let files: BTreeMap<String, Vec<u8>> = [
        ("plinth.yaml", "paths:\n  catalog: builtin\n"),
        ("clusters/c1/cluster.yaml", cluster),
        ("clusters/c1/inventory.yaml", INVENTORY),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
    .collect();
    Fleet::open(Source::memory(files))
        .unwrap()
        .render_cluster("c1")
        .unwrap()
}

fn crds() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/specs/crds");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: ../shared/specs/crds not found; the built-in assets were not validated"
        );
        None
    }
}

fn object<'a>(r: &'a RenderedCluster, kind: &str) -> &'a Value {
    &r.objects
        .iter()
        .find(|o| o.identity.kind == kind)
        .unwrap_or_else(|| panic!("no {kind} rendered"))
        .value
}

#[test]
fn every_builtin_asset_switched_on_validates_against_the_upstream_crds() {
    let rendered = render(EVERYTHING);
    let excluded: Vec<&str> = rendered
        .decisions
        .iter()
        .filter(|d| !d.included)
        .map(|d| d.asset.as_str())
        .collect();
    eprintln!("assets not rendered: {excluded:?}");
    let Some(dir) = crds() else { return };
    let schemas = Schemas::load_dir(&dir, 64 * 1024 * 1024).unwrap();
    let mut problems = Vec::new();
    let mut checked = 0;
    for o in &rendered.objects {
        if let Some(p) = schemas.validate(&o.value, &o.identity.to_string()) {
            checked += 1;
            problems.extend(p.into_iter().map(|p| p.to_string()));
        }
    }
    eprintln!("{checked} of {} objects had a CRD", rendered.objects.len());
    assert!(checked > 10, "only {checked} objects were checked");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn min_healthy_keeps_integers_and_percentages() {
    for (given, expected) in [
        ("2", json!(2)),
        ("\"2\"", json!(2)),
        ("\"40%\"", json!("40%")),
        ("0", json!(0)),
    ] {
        let cluster =
            EVERYTHING.replace("    minHealthy: 2\n", &format!("    minHealthy: {given}\n"));
        let r = render(&cluster);
        assert_eq!(
            object(&r, "NodeHealthCheck")["spec"]["minHealthy"],
            expected,
            "{given}"
        );
    }
    // Unset: the documented default, a percentage.
    let r = render(&EVERYTHING.replace("    minHealthy: 2\n", ""));
    assert_eq!(
        object(&r, "NodeHealthCheck")["spec"]["minHealthy"],
        json!("51%")
    );
}

#[test]
fn bandwidth_per_migration_keeps_integers_and_quantities() {
    for (given, expected) in [("67108864", json!(67_108_864)), ("64Mi", json!("64Mi"))] {
        let cluster = EVERYTHING.replace(
            "    bandwidthPerMigration: 64Mi\n",
            &format!("    bandwidthPerMigration: {given}\n"),
        );
        let r = render(&cluster);
        assert_eq!(
            object(&r, "HyperConverged")["spec"]["liveMigrationConfig"]["bandwidthPerMigration"],
            expected,
            "{given}"
        );
    }
}

/// Every value under key `key` anywhere in `v`.
fn values_of<'a>(v: &'a Value, key: &str, out: &mut Vec<&'a Value>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == key {
                    out.push(child);
                }
                values_of(child, key, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| values_of(i, key, out)),
        _ => {}
    }
}

#[test]
fn numbers_and_booleans_keep_their_type_through_every_template() {
    // (kind, [(rendered key, the value of the parameter in EVERYTHING)]): each must come out as
    // that JSON value, type and all, in every object of the kind.
    let expected: Vec<(&str, Vec<(&str, Value)>)> = vec![
        (
            "HyperConverged",
            vec![
                ("parallelMigrationsPerCluster", json!(4)),
                ("parallelOutboundMigrationsPerNode", json!(1)),
                ("completionTimeoutPerGiB", json!(200)),
                ("progressTimeout", json!(300)),
                ("allowAutoConverge", json!(true)),
                ("allowPostCopy", json!(true)),
                ("vmiCPUAllocationRatio", json!(8)),
                ("memoryOvercommitPercentage", json!(150)),
                ("enableCommonBootImageImport", json!(true)),
                ("bandwidthPerMigration", json!("64Mi")),
            ],
        ),
        (
            "KubeDescheduler",
            vec![
                ("deschedulingIntervalSeconds", json!(120)),
                ("total", json!(4)),
                ("node", json!(1)),
                ("devEnableSoftTainter", json!(true)),
            ],
        ),
        (
            "KubeletConfig",
            vec![
                ("maxPods", json!(250)),
                ("reservedSystemCPUs", json!("0-1")),
            ],
        ),
        (
            "ForkliftController",
            vec![
                ("controller_max_vm_inflight", json!(10)),
                ("controller_precopy_interval", json!(30)),
            ],
        ),
        (
            "FenceAgentsRemediationTemplate",
            vec![("retrycount", json!(3))],
        ),
        ("NodeHealthCheck", vec![("minHealthy", json!(2))]),
        (
            "IPAddressPool",
            vec![("autoAssign", json!(false)), ("avoidBuggyIPs", json!(true))],
        ),
    ];
    let rendered = render(EVERYTHING);
    let mut wrong = Vec::new();
    for (kind, key, want) in expected
        .iter()
        .flat_map(|(kind, keys)| keys.iter().map(move |(key, want)| (kind, key, want)))
    {
        let mut found = Vec::new();
        for o in rendered.objects.iter().filter(|o| o.identity.kind == *kind) {
            values_of(&o.value, key, &mut found);
        }
        if found.is_empty() {
            wrong.push(format!("{kind}: no `{key}`"));
        }
        for got in found {
            if *key == "autoAssign" || *key == "avoidBuggyIPs" {
                // Two pools: one with the parameters, one with the defaults.
                if got.is_boolean() {
                    continue;
                }
            }
            if got != want {
                wrong.push(format!("{kind}: `{key}` is {got}, not {want}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
