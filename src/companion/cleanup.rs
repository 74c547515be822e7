//! How the companion stack's last operation ended, read at the start of the next deploy or
//! delete: samrs leaves its clean-up (retired repositories removed) running in CloudFormation, so
//! the run after it is the first to see whether it failed.

use serde::Serialize;

use crate::stack_state::{failure_summary, EventRow};

/// A companion operation that failed, worded for one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EarlierFailure {
    pub stack: String,
    /// The stack's status after it.
    pub status: String,
    pub message: String,
    /// Repositories the clean-up could not delete, which CloudFormation no longer manages.
    pub repositories: Vec<String>,
}

/// What went wrong in the companion stack's last operation (`events`, oldest first), found in
/// `status`; None when it went well. `exists` says whether a repository is still in ECR (one the
/// user deleted since is no longer worth a word).
pub fn earlier_failure(
    stack: &str,
    status: &str,
    events: &[EventRow],
    exists: impl Fn(&str) -> bool,
) -> Option<EarlierFailure> {
    let failures: Vec<EventRow> = events.iter().filter(|e| e.is_failure()).cloned().collect();
    if status == "UPDATE_ROLLBACK_COMPLETE" {
        return Some(EarlierFailure {
            stack: stack.to_string(),
            status: status.to_string(),
            message: format!(
                "The last update of companion stack {stack} failed and was rolled back{}: its repositories are as before it, and this run plans them again",
                failure_summary(&failures)
            ),
            repositories: Vec::new(),
        });
    }
    // CloudFormation removes resources after an update succeeded: one it cannot delete is left
    // out of the stack, which still ends in UPDATE_COMPLETE.
    let left: Vec<&EventRow> = failures
        .iter()
        .filter(|e| {
            e.status.starts_with("DELETE_FAILED")
                && e.resource_type == "AWS::ECR::Repository"
                && !e.physical_id.is_empty()
                && exists(&e.physical_id)
        })
        .collect();
    if left.is_empty() || !status.starts_with("UPDATE_") {
        return None;
    }
    let names: Vec<String> = left.iter().map(|e| e.physical_id.clone()).collect();
    let reasons: Vec<String> = left
        .iter()
        .map(|e| {
            format!(
                "{} ({})",
                e.physical_id,
                e.reason.as_deref().unwrap_or("no reason given")
            )
        })
        .collect();
    let commands: Vec<String> = names
        .iter()
        .map(|n| format!("`aws ecr delete-repository --force --repository-name {n}`"))
        .collect();
    Some(EarlierFailure {
        stack: stack.to_string(),
        status: status.to_string(),
        message: format!(
            "The clean-up of companion stack {stack} could not delete {}; CloudFormation no longer manages {}: delete {} with {}",
            reasons.join(", "),
            if names.len() == 1 { "it" } else { "them" },
            if names.len() == 1 { "it" } else { "them" },
            commands.join(" and ")
        ),
        repositories: names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(status: &str, resource_type: &str, logical_id: &str, physical_id: &str) -> EventRow {
        EventRow {
            id: format!("{logical_id}-{status}"),
            status: status.into(),
            resource_type: resource_type.into(),
            logical_id: logical_id.into(),
            reason: status
                .contains("FAILED")
                .then(|| "User is not authorized to perform: ecr:DeleteRepository".into()),
            physical_id: physical_id.into(),
        }
    }

    const STACK: &str = "app-1a2b3c4d-CompanionStack";
    const REPO: &str = "AWS::ECR::Repository";
    const SELF: &str = "AWS::CloudFormation::Stack";

    fn cleanup_events(outcome: &str) -> Vec<EventRow> {
        vec![
            event("UPDATE_IN_PROGRESS", SELF, STACK, "arn:stack"),
            event(
                "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
                SELF,
                STACK,
                "arn:stack",
            ),
            event("DELETE_IN_PROGRESS", REPO, "OldRepo", "app1a2b3c4d/old"),
            event(outcome, REPO, "OldRepo", "app1a2b3c4d/old"),
            event("UPDATE_COMPLETE", SELF, STACK, "arn:stack"),
        ]
    }

    #[test]
    fn a_repository_the_clean_up_could_not_delete_is_named_with_the_fix() {
        let failure = earlier_failure(
            STACK,
            "UPDATE_COMPLETE",
            &cleanup_events("DELETE_FAILED"),
            |_| true,
        )
        .unwrap();
        assert_eq!(failure.repositories, ["app1a2b3c4d/old"]);
        assert_eq!(
            failure.message,
            "The clean-up of companion stack app-1a2b3c4d-CompanionStack could not delete app1a2b3c4d/old (User is not authorized to perform: ecr:DeleteRepository); CloudFormation no longer manages it: delete it with `aws ecr delete-repository --force --repository-name app1a2b3c4d/old`"
        );
    }

    #[test]
    fn a_clean_up_that_went_well_or_a_repository_deleted_since_is_not_reported() {
        let ok = cleanup_events("DELETE_COMPLETE");
        assert_eq!(
            earlier_failure(STACK, "UPDATE_COMPLETE", &ok, |_| true),
            None
        );
        let failed = cleanup_events("DELETE_FAILED");
        assert_eq!(
            earlier_failure(STACK, "UPDATE_COMPLETE", &failed, |_| false),
            None
        );
        assert_eq!(
            earlier_failure(STACK, "CREATE_COMPLETE", &[], |_| true),
            None
        );
    }

    #[test]
    fn a_rolled_back_update_is_reported_and_planned_again() {
        let events = vec![
            event("UPDATE_IN_PROGRESS", SELF, STACK, "arn:stack"),
            event("UPDATE_FAILED", REPO, "NewRepo", ""),
            event("UPDATE_ROLLBACK_IN_PROGRESS", SELF, STACK, "arn:stack"),
            event("UPDATE_ROLLBACK_COMPLETE", SELF, STACK, "arn:stack"),
        ];
        let failure =
            earlier_failure(STACK, "UPDATE_ROLLBACK_COMPLETE", &events, |_| true).unwrap();
        assert!(
            failure.message.starts_with(
                "The last update of companion stack app-1a2b3c4d-CompanionStack failed and was rolled back: NewRepo (AWS::ECR::Repository) UPDATE_FAILED: User is not authorized"
            ),
            "{}",
            failure.message
        );
        assert!(failure.message.ends_with("this run plans them again"));
        assert!(failure.repositories.is_empty());
    }
}
