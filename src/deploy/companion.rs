//! The companion stack's steps of a deploy, in the rollback-safe order: before the main stack,
//! add new repositories and keep retired ones ([`phase1`]); after the main stack succeeded,
//! remove what is no longer referenced or delete the stack ([`phase2`]).
//!
//! What to do is the plan's ([`crate::plan::CompanionStep`]); a busy stack is waited for and a
//! never-created one cleared, then the plan is made again from what is found.

use anyhow::{bail, Context};

use super::execute::{Executor, Source};
use crate::cloudformation::Want;
use crate::companion::{self, CompanionAction, CompanionPlan, RepoAction};
use crate::events::{Action, Event, Fact, Reporter, StackRole};
use crate::plan::{self, CompanionStep};
use crate::stack_state::{self, ChangeSetRequest, StackOutcome};
use crate::stackops::{DeployError, Placement};

/// Phase 1: the companion stack gets every repository the functions need and keeps the retired
/// ones. The plan in force afterwards (made again if the stack had to be waited for) replaces
/// the executor's, with the pushes its mapping gives.
pub(super) async fn phase1(executor: &Executor<'_>) -> anyhow::Result<()> {
    let Some(mut step) = executor.plan.companion.clone() else {
        return Ok(());
    };
    let report = executor.ops.report;
    // `--plan-out` saves the plan of the stack at rest, whose fingerprint the apply compares.
    if executor.plan.saves() {
        let planned_mapping = step.plan.mapping.clone();
        while step.plan.phase1 == Some(CompanionAction::Wait) {
            step = settle(executor, &step).await?;
        }
        adopt(executor, step.clone(), &planned_mapping)?;
    }
    report.record(Fact::CompanionPlan(serde_json::to_value(&step.plan)?));
    // A dry run shows the plan; `--plan-out` saves it for the apply.
    if executor.plan.preview || executor.plan.saves() {
        report.event(Event::CompanionPreview(Box::new(step.plan)));
        return Ok(());
    }
    for repo in step
        .plan
        .repos
        .iter()
        .filter(|r| r.repository_name_adjusted)
    {
        report.event(Event::RepositoryNameAdjusted {
            function: repo.function.clone(),
            repository: repo.repository_name.clone(),
        });
    }
    let planned_mapping = step.plan.mapping.clone();
    let step = apply_phase1(executor, step).await?;
    adopt(executor, step, &planned_mapping)
}

/// The companion plan in force from now on, with the pushes its mapping gives.
fn adopt(
    executor: &Executor<'_>,
    step: CompanionStep,
    planned_mapping: &indexmap::IndexMap<String, String>,
) -> anyhow::Result<()> {
    let images = match executor.source {
        Source::Template(prepared) => Some(plan::images::pushes(
            &prepared.functions,
            &step.plan.mapping,
            executor.settings.image_repository.as_deref(),
        )?),
        // A saved plan's change set names its repositories: they cannot change.
        Source::Saved { .. } if step.plan.mapping != *planned_mapping => bail!(
            "the companion stack {} was made again with other repositories than the plan's; make a new plan with `samrs deploy --plan-out FILE`",
            step.plan.companion_stack_name
        ),
        Source::Saved { .. } => None,
    };
    executor.set_companion_step(step, images);
    Ok(())
}

async fn apply_phase1(
    executor: &Executor<'_>,
    mut step: CompanionStep,
) -> anyhow::Result<CompanionStep> {
    let ops = executor.ops;
    let name = step.plan.companion_stack_name.clone();
    loop {
        let (Some(action), Some(template)) = (step.plan.phase1, step.phase1_template.clone())
        else {
            return Ok(step);
        };
        match action {
            CompanionAction::Wait => step = settle(executor, &step).await?,
            CompanionAction::Recreate => {
                ops.report.event(Event::StackRecreating {
                    stack: name.clone(),
                    status: step.plan.companion_status.clone(),
                    role: StackRole::Companion,
                });
                ops.delete_and_wait(&name).await?;
                record_stack(ops.report, &name, Action::Deleted);
                step = replan(executor, &step, &companion::Observed::default())?;
            }
            CompanionAction::Update => {
                let deployed =
                    crate::cloudformation::original_template(&ops.aws.cfn, &name).await?;
                if deployed == template {
                    ops.report.event(Event::CompanionUpToDate(name.clone()));
                } else {
                    ops.report.event(Event::CompanionUpdating(name.clone()));
                    apply(executor, &name, template, false).await?;
                    record_stack(ops.report, &name, Action::Updated);
                    record_new_repositories(ops.report, &step.plan);
                }
                return Ok(step);
            }
            CompanionAction::Create => {
                ops.report.event(Event::CompanionCreating(name.clone()));
                apply(executor, &name, template, true).await?;
                record_stack(ops.report, &name, Action::Created);
                record_new_repositories(ops.report, &step.plan);
                return Ok(step);
            }
        }
    }
}

/// Waits out the operation running on the companion stack, then plans again.
async fn settle(executor: &Executor<'_>, step: &CompanionStep) -> anyhow::Result<CompanionStep> {
    let ops = executor.ops;
    let name = &step.plan.companion_stack_name;
    let status = step.plan.companion_status.clone().unwrap_or_default();
    ops.settle(name, &status, StackRole::Companion, Want::Status)
        .await?;
    replan(executor, step, &ops.observe_companion(name).await?)
}

/// The plan again, from the companion stack as found now.
fn replan(
    executor: &Executor<'_>,
    step: &CompanionStep,
    observed: &companion::Observed,
) -> anyhow::Result<CompanionStep> {
    let plan = plan::companion_plan(
        executor.settings,
        &executor.function_paths(),
        &step.account,
        &executor.plan.region,
        observed,
    )?;
    Ok(CompanionStep::new(step.account.clone(), plan))
}

/// Phase 2, after the main stack succeeded: retired repositories go (EmptyOnDelete empties
/// them), or the whole companion stack when no managed repository is left. The deploy is done
/// by then, so the operation is started and left running in CloudFormation (the next deploy or
/// delete checks how it ended); `--wait-for-cleanup` waits for it.
pub(super) async fn phase2(executor: &Executor<'_>) -> anyhow::Result<()> {
    let Some(step) = executor.companion_step() else {
        return Ok(());
    };
    let ops = executor.ops;
    let wait = executor.settings.wait_for_cleanup;
    let plan = &step.plan;
    let name = plan.companion_stack_name.as_str();
    match plan.phase2 {
        companion::Cleanup::Nothing => Ok(()),
        companion::Cleanup::Update => {
            for repo in &plan.retire {
                ops.report
                    .event(Event::RetiringRepository(repo.repository_name.clone()));
            }
            let template = step
                .phase2_template
                .clone()
                .context("the companion plan has repositories to keep but rendered none")?;
            let request = request(executor, name, template, false).await?;
            if !wait {
                if ops.start_apply(&request).await? {
                    cleanup_started(ops.report, name, false, "UPDATE_IN_PROGRESS");
                }
                return Ok(());
            }
            if let Some(outcome) = ops.apply(&request).await? {
                check_applied(name, outcome)?;
            }
            record_stack(ops.report, name, Action::Updated);
            for repo in &plan.retire {
                ops.report.record(Fact::Repository {
                    name: repo.repository_name.clone(),
                    action: Action::Deleted,
                });
            }
            record_cleanup(ops.report, true, "UPDATE_COMPLETE");
            Ok(())
        }
        companion::Cleanup::DeleteStack => {
            ops.report.event(Event::CompanionRetiring(name.to_string()));
            // Stacks made by sam have no EmptyOnDelete: empty their repositories first.
            ops.delete_companion_repositories(name).await?;
            if !wait {
                ops.start_delete(name).await?;
                cleanup_started(ops.report, name, true, "DELETE_IN_PROGRESS");
                return Ok(());
            }
            ops.delete_and_wait(name).await?;
            record_stack(ops.report, name, Action::Deleted);
            record_cleanup(ops.report, true, "DELETE_COMPLETE");
            Ok(())
        }
    }
}

/// Says the clean-up runs on in CloudFormation, and records it.
fn cleanup_started(report: &dyn Reporter, name: &str, deleting: bool, status: &str) {
    report.event(Event::CleanupStarted {
        stack: name.to_string(),
        deleting,
    });
    report.record(Fact::Stack {
        name: name.to_string(),
        role: StackRole::Companion,
        action: if deleting {
            Action::Deleted
        } else {
            Action::Updated
        },
        status: Some(status.to_string()),
    });
    record_cleanup(report, false, status);
}

fn record_cleanup(report: &dyn Reporter, waited: bool, status: &str) {
    report.record(Fact::Cleanup {
        waited,
        status: status.to_string(),
    });
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

/// One create or update of the companion stack, waited for.
async fn apply(
    executor: &Executor<'_>,
    name: &str,
    template: String,
    create: bool,
) -> anyhow::Result<()> {
    let request = request(executor, name, template, create).await?;
    // The companion stack is samrs's alone: no change set to review, so one call applies it.
    match executor.ops.apply(&request).await? {
        Some(outcome) => check_applied(name, outcome),
        None => Ok(()),
    }
}

/// A companion operation's outcome: an error unless it succeeded.
fn check_applied(name: &str, outcome: StackOutcome) -> anyhow::Result<()> {
    match outcome.status {
        Some(status) if stack_state::is_success(&status) => Ok(()),
        other => Err(DeployError::CompanionFailed {
            stack: name.to_string(),
            status: other.unwrap_or_else(|| "DELETE_COMPLETE".to_string()),
            failures: outcome.failures,
        }
        .into()),
    }
}

/// The request that creates or updates the companion stack with `template`.
async fn request(
    executor: &Executor<'_>,
    name: &str,
    template: String,
    create: bool,
) -> anyhow::Result<ChangeSetRequest> {
    let (ops, settings) = (executor.ops, executor.settings);
    let source = ops
        .place_template(
            template,
            executor.destination().as_ref(),
            Placement::InlineWhenFits,
        )
        .await?;
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
        include_nested_stacks: false,
    };
    Ok(request)
}
