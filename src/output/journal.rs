//! What a run did, for `--output json`: the deploy and delete steps report facts
//! ([`crate::events::Fact`]: stacks created, repositories, images pushed, uploads, the change
//! set) and time their phases; the run's end, whatever it is (done, failed, interrupted), turns
//! them into one JSON document, version [`SCHEMA`], described in docs/json-output.md.
//!
//! The document is also the SAM CLI's last `--output json` line (`"type": "result"` with its
//! `status` words), so scripts that read sam's result line read samrs's.

use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::{json, Value};

use crate::aws::AwsError;
pub use crate::events::{Action, Fact, Phase, StackRole};
use crate::plan::changes::ResourceChange;
use crate::settings::OnFailure;
use crate::stack_state::{EventRow, StackOutput};

/// The version of the document's shape: it changes only when a field changes meaning or goes.
pub const SCHEMA: u32 = 1;

/// Which command the document is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Deploy,
    Delete,
    Apply,
}

/// How the run ended, as the caller of the command saw it.
#[derive(Debug, Clone, PartialEq)]
pub enum Ending {
    /// Deployed, or deleted (or, with [`Fact::Declined`], stopped by a "no").
    Done,
    NoChanges,
    /// The change set was made and not executed: a dry run, `--no-execute-changeset`, a "no".
    Stopped,
    Failed(ErrorReport),
    /// Ctrl-C, with the line that said so.
    Interrupted(String),
}

/// An error as the document gives it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorReport {
    /// `usage`, `aws`, `stack_failed`, `change_set_failed`, `no_changes`, `template`, `error`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub message: String,
    /// The AWS call that failed for good.
    pub call: Option<FailedCall>,
    /// The resources that failed, with CloudFormation's reasons.
    pub resources: Option<Vec<EventRow>>,
    /// The exit status the run ends with.
    #[serde(skip)]
    pub exit_code: u8,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailedCall {
    pub operation: String,
    pub code: String,
    pub message: String,
}

impl From<&AwsError> for FailedCall {
    fn from(e: &AwsError) -> Self {
        FailedCall {
            operation: e.operation.clone(),
            code: e.code.clone(),
            message: e.message.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct PhaseRecord {
    phase: Phase,
    started: Instant,
    /// None while the phase runs.
    ended: Option<(Duration, bool)>,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
struct Done {
    stacks: Vec<Value>,
    change_sets: Vec<Value>,
    repositories: Vec<Value>,
    images: Vec<Value>,
    uploads: Vec<Value>,
    signing_jobs: Vec<Value>,
    images_deleted: Vec<Value>,
    objects_deleted: Vec<String>,
    kept: Vec<String>,
}

/// The facts of one run, in the order they came.
#[derive(Debug, Clone)]
pub struct Journal {
    started: Instant,
    stack_name: Option<String>,
    region: Option<String>,
    dry_run: bool,
    express: bool,
    on_failure: Option<OnFailure>,
    change_set: Option<String>,
    changes: Option<Vec<ResourceChange>>,
    deployed: Option<(String, Vec<StackOutput>)>,
    companion: Option<Value>,
    done: Done,
    left_behind: Vec<String>,
    cleanup: Option<(bool, String)>,
    earlier_failure: Option<Value>,
    declined: bool,
    /// `--plan-out`: the plan file written.
    plan_file: Option<String>,
    phases: Vec<PhaseRecord>,
}

impl Default for Journal {
    fn default() -> Self {
        Journal {
            started: Instant::now(),
            stack_name: None,
            region: None,
            dry_run: false,
            express: false,
            on_failure: None,
            change_set: None,
            changes: None,
            deployed: None,
            companion: None,
            done: Done::default(),
            left_behind: Vec::new(),
            cleanup: None,
            earlier_failure: None,
            declined: false,
            plan_file: None,
            phases: Vec::new(),
        }
    }
}

impl Journal {
    /// The stack and region the run works on, once known.
    pub fn target(&self) -> (Option<&str>, Option<&str>) {
        (self.stack_name.as_deref(), self.region.as_deref())
    }

    pub fn record(&mut self, fact: Fact) {
        let done = &mut self.done;
        match fact {
            Fact::Target {
                stack_name,
                region,
                dry_run,
            } => {
                self.stack_name = stack_name.or(self.stack_name.take());
                self.region = region.or(self.region.take());
                self.dry_run = dry_run;
            }
            Fact::Mode {
                express,
                on_failure,
            } => {
                self.express = express;
                self.on_failure = on_failure;
            }
            Fact::Stack {
                name,
                role,
                action,
                status,
            } => done
                .stacks
                .push(json!({"name": name, "role": role, "action": action, "status": status})),
            Fact::ChangeSet { id, stack, action } => {
                if action == Action::Created {
                    self.change_set = Some(id.clone());
                }
                done.change_sets
                    .push(json!({"id": id, "stack": stack, "action": action}));
            }
            Fact::Changes(changes) => self.changes = Some(changes),
            Fact::Repository { name, action } => done
                .repositories
                .push(json!({"name": name, "action": action})),
            Fact::Image {
                function,
                uri,
                digest,
            } => done
                .images
                .push(json!({"function": function, "uri": uri, "digest": digest})),
            Fact::Upload { key, bytes } => {
                done.uploads.push(json!({"key": key, "bytes": bytes}));
            }
            Fact::Signed {
                resource,
                job_id,
                key,
            } => done
                .signing_jobs
                .push(json!({"resource": resource, "job_id": job_id, "key": key})),
            Fact::ImageDeleted {
                function,
                repository,
                image,
            } => done
                .images_deleted
                .push(json!({"function": function, "repository": repository, "image": image})),
            Fact::ObjectDeleted(key) => done.objects_deleted.push(key),
            Fact::Kept(resource) => done.kept.push(resource),
            Fact::Deployed { status, outputs } => self.deployed = Some((status, outputs)),
            Fact::CompanionPlan(plan) => self.companion = Some(plan),
            Fact::LeftBehind(what) => self.left_behind.push(what),
            Fact::Cleanup { waited, status } => self.cleanup = Some((waited, status)),
            Fact::EarlierFailure(failure) => self.earlier_failure = Some(json!(failure)),
            Fact::Declined => self.declined = true,
            Fact::PlanSaved(file) => self.plan_file = Some(file),
        }
    }

    pub fn phase_started(&mut self, phase: Phase, at: Instant) {
        self.phases.push(PhaseRecord {
            phase,
            started: at,
            ended: None,
        });
    }

    pub fn phase_ended(&mut self, phase: Phase, at: Instant, ok: bool) {
        if let Some(record) = self
            .phases
            .iter_mut()
            .rev()
            .find(|r| r.phase == phase && r.ended.is_none())
        {
            record.ended = Some((at.saturating_duration_since(record.started), ok));
        }
    }

    /// The phase an error belongs to: the one that failed, else the one still running.
    fn failed_phase(&self) -> Option<Phase> {
        self.phases
            .iter()
            .rev()
            .find(|r| matches!(r.ended, Some((_, false))))
            .or_else(|| self.phases.iter().rev().find(|r| r.ended.is_none()))
            .map(|r| r.phase)
    }

    /// The document for a run of `command` that ended as `ending`, at `now`.
    pub fn document(&self, command: Command, ending: &Ending, now: Instant) -> Value {
        let (status, exit_code, error) = match ending {
            Ending::Done if self.declined => ("cancelled", 0, Value::Null),
            Ending::Done => ("success", 0, Value::Null),
            Ending::NoChanges => ("no_changes", 0, Value::Null),
            Ending::Stopped if self.dry_run => ("dry_run", 0, Value::Null),
            Ending::Stopped if self.declined => ("cancelled", 0, Value::Null),
            Ending::Stopped if self.plan_file.is_some() => ("planned", 0, Value::Null),
            Ending::Stopped => ("changeset_created", 0, Value::Null),
            Ending::Failed(report) => {
                let mut error = json!(report);
                error["phase"] = json!(self.failed_phase());
                ("failure", report.exit_code, error)
            }
            Ending::Interrupted(message) => (
                "interrupted",
                crate::interrupt::exit_status(),
                json!({"type": "interrupted", "message": message, "phase": self.failed_phase(),
                       "call": null, "resources": null}),
            ),
        };
        let timings: Vec<Value> = self
            .phases
            .iter()
            .map(|r| {
                let (seconds, outcome) = match r.ended {
                    Some((d, ok)) => (d, if ok { "ok" } else { "failed" }),
                    None => (now.saturating_duration_since(r.started), "interrupted"),
                };
                json!({"phase": r.phase, "seconds": round_ms(seconds), "outcome": outcome})
            })
            .collect();
        let mut doc = json!({
            "schema": SCHEMA,
            "type": "result",
            "command": command,
            "status": status,
            "exit_code": exit_code,
            "stack_name": self.stack_name,
            "region": self.region,
            "express": self.express,
        });
        if command != Command::Delete {
            doc["plan_file"] = json!(self.plan_file);
            doc["dry_run"] = json!(self.dry_run);
            doc["on_failure"] = json!(self.on_failure.unwrap_or_default());
            doc["changeset_id"] = json!(self.change_set);
            doc["changes"] = json!(self.changes.as_deref().unwrap_or_default());
            doc["stack_status"] = json!(self.deployed.as_ref().map(|(s, _)| s));
            doc["outputs"] = json!(self.deployed.as_ref().map_or(&[][..], |(_, o)| o));
            doc["companion"] = self.companion.clone().unwrap_or(Value::Null);
            doc["cleanup"] = match &self.cleanup {
                Some((waited, status)) => json!({"waited": waited, "status": status}),
                None => Value::Null,
            };
        }
        doc["earlier_failure"] = self.earlier_failure.clone().unwrap_or(Value::Null);
        doc["done"] = json!(self.done);
        doc["left_behind"] = json!(self.left_behind);
        doc["timings"] = json!(timings);
        doc["seconds"] = json!(round_ms(now.saturating_duration_since(self.started)));
        doc["error"] = error;
        doc
    }
}

fn round_ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// The error as the document gives it: its kind, the one-line message, the failed AWS call and
/// the failed resources when the error chain holds them.
pub fn error_report(err: &anyhow::Error, message: String, exit_code: u8) -> ErrorReport {
    use crate::cloudformation::WaitError;
    use crate::signing::SigningError;
    use crate::stackops::DeployError;
    // A wait's or a signing job's own error holds the AWS error inside (it is transparent, so
    // the chain does not list it).
    let call = err
        .chain()
        .find_map(|e| {
            e.downcast_ref::<AwsError>()
                .or(match e.downcast_ref::<WaitError>() {
                    Some(WaitError::Aws(aws)) => Some(aws),
                    _ => None,
                })
                .or(match e.downcast_ref::<SigningError>() {
                    Some(SigningError::Aws(aws)) => Some(aws),
                    _ => None,
                })
        })
        .map(FailedCall::from);
    let timed_out = err.chain().any(|e| {
        matches!(
            e.downcast_ref::<WaitError>(),
            Some(WaitError::TimedOut { .. })
        ) || matches!(
            e.downcast_ref::<SigningError>(),
            Some(SigningError::TimedOut { .. })
        )
    });
    let deploy_error = err.chain().find_map(|e| e.downcast_ref::<DeployError>());
    let kind = if err.downcast_ref::<crate::settings::UsageError>().is_some() {
        "usage"
    } else if err
        .chain()
        .any(|e| e.downcast_ref::<crate::plan::saved::Refusal>().is_some())
    {
        "refused"
    } else if let Some(e) = deploy_error {
        e.kind()
    } else if timed_out {
        "timed_out"
    } else if call.is_some() {
        "aws"
    } else if err
        .chain()
        .any(|e| e.downcast_ref::<crate::template::TemplateError>().is_some())
    {
        "template"
    } else {
        "error"
    };
    ErrorReport {
        kind,
        message,
        call,
        resources: deploy_error.and_then(|e| e.failures().map(<[EventRow]>::to_vec)),
        exit_code,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn journal() -> (Journal, Instant) {
        let t0 = Instant::now();
        let mut j = Journal {
            started: t0,
            ..Journal::default()
        };
        j.record(Fact::Target {
            stack_name: Some("app".into()),
            region: Some("eu-west-1".into()),
            dry_run: false,
        });
        j.phase_started(Phase::Prepare, t0);
        j.phase_ended(Phase::Prepare, t0 + Duration::from_millis(120), true);
        (j, t0)
    }

    #[test]
    fn a_successful_deploy_lists_what_it_did_and_how_long_each_phase_took() {
        let (mut j, t0) = journal();
        j.record(Fact::Stack {
            name: "app-1-CompanionStack".into(),
            role: StackRole::Companion,
            action: Action::Created,
            status: Some("CREATE_COMPLETE".into()),
        });
        j.record(Fact::Repository {
            name: "app1/fn".into(),
            action: Action::Created,
        });
        j.record(Fact::Image {
            function: "Fn".into(),
            uri: "1.dkr.ecr.eu-west-1.amazonaws.com/app1/fn@sha256:ab".into(),
            digest: "sha256:ab".into(),
        });
        j.record(Fact::ChangeSet {
            id: "arn:cs".into(),
            stack: "app".into(),
            action: Action::Created,
        });
        j.record(Fact::Deployed {
            status: "CREATE_COMPLETE".into(),
            outputs: vec![],
        });
        let doc = j.document(Command::Deploy, &Ending::Done, t0 + Duration::from_secs(2));
        assert_eq!(doc["schema"], 1);
        assert_eq!(doc["type"], "result");
        assert_eq!(doc["status"], "success");
        assert_eq!(doc["exit_code"], 0);
        assert_eq!(doc["stack_name"], "app");
        assert_eq!(doc["region"], "eu-west-1");
        assert_eq!(doc["changeset_id"], "arn:cs");
        assert_eq!(doc["stack_status"], "CREATE_COMPLETE");
        assert_eq!(doc["done"]["stacks"][0]["role"], "companion");
        assert_eq!(doc["done"]["repositories"][0]["action"], "created");
        assert_eq!(doc["done"]["images"][0]["digest"], "sha256:ab");
        assert_eq!(
            doc["timings"],
            json!([{"phase": "prepare", "seconds": 0.12, "outcome": "ok"}])
        );
        assert_eq!(doc["seconds"], 2.0);
        assert_eq!(doc["error"], Value::Null);
    }

    #[test]
    fn a_failure_names_its_phase_call_and_exit_status() {
        let (mut j, t0) = journal();
        j.phase_started(Phase::ChangeSet, t0);
        j.phase_ended(Phase::ChangeSet, t0 + Duration::from_secs(1), false);
        let aws = AwsError {
            operation: "CloudFormation CreateChangeSet".into(),
            code: "Throttling".into(),
            message: "Rate exceeded".into(),
        };
        let err = anyhow::Error::new(aws.clone()).context("while deploying");
        let report = error_report(&err, "one line".into(), 1);
        assert_eq!(report.kind, "aws");
        let doc = j.document(Command::Deploy, &Ending::Failed(report), t0);
        assert_eq!(doc["status"], "failure");
        assert_eq!(doc["exit_code"], 1);
        assert_eq!(doc["error"]["phase"], "change_set");
        assert_eq!(doc["error"]["message"], "one line");
        assert_eq!(
            doc["error"]["call"],
            json!({"operation": "CloudFormation CreateChangeSet", "code": "Throttling", "message": "Rate exceeded"})
        );
    }

    #[test]
    fn stopped_runs_say_why() {
        let (mut j, t0) = journal();
        assert_eq!(
            j.document(Command::Deploy, &Ending::Stopped, t0)["status"],
            "changeset_created"
        );
        j.record(Fact::Declined);
        assert_eq!(
            j.document(Command::Deploy, &Ending::Stopped, t0)["status"],
            "cancelled"
        );
        let mut dry = journal().0;
        dry.record(Fact::Target {
            stack_name: Some("app".into()),
            region: Some("eu-west-1".into()),
            dry_run: true,
        });
        let doc = dry.document(Command::Deploy, &Ending::Stopped, t0);
        assert_eq!(doc["status"], "dry_run");
        assert_eq!(doc["dry_run"], true);
    }

    #[test]
    fn an_interruption_names_the_running_phase() {
        let (mut j, t0) = journal();
        j.phase_started(Phase::Execute, t0);
        let doc = j.document(
            Command::Deploy,
            &Ending::Interrupted("Interrupted: ...".into()),
            t0 + Duration::from_secs(3),
        );
        assert_eq!(doc["status"], "interrupted");
        assert_eq!(doc["exit_code"], 130);
        assert_eq!(doc["error"]["phase"], "execute");
        assert_eq!(doc["timings"][1]["outcome"], "interrupted");
        assert_eq!(doc["timings"][1]["seconds"], 3.0);
    }

    #[test]
    fn a_delete_document_has_no_deploy_fields() {
        let (mut j, t0) = journal();
        j.record(Fact::Stack {
            name: "app".into(),
            role: StackRole::Main,
            action: Action::Deleted,
            status: Some("DELETE_COMPLETE".into()),
        });
        j.record(Fact::ObjectDeleted("app/abc".into()));
        let doc = j.document(Command::Delete, &Ending::Done, t0);
        assert_eq!(doc["command"], "delete");
        assert!(doc.get("changeset_id").is_none());
        assert_eq!(doc["done"]["objects_deleted"], json!(["app/abc"]));
        assert_eq!(doc["done"]["stacks"][0]["action"], "deleted");
    }

    #[test]
    fn modes_signing_jobs_and_deleted_images_are_listed() {
        let (mut j, t0) = journal();
        let doc = j.document(Command::Deploy, &Ending::Done, t0);
        assert_eq!(
            (&doc["express"], &doc["on_failure"]),
            (&json!(false), &json!("ROLLBACK"))
        );
        j.record(Fact::Mode {
            express: true,
            on_failure: Some(OnFailure::Delete),
        });
        j.record(Fact::Signed {
            resource: "Fn".into(),
            job_id: "job-1".into(),
            key: "app/signed_abc.zip".into(),
        });
        let doc = j.document(Command::Deploy, &Ending::Done, t0);
        assert_eq!(doc["express"], true);
        assert_eq!(doc["on_failure"], "DELETE");
        assert_eq!(
            doc["done"]["signing_jobs"],
            json!([{"resource": "Fn", "job_id": "job-1", "key": "app/signed_abc.zip"}])
        );
        j.record(Fact::ImageDeleted {
            function: "Fn".into(),
            repository: "repo".into(),
            image: "sha256:ab".into(),
        });
        let doc = j.document(Command::Delete, &Ending::Done, t0);
        assert!(doc.get("on_failure").is_none());
        assert_eq!(
            doc["done"]["images_deleted"],
            json!([{"function": "Fn", "repository": "repo", "image": "sha256:ab"}])
        );
    }

    #[test]
    fn a_stopped_wait_is_timed_out_and_a_failed_call_inside_a_wait_is_named() {
        use crate::cloudformation::WaitError;
        let timed_out = anyhow::Error::new(WaitError::TimedOut {
            what: "stack app".into(),
            limit: "1 minute".into(),
            note: "CloudFormation goes on".into(),
        });
        assert_eq!(error_report(&timed_out, "x".into(), 1).kind, "timed_out");
        let aws = AwsError {
            operation: "CloudFormation DescribeStackEvents".into(),
            code: "Throttling".into(),
            message: "Rate exceeded".into(),
        };
        let failed = anyhow::Error::new(WaitError::Aws(aws)).context("deleting");
        let report = error_report(&failed, "x".into(), 1);
        assert_eq!(report.kind, "aws");
        assert_eq!(
            report.call.map(|c| c.operation).as_deref(),
            Some("CloudFormation DescribeStackEvents")
        );
    }

    #[test]
    fn usage_errors_exit_2() {
        let err = anyhow::Error::new(crate::settings::UsageError("Missing option".into()));
        let report = error_report(&err, "Missing option".into(), 2);
        assert_eq!(report.kind, "usage");
        let doc =
            Journal::default().document(Command::Deploy, &Ending::Failed(report), Instant::now());
        assert_eq!(doc["exit_code"], 2);
        assert_eq!(doc["error"]["phase"], Value::Null);
        assert_eq!(doc["stack_name"], Value::Null);
    }
}
