//! Flags + samconfig + environment → [`DeploySettings`], with the SAM CLI's precedence (a flag
//! given on the command line wins over samconfig, which wins over the default) and its
//! validation messages. Resolved once, so nothing after this sees clap types or config files.

mod cfg;
pub mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use crate::cli::{DeployArgs, OutputFormat};
use crate::companion::RepoSettings;
use crate::config::{self, ConfigValue};
use crate::deploy::failure::OnFailure;
use crate::signing::SigningProfiles;
pub use values::check_stack_name;

/// A mistake in how samrs was called: printed as one line, exit status 2 (as click does).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Everything `samrs deploy` needs to know, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct DeploySettings {
    pub template_file: PathBuf,
    pub stack_name: String,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_prefix: Option<String>,
    pub resolve_s3: bool,
    pub image_repository: Option<String>,
    pub image_repositories: IndexMap<String, String>,
    pub resolve_image_repos: bool,
    /// Options of the managed repositories (lifecycle, scanning, immutability, KMS).
    pub repo_settings: RepoSettings,
    pub kms_key_id: Option<String>,
    pub role_arn: Option<String>,
    pub notification_arns: Vec<String>,
    pub tags: Vec<(String, String)>,
    pub parameter_overrides: Vec<(String, String)>,
    pub capabilities: Vec<String>,
    pub no_execute_changeset: bool,
    pub fail_on_empty_changeset: bool,
    pub confirm_changeset: bool,
    pub disable_rollback: bool,
    pub force_upload: bool,
    /// `--on-failure`; with `disable_rollback`, see [`crate::deploy::failure::failure_plan`].
    pub on_failure: OnFailure,
    /// How long one wait for a stack operation may last (`--max-wait-duration`).
    pub max_wait: Duration,
    /// CloudFormation express mode for the main stack.
    pub express: bool,
    /// AWS Signer profiles of the functions and layers whose zips are signed.
    pub signing_profiles: SigningProfiles,
    pub dry_run: bool,
    #[serde(skip)]
    pub output: OutputFormat,
    /// The samconfig file the values came from, if any.
    pub config_file: Option<PathBuf>,
}

/// The template the SAM CLI would pick: the flag, else the build output, else template.yaml/.yml.
pub fn default_template(dir: &Path) -> PathBuf {
    let built = dir.join(".aws-sam/build/template.yaml");
    if built.is_file() {
        return built;
    }
    let yml = dir.join("template.yml");
    if !dir.join("template.yaml").is_file() && yml.is_file() {
        return yml;
    }
    dir.join("template.yaml")
}

/// Where sam looks for samconfig: beside the template the user named (not the build output).
pub fn config_dir(args: &DeployArgs, cwd: &Path) -> PathBuf {
    args.template_file
        .as_deref()
        .and_then(Path::parent)
        .map(|p| cwd.join(p))
        .unwrap_or_else(|| cwd.to_path_buf())
}

/// Reads samconfig (where sam looks for it) and merges it under the flags.
pub fn resolve(args: &DeployArgs, cwd: &Path) -> anyhow::Result<DeploySettings> {
    let config_dir = config_dir(args, cwd);
    let explicit = args.config.config_file.as_deref();
    let config_file = config::find_config_file(&config_dir, explicit);
    if let (Some(path), None) = (explicit, &config_file) {
        return Err(UsageError(format!(
            "Config file {} does not exist or could not be read!",
            path.display()
        ))
        .into());
    }
    let values = read_config(
        config_file.as_deref(),
        args.config.config_env.as_deref(),
        &["deploy"],
    )?;
    merge(args, &values, cwd, config_file).map_err(Into::into)
}

/// The guided conversation's defaults: like [`merge`], but the stack name may be missing
/// (left empty: guided asks for it).
pub fn merge_partial(
    args: &DeployArgs,
    cfg: &IndexMap<String, ConfigValue>,
    cwd: &Path,
) -> Result<DeploySettings, UsageError> {
    merge_inner(args, cfg, cwd, None, true)
}

/// The config values of the given commands, later ones winning, each merged over `global`.
fn read_config(
    path: Option<&Path>,
    env: Option<&str>,
    commands: &[&str],
) -> anyhow::Result<IndexMap<String, ConfigValue>> {
    let Some(path) = path else {
        return Ok(IndexMap::new());
    };
    let config = config::load(path)?;
    if let Some(env) = env {
        if !config.has_environment(env) {
            let known: Vec<&str> = config.environments().collect();
            return Err(UsageError(format!(
                "{}: no environment '{env}' (the file has: {}); fix --config-env or add a [{env}.deploy.parameters] table",
                path.display(),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ))
            .into());
        }
    }
    let env = env.unwrap_or("default");
    let mut values = IndexMap::new();
    for command in commands {
        values.extend(config.parameters(env, command));
    }
    Ok(values)
}

/// `samrs delete`'s settings: flags over `[env.delete.parameters]` over the deploy table (which
/// holds the stack name and bucket a deploy saved).
pub fn resolve_delete(
    args: &crate::cli::DeleteArgs,
    cwd: &Path,
) -> anyhow::Result<crate::delete::DeleteSettings> {
    let explicit = args.config.config_file.as_deref();
    let config_file = config::find_config_file(cwd, explicit);
    if let (Some(path), None) = (explicit, &config_file) {
        return Err(UsageError(format!(
            "Config file {} does not exist or could not be read!",
            path.display()
        ))
        .into());
    }
    let cfg = read_config(
        config_file.as_deref(),
        args.config.config_env.as_deref(),
        &["deploy", "delete"],
    )?;
    let string = |flag: &Option<String>, key: &str| flag.clone().or_else(|| cfg::string(&cfg, key));
    Ok(crate::delete::DeleteSettings {
        // --orphans is about the whole region, not the configured stack.
        stack_name: if args.orphans {
            None
        } else {
            string(&args.stack_name, "stack_name")
        },
        region: string(&args.aws.region, "region"),
        profile: string(&args.aws.profile, "profile"),
        s3_bucket: string(&args.s3_bucket, "s3_bucket"),
        s3_prefix: string(&args.s3_prefix, "s3_prefix"),
        no_prompts: args.no_prompts || cfg::boolean(&cfg, "no_prompts")?.unwrap_or(false),
        orphans: args.orphans,
        express: express(args.express, args.no_express, &cfg)?,
        // sam delete has no --max-wait-duration; its waiter gives up after an hour too.
        max_wait: max_wait(None, &IndexMap::new())?,
    })
}

/// `--express/--no-express` over samconfig's `express`.
fn express(on: bool, off: bool, cfg: &IndexMap<String, ConfigValue>) -> Result<bool, UsageError> {
    Ok(if on || off {
        on
    } else {
        cfg::boolean(cfg, "express")?.unwrap_or(false)
    })
}

/// sam's default `--max-wait-duration`, in minutes.
pub const DEFAULT_MAX_WAIT_MINUTES: u64 = 60;
/// The limit in seconds, overriding `--max-wait-duration` (which counts whole minutes, as sam's
/// does): for limits under a minute, as tests need.
pub const MAX_WAIT_SECONDS_VARIABLE: &str = "SAMRS_MAX_WAIT_SECONDS";

/// `--max-wait-duration` (whole minutes, at least 1) over samconfig's `max_wait_duration`, both
/// overridden by `SAMRS_MAX_WAIT_SECONDS`.
fn max_wait(
    flag: Option<i64>,
    cfg: &IndexMap<String, ConfigValue>,
) -> Result<Duration, UsageError> {
    if let Ok(text) = std::env::var(MAX_WAIT_SECONDS_VARIABLE) {
        return text
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|s| s.is_finite() && *s > 0.0)
            .map(Duration::from_secs_f64)
            .ok_or_else(|| {
                UsageError(format!(
                    "{MAX_WAIT_SECONDS_VARIABLE} must be a positive number of seconds, not {text:?}"
                ))
            });
    }
    let minutes = match flag {
        Some(minutes) => minutes,
        None => match cfg.get("max_wait_duration") {
            None => i64::try_from(DEFAULT_MAX_WAIT_MINUTES).unwrap_or(60),
            Some(value) => value
                .as_string()
                .and_then(|text| text.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    UsageError(format!(
                        "max_wait_duration in samconfig must be a whole number of minutes, not {value}"
                    ))
                })?,
        },
    };
    u64::try_from(minutes)
        .ok()
        .filter(|m| *m >= 1)
        .map(|m| Duration::from_secs(m.saturating_mul(60)))
        .ok_or_else(|| {
            UsageError(format!(
                "Invalid value for '--max-wait-duration': {minutes} is not a number of minutes of at least 1."
            ))
        })
}

/// `--on-failure` and `--disable-rollback` with their samconfig keys. Both flags at once are a
/// usage error (clap reports it); a flag of either decides alone, so samconfig's other key does
/// not apply; without flags, samconfig's keys combine as [`crate::deploy::failure::failure_plan`]
/// says.
fn failure_settings(
    args: &DeployArgs,
    cfg: &IndexMap<String, ConfigValue>,
) -> Result<(OnFailure, bool), UsageError> {
    let parse = |text: &str| text.parse::<OnFailure>().map_err(UsageError);
    if let Some(flag) = &args.on_failure {
        return Ok((parse(flag)?, false));
    }
    if args.disable_rollback || args.no_disable_rollback {
        return Ok((OnFailure::Rollback, args.disable_rollback));
    }
    let on_failure = match cfg::string(cfg, "on_failure") {
        Some(text) => parse(&text)?,
        None => OnFailure::Rollback,
    };
    Ok((
        on_failure,
        cfg::boolean(cfg, "disable_rollback")?.unwrap_or(false),
    ))
}

/// `--signing-profiles` over samconfig's `signing_profiles`, with sam's messages.
fn signing_profiles(
    args: &DeployArgs,
    cfg: &IndexMap<String, ConfigValue>,
) -> Result<SigningProfiles, UsageError> {
    let items = if args.signing_profiles.is_empty() {
        cfg::list(cfg, "signing_profiles")?
    } else {
        args.signing_profiles.clone()
    };
    crate::signing::parse_signing_profiles(&items)
        .map_err(|e| UsageError(format!("Invalid value for '--signing-profiles': {e}")))
}

/// The pure merge of flags over config values.
pub fn merge(
    args: &DeployArgs,
    cfg: &IndexMap<String, ConfigValue>,
    cwd: &Path,
    config_file: Option<PathBuf>,
) -> Result<DeploySettings, UsageError> {
    merge_inner(args, cfg, cwd, config_file, args.guided)
}

fn merge_inner(
    args: &DeployArgs,
    cfg: &IndexMap<String, ConfigValue>,
    cwd: &Path,
    config_file: Option<PathBuf>,
    guided: bool,
) -> Result<DeploySettings, UsageError> {
    let string = |flag: &Option<String>, key: &str| flag.clone().or_else(|| cfg::string(cfg, key));
    let switch = |on: bool, off: bool, key: &str, default: bool| -> Result<bool, UsageError> {
        Ok(if on {
            true
        } else if off {
            false
        } else {
            cfg::boolean(cfg, key)?.unwrap_or(default)
        })
    };
    let flag = |on: bool, key: &str| -> Result<bool, UsageError> {
        Ok(on || cfg::boolean(cfg, key)?.unwrap_or(false))
    };
    let list = |flag: &[String], key: &str| {
        if flag.is_empty() {
            cfg::list(cfg, key)
        } else {
            Ok(flag.to_vec())
        }
    };

    let template_file = match args
        .template_file
        .clone()
        .or_else(|| cfg::string(cfg, "template_file").map(PathBuf::from))
    {
        Some(path) => cwd.join(path),
        None => default_template(cwd),
    };
    let stack_name = match string(&args.stack_name, "stack_name") {
        Some(name) => {
            // Guided asks again instead (its prompt checks the answer).
            if !guided {
                check_stack_name(&name)?;
            }
            name
        }
        None if guided => String::new(),
        None => return Err(UsageError("Missing option '--stack-name', 'samrs deploy --guided' can be used to provide and save needed parameters for future deploys.".into())),
    };
    let s3_bucket = string(&args.s3_bucket, "s3_bucket");
    let resolve_s3 = switch(args.resolve_s3, args.no_resolve_s3, "resolve_s3", false)?;
    if resolve_s3 && s3_bucket.is_some() && !guided {
        return Err(UsageError("Cannot use both --resolve-s3 and --s3-bucket parameters in non-guided deployments. Please use only one or use the --guided option for a guided deployment.".into()));
    }
    let image_repository = string(&args.image_repository, "image_repository");
    let image_repositories =
        parse_image_repositories(&list(&args.image_repositories, "image_repositories")?)?;
    let resolve_image_repos = flag(args.resolve_image_repos, "resolve_image_repos")?;
    // sam forbids any two of these; samrs allows --resolve-image-repos with a partial
    // --image-repositories (sam issue #3503): the named functions keep their repositories.
    if image_repository.is_some() && (!image_repositories.is_empty() || resolve_image_repos) {
        return Err(UsageError("Only one of the following can be provided: '--image-repositories', '--image-repository', '--resolve-image-repos'. Do you have multiple specified in the command or in a configuration file?".into()));
    }
    if let Some(uri) = &image_repository {
        if !crate::template::is_ecr_url(uri) {
            return Err(UsageError(format!(
                "Invalid Image Repository ECR URI: {uri}"
            )));
        }
    }

    let (on_failure, disable_rollback) = failure_settings(args, cfg)?;
    Ok(DeploySettings {
        template_file,
        stack_name,
        region: string(&args.aws.region, "region"),
        profile: string(&args.aws.profile, "profile"),
        s3_bucket,
        s3_prefix: string(&args.s3_prefix, "s3_prefix"),
        resolve_s3,
        image_repository,
        image_repositories,
        resolve_image_repos,
        repo_settings: repo_settings(args, cfg)?,
        kms_key_id: string(&args.kms_key_id, "kms_key_id"),
        role_arn: string(&args.role_arn, "role_arn"),
        notification_arns: values::split_list(&list(&args.notification_arns, "notification_arns")?),
        tags: values::parse_tags(&list(&args.tags, "tags")?)?,
        parameter_overrides: values::parse_parameter_overrides(&list(
            &args.parameter_overrides,
            "parameter_overrides",
        )?)?,
        capabilities: values::split_list(&list(&args.capabilities, "capabilities")?),
        no_execute_changeset: flag(args.no_execute_changeset, "no_execute_changeset")?,
        fail_on_empty_changeset: switch(
            args.fail_on_empty_changeset,
            args.no_fail_on_empty_changeset,
            "fail_on_empty_changeset",
            true,
        )?,
        confirm_changeset: switch(
            args.confirm_changeset,
            args.no_confirm_changeset,
            "confirm_changeset",
            false,
        )?,
        disable_rollback,
        force_upload: flag(args.force_upload, "force_upload")?,
        on_failure,
        max_wait: max_wait(args.max_wait_duration, cfg)?,
        express: express(args.express, args.no_express, cfg)?,
        signing_profiles: signing_profiles(args, cfg)?,
        dry_run: args.dry_run,
        output: args.output,
        config_file,
    })
}

/// The managed repositories' options: flags over samconfig keys of the same names.
fn repo_settings(
    args: &DeployArgs,
    cfg: &IndexMap<String, ConfigValue>,
) -> Result<RepoSettings, UsageError> {
    let settings = RepoSettings {
        keep_last_images: match args.image_repos_keep_last {
            Some(n) => Some(n),
            None => cfg::whole_number(cfg, "image_repos_keep_last")?,
        },
        expire_untagged_days: match args.image_repos_expire_untagged_days {
            Some(n) => Some(n),
            None => cfg::whole_number(cfg, "image_repos_expire_untagged_days")?,
        },
        scan_on_push: args.image_repos_scan_on_push
            || cfg::boolean(cfg, "image_repos_scan_on_push")?.unwrap_or(false),
        immutable_tags: args.image_repos_immutable_tags
            || cfg::boolean(cfg, "image_repos_immutable_tags")?.unwrap_or(false),
        kms_key: args
            .image_repos_kms_key
            .clone()
            .or_else(|| cfg::string(cfg, "image_repos_kms_key")),
    };
    settings.validate().map_err(|e| UsageError(e.to_string()))?;
    Ok(settings)
}

/// `Fn=URI` items, validated with sam's messages.
fn parse_image_repositories(items: &[String]) -> Result<IndexMap<String, String>, UsageError> {
    let mut map = IndexMap::new();
    for item in items.iter().flat_map(|i| i.split_whitespace()) {
        let parts: Vec<&str> = item.split('=').collect();
        let [function, uri] = parts[..] else {
            return Err(UsageError("--image-repositories is not a valid format, it needs to be of the form function_logical_id=ECR_URI".into()));
        };
        if !crate::template::is_ecr_url(uri) {
            return Err(UsageError(
                "--image-repositories needs to have valid ECR URI as value".into(),
            ));
        }
        map.insert(function.to_string(), uri.to_string());
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn args(flags: &[&str]) -> DeployArgs {
        let mut argv = vec!["samrs", "deploy"];
        argv.extend_from_slice(flags);
        match crate::cli::Cli::parse_from(argv).command {
            crate::cli::Command::Deploy(args) => *args,
            other => panic!("deploy expected, got {other:?}"),
        }
    }

    fn config(text: &str) -> IndexMap<String, ConfigValue> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("samconfig.toml");
        std::fs::write(&path, text).unwrap();
        config::load(&path).unwrap().parameters("default", "deploy")
    }

    const SAMCONFIG: &str = r#"version = 0.1
[default.global.parameters]
region = "eu-west-1"
[default.deploy.parameters]
stack_name = "from-file"
resolve_s3 = true
capabilities = "CAPABILITY_IAM CAPABILITY_AUTO_EXPAND"
parameter_overrides = "Stage=\"dev\" Name=\"a b\""
confirm_changeset = true
image_repositories = ["Fn=123456789012.dkr.ecr.us-east-1.amazonaws.com/repo"]
tags = "team=\"core\""
"#;

    #[test]
    fn samconfig_values_fill_in_and_flags_win() {
        let cfg = config(SAMCONFIG);
        let cwd = Path::new("/work");
        let s = merge(&args(&[]), &cfg, cwd, None).unwrap();
        assert_eq!(s.stack_name, "from-file");
        assert_eq!(s.region.as_deref(), Some("eu-west-1"));
        assert!(s.resolve_s3 && s.confirm_changeset && s.fail_on_empty_changeset);
        assert_eq!(s.capabilities, ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]);
        assert_eq!(
            s.parameter_overrides,
            [
                ("Stage".to_string(), "dev".to_string()),
                ("Name".to_string(), "a b".to_string())
            ]
        );
        assert_eq!(s.tags, [("team".to_string(), "core".to_string())]);
        assert_eq!(
            s.image_repositories["Fn"],
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo"
        );
        assert_eq!(s.template_file, default_template(cwd));

        let s = merge(
            &args(&[
                "--stack-name",
                "flag",
                "--region",
                "us-west-2",
                "--no-confirm-changeset",
                "--capabilities",
                "CAPABILITY_NAMED_IAM",
                "--no-resolve-s3",
            ]),
            &cfg,
            cwd,
            None,
        )
        .unwrap();
        assert_eq!(s.stack_name, "flag");
        assert_eq!(s.region.as_deref(), Some("us-west-2"));
        assert!(!s.confirm_changeset && !s.resolve_s3);
        assert_eq!(s.capabilities, ["CAPABILITY_NAMED_IAM"]);
    }

    #[test]
    fn sams_validation_messages() {
        let none = IndexMap::new();
        let cwd = Path::new("/work");
        let err = |flags: &[&str]| merge(&args(flags), &none, cwd, None).unwrap_err().0;
        assert_eq!(
            err(&[]),
            "Missing option '--stack-name', 'samrs deploy --guided' can be used to provide and save needed parameters for future deploys."
        );
        assert!(
            err(&["--stack-name", "a", "--resolve-s3", "--s3-bucket", "b"])
                .starts_with("Cannot use both --resolve-s3 and --s3-bucket")
        );
        let uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/r";
        assert!(err(&[
            "--stack-name",
            "a",
            "--image-repository",
            uri,
            "--resolve-image-repos"
        ])
        .starts_with("Only one of the following can be provided"));
        assert_eq!(
            err(&["--stack-name", "a", "--image-repository", "nope"]),
            "Invalid Image Repository ECR URI: nope"
        );
        assert_eq!(
            err(&["--stack-name", "a", "--image-repositories", "Fn"]),
            "--image-repositories is not a valid format, it needs to be of the form function_logical_id=ECR_URI"
        );
        assert_eq!(
            err(&[
                "--stack-name",
                "a",
                "--image-repositories",
                "Fn=docker.io/x"
            ]),
            "--image-repositories needs to have valid ECR URI as value"
        );
        assert!(err(&["--stack-name", "a", "--image-repos-keep-last", "0"]).contains("at least 1"));
    }

    #[test]
    fn failure_handling_flags_decide_alone_over_samconfig() {
        use crate::deploy::failure::OnFailure;
        let cwd = Path::new("/w");
        let both = config("version = 0.1\n[default.deploy.parameters]\nstack_name = \"a\"\non_failure = \"DELETE\"\ndisable_rollback = true\n");
        let s = merge(&args(&[]), &both, cwd, None).unwrap();
        assert_eq!(
            (s.on_failure, s.disable_rollback),
            (OnFailure::Delete, true)
        );
        let s = merge(&args(&["--on-failure", "DO_NOTHING"]), &both, cwd, None).unwrap();
        assert_eq!(
            (s.on_failure, s.disable_rollback),
            (OnFailure::DoNothing, false)
        );
        let s = merge(&args(&["--no-disable-rollback"]), &both, cwd, None).unwrap();
        assert_eq!(
            (s.on_failure, s.disable_rollback),
            (OnFailure::Rollback, false)
        );
        let bad = config("version = 0.1\n[default.deploy.parameters]\nstack_name = \"a\"\non_failure = \"delete\"\n");
        assert_eq!(
            merge(&args(&[]), &bad, cwd, None).unwrap_err().0,
            "Invalid value for '--on-failure': 'delete' is not one of 'ROLLBACK', 'DELETE', 'DO_NOTHING'."
        );
        let s = merge(&args(&["--stack-name", "a"]), &IndexMap::new(), cwd, None).unwrap();
        assert_eq!(s.on_failure, OnFailure::Rollback);
        assert!(!s.express && s.signing_profiles.is_empty());
    }

    #[test]
    fn max_wait_is_whole_minutes_from_flag_or_samconfig() {
        let cwd = Path::new("/w");
        let minutes = |flags: &[&str], cfg: &IndexMap<String, ConfigValue>| {
            merge(&args(flags), cfg, cwd, None).map(|s| s.max_wait.as_secs() / 60)
        };
        let none = IndexMap::new();
        let cfg = config("version = 0.1\n[default.deploy.parameters]\nstack_name = \"a\"\nmax_wait_duration = 5\n");
        assert_eq!(minutes(&["--stack-name", "a"], &none), Ok(60));
        assert_eq!(minutes(&[], &cfg), Ok(5));
        assert_eq!(minutes(&["--max-wait-duration", "2"], &cfg), Ok(2));
        assert_eq!(
            minutes(&["--stack-name", "a", "--max-wait-duration", "0"], &none)
                .unwrap_err()
                .0,
            "Invalid value for '--max-wait-duration': 0 is not a number of minutes of at least 1."
        );
    }

    #[test]
    fn express_and_signing_profiles_from_flags_or_samconfig() {
        let cwd = Path::new("/w");
        let cfg = config("version = 0.1\n[default.deploy.parameters]\nstack_name = \"a\"\nexpress = true\nsigning_profiles = \"Fn=\\\"P:123456789012\\\" Layer=\\\"L\\\"\"\n");
        let s = merge(&args(&[]), &cfg, cwd, None).unwrap();
        assert!(s.express);
        assert_eq!(s.signing_profiles["Fn"].profile_owner, "123456789012");
        assert_eq!(s.signing_profiles["Layer"].profile_name, "L");
        let s = merge(
            &args(&["--no-express", "--signing-profiles", "Other=X"]),
            &cfg,
            cwd,
            None,
        )
        .unwrap();
        assert!(!s.express);
        assert_eq!(s.signing_profiles.keys().collect::<Vec<_>>(), ["Other"]);
        let e = merge(&args(&["--signing-profiles", "junk"]), &cfg, cwd, None).unwrap_err();
        assert!(
            e.0.starts_with(
                "Invalid value for '--signing-profiles': ('junk',) is not a valid code sign config"
            ),
            "{}",
            e.0
        );
    }

    #[test]
    fn resolve_with_partial_explicit_repositories_is_allowed() {
        let none = IndexMap::new();
        let uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/r";
        let s = merge(
            &args(&[
                "--stack-name",
                "a",
                "--resolve-image-repos",
                "--image-repositories",
                &format!("Fn={uri}"),
            ]),
            &none,
            Path::new("/w"),
            None,
        )
        .unwrap();
        assert!(s.resolve_image_repos);
        assert_eq!(s.image_repositories.len(), 1);
    }

    #[test]
    fn guided_defaults_do_not_require_a_stack_name() {
        let s = merge_partial(&args(&["--guided"]), &IndexMap::new(), Path::new("/w")).unwrap();
        assert!(s.stack_name.is_empty());
    }

    #[test]
    fn repository_settings_from_samconfig() {
        let cfg = config("version = 0.1\n[default.deploy.parameters]\nstack_name = \"a\"\nimage_repos_keep_last = 10\nimage_repos_scan_on_push = true\n");
        let s = merge(&args(&[]), &cfg, Path::new("/w"), None).unwrap();
        assert_eq!(s.repo_settings.keep_last_images, Some(10));
        assert!(s.repo_settings.scan_on_push && !s.repo_settings.immutable_tags);
        let bad = config("version = 0.1\n[default.deploy.parameters]\nstack_name = \"a\"\nimage_repos_keep_last = \"many\"\n");
        let e = merge(&args(&[]), &bad, Path::new("/w"), None).unwrap_err();
        assert!(e.0.contains("image_repos_keep_last"), "{}", e.0);
    }

    #[test]
    fn the_example_samconfig_resolves_in_both_environments() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("samconfig.example.toml");
        let file = config::load(&path).expect("samconfig.example.toml loads");
        let s = merge(
            &args(&[]),
            &file.parameters("default", "deploy"),
            Path::new("/w"),
            None,
        )
        .unwrap();
        assert_eq!(s.stack_name, "my-app");
        assert!(s.resolve_s3 && s.resolve_image_repos && s.fail_on_empty_changeset);
        assert_eq!(s.region.as_deref(), Some("us-east-1"));
        assert_eq!(s.parameter_overrides.len(), 2);
        assert_eq!(s.tags.len(), 2);
        let prod = merge(
            &args(&[]),
            &file.parameters("prod", "deploy"),
            Path::new("/w"),
            None,
        )
        .unwrap();
        assert_eq!(
            (prod.stack_name.as_str(), prod.region.as_deref()),
            ("my-app-prod", Some("eu-west-1"))
        );
        assert!(prod.confirm_changeset);
    }
}
