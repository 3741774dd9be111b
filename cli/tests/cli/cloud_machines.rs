//! CLI tests of VPSie and KubeVirt cloud drift (`plinth drift --cloud`, `--vpsie-snapshot`,
//! `--all-vms`): the example's recorded VPSie VMs, Nodes and KubeVirt VMs in every format, and
//! the binary against the fake VPSie API and the fake Kubernetes API server (credentials from
//! the environment, from a file and from the autoscaler's Secret), with the requests counted and
//! every output searched for the credentials.

use std::path::Path;
use std::process::Output;

use plinth_testkit::vpsie::{FakeVpsie, Route, VpsieScenario};
use plinth_testkit::{FakeApiServer, Scenario};
use serde_json::{Value, json};

use crate::common::{assert_exit, example_copy, plinth_command, stderr, stdout, workspace};

/// The run's clock: 2026-11-30T12:00:00Z, after every VM of the example was created.
const NOW: &str = "1796040000";
const VPSIE_SNAPSHOT: &str = "examples/fleet/cloud/plain-west/vpsie.json";
const MACHINES: &str = "examples/fleet/cloud/plain-west/cluster";
/// The VPSie cluster the example's node groups name (`resourceIdentifier`).
const VPSIE_CLUSTER: &str = "k8s-plain-west";
const CLIENT_ID: &str = "plinth-drift@example";
/// A client secret with every character form encoding must escape, and what would inject a
/// field if it were not escaped.
const CLIENT_SECRET: &str = "s3&cr=t+%2F x/ü&clientId=evil";
/// `plinth drift . --cluster plain-west --cloud-only` with the rendered objects as the
/// Kubernetes snapshot: settings are checked before the VPSie API would be reached.
const OFFLINE_CLOUD_ONLY: [&str; 7] = [
    "drift",
    ".",
    "--cluster",
    "plain-west",
    "--cloud-only",
    "--snapshot",
    "rendered/plain-west",
];
/// The client credentials in the environment.
const ENV_CREDENTIALS: [(&str, &str); 2] = [
    ("VPSIE_CLIENT_ID", CLIENT_ID),
    ("VPSIE_CLIENT_SECRET", CLIENT_SECRET),
];

fn command(cwd: &Path, args: &[&str]) -> std::process::Command {
    let mut cmd = plinth_command(cwd, args);
    cmd.env("SOURCE_DATE_EPOCH", NOW)
        .env("PLINTH_REDACTION_KEY", "test-key");
    for var in [
        "VPSIE_API_URL",
        "VPSIE_CLIENT_ID",
        "VPSIE_CLIENT_SECRET",
        "VPSIE_TOKEN",
        "STACKIT_API_TIMEOUT",
        "SSL_CERT_FILE",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// The README's command: the recorded VPSie VMs and node groups, the recorded Nodes, VMs and
/// NodeGroups of `plain-west`, without credentials, in every format.
#[test]
fn vpsie_and_kubevirt_snapshots_of_the_example_in_every_format() {
    let out_dir = tempfile::tempdir().unwrap();
    let dir = out_dir.path().display().to_string();
    let mut args = vec![
        "drift",
        "examples/fleet",
        "--cluster",
        "plain-west",
        "--cloud-only",
        "--all-vms",
        "--snapshot",
        MACHINES,
        "--vpsie-snapshot",
        VPSIE_SNAPSHOT,
        "--output-dir",
        &dir,
    ];
    for format in ["text", "json", "markdown", "junit", "prometheus", "html"] {
        args.extend(["--format", format]);
    }
    let out = command(&workspace(), &args).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    for needle in [
        "2 groups, 5 VMs, 4 Nodes: 6 in-sync, 1 failed-to-join, 1 not-running, 1 orphaned-node, 1 missing-labels, 1 miscounted",
        "7 VMs: 4 in-sync, 2 drifted, 1 failed",
    ] {
        assert!(err.contains(needle), "{needle}: {err}");
    }
    let json: Value =
        serde_json::from_str(&fs_err::read_to_string(out_dir.path().join("drift.json")).unwrap())
            .unwrap();
    assert_eq!(json["vpsie"]["source"], "snapshot");
    assert_eq!(json["vpsie"]["summary"]["failed-to-join"], 1);
    assert_eq!(json["kubevirt"]["summary"]["drifted"], 2);
    let status_of = |list: &str, key: &str, name: &str| -> String {
        json["vpsie"][list]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r[key] == name)
            .map(|r| r["status"].as_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        status_of("vms", "hostname", "general-b81zt"),
        "failed-to-join"
    );
    assert_eq!(status_of("vms", "hostname", "general-c3p0d"), "not-running");
    assert_eq!(status_of("nodes", "name", "general-old01"), "orphaned-node");
    assert_eq!(
        status_of("nodes", "name", "general-9xq2m"),
        "missing-labels"
    );
    assert_eq!(status_of("groups", "name", "general"), "miscounted");
    assert_eq!(status_of("vms", "hostname", "bastion"), "", "not plinth's");
    for file in [
        "drift.txt",
        "drift.json",
        "drift.md",
        "drift-junit.xml",
        "drift.prom",
    ] {
        let text = fs_err::read_to_string(out_dir.path().join(file)).unwrap();
        assert!(!text.contains("bastion"), "not plinth's VM: {file}");
        insta::assert_snapshot!(format!("machines_example_{file}"), text);
    }
    let html = fs_err::read_to_string(out_dir.path().join("drift.html")).unwrap();
    for needle in ["general-b81zt", "general-old01", "db-replica", "scratch"] {
        assert!(html.contains(needle), "{needle} in the HTML page");
    }
}

/// The example's objects a cluster would hold: the Nodes, VMs and live NodeGroups.
fn example_machines() -> Vec<Value> {
    let live = plinth_drift::source::snapshot::load(&workspace().join(MACHINES), &[])
        .expect("the machines snapshot");
    live.objects.into_values().collect()
}

fn example_vpsie(edit: impl FnOnce(&mut VpsieScenario)) -> FakeVpsie {
    let recorded: Value =
        serde_json::from_str(&fs_err::read_to_string(workspace().join(VPSIE_SNAPSHOT)).unwrap())
            .unwrap();
    FakeVpsie::start(VpsieScenario::new(CLIENT_ID, CLIENT_SECRET).with(|s| {
        // Tokens expire by the fake's clock; plinth reads the real one.
        s.start = std::time::SystemTime::now();
        s.vms
            .clone_from(recorded["vms"]["data"].as_array().unwrap());
        s.node_groups.insert(
            VPSIE_CLUSTER.to_owned(),
            recorded["nodeGroups"]["data"].as_array().unwrap().clone(),
        );
        s.clusters.insert(
            VPSIE_CLUSTER.to_owned(),
            recorded["clusterInfo"]["data"].clone(),
        );
        edit(s);
    }))
    .unwrap()
}

/// `plinth drift . --cluster plain-west ARGS` in a copy of the example against `vpsie` and
/// `cluster`, with `env`.
fn against(
    repo: &Path,
    vpsie: &FakeVpsie,
    cluster: &FakeApiServer,
    env: &[(&str, &str)],
    args: &[&str],
) -> Output {
    fs_err::write(repo.join("vpsie-ca.pem"), vpsie.ca_pem().unwrap()).unwrap();
    let kubeconfig = cluster.kubeconfig_path().display().to_string();
    let mut all = vec![
        "drift",
        ".",
        "--cluster",
        "plain-west",
        "--kubeconfig",
        &kubeconfig,
        "--insecure-allow-http-loopback",
    ];
    all.extend_from_slice(args);
    let mut cmd = command(repo, &all);
    cmd.env("VPSIE_API_URL", vpsie.url())
        .env("SSL_CERT_FILE", repo.join("vpsie-ca.pem"));
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn assert_no_credential(out: &Output, vpsie: &FakeVpsie) {
    let all = format!("{}{}", stdout(out), stderr(out));
    for secret in [CLIENT_SECRET, "s3&cr=t", "cr=t+%2F"]
        .into_iter()
        .map(str::to_owned)
        .chain(vpsie.issued_tokens())
    {
        assert!(!all.contains(&secret), "`{secret}` leaked: {all}");
    }
}

/// Credentials from the environment, the VMs and node groups from the API, the Nodes, VMs and
/// NodeGroups from the cluster: one report; the secret arrives byte-exact; requests do not
/// grow with the VMs (one token, one VM list, one node-group list; one LIST per kind and
/// namespace).
#[test]
fn against_the_vpsie_api_and_the_cluster() {
    let vpsie = example_vpsie(|_| {});
    let cluster = FakeApiServer::start(Scenario::new().objects(example_machines())).unwrap();
    let repo = example_copy();
    let out = against(
        repo.path(),
        &vpsie,
        &cluster,
        &ENV_CREDENTIALS,
        &["--cloud-only", "--all-vms", "--format", "json", "-vv"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["vpsie"]["source"], "api");
    assert_eq!(json["vpsie"]["clusterIdentifier"], VPSIE_CLUSTER);
    assert_eq!(json["vpsie"]["summary"]["orphaned-node"], 1);
    assert_eq!(json["vpsie"]["summary"]["miscounted"], 1);
    assert_eq!(json["kubevirt"]["source"], "cluster");
    assert_eq!(json["kubevirt"]["summary"]["failed"], 1);
    assert_no_credential(&out, &vpsie);

    let tokens = vpsie.requests_to(Route::Token);
    assert_eq!(tokens.len(), 1, "{:?}", vpsie.requests());
    let form = tokens[0].form.clone().unwrap();
    assert_eq!(
        form,
        [
            ("clientId".to_owned(), CLIENT_ID.to_owned()),
            ("clientSecret".to_owned(), CLIENT_SECRET.to_owned())
        ],
        "the form arrived as sent, nothing injected"
    );
    assert_eq!(vpsie.requests_to(Route::Vms).len(), 1);
    let groups = vpsie.requests_to(Route::NodeGroups);
    assert_eq!(groups.len(), 1);
    assert!(
        groups[0].path.ends_with(VPSIE_CLUSTER),
        "{}",
        groups[0].path
    );

    // One LIST per kind and namespace: Nodes cluster-wide, NodeGroups in kube-system, VMs and
    // their instances per namespace plinth manages; never a GET of one object.
    let log = cluster.request_log();
    let lists = |plural: &str| {
        log.iter()
            .filter(|r| r.method == "GET" && r.path.ends_with(&format!("/{plural}")))
            .count()
    };
    assert_eq!(lists("nodes"), 1, "{log:?}");
    assert_eq!(lists("nodegroups"), 1);
    let namespaces = 4;
    assert_eq!(lists("virtualmachines"), namespaces);
    assert_eq!(lists("virtualmachineinstances"), namespaces);
    assert!(
        !log.iter().any(|r| r.path.contains("/virtualmachines/")),
        "no GET per VM: {log:?}"
    );
}

/// In the cluster, without credentials in the environment: the autoscaler's Secret
/// (`kube-system/vpsie-secret`, or the one `clouds.vpsie.credentialsSecret` names).
#[test]
fn in_cluster_the_credentials_come_from_the_autoscaler_s_secret() {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let vpsie = example_vpsie(|_| {});
    let secret = |namespace: &str, name: &str| {
        json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace}, "type": "Opaque",
            "data": {"clientId": b64(CLIENT_ID), "clientSecret": b64(CLIENT_SECRET)}})
    };
    let repo = example_copy();
    let cluster = FakeApiServer::start(
        Scenario::new()
            .objects(example_machines())
            .object(secret("kube-system", "vpsie-secret")),
    )
    .unwrap();
    let out = against(repo.path(), &vpsie, &cluster, &[], &["--cloud-only"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("VPSie nodes (listed from the API"),
        "{}",
        stdout(&out)
    );
    assert_eq!(vpsie.requests_to(Route::Token).len(), 1);
    assert_no_credential(&out, &vpsie);

    // Another Secret named in cluster.yaml; the default one is then not read.
    let path = repo.path().join("clusters/plain-west/cluster.yaml");
    let mut text = fs_err::read_to_string(&path).unwrap();
    text.push_str("clouds:\n  vpsie:\n    credentialsSecret: autoscaler/vpsie-api\n");
    fs_err::write(&path, text).unwrap();
    let cluster = FakeApiServer::start(
        Scenario::new()
            .objects(example_machines())
            .object(secret("autoscaler", "vpsie-api")),
    )
    .unwrap();
    let out = against(repo.path(), &vpsie, &cluster, &[], &["--cloud-only"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // No such Secret: exit 2, naming it, nothing sent to VPSie.
    let fresh = example_vpsie(|_| {});
    let cluster = FakeApiServer::start(Scenario::new().objects(example_machines())).unwrap();
    let out = against(repo.path(), &fresh, &cluster, &[], &["--cloud-only"]);
    assert_exit(&out, 2, &["no VPSie credentials", "autoscaler/vpsie-api"]);
    assert!(fresh.requests().is_empty());
}

/// `--vpsie-credentials FILE`: a map, or the Secret as `kubectl get -o yaml` writes it.
#[test]
fn credentials_from_a_file() {
    use base64::Engine as _;
    let vpsie = example_vpsie(|_| {});
    let cluster = FakeApiServer::start(Scenario::new().objects(example_machines())).unwrap();
    let repo = example_copy();
    let secret_yaml = format!(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: vpsie-secret\n  namespace: kube-system\ndata:\n  clientId: {}\n  clientSecret: {}\n",
        base64::engine::general_purpose::STANDARD.encode(CLIENT_ID),
        base64::engine::general_purpose::STANDARD.encode(CLIENT_SECRET)
    );
    let map_json = json!({"clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}).to_string();
    let run_with_file = |name: &str, content: String| {
        let file = repo.path().join(name);
        fs_err::write(&file, content).unwrap();
        against(
            repo.path(),
            &vpsie,
            &cluster,
            &[],
            &[
                "--cloud-only",
                "--vpsie-credentials",
                file.to_str().unwrap(),
            ],
        )
    };
    for (name, content) in [("secret.yaml", secret_yaml), ("creds.json", map_json)] {
        let out = run_with_file(name, content);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", stderr(&out));
        assert_no_credential(&out, &vpsie);
    }
    // A file that is not credentials: exit 2, the content never repeated.
    let out = run_with_file("bad.yaml", format!("password: {CLIENT_SECRET}\n"));
    assert_exit(
        &out,
        2,
        &["`--vpsie-credentials`", "`password` is not a key"],
    );
    assert_no_credential(&out, &vpsie);
}

/// Bad settings stop the run with exit 2 and name the field or flag; nothing is sent.
#[test]
fn bad_vpsie_settings_exit_2_naming_the_field() {
    let vpsie = example_vpsie(|_| {});
    let cluster = FakeApiServer::start(Scenario::new()).unwrap();
    let creds = ENV_CREDENTIALS;
    for (clouds, env, args, needle) in [
        (
            "clouds:\n  vpsie:\n    authHeader: basic\n",
            &creds[..],
            &[][..],
            "`clusters/plain-west/cluster.yaml`: `clouds.vpsie.authHeader` must be `bearer` or `vpsie-auth`",
        ),
        (
            "clouds:\n  vpsie:\n    discoveryTimeout: soon\n",
            &creds[..],
            &[][..],
            "`clouds.vpsie.discoveryTimeout` must be a duration",
        ),
        (
            "",
            &creds[..],
            &["--discovery-timeout", "0s"][..],
            "`--discovery-timeout` must be a duration",
        ),
        (
            "clouds:\n  vpsie:\n    credentialsSecret: no-slash\n",
            &[][..],
            &[][..],
            "`clouds.vpsie.credentialsSecret` must be `namespace/name`",
        ),
        (
            "",
            &[("VPSIE_CLIENT_ID", CLIENT_ID)][..],
            &[][..],
            "`VPSIE_CLIENT_ID` and `VPSIE_CLIENT_SECRET` must be set together",
        ),
        (
            "clouds:\n  vpsie:\n    endpont: x\n",
            &creds[..],
            &[][..],
            "endpont",
        ),
    ] {
        let repo = example_copy();
        let path = repo.path().join("clusters/plain-west/cluster.yaml");
        let mut text = fs_err::read_to_string(&path).unwrap();
        text.push_str(clouds);
        fs_err::write(&path, text).unwrap();
        let mut all = vec!["--cloud-only"];
        all.extend_from_slice(args);
        let out = against(repo.path(), &vpsie, &cluster, env, &all);
        assert_exit(&out, 2, &[needle]);
        assert_no_credential(&out, &vpsie);
    }
    // An endpoint the repository sets elsewhere than VPSie's hosts would receive the
    // credentials: refused, naming the field and the variable to use instead.
    let repo = example_copy();
    let path = repo.path().join("clusters/plain-west/cluster.yaml");
    let mut text = fs_err::read_to_string(&path).unwrap();
    text.push_str("clouds:\n  vpsie:\n    endpoint: ");
    text.push_str(&vpsie.url());
    text.push('\n');
    fs_err::write(&path, text).unwrap();
    let mut cmd = command(repo.path(), &OFFLINE_CLOUD_ONLY);
    cmd.envs(ENV_CREDENTIALS);
    let out = cmd.output().unwrap();
    assert_exit(
        &out,
        2,
        &[
            "`clouds.vpsie.endpoint` must name a host under `vpsie.com`",
            "VPSIE_API_URL",
        ],
    );
    assert_no_credential(&out, &vpsie);
    // VPSie flags that would do nothing are refused, not ignored.
    for (args, needle) in [
        (
            &["--discovery-timeout", "20m"][..],
            "`--discovery-timeout` does nothing without `--cloud`",
        ),
        (
            &[
                "--cloud-only",
                "--cloud-snapshot",
                "x.json",
                "--vpsie-credentials",
                "c.yaml",
            ][..],
            "`--vpsie-credentials` does nothing here: cluster `gpu-east` renders no VPSie NodeGroup",
        ),
    ] {
        let mut all = vec![
            "drift",
            "examples/fleet",
            "--cluster",
            "gpu-east",
            "--snapshot",
            "examples/fleet/rendered/gpu-east",
        ];
        all.extend_from_slice(args);
        let out = command(&workspace(), &all).output().unwrap();
        assert_exit(&out, 2, &[needle]);
    }
    // A plain-http endpoint is refused before anything is sent.
    let repo = example_copy();
    let mut cmd = command(repo.path(), &OFFLINE_CLOUD_ONLY);
    cmd.env("VPSIE_API_URL", "http://api.vpsie.example/v2")
        .env("VPSIE_TOKEN", "tok-123");
    let out = cmd.output().unwrap();
    assert_exit(&out, 2, &["`VPSIE_API_URL`", "https"]);
    assert!(vpsie.requests().is_empty(), "{:?}", vpsie.requests());
}

/// A `5xx` whose body carries the secret, then the API failing after its retries: exit 2, the
/// status said, the body and the credentials never in any output.
#[test]
fn a_vpsie_server_error_never_reaches_any_output() {
    use plinth_testkit::vpsie::{VpsieFault, VpsieFaultKind};
    let vpsie = example_vpsie(|s| {
        s.faults.push(
            VpsieFault::new(
                Route::Vms,
                VpsieFaultKind::ServerError {
                    status: 503,
                    body: format!("upstream said clientSecret={CLIENT_SECRET}"),
                },
            )
            .times(10),
        );
    });
    let cluster = FakeApiServer::start(Scenario::new().objects(example_machines())).unwrap();
    let repo = example_copy();
    let out = against(
        repo.path(),
        &vpsie,
        &cluster,
        &ENV_CREDENTIALS,
        &["--cloud-only", "--cloud-timeout", "5", "-vv"],
    );
    assert_exit(&out, 2, &["cannot list the VPSie VMs", "503"]);
    assert!(!stderr(&out).contains("upstream said"));
    assert_no_credential(&out, &vpsie);
    assert!(vpsie.requests_to(Route::Vms).len() > 1, "retried");
}
