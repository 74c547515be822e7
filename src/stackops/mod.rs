//! The stack operations every command shares, over the thin CloudFormation calls: settle a busy
//! stack, run an operation (create, update, execute, delete) and wait for its outcome, apply a
//! template directly, delete a stack, place a template inline or in S3, read a companion stack
//! and delete its repositories. Each takes the options it needs (not a command's settings) and
//! reports through [`Reporter`] events.

mod companion;
mod template;

use std::future::Future;

use anyhow::bail;

use crate::aws::{Aws, AwsError};
use crate::cloudformation::{self as cfn, poll::Poller, EventCursor, Want};
use crate::events::{Event, Reporter, StackRole};
use crate::plan::saved::{template_sha256, StackFingerprint};
use crate::stack_state::{failure_summary, ChangeSetRequest, EventRow, StackOutcome};

pub use template::Placement;

/// A stack operation failed or found nothing to do; the message is already one line.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("No changes to deploy. Stack {0} is up to date")]
    NoChanges(String),
    #[error("Failed to create the changeset for stack {stack}: {reason}")]
    ChangeSetFailed { stack: String, reason: String },
    #[error("Failed to create/update the stack: {stack}, {detail}")]
    StackFailed {
        stack: String,
        detail: String,
        failures: Vec<EventRow>,
    },
    #[error(
        "Companion stack {stack} ended in {status}{}",
        failure_summary(failures)
    )]
    CompanionFailed {
        stack: String,
        status: String,
        failures: Vec<EventRow>,
    },
}

impl DeployError {
    /// The error's `type` in the `--output json` document.
    pub fn kind(&self) -> &'static str {
        match self {
            DeployError::NoChanges(_) => "no_changes",
            DeployError::ChangeSetFailed { .. } => "change_set_failed",
            DeployError::StackFailed { .. } | DeployError::CompanionFailed { .. } => "stack_failed",
        }
    }

    /// The failed resources with CloudFormation's reasons, when a stack operation failed.
    pub fn failures(&self) -> Option<&[EventRow]> {
        match self {
            DeployError::StackFailed { failures, .. }
            | DeployError::CompanionFailed { failures, .. } => Some(failures),
            _ => None,
        }
    }
}

/// Whether an operation's events are shown (the main stack's are, as a table) or only waited on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Events {
    Quiet,
    Shown,
}

/// What every stack operation of one run works with.
#[derive(Clone, Copy)]
pub struct StackOps<'a> {
    pub aws: &'a Aws,
    pub poller: &'a Poller,
    pub report: &'a dyn Reporter,
}

impl StackOps<'_> {
    /// Runs one operation on a stack (`call` starts it) and follows it to its end. `new_stack`:
    /// the stack is being created (absent, or in REVIEW_IN_PROGRESS), so none of its events
    /// predate the operation. `want`: whether the outcome needs the stack read afterwards.
    pub async fn operate(
        &self,
        stack: &str,
        new_stack: bool,
        events: Events,
        want: Want,
        call: impl Future<Output = Result<(), AwsError>>,
    ) -> anyhow::Result<StackOutcome> {
        let mut cursor = self.cursor(stack, new_stack).await?;
        call.await?;
        self.follow(&mut cursor, events, want).await
    }

    /// Executes a change set and follows the stack to the end of the operation.
    pub async fn execute(
        &self,
        stack: &str,
        change_set: &str,
        disable_rollback: Option<bool>,
        new_stack: bool,
        events: Events,
        want: Want,
    ) -> anyhow::Result<StackOutcome> {
        let call = cfn::execute_change_set(&self.aws.cfn, stack, change_set, disable_rollback);
        self.operate(stack, new_stack, events, want, call).await
    }

    /// A cursor past the events an operation about to start must not count.
    async fn cursor(&self, stack: &str, new_stack: bool) -> Result<EventCursor, AwsError> {
        if new_stack {
            Ok(EventCursor::for_new_stack(stack))
        } else {
            EventCursor::after_current(&self.aws.cfn, stack).await
        }
    }

    /// Waits for the operation running on a stack found in `status` to end.
    pub async fn settle(
        &self,
        stack: &str,
        status: &str,
        role: StackRole,
        want: Want,
    ) -> anyhow::Result<StackOutcome> {
        self.report.event(Event::StackBusy {
            stack: stack.to_string(),
            status: status.to_string(),
            role,
        });
        let mut cursor = self.cursor(stack, false).await?;
        self.follow(&mut cursor, Events::Quiet, want).await
    }

    async fn follow(
        &self,
        cursor: &mut EventCursor,
        events: Events,
        want: Want,
    ) -> anyhow::Result<StackOutcome> {
        let cfn = &self.aws.cfn;
        if events == Events::Quiet {
            return Ok(cfn::wait_for_stack(cfn, cursor, self.poller, want, |_| {}).await?);
        }
        self.report.event(Event::StackOperationStarted {
            refresh: self.poller.describe(),
        });
        let outcome = cfn::wait_for_stack(cfn, cursor, self.poller, want, |event| {
            self.report.event(Event::StackEvent(event.clone()));
        })
        .await;
        // Closed whatever the wait's end, so a stopped wait's message is not inside the table.
        self.report.event(Event::StackEventsEnd);
        Ok(outcome?)
    }

    /// Creates or updates a stack samrs alone manages with one call (no change set to review),
    /// and waits; None when CloudFormation found nothing to update.
    pub async fn apply(&self, request: &ChangeSetRequest) -> anyhow::Result<Option<StackOutcome>> {
        let mut cursor = self.cursor(&request.stack_name, request.create).await?;
        if !cfn::apply_directly(&self.aws.cfn, request).await? {
            return Ok(None);
        }
        self.follow(&mut cursor, Events::Quiet, Want::Status)
            .await
            .map(Some)
    }

    /// Starts creating or updating a stack samrs alone manages, without waiting: false when
    /// CloudFormation found nothing to update.
    pub async fn start_apply(&self, request: &ChangeSetRequest) -> anyhow::Result<bool> {
        Ok(cfn::apply_directly(&self.aws.cfn, request).await?)
    }

    /// Starts deleting a stack, without waiting.
    pub async fn start_delete(&self, stack: &str) -> anyhow::Result<()> {
        Ok(cfn::delete_stack(&self.aws.cfn, stack, &[], false).await?)
    }

    /// Deletes a stack (keeping the resources in `retain`) and waits: the failure events when it
    /// ended in DELETE_FAILED, none when it is gone.
    pub async fn delete(
        &self,
        stack: &str,
        retain: &[String],
        express: bool,
    ) -> anyhow::Result<Vec<EventRow>> {
        let call = cfn::delete_stack(&self.aws.cfn, stack, retain, express);
        let outcome = self
            .operate(stack, false, Events::Quiet, Want::Status, call)
            .await?;
        match outcome.status.as_deref() {
            None => Ok(Vec::new()),
            Some("DELETE_FAILED") => Ok(outcome.failures),
            Some(status) => bail!(
                "Deleting stack {stack} ended in {status}{}",
                failure_summary(&outcome.failures)
            ),
        }
    }

    /// Deletes a stack and waits until it is gone; a deletion that failed is an error naming
    /// what blocked it.
    pub async fn delete_and_wait(&self, stack: &str) -> anyhow::Result<()> {
        let failures = self.delete(stack, &[], false).await?;
        if failures.is_empty() {
            return Ok(());
        }
        bail!(
            "Deleting stack {stack} ended in DELETE_FAILED{}",
            failure_summary(&failures)
        )
    }

    /// What changes when anything happens to a stack (None: it does not exist): its id, status,
    /// last update and deployed template (a stack in REVIEW_IN_PROGRESS has none).
    pub async fn fingerprint(&self, name: &str) -> anyhow::Result<Option<StackFingerprint>> {
        let Some(stack) = cfn::describe_stack(&self.aws.cfn, name).await? else {
            return Ok(None);
        };
        let template_sha256 = if stack.status == "REVIEW_IN_PROGRESS" {
            None
        } else {
            let template = cfn::original_template(&self.aws.cfn, name).await?;
            Some(template_sha256(&template))
        };
        Ok(Some(StackFingerprint {
            stack_id: stack.stack_id,
            status: stack.status,
            last_updated: stack.last_updated,
            template_sha256,
        }))
    }
}
