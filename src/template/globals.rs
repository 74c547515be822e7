//! Applies `Globals.Function` to `AWS::Serverless::Function` properties the way the SAM
//! translator's Globals plugin does, because a function's `Architectures` (and other settings)
//! may come only from there. Properties SAM refuses in Globals (`PackageType`, `ImageUri`, ...)
//! are an error here too, so samrs never counts a function SAM would reject.

use serde_json::{Map, Value};

use super::intrinsics::intrinsic;
use super::TemplateError;

/// `Globals.Function` properties SAM accepts (samtranslator `Globals.supported_properties`).
#[rustfmt::skip]
const SUPPORTED_FUNCTION_GLOBALS: &[&str] = &[
    "Handler", "Runtime", "CodeUri", "DeadLetterQueue", "Description", "MemorySize", "Timeout",
    "VpcConfig", "Environment", "Tags", "PropagateTags", "Tracing", "KmsKeyArn", "AutoPublishAlias",
    "AutoPublishAliasAllProperties", "Layers", "DeploymentPreference", "RolePath",
    "PermissionsBoundary", "ReservedConcurrentExecutions", "ProvisionedConcurrencyConfig",
    "AssumeRolePolicyDocument", "EventInvokeConfig", "FileSystemConfigs", "CodeSigningConfigArn",
    "Architectures", "SnapStart", "EphemeralStorage", "FunctionUrlConfig",
    "RuntimeManagementConfig", "LoggingConfig", "RecursiveLoop", "SourceKMSKeyArn", "TenancyConfig",
    "DurableConfig", "CapacityProviderConfig", "FunctionScalingConfig", "PublishToLatestPublished",
    "VersionDeletionPolicy",
];

/// The validated `Globals.Function` section of a template (empty when there is none).
pub(super) fn function_globals(
    template: &Value,
    origin: &str,
) -> Result<Map<String, Value>, TemplateError> {
    let invalid = |message: String| TemplateError::Invalid {
        origin: origin.to_string(),
        message,
    };
    let Some(globals) = template.get("Globals") else {
        return Ok(Map::new());
    };
    let Some(globals) = globals.as_object() else {
        return Err(invalid(
            "Globals must be a mapping of resource kinds (Function, Api, ...)".into(),
        ));
    };
    let Some(function) = globals.get("Function") else {
        return Ok(Map::new());
    };
    let Some(function) = function.as_object() else {
        return Err(invalid(
            "Globals.Function must be a mapping of function properties".into(),
        ));
    };
    if let Some(key) = function
        .keys()
        .find(|k| !SUPPORTED_FUNCTION_GLOBALS.contains(&k.as_str()))
    {
        return Err(invalid(format!(
            "'{key}' is not a supported property of Globals.Function; SAM rejects it, set it on each function instead"
        )));
    }
    Ok(function.clone())
}

/// A function's properties with the globals merged in, honouring its `IgnoreGlobals` attribute.
pub(super) fn merge_into(globals: &Map<String, Value>, resource: &Value) -> Value {
    let local = resource
        .get("Properties")
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    if globals.is_empty() {
        return local;
    }
    let mut globals = globals.clone();
    match resource.get("IgnoreGlobals") {
        Some(Value::String(all)) if all == "*" => return local,
        Some(Value::Array(keys)) => {
            for key in keys.iter().filter_map(Value::as_str) {
                globals.remove(key);
            }
        }
        _ => {}
    }
    merge(Value::Object(globals), local)
}

/// SAM's merge rules: maps merge key by key, lists concatenate (global first), anything else
/// (including intrinsics and mismatched kinds) takes the local value.
fn merge(global: Value, local: Value) -> Value {
    match (global, local) {
        (Value::Object(global), Value::Object(local)) if is_plain(&global) && is_plain(&local) => {
            let mut merged = global;
            for (key, value) in local {
                let combined = match merged.remove(&key) {
                    Some(existing) => merge(existing, value),
                    None => value,
                };
                merged.insert(key, combined);
            }
            Value::Object(merged)
        }
        (Value::Array(mut global), Value::Array(local)) => {
            global.extend(local);
            Value::Array(global)
        }
        (_, local) => local,
    }
}

fn is_plain(map: &Map<String, Value>) -> bool {
    intrinsic(map).is_none()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn maps_merge_lists_concatenate_scalars_prefer_local() {
        let globals = json!({"Timeout": 3, "Architectures": ["x86_64"],
                             "Environment": {"Variables": {"A": "1", "B": "2"}}});
        let resource = json!({"Properties": {"Timeout": 10, "Architectures": ["arm64"],
                              "Environment": {"Variables": {"B": "local"}}}});
        let merged = merge_into(globals.as_object().unwrap(), &resource);
        assert_eq!(
            merged,
            json!({"Timeout": 10, "Architectures": ["x86_64", "arm64"],
                   "Environment": {"Variables": {"A": "1", "B": "local"}}})
        );
    }

    #[test]
    fn intrinsics_are_primitives() {
        let globals = json!({"Architectures": [{"Ref": "Arch"}], "Layers": {"Ref": "L"}});
        let resource = json!({"Properties": {"Layers": {"Fn::If": ["C", ["a"], ["b"]]}}});
        let merged = merge_into(globals.as_object().unwrap(), &resource);
        assert_eq!(
            merged,
            json!({"Architectures": [{"Ref": "Arch"}], "Layers": {"Fn::If": ["C", ["a"], ["b"]]}})
        );
    }

    #[test]
    fn ignore_globals() {
        let globals = json!({"Timeout": 3, "Architectures": ["arm64"]});
        let all = json!({"IgnoreGlobals": "*", "Properties": {"MemorySize": 128}});
        assert_eq!(
            merge_into(globals.as_object().unwrap(), &all),
            json!({"MemorySize": 128})
        );
        let some = json!({"IgnoreGlobals": ["Architectures"]});
        assert_eq!(
            merge_into(globals.as_object().unwrap(), &some),
            json!({"Timeout": 3})
        );
    }

    #[test]
    fn package_type_in_globals_is_rejected() {
        let template = json!({"Globals": {"Function": {"PackageType": "Image"}}, "Resources": {}});
        let err = function_globals(&template, "template.yaml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "template.yaml: 'PackageType' is not a supported property of Globals.Function; SAM rejects it, set it on each function instead"
        );
    }
}
