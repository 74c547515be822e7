//! samrs: a fast, drop-in `sam deploy` with managed ECR companion stacks.
//!
//! The module map, from the outside in (ARCHITECTURE.md has the arrows allowed, checked by
//! tests/it/architecture.rs):
//! - [`cli`]: clap types (flags only) and [`help`]; [`settings`]: flags + samconfig +
//!   environment → resolved settings (the only reader of all three).
//! - Planning, pure: [`config`] (samconfig read and edit models), [`template`] (SAM templates,
//!   image-function discovery), [`artifacts`] (what `sam package` uploads), [`companion`] (the ECR
//!   companion stack's names, template and plan), [`stack_state`] (stacks as data), [`plan`] (the
//!   whole deploy as a [`plan::DeployPlan`]), [`events`] (what acting code reports).
//! - Acting: [`aws`], [`network`], [`calls`], [`cloudformation`], [`s3`], [`ecr`], [`lambda`]
//!   (thin calls);
//!   [`stackops`] (stack operations every command shares), [`managed_bucket`], [`package`],
//!   [`signing`], [`push`] (registry v2 pushes without a Docker daemon).
//! - Commands: [`deploy`] (observe, plan, execute; `--plan-out` saves the plan, `apply` resumes
//!   it), [`delete`]; [`guided`] asks sam's questions.
//! - UI: [`output`] (text, tables, the JSON document, "still waiting" lines) and [`prompt`];
//!   [`debug`] (the `--debug` log) and [`interrupt`] (Ctrl-C) write through sinks the UI installs.

pub mod artifacts;
pub mod aws;
pub mod calls;
pub mod cli;
pub mod cloudformation;
pub mod companion;
pub mod config;
pub mod debug;
pub mod delete;
pub mod deploy;
pub mod ecr;
pub mod events;
pub mod guided;
pub mod help;
pub mod interrupt;
pub mod lambda;
pub mod managed_bucket;
pub mod network;
pub mod output;
pub mod package;
pub mod plan;
pub mod prompt;
pub mod push;
pub mod s3;
pub mod settings;
pub mod signing;
pub mod stack_state;
pub mod stackops;
pub mod template;

use std::process::ExitCode;

use cli::{Cli, Command};
use deploy::Finish;
use output::journal::{self, Ending};
use settings::OutputFormat;

/// Runs a parsed command line and maps the result to sam's exit statuses: 0 done, 1 failed,
/// 2 a usage mistake, 130 interrupted. With `--output json`, the run's document ends stdout
/// whatever the ending.
pub fn run(cli: Cli) -> ExitCode {
    let (command, format) = match &cli.command {
        Command::Deploy(args) => (journal::Command::Deploy, OutputFormat::of_flag(args.output)),
        Command::Delete(args) => (journal::Command::Delete, args.output.into()),
        Command::Apply(args) => (
            journal::Command::Apply,
            args.output.map(OutputFormat::from).unwrap_or_default(),
        ),
        Command::Completions { shell } => {
            return docs_exit(output::print_bytes(&cli::docs::completions(*shell)))
        }
        Command::Man => {
            return docs_exit(cli::docs::man_page().and_then(|page| output::print_bytes(&page)))
        }
    };
    // The flag's format until the settings are resolved (samconfig may choose another).
    let environment = settings::Environment::from_process();
    let mut ui = output::Ui::new(format, &environment);
    let result = match &cli.command {
        Command::Deploy(args) => run_deploy(args, &mut ui).map(Some),
        Command::Delete(args) => run_delete(args, &ui).map(|()| None),
        Command::Apply(args) => run_apply(args, &mut ui).map(Some),
        Command::Completions { .. } | Command::Man => unreachable!("answered above"),
    };
    let ending = match result {
        Ok(None | Some(Finish::Deployed)) => Ending::Done,
        Ok(Some(Finish::NothingToDeploy)) => Ending::NoChanges,
        Ok(Some(Finish::Stopped)) => Ending::Stopped,
        Err(err) => match err.downcast_ref::<interrupt::Interrupted>() {
            Some(interrupted) => {
                output::error(&interrupted.to_string());
                Ending::Interrupted(interrupted.to_string())
            }
            None => {
                let line = one_line(&err);
                output::error(&format!("Error: {line}"));
                let code = if err.downcast_ref::<settings::UsageError>().is_some() {
                    2
                } else {
                    1
                };
                Ending::Failed(journal::error_report(&err, line, code))
            }
        },
    };
    ui.print_document(command, &ending);
    ExitCode::from(match &ending {
        Ending::Failed(report) => report.exit_code,
        Ending::Interrupted(_) => interrupt::exit_status(),
        _ => 0,
    })
}

/// `samrs completions` and `samrs man`: their text on stdout, or one error line.
fn docs_exit(printed: std::io::Result<()>) -> ExitCode {
    match printed {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::error(&format!("Error: writing to stdout: {err}"));
            ExitCode::FAILURE
        }
    }
}

/// A command line clap could not parse: the one `Error:` line, and with `--output json` among
/// the arguments the document too (status `failure`, error type `usage`); exit 2.
pub fn usage_failure(line: &str, args: &[String]) -> ExitCode {
    output::error(&format!("Error: {line}"));
    let command = match args.get(1).map(String::as_str) {
        Some("delete") => journal::Command::Delete,
        Some("apply") => journal::Command::Apply,
        _ => journal::Command::Deploy,
    };
    if wants_json(args) {
        let report = journal::ErrorReport {
            kind: "usage",
            message: line.to_string(),
            call: None,
            resources: None,
            exit_code: 2,
        };
        output::Ui::new(OutputFormat::Json, &settings::Environment::from_process())
            .print_document(command, &Ending::Failed(report));
    }
    ExitCode::from(2)
}

/// Whether the arguments ask for `--output json` (read without clap, which failed on them).
pub fn wants_json(args: &[String]) -> bool {
    let json = |value: &str| value.eq_ignore_ascii_case("json");
    args.iter()
        .zip(args.iter().skip(1).map(Some).chain(std::iter::once(None)))
        .any(|(arg, next)| {
            arg.strip_prefix("--output=").is_some_and(json)
                || (arg == "--output" && next.is_some_and(|n| json(n)))
        })
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

/// Ctrl-C ends the run: with `--output json` the document is printed first.
fn install_interrupt(
    rerun: Option<&'static str>,
    ui: &output::Ui,
    command: journal::Command,
) -> std::io::Result<()> {
    let ui = ui.clone();
    interrupt::install(
        rerun,
        Box::new(|line| output::error(&format!("\n{line}"))),
        Box::new(move |line| {
            if let Some(line) = line {
                output::error(&format!("\n{line}"));
            }
            let message = line.unwrap_or("Interrupted").to_string();
            ui.print_document(command, &Ending::Interrupted(message));
        }),
    )
}

/// The UI's "still waiting for ..." lines while a command runs.
fn watch_calls(ui: &output::Ui) -> output::waiting::Watch {
    output::waiting::watch(ui)
}

fn run_deploy(args: &cli::DeployArgs, ui: &mut output::Ui) -> anyhow::Result<Finish> {
    let cwd = std::env::current_dir()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Guided asks on a terminal, so its output is text; the other settings are resolved first
    // because samconfig may choose the output format.
    let resolved = if args.guided {
        None
    } else {
        Some(
            runtime.block_on(events::phase(ui, events::Phase::Settings, async {
                settings::resolve(args, &cwd)
            }))?,
        )
    };
    *ui = ui.with_format(resolved.as_ref().map_or(OutputFormat::Text, |s| s.output));
    if resolved.as_ref().is_some_and(|s| s.no_progressbar) {
        *ui = ui.clone().without_progress_bars();
    }
    let ui = &*ui;
    install_interrupt(Some("samrs deploy"), ui, journal::Command::Deploy)?;
    let _watch = watch_calls(ui);
    runtime.block_on(async {
        let settings = match resolved {
            Some(settings) => {
                announce(
                    ui,
                    settings.debug,
                    &settings.warnings,
                    &settings::debug_lines(&settings),
                );
                settings
            }
            // Guided announces its settings before its questions.
            None => {
                events::phase(
                    ui,
                    events::Phase::Settings,
                    guided::run(settings::GuidedStart::new(args, &cwd), ui),
                )
                .await?
            }
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
                ui,
                &target,
                args.config.config_env.as_deref(),
                "deploy",
                &entries,
                settings
                    .region
                    .as_deref()
                    .or(settings.environment.region.as_deref()),
            )?;
        }
        deploy::run(&settings, ui).await
    })
}

/// `samrs apply FILE`: the plan file read, its settings resolved with the command line's, the
/// plan checked and carried out.
fn run_apply(args: &cli::ApplyArgs, ui: &mut output::Ui) -> anyhow::Result<Finish> {
    let file = args.plan_file.display().to_string();
    let text = std::fs::read_to_string(&args.plan_file)
        .map_err(|e| settings::Refused(format!("Cannot read the plan file {file}: {e}")))?;
    let saved = plan::saved::SavedPlan::from_json(&file, &text)?;
    let settings = settings::resolve_apply(
        args,
        &saved.settings,
        &saved.plan.region,
        settings::Environment::from_process(),
    )?;
    if settings.no_progressbar {
        *ui = ui.clone().without_progress_bars();
    }
    let ui = &*ui;
    install_interrupt(None, ui, journal::Command::Apply)?;
    let _watch = watch_calls(ui);
    announce(
        ui,
        settings.debug,
        &[],
        &settings::apply_debug_lines(&args.plan_file, &settings),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(deploy::apply(&settings, &file, saved, ui))
}

fn run_delete(args: &cli::DeleteArgs, ui: &output::Ui) -> anyhow::Result<()> {
    let cwd = std::env::current_dir()?;
    let mut settings = settings::resolve_delete(args, &cwd)?;
    install_interrupt(None, ui, journal::Command::Delete)?;
    let _watch = watch_calls(ui);
    announce(
        ui,
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
            ui,
            &target,
            args.config.config_env.as_deref(),
            "delete",
            &entries,
            settings
                .region
                .as_deref()
                .or(settings.environment.region.as_deref()),
        )?;
    }
    if settings.stack_name.is_none() && !settings.orphans && !settings.no_prompts && ui.can_prompt()
    {
        settings.stack_name = Some(ask_stack_to_delete(ui)?);
    }
    let ui = if settings.no_prompts {
        ui.clone().answering_yes()
    } else {
        ui.clone()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(delete::run(&settings, &ui))
}

/// sam's question when `samrs delete` has no stack name and a person can answer.
fn ask_stack_to_delete(ui: &output::Ui) -> anyhow::Result<String> {
    let prompt = prompt::Prompter::new(ui.colour_enabled());
    loop {
        let answer = prompt.text("\tEnter stack name you want to delete", None)?;
        if !answer.trim().is_empty() {
            return Ok(answer.trim().to_string());
        }
    }
}

/// Before a command acts: the warnings about its settings, and (with `--debug`) how they were
/// resolved.
pub(crate) fn announce(ui: &output::Ui, debug: bool, warnings: &[String], debug_lines: &[String]) {
    for warning in warnings {
        ui.warn(warning);
    }
    if debug {
        debug::enable(output::debug_sink());
        for line in debug_lines {
            debug::log(line);
        }
    }
}

/// `--save-params`, before anything is deployed or deleted (as sam saves them), with the region
/// in force (the one given, else the environment's).
fn save_params(
    ui: &output::Ui,
    target: &std::path::Path,
    env: Option<&str>,
    command: &str,
    entries: &[(&'static str, config::ConfigValue)],
    region: Option<&str>,
) -> anyhow::Result<()> {
    let env = env.unwrap_or("default");
    config::save_command_parameters(target, env, command, entries, region)?;
    ui.line(&format!(
        "Saved parameters to config file '{}' under environment '{env}': {}",
        target.file_name().map_or_else(
            || target.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        ),
        settings::save::summary(entries, region)
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(text: &str) -> Vec<String> {
        text.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn json_output_is_seen_in_arguments_clap_rejected() {
        assert!(wants_json(&argv("samrs deploy --output json --stack")));
        assert!(wants_json(&argv("samrs deploy --output JSON --stack")));
        assert!(wants_json(&argv("samrs delete --bogus --output=json")));
        assert!(!wants_json(&argv("samrs deploy --output")));
        assert!(!wants_json(&argv("samrs deploy --output text --json")));
        assert!(!wants_json(&argv("samrs deploy --output xml")));
    }
}
