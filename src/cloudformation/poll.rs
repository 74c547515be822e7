//! How often samrs asks CloudFormation whether something finished.
//!
//! On AWS a stack operation takes seconds to minutes; what a client controls is how soon it
//! notices the end. samrs polls at once (an operation may already be over), then once a second,
//! each poll due one period after the previous one started (so call latency does not add up): the
//! end of an operation is seen within a second of it, half a second on average, however long it
//! ran. That is the rate [`super::budget`] allows a stack, so the polls never wait for it in the
//! steady state. The SDK waiters sleep at least 30 s between polls; the SAM CLI sleeps 5 s.
//!
//! A throttled call (the SDK retries it, see [`crate::calls::throttled_attempts`]) doubles the
//! period, up to 16 times, and each poll that is not throttled brings it back by a fifth.
//! `SAM_CLI_POLL_DELAY` (seconds, as the SAM CLI reads it) fixes the period instead of the second.
//! A schedule may also have a limit (`--max-wait-duration`): each wait ends when it has lasted that
//! long, whatever CloudFormation is still doing.

use std::time::{Duration, Instant};

/// The period between polls, and the rate of describe calls a stack is allowed.
pub const PERIOD: Duration = Duration::from_secs(1);
/// How far throttling may stretch the period.
const MAX_SLOWDOWN: f64 = 16.0;
/// Each poll without a throttle shrinks the stretch by this factor.
const RECOVERY: f64 = 0.8;

/// The period in force: `SAM_CLI_POLL_DELAY` when it is a positive number of seconds, else [`PERIOD`].
pub fn period(poll_delay: Option<&str>) -> Duration {
    poll_delay
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map_or(PERIOD, Duration::from_secs_f64)
}

/// A poll schedule for one wait; [`Poller::wait`] sleeps until the next poll is due.
#[derive(Debug, Clone)]
pub struct Poller {
    period: Duration,
    /// How much throttling has stretched the period (1: not at all).
    slowdown: f64,
    /// When the previous poll was due; None before the first.
    last: Option<Instant>,
    /// The count of throttled CloudFormation attempts when the previous poll was due.
    throttles: u64,
    max_wait: Option<Duration>,
    /// When the wait began.
    started: Instant,
}

impl Poller {
    /// The schedule in force: `SAM_CLI_POLL_DELAY`'s value when a positive number, else a second.
    /// The stacks' describe budget ([`super::budget`]) follows the same period.
    pub fn new(poll_delay: Option<&str>) -> Self {
        let period = period(poll_delay);
        super::budget::set_period(period);
        Poller {
            period,
            slowdown: 1.0,
            last: None,
            throttles: 0,
            max_wait: None,
            started: Instant::now(),
        }
    }

    /// A run's poller: `SAM_CLI_POLL_DELAY` from `env`, each wait limited to `max_wait`
    /// (`--max-wait-duration`).
    pub fn for_run(env: &crate::settings::Environment, max_wait: Duration) -> Self {
        Self::new(env.var(crate::settings::POLL_DELAY_VARIABLE)).with_max_wait(max_wait)
    }

    /// The same schedule, each wait ending after `limit`.
    pub fn with_max_wait(self, limit: Duration) -> Self {
        Poller {
            max_wait: Some(limit),
            ..self
        }
    }

    /// How long one wait may last, if limited.
    pub fn max_wait(&self) -> Option<Duration> {
        self.max_wait
    }

    /// A fresh schedule with the same settings: each wait polls at once again, at the normal
    /// period, slowed down by the throttles of its own polls only, and its limit counts from now.
    pub fn restart(&self) -> Self {
        Poller {
            period: self.period,
            slowdown: 1.0,
            last: None,
            throttles: crate::calls::throttled_attempts(),
            max_wait: self.max_wait,
            started: Instant::now(),
        }
    }

    /// The interval shown in "refresh every N seconds".
    pub fn describe(&self) -> String {
        format!("{:?} seconds", self.period.as_secs_f64())
    }

    /// The delay at `now` before the next poll: none before the first, else until one period
    /// (stretched after throttling) after the previous poll was due. `throttled`: a call was
    /// throttled since then.
    pub fn next_delay(&mut self, now: Instant, throttled: bool) -> Duration {
        let Some(last) = self.last else {
            self.last = Some(now);
            return Duration::ZERO;
        };
        self.slowdown = if throttled {
            (self.slowdown * 2.0).min(MAX_SLOWDOWN)
        } else {
            (self.slowdown * RECOVERY).max(1.0)
        };
        let due = (last + self.period.mul_f64(self.slowdown)).max(now);
        self.last = Some(due);
        due - now
    }

    /// The delay at `now` before the next poll, cut short by the limit; None when the wait has
    /// lasted its limit (no poll is due any more).
    fn delay_within_limit(&mut self, now: Instant, throttled: bool) -> Option<Duration> {
        let elapsed = now.saturating_duration_since(self.started);
        let delay = self.next_delay(now, throttled);
        match self.max_wait {
            None => Some(delay),
            Some(limit) if elapsed >= limit => None,
            Some(limit) => Some(delay.min(limit - elapsed)),
        }
    }

    /// Sleeps until the next poll is due; false when the wait has lasted its limit.
    pub async fn wait(&mut self) -> bool {
        let throttles = crate::calls::throttled_attempts();
        let throttled = throttles > self.throttles;
        self.throttles = throttles;
        let Some(delay) = self.delay_within_limit(Instant::now(), throttled) else {
            return false;
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        true
    }
}

/// A wait's limit as a person reads it: `60 minutes`, `1 minute`, `2.5 seconds`.
pub fn describe_limit(limit: Duration) -> String {
    let seconds = limit.as_secs_f64();
    if limit.subsec_nanos() == 0 && limit.as_secs() % 60 == 0 && limit.as_secs() > 0 {
        let minutes = limit.as_secs() / 60;
        format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
    } else {
        format!("{seconds} second{}", if seconds == 1.0 { "" } else { "s" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The delays of `polls` polls when each poll takes `latency` and the `throttled` ones were
    /// throttled (by index of the poll after which the throttle is seen).
    fn delays(p: &mut Poller, polls: usize, latency: Duration, throttled: &[usize]) -> Vec<u128> {
        let mut now = Instant::now();
        (0..polls)
            .map(|i| {
                let delay = p.next_delay(now, throttled.contains(&i));
                now += delay + latency;
                delay.as_millis()
            })
            .collect()
    }

    #[test]
    fn polls_at_once_then_every_second_whatever_the_latency() {
        let mut p = Poller::new(None);
        let d = delays(&mut p, 6, Duration::from_millis(120), &[]);
        assert_eq!(d, [0, 880, 880, 880, 880, 880]);
        assert_eq!(p.describe(), "1.0 seconds");
    }

    #[test]
    fn a_poll_slower_than_the_period_is_followed_at_once() {
        let mut p = Poller::new(None);
        assert_eq!(
            delays(&mut p, 4, Duration::from_millis(1500), &[]),
            [0, 0, 0, 0]
        );
    }

    #[test]
    fn a_throttle_doubles_the_period_and_clean_polls_bring_it_back() {
        let mut p = Poller::new(None);
        let d = delays(&mut p, 12, Duration::ZERO, &[2, 3]);
        assert_eq!(&d[..6], &[0, 1000, 2000, 4000, 3200, 2560]);
        assert!(d.windows(2).skip(3).all(|w| w[0] >= w[1]), "{d:?}");
        assert_eq!(*d.last().unwrap(), 1000);
    }

    #[test]
    fn throttling_stretches_the_period_sixteen_times_at_most() {
        let mut p = Poller::new(None);
        let all: Vec<usize> = (0..10).collect();
        let d = delays(&mut p, 10, Duration::ZERO, &all);
        assert_eq!(*d.last().unwrap(), 16_000);
    }

    #[test]
    fn a_restarted_schedule_polls_at_once_at_the_normal_period() {
        let mut p = Poller::new(None);
        delays(&mut p, 3, Duration::ZERO, &[1]);
        let mut again = p.restart();
        assert_eq!(delays(&mut again, 2, Duration::ZERO, &[]), [0, 1000]);
    }

    #[test]
    fn sam_cli_poll_delay_fixes_the_period() {
        let mut p = Poller::new(Some("0.05"));
        assert_eq!(delays(&mut p, 3, Duration::ZERO, &[]), [0, 50, 50]);
        assert_eq!(p.describe(), "0.05 seconds");
    }

    #[test]
    fn a_limited_wait_sleeps_no_further_than_its_limit_then_ends() {
        let mut p = Poller::new(Some("5")).with_max_wait(Duration::from_secs(12));
        let second = Duration::from_secs(1);
        let t0 = p.started;
        assert_eq!(p.delay_within_limit(t0, false), Some(Duration::ZERO));
        assert_eq!(p.delay_within_limit(t0 + second, false), Some(4 * second));
        assert_eq!(
            p.delay_within_limit(t0 + 10 * second, false),
            Some(Duration::ZERO)
        );
        assert_eq!(p.delay_within_limit(t0 + 11 * second, false), Some(second));
        assert_eq!(p.delay_within_limit(t0 + 12 * second, false), None);
        let unlimited = Poller::new(Some("5")).restart();
        assert_eq!(unlimited.max_wait(), None);
        assert_eq!(p.restart().max_wait(), Some(12 * second));
    }

    #[test]
    fn limits_read_as_minutes_or_seconds() {
        assert_eq!(describe_limit(Duration::from_secs(3600)), "60 minutes");
        assert_eq!(describe_limit(Duration::from_secs(60)), "1 minute");
        assert_eq!(describe_limit(Duration::from_secs(2)), "2 seconds");
        assert_eq!(describe_limit(Duration::from_millis(1500)), "1.5 seconds");
        assert_eq!(describe_limit(Duration::from_secs(1)), "1 second");
    }

    #[test]
    fn invalid_or_non_positive_delay_falls_back_to_a_second() {
        for value in ["0", "-1", "abc", "", "NaN", "inf"] {
            assert_eq!(period(Some(value)), PERIOD, "{value}");
        }
        assert_eq!(period(None), PERIOD);
        assert_eq!(period(Some(" 2.5 ")), Duration::from_millis(2500));
    }
}
