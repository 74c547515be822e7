//! Which functions a guided deploy must warn about: API events or function URLs without
//! authorization, as the SAM CLI's `auth_per_resource` finds them (samcli/commands/deploy/auth_utils.py).

use serde_json::Value;

/// `(resource name, has authorization)` for every function with an `Api`/`HttpApi` event or a
/// `FunctionUrlConfig`, in template order. Function URLs are named `"{fn} Function Url"`.
pub fn auth_per_resource(template: &Value) -> Vec<(String, bool)> {
    let empty = serde_json::Map::new();
    let resources = template
        .get("Resources")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let global_api_auth = |kind: &str| {
        template
            .pointer(&format!("/Globals/{kind}/Auth"))
            .is_some_and(auth_is_set)
    };
    let mut found = Vec::new();
    for (name, resource) in resources {
        if resource.get("Type").and_then(Value::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let properties = resource.get("Properties");
        let events = properties
            .and_then(|p| p.get("Events"))
            .and_then(Value::as_object);
        let api_events: Vec<&Value> = events
            .into_iter()
            .flat_map(|e| e.values())
            .filter(|e| {
                matches!(
                    e.get("Type").and_then(Value::as_str),
                    Some("Api" | "HttpApi")
                )
            })
            .collect();
        if !api_events.is_empty() {
            let all_authorized = api_events.iter().all(|event| {
                let kind = if event.get("Type").and_then(Value::as_str) == Some("HttpApi") {
                    "HttpApi"
                } else {
                    "Api"
                };
                let event_auth = event.pointer("/Properties/Auth");
                match event_auth
                    .and_then(|a| a.get("Authorizer"))
                    .and_then(Value::as_str)
                {
                    Some("NONE") => false,
                    Some(_) => true,
                    None => {
                        event_auth.is_some_and(auth_is_set)
                            || api_has_default_auth(resources, event, kind)
                            || global_api_auth(kind)
                    }
                }
            });
            found.push((name.clone(), all_authorized));
        }
        if let Some(url) = properties.and_then(|p| p.get("FunctionUrlConfig")) {
            let auth_type = url.get("AuthType").and_then(Value::as_str);
            found.push((format!("{name} Function Url"), auth_type != Some("NONE")));
        }
    }
    found
}

/// An `Auth` block that sets an authorizer, API keys or a resource policy.
fn auth_is_set(auth: &Value) -> bool {
    [
        "DefaultAuthorizer",
        "ApiKeyRequired",
        "ResourcePolicy",
        "Authorizer",
        "InvokeRole",
    ]
    .iter()
    .any(|key| match auth.get(*key) {
        Some(Value::String(s)) => s != "NONE",
        Some(Value::Bool(b)) => *b,
        Some(Value::Null) | None => false,
        Some(_) => true,
    })
}

/// The event's explicit API (`RestApiId`/`ApiId: !Ref X`) has a default authorizer.
fn api_has_default_auth(
    resources: &serde_json::Map<String, Value>,
    event: &Value,
    kind: &str,
) -> bool {
    let key = if kind == "HttpApi" {
        "ApiId"
    } else {
        "RestApiId"
    };
    event
        .pointer(&format!("/Properties/{key}/Ref"))
        .and_then(Value::as_str)
        .and_then(|api| resources.get(api))
        .and_then(|api| api.pointer("/Properties/Auth"))
        .is_some_and(auth_is_set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn events_and_urls_without_auth_are_reported() {
        let template = json!({
            "Resources": {
                "Open": {"Type": "AWS::Serverless::Function", "Properties": {
                    "Events": {"Get": {"Type": "Api", "Properties": {"Path": "/", "Method": "get"}}},
                    "FunctionUrlConfig": {"AuthType": "NONE"}}},
                "Iam": {"Type": "AWS::Serverless::Function", "Properties": {
                    "FunctionUrlConfig": {"AuthType": "AWS_IAM"}}},
                "ViaApi": {"Type": "AWS::Serverless::Function", "Properties": {
                    "Events": {"Get": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "MyApi"}}}}}},
                "Explicit": {"Type": "AWS::Serverless::Function", "Properties": {
                    "Events": {"Get": {"Type": "HttpApi", "Properties": {"Auth": {"Authorizer": "Jwt"}}}}}},
                "OptedOut": {"Type": "AWS::Serverless::Function", "Properties": {
                    "Events": {"Get": {"Type": "Api", "Properties": {"RestApiId": {"Ref": "MyApi"}, "Auth": {"Authorizer": "NONE"}}}}}},
                "Queue": {"Type": "AWS::Serverless::Function", "Properties": {
                    "Events": {"Q": {"Type": "SQS"}}}},
                "MyApi": {"Type": "AWS::Serverless::Api", "Properties": {"Auth": {"DefaultAuthorizer": "Cognito"}}}
            }
        });
        assert_eq!(
            auth_per_resource(&template),
            [
                ("Open", false),
                ("Open Function Url", false),
                ("Iam Function Url", true),
                ("ViaApi", true),
                ("Explicit", true),
                ("OptedOut", false),
            ]
            .map(|(n, a)| (n.to_string(), a))
        );
    }

    #[test]
    fn global_default_authorizer_covers_implicit_apis() {
        let template = json!({
            "Globals": {"Api": {"Auth": {"DefaultAuthorizer": "AWS_IAM"}}},
            "Resources": {"Fn": {"Type": "AWS::Serverless::Function", "Properties": {
                "Events": {"Get": {"Type": "Api", "Properties": {}}}}}}
        });
        assert_eq!(auth_per_resource(&template), [("Fn".to_string(), true)]);
    }
}
