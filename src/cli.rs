//! Command-line surface: clap types only, with the SAM CLI's flag names and meanings.
//!
//! Nothing here decides anything: `settings` turns these raw flags plus `samconfig.toml` into the
//! resolved settings the rest of samrs uses, so precedence lives in one place.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// A fast, drop-in `sam deploy` with managed ECR companion stacks.
#[derive(Debug, Parser)]
#[command(name = "samrs", version, about, propagate_version = true)]
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
    /// Print a shell completion script, e.g. `samrs completions bash > ~/.local/share/bash-completion/completions/samrs`.
    Completions {
        /// The shell to complete in.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `samrs man > ~/.local/share/man/man1/samrs.1`.
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

    #[command(flatten)]
    pub aws: AwsArgs,

    #[command(flatten)]
    pub config: ConfigArgs,

    /// Print what would be done and change nothing (the change set is created, shown and deleted).
    #[arg(long)]
    pub dry_run: bool,

    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub output: OutputFormat,
}

/// A command-line mistake as one line, as every other error is printed: clap's first line, then
/// its tips and possible values, then where to look (the `--help` of `subcommand`, when known).
pub fn usage_error_line(err: &clap::Error, subcommand: Option<&str>) -> String {
    // clap shows the whole help for this one; its first line is the tool's description.
    if err.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        return "samrs needs a command: deploy or delete; see 'samrs --help'".to_string();
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

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
            "invalid value 'xml' for '--output <OUTPUT>' [possible values: text, json]; see 'samrs deploy --help'"
        );
        assert_eq!(
            parse_error(&["samrs"]),
            "samrs needs a command: deploy or delete; see 'samrs --help'"
        );
        assert_eq!(
            parse_error(&["samrs", "deploy", "--stack-name"]),
            "a value is required for '--stack-name <STACK_NAME>' but none was supplied; see 'samrs deploy --help'"
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
}
