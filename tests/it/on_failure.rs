//! End to end: `--on-failure` (and samconfig's `on_failure`) for failed creates and updates:
//! DELETE removes a stack that never got created, DO_NOTHING keeps what a failed operation made
//! and the next deploy recovers, ROLLBACK (the default) rolls back; with `--disable-rollback` it
//! is sam's usage error.

use crate::dry_run::error_line;
use crate::harness::{RunOutput, TestEnv};
use crate::json_output::document;

/// Two repositories with one name: the second fails to create, after the first was made.
fn failing(repo: &str) -> String {
    format!(
        "AWSTemplateFormatVersion: '2010-09-09'\nResources:\n  RepoA:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {repo}\n  RepoB:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {repo}\n"
    )
}

/// The first repository alone: a template that deploys.
fn good(repo: &str) -> String {
    failing(repo)
        .split("  RepoB:")
        .next()
        .unwrap_or_default()
        .to_string()
}

fn deploy(env: &TestEnv, stack: &str, extra: &[&str]) -> RunOutput {
    let mut args = vec!["deploy", "--stack-name", stack, "--no-confirm-changeset"];
    args.extend_from_slice(extra);
    env.samrs(&args)
}

#[test]
fn on_failure_delete_removes_a_stack_that_failed_to_create() {
    let env = TestEnv::new("onfail-delete");
    let stack = env.name("app");
    let repo = env.name("dup");
    env.write_file("template.yaml", &failing(&repo));
    let out = deploy(&env, &stack, &["--on-failure", "DELETE"]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    for line in [
        format!("Stack {stack} failed to create/update correctly, deleting stack"),
        format!("Stack {stack} has been deleted"),
    ] {
        assert!(out.stdout.contains(&line), "{line:?} missing\n{out}");
    }
    let error = error_line(&out);
    assert!(
        error.starts_with(&format!(
            "Error: Failed to create/update the stack: {stack}, it ended in ROLLBACK_COMPLETE"
        )) && error.ends_with("and was deleted (--on-failure DELETE)"),
        "{error}"
    );
    assert_eq!(env.emu.stack_status(&stack), None);
    assert!(!env.emu.repositories().contains(&repo));
}

/// `--output json` names the failure mode in force and lists the stack DELETE removed.
#[test]
fn the_document_has_the_failure_mode_express_and_the_deleted_stack() {
    let env = TestEnv::new("onfail-json");
    let stack = env.name("app");
    env.write_file("template.yaml", &failing(&env.name("dup")));
    let out = deploy(
        &env,
        &stack,
        &["--on-failure", "DELETE", "--express", "--output", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{out}");
    let doc = document(&out);
    assert_eq!(doc["on_failure"], "DELETE");
    assert_eq!(doc["express"], true);
    assert_eq!(doc["stack_status"], "ROLLBACK_COMPLETE");
    assert_eq!(doc["error"]["type"], "stack_failed");
    assert_eq!(doc["error"]["phase"], "execute");
    let main: Vec<&str> = doc["done"]["stacks"]
        .as_array()
        .expect("stacks")
        .iter()
        .filter(|s| s["name"] == stack.as_str())
        .filter_map(|s| s["action"].as_str())
        .collect();
    assert_eq!(main, ["deleted"], "{doc}");
    assert_eq!(env.emu.stack_status(&stack), None);

    let out = deploy(&env, &stack, &["--disable-rollback", "--output", "json"]);
    let doc = document(&out);
    assert_eq!(
        doc["on_failure"], "DO_NOTHING",
        "--disable-rollback keeps resources"
    );
    assert_eq!(doc["express"], false);
    assert_eq!(doc["stack_status"], "CREATE_FAILED");
}

#[test]
fn on_failure_do_nothing_keeps_a_failed_create_and_the_next_deploy_recovers() {
    let env = TestEnv::new("onfail-nothing");
    let stack = env.name("app");
    let repo = env.name("dup");
    env.write_file("template.yaml", &failing(&repo));
    let out = deploy(&env, &stack, &["--on-failure", "DO_NOTHING"]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    assert!(
        out.stdout
            .contains("Failed to deploy. Automatic rollback disabled for this deployment.")
            && out.stdout.contains(&format!(
                "aws cloudformation rollback-stack --stack-name {stack}"
            )),
        "{out}"
    );
    assert!(error_line(&out).contains("CREATE_FAILED"), "{out}");
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_FAILED")
    );
    let kept: Vec<String> = env
        .emu
        .stack_resources(&stack)
        .into_iter()
        .map(|r| r.logical_id)
        .collect();
    assert_eq!(
        kept,
        ["RepoA"],
        "the resource made before the failure stays"
    );
    assert!(env.emu.repositories().contains(&repo));

    env.write_file("template.yaml", &good(&repo));
    let out = deploy(&env, &stack, &[]);
    out.assert_success();
    assert!(
        out.stdout.contains(&format!(
            "Stack {stack} is in CREATE_FAILED (it was never created successfully): deleting it before creating it again"
        )),
        "{out}"
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );
}

#[test]
fn failed_updates_under_each_on_failure() {
    let env = TestEnv::new("onfail-update");
    let stack = env.name("app");
    let repo = env.name("one");
    env.write_file("template.yaml", &good(&repo));
    deploy(&env, &stack, &[]).assert_success();

    env.write_file("template.yaml", &failing(&repo));
    for (extra, status) in [
        (&[][..], "UPDATE_ROLLBACK_COMPLETE"),
        (
            &["--on-failure", "ROLLBACK"][..],
            "UPDATE_ROLLBACK_COMPLETE",
        ),
        // An update is rolled back; the stack, which exists, is not deleted.
        (&["--on-failure", "DELETE"][..], "UPDATE_ROLLBACK_COMPLETE"),
        (&["--on-failure", "DO_NOTHING"][..], "UPDATE_FAILED"),
    ] {
        let out = deploy(&env, &stack, extra);
        assert_eq!(out.status.code(), Some(1), "{extra:?}\n{out}");
        assert_eq!(
            out.stdout
                .contains(&format!("Stack {stack} has rolled back successfully")),
            extra.contains(&"DELETE"),
            "sam's note for an update under DELETE\n{out}"
        );
        assert!(error_line(&out).contains(status), "{extra:?}\n{out}");
        assert_eq!(
            env.emu.stack_status(&stack).as_deref(),
            Some(status),
            "{extra:?}"
        );
    }

    // From UPDATE_FAILED, the next deploy updates (samconfig's on_failure applies too).
    env.write_file(
        "samconfig.toml",
        &format!("version = 0.1\n[default.deploy.parameters]\nstack_name = \"{stack}\"\non_failure = \"DO_NOTHING\"\n"),
    );
    let other = env.name("other");
    env.write_file(
        "template.yaml",
        &format!(
            "{}  Other:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {other}\n",
            good(&repo)
        ),
    );
    env.samrs(&["deploy"]).assert_success();
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("UPDATE_COMPLETE")
    );
}

#[test]
fn on_failure_with_disable_rollback_is_sams_usage_error() {
    let env = TestEnv::new("onfail-usage");
    env.write_file("template.yaml", &good(&env.name("r")));
    let stack = env.name("app");
    for (args, first, second) in [
        (
            vec!["--on-failure", "DELETE", "--disable-rollback"],
            "--on-failure",
            "--disable-rollback",
        ),
        (
            vec!["--no-disable-rollback", "--on-failure", "DELETE"],
            "--disable-rollback",
            "--on-failure",
        ),
    ] {
        let out = deploy(&env, &stack, &args);
        assert_eq!(out.status.code(), Some(2), "{out}");
        assert_eq!(
            out.stderr.trim(),
            format!("Error: You must not provide both the {first} and {second} parameters.")
        );
    }
    let out = deploy(&env, &stack, &["--on-failure", "delete"]);
    assert_eq!(out.status.code(), Some(2), "{out}");
    assert_eq!(env.emu.stack_status(&stack), None);
}
