//! The image step of a deploy: which function images are pushed where (pure, [`push_jobs`]),
//! then the push itself, giving the digest-pinned URIs the deployed template uses.

use std::collections::HashMap;

use indexmap::IndexMap;

use crate::events::{Event, Fact, PushProgress, Reporter};
use crate::push::{self, PushJob};
use crate::settings::UsageError;
use crate::template::{repository_entry, ImageFunction, ImageLocation};

/// A push job per function whose `ImageUri` names a local image, with the repository from the
/// mapping (explicit or managed) or the single `--image-repository`.
pub fn push_jobs(
    functions: &[ImageFunction],
    mapping: &IndexMap<String, String>,
    single_repository: Option<&str>,
) -> Result<Vec<PushJob>, UsageError> {
    let paths: Vec<&str> = functions.iter().map(|f| f.full_path.as_str()).collect();
    let mut jobs = Vec::new();
    for function in functions {
        let Some(source) = function.image_uri.as_deref().and_then(push::image_source) else {
            continue;
        };
        let repository_uri = repository_entry(mapping, &paths, &function.full_path)
            .map(|(_, uri)| uri.as_str())
            .or(single_repository)
            .ok_or_else(|| {
                UsageError(format!(
                    "No image repository for function {}: add --resolve-image-repos, or --image-repositories {}=<ECR repository URI>",
                    function.full_path, function.full_path
                ))
            })?;
        jobs.push(PushJob {
            function: function.full_path.clone(),
            source,
            repository_uri: repository_uri.to_string(),
            tag: function
                .docker_tag
                .clone()
                .unwrap_or_else(|| "latest".into()),
            architecture: function
                .architectures
                .first()
                .cloned()
                .unwrap_or_else(|| "x86_64".into()),
        });
    }
    Ok(jobs)
}

/// Pushes the images (a dry run only lists them) and returns each function's new `ImageUri`.
pub async fn push(
    ecr: &aws_sdk_ecr::Client,
    functions: &[ImageFunction],
    jobs: Vec<PushJob>,
    dry_run: bool,
    report: &dyn Reporter,
) -> anyhow::Result<HashMap<ImageLocation, String>> {
    if jobs.is_empty() {
        return Ok(HashMap::new());
    }
    if dry_run {
        for job in &jobs {
            report.event(Event::PushPlanned {
                function: job.function.clone(),
                repository: job.repository_uri.clone(),
            });
        }
        return Ok(HashMap::new());
    }
    let pushed = push::push_all(ecr, jobs, &PushEvents(report)).await?;
    let mut locations = HashMap::new();
    for image in pushed {
        if let Some(function) = functions.iter().find(|f| f.full_path == image.function) {
            report.record(Fact::Image {
                function: function.full_path.clone(),
                uri: image.uri_with_digest.clone(),
                digest: image.digest.clone(),
            });
            locations.insert(function.location(), image.uri_with_digest);
        }
    }
    Ok(locations)
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
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn function(path: &str, image_uri: Option<&str>) -> ImageFunction {
        ImageFunction {
            full_path: path.into(),
            logical_id: path.rsplit('/').next().unwrap_or(path).into(),
            image_uri: image_uri.map(str::to_string),
            docker_tag: Some("python3.12-v1".into()),
            docker_context: Some("./fn".into()),
            architectures: vec!["arm64".into()],
            template_path: PathBuf::from("/app/template.yaml"),
        }
    }

    const REPO: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app/fn";

    #[test]
    fn local_images_are_pushed_to_their_mapped_repository() {
        let functions = [
            function("Fn", Some("fn:python3.12-v1")),
            function("Child/Other", Some("docker-archive:./other.tar")),
            function(
                "InEcr",
                Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt:v1"),
            ),
        ];
        let mapping: IndexMap<String, String> = [("Fn", REPO), ("Child/Other", REPO)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let jobs = push_jobs(&functions, &mapping, None).unwrap();
        assert_eq!(jobs.len(), 2, "the ECR image is not pushed");
        assert_eq!(jobs[0].function, "Fn");
        assert_eq!(jobs[0].repository_uri, REPO);
        assert_eq!(jobs[0].tag, "python3.12-v1");
        assert_eq!(jobs[0].architecture, "arm64");
        assert!(matches!(
            jobs[1].source,
            push::ImageSource::DockerArchive(_)
        ));
    }

    #[test]
    fn a_single_repository_serves_all_and_a_missing_one_is_named() {
        let functions = [function("Fn", Some("fn:latest"))];
        let jobs = push_jobs(&functions, &IndexMap::new(), Some(REPO)).unwrap();
        assert_eq!(jobs[0].repository_uri, REPO);
        let err = push_jobs(&functions, &IndexMap::new(), None).unwrap_err();
        assert!(
            err.0.starts_with("No image repository for function Fn"),
            "{}",
            err.0
        );
    }
}
