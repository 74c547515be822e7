//! Proof that the harness itself works, independent of what samrs can do yet: the emulator answers
//! like AWS for the calls samrs makes, the registry enforces the ECR login, and commands run in the
//! isolated environment the e2e tests rely on.

use aws_sdk_cloudformation::types::{ChangeSetType, Parameter};

use crate::harness::{block_on, request, TestEnv};

#[test]
fn sts_answers_with_the_emulator_account() {
    let env = TestEnv::new("sts");
    let identity = block_on(env.emu.sts().get_caller_identity().send()).unwrap();
    assert_eq!(identity.account(), Some("123456789012"));
}

#[test]
fn sam_change_set_creates_stack_repository_bucket_and_function() {
    let env = TestEnv::new("change-set");
    let template =
        std::fs::read_to_string(env.copy_fixture("smoke").join("template.yaml")).unwrap();
    let stack = env.name("stack");
    let cfn = env.emu.cfn();
    let prefix = Parameter::builder()
        .parameter_key("Prefix")
        .parameter_value(&env.prefix)
        .build();
    block_on(
        cfn.create_change_set()
            .stack_name(&stack)
            .change_set_name("smoke-1")
            .change_set_type(ChangeSetType::Create)
            .template_body(template)
            .parameters(prefix)
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityIam)
            .send(),
    )
    .unwrap();
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("REVIEW_IN_PROGRESS")
    );
    block_on(
        cfn.execute_change_set()
            .stack_name(&stack)
            .change_set_name("smoke-1")
            .send(),
    )
    .unwrap();

    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE"),
        "{}",
        env.emu.moto_log_tail(20)
    );
    let mut resources: Vec<(String, String)> = env
        .emu
        .stack_resources(&stack)
        .into_iter()
        .map(|r| (r.logical_id, r.resource_type))
        .collect();
    resources.sort();
    assert_eq!(
        resources,
        [
            ("Bucket", "AWS::S3::Bucket"),
            ("Function", "AWS::Lambda::Function"),
            ("FunctionRole", "AWS::IAM::Role"),
            ("Repo", "AWS::ECR::Repository"),
        ]
        .map(|(l, t)| (l.to_owned(), t.to_owned()))
    );

    let repo = env.name("repo");
    let outputs = env.emu.stack_outputs(&stack);
    assert_eq!(
        outputs["RepoUri"],
        format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{repo}")
    );
    let function = env.name("fn");
    assert_eq!(
        outputs["FunctionArn"],
        format!("arn:aws:lambda:us-east-1:123456789012:function:{function}")
    );

    assert!(env.emu.repositories().contains(&repo));
    let policy: serde_json::Value =
        serde_json::from_str(&env.emu.repository_policy(&repo).unwrap()).unwrap();
    assert_eq!(policy["Statement"][0]["Sid"], "AllowLambdaPull");
    assert_eq!(
        env.emu
            .repository_tags(&repo)
            .get("owner")
            .map(String::as_str),
        Some("smoke")
    );

    let lambda = env
        .emu
        .lambda_function(&function)
        .expect("the function exists in Lambda");
    assert_eq!(lambda["Configuration"]["Handler"], "index.handler");
    assert_eq!(lambda["Configuration"]["Runtime"], "python3.12");
    assert!(env.emu.lambda_function(&env.name("no-such-fn")).is_none());

    let bucket = env.name("bucket");
    block_on(
        env.emu
            .s3()
            .put_object()
            .bucket(&bucket)
            .key("a/b.txt")
            .body(b"hi".to_vec().into())
            .send(),
    )
    .unwrap();
    assert_eq!(env.emu.list_objects(&bucket), ["a/b.txt"]);
}

#[test]
fn stack_status_is_none_for_unknown_stack() {
    let env = TestEnv::new("no-stack");
    assert_eq!(env.emu.stack_status(&env.name("never-created")), None);
}

#[test]
fn registry_requires_the_ecr_login_and_lists_pushed_tags() {
    let env = TestEnv::new("registry");
    assert_eq!(
        request(env.emu.registry_port, "GET", "/v2/", &[], b"").status,
        401
    );
    let auth = crate::harness::basic_auth("AWS", "123456789012-auth-token");
    assert_eq!(
        request(
            env.emu.registry_port,
            "GET",
            "/v2/",
            &[("Authorization", &auth)],
            b""
        )
        .status,
        200
    );

    let repo = format!("{}/app", env.prefix);
    assert!(env.emu.registry_tags(&repo).is_empty());
    let archive = env.push_tiny_image(&repo, "v1");
    assert!(archive.starts_with(env.work_dir()));
    assert_eq!(env.emu.registry_tags(&repo), ["v1"]);
}

#[test]
fn commands_run_isolated_in_the_test_dirs_with_the_emulator_endpoints() {
    let mut env = TestEnv::new("isolation");
    env.write_file("sub/marker.txt", "present");
    env.set_env("EXTRA", "on");
    std::env::set_var("SAMRS_IT_LEAK_PROBE", "leaked");
    let out = env.run(
        "sh",
        &[
            "-c",
            "pwd; cat sub/marker.txt; echo; env | sort; tty || true",
        ],
    );
    out.assert_success();
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(
        lines[0],
        env.work_dir().canonicalize().unwrap().to_string_lossy()
    );
    assert_eq!(lines[1], "present");
    for expected in [
        format!("AWS_ENDPOINT_URL={}", env.emu.moto_url()),
        format!("SAMRS_REGISTRY_ENDPOINT={}", env.emu.registry_url()),
        format!("HOME={}", env.home().display()),
        "AWS_REGION=us-east-1".to_owned(),
        "NO_COLOR=1".to_owned(),
        "EXTRA=on".to_owned(),
        "not a tty".to_owned(),
    ] {
        assert!(
            lines.contains(&expected.as_str()),
            "missing {expected:?} in\n{out}"
        );
    }
    assert!(
        !out.stdout.contains("SAMRS_IT_LEAK_PROBE"),
        "the test process's environment leaked:\n{out}"
    );
}

#[test]
fn samrs_version_and_help() {
    let env = TestEnv::new("version");
    let out = env.samrs(&["--version"]);
    out.assert_success();
    assert_eq!(
        out.stdout.trim(),
        format!("samrs {}", env!("CARGO_PKG_VERSION"))
    );
    let help = env.samrs(&["deploy", "--help"]);
    help.assert_success();
    for flag in [
        "--resolve-image-repos",
        "--parameter-overrides",
        "--confirm-changeset",
        "--dry-run",
    ] {
        assert!(
            help.stdout.contains(flag),
            "{flag} missing from deploy --help"
        );
    }
}
