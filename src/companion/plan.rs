//! What a deploy does to the companion stack, decided from observed state without touching AWS:
//! which functions get a managed repository, which deployed repositories are retired, what the
//! stack's status allows, and the two templates of the rollback-safe order.
//!
//! Phase 1 (before the main stack) adds the repositories the functions need and keeps the
//! retired ones; phase 2 (after the main stack succeeded) removes the retired ones, or deletes
//! the stack when none is left. So a failed main deploy never loses an image it still uses,
//! where sam force-deletes unreferenced repositories before anything else.

use indexmap::{IndexMap, IndexSet};
use serde::{Deserialize, Serialize};

use super::mapping::{assign, Assignment};
use super::naming::{CompanionStack, EcrRepo};
use super::render::{render, RepoEntry, RepoSettings};
use super::status::{companion_action, BlockedStack, CompanionAction};

/// CloudFormation's limit on resources in one stack.
const STACK_RESOURCE_MAX: usize = 500;
const ECR_REPOSITORY_TYPE: &str = "AWS::ECR::Repository";

/// One resource of the deployed companion stack, as ListStackResources reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedResource {
    pub logical_id: String,
    pub physical_id: String,
    pub resource_type: String,
}

/// The companion stack as it was found: its status (None: absent) and its resources.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    pub status: Option<String>,
    pub resources: Vec<DeployedResource>,
}

/// A repository in the deployed companion stack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployedRepo {
    pub logical_id: String,
    pub repository_name: String,
}

/// Whether a function's repository is new or already in the stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RepoAction {
    Create,
    Keep,
}

/// The managed repository of one image function.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedRepo {
    pub function: String,
    pub logical_id: String,
    pub repository_name: String,
    /// sam's name was over ECR's 256-character limit and was shortened.
    pub repository_name_adjusted: bool,
    pub uri: String,
    pub action: RepoAction,
}

/// What phase 2 does once the main stack succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cleanup {
    Nothing,
    /// Apply [`phase2_template`]: the retired repositories go.
    Update,
    /// No managed repository is left: delete the companion stack.
    DeleteStack,
}

/// The companion stack cannot be planned for; each message names the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompanionError {
    #[error(transparent)]
    Blocked(#[from] BlockedStack),
    #[error("Companion stack {stack} would need {count} repositories, over CloudFormation's 500 resources per stack: give some functions their own repository with --image-repositories, or deploy the removal of functions first")]
    TooManyRepositories { stack: String, count: usize },
}

/// Everything the plan is made from.
#[derive(Debug, Clone, Copy)]
pub struct PlanInput<'a> {
    pub stack_name: &'a str,
    /// Full paths of the image functions, in template order (`Fn`, `Child/Fn`).
    pub functions: &'a [String],
    /// The user's mapping, keyed by full path (or by logical id for a nested function).
    pub image_repositories: &'a IndexMap<String, String>,
    pub resolve_image_repos: bool,
    pub account: &'a str,
    pub region: &'a str,
    /// The companion stack's status, None when it does not exist.
    pub companion_status: Option<&'a str>,
    pub deployed: &'a [DeployedResource],
    pub settings: &'a RepoSettings,
    pub tags: &'a [(String, String)],
    /// Written to the template's `Metadata.SamCliInfo`.
    pub version: &'a str,
}

/// What a deploy does to the companion stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompanionPlan {
    pub companion_stack_name: String,
    pub companion_status: Option<String>,
    /// Phase 1 with [`phase1_template`]; None when it is skipped.
    pub phase1: Option<CompanionAction>,
    pub phase2: Cleanup,
    pub repos: Vec<PlannedRepo>,
    pub retire: Vec<DeployedRepo>,
    /// Function full path → image repository URI for the main deploy: explicit and managed.
    pub mapping: IndexMap<String, String>,
    pub settings: RepoSettings,
    /// What the templates are rendered with; a plan read back from a file has none (its
    /// templates travel with it).
    #[serde(skip)]
    render_context: Option<RenderContext>,
}

#[derive(Debug, Clone, PartialEq)]
struct RenderContext {
    companion: CompanionStack,
    tags: Vec<(String, String)>,
    account: String,
    region: String,
    version: String,
}

/// Plans the companion stack for one deploy.
///
/// A function gets a managed repository when it has no explicit URI and `resolve_image_repos`
/// is set, or when its explicit URI is the managed one (sam's `set_functions`). The stack is left
/// alone when no function is managed and `resolve_image_repos` is off, as sam does.
pub fn plan(input: &PlanInput) -> Result<CompanionPlan, CompanionError> {
    let companion = CompanionStack::new(input.stack_name);
    let Assignment { managed, mapping } = assign(
        &companion,
        input.functions,
        input.image_repositories,
        input.resolve_image_repos,
        input.account,
        input.region,
    );
    let touched = input.resolve_image_repos || !managed.is_empty();
    let action = touched
        .then(|| companion_action(companion.name(), input.companion_status))
        .transpose()?;
    // Only a stable (or busy) stack has repositories to keep; a failed create has none.
    let deployed: Vec<DeployedRepo> = match action {
        Some(CompanionAction::Update | CompanionAction::Wait) => deployed_repos(input.deployed),
        _ => Vec::new(),
    };
    let repos: Vec<PlannedRepo> = managed
        .iter()
        .map(|repo| planned(repo, &deployed, input))
        .collect();
    let retire: Vec<DeployedRepo> = deployed
        .into_iter()
        .filter(|old| !repos.iter().any(|repo| repo.logical_id == old.logical_id))
        .collect();
    let plan = CompanionPlan {
        companion_stack_name: companion.name().to_string(),
        companion_status: input.companion_status.map(str::to_string),
        phase1: action.filter(|_| !repos.is_empty()),
        phase2: cleanup(action, repos.is_empty(), retire.is_empty()),
        repos,
        retire,
        mapping,
        settings: input.settings.clone(),
        render_context: Some(RenderContext {
            companion,
            tags: input.tags.to_vec(),
            account: input.account.to_string(),
            region: input.region.to_string(),
            version: input.version.to_string(),
        }),
    };
    let count = unique_repos(&plan).len() + plan.retire.len();
    if plan.phase1.is_some() && count > STACK_RESOURCE_MAX {
        return Err(CompanionError::TooManyRepositories {
            stack: plan.companion_stack_name,
            count,
        });
    }
    Ok(plan)
}

/// Phase 2 deletes a stack that exists but has nothing left to hold, and otherwise updates it
/// only to drop retired repositories.
fn cleanup(action: Option<CompanionAction>, no_repos: bool, no_retired: bool) -> Cleanup {
    match action {
        None | Some(CompanionAction::Create) => Cleanup::Nothing,
        Some(_) if no_repos => Cleanup::DeleteStack,
        Some(_) if no_retired => Cleanup::Nothing,
        Some(_) => Cleanup::Update,
    }
}

/// The template of phase 1: the wanted repositories plus the retired ones, kept under their
/// deployed logical ids and names until the main stack no longer uses them. This update also
/// gives repositories sam created `EmptyOnDelete`, so phase 2 can delete them with their
/// images. None: no phase 1 (or a plan read back from a file).
pub fn phase1_template(plan: &CompanionPlan) -> Option<String> {
    plan.phase1?;
    let retired = plan.retire.iter().map(|repo| RepoEntry {
        logical_id: &repo.logical_id,
        repository_name: &repo.repository_name,
    });
    let mut entries = unique_repos(plan);
    entries.extend(retired);
    render_entries(plan, &entries)
}

/// The template of phase 2: only the wanted repositories. None when no repository is left, so
/// the companion stack is to be deleted (or a plan read back from a file).
pub fn phase2_template(plan: &CompanionPlan) -> Option<String> {
    let entries = unique_repos(plan);
    if entries.is_empty() {
        return None;
    }
    render_entries(plan, &entries)
}

fn render_entries(plan: &CompanionPlan, entries: &[RepoEntry]) -> Option<String> {
    let context = plan.render_context.as_ref()?;
    Some(render(
        &context.companion,
        entries,
        &plan.settings,
        &context.tags,
        &context.account,
        &context.region,
        &context.version,
    ))
}

/// The planned repositories once each: `Child/Fn` and `ChildFn` share one (as in sam).
fn unique_repos(plan: &CompanionPlan) -> Vec<RepoEntry<'_>> {
    let mut seen = IndexSet::new();
    plan.repos
        .iter()
        .filter(|repo| seen.insert(repo.logical_id.as_str()))
        .map(|repo| RepoEntry {
            logical_id: &repo.logical_id,
            repository_name: &repo.repository_name,
        })
        .collect()
}

fn deployed_repos(resources: &[DeployedResource]) -> Vec<DeployedRepo> {
    resources
        .iter()
        .filter(|resource| resource.resource_type == ECR_REPOSITORY_TYPE)
        .map(|resource| DeployedRepo {
            logical_id: resource.logical_id.clone(),
            repository_name: resource.physical_id.clone(),
        })
        .collect()
}

fn planned(repo: &EcrRepo, deployed: &[DeployedRepo], input: &PlanInput) -> PlannedRepo {
    let logical_id = repo.logical_id();
    let exists = deployed.iter().any(|old| old.logical_id == logical_id);
    PlannedRepo {
        function: repo.function_full_path().to_string(),
        repository_name: repo.repository_name().to_string(),
        repository_name_adjusted: repo.repository_name_adjusted(),
        uri: repo.uri(input.account, input.region),
        action: if exists {
            RepoAction::Keep
        } else {
            RepoAction::Create
        },
        logical_id,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const STACK: &str = "Hello-World-Stack";
    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "us-west-2";
    const URI_01: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com/helloworldstack925976eb/testfunction0150919004repo";
    const URI_02: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com/helloworldstack925976eb/anothertestfunction025c2cfd8crepo";
    const OWN_URI: &str = "123456789012.dkr.ecr.us-west-2.amazonaws.com/my-own/repo";

    const BOTH: [&str; 2] = ["TestFunction01", "AnotherTestFunction02"];

    /// Observed state and user input; `plan` and `try_plan` turn it into a plan.
    struct Case {
        functions: Vec<String>,
        explicit: IndexMap<String, String>,
        resolve: bool,
        status: Option<&'static str>,
        deployed: Vec<DeployedResource>,
    }

    impl Case {
        fn new(functions: &[&str]) -> Self {
            Self {
                functions: functions.iter().map(|f| f.to_string()).collect(),
                explicit: IndexMap::new(),
                resolve: true,
                status: None,
                deployed: Vec::new(),
            }
        }

        fn explicit(mut self, function: &str, uri: &str) -> Self {
            self.explicit.insert(function.into(), uri.into());
            self
        }

        fn resolve(mut self, resolve: bool) -> Self {
            self.resolve = resolve;
            self
        }

        /// A deployed stack in `status` holding the managed repositories of `functions`.
        fn deployed(mut self, status: &'static str, functions: &[&str]) -> Self {
            let companion = CompanionStack::new(STACK);
            self.status = Some(status);
            self.deployed = functions
                .iter()
                .map(|f| {
                    let repo = EcrRepo::for_function(&companion, f);
                    resource(
                        &repo.logical_id(),
                        repo.repository_name(),
                        ECR_REPOSITORY_TYPE,
                    )
                })
                .collect();
            self
        }

        fn plan(&self) -> CompanionPlan {
            self.try_plan().unwrap()
        }

        fn try_plan(&self) -> Result<CompanionPlan, CompanionError> {
            plan(&PlanInput {
                stack_name: STACK,
                functions: &self.functions,
                image_repositories: &self.explicit,
                resolve_image_repos: self.resolve,
                account: ACCOUNT,
                region: REGION,
                companion_status: self.status,
                deployed: &self.deployed,
                settings: &RepoSettings::default(),
                tags: &[],
                version: "0.1.0",
            })
        }
    }

    fn resource(logical_id: &str, physical_id: &str, resource_type: &str) -> DeployedResource {
        DeployedResource {
            logical_id: logical_id.into(),
            physical_id: physical_id.into(),
            resource_type: resource_type.into(),
        }
    }

    fn actions(plan: &CompanionPlan) -> Vec<(&str, RepoAction)> {
        plan.repos
            .iter()
            .map(|r| (r.function.as_str(), r.action))
            .collect()
    }

    fn retired_ids(plan: &CompanionPlan) -> Vec<&str> {
        plan.retire.iter().map(|r| r.logical_id.as_str()).collect()
    }

    fn resource_ids(template: &str) -> Vec<String> {
        let value: serde_json::Value = serde_json::from_str(template).unwrap();
        value["Resources"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect()
    }

    #[test]
    fn first_deploy_creates_every_repository() {
        let plan = Case::new(&BOTH).plan();
        assert_eq!(
            plan.companion_stack_name,
            "Hello-World-Stack-925976eb-CompanionStack"
        );
        assert_eq!(plan.phase1, Some(CompanionAction::Create));
        assert_eq!(plan.phase2, Cleanup::Nothing);
        assert_eq!(
            actions(&plan),
            [
                ("TestFunction01", RepoAction::Create),
                ("AnotherTestFunction02", RepoAction::Create)
            ]
        );
        assert_eq!(plan.mapping["TestFunction01"], URI_01);
        assert_eq!(plan.mapping["AnotherTestFunction02"], URI_02);
        assert_eq!(phase1_template(&plan), phase2_template(&plan));
    }

    #[test]
    fn added_function_is_created_and_existing_kept() {
        let plan = Case::new(&BOTH)
            .deployed("UPDATE_COMPLETE", &["TestFunction01"])
            .plan();
        assert_eq!(plan.phase1, Some(CompanionAction::Update));
        assert_eq!(
            actions(&plan),
            [
                ("TestFunction01", RepoAction::Keep),
                ("AnotherTestFunction02", RepoAction::Create)
            ]
        );
        assert!(plan.retire.is_empty());
        assert_eq!(plan.phase2, Cleanup::Nothing);
    }

    #[test]
    fn removed_function_is_retired_after_the_main_stack() {
        let plan = Case::new(&["TestFunction01"])
            .deployed("CREATE_COMPLETE", &BOTH)
            .plan();
        assert_eq!(retired_ids(&plan), ["AnotherTestFunction025c2cfd8cRepo"]);
        assert_eq!(plan.phase2, Cleanup::Update);
        let phase1 = phase1_template(&plan).unwrap();
        assert_eq!(
            resource_ids(&phase1),
            [
                "TestFunction0150919004Repo",
                "AnotherTestFunction025c2cfd8cRepo"
            ]
        );
        assert!(phase1.contains(
            r#""RepositoryName": "helloworldstack925976eb/anothertestfunction025c2cfd8crepo""#
        ));
        assert_eq!(
            resource_ids(&phase2_template(&plan).unwrap()),
            ["TestFunction0150919004Repo"]
        );
    }

    #[test]
    fn retired_repositories_keep_their_deployed_ids_and_names() {
        let mut case =
            Case::new(&["TestFunction01"]).deployed("UPDATE_COMPLETE", &["TestFunction01"]);
        case.deployed.push(resource(
            "OldFnabcdef12Repo",
            "legacyname/oldfnrepo",
            ECR_REPOSITORY_TYPE,
        ));
        let plan = case.plan();
        let phase1: serde_json::Value =
            serde_json::from_str(&phase1_template(&plan).unwrap()).unwrap();
        let kept = &phase1["Resources"]["OldFnabcdef12Repo"]["Properties"];
        assert_eq!(kept["RepositoryName"], "legacyname/oldfnrepo");
        assert_eq!(kept["EmptyOnDelete"], true);
        assert_eq!(kept, &{
            let mut same = phase1["Resources"]["TestFunction0150919004Repo"]["Properties"].clone();
            same["RepositoryName"] = "legacyname/oldfnrepo".into();
            same
        });
    }

    #[test]
    fn opting_out_retires_the_managed_repository() {
        let plan = Case::new(&BOTH)
            .explicit("AnotherTestFunction02", OWN_URI)
            .deployed("UPDATE_COMPLETE", &BOTH)
            .plan();
        assert_eq!(actions(&plan), [("TestFunction01", RepoAction::Keep)]);
        assert_eq!(retired_ids(&plan), ["AnotherTestFunction025c2cfd8cRepo"]);
        assert_eq!(plan.mapping["AnotherTestFunction02"], OWN_URI);
        assert_eq!(plan.phase2, Cleanup::Update);
    }

    #[test]
    fn a_blocked_stack_stops_the_plan() {
        let blocked = Case::new(&["TestFunction01"])
            .deployed("DELETE_FAILED", &[])
            .try_plan();
        assert!(matches!(blocked, Err(CompanionError::Blocked(b)) if b.status == "DELETE_FAILED"));
    }

    #[test]
    fn explicit_managed_uri_opts_in_without_resolve() {
        // What `sam deploy --guided` saves: the managed URIs themselves.
        let plan = Case::new(&BOTH)
            .resolve(false)
            .explicit("TestFunction01", URI_01)
            .explicit("AnotherTestFunction02", OWN_URI)
            .plan();
        assert_eq!(actions(&plan), [("TestFunction01", RepoAction::Create)]);
        assert_eq!(plan.phase1, Some(CompanionAction::Create));
        assert_eq!(plan.mapping.values().collect::<Vec<_>>(), [URI_01, OWN_URI]);
    }

    #[test]
    fn without_resolve_or_managed_uris_the_stack_is_left_alone() {
        let plan = Case::new(&["TestFunction01"])
            .resolve(false)
            .explicit("TestFunction01", OWN_URI)
            .deployed("UPDATE_ROLLBACK_FAILED", &["TestFunction01"])
            .plan();
        assert_eq!((plan.phase1, plan.phase2), (None, Cleanup::Nothing));
        assert!(plan.repos.is_empty() && plan.retire.is_empty());
        assert_eq!(phase1_template(&plan), None);
    }

    #[test]
    fn colliding_paths_share_one_repository() {
        // sam's known collision: `Child/Fn` and `ChildFn` hash and name alike.
        let plan = Case::new(&["ChildFn", "Child/Fn"]).plan();
        assert_eq!(plan.repos.len(), 2);
        assert_eq!(plan.mapping["ChildFn"], plan.mapping["Child/Fn"]);
        assert_eq!(resource_ids(&phase2_template(&plan).unwrap()).len(), 1);
    }

    #[test]
    fn no_functions_left_deletes_the_stack_after_the_main_stack() {
        let plan = Case::new(&[]).deployed("UPDATE_COMPLETE", &BOTH).plan();
        assert_eq!((plan.phase1, plan.phase2), (None, Cleanup::DeleteStack));
        assert_eq!(retired_ids(&plan).len(), 2);
        assert_eq!(phase2_template(&plan), None);
        let nothing = Case::new(&[]).plan();
        assert_eq!((nothing.phase1, nothing.phase2), (None, Cleanup::Nothing));
    }

    #[test]
    fn failed_create_is_recreated_without_its_resources() {
        let mut case = Case::new(&["TestFunction01"])
            .deployed("ROLLBACK_COMPLETE", &["AnotherTestFunction02"]);
        let plan = case.plan();
        assert_eq!(plan.phase1, Some(CompanionAction::Recreate));
        assert!(plan.retire.is_empty());
        assert_eq!(actions(&plan), [("TestFunction01", RepoAction::Create)]);
        case.functions.clear();
        assert_eq!(case.plan().phase2, Cleanup::DeleteStack);
    }

    #[test]
    fn non_repository_resources_are_ignored() {
        let mut case =
            Case::new(&["TestFunction01"]).deployed("UPDATE_COMPLETE", &["TestFunction01"]);
        case.deployed.push(resource(
            "Topic",
            "arn:aws:sns:us-west-2:123456789012:t",
            "AWS::SNS::Topic",
        ));
        let plan = case.plan();
        assert!(plan.retire.is_empty());
        assert_eq!(plan.phase2, Cleanup::Nothing);
    }

    #[test]
    fn many_functions_render_within_cloudformation_limits() {
        for count in [201, 500] {
            let names: Vec<String> = (0..count).map(|i| format!("ImageFunction{i:03}")).collect();
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let plan = Case::new(&refs).plan();
            let template = phase1_template(&plan).unwrap();
            let value: serde_json::Value = serde_json::from_str(&template).unwrap();
            assert_eq!(value["Resources"].as_object().unwrap().len(), count);
            assert!(
                value.get("Outputs").is_none(),
                "sam's outputs hit the 200-output limit at 201"
            );
            assert!(
                template.len() < 1_000_000,
                "{count}: {} bytes, over the S3 template limit",
                template.len()
            );
            assert!(!crate::stack_state::fits_inline(&template));
        }
    }

    #[test]
    fn more_than_500_repositories_in_phase_1_is_refused() {
        let names: Vec<String> = (0..500).map(|i| format!("ImageFunction{i:03}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let plan = Case::new(&refs)
            .deployed("UPDATE_COMPLETE", &["Removed"])
            .try_plan();
        assert_eq!(
            plan.unwrap_err(),
            CompanionError::TooManyRepositories {
                stack: "Hello-World-Stack-925976eb-CompanionStack".into(),
                count: 501
            }
        );
    }

    #[test]
    fn plan_serializes_for_dry_run_output() {
        let plan = Case::new(&["TestFunction01"])
            .deployed("UPDATE_COMPLETE", &["AnotherTestFunction02"])
            .plan();
        let json = serde_json::to_value(&plan).unwrap();
        assert_eq!(json["phase1"], "update");
        assert_eq!(json["phase2"], "update");
        assert_eq!(json["repos"][0]["action"], "create");
        assert_eq!(json["repos"][0]["uri"], URI_01);
        assert_eq!(
            json["retire"][0]["repository_name"],
            "helloworldstack925976eb/anothertestfunction025c2cfd8crepo"
        );
        assert!(json.get("render_context").is_none());
    }
}
