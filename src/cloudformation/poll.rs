//! How often samrs asks CloudFormation whether something finished.
//!
//! The SDK's waiters sleep at least 30 s between polls; the SAM CLI sleeps 5 s. samrs polls at
//! once, then backs off from a quarter second to 5 s, so fast operations end fast and long ones
//! cost few calls. `SAM_CLI_POLL_DELAY` (seconds, as the SAM CLI reads it) fixes the interval.
//! A schedule may also have a limit (`--max-wait-duration`): each wait ends when it has lasted that
//! long, whatever CloudFormation is still doing.

use std::time::{Duration, Instant};

const FIRST: Duration = Duration::from_millis(250);
const MAX: Duration = Duration::from_secs(5);

/// A poll schedule; `next()` gives the sleep before each poll.
#[derive(Debug, Clone)]
pub struct Poller {
    fixed: Option<Duration>,
    attempt: u32,
    max_wait: Option<Duration>,
    started: Instant,
}

impl Poller {
    /// The schedule in force: `SAM_CLI_POLL_DELAY`'s value when a positive number, else adaptive.
    pub fn new(poll_delay: Option<&str>) -> Self {
        let fixed = poll_delay
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64);
        Poller {
            fixed,
            attempt: 0,
            max_wait: None,
            started: Instant::now(),
        }
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

    /// A fresh schedule with the same settings (each wait starts fast again, and its limit
    /// counts from now).
    pub fn restart(&self) -> Self {
        Poller {
            fixed: self.fixed,
            attempt: 0,
            max_wait: self.max_wait,
            started: Instant::now(),
        }
    }

    /// The interval shown in "refresh every N seconds".
    pub fn describe(&self) -> String {
        match self.fixed {
            Some(d) => format!("{:?} seconds", d.as_secs_f64()),
            None => "0.25 to 5 seconds".to_string(),
        }
    }

    /// The delay before the next poll: none before the first.
    pub fn next_delay(&mut self) -> Duration {
        let attempt = self.attempt;
        self.attempt = self.attempt.saturating_add(1);
        if attempt == 0 {
            return Duration::ZERO;
        }
        if let Some(fixed) = self.fixed {
            return fixed;
        }
        let factor = 1.6f64.powi(i32::try_from(attempt - 1).unwrap_or(i32::MAX).min(20));
        FIRST.mul_f64(factor).min(MAX)
    }

    /// The delay before the next poll, cut short by the limit; None when the wait has lasted
    /// its limit (no poll is due any more).
    fn delay_within_limit(&mut self, elapsed: Duration) -> Option<Duration> {
        let delay = self.next_delay();
        match self.max_wait {
            None => Some(delay),
            Some(limit) if elapsed >= limit => None,
            Some(limit) => Some(delay.min(limit - elapsed)),
        }
    }

    /// Sleeps until the next poll is due; false when the wait has lasted its limit.
    pub async fn wait(&mut self) -> bool {
        let Some(delay) = self.delay_within_limit(self.started.elapsed()) else {
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

    #[test]
    fn adaptive_schedule_starts_at_once_and_caps_at_five_seconds() {
        let mut p = Poller::new(None);
        let delays: Vec<u128> = (0..12).map(|_| p.next_delay().as_millis()).collect();
        assert_eq!(&delays[..5], &[0, 250, 400, 640, 1024]);
        assert_eq!(*delays.last().unwrap(), 5000);
        assert!(delays.windows(2).all(|w| w[0] <= w[1]));
    }

    #[test]
    fn sam_cli_poll_delay_fixes_the_interval() {
        let mut p = Poller::new(Some("0.05"));
        assert_eq!(p.next_delay(), Duration::ZERO);
        assert_eq!(p.next_delay(), Duration::from_millis(50));
        assert_eq!(p.next_delay(), Duration::from_millis(50));
        assert_eq!(p.describe(), "0.05 seconds");
    }

    #[test]
    fn a_limited_wait_sleeps_no_further_than_its_limit_then_ends() {
        let mut p = Poller::new(Some("5")).with_max_wait(Duration::from_secs(12));
        let second = Duration::from_secs(1);
        assert_eq!(p.delay_within_limit(Duration::ZERO), Some(Duration::ZERO));
        assert_eq!(p.delay_within_limit(second), Some(Duration::from_secs(5)));
        assert_eq!(p.delay_within_limit(10 * second), Some(2 * second));
        assert_eq!(p.delay_within_limit(12 * second), None);
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
    fn invalid_or_non_positive_delay_falls_back_to_adaptive() {
        for value in ["0", "-1", "abc", "", "NaN"] {
            let mut p = Poller::new(Some(value));
            p.next_delay();
            assert_eq!(p.next_delay(), FIRST, "{value}");
        }
    }
}
