//! The property changes of one resource, computed from its deployed and its new (processed)
//! template JSON, for when CloudFormation gives no values: one entry per leaf that differs (lists of
//! one length element by element, others as one value), and whether the property's update
//! replaces the resource, from the CloudFormation resource reference's update behaviours.

use serde_json::Value;

use super::{PropertyChange, ValueSource};

/// The property changes of a resource, with a change of its other attributes (`Metadata`,
/// `DeletionPolicy`, ...) as one entry each.
pub fn resource(resource_type: &str, before: &Value, after: &Value) -> Vec<PropertyChange> {
    let empty = Value::Object(Default::default());
    let properties = |v: &Value| v.get("Properties").cloned().unwrap_or(empty.clone());
    let mut changes = Vec::new();
    leaves(
        &properties(before),
        &properties(after),
        "/Properties",
        &mut |path, b, a| {
            let name = path.split('/').nth(2).unwrap_or_default();
            changes.push(PropertyChange {
                path: path.to_string(),
                change: match (b, a) {
                    (None, _) => "Add",
                    (_, None) => "Remove",
                    _ => "Modify",
                }
                .into(),
                before: b.map(shown),
                after: a.map(shown),
                recreation: recreation(resource_type, name).into(),
                cause: None,
                source: ValueSource::Template,
            });
        },
    );
    for attribute in [
        "Metadata",
        "DeletionPolicy",
        "UpdateReplacePolicy",
        "UpdatePolicy",
        "Condition",
        "DependsOn",
    ] {
        let (b, a) = (before.get(attribute), after.get(attribute));
        if b != a {
            changes.push(PropertyChange {
                path: format!("/{attribute}"),
                change: "Modify".into(),
                before: b.map(shown),
                after: a.map(shown),
                recreation: "Never".into(),
                cause: None,
                source: ValueSource::Template,
            });
        }
    }
    changes
}

/// Called with a leaf's path and its values before and after (None: absent).
type Leaf<'f> = dyn FnMut(&str, Option<&Value>, Option<&Value>) + 'f;

fn leaves(before: &Value, after: &Value, path: &str, found: &mut Leaf<'_>) {
    if before == after {
        return;
    }
    match (before, after) {
        (Value::Object(b), Value::Object(a)) => {
            for (key, old) in b {
                let sub = format!("{path}/{key}");
                match a.get(key) {
                    Some(new) => leaves(old, new, &sub, found),
                    None => found(&sub, Some(old), None),
                }
            }
            for (key, new) in a.iter().filter(|(k, _)| !b.contains_key(*k)) {
                found(&format!("{path}/{key}"), None, Some(new));
            }
        }
        (Value::Array(b), Value::Array(a)) if b.len() == a.len() => {
            for (i, (old, new)) in b.iter().zip(a).enumerate() {
                leaves(old, new, &format!("{path}/{i}"), found);
            }
        }
        _ => found(path, Some(before), Some(after)),
    }
}

/// A value as CloudFormation shows it in a change set: strings as they are, JSON otherwise.
pub fn shown(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Whether changing a property replaces the resource (`Always`, `Conditionally`, `Never`): the
/// properties of the common serverless types that do not update in place.
pub fn recreation(resource_type: &str, property: &str) -> &'static str {
    let always: &[&str] = match resource_type {
        "AWS::Lambda::Function" => &["FunctionName", "PackageType"],
        "AWS::Lambda::Permission" => &[
            "Action",
            "EventSourceToken",
            "FunctionName",
            "FunctionUrlAuthType",
            "Principal",
            "PrincipalOrgID",
            "SourceAccount",
            "SourceArn",
        ],
        "AWS::Lambda::Version" => &["CodeSha256", "Description", "FunctionName"],
        "AWS::Lambda::LayerVersion" => &[
            "CompatibleArchitectures",
            "CompatibleRuntimes",
            "Content",
            "Description",
            "LayerName",
            "LicenseInfo",
        ],
        "AWS::Lambda::Alias" => &["FunctionName", "Name"],
        "AWS::IAM::Role" => &["RoleName", "Path"],
        "AWS::ECR::Repository" => &["RepositoryName", "EncryptionConfiguration"],
        "AWS::SNS::Topic" => &["TopicName", "FifoTopic"],
        "AWS::SQS::Queue" => &["QueueName", "FifoQueue"],
        "AWS::S3::Bucket" => &["BucketName"],
        "AWS::DynamoDB::Table" => &["TableName", "KeySchema"],
        "AWS::Logs::LogGroup" => &["LogGroupName"],
        "AWS::SSM::Parameter" => &["Name"],
        _ => &[],
    };
    if always.contains(&property) {
        "Always"
    } else if resource_type == "AWS::DynamoDB::Table" && property == "AttributeDefinitions" {
        "Conditionally"
    } else {
        "Never"
    }
}
