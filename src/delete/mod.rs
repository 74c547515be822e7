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

mod found;
mod orphans;

use anyhow::bail;

use crate::aws::{self, Aws, AwsResultExt};
use crate::cloudformation::{self as cfn, poll::Poller};
use crate::companion::{md5_hex, CompanionStack};
use crate::events::{self, Action, Event, Fact, Phase, Question, Reporter, StackRole};
use crate::settings::DeleteSettings;
use crate::stack_state::{failure_summary, EventRow};
use crate::stackops::StackOps;
use found::{
    declared_repositories, declared_repository_names, first_s3_location, image_refs, ImageId,
    ImageRef,
};

pub use orphans::orphaned_companions;

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
    let aws = aws::connect(
        settings.region.as_deref(),
        settings.profile.as_deref(),
        &settings.environment,
    )
    .await?;
    report.record(Fact::Target {
        stack_name: None,
        region: Some(aws.region.clone()),
        dry_run: false,
    });
    let poller = Poller::for_run(&settings.environment, settings.max_wait);
    let ops = StackOps {
        aws: &aws,
        poller: &poller,
        report,
    };
    let Some(stack_name) = stack_name else {
        let deleter = Deleter {
            ops,
            express: false,
        };
        return events::phase(report, Phase::DeleteOrphans, orphans::delete(&deleter)).await;
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
        ops,
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
        Some(_) => ops.companion_repositories(companion.name()).await?,
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
    let mut pages = aws
        .s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(format!("{prefix}/"))
        .into_paginator()
        .send();
    while let Some(page) = pages.try_next().await.aws("S3 ListObjectsV2")? {
        for object in page.contents() {
            if let Some(key) = object.key() {
                delete_object(aws, bucket, key, report).await?;
            }
        }
    }
    Ok(())
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
    ops: StackOps<'a>,
    express: bool,
}

impl Deleter<'_> {
    /// Force-deletes the companion stack's repositories (stacks made by sam have no
    /// EmptyOnDelete), then the stack.
    async fn delete_companion(&self, name: &str) -> anyhow::Result<()> {
        let report = self.ops.report;
        // The last deploy's clean-up may still run (the main stack's deletion went on beside
        // it), or have failed: its outcome first.
        if !self.ops.check_companion(name).await? {
            return Ok(());
        }
        self.ops.delete_companion_repositories(name).await?;
        report.event(Event::DeletingCompanionStack(name.to_string()));
        self.remove_stack(name, &RepoChoices::default()).await?;
        record_deleted(report, name, StackRole::Companion);
        Ok(())
    }

    /// Deletes a stack and waits. On DELETE_FAILED: the repositories chosen for deletion are
    /// emptied and deleted through ECR, those chosen to stay are kept, and any other blocking
    /// resource is kept after asking; then the deletion is tried again.
    async fn remove_stack(&self, name: &str, repos: &RepoChoices) -> anyhow::Result<()> {
        let report = self.ops.report;
        let mut retain: Vec<String> = Vec::new();
        loop {
            let failures = self.ops.delete(name, &retain, self.express).await?;
            if failures.is_empty() {
                return Ok(());
            }
            let blocking: Vec<&EventRow> =
                failures.iter().filter(|e| e.logical_id != name).collect();
            if blocking.is_empty() {
                bail!(
                    "Stack {name} could not be deleted{}",
                    failure_summary(&failures)
                );
            }
            let mut others = Vec::new();
            for event in blocking {
                if let Some((_, repo)) = repos.delete.iter().find(|(id, _)| *id == event.logical_id)
                {
                    self.ops.delete_repository(repo).await?;
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
