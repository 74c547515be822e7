//! Push progress for the command line: the push never prints, it tells a [`Reporter`]
//! ([`BarReporter`] draws a bar per image on a terminal; [`LineReporter`] writes plain lines to
//! stderr for logs and CI). Workers send [`Event`]s
//! over a channel and the caller's task hands them to the reporter, so a reporter needs to be
//! neither `Send` nor `Sync`.

use std::io::Write;
use std::time::Duration;

use tokio::sync::mpsc;

/// What happened to one blob of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobOutcome {
    /// The repository already had it.
    Exists,
    /// Mounted from another repository of the same registry, pushed earlier in this run.
    Mounted,
    /// Uploaded.
    Uploaded,
}

/// Hears the progress of a push, image by image (`name` is the function's name).
pub trait Reporter {
    /// An image starts; `total_bytes` is the size of all its blobs.
    fn on_image_start(&self, name: &str, total_bytes: u64);
    /// `bytes` more of the image are in the registry (uploaded, or found there already).
    fn on_progress(&self, name: &str, bytes: u64);
    /// One blob is settled.
    fn on_blob(&self, _name: &str, _digest: &str, _outcome: BlobOutcome) {}
    /// The image is in the registry as `digest`.
    fn on_image_done(&self, name: &str, digest: &str);
    /// A registry call for the image has moved no byte for `quiet` (reported again after each
    /// further such period): `what` says which call and where.
    fn on_waiting(&self, _name: &str, _what: &str, _quiet: Duration) {}
}

/// Plain progress lines on stderr, for logs and terminals without bars.
#[derive(Debug, Default)]
pub struct LineReporter;

impl Reporter for LineReporter {
    fn on_image_start(&self, name: &str, total_bytes: u64) {
        line(format_args!(
            "Pushing image for {name} ({})",
            human_size(total_bytes)
        ));
    }

    fn on_progress(&self, _name: &str, _bytes: u64) {}

    fn on_blob(&self, name: &str, digest: &str, outcome: BlobOutcome) {
        let short = digest
            .trim_start_matches("sha256:")
            .get(..12)
            .unwrap_or(digest);
        let what = match outcome {
            BlobOutcome::Exists => "already exists",
            BlobOutcome::Mounted => "mounted",
            BlobOutcome::Uploaded => "pushed",
        };
        line(format_args!("{name}: {short}: {what}"));
    }

    fn on_image_done(&self, name: &str, digest: &str) {
        line(format_args!("{name}: pushed {digest}"));
    }

    fn on_waiting(&self, _name: &str, what: &str, quiet: Duration) {
        line(format_args!("{}", waiting_text(what, quiet)));
    }
}

/// `Still waiting for the registry HOST (Fn: uploading blob sha256:…) after 10 s`, worded as
/// the notices of slow AWS calls are.
pub fn waiting_text(what: &str, quiet: Duration) -> String {
    let seconds = quiet.as_secs_f64();
    if seconds.fract() == 0.0 {
        format!("Still waiting for {what} after {seconds:.0} s")
    } else {
        format!("Still waiting for {what} after {seconds:.1} s")
    }
}

/// One progress bar per image (bytes and rate), for terminals.
pub struct BarReporter {
    bars: indicatif::MultiProgress,
    by_image: std::cell::RefCell<std::collections::HashMap<String, indicatif::ProgressBar>>,
}

impl Default for BarReporter {
    fn default() -> Self {
        BarReporter {
            bars: indicatif::MultiProgress::with_draw_target(
                indicatif::ProgressDrawTarget::stderr(),
            ),
            by_image: Default::default(),
        }
    }
}

impl Reporter for BarReporter {
    fn on_image_start(&self, name: &str, total_bytes: u64) {
        let bar = self.bars.add(indicatif::ProgressBar::new(total_bytes));
        let style = indicatif::ProgressStyle::with_template(
            "{prefix:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        bar.set_prefix(name.to_string());
        self.by_image.borrow_mut().insert(name.to_string(), bar);
    }

    fn on_progress(&self, name: &str, bytes: u64) {
        if let Some(bar) = self.by_image.borrow().get(name) {
            bar.inc(bytes);
        }
    }

    fn on_image_done(&self, name: &str, digest: &str) {
        if let Some(bar) = self.by_image.borrow().get(name) {
            bar.finish_with_message(digest.get(..19).unwrap_or(digest).to_string());
        }
    }

    fn on_waiting(&self, name: &str, what: &str, quiet: Duration) {
        match self.by_image.borrow().get(name) {
            Some(bar) => bar.println(waiting_text(what, quiet)),
            None => line(format_args!("{}", waiting_text(what, quiet))),
        }
    }
}

fn line(text: std::fmt::Arguments) {
    // A closed stderr must not fail a deploy.
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// `1536` → `1.5 KiB`.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A progress event from a push worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Start {
        name: String,
        total: u64,
    },
    Progress {
        name: String,
        bytes: u64,
    },
    Blob {
        name: String,
        digest: String,
        outcome: BlobOutcome,
    },
    Done {
        name: String,
        digest: String,
    },
    Waiting {
        name: String,
        what: String,
        quiet: Duration,
    },
}

impl Event {
    /// Hands the event to `reporter`.
    pub fn deliver(&self, reporter: &dyn Reporter) {
        match self {
            Event::Start { name, total } => reporter.on_image_start(name, *total),
            Event::Progress { name, bytes } => reporter.on_progress(name, *bytes),
            Event::Blob {
                name,
                digest,
                outcome,
            } => reporter.on_blob(name, digest, *outcome),
            Event::Done { name, digest } => reporter.on_image_done(name, digest),
            Event::Waiting { name, what, quiet } => reporter.on_waiting(name, what, *quiet),
        }
    }
}

/// Where push workers send their events; the caller's task hands them to the [`Reporter`].
#[derive(Debug, Clone)]
pub struct Events(mpsc::UnboundedSender<Event>);

impl Events {
    pub fn channel() -> (Events, mpsc::UnboundedReceiver<Event>) {
        let (sender, receiver) = mpsc::unbounded_channel();
        (Events(sender), receiver)
    }

    pub fn emit(&self, event: Event) {
        // The receiver lives until every worker is done.
        let _ = self.0.send(event);
    }
}

/// What one image's registry calls report to: the image's name and the run's events.
#[derive(Debug, Clone)]
pub struct Observer {
    pub image: String,
    pub events: Events,
}

impl Observer {
    /// `bytes` more of the image are in the registry.
    pub fn progress(&self, bytes: u64) {
        if bytes > 0 {
            self.events.emit(Event::Progress {
                name: self.image.clone(),
                bytes,
            });
        }
    }

    /// A call to the registry at `host`, doing `what`, has been quiet for `quiet`.
    pub fn waiting(&self, host: &str, what: &str, quiet: Duration) {
        self.events.emit(Event::Waiting {
            name: self.image.clone(),
            what: format!("the registry {host} ({}: {what})", self.image),
            quiet,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_worded_as_slow_aws_calls_are() {
        let observer_text = waiting_text(
            "the registry 1.dkr.ecr.us-east-1.amazonaws.com (Fn: uploading blob sha256:1f9180f7a995)",
            Duration::from_secs(20),
        );
        assert_eq!(
            observer_text,
            "Still waiting for the registry 1.dkr.ecr.us-east-1.amazonaws.com (Fn: uploading blob sha256:1f9180f7a995) after 20 s"
        );
        assert!(waiting_text("x", Duration::from_millis(2500)).ends_with("after 2.5 s"));
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(52_447_232), "50.0 MiB");
    }
}
