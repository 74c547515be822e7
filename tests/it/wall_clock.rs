//! Waiting on a CloudFormation that takes time (the emulator's wall-clock model,
//! `MOTO_CFN_OP_SECONDS`): samrs notices the end of every operation within its poll period and
//! goes on at once, never reads a stack faster than its budget, and polls slower after a throttle.
//! samrs runs with its default schedule (no `SAM_CLI_POLL_DELAY`), behind the fault proxy, whose
//! log gives every call's arrival time and stack.

use std::sync::OnceLock;

use samrs::cloudformation::budget::BURST;

use crate::deploy::create_bucket;
use crate::harness::{Call, Emulator, Fault, FaultProxy, Rule, TestEnv};

/// Every stack operation lasts this long; a change set takes [`CHANGE_SET_SECONDS`]. Neither is a
/// whole number of seconds: polls a second apart from the start see the end half a second late.
const OP_SECONDS: f64 = 2.5;
const CHANGE_SET_SECONDS: f64 = 1.5;
/// How late the end of an operation may be noticed: half the period, and some scheduling slack.
const NOTICED_WITHIN: f64 = 0.7;

/// The emulators of this module's tests: every stack operation takes [`OP_SECONDS`].
fn wall_clock() -> &'static Emulator {
    static EMULATOR: OnceLock<&'static Emulator> = OnceLock::new();
    EMULATOR.get_or_init(|| {
        Emulator::private(&[
            ("MOTO_CFN_OP_SECONDS", &OP_SECONDS.to_string()),
            (
                "MOTO_CFN_CHANGESET_SECONDS",
                &CHANGE_SET_SECONDS.to_string(),
            ),
        ])
    })
}

/// A test's env on [`wall_clock`], behind a proxy, with samrs's default poll schedule.
fn env_on_wall_clock(name: &str) -> (TestEnv, FaultProxy) {
    let mut env = TestEnv::on(wall_clock(), name);
    let proxy = FaultProxy::start(&mut env);
    env.set_env("SAM_CLI_POLL_DELAY", "");
    env.write_file(
        "src/app.py",
        "def handler(event, context):\n    return 'hi'\n",
    );
    (env, proxy)
}

/// A zip function and image functions already built into ECR (nothing to push; their Metadata
/// gets them managed repositories, as `sam build` leaves it): a deploy waits for the managed bucket, the companion and the main stack.
pub(crate) fn template(image_functions: &[u32]) -> String {
    let mut text = String::from(
        "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n  \
         ZipFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      Runtime: python3.12\n      \
         Handler: app.handler\n      CodeUri: src/\n",
    );
    for n in image_functions {
        text.push_str(&format!(
            "  ImageFunction{n}:\n    Type: AWS::Serverless::Function\n    Properties:\n      \
             PackageType: Image\n      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/fn{n}:v1\n    \
             Metadata:\n      DockerTag: v1\n      DockerContext: ./image\n"
        ));
    }
    text.push_str("Outputs:\n  ZipFunctionArn:\n    Value: !GetAtt ZipFunction.Arn\n");
    text
}

/// One wait of samrs for an operation it started, read from the proxy's log of one run.
#[derive(Debug)]
struct Wait {
    stack: String,
    operation: String,
    /// When the operation's call was answered (the emulator starts its clock at the end of the
    /// call), and when the emulator ends the operation.
    started: f64,
    ends: f64,
    /// The polls after the call (DescribeChangeSet for a change set, else DescribeStackEvents).
    polls: Vec<f64>,
    /// The first poll at or after the end, and the next call samrs made after it.
    noticed: Option<f64>,
    next_call: Option<f64>,
}

const OPERATIONS: [&str; 5] = [
    "CreateChangeSet",
    "ExecuteChangeSet",
    "CreateStack",
    "UpdateStack",
    "DeleteStack",
];

/// The waits of one run (`calls`: its part of the log).
fn waits(calls: &[Call]) -> Vec<Wait> {
    let action = |call: &Call| call.name.split_once(':').map_or("", |(_, a)| a).to_string();
    let mut waits = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let operation = action(call);
        let (Some(stack), true) = (&call.stack, OPERATIONS.contains(&operation.as_str())) else {
            continue;
        };
        let (Some(200), Some(answered)) = (call.status, call.answered) else {
            continue;
        };
        let (poll, seconds) = if operation == "CreateChangeSet" {
            ("DescribeChangeSet", CHANGE_SET_SECONDS)
        } else {
            ("DescribeStackEvents", OP_SECONDS)
        };
        let later = &calls[i + 1..];
        // The wait lasts until the next operation on the stack.
        let until = later
            .iter()
            .position(|c| {
                c.stack.as_ref() == Some(stack) && OPERATIONS.contains(&action(c).as_str())
            })
            .unwrap_or(later.len());
        let polls: Vec<f64> = later[..until]
            .iter()
            .filter(|c| c.stack.as_ref() == Some(stack) && action(c) == poll)
            .map(|c| c.at)
            .collect();
        // An operation samrs leaves running (the companion clean-up) is not waited for.
        if polls.is_empty() && until == later.len() {
            continue;
        }
        let ends = answered + seconds;
        let noticed = polls.iter().copied().find(|at| *at >= ends);
        let next_call = noticed.and_then(|n| later.iter().map(|c| c.at).find(|at| *at > n));
        waits.push(Wait {
            stack: stack.clone(),
            operation,
            started: answered,
            ends,
            polls,
            noticed,
            next_call,
        });
    }
    waits
}

/// Checks one run's waits: each ends with the first poll after the operation's end, within
/// [`NOTICED_WITHIN`] of it, samrs moves on at once, and its polls come a period apart.
fn check_waits(run: &str, calls: &[Call], expected: usize) -> Vec<Wait> {
    let waits = waits(calls);
    assert_eq!(waits.len(), expected, "{run}: {waits:#?}");
    for wait in &waits {
        let noticed = wait
            .noticed
            .unwrap_or_else(|| panic!("{run}: no poll after the end of {wait:#?}"));
        let gap = noticed - wait.ends;
        eprintln!(
            "{run}: {} {} noticed {gap:.3} s after its end, {} polls",
            wait.operation,
            wait.stack,
            wait.polls.len()
        );
        assert!(
            gap <= NOTICED_WITHIN,
            "{run}: noticed {gap:.3} s late: {wait:#?}"
        );
        // That poll ended the wait: the stack is not polled again a period later.
        assert!(
            !wait
                .polls
                .iter()
                .any(|p| *p > noticed && *p < noticed + 1.5),
            "{run}: polling went on after the end: {wait:#?}"
        );
        // A wait that ends while another runs beside it (the main change set beside the
        // companion stack) hands over to that one: what comes next waits for both.
        let beside = waits.iter().any(|other| {
            other.started < noticed && other.noticed.is_some_and(|n| n > noticed + 0.05)
        });
        if let Some(next) = wait.next_call.filter(|_| !beside) {
            assert!(
                next - noticed <= 0.3,
                "{run}: samrs moved on {:.3} s after it noticed: {wait:#?}",
                next - noticed
            );
        }
        let during: Vec<f64> = wait
            .polls
            .iter()
            .copied()
            .filter(|p| *p <= noticed)
            .collect();
        assert!(
            during
                .first()
                .is_some_and(|first| first - wait.started <= 0.3),
            "{run}: the first poll is not at once: {wait:#?}"
        );
        for pair in during.windows(2) {
            assert!(
                pair[1] - pair[0] >= 0.9,
                "{run}: polls less than a period apart: {wait:#?}"
            );
        }
    }
    waits
}

/// The describe calls of each stack over `calls` stay within a token bucket of [`BURST`] calls
/// that gains one a second: between any two of them, at most `BURST + seconds between` calls.
fn check_budget(calls: &[Call]) {
    let mut stacks: Vec<&str> = calls.iter().filter_map(|c| c.stack.as_deref()).collect();
    stacks.sort_unstable();
    stacks.dedup();
    for stack in stacks {
        let times: Vec<f64> = calls
            .iter()
            .filter(|c| c.stack.as_deref() == Some(stack))
            .filter(|c| {
                ["DescribeStacks", "DescribeStackEvents", "DescribeChangeSet"]
                    .iter()
                    .any(|a| c.name == format!("cloudformation:{a}"))
            })
            .map(|c| c.at)
            .collect();
        let mut busiest_second = 0;
        for (i, from) in times.iter().enumerate() {
            for (j, to) in times.iter().enumerate().skip(i) {
                let count = (j - i + 1) as f64;
                assert!(
                    count <= BURST + (to - from) + 0.05,
                    "{stack}: {count} describe calls in {:.3} s: {times:?}",
                    to - from
                );
            }
            busiest_second =
                busiest_second.max(times[i..].iter().take_while(|t| **t < from + 1.0).count());
        }
        let span = times.last().unwrap_or(&0.0) - times.first().unwrap_or(&0.0);
        eprintln!(
            "{stack}: {} describe calls over {span:.1} s, at most {busiest_second} in one second",
            times.len()
        );
    }
}

/// Create (the managed bucket, the companion stack, the main change set and execution), update
/// (one image function added and one removed: companion before and after the main stack) and
/// delete: every wait ends within [`NOTICED_WITHIN`] of its operation's end, and no stack gets
/// more describe calls than its budget.
#[test]
fn waits_end_soon_after_their_operation_within_the_describe_budget() {
    let (env, proxy) = env_on_wall_clock("wall-clock");
    let stack = env.name("app");
    let deploy_args = TestEnv::managed_deploy_args(&stack, &[]);
    let run = |name: &str, args: &[&str], expected_waits: usize| {
        let from = proxy.log().len();
        let out = env.samrs(args);
        assert!(out.status.success(), "{name}\n{out}");
        let calls = proxy.log().split_off(from);
        check_waits(name, &calls, expected_waits);
        // The budget is each run's (a run starts with a full burst).
        check_budget(&calls);
    };

    env.write_file("template.yaml", &template(&[1, 2]));
    // Managed bucket: change set and execution; companion stack; main change set and execution.
    run("create", &deploy_args, 5);
    env.write_file("template.yaml", &template(&[1, 3]));
    // Companion before, main change set and execution; the clean-up after is left running.
    run("update", &deploy_args, 3);
    run(
        "delete",
        &["delete", "--stack-name", &stack, "--no-prompts"],
        2,
    );
    assert_eq!(env.emu.stack_status(&stack), None);
}

/// A throttled poll (the SDK retries it) doubles the period: the next poll comes two seconds
/// later, and the period comes back by a fifth per poll.
#[test]
fn a_throttled_poll_slows_the_schedule_down() {
    let (env, proxy) = env_on_wall_clock("wall-clock-throttle");
    let stack = env.name("app");
    let bucket = create_bucket(&env);
    env.write_file("template.yaml", &template(&[]));
    proxy.set(&[
        Rule::times("^cloudformation:DescribeStackEvents$", Fault::Throttle, 1).on_stack(&stack),
    ]);
    let out = env.samrs(&[
        "deploy",
        "--stack-name",
        &stack,
        "--s3-bucket",
        &bucket,
        "--capabilities",
        "CAPABILITY_IAM",
    ]);
    assert!(out.status.success(), "{out}");
    let log = proxy.log();
    let polls: Vec<&Call> = log
        .iter()
        .filter(|c| {
            c.name == "cloudformation:DescribeStackEvents" && c.stack.as_deref() == Some(&stack)
        })
        .collect();
    assert_eq!(polls[0].fault.as_deref(), Some("throttle"), "{polls:?}");
    assert!(
        polls[1].fault.is_none() && polls[1].at - polls[0].at < 0.5,
        "the SDK retried at once: {polls:?}"
    );
    let next = polls[2].at - polls[0].at;
    assert!(
        (1.9..2.3).contains(&next),
        "the poll after the throttle came {next:.3} s later: {polls:?}"
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );
}
