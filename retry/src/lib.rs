//! The transport primitives every remote client of plinth shares (a Kubernetes cluster, the
//! cloud APIs): a retry policy with exponential backoff and jitter, `Retry-After` honoured, a
//! timeout on every attempt, a bounded number of attempts, and the command's [`Deadline`].
//!
//! Retried: `429`, every `5xx`, attempts that time out and connection errors. Not retried: any
//! other status (the caller interprets `404`, `409` and the rest). When the attempts run out the
//! error names the request and the last reason, never a header or body.
//!
//! A [`Deadline`] bounds the whole command: no attempt outlives it, and a retry whose wait
//! (backoff or the server's `Retry-After`) would end past it is not made; the error says so.
//!
//! The loop ([`run_within`]) is generic over the caller's own error type: a failure no retry
//! can mend is handed back as [`RetryError::Fatal`], and each client maps [`RetryError`] into
//! its own error once.

use std::future::Future;
use std::time::Duration;

use http::{HeaderMap, StatusCode, header};

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

/// The end of a command's time with a remote API: every attempt and every wait before a retry
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
    pub fn error<E>(&self, request: &str, reason: &str) -> RetryError<E> {
        RetryError::Deadline {
            request: format!("{request} ({reason})"),
            deadline: self.describe(),
        }
    }
}

/// The outcome of one attempt, as the retry loop sees it; `E` is the caller's error type.
#[derive(Debug)]
pub enum Attempt<T, E> {
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
    Fatal(E),
}

/// Why [`run_within`] gave up; each client maps it into its own error type.
#[derive(Debug)]
pub enum RetryError<E> {
    /// The request failed for good: the attempts ran out, or a failure no retry can mend
    /// (a rejected certificate, a request that cannot be sent). `reason` is the last one, never
    /// a header or body.
    Failed {
        request: String,
        attempts: u32,
        reason: String,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The deadline passed; `request` carries the last reason in parentheses.
    Deadline { request: String, deadline: String },
    /// The attempt's own fatal error, as it gave it.
    Fatal(E),
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

/// Runs `attempt` until it yields a response that is not retried or the attempts run out, within
/// `deadline`: each attempt gets the policy's timeout or the time left, whichever is shorter, and
/// a retry whose wait would end past the deadline is not made (a `Retry-After` beyond it ends the
/// request at once, saying so). `request` describes the call for the final error, e.g.
/// ``LIST `ConfigMap` in namespace `a` ``.
pub async fn run_within<T, E, F, Fut>(
    policy: &RetryPolicy,
    deadline: Deadline,
    request: &str,
    mut attempt: F,
) -> Result<T, RetryError<E>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T, E>>,
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
            Ok(Attempt::Fatal(err)) => return Err(RetryError::Fatal(err)),
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
                    return Err(RetryError::Failed {
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
            return Err(RetryError::Failed {
                request: request.to_owned(),
                attempts: n,
                reason,
                source,
            });
        }
        let delay = policy.delay(n, after);
        // The server's own wait counts in full: retrying sooner than asked because of the cap is
        // fine, but a wait that ends past the deadline means the answer could not come in time.
        if deadline.at.is_some() && after.map_or(delay, |a| a.max(delay)) >= deadline.remaining() {
            let wait = match after {
                Some(after) => format!(
                    "{reason}; the server asked to retry after {}",
                    humanize(after)
                ),
                None => format!("{reason}; the next retry was due in {}", humanize(delay)),
            };
            return Err(deadline.error(request, &format!("after {n} attempt(s): {wait}")));
        }
        // The request's description and the reason name kinds, places and statuses only.
        tracing::info!(
            request,
            attempt = n,
            reason = %reason,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            "request retried"
        );
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
    use super::*;

    /// Without a deadline, a `Retry-After` too large for the clock waits the longest wait
    /// plinth allows and retries; it is not reported as a deadline passed.
    #[tokio::test(start_paused = true)]
    async fn without_a_deadline_a_huge_retry_after_waits_the_cap() {
        let policy = RetryPolicy::new(1, Duration::from_secs(30));
        let mut tries = 0;
        let started = tokio::time::Instant::now();
        let result: Result<u32, RetryError<()>> =
            run_within(&policy, Deadline::none(), "`GET` x", || {
                tries += 1;
                let first = tries == 1;
                async move {
                    if first {
                        Attempt::Status {
                            status: StatusCode::TOO_MANY_REQUESTS,
                            retry_after: Some(Duration::MAX),
                        }
                    } else {
                        Attempt::Done(7)
                    }
                }
            })
            .await;
        assert!(matches!(result, Ok(7)), "{result:?}");
        assert_eq!(started.elapsed(), MAX_RETRY_AFTER);
    }
}
