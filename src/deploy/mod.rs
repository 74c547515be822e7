//! `samrs deploy`: walks the steps of a deploy in order (managed bucket, packaging, the main
//! stack's change set, execution) calling the thin AWS layer, and reports through [`Ui`].
//!
//! Decisions are made by pure functions (settings, template discovery, stack states, the
//! parameter list); this file sequences them.

pub mod change_set;
pub mod companion;
pub mod images;

use anyhow::bail;

use crate::aws::{self, Aws};
use crate::cloudformation::{self as cfn, poll::Poller};
use crate::events::{self, Action, DeploySummary, Event, Fact, Phase, Reporter, StackRole};
use crate::package::Packaged;
use crate::s3::{self, Destination};
use crate::settings::{DeploySettings, Refused, UsageError};
use crate::stack_state::{self, StackAction};
use crate::stack_state::{ChangeSetRequest, EventRow, ParameterValue, StackInfo, TemplateSource};
use crate::template::{self, language_extensions, ImageFunction, Template};
use crate::{managed_bucket, package};

pub use crate::stack_state::failure_summary;

/// CloudFormation's limit for templates sent inline (TemplateBody).
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;

/// How a deploy ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    Deployed,
    /// The change set was empty and `--no-fail-on-empty-changeset` was given.
    NothingToDeploy,
    /// `--no-execute-changeset`, `--dry-run`, or "no" at the confirmation prompt.
    Stopped,
}

/// The main stack deploy failed or found nothing to do; the message is already one line.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    #[error("No changes to deploy. Stack {0} is up to date")]
    NoChanges(String),
    #[error("Failed to create the changeset for stack {stack}: {reason}")]
    ChangeSetFailed { stack: String, reason: String },
    #[error("Failed to create/update the stack: {stack}, {detail}")]
    StackFailed {
        stack: String,
        detail: String,
        failures: Vec<EventRow>,
    },
    #[error(
        "Companion stack {stack} ended in {status}{}",
        failure_summary(failures)
    )]
    CompanionFailed {
        stack: String,
        status: String,
        failures: Vec<EventRow>,
    },
}

impl DeployError {
    /// The error's `type` in the `--output json` document.
    pub fn kind(&self) -> &'static str {
        match self {
            DeployError::NoChanges(_) => "no_changes",
            DeployError::ChangeSetFailed { .. } => "change_set_failed",
            DeployError::StackFailed { .. } | DeployError::CompanionFailed { .. } => "stack_failed",
        }
    }

    /// The failed resources with CloudFormation's reasons, when a stack operation failed.
    pub fn failures(&self) -> Option<&[EventRow]> {
        match self {
            DeployError::StackFailed { failures, .. }
            | DeployError::CompanionFailed { failures, .. } => Some(failures),
            _ => None,
        }
    }
}

pub async fn run(settings: &DeploySettings, report: &dyn Reporter) -> anyhow::Result<Finish> {
    report.record(Fact::Target {
        stack_name: Some(settings.stack_name.clone()),
        region: settings.region.clone(),
        dry_run: settings.dry_run,
    });
    report.record(Fact::Mode {
        express: settings.express,
        on_failure: Some(failure_plan(settings).mode()),
    });
    let (original, extensions, template, functions, aws) =
        events::phase(report, Phase::Prepare, async {
            // Asked before anything changes on AWS, not after the change set exists.
            if settings.confirm_changeset
                && !settings.dry_run
                && !settings.no_execute_changeset
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
            for name in unknown_overrides(&original, settings) {
                report.event(Event::UnknownOverride(name.to_string()));
            }
            let aws =
                aws::connect(settings.region.as_deref(), settings.profile.as_deref()).await?;
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
            check_image_uris(&template)?;
            let functions = template::image_functions(&template)?;
            check_image_options(settings, &functions)?;
            Ok((original, extensions, template, functions, aws))
        })
        .await?;
    report.record(Fact::Target {
        stack_name: None,
        region: Some(aws.region.clone()),
        dry_run: settings.dry_run,
    });
    let poller = Poller::from_env().with_max_wait(settings.max_wait);
    let wants_companion = settings.resolve_image_repos || !settings.image_repositories.is_empty();
    let companion_name = crate::companion::CompanionStack::new(&settings.stack_name)
        .name()
        .to_string();

    // Independent reads in parallel: the managed bucket, the account and the companion stack.
    let (bucket, observed) = events::phase(report, Phase::Resolve, async {
        tokio::try_join!(
            async {
                if settings.resolve_s3 {
                    managed_bucket::ensure(&aws, &poller, report, settings.dry_run)
                        .await
                        .map(Some)
                } else {
                    Ok(settings.s3_bucket.clone())
                }
            },
            async {
                if !wants_companion {
                    return Ok(None);
                }
                let (account, observed) = tokio::try_join!(
                    companion::account_id(&aws),
                    companion::observe(&aws, &companion_name)
                )?;
                Ok::<_, anyhow::Error>(Some((account, observed)))
            }
        )
    })
    .await?;
    if settings.resolve_s3 {
        if let Some(bucket) = &bucket {
            report.event(Event::ManagedBucket(bucket.clone()));
        }
    }
    let destination = bucket.map(|bucket| Destination {
        bucket,
        prefix: settings.s3_prefix.clone(),
        kms_key_id: settings.kms_key_id.clone(),
        force_upload: settings.force_upload,
        dry_run: settings.dry_run,
        metadata: settings.metadata.clone(),
    });

    let plan = match observed {
        None => None,
        Some((account, observed)) => Some(
            events::phase(report, Phase::Companion, async {
                let replan = |observed: &companion::Observed| {
                    companion::make_plan(
                        settings,
                        &functions,
                        &account,
                        &aws.region,
                        observed,
                        &settings.repo_settings,
                    )
                };
                let plan = replan(&observed)?;
                report.record(Fact::CompanionPlan(serde_json::to_value(&plan)?));
                if settings.dry_run {
                    report.event(Event::CompanionPreview(Box::new(plan.clone())));
                    return Ok(plan);
                }
                companion::apply_phase1(
                    &aws,
                    plan,
                    replan,
                    settings,
                    destination.as_ref(),
                    &poller,
                    report,
                )
                .await
            })
            .await?,
        ),
    };
    let mapping = plan.as_ref().map_or_else(
        || settings.image_repositories.clone(),
        |p| p.mapping.clone(),
    );

    let pushed = events::phase(report, Phase::Images, async {
        let jobs = images::push_jobs(&functions, &mapping, settings.image_repository.as_deref())?;
        images::push(&aws.ecr, &functions, jobs, settings.dry_run, report).await
    })
    .await?;
    let signing = package::Signing {
        profiles: &settings.signing_profiles,
        poller: &poller,
    };
    let mut packaged = events::phase(
        report,
        Phase::Package,
        package::package_template(
            &aws,
            &template,
            destination.as_ref(),
            &pushed,
            &signing,
            settings.language_extensions,
            report,
        ),
    )
    .await?;
    if let Some(expansion) = &extensions {
        let (merged, warnings) =
            language_extensions::merge_packaged(&original.value, &packaged.template, expansion)
                .map_err(|e| original.language_extensions_error(e))?;
        for warning in warnings {
            report.event(Event::Warning(warning));
        }
        packaged.template = merged;
    }
    report.event(Event::DeploySummary(Box::new(DeploySummary {
        stack_name: settings.stack_name.clone(),
        region: aws.region.clone(),
        confirm_changeset: settings.confirm_changeset,
        disable_rollback: settings.disable_rollback,
        image_repository: settings.image_repository.clone(),
        image_repositories: mapping.clone(),
        bucket: destination.as_ref().map(|d| d.bucket.clone()),
        capabilities: settings.capabilities.clone(),
        parameter_overrides: settings.parameter_overrides.clone(),
        signing_profiles: settings.signing_profiles.clone(),
    })));
    let run = Run {
        aws: &aws,
        settings,
        poller: &poller,
        report,
    };
    let finish = deploy_stack(&run, &original, &packaged, destination.as_ref()).await?;
    if let (Finish::Deployed, Some(plan)) = (finish, &plan) {
        events::phase(
            report,
            Phase::Cleanup,
            companion::apply_phase2(&aws, plan, settings, destination.as_ref(), &poller, report),
        )
        .await?;
    }
    Ok(finish)
}

/// An image function without `ImageUri` has no image to deploy: the template was not built.
fn check_image_uris(template: &Template) -> Result<(), template::TemplateError> {
    let missing = template::image_functions_without_uri(&template.value);
    if missing.is_empty() {
        return Ok(());
    }
    Err(template::TemplateError::Invalid {
        origin: template.path.display().to_string(),
        message: format!(
            "image function{} {} {} no ImageUri: run `sam build` first (it sets ImageUri), or set ImageUri to an image",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "has" } else { "have" }
        ),
    })
}

/// Overrides that name no parameter of the template: sam drops them silently, which hides a
/// typo; samrs drops them too (a shared samconfig may serve several templates) but says so.
fn unknown_overrides<'a>(template: &Template, settings: &'a DeploySettings) -> Vec<&'a str> {
    let names = template::parameter_names(&template.value);
    settings
        .parameter_overrides
        .iter()
        .map(|(key, _)| key.as_str())
        .filter(|key| !names.iter().any(|(name, _)| name == key))
        .collect()
}

/// sam's image-repository rules that need the template (§4.6 rules 2 and 3), for the functions
/// whose image has to be pushed (its ImageUri is not already in ECR).
fn check_image_options(
    settings: &DeploySettings,
    functions: &[ImageFunction],
) -> Result<(), UsageError> {
    let needing_repo: Vec<&ImageFunction> = functions
        .iter()
        .filter(|f| !f.image_uri.as_deref().is_some_and(template::is_ecr_url))
        .collect();
    if needing_repo.is_empty()
        || settings.image_repository.is_some()
        || settings.resolve_image_repos
    {
        return Ok(());
    }
    if settings.image_repositories.is_empty() {
        let names: Vec<&str> = needing_repo.iter().map(|f| f.full_path.as_str()).collect();
        let (noun, verb) = if names.len() == 1 {
            (
                "function",
                "needs an ECR repository (--resolve-image-repos creates one)",
            )
        } else {
            (
                "functions",
                "need ECR repositories (--resolve-image-repos creates them)",
            )
        };
        return Err(UsageError(format!(
            "Missing option '--image-repositories', '--image-repository', '--resolve-image-repos': image {noun} {} {verb}",
            names.join(", ")
        )));
    }
    let paths: Vec<&str> = functions.iter().map(|f| f.full_path.as_str()).collect();
    let uncovered: Vec<&str> = needing_repo
        .iter()
        .filter(|f| {
            template::repository_entry(&settings.image_repositories, &paths, &f.full_path).is_none()
        })
        .map(|f| f.full_path.as_str())
        .collect();
    if uncovered.is_empty() {
        return Ok(());
    }
    Err(UsageError(format!(
        "Incomplete list of function logical ids specified for '--image-repositories' (missing: {}). You can also add --resolve-image-repos to automatically create missing repositories.",
        uncovered.join(", ")
    )))
}

/// The main template goes to S3 when a bucket is set (as sam does), else inline when it fits.
async fn template_source(
    aws: &Aws,
    destination: Option<&Destination>,
    body: String,
    report: &dyn Reporter,
) -> anyhow::Result<TemplateSource> {
    // A dry run previews inline: it uploads nothing.
    let Some(dest) = destination.filter(|d| !d.dry_run) else {
        if body.len() > TEMPLATE_BODY_LIMIT {
            bail!(
                "Templates with a size greater than 51,200 bytes must be deployed via an S3 Bucket (this one is {} bytes): add --s3-bucket or --resolve-s3",
                body.len()
            );
        }
        return Ok(TemplateSource::Body(body));
    };
    let key = crate::artifacts::s3_key(
        dest.prefix.as_deref(),
        &crate::artifacts::md5_hex(body.as_bytes()),
        Some("template"),
    );
    let size = body.len();
    match s3::upload_with_dedup(&aws.s3, dest, &key, body.into_bytes()).await? {
        s3::Upload::Sent => report.record(Fact::Upload {
            key: key.clone(),
            bytes: size,
        }),
        s3::Upload::AlreadyPresent => report.event(Event::UploadSkipped { key: key.clone() }),
        s3::Upload::NotSent => {}
    }
    Ok(TemplateSource::Url(crate::artifacts::path_style_url(
        &aws.s3_url_base,
        &dest.bucket,
        &key,
        None,
    )))
}

/// What every step of one deploy works with.
#[derive(Clone, Copy)]
pub struct Run<'a> {
    pub aws: &'a Aws,
    pub settings: &'a DeploySettings,
    pub poller: &'a Poller,
    pub report: &'a dyn Reporter,
}

/// Brings the stack into a state a change set can be made on, then creates, shows and executes it.
async fn deploy_stack(
    run: &Run<'_>,
    template: &Template,
    packaged: &Packaged,
    destination: Option<&Destination>,
) -> anyhow::Result<Finish> {
    let Run {
        aws,
        settings,
        report,
        ..
    } = *run;
    let stack_name = settings.stack_name.as_str();
    let ready = events::phase(report, Phase::ChangeSet, async {
        let existing = match ready_stack(run).await? {
            Ready::Stack(existing) => existing,
            Ready::WouldRecreate(status) => {
                report.event(Event::RecreatePreview {
                    stack: stack_name.to_string(),
                    status,
                });
                return Ok(None);
            }
        };
        let create = existing
            .as_ref()
            .is_none_or(|s| s.status == "REVIEW_IN_PROGRESS");
        let parameters =
            parameter_values(template, settings, existing.as_ref().filter(|_| !create));
        // --use-json: the template CloudFormation (and S3) receives is JSON, as
        // `sam package --use-json` writes it; nested templates stay YAML, as in sam.
        let body = if settings.use_json {
            template::to_json(&packaged.template)
        } else {
            template::to_yaml(&packaged.template)
        };
        if let Some(stack) = existing.as_ref().filter(|_| !create) {
            // The same template, parameters and stack settings cannot change anything, unless
            // CloudFormation reads something outside the text: say so without a change set.
            let outside = crate::plan::shortcut::outside_inputs(
                &packaged.template,
                &packaged.nested,
                &parameters,
                &stack.status,
            );
            if outside.is_empty() {
                let deployed = cfn::original_template(&aws.cfn, stack_name).await?;
                if crate::plan::shortcut::is_unchanged(
                    &deployed,
                    &body,
                    &parameters,
                    stack,
                    settings,
                ) {
                    return Ok(Some(change_set::Made::Empty));
                }
            } else {
                let reasons: Vec<String> = outside.iter().map(ToString::to_string).collect();
                crate::debug::log(&format!(
                    "No-op check left to CloudFormation: {}",
                    reasons.join("; ")
                ));
            }
        }
        let source = template_source(aws, destination, body, report).await?;
        let request = ChangeSetRequest {
            stack_name: stack_name.to_string(),
            change_set_name: format!("samrs-deploy{}", chrono::Utc::now().timestamp()),
            create,
            template: source,
            parameters,
            capabilities: settings.capabilities.clone(),
            tags: settings.tags.clone(),
            role_arn: settings.role_arn.clone(),
            notification_arns: settings.notification_arns.clone(),
            description: format!(
                "Created by samrs at {} UTC",
                chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S%.6f")
            ),
            express: failure_plan(settings).express,
        };
        report.event(Event::ChangeSetWaiting);
        change_set::make(run, &request, existing.is_none())
            .await
            .map(Some)
    })
    .await?;
    let (change_set, create) = match ready {
        None => return Ok(Finish::Stopped),
        Some(change_set::Made::Empty) => return nothing_to_deploy(settings, report),
        Some(change_set::Made::Ready {
            id,
            changes,
            create,
        }) => {
            report.record(Fact::Changes(changes));
            report.event(Event::ChangeSetReady(id.clone()));
            (id, create)
        }
    };
    if settings.dry_run {
        report.event(Event::DryRunFinished);
        return Ok(Finish::Stopped);
    }
    if settings.no_execute_changeset {
        return Ok(Finish::Stopped);
    }
    if settings.confirm_changeset && !report.ask(events::Question::ConfirmChangeSet)? {
        report.record(Fact::Declined);
        return Ok(Finish::Stopped);
    }
    events::phase(report, Phase::Execute, execute(run, &change_set, create)).await
}

/// Executes the change set and follows the stack to the end of the operation.
async fn execute(run: &Run<'_>, change_set: &str, create: bool) -> anyhow::Result<Finish> {
    let Run {
        aws,
        settings,
        poller,
        report,
    } = *run;
    let stack_name = settings.stack_name.as_str();
    let mut cursor = if create {
        cfn::EventCursor::for_new_stack(stack_name)
    } else {
        cfn::EventCursor::after_current(&aws.cfn, stack_name).await?
    };
    let on_failure = failure_plan(settings);
    cfn::execute_change_set(
        &aws.cfn,
        stack_name,
        change_set,
        on_failure.execute_disable_rollback,
    )
    .await?;
    report.record(Fact::ChangeSet {
        id: change_set.to_string(),
        stack: stack_name.to_string(),
        action: Action::Executed,
    });
    report.event(Event::StackOperationStarted {
        refresh: poller.describe(),
    });
    let outcome = cfn::wait_for_stack(&aws.cfn, &mut cursor, poller, |e| {
        report.event(Event::StackEvent(e.clone()));
    })
    .await;
    report.event(Event::StackEventsEnd);
    let outcome = outcome?;
    if let Some(stack) = &outcome.stack {
        report.record(Fact::Deployed {
            status: stack.status.clone(),
            outputs: stack.outputs.clone(),
        });
    }
    let deleted = after_failure(run, &on_failure, create, outcome.stack.as_ref()).await?;
    let stack = finished_stack(stack_name, outcome.stack, outcome.failures, deleted)?;
    report.record(Fact::Stack {
        name: stack_name.to_string(),
        role: StackRole::Main,
        action: if create {
            Action::Created
        } else {
            Action::Updated
        },
        status: Some(stack.status.clone()),
    });
    report.event(Event::Outputs(stack.outputs.clone()));
    report.event(Event::StackDeployed {
        stack: stack_name.to_string(),
        region: aws.region.clone(),
        express: settings.express,
    });
    Ok(Finish::Deployed)
}

/// The main stack's failure handling, from `--on-failure`, `--disable-rollback` and `--express`.
fn failure_plan(settings: &DeploySettings) -> crate::plan::failure::FailurePlan {
    crate::plan::failure::failure_plan(
        settings.on_failure,
        settings.disable_rollback,
        settings.express,
    )
}

/// What follows a failed operation of the main stack (sam's words for each): `--on-failure
/// DELETE` deletes a stack that failed to create; an update under it only rolled back; a failure
/// that kept its resources says how to roll back. True when the stack was deleted.
async fn after_failure(
    run: &Run<'_>,
    plan: &crate::plan::failure::FailurePlan,
    create: bool,
    stack: Option<&StackInfo>,
) -> anyhow::Result<bool> {
    let Run {
        aws,
        settings,
        poller,
        report,
    } = *run;
    let stack_name = settings.stack_name.as_str();
    let failed = stack.is_none_or(|s| !stack_state::is_success(&s.status));
    if !failed {
        return Ok(false);
    }
    if plan.delete_failed_create
        && create
        && stack.is_some_and(|s| stack_state::is_failed_create(&s.status))
    {
        report.event(Event::DeletingFailedStack(stack_name.to_string()));
        delete_main_stack(aws, stack_name, poller, report).await?;
        report.event(Event::FailedStackDeleted(stack_name.to_string()));
        return Ok(true);
    }
    if plan.delete_failed_create && !create {
        // An update is rolled back, not deleted: the stack existed before.
        report.event(Event::RolledBack(stack_name.to_string()));
    } else if plan.keeps_resources() {
        report.event(Event::RollbackDisabled(stack_name.to_string()));
    }
    Ok(false)
}

/// sam's answer to an empty change set: an error unless `--no-fail-on-empty-changeset`.
fn nothing_to_deploy(settings: &DeploySettings, report: &dyn Reporter) -> anyhow::Result<Finish> {
    let stack_name = &settings.stack_name;
    if settings.fail_on_empty_changeset && !settings.dry_run {
        return Err(DeployError::NoChanges(stack_name.clone()).into());
    }
    report.event(Event::NothingToDeploy(stack_name.clone()));
    Ok(Finish::NothingToDeploy)
}

/// The stack a change set is made on.
enum Ready {
    /// The stack to update, None to create one.
    Stack(Option<StackInfo>),
    /// A dry run found a stack that a deploy would delete and create again (it changes nothing).
    WouldRecreate(String),
}

/// Waits out running operations and clears a never-created stack (a dry run only says it would).
async fn ready_stack(run: &Run<'_>) -> anyhow::Result<Ready> {
    let Run {
        aws,
        settings,
        poller,
        report,
    } = *run;
    let stack_name = settings.stack_name.as_str();
    loop {
        let stack = cfn::describe_stack(&aws.cfn, stack_name).await?;
        match stack_state::stack_action(stack_name, stack.as_ref().map(|s| s.status.as_str())) {
            StackAction::Create => return Ok(Ready::Stack(None)),
            StackAction::CreateInReview | StackAction::Update => return Ok(Ready::Stack(stack)),
            StackAction::Wait => {
                report.event(Event::StackBusy {
                    stack: stack_name.to_string(),
                    status: stack.map(|s| s.status).unwrap_or_default(),
                    role: StackRole::Main,
                });
                let mut cursor = cfn::EventCursor::after_current(&aws.cfn, stack_name).await?;
                cfn::wait_for_stack(&aws.cfn, &mut cursor, poller, |_| {}).await?;
            }
            StackAction::DeleteThenCreate if settings.dry_run => {
                return Ok(Ready::WouldRecreate(
                    stack.map(|s| s.status).unwrap_or_default(),
                ))
            }
            StackAction::DeleteThenCreate => {
                report.event(Event::StackRecreating {
                    stack: stack_name.to_string(),
                    status: stack.map(|s| s.status),
                    role: StackRole::Main,
                });
                delete_main_stack(aws, stack_name, poller, report).await?;
            }
            StackAction::Blocked { fix } => {
                let status = stack.map(|s| s.status).unwrap_or_default();
                bail!("Stack {stack_name} is in {status}: {fix}, then deploy again")
            }
        }
    }
}

/// Deletes the main stack, waits until it is gone, and records it.
pub async fn delete_main_stack(
    aws: &Aws,
    stack_name: &str,
    poller: &Poller,
    report: &dyn Reporter,
) -> anyhow::Result<()> {
    delete_and_wait(aws, stack_name, poller).await?;
    report.record(Fact::Stack {
        name: stack_name.to_string(),
        role: StackRole::Main,
        action: Action::Deleted,
        status: Some("DELETE_COMPLETE".into()),
    });
    Ok(())
}

/// Deletes a stack and waits until it is gone.
pub async fn delete_and_wait(aws: &Aws, stack_name: &str, poller: &Poller) -> anyhow::Result<()> {
    let mut cursor = cfn::EventCursor::after_current(&aws.cfn, stack_name).await?;
    cfn::delete_stack(&aws.cfn, stack_name, &[], false).await?;
    let outcome = cfn::wait_for_stack(&aws.cfn, &mut cursor, poller, |_| {}).await?;
    match outcome.stack {
        None => Ok(()),
        Some(stack) if stack.status == "DELETE_COMPLETE" => Ok(()),
        Some(stack) => bail!(
            "Deleting stack {stack_name} ended in {}{}",
            stack.status,
            failure_summary(&outcome.failures)
        ),
    }
}

/// The stack of a successful operation, else the one-line failure (`deleted`: `--on-failure
/// DELETE` removed the stack afterwards).
fn finished_stack(
    stack_name: &str,
    stack: Option<StackInfo>,
    failures: Vec<EventRow>,
    deleted: bool,
) -> Result<StackInfo, DeployError> {
    match stack {
        Some(stack) if stack_state::is_success(&stack.status) => Ok(stack),
        other => {
            let status = other.map_or_else(|| "DELETE_COMPLETE".to_string(), |s| s.status);
            let mut detail = format!("it ended in {status}{}", failure_summary(&failures));
            if deleted {
                detail.push_str(", and was deleted (--on-failure DELETE)");
            } else if stack_state::is_failed_create(&status) {
                detail.push_str(" (fix the template and deploy again: samrs deletes and recreates a stack that was never created)");
            }
            Err(DeployError::StackFailed {
                stack: stack_name.to_string(),
                detail,
                failures,
            })
        }
    }
}

/// sam's `merge_parameters`: overrides for the template's parameters; on updates the others keep
/// the stack's previous values, when the stack has them.
pub fn parameter_values(
    template: &Template,
    settings: &DeploySettings,
    existing: Option<&StackInfo>,
) -> Vec<ParameterValue> {
    template::parameter_names(&template.value)
        .into_iter()
        .filter_map(|(name, _)| {
            if let Some((_, value)) = settings
                .parameter_overrides
                .iter()
                .find(|(k, _)| *k == name)
            {
                Some(ParameterValue::Value(name, value.clone()))
            } else if existing.is_some_and(|s| s.parameters.iter().any(|(k, _)| *k == name)) {
                Some(ParameterValue::UsePrevious(name))
            } else {
                None
            }
        })
        .collect()
}
