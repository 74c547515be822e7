//! What the change set changes, as a reviewer reads it: CloudFormation's changes completed with
//! what was read around them (the deployed processed template, the code the modified functions
//! run) by the pure [`changes::complete`], secrets masked.

use std::collections::HashMap;

use serde_json::Value;

use super::change_set::Ready;
use super::execute::Executor;
use crate::cloudformation as cfn;
use crate::plan::changes::{self, DeployedCode, Inputs, ResourceChange, Secrets};
use crate::{debug, lambda, template};

pub(super) async fn complete(
    executor: &Executor<'_>,
    ready: &Ready,
) -> anyhow::Result<Vec<ResourceChange>> {
    let aws = executor.ops.aws;
    let packaged = executor.packaged()?;
    let stack = executor.settings.stack_name.as_str();
    let deployed_template = async {
        if ready.create {
            return Ok(None);
        }
        let text = cfn::processed_template(&aws.cfn, stack, None).await?;
        Ok::<_, anyhow::Error>(template::parse_str(&text, "the deployed processed template").ok())
    };
    let (deployed_template, deployed_code) =
        tokio::join!(deployed_template, deployed_code(executor, &ready.changes));
    let deployed_template = deployed_template?;
    let new_code = changes::new_code(&packaged.template, &packaged.zips);
    let mut templates: Vec<&Value> = vec![&executor.prepared()?.original.value, &packaged.template];
    templates.extend(packaged.nested.iter().map(|n| &n.template));
    templates.extend(deployed_template.as_ref());
    let secrets = Secrets::of(&templates, &executor.settings.parameter_overrides);
    let inputs = Inputs {
        deployed_template: deployed_template.as_ref(),
        new_template: ready.new_template.as_ref(),
        deployed_code: &deployed_code,
        new_code: &new_code,
        secrets: &secrets,
    };
    Ok(changes::complete(ready.changes.clone(), &inputs))
}

/// The code the main stack's modified functions run, read at once. Reading it is not needed to
/// deploy, so a refusal (a role without `lambda:GetFunction`) only leaves the code comparison out.
async fn deployed_code(
    executor: &Executor<'_>,
    changes: &[ResourceChange],
) -> HashMap<String, DeployedCode> {
    let mut reads = tokio::task::JoinSet::new();
    for change in changes {
        let Some(name) = change.physical_id.clone() else {
            continue;
        };
        if change.action != "Modify" || change.resource_type != "AWS::Lambda::Function" {
            continue;
        }
        let (client, id) = (executor.ops.aws.lambda.clone(), change.logical_id.clone());
        reads.spawn(async move { (id, lambda::deployed_code(&client, &name).await) });
    }
    let mut code = HashMap::new();
    while let Some(read) = reads.join_next().await {
        match read {
            Ok((id, Ok(Some(deployed)))) => {
                code.insert(id, deployed);
            }
            Ok((_, Ok(None))) => {}
            Ok((id, Err(err))) => {
                debug::log(&format!("The code of {id} is not compared: {err}"));
            }
            Err(err) => debug::log(&format!("Reading a function's code stopped: {err}")),
        }
    }
    code
}
