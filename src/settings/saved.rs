//! The settings a saved plan carries for `samrs apply` ([`SavedSettings`], taken from the deploy
//! that made the plan), and the apply's own settings resolved over them ([`resolve_apply`]): the
//! plan decides everything but where and as whom AWS is called, how long to wait and how the
//! output looks. Parameter values are not saved: the change set holds them, and they can be
//! secrets.

use std::path::{Path, PathBuf};
use std::time::Duration;

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use super::{
    environment_line, expanded_arguments, max_wait, DeploySettings, Environment, OnFailure,
    OutputFormat, Refused, SigningProfiles,
};
use crate::cli::ApplyArgs;
use crate::companion::RepoSettings;

/// What of a deploy's settings its plan's apply uses.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSettings {
    pub stack_name: String,
    /// Where the companion stack's template goes when it is too big to send inline.
    pub s3_prefix: Option<String>,
    pub kms_key_id: Option<String>,
    pub metadata: Vec<(String, String)>,
    /// The companion stack's tags, role and notifications (the main stack's are in the change set).
    pub tags: Vec<(String, String)>,
    pub role_arn: Option<String>,
    pub notification_arns: Vec<String>,
    /// For the companion stack's plan, made again when the stack must be recreated.
    pub image_repository: Option<String>,
    pub image_repositories: IndexMap<String, String>,
    pub resolve_image_repos: bool,
    pub repo_settings: RepoSettings,
    pub disable_rollback: bool,
    pub on_failure: OnFailure,
    pub express: bool,
    pub max_wait_seconds: u64,
    /// `--wait-for-cleanup`: the apply waits for the companion clean-up too.
    #[serde(default)]
    pub wait_for_cleanup: bool,
}

impl SavedSettings {
    pub fn of(settings: &DeploySettings) -> SavedSettings {
        SavedSettings {
            stack_name: settings.stack_name.clone(),
            s3_prefix: settings.s3_prefix.clone(),
            kms_key_id: settings.kms_key_id.clone(),
            metadata: settings.metadata.clone(),
            tags: settings.tags.clone(),
            role_arn: settings.role_arn.clone(),
            notification_arns: settings.notification_arns.clone(),
            image_repository: settings.image_repository.clone(),
            image_repositories: settings.image_repositories.clone(),
            resolve_image_repos: settings.resolve_image_repos,
            repo_settings: settings.repo_settings.clone(),
            disable_rollback: settings.disable_rollback,
            on_failure: settings.on_failure,
            express: settings.express,
            max_wait_seconds: settings.max_wait.as_secs(),
            wait_for_cleanup: settings.wait_for_cleanup,
        }
    }
}

/// `samrs apply`'s settings: the plan's, with the region (which must be the plan's), the
/// profile, the wait limit and the output from the command line and the environment.
pub fn resolve_apply(
    args: &ApplyArgs,
    saved: &SavedSettings,
    plan_region: &str,
    env: Environment,
) -> anyhow::Result<DeploySettings> {
    if let Some(region) = args.region.as_deref().filter(|r| *r != plan_region) {
        return Err(Refused(format!(
            "The plan was made for region {plan_region}, not {region}: apply it with --region {plan_region}"
        ))
        .into());
    }
    let max_wait = if args.max_wait_duration.is_none() && env.max_wait_seconds.is_none() {
        Duration::from_secs(saved.max_wait_seconds)
    } else {
        max_wait(args.max_wait_duration, &IndexMap::new(), &env)?
    };
    Ok(DeploySettings {
        template_file: PathBuf::new(),
        stack_name: saved.stack_name.clone(),
        region: Some(plan_region.to_string()),
        profile: args.profile.clone(),
        s3_bucket: None,
        s3_prefix: saved.s3_prefix.clone(),
        resolve_s3: false,
        image_repository: saved.image_repository.clone(),
        image_repositories: saved.image_repositories.clone(),
        resolve_image_repos: saved.resolve_image_repos,
        repo_settings: saved.repo_settings.clone(),
        kms_key_id: saved.kms_key_id.clone(),
        role_arn: saved.role_arn.clone(),
        notification_arns: saved.notification_arns.clone(),
        tags: saved.tags.clone(),
        parameter_overrides: Vec::new(),
        capabilities: Vec::new(),
        no_execute_changeset: false,
        fail_on_empty_changeset: false,
        confirm_changeset: false,
        disable_rollback: saved.disable_rollback,
        force_upload: false,
        on_failure: saved.on_failure,
        max_wait,
        express: saved.express,
        signing_profiles: SigningProfiles::default(),
        dry_run: false,
        wait_for_cleanup: saved.wait_for_cleanup,
        plan_out: None,
        output: args.output.map(OutputFormat::from).unwrap_or_default(),
        config_file: None,
        metadata: saved.metadata.clone(),
        use_json: false,
        no_progressbar: args.no_progressbar,
        debug: args.debug || env.debug,
        save_params: false,
        language_extensions: false,
        warnings: Vec::new(),
        environment: env,
    })
}

/// What `--debug` says about an apply's settings: the plan file, the environment variables that
/// count, and the settings in force (the plan's saved ones hold no parameter values).
pub fn apply_debug_lines(file: &Path, settings: &DeploySettings) -> Vec<String> {
    let mut lines = vec![format!("Applying the plan file {}", file.display())];
    lines.extend(environment_line(&settings.environment));
    lines.push("Settings in force:".to_string());
    lines.push(expanded_arguments(
        &serde_json::to_value(settings).unwrap_or_default(),
    ));
    lines
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A deploy's saved settings, for tests of the plans that carry them.
    pub(crate) fn saved() -> SavedSettings {
        SavedSettings {
            stack_name: "app".into(),
            s3_prefix: Some("app".into()),
            kms_key_id: None,
            metadata: Vec::new(),
            tags: vec![("team".into(), "core".into())],
            role_arn: None,
            notification_arns: Vec::new(),
            image_repository: None,
            image_repositories: IndexMap::new(),
            resolve_image_repos: true,
            repo_settings: RepoSettings::default(),
            disable_rollback: false,
            on_failure: OnFailure::Rollback,
            express: false,
            max_wait_seconds: 600,
            wait_for_cleanup: false,
        }
    }

    fn args(region: Option<&str>, minutes: Option<i64>) -> ApplyArgs {
        ApplyArgs {
            region: region.map(str::to_string),
            max_wait_duration: minutes,
            ..ApplyArgs::default()
        }
    }

    #[test]
    fn the_plans_settings_apply_and_its_region_cannot_change() {
        let env = Environment::default();
        let settings =
            resolve_apply(&args(None, None), &saved(), "eu-west-1", env.clone()).unwrap();
        assert_eq!(settings.region.as_deref(), Some("eu-west-1"));
        assert_eq!(settings.tags, saved().tags);
        assert_eq!(settings.max_wait, Duration::from_secs(600));
        assert!(settings.resolve_image_repos && !settings.confirm_changeset);
        let same = resolve_apply(
            &args(Some("eu-west-1"), Some(2)),
            &saved(),
            "eu-west-1",
            env.clone(),
        );
        assert_eq!(same.unwrap().max_wait, Duration::from_secs(120));
        let other = resolve_apply(&args(Some("us-east-1"), None), &saved(), "eu-west-1", env);
        assert_eq!(
            other.unwrap_err().to_string(),
            "The plan was made for region eu-west-1, not us-east-1: apply it with --region eu-west-1"
        );
    }

    #[test]
    fn a_deploys_settings_are_saved_without_its_parameters() {
        let json = serde_json::to_value(saved()).unwrap();
        assert!(json.get("parameter_overrides").is_none());
        let back: SavedSettings = serde_json::from_value(json).unwrap();
        assert_eq!(back, saved());
    }
}
