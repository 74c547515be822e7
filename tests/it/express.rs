//! End to end: `--express` reaches CloudFormation as sam 1.170 sends it: `DeploymentConfig`
//! `{Mode: EXPRESS, DisableRollback}` on the main stack's CreateChangeSet (not on the companion's
//! or the managed bucket's stacks), `{Mode: EXPRESS}` on DeleteStack; asserted on what the
//! emulator recorded (DescribeChangeSet, DescribeStacks by stack id).

use aws_sdk_cloudformation::types::DeploymentConfig;
use samrs::companion::CompanionStack;

use crate::harness::{block_on, TestEnv};

/// One image function, already in ECR, with managed repositories.
fn app() -> String {
    crate::guided::template(&["ImageFunction"])
}

/// The stack's id, by name while it exists.
fn stack_id(env: &TestEnv, stack: &str) -> String {
    let out = block_on(env.emu.cfn().describe_stacks().stack_name(stack).send())
        .unwrap_or_else(|e| panic!("DescribeStacks {stack}: {e:?}"));
    out.stacks()[0].stack_id().unwrap_or_default().to_string()
}

/// What the emulator holds for the stack's last operation (the id also finds a deleted stack).
fn stack_config(env: &TestEnv, stack_id: &str) -> Option<DeploymentConfig> {
    let out = block_on(env.emu.cfn().describe_stacks().stack_name(stack_id).send())
        .unwrap_or_else(|e| panic!("DescribeStacks {stack_id}: {e:?}"));
    out.stacks()[0].deployment_config().cloned()
}

/// The DeploymentConfig of each change set of the stack, oldest first.
fn change_set_configs(env: &TestEnv, stack_id: &str) -> Vec<Option<DeploymentConfig>> {
    let cfn = env.emu.cfn();
    let list = block_on(cfn.list_change_sets().stack_name(stack_id).send())
        .unwrap_or_else(|e| panic!("ListChangeSets {stack_id}: {e:?}"));
    list.summaries()
        .iter()
        .map(|summary| {
            let id = summary.change_set_id().unwrap_or_default();
            block_on(
                cfn.describe_change_set()
                    .change_set_name(id)
                    .stack_name(stack_id)
                    .send(),
            )
            .unwrap_or_else(|e| panic!("DescribeChangeSet {id}: {e:?}"))
            .deployment_config()
            .cloned()
        })
        .collect()
}

fn express(disable_rollback: Option<bool>) -> Option<DeploymentConfig> {
    Some(
        DeploymentConfig::builder()
            .mode(aws_sdk_cloudformation::types::DeploymentConfigMode::Express)
            .set_disable_rollback(disable_rollback)
            .build(),
    )
}

#[test]
fn express_mode_reaches_cloudformation_on_deploy_and_delete() {
    let env = TestEnv::new("express");
    env.write_file("template.yaml", &app());
    let stack = env.name("app");
    let out = env.samrs(&TestEnv::managed_deploy_args(&stack, &["--express"]));
    out.assert_success();
    assert!(
        out.stdout.contains("Deployed with CloudFormation Express mode. Resources may still be stabilizing in the background."),
        "{out}"
    );
    let id = stack_id(&env, &stack);
    assert_eq!(change_set_configs(&env, &id), [express(Some(false))]);
    assert_eq!(stack_config(&env, &id), express(Some(false)));
    let companion = CompanionStack::new(&stack);
    assert_eq!(
        stack_config(&env, &stack_id(&env, companion.name())),
        None,
        "the companion stack is deployed in the standard mode"
    );

    // An update with DO_NOTHING: the rollback choice travels in the DeploymentConfig.
    env.write_file(
        "template.yaml",
        &app().replace("Resources:", "Description: v2\nResources:"),
    );
    env.samrs(&TestEnv::managed_deploy_args(
        &stack,
        &["--express", "--on-failure", "DO_NOTHING"],
    ))
    .assert_success();
    assert_eq!(
        change_set_configs(&env, &id),
        [express(Some(false)), express(Some(true))]
    );

    // Without --express: no DeploymentConfig at all.
    env.write_file(
        "template.yaml",
        &app().replace("Resources:", "Description: v3\nResources:"),
    );
    env.samrs(&TestEnv::managed_deploy_args(&stack, &[]))
        .assert_success();
    assert_eq!(change_set_configs(&env, &id).last(), Some(&None));

    let companion_id = stack_id(&env, companion.name());
    let out = env.samrs(&[
        "delete",
        "--stack-name",
        &stack,
        "--no-prompts",
        "--express",
    ]);
    out.assert_success();
    assert!(
        out.stdout.contains("Deleted with CloudFormation Express mode. Some resources may still be removing in the background."),
        "{out}"
    );
    assert_eq!(env.emu.stack_status(&stack), None);
    assert_eq!(stack_config(&env, &id), express(None));
    assert_eq!(stack_config(&env, &companion_id), express(None));
}
