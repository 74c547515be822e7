//! Reads CloudFormation/SAM template text into a `serde_json::Value`, the one shape the rest of
//! samrs works with. YAML short-form intrinsics (`!Ref`, `!GetAtt a.b`, `!Sub`, ...) become their
//! long forms exactly as CloudFormation and the SAM CLI read them, and every problem is reported
//! with the line and column it was found at, because a template is something people edit by hand.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde_json::{Map, Number, Value};
use std::fmt;

use super::TemplateError;

/// Short-form tags CloudFormation accepts; each becomes `Fn::<name>` except `Ref` and `Condition`.
#[rustfmt::skip]
const KNOWN_TAGS: &[&str] = &[
    "Ref", "Condition", "GetAtt", "Sub", "If", "Join", "Select", "Split", "FindInMap",
    "ImportValue", "Base64", "Cidr", "GetAZs", "Equals", "And", "Or", "Not", "Transform",
    "Length", "ToJsonString", "ForEach", "Contains", "EachMemberEquals", "EachMemberIn",
    "RefAll", "ValueOf", "ValueOfAll",
];

/// Parses template text (YAML or JSON) into a JSON value with long-form intrinsics.
///
/// `origin` names the text in error messages (usually the file name). JSON input, recognised by a
/// leading `{`, goes through serde_json for its sharper messages. The document must be a mapping
/// with a `Resources` mapping.
pub fn parse_str(text: &str, origin: &str) -> Result<Value, TemplateError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let value = if looks_like_json(text) {
        // Like the SAM CLI, fall back to YAML for a flow mapping that is not strict JSON.
        // The same visitor as YAML, so a repeated key is refused here too (serde_json keeps the last).
        let mut json = serde_json::Deserializer::from_str(text);
        match CfnValue::deserialize_root(&mut json).and_then(|value| json.end().map(|()| value)) {
            Ok(value) => value,
            Err(err) if err.is_data() => return Err(json_error(origin, &err)),
            Err(err) => parse_yaml(text, origin).map_err(|_| json_error(origin, &err))?,
        }
    } else {
        parse_yaml(text, origin)?
    };
    check_shape(&value, origin)?;
    Ok(value)
}

fn parse_yaml(text: &str, origin: &str) -> Result<Value, TemplateError> {
    let deserializer = serde_yaml::Deserializer::from_str(text);
    CfnValue::deserialize_root(deserializer).map_err(|err| yaml_error(origin, text, &err))
}

/// Whether the text is a JSON document (first non-blank character is `{`).
pub(super) fn looks_like_json(text: &str) -> bool {
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
}

fn check_shape(value: &Value, origin: &str) -> Result<(), TemplateError> {
    if value.is_null() {
        return Err(TemplateError::Shape {
            origin: origin.to_string(),
            problem: "is empty; a template needs at least a Resources section".to_string(),
        });
    }
    let Some(document) = value.as_object() else {
        return Err(TemplateError::Shape {
            origin: origin.to_string(),
            problem: "is not a mapping of template sections".to_string(),
        });
    };
    match document.get("Resources") {
        Some(Value::Object(_)) => Ok(()),
        Some(_) => Err(TemplateError::Shape {
            origin: origin.to_string(),
            problem: "has a Resources section that is not a mapping of logical IDs to resources"
                .to_string(),
        }),
        None => Err(TemplateError::Shape {
            origin: origin.to_string(),
            problem: "has no Resources section".to_string(),
        }),
    }
}

/// Both parsers stop at 128 levels of nesting, far more than any real template has.
const RECURSION_HINT: &str = " (values are nested more than 128 levels deep)";

fn json_error(origin: &str, err: &serde_json::Error) -> TemplateError {
    let message = err.to_string();
    let message = strip_position(&message);
    TemplateError::Syntax {
        origin: origin.to_string(),
        line: err.line(),
        column: err.column(),
        message: format!(
            "{message}{} (the file starts with '{{' so it is read as JSON)",
            if message.contains("recursion limit exceeded") {
                RECURSION_HINT
            } else {
                ""
            }
        ),
    }
}

fn yaml_error(origin: &str, text: &str, err: &serde_yaml::Error) -> TemplateError {
    let (line, column) = err.location().map_or((0, 0), |at| (at.line(), at.column()));
    let message = strip_position(&err.to_string());
    let has_tab = line > 0 && text.lines().nth(line - 1).is_some_and(|l| l.contains('\t'));
    let hint = if has_tab {
        " (YAML indentation must use spaces, not tabs)"
    } else if message.contains("recursion limit exceeded") {
        RECURSION_HINT
    } else if message.contains("repetition limit exceeded") {
        " (its aliases expand to too much data: write the repeated parts out, or use fewer nested aliases)"
    } else if message.contains("did not find expected key")
        || message.contains("mapping values are not allowed")
        || message.contains("did not find expected '-'")
    {
        " (check the indentation of this line and the one above)"
    } else {
        ""
    };
    TemplateError::Syntax {
        origin: origin.to_string(),
        line,
        column,
        message: format!("{message}{hint}"),
    }
}

/// Removes the " at line N column M" parts parsers append, since the error carries them apart.
fn strip_position(message: &str) -> String {
    // A constant pattern; it cannot fail to compile.
    let position = regex::Regex::new(r" at (line \d+ column \d+|position \d+)").ok();
    match position {
        Some(re) => re.replace_all(message, "").trim_end().to_string(),
        None => message.to_string(),
    }
}

/// A JSON value built straight from YAML events, so errors keep the position of the offending node.
struct CfnValue(Value);

impl CfnValue {
    fn deserialize_root<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor).map(|v| v.0)
    }
}

impl<'de> de::Deserialize<'de> for CfnValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = CfnValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a CloudFormation template value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<CfnValue, E> {
        Ok(CfnValue(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<CfnValue, E> {
        Ok(CfnValue(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<CfnValue, E> {
        Ok(CfnValue(Value::from(v)))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<CfnValue, E> {
        Number::from_f64(v)
            .map(|n| CfnValue(Value::Number(n)))
            .ok_or_else(|| {
                E::custom(format!(
                    "the number {v} cannot be represented; quote it to keep it as text"
                ))
            })
    }

    fn visit_str<E>(self, v: &str) -> Result<CfnValue, E> {
        Ok(CfnValue(Value::String(v.to_string())))
    }

    fn visit_unit<E>(self) -> Result<CfnValue, E> {
        Ok(CfnValue(Value::Null))
    }

    fn visit_none<E>(self) -> Result<CfnValue, E> {
        Ok(CfnValue(Value::Null))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<CfnValue, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<CfnValue, A::Error> {
        let mut items = Vec::new();
        while let Some(CfnValue(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(CfnValue(Value::Array(items)))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<CfnValue, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key_seed(KeySeed { seen: &map })? {
            let CfnValue(value) = access.next_value()?;
            map.insert(key, value);
        }
        Ok(CfnValue(Value::Object(map)))
    }

    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<CfnValue, A::Error> {
        let (tag, content) = data.variant::<String>()?;
        if !KNOWN_TAGS.contains(&tag.as_str()) {
            return Err(de::Error::custom(format!(
                "unknown tag !{tag}; CloudFormation short forms are !Ref, !GetAtt, !Sub, !If, !Join and the other Fn:: names"
            )));
        }
        let CfnValue(inner) = content.newtype_variant()?;
        long_form(&tag, inner)
            .map(CfnValue)
            .map_err(de::Error::custom)
    }
}

/// Builds `{"Fn::Tag": value}` (or `{"Ref"|"Condition": value}`) as CloudFormation does for
/// `!Tag value`; refuses the forms CloudFormation would reject with a less precise message.
fn long_form(tag: &str, inner: Value) -> Result<Value, String> {
    let inner = match inner {
        // A tagged scalar is always text to CloudFormation (`!GetAZs` alone means "").
        Value::Null => Value::String(String::new()),
        Value::Bool(b) => Value::String(b.to_string()),
        Value::Number(n) => Value::String(n.to_string()),
        other => other,
    };
    let inner = match (tag, inner) {
        ("GetAtt", Value::String(s)) => match s.split_once('.') {
            Some((resource, attribute)) if !resource.is_empty() && !attribute.is_empty() => {
                Value::from(vec![resource, attribute])
            }
            _ => {
                let resource = match s.split('.').next() {
                    Some(r) if !r.is_empty() => r,
                    _ => "MyResource",
                };
                return Err(format!(
                    "!GetAtt {s} needs Resource.Attribute, for example !GetAtt {resource}.Arn"
                ));
            }
        },
        ("GetAtt", Value::Array(items)) if items.len() != 2 => {
            return Err(format!(
                "!GetAtt takes a list of two items [Resource, Attribute], not {}",
                items.len()
            ))
        }
        ("Ref" | "Condition", Value::Array(_) | Value::Object(_)) => {
            return Err(format!(
                "!{tag} takes one name, not a list or a mapping, for example !{tag} MyName"
            ))
        }
        (_, other) => other,
    };
    let key = if tag == "Ref" || tag == "Condition" {
        tag.to_string()
    } else {
        format!("Fn::{tag}")
    };
    let mut map = Map::new();
    map.insert(key, inner);
    Ok(Value::Object(map))
}

/// Reads a mapping key as a string (YAML allows numbers and booleans) and rejects repeats.
struct KeySeed<'a> {
    seen: &'a Map<String, Value>,
}

impl<'de> DeserializeSeed<'de> for KeySeed<'_> {
    type Value = String;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<String, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for KeySeed<'_> {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a mapping key that is a plain scalar")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<String, E> {
        if self.seen.contains_key(v) {
            return Err(E::custom(format!(
                "duplicate key '{v}' in this mapping; remove or rename one of them"
            )));
        }
        Ok(v.to_string())
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<String, E> {
        self.visit_str(&v.to_string())
    }

    fn visit_unit<E: de::Error>(self) -> Result<String, E> {
        Err(E::custom("a mapping key is empty or null; give it a name"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::to_yaml;
    use serde_json::json;

    fn body(text: &str) -> Value {
        let doc = format!("Resources: {{}}\nOutputs:\n  V: {text}\n");
        let value = parse_str(&doc, "template.yaml").unwrap();
        value["Outputs"]["V"].clone()
    }

    fn error(text: &str) -> String {
        parse_str(text, "template.yaml").unwrap_err().to_string()
    }

    /// Every short form, with the long form CloudFormation reads it as.
    fn short_forms() -> Vec<(&'static str, Value)> {
        vec![
            ("!Ref MyParam", json!({"Ref": "MyParam"})),
            ("!Condition IsProd", json!({"Condition": "IsProd"})),
            ("!GetAtt Fn.Arn", json!({"Fn::GetAtt": ["Fn", "Arn"]})),
            (
                "!GetAtt Db.Endpoint.Address",
                json!({"Fn::GetAtt": ["Db", "Endpoint.Address"]}),
            ),
            ("!GetAtt [Fn, Arn]", json!({"Fn::GetAtt": ["Fn", "Arn"]})),
            (
                "!Sub '${AWS::StackName}-x'",
                json!({"Fn::Sub": "${AWS::StackName}-x"}),
            ),
            (
                "!Sub ['${A}', {A: !Ref B}]",
                json!({"Fn::Sub": ["${A}", {"A": {"Ref": "B"}}]}),
            ),
            (
                "!If [IsProd, !Ref A, !Ref 'AWS::NoValue']",
                json!({"Fn::If": ["IsProd", {"Ref": "A"}, {"Ref": "AWS::NoValue"}]}),
            ),
            (
                "!Join ['', [a, !Sub '${B}']]",
                json!({"Fn::Join": ["", ["a", {"Fn::Sub": "${B}"}]]}),
            ),
            (
                "!Select [0, !GetAZs '']",
                json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}),
            ),
            (
                "!Split [',', !ImportValue Subnets]",
                json!({"Fn::Split": [",", {"Fn::ImportValue": "Subnets"}]}),
            ),
            (
                "!FindInMap [Map, !Ref 'AWS::Region', Key]",
                json!({"Fn::FindInMap": ["Map", {"Ref": "AWS::Region"}, "Key"]}),
            ),
            ("!Base64 hello", json!({"Fn::Base64": "hello"})),
            (
                "!Cidr [10.0.0.0/16, 6, 5]",
                json!({"Fn::Cidr": ["10.0.0.0/16", 6, 5]}),
            ),
            ("!GetAZs", json!({"Fn::GetAZs": ""})),
            ("!GetAZs us-east-1", json!({"Fn::GetAZs": "us-east-1"})),
            (
                "!Equals [!Ref Stage, prod]",
                json!({"Fn::Equals": [{"Ref": "Stage"}, "prod"]}),
            ),
            (
                "!And [!Condition A, !Condition B]",
                json!({"Fn::And": [{"Condition": "A"}, {"Condition": "B"}]}),
            ),
            (
                "!Or [!Condition A, !Not [!Condition B]]",
                json!({"Fn::Or": [{"Condition": "A"}, {"Fn::Not": [{"Condition": "B"}]}]}),
            ),
            (
                "!Transform {Name: AWS::Include, Parameters: {Location: s3://b/k}}",
                json!({"Fn::Transform": {"Name": "AWS::Include", "Parameters": {"Location": "s3://b/k"}}}),
            ),
            ("!Length [a, b]", json!({"Fn::Length": ["a", "b"]})),
            (
                "!ToJsonString {a: 1}",
                json!({"Fn::ToJsonString": {"a": 1}}),
            ),
            ("!Ref 123", json!({"Ref": "123"})),
        ]
    }

    #[test]
    fn every_short_form_becomes_long_form() {
        for (short, long) in short_forms() {
            assert_eq!(body(short), long, "{short}");
        }
    }

    #[test]
    fn every_short_form_round_trips_through_yaml() {
        for (short, _) in short_forms() {
            let doc = format!("Resources: {{}}\nOutputs:\n  V: {short}\n");
            let first = parse_str(&doc, "template.yaml").unwrap();
            let again = parse_str(&to_yaml(&first), "out.yaml").unwrap();
            assert_eq!(first, again, "{short}");
        }
    }

    #[test]
    fn block_style_tags() {
        let value = body("\n    !Join\n      - ''\n      - - !Ref A\n        - !GetAtt B.Arn\n");
        assert_eq!(
            value,
            json!({"Fn::Join": ["", [{"Ref": "A"}, {"Fn::GetAtt": ["B", "Arn"]}]]})
        );
    }

    #[test]
    fn unknown_tag_names_tag_and_line() {
        let text = error("Resources:\n  A:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Foo bar\n");
        assert!(
            text.starts_with("template.yaml: line 5, column 18: "),
            "{text}"
        );
        assert!(text.contains("unknown tag !Foo"), "{text}");
    }

    #[test]
    fn misused_short_forms_are_refused_with_an_example() {
        let doc = |v: &str| format!("Resources: {{}}\nOutputs:\n  V:\n    Value: {v}\n");
        assert_eq!(
            error(&doc("!GetAtt Foo")),
            "template.yaml: line 4, column 12: Outputs.V.Value: !GetAtt Foo needs Resource.Attribute, for example !GetAtt Foo.Arn"
        );
        assert!(error(&doc("!GetAtt Foo."))
            .ends_with("!GetAtt Foo. needs Resource.Attribute, for example !GetAtt Foo.Arn"));
        assert!(error(&doc("!GetAtt .Arn")).ends_with("for example !GetAtt MyResource.Arn"));
        assert!(error(&doc("!GetAtt [a, b, c]"))
            .ends_with("!GetAtt takes a list of two items [Resource, Attribute], not 3"));
        assert!(error(&doc("!Ref [a, b]"))
            .ends_with("!Ref takes one name, not a list or a mapping, for example !Ref MyName"));
        assert!(error(&doc("!Condition {a: b}")).contains("!Condition takes one name"));
    }

    #[test]
    fn bad_indentation_has_line_and_hint() {
        let text = error("Resources:\n  A:\n    Type: AWS::SNS::Topic\n   Properties: {}\n");
        assert!(
            text.starts_with("template.yaml: line 4, column 4: "),
            "{text}"
        );
        assert!(text.contains("indentation"), "{text}");
    }

    #[test]
    fn duplicate_key_names_key_and_line() {
        let text = error(
            "Resources:\n  A:\n    Type: AWS::SNS::Topic\n  B:\n    Type: X\n  A:\n    Type: Y\n",
        );
        assert!(
            text.starts_with("template.yaml: line 6, column 3: "),
            "{text}"
        );
        assert!(text.contains("duplicate key 'A'"), "{text}");
    }

    #[test]
    fn nesting_and_alias_limits_have_hints() {
        let deep = format!("Resources: {}{}\n", "[".repeat(200), "]".repeat(200));
        assert!(error(&deep)
            .ends_with("recursion limit exceeded (values are nested more than 128 levels deep)"));
        let json = format!("{{\"Resources\": {}{}}}", "[".repeat(200), "]".repeat(200));
        assert!(error(&json).contains("recursion limit exceeded (values are nested more than 128 levels deep) (the file starts"));
        let mut laughs = String::from("Resources: {}\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            laughs.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        assert!(error(&laughs).ends_with("repetition limit exceeded (its aliases expand to too much data: write the repeated parts out, or use fewer nested aliases)"));
    }

    #[test]
    fn tab_indentation_has_hint() {
        let text = error("Resources:\n  A:\n\tType: x\n");
        assert!(
            text.starts_with("template.yaml: line 3, column 1: "),
            "{text}"
        );
        assert!(
            text.ends_with("(YAML indentation must use spaces, not tabs)"),
            "{text}"
        );
    }

    #[test]
    fn json_syntax_error_has_line() {
        let text =
            error("{\n  \"Resources\": {\n    \"A\": {\"Type\": \"X\"}\n    \"B\": {}\n  }\n}\n");
        assert!(
            text.starts_with("template.yaml: line 4, column 5: expected `,` or `}`"),
            "{text}"
        );
        assert!(text.contains("read as JSON"), "{text}");
    }

    #[test]
    fn json_duplicate_keys_are_refused() {
        let text = error("{\"Resources\": {\"A\": {\"Type\": \"X\"},\n \"A\": {\"Type\": \"Y\"}}}");
        assert!(text.starts_with("template.yaml: line 2, column "), "{text}");
        assert!(text.contains("duplicate key 'A'"), "{text}");
    }

    #[test]
    fn yaml_flow_mapping_and_bom_are_accepted() {
        let value = parse_str("\u{feff}{Resources: {A: {Type: !Ref T}}}\n", "t").unwrap();
        assert_eq!(value, json!({"Resources": {"A": {"Type": {"Ref": "T"}}}}));
    }

    #[test]
    fn shape_errors() {
        assert_eq!(
            error(""),
            "template.yaml is empty; a template needs at least a Resources section"
        );
        assert_eq!(
            error("- a\n- b\n"),
            "template.yaml is not a mapping of template sections"
        );
        assert_eq!(
            error("Outputs: {}\n"),
            "template.yaml has no Resources section"
        );
        assert_eq!(
            error("Resources: [a]\n"),
            "template.yaml has a Resources section that is not a mapping of logical IDs to resources"
        );
    }

    #[test]
    fn scalar_keys_become_strings_and_merge_keys_stay() {
        let value = parse_str(
            "Resources: {}\nMappings:\n  M:\n    1: a\n    true: b\n    <<: {x: y}\n",
            "t",
        )
        .unwrap();
        assert_eq!(
            value["Mappings"]["M"],
            json!({"1": "a", "true": "b", "<<": {"x": "y"}})
        );
    }

    #[test]
    fn key_order_and_scalar_types_are_kept() {
        let value = parse_str(
            "Z: 1\nResources: {}\nA: '012345678901'\nB: 012345678901\nC: 1.5\nD: null\n",
            "t",
        )
        .unwrap();
        let keys: Vec<&String> = value.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["Z", "Resources", "A", "B", "C", "D"]);
        assert_eq!(value["A"], json!("012345678901"));
        assert_eq!(value["C"], json!(1.5));
        assert_eq!(value["D"], Value::Null);
    }
}
