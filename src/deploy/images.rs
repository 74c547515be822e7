//! The image steps of a deploy: the plan's images read on this machine (their digests, which the
//! packaged template pins, known before any push), then pushed (a dry run only lists them;
//! `--plan-out` names the digests and pushes nothing: `samrs apply` pushes them).

use std::collections::HashMap;
use std::time::Duration;

use anyhow::{bail, Context};

use crate::aws::Aws;
use crate::events::{Event, Fact, PushProgress, Reporter};
use crate::plan::images::ImagePush;
use crate::push::{self, PushJob, ReadImage};
use crate::settings::Environment;
use crate::template::{ImageFunction, ImageLocation};

/// What a push must give: images of these functions, with the digests they were read (or
/// planned) with.
pub(super) struct Pushed<'a> {
    pub functions: &'a [String],
    pub digests: &'a HashMap<String, String>,
}

/// Reads the planned images and checks them for their functions' platforms.
pub(super) async fn read(
    pushes: &[ImagePush],
    env: &Environment,
) -> anyhow::Result<Vec<ReadImage>> {
    let jobs: Vec<PushJob> = pushes.iter().filter_map(job).collect();
    push::read_images(env, &jobs).await
}

/// Each read image's digest, by function.
pub(super) fn digests_of(read: &[ReadImage]) -> HashMap<String, String> {
    read.iter()
        .map(|image| (image.function.clone(), image.digest().to_string()))
        .collect()
}

/// Each pushed function's new `ImageUri`, pinned by digest, by template and logical id.
pub(super) fn pinned(
    functions: &[ImageFunction],
    pushes: &[ImagePush],
    digests: &HashMap<String, String>,
) -> anyhow::Result<HashMap<ImageLocation, String>> {
    let mut locations = HashMap::new();
    for image in pushes {
        let (Some(digest), Some(function)) = (
            digests.get(&image.function),
            functions.iter().find(|f| f.full_path == image.function),
        ) else {
            continue;
        };
        locations.insert(
            function.location(),
            push::pinned_uri(&image.repository_uri, digest)?,
        );
    }
    Ok(locations)
}

/// `--plan-out`: each function will be deployed as `repository@digest`, which the apply pushes.
pub(super) fn digests(
    pushes: &[ImagePush],
    digests: &HashMap<String, String>,
    report: &dyn Reporter,
) -> anyhow::Result<()> {
    for image in pushes {
        if let Some(digest) = digests.get(&image.function) {
            report.event(Event::ImageDigest {
                function: image.function.clone(),
                uri: push::pinned_uri(&image.repository_uri, digest)?,
            });
        }
    }
    Ok(())
}

/// Pushes the read images to the repositories of `pushes` (a preview only lists them); each
/// must land with the digest it was read with.
pub(super) async fn push(
    aws: &Aws,
    pushes: &[ImagePush],
    read: Vec<ReadImage>,
    preview: bool,
    env: &Environment,
    expected: &Pushed<'_>,
    report: &dyn Reporter,
) -> anyhow::Result<()> {
    if pushes.is_empty() {
        return Ok(());
    }
    if preview {
        for image in pushes {
            report.event(Event::PushPlanned {
                function: image.function.clone(),
                repository: image.repository_uri.clone(),
            });
        }
        return Ok(());
    }
    let jobs = pushes.iter().filter_map(job).collect();
    let pushed =
        push::push_read(&aws.ecr, &aws.network, env, jobs, read, &PushEvents(report)).await?;
    for image in pushed {
        let function = expected
            .functions
            .iter()
            .find(|f| **f == image.function)
            .with_context(|| {
                format!("pushed an image for an unknown function {}", image.function)
            })?;
        if let Some(planned) = expected
            .digests
            .get(function)
            .filter(|d| **d != image.digest)
        {
            bail!(
                "the image of {function} was pushed as {}, not as the planned {planned}",
                image.digest
            );
        }
        report.record(Fact::Image {
            function: function.clone(),
            uri: image.uri_with_digest,
            digest: image.digest,
        });
    }
    Ok(())
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
