//! The edit model of samconfig: what `deploy --guided` and `--save-params` save, written the way
//! sam's `GuidedConfig.save_config` and `save_command_line_args_to_config` write it, changing
//! only the saved keys while every comment, other environment, other command and unknown key
//! stays byte for byte. TOML files are edited through toml_edit ([`toml`]), YAML files line by
//! line ([`yaml`], with ruamel's value layout from [`ruamel`]). The new file replaces the old one
//! atomically, and a file that does not parse is never overwritten.

use std::fs;
use std::io;
use std::path::Path;

use super::{ConfigError, ConfigValue, Format, GLOBAL, SECTION};
pub use atomic::write_atomically;
use toml::TomlDocument;
use yaml::YamlDocument;

mod atomic;
mod ruamel;
mod toml;
mod yaml;

/// The command guided deploy saves under.
const DEPLOY: &str = "deploy";
/// The one list sam saves as a list (every other list is joined with spaces).
const IMAGE_REPOSITORIES: &str = "image_repositories";

/// A samconfig file being edited, in either syntax.
trait Document {
    /// Sets `key` in the table at `names` (`[env, command, "parameters"]`), creating the tables
    /// it needs; a key already there keeps its place and comment. A list becomes an array (a
    /// sequence), a map a sub-table (a nested mapping).
    fn put(&mut self, names: [&str; 3], key: &str, value: &ConfigValue) -> Result<(), ConfigError>;
    /// The value of `key` in the table at `names`.
    fn value(&self, names: [&str; 3], key: &str) -> Option<ConfigValue>;
    /// Removes `key` from the table at `names`, if there.
    fn remove(&mut self, names: [&str; 3], key: &str);
    /// Adds sam's `version = 0.1` where sam puts it, when the file has none.
    fn add_version(&mut self);
    /// The file's new text.
    fn render(&self) -> String;
}

/// Saves guided deploy's answers into `[env.deploy.parameters]`, in the given order, as sam
/// does: falsy values are left out (except `image_repositories`, written even when empty), lists
/// are joined with spaces (except `image_repositories`, a list), `region` is also written to
/// `[env.global.parameters]`, and a deploy value equal to the global one is removed from the
/// deploy table. Keys already in the table keep their place and comments.
pub fn save_deploy_parameters(
    path: &Path,
    env: &str,
    values: &[(&str, ConfigValue)],
) -> Result<(), ConfigError> {
    edit(path, |doc| {
        for (key, value) in values {
            if !value.is_truthy() && *key != IMAGE_REPOSITORIES {
                continue;
            }
            let value = match value {
                ConfigValue::List(_) if *key == IMAGE_REPOSITORIES => value.clone(),
                ConfigValue::List(_) | ConfigValue::Map(_) => {
                    ConfigValue::String(value.to_string())
                }
                scalar => scalar.clone(),
            };
            doc.put([env, DEPLOY, SECTION], key, &value)?;
            deduplicate(doc, env, key);
            if *key == "region" {
                doc.put([env, GLOBAL, SECTION], key, &value)?;
            }
        }
        Ok(())
    })
}

/// `--save-params`: writes the options given on the command line into
/// `[env.<command>.parameters]` as sam's `save_command_line_args_to_config` does (every value,
/// false ones too; a mapping becomes a sub-table, a list an array) and `region` into
/// `[env.global.parameters]`. Comments and other tables are kept and the write is atomic, as for
/// [`save_deploy_parameters`].
pub fn save_command_parameters(
    path: &Path,
    env: &str,
    command: &str,
    values: &[(&str, ConfigValue)],
    region: Option<&str>,
) -> Result<(), ConfigError> {
    edit(path, |doc| {
        for (key, value) in values {
            doc.put([env, command, SECTION], key, value)?;
        }
        if let Some(region) = region {
            doc.put(
                [env, GLOBAL, SECTION],
                "region",
                &ConfigValue::String(region.to_string()),
            )?;
        }
        Ok(())
    })
}

/// Reads (or starts) a samconfig, checks it as sam would, lets `change` edit it, and replaces
/// the file atomically. A file that does not parse is never overwritten.
fn edit(
    path: &Path,
    change: impl FnOnce(&mut dyn Document) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    let format = Format::of(path)?;
    let text = match fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(ConfigError::io("read", path, source)),
    };
    let mut doc: Box<dyn Document> = match format {
        Format::Toml => Box::new(TomlDocument::parse(path, &text)?),
        Format::Yaml => Box::new(YamlDocument::parse(path, &text)?),
    };
    change(doc.as_mut())?;
    doc.add_version();
    write_atomically(path, doc.render().as_bytes())
}

/// sam's `K="v" K2="v2"` form of parameter overrides, with `"` in values escaped as `\"`.
pub fn format_parameter_overrides(overrides: &[(String, String)]) -> String {
    overrides
        .iter()
        .map(|(key, value)| format!("{key}=\"{}\"", value.replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// sam's `_deduplicate_global_parameters`: a deploy value equal to a (truthy) global one is
/// kept only in the global table.
fn deduplicate(doc: &mut dyn Document, env: &str, key: &str) {
    let Some(global) = doc.value([env, GLOBAL, SECTION], key) else {
        return;
    };
    if global.is_truthy() && doc.value([env, DEPLOY, SECTION], key).as_ref() == Some(&global) {
        doc.remove([env, DEPLOY, SECTION], key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::read;

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
        let broken_yaml = "version: 0.1\ndefault: [unclosed\n";
        fs::write(&yaml, broken_yaml).unwrap();
        let err = save_deploy_parameters(&yaml, "default", &values).unwrap_err();
        assert!(matches!(err, ConfigError::Syntax { .. }), "{err}");
        assert_eq!(fs::read_to_string(&yaml).unwrap(), broken_yaml);
        // Nothing but the two files: no temporary file is left behind.
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
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
