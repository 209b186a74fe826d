//! When to retry and how long to wait: `Retry-After` first, else capped exponential backoff with jitter.

use std::time::{Duration, SystemTime};

use rand::Rng;
use reqwest::Method;
use serde_json::Value;

use crate::settings::RetryPolicy;

/// Statuses Graph documents as transient: throttled, unavailable, gateway timeout.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
}

/// Whether an answer with `status` may be retried for a request that is (or is not) safe to
/// send twice. A 429 means Graph did not act, so any method is retried; a 503 or 504 may come
/// after the write was applied (a gateway gave up waiting), so only requests whose repetition
/// changes nothing are retried.
pub(crate) fn may_retry_status(status: u16, replay_safe: bool) -> bool {
    match status {
        429 => true,
        503 | 504 => replay_safe,
        _ => false,
    }
}

/// Whether a method is safe to send twice: GET, HEAD, OPTIONS read; PUT and DELETE set a
/// state that a second call leaves unchanged. POST and PATCH are not.
pub(crate) fn idempotent_method(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::PUT | Method::DELETE
    )
}

/// Whether a whole request may be sent twice: an idempotent method, a `$batch` whose
/// sub-requests all only read (GET), or an Exchange `InvokeCommand` of a `Get-` cmdlet.
pub(crate) fn replay_safe(method: &Method, path: &str, body: Option<&Value>) -> bool {
    if idempotent_method(method) {
        return true;
    }
    if *method != Method::POST {
        return false;
    }
    let Some(body) = body else { return false };
    if path.ends_with("/$batch") {
        return body
            .get("requests")
            .and_then(Value::as_array)
            .is_some_and(|items| {
                items.iter().all(|item| {
                    item.get("method")
                        .and_then(Value::as_str)
                        .is_some_and(|m| m.eq_ignore_ascii_case("GET"))
                })
            });
    }
    body.pointer("/CmdletInput/CmdletName")
        .and_then(Value::as_str)
        .is_some_and(|name| name.len() > 4 && name[..4].eq_ignore_ascii_case("get-"))
}

/// Parses `Retry-After` as delta seconds (Graph sends `10` and `2.128`) or an HTTP date.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::try_from_secs_f64(secs).ok())
            .flatten();
    }
    let when = httpdate::parse_http_date(value).ok()?;
    // A date already past means "now".
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Backoff before retry number `retry` (1 for the first retry): grows from `base_delay`,
/// capped at `max_delay`, with "equal jitter" so concurrent callers spread out.
pub(crate) fn backoff_delay(policy: &RetryPolicy, retry: u32) -> Duration {
    let exp = retry.saturating_sub(1).min(20);
    let ceiling = policy
        .base_delay
        .saturating_mul(1u32 << exp)
        .min(policy.max_delay);
    let half = ceiling / 2;
    let jitter_nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
    let jitter = if jitter_nanos == 0 {
        0
    } else {
        rand::rng().random_range(0..=jitter_nanos)
    };
    half + Duration::from_nanos(jitter)
}

/// Tracks one logical call's attempts and the time spent waiting between them.
#[derive(Debug)]
pub(crate) struct RetryBudget<'a> {
    policy: &'a RetryPolicy,
    attempts: u32,
    waited: Duration,
}

impl<'a> RetryBudget<'a> {
    pub(crate) fn new(policy: &'a RetryPolicy) -> Self {
        Self {
            policy,
            attempts: 0,
            waited: Duration::ZERO,
        }
    }

    /// Counts an attempt about to be made; returns its 1-based number.
    pub(crate) fn start_attempt(&mut self) -> u32 {
        self.attempts += 1;
        self.attempts
    }

    pub(crate) fn attempts(&self) -> u32 {
        self.attempts
    }

    /// How long to wait before another attempt, or `None` when the budget is spent.
    /// A server-given `Retry-After` wins over backoff but must still fit the total budget.
    pub(crate) fn next_wait(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        if self.attempts >= self.policy.max_attempts {
            return None;
        }
        let wait = retry_after.unwrap_or_else(|| backoff_delay(self.policy, self.attempts));
        let total = self.waited.checked_add(wait)?;
        if total > self.policy.max_total_wait {
            return None;
        }
        self.waited = total;
        Some(wait)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 4,
            max_total_wait: Duration::from_secs(60),
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(10),
        }
    }

    #[test]
    fn retry_after_accepts_whole_and_fractional_seconds() {
        let now = SystemTime::now();
        assert_eq!(parse_retry_after("10", now), Some(Duration::from_secs(10)));
        assert_eq!(
            parse_retry_after(" 2.128 ", now),
            Some(Duration::from_millis(2128))
        );
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn retry_after_accepts_an_http_date() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").unwrap();
        let wait = parse_retry_after("Wed, 21 Oct 2015 07:28:05 GMT", now);
        assert_eq!(wait, Some(Duration::from_secs(5)));
        let past = parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now);
        assert_eq!(past, Some(Duration::ZERO));
    }

    #[test]
    fn backoff_grows_and_stays_under_the_cap() {
        let p = policy();
        for retry in 1..40 {
            let d = backoff_delay(&p, retry);
            assert!(d <= p.max_delay, "retry {retry} waited {d:?}");
        }
        let first = backoff_delay(&p, 1);
        assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
        let fourth = backoff_delay(&p, 4);
        assert!(fourth >= Duration::from_secs(2) && fourth <= Duration::from_secs(4));
    }

    #[test]
    fn only_a_429_is_retried_for_a_write_and_503_504_for_reads() {
        assert!(may_retry_status(429, false));
        assert!(!may_retry_status(503, false));
        assert!(!may_retry_status(504, false));
        assert!(may_retry_status(504, true));
        assert!(!may_retry_status(500, true));
    }

    #[test]
    fn a_batch_is_replay_safe_only_when_every_item_reads() {
        let reads = serde_json::json!({"requests": [{"method": "GET"}, {"method": "get"}]});
        let mixed = serde_json::json!({"requests": [{"method": "GET"}, {"method": "PATCH"}]});
        assert!(replay_safe(&Method::POST, "/v1.0/$batch", Some(&reads)));
        assert!(!replay_safe(&Method::POST, "/v1.0/$batch", Some(&mixed)));
        assert!(!replay_safe(&Method::POST, "/v1.0/users", Some(&reads)));
        assert!(!replay_safe(&Method::PATCH, "/v1.0/users/x", None));
        assert!(replay_safe(
            &Method::PUT,
            "/v1.0/users/x/manager/$ref",
            None
        ));
        assert!(replay_safe(&Method::DELETE, "/v1.0/users/x", None));
        let get_mailbox = serde_json::json!({"CmdletInput": {"CmdletName": "Get-Mailbox"}});
        let set_mailbox = serde_json::json!({"CmdletInput": {"CmdletName": "Set-Mailbox"}});
        assert!(replay_safe(
            &Method::POST,
            "/adminapi/beta/t/InvokeCommand",
            Some(&get_mailbox)
        ));
        assert!(!replay_safe(
            &Method::POST,
            "/adminapi/beta/t/InvokeCommand",
            Some(&set_mailbox)
        ));
    }

    #[test]
    fn the_budget_stops_after_max_attempts() {
        let p = policy();
        let mut b = RetryBudget::new(&p);
        for _ in 0..3 {
            b.start_attempt();
            assert!(b.next_wait(Some(Duration::ZERO)).is_some());
        }
        b.start_attempt();
        assert_eq!(b.next_wait(Some(Duration::ZERO)), None);
        assert_eq!(b.attempts(), 4);
    }

    #[test]
    fn the_budget_refuses_a_wait_beyond_the_total_allowed() {
        let p = policy();
        let mut b = RetryBudget::new(&p);
        b.start_attempt();
        assert_eq!(b.next_wait(Some(Duration::from_secs(61))), None);
        assert_eq!(
            b.next_wait(Some(Duration::from_secs(30))),
            Some(Duration::from_secs(30))
        );
        b.start_attempt();
        assert_eq!(b.next_wait(Some(Duration::from_secs(31))), None);
    }
}
