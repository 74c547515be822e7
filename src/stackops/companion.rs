//! Reading a companion stack and deleting its repositories (stacks made by sam have no
//! `EmptyOnDelete`, so their repositories are emptied through ECR first).

use anyhow::Context;

use super::StackOps;
use crate::aws::AwsResultExt;
use crate::cloudformation as cfn;
use crate::cloudformation::Want;
use crate::companion::{earlier_failure, DeployedResource, Observed};
use crate::events::{Action, Event, Fact, StackRole};
use crate::stack_state::{stack_action, StackAction};

impl StackOps<'_> {
    /// Before a deploy plans or a delete deletes the companion stack: waits for an operation
    /// still running on it (the last deploy's clean-up, which it left running) and reports its
    /// last operation when that failed (one warning line, and `earlier_failure` in the JSON
    /// document). False when the stack is gone.
    pub async fn check_companion(&self, name: &str) -> anyhow::Result<bool> {
        let Some(stack) = cfn::describe_stack(&self.aws.cfn, name).await? else {
            return Ok(false);
        };
        let mut status = stack.status;
        if stack_action(name, Some(&status)) == StackAction::Wait {
            let outcome = self
                .settle(name, &status, StackRole::Companion, Want::Status)
                .await?;
            let Some(ended) = outcome.status else {
                return Ok(false);
            };
            status = ended;
        }
        if !status.starts_with("UPDATE_") {
            return Ok(true);
        }
        let events = cfn::last_operation_events(&self.aws.cfn, name).await?;
        let mut gone = Vec::new();
        for event in events.iter().filter(|e| {
            e.status.starts_with("DELETE_FAILED") && e.resource_type == "AWS::ECR::Repository"
        }) {
            if !crate::ecr::repository_exists(&self.aws.ecr, &event.physical_id).await? {
                gone.push(event.physical_id.clone());
            }
        }
        if let Some(failure) = earlier_failure(name, &status, &events, |repo| {
            !gone.iter().any(|g| g == repo)
        }) {
            self.report.event(Event::EarlierFailure(failure.clone()));
            self.report.record(Fact::EarlierFailure(failure));
        }
        Ok(true)
    }

    /// Reads the companion stack and, when its repositories can be kept (a stable or busy stack),
    /// its resources.
    pub async fn observe_companion(&self, name: &str) -> anyhow::Result<Observed> {
        let Some(stack) = cfn::describe_stack(&self.aws.cfn, name).await? else {
            return Ok(Observed::default());
        };
        let keeps_resources = matches!(
            stack_action(name, Some(&stack.status)),
            StackAction::Update | StackAction::Wait
        );
        if !keeps_resources {
            return Ok(Observed {
                status: Some(stack.status),
                resources: Vec::new(),
            });
        }
        let resources = cfn::list_stack_resources(&self.aws.cfn, name)
            .await?
            .into_iter()
            .filter(|r| !r.status.starts_with("DELETE_COMPLETE"))
            .map(|r| DeployedResource {
                logical_id: r.logical_id,
                physical_id: r.physical_id,
                resource_type: r.resource_type,
            })
            .collect();
        Ok(Observed {
            status: Some(stack.status),
            resources,
        })
    }

    /// The account id, which managed repository URIs contain.
    pub async fn account_id(&self) -> anyhow::Result<String> {
        let identity = self
            .aws
            .sts
            .get_caller_identity()
            .send()
            .await
            .aws("STS GetCallerIdentity")?;
        identity
            .account()
            .map(str::to_string)
            .context("STS GetCallerIdentity returned no account id")
    }

    /// The names of the repositories of a companion stack.
    pub async fn companion_repositories(&self, name: &str) -> anyhow::Result<Vec<String>> {
        Ok(cfn::list_stack_resources(&self.aws.cfn, name)
            .await?
            .into_iter()
            .filter(|r| r.resource_type == "AWS::ECR::Repository" && !r.physical_id.is_empty())
            .map(|r| r.physical_id)
            .collect())
    }

    /// Deletes every repository of a companion stack with its images, through ECR.
    pub async fn delete_companion_repositories(&self, name: &str) -> anyhow::Result<()> {
        for repository in self.companion_repositories(name).await? {
            self.delete_repository(&repository).await?;
        }
        Ok(())
    }

    /// Deletes a repository with its images.
    pub async fn delete_repository(&self, name: &str) -> anyhow::Result<()> {
        self.report
            .event(Event::DeletingRepository(name.to_string()));
        crate::ecr::force_delete_repository(&self.aws.ecr, name).await?;
        self.report.record(Fact::Repository {
            name: name.to_string(),
            action: Action::Deleted,
        });
        Ok(())
    }
}
