//! Overlay values, cluster params and asset `template_params` through the real render
//! pipeline: deep-merged in order, and `null` in a later layer unsets an inherited key (as
//! kustomize's strategic merge and Helm's values do) instead of handing `null` to templates.

#![allow(clippy::unwrap_used)]

use plinth_renderer::Fleet;

use crate::common::repo;
use serde_json::{Value, json};

const TEMPLATE: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: platform\ndata:\n  params: '{{ params | tojson }}'\n";

fn rendered_params(files: &[(&str, &str)]) -> Value {
    let all = [&[("assets/settings.yaml.j2", TEMPLATE)][..], files].concat();
    let fleet = Fleet::open(repo(&all)).unwrap();
    let rendered = fleet.render_cluster("c1").unwrap();
    let cm = rendered
        .objects
        .iter()
        .find(|o| o.identity.kind == "ConfigMap")
        .unwrap();
    serde_json::from_str(cm.value["data"]["params"].as_str().unwrap()).unwrap()
}

#[test]
fn null_in_a_later_layer_unsets_an_inherited_value() {
    let catalog = "assets:\n  - name: settings\n    path: settings.yaml.j2\n    install: always\n";
    let base = "values:\n  migration: {parallel: 5, postCopy: true, bandwidth: 64Mi}\n  tuning: {swap: true}\n  list: [1, 2]\n";
    let later = "values:\n  migration: {postCopy: null}\n  tuning: null\n";
    let cluster = "overlays: [base, later]\nparams:\n  migration: {bandwidth: null, parallel: 10}\n  extra: {a: null, b: 1}\n";
    let params = rendered_params(&[
        ("assets/metadata.yaml", catalog),
        ("overlays/base/overlay.yaml", base),
        ("overlays/later/overlay.yaml", later),
        ("clusters/c1/cluster.yaml", cluster),
    ]);
    assert_eq!(
        params,
        json!({"migration": {"parallel": 10}, "list": [1, 2], "extra": {"b": 1}})
    );
    // An asset's `template_params` unset a key of the cluster's params for that asset alone.
    let catalog = "assets:\n  - name: settings\n    path: settings.yaml.j2\n    install: always\n    template_params:\n      migration: {parallel: null}\n";
    let params = rendered_params(&[
        ("assets/metadata.yaml", catalog),
        ("overlays/base/overlay.yaml", base),
        ("clusters/c1/cluster.yaml", "overlays: [base]\n"),
    ]);
    assert_eq!(
        params["migration"],
        json!({"postCopy": true, "bandwidth": "64Mi"})
    );
}
