//! Quoted values in messages from libraries (the template engine, a filter, the YAML reader,
//! JSON patches): a quoted span may be a credential taken from an input, so it stays only when
//! it is provably not a value (template source text, a field name, what was expected, a
//! template variable path, a JSON pointer); otherwise it reads `<value>`.

/// Names a template may use for the values it is given: a quoted `params.x.y` is a path in
/// the template, not a value.
pub const TEMPLATE_ROOTS: &[&str] = &[
    "params", "cluster", "hardware", "features", "asset", "hco", "loop",
];

/// [`hide_values`] for messages whose backtick spans are plinth's own field names (rendered
/// YAML that is not an object: "needs `apiVersion`"); the YAML reader quotes values with
/// `'…'` and `"…"`, and those are hidden.
pub fn hide_quoted_values(message: &str) -> String {
    hide_spans(message, "", &['\'', '"'])
}

/// Replaces each quoted span (`'…'`, `"…"`, `` `…` ``) of `message` by `<value>` unless it is
/// provably not a value: one character (`'['`), text of `source` (the template expression at
/// fault), a field name (after `field `), part of what was expected (after `expected`), a JSON
/// pointer (`'/spec/replicas'`, a field path) or a template variable path (`params.x`).
pub fn hide_values(message: &str, source: &str) -> String {
    hide_spans(message, source, &['\'', '"', '`'])
}

/// Quoted words of plinth's own messages that are syntax, never a value (the YAML reader's
/// limit messages name `*name`, `&name` and `<<`).
const OWN_WORDS: &[&str] = &["*name", "&name", "<<"];

fn hide_spans(message: &str, source: &str, quotes: &[char]) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(open) = rest.find(quotes) {
        let quote = rest[open..].chars().next().unwrap_or('`');
        let after = &rest[open + 1..];
        let Some(close) = after.find(quote) else {
            break;
        };
        let content = &after[..close];
        let before = &message[..message.len() - rest.len() + open];
        let is_path = TEMPLATE_ROOTS.iter().any(|root| {
            content == *root
                || content
                    .strip_prefix(root)
                    .is_some_and(|tail| tail.starts_with(['.', '[']))
        }) && content
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '[' | ']'));
        let is_pointer = content.starts_with('/')
            && content
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.' | '~'));
        let keep = content.chars().count() <= 1
            || OWN_WORDS.contains(&content)
            || is_pointer
            || (!source.is_empty() && source.contains(content))
            || before.ends_with("field ")
            // `expected `a` or `b``, not `unexpected 'x'`.
            || before.contains(" expected ")
            || before.starts_with("expected ")
            || is_path;
        out.push_str(&rest[..=open]);
        out.push_str(if keep { content } else { "<value>" });
        out.push(quote);
        rest = &after[close + quote.len_utf8()..];
    }
    out.push_str(rest);
    out
}
