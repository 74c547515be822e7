//! The checks of a deploy's inputs that need the template (sam's rules, with its messages), and
//! the parameters a change set gets.

use crate::settings::{DeploySettings, UsageError};
use crate::stack_state::{ParameterValue, StackInfo};
use crate::template::{self, ImageFunction, Template};

/// An image function without `ImageUri` has no image to deploy: the template was not built.
pub fn check_image_uris(template: &Template) -> Result<(), template::TemplateError> {
    let missing = template::image_functions_without_uri(&template.value);
    if missing.is_empty() {
        return Ok(());
    }
    Err(template::TemplateError::Invalid {
        origin: template.path.display().to_string(),
        message: format!(
            "image function{} {} {} no ImageUri: run `sam build` first (it sets ImageUri), or set ImageUri to an image",
            if missing.len() == 1 { "" } else { "s" },
            missing.join(", "),
            if missing.len() == 1 { "has" } else { "have" }
        ),
    })
}

/// Overrides that name no parameter of the template: sam drops them silently, which hides a
/// typo; samrs drops them too (a shared samconfig may serve several templates) but says so.
pub fn unknown_overrides<'a>(template: &Template, settings: &'a DeploySettings) -> Vec<&'a str> {
    let names = template::parameter_names(&template.value);
    settings
        .parameter_overrides
        .iter()
        .map(|(key, _)| key.as_str())
        .filter(|key| !names.iter().any(|(name, _)| name == key))
        .collect()
}

/// sam's image-repository rules that need the template (§4.6 rules 2 and 3), for the functions
/// whose image has to be pushed (its ImageUri is not already in ECR).
pub fn check_image_options(
    settings: &DeploySettings,
    functions: &[ImageFunction],
) -> Result<(), UsageError> {
    let needing_repo: Vec<&ImageFunction> = functions
        .iter()
        .filter(|f| !f.image_uri.as_deref().is_some_and(template::is_ecr_url))
        .collect();
    if needing_repo.is_empty()
        || settings.image_repository.is_some()
        || settings.resolve_image_repos
    {
        return Ok(());
    }
    if settings.image_repositories.is_empty() {
        let names: Vec<&str> = needing_repo.iter().map(|f| f.full_path.as_str()).collect();
        let (noun, verb) = if names.len() == 1 {
            (
                "function",
                "needs an ECR repository (--resolve-image-repos creates one)",
            )
        } else {
            (
                "functions",
                "need ECR repositories (--resolve-image-repos creates them)",
            )
        };
        return Err(UsageError(format!(
            "Missing option '--image-repositories', '--image-repository', '--resolve-image-repos': image {noun} {} {verb}",
            names.join(", ")
        )));
    }
    let paths: Vec<&str> = functions.iter().map(|f| f.full_path.as_str()).collect();
    let uncovered: Vec<&str> = needing_repo
        .iter()
        .filter(|f| {
            template::repository_entry(&settings.image_repositories, &paths, &f.full_path).is_none()
        })
        .map(|f| f.full_path.as_str())
        .collect();
    if uncovered.is_empty() {
        return Ok(());
    }
    Err(UsageError(format!(
        "Incomplete list of function logical ids specified for '--image-repositories' (missing: {}). You can also add --resolve-image-repos to automatically create missing repositories.",
        uncovered.join(", ")
    )))
}

/// sam's `merge_parameters`: overrides for the template's parameters; on updates the others keep
/// the stack's previous values, when the stack has them.
pub fn parameter_values(
    template: &Template,
    settings: &DeploySettings,
    existing: Option<&StackInfo>,
) -> Vec<ParameterValue> {
    template::parameter_names(&template.value)
        .into_iter()
        .filter_map(|(name, _)| {
            if let Some((_, value)) = settings
                .parameter_overrides
                .iter()
                .find(|(k, _)| *k == name)
            {
                Some(ParameterValue::Value(name, value.clone()))
            } else if existing.is_some_and(|s| s.parameters.iter().any(|(k, _)| *k == name)) {
                Some(ParameterValue::UsePrevious(name))
            } else {
                None
            }
        })
        .collect()
}
