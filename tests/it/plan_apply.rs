//! End to end: `samrs deploy --plan-out FILE` changes nothing in the account but the uploaded
//! artifacts and the main stack's change set (no repository, no image, no stack update), and
//! `samrs apply FILE` deploys exactly that plan once: the repositories, the planned digests, the
//! same change set. A plan applied already, made stale by another deploy, whose change set was
//! deleted, or whose local image changed is refused with one line, and nothing changes.

use samrs::companion::{CompanionStack, EcrRepo};

use crate::harness::{block_on, RunOutput, TestEnv};

/// One image function (a docker archive), one zip function.
const V1: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  First:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: docker-archive:first.tar
    Metadata:
      DockerTag: v1
  Zip:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
"#;

/// V1 and a second image function: a repository that does not exist yet.
fn v2() -> String {
    format!(
        "{V1}  Second:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      ImageUri: docker-archive:second.tar\n"
    )
}

fn project(env: &TestEnv) {
    env.write_tiny_image("first.tar", "first:v1", "first", 0);
    env.write_tiny_image("second.tar", "second:v1", "second", 0);
    env.write_file("src/app.py", "def handler(event, context):\n    return 1\n");
    env.write_file("template.yaml", V1);
}

fn deploy(env: &TestEnv, stack: &str, extra: &[&str]) -> RunOutput {
    env.samrs(&TestEnv::managed_deploy_args(stack, extra))
}

fn plan_out(env: &TestEnv, stack: &str, file: &str) -> RunOutput {
    let out = deploy(env, stack, &["--plan-out", file]);
    out.assert_success();
    out
}

fn plan(env: &TestEnv, file: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(env.work_dir().join(file)).expect("the plan file");
    serde_json::from_str(&text).expect("the plan is JSON")
}

/// Everything of the app's in the account that a deploy changes: both stacks (status, last
/// update, template), the repositories named after the stack, and the images in each.
fn account_state(env: &TestEnv, stack: &str) -> String {
    let companion = CompanionStack::new(stack);
    let mut lines = Vec::new();
    for name in [stack, companion.name()] {
        let found = block_on(env.emu.cfn().describe_stacks().stack_name(name).send());
        let Ok(out) = found else {
            lines.push(format!("{name}: none"));
            continue;
        };
        let Some(s) = out.stacks().first() else {
            continue;
        };
        let template = block_on(env.emu.cfn().get_template().stack_name(name).send())
            .ok()
            .and_then(|t| t.template_body().map(str::to_string))
            .unwrap_or_default();
        lines.push(format!(
            "{name}: {:?} updated {:?} template of {} bytes: {}",
            s.stack_status(),
            s.last_updated_time(),
            template.len(),
            template
        ));
    }
    let prefix = EcrRepo::for_function(&companion, "First")
        .repository_name()
        .split('/')
        .next()
        .unwrap_or_default()
        .to_string();
    for repo in env
        .emu
        .repositories()
        .into_iter()
        .filter(|r| r.starts_with(&prefix))
    {
        lines.push(format!("{repo}: {:?}", env.emu.registry_tags(&repo)));
    }
    lines.join("\n")
}

/// The ImageUri the deployed function runs.
fn deployed_image(env: &TestEnv, stack: &str, function: &str) -> String {
    let resources = env.emu.stack_resources(stack);
    let physical = &resources
        .iter()
        .find(|r| r.logical_id == function)
        .unwrap_or_else(|| panic!("{function} deployed"))
        .physical_id;
    let lambda = env
        .emu
        .lambda_function(physical)
        .expect("function in Lambda");
    lambda["Code"]["ImageUri"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn refusal(out: &RunOutput) -> String {
    assert_eq!(out.status.code(), Some(1), "{out}");
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("Error:"))
        .collect();
    assert_eq!(errors.len(), 1, "one line: {out}");
    errors[0].to_string()
}

#[test]
fn a_plan_adds_nothing_but_artifacts_and_its_change_set_and_applies_once() {
    let env = TestEnv::new("plan-apply");
    let stack = env.name("app");
    project(&env);
    deploy(&env, &stack, &[]).assert_success();
    env.write_file("template.yaml", &v2());
    let before = account_state(&env, &stack);
    let changes_before = env.emu.change_sets(&stack).len();

    let out = plan_out(&env, &stack, "plan.json");
    assert!(
        out.stdout.contains("samrs apply"),
        "says how to apply: {out}"
    );
    assert_eq!(account_state(&env, &stack), before, "{out}");
    assert_eq!(env.emu.change_sets(&stack).len(), changes_before + 1);
    let saved = plan(&env, "plan.json");
    assert_eq!(saved["format"], "samrs-plan");
    assert_eq!(saved["version"], 1);
    let bucket = saved["artifacts"]["bucket"].as_str().expect("the bucket");
    let objects = env.emu.list_objects(bucket);
    for key in saved["artifacts"]["keys"]
        .as_array()
        .expect("artifact keys")
    {
        assert!(objects.iter().any(|o| o == key.as_str().unwrap()), "{key}");
    }
    let companion = &saved["plan"]["companion"]["plan"];
    let second = companion["repos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["function"] == "Second")
        .expect("Second's repository planned");
    assert_eq!(second["action"], "create", "{companion}");
    let images = saved["plan"]["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);

    let out = env.samrs(&["apply", "plan.json"]);
    out.assert_success();
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("UPDATE_COMPLETE")
    );
    for image in images {
        let function = image["function"].as_str().unwrap();
        let planned = format!(
            "{}@{}",
            image["repository_uri"].as_str().unwrap(),
            image["digest"].as_str().unwrap()
        );
        assert_eq!(deployed_image(&env, &stack, function), planned, "{out}");
    }
    let executed: Vec<(String, String)> = env.emu.change_sets(&stack);
    assert!(
        executed
            .iter()
            .any(|(name, _)| *name == saved["change_set"]["name"]),
        "the plan's change set was executed: {executed:?}"
    );

    let applied = account_state(&env, &stack);
    let out = env.samrs(&["apply", "plan.json", "--output", "json"]);
    assert!(
        refusal(&out).contains("The plan was applied already"),
        "{out}"
    );
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["command"], "apply");
    assert_eq!(doc["error"]["type"], "refused");
    assert_eq!(account_state(&env, &stack), applied);

    // Planned again with nothing to deploy: no plan to apply.
    let out = deploy(&env, &stack, &["--plan-out", "again.json"]);
    out.assert_success();
    assert!(out.stderr.contains("No plan was written"), "{out}");
    assert!(!env.work_dir().join("again.json").exists());
}

#[test]
fn a_plan_for_a_new_stack_makes_no_repository_and_pushes_nothing_until_applied() {
    let env = TestEnv::new("plan-new");
    let stack = env.name("app");
    project(&env);
    let out = deploy(
        &env,
        &stack,
        &["--plan-out", "plan.json", "--output", "json"],
    );
    out.assert_success();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["status"], "planned");
    assert!(
        doc["plan_file"].as_str().unwrap().ends_with("plan.json"),
        "{doc}"
    );
    // The stack CloudFormation makes for a new stack's change set, and nothing else.
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("REVIEW_IN_PROGRESS"),
        "{out}"
    );
    let companion = CompanionStack::new(&stack);
    assert_eq!(env.emu.stack_status(companion.name()), None);
    let repo = EcrRepo::for_function(&companion, "First")
        .repository_name()
        .to_string();
    assert!(!env.emu.repositories().contains(&repo));

    let out = env.samrs(&["apply", "plan.json"]);
    out.assert_success();
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );
    let saved = plan(&env, "plan.json");
    let digest = saved["plan"]["images"][0]["digest"].as_str().unwrap();
    assert!(deployed_image(&env, &stack, "First").ends_with(&format!("{repo}@{digest}")));
    assert_eq!(env.emu.registry_tags(&repo).len(), 1);
}

#[test]
fn a_plan_made_stale_by_another_deploy_is_refused_and_nothing_changes() {
    let env = TestEnv::new("plan-stale");
    let stack = env.name("app");
    project(&env);
    deploy(&env, &stack, &[]).assert_success();
    env.write_file("template.yaml", &v2());
    plan_out(&env, &stack, "plan.json");
    // Someone else deploys meanwhile.
    env.write_file("template.yaml", &V1.replace("python3.12", "python3.13"));
    deploy(&env, &stack, &[]).assert_success();
    let moved = account_state(&env, &stack);

    let out = env.samrs(&["apply", "plan.json"]);
    let line = refusal(&out);
    assert!(
        line.contains(&format!("Stack {stack} changed since the plan was made")),
        "{line}"
    );
    assert_eq!(account_state(&env, &stack), moved);
}

#[test]
fn a_plan_whose_change_set_was_deleted_is_refused() {
    let env = TestEnv::new("plan-deleted");
    let stack = env.name("app");
    project(&env);
    deploy(&env, &stack, &[]).assert_success();
    env.write_file("template.yaml", &v2());
    plan_out(&env, &stack, "plan.json");
    let arn = plan(&env, "plan.json")["change_set"]["arn"]
        .as_str()
        .unwrap()
        .to_string();
    block_on(
        env.emu
            .cfn()
            .delete_change_set()
            .change_set_name(&arn)
            .send(),
    )
    .expect("DeleteChangeSet");
    let before = account_state(&env, &stack);

    let out = env.samrs(&["apply", "plan.json"]);
    assert!(refusal(&out).contains("is gone (deleted)"), "{out}");
    assert_eq!(account_state(&env, &stack), before);
}

#[test]
fn a_plan_whose_local_image_changed_is_refused_before_anything_changes() {
    let env = TestEnv::new("plan-image");
    let stack = env.name("app");
    project(&env);
    deploy(&env, &stack, &[]).assert_success();
    env.write_file("template.yaml", &v2());
    plan_out(&env, &stack, "plan.json");
    // The image is built again, differently, between the review and the apply.
    env.write_tiny_image("second.tar", "second:v1", "rebuilt", 0);
    let before = account_state(&env, &stack);

    let out = env.samrs(&["apply", "plan.json"]);
    let line = refusal(&out);
    assert!(
        line.contains("The image of Second is not the one planned"),
        "{line}"
    );
    assert_eq!(account_state(&env, &stack), before, "no repository made");
}

#[test]
fn an_apply_stopped_by_a_failed_push_goes_on_when_run_again() {
    let mut env = TestEnv::new("plan-resume");
    let stack = env.name("app");
    project(&env);
    deploy(&env, &stack, &[]).assert_success();
    env.write_file("template.yaml", &v2());
    plan_out(&env, &stack, "plan.json");

    // The registry cannot be reached: companion phase 1 is done, no push, no change set executed.
    let registry = env.emu.registry_url();
    env.set_env("SAMRS_REGISTRY_ENDPOINT", "http://127.0.0.1:9");
    env.set_env("AWS_MAX_ATTEMPTS", "1");
    let out = env.samrs(&["apply", "plan.json"]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    let companion = CompanionStack::new(&stack);
    let second = EcrRepo::for_function(&companion, "Second")
        .repository_name()
        .to_string();
    assert!(
        env.emu.repositories().contains(&second),
        "phase 1 ran: {out}"
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );

    env.set_env("SAMRS_REGISTRY_ENDPOINT", &registry);
    let out = env.samrs(&["apply", "plan.json", "--output", "json"]);
    out.assert_success();
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["command"], "apply");
    assert_eq!(doc["status"], "success");
    assert_eq!(doc["stack_status"], "UPDATE_COMPLETE");
    let digest = plan(&env, "plan.json")["plan"]["images"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["function"] == "Second")
        .and_then(|i| i["digest"].as_str())
        .unwrap()
        .to_string();
    assert!(deployed_image(&env, &stack, "Second").ends_with(&format!("{second}@{digest}")));
}
