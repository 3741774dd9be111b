//! plinth's fleet view: the JSON reports of `plinth drift` and `plinth apply` runs of many
//! clusters ([`input`]) gathered into one [`Fleet`], written as one self-contained HTML page
//! ([`page`]: a headline verdict, a clusters × status grid, the problems first with who
//! changed what, and per cluster the single-cluster page's details) and as a Markdown
//! summary for an issue comment ([`summary`]).
//!
//! Deterministic: clusters by name, the page's time is the newest report's `generatedAt`.

pub mod input;
pub mod page;
pub mod summary;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use plinth_apply::outcome::ApplyReport;
use plinth_drift::core::report::html_kit::look_of;
use plinth_drift::core::report::vpsie::VpsieReport;
use plinth_drift::core::report::{NO_KUBERNETES_SOURCE, Report, Verdict};
use plinth_vocab::change::FieldChange;

pub use input::{Input, InputError, MAX_REPORT_BYTES, parse, read};

/// The statuses below this rank need a look (`unmanaged`, `skipped` and what was written or
/// is in sync do not).
const PROBLEM_RANK: u8 = 13;

/// One cluster's newest drift and apply reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    pub name: String,
    pub drift: Option<Report>,
    pub apply: Option<ApplyReport>,
}

/// What a cluster's reports, or the fleet's, say overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum State {
    /// Nothing needs a look.
    InSync,
    /// Drift, unhealthy cloud resources or work left unapplied.
    Problems,
    /// A drift report could not compare some object.
    Incomplete,
}

impl State {
    /// The headline's class: `in-sync`, `drift` or `incomplete`.
    pub fn class(self) -> &'static str {
        match self {
            Self::InSync => "in-sync",
            Self::Problems => "drift",
            Self::Incomplete => "incomplete",
        }
    }

    /// `in sync`, `problems`, `incomplete`.
    pub fn word(self) -> &'static str {
        match self {
            Self::InSync => "in sync",
            Self::Problems => "problems",
            Self::Incomplete => "incomplete",
        }
    }
}

impl Cluster {
    /// The cluster's state from both its reports.
    pub fn state(&self) -> State {
        let drift = self
            .drift
            .as_ref()
            .map_or(State::InSync, |r| match r.verdict() {
                Verdict::InSync => State::InSync,
                Verdict::Drift => State::Problems,
                Verdict::Incomplete => State::Incomplete,
            });
        let apply = match &self.apply {
            Some(a) if a.objects.iter().any(|o| o.outcome.is_unapplied()) => State::Problems,
            _ => State::InSync,
        };
        drift.max(apply)
    }
}

/// Which results a grid column counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Source {
    /// Kubernetes objects of a drift report.
    Objects,
    /// STACKIT servers of a drift report.
    Servers,
    /// VPSie node groups, VMs and Nodes of a drift report.
    Vpsie,
    /// KubeVirt VMs' run state of a drift report.
    Kubevirt,
    /// Objects of an apply report, by outcome.
    Apply,
}

impl Source {
    /// `objects`, `servers`, `apply`: in a column's name.
    pub fn noun(self) -> &'static str {
        match self {
            Self::Objects => "objects",
            Self::Servers => "servers",
            Self::Vpsie => "VPSie",
            Self::Kubevirt => "VMs",
            Self::Apply => "apply",
        }
    }

    /// `Kubernetes objects`, `STACKIT servers`, `Apply`.
    pub fn title(self) -> &'static str {
        match self {
            Self::Objects => "Kubernetes objects",
            Self::Servers => "STACKIT servers",
            Self::Vpsie => "VPSie nodes",
            Self::Kubevirt => "KubeVirt VMs",
            Self::Apply => "Apply",
        }
    }
}

/// One problem of one cluster, for the list that comes first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub cluster: String,
    /// The status or outcome (`drifted`, `throttled`).
    pub status: String,
    /// What has it, in the wording's text (`` `Deployment.apps/apps/web` ``).
    pub what: String,
    /// What is wrong, in the wording's text (changed fields, the reason).
    pub detail: String,
    /// Who wrote the changed fields, where the report knows (`` `kubectl-edit` (Update) at
    /// T ``), one entry per writer.
    pub who: Vec<String>,
}

/// The clusters of a set of reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    /// Sorted by name.
    pub clusters: Vec<Cluster>,
    /// The newest report's `generatedAt` (none without reports).
    pub generated_at: Option<String>,
    /// Reports read.
    pub reports: usize,
    /// Older reports of a cluster and kind that a newer one replaced.
    pub superseded: usize,
}

impl Fleet {
    /// The fleet of `inputs` (already redacted by [`read`]/[`parse`]): per cluster the newest
    /// drift and the newest apply report (by `generatedAt`; on a tie the first given).
    pub fn new(inputs: Vec<Input>) -> Self {
        let reports = inputs.len();
        let generated_at = inputs.iter().map(|i| i.generated_at().to_owned()).max();
        let mut clusters: BTreeMap<String, Cluster> = BTreeMap::new();
        let mut superseded = 0;
        for input in inputs {
            let cluster = clusters
                .entry(input.cluster().to_owned())
                .or_insert_with(|| Cluster {
                    name: input.cluster().to_owned(),
                    drift: None,
                    apply: None,
                });
            match input {
                Input::Drift(r) => {
                    keep_newest(&mut cluster.drift, r, |r| &r.generated_at, &mut superseded);
                }
                Input::Apply(r) => {
                    keep_newest(&mut cluster.apply, r, |r| &r.generated_at, &mut superseded);
                }
            }
        }
        Self {
            clusters: clusters.into_values().collect(),
            generated_at,
            reports,
            superseded,
        }
    }

    /// The fleet's state: the worst of its clusters'.
    pub fn state(&self) -> State {
        self.clusters
            .iter()
            .map(Cluster::state)
            .max()
            .unwrap_or(State::InSync)
    }

    /// The headline: `Problems in 2 of 5 clusters`, `Incomplete: …`, `In sync: 5 clusters`.
    pub fn headline(&self) -> String {
        let n = self.clusters.len();
        let count = |s: State| self.clusters.iter().filter(|c| c.state() == s).count();
        let (problems, incomplete) = (count(State::Problems), count(State::Incomplete));
        let noun = if n == 1 { "cluster" } else { "clusters" };
        match self.state() {
            State::InSync => format!("In sync: {n} {noun}"),
            State::Problems => format!("Problems in {problems} of {n} {noun}"),
            State::Incomplete => {
                let mut text = format!("Incomplete: {incomplete} of {n} {noun} not fully compared");
                if problems > 0 {
                    let _ = write!(text, "; problems in {problems} more");
                }
                text
            }
        }
    }

    /// The grid's columns: every (source, status) some cluster has at least once, by source
    /// and then problems first.
    pub fn columns(&self) -> Vec<(Source, &'static str)> {
        let mut seen: Vec<(Source, u8, &'static str)> = Vec::new();
        for c in &self.clusters {
            for (source, status, n) in counts(c) {
                if n > 0 && !seen.iter().any(|(s, _, x)| *s == source && *x == status) {
                    seen.push((source, look_of(status).rank, status));
                }
            }
        }
        seen.sort_unstable();
        seen.into_iter().map(|(s, _, x)| (s, x)).collect()
    }

    /// The count of `status` of `source` in `cluster`; `None` when the cluster has no report
    /// of that source.
    pub fn count(cluster: &Cluster, source: Source, status: &str) -> Option<usize> {
        let has = match source {
            Source::Objects => cluster
                .drift
                .as_ref()
                .is_some_and(|d| d.source != NO_KUBERNETES_SOURCE),
            Source::Servers => cluster.drift.as_ref().is_some_and(|d| d.cloud.is_some()),
            Source::Vpsie => cluster.drift.as_ref().is_some_and(|d| d.vpsie.is_some()),
            Source::Kubevirt => cluster.drift.as_ref().is_some_and(|d| d.kubevirt.is_some()),
            Source::Apply => cluster.apply.is_some(),
        };
        has.then(|| {
            counts(cluster)
                .into_iter()
                .filter(|(s, x, _)| *s == source && *x == status)
                .map(|(_, _, n)| n)
                .sum()
        })
    }

    /// Every problem of every cluster, the worst first (orphans, drift, missing, unhealthy
    /// servers, failed applies, ...), then by cluster.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out: Vec<(u8, Problem)> = Vec::new();
        for c in &self.clusters {
            let mut push = |status: &str, what: String, detail: String, who: Vec<String>| {
                let rank = look_of(status).rank;
                if rank < PROBLEM_RANK {
                    out.push((
                        rank,
                        Problem {
                            cluster: c.name.clone(),
                            status: status.to_owned(),
                            what,
                            detail,
                            who,
                        },
                    ));
                }
            };
            if let Some(d) = &c.drift {
                for o in &d.objects {
                    let fields: Vec<&FieldChange> =
                        o.changes.iter().chain(&o.pending_removal).collect();
                    let detail = match (fields.is_empty(), o.notes.first()) {
                        (false, _) => paths(&fields),
                        (true, Some(note)) => note.clone(),
                        (true, None) => String::new(),
                    };
                    push(
                        o.status.as_str(),
                        code(&o.key.to_string()),
                        detail,
                        writers(&fields),
                    );
                }
                for h in &d.hardware {
                    push(
                        "drifted",
                        format!("hardware {}", code(&h.detector)),
                        format!(
                            "committed {}, live {} on {}",
                            h.committed,
                            h.live,
                            if h.nodes.is_empty() {
                                "no node".to_owned()
                            } else {
                                h.nodes.join(", ")
                            }
                        ),
                        Vec::new(),
                    );
                }
                for s in d.cloud.iter().flat_map(|c| &c.servers) {
                    let fields: Vec<&FieldChange> = s.changes.iter().collect();
                    let mut detail = vec![];
                    if !fields.is_empty() {
                        detail.push(paths(&fields));
                    }
                    detail.extend(s.lines());
                    push(
                        s.status.as_str(),
                        s.heading(),
                        detail.join("; "),
                        Vec::new(),
                    );
                }
                for r in d.vpsie.iter().flat_map(VpsieReport::rows) {
                    push(
                        r.status().as_str(),
                        r.heading(),
                        r.lines().join("; "),
                        Vec::new(),
                    );
                }
                for v in d.kubevirt.iter().flat_map(|k| &k.vms) {
                    push(
                        v.status.as_str(),
                        v.heading(),
                        v.lines().join("; "),
                        Vec::new(),
                    );
                }
            }
            if let Some(a) = &c.apply {
                for o in &a.objects {
                    let fields: Vec<&FieldChange> = o.changes.iter().collect();
                    let mut detail = plinth_apply::report::details(o);
                    if detail.is_empty() && !fields.is_empty() {
                        detail.push(paths(&fields));
                    }
                    push(
                        o.outcome.as_str(),
                        format!("{} (apply)", code(&o.key.to_string())),
                        detail.join("; "),
                        writers(&fields),
                    );
                }
            }
        }
        out.sort_by(|(ra, a), (rb, b)| ra.cmp(rb).then_with(|| a.cluster.cmp(&b.cluster)));
        out.into_iter().map(|(_, p)| p).collect()
    }
}

/// Keeps in `slot` the newer of it and `report`, counting the other as superseded.
fn keep_newest<R>(
    slot: &mut Option<R>,
    report: R,
    at: impl Fn(&R) -> &String,
    superseded: &mut usize,
) {
    match slot {
        Some(kept) if at(kept) >= at(&report) => *superseded += 1,
        Some(_) => {
            *superseded += 1;
            *slot = Some(report);
        }
        None => *slot = Some(report),
    }
}

/// Every (source, status, count) of a cluster's reports.
fn counts(c: &Cluster) -> Vec<(Source, &'static str, usize)> {
    let mut out = Vec::new();
    if let Some(d) = &c.drift {
        out.extend(
            d.status_counts()
                .map(|(s, n)| (Source::Objects, s.as_str(), n)),
        );
        if let Some(cloud) = &d.cloud {
            out.extend(
                cloud
                    .status_counts()
                    .map(|(s, n)| (Source::Servers, s.as_str(), n)),
            );
        }
        if let Some(vpsie) = &d.vpsie {
            out.extend(
                vpsie
                    .status_counts()
                    .map(|(s, n)| (Source::Vpsie, s.as_str(), n)),
            );
        }
        if let Some(kubevirt) = &d.kubevirt {
            out.extend(
                kubevirt
                    .status_counts()
                    .map(|(s, n)| (Source::Kubevirt, s.as_str(), n)),
            );
        }
    }
    if let Some(a) = &c.apply {
        out.extend(
            a.outcome_counts()
                .map(|(o, n)| (Source::Apply, o.as_str(), n)),
        );
    }
    out
}

/// `text` as a code span of the wording.
fn code(text: &str) -> String {
    plinth_drift::core::report::html::code_span(text)
}

/// The fields' paths as code spans, at most five and a count of the rest.
fn paths(fields: &[&FieldChange]) -> String {
    const SHOWN: usize = 5;
    let mut out: Vec<String> = fields
        .iter()
        .take(SHOWN)
        .map(|c| code(c.shown_path()))
        .collect();
    if fields.len() > SHOWN {
        out.push(format!("and {} more", fields.len() - SHOWN));
    }
    out.join(", ")
}

/// Who wrote the fields, each writer once, in the order first seen.
fn writers(fields: &[&FieldChange]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in fields.iter().filter_map(|c| c.writer.as_ref()) {
        let text = w.to_string();
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}
