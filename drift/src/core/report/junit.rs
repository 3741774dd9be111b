//! The `JUnit` XML report, for CI test dashboards: one test case per object; drift is a
//! failure, an object that could not be compared an error, unmanaged and paused are skipped.

use std::fmt::Write as _;

use super::{Report, Status, markup, show};

/// Renders the report as `JUnit` XML.
pub fn render(report: &Report) -> String {
    let count = |f: fn(Status) -> bool| report.objects.iter().filter(|o| f(o.status)).count();
    let failures = count(Status::is_finding) + usize::from(!report.hardware.is_empty());
    let errors = count(|s| s == Status::Error);
    let skipped = count(|s| matches!(s, Status::Unmanaged | Status::Paused));
    let tests = report.objects.len() + usize::from(!report.hardware.is_empty());
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"plinth drift\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" timestamp=\"{}\">",
        esc(&format!("drift.{}", report.cluster)),
        esc(&report.generated_at)
    );
    for o in &report.objects {
        let _ = write!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\"",
            esc(&format!("{}.{}", report.cluster, o.key.kind)),
            esc(&o.key.to_string())
        );
        let mut body = String::new();
        for c in &o.changes {
            let _ = writeln!(
                body,
                "{}: desired {}, live {}",
                c.pointer,
                show(c.before.as_ref()),
                show(c.after.as_ref())
            );
        }
        for n in o.notes.iter().chain(&o.stale_overrides) {
            let _ = writeln!(body, "{n}");
        }
        match o.status {
            Status::InSync => {
                let _ = writeln!(out, "/>");
            }
            Status::Unmanaged | Status::Paused => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>\n    </testcase>",
                    o.status.as_str()
                );
            }
            s => {
                let tag = if s == Status::Error {
                    "error"
                } else {
                    "failure"
                };
                let _ = writeln!(
                    out,
                    ">\n      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>\n    </testcase>",
                    esc(&format!("{} {}", s.as_str(), o.key)),
                    s.as_str(),
                    esc(&body)
                );
            }
        }
    }
    if !report.hardware.is_empty() {
        let mut body = String::new();
        for h in &report.hardware {
            let _ = writeln!(
                body,
                "detector {}: committed {}, live {}",
                h.detector, h.committed, h.live
            );
        }
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}\" name=\"hardware inventory\">\n      <failure message=\"hardware drift\" type=\"hardware\">{}</failure>\n    </testcase>",
            esc(&format!("{}.Inventory", report.cluster)),
            esc(&body)
        );
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
    out
}

/// XML escaping for attributes and text.
fn esc(text: &str) -> String {
    markup::escape(text, markup::Dialect::Xml)
}
