//! The README's first command: examples/demo.sh deploys the demo app on an emulator of its own,
//! shows what AWS holds, redeploys, deletes, and leaves no server running, however it ends.

use std::path::Path;

use crate::harness::{samrs_bin, TestEnv, Tty};

fn demo_script() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/demo.sh")
        .to_string_lossy()
        .into_owned()
}

/// A test environment for the demo: the samrs under test, and where emulators.sh finds moto's
/// venv (under the real HOME, not the test's).
fn demo_env(name: &str) -> TestEnv {
    let mut env = TestEnv::new(name);
    env.set_env("SAMRS", &samrs_bin());
    for key in ["HOME", "XDG_CACHE_HOME", "MOTO_VENV", "MOTO_PY", "TMPDIR"] {
        if let Ok(value) = std::env::var(key) {
            env.set_env(key, &value);
        }
    }
    env
}

/// The PIDs of the servers the demo started, from emulators.sh's `(pid N)` notes.
fn server_pids(output: &str) -> Vec<u32> {
    output
        .split("(pid ")
        .skip(1)
        .filter_map(|rest| rest.split(')').next()?.parse().ok())
        .collect()
}

fn assert_stopped(pids: &[u32]) {
    assert_eq!(pids.len(), 2, "moto's and the registry's PIDs");
    for pid in pids {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let cmdline = String::from_utf8_lossy(&cmdline);
        assert!(
            !cmdline.contains("moto_server_patched") && !cmdline.contains("docker-registry"),
            "server {pid} still runs: {cmdline}"
        );
    }
}

#[test]
fn the_demo_deploys_shows_redeploys_and_deletes_everything() {
    let env = demo_env("demo");
    let out = env.run("bash", &[&demo_script()]);
    out.assert_success();
    let text = &out.stdout;
    // One example function per kind, the images pinned by the digests of the layouts in the repo.
    for line in [
        "Stack samrs-demo: CREATE_COMPLETE",
        "function HelloFunction runs zip, python3.12",
        "function ResizeFunction runs 123456789012.dkr.ecr.us-east-1.amazonaws.com/samrsdemo5feb5460/resizefunction5d217ffcrepo@sha256:4a0ce84c433d089026c08d629c1cdce86a3049777a33a982b0d6ec8fc4ce527c",
        "function ReportFunction runs 123456789012.dkr.ecr.us-east-1.amazonaws.com/samrsdemo5feb5460/reportfunction57130811repo@sha256:db9871a33e37718a5eb73f9b2211038dfd2c0b26380b0afe6c4dd4a660fb9130",
        "Companion stack samrs-demo-5feb5460-CompanionStack: CREATE_COMPLETE",
        "image ResizeFunction-fa7a2c064af8-v1 sha256:4a0ce84c433d089026c08d629c1cdce86a3049777a33a982b0d6ec8fc4ce527c",
        "image ReportFunction-7f8097016786-v1 sha256:db9871a33e37718a5eb73f9b2211038dfd2c0b26380b0afe6c4dd4a660fb9130",
        "No changes to deploy. Stack samrs-demo is up to date",
        "Deleted successfully",
        "Stack samrs-demo: none",
        "Companion stack samrs-demo-5feb5460-CompanionStack: none",
        "Repositories samrsdemo5feb5460/*: none",
        "Done: the emulator is stopped and nothing is left behind.",
    ] {
        assert!(text.contains(line), "missing {line:?}\n{out}");
    }
    assert_stopped(&server_pids(text));
}

#[test]
fn ctrl_c_in_the_demo_stops_its_emulator() {
    let env = demo_env("demo-ctrl-c");
    let tty = Tty::start_program(&env, "bash", &[&demo_script()]);
    tty.interrupt_at("Deploying examples/demo");
    assert_eq!(tty.exit_code(), 130, "{}", tty.screen());
    let screen = tty.screen();
    assert!(!screen.contains("Done:"), "{screen}");
    assert_stopped(&server_pids(&screen));
}
