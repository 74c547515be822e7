//! End to end: `samrs deploy` of a real two-function SAM app against the emulator, asserting on
//! the emulator's state (stacks, resources, Lambda functions, S3 objects), not only on text.

use crate::harness::{block_on, TestEnv};

const ZIP_AND_IMAGE: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: dev
Globals:
  Function:
    Timeout: 10
Resources:
  ZipFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Environment:
        Variables:
          STAGE: !Ref Stage
  ImageFunction:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/image:v1
Outputs:
  ZipArn:
    Value: !GetAtt ZipFunction.Arn
  StageOut:
    Value: !Sub "stage-${Stage}"
"#;

fn app(env: &TestEnv) {
    env.write_file("template.yaml", ZIP_AND_IMAGE);
    env.write_file(
        "src/app.py",
        "def handler(event, context):\n    return 'hello'\n",
    );
}

/// The bucket of sam's managed stack (shared by every test of the run).
pub fn managed_bucket(env: &TestEnv) -> String {
    env.emu
        .stack_outputs("aws-sam-cli-managed-default")
        .get("SourceBucket")
        .cloned()
        .expect("the managed stack has a SourceBucket output")
}

/// The keys under `<prefix>/` in a bucket.
pub fn objects_under(env: &TestEnv, bucket: &str, prefix: &str) -> Vec<String> {
    let mut keys: Vec<String> = env
        .emu
        .list_objects(bucket)
        .into_iter()
        .filter(|k| k.starts_with(&format!("{prefix}/")))
        .collect();
    keys.sort();
    keys
}

/// A fresh bucket of the test's own.
pub fn create_bucket(env: &TestEnv) -> String {
    let bucket = env.name("bucket");
    block_on(env.emu.s3().create_bucket().bucket(&bucket).send()).expect("create a bucket");
    bucket
}

pub fn deploy_args<'a>(stack: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "deploy",
        "--stack-name",
        stack,
        "--resolve-s3",
        "--s3-prefix",
        stack,
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-confirm-changeset",
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn create_noop_update_of_a_zip_and_image_app() {
    let env = TestEnv::new("lifecycle");
    app(&env);
    let stack = env.name("app");

    let out = env.samrs(&deploy_args(
        &stack,
        &["--parameter-overrides", "Stage=prod"],
    ));
    out.assert_success();
    assert!(
        out.stdout.contains(&format!(
            "Successfully created/updated stack - {stack} in us-east-1"
        )),
        "{}",
        out.stdout
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );
    let resources = env.emu.stack_resources(&stack);
    for logical in [
        "ZipFunction",
        "ImageFunction",
        "ZipFunctionRole",
        "ImageFunctionRole",
    ] {
        assert!(
            resources.iter().any(|r| r.logical_id == logical),
            "{logical} missing: {resources:?}"
        );
    }
    let outputs = env.emu.stack_outputs(&stack);
    assert_eq!(
        outputs.get("StageOut").map(String::as_str),
        Some("stage-prod")
    );
    // The zip went to s3://<managed bucket>/<stack>/<md5>, the template to <stack>/<md5>.template.
    let bucket = managed_bucket(&env);
    let objects = objects_under(&env, &bucket, &stack);
    assert_eq!(
        objects.iter().filter(|k| k.ends_with(".template")).count(),
        1,
        "{objects:?}"
    );
    assert_eq!(
        objects.iter().filter(|k| !k.ends_with(".template")).count(),
        1,
        "{objects:?}"
    );
    let zip_fn = resources
        .iter()
        .find(|r| r.logical_id == "ZipFunction")
        .map(|r| r.physical_id.clone())
        .unwrap();
    let function = env
        .emu
        .lambda_function(&zip_fn)
        .expect("the zip function exists in Lambda");
    assert_eq!(function["Configuration"]["Runtime"], "python3.12");
    assert_eq!(function["Configuration"]["Timeout"], 10);

    // No-op: sam's message and exit 1 by default, 0 with --no-fail-on-empty-changeset; nothing uploaded.
    let out = env.samrs(&deploy_args(
        &stack,
        &["--parameter-overrides", "Stage=prod"],
    ));
    assert_eq!(out.status.code().unwrap_or(-1), 1);
    assert!(
        out.stderr.contains(&format!(
            "No changes to deploy. Stack {stack} is up to date"
        )),
        "{}",
        out.stderr
    );
    let out = env.samrs(&deploy_args(
        &stack,
        &[
            "--parameter-overrides",
            "Stage=prod",
            "--no-fail-on-empty-changeset",
        ],
    ));
    out.assert_success();
    assert_eq!(objects_under(&env, &bucket, &stack), objects);

    // Update: a function removed and one added; the parameter keeps its previous value.
    env.write_file(
        "template.yaml",
        &ZIP_AND_IMAGE
            .replace("  ImageFunction:\n", "  NewFunction:\n")
            .replace("prebuilt/image:v1", "prebuilt/image:v2"),
    );
    let out = env.samrs(&deploy_args(&stack, &[]));
    out.assert_success();
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("UPDATE_COMPLETE")
    );
    let resources = env.emu.stack_resources(&stack);
    assert!(resources.iter().any(|r| r.logical_id == "NewFunction"));
    assert!(!resources.iter().any(|r| r.logical_id == "ImageFunction"));
    assert_eq!(
        env.emu
            .stack_outputs(&stack)
            .get("StageOut")
            .map(String::as_str),
        Some("stage-prod")
    );
    assert!(
        out.stdout.contains("- Delete") && out.stdout.contains("+ Add"),
        "{}",
        out.stdout
    );
}

const FAILING: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Resources:
  RepoA:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: REPO
  RepoB:
    Type: AWS::ECR::Repository
    Properties:
      RepositoryName: REPO
"#;

#[test]
fn a_failed_create_shows_the_reason_and_the_next_good_deploy_recovers() {
    let env = TestEnv::new("recover");
    let stack = env.name("app");
    let repo = env.name("dup").to_lowercase();
    env.write_file("template.yaml", &FAILING.replace("REPO", &repo));
    let out = env.samrs(&["deploy", "--stack-name", &stack, "--no-confirm-changeset"]);
    assert_eq!(out.status.code().unwrap_or(-1), 1, "{}", out.stdout);
    let error = out
        .stderr
        .lines()
        .find(|l| l.starts_with("Error:"))
        .unwrap_or_default();
    assert!(
        error.contains("ROLLBACK_COMPLETE") && error.contains("already exists"),
        "{error}"
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("ROLLBACK_COMPLETE")
    );

    let fixed = FAILING.replace("REPO", &repo);
    let fixed = fixed.split("  RepoB:").next().unwrap();
    env.write_file("template.yaml", fixed);
    let out = env.samrs(&["deploy", "--stack-name", &stack, "--no-confirm-changeset"]);
    out.assert_success();
    assert!(
        out.stdout.contains("deleting it before creating it again"),
        "{}",
        out.stdout
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );
}

#[test]
fn a_failed_update_rolls_back_and_the_next_deploy_updates() {
    let env = TestEnv::new("update-fail");
    let stack = env.name("app");
    let repo = env.name("one").to_lowercase();
    let good = FAILING.replace("REPO", &repo);
    let good = good.split("  RepoB:").next().unwrap().to_string();
    env.write_file("template.yaml", &good);
    env.samrs(&["deploy", "--stack-name", &stack])
        .assert_success();
    env.write_file("template.yaml", &FAILING.replace("REPO", &repo));
    let out = env.samrs(&["deploy", "--stack-name", &stack]);
    assert_eq!(out.status.code().unwrap_or(-1), 1);
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("UPDATE_ROLLBACK_COMPLETE")
    );
    let other = env.name("other");
    env.write_file(
        "template.yaml",
        &format!("{good}  Other:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {other}\n"),
    );
    env.samrs(&["deploy", "--stack-name", &stack])
        .assert_success();
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("UPDATE_COMPLETE")
    );
}

#[test]
fn samconfig_supplies_the_flags_and_flags_win() {
    let env = TestEnv::new("samconfig");
    app(&env);
    let stack = env.name("cfg");
    env.write_file(
        "samconfig.toml",
        &format!(
            "version = 0.1\n[default.deploy.parameters]\nstack_name = \"{stack}\"\nresolve_s3 = true\ns3_prefix = \"{stack}\"\ncapabilities = \"CAPABILITY_IAM\"\nparameter_overrides = \"Stage=\\\"fromfile\\\"\"\n[default.global.parameters]\nregion = \"us-east-1\"\n"
        ),
    );
    env.samrs(&["deploy"]).assert_success();
    assert_eq!(
        env.emu
            .stack_outputs(&stack)
            .get("StageOut")
            .map(String::as_str),
        Some("stage-fromfile")
    );
    env.samrs(&[
        "deploy",
        "--parameter-overrides",
        "ParameterKey=Stage,ParameterValue=flag",
    ])
    .assert_success();
    assert_eq!(
        env.emu
            .stack_outputs(&stack)
            .get("StageOut")
            .map(String::as_str),
        Some("stage-flag")
    );
}

#[test]
fn dry_run_changes_nothing() {
    let env = TestEnv::new("dryrun");
    app(&env);
    let stack = env.name("dry");
    let bucket = create_bucket(&env);
    let out = env.samrs(&[
        "deploy",
        "--stack-name",
        &stack,
        "--s3-bucket",
        &bucket,
        "--capabilities",
        "CAPABILITY_IAM",
        "--dry-run",
        "--output",
        "json",
    ]);
    out.assert_success();
    let report: serde_json::Value =
        serde_json::from_str(&out.stdout).expect("--output json prints one JSON document");
    assert_eq!(report["dry_run"], true);
    assert!(report["changes"].as_array().is_some_and(|c| !c.is_empty()));
    assert_eq!(
        env.emu.stack_status(&stack),
        None,
        "a dry run leaves no stack behind"
    );
}
