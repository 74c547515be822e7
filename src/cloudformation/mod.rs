//! Thin CloudFormation calls: describe, change sets, execution with event streaming, deletion.
//!
//! No decisions are made here beyond "is it finished yet": what to do with a stack lives in
//! [`crate::stack_state`], the poll schedule in [`poll`], the describe calls a stack may get in
//! [`budget`] (every describe call here takes its token). Every wait polls with our own schedule
//! instead of the SDK's waiters (30 s minimum between polls) and reports the events as they arrive.

pub mod budget;
pub mod poll;

use std::collections::HashSet;

use aws_sdk_cloudformation::types::{
    Capability, ChangeSetType, DeploymentConfig, DeploymentConfigMode, Parameter, StackEvent, Tag,
    TemplateStage,
};
use aws_sdk_cloudformation::Client;

use crate::aws::{AwsError, AwsResultExt};
use crate::plan::changes::{PropertyChange, ResourceChange, ValueSource};
use crate::stack_state::{
    self as state, ChangeSetRequest, EventRow, Express, ParameterValue, StackInfo, StackOutcome,
    StackOutput, StackResource, TemplateSource,
};
use poll::Poller;

/// How a change set ended up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChangeSetOutcome {
    /// Created: its changes (without its nested stacks' ones, which [`change_set_changes`] reads).
    Ready(Vec<ResourceChange>),
    /// CloudFormation found nothing to change.
    Empty,
    Failed(String),
}

/// Why a wait for a stack operation or a change set ended without its outcome.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    /// The wait lasted `--max-wait-duration`; CloudFormation goes on, nothing was cancelled.
    #[error("Stopped waiting for {what} after {limit} (--max-wait-duration): {note}")]
    TimedOut {
        what: String,
        limit: String,
        note: String,
    },
}

impl WaitError {
    fn timed_out(poller: &Poller, what: String, note: String) -> WaitError {
        WaitError::TimedOut {
            what,
            limit: poller
                .max_wait()
                .map(poll::describe_limit)
                .unwrap_or_default(),
            note,
        }
    }
}

/// Express mode as CloudFormation's `DeploymentConfig`.
fn deployment_config(express: Express) -> DeploymentConfig {
    DeploymentConfig::builder()
        .mode(DeploymentConfigMode::Express)
        .set_disable_rollback(express.disable_rollback)
        .build()
}

fn event_row(e: &StackEvent) -> EventRow {
    let status = e
        .resource_status()
        .map(|s| s.as_str().to_string())
        .unwrap_or_default();
    EventRow {
        id: e.event_id().unwrap_or_default().to_string(),
        status: match e.detailed_status() {
            Some(detail) => format!("{status} - {}", detail.as_str()),
            None => status,
        },
        resource_type: e.resource_type().unwrap_or_default().to_string(),
        logical_id: e.logical_resource_id().unwrap_or_default().to_string(),
        reason: e.resource_status_reason().map(str::to_string),
        physical_id: e.physical_resource_id().unwrap_or_default().to_string(),
    }
}

/// The stack, or None when CloudFormation says it does not exist.
pub async fn describe_stack(cfn: &Client, name: &str) -> Result<Option<StackInfo>, AwsError> {
    budget::take(name).await;
    let result = cfn
        .describe_stacks()
        .stack_name(name)
        .send()
        .await
        .aws("CloudFormation DescribeStacks");
    let output = match result {
        Ok(output) => output,
        Err(e) if e.is_stack_missing() => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(stack) = output.stacks().first() else {
        return Ok(None);
    };
    Ok(Some(StackInfo {
        stack_id: stack.stack_id().unwrap_or_default().to_string(),
        status: stack
            .stack_status()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        last_updated: stack.last_updated_time().map(|t| t.to_string()),
        outputs: stack
            .outputs()
            .iter()
            .map(|o| StackOutput {
                key: o.output_key().unwrap_or_default().to_string(),
                value: o.output_value().unwrap_or_default().to_string(),
                description: o.description().map(str::to_string),
            })
            .collect(),
        tags: stack
            .tags()
            .iter()
            .map(|t| {
                (
                    t.key().unwrap_or_default().to_string(),
                    t.value().unwrap_or_default().to_string(),
                )
            })
            .collect(),
        parameters: stack
            .parameters()
            .iter()
            .filter_map(|p| {
                Some((
                    p.parameter_key()?.to_string(),
                    p.parameter_value().unwrap_or_default().to_string(),
                ))
            })
            .collect(),
        role_arn: stack.role_arn().map(str::to_string),
        notification_arns: stack.notification_arns().to_vec(),
        termination_protection: stack.enable_termination_protection().unwrap_or(false),
    }))
}

/// Sets a request's common fields on any of the three SDK builders that take them
/// (CreateChangeSet, CreateStack, UpdateStack: distinct types with the same setters).
macro_rules! with_fields {
    ($call:expr, $fields:expr, $req:expr) => {
        $call
            .set_template_body($fields.body)
            .set_template_url($fields.url)
            .set_parameters(Some($fields.parameters))
            .set_capabilities($fields.capabilities)
            .set_tags($fields.tags)
            .set_notification_arns($fields.notification_arns)
            .set_role_arn($req.role_arn.clone())
    };
}

/// The SDK's shapes of a request's fields, shared by change sets and direct stack operations.
struct SdkFields {
    body: Option<String>,
    url: Option<String>,
    parameters: Vec<Parameter>,
    capabilities: Option<Vec<Capability>>,
    tags: Option<Vec<Tag>>,
    notification_arns: Option<Vec<String>>,
}

impl SdkFields {
    fn of(req: &ChangeSetRequest) -> Self {
        let (body, url) = match &req.template {
            TemplateSource::Body(body) => (Some(body.clone()), None),
            TemplateSource::Url(url) => (None, Some(url.clone())),
        };
        SdkFields {
            body,
            url,
            parameters: req.parameters.iter().map(to_sdk_parameter).collect(),
            capabilities: (!req.capabilities.is_empty()).then(|| {
                req.capabilities
                    .iter()
                    .map(|c| Capability::from(c.as_str()))
                    .collect()
            }),
            tags: (!req.tags.is_empty()).then(|| {
                req.tags
                    .iter()
                    .map(|(k, v)| Tag::builder().key(k).value(v).build())
                    .collect()
            }),
            notification_arns: (!req.notification_arns.is_empty())
                .then(|| req.notification_arns.clone()),
        }
    }
}

/// Creates the change set and returns its ARN.
pub async fn create_change_set(cfn: &Client, req: &ChangeSetRequest) -> Result<String, AwsError> {
    let f = SdkFields::of(req);
    let call = cfn
        .create_change_set()
        .stack_name(&req.stack_name)
        .change_set_name(&req.change_set_name)
        .change_set_type(if req.create {
            ChangeSetType::Create
        } else {
            ChangeSetType::Update
        })
        .description(&req.description)
        .set_include_nested_stacks(req.include_nested_stacks.then_some(true))
        .set_deployment_config(req.express.map(deployment_config));
    let output = with_fields!(call, f, req)
        .send()
        .await
        .aws("CloudFormation CreateChangeSet")?;
    Ok(output.id().unwrap_or(&req.change_set_name).to_string())
}

/// Creates or updates the stack without a change set (one call instead of three, for stacks
/// samrs alone manages). Returns false when CloudFormation found nothing to update.
pub async fn apply_directly(cfn: &Client, req: &ChangeSetRequest) -> Result<bool, AwsError> {
    let f = SdkFields::of(req);
    if req.create {
        with_fields!(cfn.create_stack().stack_name(&req.stack_name), f, req)
            .send()
            .await
            .aws("CloudFormation CreateStack")?;
        return Ok(true);
    }
    let result = with_fields!(cfn.update_stack().stack_name(&req.stack_name), f, req)
        .send()
        .await
        .aws("CloudFormation UpdateStack");
    match result {
        Ok(_) => Ok(true),
        Err(e) if e.code == "ValidationError" && is_empty_change_set_reason(&e.message) => {
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

fn to_sdk_parameter(p: &ParameterValue) -> Parameter {
    match p {
        ParameterValue::Value(k, v) => Parameter::builder()
            .parameter_key(k)
            .parameter_value(v)
            .build(),
        ParameterValue::UsePrevious(k) => Parameter::builder()
            .parameter_key(k)
            .use_previous_value(true)
            .build(),
    }
}

/// Polls the change set until it is created (or failed) and reads all its changes.
pub async fn wait_for_change_set(
    cfn: &Client,
    stack_name: &str,
    change_set_id: &str,
    poller: &Poller,
) -> Result<ChangeSetOutcome, WaitError> {
    let mut poller = poller.restart();
    loop {
        if !poller.wait().await {
            return Err(WaitError::timed_out(
                &poller,
                format!("change set {change_set_id} of stack {stack_name}"),
                format!("CloudFormation goes on creating it; follow it with `aws cloudformation describe-change-set --stack-name {stack_name} --change-set-name {change_set_id}`"),
            ));
        }
        // The first page says how far it got; a created change set's changes may take more.
        budget::take(stack_name).await;
        let mut pages = cfn
            .describe_change_set()
            .change_set_name(change_set_id)
            .stack_name(stack_name)
            .include_property_values(true)
            .into_paginator()
            .send();
        let Some(first) = pages
            .try_next()
            .await
            .aws("CloudFormation DescribeChangeSet")?
        else {
            continue;
        };
        let status = first.status().map(|s| s.as_str()).unwrap_or_default();
        match status {
            "CREATE_COMPLETE" => {
                let mut changes = change_rows(first.changes());
                let mut more = first.next_token().is_some();
                while more {
                    budget::take(stack_name).await;
                    let Some(page) = pages
                        .try_next()
                        .await
                        .aws("CloudFormation DescribeChangeSet")?
                    else {
                        break;
                    };
                    more = page.next_token().is_some();
                    changes.extend(change_rows(page.changes()));
                }
                return Ok(ChangeSetOutcome::Ready(changes));
            }
            "FAILED" => {
                let reason = first.status_reason().unwrap_or_default().to_string();
                return Ok(if is_empty_change_set_reason(&reason) {
                    ChangeSetOutcome::Empty
                } else {
                    ChangeSetOutcome::Failed(reason)
                });
            }
            _ => continue,
        }
    }
}

/// CloudFormation's two wordings for "nothing to change" (the second with a Transform).
pub fn is_empty_change_set_reason(reason: &str) -> bool {
    reason.contains("didn't contain changes") || reason.contains("No updates are to be performed")
}

/// The changes of a created change set, with their property values (a nested stack's change
/// set, named by its ARN).
pub async fn change_set_changes(
    cfn: &Client,
    change_set_id: &str,
) -> Result<Vec<ResourceChange>, AwsError> {
    let mut pages = cfn
        .describe_change_set()
        .change_set_name(change_set_id)
        .include_property_values(true)
        .into_paginator()
        .send();
    let mut changes = Vec::new();
    while let Some(page) = pages
        .try_next()
        .await
        .aws("CloudFormation DescribeChangeSet")?
    {
        changes.extend(change_rows(page.changes()));
    }
    Ok(changes)
}

/// Reads the change sets CloudFormation made for nested stacks (IncludeNestedStacks) into the
/// changes of the resources that are those stacks, at any depth.
pub fn read_nested<'a>(
    cfn: &'a Client,
    changes: &'a mut [ResourceChange],
) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), AwsError>> + Send + 'a>> {
    Box::pin(async move {
        for change in changes.iter_mut() {
            if let Some(id) = change.change_set_id.clone() {
                let mut nested = change_set_changes(cfn, &id).await?;
                read_nested(cfn, &mut nested).await?;
                change.nested = nested;
            }
        }
        Ok(())
    })
}

fn change_rows(changes: &[aws_sdk_cloudformation::types::Change]) -> Vec<ResourceChange> {
    changes
        .iter()
        .filter_map(|c| c.resource_change())
        .map(|rc| ResourceChange {
            action: rc
                .action()
                .map(|a| a.as_str().to_string())
                .unwrap_or_default(),
            logical_id: rc.logical_resource_id().unwrap_or_default().to_string(),
            resource_type: rc.resource_type().unwrap_or_default().to_string(),
            replacement: rc.replacement().map(|r| r.as_str().to_string()),
            physical_id: rc.physical_resource_id().map(str::to_string),
            properties: rc.details().iter().filter_map(property_change).collect(),
            code: None,
            change_set_id: rc.change_set_id().map(str::to_string),
            nested: Vec::new(),
        })
        .collect()
}

/// One of a resource change's Details: the path and values of what changes and whether it
/// replaces the resource (with IncludePropertyValues; without, the attribute and name only).
fn property_change(
    detail: &aws_sdk_cloudformation::types::ResourceChangeDetail,
) -> Option<PropertyChange> {
    let target = detail.target()?;
    let attribute = target.attribute().map(|a| a.as_str()).unwrap_or_default();
    let path = match (target.path(), target.name()) {
        (Some(path), _) => path.to_string(),
        (None, Some(name)) => format!("/{attribute}/{name}"),
        (None, None) => format!("/{attribute}"),
    };
    let source = detail.change_source().map(|s| s.as_str());
    let cause = match (source, detail.causing_entity()) {
        (Some("DirectModification") | None, _) => None,
        (Some(source), Some(entity)) => Some(format!("{source} {entity}")),
        (Some(source), None) => Some(source.to_string()),
    };
    Some(PropertyChange {
        path,
        change: target
            .attribute_change_type()
            .map_or("Modify", |t| t.as_str())
            .to_string(),
        before: target.before_value().map(str::to_string),
        after: target.after_value().map(str::to_string),
        recreation: target
            .requires_recreation()
            .map_or("Never", |r| r.as_str())
            .to_string(),
        cause,
        source: ValueSource::Cloudformation,
    })
}

/// Executes a change set; `disable_rollback` None leaves the choice to the change set (express
/// mode carries it in its `DeploymentConfig`).
pub async fn execute_change_set(
    cfn: &Client,
    stack_name: &str,
    change_set_id: &str,
    disable_rollback: Option<bool>,
) -> Result<(), AwsError> {
    cfn.execute_change_set()
        .change_set_name(change_set_id)
        .stack_name(stack_name)
        .set_disable_rollback(disable_rollback)
        .send()
        .await
        .aws("CloudFormation ExecuteChangeSet")?;
    Ok(())
}

/// Where the change set with this ARN stands; one call, none of its changes read.
pub async fn change_set_state(
    cfn: &Client,
    change_set_arn: &str,
) -> Result<state::ChangeSetState, AwsError> {
    let result = cfn
        .describe_change_set()
        .change_set_name(change_set_arn)
        .send()
        .await
        .aws("CloudFormation DescribeChangeSet");
    let output = match result {
        Ok(output) => output,
        Err(e) if e.code == "ChangeSetNotFound" || e.code == "ChangeSetNotFoundException" => {
            return Ok(state::ChangeSetState::Gone)
        }
        // The ARN of a change set whose stack was deleted.
        Err(e) if e.is_stack_missing() => return Ok(state::ChangeSetState::Gone),
        Err(e) => return Err(e),
    };
    Ok(state::ChangeSetState::of(
        output.status().map(|s| s.as_str()).unwrap_or_default(),
        output
            .execution_status()
            .map(|s| s.as_str())
            .unwrap_or_default(),
        output.status_reason().unwrap_or_default(),
    ))
}

pub async fn delete_change_set(
    cfn: &Client,
    stack_name: &str,
    change_set_id: &str,
) -> Result<(), AwsError> {
    cfn.delete_change_set()
        .change_set_name(change_set_id)
        .stack_name(stack_name)
        .send()
        .await
        .aws("CloudFormation DeleteChangeSet")?;
    Ok(())
}

/// Reads a stack's events newer than the one it last saw, oldest first.
#[derive(Debug)]
pub struct EventCursor {
    stack_name: String,
    seen: HashSet<String>,
    /// CloudFormation no longer finds the stack by name: it was deleted.
    gone: bool,
    /// A stack being created: its REVIEW_IN_PROGRESS events predate the operation.
    skip_review: bool,
}

/// At most this many pages are read per poll: a stack with a long history and no known event
/// must not make one poll read all of it.
const MAX_EVENT_PAGES: usize = 10;

impl EventCursor {
    /// A cursor that skips every event that exists now.
    pub async fn after_current(cfn: &Client, stack_name: &str) -> Result<Self, AwsError> {
        let mut cursor = Self::new(stack_name, false);
        cursor.poll(cfn).await?;
        Ok(cursor)
    }

    /// A cursor for a stack being created (absent, or in REVIEW_IN_PROGRESS): all its events but
    /// the review ones belong to the operation, so no call is needed to skip older ones.
    pub fn for_new_stack(stack_name: &str) -> Self {
        Self::new(stack_name, true)
    }

    fn new(stack_name: &str, skip_review: bool) -> Self {
        EventCursor {
            stack_name: stack_name.to_string(),
            seen: HashSet::new(),
            gone: false,
            skip_review,
        }
    }

    /// Whether the last poll found the stack deleted.
    pub fn stack_gone(&self) -> bool {
        self.gone
    }

    /// The events that appeared since the last poll, oldest first.
    pub async fn poll(&mut self, cfn: &Client) -> Result<Vec<EventRow>, AwsError> {
        let seen = &self.seen;
        let (mut fresh, gone) = newest_events(cfn, &self.stack_name, |row| {
            if seen.contains(&row.id) {
                Reached::Before
            } else {
                Reached::No
            }
        })
        .await?;
        self.gone |= gone;
        for row in &fresh {
            self.seen.insert(row.id.clone());
        }
        if self.skip_review {
            fresh.retain(|row| row.status != "REVIEW_IN_PROGRESS");
        }
        Ok(fresh)
    }

    /// The terminal status of the stack's own event ending the operation, if `row` is one.
    pub fn ends_operation<'r>(&self, row: &'r EventRow) -> Option<&'r str> {
        let status = row.status.split(" - ").next().unwrap_or_default();
        (row.resource_type == "AWS::CloudFormation::Stack"
            && row.logical_id == self.stack_name
            && state::is_terminal(status))
        .then_some(status)
    }
}

/// What a wait must hand back besides the final status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// The status alone, which the stack's own final event carries: no extra call.
    Status,
    /// The stack as DescribeStacks gives it (outputs): read once the operation ended.
    Stack,
}

/// One poll in [`STACK_CHECK_EVERY`] reads the stack instead of its events, in case the stack's
/// own final event is never seen (a cursor that lost its place): the wait still ends.
const STACK_CHECK_EVERY: u32 = 10;

/// Polls a stack operation to its end, handing every new event to `on_event`.
/// Each poll is one call: the events, whose last one, the stack's own terminal event, ends the
/// wait with the status it carries. The stack is read after that only for [`Want::Stack`], and
/// instead of the events every [`STACK_CHECK_EVERY`]th poll.
pub async fn wait_for_stack(
    cfn: &Client,
    cursor: &mut EventCursor,
    poller: &Poller,
    want: Want,
    mut on_event: impl FnMut(&EventRow),
) -> Result<StackOutcome, WaitError> {
    let _interruptible = crate::interrupt::StackWait::new(&cursor.stack_name);
    let mut poller = poller.restart();
    let mut failures = Vec::new();
    let gone = |failures| StackOutcome {
        status: None,
        stack: None,
        failures,
    };
    let mut polls: u32 = 0;
    // The final status, once an event or a stack read showed it.
    let mut ended: Option<String> = None;
    loop {
        if !poller.wait().await {
            return Err(WaitError::timed_out(
                &poller,
                format!("stack {}", cursor.stack_name),
                crate::interrupt::goes_on_note(&cursor.stack_name),
            ));
        }
        polls += 1;
        let mut stack = None;
        if ended.is_some() || polls % STACK_CHECK_EVERY == 0 {
            match describe_stack(cfn, &cursor.stack_name).await? {
                None => return Ok(gone(failures)),
                Some(info) if state::is_terminal(&info.status) => stack = Some(info),
                // The events ran ahead of the stack's own record: poll on.
                Some(_) => continue,
            }
        }
        if ended.is_none() {
            // This poll's events, or the end's tail and failures when the stack read found it.
            for event in cursor.poll(cfn).await? {
                on_event(&event);
                if event.is_failure() {
                    failures.push(event.clone());
                }
                if let Some(status) = cursor.ends_operation(&event) {
                    ended = Some(status.to_string());
                }
            }
            if cursor.stack_gone() {
                return Ok(gone(failures));
            }
            if let Some(info) = &stack {
                ended = Some(info.status.clone());
            }
        }
        let Some(status) = ended.clone() else {
            continue;
        };
        if status == "DELETE_COMPLETE" {
            return Ok(gone(failures));
        }
        if want == Want::Stack && stack.is_none() {
            match describe_stack(cfn, &cursor.stack_name).await? {
                None => return Ok(gone(failures)),
                Some(info) if !state::is_terminal(&info.status) => continue,
                Some(info) => stack = Some(info),
            }
        }
        return Ok(StackOutcome {
            status: Some(stack.as_ref().map_or(status, |s| s.status.clone())),
            stack,
            failures,
        });
    }
}

/// Where reading a stack's events back from the newest stops.
enum Reached {
    No,
    /// At this event, without it.
    Before,
    /// At this event, with it.
    With,
}

/// A stack's events from the newest back to where `reached` says (or [`MAX_EVENT_PAGES`] pages),
/// oldest first, each page once the stack's describe budget allows; true when the stack is gone.
async fn newest_events(
    cfn: &Client,
    stack: &str,
    mut reached: impl FnMut(&EventRow) -> Reached,
) -> Result<(Vec<EventRow>, bool), AwsError> {
    let mut events = Vec::new();
    let mut gone = false;
    let mut pages = cfn
        .describe_stack_events()
        .stack_name(stack)
        .into_paginator()
        .send();
    'pages: for _ in 0..MAX_EVENT_PAGES {
        budget::take(stack).await;
        let page = match pages
            .try_next()
            .await
            .aws("CloudFormation DescribeStackEvents")
        {
            Ok(Some(page)) => page,
            Ok(None) => break,
            Err(e) if e.is_stack_missing() => {
                gone = true;
                break;
            }
            Err(e) => return Err(e),
        };
        for event in page.stack_events() {
            let row = event_row(event);
            match reached(&row) {
                Reached::No => events.push(row),
                Reached::Before => break 'pages,
                Reached::With => {
                    events.push(row);
                    break 'pages;
                }
            }
        }
        if page.next_token().is_none() {
            break;
        }
    }
    events.reverse();
    Ok((events, gone))
}

/// The events of the stack's last operation, oldest first: back to the stack's own event that
/// started it.
pub async fn last_operation_events(cfn: &Client, name: &str) -> Result<Vec<EventRow>, AwsError> {
    let (events, _) = newest_events(cfn, name, |row| {
        if state::starts_operation(name, row) {
            Reached::With
        } else {
            Reached::No
        }
    })
    .await?;
    Ok(events)
}

/// Starts deleting a stack (its resources listed in `retain` are kept), in express mode if asked.
pub async fn delete_stack(
    cfn: &Client,
    name: &str,
    retain: &[String],
    express: bool,
) -> Result<(), AwsError> {
    let express = express.then_some(Express {
        disable_rollback: None,
    });
    cfn.delete_stack()
        .stack_name(name)
        .set_retain_resources((!retain.is_empty()).then(|| retain.to_vec()))
        .set_deployment_config(express.map(deployment_config))
        .send()
        .await
        .aws("CloudFormation DeleteStack")?;
    Ok(())
}

pub async fn list_stack_resources(
    cfn: &Client,
    name: &str,
) -> Result<Vec<StackResource>, AwsError> {
    let summaries = cfn
        .list_stack_resources()
        .stack_name(name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .aws("CloudFormation ListStackResources")?;
    Ok(summaries
        .iter()
        .map(|r| StackResource {
            logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
            physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
            resource_type: r.resource_type().unwrap_or_default().to_string(),
            status: r
                .resource_status()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        })
        .collect())
}

/// The names of all stacks in the region that are not deleted.
pub async fn list_stack_names(cfn: &Client) -> Result<Vec<String>, AwsError> {
    let summaries = cfn
        .list_stacks()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .aws("CloudFormation ListStacks")?;
    Ok(summaries
        .iter()
        .filter(|s| {
            s.stack_status()
                .is_none_or(|st| st.as_str() != "DELETE_COMPLETE")
        })
        .filter_map(|s| s.stack_name().map(str::to_string))
        .collect())
}

/// The template a stack was deployed with, as submitted.
/// A stack's processed template (transforms applied), or a change set's when one is named.
pub async fn processed_template(
    cfn: &Client,
    stack: &str,
    change_set: Option<&str>,
) -> Result<String, AwsError> {
    let output = cfn
        .get_template()
        .stack_name(stack)
        .set_change_set_name(change_set.map(str::to_string))
        .template_stage(TemplateStage::Processed)
        .send()
        .await
        .aws("CloudFormation GetTemplate")?;
    Ok(output.template_body().unwrap_or_default().to_string())
}

pub async fn original_template(cfn: &Client, name: &str) -> Result<String, AwsError> {
    let output = cfn
        .get_template()
        .stack_name(name)
        .template_stage(TemplateStage::Original)
        .send()
        .await
        .aws("CloudFormation GetTemplate")?;
    Ok(output.template_body().unwrap_or_default().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_empty_change_set_wordings_are_recognised() {
        assert!(is_empty_change_set_reason(
            "The submitted information didn't contain changes. Submit different information to create a change set."
        ));
        assert!(is_empty_change_set_reason(
            "No updates are to be performed."
        ));
        assert!(!is_empty_change_set_reason(
            "Template format error: Unresolved resource dependencies [Foo]"
        ));
    }

    #[test]
    fn only_the_stacks_own_terminal_event_ends_the_wait() {
        let cursor = EventCursor::for_new_stack("app");
        let event = |status: &str, rtype: &str, id: &str| EventRow {
            physical_id: String::new(),
            id: "1".into(),
            status: status.into(),
            resource_type: rtype.into(),
            logical_id: id.into(),
            reason: None,
        };
        let stack = "AWS::CloudFormation::Stack";
        assert_eq!(
            cursor.ends_operation(&event("UPDATE_COMPLETE", stack, "app")),
            Some("UPDATE_COMPLETE")
        );
        assert_eq!(
            cursor.ends_operation(&event("ROLLBACK_COMPLETE", stack, "app")),
            Some("ROLLBACK_COMPLETE")
        );
        assert_eq!(
            cursor.ends_operation(&event("DELETE_FAILED - something", stack, "app")),
            Some("DELETE_FAILED")
        );
        assert_eq!(
            cursor.ends_operation(&event("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", stack, "app")),
            None
        );
        assert_eq!(
            cursor.ends_operation(&event("CREATE_COMPLETE", stack, "Nested")),
            None
        );
        assert_eq!(
            cursor.ends_operation(&event("CREATE_COMPLETE", "AWS::Lambda::Function", "app")),
            None
        );
    }
}
