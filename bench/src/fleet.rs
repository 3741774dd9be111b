//! A deterministic synthetic platform repository for benchmarks: its own catalog and
//! templates (a virtualization platform's kinds plus per-cluster tenants, virtual machines
//! and apps generated in loops), hardware and cloud overlay profiles, and clusters with
//! varied hardware, annotations and feature gates so that asset decisions differ.

use std::fmt::Write as _;
use std::path::Path;

/// What [`generate`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FleetStats {
    pub clusters: usize,
    /// Files written, all of them.
    pub files: usize,
    /// Bytes written, all files together.
    pub bytes: u64,
}

/// The overlay profiles the generated clusters compose.
pub const PROFILES: [&str; 5] = [
    "bare-metal",
    "gpu-nodes",
    "sriov-net",
    "cloud-stackit",
    "cloud-vpsie",
];

/// The name of cluster `i` (`cluster-0042`).
pub fn cluster_name(i: usize) -> String {
    format!("cluster-{i:04}")
}

/// `SplitMix64`: a tiny, stable pseudo-random sequence, so a seed means the same fleet forever.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`.
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// True with probability `percent` / 100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        let i = usize::try_from(self.below(items.len() as u64)).unwrap_or(0);
        items[i]
    }
}

const PLINTH_YAML: &str = "\
# plinth settings of the synthetic benchmark fleet (written by plinth-bench)
paths:
  catalog: assets/metadata.yaml
  clusters: clusters
  overlays: overlays
output:
  flavour: kustomize
";

const CATALOG: &str = r#"# synthetic virtualization platform catalog (written by plinth-bench)
assets:
  - name: hco
    path: hco.yaml.j2
    phase: 0
    install: always
    component: HyperConverged
    reconcile_order: 0
  - name: machine-configs
    path: machine-configs.yaml.j2
    phase: 1
    install: always
    component: MachineConfig
    reconcile_order: 1
  - name: pci-passthrough
    path: pci-passthrough.yaml.j2
    phase: 1
    install: opt-in
    component: MachineConfig
    reconcile_order: 1
    conditions:
      - &openshift
        type: annotation
        key: platform.kubevirt.io/openshift
        value: "true"
      - type: hardware-detection
        detector: pciDevicesPresent
  - name: kubelet-cpu-manager
    path: kubelet-cpu-manager.yaml.j2
    phase: 1
    install: always
    component: KubeletConfig
    reconcile_order: 1
  - name: numa-topology
    path: numa-topology.yaml.j2
    phase: 1
    install: opt-in
    component: KubeletConfig
    reconcile_order: 1
    conditions:
      - *openshift
      - type: hardware-detection
        detector: numaNodesPresent
  - name: node-health
    path: node-health.yaml.j2
    phase: 1
    install: always
    component: NodeHealthCheck
    reconcile_order: 2
  - name: alerts
    path: alerts.yaml.j2
    phase: 1
    install: always
    component: PrometheusRule
    reconcile_order: 1
  - name: sriov
    path: sriov.yaml.j2
    phase: 2
    install: opt-in
    component: SriovNetworkNodePolicy
    reconcile_order: 1
    conditions:
      - type: hardware-detection
        detector: sriovPresent
  - name: gpu
    path: gpu.yaml.j2
    phase: 2
    install: opt-in
    component: ClusterPolicy
    reconcile_order: 1
    conditions:
      - type: hardware-detection
        detector: gpuPresent
  - name: mtv
    path: mtv.yaml.j2
    phase: 3
    install: opt-in
    component: Subscription
    reconcile_order: 1
    conditions:
      - type: annotation
        key: platform.kubevirt.io/enable-mtv
        value: "true"
  - name: tenants
    path: tenants.yaml.j2
    phase: 1
    install: always
    component: Namespace
    reconcile_order: 1
  - name: virtual-machines
    path: virtual-machines.yaml.j2
    phase: 1
    install: always
    component: VirtualMachine
    reconcile_order: 3
  - name: apps
    path: apps.yaml.j2
    phase: 1
    install: always
    component: Deployment
    reconcile_order: 2
  - name: pull-secret
    path: pull-secret.yaml.j2
    phase: 1
    install: always
    component: Secret
    reconcile_order: 1
  - name: sidecar-hooks
    path: sidecar-hooks.yaml.j2
    phase: 3
    install: opt-in
    component: ConfigMap
    reconcile_order: 2
    conditions:
      - type: feature-gate
        value: Sidecar
  - name: metrics-exporter
    path: metrics-exporter.yaml.j2
    phase: 2
    install: opt-in
    component: DaemonSet
    reconcile_order: 2
    conditions:
      - type: image
        key: exporter
  - name: workload-update-default
    path: workload-update.yaml.j2
    phase: 2
    install: opt-in
    component: ConfigMap
    reconcile_order: 2
    conditions:
      - type: hco-field-unconfigured
        path: spec.workloadUpdateStrategy
  - name: descheduler
    path: descheduler.yaml.j2
    phase: 2
    install: opt-in
    component: KubeDescheduler
    reconcile_order: 2
    conditions:
      - type: topology
        field: hasSchedulableMasters
features:
  - name: hardware-acceleration
    description: GPU, SR-IOV and PCI passthrough
    assets: [gpu, sriov, pci-passthrough]
  - name: migration
    description: Migration Toolkit for Virtualization
    assets: [mtv]
"#;

const TEMPLATES: [(&str, &str); 18] = [
    ("hco.yaml.j2", include_str!("../templates/hco.yaml.j2")),
    (
        "machine-configs.yaml.j2",
        include_str!("../templates/machine-configs.yaml.j2"),
    ),
    (
        "pci-passthrough.yaml.j2",
        include_str!("../templates/pci-passthrough.yaml.j2"),
    ),
    (
        "kubelet-cpu-manager.yaml.j2",
        include_str!("../templates/kubelet-cpu-manager.yaml.j2"),
    ),
    (
        "numa-topology.yaml.j2",
        include_str!("../templates/numa-topology.yaml.j2"),
    ),
    (
        "node-health.yaml.j2",
        include_str!("../templates/node-health.yaml.j2"),
    ),
    (
        "alerts.yaml.j2",
        include_str!("../templates/alerts.yaml.j2"),
    ),
    ("sriov.yaml.j2", include_str!("../templates/sriov.yaml.j2")),
    ("gpu.yaml.j2", include_str!("../templates/gpu.yaml.j2")),
    ("mtv.yaml.j2", include_str!("../templates/mtv.yaml.j2")),
    (
        "tenants.yaml.j2",
        include_str!("../templates/tenants.yaml.j2"),
    ),
    (
        "virtual-machines.yaml.j2",
        include_str!("../templates/virtual-machines.yaml.j2"),
    ),
    ("apps.yaml.j2", include_str!("../templates/apps.yaml.j2")),
    (
        "pull-secret.yaml.j2",
        include_str!("../templates/pull-secret.yaml.j2"),
    ),
    (
        "sidecar-hooks.yaml.j2",
        include_str!("../templates/sidecar-hooks.yaml.j2"),
    ),
    (
        "metrics-exporter.yaml.j2",
        include_str!("../templates/metrics-exporter.yaml.j2"),
    ),
    (
        "workload-update.yaml.j2",
        include_str!("../templates/workload-update.yaml.j2"),
    ),
    (
        "descheduler.yaml.j2",
        include_str!("../templates/descheduler.yaml.j2"),
    ),
];

const OVERLAY_BARE_METAL: &str = r"# bare-metal servers: local NVMe storage, bigger VMs, live migration first
values:
  storageClass: local-nvme
  vmCpu: 4
  vmMemory: 16Gi
  evictionStrategy: LiveMigrate
  migrationBandwidth: 1Gi
patches:
  - target:
      kind: HyperConverged
    mergePatch:
      spec:
        liveMigrationConfig:
          parallelMigrationsPerCluster: 10
  - target:
      kind: MachineConfig
      labelSelector: machineconfiguration.openshift.io/role=worker
    mergePatch:
      metadata:
        annotations:
          bench.plinth.dev/hardware: bare-metal
";

const OVERLAY_GPU: &str = r#"# GPU nodes: NVIDIA driver pinned, RDMA on
values:
  gpuDriverVersion: "550.54.15"
patches:
  - target:
      apiVersion: nvidia.com/v1
      kind: ClusterPolicy
      name: gpu-cluster-policy
    jsonPatch:
      - op: add
        path: /spec/driver/rdma
        value:
          enabled: true
"#;

const OVERLAY_SRIOV: &str = r"# SR-IOV NICs: more virtual functions, tenant VLAN
values:
  sriovVfs: 16
patches:
  - target:
      kind: SriovNetwork
      name: vm-net
    mergePatch:
      spec:
        vlan: 210
";

const OVERLAY_STACKIT: &str = r"# STACKIT cloud servers: network storage, smaller VMs
values:
  storageClass: premium-perf4-stackit
  vmCpu: 2
  vmMemory: 8Gi
  evictionStrategy: LiveMigrateIfPossible
  migrationBandwidth: 256Mi
patches:
  - target:
      kind: PrometheusRule
    mergePatch:
      metadata:
        labels:
          bench.plinth.dev/cloud: stackit
";

const OVERLAY_VPSIE: &str = r"# VPSie VMs: autoscaled, one replica per app
values:
  storageClass: vpsie-ssd
  vmCpu: 2
  vmMemory: 4Gi
  evictionStrategy: External
  migrationBandwidth: 128Mi
patches:
  - target:
      kind: Deployment
      labelSelector: app.kubernetes.io/part-of=bench-apps
    jsonPatch:
      - op: replace
        path: /spec/replicas
        value: 1
";

fn overlay_text(name: &str) -> &'static str {
    match name {
        "bare-metal" => OVERLAY_BARE_METAL,
        "gpu-nodes" => OVERLAY_GPU,
        "sriov-net" => OVERLAY_SRIOV,
        "cloud-stackit" => OVERLAY_STACKIT,
        _ => OVERLAY_VPSIE,
    }
}

const TENANT_POOL: [&str; 6] = ["team-a", "team-b", "team-c", "team-d", "team-e", "team-f"];
const APP_POOL: [&str; 6] = ["portal", "billing", "search", "ingest", "reports", "auth"];
const REGIONS: [&str; 4] = ["eu01", "eu02", "us01", "ap01"];
const GATES: [&str; 5] = ["Sidecar", "Snapshot", "VMExport", "GPU", "HostDevices"];

/// Hardware profile of a generated cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hardware {
    Gpu,
    Numa,
    Sriov,
    Plain,
}

fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

fn cluster_files(i: usize, rng: &mut Rng) -> (String, String) {
    let name = cluster_name(i);
    let hw = match rng.below(100) {
        0..20 => Hardware::Gpu,
        20..45 => Hardware::Numa,
        45..65 => Hardware::Sriov,
        _ => Hardware::Plain,
    };
    let mut overlays: Vec<&str> = Vec::new();
    match hw {
        Hardware::Gpu => overlays.extend(["bare-metal", "gpu-nodes"]),
        Hardware::Numa => overlays.push("bare-metal"),
        Hardware::Sriov => overlays.extend(["bare-metal", "sriov-net"]),
        Hardware::Plain => overlays.push(rng.pick(&["cloud-stackit", "cloud-vpsie"])),
    }
    let openshift = hw != Hardware::Plain || rng.chance(30);
    let mtv = rng.chance(30);
    let gates: Vec<&str> = GATES.iter().copied().filter(|_| rng.chance(40)).collect();
    let tenants = 3 + usize::try_from(rng.below(3)).unwrap_or(0);
    let apps = 3 + usize::try_from(rng.below(3)).unwrap_or(0);
    let exporter = rng.chance(50);
    let workload_update = rng.chance(40);
    let region = rng.pick(&REGIONS);
    let env = rng.pick(&["prod", "stage", "dev"]);

    let mut c = String::new();
    let _ = writeln!(c, "# cluster {name} (written by plinth-bench)");
    let _ = writeln!(c, "name: {name}");
    let _ = writeln!(c, "labels:\n  region: {region}\n  env: {env}");
    c.push_str("annotations:\n");
    let _ = writeln!(c, "  platform.kubevirt.io/openshift: \"{openshift}\"");
    if mtv {
        c.push_str("  platform.kubevirt.io/enable-mtv: \"true\"\n");
    }
    let _ = writeln!(c, "featureGates: [{}]", gates.join(", "));
    let _ = writeln!(c, "overlays: [{}]", overlays.join(", "));
    c.push_str("params:\n");
    let _ = writeln!(c, "  tenants: [{}]", TENANT_POOL[..tenants].join(", "));
    c.push_str("  vmsPerTenant: 2\n");
    c.push_str("  vmDisk: 40Gi\n");
    let _ = writeln!(
        c,
        "  vmImage: docker://registry.example.invalid/images/{}:{}",
        rng.pick(&["fedora", "rhel9", "ubuntu"]),
        rng.pick(&["41", "42", "9.6"])
    );
    c.push_str("  mcRoles: [worker]\n");
    let _ = writeln!(c, "  swapSize: {}G", 4 + rng.below(4) * 4);
    let _ = writeln!(c, "  hugepages: {}", 8 + rng.below(4) * 8);
    let _ = writeln!(c, "  reservedCpus: \"0-{}\"", 1 + rng.below(3));
    c.push_str("  systemReservedCpu: 500m\n");
    let _ = writeln!(c, "  systemReservedMemory: {}Mi", 1024 + rng.below(4) * 512);
    let _ = writeln!(c, "  unhealthyAfter: {}s", 300 + rng.below(3) * 60);
    c.push_str("  alertGroups: [virt-handler, virt-controller, cdi, hco]\n");
    c.push_str("  sriovPfs: [ens1f0, ens1f1]\n");
    c.push_str("  sriovVfs: 8\n");
    c.push_str("  hcoFeatureGates:\n");
    for g in [
        "deployKubeSecondaryDNS",
        "enableCommonBootImageImport",
        "persistentReservation",
    ] {
        let _ = writeln!(c, "    {g}: {}", rng.chance(50));
    }
    if workload_update {
        let _ = writeln!(
            c,
            "  workloadUpdate:\n    batch: {}\n    methods: [LiveMigrate]",
            5 + rng.below(6)
        );
    }
    c.push_str("  apps:\n");
    for app in &APP_POOL[..apps] {
        let _ = writeln!(
            c,
            "    - {{name: {app}, version: \"1.{}.{}\", replicas: {}, logLevel: {}, memory: {}Mi}}",
            rng.below(10),
            rng.below(20),
            2 + rng.below(3),
            rng.pick(&["info", "debug", "warn"]),
            256 * (1 + rng.below(4))
        );
    }
    if exporter {
        let _ = writeln!(
            c,
            "images:\n  exporter: registry.example.invalid/metrics-exporter:v0.{}.0",
            10 + rng.below(5)
        );
    }
    if rng.chance(10) {
        let _ = writeln!(
            c,
            "patches:\n  - target:\n      kind: Deployment\n      name: {}\n      namespace: bench-apps\n    mergePatch:\n      spec:\n        replicas: {}",
            APP_POOL[0],
            4 + rng.below(4)
        );
    }

    let inventory = inventory_text(hw, rng);
    (c, inventory)
}

fn inventory_text(hw: Hardware, rng: &mut Rng) -> String {
    let vendor = rng.pick(&["GenuineIntel", "AuthenticAMD"]);
    let schedulable_masters = rng.chance(20);
    let workers = 3 + rng.below(4);
    let mut s = String::from("# hardware inventory (written by plinth-bench)\nnodes:\n");
    for m in 0..3 {
        let _ = writeln!(
            s,
            "  - name: master-{m}\n    roles: [master]\n    cpuVendor: {vendor}\n    numaNodes: 1"
        );
        if !schedulable_masters {
            s.push_str(
                "    taints:\n      - key: node-role.kubernetes.io/master\n        effect: NoSchedule\n",
            );
        }
    }
    for w in 0..workers {
        let _ = writeln!(
            s,
            "  - name: worker-{w}\n    roles: [worker]\n    cpuVendor: {vendor}"
        );
        let numa = matches!(hw, Hardware::Numa) || (hw == Hardware::Gpu && w % 2 == 0);
        let _ = writeln!(s, "    numaNodes: {}", if numa { 2 } else { 1 });
        s.push_str("    labels:\n");
        let _ = writeln!(
            s,
            "      topology.kubernetes.io/zone: {}",
            quoted(&format!("zone-{}", w % 3))
        );
        if numa {
            s.push_str("      feature.node.kubernetes.io/memory-numa: \"true\"\n");
        }
        match hw {
            Hardware::Gpu => {
                let (device, model) = if w % 2 == 0 {
                    ("20b5", "A100_PCIE_80GB")
                } else {
                    ("2330", "H100_SXM5_80GB")
                };
                let _ = writeln!(
                    s,
                    "      feature.node.kubernetes.io/pci-0302_10de.present: \"true\"\n    pciDevices:\n      - {{vendor: \"10de\", device: \"{device}\", class: \"0302\", name: {model}, address: \"0000:3b:00.0\"}}"
                );
            }
            Hardware::Sriov => {
                s.push_str("      feature.node.kubernetes.io/network-sriov.capable: \"true\"\n");
                s.push_str("    pciDevices:\n      - {vendor: \"8086\", device: \"158b\", class: \"0200\", name: XXV710, address: \"0000:5e:00.0\"}\n");
            }
            Hardware::Numa | Hardware::Plain => {}
        }
    }
    s
}

fn write(root: &Path, rel: &str, text: &str, stats: &mut FleetStats) -> std::io::Result<()> {
    let path = root.join(rel);
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent)?;
    }
    fs_err::write(&path, text)?;
    stats.files += 1;
    stats.bytes += text.len() as u64;
    Ok(())
}

/// Writes a platform repository of `clusters` clusters into `dir` (created when missing).
/// The same `clusters` and `seed` always give the same bytes.
pub fn generate(dir: &Path, clusters: usize, seed: u64) -> std::io::Result<FleetStats> {
    let mut stats = FleetStats {
        clusters,
        files: 0,
        bytes: 0,
    };
    write(dir, "plinth.yaml", PLINTH_YAML, &mut stats)?;
    write(dir, "assets/metadata.yaml", CATALOG, &mut stats)?;
    for (name, text) in TEMPLATES {
        write(dir, &format!("assets/{name}"), text, &mut stats)?;
    }
    for profile in PROFILES {
        write(
            dir,
            &format!("overlays/{profile}/overlay.yaml"),
            overlay_text(profile),
            &mut stats,
        )?;
    }
    let mut rng = Rng(seed);
    for i in 0..clusters {
        let (cluster, inventory) = cluster_files(i, &mut rng);
        let name = cluster_name(i);
        write(
            dir,
            &format!("clusters/{name}/cluster.yaml"),
            &cluster,
            &mut stats,
        )?;
        write(
            dir,
            &format!("clusters/{name}/inventory.yaml"),
            &inventory,
            &mut stats,
        )?;
    }
    Ok(stats)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use plinth_renderer::{Fleet, Source};

    use super::*;

    fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in fs_err::read_dir(&d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(dir).unwrap().display().to_string();
                    out.insert(rel, fs_err::read(&path).unwrap());
                }
            }
        }
        out
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_fleet() {
        let (a, b, c) = (
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
            tempfile::tempdir().unwrap(),
        );
        let sa = generate(a.path(), 12, 7).unwrap();
        generate(b.path(), 12, 7).unwrap();
        generate(c.path(), 12, 8).unwrap();
        let (ta, tb, tc) = (
            read_tree(a.path()),
            read_tree(b.path()),
            read_tree(c.path()),
        );
        assert_eq!(ta, tb);
        assert_ne!(ta, tc);
        assert_eq!(sa.files, ta.len());
        assert_eq!(sa.bytes, ta.values().map(|v| v.len() as u64).sum::<u64>());
    }

    #[test]
    fn the_fleet_renders_about_sixty_objects_per_cluster_with_varied_decisions() {
        let dir = tempfile::tempdir().unwrap();
        let clusters = 60;
        generate(dir.path(), clusters, 1).unwrap();
        let fleet = Fleet::open(Source::dir(dir.path()).unwrap()).unwrap();
        let names = fleet.cluster_names().unwrap();
        assert_eq!(names.len(), clusters);
        let mut total = 0;
        // asset -> (clusters including it, clusters excluding it)
        let mut seen: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut kinds = BTreeSet::new();
        for name in &names {
            let rendered = fleet
                .render_cluster(name)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            total += rendered.objects.len();
            for d in &rendered.decisions {
                let e = seen.entry(d.asset.clone()).or_default();
                if d.included {
                    e.0 += 1;
                } else {
                    e.1 += 1;
                }
            }
            kinds.extend(rendered.objects.iter().map(|o| o.identity.kind.clone()));
        }
        let average = total / clusters;
        assert!(
            (50..=70).contains(&average),
            "average {average} objects per cluster"
        );
        for conditional in [
            "pci-passthrough",
            "numa-topology",
            "sriov",
            "gpu",
            "mtv",
            "sidecar-hooks",
            "metrics-exporter",
            "workload-update-default",
            "descheduler",
        ] {
            let (inc, exc) = seen[conditional];
            assert!(
                inc > 0 && exc > 0,
                "{conditional}: included {inc}, excluded {exc}"
            );
        }
        for kind in [
            "HyperConverged",
            "MachineConfig",
            "KubeletConfig",
            "NodeHealthCheck",
            "PrometheusRule",
            "VirtualMachine",
            "DataVolume",
            "ConfigMap",
            "Service",
            "Deployment",
        ] {
            assert!(kinds.contains(kind), "no {kind} rendered");
        }
    }
}
