//! End to end: what samrs must never do with secrets. Credentials and the ECR password never
//! reach its output (with every logging variable turned up, on success and on failure), scratch
//! files of an image push are private, and the registry login never goes over plain HTTP to a
//! host that is not loopback.

use std::os::unix::fs::PermissionsExt;

use crate::faults::{app, deploy};
use crate::harness::{basic_auth, Fault, FaultProxy, Rule, TestEnv, SIGKILL};

const SECRET_KEY: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETKEY";
const SESSION_TOKEN: &str = "FwoGZXIvYXdzEXAMPLESESSIONTOKENsecret";
const ECR_PASSWORD: &str = "123456789012-auth-token";

fn assert_no_secret(what: &str, text: &str) {
    let token = basic_auth("AWS", ECR_PASSWORD);
    let token = token.trim_start_matches("Basic ");
    for secret in [SECRET_KEY, SESSION_TOKEN, ECR_PASSWORD, token] {
        assert!(!text.contains(secret), "{what} shows {secret}:\n{text}");
    }
}

#[test]
fn credentials_and_ecr_tokens_are_never_printed() {
    let mut env = TestEnv::new("sec-secrets");
    let proxy = FaultProxy::start(&mut env);
    env.set_env("AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    env.set_env("AWS_SESSION_TOKEN", SESSION_TOKEN);
    env.set_env("RUST_LOG", "trace");
    env.set_env("AWS_LOG_LEVEL", "trace");
    env.set_env("SAM_DEBUG", "1");
    app(&env);
    let stack = env.name("app");
    // Failures print the most: the upload, the token call and the stack creation each failing
    // (the upload first: the change set, made beside the pushes, uploads its template).
    for kind in [
        "^s3:PUT ",
        "^ecr:GetAuthorizationToken$",
        "^cloudformation:CreateChangeSet$",
    ] {
        proxy.set(&[Rule::always(kind, Fault::Internal)]);
        let out = deploy(&env, &stack);
        assert_eq!(out.status.code(), Some(1), "{out}");
        assert_no_secret(kind, &format!("{}{}", out.stdout, out.stderr));
    }
    proxy.set(&[]);
    let out = deploy(&env, &stack);
    out.assert_success();
    assert_no_secret("a deploy", &format!("{}{}", out.stdout, out.stderr));
    let out = env.samrs(&[
        "deploy",
        "--stack-name",
        &stack,
        "--resolve-s3",
        "--resolve-image-repos",
        "--output",
        "json",
    ]);
    assert_no_secret("--output json", &format!("{}{}", out.stdout, out.stderr));
}

/// A push's scratch files, seen while samrs waits for its ECR login (it has read the image by
/// then), are the owner's only.
#[test]
fn push_scratch_files_are_private() {
    let mut env = TestEnv::new("sec-tmp");
    let proxy = FaultProxy::start(&mut env);
    let tmp = env.work_dir().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    env.set_env("TMPDIR", &tmp.to_string_lossy());
    app(&env);
    proxy.set(&[Rule::times(
        "^ecr:GetAuthorizationToken$",
        Fault::Delay(3.0),
        1,
    )]);
    let run = env.spawn_samrs(&[
        "deploy",
        "--stack-name",
        &env.name("app"),
        "--resolve-s3",
        "--resolve-image-repos",
        "--capabilities",
        "CAPABILITY_IAM",
    ]);
    proxy.wait_until_held("ecr:GetAuthorizationToken");
    let mut seen = Vec::new();
    for entry in walkdir::WalkDir::new(&tmp).min_depth(1) {
        let entry = entry.unwrap();
        let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
        let want = if entry.file_type().is_dir() {
            0o700
        } else {
            0o600
        };
        assert_eq!(mode, want, "{} is {mode:o}", entry.path().display());
        seen.push(entry.path().to_path_buf());
    }
    run.signal(SIGKILL);
    run.finish();
    assert!(
        seen.iter().any(|p| p.is_file() || p.extension().is_some()),
        "no scratch files under {}: {seen:?}",
        tmp.display()
    );
}

/// A registry endpoint over plain HTTP that is not loopback is refused before any login: no
/// ECR token is even asked for.
#[test]
fn plain_http_registry_endpoints_must_be_loopback() {
    let mut env = TestEnv::new("sec-http");
    let proxy = FaultProxy::start(&mut env);
    app(&env);
    let stack = env.name("app");
    for endpoint in ["http://192.0.2.10:5000", "http://registry.example.com"] {
        env.set_env("SAMRS_REGISTRY_ENDPOINT", endpoint);
        let out = deploy(&env, &stack);
        assert_eq!(out.status.code(), Some(1), "{out}");
        let errors: Vec<&str> = out
            .stderr
            .lines()
            .filter(|l| l.starts_with("Error:"))
            .collect();
        assert_eq!(errors.len(), 1, "{out}");
        assert!(
            errors[0].contains("plain HTTP to a non-loopback host"),
            "{}",
            errors[0]
        );
    }
    assert!(
        !proxy
            .log()
            .iter()
            .any(|c| c.name == "ecr:GetAuthorizationToken"),
        "a token was fetched for a refused endpoint"
    );
}
