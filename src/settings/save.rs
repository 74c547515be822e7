//! `--save-params`: what sam writes to samconfig — the options given on the command line, in the
//! order they were given, with their parsed values (mappings as tables, lists as arrays), under
//! `[env.<command>.parameters]`, and the region under `[env.global.parameters]`. The config file
//! and environment options, `--output`, `--profile`, `--debug`, `--beta-features` and `--guided`
//! are never saved (sam's `--profile`, `--region` and `--debug` are not command parameters;
//! saving `guided` would make every later run interactive).

use std::path::{Path, PathBuf};

use super::{DeleteSettings, DeploySettings};
use crate::config::ConfigValue;

/// What `--save-params` writes for `deploy`, given the command-line option ids in the order they
/// were typed (clap ids: field names such as `stack_name`, `no_confirm_changeset`).
pub fn deploy_entries(s: &DeploySettings, given: &[String]) -> Vec<(&'static str, ConfigValue)> {
    let string = |v: &Option<String>| v.clone().map(ConfigValue::String);
    let text = |v: &str| Some(ConfigValue::String(v.to_string()));
    let boolean = |b: bool| Some(ConfigValue::Bool(b));
    let list = |v: &[String]| Some(ConfigValue::List(v.to_vec()));
    let map = |v: &[(String, String)]| Some(ConfigValue::Map(v.to_vec()));
    let mut entries: Vec<(&'static str, ConfigValue)> = Vec::new();
    for id in given {
        let (key, value) = match id.as_str() {
            "template_file" => (
                "template_file",
                text(&s.template_file.display().to_string()),
            ),
            "stack_name" => ("stack_name", text(&s.stack_name)),
            "s3_bucket" => ("s3_bucket", string(&s.s3_bucket)),
            "s3_prefix" => ("s3_prefix", string(&s.s3_prefix)),
            "resolve_s3" | "no_resolve_s3" => ("resolve_s3", boolean(s.resolve_s3)),
            "image_repository" => ("image_repository", string(&s.image_repository)),
            "image_repositories" => (
                "image_repositories",
                Some(ConfigValue::Map(
                    s.image_repositories
                        .iter()
                        .map(|(k, v)| (k.clone(), v.clone()))
                        .collect(),
                )),
            ),
            "resolve_image_repos" => ("resolve_image_repos", boolean(s.resolve_image_repos)),
            "image_repos_keep_last" => (
                "image_repos_keep_last",
                s.repo_settings
                    .keep_last_images
                    .map(|n| ConfigValue::Int(n.into())),
            ),
            "image_repos_expire_untagged_days" => (
                "image_repos_expire_untagged_days",
                s.repo_settings
                    .expire_untagged_days
                    .map(|n| ConfigValue::Int(n.into())),
            ),
            "image_repos_scan_on_push" => (
                "image_repos_scan_on_push",
                boolean(s.repo_settings.scan_on_push),
            ),
            "image_repos_immutable_tags" => (
                "image_repos_immutable_tags",
                boolean(s.repo_settings.immutable_tags),
            ),
            "image_repos_kms_key" => ("image_repos_kms_key", string(&s.repo_settings.kms_key)),
            "kms_key_id" => ("kms_key_id", string(&s.kms_key_id)),
            "role_arn" => ("role_arn", string(&s.role_arn)),
            "notification_arns" => ("notification_arns", list(&s.notification_arns)),
            "tags" => ("tags", map(&s.tags)),
            "parameter_overrides" => ("parameter_overrides", map(&s.parameter_overrides)),
            "capabilities" => ("capabilities", list(&s.capabilities)),
            "no_execute_changeset" => ("no_execute_changeset", boolean(s.no_execute_changeset)),
            "fail_on_empty_changeset" | "no_fail_on_empty_changeset" => (
                "fail_on_empty_changeset",
                boolean(s.fail_on_empty_changeset),
            ),
            "confirm_changeset" | "no_confirm_changeset" => {
                ("confirm_changeset", boolean(s.confirm_changeset))
            }
            "disable_rollback" | "no_disable_rollback" => {
                ("disable_rollback", boolean(s.disable_rollback))
            }
            "force_upload" => ("force_upload", boolean(s.force_upload)),
            "on_failure" => ("on_failure", text(&s.on_failure.to_string())),
            "max_wait_duration" => (
                "max_wait_duration",
                Some(ConfigValue::Int(
                    i64::try_from(s.max_wait.as_secs().div_ceil(60)).unwrap_or(i64::MAX),
                )),
            ),
            "express" | "no_express" => ("express", boolean(s.express)),
            // As guided saves them (one string sam and samrs read back), not as sam's
            // --save-params writes its parsed form (a nested table its own reader refuses).
            "signing_profiles" => (
                "signing_profiles",
                text(&super::format_signing_profiles(&s.signing_profiles)),
            ),
            "metadata" => ("metadata", map(&s.metadata)),
            "use_json" => ("use_json", boolean(s.use_json)),
            "no_progressbar" => ("no_progressbar", boolean(s.no_progressbar)),
            "wait_for_cleanup" => ("wait_for_cleanup", boolean(s.wait_for_cleanup)),
            "language_extensions" => ("language_extensions", boolean(true)),
            "no_language_extensions" => ("language_extensions", boolean(false)),
            _ => continue,
        };
        if let Some(value) = value {
            push(&mut entries, key, value);
        }
    }
    entries
}

/// What `--save-params` writes for `delete`.
pub fn delete_entries(s: &DeleteSettings, given: &[String]) -> Vec<(&'static str, ConfigValue)> {
    let mut entries = Vec::new();
    for id in given {
        let (key, value) = match id.as_str() {
            "stack_name" => ("stack_name", s.stack_name.clone().map(ConfigValue::String)),
            "s3_bucket" => ("s3_bucket", s.s3_bucket.clone().map(ConfigValue::String)),
            "s3_prefix" => ("s3_prefix", s.s3_prefix.clone().map(ConfigValue::String)),
            "no_prompts" => ("no_prompts", Some(ConfigValue::Bool(s.no_prompts))),
            "express" | "no_express" => ("express", Some(ConfigValue::Bool(s.express))),
            _ => continue,
        };
        if let Some(value) = value {
            push(&mut entries, key, value);
        }
    }
    entries
}

/// A key given twice (`--confirm-changeset --no-confirm-changeset`) is saved once, in its first
/// place, with the value in force.
fn push(entries: &mut Vec<(&'static str, ConfigValue)>, key: &'static str, value: ConfigValue) {
    match entries.iter_mut().find(|(k, _)| *k == key) {
        Some(existing) => existing.1 = value,
        None => entries.push((key, value)),
    }
}

/// The file `--save-params` writes: the samconfig file that was read, else `--config-file` (or
/// `samconfig.toml`) in the directory samconfig is looked for in.
pub fn target_file(read: Option<&Path>, dir: &Path, explicit: Option<&Path>) -> PathBuf {
    match read {
        Some(path) => path.to_path_buf(),
        None => dir.join(explicit.unwrap_or(Path::new("samconfig.toml"))),
    }
}

/// The keys, for the one line that says what was saved (values may hold secrets).
pub fn summary(entries: &[(&str, ConfigValue)], region: Option<&str>) -> String {
    let mut keys: Vec<&str> = entries.iter().map(|(k, _)| *k).collect();
    if region.is_some() {
        keys.push("region");
    }
    keys.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_follow_the_command_line_and_pairs_collapse() {
        use clap::Parser;
        let cli = crate::cli::Cli::parse_from([
            "samrs",
            "deploy",
            "--stack-name",
            "s1",
            "--no-confirm-changeset",
            "--parameter-overrides",
            "A=1",
            "B=x y",
            "--capabilities",
            "CAPABILITY_IAM,CAPABILITY_AUTO_EXPAND",
            "--confirm-changeset",
            "--region",
            "eu-west-1",
            "--debug",
        ]);
        let crate::cli::Command::Deploy(args) = cli.command else {
            panic!("deploy expected")
        };
        let settings =
            super::super::merge(&args, &indexmap::IndexMap::new(), Path::new("/p"), None).unwrap();
        let given: Vec<String> = [
            "stack_name",
            "no_confirm_changeset",
            "parameter_overrides",
            "capabilities",
            "confirm_changeset",
            "region",
            "debug",
        ]
        .map(String::from)
        .to_vec();
        let entries = deploy_entries(&settings, &given);
        let pair = |k: &str, v: &str| (k.to_string(), v.to_string());
        assert_eq!(
            entries,
            [
                ("stack_name", ConfigValue::String("s1".into())),
                ("confirm_changeset", ConfigValue::Bool(true)),
                (
                    "parameter_overrides",
                    ConfigValue::Map(vec![pair("A", "1"), pair("B", "x y")])
                ),
                (
                    "capabilities",
                    ConfigValue::List(vec![
                        "CAPABILITY_IAM".into(),
                        "CAPABILITY_AUTO_EXPAND".into()
                    ])
                ),
            ]
        );
        assert_eq!(
            summary(&entries, Some("eu-west-1")),
            "stack_name, confirm_changeset, parameter_overrides, capabilities, region"
        );
    }

    #[test]
    fn failure_wait_express_and_signing_options_are_saved_as_they_read_back() {
        use clap::Parser;
        let argv = [
            "samrs",
            "deploy",
            "--stack-name",
            "s1",
            "--on-failure",
            "DELETE",
            "--max-wait-duration",
            "5",
            "--express",
            "--signing-profiles",
            "Fn=P:123456789012",
        ];
        let crate::cli::Command::Deploy(args) = crate::cli::Cli::parse_from(argv).command else {
            panic!("deploy expected")
        };
        let settings =
            super::super::merge(&args, &indexmap::IndexMap::new(), Path::new("/p"), None).unwrap();
        let entries = deploy_entries(&settings, &crate::cli::given_on_command_line(argv));
        assert_eq!(
            entries,
            [
                ("stack_name", ConfigValue::String("s1".into())),
                ("on_failure", ConfigValue::String("DELETE".into())),
                ("max_wait_duration", ConfigValue::Int(5)),
                ("express", ConfigValue::Bool(true)),
                (
                    "signing_profiles",
                    ConfigValue::String("Fn=\"P:123456789012\"".into())
                ),
            ]
        );
        let saved: indexmap::IndexMap<String, ConfigValue> = entries
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let none = crate::cli::DeployArgs::default();
        let again = super::super::merge(&none, &saved, Path::new("/p"), None).unwrap();
        assert_eq!(again.on_failure, settings.on_failure);
        assert_eq!(again.max_wait, settings.max_wait);
        assert!(again.express);
        assert_eq!(again.signing_profiles, settings.signing_profiles);
    }

    #[test]
    fn the_target_is_the_file_read_or_the_default_beside_the_template() {
        let read = Path::new("/p/samconfig.yaml");
        assert_eq!(target_file(Some(read), Path::new("/p"), None), read);
        assert_eq!(
            target_file(None, Path::new("/p"), None),
            Path::new("/p/samconfig.toml")
        );
        assert_eq!(
            target_file(None, Path::new("/p"), Some(Path::new("ci.toml"))),
            Path::new("/p/ci.toml")
        );
    }
}
