//! Broken kubeconfigs, run through the built binary (`plinth discover` and `plinth drift`):
//! each gives exit 2 and a message naming the file, the entry and the field, never a panic,
//! never a credential; plain `http://` is refused unless the loopback test flag allows it; a
//! `tokenFile` is trimmed as kubectl trims it; exec credential plugins are reported by command
//! name and exit status only.

use std::path::{Path, PathBuf};

use crate::common::{
    assert_exit, discover_stdout, kubeconfig_text, one_configmap_repo as repo, plinth, prod_repo,
    stderr, stdout,
};
use plinth_testkit::{FakeApiServer, Scenario};
use serde_json::{Value, json};

const TOKEN: &str = "SECRET-tls-token-1f2e3d";

fn node() -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "w1"}})
}

/// A TLS fake API server that wants `TOKEN` and holds one Node.
fn tls_server() -> FakeApiServer {
    FakeApiServer::start(Scenario::new().tls().token(TOKEN).object(node())).expect("server")
}

fn ca_data(server: &FakeApiServer) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(server.ca_pem().expect("tls"))
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    fs_err::write(&path, text).expect("write");
    path
}

/// A shell command as an exec plugin entry.
fn plugin(script: &str) -> Value {
    json!({"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "sh",
        "args": ["-c", script],
    }})
}

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success());
}

#[test]
fn broken_kubeconfigs_exit_2_with_a_located_message_and_no_secret() {
    let tmp = prod_repo();
    let dir = tmp.path();
    let server = tls_server();
    let good_cluster =
        json!({"server": server.url(), "certificate-authority-data": ca_data(&server)});
    let good_user = json!({"token": TOKEN});
    #[cfg(unix)]
    let fifo = {
        let p = dir.join("token.fifo");
        mkfifo(&p);
        p
    };

    let mut cases: Vec<(&str, String, Vec<&str>)> = vec![
        (
            "bad base64 CA",
            kubeconfig_text(
                &json!({"server": server.url(), "certificate-authority-data": "!!SECRET-ca!!"}),
                &good_user,
            ),
            vec!["cluster `c`", "`certificate-authority-data` is not valid base64"],
        ),
        (
            "CA that is no PEM",
            kubeconfig_text(
                &json!({"server": server.url(), "certificate-authority-data": "aGVsbG8="}),
                &good_user,
            ),
            vec!["cluster `c`", "holds no PEM certificate"],
        ),
        (
            "missing server",
            kubeconfig_text(&json!({"certificate-authority-data": ca_data(&server)}), &good_user),
            vec!["cluster `c`", "`server` is missing"],
        ),
        (
            "server that is no URL",
            kubeconfig_text(&json!({"server": "https://SECRET pw@@ host"}), &good_user),
            vec!["cluster `c`", "`server` is not a valid URL"],
        ),
        (
            "insecure-skip-tls-verify",
            kubeconfig_text(
                &json!({"server": server.url(), "insecure-skip-tls-verify": true}),
                &good_user,
            ),
            vec!["cluster `c`", "`insecure-skip-tls-verify` is set"],
        ),
        (
            "plain http to another host",
            kubeconfig_text(&json!({"server": "http://10.1.2.3:6443"}), &good_user),
            vec![
                "cluster `c`",
                "`server` `http://10.1.2.3:6443` is plain HTTP",
                "allows only loopback",
            ],
        ),
        (
            "token with a line break",
            kubeconfig_text(&good_cluster, &json!({"token": "SECRET-abc\nline2"})),
            vec!["user `u`", "`token` holds a line break"],
        ),
        (
            "token with a control character",
            kubeconfig_text(&good_cluster, &json!({"token": "SECRET-abc\u{1}"})),
            vec!["user `u`", "`token` holds a control character"],
        ),
        (
            "token that is not ASCII",
            kubeconfig_text(&good_cluster, &json!({"token": "SECRET-äbc"})),
            vec!["user `u`", "`token` holds a character that is not printable ASCII"],
        ),
        (
            "password with a line break",
            kubeconfig_text(
                &good_cluster,
                &json!({"username": "admin", "password": "SECRET-pw\n"}),
            ),
            vec!["user `u`", "`password` holds a line break"],
        ),
        (
            "client key that is not base64",
            kubeconfig_text(
                &good_cluster,
                &json!({"client-certificate-data": "aGVsbG8=", "client-key-data": "SECRET-key!!"}),
            ),
            vec!["user `u`", "`client-key-data` is not valid base64"],
        ),
        (
            "unknown auth provider",
            kubeconfig_text(
                &good_cluster,
                &json!({"auth-provider": {"name": "weird", "config": {"access-token": "SECRET-ap"}}}),
            ),
            vec!["user `u`", "`auth-provider` `weird` is not supported"],
        ),
        (
            "exec plugin that prints a token and fails",
            kubeconfig_text(
                &good_cluster,
                &plugin(
                    "echo '{\"status\":{\"token\":\"SECRET-exec\"}}'; echo SECRET-stderr >&2; exit 3",
                ),
            ),
            vec![
                "user `u`",
                "the credential plugin `sh` failed: it exited with status 3",
            ],
        ),
        (
            "exec plugin that is missing",
            kubeconfig_text(
                &good_cluster,
                &json!({"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "/nonexistent/plugin-dir/plugin", "args": ["SECRET-arg"]}}),
            ),
            vec!["user `u`", "was not found"],
        ),
        (
            "exec plugin without a command",
            kubeconfig_text(
                &good_cluster,
                &json!({"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "args": ["SECRET-arg"]}}),
            ),
            vec!["user `u`", "`exec.command` is missing"],
        ),
        (
            "exec plugin that prints garbage",
            kubeconfig_text(&good_cluster, &plugin("echo 'SECRET-garbage: [ {'")),
            vec!["user `u`", "printed no `ExecCredential`"],
        ),
        (
            "exec plugin that prints a token with a line break",
            kubeconfig_text(
                &good_cluster,
                &plugin("printf '{\"status\":{\"token\":\"SECRET-x\\\\ny\"}}'"),
            ),
            vec!["user `u`", "printed holds a line break"],
        ),
        (
            "exec plugin that prints no status",
            kubeconfig_text(
                &good_cluster,
                &plugin("echo '{\"kind\":\"ExecCredential\"}'"),
            ),
            vec!["user `u`", "printed no `status`"],
        ),
        (
            "missing tokenFile",
            kubeconfig_text(
                &good_cluster,
                &json!({"tokenFile": dir.join("no-such-token").display().to_string()}),
            ),
            vec!["user `u`", "`tokenFile`", "cannot be read"],
        ),
        (
            "unknown cluster entry",
            json!({
                "apiVersion": "v1", "kind": "Config",
                "clusters": [],
                "users": [{"name": "u", "user": {"token": "SECRET-t"}}],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            })
            .to_string(),
            vec!["cluster `c`", "is not defined in `clusters`"],
        ),
        (
            "unknown user entry",
            json!({
                "apiVersion": "v1", "kind": "Config",
                "clusters": [{"name": "c", "cluster": good_cluster}],
                "users": [],
                "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
                "current-context": "x",
            })
            .to_string(),
            vec!["user `u`", "is not defined in `users`"],
        ),
        (
            "no current context",
            json!({"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [], "contexts": []})
                .to_string(),
            vec!["no context is selected"],
        ),
        (
            "not YAML",
            "users: [ {name: u, user: {token: SECRET-yaml\n".to_owned(),
            vec!["is not a valid kubeconfig"],
        ),
        (
            "wrong types",
            "clusters: SECRET-wrong\n".to_owned(),
            vec!["is not a valid kubeconfig"],
        ),
    ];
    #[cfg(unix)]
    cases.push((
        "tokenFile that is a FIFO",
        kubeconfig_text(
            &good_cluster,
            &json!({"tokenFile": fifo.display().to_string()}),
        ),
        vec!["user `u`", "`tokenFile`", "is not a regular file"],
    ));

    for (i, (name, text, expected)) in cases.iter().enumerate() {
        let path = write(dir, &format!("kubeconfig-{i}"), text);
        for command in ["discover", "drift"] {
            let out = if command == "discover" {
                discover_stdout(dir, &path, &[])
            } else {
                let kc = path.display().to_string();
                plinth(
                    dir,
                    &["drift", ".", "--cluster", "prod", "--kubeconfig", &kc],
                )
            };
            let err = stderr(&out);
            let all = format!("{}{err}", stdout(&out));
            assert_eq!(out.status.code(), Some(2), "{name} ({command}): {err}");
            assert!(!all.contains("panicked"), "{name} ({command}): {err}");
            assert!(!all.contains("SECRET"), "{name} ({command}) leaks: {err}");
            assert!(
                err.contains(&format!("kubeconfig `{}`", path.display())),
                "{name} ({command}) does not name the file: {err}"
            );
            for fragment in expected {
                assert!(
                    err.contains(fragment),
                    "{name} ({command}): want `{fragment}` in {err}"
                );
            }
        }
    }
    assert!(
        server.request_log().is_empty(),
        "no request may be sent with a broken kubeconfig: {}",
        plinth_testkit::describe(&server.request_log())
    );
}

/// The kubeconfig path itself may not be a FIFO (reading it would block forever).
#[cfg(unix)]
#[test]
fn a_kubeconfig_that_is_a_fifo_is_refused() {
    let tmp = tempfile::tempdir().expect("tempdir");
    repo(tmp.path());
    let fifo = tmp.path().join("kubeconfig.fifo");
    mkfifo(&fifo);
    let out = discover_stdout(tmp.path(), &fifo, &[]);
    assert_exit(&out, 2, &["is not a regular file"]);
}

/// A `tokenFile` ending in a newline works (kubectl trims it), and so does an exec plugin
/// that prints a token; the token never shows.
#[test]
fn token_files_are_trimmed_and_exec_plugins_supply_tokens() {
    let tmp = prod_repo();
    let dir = tmp.path();
    let server = tls_server();
    let cluster = json!({"server": server.url(), "certificate-authority-data": ca_data(&server)});
    let token_file = write(dir, "token", &format!("{TOKEN}\n"));
    let with_file = write(
        dir,
        "kubeconfig-file",
        &kubeconfig_text(
            &cluster,
            &json!({"tokenFile": token_file.display().to_string()}),
        ),
    );
    let out = discover_stdout(dir, &with_file, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("name: w1"), "{}", stdout(&out));
    assert!(!stderr(&out).contains(TOKEN));

    let with_plugin = write(
        dir,
        "kubeconfig-exec",
        &kubeconfig_text(
            &cluster,
            &plugin(&format!(
                "test -n \"$KUBERNETES_EXEC_INFO\" || exit 9; echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"{TOKEN}\"}}}}'"
            )),
        ),
    );
    let out = discover_stdout(dir, &with_plugin, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("name: w1"), "{}", stdout(&out));
    assert!(!stderr(&out).contains(TOKEN));
}

/// Plain HTTP to the loopback fake server: refused without the test flag (naming it, and
/// before any request), accepted with it.
#[test]
fn plain_http_needs_the_loopback_test_flag() {
    let tmp = tempfile::tempdir().expect("tempdir");
    repo(tmp.path());
    let server = FakeApiServer::start(Scenario::new().token(TOKEN).object(node())).expect("server");
    let out = discover_stdout(tmp.path(), server.kubeconfig_path(), &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("cluster `fake`: `server` `http://127.0.0.1:")
            && err.contains("is plain HTTP")
            && err.contains("--insecure-allow-http-loopback"),
        "{err}"
    );
    assert!(server.request_log().is_empty());
    let out = discover_stdout(
        tmp.path(),
        server.kubeconfig_path(),
        &["--insecure-allow-http-loopback"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
