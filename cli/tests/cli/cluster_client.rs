//! Review attacks on the commands that talk to a cluster (`discover`, `drift`): what they write
//! never goes through a temporary-file name planted beforehand (a symlink committed next to the
//! inventory, or left in a report folder), and connection settings kube-rs cannot honour are
//! refused with a message naming the kubeconfig entry and field.

use crate::common::{
    cluster_args, discover_stdout, drift_example, kubeconfig_text, one_configmap_repo as repo,
    plinth, plinth_live, prod_repo, stderr, stdout,
};
use plinth_testkit::{FakeApiServer, Scenario};
use serde_json::json;

/// Fails, naming the request (`METHOD PATH {query}`) and `why`, if `server` logged one that
/// is `bad`.
fn assert_no_request(
    server: &FakeApiServer,
    bad: impl Fn(&plinth_testkit::LoggedRequest) -> bool,
    why: &str,
) {
    for request in server.request_log() {
        assert!(
            !bad(&request),
            "{} {} {:?}: {why}",
            request.method,
            request.path,
            request.query
        );
    }
}

const TOKEN: &str = "tok-5e6f7a8b9c0d";

/// A repository whose one asset renders, verbatim, a `ConfigMap` of that name and namespace
/// (names a template would not pass through); the object is returned beside it.
fn configmap_repo(name: &str, namespace: &str) -> (tempfile::TempDir, serde_json::Value) {
    let tmp = tempfile::tempdir().expect("tempdir");
    repo(tmp.path());
    let object = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": {"a": "1"},
    });
    fs_err::write(
        tmp.path().join("assets/base.yaml.j2"),
        format!("{{% raw %}}{object}{{% endraw %}}\n"),
    )
    .expect("write");
    (tmp, object)
}

/// A repository in the `repo` folder of a temporary one, leaving room beside it for files an
/// attacker aims at.
#[cfg(unix)]
fn repo_beside_outsiders() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("repo");
    repo(&dir);
    (tmp, dir)
}

/// A cluster of one Node, `w1`, for `discover`.
#[cfg(unix)]
fn one_node_server() -> FakeApiServer {
    FakeApiServer::start(
        Scenario::new()
            .token(TOKEN)
            .object(json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "w1"}})),
    )
    .expect("server")
}

#[cfg(unix)]
#[test]
fn discover_never_writes_through_a_planted_temporary_file() {
    let (tmp, dir) = repo_beside_outsiders();
    let victim = tmp.path().join("victim.txt");
    fs_err::write(&victim, "precious\n").expect("write");
    // What a pull request could commit beside the inventory: the old fixed temporary name, as
    // a symlink to a file outside the repository.
    std::os::unix::fs::symlink(&victim, dir.join("clusters/prod/.inventory.yaml.tmp"))
        .expect("symlink");
    let server = one_node_server();
    let kc = server.kubeconfig_path().display().to_string();
    let out = plinth_live(&dir, "discover", &kc, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        fs_err::read_to_string(&victim).expect("victim"),
        "precious\n",
        "discover wrote through a symlink it did not create"
    );
    let inventory =
        fs_err::read_to_string(dir.join("clusters/prod/inventory.yaml")).expect("inventory");
    assert!(inventory.contains("w1"), "{inventory}");
    // Nothing of plinth's own is left beside it.
    let names: Vec<String> = fs_err::read_dir(dir.join("clusters/prod"))
        .expect("read_dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| !n.contains("plinth-")),
        "leftover temporary files: {names:?}"
    );
}

#[cfg(unix)]
#[test]
fn discover_output_that_is_a_fifo_does_not_hang() {
    let (tmp, dir) = repo_beside_outsiders();
    let fifo = tmp.path().join("inventory.fifo");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
    let server = one_node_server();
    let kc = server.kubeconfig_path().display().to_string();
    let fifo_arg = fifo.display().to_string();
    // Before the fix the "is it unchanged" check opened the FIFO and blocked forever.
    let out = plinth_live(&dir, "discover", &kc, &["-o", &fifo_arg]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = fs_err::read_to_string(&fifo).expect("written over the FIFO");
    assert!(text.contains("w1"), "{text}");
}

#[cfg(unix)]
#[test]
fn drift_reports_never_go_through_a_planted_temporary_file() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let reports = tmp.path().join("reports");
    fs_err::create_dir_all(&reports).expect("mkdir");
    let victim = tmp.path().join("victim.txt");
    fs_err::write(&victim, "precious\n").expect("write");
    for name in ["drift.txt", "drift.json"] {
        std::os::unix::fs::symlink(&victim, reports.join(format!(".{name}.tmp"))).expect("symlink");
    }
    let dir_arg = reports.display().to_string();
    let out = drift_example(&[
        "--snapshot",
        "examples/fleet/live/plain-west",
        "--output-dir",
        &dir_arg,
        "--format",
        "text",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        fs_err::read_to_string(&victim).expect("victim"),
        "precious\n",
        "drift wrote a report through a symlink it did not create"
    );
    assert!(reports.join("drift.json").is_file());
    assert!(
        fs_err::symlink_metadata(reports.join("drift.txt"))
            .expect("report")
            .is_file()
    );
}

#[test]
fn a_proxy_url_is_refused_naming_the_entry_and_field() {
    let tmp = prod_repo();
    let dir = tmp.path();
    let kc = dir.join("kubeconfig");
    for proxy in [
        "http://user:SECRET-proxy-pw@10.9.9.9:3128",
        "socks5://user:SECRET-proxy-pw@10.9.9.9:1080",
    ] {
        let text = json!({
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:1", "proxy-url": proxy}}],
            "users": [{"name": "u", "user": {"token": "SECRET-token"}}],
            "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
            "current-context": "x",
        })
        .to_string();
        fs_err::write(&kc, text).expect("write");
        let kc_arg = kc.display().to_string();
        for command in ["discover", "drift"] {
            let mut args = cluster_args(command, &kc_arg);
            if command == "discover" {
                args.extend(["-o", "-"]);
            }
            let out = plinth(dir, &args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "{command} {proxy}: {err}");
            assert!(
                err.contains(&format!("kubeconfig `{kc_arg}`"))
                    && err.contains("cluster `c`")
                    && err.contains("`proxy-url`"),
                "{command} {proxy}: {err}"
            );
            assert!(
                !format!("{}{err}", stdout(&out)).contains("SECRET"),
                "{command} {proxy}: {err}"
            );
        }
    }
}

/// A rendered object whose name or namespace holds `#` made kube-rs build
/// `.../<name>#?dryRun=All&...`: the URL parser drops everything from `#` on, so the
/// server-side "dry run" of `drift` was a real, forced apply. Every request plinth sends to
/// change something must carry `dryRun=All`, and names that cannot be one path segment are
/// refused before any request.
#[test]
fn drift_never_sends_a_patch_without_dry_run_whatever_the_object_names() {
    for (name, namespace) in [
        ("evil#", "platform"),
        ("evil", "platform#x"),
        ("evil?dryRun=None&x=", "platform"),
        (
            "a/../../../../api/v1/namespaces/kube-system/configmaps/b",
            "platform",
        ),
        ("..", "platform"),
        ("evil%23", "platform"),
    ] {
        let (tmp, object) = configmap_repo(name, namespace);
        let dir = tmp.path();
        // The live side holds the same object (a real API server would refuse such a name,
        // a hostile or broken one need not), so drift goes on to the server-side dry run.
        let server =
            FakeApiServer::start(Scenario::new().token(TOKEN).object(object)).expect("server");
        let kc = server.kubeconfig_path().display().to_string();
        let out = plinth_live(dir, "drift", &kc, &["--mode", "server", "--retries", "0"]);
        let err = stderr(&out);
        assert!(!err.contains("panicked"), "{name}: {err}");
        assert_no_request(
            &server,
            |request| {
                request.method != "GET"
                    && request.query.get("dryRun").map(String::as_str) != Some("All")
            },
            &format!("{name} / {namespace}: sent without dryRun=All\n{err}"),
        );
    }
}

/// Settings kube-rs rejects only when it builds the client (a client key that is no key, a
/// `tls-server-name` that is no DNS name) were reported "from the connection settings", naming
/// neither file nor entry; a `certificate-authority` file that holds no certificate was not
/// checked at all.
#[test]
fn late_connection_errors_name_the_file_and_the_selected_entries() {
    use base64::Engine as _;
    let tmp = prod_repo();
    let dir = tmp.path();
    let garbage = dir.join("garbage.pem");
    fs_err::write(&garbage, "SECRET-not-a-pem\n").expect("write");
    let b64 = |t: &str| base64::engine::general_purpose::STANDARD.encode(t);
    let cases = [
        (
            json!({"server": "https://127.0.0.1:1"}),
            json!({"client-certificate-data": b64("SECRET-cert"), "client-key-data": b64("SECRET-key")}),
            vec!["(context `x`: cluster `c`, user `u`)"],
        ),
        (
            json!({"server": "https://127.0.0.1:1", "tls-server-name": "not a name!"}),
            json!({"token": "SECRET-token"}),
            vec!["(context `x`: cluster `c`, user `u`)"],
        ),
        (
            json!({"server": "https://127.0.0.1:1", "certificate-authority": garbage.display().to_string()}),
            json!({"token": "SECRET-token"}),
            vec![
                "cluster `c`",
                "`certificate-authority`",
                "holds no PEM certificate",
            ],
        ),
    ];
    let kc = dir.join("kubeconfig");
    let kc_arg = kc.display().to_string();
    for (cluster, user, expected) in cases {
        let text = kubeconfig_text(&cluster, &user);
        fs_err::write(&kc, text).expect("write");
        let out = discover_stdout(dir, &kc, &["--retries", "0"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{cluster}: {err}");
        assert!(
            err.contains(&format!("kubeconfig `{kc_arg}`")),
            "{cluster}: {err}"
        );
        for fragment in expected {
            assert!(
                err.contains(fragment),
                "{cluster}: want `{fragment}` in {err}"
            );
        }
        assert!(!err.contains("SECRET"), "{cluster}: {err}");
        assert!(
            !err.contains("Connection refused"),
            "no request may be tried: {err}"
        );
    }
}

/// A rendered namespace such as `kube-system/secrets?x=` made the LIST of `ConfigMap`s
/// `GET /api/v1/namespaces/kube-system/secrets?x=/configmaps`: the cluster's Secrets came back
/// with the pull request's CI credentials and went into the live set as `ConfigMap`s (list
/// items carry no kind). Names that would change a request path are never sent; no request
/// reads a resource the rendered kinds do not name.
#[test]
fn a_rendered_namespace_never_redirects_a_list_to_another_resource() {
    let secret_value = "c3VwZXItc2VjcmV0LWRiLXB3"; // base64 of a made-up password
    for namespace in [
        "kube-system/secrets?x=",
        "kube-system/secrets#",
        "kube-system%2Fsecrets",
        "..",
    ] {
        let (tmp, _) = configmap_repo("db", namespace);
        let dir = tmp.path();
        let server = FakeApiServer::start(
            Scenario::new()
                .token(TOKEN)
                .serve("v1", "Secret", true)
                .object(json!({
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {"name": "db", "namespace": "kube-system"},
                    "data": {"value": secret_value},
                })),
        )
        .expect("server");
        let kc = server.kubeconfig_path().display().to_string();
        for mode in ["client", "server"] {
            let out = plinth_live(
                dir,
                "drift",
                &kc,
                &["--mode", mode, "--format", "json", "--retries", "0"],
            );
            let all = format!("{}{}", stdout(&out), stderr(&out));
            assert!(!all.contains(secret_value), "{namespace} ({mode}): {all}");
            assert!(!all.contains("panicked"), "{namespace} ({mode}): {all}");
        }
        assert_no_request(
            &server,
            |request| request.path.contains("secrets"),
            &format!("{namespace}: reads Secrets"),
        );
    }
}

/// A `409` answer to a server-side dry run was reported with the server's `message` as is:
/// a server (or an admission chain behind it) that echoes the applied object put its values,
/// a rendered Secret's included, into the report. Only the field paths and the managers of
/// the conflict are kept.
#[test]
fn a_conflict_reports_fields_and_managers_but_not_the_server_message() {
    use plinth_testkit::{Fault, FaultKind};
    let tmp = prod_repo();
    let dir = tmp.path();
    let object = json!({
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "base", "namespace": "platform"},
        "data": {"a": "1"},
    });
    let server = FakeApiServer::start(Scenario::new().token(TOKEN).object(object)).expect("server");
    server.inject(
        Fault::new(FaultKind::Body {
            code: 409,
            body: json!({
                "kind": "Status",
                "apiVersion": "v1",
                "status": "Failure",
                "reason": "Conflict",
                "message": "Apply failed: data.a=ECHOED-hunter2-value conflicts with \"kubectl\"",
                "details": {"causes": [{
                    "reason": "FieldManagerConflict",
                    "message": "conflict with \"kubectl-client-side-apply\" using v1: ECHOED-cause-value",
                    "field": ".data.a",
                }]},
                "code": 409,
            }),
        })
        .matching("/configmaps/base")
        .times(u32::MAX),
    );
    let kc = server.kubeconfig_path().display().to_string();
    let out = plinth_live(dir, "drift", &kc, &["--mode", "server", "--retries", "0"]);
    let all = format!("{}{}", stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(!all.contains("ECHOED"), "{all}");
    assert!(
        all.contains("`.data.a`") && all.contains("kubectl-client-side-apply"),
        "{all}"
    );
}
