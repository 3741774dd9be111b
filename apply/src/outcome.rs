//! What `plinth apply` did, or would do, with each object: the outcome, its reason, the fields
//! it changes and who fought over them, the throttle state. Every report format renders
//! these; the JSON form is the documented schema (additive changes only).

use std::fmt;

use serde::Serialize;

use plinth_drift::core::report::{desired_and_live, present_counts, redact_changes};
use plinth_vocab::ObjectRef;
use plinth_vocab::change::FieldChange;
use plinth_vocab::redact::Redactor;

/// The JSON apply report's schema version.
pub const SCHEMA_VERSION: u32 = 1;

/// What happened to one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Missing live; created by apply (or would be, in a dry run).
    Created,
    /// Drifted; applied (or would be).
    Configured,
    /// In sync: not written.
    Unchanged,
    /// Drifted, but its anti-thrashing bucket is empty: left alone this run.
    Throttled,
    /// `<prefix>/reconcile-paused: "true"` (set by a person, or by plinth after repeated
    /// throttling): left alone.
    Paused,
    /// Not applied, for the reason given (unmanaged, refused or invalid override, CRD not
    /// served, not plinth's and no `--adopt`, ...).
    Skipped,
    /// A disruptive change outside the maintenance window: held until the next one.
    Held,
    /// The server refused the apply: another field manager owns a field (409).
    Conflict,
    /// A live object with plinth's labels for the cluster, no longer rendered, deleted with
    /// `--prune`.
    Pruned,
    /// The write failed (after retries), or the object could not be read or compared.
    Failed,
}

impl Outcome {
    /// Every outcome, in report order.
    pub const ALL: [Self; 10] = [
        Self::Created,
        Self::Configured,
        Self::Unchanged,
        Self::Throttled,
        Self::Paused,
        Self::Skipped,
        Self::Held,
        Self::Conflict,
        Self::Pruned,
        Self::Failed,
    ];

    /// The outcome as written in every format (`created`, `configured`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Configured => "configured",
            Self::Unchanged => "unchanged",
            Self::Throttled => "throttled",
            Self::Paused => "paused",
            Self::Skipped => "skipped",
            Self::Held => "held",
            Self::Conflict => "conflict",
            Self::Pruned => "pruned",
            Self::Failed => "failed",
        }
    }

    /// Whether the object was left unapplied in a way that needs a person (exit code 1):
    /// throttled, paused, held, conflict, failed.
    pub fn is_unapplied(self) -> bool {
        matches!(
            self,
            Self::Throttled | Self::Paused | Self::Held | Self::Conflict | Self::Failed
        )
    }

    /// The outcome as the text report's verb: [`as_str`](Self::as_str) for a run, and for a
    /// dry run what would be done (`would create`, `would configure`, `would prune`); the
    /// outcomes that write nothing read the same in both.
    pub fn verb(self, dry_run: bool) -> &'static str {
        match (self, dry_run) {
            (Self::Created, true) => "would create",
            (Self::Configured, true) => "would configure",
            (Self::Pruned, true) => "would prune",
            (outcome, _) => outcome.as_str(),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One field another manager owns that the apply would take (from a 409's
/// `details.causes`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The field manager that owns the field (`kubectl-edit`, `kube-controller-manager`).
    pub manager: String,
    /// The field, as the API server names it (`.spec.replicas`).
    pub field: String,
}

/// An object's anti-thrashing bucket when the run looked at it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Throttle {
    /// Applies left in the current window (before this run's apply, if any).
    pub tokens: u32,
    /// The bucket's capacity.
    pub capacity: u32,
    /// Consecutive runs that found the object throttled (pause after the configured number).
    pub throttled_runs: u32,
    /// When the next token frees up (RFC 3339), when the bucket is empty.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token_at: Option<String>,
}

impl fmt::Display for Throttle {
    /// `0 of 5 applies left, next at 2026-11-30T11:00:00Z, throttled 2 runs in a row` (the
    /// parts that say nothing left out).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} applies left", self.tokens, self.capacity)?;
        if let Some(at) = &self.next_token_at {
            write!(f, ", next at {at}")?;
        }
        match self.throttled_runs {
            0 => Ok(()),
            1 => f.write_str(", throttled 1 run"),
            n => write!(f, ", throttled {n} runs in a row"),
        }
    }
}

/// One object's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectOutcome {
    #[serde(flatten)]
    pub key: ObjectRef,
    pub api_version: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asset: Option<String>,
    /// The object's sync wave (reconcile order).
    pub wave: i64,
    pub outcome: Outcome,
    /// Why: the skip or hold reason, the failure, the pause; empty when it speaks for itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The fields the apply changes (desired and live values, with who wrote the live one),
    /// redacted like the drift report's. JSON: `pointer`, `desired`, `live`, `keyedPath`,
    /// `writer`, as in the drift report.
    #[serde(serialize_with = "desired_and_live")]
    pub changes: Vec<FieldChange>,
    /// The managers and fields of a conflict.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<Conflict>,
    /// The throttle state, where the gate was consulted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
    /// A held object: when the next maintenance window starts (RFC 3339 UTC); absent when
    /// none is configured or none opens again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_window: Option<String>,
    /// Anything else worth saying (labels restored, event emitted, retried).
    pub notes: Vec<String>,
}

/// A whole apply run's results, in apply order.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplyReport {
    pub schema_version: u32,
    pub plinth_version: String,
    pub cluster: String,
    /// RFC 3339 UTC.
    pub generated_at: String,
    /// Whether nothing was written (`--dry-run`): the outcomes say what would happen.
    pub dry_run: bool,
    /// Where live state came from: `snapshot` (a dry run only) or `cluster`.
    pub source: String,
    /// The number of objects per outcome; every outcome present.
    pub summary: std::collections::BTreeMap<Outcome, usize>,
    /// Every object, in the order applied (pruned objects last, in reverse order).
    pub objects: Vec<ObjectOutcome>,
}

impl ApplyReport {
    /// A report of `objects` (in apply order) with its summary.
    pub fn new(
        cluster: &str,
        generated_at: String,
        dry_run: bool,
        source: &str,
        objects: Vec<ObjectOutcome>,
    ) -> Self {
        let mut summary: std::collections::BTreeMap<Outcome, usize> =
            Outcome::ALL.iter().map(|o| (*o, 0)).collect();
        for o in &objects {
            *summary.entry(o.outcome).or_default() += 1;
        }
        Self {
            schema_version: SCHEMA_VERSION,
            plinth_version: env!("CARGO_PKG_VERSION").to_owned(),
            cluster: cluster.to_owned(),
            generated_at,
            dry_run,
            source: source.to_owned(),
            summary,
            objects,
        }
    }

    /// Exit code 1 when something was left unapplied (throttled, paused, held, conflict,
    /// failed), else 0.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.objects.iter().any(|o| o.outcome.is_unapplied()))
    }

    /// Number of objects with `outcome`.
    pub fn count(&self, outcome: Outcome) -> usize {
        self.summary.get(&outcome).copied().unwrap_or(0)
    }

    /// The outcomes that at least one object has, with their counts, in [`Outcome::ALL`]
    /// order: the rows of every format's summary.
    pub fn outcome_counts(&self) -> impl Iterator<Item = (Outcome, usize)> + '_ {
        present_counts(Outcome::ALL, &self.summary)
    }

    /// A copy fit for any format: the changes redacted exactly as the drift report's
    /// ([`redact_changes`]: a secret value is its fingerprint, a `MachineConfig` file content
    /// that looks secret once decoded too), and every reason, note and conflict passed through
    /// [`Redactor::redact_text`].
    #[must_use]
    pub fn redacted(&self, redactor: &Redactor) -> Self {
        let mut out = self.clone();
        for o in &mut out.objects {
            // The human formats show the redacted values; decoded file diffs are the drift
            // report's.
            let _diffs = redact_changes(redactor, &o.key, &mut o.changes);
            o.reason = o.reason.as_deref().map(|r| redactor.redact_text(r));
            for c in &mut o.conflicts {
                c.manager = redactor.redact_text(&c.manager);
                c.field = redactor.redact_text(&c.field);
            }
            for n in &mut o.notes {
                *n = redactor.redact_text(n);
            }
        }
        out
    }
}
