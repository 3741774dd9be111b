//! The fake API server exercised with the real kube-rs client: discovery, LIST pagination and
//! label selectors, GET and 404, server-side apply (dry-run, force, conflicts) and faults.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::{Client, Config, Discovery};
use plinth_testkit::{FakeApiServer, Fault, FaultKind, Scenario};
use serde_json::{Value, json};

mod common;
use common::client;

fn cm(ns: &str, name: &str, labels: &Value) -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "data": {"key": name},
    })
}

fn scenario() -> Scenario {
    let mut s = Scenario::new().serve("kubevirt.io/v1", "VirtualMachine", true);
    for i in 0..7 {
        s = s.object(cm(
            "a",
            &format!("cm-{i}"),
            &json!({"tier": if i % 2 == 0 { "even" } else { "odd" }}),
        ));
    }
    s.object(cm("b", "other", &json!({})))
}

#[tokio::test]
async fn discovery_lists_core_and_group_types() {
    let server = FakeApiServer::start(scenario()).unwrap();
    let discovery = Discovery::new(client(&server).await).run().await.unwrap();
    let mut kinds: Vec<String> = discovery
        .groups()
        .flat_map(kube::discovery::ApiGroup::recommended_resources)
        .map(|(ar, caps)| format!("{}/{} {:?}", ar.api_version, ar.kind, caps.scope))
        .collect();
    kinds.sort();
    assert!(
        kinds.contains(&"v1/ConfigMap Namespaced".to_owned()),
        "{kinds:?}"
    );
    assert!(kinds.contains(&"v1/Node Cluster".to_owned()), "{kinds:?}");
    assert!(
        kinds.contains(&"kubevirt.io/v1/VirtualMachine Namespaced".to_owned()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn list_paginates_and_selects_by_label() {
    let server = FakeApiServer::start(scenario()).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    let mut names = Vec::new();
    let mut params = ListParams::default().limit(3);
    loop {
        let page = api.list(&params).await.unwrap();
        names.extend(page.items.iter().map(|c| c.metadata.name.clone().unwrap()));
        match page.metadata.continue_ {
            Some(token) if !token.is_empty() => params = params.continue_token(&token),
            _ => break,
        }
    }
    assert_eq!(names.len(), 7, "{names:?}");
    let lists = server
        .request_log()
        .iter()
        .filter(|r| r.path.ends_with("/configmaps"))
        .count();
    assert_eq!(lists, 3);

    let even = api
        .list(&ListParams::default().labels("tier=even"))
        .await
        .unwrap();
    assert_eq!(even.items.len(), 4);
    let all: Api<ConfigMap> = Api::all(client(&server).await);
    assert_eq!(
        all.list(&ListParams::default()).await.unwrap().items.len(),
        8
    );
    let none = api
        .list(&ListParams::default().labels("tier notin (even,odd)"))
        .await
        .unwrap();
    assert!(none.items.is_empty());
}

#[tokio::test]
async fn get_and_not_found() {
    let server = FakeApiServer::start(scenario()).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    assert_eq!(api.get("cm-1").await.unwrap().data.unwrap()["key"], "cm-1");
    let err = api.get("absent").await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 404),
        "{err:?}"
    );
    assert!(api.get_opt("absent").await.unwrap().is_none());
}

#[tokio::test]
async fn server_side_apply_dry_run_force_and_conflicts() {
    let server = FakeApiServer::start(scenario()).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    let before = server.get("v1", "ConfigMap", Some("a"), "cm-0").unwrap();
    let changed = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm-0", "namespace": "a"}, "data": {"key": "new"}});

    let dry = api
        .patch(
            "cm-0",
            &PatchParams::apply("plinth").force().dry_run(),
            &Patch::Apply(&changed),
        )
        .await
        .unwrap();
    assert_eq!(dry.data.unwrap()["key"], "new");
    assert_eq!(
        server.get("v1", "ConfigMap", Some("a"), "cm-0").unwrap(),
        before
    );

    let applied = api
        .patch(
            "cm-0",
            &PatchParams::apply("other"),
            &Patch::Apply(&changed),
        )
        .await
        .unwrap();
    assert_ne!(
        applied.metadata.resource_version,
        before["metadata"]["resourceVersion"]
            .as_str()
            .map(str::to_owned)
    );
    assert_eq!(
        applied.metadata.managed_fields.unwrap()[0]
            .manager
            .as_deref(),
        Some("other")
    );

    let mine = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm-0", "namespace": "a"}, "data": {"key": "mine"}});
    let err = api
        .patch("cm-0", &PatchParams::apply("plinth"), &Patch::Apply(&mine))
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409),
        "{err:?}"
    );
    api.patch(
        "cm-0",
        &PatchParams::apply("plinth").force(),
        &Patch::Apply(&mine),
    )
    .await
    .unwrap();

    let stale = json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm-1", "namespace": "a", "resourceVersion": "1"}, "data": {"key": "x"}});
    let err = api
        .patch(
            "cm-1",
            &PatchParams::apply("plinth").force(),
            &Patch::Apply(&stale),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 409),
        "{err:?}"
    );

    let created = api
        .patch(
            "fresh",
            &PatchParams::apply("plinth"),
            &Patch::Apply(&cm("a", "fresh", &json!({}))),
        )
        .await
        .unwrap();
    assert_eq!(created.metadata.generation, Some(1));
    assert!(server.get("v1", "ConfigMap", Some("a"), "fresh").is_some());
}

#[tokio::test]
async fn declared_defaults_fill_in_on_apply() {
    let server = FakeApiServer::start(
        Scenario::new().default_fields("ConfigMap", json!({"immutable": false})),
    )
    .unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    let out = api
        .patch(
            "d",
            &PatchParams::apply("plinth").dry_run(),
            &Patch::Apply(&cm("a", "d", &json!({}))),
        )
        .await
        .unwrap();
    assert_eq!(out.immutable, Some(false));
    assert_eq!(server.object_count(), 0);
}

#[tokio::test]
async fn faults_are_injected_and_logged() {
    let server = FakeApiServer::start(scenario()).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    server.inject(
        Fault::new(FaultKind::TooManyRequests {
            retry_after_secs: 3,
        })
        .matching("/configmaps"),
    );
    let err = api.list(&ListParams::default()).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 429),
        "{err:?}"
    );
    server.inject(Fault::new(FaultKind::ServerError(503)).times(2));
    assert!(api.list(&ListParams::default()).await.is_err());
    assert!(api.list(&ListParams::default()).await.is_err());
    assert_eq!(
        api.list(&ListParams::default()).await.unwrap().items.len(),
        7
    );

    server.inject(Fault::new(FaultKind::Slow(Duration::from_millis(300))));
    let slow =
        tokio::time::timeout(Duration::from_millis(50), api.list(&ListParams::default())).await;
    assert!(
        slow.is_err(),
        "the slow response arrived before the client gave up"
    );

    let log = server.request_log();
    let faults: Vec<_> = log.iter().filter_map(|r| r.fault.clone()).collect();
    assert_eq!(faults.len(), 4, "{}", plinth_testkit::describe(&log));
}

#[tokio::test]
async fn every_nth_request_is_faulted() {
    let server = FakeApiServer::start(scenario()).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    server.inject(
        Fault::new(FaultKind::ServerError(500))
            .every(2)
            .times(u32::MAX),
    );
    let mut outcomes = Vec::new();
    for _ in 0..4 {
        outcomes.push(api.list(&ListParams::default()).await.is_ok());
    }
    assert_eq!(outcomes, [true, false, true, false]);
}

#[tokio::test]
async fn a_required_token_is_checked() {
    let server = FakeApiServer::start(scenario().token("s3cr3t-token")).unwrap();
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    assert_eq!(
        api.list(&ListParams::default()).await.unwrap().items.len(),
        7
    );

    let mut config = Config::new(server.url().parse().unwrap());
    config.default_retry = false;
    let anonymous: Api<ConfigMap> = Api::namespaced(Client::try_from(config).unwrap(), "a");
    let err = anonymous.list(&ListParams::default()).await.unwrap_err();
    assert!(
        matches!(err, kube::Error::Api(ref s) if s.code == 401),
        "{err:?}"
    );
}

#[tokio::test]
async fn tls_with_the_generated_ca() {
    let server = FakeApiServer::start(scenario().tls()).unwrap();
    assert!(server.url().starts_with("https://"));
    assert!(
        server
            .ca_pem()
            .unwrap()
            .starts_with("-----BEGIN CERTIFICATE-----")
    );
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    assert_eq!(
        api.list(&ListParams::default()).await.unwrap().items.len(),
        7
    );
}
