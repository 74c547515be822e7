//! The managed artifacts bucket of `--resolve-s3`, decided from the SAM CLI's stack
//! `aws-sam-cli-managed-default` as found: use its bucket, wait for it, or create it. Like sam,
//! the stack is created when missing and never updated; a stack of that name that sam did not
//! make is refused with sam's messages.

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

use crate::stack_state::{self, StackInfo};

pub const STACK_NAME: &str = "aws-sam-cli-managed-default";
pub const SOURCE_TAG: (&str, &str) = ("ManagedStackSource", "AwsSamCli");

/// Stands for the bucket a dry run would create: nothing is created or uploaded then.
pub const NOT_YET_CREATED: &str = "aws-sam-cli-managed-default-samclisourcebucket-(to be created)";

/// What `--resolve-s3` does with the managed stack it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketAction {
    /// The stack is there: its bucket.
    Use(String),
    /// Another run (an interrupted one, say) is creating it: its outputs come at the end.
    Wait { status: String },
    /// Create the stack. `in_review`: an earlier run made it and its change set but never
    /// executed it.
    Create { in_review: bool },
}

/// The action for the managed stack found (None: there is none).
pub fn action(stack: Option<&StackInfo>) -> anyhow::Result<BucketAction> {
    Ok(match stack {
        None => BucketAction::Create { in_review: false },
        Some(stack) if !stack_state::is_terminal(&stack.status) => BucketAction::Wait {
            status: stack.status.clone(),
        },
        Some(stack) if stack.status == "REVIEW_IN_PROGRESS" => {
            BucketAction::Create { in_review: true }
        }
        Some(stack) => BucketAction::Use(bucket_of(stack)?),
    })
}

/// sam's sanity checks on an existing managed stack, then its `SourceBucket` output.
pub fn bucket_of(stack: &StackInfo) -> anyhow::Result<String> {
    if stack.tags.is_empty() || stack.outputs.is_empty() {
        bail!(
            "Stack {STACK_NAME} is missing Tags and/or Outputs information and therefore not in a healthy state (Current state:{}). Failing as the stack was likely not created by the AWS SAM CLI",
            stack.status
        );
    }
    let tagged = stack
        .tags
        .iter()
        .any(|(k, v)| k == SOURCE_TAG.0 && v == SOURCE_TAG.1);
    if !tagged {
        bail!("Stack {STACK_NAME} ManagedStackSource tag shows {:?} which does not match the AWS SAM CLI generated tag AwsSamCli. Failing as the stack was likely not created by the AWS SAM CLI.",
            stack.tags.iter().find(|(k, _)| k == SOURCE_TAG.0).map(|(_, v)| v.as_str()));
    }
    stack
        .outputs
        .iter()
        .find(|o| o.key == "SourceBucket")
        .map(|o| o.value.clone())
        .with_context(|| format!("Stack {STACK_NAME} exists, but is missing the managed source bucket key. Failing as this stack was likely not created by the AWS SAM CLI."))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack_state::StackOutput;

    fn stack(tags: &[(&str, &str)], outputs: &[(&str, &str)]) -> StackInfo {
        StackInfo {
            status: "CREATE_COMPLETE".into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            outputs: outputs
                .iter()
                .map(|(k, v)| StackOutput {
                    key: k.to_string(),
                    value: v.to_string(),
                    description: None,
                })
                .collect(),
            ..StackInfo::default()
        }
    }

    #[test]
    fn a_stack_made_by_sam_gives_its_bucket() {
        let s = stack(
            &[SOURCE_TAG],
            &[(
                "SourceBucket",
                "aws-sam-cli-managed-default-samclisourcebucket-abc",
            )],
        );
        assert_eq!(
            bucket_of(&s).unwrap(),
            "aws-sam-cli-managed-default-samclisourcebucket-abc"
        );
    }

    #[test]
    fn stacks_not_made_by_sam_are_refused_with_sams_messages() {
        let no_tags = bucket_of(&stack(&[], &[("SourceBucket", "b")]))
            .unwrap_err()
            .to_string();
        assert!(
            no_tags.contains("is missing Tags and/or Outputs information"),
            "{no_tags}"
        );
        let wrong = bucket_of(&stack(
            &[("ManagedStackSource", "Other")],
            &[("SourceBucket", "b")],
        ))
        .unwrap_err()
        .to_string();
        assert!(
            wrong.contains("does not match the AWS SAM CLI generated tag"),
            "{wrong}"
        );
        let no_output = bucket_of(&stack(&[SOURCE_TAG], &[("Other", "b")]))
            .unwrap_err()
            .to_string();
        assert!(
            no_output.contains("missing the managed source bucket key"),
            "{no_output}"
        );
    }

    #[test]
    fn the_stack_found_decides() {
        assert_eq!(
            action(None).unwrap(),
            BucketAction::Create { in_review: false }
        );
        let mut found = stack(&[SOURCE_TAG], &[("SourceBucket", "b")]);
        assert_eq!(action(Some(&found)).unwrap(), BucketAction::Use("b".into()));
        found.status = "CREATE_IN_PROGRESS".into();
        assert_eq!(
            action(Some(&found)).unwrap(),
            BucketAction::Wait {
                status: "CREATE_IN_PROGRESS".into()
            }
        );
        found.status = "REVIEW_IN_PROGRESS".into();
        assert_eq!(
            action(Some(&found)).unwrap(),
            BucketAction::Create { in_review: true }
        );
    }
}
