//! String filters and methods that multiply their input (`replace`, `join`, `indent`,
//! `format`, `tojson`, `str.format`) are refused, with the template's line, before their
//! result passes the output limit: they must not abort the process on allocation failure.

use crate::common::one_asset_fleet;

fn render_error(expr: &str) -> String {
    let template = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: a, namespace: b}}\ndata: {{v: \"{{{{ {expr} }}}}\"}}\n"
    );
    let fleet = one_asset_fleet("boom", &template, &["c1"]);
    fleet
        .render_cluster("c1")
        .expect_err("the render stops at the limit")
        .to_string()
}

#[test]
fn multiplying_filters_stop_at_the_output_limit_with_the_line() {
    for expr in [
        // 100,000 copies of a 100 MB separator: 10 TB.
        r#"range(100000)|join("x" * 100000000)"#,
        // Each of 100 million characters replaced by 60: 6 GB.
        r#"("x" * 100000000)|replace("x", "y" * 60)"#,
        // An empty pattern matches between every two characters.
        r#"("x" * 10000000)|replace("", "y" * 60)"#,
        // Ten million lines, each indented by 1,000 spaces: 10 GB.
        r#"("x\n" * 10000000)|indent(1000)"#,
        r#"("x\n" * 10000000)|indent(width=1000)"#,
        // A printf width of two billion.
        r#""%2000000000s"|format("a")"#,
        r#""%.5s%-1999999999.3d"|format("a", 1)"#,
        // Python-style `str.format` widths and precisions.
        r#""{:>2000000000}".format("a")"#,
        r#""{0:.1999999999}{1}".format("a", 2)"#,
        // JSON indented by two billion spaces a level.
        "[1, 2]|tojson(indent=2000000000)",
        "[1, 2]|tojson(2000000000)",
    ] {
        let err = render_error(expr);
        assert!(
            err.contains("boom.yaml.j2") && err.contains("line 4") && err.contains("limit"),
            "{expr}: {err}"
        );
    }
}

#[test]
fn bounded_filters_keep_their_results() {
    let fleet = one_asset_fleet(
        "boom",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: b}\ndata:\n  m: \"{{ [1, 2, 3]|map('string')|join(',') }}\"\n  r: \"{{ 'abc'|replace('b', 'xx') }}\"\n  a: \"{{ [{'k': 1}, {'k': 2}]|join('-', attribute='k') }}\"\n  f: \"{{ '%-5.3s|%05d'|format('abcdef', 42) }}\"\n  i: {{ ('a\\nb'|indent(width=2, first=true))|tojson }}\n  p: \"{{ '{:>5}|{}|{n}'.format('ab', 3, n='x') }}\"\n  j: {{ ({'k': [1]}|tojson(indent=4))|tojson }}\n",
        &["c1"],
    );
    let rendered = fleet.render_cluster("c1").unwrap();
    let data = &rendered.objects[0].value["data"];
    assert_eq!(data["m"], "1,2,3");
    assert_eq!(data["r"], "axxc");
    assert_eq!(data["a"], "1-2");
    assert_eq!(data["f"], "abc  |00042");
    assert_eq!(data["i"], "  a\n  b");
    assert_eq!(data["p"], "   ab|3|x");
    assert_eq!(data["j"], "{\n    \"k\": [\n        1\n    ]\n}");
}
