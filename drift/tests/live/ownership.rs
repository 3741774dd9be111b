//! Ownership from `managedFields` end to end: a small repository rendered in memory, its
//! objects applied by `plinth` (server-side apply through the real kube-rs client) to the fake
//! API server, then changed the way people and controllers change them (each write recorded
//! under the manager the real tool records), and a whole drift ([`engine::run`]) in both
//! modes. Every change people make is drift with its pointer, keyed path and writer; defaults
//! owned by the manager that created an object are not; a controller's write is `managed`
//! unless `plinth.yaml` lists it as a drift manager; what plinth applied and no longer renders
//! is a pending removal, reported once.

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

/// A kube-rs client from `server`'s kubeconfig.
async fn client(server: &FakeApiServer) -> Client {
    let kubeconfig = Kubeconfig::read_from(server.kubeconfig_path()).expect("kubeconfig");
    let config = Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .expect("config");
    Client::try_from(config).expect("client")
}

/// Applies `objects` to `server` as plinth does: server-side apply, field manager `plinth`,
/// forced, through the real kube-rs client.
fn apply_as_plinth(server: &FakeApiServer, objects: &[Value]) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
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
                &PatchParams::apply("plinth").force(),
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
    apply_as_plinth(&server, &rendered(dir));
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

/// `kind/name status` of every object that is not in sync.
fn not_in_sync(report: &Report) -> Vec<String> {
    report
        .objects
        .iter()
        .filter(|o| o.status != Status::InSync)
        .map(|o| format!("{}/{} {:?}", o.key.kind, o.key.name, o.status))
        .collect()
}

/// One change as the test checks it: pointer, keyed path, manager, operation, time,
/// subresource.
fn described(c: &FieldChange) -> (String, String, String, String, String, String) {
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

/// A change people make: its name, the write (as the manager the real tool records), and the
/// object and changes it must show up as: `(pointer, keyed path)`, all written by `manager`
/// (through `subresource`, if any) at the time of the write.
struct Edit {
    name: &'static str,
    write: fn(&FakeApiServer) -> bool,
    kind: &'static str,
    object: &'static str,
    manager: &'static str,
    subresource: &'static str,
    changes: &'static [(&'static str, &'static str)],
}

fn deployment(server: &FakeApiServer, manager: &str, edit: impl FnOnce(&mut Value)) -> bool {
    server.edit_as(manager, "apps/v1", "Deployment", Some("apps"), "web", edit)
}

fn pod_spec(d: &mut Value) -> &mut Value {
    &mut d["spec"]["template"]["spec"]
}

fn web_container(d: &mut Value) -> &mut Value {
    &mut pod_spec(d)["containers"][0]
}

const EDITS: &[Edit] = &[
    Edit {
        name: "kubectl edit adds a container",
        write: |s| {
            deployment(s, "kubectl-edit", |d| {
                let containers = pod_spec(d)["containers"].as_array_mut().expect("list");
                containers.push(json!({"name": "debug", "image": "registry.example/tools:1"}));
            })
        },
        kind: "Deployment",
        object: "web",
        manager: "kubectl-edit",
        subresource: "",
        changes: &[(
            "/spec/template/spec/containers/1",
            "/spec/template/spec/containers/[name=debug]",
        )],
    },
    Edit {
        name: "kubectl edit sets privileged",
        write: |s| {
            deployment(s, "kubectl-edit", |d| {
                web_container(d)["securityContext"] = json!({"privileged": true});
            })
        },
        kind: "Deployment",
        object: "web",
        manager: "kubectl-edit",
        subresource: "",
        changes: &[(
            "/spec/template/spec/containers/0/securityContext/privileged",
            "/spec/template/spec/containers/[name=web]/securityContext/privileged",
        )],
    },
    Edit {
        name: "kubectl edit sets hostNetwork",
        write: |s| {
            deployment(s, "kubectl-edit", |d| {
                pod_spec(d)["hostNetwork"] = true.into();
            })
        },
        kind: "Deployment",
        object: "web",
        manager: "kubectl-edit",
        subresource: "",
        changes: &[(
            "/spec/template/spec/hostNetwork",
            "/spec/template/spec/hostNetwork",
        )],
    },
    Edit {
        name: "kubectl patch adds externalIPs to a Service",
        write: |s| {
            s.edit_as("kubectl-patch", "v1", "Service", Some("apps"), "web", |v| {
                v["spec"]["externalIPs"] = json!(["203.0.113.7"]);
            })
        },
        kind: "Service",
        object: "web",
        manager: "kubectl-patch",
        subresource: "",
        changes: &[("/spec/externalIPs", "/spec/externalIPs")],
    },
    Edit {
        name: "kubectl scale changes replicas through the scale subresource",
        write: |s| {
            s.scale_as(
                "kubectl-scale",
                "apps/v1",
                "Deployment",
                Some("apps"),
                "web",
                5,
            )
        },
        kind: "Deployment",
        object: "web",
        manager: "kubectl-scale",
        subresource: "scale",
        changes: &[("/spec/replicas", "/spec/replicas")],
    },
    Edit {
        name: "kubectl set env adds an env var",
        write: |s| {
            deployment(s, "kubectl-set", |d| {
                let env = web_container(d)["env"].as_array_mut().expect("env");
                env.push(json!({"name": "DEBUG", "value": "1"}));
            })
        },
        kind: "Deployment",
        object: "web",
        manager: "kubectl-set",
        subresource: "",
        changes: &[(
            "/spec/template/spec/containers/0/env/1",
            "/spec/template/spec/containers/[name=web]/env/[name=DEBUG]",
        )],
    },
    Edit {
        name: "kubectl label adds a label",
        write: |s| {
            deployment(s, "kubectl-label", |d| {
                d["metadata"]["labels"]["owner"] = "bob".into();
            })
        },
        kind: "Deployment",
        object: "web",
        manager: "kubectl-label",
        subresource: "",
        changes: &[("/metadata/labels/owner", "/metadata/labels/owner")],
    },
    Edit {
        name: "kubectl annotate adds an annotation",
        write: |s| {
            s.edit_as(
                "kubectl-annotate",
                "v1",
                "Service",
                Some("apps"),
                "web",
                |v| {
                    v["metadata"]["annotations"]["note"] = "temporary".into();
                },
            )
        },
        kind: "Service",
        object: "web",
        manager: "kubectl-annotate",
        subresource: "",
        changes: &[("/metadata/annotations/note", "/metadata/annotations/note")],
    },
    Edit {
        name: "kubectl patch suspends a CronJob",
        write: |s| {
            s.edit_as(
                "kubectl-patch",
                "batch/v1",
                "CronJob",
                Some("apps"),
                "report",
                |v| {
                    v["spec"]["suspend"] = true.into();
                },
            )
        },
        kind: "CronJob",
        object: "report",
        manager: "kubectl-patch",
        subresource: "",
        changes: &[("/spec/suspend", "/spec/suspend")],
    },
    Edit {
        name: "kubectl patch pauses a Deployment",
        write: |s| deployment(s, "kubectl-patch", |d| d["spec"]["paused"] = true.into()),
        kind: "Deployment",
        object: "web",
        manager: "kubectl-patch",
        subresource: "",
        changes: &[("/spec/paused", "/spec/paused")],
    },
    Edit {
        name: "a plain HTTP client changes a ConfigMap value",
        write: |s| {
            s.edit_as(
                "Go-http-client",
                "v1",
                "ConfigMap",
                Some("apps"),
                "settings",
                |v| {
                    v["data"]["mode"] = "debug".into();
                },
            )
        },
        kind: "ConfigMap",
        object: "settings",
        manager: "Go-http-client",
        subresource: "",
        changes: &[("/data/mode", "/data/mode")],
    },
    Edit {
        name: "kubectl edit adds a key to a rendered ConfigMap",
        write: |s| {
            s.edit_as(
                "kubectl-edit",
                "v1",
                "ConfigMap",
                Some("apps"),
                "settings",
                |v| {
                    v["data"]["extra"] = "1".into();
                },
            )
        },
        kind: "ConfigMap",
        object: "settings",
        manager: "kubectl-edit",
        subresource: "",
        changes: &[("/data/extra", "/data/extra")],
    },
    Edit {
        name: "kubectl edit adds a key to a rendered Secret",
        write: |s| {
            s.edit_as("kubectl-edit", "v1", "Secret", Some("apps"), "creds", |v| {
                v["data"]["token"] = "c2VjcmV0".into();
            })
        },
        kind: "Secret",
        object: "creds",
        manager: "kubectl-edit",
        subresource: "",
        changes: &[("/data/token", "/data/token")],
    },
];

/// Each change people make, alone on objects plinth applied, is drift of exactly that object
/// at the expected pointer and keyed path, written by the manager the real tool records, with
/// operation `Update` at the time of the write, in both modes.
#[test]
fn every_change_people_make_is_drift_with_its_writer_in_both_modes() {
    let dir = repo(None);
    for edit in EDITS {
        let server = applied(dir.path());
        assert!((edit.write)(&server), "{}: the object is stored", edit.name);
        let time = server.now();
        for mode in [Mode::Client, Mode::Server] {
            let report = drift(dir.path(), &server, mode);
            let what = format!("{} ({mode:?})", edit.name);
            assert_eq!(
                not_in_sync(&report),
                [format!("{}/{} Drifted", edit.kind, edit.object)],
                "{what}: {report:#?}"
            );
            let o = object(&report, edit.kind, edit.object);
            let expected: Vec<_> = edit
                .changes
                .iter()
                .map(|(pointer, keyed)| {
                    (
                        (*pointer).to_owned(),
                        (*keyed).to_owned(),
                        edit.manager.to_owned(),
                        "Update".to_owned(),
                        time.clone(),
                        edit.subresource.to_owned(),
                    )
                })
                .collect();
            let found: Vec<_> = o.changes.iter().map(described).collect();
            assert_eq!(found, expected, "{what}: {o:#?}");
            assert!(o.pending_removal.is_empty(), "{what}: {o:#?}");
            assert!(o.managed.is_empty(), "{what}: {o:#?}");
        }
    }
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
                created["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
                    object.to_string().into();
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
        assert!(server.scale_as(
            "kube-controller-manager",
            "apps/v1",
            "Deployment",
            Some("apps"),
            "web",
            4
        ));
        server.now()
    };
    let expected = |time: &str| {
        vec![(
            "/spec/replicas".to_owned(),
            "/spec/replicas".to_owned(),
            "kube-controller-manager".to_owned(),
            "Update".to_owned(),
            time.to_owned(),
            "scale".to_owned(),
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
        let report = drift(dir.path(), &server, mode);
        assert_eq!(
            not_in_sync(&report),
            ["Deployment/web Drifted"],
            "{mode:?}: {report:#?}"
        );
        let web = object(&report, "Deployment", "web");
        assert!(web.managed.is_empty(), "{mode:?}: {web:#?}");
        let changes: Vec<_> = web.changes.iter().map(described).collect();
        assert_eq!(changes, expected(&time), "{mode:?}: {web:#?}");
    }
}

/// A label and an annotation plinth applied earlier and no longer renders are pending removal
/// (drift, written by `plinth` with `Apply`), reported once in server mode too, where the
/// dry-run of the render removes them.
#[test]
fn what_plinth_applied_and_no_longer_renders_is_pending_removal_once() {
    let dir = repo(None);
    let server = applied(dir.path());
    let current = rendered(dir.path());
    let mut earlier = current
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("the Deployment")
        .clone();
    earlier["metadata"]["labels"]["tier"] = "frontend".into();
    earlier["metadata"]["annotations"]["legacy"] = "yes".into();
    apply_as_plinth(&server, &[earlier]);
    let time = server.now();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let desired = current
        .iter()
        .find(|o| o["kind"] == "Deployment")
        .expect("the Deployment");
    let dry_run = runtime.block_on(async {
        support::connect_plain(&support::options(&server, 0))
            .await
            .dry_run_apply(desired)
            .await
            .expect("dry run")
    });
    assert_eq!(dry_run["metadata"]["labels"].get("tier"), None);
    assert_eq!(dry_run["metadata"]["annotations"].get("legacy"), None);

    for mode in [Mode::Client, Mode::Server] {
        let report = drift(dir.path(), &server, mode);
        assert_eq!(
            not_in_sync(&report),
            ["Deployment/web Drifted"],
            "{mode:?}: {report:#?}"
        );
        let web = object(&report, "Deployment", "web");
        assert!(web.changes.is_empty(), "{mode:?}: {web:#?}");
        assert!(web.managed.is_empty(), "{mode:?}: {web:#?}");
        let pending: Vec<_> = web.pending_removal.iter().map(described).collect();
        let row = |pointer: &str| {
            (
                pointer.to_owned(),
                pointer.to_owned(),
                "plinth".to_owned(),
                "Apply".to_owned(),
                time.clone(),
                String::new(),
            )
        };
        assert_eq!(
            pending,
            [
                row("/metadata/annotations/legacy"),
                row("/metadata/labels/tier")
            ],
            "{mode:?}: {web:#?}"
        );
        assert!(web.pending_removal.iter().all(|c| c.before.is_none()));
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
    assert!(deployment(&server, "kubectl-edit", |d| {
        web_container(d)["securityContext"] = json!({"privileged": true});
    }));
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
        let report = drift(dir.path(), &server, mode);
        assert_eq!(not_in_sync(&report), ["Deployment/web Drifted"], "{mode:?}");
        let web = object(&report, "Deployment", "web");
        let found: Vec<_> = web.changes.iter().map(described).collect();
        assert_eq!(
            found,
            [(
                "/spec/template/spec/containers/0/securityContext".to_owned(),
                "/spec/template/spec/containers/[name=web]/securityContext".to_owned(),
                "kubectl-edit".to_owned(),
                "Update".to_owned(),
                time.clone(),
                String::new(),
            )],
            "{mode:?}: {web:#?}"
        );
        assert_eq!(web.changes[0].after, Some(json!({"privileged": true})));
    }
}
