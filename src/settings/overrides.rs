//! `--parameter-overrides` as SAM CLI 1.170 reads it (`CfnParameterOverridesType`): inline
//! `Key=Value` / `ParameterKey=K,ParameterValue=V` text, samconfig strings, arrays and tables, and
//! `file://PATH` parameter files (TOML or YAML: mappings, lists, `$include`), merged in order so a
//! later value wins. Reading the files is the only I/O here.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::values::{split_quoted, unquote, Item};
use super::UsageError;
use crate::config::{self, ConfigValue, Node};

const FILE_SCHEME: &str = "file://";

/// The overrides, in first-seen key order, later values winning. Relative `file://` paths are
/// relative to `cwd` (or, inside a parameter file, to that file's directory, as sam resolves them).
pub fn resolve(items: &[Item], cwd: &Path) -> Result<Vec<(String, String)>, UsageError> {
    let mut reader = Reader {
        cwd,
        seen: HashSet::new(),
        pairs: Vec::new(),
    };
    for item in items {
        match item {
            Item::Text(text) => reader.text(text, None)?,
            Item::Pair(key, value) => reader.set(key, value),
        }
    }
    Ok(reader.pairs)
}

struct Reader<'a> {
    cwd: &'a Path,
    /// Files being read (the include chain), to refuse a file that includes itself.
    seen: HashSet<PathBuf>,
    pairs: Vec<(String, String)>,
}

impl Reader<'_> {
    /// sam unquotes every key and value at the end, whatever it came from.
    fn set(&mut self, key: &str, value: &str) {
        let (key, value) = (unquote(key), unquote(value));
        match self.pairs.iter_mut().find(|(k, _)| *k == key) {
            Some(existing) => existing.1 = value,
            None => self.pairs.push((key, value)),
        }
    }

    fn text(&mut self, text: &str, current: Option<&Path>) -> Result<(), UsageError> {
        if let Some(path) = text.strip_prefix(FILE_SCHEME) {
            return self.file(text, path, current);
        }
        for (key, value) in inline_pairs(text)? {
            self.set(&key, &value);
        }
        Ok(())
    }

    fn file(
        &mut self,
        reference: &str,
        path: &str,
        current: Option<&Path>,
    ) -> Result<(), UsageError> {
        let relative_to = current.and_then(Path::parent).unwrap_or(self.cwd);
        let path = normalize(&relative_to.join(path));
        if !path.is_file() {
            return Err(invalid(&format!(
                "{reference} was not found or is a directory"
            )));
        }
        let is_supported = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("toml" | "yaml" | "yml")
        );
        if !is_supported {
            return Err(invalid(&format!(
                "{reference} uses an unsupported extension"
            )));
        }
        if !self.seen.insert(path.clone()) {
            return Err(invalid(&format!(
                "Infinite recursion detected in file references: {}",
                path.display()
            )));
        }
        let tree = config::load_tree(&path).map_err(|e| invalid(&e.to_string()))?;
        let result = self.node(tree, &path);
        self.seen.remove(&path);
        result
    }

    /// One value of a parameter file: a mapping of parameters, a list of anything, or a string.
    fn node(&mut self, node: Node, current: &Path) -> Result<(), UsageError> {
        match node {
            Node::Null => Ok(()),
            Node::Scalar(ConfigValue::String(text)) => self.text(&text, Some(current)),
            Node::Scalar(other) => Err(invalid(&format!(
                "{other} is invalid in a way the code doesn't expect"
            ))),
            Node::List(items) => items.into_iter().try_for_each(|n| self.node(n, current)),
            Node::Table(entries) => {
                for (key, value) in entries {
                    if key == "$include" {
                        if !matches!(value, Node::List(_) | Node::Scalar(ConfigValue::String(_))) {
                            return Err(invalid(&format!(
                                "$include must be a string or list of strings, got {}",
                                python_type(&value)
                            )));
                        }
                        self.node(value, current)?;
                    } else {
                        self.set(&key, &mapping_value(value));
                    }
                }
                Ok(())
            }
        }
    }
}

/// A mapping's value as sam stores it: a null unsets (empty string), a list is joined with
/// commas (items trimmed, empty ones dropped), a scalar is Python's `str()` of it.
fn mapping_value(node: Node) -> String {
    match node {
        Node::Null => String::new(),
        Node::Scalar(value) => value.to_string(),
        Node::List(items) => items
            .into_iter()
            .map(mapping_value)
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(","),
        Node::Table(entries) => entries
            .into_iter()
            .map(|(k, v)| format!("{k}={}", mapping_value(v)))
            .collect::<Vec<_>>()
            .join(","),
    }
}

fn python_type(node: &Node) -> &'static str {
    match node {
        Node::Null => "NoneType",
        Node::Table(_) => "dict",
        Node::List(_) => "list",
        Node::Scalar(ConfigValue::Bool(_)) => "bool",
        Node::Scalar(ConfigValue::Int(_)) => "int",
        Node::Scalar(ConfigValue::Float(_)) => "float",
        Node::Scalar(_) => "str",
    }
}

/// The pairs of one inline text. Words split on spaces outside quotes, each `K=V` or
/// `ParameterKey=K,ParameterValue=V`; a text whose words do not all have that form is one pair
/// whose value keeps its spaces (sam would keep the first word and drop the rest silently).
fn inline_pairs(text: &str) -> Result<Vec<(String, String)>, UsageError> {
    let words: Option<Vec<(String, String)>> = split_quoted(text).iter().map(|w| pair(w)).collect();
    match words {
        Some(pairs) => Ok(pairs),
        None => pair(text.trim()).map(|p| vec![p]).ok_or_else(|| {
            invalid(&format!(
                "{text} is not a valid format. It must look something like 'ParameterKey=KeyPairName,ParameterValue=MyKey ParameterKey=InstanceType,ParameterValue=t1.micro', 'KeyPairName=MyKey InstanceType=t1.micro', or 'file://MyParams.yaml'"
            ))
        }),
    }
}

fn pair(word: &str) -> Option<(String, String)> {
    let (key, value) = match word.strip_prefix("ParameterKey=") {
        Some(rest) => rest.split_once(",ParameterValue=")?,
        None => word.split_once('=')?,
    };
    (!key.is_empty()).then(|| (key.to_string(), value.to_string()))
}

/// `.` and `..` removed without touching the file system (sam's `Path.resolve()` for the
/// recursion check; symlinks are not followed, which only matters for a self-including link).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

fn invalid(message: &str) -> UsageError {
    UsageError(format!(
        "Invalid value for '--parameter-overrides': {message}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn text(items: &[&str]) -> Vec<Item> {
        items.iter().map(|s| Item::Text(s.to_string())).collect()
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn inline_forms_quotes_and_later_wins() {
        let got = resolve(
            &text(&[
                "ParameterKey=KeyPairName,ParameterValue=MyKey ParameterKey=InstanceType,ParameterValue=t1.micro",
                r#"Stage="dev" Name="a b" Empty="" Msg='it\'s'"#,
                "Stage=prod",
                "Url=https://x/?a=b,c",
            ]),
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(
            got,
            pairs(&[
                ("KeyPairName", "MyKey"),
                ("InstanceType", "t1.micro"),
                ("Stage", "prod"),
                ("Name", "a b"),
                ("Empty", ""),
                ("Msg", "it's"),
                ("Url", "https://x/?a=b,c"),
            ])
        );
    }

    #[test]
    fn a_value_with_unquoted_spaces_stays_one_value() {
        let got = resolve(&text(&["AdminEmail=<email 1>"]), Path::new("/")).unwrap();
        assert_eq!(got, pairs(&[("AdminEmail", "<email 1>")]));
        let err = resolve(&text(&["NoEquals"]), Path::new("/")).unwrap_err();
        assert!(err.0.starts_with(
            "Invalid value for '--parameter-overrides': NoEquals is not a valid format"
        ));
    }

    #[test]
    fn samconfig_tables_are_pairs() {
        let got = resolve(
            &[
                Item::Pair("Name".into(), "a b".into()),
                Item::Text("Other=1".into()),
            ],
            Path::new("/"),
        )
        .unwrap();
        assert_eq!(got, pairs(&[("Name", "a b"), ("Other", "1")]));
    }

    #[test]
    fn parameter_files_yaml_toml_lists_and_includes() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("sub")).unwrap();
        fs::write(
            d.join("base.yaml"),
            "Stage: dev\nName: a b c\nSubnets: [s1, ' s2 ', '']\nFlag: true\nRatio: 1.5\nGone: ~\n",
        )
        .unwrap();
        fs::write(d.join("sub/inc.toml"), "Stage = \"from-toml\"\nCount = 3\n").unwrap();
        fs::write(
            d.join("sub/list.yaml"),
            "- A=1 B=2\n- {C: 3}\n- $include: file://inc.toml\n",
        )
        .unwrap();
        fs::write(
            d.join("top.yaml"),
            "$include: [file://base.yaml, file://sub/list.yaml]\nLast: \"'quoted'\"\n",
        )
        .unwrap();
        let got = resolve(&text(&["file://top.yaml", "Count=9"]), d).unwrap();
        assert_eq!(
            got,
            pairs(&[
                ("Stage", "from-toml"),
                ("Name", "a b c"),
                ("Subnets", "s1,s2"),
                ("Flag", "True"),
                ("Ratio", "1.5"),
                ("Gone", ""),
                ("A", "1"),
                ("B", "2"),
                ("C", "3"),
                ("Count", "9"),
                ("Last", "quoted"),
            ])
        );
    }

    #[test]
    fn parameter_file_errors_are_sams() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let err = |item: &str| resolve(&text(&[item]), d).unwrap_err().0;
        assert_eq!(
            err("file://missing.yaml"),
            "Invalid value for '--parameter-overrides': file://missing.yaml was not found or is a directory"
        );
        fs::write(d.join("p.json"), "{}").unwrap();
        assert_eq!(
            err("file://p.json"),
            "Invalid value for '--parameter-overrides': file://p.json uses an unsupported extension"
        );
        fs::write(d.join("loop.yaml"), "$include: file://loop.yaml\n").unwrap();
        assert_eq!(
            err("file://loop.yaml"),
            format!(
                "Invalid value for '--parameter-overrides': Infinite recursion detected in file references: {}",
                d.join("loop.yaml").display()
            )
        );
        fs::write(d.join("bad.yaml"), "$include: 3\n").unwrap();
        assert_eq!(
            err("file://bad.yaml"),
            "Invalid value for '--parameter-overrides': $include must be a string or list of strings, got int"
        );
        fs::write(
            d.join("twice.yaml"),
            "$include: [file://a.yaml, file://a.yaml]\n",
        )
        .unwrap();
        fs::write(d.join("a.yaml"), "A: 1\n").unwrap();
        assert_eq!(
            resolve(&text(&["file://twice.yaml"]), d).unwrap(),
            pairs(&[("A", "1")])
        );
    }
}
