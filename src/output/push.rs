//! Image push progress: a bar per image (bytes and rate) on a terminal, plain lines on stderr for
//! logs and CI.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use super::Ui;
use crate::events::{BlobOutcome, PushProgress};

/// The bars of the images being pushed.
#[derive(Debug, Default)]
pub(super) struct Bars {
    bars: Option<indicatif::MultiProgress>,
    by_image: HashMap<String, indicatif::ProgressBar>,
}

impl Ui {
    pub(super) fn push_progress(&self, progress: &PushProgress) {
        if self.progress_bars() {
            if let Ok(mut drawing) = self.drawing.lock() {
                drawing.bars.draw(progress);
            }
        } else {
            push_line(progress);
        }
    }
}

impl Bars {
    fn draw(&mut self, progress: &PushProgress) {
        match progress {
            PushProgress::Started { image, total } => {
                let bars = self.bars.get_or_insert_with(|| {
                    indicatif::MultiProgress::with_draw_target(
                        indicatif::ProgressDrawTarget::stderr(),
                    )
                });
                let bar = bars.add(indicatif::ProgressBar::new(*total));
                let style = indicatif::ProgressStyle::with_template(
                    "{prefix:30!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} {msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> ");
                bar.set_style(style);
                bar.set_prefix(image.clone());
                self.by_image.insert(image.clone(), bar);
            }
            PushProgress::Progressed { image, bytes } => {
                if let Some(bar) = self.by_image.get(image) {
                    bar.inc(*bytes);
                }
            }
            PushProgress::Blob { .. } => {}
            PushProgress::Done { image, digest } => {
                if let Some(bar) = self.by_image.get(image) {
                    bar.finish_with_message(digest.get(..19).unwrap_or(digest).to_string());
                }
            }
            PushProgress::Waiting { image, what, quiet } => match self.by_image.get(image) {
                Some(bar) => bar.println(waiting_text(what, *quiet)),
                None => push_line(progress),
            },
        }
    }
}

/// Plain progress lines, for logs and terminals without bars.
fn push_line(progress: &PushProgress) {
    let text = match progress {
        PushProgress::Started { image, total } => {
            format!("Pushing image for {image} ({})", human_size(*total))
        }
        PushProgress::Progressed { .. } => return,
        PushProgress::Blob {
            image,
            digest,
            outcome,
        } => {
            let short = digest
                .trim_start_matches("sha256:")
                .get(..12)
                .unwrap_or(digest);
            let what = match outcome {
                BlobOutcome::Exists => "already exists",
                BlobOutcome::Mounted => "mounted",
                BlobOutcome::Uploaded => "pushed",
            };
            format!("{image}: {short}: {what}")
        }
        PushProgress::Done { image, digest } => format!("{image}: pushed {digest}"),
        PushProgress::Waiting { what, quiet, .. } => waiting_text(what, *quiet),
    };
    // A closed stderr must not fail a deploy.
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// `Still waiting for the registry HOST (Fn: uploading blob sha256:…) after 10 s`, worded as
/// the notices of slow AWS calls are.
fn waiting_text(what: &str, quiet: Duration) -> String {
    let seconds = quiet.as_secs_f64();
    if seconds.fract() == 0.0 {
        format!("Still waiting for {what} after {seconds:.0} s")
    } else {
        format!("Still waiting for {what} after {seconds:.1} s")
    }
}

/// `1536` → `1.5 KiB`.
fn human_size(bytes: u64) -> String {
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
