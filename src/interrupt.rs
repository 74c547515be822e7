//! Ctrl-C during a run (and SIGTERM, which CI runners send a cancelled job, handled alike).
//! Stopping samrs does not stop CloudFormation: a stack operation that was
//! started goes on without us. So a Ctrl-C while samrs waits for a stack says so, and how to
//! follow that operation, before exiting 130 (what a shell reports for SIGINT); anywhere else it
//! just exits 130, as the default signal action would. A wait that reaches `--max-wait-duration`
//! ends with the same note ([`goes_on_note`]).
//!
//! Some steps must not be cut short: a dry run removes what it created before it stops. While a
//! [`Deferral`] is held, the first Ctrl-C only asks the run to stop (the run sees it through
//! [`Deferral::interrupted`]); a second one exits at once.
//!
//! The signal is watched on a thread of its own with its own tiny runtime, so it is seen even
//! while the main thread is busy (hashing, zipping, reading a prompt). Prompts read the terminal
//! in raw mode, where Ctrl-C is a key and no signal, so they keep handling it themselves.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Mutex, OnceLock};

use tokio::sync::Notify;

/// The exit status of a run ended by Ctrl-C: 128 + SIGINT.
pub const EXIT_INTERRUPTED: u8 = 130;
/// The exit status of a run ended by SIGTERM: 128 + SIGTERM.
pub const EXIT_TERMINATED: u8 = 143;

/// The exit status of the signal that stopped the run (the first one, when a deferral let it
/// finish first).
static EXIT_STATUS: AtomicU8 = AtomicU8::new(EXIT_INTERRUPTED);

/// The exit status a run stopped by a signal ends with: 130 for Ctrl-C, 143 for SIGTERM.
pub fn exit_status() -> u8 {
    EXIT_STATUS.load(Ordering::SeqCst)
}

/// The stacks samrs is waiting on right now (two waits can run at once: the managed bucket's and
/// the companion stack's).
static WAITING_ON: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The command that picks an unfinished operation up again, as given to [`install`].
static RERUN: OnceLock<&'static str> = OnceLock::new();

/// The deferral in force: what the run finishes before it stops, and what an immediate stop leaves.
static DEFERRED: Mutex<Option<(String, String)>> = Mutex::new(None);
static STOP_ASKED: AtomicBool = AtomicBool::new(false);
static STOP: Notify = Notify::const_new();

/// What the run says while a Ctrl-C is deferred (the line).
pub type OnNotice = Box<dyn Fn(&str) + Send>;

/// What the run does last when Ctrl-C ends it: given its line, if there is one (the UI says it,
/// and prints the `--output json` document).
pub type OnExit = Box<dyn FnOnce(Option<&str>) + Send>;

/// Starts watching for Ctrl-C. `rerun` is the command that picks an interrupted operation up
/// again (`samrs deploy` waits for a running stack operation before it deploys), if there is one.
pub fn install(
    rerun: Option<&'static str>,
    on_notice: OnNotice,
    on_exit: OnExit,
) -> std::io::Result<()> {
    if let Some(command) = rerun {
        let _ = RERUN.set(command);
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Registered before this returns, so a Ctrl-C right after is not lost.
    let (mut interrupt, mut terminate) = {
        let _context = runtime.enter();
        signals()?
    };
    std::thread::Builder::new()
        .name("ctrl-c".into())
        .spawn(move || {
            let line = loop {
                let status = runtime.block_on(async {
                    tokio::select! {
                        _ = interrupt.recv() => EXIT_INTERRUPTED,
                        _ = terminate.recv() => EXIT_TERMINATED,
                    }
                });
                if !STOP_ASKED.load(Ordering::SeqCst) {
                    EXIT_STATUS.store(status, Ordering::SeqCst);
                }
                let deferred = DEFERRED.lock().ok().and_then(|d| d.clone());
                match deferred {
                    Some((finishing, _)) if !STOP_ASKED.swap(true, Ordering::SeqCst) => {
                        on_notice(&format!(
                            "Interrupted: {finishing} before stopping (press Ctrl-C again to stop at once)"
                        ));
                        STOP.notify_waiters();
                    }
                    Some((_, abandoned)) => break Some(format!("Interrupted: {abandoned}")),
                    None => {
                        let stacks = WAITING_ON
                            .lock()
                            .map(|stacks| stacks.clone())
                            .unwrap_or_default();
                        break interrupted_message(&stacks, rerun);
                    }
                }
            };
            on_exit(line.as_deref());
            std::process::exit(i32::from(exit_status()));
        })?;
    Ok(())
}

/// The run stopped at the user's Ctrl-C after it finished what a [`Deferral`] protected; the
/// message says what was done.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Interrupted: {0}")]
pub struct Interrupted(pub String);

/// While held, Ctrl-C asks the run to stop instead of ending the process: `finishing` says what
/// the run does first ("removing the change set the dry run created"), `abandoned` what a second
/// Ctrl-C leaves behind.
#[derive(Debug)]
pub struct Deferral(());

impl Deferral {
    pub fn new(finishing: &str, abandoned: &str) -> Deferral {
        if let Ok(mut deferred) = DEFERRED.lock() {
            *deferred = Some((finishing.to_string(), abandoned.to_string()));
        }
        Deferral(())
    }

    /// Whether Ctrl-C was pressed while this was held.
    pub fn stop_asked(&self) -> bool {
        STOP_ASKED.load(Ordering::SeqCst)
    }

    /// Resolves when Ctrl-C is pressed (at once if it was already).
    pub async fn interrupted(&self) {
        loop {
            let notified = STOP.notified();
            if self.stop_asked() {
                return;
            }
            notified.await;
        }
    }
}

impl Drop for Deferral {
    fn drop(&mut self) {
        if let Ok(mut deferred) = DEFERRED.lock() {
            *deferred = None;
        }
    }
}

/// Ctrl-C and the request to terminate, registered when this returns: SIGINT and SIGTERM on
/// Unix; on Windows the console's CTRL_C_EVENT and its closing (`tokio::signal::ctrl_c` would
/// register only when first polled, after a press could already have been missed).
#[cfg(unix)]
fn signals() -> std::io::Result<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)> {
    use tokio::signal::unix::{signal, SignalKind};
    Ok((
        signal(SignalKind::interrupt())?,
        signal(SignalKind::terminate())?,
    ))
}

#[cfg(windows)]
fn signals() -> std::io::Result<(
    tokio::signal::windows::CtrlC,
    tokio::signal::windows::CtrlClose,
)> {
    Ok((
        tokio::signal::windows::ctrl_c()?,
        tokio::signal::windows::ctrl_close()?,
    ))
}

/// Marks a stack as waited on until dropped.
#[derive(Debug)]
pub struct StackWait {
    stack_name: String,
}

impl StackWait {
    pub fn new(stack_name: &str) -> StackWait {
        if let Ok(mut stacks) = WAITING_ON.lock() {
            stacks.push(stack_name.to_string());
        }
        StackWait {
            stack_name: stack_name.to_string(),
        }
    }
}

impl Drop for StackWait {
    fn drop(&mut self) {
        if let Ok(mut stacks) = WAITING_ON.lock() {
            if let Some(i) = stacks.iter().position(|s| *s == self.stack_name) {
                stacks.remove(i);
            }
        }
    }
}

/// The one line a Ctrl-C prints, None when no stack operation is running.
pub fn interrupted_message(stacks: &[String], rerun: Option<&str>) -> Option<String> {
    let first = stacks.first()?;
    let names = stacks.join(", ");
    let follow = format!("aws cloudformation describe-stack-events --stack-name {first}");
    let rerun = rerun.map_or(String::new(), |command| {
        format!(", or run `{command}` again, which waits for it")
    });
    Some(format!(
        "Interrupted: CloudFormation goes on with the operation on stack {names}; follow it with `{follow}`{rerun}"
    ))
}

/// What a wait that samrs ended says about the operation it leaves running: the Ctrl-C note,
/// with the command of this run that picks it up again.
pub fn goes_on_note(stack: &str) -> String {
    let line = interrupted_message(&[stack.to_string()], RERUN.get().copied()).unwrap_or_default();
    line.trim_start_matches("Interrupted: ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_stack_and_how_to_follow_it() {
        assert_eq!(
            interrupted_message(&["app".into()], Some("samrs deploy")).unwrap(),
            "Interrupted: CloudFormation goes on with the operation on stack app; follow it with \
             `aws cloudformation describe-stack-events --stack-name app`, or run `samrs deploy` \
             again, which waits for it"
        );
        assert_eq!(
            interrupted_message(&["app".into()], None).unwrap(),
            "Interrupted: CloudFormation goes on with the operation on stack app; follow it with \
             `aws cloudformation describe-stack-events --stack-name app`"
        );
        assert_eq!(interrupted_message(&[], Some("samrs deploy")), None);
    }

    #[test]
    fn two_waits_at_once_are_both_named() {
        let line = interrupted_message(
            &[
                "aws-sam-cli-managed-default".into(),
                "app-1a2b3c4d-CompanionStack".into(),
            ],
            Some("samrs deploy"),
        )
        .unwrap();
        assert!(line.contains("stack aws-sam-cli-managed-default, app-1a2b3c4d-CompanionStack;"));
        assert!(!line.contains('\n'));
    }

    #[test]
    fn a_wait_is_forgotten_when_it_ends() {
        let name = "interrupt-test-stack";
        let held = |n: &str| WAITING_ON.lock().unwrap().iter().any(|s| s == n);
        {
            let _wait = StackWait::new(name);
            assert!(held(name));
        }
        assert!(!held(name));
    }
}
