//! The managed ECR companion stack, as pure functions: sam's names for the stack and its
//! repositories (`naming`), which functions are managed (`mapping`), the template text
//! (`render`), what the stack's status allows (`status`), and the plan of what a deploy adds,
//! keeps and retires (`plan`). The AWS calls that observe and apply live in `deploy`.

mod cleanup;
mod mapping;
mod naming;
mod plan;
mod render;
mod status;

pub use cleanup::{earlier_failure, EarlierFailure};
pub use naming::{md5_hex, repository_uri, CompanionStack, EcrRepo};
pub use plan::{
    phase1_template, phase2_template, plan, Cleanup, CompanionError, CompanionPlan, DeployedRepo,
    DeployedResource, Observed, PlanInput, PlannedRepo, RepoAction,
};
pub use render::{render, render_sam_compatible, RepoEntry, RepoSettings, RepoSettingsError};
pub use status::{companion_action, BlockedStack, CompanionAction};
