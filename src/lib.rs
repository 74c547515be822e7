//! samrs: a fast, drop-in `sam deploy` with managed ECR companion stacks.
//!
//! The module map, from the outside in:
//! - [`cli`]: clap types (flags only); [`settings`]: flags + samconfig → resolved settings.
//! - [`config`]: samconfig.toml/.yaml read and edit models.
//! - [`template`]: SAM/CloudFormation templates (short tags, JSON), image-function discovery.
//! - [`artifacts`] (pure) and [`package`] (uploads): `sam package` for local code.
//! - [`companion`]: pure naming, rendering and planning of the ECR companion stack.
//! - [`aws`], [`cloudformation`], [`s3`], [`ecr`], [`managed_bucket`]: the thin AWS shell.
//! - [`push`]: image pushes to ECR over the registry v2 API, without a Docker daemon.
//! - [`deploy`] and [`delete`]: walk the steps of each command; [`output`]: everything printed;
//!   [`interrupt`]: what Ctrl-C says while CloudFormation works on.
//! - [`docs`]: shell completions and the man page, generated from the clap definitions.

pub mod artifacts;
pub mod aws;
pub mod cli;
pub mod cloudformation;
pub mod companion;
pub mod config;
pub mod delete;
pub mod deploy;
pub mod docs;
pub mod ecr;
pub mod guided;
pub mod interrupt;
pub mod managed_bucket;
pub mod output;
pub mod package;
pub mod prompt;
pub mod push;
pub mod s3;
pub mod settings;
pub mod template;

use std::process::ExitCode;

use cli::{Cli, Command};

/// Runs a parsed command line and maps the result to sam's exit statuses: 0 done, 1 failed,
/// 2 a usage mistake.
pub fn run(cli: Cli) -> ExitCode {
    let result = match cli.command {
        Command::Deploy(args) => run_deploy(&args),
        Command::Delete(args) => run_delete(&args),
        Command::Completions { shell } => {
            docs::print(&docs::completions(shell)).map_err(Into::into)
        }
        Command::Man => docs::man_page()
            .and_then(|page| docs::print(&page))
            .map_err(Into::into),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {}", one_line(&err));
            if err.downcast_ref::<settings::UsageError>().is_some() {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

/// The error and its causes on one line, leaving out a cause whose text the line already holds
/// (many messages quote their cause, and `{:#}` would repeat it).
fn one_line(err: &anyhow::Error) -> String {
    let mut line = err.to_string();
    for cause in err.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line.replace('\n', " ")
}

fn run_deploy(args: &cli::DeployArgs) -> anyhow::Result<()> {
    interrupt::install(Some("samrs deploy"))?;
    let cwd = std::env::current_dir()?;
    let ui = output::Ui::new(args.output);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let settings = if args.guided {
            guided::run(args, &cwd, &ui).await?
        } else {
            settings::resolve(args, &cwd)?
        };
        deploy::run(&settings, &ui).await
    })?;
    Ok(())
}

fn run_delete(args: &cli::DeleteArgs) -> anyhow::Result<()> {
    interrupt::install(None)?;
    let cwd = std::env::current_dir()?;
    let settings = settings::resolve_delete(args, &cwd)?;
    let ui = output::Ui::new(cli::OutputFormat::Text);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(delete::run(&settings, &ui))
}
