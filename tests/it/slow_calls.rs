//! End to end: a wait that goes quiet says so. An AWS call that has not answered after
//! `SAMRS_SLOW_CALL_SECONDS` is named on stderr with what it is about; a call that does not
//! answer within `SAMRS_READ_TIMEOUT` is abandoned and retried, and fails the run once its
//! attempts are spent.

use std::time::{Duration, Instant};

use crate::harness::{Fault, FaultProxy, Rule, TestEnv};

const TOPIC: &str = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";

fn deploy_args(stack: &str) -> Vec<&str> {
    vec![
        "deploy",
        "--stack-name",
        stack,
        "--no-fail-on-empty-changeset",
    ]
}

#[test]
fn a_slow_call_is_named_while_samrs_waits_for_it() {
    let mut env = TestEnv::new("slow-call-notice");
    let proxy = FaultProxy::start(&mut env);
    env.set_env("SAMRS_SLOW_CALL_SECONDS", "0.5");
    let stack = env.name("app");
    env.write_file("template.yaml", TOPIC);
    proxy.set(&[
        Rule::times("^cloudformation:CreateChangeSet$", Fault::Delay(1.9), 1).on_stack(&stack),
    ]);
    let out = env.samrs(&deploy_args(&stack));
    out.assert_success();
    // Other calls may be slow too on a busy machine: only the held one is certain.
    let notices: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("Still waiting for CloudFormation CreateChangeSet"))
        .collect();
    assert!(notices.len() >= 3, "{out}");
    assert_eq!(
        notices[..3],
        [
            format!("Still waiting for CloudFormation CreateChangeSet (stack {stack}) after 0.5 s"),
            format!("Still waiting for CloudFormation CreateChangeSet (stack {stack}) after 1 s"),
            format!("Still waiting for CloudFormation CreateChangeSet (stack {stack}) after 1.5 s"),
        ],
        "{out}"
    );
}

/// A call held past the read timeout is dropped and retried at once; when every attempt times
/// out, the run ends with one line naming the call, long before the call would have answered.
#[test]
fn the_read_timeout_cuts_a_silent_call_short() {
    let mut env = TestEnv::new("slow-call-timeout");
    let proxy = FaultProxy::start(&mut env);
    env.set_env("SAMRS_READ_TIMEOUT", "1");
    let stack = env.name("app");
    env.write_file("template.yaml", TOPIC);
    let describe = "^cloudformation:DescribeStacks$";

    proxy.set(&[Rule::times(describe, Fault::Delay(6.0), 1).on_stack(&stack)]);
    let started = Instant::now();
    env.samrs(&deploy_args(&stack)).assert_success();
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the held call was not cut short: {:?}",
        started.elapsed()
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );

    env.set_env("AWS_MAX_ATTEMPTS", "2");
    proxy.set(&[Rule::always(describe, Fault::Delay(6.0)).on_stack(&stack)]);
    let started = Instant::now();
    let out = env.samrs(&deploy_args(&stack));
    assert_eq!(out.status.code(), Some(1), "{out}");
    assert!(started.elapsed() < Duration::from_secs(5), "{out}");
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("Error:"))
        .unwrap();
    assert!(
        error.starts_with("Error: CloudFormation DescribeStacks failed: timeout:"),
        "{error}"
    );
    assert!(error.contains("SAMRS_READ_TIMEOUT"), "{error}");
    let held = proxy
        .log()
        .iter()
        .filter(|c| c.name == "cloudformation:DescribeStacks" && c.fault.is_some())
        .count();
    assert_eq!(held, 3, "one held try in the first run, two in the second");
    proxy.set(&[]);
    proxy.wait_until_idle();
}
