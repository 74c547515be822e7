//! Push progress: the push never prints, it tells a [`Reporter`] (a deploy turns it into
//! [`crate::events::Event::Push`], which the UI draws). Workers send [`Event`]s over a channel
//! and the caller's task hands them to the reporter, so a reporter needs to be neither `Send` nor
//! `Sync`.

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
        }
    }
}
