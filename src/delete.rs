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
use serde::Serialize;

use crate::aws::{self, Aws, AwsResultExt};
use crate::cloudformation::{self as cfn, poll::Poller};
use crate::companion::{md5_hex, CompanionStack};
use crate::journal::{Action, Fact, Phase, StackRole};
use crate::output::{Table, Tone, Ui};
use crate::settings::DeleteSettings;
use crate::stack_state::EventRow;

/// Asks a yes/no question, or answers yes with `--no-prompts`.
struct Asker<'a> {
    ui: &'a Ui,
    no_prompts: bool,
}

impl Asker<'_> {
    fn ask(&self, question: &str) -> anyhow::Result<bool> {
        if self.no_prompts {
            return Ok(true);
        }
        if !self.ui.can_prompt() {
            bail!("samrs delete asks before deleting and needs a terminal for that: pass --no-prompts to delete without asking");
        }
        crate::prompt::Prompter::new(self.ui).confirm(question, false)
    }

    /// The first question: a "no" ends the run having done nothing.
    fn ask_to_start(&self, question: &str) -> anyhow::Result<bool> {
        let yes = self.ask(question)?;
        if !yes {
            self.ui.record(Fact::Declined);
        }
        Ok(yes)
    }
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

pub async fn run(settings: &DeleteSettings, ui: &Ui) -> anyhow::Result<()> {
    let asker = Asker {
        ui,
        no_prompts: settings.no_prompts,
    };
    let stack_name = match (&settings.stack_name, settings.orphans) {
        (_, true) => None,
        (Some(name), false) => Some(name.clone()),
        (None, false) if !settings.no_prompts && ui.can_prompt() => {
            let prompt = crate::prompt::Prompter::new(ui);
            Some(loop {
                let answer = prompt.text("\tEnter stack name you want to delete", None)?;
                if !answer.trim().is_empty() {
                    break answer.trim().to_string();
                }
            })
        }
        (None, false) => {
            return Err(crate::settings::UsageError(
                "Missing option '--stack-name', provide a stack name that needs to be deleted."
                    .into(),
            )
            .into())
        }
    };
    ui.record(Fact::Target {
        stack_name: stack_name.clone(),
        region: settings.region.clone(),
        dry_run: false,
    });
    ui.record(Fact::Mode {
        express: settings.express,
        on_failure: None,
    });
    let aws = aws::connect(settings.region.as_deref(), settings.profile.as_deref()).await?;
    ui.record(Fact::Target {
        stack_name: None,
        region: Some(aws.region.clone()),
        dry_run: false,
    });
    let poller = Poller::from_env().with_max_wait(settings.max_wait);
    let Some(stack_name) = stack_name else {
        return ui
            .phase(Phase::DeleteOrphans, delete_orphans(&aws, &poller, &asker))
            .await;
    };
    let stack_name = stack_name.as_str();
    let region = aws.region.clone();
    if !asker.ask_to_start(&format!(
        "\tAre you sure you want to delete the stack {stack_name} in the region {region} ?"
    ))? {
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
        asker: &asker,
        express: settings.express,
    };

    let Some(info) = stack else {
        ui.line(&format!(
            "Error: The input stack {stack_name} does not exist on Cloudformation in the region {region}"
        ));
        if companion_stack.is_some() && ask_companion(&asker, companion.name(), &region)? {
            ui.phase(
                Phase::DeleteCompanion,
                deleter.delete_companion(companion.name()),
            )
            .await?;
            finished(ui, settings.express);
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
        &asker,
        bucket.as_deref(),
        prefix.as_deref(),
        template.as_deref(),
    )?;
    let repos = repo_questions(&aws, &asker, stack_name, parsed.as_ref()).await?;
    let companion_repos = match &companion_stack {
        Some(_) => companion_repositories(&aws, companion.name()).await?,
        None => Vec::new(),
    };
    let delete_companion =
        companion_stack.is_some() && ask_companion(&asker, companion.name(), &region)?;

    ui.line(&format!("\t- Deleting Cloudformation stack {stack_name}"));
    ui.phase(Phase::DeleteStack, async {
        deleter.remove_stack(stack_name, &repos).await?;
        record_deleted(ui, stack_name, StackRole::Main);
        Ok(())
    })
    .await?;
    ui.phase(Phase::DeleteArtifacts, async {
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
                delete_image(&aws, &image, ui).await?;
            }
        }
        delete_s3(&aws, &s3, ui).await
    })
    .await?;
    if delete_companion {
        ui.phase(
            Phase::DeleteCompanion,
            deleter.delete_companion(companion.name()),
        )
        .await?;
    }
    if bucket.is_none() {
        ui.say("\nWarning: Cannot resolve s3 bucket information from command options , local config file or cloudformation template. Please use --s3-bucket next time and delete s3 files manually if required.", Tone::Warn);
    }
    finished(ui, settings.express);
    Ok(())
}

/// sam's last words.
fn finished(ui: &Ui, express: bool) {
    ui.line("\nDeleted successfully");
    if express {
        ui.say("Deleted with CloudFormation Express mode. Some resources may still be removing in the background.", Tone::Warn);
    }
}

fn ask_companion(asker: &Asker<'_>, name: &str, region: &str) -> anyhow::Result<bool> {
    asker
        .ui
        .line(&format!("\tFound ECR Companion Stack {name}"));
    asker.ask(&format!(
        "\tDo you want to delete the ECR companion stack {name} in the region {region} ?"
    ))
}

/// sam's S3 questions: the folder of the artifacts when there is a prefix; otherwise (or when the
/// folder is kept) the deployed template's object. `--no-prompts` takes the folder, else the file.
fn s3_questions(
    asker: &Asker<'_>,
    bucket: Option<&str>,
    prefix: Option<&str>,
    template: Option<&str>,
) -> anyhow::Result<S3Cleanup> {
    let Some(bucket) = bucket else {
        return Ok(S3Cleanup::Nothing);
    };
    let prefix = prefix.filter(|p| !p.is_empty());
    if let Some(prefix) = prefix {
        if asker.ask(&format!(
            "\tAre you sure you want to delete the folder {prefix} in S3 which contains the artifacts?"
        ))? {
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
    let question = format!("\tDo you want to delete the template file {name} in S3?");
    // With --no-prompts sam takes the folder when there is one, and never both.
    if (asker.no_prompts && prefix.is_some()) || !asker.ask(&question)? {
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
    asker: &Asker<'_>,
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
        if asker.ask(&format!(
            "\tECR repository {name} may not be empty. Do you want to delete the repository and all the images in it ?"
        ))? {
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
async fn delete_image(aws: &Aws, image: &ImageRef, ui: &Ui) -> anyhow::Result<()> {
    use crate::ecr::ImageDeletion;
    let shown = image.id.shown();
    let repo = &image.repository;
    let (digest, tag) = match &image.id {
        ImageId::Digest(digest) => (Some(digest.as_str()), None),
        ImageId::Tag(tag) => (None, Some(tag.as_str())),
    };
    match crate::ecr::delete_image(&aws.ecr, repo, digest, tag).await? {
        ImageDeletion::Deleted => {
            ui.record(Fact::ImageDeleted {
                function: image.function.clone(),
                repository: repo.clone(),
                image: shown.to_string(),
            });
            ui.line(&format!(
                "\t- Deleting ECR image {shown} in repository {repo}"
            ));
        }
        ImageDeletion::NotFound => ui.line(&format!(
            "\t- Could not find image with tag {shown} in repository {repo}"
        )),
        ImageDeletion::Failed(reason) => ui.line(&format!(
            "\t- Could not delete image with tag {shown} in repository {repo} (of {}): {reason}",
            image.function
        )),
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

async fn delete_s3(aws: &Aws, cleanup: &S3Cleanup, ui: &Ui) -> anyhow::Result<()> {
    let (bucket, prefix) = match cleanup {
        S3Cleanup::Nothing => return Ok(()),
        S3Cleanup::TemplateFile { bucket, key } => {
            if crate::s3::object_exists(&aws.s3, bucket, key).await? {
                delete_object(aws, bucket, key, ui).await?;
            } else {
                ui.line(&format!(
                    "\t- Could not find and delete the S3 object with the key {key}"
                ));
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
                delete_object(aws, bucket, key, ui).await?;
            }
        }
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            return Ok(());
        }
    }
}

async fn delete_object(aws: &Aws, bucket: &str, key: &str, ui: &Ui) -> anyhow::Result<()> {
    ui.line(&format!("\t- Deleting S3 object with key {key}"));
    aws.s3
        .delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .aws("S3 DeleteObject")?;
    ui.record(Fact::ObjectDeleted(key.to_string()));
    Ok(())
}

fn record_deleted(ui: &Ui, name: &str, role: StackRole) {
    ui.record(Fact::Stack {
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
    asker: &'a Asker<'a>,
    express: bool,
}

impl Deleter<'_> {
    /// Force-deletes the companion stack's repositories (stacks made by sam have no
    /// EmptyOnDelete), then the stack.
    async fn delete_companion(&self, name: &str) -> anyhow::Result<()> {
        let ui = self.asker.ui;
        crate::deploy::companion::force_delete_repositories(self.aws, name, ui).await?;
        ui.line(&format!("\t- Deleting ECR Companion Stack {name}"));
        self.remove_stack(name, &RepoChoices::default()).await?;
        record_deleted(ui, name, StackRole::Companion);
        Ok(())
    }

    /// Deletes a stack and waits. On DELETE_FAILED: the repositories chosen for deletion are
    /// emptied and deleted through ECR, those chosen to stay are kept, and any other blocking
    /// resource is kept after asking; then the deletion is tried again.
    async fn remove_stack(&self, name: &str, repos: &RepoChoices) -> anyhow::Result<()> {
        let ui = self.asker.ui;
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
                    crate::deploy::companion::delete_repository(self.aws, repo, ui).await?;
                } else if repos.keep.contains(&event.logical_id) {
                    ui.record(Fact::Kept(describe_failure(event)));
                    retain.push(event.logical_id.clone());
                } else {
                    others.push(event);
                }
            }
            if others.is_empty() {
                continue;
            }
            let list: Vec<String> = others.iter().map(|e| describe_failure(e)).collect();
            if !self.asker.ask(&format!(
                "\tStack {name} is in DELETE_FAILED because of {}. Keep these resources and finish deleting the stack?",
                list.join("; ")
            ))? {
                bail!("Stack {name} is in DELETE_FAILED because of {}: delete those resources yourself, or run samrs delete again and keep them", list.join("; "));
            }
            for resource in list {
                ui.line(&format!("\t- Keeping {resource}"));
                ui.record(Fact::Kept(resource));
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

/// A companion stack or managed repository whose parent stack is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Orphan {
    pub companion_stack: String,
    pub stack_exists: bool,
    pub repositories: Vec<String>,
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

async fn delete_orphans(aws: &Aws, poller: &Poller, asker: &Asker<'_>) -> anyhow::Result<()> {
    let ui = asker.ui;
    let deleter = Deleter {
        aws,
        poller,
        asker,
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
    if orphans.is_empty() {
        ui.line("No orphaned companion stacks or managed repositories found.");
        return Ok(());
    }
    let mut table = Table::new(
        "Orphaned companion stacks and repositories",
        &["CompanionStack", "StackExists", "Repositories"],
    );
    for orphan in &orphans {
        table.row(
            vec![
                orphan.companion_stack.clone(),
                orphan.stack_exists.to_string(),
                orphan.repositories.join(" "),
            ],
            Tone::Warn,
        );
    }
    ui.table(&table);
    if !asker.ask_to_start(&format!(
        "\tDelete the {} orphaned companion stacks and their repositories listed above?",
        orphans.len()
    ))? {
        return Ok(());
    }
    for orphan in &orphans {
        for repo in &orphan.repositories {
            crate::deploy::companion::delete_repository(aws, repo, ui).await?;
        }
        if orphan.stack_exists {
            deleter.delete_companion(&orphan.companion_stack).await?;
        }
    }
    ui.line("\nDeleted successfully");
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
        let ui = Ui::plain(100);
        let asker = Asker {
            ui: &ui,
            no_prompts: true,
        };
        let template = "Resources: {}\n";
        let md5 = md5_hex(template);
        assert_eq!(
            s3_questions(&asker, Some("b"), Some("app"), Some(template)).unwrap(),
            S3Cleanup::Folder {
                bucket: "b".into(),
                prefix: "app".into()
            }
        );
        assert_eq!(
            s3_questions(&asker, Some("b"), None, Some(template)).unwrap(),
            S3Cleanup::TemplateFile {
                bucket: "b".into(),
                key: format!("{md5}.template")
            }
        );
        assert_eq!(
            s3_questions(&asker, None, Some("app"), Some(template)).unwrap(),
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
