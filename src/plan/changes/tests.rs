use std::collections::HashMap;
use std::path::Path;

use serde_json::{json, Value};

use super::*;

fn real_world(name: &str) -> Value {
    let path = Path::new("/work/shared/real-world/templates").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    crate::template::parse_str(&text, name).expect("a real template parses")
}

fn modify(id: &str, resource_type: &str, properties: Vec<PropertyChange>) -> ResourceChange {
    ResourceChange {
        action: "Modify".into(),
        logical_id: id.into(),
        resource_type: resource_type.into(),
        replacement: Some("False".into()),
        physical_id: Some(format!("app-{id}")),
        properties,
        code: None,
        change_set_id: None,
        nested: Vec::new(),
    }
}

fn detail(path: &str, before: Option<&str>, after: Option<&str>) -> PropertyChange {
    PropertyChange {
        path: path.into(),
        change: "Modify".into(),
        before: before.map(str::to_string),
        after: after.map(str::to_string),
        recreation: "Never".into(),
        cause: None,
        source: ValueSource::Cloudformation,
    }
}

fn no_inputs<'a>(
    secrets: &'a Secrets,
    code: &'a HashMap<String, DeployedCode>,
    new: &'a HashMap<String, NewCode>,
) -> Inputs<'a> {
    Inputs {
        deployed_template: None,
        new_template: None,
        deployed_code: code,
        new_code: new,
        secrets,
    }
}

#[test]
fn the_diff_names_each_leaf_with_old_and_new_values_and_what_replaces() {
    let before = json!({"Type": "AWS::Lambda::Function", "Properties": {
        "FunctionName": "a", "MemorySize": 128, "Layers": ["l1", "l2"],
        "Environment": {"Variables": {"STAGE": "dev", "GONE": "x"}}}});
    let after = json!({"Type": "AWS::Lambda::Function", "Properties": {
        "FunctionName": "b", "MemorySize": 256, "Layers": ["l1", "l3"],
        "Environment": {"Variables": {"STAGE": "prod", "NEW": "y"}}},
        "Metadata": {"Dockerfile": "Dockerfile"}});
    let changes = diff::resource("AWS::Lambda::Function", &before, &after);
    type Row<'a> = (&'a str, &'a str, Option<&'a str>, Option<&'a str>, &'a str);
    let shown: Vec<Row> = changes
        .iter()
        .map(|c| {
            (
                c.path.as_str(),
                c.change.as_str(),
                c.before.as_deref(),
                c.after.as_deref(),
                c.recreation.as_str(),
            )
        })
        .collect();
    assert_eq!(
        shown,
        [
            (
                "/Properties/FunctionName",
                "Modify",
                Some("a"),
                Some("b"),
                "Always"
            ),
            (
                "/Properties/MemorySize",
                "Modify",
                Some("128"),
                Some("256"),
                "Never"
            ),
            (
                "/Properties/Layers/1",
                "Modify",
                Some("l2"),
                Some("l3"),
                "Never"
            ),
            (
                "/Properties/Environment/Variables/STAGE",
                "Modify",
                Some("dev"),
                Some("prod"),
                "Never"
            ),
            (
                "/Properties/Environment/Variables/GONE",
                "Remove",
                Some("x"),
                None,
                "Never"
            ),
            (
                "/Properties/Environment/Variables/NEW",
                "Add",
                None,
                Some("y"),
                "Never"
            ),
            (
                "/Metadata",
                "Modify",
                None,
                Some("{\"Dockerfile\":\"Dockerfile\"}"),
                "Never"
            ),
        ]
    );
    assert!(changes.iter().all(|c| c.source == ValueSource::Template));
}

#[test]
fn lists_of_another_length_change_as_one_value() {
    let before = json!({"Properties": {"Layers": ["a"]}});
    let after = json!({"Properties": {"Layers": ["a", "b"]}});
    let changes = diff::resource("AWS::Lambda::Function", &before, &after);
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].path, "/Properties/Layers");
    assert_eq!(changes[0].after.as_deref(), Some("[\"a\",\"b\"]"));
}

#[test]
fn templates_fill_in_what_cloudformation_left_without_values() {
    let deployed = real_world(
        "aws-samples__serverless-patterns__eventbridge-webhooks__1-stripe__template.yml",
    );
    let mut new = deployed.clone();
    let resources = new["Resources"].as_object_mut().unwrap();
    let (id, resource) = resources
        .iter_mut()
        .find(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .expect("a function");
    let id = id.clone();
    resource["Properties"]["MemorySize"] = json!(1024);
    let secrets = Secrets::default();
    let (code, new_code) = (HashMap::new(), HashMap::new());
    let inputs = Inputs {
        deployed_template: Some(&deployed),
        new_template: Some(&new),
        ..no_inputs(&secrets, &code, &new_code)
    };
    // CloudFormation named the property but gave no values (no IncludePropertyValues).
    let listed = vec![modify(
        &id,
        "AWS::Serverless::Function",
        vec![detail("/Properties/MemorySize", None, None)],
    )];
    assert!(needs_templates(&listed));
    let done = complete(listed, &inputs);
    assert_eq!(done[0].properties.len(), 1);
    assert_eq!(done[0].properties[0].path, "/Properties/MemorySize");
    assert_eq!(done[0].properties[0].after.as_deref(), Some("1024"));
    assert_eq!(done[0].properties[0].source, ValueSource::Template);
    // Values CloudFormation gave are kept as they are.
    let given = vec![modify(
        &id,
        "AWS::Serverless::Function",
        vec![detail("/Properties/MemorySize", Some("128"), Some("1024"))],
    )];
    assert!(!needs_templates(&given));
    assert_eq!(complete(given.clone(), &inputs), given);
}

#[test]
fn no_echo_parameters_and_secure_references_never_show() {
    let template = real_world(
        "aws-samples__serverless-patterns__eventbridge-webhooks__1-stripe__template.yml",
    );
    let secret_id = template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, r)| r["Type"] == "AWS::SecretsManager::Secret")
        .map(|(id, _)| id.clone())
        .expect("the template's secret");
    let with_reference = json!({"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
        "Environment": {"Variables": {"DB": "{{resolve:secretsmanager:db:SecretString:password}}",
                                      "MIXED": {"Fn::Sub": "user:${StripeWebhookSecret}"}}}}}}});
    let secrets = Secrets::of(
        &[&template, &with_reference],
        &[("StripeWebhookSecret".into(), "whsec_new".into())],
    );
    let changes = vec![
        modify(
            &secret_id,
            "AWS::SecretsManager::Secret",
            // The old value is unknown to samrs: the path says it is secret.
            vec![detail(
                "/Properties/SecretString",
                Some("whsec_old"),
                Some("whsec_new"),
            )],
        ),
        modify(
            "Fn",
            "AWS::Lambda::Function",
            vec![
                detail(
                    "/Properties/Environment/Variables/DB",
                    Some("{{resolve:secretsmanager:db:SecretString:password}}"),
                    None,
                ),
                detail(
                    "/Properties/Environment",
                    Some("{\"Variables\":{\"MIXED\":\"user:whsec_old\"}}"),
                    None,
                ),
                detail(
                    "/Properties/Description",
                    Some("uses whsec_new inside"),
                    Some("plain"),
                ),
            ],
        ),
    ];
    let (code, new_code) = (HashMap::new(), HashMap::new());
    let done = complete(changes, &no_inputs(&secrets, &code, &new_code));
    let text = serde_json::to_string(&done).unwrap();
    for secret in ["whsec_old", "whsec_new", "resolve:secretsmanager"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(done[0].properties[0].before.as_deref(), Some(MASK));
    assert_eq!(done[0].properties[0].after.as_deref(), Some(MASK));
    assert_eq!(done[1].properties[0].before.as_deref(), Some(MASK));
    assert_eq!(done[1].properties[1].before.as_deref(), Some(MASK));
    assert_eq!(
        done[1].properties[2].before.as_deref(),
        Some("uses **** inside")
    );
    assert_eq!(done[1].properties[2].after.as_deref(), Some("plain"));
}

#[test]
fn nested_changes_are_masked_too() {
    let parent = json!({"Parameters": {"Pw": {"Type": "String", "NoEcho": true}}, "Resources": {}});
    let secrets = Secrets::of(&[&parent], &[("Pw".into(), "hunter2".into())]);
    let mut kid = modify("Kid", "AWS::CloudFormation::Stack", Vec::new());
    kid.nested = vec![modify(
        "Topic",
        "AWS::SNS::Topic",
        vec![detail(
            "/Properties/DisplayName",
            Some("x"),
            Some("hunter2"),
        )],
    )];
    let (code, new_code) = (HashMap::new(), HashMap::new());
    let done = complete(vec![kid], &no_inputs(&secrets, &code, &new_code));
    assert_eq!(done[0].nested[0].properties[0].after.as_deref(), Some(MASK));
}

#[test]
fn a_function_whose_code_changed_names_it() {
    let secrets = Secrets::default();
    let deployed = HashMap::from([
        (
            "Zip".to_string(),
            DeployedCode::Zip {
                sha256: "old=".into(),
            },
        ),
        (
            "Same".to_string(),
            DeployedCode::Zip {
                sha256: "same=".into(),
            },
        ),
        (
            "Image".to_string(),
            DeployedCode::Image {
                digest: Some("sha256:aa".into()),
            },
        ),
    ]);
    let template = json!({"Resources": {
        "Image": {"Type": "AWS::Serverless::Function", "Properties": {"ImageUri": "123.dkr.ecr.us-east-1.amazonaws.com/r@sha256:bb"}},
        "Tagged": {"Type": "AWS::Serverless::Function", "Properties": {"ImageUri": "r:latest"}}}});
    let zips = HashMap::from([
        ("Zip".to_string(), "new=".to_string()),
        ("Same".to_string(), "same=".to_string()),
    ]);
    let new = new_code(&template, &zips);
    assert!(!new.contains_key("Tagged"), "a tag names no digest");
    let changes = ["Zip", "Same", "Image"]
        .map(|id| modify(id, "AWS::Lambda::Function", Vec::new()))
        .to_vec();
    let done = complete(changes, &no_inputs(&secrets, &deployed, &new));
    assert_eq!(
        done[0].code,
        Some(CodeChange {
            kind: CodeKind::Zip,
            deployed: Some("old=".into()),
            new: "new=".into()
        })
    );
    assert_eq!(done[1].code, None, "the same zip");
    assert_eq!(
        done[2].code,
        Some(CodeChange {
            kind: CodeKind::Image,
            deployed: Some("sha256:aa".into()),
            new: "sha256:bb".into()
        })
    );
}

#[test]
fn nested_stacks_are_found_and_flattened_under_their_parent() {
    let template = real_world(
        "aws__aws-sam-cli__tests__integration__testdata__package__deep-nested-image__template.yaml",
    );
    assert!(has_nested_stacks(&template));
    assert!(!has_nested_stacks(
        &json!({"Resources": {"T": {"Type": "AWS::SNS::Topic"}}})
    ));
    let mut kid = modify("Kid", "AWS::CloudFormation::Stack", Vec::new());
    let mut grandchild = modify("Deeper", "AWS::CloudFormation::Stack", Vec::new());
    grandchild.nested = vec![modify("Fn", "AWS::Lambda::Function", Vec::new())];
    kid.nested = vec![grandchild];
    let names: Vec<String> = flatten(&[kid]).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Kid", "Kid/Deeper", "Kid/Deeper/Fn"]);
}

#[test]
fn the_change_data_reads_back() {
    let mut change = modify(
        "Fn",
        "AWS::Lambda::Function",
        vec![detail("/Properties/A", Some("1"), Some("2"))],
    );
    change.code = Some(CodeChange {
        kind: CodeKind::Zip,
        deployed: None,
        new: "x=".into(),
    });
    let text = serde_json::to_string(&change).unwrap();
    let back: ResourceChange = serde_json::from_str(&text).unwrap();
    assert_eq!(back, change);
}
