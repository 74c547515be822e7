//! What a plan must never show: the values of `NoEcho` parameters and what `{{resolve:
//! secretsmanager:...}}` and `{{resolve:ssm-secure:...}}` dynamic references stand for. A value is
//! masked as `****` when its property path reads a secret in any of the templates (the deployed
//! one too: its old value is as secret as the new one), and any known secret value or secure
//! dynamic reference inside any other value is replaced by `****`.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// What a secret is shown as.
pub const MASK: &str = "****";

static SECURE_REFERENCE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\{\{resolve:(secretsmanager|ssm-secure):[^}]*\}\}").expect("a valid pattern")
});

/// The secrets of a deploy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Secrets {
    /// The values of NoEcho parameters that are known (given, or defaults).
    values: Vec<String>,
    /// (logical id, property path) of every property that reads a secret.
    paths: Vec<(String, String)>,
}

impl Secrets {
    /// The secrets of these templates (the main one, its nested ones, the deployed one) given
    /// these parameter values (the overrides of the main template).
    pub fn of(templates: &[&Value], parameters: &[(String, String)]) -> Secrets {
        let mut secrets = Secrets::default();
        for template in templates {
            let hidden = no_echo_parameters(template);
            for name in &hidden {
                let given = parameters.iter().find(|(k, _)| k == name).map(|(_, v)| v);
                let default = template
                    .pointer(&format!("/Parameters/{name}/Default"))
                    .map(super::diff::shown);
                secrets
                    .values
                    .extend(given.cloned().into_iter().chain(default));
            }
            let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
                continue;
            };
            for (logical_id, resource) in resources {
                if let Some(properties) = resource.get("Properties") {
                    reading_secrets(properties, "/Properties", &hidden, &mut |path| {
                        secrets.paths.push((logical_id.clone(), path.to_string()));
                    });
                }
            }
        }
        secrets.values.retain(|v| !v.is_empty());
        secrets.values.sort_by_key(|v| std::cmp::Reverse(v.len()));
        secrets.values.dedup();
        secrets
    }

    /// A property's value as it may be shown.
    pub fn mask(&self, logical_id: &str, path: &str, value: &str) -> String {
        let inside = |outer: &str, inner: &str| {
            inner == outer
                || inner
                    .strip_prefix(outer)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        let reads_secret = self
            .paths
            .iter()
            .any(|(id, p)| id == logical_id && (inside(p, path) || inside(path, p)));
        if reads_secret || self.values.iter().any(|v| v == value) {
            return MASK.to_string();
        }
        let mut shown = SECURE_REFERENCE.replace_all(value, MASK).into_owned();
        for secret in &self.values {
            shown = shown.replace(secret.as_str(), MASK);
        }
        shown
    }
}

/// The template's parameters declared `NoEcho: true`.
pub fn no_echo_parameters(template: &Value) -> Vec<String> {
    let Some(parameters) = template.get("Parameters").and_then(Value::as_object) else {
        return Vec::new();
    };
    parameters
        .iter()
        .filter(|(_, p)| match p.get("NoEcho") {
            Some(Value::Bool(b)) => *b,
            Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
            _ => false,
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// Calls `found` with the path of every property value that reads a hidden parameter (`Ref`,
/// `${Name}` in `Fn::Sub`, anywhere inside an intrinsic function) or holds a secure dynamic
/// reference.
fn reading_secrets(node: &Value, path: &str, hidden: &[String], found: &mut dyn FnMut(&str)) {
    match node {
        Value::Object(map) if map.keys().any(|k| k == "Ref" || k.starts_with("Fn::")) => {
            if reads_secret(node, hidden) {
                found(path);
            }
        }
        Value::Object(map) => {
            for (key, value) in map {
                reading_secrets(value, &format!("{path}/{key}"), hidden, found);
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                reading_secrets(item, &format!("{path}/{i}"), hidden, found);
            }
        }
        other => {
            if reads_secret(other, hidden) {
                found(path);
            }
        }
    }
}

fn reads_secret(node: &Value, hidden: &[String]) -> bool {
    match node {
        Value::String(text) => SECURE_REFERENCE.is_match(text),
        Value::Array(items) => items.iter().any(|item| reads_secret(item, hidden)),
        Value::Object(map) => {
            let by_ref = map
                .get("Ref")
                .and_then(Value::as_str)
                .is_some_and(|name| hidden.iter().any(|h| h == name));
            let sub_text = match map.get("Fn::Sub") {
                Some(Value::String(text)) => Some(text.as_str()),
                Some(Value::Array(items)) => items.first().and_then(Value::as_str),
                _ => None,
            };
            let by_sub = sub_text.is_some_and(|text| {
                hidden
                    .iter()
                    .any(|name| text.contains(&format!("${{{name}}}")))
            });
            by_ref || by_sub || map.values().any(|v| reads_secret(v, hidden))
        }
        _ => false,
    }
}
