//! The disruption gate: "an unattended apply must not reboot a node pool at 3 pm". A step
//! whose change the PR preview's classifier ([`plinth_review::disruption::classify`]) calls
//! disruptive — node reboots, server replacement, VM re-provisioning or restarts, platform-wide
//! changes: every effect but a workload rollout — is made only while a maintenance window
//! ([`crate::window`]) is open, or with `--allow-disruption`; otherwise it is **held**: nothing
//! written (no gate token spent, no throttled run counted), its reason the classifier's message
//! and the next window.
//!
//! The classifier sees what preview sees: before = the live object, after = the apply body
//! (create: `added`, configure: `changed`, prune: `removed`), base = the live objects, head =
//! the rendered ones. So `plinth diff` and `plinth apply` agree on what is disruptive.

use plinth_drift::core::desired::DesiredObject;
use plinth_drift::core::live::LiveSet;
use plinth_renderer::render::RenderedObject;
use plinth_review::change::ObjectChange;
use plinth_review::disruption::{Disruption, Effect, classify};
use plinth_vocab::ObjectRef;
use plinth_vocab::labels::LABEL_ASSET;
use serde_json::Value;

use crate::window::{self, Verdict, Window};

/// What the gate says of one step's change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    /// Not disruptive: go ahead.
    Go,
    /// Disruptive, but a window is open or `--allow-disruption` was given: go ahead, with
    /// this note.
    Noted(String),
    /// Disruptive, and no window open: hold it, for this reason, until `next` (seconds since
    /// the epoch; none when no window is configured or none opens again).
    Hold { reason: String, next: Option<i64> },
}

/// The disruption gate of one plan: the windows, the flag, and what the classifier compares.
pub struct Gate<'a> {
    live: &'a LiveSet,
    desired: &'a [DesiredObject],
    windows: &'a [Window],
    allow: bool,
    cluster: &'a str,
    now: i64,
    /// The live (base) and rendered (head) objects, gathered for the first change judged.
    sides: Option<(Vec<RenderedObject>, Vec<RenderedObject>)>,
    verdict: Option<Verdict>,
}

impl<'a> Gate<'a> {
    /// The gate of a plan of `cluster` at `now` (seconds since the epoch): `windows`, and
    /// `allow` for `--allow-disruption`.
    pub fn new(
        live: &'a LiveSet,
        desired: &'a [DesiredObject],
        windows: &'a [Window],
        allow: bool,
        cluster: &'a str,
        now: i64,
    ) -> Self {
        Self {
            live,
            desired,
            windows,
            allow,
            cluster,
            now,
            sides: None,
            verdict: None,
        }
    }

    /// The disruptions (rollouts left out) of the change of `key` to `after` (the apply
    /// body; none for a delete), the live object being before.
    pub fn disruptions(
        &mut self,
        change: ObjectChange,
        key: &ObjectRef,
        after: Option<&Value>,
    ) -> Vec<Disruption> {
        let before = match change {
            ObjectChange::Added => None,
            _ => self.live.objects.get(key),
        };
        let (base, head) = self
            .sides
            .get_or_insert_with(|| sides(self.live, self.desired));
        classify(change, before, after, base, head)
            .into_iter()
            .filter(|d| d.effect != Effect::Rollout)
            .collect()
    }

    /// Whether the change of `key` to `after` goes ahead now.
    pub fn judge(
        &mut self,
        change: ObjectChange,
        key: &ObjectRef,
        after: Option<&Value>,
    ) -> Judgement {
        let found = self.disruptions(change, key, after);
        if found.is_empty() {
            return Judgement::Go;
        }
        let what: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        let what = what.join("; ");
        if self.allow {
            return Judgement::Noted(format!(
                "disruptive, applied with `--allow-disruption`: {what}"
            ));
        }
        let cluster = self.cluster;
        let (held, next) = match self
            .verdict
            .get_or_insert_with(|| window::verdict(self.windows, self.now))
        {
            Verdict::Open => {
                return Judgement::Noted(format!(
                    "disruptive, applied inside a maintenance window: {what}"
                ));
            }
            Verdict::NoWindows => (
                format!("held: no maintenance window configured for cluster `{cluster}`"),
                None,
            ),
            Verdict::Closed { next: Some(next) } => (
                format!("held until the maintenance window {}", next.shown),
                Some(next.at),
            ),
            Verdict::Closed { next: None } => (
                format!("held: no maintenance window of cluster `{cluster}` opens again"),
                None,
            ),
        };
        Judgement::Hold {
            reason: format!("{what}; {held}; --allow-disruption applies it now"),
            next,
        }
    }
}

/// The live objects (base) and the rendered ones (head) as the classifier takes them.
fn sides(
    live: &LiveSet,
    desired: &[DesiredObject],
) -> (Vec<RenderedObject>, Vec<RenderedObject>) {
    let base = live
        .objects
        .iter()
        .map(|(key, value)| RenderedObject {
            asset: value
                .pointer("/metadata/labels")
                .and_then(|l| l.get(LABEL_ASSET))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            wave: 0,
            identity: key.clone(),
            value: value.clone(),
        })
        .collect();
    let head = desired
        .iter()
        .map(|d| RenderedObject {
            asset: d.index.asset.clone(),
            wave: d.index.wave,
            identity: d.key(),
            value: d.value.clone(),
        })
        .collect();
    (base, head)
}
