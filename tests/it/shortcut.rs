//! End to end: the no-op shortcut (no change set when nothing changed) never hides a change. A
//! redeploy of an unchanged template asks CloudFormation (CreateChangeSet, counted by the proxy)
//! whenever CloudFormation reads something outside the template text; a new value in Parameter
//! Store reaches the stack.

use crate::deploy::create_bucket;
use crate::dry_run::deploy;
use crate::harness::{block_on, FaultProxy, TestEnv};

fn create_change_set_calls(proxy: &FaultProxy) -> usize {
    proxy
        .log()
        .iter()
        .filter(|c| c.name == "cloudformation:CreateChangeSet" && c.fault.is_none())
        .count()
}

/// A template reading the SSM parameter `ssm` as `Stage`, shown in an output.
fn ssm_template(ssm: &str) -> String {
    format!(
        "Parameters:\n  Stage:\n    Type: AWS::SSM::Parameter::Value<String>\n    Default: {ssm}\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\nOutputs:\n  StageOut:\n    Value: !Ref Stage\n"
    )
}

#[test]
fn a_new_value_in_parameter_store_reaches_the_stack() {
    let mut env = TestEnv::new("ssm-change");
    let proxy = FaultProxy::start(&mut env);
    let stack = env.name("app");
    let ssm = format!("/{}/stage", env.prefix);
    env.emu.put_ssm_parameter(&ssm, "v1");
    env.write_file("template.yaml", &ssm_template(&ssm));
    deploy(&env, &stack, &[]).assert_success();
    assert_eq!(env.emu.stack_outputs(&stack)["StageOut"], "v1");

    let before = create_change_set_calls(&proxy);
    let out = deploy(&env, &stack, &["--debug"]);
    out.assert_success();
    assert!(out.stdout.contains("No changes to deploy"), "{out}");
    assert_eq!(
        create_change_set_calls(&proxy),
        before + 1,
        "CloudFormation decides"
    );
    assert!(
        out.stderr.contains(
            "No-op check left to CloudFormation: parameter Stage is read from SSM Parameter Store"
        ),
        "{out}"
    );

    env.emu.put_ssm_parameter(&ssm, "v2");
    let out = deploy(&env, &stack, &[]);
    out.assert_success();
    assert!(
        out.stdout.contains("Successfully created/updated stack"),
        "{out}"
    );
    assert_eq!(create_change_set_calls(&proxy), before + 2);
    assert_eq!(env.emu.stack_outputs(&stack)["StageOut"], "v2");
}

/// One template per thing CloudFormation reads from outside the text; the plain template is the
/// control (the shortcut is taken: no CreateChangeSet on the redeploy).
#[test]
fn a_redeploy_asks_cloudformation_whenever_it_reads_outside_the_text() {
    let env = TestEnv::new("shortcut-cases");
    let bucket = create_bucket(&env);
    let ssm = format!("/{}/x", env.prefix);
    env.emu.put_ssm_parameter(&ssm, "v1");
    // A nested template at a fixed URL (not packaged by samrs): its content may change.
    block_on(
        env.emu
            .s3()
            .put_object()
            .bucket(&bucket)
            .key("shared/child.yaml")
            .body(TOPIC.as_bytes().to_vec().into())
            .send(),
    )
    .expect("upload the shared child template");
    let cases: Vec<(&str, String, usize)> = vec![
        ("plain", TOPIC.to_string(), 0),
        ("ssm-type", ssm_template(&ssm), 1),
        (
            "dynamic-reference",
            format!("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n    Properties:\n      DisplayName: '{{{{resolve:ssm:{ssm}}}}}'\n"),
            1,
        ),
        (
            "language-extensions",
            format!("Transform: AWS::LanguageExtensions\n{TOPIC}"),
            1,
        ),
        (
            "nested-packaged-with-ssm",
            "Resources:\n  Child:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: child.yaml\n".to_string(),
            1,
        ),
        (
            "nested-at-a-url",
            format!("Resources:\n  Child:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: https://s3.amazonaws.com/{bucket}/shared/child.yaml\n"),
            1,
        ),
        (
            "nested-packaged-plain",
            "Resources:\n  Child:\n    Type: AWS::CloudFormation::Stack\n    Properties:\n      TemplateURL: plain-child.yaml\n".to_string(),
            0,
        ),
    ];
    std::thread::scope(|scope| {
        for (case, template, calls) in &cases {
            let bucket = &bucket;
            let ssm = &ssm;
            scope.spawn(move || {
                let mut env = TestEnv::new(&format!("shortcut-{case}"));
                let proxy = FaultProxy::start(&mut env);
                let stack = env.name("app");
                env.write_file("template.yaml", template);
                env.write_file("child.yaml", &ssm_template(ssm));
                env.write_file("plain-child.yaml", TOPIC);
                let args = [
                    "--s3-bucket",
                    bucket.as_str(),
                    "--s3-prefix",
                    stack.as_str(),
                ];
                deploy(&env, &stack, &args).assert_success();
                let before = create_change_set_calls(&proxy);
                let out = deploy(&env, &stack, &args);
                out.assert_success();
                assert!(out.stdout.contains("No changes to deploy"), "{case}\n{out}");
                assert_eq!(
                    create_change_set_calls(&proxy) - before,
                    *calls,
                    "{case}: CreateChangeSet calls of the redeploy\n{out}"
                );
            });
        }
    });
}

const TOPIC: &str = "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n";
