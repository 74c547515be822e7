//! End to end: `samrs delete` in every state a user can reach, the companion stack with its
//! repositories, the artifacts, and `--orphans`; nothing else in the account is touched.

use aws_config::BehaviorVersion;
use samrs::companion::{render_sam_compatible, CompanionStack, EcrRepo};

use crate::deploy::{managed_bucket, objects_under};
use crate::harness::{block_on, TestEnv};

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
      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/image:v1
    Metadata:
      DockerContext: ./image
"#;

fn deploy_app(env: &TestEnv, stack: &str, region: &str) {
    env.write_file("template.yaml", APP);
    env.write_file("src/app.py", "def handler(event, context):\n    return 1\n");
    env.samrs(&[
        "deploy",
        "--stack-name",
        stack,
        "--region",
        region,
        "--resolve-s3",
        "--s3-prefix",
        stack,
        "--resolve-image-repos",
        "--capabilities",
        "CAPABILITY_IAM",
    ])
    .assert_success();
}

#[test]
fn delete_removes_the_stack_its_companion_repositories_and_artifacts_only() {
    let env = TestEnv::new("delete-all");
    let stack = env.name("app");
    let bystander = env.name("bystander");
    deploy_app(&env, &stack, "us-east-1");
    env.write_file(
        "other/template.yaml",
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
    );
    env.samrs(&[
        "deploy",
        "-t",
        "other/template.yaml",
        "--stack-name",
        &bystander,
    ])
    .assert_success();
    let companion = CompanionStack::new(&stack);
    let repo = EcrRepo::for_function(&companion, "ImageFunction")
        .repository_name()
        .to_string();
    env.emu.put_image(&repo, "v1");
    let bucket = managed_bucket(&env);
    assert!(!objects_under(&env, &bucket, &stack).is_empty());

    let out = env.samrs(&[
        "delete",
        "--stack-name",
        &stack,
        "--s3-prefix",
        &stack,
        "--no-prompts",
    ]);
    out.assert_success();
    for line in [
        format!("- Deleting Cloudformation stack {stack}"),
        format!("Found ECR Companion Stack {}", companion.name()),
        format!("- Deleting ECR repository {repo}"),
        format!("- Deleting ECR Companion Stack {}", companion.name()),
        "Deleted successfully".to_string(),
    ] {
        assert!(out.stdout.contains(&line), "{line:?} missing\n{out}");
    }
    assert_eq!(env.emu.stack_status(&stack), None);
    assert_eq!(env.emu.stack_status(companion.name()), None);
    assert!(!env.emu.repositories().contains(&repo));
    assert!(objects_under(&env, &bucket, &stack).is_empty());
    assert_eq!(
        env.emu.stack_status(&bystander).as_deref(),
        Some("CREATE_COMPLETE")
    );
    assert_eq!(
        env.emu
            .stack_status("aws-sam-cli-managed-default")
            .as_deref(),
        Some("CREATE_COMPLETE")
    );
}

#[test]
fn stacks_that_never_got_created_are_deleted() {
    let env = TestEnv::new("delete-states");
    // REVIEW_IN_PROGRESS: a change set that was never executed.
    let review = env.name("review");
    block_on(async {
        env.emu
            .cfn()
            .create_change_set()
            .stack_name(&review)
            .change_set_name("pending")
            .change_set_type(aws_sdk_cloudformation::types::ChangeSetType::Create)
            .template_body("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n")
            .send()
            .await
    })
    .unwrap();
    assert_eq!(
        env.emu.stack_status(&review).as_deref(),
        Some("REVIEW_IN_PROGRESS")
    );
    env.samrs(&["delete", "--stack-name", &review, "--no-prompts"])
        .assert_success();
    assert_eq!(env.emu.stack_status(&review), None);

    // ROLLBACK_COMPLETE: a failed create.
    let failed = env.name("failed");
    let dup = env.name("dup");
    env.write_file(
        "template.yaml",
        &format!("Resources:\n  A:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {dup}\n  B:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {dup}\n"),
    );
    assert_eq!(
        env.samrs(&["deploy", "--stack-name", &failed])
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        env.emu.stack_status(&failed).as_deref(),
        Some("ROLLBACK_COMPLETE")
    );
    env.samrs(&["delete", "--stack-name", &failed, "--no-prompts"])
        .assert_success();
    assert_eq!(env.emu.stack_status(&failed), None);

    // Already gone: said, and not an error.
    let out = env.samrs(&["delete", "--stack-name", &failed, "--no-prompts"]);
    out.assert_success();
    assert!(
        out.stdout
            .contains(&format!("The input stack {failed} does not exist")),
        "{out}"
    );
}

#[test]
fn delete_failed_keeps_the_blocking_resource_and_finishes() {
    let env = TestEnv::new("delete-failed");
    let stack = env.name("app");
    let repo = env.name("full");
    env.write_file(
        "template.yaml",
        &format!("Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {repo}\n  Topic:\n    Type: AWS::SNS::Topic\n"),
    );
    env.samrs(&["deploy", "--stack-name", &stack])
        .assert_success();
    env.emu.put_image(&repo, "v1");
    // Without a terminal and without --no-prompts, samrs asks for --no-prompts instead of hanging.
    let out = env.samrs(&["delete", "--stack-name", &stack]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.contains("--no-prompts"), "{out}");

    let out = env.samrs(&["delete", "--stack-name", &stack, "--no-prompts"]);
    out.assert_success();
    assert!(
        out.stdout.contains("- Keeping Repo (AWS::ECR::Repository)"),
        "{out}"
    );
    assert_eq!(env.emu.stack_status(&stack), None);
    assert!(
        env.emu.repositories().contains(&repo),
        "the retained repository stays"
    );
}

#[test]
fn orphans_finds_companion_stacks_whose_parent_is_gone() {
    // A region of its own: --orphans looks at a whole region, and other tests deploy in us-east-1.
    let region = "us-west-2";
    let env = TestEnv::new("delete-orphans");
    let alive = env.name("alive");
    deploy_app(&env, &alive, region);

    let cfn = block_on(async {
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(env.emu.moto_url())
            .region(aws_config::Region::new(region))
            .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load()
            .await;
        aws_sdk_cloudformation::Client::new(&conf)
    });
    // A companion stack made by sam for a parent deleted outside sam (sam #2856).
    let gone = env.name("gone");
    let orphan = CompanionStack::new(&gone);
    let repos = [EcrRepo::for_function(&orphan, "Fn")];
    block_on(
        cfn.create_stack()
            .stack_name(orphan.name())
            .template_body(render_sam_compatible(&orphan, &repos, "1.164.0"))
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityAutoExpand)
            .send(),
    )
    .expect("create the orphaned companion stack");

    let out = env.samrs(&["delete", "--orphans", "--region", region, "--no-prompts"]);
    out.assert_success();
    assert!(out.stdout.contains(orphan.name()), "{out}");
    let alive_companion = CompanionStack::new(&alive);
    assert!(
        !out.stdout.contains(alive_companion.name()),
        "a live app's companion is not an orphan\n{out}"
    );
    let status = |name: &str| {
        block_on(cfn.describe_stacks().stack_name(name).send())
            .ok()
            .and_then(|o| {
                o.stacks()
                    .first()
                    .and_then(|s| s.stack_status().map(|s| s.as_str().to_string()))
            })
    };
    assert_eq!(status(orphan.name()), None);
    assert_eq!(
        status(alive_companion.name()).as_deref(),
        Some("CREATE_COMPLETE")
    );
    assert_eq!(status(&alive).as_deref(), Some("CREATE_COMPLETE"));

    let again = env.samrs(&["delete", "--orphans", "--region", region, "--no-prompts"]);
    again.assert_success();
    assert!(
        again.stdout.contains("No orphaned companion stacks"),
        "{again}"
    );
}
