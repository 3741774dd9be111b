//! The HTTP layer every remote live source shares (a cluster today, the clouds next). Retries
//! for API requests: exponential backoff with jitter, `Retry-After` honoured, a timeout
//! on every attempt, and a bounded number of attempts.
//!
//! Retried: `429`, every `5xx`, attempts that time out and connection errors. Not retried: any
//! other status (the caller interprets `404`, `409` and the rest). When the attempts run out the
//! error names the request (verb, kind, namespace) and the last reason, never a header or body.
//!
//! A [`Deadline`] bounds the whole command: no attempt outlives it, and a retry whose wait
//! (backoff or the server's `Retry-After`) would end past it is not made; the error says so.

use std::future::Future;
use std::time::Duration;

use http::{HeaderMap, StatusCode, header};

use crate::error::DriftError;

/// The longest `Retry-After` plinth waits for; a server asking for longer gets this much.
pub const MAX_RETRY_AFTER: Duration = Duration::from_mins(1);

/// How requests are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (at least 1).
    pub attempts: u32,
    /// The delay before the second attempt; it doubles for each later one.
    pub base_delay: Duration,
    /// The cap on the exponential delay.
    pub max_delay: Duration,
    /// The limit on one attempt, response body included.
    pub timeout: Duration,
}

impl RetryPolicy {
    /// A policy with `retries` retries after the first attempt and the default delays
    /// (250 ms doubling up to 8 s).
    pub fn new(retries: u32, timeout: Duration) -> Self {
        Self {
            attempts: retries.saturating_add(1),
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            timeout,
        }
    }

    /// The delay before attempt `attempt + 1` (after `attempt` failures, counting from 1):
    /// exponential, capped, with "equal jitter" (a uniform draw from the upper half), and never
    /// shorter than the server's `Retry-After`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self
            .base_delay
            .saturating_mul(
                1_u32
                    .checked_shl(attempt.saturating_sub(1))
                    .unwrap_or(u32::MAX),
            )
            .min(self.max_delay);
        let half = exp / 2;
        let jitter = half.mul_f64(fastrand::f64());
        let backoff = half + jitter;
        match retry_after {
            Some(after) => after.min(MAX_RETRY_AFTER).max(backoff),
            None => backoff,
        }
    }
}

/// The end of a command's time with the cluster: every attempt and every wait before a retry
/// must end before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Option<tokio::time::Instant>,
    total: Duration,
}

impl Deadline {
    /// `total` from now.
    pub fn after(total: Duration) -> Self {
        Self {
            at: tokio::time::Instant::now().checked_add(total),
            total,
        }
    }

    /// No deadline (tests and library callers that bound time themselves).
    pub fn none() -> Self {
        Self {
            at: None,
            total: Duration::MAX,
        }
    }

    /// The time left; [`Duration::MAX`] without a deadline.
    pub fn remaining(&self) -> Duration {
        self.at.map_or(Duration::MAX, |at| {
            at.saturating_duration_since(tokio::time::Instant::now())
        })
    }

    /// The deadline as given (`10m`, `30s`).
    pub fn describe(&self) -> String {
        humanize(self.total)
    }

    /// The error for `request` stopped by this deadline, with the last `reason`.
    pub fn error(&self, request: &str, reason: &str) -> DriftError {
        DriftError::Deadline {
            request: format!("{request} ({reason})"),
            deadline: self.describe(),
        }
    }
}

/// The outcome of one attempt, as the retry loop sees it.
#[derive(Debug)]
pub enum Attempt<T> {
    /// A response to hand back (any status that is not retried).
    Done(T),
    /// A retryable status (`429`, `5xx`), with the server's `Retry-After` if it sent one.
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
    /// The connection failed before a response arrived, classified by the client that knows
    /// its errors.
    Transport(TransportError),
    /// A failure that no retry can mend (a response over the size limit): returned as is.
    Fatal(DriftError),
}

/// Whether a status is retried.
pub fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error()
}

/// The `Retry-After` header as a delay, in either form RFC 9110 allows: delay-seconds (a number
/// too large for the clock counts as the longest wait, so the deadline check ends the request
/// instead of the header being ignored) or an HTTP-date (a date in the past means now).
/// Anything else (a negative or fractional number, text) is ignored.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
        return Some(
            text.parse::<u64>()
                .map_or(Duration::MAX, Duration::from_secs),
        );
    }
    let at = httpdate::parse_http_date(text).ok()?;
    Some(
        at.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// A request that failed before a response arrived, as the client classified it.
#[derive(Debug)]
pub struct TransportError {
    pub failure: Failure,
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

/// What kind of failure a [`TransportError`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The TLS handshake failed because the server certificate was not accepted (unknown
    /// issuer, wrong name, expired): retrying cannot help.
    CertificateRejected,
    /// A connection-level failure, worth retrying.
    Connection,
    /// The request could not be sent at all (not retried).
    Unsendable,
}

/// Runs `attempt` until it yields a response that is not retried or the attempts run out.
/// `request` describes the call for the final error, e.g. ``LIST `ConfigMap` in namespace `a` ``.
pub async fn run<T, F, Fut>(
    policy: &RetryPolicy,
    request: &str,
    attempt: F,
) -> Result<T, DriftError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    run_within(policy, Deadline::none(), request, attempt).await
}

/// [`run`] within a deadline: each attempt gets the policy's timeout or the time left, whichever
/// is shorter, and a retry whose wait would end past the deadline is not made (a `Retry-After`
/// beyond it ends the request at once, saying so).
pub async fn run_within<T, F, Fut>(
    policy: &RetryPolicy,
    deadline: Deadline,
    request: &str,
    mut attempt: F,
) -> Result<T, DriftError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    let attempts = policy.attempts.max(1);
    let mut n = 0;
    loop {
        n += 1;
        let remaining = deadline.remaining();
        if remaining.is_zero() {
            return Err(deadline.error(request, "no time was left for it"));
        }
        let limit = policy.timeout.min(remaining);
        let (reason, after, source) = match tokio::time::timeout(limit, attempt()).await {
            Ok(Attempt::Done(value)) => return Ok(value),
            Ok(Attempt::Fatal(err)) => return Err(err),
            Ok(Attempt::Status {
                status,
                retry_after,
            }) => (format!("HTTP {status}"), retry_after, None),
            Ok(Attempt::Transport(TransportError { failure, source })) => {
                let reason = match failure {
                    Failure::Connection => "the connection failed",
                    Failure::CertificateRejected => "the server certificate was not accepted",
                    Failure::Unsendable => "the request could not be sent",
                };
                if failure != Failure::Connection {
                    return Err(DriftError::Api {
                        request: request.to_owned(),
                        attempts: n,
                        reason: reason.to_owned(),
                        source: Some(source),
                    });
                }
                (reason.to_owned(), None, Some(source))
            }
            Err(_) if limit < policy.timeout => {
                return Err(deadline.error(
                    request,
                    &format!("attempt {n} had no response when time ran out"),
                ));
            }
            Err(_) => (
                format!("no response within {}", humanize(policy.timeout)),
                None,
                None,
            ),
        };
        if n >= attempts {
            return Err(DriftError::Api {
                request: request.to_owned(),
                attempts: n,
                reason,
                source,
            });
        }
        let delay = policy.delay(n, after);
        // The server's own wait counts in full: retrying sooner than asked because of the cap is
        // fine, but a wait that ends past the deadline means the answer could not come in time.
        if after.map_or(delay, |a| a.max(delay)) >= deadline.remaining() {
            let wait = match after {
                Some(after) => format!(
                    "{reason}; the server asked to retry after {}",
                    humanize(after)
                ),
                None => format!("{reason}; the next retry was due in {}", humanize(delay)),
            };
            return Err(deadline.error(request, &format!("after {n} attempt(s): {wait}")));
        }
        tokio::time::sleep(delay).await;
    }
}

/// `30s`, `1.5s`, `250ms`.
pub fn humanize(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else if d.as_secs() == 0 {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    fn fast(attempts: u32) -> RetryPolicy {
        RetryPolicy {
            attempts,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(4),
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn delays_grow_are_capped_and_jittered() {
        let p = RetryPolicy::new(10, Duration::from_secs(30));
        for attempt in 1..=10 {
            let d = p.delay(attempt, None);
            let exp =
                (Duration::from_millis(250) * 2_u32.pow(attempt - 1)).min(Duration::from_secs(8));
            assert!(
                d >= exp / 2 && d <= exp,
                "attempt {attempt}: {d:?} vs {exp:?}"
            );
        }
        assert!(p.delay(40, None) <= Duration::from_secs(8));
    }

    #[test]
    fn retry_after_is_a_floor_with_a_cap() {
        let p = RetryPolicy::new(3, Duration::from_secs(30));
        assert!(p.delay(1, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
        assert_eq!(p.delay(1, Some(Duration::from_hours(1))), MAX_RETRY_AFTER);
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, "7".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        // An HTTP-date in the past: retry now.
        h.insert(
            header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
    }

    #[test]
    fn retry_after_in_every_form() {
        let mut h = HeaderMap::new();
        let mut at = |value: &str| {
            h.insert(header::RETRY_AFTER, value.parse().unwrap());
            retry_after(&h)
        };
        // An HTTP-date ten minutes ahead (IMF-fixdate, and the obsolete RFC 850 and asctime
        // forms) asks for about ten minutes.
        let later = std::time::SystemTime::now() + Duration::from_mins(10);
        let fixdate = httpdate::fmt_http_date(later);
        for form in [fixdate.clone(), rfc850(&fixdate), asctime(&fixdate)] {
            let wait = at(&form).unwrap_or_else(|| panic!("`{form}` ignored"));
            assert!(
                wait > Duration::from_mins(9) && wait <= Duration::from_mins(10),
                "`{form}`: {wait:?}"
            );
        }
        // Seconds too large for u64: the longest wait, not no wait.
        assert_eq!(at("99999999999999999999999"), Some(Duration::MAX));
        assert_eq!(at(" 0 "), Some(Duration::ZERO));
        for ignored in ["-5", "1.5", "", "soon", "+3"] {
            assert_eq!(at(ignored), None, "`{ignored}`");
        }
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` -> `Sunday, 06-Nov-94 08:49:37 GMT`.
    fn rfc850(fixdate: &str) -> String {
        let (day, rest) = fixdate.split_once(", ").unwrap();
        let long = [
            "Monday",
            "Tuesday",
            "Wednesday",
            "Thursday",
            "Friday",
            "Saturday",
            "Sunday",
        ]
        .into_iter()
        .find(|d| d.starts_with(day))
        .unwrap();
        let parts: Vec<&str> = rest.split(' ').collect();
        format!(
            "{long}, {}-{}-{} {} GMT",
            parts[0],
            parts[1],
            &parts[2][2..],
            parts[3]
        )
    }

    /// `Sun, 06 Nov 1994 08:49:37 GMT` -> `Sun Nov  6 08:49:37 1994`.
    fn asctime(fixdate: &str) -> String {
        let (day, rest) = fixdate.split_once(", ").unwrap();
        let parts: Vec<&str> = rest.split(' ').collect();
        let dd: u32 = parts[0].parse().unwrap();
        format!("{day} {} {dd:>2} {} {}", parts[1], parts[3], parts[2])
    }

    /// Runs `request` within `deadline`, every attempt answered with `answer` (a status and its
    /// `Retry-After`): the error it ends with and how many attempts were made.
    async fn always(
        policy: &RetryPolicy,
        deadline: Deadline,
        request: &str,
        answer: (StatusCode, Option<Duration>),
    ) -> (DriftError, u32) {
        let calls = AtomicU32::new(0);
        let err = run_within(policy, deadline, request, || async {
            calls.fetch_add(1, Ordering::SeqCst);
            Attempt::<()>::Status {
                status: answer.0,
                retry_after: answer.1,
            }
        })
        .await
        .expect_err("every attempt fails");
        (err, calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_retry_after_date_past_the_deadline_ends_the_request_at_once() {
        let mut h = HeaderMap::new();
        h.insert(
            header::RETRY_AFTER,
            httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_hours(2))
                .parse()
                .unwrap(),
        );
        let (err, calls) = always(
            &fast(5),
            Deadline::after(Duration::from_hours(1)),
            "LIST `ConfigMap`",
            (StatusCode::TOO_MANY_REQUESTS, retry_after(&h)),
        )
        .await;
        assert_eq!(calls, 1);
        assert!(matches!(err, DriftError::Deadline { .. }), "{err}");
        assert!(err.to_string().contains("retry after"), "{err}");
    }

    #[test]
    fn which_statuses_are_retried() {
        assert!(is_retryable(StatusCode::TOO_MANY_REQUESTS));
        assert!(is_retryable(StatusCode::INTERNAL_SERVER_ERROR));
        assert!(is_retryable(StatusCode::SERVICE_UNAVAILABLE));
        assert!(!is_retryable(StatusCode::NOT_FOUND));
        assert!(!is_retryable(StatusCode::CONFLICT));
        assert!(!is_retryable(StatusCode::FORBIDDEN));
    }

    #[tokio::test]
    async fn retries_until_success() {
        let calls = AtomicU32::new(0);
        let out = run(&fast(4), "LIST `ConfigMap`", || async {
            if calls.fetch_add(1, Ordering::SeqCst) < 2 {
                Attempt::Status {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    retry_after: None,
                }
            } else {
                Attempt::Done(7)
            }
        })
        .await
        .unwrap();
        assert_eq!((out, calls.load(Ordering::SeqCst)), (7, 3));
    }

    #[tokio::test]
    async fn gives_up_after_the_last_attempt_naming_the_request() {
        let (err, calls) = always(
            &fast(3),
            Deadline::none(),
            "LIST `ConfigMap` in namespace `a`",
            (StatusCode::INTERNAL_SERVER_ERROR, None),
        )
        .await;
        assert_eq!(calls, 3);
        assert_eq!(
            err.to_string(),
            "LIST `ConfigMap` in namespace `a` failed after 3 attempt(s): HTTP 500 Internal Server Error"
        );
    }

    #[tokio::test]
    async fn a_slow_attempt_times_out_and_is_retried() {
        let calls = AtomicU32::new(0);
        let mut policy = fast(2);
        policy.timeout = Duration::from_millis(20);
        let out = run(&policy, "GET `Node` `n1`", || async {
            if calls.fetch_add(1, Ordering::SeqCst) == 0 {
                tokio::time::sleep(Duration::from_hours(1)).await;
            }
            Attempt::Done("ok")
        })
        .await
        .unwrap();
        assert_eq!(out, "ok");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
