//! The no-op shortcut: a redeploy that cannot change anything answers "No changes to deploy"
//! without a change set (the slowest call of a no-op deploy).
//!
//! It is taken only when the result depends on nothing but the template text, the parameters and
//! the stack settings. Whatever CloudFormation reads or expands while it makes a change set (an
//! SSM parameter type, a macro, a dynamic reference, a nested template samrs did not package, a
//! registry module) can change the result while the text stays the same, so such a deploy goes to
//! CloudFormation, which decides, as sam always does.

use std::collections::HashSet;
use std::fmt;

use serde_json::Value;

use crate::settings::DeploySettings;
use crate::stack_state::{ParameterValue, StackInfo};

/// The transform CloudFormation runs the same way on the same text: the only one the shortcut
/// accepts.
const SAM_TRANSFORM: &str = "AWS::Serverless-2016-10-31";

/// Something outside the template text that can change what a deploy does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutsideInput {
    /// A parameter of an `AWS::SSM::Parameter::Value<...>` type: its value is read from Parameter
    /// Store on every deploy.
    SsmParameter(String),
    /// A transform other than the SAM transform (`AWS::Include`, `AWS::LanguageExtensions`, a
    /// macro): it is expanded on every deploy, from files or code that may have changed.
    Transform(String),
    /// A dynamic reference (`{{resolve:ssm:...}}`, `{{resolve:secretsmanager:...}}`).
    DynamicReference(String),
    /// A nested stack whose template samrs did not package in this run (a URL, a SAR app):
    /// CloudFormation reads it again on every update.
    NestedTemplate(String),
    /// A resource of a registry module type (`...::MODULE`): its default version may have moved.
    Module(String),
    /// The stack is not in a state its template describes (a failed or rolled back update).
    StackStatus(String),
}

impl fmt::Display for OutsideInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutsideInput::SsmParameter(name) => {
                write!(f, "parameter {name} is read from SSM Parameter Store")
            }
            OutsideInput::Transform(name) => write!(f, "transform {name} runs on every deploy"),
            // Only the service: the rest may name a secret.
            OutsideInput::DynamicReference(text) => {
                let service = text
                    .trim_start_matches("{{resolve:")
                    .split(':')
                    .next()
                    .unwrap_or_default();
                write!(f, "a dynamic reference ({{{{resolve:{service}:...}}}})")
            }
            OutsideInput::NestedTemplate(id) => {
                write!(f, "nested stack {id} has a template samrs did not package")
            }
            OutsideInput::Module(id) => write!(f, "resource {id} is a registry module"),
            OutsideInput::StackStatus(status) => write!(f, "the stack is in {status}"),
        }
    }
}

/// A nested template packaged in this run: the URL its parent points at, and its content.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedTemplate {
    pub url: String,
    pub template: Value,
}

/// Everything that stops the shortcut: what the packaged templates (the main one and every nested
/// one samrs packaged) and the parameter values read from outside, and a stack whose last
/// operation did not leave it as its template says. Empty when the shortcut may be taken.
pub fn outside_inputs(
    template: &Value,
    nested: &[NestedTemplate],
    parameters: &[ParameterValue],
    stack_status: &str,
) -> Vec<OutsideInput> {
    let mut found = Vec::new();
    if !matches!(stack_status, "CREATE_COMPLETE" | "UPDATE_COMPLETE") {
        found.push(OutsideInput::StackStatus(stack_status.to_string()));
    }
    let packaged: HashSet<&str> = nested.iter().map(|n| n.url.as_str()).collect();
    for value in std::iter::once(template).chain(nested.iter().map(|n| &n.template)) {
        ssm_parameters(value, &mut found);
        transforms(value, &mut found);
        nested_stacks(value, &packaged, &mut found);
        dynamic_references(value, &mut found);
    }
    for parameter in parameters {
        if let ParameterValue::Value(_, value) = parameter {
            dynamic_references(&Value::String(value.clone()), &mut found);
        }
    }
    let mut unique = Vec::with_capacity(found.len());
    for input in found {
        if !unique.contains(&input) {
            unique.push(input);
        }
    }
    unique
}

fn ssm_parameters(template: &Value, found: &mut Vec<OutsideInput>) {
    let Some(parameters) = template.get("Parameters").and_then(Value::as_object) else {
        return;
    };
    for (name, declaration) in parameters {
        let kind = declaration
            .get("Type")
            .and_then(Value::as_str)
            .unwrap_or("");
        if kind.starts_with("AWS::SSM::Parameter::Value<") {
            found.push(OutsideInput::SsmParameter(name.clone()));
        }
    }
}

/// The top-level `Transform` (a name, a list of names, or `{Name, Parameters}` entries) and any
/// `Fn::Transform` in the body.
fn transforms(template: &Value, found: &mut Vec<OutsideInput>) {
    fn name(entry: &Value) -> Option<String> {
        match entry {
            Value::String(name) => Some(name.clone()),
            Value::Object(map) => Some(
                map.get("Name")
                    .and_then(Value::as_str)
                    .unwrap_or("(unnamed)")
                    .to_string(),
            ),
            _ => None,
        }
    }
    let top = match template.get("Transform") {
        Some(Value::Array(entries)) => entries.iter().filter_map(name).collect(),
        Some(entry) => name(entry).into_iter().collect(),
        None => Vec::new(),
    };
    for transform in top.into_iter().filter(|t| t != SAM_TRANSFORM) {
        found.push(OutsideInput::Transform(transform));
    }
    walk(template, &mut |node| {
        if let Some(transform) = node.as_object().and_then(|m| m.get("Fn::Transform")) {
            let entries = match transform {
                Value::Array(entries) => entries.iter().filter_map(name).collect(),
                entry => name(entry).into_iter().collect::<Vec<_>>(),
            };
            found.extend(entries.into_iter().map(OutsideInput::Transform));
        }
    });
}

/// Nested stacks (and SAM applications) whose template is not one packaged in this run, and
/// registry modules.
fn nested_stacks(template: &Value, packaged: &HashSet<&str>, found: &mut Vec<OutsideInput>) {
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return;
    };
    for (id, resource) in resources {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("");
        let location = match kind {
            "AWS::CloudFormation::Stack" => resource.pointer("/Properties/TemplateURL"),
            "AWS::Serverless::Application" => resource.pointer("/Properties/Location"),
            _ if kind.ends_with("::MODULE") => {
                found.push(OutsideInput::Module(id.clone()));
                continue;
            }
            _ => continue,
        };
        if !location
            .and_then(Value::as_str)
            .is_some_and(|url| packaged.contains(url))
        {
            found.push(OutsideInput::NestedTemplate(id.clone()));
        }
    }
}

fn dynamic_references(template: &Value, found: &mut Vec<OutsideInput>) {
    walk(template, &mut |node| {
        let Some(text) = node.as_str() else {
            return;
        };
        let mut rest = text;
        while let Some(start) = rest.find("{{resolve:") {
            let tail = &rest[start..];
            let end = tail.find("}}").map_or(tail.len(), |e| e + 2);
            found.push(OutsideInput::DynamicReference(tail[..end].to_string()));
            rest = &tail[end..];
        }
    });
}

/// Calls `visit` on every value of the tree, keys' values and list items included.
fn walk(node: &Value, visit: &mut impl FnMut(&Value)) {
    visit(node);
    match node {
        Value::Object(map) => map.values().for_each(|v| walk(v, visit)),
        Value::Array(items) => items.iter().for_each(|v| walk(v, visit)),
        _ => {}
    }
}

/// Whether a deploy would change nothing: the deployed template is byte for byte the new one,
/// every parameter keeps its value, and tags, role and notification ARNs are the same. Anything
/// not comparable (a NoEcho value) counts as a change, so CloudFormation decides. Only meaningful
/// when [`outside_inputs`] found nothing.
pub fn is_unchanged(
    deployed_template: &str,
    template: &str,
    parameters: &[ParameterValue],
    stack: &StackInfo,
    settings: &DeploySettings,
) -> bool {
    let same_parameters = parameters.iter().all(|p| match p {
        ParameterValue::UsePrevious(_) => true,
        ParameterValue::Value(key, value) => stack
            .parameters
            .iter()
            .any(|(k, v)| k == key && v == value && v != "****"),
    }) && stack.parameters.len() == parameters.len();
    let mut tags = settings.tags.clone();
    let mut deployed_tags = stack.tags.clone();
    tags.sort();
    deployed_tags.sort();
    let mut arns = settings.notification_arns.clone();
    let mut deployed_arns = stack.notification_arns.clone();
    arns.sort();
    deployed_arns.sort();
    deployed_template == template
        && same_parameters
        // Without --tags, CloudFormation keeps the stack's tags.
        && (settings.tags.is_empty() || tags == deployed_tags)
        && (settings.role_arn.is_none() || settings.role_arn == stack.role_arn)
        && (settings.notification_arns.is_empty() || arns == deployed_arns)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use serde_json::json;

    fn settings(flags: &[&str]) -> DeploySettings {
        let mut argv = vec!["samrs", "deploy", "--stack-name", "app"];
        argv.extend_from_slice(flags);
        let crate::cli::Command::Deploy(args) = crate::cli::Cli::parse_from(argv).command else {
            panic!("deploy expected");
        };
        crate::settings::merge(&args, &Default::default(), std::path::Path::new("/w"), None)
            .unwrap()
    }

    fn stack() -> StackInfo {
        StackInfo {
            status: "UPDATE_COMPLETE".into(),
            parameters: vec![
                ("Stage".into(), "prod".into()),
                ("Secret".into(), "****".into()),
            ],
            tags: vec![("team".into(), "core".into())],
            ..StackInfo::default()
        }
    }

    const T: &str = "Resources: {}\n";

    #[test]
    fn same_template_parameters_and_settings_is_unchanged() {
        let params = [
            ParameterValue::Value("Stage".into(), "prod".into()),
            ParameterValue::UsePrevious("Secret".into()),
        ];
        assert!(is_unchanged(T, T, &params, &stack(), &settings(&[])));
        assert!(is_unchanged(
            T,
            T,
            &params,
            &stack(),
            &settings(&["--tags", "team=core"])
        ));
    }

    #[test]
    fn any_difference_or_uncomparable_value_needs_a_change_set() {
        let params = [
            ParameterValue::Value("Stage".into(), "prod".into()),
            ParameterValue::UsePrevious("Secret".into()),
        ];
        assert!(!is_unchanged(
            T,
            "Resources: {A: {}}\n",
            &params,
            &stack(),
            &settings(&[])
        ));
        let changed = [
            ParameterValue::Value("Stage".into(), "dev".into()),
            ParameterValue::UsePrevious("Secret".into()),
        ];
        assert!(!is_unchanged(T, T, &changed, &stack(), &settings(&[])));
        let secret = [
            ParameterValue::Value("Stage".into(), "prod".into()),
            ParameterValue::Value("Secret".into(), "****".into()),
        ];
        assert!(
            !is_unchanged(T, T, &secret, &stack(), &settings(&[])),
            "NoEcho values cannot be compared"
        );
        let fewer = [ParameterValue::Value("Stage".into(), "prod".into())];
        assert!(!is_unchanged(T, T, &fewer, &stack(), &settings(&[])));
        for flags in [
            ["--tags", "team=other"],
            ["--role-arn", "arn:aws:iam::1:role/x"],
            ["--notification-arns", "arn:aws:sns:us-east-1:1:t"],
        ] {
            assert!(
                !is_unchanged(T, T, &params, &stack(), &settings(&flags)),
                "{flags:?}"
            );
        }
    }

    fn inputs(template: Value) -> Vec<OutsideInput> {
        outside_inputs(&template, &[], &[], "UPDATE_COMPLETE")
    }

    /// A SAM app as `sam build` leaves it: nothing read from outside.
    fn plain_app() -> Value {
        json!({
            "Transform": "AWS::Serverless-2016-10-31",
            "Parameters": {
                "Stage": {"Type": "String", "Default": "dev"},
                "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>"},
                "KeyName": {"Type": "AWS::SSM::Parameter::Name"}
            },
            "Resources": {
                "Fn": {"Type": "AWS::Serverless::Function", "Properties": {
                    "CodeUri": "s3://bucket/abc", "Environment": {"Variables": {"STAGE": {"Ref": "Stage"}}}
                }}
            }
        })
    }

    #[test]
    fn a_template_read_only_from_its_text_may_take_the_shortcut() {
        assert_eq!(inputs(plain_app()), []);
        assert_eq!(
            outside_inputs(
                &plain_app(),
                &[],
                &[ParameterValue::Value("Stage".into(), "prod".into())],
                "CREATE_COMPLETE"
            ),
            []
        );
    }

    #[test]
    fn ssm_parameter_types_are_read_at_deploy_time() {
        let mut t = plain_app();
        t["Parameters"]["Latest"] =
            json!({"Type": "AWS::SSM::Parameter::Value<String>", "Default": "/app/stage"});
        t["Parameters"]["Ami"] = json!({"Type": "AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>"});
        assert_eq!(
            inputs(t),
            [
                OutsideInput::SsmParameter("Latest".into()),
                OutsideInput::SsmParameter("Ami".into())
            ]
        );
    }

    #[test]
    fn transforms_other_than_sam_run_on_every_deploy() {
        let mut t = plain_app();
        t["Transform"] = json!(["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]);
        assert_eq!(
            inputs(t),
            [OutsideInput::Transform("AWS::LanguageExtensions".into())]
        );
        let mut t = plain_app();
        t["Transform"] = json!([{"Name": "MyMacro", "Parameters": {}}]);
        assert_eq!(inputs(t), [OutsideInput::Transform("MyMacro".into())]);
        let mut t = plain_app();
        t["Resources"]["Fn"]["Properties"]["Fn::Transform"] =
            json!({"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}});
        assert_eq!(inputs(t), [OutsideInput::Transform("AWS::Include".into())]);
    }

    #[test]
    fn dynamic_references_in_the_template_or_a_parameter_value() {
        let mut t = plain_app();
        t["Resources"]["Fn"]["Properties"]["Environment"]["Variables"]["DB"] = json!({
            "Fn::Sub": "postgres://{{resolve:secretsmanager:db:SecretString:user}}@{{resolve:ssm:/db/host}}/x"
        });
        assert_eq!(
            inputs(t),
            [
                OutsideInput::DynamicReference(
                    "{{resolve:secretsmanager:db:SecretString:user}}".into()
                ),
                OutsideInput::DynamicReference("{{resolve:ssm:/db/host}}".into())
            ]
        );
        let from_override = outside_inputs(
            &plain_app(),
            &[],
            &[ParameterValue::Value(
                "Stage".into(),
                "{{resolve:ssm:/stage}}".into(),
            )],
            "UPDATE_COMPLETE",
        );
        assert_eq!(
            from_override,
            [OutsideInput::DynamicReference(
                "{{resolve:ssm:/stage}}".into()
            )]
        );
    }

    #[test]
    fn nested_templates_must_be_packaged_in_this_run_and_are_checked_too() {
        let url = "https://s3.amazonaws.com/bucket/0123.template";
        let mut parent = plain_app();
        parent["Resources"]["Child"] =
            json!({"Type": "AWS::CloudFormation::Stack", "Properties": {"TemplateURL": url}});
        parent["Resources"]["Sar"] = json!({"Type": "AWS::Serverless::Application", "Properties": {
            "Location": {"ApplicationId": "arn:aws:serverlessrepo:us-east-1:1:applications/x", "SemanticVersion": "1.0.0"}
        }});
        parent["Resources"]["Remote"] = json!({"Type": "AWS::CloudFormation::Stack",
            "Properties": {"TemplateURL": "https://example.com/vpc.yaml"}});
        let child = NestedTemplate {
            url: url.into(),
            template: json!({
                "Parameters": {"Ami": {"Type": "AWS::SSM::Parameter::Value<String>"}},
                "Resources": {"M": {"Type": "My::Org::Thing::MODULE"}}
            }),
        };
        assert_eq!(
            outside_inputs(&parent, &[child], &[], "UPDATE_COMPLETE"),
            [
                OutsideInput::NestedTemplate("Sar".into()),
                OutsideInput::NestedTemplate("Remote".into()),
                OutsideInput::SsmParameter("Ami".into()),
                OutsideInput::Module("M".into()),
            ]
        );
        let quiet_child = NestedTemplate {
            url: url.into(),
            template: json!({"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}),
        };
        let mut only_packaged = plain_app();
        only_packaged["Resources"]["Child"] = parent["Resources"]["Child"].clone();
        assert_eq!(
            outside_inputs(&only_packaged, &[quiet_child], &[], "UPDATE_COMPLETE"),
            []
        );
    }

    #[test]
    fn only_a_stack_that_matches_its_template_takes_the_shortcut() {
        for status in [
            "UPDATE_FAILED",
            "UPDATE_ROLLBACK_COMPLETE",
            "IMPORT_COMPLETE",
        ] {
            assert_eq!(
                outside_inputs(&plain_app(), &[], &[], status),
                [OutsideInput::StackStatus(status.into())]
            );
        }
    }

    #[test]
    fn reasons_read_as_sentences() {
        assert_eq!(
            OutsideInput::SsmParameter("Stage".into()).to_string(),
            "parameter Stage is read from SSM Parameter Store"
        );
        assert_eq!(
            OutsideInput::NestedTemplate("Child".into()).to_string(),
            "nested stack Child has a template samrs did not package"
        );
        assert_eq!(
            OutsideInput::DynamicReference("{{resolve:secretsmanager:db:SecretString:pw}}".into())
                .to_string(),
            "a dynamic reference ({{resolve:secretsmanager:...}})"
        );
    }
}
