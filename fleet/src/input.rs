//! Reading one report: a file of bounded size, JSON, told apart by its content (a drift
//! report has `mode`, an apply report `dryRun`), read into the drift or apply report model.
//! Every string is redacted again on the way in (a report may be hand-crafted), and then the
//! report as a whole, as the command that wrote it did.

use std::io::Read as _;
use std::path::Path;

use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use plinth_apply::outcome::{ApplyReport, Conflict, ObjectOutcome, Outcome, Throttle};
use plinth_drift::core::report::cloud::{CloudOrigin, CloudReport, ServerResult, ServerStatus};
use plinth_drift::core::report::kubevirt::KubevirtReport;
use plinth_drift::core::report::vpsie::{VpsieOrigin, VpsieReport, VpsieResults};
use plinth_drift::core::report::{HardwareDrift, Mode, ObjectResult, Report, Status};
use plinth_vocab::ObjectRef;
use plinth_vocab::change::{FieldChange, Writer};
use plinth_vocab::redact::Redactor;

/// The largest report read by default (64 MiB).
pub const MAX_REPORT_BYTES: u64 = 64 * 1024 * 1024;

/// The schema version read.
const SCHEMA_VERSION: u64 = 1;

/// One report read.
#[derive(Debug, Clone, PartialEq)]
// One per file read, held while the page is built: the size of a variant does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Input {
    /// A `plinth drift --format json` report.
    Drift(Report),
    /// A `plinth apply --format json` report.
    Apply(ApplyReport),
}

impl Input {
    /// The cluster the report is about.
    pub fn cluster(&self) -> &str {
        match self {
            Self::Drift(r) => &r.cluster,
            Self::Apply(r) => &r.cluster,
        }
    }

    /// When the report was made (RFC 3339).
    pub fn generated_at(&self) -> &str {
        match self {
            Self::Drift(r) => &r.generated_at,
            Self::Apply(r) => &r.generated_at,
        }
    }
}

/// A report that cannot be read: the file, the field (when one is to blame) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{file}`: {}{message}", field.as_ref().map(|f| format!("field `{f}`: ")).unwrap_or_default())]
pub struct InputError {
    /// The file as named on the command line.
    pub file: String,
    /// The field path (`objects[3].status`), when one field is to blame.
    pub field: Option<String>,
    pub message: String,
}

/// Reads the report in `path`: at most `max_bytes` (a larger file is an error, nothing of it
/// is used), then [`parse`]d.
pub fn read(path: &Path, max_bytes: u64, redactor: &Redactor) -> Result<Input, InputError> {
    let file = path.display().to_string();
    let fail = |message: String| InputError {
        file: file.clone(),
        field: None,
        message,
    };
    // A FIFO or a device would block or never end: only regular files are read.
    let meta = std::fs::metadata(path).map_err(|e| fail(format!("cannot read: {e}")))?;
    if !meta.is_file() {
        return Err(fail("not a regular file".to_owned()));
    }
    let handle = std::fs::File::open(path).map_err(|e| fail(format!("cannot open: {e}")))?;
    let mut bytes = Vec::new();
    handle
        .take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| fail(format!("cannot read: {e}")))?;
    if bytes.len() as u64 > max_bytes {
        return Err(fail(format!(
            "larger than {max_bytes} bytes, the most a report may have"
        )));
    }
    parse(&file, &bytes, redactor)
}

/// Reads the report `bytes` of the file `file` (named in errors): JSON, a drift report (has
/// `mode`) or an apply report (has `dryRun`) of schema version 1.
pub fn parse(file: &str, bytes: &[u8], redactor: &Redactor) -> Result<Input, InputError> {
    let fail = |field: Option<&str>, message: String| InputError {
        file: file.to_owned(),
        field: field.map(str::to_owned),
        message,
    };
    let mut value: Value =
        serde_json::from_slice(bytes).map_err(|e| fail(None, format!("not JSON: {e}")))?;
    let Some(top) = value.as_object() else {
        return Err(fail(None, "not a report: not a JSON object".to_owned()));
    };
    match top.get("schemaVersion").and_then(Value::as_u64) {
        Some(SCHEMA_VERSION) => {}
        Some(other) => {
            return Err(fail(
                Some("schemaVersion"),
                format!("version {other} is not known (this plinth reads {SCHEMA_VERSION})"),
            ));
        }
        None => {
            return Err(fail(
                Some("schemaVersion"),
                "missing or not a number: not a plinth report".to_owned(),
            ));
        }
    }
    let is_apply = top.contains_key("dryRun");
    let is_drift = top.contains_key("mode");
    redact_strings(&mut value, redactor);
    let reader = Reader { file };
    let input = match (is_drift, is_apply) {
        (true, false) => Input::Drift(reader.drift(value)?.redacted(redactor)),
        (false, true) => Input::Apply(reader.apply(value)?.redacted(redactor)),
        _ => {
            return Err(fail(
                None,
                "not a drift report (field `mode`) or an apply report (field `dryRun`), or both"
                    .to_owned(),
            ));
        }
    };
    Ok(input)
}

/// Every string of `value` through [`Redactor::redact_text`] (keys stay: they are field
/// names or statuses, checked when read).
fn redact_strings(value: &mut Value, redactor: &Redactor) {
    match value {
        Value::String(s) => *s = redactor.redact_text(s),
        Value::Array(items) => items.iter_mut().for_each(|v| redact_strings(v, redactor)),
        Value::Object(map) => map.values_mut().for_each(|v| redact_strings(v, redactor)),
        _ => {}
    }
}

/// Reads the parts of one file, naming the field of each error.
struct Reader<'a> {
    file: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DriftTop {
    plinth_version: String,
    cluster: String,
    generated_at: String,
    mode: String,
    source: String,
    #[serde(default)]
    objects: Vec<Value>,
    #[serde(default)]
    hardware: Vec<Value>,
    cloud: Option<Value>,
    vpsie: Option<Value>,
    kubevirt: Option<Value>,
}

/// What identifies an object in both reports.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdWire {
    #[serde(default)]
    group: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    api_version: String,
    asset: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ObjectWire {
    #[serde(flatten)]
    id: IdWire,
    status: String,
    #[serde(default)]
    changes: Vec<ChangeWire>,
    #[serde(default)]
    pending_removal: Vec<ChangeWire>,
    #[serde(default)]
    managed: Vec<ChangeWire>,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    stale_overrides: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeWire {
    pointer: String,
    keyed_path: Option<String>,
    desired: Option<Value>,
    live: Option<Value>,
    writer: Option<WriterWire>,
}

#[derive(Deserialize)]
struct WriterWire {
    manager: String,
    operation: String,
    time: Option<String>,
    subresource: Option<String>,
}

#[derive(Deserialize)]
struct HardwareWire {
    detector: String,
    committed: bool,
    live: bool,
    #[serde(default)]
    nodes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CloudWire {
    provider: String,
    source: String,
    project_id: Option<String>,
    region: Option<String>,
    #[serde(default)]
    servers: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServerWire {
    name: String,
    id: Option<String>,
    machine_class: Option<String>,
    #[serde(default)]
    label: String,
    #[serde(default)]
    machine: String,
    status: String,
    server_status: Option<String>,
    power_status: Option<String>,
    replacement_key: Option<String>,
    #[serde(default)]
    changes: Vec<ChangeWire>,
    #[serde(default)]
    replacement: Vec<String>,
    #[serde(default)]
    not_comparable: Vec<String>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApplyTop {
    plinth_version: String,
    cluster: String,
    generated_at: String,
    dry_run: bool,
    source: String,
    #[serde(default)]
    objects: Vec<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApplyObjectWire {
    #[serde(flatten)]
    id: IdWire,
    #[serde(default)]
    wave: i64,
    outcome: String,
    reason: Option<String>,
    #[serde(default)]
    changes: Vec<ChangeWire>,
    #[serde(default)]
    conflicts: Vec<ConflictWire>,
    throttle: Option<ThrottleWire>,
    next_window: Option<String>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Deserialize)]
struct ConflictWire {
    manager: String,
    field: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ThrottleWire {
    tokens: u32,
    capacity: u32,
    #[serde(default)]
    throttled_runs: u32,
    next_token_at: Option<String>,
}

impl Reader<'_> {
    fn error(&self, field: &str, message: impl Into<String>) -> InputError {
        InputError {
            file: self.file.to_owned(),
            field: (!field.is_empty()).then(|| field.to_owned()),
            message: message.into(),
        }
    }

    /// `value` as a `T`; an error names `field`.
    fn typed<T: DeserializeOwned>(&self, field: &str, value: Value) -> Result<T, InputError> {
        serde_json::from_value(value).map_err(|e| self.error(field, e.to_string()))
    }

    /// Each item of the list `field` as a `W`, made into a `T` by `make` (given the item's
    /// path, `objects[3]`).
    fn items<W: DeserializeOwned, T>(
        &self,
        field: &str,
        values: Vec<Value>,
        make: impl Fn(&str, W) -> Result<T, InputError>,
    ) -> Result<Vec<T>, InputError> {
        values
            .into_iter()
            .enumerate()
            .map(|(i, v)| {
                let at = format!("{field}[{i}]");
                let wire: W = self.typed(&at, v)?;
                make(&at, wire)
            })
            .collect()
    }

    /// The [`Named`] value `value` of the field `name` of the item `at`.
    fn named<T: Named>(&self, at: &str, name: &str, value: &str) -> Result<T, InputError> {
        T::ALL
            .iter()
            .copied()
            .find(|s| s.name() == value)
            .ok_or_else(|| {
                let known: Vec<&str> = T::ALL.iter().map(|s| s.name()).collect();
                self.error(
                    &format!("{at}.{name}"),
                    format!("`{value}` is not one of {}", known.join(", ")),
                )
            })
    }

    fn drift(&self, value: Value) -> Result<Report, InputError> {
        let top: DriftTop = self.typed("", value)?;
        let mode = match top.mode.as_str() {
            "client" => Mode::Client,
            "server" => Mode::Server,
            other => {
                return Err(self.error("mode", format!("`{other}` is not client or server")));
            }
        };
        let objects = self.items("objects", top.objects, |at, o| self.object(at, o))?;
        let hardware = self.items("hardware", top.hardware, |_, h: HardwareWire| {
            Ok(HardwareDrift {
                detector: h.detector,
                committed: h.committed,
                live: h.live,
                nodes: h.nodes,
            })
        })?;
        let mut report = Report::new(
            &top.cluster,
            top.generated_at,
            mode,
            &top.source,
            objects,
            hardware,
        );
        report.plinth_version = top.plinth_version;
        if let Some(cloud) = top.cloud {
            report = report.with_cloud(self.cloud(cloud)?);
        }
        // Built again from their rows, as the objects are: the summaries and the order are
        // the model's, never what the file claims.
        if let Some(vpsie) = top.vpsie {
            let v: VpsieReport = self.typed("vpsie", vpsie)?;
            let origin = VpsieOrigin {
                source: v.source,
                cluster_identifier: v.cluster_identifier,
            };
            let rows = VpsieResults {
                groups: v.groups,
                vms: v.vms,
                nodes: v.nodes,
            };
            report = report.with_vpsie(VpsieReport::new(origin, rows, v.discovery_timeout_secs));
        }
        if let Some(kubevirt) = top.kubevirt {
            let k: KubevirtReport = self.typed("kubevirt", kubevirt)?;
            report = report.with_kubevirt(KubevirtReport::new(&k.source, k.all_vms, k.vms));
        }
        Ok(report)
    }

    fn object(&self, at: &str, o: ObjectWire) -> Result<ObjectResult, InputError> {
        let status = self.named::<Status>(at, "status", &o.status)?;
        Ok(ObjectResult {
            key: key(o.id.group, o.id.kind, o.id.namespace, o.id.name),
            api_version: o.id.api_version,
            asset: o.id.asset,
            status,
            changes: changes(o.changes),
            pending_removal: changes(o.pending_removal),
            managed: changes(o.managed),
            notes: o.notes,
            stale_overrides: o.stale_overrides,
        })
    }

    fn cloud(&self, value: Value) -> Result<CloudReport, InputError> {
        let c: CloudWire = self.typed("cloud", value)?;
        let servers = self.items("cloud.servers", c.servers, |at, s: ServerWire| {
            let status = self.named::<ServerStatus>(at, "status", &s.status)?;
            Ok(ServerResult {
                name: s.name,
                id: s.id,
                machine_class: s.machine_class,
                label: s.label,
                machine: s.machine,
                status,
                server_status: s.server_status,
                power_status: s.power_status,
                replacement_key: s.replacement_key,
                changes: changes(s.changes),
                replacement: s.replacement,
                not_comparable: s.not_comparable,
                notes: s.notes,
            })
        })?;
        let mut report = CloudReport::new(
            CloudOrigin {
                source: c.source,
                project_id: c.project_id,
                region: c.region,
            },
            servers,
        );
        report.provider = c.provider;
        Ok(report)
    }

    fn apply(&self, value: Value) -> Result<ApplyReport, InputError> {
        let top: ApplyTop = self.typed("", value)?;
        let objects = self.items("objects", top.objects, |at, o: ApplyObjectWire| {
            let outcome = self.named::<Outcome>(at, "outcome", &o.outcome)?;
            Ok(ObjectOutcome {
                key: key(o.id.group, o.id.kind, o.id.namespace, o.id.name),
                api_version: o.id.api_version,
                asset: o.id.asset,
                wave: o.wave,
                outcome,
                reason: o.reason,
                changes: changes(o.changes),
                conflicts: o
                    .conflicts
                    .into_iter()
                    .map(|c| Conflict {
                        manager: c.manager,
                        field: c.field,
                    })
                    .collect(),
                throttle: o.throttle.map(|t| Throttle {
                    tokens: t.tokens,
                    capacity: t.capacity,
                    throttled_runs: t.throttled_runs,
                    next_token_at: t.next_token_at,
                }),
                next_window: o.next_window,
                notes: o.notes,
            })
        })?;
        let mut report = ApplyReport::new(
            &top.cluster,
            top.generated_at,
            top.dry_run,
            &top.source,
            objects,
        );
        report.plinth_version = top.plinth_version;
        Ok(report)
    }
}

/// An object's reference from its JSON fields (an empty namespace is none).
fn key(group: String, kind: String, namespace: Option<String>, name: String) -> ObjectRef {
    ObjectRef {
        group,
        kind,
        namespace: namespace.filter(|n| !n.is_empty()),
        name,
    }
}

fn changes(wire: Vec<ChangeWire>) -> Vec<FieldChange> {
    wire.into_iter()
        .map(|c| {
            let mut change = FieldChange::new(c.pointer, c.desired, c.live);
            change.keyed_path = c.keyed_path;
            change.writer = c.writer.map(|w| Writer {
                manager: w.manager,
                operation: w.operation,
                time: w.time,
                subresource: w.subresource,
            });
            change
        })
        .collect()
}

/// A status or outcome read by its name.
trait Named: Copy + 'static {
    const ALL: &'static [Self];
    fn name(self) -> &'static str;
}

impl Named for Status {
    const ALL: &'static [Self] = &Status::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Named for ServerStatus {
    const ALL: &'static [Self] = &ServerStatus::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl Named for Outcome {
    const ALL: &'static [Self] = &Outcome::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}
