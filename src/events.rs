//! What the commands tell the person who runs them, as data: the events the acting code emits
//! while it works ([`Event`]), the facts the `--output json` document is made of ([`Fact`]), and
//! the yes/no questions it asks ([`Question`]). The UI ([`crate::output`]) words and draws them;
//! nothing here prints.

use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

use indexmap::IndexMap;
use serde::Serialize;
use serde_json::Value;

use crate::companion::{CompanionPlan, EarlierFailure};
use crate::plan::changes::ResourceChange;
use crate::settings::{OnFailure, SigningProfiles};
use crate::stack_state::{EventRow, StackOutput};

/// Whoever runs the command: hears its events and answers its questions.
pub trait Reporter {
    fn event(&self, event: Event);
    /// A fact for the `--output json` document.
    fn record(&self, fact: Fact) {
        self.event(Event::Fact(fact));
    }
    /// Whether a person is there to answer questions.
    fn can_ask(&self) -> bool;
    /// A yes/no question (the UI words it); an error when it cannot be answered.
    fn ask(&self, question: Question) -> anyhow::Result<bool>;
}

/// Runs one phase of a command, telling the reporter when it starts and how it ends.
pub async fn phase<T>(
    reporter: &dyn Reporter,
    phase: Phase,
    work: impl Future<Output = anyhow::Result<T>>,
) -> anyhow::Result<T> {
    reporter.event(Event::PhaseStarted(phase));
    let result = work.await;
    reporter.event(Event::PhaseEnded {
        phase,
        ok: result.is_ok(),
    });
    result
}

/// The steps of a run, each timed (a deploy runs some side by side).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Flags, samconfig and (with `--guided`) the questions.
    Settings,
    /// The template and the AWS configuration.
    Prepare,
    /// Reading what exists: the managed bucket, the account, the companion stack.
    Resolve,
    /// The companion stack before the main stack (new repositories).
    Companion,
    /// The images read and checked on this machine (their digests).
    ReadImages,
    /// The images pushed.
    Images,
    Package,
    /// The main stack's change set: created, waited for, shown (and removed when of no use).
    ChangeSet,
    /// The change set executed and waited for.
    Execute,
    /// After the main stack: retired repositories removed.
    Cleanup,
    /// `samrs delete`: the stack, its companion stack, its artifacts, or the orphans.
    DeleteStack,
    DeleteCompanion,
    DeleteArtifacts,
    DeleteOrphans,
}

/// Which of samrs's stacks a fact is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StackRole {
    Main,
    Companion,
    ManagedBucket,
}

/// What happened to a stack, repository or change set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Updated,
    Executed,
    Deleted,
}

/// One thing a run did or learnt.
#[derive(Debug, Clone, PartialEq)]
pub enum Fact {
    /// The stack and region the run works on (known once the settings and region are resolved).
    Target {
        stack_name: Option<String>,
        region: Option<String>,
        dry_run: bool,
    },
    /// How the stack operations run: CloudFormation express mode, and (deploy) what a failure
    /// of the main stack does, as in force (`--disable-rollback` is `DO_NOTHING`).
    Mode {
        express: bool,
        on_failure: Option<OnFailure>,
    },
    Stack {
        name: String,
        role: StackRole,
        action: Action,
        status: Option<String>,
    },
    ChangeSet {
        id: String,
        stack: String,
        action: Action,
    },
    /// What the main stack's change set changes (its nested stacks' changes under them).
    Changes(Vec<ResourceChange>),
    Repository {
        name: String,
        action: Action,
    },
    Image {
        function: String,
        uri: String,
        digest: String,
    },
    Upload {
        key: String,
        bytes: usize,
    },
    /// An uploaded zip signed by AWS Signer (`--signing-profiles`): the template points at `key`.
    Signed {
        resource: String,
        job_id: String,
        key: String,
    },
    /// An image of the deleted stack's functions, deleted by `samrs delete` (by tag or digest).
    ImageDeleted {
        function: String,
        repository: String,
        image: String,
    },
    ObjectDeleted(String),
    /// Resources kept when a stack was deleted (`samrs delete` after DELETE_FAILED).
    Kept(String),
    /// The main stack after its operation: status and outputs.
    Deployed {
        status: String,
        outputs: Vec<StackOutput>,
    },
    /// The companion plan (`--dry-run` shows it; every deploy records it).
    CompanionPlan(Value),
    /// Something this run made and could not remove (a dry run's change set or stack).
    LeftBehind(String),
    /// The companion clean-up: waited for (`--wait-for-cleanup`) or left running, and the
    /// stack's status when the run ended.
    Cleanup {
        waited: bool,
        status: String,
    },
    /// The companion stack's last operation, found failed before this run planned.
    EarlierFailure(EarlierFailure),
    /// The user answered no: nothing more was done.
    Declined,
    /// `--plan-out`: the plan was saved to this file; `samrs apply` carries it out.
    PlanSaved(String),
}

/// Something a command did or found, as it happens.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    PhaseStarted(Phase),
    PhaseEnded {
        phase: Phase,
        ok: bool,
    },
    /// A fact for the document (some are also shown: an upload, a pushed image, the changes).
    Fact(Fact),
    /// A warning worded by the code that found it.
    Warning(String),

    // Any stack.
    /// Another operation runs on the stack: waiting for it to end.
    StackBusy {
        stack: String,
        status: String,
        role: StackRole,
    },
    /// The stack was never created successfully: it is deleted and created again.
    StackRecreating {
        stack: String,
        status: Option<String>,
        role: StackRole,
    },
    /// A repository and its images are about to be deleted.
    DeletingRepository(String),
    /// An object with the same content is in S3 already.
    UploadSkipped {
        key: String,
    },

    // The managed bucket.
    /// A dry run: the managed stack would be created.
    ManagedStackPlanned,
    ManagedStackCreating,
    ManagedStackCreated,
    /// The bucket `--resolve-s3` uses.
    ManagedBucket(String),

    // A deploy: its inputs.
    /// A parameter override that names no parameter of the template.
    UnknownOverride(String),
    /// The template's `Fn::ForEach` loops are left to CloudFormation (no `--language-extensions`).
    LoopsNotPackaged,
    /// A nested template uses language extensions, which samrs expands in the main one only.
    NestedLanguageExtensions(PathBuf),

    // The companion stack.
    /// The SAM CLI's repository name is too long for ECR: a shorter one is used.
    RepositoryNameAdjusted {
        function: String,
        repository: String,
    },
    /// A dry run: what the companion stack would do.
    CompanionPreview(Box<CompanionPlan>),
    CompanionUpToDate(String),
    CompanionUpdating(String),
    CompanionCreating(String),
    /// A repository no function uses any more is deleted with the stack's update.
    RetiringRepository(String),
    /// The companion stack is deleted: no image function is left.
    CompanionRetiring(String),
    /// The clean-up runs in CloudFormation and the run does not wait for it (`deleting`: the
    /// whole companion stack goes).
    CleanupStarted {
        stack: String,
        deleting: bool,
    },
    /// The companion stack's last operation failed (worded in its message).
    EarlierFailure(EarlierFailure),

    // Images and artifacts.
    /// A dry run: the image would be pushed.
    PushPlanned {
        function: String,
        repository: String,
    },
    Push(PushProgress),
    /// A dry run: the artifact would be uploaded.
    UploadPlanned {
        key: String,
        bytes: usize,
    },
    /// A dry run: the artifact would be signed.
    SigningPlanned {
        key: String,
        profile: String,
    },
    /// A signing job signed an artifact into `location` (`bucket/key`).
    SignedInto {
        job_id: String,
        location: String,
    },

    // The main stack.
    /// What the deploy runs with (sam's "Deploying with following values").
    DeploySummary(Box<DeploySummary>),
    /// A dry run found a stack a deploy would delete and create again.
    RecreatePreview {
        stack: String,
        status: String,
    },
    ChangeSetWaiting,
    /// The change set is ready (its changes came as [`Fact::Changes`]).
    ChangeSetReady(String),
    /// What a change set left that is of no use was removed (a failed change set, say).
    LeftoverRemoved(String),
    /// What a change set left could not be removed: the error, and how to remove it.
    LeftoverKept {
        what: String,
        error: String,
        fix: String,
    },
    DryRunFinished,
    /// `--plan-out`: an image read for its digest, not pushed.
    ImageDigest {
        function: String,
        uri: String,
    },
    /// `--plan-out`: the plan was saved (its file, its change set, the stack).
    PlanSaved {
        file: String,
        change_set: String,
        stack: String,
    },
    /// `samrs apply`: the plan's checks passed; its change set of the stack is carried out.
    ApplyingPlan {
        file: String,
        change_set: String,
        stack: String,
    },
    /// `--no-fail-on-empty-changeset` and nothing to deploy.
    NothingToDeploy(String),
    /// The change set is executing; the stack's events follow (`refresh`: how often).
    StackOperationStarted {
        refresh: String,
    },
    StackEvent(EventRow),
    /// The operation ended: no more events.
    StackEventsEnd,
    Outputs(Vec<StackOutput>),
    StackDeployed {
        stack: String,
        region: String,
        express: bool,
    },
    /// `--on-failure DELETE`: the stack that failed to create is deleted.
    DeletingFailedStack(String),
    FailedStackDeleted(String),
    /// `--on-failure DELETE` on an update: it only rolled back.
    RolledBack(String),
    /// The failed operation kept its resources (no rollback).
    RollbackDisabled(String),

    // A delete.
    StackNotFound {
        stack: String,
        region: String,
    },
    CompanionFound(String),
    DeletingStack(String),
    DeletingCompanionStack(String),
    /// One of the stack's function images was not in its repository.
    ImageNotFound {
        image: String,
        repository: String,
    },
    ImageNotDeleted {
        image: String,
        repository: String,
        function: String,
        reason: String,
    },
    DeletingObject(String),
    ObjectNotFound(String),
    /// A resource that blocked the deletion is kept.
    Keeping(String),
    /// No bucket could be found: the artifacts stay.
    BucketUnknown,
    Deleted {
        express: bool,
    },
    Orphans(Vec<Orphan>),
}

/// The values sam's "Deploying with following values" block shows.
#[derive(Debug, Clone, PartialEq)]
pub struct DeploySummary {
    pub stack_name: String,
    pub region: String,
    pub confirm_changeset: bool,
    pub disable_rollback: bool,
    pub image_repository: Option<String>,
    /// Function → repository URI, explicit and managed.
    pub image_repositories: IndexMap<String, String>,
    pub bucket: Option<String>,
    pub capabilities: Vec<String>,
    pub parameter_overrides: Vec<(String, String)>,
    pub signing_profiles: SigningProfiles,
}

/// The progress of an image push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushProgress {
    /// An image starts; `total` is the size of all its blobs.
    Started { image: String, total: u64 },
    /// `bytes` more of the image are in the registry.
    Progressed { image: String, bytes: u64 },
    /// One blob is settled.
    Blob {
        image: String,
        digest: String,
        outcome: BlobOutcome,
    },
    /// The image is in the registry as `digest`.
    Done { image: String, digest: String },
    /// A registry call for the image has moved no byte for `quiet` (told again after each
    /// further such period): `what` says which call and where.
    Waiting {
        image: String,
        what: String,
        quiet: Duration,
    },
}

/// What happened to one blob of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobOutcome {
    /// The repository already had it.
    Exists,
    /// Mounted from another repository of the same registry, pushed earlier in this run.
    Mounted,
    Uploaded,
}

/// A companion stack or managed repositories whose parent stack is gone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Orphan {
    pub companion_stack: String,
    pub stack_exists: bool,
    pub repositories: Vec<String>,
}

/// A yes/no question a command asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Question {
    /// Execute the change set just shown?
    ConfirmChangeSet,
    DeleteStack {
        stack: String,
        region: String,
    },
    DeleteS3Folder {
        prefix: String,
    },
    DeleteTemplateFile {
        name: String,
    },
    DeleteRepository {
        name: String,
    },
    DeleteCompanion {
        stack: String,
        region: String,
    },
    /// DELETE_FAILED because of these resources: keep them and finish?
    KeepBlockingResources {
        stack: String,
        resources: Vec<String>,
    },
    DeleteOrphans {
        count: usize,
    },
}
