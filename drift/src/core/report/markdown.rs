//! The Markdown report, for a pull request comment or an issue: a summary table, then one
//! section per object that is not in sync with its changes in a table (who wrote them, where
//! known; decoded file contents as a diff below it), its pending removals and the fields
//! controllers manage in small tables of their own.

use std::fmt::Write as _;

use plinth_vocab::change::FieldChange;

use super::wording::Group;
use super::{Report, show};
use crate::core::report::cloud::CloudReport;
use crate::core::report::kubevirt::KubevirtReport;
use crate::core::report::vpsie::VpsieReport;

/// Renders the report as GitHub-flavoured Markdown.
pub fn render(report: &Report) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Drift report: `{}`\n", report.cluster);
    let _ = writeln!(
        out,
        "{}, generated {}.\n",
        report.provenance(),
        report.generated_at
    );
    let _ = writeln!(out, "| Status | Objects |\n|---|---:|");
    for (s, n) in report.status_counts() {
        row(&mut out, &[s.as_str().to_owned(), n.to_string()]);
    }
    let _ = writeln!(out, "| **total** | **{}** |", report.objects.len());
    for o in report.not_in_sync() {
        let _ = writeln!(
            out,
            "\n### {} `{}`{}\n",
            o.status.as_str(),
            o.key,
            o.asset_note()
        );
        for group in Group::ALL {
            let changes = group.of(o);
            if changes.is_empty() {
                continue;
            }
            match group {
                Group::Changes => {}
                Group::PendingRemoval => {
                    let _ = writeln!(
                        out,
                        "\n**Pending removal**: applied earlier, no longer rendered; the next apply removes them.\n"
                    );
                }
                Group::Managed => {
                    let _ = writeln!(out, "\n**Managed by controllers** (not drift):\n");
                }
            }
            table(&mut out, group.of(o), group, |c| report.content_diff(o, c));
        }
        for n in &o.notes {
            let _ = writeln!(out, "- {}", prose(n));
        }
    }
    let stale = report.stale_overrides();
    if !stale.is_empty() {
        let _ = writeln!(out, "\n### Stale overrides\n");
        for (o, s) in stale {
            let _ = writeln!(out, "- `{}`: {}", o.key, prose(s));
        }
    }
    if !report.hardware.is_empty() {
        let _ = writeln!(
            out,
            "\n### Hardware drift\n\n| Detector | Committed | Live | Live nodes |\n|---|---|---|---|"
        );
        for h in &report.hardware {
            row(
                &mut out,
                &[
                    format!("`{}`", h.detector),
                    h.committed.to_string(),
                    h.live.to_string(),
                    cell(&h.nodes.join(", ")),
                ],
            );
        }
    }
    if let Some(cloud) = &report.cloud {
        cloud_section(&mut out, cloud);
    }
    if let Some(vpsie) = &report.vpsie {
        vpsie_section(&mut out, vpsie);
    }
    if let Some(kubevirt) = &report.kubevirt {
        kubevirt_section(&mut out, kubevirt);
    }
    out
}

/// The KubeVirt section: a summary table of the VMs, then one section per finding.
fn kubevirt_section(out: &mut String, kubevirt: &KubevirtReport) {
    let _ = writeln!(out, "\n## {}\n", prose(&kubevirt.origin_line()));
    let _ = writeln!(out, "| Status | VMs |\n|---|---:|");
    for (s, n) in kubevirt.status_counts() {
        row(out, &[s.as_str().to_owned(), n.to_string()]);
    }
    let _ = writeln!(out, "| **total** | **{}** |", kubevirt.vms.len());
    for v in kubevirt.findings() {
        let _ = writeln!(out, "\n### {} {}\n", v.status.as_str(), prose(&v.heading()));
        for line in v.lines() {
            let _ = writeln!(out, "- {}", prose(&line));
        }
    }
}

/// The VPSie section: a summary table of the groups, VMs and Nodes by status, then one
/// section per finding.
fn vpsie_section(out: &mut String, vpsie: &VpsieReport) {
    let _ = writeln!(out, "\n## {}\n", prose(&vpsie.origin_line()));
    let _ = writeln!(out, "{}\n", prose(&vpsie.summary_line()));
    let _ = writeln!(out, "| Status | Groups, VMs and Nodes |\n|---|---:|");
    for (s, n) in vpsie.status_counts() {
        row(out, &[s.as_str().to_owned(), n.to_string()]);
    }
    let _ = writeln!(out, "| **total** | **{}** |", vpsie.rows().count());
    for r in vpsie.findings() {
        let _ = writeln!(
            out,
            "\n### {} {}\n",
            r.status().as_str(),
            prose(&r.heading())
        );
        for line in r.lines() {
            let _ = writeln!(out, "- {}", prose(&line));
        }
    }
}

/// The cloud section: a summary table of the servers, then one section per server.
fn cloud_section(out: &mut String, cloud: &CloudReport) {
    let _ = writeln!(out, "\n## Cloud: {}\n", prose(&cloud.origin_line()));
    let _ = writeln!(out, "| Status | Servers |\n|---|---:|");
    for (s, n) in cloud.status_counts() {
        row(out, &[s.as_str().to_owned(), n.to_string()]);
    }
    let _ = writeln!(out, "| **total** | **{}** |", cloud.servers.len());
    for s in &cloud.servers {
        let _ = writeln!(out, "\n### {} {}\n", s.status.as_str(), prose(&s.heading()));
        if !s.changes.is_empty() {
            table(out, &s.changes, Group::Changes, |_| None);
            out.push('\n');
        }
        for line in s.lines() {
            let _ = writeln!(out, "- {}", prose(&line));
        }
    }
}

/// A table of `changes`, fields of `group` (field, desired, live, and who wrote them when
/// the group has that column), then the decoded diffs (`diff` of a change, if any) of the
/// file contents among them.
pub fn table<'r>(
    out: &mut String,
    changes: &[FieldChange],
    group: Group,
    diff: impl Fn(&FieldChange) -> Option<&'r str>,
) {
    let who = group.who_column(changes);
    let (extra, rule) = who.map_or((String::new(), ""), |w| (format!(" {w} |"), "---|"));
    let _ = writeln!(
        out,
        "| Field | Desired | Live |{extra}\n|---|---|---|{rule}"
    );
    let mut diffs = Vec::new();
    for c in changes {
        let path = format!("`{}`", cell(c.shown_path()));
        let mut cells = match diff(c) {
            Some(diff) => {
                diffs.push((c, diff));
                let below = "*decoded below*".to_owned();
                vec![path, below.clone(), below]
            }
            None => vec![
                path,
                code(&show(c.before.as_ref())),
                code(&show(c.after.as_ref())),
            ],
        };
        if who.is_some() {
            cells.push(prose(&group.who_cell(c)));
        }
        row(out, &cells);
    }
    for (c, diff) in diffs {
        let fence = "`".repeat(longest_backtick_run(diff).max(2) + 1);
        let _ = writeln!(
            out,
            "\n`{}` file contents (decoded):\n\n{fence}diff\n{diff}{}{fence}",
            cell(c.shown_path()),
            if diff.ends_with('\n') { "" } else { "\n" }
        );
    }
}

/// The longest run of backticks in `text` (a code fence must be longer).
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

/// One table row of `cells` (Markdown already).
pub fn row(out: &mut String, cells: &[String]) {
    let _ = writeln!(out, "| {} |", cells.join(" | "));
}

/// Escapes a table cell: pipes and newlines would break the row.
/// Text that may carry live values (annotation contents): one line, and no Markdown or HTML
/// that could forge links, images, tags or table rows in a PR comment. Code spans stay.
pub fn prose(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\r' => out.push(' '),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '[' | ']' | '!' | '|' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

pub fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// A value as inline code, safe inside a table cell even with backticks in it.
pub fn code(text: &str) -> String {
    let text = cell(text);
    if text.contains('`') {
        format!("`` {text} ``")
    } else {
        format!("`{text}`")
    }
}

#[cfg(test)]
mod prose_tests {
    #[test]
    fn live_text_cannot_forge_markdown() {
        let forged = super::prose("bad `x`\n| row | ![img](http://x) <script>");
        assert_eq!(
            forged,
            "bad `x` \\| row \\| \\!\\[img\\](http://x) &lt;script&gt;"
        );
    }
}
