//! The fleet's HTML page: self-contained like the single-cluster page (its head, style and
//! sections): the headline verdict, the clusters × status grid, the problems first with who
//! changed what, and per cluster (folded) the details of its drift and apply reports as their
//! own pages show them.

use std::fmt::Write as _;

use plinth_drift::core::report::html_kit::{self, badge, esc, inline};

use crate::{Fleet, Problem, Source};

/// Renders the fleet as one HTML page.
pub fn render(fleet: &Fleet) -> String {
    let mut out = String::new();
    html_kit::page_head(&mut out, "plinth fleet report");
    html_kit::verdict(&mut out, fleet.state().class(), &fleet.headline(), true);
    let mut meta = format!(
        "{} report(s) of {} cluster(s)",
        fleet.reports,
        fleet.clusters.len()
    );
    if let Some(at) = &fleet.generated_at {
        let _ = write!(meta, ", the newest generated {at}");
    }
    if fleet.superseded > 0 {
        let _ = write!(
            meta,
            "; {} older report(s) of a cluster replaced by a newer one",
            fleet.superseded
        );
    }
    let _ = writeln!(out, "<p class=\"meta\">{}.</p>", esc(&meta));
    grid(&mut out, fleet);
    problems(&mut out, &fleet.problems());
    clusters(&mut out, fleet);
    html_kit::page_end(&mut out);
    out
}

/// The clusters × status grid: a row per cluster (its state), a column per status some
/// cluster has, grouped by source; each cell a count in its status's look (titled with what
/// it counts), `0` in grey, `–` where the cluster has no such report.
fn grid(out: &mut String, fleet: &Fleet) {
    let columns = fleet.columns();
    out.push_str("<h2>Clusters</h2>\n<table class=\"grid\">\n<tr><th rowspan=\"2\">Cluster</th><th rowspan=\"2\">State</th>");
    let mut groups: Vec<(Source, usize)> = Vec::new();
    for (source, _) in &columns {
        match groups.last_mut() {
            Some((s, n)) if s == source => *n += 1,
            _ => groups.push((*source, 1)),
        }
    }
    for (source, n) in &groups {
        let _ = write!(out, "<th colspan=\"{n}\">{}</th>", esc(source.title()));
    }
    out.push_str("</tr>\n<tr>");
    for (_, status) in &columns {
        let _ = write!(out, "<th>{}</th>", badge(status));
    }
    out.push_str("</tr>\n");
    for c in &fleet.clusters {
        let state = c.state();
        let _ = write!(
            out,
            "<tr class=\"cluster\" data-state=\"{}\"><td><code>{}</code></td><td>{}</td>",
            state.class(),
            esc(&c.name),
            esc(state.word())
        );
        for (source, status) in &columns {
            match Fleet::count(c, *source, status) {
                Some(0) => out.push_str("<td class=\"zero\">0</td>"),
                Some(n) => {
                    let _ = write!(
                        out,
                        "<td class=\"n\" title=\"{n} {status} ({})\"><span class=\"s {status}\">{n}</span></td>",
                        esc(source.title())
                    );
                }
                None => out.push_str("<td class=\"zero\" title=\"no such report\">\u{2013}</td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
}

/// The problems, the worst first, with who changed the fields where the report knows.
fn problems(out: &mut String, problems: &[Problem]) {
    let _ = writeln!(out, "<h2>Problems ({})</h2>", problems.len());
    if problems.is_empty() {
        out.push_str("<p>None: every cluster is in sync.</p>\n");
        return;
    }
    out.push_str("<table class=\"problems\">\n<tr><th>Cluster</th><th>Status</th><th>What</th><th>Details</th><th>Changed by</th></tr>\n");
    for p in problems {
        let who: Vec<String> = p.who.iter().map(|w| inline(w)).collect();
        let _ = writeln!(
            out,
            "<tr class=\"row\" data-status=\"{s}\"><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&p.cluster),
            badge(&esc(&p.status)),
            inline(&p.what),
            inline(&p.detail),
            who.join("<br>"),
            s = esc(&p.status)
        );
    }
    out.push_str("</table>\n");
}

/// Each cluster's details, folded: its drift report as the single-cluster page shows it, its
/// apply report as apply's page does.
fn clusters(out: &mut String, fleet: &Fleet) {
    out.push_str("<h2>Clusters in detail</h2>\n");
    for c in &fleet.clusters {
        let state = c.state();
        let _ = writeln!(
            out,
            "<details class=\"cluster\"><summary><code>{}</code>: {}</summary>",
            esc(&c.name),
            esc(state.word())
        );
        if let Some(d) = &c.drift {
            let _ = writeln!(out, "<h3>Drift</h3>");
            plinth_drift::core::report::html::body(out, d, 4);
        }
        if let Some(a) = &c.apply {
            let _ = writeln!(out, "<h3>Apply</h3>");
            plinth_apply::report::html::body(out, a, inline);
        }
        out.push_str("</details>\n");
    }
}
