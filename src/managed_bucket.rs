//! The SAM CLI's managed bucket stack `aws-sam-cli-managed-default` (`--resolve-s3`), carried
//! out as [`crate::plan::bucket`] decides: its bucket used, waited for, or created, so a bucket
//! made by sam is reused by samrs and the other way round.

use anyhow::bail;

use crate::cloudformation as cfn;
use crate::cloudformation::ChangeSetOutcome;
use crate::events::{Action, Event, Fact, StackRole};
use crate::plan::bucket::{self, BucketAction, NOT_YET_CREATED, SOURCE_TAG, STACK_NAME};
use crate::stack_state::{failure_summary, ChangeSetRequest, StackInfo};
use crate::stackops::{Events, StackOps};

/// The managed stack as it is now (None: there is none).
pub async fn observe(ops: &StackOps<'_>) -> anyhow::Result<Option<StackInfo>> {
    Ok(cfn::describe_stack(&ops.aws.cfn, STACK_NAME).await?)
}

/// The bucket of the managed stack, found or made (a preview only says it would be created).
pub async fn ensure(ops: &StackOps<'_>, preview: bool) -> anyhow::Result<String> {
    let stack = observe(ops).await?;
    carry_out(ops, bucket::action(stack.as_ref())?, preview).await
}

/// Carries out what was decided for the managed stack, and gives its bucket.
pub async fn carry_out(
    ops: &StackOps<'_>,
    mut action: BucketAction,
    preview: bool,
) -> anyhow::Result<String> {
    loop {
        action = match action {
            BucketAction::Use(bucket) => return Ok(bucket),
            BucketAction::Wait { status } => {
                let outcome = ops
                    .settle(
                        STACK_NAME,
                        &status,
                        StackRole::ManagedBucket,
                        cfn::Want::Stack,
                    )
                    .await?;
                bucket::action(outcome.stack.as_ref())?
            }
            BucketAction::Create { .. } if preview => {
                ops.report.event(Event::ManagedStackPlanned);
                return Ok(NOT_YET_CREATED.to_string());
            }
            BucketAction::Create { in_review } => {
                ops.report.event(Event::ManagedStackCreating);
                let stack = create(ops, in_review).await.map_err(|e| {
                    // A wait that ran out is not a failure: CloudFormation goes on, and the
                    // message says so.
                    if matches!(
                        e.downcast_ref::<cfn::WaitError>(),
                        Some(cfn::WaitError::TimedOut { .. })
                    ) {
                        e
                    } else {
                        e.context("Failed to create managed resources")
                    }
                })?;
                ops.report.event(Event::ManagedStackCreated);
                ops.report.record(Fact::Stack {
                    name: STACK_NAME.to_string(),
                    role: StackRole::ManagedBucket,
                    action: Action::Created,
                    status: Some(stack.status.clone()),
                });
                BucketAction::Use(bucket::bucket_of(&stack)?)
            }
        }
    }
}

/// Creates the stack and returns it. `in_review`: an earlier run made the stack and its
/// `InitialCreation` change set but never executed it; CloudFormation refuses a second change
/// set of that name.
async fn create(ops: &StackOps<'_>, in_review: bool) -> anyhow::Result<StackInfo> {
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
        include_nested_stacks: false,
    };
    let cfn = &ops.aws.cfn;
    let id = cfn::create_change_set(cfn, &request).await?;
    match cfn::wait_for_change_set(cfn, STACK_NAME, &id, ops.poller).await? {
        ChangeSetOutcome::Ready(_) => {}
        ChangeSetOutcome::Empty => bail!("the change set for {STACK_NAME} was empty"),
        ChangeSetOutcome::Failed(reason) => bail!("{reason}"),
    }
    let outcome = ops
        .execute(
            STACK_NAME,
            &id,
            Some(false),
            true,
            Events::Quiet,
            cfn::Want::Stack,
        )
        .await?;
    match outcome.stack {
        Some(stack) if stack.status == "CREATE_COMPLETE" => Ok(stack),
        other => bail!(
            "stack {STACK_NAME} ended in {}{}",
            other.map_or("DELETE_COMPLETE".to_string(), |s| s.status),
            failure_summary(&outcome.failures)
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
