//! `plinth rbac` (the least-privilege RBAC of a cluster's rendered kinds) on the example fleet
//! and on small repositories; the RBAC checked against every request `plinth drift` makes of
//! the fake API server; the in-cluster base `ci/kubernetes/` built with `kubectl kustomize`;
//! and the rules of the `Dockerfile`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::common::{
    assert_exit, copy_dir, plinth, rendered_objects, stderr, stdout, workspace, write_files,
};

fn example() -> PathBuf {
    workspace().join("examples/fleet")
}

/// Every cluster of the example fleet.
fn example_clusters() -> Vec<String> {
    let mut names: Vec<String> = fs_err::read_dir(example().join("clusters"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn yaml_docs(text: &str) -> Vec<Value> {
    plinth_vocab::yaml::from_str_multi(text).unwrap()
}

/// `plinth rbac . --cluster NAME` in `dir` with `extra`, which must succeed: its stdout.
fn rbac_ok(dir: &Path, cluster: &str, extra: &[&str]) -> String {
    let mut args = vec!["rbac", ".", "--cluster", cluster];
    args.extend(extra);
    let out = plinth(dir, &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out)
}

#[test]
fn every_example_cluster_gets_its_rbac() {
    let clusters = example_clusters();
    assert_eq!(clusters.len(), 3, "{clusters:?}");
    for cluster in &clusters {
        let text = rbac_ok(&example(), cluster, &[]);
        insta::assert_snapshot!(format!("rbac__{cluster}"), text);
    }
}

#[test]
fn the_output_file_is_written_whole_and_equals_stdout() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("out/rbac.yaml");
    let expected = rbac_ok(&example(), "gpu-east", &[]);
    let text = rbac_ok(
        &example(),
        "gpu-east",
        &["--output", &file.display().to_string()],
    );
    assert_eq!(text, "", "nothing on stdout with --output");
    assert_eq!(fs_err::read_to_string(&file).unwrap(), expected);
    assert_eq!(rbac_ok(&example(), "gpu-east", &["-o", "-"]), expected);

    // An unknown cluster writes nothing.
    let missing = tmp.path().join("nothing.yaml");
    let out = plinth(
        &example(),
        &[
            "rbac",
            ".",
            "--cluster",
            "nope",
            "-o",
            &missing.display().to_string(),
        ],
    );
    assert_exit(
        &out,
        2,
        &[
            "error: unknown cluster `nope`",
            "hint: the repository's clusters are: edge-hci, gpu-east, plain-west",
        ],
    );
    assert!(!missing.exists());
}

/// A repository with one cluster, `prod`, rendering a Namespace, a ConfigMap and a Gadget (a
/// custom resource no built-in table names); with `crd_asset`, also the Gadget's CRD.
fn gadget_repo(dir: &Path, crd_asset: bool) {
    let mut metadata = String::from(
        "assets:\n  - name: base\n    path: base.yaml\n    phase: 0\n    install: always\n    component: ConfigMap\n    reconcile_order: 1\n",
    );
    if crd_asset {
        metadata.push_str(
            "  - name: gadget-crd\n    path: crd.yaml\n    phase: 0\n    install: always\n    component: CustomResourceDefinition\n    reconcile_order: 0\n",
        );
    }
    let crd = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: gadgeteria.example.com\nspec:\n  group: example.com\n  scope: Namespaced\n  names:\n    kind: Gadget\n    plural: gadgeteria\n  versions:\n    - name: v1\n      served: true\n      storage: true\n      schema:\n        openAPIV3Schema:\n          type: object\n          x-kubernetes-preserve-unknown-fields: true\n";
    write_files(
        dir,
        &[
            ("assets/metadata.yaml", &metadata),
            (
                "assets/base.yaml",
                "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: base\n  namespace: team\n---\napiVersion: example.com/v1\nkind: Gadget\nmetadata:\n  name: g\n  namespace: team\n",
            ),
            ("assets/crd.yaml", crd),
            ("clusters/prod/cluster.yaml", "name: prod\n"),
            ("schemas/gadget.yaml", crd),
        ],
    );
}

/// The `(verb, group, resource, namespace)` grants of an RBAC YAML stream, evaluated the way
/// the API server's RBAC authorizer does (independently of `plinth_apply::rbac`): `ClusterRole`
/// rules anywhere, a Role's rules in its namespace, each only when bound to the subject.
fn allowed(docs: &[Value], verb: &str, group: &str, resource: &str, ns: Option<&str>) -> bool {
    let bound = |kind: &str, name: &str, namespace: Option<&str>| {
        let binding = if kind == "ClusterRole" {
            "ClusterRoleBinding"
        } else {
            "RoleBinding"
        };
        docs.iter().any(|b| {
            b["kind"] == binding
                && b["roleRef"]["kind"] == kind
                && b["roleRef"]["name"] == name
                && b["metadata"]["namespace"].as_str() == namespace
                && b["subjects"][0]["name"] == "plinth"
                && b["subjects"][0]["namespace"] == "plinth-system"
        })
    };
    let has = |list: &Value, item: &str| {
        list.as_array()
            .is_some_and(|l| l.iter().any(|v| v == item || v == "*"))
    };
    docs.iter().any(|role| {
        let kind = role["kind"].as_str().unwrap_or_default();
        let role_ns = role["metadata"]["namespace"].as_str();
        let applies = match kind {
            "ClusterRole" => true,
            "Role" => ns.is_some() && role_ns == ns,
            _ => false,
        };
        applies
            && bound(kind, role["metadata"]["name"].as_str().unwrap(), role_ns)
            && role["rules"].as_array().unwrap().iter().any(|r| {
                has(&r["apiGroups"], group)
                    && has(&r["resources"], resource)
                    && has(&r["verbs"], verb)
            })
    })
}

#[test]
fn kinds_are_named_by_rendered_crds_or_the_schemas_folder_never_guessed() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    gadget_repo(&repo, false);
    let out = plinth(&repo, &["rbac", ".", "--cluster", "prod"]);
    assert_exit(
        &out,
        2,
        &[
            "error: cluster `prod`: no resource name is known for 1 rendered kind: `Gadget` of `example.com/v1` (`gadget_team_g.yaml`)",
            "hint: put the kind's CustomResourceDefinition in the `schemas` folder of plinth.yaml or pass `--crds DIR`",
        ],
    );
    assert_eq!(stdout(&out), "");

    // The CRD folder names it.
    let docs = yaml_docs(&rbac_ok(&repo, "prod", &["--crds", "schemas"]));
    assert!(allowed(
        &docs,
        "patch",
        "example.com",
        "gadgeteria",
        Some("team")
    ));
    assert!(!allowed(
        &docs,
        "patch",
        "example.com",
        "gadgets",
        Some("team")
    ));

    // So does the CRD rendered with the cluster; Namespaces and CRDs are never deleted
    // unless asked.
    let repo = tmp.path().join("with-crd");
    gadget_repo(&repo, true);
    let docs = yaml_docs(&rbac_ok(&repo, "prod", &[]));
    assert!(allowed(
        &docs,
        "delete",
        "example.com",
        "gadgeteria",
        Some("team")
    ));
    assert!(!allowed(&docs, "delete", "", "namespaces", None));
    let crds = "customresourcedefinitions";
    assert!(allowed(&docs, "patch", "apiextensions.k8s.io", crds, None));
    assert!(!allowed(
        &docs,
        "delete",
        "apiextensions.k8s.io",
        crds,
        None
    ));
    // ConfigMaps and Gadgets live in `team` only: a Role there, nothing cluster-wide.
    assert!(allowed(&docs, "list", "", "configmaps", Some("team")));
    assert!(!allowed(&docs, "list", "", "configmaps", None));

    let docs = yaml_docs(&rbac_ok(
        &repo,
        "prod",
        &["--prune-namespaces", "--prune-crds", "--cluster-role-only"],
    ));
    assert!(allowed(&docs, "delete", "", "namespaces", None));
    assert!(allowed(&docs, "delete", "apiextensions.k8s.io", crds, None));
    assert!(allowed(&docs, "list", "", "configmaps", None));
    assert!(docs.iter().all(|d| d["kind"] != "Role"));

    // Another ServiceAccount; a bad one is refused.
    let text = rbac_ok(
        &repo,
        "prod",
        &[
            "--service-account",
            "drift-bot",
            "--service-account-namespace",
            "ops",
        ],
    );
    let docs = yaml_docs(&text);
    assert_eq!(docs[1]["subjects"][0]["name"], "drift-bot");
    assert_eq!(docs[1]["subjects"][0]["namespace"], "ops");
    assert_eq!(docs[0]["metadata"]["name"], "drift-bot");
    let out = plinth(
        &repo,
        &[
            "rbac",
            ".",
            "--cluster",
            "prod",
            "--service-account",
            "Drift_Bot",
        ],
    );
    assert_exit(
        &out,
        2,
        &["error: the ServiceAccount name `Drift_Bot` is not a valid Kubernetes name"],
    );
}

/// The RBAC attributes of one request to the fake API server: verb, group, resource and
/// namespace (discovery requests are `None`: every authenticated user may make them).
fn attributes(
    req: &plinth_testkit::LoggedRequest,
) -> Option<(String, String, String, Option<String>)> {
    if req.is_discovery() {
        return None;
    }
    let segments: Vec<&str> = req.path.split('/').filter(|s| !s.is_empty()).collect();
    let (group, rest) = match segments.as_slice() {
        ["api", "v1", rest @ ..] => ("", rest),
        ["apis", group, _, rest @ ..] => (*group, rest),
        _ => panic!("unexpected path {}", req.path),
    };
    let (namespace, resource, name) = match rest {
        ["namespaces", ns, resource, tail @ ..] => {
            (Some((*ns).to_owned()), *resource, tail.first())
        }
        [resource, tail @ ..] => (None, *resource, tail.first()),
        [] => panic!("unexpected path {}", req.path),
    };
    let verb = match (req.method.as_str(), name) {
        ("GET", Some(_)) => "get",
        ("GET", None) => "list",
        ("PATCH", _) => "patch",
        ("POST", _) => "create",
        ("DELETE", _) => "delete",
        (m, _) => panic!("unexpected method {m}"),
    };
    Some((
        verb.to_owned(),
        group.to_owned(),
        resource.to_owned(),
        namespace,
    ))
}

/// `plinth drift` (server mode: LISTs, orphan LISTs, server-side apply dry-runs, Nodes) of
/// `plain-west` against the fake, which also serves kinds the cluster does not render: the
/// RBAC allows every request drift makes on the rendered kinds. What it refuses is only the
/// orphan search (an all-namespace LIST selecting plinth's labels) of kinds the cluster does
/// not render, and, with the default Roles, of the kinds given a Role: drift warns that it
/// did not look for orphans there, and prune deletes nothing it has not found.
#[test]
fn the_rbac_allows_every_request_drift_makes_against_the_fake() {
    use plinth_testkit::{FakeApiServer, ResourceType, Scenario};
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("fleet");
    copy_dir(&example(), &repo);
    let live: Vec<Value> = {
        let dir = repo.join("rendered/plain-west");
        let index: Value =
            serde_json::from_slice(&fs_err::read(dir.join("plinth-index.json")).unwrap()).unwrap();
        index["objects"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|o| {
                let file = dir.join(o["file"].as_str().unwrap());
                yaml_docs(&fs_err::read_to_string(file).unwrap())
            })
            .collect()
    };
    let mut scenario = Scenario::new().serve_type(ResourceType::new("v1", "Node", false));
    let kinds: BTreeSet<(String, String, bool)> = live
        .iter()
        .map(|o| {
            (
                o["apiVersion"].as_str().unwrap().to_owned(),
                o["kind"].as_str().unwrap().to_owned(),
                o["metadata"]["namespace"].is_string(),
            )
        })
        .collect();
    for (api_version, kind, namespaced) in &kinds {
        let group = plinth_vocab::group_of(api_version);
        let mut t = ResourceType::new(api_version, kind, *namespaced);
        t.plural = plinth_apply::rbac::built_in_plural(group, kind)
            .unwrap()
            .to_owned();
        scenario = scenario.serve_type(t);
    }
    let server = FakeApiServer::start(scenario.objects(live)).unwrap();
    let kubeconfig = server.kubeconfig_path().display().to_string();
    let out = plinth(
        &repo,
        &[
            "drift",
            ".",
            "--cluster",
            "plain-west",
            "--kubeconfig",
            &kubeconfig,
            "--insecure-allow-http-loopback",
            "--format",
            "json",
        ],
    );
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", stderr(&out));
    let log = server.request_log();
    let requests: Vec<_> = log.iter().filter_map(attributes).collect();
    let verbs: BTreeSet<&str> = requests.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(verbs, BTreeSet::from(["list", "patch"]), "{requests:?}");
    assert!(
        requests.iter().any(|r| r.2 == "nodes"),
        "the hardware check lists Nodes"
    );

    let orphan_search = "plinth.dev/cluster=plain-west,app.kubernetes.io/managed-by=plinth";
    let refused = |extra: &[&str]| {
        let docs = yaml_docs(&rbac_ok(&repo, "plain-west", extra));
        requests
            .iter()
            .zip(log.iter().filter(|r| !r.is_discovery()))
            .filter(|((verb, group, resource, ns), _)| {
                !allowed(&docs, verb, group, resource, ns.as_deref())
            })
            .map(|((verb, group, resource, ns), req)| {
                assert_eq!(
                    (
                        verb.as_str(),
                        ns,
                        req.query.get("labelSelector").map(String::as_str)
                    ),
                    ("list", &None, Some(orphan_search)),
                    "only orphan searches are refused: {req:?}"
                );
                format!("{group}/{resource}")
            })
            .collect::<BTreeSet<_>>()
    };
    let not_rendered = [
        "/configmaps",
        "/namespaces",
        "/secrets",
        "/serviceaccounts",
        "/services",
        "apps/deployments",
    ];
    assert_eq!(
        refused(&["--cluster-role-only"]),
        BTreeSet::from(not_rendered.map(str::to_owned))
    );
    let in_roles = [
        "autoscaler.vpsie.com/nodegroups",
        "hco.kubevirt.io/hyperconvergeds",
        "monitoring.coreos.com/prometheusrules",
        "operator.openshift.io/kubedeschedulers",
        "self-node-remediation.medik8s.io/selfnoderemediationtemplates",
    ];
    assert_eq!(
        refused(&[]),
        not_rendered
            .iter()
            .chain(&in_roles)
            .map(|s| (*s).to_owned())
            .collect::<BTreeSet<_>>()
    );
}

/// The base builds, its RBAC is exactly `plinth rbac`'s for `plain-west`, and every `CronJob`
/// has the security settings the README promises.
#[test]
fn the_in_cluster_base_builds_with_the_rbac_of_plinth_rbac() {
    let base = workspace().join("ci/kubernetes");
    let expected = rbac_ok(&example(), "plain-west", &[]);
    assert_eq!(
        fs_err::read_to_string(base.join("rbac.yaml")).unwrap(),
        expected,
        "ci/kubernetes/rbac.yaml is stale: regenerate it with `plinth rbac examples/fleet --cluster plain-west --output ci/kubernetes/rbac.yaml`"
    );
    let kubectl = Path::new("/usr/bin/kubectl");
    if !kubectl.is_file() {
        eprintln!("skipped: building ci/kubernetes needs kubectl, and /usr/bin/kubectl is absent");
        return;
    }
    let out = std::process::Command::new(kubectl)
        .args(["kustomize", &base.display().to_string()])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let built = yaml_docs(&stdout(&out));
    let rbac_kinds = ["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"];
    let key = |d: &Value| {
        format!(
            "{}/{}/{}",
            d["kind"].as_str().unwrap(),
            d["metadata"]["namespace"].as_str().unwrap_or_default(),
            d["metadata"]["name"].as_str().unwrap()
        )
    };
    let mut from_base: Vec<Value> = built
        .iter()
        .filter(|d| rbac_kinds.contains(&d["kind"].as_str().unwrap()))
        .cloned()
        .collect();
    let mut from_plinth = yaml_docs(&expected);
    from_base.sort_by_key(key);
    from_plinth.sort_by_key(key);
    assert_eq!(from_base, from_plinth);

    let kinds: BTreeSet<String> = built.iter().map(key).collect();
    for k in [
        "Namespace//plinth-system",
        "ServiceAccount/plinth-system/plinth",
        "ConfigMap/plinth-system/plinth",
        "CronJob/plinth-system/plinth-drift",
        "CronJob/plinth-system/plinth-apply",
    ] {
        assert!(kinds.contains(k), "{k} not in {kinds:?}");
    }
    let sa = built
        .iter()
        .find(|d| d["kind"] == "ServiceAccount")
        .unwrap();
    assert_eq!(sa["automountServiceAccountToken"], false);
    let cronjobs: Vec<&Value> = built.iter().filter(|d| d["kind"] == "CronJob").collect();
    assert_eq!(cronjobs.len(), 2);
    for cj in cronjobs {
        cronjob_is_locked_down(cj);
    }
}

/// The rules every `CronJob` of the base follows.
fn cronjob_is_locked_down(cj: &Value) {
    let name = cj["metadata"]["name"].as_str().unwrap();
    assert_eq!(cj["spec"]["concurrencyPolicy"], "Forbid", "{name}");
    let pod = &cj["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "plinth", "{name}");
    assert_eq!(pod["automountServiceAccountToken"], false, "{name}");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{name}");
    assert!(
        pod["securityContext"]["runAsUser"].as_u64().unwrap() > 0,
        "{name}"
    );
    assert_eq!(
        pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    let containers: Vec<&Value> = pod["initContainers"]
        .as_array()
        .into_iter()
        .chain(pod["containers"].as_array())
        .flatten()
        .collect();
    let mut plinth_args = Vec::new();
    for c in &containers {
        let cname = format!("{name}/{}", c["name"].as_str().unwrap());
        let sc = &c["securityContext"];
        assert_eq!(sc["readOnlyRootFilesystem"], true, "{cname}");
        assert_eq!(sc["allowPrivilegeEscalation"], false, "{cname}");
        assert_eq!(sc["runAsNonRoot"], true, "{cname}");
        assert_eq!(
            sc["capabilities"]["drop"],
            serde_json::json!(["ALL"]),
            "{cname}"
        );
        assert_eq!(sc["seccompProfile"]["type"], "RuntimeDefault", "{cname}");
        for bound in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                assert!(
                    c["resources"][bound][resource].is_string(),
                    "{cname}: {bound}.{resource}"
                );
            }
        }
        // Only the plinth container holds the API token.
        let token = c["volumeMounts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mountPath"] == "/var/run/secrets/kubernetes.io/serviceaccount");
        let image = c["image"].as_str().unwrap();
        assert_eq!(token, image.contains("/plinth:"), "{cname}: {image}");
        assert!(image.contains(':'), "{cname}: pinned image, not {image}");
        if token {
            plinth_args.clone_from(c["args"].as_array().unwrap());
        }
    }
    let command = plinth_args[0].as_str().unwrap();
    assert_eq!(
        plinth_args[1..4],
        [
            Value::from("/checkout/repo"),
            Value::from("--cluster"),
            Value::from("$(CLUSTER)")
        ],
        "{name}"
    );
    assert_eq!(
        cj["spec"]["schedule"],
        if command == "drift" {
            "*/15 * * * *"
        } else {
            "7 * * * *"
        },
        "{name}"
    );
    if command == "drift" {
        let args: Vec<&str> = plinth_args.iter().map(|a| a.as_str().unwrap()).collect();
        assert!(
            args.windows(2).any(|w| w == ["--format", "prometheus"]),
            "{args:?}"
        );
        assert!(
            args.windows(2).any(|w| w == ["--output-dir", "/reports"]),
            "{args:?}"
        );
        let reports = pod["volumes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["name"] == "reports")
            .unwrap();
        assert!(reports["emptyDir"].is_object(), "{reports}");
    }
}

/// The `Dockerfile` is not built here (no Docker daemon): its rules are checked as text.
#[test]
fn the_dockerfile_builds_locked_and_runs_as_a_numeric_non_root_user() {
    let text = fs_err::read_to_string(workspace().join("Dockerfile")).unwrap();
    let instructions: Vec<(String, String)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .fold(Vec::<String>::new(), |mut acc, line| {
            // Continuation lines belong to the instruction before them.
            match acc.last_mut() {
                Some(last) if last.ends_with('\\') => {
                    last.pop();
                    last.push(' ');
                    last.push_str(line);
                }
                _ => acc.push(line.to_owned()),
            }
            acc
        })
        .into_iter()
        .map(|l| {
            let (op, rest) = l.split_once(' ').unwrap_or((&l, ""));
            (op.to_uppercase(), rest.trim().to_owned())
        })
        .collect();
    let stages: Vec<usize> = instructions
        .iter()
        .enumerate()
        .filter(|(_, (op, _))| op == "FROM")
        .map(|(i, _)| i)
        .collect();
    assert!(stages.len() >= 2, "multi-stage: {stages:?}");
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .map(|o| stdout(&o))
        .unwrap_or_default();
    let version = rustc.split_whitespace().nth(1).unwrap_or_default();
    let build = &instructions[stages[0]].1;
    assert!(
        build.starts_with(&format!("docker.io/library/rust:{version}-")),
        "the build stage uses the installed toolchain {version}: {build}"
    );
    assert!(
        instructions.iter().any(|(op, rest)| op == "RUN"
            && rest.contains("cargo build")
            && rest.contains("--release")
            && rest.contains("--locked")),
        "cargo build --release --locked"
    );
    for (op, rest) in &instructions {
        assert!(
            !(op == "ADD" && (rest.contains("://") || rest.contains("git@"))),
            "no ADD of a URL: {rest}"
        );
    }
    let runtime = &instructions[*stages.last().unwrap()..];
    let user = runtime
        .iter()
        .rev()
        .find(|(op, _)| op == "USER")
        .map(|(_, u)| u.as_str())
        .expect("the runtime stage sets USER");
    let uid: u32 = user
        .split(':')
        .next()
        .unwrap()
        .parse()
        .expect("a numeric USER");
    assert!(uid > 0, "non-root: {user}");
    assert!(
        runtime.iter().all(|(op, _)| op != "RUN"),
        "the runtime stage runs nothing at build time (distroless has no shell)"
    );
    assert!(
        runtime
            .iter()
            .any(|(op, rest)| op == "ENV" && rest.contains("HOME=/tmp")),
        "HOME on the writable /tmp"
    );
    assert_eq!(
        runtime.last().unwrap(),
        &("ENTRYPOINT".to_owned(), "[\"plinth\"]".to_owned())
    );
    let ignore = fs_err::read_to_string(workspace().join(".dockerignore")).unwrap();
    assert!(ignore.lines().any(|l| l.trim() == "target"), "{ignore}");
}

/// The rendered objects of the test repositories are what [`rendered_objects`] reads: the
/// RBAC of a repository rendered to disk equals that of the in-memory render.
#[test]
fn a_committed_render_and_an_in_memory_render_give_the_same_rbac() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    gadget_repo(&repo, true);
    let in_memory = rbac_ok(&repo, "prod", &[]);
    crate::common::render(&repo);
    assert!(!rendered_objects(&repo).is_empty());
    assert_eq!(rbac_ok(&repo, "prod", &[]), in_memory);
}
