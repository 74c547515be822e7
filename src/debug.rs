//! `--debug` (or `SAM_DEBUG`): sam's debug log, one line per message: how the settings were
//! resolved, and every AWS call made (from an SDK interceptor in [`crate::aws`]). The code
//! anywhere logs here; the UI, which turns the log on, writes the lines. Secrets are never
//! logged: no headers, no bodies, no secret keys, and only the last four characters of an
//! access key id.

use std::sync::OnceLock;

/// Where the lines go once the log is on.
pub type Sink = Box<dyn Fn(&str) + Send + Sync>;

static SINK: OnceLock<Sink> = OnceLock::new();

/// Turns the log on for the rest of the run, its lines going to `sink`.
pub fn enable(sink: Sink) {
    let _ = SINK.set(sink);
}

pub fn enabled() -> bool {
    SINK.get().is_some()
}

/// One line of the log, when it is on.
pub fn log(message: &str) {
    if let Some(sink) = SINK.get() {
        sink(message);
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
