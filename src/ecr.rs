//! Thin ECR calls: force-deleting repositories (sam's companion repositories have no
//! `EmptyOnDelete`, so CloudFormation alone cannot remove them while they hold images) and
//! listing the repositories the SAM CLI or samrs manage, by their tags.

use serde::Serialize;

use crate::aws::{AwsError, AwsResultExt};

/// Deletes a repository and its images; true when it existed.
pub async fn force_delete_repository(
    ecr: &aws_sdk_ecr::Client,
    name: &str,
) -> Result<bool, AwsError> {
    let result = ecr
        .delete_repository()
        .repository_name(name)
        .force(true)
        .send()
        .await;
    found(result, "ECR DeleteRepository", |e| {
        e.is_repository_not_found_exception()
    })
}

/// Whether a repository exists.
pub async fn repository_exists(ecr: &aws_sdk_ecr::Client, name: &str) -> Result<bool, AwsError> {
    let result = ecr
        .describe_repositories()
        .repository_names(name)
        .send()
        .await;
    found(result, "ECR DescribeRepositories", |e| {
        e.is_repository_not_found_exception()
    })
}

/// True when a call on a repository succeeded, false when ECR did not find it (`missing`).
fn found<T, E, R>(
    result: Result<T, aws_sdk_ecr::error::SdkError<E, R>>,
    operation: &str,
    missing: impl Fn(&E) -> bool,
) -> Result<bool, AwsError>
where
    E: aws_sdk_ecr::error::ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.as_service_error().is_some_and(&missing) => Ok(false),
        Err(e) => Err(crate::aws::classify(operation, &e)),
    }
}

/// How the deletion of one image went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageDeletion {
    Deleted,
    NotFound,
    /// ECR refused, with its reason.
    Failed(String),
    NoRepository,
}

/// Deletes an image by digest or by tag (BatchDeleteImage: by digest the image goes with all
/// its tags; by tag the tag goes, and the image with its last tag).
pub async fn delete_image(
    ecr: &aws_sdk_ecr::Client,
    repository: &str,
    digest: Option<&str>,
    tag: Option<&str>,
) -> Result<ImageDeletion, AwsError> {
    let id = aws_sdk_ecr::types::ImageIdentifier::builder()
        .set_image_digest(digest.map(str::to_string))
        .set_image_tag(tag.map(str::to_string))
        .build();
    let result = ecr
        .batch_delete_image()
        .repository_name(repository)
        .image_ids(id)
        .send()
        .await;
    let output = match result {
        Ok(output) => output,
        Err(e)
            if e.as_service_error()
                .is_some_and(|se| se.is_repository_not_found_exception()) =>
        {
            return Ok(ImageDeletion::NoRepository)
        }
        Err(e) => return Err(crate::aws::classify("ECR BatchDeleteImage", &e)),
    };
    Ok(match output.failures().first() {
        None => ImageDeletion::Deleted,
        Some(failure) => match failure.failure_code().map(|c| c.as_str()) {
            Some("ImageNotFound") => ImageDeletion::NotFound,
            code => ImageDeletion::Failed(
                failure
                    .failure_reason()
                    .or(code)
                    .unwrap_or("no reason given")
                    .to_string(),
            ),
        },
    })
}

/// A repository carrying the SAM CLI's companion tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ManagedRepository {
    pub name: String,
    /// The `AwsSamCliCompanionStack` tag: the companion stack that owns it.
    pub companion_stack: String,
}

/// Every repository tagged `ManagedStackSource=AwsSamCli` with an `AwsSamCliCompanionStack` tag.
pub async fn managed_repositories(
    ecr: &aws_sdk_ecr::Client,
) -> Result<Vec<ManagedRepository>, AwsError> {
    let repositories = ecr
        .describe_repositories()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .aws("ECR DescribeRepositories")?;
    let mut found = Vec::new();
    for repo in &repositories {
        let (Some(name), Some(arn)) = (repo.repository_name(), repo.repository_arn()) else {
            continue;
        };
        let tags = ecr
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .aws("ECR ListTagsForResource")?;
        let tag = |key: &str| {
            tags.tags()
                .iter()
                .find(|t| t.key() == key)
                .map(|t| t.value().to_string())
        };
        if tag("ManagedStackSource").as_deref() != Some("AwsSamCli") {
            continue;
        }
        if let Some(companion_stack) = tag("AwsSamCliCompanionStack") {
            found.push(ManagedRepository {
                name: name.to_string(),
                companion_stack,
            });
        }
    }
    Ok(found)
}
