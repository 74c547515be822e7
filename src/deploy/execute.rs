//! The executor of a [`DeployPlan`]: it runs the plan's steps as their dependencies allow,
//! those that wait for nothing unfinished side by side (on the run's one task), keeping what
//! each produced (the bucket, the companion plan in force, the read images, the packaged
//! template, the change set) for the steps after it. A dry run takes the same steps; those that
//! would change something show what they would do instead (the plan's `preview`).
//!
//! When a step fails, no step starts any more, those running finish, and a change set made
//! beside the failed step is removed (with the empty stack CloudFormation made for it), so
//! nothing is left that a rerun would trip over; a saved plan's change set stays, for the apply
//! run again.
//!
//! `--plan-out` takes the steps up to the change set (images read, not pushed) and saves the
//! plan; `samrs apply` resumes a saved plan's executor after its change set ([`Executor::resume`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use super::{change_set, companion, images, main_stack, Finish, Prepared};
use crate::cloudformation::WaitError;
use crate::events::{self, DeploySummary, Event, Phase};
use crate::interrupt::Interrupted;
use crate::package::{self, Packaged};
use crate::plan::images::ImagePush;
use crate::plan::{AfterChangeSet, BucketPlan, CompanionStep, DeployPlan, StepId};
use crate::push::ReadImage;
use crate::s3::Destination;
use crate::settings::DeploySettings;
use crate::stackops::StackOps;

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
    /// What the steps produced so far. Steps run side by side on one task: each borrows it
    /// only between its awaits.
    produced: RefCell<Produced>,
}

/// What steps hand to the steps after them.
struct Produced {
    /// The steps carried out so far.
    done: Vec<StepId>,
    destination: Option<Destination>,
    /// The companion plan in force (made again when phase 1 had to wait), and its pushes.
    companion: Option<CompanionStep>,
    images: Vec<ImagePush>,
    /// The images read, until they are pushed.
    read: Vec<ReadImage>,
    /// The digest of each read image (or a saved plan's), by function.
    digests: HashMap<String, String>,
    packaged: Option<Packaged>,
    change_set: Option<change_set::Ready>,
}

/// A step under way.
type Running<'s> = Vec<(
    StepId,
    Pin<Box<dyn Future<Output = anyhow::Result<Flow>> + 's>>,
)>;

impl<'a> Executor<'a> {
    pub fn new(
        ops: StackOps<'a>,
        settings: &'a DeploySettings,
        prepared: &'a Prepared,
        plan: DeployPlan,
    ) -> Self {
        let produced = Produced {
            done: Vec::new(),
            destination: None,
            companion: plan.companion.clone(),
            images: plan.images.clone(),
            read: Vec::new(),
            digests: HashMap::new(),
            packaged: None,
            change_set: None,
        };
        Executor {
            ops,
            settings,
            source: Source::Template(prepared),
            plan,
            produced: RefCell::new(produced),
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
        read: Vec<ReadImage>,
        destination: Option<Destination>,
    ) -> Self {
        plan.main.then = AfterChangeSet::Execute;
        let produced = Produced {
            done: vec![
                StepId::Bucket,
                StepId::ReadImages,
                StepId::Package,
                StepId::ChangeSet,
            ],
            destination,
            companion: plan.companion.clone(),
            images: plan.images.clone(),
            read,
            digests: plan
                .images
                .iter()
                .filter_map(|i| Some((i.function.clone(), i.digest.clone()?)))
                .collect(),
            packaged: None,
            change_set: Some(ready),
        };
        Executor {
            ops,
            settings,
            source: Source::Saved { functions },
            plan,
            produced: RefCell::new(produced),
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

    /// The plan as the steps so far made it: the companion plan in force and its pushes, each
    /// with the digest its image was read with (what `--plan-out` saves).
    pub fn plan_in_force(&self) -> DeployPlan {
        let produced = self.produced.borrow();
        let mut plan = self.plan.clone();
        plan.companion = produced.companion.clone();
        plan.images = produced
            .images
            .iter()
            .map(|image| {
                let mut image = image.clone();
                image.digest = produced.digests.get(&image.function).cloned();
                image
            })
            .collect();
        plan
    }

    /// The artifacts bucket, once the bucket step is done.
    pub fn bucket_name(&self) -> Option<String> {
        let produced = self.produced.borrow();
        produced.destination.as_ref().map(|d| d.bucket.clone())
    }

    /// The steps not done yet, each started once those it waits for are done.
    pub async fn run(self) -> anyhow::Result<Finish> {
        let steps = self.plan.steps();
        let mut started: Vec<StepId> = self.produced.borrow().done.clone();
        let mut running: Running<'_> = Vec::new();
        // How the deploy ends, once a step stopped or failed: nothing more starts.
        let mut ending: Option<anyhow::Result<Finish>> = None;
        loop {
            if ending.is_none() {
                let done = self.produced.borrow().done.clone();
                for step in &steps {
                    if !started.contains(&step.id) && step.after.iter().all(|s| done.contains(s)) {
                        started.push(step.id);
                        running.push((step.id, Box::pin(self.step(step.id))));
                    }
                }
            }
            if running.is_empty() {
                break;
            }
            let (id, result) = next_finished(&mut running).await;
            match result {
                Ok(Flow::Next) => self.produced.borrow_mut().done.push(id),
                Ok(Flow::Stop(finish)) => {
                    ending.get_or_insert(Ok(finish));
                }
                Err(err) => {
                    if !matches!(ending, Some(Err(_))) {
                        ending = Some(Err(err));
                    }
                }
            }
        }
        drop(running);
        match ending {
            Some(Err(err)) => {
                // A saved plan's change set is the plan: it stays for the apply run again.
                if matches!(self.source, Source::Template(_)) {
                    self.remove_unused_change_set(goes_on(&err)).await;
                }
                Err(err)
            }
            Some(Ok(finish)) => Ok(finish),
            None if started.len() < steps.len() => {
                anyhow::bail!("the deploy plan's steps wait for each other: {steps:?}")
            }
            None => Ok(Finish::Deployed),
        }
    }

    fn step(&self, id: StepId) -> impl Future<Output = anyhow::Result<Flow>> + '_ {
        async move {
            match id {
                StepId::Bucket => self.bucket().await.map(|()| Flow::Next),
                StepId::Companion => self.companion().await.map(|()| Flow::Next),
                StepId::ReadImages => self.read_images().await.map(|()| Flow::Next),
                StepId::Images => self.images().await.map(|()| Flow::Next),
                StepId::Package => self.package().await.map(|()| Flow::Next),
                StepId::ChangeSet => main_stack::change_set(self).await,
                StepId::Execute => main_stack::execute(self).await,
                StepId::Cleanup => self.cleanup().await.map(|()| Flow::Next),
            }
        }
    }

    /// Where artifacts go: the given bucket, or the managed one (found, waited for or created).
    pub async fn bucket(&self) -> anyhow::Result<()> {
        let settings = self.settings;
        let bucket = match &self.plan.bucket {
            BucketPlan::None => None,
            BucketPlan::Given(bucket) => Some(bucket.clone()),
            BucketPlan::Managed(action) => Some(
                crate::managed_bucket::carry_out(&self.ops, action.clone(), self.plan.preview)
                    .await?,
            ),
        };
        let mut produced = self.produced.borrow_mut();
        produced.destination = bucket.map(|bucket| Destination {
            bucket,
            prefix: settings.s3_prefix.clone(),
            kms_key_id: settings.kms_key_id.clone(),
            force_upload: settings.force_upload,
            dry_run: self.plan.preview,
            metadata: settings.metadata.clone(),
        });
        produced.done.push(StepId::Bucket);
        Ok(())
    }

    /// Companion phase 1: every repository the images need, before they are pushed.
    async fn companion(&self) -> anyhow::Result<()> {
        if self.plan.companion.is_none() {
            return Ok(());
        }
        let report = self.ops.report;
        events::phase(report, Phase::Companion, companion::phase1(self)).await
    }

    /// The images read on this machine, so their digests are known before they are pushed.
    async fn read_images(&self) -> anyhow::Result<()> {
        if self.plan.images.is_empty() || self.plan.preview {
            return Ok(());
        }
        let report = self.ops.report;
        let read = events::phase(
            report,
            Phase::ReadImages,
            images::read(&self.plan.images, &self.settings.environment),
        )
        .await?;
        let mut produced = self.produced.borrow_mut();
        produced.digests = images::digests_of(&read);
        produced.read = read;
        Ok(())
    }

    /// The images pushed (a dry run lists them; `--plan-out` names the digests it will push).
    async fn images(&self) -> anyhow::Result<()> {
        let report = self.ops.report;
        let (pushes, read, digests) = {
            let mut produced = self.produced.borrow_mut();
            (
                produced.images.clone(),
                std::mem::take(&mut produced.read),
                produced.digests.clone(),
            )
        };
        let preview = self.plan.preview;
        if self.plan.saves() {
            return images::digests(&pushes, &digests, report);
        }
        let (aws, functions) = (self.ops.aws, self.function_paths());
        let env = &self.settings.environment;
        events::phase(report, Phase::Images, async {
            let pushed = images::Pushed {
                functions: &functions,
                digests: &digests,
            };
            images::push(aws, &pushes, read, preview, env, &pushed, report).await
        })
        .await
    }

    /// The local artifacts uploaded and the template rewritten to point at them and at the
    /// images' digests; with language extensions, merged back into the original template.
    async fn package(&self) -> anyhow::Result<()> {
        let (ops, settings, prepared) = (self.ops, self.settings, self.prepared()?);
        let signing = package::Signing {
            profiles: &settings.signing_profiles,
            poller: ops.poller,
        };
        let (destination, pinned) = {
            let produced = self.produced.borrow();
            // The repositories of the plan in force: one made again after a wait names them
            // anew (the package step then waits for it).
            let pinned = images::pinned(&prepared.functions, &produced.images, &produced.digests)?;
            (produced.destination.clone(), pinned)
        };
        let mut packaged = events::phase(
            ops.report,
            Phase::Package,
            package::package_template(
                ops.aws,
                &prepared.template,
                destination.as_ref(),
                &pinned,
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
        let image_repositories = self
            .companion_step()
            .map_or_else(|| settings.image_repositories.clone(), |c| c.plan.mapping);
        ops.report
            .event(Event::DeploySummary(Box::new(DeploySummary {
                stack_name: settings.stack_name.clone(),
                region: self.plan.region.clone(),
                confirm_changeset: settings.confirm_changeset,
                disable_rollback: settings.disable_rollback,
                image_repository: settings.image_repository.clone(),
                image_repositories,
                bucket: self.bucket_name(),
                capabilities: settings.capabilities.clone(),
                parameter_overrides: hide_no_echo(
                    &prepared.original.value,
                    &settings.parameter_overrides,
                ),
                signing_profiles: settings.signing_profiles.clone(),
            })));
        self.produced.borrow_mut().packaged = Some(packaged);
        Ok(())
    }

    /// Companion phase 2, after the main stack succeeded.
    async fn cleanup(&self) -> anyhow::Result<()> {
        if self.plan.companion.is_none() {
            return Ok(());
        }
        let report = self.ops.report;
        events::phase(report, Phase::Cleanup, companion::phase2(self)).await
    }

    /// A change set made beside a step that failed is of no use: it goes, with the empty stack
    /// CloudFormation made for it. What cannot be removed is said, with how to remove it.
    async fn remove_unused_change_set(&self, keep_new_stack: bool) {
        let unused = self.produced.borrow_mut().change_set.take();
        if let Some(ready) = unused {
            change_set::remove_unused(&self.ops, &self.settings.stack_name, &ready, keep_new_stack)
                .await;
        }
    }

    pub fn destination(&self) -> Option<Destination> {
        self.produced.borrow().destination.clone()
    }

    /// The packaged template (a copy: steps beside this one borrow what was produced).
    pub fn packaged(&self) -> anyhow::Result<Packaged> {
        self.produced
            .borrow()
            .packaged
            .clone()
            .ok_or_else(|| anyhow::anyhow!("the change set comes after packaging"))
    }

    /// The companion plan in force.
    pub fn companion_step(&self) -> Option<CompanionStep> {
        self.produced.borrow().companion.clone()
    }

    /// Phase 1's plan in force, with the pushes its repositories give (`None`: those planned).
    pub fn set_companion_step(&self, step: CompanionStep, images: Option<Vec<ImagePush>>) {
        let mut produced = self.produced.borrow_mut();
        produced.companion = Some(step);
        if let Some(images) = images {
            produced.images = images;
        }
    }

    pub fn set_change_set(&self, ready: change_set::Ready) {
        self.produced.borrow_mut().change_set = Some(ready);
    }

    pub fn take_change_set(&self) -> Option<change_set::Ready> {
        self.produced.borrow_mut().change_set.take()
    }
}

/// Whether a step ended while what it waited for goes on in CloudFormation (a wait that lasted
/// `--max-wait-duration`, Ctrl-C): the next deploy waits for it and carries on.
fn goes_on(err: &anyhow::Error) -> bool {
    matches!(
        err.downcast_ref::<WaitError>(),
        Some(WaitError::TimedOut { .. })
    ) || err.downcast_ref::<Interrupted>().is_some()
}

/// Waits until one of the running steps ends, and takes it off the list (which is not empty).
async fn next_finished(running: &mut Running<'_>) -> (StepId, anyhow::Result<Flow>) {
    let (index, result) = std::future::poll_fn(|cx| {
        for (index, (_, step)) in running.iter_mut().enumerate() {
            if let Poll::Ready(result) = step.as_mut().poll(cx) {
                return Poll::Ready((index, result));
            }
        }
        Poll::Pending
    })
    .await;
    let (id, _) = running.remove(index);
    (id, result)
}
