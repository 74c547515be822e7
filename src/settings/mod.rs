//! Flags + samconfig + environment → [`DeploySettings`], with the SAM CLI's precedence (a flag
//! given on the command line wins over samconfig, which wins over the default) and its
//! validation messages. Resolved once, so nothing after this sees clap types or config files.

mod cfg;
mod environment;
mod failure;
mod guided;
pub mod keys;
mod overrides;
pub mod save;
mod saved;
mod signing;
pub mod values;

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;

use crate::cli::{self, DeployArgs};
use crate::companion::RepoSettings;
use crate::config::{self, ConfigValue};
pub use environment::*;
pub use failure::OnFailure;
pub use guided::{Answers, GuidedStart};
#[cfg(test)]
pub(crate) use saved::tests::saved as example_saved_settings;
pub use saved::{apply_debug_lines, resolve_apply, SavedSettings};
pub use signing::{
    format_signing_profiles, parse_signing_profiles, SigningProfile, SigningProfiles,
};
pub use values::check_stack_name;

/// A mistake in how samrs was called: printed as one line, exit status 2 (as click does).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// Settings sam parses but then refuses (its `UserException`s, or CloudFormation's answer to a
/// name it does not check itself): printed as one line, exit status 1, as sam exits.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// The message of a `--config-file` that is not there (sam's `ConfigException`, exit 1).
fn missing_config_file(path: &Path) -> anyhow::Error {
    Refused(format!(
        "Config file {} does not exist or could not be read!",
        path.display()
    ))
    .into()
}

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
    /// `--on-failure`; with `disable_rollback`, see [`crate::plan::failure::failure_plan`].
    pub on_failure: OnFailure,
    /// How long one wait for a stack operation may last (`--max-wait-duration`).
    #[serde(rename = "max_wait_seconds", serialize_with = "seconds")]
    pub max_wait: Duration,
    /// CloudFormation express mode for the main stack.
    pub express: bool,
    /// AWS Signer profiles of the functions and layers whose zips are signed.
    pub signing_profiles: SigningProfiles,
    pub dry_run: bool,
    /// Wait for the companion stack's clean-up to end (`--wait-for-cleanup`).
    pub wait_for_cleanup: bool,
    /// `--plan-out`: make the change set, save the plan here, deploy nothing.
    pub plan_out: Option<PathBuf>,
    #[serde(skip)]
    pub output: OutputFormat,
    /// The samconfig file the values came from, if any.
    pub config_file: Option<PathBuf>,
    /// S3 object metadata for every uploaded artifact (`--metadata`).
    pub metadata: Vec<(String, String)>,
    /// Send the packaged template as JSON (`--use-json`).
    pub use_json: bool,
    /// Draw no progress bars (`--no-progressbar`).
    pub no_progressbar: bool,
    /// Print how settings were resolved and every AWS call (`--debug`, `SAM_DEBUG`).
    pub debug: bool,
    /// Save the command-line options to the config file (`--save-params`).
    pub save_params: bool,
    /// Expand `AWS::LanguageExtensions` locally to package (`--language-extensions`,
    /// `SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS`).
    pub language_extensions: bool,
    /// One line each, printed before anything is done: unused samconfig keys, ignored arguments.
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// The environment variables samrs reads.
    #[serde(skip)]
    pub environment: Environment,
}

/// What `samrs delete` acts on, resolved from flags and samconfig.
#[derive(Debug, Clone, Default)]
pub struct DeleteSettings {
    pub stack_name: Option<String>,
    pub region: Option<String>,
    pub profile: Option<String>,
    pub s3_bucket: Option<String>,
    pub s3_prefix: Option<String>,
    pub no_prompts: bool,
    pub orphans: bool,
    /// CloudFormation express mode for the stack deletions.
    pub express: bool,
    /// How long one wait for a stack deletion may last.
    pub max_wait: Duration,
    /// Print how settings were resolved and every AWS call (`--debug`, `SAM_DEBUG`).
    pub debug: bool,
    /// Save the command-line options to the config file (`--save-params`).
    pub save_params: bool,
    /// The samconfig file read (where `--save-params` writes), if any.
    pub config_file: Option<std::path::PathBuf>,
    /// One line each, printed before anything is done.
    pub warnings: Vec<String>,
    /// The environment variables samrs reads.
    pub environment: Environment,
}

/// How results are printed: text for people, or one JSON document for scripts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
    /// The changes as a Markdown table on stdout (deploy only); people's lines on stderr.
    Markdown,
}

impl From<cli::DeployOutputFormat> for OutputFormat {
    fn from(format: cli::DeployOutputFormat) -> Self {
        match format {
            cli::DeployOutputFormat::Text => OutputFormat::Text,
            cli::DeployOutputFormat::Json => OutputFormat::Json,
            cli::DeployOutputFormat::Markdown => OutputFormat::Markdown,
        }
    }
}

impl From<cli::OutputFormat> for OutputFormat {
    fn from(format: cli::OutputFormat) -> Self {
        match format {
            cli::OutputFormat::Text => OutputFormat::Text,
            cli::OutputFormat::Json => OutputFormat::Json,
        }
    }
}

impl OutputFormat {
    /// The format a command line asks for before anything is resolved (samconfig may choose
    /// another for a deploy).
    pub fn of_flag(flag: Option<cli::DeployOutputFormat>) -> OutputFormat {
        flag.map(OutputFormat::from).unwrap_or_default()
    }

    /// samconfig's `output`, in any case.
    fn parse(text: &str) -> Option<OutputFormat> {
        match text.to_ascii_lowercase().as_str() {
            "text" => Some(OutputFormat::Text),
            "json" => Some(OutputFormat::Json),
            "markdown" => Some(OutputFormat::Markdown),
            _ => None,
        }
    }
}

/// A duration as a number of seconds (what `--debug` shows).
fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

/// The template sam picks when none is named: the first of `.aws-sam/build/template.yaml`,
/// `template.yaml`, `template.yml`, `template.json` that exists, else `template.yaml` (whose
/// absence is then reported).
pub fn default_template(dir: &Path) -> PathBuf {
    const SEARCH: [&str; 4] = [
        ".aws-sam/build/template.yaml",
        "template.yaml",
        "template.yml",
        "template.json",
    ];
    SEARCH
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.exists())
        .unwrap_or_else(|| dir.join("template.yaml"))
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
        return Err(missing_config_file(path));
    }
    let table = read_config(
        config_file.as_deref(),
        args.config.config_env.as_deref(),
        &["deploy"],
    )?;
    let mut settings = merge_with(
        args,
        &table.values,
        cwd,
        config_file,
        &Environment::from_process(),
        args.guided,
    )?;
    settings.warnings.splice(0..0, table.warnings);
    if !args.guided {
        // Guided asks for the stack name again and may take both (it resolves the bucket).
        check_stack_name(&settings.stack_name)?;
        if settings.resolve_s3 && settings.s3_bucket.is_some() {
            return Err(Refused("Cannot use both --resolve-s3 and --s3-bucket parameters in non-guided deployments. Please use only one or use the --guided option for a guided deployment.".into()).into());
        }
    }
    Ok(settings)
}

/// The values samconfig gives a command, and the warnings about its keys.
#[derive(Debug, Default)]
struct ConfigTable {
    values: IndexMap<String, ConfigValue>,
    warnings: Vec<String>,
}

/// The config values of the given commands, later ones winning, each merged over `global`, and
/// one warning per key of the last command's own table that samrs does not use.
fn read_config(
    path: Option<&Path>,
    env: Option<&str>,
    commands: &[&str],
) -> anyhow::Result<ConfigTable> {
    let Some(path) = path else {
        return Ok(ConfigTable::default());
    };
    let config = config::load(path)?;
    let mut warnings = Vec::new();
    if let Some(env) = env {
        // sam reads nothing from an environment the file lacks, silently.
        if !config.has_environment(env) {
            let known: Vec<&str> = config.environments().collect();
            warnings.push(format!(
                "Warning: {}: no environment '{env}' (the file has: {}), so no saved values are used; fix --config-env or add a [{env}.deploy.parameters] table",
                path.display(),
                if known.is_empty() { "none".to_string() } else { known.join(", ") }
            ));
        }
    }
    let env = env.unwrap_or("default");
    let mut values = IndexMap::new();
    for command in commands {
        values.extend(config.parameters(env, command));
    }
    let command = commands.last().copied().unwrap_or("deploy");
    let known = if command == "delete" {
        keys::DELETE_KEYS
    } else {
        keys::DEPLOY_KEYS
    };
    let table = format!(
        "[{env}.{command}.parameters] of {}",
        path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        )
    );
    warnings.extend(keys::warnings(
        &config.own_parameters(env, command),
        known,
        command,
        &table,
    ));
    Ok(ConfigTable { values, warnings })
}

/// `samrs delete`'s settings: flags over `[env.delete.parameters]` over the deploy table (which
/// holds the stack name and bucket a deploy saved).
pub fn resolve_delete(args: &crate::cli::DeleteArgs, cwd: &Path) -> anyhow::Result<DeleteSettings> {
    let explicit = args.config.config_file.as_deref();
    let config_file = config::find_config_file(cwd, explicit);
    if let (Some(path), None) = (explicit, &config_file) {
        return Err(missing_config_file(path));
    }
    let table = read_config(
        config_file.as_deref(),
        args.config.config_env.as_deref(),
        &["deploy", "delete"],
    )?;
    let cfg = &table.values;
    let env = Environment::from_process();
    let string = |flag: &Option<String>, key: &str| flag.clone().or_else(|| cfg::string(cfg, key));
    let mut warnings = table.warnings;
    warnings.extend(ignored_arguments(&args.common.extra));
    Ok(DeleteSettings {
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
        no_prompts: args.no_prompts || cfg::boolean(cfg, "no_prompts")?.unwrap_or(false),
        orphans: args.orphans,
        express: express(args.express, args.no_express, cfg)?,
        // sam delete has no --max-wait-duration; its waiter gives up after an hour too.
        max_wait: max_wait(None, &IndexMap::new(), &env)?,
        debug: args.common.debug || env.debug || cfg::boolean(cfg, "debug")?.unwrap_or(false),
        save_params: args.common.save_params || cfg::boolean(cfg, "save_params")?.unwrap_or(false),
        config_file,
        warnings,
        environment: env,
    })
}

/// What `--debug` says about how a deploy's settings were resolved, as sam's debug log does:
/// the config file, the template, the environment variables that count, and the expanded
/// arguments (parameter override values are left out: they can be secrets).
pub fn debug_lines(settings: &DeploySettings) -> Vec<String> {
    let mut lines = config_lines(settings.config_file.as_deref());
    lines.push(format!(
        "Using SAM Template at {}",
        settings.template_file.display()
    ));
    lines.extend(environment_line(&settings.environment));
    let mut expanded = serde_json::to_value(settings).unwrap_or_default();
    if let Some(overrides) = expanded.get_mut("parameter_overrides") {
        let names: Vec<String> = settings
            .parameter_overrides
            .iter()
            .map(|(k, _)| format!("{k}=***"))
            .collect();
        *overrides = serde_json::Value::from(names);
    }
    lines.push("Expand command line arguments to:".to_string());
    lines.push(expanded_arguments(&expanded));
    lines
}

/// [`debug_lines`] for `samrs delete`.
pub fn delete_debug_lines(settings: &DeleteSettings) -> Vec<String> {
    let mut lines = config_lines(settings.config_file.as_deref());
    lines.extend(environment_line(&settings.environment));
    let expanded = serde_json::json!({
        "stack_name": settings.stack_name,
        "region": settings.region,
        "profile": settings.profile,
        "s3_bucket": settings.s3_bucket,
        "s3_prefix": settings.s3_prefix,
        "no_prompts": settings.no_prompts,
        "orphans": settings.orphans,
        "express": settings.express,
        "max_wait_seconds": settings.max_wait.as_secs_f64(),
    });
    lines.push("Expand command line arguments to:".to_string());
    lines.push(expanded_arguments(&expanded));
    lines
}

fn config_lines(config_file: Option<&Path>) -> Vec<String> {
    vec![match config_file {
        Some(path) => format!("Config file location: {}", path.display()),
        None => "No config file found".to_string(),
    }]
}

/// The environment variables that change what samrs does, with their values (none is secret;
/// the access key is shown by its last four characters).
fn environment_line(env: &Environment) -> Option<String> {
    let mut set: Vec<String> = env
        .shown_in_debug
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    if let Some(key) = &env.access_key_id {
        set.push(format!("AWS_ACCESS_KEY_ID={}", crate::debug::key_hint(key)));
    }
    (!set.is_empty()).then(|| format!("Environment: {}", set.join(" ")))
}

/// sam's `--key=value --flag` line from resolved settings (empty and false values left out).
fn expanded_arguments(settings: &serde_json::Value) -> String {
    let Some(fields) = settings.as_object() else {
        return String::new();
    };
    fields
        .iter()
        .filter_map(|(key, value)| match value {
            serde_json::Value::Bool(true) => Some(format!("--{key}")),
            serde_json::Value::String(s) if !s.is_empty() => Some(format!("--{key}={s}")),
            serde_json::Value::Number(n) => Some(format!("--{key}={n}")),
            serde_json::Value::Array(items) if !items.is_empty() => {
                Some(format!("--{key}={value}"))
            }
            serde_json::Value::Object(map) if !map.is_empty() => Some(format!("--{key}={value}")),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The one warning about positional arguments, which sam's commands accept and ignore.
fn ignored_arguments(extra: &[String]) -> Option<String> {
    (!extra.is_empty()).then(|| {
        format!(
            "Warning: ignoring extra argument{} {} (sam ignores them too; did you mean an option?)",
            if extra.len() == 1 { "" } else { "s" },
            extra
                .iter()
                .map(|a| format!("'{a}'"))
                .collect::<Vec<_>>()
                .join(" ")
        )
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

/// `--max-wait-duration` (whole minutes, at least 1) over samconfig's `max_wait_duration`, both
/// overridden by `SAMRS_MAX_WAIT_SECONDS`.
fn max_wait(
    flag: Option<i64>,
    cfg: &IndexMap<String, ConfigValue>,
    env: &Environment,
) -> Result<Duration, UsageError> {
    if let Some(text) = &env.max_wait_seconds {
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
        None => cfg::whole_number(cfg, "max_wait_duration")?
            .map_or(DEFAULT_MAX_WAIT_MINUTES, u64::from)
            .try_into()
            .unwrap_or(i64::MAX),
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
/// not apply; without flags, samconfig's keys combine as [`crate::plan::failure::failure_plan`]
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
    parse_signing_profiles(&items)
        .map_err(|e| UsageError(format!("Invalid value for '--signing-profiles': {e}")))
}

/// The pure merge of flags over config values.
pub fn merge(
    args: &DeployArgs,
    cfg: &IndexMap<String, ConfigValue>,
    cwd: &Path,
    config_file: Option<PathBuf>,
) -> Result<DeploySettings, UsageError> {
    merge_with(
        args,
        cfg,
        cwd,
        config_file,
        &Environment::default(),
        args.guided,
    )
}

/// The merge with sam's precedence: flag, then environment variable (for the options that have
/// one), then samconfig, then the default.
fn merge_with(
    args: &DeployArgs,
    cfg: &IndexMap<String, ConfigValue>,
    cwd: &Path,
    config_file: Option<PathBuf>,
    env: &Environment,
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
    let items = |flag: &[String], key: &str| {
        if flag.is_empty() {
            cfg::items(cfg, key)
        } else {
            Ok(values::Item::texts(flag))
        }
    };

    let template_file = match args
        .template_file
        .clone()
        .or_else(|| env.template_file.clone().map(PathBuf::from))
        .or_else(|| cfg::string(cfg, "template_file").map(PathBuf::from))
        .or_else(|| cfg::string(cfg, "template").map(PathBuf::from))
    {
        Some(path) => cwd.join(path),
        None => default_template(cwd),
    };
    let output = match args.output {
        Some(format) => format.into(),
        None => match cfg::string(cfg, "output") {
            None => OutputFormat::default(),
            Some(text) => OutputFormat::parse(&text).ok_or_else(|| {
                UsageError(format!(
                    "output in samconfig must be text, json or markdown, not {text:?}"
                ))
            })?,
        },
    };
    let confirm_changeset = switch(
        args.confirm_changeset,
        args.no_confirm_changeset,
        "confirm_changeset",
        false,
    )?;
    if output == OutputFormat::Json {
        if guided {
            return Err(UsageError(
                "--guided is not compatible with --output json".into(),
            ));
        }
        if confirm_changeset {
            return Err(UsageError(
                "--confirm-changeset is not compatible with --output json".into(),
            ));
        }
    }
    let language_extensions = switch(
        args.language_extensions,
        args.no_language_extensions,
        "language_extensions",
        env.language_extensions,
    )?;
    // Read for sam's sake (a samconfig value must still be a boolean); samrs has no beta features.
    switch(
        args.common.beta_features,
        args.common.no_beta_features,
        "beta_features",
        false,
    )?;
    let warnings: Vec<String> = ignored_arguments(&args.common.extra).into_iter().collect();
    let stack_name = match string(&args.stack_name, "stack_name") {
        Some(name) => name,
        None if guided => String::new(),
        None => return Err(UsageError("Missing option '--stack-name', 'samrs deploy --guided' can be used to provide and save needed parameters for future deploys.".into())),
    };
    let s3_bucket = string(&args.s3_bucket, "s3_bucket");
    let resolve_s3 = switch(args.resolve_s3, args.no_resolve_s3, "resolve_s3", false)?;
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
        tags: values::parse_tags(&items(&args.tags, "tags")?)?,
        parameter_overrides: overrides::resolve(
            &items(&args.parameter_overrides, "parameter_overrides")?,
            cwd,
        )?,
        capabilities: values::split_list(&list(&args.capabilities, "capabilities")?),
        no_execute_changeset: flag(args.no_execute_changeset, "no_execute_changeset")?,
        fail_on_empty_changeset: switch(
            args.fail_on_empty_changeset,
            args.no_fail_on_empty_changeset,
            "fail_on_empty_changeset",
            true,
        )?,
        confirm_changeset,
        disable_rollback,
        force_upload: flag(args.force_upload, "force_upload")?,
        on_failure,
        max_wait: max_wait(args.max_wait_duration, cfg, env)?,
        express: express(args.express, args.no_express, cfg)?,
        signing_profiles: signing_profiles(args, cfg)?,
        dry_run: args.dry_run,
        wait_for_cleanup: flag(args.wait_for_cleanup, "wait_for_cleanup")?,
        plan_out: args.plan_out.as_ref().map(|path| cwd.join(path)),
        output,
        config_file,
        metadata: match args
            .metadata
            .clone()
            .or_else(|| cfg::string(cfg, "metadata"))
        {
            Some(text) => values::parse_metadata(&text)?,
            None => match cfg.get("metadata") {
                Some(ConfigValue::Map(pairs)) => pairs.clone(),
                _ => Vec::new(),
            },
        },
        use_json: flag(args.use_json, "use_json")?,
        no_progressbar: flag(args.no_progressbar, "no_progressbar")?,
        debug: args.common.debug || env.debug || cfg::boolean(cfg, "debug")?.unwrap_or(false),
        save_params: flag(args.common.save_params, "save_params")?,
        language_extensions,
        warnings,
        environment: env.clone(),
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
        let dir = tempfile::tempdir().unwrap();
        let s = resolve(&args(&["--guided"]), dir.path()).unwrap();
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

    /// Every real samconfig file of shared/real-world resolves, for deploy and delete, in every
    /// environment it defines, and every key of its deploy and delete tables is honoured or named
    /// in a warning: nothing is dropped silently.
    #[test]
    fn real_world_samconfig_files_resolve_with_no_silent_drops() {
        let dir = Path::new("/work/shared/real-world/samconfig");
        let mut resolved = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let source = entry.unwrap().path();
            let name = source.file_name().unwrap().to_string_lossy().into_owned();
            if name.contains("invalid-syntax") {
                continue;
            }
            let extension = if name.contains(".yaml") || name.contains(".yml") {
                "yaml"
            } else {
                "toml"
            };
            let work = tempfile::tempdir().unwrap();
            let target = work.path().join(format!("samconfig.{extension}"));
            std::fs::copy(&source, &target).unwrap();
            let file = config::load(&target).unwrap();
            let environments: Vec<String> = file.environments().map(str::to_string).collect();
            for env in environments {
                let deploy = resolve(
                    &args(&["--config-env", &env, "--stack-name", "s"]),
                    work.path(),
                )
                .unwrap_or_else(|e| panic!("{name} [{env}]: {e:#}"));
                let delete_args = crate::cli::DeleteArgs {
                    config: crate::cli::ConfigArgs {
                        config_env: Some(env.clone()),
                        ..Default::default()
                    },
                    ..Default::default()
                };
                let delete = resolve_delete(&delete_args, work.path())
                    .unwrap_or_else(|e| panic!("{name} [{env}] delete: {e:#}"));
                for (command, known, warnings) in [
                    ("deploy", keys::DEPLOY_KEYS, &deploy.warnings),
                    ("delete", keys::DELETE_KEYS, &delete.warnings),
                ] {
                    for key in file.own_parameters(&env, command).keys() {
                        let honoured = known
                            .iter()
                            .any(|(k, u)| k == key && *u == keys::Use::Honoured);
                        let warned = warnings.iter().any(|w| w.contains(&format!("'{key}'")));
                        assert!(
                            honoured || warned,
                            "{name} [{env}.{command}] {key} dropped silently"
                        );
                    }
                }
                resolved += 1;
            }
        }
        assert!(resolved >= 30, "{resolved} environments resolved");
    }

    #[test]
    fn real_world_values_keep_their_meaning() {
        let dir = Path::new("/work/shared/real-world/samconfig");
        let work = tempfile::tempdir().unwrap();
        std::fs::copy(
            dir.join("aws-samples__serverless-samples__owasp-api-security-controls-demo__owasp-api-security-controls-demo__samconfig.toml.example"),
            work.path().join("samconfig.toml"),
        )
        .unwrap();
        let s = resolve(&args(&[]), work.path()).unwrap();
        // Array items with spaces in their values stay one parameter each.
        assert_eq!(s.parameter_overrides.len(), 8);
        assert_eq!(
            s.parameter_overrides[0],
            ("AdminEmail".to_string(), "<email 1>".to_string())
        );
        assert!(s.warnings.is_empty(), "{:?}", s.warnings);

        let work = tempfile::tempdir().unwrap();
        std::fs::copy(
            dir.join("codeforamerica__document-transfer-lambda__samconfig.yaml"),
            work.path().join("samconfig.yaml"),
        )
        .unwrap();
        let s = resolve(&args(&["--config-env", "prod"]), work.path()).unwrap();
        let subnets = s
            .parameter_overrides
            .iter()
            .find(|(k, _)| k == "Subnets")
            .unwrap();
        assert_eq!(
            subnets.1,
            "subnet-01ea7634ed726dfc3,subnet-03591e096e32ebd2f,subnet-07fb5fe13fc75c576"
        );
        assert_eq!(
            s.tags[0],
            ("environment".to_string(), "production".to_string())
        );
    }
}
