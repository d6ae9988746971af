//! `Clock`: where vitrine reads the time. One clock is chosen at the edge — the system
//! clock by the command line and `vitrine serve`, a [`ManualClock`] by tests — and handed
//! to everything that stamps or compares a time: datestamps, responseDate and token
//! expiry, sessions, API tokens, job runs. Nothing else reads the time of day.
//!
//! Durations (how long a run took, a cache's age, a rate limit's refill) are measured
//! with `std::time::Instant`, which a clock does not replace.

use chrono::{DateTime, Utc};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

/// Where "now" comes from. Cloning shares the source; reading it neither allocates nor
/// locks (the system clock is one `clock_gettime`, a manual one one atomic load).
#[derive(Debug, Clone)]
pub struct Clock(Source);

#[derive(Debug, Clone)]
enum Source {
    System,
    Manual(Arc<AtomicI64>),
}

impl Clock {
    /// The machine's clock (UTC).
    pub fn system() -> Clock {
        Clock(Source::System)
    }

    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        match &self.0 {
            Source::System => Utc::now().timestamp(),
            Source::Manual(seconds) => seconds.load(Ordering::SeqCst),
        }
    }

    /// Now as a UTC date and time, to the second.
    pub fn now_utc(&self) -> DateTime<Utc> {
        DateTime::from_timestamp(self.now(), 0).unwrap_or_default()
    }
}

/// A clock that stands still until it is set or advanced: tests decide whether two
/// changes fall into one second or into two instead of waiting for the machine's clock.
/// Its clones and the [`Clock`]s made from it all show the same time.
#[derive(Debug, Clone)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// A clock standing at `seconds` (Unix seconds).
    pub fn at(seconds: i64) -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(seconds)))
    }

    /// A clock standing at the machine's current second.
    pub fn at_system_time() -> ManualClock {
        ManualClock::at(Clock::system().now())
    }

    /// The clock to hand to the application; it follows this one.
    pub fn clock(&self) -> Clock {
        Clock(Source::Manual(self.0.clone()))
    }

    /// Unix seconds the clock shows.
    pub fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    /// Moves the clock to `seconds` (backwards too).
    pub fn set(&self, seconds: i64) {
        self.0.store(seconds, Ordering::SeqCst);
    }

    /// Moves the clock `seconds` on and returns the new time.
    pub fn advance(&self, seconds: i64) -> i64 {
        self.0.fetch_add(seconds, Ordering::SeqCst) + seconds
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_its_clocks_follow_it() {
        let hand = ManualClock::at(1_700_000_000);
        let clock = hand.clock();
        let copy = clock.clone();
        assert_eq!(clock.now(), 1_700_000_000);
        assert_eq!(hand.advance(2), 1_700_000_002);
        assert_eq!((clock.now(), copy.now()), (1_700_000_002, 1_700_000_002));
        hand.set(86_400);
        assert_eq!(copy.now_utc().to_rfc3339(), "1970-01-02T00:00:00+00:00");
    }

    #[test]
    fn the_system_clock_shows_the_machines_second() {
        let before = Utc::now().timestamp();
        let now = Clock::system().now();
        assert!(now >= before && now <= Utc::now().timestamp());
    }
}
