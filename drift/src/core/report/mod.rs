//! The drift report: per-object results, the summary and hardware drift, redacted once before
//! any format sees it; one module per output format.

pub mod cloud;
pub mod html;
pub mod html_kit;
mod ignition;
pub mod json;
pub mod junit;
pub mod kubevirt;
pub mod markdown;
pub mod markup;
pub mod prometheus;
pub mod text;
pub mod vpsie;
pub mod wording;

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use plinth_vocab::redact::Redactor;

use plinth_vocab::ObjectRef;
use plinth_vocab::change::{FieldChange, Writer};

pub use cloud::CloudReport;
pub use ignition::ContentDiff;
pub use kubevirt::KubevirtReport;
pub use vpsie::VpsieReport;

/// The JSON report's schema version; changes are additive only.
pub const SCHEMA_VERSION: u32 = 1;

/// The report's `source` when only the cloud was compared (`--cloud-only`).
pub const NO_KUBERNETES_SOURCE: &str = "none";

/// An object's drift status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    /// Live matches desired.
    InSync,
    /// Live differs from desired; `changes` says where.
    Drifted,
    /// Rendered but not live.
    Missing,
    /// Live with plinth's labels for the cluster but no longer rendered.
    Orphaned,
    /// `<prefix>/mode: unmanaged`: not compared.
    Unmanaged,
    /// `<prefix>/reconcile-paused: "true"`: not compared.
    Paused,
    /// A `patch` override is not allowed (sensitive kind or forbidden path): not compared.
    Refused,
    /// An override annotation does not parse or cannot be applied: not compared.
    Invalid,
    /// The object could not be read or compared.
    Error,
}

impl Status {
    /// Every status, in report order.
    pub const ALL: [Self; 9] = [
        Self::InSync,
        Self::Drifted,
        Self::Missing,
        Self::Orphaned,
        Self::Unmanaged,
        Self::Paused,
        Self::Refused,
        Self::Invalid,
        Self::Error,
    ];

    /// The status as written in every format (`in-sync`, `drifted`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InSync => "in-sync",
            Self::Drifted => "drifted",
            Self::Missing => "missing",
            Self::Orphaned => "orphaned",
            Self::Unmanaged => "unmanaged",
            Self::Paused => "paused",
            Self::Refused => "refused",
            Self::Invalid => "invalid",
            Self::Error => "error",
        }
    }

    /// Whether this status is drift (or a broken override, which needs a human as much).
    pub fn is_finding(self) -> bool {
        matches!(
            self,
            Self::Drifted | Self::Missing | Self::Orphaned | Self::Refused | Self::Invalid
        )
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How desired and live were compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    /// Subset comparison after normalisation, in plinth.
    Client,
    /// Server-side apply dry-run compared with live.
    Server,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Client => "client",
            Self::Server => "server",
        }
    }
}

/// One object's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectResult {
    #[serde(flatten)]
    pub key: ObjectRef,
    pub api_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    pub status: Status,
    /// Each change's `before` is the desired value, `after` the live one; JSON names them so.
    #[serde(serialize_with = "desired_and_live")]
    pub changes: Vec<FieldChange>,
    /// Live fields plinth (or the GitOps controller syncing its output) applied earlier and no
    /// longer renders: the next apply removes them. Drift like `changes`.
    #[serde(
        serialize_with = "desired_and_live",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub pending_removal: Vec<FieldChange>,
    /// Live fields owned by a controller expected to write them (an autoscaler's `replicas`,
    /// an operator's annotations) that differ from desired or are not desired: reported as
    /// "managed by", not drift.
    #[serde(
        serialize_with = "desired_and_live",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub managed: Vec<FieldChange>,
    pub notes: Vec<String>,
    pub stale_overrides: Vec<String>,
}

impl ObjectResult {
    /// ` (asset `name`)` after the object's heading, or nothing when the asset is not known.
    pub fn asset_note(&self) -> String {
        self.asset
            .as_deref()
            .map(|a| format!(" (asset `{a}`)"))
            .unwrap_or_default()
    }
}

/// A hardware detector whose value in the committed inventory differs from the live nodes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HardwareDrift {
    pub detector: String,
    pub committed: bool,
    pub live: bool,
    /// Live nodes on which the detector holds.
    pub nodes: Vec<String>,
}

/// The whole report of one drift run.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema_version: u32,
    pub plinth_version: String,
    pub cluster: String,
    /// RFC 3339, UTC.
    pub generated_at: String,
    pub mode: Mode,
    /// `snapshot` or `cluster`.
    pub source: String,
    /// Number of objects per status (every status present, zeros included).
    pub summary: BTreeMap<Status, usize>,
    /// Objects sorted by group, kind, namespace and name.
    pub objects: Vec<ObjectResult>,
    pub hardware: Vec<HardwareDrift>,
    /// Cloud drift (`--cloud`, `--cloud-only`, `--cloud-snapshot`): the cluster's servers
    /// compared with its rendered machine classes. Absent without those flags (additive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cloud: Option<CloudReport>,
    /// KubeVirt run state: the rendered `VirtualMachine`s (with `--all-vms`, every listed VM)
    /// against their run strategy. Absent when not compared (additive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kubevirt: Option<KubevirtReport>,
    /// VPSie drift: the rendered node groups' VMs matched with the cluster's Nodes. Absent
    /// unless VPSie was compared (additive).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vpsie: Option<VpsieReport>,
    /// Decoded line diffs of changed `MachineConfig` file contents, made by
    /// [`Report::redacted`] (empty before): what the human formats show for those changes.
    #[serde(skip)]
    pub content_diffs: Vec<ContentDiff>,
}

/// What a report means for the exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Everything in sync (exit 0).
    InSync,
    /// Drift found (exit 1).
    Drift,
    /// Some object could not be read or compared (exit 2).
    Incomplete,
}

impl Report {
    /// A report over `objects` (sorted here), with the summary computed.
    pub fn new(
        cluster: &str,
        generated_at: String,
        mode: Mode,
        source: &str,
        mut objects: Vec<ObjectResult>,
        hardware: Vec<HardwareDrift>,
    ) -> Self {
        objects.sort_by(|a, b| a.key.cmp(&b.key).then(a.status.cmp(&b.status)));
        let mut summary: BTreeMap<Status, usize> = Status::ALL.iter().map(|s| (*s, 0)).collect();
        for o in &objects {
            *summary.entry(o.status).or_default() += 1;
        }
        Self {
            schema_version: SCHEMA_VERSION,
            plinth_version: plinth_renderer::VERSION.to_owned(),
            cluster: cluster.to_owned(),
            generated_at,
            mode,
            source: source.to_owned(),
            summary,
            objects,
            hardware,
            cloud: None,
            kubevirt: None,
            vpsie: None,
            content_diffs: Vec::new(),
        }
    }

    /// This report with the cloud results.
    #[must_use]
    pub fn with_cloud(mut self, cloud: CloudReport) -> Self {
        self.cloud = Some(cloud);
        self
    }

    /// This report with the KubeVirt run-state results.
    #[must_use]
    pub fn with_kubevirt(mut self, kubevirt: KubevirtReport) -> Self {
        self.kubevirt = Some(kubevirt);
        self
    }
    /// This report with the VPSie results.
    #[must_use]
    pub fn with_vpsie(mut self, vpsie: VpsieReport) -> Self {
        self.vpsie = Some(vpsie);
        self
    }

    /// The exit-code meaning of the report.
    pub fn verdict(&self) -> Verdict {
        if self.objects.iter().any(|o| o.status == Status::Error) {
            Verdict::Incomplete
        } else if self.objects.iter().any(|o| o.status.is_finding())
            || !self.hardware.is_empty()
            || self.cloud.as_ref().is_some_and(CloudReport::has_findings)
            || self
                .kubevirt
                .as_ref()
                .is_some_and(KubevirtReport::has_findings)
            || self.vpsie.as_ref().is_some_and(VpsieReport::has_findings)
        {
            Verdict::Drift
        } else {
            Verdict::InSync
        }
    }

    /// Number of objects with `status`.
    pub fn count(&self, status: Status) -> usize {
        self.summary.get(&status).copied().unwrap_or(0)
    }

    /// The statuses that at least one object has, with their counts, in [`Status::ALL`] order:
    /// the rows of every format's summary.
    pub fn status_counts(&self) -> impl Iterator<Item = (Status, usize)> + '_ {
        present_counts(Status::ALL, &self.summary)
    }

    /// The objects that are not in sync: the sections of the text and Markdown formats.
    pub fn not_in_sync(&self) -> impl Iterator<Item = &ObjectResult> {
        self.objects.iter().filter(|o| o.status != Status::InSync)
    }

    /// Every stale override with the object that carries it.
    pub fn stale_overrides(&self) -> Vec<(&ObjectResult, &String)> {
        self.objects
            .iter()
            .flat_map(|o| o.stale_overrides.iter().map(move |s| (o, s)))
            .collect()
    }

    /// `snapshot source, client-side comparison`: where live state came from and how it was
    /// compared.
    pub fn provenance(&self) -> String {
        if self.source == NO_KUBERNETES_SOURCE {
            return "cloud only, no Kubernetes comparison".to_owned();
        }
        format!(
            "{} source, {}-side comparison",
            self.source,
            self.mode.as_str()
        )
    }

    /// A copy with every secret value in changes and notes replaced by its fingerprint.
    /// `MachineConfig` file contents (`data:` URLs) are decoded first: a content that looks
    /// secret is replaced by its fingerprint, encoded or not; the others, when text, get a
    /// line diff in [`Report::content_diffs`] for the human formats.
    #[must_use]
    pub fn redacted(&self, redactor: &Redactor) -> Self {
        let mut out = self.clone();
        out.content_diffs.clear();
        out.cloud = self.cloud.as_ref().map(|c| c.redacted(redactor));
        out.kubevirt = self.kubevirt.as_ref().map(|k| k.redacted(redactor));
        out.vpsie = self.vpsie.as_ref().map(|v| v.redacted(redactor));
        for o in &mut out.objects {
            let lists = [&mut o.changes, &mut o.pending_removal, &mut o.managed];
            let diffs = redact_changes(redactor, &o.key, lists.into_iter().flatten());
            out.content_diffs.extend(diffs);
            for n in &mut o.notes {
                *n = redactor.redact_text(n);
            }
            for n in &mut o.stale_overrides {
                *n = redactor.redact_text(n);
            }
        }
        out
    }

    /// The decoded line diff of `change` of `object` (a `MachineConfig` file content), once
    /// redacted.
    pub fn content_diff(&self, object: &ObjectResult, change: &FieldChange) -> Option<&str> {
        self.content_diffs
            .iter()
            .find(|d| d.key == object.key && d.pointer == change.pointer)
            .map(|d| d.diff.as_str())
    }
}

/// The keys of `all` that `summary` counts at least once, with their counts, in `all`'s
/// order: the rows of a report's summary.
pub fn present_counts<'a, K: Ord + Copy + 'a>(
    all: impl IntoIterator<Item = K> + 'a,
    summary: &'a BTreeMap<K, usize>,
) -> impl Iterator<Item = (K, usize)> + 'a {
    all.into_iter()
        .filter_map(|k| summary.get(&k).map(|n| (k, *n)))
        .filter(|(_, n)| *n > 0)
}

/// Redacts the `changes` of the object `key` in place, as every report does before any format
/// sees them: each writer's names pass through [`Redactor::redact_text`], a change the
/// comparison flagged secret keeps only fingerprints, any other value is redacted exactly as
/// `diff` redacts it at its place ([`Redactor::redact_value_at`]), and `MachineConfig` file
/// contents are decoded first (a content that looks secret becomes the fingerprint of its
/// URL). Returns the decoded line diffs of the file contents that are text and not secret.
pub fn redact_changes<'a>(
    redactor: &Redactor,
    key: &ObjectRef,
    changes: impl IntoIterator<Item = &'a mut FieldChange>,
) -> Vec<ContentDiff> {
    let kind = &key.kind;
    let files = ignition::holds_files(key);
    let mut diffs = Vec::new();
    for c in changes {
        if let Some(w) = &mut c.writer {
            w.manager = redactor.redact_text(&w.manager);
            w.subresource = w.subresource.as_deref().map(|s| redactor.redact_text(s));
        }
        // A file's decoded content decides whether it is secret, not the look of its
        // encoded form (base64 looks random to the redactor).
        let decoded = if files {
            ignition::decode_change(redactor, &c.pointer, &mut c.before, &mut c.after)
        } else {
            None
        };
        if let Some(diff) = decoded.as_ref().and_then(|d| d.diff.clone()) {
            diffs.push(ContentDiff {
                key: key.clone(),
                pointer: c.pointer.clone(),
                diff,
            });
        }
        if c.secret && decoded.is_none() {
            let hide = |v: Value| match v {
                Value::Null => Value::Null,
                Value::String(s) => Value::String(redactor.fingerprint(&s)),
                other => Value::String(redactor.fingerprint(&other.to_string())),
            };
            c.before = c.before.take().map(hide);
            c.after = c.after.take().map(hide);
            continue;
        }
        if files {
            for side in [&mut c.before, &mut c.after].into_iter().flatten() {
                ignition::hide_secret_contents(redactor, &c.pointer, side);
            }
        }
        // The same code as `diff` (`Redactor::redact_object`), at this value's place.
        c.before = c
            .before
            .take()
            .map(|v| redactor.redact_value_at(kind, &c.pointer, &v));
        c.after = c
            .after
            .take()
            .map(|v| redactor.redact_value_at(kind, &c.pointer, &v));
        if let Some(path) = &mut c.keyed_path {
            *path = redactor.redact_text(path);
        }
    }
    diffs
}

/// A drift report's changes in JSON: `pointer`, `desired` and `live` (absent where the field
/// is absent on that side), the names of the documented report schema.
pub fn desired_and_live<S: serde::Serializer>(
    changes: &[FieldChange],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Field<'a> {
        pointer: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        keyed_path: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        desired: Option<&'a Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        live: Option<&'a Value>,
        #[serde(skip_serializing_if = "Option::is_none")]
        writer: Option<&'a Writer>,
    }
    serializer.collect_seq(changes.iter().map(|c| Field {
        pointer: &c.pointer,
        keyed_path: c.keyed_path.as_deref(),
        desired: c.before.as_ref(),
        live: c.after.as_ref(),
        writer: c.writer.as_ref(),
    }))
}

/// An RFC 3339 UTC timestamp (`2026-01-31T12:00:00Z`) for seconds since the Unix epoch.
pub fn rfc3339(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if m <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Parses the seconds back out of an [`rfc3339`] timestamp (for the Prometheus gauge).
pub fn epoch_of(ts: &str) -> Option<i64> {
    let b = ts.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| ts.get(r)?.parse::<i64>().ok();
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    Text,
    Json,
    Markdown,
    Junit,
    Prometheus,
    Html,
}

impl Format {
    /// Every format.
    pub const ALL: [Self; 6] = [
        Self::Text,
        Self::Json,
        Self::Markdown,
        Self::Junit,
        Self::Prometheus,
        Self::Html,
    ];

    /// The format's name, as `--format` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Json => "json",
            Self::Markdown => "markdown",
            Self::Junit => "junit",
            Self::Prometheus => "prometheus",
            Self::Html => "html",
        }
    }

    /// The format of that [`name`](Self::name), if any.
    pub fn named(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }

    /// File name used with `--output-dir`.
    pub fn file_name(self) -> &'static str {
        match self {
            Self::Text => "drift.txt",
            Self::Json => "drift.json",
            Self::Markdown => "drift.md",
            Self::Junit => "drift-junit.xml",
            Self::Prometheus => "drift.prom",
            Self::Html => "drift.html",
        }
    }

    /// Renders `report` (already redacted) in this format.
    pub fn render(self, report: &Report) -> String {
        match self {
            Self::Text => text::render(report),
            Self::Json => json::render(report),
            Self::Markdown => markdown::render(report),
            Self::Junit => junit::render(report),
            Self::Prometheus => prometheus::render(report),
            Self::Html => html::render(report),
        }
    }
}

/// A value as one line of compact JSON, `(absent)` for `None`.
pub fn show(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".to_owned(),
        Some(v) => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn timestamps_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_769_860_800), "2026-01-31T12:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        for secs in [0, 951_782_400, 1_769_860_800, 4_102_444_799] {
            assert_eq!(epoch_of(&rfc3339(secs)), Some(secs));
        }
    }

    #[test]
    fn redaction_covers_secret_paths_and_content() {
        let r = Redactor::with_key(b"k");
        let report = drifted(
            ObjectRef::new("v1", "Secret", Some("n"), "s"),
            vec![
                FieldChange::new(
                    "/data/password".into(),
                    Some(json!("aHVudGVyMg==")),
                    Some(json!("b3RoZXI=")),
                ),
                FieldChange::new("/data".into(), Some(json!({"token": "abc"})), None),
            ],
        );
        let red = report.redacted(&r);
        let text = serde_json::to_string(&red).unwrap();
        assert!(!text.contains("aHVudGVyMg=="), "{text}");
        assert!(!text.contains("b3RoZXI="), "{text}");
        assert!(!text.contains("abc"), "{text}");
        assert!(text.contains("<redacted hmac-sha256:"), "{text}");
    }

    /// `drift` reports only changed values, `diff` whole objects: both go through the same
    /// redaction code, so every value a diff hides, a drift report hides too, and the other
    /// way round.
    #[test]
    fn drift_redacts_every_value_exactly_as_diff_does() {
        let r = Redactor::with_key(b"k");
        let objects = [
            json!({"apiVersion": "example.io/v1", "kind": "Widget", "metadata": {"name": "w",
                "annotations": {"note": "AKIAIOSFODNN7EXAMPLE", "plain": "hello"}},
                "spec": {"neutral": "Zx8qR2vLp9Tn4WmK7bYc3HdJ6sFa", "config": "url: https://u:pw-1@h/x",
                    "list": ["ghp_0123456789abcdefghijABCDEFGHIJ012345", "keep"], "count": 3,
                    "digest": "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                    "nested": {"apiKey": "k1", "ok": "value"}}}),
            json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"},
                "data": {"x": "aHVudGVyMg=="}, "type": "Opaque"}),
        ];
        for obj in &objects {
            let whole = r.redact_object(obj);
            let api_version = obj["apiVersion"].as_str().unwrap();
            let kind = obj["kind"].as_str().unwrap();
            let mut pointers = Vec::new();
            collect_pointers(obj, String::new(), &mut pointers);
            let changes = pointers
                .iter()
                .map(|p| {
                    FieldChange::new(p.clone(), obj.pointer(p).cloned(), obj.pointer(p).cloned())
                })
                .collect();
            let report =
                drifted(ObjectRef::new(api_version, kind, None, "x"), changes).redacted(&r);
            for c in &report.objects[0].changes {
                let want = whole.pointer(&c.pointer).unwrap();
                assert_eq!(c.before.as_ref(), Some(want), "{kind} {}", c.pointer);
                assert_eq!(c.after.as_ref(), Some(want), "{kind} {}", c.pointer);
            }
        }
    }

    /// Hardware drift in the human formats, row by row.
    #[test]
    fn hardware_drift_rows() {
        let mut report = drifted(ObjectRef::new("v1", "ConfigMap", Some("n"), "c"), vec![]);
        report.hardware.push(HardwareDrift {
            detector: "gpuPresent".into(),
            committed: false,
            live: true,
            nodes: vec!["w1".into(), "w2".into()],
        });
        let html = Format::Html.render(&report);
        assert!(html.contains(
            "<tr><td><code>gpuPresent</code></td><td>false</td><td>true</td><td>w1, w2</td></tr>\n"
        ), "{html}");
        assert!(
            html.contains("<tr><td><span class=\"s drifted\">drifted</span></td><td>1</td></tr>\n"),
            "{html}"
        );
        let markdown = Format::Markdown.render(&report);
        assert!(
            markdown.contains("| `gpuPresent` | false | true | w1, w2 |\n"),
            "{markdown}"
        );
        assert!(markdown.contains("| drifted | 1 |\n"), "{markdown}");
    }

    fn writer(manager: &str, operation: &str, subresource: Option<&str>) -> Writer {
        Writer {
            manager: manager.into(),
            operation: operation.into(),
            time: Some("2026-11-29T10:02:00Z".into()),
            subresource: subresource.map(str::to_owned),
        }
    }

    fn data_url(text: &str) -> Value {
        use base64::Engine as _;
        json!(format!(
            "data:text/plain;charset=utf-8;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(text)
        ))
    }

    const PRIVATE_KEY: &str = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----\n";

    /// A Service drifted by hand (a keyed port changed by `kubectl-edit`, a label plinth no
    /// longer renders, replicas an autoscaler manages), a `MachineConfig` whose file contents
    /// changed (one readable, one a private key) and an in-sync object with a managed field.
    fn who_and_what() -> Report {
        let mut port = FieldChange::new(
            "/spec/ports/0/port".into(),
            Some(json!(80)),
            Some(json!(8080)),
        );
        port.keyed_path = Some("/spec/ports/[name=http]/port".into());
        port.writer = Some(writer("kubectl-edit", "Update", None));
        let plain = FieldChange::new(
            "/spec/type".into(),
            Some(json!("ClusterIP")),
            Some(json!("NodePort")),
        );
        let mut label = FieldChange::new("/metadata/labels/tier".into(), None, Some(json!("gold")));
        label.writer = Some(writer("plinth", "Apply", None));
        let mut replicas =
            FieldChange::new("/spec/replicas".into(), Some(json!(2)), Some(json!(5)));
        replicas.writer = Some(writer("kube-controller-manager", "Update", Some("scale")));
        let service = ObjectResult {
            key: ObjectRef::new("v1", "Service", Some("apps"), "web"),
            api_version: "v1".into(),
            asset: None,
            status: Status::Drifted,
            changes: vec![port, plain],
            pending_removal: vec![label],
            managed: vec![replicas.clone()],
            notes: vec![],
            stale_overrides: vec![],
        };
        let files = "/spec/config/storage/files";
        let conf = FieldChange::new(
            format!("{files}/0/contents/source"),
            Some(data_url(
                "options vfio-pci ids=10de:20b7\nsoftdep nouveau pre: vfio-pci\n",
            )),
            Some(data_url(
                "options vfio-pci ids=10de:1eb8\nsoftdep nouveau pre: vfio-pci\n",
            )),
        );
        let key = FieldChange::new(
            format!("{files}/1/contents/source"),
            Some(data_url("# no key yet\n")),
            Some(data_url(PRIVATE_KEY)),
        );
        // The comparison flags both: a base64 payload looks random to the redactor.
        let (mut conf, mut key) = (conf, key);
        conf.secret = true;
        key.secret = true;
        let machine_config = ObjectResult {
            key: ObjectRef::new(
                "machineconfiguration.openshift.io/v1",
                "MachineConfig",
                None,
                "100-worker-vfio-pci",
            ),
            api_version: "machineconfiguration.openshift.io/v1".into(),
            asset: None,
            status: Status::Drifted,
            changes: vec![conf, key],
            pending_removal: vec![],
            managed: vec![],
            notes: vec![],
            stale_overrides: vec![],
        };
        let in_sync = ObjectResult {
            key: ObjectRef::new("apps/v1", "Deployment", Some("apps"), "quiet"),
            api_version: "apps/v1".into(),
            asset: None,
            status: Status::InSync,
            changes: vec![],
            pending_removal: vec![],
            managed: vec![replicas],
            notes: vec![],
            stale_overrides: vec![],
        };
        Report::new(
            "c",
            rfc3339(0),
            Mode::Client,
            "cluster",
            vec![service, machine_config, in_sync],
            vec![],
        )
    }

    /// Who wrote a field and where it is (the keyed path, else the pointer), pending removals
    /// and controller-managed fields, in every human format.
    #[test]
    fn every_human_format_says_who_changed_what() {
        let report = who_and_what().redacted(&Redactor::with_key(b"k"));
        let by = "`kubectl-edit` (Update) at 2026-11-29T10:02:00Z";
        let plinth = "`plinth` (Apply) at 2026-11-29T10:02:00Z";
        let kcm = "`kube-controller-manager` (Update via scale) at 2026-11-29T10:02:00Z";
        let text = Format::Text.render(&report);
        contains_all(
            &text,
            &[
                "    /spec/ports/[name=http]/port\n      desired: 80\n      live:    8080\n      changed by `kubectl-edit` (Update) at 2026-11-29T10:02:00Z\n",
                "    /spec/type\n      desired: \"ClusterIP\"\n      live:    \"NodePort\"\n    /metadata/labels/tier\n",
                "      live:    \"gold\"\n      pending removal: applied by `plinth` (Apply) at 2026-11-29T10:02:00Z, no longer rendered; the next apply removes it\n",
                "    /spec/replicas\n      desired: 2\n      live:    5\n      managed by `kube-controller-manager` (Update via scale) at 2026-11-29T10:02:00Z, not drift\n",
            ],
        );
        assert!(
            !text.contains("quiet"),
            "in-sync objects stay out of text: {text}"
        );
        let markdown = Format::Markdown.render(&report);
        contains_all(
            &markdown,
            &[
                "| Field | Desired | Live | Changed by |\n|---|---|---|---|\n",
                &format!("| `/spec/ports/[name=http]/port` | `80` | `8080` | {by} |\n"),
                "| `/spec/type` | `\"ClusterIP\"` | `\"NodePort\"` |  |\n",
                "**Pending removal**: applied earlier, no longer rendered; the next apply removes them.\n\n| Field | Desired | Live | Applied by |\n",
                &format!("| `/metadata/labels/tier` | `(absent)` | `\"gold\"` | {plinth} |\n"),
                "**Managed by controllers** (not drift):\n\n| Field | Desired | Live | Managed by |\n",
                &format!("| `/spec/replicas` | `2` | `5` | {kcm} |\n"),
            ],
        );
        assert!(!markdown.contains("quiet"), "{markdown}");
        let html = Format::Html.render(&report);
        contains_all(
            &html,
            &[
                "<th>Changed by</th></tr><tr><td><code>/spec/ports/[name=http]/port</code></td><td><pre>80</pre></td><td><pre>8080</pre></td><td><code>kubectl-edit</code> (Update) at 2026-11-29T10:02:00Z</td></tr>",
                "<summary>1 pending removal(s): applied earlier, no longer rendered; the next apply removes them</summary>",
                "<summary>1 field(s) managed by controllers (not drift)</summary>",
            ],
        );
        let quiet = html.lines().find(|l| l.contains("apps/quiet")).unwrap();
        assert!(quiet.contains("<td><code>/spec/replicas</code></td><td><pre>2</pre></td><td><pre>5</pre></td><td><code>kube-controller-manager</code>"), "{quiet}");
        let junit = Format::Junit.render(&report);
        contains_all(
            &junit,
            &[
                "/spec/ports/[name=http]/port: desired 80, live 8080, changed by `kubectl-edit` (Update) at 2026-11-29T10:02:00Z\n",
                "/metadata/labels/tier: desired (absent), live &quot;gold&quot;, pending removal: applied by `plinth` (Apply)",
                "<system-out>/spec/replicas: desired 2, live 5, managed by `kube-controller-manager` (Update via scale) at 2026-11-29T10:02:00Z, not drift\n</system-out>",
            ],
        );
        assert!(
            junit.contains(
                "<testcase classname=\"c.Deployment\" name=\"Deployment.apps/apps/quiet\"/>"
            ),
            "an in-sync object's managed fields are for HTML and JSON: {junit}"
        );
        let failure = &junit[junit.find("<failure message=\"drifted Service").unwrap()..];
        let failure = &failure[..failure.find("</failure>").unwrap()];
        assert!(
            !failure.contains("managed by"),
            "managed fields are not the failure: {failure}"
        );
        let prometheus = Format::Prometheus.render(&report);
        assert!(
            prometheus.contains("plinth_drift_pending_removals{cluster=\"c\"} 1\n"),
            "{prometheus}"
        );
        assert!(
            prometheus.contains("plinth_drift_managed_fields{cluster=\"c\"} 2\n"),
            "{prometheus}"
        );
    }

    /// A changed `MachineConfig` file content is decoded and shown as a line diff; one that
    /// looks secret is a fingerprint in every format, never its text, decoded or encoded.
    #[test]
    fn ignition_file_contents_are_a_diff_unless_secret() {
        let report = who_and_what();
        let mc = |r: &Report| {
            r.objects
                .iter()
                .position(|o| o.key.kind == "MachineConfig")
                .unwrap()
        };
        let secret_url = report.objects[mc(&report)].changes[1]
            .after
            .clone()
            .unwrap();
        let secret_url = secret_url.as_str().unwrap();
        let redacted = report.redacted(&Redactor::with_key(b"k"));
        let diff = "--- desired\n+++ live\n@@ -1,2 +1,2 @@\n-options vfio-pci ids=10de:20b7\n+options vfio-pci ids=10de:1eb8\n softdep nouveau pre: vfio-pci\n";
        let text = Format::Text.render(&redacted);
        let indented = diff.replace('\n', "\n        ");
        let indented = format!("        {}", indented.trim_end());
        assert!(text.contains(&format!("    /spec/config/storage/files/0/contents/source\n      file contents (decoded):\n{indented}")), "{text}");
        let markdown = Format::Markdown.render(&redacted);
        assert!(markdown.contains("| `/spec/config/storage/files/0/contents/source` | *decoded below* | *decoded below* |\n"), "{markdown}");
        assert!(markdown.contains(&format!("`/spec/config/storage/files/0/contents/source` file contents (decoded):\n\n```diff\n{diff}```\n")), "{markdown}");
        let html = Format::Html.render(&redacted);
        assert!(
            html.contains(
                "<td colspan=\"2\"><pre>--- desired\n+++ live\n@@ -1,2 +1,2 @@\n-options"
            ),
            "{html}"
        );
        let junit = Format::Junit.render(&redacted);
        assert!(
            junit.contains(&format!(
                "/spec/config/storage/files/0/contents/source: file contents (decoded):\n{diff}"
            )),
            "{junit}"
        );
        let secret = &redacted.objects[mc(&redacted)].changes[1];
        assert!(
            secret
                .after
                .as_ref()
                .and_then(Value::as_str)
                .is_some_and(|s| s.starts_with("<redacted hmac-sha256:")),
            "{secret:?}"
        );
        for format in Format::ALL {
            let out = format.render(&redacted);
            for leak in [
                "PRIVATE KEY",
                "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ",
                &secret_url[40..80],
            ] {
                assert!(
                    !out.contains(leak),
                    "{} leaks `{leak}`:\n{out}",
                    format.name()
                );
            }
        }
        // Unredacted, nothing is decoded: the diffs are made by redaction only.
        assert!(
            !Format::Text
                .render(&report)
                .contains("file contents (decoded)")
        );
    }

    /// Asserts that `text` contains every one of `needles`.
    fn contains_all(text: &str, needles: &[&str]) {
        let missing: Vec<&&str> = needles.iter().filter(|n| !text.contains(**n)).collect();
        assert!(missing.is_empty(), "missing {missing:?} in:\n{text}");
    }

    /// A report of one drifted object of `key` with `changes`.
    fn drifted(key: ObjectRef, changes: Vec<FieldChange>) -> Report {
        let api_version = if key.group.is_empty() {
            "v1".to_owned()
        } else {
            format!("{}/v1", key.group)
        };
        Report::new(
            "c",
            rfc3339(0),
            Mode::Client,
            "snapshot",
            vec![ObjectResult {
                key,
                api_version,
                asset: None,
                status: Status::Drifted,
                changes,
                pending_removal: vec![],
                managed: vec![],
                notes: vec![],
                stale_overrides: vec![],
            }],
            vec![],
        )
    }

    fn collect_pointers(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    collect_pointers(child, format!("{at}/{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    collect_pointers(child, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
        out.push(at);
    }
}
