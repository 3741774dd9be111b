//! CLI tests of `plinth catalog`: the built-in catalog of the example fleet, per-cluster
//! explanations in text and JSON, and a public virt-platform catalog whose templates are not
//! beside it (each reported per asset, not a crash).

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use crate::common::{assert_exit, assert_stdout, plinth, stderr, stdout, workspace};

#[test]
fn lists_assets_features_and_explains_a_cluster() {
    let out = plinth(
        &workspace(),
        &["catalog", "examples/fleet", "--cluster", "edge-hci"],
    );
    assert_stdout(
        &out,
        0,
        &[
            "hco-golden-config",
            "features\n",
            "cluster edge-hci\n",
            "+ psi-enable-master",
            "- pci-passthrough",
        ],
    );
    let text = stdout(&out);
    assert!(
        text.starts_with("catalog builtin:assets/metadata.yaml"),
        "{text}"
    );
    assert!(!text.contains("does not exist"), "{text}");
}

#[test]
fn json_output_is_parseable_and_complete() {
    let out = plinth(
        &workspace(),
        &[
            "catalog",
            "examples/fleet",
            "--cluster",
            "gpu-east",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let assets = doc["assets"].as_array().unwrap();
    assert!(assets.len() >= 19);
    let decisions = doc["clusters"][0]["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), assets.len());
    let vfio = decisions
        .iter()
        .find(|d| d["asset"] == "vfio-assign")
        .unwrap();
    assert_eq!(vfio["included"], true);
    assert!(
        vfio["conditions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["held"] == true)
    );
}

/// `null` nowhere: optional fields are left out when absent, as in `diff` and `drift`.
fn nulls(value: &serde_json::Value, at: &str, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Null => found.push(at.to_owned()),
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                nulls(v, &format!("{at}/{i}"), found);
            }
        }
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                nulls(v, &format!("{at}/{k}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn json_output_leaves_out_absent_fields_instead_of_writing_null() {
    let repo = workspace().join("cli/tests/fixtures/render-errors/missing-template");
    for (dir, cluster) in [
        (workspace().join("examples/fleet"), "gpu-east"),
        (repo, "c1"),
    ] {
        let out = plinth(
            &dir,
            &["catalog", ".", "--cluster", cluster, "--format", "json"],
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        let doc: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
        let mut found = Vec::new();
        nulls(&doc, "", &mut found);
        assert!(found.is_empty(), "null at {found:?}");
        // Stable names: present fields keep their names.
        let asset = &doc["assets"][0];
        for key in [
            "name",
            "path",
            "phase",
            "install",
            "reconcileOrder",
            "conditions",
        ] {
            assert!(asset.get(key).is_some(), "{key} missing: {asset}");
        }
        assert!(doc["clusters"][0].get("cluster").is_some());
    }
}

#[test]
fn public_catalog_without_its_templates_reports_each_missing_template() {
    let spec = workspace().join("../shared/specs/virt-platform/openshift-virtualization-virt-platform-autopilot.metadata.yaml");
    if !spec.is_file() {
        println!("skipped: ../shared/specs not found, the public catalog was not loaded");
        return;
    }
    let repo = tempfile::tempdir().unwrap();
    fs_err::create_dir_all(repo.path().join("catalog")).unwrap();
    fs_err::copy(&spec, repo.path().join("catalog/metadata.yaml")).unwrap();
    fs_err::write(
        repo.path().join("plinth.yaml"),
        "paths:\n  catalog: catalog/metadata.yaml\n",
    )
    .unwrap();
    fs_err::create_dir_all(repo.path().join("clusters/sample")).unwrap();
    fs_err::write(
        repo.path().join("clusters/sample/cluster.yaml"),
        "annotations:\n  platform.kubevirt.io/autopilot: \"true\"\n",
    )
    .unwrap();
    let out = plinth(repo.path(), &["catalog", ".", "--cluster", "sample"]);
    assert_stdout(
        &out,
        0,
        &[
            "! asset `hco-golden-config`: template `catalog/active/hco/golden-config.yaml.tpl` does not exist",
            "! asset `nhc-far`",
            "+ swap-enable",
            "! the cluster does not render",
        ],
    );
    // Rendering it is an error that names the asset, exit 2.
    let out = plinth(repo.path(), &["render", "."]);
    assert_exit(&out, 2, &["asset `hco-golden-config`: template"]);
}
