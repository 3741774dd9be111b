//! The PR preview of a [`DiffReport`] in three formats: terminal text (marked per [`Style`]),
//! Markdown split into numbered parts that each fit a GitHub comment, and JSON (the schema
//! of [`crate::diff`], documented in `docs/diff.md`). Every format leads with the summary:
//! disruptions first, then assets entering or leaving, then counts per cluster; then every
//! object change. Every emitted text passes through [`Redactor::redact_text`] as a second
//! line of defence (objects were redacted before they were compared).

use std::fmt::Write as _;

use serde_json::Value;

use crate::change::ObjectChange;
use crate::diff::{
    ClusterDiff, ClusterStatus, DiffReport, InclusionChange, InclusionDirection, ObjectDiff, Side,
};
use plinth_vocab::change::FieldChange;
use plinth_vocab::redact::Redactor;

/// GitHub's limit on the body of one comment, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Room kept in every part for its `part i/n` header and continuation footer.
const PART_FRAME: usize = 400;

/// Values longer than this are not repeated in field tables; the unified diff shows them.
const FIELD_VALUE_MAX: usize = 200;

/// The marker every Markdown part starts with, so CI can find and update its comments.
pub const MARKDOWN_MARKER: &str = "<!-- plinth-preview";

fn side_text(side: &Side) -> String {
    match &side.commit {
        Some(c) => format!("`{}` ({})", side.spec, &c[..7.min(c.len())]),
        None => format!("`{}`", side.spec),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn status_word(status: ClusterStatus) -> &'static str {
    match status {
        ClusterStatus::Added => "added",
        ClusterStatus::Removed => "removed",
        ClusterStatus::Changed => "changed",
    }
}

fn value_text(v: Option<&Value>) -> String {
    match v {
        None => "(absent)".to_owned(),
        Some(Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}

fn short_value(v: Option<&Value>) -> String {
    let text = value_text(v);
    if text.chars().count() > FIELD_VALUE_MAX {
        format!("({} characters, see the diff)", text.chars().count())
    } else {
        text
    }
}

fn counts_line(report: &DiffReport) -> String {
    let s = &report.summary;
    format!(
        "{} of {} clusters changed ({} added, {} removed); objects: {} added, {} removed, {} changed, {} renamed; {}; {} entering or leaving",
        s.clusters_changed + s.clusters_added + s.clusters_removed,
        s.clusters_compared,
        s.clusters_added,
        s.clusters_removed,
        s.objects_added,
        s.objects_removed,
        s.objects_changed,
        s.objects_renamed,
        plural(s.disruptions, "disruption"),
        plural(s.inclusion_changes, "asset"),
    )
}

fn inclusion_text(i: &InclusionChange) -> String {
    let verb = match i.direction {
        InclusionDirection::Entered => "entered",
        InclusionDirection::Left => "left",
    };
    if i.conditions.is_empty() {
        return format!("asset `{}` {verb}: {}", i.asset, i.reason);
    }
    let why: Vec<String> = i
        .conditions
        .iter()
        .map(|c| {
            let b = c.before.map_or("absent".to_owned(), |v| v.to_string());
            let a = c.after.map_or("absent".to_owned(), |v| v.to_string());
            format!("`{}` {b} → {a} ({})", c.condition, c.because)
        })
        .collect();
    format!("asset `{}` {verb}: {}", i.asset, why.join("; "))
}

fn object_heading(o: &ObjectDiff) -> String {
    let mut text = format!("{} {}", o.change.mark(), o.title());
    if let Some(prev) = &o.previous_name {
        let _ = write!(text, " (renamed from `{prev}`)");
    }
    let _ = write!(text, " [asset {}]", o.asset);
    text
}

// ---------------------------------------------------------------------------------------
// Terminal

/// What the terminal preview puts before and after a piece of text of one role.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mark {
    pub prefix: &'static str,
    pub suffix: &'static str,
}

impl Mark {
    fn wrap(self, text: &str) -> String {
        format!("{}{text}{}", self.prefix, self.suffix)
    }
}

/// How the terminal preview marks each role. [`Style::plain`] marks nothing; the binary
/// builds the coloured one (this library never writes escape codes itself).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    /// The title, the section and cluster headings, and the `---`/`+++` file headers.
    pub header: Mark,
    /// An added object's heading and an added line.
    pub added: Mark,
    /// A removed object's heading and a removed line.
    pub removed: Mark,
    /// A changed or renamed object's heading.
    pub changed: Mark,
    /// A disruption's effect label.
    pub warning: Mark,
    /// A `@@` hunk header.
    pub hunk: Mark,
}

impl Style {
    /// No marks at all: plain text.
    pub fn plain() -> Self {
        Self::default()
    }
}

/// Text for a terminal, each role marked as `style` says ([`Style::plain`] for none).
pub fn terminal(report: &DiffReport, redactor: &Redactor, style: &Style) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} base {} → head {}",
        style.header.wrap("plinth diff:"),
        side_text(&report.base),
        side_text(&report.head)
    );
    if !report.has_changes() {
        let _ = writeln!(
            out,
            "no changes in {} clusters",
            report.summary.clusters_compared
        );
        return redactor.redact_text(&out);
    }
    let _ = writeln!(out, "{}", counts_line(report));
    if !report.disruptions.is_empty() {
        let _ = writeln!(out, "\n{}", style.header.wrap("Disruptions"));
        for c in &report.disruptions {
            let d = &c.disruption;
            let _ = writeln!(
                out,
                "  {} {}: {}",
                style.warning.wrap(&format!("[{}]", d.effect.label())),
                c.cluster,
                d.message
            );
        }
    }
    let inclusion: Vec<(&str, &InclusionChange)> = report
        .clusters
        .iter()
        .flat_map(|c| c.inclusion.iter().map(move |i| (c.name.as_str(), i)))
        .collect();
    if !inclusion.is_empty() {
        let _ = writeln!(out, "\n{}", style.header.wrap("Assets entering or leaving"));
        for (cluster, i) in inclusion {
            let _ = writeln!(out, "  {cluster}: {}", inclusion_text(i));
        }
    }
    for c in &report.clusters {
        let _ = writeln!(
            out,
            "\n{}",
            style.header.wrap(&format!(
                "cluster {} ({}, {})",
                c.name,
                status_word(c.status),
                plural(c.objects.len(), "object")
            ))
        );
        for o in &c.objects {
            let mark = match o.change {
                ObjectChange::Added => style.added,
                ObjectChange::Removed => style.removed,
                ObjectChange::Renamed | ObjectChange::Changed => style.changed,
            };
            let _ = writeln!(out, "  {}", mark.wrap(&object_heading(o)));
            for f in &o.fields {
                let _ = writeln!(
                    out,
                    "      {}: {} → {}",
                    f.pointer,
                    short_value(f.before.as_ref()),
                    short_value(f.after.as_ref())
                );
            }
            for line in o.diff.lines() {
                let styled = if line.starts_with("+++") || line.starts_with("---") {
                    style.header.wrap(line)
                } else if line.starts_with('+') {
                    style.added.wrap(line)
                } else if line.starts_with('-') {
                    style.removed.wrap(line)
                } else if line.starts_with("@@") {
                    style.hunk.wrap(line)
                } else {
                    line.to_owned()
                };
                let _ = writeln!(out, "    {styled}");
            }
        }
    }
    redactor.redact_text(&out)
}

// ---------------------------------------------------------------------------------------
// JSON

fn redact_strings(value: &mut Value, redactor: &Redactor) {
    match value {
        Value::String(s) => *s = redactor.redact_text(s),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_strings(v, redactor)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_strings(v, redactor)),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// Pretty JSON following the schema in `docs/diff.md`; every string passes
/// [`Redactor::redact_text`] (the document stays valid JSON).
pub fn json(report: &DiffReport, redactor: &Redactor) -> String {
    let mut value = serde_json::to_value(report).unwrap_or(Value::Null);
    redact_strings(&mut value, redactor);
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

// ---------------------------------------------------------------------------------------
// Markdown

/// A piece of Markdown that may be split between its lines: every piece repeats `head`
/// and `tail` (a table header, a code fence, a `<details>` wrapper), so each part stays
/// well-formed.
struct Block {
    head: String,
    lines: Vec<String>,
    tail: String,
}

impl Block {
    fn text(text: String) -> Self {
        Self {
            head: String::new(),
            lines: vec![text],
            tail: String::new(),
        }
    }
}

/// Escapes text for a table cell or list item (not inside a code span).
fn md_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

/// A code span that survives backticks inside and `|` in tables.
fn code(text: &str) -> String {
    let text = text.replace('\n', " ").replace('|', "\\|");
    let longest = longest_run(&text, '`');
    let fence = "`".repeat(longest + 1);
    if longest > 0 {
        format!("{fence} {text} {fence}")
    } else {
        format!("{fence}{text}{fence}")
    }
}

fn longest_run(text: &str, ch: char) -> usize {
    let (mut best, mut cur) = (0, 0);
    for c in text.chars() {
        if c == ch {
            cur += 1;
            best = best.max(cur);
        } else {
            cur = 0;
        }
    }
    best
}

/// Turns inline backtick spans of the plain messages into Markdown-safe text.
fn md_message(text: &str) -> String {
    md_escape(text)
}

fn summary_blocks(report: &DiffReport) -> Vec<Block> {
    let mut blocks = vec![Block::text(format!(
        "## plinth preview: {} → {}\n\n{}\n",
        side_text(&report.base),
        side_text(&report.head),
        md_escape(&counts_line(report))
    ))];
    if !report.has_changes() {
        blocks.push(Block::text(format!(
            "No changes in {} clusters.\n",
            report.summary.clusters_compared
        )));
        return blocks;
    }
    let disruptions: Vec<String> = report
        .disruptions
        .iter()
        .map(|c| {
            format!(
                "| {} | {} | {} |",
                c.disruption.effect.label(),
                code(&c.cluster),
                md_message(&c.disruption.message)
            )
        })
        .collect();
    if disruptions.is_empty() {
        blocks.push(Block::text(
            "### Disruptions\n\nNone: no change reboots, replaces, re-provisions, restarts or rolls out anything.\n".to_owned(),
        ));
    } else {
        blocks.push(Block {
            head: "### Disruptions\n\n| Effect | Cluster | What and why |\n| --- | --- | --- |"
                .to_owned(),
            lines: disruptions,
            tail: String::new(),
        });
    }
    let inclusion: Vec<String> = report
        .clusters
        .iter()
        .flat_map(|c| {
            c.inclusion
                .iter()
                .map(move |i| format!("- {}: {}", code(&c.name), md_message(&inclusion_text(i))))
        })
        .collect();
    if !inclusion.is_empty() {
        blocks.push(Block {
            head: "### Assets entering or leaving\n".to_owned(),
            lines: inclusion,
            tail: String::new(),
        });
    }
    blocks.push(Block {
        head: "### Clusters\n\n| Cluster | Status | Added | Removed | Changed | Renamed | Disruptions |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |".to_owned(),
        lines: report
            .clusters
            .iter()
            .map(|c| {
                let n = |k: ObjectChange| c.objects.iter().filter(|o| o.change == k).count();
                format!(
                    "| {} | {} | {} | {} | {} | {} | {} |",
                    code(&c.name),
                    status_word(c.status),
                    n(ObjectChange::Added),
                    n(ObjectChange::Removed),
                    n(ObjectChange::Changed),
                    n(ObjectChange::Renamed),
                    c.disruptions.len()
                )
            })
            .collect(),
        tail: String::new(),
    });
    blocks
}

fn field_row(f: &FieldChange) -> String {
    format!(
        "| {} | {} | {} |",
        code(&f.pointer),
        code(&short_value(f.before.as_ref())),
        code(&short_value(f.after.as_ref()))
    )
}

fn object_blocks(o: &ObjectDiff) -> Vec<Block> {
    let summary = format!(
        "<details><summary>{} {} {} <code>{}</code>{} — asset <code>{}</code></summary>\n",
        o.change.mark(),
        o.change.word(),
        md_escape(&o.kind),
        md_escape(
            &o.namespace
                .as_ref()
                .map_or_else(|| o.name.clone(), |ns| format!("{ns}/{}", o.name))
        ),
        o.previous_name
            .as_ref()
            .map(|p| format!(" (was <code>{}</code>)", md_escape(p)))
            .unwrap_or_default(),
        md_escape(&o.asset),
    );
    let mut blocks = Vec::new();
    if !o.fields.is_empty() {
        blocks.push(Block {
            head: format!("{summary}\n| Field | Before | After |\n| --- | --- | --- |"),
            lines: o.fields.iter().map(field_row).collect(),
            tail: "\n</details>\n".to_owned(),
        });
    }
    let fence = "`".repeat(longest_run(&o.diff, '`').max(2) + 1);
    let head = if o.fields.is_empty() {
        format!("{summary}\n{fence}diff")
    } else {
        format!(
            "<details><summary>diff of {}</summary>\n\n{fence}diff",
            md_escape(&o.title())
        )
    };
    blocks.push(Block {
        head,
        lines: o.diff.lines().map(str::to_owned).collect(),
        tail: format!("{fence}\n\n</details>\n"),
    });
    blocks
}

fn cluster_blocks(c: &ClusterDiff) -> Vec<Block> {
    let mut blocks = vec![Block::text(format!(
        "### Cluster {} ({}, {})\n",
        code(&c.name),
        status_word(c.status),
        plural(c.objects.len(), "object")
    ))];
    for o in &c.objects {
        blocks.extend(object_blocks(o));
    }
    blocks
}

/// Splits `line` into pieces of at most `max` bytes on character boundaries, marking each
/// cut so nothing is lost silently.
fn split_line(line: &str, max: usize) -> Vec<String> {
    const MARK: &str = " ⏎";
    let max = max.saturating_sub(MARK.len()).max(16);
    let mut out = Vec::new();
    let mut rest = line;
    while rest.len() > max {
        let mut cut = max;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push(format!("{}{MARK}", &rest[..cut]));
        rest = &rest[cut..];
    }
    out.push(rest.to_owned());
    out
}

/// Pieces of a block, each at most `limit` bytes (head and tail repeated).
fn pieces(block: &Block, limit: usize) -> Vec<String> {
    let frame = |body: &str| -> String {
        let mut s = [
            block.head.trim_end_matches('\n'),
            body.trim_end_matches('\n'),
            block.tail.trim_end_matches('\n'),
        ]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join("\n");
        s.push('\n');
        s
    };
    let overhead = frame("").len();
    let room = limit.saturating_sub(overhead).max(64);
    let mut out = Vec::new();
    let mut body = String::new();
    for line in &block.lines {
        for piece in split_line(line, room - 1) {
            if !body.is_empty() && body.len() + piece.len() + 1 > room {
                out.push(frame(&body));
                body.clear();
            }
            body.push_str(&piece);
            body.push('\n');
        }
    }
    if !body.is_empty() || out.is_empty() {
        out.push(frame(&body));
    }
    out
}

/// The file name of Markdown part `i` (0-based) of `n`: `preview-part-01.md`,
/// `preview-part-02.md`, ...: numbered from 1 and zero-padded to two digits, or to the number
/// of digits of `n` when there are 100 parts or more, so sorting by name is part order.
pub fn part_file_name(i: usize, n: usize) -> String {
    let width = n.to_string().len().max(2);
    format!("preview-part-{:0width$}.md", i + 1)
}

/// The Markdown preview, split into parts of at most `limit` characters (use
/// [`GITHUB_COMMENT_LIMIT`]); the summary comes first, every part says `part i/n`, and
/// nothing is dropped: a block too large for one part is split between its lines, a line
/// too long for one part between its characters (marked `⏎`).
pub fn markdown_parts(report: &DiffReport, redactor: &Redactor, limit: usize) -> Vec<String> {
    let room = limit.saturating_sub(PART_FRAME).max(1024);
    let mut blocks = summary_blocks(report);
    for c in &report.clusters {
        blocks.extend(cluster_blocks(c));
    }
    let mut bodies: Vec<String> = Vec::new();
    let mut current = String::new();
    for block in &blocks {
        // Redact before measuring: a fingerprint may be longer than what it replaces.
        let redacted = Block {
            head: redactor.redact_text(&block.head),
            lines: block
                .lines
                .iter()
                .map(|l| redactor.redact_text(l))
                .collect(),
            tail: redactor.redact_text(&block.tail),
        };
        for piece in pieces(&redacted, room) {
            if !current.is_empty() && current.len() + piece.len() + 1 > room {
                bodies.push(std::mem::take(&mut current));
            }
            current.push_str(&piece);
            current.push('\n');
        }
    }
    if !current.is_empty() || bodies.is_empty() {
        bodies.push(current);
    }
    let n = bodies.len();
    bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| {
            let mut part = format!("{MARKDOWN_MARKER} part {}/{n} -->\n", i + 1);
            if n > 1 {
                let _ = writeln!(part, "**plinth preview, part {}/{n}**\n", i + 1);
            }
            part.push_str(body.trim_end());
            part.push('\n');
            if i + 1 < n {
                let _ = write!(part, "\n_continued in part {}/{n}_\n", i + 2);
            }
            redactor.redact_text(&part)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::Summary;
    use crate::disruption::{Disruption, Effect};

    fn report(objects: usize, diff_lines: usize) -> DiffReport {
        let object = |i: usize| ObjectDiff {
            change: ObjectChange::Changed,
            api_version: "v1".into(),
            kind: "ConfigMap".into(),
            namespace: Some("ns".into()),
            name: format!("cm-{i}"),
            previous_name: None,
            asset: "a".into(),
            fields: vec![FieldChange::new(
                "/data/x".into(),
                Some(Value::String("1".into())),
                Some(Value::String("2".into())),
            )],
            diff: (0..diff_lines).fold(String::from("--- a/x\n+++ b/x\n"), |mut s, l| {
                let _ = writeln!(s, "+line {l} of object {i} with some text");
                s
            }),
        };
        let clusters = vec![ClusterDiff {
            name: "c1".into(),
            status: ClusterStatus::Changed,
            disruptions: vec![Disruption {
                effect: Effect::Rollout,
                kind: "Deployment".into(),
                namespace: Some("ns".into()),
                name: "d".into(),
                message: "rolls out the workload: Deployment `ns/d` pod template changed".into(),
            }],
            inclusion: vec![],
            objects: (0..objects).map(object).collect(),
        }];
        let mut r = DiffReport::new(
            Side {
                spec: "main".into(),
                commit: Some("0123456789".into()),
            },
            Side {
                spec: "working tree".into(),
                commit: None,
            },
            3,
            clusters,
        );
        r.summary = Summary {
            clusters_compared: 3,
            ..r.summary
        };
        r
    }

    #[test]
    fn part_names_are_zero_padded_and_sort_in_part_order() {
        assert_eq!(part_file_name(0, 1), "preview-part-01.md");
        assert_eq!(part_file_name(8, 12), "preview-part-09.md");
        assert_eq!(part_file_name(11, 12), "preview-part-12.md");
        assert_eq!(part_file_name(0, 100), "preview-part-001.md");
        for n in [1, 9, 10, 99, 100, 150] {
            let names: Vec<String> = (0..n).map(|i| part_file_name(i, n)).collect();
            let mut sorted = names.clone();
            sorted.sort();
            assert_eq!(names, sorted, "{n} parts");
        }
    }

    #[test]
    fn markdown_fits_and_keeps_everything() {
        let r = report(400, 30);
        let red = Redactor::with_key(b"k");
        let parts = markdown_parts(&r, &red, GITHUB_COMMENT_LIMIT);
        assert!(parts.len() > 3, "{}", parts.len());
        let n = parts.len();
        for (i, p) in parts.iter().enumerate() {
            assert!(p.chars().count() <= GITHUB_COMMENT_LIMIT);
            assert!(p.contains(&format!("part {}/{n}", i + 1)));
            assert_eq!(
                p.matches("<details>").count(),
                p.matches("</details>").count()
            );
            assert_eq!(
                p.matches("```").count() % 2,
                0,
                "unbalanced fences in part {i}"
            );
        }
        assert!(parts[0].contains("### Disruptions"));
        let all = parts.concat();
        for i in 0..400 {
            assert!(
                all.contains(&format!("+line 29 of object {i} with")),
                "object {i}"
            );
        }
    }

    #[test]
    fn one_huge_object_is_split_between_lines() {
        let r = report(1, 20_000);
        let parts = markdown_parts(&r, &Redactor::with_key(b"k"), GITHUB_COMMENT_LIMIT);
        assert!(parts.len() >= 10);
        let all = parts.concat();
        assert!(all.contains("+line 19999 of object 0"));
        for p in &parts {
            assert!(p.len() <= GITHUB_COMMENT_LIMIT);
            assert_eq!(p.matches("```").count() % 2, 0);
        }
    }

    /// Every role the terminal marks: added, removed, renamed and changed objects, file
    /// headers, hunks, added, removed and context lines, a disruption.
    fn report_for_capture() -> DiffReport {
        let mut r = report(4, 1);
        let changes = [
            ObjectChange::Added,
            ObjectChange::Removed,
            ObjectChange::Renamed,
            ObjectChange::Changed,
        ];
        for (o, change) in r.clusters[0].objects.iter_mut().zip(changes) {
            o.change = change;
            o.diff
                .push_str("@@ -1,2 +1,2 @@\n-old line\n context line\n");
        }
        r
    }

    /// The terminal's colours as the binary sets them (bold, green, red, yellow, cyan), to
    /// pin the marked output.
    fn ansi() -> Style {
        let [header, added, removed, changed, hunk] =
            ["\x1b[1m", "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[36m"].map(|prefix| Mark {
                prefix,
                suffix: "\x1b[0m",
            });
        Style {
            header,
            added,
            removed,
            changed,
            warning: changed,
            hunk,
        }
    }

    #[test]
    fn terminal_output_is_pinned_plain_and_marked() {
        let r = report_for_capture();
        let red = Redactor::with_key(b"k");
        assert_eq!(
            terminal(&r, &red, &Style::plain()),
            include_str!("../tests/golden/terminal-plain.txt")
        );
        assert_eq!(
            terminal(&r, &red, &ansi()),
            include_str!("../tests/golden/terminal-color.txt")
        );
    }

    #[test]
    fn terminal_and_json_lead_with_the_summary() {
        let r = report(2, 3);
        let red = Redactor::with_key(b"k");
        let text = terminal(&r, &red, &Style::plain());
        assert!(text.find("Disruptions").unwrap() < text.find("cluster c1").unwrap());
        assert!(!text.contains('\x1b'));
        assert!(terminal(&r, &red, &ansi()).contains('\x1b'));
        let json: Value = serde_json::from_str(&json(&r, &red)).unwrap();
        assert_eq!(json["schemaVersion"], 1);
        assert_eq!(
            json["clusters"][0]["objects"][0]["fields"][0]["pointer"],
            "/data/x"
        );
    }
}
