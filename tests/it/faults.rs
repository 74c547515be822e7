//! End to end under faults: a proxy between samrs and moto throttles, fails, resets or delays
//! chosen AWS calls (see harness::FaultProxy). Every call a deploy makes may fail once and the
//! deploy still completes; a call failing for good ends samrs with one `Error:` line naming it;
//! slow calls are waited for.

use std::path::Path;

use crate::harness::{Call, Fault, FaultProxy, Rule, RunOutput, TestEnv};

/// A zip function, and an image function pushed from a local archive into a managed repository:
/// a deploy touches S3, STS, ECR and CloudFormation (managed bucket, companion and main stacks).
const APP: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  ZipFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
  ImageFunction:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: docker-archive:image.tar
    Metadata:
      DockerTag: v1
      DockerContext: ./image
"#;

pub fn app(env: &TestEnv) {
    env.write_file("template.yaml", APP);
    env.write_file(
        "src/app.py",
        "def handler(event, context):\n    return 'hi'\n",
    );
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/tiny_image.py");
    let archive = env.work_dir().join("image.tar");
    env.run(
        "python3",
        &[
            &script.to_string_lossy(),
            &archive.to_string_lossy(),
            "fn:v1",
            "faults",
        ],
    )
    .assert_success();
}

pub fn deploy(env: &TestEnv, stack: &str) -> RunOutput {
    env.samrs(&TestEnv::managed_deploy_args(stack, &[]))
}

/// The kinds of call a deploy of [`APP`] makes, in first-seen order: `service:Action`, with S3
/// calls reduced to their method (keys differ per stack).
fn call_kinds(log: &[Call]) -> Vec<String> {
    let mut kinds: Vec<String> = Vec::new();
    for call in log {
        let kind = match call.name.split_once(' ') {
            Some((method, _)) => method.to_string(),
            None => call.name.clone(),
        };
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    kinds
}

/// A rule pattern matching exactly the calls of `kind`.
fn pattern(kind: &str) -> String {
    if kind.starts_with("s3:") {
        format!("^{kind} ")
    } else {
        format!("^{kind}$")
    }
}

/// How samrs names the call in its error line.
fn operation(kind: &str) -> String {
    let (service, action) = kind.split_once(':').unwrap();
    match (service, action) {
        ("s3", "PUT") => "S3 PutObject".into(),
        ("s3", "HEAD") => "S3 HeadObject".into(),
        ("cloudformation", a) => format!("CloudFormation {a}"),
        (s, a) => format!("{} {a}", s.to_uppercase()),
    }
}

const FAULTS: [Fault; 4] = [
    Fault::Throttle,
    Fault::Internal,
    Fault::Unavailable,
    Fault::Reset,
];

pub fn assert_deployed(env: &TestEnv, stack: &str) {
    assert_eq!(
        env.emu.stack_status(stack).as_deref(),
        Some("CREATE_COMPLETE")
    );
    let repo = samrs::companion::EcrRepo::for_function(
        &samrs::companion::CompanionStack::new(stack),
        "ImageFunction",
    )
    .repository_name()
    .to_string();
    assert_eq!(env.emu.registry_tags(&repo).len(), 1, "{repo}");
}

/// The kinds of call a clean deploy of [`APP`] makes (on a proxy of its own).
fn kinds_of_a_deploy() -> Vec<String> {
    let mut env = TestEnv::new("faults-kinds");
    let proxy = FaultProxy::start(&mut env);
    app(&env);
    deploy(&env, &env.name("clean")).assert_success();
    let kinds = call_kinds(&proxy.log());
    for expected in [
        "cloudformation:DescribeStacks",
        "sts:GetCallerIdentity",
        "cloudformation:CreateChangeSet",
        "cloudformation:DescribeChangeSet",
        "cloudformation:DescribeStackEvents",
        "cloudformation:ExecuteChangeSet",
        "ecr:GetAuthorizationToken",
        "s3:HEAD",
        "s3:PUT",
    ] {
        assert!(
            kinds.iter().any(|k| k == expected),
            "{expected} not in {kinds:?}"
        );
    }
    kinds
}

/// Runs `scenario(kind, fault, env, proxy)` for every kind of call at once, each with a fault
/// of its own (the four kinds in turn) and its own env and proxy.
fn for_every_kind(name: &str, scenario: impl Fn(&str, Fault, &TestEnv, &FaultProxy) + Sync) {
    let kinds = kinds_of_a_deploy();
    std::thread::scope(|scope| {
        for (i, kind) in kinds.iter().enumerate() {
            let scenario = &scenario;
            scope.spawn(move || {
                let mut env = TestEnv::new(&format!("{name}-{i}"));
                let proxy = FaultProxy::start(&mut env);
                app(&env);
                scenario(kind, FAULTS[i % FAULTS.len()], &env, &proxy);
            });
        }
    });
}

/// Every call of a deploy fails once (its first attempt; the SDK numbers its attempts), with
/// each kind of fault in turn: the SDK's retries make every deploy complete.
#[test]
fn every_call_of_a_deploy_may_fail_once() {
    std::thread::scope(|scope| {
        for fault in FAULTS {
            scope.spawn(move || {
                let mut env = TestEnv::new(&format!("faults-once-{}", fault_slug(fault)));
                let proxy = FaultProxy::start(&mut env);
                app(&env);
                let stack = env.name("app");
                proxy.set(&[Rule::first_attempts(".", fault)]);
                let out = deploy(&env, &stack);
                assert!(
                    out.status.success(),
                    "every call failing once with {fault:?}\n{out}"
                );
                assert_deployed(&env, &stack);
                let log = proxy.log();
                let kinds = call_kinds(&log);
                assert!(kinds.len() >= 9, "{kinds:?}");
                for kind in kinds {
                    let calls = log
                        .iter()
                        .filter(|c| c.name.starts_with(&format!("{kind} ")) || c.name == kind);
                    let faulted = calls.clone().filter(|c| c.fault.is_some()).count();
                    let answered = calls.filter(|c| c.fault.is_none()).count();
                    assert!(
                        faulted >= 1 && faulted == answered,
                        "{kind}: {faulted} faults, {answered} answers"
                    );
                }
            });
        }
    });
}

fn fault_slug(fault: Fault) -> &'static str {
    match fault {
        Fault::Throttle => "throttle",
        Fault::Internal => "500",
        Fault::Unavailable => "503",
        Fault::Reset => "reset",
        Fault::Unauthorized => "401",
        Fault::Cut(_) => "cut",
        Fault::Delay(_) => "delay",
    }
}

/// A call failing for good: one `Error:` line naming the call, exit 1; once the fault clears the
/// next run completes from wherever the failed one stopped.
#[test]
fn a_call_failing_for_good_stops_with_one_error_line_and_the_next_run_completes() {
    for_every_kind("faults-always", |kind, fault, env, proxy| {
        let stack = env.name("app");
        proxy.set(&[Rule::always(&pattern(kind), fault)]);
        let out = deploy(env, &stack);
        assert_eq!(out.status.code(), Some(1), "{kind} always {fault:?}\n{out}");
        let errors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("Error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{kind}: {}", out.stderr);
        let wanted = format!("{} failed", operation(kind));
        assert!(
            errors[0].contains(&wanted),
            "{kind}: {wanted:?} not in {:?}",
            errors[0]
        );
        eprintln!("{kind} failing for good ({fault:?}): {}", errors[0]);
        proxy.set(&[]);
        let out = deploy(env, &stack);
        assert!(
            out.status.success(),
            "rerun after {kind} failed for good\n{out}"
        );
        assert_deployed(env, &stack);
    });
}

/// Calls that take seconds to answer are waited for.
#[test]
fn slow_calls_are_waited_for() {
    let mut env = TestEnv::new("faults-slow");
    let proxy = FaultProxy::start(&mut env);
    app(&env);
    let stack = env.name("app");
    proxy.set(&[
        Rule::times("^cloudformation:CreateChangeSet$", Fault::Delay(1.5), 1),
        Rule::times("^cloudformation:DescribeStackEvents$", Fault::Delay(1.5), 1),
        Rule::times("^s3:PUT ", Fault::Delay(1.5), 1),
        Rule::times("^ecr:GetAuthorizationToken$", Fault::Delay(1.5), 1),
    ]);
    deploy(&env, &stack).assert_success();
    let delayed = proxy
        .log()
        .iter()
        .filter(|c| c.fault.as_deref() == Some("delay"))
        .count();
    assert_eq!(delayed, 4);
    assert_deployed(&env, &stack);
}
