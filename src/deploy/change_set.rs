//! The main stack's change set: created, waited for, and removed again when it is of no use,
//! with the empty stack CloudFormation made for it when the stack is new.
//!
//! A dry run removes what it made on every path: a change set CloudFormation failed, an AWS call
//! that failed for good, Ctrl-C (the first one lets the removal finish, see
//! [`crate::interrupt::Deferral`]). A real deploy removes a failed change set too, and the empty
//! `REVIEW_IN_PROGRESS` stack it made (sam leaves both; they hold nothing and a rerun would only
//! reuse or refuse them).

use anyhow::Context;
use serde_json::Value;

use super::main_stack::delete_main_stack;
use crate::cloudformation as cfn;
use crate::cloudformation::ChangeSetOutcome;
use crate::events::{Action, Event, Fact};
use crate::interrupt::{Deferral, Interrupted};
use crate::plan::changes::{self, ResourceChange};
use crate::stack_state::ChangeSetRequest;
use crate::stackops::{DeployError, StackOps};
use crate::template;

/// A change set that can be shown and executed, or none because nothing would change.
#[derive(Debug, Clone, PartialEq)]
pub enum Made {
    Ready(Ready),
    Empty,
}

/// A change set ready to be executed.
#[derive(Debug, Clone, PartialEq)]
pub struct Ready {
    pub id: String,
    /// As CloudFormation describes them, nested stacks' changes under them.
    pub changes: Vec<ResourceChange>,
    /// The change set's processed template, read when CloudFormation gave no property values
    /// for a modification (they are then computed from it).
    pub new_template: Option<Value>,
    /// A CREATE change set (the stack is new or was never created).
    pub create: bool,
    /// SHA-256 (hex) of the template it was made with, as sent.
    pub template_sha256: String,
}

/// Creates the change set of `request` and waits for it; `new_stack` says the stack did not exist
/// before, so CloudFormation makes it (in `REVIEW_IN_PROGRESS`) for this change set alone. A
/// preview's change set is removed once read.
pub async fn make(
    ops: &StackOps<'_>,
    request: &ChangeSetRequest,
    new_stack: bool,
    preview: bool,
) -> anyhow::Result<Made> {
    let leftover = Leftover {
        ops,
        stack: &request.stack_name,
        change_set: &request.change_set_name,
        new_stack,
    };
    let deferral = preview.then(|| {
        Deferral::new(
            "removing what the dry run created",
            &format!(
                "the dry run stopped before it removed {}; {}",
                leftover.describe(),
                leftover.fix()
            ),
        )
    });
    let mut id = None;
    let outcome = create_and_wait(ops, request, deferral.as_ref(), &mut id).await;
    let reached = outcome
        .as_ref()
        .ok()
        .and_then(Option::as_ref)
        .map(|(_, o, _)| o);
    let usable = matches!(
        reached,
        Some(ChangeSetOutcome::Ready(_) | ChangeSetOutcome::Empty)
    );
    let removed = if must_remove(preview, reached) {
        let id = id.unwrap_or_else(|| request.change_set_name.clone());
        leftover.remove_and_report(&id, !usable).await
    } else {
        Ok(())
    };
    drop(deferral);
    let stack = &request.stack_name;
    let (id, outcome, new_template) = match outcome? {
        Some(made) => made,
        None => {
            return Err(Interrupted(match removed {
                Ok(()) => format!("the dry run removed {} and stopped", leftover.describe()),
                Err(_) => format!("the dry run stopped; {}", leftover.fix()),
            })
            .into())
        }
    };
    match outcome {
        ChangeSetOutcome::Ready(changes) => {
            removed.with_context(|| {
                format!(
                    "The dry run could not remove {}: {}",
                    leftover.describe(),
                    leftover.fix()
                )
            })?;
            Ok(Made::Ready(Ready {
                id,
                changes,
                new_template,
                create: request.create,
                template_sha256: String::new(),
            }))
        }
        ChangeSetOutcome::Empty => Ok(Made::Empty),
        ChangeSetOutcome::Failed(reason) => Err(DeployError::ChangeSetFailed {
            stack: stack.clone(),
            reason,
        }
        .into()),
    }
}

/// Removes a ready change set that will not be executed because a step beside it failed, with
/// the empty stack CloudFormation made for it when it creates the stack (unless `keep_new_stack`:
/// a wait stopped while the operation beside goes on, and the next deploy, which waits for it,
/// makes its change set on that stack). What cannot be removed is reported (left behind, with
/// how to remove it), never raised over the step's error.
pub async fn remove_unused(ops: &StackOps<'_>, stack: &str, ready: &Ready, keep_new_stack: bool) {
    let leftover = Leftover {
        ops,
        stack,
        change_set: &ready.id,
        new_stack: ready.create && !keep_new_stack,
    };
    // Reported either way; the failure of the step beside it is the run's error.
    let _ = leftover.remove_and_report(&ready.id, true).await;
}

/// Whether what a change set left goes now, given how far it got (None: a call failed for good,
/// or Ctrl-C stopped a dry run). A dry run removes it always. A deploy keeps a change set to
/// execute, and after a failed call keeps what may exist (a change set CloudFormation may still
/// finish), which the next deploy reuses or replaces; an empty or failed one goes.
fn must_remove(dry_run: bool, reached: Option<&ChangeSetOutcome>) -> bool {
    dry_run
        || matches!(
            reached,
            Some(ChangeSetOutcome::Empty | ChangeSetOutcome::Failed(_))
        )
}

/// The change set's id and outcome; None when Ctrl-C stopped a dry run (after the create call
/// returned, so what it made is known).
async fn create_and_wait(
    ops: &StackOps<'_>,
    request: &ChangeSetRequest,
    deferral: Option<&Deferral>,
    made: &mut Option<String>,
) -> anyhow::Result<Option<(String, ChangeSetOutcome, Option<Value>)>> {
    let stopped = || deferral.is_some_and(Deferral::stop_asked);
    if stopped() {
        return Ok(None);
    }
    let id = cfn::create_change_set(&ops.aws.cfn, request).await?;
    *made = Some(id.clone());
    ops.report.record(Fact::ChangeSet {
        id: id.clone(),
        stack: request.stack_name.clone(),
        action: Action::Created,
    });
    if stopped() {
        return Ok(None);
    }
    let wait = describe(ops, &request.stack_name, &id);
    let (outcome, new_template) = match deferral {
        None => wait.await?,
        // Reading the change set is all a stop cuts short.
        Some(deferral) => tokio::select! {
            outcome = wait => outcome?,
            () = deferral.interrupted() => return Ok(None),
        },
    };
    Ok(Some((id, outcome, new_template)))
}

/// Waits for the change set and reads, before anything removes it, what its changes are shown
/// with: its nested stacks' change sets and, when CloudFormation gave no property values for a
/// modification, its processed template.
async fn describe(
    ops: &StackOps<'_>,
    stack: &str,
    id: &str,
) -> anyhow::Result<(ChangeSetOutcome, Option<Value>)> {
    let cfn = &ops.aws.cfn;
    let mut outcome = cfn::wait_for_change_set(cfn, stack, id, ops.poller).await?;
    let mut new_template = None;
    if let ChangeSetOutcome::Ready(changes) = &mut outcome {
        cfn::read_nested(cfn, changes).await?;
        if changes::needs_templates(changes) {
            let text = cfn::processed_template(cfn, stack, Some(id)).await?;
            new_template = template::parse_str(&text, "the change set's processed template").ok();
        }
    }
    Ok((outcome, new_template))
}

/// What a change set that will not be executed leaves in the account.
struct Leftover<'a> {
    ops: &'a StackOps<'a>,
    stack: &'a str,
    change_set: &'a str,
    new_stack: bool,
}

impl Leftover<'_> {
    fn describe(&self) -> String {
        if self.new_stack {
            format!(
                "the change set {} and the stack {} made for it",
                self.change_set, self.stack
            )
        } else {
            format!("the change set {} of stack {}", self.change_set, self.stack)
        }
    }

    fn fix(&self) -> String {
        if self.new_stack {
            format!(
                "delete the stack with `aws cloudformation delete-stack --stack-name {}` if it is in REVIEW_IN_PROGRESS",
                self.stack
            )
        } else {
            format!(
                "delete it with `aws cloudformation delete-change-set --stack-name {} --change-set-name {}`",
                self.stack, self.change_set
            )
        }
    }

    /// Removes what is left and records it (`say`: and tells it); what cannot be removed is
    /// recorded as left behind and told with how to remove it.
    async fn remove_and_report(&self, id: &str, say: bool) -> anyhow::Result<()> {
        let report = self.ops.report;
        let removed = self.remove().await;
        match &removed {
            Ok(true) => {
                report.record(Fact::ChangeSet {
                    id: id.to_string(),
                    stack: self.stack.to_string(),
                    action: Action::Deleted,
                });
                if say {
                    report.event(Event::LeftoverRemoved(self.describe()));
                }
            }
            Ok(false) => {}
            Err(err) => {
                report.record(Fact::LeftBehind(self.describe()));
                report.event(Event::LeftoverKept {
                    what: self.describe(),
                    error: format!("{err:#}"),
                    fix: self.fix(),
                });
            }
        }
        removed.map(|_| ())
    }

    /// Removes the change set, or the stack CloudFormation made for it (which holds nothing
    /// else); false when there was nothing to remove (the create call failed before making it).
    async fn remove(&self) -> anyhow::Result<bool> {
        let cfn = &self.ops.aws.cfn;
        if self.new_stack {
            let Some(stack) = cfn::describe_stack(cfn, self.stack).await? else {
                return Ok(false);
            };
            if stack.status != "REVIEW_IN_PROGRESS" {
                return Ok(false);
            }
            delete_main_stack(self.ops, self.stack).await?;
        } else {
            match cfn::delete_change_set(cfn, self.stack, self.change_set).await {
                Ok(()) => {}
                Err(e)
                    if e.code == "ChangeSetNotFound" || e.code == "ChangeSetNotFoundException" =>
                {
                    return Ok(false)
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dry_run_removes_whatever_happened_and_a_deploy_only_what_is_of_no_use() {
        let ready = ChangeSetOutcome::Ready(Vec::new());
        let failed = ChangeSetOutcome::Failed("Transform failed".into());
        for reached in [
            None,
            Some(&ready),
            Some(&ChangeSetOutcome::Empty),
            Some(&failed),
        ] {
            assert!(must_remove(true, reached), "dry run, {reached:?}");
        }
        assert!(!must_remove(false, Some(&ready)), "to execute");
        assert!(
            !must_remove(false, None),
            "a call failed: the next deploy reuses it"
        );
        assert!(must_remove(false, Some(&ChangeSetOutcome::Empty)));
        assert!(must_remove(false, Some(&failed)));
    }
}
