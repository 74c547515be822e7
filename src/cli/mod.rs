//! Command-line surface: clap types only, with the SAM CLI's flag names and meanings.
//!
//! Nothing here decides anything: `settings` turns these raw flags plus `samconfig.toml` into the
//! resolved settings the rest of samrs uses, so precedence lives in one place.

pub mod docs;

use std::path::PathBuf;

use clap::{Arg, ArgAction, Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::help::{self, Topic};

/// A fast, drop-in `sam deploy` with managed ECR companion stacks.
#[derive(Debug, Parser)]
// A repeated option is not a mistake for click (the last one wins); nor for samrs.
#[command(
    name = "samrs",
    version,
    about,
    propagate_version = true,
    args_override_self = true,
    after_help = "A command's options, examples, environment variables and exit statuses: \
                  samrs <COMMAND> --help; all in one page: samrs man",
    mut_subcommand("deploy", |c| with_help_layout(c, Topic::Deploy)),
    mut_subcommand("delete", |c| with_help_layout(c, Topic::Delete))
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Deploy an AWS SAM application (like `sam deploy`).
    Deploy(Box<DeployArgs>),
    /// Delete a deployed application, its companion stack and its artifacts (like `sam delete`).
    Delete(DeleteArgs),
    /// Carry out a plan saved by `samrs deploy --plan-out FILE`, exactly as it was reviewed.
    Apply(ApplyArgs),
    /// Print a shell completion script: bash, zsh, fish, powershell or elvish.
    ///
    /// E.g. `samrs completions bash > ~/.local/share/bash-completion/completions/samrs`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): every command, option, environment variable and exit status.
    ///
    /// E.g. `samrs man > ~/.local/share/man/man1/samrs.1`.
    Man,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum OutputFormat {
    /// Tables and messages for people (plain text when not on a terminal).
    #[default]
    Text,
    /// One JSON document on stdout, for scripts.
    Json,
}

/// How a deploy's results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum DeployOutputFormat {
    /// Tables and messages for people (plain text when not on a terminal).
    #[default]
    Text,
    /// One JSON document on stdout, for scripts.
    Json,
    /// The change set as a Markdown table on stdout, for a pull-request comment.
    Markdown,
}

/// Where and as whom AWS is called, shared by every command.
#[derive(Debug, Args, Default)]
pub struct AwsArgs {
    /// AWS region.
    #[arg(long)]
    pub region: Option<String>,

    /// AWS credentials profile.
    #[arg(long)]
    pub profile: Option<String>,
}

/// Which samconfig file and environment the defaults come from, shared by every command.
#[derive(Debug, Args, Default)]
pub struct ConfigArgs {
    /// Configuration file [default: samconfig.toml].
    #[arg(long)]
    pub config_file: Option<PathBuf>,

    /// Environment (table) in the configuration file [default: default].
    #[arg(long)]
    pub config_env: Option<String>,
}

/// `samrs deploy`: the flags of `sam deploy`, plus samrs's own (`--dry-run`, `--output`).
#[derive(Debug, Args, Default)]
pub struct DeployArgs {
    /// Ask for the deploy settings interactively and save them to samconfig.toml.
    #[arg(short = 'g', long)]
    pub guided: bool,

    /// The SAM template [default: .aws-sam/build/template.yaml if present, else template.yaml/template.yml].
    #[arg(short = 't', long = "template-file", visible_alias = "template")]
    pub template_file: Option<PathBuf>,

    /// Name of the CloudFormation stack to deploy to.
    // A name like "-app" is taken as the (invalid) name it is, not as a flag.
    #[arg(long, allow_hyphen_values = true)]
    pub stack_name: Option<String>,

    /// S3 bucket for artifacts and templates.
    #[arg(long)]
    pub s3_bucket: Option<String>,

    /// Prefix for the names of uploaded artifacts.
    #[arg(long)]
    pub s3_prefix: Option<String>,

    /// Create (or reuse) the managed S3 bucket `aws-sam-cli-managed-default`.
    #[arg(long, overrides_with = "no_resolve_s3")]
    pub resolve_s3: bool,
    #[arg(long, hide = true, overrides_with = "resolve_s3")]
    pub no_resolve_s3: bool,

    /// One ECR repository URI for all image functions.
    #[arg(long)]
    pub image_repository: Option<String>,

    /// Function=ECR_URI mappings for image functions (repeatable).
    #[arg(long, num_args = 1.., action = clap::ArgAction::Append)]
    pub image_repositories: Vec<String>,

    /// Create and delete ECR repositories for image functions in a managed companion stack.
    #[arg(long)]
    pub resolve_image_repos: bool,

    /// Managed repositories: expire all but the newest N images.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub image_repos_keep_last: Option<u32>,

    /// Managed repositories: expire untagged images this many days after their push.
    #[arg(long, value_name = "DAYS", allow_negative_numbers = true)]
    pub image_repos_expire_untagged_days: Option<u32>,

    /// Managed repositories: scan each image for vulnerabilities when it is pushed.
    #[arg(long)]
    pub image_repos_scan_on_push: bool,

    /// Managed repositories: tags cannot be moved to another image.
    #[arg(long)]
    pub image_repos_immutable_tags: bool,

    /// Managed repositories: encrypt images with this KMS key instead of AES256.
    #[arg(long, value_name = "KEY")]
    pub image_repos_kms_key: Option<String>,

    /// KMS key for the artifacts uploaded to S3.
    #[arg(long)]
    pub kms_key_id: Option<String>,

    /// IAM role that CloudFormation assumes for the stack operations.
    #[arg(long)]
    pub role_arn: Option<String>,

    /// SNS topic ARNs that CloudFormation notifies of stack events.
    #[arg(long, num_args = 1.., action = clap::ArgAction::Append)]
    pub notification_arns: Vec<String>,

    /// Tags for the stack: Key=Value pairs, separated by spaces.
    #[arg(long, num_args = 1.., action = clap::ArgAction::Append)]
    pub tags: Vec<String>,

    /// Template parameter values: Key=Value or ParameterKey=Key,ParameterValue=Value.
    #[arg(long, num_args = 1.., action = clap::ArgAction::Append)]
    pub parameter_overrides: Vec<String>,

    /// Capabilities CloudFormation needs (CAPABILITY_IAM, CAPABILITY_NAMED_IAM, ...).
    #[arg(long, num_args = 1.., action = clap::ArgAction::Append)]
    pub capabilities: Vec<String>,

    /// Create the change set and stop without executing it.
    #[arg(long)]
    pub no_execute_changeset: bool,

    /// Exit non-zero when there is nothing to deploy (the default).
    #[arg(long, overrides_with = "no_fail_on_empty_changeset")]
    pub fail_on_empty_changeset: bool,
    /// Exit zero when there is nothing to deploy.
    #[arg(long, overrides_with = "fail_on_empty_changeset")]
    pub no_fail_on_empty_changeset: bool,

    /// Show the change set and ask before executing it.
    #[arg(long, overrides_with = "no_confirm_changeset")]
    pub confirm_changeset: bool,
    /// Execute the change set without asking.
    #[arg(long, overrides_with = "confirm_changeset")]
    pub no_confirm_changeset: bool,

    /// Keep the resources of a failed deploy instead of rolling back.
    #[arg(long, overrides_with = "no_disable_rollback")]
    pub disable_rollback: bool,
    #[arg(long, hide = true, overrides_with = "disable_rollback")]
    pub no_disable_rollback: bool,

    /// Upload artifacts even when the same content is already in S3.
    #[arg(long)]
    pub force_upload: bool,

    /// What happens when creating or updating the stack fails: ROLLBACK (the default) rolls back,
    /// DELETE also deletes a stack that failed to create, DO_NOTHING keeps the failed resources
    /// (as --disable-rollback).
    #[arg(
        long,
        value_parser = ["ROLLBACK", "DELETE", "DO_NOTHING"],
        conflicts_with_all = ["disable_rollback", "no_disable_rollback"]
    )]
    pub on_failure: Option<String>,

    /// Stop waiting for a stack operation after this many minutes (CloudFormation goes on) [default: 60].
    #[arg(long, value_name = "MINUTES", allow_negative_numbers = true)]
    pub max_wait_duration: Option<i64>,

    /// Deploy in CloudFormation Express mode: done once resource configuration is applied,
    /// without waiting for full stabilization.
    #[arg(long, overrides_with = "no_express")]
    pub express: bool,
    #[arg(long, hide = true, overrides_with = "express")]
    pub no_express: bool,

    /// Sign zip artifacts with AWS Signer: FunctionOrLayer=ProfileName[:ProfileOwner] ...
    #[arg(long, num_args = 1.., action = clap::ArgAction::Append)]
    pub signing_profiles: Vec<String>,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    /// Print what would be done and change nothing (the change set is created, shown and deleted).
    #[arg(long)]
    pub dry_run: bool,

    /// Wait for the companion stack's clean-up (retired repositories removed) to finish instead
    /// of leaving it running in CloudFormation, where the next deploy checks its outcome.
    #[arg(long)]
    pub wait_for_cleanup: bool,

    /// Upload the artifacts and create the change set, push no image and execute nothing, and
    /// save the plan to FILE for `samrs apply FILE`.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["dry_run", "guided"])]
    pub plan_out: Option<PathBuf>,

    /// Output format: text (default), one JSON document on stdout for scripts, or the changes as
    /// a Markdown table on stdout for a pull-request comment (any case).
    #[arg(long, value_enum, ignore_case = true)]
    pub output: Option<DeployOutputFormat>,

    /// Map of metadata attached to every artifact uploaded to S3: Key=Value,Key2=Value2 or a
    /// JSON object.
    #[arg(long, value_name = "METADATA")]
    pub metadata: Option<String>,

    /// Send the packaged template to CloudFormation (and S3) as JSON instead of YAML.
    #[arg(long)]
    pub use_json: bool,

    /// Draw no progress bars for uploads and image pushes.
    #[arg(long)]
    pub no_progressbar: bool,

    /// Expand AWS::LanguageExtensions locally (accepted for sam compatibility; CloudFormation
    /// expands them, see the README). Also SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS=1.
    #[arg(long, overrides_with = "no_language_extensions")]
    pub language_extensions: bool,
    #[arg(long, hide = true, overrides_with = "language_extensions")]
    pub no_language_extensions: bool,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// The options every sam command has: `--debug`, `--beta-features`, `--save-params`, and the
/// positional arguments sam ignores.
#[derive(Debug, Args, Default)]
pub struct CommonArgs {
    /// Print how the settings were resolved and every AWS call made, on stderr (also SAM_DEBUG=1).
    #[arg(long)]
    pub debug: bool,

    /// Enable beta features (samrs has none: accepted for sam compatibility).
    #[arg(long, overrides_with = "no_beta_features")]
    pub beta_features: bool,
    /// Disable beta features.
    #[arg(long, overrides_with = "beta_features")]
    pub no_beta_features: bool,

    /// Save the parameters given on the command line to the configuration file.
    #[arg(long)]
    pub save_params: bool,

    /// Extra arguments: sam ignores them, samrs too (with a warning).
    #[arg(hide = true, num_args = 0..)]
    pub extra: Vec<String>,
}

/// Lays out a subcommand's help as `topic` says: its options under sam's headings (and samrs's
/// own), in that order, then examples; `--help` adds the environment variables and exit
/// statuses. `--help` and `--version` are declared here so that they too sit under a heading.
fn with_help_layout(command: clap::Command, topic: Topic) -> clap::Command {
    let header = command.get_styles().get_header().to_owned();
    let heading = move |text: &str| format!("{header}{text}{header:#}");
    let mut command = command
        .disable_help_flag(true)
        .disable_version_flag(true)
        .arg(
            Arg::new("help")
                .short('h')
                .long("help")
                .action(ArgAction::Help)
                .help("Print help (see more with '--help')")
                .long_help("Print help (see a summary with '-h')"),
        )
        .arg(
            Arg::new("version")
                .short('V')
                .long("version")
                .action(ArgAction::Version)
                .help("Print version"),
        )
        .after_help(help::short_after_options(topic, &heading))
        .after_long_help(help::long_after_options(topic, &heading));
    // mut_arg moves an argument to the end, so going through the groups in order also orders
    // the headings (clap shows them in the order of their first argument).
    let mut position = 0;
    for group in topic.groups() {
        for option in group.options {
            let long = option.trim_start_matches("--");
            let id = command
                .get_arguments()
                .find(|arg| arg.get_long() == Some(long))
                .map(|arg| arg.get_id().clone());
            if let Some(id) = id {
                command = command.mut_arg(id, |arg| {
                    arg.help_heading(group.heading).display_order(position)
                });
                position += 1;
            }
        }
    }
    command
}

/// `samrs --help` on stdout, exit status 0 (what `samrs` alone does, as `sam` alone does).
pub fn print_help() -> std::process::ExitCode {
    match Cli::command().print_help() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(_) => std::process::ExitCode::FAILURE,
    }
}

/// A command-line mistake as one line, as every other error is printed: clap's first line, then
/// its tips and possible values, then where to look (the `--help` of `subcommand`, when known).
pub fn usage_error_line(err: &clap::Error, subcommand: Option<&str>) -> String {
    let argv: Vec<String> = std::env::args().collect();
    if let Some(line) = rollback_conflict(err, &argv) {
        return line;
    }
    let rendered = err.render().to_string();
    let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut line = lines
        .next()
        .unwrap_or_default()
        .trim_start_matches("error: ")
        .to_string();
    for extra in lines {
        if let Some(tip) = extra.strip_prefix("tip: ") {
            // Only sam's ignored positional arguments make clap offer this; it never helps.
            if tip.starts_with("to pass '") {
                continue;
            }
            line.push_str("; ");
            line.push_str(tip);
        } else if extra.starts_with('[') {
            line.push(' ');
            line.push_str(extra);
        }
    }
    let command = match subcommand {
        Some(sub) => format!("samrs {sub}"),
        None => "samrs".to_string(),
    };
    format!("{line}; see '{command} --help'")
}

/// sam's words for `--on-failure` given with `--disable-rollback` (or `--no-disable-rollback`),
/// naming first the flag given first in `argv` (clap reports conflicts in definition order).
fn rollback_conflict(err: &clap::Error, argv: &[String]) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    if err.kind() != clap::error::ErrorKind::ArgumentConflict {
        return None;
    }
    let named = |kind| match err.get(kind)? {
        ContextValue::String(arg) => Some(arg.clone()),
        ContextValue::Strings(args) => args.first().cloned(),
        _ => None,
    };
    let pair = [
        named(ContextKind::InvalidArg)?,
        named(ContextKind::PriorArg)?,
    ];
    let is = |flag: &str| pair.iter().any(|arg| arg.starts_with(flag));
    if !is("--on-failure") || !(is("--disable-rollback") || is("--no-disable-rollback")) {
        return None;
    }
    let rollback_first = argv
        .iter()
        .find_map(|arg| {
            let flag = arg.split('=').next().unwrap_or_default();
            match flag {
                "--on-failure" => Some(false),
                "--disable-rollback" | "--no-disable-rollback" => Some(true),
                _ => None,
            }
        })
        .unwrap_or(false);
    let (first, second) = if rollback_first {
        ("--disable-rollback", "--on-failure")
    } else {
        ("--on-failure", "--disable-rollback")
    };
    Some(format!(
        "You must not provide both the {first} and {second} parameters."
    ))
}

/// The options of the subcommand that were typed on the command line (clap ids, the field
/// names), in the order they were typed: what `--save-params` saves, in sam's order.
pub fn given_on_command_line<I, T>(argv: I) -> Vec<String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::parser::ValueSource;

    let Ok(matches) = Cli::command().try_get_matches_from(argv) else {
        return Vec::new();
    };
    let Some((_, sub)) = matches.subcommand() else {
        return Vec::new();
    };
    let mut given: Vec<(usize, String)> = sub
        .ids()
        .filter(|id| sub.value_source(id.as_str()) == Some(ValueSource::CommandLine))
        .filter_map(|id| {
            let index = sub.indices_of(id.as_str())?.next()?;
            Some((index, id.to_string()))
        })
        .collect();
    given.sort();
    given.into_iter().map(|(_, id)| id).collect()
}

/// `samrs delete`: the flags of `sam delete`, plus `--orphans`.
#[derive(Debug, Args, Default)]
pub struct DeleteArgs {
    /// Name of the stack to delete.
    #[arg(long)]
    pub stack_name: Option<String>,

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    /// Do not ask; answer yes to every question.
    #[arg(long)]
    pub no_prompts: bool,

    /// Bucket holding the stack's artifacts (default: read from the deployed template).
    #[arg(long)]
    pub s3_bucket: Option<String>,

    /// Prefix of the stack's artifacts.
    #[arg(long)]
    pub s3_prefix: Option<String>,

    /// Instead of one stack: find companion stacks whose parent stack no longer exists in the
    /// region, and delete them with their repositories.
    #[arg(long, conflicts_with = "stack_name")]
    pub orphans: bool,

    /// Delete in CloudFormation Express mode: done once resource deletion is initiated, without
    /// waiting for full cleanup.
    #[arg(long, overrides_with = "no_express")]
    pub express: bool,
    #[arg(long, hide = true, overrides_with = "express")]
    pub no_express: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,

    #[command(flatten)]
    pub common: CommonArgs,
}

/// `samrs apply`: a saved plan's file, and the options that make sense for carrying it out (its
/// other settings are the plan's).
#[derive(Debug, Args, Default)]
pub struct ApplyArgs {
    /// The plan file written by `samrs deploy --plan-out FILE`.
    #[arg(value_name = "FILE")]
    pub plan_file: PathBuf,

    /// AWS region: must be the plan's.
    #[arg(long)]
    pub region: Option<String>,

    /// AWS credentials profile: must be for the plan's account.
    #[arg(long)]
    pub profile: Option<String>,

    /// Stop waiting for a stack operation after this many minutes (CloudFormation goes on)
    /// [default: the plan's].
    #[arg(long, value_name = "MINUTES", allow_negative_numbers = true)]
    pub max_wait_duration: Option<i64>,

    /// Output format: text (default), or one JSON document on stdout for scripts (any case).
    #[arg(long, value_enum, ignore_case = true)]
    pub output: Option<OutputFormat>,

    /// Draw no progress bars for image pushes.
    #[arg(long)]
    pub no_progressbar: bool,

    /// Print how the settings were resolved and every AWS call made, on stderr (also SAM_DEBUG=1).
    #[arg(long)]
    pub debug: bool,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn repeated_and_multi_value_flags_collect_in_order() {
        let cli = Cli::parse_from([
            "samrs",
            "deploy",
            "--capabilities",
            "CAPABILITY_IAM",
            "CAPABILITY_AUTO_EXPAND",
            "--parameter-overrides",
            "A=1",
            "--parameter-overrides",
            "B=2",
            "--no-confirm-changeset",
        ]);
        let Command::Deploy(args) = cli.command else {
            panic!("deploy expected");
        };
        assert_eq!(
            args.capabilities,
            ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
        );
        assert_eq!(args.parameter_overrides, ["A=1", "B=2"]);
        assert!(args.no_confirm_changeset && !args.confirm_changeset);
    }

    fn parse_error(argv: &[&str]) -> String {
        let err = Cli::try_parse_from(argv).unwrap_err();
        usage_error_line(&err, argv.get(1).copied().filter(|a| !a.starts_with('-')))
    }

    #[test]
    fn parse_errors_are_one_line_with_their_tips() {
        assert_eq!(
            parse_error(&["samrs", "deploy", "--stack"]),
            "unexpected argument '--stack' found; a similar argument exists: '--stack-name'; see 'samrs deploy --help'"
        );
        assert_eq!(
            parse_error(&["samrs", "deploy", "--output", "xml"]),
            "invalid value 'xml' for '--output <OUTPUT>' [possible values: text, json, markdown]; see 'samrs deploy --help'"
        );
        assert_eq!(
            parse_error(&["samrs", "deploy", "--stack-name"]),
            "a value is required for '--stack-name <STACK_NAME>' but none was supplied; see 'samrs deploy --help'"
        );
    }

    /// The long options listed by `sam <command> --help` of SAM CLI 1.170 (kept in tests/data),
    /// heading by heading.
    fn sam_option_groups(help: &str) -> Vec<(String, Vec<String>)> {
        let option = regex::Regex::new(r"--[a-z][a-z0-9-]+").expect("valid regex");
        let mut groups: Vec<(String, Vec<String>)> = Vec::new();
        for line in help.lines() {
            if let Some(heading) = line.strip_suffix(':').filter(|h| !h.starts_with(' ')) {
                groups.push((heading.to_string(), Vec::new()));
                continue;
            }
            // Option lines are indented by four spaces; descriptions (which may also start with
            // an option's name) by more.
            let Some(head) = line.strip_prefix("    ").filter(|h| h.starts_with('-')) else {
                continue;
            };
            let Some((_, names)) = groups.last_mut() else {
                continue;
            };
            let head = head.split("  ").next().unwrap_or_default();
            for name in option.find_iter(head) {
                if !names.iter().any(|n| n == name.as_str()) {
                    names.push(name.as_str().to_string());
                }
            }
        }
        groups.retain(|(_, names)| !names.is_empty());
        groups
    }

    fn sam_options(help: &str) -> Vec<String> {
        sam_option_groups(help)
            .into_iter()
            .flat_map(|(_, names)| names)
            .collect()
    }

    const SAM_DEPLOY_HELP: &str = include_str!("../../tests/data/sam-1.170/deploy-help.txt");
    const SAM_DELETE_HELP: &str = include_str!("../../tests/data/sam-1.170/delete-help.txt");
    const SAM_HELP: [(Topic, &str); 2] = [
        (Topic::Deploy, SAM_DEPLOY_HELP),
        (Topic::Delete, SAM_DELETE_HELP),
    ];

    pub(crate) fn sam_deploy_options() -> Vec<String> {
        sam_options(SAM_DEPLOY_HELP)
    }

    pub(crate) fn sam_delete_options() -> Vec<String> {
        sam_options(SAM_DELETE_HELP)
    }

    /// A value that each option accepts, for the table below.
    fn sample_value(option: &str) -> Option<&'static str> {
        Some(match option {
            "--stack-name" => "app",
            "--capabilities" => "CAPABILITY_IAM",
            "--region" => "eu-west-1",
            "--profile" => "ci",
            "--parameter-overrides" => "A=1",
            "--s3-bucket" | "--s3-prefix" | "--kms-key-id" | "--config-env" => "x",
            "--image-repository" => "123456789012.dkr.ecr.us-east-1.amazonaws.com/r",
            "--image-repositories" => "Fn=123456789012.dkr.ecr.us-east-1.amazonaws.com/r",
            "--role-arn" => "arn:aws:iam::123456789012:role/r",
            "--notification-arns" => "arn:aws:sns:us-east-1:123456789012:t",
            "--tags" => "a=b",
            "--metadata" => "a=b",
            "--config-file" => "samconfig.toml",
            "--template-file" | "--template" => "template.yaml",
            "--output" => "json",
            "--on-failure" => "DELETE",
            "--max-wait-duration" => "5",
            "--signing-profiles" => "Fn=Profile",
            _ => return None,
        })
    }

    fn parses(argv: &[&str]) -> Result<(), String> {
        Cli::try_parse_from(argv)
            .map(drop)
            .map_err(|e| usage_error_line(&e, argv.get(1).copied()))
    }

    #[test]
    fn every_option_of_sam_1_170_is_accepted_in_each_of_its_forms() {
        for (command, options) in [
            ("deploy", sam_deploy_options()),
            ("delete", sam_delete_options()),
        ] {
            assert!(options.len() > 10, "{command}: {options:?}");
            for option in &options {
                if option == "--help" {
                    continue;
                }
                match sample_value(option) {
                    Some(value) => {
                        parses(&["samrs", command, option, value])
                            .unwrap_or_else(|e| panic!("{command} {option} {value}: {e}"));
                        let joined = format!("{option}={value}");
                        parses(&["samrs", command, &joined])
                            .unwrap_or_else(|e| panic!("{command} {joined}: {e}"));
                        // Repeated: click keeps the last; samrs accepts it too.
                        parses(&["samrs", command, option, value, option, value])
                            .unwrap_or_else(|e| panic!("{command} {option} twice: {e}"));
                    }
                    None => {
                        parses(&["samrs", command, option])
                            .unwrap_or_else(|e| panic!("{command} {option}: {e}"));
                        parses(&["samrs", command, option, option])
                            .unwrap_or_else(|e| panic!("{command} {option} twice: {e}"));
                    }
                }
            }
            // Extra positional arguments before and after the options, as sam ignores them.
            parses(&["samrs", command, "extra", "--stack-name", "app", "more"]).unwrap();
        }
    }

    #[test]
    fn sams_value_forms_reach_the_arguments() {
        let cli = Cli::parse_from([
            "samrs",
            "deploy",
            "stray",
            "--stack-name=app",
            "--capabilities=CAPABILITY_IAM,CAPABILITY_AUTO_EXPAND",
            "--tags",
            "a=b",
            "c=d",
            "--output",
            "JSON",
            "--metadata",
            "{\"k\": \"v\"}",
            "-t",
            "t.yaml",
        ]);
        let Command::Deploy(args) = cli.command else {
            panic!("deploy expected");
        };
        assert_eq!(args.stack_name.as_deref(), Some("app"));
        assert_eq!(args.capabilities, ["CAPABILITY_IAM,CAPABILITY_AUTO_EXPAND"]);
        assert_eq!(args.tags, ["a=b", "c=d"]);
        assert_eq!(args.output, Some(DeployOutputFormat::Json));
        assert_eq!(args.metadata.as_deref(), Some("{\"k\": \"v\"}"));
        assert_eq!(args.common.extra, ["stray"]);
        assert_eq!(
            args.template_file.as_deref(),
            Some(std::path::Path::new("t.yaml"))
        );
    }

    #[test]
    fn options_given_are_listed_in_command_line_order() {
        let given = given_on_command_line([
            "samrs",
            "deploy",
            "--tags",
            "a=b",
            "--stack-name",
            "s",
            "--no-confirm-changeset",
            "x",
        ]);
        assert_eq!(
            given,
            ["tags", "stack_name", "no_confirm_changeset", "extra"]
        );
    }

    #[test]
    fn on_failure_with_disable_rollback_is_refused_in_sams_words() {
        let conflict = |argv: &[&str]| {
            let err = Cli::try_parse_from(argv).unwrap_err();
            let argv: Vec<String> = argv.iter().map(|a| a.to_string()).collect();
            rollback_conflict(&err, &argv)
        };
        assert_eq!(
            conflict(&[
                "samrs",
                "deploy",
                "--on-failure",
                "DELETE",
                "--disable-rollback"
            ])
            .as_deref(),
            Some("You must not provide both the --on-failure and --disable-rollback parameters.")
        );
        assert_eq!(
            conflict(&[
                "samrs",
                "deploy",
                "--disable-rollback",
                "--on-failure",
                "DELETE"
            ])
            .as_deref(),
            Some("You must not provide both the --disable-rollback and --on-failure parameters.")
        );
        assert_eq!(
            conflict(&[
                "samrs",
                "deploy",
                "--no-disable-rollback",
                "--on-failure=DO_NOTHING"
            ])
            .as_deref(),
            Some("You must not provide both the --disable-rollback and --on-failure parameters.")
        );
        assert_eq!(
            conflict(&["samrs", "delete", "--orphans", "--stack-name", "a"]),
            None
        );
        assert!(parse_error(&["samrs", "deploy", "--on-failure", "delete"])
            .contains("[possible values: ROLLBACK, DELETE, DO_NOTHING]"));
        assert!(
            parse_error(&["samrs", "deploy", "--max-wait-duration", "0.5"])
                .starts_with("invalid value '0.5' for '--max-wait-duration <MINUTES>'")
        );
    }

    #[test]
    fn later_flag_of_a_pair_wins() {
        let cli = Cli::parse_from([
            "samrs",
            "deploy",
            "--confirm-changeset",
            "--no-confirm-changeset",
        ]);
        let Command::Deploy(args) = cli.command else {
            panic!("deploy expected");
        };
        assert!(!args.confirm_changeset && args.no_confirm_changeset);
    }

    fn subcommand(topic: Topic) -> clap::Command {
        let mut cli = Cli::command();
        cli.build();
        cli.find_subcommand(topic.name())
            .expect("every topic is a subcommand")
            .clone()
    }

    /// The heading `option` (a long name or an alias) is shown under in `command`'s help.
    fn heading_of(command: &clap::Command, option: &str) -> Option<String> {
        let long = option.trim_start_matches("--");
        let arg = command.get_arguments().find(|arg| {
            arg.get_long() == Some(long)
                || arg
                    .get_all_aliases()
                    .is_some_and(|aliases| aliases.contains(&long))
        })?;
        arg.get_help_heading().map(str::to_string)
    }

    #[test]
    fn sams_options_sit_under_sams_headings() {
        for (topic, sam_help) in SAM_HELP {
            let command = subcommand(topic);
            let groups = sam_option_groups(sam_help);
            assert!(groups.len() >= 5, "{groups:?}");
            for (heading, options) in groups {
                for option in options {
                    assert_eq!(
                        heading_of(&command, &option).as_deref(),
                        Some(heading.as_str()),
                        "{} {option}",
                        topic.name()
                    );
                }
            }
        }
    }

    #[test]
    fn samrs_own_options_sit_under_headings_of_their_own() {
        for (topic, sam_help) in SAM_HELP {
            let command = subcommand(topic);
            let sams = sam_options(sam_help);
            let own_headings: Vec<&str> = topic
                .groups()
                .iter()
                .filter(|g| !g.from_sam)
                .map(|g| g.heading)
                .collect();
            // The positional arguments sam ignores are hidden, and under no heading.
            for arg in command.get_arguments().filter(|arg| !arg.is_positional()) {
                let long = format!("--{}", arg.get_long().unwrap_or_default());
                let Some(heading) = arg.get_help_heading() else {
                    panic!("{} {long}: no heading", topic.name());
                };
                // --version sits with --help, as clap's programs have it.
                if !sams.contains(&long) && long != "--version" {
                    assert!(
                        own_headings.contains(&heading),
                        "{} {long} is samrs's own, under {heading}",
                        topic.name()
                    );
                }
            }
        }
    }

    #[test]
    fn every_grouped_option_exists() {
        for topic in Topic::ALL {
            let command = subcommand(topic);
            for group in topic.groups() {
                for option in group.options {
                    assert!(
                        heading_of(&command, option).is_some(),
                        "{} has no {option}",
                        topic.name()
                    );
                }
            }
        }
    }

    #[test]
    fn every_example_is_a_valid_command_line() {
        for topic in Topic::ALL {
            assert!(!topic.examples().is_empty());
            for example in topic.examples() {
                let argv: Vec<&str> = example.command.split(' ').collect();
                assert_eq!(argv[..2], ["samrs", topic.name()], "{}", example.command);
                let cli = Cli::try_parse_from(&argv)
                    .unwrap_or_else(|e| panic!("{}: {e}", example.command));
                let named = match cli.command {
                    Command::Deploy(args) => args.common.extra.is_empty(),
                    Command::Delete(args) => args.common.extra.is_empty(),
                    _ => false,
                };
                assert!(named, "stray words in {}", example.command);
            }
        }
    }
}
