//! Stacks as data: what samrs knows of a stack (its status, outputs, events, resources, the
//! requests that change it) and what a status means: what a deploy must do with a stack found in
//! it, and what it says about the operation that left it.
//!
//! Pure and table-tested, so the shell only looks the answer up (as rain's `CheckStack` does);
//! [`crate::cloudformation`] turns the SDK's shapes into these.

use serde::{Deserialize, Serialize};

/// CloudFormation's limit for templates sent inline (TemplateBody).
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;

/// Whether a template can be sent inline (TemplateBody) rather than through S3.
pub fn fits_inline(template: &str) -> bool {
    template.len() <= TEMPLATE_BODY_LIMIT
}

/// CloudFormation's express deployment mode (`DeploymentConfig` `Mode: EXPRESS`): the operation
/// completes once resource configuration is applied. In this mode the rollback choice travels in
/// the `DeploymentConfig` too, not on ExecuteChangeSet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Express {
    /// `DeploymentConfig.DisableRollback`, when the operation has one (deletions do not).
    pub disable_rollback: Option<bool>,
}

/// What samrs needs to know of a deployed stack.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct StackInfo {
    pub stack_id: String,
    pub status: String,
    /// `LastUpdatedTime` (RFC 3339), None for a stack never updated.
    pub last_updated: Option<String>,
    pub outputs: Vec<StackOutput>,
    pub tags: Vec<(String, String)>,
    /// Parameter keys and values (NoEcho values come back as `****`).
    pub parameters: Vec<(String, String)>,
    pub role_arn: Option<String>,
    pub notification_arns: Vec<String>,
    pub termination_protection: bool,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StackOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
}

/// How the template reaches CloudFormation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TemplateSource {
    Body(String),
    Url(String),
}

/// A parameter of a change set: a value, or "keep what the stack has" on updates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ParameterValue {
    Value(String, String),
    UsePrevious(String),
}

/// Everything a change set is created from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSetRequest {
    pub stack_name: String,
    pub change_set_name: String,
    pub create: bool,
    pub template: TemplateSource,
    pub parameters: Vec<ParameterValue>,
    pub capabilities: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub role_arn: Option<String>,
    pub notification_arns: Vec<String>,
    pub description: String,
    /// Express mode for the change set (CreateChangeSet only).
    pub express: Option<Express>,
    /// Change sets for the nested stacks too (CreateChangeSet only): their changes are shown.
    pub include_nested_stacks: bool,
}

/// Where a change set stands, as DescribeChangeSet by its ARN says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum ChangeSetState {
    /// Created and not executed: it can be executed.
    Available,
    /// Executed (or being executed).
    Executed,
    /// It failed, or cannot be executed any more (`OBSOLETE`, `EXECUTE_FAILED`): CloudFormation's
    /// status and reason.
    Unusable(String),
    /// CloudFormation does not know it (deleted, or removed when another change set of the
    /// stack was executed).
    Gone,
}

impl ChangeSetState {
    /// From DescribeChangeSet's `Status`, `ExecutionStatus` and `StatusReason`.
    pub fn of(status: &str, execution_status: &str, reason: &str) -> ChangeSetState {
        match (status, execution_status) {
            (_, "EXECUTE_COMPLETE" | "EXECUTE_IN_PROGRESS") => ChangeSetState::Executed,
            ("CREATE_COMPLETE", "AVAILABLE") => ChangeSetState::Available,
            ("DELETE_COMPLETE" | "DELETE_IN_PROGRESS", _) => ChangeSetState::Gone,
            _ => {
                let mut detail = format!("{status}/{execution_status}");
                if !reason.is_empty() {
                    detail.push_str(": ");
                    detail.push_str(reason);
                }
                ChangeSetState::Unusable(detail)
            }
        }
    }
}

/// One stack event, as the events table shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventRow {
    pub id: String,
    pub status: String,
    pub resource_type: String,
    pub logical_id: String,
    pub reason: Option<String>,
    /// The resource's physical id (a repository's name), when known; not in the JSON document.
    #[serde(skip)]
    pub physical_id: String,
}

/// How a wait for a stack operation ended.
#[derive(Debug, Clone)]
pub struct StackOutcome {
    /// The final status; None when the stack no longer exists (deleted).
    pub status: Option<String>,
    /// The stack afterwards when the wait was asked for it (None when it no longer exists).
    pub stack: Option<StackInfo>,
    /// The failure events seen during the wait, with their reasons.
    pub failures: Vec<EventRow>,
}

/// A resource of a stack, as ListStackResources gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: String,
    pub resource_type: String,
    pub status: String,
}

impl EventRow {
    pub fn is_failure(&self) -> bool {
        self.status.contains("FAILED")
    }
}

/// The failed resources and their reasons, for one-line errors: ": A (AWS::X) CREATE_FAILED: why".
pub fn failure_summary(failures: &[EventRow]) -> String {
    let parts: Vec<String> = failures
        .iter()
        .filter(|e| {
            // The stack's own failure event only repeats its resources' reasons.
            e.resource_type != "AWS::CloudFormation::Stack" || failures.len() == 1
        })
        .map(|e| {
            format!(
                "{} ({}) {}: {}",
                e.logical_id,
                e.resource_type,
                e.status,
                e.reason.as_deref().unwrap_or("no reason given")
            )
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join("; "))
    }
}

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
    /// A state only a person can fix; `fix` says how ("finish its rollback with ...").
    Blocked { fix: String },
}

/// Decides from the stack's status (None when there is no stack).
pub fn stack_action(stack_name: &str, status: Option<&str>) -> StackAction {
    let Some(status) = status else {
        return StackAction::Create;
    };
    let fix = match status {
        "DELETE_COMPLETE" => return StackAction::Create,
        "REVIEW_IN_PROGRESS" => return StackAction::CreateInReview,
        "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED" | "CREATE_FAILED" => return StackAction::DeleteThenCreate,
        // UPDATE_FAILED: left by --disable-rollback; CloudFormation accepts a new update.
        "CREATE_COMPLETE" | "UPDATE_COMPLETE" | "UPDATE_ROLLBACK_COMPLETE" | "UPDATE_FAILED"
        | "IMPORT_COMPLETE" | "IMPORT_ROLLBACK_COMPLETE" => return StackAction::Update,
        s if s.ends_with("_IN_PROGRESS") => return StackAction::Wait,
        "UPDATE_ROLLBACK_FAILED" | "IMPORT_ROLLBACK_FAILED" => format!(
            "finish its rollback with `aws cloudformation continue-update-rollback --stack-name {stack_name}` (skipping the resources that fail)"
        ),
        "DELETE_FAILED" => format!(
            "finish deleting it with `samrs delete --stack-name {stack_name}` (it offers to keep the resources that block it)"
        ),
        _ => format!(
            "delete it with `aws cloudformation delete-stack --stack-name {stack_name}` or fix it in the CloudFormation console"
        ),
    };
    StackAction::Blocked { fix }
}

/// Whether an event is the stack's own that started an operation (not a phase within one, such
/// as `UPDATE_COMPLETE_CLEANUP_IN_PROGRESS` or `UPDATE_ROLLBACK_IN_PROGRESS`).
pub fn starts_operation(stack: &str, row: &EventRow) -> bool {
    let status = row.status.split(" - ").next().unwrap_or_default();
    row.resource_type == "AWS::CloudFormation::Stack"
        && row.logical_id == stack
        && matches!(
            status,
            "CREATE_IN_PROGRESS"
                | "UPDATE_IN_PROGRESS"
                | "DELETE_IN_PROGRESS"
                | "IMPORT_IN_PROGRESS"
                | "REVIEW_IN_PROGRESS"
        )
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

/// The statuses of a stack that never got created, which `--on-failure DELETE` deletes
/// (sam's `rollback_delete_stack`).
pub fn is_failed_create(status: &str) -> bool {
    matches!(
        status,
        "CREATE_FAILED" | "ROLLBACK_COMPLETE" | "ROLLBACK_FAILED"
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
            (
                Some("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
                StackAction::Wait,
            ),
            (Some("DELETE_IN_PROGRESS"), StackAction::Wait),
        ];
        for (status, want) in cases {
            assert_eq!(stack_action("app", status), want, "{status:?}");
        }
    }

    #[test]
    fn unrecoverable_states_say_what_to_do() {
        let StackAction::Blocked { fix } = stack_action("app", Some("UPDATE_ROLLBACK_FAILED"))
        else {
            panic!("UPDATE_ROLLBACK_FAILED must block");
        };
        assert!(fix.contains("continue-update-rollback --stack-name app"));
        assert!(
            matches!(stack_action("app", Some("DELETE_FAILED")), StackAction::Blocked { fix } if fix.contains("samrs delete --stack-name app"))
        );
        assert!(matches!(
            stack_action("app", Some("UPDATE_FAILED")),
            StackAction::Update
        ));
    }

    #[test]
    fn terminal_and_success() {
        assert!(is_terminal("UPDATE_ROLLBACK_COMPLETE") && !is_success("UPDATE_ROLLBACK_COMPLETE"));
        assert!(!is_terminal("UPDATE_ROLLBACK_IN_PROGRESS"));
        assert!(is_terminal("CREATE_COMPLETE") && is_success("CREATE_COMPLETE"));
    }

    #[test]
    fn only_never_created_stacks_are_deleted() {
        for status in ["ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED"] {
            assert!(is_failed_create(status), "{status}");
        }
        for status in [
            "UPDATE_ROLLBACK_COMPLETE",
            "UPDATE_FAILED",
            "CREATE_COMPLETE",
        ] {
            assert!(!is_failed_create(status), "{status}");
        }
    }

    #[test]
    fn failure_summary_names_resources_and_reasons() {
        let event = |id: &str, rtype: &str, reason: &str| EventRow {
            physical_id: String::new(),
            id: id.into(),
            status: "CREATE_FAILED".into(),
            resource_type: rtype.into(),
            logical_id: id.into(),
            reason: Some(reason.into()),
        };
        let text = failure_summary(&[
            event(
                "Repo",
                "AWS::ECR::Repository",
                "RepositoryAlreadyExistsException: exists",
            ),
            event(
                "app",
                "AWS::CloudFormation::Stack",
                "The following resource(s) failed to create: [Repo].",
            ),
        ]);
        assert_eq!(
            text,
            ": Repo (AWS::ECR::Repository) CREATE_FAILED: RepositoryAlreadyExistsException: exists"
        );
        assert_eq!(failure_summary(&[]), "");
    }

    #[test]
    fn body_limit_is_inclusive() {
        assert!(fits_inline(&"x".repeat(TEMPLATE_BODY_LIMIT)));
        assert!(!fits_inline(&"x".repeat(TEMPLATE_BODY_LIMIT + 1)));
    }
}
