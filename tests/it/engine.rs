//! End to end: an image function whose `ImageUri` names an image in a Docker-compatible engine
//! (as `sam build` leaves it) is read through the engine's HTTP API, without the docker CLI,
//! pushed and deployed. The test runs its own podman API service (Debian's `podman`, installed by
//! `tests/emulator/emulators.sh install`), stopped by PID when the test ends.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use samrs::companion::{CompanionStack, EcrRepo};

use crate::harness::TestEnv;

/// A podman API service with a root of its own (vfs storage: no mounts left behind).
struct Podman {
    child: Child,
    socket: PathBuf,
    _dir: tempfile::TempDir,
}

impl Podman {
    /// None when podman is not installed.
    fn start() -> Option<Podman> {
        Command::new("podman").arg("--version").output().ok()?;
        let dir = tempfile::tempdir().expect("a temp dir for podman");
        let socket = dir.path().join("podman.sock");
        let child = Command::new("podman")
            .arg("--root")
            .arg(dir.path().join("root"))
            .arg("--runroot")
            .arg(dir.path().join("run"))
            .args(["--storage-driver", "vfs", "system", "service", "--time=0"])
            .arg(format!("unix://{}", socket.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start podman system service");
        let podman = Podman {
            child,
            socket,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while podman.api(&[], "/_ping") != "OK" {
            assert!(
                Instant::now() < deadline,
                "podman's API did not answer within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(podman)
    }

    fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// One API call through curl's unix-socket support; the body as text.
    fn api(&self, curl_args: &[&str], path: &str) -> String {
        let out = Command::new("curl")
            .args(["-s", "--unix-socket"])
            .arg(&self.socket)
            .args(curl_args)
            .arg(format!("http://d{path}"))
            .output()
            .expect("run curl");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Loads a one-layer image into `podman` as `<prefix>-fn:python3.12-v1`, writes a template
/// whose function names it, deploys it with `env` as it is, and checks the function runs it.
fn deploy_an_engine_image(podman: &Podman, env: &TestEnv) {
    let stack = env.name("app");
    let reference = format!("{}-fn:python3.12-v1", env.prefix);
    let archive = env.write_tiny_image("image.tar", &reference, &reference, 0);
    let loaded = podman.api(
        &[
            "-X",
            "POST",
            "-H",
            "Content-Type: application/x-tar",
            "--data-binary",
            &format!("@{}", archive.display()),
        ],
        "/images/load",
    );
    assert!(loaded.contains("Loaded image"), "{loaded}");

    env.write_file(
        "template.yaml",
        &format!(
            "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\nResources:\n  EngineFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      PackageType: Image\n      ImageUri: {reference}\n    Metadata:\n      DockerTag: python3.12-v1\n      DockerContext: ./fn\n"
        ),
    );
    env.samrs(&TestEnv::managed_deploy_args(&stack, &[]))
        .assert_success();

    let repo = EcrRepo::for_function(&CompanionStack::new(&stack), "EngineFunction")
        .repository_name()
        .to_string();
    let tags = env.emu.registry_tags(&repo);
    assert_eq!(tags.len(), 1, "{tags:?}");
    assert!(
        tags[0].starts_with(&format!("{}-fn-", env.prefix)) && tags[0].ends_with("-python3.12-v1"),
        "{tags:?}"
    );
    let physical = env
        .emu
        .stack_resources(&stack)
        .into_iter()
        .find(|r| r.logical_id == "EngineFunction")
        .expect("the function is deployed")
        .physical_id;
    let lambda = env
        .emu
        .lambda_function(&physical)
        .expect("the function is in Lambda");
    let image_uri = lambda["Code"]["ImageUri"].as_str().unwrap_or_default();
    assert!(
        image_uri.contains(&format!("/{repo}@sha256:")),
        "{image_uri}"
    );
}

#[test]
fn an_image_in_a_container_engine_is_pushed_and_deployed() {
    let Some(podman) = Podman::start() else {
        eprintln!("skipped: podman is not installed (bash tests/emulator/emulators.sh install)");
        return;
    };
    let mut env = TestEnv::new("engine");
    env.set_env("DOCKER_HOST", &podman.host());
    deploy_an_engine_image(&podman, &env);
}

/// No DOCKER_HOST: the engine is the endpoint of the docker CLI's current context, as
/// `docker context use` leaves it in ~/.docker.
#[test]
fn the_engine_of_the_current_docker_context_is_used() {
    use sha2::Digest;
    let Some(podman) = Podman::start() else {
        eprintln!("skipped: podman is not installed (bash tests/emulator/emulators.sh install)");
        return;
    };
    let env = TestEnv::new("engine-context");
    let docker = env.home().join(".docker");
    let id: String = sha2::Sha256::digest(b"samrs-podman")
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let meta = docker.join("contexts/meta").join(id);
    std::fs::create_dir_all(&meta).expect("create the context's meta dir");
    std::fs::write(
        docker.join("config.json"),
        r#"{"auths": {}, "currentContext": "samrs-podman"}"#,
    )
    .expect("write ~/.docker/config.json");
    let endpoint = serde_json::json!({
        "Name": "samrs-podman",
        "Metadata": {"Description": "podman in a test"},
        "Endpoints": {"docker": {"Host": podman.host(), "SkipTLSVerify": false}},
    });
    std::fs::write(meta.join("meta.json"), endpoint.to_string()).expect("write meta.json");
    deploy_an_engine_image(&podman, &env);
}
