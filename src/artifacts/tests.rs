//! Round trips through [`find_artifacts`] and [`apply_uploads`] on real folders: sam's table for
//! every resource type, its skip and default rules, and the errors for paths that do not exist.

use std::fs;
use std::path::Path;

use serde_json::{json, Value};

use super::*;

fn write(root: &Path, relative: &str, contents: &[u8]) {
    let path = root.join(relative);
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, contents).unwrap();
}

/// A project folder with one artifact of every sort the table names.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (path, contents) in [
        ("src/app.py", "def handler(e, c):\n    return 1\n"),
        ("layer/python/lib.py", "X = 1\n"),
        ("handler.py", "def handler(e, c):\n    return 2\n"),
        ("api.yaml", "openapi: 3.0.1\n"),
        ("sm.json", "{\"StartAt\": \"A\"}\n"),
        ("schema.graphql", "type Query { a: String }\n"),
        ("resolver.js", "export function request() {}\n"),
        ("req.vtl", "{}\n"),
        ("resp.vtl", "$util.toJson($ctx.result)\n"),
        ("script.py", "print('glue')\n"),
        ("child.yaml", "Resources: {}\n"),
        ("LICENSE.txt", "MIT\n"),
        ("README.md", "# app\n"),
    ] {
        write(root, path, contents.as_bytes());
    }
    write(
        root,
        "built.zip",
        &zip_directory(&root.join("src")).unwrap(),
    );
    dir
}

fn every_type_template() -> Value {
    let include =
        json!({"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "api.yaml"}}});
    let appsync = json!({
        "RequestMappingTemplateS3Location": "req.vtl",
        "ResponseMappingTemplateS3Location": "resp.vtl",
        "CodeS3Location": "resolver.js"
    });
    json!({
        "Transform": "AWS::Serverless-2016-10-31",
        "Metadata": {"AWS::ServerlessRepo::Application": {"Name": "app", "LicenseUrl": "LICENSE.txt", "ReadmeUrl": "./README.md"}},
        "Resources": {
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "src/", "Handler": "app.handler"}},
            "FnFile": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "handler.py"}},
            "FnZip": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "built.zip"}},
            "Api": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionUri": "api.yaml"}},
            "HttpApi": {"Type": "AWS::Serverless::HttpApi", "Properties": {"DefinitionUri": "api.yaml"}},
            "Sm": {"Type": "AWS::Serverless::StateMachine", "Properties": {"DefinitionUri": "sm.json"}},
            "Gql": {"Type": "AWS::Serverless::GraphQLApi", "Properties": {
                "SchemaUri": "schema.graphql",
                "Functions": {"F1": {"CodeUri": "resolver.js"}},
                "Resolvers": {"Query": {"R1": {"CodeUri": "resolver.js", "Pipeline": ["F1"]}}}
            }},
            "Schema": {"Type": "AWS::AppSync::GraphQLSchema", "Properties": {"DefinitionS3Location": "schema.graphql"}},
            "Resolver": {"Type": "AWS::AppSync::Resolver", "Properties": appsync},
            "AsFn": {"Type": "AWS::AppSync::FunctionConfiguration", "Properties": appsync},
            "Rest": {"Type": "AWS::ApiGateway::RestApi", "Properties": {"BodyS3Location": "api.yaml"}},
            "V2": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"BodyS3Location": "api.yaml"}},
            "Sfn": {"Type": "AWS::StepFunctions::StateMachine", "Properties": {"DefinitionS3Location": "sm.json"}},
            "LFn": {"Type": "AWS::Lambda::Function", "Properties": {"Code": "src", "Runtime": "python3.12"}},
            "Eb": {"Type": "AWS::ElasticBeanstalk::ApplicationVersion", "Properties": {"SourceBundle": "built.zip"}},
            "Layer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {"ContentUri": "layer"}},
            "LLayer": {"Type": "AWS::Lambda::LayerVersion", "Properties": {"Content": "layer"}},
            "Glue": {"Type": "AWS::Glue::Job", "Properties": {"Command": {"Name": "glueetl", "ScriptLocation": "script.py"}}},
            "Module": {"Type": "AWS::CloudFormation::ModuleVersion", "Properties": {"ModulePackage": "built.zip"}},
            "ResVer": {"Type": "AWS::CloudFormation::ResourceVersion", "Properties": {"SchemaHandlerPackage": "built.zip"}},
            "Stack": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "child.yaml"}},
            "App": {"Type": "AWS::Serverless::Application", "Properties": {"Location": "./child.yaml"}},
            "Set": {"Type": "AWS::CloudFormation::StackSet", "Properties": {"TemplateURL": "child.yaml"}},
            "IncApi": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": include}}
        }
    })
}

/// Uploads every artifact under a key naming its resource and property, as sam would name it.
fn upload_all(artifacts: &[Artifact]) -> Vec<(ArtifactLocation, Uploaded)> {
    artifacts
        .iter()
        .map(|artifact| {
            let name = format!(
                "{}-{}",
                artifact.location.resource_id, artifact.location.property
            );
            let uploaded = Uploaded {
                bucket: "bkt".into(),
                key: s3_key(Some("pfx"), &name, artifact.key_extension()),
                version: None,
                url_base: crate::aws::default_s3_url("eu-west-1"),
            };
            (artifact.location.clone(), uploaded)
        })
        .collect()
}

fn summary<'a>(
    artifacts: &'a [Artifact],
    root: &Path,
) -> Vec<(&'a str, &'a str, ArtifactKind, String)> {
    artifacts
        .iter()
        .map(|artifact| {
            let relative = artifact.local_path.strip_prefix(root).unwrap();
            (
                artifact.location.resource_id.as_str(),
                artifact.location.property.as_str(),
                artifact.kind,
                relative.to_string_lossy().into_owned(),
            )
        })
        .collect()
}

#[test]
fn every_packageable_type_is_found_in_sams_order() {
    use ArtifactKind::*;
    let dir = project();
    let artifacts = find_artifacts(&every_type_template(), dir.path()).unwrap();
    let include = "Resources.IncApi.Properties.DefinitionBody.Fn::Transform.Parameters.Location";
    let expected = [
        (
            "AWS::ServerlessRepo::Application",
            "LicenseUrl",
            File,
            "LICENSE.txt",
        ),
        (
            "AWS::ServerlessRepo::Application",
            "ReadmeUrl",
            File,
            "README.md",
        ),
        ("AWS::Include", include, File, "api.yaml"),
        ("Fn", "CodeUri", ZipDirectory, "src"),
        ("FnFile", "CodeUri", ZipFile, "handler.py"),
        ("FnZip", "CodeUri", File, "built.zip"),
        ("Api", "DefinitionUri", File, "api.yaml"),
        ("HttpApi", "DefinitionUri", File, "api.yaml"),
        ("Sm", "DefinitionUri", File, "sm.json"),
        ("Gql", "SchemaUri", File, "schema.graphql"),
        ("Gql", "Resolvers.Query.R1.CodeUri", File, "resolver.js"),
        ("Gql", "Functions.F1.CodeUri", File, "resolver.js"),
        ("Schema", "DefinitionS3Location", File, "schema.graphql"),
        (
            "Resolver",
            "RequestMappingTemplateS3Location",
            File,
            "req.vtl",
        ),
        (
            "Resolver",
            "ResponseMappingTemplateS3Location",
            File,
            "resp.vtl",
        ),
        ("Resolver", "CodeS3Location", File, "resolver.js"),
        ("AsFn", "RequestMappingTemplateS3Location", File, "req.vtl"),
        (
            "AsFn",
            "ResponseMappingTemplateS3Location",
            File,
            "resp.vtl",
        ),
        ("AsFn", "CodeS3Location", File, "resolver.js"),
        ("Rest", "BodyS3Location", File, "api.yaml"),
        ("V2", "BodyS3Location", File, "api.yaml"),
        ("Sfn", "DefinitionS3Location", File, "sm.json"),
        ("LFn", "Code", ZipDirectory, "src"),
        ("Eb", "SourceBundle", File, "built.zip"),
        ("Layer", "ContentUri", ZipDirectory, "layer"),
        ("LLayer", "Content", ZipDirectory, "layer"),
        ("Glue", "Command.ScriptLocation", File, "script.py"),
        ("Module", "ModulePackage", File, "built.zip"),
        ("ResVer", "SchemaHandlerPackage", File, "built.zip"),
        ("Stack", "TemplateURL", NestedTemplate, "child.yaml"),
        ("App", "Location", NestedTemplate, "child.yaml"),
        ("Set", "TemplateURL", File, "child.yaml"),
    ];
    let root = resolved_root(dir.path());
    let found = summary(&artifacts, &root);
    let expected: Vec<_> = expected
        .iter()
        .map(|(id, property, kind, path)| (*id, *property, *kind, path.to_string()))
        .collect();
    assert_eq!(found, expected);
    assert!(artifacts
        .iter()
        .all(|artifact| artifact.local_path.is_absolute()));
    assert_eq!(
        artifacts[0].resource_type,
        "AWS::ServerlessRepo::Application"
    );
    assert_eq!(artifacts[3].resource_type, "AWS::Serverless::Function");
}

/// The template folder as `find_artifacts` resolves it (absolute, normalised).
fn resolved_root(dir: &Path) -> std::path::PathBuf {
    std::path::absolute(dir).unwrap()
}

#[test]
fn every_packageable_type_is_rewritten_in_sams_shape() {
    let dir = project();
    let mut template = every_type_template();
    let artifacts = find_artifacts(&template, dir.path()).unwrap();
    apply_uploads(&mut template, &upload_all(&artifacts)).unwrap();
    let props = |id: &str| template["Resources"][id]["Properties"].clone();
    let appsync = |id: &str| {
        json!({
            "RequestMappingTemplateS3Location": format!("s3://bkt/pfx/{id}-RequestMappingTemplateS3Location"),
            "ResponseMappingTemplateS3Location": format!("s3://bkt/pfx/{id}-ResponseMappingTemplateS3Location"),
            "CodeS3Location": format!("s3://bkt/pfx/{id}-CodeS3Location")
        })
    };

    assert_eq!(
        template["Metadata"]["AWS::ServerlessRepo::Application"],
        json!({
            "Name": "app",
            "LicenseUrl": "s3://bkt/pfx/AWS::ServerlessRepo::Application-LicenseUrl",
            "ReadmeUrl": "s3://bkt/pfx/AWS::ServerlessRepo::Application-ReadmeUrl"
        })
    );
    assert_eq!(
        props("IncApi")["DefinitionBody"]["Fn::Transform"]["Parameters"]["Location"],
        "s3://bkt/pfx/AWS::Include-Resources.IncApi.Properties.DefinitionBody.Fn::Transform.Parameters.Location"
    );
    assert_eq!(
        props("Fn"),
        json!({"CodeUri": "s3://bkt/pfx/Fn-CodeUri", "Handler": "app.handler"})
    );
    assert_eq!(props("FnFile")["CodeUri"], "s3://bkt/pfx/FnFile-CodeUri");
    assert_eq!(props("FnZip")["CodeUri"], "s3://bkt/pfx/FnZip-CodeUri");
    assert_eq!(
        props("Api")["DefinitionUri"],
        "s3://bkt/pfx/Api-DefinitionUri"
    );
    assert_eq!(
        props("HttpApi")["DefinitionUri"],
        "s3://bkt/pfx/HttpApi-DefinitionUri"
    );
    assert_eq!(
        props("Sm")["DefinitionUri"],
        json!({"Bucket": "bkt", "Key": "pfx/Sm-DefinitionUri"})
    );
    assert_eq!(
        props("Gql"),
        json!({
            "SchemaUri": "s3://bkt/pfx/Gql-SchemaUri",
            "Functions": {"F1": {"CodeUri": "s3://bkt/pfx/Gql-Functions.F1.CodeUri"}},
            "Resolvers": {"Query": {"R1": {"CodeUri": "s3://bkt/pfx/Gql-Resolvers.Query.R1.CodeUri", "Pipeline": ["F1"]}}}
        })
    );
    assert_eq!(
        props("Schema")["DefinitionS3Location"],
        "s3://bkt/pfx/Schema-DefinitionS3Location"
    );
    assert_eq!(props("Resolver"), appsync("Resolver"));
    assert_eq!(props("AsFn"), appsync("AsFn"));
    assert_eq!(
        props("Rest")["BodyS3Location"],
        json!({"Bucket": "bkt", "Key": "pfx/Rest-BodyS3Location"})
    );
    assert_eq!(
        props("V2")["BodyS3Location"],
        json!({"Bucket": "bkt", "Key": "pfx/V2-BodyS3Location"})
    );
    assert_eq!(
        props("Sfn")["DefinitionS3Location"],
        json!({"Bucket": "bkt", "Key": "pfx/Sfn-DefinitionS3Location"})
    );
    assert_eq!(
        props("LFn"),
        json!({"Code": {"S3Bucket": "bkt", "S3Key": "pfx/LFn-Code"}, "Runtime": "python3.12"})
    );
    assert_eq!(
        props("Eb")["SourceBundle"],
        json!({"S3Bucket": "bkt", "S3Key": "pfx/Eb-SourceBundle"})
    );
    assert_eq!(
        props("Layer")["ContentUri"],
        "s3://bkt/pfx/Layer-ContentUri"
    );
    assert_eq!(
        props("LLayer")["Content"],
        json!({"S3Bucket": "bkt", "S3Key": "pfx/LLayer-Content"})
    );
    assert_eq!(
        props("Glue")["Command"],
        json!({"Name": "glueetl", "ScriptLocation": "s3://bkt/pfx/Glue-Command.ScriptLocation"})
    );
    assert_eq!(
        props("Module")["ModulePackage"],
        "s3://bkt/pfx/Module-ModulePackage"
    );
    assert_eq!(
        props("ResVer")["SchemaHandlerPackage"],
        "s3://bkt/pfx/ResVer-SchemaHandlerPackage"
    );
    let url = "https://s3.eu-west-1.amazonaws.com/bkt/pfx";
    assert_eq!(
        props("Stack")["TemplateURL"],
        format!("{url}/Stack-TemplateURL.template")
    );
    assert_eq!(
        props("App")["Location"],
        format!("{url}/App-Location.template")
    );
    assert_eq!(
        props("Set")["TemplateURL"],
        format!("{url}/Set-TemplateURL.template")
    );

    // Packaged, the template names nothing local any more.
    assert_eq!(find_artifacts(&template, dir.path()).unwrap(), []);
}

#[test]
fn values_sam_leaves_alone_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let function =
        |properties: Value| json!({"Type": "AWS::Serverless::Function", "Properties": properties});
    let template = json!({
        "Resources": {
            "S3Uri": function(json!({"CodeUri": "s3://bucket/code.zip"})),
            "S3Https": function(json!({"CodeUri": "https://s3.amazonaws.com/bucket/code.zip"})),
            "S3Dict": function(json!({"CodeUri": {"Bucket": "bucket", "Key": "code.zip"}})),
            "Sub": function(json!({"CodeUri": {"Fn::Sub": "${Dir}/src"}})),
            "Inline": function(json!({"InlineCode": "def h(e, c): pass", "CodeUri": "missing"})),
            "Image": function(json!({"PackageType": "Image", "CodeUri": "missing", "ImageUri": "fn:latest"})),
            "LambdaS3": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {"S3Bucket": "b", "S3Key": "k"}}},
            "LambdaImage": {"Type": "AWS::Lambda::Function", "Properties": {"PackageType": "Image", "Code": {"ImageUri": "x"}}},
            "ApiInline": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": {"openapi": "3.0.1"}}},
            "ApiEmpty": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionUri": ""}},
            "SmInline": {"Type": "AWS::Serverless::StateMachine", "Properties": {"Definition": {"StartAt": "A"}}},
            "Stack": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://s3.amazonaws.com/examplebucket/exampletemplate.yml"}},
            "Hosted": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "https://b.s3.us-west-2.amazonaws.com/t.yaml"}},
            "Sar": {"Type": "AWS::Serverless::Application", "Properties": {"Location": {"ApplicationId": "arn:aws:serverlessrepo:us-east-1:1:applications/x", "SemanticVersion": "1.0.0"}}},
            "NoTemplate": {"Type": "AWS::CloudFormation::Stack", "Properties": {"Parameters": {}}},
            "Included": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://bucket/api.yaml"}}}}},
            "OtherTransform": {"Type": "AWS::Serverless::Api", "Properties": {"DefinitionBody": {"Fn::Transform": {"Name": "AWS::Other", "Parameters": {"Location": "missing"}}}}},
            "Fn::ForEach::Fns": ["Name", ["A"], {"${Name}": function(json!({"CodeUri": "missing"}))}],
            "NoProperties": {"Type": "AWS::Serverless::Function"},
            "Queue": {"Type": "AWS::SQS::Queue", "Properties": {"CodeUri": "missing"}}
        },
        "Metadata": {"AWS::ServerlessRepo::Application": {"LicenseUrl": "s3://bucket/LICENSE"}}
    });
    assert_eq!(find_artifacts(&template, dir.path()).unwrap(), []);
}

#[test]
fn omitted_code_means_the_template_folder_or_the_global_code_uri() {
    let dir = project();
    let root = resolved_root(dir.path());
    let mut template = json!({"Resources": {
        "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "app.handler"}},
        "Empty": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": ""}},
        "Layer": {"Type": "AWS::Serverless::LayerVersion", "Properties": {}},
        "Glue": {"Type": "AWS::Glue::Job", "Properties": {"Role": "r"}}
    }});
    let artifacts = find_artifacts(&template, dir.path()).unwrap();
    let expected =
        ["Fn", "Empty", "Layer", "Glue"].map(|id| (id, ArtifactKind::ZipDirectory, root.clone()));
    let found: Vec<_> = artifacts
        .iter()
        .map(|artifact| {
            (
                artifact.location.resource_id.as_str(),
                artifact.kind,
                artifact.local_path.clone(),
            )
        })
        .collect();
    assert_eq!(found, expected);
    apply_uploads(&mut template, &upload_all(&artifacts)).unwrap();
    assert_eq!(
        template["Resources"]["Fn"]["Properties"]["CodeUri"],
        "s3://bkt/pfx/Fn-CodeUri"
    );
    assert_eq!(
        template["Resources"]["Glue"]["Properties"],
        json!({"Role": "r", "Command": {"ScriptLocation": "s3://bkt/pfx/Glue-Command.ScriptLocation"}})
    );

    let mut template = json!({
        "Globals": {"Function": {"CodeUri": "src", "Runtime": "python3.12"}},
        "Resources": {
            "Fn": {"Type": "AWS::Serverless::Function", "Properties": {"Handler": "app.handler"}},
            "Own": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "layer"}}
        }
    });
    let artifacts = find_artifacts(&template, dir.path()).unwrap();
    assert_eq!(artifacts[0].local_path, root.join("src"));
    assert_eq!(artifacts[1].local_path, root.join("layer"));
    apply_uploads(&mut template, &upload_all(&artifacts)).unwrap();
    assert_eq!(
        template["Resources"]["Fn"]["Properties"]["CodeUri"],
        "s3://bkt/pfx/Fn-CodeUri"
    );
    assert_eq!(template["Globals"]["Function"]["CodeUri"], "src");
}

#[test]
fn relative_paths_are_resolved_against_the_template_folder() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "functions/api/app.py", b"x = 1\n");
    write(dir.path(), "app/template.yaml", b"Resources: {}\n");
    let absolute = resolved_root(dir.path()).join("functions/api");
    let template = json!({"Resources": {
        "Up": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "../functions/./api/"}},
        "Abs": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": absolute.to_str().unwrap()}}
    }});
    let artifacts = find_artifacts(&template, &dir.path().join("app")).unwrap();
    assert_eq!(artifacts.len(), 2);
    assert!(artifacts
        .iter()
        .all(|artifact| artifact.local_path == absolute));
}

#[test]
fn missing_paths_name_the_resource_property_path_and_fix() {
    let dir = tempfile::tempdir().unwrap();
    let function = json!({"Resources": {"HelloWorldFunction": {
        "Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "hello_world/"}
    }}});
    let error = find_artifacts(&function, dir.path()).unwrap_err();
    let path = resolved_root(dir.path()).join("hello_world");
    assert!(
        matches!(&error, ArtifactError::MissingPath { resource_id, property, path: p }
        if resource_id == "HelloWorldFunction" && property == "CodeUri" && *p == path)
    );
    assert_eq!(
        error.to_string(),
        format!(
            "CodeUri of resource HelloWorldFunction refers to {}, which does not exist; run `sam build` first or fix CodeUri",
            path.display()
        )
    );

    let stack = json!({"Resources": {"Child": {"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": "child/template.yaml"}}}});
    let error = find_artifacts(&stack, dir.path()).unwrap_err();
    assert!(
        matches!(&error, ArtifactError::MissingPath { property, .. } if property == "TemplateURL")
    );

    fs::create_dir(dir.path().join("child")).unwrap();
    let folder = json!({"Resources": {"Child": {"Type": "AWS::Serverless::Application", "Properties": {"Location": "child"}}}});
    let error = find_artifacts(&folder, dir.path()).unwrap_err();
    assert!(
        matches!(&error, ArtifactError::NotATemplateFile { resource_id, .. } if resource_id == "Child")
    );

    let include = json!({"Resources": {"Api": {"Type": "AWS::Serverless::Api", "Properties": {
        "DefinitionBody": {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "swagger.yaml"}}}
    }}}});
    let error = find_artifacts(&include, dir.path()).unwrap_err();
    assert!(
        matches!(&error, ArtifactError::MissingPath { resource_id, path, .. }
        if resource_id == "AWS::Include" && path.ends_with("swagger.yaml"))
    );

    let number = json!({"Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": 42}}}});
    let error = find_artifacts(&number, dir.path()).unwrap_err();
    assert_eq!(
        error.to_string(),
        "CodeUri of resource Fn is 42, which is not a path; use a local path or an s3:// URL"
    );
}

#[test]
fn includes_inside_arrays_are_found() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "mappings.yaml", b"A: {}\n");
    let mut template = json!({"Conditions": {"C": {"Fn::And": [
        {"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "mappings.yaml"}}},
        {"Condition": "D"}
    ]}}});
    // Like sam, a template without resources is not searched for includes.
    assert_eq!(find_artifacts(&template, dir.path()).unwrap(), []);

    template["Resources"] = json!({});
    let artifacts = find_artifacts(&template, dir.path()).unwrap();
    assert_eq!(artifacts.len(), 1);
    assert_eq!(
        artifacts[0].location.property,
        "Conditions.C.Fn::And.0.Fn::Transform.Parameters.Location"
    );
    assert_eq!(artifacts[0].location.pointer[3], PathSegment::Index(0));
}
