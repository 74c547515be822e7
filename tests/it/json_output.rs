//! End to end: `--output json` prints one JSON document (docs/json-output.md) on every exit: a
//! deploy that failed (an AWS call, a stack), a usage mistake, Ctrl-C, and `samrs delete`.

use crate::dry_run::rolling_back;
use crate::faults::{app, assert_deployed};
use crate::harness::{Fault, FaultProxy, Rule, RunOutput, TestEnv, SIGINT};
use serde_json::Value;

/// The one document on stdout: it must be alone there, on one line.
pub fn document(out: &RunOutput) -> Value {
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "one line on stdout\n{out}");
    let doc: Value = serde_json::from_str(lines[0]).unwrap_or_else(|e| panic!("{e}\n{out}"));
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["type"], "result");
    assert_eq!(
        doc["exit_code"].as_i64(),
        out.status.code().map(i64::from),
        "{out}"
    );
    doc
}

fn json_deploy(env: &TestEnv, stack: &str) -> RunOutput {
    env.samrs(&TestEnv::managed_deploy_args(stack, &["--output", "json"]))
}

/// A deploy that got as far as pushing its image and creating its companion stack, then failed
/// for good at the main change set: the document has the error, the call, the phase, and
/// everything done before.
#[test]
fn a_failed_deploy_prints_the_error_and_what_was_done() {
    let mut env = TestEnv::new("json-failed");
    let proxy = FaultProxy::start(&mut env);
    app(&env);
    let stack = env.name("app");
    proxy
        .set(&[Rule::always("^cloudformation:CreateChangeSet$", Fault::Throttle).on_stack(&stack)]);
    let out = json_deploy(&env, &stack);
    assert_eq!(out.status.code(), Some(1), "{out}");
    let doc = document(&out);
    assert_eq!(doc["status"], "failure");
    assert_eq!(doc["stack_name"], stack.as_str());
    assert_eq!(doc["region"], "us-east-1");
    let error = &doc["error"];
    assert_eq!(error["type"], "aws");
    assert_eq!(error["phase"], "change_set");
    assert_eq!(error["call"]["operation"], "CloudFormation CreateChangeSet");
    assert_eq!(error["call"]["code"], "Throttling");
    let line = out
        .stderr
        .lines()
        .find(|l| l.starts_with("Error:"))
        .unwrap();
    assert_eq!(
        format!("Error: {}", error["message"].as_str().unwrap()),
        line
    );
    let done = &doc["done"];
    let companion = samrs::companion::CompanionStack::new(&stack);
    let own: Vec<&Value> = done["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["role"] == "companion")
        .collect();
    assert_eq!(own.len(), 1, "{done}");
    assert_eq!(own[0]["name"], companion.name());
    assert_eq!(own[0]["action"], "created");
    assert_eq!(done["repositories"].as_array().unwrap().len(), 1);
    let image = &done["images"][0];
    assert_eq!(image["function"], "ImageFunction");
    assert!(image["digest"].as_str().unwrap().starts_with("sha256:"));
    assert!(image["uri"]
        .as_str()
        .unwrap()
        .ends_with(image["digest"].as_str().unwrap()));
    assert!(!done["uploads"].as_array().unwrap().is_empty());
    // The pushes run beside the change set and finish after it failed.
    let mut phases: Vec<(&str, &str)> = doc["timings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["phase"].as_str().unwrap(), t["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        &phases[..4],
        [
            ("settings", "ok"),
            ("prepare", "ok"),
            ("resolve", "ok"),
            ("companion", "ok"),
        ]
    );
    phases.sort_unstable();
    assert_eq!(
        phases,
        [
            ("change_set", "failed"),
            ("companion", "ok"),
            ("images", "ok"),
            ("package", "ok"),
            ("prepare", "ok"),
            ("read_images", "ok"),
            ("resolve", "ok"),
            ("settings", "ok"),
        ]
    );

    proxy.set(&[]);
    let out = json_deploy(&env, &stack);
    let doc = document(&out);
    assert_eq!(doc["status"], "success");
    assert_eq!(doc["stack_status"], "CREATE_COMPLETE");
    assert_deployed(&env, &stack);
}

/// A stack that failed: the resources and CloudFormation's reasons.
#[test]
fn a_failed_stack_names_its_resources() {
    let env = TestEnv::new("json-stack-failed");
    let stack = env.name("app");
    env.write_file("template.yaml", &rolling_back(&env.name("dup")));
    let out = env.samrs(&["deploy", "--stack-name", &stack, "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    let doc = document(&out);
    assert_eq!(doc["error"]["type"], "stack_failed");
    assert_eq!(doc["error"]["phase"], "execute");
    assert_eq!(doc["stack_status"], "ROLLBACK_COMPLETE");
    let resources = doc["error"]["resources"].as_array().unwrap();
    assert!(
        resources
            .iter()
            .any(|r| r["status"] == "CREATE_FAILED" && r["reason"].is_string()),
        "{resources:?}"
    );
}

/// samconfig's `output = "json"` chooses the document as the flag does.
#[test]
fn samconfig_can_ask_for_the_document() {
    let env = TestEnv::new("json-samconfig");
    let stack = env.name("app");
    env.write_file(
        "template.yaml",
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
    );
    env.write_file(
        "samconfig.toml",
        &format!("version = 0.1\n\n[default.deploy.parameters]\nstack_name = \"{stack}\"\noutput = \"json\"\n"),
    );
    let out = env.samrs(&["deploy"]);
    out.assert_success();
    let doc = document(&out);
    assert_eq!(doc["status"], "success");
    assert_eq!(doc["stack_name"], stack.as_str());
}

/// Usage mistakes print the document too (error type `usage`, exit 2): clap's and samrs's own.
#[test]
fn usage_mistakes_print_a_document() {
    let env = TestEnv::new("json-usage");
    for (args, message) in [
        (
            vec!["deploy", "--output", "json", "--stack"],
            "unexpected argument '--stack' found",
        ),
        (
            vec![
                "deploy",
                "--output",
                "json",
                "--template-file",
                "template.yaml",
            ],
            "Missing option '--stack-name'",
        ),
        (
            vec!["delete", "--output=json", "--no-prompts"],
            "Missing option '--stack-name'",
        ),
    ] {
        env.write_file("template.yaml", "Resources: {T: {Type: AWS::SNS::Topic}}\n");
        let out = env.samrs(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{out}");
        let doc = document(&out);
        assert_eq!(doc["status"], "failure");
        assert_eq!(doc["error"]["type"], "usage");
        assert!(
            doc["error"]["message"].as_str().unwrap().contains(message),
            "{args:?}: {doc}"
        );
        assert_eq!(doc["command"], args[0]);
    }
}

/// Ctrl-C while the stack is created: the document says the run was interrupted in `execute`.
#[test]
fn ctrl_c_prints_an_interrupted_document() {
    let mut env = TestEnv::new("json-ctrl-c");
    let proxy = FaultProxy::start(&mut env);
    app(&env);
    let stack = env.name("app");
    proxy.set(&[
        Rule::times("^cloudformation:DescribeStackEvents$", Fault::Delay(3.0), 1).on_stack(&stack),
    ]);
    let run = env.spawn_samrs(&TestEnv::managed_deploy_args(&stack, &["--output", "json"]));
    proxy.wait_until_held("cloudformation:DescribeStackEvents");
    run.signal(SIGINT);
    let out = run.finish();
    proxy.set(&[]);
    proxy.wait_until_idle();
    assert_eq!(out.status.code(), Some(130), "{out}");
    let doc = document(&out);
    assert_eq!(doc["status"], "interrupted");
    assert_eq!(doc["error"]["phase"], "execute");
    assert!(doc["error"]["message"]
        .as_str()
        .unwrap()
        .contains("CloudFormation goes on with the operation"));
}

#[test]
fn delete_prints_what_it_deleted() {
    let env = TestEnv::new("json-delete");
    app(&env);
    let stack = env.name("app");
    json_deploy(&env, &stack).assert_success();
    let out = env.samrs(&[
        "delete",
        "--stack-name",
        &stack,
        "--no-prompts",
        "--output",
        "json",
    ]);
    out.assert_success();
    let doc = document(&out);
    assert_eq!(doc["command"], "delete");
    assert_eq!(doc["status"], "success");
    assert_eq!(doc["stack_name"], stack.as_str());
    let stacks: Vec<(&str, &str)> = doc["done"]["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["role"].as_str().unwrap(), s["action"].as_str().unwrap()))
        .collect();
    assert_eq!(stacks, [("main", "deleted"), ("companion", "deleted")]);
    assert_eq!(doc["done"]["repositories"].as_array().unwrap().len(), 1);
    assert!(!doc["done"]["objects_deleted"]
        .as_array()
        .unwrap()
        .is_empty());
    assert!(doc.get("changeset_id").is_none());
    assert_eq!(env.emu.stack_status(&stack), None);
}
