//! The image-repository questions of a guided deploy (sam's `prompt_image_repository`):
//! which functions get managed repositories, URIs for the others, and consent before managed
//! repositories of removed functions are deleted.

use anyhow::bail;
use indexmap::IndexMap;

use crate::companion::{CompanionStack, DeployedRepo, EcrRepo};
use crate::output::Ui;
use crate::prompt::Prompter;
use crate::settings::DeploySettings;
use crate::stackops::StackOps;
use crate::template::{self, ImageFunction};

/// The answer: whether managed repositories are used, and the functions with their own.
#[derive(Debug, Clone, Default)]
pub struct Repos {
    pub managed: bool,
    pub explicit: IndexMap<String, String>,
}

const MANAGED_NOTE: &str =
    "\t #Managed repositories will be deleted when their functions are removed from the template and deployed";

pub(super) async fn choose(
    prompt: &Prompter,
    ui: &Ui,
    ops: &StackOps<'_>,
    stack_name: &str,
    functions: &[ImageFunction],
    defaults: &DeploySettings,
) -> anyhow::Result<Repos> {
    let companion = CompanionStack::new(stack_name);
    let (account, observed) =
        tokio::try_join!(ops.account_id(), ops.observe_companion(companion.name()))?;
    let companion_status = observed.status.clone();
    let deployed: Vec<DeployedRepo> = observed
        .resources
        .iter()
        .filter(|r| r.resource_type == "AWS::ECR::Repository")
        .map(|r| DeployedRepo {
            logical_id: r.logical_id.clone(),
            repository_name: r.physical_id.clone(),
        })
        .collect();
    if functions.is_empty() {
        // A companion left from earlier image functions is cleaned up by the deploy.
        return Ok(Repos {
            managed: defaults.resolve_image_repos || companion_status.is_some(),
            explicit: IndexMap::new(),
        });
    }
    let managed_uri = |f: &ImageFunction| {
        EcrRepo::for_function(&companion, &f.full_path).uri(&account, &ops.aws.region)
    };
    let deployed_ids: Vec<&str> = deployed.iter().map(|r| r.logical_id.as_str()).collect();

    // sam drops saved mappings of functions that are no longer in the template.
    let paths: Vec<&str> = functions.iter().map(|f| f.full_path.as_str()).collect();
    let mut explicit: IndexMap<String, String> = functions
        .iter()
        .filter_map(|f| {
            template::repository_entry(&defaults.image_repositories, &paths, &f.full_path)
                .map(|(_, uri)| (f.full_path.clone(), uri.clone()))
        })
        .collect();
    let mut found: Vec<(String, String)> = Vec::new();
    let mut without: Vec<&ImageFunction> = Vec::new();
    for f in functions {
        let repo = EcrRepo::for_function(&companion, &f.full_path);
        if let Some(uri) = explicit.get(&f.full_path) {
            found.push((f.full_path.clone(), uri.clone()));
        } else if defaults.resolve_image_repos || deployed_ids.contains(&repo.logical_id().as_str())
        {
            found.push((f.full_path.clone(), managed_uri(f)));
        } else {
            without.push(f);
        }
    }

    let create = if found.is_empty() {
        ui.line("\t Image repositories: Not found.");
        ui.line(MANAGED_NOTE);
        prompt.confirm(
            "\t Create managed ECR repositories for all functions?",
            true,
        )?
    } else {
        ui.line(&format!(
            "\t Image repositories: Found ({} of {}) #Different image repositories can be set in samconfig.toml",
            found.len(),
            functions.len()
        ));
        for (function, uri) in &found {
            ui.line(&format!("\t {function}: {uri}"));
        }
        if without.is_empty() {
            false
        } else {
            ui.line(MANAGED_NOTE);
            prompt.confirm(
                &format!(
                    "\t Create managed ECR repositories for the {} functions without?",
                    without.len()
                ),
                true,
            )?
        }
    };
    if !create {
        for f in &without {
            let uri = prompt.text(&format!("\t ECR repository for {}", f.full_path), None)?;
            if !template::is_ecr_url(&uri) {
                bail!("Invalid Image Repository ECR URI: {uri} (expected ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY)");
            }
            explicit.insert(f.full_path.clone(), uri);
        }
    }

    // Managed: functions without an explicit URI, or whose URI is the managed one.
    let managed_functions: Vec<&ImageFunction> = functions
        .iter()
        .filter(|f| {
            explicit
                .get(&f.full_path)
                .is_none_or(|uri| *uri == managed_uri(f))
        })
        .collect();
    explicit.retain(|function, uri| {
        functions
            .iter()
            .find(|f| f.full_path == *function)
            .is_none_or(|f| *uri != managed_uri(f))
    });
    let wanted: Vec<String> = managed_functions
        .iter()
        .map(|f| EcrRepo::for_function(&companion, &f.full_path).logical_id())
        .collect();
    let unreferenced: Vec<String> = deployed
        .iter()
        .filter(|r| !wanted.contains(&r.logical_id))
        .map(|r| crate::companion::repository_uri(&account, &ops.aws.region, &r.repository_name))
        .collect();
    if !unreferenced.is_empty() {
        ui.line(&format!(
            "\t Checking for unreferenced ECR repositories to clean-up: {} found",
            unreferenced.len()
        ));
        for uri in &unreferenced {
            ui.line(&format!("\t  {uri}"));
        }
        if !prompt.confirm(
            "\t Delete the unreferenced repositories listed above when deploying?",
            false,
        )? {
            ui.line("\t Deployment aborted!");
            ui.line("\t #The deployment was aborted to prevent unreferenced managed ECR repositories from being deleted.\n\t #You may remove repositories from the AWS SAM CLI managed stack to retain them and resolve this unreferenced check.");
            bail!("Unreferenced Auto Created ECR Repos Must Be Deleted. Nothing was changed: answer y to delete them, or move the images you need elsewhere first");
        }
    }
    Ok(Repos {
        managed: !managed_functions.is_empty() || !unreferenced.is_empty(),
        explicit,
    })
}
