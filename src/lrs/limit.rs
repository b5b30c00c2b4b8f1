//! Per-credential rate limits: a token bucket per credential key, refilled
//! at `rate` requests per second up to a burst of twice that. A request
//! over the limit gets 429 with `Retry-After`, so that one misbehaving
//! client (a looping package, a runaway import) cannot starve the others.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub struct RateLimiter {
    rate: f64,
    burst: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// `per_second` requests a second per credential; 0 turns limiting off.
    pub fn new(per_second: u32) -> Option<RateLimiter> {
        (per_second > 0).then(|| RateLimiter {
            rate: f64::from(per_second),
            burst: f64::from(per_second) * 2.0,
            buckets: Mutex::new(HashMap::new()),
        })
    }

    /// Takes one token for `key`; when none is left, answers how many whole
    /// seconds to wait.
    pub fn take(&self, key: &str) -> Result<(), u64> {
        self.take_at(key, Instant::now())
    }

    fn take_at(&self, key: &str, now: Instant) -> Result<(), u64> {
        let Ok(mut buckets) = self.buckets.lock() else {
            return Ok(());
        };
        let bucket = buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.rate).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - bucket.tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_is_allowed_then_the_rate_holds() {
        let limiter = RateLimiter::new(5).unwrap();
        let t0 = Instant::now();
        for _ in 0..10 {
            assert!(limiter.take_at("lms", t0).is_ok());
        }
        assert_eq!(limiter.take_at("lms", t0), Err(1));
        assert!(
            limiter.take_at("other", t0).is_ok(),
            "buckets are per credential"
        );
        assert!(
            limiter
                .take_at("lms", t0 + Duration::from_millis(200))
                .is_ok()
        );
        assert!(
            limiter
                .take_at("lms", t0 + Duration::from_millis(200))
                .is_err()
        );
    }

    #[test]
    fn zero_turns_limiting_off() {
        assert!(RateLimiter::new(0).is_none());
    }
}
