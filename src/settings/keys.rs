//! Which samconfig keys `sam deploy` and `sam delete` read (sam maps option `--foo-bar` to key
//! `foo_bar`), and what samrs makes of each. sam passes a samconfig table to click as defaults,
//! so a key that names no option is dropped without a word; samrs names every key it does not
//! use, once, so a typo or a key of another tool is seen.

use indexmap::IndexMap;

use crate::config::ConfigValue;

/// What samrs does with a key sam reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Read with sam's meaning.
    Honoured,
    /// Read by sam but not used by samrs; the text says why (one warning line).
    Unused(&'static str),
}

/// The keys of `[env.deploy.parameters]`: every option of `sam deploy` 1.170, the key `template`
/// sam also reads for the template, and samrs's own options.
pub const DEPLOY_KEYS: &[(&str, Use)] = &[
    ("template_file", Use::Honoured),
    ("template", Use::Honoured),
    ("stack_name", Use::Honoured),
    ("s3_bucket", Use::Honoured),
    ("s3_prefix", Use::Honoured),
    ("resolve_s3", Use::Honoured),
    ("image_repository", Use::Honoured),
    ("image_repositories", Use::Honoured),
    ("resolve_image_repos", Use::Honoured),
    ("kms_key_id", Use::Honoured),
    ("role_arn", Use::Honoured),
    ("notification_arns", Use::Honoured),
    ("tags", Use::Honoured),
    ("metadata", Use::Honoured),
    ("parameter_overrides", Use::Honoured),
    ("capabilities", Use::Honoured),
    ("no_execute_changeset", Use::Honoured),
    ("fail_on_empty_changeset", Use::Honoured),
    ("confirm_changeset", Use::Honoured),
    ("disable_rollback", Use::Honoured),
    ("force_upload", Use::Honoured),
    ("use_json", Use::Honoured),
    ("no_progressbar", Use::Honoured),
    ("output", Use::Honoured),
    ("language_extensions", Use::Honoured),
    ("region", Use::Honoured),
    ("profile", Use::Honoured),
    ("debug", Use::Honoured),
    ("beta_features", Use::Honoured),
    ("save_params", Use::Honoured),
    // What a failure does, how long waits last, express mode, code signing.
    ("on_failure", Use::Honoured),
    ("max_wait_duration", Use::Honoured),
    ("express", Use::Honoured),
    ("signing_profiles", Use::Honoured),
    (
        "guided",
        Use::Unused("samrs asks its questions only with --guided on the command line"),
    ),
    (
        "config_file",
        Use::Unused(
            "it has no effect inside a config file (sam ignores it too); use --config-file",
        ),
    ),
    (
        "config_env",
        Use::Unused("it has no effect inside a config file (sam ignores it too); use --config-env"),
    ),
    // samrs's own options of the managed repositories.
    ("image_repos_keep_last", Use::Honoured),
    ("image_repos_expire_untagged_days", Use::Honoured),
    ("image_repos_scan_on_push", Use::Honoured),
    ("image_repos_immutable_tags", Use::Honoured),
    ("image_repos_kms_key", Use::Honoured),
    ("wait_for_cleanup", Use::Honoured),
];

/// The keys of `[env.delete.parameters]` (samrs also reads the deploy table for the stack name
/// and bucket a deploy saved).
pub const DELETE_KEYS: &[(&str, Use)] = &[
    ("stack_name", Use::Honoured),
    ("no_prompts", Use::Honoured),
    ("s3_bucket", Use::Honoured),
    ("s3_prefix", Use::Honoured),
    ("region", Use::Honoured),
    ("profile", Use::Honoured),
    ("debug", Use::Honoured),
    ("beta_features", Use::Honoured),
    ("save_params", Use::Honoured),
    ("express", Use::Honoured),
    (
        "config_file",
        Use::Unused(
            "it has no effect inside a config file (sam ignores it too); use --config-file",
        ),
    ),
    (
        "config_env",
        Use::Unused("it has no effect inside a config file (sam ignores it too); use --config-env"),
    ),
];

/// One warning line per key of the command's own table that samrs does not use: unknown keys
/// (sam drops them silently) and keys sam reads that samrs cannot honour. `table` names the
/// table in the messages, e.g. `[default.deploy.parameters] of samconfig.toml`. Keys that only
/// come from `[env.global.parameters]` are not checked: global holds options of every command.
pub fn warnings(
    own: &IndexMap<String, ConfigValue>,
    known: &[(&str, Use)],
    command: &str,
    table: &str,
) -> Vec<String> {
    own.keys()
        .filter_map(|key| match known.iter().find(|(k, _)| k == key) {
            Some((_, Use::Honoured)) => None,
            Some((_, Use::Unused(why))) => Some(format!(
                "Warning: samconfig key '{key}' in {table} is not used by samrs: {why}"
            )),
            None => Some(format!(
                "Warning: samconfig key '{key}' in {table} is not an option of `sam {command}`; it is ignored (sam ignores it silently)"
            )),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_and_unused_keys_get_one_line_each() {
        let own: IndexMap<String, ConfigValue> = [
            ("stack_name", ConfigValue::String("a".into())),
            ("stack_nmae", ConfigValue::String("typo".into())),
            ("guided", ConfigValue::Bool(true)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let lines = warnings(&own, DEPLOY_KEYS, "deploy", "[default.deploy.parameters]");
        assert_eq!(lines, [
            "Warning: samconfig key 'stack_nmae' in [default.deploy.parameters] is not an option of `sam deploy`; it is ignored (sam ignores it silently)",
            "Warning: samconfig key 'guided' in [default.deploy.parameters] is not used by samrs: samrs asks its questions only with --guided on the command line",
        ]);
    }

    /// `--no-foo` of a `--foo/--no-foo` pair is the key `foo`; `--help` is no key.
    fn is_known(keys: &[(&str, Use)], key: &str) -> bool {
        let known = |k: &str| keys.iter().any(|(name, _)| *name == k);
        key == "help" || known(key) || key.strip_prefix("no_").is_some_and(known)
    }

    #[test]
    fn every_option_of_sam_deploy_and_delete_is_a_known_key() {
        for option in crate::cli::tests::sam_deploy_options() {
            let key = option.trim_start_matches("--").replace('-', "_");
            assert!(is_known(DEPLOY_KEYS, &key), "{key}");
        }
        for option in crate::cli::tests::sam_delete_options() {
            let key = option.trim_start_matches("--").replace('-', "_");
            assert!(is_known(DELETE_KEYS, &key), "{key}");
        }
    }
}
