//! The main stack's steps of a deploy: the change set (the stack brought into a state one can be
//! made on, the no-op shortcut, the change set made and shown), then what the plan says follows
//! it (executed and followed to the end, kept, removed, or asked about), and what follows a
//! failure (`--on-failure`).

use anyhow::bail;

use super::change_set::{self, Made};
use super::execute::{Executor, Flow};
use super::Finish;
use crate::cloudformation as cfn;
use crate::events::{self, Action, Event, Fact, Phase, Question, StackRole};
use crate::plan::{changes, checks, saved, shortcut, AfterChangeSet};
use crate::stack_state::{
    self, failure_summary, ChangeSetRequest, EventRow, StackAction, StackInfo,
};
use crate::stackops::{DeployError, Events, Placement, StackOps};
use crate::template;

/// The change set step: made, waited for and shown (or none, when nothing would change or a
/// dry run found a stack a deploy would recreate).
pub(super) async fn change_set(executor: &Executor<'_>) -> anyhow::Result<Flow> {
    let report = executor.ops.report;
    let made = events::phase(report, Phase::ChangeSet, make(executor)).await?;
    match made {
        None => Ok(Flow::Stop(Finish::Stopped)),
        Some(Made::Empty) => nothing_to_deploy(executor),
        Some(Made::Ready(mut ready)) => {
            ready.changes = super::review::complete(executor, &ready).await?;
            report.record(Fact::Changes(ready.changes.clone()));
            report.event(Event::ChangeSetReady(ready.id.clone()));
            executor.set_change_set(ready);
            Ok(Flow::Next)
        }
    }
}

/// Brings the stack into a state a change set can be made on, then makes it.
async fn make(executor: &Executor<'_>) -> anyhow::Result<Option<Made>> {
    let (ops, settings) = (executor.ops, executor.settings);
    let stack_name = settings.stack_name.as_str();
    let existing = match ready_stack(executor).await? {
        Ready::Stack(existing) => existing,
        Ready::WouldRecreate(status) => {
            ops.report.event(Event::RecreatePreview {
                stack: stack_name.to_string(),
                status,
            });
            return Ok(None);
        }
    };
    let create = existing
        .as_ref()
        .is_none_or(|s| s.status == "REVIEW_IN_PROGRESS");
    let template = &executor.prepared()?.original;
    let packaged = executor.packaged()?;
    let parameters =
        checks::parameter_values(template, settings, existing.as_ref().filter(|_| !create));
    // --use-json: the template CloudFormation (and S3) receives is JSON, as
    // `sam package --use-json` writes it; nested templates stay YAML, as in sam.
    let body = if settings.use_json {
        template::to_json(&packaged.template)
    } else {
        template::to_yaml(&packaged.template)
    };
    if let Some(stack) = existing.as_ref().filter(|_| !create) {
        // The same template, parameters and stack settings cannot change anything, unless
        // CloudFormation reads something outside the text: say so without a change set.
        let outside = shortcut::outside_inputs(
            &packaged.template,
            &packaged.nested,
            &parameters,
            &stack.status,
        );
        if outside.is_empty() {
            let deployed = cfn::original_template(&ops.aws.cfn, stack_name).await?;
            if shortcut::is_unchanged(&deployed, &body, &parameters, stack, settings) {
                return Ok(Some(Made::Empty));
            }
        } else {
            let reasons: Vec<String> = outside.iter().map(ToString::to_string).collect();
            crate::debug::log(&format!(
                "No-op check left to CloudFormation: {}",
                reasons.join("; ")
            ));
        }
    }
    let source = ops
        .place_template(
            body.clone(),
            executor.destination().as_ref(),
            Placement::S3WhenBucket,
        )
        .await?;
    // CloudFormation reads a nested stack's template to make its change set; a dry run uploaded
    // none of those samrs packaged.
    let nested_unread = executor.plan.preview && !packaged.nested.is_empty();
    if nested_unread {
        ops.report.event(Event::Warning(
            "Dry run: the changes inside nested stacks are not listed (their templates are not uploaded); --no-execute-changeset lists them".into(),
        ));
    }
    let request = ChangeSetRequest {
        stack_name: stack_name.to_string(),
        change_set_name: format!("samrs-deploy{}", chrono::Utc::now().timestamp()),
        create,
        template: source,
        parameters,
        capabilities: settings.capabilities.clone(),
        tags: settings.tags.clone(),
        role_arn: settings.role_arn.clone(),
        notification_arns: settings.notification_arns.clone(),
        description: format!(
            "Created by samrs at {} UTC",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f")
        ),
        express: executor.plan.main.failure.express,
        include_nested_stacks: changes::has_nested_stacks(&packaged.template) && !nested_unread,
    };
    ops.report.event(Event::ChangeSetWaiting);
    let preview = executor.plan.main.then == AfterChangeSet::Remove;
    let made = change_set::make(&ops, &request, existing.is_none(), preview).await?;
    Ok(Some(match made {
        Made::Ready(ready) => Made::Ready(change_set::Ready {
            template_sha256: saved::template_sha256(&body),
            ..ready
        }),
        Made::Empty => Made::Empty,
    }))
}

/// What follows the change set, as planned; executed, the stack is followed to the end of the
/// operation.
pub(super) async fn execute(executor: &Executor<'_>) -> anyhow::Result<Flow> {
    let report = executor.ops.report;
    let Some(ready) = executor.take_change_set() else {
        bail!("the deploy plan executes a change set it did not make");
    };
    match executor.plan.main.then {
        AfterChangeSet::Save => {
            super::saved::write(executor, &ready).await?;
            return Ok(Flow::Stop(Finish::Stopped));
        }
        AfterChangeSet::Remove => {
            report.event(Event::DryRunFinished);
            return Ok(Flow::Stop(Finish::Stopped));
        }
        AfterChangeSet::Keep => return Ok(Flow::Stop(Finish::Stopped)),
        AfterChangeSet::Confirm if !report.ask(Question::ConfirmChangeSet)? => {
            report.record(Fact::Declined);
            return Ok(Flow::Stop(Finish::Stopped));
        }
        AfterChangeSet::Confirm | AfterChangeSet::Execute => {}
    }
    events::phase(report, Phase::Execute, run_change_set(executor, &ready)).await?;
    Ok(Flow::Next)
}

async fn run_change_set(executor: &Executor<'_>, ready: &change_set::Ready) -> anyhow::Result<()> {
    let (ops, settings) = (executor.ops, executor.settings);
    let stack_name = settings.stack_name.as_str();
    let failure = &executor.plan.main.failure;
    let call = async {
        cfn::execute_change_set(
            &ops.aws.cfn,
            stack_name,
            &ready.id,
            failure.execute_disable_rollback,
        )
        .await?;
        ops.report.record(Fact::ChangeSet {
            id: ready.id.clone(),
            stack: stack_name.to_string(),
            action: Action::Executed,
        });
        Ok(())
    };
    let outcome = ops
        .operate(
            stack_name,
            ready.create,
            Events::Shown,
            cfn::Want::Stack,
            call,
        )
        .await?;
    if let Some(stack) = &outcome.stack {
        ops.report.record(Fact::Deployed {
            status: stack.status.clone(),
            outputs: stack.outputs.clone(),
        });
    }
    let deleted = after_failure(executor, ready.create, outcome.stack.as_ref()).await?;
    let stack = finished_stack(stack_name, outcome.stack, outcome.failures, deleted)?;
    ops.report.record(Fact::Stack {
        name: stack_name.to_string(),
        role: StackRole::Main,
        action: if ready.create {
            Action::Created
        } else {
            Action::Updated
        },
        status: Some(stack.status.clone()),
    });
    ops.report.event(Event::Outputs(stack.outputs.clone()));
    ops.report.event(Event::StackDeployed {
        stack: stack_name.to_string(),
        region: ops.aws.region.clone(),
        express: settings.express,
    });
    Ok(())
}

/// What follows a failed operation of the main stack (sam's words for each): `--on-failure
/// DELETE` deletes a stack that failed to create; an update under it only rolled back; a failure
/// that kept its resources says how to roll back. True when the stack was deleted.
async fn after_failure(
    executor: &Executor<'_>,
    create: bool,
    stack: Option<&StackInfo>,
) -> anyhow::Result<bool> {
    let ops = executor.ops;
    let plan = &executor.plan.main.failure;
    let stack_name = executor.settings.stack_name.as_str();
    let failed = stack.is_none_or(|s| !stack_state::is_success(&s.status));
    if !failed {
        return Ok(false);
    }
    if plan.delete_failed_create
        && create
        && stack.is_some_and(|s| stack_state::is_failed_create(&s.status))
    {
        ops.report
            .event(Event::DeletingFailedStack(stack_name.to_string()));
        delete_main_stack(&ops, stack_name).await?;
        ops.report
            .event(Event::FailedStackDeleted(stack_name.to_string()));
        return Ok(true);
    }
    if plan.delete_failed_create && !create {
        // An update is rolled back, not deleted: the stack existed before.
        ops.report.event(Event::RolledBack(stack_name.to_string()));
    } else if plan.keeps_resources() {
        ops.report
            .event(Event::RollbackDisabled(stack_name.to_string()));
    }
    Ok(false)
}

/// sam's answer to an empty change set: an error unless `--no-fail-on-empty-changeset`.
fn nothing_to_deploy(executor: &Executor<'_>) -> anyhow::Result<Flow> {
    let stack_name = &executor.settings.stack_name;
    if let Some(file) = executor.settings.plan_out.as_deref() {
        executor.ops.report.event(Event::Warning(format!(
            "No plan was written to {}: there is nothing to apply",
            file.display()
        )));
    }
    if executor.plan.main.fail_on_empty {
        return Err(DeployError::NoChanges(stack_name.clone()).into());
    }
    executor
        .ops
        .report
        .event(Event::NothingToDeploy(stack_name.clone()));
    Ok(Flow::Stop(Finish::NothingToDeploy))
}

/// The stack a change set is made on.
enum Ready {
    /// The stack to update, None to create one.
    Stack(Option<StackInfo>),
    /// A dry run found a stack that a deploy would delete and create again (it changes nothing).
    WouldRecreate(String),
}

/// Waits out running operations and clears a never-created stack (a dry run only says it would).
async fn ready_stack(executor: &Executor<'_>) -> anyhow::Result<Ready> {
    let ops = executor.ops;
    let stack_name = executor.settings.stack_name.as_str();
    loop {
        let stack = cfn::describe_stack(&ops.aws.cfn, stack_name).await?;
        let status = stack.as_ref().map(|s| s.status.clone());
        match stack_state::stack_action(stack_name, status.as_deref()) {
            StackAction::Create => return Ok(Ready::Stack(None)),
            StackAction::CreateInReview | StackAction::Update => return Ok(Ready::Stack(stack)),
            StackAction::Wait => {
                ops.settle(
                    stack_name,
                    &status.unwrap_or_default(),
                    StackRole::Main,
                    cfn::Want::Status,
                )
                .await?;
            }
            StackAction::DeleteThenCreate if executor.plan.preview => {
                return Ok(Ready::WouldRecreate(status.unwrap_or_default()))
            }
            StackAction::DeleteThenCreate if executor.plan.saves() => {
                let status = status.unwrap_or_default();
                bail!("Stack {stack_name} is in {status}: it must be deleted and created again, which a plan does not do; run `samrs deploy` once (it does), then make the plan")
            }
            StackAction::DeleteThenCreate => {
                ops.report.event(Event::StackRecreating {
                    stack: stack_name.to_string(),
                    status,
                    role: StackRole::Main,
                });
                delete_main_stack(&ops, stack_name).await?;
            }
            StackAction::Blocked { fix } => {
                let status = status.unwrap_or_default();
                bail!("Stack {stack_name} is in {status}: {fix}, then deploy again")
            }
        }
    }
}

/// Deletes the main stack, waits until it is gone, and records it.
pub(super) async fn delete_main_stack(ops: &StackOps<'_>, stack_name: &str) -> anyhow::Result<()> {
    ops.delete_and_wait(stack_name).await?;
    ops.report.record(Fact::Stack {
        name: stack_name.to_string(),
        role: StackRole::Main,
        action: Action::Deleted,
        status: Some("DELETE_COMPLETE".into()),
    });
    Ok(())
}

/// The stack of a successful operation, else the one-line failure (`deleted`: `--on-failure
/// DELETE` removed the stack afterwards).
fn finished_stack(
    stack_name: &str,
    stack: Option<StackInfo>,
    failures: Vec<EventRow>,
    deleted: bool,
) -> Result<StackInfo, DeployError> {
    match stack {
        Some(stack) if stack_state::is_success(&stack.status) => Ok(stack),
        other => {
            let status = other.map_or_else(|| "DELETE_COMPLETE".to_string(), |s| s.status);
            let mut detail = format!("it ended in {status}{}", failure_summary(&failures));
            if deleted {
                detail.push_str(", and was deleted (--on-failure DELETE)");
            } else if stack_state::is_failed_create(&status) {
                detail.push_str(" (fix the template and deploy again: samrs deletes and recreates a stack that was never created)");
            }
            Err(DeployError::StackFailed {
                stack: stack_name.to_string(),
                detail,
                failures,
            })
        }
    }
}
