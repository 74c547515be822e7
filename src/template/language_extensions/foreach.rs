//! `Fn::ForEach` expanded as sam's `ForEachProcessor` expands it: in Conditions, Resources (and
//! each resource's Properties) and Outputs, with sam's checks and messages.

use std::collections::BTreeSet;

use regex::Regex;
use serde_json::{Map, Value};

use super::resolve::Resolver;
use super::{loop_name, ExpansionError, FOREACH};

/// CloudFormation's limit on nested loops.
const MAX_DEPTH: usize = 5;

/// The template with every loop expanded (the rest as it was).
pub(super) fn expand_template(
    root: &Map<String, Value>,
    resolver: &Resolver,
) -> Result<Map<String, Value>, ExpansionError> {
    let depth = ["Resources", "Conditions", "Outputs"]
        .iter()
        .filter_map(|s| root.get(*s))
        .map(|section| depth_of(section, 0))
        .max()
        .unwrap_or(0);
    if depth > MAX_DEPTH {
        return Err(ExpansionError(format!(
            "Fn::ForEach nesting depth of {depth} exceeds the maximum allowed depth of {MAX_DEPTH}. CloudFormation supports up to {MAX_DEPTH} nested Fn::ForEach loops."
        )));
    }
    let expander = Expander {
        resolver,
        parameters: root
            .get("Parameters")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default(),
    };
    let mut out = root.clone();
    for section in ["Conditions", "Resources", "Outputs"] {
        let Some(value) = root.get(section) else {
            continue;
        };
        let processed = if section == "Resources" {
            expander.resources(value)?
        } else {
            expander.section(value, &[])?
        };
        // An emptied Conditions or Outputs section goes (sam's processor drops it).
        let empty = processed.as_object().is_none_or(|m| m.is_empty());
        if section != "Resources" && empty {
            out.remove(section);
        } else {
            out.insert(section.into(), processed);
        }
    }
    Ok(out)
}

/// How deep loops nest under `node`.
fn depth_of(node: &Value, depth: usize) -> usize {
    match node {
        Value::Object(map) => map
            .iter()
            .map(|(key, value)| match (key.starts_with(FOREACH), value) {
                (true, Value::Array(parts)) if parts.len() >= 3 => depth_of(&parts[2], depth + 1),
                (true, _) => depth + 1,
                (false, value) => depth_of(value, depth),
            })
            .max()
            .unwrap_or(depth),
        Value::Array(items) => items
            .iter()
            .map(|item| depth_of(item, depth))
            .max()
            .unwrap_or(depth),
        _ => depth,
    }
}

struct Expander<'a> {
    resolver: &'a Resolver<'a>,
    parameters: BTreeSet<String>,
}

impl Expander<'_> {
    /// The Resources section: loops become resources, and loops inside each resource's
    /// Properties become properties.
    fn resources(&self, section: &Value) -> Result<Value, ExpansionError> {
        let Value::Object(map) = section else {
            return Ok(section.clone());
        };
        let mut result = Map::new();
        for (key, value) in map {
            if key.starts_with(FOREACH) {
                let expanded = self.expand(key, value, &[])?;
                let mut processed = Map::new();
                for (id, resource) in expanded {
                    processed.insert(id, self.with_properties(&resource)?);
                }
                merge(&mut result, processed, key)?;
            } else {
                result.insert(key.clone(), self.with_properties(value)?);
            }
        }
        Ok(Value::Object(result))
    }

    /// A resource with the loops of its Properties expanded.
    fn with_properties(&self, resource: &Value) -> Result<Value, ExpansionError> {
        let mut resource = resource.clone();
        if let Some(properties) = resource.get_mut("Properties") {
            *properties = self.section(properties, &[])?;
        }
        Ok(resource)
    }

    /// A mapping whose loop keys are expanded in place (`parents`: the enclosing loops'
    /// identifiers).
    fn section(&self, section: &Value, parents: &[String]) -> Result<Value, ExpansionError> {
        let Value::Object(map) = section else {
            return Ok(section.clone());
        };
        let mut result = Map::new();
        for (key, value) in map {
            if key.starts_with(FOREACH) {
                let expanded = self.expand(key, value, parents)?;
                merge(&mut result, expanded, key)?;
            } else {
                result.insert(key.clone(), value.clone());
            }
        }
        Ok(Value::Object(result))
    }

    /// One loop: its body once per item of the collection, the identifier substituted.
    fn expand(
        &self,
        key: &str,
        value: &Value,
        parents: &[String],
    ) -> Result<Map<String, Value>, ExpansionError> {
        let layout = || ExpansionError(format!("{key} layout is incorrect"));
        let Some([identifier, collection, body]) = value.as_array().map(Vec::as_slice) else {
            return Err(layout());
        };
        let identifier = identifier
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(layout)?;
        if self.parameters.contains(identifier) {
            return Err(ExpansionError(format!(
                "{key}: identifier '{identifier}' conflicts with parameter name"
            )));
        }
        if parents.iter().any(|p| p == identifier) {
            return Err(ExpansionError(format!(
                "{key}: identifier '{identifier}' conflicts with another loop identifier"
            )));
        }
        let name = loop_name(key).unwrap_or_default();
        if self.parameters.contains(name) {
            return Err(ExpansionError(format!(
                "{key}: loop name '{name}' conflicts with parameter name"
            )));
        }
        if !body.is_object() {
            return Err(layout());
        }
        let Value::Array(items) = self.resolver.collection(collection)? else {
            return Err(layout());
        };
        let mut current = parents.to_vec();
        current.push(identifier.to_string());
        let mut result = Map::new();
        for item in &items {
            // sam pastes Python's repr of a mapping or list into the names, which CloudFormation
            // then refuses; samrs says so first.
            if item.is_object() || item.is_array() {
                return Err(ExpansionError(format!(
                    "{key}: the collection item {item} does not resolve to a string, number or boolean; fix the collection (a parameter it refers to may not exist)"
                )));
            }
            let text = item_text(item);
            let expanded = self.section(&substitute(body, identifier, &text), &current)?;
            if let Value::Object(entries) = expanded {
                merge(&mut result, entries, key)?;
            }
        }
        Ok(result)
    }
}

/// Adds a loop's entries, refusing names already taken (sam's `_merge_expanded`).
fn merge(
    result: &mut Map<String, Value>,
    expanded: Map<String, Value>,
    key: &str,
) -> Result<(), ExpansionError> {
    let taken: BTreeSet<&String> = expanded
        .keys()
        .filter(|k| result.contains_key(*k))
        .collect();
    if !taken.is_empty() {
        let names: Vec<&str> = taken.iter().map(|k| k.as_str()).collect();
        return Err(ExpansionError(format!(
            "Fn::ForEach expansion in '{key}' produced logical IDs that conflict with existing entries: {}",
            names.join(", ")
        )));
    }
    result.extend(expanded);
    Ok(())
}

/// An item as the text substituted for the identifier (Python's `str()`, booleans lowercase).
fn item_text(item: &Value) -> String {
    match item {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => "None".into(),
        Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => i.to_string(),
            (_, Some(u), _) => u.to_string(),
            (_, _, Some(f)) if f.fract() == 0.0 && f.is_finite() => format!("{f:.1}"),
            (_, _, Some(f)) => f.to_string(),
            _ => n.to_string(),
        },
        // Refused by the caller.
        Value::Object(_) | Value::Array(_) => item.to_string(),
    }
}

/// `${id}` → the item, `&{id}` → the item's letters and digits, `{"Ref": id}` → the item, in
/// keys and values at any depth.
pub(super) fn substitute(template: &Value, identifier: &str, value: &str) -> Value {
    match template {
        Value::String(s) => {
            let alphanumeric: String = value.chars().filter(char::is_ascii_alphanumeric).collect();
            Value::String(
                s.replace(&format!("${{{identifier}}}"), value)
                    .replace(&format!("&{{{identifier}}}"), &alphanumeric),
            )
        }
        Value::Object(map) => {
            if map.len() == 1 && map.get("Ref").and_then(Value::as_str) == Some(identifier) {
                return Value::String(value.to_string());
            }
            let mut out = Map::new();
            for (k, v) in map {
                let key = match substitute(&Value::String(k.clone()), identifier, value) {
                    Value::String(key) => key,
                    _ => k.clone(),
                };
                out.insert(key, substitute(v, identifier, value));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| substitute(item, identifier, value))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Whether a collection needs AWS to be known: `Fn::GetAtt`, `Fn::ImportValue` or a
/// `{{resolve:...}}` dynamic reference (sam refuses these, and so does samrs).
pub(super) fn check_resolvable(collection: &Value) -> Result<(), ExpansionError> {
    static DYNAMIC: std::sync::LazyLock<Regex> = std::sync::LazyLock::new(|| {
        Regex::new(r"(?i)\{\{resolve:(ssm|ssm-secure|secretsmanager):[^}]+\}\}")
            .expect("a valid pattern")
    });
    let unresolvable = |reason: String| {
        Err(ExpansionError(format!(
            "Unable to resolve Fn::ForEach collection locally. {reason} Use a CommaDelimitedList parameter for the collection instead, with its values in --parameter-overrides."
        )))
    };
    match collection {
        Value::Array(items) => {
            for item in items {
                check_resolvable(item)?;
            }
            Ok(())
        }
        Value::Object(map) if map.len() == 1 => {
            let key = map.keys().next().map(String::as_str).unwrap_or_default();
            if matches!(key, "Fn::GetAtt" | "Fn::ImportValue") {
                return unresolvable(format!(
                    "The collection uses '{key}' which requires deployed resources and cannot be resolved locally."
                ));
            }
            Ok(())
        }
        Value::String(s) if DYNAMIC.is_match(s) => unresolvable(format!(
            "The collection uses a dynamic reference ({s}) which requires AWS API calls and cannot be resolved locally."
        )),
        _ => Ok(()),
    }
}
