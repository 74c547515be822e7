//! `AWS::LanguageExtensions` expanded locally, as `sam deploy --language-extensions` (or
//! `SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS=1`) does, so that the functions and artifacts a
//! `Fn::ForEach` generates are found, packaged and (image functions) given managed repositories.
//!
//! As in sam (samcli/lib/cfn_language_extensions, "partial" resolution), the expanded template is
//! only used to package: the template CloudFormation receives keeps its `Fn::ForEach` loops and
//! the transform, with each artifact property rewritten to its S3 (or ECR) location: directly
//! when every iteration shares the artifact, through a generated `SAM<Property><Loop>` mapping
//! and `Fn::FindInMap` when the property uses the loop variable ([`packaging`]).
//!
//! What is expanded here ([`foreach`], [`resolve`]): `Fn::ForEach` in Resources, Conditions,
//! Outputs and resource Properties (nested up to 5 deep, with sam's checks), over a list, a
//! parameter, or an intrinsic that resolves locally; then `Ref` to parameters and pseudo
//! parameters, `Fn::Sub`, `Fn::Join`, `Fn::Split`, `Fn::Select`, `Fn::FindInMap` (with
//! `DefaultValue`), `Fn::Length`, `Fn::ToJsonString`, `Fn::If` on conditions that resolve, and
//! `AWS::NoValue`. Pure: nothing here reads files or talks to AWS.

mod foreach;
pub mod packaging;
mod resolve;

use serde_json::{Map, Value};

pub use packaging::{merge_packaged, DynamicProperty};

/// The transform that turns the extensions on.
pub const TRANSFORM: &str = "AWS::LanguageExtensions";

/// The prefix of a loop's key.
const FOREACH: &str = "Fn::ForEach::";

/// A template sam (and CloudFormation) would refuse to expand; the message is sam's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExpansionError(pub String);

/// The template expanded, the artifact properties inside its loops that use the loop variable
/// (packaged through mappings), and the parameter values it was resolved with.
#[derive(Debug, Clone, PartialEq)]
pub struct Expansion {
    pub expanded: Value,
    pub dynamic: Vec<DynamicProperty>,
    pub values: Map<String, Value>,
}

/// Whether the template names the `AWS::LanguageExtensions` transform (alone or in a list).
pub fn uses_language_extensions(template: &Value) -> bool {
    match template.get("Transform") {
        Some(Value::String(name)) => name == TRANSFORM,
        Some(Value::Array(names)) => names.iter().any(|n| n.as_str() == Some(TRANSFORM)),
        _ => false,
    }
}

/// Whether the template's Resources hold `Fn::ForEach` loops (whose local artifacts are packaged
/// only when the extensions are expanded).
pub fn has_resource_loops(template: &Value) -> bool {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .is_some_and(|resources| resources.keys().any(|k| k.starts_with(FOREACH)))
}

/// The values `Ref`, `Fn::Sub` and collections resolve against: sam's default pseudo parameters
/// (the region replaced by the deploy's), then the parameter overrides.
pub fn parameter_values(overrides: &[(String, String)], region: &str) -> Map<String, Value> {
    let mut values = Map::new();
    for (name, value) in [
        ("AWS::AccountId", "123456789012"),
        ("AWS::Partition", "aws"),
        ("AWS::Region", region),
        ("AWS::StackName", "local"),
        (
            "AWS::StackId",
            "arn:aws:cloudformation:us-east-1:123456789012:stack/local/51af3dc0-da77-11e4-872e-1234567db123",
        ),
        ("AWS::URLSuffix", "localhost"),
    ] {
        values.insert(name.into(), Value::String(value.into()));
    }
    for (name, value) in overrides {
        values.insert(name.clone(), Value::String(value.clone()));
    }
    values
}

/// Expands the template's language extensions (the caller checked
/// [`uses_language_extensions`]), with `values` from [`parameter_values`].
pub fn expand(template: &Value, values: &Map<String, Value>) -> Result<Expansion, ExpansionError> {
    let Value::Object(root) = template else {
        return Err(ExpansionError("The template must be a mapping".into()));
    };
    check_layout(root)?;
    let resolver = resolve::Resolver::new(root, values);
    let dynamic = packaging::dynamic_properties(root, &resolver);
    let mut expanded = foreach::expand_template(root, &resolver)?;
    resolve::resolve_template(&mut expanded, values)?;
    Ok(Expansion {
        expanded: Value::Object(expanded),
        dynamic,
        values: values.clone(),
    })
}

/// sam's `TemplateParsingProcessor` checks.
fn check_layout(root: &Map<String, Value>) -> Result<(), ExpansionError> {
    let invalid = |m: String| Err(ExpansionError(m));
    match root.get("Resources") {
        None | Some(Value::Null) => {
            return invalid("The Resources section must not be null".into())
        }
        Some(Value::Object(resources)) => {
            for (id, resource) in resources {
                if !id.starts_with(FOREACH) && !resource.is_object() {
                    return invalid(format!(
                        "[/Resources/{id}] resource definition is malformed"
                    ));
                }
            }
        }
        Some(_) => return invalid("The Resources section must be a mapping".into()),
    }
    if let Some(Value::Object(outputs)) = root.get("Outputs") {
        for (id, output) in outputs {
            if output.is_null() {
                return invalid(format!("[/Outputs/{id}] 'null' values are not allowed"));
            }
        }
    }
    Ok(())
}

/// `Fn::ForEach::Name` → `Name`.
fn loop_name(key: &str) -> Option<&str> {
    key.strip_prefix(FOREACH)
}

#[cfg(test)]
mod tests;
