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

pub mod artifacts;
pub mod aws;
pub mod cli;
pub mod cloudformation;
pub mod companion;
pub mod config;
pub mod debug;
pub mod delete;
pub mod deploy;
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
    // Guided asks on a terminal, so its output is text; the other settings are resolved first
    // because samconfig may choose the output format.
    let resolved = if args.guided {
        None
    } else {
        Some(settings::resolve(args, &cwd)?)
    };
    let ui = output::Ui::new(
        resolved
            .as_ref()
            .map_or(cli::OutputFormat::Text, |s| s.output),
    );
    let ui = if resolved.as_ref().is_some_and(|s| s.no_progressbar) {
        ui.without_progress_bars()
    } else {
        ui
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let settings = match resolved {
            Some(settings) => {
                announce(
                    &ui,
                    settings.debug,
                    &settings.warnings,
                    &settings::debug_lines(&settings),
                );
                settings
            }
            // Guided announces its settings before its questions.
            None => guided::run(args, &cwd, &ui).await?,
        };
        if settings.save_params {
            let target = settings::save::target_file(
                settings.config_file.as_deref(),
                &settings::config_dir(args, &cwd),
                args.config.config_file.as_deref(),
            );
            let given = cli::given_on_command_line(std::env::args_os());
            let entries = settings::save::deploy_entries(&settings, &given);
            save_params(
                &ui,
                &target,
                args.config.config_env.as_deref(),
                "deploy",
                &entries,
                settings.region.as_deref(),
            )?;
        }
        deploy::run(&settings, &ui).await
    })?;
    Ok(())
}

fn run_delete(args: &cli::DeleteArgs) -> anyhow::Result<()> {
    interrupt::install(None)?;
    let cwd = std::env::current_dir()?;
    let settings = settings::resolve_delete(args, &cwd)?;
    let ui = output::Ui::new(cli::OutputFormat::Text);
    announce(
        &ui,
        settings.debug,
        &settings.warnings,
        &settings::delete_debug_lines(&settings),
    );
    if settings.save_params {
        let target = settings::save::target_file(
            settings.config_file.as_deref(),
            &cwd,
            args.config.config_file.as_deref(),
        );
        let given = cli::given_on_command_line(std::env::args_os());
        let entries = settings::save::delete_entries(&settings, &given);
        save_params(
            &ui,
            &target,
            args.config.config_env.as_deref(),
            "delete",
            &entries,
            settings.region.as_deref(),
        )?;
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(delete::run(&settings, &ui))
}

/// Before a command acts: the warnings about its settings, and (with `--debug`) how they were
/// resolved.
pub(crate) fn announce(ui: &output::Ui, debug: bool, warnings: &[String], debug_lines: &[String]) {
    for warning in warnings {
        ui.warn(warning);
    }
    if debug {
        debug::enable();
        for line in debug_lines {
            debug::log(line);
        }
    }
}

/// `--save-params`, before anything is deployed or deleted (as sam saves them): the region is
/// the one given, else the environment's.
fn save_params(
    ui: &output::Ui,
    target: &std::path::Path,
    env: Option<&str>,
    command: &str,
    entries: &[(&'static str, config::ConfigValue)],
    region: Option<&str>,
) -> anyhow::Result<()> {
    let region = region
        .map(str::to_string)
        .or_else(|| settings::Environment::from_process().region);
    let env = env.unwrap_or("default");
    config::save_command_parameters(target, env, command, entries, region.as_deref())?;
    ui.line(&format!(
        "Saved parameters to config file '{}' under environment '{env}': {}",
        target.file_name().map_or_else(
            || target.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        ),
        settings::save::summary(entries, region.as_deref())
    ));
    Ok(())
}
