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
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), normalized(v))).collect()),
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
            (Some(_), Err(e)) => failures.push(format!("{name}: sam expands it, samrs refuses: {e}")),
            (None, Ok(got)) => failures.push(format!(
                "{name}: sam refuses it ({}), samrs expands it to\n{:#}",
                case["error"], got.expanded
            )),
        }
    }
    assert!(failures.is_empty(), "{} of {} differ:\n{}", failures.len(), cases.len(), failures.join("\n\n"));
}
