//! End to end: what a change set changes, property by property, in the three renderings: an
//! environment variable's old and new value, a function's code named when only its code changed,
//! a Markdown table, NoEcho values as `****` everywhere, and a nested stack's changes under it.

use serde_json::Value;

use crate::dry_run::deploy;
use crate::harness::{RunOutput, TestEnv};

const APP: &str = r#"Transform: AWS::Serverless-2016-10-31
Parameters:
  Pw:
    Type: String
    NoEcho: true
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Runtime: python3.12
      Handler: app.handler
      CodeUri: src/
      Environment:
        Variables:
          STAGE: STAGE_VALUE
          PW: !Ref Pw
"#;

const FIRST_SECRET: &str = "first-secret-4711";
const SECOND_SECRET: &str = "second-secret-4712";

fn app(env: &TestEnv, stage: &str, code: &str) {
    env.write_file("template.yaml", &APP.replace("STAGE_VALUE", stage));
    env.write_file("src/app.py", &format!("def handler(e, c): return {code}\n"));
}

fn run(env: &TestEnv, stack: &str, secret: &str, extra: &[&str]) -> RunOutput {
    let overrides = format!("Pw={secret}");
    let mut args = vec!["--resolve-s3", "--parameter-overrides", overrides.as_str()];
    args.extend_from_slice(extra);
    let out = deploy(env, stack, &args);
    out.assert_success();
    for secret in [FIRST_SECRET, SECOND_SECRET] {
        assert!(
            !out.stdout.contains(secret) && !out.stderr.contains(secret),
            "a NoEcho value was printed\n{out}"
        );
    }
    out
}

fn document(out: &RunOutput) -> Value {
    serde_json::from_str(&out.stdout).unwrap_or_else(|e| panic!("one JSON document: {e}\n{out}"))
}

/// The property change at `path` of the change of `id`.
fn property<'a>(doc: &'a Value, id: &str, path: &str) -> &'a Value {
    let change = doc["changes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["logical_id"] == id))
        .unwrap_or_else(|| panic!("no change of {id} in {doc}"));
    change["properties"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["path"] == path))
        .unwrap_or_else(|| panic!("no {path} in {change}"))
}

#[test]
fn a_plan_shows_old_and_new_values_code_changes_and_never_a_secret() {
    let env = TestEnv::new("plan-properties");
    let stack = env.name("app");
    app(&env, "dev", "1");
    run(&env, &stack, FIRST_SECRET, &[]);

    // An environment variable and the code change, and the secret parameter's value.
    app(&env, "prod", "2");
    let text = run(&env, &stack, SECOND_SECRET, &["--dry-run"]);
    for line in [
        "~ Modify Fn (AWS::Lambda::Function)",
        "    ~ Environment/Variables/STAGE: dev → prod",
        // The cause of each property is the parameter its own value references.
        "    ~ Environment/Variables/PW: **** → **** [ParameterReference Pw]",
        "    ~ code (zip SHA-256): ",
    ] {
        assert!(text.stdout.contains(line), "{line:?} missing\n{text}");
    }

    let markdown = run(
        &env,
        &stack,
        SECOND_SECRET,
        &["--dry-run", "--output", "markdown"],
    );
    let rows: Vec<&str> = markdown.stdout.lines().collect();
    let title = format!("#### Changes to stack `{stack}` in us-east-1");
    assert_eq!(
        rows.get(..4),
        Some(
            &[
                title.as_str(),
                "",
                "| | Resource | Type | Replacement | Property | Before | After |",
                "|---|---|---|---|---|---|---|",
            ][..]
        ),
        "{markdown}"
    );
    assert!(
        rows.contains(&"|  |  |  |  | `Environment/Variables/STAGE` | `dev` | `prod` |"),
        "{markdown}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("`Environment/Variables/PW` | `****` | `****` |")),
        "{markdown}"
    );
    assert!(
        markdown.stderr.contains("CloudFormation stack changeset"),
        "people's lines go to stderr\n{markdown}"
    );

    let json = run(&env, &stack, SECOND_SECRET, &["--output", "json"]);
    let doc = document(&json);
    let stage = property(&doc, "Fn", "/Properties/Environment/Variables/STAGE");
    assert_eq!(
        (&stage["before"], &stage["after"]),
        (&"dev".into(), &"prod".into())
    );
    assert_eq!(stage["recreation"], "Never");
    assert_eq!(stage["source"], "cloudformation");
    let pw = property(&doc, "Fn", "/Properties/Environment/Variables/PW");
    assert_eq!(
        (&pw["before"], &pw["after"]),
        (&"****".into(), &"****".into())
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("UPDATE_COMPLETE")
    );

    // Only the code changes: the function says so, with what Lambda runs and the new zip's hash.
    env.write_file("src/app.py", "def handler(e, c): return 3\n");
    let doc = document(&run(
        &env,
        &stack,
        SECOND_SECRET,
        &["--dry-run", "--output", "json"],
    ));
    let changes = doc["changes"].as_array().expect("changes");
    assert_eq!(changes.len(), 1, "{doc}");
    let code = &changes[0]["code"];
    assert_eq!(code["kind"], "zip", "{doc}");
    let (deployed, new) = (code["deployed"].as_str(), code["new"].as_str());
    assert!(deployed.is_some_and(|d| d.ends_with('=')), "{doc}");
    assert!(
        new.is_some_and(|n| n.ends_with('=')) && deployed != new,
        "{doc}"
    );

    // A saved plan carries the same changes, for its reviewers and `samrs apply`, secrets masked.
    app(&env, "qa", "3");
    run(&env, &stack, FIRST_SECRET, &["--plan-out", "plan.json"]);
    let saved = std::fs::read_to_string(env.work_dir().join("plan.json")).expect("the plan file");
    assert!(
        !saved.contains(FIRST_SECRET) && !saved.contains(SECOND_SECRET),
        "{saved}"
    );
    let saved: Value = serde_json::from_str(&saved).expect("a JSON plan file");
    let plan = serde_json::json!({"changes": saved["change_set"]["changes"].clone()});
    let stage = property(&plan, "Fn", "/Properties/Environment/Variables/STAGE");
    assert_eq!(
        (&stage["before"], &stage["after"]),
        (&"prod".into(), &"qa".into())
    );
    let pw = property(&plan, "Fn", "/Properties/Environment/Variables/PW");
    assert_eq!(
        (&pw["before"], &pw["after"]),
        (&"****".into(), &"****".into())
    );
}

const PARENT: &str = r#"Resources:
  PlanKid:
    Type: AWS::CloudFormation::Stack
    Properties:
      TemplateURL: child.yaml
"#;

#[test]
fn a_nested_stack_s_changes_are_listed_under_it() {
    let env = TestEnv::new("plan-nested");
    let stack = env.name("app");
    let child = |name: &str| {
        format!("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: {name}\n")
    };
    env.write_file("template.yaml", PARENT);
    env.write_file("child.yaml", &child("before"));
    deploy(&env, &stack, &["--resolve-s3"]).assert_success();

    // CloudFormation reads the changed nested template from S3, where a dry run puts nothing: it
    // lists the nested stack and says why not its changes; a kept change set lists them.
    env.write_file("child.yaml", &child("after"));
    let dry = deploy(&env, &stack, &["--resolve-s3", "--dry-run"]);
    dry.assert_success();
    assert!(
        dry.stdout
            .contains("~ Modify PlanKid (AWS::CloudFormation::Stack)"),
        "{dry}"
    );
    assert!(!dry.stdout.contains("PlanKid/Topic"), "{dry}");
    assert!(
        dry.stderr
            .contains("Dry run: the changes inside nested stacks are not listed"),
        "{dry}"
    );
    let out = deploy(&env, &stack, &["--resolve-s3", "--no-execute-changeset"]);
    out.assert_success();
    for line in [
        "~ Modify PlanKid (AWS::CloudFormation::Stack)",
        "  ~ Modify PlanKid/Topic (AWS::SNS::Topic)",
        "      ~ DisplayName: before → after",
    ] {
        assert!(out.stdout.contains(line), "{line:?} missing\n{out}");
    }
    let out = deploy(
        &env,
        &stack,
        &["--resolve-s3", "--no-execute-changeset", "--output", "json"],
    );
    out.assert_success();
    let doc = document(&out);
    let kid = &doc["changes"][0];
    assert_eq!(kid["logical_id"], "PlanKid", "{doc}");
    assert!(kid["change_set_id"].as_str().is_some(), "{doc}");
    let topic = &kid["nested"][0];
    assert_eq!(topic["logical_id"], "Topic", "{doc}");
    assert_eq!(topic["properties"][0]["path"], "/Properties/DisplayName");
    assert_eq!(topic["properties"][0]["after"], "after");
}

const IMAGE_APP: &str = r#"AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Resources:
  Img:
    Type: AWS::Serverless::Function
    Properties:
      PackageType: Image
      ImageUri: docker-archive:img.tar
    Metadata:
      DockerContext: ./img
"#;

/// A new image: the function names the digest it runs and the one it gets.
#[test]
fn an_image_function_names_its_old_and_new_digest() {
    let env = TestEnv::new("plan-image");
    let stack = env.name("app");
    env.write_file("template.yaml", IMAGE_APP);
    let deploy = |env: &TestEnv| {
        let out = deploy(
            env,
            &stack,
            &["--resolve-s3", "--resolve-image-repos", "--output", "json"],
        );
        out.assert_success();
        document(&out)
    };
    env.write_tiny_image("img.tar", "img:v1", "one", 0);
    let first = deploy(&env);
    let first_digest = first["done"]["images"][0]["digest"].clone();
    env.write_tiny_image("img.tar", "img:v1", "two", 0);
    let second = deploy(&env);
    let code = second["changes"]
        .as_array()
        .and_then(|c| c.iter().find(|c| c["logical_id"] == "Img"))
        .map(|c| &c["code"])
        .unwrap_or_else(|| panic!("no change of Img in {second}"));
    assert_eq!(code["kind"], "image", "{second}");
    assert_eq!(code["deployed"], first_digest, "{second}");
    assert_eq!(
        code["new"], second["done"]["images"][0]["digest"],
        "{second}"
    );
    assert_ne!(code["new"], code["deployed"]);
}
