//! The words of each event, as the SAM CLI prints them: deploy's "Deploying with following values"
//! block, the change set, events and outputs tables, the companion and managed bucket lines, and
//! delete's lines.

use indexmap::IndexMap;
use serde_json::Value;

use super::{Table, Tone, Ui};
use crate::companion::{CompanionAction, CompanionPlan, RepoAction};
use crate::events::{DeploySummary, Event, Fact, Orphan, StackRole};
use crate::plan::changes::ResourceChange;
use crate::stack_state::{EventRow, StackOutput};

impl Ui {
    /// Shows an event (most events are a line or two; facts mostly go to the document only).
    pub(super) fn render(&self, event: &Event) {
        match event {
            Event::PhaseStarted(_) | Event::PhaseEnded { .. } => {}
            Event::Fact(fact) => self.render_fact(fact),
            Event::Warning(text) => self.warn(text),
            Event::StackBusy { stack, role, .. } if *role == StackRole::Companion => {
                self.line(&format!(
                    "\tCompanion stack {stack} is busy: waiting for its current operation to finish"
                ));
            }
            Event::StackBusy { stack, status, .. } => self.line(&format!(
                "\tStack {stack} is in {status}: waiting for that operation to finish"
            )),
            Event::StackRecreating {
                stack,
                status,
                role: StackRole::Companion,
            } => self.line(&format!(
                "\tCompanion stack {stack} is in {} (never created successfully): deleting it before creating it again",
                status.as_deref().unwrap_or("an unusable state")
            )),
            Event::StackRecreating { stack, status, .. } => self.line(&format!(
                "\tStack {stack} is in {} (it was never created successfully): deleting it before creating it again",
                status.as_deref().unwrap_or_default()
            )),
            Event::DeletingRepository(name) => {
                self.line(&format!("\t- Deleting ECR repository {name}"));
            }
            Event::UploadSkipped { key } => self.line(&format!(
                "\tFile with same data already exists at {key}, skipping upload"
            )),
            Event::ManagedStackPlanned => self.line(&format!(
                "\tDry run: the managed stack {} would be created",
                crate::plan::bucket::STACK_NAME
            )),
            Event::ManagedStackCreating => self.line("\tCreating the required resources..."),
            Event::ManagedStackCreated => self.line("\tSuccessfully created!"),
            Event::ManagedBucket(bucket) => self.managed_bucket(bucket),
            Event::UnknownOverride(name) => self.warn(&format!(
                "Warning: parameter override {name} is not a parameter of the template; it is ignored"
            )),
            Event::LoopsNotPackaged => self.warn("Warning: the template's Fn::ForEach loops are left to CloudFormation, so local artifacts inside them are not packaged: add --language-extensions (or SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS=1) to package them, as with sam"),
            Event::NestedLanguageExtensions(path) => self.warn(&format!(
                "Warning: {}: samrs expands AWS::LanguageExtensions in the main template only; local artifacts inside this nested template's Fn::ForEach loops are not packaged (CloudFormation expands its loops)",
                path.display()
            )),
            Event::RepositoryNameAdjusted {
                function,
                repository,
            } => self.warn(&format!(
                "\tThe SAM CLI's repository name for {function} is over ECR's 256 characters: using {repository}"
            )),
            Event::CompanionPreview(plan) => self.companion_plan(plan),
            Event::CompanionUpToDate(name) => {
                self.line(&format!("\tCompanion stack {name} is up to date"));
            }
            Event::CompanionUpdating(name) => self.line(&format!("\tUpdating companion stack {name}")),
            Event::CompanionCreating(name) => self.line(&format!("\tCreating companion stack {name}")),
            Event::RetiringRepository(name) => {
                self.line(&format!("\tDeleting unreferenced repository {name}"));
            }
            Event::CompanionRetiring(name) => self.line(&format!(
                "\tDeleting companion stack {name}: no image function uses it any more"
            )),
            Event::CleanupStarted { stack, deleting } => self.line(&format!(
                "\t{} runs in CloudFormation; samrs does not wait for it (--wait-for-cleanup waits). Follow it with `aws cloudformation describe-stack-events --stack-name {stack}`; the next samrs deploy or delete checks how it ended",
                if *deleting {
                    format!("The deletion of companion stack {stack}")
                } else {
                    format!("The clean-up of companion stack {stack}")
                }
            )),
            Event::EarlierFailure(failure) => self.warn(&format!("Warning: {}", failure.message)),
            Event::PushPlanned {
                function,
                repository,
            } => self.line(&format!(
                "\tDry run: would push the image of {function} to {repository}"
            )),
            Event::Push(progress) => self.push_progress(progress),
            Event::UploadPlanned { key, bytes } => {
                self.line(&format!("\tDry run: would upload {key} ({bytes} bytes)"));
            }
            Event::SigningPlanned { key, profile } => self.line(&format!(
                "\tDry run: would sign {key} with signing profile {profile}"
            )),
            Event::SignedInto { job_id, location } => {
                self.line(&format!("Initiated code signing job {job_id}"));
                self.line(&format!(
                    "Package has successfully signed into the location {location}"
                ));
            }
            Event::DeploySummary(summary) => self.deploy_summary(summary),
            Event::RecreatePreview { stack, status } => self.line(&format!(
                "\nDry run: stack {stack} is in {status} (it was never created successfully): a deploy deletes it and creates it again, so there is no change set to preview"
            )),
            Event::ChangeSetWaiting => self.line("\n\nWaiting for changeset to be created..\n"),
            Event::ChangeSetReady(id) => {
                self.line(&format!("\nChangeset created successfully. {id}\n"));
            }
            Event::LeftoverRemoved(what) => self.line(&format!("\tRemoved {what}")),
            Event::LeftoverKept { what, error, fix } => {
                self.warn(&format!("Warning: could not remove {what} ({error}); {fix}"));
            }
            Event::DryRunFinished => {
                self.line("Dry run: the change set was deleted and nothing was deployed.");
            }
            Event::ImageDigest { function, uri } => {
                self.line(&format!("\tImage of {function} (to push on apply): {uri}"));
            }
            Event::PlanSaved {
                file,
                change_set,
                stack,
            } => self.line(&format!(
                "\nPlan saved to {file} (change set {change_set} of stack {stack}); nothing was deployed and no image was pushed.\nReview it, then carry it out exactly with:\n\n\tsamrs apply {file}\n"
            )),
            Event::ApplyingPlan {
                file,
                change_set,
                stack,
            } => self.line(&format!(
                "\nApplying the plan {file}: change set {change_set} of stack {stack}"
            )),
            Event::NothingToDeploy(stack) => {
                self.line(&format!(
                    "\nNo changes to deploy. Stack {stack} is up to date"
                ));
                self.markdown(&format!("No changes to deploy. Stack `{stack}` is up to date."));
            }
            Event::StackOperationStarted { refresh } => self.stack_operation_started(refresh),
            Event::StackEvent(row) => self.stack_event(row),
            Event::StackEventsEnd => self.stack_events_end(),
            Event::Outputs(outputs) => self.outputs(outputs),
            Event::StackDeployed {
                stack,
                region,
                express,
            } => {
                self.line(&format!(
                    "\nSuccessfully created/updated stack - {stack} in {region}\n"
                ));
                if *express {
                    self.say(
                        "\nDeployed with CloudFormation Express mode. Resources may still be stabilizing in the background.",
                        Tone::Warn,
                    );
                }
            }
            Event::DeletingFailedStack(stack) => self.line(&format!(
                "\nStack {stack} failed to create/update correctly, deleting stack"
            )),
            Event::FailedStackDeleted(stack) => {
                self.line(&format!("\nStack {stack} has been deleted"));
            }
            Event::RolledBack(stack) => {
                self.line(&format!("\nStack {stack} has rolled back successfully"));
            }
            Event::RollbackDisabled(stack) => self.say(&format!("\nFailed to deploy. Automatic rollback disabled for this deployment.\n\nActions you can take next\n=========================\n[*] Fix issues and try deploying again\n[*] Roll back stack to the last known stable state: aws cloudformation rollback-stack --stack-name {stack}\n"), Tone::Bad),
            Event::StackNotFound { stack, region } => self.line(&format!(
                "Error: The input stack {stack} does not exist on Cloudformation in the region {region}"
            )),
            Event::CompanionFound(name) => self.line(&format!("\tFound ECR Companion Stack {name}")),
            Event::DeletingStack(name) => {
                self.line(&format!("\t- Deleting Cloudformation stack {name}"));
            }
            Event::DeletingCompanionStack(name) => {
                self.line(&format!("\t- Deleting ECR Companion Stack {name}"));
            }
            Event::ImageNotFound { image, repository } => self.line(&format!(
                "\t- Could not find image with tag {image} in repository {repository}"
            )),
            Event::ImageNotDeleted {
                image,
                repository,
                function,
                reason,
            } => self.line(&format!(
                "\t- Could not delete image with tag {image} in repository {repository} (of {function}): {reason}"
            )),
            Event::DeletingObject(key) => self.line(&format!("\t- Deleting S3 object with key {key}")),
            Event::ObjectNotFound(key) => self.line(&format!(
                "\t- Could not find and delete the S3 object with the key {key}"
            )),
            Event::Keeping(resource) => self.line(&format!("\t- Keeping {resource}")),
            Event::BucketUnknown => self.say("\nWarning: Cannot resolve s3 bucket information from command options , local config file or cloudformation template. Please use --s3-bucket next time and delete s3 files manually if required.", Tone::Warn),
            Event::Deleted { express } => {
                self.line("\nDeleted successfully");
                if *express {
                    self.say("Deleted with CloudFormation Express mode. Some resources may still be removing in the background.", Tone::Warn);
                }
            }
            Event::Orphans(orphans) => self.orphans(orphans),
        }
    }

    /// The facts that are also shown.
    fn render_fact(&self, fact: &Fact) {
        match fact {
            Fact::Upload { key, bytes } => {
                self.line(&format!(
                    "\tUploading to {key}  {bytes} / {bytes}  (100.00%)"
                ));
            }
            Fact::Image { function, uri, .. } => {
                self.line(&format!("\t{function} image pushed as {uri}"));
            }
            Fact::Changes(changes) => self.changes(changes),
            Fact::ImageDeleted {
                repository, image, ..
            } => self.line(&format!(
                "\t- Deleting ECR image {image} in repository {repository}"
            )),
            _ => {}
        }
    }

    fn managed_bucket(&self, bucket: &str) {
        self.say(&format!("\n\tManaged S3 bucket: {bucket}"), Tone::Strong);
        self.line("\tAuto resolution of buckets can be turned off by setting resolve_s3=False");
        self.line("\tTo use a specific S3 bucket, set --s3-bucket=<bucket_name>");
        self.line("\tAbove settings can be stored in samconfig.toml");
    }

    /// The summary block sam prints before it deploys (`print_deploy_args`).
    fn deploy_summary(&self, summary: &DeploySummary) {
        self.say(
            "\n\tDeploying with following values\n\t===============================",
            Tone::Warn,
        );
        self.line(&format!(
            "\tStack name                   : {}",
            summary.stack_name
        ));
        self.line(&format!(
            "\tRegion                       : {}",
            summary.region
        ));
        self.line(&format!(
            "\tConfirm changeset            : {}",
            py_bool(summary.confirm_changeset)
        ));
        self.line(&format!(
            "\tDisable rollback             : {}",
            py_bool(summary.disable_rollback)
        ));
        if let Some(uri) = &summary.image_repository {
            self.line(&format!("\tDeployment image repository  : {uri}"));
        } else if !summary.image_repositories.is_empty() {
            self.line(&format!(
                "\tDeployment image repository  : \n{}",
                indented_json(&summary.image_repositories)
            ));
        }
        self.line(&format!(
            "\tDeployment s3 bucket         : {}",
            summary.bucket.as_deref().unwrap_or("None")
        ));
        let capabilities = if summary.capabilities.is_empty() {
            "null".to_string()
        } else {
            py_json(&Value::from(summary.capabilities.clone()))
        };
        self.line(&format!("\tCapabilities                 : {capabilities}"));
        let overrides: serde_json::Map<String, Value> = summary
            .parameter_overrides
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        self.line(&format!(
            "\tParameter overrides          : {}",
            py_json(&Value::Object(overrides))
        ));
        self.line(&format!(
            "\tSigning Profiles             : {}",
            py_json(&serde_json::to_value(&summary.signing_profiles).unwrap_or_default())
        ));
        self.say(
            "\nInitiating deployment\n=====================\n",
            Tone::Warn,
        );
    }

    /// The companion part of a dry run: what would be created, kept and retired.
    fn companion_plan(&self, plan: &CompanionPlan) {
        let verb = match plan.phase1 {
            None if plan.repos.is_empty() && plan.retire.is_empty() => "nothing to do",
            None => "no change before the deploy",
            Some(CompanionAction::Create) => "create",
            Some(CompanionAction::Recreate) => "delete and create again",
            Some(_) => "update if changed",
        };
        self.say(
            &format!("\n\tCompanion stack {}: {verb}", plan.companion_stack_name),
            Tone::Strong,
        );
        for repo in &plan.repos {
            let (mark, what) = match repo.action {
                RepoAction::Create => ("+", "create"),
                RepoAction::Keep => ("=", "keep"),
            };
            self.line(&format!(
                "\t {mark} {what:<7} {:<40} {}",
                repo.function, repo.uri
            ));
        }
        for repo in &plan.retire {
            self.line(&format!(
                "\t - retire  {} (after the stack is deployed)",
                repo.repository_name
            ));
        }
    }

    fn changes(&self, changes: &[ResourceChange]) {
        let mut table = Table::new(
            "CloudFormation stack changeset",
            &[
                "Operation",
                "LogicalResourceId",
                "ResourceType",
                "Replacement",
            ],
        );
        if changes.is_empty() {
            table.row(
                vec!["-".into(), "-".into(), "-".into(), "-".into()],
                Tone::Plain,
            );
        }
        // sam groups the rows: additions, then modifications, then removals.
        for (action, label, tone) in [
            ("Add", "+ Add", Tone::Good),
            ("Modify", "* Modify", Tone::Warn),
            ("Remove", "- Delete", Tone::Bad),
        ] {
            for change in changes.iter().filter(|c| c.action == action) {
                table.row(
                    vec![
                        label.to_string(),
                        change.logical_id.clone(),
                        change.resource_type.clone(),
                        change.replacement.clone().unwrap_or_else(|| "N/A".into()),
                    ],
                    tone,
                );
            }
        }
        self.table(&table);
        self.print_lines(super::plan::lines(changes));
        let title = self.journal.lock().ok().and_then(|journal| {
            let (stack, region) = journal.target();
            Some(match region {
                Some(region) => format!("#### Changes to stack `{}` in {region}\n\n", stack?),
                None => format!("#### Changes to stack `{}`\n\n", stack?),
            })
        });
        self.markdown(&format!(
            "{}{}",
            title.unwrap_or_default(),
            super::plan::markdown(changes)
        ));
    }

    /// The events table of a stack operation starts when its first event arrives.
    fn stack_operation_started(&self, refresh: &str) {
        self.line(&format!(
            "\n{} - Waiting for stack create/update to complete\n",
            chrono::Local::now().format("%Y-%m-%d %H:%M:%S")
        ));
        let table = Table::new(
            &format!("CloudFormation events from stack operations (refresh every {refresh})"),
            &[
                "ResourceStatus",
                "ResourceType",
                "LogicalResourceId",
                "ResourceStatusReason",
            ],
        );
        if let Ok(mut events) = self.drawing.lock() {
            events.events_table = Some((table, false));
        }
    }

    fn stack_event(&self, event: &EventRow) {
        let Ok(mut drawing) = self.drawing.lock() else {
            return;
        };
        let Some((table, started)) = drawing.events_table.as_mut() else {
            return;
        };
        if !*started {
            self.table_header(table);
            *started = true;
        }
        let tone = if event.is_failure() {
            Tone::Bad
        } else if event.status.contains("IN_PROGRESS") {
            Tone::Warn
        } else {
            Tone::Good
        };
        self.table_row(
            table,
            vec![
                event.status.clone(),
                event.resource_type.clone(),
                event.logical_id.clone(),
                event.reason.clone().unwrap_or_else(|| "-".into()),
            ],
            tone,
        );
    }

    /// Closed whatever the operation's end, so a stopped wait's message is not inside the table.
    fn stack_events_end(&self) {
        let table = self
            .drawing
            .lock()
            .ok()
            .and_then(|mut drawing| drawing.events_table.take());
        if let Some((table, true)) = table {
            self.table_footer(&table);
        }
    }

    fn outputs(&self, outputs: &[StackOutput]) {
        if outputs.is_empty() {
            return;
        }
        let mut table = Table::new("CloudFormation outputs from deployed stack", &["Outputs"]);
        table.frame = Tone::Good;
        table.keep_whitespace = true;
        for (i, output) in outputs.iter().enumerate() {
            for (label, value) in [
                ("Key", output.key.as_str()),
                ("Description", output.description.as_deref().unwrap_or("-")),
                ("Value", output.value.as_str()),
            ] {
                table.row(vec![format!("{label:<20}{value:<20}")], Tone::Good);
            }
            if i + 1 < outputs.len() {
                table.row(vec![String::new()], Tone::Good);
            }
        }
        self.table(&table);
    }

    fn orphans(&self, orphans: &[Orphan]) {
        if orphans.is_empty() {
            self.line("No orphaned companion stacks or managed repositories found.");
            return;
        }
        let mut table = Table::new(
            "Orphaned companion stacks and repositories",
            &["CompanionStack", "StackExists", "Repositories"],
        );
        for orphan in orphans {
            table.row(
                vec![
                    orphan.companion_stack.clone(),
                    orphan.stack_exists.to_string(),
                    orphan.repositories.join(" "),
                ],
                Tone::Warn,
            );
        }
        self.table(&table);
    }
}

/// The function → repository mapping as sam shows it: its `json.dumps(indent=4)`, indented.
fn indented_json(mapping: &IndexMap<String, String>) -> String {
    let json = serde_json::to_string_pretty(mapping).unwrap_or_default();
    let indent = " ".repeat(39);
    json.lines()
        .map(|l| format!("{indent}{}", l.replace("  ", "    ")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Python's `json.dumps` spacing (`", "`, `": "`), which sam's summary uses.
fn py_json(value: &Value) -> String {
    match value {
        Value::Array(items) => format!(
            "[{}]",
            items.iter().map(py_json).collect::<Vec<_>>().join(", ")
        ),
        Value::Object(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, v)| format!("{}: {}", Value::String(k.clone()), py_json(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        other => other.to_string(),
    }
}

fn py_bool(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_json_spacing() {
        let v: Value = serde_json::json!({"Stage": "dev", "List": ["a", "b"]});
        assert_eq!(py_json(&v), r#"{"Stage": "dev", "List": ["a", "b"]}"#);
        assert_eq!(py_json(&serde_json::json!({})), "{}");
    }
}
