//! How many layers stream to the registry at once, sized to the link: a loopback registry is
//! bound by its CPU and gains little past two or three streams, a registry across the internet
//! by the round trip and gains from many. Starting at [`INITIAL`], the limit is raised one stream
//! at a time while layers are waiting and the last raise brought at least [`GAIN`] more bytes per
//! second; a raise that brought less is taken back, and probing resumes some windows later.
//! Memory stays bounded: [`MAX`] streams of a few frames each.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tokio::sync::{Semaphore, SemaphorePermit};

/// Streams allowed before anything is measured.
pub const INITIAL: usize = 3;
/// Streams allowed at most.
pub const MAX: usize = 8;
/// A raise must bring this much more throughput to be kept.
pub const GAIN: f64 = 1.1;
/// Throughput is measured over windows this long.
pub const WINDOW: Duration = Duration::from_millis(400);
/// After a raise that did not pay, windows before probing again.
const SETTLE_WINDOWS: u32 = 8;

/// The pure decision: the limit after one more measured window.
#[derive(Debug, Clone, PartialEq)]
pub struct Controller {
    limit: usize,
    max: usize,
    /// Throughput of the last window before the latest raise, while probing.
    before_raise: Option<f64>,
    /// Windows to wait before probing again.
    settle: u32,
}

impl Controller {
    pub fn new(initial: usize, max: usize) -> Self {
        Self {
            limit: initial.clamp(1, max),
            max,
            before_raise: None,
            settle: 0,
        }
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// One window: `throughput` in bytes per second, `saturated` when every allowed stream was
    /// busy and more layers waited (other windows say nothing about the limit).
    pub fn observe(&mut self, throughput: f64, saturated: bool) -> usize {
        if !saturated {
            return self.limit;
        }
        if self.settle > 0 {
            self.settle -= 1;
            return self.limit;
        }
        match self.before_raise {
            Some(before) if throughput < before * GAIN => {
                // The last stream added nothing: take it back and rest.
                self.limit -= 1;
                self.before_raise = None;
                self.settle = SETTLE_WINDOWS;
            }
            _ if self.limit < self.max => {
                self.before_raise = Some(throughput);
                self.limit += 1;
            }
            _ => self.before_raise = None,
        }
        self.limit
    }
}

/// The run's stream limit: permits for layer uploads, with the measuring around them.
pub struct Streams {
    permits: Semaphore,
    state: Mutex<State>,
    /// Bytes streamed so far by every upload.
    bytes: AtomicU64,
    waiting: AtomicUsize,
    /// Permits to drop instead of returning, after the limit went down.
    to_retire: AtomicUsize,
}

struct State {
    controller: Controller,
    window_start: Instant,
    window_bytes: u64,
}

/// A stream's place; dropping it lets the next layer go.
pub struct Stream<'a> {
    permit: Option<SemaphorePermit<'a>>,
    streams: &'a Streams,
}

impl Drop for Stream<'_> {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            let retire = self
                .streams
                .to_retire
                .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_ok();
            if retire {
                permit.forget();
            }
        }
    }
}

impl Streams {
    pub fn new(initial: usize, max: usize) -> Streams {
        let controller = Controller::new(initial, max);
        Streams {
            permits: Semaphore::new(controller.limit()),
            state: Mutex::new(State {
                controller,
                window_start: Instant::now(),
                window_bytes: 0,
            }),
            bytes: AtomicU64::new(0),
            waiting: AtomicUsize::new(0),
            to_retire: AtomicUsize::new(0),
        }
    }

    /// Counts bytes handed to the registry.
    pub fn sent(&self, len: u64) {
        self.bytes.fetch_add(len, Ordering::Relaxed);
    }

    /// Waits for a stream's place, measuring a window whenever one has passed.
    pub async fn acquire(&self) -> anyhow::Result<Stream<'_>> {
        self.waiting.fetch_add(1, Ordering::Relaxed);
        let permit = loop {
            tokio::select! {
                permit = self.permits.acquire() => break permit,
                () = tokio::time::sleep(WINDOW) => self.measure(),
            }
        };
        self.waiting.fetch_sub(1, Ordering::Relaxed);
        Ok(Stream {
            permit: Some(permit?),
            streams: self,
        })
    }

    fn measure(&self) {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let elapsed = state.window_start.elapsed();
        if elapsed < WINDOW {
            return;
        }
        let total = self.bytes.load(Ordering::Relaxed);
        let throughput = (total - state.window_bytes) as f64 / elapsed.as_secs_f64();
        let saturated =
            self.permits.available_permits() == 0 && self.waiting.load(Ordering::Relaxed) > 0;
        let before = state.controller.limit();
        let after = state.controller.observe(throughput, saturated);
        if after > before {
            self.permits.add_permits(after - before);
        } else if after < before {
            self.to_retire.fetch_add(before - after, Ordering::Relaxed);
        }
        state.window_start = Instant::now();
        state.window_bytes = total;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raises_while_each_stream_pays_and_takes_back_the_one_that_does_not() {
        let mut c = Controller::new(3, 8);
        assert_eq!(c.observe(100.0, true), 4);
        assert_eq!(c.observe(130.0, true), 5);
        // A fifth stream brought 2 %: back to four, and rest.
        assert_eq!(c.observe(133.0, true), 4);
        for _ in 0..SETTLE_WINDOWS {
            assert_eq!(c.observe(500.0, true), 4);
        }
        assert_eq!(c.observe(130.0, true), 5, "probes again after resting");
    }

    #[test]
    fn windows_without_waiting_layers_change_nothing() {
        let mut c = Controller::new(3, 8);
        for throughput in [1.0, 1e9, 0.0] {
            assert_eq!(c.observe(throughput, false), 3);
        }
    }

    #[test]
    fn never_past_the_maximum() {
        let mut c = Controller::new(3, 4);
        assert_eq!(c.observe(100.0, true), 4);
        assert_eq!(c.observe(1000.0, true), 4);
        assert_eq!(c.observe(10_000.0, true), 4);
    }

    #[tokio::test]
    async fn a_lowered_limit_retires_permits_as_streams_end() {
        let streams = Streams::new(2, 4);
        let a = streams.acquire().await.unwrap();
        let b = streams.acquire().await.unwrap();
        streams.to_retire.store(1, Ordering::Relaxed);
        drop(a);
        assert_eq!(streams.permits.available_permits(), 0);
        drop(b);
        assert_eq!(streams.permits.available_permits(), 1);
    }
}
