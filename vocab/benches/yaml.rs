//! Benchmark: reading YAML objects with serde-saphyr alone and with the fast reader in front
//! of it, on the example fleet's rendered objects (what plinth writes) and live snapshot (what
//! `kubectl get -o yaml` returns), with `serde_json` on the same objects as a yardstick. Prints
//! microseconds per object; times nothing it asserts.
//!
//! `cargo bench -p plinth-vocab --bench yaml [-- SECONDS]`

#![allow(clippy::print_stdout, reason = "a benchmark prints its figures")]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use plinth_vocab::yaml::{self, fast};
use serde_json::Value;

/// The allocator of the `plinth` binary, so the figures are the binary's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// The texts of one corpus: one entry per file, with the number of objects it holds.
struct Corpus {
    name: &'static str,
    texts: Vec<String>,
    objects: usize,
    bytes: usize,
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs_err::read_dir(dir)
        .expect("example folder")
        .map(|e| e.expect("folder entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml") {
            out.push(path);
        }
    }
}

/// Objects in a document: the items of a `List`, else the document itself.
fn objects(doc: &Value) -> usize {
    match doc.get("items").and_then(Value::as_array) {
        Some(items) if doc["kind"].as_str().is_some_and(|k| k.ends_with("List")) => items.len(),
        _ => 1,
    }
}

fn corpus(name: &'static str, dir: &str) -> Corpus {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    let mut texts = Vec::new();
    let mut count = 0;
    for file in files {
        let text = fs_err::read_to_string(&file).expect("example file");
        let docs = yaml::from_str_multi_saphyr(&text).expect("example YAML");
        assert_eq!(
            fast::documents(&text).map(|d| d.into_iter().filter(|d| !d.is_null()).collect()),
            Some(docs.clone()),
            "the fast reader must read `{}` as serde-saphyr does",
            file.display()
        );
        count += docs.iter().map(objects).sum::<usize>();
        texts.push(text);
    }
    let bytes = texts.iter().map(String::len).sum();
    Corpus {
        name,
        texts,
        objects: count,
        bytes,
    }
}

/// Microseconds per object of `parse` over the corpus, best of rounds lasting `budget` in all.
fn time(corpus: &Corpus, budget: Duration, parse: impl Fn(&str) -> usize) -> f64 {
    let started = Instant::now();
    let mut best = f64::INFINITY;
    while started.elapsed() < budget || best.is_infinite() {
        let round = Instant::now();
        let mut seen = 0;
        for text in &corpus.texts {
            seen += parse(black_box(text));
        }
        black_box(seen);
        best = best.min(round.elapsed().as_secs_f64());
    }
    // Object counts are small: the conversion is exact.
    best * 1e6 / f64::from(u32::try_from(corpus.objects).unwrap_or(u32::MAX))
}

fn main() {
    let seconds: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(2.0);
    let budget = Duration::from_secs_f64(seconds);
    println!(
        "{:<34} {:>8} {:>9} {:>13} {:>11} {:>11} {:>9}",
        "corpus", "objects", "bytes/obj", "serde-saphyr", "fast", "fast+fall", "json"
    );
    for corpus in [
        corpus(
            "rendered (examples/fleet/rendered)",
            "examples/fleet/rendered",
        ),
        corpus("live (examples/fleet/live)", "examples/fleet/live"),
    ] {
        let json: Vec<String> = corpus
            .texts
            .iter()
            .flat_map(|t| yaml::from_str_multi_saphyr(t).expect("example YAML"))
            .map(|doc| serde_json::to_string(&doc).expect("JSON"))
            .collect();
        let json = Corpus {
            name: corpus.name,
            texts: json,
            objects: corpus.objects,
            bytes: 0,
        };
        let saphyr = time(&corpus, budget, |t| {
            yaml::from_str_multi_saphyr(t).map_or(0, |d| d.len())
        });
        let fast = time(&corpus, budget, |t| {
            fast::documents(t).map_or(0, |d| d.len())
        });
        let multi = time(&corpus, budget, |t| {
            yaml::from_str_multi(t).map_or(0, |d| d.len())
        });
        let json = time(&json, budget, |t| {
            usize::from(serde_json::from_str::<Value>(t).is_ok())
        });
        println!(
            "{:<34} {:>8} {:>9} {:>10.1} µs {:>8.1} µs {:>8.1} µs {:>6.1} µs",
            corpus.name,
            corpus.objects,
            corpus.bytes / corpus.objects,
            saphyr,
            fast,
            multi,
            json,
        );
    }
}
