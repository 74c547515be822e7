//! How many describe calls a stack gets: CloudFormation throttles callers that read too often,
//! and a deploy reads the stacks it waits for again and again.
//!
//! Every DescribeStacks, DescribeStackEvents (each page) and DescribeChangeSet (each page) samrs
//! sends for a stack first takes a token from that stack's bucket, which holds [`BURST`] tokens
//! and gains one per poll period (a second, or `SAM_CLI_POLL_DELAY`): in the long run a stack gets
//! one describe call a second, the polls' own rate, and the few reads around an operation (the
//! stack's state before it, the events already there, the change set, the stack with its outputs
//! after it) go at once. A call with no token waits for one. The buckets are the process's, so
//! waits that run side by side share their stack's budget.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use super::poll;

/// The calls a stack may get at once after a quiet spell.
pub const BURST: f64 = 5.0;

/// One stack's tokens, as of `at`. Negative: calls are queued for tokens not there yet.
#[derive(Debug, Clone, Copy)]
pub struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub fn full(now: Instant) -> Self {
        Bucket {
            tokens: BURST,
            at: now,
        }
    }

    /// Takes a token at `now` for a call; returns how long the call must wait for it (zero when
    /// one is there). The bucket gains a token per `period`.
    pub fn take(&mut self, now: Instant, period: Duration) -> Duration {
        let gained = now.saturating_duration_since(self.at).as_secs_f64() / period.as_secs_f64();
        self.tokens = (self.tokens + gained).min(BURST) - 1.0;
        self.at = self.at.max(now);
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            period.mul_f64(-self.tokens)
        }
    }
}

static BUCKETS: LazyLock<Mutex<HashMap<String, Bucket>>> =
    LazyLock::new(|| Mutex::new(HashMap::new()));
/// The run's poll period, in milliseconds (the schedule sets it when it is made).
static PERIOD_MS: AtomicU64 = AtomicU64::new(poll::PERIOD.as_millis() as u64);

/// Makes a stack gain a token per `period`: the run's poll period, so polls never wait for one.
pub fn set_period(period: Duration) {
    let ms = u64::try_from(period.as_millis()).unwrap_or(u64::MAX).max(1);
    PERIOD_MS.store(ms, Ordering::Relaxed);
}

/// Waits until `stack` may get another describe call, and takes that token.
pub async fn take(stack: &str) {
    let now = Instant::now();
    let delay = match BUCKETS.lock() {
        Ok(mut buckets) => buckets
            .entry(stack.to_string())
            .or_insert_with(|| Bucket::full(now))
            .take(
                now,
                Duration::from_millis(PERIOD_MS.load(Ordering::Relaxed)),
            ),
        // A poisoned lock only means another thread panicked: that run is ending anyway.
        Err(_) => Duration::ZERO,
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: Duration = Duration::from_secs(1);

    fn ms(d: Duration) -> u128 {
        d.as_millis()
    }

    #[test]
    fn a_burst_goes_at_once_then_calls_queue_a_period_apart() {
        let t0 = Instant::now();
        let mut bucket = Bucket::full(t0);
        let waits: Vec<u128> = (0..8).map(|_| ms(bucket.take(t0, SECOND))).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 1000, 2000, 3000]);
    }

    #[test]
    fn polls_a_period_apart_never_wait_after_a_burst() {
        let t0 = Instant::now();
        let mut bucket = Bucket::full(t0);
        for _ in 0..5 {
            assert_eq!(bucket.take(t0, SECOND), Duration::ZERO);
        }
        for i in 1..=20 {
            assert_eq!(bucket.take(t0 + SECOND * i, SECOND), Duration::ZERO, "{i}");
        }
        // A second call within the same period has no token left.
        assert_eq!(ms(bucket.take(t0 + SECOND * 20, SECOND)), 1000);
    }

    #[test]
    fn a_quiet_spell_refills_the_bucket_up_to_the_burst() {
        let t0 = Instant::now();
        let mut bucket = Bucket::full(t0);
        for _ in 0..5 {
            bucket.take(t0, SECOND);
        }
        let later = t0 + SECOND * 60;
        let waits: Vec<u128> = (0..6).map(|_| ms(bucket.take(later, SECOND))).collect();
        assert_eq!(waits, [0, 0, 0, 0, 0, 1000]);
    }

    #[test]
    fn the_period_sets_the_rate() {
        let t0 = Instant::now();
        let mut bucket = Bucket::full(t0);
        let period = Duration::from_millis(50);
        for _ in 0..5 {
            bucket.take(t0, period);
        }
        assert_eq!(ms(bucket.take(t0, period)), 50);
        assert_eq!(ms(bucket.take(t0 + period * 2, period)), 0);
    }
}
