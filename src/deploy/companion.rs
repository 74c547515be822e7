//! The companion stack's part of a deploy, in the rollback-safe order: before the main stack,
//! add new repositories and keep retired ones ([`apply_phase1`]); after the main stack
//! succeeded, remove what is no longer referenced or delete the stack ([`apply_phase2`]).
//!
//! What to do is decided by the pure [`crate::companion::plan`]; this file only reads the
//! deployed state and applies templates.

use anyhow::Context;

use crate::aws::{Aws, AwsResultExt};
use crate::cloudformation::{self as cfn, poll::Poller};
use crate::companion::{
    self, CompanionAction, CompanionPlan, DeployedResource, PlanInput, RepoAction, RepoSettings,
};
use crate::events::{Action, Event, Fact, Reporter, StackRole};
use crate::s3::{self, Destination};
use crate::settings::DeploySettings;
use crate::stack_state::{ChangeSetRequest, TemplateSource};
use crate::template::ImageFunction;

/// The companion stack as it is now: its status (None: absent) and its resources.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub status: Option<String>,
    pub resources: Vec<DeployedResource>,
}

/// Reads the companion stack and, when its repositories can be kept (a stable or busy stack),
/// its resources.
pub async fn observe(aws: &Aws, companion_name: &str) -> anyhow::Result<Observed> {
    let Some(stack) = cfn::describe_stack(&aws.cfn, companion_name).await? else {
        return Ok(Observed::default());
    };
    let keeps_resources = matches!(
        crate::stack_state::stack_action(companion_name, Some(&stack.status)),
        crate::stack_state::StackAction::Update | crate::stack_state::StackAction::Wait
    );
    if !keeps_resources {
        return Ok(Observed {
            status: Some(stack.status),
            resources: Vec::new(),
        });
    }
    let resources = cfn::list_stack_resources(&aws.cfn, companion_name)
        .await?
        .into_iter()
        .filter(|r| !r.status.starts_with("DELETE_COMPLETE"))
        .map(|r| DeployedResource {
            logical_id: r.logical_id,
            physical_id: r.physical_id,
            resource_type: r.resource_type,
        })
        .collect();
    Ok(Observed {
        status: Some(stack.status),
        resources,
    })
}

/// The account id, which managed repository URIs contain.
pub async fn account_id(aws: &Aws) -> anyhow::Result<String> {
    let identity = aws
        .sts
        .get_caller_identity()
        .send()
        .await
        .aws("STS GetCallerIdentity")?;
    identity
        .account()
        .map(str::to_string)
        .context("STS GetCallerIdentity returned no account id")
}

/// The plan for this deploy from what was observed.
pub fn make_plan(
    settings: &DeploySettings,
    functions: &[ImageFunction],
    account: &str,
    region: &str,
    observed: &Observed,
    repo_settings: &RepoSettings,
) -> anyhow::Result<CompanionPlan> {
    let paths: Vec<String> = functions.iter().map(|f| f.full_path.clone()).collect();
    let plan = companion::plan(&PlanInput {
        stack_name: &settings.stack_name,
        functions: &paths,
        image_repositories: &settings.image_repositories,
        resolve_image_repos: settings.resolve_image_repos,
        account,
        region,
        companion_status: observed.status.as_deref(),
        deployed: &observed.resources,
        settings: repo_settings,
        tags: &settings.tags,
        version: env!("CARGO_PKG_VERSION"),
    })?;
    Ok(plan)
}

/// Phase 1: the companion stack gets every repository the functions need and keeps the retired
/// ones. Returns the plan in force afterwards (re-planned if the stack had to be waited for).
pub async fn apply_phase1(
    aws: &Aws,
    mut plan: CompanionPlan,
    replan: impl Fn(&Observed) -> anyhow::Result<CompanionPlan>,
    settings: &DeploySettings,
    dest: Option<&Destination>,
    poller: &Poller,
    report: &dyn Reporter,
) -> anyhow::Result<CompanionPlan> {
    let name = plan.companion_stack_name.clone();
    for repo in plan.repos.iter().filter(|r| r.repository_name_adjusted) {
        report.event(Event::RepositoryNameAdjusted {
            function: repo.function.clone(),
            repository: repo.repository_name.clone(),
        });
    }
    loop {
        let Some(action) = plan.phase1 else {
            return Ok(plan);
        };
        let Some(template) = companion::phase1_template(&plan) else {
            return Ok(plan);
        };
        match action {
            CompanionAction::Wait => {
                report.event(Event::StackBusy {
                    stack: name.clone(),
                    status: plan.companion_status.clone().unwrap_or_default(),
                    role: StackRole::Companion,
                });
                let mut cursor = cfn::EventCursor::after_current(&aws.cfn, &name).await?;
                cfn::wait_for_stack(&aws.cfn, &mut cursor, poller, |_| {}).await?;
                plan = replan(&observe(aws, &name).await?)?;
            }
            CompanionAction::Recreate => {
                report.event(Event::StackRecreating {
                    stack: name.clone(),
                    status: plan.companion_status.clone(),
                    role: StackRole::Companion,
                });
                super::delete_and_wait(aws, &name, poller).await?;
                record_stack(report, &name, Action::Deleted);
                plan = replan(&Observed::default())?;
            }
            CompanionAction::Update => {
                if cfn::original_template(&aws.cfn, &name).await? == template {
                    report.event(Event::CompanionUpToDate(name.clone()));
                } else {
                    report.event(Event::CompanionUpdating(name.clone()));
                    run_template(aws, &name, &template, false, settings, dest, poller).await?;
                    record_stack(report, &name, Action::Updated);
                    record_new_repositories(report, &plan);
                }
                return Ok(plan);
            }
            CompanionAction::Create => {
                report.event(Event::CompanionCreating(name.clone()));
                run_template(aws, &name, &template, true, settings, dest, poller).await?;
                record_stack(report, &name, Action::Created);
                record_new_repositories(report, &plan);
                return Ok(plan);
            }
        }
    }
}

fn record_stack(report: &dyn Reporter, name: &str, action: Action) {
    report.record(Fact::Stack {
        name: name.to_string(),
        role: StackRole::Companion,
        action,
        status: None,
    });
}

fn record_new_repositories(report: &dyn Reporter, plan: &CompanionPlan) {
    for repo in plan.repos.iter().filter(|r| r.action == RepoAction::Create) {
        report.record(Fact::Repository {
            name: repo.repository_name.clone(),
            action: Action::Created,
        });
    }
}

/// Phase 2, after the main stack succeeded: retired repositories go (EmptyOnDelete empties
/// them), or the whole companion stack when no managed repository is left.
pub async fn apply_phase2(
    aws: &Aws,
    plan: &CompanionPlan,
    settings: &DeploySettings,
    dest: Option<&Destination>,
    poller: &Poller,
    report: &dyn Reporter,
) -> anyhow::Result<()> {
    let name = plan.companion_stack_name.as_str();
    match plan.phase2 {
        companion::Cleanup::Nothing => Ok(()),
        companion::Cleanup::Update => {
            for repo in &plan.retire {
                report.event(Event::RetiringRepository(repo.repository_name.clone()));
            }
            let template = companion::phase2_template(plan)
                .context("the companion plan has repositories to keep but rendered none")?;
            run_template(aws, name, &template, false, settings, dest, poller).await?;
            record_stack(report, name, Action::Updated);
            for repo in &plan.retire {
                report.record(Fact::Repository {
                    name: repo.repository_name.clone(),
                    action: Action::Deleted,
                });
            }
            Ok(())
        }
        companion::Cleanup::DeleteStack => {
            report.event(Event::CompanionRetiring(name.to_string()));
            // Stacks made by sam have no EmptyOnDelete: empty their repositories first.
            force_delete_repositories(aws, name, report).await?;
            super::delete_and_wait(aws, name, poller).await?;
            record_stack(report, name, Action::Deleted);
            Ok(())
        }
    }
}

/// Deletes every repository of a companion stack with its images, through ECR.
pub async fn force_delete_repositories(
    aws: &Aws,
    companion_name: &str,
    report: &dyn Reporter,
) -> anyhow::Result<()> {
    let resources = cfn::list_stack_resources(&aws.cfn, companion_name).await?;
    for repo in resources
        .iter()
        .filter(|r| r.resource_type == "AWS::ECR::Repository" && !r.physical_id.is_empty())
    {
        delete_repository(aws, &repo.physical_id, report).await?;
    }
    Ok(())
}

/// Deletes a repository with its images, saying so.
pub async fn delete_repository(aws: &Aws, name: &str, report: &dyn Reporter) -> anyhow::Result<()> {
    report.event(Event::DeletingRepository(name.to_string()));
    crate::ecr::force_delete_repository(&aws.ecr, name).await?;
    report.record(Fact::Repository {
        name: name.to_string(),
        action: Action::Deleted,
    });
    Ok(())
}

/// One create or update of the companion stack, waited for.
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
        let key = crate::artifacts::s3_key(
            dest.prefix.as_deref(),
            &companion::md5_hex(template),
            Some("template"),
        );
        s3::upload_with_dedup(&aws.s3, dest, &key, template.as_bytes().to_vec()).await?;
        TemplateSource::Url(crate::artifacts::path_style_url(
            &aws.s3_url_base,
            &dest.bucket,
            &key,
            None,
        ))
    };
    let request = ChangeSetRequest {
        stack_name: name.to_string(),
        change_set_name: String::new(),
        create,
        template: source,
        parameters: Vec::new(),
        capabilities: Vec::new(),
        tags: settings.tags.clone(),
        // sam ignores these for the companion stack (sam #5051); samrs passes them on.
        role_arn: settings.role_arn.clone(),
        notification_arns: settings.notification_arns.clone(),
        description: "ECR repositories managed by samrs (SAM CLI companion stack)".into(),
        // Repositories must exist before images are pushed to them, and a failure rolls back
        // whatever --express or --on-failure say for the main stack.
        express: None,
    };
    // The companion stack is samrs's alone: no change set to review, so one call applies it.
    let mut cursor = if create {
        cfn::EventCursor::for_new_stack(name)
    } else {
        cfn::EventCursor::after_current(&aws.cfn, name).await?
    };
    if !cfn::apply_directly(&aws.cfn, &request).await? {
        return Ok(());
    }
    let outcome = cfn::wait_for_stack(&aws.cfn, &mut cursor, poller, |_| {}).await?;
    match outcome.stack {
        Some(stack) if crate::stack_state::is_success(&stack.status) => Ok(()),
        other => Err(super::DeployError::CompanionFailed {
            stack: name.to_string(),
            status: other.map_or_else(|| "DELETE_COMPLETE".to_string(), |s| s.status),
            failures: outcome.failures,
        }
        .into()),
    }
}
