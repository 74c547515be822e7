//! Stack statuses as data: what a deploy must do with a stack found in a given status.
//!
//! Pure and table-tested, so the shell only looks the answer up (as rain's `CheckStack` does).

use serde::Serialize;

/// What a deploy does with the stack it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "action", content = "detail")]
pub enum StackAction {
    /// No stack (or a deleted one): create it with a CREATE change set.
    Create,
    /// A stack left in REVIEW_IN_PROGRESS by an earlier change set: a CREATE change set reuses it.
    CreateInReview,
    /// A stack that never got created (ROLLBACK_COMPLETE etc.): delete it, then create.
    DeleteThenCreate,
    /// A healthy stack: UPDATE change set.
    Update,
    /// Another operation is running: wait for it to end, then decide again.
    Wait,
    /// A state only a person can fix; the text says how.
    Blocked(String),
}

/// Decides from the stack's status (None when there is no stack).
pub fn stack_action(stack_name: &str, status: Option<&str>) -> StackAction {
    let Some(status) = status else {
        return StackAction::Create;
    };
    match status {
        "DELETE_COMPLETE" => StackAction::Create,
        "REVIEW_IN_PROGRESS" => StackAction::CreateInReview,
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => StackAction::DeleteThenCreate,
        "CREATE_COMPLETE"
        | "UPDATE_COMPLETE"
        | "UPDATE_ROLLBACK_COMPLETE"
        | "IMPORT_COMPLETE"
        | "IMPORT_ROLLBACK_COMPLETE" => StackAction::Update,
        "UPDATE_ROLLBACK_FAILED" => StackAction::Blocked(format!(
            "Stack {stack_name} is in UPDATE_ROLLBACK_FAILED: run `aws cloudformation continue-update-rollback --stack-name {stack_name}` (skip the failing resources if needed), then deploy again"
        )),
        "DELETE_FAILED" => StackAction::Blocked(format!(
            "Stack {stack_name} is in DELETE_FAILED: finish deleting it with `aws cloudformation delete-stack --stack-name {stack_name}` (with --retain-resources for the resources that block it), then deploy again"
        )),
        s if s.ends_with("_IN_PROGRESS") => StackAction::Wait,
        other => StackAction::Blocked(format!(
            "Stack {stack_name} is in {other}, which samrs cannot deploy over: fix or delete the stack in the CloudFormation console, then deploy again"
        )),
    }
}

/// Whether a status ends an operation (CloudFormation stops changing the stack by itself).
pub fn is_terminal(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS") || status == "REVIEW_IN_PROGRESS"
}

/// Whether a terminal status means the operation did what was asked.
pub fn is_success(status: &str) -> bool {
    matches!(
        status,
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "DELETE_COMPLETE" | "IMPORT_COMPLETE"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_maps_to_an_action() {
        let cases = [
            (None, StackAction::Create),
            (Some("DELETE_COMPLETE"), StackAction::Create),
            (Some("REVIEW_IN_PROGRESS"), StackAction::CreateInReview),
            (Some("ROLLBACK_COMPLETE"), StackAction::DeleteThenCreate),
            (Some("ROLLBACK_FAILED"), StackAction::DeleteThenCreate),
            (Some("CREATE_COMPLETE"), StackAction::Update),
            (Some("UPDATE_COMPLETE"), StackAction::Update),
            (Some("UPDATE_ROLLBACK_COMPLETE"), StackAction::Update),
            (Some("CREATE_IN_PROGRESS"), StackAction::Wait),
            (Some("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"), StackAction::Wait),
            (Some("DELETE_IN_PROGRESS"), StackAction::Wait),
        ];
        for (status, want) in cases {
            assert_eq!(stack_action("app", status), want, "{status:?}");
        }
    }

    #[test]
    fn unrecoverable_states_say_what_to_do() {
        let StackAction::Blocked(text) = stack_action("app", Some("UPDATE_ROLLBACK_FAILED")) else {
            panic!("UPDATE_ROLLBACK_FAILED must block");
        };
        assert!(text.contains("continue-update-rollback --stack-name app"));
        assert!(matches!(stack_action("app", Some("DELETE_FAILED")), StackAction::Blocked(t) if t.contains("--retain-resources")));
    }

    #[test]
    fn terminal_and_success() {
        assert!(is_terminal("UPDATE_ROLLBACK_COMPLETE") && !is_success("UPDATE_ROLLBACK_COMPLETE"));
        assert!(!is_terminal("UPDATE_ROLLBACK_IN_PROGRESS"));
        assert!(is_terminal("CREATE_COMPLETE") && is_success("CREATE_COMPLETE"));
    }
}
