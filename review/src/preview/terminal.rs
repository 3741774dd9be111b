//! The terminal format: plain text, each role marked as a [`Style`] says. The library never
//! writes escape codes; the binary's printer builds the coloured style.

use std::fmt::Write as _;

use crate::change::ObjectChange;
use crate::diff::{DiffReport, InclusionChange};
use plinth_vocab::redact::Redactor;

use super::text::{
    counts_line, inclusion_text, object_heading, plural, short_value, side_text, status_word,
};

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
