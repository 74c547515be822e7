//! Which functions and layers of a template are code signed (what guided asks signing profiles
//! for).

use indexmap::IndexMap;
use serde_json::Value;

/// The functions with a `CodeSigningConfigArn` (their own or from `Globals.Function`) and the
/// template's layers they use, each with the functions using it: what guided asks profiles for
/// (sam's `signer_config_per_function`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CodeSigned {
    pub functions: Vec<String>,
    pub layers: IndexMap<String, Vec<String>>,
}

pub fn code_signed_resources(template: &Value) -> CodeSigned {
    let globals = template.pointer("/Globals/Function");
    let global = |key: &str| globals.and_then(|g| g.get(key));
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return CodeSigned::default();
    };
    let is_layer = |id: &str| {
        resources
            .get(id)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            .is_some_and(|t| {
                t == "AWS::Serverless::LayerVersion" || t == "AWS::Lambda::LayerVersion"
            })
    };
    let mut found = CodeSigned::default();
    for (id, resource) in resources {
        let serverless = match resource.get("Type").and_then(Value::as_str) {
            Some("AWS::Serverless::Function") => true,
            Some("AWS::Lambda::Function") => false,
            _ => continue,
        };
        let own = |key: &str| resource.pointer(&format!("/Properties/{key}"));
        let inherited = |key: &str| if serverless { global(key) } else { None };
        if own("CodeSigningConfigArn")
            .or(inherited("CodeSigningConfigArn"))
            .is_none()
        {
            continue;
        }
        found.functions.push(id.clone());
        let layers = inherited("Layers")
            .into_iter()
            .chain(own("Layers"))
            .filter_map(Value::as_array)
            .flatten();
        for layer in layers {
            let Some(layer) = layer
                .get("Ref")
                .and_then(Value::as_str)
                .filter(|l| is_layer(l))
            else {
                continue;
            };
            let users = found.layers.entry(layer.to_string()).or_default();
            if !users.contains(id) {
                users.push(id.clone());
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_with_a_signing_config_and_their_template_layers() {
        let template = serde_json::json!({
            "Globals": {"Function": {"Layers": [{"Ref": "Shared"}]}},
            "Resources": {
                "Signed": {"Type": "AWS::Serverless::Function", "Properties": {
                    "CodeSigningConfigArn": "arn:csc", "Layers": [{"Ref": "Own"}, "arn:aws:lambda:us-east-1:1:layer:x:1"]}},
                "Unsigned": {"Type": "AWS::Serverless::Function", "Properties": {"Layers": [{"Ref": "Own"}]}},
                "Plain": {"Type": "AWS::Lambda::Function", "Properties": {"CodeSigningConfigArn": {"Ref": "Csc"}}},
                "Shared": {"Type": "AWS::Serverless::LayerVersion"},
                "Own": {"Type": "AWS::Lambda::LayerVersion"}
            }
        });
        let found = code_signed_resources(&template);
        assert_eq!(found.functions, ["Signed", "Plain"]);
        assert_eq!(
            found.layers.into_iter().collect::<Vec<_>>(),
            [
                ("Shared".to_string(), vec!["Signed".to_string()]),
                ("Own".to_string(), vec!["Signed".to_string()])
            ]
        );
        let global = serde_json::json!({
            "Globals": {"Function": {"CodeSigningConfigArn": "arn:csc"}},
            "Resources": {"A": {"Type": "AWS::Serverless::Function"}, "B": {"Type": "AWS::Lambda::Function"}}
        });
        assert_eq!(code_signed_resources(&global).functions, ["A"]);
    }
}
