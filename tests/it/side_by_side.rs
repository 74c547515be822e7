//! What a deploy runs side by side and what it leaves running, on the wall-clock model of
//! CloudFormation (`MOTO_CFN_OP_SECONDS`), read from the emulator's own timestamps: the main
//! stack's change set is created while the companion stack is created or updated, and executed
//! after both; the clean-up that retires repositories is started and not waited for, and the next
//! deploy waits for it and reports its failure; `--wait-for-cleanup` waits.

use aws_smithy_types::DateTime;
use serde_json::Value;

use crate::harness::{block_on, Emulator, Fault, FaultProxy, Rule, RunOutput, TestEnv};
use crate::json_output::document;
use crate::wall_clock::template;

/// Every stack operation lasts this long; a change set takes [`CHANGE_SET_SECONDS`].
const OP_SECONDS: &str = "3";
const CHANGE_SET_SECONDS: &str = "1";

/// A private wall-clock emulator (`extra`: more of its environment) and a test's env on it.
fn env_on(extra: &[(&str, &str)], name: &str) -> TestEnv {
    let mut moto_env = vec![
        ("MOTO_CFN_OP_SECONDS", OP_SECONDS),
        ("MOTO_CFN_CHANGESET_SECONDS", CHANGE_SET_SECONDS),
    ];
    moto_env.extend_from_slice(extra);
    let env = TestEnv::on(Emulator::private(&moto_env), name);
    env.write_file(
        "src/app.py",
        "def handler(event, context):\n    return 'hi'\n",
    );
    env
}

fn deploy(env: &TestEnv, stack: &str, extra: &[&str]) -> (RunOutput, Value) {
    let mut args = TestEnv::managed_deploy_args(stack, &["--output", "json"]);
    args.extend_from_slice(extra);
    let out = env.samrs(&args);
    let doc = document(&out);
    (out, doc)
}

/// A stack event as the emulator stamped it.
#[derive(Debug)]
struct Stamped {
    logical_id: String,
    status: String,
    at: DateTime,
}

/// The stack's events, oldest first.
fn events(env: &TestEnv, stack: &str) -> Vec<Stamped> {
    let pages = block_on(
        env.emu
            .cfn()
            .describe_stack_events()
            .stack_name(stack)
            .into_paginator()
            .items()
            .send()
            .try_collect(),
    )
    .unwrap_or_else(|e| panic!("DescribeStackEvents {stack}: {e:?}"));
    let mut events: Vec<Stamped> = pages
        .iter()
        .map(|e| Stamped {
            logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
            status: e
                .resource_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
            at: *e.timestamp().expect("an event's timestamp"),
        })
        .collect();
    events.reverse();
    events
}

/// When the stack's own event of `status` came, the first after `after`.
fn stack_event_at(events: &[Stamped], stack: &str, status: &str, after: DateTime) -> DateTime {
    events
        .iter()
        .find(|e| e.logical_id == stack && e.status == status && e.at > after)
        .unwrap_or_else(|| panic!("no {status} of {stack} after {after}: {events:#?}"))
        .at
}

/// When the emulator created the change set the document names.
fn change_set_created(env: &TestEnv, stack: &str, doc: &Value) -> DateTime {
    let id = doc["changeset_id"].as_str().expect("a change set id");
    let change_set = block_on(
        env.emu
            .cfn()
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(id)
            .send(),
    )
    .unwrap_or_else(|e| panic!("DescribeChangeSet {id}: {e:?}"));
    *change_set
        .creation_time()
        .expect("the change set's creation time")
}

/// Create (the companion stack created) and update (a repository added: the companion stack
/// updated): the main change set is created before the companion operation ends, and executed
/// only after it ended. The clean-up of the update is waited for with `--wait-for-cleanup`.
#[test]
fn the_change_set_is_made_while_the_companion_stack_changes() {
    let env = env_on(&[], "side-by-side");
    let stack = env.name("app");
    let companion = samrs::companion::CompanionStack::new(&stack);
    let companion = companion.name();
    let epoch = DateTime::from_secs(0);

    env.write_file("template.yaml", &template(&[1]));
    let (out, doc) = deploy(&env, &stack, &[]);
    out.assert_success();
    let created = change_set_created(&env, &stack, &doc);
    let companion_events = events(&env, companion);
    let companion_done = stack_event_at(&companion_events, companion, "CREATE_COMPLETE", epoch);
    assert!(
        created < companion_done,
        "create: change set at {created}, companion stack created at {companion_done}"
    );
    let executed = stack_event_at(&events(&env, &stack), &stack, "CREATE_IN_PROGRESS", created);
    assert!(executed > companion_done, "create: executed at {executed}");
    assert_eq!(doc["cleanup"], Value::Null, "{doc}");

    // One repository added (phase 1 updates the stack), one retired (the clean-up).
    env.write_file("template.yaml", &template(&[2]));
    let (out, doc) = deploy(&env, &stack, &["--wait-for-cleanup"]);
    out.assert_success();
    let created = change_set_created(&env, &stack, &doc);
    let companion_events = events(&env, companion);
    let phase1_started = stack_event_at(
        &companion_events,
        companion,
        "UPDATE_IN_PROGRESS",
        companion_done,
    );
    let phase1_done = stack_event_at(
        &companion_events,
        companion,
        "UPDATE_COMPLETE",
        phase1_started,
    );
    assert!(
        created < phase1_done,
        "update: change set at {created}, companion stack updated at {phase1_done}"
    );
    let executed = stack_event_at(&events(&env, &stack), &stack, "UPDATE_IN_PROGRESS", created);
    assert!(executed > phase1_done, "update: executed at {executed}");
    // --wait-for-cleanup: the clean-up ended before samrs did.
    assert_eq!(
        doc["cleanup"],
        serde_json::json!({"waited": true, "status": "UPDATE_COMPLETE"}),
        "{doc}"
    );
    assert_eq!(
        env.emu.stack_status(companion).as_deref(),
        Some("UPDATE_COMPLETE")
    );
    let repositories = env.emu.repositories();
    assert!(
        !repositories.iter().any(|r| r.contains("/imagefunction1")),
        "{repositories:?}"
    );
}

/// An update that retires a repository returns while the clean-up still runs in CloudFormation;
/// the clean-up fails (ECR refuses to delete the repository); the next deploy waits for it to end
/// and reports the repository it left, in one line, then deploys.
#[test]
fn the_clean_up_runs_on_and_the_next_deploy_reports_its_failure() {
    let env = env_on(
        &[("MOTO_ECR_DENY_DELETE", "/imagefunction2[0-9a-f]{8}repo$")],
        "cleanup-fails",
    );
    let stack = env.name("app");
    let companion = samrs::companion::CompanionStack::new(&stack);
    let companion = companion.name();

    env.write_file("template.yaml", &template(&[1, 2]));
    deploy(&env, &stack, &[]).0.assert_success();
    let retired = env
        .emu
        .repositories()
        .into_iter()
        .find(|r| r.contains("/imagefunction2"))
        .expect("the repository of ImageFunction2");

    env.write_file("template.yaml", &template(&[1]));
    let (out, doc) = deploy(&env, &stack, &[]);
    out.assert_success();
    // samrs is done; the clean-up is not.
    assert_eq!(
        env.emu.stack_status(companion).as_deref(),
        Some("UPDATE_IN_PROGRESS")
    );
    assert_eq!(
        doc["cleanup"],
        serde_json::json!({"waited": false, "status": "UPDATE_IN_PROGRESS"}),
        "{doc}"
    );
    assert!(
        out.stderr.contains(&format!(
            "The clean-up of companion stack {companion} runs in CloudFormation; samrs does not wait for it (--wait-for-cleanup waits). Follow it with `aws cloudformation describe-stack-events --stack-name {companion}`"
        )),
        "{out}"
    );
    assert_eq!(doc["earlier_failure"], Value::Null, "{doc}");

    let (out, doc) = deploy(&env, &stack, &[]);
    out.assert_success();
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("Warning:"))
        .collect();
    assert_eq!(
        warnings,
        [format!(
            "Warning: The clean-up of companion stack {companion} could not delete {retired} (User: arn:aws:iam::123456789012:user/test is not authorized to perform: ecr:DeleteRepository on resource: {retired} with an explicit deny); CloudFormation no longer manages it: delete it with `aws ecr delete-repository --force --repository-name {retired}`"
        )],
        "{out}"
    );
    assert_eq!(
        doc["earlier_failure"]["repositories"],
        serde_json::json!([retired]),
        "{doc}"
    );
    assert_eq!(doc["earlier_failure"]["status"], "UPDATE_COMPLETE");
    assert!(env.emu.repositories().contains(&retired));
}

/// A push that fails for good while the change set is made beside it: the change set goes, with
/// the `REVIEW_IN_PROGRESS` stack CloudFormation made for it, so the stack does not exist; the
/// next deploy, the registry well again, deploys.
#[test]
fn a_failed_push_removes_the_change_set_made_beside_it() {
    let mut env = TestEnv::new("beside-push-fails");
    let registry = FaultProxy::start_registry(&mut env);
    let stack = env.name("app");
    env.write_tiny_image("fn.tar", "fn:v1", "beside", 0);
    env.write_file(
        "template.yaml",
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n  \
         Fn:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      \
         ImageUri: docker-archive:fn.tar\n    Metadata:\n      DockerContext: ./fn\n",
    );
    registry.set(&[
        // The push starts late enough for the change set to be made, then fails for good.
        Rule::times("^registry:HEAD /v2/.*/manifests/", Fault::Delay(1.5), 1),
        Rule::always("^registry:PUT /v2/.*/manifests/", Fault::Internal),
    ]);
    let (out, doc) = deploy(&env, &stack, &[]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    assert_eq!(doc["error"]["phase"], "images", "{doc}");
    let change_sets = doc["done"]["change_sets"].as_array().expect("change sets");
    let actions: Vec<&str> = change_sets
        .iter()
        .map(|c| c["action"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(actions, ["created", "deleted"], "{doc}");
    assert_eq!(change_sets[0]["id"], change_sets[1]["id"]);
    assert_eq!(env.emu.stack_status(&stack), None);

    registry.set(&[]);
    let (out, doc) = deploy(&env, &stack, &[]);
    out.assert_success();
    assert_eq!(doc["stack_status"], "CREATE_COMPLETE", "{doc}");
}
