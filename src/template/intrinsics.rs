//! A small, local intrinsic-function evaluator. The SAM CLI resolves `ImageUri`, `Location` and
//! similar properties with parameter defaults and placeholder pseudo parameters before deciding
//! which functions get managed ECR repositories; samrs must reach the same strings. Anything that
//! needs a deployed stack (`Fn::GetAtt`, `Fn::ImportValue`, ...) stays unresolved (`None`).

use serde_json::{Map, Value};
use std::collections::HashMap;

/// The placeholder pseudo parameters the SAM CLI resolves with locally
/// (`IntrinsicsSymbolTable.DEFAULT_PSEUDO_PARAM_VALUES`).
const PSEUDO_PARAMETERS: &[(&str, &str)] = &[
    ("AWS::AccountId", "123456789012"),
    ("AWS::Partition", "aws"),
    ("AWS::Region", "us-east-1"),
    ("AWS::StackName", "local"),
    ("AWS::StackId", "arn:aws:cloudformation:us-east-1:123456789012:stack/local/51af3dc0-da77-11e4-872e-1234567db123"),
    ("AWS::URLSuffix", "localhost"),
];

/// Guards against conditions that refer to each other in a loop.
const MAX_DEPTH: usize = 64;

/// Parameter values a template is evaluated with. `None` marks a parameter whose value is known to
/// be unresolvable (a nested stack passed it an intrinsic samrs cannot evaluate).
pub(super) type ParameterValues = HashMap<String, Option<String>>;

/// Pseudo parameters, then the template's defaults, then `overrides`, later ones winning
/// (`SamBaseProvider._get_parameter_values`).
pub(super) fn parameter_values(template: &Value, overrides: &ParameterValues) -> ParameterValues {
    let mut values: ParameterValues = PSEUDO_PARAMETERS
        .iter()
        .map(|(k, v)| (k.to_string(), Some(v.to_string())))
        .collect();
    if let Some(parameters) = template.get("Parameters").and_then(Value::as_object) {
        for (name, spec) in parameters {
            if let Some(default) = spec.get("Default").and_then(super::scalar_text) {
                values.insert(name.clone(), Some(default));
            }
        }
    }
    values.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
    values
}

/// Evaluates intrinsics in one template.
pub(super) struct Resolver<'a> {
    parameters: &'a ParameterValues,
    mappings: Option<&'a Map<String, Value>>,
    conditions: Option<&'a Map<String, Value>>,
}

impl<'a> Resolver<'a> {
    pub(super) fn new(template: &'a Value, parameters: &'a ParameterValues) -> Self {
        Resolver {
            parameters,
            mappings: template.get("Mappings").and_then(Value::as_object),
            conditions: template.get("Conditions").and_then(Value::as_object),
        }
    }

    /// The value with every intrinsic evaluated, or `None` if any part cannot be.
    pub(super) fn resolve(&self, value: &Value) -> Option<Value> {
        self.resolve_at(value, 0)
    }

    /// The value as text, when it resolves to a scalar.
    pub(super) fn resolve_text(&self, value: &Value) -> Option<String> {
        match self.resolve(value)? {
            Value::Array(_) => None,
            scalar => super::scalar_text(&scalar),
        }
    }

    fn resolve_at(&self, value: &Value, depth: usize) -> Option<Value> {
        if depth > MAX_DEPTH {
            return None;
        }
        match value {
            Value::Array(items) => items
                .iter()
                .map(|v| self.resolve_at(v, depth + 1))
                .collect::<Option<Vec<_>>>()
                .map(Value::Array),
            Value::Object(map) => match intrinsic(map) {
                Some((name, args)) => self.call(name, args, depth + 1),
                None => map
                    .iter()
                    .map(|(k, v)| Some((k.clone(), self.resolve_at(v, depth + 1)?)))
                    .collect::<Option<Map<_, _>>>()
                    .map(Value::Object),
            },
            scalar => Some(scalar.clone()),
        }
    }

    fn text_at(&self, value: &Value, depth: usize) -> Option<String> {
        match self.resolve_at(value, depth)? {
            Value::Array(_) | Value::Object(_) | Value::Null => None,
            scalar => super::scalar_text(&scalar),
        }
    }

    fn call(&self, name: &str, args: &Value, depth: usize) -> Option<Value> {
        match name {
            "Ref" => self.reference(args.as_str()?).map(Value::String),
            "Fn::Sub" => self.sub(args, depth).map(Value::String),
            "Fn::Join" => self.join(args, depth).map(Value::String),
            "Fn::Select" => self.select(args, depth),
            "Fn::Split" => self.split(args, depth),
            "Fn::FindInMap" => self.find_in_map(args, depth),
            "Fn::If" => self.if_(args, depth),
            _ => None,
        }
    }

    fn reference(&self, name: &str) -> Option<String> {
        self.parameters.get(name).cloned().flatten()
    }

    fn sub(&self, args: &Value, depth: usize) -> Option<String> {
        let (text, variables) = match args {
            Value::String(text) => (text.as_str(), None),
            Value::Array(items) => match items.as_slice() {
                [Value::String(text), Value::Object(vars)] => (text.as_str(), Some(vars)),
                _ => return None,
            },
            _ => return None,
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}')?;
            let variable = &after[..end];
            if let Some(literal) = variable.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else {
                let given = variables.and_then(|vars| vars.get(variable));
                let replacement = match given {
                    Some(value) => self.text_at(value, depth + 1)?,
                    None if variable.contains('.') => return None,
                    None => self.reference(variable)?,
                };
                out.push_str(&replacement);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Some(out)
    }

    fn join(&self, args: &Value, depth: usize) -> Option<String> {
        let [delimiter, list] = args.as_array()?.as_slice() else {
            return None;
        };
        let delimiter = delimiter.as_str()?;
        let items = self.resolve_at(list, depth + 1)?;
        let parts = items
            .as_array()?
            .iter()
            .map(super::scalar_text)
            .collect::<Option<Vec<_>>>()?;
        Some(parts.join(delimiter))
    }

    fn select(&self, args: &Value, depth: usize) -> Option<Value> {
        let [index, list] = args.as_array()?.as_slice() else {
            return None;
        };
        let index: usize = self.text_at(index, depth + 1)?.parse().ok()?;
        let items = self.resolve_at(list, depth + 1)?;
        items.as_array()?.get(index).cloned()
    }

    fn split(&self, args: &Value, depth: usize) -> Option<Value> {
        let [delimiter, text] = args.as_array()?.as_slice() else {
            return None;
        };
        let delimiter = delimiter.as_str()?;
        let text = self.text_at(text, depth + 1)?;
        Some(Value::from(text.split(delimiter).collect::<Vec<_>>()))
    }

    fn find_in_map(&self, args: &Value, depth: usize) -> Option<Value> {
        let [map, top, second] = args.as_array()?.as_slice() else {
            return None;
        };
        let map = self.mappings?.get(&self.text_at(map, depth + 1)?)?;
        let top = map.get(self.text_at(top, depth + 1)?)?;
        let found = top.get(self.text_at(second, depth + 1)?)?;
        self.resolve_at(found, depth + 1)
    }

    fn if_(&self, args: &Value, depth: usize) -> Option<Value> {
        let [condition, when_true, when_false] = args.as_array()?.as_slice() else {
            return None;
        };
        let chosen = if self.condition(condition.as_str()?, depth + 1)? {
            when_true
        } else {
            when_false
        };
        self.resolve_at(chosen, depth + 1)
    }

    /// Evaluates a named condition from the template's `Conditions` section.
    fn condition(&self, name: &str, depth: usize) -> Option<bool> {
        let definition = self.conditions?.get(name)?;
        self.truth(definition, depth + 1)
    }

    fn truth(&self, value: &Value, depth: usize) -> Option<bool> {
        if depth > MAX_DEPTH {
            return None;
        }
        let (name, args) = intrinsic(value.as_object()?)?;
        match name {
            "Condition" => self.condition(args.as_str()?, depth + 1),
            "Fn::Equals" => {
                let [a, b] = args.as_array()?.as_slice() else {
                    return None;
                };
                Some(self.text_at(a, depth + 1)? == self.text_at(b, depth + 1)?)
            }
            "Fn::Not" => {
                let [inner] = args.as_array()?.as_slice() else {
                    return None;
                };
                self.truth(inner, depth + 1).map(|b| !b)
            }
            "Fn::And" => self.all_truths(args, depth).map(|t| t.iter().all(|b| *b)),
            "Fn::Or" => self.all_truths(args, depth).map(|t| t.iter().any(|b| *b)),
            _ => None,
        }
    }

    fn all_truths(&self, args: &Value, depth: usize) -> Option<Vec<bool>> {
        args.as_array()?
            .iter()
            .map(|c| self.truth(c, depth + 1))
            .collect()
    }
}

/// `Some((name, argument))` when the map is an intrinsic call: one key, `Ref`, `Condition` or `Fn::*`
/// (samtranslator's `is_intrinsic`).
pub(super) fn intrinsic(map: &Map<String, Value>) -> Option<(&str, &Value)> {
    if map.len() != 1 {
        return None;
    }
    let (name, args) = map.iter().next()?;
    (name == "Ref" || name == "Condition" || name.starts_with("Fn::"))
        .then_some((name.as_str(), args))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolve(template: &Value, value: Value) -> Option<Value> {
        let parameters = parameter_values(template, &ParameterValues::new());
        Resolver::new(template, &parameters).resolve(&value)
    }

    #[test]
    fn sub_with_pseudo_parameters_and_defaults() {
        // The codepipeline-lambda-docker-images stageA ImageUri shape.
        let template = json!({"Parameters": {
            "pPrefix": {"Type": "String", "Default": "demo"},
            "pEcrImageTag": {"Type": "String", "Default": "latest"}
        }});
        let uri = json!({"Fn::Sub": "${AWS::AccountId}.dkr.ecr.${AWS::Region}.amazonaws.com/${pPrefix}-stage-a-routing:${pEcrImageTag}"});
        assert_eq!(
            resolve(&template, uri),
            Some(json!(
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/demo-stage-a-routing:latest"
            ))
        );
    }

    #[test]
    fn sub_list_form_literal_and_unresolvable() {
        let template = json!({});
        let sub = json!({"Fn::Sub": ["${Name}-${!Keep}-${AWS::Partition}", {"Name": {"Ref": "AWS::Region"}}]});
        assert_eq!(
            resolve(&template, sub),
            Some(json!("us-east-1-${Keep}-aws"))
        );
        assert_eq!(
            resolve(&template, json!({"Fn::Sub": "${Bucket.Arn}"})),
            None
        );
        assert_eq!(
            resolve(&template, json!({"Fn::Sub": "${NoSuchParam}"})),
            None
        );
    }

    #[test]
    fn ref_without_default_is_unresolved() {
        let template = json!({"Parameters": {"EcrUri": {"Type": "String"}}});
        assert_eq!(resolve(&template, json!({"Ref": "EcrUri"})), None);
    }

    #[test]
    fn overrides_win_and_can_mark_unresolvable() {
        let template = json!({"Parameters": {"Tag": {"Type": "String", "Default": "v1"}}});
        let mut overrides = ParameterValues::new();
        overrides.insert("Tag".into(), None);
        let parameters = parameter_values(&template, &overrides);
        assert_eq!(
            Resolver::new(&template, &parameters).resolve(&json!({"Ref": "Tag"})),
            None
        );
        overrides.insert("Tag".into(), Some("v2".into()));
        let parameters = parameter_values(&template, &overrides);
        assert_eq!(
            Resolver::new(&template, &parameters).resolve(&json!({"Ref": "Tag"})),
            Some(json!("v2"))
        );
    }

    #[test]
    fn join_select_split_find_in_map() {
        let template = json!({"Mappings": {"Env": {"prod": {"Repo": "app-prod"}}},
                              "Parameters": {"Stage": {"Type": "String", "Default": "prod"}}});
        let join = json!({"Fn::Join": ["", [{"Ref": "AWS::AccountId"}, ".dkr.ecr.", {"Ref": "AWS::Region"}, ".", {"Ref": "AWS::URLSuffix"}, "/x"]]});
        assert_eq!(
            resolve(&template, join),
            Some(json!("123456789012.dkr.ecr.us-east-1.localhost/x"))
        );
        let select = json!({"Fn::Select": [1, {"Fn::Split": [",", "a,b,c"]}]});
        assert_eq!(resolve(&template, select), Some(json!("b")));
        let find = json!({"Fn::FindInMap": ["Env", {"Ref": "Stage"}, "Repo"]});
        assert_eq!(resolve(&template, find), Some(json!("app-prod")));
        assert_eq!(
            resolve(&template, json!({"Fn::GetAtt": ["Repo", "Arn"]})),
            None
        );
    }

    #[test]
    fn if_evaluates_conditions() {
        let template = json!({
            "Parameters": {"Stage": {"Type": "String", "Default": "prod"}},
            "Conditions": {
                "IsProd": {"Fn::Equals": [{"Ref": "Stage"}, "prod"]},
                "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
                "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "NotProd"}]},
                "Both": {"Fn::And": [{"Condition": "IsProd"}, {"Condition": "NotProd"}]},
                "Loop": {"Condition": "Loop"}
            }
        });
        assert_eq!(
            resolve(&template, json!({"Fn::If": ["IsProd", "a", "b"]})),
            Some(json!("a"))
        );
        assert_eq!(
            resolve(&template, json!({"Fn::If": ["NotProd", "a", "b"]})),
            Some(json!("b"))
        );
        assert_eq!(
            resolve(&template, json!({"Fn::If": ["Either", "a", "b"]})),
            Some(json!("a"))
        );
        assert_eq!(
            resolve(&template, json!({"Fn::If": ["Both", "a", "b"]})),
            Some(json!("b"))
        );
        assert_eq!(
            resolve(&template, json!({"Fn::If": ["Loop", "a", "b"]})),
            None
        );
    }

    #[test]
    fn intrinsic_detection_matches_samtranslator() {
        assert!(intrinsic(json!({"Ref": "X"}).as_object().unwrap()).is_some());
        assert!(intrinsic(json!({"Fn::Foo": 1}).as_object().unwrap()).is_some());
        assert!(intrinsic(json!({"Ref": "X", "Other": 1}).as_object().unwrap()).is_none());
        assert!(intrinsic(json!({"Variables": {}}).as_object().unwrap()).is_none());
    }
}
