//! End-to-end behaviour of the render pipeline on small in-memory repositories: parameter
//! merge order, the HyperConverged rendered first and visible as `hco`,
//! `hco-field-unconfigured` reading the patched HyperConverged, overlay and cluster patches,
//! the template filters, multi-document templates, the framework opt-in and determinism.

#![allow(clippy::unwrap_used)]

use plinth_renderer::output::materialize;
use plinth_renderer::{Fleet, RenderedCluster, Source};

use crate::common::repo;
use serde_json::Value;

fn render(files: &[(&str, &str)]) -> RenderedCluster {
    let fleet = Fleet::open(repo(files)).unwrap();
    fleet.render_cluster("c1").unwrap()
}

fn object<'a>(r: &'a RenderedCluster, kind: &str, name: &str) -> &'a Value {
    &r.objects
        .iter()
        .find(|o| o.identity.kind == kind && o.identity.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name}"))
        .value
}

const HCO_AND_CONFIG: &str = "assets:
  - name: hco
    path: hco.yaml.j2
    install: always
    component: HyperConverged
    reconcile_order: 0
  - name: config
    path: config.yaml.j2
    install: always
    reconcile_order: 1
    template_params:
      role: worker
  - name: ksm
    path: ksm.yaml
    install: opt-in
    reconcile_order: 2
    conditions:
      - type: hco-field-unconfigured
        path: spec.ksmConfiguration
";

const HCO_TPL: &str = "apiVersion: hco.kubevirt.io/v1beta1
kind: HyperConverged
metadata:
  name: kubevirt-hyperconverged
  namespace: {{ params.get('hcoNamespace', 'openshift-cnv') }}
spec:
  liveMigrationConfig:
    parallelMigrationsPerCluster: {{ params.get('migrations', 5) }}
";

const CONFIG_TPL: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: {{ hco.metadata.namespace }}
data:
  role: {{ params.role }}
  migrations: \"{{ hco.spec.liveMigrationConfig.parallelMigrationsPerCluster }}\"
  colour: {{ params.colour }}
  size: {{ params.size }}
  memory: \"{{ '2Gi' | quantity }}\"
  cpu: \"{{ '500m' | quantity }}\"
  encoded: {{ cluster.name | b64encode }}
  digest: {{ 'abc' | sha256 }}
  json: '{{ {\"a\": [1, 2]} | to_json }}'
  yaml: |
    {{ {\"k\": \"yes\"} | to_yaml | indent(4) }}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
  namespace: {{ hco.metadata.namespace }}
---
";

const KSM: &str = "apiVersion: v1
kind: ConfigMap
metadata:
  name: ksm
  namespace: openshift-cnv
";

/// Renders [`base`] with `cluster` and `overlay`.
fn render_base(cluster: &str, overlay: &str) -> RenderedCluster {
    render(&files(&base(cluster, overlay)))
}

fn decision<'a>(r: &'a RenderedCluster, asset: &str) -> &'a plinth_renderer::decide::Decision {
    r.decisions.iter().find(|d| d.asset == asset).unwrap()
}

fn base(cluster: &str, overlay: &str) -> Vec<(&'static str, String)> {
    vec![
        ("assets/metadata.yaml", HCO_AND_CONFIG.to_owned()),
        ("assets/hco.yaml.j2", HCO_TPL.to_owned()),
        ("assets/config.yaml.j2", CONFIG_TPL.to_owned()),
        ("assets/ksm.yaml", KSM.to_owned()),
        ("overlays/base/overlay.yaml", overlay.to_owned()),
        ("clusters/c1/cluster.yaml", cluster.to_owned()),
    ]
}

fn files<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, s)| (*k, s.as_str())).collect()
}

#[test]
fn params_merge_overlays_then_cluster_then_template_params() {
    let r = render_base(
        "overlays: [base]\nparams:\n  colour: blue\n  role: master\n",
        "values:\n  colour: red\n  size: large\n  hcoNamespace: kubevirt\n",
    );
    let cm = object(&r, "ConfigMap", "settings");
    assert_eq!(
        cm["data"]["colour"], "blue",
        "the cluster wins over the overlay"
    );
    assert_eq!(cm["data"]["size"], "large", "overlay values reach params");
    assert_eq!(
        cm["data"]["role"], "worker",
        "an asset's own template_params win"
    );
    assert_eq!(
        cm["metadata"]["namespace"], "kubevirt",
        "later templates see the HCO as `hco`"
    );
}

#[test]
fn filters_and_multi_document_templates() {
    let r = render_base("params: {colour: c, size: s}\n", "values: {}\n");
    let cm = object(&r, "ConfigMap", "settings");
    assert_eq!(cm["data"]["memory"], "2147483648");
    assert_eq!(cm["data"]["cpu"], "0.5");
    assert_eq!(cm["data"]["encoded"], "YzE=");
    assert_eq!(
        cm["data"]["digest"],
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(cm["data"]["json"], "{\"a\":[1,2]}");
    assert_eq!(cm["data"]["yaml"], "k: \"yes\"\n");
    object(&r, "ConfigMap", "second");
    assert_eq!(r.objects.len(), 4, "the empty trailing document is dropped");
    let labels = &cm["metadata"]["labels"];
    assert_eq!(labels["app.kubernetes.io/managed-by"], "plinth");
    assert_eq!(labels["plinth.dev/cluster"], "c1");
    assert_eq!(labels["plinth.dev/asset"], "config");
    assert_eq!(
        cm["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"],
        "1"
    );
}

#[test]
fn patches_reach_hco_before_later_templates_and_conditions_read_it() {
    // A cluster patch sets the KSM field and the migration count on the HCO: the config
    // template sees the patched value and the `ksm` asset is excluded.
    let r = render_base(
        "params: {colour: c, size: s}\npatches:\n  - target: {kind: HyperConverged}\n    jsonPatch:\n      - {op: add, path: /spec/ksmConfiguration, value: {nodeLabelSelector: {}}}\n      - {op: replace, path: /spec/liveMigrationConfig/parallelMigrationsPerCluster, value: 9}\n",
        "values: {}\n",
    );
    assert_eq!(
        object(&r, "ConfigMap", "settings")["data"]["migrations"],
        "9"
    );
    let ksm = decision(&r, "ksm");
    assert!(!ksm.included);
    assert!(
        ksm.reason
            .contains("the HyperConverged sets `spec.ksmConfiguration`"),
        "{}",
        ksm.reason
    );
    // Without the patch the field is unset and the asset applies.
    let r = render_base("params: {colour: c, size: s}\n", "values: {}\n");
    assert!(decision(&r, "ksm").included);
}

#[test]
fn overlay_merge_patches_target_by_label_selector() {
    let r = render_base(
        "overlays: [base]\nparams: {colour: c, size: s}\n",
        "values: {}\npatches:\n  - target: {labelSelector: 'plinth.dev/asset in (config)'}\n    mergePatch:\n      metadata: {labels: {team: platform}}\n      data: {size: null}\n",
    );
    let cm = object(&r, "ConfigMap", "settings");
    assert_eq!(cm["metadata"]["labels"]["team"], "platform");
    assert!(cm["data"].get("size").is_none(), "RFC 7386 null removes");
    let second = object(&r, "ConfigMap", "second");
    assert_eq!(
        second["metadata"]["labels"]["team"], "platform",
        "both documents of the asset"
    );
    assert!(
        object(&r, "HyperConverged", "kubevirt-hyperconverged")["metadata"]["labels"]
            .get("team")
            .is_none()
    );
}

#[test]
fn framework_opt_in_gates_every_asset() {
    let mut v = base("params: {colour: c, size: s}\n", "values: {}\n");
    v[0].1 = format!(
        "{HCO_AND_CONFIG}framework:\n  maturity: tp\n  opt_in: example.com/autopilot=true\n"
    );
    let r = render(&files(&v));
    assert!(r.objects.is_empty());
    assert!(
        r.decisions
            .iter()
            .all(|d| !d.included && d.reason.contains("example.com/autopilot=true"))
    );
    v[5].1 =
        "annotations: {example.com/autopilot: \"true\"}\nparams: {colour: c, size: s}\n".to_owned();
    assert_eq!(render(&files(&v)).objects.len(), 4);
}

#[test]
fn the_same_inputs_give_the_same_bytes_and_digest() {
    let v = base(
        "overlays: [base]\nparams: {colour: c, size: s}\n",
        "values: {a: 1}\n",
    );
    let fleet = Fleet::open(repo(&files(&v))).unwrap();
    let a = materialize(&fleet.render_cluster("c1").unwrap(), &fleet.settings);
    let b = materialize(&fleet.render_cluster("c1").unwrap(), &fleet.settings);
    assert_eq!(a.files, b.files);
    // Any input change changes the digest.
    let v2 = base(
        "overlays: [base]\nparams: {colour: c, size: s}\n",
        "values: {a: 2}\n",
    );
    let fleet2 = Fleet::open(repo(&files(&v2))).unwrap();
    let c = materialize(&fleet2.render_cluster("c1").unwrap(), &fleet2.settings);
    assert_ne!(a.index.input_digest, c.index.input_digest);
    assert_eq!(
        a.files
            .get("configmap_kubevirt_settings.yaml")
            .or_else(|| a.files.get("configmap_openshift-cnv_settings.yaml")),
        c.files
            .get("configmap_kubevirt_settings.yaml")
            .or_else(|| c.files.get("configmap_openshift-cnv_settings.yaml")),
        "output that does not depend on the changed value stays the same"
    );
}

#[test]
fn builtin_catalog_renders_for_a_bare_cluster() {
    let r = render(&[("clusters/c1/cluster.yaml", "{}\n")]);
    let hco = object(&r, "HyperConverged", "kubevirt-hyperconverged");
    assert_eq!(hco["apiVersion"], "hco.kubevirt.io/v1beta1");
    assert!(
        r.decisions
            .iter()
            .any(|d| d.asset == "mtv-operator" && !d.included)
    );
}

#[test]
fn every_builtin_overlay_renders_and_takes_effect() {
    let names = plinth_renderer::builtin::source()
        .subdirs("overlays")
        .unwrap();
    assert!(names.len() >= 4, "{names:?}");
    for name in &names {
        let cluster = format!("overlays: [{name}]\n");
        let fleet = Fleet::open(repo(&[("clusters/c1/cluster.yaml", &cluster)])).unwrap();
        fleet
            .render_cluster("c1")
            .unwrap_or_else(|e| panic!("built-in overlay `{name}`: {e}"));
    }
    let r = render(&[("clusters/c1/cluster.yaml", "overlays: [high-density]\n")]);
    let hco = object(&r, "HyperConverged", "kubevirt-hyperconverged");
    assert_eq!(
        hco["spec"]["resourceRequirements"]["vmiCPUAllocationRatio"],
        16
    );
    let r = render(&[(
        "clusters/c1/cluster.yaml",
        "overlays: [fast-migration-network]\n",
    )]);
    let hco = object(&r, "HyperConverged", "kubevirt-hyperconverged");
    assert_eq!(
        hco["spec"]["liveMigrationConfig"]["parallelMigrationsPerCluster"],
        10
    );
}

#[test]
fn a_catalog_at_the_repository_root_does_not_hash_the_output() {
    let dir = tempfile::tempdir().unwrap();
    let write = |rel: &str, text: &str| {
        let path = dir.path().join(rel);
        fs_err::create_dir_all(path.parent().unwrap()).unwrap();
        fs_err::write(path, text).unwrap();
    };
    write("plinth.yaml", "paths:\n  catalog: metadata.yaml\n");
    write(
        "metadata.yaml",
        "assets:\n  - name: ksm\n    path: ksm.yaml\n    install: always\n",
    );
    write("ksm.yaml", KSM);
    write("clusters/c1/cluster.yaml", "{}\n");
    let digest = || {
        let fleet = Fleet::open(Source::dir(dir.path()).unwrap()).unwrap();
        fleet.prepare("c1").unwrap().input_digest
    };
    let before = digest();
    write("rendered/c1/configmap_openshift-cnv_ksm.yaml", "anything\n");
    assert_eq!(digest(), before, "the output is not an input");
    write("ksm.yaml", &format!("{KSM}  labels: {{a: b}}\n"));
    assert_ne!(
        digest(),
        before,
        "a template beside the catalog is an input"
    );
}
