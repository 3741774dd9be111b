//! Escaping for the markup formats, HTML and `JUnit` XML: one walk over the text, the two
//! dialects differing only in how they write an apostrophe and whether control characters may
//! stay.

/// Which markup the text goes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// HTML 5: `&#39;`; control characters are kept (the page shows them as they are).
    Html,
    /// XML 1.0: `&apos;`; control characters other than tab, newline and carriage return are
    /// dropped (they are not allowed in an XML document at all).
    Xml,
}

/// `text` with `&`, `<`, `>`, `"` and `'` escaped for `dialect`, fit for attributes and text.
pub fn escape(text: &str, dialect: Dialect) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match (c, dialect) {
            ('&', _) => out.push_str("&amp;"),
            ('<', _) => out.push_str("&lt;"),
            ('>', _) => out.push_str("&gt;"),
            ('"', _) => out.push_str("&quot;"),
            ('\'', Dialect::Html) => out.push_str("&#39;"),
            ('\'', Dialect::Xml) => out.push_str("&apos;"),
            (c, Dialect::Xml) if (c as u32) < 0x20 && !matches!(c, '\n' | '\t' | '\r') => {}
            (c, _) => out.push(c),
        }
    }
    out
}
