//! The companion stack's part of a deploy, in the rollback-safe order:
//! before the main stack, add new repositories and keep retired ones ([`prepare`]); after the main
//! stack succeeded, retire what is no longer referenced or delete the stack ([`retire`]).
//!
//! The plan (names, templates, what to add, keep and retire) comes from the pure
//! [`crate::companion`] module; this file only reads the deployed state and applies templates.

use anyhow::{bail, Context};

use crate::aws::Aws;
use crate::cloudformation::{
    self as cfn, poll::Poller, state::StackAction, ChangeSetOutcome, ChangeSetRequest, TemplateSource,
};
use crate::companion::{self, CompanionPlan, DeployedRepo};
use crate::output::Ui;
use crate::s3::{self, Destination};
use crate::settings::DeploySettings;

/// What [`prepare`] found and did, for [`retire`] to finish.
#[derive(Debug)]
pub struct Prepared {
    pub plan: CompanionPlan,
}

/// Reads the companion stack and its repositories: the observed state the plan is made from.
pub async fn observe(aws: &Aws, companion_name: &str) -> anyhow::Result<(Option<String>, Vec<DeployedRepo>)> {
    let Some(stack) = cfn::describe_stack(&aws.cfn, companion_name).await? else {
        return Ok((None, Vec::new()));
    };
    let repos = cfn::list_stack_resources(&aws.cfn, companion_name)
        .await?
        .into_iter()
        .filter(|r| r.resource_type == "AWS::ECR::Repository" && !r.status.starts_with("DELETE_COMPLETE"))
        .map(|r| DeployedRepo {
            logical_id: r.logical_id,
            repository_name: r.physical_id,
        })
        .collect();
    Ok((Some(stack.status), repos))
}

/// Phase 1: the companion stack gets every repository the functions need, and keeps the retired
/// ones until the main stack no longer uses them.
pub async fn apply(
    aws: &Aws,
    plan: &CompanionPlan,
    template: &str,
    status: Option<&str>,
    settings: &DeploySettings,
    dest: Option<&Destination>,
    poller: &Poller,
    ui: &Ui,
) -> anyhow::Result<()> {
    let name = plan.companion_stack_name.as_str();
    let mut status = status.map(str::to_string);
    loop {
        match cfn::state::stack_action(name, status.as_deref()) {
            StackAction::Create | StackAction::CreateInReview => break,
            StackAction::Update => {
                let deployed = cfn::original_template(&aws.cfn, name).await?;
                if deployed == template {
                    ui.line(&format!("\tCompanion stack {name} is up to date"));
                    return Ok(());
                }
                break;
            }
            StackAction::Wait => {
                ui.line(&format!("\tCompanion stack {name} is busy: waiting for its current operation"));
                let mut cursor = cfn::EventCursor::after_current(&aws.cfn, name).await?;
                cfn::wait_for_stack(&aws.cfn, &mut cursor, poller, |_| {}).await?;
            }
            StackAction::DeleteThenCreate => {
                ui.line(&format!(
                    "\tCompanion stack {name} was never created successfully: deleting it before creating it again"
                ));
                super::delete_and_wait(aws, name, poller).await?;
            }
            StackAction::Blocked(message) => bail!(message),
        }
        status = cfn::describe_stack(&aws.cfn, name).await?.map(|s| s.status);
    }
    let create = status.as_deref().is_none_or(|s| s == "REVIEW_IN_PROGRESS" || s == "DELETE_COMPLETE");
    ui.line(&format!(
        "\t{} companion stack {name}",
        if create { "Creating" } else { "Updating" }
    ));
    run_template(aws, name, template, create, settings, dest, poller).await
}

/// Phase 2, after the main stack succeeded: retired repositories go (EmptyOnDelete empties them),
/// or the whole companion stack when no image function is left.
pub async fn retire(
    aws: &Aws,
    plan: &CompanionPlan,
    settings: &DeploySettings,
    dest: Option<&Destination>,
    poller: &Poller,
    ui: &Ui,
) -> anyhow::Result<()> {
    if plan.retire.is_empty() {
        return Ok(());
    }
    let name = plan.companion_stack_name.as_str();
    for repo in &plan.retire {
        ui.line(&format!("\tDeleting unreferenced repository {}", repo.repository_name));
    }
    match companion::phase2_template(plan) {
        Some(template) => run_template(aws, name, &template, false, settings, dest, poller).await,
        None => {
            ui.line(&format!("\tDeleting companion stack {name}: no image function is left"));
            super::delete_and_wait(aws, name, poller).await
        }
    }
}

/// One change set on the companion stack, executed and waited for.
async fn run_template(
    aws: &Aws,
    name: &str,
    template: &str,
    create: bool,
    settings: &DeploySettings,
    dest: Option<&Destination>,
    poller: &Poller,
) -> anyhow::Result<()> {
    let source = if companion::template_fits_body(template) {
        TemplateSource::Body(template.to_string())
    } else {
        let dest = dest.context("The companion template is larger than 51,200 bytes and must go through S3: add --s3-bucket or --resolve-s3")?;
        let key = dest.key(&format!("{}.template", crate::package::md5_hex(template.as_bytes())));
        s3::upload_with_dedup(&aws.s3, dest, &key, template.as_bytes().to_vec()).await?;
        TemplateSource::Url(s3::object_url(&aws.s3_url_base, &dest.bucket, &key))
    };
    let request = ChangeSetRequest {
        stack_name: name.to_string(),
        change_set_name: format!("samrs-companion{}", chrono::Utc::now().timestamp_millis()),
        create,
        template: source,
        parameters: Vec::new(),
        capabilities: Vec::new(),
        tags: settings.tags.clone(),
        role_arn: settings.role_arn.clone(),
        notification_arns: settings.notification_arns.clone(),
        description: "ECR repositories managed by samrs (SAM CLI companion stack)".into(),
    };
    let id = cfn::create_change_set(&aws.cfn, &request).await?;
    match cfn::wait_for_change_set(&aws.cfn, name, &id, poller).await? {
        ChangeSetOutcome::Ready(_) => {}
        ChangeSetOutcome::Empty => {
            cfn::delete_change_set(&aws.cfn, name, &id).await?;
            return Ok(());
        }
        ChangeSetOutcome::Failed(reason) => bail!("Failed to create the change set for companion stack {name}: {reason}"),
    }
    let mut cursor = cfn::EventCursor::after_current(&aws.cfn, name).await?;
    cfn::execute_change_set(&aws.cfn, name, &id, false).await?;
    let outcome = cfn::wait_for_stack(&aws.cfn, &mut cursor, poller, |_| {}).await?;
    match outcome.stack {
        Some(stack) if cfn::state::is_success(&stack.status) => Ok(()),
        other => bail!(
            "Companion stack {name} ended in {}{}",
            other.map_or_else(|| "DELETE_COMPLETE".to_string(), |s| s.status),
            super::failure_summary(&outcome.failures)
        ),
    }
}
