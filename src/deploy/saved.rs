//! Plans saved and applied: `samrs deploy --plan-out FILE` runs the deploy's executor up to the
//! change set (artifacts uploaded, images read for their digests, the companion stack planned)
//! and [`write`]s the plan; `samrs apply FILE` ([`apply`]) checks that the plan still holds,
//! then resumes the executor after the change set: companion phase 1, the pushes of exactly the
//! planned digests, the change set executed, the companion clean-up.

use anyhow::Context;

use super::change_set::Ready;
use super::execute::Executor;
use super::{images, Finish};
use crate::aws;
use crate::cloudformation as cfn;
use crate::events::{self, Event, Fact, Phase, Reporter};
use crate::plan;
use crate::plan::saved::{self, Artifacts, Found, SavedChangeSet, SavedPlan};
use crate::s3::Destination;
use crate::settings::{DeploySettings, SavedSettings};
use crate::stackops::StackOps;

/// `--plan-out`: the plan, its change set and the stacks' fingerprints, written atomically to
/// the file the settings name.
pub(super) async fn write(executor: &Executor<'_>, ready: &Ready) -> anyhow::Result<()> {
    let (ops, settings) = (executor.ops, executor.settings);
    let file = settings
        .plan_out
        .as_deref()
        .context("a plan is saved only with --plan-out")?;
    let plan = executor.plan_in_force();
    let companion_name = plan
        .companion
        .as_ref()
        .map(|c| c.plan.companion_stack_name.clone());
    let (account, stack, companion) = tokio::try_join!(
        async {
            match &plan.companion {
                Some(step) => Ok(step.account.clone()),
                None => ops.account_id().await,
            }
        },
        ops.fingerprint(&settings.stack_name),
        async {
            match &companion_name {
                Some(name) => ops.fingerprint(name).await,
                None => Ok(None),
            }
        }
    )?;
    let saved = SavedPlan {
        format: saved::FORMAT.to_string(),
        version: saved::VERSION,
        samrs_version: env!("CARGO_PKG_VERSION").to_string(),
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        account,
        change_set: SavedChangeSet {
            arn: ready.id.clone(),
            name: change_set_name(&ready.id),
            create: ready.create,
            template_sha256: ready.template_sha256.clone(),
            changes: ready.changes.clone(),
        },
        fingerprint: saved::Fingerprint { stack, companion },
        artifacts: Artifacts {
            bucket: executor.bucket_name(),
            keys: executor.packaged()?.artifacts.clone(),
        },
        functions: executor.function_paths(),
        settings: SavedSettings::of(settings),
        plan,
        review: None,
    };
    crate::config::write_atomically(file, saved.to_json().as_bytes())
        .with_context(|| format!("saving the plan to {}", file.display()))?;
    let shown = file.display().to_string();
    ops.report.record(Fact::PlanSaved(shown.clone()));
    ops.report.event(Event::PlanSaved {
        file: shown,
        change_set: saved.change_set.name,
        stack: settings.stack_name.clone(),
    });
    Ok(())
}

/// A change set's name, the part of its ARN after `changeSet/` and before the id.
fn change_set_name(arn: &str) -> String {
    arn.split_once(":changeSet/")
        .map_or(arn, |(_, rest)| rest.split('/').next().unwrap_or(rest))
        .to_string()
}

/// `samrs apply FILE`: the plan checked against AWS and the local images, then carried out.
/// Any refusal comes before anything changes.
pub async fn apply(
    settings: &DeploySettings,
    file: &str,
    saved: SavedPlan,
    report: &dyn Reporter,
) -> anyhow::Result<Finish> {
    report.record(Fact::Target {
        stack_name: Some(saved.plan.stack_name.clone()),
        region: Some(saved.plan.region.clone()),
        dry_run: false,
    });
    report.record(Fact::Mode {
        express: settings.express,
        on_failure: Some(plan::failure::of(settings).mode()),
    });
    let aws = events::phase(report, Phase::Prepare, async {
        aws::connect(
            settings.region.as_deref(),
            settings.profile.as_deref(),
            &settings.environment,
        )
        .await
    })
    .await?;
    let poller = super::poller(settings);
    let ops = StackOps {
        aws: &aws,
        poller: &poller,
        report,
    };
    let read = events::phase(report, Phase::Resolve, async {
        let found = observe(&ops, &saved).await?;
        saved::check(&saved, &found)?;
        let read = images::read(&saved.plan.images, &settings.environment).await?;
        saved::check_images(&saved, &images::digests_of(&read))?;
        Ok::<_, anyhow::Error>(read)
    })
    .await?;
    report.event(Event::ApplyingPlan {
        file: file.to_string(),
        change_set: saved.change_set.name.clone(),
        stack: saved.plan.stack_name.clone(),
    });
    let ready = Ready {
        id: saved.change_set.arn.clone(),
        changes: saved.change_set.changes.clone(),
        new_template: None,
        create: saved.change_set.create,
        template_sha256: saved.change_set.template_sha256.clone(),
    };
    report.record(Fact::Changes(ready.changes.clone()));
    let executor = Executor::resume(
        ops,
        settings,
        &saved.functions,
        saved.plan.clone(),
        ready,
        read,
        destination(&saved, settings),
    );
    executor.run().await
}

/// What the checks need: the account, the change set, the stack and the companion stack now.
async fn observe(ops: &StackOps<'_>, saved: &SavedPlan) -> anyhow::Result<Found> {
    let companion = saved
        .plan
        .companion
        .as_ref()
        .map(|c| c.plan.companion_stack_name.as_str());
    let (account, change_set, stack, companion) = tokio::try_join!(
        ops.account_id(),
        async {
            cfn::change_set_state(&ops.aws.cfn, &saved.change_set.arn)
                .await
                .map_err(anyhow::Error::from)
        },
        ops.fingerprint(&saved.plan.stack_name),
        async {
            match companion {
                Some(name) => ops.fingerprint(name).await,
                None => Ok(None),
            }
        }
    )?;
    Ok(Found {
        account,
        change_set,
        stack,
        companion,
    })
}

/// Where the companion stack's template goes when it is too big to send inline: the plan's
/// artifacts bucket.
fn destination(saved: &SavedPlan, settings: &DeploySettings) -> Option<Destination> {
    Some(Destination {
        bucket: saved.artifacts.bucket.clone()?,
        prefix: settings.s3_prefix.clone(),
        kms_key_id: settings.kms_key_id.clone(),
        force_upload: false,
        dry_run: false,
        metadata: settings.metadata.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_sets_name_is_read_from_its_arn() {
        assert_eq!(
            change_set_name("arn:aws:cloudformation:us-east-1:123456789012:changeSet/samrs-deploy1700000000/0d9a-11ee"),
            "samrs-deploy1700000000"
        );
        assert_eq!(change_set_name("samrs-deploy1"), "samrs-deploy1");
    }
}
