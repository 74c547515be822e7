use indexmap::IndexMap;

use super::*;
use crate::companion::RepoSettings;
use crate::plan::failure::FailurePlan;
use crate::plan::images::ImagePush;
use crate::plan::{AfterChangeSet, BucketPlan, CompanionStep, MainStackPlan};

const ARN: &str =
    "arn:aws:cloudformation:us-east-1:123456789012:changeSet/samrs-deploy1/6a1c2f0e-1b2c";
const STACK_ID: &str = "arn:aws:cloudformation:us-east-1:123456789012:stack/app/1f2e";

fn fingerprint(status: &str, template: &str) -> StackFingerprint {
    StackFingerprint {
        stack_id: STACK_ID.into(),
        status: status.into(),
        last_updated: Some("2026-11-27T10:00:00Z".into()),
        template_sha256: Some(template_sha256(template)),
    }
}

fn companion(account: &str) -> CompanionStep {
    let plan = crate::companion::plan(&crate::companion::PlanInput {
        stack_name: "app",
        functions: &["Fn".to_string()],
        image_repositories: &IndexMap::new(),
        resolve_image_repos: true,
        account,
        region: "us-east-1",
        companion_status: None,
        deployed: &[],
        settings: &RepoSettings::default(),
        tags: &[],
        version: "0.1.0",
    })
    .unwrap();
    CompanionStep::new(account.into(), plan)
}

fn saved() -> SavedPlan {
    SavedPlan {
        format: FORMAT.into(),
        version: VERSION,
        samrs_version: "0.1.0".into(),
        created: "2026-11-27T10:05:00Z".into(),
        account: "123456789012".into(),
        change_set: SavedChangeSet {
            arn: ARN.into(),
            name: "samrs-deploy1".into(),
            create: false,
            template_sha256: template_sha256("Resources: {new: 1}\n"),
            changes: Vec::new(),
        },
        fingerprint: Fingerprint {
            stack: Some(fingerprint("UPDATE_COMPLETE", "Resources: {old: 1}\n")),
            companion: None,
        },
        artifacts: Artifacts {
            bucket: Some("bucket".into()),
            keys: vec!["app/0123.zip".into()],
        },
        functions: vec!["Fn".into()],
        settings: SavedSettings {
            max_wait_seconds: 3600,
            ..crate::settings::example_saved_settings()
        },
        plan: DeployPlan {
            stack_name: "app".into(),
            region: "us-east-1".into(),
            preview: false,
            bucket: BucketPlan::Given("bucket".into()),
            companion: Some(companion("123456789012")),
            images: vec![ImagePush {
                function: "Fn".into(),
                image_uri: "oci:./fn".into(),
                repository_uri: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app/fn".into(),
                tag: "latest".into(),
                architecture: "x86_64".into(),
                digest: Some(format!("sha256:{}", "a".repeat(64))),
            }],
            main: MainStackPlan {
                failure: FailurePlan {
                    execute_disable_rollback: Some(false),
                    express: None,
                    delete_failed_create: false,
                },
                then: AfterChangeSet::Save,
                fail_on_empty: true,
            },
        },
        review: None,
    }
}

/// What an apply finds when nothing happened since the plan.
fn unchanged() -> Found {
    Found {
        account: "123456789012".into(),
        change_set: ChangeSetState::Available,
        stack: Some(fingerprint("UPDATE_COMPLETE", "Resources: {old: 1}\n")),
        companion: None,
    }
}

#[test]
fn a_plan_nothing_moved_under_is_applied() {
    assert_eq!(check(&saved(), &unchanged()), Ok(()));
}

#[test]
fn a_plan_reads_back_as_it_was_written_and_other_files_are_refused() {
    let plan = saved();
    let text = plan.to_json();
    assert!(text.ends_with('\n'));
    // (The companion plan's rendering context is not saved: its templates are.)
    let read = SavedPlan::from_json("plan.json", &text).unwrap();
    assert_eq!(read.to_json(), text);
    assert_eq!(read.change_set, plan.change_set);
    let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The reviewers' description rides along when there is one.
    value["review"] = serde_json::json!({"resources": []});
    let with_review = SavedPlan::from_json("plan.json", &value.to_string()).unwrap();
    assert!(with_review.review.is_some());
    value["version"] = serde_json::json!(2);
    assert_eq!(
        SavedPlan::from_json("plan.json", &value.to_string())
            .unwrap_err()
            .to_string(),
        "The plan file plan.json is not a samrs plan (version 2, this samrs reads version 1)"
    );
    assert_eq!(
        SavedPlan::from_json("template.yaml", "Resources: {}")
            .unwrap_err()
            .to_string(),
        "The plan file template.yaml is not a samrs plan (not JSON: expected value at line 1 column 1)"
    );
    assert!(SavedPlan::from_json("x.json", "{\"format\": \"terraform\"}").is_err());
}

#[test]
fn an_executed_change_set_still_running_says_it_is_being_applied() {
    let found = Found {
        change_set: ChangeSetState::Executed,
        stack: Some(fingerprint("UPDATE_IN_PROGRESS", "Resources: {new: 1}\n")),
        ..unchanged()
    };
    assert_eq!(
        check(&saved(), &found).unwrap_err().to_string(),
        "The plan is being applied: change set samrs-deploy1 of stack app was executed and the stack is UPDATE_IN_PROGRESS; follow it with `aws cloudformation describe-stack-events --stack-name app`"
    );
}

#[test]
fn an_executed_change_set_means_the_plan_was_applied() {
    let found = Found {
        change_set: ChangeSetState::Executed,
        stack: Some(fingerprint("UPDATE_COMPLETE", "Resources: {new: 1}\n")),
        ..unchanged()
    };
    assert_eq!(
        check(&saved(), &found).unwrap_err().to_string(),
        "The plan was applied already (change set samrs-deploy1 of stack app was executed); make a new one with `samrs deploy --plan-out FILE`"
    );
    // A change set CloudFormation no longer keeps, on a stack that has the planned template.
    let gone = Found {
        change_set: ChangeSetState::Gone,
        ..found
    };
    assert!(matches!(
        check(&saved(), &gone),
        Err(Refusal::AppliedAlready { .. })
    ));
}

#[test]
fn a_stack_updated_by_another_deploy_is_refused_with_what_moved() {
    let moved = Found {
        stack: Some(StackFingerprint {
            last_updated: Some("2026-11-27T10:07:00Z".into()),
            ..fingerprint("UPDATE_COMPLETE", "Resources: {other: 1}\n")
        }),
        ..unchanged()
    };
    assert_eq!(
        check(&saved(), &moved).unwrap_err().to_string(),
        "Stack app changed since the plan was made (last updated 2026-11-27T10:07:00Z now, its template changed); make a new plan with `samrs deploy --plan-out FILE`"
    );
    // CloudFormation removes the other change sets of a stack when one is executed.
    let gone = Found {
        change_set: ChangeSetState::Gone,
        ..moved
    };
    assert_eq!(
        check(&saved(), &gone).unwrap_err().to_string(),
        "Stack app changed since the plan was made (last updated 2026-11-27T10:07:00Z now, its template changed, and the plan's change set is gone); make a new plan with `samrs deploy --plan-out FILE`"
    );
    let busy = Found {
        stack: Some(fingerprint("UPDATE_IN_PROGRESS", "Resources: {old: 1}\n")),
        ..unchanged()
    };
    assert!(check(&saved(), &busy)
        .unwrap_err()
        .to_string()
        .contains("(UPDATE_COMPLETE then, UPDATE_IN_PROGRESS now)"));
    let recreated = Found {
        stack: Some(StackFingerprint {
            stack_id: format!("{STACK_ID}-2"),
            ..fingerprint("UPDATE_COMPLETE", "Resources: {old: 1}\n")
        }),
        ..unchanged()
    };
    assert!(check(&saved(), &recreated)
        .unwrap_err()
        .to_string()
        .contains("it was deleted and created again"));
    let deleted = Found {
        stack: None,
        change_set: ChangeSetState::Gone,
        ..unchanged()
    };
    assert!(check(&saved(), &deleted)
        .unwrap_err()
        .to_string()
        .contains("(it was deleted, and the plan's change set is gone)"));
}

#[test]
fn a_deleted_or_failed_change_set_is_refused() {
    let gone = Found {
        change_set: ChangeSetState::Gone,
        ..unchanged()
    };
    assert_eq!(
        check(&saved(), &gone).unwrap_err().to_string(),
        "The plan's change set samrs-deploy1 of stack app is gone (deleted); make a new plan with `samrs deploy --plan-out FILE`"
    );
    let failed = Found {
        change_set: ChangeSetState::of("CREATE_COMPLETE", "OBSOLETE", ""),
        ..unchanged()
    };
    assert_eq!(
        check(&saved(), &failed).unwrap_err().to_string(),
        "The plan's change set samrs-deploy1 of stack app cannot be executed (CREATE_COMPLETE/OBSOLETE); make a new plan with `samrs deploy --plan-out FILE`"
    );
}

#[test]
fn change_set_states_follow_describe_change_set() {
    assert_eq!(
        ChangeSetState::of("CREATE_COMPLETE", "AVAILABLE", ""),
        ChangeSetState::Available
    );
    assert_eq!(
        ChangeSetState::of("CREATE_COMPLETE", "EXECUTE_COMPLETE", ""),
        ChangeSetState::Executed
    );
    assert_eq!(
        ChangeSetState::of("CREATE_COMPLETE", "EXECUTE_IN_PROGRESS", ""),
        ChangeSetState::Executed
    );
    assert_eq!(
        ChangeSetState::of("FAILED", "UNAVAILABLE", "Template error"),
        ChangeSetState::Unusable("FAILED/UNAVAILABLE: Template error".into())
    );
    assert_eq!(
        ChangeSetState::of("DELETE_COMPLETE", "", ""),
        ChangeSetState::Gone
    );
}

#[test]
fn other_credentials_are_refused() {
    let found = Found {
        account: "210987654321".into(),
        ..unchanged()
    };
    assert_eq!(
        check(&saved(), &found),
        Err(Refusal::OtherAccount {
            planned: "123456789012".into(),
            now: "210987654321".into()
        })
    );
}

#[test]
fn a_companion_stack_that_moved_is_refused_unless_it_has_the_plans_phase_one() {
    let made_by_someone = Found {
        companion: Some(fingerprint("CREATE_COMPLETE", "Resources: {}\n")),
        ..unchanged()
    };
    assert_eq!(
        check(&saved(), &made_by_someone).unwrap_err().to_string(),
        "Stack app-d2a57dc1-CompanionStack changed since the plan was made (it was created, CREATE_COMPLETE); make a new plan with `samrs deploy --plan-out FILE`"
    );
    // An apply of this plan stopped after phase 1 (a push failed, Ctrl-C): it goes on.
    let phase1 = saved()
        .plan
        .companion
        .and_then(|c| c.phase1_template)
        .unwrap();
    let interrupted = Found {
        companion: Some(fingerprint("CREATE_COMPLETE", &phase1)),
        ..unchanged()
    };
    assert_eq!(check(&saved(), &interrupted), Ok(()));
    let failed = Found {
        companion: Some(fingerprint("ROLLBACK_COMPLETE", &phase1)),
        ..unchanged()
    };
    assert!(check(&saved(), &failed).is_err());
}

#[test]
fn an_image_that_is_not_the_planned_one_is_refused() {
    let planned = format!("sha256:{}", "a".repeat(64));
    let rebuilt = format!("sha256:{}", "b".repeat(64));
    assert_eq!(
        check_images(&saved(), &HashMap::from([("Fn".into(), planned.clone())])),
        Ok(())
    );
    assert_eq!(
        check_images(&saved(), &HashMap::from([("Fn".into(), rebuilt.clone())])),
        Err(Refusal::ImageChanged {
            function: "Fn".into(),
            planned: planned.clone(),
            now: rebuilt
        })
    );
    assert!(matches!(
        check_images(&saved(), &HashMap::new()),
        Err(Refusal::ImageChanged { now, .. }) if now == "none"
    ));
}
