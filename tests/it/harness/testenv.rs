//! One test's private corner of the shared emulator: a temp work dir and HOME, a name prefix no
//! other test uses (all tests of a run share one moto), and a way to run samrs as a user would,
//! with a clean environment pointed at the emulator, no stdin and a time limit.

use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::emulator::{Emulator, REGISTRY_PASSWORD, REGISTRY_USER};

/// A hung samrs (a prompt it should not show, a poll loop that never ends) fails its test instead
/// of hanging the whole run.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// What a command printed and how it ended.
#[derive(Debug)]
pub struct RunOutput {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl RunOutput {
    /// Panics, showing both streams, unless the command exited 0.
    pub fn assert_success(&self) -> &Self {
        assert!(self.status.success(), "command failed\n{self}");
        self
    }
}

impl fmt::Display for RunOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "status: {}\n--- stdout\n{}\n--- stderr\n{}",
            self.status, self.stdout, self.stderr
        )
    }
}

/// A test's work dir, HOME, unique name prefix and extra environment.
pub struct TestEnv {
    /// The run's emulators, shared with every other test (or the test's own).
    pub emu: &'static Emulator,
    /// Unique among this run's tests, lowercase `[a-z0-9-]`, starts with a letter: valid as a stack,
    /// bucket or repository name stem.
    pub prefix: String,
    dir: tempfile::TempDir,
    extra_env: Vec<(String, String)>,
}

impl TestEnv {
    /// A fresh environment for the test `name` (starts the emulators on first use).
    pub fn new(name: &str) -> TestEnv {
        TestEnv::on(Emulator::shared(), name)
    }

    /// A fresh environment for the test `name` on emulators of its own ([`Emulator::private`]).
    pub fn on(emu: &'static Emulator, name: &str) -> TestEnv {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let stem: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '-'
                }
            })
            .collect();
        let prefix = format!(
            "t{}-{}",
            COUNTER.fetch_add(1, Ordering::Relaxed),
            stem.trim_matches('-')
        );
        let dir = emu.test_dir(&prefix);
        for sub in ["work", "home"] {
            std::fs::create_dir(dir.path().join(sub))
                .expect("create the test's work and home dirs");
        }
        TestEnv {
            emu,
            prefix,
            dir,
            extra_env: Vec::new(),
        }
    }

    /// `<prefix>-<suffix>`: a stack, bucket or repository name no other test uses.
    pub fn name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.prefix)
    }

    /// The directory commands run in; relative paths of the helpers are relative to it.
    pub fn work_dir(&self) -> PathBuf {
        self.dir.path().join("work")
    }

    /// The HOME commands get (where `~/.aws` and samrs's caches would go).
    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Adds or overrides an environment variable for later commands.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.retain(|(k, _)| k != key);
        self.extra_env.push((key.to_owned(), value.to_owned()));
    }

    /// Writes `content` to `rel` under the work dir (creating parent dirs) and returns its path.
    pub fn write_file(&self, rel: &str, content: &str) -> PathBuf {
        let path = self.work_dir().join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent dirs");
        }
        std::fs::write(&path, content).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path
    }

    /// Copies tests/fixtures/`fixture` (a file or a directory tree) to the same relative path under
    /// the work dir and returns the copy's path.
    pub fn copy_fixture(&self, fixture: &str) -> PathBuf {
        let source = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(fixture);
        assert!(source.exists(), "no fixture {}", source.display());
        for entry in walkdir::WalkDir::new(&source) {
            let entry = entry.expect("walk the fixture");
            let rel = entry
                .path()
                .strip_prefix(&source)
                .expect("walkdir yields paths under its root");
            let target = self.work_dir().join(fixture).join(rel);
            if entry.file_type().is_dir() {
                std::fs::create_dir_all(&target).expect("create a fixture dir");
            } else {
                std::fs::create_dir_all(target.parent().expect("a file has a parent"))
                    .expect("create parent dirs");
                std::fs::copy(entry.path(), &target)
                    .unwrap_or_else(|e| panic!("copy {}: {e}", entry.path().display()));
            }
        }
        self.work_dir().join(fixture)
    }

    /// Pushes a one-layer image to the registry as `repo:tag` (tests/emulator/tiny_image.py and
    /// v2push.py: the protocol samrs speaks) and returns the docker-archive it pushed.
    pub fn push_tiny_image(&self, repo: &str, tag: &str) -> PathBuf {
        let emulator_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator");
        let file = format!("{}-{tag}.tar", repo.replace('/', "_"));
        let reference = format!("{repo}:{tag}");
        let archive = self.write_tiny_image(&file, &reference, &reference, 0);
        let archive_arg = archive.to_string_lossy().into_owned();
        let v2push = emulator_dir.join("v2push.py");
        let registry = self.emu.registry_url();
        let push_args = [
            &v2push.to_string_lossy() as &str,
            &archive_arg,
            &registry,
            repo,
            tag,
            REGISTRY_USER,
            REGISTRY_PASSWORD,
        ];
        self.run("python3", &push_args).assert_success();
        archive
    }

    /// Writes a one-layer docker archive of the image `reference` to `file` under the work dir
    /// (tests/emulator/tiny_image.py): `marker` in its layer (different markers, different
    /// digests) and `pad` random bytes more. Returns its path.
    pub fn write_tiny_image(
        &self,
        file: &str,
        reference: &str,
        marker: &str,
        pad: usize,
    ) -> PathBuf {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/emulator/tiny_image.py");
        let archive = self.work_dir().join(file);
        self.run(
            "python3",
            &[
                &script.to_string_lossy(),
                &archive.to_string_lossy(),
                reference,
                marker,
                &pad.to_string(),
            ],
        )
        .assert_success();
        archive
    }

    /// Runs the samrs binary under test with `args` (see [`TestEnv::run`]).
    pub fn samrs(&self, args: &[&str]) -> RunOutput {
        self.run(&samrs_bin(), args)
    }

    /// Runs `program` in the work dir with only PATH kept from this process, the emulator's
    /// endpoints and dummy credentials, HOME set to the test's home, no stdin (so no tty), the extra
    /// environment on top; panics when it runs longer than two minutes.
    pub fn run(&self, program: &str, args: &[&str]) -> RunOutput {
        self.spawn(program, args).finish()
    }

    /// Starts the samrs binary under test like [`TestEnv::samrs`] without waiting for it, so a
    /// test can signal it mid-way.
    pub fn spawn_samrs(&self, args: &[&str]) -> Running {
        self.spawn(&samrs_bin(), args)
    }

    fn spawn(&self, program: &str, args: &[&str]) -> Running {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(self.work_dir())
            .env_clear()
            .envs(self.base_env())
            .envs(self.extra_env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Running::start(command, format!("{program} {}", args.join(" ")))
    }

    /// The arguments of a `samrs deploy` as most tests run it: the managed bucket and managed
    /// repositories, IAM capability, and no failure when nothing changed; `extra` appended.
    pub fn managed_deploy_args<'a>(stack: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        let mut args = vec![
            "deploy",
            "--stack-name",
            stack,
            "--resolve-s3",
            "--s3-prefix",
            stack,
            "--resolve-image-repos",
            "--capabilities",
            "CAPABILITY_IAM",
            "--no-fail-on-empty-changeset",
        ];
        args.extend_from_slice(extra);
        args
    }

    /// The whole environment samrs runs with: the base one and `set_env`'s on top.
    pub fn env_vars(&self) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = self
            .base_env()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        vars.extend(self.extra_env.iter().cloned());
        vars
    }

    fn base_env(&self) -> Vec<(&'static str, String)> {
        let home = self.home().to_string_lossy().into_owned();
        let mut env = vec![
            ("AWS_ENDPOINT_URL", self.emu.moto_url()),
            ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_owned()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
            ("HOME", home),
            ("NO_COLOR", "1".to_owned()),
            ("SAM_CLI_POLL_DELAY", "0.05".to_owned()),
            ("SAMRS_REGISTRY_ENDPOINT", self.emu.registry_url()),
            ("RUST_BACKTRACE", "1".to_owned()),
        ];
        if let Some(path) = std::env::var_os("PATH") {
            env.push(("PATH", path.to_string_lossy().into_owned()));
        }
        env
    }
}

impl Drop for TestEnv {
    fn drop(&mut self) {
        if thread::panicking() {
            // keep the evidence of a failed test
            self.dir.disable_cleanup(true);
            self.emu.keep_state_for_failed_test();
            eprintln!(
                "test files of {} kept in {}",
                self.prefix,
                self.dir.path().display()
            );
        }
    }
}

/// The samrs binary under test: cargo's build of it, or `SAMRS_BIN` when set (a copy taken right
/// after the build, when other builds share the target dir and may replace cargo's file mid-run).
pub fn samrs_bin() -> String {
    std::env::var("SAMRS_BIN").unwrap_or_else(|_| env!("CARGO_BIN_EXE_samrs").to_string())
}

/// A command started by [`TestEnv`], its output drained on threads.
pub struct Running {
    child: std::process::Child,
    what: String,
    stdout: thread::JoinHandle<String>,
    stderr: thread::JoinHandle<String>,
}

extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
}

/// SIGINT (Ctrl-C), SIGKILL and SIGTERM (a CI runner cancelling a job), for [`Running::signal`].
pub const SIGINT: i32 = 2;
pub const SIGKILL: i32 = 9;
pub const SIGTERM: i32 = 15;

impl Running {
    fn start(mut command: Command, what: String) -> Running {
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("start {what}: {e}"));
        let stdout = drain(child.stdout.take().expect("stdout is piped"));
        let stderr = drain(child.stderr.take().expect("stderr is piped"));
        Running {
            child,
            what,
            stdout,
            stderr,
        }
    }

    /// Sends `signal` to the process (by its PID, which is ours until it is waited for).
    pub fn signal(&self, signal: i32) {
        let pid = i32::try_from(self.child.id()).expect("a PID fits in i32");
        // SAFETY: kill(2) only takes two integers; the child is not reaped yet, so the PID is its.
        let rc = unsafe { kill(pid, signal) };
        assert_eq!(rc, 0, "kill -{signal} {pid} ({})", self.what);
    }

    /// Waits for the end (at most two minutes: then it is killed and the test fails).
    pub fn finish(mut self) -> RunOutput {
        let deadline = Instant::now() + RUN_TIMEOUT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for the child") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} ran longer than {RUN_TIMEOUT:?}; it was killed",
                    self.what
                );
            }
            thread::sleep(Duration::from_millis(10));
        };
        RunOutput {
            status,
            stdout: self.stdout.join().expect("stdout reader thread"),
            stderr: self.stderr.join().expect("stderr reader thread"),
        }
    }
}

/// Reads a pipe to its end on a thread, so a chatty child never blocks on a full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut bytes = Vec::new();
        let _ = pipe.read_to_end(&mut bytes);
        String::from_utf8_lossy(&bytes).into_owned()
    })
}
