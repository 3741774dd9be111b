//! Resource limits of template rendering: the bytes a template may produce are bounded while
//! it renders (`limits.maxFileBytes`), and fuel, output-limit and missing-include errors name
//! the asset, the template file and the line.

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;

use plinth_renderer::{Fleet, RenderError};

use crate::common::repo;

const CATALOG: &str = "assets:
  - name: loop
    path: loop.yaml.j2
    install: always
    reconcile_order: 0
";

const CLUSTER: &str = "name: c1\n";

/// Renders cluster `c1` of a repository whose only asset is the template `template`, with
/// `plinth.yaml` `settings`; `extra` adds files beside the catalog.
fn render(settings: &str, template: &str, extra: &[(&str, &str)]) -> Result<usize, RenderError> {
    let mut files = vec![
        ("plinth.yaml", settings),
        ("assets/metadata.yaml", CATALOG),
        ("assets/loop.yaml.j2", template),
        ("clusters/c1/cluster.yaml", CLUSTER),
    ];
    files.extend_from_slice(extra);
    let fleet = Fleet::open(repo(&files))?;
    fleet.render_cluster("c1").map(|r| r.objects.len())
}

fn error(settings: &str, template: &str, extra: &[(&str, &str)]) -> String {
    render(settings, template, extra).unwrap_err().to_string()
}

fn run(settings: &str, template: &str) -> String {
    error(settings, template, &[])
}

/// Asserts that rendering fails with a message beginning with `prefix`.
fn fails_with(settings: &str, template: &str, extra: &[(&str, &str)], prefix: &str) {
    let m = error(settings, template, extra);
    assert!(m.starts_with(prefix), "{m}");
}

const SMALL: &str = "limits:\n  maxFileBytes: 1000\n";

fn too_large(message: &str, path: &str, line: usize) {
    assert!(
        message.starts_with(&format!(
            "asset `loop`: template `{path}` line {line}: output is larger than the limit of 1000 bytes"
        )),
        "{message}"
    );
    assert!(message.contains("`limits.maxFileBytes`"), "{message}");
}

/// Asserts that `template`, as the looping asset under the small limit, is refused at `line`.
fn too_large_in_loop(template: &str, line: usize) {
    too_large(&run(SMALL, template), "assets/loop.yaml.j2", line);
}

#[test]
fn a_loop_of_expressions_stops_at_the_output_limit_with_its_line() {
    too_large_in_loop(
        "a: 1\n{% for i in range(100000) %}\nx{{ i }}: {{ 'x' * 100 }}\n{% endfor %}\n",
        3,
    );
}

#[test]
fn a_loop_of_template_text_stops_at_the_output_limit_with_its_line() {
    too_large_in_loop(
        "a: 1\n{% for i in range(100000) %}\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\n{% endfor %}\n",
        3,
    );
}

#[test]
fn one_huge_expression_is_refused_before_it_is_written() {
    // 100 MB from one expression, far below the fuel: the limit, not the fuel, stops it.
    too_large_in_loop("a: 1\nb: {{ 'x' * 100000000 }}\n", 2);
}

#[test]
fn output_captured_by_a_set_block_counts_against_the_limit() {
    too_large_in_loop(
        "a: 1\n{% set s %}{% for i in range(100000) %}{{ 'x' * 100 }}{% endfor %}{% endset %}\nb: 2\n",
        2,
    );
}

#[test]
fn an_included_template_past_the_limit_is_named_with_its_line() {
    let m = error(
        SMALL,
        "a: 1\n{% include 'inc.j2' %}\n",
        &[(
            "assets/inc.j2",
            "b: 2\n\n{% for i in range(1000) %}\nc{{ i }}: {{ 'y' * 50 }}\n{% endfor %}\n",
        )],
    );
    too_large(&m, "assets/inc.j2", 4);
}

#[test]
fn output_up_to_the_limit_renders() {
    // Exactly at the limit is allowed; one byte more is not.
    let head = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  k: ";
    let fill = 1000 - head.len() - 1;
    let template = format!("{head}{{{{ 'x' * {fill} }}}}\n");
    assert_eq!(render(SMALL, &template, &[]).unwrap(), 1);
    let template = format!("{head}{{{{ 'x' * {} }}}}\n", fill + 1);
    too_large(&run(SMALL, &template), "assets/loop.yaml.j2", 6);
}

#[test]
fn the_default_limit_is_the_file_limit() {
    // 4 MiB by default: 5 MB of output is refused, well under the default fuel.
    let m = run(
        "",
        "a: 1\n{% for i in range(50) %}\nb{{ i }}: {{ 'x' * 100000 }}\n{% endfor %}\n",
    );
    assert!(
        m.contains("line 3: output is larger than the limit of 4194304 bytes"),
        "{m}"
    );
}

#[test]
fn fuel_exhaustion_names_the_template_line() {
    fails_with(
        "limits:\n  templateFuel: 1000\n",
        "a: 1\n{% for i in range(100000) %}\nx{{ i }}: {{ i }}\n{% endfor %}\n",
        &[],
        "template `assets/loop.yaml.j2` line 3: ran out of fuel after 1000",
    );
}

#[test]
fn fuel_exhaustion_in_an_include_names_the_included_template() {
    fails_with(
        "limits:\n  templateFuel: 1000\n",
        "a: 1\n{% include 'inc.j2' %}\n",
        &[(
            "assets/inc.j2",
            "b: 2\n{% for i in range(100000) %}\nc{{ i }}: {{ i }}\n{% endfor %}\n",
        )],
        "template `assets/inc.j2` line 3: ran out of fuel",
    );
}

#[test]
fn a_missing_include_names_the_including_template_and_line() {
    fails_with(
        "",
        "a: 1\n\n{% include 'nope.j2' %}\n",
        &[],
        "template `assets/loop.yaml.j2` line 3: `include 'nope.j2'` names a template that does not exist",
    );
}

#[test]
fn a_missing_include_inside_an_include_names_the_inner_template() {
    fails_with(
        "",
        "a: 1\n{% include 'inc.j2' %}\n",
        &[("assets/inc.j2", "b: 2\n\n{% include 'deeper.j2' %}\n")],
        "template `assets/inc.j2` line 3: `include 'deeper.j2'` names a template",
    );
}

#[test]
fn a_missing_include_named_by_a_parameter_does_not_quote_the_value() {
    let files = [
        ("plinth.yaml", ""),
        ("assets/metadata.yaml", CATALOG),
        ("assets/loop.yaml.j2", "a: 1\n{% include params.which %}\n"),
        (
            "clusters/c1/cluster.yaml",
            "name: c1\nparams:\n  which: hunter2-secret-name\n",
        ),
    ];
    let m = Fleet::open(repo(&files))
        .unwrap()
        .render_cluster("c1")
        .unwrap_err()
        .to_string();
    assert!(
        m.contains("line 2: `include params.which` names a template"),
        "{m}"
    );
    assert!(!m.contains("hunter2"), "{m}");
}

#[test]
fn a_text_of_many_documents_stays_with_the_fast_reader() {
    // One template rendering 100,000 objects used to exceed the fast reader's fixed limit of
    // 50,000 documents and go to serde-saphyr, ten times slower per object: the limit now
    // grows with the text.
    let mut text = String::new();
    for i in 0..120_000 {
        let _ = write!(
            text,
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c{i}\n"
        );
    }
    let docs = plinth_vocab::yaml::fast::documents(&text).expect("read by the fast reader");
    assert_eq!(docs.len(), 120_000);
    assert_eq!(docs[119_999]["metadata"]["name"], "c119999");
}
