//! The executor of a [`DeployPlan`]: it runs the plan's steps in the order of their
//! dependencies, keeping what each produced (the bucket, the pushed images, the packaged
//! template, the change set) for the steps after it. A dry run takes the same steps; those that
//! would change something show what they would do instead (the plan's `preview`).

use std::collections::HashMap;

use super::{change_set, companion, images, main_stack, Finish, Prepared};
use crate::events::{self, DeploySummary, Event, Phase};
use crate::package::{self, Packaged};
use crate::plan::{AfterChangeSet, BucketPlan, DeployPlan, StepId};
use crate::push;
use crate::s3::Destination;
use crate::settings::DeploySettings;
use crate::stackops::StackOps;
use crate::template::ImageLocation;

/// The parameter overrides as the summary shows them: NoEcho parameters' values as sam hides
/// them (`*****`).
fn hide_no_echo(
    template: &serde_json::Value,
    overrides: &[(String, String)],
) -> Vec<(String, String)> {
    let hidden = crate::plan::changes::secrets::no_echo_parameters(template);
    overrides
        .iter()
        .map(|(key, value)| {
            let shown = if hidden.contains(key) { "*****" } else { value };
            (key.clone(), shown.to_string())
        })
        .collect()
}

/// Whether the deploy goes on after a step.
pub(super) enum Flow {
    Next,
    /// The deploy ends here, without failing.
    Stop(Finish),
}

/// What the executor works from.
#[derive(Clone, Copy)]
pub(super) enum Source<'a> {
    /// The template (a deploy, a dry run, `--plan-out`).
    Template(&'a Prepared),
    /// A saved plan (`samrs apply`): its image functions' full paths.
    Saved { functions: &'a [String] },
}

pub(super) struct Executor<'a> {
    pub ops: StackOps<'a>,
    pub settings: &'a DeploySettings,
    pub source: Source<'a>,
    pub plan: DeployPlan,
    /// The steps carried out so far.
    done: Vec<StepId>,
    destination: Option<Destination>,
    /// The images read (and checked) before the run, to push in its image step.
    read: Option<push::ReadImages>,
    /// The pushed (or, for a saved plan, to be pushed) images' digest-pinned URIs, by function.
    pushed: HashMap<String, String>,
    packaged: Option<Packaged>,
    change_set: Option<change_set::Ready>,
}

impl<'a> Executor<'a> {
    pub fn new(
        ops: StackOps<'a>,
        settings: &'a DeploySettings,
        prepared: &'a Prepared,
        plan: DeployPlan,
    ) -> Self {
        Executor {
            ops,
            settings,
            source: Source::Template(prepared),
            plan,
            done: Vec::new(),
            destination: None,
            read: None,
            pushed: HashMap::new(),
            packaged: None,
            change_set: None,
        }
    }

    /// The executor of a saved plan, resumed after its change set step: the bucket was found
    /// and the artifacts uploaded when it was made, `ready` is its change set, and `read` its
    /// images, read and checked against the plan's digests. What follows the change set is
    /// executing it.
    pub fn resume(
        ops: StackOps<'a>,
        settings: &'a DeploySettings,
        functions: &'a [String],
        mut plan: DeployPlan,
        ready: change_set::Ready,
        read: push::ReadImages,
        destination: Option<Destination>,
    ) -> Self {
        plan.main.then = AfterChangeSet::Execute;
        Executor {
            ops,
            settings,
            source: Source::Saved { functions },
            plan,
            done: vec![StepId::Bucket, StepId::Package, StepId::ChangeSet],
            destination,
            read: Some(read),
            pushed: HashMap::new(),
            packaged: None,
            change_set: Some(ready),
        }
    }

    /// The template the deploy packages (a saved plan has none: it was packaged).
    pub fn prepared(&self) -> anyhow::Result<&'a Prepared> {
        match self.source {
            Source::Template(prepared) => Ok(prepared),
            Source::Saved { .. } => anyhow::bail!("a saved plan's template was packaged already"),
        }
    }

    /// The image functions' full paths.
    pub fn function_paths(&self) -> Vec<String> {
        match self.source {
            Source::Template(prepared) => crate::plan::paths(&prepared.functions),
            Source::Saved { functions } => functions.to_vec(),
        }
    }

    /// The artifacts bucket, once the bucket step is done.
    pub fn bucket_name(&self) -> Option<&str> {
        self.destination.as_ref().map(|d| d.bucket.as_str())
    }

    /// The steps not done yet, each once those it waits for are done.
    pub async fn run(mut self) -> anyhow::Result<Finish> {
        for step in self.plan.steps() {
            if self.done.contains(&step.id) {
                continue;
            }
            if let Some(missing) = step.after.iter().find(|s| !self.done.contains(s)) {
                anyhow::bail!("the deploy plan runs {:?} before {missing:?}", step.id);
            }
            if let Flow::Stop(finish) = self.step(step.id).await? {
                return Ok(finish);
            }
            self.done.push(step.id);
        }
        Ok(Finish::Deployed)
    }

    async fn step(&mut self, id: StepId) -> anyhow::Result<Flow> {
        match id {
            StepId::Bucket => self.bucket().await.map(|()| Flow::Next),
            StepId::Companion => self.companion().await.map(|()| Flow::Next),
            StepId::Images => self.images().await.map(|()| Flow::Next),
            StepId::Package => self.package().await.map(|()| Flow::Next),
            StepId::ChangeSet => main_stack::change_set(self).await,
            StepId::Execute => main_stack::execute(self).await,
            StepId::Cleanup => self.cleanup().await.map(|()| Flow::Next),
        }
    }

    /// Where artifacts go: the given bucket, or the managed one (found, waited for or created).
    pub async fn bucket(&mut self) -> anyhow::Result<()> {
        let settings = self.settings;
        let bucket = match &self.plan.bucket {
            BucketPlan::None => None,
            BucketPlan::Given(bucket) => Some(bucket.clone()),
            BucketPlan::Managed(action) => Some(
                crate::managed_bucket::carry_out(&self.ops, action.clone(), self.plan.preview)
                    .await?,
            ),
        };
        self.destination = bucket.map(|bucket| Destination {
            bucket,
            prefix: settings.s3_prefix.clone(),
            kms_key_id: settings.kms_key_id.clone(),
            force_upload: settings.force_upload,
            dry_run: self.plan.preview,
            metadata: settings.metadata.clone(),
        });
        self.done.push(StepId::Bucket);
        Ok(())
    }

    /// Companion phase 1: every repository the images need, before they are pushed.
    async fn companion(&mut self) -> anyhow::Result<()> {
        if self.plan.companion.is_none() {
            return Ok(());
        }
        let report = self.ops.report;
        events::phase(report, Phase::Companion, companion::phase1(self)).await
    }

    /// The images pushed (a dry run lists them; `--plan-out` reads them for their digests).
    async fn images(&mut self) -> anyhow::Result<()> {
        let report = self.ops.report;
        let (aws, env) = (self.ops.aws, &self.settings.environment);
        let (preview, saves) = (self.plan.preview, self.plan.saves());
        let read = self.read.take();
        let pushes = &mut self.plan.images;
        self.pushed = events::phase(report, Phase::Images, async {
            if preview {
                images::list(pushes, report);
                return Ok(HashMap::new());
            }
            let read = match read {
                Some(read) => read,
                None => images::read(env, pushes).await?,
            };
            if saves {
                Ok(images::digests(pushes, &read, report))
            } else {
                images::push(aws, env, read, pushes, report).await
            }
        })
        .await?;
        Ok(())
    }

    /// The local artifacts uploaded and the template rewritten to point at them and at the
    /// pushed images; with language extensions, merged back into the original template.
    async fn package(&mut self) -> anyhow::Result<()> {
        let (ops, settings, prepared) = (self.ops, self.settings, self.prepared()?);
        let images: HashMap<ImageLocation, String> = prepared
            .functions
            .iter()
            .filter_map(|f| Some((f.location(), self.pushed.get(&f.full_path)?.clone())))
            .collect();
        let signing = package::Signing {
            profiles: &settings.signing_profiles,
            poller: ops.poller,
        };
        let mut packaged = events::phase(
            ops.report,
            Phase::Package,
            package::package_template(
                ops.aws,
                &prepared.template,
                self.destination.as_ref(),
                &images,
                &signing,
                settings.language_extensions,
                ops.report,
            ),
        )
        .await?;
        if let Some(expansion) = &prepared.extensions {
            let original = &prepared.original;
            let (merged, warnings) = crate::template::language_extensions::merge_packaged(
                &original.value,
                &packaged.template,
                expansion,
            )
            .map_err(|e| original.language_extensions_error(e))?;
            for warning in warnings {
                ops.report.event(Event::Warning(warning));
            }
            packaged.template = merged;
        }
        ops.report
            .event(Event::DeploySummary(Box::new(DeploySummary {
                stack_name: settings.stack_name.clone(),
                region: self.plan.region.clone(),
                confirm_changeset: settings.confirm_changeset,
                disable_rollback: settings.disable_rollback,
                image_repository: settings.image_repository.clone(),
                image_repositories: self.plan.image_repositories(settings).clone(),
                bucket: self.bucket_name().map(str::to_string),
                capabilities: settings.capabilities.clone(),
                parameter_overrides: hide_no_echo(
                    &prepared.original.value,
                    &settings.parameter_overrides,
                ),
                signing_profiles: settings.signing_profiles.clone(),
            })));
        self.packaged = Some(packaged);
        Ok(())
    }

    /// Companion phase 2, after the main stack succeeded.
    async fn cleanup(&mut self) -> anyhow::Result<()> {
        if self.plan.companion.is_none() {
            return Ok(());
        }
        let report = self.ops.report;
        events::phase(report, Phase::Cleanup, companion::phase2(self)).await
    }

    pub fn destination(&self) -> Option<&Destination> {
        self.destination.as_ref()
    }

    pub fn packaged(&self) -> anyhow::Result<&Packaged> {
        self.packaged
            .as_ref()
            .ok_or_else(|| anyhow::anyhow!("the change set comes after packaging"))
    }

    pub fn set_change_set(&mut self, ready: change_set::Ready) {
        self.change_set = Some(ready);
    }

    pub fn take_change_set(&mut self) -> Option<change_set::Ready> {
        self.change_set.take()
    }
}
