//! What a deploy prints, in the SAM CLI's words and layout: the managed bucket lines, the
//! "Deploying with following values" block, the change set, events and outputs tables.

use indexmap::IndexMap;
use serde_json::Value;

use crate::companion::{CompanionPlan, RepoAction};

use crate::cloudformation::poll::Poller;
use crate::output::{Table, Tone, Ui};
use crate::s3::Destination;
use crate::settings::DeploySettings;
use crate::stack_state::{ChangeRow, EventRow, StackOutput};

pub fn managed_bucket_info(ui: &Ui, bucket: &str) {
    ui.say(&format!("\n\tManaged S3 bucket: {bucket}"), Tone::Strong);
    ui.line("\tAuto resolution of buckets can be turned off by setting resolve_s3=False");
    ui.line("\tTo use a specific S3 bucket, set --s3-bucket=<bucket_name>");
    ui.line("\tAbove settings can be stored in samconfig.toml");
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

/// The summary block sam prints before it deploys (`print_deploy_args`).
pub fn deploy_args(
    ui: &Ui,
    settings: &DeploySettings,
    region: &str,
    dest: Option<&Destination>,
    image_repositories: &IndexMap<String, String>,
) {
    ui.say(
        "\n\tDeploying with following values\n\t===============================",
        Tone::Warn,
    );
    ui.line(&format!(
        "\tStack name                   : {}",
        settings.stack_name
    ));
    ui.line(&format!("\tRegion                       : {region}"));
    ui.line(&format!(
        "\tConfirm changeset            : {}",
        py_bool(settings.confirm_changeset)
    ));
    ui.line(&format!(
        "\tDisable rollback             : {}",
        py_bool(settings.disable_rollback)
    ));
    if let Some(uri) = &settings.image_repository {
        ui.line(&format!("\tDeployment image repository  : {uri}"));
    } else if !image_repositories.is_empty() {
        let json = serde_json::to_string_pretty(image_repositories).unwrap_or_default();
        let indent = " ".repeat(39);
        let block: Vec<String> = json
            .lines()
            .map(|l| format!("{indent}{}", l.replace("  ", "    ")))
            .collect();
        ui.line(&format!(
            "\tDeployment image repository  : \n{}",
            block.join("\n")
        ));
    }
    ui.line(&format!(
        "\tDeployment s3 bucket         : {}",
        dest.map_or("None", |d| d.bucket.as_str())
    ));
    let capabilities = if settings.capabilities.is_empty() {
        "null".to_string()
    } else {
        py_json(&Value::from(settings.capabilities.clone()))
    };
    ui.line(&format!("\tCapabilities                 : {capabilities}"));
    let overrides: serde_json::Map<String, Value> = settings
        .parameter_overrides
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    ui.line(&format!(
        "\tParameter overrides          : {}",
        py_json(&Value::Object(overrides))
    ));
    ui.line(&format!(
        "\tSigning Profiles             : {}",
        py_json(&serde_json::to_value(&settings.signing_profiles).unwrap_or_default())
    ));
    ui.say(
        "\nInitiating deployment\n=====================\n",
        Tone::Warn,
    );
}

/// sam's note after a failed deploy that kept its resources.
pub fn rollback_disabled(stack_name: &str) -> String {
    format!("\nFailed to deploy. Automatic rollback disabled for this deployment.\n\nActions you can take next\n=========================\n[*] Fix issues and try deploying again\n[*] Roll back stack to the last known stable state: aws cloudformation rollback-stack --stack-name {stack_name}\n")
}

/// The companion part of a dry run: what would be created, kept and retired.
pub fn companion_plan(ui: &Ui, plan: &CompanionPlan) {
    let verb = match plan.phase1 {
        None if plan.repos.is_empty() && plan.retire.is_empty() => "nothing to do",
        None => "no change before the deploy",
        Some(crate::companion::CompanionAction::Create) => "create",
        Some(crate::companion::CompanionAction::Recreate) => "delete and create again",
        Some(_) => "update if changed",
    };
    ui.say(
        &format!("\n\tCompanion stack {}: {verb}", plan.companion_stack_name),
        Tone::Strong,
    );
    for repo in &plan.repos {
        let (mark, what) = match repo.action {
            RepoAction::Create => ("+", "create"),
            RepoAction::Keep => ("=", "keep"),
        };
        ui.line(&format!(
            "\t {mark} {what:<7} {:<40} {}",
            repo.function, repo.uri
        ));
    }
    for repo in &plan.retire {
        ui.line(&format!(
            "\t - retire  {} (after the stack is deployed)",
            repo.repository_name
        ));
    }
}

pub fn changes(ui: &Ui, changes: &[ChangeRow]) {
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
    ui.table(&table);
}

/// The events table, printed row by row while CloudFormation works.
pub struct EventStream<'a> {
    ui: &'a Ui,
    table: Table,
    started: bool,
}

impl<'a> EventStream<'a> {
    pub fn new(ui: &'a Ui, poller: &Poller) -> Self {
        let table = Table::new(
            &format!(
                "CloudFormation events from stack operations (refresh every {})",
                poller.describe()
            ),
            &[
                "ResourceStatus",
                "ResourceType",
                "LogicalResourceId",
                "ResourceStatusReason",
            ],
        );
        EventStream {
            ui,
            table,
            started: false,
        }
    }

    pub fn row(&mut self, event: &EventRow) {
        if !self.started {
            self.ui.table_header(&self.table);
            self.started = true;
        }
        let tone = if event.is_failure() {
            Tone::Bad
        } else if event.status.contains("IN_PROGRESS") {
            Tone::Warn
        } else {
            Tone::Good
        };
        self.ui.table_row(
            &self.table,
            vec![
                event.status.clone(),
                event.resource_type.clone(),
                event.logical_id.clone(),
                event.reason.clone().unwrap_or_else(|| "-".into()),
            ],
            tone,
        );
    }

    pub fn finish(self) {
        if self.started {
            self.ui.table_footer(&self.table);
        }
    }
}

pub fn outputs(ui: &Ui, outputs: &[StackOutput]) {
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
    ui.table(&table);
}

/// The failed resources and their reasons, for one-line errors: ": A (AWS::X) CREATE_FAILED: why".
pub fn failure_summary(failures: &[EventRow]) -> String {
    let parts: Vec<String> = failures
        .iter()
        .filter(|e| {
            // The stack's own failure event only repeats its resources' reasons.
            e.resource_type != "AWS::CloudFormation::Stack" || failures.len() == 1
        })
        .map(|e| {
            format!(
                "{} ({}) {}: {}",
                e.logical_id,
                e.resource_type,
                e.status,
                e.reason.as_deref().unwrap_or("no reason given")
            )
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join("; "))
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

    #[test]
    fn failure_summary_names_resources_and_reasons() {
        let event = |id: &str, rtype: &str, reason: &str| EventRow {
            id: id.into(),
            status: "CREATE_FAILED".into(),
            resource_type: rtype.into(),
            logical_id: id.into(),
            reason: Some(reason.into()),
        };
        let text = failure_summary(&[
            event(
                "Repo",
                "AWS::ECR::Repository",
                "RepositoryAlreadyExistsException: exists",
            ),
            event(
                "app",
                "AWS::CloudFormation::Stack",
                "The following resource(s) failed to create: [Repo].",
            ),
        ]);
        assert_eq!(
            text,
            ": Repo (AWS::ECR::Repository) CREATE_FAILED: RepositoryAlreadyExistsException: exists"
        );
        assert_eq!(failure_summary(&[]), "");
    }
}
