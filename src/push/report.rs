//! Push progress: the push never prints, it tells a [`Reporter`] (a deploy turns it into
//! [`crate::events::Event::Push`], which the UI draws). Workers send [`Event`]s over a channel
//! and the caller's task hands them to the reporter, so a reporter needs to be neither `Send` nor
//! `Sync`.

use std::time::Duration;

use tokio::sync::mpsc;

pub use crate::events::BlobOutcome;

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
