//! Ctrl-C during a run. Stopping samrs does not stop CloudFormation: a stack operation that was
//! started goes on without us. So a Ctrl-C while samrs waits for a stack says so, and how to
//! follow that operation, before exiting 130 (what a shell reports for SIGINT); anywhere else it
//! just exits 130, as the default signal action would.
//!
//! The signal is watched on a thread of its own with its own tiny runtime, so it is seen even
//! while the main thread is busy (hashing, zipping, reading a prompt). Prompts read the terminal
//! in raw mode, where Ctrl-C is a key and no signal, so they keep handling it themselves.

use std::sync::Mutex;

/// The exit status of a run ended by Ctrl-C: 128 + SIGINT.
pub const EXIT_INTERRUPTED: i32 = 130;

/// The stacks samrs is waiting on right now (two waits can run at once: the managed bucket's and
/// the companion stack's).
static WAITING_ON: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Starts watching for Ctrl-C. `rerun` is the command that picks an interrupted operation up
/// again (`samrs deploy` waits for a running stack operation before it deploys), if there is one.
pub fn install(rerun: Option<&'static str>) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    // Registered before this returns, so a Ctrl-C right after is not lost.
    let mut interrupt = {
        let _context = runtime.enter();
        ctrl_c()?
    };
    std::thread::Builder::new()
        .name("ctrl-c".into())
        .spawn(move || {
            runtime.block_on(interrupt.recv());
            let stacks = WAITING_ON
                .lock()
                .map(|stacks| stacks.clone())
                .unwrap_or_default();
            if let Some(line) = interrupted_message(&stacks, rerun) {
                eprintln!("\n{line}");
            }
            std::process::exit(EXIT_INTERRUPTED);
        })?;
    Ok(())
}

/// A stream of Ctrl-C presses, registered when this returns: SIGINT on Unix, the console's
/// CTRL_C_EVENT on Windows (`tokio::signal::ctrl_c` is that too, but registers only when first
/// polled, after a press could already have been missed).
#[cfg(unix)]
fn ctrl_c() -> std::io::Result<tokio::signal::unix::Signal> {
    tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
}

#[cfg(windows)]
fn ctrl_c() -> std::io::Result<tokio::signal::windows::CtrlC> {
    tokio::signal::windows::ctrl_c()
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
