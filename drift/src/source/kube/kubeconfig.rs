//! The cluster connection settings, checked before kube-rs sees them: the kubeconfig file (a
//! regular file of bounded size), the selected context, cluster and user, each field a request
//! would carry (well-formed base64, header-safe tokens, `https` servers), `tokenFile`s read and
//! trimmed as kubectl does, and exec credential plugins run by plinth itself with bounded output
//! and time. Every error names the file, the entry and the field, never a credential; a plugin's
//! failure is reported by command name and exit status only.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use kube::Config;
use kube::config::{AuthInfo, Cluster, ExecConfig, KubeConfigOptions, Kubeconfig};
use serde_json::{Value, json};

use super::{ConnectOptions, KubeEnv};
use crate::error::DriftError;
use crate::transport::Deadline;

/// The largest kubeconfig file read.
const MAX_KUBECONFIG_BYTES: u64 = 16 * 1024 * 1024;
/// The largest `tokenFile` read.
const MAX_TOKEN_FILE_BYTES: u64 = 64 * 1024;
/// The most output a credential plugin may print.
const MAX_PLUGIN_OUTPUT_BYTES: u64 = 1024 * 1024;
/// The flag that lets a loopback test server speak plain HTTP.
pub const ALLOW_HTTP_FLAG: &str = "--insecure-allow-http-loopback";

/// Where the settings came from and which entry a message is about.
struct Place<'a> {
    origin: &'a str,
    entry: String,
}

impl<'a> Place<'a> {
    /// The entry `entry` of the settings from `origin`.
    fn new(origin: &'a str, entry: impl Into<String>) -> Self {
        Self {
            origin,
            entry: entry.into(),
        }
    }

    fn error(&self, message: impl Into<String>) -> DriftError {
        DriftError::Kubeconfig {
            origin: self.origin.to_owned(),
            entry: self.entry.clone(),
            message: message.into(),
        }
    }
}

/// Loads the connection settings (`--kubeconfig`, else in a pod the service account, else
/// `KUBECONFIG` or `~/.kube/config`), checks them and returns a kube-rs [`Config`] that holds
/// no exec plugin and no token file any more (both are resolved here), with where it came from
/// (the file and the selected context, cluster and user) for errors kube-rs raises later.
pub(super) async fn load(
    options: &ConnectOptions,
    deadline: Deadline,
) -> Result<(Config, String), DriftError> {
    let kube_options = KubeConfigOptions {
        context: options.context.clone(),
        ..KubeConfigOptions::default()
    };
    let (origin, kubeconfig) = if let Some(path) = &options.kubeconfig {
        let origin = format!("kubeconfig `{}`", path.display());
        check_regular(path, MAX_KUBECONFIG_BYTES, &origin)?;
        let kubeconfig = Kubeconfig::read_from(path).map_err(|e| unreadable(&origin, &e))?;
        (origin, kubeconfig)
    } else if options.context.is_none() && options.env.in_cluster {
        return Ok((
            in_cluster(options, deadline)?,
            "the in-cluster service account".to_owned(),
        ));
    } else {
        let paths = default_paths(&options.env);
        let origin = match paths.as_slice() {
            [] => "the default kubeconfig".to_owned(),
            paths => format!(
                "kubeconfig {}",
                paths
                    .iter()
                    .map(|p| format!("`{}`", p.display()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        for path in &paths {
            check_regular(
                path,
                MAX_KUBECONFIG_BYTES,
                &format!("kubeconfig `{}`", path.display()),
            )?;
        }
        let kubeconfig = read_default(&options.env, &paths).map_err(|e| unreadable(&origin, &e))?;
        (origin, kubeconfig)
    };
    let (kubeconfig, selected) = checked(kubeconfig, options, &origin, deadline)?;
    let config = Config::from_custom_kubeconfig(kubeconfig, &kube_options)
        .await
        .map_err(|e| DriftError::Connect {
            origin: origin.clone(),
            source: Box::new(e),
        })?;
    if config.accept_invalid_certs {
        return Err(Place::new(&origin, "the selected cluster").error(
            "`insecure-skip-tls-verify` is set; plinth always verifies the server certificate",
        ));
    }
    Ok((config, format!("{origin} ({selected})")))
}

/// The in-cluster service account: its token file is read (trimmed) now and the API server
/// URL checked like any other.
fn in_cluster(options: &ConnectOptions, deadline: Deadline) -> Result<Config, DriftError> {
    let origin = "the in-cluster service account";
    let mut config = Config::incluster().map_err(|e| DriftError::Connect {
        origin: origin.to_owned(),
        source: Box::new(e),
    })?;
    let place = Place::new(origin, "the API server");
    check_server(&config.cluster_url.to_string(), options, &place)?;
    let place = Place::new(origin, "the service account");
    check_auth(&mut config.auth_info, None, &place, deadline)?;
    Ok(config)
}

/// The files `KUBECONFIG` names, else `~/.kube/config` (as kubectl looks for them).
fn default_paths(env: &KubeEnv) -> Vec<PathBuf> {
    if let Some(value) = &env.kubeconfig {
        let paths: Vec<PathBuf> = std::env::split_paths(value)
            .filter(|p| !p.as_os_str().is_empty())
            .collect();
        if !paths.is_empty() {
            return paths;
        }
    }
    env.home
        .as_ref()
        .map(|home| home.join(".kube").join("config"))
        .into_iter()
        .collect()
}

/// Reads the default kubeconfig from `paths` (see [`default_paths`]) as kubectl does: the files
/// `KUBECONFIG` names merged (the first to set a value wins), else `~/.kube/config`.
fn read_default(
    env: &KubeEnv,
    paths: &[PathBuf],
) -> Result<Kubeconfig, kube::config::KubeconfigError> {
    let from_variable = env
        .kubeconfig
        .as_ref()
        .is_some_and(|value| std::env::split_paths(value).any(|p| !p.as_os_str().is_empty()));
    match paths {
        [] => Err(kube::config::KubeconfigError::FindPath),
        paths if from_variable => paths.iter().try_fold(Kubeconfig::default(), |m, p| {
            Kubeconfig::read_from(p).and_then(|c| m.merge(c))
        }),
        [path, ..] => Kubeconfig::read_from(path),
    }
}

/// A kubeconfig kube-rs could not read or parse, without the parser's message (it may quote
/// the text around the error, a token included).
fn unreadable(origin: &str, err: &kube::config::KubeconfigError) -> DriftError {
    use kube::config::KubeconfigError as E;
    let message = match err {
        E::ReadConfig(io, _) => format!("cannot be read ({})", io.kind()),
        E::Parse(_) => {
            "is not a valid kubeconfig (YAML that does not match the kubeconfig format)".to_owned()
        }
        E::KindMismatch | E::ApiVersionMismatch => {
            "files of different `kind` or `apiVersion` cannot be merged".to_owned()
        }
        E::FindPath => "no kubeconfig was found (give `--kubeconfig`)".to_owned(),
        _ => "cannot be loaded".to_owned(),
    };
    DriftError::Kubeconfig {
        origin: origin.to_owned(),
        entry: "the file".to_owned(),
        message,
    }
}

/// Refuses what is not a regular file (a FIFO would block the read forever, a device never
/// end) or is larger than `limit` bytes.
fn check_regular(path: &Path, limit: u64, what: &str) -> Result<(), DriftError> {
    let meta = fs_err::metadata(path).map_err(|source| DriftError::Io {
        path: path.display().to_string(),
        source,
    })?;
    if !meta.is_file() {
        return Err(DriftError::Invalid {
            path: what.to_owned(),
            message: "is not a regular file (a folder, FIFO, socket or device is refused)"
                .to_owned(),
        });
    }
    if meta.len() > limit {
        return Err(DriftError::Invalid {
            path: what.to_owned(),
            message: format!(
                "is larger ({} bytes) than the limit of {limit} bytes",
                meta.len()
            ),
        });
    }
    Ok(())
}

/// Reads a small regular file, bounded even if it grows while read.
fn read_small(
    path: &Path,
    limit: u64,
    place: &Place<'_>,
    field: &str,
) -> Result<Vec<u8>, DriftError> {
    let meta = fs_err::metadata(path).map_err(|e| {
        place.error(format!(
            "`{field}` `{}` cannot be read ({})",
            path.display(),
            e.kind()
        ))
    })?;
    if !meta.is_file() {
        return Err(place.error(format!(
            "`{field}` `{}` is not a regular file",
            path.display()
        )));
    }
    let file = crate::source::snapshot::open_regular(path)
        .map_err(|e| {
            place.error(format!(
                "`{field}` `{}` cannot be read ({})",
                path.display(),
                e.kind()
            ))
        })?
        .ok_or_else(|| {
            place.error(format!(
                "`{field}` `{}` is not a regular file",
                path.display()
            ))
        })?;
    let mut buf = Vec::new();
    file.take(limit + 1).read_to_end(&mut buf).map_err(|e| {
        place.error(format!(
            "`{field}` `{}` cannot be read ({})",
            path.display(),
            e.kind()
        ))
    })?;
    if buf.len() as u64 > limit {
        return Err(place.error(format!(
            "`{field}` `{}` is larger than {limit} bytes",
            path.display()
        )));
    }
    Ok(buf)
}

/// Checks the selected context's cluster and user and resolves the user's token file and exec
/// plugin into a token (or client certificate). Also returns the selected entries, as
/// ``context `x`: cluster `c`, user `u` ``.
fn checked(
    mut kubeconfig: Kubeconfig,
    options: &ConnectOptions,
    origin: &str,
    deadline: Deadline,
) -> Result<(Kubeconfig, String), DriftError> {
    let top = Place::new(origin, "the file");
    let context_name = options
        .context
        .clone()
        .or_else(|| kubeconfig.current_context.clone())
        .filter(|c| !c.is_empty())
        .ok_or_else(|| {
            top.error("no context is selected (set `current-context` or give `--context`)")
        })?;
    let context = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .ok_or_else(|| {
            let known: Vec<String> = kubeconfig
                .contexts
                .iter()
                .map(|c| format!("`{}`", c.name))
                .collect();
            top.error(format!(
                "context `{context_name}` is not defined (contexts: {})",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ))
        })?;
    let place = Place::new(origin, format!("context `{context_name}`"));
    let Some(ctx) = &context.context else {
        return Err(place.error("`context` is missing"));
    };
    let cluster_name = ctx.cluster.clone();
    let user_name = ctx.user.clone();
    if cluster_name.is_empty() {
        return Err(place.error("`context.cluster` is missing"));
    }

    let place = Place::new(origin, format!("cluster `{cluster_name}`"));
    let cluster = kubeconfig
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .ok_or_else(|| place.error("is not defined in `clusters`"))?
        .cluster
        .clone()
        .ok_or_else(|| place.error("`cluster` is missing"))?;
    check_cluster(&cluster, options, &place)?;

    let mut selected = format!(
        "context `{}`: cluster `{}`",
        printable(&context_name),
        printable(&cluster_name)
    );
    if let Some(user_name) = user_name.filter(|u| !u.is_empty()) {
        let _ = write!(selected, ", user `{}`", printable(&user_name));
        let place = Place::new(origin, format!("user `{user_name}`"));
        let named = kubeconfig
            .auth_infos
            .iter_mut()
            .find(|u| u.name == user_name)
            .ok_or_else(|| place.error("is not defined in `users`"))?;
        if let Some(auth) = named.auth_info.as_mut() {
            check_auth(auth, Some(&cluster), &place, deadline)?;
        }
    }
    Ok((kubeconfig, selected))
}

/// `server`, certificate authority and TLS verification of the selected cluster.
fn check_cluster(
    cluster: &Cluster,
    options: &ConnectOptions,
    place: &Place<'_>,
) -> Result<(), DriftError> {
    let server = cluster
        .server
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| place.error("`server` is missing"))?;
    check_server(server, options, place)?;
    if cluster.proxy_url.is_some() {
        // plinth is built without kube-rs's proxy support; kube-rs would fail later with a
        // message that names neither file nor entry and quotes the proxy URL.
        return Err(place.error(
            "`proxy-url` is not supported: plinth connects to the API server directly (remove it, or run where the server is reachable)",
        ));
    }
    if cluster.insecure_skip_tls_verify == Some(true) {
        return Err(place.error(
            "`insecure-skip-tls-verify` is set; plinth always verifies the server certificate",
        ));
    }
    if let Some(data) = &cluster.certificate_authority_data {
        let pem = decode_base64(data)
            .ok_or_else(|| place.error("`certificate-authority-data` is not valid base64"))?;
        if !contains(&pem, b"-----BEGIN CERTIFICATE-----") {
            return Err(place.error(
                "`certificate-authority-data` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)",
            ));
        }
    }
    if let Some(path) = &cluster.certificate_authority {
        let pem = read_small(
            Path::new(path),
            MAX_KUBECONFIG_BYTES,
            place,
            "certificate-authority",
        )?;
        if !contains(&pem, b"-----BEGIN CERTIFICATE-----") {
            return Err(place.error(format!(
                "`certificate-authority` `{}` holds no PEM certificate (`-----BEGIN CERTIFICATE-----`)",
                Path::new(path).display()
            )));
        }
    }
    Ok(())
}

/// `https` only; plain `http` only to a loopback address and only with [`ALLOW_HTTP_FLAG`].
fn check_server(
    server: &str,
    options: &ConnectOptions,
    place: &Place<'_>,
) -> Result<(), DriftError> {
    // The URL may carry a user and password: only scheme, host and port are ever quoted.
    let uri: http::Uri = server
        .trim()
        .parse()
        .map_err(|_| place.error("`server` is not a valid URL"))?;
    let host = uri.host().unwrap_or("");
    let shown = match uri.port_u16() {
        Some(port) => format!("{}://{host}:{port}", uri.scheme_str().unwrap_or("")),
        None => format!("{}://{host}", uri.scheme_str().unwrap_or("")),
    };
    match uri.scheme_str() {
        Some("https") if !host.is_empty() => Ok(()),
        Some("http") => {
            if is_loopback(host) {
                if options.allow_http_loopback {
                    Ok(())
                } else {
                    Err(place.error(format!(
                        "`server` `{shown}` is plain HTTP: credentials would travel in clear (use `https`, or `{ALLOW_HTTP_FLAG}` for a loopback test server)"
                    )))
                }
            } else {
                Err(place.error(format!(
                    "`server` `{shown}` is plain HTTP: credentials would travel in clear (use `https`; `{ALLOW_HTTP_FLAG}` allows only loopback addresses)"
                )))
            }
        }
        _ => Err(place.error(format!("`server` `{shown}` is not an `https://` URL"))),
    }
}

/// `127.0.0.0/8`, `::1` and `localhost`.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.eq_ignore_ascii_case("localhost") {
        return true;
    }
    bare.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

/// Checks the credentials of a user entry; a `tokenFile` becomes a token (trimmed), an exec
/// plugin is run and its token or client certificate put in its place.
fn check_auth(
    auth: &mut AuthInfo,
    cluster: Option<&Cluster>,
    place: &Place<'_>,
    deadline: Deadline,
) -> Result<(), DriftError> {
    let secrets = secrets_of(auth);
    if let Some(token) = secrets.get("token") {
        check_header_text(token, "token", place)?;
    } else if let Some(path) = auth.token_file.clone() {
        let bytes = read_small(Path::new(&path), MAX_TOKEN_FILE_BYTES, place, "tokenFile")?;
        let text = String::from_utf8(bytes)
            .map_err(|_| place.error(format!("`tokenFile` `{path}` is not UTF-8 text")))?;
        // kubectl trims the file's content (a trailing newline is the common case).
        let token = text.trim();
        if token.is_empty() {
            return Err(place.error(format!("`tokenFile` `{path}` is empty")));
        }
        check_header_text(token, &format!("`tokenFile` `{path}`"), place)?;
        set_secret(auth, "token", token);
        auth.token_file = None;
    }
    if let Some(user) = &auth.username {
        check_header_text(user, "username", place)?;
    }
    if let Some(password) = secrets.get("password") {
        check_header_text(password, "password", place)?;
    }
    if let Some(name) = &auth.impersonate {
        check_header_text(name, "as", place)?;
    }
    if let Some(uid) = &auth.impersonate_uid {
        check_header_text(uid, "as-uid", place)?;
    }
    for group in auth.impersonate_groups.iter().flatten() {
        check_header_text(group, "as-groups", place)?;
    }
    if let Some(data) = &auth.client_certificate_data
        && decode_base64(data).is_none()
    {
        return Err(place.error("`client-certificate-data` is not valid base64"));
    }
    if let Some(data) = secrets.get("client-key-data")
        && decode_base64(data).is_none()
    {
        return Err(place.error("`client-key-data` is not valid base64"));
    }
    for (field, path) in [
        ("client-certificate", &auth.client_certificate),
        ("client-key", &auth.client_key),
    ] {
        if let Some(path) = path {
            read_small(Path::new(path), MAX_KUBECONFIG_BYTES, place, field)?;
        }
    }
    if let Some(provider) = &auth.auth_provider {
        let name = printable(&provider.name);
        if provider.name != "oidc" {
            return Err(place.error(format!(
                "`auth-provider` `{name}` is not supported (use an `exec` credential plugin, a token or a client certificate)"
            )));
        }
        let token = provider
            .config
            .get("id-token")
            .ok_or_else(|| place.error("`auth-provider.config.id-token` is missing"))?;
        check_header_text(token, "auth-provider.config.id-token", place)?;
    }
    if auth.token.is_none()
        && let Some(exec) = auth.exec.take()
    {
        run_plugin(&exec, cluster, place, deadline, auth)?;
    } else {
        // A token given beside a plugin wins, as in kubectl; the plugin is not run.
        auth.exec = None;
    }
    Ok(())
}

/// The secret fields of a user entry (kube-rs keeps them in opaque types; its serialisation is
/// the one way to look at them).
fn secrets_of(auth: &AuthInfo) -> BTreeMap<String, String> {
    let Ok(Value::Object(map)) = serde_json::to_value(auth) else {
        return BTreeMap::new();
    };
    ["token", "password", "client-key-data"]
        .into_iter()
        .filter_map(|k| Some((k.to_owned(), map.get(k)?.as_str()?.to_owned())))
        .collect()
}

/// Sets a secret field of a user entry (`token`, `client-key-data`).
fn set_secret(auth: &mut AuthInfo, field: &str, value: &str) {
    if let Ok(holder) = serde_json::from_value::<AuthInfo>(json!({ field: value })) {
        match field {
            "token" => auth.token = holder.token,
            "client-key-data" => auth.client_key_data = holder.client_key_data,
            _ => {}
        }
    }
}

/// Refuses text that cannot go into an HTTP header (control characters such as a line break,
/// non-ASCII), as kube-rs would panic or fail on it later; never quotes the text.
fn check_header_text(text: &str, field: &str, place: &Place<'_>) -> Result<(), DriftError> {
    // A field name is quoted; a description (`the token the plugin printed`) is not.
    let field = if field.contains(' ') {
        field.to_owned()
    } else {
        format!("`{field}`")
    };
    if let Some((i, c)) = text
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_graphic() || *c == ' '))
    {
        let what = match c {
            '\n' | '\r' => "a line break",
            '\t' => "a tab",
            c if c.is_control() => "a control character",
            _ => "a character that is not printable ASCII",
        };
        return Err(place.error(format!(
            "{field} holds {what} at byte {i}; it cannot be sent in an HTTP header"
        )));
    }
    Ok(())
}

/// Runs an exec credential plugin (the `client.authentication.k8s.io` protocol) with bounded
/// output and time; its stdout is parsed and never shown, its stderr discarded.
fn run_plugin(
    exec: &ExecConfig,
    cluster: Option<&Cluster>,
    place: &Place<'_>,
    deadline: Deadline,
    auth: &mut AuthInfo,
) -> Result<(), DriftError> {
    let command = exec
        .command
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| place.error("`exec.command` is missing"))?;
    let name = printable(command);
    let api_version = exec
        .api_version
        .clone()
        .unwrap_or_else(|| "client.authentication.k8s.io/v1beta1".to_owned());
    let mut spec = json!({"interactive": false});
    if exec.provide_cluster_info
        && let Some(cluster) = cluster
    {
        spec["cluster"] = json!({
            "server": cluster.server,
            "certificate-authority-data": cluster.certificate_authority_data,
        });
    }
    let info = json!({"apiVersion": api_version, "kind": "ExecCredential", "spec": spec});
    let mut cmd = Command::new(command);
    cmd.args(exec.args.iter().flatten());
    for pair in exec.env.iter().flatten() {
        if let (Some(k), Some(v)) = (pair.get("name"), pair.get("value")) {
            cmd.env(k, v);
        }
    }
    for k in exec.drop_env.iter().flatten() {
        cmd.env_remove(k);
    }
    cmd.env("KUBERNETES_EXEC_INFO", info.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            place.error(format!(
                "the credential plugin `{name}` (`exec.command`) was not found"
            ))
        } else {
            place.error(format!(
                "the credential plugin `{name}` could not be started ({})",
                e.kind()
            ))
        }
    })?;
    let Some(stdout) = child.stdout.take() else {
        let _ = child.kill();
        return Err(place.error(format!("the credential plugin `{name}` has no output")));
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let read = stdout
            .take(MAX_PLUGIN_OUTPUT_BYTES + 1)
            .read_to_end(&mut buf)
            .map(|_| buf);
        let _ = tx.send(read);
    });
    let stop = |child: &mut std::process::Child| {
        let _ = child.kill();
        let _ = child.wait();
    };
    let out = match rx.recv_timeout(deadline.remaining().min(Duration::from_hours(24))) {
        Ok(Ok(out)) if out.len() as u64 <= MAX_PLUGIN_OUTPUT_BYTES => Ok(out),
        Ok(Ok(_)) => Err(format!(
            "the credential plugin `{name}` printed more than {MAX_PLUGIN_OUTPUT_BYTES} bytes"
        )),
        Ok(Err(e)) => Err(format!(
            "the output of the credential plugin `{name}` could not be read ({})",
            e.kind()
        )),
        Err(_) => Err(format!(
            "the credential plugin `{name}` did not finish within the deadline of {}",
            deadline.describe()
        )),
    };
    let out = out.map_err(|message| {
        stop(&mut child);
        place.error(message)
    })?;
    let status = loop {
        let failure = match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if deadline.remaining() > Duration::ZERO => {
                std::thread::sleep(Duration::from_millis(10));
                continue;
            }
            Ok(None) => format!(
                "the credential plugin `{name}` did not exit within the deadline of {}",
                deadline.describe()
            ),
            Err(e) => format!(
                "the credential plugin `{name}` could not be waited for ({})",
                e.kind()
            ),
        };
        stop(&mut child);
        return Err(place.error(failure));
    };
    if !status.success() {
        let how = status.code().map_or_else(
            || "was killed by a signal".to_owned(),
            |c| format!("exited with status {c}"),
        );
        return Err(place.error(format!(
            "the credential plugin `{name}` failed: it {how} (its output is not shown: it may hold credentials)"
        )));
    }
    let credential: Value = serde_json::from_slice(&out)
        .ok()
        .or_else(|| {
            let text = std::str::from_utf8(&out).ok()?;
            plinth_vocab::yaml::from_str::<Value>(text, "exec credential").ok()
        })
        .ok_or_else(|| {
            place.error(format!(
                "the credential plugin `{name}` printed no `ExecCredential` (its output is not shown)"
            ))
        })?;
    let status = credential.get("status").ok_or_else(|| {
        place.error(format!(
            "the credential plugin `{name}` printed no `status`"
        ))
    })?;
    let text_at = |key: &str| {
        status
            .get(key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    if let (Some(cert), Some(key)) = (text_at("clientCertificateData"), text_at("clientKeyData")) {
        let engine = base64::engine::general_purpose::STANDARD;
        auth.client_certificate_data = Some(engine.encode(cert));
        set_secret(auth, "client-key-data", &engine.encode(key));
        return Ok(());
    }
    let token = text_at("token").ok_or_else(|| {
        place.error(format!(
            "the credential plugin `{name}` printed neither `status.token` nor a client certificate"
        ))
    })?;
    check_header_text(
        token,
        &format!("the token the credential plugin `{name}` printed"),
        place,
    )?;
    set_secret(auth, "token", token);
    Ok(())
}

/// Base64 (standard alphabet, line breaks allowed), `None` when invalid.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A name from the kubeconfig fit to quote: printable ASCII, at most 200 characters.
fn printable(text: &str) -> String {
    let mut out: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() || c == ' ' {
                c
            } else {
                '?'
            }
        })
        .take(200)
        .collect();
    if text.chars().count() > 200 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place() -> Place<'static> {
        Place::new("kubeconfig `k`", "user `u`")
    }

    #[test]
    fn header_text_is_checked_without_quoting_it() {
        assert!(check_header_text("abc.DEF-123_=", "token", &place()).is_ok());
        let err = check_header_text("s3cr3t\nmore", "token", &place()).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("line break") && text.contains("`token`"),
            "{text}"
        );
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(check_header_text("tök", "token", &place()).is_err());
    }

    #[test]
    fn loopback_hosts() {
        for h in ["127.0.0.1", "127.1.2.3", "[::1]", "localhost", "LOCALHOST"] {
            assert!(is_loopback(h), "{h}");
        }
        for h in [
            "10.0.0.1",
            "example.com",
            "[::2]",
            "localhost.example.com",
            "",
        ] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn http_is_refused_unless_loopback_and_allowed() {
        let mut options = ConnectOptions::default();
        let p = Place::new("kubeconfig `k`", "cluster `c`");
        assert!(check_server("https://10.0.0.1:6443", &options, &p).is_ok());
        let err = check_server("http://user:pw@127.0.0.1:8080/x", &options, &p).unwrap_err();
        let text = err.to_string();
        assert!(text.contains(ALLOW_HTTP_FLAG), "{text}");
        assert!(
            text.contains("`http://127.0.0.1:8080`") && !text.contains("pw"),
            "{text}"
        );
        options.allow_http_loopback = true;
        assert!(check_server("http://127.0.0.1:8080", &options, &p).is_ok());
        assert!(check_server("http://[::1]:8080", &options, &p).is_ok());
        assert!(check_server("http://10.0.0.1:8080", &options, &p).is_err());
        assert!(check_server("ftp://127.0.0.1", &options, &p).is_err());
    }
}
