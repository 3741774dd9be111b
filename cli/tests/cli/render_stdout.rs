//! CLI tests of `plinth render --cluster NAME --stdout`, the Argo CD Config Management Plugin:
//! byte for byte what `kubectl kustomize` builds from the committed folder of every example
//! cluster, nothing written, usage errors and failing renders (exit 2, nothing on stdout), and
//! the plugin configuration in `ci/argocd/`, whose command must keep running `plinth render`.

#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use plinth_testkit::tree::tree;
use plinth_vocab::yaml;
use serde_json::Value;

use crate::common::{copy_dir, copy_dir_except, plinth, stderr, stdout, workspace};

/// The example fleet's cluster names (the folders of its `clusters/`).
fn example_clusters() -> Vec<String> {
    let files = tree(&workspace().join("examples/fleet/clusters"));
    let names: BTreeSet<String> = files
        .keys()
        .filter_map(|file| file.split_once('/'))
        .map(|(cluster, _)| cluster.to_owned())
        .collect();
    assert!(names.len() >= 3, "{names:?}");
    names.into_iter().collect()
}

/// The example fleet copied without its committed output, so that `--stdout` cannot lean on
/// it and anything it wrote would show.
fn example_without_output() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir_except(
        &workspace().join("examples/fleet"),
        tmp.path(),
        &["rendered"],
    );
    tmp
}

/// `kubectl`, when installed.
fn kubectl() -> Option<()> {
    let version = Command::new("kubectl")
        .args(["version", "--client"])
        .output()
        .ok()?;
    assert!(version.status.success());
    Some(())
}

fn render_stdout(repo: &Path, cluster: &str) -> std::process::Output {
    plinth(repo, &["render", ".", "--cluster", cluster, "--stdout"])
}

#[test]
fn every_example_cluster_prints_what_kubectl_kustomize_builds_byte_for_byte() {
    if kubectl().is_none() {
        println!(
            "skipped: kubectl is not installed, so `--stdout` was not compared with `kubectl kustomize`"
        );
        return;
    }
    let repo = example_without_output();
    let before = tree(repo.path());
    for cluster in example_clusters() {
        let out = render_stdout(repo.path(), &cluster);
        assert_eq!(out.status.code(), Some(0), "{cluster}: {}", stderr(&out));
        let built = Command::new("kubectl")
            .arg("kustomize")
            .arg(workspace().join("examples/fleet/rendered").join(&cluster))
            .output()
            .unwrap();
        assert!(built.status.success(), "{cluster}: {}", stderr(&built));
        assert!(!built.stdout.is_empty(), "{cluster}");
        if out.stdout != built.stdout {
            let (mine, theirs) = (stdout(&out), stdout(&built));
            let line = mine
                .lines()
                .zip(theirs.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| mine.lines().count().min(theirs.lines().count()));
            panic!(
                "{cluster}: `--stdout` differs from `kubectl kustomize` at line {}:\n  plinth:  {:?}\n  kubectl: {:?}",
                line + 1,
                mine.lines().nth(line),
                theirs.lines().nth(line)
            );
        }
    }
    assert!(
        tree(repo.path()) == before,
        "`--stdout` wrote to the repository"
    );
}

#[test]
fn the_stream_holds_the_committed_objects_in_the_kustomization_order() {
    // Without kubectl too: the documents are the committed objects, in the order of the
    // committed `kustomization.yaml`.
    let repo = example_without_output();
    for cluster in example_clusters() {
        let out = render_stdout(repo.path(), &cluster);
        assert_eq!(out.status.code(), Some(0), "{cluster}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(!text.starts_with("---"), "{cluster}");
        let streamed = yaml::from_str_multi(&text).unwrap();
        let folder = workspace().join("examples/fleet/rendered").join(&cluster);
        let kustomization: Value = yaml::from_str(
            &fs_err::read_to_string(folder.join("kustomization.yaml")).unwrap(),
            "kustomization.yaml",
        )
        .unwrap();
        let committed: Vec<Value> = kustomization["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|file| {
                let file = file.as_str().unwrap();
                yaml::from_str(&fs_err::read_to_string(folder.join(file)).unwrap(), file).unwrap()
            })
            .collect();
        assert_eq!(streamed.len(), committed.len(), "{cluster}");
        for (i, (s, c)) in streamed.iter().zip(&committed).enumerate() {
            assert_eq!(s, c, "{cluster}: document {i}");
        }
    }
}

#[test]
fn rendering_to_stdout_twice_is_byte_identical() {
    let repo = example_without_output();
    let first = render_stdout(repo.path(), "gpu-east");
    let second = render_stdout(repo.path(), "gpu-east");
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(!first.stdout.is_empty());
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn usage_errors_exit_2_naming_the_conflict_with_nothing_on_stdout() {
    let repo = example_without_output();
    let before = tree(repo.path());
    let cases: [(&[&str], &str); 7] = [
        (&[], "exactly one cluster, and 0 were given"),
        (
            &["-c", "edge-hci", "-c", "gpu-east"],
            "exactly one cluster, and 2 were given",
        ),
        (&["-c", "edge-hci", "--check"], "'--check'"),
        (&["-c", "edge-hci", "--output", "out"], "'--output <DIR>'"),
        (&["-c", "edge-hci", "--shard", "1/2"], "'--shard <I/N>'"),
        (&["-c", "edge-hci", "--explain"], "'--explain'"),
        (&["-c", "nowhere"], "unknown cluster `nowhere`"),
    ];
    for (args, named) in cases {
        let mut all = vec!["render", ".", "--stdout"];
        all.extend_from_slice(args);
        let out = plinth(repo.path(), &all);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?}: `{named}` not in: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
    }
    let out = plinth(repo.path(), &["render", ".", "--stdout", "-c", "nowhere"]);
    assert!(stderr(&out).contains("edge-hci, gpu-east, plain-west"));
    assert!(tree(repo.path()) == before, "the repository changed");
}

#[test]
fn a_failing_render_exits_2_with_nothing_on_stdout_and_nothing_written() {
    let fixtures = workspace().join("cli/tests/fixtures/render-errors");
    let mut cases: Vec<PathBuf> = fs_err::read_dir(&fixtures)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 14, "{cases:?}");
    for case in cases {
        let repo = tempfile::tempdir().unwrap();
        copy_dir(&case, repo.path());
        let before = tree(repo.path());
        let out = render_stdout(repo.path(), "c1");
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(out.status.code(), Some(2), "{name}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("error: "),
            "{name}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{name}: {}", stdout(&out));
        assert!(
            tree(repo.path()) == before,
            "{name}: the repository changed"
        );
    }
}

/// Every YAML file under `ci/argocd/`, parsed (relative path -> documents).
fn argocd_documents() -> Vec<(String, Vec<Value>)> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(String, Vec<Value>)>) {
        for entry in fs_err::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(base, &path, out);
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                let rel = path.strip_prefix(base).unwrap().display().to_string();
                let docs = yaml::from_str_multi(&fs_err::read_to_string(&path).unwrap())
                    .unwrap_or_else(|e| panic!("ci/argocd/{rel} does not parse: {e}"));
                assert!(!docs.is_empty(), "ci/argocd/{rel} is empty");
                out.push((rel, docs));
            }
        }
    }
    let mut out = Vec::new();
    let base = workspace().join("ci/argocd");
    walk(&base, &base, &mut out);
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn the<'v>(docs: &'v [(String, Vec<Value>)], file: &str) -> &'v Value {
    let (_, found) = docs
        .iter()
        .find(|(rel, _)| rel == file)
        .unwrap_or_else(|| panic!("ci/argocd/{file} is missing"));
    assert_eq!(found.len(), 1, "{file}");
    &found[0]
}

/// The `--flags` of `plinth render --help`.
fn render_flags() -> Vec<String> {
    let help = stdout(&plinth(&workspace(), &["render", "--help"]));
    help.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| w.starts_with("--"))
        .map(|w| w.split('=').next().unwrap().to_owned())
        .collect()
}

#[test]
fn the_argocd_configuration_parses_and_its_plugin_command_is_the_stream() {
    let docs = argocd_documents();
    let names: Vec<&str> = docs.iter().map(|(rel, _)| rel.as_str()).collect();
    assert_eq!(
        names,
        [
            "examples/application.yaml",
            "examples/applicationset.yaml",
            "kustomization.yaml",
            "plugin.yaml",
            "repo-server-patch.yaml"
        ]
    );

    // The plugin: discovered by plinth.yaml, generating with `plinth render --stdout`.
    let plugin = the(&docs, "plugin.yaml");
    assert_eq!(plugin["kind"], "ConfigManagementPlugin");
    let plugin_name = plugin["metadata"]["name"].as_str().unwrap();
    let discover = plugin["spec"]["discover"]["fileName"].as_str().unwrap();
    assert!(
        workspace().join("examples/fleet").join(discover).is_file(),
        "{discover} does not find the example fleet"
    );
    let generate = &plugin["spec"]["generate"];
    assert_eq!(generate["command"], serde_json::json!(["sh", "-c"]));
    let script = generate["args"][0].as_str().unwrap();
    assert!(script.contains("plinth render . "), "{script}");
    let flags = render_flags();
    assert!(flags.contains(&"--stdout".to_owned()), "{flags:?}");
    for word in script.split_whitespace().filter(|w| w.starts_with("--")) {
        assert!(
            flags.iter().any(|f| f == word),
            "the plugin passes `{word}`, which `plinth render` does not accept ({flags:?})"
        );
    }

    // The command as the sidecar runs it (in the Application's folder, with the env the
    // Application sets) prints exactly what `plinth render --stdout` prints.
    let bin = Path::new(env!("CARGO_BIN_EXE_plinth")).parent().unwrap();
    let search_path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let repo = example_without_output();
    let run = |cluster: Option<&str>| {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg(script)
            .current_dir(repo.path())
            .env("PATH", &search_path)
            .env("NO_COLOR", "1")
            .env_remove("ARGOCD_ENV_CLUSTER");
        if let Some(c) = cluster {
            cmd.env("ARGOCD_ENV_CLUSTER", c);
        }
        cmd.output().unwrap()
    };
    let via_plugin = run(Some("edge-hci"));
    assert_eq!(via_plugin.status.code(), Some(0), "{}", stderr(&via_plugin));
    let direct = render_stdout(repo.path(), "edge-hci");
    assert!(!direct.stdout.is_empty());
    assert_eq!(via_plugin.stdout, direct.stdout);
    let unset = run(None);
    assert_ne!(unset.status.code(), Some(0));
    assert!(unset.stdout.is_empty());
    assert!(
        stderr(&unset).contains("plugin env CLUSTER"),
        "{}",
        stderr(&unset)
    );

    // The component mounts that plugin.yaml into the sidecar, which runs Argo CD's cmp-server
    // as user 999 with the volumes Argo CD expects.
    let component = the(&docs, "kustomization.yaml");
    assert_eq!(component["kind"], "Component");
    let generator = &component["configMapGenerator"][0];
    assert_eq!(generator["files"], serde_json::json!(["plugin.yaml"]));
    assert_eq!(generator["options"]["disableNameSuffixHash"], true);
    assert_eq!(component["patches"][0]["path"], "repo-server-patch.yaml");
    let patch = the(&docs, "repo-server-patch.yaml");
    assert_eq!(patch["metadata"]["name"], "argocd-repo-server");
    let pod = &patch["spec"]["template"]["spec"];
    let sidecar = &pod["containers"][0];
    assert_eq!(
        sidecar["command"],
        serde_json::json!(["/var/run/argocd/argocd-cmp-server"])
    );
    assert_eq!(sidecar["securityContext"]["runAsNonRoot"], true);
    assert_eq!(sidecar["securityContext"]["runAsUser"], 999);
    let mounts: Vec<(&str, &str)> = sidecar["volumeMounts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["name"].as_str().unwrap(),
                m["mountPath"].as_str().unwrap(),
            )
        })
        .collect();
    let config = generator["name"].as_str().unwrap();
    for wanted in [
        ("var-files", "/var/run/argocd"),
        ("plugins", "/home/argocd/cmp-server/plugins"),
        (config, "/home/argocd/cmp-server/config/plugin.yaml"),
    ] {
        assert!(mounts.contains(&wanted), "{wanted:?} not in {mounts:?}");
    }
    let tmp = mounts.iter().find(|(_, at)| *at == "/tmp").unwrap().0;
    let volumes = pod["volumes"].as_array().unwrap();
    let volume = |name: &str| volumes.iter().find(|v| v["name"] == name).unwrap();
    assert_eq!(volume(config)["configMap"]["name"], config);
    assert!(volume(tmp)["emptyDir"].is_object());

    // The examples name the plugin and pass the cluster as the env CLUSTER.
    let app = the(&docs, "examples/application.yaml");
    assert_eq!(app["kind"], "Application");
    let set = the(&docs, "examples/applicationset.yaml");
    assert_eq!(set["kind"], "ApplicationSet");
    for source in [
        &app["spec"]["source"],
        &set["spec"]["template"]["spec"]["source"],
    ] {
        assert_eq!(source["plugin"]["name"], plugin_name);
        let env = source["plugin"]["env"].as_array().unwrap();
        assert!(env.iter().any(|e| e["name"] == "CLUSTER"), "{env:?}");
        assert_eq!(source["path"], ".");
    }
    assert_eq!(
        app["spec"]["source"]["plugin"]["env"][0]["value"], "edge-hci",
        "the Application renders an example cluster"
    );
}

#[test]
fn the_argocd_component_builds_over_an_argocd_installation() {
    if kubectl().is_none() {
        println!("skipped: kubectl is not installed, so the Argo CD component was not built");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join("ci/argocd"), &dir.path().join("plinth"));
    fs_err::write(
        dir.path().join("kustomization.yaml"),
        "resources:\n- repo-server.yaml\ncomponents:\n- plinth\n",
    )
    .unwrap();
    // The parts of Argo CD's own repo-server Deployment the patch relies on.
    fs_err::write(
        dir.path().join("repo-server.yaml"),
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: argocd-repo-server\nspec:\n  \
         template:\n    spec:\n      containers:\n      - name: argocd-repo-server\n        \
         image: quay.io/argoproj/argocd\n      volumes:\n      - name: var-files\n        \
         emptyDir: {}\n      - name: plugins\n        emptyDir: {}\n",
    )
    .unwrap();
    let built = Command::new("kubectl")
        .arg("kustomize")
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", stderr(&built));
    let docs = yaml::from_str_multi(&stdout(&built)).unwrap();
    let config = docs.iter().find(|d| d["kind"] == "ConfigMap").unwrap();
    assert_eq!(
        config["data"]["plugin.yaml"].as_str().unwrap(),
        fs_err::read_to_string(workspace().join("ci/argocd/plugin.yaml")).unwrap()
    );
    let deployment = docs.iter().find(|d| d["kind"] == "Deployment").unwrap();
    let pod = &deployment["spec"]["template"]["spec"];
    let named = |list: &Value| -> BTreeSet<String> {
        serde_json::from_value::<Vec<Value>>(list.clone())
            .unwrap()
            .into_iter()
            .filter_map(|item| item["name"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(
        named(&pod["containers"]),
        BTreeSet::from(["plinth".to_owned(), "argocd-repo-server".to_owned()])
    );
    let volumes = named(&pod["volumes"]);
    let wanted = [
        "var-files",
        "plugins",
        "plinth-cmp-plugin",
        "plinth-cmp-tmp",
    ];
    for name in wanted {
        assert!(volumes.contains(name), "{name} not in {volumes:?}");
    }
}
