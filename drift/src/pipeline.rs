//! The Patched Baseline pipeline, per desired object, in the order of DESIGN §6: missing,
//! `mode: unmanaged`, `reconcile-paused`, `patch` (with its refusal rules), `ignore-fields`;
//! then comparison. Pure and synchronous: the live side is already read.

use serde_json::Value;

use plinth_renderer::render::{LABEL_CLUSTER, LABEL_MANAGED_BY};

use crate::compare::{FieldChange, compare_client_side};
use crate::desired::DesiredObject;
use crate::live::{LiveSet, ObjectKey};
use crate::overrides::{self, OverrideProblem, Overrides};
use crate::report::{ObjectResult, Status};

/// What the pipeline decided for one desired object before comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// The object's status is settled without a comparison (missing, unmanaged, paused,
    /// refused, invalid, error).
    Final(Status),
    /// Compare these two.
    Compare {
        effective_desired: Value,
        live: Value,
    },
}

/// One desired object after steps 1–4.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub key: ObjectKey,
    pub api_version: String,
    pub asset: Option<String>,
    pub outcome: Outcome,
    pub notes: Vec<String>,
    pub stale_overrides: Vec<String>,
}

impl Evaluation {
    /// The object's result once compared (`changes` is ignored for a final outcome).
    pub fn finish(self, changes: Vec<FieldChange>) -> ObjectResult {
        let status = match &self.outcome {
            Outcome::Final(status) => *status,
            Outcome::Compare { .. } if changes.is_empty() => Status::InSync,
            Outcome::Compare { .. } => Status::Drifted,
        };
        let changes = if matches!(self.outcome, Outcome::Final(_)) {
            Vec::new()
        } else {
            changes
        };
        ObjectResult {
            key: self.key,
            api_version: self.api_version,
            asset: self.asset,
            status,
            changes,
            notes: self.notes,
            stale_overrides: self.stale_overrides,
        }
    }
}

/// Steps 1–4 for every desired object.
pub fn evaluate(desired: &[DesiredObject], live: &LiveSet, prefix: &str) -> Vec<Evaluation> {
    desired
        .iter()
        .map(|d| evaluate_one(d, live, prefix))
        .collect()
}

fn evaluate_one(d: &DesiredObject, live: &LiveSet, prefix: &str) -> Evaluation {
    let key = d.key();
    let mut eval = Evaluation {
        key: key.clone(),
        api_version: d.index.api_version.clone(),
        asset: Some(d.index.asset.clone()),
        outcome: Outcome::Final(Status::Error),
        notes: Vec::new(),
        stale_overrides: Vec::new(),
    };
    // 1. missing (only where the listing succeeded; otherwise nothing can be said)
    let Some(live_obj) = live.objects.get(&key) else {
        if live.is_unserved(&key) {
            eval.outcome = Outcome::Final(Status::Missing);
            eval.notes.push(format!(
                "the cluster does not serve `{}` (CRD not installed?)",
                d.index.api_version
            ));
        } else if live.was_listed(&key) {
            eval.outcome = Outcome::Final(Status::Missing);
        } else {
            eval.notes.push(
                "the live object could not be read (its kind and namespace were not listed)".into(),
            );
        }
        return eval;
    };
    let o = Overrides::resolve(&d.value, live_obj, prefix);
    // 2. unmanaged, paused
    match o.mode.as_deref() {
        Some("unmanaged") => {
            eval.notes
                .push(format!("`{prefix}/mode: unmanaged`: not compared"));
            eval.outcome = Outcome::Final(Status::Unmanaged);
            return eval;
        }
        Some("managed") | None => {}
        Some(other) => {
            eval.notes.push(format!(
                "`{prefix}/mode` is `{other}`; expected `unmanaged` or `managed`"
            ));
            eval.outcome = Outcome::Final(Status::Invalid);
            return eval;
        }
    }
    match o.paused.as_deref() {
        Some("true") => {
            eval.notes.push(format!(
                "`{prefix}/reconcile-paused: \"true\"`: not compared"
            ));
            eval.outcome = Outcome::Final(Status::Paused);
            return eval;
        }
        Some("false") | None => {}
        Some(other) => {
            eval.notes.push(format!(
                "`{prefix}/reconcile-paused` is `{other}`; expected `\"true\"` or `\"false\"`"
            ));
            eval.outcome = Outcome::Final(Status::Invalid);
            return eval;
        }
    }
    // 3. patch
    let mut effective = d.value.clone();
    if let Some(text) = &o.patch {
        let applied = overrides::parse_patch(text, &key.kind, prefix)
            .and_then(|p| overrides::apply_patch(&effective, &p, prefix));
        match applied {
            Ok(patched) => {
                if patched == effective {
                    eval.stale_overrides.push(format!(
                        "`{prefix}/patch` changes nothing in the desired object"
                    ));
                }
                eval.notes.push(format!(
                    "`{prefix}/patch` applied (from the {} object)",
                    o.origin
                ));
                effective = patched;
            }
            Err(problem) => return settle(eval, problem),
        }
    }
    // 4. ignore-fields
    if let Some(text) = &o.ignore_fields {
        let result = overrides::parse_ignore_fields(text, prefix).and_then(|ptrs| {
            overrides::apply_ignore_fields(&mut effective, live_obj, &ptrs, prefix)
        });
        match result {
            Ok(stale) => {
                eval.notes
                    .push(format!("`{prefix}/ignore-fields` applied: {}", text.trim()));
                for p in stale {
                    eval.stale_overrides.push(format!(
                        "`{prefix}/ignore-fields`: `{p}` is absent in both desired and live"
                    ));
                }
            }
            Err(problem) => return settle(eval, problem),
        }
    }
    eval.outcome = Outcome::Compare {
        effective_desired: effective,
        live: live_obj.clone(),
    };
    eval
}

fn settle(mut eval: Evaluation, problem: OverrideProblem) -> Evaluation {
    let (status, message) = match problem {
        OverrideProblem::Invalid(m) => (Status::Invalid, m),
        OverrideProblem::Refused(m) => (Status::Refused, m),
    };
    eval.notes.push(message);
    eval.outcome = Outcome::Final(status);
    eval
}

/// Live objects labelled as plinth's for `cluster` that are not rendered any more.
pub fn orphans(desired: &[DesiredObject], live: &LiveSet, cluster: &str) -> Vec<ObjectResult> {
    let rendered: std::collections::BTreeSet<ObjectKey> =
        desired.iter().map(DesiredObject::key).collect();
    live.objects
        .iter()
        .filter(|(key, obj)| {
            let label = |name: &str| {
                obj.pointer("/metadata/labels")
                    .and_then(|l| l.get(name))
                    .and_then(Value::as_str)
            };
            !rendered.contains(*key)
                && label(LABEL_MANAGED_BY) == Some("plinth")
                && label(LABEL_CLUSTER) == Some(cluster)
        })
        .map(|(key, obj)| ObjectResult {
            key: key.clone(),
            api_version: obj
                .get("apiVersion")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            asset: obj
                .pointer("/metadata/labels")
                .and_then(|l| l.get(plinth_renderer::render::LABEL_ASSET))
                .and_then(Value::as_str)
                .map(str::to_owned),
            status: Status::Orphaned,
            changes: Vec::new(),
            notes: vec![
                "carries plinth's labels for this cluster but is no longer rendered".into(),
            ],
            stale_overrides: Vec::new(),
        })
        .collect()
}

/// The whole client-side run: evaluate, compare each object client-side, add orphans.
pub fn run_client_side(
    desired: &[DesiredObject],
    live: &LiveSet,
    prefix: &str,
    cluster: &str,
) -> Vec<ObjectResult> {
    let mut results: Vec<ObjectResult> = evaluate(desired, live, prefix)
        .into_iter()
        .map(|eval| {
            let changes = match &eval.outcome {
                Outcome::Compare {
                    effective_desired,
                    live,
                } => compare_client_side(effective_desired, live, &eval.key.kind),
                Outcome::Final(_) => Vec::new(),
            };
            eval.finish(changes)
        })
        .collect();
    results.extend(orphans(desired, live, cluster));
    results
}
