//! Pushing function images to ECR without a Docker daemon (issue 5). Images come from a
//! Docker-compatible engine's HTTP API, a `docker save` archive or an OCI layout; all of them
//! are read and checked for the function's platform before the first upload. Then each image
//! goes to its repository over the registry v2 API under sam's tag, skipping what the registry
//! has, mounting layers pushed to a sibling repository earlier in the run, and uploading the
//! rest in bounded chunks, several images and layers at a time.

mod archive;
mod engine;
mod image;
mod login;
mod manifest;
mod oci;
mod registry;
mod report;
mod source;
#[cfg(test)]
mod testimage;
#[cfg(test)]
mod tests_registry;
#[cfg(test)]
mod testserver;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

pub use login::ENDPOINT_VARIABLE;
pub use manifest::ManifestError;
pub use report::{BlobOutcome, Reporter};
pub use source::{image_source, sam_tag, ImageSource};

use image::{Blob, PreparedImage};
use registry::{HttpClient, Mount, Registry};
use report::Event;

/// One function's image to push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushJob {
    /// The function's name (its full path for nested stacks): names the image in progress
    /// reports and, for images given by id or file, in the tag.
    pub function: String,
    pub source: ImageSource,
    /// The ECR repository URI (`account.dkr.ecr.region.amazonaws.com/name`).
    pub repository_uri: String,
    /// The tag's last part when the image reference has none (sam: `latest`).
    pub tag: String,
    /// The function's architecture: `x86_64` or `arm64`.
    pub architecture: String,
}

/// A pushed image, by digest for the deployed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushedImage {
    pub function: String,
    /// `sha256:…` of the manifest in the registry.
    pub digest: String,
    /// `repository@sha256:…`.
    pub uri_with_digest: String,
}

/// Knobs with defaults for deploys; tests shrink chunks and point at a local registry.
#[derive(Debug, Clone)]
struct Options {
    endpoint: Option<String>,
    chunk_size: usize,
    parallel_uploads: usize,
    parallel_reads: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            endpoint: None,
            // ECR takes chunks of at least 5 MiB (all but the last); memory is bounded by
            // chunk_size × parallel_uploads whatever the layer sizes.
            chunk_size: 8 << 20,
            parallel_uploads: 4,
            parallel_reads: 2,
        }
    }
}

/// Pushes every job's image and returns them in job order. Pushes go to each repository's
/// registry, or to `SAMRS_REGISTRY_ENDPOINT` when it is set.
pub async fn push_all(
    ecr: &aws_sdk_ecr::Client,
    jobs: Vec<PushJob>,
    reporter: &dyn Reporter,
) -> anyhow::Result<Vec<PushedImage>> {
    let options = Options {
        endpoint: std::env::var(ENDPOINT_VARIABLE).ok(),
        ..Options::default()
    };
    push_with(ecr, jobs, reporter, options).await
}

async fn push_with(
    ecr: &aws_sdk_ecr::Client,
    jobs: Vec<PushJob>,
    reporter: &dyn Reporter,
    options: Options,
) -> anyhow::Result<Vec<PushedImage>> {
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    for job in &jobs {
        let (host, _) = login::split_repository_uri(&job.repository_uri)?;
        login::registry_base(&host, options.endpoint.as_deref())?;
    }
    let images = prepare_all(&jobs, options.parallel_reads).await?;
    let (events, mut received) = mpsc::unbounded_channel();
    let shared = Arc::new(Shared {
        ecr: ecr.clone(),
        client: registry::http_client()?,
        uploads: Semaphore::new(options.parallel_uploads),
        options,
        registries: tokio::sync::Mutex::new(HashMap::new()),
        blobs: Mutex::new(HashMap::new()),
        events,
    });
    let mut tasks = JoinSet::new();
    for (index, (job, image)) in jobs.into_iter().zip(images).enumerate() {
        let shared = Arc::clone(&shared);
        tasks.spawn(async move {
            let function = job.function.clone();
            let pushed = push_image(&shared, job, image)
                .await
                .with_context(|| format!("pushing the image of {function}"));
            (index, pushed)
        });
    }
    // The channel closes when the last worker drops its handle.
    drop(shared);
    while let Some(event) = received.recv().await {
        event.deliver(reporter);
    }
    let mut pushed = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, result) = joined.context("an image push task stopped")?;
        pushed.push((index, result?));
    }
    pushed.sort_by_key(|(index, _)| *index);
    Ok(pushed.into_iter().map(|(_, image)| image).collect())
}

/// Reads every job's image (at most `parallel` at a time), so a missing platform or a broken
/// archive stops the run before anything is uploaded.
async fn prepare_all(jobs: &[PushJob], parallel: usize) -> anyhow::Result<Vec<PreparedImage>> {
    let permits = Arc::new(Semaphore::new(parallel));
    let mut tasks = JoinSet::new();
    for (index, job) in jobs.iter().enumerate() {
        let (permits, job) = (Arc::clone(&permits), job.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let image = image::prepare(&job.source, &job.architecture)
                .await
                .with_context(|| format!("{} ({})", job.function, job.source.describe()));
            (index, image)
        });
    }
    let mut images: Vec<Option<anyhow::Result<PreparedImage>>> =
        jobs.iter().map(|_| None).collect();
    while let Some(joined) = tasks.join_next().await {
        let (index, image) = joined.context("an image reading task stopped")?;
        images[index] = Some(image);
    }
    images
        .into_iter()
        .map(|image| image.context("an image was not read")?)
        .collect()
}

/// What all pushes of a run share.
struct Shared {
    ecr: aws_sdk_ecr::Client,
    client: HttpClient,
    options: Options,
    uploads: Semaphore,
    /// Logged-in registries by host: one GetAuthorizationToken per registry per run.
    registries: tokio::sync::Mutex<HashMap<String, Registry>>,
    /// Per `host digest`, the repository that has the blob; its lock makes concurrent pushes
    /// of one layer to sibling repositories wait and mount instead of uploading twice.
    blobs: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<String>>>>>,
    events: mpsc::UnboundedSender<Event>,
}

impl Shared {
    fn emit(&self, event: Event) {
        // The receiver lives until every worker is done.
        let _ = self.events.send(event);
    }

    async fn registry(&self, host: &str) -> anyhow::Result<Registry> {
        let mut registries = self.registries.lock().await;
        if let Some(registry) = registries.get(host) {
            return Ok(registry.clone());
        }
        let base = login::registry_base(host, self.options.endpoint.as_deref())?;
        let authorization = login::ecr_authorization(&self.ecr).await?;
        let registry = Registry::new(self.client.clone(), base, authorization);
        registries.insert(host.to_string(), registry.clone());
        Ok(registry)
    }

    fn blob_holder(&self, host: &str, digest: &str) -> Arc<tokio::sync::Mutex<Option<String>>> {
        let mut blobs = self
            .blobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(blobs.entry(format!("{host} {digest}")).or_default())
    }
}

async fn push_image(
    shared: &Arc<Shared>,
    job: PushJob,
    image: PreparedImage,
) -> anyhow::Result<PushedImage> {
    let (host, repo) = login::split_repository_uri(&job.repository_uri)?;
    let registry = shared.registry(&host).await?;
    let (name, suffix) = job
        .source
        .tag_parts(&job.function, &image.image_id, &job.tag);
    let tag = sam_tag(&name, &image.image_id, Some(&suffix));
    let function = job.function;
    let total = image.total_bytes();
    shared.emit(Event::Start {
        name: function.clone(),
        total,
    });
    let existing = registry.manifest_digest(&repo, &tag).await?;
    if existing.as_deref() != Some(image.manifest_digest.as_str()) {
        push_blobs(shared, &registry, &host, &repo, &function, &image.blobs).await?;
        let reported = registry
            .put_manifest(
                &repo,
                &tag,
                &image.manifest_media_type,
                image.manifest.clone(),
            )
            .await?;
        if let Some(reported) = reported.filter(|d| *d != image.manifest_digest) {
            bail!(
                "the registry stored {repo}:{tag} as {reported}, not as the pushed manifest {}",
                image.manifest_digest
            );
        }
    } else {
        shared.emit(Event::Progress {
            name: function.clone(),
            bytes: total,
        });
    }
    let digest = image.manifest_digest;
    shared.emit(Event::Done {
        name: function.clone(),
        digest: digest.clone(),
    });
    Ok(PushedImage {
        function,
        uri_with_digest: format!("{host}/{repo}@{digest}"),
        digest,
    })
}

async fn push_blobs(
    shared: &Arc<Shared>,
    registry: &Registry,
    host: &str,
    repo: &str,
    function: &str,
    blobs: &[Blob],
) -> anyhow::Result<()> {
    let mut tasks = JoinSet::new();
    for blob in blobs {
        let shared = Arc::clone(shared);
        let (registry, blob) = (registry.clone(), blob.clone());
        let (host, repo, function) = (host.to_string(), repo.to_string(), function.to_string());
        tasks.spawn(
            async move { push_blob(&shared, &registry, &host, &repo, &function, &blob).await },
        );
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("a layer push task stopped")??;
    }
    Ok(())
}

async fn push_blob(
    shared: &Shared,
    registry: &Registry,
    host: &str,
    repo: &str,
    function: &str,
    blob: &Blob,
) -> anyhow::Result<()> {
    let digest = &blob.descriptor.digest;
    let holder = shared.blob_holder(host, digest);
    let mut held_in = holder.lock().await;
    let _permit = shared.uploads.acquire().await?;
    let outcome = if registry.blob_exists(repo, digest).await? {
        BlobOutcome::Exists
    } else {
        let mount = match held_in.as_deref() {
            Some(from) if from != repo => registry.mount(repo, digest, from).await?,
            _ => Mount::Upload(registry.start_upload(repo).await?),
        };
        match mount {
            Mount::Mounted => BlobOutcome::Mounted,
            Mount::Upload(location) => {
                let progress = |bytes| {
                    shared.emit(Event::Progress {
                        name: function.to_string(),
                        bytes,
                    });
                };
                registry
                    .upload(location, blob, shared.options.chunk_size, &progress)
                    .await?;
                BlobOutcome::Uploaded
            }
        }
    };
    if outcome != BlobOutcome::Uploaded {
        shared.emit(Event::Progress {
            name: function.to_string(),
            bytes: blob.descriptor.size,
        });
    }
    shared.emit(Event::Blob {
        name: function.to_string(),
        digest: digest.clone(),
        outcome,
    });
    held_in.get_or_insert_with(|| repo.to_string());
    Ok(())
}
