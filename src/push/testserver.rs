//! Test servers for the push tests: Debian's `docker-registry` with htpasswd basic auth (the
//! config the emulator script uses) and the patched moto for `GetAuthorizationToken`, both
//! started per test on free loopback ports and killed by PID on drop; plus a reporter that
//! records events, and `curl` helpers that check results through the registry's own API and
//! access log rather than through the pusher.

// Test code: it reads the test environment and says why a test is skipped.
#![allow(clippy::disallowed_methods, clippy::print_stderr)]

use std::cell::RefCell;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use super::registry::Retry;
use super::report::{BlobOutcome, Event, Reporter};
use super::transport::Transport;
use super::{push_with, Options, PushJob, PushedImage};

/// A registry client that trusts the system's CAs and uses no proxy.
pub fn direct_transport() -> Transport {
    let tls = crate::network::Network::default().rustls_config().unwrap();
    Transport::new(
        tls,
        hyper_util::client::proxy::matcher::Matcher::builder().build(),
        Duration::from_secs(5),
    )
}

pub const PASSWORD: &str = "123456789012-auth-token";
pub const ACCOUNT_HOST: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";

/// A started server, killed by its PID on drop.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A fault proxy in front of the test registry, killed on drop.
pub struct FaultProxy {
    port: u16,
    _server: Server,
}

impl FaultProxy {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

pub struct Emulators {
    pub registry_port: u16,
    registry_log: PathBuf,
    pub ecr: aws_sdk_ecr::Client,
    pub dir: tempfile::TempDir,
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
pub fn start() -> Option<Emulators> {
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
    pub fn options(&self) -> Options {
        Options {
            endpoint: Some(format!("http://127.0.0.1:{}", self.registry_port)),
            retry: Retry {
                attempts: 5,
                first_backoff: Duration::from_millis(10),
            },
            ..Options::default()
        }
    }

    /// tests/emulator/fault_proxy.py in front of the registry with `rules` (its JSON rule list);
    /// pushes go through it when `options` get [`FaultProxy::endpoint`].
    pub fn fault_proxy(&self, rules: serde_json::Value) -> FaultProxy {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/fault_proxy.py");
        let mut child = Command::new("python3")
            .arg(script)
            .arg(format!("http://127.0.0.1:{}", self.registry_port))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut first = String::new();
        std::io::BufRead::read_line(
            &mut std::io::BufReader::new(child.stdout.take().unwrap()),
            &mut first,
        )
        .unwrap();
        let port: u16 = first.trim().parse().unwrap();
        let set = Command::new("curl")
            .args(["-sS", "-X", "PUT", "--data-binary", &rules.to_string()])
            .arg(format!("http://127.0.0.1:{port}/__faults/rules"))
            .output()
            .unwrap();
        assert!(set.status.success());
        FaultProxy {
            port,
            _server: Server(child),
        }
    }

    /// Pushes `jobs` with [`Emulators::options`] (or `options`) and no proxy.
    pub async fn push(
        &self,
        jobs: Vec<PushJob>,
        reporter: &dyn Reporter,
        options: Option<Options>,
    ) -> anyhow::Result<Vec<PushedImage>> {
        let options = options.unwrap_or_else(|| self.options());
        push_with(&self.ecr, &direct_transport(), jobs, reporter, options).await
    }

    pub fn curl(&self, args: &[&str]) -> String {
        let output = Command::new("curl")
            .args(["-sS", "-u", &format!("AWS:{PASSWORD}")])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    }

    pub fn tags(&self, repo: &str) -> serde_json::Value {
        let url = format!(
            "http://127.0.0.1:{}/v2/{repo}/tags/list",
            self.registry_port
        );
        let body = self.curl(&[&url]);
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["tags"].clone()
    }

    pub fn manifest_digest(&self, repo: &str, tag: &str) -> String {
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
    pub fn requests(&self, prefix: &str) -> Vec<String> {
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
pub struct Recorder(pub RefCell<Vec<Event>>);

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
    fn on_waiting(&self, name: &str, what: &str, quiet: Duration) {
        self.0.borrow_mut().push(Event::Waiting {
            name: name.into(),
            what: what.into(),
            quiet,
        });
    }
}

impl Recorder {
    pub fn outcomes(&self, digest: &str) -> Vec<BlobOutcome> {
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

pub fn unique() -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{nanos:x}")
}

/// `curl` against the engine `DOCKER_HOST` names.
pub fn engine_curl(docker_host: &str, args: &[&str], path: &str) -> String {
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
