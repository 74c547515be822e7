//! End to end: `--signing-profiles` signs the zips of the named functions and layers with AWS
//! Signer, as `sam package` does (the uploaded object, by version, is the job's source; the signed
//! object Signer writes beside it replaces it in the deployed template); guided asks sam's code
//! signing questions and saves `signing_profiles` in sam's format.

use aws_config::BehaviorVersion;

use crate::delete::deployed_template;
use crate::deploy::managed_bucket;
use crate::harness::{block_on, TestEnv, Tty};

const APP: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  SignedFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      CodeSigningConfigArn: arn:aws:lambda:us-east-1:123456789012:code-signing-config:csc-0123456789abcdef0
      Layers:
        - !Ref SharedLayer
  PlainFunction:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
  SharedLayer:
    Type: AWS::Serverless::LayerVersion
    Properties:
      ContentUri: layer/
"#;

fn app(env: &TestEnv) {
    env.write_file("template.yaml", APP);
    env.write_file("src/app.py", "def handler(event, context):\n    return 1\n");
    env.write_file("layer/python/shared.py", "VALUE = 1\n");
}

/// Creates a signing profile in the emulator's AWS Signer.
fn signing_profile(env: &TestEnv, name: &str) {
    let signer = block_on(async {
        let conf = aws_config::defaults(BehaviorVersion::latest())
            .endpoint_url(env.emu.moto_url())
            .region(aws_config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_cloudformation::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load()
            .await;
        aws_sdk_signer::Client::new(&conf)
    });
    block_on(
        signer
            .put_signing_profile()
            .profile_name(name)
            .platform_id("AWSLambda-SHA384-ECDSA")
            .send(),
    )
    .unwrap_or_else(|e| panic!("PutSigningProfile {name}: {e:?}"));
}

/// The S3 location a property of a resource was deployed with.
fn location<'a>(template: &'a str, resource: &str, property: &str) -> &'a str {
    let after = template
        .split(&format!("  {resource}:\n"))
        .nth(1)
        .unwrap_or_else(|| panic!("{resource} missing from\n{template}"));
    after
        .lines()
        .find_map(|l| l.trim().strip_prefix(&format!("{property}: ")))
        .unwrap_or_else(|| panic!("{resource}.{property} missing from\n{template}"))
}

#[test]
fn signed_objects_replace_the_unsigned_ones_in_the_deployed_template() {
    let env = TestEnv::new("signing");
    app(&env);
    signing_profile(&env, "FnProfile");
    signing_profile(&env, "LayerProfile");
    let stack = env.name("app");
    let out = env.samrs(&[
        "deploy",
        "--stack-name",
        &stack,
        "--resolve-s3",
        "--s3-prefix",
        &stack,
        "--capabilities",
        "CAPABILITY_IAM",
        "--signing-profiles",
        "SignedFunction=FnProfile:123456789012 SharedLayer=\"LayerProfile\"",
    ]);
    out.assert_success();
    assert!(
        out.stdout.contains(r#"Signing Profiles             : {"SignedFunction": {"profile_name": "FnProfile", "profile_owner": "123456789012"}, "SharedLayer": {"profile_name": "LayerProfile", "profile_owner": ""}}"#),
        "{out}"
    );
    let bucket = managed_bucket(&env);
    let template = deployed_template(&env, &stack);
    let signed_prefix = format!("s3://{bucket}/{stack}/signed_");
    for (resource, property) in [("SignedFunction", "CodeUri"), ("SharedLayer", "ContentUri")] {
        let uri = location(&template, resource, property);
        assert!(
            uri.starts_with(&signed_prefix) && uri.ends_with(".zip"),
            "{resource}: {uri}"
        );
        let key = uri.trim_start_matches(&format!("s3://{bucket}/"));
        assert!(
            env.emu.list_objects(&bucket).iter().any(|k| k == key),
            "Signer wrote {key}"
        );
        assert!(
            out.stdout.contains(&format!(
                "Package has successfully signed into the location {bucket}/{key}"
            )),
            "{out}"
        );
    }
    let plain = location(&template, "PlainFunction", "CodeUri");
    assert!(
        plain.starts_with(&format!("s3://{bucket}/{stack}/")) && !plain.contains("signed_"),
        "{plain}"
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );

    // A profile Signer does not know: AWS's error, and nothing deployed.
    let other = env.name("other");
    let out = env.samrs(&[
        "deploy",
        "--stack-name",
        &other,
        "--resolve-s3",
        "--signing-profiles",
        "SignedFunction=Missing",
        "--capabilities",
        "CAPABILITY_IAM",
    ]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    assert!(
        out.stderr
            .contains("Signer StartSigningJob failed: ResourceNotFoundException"),
        "{out}"
    );
    assert_eq!(env.emu.stack_status(&other), None);
}

#[test]
fn guided_asks_for_signing_profiles_and_saves_them() {
    let env = TestEnv::new("signing-guided");
    app(&env);
    signing_profile(&env, "FnProfile");
    signing_profile(&env, "LayerProfile");
    let stack = env.name("app");
    let tty = Tty::start(&env, &["deploy", "--guided"]);
    tty.answer("Stack Name [sam-app]: ", &stack);
    tty.answer("AWS Region [us-east-1]: ", "");
    tty.answer("Confirm changes before deploy [y/N]: ", "");
    tty.answer("Allow SAM CLI IAM role creation [Y/n]: ", "");
    tty.answer("Disable rollback [y/N]: ", "");
    tty.expect("#Found code signing configurations in your function definitions");
    tty.answer("Do you want to sign your code? [Y/n]: ", "");
    tty.expect("#Please provide signing profile details for the following functions & layers");
    tty.expect("#Signing profile details for function 'SignedFunction'");
    tty.answer("Signing Profile Name: ", "FnProfile");
    tty.answer(
        "Signing Profile Owner Account ID (optional): ",
        "123456789012",
    );
    tty.expect("#Signing profile details for layer 'SharedLayer', which is used by functions {'SignedFunction'}");
    tty.answer("Signing Profile Name: ", "LayerProfile");
    tty.answer("Signing Profile Owner Account ID (optional): ", "");
    tty.answer("Save arguments to configuration file [Y/n]: ", "");
    tty.answer("SAM configuration file [samconfig.toml]: ", "");
    tty.answer("SAM configuration environment [default]: ", "");
    tty.expect(&format!(
        "Successfully created/updated stack - {stack} in us-east-1"
    ));
    assert_eq!(tty.exit_code(), 0, "{}", tty.screen());
    drop(tty);
    let saved = std::fs::read_to_string(env.work_dir().join("samconfig.toml")).unwrap();
    assert!(
        saved.contains(r#"signing_profiles = "SignedFunction=\"FnProfile:123456789012\" SharedLayer=\"LayerProfile\"""#),
        "{saved}"
    );
    let template = deployed_template(&env, &stack);
    assert!(
        location(&template, "SignedFunction", "CodeUri").contains("/signed_"),
        "{template}"
    );

    // The next guided run offers the saved profiles as defaults; a plain run signs from samconfig.
    let tty = Tty::start(&env, &["deploy", "--guided"]);
    tty.answer(&format!("Stack Name [{stack}]: "), "");
    for prompt in [
        "AWS Region [us-east-1]: ",
        "Confirm changes before deploy [y/N]: ",
        "Allow SAM CLI IAM role creation [Y/n]: ",
        "Disable rollback [y/N]: ",
        "Do you want to sign your code? [Y/n]: ",
        "Signing Profile Name [FnProfile]: ",
        "Signing Profile Owner Account ID (optional) [123456789012]: ",
        "Signing Profile Name [LayerProfile]: ",
        "Signing Profile Owner Account ID (optional): ",
        "Save arguments to configuration file [Y/n]: ",
        "SAM configuration file [samconfig.toml]: ",
        "SAM configuration environment [default]: ",
    ] {
        tty.answer(prompt, "");
    }
    tty.expect(&format!("Successfully created/updated stack - {stack}"));
    assert_eq!(tty.exit_code(), 0, "{}", tty.screen());
    drop(tty);
    let out = env.samrs(&["deploy", "--output", "json"]);
    out.assert_success();
    assert!(out.stderr.contains("Initiated code signing job"), "{out}");
    // The document lists each signing job and the signed object the template points at.
    let doc = crate::json_output::document(&out);
    let jobs = doc["done"]["signing_jobs"]
        .as_array()
        .expect("signing_jobs");
    let resources: Vec<&str> = jobs.iter().filter_map(|j| j["resource"].as_str()).collect();
    assert_eq!(resources, ["SignedFunction", "SharedLayer"], "{doc}");
    let template = deployed_template(&env, &stack);
    for job in jobs {
        let key = job["key"].as_str().unwrap_or_default();
        assert!(key.contains("signed_") && !job["job_id"].as_str().unwrap_or_default().is_empty());
        let resource = job["resource"].as_str().unwrap_or_default();
        let property = if resource == "SharedLayer" {
            "ContentUri"
        } else {
            "CodeUri"
        };
        assert!(
            location(&template, resource, property).ends_with(key),
            "{doc}"
        );
    }
}
