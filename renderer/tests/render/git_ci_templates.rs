//! The CI templates users copy (`ci/github/*.yml`, `ci/gitlab/*.yml`) parse as YAML and wire
//! the review loop: `plinth diff` on pull/merge requests, `plinth commit` and a push on the
//! main branch, `plinth drift` with its reports kept as artifacts on a schedule.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::Value;

fn templates(folder: &str) -> Vec<(PathBuf, Value)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../ci")
        .join(folder);
    let mut out = Vec::new();
    for entry in fs_err::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "yml" || e == "yaml") {
            let text = fs_err::read_to_string(&path).unwrap();
            let value: Value = serde_saphyr::from_str(&text)
                .unwrap_or_else(|e| panic!("{} is not valid YAML: {e}", path.display()));
            out.push((path, value));
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert!(!out.is_empty(), "no templates in {}", dir.display());
    out
}

/// Every `run`/`script` line of a job, joined.
fn commands(job: &Value) -> String {
    let mut text = String::new();
    if let Some(steps) = job["steps"].as_array() {
        for step in steps {
            for key in ["run", "uses"] {
                if let Some(s) = step[key].as_str() {
                    text.push_str(s);
                    text.push('\n');
                }
            }
            if let Some(s) = step["with"]["script"].as_str() {
                text.push_str(s);
            }
        }
    }
    if let Some(lines) = job["script"].as_array() {
        for line in lines {
            text.push_str(line.as_str().unwrap());
            text.push('\n');
        }
    }
    text
}

#[test]
fn github_workflow_wires_preview_hydration_and_drift() {
    for (path, wf) in templates("github") {
        let shown = path.display();
        let on = &wf["on"];
        assert!(
            on.get("pull_request").is_some(),
            "{shown}: no pull_request trigger"
        );
        assert_eq!(on["push"]["branches"][0], "main", "{shown}");
        assert!(on["schedule"][0]["cron"].is_string(), "{shown}");
        let jobs = wf["jobs"].as_object().unwrap();
        let preview = commands(&jobs["preview"]);
        assert!(preview.contains("plinth diff --base"), "{shown}");
        assert!(
            preview.contains("--format markdown --output-dir"),
            "{shown}"
        );
        assert!(
            preview.contains("updateComment") && preview.contains("createComment"),
            "{shown}"
        );
        assert!(preview.contains("<!-- plinth-preview part "), "{shown}");
        assert_eq!(jobs["preview"]["permissions"]["pull-requests"], "write");
        let hydrate = commands(&jobs["hydrate"]);
        assert!(hydrate.contains("plinth commit --branch"), "{shown}");
        assert!(hydrate.contains("git push origin"), "{shown}");
        assert_eq!(jobs["hydrate"]["permissions"]["contents"], "write");
        let drift = commands(&jobs["drift"]);
        assert!(drift.contains("plinth drift --cluster"), "{shown}");
        assert!(drift.contains("upload-artifact"), "{shown}");
        let entry = &jobs["drift"]["strategy"]["matrix"]["include"][0];
        assert!(
            entry["cluster"].is_string() && entry["kubeconfig_secret"].is_string(),
            "{shown}"
        );
        for job in jobs.values() {
            assert!(
                job["steps"][0]["uses"]
                    .as_str()
                    .unwrap()
                    .starts_with("actions/checkout@")
            );
        }
    }
}

#[test]
fn gitlab_pipeline_wires_preview_hydration_and_drift() {
    for (path, ci) in templates("gitlab") {
        let shown = path.display();
        let stages: Vec<&str> = ci["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        assert_eq!(stages, ["preview", "hydrate", "drift"], "{shown}");
        for job in ["preview", "hydrate", "drift"] {
            assert_eq!(ci[job]["extends"], ".plinth", "{shown}: {job}");
            assert_eq!(ci[job]["stage"], job, "{shown}");
            assert!(ci[job]["rules"][0]["if"].is_string(), "{shown}: {job}");
        }
        assert!(
            commands(&ci["preview"]).contains("plinth diff --base"),
            "{shown}"
        );
        assert!(
            commands(&ci["preview"]).contains("<!-- plinth-preview part "),
            "{shown}"
        );
        let hydrate = commands(&ci["hydrate"]);
        assert!(hydrate.contains("plinth commit --branch") && hydrate.contains("git push origin"));
        assert!(
            commands(&ci["drift"]).contains("plinth drift --cluster"),
            "{shown}"
        );
        assert_eq!(ci["drift"]["artifacts"]["when"], "always", "{shown}");
        assert_eq!(ci["drift"]["allow_failure"]["exit_codes"][0], 1, "{shown}");
    }
}
