//! End to end: image functions with local images are pushed without a Docker daemon into their
//! managed repositories, and the deployed functions point at the images by digest.

use std::path::Path;

use samrs::companion::{CompanionStack, EcrRepo};

use crate::harness::TestEnv;

/// Writes a docker-archive image with `marker` in its layer (so markers give different digests).
pub fn archive(env: &TestEnv, file: &str, marker: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/tiny_image.py");
    let out = env.work_dir().join(file);
    env.run(
        "python3",
        &[
            &script.to_string_lossy(),
            &out.to_string_lossy(),
            "fn:v1",
            marker,
        ],
    )
    .assert_success();
}

const TEMPLATE: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  First:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: docker-archive:first.tar
    Metadata:
      DockerTag: python3.12-v1
      DockerContext: ./first
  Second:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: docker-archive:second.tar
    Metadata:
      DockerContext: ./second
"#;

#[test]
fn local_images_are_pushed_and_functions_pinned_by_digest() {
    let env = TestEnv::new("push");
    let stack = env.name("app");
    archive(&env, "first.tar", "one");
    archive(&env, "second.tar", "two");
    env.write_file("template.yaml", TEMPLATE);
    let deploy = |env: &TestEnv| {
        env.samrs(&[
            "deploy",
            "--stack-name",
            &stack,
            "--resolve-s3",
            "--s3-prefix",
            &stack,
            "--resolve-image-repos",
            "--capabilities",
            "CAPABILITY_IAM",
            "--no-fail-on-empty-changeset",
        ])
    };
    let out = deploy(&env);
    out.assert_success();

    let companion = CompanionStack::new(&stack);
    let resources = env.emu.stack_resources(&stack);
    for (function, docker_tag) in [("First", "python3.12-v1"), ("Second", "latest")] {
        let repo = EcrRepo::for_function(&companion, function)
            .repository_name()
            .to_string();
        let tags = env.emu.registry_tags(&repo);
        assert_eq!(tags.len(), 1, "{repo}: {tags:?}");
        assert!(
            tags[0].ends_with(&format!("-{docker_tag}")),
            "sam's tag format: {}",
            tags[0]
        );
        let physical = &resources
            .iter()
            .find(|r| r.logical_id == function)
            .expect("function deployed")
            .physical_id;
        let lambda = env
            .emu
            .lambda_function(physical)
            .expect("function in Lambda");
        let image_uri = lambda["Code"]["ImageUri"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            image_uri.starts_with(&format!(
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/{repo}@sha256:"
            )),
            "{function} runs {image_uri}"
        );
    }

    // The same images again: nothing to push, nothing to deploy.
    let out = deploy(&env);
    out.assert_success();
    assert!(out.stdout.contains("No changes to deploy"), "{out}");
}

#[test]
fn an_image_for_the_wrong_architecture_fails_before_the_main_stack_is_touched() {
    let env = TestEnv::new("push-arch");
    let stack = env.name("app");
    archive(&env, "first.tar", "x");
    let arm64 = TEMPLATE.replace(
        "      ImageUri: docker-archive:first.tar\n",
        "      ImageUri: docker-archive:first.tar\n      Architectures: [arm64]\n",
    );
    let first_only = arm64.split("  Second:").next().unwrap_or_default();
    env.write_file("template.yaml", first_only);
    let out = env.samrs(&[
        "deploy",
        "--stack-name",
        &stack,
        "--resolve-s3",
        "--resolve-image-repos",
        "--capabilities",
        "CAPABILITY_IAM",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    assert!(out.stderr.contains("arm64"), "{out}");
    assert_eq!(env.emu.stack_status(&stack), None);
}
