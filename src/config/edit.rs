//! The edit model of samconfig: what `deploy --guided` saves, written the way sam's
//! `GuidedConfig.save_config` writes it, changing only `[env.deploy.parameters]` (and `region` in
//! `[env.global.parameters]`) while every comment, other environment, other command and unknown
//! key stays byte for byte. The new file replaces the old one atomically, and a file that does
//! not parse is never overwritten.

use std::fs;
use std::io;
use std::path::Path;

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, TableLike, Value};

use super::read::{self, SamConfig};
use super::{ConfigError, ConfigValue, Format, GLOBAL, SAM_CONFIG_VERSION, SECTION};
use atomic::write_atomically;

mod atomic;

/// The command guided deploy saves under.
const DEPLOY: &str = "deploy";
/// The one list sam saves as a TOML array (every other list is joined with spaces).
const IMAGE_REPOSITORIES: &str = "image_repositories";

/// Saves guided deploy's answers into `[env.deploy.parameters]` of a TOML samconfig, in the
/// given order, as sam does: falsy values are left out (except `image_repositories`, written
/// even when empty), lists are joined with spaces (except `image_repositories`, a TOML array),
/// `region` is also written to `[env.global.parameters]`, and a deploy value equal to the global
/// one is removed from the deploy table. Keys already in the table keep their place and
/// comments. `version = 0.1` is added to a new or empty file. YAML files are refused with
/// [`ConfigError::YamlNotEditable`].
pub fn save_deploy_parameters(
    path: &Path,
    env: &str,
    values: &[(&str, ConfigValue)],
) -> Result<(), ConfigError> {
    edit_toml(path, |doc| {
        for (key, value) in values {
            if !value.is_truthy() && *key != IMAGE_REPOSITORIES {
                continue;
            }
            let value = toml_value(key, value);
            put(doc, path, [env, DEPLOY, SECTION], key, &value)?;
            deduplicate(doc, env, key);
            if *key == "region" {
                put(doc, path, [env, GLOBAL, SECTION], key, &value)?;
            }
        }
        Ok(())
    })
}

/// `--save-params`: writes the options given on the command line into
/// `[env.<command>.parameters]` as sam's `save_command_line_args_to_config` does (every value,
/// false ones too; a mapping becomes a `[env.<command>.parameters.<key>]` table, a list a TOML
/// array) and `region` into `[env.global.parameters]`. Comments and other tables are kept and the
/// write is atomic, as for [`save_deploy_parameters`]. YAML files are refused.
pub fn save_command_parameters(
    path: &Path,
    env: &str,
    command: &str,
    values: &[(&str, ConfigValue)],
    region: Option<&str>,
) -> Result<(), ConfigError> {
    edit_toml(path, |doc| {
        for (key, value) in values {
            let item = match value {
                ConfigValue::Map(entries) => {
                    let mut table = Table::new();
                    for (k, v) in entries {
                        table.insert(k, Item::Value(basic_string(v)));
                    }
                    Item::Table(table)
                }
                ConfigValue::List(items) => Item::Value(Value::Array(
                    items.iter().map(|s| basic_string(s)).collect::<Array>(),
                )),
                other => Item::Value(toml_value(key, other)),
            };
            put_item(doc, path, [env, command, SECTION], key, item)?;
        }
        if let Some(region) = region {
            put(
                doc,
                path,
                [env, GLOBAL, SECTION],
                "region",
                &basic_string(region),
            )?;
        }
        Ok(())
    })
}

/// Reads (or starts) a TOML samconfig, checks it as sam would, lets `change` edit it, and
/// replaces the file atomically. A file that does not parse is never overwritten.
fn edit_toml(
    path: &Path,
    change: impl FnOnce(&mut DocumentMut) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    if Format::of(path)? == Format::Yaml {
        return Err(ConfigError::YamlNotEditable {
            path: path.to_path_buf(),
        });
    }
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(ConfigError::io("read", path, source)),
    };
    let mut doc = read::parse_toml(path, &text)?;
    // sam refuses to touch a file whose version or layout it cannot read; so do we.
    SamConfig::from_toml(path, &doc)?;
    add_version(&mut doc);
    change(&mut doc)?;
    let mut output = doc.to_string();
    // toml_edit ends every line with a newline; a file that had no final newline keeps none.
    if !text.is_empty() && !text.ends_with('\n') && output.ends_with('\n') {
        output.pop();
    }
    write_atomically(path, output.as_bytes())
}

/// sam's `K="v" K2="v2"` form of parameter overrides, with `"` in values escaped as `\"`.
pub fn format_parameter_overrides(overrides: &[(String, String)]) -> String {
    overrides
        .iter()
        .map(|(key, value)| format!("{key}=\"{}\"", value.replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The TOML form sam (tomlkit) gives a saved value.
fn toml_value(key: &str, value: &ConfigValue) -> Value {
    match value {
        ConfigValue::List(items) if key == IMAGE_REPOSITORIES => {
            Value::Array(items.iter().map(|s| basic_string(s)).collect::<Array>())
        }
        ConfigValue::List(items) => basic_string(&items.join(" ")),
        map @ ConfigValue::Map(_) => basic_string(&map.to_string()),
        ConfigValue::String(s) => basic_string(s),
        ConfigValue::Bool(b) => Value::from(*b),
        ConfigValue::Int(i) => Value::from(*i),
        ConfigValue::Float(f) => Value::from(*f),
    }
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

/// Sets `key` in the table at `names`, creating the tables it needs; an existing key keeps its
/// place and the whitespace and comments around its value.
fn put(
    doc: &mut DocumentMut,
    path: &Path,
    names: [&str; 3],
    key: &str,
    value: &Value,
) -> Result<(), ConfigError> {
    put_item(doc, path, names, key, Item::Value(value.clone()))
}

/// [`put`] for any item (a value or a sub-table).
fn put_item(
    doc: &mut DocumentMut,
    path: &Path,
    names: [&str; 3],
    key: &str,
    item: Item,
) -> Result<(), ConfigError> {
    let table = table_at(doc, path, names)?;
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

/// The table at a dotted path, created when missing: `[env.deploy.parameters]` as a header
/// with its parents implicit, or an inline table inside an inline parent.
fn table_at<'d>(
    doc: &'d mut DocumentMut,
    path: &Path,
    names: [&str; 3],
) -> Result<&'d mut dyn TableLike, ConfigError> {
    let not_a_table = |depth: usize| ConfigError::NotATable {
        path: path.to_path_buf(),
        key: names[..depth].join("."),
    };
    let mut item = doc.as_item_mut();
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

/// sam's `_deduplicate_global_parameters`: a deploy value equal to a (truthy) global one is
/// kept only in the global table.
fn deduplicate(doc: &mut DocumentMut, env: &str, key: &str) {
    let value_at = |doc: &DocumentMut, command: &str| {
        let item = doc.get(env)?.get(command)?.get(SECTION)?.get(key)?;
        read::item_value(item)
    };
    let Some(global) = value_at(doc, GLOBAL) else {
        return;
    };
    if global.is_truthy() && value_at(doc, DEPLOY).as_ref() == Some(&global) {
        let table = doc
            .get_mut(env)
            .and_then(|e| e.get_mut(DEPLOY))
            .and_then(|c| c.get_mut(SECTION))
            .and_then(Item::as_table_like_mut);
        if let Some(table) = table {
            table.remove(key);
        }
    }
}

/// `version = 0.1` at the top of a document that has none (only a new or empty one, since the
/// version was checked before). Comments of an otherwise empty file stay above it.
fn add_version(doc: &mut DocumentMut) {
    if doc.contains_key("version") {
        return;
    }
    if doc.is_empty() {
        let comments = doc.trailing().as_str().unwrap_or_default().to_string();
        doc.decor_mut().set_prefix(comments);
        doc.set_trailing("");
    }
    doc.insert("version", Item::Value(Value::from(SAM_CONFIG_VERSION)));
}

#[cfg(test)]
mod tests {
    use super::*;

    const URI1: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com/helloworldstack925976eb/testfunction0150919004repo";
    const URI2: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com/helloworldstack925976eb/anothertestfunction025c2cfd8crepo";

    /// What guided deploy passes for sam-cli.md 4.5's first run (falsy values included, as
    /// sam's kwargs are).
    fn guided_values() -> Vec<(&'static str, ConfigValue)> {
        let s = |v: &str| ConfigValue::String(v.to_string());
        vec![
            ("stack_name", s("Hello-World-Stack")),
            ("resolve_s3", ConfigValue::Bool(true)),
            ("s3_prefix", s("Hello-World-Stack")),
            ("resolve_image_repos", ConfigValue::Bool(false)),
            ("region", s("us-west-2")),
            ("profile", s("")),
            ("confirm_changeset", ConfigValue::Bool(true)),
            (
                "capabilities",
                ConfigValue::List(vec!["CAPABILITY_IAM".into()]),
            ),
            ("disable_rollback", ConfigValue::Bool(false)),
            (
                "parameter_overrides",
                s(&format_parameter_overrides(&[(
                    "Stage".into(),
                    "dev".into(),
                )])),
            ),
            (
                "image_repositories",
                ConfigValue::List(vec![
                    format!("TestFunction01={URI1}"),
                    format!("AnotherTestFunction02={URI2}"),
                ]),
            ),
        ]
    }

    fn first_save_expected() -> String {
        format!(
            "version = 0.1\n\n[default.deploy.parameters]\nstack_name = \"Hello-World-Stack\"\nresolve_s3 = true\n\
             s3_prefix = \"Hello-World-Stack\"\nregion = \"us-west-2\"\nconfirm_changeset = true\n\
             capabilities = \"CAPABILITY_IAM\"\nparameter_overrides = \"Stage=\\\"dev\\\"\"\n\
             image_repositories = [\"TestFunction01={URI1}\", \"AnotherTestFunction02={URI2}\"]\n\n\
             [default.global.parameters]\nregion = \"us-west-2\"\n"
        )
    }

    #[test]
    fn first_and_second_guided_saves_match_sam() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.toml");
        save_deploy_parameters(&path, "default", &guided_values()).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), first_save_expected());

        save_deploy_parameters(&path, "default", &guided_values()).unwrap();
        let second = first_save_expected().replace("region = \"us-west-2\"\nconfirm", "confirm");
        assert_eq!(fs::read_to_string(&path).unwrap(), second);
    }

    #[test]
    fn only_the_saved_table_changes() {
        let before = "# Managed by hand, mostly.\nversion = 0.1 # sam wants this\n\n\
                      [prod.deploy.parameters]\nstack_name = \"prod-app\"   # do not rename\nregion = \"eu-west-1\"\n\n\
                      [default.deploy.parameters]\n# the stack\nstack_name = \"old-name\"  # renamed below\n\
                      capabilities = \"CAPABILITY_IAM\"\nunknown_key = 42\n\n\
                      [default.build.parameters]\ncached = true\n\n# trailing notes\n";
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.toml");
        fs::write(&path, before).unwrap();
        let values = [
            ("stack_name", ConfigValue::String("new-name".into())),
            ("region", ConfigValue::String("us-east-1".into())),
            ("resolve_image_repos", ConfigValue::Bool(true)),
        ];
        save_deploy_parameters(&path, "default", &values).unwrap();
        let after = fs::read_to_string(&path).unwrap();
        let expected = "# Managed by hand, mostly.\nversion = 0.1 # sam wants this\n\n\
                      [prod.deploy.parameters]\nstack_name = \"prod-app\"   # do not rename\nregion = \"eu-west-1\"\n\n\
                      [default.deploy.parameters]\n# the stack\nstack_name = \"new-name\"  # renamed below\n\
                      capabilities = \"CAPABILITY_IAM\"\nunknown_key = 42\nregion = \"us-east-1\"\nresolve_image_repos = true\n\n\
                      [default.build.parameters]\ncached = true\n\n\
                      [default.global.parameters]\nregion = \"us-east-1\"\n\n# trailing notes\n";
        assert_eq!(after, expected);

        // A new environment goes after everything else; the rest stays as it was.
        save_deploy_parameters(
            &path,
            "staging",
            &[("stack_name", ConfigValue::String("stg".into()))],
        )
        .unwrap();
        let staged = expected.replace(
            "\n\n# trailing",
            "\n\n[staging.deploy.parameters]\nstack_name = \"stg\"\n\n# trailing",
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), staged);
    }

    #[test]
    fn saved_values_load_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.toml");
        let overrides = [
            ("Stage".to_string(), "dev".to_string()),
            ("Motto".to_string(), "say \"hi\" now".to_string()),
        ];
        let values = [
            ("stack_name", ConfigValue::String("app".into())),
            ("region", ConfigValue::String("eu-west-1".into())),
            (
                "capabilities",
                ConfigValue::List(vec![
                    "CAPABILITY_IAM".into(),
                    "CAPABILITY_AUTO_EXPAND".into(),
                ]),
            ),
            (
                "parameter_overrides",
                ConfigValue::String(format_parameter_overrides(&overrides)),
            ),
            ("image_repositories", ConfigValue::List(Vec::new())),
        ];
        save_deploy_parameters(&path, "dev", &values).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.contains("parameter_overrides = \"Stage=\\\"dev\\\" Motto=\\\"say \\\\\\\"hi\\\\\\\" now\\\"\"\n"), "{text}");
        assert!(text.contains("image_repositories = []\n"), "{text}");

        let p = read::load(&path).unwrap().parameters("dev", "deploy");
        assert_eq!(p["stack_name"].as_string().as_deref(), Some("app"));
        assert_eq!(p["region"].as_string().as_deref(), Some("eu-west-1"));
        assert_eq!(
            p["capabilities"].as_list(),
            ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
        );
        assert_eq!(
            p["parameter_overrides"].as_list(),
            ["Stage=dev", "Motto=say \"hi\" now"]
        );
        assert_eq!(p["image_repositories"], ConfigValue::List(Vec::new()));
    }

    #[test]
    fn parameter_overrides_are_quoted_like_sam() {
        let overrides = [
            ("Stage".to_string(), "dev".to_string()),
            ("Q".to_string(), r#"a "b" c"#.to_string()),
        ];
        assert_eq!(
            format_parameter_overrides(&overrides),
            r#"Stage="dev" Q="a \"b\" c""#
        );
        assert_eq!(format_parameter_overrides(&[]), "");
    }

    #[test]
    fn refuses_files_it_cannot_read() {
        let dir = tempfile::tempdir().unwrap();
        let values = [("stack_name", ConfigValue::String("app".into()))];
        let broken = "[default.deploy.parameters]\nstack_name=my_stack\"\n";
        let path = dir.path().join("samconfig.toml");
        fs::write(&path, broken).unwrap();
        let err = save_deploy_parameters(&path, "default", &values).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::Syntax {
                    location: Some((2, 12)),
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(err.to_string().lines().count(), 1);
        assert_eq!(fs::read_to_string(&path).unwrap(), broken);

        let unversioned = "[default.deploy.parameters]\nstack_name = \"a\"\n";
        fs::write(&path, unversioned).unwrap();
        let err = save_deploy_parameters(&path, "default", &values).unwrap_err();
        assert!(matches!(err, ConfigError::Version { .. }), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), unversioned);

        let yaml = dir.path().join("samconfig.yaml");
        let err = save_deploy_parameters(&yaml, "default", &values).unwrap_err();
        assert!(
            err.to_string()
                .contains("cannot save into a YAML samconfig file; save to samconfig.toml"),
            "{err}"
        );
        assert!(!yaml.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn comment_only_file_gets_the_version_below_its_comments() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.toml");
        fs::write(&path, "# samconfig for the app\n").unwrap();
        save_deploy_parameters(&path, "default", &[("resolve_s3", ConfigValue::Bool(true))])
            .unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# samconfig for the app\nversion = 0.1\n\n[default.deploy.parameters]\nresolve_s3 = true\n"
        );
    }

    #[test]
    fn inline_parameter_tables_are_edited_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.toml");
        fs::write(
            &path,
            "version = 0.1\n[default.deploy]\nparameters = { stack_name = \"a\" }\n",
        )
        .unwrap();
        save_deploy_parameters(
            &path,
            "default",
            &[
                ("stack_name", ConfigValue::String("b".into())),
                ("resolve_s3", ConfigValue::Bool(true)),
            ],
        )
        .unwrap();
        let p = read::load(&path).unwrap().parameters("default", "deploy");
        assert_eq!(p["stack_name"].as_string().as_deref(), Some("b"));
        assert_eq!(p["resolve_s3"].as_bool(), Some(true));
    }

    #[test]
    fn a_file_without_a_final_newline_keeps_none() {
        let source = Path::new(
            "/work/shared/real-world/samconfig/DDC-SIH__lambda-ingest-pipeline__samconfig.toml",
        );
        let before = fs::read_to_string(source).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.toml");
        fs::write(&path, &before).unwrap();
        save_deploy_parameters(
            &path,
            "default",
            &[(
                "stack_name",
                ConfigValue::String("insat3d-processing".into()),
            )],
        )
        .unwrap();
        // The value was already there: the file is unchanged to the byte.
        assert_eq!(fs::read_to_string(&path).unwrap(), before);
        // A value equal to the global one leaves the deploy table, as in sam.
        save_deploy_parameters(
            &path,
            "default",
            &[("stack_name", ConfigValue::String("insat-processing".into()))],
        )
        .unwrap();
        let after = fs::read_to_string(&path).unwrap();
        assert_eq!(
            after,
            before.replace("stack_name = \"insat3d-processing\"\n", "")
        );
        assert!(after.ends_with("warm_containers = \"EAGER\""));
    }
}
