//! The image step of a deploy: the plan's pushes carried out (a dry run only lists them;
//! `--plan-out` reads each image for the digest its push will give and pushes nothing), giving
//! the digest-pinned URIs the deployed template uses.

use std::collections::HashMap;
use std::time::Duration;

use anyhow::bail;

use crate::aws::Aws;
use crate::events::{Event, Fact, PushProgress, Reporter};
use crate::plan::images::ImagePush;
use crate::push::{self, PushJob, ReadImages};
use crate::settings::Environment;

/// A dry run's image step: what would be pushed where.
pub(super) fn list(pushes: &[ImagePush], report: &dyn Reporter) {
    for image in pushes {
        report.event(Event::PushPlanned {
            function: image.function.clone(),
            repository: image.repository_uri.clone(),
        });
    }
}

/// Reads the images of `pushes` from where their `ImageUri` says, as a push would.
pub(super) async fn read(env: &Environment, pushes: &[ImagePush]) -> anyhow::Result<ReadImages> {
    push::read_images(env, pushes.iter().filter_map(job).collect()).await
}

/// `--plan-out`: each image's digest goes into the plan, and its function will be deployed as
/// `repository@digest`, which the apply pushes.
pub(super) fn digests(
    pushes: &mut [ImagePush],
    read: &ReadImages,
    report: &dyn Reporter,
) -> HashMap<String, String> {
    let digests = read.digests();
    let mut uris = HashMap::new();
    for image in pushes.iter_mut() {
        let Some((_, digest)) = digests.iter().find(|(f, _)| *f == image.function) else {
            continue;
        };
        let uri = format!("{}@{digest}", image.repository_uri);
        report.event(Event::ImageDigest {
            function: image.function.clone(),
            uri: uri.clone(),
        });
        image.digest = Some(digest.clone());
        uris.insert(image.function.clone(), uri);
    }
    uris
}

/// Pushes the images read and returns each function's new `ImageUri`; an image the plan knew
/// the digest of must get that digest.
pub(super) async fn push(
    aws: &Aws,
    env: &Environment,
    read: ReadImages,
    pushes: &[ImagePush],
    report: &dyn Reporter,
) -> anyhow::Result<HashMap<String, String>> {
    let pushed = push::push_read(&aws.ecr, &aws.network, env, read, &PushEvents(report)).await?;
    let mut uris = HashMap::new();
    for image in pushed {
        let planned = pushes
            .iter()
            .find(|p| p.function == image.function)
            .and_then(|p| p.digest.as_deref());
        if let Some(planned) = planned.filter(|d| *d != image.digest) {
            bail!(
                "the image of {} was pushed as {}, not as the planned {planned}",
                image.function,
                image.digest
            );
        }
        report.record(Fact::Image {
            function: image.function.clone(),
            uri: image.uri_with_digest.clone(),
            digest: image.digest.clone(),
        });
        uris.insert(image.function, image.uri_with_digest);
    }
    Ok(uris)
}

/// The push of a planned image, read from where its `ImageUri` says.
fn job(image: &ImagePush) -> Option<PushJob> {
    Some(PushJob {
        function: image.function.clone(),
        source: push::image_source(&image.image_uri)?,
        repository_uri: image.repository_uri.clone(),
        tag: image.tag.clone(),
        architecture: image.architecture.clone(),
    })
}

/// A push's progress, told as events.
struct PushEvents<'a>(&'a dyn Reporter);

impl push::Reporter for PushEvents<'_> {
    fn on_image_start(&self, name: &str, total_bytes: u64) {
        self.0.event(Event::Push(PushProgress::Started {
            image: name.to_string(),
            total: total_bytes,
        }));
    }

    fn on_progress(&self, name: &str, bytes: u64) {
        self.0.event(Event::Push(PushProgress::Progressed {
            image: name.to_string(),
            bytes,
        }));
    }

    fn on_blob(&self, name: &str, digest: &str, outcome: push::BlobOutcome) {
        self.0.event(Event::Push(PushProgress::Blob {
            image: name.to_string(),
            digest: digest.to_string(),
            outcome,
        }));
    }

    fn on_image_done(&self, name: &str, digest: &str) {
        self.0.event(Event::Push(PushProgress::Done {
            image: name.to_string(),
            digest: digest.to_string(),
        }));
    }

    fn on_waiting(&self, name: &str, what: &str, quiet: Duration) {
        self.0.event(Event::Push(PushProgress::Waiting {
            image: name.to_string(),
            what: what.to_string(),
            quiet,
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn planned_images_are_read_from_where_their_uri_says() {
        let planned = |uri: &str| ImagePush {
            function: "Child/Other".into(),
            image_uri: uri.into(),
            repository_uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app/fn".into(),
            tag: "python3.12-v1".into(),
            architecture: "arm64".into(),
            digest: None,
        };
        let archive = job(&planned("docker-archive:./other.tar")).unwrap();
        assert!(matches!(
            archive.source,
            push::ImageSource::DockerArchive(_)
        ));
        assert_eq!(archive.tag, "python3.12-v1");
        assert_eq!(archive.architecture, "arm64");
        assert!(matches!(
            job(&planned("fn:python3.12-v1")).unwrap().source,
            push::ImageSource::Engine(_)
        ));
    }
}
