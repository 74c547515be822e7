//! What the companion stack's current status allows a deploy to do: sam updates whatever it
//! finds and fails with a raw error on a stack it cannot update; samrs recreates a stack that
//! never got created, waits for a busy one, and names the command that repairs a failed one.
//! The table itself is the main stack's ([`crate::stack_state`]).

use serde::{Deserialize, Serialize};

use crate::stack_state::{stack_action, StackAction};

/// What the companion stack's status allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CompanionAction {
    /// No stack (or a deleted one): create it.
    Create,
    /// A stable stack: update it.
    Update,
    /// A stack that never got created (ROLLBACK_COMPLETE, REVIEW_IN_PROGRESS): delete, then create.
    Recreate,
    /// Another operation is running: wait for it to end, then observe and plan again.
    Wait,
}

/// A companion stack in a state only a person can repair.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Companion stack {stack} is in {status}: {fix}, then deploy again")]
pub struct BlockedStack {
    pub stack: String,
    pub status: String,
    pub fix: String,
}

/// Decides what the companion stack `stack` in `status` (None: it does not exist) allows, from
/// the same table as the main stack's; a stack that never got created is recreated.
pub fn companion_action(
    stack: &str,
    status: Option<&str>,
) -> Result<CompanionAction, BlockedStack> {
    Ok(match stack_action(stack, status) {
        StackAction::Create => CompanionAction::Create,
        StackAction::Update => CompanionAction::Update,
        StackAction::CreateInReview | StackAction::DeleteThenCreate => CompanionAction::Recreate,
        StackAction::Wait => CompanionAction::Wait,
        StackAction::Blocked { fix } => {
            return Err(BlockedStack {
                stack: stack.to_string(),
                status: status.unwrap_or_default().to_string(),
                fix,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_decides_the_action() {
        let cases = [
            (None, CompanionAction::Create),
            (Some("DELETE_COMPLETE"), CompanionAction::Create),
            (Some("CREATE_COMPLETE"), CompanionAction::Update),
            (Some("UPDATE_COMPLETE"), CompanionAction::Update),
            (Some("UPDATE_ROLLBACK_COMPLETE"), CompanionAction::Update),
            (Some("IMPORT_COMPLETE"), CompanionAction::Update),
            (Some("ROLLBACK_COMPLETE"), CompanionAction::Recreate),
            (Some("REVIEW_IN_PROGRESS"), CompanionAction::Recreate),
            (Some("CREATE_IN_PROGRESS"), CompanionAction::Wait),
            (
                Some("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
                CompanionAction::Wait,
            ),
            (Some("DELETE_IN_PROGRESS"), CompanionAction::Wait),
        ];
        for (status, want) in cases {
            assert_eq!(companion_action("c", status), Ok(want), "{status:?}");
        }
    }

    #[test]
    fn failed_states_name_the_fix() {
        let message = |status| companion_action("c", Some(status)).unwrap_err().to_string();
        assert_eq!(
            message("UPDATE_ROLLBACK_FAILED"),
            "Companion stack c is in UPDATE_ROLLBACK_FAILED: finish its rollback with `aws cloudformation continue-update-rollback --stack-name c` (skipping the resources that fail), then deploy again"
        );
        assert!(message("DELETE_FAILED").contains("`samrs delete --stack-name c`"));
        assert!(message("STACK_IN_SOME_NEW_STATE").contains("delete-stack --stack-name c"));
        assert_eq!(
            companion_action("c", Some("ROLLBACK_FAILED")),
            Ok(CompanionAction::Recreate)
        );
    }
}
