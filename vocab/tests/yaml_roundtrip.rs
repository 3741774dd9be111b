//! Property tests of the YAML layer and of determinism: whatever value plinth writes reads
//! back as the same value (strings that look like booleans, numbers or nulls stay strings),
//! and materialising the same render twice gives the same bytes.

#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::format_push_string)]

use plinth_vocab::yaml;
use proptest::prelude::*;
use serde_json::{Map, Value};

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        // Strings that YAML 1.1 or 1.2 would read as something else, plus arbitrary text.
        prop::sample::select(vec![
            "true",
            "yes",
            "no",
            "on",
            "off",
            "y",
            "n",
            "~",
            "null",
            "",
            "0755",
            "1e3",
            "0x1F",
            "1.0",
            "-",
            "- a",
            "a: b",
            "#x",
            "*ref",
            "&a",
            "!tag",
            "'q'",
            "\"dq\"",
            "@x",
            "`x",
            "2026-11-22",
            "12:30",
            ".inf",
            "NaN",
            " lead",
            "trail ",
            "multi\nline\n",
            "tab\tx",
        ])
        .prop_map(|s| Value::String(s.to_owned())),
        "\\PC{0,40}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z0-9./_-]{1,12}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn what_plinth_writes_reads_back_unchanged(v in value()) {
        let text = yaml::to_string(&v);
        let back: Value = yaml::from_str(&text, "generated.yaml")
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&back, &v, "{}", text);
        // Writing is a function of the value only.
        prop_assert_eq!(yaml::to_string(&back), text);
    }
}
