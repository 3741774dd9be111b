//! The `JUnit` XML report, for CI test dashboards: one test case per object in apply order;
//! an object left unapplied (throttled, paused, held, conflict, failed) is a failure whose
//! message says why (its reason, else its conflicts) and whose text lists the rest: the
//! conflicts, the throttle state, the changes (with who wrote them) and the notes; a skipped
//! object is `<skipped/>` with its reason; what an applied object changed is its
//! `<system-out>`.

use std::fmt::Write as _;

use plinth_drift::core::report::junit::{esc, field, open_case, open_suite};
use plinth_drift::core::report::wording::Group;

use crate::outcome::{ApplyReport, Outcome};

/// Renders the report as `JUnit` XML.
pub fn render(report: &ApplyReport) -> String {
    let tests = report.objects.len();
    let failures = report
        .objects
        .iter()
        .filter(|o| o.outcome.is_unapplied())
        .count();
    let skipped = report.count(Outcome::Skipped);
    let suites = if report.dry_run {
        "plinth apply --dry-run"
    } else {
        "plinth apply"
    };
    let mut out = open_suite(
        suites,
        &format!("apply.{}", report.cluster),
        &report.generated_at,
        [tests, failures, 0, skipped],
    );
    for o in &report.objects {
        open_case(&mut out, &report.cluster, &o.key);
        let verb = o.outcome.verb(report.dry_run);
        let mut details = super::details(o);
        // A failure's or skip's first detail (its reason, else its conflicts) is its message.
        let message = if o.outcome.is_unapplied() || o.outcome == Outcome::Skipped {
            (!details.is_empty()).then(|| details.remove(0))
        } else {
            None
        };
        let mut body = String::new();
        for d in &details {
            let _ = writeln!(body, "{d}");
        }
        for c in &o.changes {
            field(&mut body, c, None, Group::Changes.who_line(c));
        }
        for n in &o.notes {
            let _ = writeln!(body, "{n}");
        }
        if o.outcome.is_unapplied() {
            let why = message.map(|m| format!(": {m}")).unwrap_or_default();
            let _ = writeln!(
                out,
                ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
                esc(&format!("{verb} {}{why}", o.key)),
                o.outcome.as_str(),
                esc(&body)
            );
        } else if o.outcome == Outcome::Skipped {
            let _ = writeln!(
                out,
                ">\n      <skipped message=\"{}\"/>{}\n    </testcase>",
                esc(message.as_deref().unwrap_or("skipped")),
                system_out(&body)
            );
        } else if body.is_empty() {
            let _ = writeln!(out, "/>");
        } else {
            let _ = writeln!(out, ">{}\n    </testcase>", system_out(&body));
        }
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
    out
}

/// `text` as a test case's `<system-out>` (nothing when empty): what an applied or skipped
/// object changed or says.
fn system_out(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!("\n      <system-out>{}</system-out>", esc(text))
    }
}
