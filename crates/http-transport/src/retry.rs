//! The retry policy (`docs/HUB-PROTOCOL-NOTES.md#retries`): which failures are retried, for
//! which kinds of request, and how long to wait.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::HeaderMap;

/// How failed requests are retried.
///
/// Retried: HTTP 408, 429, 500, 502, 503, 504 and connection or timeout errors. Other 4xx
/// answers are final. The wait before retry `n` (0-based) is `base_delay * 2^n`, capped at
/// `max_delay`, with jitter (a random point in the upper half of that delay). A `Retry-After`
/// of integer seconds (or, on 429, `RateLimit: ...;t=N`) replaces the computed wait; when it is
/// longer than `max_retry_after` the transport fails fast with
/// [`TransportError::RetryAfterTooLong`](crate::TransportError::RetryAfterTooLong) instead of
/// sleeping. Which failures a request may retry at all is its [`RetryMode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts in all).
    pub max_retries: u32,
    /// The first backoff delay.
    pub base_delay: Duration,
    /// The longest backoff delay.
    pub max_delay: Duration,
    /// The longest `Retry-After` honoured; beyond it the request fails fast.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_retries: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    /// Wait this long, then try again.
    RetryAfter(Duration),
    /// The server asked for a wait longer than the limit: fail now.
    TooLong(Duration),
    /// Do not retry (the answer is final, or the retries are used up).
    GiveUp,
}

/// Which failures of one request may be answered by sending it again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryMode {
    /// Reads and idempotent writes: 408, 429, 5xx and network failures.
    Idempotent,
    /// Writes that must not be applied twice but may be sent again when the server says it
    /// did not process them: 429 and 503 only, never a network failure.
    UnprocessedOnly,
    /// Never sent again (the caller has its own recovery, like a commit that checks the
    /// branch first). A `Retry-After` over the limit is still reported as such.
    Never,
}

impl RetryMode {
    /// True when an answer with `status` may be retried in this mode.
    pub fn retries_status(self, status: u16) -> bool {
        match self {
            Self::Idempotent => is_retryable_status(status),
            Self::UnprocessedOnly => is_unprocessed_status(status),
            Self::Never => false,
        }
    }

    /// True when a network failure (the request may or may not have arrived) may be retried.
    pub fn retries_network_failures(self) -> bool {
        self == Self::Idempotent
    }
}

impl RetryPolicy {
    /// A policy that never retries.
    pub fn none() -> Self {
        Self {
            max_retries: 0,
            ..Self::default()
        }
    }

    /// The jittered backoff before retry number `retry` (0-based).
    pub fn backoff(&self, retry: u32) -> Duration {
        let factor = 1u32.checked_shl(retry.min(20)).unwrap_or(u32::MAX);
        let full = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let half = full / 2;
        let jitter_nanos = if half.is_zero() {
            0
        } else {
            random_u64() % (half.as_nanos() as u64 + 1)
        };
        half + Duration::from_nanos(jitter_nanos)
    }

    /// Decides after attempt number `attempt` (0-based) failed with `status` (or a transport
    /// error when `None`) and the answer's headers.
    pub fn decide(
        &self,
        attempt: u32,
        status: Option<u16>,
        headers: Option<&HeaderMap>,
    ) -> RetryDecision {
        if let Some(status) = status
            && !is_retryable_status(status)
        {
            return RetryDecision::GiveUp;
        }
        let asked = match (status, headers) {
            (Some(status), Some(headers)) => server_wait(status, headers),
            _ => None,
        };
        if let Some(asked) = asked
            && asked > self.max_retry_after
        {
            return RetryDecision::TooLong(asked);
        }
        if attempt >= self.max_retries {
            return RetryDecision::GiveUp;
        }
        RetryDecision::RetryAfter(asked.unwrap_or_else(|| self.backoff(attempt)))
    }
}

/// True for the statuses retried: 408, 429, 500, 502, 503, 504.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

/// True for the statuses that say the request was not processed: 429 and 503.
pub fn is_unprocessed_status(status: u16) -> bool {
    matches!(status, 429 | 503)
}

/// The wait the server asked for: `Retry-After` in integer seconds, or on 429 the `t=N` of a
/// `RateLimit` header whose remaining count `r` is 0. HTTP dates are ignored.
pub fn server_wait(status: u16, headers: &HeaderMap) -> Option<Duration> {
    if let Some(d) = parse_retry_after(headers) {
        return Some(d);
    }
    if status != 429 {
        return None;
    }
    let value = headers.get("ratelimit")?.to_str().ok()?;
    let mut remaining = None;
    let mut reset = None;
    for item in value.split(';') {
        let item = item.trim();
        if let Some(r) = item.strip_prefix("r=") {
            remaining = r.trim().parse::<u64>().ok();
        } else if let Some(t) = item.strip_prefix("t=") {
            reset = t.trim().parse::<u64>().ok();
        }
    }
    match (remaining, reset) {
        (Some(0), Some(t)) => Some(Duration::from_secs(t)),
        _ => None,
    }
}

/// `Retry-After` as integer seconds; `None` when absent or an HTTP date.
pub fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get("retry-after")?.to_str().ok()?.trim();
    text.parse::<u64>().ok().map(Duration::from_secs)
}

/// A random number from the standard library's per-process random hash keys.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(350),
            max_retry_after: Duration::from_secs(5),
        }
    }

    fn with(name: &'static str, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable_status(s), "{s}");
        }
        for s in [200, 400, 401, 403, 404, 409, 412, 413, 422, 501, 505] {
            assert!(!is_retryable_status(s), "{s}");
        }
    }

    #[test]
    fn modes() {
        use RetryMode::*;
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(Idempotent.retries_status(s), "{s}");
            assert!(!Never.retries_status(s), "{s}");
            assert_eq!(
                UnprocessedOnly.retries_status(s),
                s == 429 || s == 503,
                "{s}"
            );
        }
        for s in [400, 401, 403, 404, 409, 412, 422] {
            assert!(!Idempotent.retries_status(s), "{s}");
            assert!(!UnprocessedOnly.retries_status(s), "{s}");
        }
        assert!(Idempotent.retries_network_failures());
        assert!(!UnprocessedOnly.retries_network_failures());
        assert!(!Never.retries_network_failures());
    }

    #[test]
    fn backoff_grows_with_jitter_and_cap() {
        let p = policy();
        for _ in 0..200 {
            let d0 = p.backoff(0);
            assert!(
                d0 >= Duration::from_millis(50) && d0 <= Duration::from_millis(100),
                "{d0:?}"
            );
            let d1 = p.backoff(1);
            assert!(
                d1 >= Duration::from_millis(100) && d1 <= Duration::from_millis(200),
                "{d1:?}"
            );
            let d9 = p.backoff(9);
            assert!(
                d9 >= Duration::from_millis(175) && d9 <= Duration::from_millis(350),
                "{d9:?}"
            );
            assert!(p.backoff(u32::MAX) <= Duration::from_millis(350));
        }
        let distinct: std::collections::BTreeSet<_> = (0..50).map(|_| p.backoff(3)).collect();
        assert!(distinct.len() > 10, "no jitter: {distinct:?}");
    }

    #[test]
    fn decisions() {
        let p = policy();
        assert_eq!(p.decide(0, Some(404), None), RetryDecision::GiveUp);
        assert_eq!(
            p.decide(0, Some(412), Some(&with("retry-after", "1"))),
            RetryDecision::GiveUp
        );
        assert!(matches!(
            p.decide(0, Some(503), None),
            RetryDecision::RetryAfter(_)
        ));
        assert!(matches!(
            p.decide(2, None, None),
            RetryDecision::RetryAfter(_)
        ));
        assert_eq!(p.decide(3, Some(503), None), RetryDecision::GiveUp);
        assert_eq!(p.decide(3, None, None), RetryDecision::GiveUp);
        assert_eq!(
            p.decide(0, Some(429), Some(&with("retry-after", "2"))),
            RetryDecision::RetryAfter(Duration::from_secs(2))
        );
        assert_eq!(
            p.decide(0, Some(429), Some(&with("retry-after", "3600"))),
            RetryDecision::TooLong(Duration::from_secs(3600))
        );
        // Even with retries used up, an over-long wait is reported as such.
        assert_eq!(
            p.decide(3, Some(503), Some(&with("retry-after", "600"))),
            RetryDecision::TooLong(Duration::from_secs(600))
        );
        assert_eq!(
            p.decide(0, Some(429), Some(&with("ratelimit", "\"api\";r=0;t=4"))),
            RetryDecision::RetryAfter(Duration::from_secs(4))
        );
        assert!(matches!(
            p.decide(0, Some(429), Some(&with("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"))),
            RetryDecision::RetryAfter(d) if d <= Duration::from_millis(100)
        ));
        assert_eq!(
            RetryPolicy::none().decide(0, Some(503), None),
            RetryDecision::GiveUp
        );
    }
}
