//! The UI's word on AWS calls that take long. While a command runs, a thread looks at the calls in
//! flight ([`crate::calls`]) and, for each one that has not answered after a threshold (and again
//! after each further threshold), says on stderr what samrs waits for:
//! `Still waiting for CloudFormation DescribeStacks (stack my-app) after 10 s`.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::Ui;
use crate::calls::{self, InFlight};

/// The lines due at `now`: a call gets one each time it has waited another whole `threshold`;
/// `noticed` remembers how many each call got (calls that ended are forgotten).
pub fn due(
    calls: &[InFlight],
    now: Instant,
    threshold: Duration,
    noticed: &mut HashMap<u64, u32>,
) -> Vec<String> {
    noticed.retain(|id, _| calls.iter().any(|c| c.id == *id));
    let mut lines = Vec::new();
    for call in calls {
        let waited = now.saturating_duration_since(call.started);
        let periods =
            u32::try_from(waited.as_nanos() / threshold.as_nanos().max(1)).unwrap_or(u32::MAX);
        let told = noticed.entry(call.id).or_insert(0);
        if periods > *told {
            *told = periods;
            lines.push(still_waiting(call, threshold * periods));
        }
    }
    lines
}

fn still_waiting(call: &InFlight, after: Duration) -> String {
    let target = call
        .target
        .as_deref()
        .map_or(String::new(), |t| format!(" ({t})"));
    let seconds = after.as_secs_f64();
    let after = if seconds.fract() == 0.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{seconds:.1} s")
    };
    let attempt = if call.attempt > 1 {
        format!(", attempt {}", call.attempt)
    } else {
        String::new()
    };
    format!(
        "Still waiting for {}{target} after {after}{attempt}",
        call.operation
    )
}

/// The watching thread; it stops when dropped (at once: the run's end does not wait for a tick).
pub struct Watch {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// Starts watching the calls in flight, telling `ui` about those slower than its threshold.
pub fn watch(ui: &Ui) -> Watch {
    let threshold = ui.terminal.slow_call;
    let (stop, stopped) = mpsc::channel::<()>();
    let ui = ui.clone();
    let tick = (threshold / 4).clamp(Duration::from_millis(20), Duration::from_millis(250));
    let thread = std::thread::Builder::new()
        .name("slow-calls".into())
        .spawn(move || {
            let mut noticed = HashMap::new();
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                for line in due(&calls::in_flight(), Instant::now(), threshold, &mut noticed) {
                    ui.warn(&line);
                }
            }
        })
        .ok();
    Watch {
        stop: Some(stop),
        thread,
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        // Closing the channel wakes the thread.
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(id: u64, started: Instant, attempt: u32) -> InFlight {
        InFlight {
            id,
            operation: "CloudFormation DescribeStacks".into(),
            target: Some("stack my-app".into()),
            attempt,
            started,
        }
    }

    #[test]
    fn a_call_is_named_once_per_threshold_it_waited() {
        let t0 = Instant::now();
        let threshold = Duration::from_secs(10);
        let calls = [call(1, t0, 1)];
        let mut noticed = HashMap::new();
        assert!(due(&calls, t0 + Duration::from_secs(9), threshold, &mut noticed).is_empty());
        assert_eq!(
            due(
                &calls,
                t0 + Duration::from_secs(10),
                threshold,
                &mut noticed
            ),
            ["Still waiting for CloudFormation DescribeStacks (stack my-app) after 10 s"]
        );
        assert!(due(
            &calls,
            t0 + Duration::from_secs(15),
            threshold,
            &mut noticed
        )
        .is_empty());
        assert_eq!(
            due(
                &calls,
                t0 + Duration::from_secs(21),
                threshold,
                &mut noticed
            ),
            ["Still waiting for CloudFormation DescribeStacks (stack my-app) after 20 s"]
        );
    }

    #[test]
    fn retries_and_calls_without_a_target_read_well() {
        let t0 = Instant::now();
        let mut retried = call(2, t0, 3);
        retried.target = None;
        let mut noticed = HashMap::new();
        assert_eq!(
            due(
                &[retried],
                t0 + Duration::from_millis(1600),
                Duration::from_millis(1500),
                &mut noticed
            ),
            ["Still waiting for CloudFormation DescribeStacks after 1.5 s, attempt 3"]
        );
    }

    #[test]
    fn ended_calls_are_forgotten() {
        let t0 = Instant::now();
        let mut noticed = HashMap::from([(7, 2)]);
        due(&[], t0, Duration::from_secs(1), &mut noticed);
        assert!(noticed.is_empty());
    }
}
