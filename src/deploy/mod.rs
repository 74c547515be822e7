//! `samrs deploy`: observe, plan, execute. The template and settings are checked, what exists in
//! AWS is read (the managed bucket stack, the account, the companion stack), the pure
//! [`crate::plan`] decides what every step will do, and the [`Executor`] carries the plan out
//! step by step, reporting through events.

mod change_set;
mod companion;
mod execute;
mod images;
mod main_stack;
mod review;
mod saved;

use crate::aws::{self, Aws};
use crate::cloudformation::poll::Poller;
use crate::companion::CompanionStack;
use crate::events::{self, Event, Fact, Phase, Reporter};
use crate::plan::{self, checks, Observed};
use crate::settings::{DeploySettings, Refused};
use crate::stackops::StackOps;
use crate::template::{self, language_extensions, ImageFunction, Template};
use execute::Executor;
pub use saved::apply;

/// How a deploy ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Deployed,
    /// The change set was empty and `--no-fail-on-empty-changeset` was given.
    NothingToDeploy,
    /// `--no-execute-changeset`, `--dry-run`, `--plan-out`, or "no" at the confirmation prompt.
    Stopped,
}

/// The template as the deploy uses it.
struct Prepared {
    /// As written: CloudFormation gets it back, packaged.
    original: Template,
    /// With `--language-extensions`: the expansion functions and artifacts are found in.
    extensions: Option<language_extensions::Expansion>,
    /// What is packaged: the expansion, else the original.
    template: Template,
    functions: Vec<ImageFunction>,
}

pub async fn run(settings: &DeploySettings, report: &dyn Reporter) -> anyhow::Result<Finish> {
    report.record(Fact::Target {
        stack_name: Some(settings.stack_name.clone()),
        region: settings.region.clone(),
        dry_run: settings.dry_run,
    });
    report.record(Fact::Mode {
        express: settings.express,
        on_failure: Some(plan::failure::of(settings).mode()),
    });
    let (prepared, aws) = events::phase(report, Phase::Prepare, prepare(settings, report)).await?;
    report.record(Fact::Target {
        stack_name: None,
        region: Some(aws.region.clone()),
        dry_run: settings.dry_run,
    });
    let poller = poller(settings);
    let ops = StackOps {
        aws: &aws,
        poller: &poller,
        report,
    };
    let executor = events::phase(report, Phase::Resolve, async {
        let observed = observe(&ops, settings).await?;
        let plan = plan::deploy(settings, &prepared.functions, &aws.region, &observed)?;
        let executor = Executor::new(ops, settings, &prepared, plan);
        // The bucket is the first step, in the phase that found what it needs.
        executor.bucket().await?;
        Ok(executor)
    })
    .await?;
    if settings.resolve_s3 {
        if let Some(bucket) = executor.bucket_name() {
            report.event(Event::ManagedBucket(bucket.to_string()));
        }
    }
    executor.run().await
}

/// How stack operations are polled: `SAM_CLI_POLL_DELAY`, up to `--max-wait-duration`.
fn poller(settings: &DeploySettings) -> Poller {
    Poller::for_run(&settings.environment, settings.max_wait)
}

/// Checks the settings that need nothing from AWS, loads the template, connects.
async fn prepare(
    settings: &DeploySettings,
    report: &dyn Reporter,
) -> anyhow::Result<(Prepared, Aws)> {
    // Asked before anything changes on AWS, not after the change set exists.
    if settings.confirm_changeset
        && !settings.dry_run
        && !settings.no_execute_changeset
        && settings.plan_out.is_none()
        && !report.can_ask()
    {
        // sam asks anyway, reads the end of its input and aborts: exit 1.
        return Err(Refused(
            "--confirm-changeset needs a terminal to ask on: run with --no-confirm-changeset in CI"
                .into(),
        )
        .into());
    }
    let original = template::load(&settings.template_file)?;
    for name in checks::unknown_overrides(&original, settings) {
        report.event(Event::UnknownOverride(name.to_string()));
    }
    let aws = aws::connect(
        settings.region.as_deref(),
        settings.profile.as_deref(),
        &settings.environment,
    )
    .await?;
    // With --language-extensions, functions and artifacts are found and packaged in the
    // expanded template; CloudFormation gets the original back with their locations.
    let extensions = original.expand_language_extensions(
        settings.language_extensions,
        &settings.parameter_overrides,
        &aws.region,
    )?;
    if extensions.is_none()
        && language_extensions::uses_language_extensions(&original.value)
        && language_extensions::has_resource_loops(&original.value)
    {
        report.event(Event::LoopsNotPackaged);
    }
    let template = match &extensions {
        Some(expansion) => Template {
            value: expansion.expanded.clone(),
            ..original.clone()
        },
        None => original.clone(),
    };
    checks::check_image_uris(&template)?;
    let functions = template::image_functions(&template)?;
    checks::check_image_options(settings, &functions)?;
    let prepared = Prepared {
        original,
        extensions,
        template,
        functions,
    };
    Ok((prepared, aws))
}

/// What the plan needs from AWS, read at once: the managed bucket stack, the account and the
/// companion stack.
async fn observe(ops: &StackOps<'_>, settings: &DeploySettings) -> anyhow::Result<Observed> {
    let wants_companion = settings.resolve_image_repos || !settings.image_repositories.is_empty();
    let companion = CompanionStack::new(&settings.stack_name);
    let (managed_stack, companion) = tokio::try_join!(
        async {
            if settings.resolve_s3 {
                crate::managed_bucket::observe(ops).await.map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if !wants_companion {
                return Ok(None);
            }
            // The last deploy's clean-up may still run, or have failed: first things first.
            let (account, observed) = tokio::try_join!(ops.account_id(), async {
                if ops.check_companion(companion.name()).await? {
                    ops.observe_companion(companion.name()).await
                } else {
                    Ok(crate::companion::Observed::default())
                }
            })?;
            Ok::<_, anyhow::Error>(Some((account, observed)))
        }
    )?;
    Ok(Observed {
        managed_stack,
        companion,
    })
}
