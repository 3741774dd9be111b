//! CLI tests of cloud drift (`plinth drift --cloud`, `--cloud-only`, `--cloud-snapshot`): the
//! example's recorded STACKIT servers in every format, and the binary against the fake
//! STACKIT API with a key file and with a static token, bad settings, and a `5xx` whose body
//! holds secrets.

use std::path::Path;
use std::process::Output;

use plinth_testkit::stackit::{
    Endpoint, FakeStackit, StackitFault, StackitFaultKind, StackitScenario, TestKey,
};
use plinth_testkit::{FakeApiServer, Scenario};
use serde_json::{Value, json};

use crate::common::{
    EPOCH, assert_exit, example_copy, plinth_command, plinth_reproducible, stderr, stdout,
    workspace,
};

const PROJECT: &str = "3c2b1a09-8f7e-4d6c-9b5a-4f3e2d1c0b0a";
const SNAPSHOT: &str = "cloud/gpu-east/stackit-servers.json";
const TOKEN: &str = "static-token-5f0c2a7e9b1d4c3a";

/// The example's recorded servers, as one list.
fn example_servers() -> Vec<Value> {
    let text = fs_err::read_to_string(workspace().join("examples/fleet").join(SNAPSHOT)).unwrap();
    let responses: Vec<Value> = serde_json::from_str(&text).unwrap();
    responses
        .iter()
        .flat_map(|r| r["items"].as_array().unwrap().clone())
        .collect()
}

/// The fake serving the example's servers in `PROJECT`, region `eu01`.
fn fake(edit: impl FnOnce(StackitScenario) -> StackitScenario) -> FakeStackit {
    let scenario = example_servers()
        .into_iter()
        .fold(
            StackitScenario::new(PROJECT, "eu01"),
            StackitScenario::server,
        )
        .static_token(TOKEN);
    FakeStackit::start(edit(scenario)).unwrap()
}

/// A copy of the example whose `gpu-east` names its STACKIT project (`clouds` added to
/// `cluster.yaml`), with the fake's CA written beside it.
fn repo_for(fake: &FakeStackit, clouds: &str) -> tempfile::TempDir {
    let repo = example_copy();
    let path = repo.path().join("clusters/gpu-east/cluster.yaml");
    let mut text = fs_err::read_to_string(&path).unwrap();
    text.push_str(clouds);
    fs_err::write(&path, text).unwrap();
    fs_err::write(repo.path().join("ca.pem"), fake.ca_pem().unwrap()).unwrap();
    repo
}

fn clouds() -> String {
    format!("clouds:\n  stackit:\n    projectId: {PROJECT}\n    region: eu01\n")
}

/// `plinth drift . --cluster gpu-east ARGS` in `repo` against `fake`, with `env`.
fn drift(repo: &Path, fake: &FakeStackit, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut all = vec!["drift", ".", "--cluster", "gpu-east"];
    all.extend_from_slice(args);
    let mut cmd = plinth_command(repo, &all);
    cmd.env("SOURCE_DATE_EPOCH", EPOCH)
        .env("PLINTH_REDACTION_KEY", "test-key")
        .env("STACKIT_API_ENDPOINT", fake.url())
        .env("SSL_CERT_FILE", repo.join("ca.pem"))
        .env_remove("STACKIT_SERVICE_ACCOUNT_KEY_PATH")
        .env_remove("STACKIT_SERVICE_ACCOUNT_TOKEN")
        .env_remove("STACKIT_API_TIMEOUT");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

/// `plinth drift examples/fleet --cluster gpu-east --cloud-only --cloud-snapshot SNAPSHOT`.
fn example_cloud_only(snapshot: &str) -> Vec<&str> {
    vec![
        "drift",
        "examples/fleet",
        "--cluster",
        "gpu-east",
        "--cloud-only",
        "--cloud-snapshot",
        snapshot,
    ]
}

/// The README's command: the recorded servers of `gpu-east` in every format, without
/// credentials; a server in each status, exit 1.
#[test]
fn cloud_snapshot_of_the_example_in_every_format() {
    let out_dir = tempfile::tempdir().unwrap();
    let dir = out_dir.path().display().to_string();
    let mut args = example_cloud_only("examples/fleet/cloud/gpu-east/stackit-servers.json");
    args.extend(["--output-dir", &dir]);
    for format in ["text", "json", "markdown", "junit", "prometheus", "html"] {
        args.extend(["--format", format]);
    }
    let out = plinth_reproducible(&workspace(), &args);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("5 servers: 1 in-sync, 1 drifted, 1 stale, 1 unhealthy, 1 orphaned"),
        "{}",
        stderr(&out)
    );
    for file in [
        "drift.txt",
        "drift.json",
        "drift.md",
        "drift-junit.xml",
        "drift.prom",
        "drift.html",
    ] {
        let text = fs_err::read_to_string(out_dir.path().join(file)).unwrap();
        assert!(!text.contains("bastion"), "not plinth's server: {file}");
        insta::assert_snapshot!(format!("cloud_example_{file}"), text);
    }
}

/// `--cloud` with the Kubernetes snapshot too: both in one report.
#[test]
fn cloud_with_a_key_file_joins_the_kubernetes_report() {
    let fake = fake(|s| s);
    let repo = repo_for(&fake, &clouds());
    let key = repo.path().join("key.json");
    fs_err::write(&key, TestKey::primary().key_json(&fake.token_url(), true)).unwrap();
    let snap = repo.path().join("snap");
    crate::common::copy_dir_except(
        &repo.path().join("rendered/gpu-east"),
        &snap,
        &["plinth-index.json", "kustomization.yaml"],
    );
    let out = drift(
        repo.path(),
        &fake,
        &[("STACKIT_SERVICE_ACCOUNT_KEY_PATH", key.to_str().unwrap())],
        &["--cloud", "--snapshot", "snap", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["source"], "snapshot");
    assert!(json["summary"]["in-sync"].as_u64().unwrap() > 0, "{json}");
    assert_eq!(json["cloud"]["source"], "api");
    assert_eq!(json["cloud"]["projectId"], PROJECT);
    assert_eq!(json["cloud"]["summary"]["stale"], 1);
    assert_eq!(json["cloud"]["servers"].as_array().unwrap().len(), 5);
    assert_eq!(fake.token_requests().len(), 1, "{:?}", fake.requests());
    let lists = fake.list_requests();
    assert_eq!(lists.len(), 1, "one list request: {lists:?}");
    assert_eq!(
        lists[0].path,
        format!("/v2/projects/{PROJECT}/regions/eu01/servers")
    );
    assert_eq!(
        lists[0].query.get("details").map(String::as_str),
        Some("true")
    );
}

#[test]
fn cloud_only_with_a_static_token() {
    let fake = fake(|s| s);
    let repo = repo_for(&fake, &clouds());
    let out = drift(
        repo.path(),
        &fake,
        &[("STACKIT_SERVICE_ACCOUNT_TOKEN", TOKEN)],
        &["--cloud-only", "--cloud-timeout", "5"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("cloud only, no Kubernetes comparison"),
        "{text}"
    );
    assert!(text.contains("stale     server `gpu-workers-4a1e-c3` (class `gpu-workers`)"));
    assert!(!text.contains(TOKEN) && !stderr(&out).contains(TOKEN));
    assert_eq!(fake.list_requests()[0].bearer.as_deref(), Some(TOKEN));
    assert!(fake.token_requests().is_empty());
}

/// Bad settings stop the run with exit 2 and name the field; nothing is sent.
#[test]
fn bad_cloud_settings_exit_2_naming_the_field() {
    let fake = fake(|s| s);
    let token = [("STACKIT_SERVICE_ACCOUNT_TOKEN", TOKEN)];
    for (clouds, env, needle) in [
        (
            "clouds:\n  stackit:\n    projectId: not-a-uuid\n    region: eu01\n".to_owned(),
            &token[..],
            "`clusters/gpu-east/cluster.yaml`: `clouds.stackit.projectId` is not a UUID",
        ),
        (
            format!("clouds:\n  stackit:\n    projectId: {PROJECT}\n"),
            &token[..],
            "`clouds.stackit.region` is required",
        ),
        (
            format!(
                "clouds:\n  stackit:\n    projectId: {PROJECT}\n    region: eu01\n    apiVersion: v3\n"
            ),
            &token[..],
            "`clouds.stackit.apiVersion` must be `v1` or `v2`",
        ),
        (
            format!("clouds:\n  stackit:\n    projectID: {PROJECT}\n"),
            &token[..],
            "projectID",
        ),
        (String::new(), &token[..], "`clouds.stackit` is not set"),
        // No credentials and a snapshot as the Kubernetes source: nothing to read a Secret from.
        (
            clouds(),
            &[("KUBECONFIG", "/nonexistent/kubeconfig")][..],
            "no STACKIT credentials",
        ),
        (
            clouds(),
            &[
                ("STACKIT_SERVICE_ACCOUNT_TOKEN", TOKEN),
                ("STACKIT_API_TIMEOUT", "soon"),
            ][..],
            "`STACKIT_API_TIMEOUT` must be a number of seconds",
        ),
        // Too long to add up (it used to panic).
        (
            clouds(),
            &[
                ("STACKIT_SERVICE_ACCOUNT_TOKEN", TOKEN),
                ("STACKIT_API_TIMEOUT", "5000000000000000000"),
            ][..],
            "must be 1 to 86400 seconds",
        ),
    ] {
        let repo = repo_for(&fake, &clouds);
        let out = drift(
            repo.path(),
            &fake,
            env,
            &["--cloud-only", "--snapshot", "rendered/gpu-east"],
        );
        assert_exit(&out, 2, &[needle]);
    }
    assert!(fake.requests().is_empty(), "{:?}", fake.requests());
}

/// A `5xx` whose body holds secrets: exit 2, the status and request id said, the body, the
/// token and the key never in any output.
#[test]
fn a_server_error_body_never_reaches_any_output() {
    let body = "internal error: password=hunter2-body-secret token ghp_0123456789abcdefghijABCDEFGHIJ012345";
    let fake = fake(|s| {
        s.fault(StackitFault::new(
            Endpoint::List,
            10,
            StackitFaultKind::ServerError {
                status: 500,
                body: body.to_owned(),
                request_id: "req-7f3a".to_owned(),
            },
        ))
    });
    let repo = repo_for(&fake, &clouds());
    let key = repo.path().join("key.json");
    fs_err::write(&key, TestKey::primary().key_json(&fake.token_url(), true)).unwrap();
    let out = drift(
        repo.path(),
        &fake,
        &[("STACKIT_SERVICE_ACCOUNT_KEY_PATH", key.to_str().unwrap())],
        &["--cloud-only", "-v"],
    );
    assert_exit(&out, 2, &["HTTP 500", "req-7f3a"]);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    let private_key = TestKey::primary().private_pem;
    for leak in [
        "hunter2-body-secret",
        "ghp_0123456789",
        &private_key[40..80],
    ] {
        assert!(!all.contains(leak), "`{leak}` leaked: {all}");
    }
    for request in fake.token_requests() {
        if let Some(token) = &request.bearer {
            assert!(!all.contains(token.as_str()));
        }
    }
}

/// A cloud snapshot that is not JSON, or whose item is not a server: exit 2 naming the file
/// and the place, never the content.
#[test]
fn a_bad_cloud_snapshot_exits_2_naming_the_place() {
    let tmp = tempfile::tempdir().unwrap();
    for (text, needle) in [
        (
            "{\"items\": [",
            "is not valid JSON (Eof error at line 1, column 11)",
        ),
        ("{\"servers\": []}", "items: is missing or not a list"),
        (
            "[{\"items\": []}, {\"items\": [{\"name\": \"password-hunter2\"}]}]",
            "[1].items[0]: `machineType` is missing",
        ),
    ] {
        let file = tmp.path().join("servers.json");
        fs_err::write(&file, text).unwrap();
        let path = file.display().to_string();
        let out = plinth_reproducible(&workspace(), &example_cloud_only(&path));
        assert_exit(&out, 2, &["servers.json", needle]);
        assert!(!stderr(&out).contains("hunter2"), "{}", stderr(&out));
    }
}

/// In the cluster, without credentials in the environment: the `serviceaccount.json` key of
/// the Secret the machine classes' `credentialsSecretRef` names, exchanged for a token.
#[test]
fn in_cluster_the_key_comes_from_the_credentials_secret() {
    use base64::Engine as _;
    let fake = fake(|s| s);
    let repo = repo_for(&fake, &clouds());
    let key = TestKey::primary().key_json(&fake.token_url(), true);
    let secret = json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": {"name": "stackit-credentials", "namespace": "machine-controller-manager"},
        "type": "Opaque",
        "data": {
            "project-id": base64::engine::general_purpose::STANDARD.encode(PROJECT),
            "serviceaccount.json": base64::engine::general_purpose::STANDARD.encode(&key),
        },
    });
    // `--cloud-only` with `cluster` as the Kubernetes source and no credentials in the
    // environment.
    let against = |cluster: &FakeApiServer| {
        let kubeconfig = cluster.kubeconfig_path().display().to_string();
        let args = [
            "--cloud-only",
            "--kubeconfig",
            &kubeconfig,
            "--insecure-allow-http-loopback",
            "--format",
            "json",
        ];
        drift(repo.path(), &fake, &[], &args)
    };
    let out = against(&FakeApiServer::start(Scenario::new().objects(vec![secret])).unwrap());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let json: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["cloud"]["servers"].as_array().unwrap().len(), 5);
    assert_eq!(fake.token_requests().len(), 1, "{:?}", fake.requests());
    assert!(!stderr(&out).contains("PRIVATE KEY"));

    // A cluster without that Secret: exit 2, naming it.
    let out = against(&FakeApiServer::start(Scenario::new()).unwrap());
    assert_exit(
        &out,
        2,
        &[
            "the cluster has no Secret `machine-controller-manager/stackit-credentials` key `serviceaccount.json`",
        ],
    );
}

/// `--cloud-timeout` bounds every request: a server slower than it fails the run (exit 2)
/// after the retries, saying so.
#[test]
fn cloud_timeout_bounds_every_request() {
    let fake = fake(|s| {
        s.fault(StackitFault::new(
            Endpoint::List,
            10,
            StackitFaultKind::Slow {
                delay: std::time::Duration::from_secs(5),
            },
        ))
    });
    let repo = repo_for(&fake, &clouds());
    let started = std::time::Instant::now();
    let out = drift(
        repo.path(),
        &fake,
        &[("STACKIT_SERVICE_ACCOUNT_TOKEN", TOKEN)],
        &["--cloud-only", "--cloud-timeout", "1"],
    );
    assert_exit(&out, 2, &["no response within 1s", "4 attempt(s)"]);
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
    assert_eq!(fake.list_requests().len(), 4, "{:?}", fake.requests());
}

/// `clouds.stackit` may come from an overlay the cluster composes, as other cluster settings
/// do: `cluster.yaml` wins field by field, and a bad field is named in the file that set it.
#[test]
fn an_overlay_sets_clouds_and_cluster_yaml_wins_field_by_field() {
    let fake = fake(|s| s);
    let token = [("STACKIT_SERVICE_ACCOUNT_TOKEN", TOKEN)];
    let with_overlay = |overlay: &str, cluster: &str| {
        let repo = repo_for(&fake, cluster);
        let path = repo.path().join("overlays/production/overlay.yaml");
        let mut text = fs_err::read_to_string(&path).unwrap();
        text.push_str(overlay);
        fs_err::write(&path, text).unwrap();
        repo
    };
    let repo = with_overlay(
        &format!("clouds:\n  stackit:\n    projectId: {PROJECT}\n    region: eu02\n"),
        "clouds:\n  stackit:\n    region: eu01\n",
    );
    let out = drift(repo.path(), &fake, &token, &["--cloud-only"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let path = &fake.list_requests()[0].path;
    assert!(
        path.contains(PROJECT) && path.contains("/regions/eu01/"),
        "{path}"
    );
    let repo = with_overlay(
        "clouds:\n  stackit:\n    projectId: not-a-uuid\n    region: eu01\n",
        "",
    );
    let out = drift(repo.path(), &fake, &token, &["--cloud-only"]);
    assert_exit(
        &out,
        2,
        &["`overlays/production/overlay.yaml`: `clouds.stackit.projectId` is not a UUID"],
    );
}
