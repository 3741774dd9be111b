//! Benchmark: `plinth apply` of a generated platform repository (20 kinds × 10 namespaces,
//! 10,000 objects by default) against the fake API server with 2 ms latency per request,
//! through the real kube-rs client. The repository's single asset fans out to every object;
//! it is rendered into `rendered/bench/` (with its `plinth-index.json`), applied once without
//! latency so the fake holds the objects as plinth applied them, and then measured: a no-op
//! apply (zero writes) and an apply after 1% of the objects were edited by `kubectl-edit`
//! (each drifted object costs a dry-run, the apply — which carries the gate's annotation —
//! and a `DriftCorrected` Event: two writes). Prints
//! requests by kind, writes and wall time per phase; not a timed test.
//!
//! `cargo bench -p plinth-apply --bench apply [-- OBJECTS]` (OBJECTS is rounded down to a
//! multiple of 200, at least 200).

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use plinth_apply::outcome::{ApplyReport, Outcome};
use plinth_apply::run::{self, ApplyRequest};
use plinth_drift::engine::Notice;
use plinth_renderer::engine::{RenderRequest, RenderResult};
use plinth_renderer::fsops::Fs;
use plinth_testkit::{FakeApiServer, LoggedRequest, Scenario};

#[path = "../tests/support/mod.rs"]
mod support;

/// The allocator of the `plinth` binary, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const CLUSTER: &str = "bench";
const NAMESPACES: usize = 10;
/// The made-up custom kinds (`Kind000000`...) the fake serves besides the four core kinds.
const CUSTOM_KINDS: usize = 16;
const CUSTOM_API: &str = "bench.plinth.dev/v1";
const LATENCY: Duration = Duration::from_millis(2);
/// 2026-01-01T00:00:00Z.
const EPOCH: i64 = 1_767_225_600;

/// The 20 kinds: `(apiVersion, kind, body after metadata)`; every object carries the label
/// `tier: gold` that the drift edits.
fn kinds() -> Vec<(String, String, &'static str)> {
    let mut kinds = vec![
        (
            "v1".to_owned(),
            "ConfigMap".to_owned(),
            "data:\n  mode: fast\n  retries: \"3\"\n",
        ),
        ("v1".to_owned(), "ServiceAccount".to_owned(), ""),
        (
            "v1".to_owned(),
            "Service".to_owned(),
            "spec:\n  selector:\n    app: a{{ j }}\n  ports:\n    - port: 80\n      targetPort: 8080\n",
        ),
        (
            "apps/v1".to_owned(),
            "Deployment".to_owned(),
            "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: a{{ j }}\n  template:\n    metadata:\n      labels:\n        app: a{{ j }}\n    spec:\n      containers:\n        - name: main\n          image: registry.example/app:{{ j }}\n",
        ),
    ];
    kinds.extend((0..CUSTOM_KINDS).map(|i| {
        (
            CUSTOM_API.to_owned(),
            format!("Kind{i:06}"),
            "spec:\n  size: {{ j }}\n  mode: fast\n",
        )
    }));
    kinds
}

/// The one template: per kind, `per` objects in each of the namespaces.
fn template(per: usize) -> String {
    let mut t = String::new();
    for (api_version, kind, body) in kinds() {
        let lower = kind.to_lowercase();
        let _ = write!(
            t,
            "{{% for ns in range({NAMESPACES}) %}}{{% for j in range({per}) %}}\n---\n\
             apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {lower}-{{{{ j }}}}\n  \
             namespace: bench-{{{{ ns }}}}\n  labels:\n    tier: gold\n{body}{{% endfor %}}{{% endfor %}}\n"
        );
    }
    t
}

/// Writes the repository (settings, catalog, template, cluster) and renders it into
/// `rendered/bench/`; the number of objects rendered.
fn repository(root: &Path, per: usize) -> usize {
    let write = |rel: &str, text: &str| {
        let path = root.join(rel);
        fs_err::create_dir_all(path.parent().expect("a parent")).expect("folder");
        fs_err::write(path, text).expect("write");
    };
    write(
        "plinth.yaml",
        "paths:\n  catalog: assets/metadata.yaml\n  output: rendered\nlimits:\n  templateFuel: 1000000000\n",
    );
    write(
        "assets/metadata.yaml",
        "assets:\n  - name: workloads\n    path: workloads.yaml.j2\n    phase: 0\n    install: always\n    reconcile_order: 0\n",
    );
    write("assets/workloads.yaml.j2", &template(per));
    write(
        &format!("clusters/{CLUSTER}/cluster.yaml"),
        &format!("name: {CLUSTER}\n"),
    );
    let fleet = plinth_drift::engine::open_cluster(root, CLUSTER).expect("the repository");
    let out_root = fleet
        .settings
        .output_root(root, None, &[])
        .expect("the output root");
    let selection = fleet.select(&[], None).expect("the selection");
    let fs = Fs::real();
    let request = RenderRequest {
        out_root: &out_root,
        selection: &selection,
        check: false,
        explain: false,
        force: true,
        schemas: None,
    };
    let run = plinth_renderer::engine::render(&fleet, &request, &fs).expect("the render");
    let RenderResult::Staged(staged) = run.result else {
        panic!("a write render stages its folders");
    };
    staged.commit(&[]).expect("the commit");
    run.objects
}

/// An apply of the bench cluster. A field `kubectl-edit` changed is owned by it: taking it
/// back needs `force`, as `plinth apply --force-conflicts` does (without it the drifted
/// objects are conflicts).
fn request(root: &Path, server: &FakeApiServer, now: i64) -> ApplyRequest {
    ApplyRequest {
        force_conflicts: true,
        reporting_instance: "bench".into(),
        ..support::request_for(server, root, CLUSTER, now)
    }
}

/// One measured run: the report, the wall time, and the moments the engine's notices came
/// (from the start of the run).
struct Measured {
    report: ApplyReport,
    secs: f64,
    notices: Vec<(f64, String)>,
}

fn apply(request: &ApplyRequest) -> Measured {
    let notices = RefCell::new(Vec::new());
    let t0 = Instant::now();
    let notify = |n: Notice| {
        let text = match n {
            Notice::Status(t) | Notice::Detail(t) | Notice::Warning(t) => t,
            Notice::Progress(_) => return,
        };
        notices
            .borrow_mut()
            .push((t0.elapsed().as_secs_f64(), text));
    };
    let report = run::run(request, &notify).expect("the apply runs").report;
    Measured {
        report,
        secs: t0.elapsed().as_secs_f64(),
        notices: notices.into_inner(),
    }
}

/// What a request was, for the table.
fn class(r: &LoggedRequest) -> &'static str {
    let dry = r.query.contains_key("dryRun");
    match r.method.as_str() {
        _ if r.is_discovery() => "discovery",
        "GET" if r.query.contains_key("limit") || r.query.contains_key("continue") => {
            if r.path.contains("/namespaces/") {
                "LIST page, one namespace"
            } else {
                "LIST page, all namespaces"
            }
        }
        "GET" => "GET",
        "PATCH" if dry => "apply dry-run",
        "PATCH" if r.query.get("fieldManager").map(String::as_str) == Some("plinth") => "apply",
        "PATCH" => "gate annotation",
        "POST" => "Event",
        _ => "other",
    }
}

/// Counts, writes (dry-runs left out) and the table rows of one measured run.
fn summary(server: &FakeApiServer) -> (usize, usize, BTreeMap<&'static str, usize>) {
    let log = server.request_log();
    let mut by_class = BTreeMap::new();
    for r in &log {
        *by_class.entry(class(r)).or_insert(0) += 1;
    }
    let writes = server.writes().iter().filter(|w| !w.dry_run).count();
    (log.len(), writes, by_class)
}

fn count(report: &ApplyReport, outcome: Outcome) -> usize {
    report
        .objects
        .iter()
        .filter(|o| o.outcome == outcome)
        .count()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let wanted: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(10_000);
    let per = (wanted / (NAMESPACES * kinds().len())).max(1);
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();

    let t = Instant::now();
    let n = repository(root, per);
    let t_render = t.elapsed().as_secs_f64();

    let scenario = Scenario::new()
        .serve_events()
        .serve_many(CUSTOM_API, CUSTOM_KINDS);
    let server = FakeApiServer::start(scenario).expect("the fake API server");

    // The first apply creates everything (no latency: it only sets the stage).
    let t = Instant::now();
    let first = apply(&request(root, &server, EPOCH));
    let t_first = t.elapsed().as_secs_f64();
    assert_eq!(
        count(&first.report, Outcome::Created),
        n,
        "every object created"
    );
    server.set_latency(LATENCY);

    // (a) nothing drifted.
    server.clear_log();
    server.clear_writes();
    let noop = apply(&request(root, &server, EPOCH + 600));
    let (noop_requests, noop_writes, noop_by) = summary(&server);
    assert_eq!(noop_writes, 0, "a no-op apply writes nothing");
    assert_eq!(count(&noop.report, Outcome::Unchanged), n);

    // (b) 1% drifted: every 100th object (in kind, namespace, name order) edited by hand.
    let mut drifted = 0;
    let mut i = 0;
    for (api_version, kind, _) in kinds() {
        let lower = kind.to_lowercase();
        for ns in 0..NAMESPACES {
            for j in 0..per {
                i += 1;
                if (i - 1) % 100 != 0 {
                    continue;
                }
                assert!(server.edit_as(
                    "kubectl-edit",
                    &api_version,
                    &kind,
                    Some(&format!("bench-{ns}")),
                    &format!("{lower}-{j}"),
                    |o| o["metadata"]["labels"]["tier"] = "silver".into(),
                ));
                drifted += 1;
            }
        }
    }
    server.clear_log();
    server.clear_writes();
    let fix = apply(&request(root, &server, EPOCH + 1200));
    let (fix_requests, fix_writes, fix_by) = summary(&server);
    assert_eq!(count(&fix.report, Outcome::Configured), drifted);
    assert_eq!(
        fix_writes,
        2 * drifted,
        "each drifted object: its apply (carrying the gate's state), its `DriftCorrected` Event"
    );

    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "apply benchmark: {n} objects, {} kinds x {NAMESPACES} namespaces, fake API server with {} ms per request",
        kinds().len(),
        LATENCY.as_millis()
    );
    let _ = writeln!(
        out,
        "  render the repository        {t_render:>8.3} s\n  first apply (no latency)     {t_first:>8.3} s  ({n} created)"
    );
    let _ = writeln!(out, "  {:<28} {:>10} {:>10}", "", "no-op", "1% drifted");
    let _ = writeln!(out, "  {:<28} {:>10} {:>10}", "drifted objects", 0, drifted);
    let _ = writeln!(
        out,
        "  {:<28} {:>10} {:>10}",
        "requests", noop_requests, fix_requests
    );
    let mut classes: Vec<&str> = noop_by.keys().chain(fix_by.keys()).copied().collect();
    classes.sort_unstable();
    classes.dedup();
    for c in classes {
        let _ = writeln!(
            out,
            "    {:<26} {:>10} {:>10}",
            c,
            noop_by.get(c).unwrap_or(&0),
            fix_by.get(c).unwrap_or(&0)
        );
    }
    let _ = writeln!(
        out,
        "  {:<28} {:>10} {:>10}",
        "writes (no dry-runs)", noop_writes, fix_writes
    );
    let _ = writeln!(
        out,
        "  {:<28} {:>9.3}s {:>9.3}s",
        "wall time", noop.secs, fix.secs
    );
    for (name, m) in [("no-op", &noop), ("1% drifted", &fix)] {
        let _ = writeln!(
            out,
            "  {name}: when the engine said what (s from the start)"
        );
        for (at, text) in &m.notices {
            let _ = writeln!(out, "    {at:>8.3}  {text}");
        }
    }
}
