//! Tests over the published templates in /work/shared/real-world: every one must parse, and image
//! discovery must find what the SAM CLI finds. Nested applications are rebuilt in a temporary
//! directory from the flattened file names (`owner__repo__path__with__slashes`).

use super::*;
use std::path::Path;

const TEMPLATES: &str = "/work/shared/real-world/templates";

fn real(name: &str) -> Template {
    load(&Path::new(TEMPLATES).join(name)).unwrap()
}

fn paths(found: &[ImageFunction]) -> Vec<&str> {
    found.iter().map(|f| f.full_path.as_str()).collect()
}

/// Copies every real-world file whose name starts with `prefix` into a fresh directory, turning
/// the rest of its name back into the original relative path.
fn rebuild_tree(prefix: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(TEMPLATES).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        if let Some(rest) = name.strip_prefix(prefix) {
            let target = dir.path().join(rest.replace("__", "/"));
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
    dir
}

#[test]
fn every_real_world_template_parses() {
    let mut count = 0;
    for entry in std::fs::read_dir(TEMPLATES).unwrap() {
        let path = entry.unwrap().path();
        let template = load(&path).unwrap_or_else(|err| panic!("{err}"));
        let is_json = path
            .extension()
            .is_some_and(|e| e == "json" || e == "template");
        assert_eq!(
            template.format == Format::Json,
            is_json,
            "{}",
            path.display()
        );
        // Writing back out and reading again gives the same document.
        assert_eq!(
            parse_str(&to_yaml(&template.value), "out.yaml").unwrap(),
            template.value,
            "{}",
            path.display()
        );
        count += 1;
    }
    assert_eq!(count, 35);
}

#[test]
fn image_function_counts_of_single_templates() {
    let expected: &[(&str, usize)] = &[
        ("atuliitkeuler__sam-api__template.yaml", 94),
        ("aws__aws-lambda-dotnet__Libraries__test__TestExecutableServerlessApp__serverless.template", 16),
        ("aws__aws-lambda-dotnet__Blueprints__BlueprintDefinitions__vs2026__AspNetCoreWebAPI-Image__template__src__BlueprintBaseName.1__serverless.template", 1),
        ("aws__aws-extensions-for-dotnet-cli__testapps__ImageBasedProjects__ServerlessTemplateExamples__serverless-resource-arm.template", 2),
        ("aws__aws-sam-cli__tests__integration__testdata__invoke__template_image.yaml", 17),
        ("aws__aws-sam-cli__tests__integration__testdata__package__aws-lambda-function-image-and-api.yaml", 1),
        ("aws__aws-sam-cli__tests__integration__testdata__buildcmd__cdk_v1_synthesized_template_zip_image_functions.json", 1),
        ("aws-samples__aws-lambda-docker-serverless-inference__online-machine-learning-aws-lambda__template.yml", 2),
        ("aws-samples__sessions-with-aws-sam__sam-containers-demo-app__template.yaml", 2),
        ("aws-samples__serverless-patterns__lambda-durable-hitl-python-sam__template.yaml", 2),
        ("aws-samples__serverless-patterns__lambda-ecs-durable-python-sam__template.yaml", 2),
        ("aws-samples__serverless-patterns__lambda-ecr__template.yaml", 1),
        // Literal ECR ImageUri, no DockerContext: SAM skips it.
        ("aws-samples__lambda-cross-account-ecr__sam-cross-account-lambda__template.yaml", 0),
        // Six `!Sub "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/..."` without Metadata.
        ("aws-samples__codepipeline-lambda-docker-images__ApplicationCode__cfn__stageA__template.yaml", 0),
        ("awslabs__aws-lambda-web-adapter__tests__e2e_tests__fixtures__go-httpbin__template.yaml", 1),
        ("dwgriffiths__mercury-pipeline-metaapi-sam__template.yaml", 1),
        ("av124773__testAWSSAM__template.yaml", 2),
        ("DDC-SIH__lambda-ingest-pipeline__template.yaml", 1),
        ("curiousdev-io__aws-lambda-container-images__custom-images__python__sam__template.yaml", 1),
        ("viniciusnvcosta__aws-sam-docker-ai__template.yaml", 1),
        ("Intizar-T__lambda-image-scraper__template.yaml", 1),
        // Zip-only templates (one follows a SAR application, which is not local).
        ("aws-samples__lambda-refarch-imagerecognition__cloudformation__image-processing.serverless.yaml", 0),
        ("observeinc__aws-sam-apps__apps__forwarder__template.yaml", 0),
        ("aws-samples__serverless-patterns__cfn-custom-resource-s3-create__template.yml", 0),
    ];
    for (name, count) in expected {
        let found = image_functions(&real(name)).unwrap();
        assert_eq!(found.len(), *count, "{name}: {:?}", paths(&found));
    }
}

#[test]
fn dotnet_app_keeps_long_ids_and_resolves_global_architectures() {
    let found = image_functions(&real(
        "aws__aws-lambda-dotnet__Libraries__test__TestExecutableServerlessApp__serverless.template",
    ))
    .unwrap();
    let longest = found.iter().map(|f| f.full_path.len()).max().unwrap();
    assert_eq!(longest, 84);
    assert!(paths(&found).contains(
        &"TestServerlessAppCustomizeResponseExamplesNotFoundResponseWithHeaderV2AsyncGenerated"
    ));
    // Globals.Function.Architectures is [!Ref ArchitectureTypeParameter], default x86_64.
    assert!(found.iter().all(|f| f.architectures == ["x86_64"]));
    assert!(found.iter().all(|f| f.image_uri.as_deref() == Some(".")));
}

#[test]
fn cdk_function_is_named_by_its_construct_id() {
    let found = image_functions(&real(
        "aws__aws-sam-cli__tests__integration__testdata__buildcmd__cdk_v1_synthesized_template_zip_image_functions.json",
    ))
    .unwrap();
    assert_eq!(paths(&found), ["ColorsRandomFunction"]);
    assert_eq!(found[0].logical_id, "ColorsRandomFunctionF61B9209");
    assert_eq!(
        found[0].image_uri.as_deref(),
        Some("colorsrandomfunctionf61b9209")
    );
    assert_eq!(
        found[0].docker_context.as_deref(),
        Some("asset.6598609927b272b36fdf01072092f9851ddcd1b41ba294f736ce77091f5cc456")
    );
}

#[test]
fn details_of_plain_templates() {
    let invoke = image_functions(&real(
        "aws__aws-sam-cli__tests__integration__testdata__invoke__template_image.yaml",
    ))
    .unwrap();
    // An AWS::Lambda::Function with ImageUri at the top level instead of under Code.
    let top_level = invoke
        .iter()
        .find(|f| f.full_path == "HelloWorldLambdaFunction")
        .unwrap();
    assert_eq!(top_level.image_uri, None);
    let arm = image_functions(&real(
        "aws__aws-extensions-for-dotnet-cli__testapps__ImageBasedProjects__ServerlessTemplateExamples__serverless-resource-arm.template",
    ))
    .unwrap();
    assert_eq!(
        paths(&arm),
        ["UseDefaultDockerFunction", "UseDockerMetadataFunction"]
    );
    assert!(arm.iter().all(|f| f.architectures == ["arm64"]));
    let blueprint = image_functions(&real(
        "aws__aws-lambda-dotnet__Blueprints__BlueprintDefinitions__vs2026__AspNetCoreWebAPI-Image__template__src__BlueprintBaseName.1__serverless.template",
    ))
    .unwrap();
    // ImageUri "" counts as absent; DockerTag "" is kept as written.
    assert_eq!(blueprint[0].image_uri, None);
    assert_eq!(blueprint[0].docker_tag.as_deref(), Some(""));
    let ecr_param = image_functions(&real(
        "aws-samples__serverless-patterns__lambda-ecr__template.yaml",
    ))
    .unwrap();
    assert_eq!(paths(&ecr_param), ["LambdaEcr"]);
    assert_eq!(ecr_param[0].image_uri, None);
}

#[test]
fn deep_nested_image_paths() {
    let tree = rebuild_tree(
        "aws__aws-sam-cli__tests__integration__testdata__package__deep-nested-image__",
    );
    let found = image_functions(&load(&tree.path().join("template.yaml")).unwrap()).unwrap();
    assert_eq!(
        paths(&found),
        [
            "FunctionA",
            "ChildStackX/FunctionB",
            "ChildStackX/ChildStackY/FunctionA"
        ]
    );
    assert_eq!(found[2].logical_id, "FunctionA");
    assert_eq!(
        found[2].template_path,
        tree.path().join("ChildStackX/ChildStackY/template.yaml")
    );
    assert_eq!(
        found[1].image_uri.as_deref(),
        Some("emulation-python3.9-2:latest")
    );
}

#[test]
fn base_dir_image_paths_and_remote_stacks_skipped() {
    let tree =
        rebuild_tree("aws__aws-sam-cli__tests__integration__testdata__buildcmd__base-dir-image__");
    let found =
        image_functions(&load(&tree.path().join("template/template.yaml")).unwrap()).unwrap();
    assert_eq!(
        paths(&found),
        [
            "Function",
            "Function2",
            "LocalNestedStack/Function1",
            "LocalNestedStack/Function2"
        ]
    );
    assert_eq!(
        found[2].template_path,
        tree.path().join("template/child/template.yaml")
    );
    assert_eq!(found[2].docker_context.as_deref(), Some("../PythonImage"));
    // DockerTag is `!Ref Tag`, a parameter with no default passed down from the parent.
    assert!(found.iter().all(|f| f.docker_tag.is_none()));
}

#[test]
fn nested_child_without_functions() {
    let tree = rebuild_tree("aws-samples__serverless-patterns__stepfunctions-fargate-lambda__");
    let found = image_functions(&load(&tree.path().join("template.yaml")).unwrap()).unwrap();
    assert!(found.is_empty());
}

#[test]
fn nested_parameters_reach_the_child() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("child")).unwrap();
    std::fs::write(
        dir.path().join("template.yaml"),
        "Parameters:\n  Tag:\n    Type: String\n    Default: v7\nResources:\n  App:\n    Type: AWS::Serverless::Application\n    \
         Properties:\n      Location: file://CHILD\n      Parameters:\n        ImageTag: !Ref Tag\n"
            .replace("CHILD", &dir.path().join("child/t.yaml").display().to_string()),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("child/t.yaml"),
        "Parameters:\n  ImageTag:\n    Type: String\n    Default: unused\nResources:\n  Fn:\n    Type: AWS::Serverless::Function\n    \
         Properties:\n      PackageType: Image\n      ImageUri: !Sub 'app:${ImageTag}'\n",
    )
    .unwrap();
    let found = image_functions(&load(&dir.path().join("template.yaml")).unwrap()).unwrap();
    assert_eq!(paths(&found), ["App/Fn"]);
    assert_eq!(found[0].image_uri.as_deref(), Some("app:v7"));
}
