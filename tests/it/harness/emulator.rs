//! One offline AWS per test run: patched moto and Debian's docker-registry, started on free loopback
//! ports by tests/emulator/emulators.sh the first time a test asks, and stopped when the test process
//! ends, however it ends. A normal exit stops them synchronously (an `atexit` hook), so nothing is
//! left when `cargo test` returns; a watchdog process covers panics in the harness, SIGKILL and
//! Ctrl-C. Only the PIDs recorded in the run's state dir are ever killed. The state dir also holds
//! every test's work dir; it is removed at exit unless a test failed, so the servers' logs and the
//! failed tests' files stay for inspection.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, OnceLock};

use super::aws::Clients;

/// The account moto answers for; the registry password is derived from it.
pub const ACCOUNT_ID: &str = "123456789012";
/// Basic-auth credentials the registry accepts: what moto's ecr:GetAuthorizationToken decodes to.
pub const REGISTRY_USER: &str = "AWS";
pub const REGISTRY_PASSWORD: &str = "123456789012-auth-token";

static EMULATOR: OnceLock<Emulator> = OnceLock::new();
/// Emulators started for one test each (see [`Emulator::private`]), stopped at exit too.
static PRIVATE: Mutex<Vec<&'static Emulator>> = Mutex::new(Vec::new());
static A_TEST_FAILED: AtomicBool = AtomicBool::new(false);

/// The running emulators of this test process, with SDK clients pointed at them.
pub struct Emulator {
    /// Port of the patched moto server on 127.0.0.1.
    pub moto_port: u16,
    /// Port of the OCI registry on 127.0.0.1.
    pub registry_port: u16,
    state_dir: PathBuf,
    pub(super) clients: Clients,
    // Its stdin pipe is never written: when this process dies the pipe closes and the watchdog
    // stops the servers. It outlives this process, so it is never waited for.
    _watchdog: Child,
}

impl Emulator {
    /// The emulators of this test run, started on first use. Panics with the servers' log tails when
    /// they cannot start (run `bash tests/emulator/emulators.sh install` first).
    pub fn shared() -> &'static Emulator {
        EMULATOR.get_or_init(|| Emulator::start(&[]))
    }

    /// Emulators of a test's own, with extra environment for moto (e.g.
    /// `MOTO_CFN_IN_PROGRESS_POLLS`, which is process-wide), or for a test that needs an account
    /// no other test touched (the managed bucket's stack not created yet). They live until the
    /// test process exits.
    pub fn private(moto_env: &[(&str, &str)]) -> &'static Emulator {
        let emulator: &'static Emulator = Box::leak(Box::new(Emulator::start(moto_env)));
        PRIVATE
            .lock()
            .expect("the private emulators' list")
            .push(emulator);
        emulator
    }

    /// `http://127.0.0.1:<moto port>`: the AWS_ENDPOINT_URL samrs gets.
    pub fn moto_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.moto_port)
    }

    /// `http://127.0.0.1:<registry port>`: the SAMRS_REGISTRY_ENDPOINT samrs gets.
    pub fn registry_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.registry_port)
    }

    fn start(moto_env: &[(&str, &str)]) -> Emulator {
        let state_dir = tempfile::Builder::new()
            .prefix("samrs-it-emulators-")
            .tempdir()
            .expect("create the emulators' state dir in the temp dir")
            .keep();
        let watchdog = spawn_watchdog(&state_dir);
        let (moto_port, registry_port) = free_port_pair();
        let out = Command::new("bash")
            .arg(emulators_sh())
            .arg("start")
            .arg(&state_dir)
            .arg(moto_port.to_string())
            .arg(registry_port.to_string())
            // if this process dies while the servers start, the script stops them itself
            .env("EMULATORS_OWNER_PID", std::process::id().to_string())
            .envs(moto_env.iter().copied())
            .stdin(Stdio::null())
            // out of the terminal's process group: Ctrl-C ends only the test process, then the watchdog stops the servers
            .process_group(0)
            .output()
            .expect("run bash tests/emulator/emulators.sh");
        if !out.status.success() {
            panic!(
                "the offline AWS did not start ({}); its output follows (missing tools or python modules: \
                 run `bash tests/emulator/emulators.sh install`)\n\
                 --- stdout\n{}--- stderr\n{}",
                out.status,
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr),
            );
        }
        register_stop_at_exit();
        let clients = Clients::new(&format!("http://127.0.0.1:{moto_port}"));
        Emulator {
            moto_port,
            registry_port,
            state_dir,
            clients,
            _watchdog: watchdog,
        }
    }

    /// A new directory for one test's files, removed with the emulators' state at exit.
    pub(super) fn test_dir(&self, prefix: &str) -> tempfile::TempDir {
        let parent = self.state_dir.join("tests");
        std::fs::create_dir_all(&parent)
            .expect("create the tests' dir in the emulators' state dir");
        tempfile::Builder::new()
            .prefix(&format!("{prefix}-"))
            .tempdir_in(parent)
            .expect("create a test dir")
    }

    /// Keeps the run's state dir (server logs, test dirs) at exit.
    pub(super) fn keep_state_for_failed_test(&self) {
        A_TEST_FAILED.store(true, Ordering::Relaxed);
    }

    /// The last `lines` lines of moto's log: where a 500's Python traceback is.
    pub fn moto_log_tail(&self, lines: usize) -> String {
        let log = std::fs::read_to_string(self.state_dir.join("moto.log")).unwrap_or_default();
        let all: Vec<&str> = log.lines().collect();
        all[all.len().saturating_sub(lines)..].join("\n")
    }

    fn stop(&self) {
        // Failures are ignored: this runs while the process exits and the watchdog retries anyway.
        let _ = Command::new("bash")
            .arg(emulators_sh())
            .arg("stop")
            .arg(&self.state_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .status();
        if A_TEST_FAILED.load(Ordering::Relaxed) {
            // tells the watchdog, which runs next, to leave the dir too
            let _ = std::fs::write(self.state_dir.join("keep"), "");
            eprintln!(
                "emulator logs and failed tests' files kept in {}",
                self.state_dir.display()
            );
        } else {
            let _ = std::fs::remove_dir_all(&self.state_dir);
        }
    }
}

fn emulators_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/emulators.sh")
}

/// Two distinct ports the kernel considers free right now (both listeners are open at once).
fn free_port_pair() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    let port = |l: &TcpListener| {
        l.local_addr()
            .expect("local address of a bound socket")
            .port()
    };
    (port(&a), port(&b))
}

/// A shell that waits for EOF on its stdin (this process's end closes when it exits, whatever the
/// cause), then stops the servers recorded in `state_dir` and removes it unless it is to be kept.
fn spawn_watchdog(state_dir: &Path) -> Child {
    Command::new("sh")
        .arg("-c")
        .arg(r#"read -r _; bash "$0" stop "$1"; [ -e "$1/keep" ] || rm -rf "$1""#)
        .arg(emulators_sh())
        .arg(state_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("spawn the emulators' watchdog shell")
}

extern "C" {
    fn atexit(callback: extern "C" fn()) -> std::os::raw::c_int;
}

extern "C" fn stop_at_exit() {
    if let Some(emulator) = EMULATOR.get() {
        emulator.stop();
    }
    if let Ok(private) = PRIVATE.lock() {
        for emulator in private.iter() {
            emulator.stop();
        }
    }
}

/// Stops the servers before the process exits, so they are gone when `cargo test` returns.
fn register_stop_at_exit() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // SAFETY: atexit only stores the pointer of a plain `extern "C" fn()` that lives for the whole program.
        let rc = unsafe { atexit(stop_at_exit) };
        assert_eq!(rc, 0, "atexit refused the emulators' stop hook");
    });
}
