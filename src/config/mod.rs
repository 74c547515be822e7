//! samconfig: the file where `sam deploy --guided` saves its answers and where every later
//! `sam deploy` finds its defaults. samrs must read the same files sam reads (TOML or YAML, the
//! same lookup, the same `[env.command.parameters]` tables merged over `[env.global.parameters]`)
//! and write the same layout sam writes, without disturbing anything else in the file.
//!
//! [`read`] is the read model (a file becomes plain values); [`edit`] is the edit model (one
//! table changes in place, comments and formatting elsewhere survive, the write is atomic).
//! Apart from reading and writing that one file the module is pure.

mod edit;
mod read;

use std::fmt;
use std::path::{Path, PathBuf};

pub use edit::{
    format_parameter_overrides, save_command_parameters, save_deploy_parameters, write_atomically,
};
pub use read::{find_config_file, load, load_tree, parse_str, Node, SamConfig};

/// The samconfig value sam writes when the file has none (`SAM_CONFIG_VERSION`).
const SAM_CONFIG_VERSION: f64 = 0.1;

/// The command whose parameters every other command inherits (sam keeps `region` there too).
const GLOBAL: &str = "global";

/// The only section of a command's table that sam reads.
const SECTION: &str = "parameters";

/// One value from a `[env.command.parameters]` table.
#[derive(Debug, Clone, PartialEq)]
pub enum ConfigValue {
    /// A string, e.g. `stack_name = "app"` or `capabilities = "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"`.
    String(String),
    /// A boolean flag, e.g. `resolve_s3 = true`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// An array, e.g. `image_repositories = ["Fn=uri"]`; items that are not strings are rendered
    /// the way Python's `str()` renders them, and a YAML mapping becomes `key=value` items (how sam
    /// reads a `parameter_overrides` mapping).
    List(Vec<String>),
    /// A table (a TOML sub-table or a YAML mapping), e.g. the `parameter_overrides` table that
    /// `--save-params` writes: keys with their values as text (a list value joined by commas, a
    /// null as the empty string, as sam's `CfnParameterOverridesType` reads them).
    Map(Vec<(String, String)>),
}

impl ConfigValue {
    /// The value as a single string, as click would pass it to a string option; `None` for lists.
    pub fn as_string(&self) -> Option<String> {
        match self {
            ConfigValue::List(_) | ConfigValue::Map(_) => None,
            scalar => Some(scalar.to_string()),
        }
    }

    /// The value as a flag, with click's boolean spellings (`true`/`yes`/`1`/`on`/`t`/`y` and their
    /// opposites, any case) for strings; `None` when it is not a recognisable boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            ConfigValue::Bool(b) => Some(*b),
            ConfigValue::Int(1) => Some(true),
            ConfigValue::Int(0) => Some(false),
            ConfigValue::String(s) => match s.trim().to_ascii_lowercase().as_str() {
                "1" | "true" | "t" | "yes" | "y" | "on" => Some(true),
                "0" | "false" | "f" | "no" | "n" | "off" => Some(false),
                _ => None,
            },
            _ => None,
        }
    }

    /// The value as a multi-value option (capabilities, tags, notification_arns,
    /// parameter_overrides, image_repositories): an array is used as is; a string is split on
    /// whitespace outside quotes, with quotes removed and `\"`, `\'`, `\ ` unescaped, which is what
    /// sam's parsers make of `Stage="dev" Name="a b"` (`["Stage=dev", "Name=a b"]`).
    pub fn as_list(&self) -> Vec<String> {
        match self {
            ConfigValue::List(items) => items.clone(),
            ConfigValue::Map(entries) => entries.iter().map(|(k, v)| format!("{k}={v}")).collect(),
            ConfigValue::String(s) => split_words(s),
            scalar => vec![scalar.to_string()],
        }
    }

    /// Python truthiness, which decides whether sam's `save_config` writes a value at all.
    fn is_truthy(&self) -> bool {
        match self {
            ConfigValue::String(s) => !s.is_empty(),
            ConfigValue::Bool(b) => *b,
            ConfigValue::Int(i) => *i != 0,
            ConfigValue::Float(f) => *f != 0.0,
            ConfigValue::List(items) => !items.is_empty(),
            ConfigValue::Map(entries) => !entries.is_empty(),
        }
    }
}

/// Python's `str()` of the value (lists as space-separated words, as sam joins them).
impl fmt::Display for ConfigValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigValue::String(s) => f.write_str(s),
            ConfigValue::Bool(true) => f.write_str("True"),
            ConfigValue::Bool(false) => f.write_str("False"),
            ConfigValue::Int(i) => write!(f, "{i}"),
            ConfigValue::Float(x) if x.is_finite() && x.fract() == 0.0 => write!(f, "{x:.1}"),
            ConfigValue::Float(x) => write!(f, "{x}"),
            ConfigValue::List(items) => f.write_str(&items.join(" ")),
            ConfigValue::Map(_) => f.write_str(&self.as_list().join(" ")),
        }
    }
}

/// Splits a multi-value string the way sam's option parsers do: whitespace separates words
/// unless quoted; wrapping quotes go; a backslash escapes a quote or a space.
fn split_words(s: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quote) {
            ('\\', _) if matches!(chars.peek(), Some('"' | '\'' | ' ')) => {
                let escaped = chars.next().unwrap_or(c);
                word.get_or_insert_with(String::new).push(escaped);
            }
            (c, Some(q)) if c == q => quote = None,
            ('"' | '\'', None) => {
                quote = Some(c);
                word.get_or_insert_with(String::new);
            }
            (c, None) if c.is_whitespace() => words.extend(word.take()),
            (c, _) => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    words
}

/// The two syntaxes sam reads samconfig in, chosen by file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Toml,
    Yaml,
}

impl Format {
    /// sam's `FILE_MANAGER_MAPPER`: `.toml`, `.yaml`, `.yml`; anything else is refused.
    fn of(path: &Path) -> Result<Format, ConfigError> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("toml") => Ok(Format::Toml),
            Some("yaml" | "yml") => Ok(Format::Yaml),
            _ => Err(ConfigError::UnsupportedExtension {
                path: path.to_path_buf(),
            }),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Format::Toml => "TOML",
            Format::Yaml => "YAML",
        }
    }
}

/// Why a samconfig file could not be read or saved.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Reading or writing the file failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What samrs was doing ("read", "write", ...).
        action: &'static str,
        /// The file (or the temporary file beside it).
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// The file name does not end in `.toml`, `.yaml` or `.yml`.
    #[error("The config file {} uses an unsupported extension, and cannot be read. Use a .toml, .yaml or .yml file.", path.display())]
    UnsupportedExtension {
        /// The file.
        path: PathBuf,
    },
    /// The file is not valid TOML or YAML.
    #[error(
        "{}{}: invalid {format}: {message}. Fix the syntax, or move the file away and run `samrs deploy --guided` to write a new one.",
        path.display(), Location(*location)
    )]
    Syntax {
        /// The file.
        path: PathBuf,
        /// "TOML" or "YAML".
        format: &'static str,
        /// 1-based line and column, when the parser knows them.
        location: Option<(usize, usize)>,
        /// The parser's description of the problem.
        message: String,
    },
    /// `version` is missing or not a number (sam's `SamConfigVersionException`).
    #[error("{}: 'version' key is not present or is in unrecognized format. Add `version = 0.1` at the top of the file.", path.display())]
    Version {
        /// The file.
        path: PathBuf,
    },
    /// An environment, command or section is not a table.
    #[error("{}: `{key}` must be a table (samconfig's layout is [environment.command.parameters]); fix or remove that key.", path.display())]
    NotATable {
        /// The file.
        path: PathBuf,
        /// The dotted key, e.g. `default.deploy`.
        key: String,
    },
    /// An edit of a YAML file did not read back as the value saved (the file is left as it
    /// was).
    #[error("{}: samrs could not save `{key}` into this file's YAML layout, so the file was left unchanged; move the key's mapping to block style (`key:` and indented lines) and run again.", path.display())]
    Unsaved {
        /// The file.
        path: PathBuf,
        /// The dotted key, e.g. `default.deploy.parameters.stack_name`.
        key: String,
    },
}

impl ConfigError {
    fn io(action: &'static str, path: &Path, source: std::io::Error) -> ConfigError {
        ConfigError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Renders `:line:column` after a file name, or nothing.
struct Location(Option<(usize, usize)>);

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some((line, column)) => write!(f, ":{line}:{column}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_words_follows_sams_parameter_parsing() {
        let words = split_words(r#"Stage="dev" Name="a b""#);
        assert_eq!(words, ["Stage=dev", "Name=a b"]);
        // Single quotes, an escaped quote inside them, and an escaped space outside quotes.
        let words = split_words(r"Project='bods-backend'  Msg='it\'s' Path=a\ b");
        assert_eq!(words, ["Project=bods-backend", "Msg=it's", "Path=a b"]);
        // An empty quoted value still yields the key, and other backslashes are kept.
        assert_eq!(
            split_words(r#"Empty="" Dir=C:\tmp"#),
            ["Empty=", r"Dir=C:\tmp"]
        );
        assert_eq!(
            split_words("  CAPABILITY_IAM\tCAPABILITY_AUTO_EXPAND \n"),
            ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
        );
        assert!(split_words("   ").is_empty());
    }

    #[test]
    fn as_list_uses_arrays_as_is_and_splits_strings() {
        let array = ConfigValue::List(vec!["Name=a b".into(), "X=\"q\"".into()]);
        assert_eq!(array.as_list(), ["Name=a b", "X=\"q\""]);
        let string = ConfigValue::String("CAPABILITY_IAM CAPABILITY_NAMED_IAM".into());
        assert_eq!(string.as_list(), ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]);
        assert_eq!(ConfigValue::Int(5432).as_list(), ["5432"]);
    }

    #[test]
    fn as_bool_accepts_clicks_spellings() {
        assert_eq!(ConfigValue::Bool(true).as_bool(), Some(true));
        assert_eq!(ConfigValue::String("Yes".into()).as_bool(), Some(true));
        assert_eq!(ConfigValue::String(" off ".into()).as_bool(), Some(false));
        assert_eq!(ConfigValue::Int(0).as_bool(), Some(false));
        assert_eq!(ConfigValue::String("maybe".into()).as_bool(), None);
        assert_eq!(ConfigValue::Int(2).as_bool(), None);
    }

    #[test]
    fn as_string_renders_scalars_like_python() {
        assert_eq!(
            ConfigValue::String("app".into()).as_string().as_deref(),
            Some("app")
        );
        assert_eq!(ConfigValue::Int(12).as_string().as_deref(), Some("12"));
        assert_eq!(ConfigValue::Float(2.0).as_string().as_deref(), Some("2.0"));
        assert_eq!(ConfigValue::Float(0.1).as_string().as_deref(), Some("0.1"));
        assert_eq!(ConfigValue::Bool(true).as_string().as_deref(), Some("True"));
        assert_eq!(ConfigValue::List(vec!["a".into()]).as_string(), None);
    }

    #[test]
    fn truthiness_matches_python() {
        assert!(!ConfigValue::Bool(false).is_truthy());
        assert!(!ConfigValue::String(String::new()).is_truthy());
        assert!(!ConfigValue::List(Vec::new()).is_truthy());
        assert!(!ConfigValue::Int(0).is_truthy());
        assert!(ConfigValue::String("x".into()).is_truthy());
    }

    #[test]
    fn format_follows_sams_extensions() {
        assert_eq!(
            Format::of(Path::new("a/samconfig.toml")).unwrap(),
            Format::Toml
        );
        assert_eq!(
            Format::of(Path::new("samconfig.yml")).unwrap(),
            Format::Yaml
        );
        let err = Format::of(Path::new("samconfig.json")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "The config file samconfig.json uses an unsupported extension, and cannot be read. Use a .toml, .yaml or .yml file."
        );
    }
}
