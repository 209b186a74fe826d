//! When to retry and how long to wait: `Retry-After` first, else capped exponential backoff with jitter.

use std::time::{Duration, SystemTime};

use rand::Rng;

use crate::settings::RetryPolicy;

/// Statuses Graph documents as transient: throttled, unavailable, gateway timeout.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 429 | 503 | 504)
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
