//! samconfig with the syntax stripped away: TOML and YAML documents become one neutral tree, so
//! both obey the same rules (sam's version check, the `[env.command.parameters]` layout, and the
//! way sam flattens lists and mappings into option values).

use std::path::Path;

use indexmap::IndexMap;

use super::SamConfig;
use crate::config::{ConfigError, ConfigValue, SECTION};

/// A TOML item as a parameter value (`None` for a missing one).
pub(in crate::config) fn item_value(item: &toml_edit::Item) -> Option<ConfigValue> {
    value(toml_node(item))
}

/// A samconfig (or parameter) document with the syntax stripped away.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Table(Vec<(String, Node)>),
    List(Vec<Node>),
    Scalar(ConfigValue),
    Null,
}

pub(super) fn toml_node(item: &toml_edit::Item) -> Node {
    use toml_edit::{Item, Value};
    match item {
        Item::None => Node::Null,
        Item::Table(table) => Node::Table(
            table
                .iter()
                .map(|(k, v)| (k.to_string(), toml_node(v)))
                .collect(),
        ),
        Item::ArrayOfTables(tables) => Node::List(
            tables
                .iter()
                .map(|t| {
                    Node::Table(
                        t.iter()
                            .map(|(k, v)| (k.to_string(), toml_node(v)))
                            .collect(),
                    )
                })
                .collect(),
        ),
        Item::Value(value) => match value {
            Value::String(s) => Node::Scalar(ConfigValue::String(s.value().clone())),
            Value::Integer(i) => Node::Scalar(ConfigValue::Int(*i.value())),
            Value::Float(f) => Node::Scalar(ConfigValue::Float(*f.value())),
            Value::Boolean(b) => Node::Scalar(ConfigValue::Bool(*b.value())),
            Value::Datetime(d) => Node::Scalar(ConfigValue::String(d.value().to_string())),
            Value::Array(items) => Node::List(
                items
                    .iter()
                    .map(|v| toml_node(&Item::Value(v.clone())))
                    .collect(),
            ),
            Value::InlineTable(table) => Node::Table(
                table
                    .iter()
                    .map(|(k, v)| (k.to_string(), toml_node(&Item::Value(v.clone()))))
                    .collect(),
            ),
        },
    }
}

pub(super) fn yaml_node(value: &serde_yaml::Value) -> Node {
    use serde_yaml::Value;
    match value {
        Value::Null => Node::Null,
        Value::Bool(b) => Node::Scalar(ConfigValue::Bool(*b)),
        Value::Number(n) => Node::Scalar(match n.as_i64() {
            Some(i) => ConfigValue::Int(i),
            None => ConfigValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        }),
        Value::String(s) => Node::Scalar(ConfigValue::String(s.clone())),
        Value::Sequence(items) => Node::List(items.iter().map(yaml_node).collect()),
        // Keys that are not scalars cannot name anything samconfig reads.
        Value::Mapping(map) => Node::Table(
            map.iter()
                .filter_map(|(k, v)| match yaml_node(k) {
                    Node::Scalar(key) => Some((key.to_string(), yaml_node(v))),
                    _ => None,
                })
                .collect(),
        ),
        Value::Tagged(tagged) => yaml_node(&tagged.value),
    }
}

/// Checks sam's rules and keeps each environment's commands' `parameters`. Root keys that are
/// not tables (`version`) are not environments; a null counts as an empty table. A draft (a
/// file being saved, which gets its version last) needs no version.
pub(super) fn from_tree(path: &Path, root: Node, draft: bool) -> Result<SamConfig, ConfigError> {
    let version_error = || ConfigError::Version {
        path: path.to_path_buf(),
    };
    let root = match root {
        Node::Null => Vec::new(),
        Node::Table(entries) => entries,
        _ => return Err(version_error()),
    };
    // sam checks the version only of a document with something in it.
    let version_ok = root.iter().any(|(k, v)| {
        k == "version" && matches!(v, Node::Scalar(ConfigValue::Float(_) | ConfigValue::Int(_)))
    });
    if !root.is_empty() && !version_ok && !draft {
        return Err(version_error());
    }
    let mut environments = IndexMap::new();
    for (env, node) in root {
        let commands = match node {
            Node::Table(commands) => commands,
            Node::Null => continue,
            _ if env == "version" => continue,
            // A scalar where an environment should be is a typo sam would trip over later.
            _ => {
                return Err(ConfigError::NotATable {
                    path: path.to_path_buf(),
                    key: env,
                })
            }
        };
        let mut parsed = IndexMap::new();
        for (command, node) in commands {
            let key = format!("{env}.{command}");
            let parameters = table(path, &key, node)?
                .into_iter()
                .find(|(section, _)| section == SECTION)
                .map(|(_, node)| table(path, &format!("{key}.{SECTION}"), node))
                .transpose()?
                .unwrap_or_default();
            let values = parameters
                .into_iter()
                .filter_map(|(k, node)| value(node).map(|v| (k, v)))
                .collect();
            parsed.insert(command, values);
        }
        environments.insert(env, parsed);
    }
    Ok(SamConfig {
        path: path.to_path_buf(),
        environments,
    })
}

/// The entries of a node that must be a table (a null is an empty one).
fn table(path: &Path, key: &str, node: Node) -> Result<Vec<(String, Node)>, ConfigError> {
    match node {
        Node::Table(entries) => Ok(entries),
        Node::Null => Ok(Vec::new()),
        _ => Err(ConfigError::NotATable {
            path: path.to_path_buf(),
            key: key.to_string(),
        }),
    }
}

/// A parameter's value; a null means "not set", as click treats a `None` default.
fn value(node: Node) -> Option<ConfigValue> {
    match node {
        Node::Scalar(v) => Some(v),
        Node::Null => None,
        Node::Table(entries) => Some(ConfigValue::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k, words(v).join(",")))
                .collect(),
        )),
        list => Some(ConfigValue::List(words(list))),
    }
}

/// Flattens a list or table into strings the way sam's `CfnParameterOverridesType` does:
/// nested lists are flattened, empty items dropped, a mapping becomes `key=value` items with a
/// list value joined by commas.
fn words(node: Node) -> Vec<String> {
    match node {
        Node::Scalar(v) => vec![v.to_string()],
        Node::Null => Vec::new(),
        Node::List(items) => items.into_iter().flat_map(words).collect(),
        Node::Table(entries) => entries
            .into_iter()
            .map(|(k, v)| format!("{k}={}", words(v).join(",")))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::Format;
    use super::*;

    #[test]
    fn an_environment_that_is_not_a_table_is_refused() {
        let err = SamConfig::parse(
            Path::new("samconfig.toml"),
            Format::Toml,
            "version = 0.1\ndefault = 3\n",
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "samconfig.toml: `default` must be a table (samconfig's layout is [environment.command.parameters]); fix or remove that key.");
    }

    #[test]
    fn version_must_be_a_number() {
        let err = |text: &str| {
            SamConfig::parse(Path::new("samconfig.toml"), Format::Toml, text)
                .unwrap_err()
                .to_string()
        };
        let expected = "samconfig.toml: 'version' key is not present or is in unrecognized format. Add `version = 0.1` at the top of the file.";
        assert_eq!(
            err("[default.deploy.parameters]\nstack_name = \"a\"\n"),
            expected
        );
        assert_eq!(err("version = \"0.1\"\n"), expected);
        let yaml = SamConfig::parse(
            Path::new("samconfig.yaml"),
            Format::Yaml,
            "version: zero\ndefault: {}\n",
        );
        assert!(matches!(yaml, Err(ConfigError::Version { .. })));
        // An empty or comment-only file is an empty config, as in sam.
        let empty =
            SamConfig::parse(Path::new("samconfig.toml"), Format::Toml, "# nothing yet\n").unwrap();
        assert!(empty.parameters("default", "deploy").is_empty());
    }

    #[test]
    fn misshapen_tables_and_yaml_syntax_errors_name_the_place() {
        let text = "version = 0.1\n[default]\ndeploy = \"oops\"\n";
        let err = SamConfig::parse(Path::new("samconfig.toml"), Format::Toml, text).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("samconfig.toml: `default.deploy` must be a table"),
            "{err}"
        );
        let err = SamConfig::parse(
            Path::new("samconfig.yaml"),
            Format::Yaml,
            "version: 0.1\ndefault: [a\n",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("samconfig.yaml:3:1: invalid YAML: "),
            "{err}"
        );
    }
}
