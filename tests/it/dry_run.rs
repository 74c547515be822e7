//! End to end: a dry run leaves nothing behind, whatever happens (a change set CloudFormation
//! fails, Ctrl-C while the change set is made or read), and removes only what it made; a real
//! deploy whose change set fails takes the empty stack CloudFormation made for it along.

use crate::harness::{Fault, FaultProxy, Rule, RunOutput, TestEnv, SIGINT, SIGTERM};

/// A template the SAM transform rejects: CloudFormation (and the emulator, TRANSFORMFAIL) creates
/// the change set, and the stack for it, then fails the change set.
const REJECTED: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      InlineCode: "def handler(e, c): return 1"
      Events:
        Bad:
          Type: Api
          Properties:
            Path: 123
            Method: get
"#;

const TOPIC: &str = r#"Resources:
  Topic:
    Type: AWS::SNS::Topic
"#;

/// A template whose stack rolls back: two repositories of one name, the second fails.
pub fn rolling_back(repo: &str) -> String {
    format!(
        "Resources:\n  A:\n    Type: AWS::ECR::Repository\n    Properties: {{RepositoryName: {repo}}}\n  B:\n    Type: AWS::ECR::Repository\n    Properties: {{RepositoryName: {repo}}}\n"
    )
}

/// `samrs deploy` of the work dir's template.yaml, without S3 unless `extra` names a bucket.
pub fn deploy(env: &TestEnv, stack: &str, extra: &[&str]) -> RunOutput {
    let mut args = vec![
        "deploy",
        "--stack-name",
        stack,
        "--capabilities",
        "CAPABILITY_IAM",
        "CAPABILITY_AUTO_EXPAND",
        "--no-fail-on-empty-changeset",
    ];
    args.extend_from_slice(extra);
    env.samrs(&args)
}

/// The one `Error:` line of a run.
pub fn error_line(out: &RunOutput) -> &str {
    out.stderr
        .lines()
        .find(|l| l.starts_with("Error:"))
        .unwrap_or_else(|| panic!("no Error: line\n{out}"))
}

#[test]
fn a_dry_run_whose_change_set_fails_leaves_no_stack() {
    let env = TestEnv::new("dry-rejected");
    let stack = env.name("app");
    env.write_file("template.yaml", REJECTED);
    let out = deploy(&env, &stack, &["--dry-run", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    assert!(
        error_line(&out).contains("Transform AWS::Serverless-2016-10-31 failed with"),
        "{out}"
    );
    assert_eq!(env.emu.stack_status(&stack), None, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    assert_eq!(doc["status"], "failure");
    assert_eq!(doc["error"]["type"], "change_set_failed");
    assert_eq!(doc["left_behind"], serde_json::json!([]));
    let actions: Vec<&str> = doc["done"]["change_sets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "deleted"]);
}

/// sam leaves the REVIEW_IN_PROGRESS stack of a failed CREATE change set; samrs removes it (it
/// holds nothing), and on an existing stack removes the failed change set and nothing else.
#[test]
fn a_failed_change_set_takes_its_empty_stack_along() {
    let env = TestEnv::new("failed-changeset");
    let stack = env.name("app");
    env.write_file("template.yaml", REJECTED);
    let out = deploy(&env, &stack, &[]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    assert!(
        out.stdout.contains("Removed the change set samrs-deploy"),
        "{out}"
    );
    assert_eq!(env.emu.stack_status(&stack), None, "{out}");

    env.write_file("template.yaml", TOPIC);
    deploy(&env, &stack, &[]).assert_success();
    env.write_file("template.yaml", REJECTED);
    let out = deploy(&env, &stack, &[]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );
    let failed: Vec<(String, String)> = env
        .emu
        .change_sets(&stack)
        .into_iter()
        .filter(|(_, status)| status == "FAILED")
        .collect();
    assert_eq!(failed, [], "{out}");
}

/// A stack left in REVIEW_IN_PROGRESS by someone's `--no-execute-changeset` is not the dry run's:
/// the dry run removes its own change set and leaves that stack and change set alone.
#[test]
fn a_dry_run_removes_only_what_it_made() {
    let env = TestEnv::new("dry-own");
    let stack = env.name("app");
    env.write_file("template.yaml", TOPIC);
    deploy(&env, &stack, &["--no-execute-changeset"]).assert_success();
    let pending = env.emu.change_sets(&stack);
    assert_eq!(pending.len(), 1);
    std::thread::sleep(std::time::Duration::from_millis(1100)); // change set names carry the second
    deploy(&env, &stack, &["--dry-run"]).assert_success();
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("REVIEW_IN_PROGRESS")
    );
    assert_eq!(env.emu.change_sets(&stack), pending);
}

/// A stack that a deploy would delete and create again (ROLLBACK_COMPLETE) is only described.
#[test]
fn a_dry_run_does_not_delete_a_stack_that_was_never_created() {
    let env = TestEnv::new("dry-rollback");
    let stack = env.name("app");
    env.write_file("template.yaml", &rolling_back(&env.name("dup")));
    assert_eq!(deploy(&env, &stack, &[]).status.code(), Some(1));
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("ROLLBACK_COMPLETE")
    );
    env.write_file("template.yaml", TOPIC);
    let out = deploy(&env, &stack, &["--dry-run"]);
    out.assert_success();
    assert!(
        out.stdout
            .contains("a deploy deletes it and creates it again"),
        "{out}"
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("ROLLBACK_COMPLETE")
    );
}

/// Ctrl-C while the dry run's change set is being created (the call in flight is let finish) or
/// read: the dry run removes the change set and the stack made for it, then exits 130. SIGTERM
/// (a cancelled CI job) does the same and exits 143.
#[test]
fn ctrl_c_during_a_dry_run_removes_what_it_made() {
    std::thread::scope(|scope| {
        for (call, signal, status) in [
            ("CreateChangeSet", SIGINT, 130),
            ("DescribeChangeSet", SIGINT, 130),
            ("CreateChangeSet", SIGTERM, 143),
        ] {
            scope.spawn(move || {
                let mut env = TestEnv::new(&format!("dry-signal-{call}-{signal}"));
                let proxy = FaultProxy::start(&mut env);
                let stack = env.name("app");
                env.write_file("template.yaml", TOPIC);
                let name = format!("cloudformation:{call}");
                proxy.set(&[
                    Rule::times(&format!("^{name}$"), Fault::Delay(3.0), 1).on_stack(&stack)
                ]);
                let run = env.spawn_samrs(&[
                    "deploy",
                    "--stack-name",
                    &stack,
                    "--dry-run",
                    "--output",
                    "json",
                ]);
                proxy.wait_until_held(&name);
                run.signal(signal);
                let out = run.finish();
                proxy.set(&[]);
                proxy.wait_until_idle();
                assert_eq!(out.status.code(), Some(status), "{call}\n{out}");
                assert!(
                    out.stderr
                        .contains("Interrupted: removing what the dry run created before stopping"),
                    "{call}\n{out}"
                );
                assert!(
                    out.stderr
                        .contains("Interrupted: the dry run removed the change set"),
                    "{call}\n{out}"
                );
                assert_eq!(env.emu.stack_status(&stack), None, "{call}\n{out}");
                let doc: serde_json::Value =
                    serde_json::from_str(&out.stdout).expect("one JSON document");
                assert_eq!(doc["status"], "interrupted", "{call}");
                assert_eq!(doc["exit_code"], status, "{call}");
                assert_eq!(doc["error"]["phase"], "change_set", "{call}");
            });
        }
    });
}

/// A second Ctrl-C stops at once, saying what may be left and how to delete it.
#[test]
fn a_second_ctrl_c_stops_a_dry_run_at_once() {
    let mut env = TestEnv::new("dry-ctrl-c-twice");
    let proxy = FaultProxy::start(&mut env);
    let stack = env.name("app");
    env.write_file("template.yaml", TOPIC);
    proxy.set(&[
        Rule::times("^cloudformation:CreateChangeSet$", Fault::Delay(3.0), 1).on_stack(&stack),
    ]);
    let run = env.spawn_samrs(&["deploy", "--stack-name", &stack, "--dry-run"]);
    proxy.wait_until_held("cloudformation:CreateChangeSet");
    run.signal(SIGINT);
    std::thread::sleep(std::time::Duration::from_millis(300));
    run.signal(SIGINT);
    let out = run.finish();
    proxy.set(&[]);
    proxy.wait_until_idle();
    assert_eq!(out.status.code(), Some(130), "{out}");
    let last = out
        .stderr
        .lines()
        .rfind(|l| l.starts_with("Interrupted:"))
        .unwrap_or_default();
    assert!(
        last.starts_with(
            "Interrupted: the dry run stopped before it removed the change set samrs-deploy"
        ) && last.ends_with(&format!(
            "and the stack {stack} made for it; delete the stack with \
             `aws cloudformation delete-stack --stack-name {stack}` if it is in REVIEW_IN_PROGRESS"
        )),
        "{out}"
    );
    // What the held call made is what the message said.
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("REVIEW_IN_PROGRESS")
    );
    crate::harness::block_on(env.emu.cfn().delete_stack().stack_name(&stack).send())
        .expect("delete the stack the test left");
}
