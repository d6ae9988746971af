//! Rate limiting per API token: a token bucket per token id, filled at
//! `api.rate_limit_per_second` up to `api.rate_limit_burst`. A request finding the bucket
//! empty is answered 429 with the seconds until the next request would pass.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The buckets of every token this process has seen.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_second` requests on average, `burst` at once.
    pub fn new(per_second: u32, burst: u32) -> Self {
        RateLimiter {
            per_second: f64::from(per_second.max(1)),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from the token's bucket; `Err(seconds)` to wait when empty.
    pub fn take(&self, token_id: i64) -> Result<(), u64> {
        self.take_at(token_id, Instant::now())
    }

    fn take_at(&self, token_id: i64, now: Instant) -> Result<(), u64> {
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let (level, last) = buckets.entry(token_id).or_insert((self.burst, now));
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *level = (*level + elapsed * self.per_second).min(self.burst);
        *last = now;
        if *level >= 1.0 {
            *level -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *level) / self.per_second).ceil().max(1.0) as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_token_gets_its_burst_then_waits_for_the_refill() {
        let limiter = RateLimiter::new(1, 3);
        let t = Instant::now();
        assert!(limiter.take_at(1, t).is_ok());
        assert!(limiter.take_at(1, t).is_ok());
        assert!(limiter.take_at(1, t).is_ok());
        assert_eq!(limiter.take_at(1, t), Err(1));
        assert!(
            limiter.take_at(2, t).is_ok(),
            "other tokens have their own bucket"
        );
        assert!(limiter.take_at(1, t + Duration::from_millis(1100)).is_ok());
    }
}
