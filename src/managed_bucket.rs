//! The managed artifacts bucket of `--resolve-s3`: the SAM CLI's own stack
//! `aws-sam-cli-managed-default`, so a bucket made by sam is reused by samrs and the other way round.
//!
//! Like sam, the stack is created when missing and never updated; a stack of that name that sam
//! did not make is refused with sam's messages.

use anyhow::{bail, Context};

use crate::aws::Aws;
use crate::cloudformation::{self as cfn, poll::Poller};
use crate::events::{Action, Event, Fact, Reporter, StackRole};
use crate::stack_state::{ChangeSetOutcome, ChangeSetRequest};

pub const STACK_NAME: &str = "aws-sam-cli-managed-default";
const SOURCE_TAG: (&str, &str) = ("ManagedStackSource", "AwsSamCli");

/// Stands for the bucket a dry run would create: nothing is created or uploaded then.
pub const NOT_YET_CREATED: &str = "aws-sam-cli-managed-default-samclisourcebucket-(to be created)";

/// The bucket of the managed stack, creating the stack when it does not exist (a dry run only
/// says so).
pub async fn ensure(
    aws: &Aws,
    poller: &Poller,
    report: &dyn Reporter,
    dry_run: bool,
) -> anyhow::Result<String> {
    let mut existing = cfn::describe_stack(&aws.cfn, STACK_NAME).await?;
    if let Some(stack) = existing
        .as_ref()
        .filter(|s| !crate::stack_state::is_terminal(&s.status))
    {
        // Another run (an interrupted one, say) is creating it: its outputs come at the end.
        report.event(Event::StackBusy {
            stack: STACK_NAME.to_string(),
            status: stack.status.clone(),
            role: StackRole::ManagedBucket,
        });
        let mut cursor = cfn::EventCursor::after_current(&aws.cfn, STACK_NAME).await?;
        existing = cfn::wait_for_stack(&aws.cfn, &mut cursor, poller, |_| {})
            .await?
            .stack;
    }
    let in_review = match &existing {
        Some(stack) if stack.status != "REVIEW_IN_PROGRESS" => return bucket_of(stack),
        Some(_) => true,
        None => false,
    };
    if dry_run {
        report.event(Event::ManagedStackPlanned);
        return Ok(NOT_YET_CREATED.to_string());
    }
    report.event(Event::ManagedStackCreating);
    create(aws, poller, in_review).await.map_err(|e| {
        // A wait that ran out is not a failure: CloudFormation goes on, and the message says so.
        if matches!(
            e.downcast_ref::<cfn::WaitError>(),
            Some(cfn::WaitError::TimedOut { .. })
        ) {
            e
        } else {
            e.context("Failed to create managed resources")
        }
    })?;
    let stack = cfn::describe_stack(&aws.cfn, STACK_NAME)
        .await?
        .with_context(|| format!("Stack {STACK_NAME} disappeared right after it was created"))?;
    report.event(Event::ManagedStackCreated);
    report.event(Event::Fact(Fact::Stack {
        name: STACK_NAME.to_string(),
        role: StackRole::ManagedBucket,
        action: Action::Created,
        status: Some(stack.status.clone()),
    }));
    bucket_of(&stack)
}

/// sam's sanity checks on an existing managed stack, then its `SourceBucket` output.
fn bucket_of(stack: &crate::stack_state::StackInfo) -> anyhow::Result<String> {
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

/// `in_review`: an earlier run made the stack and its `InitialCreation` change set but never
/// executed it; CloudFormation refuses a second change set of that name.
async fn create(aws: &Aws, poller: &Poller, in_review: bool) -> anyhow::Result<()> {
    let change_set_name = if in_review {
        format!("InitialCreation{}", chrono::Utc::now().timestamp_millis())
    } else {
        "InitialCreation".to_string()
    };
    let request = ChangeSetRequest {
        stack_name: STACK_NAME.into(),
        change_set_name,
        create: true,
        template: crate::stack_state::TemplateSource::Body(template()),
        parameters: Vec::new(),
        capabilities: vec!["CAPABILITY_IAM".into()],
        tags: vec![(SOURCE_TAG.0.into(), SOURCE_TAG.1.into())],
        role_arn: None,
        notification_arns: Vec::new(),
        description: "Managed Stack for AWS SAM CLI".into(),
        express: None,
    };
    let id = cfn::create_change_set(&aws.cfn, &request).await?;
    match cfn::wait_for_change_set(&aws.cfn, STACK_NAME, &id, poller).await? {
        ChangeSetOutcome::Ready(_) => {}
        ChangeSetOutcome::Empty => bail!("the change set for {STACK_NAME} was empty"),
        ChangeSetOutcome::Failed(reason) => bail!("{reason}"),
    }
    let mut cursor = cfn::EventCursor::for_new_stack(STACK_NAME);
    cfn::execute_change_set(&aws.cfn, STACK_NAME, &id, Some(false)).await?;
    let outcome = cfn::wait_for_stack(&aws.cfn, &mut cursor, poller, |_| {}).await?;
    match outcome.stack {
        Some(stack) if stack.status == "CREATE_COMPLETE" => Ok(()),
        other => bail!(
            "stack {STACK_NAME} ended in {}{}",
            other.map_or("DELETE_COMPLETE".to_string(), |s| s.status),
            crate::deploy::failure_summary(&outcome.failures)
        ),
    }
}

/// sam's managed stack template (samcli/lib/bootstrap/bootstrap.py), with samrs's version.
fn template() -> String {
    format!(
        r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: Managed Stack for AWS SAM CLI
Metadata:
  SamCliInfo:
    version: samrs-{version}
    installationId: unknown
Resources:
  SamCliSourceBucket:
    Type: AWS::S3::Bucket
    Properties:
      PublicAccessBlockConfiguration:
        BlockPublicPolicy: true
        BlockPublicAcls: true
        IgnorePublicAcls: true
        RestrictPublicBuckets: true
      BucketEncryption:
        ServerSideEncryptionConfiguration:
          - ServerSideEncryptionByDefault:
              SSEAlgorithm: aws:kms
      VersioningConfiguration:
        Status: Enabled
      Tags:
        - Key: ManagedStackSource
          Value: AwsSamCli
  SamCliSourceBucketBucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref SamCliSourceBucket
      PolicyDocument:
        Statement:
          - Action:
              - s3:GetObject
            Effect: Allow
            Resource: !Join ['', ['arn:', !Ref AWS::Partition, ':s3:::', !Ref SamCliSourceBucket, '/*']]
            Principal:
              Service: serverlessrepo.amazonaws.com
            Condition:
              StringEquals:
                aws:SourceAccount: !Ref AWS::AccountId
          - Action: s3:*
            Effect: Deny
            Resource:
              - !Join ['', ['arn:', !Ref AWS::Partition, ':s3:::', !Ref SamCliSourceBucket]]
              - !Join ['', ['arn:', !Ref AWS::Partition, ':s3:::', !Ref SamCliSourceBucket, '/*']]
            Principal: '*'
            Condition:
              Bool:
                aws:SecureTransport: false
Outputs:
  SourceBucket:
    Value: !Ref SamCliSourceBucket
"#,
        version = env!("CARGO_PKG_VERSION")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack_state::{StackInfo, StackOutput};

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
}
