//! The `JUnit` XML report, for CI test dashboards: one test case per object; drift is a
//! failure (a refused or invalid override with its reason in the message), an object that
//! could not be compared an error, unmanaged and paused are skipped. Fields controllers
//! manage and stale overrides are information in the test case's `system-out`, and the stale
//! overrides are listed again in the suite's `system-out`.

use std::fmt::Write as _;

use plinth_vocab::ObjectRef;
use plinth_vocab::change::FieldChange;

use super::wording::Group;
use super::{Report, Status, markup, show};
use crate::core::report::cloud::ServerResult;
use crate::core::report::kubevirt::VmRunResult;
use crate::core::report::vpsie::{VpsieReport, VpsieRow, VpsieStatus};

/// Renders the report as `JUnit` XML.
pub fn render(report: &Report) -> String {
    let count = |f: fn(Status) -> bool| report.objects.iter().filter(|o| f(o.status)).count();
    let servers = report
        .cloud
        .as_ref()
        .map_or(&[][..], |c| c.servers.as_slice());
    let failing_servers = servers.iter().filter(|s| s.status.is_finding()).count();
    let vms = report
        .kubevirt
        .as_ref()
        .map_or(&[][..], |k| k.vms.as_slice());
    let failing_vms = vms.iter().filter(|v| v.status.is_finding()).count();
    let (vpsie_tests, vpsie_failures) = report
        .vpsie
        .as_ref()
        .map_or((0, 0), |v| (v.rows().count(), v.findings().count()));
    let failures = count(Status::is_finding)
        + usize::from(!report.hardware.is_empty())
        + failing_servers
        + vpsie_failures
        + failing_vms;
    let errors = count(|s| s == Status::Error);
    let skipped = count(|s| matches!(s, Status::Unmanaged | Status::Paused));
    let tests = report.objects.len()
        + usize::from(!report.hardware.is_empty())
        + servers.len()
        + vpsie_tests
        + vms.len();
    let mut out = open_suite(
        "plinth drift",
        &format!("drift.{}", report.cluster),
        &report.generated_at,
        [tests, failures, errors, skipped],
    );
    for o in &report.objects {
        open_case(&mut out, &report.cluster, &o.key);
        let mut body = String::new();
        // Information, not a failure: fields controllers manage, and (where the stale
        // overrides are not already in the failure) the overrides that do nothing.
        let mut system_out = String::new();
        for group in Group::ALL {
            let text = match group {
                // Like text and Markdown, an in-sync object's managed fields are left out.
                Group::Managed if o.status == Status::InSync => continue,
                Group::Managed => &mut system_out,
                Group::Changes | Group::PendingRemoval => &mut body,
            };
            for c in group.of(o) {
                field(text, c, report.content_diff(o, c), group.who_line(c));
            }
        }
        for n in &o.notes {
            let _ = writeln!(body, "{n}");
        }
        let failing = o.status.is_finding() || o.status == Status::Error;
        for s in &o.stale_overrides {
            if failing {
                let _ = writeln!(body, "{s}");
            } else {
                let _ = writeln!(system_out, "stale override: {s}");
            }
        }
        let system_out = if system_out.is_empty() {
            String::new()
        } else {
            format!("\n      <system-out>{}</system-out>", esc(&system_out))
        };
        match o.status {
            Status::InSync if system_out.is_empty() => {
                let _ = writeln!(out, "/>");
            }
            Status::InSync => {
                let _ = writeln!(out, ">{system_out}\n    </testcase>");
            }
            Status::Unmanaged | Status::Paused => {
                let _ = writeln!(
                    out,
                    ">\n      <skipped message=\"{}\"/>{system_out}\n    </testcase>",
                    o.status.as_str()
                );
            }
            s => {
                let tag = if s == Status::Error {
                    "error"
                } else {
                    "failure"
                };
                // A refused or invalid object's reason is its first note: the message says it.
                let reason = match (s, o.notes.first()) {
                    (Status::Refused | Status::Invalid, Some(n)) => format!(": {n}"),
                    _ => String::new(),
                };
                let _ = writeln!(
                    out,
                    ">\n      <{tag} message=\"{}\" type=\"{}\">{}</{tag}>{system_out}\n    </testcase>",
                    esc(&format!("{} {}{reason}", s.as_str(), o.key)),
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
    for s in servers {
        server_case(&mut out, &report.cluster, s);
    }
    for row in report.vpsie.iter().flat_map(VpsieReport::rows) {
        vpsie_case(&mut out, &report.cluster, row);
    }
    for v in vms {
        vm_case(&mut out, &report.cluster, v);
    }
    // The summary of the other formats' "stale overrides" section: the suite's own output
    // (not a test case: they are not drift, and the test cases stay one per object).
    let stale = report.stale_overrides();
    if !stale.is_empty() {
        let mut listing = String::from("stale overrides:\n");
        for (o, s) in stale {
            let _ = writeln!(listing, "  {}: {s}", o.key);
        }
        let _ = writeln!(out, "    <system-out>{}</system-out>", esc(&listing));
    }
    let _ = writeln!(out, "  </testsuite>\n</testsuites>");
    out
}

/// The test case of one cloud server (class `<cluster>.Server`, named
/// `server/<class>/<name>`): a finding is a failure with its differences and notes; what could
/// not be compared is the test case's `system-out`.
fn server_case(out: &mut String, cluster: &str, s: &ServerResult) {
    let class = s.machine_class.as_deref().unwrap_or("(none)");
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        esc(&format!("{cluster}.Server")),
        esc(&format!("server/{class}/{}", s.name))
    );
    let system_out = if s.not_comparable.is_empty() {
        String::new()
    } else {
        format!(
            "\n      <system-out>{}</system-out>",
            esc(&format!(
                "not comparable: {}\n",
                s.not_comparable.join(", ")
            ))
        )
    };
    if !s.status.is_finding() {
        if system_out.is_empty() {
            let _ = writeln!(out, "/>");
        } else {
            let _ = writeln!(out, ">{system_out}\n    </testcase>");
        }
        return;
    }
    let mut body = String::new();
    for c in &s.changes {
        field(&mut body, c, None, None);
    }
    for line in s
        .lines()
        .iter()
        .filter(|l| !l.starts_with("not comparable: "))
    {
        let _ = writeln!(body, "{line}");
    }
    let _ = writeln!(
        out,
        ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>{system_out}\n    </testcase>",
        esc(&format!("{} {}", s.status.as_str(), s.heading())),
        s.status.as_str(),
        esc(&body)
    );
}

/// The test case of one KubeVirt VM's run state (class `<cluster>.VirtualMachine`, named
/// `vm/<namespace>/<name>`): a finding is a failure with its state, error and notes; any
/// other VM passes, its lines in `system-out`.
fn vm_case(out: &mut String, cluster: &str, v: &VmRunResult) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        esc(&format!("{cluster}.VirtualMachine")),
        esc(&format!("vm/{}/{}", v.namespace, v.name))
    );
    let mut body = String::new();
    for line in v.lines() {
        let _ = writeln!(body, "{line}");
    }
    if v.status.is_finding() {
        let _ = writeln!(
            out,
            ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
            esc(&format!("{} {}", v.status.as_str(), v.heading())),
            v.status.as_str(),
            esc(&body)
        );
    } else {
        let _ = writeln!(
            out,
            ">\n      <system-out>{}</system-out>\n    </testcase>",
            esc(&format!("{}\n{body}", v.status.as_str()))
        );
    }
}

/// The test case of one VPSie group, VM or Node (class `<cluster>.Vpsie`, named
/// `<kind>/<key>`): a finding is a failure with its details and notes; a joining VM passes,
/// its details in the test case's `system-out`.
fn vpsie_case(out: &mut String, cluster: &str, row: &dyn VpsieRow) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        esc(&format!("{cluster}.Vpsie")),
        esc(&format!("{}/{}", row.kind(), row.key()))
    );
    let status = row.status();
    let mut body = String::new();
    for line in row.lines() {
        let _ = writeln!(body, "{line}");
    }
    if status.is_finding() {
        let _ = writeln!(
            out,
            ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>",
            esc(&format!("{} {}", status.as_str(), row.heading())),
            status.as_str(),
            esc(&body)
        );
    } else if status == VpsieStatus::Joining {
        let _ = writeln!(
            out,
            ">\n      <system-out>{}</system-out>\n    </testcase>",
            esc(&format!("{}\n{body}", status.as_str()))
        );
    } else {
        let _ = writeln!(out, "/>");
    }
}

/// The XML declaration, the `<testsuites>` named `suites` and its one `<testsuite>` named
/// `suite` at `timestamp`, both with the `[tests, failures, errors, skipped]` counts.
pub fn open_suite(suites: &str, suite: &str, timestamp: &str, counts: [usize; 4]) -> String {
    let [tests, failures, errors, skipped] = counts;
    let counts = format!(
        "tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\""
    );
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"{}\" {counts}>", esc(suites));
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" {counts} timestamp=\"{}\">",
        esc(suite),
        esc(timestamp)
    );
    out
}

/// The start of the test case of `key` (class `<cluster>.<Kind>`), its tag left open.
pub fn open_case(out: &mut String, cluster: &str, key: &ObjectRef) {
    let _ = write!(
        out,
        "    <testcase classname=\"{}\" name=\"{}\"",
        esc(&format!("{cluster}.{}", key.kind)),
        esc(&key.to_string())
    );
}

/// One changed field as lines: `<path>: desired X, live Y` (or the decoded `diff` of a file's
/// contents) and who wrote it.
pub fn field(out: &mut String, c: &FieldChange, diff: Option<&str>, who: Option<String>) {
    let who = who.map(|w| format!(", {w}")).unwrap_or_default();
    match diff {
        Some(diff) => {
            let _ = writeln!(
                out,
                "{}: file contents (decoded){who}:\n{}",
                c.shown_path(),
                diff.trim_end_matches('\n')
            );
        }
        None => {
            let _ = writeln!(
                out,
                "{}: desired {}, live {}{who}",
                c.shown_path(),
                show(c.before.as_ref()),
                show(c.after.as_ref())
            );
        }
    }
}

/// XML escaping for attributes and text.
pub fn esc(text: &str) -> String {
    markup::escape(text, markup::Dialect::Xml)
}
