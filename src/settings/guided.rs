//! The settings side of `samrs deploy --guided`: what the conversation starts from (the flags
//! and samconfig as defaults, the config file found and where answers are saved), and what its
//! answers become: the settings the deploy runs with, and sam's samconfig entries.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use super::{
    config_dir, format_signing_profiles, resolve, DeploySettings, Environment, SigningProfiles,
};
use crate::cli::DeployArgs;
use crate::config::{self, ConfigValue};

/// What a guided deploy starts from.
pub struct GuidedStart {
    /// The flags and samconfig, as the questions' defaults (a bad samconfig is reported after
    /// the lines about the config file, as sam does).
    pub defaults: anyhow::Result<DeploySettings>,
    /// The directory samconfig is looked for in, and answers saved to.
    pub config_dir: PathBuf,
    /// The samconfig file found, if any.
    pub config_file: Option<PathBuf>,
    /// Whether the file found could be read.
    pub readable: Option<bool>,
    /// The file answers are saved to by default: the one named, else the project's own
    /// (samconfig.yaml when that is what the project has), else a new samconfig.toml.
    pub config_name: PathBuf,
    /// The samconfig environment answers are saved under by default.
    pub config_env: String,
    /// The region of the environment (`AWS_REGION`, `AWS_DEFAULT_REGION`).
    pub environment_region: Option<String>,
}

impl GuidedStart {
    pub fn new(args: &DeployArgs, cwd: &Path) -> GuidedStart {
        let config_dir = config_dir(args, cwd);
        let explicit = args.config.config_file.as_deref();
        let config_file = config::find_config_file(&config_dir, explicit);
        let config_name = explicit
            .map(Path::to_path_buf)
            .or_else(|| {
                config_file
                    .as_deref()
                    .and_then(Path::file_name)
                    .map(PathBuf::from)
            })
            .unwrap_or_else(|| PathBuf::from("samconfig.toml"));
        let readable = config_file
            .as_deref()
            .map(|path| config::load(path).is_ok());
        GuidedStart {
            defaults: resolve(args, cwd),
            config_env: args
                .config
                .config_env
                .clone()
                .unwrap_or_else(|| "default".into()),
            config_dir,
            config_file,
            readable,
            config_name,
            environment_region: Environment::from_process().region,
        }
    }
}

/// What a guided deploy was told.
#[derive(Debug, Clone)]
pub struct Answers {
    pub stack_name: String,
    pub region: String,
    /// Every parameter of the template, with its value.
    pub parameter_overrides: Vec<(String, String)>,
    /// The NoEcho parameters: never saved.
    pub hidden: Vec<String>,
    pub confirm_changeset: bool,
    pub capabilities: Vec<String>,
    pub disable_rollback: bool,
    /// None: nothing to sign, or "no" to signing.
    pub signing_profiles: Option<SigningProfiles>,
    /// The managed bucket, resolved during the conversation (as sam does).
    pub bucket: String,
    /// Managed repositories are used.
    pub managed_repositories: bool,
    /// The functions with repositories of their own.
    pub image_repositories: IndexMap<String, String>,
    /// The samconfig file and environment to save to, when asked.
    pub save_to: Option<(PathBuf, String)>,
}

impl Answers {
    /// The settings the deploy runs with: the answers over the defaults.
    pub fn settings(&self, defaults: &DeploySettings) -> DeploySettings {
        DeploySettings {
            stack_name: self.stack_name.clone(),
            region: Some(self.region.clone()),
            // The bucket is resolved now (as sam does); the saved config says resolve_s3 = true.
            s3_bucket: Some(self.bucket.clone()),
            s3_prefix: Some(self.stack_name.clone()),
            resolve_s3: false,
            image_repository: None,
            image_repositories: self.image_repositories.clone(),
            resolve_image_repos: self.managed_repositories,
            parameter_overrides: self.parameter_overrides.clone(),
            capabilities: self.capabilities.clone(),
            confirm_changeset: self.confirm_changeset,
            disable_rollback: self.disable_rollback,
            signing_profiles: self.signing_profiles.clone().unwrap_or_default(),
            config_file: self.save_to.as_ref().map(|(path, _)| path.clone()),
            ..defaults.clone()
        }
    }

    /// sam's `save_config`, when asked: keys in sam's order, falsy values left out; managed
    /// repositories as `resolve_image_repos = true` (portable across accounts and regions),
    /// explicit ones as `image_repositories`. NoEcho parameters are never written.
    pub fn save(&self, settings: &DeploySettings) -> anyhow::Result<bool> {
        let Some((path, env)) = &self.save_to else {
            return Ok(false);
        };
        let s = settings;
        let mut values: Vec<(&str, ConfigValue)> = vec![
            ("stack_name", ConfigValue::String(s.stack_name.clone())),
            ("resolve_s3", ConfigValue::Bool(true)),
            ("s3_prefix", ConfigValue::String(s.stack_name.clone())),
        ];
        if s.resolve_image_repos {
            values.push(("resolve_image_repos", ConfigValue::Bool(true)));
        }
        if let Some(region) = &s.region {
            values.push(("region", ConfigValue::String(region.clone())));
        }
        if let Some(profile) = &s.profile {
            values.push(("profile", ConfigValue::String(profile.clone())));
        }
        if s.confirm_changeset {
            values.push(("confirm_changeset", ConfigValue::Bool(true)));
        }
        if !s.capabilities.is_empty() {
            values.push((
                "capabilities",
                ConfigValue::String(s.capabilities.join(" ")),
            ));
        }
        if s.disable_rollback {
            values.push(("disable_rollback", ConfigValue::Bool(true)));
        }
        let visible: Vec<(String, String)> = self
            .parameter_overrides
            .iter()
            .filter(|(k, _)| !self.hidden.contains(k))
            .cloned()
            .collect();
        if !visible.is_empty() {
            values.push((
                "parameter_overrides",
                ConfigValue::String(config::format_parameter_overrides(&visible)),
            ));
        }
        if !s.image_repositories.is_empty() {
            values.push((
                "image_repositories",
                ConfigValue::List(
                    s.image_repositories
                        .iter()
                        .map(|(f, u)| format!("{f}={u}"))
                        .collect(),
                ),
            ));
        }
        if !s.signing_profiles.is_empty() {
            values.push((
                "signing_profiles",
                ConfigValue::String(format_signing_profiles(&s.signing_profiles)),
            ));
        }
        config::save_deploy_parameters(path, env, &values)?;
        Ok(true)
    }
}
