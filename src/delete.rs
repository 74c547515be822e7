//! `samrs delete`: removes a deployed application, its ECR companion stack with its
//! repositories, and its uploaded artifacts, with `sam delete`'s questions and messages; and
//! `samrs delete --orphans`, which finds companion stacks and managed repositories whose parent
//! stack is gone (sam issue #2856).
//!
//! Like sam, every question comes first (the stack, its S3 folder or template object, each
//! repository its template declares, the companion stack); then the deletions. Unlike sam, the
//! main stack goes first: if it cannot be deleted, the images its functions run stay where they
//! are. A declared repository to delete that holds images stops the stack's deletion; it is then
//! emptied and deleted through ECR, and the deletion finished.

use anyhow::bail;
use regex::Regex;

use crate::aws::{self, Aws, AwsResultExt};
use crate::cloudformation::{self as cfn, poll::Poller};
use crate::companion::{md5_hex, CompanionStack};
use crate::events::{self, Action, Event, Fact, Orphan, Phase, Question, Reporter, StackRole};
use crate::settings::DeleteSettings;
use crate::stack_state::EventRow;

/// The first question: a "no" ends the run having done nothing.
fn ask_to_start(report: &dyn Reporter, question: Question) -> anyhow::Result<bool> {
    let yes = report.ask(question)?;
    if !yes {
        report.record(Fact::Declined);
    }
    Ok(yes)
}

/// What the person chose to do with the S3 objects of the stack.
#[derive(Debug, Clone, PartialEq, Eq)]
enum S3Cleanup {
    Nothing,
    /// Everything under the prefix.
    Folder {
        bucket: String,
        prefix: String,
    },
    /// The deployed template's own object, `[prefix/]<md5>.template`.
    TemplateFile {
        bucket: String,
        key: String,
    },
}

/// The repositories the main template declares, by the answers to sam's question for each.
#[derive(Debug, Clone, Default)]
struct RepoChoices {
    /// (logical id, repository name) of those to delete with their images.
    delete: Vec<(String, String)>,
    /// Logical ids of those to keep.
    keep: Vec<String>,
}

/// Deletes the stack of the settings (asked for first when missing, see
/// [`crate::settings::DeleteSettings::stack_name`]), or the orphans.
pub async fn run(settings: &DeleteSettings, report: &dyn Reporter) -> anyhow::Result<()> {
    let stack_name = match (&settings.stack_name, settings.orphans) {
        (_, true) => None,
        (Some(name), false) => Some(name.clone()),
        (None, false) => {
            return Err(crate::settings::UsageError(
                "Missing option '--stack-name', provide a stack name that needs to be deleted."
                    .into(),
            )
            .into())
        }
    };
    report.record(Fact::Target {
        stack_name: stack_name.clone(),
        region: settings.region.clone(),
        dry_run: false,
    });
    report.record(Fact::Mode {
        express: settings.express,
        on_failure: None,
    });
    let aws = aws::connect(settings.region.as_deref(), settings.profile.as_deref()).await?;
    report.record(Fact::Target {
        stack_name: None,
        region: Some(aws.region.clone()),
        dry_run: false,
    });
    let poller = Poller::from_env().with_max_wait(settings.max_wait);
    let Some(stack_name) = stack_name else {
        return events::phase(
            report,
            Phase::DeleteOrphans,
            delete_orphans(&aws, &poller, report),
        )
        .await;
    };
    let stack_name = stack_name.as_str();
    let region = aws.region.clone();
    if !ask_to_start(
        report,
        Question::DeleteStack {
            stack: stack_name.to_string(),
            region: region.clone(),
        },
    )? {
        return Ok(());
    }
    let companion = CompanionStack::new(stack_name);
    let (stack, companion_stack) = tokio::try_join!(
        cfn::describe_stack(&aws.cfn, stack_name),
        cfn::describe_stack(&aws.cfn, companion.name()),
    )?;
    let deleter = Deleter {
        aws: &aws,
        poller: &poller,
        report,
        express: settings.express,
    };

    let Some(info) = stack else {
        report.event(Event::StackNotFound {
            stack: stack_name.to_string(),
            region: region.clone(),
        });
        if companion_stack.is_some() && ask_companion(report, companion.name(), &region)? {
            events::phase(
                report,
                Phase::DeleteCompanion,
                deleter.delete_companion(companion.name()),
            )
            .await?;
            report.event(Event::Deleted {
                express: settings.express,
            });
        }
        return Ok(());
    };
    if info.termination_protection {
        bail!("Stack {stack_name} has termination protection enabled: disable it with `aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {stack_name}`, then delete again");
    }

    // Every question first, in sam's order; then the deletions, the main stack first.
    let template = cfn::original_template(&aws.cfn, stack_name).await.ok();
    let parsed = template
        .as_deref()
        .and_then(|text| crate::template::parse_str(text, stack_name).ok());
    let bucket = settings.s3_bucket.clone().or_else(|| {
        template
            .as_deref()
            .and_then(first_s3_location)
            .map(|(bucket, _)| bucket)
    });
    let prefix = match &settings.s3_bucket {
        Some(_) => settings.s3_prefix.clone(),
        None => settings.s3_prefix.clone().or_else(|| {
            let (_, key) = first_s3_location(template.as_deref()?)?;
            key.rsplit_once('/').map(|(p, _)| p.to_string())
        }),
    };
    let s3 = s3_questions(
        report,
        settings.no_prompts,
        bucket.as_deref(),
        prefix.as_deref(),
        template.as_deref(),
    )?;
    let repos = repo_questions(&aws, report, stack_name, parsed.as_ref()).await?;
    let companion_repos = match &companion_stack {
        Some(_) => companion_repositories(&aws, companion.name()).await?,
        None => Vec::new(),
    };
    let delete_companion =
        companion_stack.is_some() && ask_companion(report, companion.name(), &region)?;

    report.event(Event::DeletingStack(stack_name.to_string()));
    events::phase(report, Phase::DeleteStack, async {
        deleter.remove_stack(stack_name, &repos).await?;
        record_deleted(report, stack_name, StackRole::Main);
        Ok(())
    })
    .await?;
    events::phase(report, Phase::DeleteArtifacts, async {
        if let Some(template) = &parsed {
            let declared: Vec<String> = repos
                .delete
                .iter()
                .map(|(_, name)| name.clone())
                .chain(declared_repository_names(template))
                .collect();
            for image in image_refs(template).into_iter().filter(|i| {
                !companion_repos.contains(&i.repository) && !declared.contains(&i.repository)
            }) {
                delete_image(&aws, &image, report).await?;
            }
        }
        delete_s3(&aws, &s3, report).await
    })
    .await?;
    if delete_companion {
        events::phase(
            report,
            Phase::DeleteCompanion,
            deleter.delete_companion(companion.name()),
        )
        .await?;
    }
    if bucket.is_none() {
        report.event(Event::BucketUnknown);
    }
    report.event(Event::Deleted {
        express: settings.express,
    });
    Ok(())
}

fn ask_companion(report: &dyn Reporter, name: &str, region: &str) -> anyhow::Result<bool> {
    report.event(Event::CompanionFound(name.to_string()));
    report.ask(Question::DeleteCompanion {
        stack: name.to_string(),
        region: region.to_string(),
    })
}

/// sam's S3 questions: the folder of the artifacts when there is a prefix; otherwise (or when the
/// folder is kept) the deployed template's object. `--no-prompts` takes the folder, else the file.
fn s3_questions(
    report: &dyn Reporter,
    no_prompts: bool,
    bucket: Option<&str>,
    prefix: Option<&str>,
    template: Option<&str>,
) -> anyhow::Result<S3Cleanup> {
    let Some(bucket) = bucket else {
        return Ok(S3Cleanup::Nothing);
    };
    let prefix = prefix.filter(|p| !p.is_empty());
    if let Some(prefix) = prefix {
        if report.ask(Question::DeleteS3Folder {
            prefix: prefix.to_string(),
        })? {
            return Ok(S3Cleanup::Folder {
                bucket: bucket.to_string(),
                prefix: prefix.to_string(),
            });
        }
    }
    let Some(template) = template else {
        return Ok(S3Cleanup::Nothing);
    };
    let name = format!("{}.template", md5_hex(template));
    // With --no-prompts sam takes the folder when there is one, and never both.
    if (no_prompts && prefix.is_some()) || !report.ask(Question::DeleteTemplateFile { name })? {
        return Ok(S3Cleanup::Nothing);
    }
    Ok(S3Cleanup::TemplateFile {
        bucket: bucket.to_string(),
        key: crate::artifacts::s3_key(prefix, &md5_hex(template), Some("template")),
    })
}

/// sam's question for each repository the main template declares (those with `DeletionPolicy:
/// Retain` stay out of it), by the name the stack gave it.
async fn repo_questions(
    aws: &Aws,
    report: &dyn Reporter,
    stack_name: &str,
    template: Option<&serde_json::Value>,
) -> anyhow::Result<RepoChoices> {
    let mut choices = RepoChoices::default();
    let declared = template.map(declared_repositories).unwrap_or_default();
    if declared.is_empty() {
        return Ok(choices);
    }
    let resources = cfn::list_stack_resources(&aws.cfn, stack_name).await?;
    for logical_id in declared {
        let Some(name) = resources
            .iter()
            .find(|r| r.logical_id == logical_id && !r.physical_id.is_empty())
            .map(|r| r.physical_id.clone())
        else {
            continue;
        };
        if report.ask(Question::DeleteRepository { name: name.clone() })? {
            choices.delete.push((logical_id, name));
        } else {
            choices.keep.push(logical_id);
        }
    }
    Ok(choices)
}

/// A template's resources by logical id (none when it has no `Resources` mapping).
fn resources(template: &serde_json::Value) -> impl Iterator<Item = (&String, &serde_json::Value)> {
    template
        .get("Resources")
        .and_then(|r| r.as_object())
        .into_iter()
        .flatten()
}

/// The logical ids of the `AWS::ECR::Repository` resources of a template that are not retained.
fn declared_repositories(template: &serde_json::Value) -> Vec<String> {
    resources(template)
        .filter(|(_, r)| {
            r.get("Type").and_then(|t| t.as_str()) == Some("AWS::ECR::Repository")
                && r.get("DeletionPolicy").and_then(|p| p.as_str()) != Some("Retain")
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// The `RepositoryName`s a template gives its repositories (retained ones included): images in
/// them are the repository's business, not the functions'.
fn declared_repository_names(template: &serde_json::Value) -> Vec<String> {
    resources(template)
        .map(|(_, r)| r)
        .filter(|r| r.get("Type").and_then(|t| t.as_str()) == Some("AWS::ECR::Repository"))
        .filter_map(|r| r.pointer("/Properties/RepositoryName")?.as_str())
        .map(str::to_string)
        .collect()
}

/// An image a function of the deployed template runs, in ECR.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ImageRef {
    function: String,
    repository: String,
    id: ImageId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ImageId {
    Tag(String),
    Digest(String),
}

impl ImageId {
    fn shown(&self) -> &str {
        match self {
            ImageId::Tag(tag) | ImageId::Digest(tag) => tag,
        }
    }
}

/// The ECR images of the template's functions: `repo@sha256:…` (as samrs deploys pushed images)
/// by digest, `repo:tag` by tag, `repo` as `latest` (sam's `parse_image_url`).
fn image_refs(template: &serde_json::Value) -> Vec<ImageRef> {
    resources(template)
        .filter_map(|(logical_id, resource)| {
            let pointer = match resource.get("Type")?.as_str()? {
                "AWS::Serverless::Function" => "/Properties/ImageUri",
                "AWS::Lambda::Function" => "/Properties/Code/ImageUri",
                _ => return None,
            };
            let uri = resource.pointer(pointer)?.as_str()?;
            if !crate::template::is_ecr_url(uri) {
                return None;
            }
            let (_, path) = uri.split_once('/')?;
            let (repository, id) = match path.split_once('@') {
                Some((repository, digest)) => (repository, ImageId::Digest(digest.to_string())),
                None => match path.rsplit_once(':') {
                    Some((repository, tag)) => (repository, ImageId::Tag(tag.to_string())),
                    None => (path, ImageId::Tag("latest".to_string())),
                },
            };
            Some(ImageRef {
                function: logical_id.clone(),
                repository: repository.to_string(),
                id,
            })
        })
        .collect()
}

/// Deletes one function's image, with sam's messages.
async fn delete_image(aws: &Aws, image: &ImageRef, report: &dyn Reporter) -> anyhow::Result<()> {
    use crate::ecr::ImageDeletion;
    let shown = image.id.shown();
    let repo = &image.repository;
    let (digest, tag) = match &image.id {
        ImageId::Digest(digest) => (Some(digest.as_str()), None),
        ImageId::Tag(tag) => (None, Some(tag.as_str())),
    };
    match crate::ecr::delete_image(&aws.ecr, repo, digest, tag).await? {
        ImageDeletion::Deleted => report.record(Fact::ImageDeleted {
            function: image.function.clone(),
            repository: repo.clone(),
            image: shown.to_string(),
        }),
        ImageDeletion::NotFound => report.event(Event::ImageNotFound {
            image: shown.to_string(),
            repository: repo.clone(),
        }),
        ImageDeletion::Failed(reason) => report.event(Event::ImageNotDeleted {
            image: shown.to_string(),
            repository: repo.clone(),
            function: image.function.clone(),
            reason,
        }),
        // The repository went with its stack.
        ImageDeletion::NoRepository => {}
    }
    Ok(())
}

/// The repository names of a companion stack.
async fn companion_repositories(aws: &Aws, name: &str) -> anyhow::Result<Vec<String>> {
    Ok(cfn::list_stack_resources(&aws.cfn, name)
        .await?
        .into_iter()
        .filter(|r| r.resource_type == "AWS::ECR::Repository" && !r.physical_id.is_empty())
        .map(|r| r.physical_id)
        .collect())
}

/// The first `s3://bucket/key` (or path-style S3 URL) in a template's text.
fn first_s3_location(template: &str) -> Option<(String, String)> {
    let re = Regex::new(r#"(?:s3://|https?://s3[.a-z0-9-]*\.amazonaws\.com(?:\.cn)?/)([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/([^\s"',}]+)"#).ok()?;
    let caps = re.captures(template)?;
    Some((caps[1].to_string(), caps[2].to_string()))
}

async fn delete_s3(aws: &Aws, cleanup: &S3Cleanup, report: &dyn Reporter) -> anyhow::Result<()> {
    let (bucket, prefix) = match cleanup {
        S3Cleanup::Nothing => return Ok(()),
        S3Cleanup::TemplateFile { bucket, key } => {
            if crate::s3::object_exists(&aws.s3, bucket, key).await? {
                delete_object(aws, bucket, key, report).await?;
            } else {
                report.event(Event::ObjectNotFound(key.clone()));
            }
            return Ok(());
        }
        S3Cleanup::Folder { bucket, prefix } => (bucket, prefix),
    };
    let mut token = None;
    loop {
        let page = aws
            .s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(format!("{prefix}/"))
            .set_continuation_token(token)
            .send()
            .await
            .aws("S3 ListObjectsV2")?;
        for object in page.contents() {
            if let Some(key) = object.key() {
                delete_object(aws, bucket, key, report).await?;
            }
        }
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            return Ok(());
        }
    }
}

async fn delete_object(
    aws: &Aws,
    bucket: &str,
    key: &str,
    report: &dyn Reporter,
) -> anyhow::Result<()> {
    report.event(Event::DeletingObject(key.to_string()));
    aws.s3
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .aws("S3 DeleteObject")?;
    report.record(Fact::ObjectDeleted(key.to_string()));
    Ok(())
}

fn record_deleted(report: &dyn Reporter, name: &str, role: StackRole) {
    report.record(Fact::Stack {
        name: name.to_string(),
        role,
        action: Action::Deleted,
        status: Some("DELETE_COMPLETE".into()),
    });
}

/// A resource that stopped a stack's deletion, with CloudFormation's reason.
fn describe_failure(event: &EventRow) -> String {
    format!(
        "{} ({}): {}",
        event.logical_id,
        event.resource_type,
        event.reason.as_deref().unwrap_or("no reason given")
    )
}

/// What every stack deletion of one run works with.
struct Deleter<'a> {
    aws: &'a Aws,
    poller: &'a Poller,
    report: &'a dyn Reporter,
    express: bool,
}

impl Deleter<'_> {
    /// Force-deletes the companion stack's repositories (stacks made by sam have no
    /// EmptyOnDelete), then the stack.
    async fn delete_companion(&self, name: &str) -> anyhow::Result<()> {
        let report = self.report;
        crate::deploy::companion::force_delete_repositories(self.aws, name, report).await?;
        report.event(Event::DeletingCompanionStack(name.to_string()));
        self.remove_stack(name, &RepoChoices::default()).await?;
        record_deleted(report, name, StackRole::Companion);
        Ok(())
    }

    /// Deletes a stack and waits. On DELETE_FAILED: the repositories chosen for deletion are
    /// emptied and deleted through ECR, those chosen to stay are kept, and any other blocking
    /// resource is kept after asking; then the deletion is tried again.
    async fn remove_stack(&self, name: &str, repos: &RepoChoices) -> anyhow::Result<()> {
        let report = self.report;
        let mut retain: Vec<String> = Vec::new();
        loop {
            let failures = self.delete_once(name, &retain).await?;
            if failures.is_empty() {
                return Ok(());
            }
            let blocking: Vec<&EventRow> =
                failures.iter().filter(|e| e.logical_id != name).collect();
            if blocking.is_empty() {
                bail!(
                    "Stack {name} could not be deleted{}",
                    crate::deploy::failure_summary(&failures)
                );
            }
            let mut others = Vec::new();
            for event in blocking {
                if let Some((_, repo)) = repos.delete.iter().find(|(id, _)| *id == event.logical_id)
                {
                    crate::deploy::companion::delete_repository(self.aws, repo, report).await?;
                } else if repos.keep.contains(&event.logical_id) {
                    report.record(Fact::Kept(describe_failure(event)));
                    retain.push(event.logical_id.clone());
                } else {
                    others.push(event);
                }
            }
            if others.is_empty() {
                continue;
            }
            let list: Vec<String> = others.iter().map(|e| describe_failure(e)).collect();
            if !report.ask(Question::KeepBlockingResources {
                stack: name.to_string(),
                resources: list.clone(),
            })? {
                bail!("Stack {name} is in DELETE_FAILED because of {}: delete those resources yourself, or run samrs delete again and keep them", list.join("; "));
            }
            for resource in list {
                report.event(Event::Keeping(resource.clone()));
                report.record(Fact::Kept(resource));
            }
            retain.extend(others.iter().map(|e| e.logical_id.clone()));
        }
    }

    /// One DeleteStack and its wait; the failure events when it ended in DELETE_FAILED.
    async fn delete_once(&self, name: &str, retain: &[String]) -> anyhow::Result<Vec<EventRow>> {
        let cfn = &self.aws.cfn;
        let mut cursor = cfn::EventCursor::after_current(cfn, name).await?;
        cfn::delete_stack(cfn, name, retain, self.express).await?;
        let outcome = cfn::wait_for_stack(cfn, &mut cursor, self.poller, |_| {}).await?;
        match outcome.stack {
            None => Ok(Vec::new()),
            Some(stack) if stack.status == "DELETE_COMPLETE" => Ok(Vec::new()),
            Some(stack) if stack.status == "DELETE_FAILED" => Ok(outcome.failures),
            Some(stack) => bail!("Deleting stack {name} ended in {}", stack.status),
        }
    }
}

/// The companion stack names among `stacks` whose parent is not among them: the name's prefix
/// and md5 must both match a live stack (parents longer than 104 characters are truncated).
pub fn orphaned_companions(stacks: &[String]) -> Vec<String> {
    stacks
        .iter()
        .filter(|name| {
            companion_parts(name)
                .is_some_and(|(prefix, hash)| !stacks.iter().any(|p| is_parent(p, prefix, hash)))
        })
        .cloned()
        .collect()
}

fn companion_parts(name: &str) -> Option<(&str, &str)> {
    let rest = name.strip_suffix("-CompanionStack")?;
    let (prefix, hash) = rest.rsplit_once('-')?;
    (hash.len() == 8 && hash.bytes().all(|b| b.is_ascii_hexdigit())).then_some((prefix, hash))
}

fn is_parent(candidate: &str, prefix: &str, hash: &str) -> bool {
    candidate.chars().take(104).eq(prefix.chars()) && md5_hex(candidate).starts_with(hash)
}

async fn delete_orphans(aws: &Aws, poller: &Poller, report: &dyn Reporter) -> anyhow::Result<()> {
    let deleter = Deleter {
        aws,
        poller,
        report,
        express: false,
    };
    let (stacks, repos) = tokio::try_join!(
        cfn::list_stack_names(&aws.cfn),
        crate::ecr::managed_repositories(&aws.ecr)
    )?;
    let mut orphans: Vec<Orphan> = orphaned_companions(&stacks)
        .into_iter()
        .map(|companion_stack| Orphan {
            companion_stack,
            stack_exists: true,
            repositories: Vec::new(),
        })
        .collect();
    for repo in repos {
        let parent_alive = companion_parts(&repo.companion_stack)
            .is_some_and(|(prefix, hash)| stacks.iter().any(|p| is_parent(p, prefix, hash)));
        if parent_alive {
            continue;
        }
        match orphans
            .iter_mut()
            .find(|o| o.companion_stack == repo.companion_stack)
        {
            Some(orphan) => orphan.repositories.push(repo.name),
            None => orphans.push(Orphan {
                stack_exists: stacks.contains(&repo.companion_stack),
                companion_stack: repo.companion_stack,
                repositories: vec![repo.name],
            }),
        }
    }
    let count = orphans.len();
    report.event(Event::Orphans(orphans.clone()));
    if count == 0 || !ask_to_start(report, Question::DeleteOrphans { count })? {
        return Ok(());
    }
    for orphan in &orphans {
        for repo in &orphan.repositories {
            crate::deploy::companion::delete_repository(aws, repo, report).await?;
        }
        if orphan.stack_exists {
            deleter.delete_companion(&orphan.companion_stack).await?;
        }
    }
    report.event(Event::Deleted { express: false });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_companion_is_orphaned_only_when_no_stack_matches_name_and_hash() {
        let stacks = names(&[
            "Hello-World-Stack",
            "Hello-World-Stack-925976eb-CompanionStack",
            "Parent-Stack-8ab67daa-CompanionStack",
            "sam-app-deadbeef-CompanionStack",
            "sam-app",
            "unrelated",
        ]);
        assert_eq!(
            orphaned_companions(&stacks),
            names(&[
                "Parent-Stack-8ab67daa-CompanionStack",
                "sam-app-deadbeef-CompanionStack"
            ])
        );
    }

    #[test]
    fn long_parent_names_match_through_truncation() {
        let parent = "A".repeat(128);
        let companion = format!("{}-af35b0d3-CompanionStack", "A".repeat(104));
        assert!(orphaned_companions(&[parent, companion.clone()]).is_empty());
        assert_eq!(
            orphaned_companions(std::slice::from_ref(&companion)),
            vec![companion]
        );
    }

    #[test]
    fn function_images_in_ecr_by_digest_or_tag() {
        let template = serde_json::json!({"Resources": {
            "Pinned": {"Type": "AWS::Serverless::Function", "Properties": {
                "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:abc"}},
            "Tagged": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {
                "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:fn-1a2b-latest"}}},
            "Bare": {"Type": "AWS::Serverless::Function", "Properties": {
                "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"}},
            "Hub": {"Type": "AWS::Serverless::Function", "Properties": {"ImageUri": "public.ecr.aws/x/y:1"}},
            "Zip": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "s3://b/k"}},
            "Intrinsic": {"Type": "AWS::Serverless::Function", "Properties": {"ImageUri": {"Ref": "Uri"}}}
        }});
        let image = |function: &str, repository: &str, id: ImageId| ImageRef {
            function: function.into(),
            repository: repository.into(),
            id,
        };
        assert_eq!(
            image_refs(&template),
            [
                image("Pinned", "team/app", ImageId::Digest("sha256:abc".into())),
                image("Tagged", "app", ImageId::Tag("fn-1a2b-latest".into())),
                image("Bare", "app", ImageId::Tag("latest".into())),
            ]
        );
    }

    #[test]
    fn declared_repositories_leave_retained_ones_out() {
        let template = serde_json::json!({"Resources": {
            "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "named"}},
            "Kept": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain",
                     "Properties": {"RepositoryName": "kept"}},
            "Unnamed": {"Type": "AWS::ECR::Repository"},
            "Topic": {"Type": "AWS::SNS::Topic"}
        }});
        assert_eq!(declared_repositories(&template), ["Repo", "Unnamed"]);
        assert_eq!(declared_repository_names(&template), ["named", "kept"]);
    }

    #[test]
    fn without_prompts_the_folder_or_else_the_template_object_goes() {
        /// `--no-prompts`: every question answered yes.
        struct Yes;
        impl Reporter for Yes {
            fn event(&self, _: Event) {}
            fn can_ask(&self) -> bool {
                false
            }
            fn ask(&self, _: Question) -> anyhow::Result<bool> {
                Ok(true)
            }
        }
        let asker: (&dyn Reporter, bool) = (&Yes, true);
        let template = "Resources: {}\n";
        let md5 = md5_hex(template);
        assert_eq!(
            s3_questions(asker.0, asker.1, Some("b"), Some("app"), Some(template)).unwrap(),
            S3Cleanup::Folder {
                bucket: "b".into(),
                prefix: "app".into()
            }
        );
        assert_eq!(
            s3_questions(asker.0, asker.1, Some("b"), None, Some(template)).unwrap(),
            S3Cleanup::TemplateFile {
                bucket: "b".into(),
                key: format!("{md5}.template")
            }
        );
        assert_eq!(
            s3_questions(asker.0, asker.1, None, Some("app"), Some(template)).unwrap(),
            S3Cleanup::Nothing
        );
    }

    #[test]
    fn s3_locations_are_found_in_deployed_templates() {
        let yaml = "CodeUri: s3://my-bucket/app/0123abcd\n";
        assert_eq!(
            first_s3_location(yaml),
            Some(("my-bucket".into(), "app/0123abcd".into()))
        );
        let json = r#"{"TemplateURL": "https://s3.us-east-1.amazonaws.com/bkt/p/x.template"}"#;
        assert_eq!(
            first_s3_location(json),
            Some(("bkt".into(), "p/x.template".into()))
        );
        assert_eq!(first_s3_location("Resources: {}"), None);
    }
}
