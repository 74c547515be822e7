//! The edit model of a YAML samconfig: the file is changed line by line, only where a saved
//! value goes. A key already in the file keeps its place, its spelling and its comment; a new key
//! goes after the last entry of its mapping; missing mappings are added at the end of their
//! parent; every other line stays as it was, byte for byte. Values are written as ruamel (sam's
//! writer) writes them ([`super::ruamel`]), so a file sam or samrs wrote is saved exactly as sam
//! saves it. (sam re-writes the whole file through ruamel, which also unquotes and re-folds
//! values and re-indents sequences elsewhere in the file; samrs leaves them alone.)
//!
//! The subset of YAML this edits is samconfig's: block mappings of environments, commands and
//! `parameters`. Along the path to a saved key, an empty flow mapping (`parameters: {}`), a
//! null, an anchor (`parameters: &defaults`) and an alias (`parameters: *defaults`, which
//! becomes `<<: *defaults` so that only this environment changes) are handled, and a non-empty
//! flow mapping is rewritten in block style. Whatever is edited is parsed again and checked
//! before anything is written.

use std::path::{Path, PathBuf};

use super::ruamel::{self, INDENT};
use super::Document;
use crate::config::read::SamConfig;
use crate::config::{ConfigError, ConfigValue, Format, SAM_CONFIG_VERSION};

/// A YAML samconfig being edited.
pub(super) struct YamlDocument {
    path: PathBuf,
    lines: Vec<String>,
    final_newline: bool,
    /// `\r\n` when the file uses Windows line ends (kept), else `\n`.
    newline: &'static str,
    /// How far the file indents a nested mapping (2 unless the file does otherwise).
    step: usize,
}

/// The entries of one block mapping: lines `start..end`, keys at column `indent`.
#[derive(Debug, Clone, Copy)]
struct Block {
    start: usize,
    end: usize,
    indent: usize,
}

/// One `key: value` of a block mapping: its line, the end of its value's lines (trailing
/// comments and blank lines excluded), and the byte offset just after its colon.
#[derive(Debug, Clone, Copy)]
struct Entry {
    line: usize,
    end: usize,
    after_colon: usize,
}

impl YamlDocument {
    /// Reads `text` (empty for a new file), refusing what sam would refuse to read.
    pub(super) fn parse(path: &Path, text: &str) -> Result<YamlDocument, ConfigError> {
        SamConfig::parse(path, Format::Yaml, text)?;
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let step = lines
            .iter()
            .filter(|l| is_content(l) && !is_sequence_item(l) && indent(l) > 0)
            .map(|l| indent(l))
            .min()
            .unwrap_or(INDENT);
        Ok(YamlDocument {
            path: path.to_path_buf(),
            final_newline: text.is_empty() || text.ends_with('\n'),
            newline: if text.contains("\r\n") { "\r\n" } else { "\n" },
            lines,
            step,
        })
    }

    /// The document's top-level mapping.
    fn top(&self) -> Block {
        let indent = self
            .lines
            .iter()
            .find(|l| is_content(l) && !is_document_marker(l))
            .map_or(0, |l| indent(l));
        Block {
            start: 0,
            end: self.lines.len(),
            indent,
        }
    }

    /// The entry lines of `block`.
    fn entries(&self, block: Block) -> impl Iterator<Item = usize> + '_ {
        (block.start..block.end).filter(move |&i| {
            let line = &self.lines[i];
            is_content(line)
                && indent(line) == block.indent
                && !is_sequence_item(line)
                && !is_document_marker(line)
        })
    }

    /// The entry of `key` in `block`.
    fn find(&self, block: Block, key: &str) -> Option<Entry> {
        let line = self
            .entries(block)
            .find(|&i| parse_key(&self.lines[i], block.indent).is_some_and(|(k, _)| k == key))?;
        let (_, after_colon) = parse_key(&self.lines[line], block.indent)?;
        let next = (line + 1..block.end)
            .find(|&i| {
                let l = &self.lines[i];
                is_content(l)
                    && (indent(l) < block.indent
                        || (indent(l) == block.indent && !is_sequence_item(l)))
            })
            .unwrap_or(block.end);
        Some(Entry {
            line,
            end: self.trim_end(line + 1, next),
            after_colon,
        })
    }

    /// `end` moved back over trailing comment and blank lines, not before `start`.
    fn trim_end(&self, start: usize, mut end: usize) -> usize {
        while end > start && !is_content(&self.lines[end - 1]) {
            end -= 1;
        }
        end
    }

    /// The nested lines of an entry whose value is a block (or nothing yet), as a mapping.
    fn children(&self, entry: Entry, key_indent: usize) -> Block {
        let start = entry.line + 1;
        let indent = (start..entry.end)
            .map(|i| &self.lines[i])
            .find(|l| is_content(l))
            .map_or(key_indent + self.step, |l| indent(l));
        Block {
            start,
            end: entry.end,
            indent,
        }
    }

    /// The mapping an entry holds, made editable: an empty flow mapping or a null loses its
    /// value, an alias becomes a merge key, a flow mapping is written in block style. Anything
    /// else (a scalar, a sequence) cannot hold keys.
    fn open(
        &mut self,
        entry: Entry,
        key_indent: usize,
        names: &[&str],
    ) -> Result<Block, ConfigError> {
        let line = self.lines[entry.line].clone();
        let (value, comment) = split_comment(&line[entry.after_colon..]);
        let prefix = &line[..entry.after_colon];
        let not_a_mapping = || ConfigError::NotATable {
            path: self.path.clone(),
            key: names.join("."),
        };
        let inner = without_anchor(value);
        let anchor = value[..value.len() - inner.len()].trim_end();
        let child_indent = key_indent + self.step;
        let with_anchor = |rest: &str| {
            let value = [anchor, rest].join(" ");
            match value.trim() {
                "" => format!("{prefix}{comment}"),
                value => format!("{prefix} {value}{comment}"),
            }
        };
        if inner.is_empty() {
            let block = self.children(entry, key_indent);
            let first = (block.start..block.end).find(|&i| is_content(&self.lines[i]));
            return match first {
                Some(i) if is_sequence_item(&self.lines[i]) || block.indent <= key_indent => {
                    Err(not_a_mapping())
                }
                _ => Ok(block),
            };
        }
        let replacement: Vec<String> = if matches!(inner, "{}" | "~" | "null" | "Null" | "NULL") {
            vec![with_anchor("")]
        } else if let Some(alias) = inner.strip_prefix('*') {
            vec![
                with_anchor(""),
                format!("{}<<: *{alias}", " ".repeat(child_indent)),
            ]
        } else if inner.starts_with('{') {
            let flow: Vec<&str> = std::iter::once(value)
                .chain(
                    self.lines[entry.line + 1..entry.end]
                        .iter()
                        .map(String::as_str),
                )
                .collect();
            let mapping = match serde_yaml::from_str::<serde_yaml::Value>(&flow.join("\n")) {
                Ok(serde_yaml::Value::Mapping(mapping)) => mapping,
                _ => return Err(not_a_mapping()),
            };
            let block = serde_yaml::to_string(&mapping).map_err(|_| not_a_mapping())?;
            std::iter::once(with_anchor(""))
                .chain(
                    block
                        .lines()
                        .map(|l| format!("{}{l}", " ".repeat(child_indent))),
                )
                .collect()
        } else {
            return Err(not_a_mapping());
        };
        let added = replacement.len();
        self.lines.splice(entry.line..entry.end, replacement);
        let end = entry.line + added;
        Ok(Block {
            start: entry.line + 1,
            end,
            indent: child_indent,
        })
    }

    /// Adds `name:` as the last entry of `block` and returns its (empty) mapping.
    fn add_mapping(&mut self, block: Block, name: &str) -> Block {
        let at = self.insertion_point(block);
        self.lines.insert(
            at,
            format!("{}{}:", " ".repeat(block.indent), ruamel::key(name)),
        );
        Block {
            start: at + 1,
            end: at + 1,
            indent: block.indent + self.step,
        }
    }

    /// Where a new entry of `block` goes: after its last entry's value (before the comments
    /// and blank lines that follow it), or at its start when it has none (at the end of a
    /// document holding only comments).
    fn insertion_point(&self, block: Block) -> usize {
        let end = self.trim_end(block.start, block.end);
        if end == block.start && block.start == 0 {
            self.lines.len()
        } else {
            end
        }
    }
}

impl Document for YamlDocument {
    /// The text of the document.
    fn render(&self) -> String {
        let mut text = self.lines.join(self.newline);
        if self.final_newline && !self.lines.is_empty() {
            text.push_str(self.newline);
        }
        text
    }

    /// The value of `key` in the mapping at `names` (merge keys applied), as read back.
    fn value(&self, names: [&str; 3], key: &str) -> Option<ConfigValue> {
        let config = SamConfig::parse_draft(&self.path, Format::Yaml, &self.render()).ok()?;
        (names[2] == crate::config::SECTION)
            .then(|| config.own_parameters(names[0], names[1]).get(key).cloned())
            .flatten()
    }

    /// Sets `key` in the mapping at `names`, creating the mappings it needs, and checks that
    /// the file reads back with that value.
    fn put(&mut self, names: [&str; 3], key: &str, value: &ConfigValue) -> Result<(), ConfigError> {
        let mut block = self.top();
        for (depth, name) in names.iter().enumerate() {
            block = match self.find(block, name) {
                Some(entry) => self.open(entry, block.indent, &names[..=depth])?,
                None => self.add_mapping(block, name),
            };
        }
        match self.find(block, key) {
            Some(entry) => {
                let line = &self.lines[entry.line];
                let (_, comment) = split_comment(&line[entry.after_colon..]);
                let lines = ruamel::entry(&line[..entry.after_colon], block.indent, value, comment);
                self.lines.splice(entry.line..entry.end, lines);
            }
            None => {
                let prefix = format!("{}{}:", " ".repeat(block.indent), ruamel::key(key));
                let at = self.insertion_point(block);
                let lines = ruamel::entry(&prefix, block.indent, value, "");
                self.lines.splice(at..at, lines);
            }
        }
        let read_back = self.value(names, key);
        if read_back.as_ref() == Some(value) {
            Ok(())
        } else {
            Err(ConfigError::Unsaved {
                path: self.path.clone(),
                key: names
                    .iter()
                    .chain([&key])
                    .copied()
                    .collect::<Vec<_>>()
                    .join("."),
            })
        }
    }

    /// Removes `key` from the mapping at `names`, if it is written there; a mapping left empty
    /// becomes `{}` (an empty value would read as null, which sam cannot read).
    fn remove(&mut self, names: [&str; 3], key: &str) {
        let mut block = self.top();
        let mut parent = None;
        for name in names {
            let Some(entry) = self.find(block, name) else {
                return;
            };
            let (value, _) = split_comment(&self.lines[entry.line][entry.after_colon..]);
            if !without_anchor(value).is_empty() {
                return;
            }
            parent = Some(entry);
            block = self.children(entry, block.indent);
        }
        let (Some(parent), Some(entry)) = (parent, self.find(block, key)) else {
            return;
        };
        self.lines.drain(entry.line..entry.end);
        let left = Block {
            end: block.end - (entry.end - entry.line),
            ..block
        };
        if self.entries(left).next().is_none() {
            let line = &mut self.lines[parent.line];
            let (value, comment) = split_comment(&line[parent.after_colon..]);
            let rewritten = format!(
                "{} {}{comment}",
                &line[..parent.after_colon],
                [value, "{}"].join(" ").trim()
            );
            *line = rewritten;
        }
    }

    /// `version: 0.1` at the end of a document that has none (only a new or comment-only one,
    /// since sam refuses files without it), where sam adds it.
    fn add_version(&mut self) {
        let top = self.top();
        if self.find(top, "version").is_none() {
            let at = self.insertion_point(top);
            self.lines.insert(
                at,
                format!("{}version: {SAM_CONFIG_VERSION}", " ".repeat(top.indent)),
            );
        }
    }
}

/// The number of leading spaces.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches(' ').len()
}

/// A line holding YAML (not blank, not only a comment).
fn is_content(line: &str) -> bool {
    let trimmed = line.trim_start();
    !trimmed.is_empty() && !trimmed.starts_with('#')
}

/// `- item` (or a lone `-`).
fn is_sequence_item(line: &str) -> bool {
    let trimmed = line.trim_start();
    trimmed == "-" || trimmed.starts_with("- ")
}

/// `---`, `...` or a `%` directive at the start of a line.
fn is_document_marker(line: &str) -> bool {
    let marker = |m: &str| {
        line.strip_prefix(m)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t']))
    };
    marker("---") || marker("...") || line.starts_with('%')
}

/// The key of a `key: value` line whose key starts at `indent`, and the byte offset just after
/// its colon. Quoted keys are unquoted.
fn parse_key(line: &str, indent: usize) -> Option<(String, usize)> {
    let rest = line.get(indent..)?;
    let colon_at = |after: usize| {
        let tail = &rest[after..];
        let spaces = tail.len() - tail.trim_start_matches(' ').len();
        let after_spaces = &tail[spaces..];
        let followed = after_spaces[1..].is_empty() || after_spaces[1..].starts_with([' ', '\t']);
        (after_spaces.starts_with(':') && followed).then_some(indent + after + spaces + 1)
    };
    match rest.chars().next()? {
        quote @ ('"' | '\'') => {
            let mut key = String::new();
            let mut chars = rest.char_indices().skip(1);
            while let Some((i, c)) = chars.next() {
                match c {
                    c if c == quote && quote == '\'' && rest[i + 1..].starts_with('\'') => {
                        key.push('\'');
                        chars.next();
                    }
                    '\\' if quote == '"' => key.extend(chars.next().map(|(_, c)| c)),
                    c if c == quote => return Some((key, colon_at(i + 1)?)),
                    c => key.push(c),
                }
            }
            None
        }
        _ => {
            let end = rest
                .match_indices(':')
                .map(|(i, _)| i)
                .find(|&i| rest[i + 1..].is_empty() || rest[i + 1..].starts_with([' ', '\t']))?;
            let key = rest[..end].trim_end();
            (!key.is_empty() && !key.contains(" #")).then(|| (key.to_string(), indent + end + 1))
        }
    }
}

/// Splits what follows a key's colon into its value and its comment (with the whitespace
/// before the `#`, which is kept when the value changes). Quotes are respected.
fn split_comment(rest: &str) -> (&str, &str) {
    let mut quote = None;
    let mut previous = ' ';
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '#') if previous == ' ' || previous == '\t' => {
                let value = rest[..i].trim_end();
                let gap_start = rest[..i].trim_end().len();
                return (value.trim_start(), &rest[gap_start..]);
            }
            (None, '"' | '\'') if previous == ' ' || previous == '\t' => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        previous = c;
    }
    (rest.trim(), "")
}

/// A value with a leading `&anchor` (and `!tag`) removed.
fn without_anchor(value: &str) -> &str {
    let mut rest = value.trim();
    while rest.starts_with(['&', '!']) {
        rest = rest
            .split_once([' ', '\t'])
            .map_or("", |(_, after)| after)
            .trim_start();
    }
    rest
}

#[cfg(test)]
mod tests {
    use std::fs;

    use serde_json::Value as Json;

    use super::super::{
        format_parameter_overrides, save_command_parameters, save_deploy_parameters,
    };
    use super::*;

    /// Expected bytes made by sam 1.170's own SamConfig and GuidedConfig code
    /// (tests/data/sam-1.170/samconfig-yaml/generate.py).
    fn cases() -> serde_json::Map<String, Json> {
        let text = include_str!("../../../tests/data/sam-1.170/samconfig-yaml/cases.json");
        match serde_json::from_str(text).unwrap() {
            Json::Object(cases) => cases,
            _ => panic!("cases.json is an object"),
        }
    }

    fn s(v: &str) -> ConfigValue {
        ConfigValue::String(v.to_string())
    }

    /// The answers generate.py's GUIDED_FIRST gives sam, as guided deploy passes them.
    fn guided(
        stack: &str,
        region: &str,
        image_repositories: &[&str],
    ) -> Vec<(&'static str, ConfigValue)> {
        let overrides = [
            ("Stage".into(), "dev".into()),
            ("Motto".into(), "say \"hi\"".into()),
        ];
        vec![
            ("stack_name", s(stack)),
            ("s3_prefix", s("Hello-World-Stack")),
            ("resolve_s3", ConfigValue::Bool(true)),
            ("resolve_image_repos", ConfigValue::Bool(false)),
            ("region", s(region)),
            ("profile", s("")),
            ("confirm_changeset", ConfigValue::Bool(true)),
            (
                "capabilities",
                ConfigValue::List(vec!["CAPABILITY_IAM".into()]),
            ),
            ("disable_rollback", ConfigValue::Bool(false)),
            (
                "parameter_overrides",
                s(&format_parameter_overrides(&overrides)),
            ),
            (
                "image_repositories",
                ConfigValue::List(image_repositories.iter().map(|r| r.to_string()).collect()),
            ),
        ]
    }

    const REPO: &str = "TestFunction01=123456789012.dkr.ecr.us-west-2.amazonaws.com/repo1";

    /// Runs `save` on the case's `before` text and returns the file's new text.
    fn saved(case: &Json, save: impl FnOnce(&Path)) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.yaml");
        if let Some(before) = case["before"].as_str() {
            fs::write(&path, before).unwrap();
        }
        save(&path);
        fs::read_to_string(&path).unwrap()
    }

    #[test]
    fn every_scalar_is_written_as_ruamel_writes_it() {
        let cases = cases();
        let scalars: Vec<_> = cases
            .iter()
            .filter(|(name, _)| name.starts_with("scalar-"))
            .collect();
        assert!(scalars.len() > 60);
        for (name, case) in scalars {
            let value = case["value"].as_str().unwrap();
            let values = [
                ("parameter_overrides", s(value)),
                (
                    "image_repositories",
                    ConfigValue::List(vec![value.into(), "b".into()]),
                ),
                ("tags", ConfigValue::Map(vec![("K".into(), value.into())])),
                ("a_much_longer_key_name_to_move_the_column_right", s(value)),
            ];
            let text = saved(case, |path| {
                save_command_parameters(path, "default", "deploy", &values, None).unwrap()
            });
            assert_eq!(
                text,
                case["expected"].as_str().unwrap(),
                "{name}: {value:?}"
            );
        }
    }

    #[test]
    fn first_second_and_other_environment_guided_saves_match_sam() {
        let cases = cases();
        let first = &cases["guided-first"];
        let text = saved(first, |path| {
            save_deploy_parameters(
                path,
                "default",
                &guided("Hello-World-Stack", "us-west-2", &[REPO]),
            )
            .unwrap()
        });
        assert_eq!(text, first["expected"].as_str().unwrap());
        let second = &cases["guided-second"];
        let text = saved(second, |path| {
            save_deploy_parameters(
                path,
                "default",
                &guided("Hello-World-Stack", "us-west-2", &[REPO]),
            )
            .unwrap()
        });
        assert_eq!(text, second["expected"].as_str().unwrap());
        let staging = &cases["guided-other-env"];
        let text = saved(staging, |path| {
            save_deploy_parameters(path, "staging", &guided("stg", "eu-west-1", &[])).unwrap()
        });
        assert_eq!(text, staging["expected"].as_str().unwrap());
    }

    #[test]
    fn save_params_first_and_second_match_sam() {
        let values = [
            ("stack_name", s("app")),
            (
                "capabilities",
                ConfigValue::List(vec![
                    "CAPABILITY_IAM".into(),
                    "CAPABILITY_AUTO_EXPAND".into(),
                ]),
            ),
            (
                "parameter_overrides",
                ConfigValue::Map(vec![
                    ("Stage".into(), "dev".into()),
                    ("Port".into(), "5432".into()),
                ]),
            ),
            ("confirm_changeset", ConfigValue::Bool(false)),
            ("tags", ConfigValue::Map(Vec::new())),
            ("notification_arns", ConfigValue::List(Vec::new())),
        ];
        let cases = cases();
        for name in ["save-params-first", "save-params-second"] {
            let case = &cases[name];
            let text = saved(case, |path| {
                save_command_parameters(path, "default", "deploy", &values, Some("us-east-1"))
                    .unwrap()
            });
            assert_eq!(text, case["expected"].as_str().unwrap(), "{name}");
        }
    }

    /// sam re-writes a hand-written file through ruamel (unquoting, re-folding, re-indenting);
    /// samrs changes only the saved lines. Both must mean the same.
    #[test]
    fn real_world_files_mean_what_sam_saves_and_keep_their_other_lines() {
        let cases = cases();
        let real: Vec<_> = cases
            .iter()
            .filter(|(name, _)| name.starts_with("real-guided-"))
            .collect();
        assert_eq!(real.len(), 6);
        let path = Path::new("samconfig.yaml");
        for (name, case) in real {
            let before = case["before"].as_str().unwrap();
            let text = saved(case, |path| {
                save_deploy_parameters(
                    path,
                    "default",
                    &guided("Hello-World-Stack", "us-west-2", &[REPO]),
                )
                .unwrap()
            });
            let ours = SamConfig::parse(path, Format::Yaml, &text).unwrap();
            let sams =
                SamConfig::parse(path, Format::Yaml, case["expected"].as_str().unwrap()).unwrap();
            assert_eq!(ours, sams, "{name}");
            for line in before
                .lines()
                .filter(|l| l.trim_start().starts_with('#') || l.contains(" #"))
            {
                assert!(text.contains(line), "{name} lost {line:?}");
            }
            // Outside the saved environment nothing moves.
            let tail = |t: &str| t.split_once("\nprod:").map(|(_, rest)| rest.to_string());
            if let Some(prod) = tail(before) {
                assert!(text.contains(&prod), "{name}: prod changed");
            }
        }
    }

    #[test]
    fn comments_anchors_aliases_and_flow_mappings_survive() {
        let before = "# Deploy settings for the app.\nversion: 0.1   # sam wants this\n\n\
                      default:\n  deploy:\n    parameters: &base   # shared\n      # the stack\n      stack_name: 'old'  # renamed below\n\
                      \x20     capabilities:\n        - CAPABILITY_IAM\n      tags: {team: core}\n  global:\n    parameters: {}\n\n\
                      prod:\n  deploy:\n    parameters: *base\n\n# trailing notes\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.yaml");
        fs::write(&path, before).unwrap();
        let values = [
            ("stack_name", s("new")),
            (
                "capabilities",
                ConfigValue::List(vec![
                    "CAPABILITY_IAM".into(),
                    "CAPABILITY_AUTO_EXPAND".into(),
                ]),
            ),
            ("region", s("eu-west-1")),
        ];
        save_deploy_parameters(&path, "default", &values).unwrap();
        save_deploy_parameters(&path, "prod", &[("stack_name", s("prod-app"))]).unwrap();
        let after = fs::read_to_string(&path).unwrap();
        let expected = "# Deploy settings for the app.\nversion: 0.1   # sam wants this\n\n\
                      default:\n  deploy:\n    parameters: &base   # shared\n      # the stack\n      stack_name: new  # renamed below\n\
                      \x20     capabilities: CAPABILITY_IAM CAPABILITY_AUTO_EXPAND\n      tags: {team: core}\n      region: eu-west-1\n  global:\n    parameters:\n      region: eu-west-1\n\n\
                      prod:\n  deploy:\n    parameters:\n      <<: *base\n      stack_name: prod-app\n\n# trailing notes\n";
        assert_eq!(after, expected);
        let config = crate::config::load(&path).unwrap();
        assert_eq!(
            config.parameters("prod", "deploy")["capabilities"]
                .as_list()
                .len(),
            2
        );

        // A flow mapping on the way is rewritten in block style; a scalar cannot hold keys.
        fs::write(
            &path,
            "version: 0.1\ndefault: {deploy: {parameters: {stack_name: a}}}\n",
        )
        .unwrap();
        save_deploy_parameters(&path, "default", &[("region", s("us-east-1"))]).unwrap();
        let config = crate::config::load(&path).unwrap();
        let p = config.parameters("default", "deploy");
        assert_eq!(p["stack_name"], s("a"));
        assert_eq!(p["region"], s("us-east-1"));
        let before = "version: 0.1\ndefault:\n  deploy: oops\n";
        fs::write(&path, before).unwrap();
        let err = save_deploy_parameters(&path, "default", &[("region", s("x"))]).unwrap_err();
        assert!(matches!(err, ConfigError::NotATable { .. }), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), before);
    }

    #[test]
    fn windows_line_ends_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.yaml");
        fs::write(&path, "version: 0.1\r\ndefault:\r\n  deploy:\r\n    parameters:\r\n      stack_name: a # mine\r\n").unwrap();
        save_deploy_parameters(
            &path,
            "default",
            &[
                ("stack_name", s("b")),
                ("resolve_s3", ConfigValue::Bool(true)),
            ],
        )
        .unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "version: 0.1\r\ndefault:\r\n  deploy:\r\n    parameters:\r\n      stack_name: b # mine\r\n      resolve_s3: true\r\n"
        );
    }

    #[test]
    fn a_file_without_a_final_newline_keeps_none_and_empty_files_start_fresh() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.yml");
        fs::write(
            &path,
            "version: 0.1\ndefault:\n  deploy:\n    parameters:\n      stack_name: a",
        )
        .unwrap();
        save_deploy_parameters(&path, "default", &[("stack_name", s("b"))]).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "version: 0.1\ndefault:\n  deploy:\n    parameters:\n      stack_name: b"
        );
        fs::write(&path, "# settings\n").unwrap();
        save_deploy_parameters(&path, "default", &[("stack_name", s("b"))]).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# settings\ndefault:\n  deploy:\n    parameters:\n      stack_name: b\nversion: 0.1\n"
        );
    }
}
