//! The fake API server's writes for `plinth apply`, through the real kube-rs client:
//! creation through server-side apply, `DELETE`, `POST` of Events (validated), `422` on
//! immutable fields, kinds served only while their CRD is stored, RBAC checks, the record of
//! every write and the faults and latency injectable at every call.

use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Service};
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, GroupVersionKind, ListParams, Patch,
    PatchParams, PostParams,
};
use kube::{Client, Discovery};
use plinth_testkit::{FakeApiServer, Fault, FaultKind, RbacRule, Scenario};
use serde_json::{Value, json};

mod common;
use common::client;

fn deployment(app: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "a"},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": app}},
            "template": {"metadata": {"labels": {"app": app}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1"}]}}}})
}

fn cm(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "a"}, "data": {"k": "v"}})
}

/// An `Api` for any type, by `apiVersion`, kind and plural.
fn dynamic(
    client: Client,
    api_version: &str,
    kind: &str,
    plural: &str,
    ns: Option<&str>,
) -> Api<DynamicObject> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let resource =
        ApiResource::from_gvk_with_plural(&GroupVersionKind::gvk(group, version, kind), plural);
    match ns {
        Some(ns) => Api::namespaced_with(client, ns, &resource),
        None => Api::all_with(client, &resource),
    }
}

fn object(value: Value) -> DynamicObject {
    serde_json::from_value(value).expect("a Kubernetes object")
}

/// The `Status` of a refused request.
fn status(err: kube::Error) -> Box<kube::core::Status> {
    match err {
        kube::Error::Api(status) => status,
        other => panic!("not an API error: {other:?}"),
    }
}

/// How many `ConfigMap`s a LIST returns.
async fn listed(api: &Api<ConfigMap>) -> usize {
    api.list(&ListParams::default())
        .await
        .expect("list")
        .items
        .len()
}

fn assert_starts(message: &str, prefix: &str) {
    assert!(message.starts_with(prefix), "{message}");
}

fn apply_params() -> PatchParams {
    PatchParams::apply("plinth")
}

#[tokio::test]
async fn an_apply_to_a_missing_object_creates_it_with_a_plinth_apply_entry() {
    let server = FakeApiServer::start(Scenario::new()).expect("server");
    let api: Api<Deployment> = Api::namespaced(client(&server).await, "a");
    let created = api
        .patch("web", &apply_params(), &Patch::Apply(&deployment("web")))
        .await
        .expect("apply");
    assert_eq!(server.request_log()[0].status, 201, "created");
    let entries = created.metadata.managed_fields.expect("managedFields");
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].manager.as_deref(), Some("plinth"));
    assert_eq!(entries[0].operation.as_deref(), Some("Apply"));
    let stored = server
        .get("apps/v1", "Deployment", Some("a"), "web")
        .expect("stored");
    assert_eq!(stored["spec"]["replicas"], 2);
    assert_eq!(stored["metadata"]["managedFields"][0]["manager"], "plinth");
    api.patch("web", &apply_params(), &Patch::Apply(&deployment("web")))
        .await
        .expect("apply again");
    assert_eq!(server.request_log()[1].status, 200, "updated");
}

#[tokio::test]
async fn delete_answers_a_status_or_the_object_then_404_and_records_the_policy() {
    let server =
        FakeApiServer::start(Scenario::new().object(cm("c")).object(cm("d"))).expect("server");
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    let dry = api
        .delete("c", &DeleteParams::foreground().dry_run())
        .await
        .expect("dry-run delete");
    assert!(dry.is_right());
    assert!(
        server.get("v1", "ConfigMap", Some("a"), "c").is_some(),
        "a dry run keeps it"
    );
    let gone = api
        .delete("c", &DeleteParams::foreground())
        .await
        .expect("delete");
    let done = gone.right().expect("a Status for a built-in kind");
    assert_eq!(done.details.expect("details").name, "c");
    assert!(server.get("v1", "ConfigMap", Some("a"), "c").is_none());
    let again = api
        .delete("c", &DeleteParams::default())
        .await
        .expect_err("absent");
    assert_eq!(status(again).code, 404);
    assert_eq!(listed(&api).await, 1);

    let writes = server.writes();
    assert_eq!(writes.len(), 3);
    assert!(writes[0].dry_run && !writes[0].stored());
    assert_eq!(writes[0].propagation_policy.as_deref(), Some("Foreground"));
    assert!(writes[1].stored() && writes[1].request.method == "DELETE");
    assert_eq!(writes[1].verb(), "delete");
    assert_eq!(writes[2].request.status, 404);
}

fn widget_crd(scope: &str) -> Value {
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "gizmoes.example.io"},
        "spec": {"group": "example.io", "scope": scope,
            "names": {"kind": "Widget", "plural": "gizmoes", "singular": "widget", "listKind": "WidgetList"},
            "versions": [{"name": "v1", "served": true, "storage": true}]}})
}

async fn apply_crd(crds: &Api<DynamicObject>, scope: &str) {
    let crd = Patch::Apply(object(widget_crd(scope)));
    crds.patch("gizmoes.example.io", &apply_params(), &crd)
        .await
        .expect("apply the CRD");
}

fn widget() -> Value {
    json!({"apiVersion": "example.io/v1", "kind": "Widget",
        "metadata": {"name": "w", "namespace": "a"}, "spec": {"size": 1}})
}

/// A scenario serving `CustomResourceDefinition` (and no Widget).
fn crd_scenario() -> Scenario {
    Scenario::new().serve("apiextensions.k8s.io/v1", "CustomResourceDefinition", false)
}

fn crd_api(client: &Client) -> Api<DynamicObject> {
    dynamic(
        client.clone(),
        "apiextensions.k8s.io/v1",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        None,
    )
}

/// Widgets, served as `gizmoes` by [`widget_crd`].
fn widget_api(client: &Client, ns: Option<&str>) -> Api<DynamicObject> {
    dynamic(client.clone(), "example.io/v1", "Widget", "gizmoes", ns)
}

async fn served_kinds(client: Client) -> Vec<String> {
    let discovery = Discovery::new(client).run().await.expect("discovery");
    let mut kinds: Vec<String> = discovery
        .groups()
        .flat_map(kube::discovery::ApiGroup::recommended_resources)
        .map(|(ar, caps)| {
            format!(
                "{}/{} {} {:?}",
                ar.api_version, ar.kind, ar.plural, caps.scope
            )
        })
        .collect();
    kinds.sort();
    kinds
}

#[tokio::test]
async fn a_crd_serves_its_kinds_while_it_is_stored() {
    let server = FakeApiServer::start(crd_scenario()).expect("server");
    let client = client(&server).await;
    let widgets = widget_api(&client, Some("a"));
    let crds = crd_api(&client);
    let kind = "example.io/v1/Widget gizmoes Namespaced".to_owned();
    assert!(!served_kinds(client.clone()).await.contains(&kind));
    let missing = widgets
        .patch("w", &apply_params(), &Patch::Apply(object(widget())))
        .await
        .expect_err("not served");
    assert_eq!(status(missing).code, 404);

    apply_crd(&crds, "Namespaced").await;
    assert!(served_kinds(client.clone()).await.contains(&kind));
    widgets
        .patch("w", &apply_params(), &Patch::Apply(object(widget())))
        .await
        .expect("a custom resource");
    let crd = crds.get("gizmoes.example.io").await.expect("crd");
    assert_eq!(crd.data["status"]["conditions"][1]["type"], "Established");
    assert_eq!(crd.data["status"]["conditions"][1]["status"], "True");

    let gone = widgets
        .delete("w", &DeleteParams::default())
        .await
        .expect("delete");
    assert_eq!(
        gone.left()
            .expect("custom resources answer the object")
            .metadata
            .name
            .as_deref(),
        Some("w")
    );
    widgets
        .patch("w", &apply_params(), &Patch::Apply(object(widget())))
        .await
        .expect("again");
    crds.delete("gizmoes.example.io", &DeleteParams::default())
        .await
        .expect("delete the CRD");
    assert!(!served_kinds(client.clone()).await.contains(&kind));
    assert_eq!(
        status(widgets.get("w").await.expect_err("not served")).code,
        404
    );
    assert_eq!(server.get("example.io/v1", "Widget", Some("a"), "w"), None);
}

#[tokio::test]
async fn discovery_lists_the_verbs_the_fake_answers() {
    let server = FakeApiServer::start(Scenario::new()).expect("server");
    let discovery = Discovery::new(client(&server).await)
        .run()
        .await
        .expect("discovery");
    let (_, caps) = discovery
        .groups()
        .flat_map(kube::discovery::ApiGroup::recommended_resources)
        .find(|(ar, _)| ar.kind == "Deployment")
        .expect("deployments");
    for verb in ["create", "delete", "get", "list", "patch", "update"] {
        assert!(caps.supports_operation(verb), "{verb}");
    }
}

#[tokio::test]
async fn a_new_crd_is_established_after_the_declared_requests_with_its_scope() {
    let server = FakeApiServer::start(crd_scenario().crd_established_after(3)).expect("server");
    let client = client(&server).await;
    let crds = crd_api(&client);
    apply_crd(&crds, "Cluster").await;
    let crd = crds.get("gizmoes.example.io").await.expect("request 1");
    assert_eq!(crd.data["status"]["conditions"][1]["status"], "False");
    let widgets = widget_api(&client, None);
    assert_eq!(
        status(widgets.get("w").await.expect_err("request 2")).code,
        404
    );
    assert!(
        widgets.list(&ListParams::default()).await.is_ok(),
        "request 3: served"
    );
    assert!(
        served_kinds(client)
            .await
            .contains(&"example.io/v1/Widget gizmoes Cluster".to_owned())
    );
    let crd = crds.get("gizmoes.example.io").await.expect("get");
    assert_eq!(crd.data["status"]["conditions"][1]["status"], "True");
}

fn event(name: &str, namespace: &str, regarding: &Value) -> Value {
    json!({"apiVersion": "events.k8s.io/v1", "kind": "Event",
        "metadata": {"name": name, "namespace": namespace},
        "eventTime": "2026-01-01T12:00:00.000000Z",
        "reportingController": "plinth.dev/apply", "reportingInstance": "plinth-1",
        "action": "Apply", "reason": "ThrashingDetected", "type": "Warning",
        "regarding": regarding, "note": "spec.replicas kept coming back (kube-controller-manager)"})
}

fn causes(status: &kube::core::Status) -> Vec<(String, String)> {
    status
        .details
        .as_ref()
        .expect("details")
        .causes
        .iter()
        .map(|c| (c.field.clone(), c.message.clone()))
        .collect()
}

#[tokio::test]
async fn events_are_validated_stored_and_listed() {
    let server = FakeApiServer::start(Scenario::new().serve_events()).expect("server");
    let client = client(&server).await;
    let events = |ns: &str| {
        dynamic(
            client.clone(),
            "events.k8s.io/v1",
            "Event",
            "events",
            Some(ns),
        )
    };
    let web =
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "a", "name": "web"});
    events("a")
        .create(&PostParams::default(), &object(event("web.1", "a", &web)))
        .await
        .expect("a valid event");
    let node = json!({"apiVersion": "v1", "kind": "Node", "name": "n1"});
    events("default")
        .create(
            &PostParams::default(),
            &object(event("n1.1", "default", &node)),
        )
        .await
        .expect("cluster-scoped: in default");
    let listed = events("a")
        .list(&ListParams::default())
        .await
        .expect("list");
    assert_eq!(listed.items.len(), 1);
    let stored = server.events();
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[0]["reason"], "ThrashingDetected");
    assert_eq!(stored[1]["regarding"]["name"], "n1");

    let wrong_ns = events("a")
        .create(&PostParams::default(), &object(event("n1.2", "a", &node)))
        .await
        .expect_err("cluster-scoped regarding outside default/kube-system");
    let wrong_ns = status(wrong_ns);
    assert_eq!((wrong_ns.code, wrong_ns.reason.as_str()), (422, "Invalid"));
    assert_eq!(causes(&wrong_ns)[0].0, "involvedObject.namespace");

    let mut bad = event("web.2", "a", &web);
    bad["type"] = "Bad".into();
    bad["note"] = "x".repeat(1025).into();
    bad["deprecatedCount"] = 3.into();
    bad.as_object_mut()
        .expect("object")
        .remove("reportingController");
    let bad = status(
        events("a")
            .create(&PostParams::default(), &object(bad))
            .await
            .expect_err("invalid"),
    );
    assert_eq!(bad.code, 422);
    assert_starts(&bad.message, "Event.events.k8s.io \"web.2\" is invalid: [");
    let fields: Vec<String> = causes(&bad).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["reportingController", "message", "type", "count"]);
    assert_eq!(
        causes(&bad)[1].1,
        "Invalid value: \"\": can have at most 1024 characters"
    );
    assert_eq!(server.events().len(), 2, "nothing stored");
}

#[tokio::test]
async fn core_v1_events_follow_the_legacy_rules() {
    let server = FakeApiServer::start(Scenario::new().serve_events()).expect("server");
    let events = dynamic(client(&server).await, "v1", "Event", "events", Some("a"));
    let core = |ns: &str| {
        json!({"apiVersion": "v1", "kind": "Event",
        "metadata": {"name": "web.1", "namespace": "a"}, "reason": "DriftCorrected",
        "message": "applied", "type": "Normal",
        "involvedObject": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": ns, "name": "web"}})
    };
    let err = status(
        events
            .create(&PostParams::default(), &object(core("b")))
            .await
            .expect_err("namespace"),
    );
    assert_eq!(
        causes(&err),
        [(
            "involvedObject.namespace".to_owned(),
            "Invalid value: \"b\": does not match event.namespace".to_owned()
        )]
    );
    events
        .create(&PostParams::default(), &object(core("a")))
        .await
        .expect("valid");
    let again = status(
        events
            .create(&PostParams::default(), &object(core("a")))
            .await
            .expect_err("exists"),
    );
    assert_eq!((again.code, again.reason.as_str()), (409, "AlreadyExists"));
    assert_eq!(server.events()[0]["apiVersion"], "v1");
}

#[tokio::test]
async fn changing_an_immutable_field_is_refused_as_invalid() {
    let server = FakeApiServer::start(
        Scenario::new().object_created_by("kubectl-create", deployment("web")),
    )
    .expect("server");
    let api: Api<Deployment> = Api::namespaced(client(&server).await, "a");
    for params in [apply_params().force(), apply_params().force().dry_run()] {
        let err = api
            .patch("web", &params, &Patch::Apply(&deployment("other")))
            .await
            .expect_err("immutable");
        let err = status(err);
        assert_eq!((err.code, err.reason.as_str()), (422, "Invalid"));
        assert!(
            err.message
                .starts_with("Deployment.apps \"web\" is invalid: spec.selector: Invalid value: ")
                && err.message.ends_with(": field is immutable"),
            "{}",
            err.message
        );
        assert_eq!(causes(&err)[0].0, "spec.selector");
    }
    let stored = server
        .get("apps/v1", "Deployment", Some("a"), "web")
        .expect("stored");
    assert_eq!(stored["spec"]["selector"]["matchLabels"]["app"], "web");
    // An apply that leaves the selector as it is goes through.
    let mut same = deployment("web");
    same["spec"]["replicas"] = 3.into();
    api.patch("web", &apply_params().force(), &Patch::Apply(&same))
        .await
        .expect("mutable");
}

#[tokio::test]
async fn an_update_is_checked_too_and_a_scenario_chooses_the_fields() {
    let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "a"},
        "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80}]}});
    let server = FakeApiServer::start(
        Scenario::new()
            .object(svc.clone())
            .object(deployment("web"))
            .immutable_fields("Deployment", &[]),
    )
    .expect("server");
    let client = client(&server).await;
    let services: Api<Service> = Api::namespaced(client.clone(), "a");
    let mut live = services.get("s").await.expect("get");
    live.spec.as_mut().expect("spec").cluster_ip = Some("10.0.0.2".into());
    let err = status(
        services
            .replace("s", &PostParams::default(), &live)
            .await
            .expect_err("immutable"),
    );
    assert_eq!(causes(&err)[0].0, "spec.clusterIP");
    assert_eq!(
        err.message,
        "Service \"s\" is invalid: spec.clusterIP: Invalid value: \"10.0.0.2\": field is immutable"
    );
    live.spec.as_mut().expect("spec").cluster_ip = Some("10.0.0.1".into());
    live.metadata.labels = Some([("x".to_owned(), "y".to_owned())].into());
    let updated = services
        .replace("s", &PostParams::default(), &live)
        .await
        .expect("update");
    assert_eq!(updated.metadata.labels.expect("labels")["x"], "y");

    let deployments: Api<Deployment> = Api::namespaced(client, "a");
    deployments
        .patch(
            "web",
            &apply_params().force(),
            &Patch::Apply(&deployment("other")),
        )
        .await
        .expect("no immutable field declared for Deployment");
}

fn rules() -> Vec<RbacRule> {
    vec![
        RbacRule::new(&[""], &["configmaps"], &["get", "list"]),
        RbacRule::new(&["apps"], &["deployments"], &["get", "list", "patch"]).in_namespaces(&["a"]),
    ]
}

#[tokio::test]
async fn rbac_refuses_what_no_rule_allows_as_the_real_server_words_it() {
    let server = FakeApiServer::start(
        Scenario::new()
            .object(cm("c"))
            .with_rbac(rules())
            .user("system:serviceaccount:plinth:plinth"),
    )
    .expect("server");
    let client = client(&server).await;
    assert!(
        !served_kinds(client.clone()).await.is_empty(),
        "discovery is allowed"
    );
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "a");
    assert_eq!(listed(&cms).await, 1);
    let err = status(
        cms.patch("c", &apply_params(), &Patch::Apply(&cm("c")))
            .await
            .expect_err("patch"),
    );
    assert_eq!((err.code, err.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        err.message,
        "configmaps \"c\" is forbidden: User \"system:serviceaccount:plinth:plinth\" cannot patch resource \"configmaps\" in API group \"\" in the namespace \"a\""
    );
    let in_a: Api<Deployment> = Api::namespaced(client.clone(), "a");
    in_a.patch("web", &apply_params(), &Patch::Apply(&deployment("web")))
        .await
        .expect("allowed in a");
    let mut in_b = deployment("web");
    in_b["metadata"]["namespace"] = "b".into();
    let err = Api::<Deployment>::namespaced(client.clone(), "b")
        .patch("web", &apply_params(), &Patch::Apply(&in_b))
        .await
        .expect_err("not in b");
    assert!(status(err).message.ends_with(
        "cannot patch resource \"deployments\" in API group \"apps\" in the namespace \"b\""
    ));
    let all: Api<Deployment> = Api::all(client);
    let err = status(
        all.list(&ListParams::default())
            .await
            .expect_err("cluster-wide"),
    );
    assert_eq!(
        err.message,
        "deployments.apps is forbidden: User \"system:serviceaccount:plinth:plinth\" cannot list resource \"deployments\" in API group \"apps\" at the cluster scope"
    );
}

#[tokio::test]
async fn rules_come_from_a_role_object() {
    let role = json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
        "metadata": {"name": "plinth", "namespace": "a"},
        "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["*"]},
            {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["s"], "verbs": ["get"]}]});
    let rules = RbacRule::from_role(&role);
    assert_eq!(
        rules,
        [RbacRule::new(&[""], &["configmaps"], &["*"]).in_namespaces(&["a"])]
    );
    let server = FakeApiServer::start(Scenario::new().with_rbac(rules)).expect("server");
    let client = client(&server).await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "a");
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(cm("c")).expect("cm"),
    )
    .await
    .expect("create");
    let err = Api::<ConfigMap>::all(client)
        .list(&ListParams::default())
        .await
        .expect_err("cluster-wide");
    assert_eq!(status(err).code, 403);
}

#[tokio::test]
async fn every_write_is_recorded_with_its_manager_and_options() {
    let server = FakeApiServer::start(Scenario::new().object(cm("c"))).expect("server");
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    api.get("c").await.expect("get");
    api.list(&ListParams::default()).await.expect("list");
    assert!(server.writes().is_empty(), "reads are not writes");
    api.patch("c", &apply_params().dry_run(), &Patch::Apply(&cm("c")))
        .await
        .expect("dry run");
    api.patch("d", &apply_params().force(), &Patch::Apply(&cm("d")))
        .await
        .expect("create");
    let made: ConfigMap = serde_json::from_value(cm("e")).expect("cm");
    api.create(
        &PostParams {
            dry_run: false,
            field_manager: Some("kubectl-create".into()),
        },
        &made,
    )
    .await
    .expect("create");
    let writes = server.writes();
    let summary: Vec<String> = writes
        .iter()
        .map(|w| {
            let manager = w.manager.as_deref().unwrap_or("-");
            let flags = format!("dry_run={} force={}", w.dry_run, w.force);
            let r = &w.request;
            format!("{} {} {manager} {flags} {}", r.method, r.path, r.status)
        })
        .collect();
    assert_eq!(
        summary,
        [
            "PATCH /api/v1/namespaces/a/configmaps/c plinth dry_run=true force=false 200",
            "PATCH /api/v1/namespaces/a/configmaps/d plinth dry_run=false force=true 201",
            "POST /api/v1/namespaces/a/configmaps kubectl-create dry_run=false force=false 201",
        ]
    );
    assert_eq!(writes[1].request.query["fieldManager"], "plinth");
    let verbs: Vec<&str> = writes.iter().map(plinth_testkit::Write::verb).collect();
    assert_eq!(verbs, ["patch", "patch", "create"]);
    assert_eq!(writes[1].body["data"]["k"], "v");
    assert_eq!(writes.iter().filter(|w| w.stored()).count(), 2);
    let e = server
        .get("v1", "ConfigMap", Some("a"), "e")
        .expect("created");
    assert_eq!(
        e["metadata"]["managedFields"][0]["manager"],
        "kubectl-create"
    );
    assert_eq!(e["metadata"]["managedFields"][0]["operation"], "Update");
    server.clear_writes();
    assert!(server.writes().is_empty());
}

#[tokio::test]
async fn faults_by_verb_and_nth_call_conflicts_timeouts_and_drops() {
    let server = FakeApiServer::start(Scenario::new().object(cm("c"))).expect("server");
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    let apply = |name: &'static str| {
        let api = api.clone();
        async move {
            api.patch(name, &apply_params(), &Patch::Apply(&cm(name)))
                .await
        }
    };
    // Only the second PATCH; GETs never match.
    server.inject(
        Fault::new(FaultKind::FieldConflict {
            manager: "kubectl-edit".into(),
            field: ".data.k".into(),
        })
        .verb("PATCH")
        .nth(2),
    );
    api.get("c").await.expect("a GET is not faulted");
    apply("c").await.expect("first patch");
    let err = status(apply("c").await.expect_err("second patch"));
    assert_eq!(err.code, 409);
    assert_eq!(
        causes(&err),
        [(
            ".data.k".to_owned(),
            "conflict with \"kubectl-edit\"".to_owned()
        )]
    );
    apply("c").await.expect("third patch");

    server.inject(Fault::new(FaultKind::StaleResourceVersion).verb("PATCH"));
    assert!(
        status(apply("c").await.expect_err("stale"))
            .message
            .contains("the object has been modified")
    );
    server.inject(Fault::new(FaultKind::Timeout));
    let timeout = status(apply("c").await.expect_err("timeout"));
    assert_eq!((timeout.code, timeout.reason.as_str()), (504, "Timeout"));

    // A dropped connection is no API error; the write happened only when the request was
    // processed before the drop.
    for (kind, name, processed) in [
        (FaultKind::DropConnection, "x", false),
        (FaultKind::DropResponse, "y", true),
    ] {
        server.inject(Fault::new(kind.clone()));
        let err = apply(name).await.expect_err("dropped");
        assert!(!matches!(err, kube::Error::Api(_)), "{kind:?}: {err:?}");
        let stored = server.get("v1", "ConfigMap", Some("a"), name).is_some();
        assert_eq!(stored, processed, "{kind:?}");
    }
    let writes = server.writes();
    let final_write = writes.last().expect("writes");
    assert_eq!(
        (
            final_write.request.status,
            final_write.request.fault.clone()
        ),
        (0, Some(FaultKind::DropResponse))
    );
}

#[tokio::test]
async fn a_latency_delays_every_response() {
    let server = FakeApiServer::start(Scenario::new().with_latency(Duration::from_millis(40)))
        .expect("server");
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    let started = Instant::now();
    let params = ListParams::default();
    let (a, b) = tokio::join!(api.list(&params), api.list(&params));
    assert!(a.is_ok() && b.is_ok());
    assert!(started.elapsed() >= Duration::from_millis(40));
    server.set_latency(Duration::ZERO);
    let started = Instant::now();
    api.list(&ListParams::default()).await.expect("list");
    assert!(started.elapsed() < Duration::from_millis(40));
}

#[tokio::test]
async fn finalizers_hold_a_deleted_object_until_the_last_one_goes_and_preconditions_hold() {
    let mut held = cm("held");
    held["metadata"]["finalizers"] = json!(["example.io/cleanup"]);
    let server =
        FakeApiServer::start(Scenario::new().object(held).object(cm("c"))).expect("server");
    let api: Api<ConfigMap> = Api::namespaced(client(&server).await, "a");
    let marked = api
        .delete("held", &DeleteParams::background())
        .await
        .expect("delete");
    let marked = marked.left().expect("the object, marked");
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert!(
        server.get("v1", "ConfigMap", Some("a"), "held").is_some(),
        "still stored"
    );
    assert!(server.edit_as(
        "example-controller",
        "v1",
        "ConfigMap",
        Some("a"),
        "held",
        |v| {
            v["metadata"]["finalizers"] = json!([]);
        }
    ));
    assert!(
        server.get("v1", "ConfigMap", Some("a"), "held").is_none(),
        "gone with the last finalizer"
    );

    let live = api.get("c").await.expect("get");
    let stale = DeleteParams {
        preconditions: Some(kube::api::Preconditions {
            resource_version: Some("999".into()),
            uid: live.metadata.uid.clone(),
        }),
        ..DeleteParams::default()
    };
    let err = status(api.delete("c", &stale).await.expect_err("precondition"));
    assert_eq!(err.code, 409);
    assert_starts(
        &err.message,
        "Precondition failed: ResourceVersion in precondition: 999",
    );
    assert!(server.get("v1", "ConfigMap", Some("a"), "c").is_some());
}

#[tokio::test]
async fn with_required_namespaces_objects_are_created_only_in_a_live_namespace() {
    let mut leaving = json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "gone", "finalizers": ["kubernetes"]}});
    let server = FakeApiServer::start(Scenario::new().require_namespaces().object(leaving.clone()))
        .expect("server");
    let client = client(&server).await;
    let in_a: Api<ConfigMap> = Api::namespaced(client.clone(), "a");
    let err = status(
        in_a.patch("c", &apply_params(), &Patch::Apply(&cm("c")))
            .await
            .expect_err("no namespace a"),
    );
    assert_eq!(
        (err.code, err.message.as_str()),
        (404, "namespaces \"a\" not found")
    );
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let a = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}});
    namespaces
        .patch("a", &apply_params(), &Patch::Apply(&a))
        .await
        .expect("namespace");
    in_a.patch("c", &apply_params(), &Patch::Apply(&cm("c")))
        .await
        .expect("in a live namespace");
    namespaces
        .delete("gone", &DeleteParams::default())
        .await
        .expect("deleting");
    leaving = cm("c");
    leaving["metadata"]["namespace"] = "gone".into();
    let err = Api::<ConfigMap>::namespaced(client, "gone")
        .patch("c", &apply_params(), &Patch::Apply(&leaving))
        .await
        .expect_err("terminating");
    assert_eq!(
        status(err).message,
        "configmaps \"c\" is forbidden: unable to create new content in namespace gone because it is being terminated"
    );
}

#[tokio::test]
async fn a_controller_in_the_fake_reverts_a_field_after_every_apply() {
    let server = FakeApiServer::start(
        Scenario::new().object_created_by("kubectl-create", deployment("web")),
    )
    .expect("server");
    server.controller(
        "hpa-like",
        ("apps/v1", "Deployment", Some("a"), "web"),
        |v| {
            v["spec"]["replicas"] = 5.into();
        },
    );
    let api: Api<Deployment> = Api::namespaced(client(&server).await, "a");
    for _ in 0..3 {
        let mut three = deployment("web");
        three["spec"]["replicas"] = 3.into();
        let applied = api
            .patch("web", &apply_params().force(), &Patch::Apply(&three))
            .await
            .expect("apply");
        assert_eq!(
            applied.spec.replicas,
            Some(3),
            "the response shows the apply"
        );
        let live = api.get("web").await.expect("get");
        assert_eq!(live.spec.replicas, Some(5), "reverted");
        let owner = server
            .get("apps/v1", "Deployment", Some("a"), "web")
            .expect("stored")["metadata"]["managedFields"]
            .as_array()
            .expect("entries")
            .iter()
            .find(|e| e["fieldsV1"]["f:spec"].get("f:replicas").is_some())
            .map(|e| e["manager"].clone());
        assert_eq!(owner, Some(json!("hpa-like")));
    }
}
