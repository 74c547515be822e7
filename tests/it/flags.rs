//! End to end: sam's flags and samconfig keys as real pipelines use them (issue 13): parameter
//! files, template discovery, `--save-params`, `--profile` over environment credentials, warnings
//! for unused samconfig keys, `--debug`, `--metadata` and `--use-json`, each asserted on the
//! emulator's state.

use crate::deploy::managed_bucket;
use crate::harness::{block_on, TestEnv};

const TEMPLATE: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage:
    Type: String
    Default: none
  Name:
    Type: String
    Default: none
  Subnets:
    Type: String
    Default: none
  Count:
    Type: String
    Default: none
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
"#;

fn app(env: &TestEnv, template_name: &str, template: &str) {
    env.write_file(template_name, template);
    env.write_file("src/app.py", "def handler(event, context):\n    return 1\n");
}

/// The deploy line the tests share; a stack may be deployed again unchanged.
fn deploy_args<'a>(stack: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = crate::deploy::deploy_args(stack, &["--no-fail-on-empty-changeset"]);
    args.extend_from_slice(extra);
    args
}

/// The deployed stack's parameters, by name.
fn parameters(env: &TestEnv, stack: &str) -> std::collections::BTreeMap<String, String> {
    let out = block_on(env.emu.cfn().describe_stacks().stack_name(stack).send())
        .expect("describe the deployed stack");
    out.stacks()[0]
        .parameters()
        .iter()
        .map(|p| {
            (
                p.parameter_key().unwrap_or_default().to_string(),
                p.parameter_value().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn parameter_files_mix_with_inline_values_as_in_sam() {
    let env = TestEnv::new("param-files");
    app(&env, "template.yaml", TEMPLATE);
    env.write_file(
        "params/base.yaml",
        "Stage: dev\nName: a name with spaces\nSubnets: [subnet-1, subnet-2]\n$include: file://more.toml\n",
    );
    env.write_file("params/more.toml", "Count = 3\nStage = \"from-toml\"\n");
    env.write_file("params/list.yaml", "- Count=4\n- {Name: listed}\n");
    let stack = env.name("app");
    env.samrs(&deploy_args(
        &stack,
        &[
            "--parameter-overrides",
            "file://params/base.yaml",
            "Stage=inline",
        ],
    ))
    .assert_success();
    let got = parameters(&env, &stack);
    assert_eq!(got["Stage"], "inline");
    assert_eq!(got["Name"], "a name with spaces");
    assert_eq!(got["Subnets"], "subnet-1,subnet-2");
    assert_eq!(got["Count"], "3");

    // A list file, the same file given as a samconfig value.
    env.write_file(
        "samconfig.toml",
        "version = 0.1\n[default.deploy.parameters]\nparameter_overrides = [\"file://params/list.yaml\", \"Stage=cfg\"]\n",
    );
    env.samrs(&deploy_args(&stack, &[])).assert_success();
    let got = parameters(&env, &stack);
    assert_eq!(
        (got["Count"].as_str(), got["Name"].as_str()),
        ("4", "listed")
    );
    assert_eq!(got["Stage"], "cfg");

    let out = env.samrs(&deploy_args(
        &stack,
        &["--parameter-overrides", "file://absent.yaml"],
    ));
    assert_eq!(out.status.code(), Some(2), "{out}");
    assert!(out.stderr.contains(
        "Error: Invalid value for '--parameter-overrides': file://absent.yaml was not found or is a directory"
    ), "{out}");
}

#[test]
fn template_json_and_sam_template_file_are_found_as_sam_finds_them() {
    let mut env = TestEnv::new("template-discovery");
    let json = serde_json::to_string(
        &serde_yaml::from_str::<serde_json::Value>(TEMPLATE).expect("the template is YAML"),
    )
    .expect("JSON");
    app(&env, "template.json", &json);
    let stack = env.name("json");
    let out = env.samrs(&deploy_args(&stack, &[]));
    out.assert_success();
    assert!(env.emu.stack_status(&stack).is_some(), "{out}");

    // SAM_TEMPLATE_FILE wins over samconfig's template_file; samconfig is read from the working
    // directory (not the variable's directory), as sam does.
    env.write_file("other/template.yaml", TEMPLATE);
    env.write_file("other/src/app.py", "def handler(e, c):\n    return 2\n");
    let from_cfg = env.name("cfg");
    env.write_file(
        "samconfig.toml",
        &format!("version = 0.1\n[default.deploy.parameters]\nstack_name = \"{from_cfg}\"\ntemplate_file = \"missing.yaml\"\n"),
    );
    env.set_env("SAM_TEMPLATE_FILE", "other/template.yaml");
    let out = env.samrs(&[
        "deploy",
        "--resolve-s3",
        "--capabilities",
        "CAPABILITY_IAM",
        "--debug",
    ]);
    out.assert_success();
    assert!(env.emu.stack_status(&from_cfg).is_some(), "{out}");
    assert!(
        out.stderr.contains(&format!(
            "Using SAM Template at {}",
            env.work_dir().join("other/template.yaml").display()
        )),
        "{out}"
    );
}

/// What SAM CLI 1.170 wrote for this command line (recorded from `sam deploy ... --save-params`).
const SAM_SAVED: &str = r#"version = 0.1

[default.deploy.parameters]
stack_name = "STACK"
resolve_s3 = true
capabilities = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
confirm_changeset = false
fail_on_empty_changeset = false
use_json = true
no_progressbar = true
s3_prefix = "STACK"
disable_rollback = true
no_execute_changeset = true

[default.deploy.parameters.parameter_overrides]
Stage = "1"
Name = "x y"

[default.deploy.parameters.tags]
t1 = "v1"
t2 = "v2"

[default.deploy.parameters.metadata]
k1 = "v1"
k2 = "v2"

[default.global.parameters]
region = "us-east-1"
"#;

/// What SAM CLI 1.170 wrote for the same command line into an existing samconfig.yaml
/// (`--config-file samconfig.yaml`: sam's own default would be a new samconfig.toml).
const SAM_SAVED_YAML: &str = "# Shared settings\nversion: 0.1\ndefault:\n  deploy:\n    parameters:\n      stack_name: STACK\n      resolve_s3: true\n      parameter_overrides:\n        Stage: '1'\n        Name: x y\n      capabilities:\n      - CAPABILITY_IAM\n      - CAPABILITY_AUTO_EXPAND\n      tags:\n        t1: v1\n        t2: v2\n      metadata:\n        k1: v1\n        k2: v2\n      confirm_changeset: false\n      fail_on_empty_changeset: false\n      use_json: true\n      no_progressbar: true\n      s3_prefix: STACK\n      disable_rollback: true\n      no_execute_changeset: true\n  global:\n    parameters:\n      region: us-east-1\n";

#[test]
fn save_params_writes_the_file_sam_writes_and_reads_it_back() {
    for (file, before, expected) in [
        ("samconfig.toml", None, SAM_SAVED),
        (
            "samconfig.yaml",
            Some("# Shared settings\nversion: 0.1\n"),
            SAM_SAVED_YAML,
        ),
    ] {
        let env = TestEnv::new("save-params");
        app(&env, "template.yaml", TEMPLATE);
        if let Some(before) = before {
            env.write_file(file, before);
        }
        let stack = env.name("app");
        env.samrs(&[
            "deploy",
            "--stack-name",
            &stack,
            "--resolve-s3",
            "--parameter-overrides",
            "Stage=1",
            "Name=\"x y\"",
            "--capabilities",
            "CAPABILITY_IAM",
            "CAPABILITY_AUTO_EXPAND",
            "--tags",
            "t1=v1",
            "t2=v2",
            "--metadata",
            "k1=v1,k2=v2",
            "--no-confirm-changeset",
            "--no-fail-on-empty-changeset",
            "--use-json",
            "--no-progressbar",
            "--s3-prefix",
            &stack,
            "--disable-rollback",
            "--save-params",
            "--beta-features",
            "--no-execute-changeset",
        ])
        .assert_success();
        let saved = std::fs::read_to_string(env.work_dir().join(file)).expect("saved");
        assert_eq!(saved, expected.replace("STACK", &stack), "{file}");

        // The saved file alone deploys the same thing (tables read back as pairs).
        let out = env.samrs(&["deploy", "--no-execute-changeset"]);
        out.assert_success();
        assert!(!out.stderr.contains("Warning"), "{out}");
    }
}

/// Calls the emulator's IAM query API (moto routes on the credential scope; it checks no
/// signature) and returns the XML answer.
fn iam(env: &TestEnv, query: &str) -> String {
    let port: u16 = env
        .emu
        .moto_url()
        .rsplit(':')
        .next()
        .and_then(|p| p.trim_end_matches('/').parse().ok())
        .expect("moto's port");
    crate::harness::request(
        port,
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
            ),
        ],
        format!("{query}&Version=2010-05-08").as_bytes(),
    )
    .body
}

/// The text of the first `<name>` element of an XML answer.
fn xml_field(answer: &str, name: &str) -> Option<String> {
    let rest = answer.split(&format!("<{name}>")).nth(1)?;
    Some(rest.split(&format!("</{name}>")).next()?.to_string())
}

/// Creates an IAM user with an access key in the emulator and returns (key id, secret).
fn iam_access_key(env: &TestEnv, user: &str) -> (String, String) {
    iam(env, &format!("Action=CreateUser&UserName={user}"));
    let answer = iam(env, &format!("Action=CreateAccessKey&UserName={user}"));
    let field =
        |name: &str| xml_field(&answer, name).unwrap_or_else(|| panic!("{name} in {answer}"));
    (field("AccessKeyId"), field("SecretAccessKey"))
}

/// The service the emulator last saw a request signed with `key` go to (`N/A` when never).
fn key_last_used(env: &TestEnv, key: &str) -> String {
    let answer = iam(
        env,
        &format!("Action=GetAccessKeyLastUsed&AccessKeyId={key}"),
    );
    xml_field(&answer, "ServiceName").unwrap_or_default()
}

#[test]
fn profile_wins_over_environment_credentials() {
    let mut env = TestEnv::new("profile-precedence");
    app(&env, "template.yaml", TEMPLATE);
    let (profile_key, profile_secret) = iam_access_key(&env, &env.name("ci"));
    let (env_key, env_secret) = iam_access_key(&env, &env.name("env"));
    std::fs::create_dir_all(env.home().join(".aws")).expect("~/.aws");
    std::fs::write(
        env.home().join(".aws/credentials"),
        format!(
            "[ci]\naws_access_key_id = {profile_key}\naws_secret_access_key = {profile_secret}\n"
        ),
    )
    .expect("credentials file");
    std::fs::write(
        env.home().join(".aws/config"),
        "[profile ci]\nregion = us-east-1\n",
    )
    .expect("config file");
    env.set_env("AWS_ACCESS_KEY_ID", &env_key);
    env.set_env("AWS_SECRET_ACCESS_KEY", &env_secret);
    let stack = env.name("app");
    env.samrs(&deploy_args(&stack, &["--profile", "ci"]))
        .assert_success();
    assert_eq!(key_last_used(&env, &profile_key), "cloudformation");
    assert_eq!(
        key_last_used(&env, &env_key),
        "N/A",
        "the environment's key signed a request"
    );

    // Without --profile the environment's key is used, as before.
    env.samrs(&deploy_args(&stack, &[])).assert_success();
    assert_eq!(key_last_used(&env, &env_key), "cloudformation");

    // A profile that does not exist is named as such, before anything is done.
    let out = env.samrs(&deploy_args(&stack, &["--profile", "nope"]));
    assert_eq!(out.status.code(), Some(1), "{out}");
    assert!(
        out.stderr
            .contains("Error: The config profile (nope) could not be found"),
        "{out}"
    );
}

#[test]
fn aws_default_profile_is_read_before_aws_profile_as_sam_reads_them() {
    let mut env = TestEnv::new("default-profile");
    app(&env, "template.yaml", TEMPLATE);
    let (chosen_key, chosen_secret) = iam_access_key(&env, &env.name("chosen"));
    let (other_key, other_secret) = iam_access_key(&env, &env.name("other"));
    std::fs::create_dir_all(env.home().join(".aws")).expect("~/.aws");
    std::fs::write(
        env.home().join(".aws/credentials"),
        format!(
            "[chosen]\naws_access_key_id = {chosen_key}\naws_secret_access_key = {chosen_secret}\n\
             [other]\naws_access_key_id = {other_key}\naws_secret_access_key = {other_secret}\n"
        ),
    )
    .expect("credentials file");
    // Empty environment credentials count as unset, so the profiles are what is left.
    env.set_env("AWS_ACCESS_KEY_ID", "");
    env.set_env("AWS_SECRET_ACCESS_KEY", "");
    env.set_env("AWS_PROFILE", "other");
    env.set_env("AWS_DEFAULT_PROFILE", "chosen");
    let stack = env.name("app");
    env.samrs(&deploy_args(&stack, &[])).assert_success();
    assert_eq!(key_last_used(&env, &chosen_key), "cloudformation");
    assert_eq!(
        key_last_used(&env, &other_key),
        "N/A",
        "AWS_PROFILE's key signed a request although AWS_DEFAULT_PROFILE was set"
    );
}

#[test]
fn unknown_and_unused_samconfig_keys_are_named_once() {
    let env = TestEnv::new("samconfig-keys");
    app(&env, "template.yaml", TEMPLATE);
    let stack = env.name("app");
    env.write_file(
        "samconfig.toml",
        &format!(
            "version = 0.1\n[default.global.parameters]\nuse_container = true\n[default.build.parameters]\ncached = true\n\
             [default.deploy.parameters]\nstack_name = \"{stack}\"\nresolve_s3 = true\ns3_prefix = \"{stack}\"\n\
             capabilities = \"CAPABILITY_IAM\"\nstack_nmae = \"typo\"\nguided = true\n"
        ),
    );
    let out = env.samrs(&["deploy", "--no-fail-on-empty-changeset"]);
    out.assert_success();
    let warnings: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("Warning: samconfig key"))
        .collect();
    assert_eq!(
        warnings,
        [
            "Warning: samconfig key 'stack_nmae' in [default.deploy.parameters] of samconfig.toml is not an option of `sam deploy`; it is ignored (sam ignores it silently)",
            "Warning: samconfig key 'guided' in [default.deploy.parameters] of samconfig.toml is not used by samrs: samrs asks its questions only with --guided on the command line",
        ],
        "{out}"
    );
}

#[test]
fn debug_tells_how_settings_resolved_and_every_call_without_secrets() {
    let mut env = TestEnv::new("debug");
    app(&env, "template.yaml", TEMPLATE);
    env.set_env("AWS_SECRET_ACCESS_KEY", "very-secret-value-1234");
    env.set_env("SAM_DEBUG", "1");
    let stack = env.name("app");
    let out = env.samrs(&deploy_args(
        &stack,
        &[
            "stray-argument",
            "--parameter-overrides",
            "Stage=hidden-value",
        ],
    ));
    out.assert_success();
    for expected in [
        "No config file found",
        "Using SAM Template at ",
        "Expand command line arguments to:",
        "--stack_name=",
        "AWS call CloudFormation.CreateChangeSet: POST",
        "AWS call CloudFormation.ExecuteChangeSet: HTTP 200",
        "AWS call S3.PutObject: PUT",
        "AWS credentials: access key ****",
        "Warning: ignoring extra argument 'stray-argument'",
    ] {
        assert!(out.stderr.contains(expected), "{expected}\n{out}");
    }
    // Parameter values may be secrets: the debug log names them without values (the deploy
    // summary shows them as sam's does, NoEcho ones masked).
    let log: Vec<&str> = out.stderr.lines().filter(|l| l.contains(" | ")).collect();
    assert!(log.iter().any(|l| l.contains("Stage=***")), "{out}");
    for secret in [
        "very-secret-value-1234",
        "hidden-value",
        "Authorization",
        "Signature=",
    ] {
        assert!(
            !log.iter().any(|l| l.contains(secret)),
            "{secret} leaked\n{out}"
        );
    }
    for secret in ["very-secret-value-1234", "Signature="] {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "{secret}\n{out}"
        );
    }
}

#[test]
fn metadata_lands_on_uploads_and_use_json_sends_json() {
    let env = TestEnv::new("metadata");
    app(&env, "template.yaml", TEMPLATE);
    let stack = env.name("app");
    env.samrs(&deploy_args(
        &stack,
        &[
            "--metadata",
            "team=core,owner=\"a, b\"",
            "--use-json",
            "--no-progressbar",
        ],
    ))
    .assert_success();
    let bucket = managed_bucket(&env);
    let keys = crate::deploy::objects_under(&env, &bucket, &stack);
    assert!(!keys.is_empty());
    for key in &keys {
        let head = block_on(env.emu.s3().head_object().bucket(&bucket).key(key).send())
            .expect("head the upload");
        let metadata = head.metadata().cloned().unwrap_or_default();
        assert_eq!(
            metadata.get("team").map(String::as_str),
            Some("core"),
            "{key}"
        );
        assert_eq!(
            metadata.get("owner").map(String::as_str),
            Some("a, b"),
            "{key}"
        );
    }
    let template = keys
        .iter()
        .find(|k| k.ends_with(".template"))
        .expect("the template went through S3");
    let body = block_on(
        env.emu
            .s3()
            .get_object()
            .bucket(&bucket)
            .key(template)
            .send(),
    )
    .expect("get the template");
    let bytes = block_on(body.body.collect()).expect("read it").into_bytes();
    serde_json::from_slice::<serde_json::Value>(&bytes).expect("the template sent is JSON");
}

#[test]
fn each_credential_failure_names_its_cause() {
    let mut env = TestEnv::new("credential-causes");
    app(&env, "template.yaml", TEMPLATE);
    std::fs::create_dir_all(env.home().join(".aws")).expect("~/.aws");
    std::fs::write(
        env.home().join(".aws/config"),
        "[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n\
         sso_account_id = 123456789012\nsso_role_name = Admin\n\
         [profile wi]\nrole_arn = arn:aws:iam::123456789012:role/r\nweb_identity_token_file = /nonexistent/token\n",
    )
    .expect("config file");
    env.set_env("AWS_ACCESS_KEY_ID", "");
    env.set_env("AWS_SECRET_ACCESS_KEY", "");
    let stack = env.name("app");
    for (profile, expected) in [
        (
            Some("sso"),
            "Error: The SSO session of profile sso has expired or was never started: run `aws sso login --profile sso`",
        ),
        (Some("wi"), "Error: Web identity credentials failed"),
        (None, "Error: Unable to locate credentials"),
    ] {
        let mut args = deploy_args(&stack, &[]);
        if let Some(profile) = profile {
            args.extend(["--profile", profile]);
        }
        let out = env.samrs(&args);
        assert_eq!(out.status.code(), Some(1), "{out}");
        assert!(out.stderr.contains(expected), "{expected}\n{out}");
    }
    assert!(env.emu.stack_status(&stack).is_none());
}
