//! The companion stack's template, as text.
//!
//! Two renderers: [`render_sam_compatible`] reproduces byte for byte what SAM CLI deploys (so
//! tests can stand up a stack "made by sam"), and [`render`] is samrs's own template: the same
//! logical ids, repository names and tags, so a sam-made stack updates in place, plus a scoped
//! pull policy, `EmptyOnDelete` and optional repository settings. Both are deterministic, so a
//! deploy can compare the text with the deployed template and skip no-op updates.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::naming::{CompanionStack, EcrRepo};

const DESCRIPTION: &str = "AWS SAM CLI Managed ECR Repo Stack";
const PULL_ACTIONS: [&str; 3] = [
    "ecr:GetDownloadUrlForLayer",
    "ecr:GetRepositoryPolicy",
    "ecr:BatchGetImage",
];

/// One repository resource of a companion template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepoEntry<'a> {
    pub logical_id: &'a str,
    pub repository_name: &'a str,
}

/// Optional repository settings samrs adds to every managed repository; all off by default,
/// which gives sam's repositories plus `EmptyOnDelete` and the scoped policy.
///
/// Changing `kms_key` on an existing repository makes CloudFormation replace it, which fails for
/// a named repository: set it before the repositories are first created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepoSettings {
    /// Expire all but the newest N images (keep enough for the versions you may roll back to).
    pub keep_last_images: Option<u32>,
    /// Expire untagged images N days after their push.
    pub expire_untagged_days: Option<u32>,
    /// Scan each image when it is pushed.
    pub scan_on_push: bool,
    /// Tags cannot be moved to another image once pushed.
    pub immutable_tags: bool,
    /// Encrypt with this KMS key (id, alias or ARN) instead of ECR's default AES256.
    pub kms_key: Option<String>,
}

/// A repository setting that ECR would refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RepoSettingsError {
    #[error("{0} must be at least 1: set it to 1 or more, or remove it to keep every image")]
    ZeroCount(&'static str),
    #[error("--image-repos-kms-key is empty: give a KMS key id, alias or ARN, or remove it to use AES256")]
    EmptyKmsKey,
}

impl RepoSettings {
    /// Checks the values ECR would reject, so the error comes before any stack change.
    pub fn validate(&self) -> Result<(), RepoSettingsError> {
        if self.keep_last_images == Some(0) {
            return Err(RepoSettingsError::ZeroCount("--image-repos-keep-last"));
        }
        if self.expire_untagged_days == Some(0) {
            return Err(RepoSettingsError::ZeroCount(
                "--image-repos-expire-untagged-days",
            ));
        }
        if self
            .kms_key
            .as_deref()
            .is_some_and(|key| key.trim().is_empty())
        {
            return Err(RepoSettingsError::EmptyKmsKey);
        }
        Ok(())
    }
}

/// The template SAM CLI renders for `repos`, byte for byte (its Metadata key really is `"key"`,
/// and its outputs really are literal `"!Sub …"` strings).
pub fn render_sam_compatible(
    companion: &CompanionStack,
    repos: &[EcrRepo],
    sam_cli_version: &str,
) -> String {
    let mut resources = Map::new();
    let mut outputs = Map::new();
    for repo in repos {
        let logical_id = repo.logical_id();
        let properties = json!({
            "RepositoryName": repo.repository_name(),
            "Tags": sam_tags(companion),
            "RepositoryPolicyText": pull_policy(None),
        });
        let value = format!("!Sub ${{AWS::AccountId}}.dkr.ecr.${{AWS::Region}}.${{AWS::URLSuffix}}/${{{logical_id}}}");
        outputs.insert(repo.output_logical_id(), json!({ "Value": value }));
        resources.insert(logical_id, repository_resource(properties));
    }
    python_json(&json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Metadata": { "SamCliInfo": sam_cli_version, "key": companion.name() },
        "Resources": resources,
        "Outputs": outputs,
        "Description": DESCRIPTION,
    }))
}

/// samrs's companion template: per repository sam's name and two tags, then the user's `tags`
/// (keys sam uses are skipped), a pull policy for Lambda in this account and region only,
/// `EmptyOnDelete`, and `settings`. No Transform and no Outputs.
pub fn render(
    companion: &CompanionStack,
    repos: &[RepoEntry],
    settings: &RepoSettings,
    tags: &[(String, String)],
    account: &str,
    region: &str,
    version: &str,
) -> String {
    let source_arn = format!(
        "arn:{}:lambda:{region}:{account}:function:*",
        partition(region)
    );
    let resources: Map<String, Value> = repos
        .iter()
        .map(|repo| {
            let mut properties = json!({
                "RepositoryName": repo.repository_name,
                "Tags": all_tags(companion, tags),
                "RepositoryPolicyText": pull_policy(Some(&source_arn)),
                "EmptyOnDelete": true,
            });
            if let Value::Object(map) = &mut properties {
                map.extend(optional_properties(settings));
            }
            (repo.logical_id.to_string(), repository_resource(properties))
        })
        .collect();
    python_json(&json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Metadata": {
            "SamCliInfo": version,
            "CompanionStackname": companion.name(),
            "GeneratedBy": "samrs",
        },
        "Resources": resources,
        "Description": DESCRIPTION,
    }))
}

fn repository_resource(properties: Value) -> Value {
    json!({ "Type": "AWS::ECR::Repository", "Properties": properties })
}

fn sam_tags(companion: &CompanionStack) -> Value {
    json!([
        { "Key": "ManagedStackSource", "Value": "AwsSamCli" },
        { "Key": "AwsSamCliCompanionStack", "Value": companion.name() },
    ])
}

fn all_tags(companion: &CompanionStack, tags: &[(String, String)]) -> Value {
    let mut all = sam_tags(companion);
    if let Value::Array(list) = &mut all {
        // ECR rejects duplicate keys; sam's two must keep their values for sam to recognise the repo.
        let user = tags
            .iter()
            .filter(|(key, _)| key != "ManagedStackSource" && key != "AwsSamCliCompanionStack")
            .map(|(key, value)| json!({ "Key": key, "Value": value }));
        list.extend(user);
    }
    all
}

/// sam's `AllowLambdaSLR` statement, optionally limited to Lambda functions matching `source_arn`.
fn pull_policy(source_arn: Option<&str>) -> Value {
    let mut statement = json!({
        "Sid": "AllowLambdaSLR",
        "Effect": "Allow",
        "Principal": { "Service": ["lambda.amazonaws.com"] },
        "Action": PULL_ACTIONS,
    });
    if let (Some(arn), Value::Object(map)) = (source_arn, &mut statement) {
        map.insert(
            "Condition".into(),
            json!({ "StringLike": { "aws:sourceArn": arn } }),
        );
    }
    json!({ "Version": "2012-10-17", "Statement": [statement] })
}

fn optional_properties(settings: &RepoSettings) -> Map<String, Value> {
    let mut map = Map::new();
    if settings.scan_on_push {
        map.insert(
            "ImageScanningConfiguration".into(),
            json!({ "ScanOnPush": true }),
        );
    }
    if settings.immutable_tags {
        map.insert("ImageTagMutability".into(), json!("IMMUTABLE"));
    }
    if let Some(key) = &settings.kms_key {
        map.insert(
            "EncryptionConfiguration".into(),
            json!({ "EncryptionType": "KMS", "KmsKey": key }),
        );
    }
    if let Some(text) = lifecycle_policy_text(settings) {
        map.insert(
            "LifecyclePolicy".into(),
            json!({ "LifecyclePolicyText": text }),
        );
    }
    map
}

/// The lifecycle policy as the JSON string ECR expects; the `any` rule must have the highest
/// priority (ECR evaluates it last), so the untagged rule comes first.
fn lifecycle_policy_text(settings: &RepoSettings) -> Option<String> {
    let untagged = settings.expire_untagged_days.map(|days| {
        (
            format!("Expire untagged images {days} days after push"),
            json!({ "tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": days }),
        )
    });
    let keep = settings.keep_last_images.map(|count| {
        (
            format!("Keep only the last {count} images"),
            json!({ "tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": count }),
        )
    });
    let rules: Vec<Value> = untagged
        .into_iter()
        .chain(keep)
        .enumerate()
        .map(|(index, (description, selection))| {
            json!({
                "rulePriority": index + 1,
                "description": description,
                "selection": selection,
                "action": { "type": "expire" },
            })
        })
        .collect();
    (!rules.is_empty()).then(|| json!({ "rules": rules }).to_string())
}

/// The AWS partition of a region, for ARNs.
fn partition(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// `json.dumps(value, indent=2)` as Python writes it: serde_json's pretty layout is the same,
/// and Python's `ensure_ascii` escapes everything outside space..`~` as `\uXXXX` (UTF-16).
fn python_json(value: &Value) -> String {
    let pretty = format!("{value:#}");
    let mut out = String::with_capacity(pretty.len());
    for c in pretty.chars() {
        // Outside strings only layout newlines occur; inside, serde_json already escaped controls.
        if c == '\n' || (' '..='~').contains(&c) {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    const ACCOUNT: &str = "123456789012";

    /// Compares with `tests/golden/companion/<name>`; `SAMRS_BLESS=1` rewrites the file instead.
    #[allow(clippy::disallowed_methods)]
    fn assert_golden(name: &str, actual: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/companion");
        let path = dir.join(name);
        if std::env::var_os("SAMRS_BLESS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, actual).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|err| {
            panic!(
                "{}: {err}; run with SAMRS_BLESS=1 to create it",
                path.display()
            )
        });
        assert!(
            actual == expected,
            "{name} differs from the golden file; rerun with SAMRS_BLESS=1 and review the diff"
        );
    }

    fn hello_world() -> (CompanionStack, Vec<EcrRepo>) {
        let companion = CompanionStack::new("Hello-World-Stack");
        let repos = ["TestFunction01", "AnotherTestFunction02"]
            .iter()
            .map(|path| EcrRepo::for_function(&companion, path))
            .collect();
        (companion, repos)
    }

    fn entries(repos: &[EcrRepo]) -> Vec<(String, String)> {
        repos
            .iter()
            .map(|repo| (repo.logical_id(), repo.repository_name().to_string()))
            .collect()
    }

    fn render_hello_world(
        settings: &RepoSettings,
        tags: &[(String, String)],
        region: &str,
    ) -> String {
        let (companion, repos) = hello_world();
        let owned = entries(&repos);
        let entries: Vec<RepoEntry> = owned
            .iter()
            .map(|(logical_id, repository_name)| RepoEntry {
                logical_id,
                repository_name,
            })
            .collect();
        render(
            &companion, &entries, settings, tags, ACCOUNT, region, "0.1.0",
        )
    }

    #[test]
    fn sam_render_is_byte_exact() {
        let (companion, repos) = hello_world();
        let rendered = render_sam_compatible(&companion, &repos, "1.164.0");
        assert_eq!(rendered.len(), 2567);
        assert_eq!(
            crate::companion::md5_hex(&rendered),
            "5c5883ae070a85b3333a03ea3467d33b"
        );
        assert_golden("sam_hello_world.json", &rendered);
    }

    #[test]
    fn samrs_render_default_settings() {
        let rendered = render_hello_world(&RepoSettings::default(), &[], "us-west-2");
        assert_golden("samrs_default.json", &rendered);
        assert_eq!(
            rendered,
            render_hello_world(&RepoSettings::default(), &[], "us-west-2")
        );
        assert!(crate::stack_state::fits_inline(&rendered));
    }

    #[test]
    fn samrs_render_all_settings_tags_and_china_partition() {
        let settings = RepoSettings {
            keep_last_images: Some(10),
            expire_untagged_days: Some(7),
            scan_on_push: true,
            immutable_tags: true,
            kms_key: Some("alias/ecr".into()),
        };
        let tags = [
            ("team".to_string(), "payments".to_string()),
            ("ManagedStackSource".to_string(), "Overridden".to_string()),
            ("cost-center".to_string(), "42".to_string()),
        ];
        assert_golden(
            "samrs_all_settings.json",
            &render_hello_world(&settings, &tags, "cn-north-1"),
        );
    }

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-northwest-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
    }

    #[test]
    fn lifecycle_rules_put_the_any_rule_last() {
        let keep_only = RepoSettings {
            keep_last_images: Some(5),
            ..RepoSettings::default()
        };
        assert_eq!(
            lifecycle_policy_text(&keep_only).unwrap(),
            r#"{"rules":[{"rulePriority":1,"description":"Keep only the last 5 images","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}}]}"#
        );
        let both = RepoSettings {
            expire_untagged_days: Some(3),
            ..keep_only
        };
        let text: Value = serde_json::from_str(&lifecycle_policy_text(&both).unwrap()).unwrap();
        assert_eq!(text["rules"][0]["selection"]["tagStatus"], "untagged");
        assert_eq!(text["rules"][0]["selection"]["countUnit"], "days");
        assert_eq!(text["rules"][1]["rulePriority"], 2);
        assert_eq!(lifecycle_policy_text(&RepoSettings::default()), None);
    }

    #[test]
    fn settings_ecr_would_reject() {
        assert_eq!(RepoSettings::default().validate(), Ok(()));
        let zero = RepoSettings {
            keep_last_images: Some(0),
            ..RepoSettings::default()
        };
        assert_eq!(
            zero.validate(),
            Err(RepoSettingsError::ZeroCount("--image-repos-keep-last"))
        );
        let zero_days = RepoSettings {
            expire_untagged_days: Some(0),
            ..RepoSettings::default()
        };
        assert_eq!(
            zero_days.validate(),
            Err(RepoSettingsError::ZeroCount(
                "--image-repos-expire-untagged-days"
            ))
        );
        let blank = RepoSettings {
            kms_key: Some(" ".into()),
            ..RepoSettings::default()
        };
        assert_eq!(blank.validate(), Err(RepoSettingsError::EmptyKmsKey));
    }

    #[test]
    fn python_json_escapes_like_ensure_ascii() {
        // json.dumps({"k": "é😀\x7f\n"}, indent=2) in Python 3.
        let value = json!({ "k": "é😀\u{7f}\n", "empty": [] });
        assert_eq!(
            python_json(&value),
            "{\n  \"k\": \"\\u00e9\\ud83d\\ude00\\u007f\\n\",\n  \"empty\": []\n}"
        );
    }
}
