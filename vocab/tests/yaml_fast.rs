//! The fast YAML reader against serde-saphyr: whenever the fast reader answers, its answer is
//! serde-saphyr's (random values as plinth writes them, mutated YAML texts, a table of tricky
//! scalars and layouts, every YAML file of the repository and of the shared specs), and it does
//! answer for what plinth writes and for kubectl-style snapshots.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::path::{Path, PathBuf};

use plinth_vocab::yaml::{self, fast};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value};

/// Checks the fast reader's answer for `text` against serde-saphyr; returns whether it answered.
fn agrees(text: &str) -> Result<bool, String> {
    let Some(docs) = fast::documents(text) else {
        return Ok(false);
    };
    let kept: Vec<Value> = docs.iter().filter(|d| !d.is_null()).cloned().collect();
    match yaml::from_str_multi_saphyr(text) {
        Ok(reference) if reference == kept => {}
        Ok(reference) => {
            return Err(format!(
                "fast reader differs from serde-saphyr\n--- text\n{text}\n--- fast\n{kept:?}\n--- serde-saphyr\n{reference:?}"
            ));
        }
        Err(err) => {
            return Err(format!(
                "fast reader answered where serde-saphyr fails ({err})\n--- text\n{text}\n--- fast\n{kept:?}"
            ));
        }
    }
    // `from_str_data` takes a single document straight from the fast reader.
    if let [doc] = docs.as_slice()
        && !doc.is_null()
    {
        match yaml::from_str::<Value>(text, "t.yaml") {
            Ok(single) if &single == doc => {}
            other => {
                return Err(format!(
                    "single document differs\n--- text\n{text}\n--- fast\n{doc:?}\n--- serde-saphyr\n{other:?}"
                ));
            }
        }
    }
    Ok(true)
}

fn check(text: &str) -> Result<bool, TestCaseError> {
    agrees(text).map_err(TestCaseError::fail)
}

// ---- random values, as plinth writes them ------------------------------------------------

/// Pieces of nasty strings: YAML indicators, spellings of other types, white space, unicode.
const NASTY: &[&str] = &[
    "a",
    "Z",
    "k8s",
    "0",
    "1",
    "9",
    ".",
    "-",
    "_",
    "/",
    ":",
    ": ",
    " #",
    "#",
    "'",
    "\"",
    "\\",
    "\n",
    " ",
    "  ",
    "\t",
    "é",
    "😀",
    "yes",
    "no",
    "on",
    "Off",
    "y",
    "~",
    "null",
    "true",
    "0644",
    "09",
    "0x1F",
    "1e3",
    "1.5",
    "-1",
    "+1",
    "1_000",
    ".inf",
    "12:30",
    "2026-11-22",
    "- ",
    "? ",
    "[",
    "]",
    "{",
    "}",
    ",",
    "&a",
    "*a",
    "!t",
    "|",
    ">",
    "%",
    "@",
    "`",
    "<<",
    "---",
    "...",
    "\u{85}",
    "\u{a0}",
    "\u{2028}",
    "\u{feff}",
    "\r",
    "\u{1}",
    "\u{7f}",
];

fn nasty_string() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(NASTY), 0..6).prop_map(|parts| parts.concat())
}

/// Strings as Kubernetes objects hold them: names, images, quantities, paths, scripts.
fn common_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-zA-Z0-9.-]{0,15}",
        "[a-z][a-z0-9-]{0,8}(\\.[a-z0-9-]{1,8}){0,3}/[a-z][a-z0-9-]{0,8}",
        "[1-9][0-9]{0,3}(m|Mi|Gi|Ki|%|s|h0m0s)",
        "[0-9]{1,3}(\\.[0-9]{1,3}){3}(/[0-9]{1,2})?",
        prop::sample::select(vec![
            "nginx:1.25",
            "registry.example.com/team/app@sha256:0a1b2c",
            "ReadWriteOnce",
            "node-role.kubernetes.io/worker",
            "yes",
            "no",
            "true",
            "0644",
            "0755",
            "1",
            "1.0",
            "",
            "~",
            "null",
            "a: b",
            "x #y",
            " lead",
            "trail ",
            "it's",
            "say \"hi\"",
            "#!/bin/sh",
            "- item",
            "[a]",
            "{a}",
            "*",
            "&",
            "!",
            "%",
            "@",
            "`",
            "100m",
            "2Gi",
            "10.0.0.1",
            "0.0.0.0",
            "1.2.3",
            "v1",
            "apps/v1",
            "3f2a1b",
            "1e3",
            "12:30",
            "2026-11-22",
            "tab\tx",
            "é😀",
            "a\u{85}b",
        ])
        .prop_map(str::to_owned),
        // Multi-line text: scripts, certificates, configuration files.
        prop::collection::vec(
            prop::sample::select(vec![
                "echo hi",
                "  indented",
                "# comment",
                "- item",
                "key: v",
                "",
                " ",
                "x ",
                "\t",
            ]),
            1..6
        )
        .prop_flat_map(|lines| {
            (
                Just(lines.join("\n")),
                prop::sample::select(vec!["", "\n", "\n\n"]),
            )
                .prop_map(|(body, end)| format!("{body}{end}"))
        }),
    ]
}

fn common_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z][a-zA-Z0-9]{0,10}",
        1 => "[a-z][a-z0-9-]{0,6}\\.[a-z]{1,6}/[a-z][a-z-]{0,8}",
        1 => prop::sample::select(vec!["y", "n", "on", "yes", "true", "1", "0644", "-", "a b", "a: b", "#x", "é"])
            .prop_map(str::to_owned),
    ]
}

fn scalar(strings: BoxedStrategy<String>) -> impl Strategy<Value = Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => prop::num::f64::NORMAL.prop_map(Value::from),
        1 => Just(Value::from(0.5)),
        6 => strings.prop_map(Value::String),
    ]
}

fn value(
    strings: BoxedStrategy<String>,
    keys: BoxedStrategy<String>,
) -> impl Strategy<Value = Value> {
    scalar(strings).prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map(keys.clone(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    /// Kubernetes-like objects, written as plinth writes them: the fast reader always answers,
    /// with the object written.
    #[test]
    fn what_plinth_writes_is_read_fast(
        fields in prop::collection::btree_map(
            common_key(),
            value(common_string().boxed(), common_key().boxed()),
            1..8,
        ),
    ) {
        let v = Value::Object(fields.into_iter().collect());
        let text = yaml::to_string(&v);
        prop_assert!(check(&text)?, "fast reader bailed on what plinth writes:\n{}", text);
        prop_assert_eq!(fast::documents(&text).unwrap(), vec![v]);
    }

    /// Nasty values, written as plinth writes them: whenever the fast reader answers, it agrees.
    #[test]
    fn nasty_values_read_the_same(v in value(nasty_string().boxed(), nasty_string().boxed())) {
        let text = yaml::to_string(&v);
        check(&text)?;
    }

    /// Mutated YAML texts: whenever the fast reader answers, serde-saphyr reads the same values,
    /// and where serde-saphyr fails the fast reader does not answer.
    #[test]
    fn mutated_texts_read_the_same(
        base in prop::sample::select(BASES),
        edits in prop::collection::vec((0..6u8, any::<Index>(), any::<Index>(), prop::sample::select(SNIPPETS)), 1..4),
    ) {
        let mut text = base.to_owned();
        for (kind, line, col, snippet) in edits {
            text = mutate(&text, kind, line, col, snippet);
        }
        check(&text)?;
    }
}

/// Hand-written documents in the shapes the fast reader takes, to be mutated.
const BASES: &[&str] = &[
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n    app: web\n    tier: \"1\"\ndata:\n  key: value\n  script: |\n    #!/bin/sh\n    echo hi\n\n    exit 0\n  empty:\n",
    "spec:\n  containers:\n  - name: app\n    image: nginx:1.25\n    args:\n    - --port=8080\n    - -v\n    resources:\n      limits: {}\n      requests:\n        cpu: 100m\n        memory: 2Gi\n  volumes: []\n",
    "a:\n  - - x\n    - y\n  - - z\n  -\n  - k: v\n    l: w\nb: 'it''s'\nc: \"tab\\tq\\\"\"\n",
    "# leading comment\n---\na: 1\nb: -2\nc: 0644\nd: 1.5\ne: yes\nf: ~\n...\n---\n- x # trailing\n- 'y'\n---\n",
    "x: |2-\n    lead\n  next\nw: |+\n  keep\n\nz: |-\n  strip\n   \n",
    "list:\n- a: 1\n  b:\n  - c\n  - d\n- e: {\"f\": [1, 2, {\"g\": null}], \"h\": true}\nmap:\n  k: [\"a\", \"b\"]\n",
    "  indented: root\n  other: 2\n",
    "metadata:\n  annotations:\n    description: The node is close to running out of swap. Once swap is\n      exhausted the kernel OOM killer stops VMs.\n\n      Lower the overcommit.\n    message: 'virt-handler runs on this node: VMs cannot be\n      scheduled there, it''s\n      off.'\n    last-applied: |\n      {\"apiVersion\":\"v1\"}\nstatus:\n  conditions:\n  - lastTransitionTime: \"2026-10-01T08:20:00Z\"\n    status: \"True\"\n    reason: \"a \\\"b\\\"\n      c\"\n",
    "{\"apiVersion\": \"v1\", \"kind\": \"List\", \"items\": [{\"a\": 1}, {\"b\": [true, false, null]}]}\n",
];

/// Snippets inserted by mutations: what the fast reader must refuse or resolve exactly.
const SNIPPETS: &[&str] = &[
    "&a ",
    "*a",
    "!tag ",
    "!!str ",
    "<<: *a",
    "<<: {}",
    "\t",
    "? ",
    "> ",
    ">-",
    "[a, b]",
    "{a: 1}",
    "[1, 2]",
    "{\"a\": 1, \"a\": 2}",
    "[1.5]",
    "[-0]",
    "key: dup",
    "a: 1",
    "0x1F",
    "1_000",
    "+1",
    ".inf",
    "-.inf",
    ".nan",
    "-0",
    "09",
    "0644",
    "1e400",
    "1e3",
    "18446744073709551616",
    "-9223372036854775809",
    "y",
    "N",
    "Off",
    "~",
    "null",
    "NULL",
    "nULL",
    "",
    " ",
    "  ",
    "---",
    "...",
    "#",
    " #",
    "#c",
    "|",
    "|-",
    "|+",
    "|2",
    "|1-",
    "|9",
    "- ",
    "-",
    ": ",
    ":",
    "'",
    "''",
    "\"",
    "\\",
    "\\x",
    "\"\\u00e9\"",
    "\"\\ud83d\\ude00\"",
    "%YAML 1.2",
    "\n",
    "\n  ",
    "\n- ",
    "\n  - ",
    "é",
    "\u{a0}",
    "\u{85}",
    "@",
    "`",
    ",",
    "]",
    "}",
    "{",
    "[",
];

fn char_floor(s: &str, mut at: usize) -> usize {
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// Applies one edit of kind `kind` to line `line` (column `col`) of `text`.
fn mutate(text: &str, kind: u8, line: Index, col: Index, snippet: &str) -> String {
    let mut lines: Vec<String> = text.split('\n').map(str::to_owned).collect();
    let i = line.index(lines.len());
    let current = lines[i].clone();
    let at = char_floor(&current, col.index(current.len() + 1));
    match kind {
        // Insert the snippet.
        0 => lines[i] = format!("{}{snippet}{}", &current[..at], &current[at..]),
        // Shift the indentation.
        1 => {
            lines[i] = match current.strip_prefix(' ') {
                Some(rest) if at.is_multiple_of(2) => rest.to_owned(),
                _ => format!(" {current}"),
            }
        }
        // Replace the value after `: ` (or the entry after `- `).
        2 => {
            if let Some(pos) = current.find(": ").or_else(|| current.find("- ")) {
                lines[i] = format!("{}{snippet}", &current[..pos + 2]);
            }
        }
        // Duplicate the line: duplicate keys, repeated entries.
        3 => lines.insert(i, current),
        // Drop the line.
        4 => {
            lines.remove(i);
        }
        // Replace the line with the snippet at the line's indentation.
        _ => {
            let indent = current.len() - current.trim_start_matches(' ').len();
            lines[i] = format!("{}{snippet}", " ".repeat(indent));
        }
    }
    lines.join("\n")
}

// ---- a table of tricky scalars and layouts -----------------------------------------------

/// The spellings manifests use most: each is read fast, never left to serde-saphyr.
const COMMON_SPELLINGS: &[&str] = &[
    "nginx",
    "v1",
    "2Gi",
    "100m",
    "10.0.0.1",
    "0.0.0.0",
    "1.2.3",
    "node-role.kubernetes.io/worker",
    "ReadWriteOnce",
    "3f2a1b",
    "2026-11-22T08:00:00Z",
    "0",
    "42",
    "-7",
    "0644",
    "1.5",
    "yes",
    "no",
    "true",
    "false",
    "~",
    "null",
    "'0644'",
    "\"true\"",
    "\"\"",
    "[]",
    "{}",
    "[\"a\", 1]",
];

/// Scalars in value position: each is read fast as serde-saphyr reads it, or left to it.
/// ([`COMMON_SPELLINGS`] are tried with them.)
const SCALARS: &[&str] = &[
    "c1.4",
    "1e",
    "1e3",
    "1E3",
    "1.e3",
    ".5",
    "-.5",
    "1.",
    "-1.5",
    "0.5",
    "00.5",
    "00",
    "000",
    "-0",
    "+0",
    "07",
    "08",
    "0644.5",
    "01_0",
    "0_7",
    "0x1F",
    "0X1f",
    "0o17",
    "0b101",
    "0x",
    "1_000",
    "1__0",
    "_1",
    "1_",
    "-1",
    "+1",
    "-+1",
    "+-1",
    "--1",
    "-",
    "+",
    ".",
    "..",
    "...",
    "----",
    "12:30",
    "1:2:3",
    "2026-11-22",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "-9223372036854775808",
    "-9223372036854775809",
    "99999999999999999999999999999999999999999",
    "1e308",
    "1e309",
    "-1e309",
    ".inf",
    ".Inf",
    ".INF",
    "-.inf",
    "+.inf",
    ".nan",
    ".NaN",
    "inf",
    "-inf",
    "+inf",
    "nan",
    "NaN",
    "infinity",
    "Infinity",
    "y",
    "Y",
    "n",
    "N",
    "Yes",
    "YES",
    "yEs",
    "NO",
    "on",
    "On",
    "ON",
    "off",
    "OFF",
    "True",
    "TRUE",
    "tRUE",
    "FALSE",
    "Null",
    "NULL",
    "nULL",
    "none",
    "None",
    "'single'",
    "'it''s'",
    "''",
    "\"a\\tb\"",
    "\"\\x41\\u00e9\"",
    "\"\\U0001F600\"",
    "\"\\ud83d\\ude00\"",
    "\"\\N\\_\\L\\P\"",
    "\"\\e\\0\\a\\v\\f\\r\\ \\/\"",
    "\"\\q\"",
    "\"a\" b",
    "'a' b",
    "a #b",
    "a#b",
    "a # b # c",
    "a:b",
    "a: b",
    "a:",
    "a ,b",
    "a]",
    "a}",
    "a[0]",
    "a{b}",
    "é",
    "\u{a0}x",
    "x\u{a0}",
    "-x",
    "--flag=1",
    "-#",
    "?x",
    ":x",
    "!x",
    "&x",
    "*x",
    "%x",
    "@x",
    "`x",
    "|x",
    ">x",
    "<<",
    "[ ]",
    "{ }",
    "[] # c",
    "[1, 2]",
    "[\"a\", 1, true, null]",
    "{\"a\": 1}",
    "{\"a\":1}",
    "{\"a\": 1, \"a\": 2}",
    "{\"a\": 1.5}",
    "[-0]",
    "[18446744073709551616]",
    "[\"\\ud83d\\ude00\"]",
    "[\"\\uD83D\\uDE00\"]",
    "[\"\\ud83d\"]",
    "[\"\\ude00\"]",
    "[\"\\ud83dx\"]",
    "[\"\\ud83d\\u0041\"]",
    "[a, b]",
    "{a: 1}",
];

/// Flow collections the fast reader cannot read (trailing or empty entries, an empty or
/// unspaced value, a mapping in a sequence, a colon in a plain scalar): left to serde-saphyr.
/// ([`LAYOUTS`] are tried with them.)
const FLOW_LEFT_TO_SERDE_SAPHYR: &[&str] = &[
    "a: [x, y,]\n",
    "a: [x, , y]\n",
    "a: {x: }\n",
    "a: {x:y}\n",
    "a: [x: y]\n",
    "a: [docker://x]\n",
];

/// Layouts: each is read fast as serde-saphyr reads it, or left to it.
const LAYOUTS: &[&str] = &[
    // One-line flow collections as people write them by hand.
    "a: [x, y]\n",
    "a: [x,y]\n",
    "a: [ x , y ]\n",
    "a: [GPU, HostDevices]\n",
    "a: [1, -2, 0644, 1.5, yes, ~, null, '', \"q\"]\n",
    "a: {name: portal, version: \"1.9.9\", replicas: 4, memory: 768Mi}\n",
    "- {name: portal, tags: [a, b], empty: [], none: {}}\n- {name: b}\n",
    "a: {x: {k: [z]}} # comment\n",
    "a: {'k': v, \"k2\": w}\n",
    "a: [a b, c  d]\n",
    "a: {x: 1, x: 2}\n",
    "a: [x, [y, z]\n",
    "a: [x]# c\n",
    "a: [x] y\n",
    "a: [\tx]\n",
    "a: [x\t, y]\n",
    "a: {? x : y}\n",
    "a: [&a x, *a]\n",
    "a: [!t x]\n",
    "a: {y: 1, n: 2}\n",
    "a: {1: x}\n",
    "a: [-x, - y]\n",
    "a: [.5, .inf, -.5]\n",
    // Folded block scalars: the plain form is read here, the rest left to serde-saphyr.
    "a: >\n  x\n  y\n",
    "a: >-\n  x\n  y\n",
    "a: >+\n  x\n\n",
    "a: >+\n  x\n\n\nb: 1\n",
    "a: >\n  x\n\n  y\n",
    "a: >\n  x\n\n\n  y\n\nb: 1\n",
    "- >-\n  long text\n  more text\n- x\n",
    "a: >2-\n   x\n   y\n",
    "a: >\n  x\n   y\n  z\n",
    "a: >\n  x\n \n  y\n",
    "a: >\n  x\n    \n  y\n",
    "a: >\n\n  x\n",
    "a: >\n  x  \n  y\n",
    "a: >\n  x\n",
    "a: >\n",
    "a: >-\n\nb: 1\n",
    "groups:\n- rules:\n  - alert: X\n    annotations:\n      description: >-\n        Alert when {{ x }} is\n        above 90%.\n      summary: y\n",
    "",
    "\n",
    "# only a comment\n",
    "---\n",
    "---\n---\n",
    "...\n",
    "...\na: 1\n",
    "a: 1\n...\n",
    "a: 1\n...\nb: 2\n",
    "a: 1\n---\nb: 2\n",
    "--- # c\na: 1\n",
    "--- a\n",
    "---a: 1\n",
    "a: 1",
    "a:\n",
    "a:",
    "a:\nb:\n",
    "a:\n- x\n- y\nb: 1\n",
    "a:\n  - x\n  - y\nb: 1\n",
    "a:\n  - x\n  b: 1\n",
    "a:\n- x\n  - y\n",
    "- - x\n  - y\n- - z\n",
    "- - - x\n",
    "-\n- x\n-\n",
    "- \n  a: 1\n",
    "- a: 1\n  b: 2\n- c: 3\n",
    "- a: 1\n b: 2\n",
    "- a:\n  - x\n  b: 1\n",
    "- a:\n    b: 1\n",
    "-   a: 1\n    b: 2\n",
    "  a: 1\n  b: 2\n",
    "  a: 1\n b: 2\n",
    "a: 1\n  # c\nb: 2\n",
    "a: x\n  y\n",
    "a: x\n\n  y\n",
    "a:\n  x\n",
    "a: 'x\n  y'\n",
    "a: \"x\n  y\"\n",
    "a: \"x\\\n  y\"\n",
    "a: 'x\n\n  y\n\n\n  z'\n",
    "a: 'x  \n  y  '\n",
    "a: '\n  y'\n",
    "a: 'x\n  # y'\n",
    "a: 'x\ny'\n",
    "a: 'x\n  y' z\n",
    "a: 'x\n  y': z\n",
    "- 'x\n  y'\n- z\n",
    "- 'x\n y'\n",
    "- 'x\n  y': 1\n",
    "a: \"x\n  \\ y\"\n",
    "a: \"x\\\\\n  y\"\n",
    "a: \"x\\n\n  y\"\n",
    "a: 'x\n  y\n",
    "a: 'x\n---\n  y'\n",
    "a: 'x\n\t y'\n",
    "a: x\n  y\n  z\nb: 1\n",
    "a: x\n\n  y\n\n\n  z\n",
    "a: x\n  y # c\nb: 1\n",
    "a: x\n  y # c\n  z\n",
    "a: x # c\n  y\n",
    "a: x\n  # c\n  y\n",
    "a: x\n  - y\n",
    "a: x\n  y: z\n",
    "a: x\n  &y\n",
    "a: 1\n  2\n",
    "a: true\n  x\n",
    "- x\n  y\n- z\n",
    "- a: x\n    y\n  b: 1\n",
    "- a: x\n   y\n",
    "a: |\n  \tx\n  y\n",
    "a: |\n  \t\n  y\n",
    "a: |\n \t\n  y\n",
    "a: |\n    \t\n",
    "a: 1\na: 2\n",
    "a: 1\n\"a\": 2\n",
    "a: 1\n'a': 2\n",
    "\"a\": 1\n",
    "\"a\" : 1\n",
    "'a b': 1\n",
    "a b: 1\n",
    "a : 1\n",
    "a:b: 1\n",
    "f:spec: {}\n",
    "a: b: c\n",
    "a: - b\n",
    "a: -\n",
    "? a\n: b\n",
    "<<: {a: 1}\n",
    "\"<<\": 1\n",
    "y: 1\n",
    "1: a\n",
    "~: a\n",
    "null: a\n",
    "true: a\n",
    "0644: a\n",
    "a\u{a0}: 1\n",
    "a: 1 # c\n",
    "a: 1 #c\n",
    "a: 1#c\n",
    "a: # c\n  b: 1\n",
    "a: |\n  x\n",
    "a: |\n  x",
    "a: |",
    "a: |+",
    "a: |+\n",
    "a: |+\n\n",
    "a: |+\n  x\n  ",
    "a: 'x\n  y'",
    "a: x\n  y",
    "- x",
    "- x\n  y",
    "a:\n- x",
    "---",
    "...",
    "a: |\n  x\n  y\n",
    "a: |-\n  x\n",
    "a: |+\n  x\n\n",
    "a: |+\n  x\n\n\n",
    "a: |+\n  x\n\n# c\n\nb: 1\n",
    "a: |+\n\nb: 1\n",
    "a: |+\n   \n\nb: 1\n",
    "a: |+\n",
    "a: |\nb: 1\n",
    "a: |\n\n  x\n\n",
    "a: |\n   \n  x\n",
    "a: |2\n   \n  x\n",
    "a: |2-\n    lead\n  x\n",
    "a: |-2\n    lead\n  x\n",
    "a: |4\n  x\n",
    "a: |1\n  x\n",
    "a: | # c\n  x\n",
    "a: |#c\n  x\n",
    "a: |x\n  x\n",
    "a: |\n  x\n y\n",
    "a: |\n    x\n  y\n",
    "a: |\n  x\n  # not a comment\n# a comment\nb: 1\n",
    "a: |\n  x\n---\nb: 1\n",
    "a: |\n  x\t\n  \ty\n",
    "a: |\n\t\n  x\n",
    "a: |\n  \tx\n",
    "a: |-\n  x\n   \n  \n",
    "- |\n  x\n- y\n",
    "- - |\n    x\n",
    "- a: |2\n     x\n",
    "a: >\n  x\n",
    "a: &x 1\nb: *x\n",
    "a: !!str 1\n",
    "a: !t 1\n",
    "%YAML 1.2\n---\na: 1\n",
    "a:\n\tb: 1\n",
    "a:\t1\n",
    "a: 1\t\n",
    "\ta: 1\n",
    "a: 1\r\nb: 2\r\n",
    "\u{feff}a: 1\n",
    "a: x\u{85}y\n",
    "a: [1,\n  2]\n",
    "{\"a\": 1}\n",
    "\n  {\"a\": [1, {\"b\": null}]}\n\n",
    "[1, 2]\n",
    "{\"a\"\n: 1}\n",
    "{\"a\": 1}\nb: 2\n",
    "[\"a\", 1.5]\n",
    "{\"a\": 1, \"a\": 2}\n",
    "{\"a\":\t1}\n",
    "[a]: 1\n",
    "{a: 1}\n",
    "x\n",
    "'x'\n",
    // A line between the indicator's and the content's indentation ends nothing: it is an
    // error, comment or not (found by the mutation property test).
    "x: |2-\n # next\nw: 1\n",
    "a: |\n    x\n  # c\nb: 1\n",
    "a: >\n    x\n  # c\nb: 1\n",
    "a: |\n  x\n# c\nb: 1\n",
];

#[test]
fn mutation_bases_are_read_fast() {
    for base in BASES {
        assert!(
            agrees(base).unwrap_or_else(|e| panic!("{e}")),
            "left to serde-saphyr: {base}"
        );
    }
}

#[test]
fn tricky_scalars_read_the_same() {
    let mut taken = 0;
    let scalars = || COMMON_SPELLINGS.iter().chain(SCALARS);
    for scalar in scalars() {
        for text in [
            format!("v: {scalar}\n"),
            format!("- {scalar}\n"),
            format!("{scalar}: v\n"),
        ] {
            taken += usize::from(agrees(&text).unwrap_or_else(|e| panic!("{e}")));
        }
    }
    // Most spellings are resolved, not left to serde-saphyr.
    assert!(
        taken > scalars().count(),
        "only {taken} of {} texts read fast",
        scalars().count() * 3
    );
}

#[test]
fn tricky_layouts_read_the_same() {
    for text in LAYOUTS.iter().chain(FLOW_LEFT_TO_SERDE_SAPHYR) {
        agrees(text).unwrap_or_else(|e| panic!("{e}"));
    }
}

#[test]
fn flow_collections_it_cannot_read_are_left_to_serde_saphyr() {
    for text in FLOW_LEFT_TO_SERDE_SAPHYR {
        assert_eq!(fast::documents(text), None, "{text:?}");
    }
}

#[test]
fn plain_folded_scalars_are_read_here() {
    // Prometheus rule descriptions and the like: `>` and `>-` with lines at one indentation.
    for text in LAYOUTS
        .iter()
        .filter(|t| t.contains(": >") || t.contains("- >"))
        .take(7)
    {
        assert!(
            agrees(text).unwrap_or_else(|e| panic!("{e}")),
            "left to serde-saphyr: {text:?}"
        );
    }
    assert!(agrees(LAYOUTS.iter().find(|t| t.contains("Alert when")).unwrap()).unwrap());
}

#[test]
fn hand_written_flow_collections_are_read_here() {
    // The shapes of hand-written cluster files: `featureGates: [GPU]`, `- {name: x, ...}`.
    for text in LAYOUTS.iter().take(10) {
        assert!(text.contains('[') || text.contains('{'), "{text:?}");
        assert!(
            agrees(text).unwrap_or_else(|e| panic!("{e}")),
            "left to serde-saphyr: {text:?}"
        );
    }
}

#[test]
fn common_spellings_are_resolved_not_left_to_serde_saphyr() {
    for scalar in COMMON_SPELLINGS {
        let text = format!("v: {scalar}\n");
        assert!(agrees(&text).unwrap(), "left to serde-saphyr: {text}");
    }
}

// ---- every YAML file at hand -------------------------------------------------------------

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if !matches!(name.as_str(), "target" | ".git" | "node_modules") {
                yaml_files(&path, out);
            }
        } else if [".yaml", ".yml", ".yaml.j2", ".yaml.tpl", ".yml.tpl"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            out.push(path);
        }
    }
}

/// Checks every file; returns the files the fast reader answered for.
fn check_corpus(files: &[PathBuf]) -> Vec<PathBuf> {
    let mut failures = Vec::new();
    let mut taken = Vec::new();
    for file in files {
        let Ok(text) = fs_err::read_to_string(file) else {
            continue;
        };
        match agrees(&text) {
            Ok(true) => taken.push(file.clone()),
            Ok(false) => {}
            Err(e) => failures.push(format!("{}: {e}", file.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    taken
}

#[test]
fn every_yaml_file_of_the_repository_reads_the_same() {
    let root = workspace();
    let mut files = Vec::new();
    yaml_files(&root, &mut files);
    assert!(files.len() > 50, "found only {} YAML files", files.len());
    let taken = check_corpus(&files);
    println!(
        "fast reader answered for {} of {} files",
        taken.len(),
        files.len()
    );

    // What plinth writes and what kubectl returns are always read fast.
    for dir in ["examples/fleet/rendered", "examples/fleet/live"] {
        let mut wanted = Vec::new();
        yaml_files(&root.join(dir), &mut wanted);
        assert!(!wanted.is_empty(), "no YAML files under `{dir}`");
        for file in wanted {
            assert!(
                taken.contains(&file),
                "fast reader bailed on `{}`",
                file.display()
            );
        }
    }
}

#[test]
fn the_shared_specs_read_the_same() {
    let specs = workspace().join("../shared/specs");
    if !specs.is_dir() {
        println!("skipped: no shared specs next to the workspace (`../shared/specs`)");
        return;
    }
    let mut files = Vec::new();
    yaml_files(&specs, &mut files);
    let taken = check_corpus(&files);
    println!(
        "fast reader answered for {} of {} spec files",
        taken.len(),
        files.len()
    );
}

#[test]
fn cluster_files_read_the_same_through_from_str_data() {
    let mut files = Vec::new();
    yaml_files(&workspace().join("examples/fleet/clusters"), &mut files);
    let clusters: Vec<_> = files
        .iter()
        .filter(|f| f.ends_with("cluster.yaml"))
        .collect();
    assert!(!clusters.is_empty());
    for file in clusters {
        let text = fs_err::read_to_string(file).unwrap();
        // Hand-written flow mappings such as `{cpu: 4, memory: 8Gi}` are not JSON: those files
        // are left to serde-saphyr.
        let taken = agrees(&text).unwrap();
        println!(
            "{}: fast reader {}",
            file.display(),
            if taken { "answered" } else { "bailed" }
        );
        let fast: Value = yaml::from_str_data(&text, "cluster.yaml").unwrap();
        let slow: Value = yaml::from_str(&text, "cluster.yaml").unwrap();
        assert_eq!(fast, slow);
    }
}

#[test]
fn from_str_data_falls_back_with_serde_saphyr_errors() {
    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Spec {
        name: String,
        replicas: u32,
    }
    // Fast, and accepted by the type.
    let spec: Spec = yaml::from_str_data("name: web\nreplicas: 3\n", "s.yaml").unwrap();
    assert_eq!(
        spec,
        Spec {
            name: "web".into(),
            replicas: 3
        }
    );
    // Fast, but a quoted number only serde-saphyr's typed path accepts for `u32`.
    let spec: Spec = yaml::from_str_data("name: web\nreplicas: '3'\n", "s.yaml").unwrap();
    assert_eq!(spec.replicas, 3);
    // A number where a string is wanted: serde-saphyr takes the text.
    let spec: Spec = yaml::from_str_data("name: 0644\nreplicas: 1\n", "s.yaml").unwrap();
    assert_eq!(spec.name, "0644");
    // Errors are serde-saphyr's, with line and column.
    let err = yaml::from_str_data::<Spec>("name: web\nreplicas: [\n", "s.yaml").unwrap_err();
    assert_eq!(
        err.to_string(),
        yaml::from_str::<Spec>("name: web\nreplicas: [\n", "s.yaml")
            .unwrap_err()
            .to_string()
    );
    let err = yaml::from_str_data::<Spec>("name: web\nreplicas: x\n", "s.yaml").unwrap_err();
    assert!(err.to_string().contains("line 2"), "{err}");
}

#[test]
fn budgets_are_left_to_serde_saphyr() {
    // Keys beyond the scanner's 1,024-character look-ahead.
    let long = "k".repeat(1100);
    for text in [
        format!("{long}: v\n"),
        format!("\"{long}\": v\n"),
        format!("- {long}: v\n"),
        format!("{{\"{long}\": 1}}\n"),
        format!("a: {{\"{long}\": 1}}\n"),
        format!("a: {long}\n"),
        format!("- \"{long}\"\n"),
    ] {
        agrees(&text).unwrap_or_else(|e| panic!("{e}"));
    }
    // Node and event budgets grow with the text: a `kubectl get -o yaml` list of 10,000
    // objects (about 800,000 nodes) reads on both paths, as the same value.
    let item = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c\n    namespace: n\n    labels: {}\n  data:\n    a: b\n    c: d\n";
    let list = format!(
        "apiVersion: v1\nkind: List\nitems:\n{}",
        item.repeat(10_000)
    );
    let fast = fast::documents(&list).expect("the fast reader takes a large list");
    assert_eq!(Ok(fast), yaml::from_str_multi_saphyr(&list));
    let many = "- x\n".repeat(260_000);
    assert!(yaml::from_str_multi_saphyr(&many).is_ok());
    agrees(&many).unwrap_or_else(|e| panic!("{e}"));
}

/// `levels` mappings, each the value of the one before.
fn nested(levels: usize) -> String {
    (0..levels).fold(String::new(), |mut text, level| {
        text.push_str(&"  ".repeat(level));
        text.push_str("a:\n");
        text
    })
}

#[test]
fn nesting_beyond_the_budget_is_left_to_serde_saphyr() {
    // serde-saphyr recurses per level: an unoptimised build needs more than a test thread's
    // 2 MiB of stack before it reaches plinth's depth budget of 200.
    let run = || {
        for levels in [120, 127, 128, 129, 199, 200, 201, 210] {
            agrees(&nested(levels)).unwrap_or_else(|e| panic!("{e}"));
            let json = format!("{}{}\n", "[".repeat(levels), "]".repeat(levels));
            agrees(&json).unwrap_or_else(|e| panic!("{e}"));
            let below = format!(
                "{}b: {}{}\n",
                nested(levels / 2),
                "[".repeat(levels / 2),
                "]".repeat(levels / 2)
            );
            agrees(&below).unwrap_or_else(|e| panic!("{e}"));
        }
        assert!(yaml::from_str_multi_saphyr(&nested(210)).is_err());
        // The fast reader's own limit fits a test thread's stack.
        assert!(fast::documents(&nested(127)).is_some());
    };
    let big_stack = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(run)
        .unwrap();
    big_stack.join().unwrap();
    std::thread::spawn(|| {
        assert!(fast::documents(&nested(127)).is_some());
    })
    .join()
    .unwrap();
}
