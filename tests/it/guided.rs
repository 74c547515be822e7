//! `samrs deploy --guided` at a real terminal (tmux): sam's conversation, the samconfig.toml it
//! writes, defaults on the second run, declined managed repositories, consent before deleting
//! repositories, Ctrl-C, and what a committed file then does without a terminal.

use samrs::companion::{CompanionStack, EcrRepo};

use crate::harness::{TestEnv, Tty};

pub fn template(functions: &[&str]) -> String {
    let mut t = String::from("AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n");
    for f in functions {
        t.push_str(&format!(
            "  {f}:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      ImageUri: 123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt/{l}:v1\n    Metadata:\n      DockerTag: v1\n      DockerContext: ./{l}\n",
            l = f.to_lowercase()
        ));
    }
    t
}

/// The first run's answers: a stack name, then every default.
pub fn first_run(env: &TestEnv, stack: &str) -> Tty {
    let tty = Tty::start(env, &["deploy", "--guided"]);
    tty.answer("Stack Name [sam-app]: ", stack);
    tty.answer("AWS Region [us-east-1]: ", "");
    tty.answer("Confirm changes before deploy [y/N]: ", "");
    tty.answer("Allow SAM CLI IAM role creation [Y/n]: ", "");
    tty.answer("Disable rollback [y/N]: ", "");
    tty.answer("Save arguments to configuration file [Y/n]: ", "");
    tty.answer("SAM configuration file [samconfig.toml]: ", "");
    tty.answer("SAM configuration environment [default]: ", "");
    tty
}

fn samconfig(env: &TestEnv) -> Option<String> {
    std::fs::read_to_string(env.work_dir().join("samconfig.toml")).ok()
}

#[test]
fn first_and_second_guided_runs() {
    let env = TestEnv::new("guided-first");
    let stack = env.name("app");
    env.write_file(
        "template.yaml",
        &template(&["TestFunction", "TestFunction2"]),
    );
    let tty = first_run(&env, &stack);
    tty.expect("\t Image repositories: Not found.".trim_start_matches('\t'));
    tty.answer(
        "Create managed ECR repositories for all functions? [Y/n]: ",
        "",
    );
    tty.expect(&format!(
        "Successfully created/updated stack - {stack} in us-east-1"
    ));
    assert_eq!(tty.exit_code(), 0, "{}", tty.screen());
    let screen = tty.screen();
    for line in [
        "Looking for config file [samconfig.toml] :  Not found",
        "#Shows you resources changes to be deployed and require a 'Y' to initiate deploy",
        "Managed S3 bucket: ",
        "Saved arguments to config file",
        "Deploying with following values",
    ] {
        assert!(screen.contains(line), "{line:?} missing from\n{screen}");
    }
    assert_eq!(
        samconfig(&env).expect("samconfig.toml written"),
        format!(
            "version = 0.1\n\n[default.deploy.parameters]\nstack_name = \"{stack}\"\nresolve_s3 = true\ns3_prefix = \"{stack}\"\nresolve_image_repos = true\nregion = \"us-east-1\"\ncapabilities = \"CAPABILITY_IAM\"\n\n[default.global.parameters]\nregion = \"us-east-1\"\n"
        )
    );
    assert_eq!(
        env.emu.stack_status(&stack).as_deref(),
        Some("CREATE_COMPLETE")
    );
    let companion = CompanionStack::new(&stack);
    for f in ["TestFunction", "TestFunction2"] {
        let repo = EcrRepo::for_function(&companion, f)
            .repository_name()
            .to_string();
        assert!(env.emu.repositories().contains(&repo), "{repo}");
    }
    drop(tty);

    // Second run: the saved answers are the defaults, the repositories are found.
    let tty = Tty::start(&env, &["deploy", "--guided"]);
    tty.expect("Looking for config file [samconfig.toml] :  Found");
    tty.expect("Reading default arguments  :  Success");
    tty.answer(&format!("Stack Name [{stack}]: "), "");
    tty.answer("AWS Region [us-east-1]: ", "");
    tty.answer("Confirm changes before deploy [y/N]: ", "");
    tty.answer("Allow SAM CLI IAM role creation [Y/n]: ", "");
    tty.answer("Disable rollback [y/N]: ", "");
    tty.answer("Save arguments to configuration file [Y/n]: ", "");
    tty.answer("SAM configuration file [samconfig.toml]: ", "");
    tty.answer("SAM configuration environment [default]: ", "");
    tty.expect("Image repositories: Found (2 of 2) #Different image repositories can be set in samconfig.toml");
    tty.expect(&format!(
        "No changes to deploy. Stack {stack} is up to date"
    ));
    assert_eq!(
        tty.exit_code(),
        1,
        "sam's exit status for an empty change set"
    );
    // sam's de-duplication: region now lives only in the global table.
    let saved = samconfig(&env).unwrap();
    assert!(
        !saved
            .split("[default.global.parameters]")
            .next()
            .unwrap()
            .contains("region"),
        "{saved}"
    );
}

#[test]
fn declined_managed_repositories_take_typed_uris() {
    let env = TestEnv::new("guided-declined");
    let stack = env.name("app");
    env.write_file("template.yaml", &template(&["Fn"]));

    // An invalid URI is rejected as sam does: nothing saved, nothing deployed.
    let tty = first_run(&env, &stack);
    tty.answer(
        "Create managed ECR repositories for all functions? [Y/n]: ",
        "n",
    );
    tty.answer("ECR repository for Fn: ", "not-a-uri");
    assert_eq!(tty.exit_code(), 1);
    assert!(
        tty.screen()
            .contains("Invalid Image Repository ECR URI: not-a-uri"),
        "{}",
        tty.screen()
    );
    assert_eq!(samconfig(&env), None);
    assert_eq!(env.emu.stack_status(&stack), None);
    drop(tty);

    let uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mine/fn";
    let tty = first_run(&env, &stack);
    tty.answer(
        "Create managed ECR repositories for all functions? [Y/n]: ",
        "n",
    );
    tty.answer("ECR repository for Fn: ", uri);
    tty.expect("Successfully created/updated stack");
    assert_eq!(tty.exit_code(), 0, "{}", tty.screen());
    let saved = samconfig(&env).unwrap();
    assert!(
        saved.contains(&format!("image_repositories = [\"Fn={uri}\"]")),
        "{saved}"
    );
    assert!(!saved.contains("resolve_image_repos"), "{saved}");
    assert_eq!(
        env.emu.stack_status(CompanionStack::new(&stack).name()),
        None
    );
}

#[test]
fn refusing_to_delete_unreferenced_repositories_changes_nothing() {
    let env = TestEnv::new("guided-unreferenced");
    let stack = env.name("app");
    env.write_file("template.yaml", &template(&["Keep", "Gone"]));
    let tty = first_run(&env, &stack);
    tty.answer(
        "Create managed ECR repositories for all functions? [Y/n]: ",
        "",
    );
    assert_eq!(tty.exit_code(), 0, "{}", tty.screen());
    drop(tty);
    let before = samconfig(&env).unwrap();

    env.write_file("template.yaml", &template(&["Keep"]));
    let tty = Tty::start(&env, &["deploy", "--guided"]);
    for prompt in [
        "Stack Name [",
        "AWS Region [",
        "Confirm changes before deploy",
        "Allow SAM CLI IAM role creation",
        "Disable rollback",
        "Save arguments to configuration file",
        "SAM configuration file",
        "SAM configuration environment",
    ] {
        tty.answer(prompt, "");
    }
    tty.expect("Checking for unreferenced ECR repositories to clean-up: 1 found");
    tty.answer(
        "Delete the unreferenced repositories listed above when deploying? [y/N]: ",
        "",
    );
    assert_eq!(tty.exit_code(), 1);
    assert!(
        tty.screen()
            .contains("Unreferenced Auto Created ECR Repos Must Be Deleted."),
        "{}",
        tty.screen()
    );
    assert_eq!(
        samconfig(&env).unwrap(),
        before,
        "samconfig.toml must not change"
    );
    let gone = EcrRepo::for_function(&CompanionStack::new(&stack), "Gone")
        .repository_name()
        .to_string();
    assert!(env.emu.repositories().contains(&gone));
}

#[test]
fn ctrl_c_at_any_prompt_leaves_no_file_and_no_stack() {
    for prompt in [
        "Stack Name [sam-app]: ",
        "Confirm changes before deploy [y/N]: ",
        "Create managed ECR repositories for all functions? [Y/n]: ",
    ] {
        let env = TestEnv::new("guided-ctrl-c");
        let stack = env.name("app");
        env.write_file("template.yaml", &template(&["Fn"]));
        let tty = Tty::start(&env, &["deploy", "--guided"]);
        if prompt.starts_with("Stack Name") {
            tty.interrupt_at(prompt);
        } else {
            tty.answer("Stack Name [sam-app]: ", &stack);
            for earlier in [
                "AWS Region",
                "Confirm changes before deploy",
                "Allow SAM CLI IAM role creation",
                "Disable rollback",
                "Save arguments to configuration file",
                "SAM configuration file",
                "SAM configuration environment",
            ] {
                if prompt.starts_with(earlier) {
                    break;
                }
                tty.answer(earlier, "");
            }
            tty.interrupt_at(prompt);
        }
        assert_ne!(tty.exit_code(), 0, "Ctrl-C at {prompt:?}");
        assert_eq!(samconfig(&env), None, "Ctrl-C at {prompt:?}");
        assert_eq!(env.emu.stack_status(&stack), None, "Ctrl-C at {prompt:?}");
        assert_eq!(
            env.emu.stack_status(CompanionStack::new(&stack).name()),
            None
        );
    }
}

#[test]
fn an_existing_samconfig_keeps_comments_and_other_environments() {
    let env = TestEnv::new("guided-keep");
    let stack = env.name("app");
    env.write_file("template.yaml", &template(&["Fn"]));
    let head = "# Team settings: do not remove\nversion = 0.1\n\n[prod.deploy.parameters]\n# production stack\nstack_name = \"prod-app\" # pinned\nregion = \"eu-west-1\"\n\n[default.build.parameters]\ncached = true\n";
    env.write_file("samconfig.toml", head);
    let tty = first_run(&env, &stack);
    tty.answer(
        "Create managed ECR repositories for all functions? [Y/n]: ",
        "",
    );
    assert_eq!(tty.exit_code(), 0, "{}", tty.screen());
    let saved = samconfig(&env).unwrap();
    assert!(
        saved.starts_with(head),
        "the untouched part changed:\n{saved}"
    );
    assert!(
        saved.contains(&format!(
            "[default.deploy.parameters]\nstack_name = \"{stack}\""
        )),
        "{saved}"
    );
}

#[test]
fn guided_without_a_terminal_says_what_to_use_instead() {
    let env = TestEnv::new("guided-notty");
    env.write_file("template.yaml", &template(&["Fn"]));
    let out = env.samrs(&["deploy", "--guided"]);
    assert_eq!(out.status.code(), Some(1), "{out}");
    assert!(out.stderr.contains("--guided needs a terminal"), "{out}");
    assert!(out.stderr.contains("--resolve-image-repos"), "{out}");
}

#[test]
fn a_committed_samconfig_deploys_without_a_terminal() {
    let env = TestEnv::new("guided-ci");
    let stack = env.name("app");
    env.write_file("template.yaml", &template(&["Fn"]));
    let tty = first_run(&env, &stack);
    tty.answer(
        "Create managed ECR repositories for all functions? [Y/n]: ",
        "",
    );
    assert_eq!(tty.exit_code(), 0, "{}", tty.screen());
    drop(tty);
    // CI: a new function, plain `samrs deploy`, no terminal.
    env.write_file("template.yaml", &template(&["Fn", "Added"]));
    env.samrs(&["deploy"]).assert_success();
    let added = EcrRepo::for_function(&CompanionStack::new(&stack), "Added")
        .repository_name()
        .to_string();
    assert!(env.emu.repositories().contains(&added));
    env.samrs(&[
        "deploy",
        "--resolve-image-repos",
        "--no-fail-on-empty-changeset",
    ])
    .assert_success();
}

/// A project whose samconfig is YAML: guided offers that file, saves into it as sam lays it out
/// (comments, other commands and environments kept), and the samconfig warnings and the
/// --debug log come before the first question, as in sam.
#[test]
fn a_commented_samconfig_yaml_is_saved_in_place() {
    let env = TestEnv::new("guided-yaml");
    let stack = env.name("app");
    env.write_file("template.yaml", &template(&["Fn"]));
    let before = format!(
        "# Deploy settings, reviewed by the platform team.\nversion: 0.1\n\ndefault:\n  deploy:\n    parameters:\n      # Keep in sync with the pipeline.\n      stack_name: {stack}   # the app\n      resolve_s3: true\n      capabilities: CAPABILITY_IAM\n      retries: 3\n  build:\n    parameters:\n      cached: true   # faster builds\n\nprod:\n  deploy:\n    parameters:\n      stack_name: prod-app\n"
    );
    env.write_file("samconfig.yaml", &before);
    let tty = Tty::start(&env, &["deploy", "--guided", "--debug"]);
    tty.expect("Looking for config file [samconfig.yaml] :  Found");
    tty.answer(&format!("Stack Name [{stack}]: "), "");
    for prompt in [
        "AWS Region [us-east-1]: ",
        "Confirm changes before deploy [y/N]: ",
        "Allow SAM CLI IAM role creation [Y/n]: ",
        "Disable rollback [y/N]: ",
        "Save arguments to configuration file [Y/n]: ",
        "SAM configuration file [samconfig.yaml]: ",
        "SAM configuration environment [default]: ",
        "Create managed ECR repositories for all functions? [Y/n]: ",
    ] {
        tty.answer(prompt, "");
    }
    tty.expect(&format!(
        "Successfully created/updated stack - {stack} in us-east-1"
    ));
    assert_eq!(tty.exit_code(), 0, "{}", tty.screen());
    let screen = tty.screen();
    let at = |text: &str| {
        screen
            .find(text)
            .unwrap_or_else(|| panic!("{text:?} missing from\n{screen}"))
    };
    let questions = at("Configuring SAM deploy");
    assert!(at("retries") < questions, "{screen}");
    assert!(at("Config file location:") < questions, "{screen}");
    assert!(
        at("Expand command line arguments to:") < questions,
        "{screen}"
    );

    let saved = std::fs::read_to_string(env.work_dir().join("samconfig.yaml")).unwrap();
    let expected = format!(
        "# Deploy settings, reviewed by the platform team.\nversion: 0.1\n\ndefault:\n  deploy:\n    parameters:\n      # Keep in sync with the pipeline.\n      stack_name: {stack}   # the app\n      resolve_s3: true\n      capabilities: CAPABILITY_IAM\n      retries: 3\n      s3_prefix: {stack}\n      resolve_image_repos: true\n      region: us-east-1\n  build:\n    parameters:\n      cached: true   # faster builds\n  global:\n    parameters:\n      region: us-east-1\n\nprod:\n  deploy:\n    parameters:\n      stack_name: prod-app\n"
    );
    assert_eq!(saved, expected);
    assert!(!env.work_dir().join("samconfig.toml").exists());

    // The saved file deploys without a terminal.
    env.samrs(&["deploy", "--no-fail-on-empty-changeset"])
        .assert_success();
}
