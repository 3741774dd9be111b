//! The building blocks of plinth's HTML pages (the drift report, the fleet view): the head
//! (a strict Content-Security-Policy, no favicon request, one inline style, no script), one
//! look per status (a colour, an icon and the status's name, readable without colour), the
//! section of a source (problems first, in-sync rows folded), inline code for the wording's
//! backticks (no literal Markdown on a page) and what changed inside long values.
//!
//! A source of results (Kubernetes objects, STACKIT servers, and whichever comes next) is one
//! function that maps its results into [`Row`]s of a [`Section`]; [`section`] writes it.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use plinth_vocab::redact::FINGERPRINT_PREFIX;
use similar::{ChangeTag, TextDiff};

use super::markup;

/// The pages' Content-Security-Policy: nothing is fetched, no script runs; only the inline
/// style and `data:` images (the empty favicon) are allowed.
pub const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:";

/// How a status looks: its place among the problems (lower first), its icon (the shape that
/// tells it apart without colour) and its colours (text on background, contrast AA or better).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Look {
    /// The status as written (`drifted`), also its CSS class.
    pub name: &'static str,
    /// Where its rows go: lower first.
    pub rank: u8,
    /// The character before its label.
    pub icon: &'static str,
    /// Text colour (and border).
    pub fg: &'static str,
    /// Background colour.
    pub bg: &'static str,
}

/// Every status of drift, cloud and apply, by rank, the order problems are listed: orphans,
/// drift, missing, unhealthy or stale servers, broken overrides, failed applies and errors,
/// held back work (throttled, held, paused), what is left alone on purpose or on its way,
/// what was written, and in sync last; then the statuses of the VPSie and KubeVirt results
/// (the same ranks).
pub const LOOKS: [Look; 29] = [
    look("orphaned", 0, "\u{2298}", "#6e1fb0", "#f5ecff"),
    look("drifted", 1, "\u{2260}", "#a40e26", "#ffebe9"),
    look("missing", 2, "\u{2205}", "#8a3000", "#fff1e5"),
    look("unhealthy", 3, "\u{271a}", "#ffffff", "#cf222e"),
    look("stale", 4, "\u{21bb}", "#ffffff", "#7a4100"),
    look("refused", 5, "\u{2297}", "#99004d", "#ffeaf4"),
    look("invalid", 6, "!", "#005a5e", "#dff7f5"),
    look("conflict", 7, "\u{21c4}", "#ffffff", "#6e1fb0"),
    look("failed", 8, "\u{2717}", "#ffffff", "#24292f"),
    look("error", 9, "\u{26a0}", "#6b4400", "#fff8c5"),
    look("throttled", 10, "\u{25d4}", "#ffffff", "#0969da"),
    look("held", 11, "\u{25f7}", "#0a3069", "#ddf4ff"),
    look("paused", 12, "\u{2016}", "#ffffff", "#0a3069"),
    look("unmanaged", 13, "\u{2013}", "#424a53", "#eaeef2"),
    look("skipped", 14, "\u{2192}", "#ffffff", "#57606a"),
    look("created", 15, "+", "#ffffff", "#1a7f37"),
    look("configured", 16, "\u{270e}", "#0f5323", "#aceebb"),
    look("pruned", 17, "\u{2212}", "#116329", "#ffffff"),
    look("unchanged", 18, "=", "#1b1f24", "#dafbe1"),
    look("in-sync", 19, "\u{2713}", "#116329", "#dafbe1"),
    // VPSie node groups, VMs and Nodes, KubeVirt VMs' run state.
    look("orphaned-node", 0, "\u{229a}", "#ffffff", "#8250df"),
    look("missing-labels", 1, "\u{229f}", "#a40e26", "#fff7f7"),
    look("out-of-bounds", 1, "\u{21af}", "#953800", "#ffe7d1"),
    look("miscounted", 1, "\u{229e}", "#6639ba", "#fbefff"),
    look("missing-group", 2, "\u{22a0}", "#ffffff", "#953800"),
    look("not-running", 3, "\u{25a0}", "#ffffff", "#a40e26"),
    look("failed-to-join", 8, "\u{2716}", "#ffffff", "#82071e"),
    look("joining", 13, "\u{27f3}", "#0550ae", "#ddf4ff"),
    look("starting", 13, "\u{25d1}", "#0550ae", "#eef6ff"),
];

const fn look(
    name: &'static str,
    rank: u8,
    icon: &'static str,
    fg: &'static str,
    bg: &'static str,
) -> Look {
    Look {
        name,
        rank,
        icon,
        fg,
        bg,
    }
}

/// The rank of the statuses nobody needs to look at (`in-sync`, `unchanged`, and below).
const QUIET_RANK: u8 = 15;

/// The look of `status`; an unknown one sorts with the errors and is grey.
pub fn look_of(status: &str) -> Look {
    LOOKS
        .iter()
        .find(|l| l.name == status)
        .copied()
        .unwrap_or(look("", 9, "?", "#424a53", "#eaeef2"))
}

/// Whether rows of `status` are folded away with the in-sync ones.
pub fn is_quiet(status: &str) -> bool {
    look_of(status).rank >= QUIET_RANK
}

/// The page's style: layout, the verdict, the badges of every [`Look`], the highlighted
/// changes.
fn style() -> String {
    let mut css = String::from(
        "body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:90rem}\
         h1{margin-bottom:.5rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de}\
         table{border-collapse:collapse;margin:.5rem 0 1rem}\
         td,th{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top;\
         overflow-wrap:anywhere}table{max-width:100%}th{background:#f6f8fa;overflow-wrap:normal}\
         .grid td,.grid th,.problems td:first-child{white-space:nowrap;overflow-wrap:normal}\
         .grid{font-size:.85em}.grid .s{padding:0 .25rem}code,pre{font-family:ui-monospace,monospace;font-size:.9em}\
         code{background:#f6f8fa;padding:0 .2em;border-radius:.2rem}\
         pre{margin:0;white-space:pre-wrap;word-break:break-all}\
         .meta{color:#424a53}\
         .verdict{font-size:1.5rem;font-weight:700;padding:.6rem 1rem;border-radius:.4rem;\
         border:2px solid;display:inline-block;margin:.5rem 0}\
         .verdict.in-sync{color:#116329;background:#dafbe1}\
         .verdict.drift{color:#a40e26;background:#ffebe9}\
         .verdict.incomplete{color:#6b4400;background:#fff8c5}\
         .verdict.in-sync::before{content:\"\\2713\\a0\"}\
         .verdict.drift::before{content:\"\\2260\\a0\"}\
         .verdict.incomplete::before{content:\"\\26a0\\a0\"}\
         .s{font-weight:600;padding:.05rem .4rem;border-radius:.3rem;border:1px solid;white-space:nowrap}\
         .n{text-align:right}.zero{color:#6e7781;text-align:right}\
         del{background:#ffc1c0;color:#1b1f24;text-decoration:line-through}\
         ins{background:#abf2bc;color:#1b1f24;text-decoration:underline}\
         details{margin:.5rem 0}summary{cursor:pointer;font-weight:600}",
    );
    for l in LOOKS {
        // A solid badge (light text) is framed in its own colour, a light one in its text's.
        let border = if l.fg == "#ffffff" { l.bg } else { l.fg };
        let _ = write!(
            css,
            ".s.{n}{{color:{fg};background:{bg};border-color:{border}}}.s.{n}::before{{content:\"{icon}\\a0\"}}",
            n = l.name,
            fg = l.fg,
            bg = l.bg,
            icon = l.icon
        );
    }
    css
}

/// The page up to its `<h1>` `title`: the policy that forbids every fetch and every script,
/// an empty `data:` favicon (the browser asks for none), the style inline.
pub fn page_head(out: &mut String, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <link rel=\"icon\" href=\"data:,\">\n\
         <title>{}</title>\n<style>{}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        esc(title),
        style(),
        esc(title)
    );
}

/// The end of a page.
pub fn page_end(out: &mut String) {
    out.push_str("</body>\n</html>\n");
}

/// The headline: `kind` is `in-sync`, `drift` or `incomplete` (colour and icon), `text` the
/// words (plain text); the page's own (`main`, `id="verdict"`) or a part's.
pub fn verdict(out: &mut String, kind: &str, text: &str, main: bool) {
    let id = if main { " id=\"verdict\"" } else { "" };
    let _ = writeln!(
        out,
        "<p class=\"verdict {kind}\"{id} role=\"status\">{}</p>",
        esc(text)
    );
}

/// `text` escaped for HTML.
pub fn esc(text: &str) -> String {
    markup::escape(text, markup::Dialect::Html)
}

/// `text` as HTML with its code spans (the wording's `` `name` ``, or ``` `` a`b `` ``` for
/// code with a backtick) as `<code>`, everything else escaped. A backtick that opens no span
/// stays text.
pub fn inline(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while let Some(start) = rest.find('`') {
        let run = rest[start..].bytes().take_while(|b| *b == b'`').count();
        let fence = &rest[start..start + run];
        let after = &rest[start + run..];
        out.push_str(&esc(&rest[..start]));
        if let Some(end) = find_closing(after, run) {
            let code = &after[..end];
            let code = match code.strip_prefix(' ').and_then(|c| c.strip_suffix(' ')) {
                Some(inner) if run > 1 && !inner.is_empty() => inner,
                _ => code,
            };
            let _ = write!(out, "<code>{}</code>", esc(code));
            rest = &after[end + run..];
        } else {
            out.push_str(&esc(fence));
            rest = after;
        }
    }
    out.push_str(&esc(rest));
    out
}

/// Where in `text` a run of exactly `run` backticks starts.
fn find_closing(text: &str, run: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'`' {
            let n = bytes[i..].iter().take_while(|b| **b == b'`').count();
            if n == run && i > 0 {
                return Some(i);
            }
            i += n;
        } else {
            i += 1;
        }
    }
    None
}

/// A status as a badge: coloured, with its icon (from the style) and its name.
pub fn badge(status: &str) -> String {
    format!("<span class=\"s {status}\">{status}</span>")
}

/// A badge of class `status` reading `label` (an apply outcome's verb in a dry run).
pub fn badge_as(status: &str, label: &str) -> String {
    if status == label {
        badge(status)
    } else {
        format!("<span class=\"s {status}\">{}</span>", esc(label))
    }
}

/// Whether a value is long enough that the changes inside it are worth marking.
fn is_long(text: &str) -> bool {
    text.chars().count() >= 32 || text.contains('\n')
}

/// Desired and live as HTML with what changed inside them marked (`<del>` in desired, `<ins>`
/// in live) when either is long, else `None`: short values read at a glance, and a redacted
/// value's fingerprint is opaque. Words are compared when the values have spaces or lines,
/// characters otherwise.
pub fn marked_pair(desired: &str, live: &str) -> Option<(String, String)> {
    if !(is_long(desired) || is_long(live))
        || desired == live
        || desired.contains(FINGERPRINT_PREFIX)
        || live.contains(FINGERPRINT_PREFIX)
    {
        return None;
    }
    let wordy = desired.contains(char::is_whitespace) || live.contains(char::is_whitespace);
    let diff = if wordy {
        TextDiff::from_words(desired, live)
    } else {
        TextDiff::from_chars(desired, live)
    };
    let (mut old, mut new) = (String::new(), String::new());
    for change in diff.iter_all_changes() {
        let text = esc(change.value());
        match change.tag() {
            ChangeTag::Equal => {
                old.push_str(&text);
                new.push_str(&text);
            }
            ChangeTag::Delete => push_marked(&mut old, "del", &text),
            ChangeTag::Insert => push_marked(&mut new, "ins", &text),
        }
    }
    Some((old, new))
}

/// Appends `text` inside `<tag>`, joined to the previous mark of the same tag.
fn push_marked(out: &mut String, tag: &str, text: &str) {
    let close = format!("</{tag}>");
    if out.ends_with(&close) {
        out.truncate(out.len() - close.len());
    } else {
        let _ = write!(out, "<{tag}>");
    }
    out.push_str(text);
    out.push_str(&close);
}

/// One result of a source: an object, a server, a VM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The status (`drifted`): badge, colour and place.
    pub status: String,
    /// The label on the badge when not the status itself (`would create`).
    pub label: Option<String>,
    /// What it is, in the wording's text (code spans in backticks).
    pub heading: String,
    /// The cells between the heading and the details (asset, class, wave), as wording text.
    pub columns: Vec<String>,
    /// The details as HTML already (tables of fields), before the lines.
    pub detail_html: String,
    /// Lines under the details, in the wording's text (notes, what a replacement would do).
    pub lines: Vec<String>,
}

impl Row {
    /// A row of `status` headed `heading`, nothing else yet.
    pub fn new(status: &str, heading: String) -> Self {
        Self {
            status: status.to_owned(),
            label: None,
            heading,
            columns: Vec::new(),
            detail_html: String::new(),
            lines: Vec::new(),
        }
    }
}

/// A source's results on a page: one heading, a line on where they came from, the columns
/// between heading and details, its rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    /// `Kubernetes objects`, `STACKIT servers`.
    pub title: String,
    /// What one row is, plural (`objects`, `servers`).
    pub noun: String,
    /// Where the results came from, wording text; none to say nothing.
    pub origin: Option<String>,
    /// The heading column's name (`Object`, `Server`).
    pub heading_column: String,
    /// The names of [`Row::columns`].
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

/// Writes `section` under an `<h{level}>`: the origin, a count per status, the rows that
/// need a look sorted by status (orphans and drift first) and the quiet ones folded in a
/// `<details>` below them.
pub fn section(out: &mut String, section: &Section, level: u8) {
    let _ = writeln!(
        out,
        "<section class=\"source\"><h{level}>{}</h{level}>",
        esc(&section.title)
    );
    if let Some(origin) = &section.origin {
        let _ = writeln!(out, "<p class=\"meta\">{}.</p>", inline(origin));
    }
    let mut counts: BTreeMap<(u8, &str), usize> = BTreeMap::new();
    for r in &section.rows {
        *counts
            .entry((look_of(&r.status).rank, r.status.as_str()))
            .or_default() += 1;
    }
    let summary: Vec<String> = counts
        .iter()
        .map(|((_, status), n)| format!("{} {n}", badge(&esc(status))))
        .collect();
    let _ = writeln!(
        out,
        "<p class=\"counts\">{} {}{}{}</p>",
        section.rows.len(),
        esc(&section.noun),
        if summary.is_empty() { "" } else { ": " },
        summary.join(" ")
    );
    let mut rows: Vec<&Row> = section.rows.iter().collect();
    rows.sort_by_key(|r| look_of(&r.status).rank);
    let (quiet, loud): (Vec<&Row>, Vec<&Row>) = rows.into_iter().partition(|r| is_quiet(&r.status));
    if !loud.is_empty() {
        rows_table(out, section, &loud);
    }
    if !quiet.is_empty() {
        let _ = writeln!(
            out,
            "<details class=\"quiet\"><summary>{} {} in sync or unchanged</summary>",
            quiet.len(),
            esc(&section.noun)
        );
        rows_table(out, section, &quiet);
        out.push_str("</details>\n");
    }
    out.push_str("</section>\n");
}

/// A table of `rows` with the columns of `section`; one line per row.
fn rows_table(out: &mut String, section: &Section, rows: &[&Row]) {
    let _ = write!(
        out,
        "<table>\n<tr><th>Status</th><th>{}</th>",
        esc(&section.heading_column)
    );
    for c in &section.columns {
        let _ = write!(out, "<th>{}</th>", esc(c));
    }
    out.push_str("<th>Details</th></tr>\n");
    for r in rows {
        let status = esc(&r.status);
        let _ = write!(
            out,
            "<tr class=\"row\" data-status=\"{status}\"><td>{}</td><td>{}</td>",
            badge_as(&status, r.label.as_deref().unwrap_or(&r.status)),
            inline(&r.heading)
        );
        for c in &r.columns {
            let _ = write!(out, "<td>{}</td>", inline(c));
        }
        out.push_str("<td>");
        out.push_str(&r.detail_html);
        for line in &r.lines {
            let _ = write!(out, "<div>{}</div>", inline(line));
        }
        out.push_str("</td></tr>\n");
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Code spans become `<code>`, single or double backticks; the rest is escaped; a lone
    /// backtick stays text.
    #[test]
    fn code_spans_become_code_and_the_rest_is_escaped() {
        assert_eq!(
            inline("compared `a/v1` (desired) with `<b>`"),
            "compared <code>a/v1</code> (desired) with <code>&lt;b&gt;</code>"
        );
        assert_eq!(inline("`` a`b `` x"), "<code>a`b</code> x");
        assert_eq!(inline("it`s <i>"), "it`s &lt;i&gt;");
        assert_eq!(inline("``"), "``");
        assert_eq!(inline(""), "");
    }

    /// Changes inside long values are marked, characters for one token and words for text;
    /// short values are not.
    #[test]
    fn changes_inside_long_values_are_marked() {
        assert_eq!(marked_pair("80", "8080"), None);
        let fingerprint = |hex: &str| format!("\"{FINGERPRINT_PREFIX}{hex}>\"");
        assert_eq!(
            marked_pair(
                &fingerprint("3fbf8034b4e8ea22"),
                &fingerprint("55a8232779eeb0f7")
            ),
            None
        );
        let (old, new) = marked_pair(
            "registry.example/team/api:1.2.3-alpine",
            "registry.example/team/api:1.2.4-alpine",
        )
        .unwrap();
        assert!(old.contains("<del>3</del>"), "{old}");
        assert!(new.contains("<ins>4</ins>"), "{new}");
        let (old, new) = marked_pair(
            "options vfio-pci ids=10de:20b7 <x>",
            "options vfio-pci ids=10de:1eb8 <x>",
        )
        .unwrap();
        assert!(old.contains("<del>ids=10de:20b7</del>"), "{old}");
        assert!(new.contains("<ins>ids=10de:1eb8</ins>"), "{new}");
        assert!(new.contains("&lt;x&gt;"), "{new}");
    }

    /// Every look has its own colours and icon, and every colour pair passes WCAG AA (4.5:1).
    #[test]
    fn every_status_is_distinct_and_readable() {
        for (i, a) in LOOKS.iter().enumerate() {
            assert!(
                contrast(a.fg, a.bg) >= 4.5,
                "{}: {}",
                a.name,
                contrast(a.fg, a.bg)
            );
            for b in &LOOKS[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.icon, b.icon, "{} and {}", a.name, b.name);
                assert_ne!((a.fg, a.bg), (b.fg, b.bg), "{} and {}", a.name, b.name);
            }
        }
    }

    fn contrast(a: &str, b: &str) -> f64 {
        let lum = |hex: &str| {
            let c = |i: usize| {
                let v = f64::from(u8::from_str_radix(&hex[i..i + 2], 16).unwrap()) / 255.0;
                if v <= 0.039_28 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * c(1) + 0.7152 * c(3) + 0.0722 * c(5)
        };
        let (x, y) = (lum(a), lum(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }
}
