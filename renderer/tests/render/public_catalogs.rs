//! Both public virt-platform catalogs (in `../shared/specs/virt-platform/`) load unchanged,
//! anchors included, and for sample clusters plinth says which assets apply and why; their
//! templates are not beside them, which is reported per asset rather than as a crash.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::format_push_string)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use plinth_renderer::Fleet;
use plinth_renderer::catalog::Catalog;
use plinth_renderer::source::Source;

fn specs() -> Option<PathBuf> {
    crate::common::specs("virt-platform")
}

const CATALOGS: [&str; 2] = [
    "tiraboschi-virt-platform-operator.metadata.yaml",
    "openshift-virtualization-virt-platform-autopilot.metadata.yaml",
];

/// A repository in memory holding the public catalog unchanged, its folder as `catalog/`.
fn repo(catalog: &[u8], cluster: &str, inventory: &str) -> Source {
    let mut files = BTreeMap::new();
    files.insert("catalog/metadata.yaml".to_owned(), catalog.to_vec());
    files.insert(
        "plinth.yaml".to_owned(),
        b"paths:\n  catalog: catalog/metadata.yaml\n".to_vec(),
    );
    files.insert(
        "clusters/sample/cluster.yaml".to_owned(),
        cluster.as_bytes().to_vec(),
    );
    files.insert(
        "clusters/sample/inventory.yaml".to_owned(),
        inventory.as_bytes().to_vec(),
    );
    Source::memory(files)
}

const GPU_CLUSTER: &str = "annotations:\n  platform.kubevirt.io/openshift: \"true\"\n  platform.kubevirt.io/enable-pci-passthrough: \"true\"\n  platform.kubevirt.io/enable-mtv: \"true\"\n  platform.kubevirt.io/autopilot: \"true\"\n  platform.kubevirt.io/enable-ksm-zero-only: \"true\"\nfeatureGates: [CPUManager]\n";
const GPU_INVENTORY: &str = "nodes:\n- name: m0\n  roles: [control-plane, worker]\n- name: w0\n  roles: [worker]\n  numaNodes: 2\n  labels:\n    feature.node.kubernetes.io/pci-0302_10de.present: \"true\"\n";

#[test]
fn both_public_catalogs_load_unchanged() {
    let Some(dir) = specs() else { return };
    for name in CATALOGS {
        let text = fs_err::read_to_string(dir.join(name)).unwrap();
        let catalog = Catalog::parse(&text, "metadata.yaml", "").unwrap();
        assert!(
            catalog
                .assets
                .iter()
                .any(plinth_renderer::catalog::Asset::is_hco),
            "{name}"
        );
        assert_eq!(
            catalog.render_order()[0].name,
            "hco-golden-config",
            "{name}"
        );
    }
    // The autopilot catalog's anchors expand: every IFO asset carries the shared condition.
    let text = fs_err::read_to_string(dir.join(CATALOGS[1])).unwrap();
    let catalog = Catalog::parse(&text, "metadata.yaml", "").unwrap();
    let ifo: Vec<_> = catalog
        .assets
        .iter()
        .filter(|a| a.name.starts_with("ifo-"))
        .collect();
    assert!(ifo.len() > 10);
    assert!(
        ifo.iter()
            .all(|a| a.conditions == ifo[0].conditions && !a.conditions.is_empty())
    );
    assert_eq!(
        catalog.framework.opt_in.as_deref(),
        Some("platform.kubevirt.io/autopilot=true")
    );
    assert!(!catalog.features.is_empty());
}

fn decisions_text(catalog_file: &str, cluster: &str, inventory: &str) -> String {
    let dir = specs().unwrap();
    let bytes = fs_err::read(dir.join(catalog_file)).unwrap();
    let fleet = Fleet::open(repo(&bytes, cluster, inventory)).unwrap();
    let prepared = fleet.prepare("sample").unwrap();
    let (decisions, err) = fleet.explain(&prepared);
    let mut out = String::new();
    for d in decisions {
        let mark = if d.included { '+' } else { '-' };
        out.push_str(&format!("{mark} {}: {}\n", d.asset, d.reason));
    }
    for (asset, path) in fleet.missing_templates().unwrap() {
        out.push_str(&format!("! {asset}: template {path} missing\n"));
    }
    out.push_str(&format!(
        "render: {}\n",
        err.map_or("ok".to_owned(), |e| e.to_string())
    ));
    out
}

#[test]
fn operator_catalog_decisions_for_a_gpu_cluster() {
    if specs().is_none() {
        return;
    }
    let text = decisions_text(CATALOGS[0], GPU_CLUSTER, GPU_INVENTORY);
    assert!(
        text.contains("+ pci-passthrough: opt-in and all 2 condition(s) hold"),
        "{text}"
    );
    assert!(text.contains("+ numa-topology"), "{text}");
    assert!(text.contains("- metallb-operator"), "{text}");
    insta::assert_snapshot!(text);
}

#[test]
fn autopilot_catalog_decisions_for_a_gpu_cluster_and_a_plain_one() {
    if specs().is_none() {
        return;
    }
    let text = decisions_text(CATALOGS[1], GPU_CLUSTER, GPU_INVENTORY);
    assert!(text.contains("+ psi-enable-master"), "{text}");
    assert!(text.contains("+ ksm-zero-only:"), "{text}");
    insta::assert_snapshot!("autopilot_gpu", text);
    // Without the framework opt-in annotation nothing applies.
    let plain = decisions_text(CATALOGS[1], "labels: {}\n", "nodes: []\n");
    assert!(
        plain.lines().filter(|l| l.starts_with("+ ")).count() == 0,
        "{plain}"
    );
    assert!(
        plain.contains("framework opt-in annotation `platform.kubevirt.io/autopilot=true`"),
        "{plain}"
    );
}
