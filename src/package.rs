//! `sam package` inside a deploy: zips and uploads the template's local artifacts (and nested
//! templates, recursively) and returns the template rewritten to point at S3.
//!
//! What is an artifact and how it is written back is decided by the pure [`crate::artifacts`];
//! this file reads files, uploads, and reports.

use std::collections::HashMap;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use anyhow::Context;
use serde_json::Value;

use crate::artifacts::{self, Artifact, ArtifactKind, Uploaded};
use crate::aws::Aws;
use crate::cloudformation::poll::Poller;
use crate::events::{Event, Fact, Reporter};
use crate::plan::shortcut::NestedTemplate;
use crate::s3::{self, Destination, Upload};
use crate::settings::{SigningProfile, SigningProfiles};
use crate::signing::{self, SigningRequest};
use crate::template::{self, image_location, ImageLocation, Template};

/// What signs the zips of the functions and layers named in `profiles`.
pub struct Signing<'a> {
    pub profiles: &'a SigningProfiles,
    /// How long a signing job is waited for.
    pub poller: &'a Poller,
}

/// Deeper nesting than this is a template that includes itself.
const MAX_DEPTH: usize = 32;

/// A packaged template and the nested templates packaged with it.
#[derive(Debug, Clone)]
pub struct Packaged {
    /// The template with every local artifact replaced by its S3 location.
    pub template: Value,
    /// Every nested template packaged on the way (at any depth), with the URL its parent names.
    pub nested: Vec<NestedTemplate>,
    /// The main template's resources whose code is a zip uploaded unsigned: the base64 SHA-256
    /// of the zip (what Lambda reports as `CodeSha256`), by logical id.
    pub zips: HashMap<String, String>,
    /// The S3 keys the packaged templates name, each once, sorted.
    pub artifacts: Vec<String>,
}

/// The packaged template: every local artifact uploaded and referenced by its S3 location.
/// `images` gives the pushed (digest-pinned) `ImageUri` of functions, by template and logical id.
/// `language_extensions`: they are on (the main template is expanded by the caller; a nested
/// template that uses them is not expanded, which is said once per template).
pub async fn package_template(
    aws: &Aws,
    template: &Template,
    dest: Option<&Destination>,
    images: &HashMap<ImageLocation, String>,
    signing: &Signing<'_>,
    language_extensions: bool,
    report: &dyn Reporter,
) -> anyhow::Result<Packaged> {
    let mut packager = Packager {
        aws,
        dest,
        report,
        images,
        signing,
        language_extensions,
        done: HashMap::new(),
        nested: Vec::new(),
        sha256: HashMap::new(),
        zips: HashMap::new(),
    };
    let packaged = packager.package(&template.value, &template.path, 0).await?;
    let mut artifacts: Vec<String> = packager.done.into_values().collect();
    artifacts.sort();
    artifacts.dedup();
    Ok(Packaged {
        template: packaged,
        nested: packager.nested,
        zips: packager.zips,
        artifacts,
    })
}

struct Packager<'a> {
    aws: &'a Aws,
    dest: Option<&'a Destination>,
    report: &'a dyn Reporter,
    images: &'a HashMap<ImageLocation, String>,
    signing: &'a Signing<'a>,
    language_extensions: bool,
    /// Artifacts already uploaded in this run (several functions often share one CodeUri), by
    /// path, whether it is a template, and the resource whose signature it carries.
    done: HashMap<(PathBuf, bool, Option<String>), String>,
    nested: Vec<NestedTemplate>,
    /// The base64 SHA-256 of each zip uploaded, by key.
    sha256: HashMap<String, String>,
    zips: HashMap<String, String>,
}

type PackagedFuture<'f> = Pin<Box<dyn Future<Output = anyhow::Result<Value>> + 'f>>;

impl Packager<'_> {
    fn package<'f>(
        &'f mut self,
        value: &'f Value,
        path: &'f Path,
        depth: usize,
    ) -> PackagedFuture<'f> {
        Box::pin(async move {
            let dir = path.parent().unwrap_or(Path::new("."));
            let mut packaged = value.clone();
            self.pin_images(&mut packaged, path);
            let found = artifacts::find_artifacts(&packaged, dir)?;
            if found.is_empty() {
                return Ok(packaged);
            }
            let dest = self.dest.context(
                "S3 Bucket not specified, use --s3-bucket to specify a bucket name, or use --resolve-s3 to create a managed default bucket, or run samrs deploy --guided",
            )?;
            let mut uploads = Vec::with_capacity(found.len());
            for artifact in &found {
                let key = self.upload(artifact, dest, depth).await?;
                uploads.push((
                    artifact.location.clone(),
                    Uploaded {
                        bucket: dest.bucket.clone(),
                        key,
                        version: None,
                        url_base: self.aws.s3_url_base.clone(),
                    },
                ));
            }
            artifacts::apply_uploads(&mut packaged, &uploads)?;
            Ok(packaged)
        })
    }

    /// Points the pushed functions of this template at their images by digest.
    fn pin_images(&self, template: &mut Value, path: &Path) {
        let Some(resources) = template.get_mut("Resources").and_then(Value::as_object_mut) else {
            return;
        };
        for (logical_id, resource) in resources.iter_mut() {
            let Some(uri) = self.images.get(&image_location(path, logical_id)) else {
                continue;
            };
            let pointer = match resource.get("Type").and_then(Value::as_str) {
                Some("AWS::Lambda::Function") => "/Properties/Code",
                _ => "/Properties",
            };
            if let Some(Value::Object(properties)) = resource.pointer_mut(pointer) {
                properties.insert("ImageUri".into(), Value::String(uri.clone()));
            }
        }
    }

    /// Uploads one artifact (once per run) and returns its key.
    async fn upload(
        &mut self,
        artifact: &Artifact,
        dest: &Destination,
        depth: usize,
    ) -> anyhow::Result<String> {
        let nested = artifact.kind == ArtifactKind::NestedTemplate;
        let resource = &artifact.location.resource_id;
        // sam signs any zip artifact of a resource named in --signing-profiles.
        let profile = self.signing.profiles.get(resource).filter(|_| !nested);
        let cache_key = (
            artifact.local_path.clone(),
            nested,
            profile.map(|_| resource.clone()),
        );
        let zip = matches!(
            artifact.kind,
            ArtifactKind::ZipDirectory | ArtifactKind::ZipFile
        ) && profile.is_none();
        if let Some(key) = self.done.get(&cache_key).cloned() {
            self.note_zip(zip && depth == 0, resource, &key);
            return Ok(key);
        }
        // A nested template is kept, packaged, for the no-op check.
        let (body, nested_template) = match artifact.kind {
            ArtifactKind::ZipDirectory => (artifacts::zip_directory(&artifact.local_path)?, None),
            ArtifactKind::ZipFile => (artifacts::zip_file(&artifact.local_path)?, None),
            ArtifactKind::File => (
                std::fs::read(&artifact.local_path)
                    .with_context(|| format!("Could not read {}", artifact.local_path.display()))?,
                None,
            ),
            ArtifactKind::NestedTemplate => {
                if depth >= MAX_DEPTH {
                    anyhow::bail!(
                        "{} nests templates more than {MAX_DEPTH} levels deep: does a template include itself?",
                        artifact.local_path.display()
                    );
                }
                let child = template::load(&artifact.local_path)?;
                if self.language_extensions
                    && template::language_extensions::uses_language_extensions(&child.value)
                {
                    self.report
                        .event(Event::NestedLanguageExtensions(child.path.clone()));
                }
                let packaged = self.package(&child.value, &child.path, depth + 1).await?;
                (template::to_yaml(&packaged).into_bytes(), Some(packaged))
            }
        };
        // Signer only takes objects named *.zip.
        let extension = if profile.is_some() {
            Some("zip")
        } else {
            artifact.key_extension()
        };
        let key = artifacts::s3_key(
            dest.prefix.as_deref(),
            &artifacts::md5_hex(&body),
            extension,
        );
        if let Some(template) = nested_template {
            self.nested.push(NestedTemplate {
                url: artifacts::path_style_url(&self.aws.s3_url_base, &dest.bucket, &key, None),
                template,
            });
        }
        if zip {
            self.sha256
                .insert(key.clone(), artifacts::sha256_base64(&body));
        }
        self.note_zip(zip && depth == 0, resource, &key);
        let size = body.len();
        match s3::upload_with_dedup(&self.aws.s3, dest, &key, body).await? {
            Upload::Sent => self.report.record(Fact::Upload {
                key: key.clone(),
                bytes: size,
            }),
            Upload::AlreadyPresent => self.report.event(Event::UploadSkipped { key: key.clone() }),
            Upload::NotSent => self.report.event(Event::UploadPlanned {
                key: key.clone(),
                bytes: size,
            }),
        }
        let key = match profile {
            Some(profile) => self.sign(resource, profile, dest, key).await?,
            None => key,
        };
        self.done.insert(cache_key, key.clone());
        Ok(key)
    }

    /// Notes the zip `key` as the code of `resource` of the main template.
    fn note_zip(&mut self, main_zip: bool, resource: &str, key: &str) {
        if let Some(sha256) = self.sha256.get(key).filter(|_| main_zip) {
            self.zips.insert(resource.to_string(), sha256.clone());
        }
    }

    /// Signs an uploaded zip; returns the key of the signed copy (a dry run signs nothing).
    async fn sign(
        &self,
        resource: &str,
        profile: &SigningProfile,
        dest: &Destination,
        key: String,
    ) -> anyhow::Result<String> {
        if dest.dry_run {
            self.report.event(Event::SigningPlanned {
                key: key.clone(),
                profile: profile.profile_name.clone(),
            });
            return Ok(key);
        }
        let version = s3::object_version(&self.aws.s3, &dest.bucket, &key)
            .await?
            .with_context(|| format!("Cannot sign {resource}: AWS Signer signs a version of an object, and bucket {} keeps no versions; enable versioning on it (the --resolve-s3 bucket has it)", dest.bucket))?;
        let request = SigningRequest {
            resource,
            profile,
            bucket: &dest.bucket,
            key: &key,
            version: &version,
        };
        let signed = signing::sign(&self.aws.signer, request, self.signing.poller).await?;
        self.report.record(Fact::Signed {
            resource: resource.to_string(),
            job_id: signed.job_id.clone(),
            key: signed.key.clone(),
        });
        self.report.event(Event::SignedInto {
            job_id: signed.job_id.clone(),
            location: format!("{}/{}", dest.bucket, signed.key),
        });
        Ok(signed.key)
    }
}
