//! Maintenance windows: when `plinth apply` may make a disruptive change (the disruption
//! gate holds it otherwise). A window is a 5-field cron `schedule` (minute, hour, day of month,
//! month, day of week), a `duration` and an IANA `timeZone` (default `UTC`), as Karpenter
//! schedules its disruption budgets.
//!
//! A window is open at `now` when some start `t` of its schedule has `t <= now < t +
//! duration`. Starts are civil times in the zone: a start in an hour the clock skips (spring
//! forward) happens at the next valid instant, the end of the gap; a start in an hour the clock
//! repeats (fall back) happens once, at its first occurrence; durations are absolute.
//!
//! The cron fields are matched by `croner` over civil times only; the mapping of a civil start
//! to an instant is done here, so the DST rules above are plinth's and not a library's
//! default. The schedule is checked to be plain 5-field cron first (`*`, lists, ranges,
//! steps, `mon`..`sun`, `jan`..`dec`, 0 and 7 as Sunday): croner's extensions (seconds,
//! years, `L`, `W`, `#`, `?`, nicknames) are refused. Time zones come from the tz database
//! bundled in the binary (`jiff`), so a machine without zoneinfo computes the same windows.
//! Pure: `now` is a parameter.

use std::fmt;

use croner::Cron;
use croner::parser::{CronParser, Seconds, Year};
use jiff::civil::DateTime;
use jiff::tz::{AmbiguousOffset, TimeZone, TimeZoneDatabase};
use jiff::{SignedDuration, Timestamp, Zoned};

use plinth_renderer::settings::MaintenanceWindow;

/// The longest window: a week.
pub const MAX_DURATION_SECONDS: i64 = 7 * 24 * 3600;

/// How far a civil start may lie from its instant's civil time in the zone (no zone moves its
/// clock by more), searched around `now` so no start is missed.
const SLACK: SignedDuration = SignedDuration::from_hours(3);

/// A maintenance window that does not parse: the file and field path, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct WindowError {
    /// `plinth.yaml: apply.maintenanceWindows[1].timeZone`.
    pub path: String,
    pub message: String,
}

/// One parsed maintenance window.
#[derive(Debug, Clone)]
pub struct Window {
    schedule: String,
    cron: Cron,
    duration: SignedDuration,
    zone: TimeZone,
    zone_name: String,
}

impl PartialEq for Window {
    fn eq(&self, other: &Self) -> bool {
        (&self.schedule, self.duration, &self.zone_name)
            == (&other.schedule, other.duration, &other.zone_name)
    }
}

impl Eq for Window {}

/// Where the windows come from, for error messages: the file and the path of the list in it.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    /// `plinth.yaml` or `clusters/<name>/cluster.yaml`.
    pub file: &'a str,
    /// `apply.maintenanceWindows` or `maintenanceWindows`.
    pub field: &'a str,
}

/// Parses the windows of `origin`.
///
/// # Errors
/// A schedule that is not 5-field cron, a duration that does not parse, is 0 or longer than a
/// week, an unknown time zone: the error names the file and the field path.
pub fn parse(specs: &[MaintenanceWindow], origin: Origin<'_>) -> Result<Vec<Window>, WindowError> {
    let db = TimeZoneDatabase::bundled();
    specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let err = |key: &str, message: String| WindowError {
                path: format!("{}: {}[{i}].{key}", origin.file, origin.field),
                message,
            };
            let cron = parse_schedule(&spec.schedule).map_err(|m| err("schedule", m))?;
            let duration = parse_duration(&spec.duration).map_err(|m| err("duration", m))?;
            let name = spec.time_zone.as_deref().unwrap_or("UTC");
            let zone = db.get(name).map_err(|_| {
                err(
                    "timeZone",
                    format!("`{name}` is not an IANA time zone (e.g. `Europe/Berlin`, `UTC`)"),
                )
            })?;
            let zone_name = zone.iana_name().unwrap_or(name).to_owned();
            Ok(Window {
                schedule: spec.schedule.trim().to_owned(),
                cron,
                duration,
                zone,
                zone_name,
            })
        })
        .collect()
}

/// The names a field may use besides numbers: months, days of the week.
const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const DAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const FIELDS: [&str; 5] = ["minute", "hour", "day of month", "month", "day of week"];

/// Checks that `schedule` is plain 5-field cron, then has croner parse it (ranges, values).
fn parse_schedule(schedule: &str) -> Result<Cron, String> {
    let fields: Vec<&str> = schedule.split_whitespace().collect();
    if fields.len() != 5 {
        return Err(format!(
            "`{schedule}` is not a 5-field cron schedule (minute hour day-of-month month day-of-week), it has {} fields",
            fields.len()
        ));
    }
    for (i, field) in fields.iter().enumerate() {
        let names: &[&str] = match i {
            3 => &MONTHS,
            4 => &DAYS,
            _ => &[],
        };
        let value_ok = |v: &str| {
            !v.is_empty()
                && (v.bytes().all(|b| b.is_ascii_digit())
                    || names.iter().any(|n| n.eq_ignore_ascii_case(v)))
        };
        let item_ok = |item: &str| {
            let (range, step) = match item.split_once('/') {
                Some((r, s)) => (r, Some(s)),
                None => (item, None),
            };
            let step_ok =
                step.is_none_or(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
            let range_ok = range == "*"
                || match range.split_once('-') {
                    Some((a, b)) => value_ok(a) && value_ok(b),
                    None => value_ok(range) && step.is_none(),
                };
            step_ok && range_ok
        };
        if !field.split(',').all(item_ok) {
            return Err(format!(
                "`{schedule}`: the {} field `{field}` is not cron (`*`, numbers{}, lists `a,b`, ranges `a-b`, steps `*/n`)",
                FIELDS[i],
                match i {
                    3 => ", `jan`..`dec`",
                    4 => ", `mon`..`sun`",
                    _ => "",
                }
            ));
        }
    }
    CronParser::builder()
        .seconds(Seconds::Disallowed)
        .year(Year::Disallowed)
        .build()
        .parse(schedule)
        .map_err(|e| format!("`{schedule}`: {e}"))
}

/// `30m`, `4h`, `1h30m`: more than 0, at most a week.
fn parse_duration(text: &str) -> Result<SignedDuration, String> {
    let bad = || format!("`{text}` is not a duration like `30m`, `4h` or `1h30m`");
    let mut rest = text.trim();
    let mut seconds: i64 = 0;
    let mut units = ['h', 'm'].into_iter();
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let number: i64 = rest[..digits].parse().map_err(|_| bad())?;
        let unit = rest[digits..].chars().next().ok_or_else(bad)?;
        // Units in order, each once: `h` before `m`.
        if !units.by_ref().any(|u| u == unit) {
            return Err(bad());
        }
        let factor = if unit == 'h' { 3600 } else { 60 };
        seconds = number
            .checked_mul(factor)
            .and_then(|s| s.checked_add(seconds))
            .ok_or_else(bad)?;
        rest = &rest[digits + 1..];
    }
    if seconds == 0 {
        return Err(format!("`{text}`: a window must last longer than 0"));
    }
    if seconds > MAX_DURATION_SECONDS {
        return Err(format!("`{text}`: a window lasts at most 7 days (`168h`)"));
    }
    Ok(SignedDuration::from_secs(seconds))
}

impl Window {
    /// The schedule as written.
    pub fn schedule(&self) -> &str {
        &self.schedule
    }

    /// The time zone's IANA name.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    /// The instant of the civil start `civil`: in a gap, the end of the gap; in a fold, the
    /// first of the two.
    fn start(&self, civil: DateTime) -> Option<Timestamp> {
        let ambiguous = self.zone.to_ambiguous_timestamp(civil);
        match ambiguous.offset() {
            AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(civil).ok(),
            AmbiguousOffset::Fold { before, .. } => before.to_timestamp(civil).ok(),
            AmbiguousOffset::Gap { after, .. } => {
                // `civil` read with the offset after the gap lies before the transition.
                let early = after.to_timestamp(civil).ok()?;
                self.zone.following(early).next().map(|t| t.timestamp())
            }
        }
    }

    /// Whether the window is open at `now`: some start `t` with `t <= now < t + duration`.
    pub fn is_open(&self, now: Timestamp) -> bool {
        let here = self.zone.to_datetime(now);
        let (Ok(mut cursor), Ok(floor)) = (
            here.checked_add(SLACK),
            here.checked_sub(self.duration + SLACK),
        ) else {
            return false;
        };
        let mut inclusive = true;
        while let Ok(civil) = self.cron.find_previous_occurrence(&cursor, inclusive) {
            if civil < floor {
                break;
            }
            if let Some(t) = self.start(civil)
                && t <= now
                && t.checked_add(self.duration).is_ok_and(|end| now < end)
            {
                return true;
            }
            cursor = civil;
            inclusive = false;
        }
        false
    }

    /// The first start after `now`, in the window's zone; `None` when the schedule never
    /// matches again.
    pub fn next_start(&self, now: Timestamp) -> Option<Zoned> {
        let mut cursor = self.zone.to_datetime(now).checked_sub(SLACK).ok()?;
        let mut inclusive = true;
        while let Ok(civil) = self.cron.find_next_occurrence(&cursor, inclusive) {
            if let Some(t) = self.start(civil)
                && t > now
            {
                return Some(t.to_zoned(self.zone.clone()));
            }
            cursor = civil;
            inclusive = false;
        }
        None
    }
}

/// Whether disruptive changes may be made at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// A window is open.
    Open,
    /// No window is open; the next one starts then (none when no schedule matches again).
    Closed { next: Option<NextWindow> },
    /// No window is configured.
    NoWindows,
}

/// The start of the next window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextWindow {
    /// Seconds since the epoch.
    pub at: i64,
    /// `2026-12-05 02:00 Europe/Berlin (in 2d 14h)`: the start in the window's own zone and
    /// how far away it is.
    pub shown: String,
}

/// Whether any of `windows` is open at `now` (seconds since the epoch), else when the next
/// one starts (the earliest of their next starts).
pub fn verdict(windows: &[Window], now: i64) -> Verdict {
    if windows.is_empty() {
        return Verdict::NoWindows;
    }
    let Ok(instant) = Timestamp::from_second(now) else {
        return Verdict::Closed { next: None };
    };
    if windows.iter().any(|w| w.is_open(instant)) {
        return Verdict::Open;
    }
    let next = windows
        .iter()
        .filter_map(|w| Some((w.next_start(instant)?, w)))
        .min_by_key(|(z, _)| z.timestamp())
        .map(|(z, w)| {
            let at = z.timestamp().as_second();
            NextWindow {
                at,
                shown: format!(
                    "{} {} (in {})",
                    z.strftime("%Y-%m-%d %H:%M"),
                    w.zone_name,
                    until(at - now)
                ),
            }
        });
    Verdict::Closed { next }
}

/// A positive number of seconds as `2d 14h`, `3h 5m` or `12m` (whole minutes, rounded up).
fn until(seconds: i64) -> String {
    let minutes = (seconds.max(0) + 59) / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes}m"),
        (0, _) => format!("{hours}h {minutes}m"),
        _ => format!("{days}d {hours}h"),
    }
}

impl fmt::Display for Window {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` for {} ({})",
            self.schedule, self.duration, self.zone_name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(schedule: &str, duration: &str, zone: Option<&str>) -> Window {
        let spec = MaintenanceWindow {
            schedule: schedule.to_owned(),
            duration: duration.to_owned(),
            time_zone: zone.map(str::to_owned),
        };
        parse(
            &[spec],
            Origin {
                file: "plinth.yaml",
                field: "apply.maintenanceWindows",
            },
        )
        .unwrap()
        .remove(0)
    }

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn zoned_at(text: &str, zone: &str) -> Timestamp {
        let civil: DateTime = text.parse().unwrap();
        civil.in_tz(zone).unwrap().timestamp()
    }

    fn next(w: &Window, now: &str) -> String {
        let z = w.next_start(at(now)).unwrap();
        format!("{} {}", z.timestamp(), z.strftime("%Y-%m-%d %H:%M %:z"))
    }

    #[test]
    fn open_from_the_start_inclusive_to_the_end_exclusive() {
        let w = window("0 2 * * *", "4h", None);
        assert!(!w.is_open(at("2026-12-01T01:59:59Z")));
        assert!(w.is_open(at("2026-12-01T02:00:00Z")));
        assert!(w.is_open(at("2026-12-01T05:59:59Z")));
        assert!(!w.is_open(at("2026-12-01T06:00:00Z")));
        assert_eq!(
            next(&w, "2026-12-01T06:00:00Z"),
            "2026-12-02T02:00:00Z 2026-12-02 02:00 +00:00"
        );
    }

    #[test]
    fn a_window_spans_midnight() {
        let w = window("0 23 * * *", "4h", Some("UTC"));
        assert!(w.is_open(at("2026-12-02T01:00:00Z")));
        assert!(w.is_open(at("2026-12-01T23:30:00Z")));
        assert!(!w.is_open(at("2026-12-02T03:00:00Z")));
        assert!(!w.is_open(at("2026-12-01T22:59:00Z")));
    }

    #[test]
    fn day_of_week_names_ranges_lists_and_steps() {
        // 2026-12-05 is a Saturday.
        let weekend = window("0 2 * * sat,sun", "4h", None);
        assert!(weekend.is_open(at("2026-12-05T03:00:00Z")));
        assert!(weekend.is_open(at("2026-12-06T03:00:00Z")));
        assert!(!weekend.is_open(at("2026-12-07T03:00:00Z")));
        let weekdays = window("30 1 * * Mon-Fri", "1h", None);
        assert!(weekdays.is_open(at("2026-12-07T02:00:00Z")));
        assert!(!weekdays.is_open(at("2026-12-05T02:00:00Z")));
        // 7 is Sunday as well as 0.
        let sunday = window("0 0 * * 7", "1h", None);
        assert!(sunday.is_open(at("2026-12-06T00:10:00Z")));
        assert_eq!(
            window("0 0 * * 0", "1h", None),
            window("0 0 * * 0", "1h", None)
        );
        let steps = window("*/15 */6 * * *", "5m", None);
        assert!(steps.is_open(at("2026-12-01T06:47:00Z")));
        assert!(!steps.is_open(at("2026-12-01T07:00:00Z")));
        assert!(!steps.is_open(at("2026-12-01T06:50:00Z")));
        let months = window("0 0 1 jan,jul *", "1h", None);
        assert!(months.is_open(at("2027-07-01T00:30:00Z")));
        assert!(!months.is_open(at("2027-08-01T00:30:00Z")));
    }

    #[test]
    fn both_day_fields_restricted_match_either() {
        // The 1st of the month, or any Monday. 2026-12-01 is a Tuesday, 2026-12-07 a Monday.
        let w = window("0 3 1 * mon", "1h", None);
        assert!(w.is_open(at("2026-12-01T03:30:00Z")));
        assert!(w.is_open(at("2026-12-07T03:30:00Z")));
        assert!(!w.is_open(at("2026-12-08T03:30:00Z")));
    }

    #[test]
    fn next_window_across_a_month_and_a_year_boundary() {
        let w = window("0 2 1 * *", "1h", None);
        assert_eq!(
            next(&w, "2026-11-15T00:00:00Z"),
            "2026-12-01T02:00:00Z 2026-12-01 02:00 +00:00"
        );
        assert_eq!(
            next(&w, "2026-12-15T00:00:00Z"),
            "2027-01-01T02:00:00Z 2027-01-01 02:00 +00:00"
        );
        let berlin = window("0 2 * * sat,sun", "4h", Some("Europe/Berlin"));
        // Thursday 2026-12-31: the next is Saturday 2027-01-02 02:00 CET.
        assert_eq!(
            next(&berlin, "2026-12-31T12:00:00Z"),
            "2027-01-02T01:00:00Z 2027-01-02 02:00 +01:00"
        );
    }

    #[test]
    fn spring_forward_starts_at_the_end_of_the_gap() {
        // Europe/Berlin 2027-03-28: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
        let berlin = window("30 2 * * *", "1h", Some("Europe/Berlin"));
        assert_eq!(
            next(&berlin, "2027-03-27T12:00:00Z"),
            "2027-03-28T01:00:00Z 2027-03-28 03:00 +02:00"
        );
        assert!(berlin.is_open(at("2027-03-28T01:00:00Z")));
        assert!(berlin.is_open(at("2027-03-28T01:59:59Z")));
        assert!(!berlin.is_open(at("2027-03-28T02:00:00Z")));
        assert!(!berlin.is_open(at("2027-03-28T00:59:59Z")));
        // America/New_York 2027-03-14: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
        let ny = window("15 2 * * *", "2h", Some("America/New_York"));
        assert_eq!(
            next(&ny, "2027-03-13T12:00:00Z"),
            "2027-03-14T07:00:00Z 2027-03-14 03:00 -04:00"
        );
        // The day after, the window is at its civil time again.
        assert_eq!(
            next(&ny, "2027-03-14T12:00:00Z"),
            "2027-03-15T06:15:00Z 2027-03-15 02:15 -04:00"
        );
    }

    #[test]
    fn fall_back_starts_once_and_the_duration_is_absolute() {
        // America/New_York 2026-11-01: 01:00-02:00 happens twice (EDT, then EST).
        let ny = window("30 1 * * *", "1h", Some("America/New_York"));
        assert_eq!(
            next(&ny, "2026-11-01T00:00:00Z"),
            "2026-11-01T05:30:00Z 2026-11-01 01:30 -04:00"
        );
        assert!(ny.is_open(at("2026-11-01T06:29:00Z")));
        // 01:45 EST: the start was 01:30 EDT, 75 minutes before.
        assert!(!ny.is_open(at("2026-11-01T06:45:00Z")));
        assert_eq!(
            next(&ny, "2026-11-01T06:00:00Z"),
            "2026-11-02T06:30:00Z 2026-11-02 01:30 -05:00"
        );
        // Europe/Berlin 2026-10-25: 02:00-03:00 twice; a 3 h window from 01:00 CEST ends at
        // 03:00 CET (absolute), not 04:00.
        let berlin = window("0 1 * * *", "3h", Some("Europe/Berlin"));
        assert!(berlin.is_open(zoned_at("2026-10-25T02:59", "Europe/Berlin")));
        assert!(berlin.is_open(at("2026-10-25T01:59:00Z")));
        assert!(!berlin.is_open(at("2026-10-25T02:00:00Z")));
        let repeated = window("30 2 * * *", "20m", Some("Europe/Berlin"));
        assert!(repeated.is_open(at("2026-10-25T00:40:00Z")));
        assert!(!repeated.is_open(at("2026-10-25T01:40:00Z")));
    }

    #[test]
    fn the_verdict_names_the_next_window_in_its_zone() {
        let windows = [
            window("0 2 * * sat,sun", "4h", Some("Europe/Berlin")),
            window("0 1 * * *", "3h", Some("America/New_York")),
        ];
        // Thursday 2026-12-03 12:00 UTC: New York's 01:00 EST (06:00 UTC) on Friday is first.
        let now = at("2026-12-03T12:00:00Z").as_second();
        assert_eq!(
            verdict(&windows, now),
            Verdict::Closed {
                next: Some(NextWindow {
                    at: at("2026-12-04T06:00:00Z").as_second(),
                    shown: "2026-12-04 01:00 America/New_York (in 18h 0m)".into()
                })
            }
        );
        assert_eq!(
            verdict(&windows, at("2026-12-04T07:00:00Z").as_second()),
            Verdict::Open
        );
        assert_eq!(verdict(&[], now), Verdict::NoWindows);
        assert_eq!(until(2 * 86400 + 14 * 3600 + 10), "2d 14h");
        assert_eq!(until(61), "2m");
    }

    fn error(schedule: &str, duration: &str, zone: Option<&str>) -> String {
        let ok = MaintenanceWindow {
            schedule: "0 2 * * *".into(),
            duration: "1h".into(),
            time_zone: None,
        };
        let bad = MaintenanceWindow {
            schedule: schedule.into(),
            duration: duration.into(),
            time_zone: zone.map(str::to_owned),
        };
        parse(
            &[ok, bad],
            Origin {
                file: "plinth.yaml",
                field: "apply.maintenanceWindows",
            },
        )
        .unwrap_err()
        .to_string()
    }

    #[test]
    fn errors_name_the_file_and_the_field() {
        let e = error("0 2 * * *", "1h", Some("Mars/Olympus"));
        assert!(
            e.starts_with("plinth.yaml: apply.maintenanceWindows[1].timeZone: `Mars/Olympus`"),
            "{e}"
        );
        for bad in [
            "0 2 * *",
            "0 0 2 * * *",
            "61 2 * * *",
            "0 2 * * funday",
            "0 2 L * *",
            "0 2 * * 5#3",
            "@daily",
            "0 2 ? * *",
            "0 2 * mon *",
        ] {
            let e = error(bad, "1h", None);
            assert!(
                e.starts_with("plinth.yaml: apply.maintenanceWindows[1].schedule: "),
                "{bad}: {e}"
            );
        }
        for bad in ["0m", "0h0m", "", "4", "1m1h", "169h", "8d", "1h 30m", "h"] {
            let e = error("0 2 * * *", bad, None);
            assert!(
                e.starts_with("plinth.yaml: apply.maintenanceWindows[1].duration: "),
                "{bad:?}: {e}"
            );
        }
        for good in ["30m", "4h", "1h30m", "168h"] {
            assert!(parse_duration(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn utc_is_the_default_zone() {
        let w = window("0 2 * * *", "1h", None);
        assert_eq!(w.zone_name(), "UTC");
        assert!(w.is_open(at("2026-12-01T02:30:00Z")));
    }
}
