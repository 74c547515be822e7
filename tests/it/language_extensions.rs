//! End to end: `--language-extensions` (or SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS) on a template whose
//! zip and image functions come from `Fn::ForEach` loops: each generated function's code is
//! packaged, each image function gets its managed repository and its image, and CloudFormation
//! receives the loops (and the transform) with generated mappings, as sam sends them. The emulator
//! expands the transform as CloudFormation does (tests/emulator LANGEXT).

use samrs::companion::{CompanionStack, EcrRepo};

use crate::harness::TestEnv;

const TEMPLATE: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: [AWS::LanguageExtensions, AWS::Serverless-2016-10-31]
Resources:
  Fn::ForEach::Zips:
    - Name
    - [Alpha, Beta]
    - ${Name}Function:
        Type: AWS::Serverless::Function
        Properties:
          Runtime: python3.12
          Handler: app.handler
          CodeUri: ./fns/${Name}
  Fn::ForEach::Workers:
    - Worker
    - [One, Two]
    - ${Worker}Shared:
        Type: AWS::Serverless::Function
        Properties:
          Runtime: python3.12
          Handler: app.handler
          CodeUri: ./shared
  Fn::ForEach::Images:
    - Img
    - [Resize, Thumb]
    - ${Img}Image:
        Type: AWS::Serverless::Function
        Properties:
          PackageType: Image
          ImageUri: docker-archive:${Img}.tar
"#;

#[test]
fn functions_inside_foreach_are_packaged_and_get_managed_repositories() {
    let mut env = TestEnv::new("langext");
    let stack = env.name("app");
    env.write_file("template.yaml", TEMPLATE);
    for name in ["Alpha", "Beta"] {
        env.write_file(
            &format!("fns/{name}/app.py"),
            &format!("def handler(e, c):\n    return '{name}'\n"),
        );
    }
    env.write_file("shared/app.py", "def handler(e, c):\n    return 'shared'\n");
    crate::push::archive(&env, "Resize.tar", "resize");
    crate::push::archive(&env, "Thumb.tar", "thumb");
    let deploy = |env: &TestEnv, extra: &[&str]| {
        let mut args = vec![
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
        ];
        args.extend_from_slice(extra);
        env.samrs(&args)
    };
    // Off (sam's default): the loops go to CloudFormation unexpanded, with one warning line.
    let out = deploy(&env, &["--no-execute-changeset"]);
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("Warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{out}");
    assert!(warnings[0].contains("--language-extensions"), "{out}");

    let out = deploy(&env, &["--language-extensions"]);
    out.assert_success();
    assert!(!out.stderr.contains("Warning"), "{out}");

    let resources = env.emu.stack_resources(&stack);
    let physical = |logical: &str| {
        resources
            .iter()
            .find(|r| r.logical_id == logical)
            .unwrap_or_else(|| panic!("{logical} not deployed: {resources:?}"))
            .physical_id
            .clone()
    };
    let companion = CompanionStack::new(&stack);
    for function in ["ResizeImage", "ThumbImage"] {
        let repo = EcrRepo::for_function(&companion, function)
            .repository_name()
            .to_string();
        assert_eq!(env.emu.registry_tags(&repo).len(), 1, "{repo}");
        let lambda = env
            .emu
            .lambda_function(&physical(function))
            .expect("function in Lambda");
        let image = lambda["Code"]["ImageUri"].as_str().unwrap_or_default();
        assert!(
            image.starts_with(&format!(
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/{repo}@sha256:"
            )),
            "{function} runs {image}"
        );
    }
    let code = |function: &str| {
        env.emu
            .lambda_function(&physical(function))
            .expect("function in Lambda")["Configuration"]["CodeSha256"]
            .clone()
    };
    assert_ne!(
        code("AlphaFunction"),
        code("BetaFunction"),
        "each loop value has its own code"
    );
    assert_eq!(
        code("OneShared"),
        code("TwoShared"),
        "a shared CodeUri is packaged once"
    );

    // CloudFormation got the loops and the transform back, the locations in mappings.
    let template = crate::harness::block_on(env.emu.cfn().get_template().stack_name(&stack).send())
        .expect("GetTemplate")
        .template_body
        .unwrap_or_default();
    for text in [
        "Fn::ForEach::Zips",
        "Fn::ForEach::Images",
        "AWS::LanguageExtensions",
        "SAMCodeUriZips",
        "SAMImageUriImages",
        "Fn::FindInMap",
    ] {
        assert!(template.contains(text), "{text} missing from\n{template}");
    }
    assert!(
        !template.contains("./fns/") && !template.contains("docker-archive:"),
        "{template}"
    );

    // The environment variable turns the extensions on as the flag does: nothing changed.
    env.set_env("SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS", "1");
    let out = deploy(&env, &[]);
    out.assert_success();
    assert!(out.stdout.contains("No changes to deploy"), "{out}");
}

#[test]
fn a_collection_that_needs_aws_is_refused_before_anything_is_created() {
    let env = TestEnv::new("langext-getatt");
    let stack = env.name("app");
    env.write_file(
        "template.yaml",
        "Transform: AWS::LanguageExtensions\nResources:\n  Fn::ForEach::Topics:\n    - Name\n    - !GetAtt Table.Names\n    - ${Name}Topic:\n        Type: AWS::SNS::Topic\n",
    );
    let out = env.samrs(&[
        "deploy",
        "--stack-name",
        &stack,
        "--language-extensions",
        "--no-confirm-changeset",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    let errors: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("Error:"))
        .collect();
    assert_eq!(errors.len(), 1, "{out}");
    assert!(errors[0].contains("cannot expand AWS::LanguageExtensions: Unable to resolve Fn::ForEach collection locally"), "{out}");
    assert_eq!(env.emu.stack_status(&stack), None);
}
