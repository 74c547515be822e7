//! A fault-injecting proxy between samrs and moto, or samrs and the registry, for one test
//! (tests/emulator/fault_proxy.py): rules make chosen calls throttle, fail with 500/503 (401 for
//! the registry), reset or cut the connection or hang for a while, and the proxy's log says which
//! calls samrs made and which got a fault. The proxy dies
//! with its [`FaultProxy`] (killed by PID) or, at the latest, with the test process (it exits when
//! its stdin closes).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use super::http::request;
use super::testenv::TestEnv;

/// What a rule does to a matching call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// The service's throttling error.
    Throttle,
    /// HTTP 500 with the service's internal-failure error.
    Internal,
    /// HTTP 503 with the service's unavailable error.
    Unavailable,
    /// The connection is reset once the request was read.
    Reset,
    /// The registry's refusal of an expired token (HTTP 401 `DENIED`).
    Unauthorized,
    /// The upstream gets the request with only this many bytes of its body, then both
    /// connections are cut.
    Cut(u64),
    /// The call is held this many seconds, then forwarded.
    Delay(f64),
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::Throttle => "throttle",
            Fault::Internal => "500",
            Fault::Unavailable => "503",
            Fault::Reset => "reset",
            Fault::Unauthorized => "401",
            Fault::Cut(_) => "cut",
            Fault::Delay(_) => "delay",
        }
    }
}

/// One rule: calls whose name (`cloudformation:CreateChangeSet`, `ecr:GetAuthorizationToken`,
/// `s3:PUT /bucket/key?x-id=PutObject`, `registry:PATCH /v2/repo/blobs/uploads/<id>`) matches
/// the regex `pattern` get `fault`, `times` times (None: always).
#[derive(Debug, Clone)]
pub struct Rule {
    pub pattern: String,
    pub fault: Fault,
    pub times: Option<u32>,
    /// Only a call's first attempt (the SDK numbers its retries): every call fails once.
    pub first_attempts: bool,
    /// The first `skip` matching calls go through untouched.
    pub skip: u32,
    /// A regex the URL-decoded request body must match too (`StackName=app&`).
    pub body: String,
}

impl Rule {
    /// The first `times` matching calls get the fault.
    pub fn times(pattern: &str, fault: Fault, times: u32) -> Rule {
        Rule {
            pattern: pattern.to_string(),
            fault,
            times: Some(times),
            first_attempts: false,
            skip: 0,
            body: String::new(),
        }
    }

    /// Every matching call gets the fault.
    pub fn always(pattern: &str, fault: Fault) -> Rule {
        Rule {
            pattern: pattern.to_string(),
            fault,
            times: None,
            first_attempts: false,
            skip: 0,
            body: String::new(),
        }
    }

    /// The first attempt of every matching call gets the fault; its retries go through.
    pub fn first_attempts(pattern: &str, fault: Fault) -> Rule {
        Rule {
            pattern: pattern.to_string(),
            fault,
            times: None,
            first_attempts: true,
            skip: 0,
            body: String::new(),
        }
    }

    /// Lets the first `skip` matching calls through.
    pub fn after(mut self, skip: u32) -> Rule {
        self.skip = skip;
        self
    }

    /// Only calls for the stack `name` (CloudFormation's StackName form field).
    pub fn on_stack(mut self, name: &str) -> Rule {
        self.body = format!("StackName={name}(&|$)");
        self
    }
}

/// One call the proxy saw.
#[derive(Debug, Clone)]
pub struct Call {
    /// `service:Action` (see [`Rule`]).
    pub name: String,
    /// The fault it got, by the proxy's name (`throttle`, `500`, `503`, `reset`, `delay`).
    pub fault: Option<String>,
    /// The status answered; None while the call is held, or for a reset.
    pub status: Option<u16>,
}

/// A running proxy in front of the shared moto.
pub struct FaultProxy {
    pub port: u16,
    child: Child,
}

impl FaultProxy {
    /// Starts a proxy to the run's moto and points `env`'s samrs at it (AWS_ENDPOINT_URL), with
    /// retries that back off 10 ms instead of 1 s.
    pub fn start(env: &mut TestEnv) -> FaultProxy {
        let proxy = FaultProxy::to(&env.emu.moto_url());
        env.set_env("AWS_ENDPOINT_URL", &proxy.url());
        env.set_env("SAMRS_RETRY_BACKOFF", "0.01");
        proxy
    }

    /// Starts a proxy to the run's registry and points `env`'s pushes at it
    /// (SAMRS_REGISTRY_ENDPOINT), with retries that back off 10 ms.
    pub fn start_registry(env: &mut TestEnv) -> FaultProxy {
        let proxy = FaultProxy::to(&env.emu.registry_url());
        env.set_env("SAMRS_REGISTRY_ENDPOINT", &proxy.url());
        env.set_env("SAMRS_RETRY_BACKOFF", "0.01");
        proxy
    }

    fn to(upstream: &str) -> FaultProxy {
        let (child, port) = spawn_listening("fault_proxy.py", &[upstream]);
        FaultProxy { port, child }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Replaces the rules (an empty list clears every fault).
    pub fn set(&self, rules: &[Rule]) {
        let body = serde_json::Value::Array(
            rules
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "match": r.pattern,
                        "fault": r.fault.name(),
                        "seconds": match r.fault { Fault::Delay(s) => s, _ => 0.0 },
                        "bytes": match r.fault { Fault::Cut(n) => n, _ => 0 },
                        "times": r.times,
                        "first_attempts": r.first_attempts,
                        "skip": r.skip,
                        "body": r.body,
                    })
                })
                .collect(),
        );
        let answer = request(
            self.port,
            "PUT",
            "/__faults/rules",
            &[],
            body.to_string().as_bytes(),
        );
        assert_eq!(answer.status, 200, "{}", answer.body);
    }

    /// Every call so far, in arrival order.
    pub fn log(&self) -> Vec<Call> {
        let answer = request(self.port, "GET", "/__faults/log", &[], b"");
        answer
            .json()
            .as_array()
            .expect("the proxy's log is a list")
            .iter()
            .map(|c| Call {
                name: c["call"].as_str().unwrap_or_default().to_string(),
                fault: c["fault"].as_str().map(str::to_string),
                status: c["status"].as_u64().and_then(|s| u16::try_from(s).ok()),
            })
            .collect()
    }

    /// Waits until a call matching `name` (exact) is being held by a delay fault: samrs is then
    /// inside that call.
    pub fn wait_until_held(&self, name: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.log().iter().any(|c| {
                c.name == name && c.fault.as_deref() == Some("delay") && c.status.is_none()
            }) {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("no held {name} call; calls: {:?}", self.log());
    }

    /// Waits until no held call is left (a delayed call reaches moto even when its caller is gone).
    pub fn wait_until_idle(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if !self
                .log()
                .iter()
                .any(|c| c.fault.as_deref() == Some("delay") && c.status.is_none())
            {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("calls still held: {:?}", self.log());
    }
}

/// Starts tests/emulator/`script` with `args`, its stdin a pipe it exits at the end of, and
/// reads the port it prints on its first line.
pub(super) fn spawn_listening(script: &str, args: &[&str]) -> (Child, u16) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/emulator")
        .join(script);
    let mut child = Command::new("python3")
        .arg(path)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start tests/emulator/{script}: {e}"));
    let mut first = String::new();
    BufReader::new(child.stdout.take().expect("stdout is piped"))
        .read_line(&mut first)
        .unwrap_or_else(|e| panic!("read the port {script} listens on: {e}"));
    let port = first
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("{script} printed {first:?} instead of its port"));
    (child, port)
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
