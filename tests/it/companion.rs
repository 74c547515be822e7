//! End to end: the managed ECR companion stack. Names, tags and policy as sam makes them;
//! retired repositories kept until the main stack is safe; sam-made companion stacks taken over
//! without replacing a repository or losing an image; limits past sam's.

use samrs::companion::{render_sam_compatible, CompanionStack, EcrRepo};

use crate::deploy::{managed_bucket, objects_under};
use crate::harness::{block_on, TestEnv};

/// A SAM template with image functions whose ImageUri is already in ECR and that have a
/// DockerContext, so sam (and samrs) give each a managed repository.
fn image_template(functions: &[&str]) -> String {
    let mut t = String::from("AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n");
    for f in functions {
        t.push_str(&format!(
            "  {f}:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/{l}:v1\n    Metadata:\n      DockerTag: v1\n      DockerContext: ./{l}\n      Dockerfile: Dockerfile\n",
            l = f.to_lowercase()
        ));
    }
    t
}

fn deploy(env: &TestEnv, stack: &str, extra: &[&str]) -> crate::harness::RunOutput {
    env.samrs(&TestEnv::managed_deploy_args(stack, extra))
}

fn repo_name(stack: &str, function: &str) -> String {
    EcrRepo::for_function(&CompanionStack::new(stack), function)
        .repository_name()
        .to_string()
}

#[test]
fn repositories_get_sams_names_tags_and_a_scoped_lambda_policy() {
    let env = TestEnv::new("companion-create");
    let stack = env.name("app");
    env.write_file(
        "template.yaml",
        &image_template(&["TestFunction01", "AnotherTestFunction02"]),
    );
    deploy(&env, &stack, &[]).assert_success();

    let companion = CompanionStack::new(&stack);
    assert_eq!(
        env.emu.stack_status(companion.name()).as_deref(),
        Some("CREATE_COMPLETE")
    );
    let resources = env.emu.stack_resources(companion.name());
    let ids: Vec<&str> = resources.iter().map(|r| r.logical_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            EcrRepo::for_function(&companion, "TestFunction01").logical_id(),
            EcrRepo::for_function(&companion, "AnotherTestFunction02").logical_id()
        ]
    );
    for function in ["TestFunction01", "AnotherTestFunction02"] {
        let repo = repo_name(&stack, function);
        assert!(env.emu.repositories().contains(&repo), "{repo} missing");
        let tags = env.emu.repository_tags(&repo);
        assert_eq!(
            tags.get("ManagedStackSource").map(String::as_str),
            Some("AwsSamCli")
        );
        assert_eq!(
            tags.get("AwsSamCliCompanionStack").map(String::as_str),
            Some(companion.name())
        );
        let policy: serde_json::Value = serde_json::from_str(
            &env.emu
                .repository_policy(&repo)
                .expect("a repository policy"),
        )
        .unwrap();
        let statement = &policy["Statement"][0];
        assert_eq!(statement["Sid"], "AllowLambdaSLR");
        let mut actions: Vec<String> = statement["Action"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string())
            .collect();
        actions.sort();
        assert_eq!(
            actions,
            [
                "ecr:BatchGetImage",
                "ecr:GetDownloadUrlForLayer",
                "ecr:GetRepositoryPolicy"
            ]
        );
        assert_eq!(
            statement["Condition"]["StringLike"]["aws:sourceArn"],
            "arn:aws:lambda:us-east-1:123456789012:function:*"
        );
    }
    // The companion template has no Transform and no Outputs, and repositories empty on delete.
    let template = block_on(
        env.emu
            .cfn()
            .get_template()
            .stack_name(companion.name())
            .send(),
    )
    .unwrap();
    let body: serde_json::Value = serde_json::from_str(template.template_body().unwrap()).unwrap();
    assert!(body.get("Transform").is_none() && body.get("Outputs").is_none());
    assert!(body["Resources"]
        .as_object()
        .unwrap()
        .values()
        .all(|r| r["Properties"]["EmptyOnDelete"] == true));

    // A second deploy changes nothing: no companion update.
    let out = deploy(&env, &stack, &[]);
    out.assert_success();
    assert!(
        out.stdout.contains(&format!(
            "Companion stack {} is up to date",
            companion.name()
        )),
        "{out}"
    );
}

#[test]
fn a_removed_functions_repository_goes_only_after_the_main_stack_succeeded() {
    let env = TestEnv::new("companion-retire");
    let stack = env.name("app");
    env.write_file("template.yaml", &image_template(&["Keep", "Gone"]));
    deploy(&env, &stack, &[]).assert_success();
    let gone = repo_name(&stack, "Gone");
    env.emu.put_image(&gone, "v1");

    // The function is removed, but the main deploy fails: the repository and its image stay.
    let dup = env.name("dup");
    let failing = format!(
        "{}  DupA:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {dup}\n  DupB:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {dup}\n",
        image_template(&["Keep"])
    );
    env.write_file("template.yaml", &failing);
    let out = deploy(&env, &stack, &[]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("UPDATE_ROLLBACK_COMPLETE")
    );
    assert!(
        env.emu.repositories().contains(&gone),
        "retired repository deleted before the main stack was safe"
    );
    assert_eq!(env.emu.image_tags(&gone), ["v1"]);

    // The next good deploy retires it.
    env.write_file("template.yaml", &image_template(&["Keep"]));
    let out = deploy(&env, &stack, &[]);
    out.assert_success();
    assert!(
        out.stdout
            .contains(&format!("Deleting unreferenced repository {gone}")),
        "{out}"
    );
    assert!(!env.emu.repositories().contains(&gone));
    assert!(env.emu.repositories().contains(&repo_name(&stack, "Keep")));

    // No image function left: the companion stack goes too.
    env.write_file(
        "template.yaml",
        "Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
    );
    deploy(&env, &stack, &[]).assert_success();
    assert_eq!(
        env.emu.stack_status(CompanionStack::new(&stack).name()),
        None
    );
    assert!(!env.emu.repositories().contains(&repo_name(&stack, "Keep")));
}

#[test]
fn a_companion_stack_made_by_sam_is_updated_in_place() {
    let env = TestEnv::new("companion-sam");
    let stack = env.name("app");
    let companion = CompanionStack::new(&stack);
    let functions = ["TestFunction", "TestFunction2"];
    let repos: Vec<EcrRepo> = functions
        .iter()
        .map(|f| EcrRepo::for_function(&companion, f))
        .collect();
    // The exact template sam renders, deployed as sam does (with its Transform).
    let sam_template = render_sam_compatible(&companion, &repos, "1.164.0");
    block_on(async {
        env.emu
            .cfn()
            .create_stack()
            .stack_name(companion.name())
            .template_body(sam_template)
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityAutoExpand)
            .send()
            .await
    })
    .expect("create sam's companion stack");
    assert_eq!(
        env.emu.stack_status(companion.name()).as_deref(),
        Some("CREATE_COMPLETE")
    );
    for repo in &repos {
        env.emu.put_image(repo.repository_name(), "from-sam");
    }

    env.write_file("template.yaml", &image_template(&functions));
    let out = deploy(&env, &stack, &[]);
    out.assert_success();
    assert!(
        out.stdout
            .contains(&format!("Updating companion stack {}", companion.name())),
        "{out}"
    );
    // Same logical ids, same repositories, images kept: nothing was replaced.
    let resources = env.emu.stack_resources(companion.name());
    for repo in &repos {
        let deployed = resources
            .iter()
            .find(|r| r.logical_id == repo.logical_id())
            .expect("logical id kept");
        assert_eq!(deployed.physical_id, repo.repository_name());
        assert_eq!(
            env.emu.image_tags(repo.repository_name()),
            ["from-sam"],
            "image lost"
        );
    }
    let events = block_on(
        env.emu
            .cfn()
            .describe_stack_events()
            .stack_name(companion.name())
            .send(),
    )
    .unwrap();
    assert!(
        !events
            .stack_events()
            .iter()
            .any(|e| e.resource_type() == Some("AWS::ECR::Repository")
                && e.resource_status()
                    .is_some_and(|s| s.as_str().starts_with("DELETE"))),
        "a repository was deleted during the takeover"
    );
}

#[test]
fn a_companion_stack_in_rollback_complete_is_recreated() {
    let env = TestEnv::new("companion-rollback");
    let stack = env.name("app");
    let companion = CompanionStack::new(&stack);
    let taken = env.name("taken");
    block_on(
        env.emu
            .ecr()
            .create_repository()
            .repository_name(&taken)
            .send(),
    )
    .unwrap();
    let broken = format!("Resources:\n  Repo:\n    Type: AWS::ECR::Repository\n    Properties:\n      RepositoryName: {taken}\n");
    let id = block_on(async {
        env.emu
            .cfn()
            .create_change_set()
            .stack_name(companion.name())
            .change_set_name("broken")
            .change_set_type(aws_sdk_cloudformation::types::ChangeSetType::Create)
            .template_body(broken)
            .send()
            .await
    })
    .unwrap();
    block_on(
        env.emu
            .cfn()
            .execute_change_set()
            .change_set_name(id.id().unwrap())
            .send(),
    )
    .unwrap();
    assert_eq!(
        env.emu.stack_status(companion.name()).as_deref(),
        Some("ROLLBACK_COMPLETE")
    );

    env.write_file("template.yaml", &image_template(&["Fn"]));
    let out = deploy(&env, &stack, &[]);
    out.assert_success();
    assert!(out.stdout.contains("never created successfully"), "{out}");
    assert_eq!(
        env.emu.stack_status(companion.name()).as_deref(),
        Some("CREATE_COMPLETE")
    );
    assert!(env.emu.repositories().contains(&repo_name(&stack, "Fn")));
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let env = TestEnv::new("companion-dry");
    let stack = env.name("app");
    env.write_file("template.yaml", &image_template(&["One", "Two"]));
    deploy(&env, &stack, &[]).assert_success();
    env.write_file("template.yaml", &image_template(&["One", "Three"]));
    // Other tests share the emulator: compare this test's own repositories and objects.
    let escaped = CompanionStack::new(&stack).escaped_parent().to_string();
    let own_repos = || -> Vec<String> {
        env.emu
            .repositories()
            .into_iter()
            .filter(|r| r.starts_with(&escaped))
            .collect()
    };
    let bucket = managed_bucket(&env);
    let repos_before = own_repos();
    let objects_before = objects_under(&env, &bucket, &stack);
    let out = deploy(&env, &stack, &["--dry-run", "--output", "json"]);
    out.assert_success();
    let plan: serde_json::Value = serde_json::from_str(&out.stdout).expect("one JSON document");
    let companion = &plan["companion"];
    assert_eq!(
        companion["companion_stack_name"],
        CompanionStack::new(&stack).name()
    );
    let actions: Vec<(String, String)> = companion["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["function"].as_str().unwrap().to_string(),
                r["action"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("One".to_string(), "keep".to_string()),
            ("Three".to_string(), "create".to_string())
        ]
    );
    assert_eq!(
        companion["retire"][0]["repository_name"],
        repo_name(&stack, "Two")
    );
    assert_eq!(own_repos(), repos_before);
    assert_eq!(objects_under(&env, &bucket, &stack), objects_before);
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );
}

/// sam stops at 200 image functions (200 outputs); samrs renders no outputs and sends large
/// companion templates through S3.
#[test]
fn two_hundred_and_one_image_functions() {
    many_functions(201);
}

#[test]
fn five_hundred_image_functions() {
    many_functions(500);
}

fn many_functions(count: usize) {
    let env = TestEnv::new(&format!("companion-{count}"));
    let stack = env.name("app");
    // Plain Lambda functions keep the main stack small for the emulator; they count as image
    // functions all the same.
    let mut t = String::from("Resources:\n  LambdaRole:\n    Type: AWS::IAM::Role\n    Properties:\n      AssumeRolePolicyDocument:\n        Version: '2012-10-17'\n        Statement:\n          - Effect: Allow\n            Principal: {Service: lambda.amazonaws.com}\n            Action: sts:AssumeRole\n");
    for i in 0..count {
        t.push_str(&format!(
            "  Fn{i}:\n    Type: AWS::Lambda::Function\n    Properties:\n      PackageType: Image\n      Role: !GetAtt LambdaRole.Arn\n      Code:\n        ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/fn:v1\n    Metadata:\n      DockerContext: ./fn{i}\n"
        ));
    }
    env.write_file("template.yaml", &t);
    let out = deploy(&env, &stack, &[]);
    out.assert_success();
    let companion = CompanionStack::new(&stack);
    let repos = env.emu.stack_resources(companion.name());
    assert_eq!(repos.len(), count);
    let all = env.emu.repositories();
    assert!(repos.iter().all(|r| all.contains(&r.physical_id)));
}
