//! What a deploy will do, decided before anything changes: from the settings, the template's
//! image functions and what was read from AWS ([`Observed`]: the managed bucket stack, the
//! account, the companion stack), [`deploy`] makes a [`DeployPlan`]: what the managed bucket, the
//! companion stack, the image pushes, the main stack and the clean-up will do, and which step
//! waits for which ([`DeployPlan::steps`]).
//!
//! A dry run shows the plan instead of carrying out the steps that change something; the
//! `--output json` document carries its companion part; the executor ([`crate::deploy`]) carries
//! it out, step by step. It is plain data: it serializes and reads back, so a plan can be saved
//! and applied later. Everything here is pure.

pub mod bucket;
pub mod changes;
pub mod checks;
pub mod failure;
pub mod images;
pub mod saved;
pub mod shortcut;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::companion::{self, CompanionPlan, PlanInput};
use crate::settings::DeploySettings;
use crate::stack_state::StackInfo;
use crate::template::ImageFunction;
use bucket::BucketAction;
use failure::FailurePlan;
use images::ImagePush;

/// What a deploy will do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeployPlan {
    pub stack_name: String,
    pub region: String,
    /// A dry run: the steps that change something are shown, not taken; the change set is made,
    /// shown and removed.
    pub preview: bool,
    pub bucket: BucketPlan,
    /// The companion stack's part, when image functions have managed repositories (or had).
    pub companion: Option<CompanionStep>,
    /// The images to push, by function.
    pub images: Vec<ImagePush>,
    pub main: MainStackPlan,
}

/// Where artifacts and templates go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BucketPlan {
    /// No bucket: templates go inline, and there must be no local artifact.
    None,
    /// `--s3-bucket`.
    Given(String),
    /// `--resolve-s3`: the SAM CLI's managed bucket stack.
    Managed(BucketAction),
}

/// The companion stack's plan with the templates it applies: phase 1 before the main stack
/// (new repositories added, retired ones kept), phase 2 after it (retired ones removed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanionStep {
    /// The account the repositories are in.
    pub account: String,
    pub plan: CompanionPlan,
    pub phase1_template: Option<String>,
    pub phase2_template: Option<String>,
}

impl CompanionStep {
    pub fn new(account: String, plan: CompanionPlan) -> CompanionStep {
        CompanionStep {
            account,
            phase1_template: companion::phase1_template(&plan),
            phase2_template: companion::phase2_template(&plan),
            plan,
        }
    }
}

/// What happens to the main stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MainStackPlan {
    /// What the change set is executed with, and what follows a failure.
    pub failure: FailurePlan,
    /// What follows a change set that is ready.
    pub then: AfterChangeSet,
    /// An empty change set is an error (`--fail-on-empty-changeset`, sam's default).
    pub fail_on_empty: bool,
}

/// What follows a change set that is ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterChangeSet {
    Execute,
    /// `--confirm-changeset`: ask first.
    Confirm,
    /// `--no-execute-changeset`: leave it for later.
    Keep,
    /// A dry run: it was only shown, and is removed.
    Remove,
    /// `--plan-out`: kept, and saved with the plan for `samrs apply`.
    Save,
}

/// What was read from AWS before planning.
#[derive(Debug, Clone, Default)]
pub struct Observed {
    /// `--resolve-s3`: the managed bucket stack (None: it does not exist).
    pub managed_stack: Option<Option<StackInfo>>,
    /// Managed repositories wanted or kept: the account and the companion stack.
    pub companion: Option<(String, companion::Observed)>,
}

/// One step of a deploy: which step, and the steps it waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    pub id: StepId,
    pub after: Vec<StepId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepId {
    /// The artifacts bucket: the managed one found, waited for or created.
    Bucket,
    /// Companion phase 1: the repositories the images go to.
    Companion,
    /// The images read and checked on this machine: their digests, which the packaged template
    /// pins, are known before any push.
    ReadImages,
    /// The images pushed.
    Images,
    /// The local artifacts uploaded, the template rewritten to point at them and the images.
    Package,
    /// The main stack's change set, made from the packaged template.
    ChangeSet,
    /// The change set executed (or kept, or removed, or declined).
    Execute,
    /// Companion phase 2: what no function uses any more goes.
    Cleanup,
}

impl DeployPlan {
    /// The steps, in an order that honours their dependencies: what each needs from AWS to be
    /// there before it starts (the bucket before uploads, repositories before pushes, a
    /// successful main stack before the clean-up). What needs nothing from another step runs
    /// beside it: the main stack's change set is made while the companion stack is created or
    /// updated and the images are pushed, since the template names repositories the plan
    /// already knows and digests read from the images on this machine (CloudFormation checks
    /// neither before the change set executes). Execute waits for both.
    pub fn steps(&self) -> Vec<Step> {
        use StepId::*;
        let step = |id, after: &[StepId]| Step {
            id,
            after: after.to_vec(),
        };
        // A companion stack that has to be waited for or created again is planned again from
        // what is found then, which may name other repositories: the template waits for that.
        let package_after: &[StepId] = if self.companion_may_replan() {
            &[Bucket, ReadImages, Companion]
        } else {
            &[Bucket, ReadImages]
        };
        vec![
            step(Bucket, &[]),
            step(Companion, &[]),
            step(ReadImages, &[]),
            step(Images, &[Companion, ReadImages]),
            step(Package, package_after),
            step(ChangeSet, &[Package]),
            step(Execute, &[ChangeSet, Companion, Images]),
            step(Cleanup, &[Execute]),
        ]
    }

    /// Whether companion phase 1 plans again before it acts (the stack is busy, or was never
    /// created and is made again), so the repositories are known only once it ran.
    pub fn companion_may_replan(&self) -> bool {
        self.companion.as_ref().is_some_and(|c| {
            matches!(
                c.plan.phase1,
                Some(companion::CompanionAction::Wait | companion::CompanionAction::Recreate)
            )
        })
    }

    /// The function → repository URI mapping the deploy uses: explicit and managed.
    pub fn image_repositories<'a>(
        &'a self,
        settings: &'a DeploySettings,
    ) -> &'a IndexMap<String, String> {
        self.companion
            .as_ref()
            .map_or(&settings.image_repositories, |c| &c.plan.mapping)
    }
}

/// Plans a deploy from what was observed.
pub fn deploy(
    settings: &DeploySettings,
    functions: &[ImageFunction],
    region: &str,
    observed: &Observed,
) -> anyhow::Result<DeployPlan> {
    let bucket = match &observed.managed_stack {
        Some(stack) => BucketPlan::Managed(bucket::action(stack.as_ref())?),
        None => settings
            .s3_bucket
            .clone()
            .map_or(BucketPlan::None, BucketPlan::Given),
    };
    let companion = match &observed.companion {
        Some((account, deployed)) => Some(CompanionStep::new(
            account.clone(),
            companion_plan(settings, &paths(functions), account, region, deployed)?,
        )),
        None => None,
    };
    let mapping = companion
        .as_ref()
        .map_or(&settings.image_repositories, |c| &c.plan.mapping);
    let images = images::pushes(functions, mapping, settings.image_repository.as_deref())?;
    let then = if settings.dry_run {
        AfterChangeSet::Remove
    } else if settings.plan_out.is_some() {
        AfterChangeSet::Save
    } else if settings.no_execute_changeset {
        AfterChangeSet::Keep
    } else if settings.confirm_changeset {
        AfterChangeSet::Confirm
    } else {
        AfterChangeSet::Execute
    };
    Ok(DeployPlan {
        stack_name: settings.stack_name.clone(),
        region: region.to_string(),
        preview: settings.dry_run,
        bucket,
        companion,
        images,
        main: MainStackPlan {
            failure: failure::of(settings),
            then,
            fail_on_empty: settings.fail_on_empty_changeset && !settings.dry_run,
        },
    })
}

impl DeployPlan {
    /// `--plan-out`: the steps run up to the change set, which is kept; the companion stack is
    /// planned and not applied, and images are read for their digests, not pushed.
    pub fn saves(&self) -> bool {
        self.main.then == AfterChangeSet::Save
    }
}

/// The image functions' full paths.
pub fn paths(functions: &[ImageFunction]) -> Vec<String> {
    functions.iter().map(|f| f.full_path.clone()).collect()
}

/// The companion stack's plan for this deploy (`functions`: the image functions' full paths),
/// from what was observed of it.
pub fn companion_plan(
    settings: &DeploySettings,
    functions: &[String],
    account: &str,
    region: &str,
    observed: &companion::Observed,
) -> anyhow::Result<CompanionPlan> {
    Ok(companion::plan(&PlanInput {
        stack_name: &settings.stack_name,
        functions,
        image_repositories: &settings.image_repositories,
        resolve_image_repos: settings.resolve_image_repos,
        account,
        region,
        companion_status: observed.status.as_deref(),
        deployed: &observed.resources,
        settings: &settings.repo_settings,
        tags: &settings.tags,
        version: env!("CARGO_PKG_VERSION"),
    })?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::companion::{CompanionAction, RepoSettings};

    /// A plan whose companion stack is found in `status` (None: absent), with one image function.
    fn plan_with_companion(status: Option<&str>) -> DeployPlan {
        let companion = companion::plan(&PlanInput {
            stack_name: "app",
            functions: &["Fn".to_string()],
            image_repositories: &IndexMap::new(),
            resolve_image_repos: true,
            account: "123456789012",
            region: "us-east-1",
            companion_status: status,
            deployed: &[],
            settings: &RepoSettings::default(),
            tags: &[],
            version: "0.1.0",
        })
        .unwrap();
        DeployPlan {
            stack_name: "app".into(),
            region: "us-east-1".into(),
            preview: false,
            bucket: BucketPlan::Given("bucket".into()),
            companion: Some(CompanionStep::new("123456789012".into(), companion)),
            images: Vec::new(),
            main: MainStackPlan {
                failure: FailurePlan {
                    execute_disable_rollback: Some(false),
                    express: None,
                    delete_failed_create: false,
                },
                then: AfterChangeSet::Execute,
                fail_on_empty: true,
            },
        }
    }

    fn after(steps: &[Step], id: StepId) -> Vec<StepId> {
        steps.iter().find(|s| s.id == id).unwrap().after.clone()
    }

    /// Every step comes after those it waits for, so one pass in order can run them.
    fn in_dependency_order(steps: &[Step]) -> bool {
        steps.iter().enumerate().all(|(i, step)| {
            step.after
                .iter()
                .all(|dep| steps[..i].iter().any(|s| s.id == *dep))
        })
    }

    #[test]
    fn the_change_set_is_made_beside_the_companion_stack_and_the_pushes() {
        let plan = plan_with_companion(None);
        assert_eq!(
            plan.companion.as_ref().unwrap().plan.phase1,
            Some(CompanionAction::Create)
        );
        let steps = plan.steps();
        assert!(in_dependency_order(&steps));
        use StepId::*;
        assert_eq!(after(&steps, Package), [Bucket, ReadImages]);
        assert_eq!(after(&steps, ChangeSet), [Package]);
        assert_eq!(after(&steps, Images), [Companion, ReadImages]);
        assert_eq!(after(&steps, Execute), [ChangeSet, Companion, Images]);
        assert_eq!(after(&steps, Cleanup), [Execute]);
    }

    #[test]
    fn a_companion_stack_planned_again_after_a_wait_comes_before_the_template() {
        for (status, action) in [
            ("UPDATE_IN_PROGRESS", CompanionAction::Wait),
            ("ROLLBACK_COMPLETE", CompanionAction::Recreate),
        ] {
            let plan = plan_with_companion(Some(status));
            assert_eq!(plan.companion.as_ref().unwrap().plan.phase1, Some(action));
            let steps = plan.steps();
            assert!(in_dependency_order(&steps));
            assert_eq!(
                after(&steps, StepId::Package),
                [StepId::Bucket, StepId::ReadImages, StepId::Companion],
                "{status}"
            );
        }
    }
}
