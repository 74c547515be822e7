//! What SAM reads from a resource's `Metadata` before looking at functions: CDK asset entries
//! rewritten into SAM's own `DockerContext`/`Dockerfile`, and the id a resource is known by in
//! full paths (`SamResourceId`, else the CDK construct id, else the logical id). Mirrors
//! `samcli/lib/samlib/resource_metadata_normalizer.py`.

use serde_json::{Map, Value};

use super::functions::CLOUDFORMATION_STACK;

/// What SAM's `ResourceMetadataNormalizer` does to a CDK image function: the asset path becomes
/// `DockerContext`, the asset Dockerfile becomes `Dockerfile`, and `Code.ImageUri` is replaced by
/// the lowercased logical id (a local image name, so never an ECR URL).
pub(super) fn normalize_cdk_asset(
    logical_id: &str,
    mut properties: Value,
    metadata: Option<&Value>,
) -> (Value, Map<String, Value>) {
    let mut metadata = metadata
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let already = metadata.get("SamNormalized").is_some_and(truthy);
    let is_image_asset =
        metadata.get("aws:asset:property").and_then(Value::as_str) == Some("Code.ImageUri");
    if already || !is_image_asset {
        return (properties, metadata);
    }
    let asset_path = metadata
        .get("aws:asset:path")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let context = if asset_path.is_empty() {
        "."
    } else {
        asset_path
    }
    .to_string();
    if let Some(dockerfile) = metadata.get("aws:asset:dockerfile-path").cloned() {
        metadata.insert("Dockerfile".into(), dockerfile);
    }
    metadata.insert("DockerContext".into(), Value::String(context));
    metadata.insert("SamNormalized".into(), Value::Bool(true));
    if let Some(props) = properties.as_object_mut() {
        let mut code = Map::new();
        code.insert("ImageUri".into(), Value::String(logical_id.to_lowercase()));
        props.insert("Code".into(), Value::Object(code));
    }
    (properties, metadata)
}

/// The id SAM uses in full paths (`ResourceMetadataNormalizer.get_resource_id`): `SamResourceId`,
/// else the construct id from `aws:cdk:path`, else the logical id.
pub(super) fn resource_id(logical_id: &str, kind: &str, metadata: &Map<String, Value>) -> String {
    if let Some(id) = metadata
        .get("SamResourceId")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        return id.to_string();
    }
    let Some(cdk_path) = metadata
        .get("aws:cdk:path")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    else {
        return logical_id.to_string();
    };
    let parts: Vec<&str> = cdk_path.split('/').collect();
    let [.., second_last, last] = parts.as_slice() else {
        return logical_id.to_string();
    };
    if parts.len() > 3 {
        return logical_id.to_string();
    }
    const NESTED: &str = ".NestedStack";
    let is_stack = kind == CLOUDFORMATION_STACK;
    let id = if *last == "Resource" || (is_stack && second_last.ends_with(NESTED)) {
        second_last
    } else {
        last
    };
    match id.strip_suffix(NESTED) {
        Some(stripped) if is_stack => stripped.to_string(),
        _ => id.to_string(),
    }
}

/// Python truthiness, as SAM tests metadata values.
pub(super) fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => !items.is_empty(),
        Value::Object(map) => !map.is_empty(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const LAMBDA_FUNCTION: &str = "AWS::Lambda::Function";

    #[test]
    fn cdk_resource_ids() {
        let meta = |path: &str| {
            let mut m = Map::new();
            m.insert("aws:cdk:path".into(), Value::String(path.into()));
            m
        };
        assert_eq!(
            resource_id(
                "FnF61B9209",
                LAMBDA_FUNCTION,
                &meta("Stack/ColorsRandomFunction/Resource")
            ),
            "ColorsRandomFunction"
        );
        assert_eq!(resource_id("Fn1", LAMBDA_FUNCTION, &meta("Stack/Fn")), "Fn");
        assert_eq!(
            resource_id("Fn1", LAMBDA_FUNCTION, &meta("A/B/C/Resource")),
            "Fn1"
        );
        assert_eq!(resource_id("Fn1", LAMBDA_FUNCTION, &meta("Single")), "Fn1");
        assert_eq!(
            resource_id(
                "Nested1",
                CLOUDFORMATION_STACK,
                &meta("Root/Child.NestedStack/Child.NestedStackResource")
            ),
            "Child"
        );
        let mut custom = meta("Stack/Fn/Resource");
        custom.insert("SamResourceId".into(), Value::String("Mine".into()));
        assert_eq!(resource_id("Fn1", LAMBDA_FUNCTION, &custom), "Mine");
    }

    #[test]
    fn cdk_image_asset_becomes_docker_context() {
        let metadata = json!({"aws:asset:path": "asset.abc", "aws:asset:property": "Code.ImageUri",
                              "aws:asset:dockerfile-path": "Dockerfile.custom"});
        let properties =
            json!({"PackageType": "Image", "Code": {"ImageUri": {"Fn::Join": ["", ["x"]]}}});
        let (properties, metadata) = normalize_cdk_asset("FnF61B9209", properties, Some(&metadata));
        assert_eq!(properties["Code"], json!({"ImageUri": "fnf61b9209"}));
        assert_eq!(metadata["DockerContext"], json!("asset.abc"));
        assert_eq!(metadata["Dockerfile"], json!("Dockerfile.custom"));
        // Already normalised metadata is left alone.
        let done = json!({"aws:asset:property": "Code.ImageUri", "SamNormalized": true});
        let (untouched, _) =
            normalize_cdk_asset("Fn", json!({"Code": {"ImageUri": "keep"}}), Some(&done));
        assert_eq!(untouched["Code"]["ImageUri"], json!("keep"));
    }

    #[test]
    fn python_truthiness() {
        assert!(
            !truthy(&json!(""))
                && !truthy(&json!(0))
                && !truthy(&json!(null))
                && !truthy(&json!({}))
        );
        assert!(truthy(&json!(".")) && truthy(&json!(1)) && truthy(&json!({"Ref": "X"})));
    }
}
