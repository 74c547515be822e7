//! Pushing function images to ECR without a Docker daemon (issue 5). Images come from a
//! Docker-compatible engine's HTTP API, a `docker save` archive or an OCI layout; all of them
//! are read and checked for the function's platform before the first upload. Then each image
//! goes to its repository over the registry v2 API under sam's tag, skipping what the registry
//! has, mounting layers pushed to a sibling repository earlier in the run, and uploading the
//! rest ([`upload`]: one streamed request per blob, restarted on failure), several images and
//! layers at a time ([`streams`] sizes that to the link). The first image that fails stops the
//! others.

mod archive;
mod discovery;
mod engine;
mod image;
mod login;
mod manifest;
mod oci;
mod registry;
mod report;
mod source;
mod streams;
#[cfg(test)]
mod testimage;
#[cfg(test)]
mod tests_registry;
#[cfg(test)]
mod testserver;
mod transport;
mod upload;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::{bail, Context};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use manifest::ManifestError;
pub use report::{BlobOutcome, Reporter};
pub use source::{image_source, sam_tag, ImageSource};

use crate::settings::{
    Environment, BACKOFF_VARIABLE, CONNECT_TIMEOUT_VARIABLE, MAX_ATTEMPTS_VARIABLE,
    READ_TIMEOUT_VARIABLE, REGISTRY_ENDPOINT_VARIABLE as ENDPOINT_VARIABLE, SLOW_CALL_VARIABLE,
};
use image::{Blob, PreparedImage};
use registry::{Mount, Registry, Retry};
use report::{Event, Events, Observer};
use streams::Streams;
use transport::{Patience, Transport};

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

/// Knobs with defaults for deploys; tests point at a local registry and shorten the waits.
#[derive(Debug, Clone)]
struct Options {
    endpoint: Option<String>,
    retry: Retry,
    patience: Patience,
    /// Layer streams at first and at most (see [`streams`]).
    streams: (usize, usize),
    parallel_reads: usize,
    /// Where the container engine is looked for.
    engine: discovery::EngineEnv,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            endpoint: None,
            retry: Retry::from_config(&crate::aws::retry_config(None, None)),
            patience: Patience::default(),
            streams: (streams::INITIAL, streams::MAX),
            parallel_reads: 2,
            engine: discovery::EngineEnv::default(),
        }
    }
}

/// Pushes every job's image and returns them in job order. Pushes go to each repository's
/// registry, or to `SAMRS_REGISTRY_ENDPOINT` when it is set; `network` says whom to trust, and
/// `env` holds the knobs AWS calls share (retries, timeouts, when to report a slow call) and
/// where the container engine is.
pub async fn push_all(
    ecr: &aws_sdk_ecr::Client,
    network: &crate::network::Network,
    env: &Environment,
    jobs: Vec<PushJob>,
    reporter: &dyn Reporter,
) -> anyhow::Result<Vec<PushedImage>> {
    let options = options(env);
    let transport = transport::from_network(network, options.patience.connect)?;
    push_with(ecr, &transport, jobs, reporter, options).await
}

/// The push knobs `env` sets.
fn options(env: &Environment) -> Options {
    Options {
        endpoint: env.var(ENDPOINT_VARIABLE).map(str::to_string),
        retry: Retry::from_config(&crate::aws::retry_config(
            env.var(MAX_ATTEMPTS_VARIABLE),
            env.var(BACKOFF_VARIABLE),
        )),
        patience: Patience::from_settings(
            env.var(SLOW_CALL_VARIABLE),
            env.var(CONNECT_TIMEOUT_VARIABLE),
            env.var(READ_TIMEOUT_VARIABLE),
        ),
        engine: discovery::EngineEnv::from(env),
        ..Options::default()
    }
}

/// The images of `jobs`, read from where they are and made ready to push, but not pushed: what
/// each will be in the registry is known by its manifest digest ([`ReadImages::digests`]).
pub struct ReadImages {
    jobs: Vec<PushJob>,
    images: Vec<PreparedImage>,
}

impl ReadImages {
    /// Each job's function and the digest its image will have in the registry, in job order.
    pub fn digests(&self) -> Vec<(String, String)> {
        self.jobs
            .iter()
            .zip(&self.images)
            .map(|(job, image)| (job.function.clone(), image.manifest_digest.clone()))
            .collect()
    }
}

/// Reads every job's image (the engine's, an archive, an OCI layout) as a push would, without
/// pushing: the digests a push of them will give.
pub async fn read_images(env: &Environment, jobs: Vec<PushJob>) -> anyhow::Result<ReadImages> {
    let options = options(env);
    let images = prepare_all(&jobs, options.parallel_reads, &options.engine).await?;
    Ok(ReadImages { jobs, images })
}

/// Pushes images read by [`read_images`], as [`push_all`] does.
pub async fn push_read(
    ecr: &aws_sdk_ecr::Client,
    network: &crate::network::Network,
    env: &Environment,
    read: ReadImages,
    reporter: &dyn Reporter,
) -> anyhow::Result<Vec<PushedImage>> {
    let options = options(env);
    let transport = transport::from_network(network, options.patience.connect)?;
    push_prepared(ecr, &transport, read, reporter, options).await
}

async fn push_with(
    ecr: &aws_sdk_ecr::Client,
    transport: &Transport,
    jobs: Vec<PushJob>,
    reporter: &dyn Reporter,
    options: Options,
) -> anyhow::Result<Vec<PushedImage>> {
    check_registries(&jobs, &options)?;
    let images = prepare_all(&jobs, options.parallel_reads, &options.engine).await?;
    push_prepared(
        ecr,
        transport,
        ReadImages { jobs, images },
        reporter,
        options,
    )
    .await
}

/// Every repository's registry can be pushed to (a plain-HTTP override only to loopback).
fn check_registries(jobs: &[PushJob], options: &Options) -> anyhow::Result<()> {
    for job in jobs {
        let (host, _) = login::split_repository_uri(&job.repository_uri)?;
        login::registry_base(&host, options.endpoint.as_deref())?;
    }
    Ok(())
}

async fn push_prepared(
    ecr: &aws_sdk_ecr::Client,
    transport: &Transport,
    read: ReadImages,
    reporter: &dyn Reporter,
    options: Options,
) -> anyhow::Result<Vec<PushedImage>> {
    let ReadImages { jobs, images } = read;
    if jobs.is_empty() {
        return Ok(Vec::new());
    }
    check_registries(&jobs, &options)?;
    let (events, mut received) = Events::channel();
    let shared = Arc::new(Shared {
        ecr: ecr.clone(),
        transport: transport.clone(),
        streams: Arc::new(Streams::new(options.streams.0, options.streams.1)),
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
    let mut pushed = Vec::new();
    let mut listening = true;
    loop {
        tokio::select! {
            event = received.recv(), if listening => match event {
                Some(event) => event.deliver(reporter),
                None => listening = false,
            },
            joined = tasks.join_next() => {
                let Some(joined) = joined else { break };
                let (index, result) = joined.context("an image push task stopped")?;
                // Returning drops the other tasks: their uploads stop.
                pushed.push((index, result?));
            }
        }
    }
    while let Some(event) = received.recv().await {
        event.deliver(reporter);
    }
    pushed.sort_by_key(|(index, _)| *index);
    Ok(pushed.into_iter().map(|(_, image)| image).collect())
}

/// Reads every job's image (at most `parallel` at a time), so a missing platform or a broken
/// archive stops the run before anything is uploaded.
async fn prepare_all(
    jobs: &[PushJob],
    parallel: usize,
    engine: &discovery::EngineEnv,
) -> anyhow::Result<Vec<PreparedImage>> {
    let permits = Arc::new(Semaphore::new(parallel));
    let mut tasks = JoinSet::new();
    for (index, job) in jobs.iter().enumerate() {
        let (permits, job, engine) = (Arc::clone(&permits), job.clone(), engine.clone());
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let image = image::prepare(&job.source, &job.architecture, &engine)
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
    transport: Transport,
    options: Options,
    streams: Arc<Streams>,
    /// Logged-in registries by host: one GetAuthorizationToken per registry per run (and one
    /// more whenever the registry refuses the token).
    registries: tokio::sync::Mutex<HashMap<String, Registry>>,
    /// Per `host digest`, the repository that has the blob; its lock makes concurrent pushes
    /// of one layer to sibling repositories wait and mount instead of uploading twice.
    blobs: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<String>>>>>,
    events: Events,
}

impl Shared {
    async fn registry(&self, host: &str) -> anyhow::Result<Registry> {
        let mut registries = self.registries.lock().await;
        if let Some(registry) = registries.get(host) {
            return Ok(registry.clone());
        }
        let base = login::registry_base(host, self.options.endpoint.as_deref())?;
        let login = Arc::new(login::Login::new(&self.ecr).await?);
        let registry = Registry::new(
            self.transport.clone(),
            base,
            login,
            self.options.retry,
            self.options.patience,
        );
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
    let observer = Observer {
        image: job.function,
        events: shared.events.clone(),
    };
    let total = image.total_bytes();
    shared.events.emit(Event::Start {
        name: observer.image.clone(),
        total,
    });
    let existing = registry.manifest_digest(&repo, &tag, &observer).await?;
    if existing.as_deref() != Some(image.manifest_digest.as_str()) {
        push_blobs(shared, &registry, &host, &repo, &observer, &image.blobs).await?;
        let reported = registry
            .put_manifest(
                &repo,
                &tag,
                &image.manifest_media_type,
                image.manifest.clone(),
                &observer,
            )
            .await?;
        if let Some(reported) = reported.filter(|d| *d != image.manifest_digest) {
            bail!(
                "the registry stored {repo}:{tag} as {reported}, not as the pushed manifest {}",
                image.manifest_digest
            );
        }
    } else {
        observer.progress(total);
    }
    let digest = image.manifest_digest;
    shared.events.emit(Event::Done {
        name: observer.image.clone(),
        digest: digest.clone(),
    });
    Ok(PushedImage {
        function: observer.image,
        uri_with_digest: format!("{host}/{repo}@{digest}"),
        digest,
    })
}

async fn push_blobs(
    shared: &Arc<Shared>,
    registry: &Registry,
    host: &str,
    repo: &str,
    observer: &Observer,
    blobs: &[Blob],
) -> anyhow::Result<()> {
    let mut tasks = JoinSet::new();
    for blob in blobs {
        let shared = Arc::clone(shared);
        let (registry, blob, observer) = (registry.clone(), blob.clone(), observer.clone());
        let (host, repo) = (host.to_string(), repo.to_string());
        tasks.spawn(
            async move { push_blob(&shared, &registry, &host, &repo, &observer, &blob).await },
        );
    }
    while let Some(joined) = tasks.join_next().await {
        joined.context("a layer push task stopped")??;
    }
    Ok(())
}

/// Settles one blob in `repo`: found there, mounted from the sibling repository that got it
/// earlier in the run (no existence check needed: a mount of a blob the repository has succeeds
/// too), or uploaded.
async fn push_blob(
    shared: &Shared,
    registry: &Registry,
    host: &str,
    repo: &str,
    observer: &Observer,
    blob: &Blob,
) -> anyhow::Result<()> {
    let digest = &blob.descriptor.digest;
    let holder = shared.blob_holder(host, digest);
    let mut held_in = holder.lock().await;
    let outcome = match held_in.as_deref() {
        Some(from) if from == repo => BlobOutcome::Exists,
        Some(from) => match registry.mount(repo, digest, from, observer).await? {
            Mount::Mounted => BlobOutcome::Mounted,
            Mount::Upload(session) => {
                upload::upload(
                    registry,
                    repo,
                    blob,
                    Some(session),
                    observer,
                    &shared.streams,
                )
                .await?;
                BlobOutcome::Uploaded
            }
        },
        None if registry.blob_exists(repo, digest, observer).await? => BlobOutcome::Exists,
        None => {
            upload::upload(registry, repo, blob, None, observer, &shared.streams).await?;
            BlobOutcome::Uploaded
        }
    };
    if outcome != BlobOutcome::Uploaded {
        observer.progress(blob.descriptor.size);
    }
    shared.events.emit(Event::Blob {
        name: observer.image.clone(),
        digest: digest.clone(),
        outcome,
    });
    held_in.get_or_insert_with(|| repo.to_string());
    Ok(())
}
