//! Code signing of zip artifacts with AWS Signer, as `sam package` does it
//! (samcli/lib/package/code_signer.py): a function or layer named in `--signing-profiles` has its
//! uploaded zip signed by a signing job whose source is that object (bucket, key, version) and
//! whose destination is `<the key's folder>/signed_`; the template then points at the signed
//! object Signer wrote.
//!
//! The option's format is sam's: `Fn=ProfileName:ProfileOwner Layer=ProfileName`, values
//! optionally quoted.

use std::sync::OnceLock;

use aws_sdk_signer::types::{Destination, S3Destination, S3Source, Source};
use indexmap::IndexMap;
use regex::Regex;
use serde::Serialize;
use serde_json::Value;

use crate::aws::{AwsError, AwsResultExt};
use crate::cloudformation::poll::{self, Poller};

/// The signing profile of one function or layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SigningProfile {
    pub profile_name: String,
    /// The account owning the profile; empty for the caller's own (sam's `profile_owner`).
    pub profile_owner: String,
}

/// Signing profiles by function or layer logical id, in the order given.
pub type SigningProfiles = IndexMap<String, SigningProfile>;

/// sam's `SigningProfilesOptionType` pattern: ` Name=value` pairs, the value quoted or not.
fn pattern() -> &'static Regex {
    static PATTERN: OnceLock<Regex> = OnceLock::new();
    PATTERN.get_or_init(|| {
        Regex::new(r#"(?: )([A-Za-z0-9"]+)=("(?:\\.|[^"\\]+)*"|(?:\\.|[^ "\\]+)+)"#)
            .expect("the signing profiles pattern is valid")
    })
}

/// Parses `--signing-profiles` / `signing_profiles` items with sam's rules and messages (the
/// text after click's "Invalid value for '--signing-profiles': ").
pub fn parse_signing_profiles(items: &[String]) -> Result<SigningProfiles, String> {
    let mut profiles = SigningProfiles::new();
    for item in items.iter().filter(|i| !i.trim().is_empty()) {
        let text = format!(" {}", item.trim());
        let mut found = false;
        for captures in pattern().captures_iter(&text) {
            found = true;
            let value = crate::settings::values::unquote(&captures[2]);
            let (name, owner) = match value.split(':').collect::<Vec<_>>()[..] {
                [name] => (name.to_string(), String::new()),
                [name, owner] => (name.to_string(), owner.to_string()),
                _ => (String::new(), String::new()),
            };
            if name.is_empty() {
                return Err("Signer profile option has invalid format, it should look like this MyFunction=MySigningProfile or MyFunction=MySigningProfile:MySigningProfileOwner".into());
            }
            profiles.insert(
                crate::settings::values::unquote(&captures[1]),
                SigningProfile {
                    profile_name: name,
                    profile_owner: owner,
                },
            );
        }
        if !found {
            return Err(format!(
                "('{item}',) is not a valid code sign config, it should look like this 'MyFunction=SigningProfile'"
            ));
        }
    }
    Ok(profiles)
}

/// The samconfig value sam's guided deploy saves: `Fn="name:owner" Layer="name"`.
pub fn format_signing_profiles(profiles: &SigningProfiles) -> String {
    profiles
        .iter()
        .map(|(resource, profile)| {
            let value = if profile.profile_owner.is_empty() {
                profile.profile_name.clone()
            } else {
                format!("{}:{}", profile.profile_name, profile.profile_owner)
            };
            format!("{resource}=\"{}\"", value.replace('"', "\\\""))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where Signer writes the signed copy of `key`: `signed_` beside it. (sam takes everything up
/// to the last `/`, so a key without a folder would get `<key>/signed_`; samrs puts it beside
/// the key there too.)
pub fn signed_prefix(key: &str) -> String {
    match key.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/signed_"),
        None => "signed_".to_string(),
    }
}

/// The functions with a `CodeSigningConfigArn` (their own or from `Globals.Function`) and the
/// template's layers they use, each with the functions using it: what guided asks profiles for
/// (sam's `signer_config_per_function`).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct CodeSigned {
    pub functions: Vec<String>,
    pub layers: IndexMap<String, Vec<String>>,
}

pub fn code_signed_resources(template: &Value) -> CodeSigned {
    let globals = template.pointer("/Globals/Function");
    let global = |key: &str| globals.and_then(|g| g.get(key));
    let Some(resources) = template.get("Resources").and_then(Value::as_object) else {
        return CodeSigned::default();
    };
    let is_layer = |id: &str| {
        resources
            .get(id)
            .and_then(|r| r.get("Type"))
            .and_then(Value::as_str)
            .is_some_and(|t| {
                t == "AWS::Serverless::LayerVersion" || t == "AWS::Lambda::LayerVersion"
            })
    };
    let mut found = CodeSigned::default();
    for (id, resource) in resources {
        let serverless = match resource.get("Type").and_then(Value::as_str) {
            Some("AWS::Serverless::Function") => true,
            Some("AWS::Lambda::Function") => false,
            _ => continue,
        };
        let own = |key: &str| resource.pointer(&format!("/Properties/{key}"));
        let inherited = |key: &str| if serverless { global(key) } else { None };
        if own("CodeSigningConfigArn")
            .or(inherited("CodeSigningConfigArn"))
            .is_none()
        {
            continue;
        }
        found.functions.push(id.clone());
        let layers = inherited("Layers")
            .into_iter()
            .chain(own("Layers"))
            .filter_map(Value::as_array)
            .flatten();
        for layer in layers {
            let Some(layer) = layer
                .get("Ref")
                .and_then(Value::as_str)
                .filter(|l| is_layer(l))
            else {
                continue;
            };
            let users = found.layers.entry(layer.to_string()).or_default();
            if !users.contains(id) {
                users.push(id.clone());
            }
        }
    }
    found
}

/// Why an artifact could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(
        "Failed to sign package: signing job {job_id} for {resource} ended in {status}: {reason}"
    )]
    JobFailed {
        job_id: String,
        resource: String,
        status: String,
        reason: String,
    },
    #[error("Stopped waiting for signing job {job_id} for {resource} after {limit} (--max-wait-duration): AWS Signer goes on; follow it with `aws signer describe-signing-job --job-id {job_id}`")]
    TimedOut {
        job_id: String,
        resource: String,
        limit: String,
    },
}

/// One object to sign: where it is and which profile signs it.
#[derive(Debug, Clone, Copy)]
pub struct SigningRequest<'a> {
    /// The function or layer, for messages.
    pub resource: &'a str,
    pub profile: &'a SigningProfile,
    pub bucket: &'a str,
    pub key: &'a str,
    pub version: &'a str,
}

/// What a finished signing job produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub job_id: String,
    /// The key of the signed object, in the same bucket.
    pub key: String,
}

/// Starts a signing job for the object and waits for it (DescribeSigningJob) until it succeeded.
pub async fn sign(
    signer: &aws_sdk_signer::Client,
    request: SigningRequest<'_>,
    poller: &Poller,
) -> Result<Signed, SigningError> {
    let source = S3Source::builder()
        .bucket_name(request.bucket)
        .key(request.key)
        .version(request.version)
        .build()
        .map_err(|e| AwsError {
            operation: "Signer StartSigningJob".into(),
            code: "request".into(),
            message: e.to_string(),
        })?;
    let destination = S3Destination::builder()
        .bucket_name(request.bucket)
        .prefix(signed_prefix(request.key))
        .build();
    let started = signer
        .start_signing_job()
        .source(Source::builder().s3(source).build())
        .destination(Destination::builder().s3(destination).build())
        .profile_name(&request.profile.profile_name)
        .set_profile_owner(
            Some(request.profile.profile_owner.clone()).filter(|owner| !owner.is_empty()),
        )
        .send()
        .await
        .aws("Signer StartSigningJob")?;
    let job_id = started.job_id().unwrap_or_default().to_string();
    let mut poller = poller.restart();
    loop {
        if !poller.wait().await {
            return Err(SigningError::TimedOut {
                job_id,
                resource: request.resource.to_string(),
                limit: poller
                    .max_wait()
                    .map(poll::describe_limit)
                    .unwrap_or_default(),
            });
        }
        let job = signer
            .describe_signing_job()
            .job_id(&job_id)
            .send()
            .await
            .aws("Signer DescribeSigningJob")?;
        let status = job.status().map(|s| s.as_str()).unwrap_or_default();
        match status {
            "Succeeded" => {
                let key = job
                    .signed_object()
                    .and_then(|o| o.s3())
                    .and_then(|s3| s3.key())
                    .unwrap_or_default();
                if key.is_empty() {
                    return Err(SigningError::JobFailed {
                        job_id,
                        resource: request.resource.to_string(),
                        status: status.to_string(),
                        reason: "it names no signed object".into(),
                    });
                }
                return Ok(Signed {
                    key: key.to_string(),
                    job_id,
                });
            }
            "InProgress" | "" => continue,
            other => {
                return Err(SigningError::JobFailed {
                    reason: job.status_reason().unwrap_or("no reason given").to_string(),
                    job_id,
                    resource: request.resource.to_string(),
                    status: other.to_string(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn profile(name: &str, owner: &str) -> SigningProfile {
        SigningProfile {
            profile_name: name.into(),
            profile_owner: owner.into(),
        }
    }

    #[test]
    fn sams_forms_parse() {
        let got = parse_signing_profiles(&strings(&[
            r#"HelloFunction="MyProfile:123456789012" MyLayer=LayerProfile"#,
            "Other=Plain",
        ]))
        .unwrap();
        assert_eq!(got["HelloFunction"], profile("MyProfile", "123456789012"));
        assert_eq!(got["MyLayer"], profile("LayerProfile", ""));
        assert_eq!(got["Other"], profile("Plain", ""));
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            ["HelloFunction", "MyLayer", "Other"]
        );
        assert!(parse_signing_profiles(&strings(&[""])).unwrap().is_empty());
    }

    #[test]
    fn malformed_profiles_get_sams_messages() {
        assert_eq!(
            parse_signing_profiles(&strings(&["nothing"])).unwrap_err(),
            "('nothing',) is not a valid code sign config, it should look like this 'MyFunction=SigningProfile'"
        );
        assert!(parse_signing_profiles(&strings(&["Fn=a:b:c"]))
            .unwrap_err()
            .starts_with("Signer profile option has invalid format"));
        assert!(parse_signing_profiles(&strings(&["Fn=:owner"]))
            .unwrap_err()
            .starts_with("Signer profile option has invalid format"));
    }

    #[test]
    fn saved_form_reads_back() {
        let mut profiles = SigningProfiles::new();
        profiles.insert("Fn".into(), profile("P", "123456789012"));
        profiles.insert("Layer".into(), profile("L", ""));
        let text = format_signing_profiles(&profiles);
        assert_eq!(text, r#"Fn="P:123456789012" Layer="L""#);
        assert_eq!(parse_signing_profiles(&[text]).unwrap(), profiles);
    }

    #[test]
    fn functions_with_a_signing_config_and_their_template_layers() {
        let template = serde_json::json!({
            "Globals": {"Function": {"Layers": [{"Ref": "Shared"}]}},
            "Resources": {
                "Signed": {"Type": "AWS::Serverless::Function", "Properties": {
                    "CodeSigningConfigArn": "arn:csc", "Layers": [{"Ref": "Own"}, "arn:aws:lambda:us-east-1:1:layer:x:1"]}},
                "Unsigned": {"Type": "AWS::Serverless::Function", "Properties": {"Layers": [{"Ref": "Own"}]}},
                "Plain": {"Type": "AWS::Lambda::Function", "Properties": {"CodeSigningConfigArn": {"Ref": "Csc"}}},
                "Shared": {"Type": "AWS::Serverless::LayerVersion"},
                "Own": {"Type": "AWS::Lambda::LayerVersion"}
            }
        });
        let found = code_signed_resources(&template);
        assert_eq!(found.functions, ["Signed", "Plain"]);
        assert_eq!(
            found.layers.into_iter().collect::<Vec<_>>(),
            [
                ("Shared".to_string(), vec!["Signed".to_string()]),
                ("Own".to_string(), vec!["Signed".to_string()])
            ]
        );
        let global = serde_json::json!({
            "Globals": {"Function": {"CodeSigningConfigArn": "arn:csc"}},
            "Resources": {"A": {"Type": "AWS::Serverless::Function"}, "B": {"Type": "AWS::Lambda::Function"}}
        });
        assert_eq!(code_signed_resources(&global).functions, ["A"]);
    }

    #[test]
    fn signed_copies_go_beside_the_key() {
        assert_eq!(signed_prefix("app/dev/abc.zip"), "app/dev/signed_");
        assert_eq!(signed_prefix("abc.zip"), "signed_");
    }
}
