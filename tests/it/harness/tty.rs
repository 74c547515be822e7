//! A real terminal for interactive tests: samrs runs inside its own tmux server (one socket per
//! test, killed on drop), keys are typed with `send-keys` and the screen read with
//! `capture-pane`, so prompts are exercised as a person meets them.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use super::testenv::TestEnv;

const WAIT: Duration = Duration::from_secs(60);

/// samrs running at a terminal.
pub struct Tty {
    socket: String,
    exit_file: PathBuf,
}

impl Tty {
    /// Starts `samrs ARGS` in a 200x50 terminal in the test's work dir, with the test's environment.
    pub fn start(env: &TestEnv, args: &[&str]) -> Tty {
        Tty::start_program(env, &super::testenv::samrs_bin(), args)
    }

    /// Starts `PROGRAM ARGS` like [`Tty::start`] does samrs.
    pub fn start_program(env: &TestEnv, program: &str, args: &[&str]) -> Tty {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        // A socket per terminal: a killed tmux server may still be shutting down on its socket.
        let socket = format!(
            "samrs-{}-{}-{}",
            std::process::id(),
            env.prefix,
            STARTED.fetch_add(1, Ordering::Relaxed)
        );
        // Files of their own: a second terminal in the same test must not read the first's status.
        let exit_file = env.home().join(format!("{socket}.exit"));
        let script = env.home().join(format!("{socket}.sh"));
        let mut text = String::from("#!/bin/sh\n");
        for (key, value) in env.env_vars() {
            text.push_str(&format!(
                "export {key}='{}'\n",
                value.replace('\'', r"'\''")
            ));
        }
        // A real terminal: colours are the program's choice again.
        text.push_str("unset NO_COLOR\nexport TERM=xterm\n");
        // Ctrl-C signals the whole foreground group; like an interactive shell, this one survives
        // it (a trapped signal is back to its default in samrs) to record samrs's exit status.
        text.push_str("trap : INT\n");
        text.push_str(&format!("cd '{}'\n", env.work_dir().display()));
        let quoted: Vec<String> = args.iter().map(|a| format!("'{a}'")).collect();
        text.push_str(&format!(
            "'{}' {}\necho $? > '{}'\nsleep 3600\n",
            program,
            quoted.join(" "),
            exit_file.display()
        ));
        std::fs::write(&script, text).expect("write the terminal script");
        let status = Command::new("tmux")
            .args(["-L", &socket, "new-session", "-d", "-x", "200", "-y", "50"])
            .arg(format!("sh '{}'", script.display()))
            .status()
            .expect("run tmux (apt-get install tmux)");
        assert!(status.success(), "tmux new-session failed");
        Tty { socket, exit_file }
    }

    fn tmux(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket])
            .args(args)
            .output()
            .expect("run tmux");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Everything on the screen and in its scrollback, without colours.
    pub fn screen(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-S", "-2000"])
    }

    /// Waits until `text` is on the screen.
    pub fn expect(&self, text: &str) {
        let start = Instant::now();
        while start.elapsed() < WAIT {
            if self.screen().contains(text) {
                return;
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("{text:?} never appeared; the screen:\n{}", self.screen());
    }

    /// Waits for the prompt `text`, then types `answer` and Enter.
    pub fn answer(&self, prompt: &str, answer: &str) {
        self.expect(prompt);
        let before = self.screen();
        if !answer.is_empty() {
            self.tmux(&["send-keys", "-l", answer]);
        }
        self.tmux(&["send-keys", "Enter"]);
        // The next prompt must not be confused with this one: wait for the screen to move on.
        let start = Instant::now();
        while self.screen() == before && start.elapsed() < WAIT {
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits for `text`, then presses Ctrl-C.
    pub fn interrupt_at(&self, text: &str) {
        self.expect(text);
        self.tmux(&["send-keys", "C-c"]);
    }

    /// Waits for the program to end and gives its exit status.
    pub fn exit_code(&self) -> i32 {
        let start = Instant::now();
        while start.elapsed() < WAIT * 2 {
            if let Ok(text) = std::fs::read_to_string(&self.exit_file) {
                if let Ok(code) = text.trim().parse() {
                    return code;
                }
            }
            thread::sleep(Duration::from_millis(50));
        }
        panic!("samrs did not end; the screen:\n{}", self.screen());
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .status();
    }
}
