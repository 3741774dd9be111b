//! The Markdown format: the preview split into numbered parts that each fit a GitHub comment,
//! every part starting with [`MARKDOWN_MARKER`].

use std::fmt::Write as _;

use crate::change::ObjectChange;
use crate::diff::{ClusterDiff, DiffReport, ObjectDiff};
use plinth_vocab::change::FieldChange;
use plinth_vocab::redact::Redactor;

use super::text::{counts_line, inclusion_text, plural, short_value, side_text, status_word};

/// GitHub's limit on the body of one comment, in characters.
pub const GITHUB_COMMENT_LIMIT: usize = 65_536;

/// Room kept in every part for its `part i/n` header and continuation footer.
const PART_FRAME: usize = 400;

/// The marker every Markdown part starts with, so CI can find and update its comments.
pub const MARKDOWN_MARKER: &str = "<!-- plinth-preview";

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
