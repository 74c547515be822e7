//! End to end: `samrs delete` in every state a user can reach, the companion stack with its
//! repositories, the artifacts, sam's questions (at a terminal), the repositories the template
//! declares, the functions' images in repositories the user gave, the template's S3 object, and
//! `--orphans`; nothing else in the account is touched.

use aws_config::BehaviorVersion;
use samrs::companion::{md5_hex, render_sam_compatible, CompanionStack, EcrRepo};

use crate::deploy::{managed_bucket, objects_under};
use crate::harness::{block_on, TestEnv, Tty};

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
    let bucket = env.name("full");
    env.write_file(
        "template.yaml",
        &format!("Resources:\n  Bucket:\n    Type: AWS::S3::Bucket\n    Properties:\n      BucketName: {bucket}\n  Topic:\n    Type: AWS::SNS::Topic\n"),
    );
    env.samrs(&["deploy", "--stack-name", &stack])
        .assert_success();
    // A bucket holding an object cannot be deleted by CloudFormation.
    block_on(
        env.emu
            .s3()
            .put_object()
            .bucket(&bucket)
            .key("kept")
            .body(b"x".to_vec().into())
            .send(),
    )
    .expect("put an object");
    // Without a terminal and without --no-prompts, samrs asks for --no-prompts instead of hanging.
    let out = env.samrs(&["delete", "--stack-name", &stack]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stderr.contains("--no-prompts"), "{out}");

    let out = env.samrs(&["delete", "--stack-name", &stack, "--no-prompts"]);
    out.assert_success();
    assert!(
        out.stdout.contains("- Keeping Bucket (AWS::S3::Bucket)"),
        "{out}"
    );
    assert_eq!(env.emu.stack_status(&stack), None);
    assert_eq!(
        env.emu.list_objects(&bucket),
        ["kept"],
        "the retained bucket stays"
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

/// The deployed (original) template's text, whose md5 names its S3 object.
pub fn deployed_template(env: &TestEnv, stack: &str) -> String {
    let out = block_on(
        env.emu
            .cfn()
            .get_template()
            .stack_name(stack)
            .template_stage(aws_sdk_cloudformation::types::TemplateStage::Original)
            .send(),
    )
    .unwrap_or_else(|e| panic!("GetTemplate {stack}: {e:?}"));
    out.template_body().unwrap_or_default().to_string()
}

/// An app whose template declares a repository of its own (holding an image), with a zip and an
/// image function.
fn app_with_repository(env: &TestEnv, repo: &str, image_uri: &str) {
    env.write_file(
        "template.yaml",
        &format!(
            "{APP}  Repo:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {repo}\n"
        )
        .replace(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/image:v1",
            image_uri,
        ),
    );
    env.write_file("src/app.py", "def handler(event, context):\n    return 1\n");
}

#[test]
fn delete_at_a_terminal_asks_sams_questions_in_sams_order() {
    let env = TestEnv::new("delete-tty");
    let stack = env.name("app");
    let repo = env.name("own");
    app_with_repository(
        &env,
        &repo,
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/image:v1",
    );
    env.samrs(&TestEnv::managed_deploy_args(&stack, &[]))
        .assert_success();
    env.emu.put_image(&repo, "v1");
    let bucket = managed_bucket(&env);
    let template_key = format!(
        "{stack}/{}.template",
        md5_hex(&deployed_template(&env, &stack))
    );
    assert!(objects_under(&env, &bucket, &stack).contains(&template_key));
    let companion = CompanionStack::new(&stack);

    let tty = Tty::start(&env, &["delete"]);
    tty.answer("Enter stack name you want to delete: ", &stack);
    tty.answer(
        &format!(
            "Are you sure you want to delete the stack {stack} in the region us-east-1 ? [y/N]: "
        ),
        "y",
    );
    tty.answer(
        &format!("Are you sure you want to delete the folder {stack} in S3 which contains the artifacts? [y/N]: "),
        "n",
    );
    let name = template_key.rsplit('/').next().unwrap_or_default();
    tty.answer(
        &format!("Do you want to delete the template file {name} in S3? [y/N]: "),
        "y",
    );
    tty.answer(
        &format!("ECR repository {repo} may not be empty. Do you want to delete the repository and all the images in it ? [y/N]: "),
        "n",
    );
    tty.expect(&format!("Found ECR Companion Stack {}", companion.name()));
    tty.answer(
        &format!(
            "Do you want to delete the ECR companion stack {} in the region us-east-1 ? [y/N]: ",
            companion.name()
        ),
        "y",
    );
    tty.expect("Deleted successfully");
    assert_eq!(tty.exit_code(), 0, "{}", tty.screen());
    let screen = tty.screen();
    assert!(
        screen.contains(&format!("- Deleting S3 object with key {template_key}")),
        "{screen}"
    );
    drop(tty);
    assert_eq!(env.emu.stack_status(&stack), None);
    assert_eq!(env.emu.stack_status(companion.name()), None);
    assert_eq!(
        env.emu.image_tags(&repo),
        ["v1"],
        "the repository kept, with its image"
    );
    let left = objects_under(&env, &bucket, &stack);
    assert!(!left.contains(&template_key), "{left:?}");
    assert!(!left.is_empty(), "the kept folder's artifacts stay");
}

#[test]
fn delete_removes_declared_repositories_the_template_object_and_function_images() {
    let env = TestEnv::new("delete-parity");
    let stack = env.name("app");
    let own = env.name("own");
    let user = env.name("user");
    let ecr = env.emu.ecr();
    block_on(ecr.create_repository().repository_name(&user).send()).expect("create a repository");
    env.emu.put_image(&user, "v1");
    let digest = block_on(ecr.describe_images().repository_name(&user).send())
        .expect("DescribeImages")
        .image_details()[0]
        .image_digest()
        .unwrap_or_default()
        .to_string();
    // A function pinned by digest (as samrs deploys the images it pushes).
    let registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    app_with_repository(&env, &own, &format!("{registry}/{user}@{digest}"));
    let bucket = crate::deploy::create_bucket(&env);
    env.samrs(&[
        "deploy",
        "--stack-name",
        &stack,
        "--s3-bucket",
        &bucket,
        "--capabilities",
        "CAPABILITY_IAM",
    ])
    .assert_success();
    env.emu.put_image(&own, "v1");
    let template_key = format!("{}.template", md5_hex(&deployed_template(&env, &stack)));
    assert!(env.emu.list_objects(&bucket).contains(&template_key));
    // The same app once more under another name, with another image by tag: it goes by tag.
    let tagged = env.name("tagged");
    let other_image = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":3,"digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222"},"layers":[]}"#;
    block_on(
        ecr.put_image()
            .repository_name(&user)
            .image_manifest(other_image)
            .image_tag("v2")
            .send(),
    )
    .expect("put a second image");
    let own2 = env.name("own2");
    app_with_repository(&env, &own2, &format!("{registry}/{user}:v2"));
    env.samrs(&[
        "deploy",
        "--stack-name",
        &tagged,
        "--s3-bucket",
        &bucket,
        "--capabilities",
        "CAPABILITY_IAM",
    ])
    .assert_success();
    env.emu.put_image(&own2, "v1");

    let out = env.samrs(&["delete", "--stack-name", &stack, "--no-prompts"]);
    out.assert_success();
    for line in [
        format!("- Deleting ECR repository {own}"),
        format!("- Deleting ECR image {digest} in repository {user}"),
        format!("- Deleting S3 object with key {template_key}"),
    ] {
        assert!(out.stdout.contains(&line), "{line:?} missing\n{out}");
    }
    assert_eq!(env.emu.stack_status(&stack), None);
    assert!(!env.emu.repositories().contains(&own));
    assert_eq!(
        env.emu.image_tags(&user),
        ["v2"],
        "only the stack's image went"
    );
    let left = env.emu.list_objects(&bucket);
    assert!(!left.contains(&template_key), "{left:?}");
    // The zip artifacts stay: without a prefix the bucket may serve other stacks (README).
    assert!(!left.is_empty());

    // The document lists what this delete did beyond sam's: the declared repository, the image,
    // the template object.
    let tagged_template_key = format!("{}.template", md5_hex(&deployed_template(&env, &tagged)));
    let out = env.samrs(&[
        "delete",
        "--stack-name",
        &tagged,
        "--no-prompts",
        "--output",
        "json",
    ]);
    out.assert_success();
    assert!(
        out.stderr
            .contains(&format!("- Deleting ECR image v2 in repository {user}")),
        "{out}"
    );
    let doc = crate::json_output::document(&out);
    assert_eq!(
        doc["done"]["images_deleted"],
        serde_json::json!([{"function": "ImageFunction", "repository": user, "image": "v2"}])
    );
    assert_eq!(
        doc["done"]["repositories"],
        serde_json::json!([{"name": own2, "action": "deleted"}])
    );
    assert_eq!(
        doc["done"]["objects_deleted"],
        serde_json::json!([tagged_template_key])
    );
    assert_eq!(doc["express"], false);
    assert!(env.emu.image_tags(&user).is_empty());
    assert!(
        env.emu.repositories().contains(&user),
        "a repository the user gave stays"
    );
}

#[test]
fn delete_without_a_stack_name_and_without_prompts_is_sams_usage_error() {
    let env = TestEnv::new("delete-noname");
    let out = env.samrs(&["delete", "--no-prompts"]);
    assert_eq!(out.status.code(), Some(2), "{out}");
    assert_eq!(
        out.stderr.trim(),
        "Error: Missing option '--stack-name', provide a stack name that needs to be deleted."
    );
}
