//! Bounded YAML reading and deterministic YAML writing on top of serde-saphyr.
//!
//! Reading: alias expansion, nesting depth and document counts are bounded so a hostile file
//! cannot blow up memory; errors carry line and column but never a snippet of the source (the
//! source may hold secrets). Numbers with a leading zero are read as YAML 1.1 octal, as
//! kubectl reads them, so `mode: 0644` means 420 here as it does there.
//!
//! Reading goes through [`fast`] first, which takes the plain block YAML that kubectl and
//! plinth write at a fraction of serde-saphyr's cost and gives up on anything else; serde-saphyr
//! then reads the text as before, so values, errors and limits are serde-saphyr's either way.

pub mod fast;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::problem::location_suffix;
use crate::quoted::hide_values;

/// A YAML text that could not be read: where (file, line, column) and what, never a snippet
/// of the source; a quoted value in the message shows as `<value>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{path}`{}: {}", location_suffix(*.line, *.column), hide_values(message, ""))]
pub struct YamlError {
    /// The file (or other origin) the text came from, as named in the message.
    pub path: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    /// What is wrong, as the YAML reader says it.
    pub message: String,
}

type Result<T, E = YamlError> = std::result::Result<T, E>;

/// Nesting depth, aliases and documents plinth reads in one YAML file; see [`options`].
const MAX_DEPTH: usize = 200;
const MAX_ALIASES: usize = 10_000;
const MAX_DOCUMENTS: usize = 100_000;
const BASE_NODES: usize = 250_000;
const BASE_EVENTS: usize = 1_000_000;
const MAX_REPLAYED_EVENTS: usize = 1_000_000;
/// Scalar text (decoded bytes of every scalar) read beyond the text's own size: serde-saphyr's
/// default of 64 MiB, which alone refused any snapshot holding more than 64 MiB of scalars.
const BASE_SCALAR_BYTES: usize = 64 << 20;

/// Why the limits cannot be raised, said once in every limit message.
const FIXED: &str = "the limit guards against alias bombs and is fixed";

/// Options for reading a text of `len` bytes. Nodes, events, documents and scalar text are bounded by the text's size
/// (a node takes at least a byte without aliases, which are bounded on their own), so a large
/// `kubectl get -o yaml` list of thousands of objects reads while an alias bomb does not.
fn options(len: usize) -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options.legacy_octal_numbers = true;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    budget.max_aliases = MAX_ALIASES;
    budget.max_documents = MAX_DOCUMENTS.saturating_add(len / 16);
    budget.max_nodes = BASE_NODES.saturating_add(len);
    budget.max_events = BASE_EVENTS.saturating_add(len.saturating_mul(3));
    budget.max_total_scalar_bytes = scalar_bytes(len);
    options.budget = Some(budget);
    options.alias_limits.max_total_replayed_events = MAX_REPLAYED_EVENTS;
    options
}

/// The scalar bytes read in a text of `len` bytes: a scalar's decoded text is never longer
/// than its source, so without aliases no text reaches this; the text aliases replay counts
/// against the same budget, so the fixed base bounds what they can add.
pub(crate) fn scalar_bytes(len: usize) -> usize {
    BASE_SCALAR_BYTES.saturating_add(len)
}

/// A plain sentence for a reading limit serde-saphyr reports, or `None` for other errors.
/// serde-saphyr's own text for these is its internal debug form (`Nodes { nodes: 250703 }`).
fn limit_message(err: &serde_saphyr::Error) -> Option<String> {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    let message = match err {
        E::AliasError { error, .. } | E::WithSnippet { error, .. } => return limit_message(error),
        E::Budget { breach, .. } => match breach {
            B::Aliases { .. } => format!(
                "uses more than {MAX_ALIASES} YAML aliases (`*name`), the most plinth reads in one file; {FIXED}: write the repeated parts out or split the file"
            ),
            B::Nodes { .. } => format!(
                "expands to more YAML nodes than plinth reads in one file ({BASE_NODES} plus one per byte of the file), most likely through aliases (`*name`); {FIXED}: write the repeated parts out or split the file"
            ),
            B::Events { .. } => format!(
                "expands to more YAML parser events than plinth reads in one file ({BASE_EVENTS} plus three per byte of the file), most likely through aliases (`*name`); {FIXED}: write the repeated parts out or split the file"
            ),
            B::Depth { .. } => format!(
                "nests mappings and lists more than {MAX_DEPTH} levels deep, the most plinth reads; the limit guards against stack exhaustion and is fixed"
            ),
            B::Documents { .. } => format!(
                "holds more YAML documents than plinth reads in one file ({MAX_DOCUMENTS} plus one per 16 bytes of the file); split the file"
            ),
            B::Anchors { .. }
            | B::AliasAnchorRatio { .. }
            | B::MergeKeys { .. }
            | B::RecordedAnchorEvents { .. }
            | B::RecordedAnchorBytes { .. } => format!(
                "uses more YAML anchors, aliases or merge keys (`&name`, `*name`, `<<`) than plinth reads in one file; {FIXED}: write the repeated parts out or split the file"
            ),
            B::ScalarBytes { .. } => format!(
                "expands to more scalar text than plinth reads in one file ({} MiB plus one byte per byte of the file), which only aliases (`*name`) can do; {FIXED}: write the repeated parts out",
                BASE_SCALAR_BYTES >> 20
            ),
            _ => "is larger or more deeply structured than plinth reads in one YAML file; the limit is fixed: split the file".to_owned(),
        },
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. } => format!(
            "expands YAML aliases (`*name`) to more than {MAX_REPLAYED_EVENTS} events, the most plinth reads in one file; {FIXED}: write the repeated parts out or split the file"
        ),
        _ => return None,
    };
    Some(message)
}

/// serde-saphyr's error as one line: `message at line L, column C` when located (the form
/// [`located`] splits), never a snippet of the source.
fn message(err: &serde_saphyr::Error) -> String {
    if let Some(message) = limit_message(err) {
        return match err.location() {
            Some(at) if at.line() > 0 => {
                format!("{message} at line {}, column {}", at.line(), at.column())
            }
            _ => message,
        };
    }
    let text = err.to_string();
    let text = text.trim_start_matches("error: ");
    let line = text.lines().next().unwrap_or_default().trim();
    // serde-saphyr names its own option (`set DuplicateKeyPolicy in Options`): say it plainly.
    if let Some(at) = line.find("duplicate mapping key: ") {
        let rest = &line[at + "duplicate mapping key: ".len()..];
        let (key, tail) = rest
            .split_once(", set DuplicateKeyPolicy in Options if acceptable")
            .unwrap_or((rest, ""));
        return format!(
            "{}duplicate field `{key}` (a key may appear only once in a mapping){tail}",
            &line[..at]
        );
    }
    line.to_owned()
}

/// Splits serde-saphyr's `line 3 column 14: msg` / `msg at line 3, column 14` into parts.
fn located(message: &str) -> (Option<usize>, Option<usize>, String) {
    let num = |s: &str| s.trim().parse::<usize>().ok();
    if let Some(rest) = message.strip_prefix("line ")
        && let Some((pos, msg)) = rest.split_once(": ")
        && let Some((l, c)) = pos.split_once(" column ")
        && let (Some(l), Some(c)) = (num(l), num(c))
    {
        return (Some(l), Some(c), located(msg).2);
    }
    if let Some((msg, pos)) = message.rsplit_once(" at line ")
        && let Some((l, c)) = pos.split_once(", column ")
        && let (Some(l), Some(c)) = (num(l), num(c))
    {
        return (Some(l), Some(c), msg.to_owned());
    }
    (None, None, message.to_owned())
}

/// The located error for a YAML `message` (as [`from_str_multi`] returns it) about `origin`.
pub fn error(origin: &str, message: &str) -> YamlError {
    let (line, column, message) = located(message);
    YamlError {
        path: origin.to_owned(),
        line,
        column,
        message,
    }
}

/// Parses one YAML document of `origin` (a repository-relative name used in errors).
pub fn from_str<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    serde_saphyr::from_str_with_options(text, options(text.len()))
        .map_err(|err| error(origin, &message(&err)))
}

/// Parses one YAML document of `origin` into plain data: through the [`fast`] reader and
/// `serde_json` when the text is in its subset and `T` accepts the value, else exactly as
/// [`from_str`] (so errors keep serde-saphyr's line and column).
///
/// For types whose fields are plain data (strings, numbers, maps, `serde_json::Value`, serde
/// derives). Not for types with `serde_saphyr::Spanned` fields, whose spans only serde-saphyr
/// can give; use [`from_str`] for those.
pub fn from_str_data<T: DeserializeOwned>(text: &str, origin: &str) -> Result<T> {
    if let Some(mut docs) = fast::documents(text)
        && docs.len() == 1
        && let Some(doc) = docs.pop().filter(|d| !d.is_null())
        && let Ok(value) = serde_json::from_value(doc)
    {
        return Ok(value);
    }
    from_str(text, origin)
}

/// Parses every document of a multi-document YAML text; empty documents are dropped.
pub fn from_str_multi(text: &str) -> std::result::Result<Vec<Value>, String> {
    match fast::documents(text) {
        Some(docs) => Ok(docs.into_iter().filter(|d| !d.is_null()).collect()),
        None => from_str_multi_saphyr(text),
    }
}

/// [`from_str_multi`], with every item of the sequence under a document's root `items` key (a
/// `kind: List`) replaced by `items(item)`; through the fast reader, each as soon as it is
/// read, so that a large list is never held as one tree.
pub fn from_str_multi_mapping_items(
    text: &str,
    items: fast::ItemMap<'_>,
) -> std::result::Result<Vec<Value>, String> {
    let docs = match fast::documents_mapping_items(text, items) {
        Some(docs) => docs,
        None => from_str_multi_saphyr(text)?
            .into_iter()
            .map(|doc| fast::map_root_items(Some(items), doc))
            .collect(),
    };
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// [`from_str_multi`] without the fast reader: serde-saphyr alone. The reference the fast
/// reader is tested and measured against.
pub fn from_str_multi_saphyr(text: &str) -> std::result::Result<Vec<Value>, String> {
    let docs: Vec<Value> = serde_saphyr::from_str_multiple_with_options(text, options(text.len()))
        .map_err(|err| message(&err))?;
    Ok(docs.into_iter().filter(|d| !d.is_null()).collect())
}

/// Writes a value as YAML: keys sorted (maps are `BTreeMap`s), block style, two-space indent,
/// strings quoted whenever YAML 1.1 or 1.2 would read them as anything but a string.
pub fn to_string(value: &Value) -> String {
    // Long one-line strings (PromQL, file names) stay on one line rather than being folded;
    // multi-line strings still use literal block style.
    let options = serde_saphyr::ser_options! { folded_wrap_chars: usize::MAX / 2 };
    let mut out = serde_saphyr::to_string_with_options(value, options).unwrap_or_else(|err| {
        // serde_json values always serialise; this is unreachable in practice.
        format!("# plinth could not serialise this object: {err}\n")
    });
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::fmt::Write as _;

    /// Every item of a document's root `items` is mapped, whoever reads the text (the fast
    /// reader as it goes, in a block or flow sequence or JSON; serde-saphyr once it has read an
    /// anchor), and nothing else is: not the items of a nested `items`, not a root sequence.
    #[test]
    fn the_items_of_a_list_are_mapped_as_read() {
        let count = |item: Value| json!(item.to_string().len());
        let block = "apiVersion: v1\nkind: List\nitems:\n- a: 1\n  items: [p, q]\n- b\n---\n- c\n";
        let expected = vec![
            json!({"apiVersion": "v1", "kind": "List", "items": [25, 3]}),
            json!(["c"]),
        ];
        assert!(fast::documents_mapping_items(block, &count).is_some());
        assert_eq!(
            from_str_multi_mapping_items(block, &count).unwrap(),
            expected
        );
        let flow = "kind: List\nitems: [{a: 1, items: [p, q]}, b]\n---\n- c\n";
        let expected = vec![json!({"kind": "List", "items": [25, 3]}), json!(["c"])];
        assert_eq!(
            from_str_multi_mapping_items(flow, &count).unwrap(),
            expected
        );
        let json = r#"{"kind": "List", "items": [{"a": 1, "items": ["p", "q"]}, "b"]}"#;
        assert_eq!(
            from_str_multi_mapping_items(json, &count).unwrap(),
            [json!({"kind": "List", "items": [25, 3]})]
        );
        // An anchor: the fast reader bails, serde-saphyr reads it, the items are mapped after.
        let anchored = "kind: List\nitems:\n- &one {a: 1, items: [p, q]}\n- b\n";
        assert!(fast::documents_mapping_items(anchored, &count).is_none());
        assert_eq!(
            from_str_multi_mapping_items(anchored, &count).unwrap(),
            [json!({"kind": "List", "items": [25, 3]})]
        );
        // Without a list, the same as `from_str_multi`.
        let plain = "a: {items: [1]}\nitems: 2\n";
        assert_eq!(
            from_str_multi_mapping_items(plain, &count).unwrap(),
            from_str_multi(plain).unwrap()
        );
    }

    /// A duplicate key is named plainly and located, without serde-saphyr's option names.
    #[test]
    fn duplicate_keys_are_reported_plainly() {
        let err = from_str::<Value>("a: 1\nparams: {x: 1, x: 2}\n", "c.yaml")
            .unwrap_err()
            .to_string();
        assert!(!err.contains("DuplicateKeyPolicy"), "{err}");
        assert!(err.contains("duplicate field `x`"), "{err}");
        assert!(err.contains("line 2"), "{err}");
    }

    #[test]
    fn ambiguous_strings_stay_strings_on_a_round_trip() {
        let v = json!({"a": "true", "b": "yes", "c": "0755", "d": "1", "e": "", "f": "null", "g": "a: b"});
        let text = to_string(&v);
        let back: Value = from_str(&text, "x").unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn long_lines_are_not_folded_and_multi_line_strings_are_literal() {
        let long = "x ".repeat(100);
        let v = json!({"a": long, "b": "line 1\nline 2\n"});
        let text = to_string(&v);
        assert!(
            text.contains(&format!("a: {}", long.trim_end())) || text.contains("a: \""),
            "{text}"
        );
        assert!(text.contains("b: |\n"), "{text}");
        let back: Value = from_str(&text, "x").unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn octal_numbers_read_as_kubectl_reads_them() {
        let v: Value = from_str("mode: 0644\n", "x").unwrap();
        assert_eq!(v["mode"], json!(420));
    }

    #[test]
    fn errors_name_the_line_and_hide_the_source() {
        let err = from_str::<Value>("a: 1\nb: [\n  secret: hunter2\n", "f.yaml").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("`f.yaml`"), "{text}");
        assert!(text.contains("line 2"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            let _ = writeln!(
                bomb,
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]"
            );
        }
        let text = from_str::<Value>(&bomb, "bomb.yaml")
            .unwrap_err()
            .to_string();
        assert_eq!(
            text,
            "`bomb.yaml` line 6 column 15: expands to more YAML nodes than plinth reads in one file (250000 plus one per byte of the file), most likely through aliases (`*name`); the limit guards against alias bombs and is fixed: write the repeated parts out or split the file"
        );
        let multi = from_str_multi(&bomb).unwrap_err();
        assert_eq!(error("bomb.yaml", &multi).to_string(), text);
    }

    /// Scalar text is bounded by the text's size, not fixed: a 200 MiB file may hold 200 MiB
    /// of scalars, while what aliases add stays bounded (see [`alias_bombs_are_refused`]).
    #[test]
    fn the_scalar_budget_grows_with_the_text() {
        for len in [0, 1 << 20, 200 << 20] {
            let budget = options(len).budget.expect("a budget");
            assert_eq!(budget.max_total_scalar_bytes, scalar_bytes(len));
            assert!(budget.max_total_scalar_bytes >= len + (64 << 20), "{len}");
        }
    }

    /// A `kubectl get -o yaml` List holding more than 64 MiB of scalar text (serde-saphyr's
    /// fixed default, which refused it) reads whole.
    #[test]
    fn a_list_over_64_mib_of_scalars_reads() {
        let value = "x".repeat(1 << 20);
        let mut text = String::from("apiVersion: v1\nkind: List\nitems:\n");
        for i in 0..65 {
            let _ = writeln!(
                text,
                "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{i}\n  data:\n    v: {value}"
            );
        }
        // Through serde-saphyr, whose budget this is (the fast reader takes this text too).
        let docs = from_str_multi_saphyr(&text).expect("reads");
        let items = docs[0]["items"].as_array().expect("items");
        assert_eq!(items.len(), 65);
        assert_eq!(items[64]["data"]["v"].as_str().map(str::len), Some(1 << 20));
        assert_eq!(from_str_multi(&text).expect("reads"), docs);
    }

    /// What aliases replay counts against the scalar budget: a large anchor repeated past it is
    /// refused with a sentence that names aliases.
    #[test]
    fn aliases_past_the_scalar_budget_are_refused_by_name() {
        let big = "x".repeat(1 << 20);
        let text = format!(
            "a: &a {big}\nb: [{}]\n",
            vec!["*a"; (BASE_SCALAR_BYTES >> 20) + 8].join(", ")
        );
        let err = from_str_multi_saphyr(&text).expect_err("refused");
        assert!(
            err.contains("more scalar text than plinth reads") && err.contains("aliases"),
            "{err}"
        );
    }

    #[test]
    fn reading_limits_are_plain_located_sentences() {
        let many = format!("a: &a x\nb: [{}]\n", vec!["*a"; MAX_ALIASES + 1].join(", "));
        let documents = "a: 1\n---\n".repeat(MAX_DOCUMENTS * 3);
        let messages = vec![
            from_str::<Value>(&many, "f.yaml").unwrap_err().to_string(),
            error("f.yaml", &from_str_multi(&documents).unwrap_err()).to_string(),
        ];
        insta::assert_snapshot!(messages.join("\n"));
        for m in &messages {
            assert!(m.starts_with("`f.yaml` line "), "{m}");
            assert!(!m.contains('{') && !m.contains("budget"), "{m}");
        }
    }
}
