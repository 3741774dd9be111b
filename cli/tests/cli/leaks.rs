//! The leak corpus test (issue 9 item 8): every secret shape of `fixtures/leaks/secrets.txt`
//! is planted in every place a value travels — Secret `data`/`stringData`, `MachineClass`
//! `userData`, `ConfigMap` files, env values, container args, annotations, custom-resource
//! fields, the last-applied annotation, cluster annotations and parameters, template errors,
//! YAML errors, schema violations, live objects and API error bodies from the fake API server —
//! and every command runs in every format: `render` (`--check`, `--explain`, `--crds`),
//! `catalog`, `validate`, `diff` (terminal, markdown, json, to stdout and to files), `commit`,
//! `drift` (all six formats, from a snapshot and from the fake server, to stdout and to files)
//! and `discover`; and the commands again with every log line on (`-vv --log-format json`,
//! and `RUST_LOG=trace` for every crate). Every stdout, stderr and written file is searched
//! for each secret and its base64 form.
//!
//! The one exception, by design: `render` writes the rendered manifests (`rendered/<cluster>/
//! *.yaml` but `kustomization.yaml`) with the secrets in them — that is its job — and `commit`
//! stores those same manifests in git. Exactly those files are not searched; the index, the
//! kustomization, the commit message and every other output are.
//!
//! That each redaction rule is needed by this corpus is proven at unit level by
//! `redact::tests::every_rule_is_needed_by_the_leak_corpus` (it switches each rule off).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Output;

use base64::Engine as _;
use plinth_testkit::git::{git, write};
use plinth_testkit::{FakeApiServer, Fault, FaultKind, Scenario};
use serde_json::{Value, json};

use crate::common::{EPOCH, NO_GIT_CONFIG, cluster_args, plinth_command, rendered_objects};

/// `drift . --cluster prod --snapshot live`.
const SNAPSHOT_DRIFT: [&str; 6] = ["drift", ".", "--cluster", "prod", "--snapshot", "live"];

const TOKEN: &str = "fake-api-token-for-leaks";

/// One corpus entry.
#[allow(clippy::struct_field_names)] // `Secret::secret` is the secret itself
struct Secret {
    name: String,
    /// What must never appear (with its base64 form).
    secret: String,
    /// The text planted in inputs (the secret inside its usual context).
    carrier: String,
    /// Planted everywhere (`any`) or only where position or key name says credential.
    anywhere: bool,
}

fn corpus() -> Vec<Secret> {
    include_str!("../fixtures/leaks/secrets.txt")
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let parts: Vec<&str> = line.splitn(4, '|').collect();
            assert_eq!(parts.len(), 4, "corpus line {line}");
            Secret {
                name: parts[0].to_owned(),
                secret: parts[1].to_owned(),
                carrier: parts[2].replace("\\n", "\n").replace("{}", parts[1]),
                anywhere: parts[3] == "any",
            }
        })
        .collect()
}

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

/// The texts that must not appear for `s`: the secret, its base64 form, and the base64 form
/// of its carrier (Secret `data` holds that), without padding.
fn forms(s: &Secret) -> Vec<String> {
    let mut out = vec![s.secret.clone()];
    out.push(b64(&s.secret).trim_end_matches('=').to_owned());
    if s.carrier != s.secret {
        out.push(b64(&s.carrier).trim_end_matches('=').to_owned());
    }
    out
}

/// Collects leaks: every (secret, where) found.
#[derive(Default)]
struct Leaks {
    found: Vec<String>,
    checked: usize,
}

impl Leaks {
    fn scan(&mut self, corpus: &[Secret], place: &str, text: &str) {
        self.checked += 1;
        for s in corpus {
            for form in forms(s) {
                if text.contains(&form) {
                    let at = text.find(&form).unwrap_or(0);
                    let from = text[..at]
                        .char_indices()
                        .rev()
                        .nth(60)
                        .map_or(0, |(i, _)| i);
                    let context: String = text[from..].chars().take(160).collect();
                    self.found.push(format!(
                        "{} ({form}) in {place}: …{}…",
                        s.name,
                        context.replace('\n', "⏎")
                    ));
                }
            }
        }
    }

    fn output(&mut self, corpus: &[Secret], what: &str, out: &Output) {
        self.scan(
            corpus,
            &format!("stdout of {what}"),
            &String::from_utf8_lossy(&out.stdout),
        );
        self.scan(
            corpus,
            &format!("stderr of {what}"),
            &String::from_utf8_lossy(&out.stderr),
        );
    }

    fn assert_none(&self) {
        assert!(
            self.found.is_empty(),
            "{} leak(s):\n{}",
            self.found.len(),
            self.found.join("\n")
        );
    }
}

/// The rendered manifests: the one output that holds secrets by design.
fn is_rendered_manifest(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    matches!(parts.as_slice(), ["rendered", _, file]
        if Path::new(file).extension().is_some_and(|e| e == "yaml") && *file != "kustomization.yaml")
}

/// Every file below `root` but `.git` (relative path -> bytes).
fn files(root: &Path) -> BTreeMap<String, Vec<u8>> {
    crate::common::snapshot_dir(root)
        .into_iter()
        .filter(|(rel, _)| !rel.starts_with(".git/"))
        .collect()
}

/// Runs plinth and scans its stdout, stderr and every file it created or changed.
fn run(leaks: &mut Leaks, corpus: &[Secret], root: &Path, args: &[&str]) -> Output {
    run_with(leaks, corpus, root, args, &[])
}

/// [`run`] with `env` set besides.
fn run_with(
    leaks: &mut Leaks,
    corpus: &[Secret],
    root: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> Output {
    let before = files(root);
    let out = plinth_command(root, args)
        .env("SOURCE_DATE_EPOCH", EPOCH)
        .envs(NO_GIT_CONFIG)
        .envs(env.iter().copied())
        .output()
        .expect("the plinth binary runs");
    let settings: Vec<String> = env.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    let what = format!("{}plinth {}", settings.concat(), args.join(" "));
    leaks.output(corpus, &what, &out);
    for (rel, bytes) in files(root) {
        if before.get(&rel) == Some(&bytes) || is_rendered_manifest(&rel) {
            continue;
        }
        leaks.scan(
            corpus,
            &format!("{rel} written by {what}"),
            &String::from_utf8_lossy(&bytes),
        );
    }
    out
}

const CATALOG_HEAD: &str = "assets:\n  - name: leaks\n    path: leaks.yaml.j2\n    phase: 0\n    install: always\n    component: ConfigMap\n    reconcile_order: 1\n";

/// The objects of the leak template; slot `i` holds corpus entry `(i + rotate) % n`, so two
/// rotations differ in every value (a diff and a drift then show every secret on both sides).
fn objects(corpus: &[Secret], rotate: usize) -> Vec<Value> {
    let n = corpus.len();
    let slot = |i: usize| &corpus[(i + rotate) % n];
    let mut string_data = serde_json::Map::new();
    let mut data = serde_json::Map::new();
    let mut user_data = String::from("#cloud-config\n");
    let mut files = serde_json::Map::new();
    let mut annotations = serde_json::Map::new();
    let mut env = Vec::new();
    let mut args = Vec::new();
    let mut spec = serde_json::Map::new();
    let mut last_applied = serde_json::Map::new();
    for i in 0..n {
        let s = slot(i);
        let c = &s.carrier;
        string_data.insert(format!("s{i}"), json!(c));
        data.insert(format!("d{i}"), json!(b64(c)));
        let _ = writeln!(user_data, "x{i}: {}", json!(c));
        files.insert(format!("cred-{i}.conf"), json!(format!("password: {c}\n")));
        annotations.insert(format!("example.io/password-{i}"), json!(c));
        env.push(json!({"name": format!("DB_PASSWORD_{i}"), "value": c}));
        args.extend([json!("--password"), json!(c), json!(format!("--token={c}"))]);
        spec.insert(format!("password{i}"), json!(c));
        last_applied.insert(format!("x{i}"), json!(c));
        if s.anywhere {
            files.insert(
                format!("app-{i}.conf"),
                json!(format!("setting_{i}: {c}\n")),
            );
            files.insert(format!("raw-{i}.txt"), json!(c));
            annotations.insert(format!("example.io/note-{i}"), json!(c));
            env.push(json!({"name": format!("NEUTRAL_{i}"), "value": c}));
            args.extend([json!(format!("--opt-{i}")), json!(c)]);
            spec.insert(format!("field{i}"), json!(c));
            spec.insert(format!("list{i}"), json!([c]));
            spec.insert(
                format!("nested{i}"),
                json!({"config": format!("endpoint: https://api.example.invalid\nvalue: {c}\n")}),
            );
        }
    }
    let meta = |name: &str| json!({"name": name, "namespace": "platform"});
    let mut widget_meta = meta("leaks-widget");
    widget_meta["annotations"] = json!({
        "kubectl.kubernetes.io/last-applied-configuration":
            json!({"apiVersion": "example.io/v1", "kind": "Widget", "spec": last_applied}).to_string()
    });
    let mut app_meta = meta("leaks-app");
    app_meta["annotations"] = Value::Object(annotations);
    vec![
        json!({"apiVersion": "v1", "kind": "Secret", "metadata": meta("leaks"), "type": "Opaque",
            "stringData": string_data, "data": data}),
        json!({"apiVersion": "machine.sapcloud.io/v1alpha1", "kind": "MachineClass",
            "metadata": meta("leaks-class"), "provider": "STACKIT",
            "providerSpec": {"region": "eu01", "userData": user_data},
            "secretRef": {"name": "leaks", "namespace": "platform"}}),
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta("leaks-files"), "data": files}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": app_meta,
            "spec": {"selector": {"matchLabels": {"app": "leaks"}}, "template": {
                "metadata": {"labels": {"app": "leaks"}},
                "spec": {"containers": [{"name": "app", "image": "registry.example/app:v1",
                    "args": args, "env": env}]}}}}),
        json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": widget_meta, "spec": spec}),
    ]
}

/// A CRD for `Widget` whose every field rejects the planted values (pattern, enum, length),
/// so that `validate` and `render --crds` report a violation at each of them.
fn widget_crd(corpus: &[Secret]) -> String {
    let mut props = serde_json::Map::new();
    for i in 0..corpus.len() {
        props.insert(
            format!("field{i}"),
            json!({"type": "string", "pattern": "^[a-z]{1,3}$"}),
        );
        props.insert(
            format!("password{i}"),
            json!({"type": "string", "maxLength": 3, "enum": ["a"]}),
        );
        props.insert(
            format!("list{i}"),
            json!({"type": "array", "items": {"type": "string", "enum": ["a", "b"]}}),
        );
        props.insert(
            format!("nested{i}"),
            json!({"type": "object", "properties": {"config": {"type": "integer"}}}),
        );
    }
    json!({"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "widgets.example.io"},
        "spec": {"group": "example.io", "names": {"kind": "Widget", "plural": "widgets"}, "scope": "Namespaced",
            "versions": [{"name": "v1", "served": true, "storage": true, "schema": {"openAPIV3Schema": {
                "type": "object", "properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"},
                    "metadata": {"type": "object"},
                    "spec": {"type": "object", "properties": props}}}}}]}})
    .to_string()
}

/// Writes the leak repository: the catalog (one asset whose conditions look at every planted
/// cluster annotation, one never-included asset per annotation with a mismatching value), the
/// template, the cluster (annotations and parameters hold the secrets) and the Widget CRD.
fn write_repo(root: &Path, corpus: &[Secret], rotate: usize) {
    let n = corpus.len();
    let mut catalog = String::from(CATALOG_HEAD);
    catalog.push_str("    conditions:\n");
    for i in 0..n {
        let _ = write!(
            catalog,
            "      - type: annotation\n        key: example.io/k{i}\n"
        );
    }
    for i in 0..n {
        let _ = write!(
            catalog,
            "  - name: unmatched-{i}\n    path: leaks.yaml.j2\n    phase: 1\n    install: opt-in\n    component: ConfigMap\n    reconcile_order: 2\n    conditions:\n      - type: annotation\n        key: example.io/k{i}\n        value: nope\n"
        );
    }
    // Conditions that hold because the catalog asks for exactly the cluster's (secret)
    // annotation value; a second condition keeps each asset out. The wanted value must not
    // be echoed into `--explain`, `catalog` or the index either.
    for i in 0..n {
        let s = &corpus[(i + rotate) % n];
        if !s.anywhere {
            continue;
        }
        let _ = write!(
            catalog,
            "  - name: matched-{i}\n    path: leaks.yaml.j2\n    phase: 1\n    install: opt-in\n    component: ConfigMap\n    reconcile_order: 2\n    conditions:\n      - type: annotation\n        key: example.io/k{i}\n        value: {}\n      - type: annotation\n        key: example.io/absent\n",
            json!(s.carrier)
        );
    }
    write(root, "assets/metadata.yaml", &catalog);
    let docs: Vec<String> = objects(corpus, rotate)
        .iter()
        .map(|o| serde_json::to_string_pretty(o).expect("json"))
        .collect();
    write(root, "assets/leaks.yaml.j2", &(docs.join("\n---\n") + "\n"));
    let mut annotations = serde_json::Map::new();
    let mut params = serde_json::Map::new();
    for i in 0..n {
        let c = &corpus[(i + rotate) % n].carrier;
        annotations.insert(format!("example.io/k{i}"), json!(c));
        params.insert(format!("p{i}"), json!(c));
    }
    write(
        root,
        "clusters/prod/cluster.yaml",
        json!({"name": "prod", "annotations": annotations, "params": params}).to_string(),
    );
    write(root, "crds/widget.yaml", widget_crd(corpus));
}

const DRIFT_FORMATS: [&str; 6] = ["text", "json", "markdown", "junit", "prometheus", "html"];

/// Every command in every format over the leak repository.
#[test]
fn no_command_leaks_a_planted_secret() {
    let corpus = corpus();
    assert!(corpus.len() >= 25, "the corpus has {} shapes", corpus.len());
    let mut leaks = Leaks::default();
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();

    // The live state: the same objects with every value rotated to the next secret.
    let other = tempfile::tempdir().expect("tempdir");
    write_repo(other.path(), &corpus, 1);
    let out = crate::common::plinth(other.path(), &["render", "."]);
    assert!(out.status.success(), "{}", crate::common::stderr(&out));
    let live = rendered_objects(other.path());
    assert_eq!(live.len(), 5);

    // Base revision: rotated; head: as listed.
    git(root, &["init", "-q", "-b", "main"]);
    write_repo(root, &corpus, 1);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "base"]);
    write_repo(root, &corpus, 0);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "head"]);

    let mut r = |args: &[&str]| run(&mut leaks, &corpus, root, args);

    // render: stale before, then written, then checked and explained.
    assert_eq!(r(&["render", ".", "--check"]).status.code(), Some(1));
    let out = r(&["render", ".", "--crds", "crds"]);
    assert_eq!(out.status.code(), Some(2), "violations stop the render");
    assert!(String::from_utf8_lossy(&out.stderr).contains("spec.field0"));
    let out = r(&["render", ".", "-v"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(rendered_objects(root).len(), 5);
    assert!(
        is_rendered_manifest("rendered/prod/secret_platform_leaks.yaml")
            && root.join("rendered/prod/plinth-index.json").is_file()
    );
    r(&["render", ".", "--check", "-v"]);
    r(&["render", ".", "--explain"]);
    r(&["render", ".", "--explain", "--force", "-v"]);

    // catalog and validate.
    for format in ["text", "json"] {
        r(&["catalog", ".", "--format", format]);
        r(&["catalog", ".", "--cluster", "prod", "--format", format]);
    }
    let out = r(&["validate", ".", "--crds", "crds", "-v"]);
    assert_eq!(out.status.code(), Some(1), "violations are found");
    assert!(String::from_utf8_lossy(&out.stdout).contains("spec.password0"));
    r(&["validate", ".", "--crds", "crds", "--require-schemas"]);
    r(&["validate", "."]);

    // diff in every format, to stdout and to files.
    for format in ["terminal", "markdown", "json"] {
        let out = r(&["diff", "--base", "HEAD~1", "--format", format]);
        assert_eq!(out.status.code(), Some(1), "{format}: every value changed");
        assert!(String::from_utf8_lossy(&out.stdout).contains("<redacted hmac-sha256:"));
        r(&[
            "diff",
            "--base",
            "HEAD~1",
            "--format",
            format,
            "--output-dir",
            "preview",
            "-v",
        ]);
    }

    // commit: stdout, stderr, the commit message and every non-manifest file of its tree.
    let out = r(&["commit", "--branch", "hydrated", "--allow-dirty"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // drift from a snapshot, every format, to stdout and to files.
    for (i, obj) in live.iter().enumerate() {
        write(root, &format!("live/{i}.yaml"), obj.to_string());
    }
    for format in DRIFT_FORMATS {
        let mut args = SNAPSHOT_DRIFT.to_vec();
        args.extend(["--format", format]);
        let out = r(&args);
        assert_eq!(out.status.code(), Some(1), "{format}: drift found");
        // Prometheus metrics hold counts only; every other format shows the changed values.
        assert!(
            format == "prometheus" || String::from_utf8_lossy(&out.stdout).contains("redacted"),
            "{format}"
        );
    }
    let mut all = SNAPSHOT_DRIFT.to_vec();
    all.extend(["--output-dir", "reports"]);
    for format in DRIFT_FORMATS {
        all.extend(["--format", format]);
    }
    r(&all);
    // apply's plan of the same snapshot, every format.
    for format in DRIFT_FORMATS {
        let mut args = vec!["apply", ".", "--cluster", "prod", "--dry-run"];
        args.extend(["--snapshot", "live", "--format", format]);
        let out = r(&args);
        assert_eq!(out.status.code(), Some(1), "{format}: something to write");
    }

    let log = git(root, &["log", "hydrated", "--format=%B"]);
    leaks.scan(&corpus, "the hydrated commit message", &log);
    for path in git(root, &["ls-tree", "-r", "--name-only", "hydrated"]).lines() {
        let rel = format!("rendered/{path}");
        if is_rendered_manifest(&rel) || is_rendered_manifest(path) {
            continue;
        }
        let text = git(root, &["show", &format!("hydrated:{path}")]);
        leaks.scan(&corpus, &format!("{path} of the hydrated commit"), &text);
    }

    // drift and discover against the fake API server: live objects with secrets, nodes with
    // secrets in their labels and annotations.
    let mut scenario = Scenario::new().token(TOKEN).tls().objects(live.clone());
    for (i, s) in corpus.iter().enumerate().filter(|(_, s)| s.anywhere) {
        scenario = scenario.object(json!({"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": format!("w{i}"),
                "labels": {"node-role.kubernetes.io/worker": "", "example.io/label": "x"},
                "annotations": {"example.io/note": s.carrier}},
            "spec": {"taints": []}, "status": {"capacity": {"cpu": "4"}}}));
    }
    let server = FakeApiServer::start(scenario).expect("server");
    let kc = server.kubeconfig_path().display().to_string();
    let mut r = |args: &[&str]| run(&mut leaks, &corpus, root, args);
    for format in DRIFT_FORMATS {
        for mode in ["server", "client"] {
            let out = {
                let mut args = cluster_args("drift", &kc);
                args.extend_from_slice(&["--mode", mode, "--format", format]);
                r(&args)
            };
            assert_eq!(
                out.status.code(),
                Some(1),
                "{mode} {format}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let out = r(&["discover", ".", "--cluster", "prod", "--kubeconfig", &kc]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut args = cluster_args("discover", &kc);
    args.extend(["-o", "-"]);
    r(&args);

    // API error bodies that echo the secrets, with every status class, on discovery and on
    // the object requests (LIST, GET, the server-side apply dry-run).
    let anywhere: Vec<&Secret> = corpus.iter().filter(|s| s.anywhere).collect();
    let message = anywhere
        .iter()
        .map(|s| format!("value {} is not allowed", s.carrier))
        .collect::<Vec<_>>()
        .join("; ");
    let causes: Vec<Value> = anywhere
        .iter()
        .map(|s| json!({"field": "spec.x", "message": s.carrier, "reason": s.carrier}))
        .collect();
    let mut error_outputs = String::new();
    for code in [400_u16, 401, 403, 404, 409, 422, 500] {
        for path in ["/api", "/namespaces/platform/"] {
            let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": message, "reason": "Invalid", "code": code,
                "details": {"name": anywhere[0].carrier, "causes": causes}});
            server.inject(
                Fault::new(FaultKind::Body { code, body })
                    .matching(path)
                    .times(u32::MAX),
            );
            for format in ["json", "text"] {
                let out = {
                    let mut args = cluster_args("drift", &kc);
                    args.extend_from_slice(&["--retries", "0", "--format", format]);
                    r(&args)
                };
                error_outputs.push_str(&String::from_utf8_lossy(&out.stdout));
                error_outputs.push_str(&String::from_utf8_lossy(&out.stderr));
            }
            r(&[
                "discover",
                ".",
                "--cluster",
                "prod",
                "--kubeconfig",
                &kc,
                "--retries",
                "0",
            ]);
            let out = {
                let mut args = cluster_args("apply", &kc);
                args.extend_from_slice(&["--retries", "0", "--force-conflicts"]);
                r(&args)
            };
            error_outputs.push_str(&String::from_utf8_lossy(&out.stdout));
            error_outputs.push_str(&String::from_utf8_lossy(&out.stderr));
            server.clear_faults();
        }
    }
    // apply against the cluster, every format: a dry run, then the writes, then a run with
    // nothing left to do.
    for format in DRIFT_FORMATS {
        let mut args = cluster_args("apply", &kc);
        args.extend_from_slice(&["--dry-run", "--force-conflicts", "--format", format]);
        r(&args);
    }
    for format in ["json", "text"] {
        let mut args = cluster_args("apply", &kc);
        args.extend_from_slice(&["--force-conflicts", "--format", format, "-v"]);
        let out = r(&args);
        assert_ne!(
            out.status.code(),
            Some(2),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Every log line on: JSON at debug for plinth's crates (`-vv --log-format json`), and text
    // at trace for every crate (`RUST_LOG=trace`: the HTTP client and the TLS and async
    // libraries too), for each command over the same inputs; one LIST fails once with a body
    // that echoes the secrets, so a retry is logged as well.
    let mut logged: Vec<Vec<&str>> = vec![
        vec!["render", ".", "--force"],
        vec!["render", ".", "--check"],
        vec!["render", ".", "--crds", "crds"],
        vec!["render", ".", "--explain", "--force"],
        vec!["catalog", ".", "--cluster", "prod", "--format", "json"],
        vec!["validate", ".", "--crds", "crds"],
        vec!["diff", "--base", "HEAD~1", "--format", "json"],
        SNAPSHOT_DRIFT.to_vec(),
        vec![
            "apply",
            ".",
            "--cluster",
            "prod",
            "--dry-run",
            "--snapshot",
            "live",
        ],
    ];
    let mut discover = cluster_args("discover", &kc);
    discover.extend(["-o", "-"]);
    logged.push(discover);
    for mode in ["server", "client"] {
        let mut drift = cluster_args("drift", &kc);
        drift.extend(["--mode", mode, "--format", "json"]);
        logged.push(drift);
    }
    let mut apply = cluster_args("apply", &kc);
    apply.push("--force-conflicts");
    logged.push(apply);
    let mut log_text = String::new();
    for args in &logged {
        for (flags, env) in [
            (&["-vv", "--log-format", "json"][..], &[][..]),
            (&["-vvv"], &[("RUST_LOG", "trace")]),
        ] {
            if args[0] == "drift" {
                let body = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "message": message, "reason": "InternalError", "code": 500,
                    "details": {"name": anywhere[0].carrier, "causes": causes}});
                server.inject(
                    Fault::new(FaultKind::Body { code: 500, body })
                        .matching("/namespaces/platform/")
                        .times(1),
                );
            }
            let mut all = flags.to_vec();
            all.extend(args.iter().copied());
            let out = run_with(&mut leaks, &corpus, root, &all, env);
            log_text.push_str(&String::from_utf8_lossy(&out.stderr));
            server.clear_faults();
        }
    }
    // The logs were on: every command logged, the retry too, the JSON lines are JSON.
    for event in [
        "command finished",
        "clusters rendered",
        "kinds listed",
        "objects applied",
        "request retried",
        "\"level\":\"DEBUG\"",
        " TRACE ",
    ] {
        assert!(log_text.contains(event), "no `{event}` logged");
    }
    for line in log_text.lines().filter(|l| l.starts_with('{')) {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }

    // The faults were hit: the error statuses are reported.
    for status in ["HTTP 403", "HTTP 409", "HTTP 500"] {
        assert!(error_outputs.contains(status), "{status} not reported");
    }
    assert!(
        leaks.checked > 100,
        "only {} outputs checked",
        leaks.checked
    );
    leaks.assert_none();
}

/// Errors quote what went wrong: a template that includes a name taken from a parameter, a
/// filter that rejects a value, rendered YAML that does not parse, input YAML that does not
/// parse, an unknown variant — each with a planted secret in the quoted place, through every
/// command that renders.
#[test]
fn no_error_leaks_a_planted_secret() {
    let corpus = corpus();
    let mut leaks = Leaks::default();
    let cases: [(&str, &str); 6] = [
        ("include", "{% include params.leak %}\n"),
        ("filter", "a: {{ params.leak | quantity }}\n"),
        (
            "b64-filter",
            "a: {{ params.leak | quantity | b64encode }}\n",
        ),
        (
            "rendered-yaml",
            "a: [{{ params.leak }}\nb: {{ params.leak }}: c\n",
        ),
        ("cluster-yaml", ""),
        ("variant", ""),
    ];
    for s in &corpus {
        for (case, template) in cases {
            let tmp = tempfile::tempdir().expect("tempdir");
            let root = tmp.path();
            let mut catalog = CATALOG_HEAD.to_owned();
            if case == "variant" {
                catalog =
                    catalog.replace("install: always", &format!("install: {}", json!(s.carrier)));
            }
            write(root, "assets/metadata.yaml", &catalog);
            write(
                root,
                "assets/leaks.yaml.j2",
                if template.is_empty() {
                    "a: 1\n"
                } else {
                    template
                },
            );
            let cluster = if case == "cluster-yaml" {
                format!("name: prod\nannotations: [{}\n", json!(s.carrier))
            } else {
                json!({"name": "prod", "params": {"leak": s.carrier}}).to_string()
            };
            write(root, "clusters/prod/cluster.yaml", &cluster);
            for args in [
                &["render", "."][..],
                &["render", ".", "--explain"],
                &["render", ".", "--check"],
                &["validate", "."],
                &["catalog", ".", "--cluster", "prod", "--format", "json"],
            ] {
                let out = run(&mut leaks, &corpus, root, args);
                // `catalog` reports a cluster that does not render and exits 0.
                if args[0] != "catalog" {
                    assert_eq!(out.status.code(), Some(2), "{case}: {args:?} should fail");
                }
            }
        }
    }
    // Arguments echoed by argument errors and by unknown-name errors.
    let tmp = tempfile::tempdir().expect("tempdir");
    write_repo(tmp.path(), &corpus, 0);
    for s in corpus.iter().filter(|s| s.anywhere) {
        for args in [
            &["render", ".", "extra", &s.carrier][..],
            &["render", ".", "--cluster", &s.carrier],
            &[
                "drift",
                ".",
                "--cluster",
                &s.carrier,
                "--snapshot",
                &s.carrier,
            ],
            &["catalog", ".", "--cluster", &s.carrier],
        ] {
            let out = run(&mut leaks, &corpus, tmp.path(), args);
            assert_eq!(out.status.code(), Some(2), "{args:?}");
        }
    }
    leaks.assert_none();
}
