//! A plan saved by `samrs deploy --plan-out FILE` and carried out by `samrs apply FILE`: the
//! [`DeployPlan`] with the images' digests, the main stack's change set, the artifacts uploaded,
//! the settings the apply needs, and a fingerprint of the stacks as they were when the change set
//! was made. Whether a plan may still be applied is decided here ([`check`], [`check_images`]),
//! from what the apply reads of AWS and of the local images. The format is documented in
//! docs/plan-file.md.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::DeployPlan;
use crate::plan::changes::ResourceChange;
use crate::settings::SavedSettings;
use crate::stack_state::ChangeSetState;

/// What the file says it is.
pub const FORMAT: &str = "samrs-plan";
/// The version of the file's layout; a reader refuses other versions.
pub const VERSION: u32 = 1;

/// A plan file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The samrs that made it.
    pub samrs_version: String,
    /// When it was made (RFC 3339, UTC).
    pub created: String,
    /// The account the change set, the repositories and the artifacts are in.
    pub account: String,
    pub change_set: SavedChangeSet,
    pub fingerprint: Fingerprint,
    pub artifacts: Artifacts,
    /// The image functions of the template (full paths), for the companion stack's plan.
    pub functions: Vec<String>,
    pub settings: SavedSettings,
    /// The plan itself: the companion stack's templates and repository diff, the images by
    /// digest, what a failure of the main stack does. Its change set step is done.
    pub plan: DeployPlan,
    /// A description of the changes for reviewers, when the deploy made one; not read by apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review: Option<serde_json::Value>,
}

/// The main stack's change set, made by the plan and executed by the apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedChangeSet {
    pub arn: String,
    pub name: String,
    /// A CREATE change set: the stack was new (or never created).
    pub create: bool,
    /// SHA-256 (hex) of the template the change set was made with, as sent.
    pub template_sha256: String,
    /// The resource changes as the plan showed them: property by property, code changes named,
    /// nested stacks' changes under them, secrets masked ([`crate::plan::changes`]).
    pub changes: Vec<ResourceChange>,
}

/// The artifacts the plan uploaded (content-addressed: the same key is the same content).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Artifacts {
    pub bucket: Option<String>,
    pub keys: Vec<String>,
}

/// The stacks as they were when the change set was made.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Fingerprint {
    pub stack: Option<StackFingerprint>,
    /// The companion stack (None: it did not exist).
    pub companion: Option<StackFingerprint>,
}

/// What changes when anything happens to a stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StackFingerprint {
    pub stack_id: String,
    pub status: String,
    pub last_updated: Option<String>,
    /// SHA-256 (hex) of its deployed template (None while it has none: REVIEW_IN_PROGRESS).
    pub template_sha256: Option<String>,
}

/// What `samrs apply` found before changing anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub account: String,
    pub change_set: ChangeSetState,
    pub stack: Option<StackFingerprint>,
    pub companion: Option<StackFingerprint>,
}

/// Why a plan is not applied. Each is one line that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("The plan was made for account {planned}, but these credentials are for account {now}: apply it with the credentials (--profile) it was made with")]
    OtherAccount { planned: String, now: String },
    #[error("The plan was applied already (change set {change_set} of stack {stack} was executed); make a new one with `samrs deploy --plan-out FILE`")]
    AppliedAlready { stack: String, change_set: String },
    #[error("The plan is being applied: change set {change_set} of stack {stack} was executed and the stack is {status}; follow it with `aws cloudformation describe-stack-events --stack-name {stack}`")]
    BeingApplied {
        stack: String,
        change_set: String,
        status: String,
    },
    #[error("The plan's change set {change_set} of stack {stack} is gone (deleted); make a new plan with `samrs deploy --plan-out FILE`")]
    ChangeSetGone { stack: String, change_set: String },
    #[error("The plan's change set {change_set} of stack {stack} cannot be executed ({reason}); make a new plan with `samrs deploy --plan-out FILE`")]
    ChangeSetUnusable {
        stack: String,
        change_set: String,
        reason: String,
    },
    #[error("Stack {stack} changed since the plan was made ({what}); make a new plan with `samrs deploy --plan-out FILE`")]
    Moved { stack: String, what: String },
    #[error("The image of {function} is not the one planned ({now} now, {planned} planned): build the image the plan was made from, or make a new plan with `samrs deploy --plan-out FILE`")]
    ImageChanged {
        function: String,
        planned: String,
        now: String,
    },
    #[error("The plan file {file} is not a samrs plan ({detail})")]
    NotAPlan { file: String, detail: String },
}

/// SHA-256 (hex) of a template's text.
pub fn template_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl SavedPlan {
    /// The file's text: pretty JSON, ending with a newline.
    pub fn to_json(&self) -> String {
        // Plain data with string keys cannot fail to serialize.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a plan file's text (`file` names it in the refusal).
    pub fn from_json(file: &str, text: &str) -> Result<SavedPlan, Refusal> {
        let not_a_plan = |detail: String| Refusal::NotAPlan {
            file: file.to_string(),
            detail,
        };
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| not_a_plan(format!("not JSON: {e}")))?;
        if value.get("format").and_then(|f| f.as_str()) != Some(FORMAT) {
            return Err(not_a_plan(format!("no \"format\": \"{FORMAT}\"")));
        }
        let version = value.get("version").and_then(serde_json::Value::as_u64);
        if version != Some(u64::from(VERSION)) {
            return Err(not_a_plan(format!(
                "version {}, this samrs reads version {VERSION}",
                version.map_or_else(|| "missing".to_string(), |v| v.to_string())
            )));
        }
        serde_json::from_value(value).map_err(|e| not_a_plan(e.to_string()))
    }

    fn stack_name(&self) -> &str {
        &self.plan.stack_name
    }
}

/// Whether the plan can be applied, from what was found in AWS: by the same account, its change
/// set still there and not executed, the stack and the companion stack as they were. A companion
/// stack that already has the plan's phase 1 template is an earlier, interrupted apply of this
/// plan, and goes on.
pub fn check(saved: &SavedPlan, found: &Found) -> Result<(), Refusal> {
    let stack = saved.stack_name().to_string();
    let change_set = saved.change_set.name.clone();
    if found.account != saved.account {
        return Err(Refusal::OtherAccount {
            planned: saved.account.clone(),
            now: found.account.clone(),
        });
    }
    let moved = differences(saved.fingerprint.stack.as_ref(), found.stack.as_ref());
    match &found.change_set {
        ChangeSetState::Executed => {
            // An apply stopped by Ctrl-C leaves CloudFormation executing the change set.
            return Err(match found.stack.as_ref() {
                Some(now) if now.status.ends_with("_IN_PROGRESS") => Refusal::BeingApplied {
                    stack,
                    change_set,
                    status: now.status.clone(),
                },
                _ => Refusal::AppliedAlready { stack, change_set },
            });
        }
        ChangeSetState::Gone => {
            let has_planned_template = found.stack.as_ref().is_some_and(|s| {
                s.template_sha256.as_deref() == Some(&saved.change_set.template_sha256)
            });
            return Err(if has_planned_template {
                Refusal::AppliedAlready { stack, change_set }
            } else if let Some(what) = moved {
                Refusal::Moved {
                    stack,
                    what: format!("{what}, and the plan's change set is gone"),
                }
            } else {
                Refusal::ChangeSetGone { stack, change_set }
            });
        }
        ChangeSetState::Unusable(reason) => {
            return Err(Refusal::ChangeSetUnusable {
                stack,
                change_set,
                reason: reason.clone(),
            })
        }
        ChangeSetState::Available => {}
    }
    if let Some(what) = moved {
        return Err(Refusal::Moved { stack, what });
    }
    let companion_applied = saved
        .plan
        .companion
        .as_ref()
        .and_then(|c| c.phase1_template.as_deref())
        .zip(found.companion.as_ref())
        .is_some_and(|(template, now)| {
            now.template_sha256.as_deref() == Some(&template_sha256(template))
                && crate::stack_state::is_success(&now.status)
        });
    if !companion_applied {
        let companion = differences(
            saved.fingerprint.companion.as_ref(),
            found.companion.as_ref(),
        );
        if let Some(what) = companion {
            let name = saved
                .plan
                .companion
                .as_ref()
                .map_or("the companion stack", |c| {
                    c.plan.companion_stack_name.as_str()
                });
            return Err(Refusal::Moved {
                stack: name.to_string(),
                what,
            });
        }
    }
    Ok(())
}

/// Each planned image's digest against the one computed from the local image now.
pub fn check_images(saved: &SavedPlan, computed: &HashMap<String, String>) -> Result<(), Refusal> {
    for image in &saved.plan.images {
        let Some(planned) = &image.digest else {
            continue;
        };
        let now = computed.get(&image.function).map_or("none", String::as_str);
        if now != planned {
            return Err(Refusal::ImageChanged {
                function: image.function.clone(),
                planned: planned.clone(),
                now: now.to_string(),
            });
        }
    }
    Ok(())
}

/// What differs between a stack as planned and as found, in words; None when nothing does.
fn differences(
    planned: Option<&StackFingerprint>,
    found: Option<&StackFingerprint>,
) -> Option<String> {
    let (planned, found) = match (planned, found) {
        (None, None) => return None,
        (Some(_), None) => return Some("it was deleted".into()),
        (None, Some(found)) => return Some(format!("it was created, {}", found.status)),
        (Some(planned), Some(found)) => (planned, found),
    };
    let mut what = Vec::new();
    if planned.stack_id != found.stack_id {
        what.push("it was deleted and created again".to_string());
    }
    if planned.status != found.status {
        what.push(format!("{} then, {} now", planned.status, found.status));
    }
    if planned.last_updated != found.last_updated {
        what.push(format!(
            "last updated {} now",
            found.last_updated.as_deref().unwrap_or("never")
        ));
    }
    if planned.template_sha256 != found.template_sha256 {
        what.push("its template changed".to_string());
    }
    (!what.is_empty()).then(|| what.join(", "))
}

#[cfg(test)]
mod tests;
