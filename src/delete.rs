//! `samrs delete`: removes a deployed application, its ECR companion stack with its
//! repositories, and its uploaded artifacts, with `sam delete`'s questions and messages; and
//! `samrs delete --orphans`, which finds companion stacks and managed repositories whose parent
//! stack is gone (sam issue #2856).
//!
//! Unlike sam, the main stack goes first: if it cannot be deleted, the images its functions run
//! stay where they are.

use anyhow::bail;
use regex::Regex;
use serde::Serialize;

use crate::aws::{self, Aws, AwsResultExt};
use crate::cloudformation::{self as cfn, poll::Poller, EventRow};
use crate::companion::{md5_hex, CompanionStack};
use crate::journal::{Action, Fact, Phase, StackRole};
use crate::output::{Table, Tone, Ui};

/// What `samrs delete` acts on, resolved from flags and samconfig.
#[derive(Debug, Clone, Default)]
pub struct DeleteSettings {
    pub stack_name: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_prefix: Option<String>,
    pub no_prompts: bool,
    pub orphans: bool,
    /// Print how settings were resolved and every AWS call (`--debug`, `SAM_DEBUG`).
    pub debug: bool,
    /// Save the command-line options to the config file (`--save-params`).
    pub save_params: bool,
    /// The samconfig file read (where `--save-params` writes), if any.
    pub config_file: Option<std::path::PathBuf>,
    /// One line each, printed before anything is done.
    pub warnings: Vec<String>,
}

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

pub async fn run(settings: &DeleteSettings, ui: &Ui) -> anyhow::Result<()> {
    let stack_name = match (&settings.stack_name, settings.orphans) {
        (Some(name), false) => Some(name.as_str()),
        (None, false) => {
            return Err(crate::settings::UsageError(
                "Missing option '--stack-name': name the stack to delete (or set stack_name in samconfig.toml)".into(),
            )
            .into())
        }
        (_, true) => None,
    };
    ui.record(Fact::Target {
        stack_name: stack_name.map(str::to_string),
        region: settings.region.clone(),
        dry_run: false,
    });
    let aws = aws::connect(settings.region.as_deref(), settings.profile.as_deref()).await?;
    ui.record(Fact::Target {
        stack_name: None,
        region: Some(aws.region.clone()),
        dry_run: false,
    });
    let poller = Poller::from_env();
    let asker = Asker {
        ui,
        no_prompts: settings.no_prompts,
    };
    let Some(stack_name) = stack_name else {
        return ui
            .phase(Phase::DeleteOrphans, delete_orphans(&aws, &poller, &asker))
            .await;
    };
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

    match &stack {
        None => ui.line(&format!(
            "Error: The input stack {stack_name} does not exist on Cloudformation in the region {region}"
        )),
        Some(info) => {
            if info.termination_protection {
                bail!("Stack {stack_name} has termination protection enabled: disable it with `aws cloudformation update-termination-protection --no-enable-termination-protection --stack-name {stack_name}`, then delete again");
            }
            let artifacts = artifact_location(&aws, stack_name, settings).await;
            ui.line(&format!("\t- Deleting Cloudformation stack {stack_name}"));
            ui.phase(Phase::DeleteStack, async {
                remove_stack(&aws, stack_name, &poller, &asker).await?;
                record_deleted(ui, stack_name, StackRole::Main);
                Ok(())
            })
            .await?;
            if let Some((bucket, prefix)) = artifacts {
                ui.phase(
                    Phase::DeleteArtifacts,
                    delete_artifacts(&aws, &bucket, prefix.as_deref(), &asker, ui),
                )
                .await?;
            }
        }
    }
    if companion_stack.is_some() {
        ui.line(&format!("\tFound ECR Companion Stack {}", companion.name()));
        if asker.ask(&format!(
            "\tDo you want to delete the ECR companion stack {} in the region {region} ?",
            companion.name()
        ))? {
            ui.phase(
                Phase::DeleteCompanion,
                delete_companion(&aws, companion.name(), &poller, &asker, ui),
            )
            .await?;
        }
    } else if stack.is_none() {
        return Ok(());
    }
    ui.line("\nDeleted successfully");
    Ok(())
}

/// The bucket and prefix of the stack's artifacts: from flags/samconfig, else read from the S3
/// locations in its deployed template.
async fn artifact_location(
    aws: &Aws,
    stack_name: &str,
    settings: &DeleteSettings,
) -> Option<(String, Option<String>)> {
    if let Some(bucket) = &settings.s3_bucket {
        return Some((bucket.clone(), settings.s3_prefix.clone()));
    }
    let template = cfn::original_template(&aws.cfn, stack_name).await.ok()?;
    let (bucket, key) = first_s3_location(&template)?;
    let prefix = settings
        .s3_prefix
        .clone()
        .or_else(|| key.rsplit_once('/').map(|(p, _)| p.to_string()));
    Some((bucket, prefix))
}

/// The first `s3://bucket/key` (or path-style S3 URL) in a template's text.
fn first_s3_location(template: &str) -> Option<(String, String)> {
    let re = Regex::new(r#"(?:s3://|https?://s3[.a-z0-9-]*\.amazonaws\.com(?:\.cn)?/)([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/([^\s"',}]+)"#).ok()?;
    let caps = re.captures(template)?;
    Some((caps[1].to_string(), caps[2].to_string()))
}

async fn delete_artifacts(
    aws: &Aws,
    bucket: &str,
    prefix: Option<&str>,
    asker: &Asker<'_>,
    ui: &Ui,
) -> anyhow::Result<()> {
    let Some(prefix) = prefix.filter(|p| !p.is_empty()) else {
        // Without a prefix the bucket is shared by everything: sam leaves it alone too.
        return Ok(());
    };
    if !asker.ask(&format!(
        "\tAre you sure you want to delete the folder {prefix} in S3 which contains the artifacts?"
    ))? {
        return Ok(());
    }
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
                ui.line(&format!("\t- Deleting S3 object with key {key}"));
                aws.s3
                    .delete_object()
                    .bucket(bucket)
                    .key(key)
                    .send()
                    .await
                    .aws("S3 DeleteObject")?;
                ui.record(Fact::ObjectDeleted(key.to_string()));
            }
        }
        token = page.next_continuation_token().map(str::to_string);
        if token.is_none() {
            return Ok(());
        }
    }
}

/// Force-deletes the companion stack's repositories (stacks made by sam have no EmptyOnDelete),
/// then the stack.
async fn delete_companion(
    aws: &Aws,
    name: &str,
    poller: &Poller,
    asker: &Asker<'_>,
    ui: &Ui,
) -> anyhow::Result<()> {
    crate::deploy::companion::force_delete_repositories(aws, name, ui).await?;
    ui.line(&format!("\t- Deleting ECR Companion Stack {name}"));
    remove_stack(aws, name, poller, asker).await?;
    record_deleted(ui, name, StackRole::Companion);
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

/// Deletes a stack and waits; a DELETE_FAILED stack is retried keeping the resources that block
/// it, after asking.
async fn remove_stack(
    aws: &Aws,
    name: &str,
    poller: &Poller,
    asker: &Asker<'_>,
) -> anyhow::Result<()> {
    let mut retain: Vec<String> = Vec::new();
    loop {
        let failures = delete_once(aws, name, poller, &retain).await?;
        if failures.is_empty() {
            return Ok(());
        }
        let blocking: Vec<&EventRow> = failures.iter().filter(|e| e.logical_id != name).collect();
        if blocking.is_empty() {
            bail!(
                "Stack {name} could not be deleted{}",
                crate::deploy::failure_summary(&failures)
            );
        }
        let list: Vec<String> = blocking
            .iter()
            .map(|e| {
                format!(
                    "{} ({}): {}",
                    e.logical_id,
                    e.resource_type,
                    e.reason.as_deref().unwrap_or("no reason given")
                )
            })
            .collect();
        if !asker.ask(&format!(
            "\tStack {name} is in DELETE_FAILED because of {}. Keep these resources and finish deleting the stack?",
            list.join("; ")
        ))? {
            bail!("Stack {name} is in DELETE_FAILED because of {}: delete those resources yourself, or run samrs delete again and keep them", list.join("; "));
        }
        for resource in &list {
            asker.ui.line(&format!("\t- Keeping {resource}"));
            asker.ui.record(Fact::Kept(resource.clone()));
        }
        retain.extend(blocking.iter().map(|e| e.logical_id.clone()));
    }
}

/// One DeleteStack and its wait; the failure events when it ended in DELETE_FAILED.
async fn delete_once(
    aws: &Aws,
    name: &str,
    poller: &Poller,
    retain: &[String],
) -> anyhow::Result<Vec<EventRow>> {
    let mut cursor = cfn::EventCursor::after_current(&aws.cfn, name).await?;
    cfn::delete_stack(&aws.cfn, name, retain).await?;
    let outcome = cfn::wait_for_stack(&aws.cfn, &mut cursor, poller, |_| {}).await?;
    match outcome.stack {
        None => Ok(Vec::new()),
        Some(stack) if stack.status == "DELETE_COMPLETE" => Ok(Vec::new()),
        Some(stack) if stack.status == "DELETE_FAILED" => Ok(outcome.failures),
        Some(stack) => bail!("Deleting stack {name} ended in {}", stack.status),
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
            ui.line(&format!("\t- Deleting ECR repository {repo}"));
            crate::ecr::force_delete_repository(&aws.ecr, repo).await?;
            ui.record(Fact::Repository {
                name: repo.clone(),
                action: Action::Deleted,
            });
        }
        if orphan.stack_exists {
            delete_companion(aws, &orphan.companion_stack, poller, asker, ui).await?;
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
