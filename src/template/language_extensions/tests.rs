use serde_json::{json, Value};

use super::*;

/// sam 1.170's own expansion of aws-sam-cli's Fn::ForEach compatibility templates
/// (tests/data/sam-1.170/language-extensions/generate.py).
fn foreach_cases() -> serde_json::Map<String, Value> {
    let text = include_str!("../../../tests/data/sam-1.170/language-extensions/foreach-cases.json");
    match serde_json::from_str(text) {
        Ok(Value::Object(cases)) => cases,
        _ => panic!("foreach-cases.json is an object"),
    }
}

/// sam's comparison: integers written as floats are integers.
fn normalized(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), normalized(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(normalized).collect()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && n.is_f64() => json!(f as i64),
            _ => value.clone(),
        },
        other => other.clone(),
    }
}

/// Collections with a mapping for an item: sam names the generated entries after Python's
/// repr of it (`Condition{'Ref': 'DoesNotExistValue'}`, a property `{}`), which the suite's
/// upstream (CloudFormation's own implementation) refuses; samrs refuses the template too.
const SAM_NAMES_AFTER_A_MAPPING: [&str; 3] = [
    "conditions/fnForEachCollectionHasUnresolvableValue",
    "outputs/fnForEachCollectionHasUnresolvableValue",
    "resources/fnForEachPropertiesWithInvalidCollection",
];

#[test]
fn expands_every_foreach_vector_as_sam_does() {
    let values = parameter_values(&[], "us-east-1");
    let mut failures = Vec::new();
    let cases = foreach_cases();
    assert!(cases.len() > 100);
    for (name, case) in &cases {
        let result = expand(&case["input"], &values);
        if SAM_NAMES_AFTER_A_MAPPING.contains(&name.as_str()) {
            assert!(result.is_err(), "{name}");
            continue;
        }
        match (case.get("expanded"), result) {
            (Some(expected), Ok(got)) if normalized(expected) == normalized(&got.expanded) => {}
            (None, Err(_)) => {}
            (Some(expected), Ok(got)) => failures.push(format!(
                "{name}: expected\n{expected:#}\ngot\n{:#}",
                got.expanded
            )),
            (Some(_), Err(e)) => {
                failures.push(format!("{name}: sam expands it, samrs refuses: {e}"))
            }
            (None, Ok(got)) => failures.push(format!(
                "{name}: sam refuses it ({}), samrs expands it to\n{:#}",
                case["error"], got.expanded
            )),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

/// sam 1.170's packaged templates (expansion, a packaged copy, and the template it sends).
fn packaging_cases() -> serde_json::Map<String, Value> {
    let text =
        include_str!("../../../tests/data/sam-1.170/language-extensions/packaging-cases.json");
    match serde_json::from_str(text) {
        Ok(Value::Object(cases)) => cases,
        _ => panic!("packaging-cases.json is an object"),
    }
}

/// What samrs sends where sam's template would not deploy (see `merge_packaged`).
fn samrs_corrections(name: &str, case: &Value) -> Value {
    let mut expected = case["merged"].clone();
    match name {
        // Inline code in a loop has nothing to package: it stays as written (sam points it at
        // an empty mapping).
        "inline-zipfile" => {
            expected = case["input"].clone();
        }
        "mixed" => {
            // A shared image in a loop where another function's image is per-iteration: sam
            // leaves the local tag; samrs writes the pushed image.
            expected["Resources"]["Fn::ForEach::Images"][2]["${Name}Static"]["Properties"]
                ["ImageUri"] =
                case["packaged"]["Resources"]["ResizeStatic"]["Properties"]["ImageUri"].clone();
            // Lambda's Code is an object: read back field by field (sam writes an s3:// string).
            let find = |field: &str| json!({"Fn::FindInMap": ["SAMCodeServices", {"Ref": "Service"}, field]});
            expected["Resources"]["Fn::ForEach::Services"][2]["${Service}Raw"]["Properties"]
                ["Code"] = json!({"S3Bucket": find("S3Bucket"), "S3Key": find("S3Key")});
            expected["Mappings"]["SAMCodeServices"] = json!({
                "users": {"S3Bucket": "bucket", "S3Key": "usersRaw/Code"},
                "orders": {"S3Bucket": "bucket", "S3Key": "ordersRaw/Code"},
            });
        }
        _ => {}
    }
    expected
}

#[test]
fn packaged_templates_keep_their_loops_as_sam_sends_them() {
    let values = parameter_values(&[], "us-east-1");
    let cases = packaging_cases();
    assert_eq!(cases.len(), 4);
    for (name, case) in &cases {
        let expansion = expand(&case["input"], &values).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(
            normalized(&expansion.expanded),
            normalized(&case["expanded"]),
            "{name}"
        );
        let (merged, warnings) =
            merge_packaged(&case["input"], &case["packaged"], &expansion).unwrap();
        assert_eq!(merged, samrs_corrections(name, case), "{name}:\n{merged:#}");
        assert!(uses_language_extensions(&merged), "{name}");
        if name == "mixed" {
            assert_eq!(
                warnings,
                ["Warning: Fn::ForEach 'Services' uses dynamic CodeUri with a parameter-based collection (!Ref ServiceNames). Collection values are fixed at package time. If you change the parameter value at deploy time, you must re-package first."]
            );
        }
    }
}

#[test]
fn mapping_keys_and_unresolvable_collections_are_refused_in_one_line() {
    let values = parameter_values(&[], "us-east-1");
    let template = json!({
        "Transform": "AWS::LanguageExtensions",
        "Resources": {"Fn::ForEach::Fns": ["N", ["a.b", "c"], {"${N}Fn": {
            "Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "./${N}"}}}]}
    });
    let expansion = expand(&template, &values).unwrap();
    let packaged = json!({"Resources": {}});
    let err = merge_packaged(&template, &packaged, &expansion).unwrap_err();
    assert!(err.0.contains("\"a.b\"") && !err.0.contains('\n'), "{err}");

    let template = json!({
        "Transform": "AWS::LanguageExtensions",
        "Resources": {"Fn::ForEach::Fns": ["N", {"Fn::GetAtt": ["Table", "Names"]}, {"${N}Topic": {"Type": "AWS::SNS::Topic"}}]}
    });
    let err = expand(&template, &values).unwrap_err();
    assert!(
        err.0
            .starts_with("Unable to resolve Fn::ForEach collection locally.")
            && !err.0.contains('\n'),
        "{err}"
    );
}
