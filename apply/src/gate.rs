//! The anti-thrashing gate: a token bucket per object whose state lives in the object's
//! `<prefix>/apply-history` annotation, so successive runs, pods and machines share it.
//!
//! The annotation's format, version 1: `v1 t=<runs>` followed, when there are any, by a space
//! and the times of plinth's recent applies in seconds since the epoch, oldest first,
//! comma-separated (`v1 t=0 1764500000,1764500360`). `<runs>` counts the consecutive runs that
//! found the bucket empty. At most `capacity` times are kept, so the value stays short. A
//! value that does not read (a person edited it) counts as an empty bucket, with a
//! [`GateProblem`] to report; a time in the future (another machine's clock runs ahead) counts
//! as now, so it holds a token for one window at most.

use std::fmt;

use plinth_drift::core::report::rfc3339;
use plinth_renderer::settings::Throttle;

use crate::outcome;

/// The annotation's name after the prefix: `<prefix>/apply-history`.
pub const HISTORY: &str = plinth_drift::core::pipeline::GATE_HISTORY;

/// The version tag the annotation starts with.
const VERSION: &str = "v1";

/// The longest value read; a longer one is garbled (at 20 bytes a time, room for 1,000 times).
const MAX_LEN: usize = 20 * 1024;

/// Why the annotation was not read; the bucket then counts as empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateProblem {
    /// Not in the format plinth writes.
    #[error("`{annotation}` is not `v1 t=<runs> <times>` ({why}): read as an empty bucket")]
    Garbled {
        /// The annotation's full name.
        annotation: String,
        why: String,
    },
    /// Written by a newer plinth in a format this one does not know.
    #[error(
        "`{annotation}` has format `{version}`, this plinth reads `v1`: read as an empty bucket"
    )]
    Unsupported { annotation: String, version: String },
}

/// What the gate says about one apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Apply; `tokens` were left before this apply takes one.
    Allow { tokens: u32 },
    /// The bucket is empty: leave the object alone this run; the next token frees up at
    /// `next_token_at` (seconds since the epoch).
    Throttled { next_token_at: i64 },
    /// The bucket is empty for the `pause_after`-th run in a row (this one counted): set
    /// `<prefix>/reconcile-paused: "true"` and emit `ThrashingDetected`.
    Pause,
}

/// One object's bucket, as read from its annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bucket {
    /// Times of recent applies (seconds since the epoch), oldest first, as read.
    applies: Vec<i64>,
    /// Consecutive runs that found the bucket empty.
    throttled_runs: u32,
    capacity: u32,
    window_secs: i64,
    pause_after: u32,
}

impl Bucket {
    /// An empty bucket under `settings`.
    pub fn empty(settings: &Throttle) -> Self {
        Self {
            applies: Vec::new(),
            throttled_runs: 0,
            capacity: settings.capacity,
            window_secs: i64::from(settings.window_minutes) * 60,
            pause_after: settings.pause_after,
        }
    }

    /// The bucket of an object whose `<prefix>/apply-history` annotation is `annotation`
    /// (`None`: never applied by plinth, an empty bucket).
    ///
    /// # Errors
    /// The value does not read ([`GateProblem`]); callers count the bucket as empty
    /// ([`Bucket::read_or_empty`]).
    pub fn read(
        annotation: Option<&str>,
        settings: &Throttle,
        prefix: &str,
    ) -> Result<Self, GateProblem> {
        let mut bucket = Self::empty(settings);
        let Some(text) = annotation else {
            return Ok(bucket);
        };
        let garbled = |why: &str| GateProblem::Garbled {
            annotation: format!("{prefix}/{HISTORY}"),
            why: why.to_owned(),
        };
        if text.len() > MAX_LEN {
            return Err(garbled("too long"));
        }
        let mut parts = text.trim().split(' ');
        match parts.next() {
            Some(VERSION) => {}
            Some(v) if is_version_tag(v) => {
                return Err(GateProblem::Unsupported {
                    annotation: format!("{prefix}/{HISTORY}"),
                    version: v.to_owned(),
                });
            }
            _ => return Err(garbled("no `v1` tag")),
        }
        bucket.throttled_runs = parts
            .next()
            .and_then(|t| t.strip_prefix("t="))
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| garbled("no `t=<runs>`"))?;
        if let Some(times) = parts.next() {
            for t in times.split(',') {
                let t: i64 = t.parse().map_err(|_| garbled("a time is not a number"))?;
                if bucket.applies.last().is_some_and(|last| *last > t) {
                    return Err(garbled("times out of order"));
                }
                bucket.applies.push(t);
            }
        }
        if parts.next().is_some() {
            return Err(garbled("unexpected text after the times"));
        }
        Ok(bucket)
    }

    /// [`Bucket::read`], counting a value that does not read as an empty bucket, with the
    /// problem to report.
    pub fn read_or_empty(
        annotation: Option<&str>,
        settings: &Throttle,
        prefix: &str,
    ) -> (Self, Option<GateProblem>) {
        match Self::read(annotation, settings, prefix) {
            Ok(bucket) => (bucket, None),
            Err(problem) => (Self::empty(settings), Some(problem)),
        }
    }

    /// The applies that hold a token at `now`: times in the future count as `now`; those a
    /// window or more ago have expired. Oldest first.
    fn recent(&self, now: i64) -> Vec<i64> {
        let mut out: Vec<i64> = self
            .applies
            .iter()
            .map(|t| (*t).min(now))
            // Saturating: a crafted time near `i64::MIN` is far in the past, not an overflow.
            .filter(|t| now.saturating_sub(*t) < self.window_secs)
            .collect();
        out.sort_unstable();
        out
    }

    /// Tokens left at `now`.
    pub fn tokens(&self, now: i64) -> u32 {
        let used = u32::try_from(self.recent(now).len()).unwrap_or(u32::MAX);
        self.capacity.saturating_sub(used)
    }

    /// Consecutive runs that found the bucket empty, as read.
    pub fn throttled_runs(&self) -> u32 {
        self.throttled_runs
    }

    /// When the next token frees up (seconds since the epoch), when the bucket is empty at
    /// `now`: the oldest recent apply's time plus the window (with a capacity of 0, never:
    /// `None`).
    pub fn next_token_at(&self, now: i64) -> Option<i64> {
        if self.tokens(now) > 0 {
            return None;
        }
        let recent = self.recent(now);
        // The apply whose expiry brings the count under capacity.
        let cap = usize::try_from(self.capacity).ok()?;
        let index = recent.len().checked_sub(cap)?;
        recent
            .get(index)
            .map(|t| t.saturating_add(self.window_secs))
    }

    /// Whether an apply may happen at `now`. `Pause` once the object has been throttled
    /// `pause_after` runs in a row, this one counted (`pause_after` 0: never pause).
    pub fn decide(&self, now: i64) -> Decision {
        let tokens = self.tokens(now);
        if tokens > 0 {
            Decision::Allow { tokens }
        } else if self.pause_after > 0 && self.throttled_runs.saturating_add(1) >= self.pause_after
        {
            Decision::Pause
        } else {
            Decision::Throttled {
                next_token_at: self.next_token_at(now).unwrap_or(i64::MAX),
            }
        }
    }

    /// The annotation's new value after an apply at `now`: the apply recorded, the throttled
    /// runs reset, at most `capacity` times kept.
    pub fn after_apply(&self, now: i64) -> String {
        let mut applies = self.recent(now);
        applies.push(now);
        let cap = usize::try_from(self.capacity).unwrap_or(usize::MAX);
        let drop = applies.len().saturating_sub(cap);
        applies.drain(..drop);
        History {
            throttled_runs: 0,
            applies: &applies,
        }
        .to_string()
    }

    /// The annotation's new value after a run at `now` found the bucket empty: one more
    /// throttled run, the recent applies kept.
    pub fn after_throttle(&self, now: i64) -> String {
        let mut applies = self.recent(now);
        let cap = usize::try_from(self.capacity).unwrap_or(usize::MAX);
        let drop = applies.len().saturating_sub(cap);
        applies.drain(..drop);
        History {
            throttled_runs: self.throttled_runs.saturating_add(1),
            applies: &applies,
        }
        .to_string()
    }

    /// The bucket at `now` as the report shows it.
    pub fn to_throttle(&self, now: i64) -> outcome::Throttle {
        outcome::Throttle {
            tokens: self.tokens(now),
            capacity: self.capacity,
            throttled_runs: self.throttled_runs,
            next_token_at: self.next_token_at(now).map(rfc3339),
        }
    }
}

/// Whether `v` looks like a version tag (`v2`): a format a newer plinth writes.
fn is_version_tag(v: &str) -> bool {
    v.len() <= 8
        && v.strip_prefix('v')
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// The annotation's text.
struct History<'a> {
    throttled_runs: u32,
    applies: &'a [i64],
}

impl fmt::Display for History<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{VERSION} t={}", self.throttled_runs)?;
        for (i, t) in self.applies.iter().enumerate() {
            f.write_str(if i == 0 { " " } else { "," })?;
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const P: &str = "platform.kubevirt.io";

    fn settings(capacity: u32, window_minutes: u32, pause_after: u32) -> Throttle {
        Throttle {
            capacity,
            window_minutes,
            pause_after,
        }
    }

    #[test]
    fn the_format_reads_and_writes() {
        let s = settings(5, 60, 3);
        let b = Bucket::read(Some("v1 t=2 1000,1360"), &s, P).unwrap();
        assert_eq!(b.throttled_runs(), 2);
        assert_eq!(b.tokens(2000), 3);
        assert_eq!(b.after_apply(2000), "v1 t=0 1000,1360,2000");
        assert_eq!(b.after_throttle(2000), "v1 t=3 1000,1360");
        // An hour later the first apply has expired.
        assert_eq!(b.after_throttle(4600), "v1 t=3 1360");
        assert_eq!(Bucket::empty(&s).after_throttle(0), "v1 t=1");
        assert_eq!(
            Bucket::read(Some("v1 t=0"), &s, P).unwrap(),
            Bucket::empty(&s)
        );
        assert_eq!(Bucket::read(None, &s, P).unwrap(), Bucket::empty(&s));
    }

    #[test]
    fn a_garbled_value_reads_as_empty_with_a_problem() {
        let s = settings(5, 60, 3);
        for bad in [
            "",
            "hello",
            "v1",
            "v1 t=x",
            "v1 t=1 12,abc",
            "v1 t=1 20,10",
            "v1 t=1 1 2",
            "t=1 v1",
        ] {
            let (bucket, problem) = Bucket::read_or_empty(Some(bad), &s, P);
            assert_eq!(bucket, Bucket::empty(&s), "{bad}");
            let problem = problem.unwrap_or_else(|| panic!("{bad} read"));
            assert!(
                problem.to_string().starts_with(
                    "`platform.kubevirt.io/apply-history` is not `v1 t=<runs> <times>`"
                ),
                "{problem}"
            );
        }
        let (_, problem) = Bucket::read_or_empty(Some("v2 t=1;x"), &s, P);
        assert_eq!(
            problem.unwrap().to_string(),
            "`platform.kubevirt.io/apply-history` has format `v2`, this plinth reads `v1`: read as an empty bucket"
        );
    }

    #[test]
    fn throttled_then_paused_on_the_third_run() {
        let s = settings(2, 60, 3);
        let mut value = Bucket::empty(&s).after_apply(0);
        value = Bucket::read(Some(&value), &s, P).unwrap().after_apply(10);
        let b = Bucket::read(Some(&value), &s, P).unwrap();
        assert_eq!(
            b.decide(20),
            Decision::Throttled {
                next_token_at: 3600
            }
        );
        assert_eq!(
            b.to_throttle(20),
            outcome::Throttle {
                tokens: 0,
                capacity: 2,
                throttled_runs: 0,
                next_token_at: Some("1970-01-01T01:00:00Z".into())
            }
        );
        let b = Bucket::read(Some(&b.after_throttle(20)), &s, P).unwrap();
        assert_eq!(
            b.decide(30),
            Decision::Throttled {
                next_token_at: 3600
            }
        );
        let b = Bucket::read(Some(&b.after_throttle(30)), &s, P).unwrap();
        assert_eq!(b.decide(40), Decision::Pause);
        // Once a token frees up, an apply resets the count.
        assert_eq!(b.decide(3600), Decision::Allow { tokens: 1 });
        assert_eq!(b.after_apply(3600), "v1 t=0 10,3600");
        // pause_after 0: never pause.
        let never = Bucket::read(Some("v1 t=99 0,10"), &settings(2, 60, 0), P).unwrap();
        assert!(matches!(never.decide(20), Decision::Throttled { .. }));
    }

    #[test]
    fn times_in_the_future_count_as_now() {
        let s = settings(1, 60, 3);
        // Another machine, a day ahead, applied: it holds the token one window from now.
        let b = Bucket::read(Some("v1 t=0 90000"), &s, P).unwrap();
        assert_eq!(
            b.decide(100),
            Decision::Throttled {
                next_token_at: 3700
            }
        );
        let written = b.after_throttle(100);
        assert_eq!(written, "v1 t=1 100");
        let b = Bucket::read(Some(&written), &s, P).unwrap();
        assert_eq!(b.decide(3700), Decision::Allow { tokens: 1 });
        // A time far in the future does not block for ever either: the run that finds it
        // writes it back as its own time.
        let b = Bucket::read(Some(&format!("v1 t=0 {}", i64::MAX)), &s, P).unwrap();
        assert_eq!(
            b.decide(3700),
            Decision::Throttled {
                next_token_at: 7300
            }
        );
        assert_eq!(b.after_throttle(3700), "v1 t=1 3700");
    }

    #[test]
    fn a_capacity_of_zero_never_allows() {
        let b = Bucket::empty(&settings(0, 60, 3));
        assert_eq!(
            b.decide(0),
            Decision::Throttled {
                next_token_at: i64::MAX
            }
        );
        assert_eq!(b.to_throttle(0).next_token_at, None);
    }

    proptest! {
        /// Runs at increasing times, each reading the annotation the last one wrote: never more
        /// than `capacity` applies within any window, and the annotation stays bounded.
        #[test]
        fn never_more_than_capacity_applies_in_a_window(
            capacity in 0u32..6,
            window_minutes in 1u32..5,
            pause_after in 0u32..5,
            gaps in prop::collection::vec(0i64..400, 1..60),
        ) {
            let s = settings(capacity, window_minutes, pause_after);
            let window = i64::from(window_minutes) * 60;
            let (mut now, mut value, mut applies) = (1_764_500_000_i64, None::<String>, Vec::new());
            for gap in gaps {
                now += gap;
                let b = Bucket::read(value.as_deref(), &s, P).unwrap();
                match b.decide(now) {
                    Decision::Allow { tokens } => {
                        prop_assert!(tokens > 0);
                        applies.push(now);
                        value = Some(b.after_apply(now));
                    }
                    Decision::Throttled { next_token_at } => {
                        prop_assert!(next_token_at > now);
                        value = Some(b.after_throttle(now));
                    }
                    Decision::Pause => break,
                }
                let v = value.as_deref().unwrap_or_default();
                prop_assert!(v.len() <= 12 + 21 * usize::try_from(capacity).unwrap(), "{}", v);
            }
            let cap = usize::try_from(capacity).unwrap();
            for (i, t) in applies.iter().enumerate() {
                if let Some(later) = applies.get(i + cap) {
                    prop_assert!(later - t >= window, "{:?}", applies);
                }
            }
        }

        /// What is written reads back as the same bucket.
        #[test]
        fn the_annotation_round_trips(
            runs in 0u32..1000,
            mut times in prop::collection::vec(0i64..2_000_000_000, 0..5),
        ) {
            times.sort_unstable();
            let s = settings(5, 60, 3);
            let text = History { throttled_runs: runs, applies: &times }.to_string();
            let b = Bucket::read(Some(&text), &s, P).unwrap();
            prop_assert_eq!(b.throttled_runs(), runs);
            prop_assert_eq!(&b.applies, &times);
            // Nothing expires at the time of the last apply within the window.
            if let Some(last) = times.last() {
                let kept: Vec<i64> = times.iter().copied().filter(|t| last - t < 3600).collect();
                let again = Bucket::read(Some(&b.after_throttle(*last)), &s, P).unwrap();
                prop_assert_eq!(again.applies, kept);
            }
        }
    }
}
