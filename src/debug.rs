//! `--debug` (or `SAM_DEBUG`): sam's debug log on stderr, one `timestamp | message` line each:
//! how the settings were resolved, and every AWS call made (from an SDK interceptor in
//! [`crate::aws`]). Secrets are never logged: no headers, no bodies, no secret keys, and only the
//! last four characters of an access key id.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

static ENABLED: AtomicBool = AtomicBool::new(false);

/// Turns the log on for the rest of the run.
pub fn enable() {
    ENABLED.store(true, Ordering::Relaxed);
}

pub fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// One line of the log, when it is on.
pub fn log(message: &str) {
    if enabled() {
        let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S,%3f");
        let _ = writeln!(std::io::stderr().lock(), "{now} | {message}");
    }
}

/// An access key id as the log shows it: its last four characters.
pub fn key_hint(access_key_id: &str) -> String {
    let tail: String = access_key_id
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("****{tail}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn access_keys_are_shortened() {
        assert_eq!(super::key_hint("AKIAIOSFODNN7EXAMPLE"), "****MPLE");
        assert_eq!(super::key_hint("ab"), "****ab");
    }
}
