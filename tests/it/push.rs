//! End to end: image functions with local images are pushed without a Docker daemon into their
//! managed repositories, and the deployed functions point at the images by digest.

use std::path::Path;

use samrs::companion::{CompanionStack, EcrRepo};

use crate::harness::{Fault, FaultProxy, Rule, TestEnv};

/// Writes a docker-archive image with `marker` in its layer (so markers give different digests).
pub fn archive(env: &TestEnv, file: &str, marker: &str) {
    env.write_tiny_image(file, "fn:v1", marker, 0);
}

/// The layer tar of the one-layer docker archive at `path`.
fn archive_layer(path: &Path) -> Vec<u8> {
    let mut archive = tar::Archive::new(std::fs::File::open(path).expect("open the archive"));
    for entry in archive.entries().expect("read the archive") {
        let mut entry = entry.expect("an archive entry");
        if entry.path().is_ok_and(|p| p.ends_with("layer.tar")) {
            let mut layer = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut layer).expect("read the layer");
            return layer;
        }
    }
    panic!("no layer.tar in {}", path.display());
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

#[test]
fn registry_faults_during_a_push_converge_on_the_right_image() {
    let mut env = TestEnv::new("push-faults");
    let aws = FaultProxy::start(&mut env);
    let registry = FaultProxy::start_registry(&mut env);
    let stack = env.name("app");
    // Random bytes do not compress: the gzipped layer stays over 2 MiB, a streamed upload.
    env.write_tiny_image("first.tar", "fn:v1", "faults", 3 << 20);
    let first_only = TEMPLATE.split("  Second:").next().unwrap_or_default();
    env.write_file("template.yaml", first_only);
    registry.set(&[
        Rule::times("^registry:HEAD /v2/.*/manifests/", Fault::Unavailable, 1),
        Rule::times("^registry:HEAD /v2/.*/blobs/", Fault::Internal, 1),
        Rule::times("^registry:POST /v2/.*/blobs/uploads/$", Fault::Reset, 1),
        // Both first PATCHes (config and layer) lose their connection a little way in; the next
        // one meets an expired token.
        Rule::times("^registry:PATCH ", Fault::Cut(256 << 10), 2),
        Rule::times("^registry:PATCH ", Fault::Unauthorized, 1),
        Rule::times("^registry:PUT /v2/.*/blobs/uploads/", Fault::Internal, 1),
        Rule::times("^registry:PUT /v2/.*/manifests/", Fault::Throttle, 1),
    ]);
    env.samrs(&TestEnv::managed_deploy_args(&stack, &[]))
        .assert_success();

    let faulted: Vec<String> = registry
        .log()
        .into_iter()
        .filter_map(|c| c.fault.map(|f| format!("{f} {}", c.name)))
        .collect();
    assert_eq!(faulted.len(), 8, "every fault was met: {faulted:#?}");
    let logins = aws
        .log()
        .iter()
        .filter(|c| c.name == "ecr:GetAuthorizationToken")
        .count();
    assert_eq!(logins, 2, "the expired token was replaced once");

    // The function runs the image the registry holds, whose layer is the archive's layer.
    let repo = EcrRepo::for_function(&CompanionStack::new(&stack), "First")
        .repository_name()
        .to_string();
    let tags = env.emu.registry_tags(&repo);
    assert_eq!(tags.len(), 1, "{tags:?}");
    let (digest, manifest) = env.emu.registry_manifest(&repo, &tags[0]);
    let physical = env
        .emu
        .stack_resources(&stack)
        .into_iter()
        .find(|r| r.logical_id == "First")
        .expect("the function is deployed")
        .physical_id;
    let lambda = env.emu.lambda_function(&physical).expect("in Lambda");
    assert_eq!(
        lambda["Code"]["ImageUri"].as_str().unwrap_or_default(),
        format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/{repo}@{digest}")
    );
    let layer_digest = manifest["layers"][0]["digest"].as_str().expect("a layer");
    let gzipped = env.emu.registry_blob(&repo, layer_digest);
    let mut layer = Vec::new();
    std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gzipped[..]), &mut layer)
        .expect("the layer gunzips");
    assert!(
        layer == archive_layer(&env.work_dir().join("first.tar")),
        "the layer in the registry is the archive's"
    );
}
