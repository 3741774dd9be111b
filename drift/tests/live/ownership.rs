//! Ownership from `managedFields` end to end: a small repository rendered in memory, its
//! objects applied by `plinth` (server-side apply through the real kube-rs client) to the fake
//! API server, then changed the way people and controllers change them (each write recorded
//! under the manager the real tool records), and a whole drift ([`engine::run`]) in both
//! modes. Every change people make is drift with its pointer, keyed path and writer; defaults
//! owned by the manager that created an object are not; a controller's write is `managed`
//! unless `plinth.yaml` lists it as a drift manager; what plinth (or a GitOps manager, built in
//! or listed in `plinth.yaml`) applied and no longer renders is a pending removal, reported
//! once; Argo CD's and Flux's applies are baselines like plinth's.

use std::path::Path;

use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Client, Config};
use plinth_drift::core::desired;
use plinth_drift::core::report::{Mode, ObjectResult, Report, Status};
use plinth_drift::engine::{self, DriftRequest, LiveSource};
use plinth_renderer::{Fleet, Source};
use plinth_testkit::{FakeApiServer, Scenario, plural_of, split_api_version};
use plinth_vocab::change::FieldChange;
use serde_json::{Value, json};
use tempfile::TempDir;

use crate::support;

/// The objects the test repository renders for cluster `prod`: a Deployment, a Service, a
/// `CronJob`, a `ConfigMap` and a `Secret` in namespace `apps`.
const TEMPLATE: &str = r#"apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: apps
  labels:
    app: web
  annotations:
    team: platform
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: registry.example/web:1.0
          ports:
            - name: http
              containerPort: 8080
          env:
            - name: MODE
              value: prod
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: apps
spec:
  selector:
    app: web
  ports:
    - name: http
      port: 80
      targetPort: 8080
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: report
  namespace: apps
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: report
              image: registry.example/report:1.0
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  namespace: apps
data:
  mode: prod
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  namespace: apps
type: Opaque
data:
  user: YWRtaW4=
"#;

/// A repository with one cluster, `prod`, rendering [`TEMPLATE`]; `plinth_yaml` is its
/// `plinth.yaml`, if any.
fn repo(plinth_yaml: Option<&str>) -> TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut files = vec![
        (
            "assets/metadata.yaml",
            "assets:\n  - name: web\n    path: web.yaml.j2\n    install: always\n    reconcile_order: 1\n",
        ),
        ("assets/web.yaml.j2", TEMPLATE),
        ("clusters/prod/cluster.yaml", "name: prod\n"),
    ];
    if let Some(text) = plinth_yaml {
        files.push(("plinth.yaml", text));
    }
    for (path, text) in files {
        let path = dir.path().join(path);
        fs_err::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs_err::write(path, text).expect("write");
    }
    dir
}

/// What the repository at `dir` renders for `prod`, as plinth applies it.
fn rendered(dir: &Path) -> Vec<Value> {
    let fleet = Fleet::open(Source::dir(dir).expect("source")).expect("fleet");
    let cluster = fleet.render_cluster("prod").expect("render");
    desired::from_rendered(&cluster, &fleet.settings)
        .into_iter()
        .map(|d| d.value)
        .collect()
}

/// What the fake server defaults on every write, as a real API server would (a subset).
fn scenario() -> Scenario {
    Scenario::new()
        .serve("batch/v1", "CronJob", true)
        .default_fields(
            "Deployment",
            json!({"spec": {"progressDeadlineSeconds": 600, "revisionHistoryLimit": 10,
                "strategy": {"type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                "template": {"spec": {"dnsPolicy": "ClusterFirst", "restartPolicy": "Always",
                    "schedulerName": "default-scheduler", "securityContext": {},
                    "terminationGracePeriodSeconds": 30,
                    "containers": [{"name": "web", "imagePullPolicy": "IfNotPresent",
                        "terminationMessagePath": "/dev/termination-log",
                        "terminationMessagePolicy": "File", "resources": {}}]}}}}),
        )
        .default_fields(
            "Service",
            json!({"spec": {"type": "ClusterIP", "sessionAffinity": "None",
                "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"],
                "ipFamilies": ["IPv4"], "ipFamilyPolicy": "SingleStack",
                "internalTrafficPolicy": "Cluster"}}),
        )
        .default_fields(
            "CronJob",
            json!({"spec": {"concurrencyPolicy": "Allow", "suspend": false,
                "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 1}}),
        )
}

/// Runs `future` to its end on a runtime of its own.
fn block_on<F: Future>(future: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

/// A kube-rs client from `server`'s kubeconfig.
async fn client(server: &FakeApiServer) -> Client {
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig_path()).expect("kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    Client::try_from(config).expect("client")
}

/// Applies `objects` to `server` as plinth (or a GitOps controller) does: server-side apply
/// with field manager `manager`, forced, through the real kube-rs client.
fn apply_as(server: &FakeApiServer, manager: &str, objects: &[Value]) {
    block_on(async {
        let client = client(server).await;
        for object in objects {
            let text = |p: &str| object.pointer(p).and_then(Value::as_str).expect(p);
            let (group, version) = split_api_version(text("/apiVersion"));
            let kind = text("/kind");
            let gvk = GroupVersionKind::gvk(&group, &version, kind);
            let resource = ApiResource::from_gvk_with_plural(&gvk, &plural_of(kind));
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), text("/metadata/namespace"), &resource);
            api.patch(
                text("/metadata/name"),
                &PatchParams::apply(manager).force(),
                &Patch::Apply(object),
            )
            .await
            .expect("apply");
        }
    });
}

/// A fake server started with `scenario` holding what `dir` renders, applied by plinth.
fn applied_to(scenario: Scenario, dir: &Path) -> FakeApiServer {
    let server = FakeApiServer::start(scenario).expect("server");
    apply_as(&server, "plinth", &rendered(dir));
    server
}

/// [`applied_to`] the fake server of [`scenario`].
fn applied(dir: &Path) -> FakeApiServer {
    applied_to(scenario(), dir)
}

/// A whole drift of `prod` in `dir` against `server`.
fn drift(dir: &Path, server: &FakeApiServer, mode: Mode) -> Report {
    let request = DriftRequest {
        repo: dir.to_path_buf(),
        cluster: "prod".into(),
        source: LiveSource::Cluster(support::options(server, 0)),
        namespace: None,
        mode,
        now_epoch: 1_767_225_600,
        stack_bytes: 8 << 20,
    };
    std::thread::spawn(move || engine::run(&request, &|_| {}))
        .join()
        .expect("the engine thread")
        .expect("drift")
        .report
}

/// The result for the object `kind`/`name`.
fn object<'r>(report: &'r Report, kind: &str, name: &str) -> &'r ObjectResult {
    report
        .objects
        .iter()
        .find(|o| o.key.kind == kind && o.key.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name} in {report:#?}"))
}

/// The result for the Deployment `web` of a drift of `dir` against `server` in `mode`, the only
/// object that drifted.
fn drifted_web(dir: &Path, server: &FakeApiServer, mode: Mode) -> ObjectResult {
    let report = drift(dir, server, mode);
    let drifted = not_in_sync(&report);
    assert_eq!(drifted, ["Deployment/web Drifted"], "{mode:?}: {report:#?}");
    object(&report, "Deployment", "web").clone()
}

/// `kind/name status` of every object that is not in sync.
fn not_in_sync(report: &Report) -> Vec<String> {
    report
        .objects
        .iter()
        .filter(|o| o.status != Status::InSync)
        .map(|o| format!("{}/{} {:?}", o.key.kind, o.key.name, o.status))
        .collect()
}

/// One change as the tests check it: pointer, shown path (the keyed path where a list item is
/// involved), manager, operation, time, subresource.
type Row = (String, String, String, String, String, String);

/// The [`Row`] of `c`.
fn described(c: &FieldChange) -> Row {
    let w = c
        .writer
        .clone()
        .unwrap_or_else(|| panic!("no writer: {c:#?}"));
    (
        c.pointer.clone(),
        c.shown_path().to_owned(),
        w.manager,
        w.operation,
        w.time.unwrap_or_default(),
        w.subresource.unwrap_or_default(),
    )
}

#[test]
fn objects_plinth_applied_and_nobody_touched_are_in_sync_in_both_modes() {
    let dir = repo(None);
    let server = applied(dir.path());
    let live = server
        .get("apps/v1", "Deployment", Some("apps"), "web")
        .expect("live");
    assert_eq!(live["spec"]["revisionHistoryLimit"], 10, "defaulted");
    assert_eq!(live["metadata"]["managedFields"][0]["manager"], "plinth");
    for mode in [Mode::Client, Mode::Server] {
        let report = drift(dir.path(), &server, mode);
        assert_eq!(report.objects.len(), 5, "{report:#?}");
        for o in &report.objects {
            assert_eq!(o.status, Status::InSync, "{mode:?}: {o:#?}");
            assert!(o.managed.is_empty(), "{mode:?}: {o:#?}");
            assert!(o.pending_removal.is_empty(), "{mode:?}: {o:#?}");
        }
    }
}

/// Where a change people make must show up: the object (`Kind/name`), the manager the real
/// tool records (and the subresource it writes through, if any), and `(pointer, keyed path)`
/// of the change; it is written by that manager with operation `Update` at the time of the
/// write.
struct Expect {
    object: &'static str,
    manager: &'static str,
    subresource: &'static str,
    change: (String, String),
}

impl Expect {
    /// One change on `object` written by `manager`, at `pointer`.
    fn at(object: &'static str, manager: &'static str, pointer: &str) -> Self {
        Self {
            object,
            manager,
            subresource: "",
            change: (pointer.to_owned(), pointer.to_owned()),
        }
    }

    /// The same, with the change's keyed path differing from its pointer.
    fn keyed(mut self, keyed: &str) -> Self {
        keyed.clone_into(&mut self.change.1);
        self
    }
}

/// Changes the Deployment `apps/web` as `manager`.
fn deployment(server: &FakeApiServer, manager: &str, edit: impl FnOnce(&mut Value)) {
    assert!(server.edit_as(manager, "apps/v1", "Deployment", Some("apps"), "web", edit));
}

/// Changes the object `(api_version, kind, name)` in namespace `apps` as `manager`.
fn write(
    server: &FakeApiServer,
    manager: &str,
    (api_version, kind, name): (&str, &str, &str),
    edit: impl FnOnce(&mut Value),
) {
    assert!(server.edit_as(manager, api_version, kind, Some("apps"), name, edit));
}

fn pod_spec(d: &mut Value) -> &mut Value {
    &mut d["spec"]["template"]["spec"]
}

/// `/spec/template/spec` followed by `rest`.
fn in_pod(rest: &str) -> String {
    format!("/spec/template/spec{rest}")
}

fn web_container(d: &mut Value) -> &mut Value {
    &mut pod_spec(d)["containers"][0]
}

fn kubectl_edit_adds_a_container(s: &FakeApiServer) -> Expect {
    deployment(s, "kubectl-edit", |d| {
        let containers = pod_spec(d)["containers"].as_array_mut().expect("list");
        containers.push(json!({"name": "debug", "image": "registry.example/tools:1"}));
    });
    Expect::at("Deployment/web", "kubectl-edit", &in_pod("/containers/1"))
        .keyed(&in_pod("/containers/[name=debug]"))
}

fn kubectl_patch_adds_external_ips(s: &FakeApiServer) -> Expect {
    write(s, "kubectl-patch", ("v1", "Service", "web"), |v| {
        v["spec"]["externalIPs"] = json!(["203.0.113.7"]);
    });
    Expect::at("Service/web", "kubectl-patch", "/spec/externalIPs")
}

fn kubectl_edit_sets_privileged(s: &FakeApiServer) -> Expect {
    deployment(s, "kubectl-edit", |d| {
        web_container(d)["securityContext"] = json!({"privileged": true});
    });
    let pointer = in_pod("/containers/0/securityContext/privileged");
    Expect::at("Deployment/web", "kubectl-edit", &pointer)
        .keyed(&in_pod("/containers/[name=web]/securityContext/privileged"))
}

fn a_plain_http_client_changes_a_value(s: &FakeApiServer) -> Expect {
    write(s, "Go-http-client", ("v1", "ConfigMap", "settings"), |v| {
        v["data"]["mode"] = "debug".into();
    });
    Expect::at("ConfigMap/settings", "Go-http-client", "/data/mode")
}

fn kubectl_edit_sets_host_network(s: &FakeApiServer) -> Expect {
    deployment(s, "kubectl-edit", |d| {
        pod_spec(d)["hostNetwork"] = true.into();
    });
    Expect::at("Deployment/web", "kubectl-edit", &in_pod("/hostNetwork"))
}

fn kubectl_edit_adds_a_config_map_key(s: &FakeApiServer) -> Expect {
    let settings = ("v1", "ConfigMap", "settings");
    write(s, "kubectl-edit", settings, |v| {
        v["data"]["extra"] = json!("1");
    });
    Expect::at("ConfigMap/settings", "kubectl-edit", "/data/extra")
}

fn kubectl_scale_through_the_scale_subresource(s: &FakeApiServer) -> Expect {
    let scaled = s.scale_as(
        "kubectl-scale",
        ("apps/v1", "Deployment", Some("apps"), "web"),
        5,
    );
    assert!(scaled);
    Expect {
        subresource: "scale",
        ..Expect::at("Deployment/web", "kubectl-scale", "/spec/replicas")
    }
}

fn kubectl_edit_adds_a_secret_key(s: &FakeApiServer) -> Expect {
    let token = json!("c2VjcmV0");
    write(s, "kubectl-edit", ("v1", "Secret", "creds"), |v| {
        v["data"]["token"] = token;
    });
    Expect::at("Secret/creds", "kubectl-edit", "/data/token")
}

fn kubectl_set_env_adds_a_variable(s: &FakeApiServer) -> Expect {
    deployment(s, "kubectl-set", |d| {
        let env = web_container(d)["env"].as_array_mut().expect("env");
        env.push(json!({"name": "DEBUG", "value": "1"}));
    });
    Expect::at(
        "Deployment/web",
        "kubectl-set",
        &in_pod("/containers/0/env/1"),
    )
    .keyed(&in_pod("/containers/[name=web]/env/[name=DEBUG]"))
}

fn kubectl_annotate_adds_an_annotation(s: &FakeApiServer) -> Expect {
    write(s, "kubectl-annotate", ("v1", "Service", "web"), |v| {
        v["metadata"]["annotations"]["note"] = "temporary".into();
    });
    let pointer = "/metadata/annotations/note";
    Expect::at("Service/web", "kubectl-annotate", pointer)
}

fn kubectl_label_adds_a_label(s: &FakeApiServer) -> Expect {
    deployment(s, "kubectl-label", |d| {
        d["metadata"]["labels"]["owner"] = "bob".into();
    });
    Expect::at("Deployment/web", "kubectl-label", "/metadata/labels/owner")
}

fn kubectl_patch_suspends_a_cron_job(s: &FakeApiServer) -> Expect {
    write(s, "kubectl-patch", ("batch/v1", "CronJob", "report"), |v| {
        v["spec"]["suspend"] = true.into();
    });
    Expect::at("CronJob/report", "kubectl-patch", "/spec/suspend")
}

fn kubectl_set_image_changes_an_image(s: &FakeApiServer) -> Expect {
    deployment(s, "kubectl-set", |d| {
        web_container(d)["image"] = "registry.example/web:9.9".into();
    });
    let keyed = in_pod("/containers/[name=web]/image");
    Expect::at(
        "Deployment/web",
        "kubectl-set",
        &in_pod("/containers/0/image"),
    )
    .keyed(&keyed)
}

fn kubectl_patch_changes_a_service_port(s: &FakeApiServer) -> Expect {
    write(s, "kubectl-patch", ("v1", "Service", "web"), |v| {
        v["spec"]["ports"][0]["port"] = 8080.into();
    });
    Expect::at("Service/web", "kubectl-patch", "/spec/ports/0/port")
        .keyed("/spec/ports/[name=http]/port")
}

fn kubectl_patch_pauses_a_deployment(s: &FakeApiServer) -> Expect {
    deployment(s, "kubectl-patch", |d| d["spec"]["paused"] = true.into());
    Expect::at("Deployment/web", "kubectl-patch", "/spec/paused")
}

/// One row of what the tests check of a change ([`described`]).
fn row(pointer: &str, shown: &str, manager: &str, operation: &str, time: &str, via: &str) -> Row {
    let owned = |s: &str| s.to_owned();
    (
        owned(pointer),
        owned(shown),
        owned(manager),
        owned(operation),
        owned(time),
        owned(via),
    )
}

/// Each change people make, alone on objects plinth applied, is drift of exactly that object
/// at the expected pointer and keyed path, written by the manager the real tool records, with
/// operation `Update` at the time of the write, in both modes.
#[test]
fn every_change_people_make_is_drift_with_its_writer_in_both_modes() {
    let dir = repo(None);
    let edits: [fn(&FakeApiServer) -> Expect; 14] = [
        kubectl_edit_adds_a_container,
        kubectl_patch_adds_external_ips,
        kubectl_edit_sets_privileged,
        a_plain_http_client_changes_a_value,
        kubectl_edit_sets_host_network,
        kubectl_edit_adds_a_config_map_key,
        kubectl_scale_through_the_scale_subresource,
        kubectl_edit_adds_a_secret_key,
        kubectl_set_env_adds_a_variable,
        kubectl_annotate_adds_an_annotation,
        kubectl_label_adds_a_label,
        kubectl_patch_suspends_a_cron_job,
        kubectl_patch_pauses_a_deployment,
        kubectl_set_image_changes_an_image,
    ];
    for write in edits {
        found_in(&dir, write, &[Mode::Client, Mode::Server]);
    }
}

/// Checks that the change `write` makes, alone on objects plinth applied from `dir`, is drift
/// of exactly the [`Expect`]ed object, change and writer, in each of `modes`.
fn found_in(dir: &TempDir, write: fn(&FakeApiServer) -> Expect, modes: &[Mode]) {
    let server = applied(dir.path());
    let edit = write(&server);
    let time = server.now();
    let (pointer, keyed) = &edit.change;
    let expected = [row(
        pointer,
        keyed,
        edit.manager,
        "Update",
        &time,
        edit.subresource,
    )];
    for &mode in modes {
        let report = drift(dir.path(), &server, mode);
        let what = format!("{} on {} ({mode:?})", edit.manager, edit.object);
        assert_eq!(
            not_in_sync(&report),
            [format!("{} Drifted", edit.object)],
            "{what}: {report:#?}"
        );
        let (kind, name) = edit.object.split_once('/').expect("Kind/name");
        let o = object(&report, kind, name);
        let found: Vec<Row> = o.changes.iter().map(described).collect();
        assert_eq!(found, expected, "{what}: {o:#?}");
        if kind == "Secret" {
            let shown = format!("{:?}", o.changes);
            assert!(o.changes.iter().all(|c| c.secret), "{what}: {o:#?}");
            assert!(
                !shown.contains("c2VjcmV0"),
                "{what}: the value is redacted: {shown}"
            );
        }
        assert!(o.pending_removal.is_empty(), "{what}: {o:#?}");
        assert!(o.managed.is_empty(), "{what}: {o:#?}");
    }
}

/// `kubectl patch` changing a Service port's number (part of the port's merge key, `port` and
/// `protocol`) is drift at `/spec/ports/[name=http]/port` 80 → 8080, written by
/// `kubectl-patch`, client-side.
#[test]
fn a_changed_service_port_number_is_drift_with_its_writer_client_side() {
    found_in(
        &repo(None),
        kubectl_patch_changes_a_service_port,
        &[Mode::Client],
    );
}

/// The same in server mode. The dry-run applies the rendered port 80 as another item beside
/// the live 8080 one (another merge key); the report takes the change of that list from the
/// client comparison, which matched the ports by name. (A real API server may refuse that
/// dry-run, two ports named `http`, making the object `error`.)
#[test]
fn a_changed_service_port_number_is_drift_with_its_writer_server_side() {
    found_in(
        &repo(None),
        kubectl_patch_changes_a_service_port,
        &[Mode::Server],
    );
}

/// Asserts that every object of `report` is in sync, with nothing managed or pending removal.
fn assert_all_in_sync(report: &Report, what: &str) {
    for o in &report.objects {
        assert_eq!(o.status, Status::InSync, "{what}: {o:#?}");
        assert!(o.managed.is_empty(), "{what}: {o:#?}");
        assert!(o.pending_removal.is_empty(), "{what}: {o:#?}");
    }
}

/// The false-positive trap: objects first created by `kubectl create` or a client-side
/// `kubectl apply` (whose `Update` entry owns every server default) and later applied by
/// plinth are in sync in both modes.
#[test]
fn objects_created_by_hand_and_taken_over_by_plinth_are_in_sync() {
    let dir = repo(None);
    let objects = rendered(dir.path());
    for creator in ["kubectl-create", "kubectl-client-side-apply"] {
        let mut scenario = scenario();
        for object in &objects {
            let mut created = object.clone();
            if creator == "kubectl-client-side-apply" {
                let last_applied = "kubectl.kubernetes.io/last-applied-configuration";
                created["metadata"]["annotations"][last_applied] = object.to_string().into();
            }
            scenario = scenario.object_created_by(creator, created);
        }
        let server = applied_to(scenario, dir.path());
        let live = server
            .get("apps/v1", "Deployment", Some("apps"), "web")
            .expect("live");
        let managers: Vec<&str> = live["metadata"]["managedFields"]
            .as_array()
            .expect("managedFields")
            .iter()
            .filter_map(|e| e["manager"].as_str())
            .collect();
        assert_eq!(managers, [creator, "plinth"]);
        assert_eq!(
            live["metadata"]["managedFields"][0]["fieldsV1"]["f:spec"]["f:revisionHistoryLimit"],
            json!({}),
            "the creator owns the defaults"
        );
        for mode in [Mode::Client, Mode::Server] {
            let report = drift(dir.path(), &server, mode);
            assert_eq!(report.objects.len(), 5, "{report:#?}");
            assert_all_in_sync(&report, &format!("{creator} ({mode:?})"));
        }
        // A real server also marks maps the creator wrote with `.` (labels, annotations,
        // `strategy.rollingUpdate`, ...); marking every map of its entry is still in sync.
        for object in &objects {
            let text = |p: &str| object.pointer(p).and_then(Value::as_str).expect(p);
            let mut live = server
                .get(
                    text("/apiVersion"),
                    text("/kind"),
                    Some("apps"),
                    text("/metadata/name"),
                )
                .expect("live");
            let entries = live["metadata"]["managedFields"]
                .as_array_mut()
                .expect("managedFields");
            mark_maps(&mut entries[0]["fieldsV1"]);
            server.put(live);
        }
        let marked = server
            .get("apps/v1", "Deployment", Some("apps"), "web")
            .expect("live");
        assert_eq!(
            marked
                .pointer("/metadata/managedFields/0/fieldsV1/f:spec/f:strategy/f:rollingUpdate/."),
            Some(&json!({}))
        );
        for mode in [Mode::Client, Mode::Server] {
            let report = drift(dir.path(), &server, mode);
            assert_all_in_sync(&report, &format!("{creator}, maps marked ({mode:?})"));
        }
    }
}

/// Adds `".": {}` to every `f:` map of a `fieldsV1` set that has members.
fn mark_maps(set: &mut Value) {
    if let Some(nodes) = set.as_object_mut() {
        for (element, node) in nodes.iter_mut() {
            mark_maps(node);
            if let Some(members) = node.as_object_mut()
                && element.starts_with("f:")
                && !members.is_empty()
            {
                members.insert(".".into(), json!({}));
            }
        }
    }
}

/// A controller's write (the autoscaler in `kube-controller-manager` scaling through the
/// `scale` subresource) is not drift: it is reported as managed by that controller; listed in
/// `drift.driftManagers` of `plinth.yaml`, the same write is drift.
#[test]
fn a_controller_write_is_managed_unless_plinth_yaml_calls_it_drift() {
    let scale = |server: &FakeApiServer| {
        let web = ("apps/v1", "Deployment", Some("apps"), "web");
        assert!(server.scale_as("kube-controller-manager", web, 4));
        server.now()
    };
    let expected = |time: &str| {
        let replicas = "/spec/replicas";
        vec![row(
            replicas,
            replicas,
            "kube-controller-manager",
            "Update",
            time,
            "scale",
        )]
    };

    let dir = repo(None);
    let server = applied(dir.path());
    let time = scale(&server);
    for mode in [Mode::Client, Mode::Server] {
        let report = drift(dir.path(), &server, mode);
        assert!(not_in_sync(&report).is_empty(), "{mode:?}: {report:#?}");
        let web = object(&report, "Deployment", "web");
        assert!(web.changes.is_empty(), "{mode:?}: {web:#?}");
        let managed: Vec<_> = web.managed.iter().map(described).collect();
        assert_eq!(managed, expected(&time), "{mode:?}: {web:#?}");
        assert_eq!(web.managed[0].after, Some(json!(4)));
    }

    let dir = repo(Some("drift:\n  driftManagers: [kube-controller-manager]\n"));
    let server = applied(dir.path());
    let time = scale(&server);
    for mode in [Mode::Client, Mode::Server] {
        let web = drifted_web(dir.path(), &server, mode);
        assert!(web.managed.is_empty(), "{mode:?}: {web:#?}");
        let changes: Vec<_> = web.changes.iter().map(described).collect();
        assert_eq!(changes, expected(&time), "{mode:?}: {web:#?}");
    }
}

/// A fake server holding what `dir` renders, applied by `manager`, whose Deployment `manager`
/// applied once more earlier with a label `tier` and an annotation `legacy` the render no
/// longer has (applied last: the time of that apply is returned).
fn applied_with_more_earlier(dir: &Path, manager: &str) -> (FakeApiServer, String) {
    let server = FakeApiServer::start(scenario()).expect("server");
    let current = rendered(dir);
    apply_as(&server, manager, &current);
    let mut earlier = web_deployment(&current).clone();
    earlier["metadata"]["labels"]["tier"] = "frontend".into();
    earlier["metadata"]["annotations"]["legacy"] = "yes".into();
    apply_as(&server, manager, &[earlier]);
    let time = server.now();
    (server, time)
}

/// The Deployment among `objects`.
fn web_deployment(objects: &[Value]) -> &Value {
    objects
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("the Deployment")
}

/// The pending removals of [`applied_with_more_earlier`] by `manager` at `time`.
fn pending_rows(manager: &str, time: &str) -> [Row; 2] {
    let applied = |pointer: &str| row(pointer, pointer, manager, "Apply", time, "");
    [
        applied("/metadata/annotations/legacy"),
        applied("/metadata/labels/tier"),
    ]
}

/// A label and an annotation plinth applied earlier and no longer renders are pending removal
/// (drift, written by `plinth` with `Apply`), reported once in server mode too, where the
/// dry-run of the render removes them.
#[test]
fn what_plinth_applied_and_no_longer_renders_is_pending_removal_once() {
    let dir = repo(None);
    let (server, time) = applied_with_more_earlier(dir.path(), "plinth");
    let current = rendered(dir.path());
    let desired = web_deployment(&current);
    let dry_run = block_on(async {
        support::connect_plain(&support::options(&server, 0))
            .await
            .dry_run_apply(desired)
            .await
            .expect("dry run")
    });
    assert_eq!(dry_run["metadata"]["labels"].get("tier"), None);
    assert_eq!(dry_run["metadata"]["annotations"].get("legacy"), None);

    for mode in [Mode::Client, Mode::Server] {
        let web = drifted_web(dir.path(), &server, mode);
        assert!(web.changes.is_empty(), "{mode:?}: {web:#?}");
        assert!(web.managed.is_empty(), "{mode:?}: {web:#?}");
        let pending: Vec<_> = web.pending_removal.iter().map(described).collect();
        assert_eq!(pending, pending_rows("plinth", &time), "{mode:?}: {web:#?}");
        assert!(web.pending_removal.iter().all(|c| c.before.is_none()));
    }
}

/// A manager `plinth.yaml` lists in `drift.gitopsManagers` (`fleet-agent`) is a baseline like
/// plinth: what it applied and the render no longer has is pending removal, written by it;
/// not listed, it is a controller and the same fields are managed by it, in sync.
#[test]
fn a_gitops_manager_from_plinth_yaml_leaves_pending_removals() {
    let dir = repo(Some("drift:\n  gitopsManagers: [fleet-agent]\n"));
    let (server, time) = applied_with_more_earlier(dir.path(), "fleet-agent");
    for mode in [Mode::Client, Mode::Server] {
        let web = drifted_web(dir.path(), &server, mode);
        assert!(web.changes.is_empty(), "{mode:?}: {web:#?}");
        let pending: Vec<_> = web.pending_removal.iter().map(described).collect();
        assert_eq!(
            pending,
            pending_rows("fleet-agent", &time),
            "{mode:?}: {web:#?}"
        );
    }

    let dir = repo(None);
    let (server, time) = applied_with_more_earlier(dir.path(), "fleet-agent");
    for mode in [Mode::Client, Mode::Server] {
        let report = drift(dir.path(), &server, mode);
        assert!(not_in_sync(&report).is_empty(), "{mode:?}: {report:#?}");
        let web = object(&report, "Deployment", "web");
        let managed: Vec<_> = web.managed.iter().map(described).collect();
        let [legacy, tier] = pending_rows("fleet-agent", &time);
        assert_eq!(managed, [legacy, tier], "{mode:?}: {web:#?}");
    }
}

/// Argo CD (`argocd-controller`) and Flux (`kustomize-controller`) applying plinth's output
/// are baselines out of the box: untouched objects are in sync, a `kubectl scale` afterwards
/// is drift written by `kubectl-scale`, in both modes.
#[test]
fn objects_a_gitops_controller_applied_are_judged_like_plinths() {
    let dir = repo(None);
    for applier in ["argocd-controller", "kustomize-controller"] {
        let server = FakeApiServer::start(scenario()).expect("server");
        apply_as(&server, applier, &rendered(dir.path()));
        for mode in [Mode::Client, Mode::Server] {
            let report = drift(dir.path(), &server, mode);
            assert_all_in_sync(&report, &format!("{applier} ({mode:?})"));
        }
        let web = ("apps/v1", "Deployment", Some("apps"), "web");
        assert!(server.scale_as("kubectl-scale", web, 7));
        let time = server.now();
        for mode in [Mode::Client, Mode::Server] {
            let web = drifted_web(dir.path(), &server, mode);
            let changes: Vec<_> = web.changes.iter().map(described).collect();
            let replicas = "/spec/replicas";
            let expected = row(
                replicas,
                replicas,
                "kubectl-scale",
                "Update",
                &time,
                "scale",
            );
            assert_eq!(changes, [expected], "{applier} ({mode:?}): {web:#?}");
        }
    }
}

/// A real API server also marks a map or optional struct an update created with `.` (the
/// fake records only its leaves): `kubectl edit` adding `securityContext: {privileged: true}`
/// owns `securityContext` itself. The whole new `securityContext` is then the drift, written
/// by `kubectl-edit`, in both modes.
#[test]
fn a_map_an_edit_created_and_owns_itself_is_drift_as_a_whole() {
    let dir = repo(None);
    let server = applied(dir.path());
    deployment(&server, "kubectl-edit", |d| {
        web_container(d)["securityContext"] = json!({"privileged": true});
    });
    let time = server.now();
    let mut live = server
        .get("apps/v1", "Deployment", Some("apps"), "web")
        .expect("live");
    let entries = live["metadata"]["managedFields"]
        .as_array_mut()
        .expect("managedFields");
    let edit = entries
        .iter_mut()
        .find(|e| e["manager"] == "kubectl-edit")
        .expect("the edit's entry");
    let context = edit
        .pointer_mut("/fieldsV1/f:spec/f:template/f:spec/f:containers/k:{\"name\":\"web\"}/f:securityContext")
        .and_then(Value::as_object_mut)
        .expect("the edit owns securityContext.privileged");
    context.insert(".".into(), json!({}));
    server.put(live);
    for mode in [Mode::Client, Mode::Server] {
        let web = drifted_web(dir.path(), &server, mode);
        let found: Vec<_> = web.changes.iter().map(described).collect();
        let (pointer, keyed) = (
            in_pod("/containers/0/securityContext"),
            in_pod("/containers/[name=web]/securityContext"),
        );
        let expected = row(&pointer, &keyed, "kubectl-edit", "Update", &time, "");
        assert_eq!(found, [expected], "{mode:?}: {web:#?}");
        assert_eq!(web.changes[0].after, Some(json!({"privileged": true})));
    }
}
