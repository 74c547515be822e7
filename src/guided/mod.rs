//! `samrs deploy --guided`: the SAM CLI's conversation, in its order and words, ending in
//! resolved [`DeploySettings`] and (when asked) a saved samconfig file (TOML or YAML).
//!
//! Nothing is written and nothing is created in AWS until every question is answered, except
//! the managed bucket stack, which sam also creates mid-conversation. An interrupted or refused
//! conversation leaves the config file as it was.

pub mod auth;
mod images;

use anyhow::bail;

use crate::events::{Event, Reporter};
use crate::output::{Tone, Ui};
use crate::prompt::Prompter;
use crate::settings::{self, Answers, DeploySettings, GuidedStart, Refused};
use crate::stackops::StackOps;
use crate::{aws, managed_bucket, template};

/// Runs the conversation and returns the settings the deploy runs with.
pub async fn run(start: GuidedStart, ui: &Ui) -> anyhow::Result<DeploySettings> {
    if !ui.can_prompt() {
        // sam asks anyway, reads the end of its input and aborts: exit 1.
        return Err(Refused("--guided needs a terminal to ask its questions: in CI run `samrs deploy` with --stack-name, --resolve-s3 (or --s3-bucket), --capabilities and --resolve-image-repos, or commit a samconfig.toml".into()).into());
    }
    let prompt = Prompter::new(ui.colour_enabled());
    let GuidedStart {
        defaults,
        config_dir,
        config_file,
        readable,
        config_name,
        config_env: env,
        environment_region,
    } = start;
    // Defaults: flags, then samconfig, then sam's own. As in sam, the samconfig warnings and
    // the --debug log come before the conversation.
    if let Ok(defaults) = &defaults {
        crate::announce(
            ui,
            defaults.debug,
            &defaults.warnings,
            &settings::debug_lines(defaults),
        );
    }

    ui.say(
        "\nConfiguring SAM deploy\n======================",
        Tone::Warn,
    );
    ui.line(&format!(
        "\n\tLooking for config file [{}] :  {}",
        config_name.display(),
        if config_file.is_some() {
            "Found"
        } else {
            "Not found"
        }
    ));
    if let Some(readable) = readable {
        ui.line(&format!(
            "\tReading default arguments  :  {}",
            if readable { "Success" } else { "Failure" }
        ));
    }
    let defaults = defaults?;

    ui.say("\n\tSetting default arguments for 'sam deploy'\n\t=========================================", Tone::Warn);
    let stack_name = loop {
        let answer = prompt.text(
            "\tStack Name",
            Some(
                Some(defaults.stack_name.as_str())
                    .filter(|s| !s.is_empty())
                    .unwrap_or("sam-app"),
            ),
        )?;
        match settings::check_stack_name(&answer) {
            Ok(()) => break answer,
            Err(e) => ui.line(&format!("\t{e}")),
        }
    };
    let region_default = defaults
        .region
        .clone()
        .or(environment_region)
        .unwrap_or_else(|| "us-east-1".into());
    let region = prompt.text("\tAWS Region", Some(&region_default))?;

    let tpl = template::load(&defaults.template_file)?;
    let mut overrides: Vec<(String, String)> = Vec::new();
    let mut hidden: Vec<String> = Vec::new();
    for (name, info) in template::parameter_names(&tpl.value) {
        let label = format!("\tParameter {name}");
        let value = if info.no_echo {
            hidden.push(name.clone());
            prompt.secret(&label)?
        } else {
            let current = defaults
                .parameter_overrides
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
                .or(info.default)
                .unwrap_or_default();
            prompt.text(&label, Some(&current))?
        };
        overrides.push((name, value));
    }

    ui.line("\t#Shows you resources changes to be deployed and require a 'Y' to initiate deploy");
    let confirm_changeset = prompt.confirm(
        "\tConfirm changes before deploy",
        defaults.confirm_changeset,
    )?;
    ui.line("\t#SAM needs permission to be able to create roles to connect to the resources in your template");
    let capabilities = if prompt.confirm("\tAllow SAM CLI IAM role creation", true)? {
        if defaults.capabilities.is_empty() {
            vec!["CAPABILITY_IAM".to_string()]
        } else {
            defaults.capabilities.clone()
        }
    } else {
        let current = if defaults.capabilities.is_empty() {
            "CAPABILITY_IAM".to_string()
        } else {
            defaults.capabilities.join(" ")
        };
        settings::values::split_list(&[prompt.text("\tCapabilities", Some(&current))?])
    };
    ui.line("\t#Preserves the state of previously provisioned resources when an operation fails");
    let disable_rollback = prompt.confirm("\tDisable rollback", defaults.disable_rollback)?;
    for (resource, authorized) in auth::auth_per_resource(&tpl.value) {
        if !authorized
            && !prompt.confirm(
                &format!("\t{resource} has no authentication. Is this okay?"),
                false,
            )?
        {
            bail!("Security Constraints Not Satisfied! Add authorization to {resource}, or answer y to deploy it without");
        }
    }
    let signing_profiles = code_signing(&prompt, ui, &tpl.value, &defaults.signing_profiles)?;
    let save = prompt.confirm("\tSave arguments to configuration file", true)?;
    let save_target = if save {
        let file = prompt.text(
            "\tSAM configuration file",
            Some(&config_name.to_string_lossy()),
        )?;
        let env = prompt.text("\tSAM configuration environment", Some(&env))?;
        Some((config_dir.join(file), env))
    } else {
        None
    };

    ui.line("\n\tLooking for resources needed for deployment:");
    let aws = aws::connect(
        Some(&region),
        defaults.profile.as_deref(),
        &defaults.environment,
    )
    .await?;
    let poller =
        crate::cloudformation::poll::Poller::for_run(&defaults.environment, defaults.max_wait);
    let ops = StackOps {
        aws: &aws,
        poller: &poller,
        report: ui,
    };
    let bucket = managed_bucket::ensure(&ops, defaults.dry_run).await?;
    ui.event(Event::ManagedBucket(bucket.clone()));

    // With --language-extensions, the functions of Fn::ForEach loops are asked about too.
    let functions =
        match tpl.expand_language_extensions(defaults.language_extensions, &overrides, &region)? {
            Some(expansion) => template::image_functions(&template::Template {
                value: expansion.expanded,
                ..tpl.clone()
            })?,
            None => template::image_functions(&tpl)?,
        };
    let repos = images::choose(&prompt, ui, &ops, &stack_name, &functions, &defaults).await?;

    let answers = Answers {
        stack_name,
        region,
        parameter_overrides: overrides,
        hidden,
        confirm_changeset,
        capabilities,
        disable_rollback,
        signing_profiles,
        bucket,
        managed_repositories: repos.managed,
        image_repositories: repos.explicit,
        save_to: save_target,
    };
    let settings = answers.settings(&defaults);
    if answers.save(&settings)? {
        ui.line("\n\tSaved arguments to config file");
        ui.line(
            "\tRunning 'sam deploy' for future deployments will use the parameters saved above.",
        );
        ui.line("\tThe above parameters can be changed by modifying samconfig.toml");
        ui.line("\tLearn more about samconfig.toml syntax at \n\thttps://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-sam-cli-config.html\n");
    }
    Ok(settings)
}

/// sam's `prompt_code_signing_settings`: when functions have a `CodeSigningConfigArn`, whether to
/// sign, then a profile name and owner for each of them and for each of their layers (the
/// current ones as defaults). None when there is nothing to sign or the answer is no.
fn code_signing(
    prompt: &Prompter,
    ui: &Ui,
    template: &serde_json::Value,
    current: &settings::SigningProfiles,
) -> anyhow::Result<Option<settings::SigningProfiles>> {
    let found = template::code_signed_resources(template);
    if found.functions.is_empty() && found.layers.is_empty() {
        return Ok(None);
    }
    ui.line("\n\t#Found code signing configurations in your function definitions");
    if !prompt.confirm("\tDo you want to sign your code?", true)? {
        return Ok(None);
    }
    ui.line("\t#Please provide signing profile details for the following functions & layers");
    let mut profiles = current.clone();
    let ask = |resource: &str| -> anyhow::Result<settings::SigningProfile> {
        let existing = current.get(resource);
        let name = loop {
            let answer = prompt.text(
                "\tSigning Profile Name",
                existing.map(|p| p.profile_name.as_str()),
            )?;
            if !answer.trim().is_empty() {
                break answer;
            }
        };
        let owner_default = existing
            .map(|p| p.profile_owner.as_str())
            .filter(|o| !o.is_empty());
        let owner = prompt.text(
            "\tSigning Profile Owner Account ID (optional)",
            owner_default,
        )?;
        Ok(settings::SigningProfile {
            profile_name: name,
            profile_owner: owner,
        })
    };
    for function in &found.functions {
        ui.line(&format!(
            "\t#Signing profile details for function '{function}'"
        ));
        profiles.insert(function.clone(), ask(function)?);
    }
    for (layer, users) in &found.layers {
        let users: Vec<String> = users.iter().map(|u| format!("'{u}'")).collect();
        ui.line(&format!(
            "\t#Signing profile details for layer '{layer}', which is used by functions {{{}}}",
            users.join(", ")
        ));
        profiles.insert(layer.clone(), ask(layer)?);
    }
    Ok(Some(profiles))
}
