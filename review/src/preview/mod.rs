//! The PR preview of a [`DiffReport`](crate::diff::DiffReport) in three formats, one file
//! each: terminal text marked per [`Style`] (`terminal.rs`), Markdown split into numbered
//! parts that each fit a GitHub comment (`markdown.rs`), and JSON (`json.rs`, the schema of
//! [`crate::diff`], documented in `docs/diff.md`); what they word alike is in `text.rs`. A
//! new format is one more file here. Every format leads with the summary: disruptions first,
//! then assets entering or leaving, then counts per cluster; then every object change. Every
//! emitted text passes through
//! [`Redactor::redact_text`](plinth_vocab::redact::Redactor::redact_text) as a second line of
//! defence (objects were redacted before they were compared).

mod json;
mod markdown;
mod terminal;
mod text;

pub use json::json;
pub use markdown::{GITHUB_COMMENT_LIMIT, MARKDOWN_MARKER, markdown_parts, part_file_name};
pub use terminal::{Mark, Style, terminal};

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use serde_json::Value;

    use super::*;
    use crate::change::ObjectChange;
    use crate::diff::{ClusterDiff, ClusterStatus, DiffReport, ObjectDiff, Side, Summary};
    use crate::disruption::{Disruption, Effect};
    use plinth_vocab::change::FieldChange;
    use plinth_vocab::redact::Redactor;

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
            include_str!("../../tests/golden/terminal-plain.txt")
        );
        assert_eq!(
            terminal(&r, &red, &ansi()),
            include_str!("../../tests/golden/terminal-color.txt")
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
