//! How often samrs asks CloudFormation whether something finished.
//!
//! The SDK's waiters sleep at least 30 s between polls; the SAM CLI sleeps 5 s. samrs polls at
//! once, then backs off from a quarter second to 5 s, so fast operations end fast and long ones
//! cost few calls. `SAM_CLI_POLL_DELAY` (seconds, as the SAM CLI reads it) fixes the interval.

use std::time::Duration;

const FIRST: Duration = Duration::from_millis(250);
const MAX: Duration = Duration::from_secs(5);

/// A poll schedule; `next()` gives the sleep before each poll.
#[derive(Debug, Clone)]
pub struct Poller {
    fixed: Option<Duration>,
    attempt: u32,
}

impl Poller {
    /// The schedule in force: `SAM_CLI_POLL_DELAY` when set to a positive number, else adaptive.
    pub fn from_env() -> Self {
        Self::new(std::env::var("SAM_CLI_POLL_DELAY").ok().as_deref())
    }

    pub fn new(poll_delay: Option<&str>) -> Self {
        let fixed = poll_delay
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64);
        Poller { fixed, attempt: 0 }
    }

    /// A fresh schedule with the same setting (each wait starts fast again).
    pub fn restart(&self) -> Self {
        Poller {
            fixed: self.fixed,
            attempt: 0,
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

    pub async fn wait(&mut self) {
        let delay = self.next_delay();
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
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
    fn invalid_or_non_positive_delay_falls_back_to_adaptive() {
        for value in ["0", "-1", "abc", "", "NaN"] {
            let mut p = Poller::new(Some(value));
            p.next_delay();
            assert_eq!(p.next_delay(), FIRST, "{value}");
        }
    }
}
