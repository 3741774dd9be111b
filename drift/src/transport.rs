//! The HTTP layer every remote live source shares, as drift sees it: the primitives of
//! `plinth-retry` (shared with the cloud clients) with [`DriftError`] as the error. Retries
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

use plinth_retry::RetryError;
pub use plinth_retry::{
    Deadline, Failure, MAX_RETRY_AFTER, RetryPolicy, TransportError, humanize, is_retryable,
    retry_after,
};

use crate::error::DriftError;

/// The outcome of one attempt, as the retry loop sees it; a fatal one is a [`DriftError`].
pub type Attempt<T> = plinth_retry::Attempt<T, DriftError>;

impl From<RetryError<DriftError>> for DriftError {
    fn from(err: RetryError<DriftError>) -> Self {
        match err {
            RetryError::Failed {
                request,
                attempts,
                reason,
                source,
            } => DriftError::Api {
                request,
                attempts,
                reason,
                source,
            },
            RetryError::Deadline { request, deadline } => {
                DriftError::Deadline { request, deadline }
            }
            RetryError::Fatal(err) => err,
        }
    }
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

/// [`run`] within a deadline (see [`plinth_retry::run_within`]): each attempt gets the policy's
/// timeout or the time left, whichever is shorter, and a retry whose wait would end past the
/// deadline is not made.
pub async fn run_within<T, F, Fut>(
    policy: &RetryPolicy,
    deadline: Deadline,
    request: &str,
    attempt: F,
) -> Result<T, DriftError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Attempt<T>>,
{
    plinth_retry::run_within(policy, deadline, request, attempt)
        .await
        .map_err(DriftError::from)
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::Duration;

    use http::{HeaderMap, StatusCode, header};

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
