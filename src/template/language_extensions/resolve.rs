//! The intrinsic functions sam resolves locally in the expanded copy it packages ("partial"
//! resolution): what can be known without AWS is replaced by its value, the rest is kept.

use std::cell::RefCell;
use std::collections::BTreeSet;

use serde_json::{Map, Value};

use super::foreach::check_resolvable;
use super::ExpansionError;

/// Resolves against a template's Parameters, Mappings and Conditions and the parameter values.
pub(super) struct Resolver<'a> {
    root: &'a Map<String, Value>,
    values: &'a Map<String, Value>,
    /// Conditions being evaluated (a condition that depends on itself is refused).
    evaluating: RefCell<BTreeSet<String>>,
}

/// `{"Ref": "AWS::NoValue"}`: the property is removed.
fn is_no_value(value: &Value) -> bool {
    value.get("Ref").and_then(Value::as_str) == Some("AWS::NoValue")
        && value.as_object().is_some_and(|m| m.len() == 1)
}

impl<'a> Resolver<'a> {
    pub(super) fn new(
        root: &'a Map<String, Value>,
        values: &'a Map<String, Value>,
    ) -> Resolver<'a> {
        Resolver {
            root,
            values,
            evaluating: RefCell::new(BTreeSet::new()),
        }
    }

    /// A loop's collection: a list as it is, or an intrinsic resolved (a resolved string with
    /// commas is split, as for a CommaDelimitedList parameter).
    pub(super) fn collection(&self, collection: &Value) -> Result<Value, ExpansionError> {
        check_resolvable(collection)?;
        if collection.is_array() {
            return Ok(collection.clone());
        }
        Ok(match self.value(collection)? {
            Value::String(s) if s.contains(',') => Value::Array(
                s.split(',')
                    .map(|item| Value::String(item.trim().to_string()))
                    .collect(),
            ),
            other => other,
        })
    }

    /// A parameter's value: given, else its default; list-typed parameters as lists.
    fn parameter(&self, name: &str) -> Option<Value> {
        let definition = self
            .root
            .get("Parameters")
            .and_then(|p| p.get(name))
            .and_then(Value::as_object);
        let value = self
            .values
            .get(name)
            .cloned()
            .or_else(|| definition.and_then(|d| d.get("Default")).cloned())?;
        let is_list = definition
            .and_then(|d| d.get("Type"))
            .and_then(Value::as_str)
            .is_some_and(|t| t == "CommaDelimitedList" || t.starts_with("List<"));
        Some(match value {
            Value::String(s) if is_list => Value::Array(
                s.split(',')
                    .map(|item| Value::String(item.trim().to_string()))
                    .collect(),
            ),
            other => other,
        })
    }

    /// A value with everything resolvable resolved.
    pub(super) fn value(&self, value: &Value) -> Result<Value, ExpansionError> {
        match value {
            Value::Object(map) if map.len() == 1 => {
                let (name, args) = map.iter().next().expect("one entry");
                self.intrinsic(name, args)
            }
            Value::Object(map) => {
                let mut out = Map::new();
                for (k, v) in map {
                    out.insert(k.clone(), self.value(v)?);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => items.iter().map(|i| self.value(i)).collect(),
            other => Ok(other.clone()),
        }
    }

    fn intrinsic(&self, name: &str, args: &Value) -> Result<Value, ExpansionError> {
        let kept = |args: Value| {
            let mut map = Map::new();
            map.insert(name.to_string(), args);
            Value::Object(map)
        };
        match name {
            "Ref" => Ok(match args.as_str() {
                Some("AWS::NoValue") | None => kept(args.clone()),
                Some(target) => self.parameter(target).unwrap_or_else(|| kept(args.clone())),
            }),
            "Fn::Sub" => self
                .sub(args)
                .map(|s| s.unwrap_or_else(|| kept(args.clone()))),
            "Fn::Join" => {
                let resolved = self.value(args)?;
                Ok(match resolved.as_array().map(Vec::as_slice) {
                    Some([Value::String(delimiter), Value::Array(items)]) => {
                        match items.iter().map(scalar_text).collect::<Option<Vec<_>>>() {
                            Some(parts) => Value::String(parts.join(delimiter)),
                            None => kept(resolved),
                        }
                    }
                    _ => kept(resolved),
                })
            }
            "Fn::Split" => {
                let resolved = self.value(args)?;
                Ok(match resolved.as_array().map(Vec::as_slice) {
                    Some([Value::String(delimiter), Value::String(text)])
                        if !delimiter.is_empty() =>
                    {
                        Value::Array(
                            text.split(delimiter.as_str())
                                .map(|s| Value::String(s.to_string()))
                                .collect(),
                        )
                    }
                    Some([Value::String(delimiter), Value::String(_)]) if delimiter.is_empty() => {
                        return Err(ExpansionError(
                            "Fn::Split delimiter cannot be an empty string".into(),
                        ))
                    }
                    _ => kept(resolved),
                })
            }
            "Fn::Select" => {
                let resolved = self.value(args)?;
                let index = |v: &Value| {
                    v.as_u64()
                        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                };
                Ok(match resolved.as_array().map(Vec::as_slice) {
                    Some([i, Value::Array(items)]) => match index(i) {
                        Some(i) => items.get(i as usize).cloned().ok_or_else(|| {
                            ExpansionError(format!(
                                "Fn::Select index {i} is out of bounds for a list of {} items",
                                items.len()
                            ))
                        })?,
                        None => kept(resolved),
                    },
                    _ => kept(resolved),
                })
            }
            "Fn::FindInMap" => self
                .find_in_map(args)
                .map(|v| v.unwrap_or_else(|| kept(args.clone()))),
            "Fn::Length" => {
                let resolved = self.value(args)?;
                Ok(match &resolved {
                    Value::Array(items) => Value::from(items.len()),
                    _ => kept(resolved),
                })
            }
            "Fn::ToJsonString" => {
                let resolved = self.value(args)?;
                Ok(if has_intrinsic(&resolved) {
                    kept(resolved)
                } else {
                    Value::String(serde_json::to_string(&resolved).unwrap_or_default())
                })
            }
            "Fn::If" => {
                let resolved_branches = |args: &Value| self.value(args);
                match args.as_array().map(Vec::as_slice) {
                    Some([Value::String(condition), when_true, when_false]) => {
                        match self.condition(condition)? {
                            Some(true) => self.value(when_true),
                            Some(false) => self.value(when_false),
                            None => Ok(kept(resolved_branches(args)?)),
                        }
                    }
                    _ => Ok(kept(resolved_branches(args)?)),
                }
            }
            // Everything else (Fn::GetAtt, Fn::ImportValue, Fn::GetAZs, Fn::Base64, conditions'
            // functions, ...) keeps its name, with its arguments resolved.
            _ => Ok(kept(self.value(args)?)),
        }
    }

    /// `Fn::Sub`: known `${Name}`s replaced (`${!Name}` is the literal `${Name}`), unknown ones
    /// (resource attributes) kept as text, as sam's partial resolution does.
    fn sub(&self, args: &Value) -> Result<Option<Value>, ExpansionError> {
        let (text, variables) = match args {
            Value::String(text) => (text.as_str(), Map::new()),
            Value::Array(parts) => match parts.as_slice() {
                [Value::String(text)] => (text.as_str(), Map::new()),
                [Value::String(text), Value::Object(vars)] => {
                    let mut resolved = Map::new();
                    for (k, v) in vars {
                        resolved.insert(k.clone(), self.value(v)?);
                    }
                    (text.as_str(), resolved)
                }
                _ => return Ok(None),
            },
            _ => return Ok(None),
        };
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let Some(end) = after.find('}') else {
                out.push_str(&rest[start..]);
                rest = "";
                break;
            };
            let name = &after[..end];
            match name.strip_prefix('!') {
                Some(literal) => out.push_str(&format!("${{{literal}}}")),
                None => {
                    let value = variables
                        .get(name)
                        .cloned()
                        .or_else(|| self.parameter(name));
                    match value.as_ref().and_then(text_of) {
                        Some(text) => out.push_str(&text),
                        None => out.push_str(&format!("${{{name}}}")),
                    }
                }
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Some(Value::String(out)))
    }

    /// `Fn::FindInMap [Map, TopKey, SecondKey, {DefaultValue: ...}]` when its keys resolve.
    fn find_in_map(&self, args: &Value) -> Result<Option<Value>, ExpansionError> {
        let Some(parts) = args.as_array() else {
            return Ok(None);
        };
        let (keys, default) = match parts.as_slice() {
            [a, b, c] => ([a, b, c], None),
            [a, b, c, Value::Object(options)] => ([a, b, c], options.get("DefaultValue")),
            _ => return Ok(None),
        };
        let mut names = Vec::with_capacity(3);
        for key in keys {
            match self.value(key)? {
                Value::String(s) => names.push(s),
                _ => return Ok(None),
            }
        }
        let found = self
            .root
            .get("Mappings")
            .and_then(|m| m.get(&names[0]))
            .and_then(|m| m.get(&names[1]))
            .and_then(|m| m.get(&names[2]));
        match (found, default) {
            (Some(value), _) => Ok(Some(value.clone())),
            (None, Some(default)) => self.value(default).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// A condition's truth, when every value it compares resolves.
    fn condition(&self, name: &str) -> Result<Option<bool>, ExpansionError> {
        let Some(definition) = self.root.get("Conditions").and_then(|c| c.get(name)) else {
            return Err(ExpansionError(format!(
                "Condition {name} is not defined in the Conditions section"
            )));
        };
        if !self.evaluating.borrow_mut().insert(name.to_string()) {
            return Err(ExpansionError(format!(
                "Condition {name} depends on itself"
            )));
        }
        let truth = self.truth(definition);
        self.evaluating.borrow_mut().remove(name);
        truth
    }

    fn truth(&self, expression: &Value) -> Result<Option<bool>, ExpansionError> {
        let Some((name, args)) = expression
            .as_object()
            .filter(|m| m.len() == 1)
            .and_then(|m| m.iter().next())
        else {
            return Ok(expression.as_bool());
        };
        let all = |items: &Vec<Value>| -> Result<Vec<Option<bool>>, ExpansionError> {
            items.iter().map(|i| self.truth(i)).collect()
        };
        Ok(match (name.as_str(), args) {
            ("Condition", Value::String(other)) => self.condition(other)?,
            ("Fn::Equals", Value::Array(pair)) if pair.len() == 2 => {
                let (a, b) = (self.value(&pair[0])?, self.value(&pair[1])?);
                match (text_of(&a), text_of(&b)) {
                    (Some(a), Some(b)) => Some(a == b),
                    _ => None,
                }
            }
            ("Fn::Not", Value::Array(one)) if one.len() == 1 => self.truth(&one[0])?.map(|b| !b),
            ("Fn::And", Value::Array(items)) => {
                let truths = all(items)?;
                if truths.contains(&Some(false)) {
                    Some(false)
                } else {
                    truths.iter().all(Option::is_some).then_some(true)
                }
            }
            ("Fn::Or", Value::Array(items)) => {
                let truths = all(items)?;
                if truths.contains(&Some(true)) {
                    Some(true)
                } else {
                    truths.iter().all(Option::is_some).then_some(false)
                }
            }
            _ => None,
        })
    }
}

/// The expanded template's intrinsics resolved in Conditions (their functions kept),
/// Resources and Outputs, and `AWS::NoValue` properties removed from Resources.
pub(super) fn resolve_template(
    template: &mut Map<String, Value>,
    values: &Map<String, Value>,
) -> Result<(), ExpansionError> {
    let snapshot = template.clone();
    let resolver = Resolver::new(&snapshot, values);
    for section in ["Conditions", "Resources", "Outputs"] {
        if let Some(value) = template.get_mut(section) {
            *value = resolver.value(value)?;
        }
    }
    if let Some(resources) = template.get_mut("Resources") {
        remove_no_value(resources);
    }
    Ok(())
}

/// Drops keys and list items whose value is `AWS::NoValue`, except inside intrinsics' arguments.
fn remove_no_value(value: &mut Value) {
    match value {
        Value::Object(map) if map.len() == 1 && map.keys().all(|k| k.starts_with("Fn::")) => {}
        Value::Object(map) => {
            map.retain(|_, v| !is_no_value(v));
            map.values_mut().for_each(remove_no_value);
        }
        Value::Array(items) => {
            items.retain(|v| !is_no_value(v));
            items.iter_mut().for_each(remove_no_value);
        }
        _ => {}
    }
}

/// A scalar as text (for joining and comparing); `None` for lists, mappings and null.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A value as `Fn::Sub` writes it: scalars as text, lists joined by commas.
fn text_of(value: &Value) -> Option<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(scalar_text)
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.join(",")),
        other => scalar_text(other),
    }
}

/// Whether an intrinsic function is left anywhere in the value.
fn has_intrinsic(value: &Value) -> bool {
    match value {
        Value::Object(map) => {
            (map.len() == 1
                && map
                    .keys()
                    .all(|k| k == "Ref" || k.starts_with("Fn::") || k == "Condition"))
                || map.values().any(has_intrinsic)
        }
        Value::Array(items) => items.iter().any(has_intrinsic),
        _ => false,
    }
}
