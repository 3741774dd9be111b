//! The fake API server's `managedFields`, read with the real kube-rs client: an apply records
//! an `Apply` entry with the structured-merge-diff field set of what was applied (keyed list
//! items), an edit as `kubectl-edit` moves exactly the fields it changed, a scale through the
//! `scale` subresource has an entry of its own, two managers conflict on apply without force,
//! and LIST returns the entries too.

use k8s_openapi::api::apps::v1::Deployment;
use kube::api::{Api, ListParams, Patch, PatchParams};
use plinth_testkit::{FakeApiServer, Scenario};
use serde_json::{Value, json};

mod common;
use common::client;

fn deployment(replicas: u32) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "a", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "template": {"spec": {"containers": [{
                "name": "app",
                "image": "web:1",
                "ports": [{"containerPort": 8080, "name": "http"}],
                "env": [{"name": "MODE", "value": "prod"}],
            }]}},
        },
    })
}

/// The `fieldsV1` of [`deployment`] as applied.
fn deployment_fields() -> Value {
    json!({
        "f:metadata": {"f:labels": {"f:app": {}}},
        "f:spec": {
            "f:replicas": {},
            "f:template": {"f:spec": {"f:containers": {"k:{\"name\":\"app\"}": {
                ".": {},
                "f:name": {},
                "f:image": {},
                "f:ports": {"k:{\"containerPort\":8080,\"protocol\":\"TCP\"}": {
                    ".": {}, "f:containerPort": {}, "f:name": {},
                }},
                "f:env": {"k:{\"name\":\"MODE\"}": {".": {}, "f:name": {}, "f:value": {}}},
            }}}},
        },
    })
}

/// The `managedFields` of an object as plain JSON, the way a client reads them.
fn managed_fields(d: &Deployment) -> Value {
    serde_json::to_value(d.metadata.managed_fields.clone().unwrap_or_default()).expect("json")
}

async fn apply(
    api: &Api<Deployment>,
    manager: &str,
    force: bool,
    body: &Value,
) -> kube::Result<Deployment> {
    let mut params = PatchParams::apply(manager);
    params.force = force;
    api.patch("web", &params, &Patch::Apply(body)).await
}

/// A fake server holding the Deployment `a/web` as `plinth` applied it, and an API for it.
async fn applied_by_plinth() -> (FakeApiServer, Api<Deployment>) {
    let server = FakeApiServer::start(Scenario::new()).expect("server");
    let api: Api<Deployment> = Api::namespaced(client(&server).await, "a");
    apply(&api, "plinth", false, &deployment(2))
        .await
        .expect("apply");
    (server, api)
}

#[tokio::test]
async fn apply_then_get_shows_an_apply_entry_with_the_field_set() {
    let (_server, api) = applied_by_plinth().await;
    let live = api.get("web").await.expect("get");
    assert_eq!(
        managed_fields(&live),
        json!([{
            "manager": "plinth",
            "operation": "Apply",
            "apiVersion": "apps/v1",
            "time": "2026-01-01T00:00:01Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": deployment_fields(),
        }])
    );
}

#[tokio::test]
async fn an_edit_as_kubectl_edit_moves_exactly_the_edited_fields() {
    let (server, api) = applied_by_plinth().await;
    let edited = server.edit_as(
        "kubectl-edit",
        "apps/v1",
        "Deployment",
        Some("a"),
        "web",
        |d| {
            d["spec"]["replicas"] = 5.into();
            let containers = &mut d["spec"]["template"]["spec"]["containers"];
            containers[0]["securityContext"] = json!({"privileged": true});
            containers
                .as_array_mut()
                .expect("containers")
                .push(json!({"name": "sidecar", "image": "tool:1"}));
        },
    );
    assert!(edited);
    assert!(!server.edit_as(
        "kubectl-edit",
        "apps/v1",
        "Deployment",
        Some("a"),
        "absent",
        |_| {}
    ));

    let live = api.get("web").await.expect("get");
    let mut plinth_fields = deployment_fields();
    plinth_fields["f:spec"]
        .as_object_mut()
        .expect("spec")
        .remove("f:replicas");
    assert_eq!(
        managed_fields(&live),
        json!([
            {
                "manager": "kubectl-edit",
                "operation": "Update",
                "apiVersion": "apps/v1",
                "time": "2026-01-01T00:00:02Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {
                    "f:replicas": {},
                    "f:template": {"f:spec": {"f:containers": {
                        "k:{\"name\":\"app\"}": {"f:securityContext": {"f:privileged": {}}},
                        "k:{\"name\":\"sidecar\"}": {".": {}, "f:name": {}, "f:image": {}},
                    }}},
                }},
            },
            {
                "manager": "plinth",
                "operation": "Apply",
                "apiVersion": "apps/v1",
                "time": "2026-01-01T00:00:01Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": plinth_fields,
            },
        ])
    );
    assert_eq!(live.metadata.generation, Some(2));
}

#[tokio::test]
async fn two_managers_conflict_on_apply_without_force() {
    let server = FakeApiServer::start(
        Scenario::new()
            .object_created_by("kubectl-client-side-apply", deployment(2))
            .default_fields("Deployment", json!({"spec": {"revisionHistoryLimit": 10}})),
    )
    .expect("server");
    let api: Api<Deployment> = Api::namespaced(client(&server).await, "a");
    let created = managed_fields(&api.get("web").await.expect("get"));
    assert_eq!(created[0]["manager"], "kubectl-client-side-apply");
    assert_eq!(created[0]["operation"], "Update");
    assert_eq!(
        created[0]["fieldsV1"]["f:spec"]["f:revisionHistoryLimit"],
        json!({}),
        "the creator owns the defaults too"
    );

    // The same values: no conflict, the fields are shared.
    apply(&api, "plinth", false, &deployment(2))
        .await
        .expect("shared apply");
    let shared = managed_fields(&api.get("web").await.expect("get"));
    assert_eq!(shared[0]["fieldsV1"]["f:spec"]["f:replicas"], json!({}));
    assert_eq!(shared[1]["fieldsV1"]["f:spec"]["f:replicas"], json!({}));

    let err = apply(&api, "plinth", false, &deployment(3))
        .await
        .expect_err("conflict");
    let kube::Error::Api(status) = err else {
        panic!("{err:?}");
    };
    assert_eq!(status.code, 409);
    assert_eq!(
        status.message,
        "Apply failed with 1 conflict(s): conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
    );
    let causes = status.details.expect("details").causes;
    assert_eq!(causes.len(), 1);
    assert_eq!(causes[0].reason, "FieldManagerConflict");
    assert_eq!(causes[0].field, ".spec.replicas");

    let forced = apply(&api, "plinth", true, &deployment(3))
        .await
        .expect("forced");
    let owners = managed_fields(&forced);
    assert_eq!(owners[0]["manager"], "kubectl-client-side-apply");
    assert_eq!(owners[0]["fieldsV1"]["f:spec"].get("f:replicas"), None);
    assert_eq!(owners[1]["manager"], "plinth");
    assert_eq!(owners[1]["fieldsV1"]["f:spec"]["f:replicas"], json!({}));
}

#[tokio::test]
async fn list_returns_managed_fields() {
    let (_server, api) = applied_by_plinth().await;
    let listed = api.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
    assert_eq!(
        managed_fields(&listed.items[0])[0]["fieldsV1"],
        deployment_fields()
    );
}

#[tokio::test]
async fn a_scale_through_the_subresource_has_an_entry_of_its_own() {
    let (server, api) = applied_by_plinth().await;
    assert!(server.scale_as(
        "kubectl-scale",
        ("apps/v1", "Deployment", Some("a"), "web"),
        4
    ));
    assert!(!server.scale_as(
        "kubectl-scale",
        ("apps/v1", "Deployment", Some("a"), "absent"),
        4
    ));
    assert_eq!(server.now(), "2026-01-01T00:00:02Z");
    let live = api.get("web").await.expect("get");
    assert_eq!(live.spec.replicas, Some(4));
    assert_eq!(
        managed_fields(&live)[0],
        json!({
            "manager": "kubectl-scale",
            "operation": "Update",
            "apiVersion": "apps/v1",
            "time": "2026-01-01T00:00:02Z",
            "fieldsType": "FieldsV1",
            "fieldsV1": {"f:spec": {"f:replicas": {}}},
            "subresource": "scale",
        })
    );
    // `apply_as` is the same forced apply, without a client: plinth takes `replicas` back.
    let stored = server.apply_as("plinth", &deployment(2)).expect("apply");
    assert_eq!(stored["spec"]["replicas"], 2);
    assert_eq!(
        stored["metadata"]["managedFields"].as_array().map(Vec::len),
        Some(1)
    );
    assert!(
        server
            .apply_as("plinth", &json!({"kind": "Deployment"}))
            .is_err()
    );
}
