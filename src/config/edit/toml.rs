//! The edit model of a TOML samconfig, through toml_edit: a key already in the file keeps its
//! place and the whitespace and comments around its value; values are written as sam's tomlkit
//! writes them.

use std::path::{Path, PathBuf};

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, TableLike, Value};

use super::Document;
use crate::config::read::{self, SamConfig};
use crate::config::{ConfigError, ConfigValue, SAM_CONFIG_VERSION};

/// A TOML samconfig being edited.
pub(super) struct TomlDocument {
    path: PathBuf,
    doc: DocumentMut,
    /// The file had no final newline (and keeps none).
    no_final_newline: bool,
}

impl TomlDocument {
    /// Reads `text` (empty for a new file), refusing what sam would refuse to read.
    pub(super) fn parse(path: &Path, text: &str) -> Result<TomlDocument, ConfigError> {
        let doc = read::parse_toml(path, text)?;
        // sam refuses to touch a file whose version or layout it cannot read; so do we.
        SamConfig::from_toml(path, &doc)?;
        Ok(TomlDocument {
            path: path.to_path_buf(),
            doc,
            no_final_newline: !text.is_empty() && !text.ends_with('\n'),
        })
    }

    /// The table at a dotted path, created when missing: `[env.deploy.parameters]` as a header
    /// with its parents implicit, or an inline table inside an inline parent.
    fn table_at(&mut self, names: [&str; 3]) -> Result<&mut dyn TableLike, ConfigError> {
        let not_a_table = |depth: usize| ConfigError::NotATable {
            path: self.path.clone(),
            key: names[..depth].join("."),
        };
        let mut item = self.doc.as_item_mut();
        for (depth, name) in names.iter().enumerate() {
            let missing = if item.is_table() {
                let mut table = Table::new();
                table.set_implicit(depth + 1 < names.len());
                Item::Table(table)
            } else {
                Item::Value(Value::InlineTable(InlineTable::new()))
            };
            let table = item.as_table_like_mut().ok_or_else(|| not_a_table(depth))?;
            item = table.entry(name).or_insert(missing);
        }
        item.as_table_like_mut()
            .ok_or_else(|| not_a_table(names.len()))
    }
}

impl Document for TomlDocument {
    fn put(&mut self, names: [&str; 3], key: &str, value: &ConfigValue) -> Result<(), ConfigError> {
        let item = toml_item(value);
        let table = self.table_at(names)?;
        match (table.get_mut(key), item) {
            (Some(Item::Value(old)), Item::Value(mut new)) => {
                *new.decor_mut() = old.decor().clone();
                *old = new;
            }
            // A value becoming a sub-table: the key is written anew (its old `key = ` spacing
            // would end up inside the table header).
            (Some(_), item @ Item::Table(_)) => {
                table.remove(key);
                table.insert(key, item);
            }
            (Some(other), item) => *other = item,
            (None, item) => {
                table.insert(key, item);
            }
        }
        Ok(())
    }

    fn value(&self, names: [&str; 3], key: &str) -> Option<ConfigValue> {
        let item = self
            .doc
            .get(names[0])?
            .get(names[1])?
            .get(names[2])?
            .get(key)?;
        read::item_value(item)
    }

    fn remove(&mut self, names: [&str; 3], key: &str) {
        let table = self
            .doc
            .get_mut(names[0])
            .and_then(|e| e.get_mut(names[1]))
            .and_then(|c| c.get_mut(names[2]))
            .and_then(Item::as_table_like_mut);
        if let Some(table) = table {
            table.remove(key);
        }
    }

    /// `version = 0.1` at the top of a document that has none, which was empty or held only
    /// comments (the version was checked before); those comments stay above it.
    fn add_version(&mut self) {
        if self.doc.contains_key("version") {
            return;
        }
        let comments = self.doc.trailing().as_str().unwrap_or_default().to_string();
        self.doc.decor_mut().set_prefix(comments);
        self.doc.set_trailing("");
        self.doc
            .insert("version", Item::Value(Value::from(SAM_CONFIG_VERSION)));
    }

    fn render(&self) -> String {
        let mut output = self.doc.to_string();
        // toml_edit ends every line with a newline; a file that had no final newline keeps none.
        if self.no_final_newline && output.ends_with('\n') {
            output.pop();
        }
        output
    }
}

/// The TOML form sam (tomlkit) gives a saved value: a mapping is a sub-table, a list an array.
fn toml_item(value: &ConfigValue) -> Item {
    Item::Value(match value {
        ConfigValue::Map(entries) => {
            let mut table = Table::new();
            for (k, v) in entries {
                table.insert(k, Item::Value(basic_string(v)));
            }
            return Item::Table(table);
        }
        ConfigValue::List(items) => {
            Value::Array(items.iter().map(|s| basic_string(s)).collect::<Array>())
        }
        ConfigValue::String(s) => basic_string(s),
        ConfigValue::Bool(b) => Value::from(*b),
        ConfigValue::Int(i) => Value::from(*i),
        ConfigValue::Float(f) => Value::from(*f),
    })
}

/// A double-quoted string escaped as tomlkit escapes it (`"Stage=\"dev\""`); toml_edit on its
/// own would pick a literal string (`'Stage="dev"'`).
fn basic_string(s: &str) -> Value {
    let mut quoted = String::with_capacity(s.len() + 2);
    quoted.push('"');
    for c in s.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\u{8}' => quoted.push_str("\\b"),
            '\t' => quoted.push_str("\\t"),
            '\n' => quoted.push_str("\\n"),
            '\u{c}' => quoted.push_str("\\f"),
            '\r' => quoted.push_str("\\r"),
            c if c < ' ' || c == '\u{7f}' => quoted.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    // Every string escaped above parses; the fallback only keeps this total.
    let mut value = quoted.parse::<Value>().unwrap_or_else(|_| Value::from(s));
    value.decor_mut().clear();
    value
}
