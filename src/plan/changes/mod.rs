//! What a change set changes, resource by resource and property by property: the data every
//! rendering of a plan (the terminal, `--output json`, `--output markdown`, a saved plan) is made
//! of. CloudFormation's own property values come first (DescribeChangeSet with
//! `IncludePropertyValues`); where it gives none, they are computed from the deployed and the new
//! processed templates ([`diff`]). A function whose code changed says so (its zip's SHA-256 or its
//! image digest against what Lambda runs). Secrets never reach the data ([`secrets`]). Pure.

pub mod diff;
pub mod secrets;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use secrets::{Secrets, MASK};

/// One resource a change set adds, modifies or removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove` (also `Import`, `Dynamic`), as CloudFormation says.
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// `True`, `False` or `Conditional` for a modification.
    pub replacement: Option<String>,
    #[serde(default)]
    pub physical_id: Option<String>,
    /// What changes in it, one entry per property path.
    #[serde(default)]
    pub properties: Vec<PropertyChange>,
    /// A function whose code (zip or image) is not the one Lambda runs.
    #[serde(default)]
    pub code: Option<CodeChange>,
    /// A nested stack's change set (IncludeNestedStacks), read for its changes.
    #[serde(default)]
    pub change_set_id: Option<String>,
    /// The nested stack's own changes, under the resource that is the nested stack.
    #[serde(default)]
    pub nested: Vec<ResourceChange>,
}

/// One property that changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyChange {
    /// `/Properties/Environment/Variables/STAGE`; an attribute without a path: `/Metadata`.
    pub path: String,
    /// `Add`, `Remove` or `Modify`.
    pub change: String,
    /// The values, as CloudFormation shows them (JSON for objects and lists), secrets `****`;
    /// none when the property is added (before) or removed (after), or when nobody knows it.
    pub before: Option<String>,
    pub after: Option<String>,
    /// `Never`, `Conditionally` or `Always`: whether this change replaces the resource.
    pub recreation: String,
    /// Why it changes when the template text of the property did not: `parameter Stage`.
    pub cause: Option<String>,
    pub source: ValueSource,
}

/// Where a property change was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueSource {
    /// DescribeChangeSet's Details.
    Cloudformation,
    /// The deployed and the new processed templates, compared by samrs.
    Template,
}

/// A function's code: what Lambda runs, and what this deploy gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeChange {
    pub kind: CodeKind,
    /// Zip: Lambda's `CodeSha256` (base64 SHA-256 of the zip); image: the digest it runs.
    pub deployed: Option<String>,
    pub new: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    Zip,
    Image,
}

/// The code a deployed function runs, as Lambda's GetFunction says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeployedCode {
    Zip { sha256: String },
    Image { digest: Option<String> },
}

/// The code this deploy gives a function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NewCode {
    /// The base64 SHA-256 of the zip uploaded (Lambda's `CodeSha256` of it).
    Zip(String),
    /// The image digest (`sha256:...`) it is pinned to.
    Image(String),
}

/// What a change set's changes are completed with.
#[derive(Debug)]
pub struct Inputs<'a> {
    /// The deployed and the new processed templates, when read: the fallback for modifications
    /// CloudFormation gave no values for.
    pub deployed_template: Option<&'a Value>,
    pub new_template: Option<&'a Value>,
    /// The code of the functions of the main stack, by logical id.
    pub deployed_code: &'a HashMap<String, DeployedCode>,
    pub new_code: &'a HashMap<String, NewCode>,
    pub secrets: &'a Secrets,
}

/// The changes as they are shown: property values computed where CloudFormation gave none, code
/// changes named, every secret masked (nested stacks' changes too).
pub fn complete(mut changes: Vec<ResourceChange>, inputs: &Inputs<'_>) -> Vec<ResourceChange> {
    for change in &mut changes {
        if change.action == "Modify" && !has_values(&change.properties) {
            if let Some(computed) = computed_properties(change, inputs) {
                change.properties = computed;
            }
        }
        change.code = code_change(change, inputs);
    }
    mask(changes, inputs.secrets)
}

/// Whether a template declares nested stacks (their change sets are asked for and shown).
pub fn has_nested_stacks(template: &Value) -> bool {
    template
        .get("Resources")
        .and_then(Value::as_object)
        .is_some_and(|resources| {
            resources.values().any(|r| {
                matches!(
                    r.get("Type").and_then(Value::as_str),
                    Some("AWS::CloudFormation::Stack" | "AWS::Serverless::Application")
                )
            })
        })
}

/// The code this deploy gives the functions of a packaged template: the zips uploaded (their
/// SHA-256, by logical id) and the images pinned by digest.
pub fn new_code(template: &Value, zips: &HashMap<String, String>) -> HashMap<String, NewCode> {
    let mut code: HashMap<String, NewCode> = zips
        .iter()
        .map(|(id, sha256)| (id.clone(), NewCode::Zip(sha256.clone())))
        .collect();
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return code;
    };
    for (id, resource) in resources {
        let pointer = match resource.get("Type").and_then(Value::as_str) {
            Some("AWS::Serverless::Function") => "/Properties/ImageUri",
            Some("AWS::Lambda::Function") => "/Properties/Code/ImageUri",
            _ => continue,
        };
        let digest = resource
            .pointer(pointer)
            .and_then(Value::as_str)
            .and_then(|uri| uri.split_once('@'))
            .map(|(_, digest)| digest);
        if let Some(digest) = digest {
            code.insert(id.clone(), NewCode::Image(digest.to_string()));
        }
    }
    code
}

/// Whether a modification lacks CloudFormation's property values, so the templates are read to
/// compute them.
pub fn needs_templates(changes: &[ResourceChange]) -> bool {
    changes
        .iter()
        .any(|c| c.action == "Modify" && !has_values(&c.properties))
}

/// Whether CloudFormation gave the values of a modification's properties.
fn has_values(properties: &[PropertyChange]) -> bool {
    properties
        .iter()
        .any(|p| p.before.is_some() || p.after.is_some())
}

fn computed_properties(
    change: &ResourceChange,
    inputs: &Inputs<'_>,
) -> Option<Vec<PropertyChange>> {
    let resource =
        |template: Option<&Value>| template?.get("Resources")?.get(&change.logical_id).cloned();
    let before = resource(inputs.deployed_template)?;
    let after = resource(inputs.new_template)?;
    let computed = diff::resource(&change.resource_type, &before, &after);
    (!computed.is_empty()).then_some(computed)
}

fn code_change(change: &ResourceChange, inputs: &Inputs<'_>) -> Option<CodeChange> {
    if change.action != "Modify" {
        return None;
    }
    let new = inputs.new_code.get(&change.logical_id)?;
    let deployed = inputs.deployed_code.get(&change.logical_id);
    let (kind, deployed, new) = match (new, deployed) {
        (NewCode::Zip(new), Some(DeployedCode::Zip { sha256 })) => {
            (CodeKind::Zip, Some(sha256.clone()), new)
        }
        (NewCode::Image(new), Some(DeployedCode::Image { digest })) => {
            (CodeKind::Image, digest.clone(), new)
        }
        // The package type changes: the properties say so.
        (_, Some(_)) => return None,
        (NewCode::Zip(new), None) => (CodeKind::Zip, None, new),
        (NewCode::Image(new), None) => (CodeKind::Image, None, new),
    };
    (deployed.as_ref() != Some(new)).then(|| CodeChange {
        kind,
        deployed,
        new: new.clone(),
    })
}

fn mask(changes: Vec<ResourceChange>, secrets: &Secrets) -> Vec<ResourceChange> {
    changes
        .into_iter()
        .map(|mut change| {
            for property in &mut change.properties {
                for value in [&mut property.before, &mut property.after] {
                    if let Some(text) = value.as_mut() {
                        *text = secrets.mask(&change.logical_id, &property.path, text);
                    }
                }
            }
            change.nested = mask(std::mem::take(&mut change.nested), secrets);
            change
        })
        .collect()
}

/// The changes of a change set and of its nested stacks' change sets, depth first, each with the
/// logical ids of the nested stacks it is under (`Kid/Topic`).
pub fn flatten(changes: &[ResourceChange]) -> Vec<(String, &ResourceChange)> {
    fn walk<'c>(
        changes: &'c [ResourceChange],
        prefix: &str,
        out: &mut Vec<(String, &'c ResourceChange)>,
    ) {
        for change in changes {
            let name = format!("{prefix}{}", change.logical_id);
            out.push((name.clone(), change));
            walk(&change.nested, &format!("{name}/"), out);
        }
    }
    let mut out = Vec::new();
    walk(changes, "", &mut out);
    out
}

#[cfg(test)]
mod tests;
