//! Pushes against a real registry: Debian's `docker-registry` with htpasswd basic auth (the
//! config the emulator script uses) and the patched moto for `GetAuthorizationToken`, both
//! started per test on free loopback ports and killed by PID when the test ends. Results are
//! checked through the registry's own API and its access log, not through the pusher.
//! Tests print why and pass when `docker-registry`, `htpasswd` or the moto server is missing.

use std::cell::RefCell;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::report::Event;
use super::testimage::{
    docker_archive, layer_tar, oci_layout, tagged_docker_archive, ArchiveLayout,
};
use super::*;

const PASSWORD: &str = "123456789012-auth-token";
const ACCOUNT_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// A started server, killed by its PID on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

struct Emulators {
    registry_port: u16,
    registry_log: PathBuf,
    ecr: aws_sdk_ecr::Client,
    dir: tempfile::TempDir,
    _servers: Vec<Server>,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_listening(port: u16, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "{what} did not start on port {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn moto_server() -> Option<PathBuf> {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::env::var_os("SAMRS_MOTO_SERVER")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            manifest_dir.join("tests/emulator/moto_server_patched.py"),
            manifest_dir.join("../shared/emulator/moto_server_patched.py"),
        ])
        .find(|p| p.is_file())
}

fn tool(name: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {name}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Starts the registry and moto, or says why not.
fn start() -> Option<Emulators> {
    let Some(moto) = moto_server() else {
        eprintln!("skipped: moto_server_patched.py not found (set SAMRS_MOTO_SERVER)");
        return None;
    };
    if !tool("docker-registry") || !tool("htpasswd") {
        eprintln!("skipped: apt-get install docker-registry apache2-utils to run registry tests");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let htpasswd = Command::new("htpasswd")
        .args(["-Bbn", "AWS", PASSWORD])
        .output()
        .unwrap();
    std::fs::write(dir.path().join("htpasswd"), htpasswd.stdout).unwrap();
    let registry_port = free_port();
    let config = format!(
        "version: 0.1\nlog: {{level: warn}}\n\
         storage: {{filesystem: {{rootdirectory: {root}/registry}}, delete: {{enabled: true}}}}\n\
         http: {{addr: 127.0.0.1:{registry_port}, secret: offline-tests}}\n\
         auth: {{htpasswd: {{realm: basic-realm, path: {root}/htpasswd}}}}\n",
        root = dir.path().display()
    );
    std::fs::write(dir.path().join("registry.yml"), config).unwrap();
    let registry_log = dir.path().join("registry.log");
    let mut servers = vec![Server(
        Command::new("docker-registry")
            .arg("serve")
            .arg(dir.path().join("registry.yml"))
            .stdout(std::fs::File::create(&registry_log).unwrap())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    )];
    let moto_port = free_port();
    servers.push(Server(
        Command::new("python3")
            .arg(moto)
            .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
            .env("AWS_DEFAULT_REGION", "us-east-1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    wait_listening(registry_port, "docker-registry");
    wait_listening(moto_port, "moto");
    let config = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .region(aws_sdk_ecr::config::Region::new("us-east-1"))
        .endpoint_url(format!("http://127.0.0.1:{moto_port}"))
        .credentials_provider(aws_sdk_ecr::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    Some(Emulators {
        registry_port,
        registry_log,
        ecr: aws_sdk_ecr::Client::from_conf(config),
        dir,
        _servers: servers,
    })
}

impl Emulators {
    fn options(&self) -> Options {
        Options {
            endpoint: Some(format!("http://127.0.0.1:{}", self.registry_port)),
            // Small chunks, so layers go up in several PATCH requests.
            chunk_size: 64 * 1024,
            ..Options::default()
        }
    }

    fn curl(&self, args: &[&str]) -> String {
        let output = Command::new("curl")
            .args(["-sS", "-u", &format!("AWS:{PASSWORD}")])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    }

    fn tags(&self, repo: &str) -> serde_json::Value {
        let url = format!(
            "http://127.0.0.1:{}/v2/{repo}/tags/list",
            self.registry_port
        );
        let body = self.curl(&[&url]);
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["tags"].clone()
    }

    fn manifest_digest(&self, repo: &str, tag: &str) -> String {
        let url = format!(
            "http://127.0.0.1:{}/v2/{repo}/manifests/{tag}",
            self.registry_port
        );
        let accept = "Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";
        let headers = self.curl(&["-I", "-H", accept, &url]);
        headers
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("docker-content-digest: ")
                    .map(str::to_string)
            })
            .unwrap_or_default()
            .trim()
            .to_string()
    }

    /// Access-log lines of requests whose method and path start with `prefix`.
    fn requests(&self, prefix: &str) -> Vec<String> {
        let needle = format!("\"{prefix}");
        std::fs::read_to_string(&self.registry_log)
            .unwrap()
            .lines()
            .filter(|l| l.contains(&needle))
            .map(str::to_string)
            .collect()
    }
}

#[derive(Default)]
struct Recorder(RefCell<Vec<Event>>);

impl Reporter for Recorder {
    fn on_image_start(&self, name: &str, total: u64) {
        self.0.borrow_mut().push(Event::Start {
            name: name.into(),
            total,
        });
    }
    fn on_progress(&self, name: &str, bytes: u64) {
        self.0.borrow_mut().push(Event::Progress {
            name: name.into(),
            bytes,
        });
    }
    fn on_blob(&self, name: &str, digest: &str, outcome: BlobOutcome) {
        let event = Event::Blob {
            name: name.into(),
            digest: digest.into(),
            outcome,
        };
        self.0.borrow_mut().push(event);
    }
    fn on_image_done(&self, name: &str, digest: &str) {
        self.0.borrow_mut().push(Event::Done {
            name: name.into(),
            digest: digest.into(),
        });
    }
}

impl Recorder {
    fn outcomes(&self, digest: &str) -> Vec<BlobOutcome> {
        self.0
            .borrow()
            .iter()
            .filter_map(|e| match e {
                Event::Blob {
                    digest: d, outcome, ..
                } if d == digest => Some(*outcome),
                _ => None,
            })
            .collect()
    }
}

fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}")
}

fn job(function: &str, source: ImageSource, repo: &str) -> PushJob {
    PushJob {
        function: function.into(),
        source,
        repository_uri: format!("{ACCOUNT_HOST}/{repo}"),
        tag: "latest".into(),
        architecture: "x86_64".into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_images_sharing_a_base_layer_once_and_repushes_nothing() {
    let Some(emulators) = start() else { return };
    let seed = unique();
    let base = layer_tar(&format!("base-{seed}"), 300 * 1024);
    let dir = emulators.dir.path();
    let archive_a = dir.join("a.tar");
    docker_archive(
        &archive_a,
        &[base.clone(), layer_tar(&format!("a-{seed}"), 1000)],
        "amd64",
        ArchiveLayout::Podman,
    );
    let archive_c = dir.join("c.tar");
    docker_archive(
        &archive_c,
        &[base.clone(), layer_tar(&format!("c-{seed}"), 1000)],
        "amd64",
        ArchiveLayout::Dockerd,
    );
    let layout = dir.join("layout");
    let oci = oci_layout(
        &layout,
        "v7",
        &[
            (
                "amd64",
                vec![base.clone(), layer_tar(&format!("b-{seed}"), 1000)],
            ),
            ("arm64", vec![layer_tar(&format!("arm-{seed}"), 1000)]),
        ],
    );
    let jobs = vec![
        job(
            "FunctionA",
            ImageSource::DockerArchive(archive_a.clone()),
            "stack/fna",
        ),
        job(
            "FunctionB",
            image_source(&format!("oci:{}:v7", layout.display())).unwrap(),
            "stack/fnb",
        ),
        job(
            "FunctionC",
            ImageSource::DockerArchive(archive_c),
            "stack/fnc",
        ),
    ];
    let recorder = Recorder::default();
    let pushed = push_with(&emulators.ecr, jobs.clone(), &recorder, emulators.options())
        .await
        .unwrap();

    assert_eq!(pushed.len(), 3);
    assert_eq!(
        pushed[1].digest, oci.manifests[0],
        "the OCI manifest is pushed byte for byte"
    );
    let image_a = archive::read(&archive_a, "x86_64", None, tempfile::tempdir().unwrap()).unwrap();
    let expected_tags = [
        sam_tag("FunctionA", &image_a.image_id, None),
        "FunctionB".to_string(),
        "FunctionC".to_string(),
    ];
    for ((image, repo), tag_start) in pushed
        .iter()
        .zip(["stack/fna", "stack/fnb", "stack/fnc"])
        .zip(&expected_tags)
    {
        let tags = emulators.tags(repo);
        let tag = tags[0].as_str().unwrap();
        assert!(tag.starts_with(tag_start.as_str()), "{tag} vs {tag_start}");
        assert_eq!(emulators.manifest_digest(repo, tag), image.digest);
        assert_eq!(
            image.uri_with_digest,
            format!("{ACCOUNT_HOST}/{repo}@{}", image.digest)
        );
    }
    assert!(emulators.tags("stack/fnb")[0]
        .as_str()
        .unwrap()
        .ends_with("-v7"));

    // The shared base layer (same gzip bytes from both archives and the layout) went up once.
    let base_digest = image_a.blobs[1].descriptor.digest.clone();
    let mut outcomes = recorder.outcomes(&base_digest);
    outcomes.sort_by_key(|o| *o as u8);
    assert_eq!(
        outcomes,
        [
            BlobOutcome::Mounted,
            BlobOutcome::Mounted,
            BlobOutcome::Uploaded
        ]
    );
    let mounts = emulators.requests("POST /v2/stack/");
    let mounts: Vec<_> = mounts
        .iter()
        .filter(|l| l.contains(&format!("mount={base_digest}")))
        .collect();
    assert_eq!(mounts.len(), 2, "{mounts:?}");
    assert!(mounts.iter().all(|l| l.contains("\" 201 ")), "{mounts:?}");
    // Uploaded: the base layer once (300 KiB of random data gzips to just over 300 KiB: five
    // 64 KiB chunks), three configs and three own layers (one chunk each).
    assert_eq!(emulators.requests("PATCH ").len(), 5 + 3 + 3);

    // Progress adds up to each image's total.
    for function in ["FunctionA", "FunctionB", "FunctionC"] {
        let events = recorder.0.borrow();
        let total = events.iter().find_map(|e| match e {
            Event::Start { name, total } if name == function => Some(*total),
            _ => None,
        });
        let done: u64 = events
            .iter()
            .filter_map(|e| match e {
                Event::Progress { name, bytes } if name == function => Some(*bytes),
                _ => None,
            })
            .sum();
        assert_eq!(total, Some(done), "{function}");
    }

    // A second run finds every manifest in place and uploads nothing.
    let writes_before = emulators.requests("PATCH ").len() + emulators.requests("POST ").len();
    let again = Recorder::default();
    let repushed = push_with(&emulators.ecr, jobs, &again, emulators.options())
        .await
        .unwrap();
    assert_eq!(repushed, pushed);
    assert_eq!(
        emulators.requests("PATCH ").len() + emulators.requests("POST ").len(),
        writes_before
    );
    assert_eq!(
        emulators.requests("PUT ").len(),
        7 + 3,
        "7 blobs and 3 manifests, all in the first run"
    );
    assert!(again
        .0
        .borrow()
        .iter()
        .all(|e| !matches!(e, Event::Blob { .. })));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_platform_fails_before_any_upload() {
    let Some(emulators) = start() else { return };
    let seed = unique();
    let dir = emulators.dir.path();
    let archive = dir.join("ok.tar");
    docker_archive(
        &archive,
        &[layer_tar(&format!("ok-{seed}"), 1000)],
        "amd64",
        ArchiveLayout::Dockerd,
    );
    let layout = dir.join("arm-only");
    oci_layout(
        &layout,
        "v1",
        &[("arm64", vec![layer_tar(&format!("arm-{seed}"), 1000)])],
    );
    let jobs = vec![
        job("Ok", ImageSource::DockerArchive(archive), "stack/ok"),
        job(
            "ArmOnly",
            image_source(&format!("oci:{}", layout.display())).unwrap(),
            "stack/armonly",
        ),
    ];
    let err = push_with(
        &emulators.ecr,
        jobs,
        &Recorder::default(),
        emulators.options(),
    )
    .await
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("has no linux/amd64 manifest (it has: linux/arm64)"),
        "{err:#}"
    );
    let catalog = emulators.curl(&[&format!(
        "http://127.0.0.1:{}/v2/_catalog",
        emulators.registry_port
    )]);
    assert_eq!(catalog.trim(), r#"{"repositories":[]}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_a_remote_endpoint_is_refused() {
    let config = aws_sdk_ecr::Config::builder()
        .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
        .region(aws_sdk_ecr::config::Region::new("us-east-1"))
        .build();
    let ecr = aws_sdk_ecr::Client::from_conf(config);
    let options = Options {
        endpoint: Some("http://192.0.2.1:5000".into()),
        ..Options::default()
    };
    let jobs = vec![job(
        "F",
        ImageSource::DockerArchive("missing.tar".into()),
        "r",
    )];
    let err = push_with(&ecr, jobs, &Recorder::default(), options)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("plain HTTP to a non-loopback host"),
        "{err}"
    );
}

/// `curl` against the engine `DOCKER_HOST` names.
fn engine_curl(docker_host: &str, args: &[&str], path: &str) -> String {
    let mut command = Command::new("curl");
    command.arg("-sS").args(args);
    if let Some(socket) = docker_host.strip_prefix("unix://") {
        command
            .args(["--unix-socket", socket])
            .arg(format!("http://engine{path}"));
    } else {
        command.arg(format!(
            "{}{path}",
            docker_host.replacen("tcp://", "http://", 1)
        ));
    }
    String::from_utf8_lossy(&command.output().unwrap().stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_an_image_from_the_container_engine() {
    let docker_host =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    if engine_curl(&docker_host, &[], "/_ping") != "OK" {
        eprintln!("skipped: no container engine answers at {docker_host}; start `podman system service` and export DOCKER_HOST");
        return;
    }
    let Some(emulators) = start() else { return };
    let seed = unique();
    let reference = format!("samrs-it-{seed}:python3.12-v1");
    let archive = emulators.dir.path().join("engine.tar");
    let layers = [layer_tar(&format!("engine-{seed}"), 5000)];
    tagged_docker_archive(
        &archive,
        &reference,
        &layers,
        "amd64",
        ArchiveLayout::Dockerd,
    );
    let loaded = engine_curl(
        &docker_host,
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
    let inspect = engine_curl(&docker_host, &[], &format!("/images/{reference}/json"));
    let id = serde_json::from_str::<serde_json::Value>(&inspect).unwrap()["Id"]
        .as_str()
        .unwrap()
        .to_string();

    let jobs = vec![job(
        "EngineFunction",
        image_source(&reference).unwrap(),
        "stack/engine",
    )];
    let pushed = push_with(
        &emulators.ecr,
        jobs,
        &Recorder::default(),
        emulators.options(),
    )
    .await;
    engine_curl(
        &docker_host,
        &["-X", "DELETE"],
        &format!("/images/{reference}"),
    );

    let pushed = pushed.unwrap();
    let tag = sam_tag(&format!("samrs-it-{seed}"), &id, Some("python3.12-v1"));
    assert_eq!(emulators.tags("stack/engine"), serde_json::json!([tag]));
    assert_eq!(
        emulators.manifest_digest("stack/engine", &tag),
        pushed[0].digest
    );
}
