//! End to end, on an emulator where every stack operation takes seconds (the wall-clock model,
//! MOTO_CFN_OP_SECONDS): a wait that outlasts `--max-wait-duration` (here its seconds seam,
//! SAMRS_MAX_WAIT_SECONDS) ends with one line naming the stack still being worked on and how to
//! follow it, exit 1, and nothing cancelled; the managed bucket's, the companion's, the main
//! stack's and a deletion's waits all stop; running samrs again picks the operation up.

use std::time::{Duration, Instant};

use samrs::companion::CompanionStack;

use crate::harness::{Emulator, RunOutput, TestEnv};

/// How long each stack operation takes on this test's emulator.
const OPERATION: Duration = Duration::from_secs(4);

/// The one error line of a wait stopped at its limit.
fn stopped(out: &RunOutput, stack: &str, rerun: &str) {
    assert_eq!(out.status.code(), Some(1), "{out}");
    let expected = format!(
        "Error: Stopped waiting for stack {stack} after 1 second (--max-wait-duration): CloudFormation goes on with the operation on stack {stack}; follow it with `aws cloudformation describe-stack-events --stack-name {stack}`{rerun}"
    );
    assert_eq!(out.stderr.trim(), expected, "{out}");
}

/// Waits until `stack` is no longer in progress (it was not cancelled: it finishes by itself).
fn settles(env: &TestEnv, stack: &str, expected: Option<&str>) {
    let deadline = Instant::now() + OPERATION * 4;
    loop {
        let status = env.emu.stack_status(stack);
        if status.as_deref() == expected {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{stack} stays {status:?}, expected {expected:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn every_stack_wait_stops_at_the_limit_and_the_next_run_picks_up() {
    let emu = Emulator::private(&[
        ("MOTO_CFN_OP_SECONDS", &OPERATION.as_secs().to_string()),
        ("MOTO_CFN_CHANGESET_SECONDS", "0.1"),
    ]);
    let mut env = TestEnv::on(emu, "max-wait");
    // One image function, already in ECR, with a managed repository.
    env.write_file(
        "template.yaml",
        &crate::guided::template(&["ImageFunction"]),
    );
    env.set_env("SAMRS_MAX_WAIT_SECONDS", "1");
    let stack = env.name("app");
    let deploy_again = ", or run `samrs deploy` again, which waits for it";
    let deploy = |env: &TestEnv| env.samrs(&TestEnv::managed_deploy_args(&stack, &[]));

    // The managed bucket's stack, created for the first time on this emulator.
    let managed = "aws-sam-cli-managed-default";
    stopped(&deploy(&env), managed, deploy_again);
    assert_eq!(
        env.emu.stack_status(managed).as_deref(),
        Some("CREATE_IN_PROGRESS"),
        "nothing is cancelled"
    );
    settles(&env, managed, Some("CREATE_COMPLETE"));

    // The companion stack.
    let companion = CompanionStack::new(&stack);
    stopped(&deploy(&env), companion.name(), deploy_again);
    settles(&env, companion.name(), Some("CREATE_COMPLETE"));

    // The main stack; its events table is closed before the error.
    let out = deploy(&env);
    stopped(&out, &stack, deploy_again);
    assert!(out.stdout.trim_end().ends_with(&"-".repeat(20)), "{out}");
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_IN_PROGRESS")
    );

    // Without the limit, the next run waits for the running operation and converges.
    env.set_env("SAMRS_MAX_WAIT_SECONDS", "60");
    let out = deploy(&env);
    out.assert_success();
    assert!(
        out.stdout.contains(&format!(
            "Stack {stack} is in CREATE_IN_PROGRESS: waiting for that operation to finish"
        )),
        "{out}"
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );

    // A deletion's wait stops too (sam delete has no flag; its waiter gives up after an hour).
    env.set_env("SAMRS_MAX_WAIT_SECONDS", "1");
    let out = env.samrs(&["delete", "--stack-name", &stack, "--no-prompts"]);
    stopped(&out, &stack, "");
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("DELETE_IN_PROGRESS")
    );
    settles(&env, &stack, None);
}

#[test]
fn max_wait_duration_is_a_whole_number_of_minutes() {
    let env = TestEnv::new("max-wait-usage");
    env.write_file(
        "template.yaml",
        "Resources:\n  T:\n    Type: AWS::SNS::Topic\n",
    );
    let stack = env.name("app");
    for (value, message) in [
        ("0", "Error: Invalid value for '--max-wait-duration': 0 is not a number of minutes of at least 1."),
        ("1.5", "Error: invalid value '1.5' for '--max-wait-duration <MINUTES>': invalid digit found in string; see 'samrs deploy --help'"),
    ] {
        let out = env.samrs(&["deploy", "--stack-name", &stack, "--max-wait-duration", value]);
        assert_eq!(out.status.code(), Some(2), "{out}");
        assert_eq!(out.stderr.trim(), message);
    }
    assert_eq!(env.emu.stack_status(&stack), None);
}
