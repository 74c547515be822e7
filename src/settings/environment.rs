//! The environment variables samrs reads, read once by [`Environment::from_process`] (the one
//! reader of the process environment): the values settings merge with flags and samconfig, and
//! those the rest of samrs is handed (retries, timeouts, endpoints, the CA bundle, the container
//! engine's, the terminal's). Merging stays a pure function of its inputs.
//!
//! The AWS SDK reads its own (credentials, region, endpoints) as the AWS CLI does.

// The one reader of the process environment.
#![allow(clippy::disallowed_methods)]

use std::collections::BTreeMap;
use std::time::Duration;

/// The limit in seconds, overriding `--max-wait-duration` (which counts whole minutes, as sam's
/// does): for limits under a minute, as tests need.
pub const MAX_WAIT_SECONDS_VARIABLE: &str = "SAMRS_MAX_WAIT_SECONDS";
/// Seconds between polls of CloudFormation, as the SAM CLI reads it.
pub const POLL_DELAY_VARIABLE: &str = "SAM_CLI_POLL_DELAY";
/// Seconds without an answer before samrs says what it waits for (default 10).
pub const SLOW_CALL_VARIABLE: &str = "SAMRS_SLOW_CALL_SECONDS";
/// The AWS SDKs' variable for the number of attempts per call (first try included).
pub const MAX_ATTEMPTS_VARIABLE: &str = "AWS_MAX_ATTEMPTS";
/// samrs's variable for the first retry's backoff in seconds (it doubles per retry, with jitter).
pub const BACKOFF_VARIABLE: &str = "SAMRS_RETRY_BACKOFF";
/// samrs's variables for the seconds a connection may take to open, and a request to be
/// answered once sent (each try; the SDK retries a try that timed out).
pub const CONNECT_TIMEOUT_VARIABLE: &str = "SAMRS_CONNECT_TIMEOUT";
pub const READ_TIMEOUT_VARIABLE: &str = "SAMRS_READ_TIMEOUT";
/// Where images are pushed instead of each repository's registry (tests).
pub const REGISTRY_ENDPOINT_VARIABLE: &str = "SAMRS_REGISTRY_ENDPOINT";
/// A PEM file of CA certificates to trust, as the AWS CLI reads it.
pub const CA_BUNDLE_VARIABLE: &str = "AWS_CA_BUNDLE";

/// The variables the rest of samrs is handed, by name.
const HANDED: &[&str] = &[
    POLL_DELAY_VARIABLE,
    SLOW_CALL_VARIABLE,
    MAX_ATTEMPTS_VARIABLE,
    BACKOFF_VARIABLE,
    CONNECT_TIMEOUT_VARIABLE,
    READ_TIMEOUT_VARIABLE,
    REGISTRY_ENDPOINT_VARIABLE,
    CA_BUNDLE_VARIABLE,
    "AWS_ENDPOINT_URL_S3",
    "AWS_CONFIG_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "HOME",
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_CONFIG",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "XDG_RUNTIME_DIR",
    "NO_COLOR",
    "CI",
];

/// The variables `--debug` shows with their values (none is secret).
pub const SHOWN_IN_DEBUG: [&str; 13] = [
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ENDPOINT_URL",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "SAM_TEMPLATE_FILE",
    POLL_DELAY_VARIABLE,
    "SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS",
    MAX_WAIT_SECONDS_VARIABLE,
];

/// What the environment says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// `SAM_TEMPLATE_FILE`: the template when no flag names one (it wins over samconfig, as the
    /// option's environment variable does in click).
    pub template_file: Option<String>,
    /// `SAM_DEBUG` (click's boolean spellings).
    pub debug: bool,
    /// `SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS` (`1`, `true`, `yes`).
    pub language_extensions: bool,
    /// `AWS_REGION` or `AWS_DEFAULT_REGION`: the region `--save-params` saves when none is given.
    pub region: Option<String>,
    /// The profile the environment names when no `--profile` is given: `AWS_DEFAULT_PROFILE`,
    /// else `AWS_PROFILE`. Unlike `--profile` it does not outrank environment credentials.
    pub profile: Option<String>,
    /// [`MAX_WAIT_SECONDS_VARIABLE`]: a wait limit in seconds, over `--max-wait-duration`.
    pub max_wait_seconds: Option<String>,
    /// `--debug`'s variables and their values, as set.
    pub shown_in_debug: Vec<(&'static str, String)>,
    /// `AWS_ACCESS_KEY_ID`, which `--debug` shows by its last four characters.
    pub access_key_id: Option<String>,
    /// The other variables samrs reads ([`HANDED`]), set and not empty.
    handed: BTreeMap<&'static str, String>,
}

impl Environment {
    pub fn from_process() -> Environment {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let truthy = |name: &str, spellings: &[&str]| {
            var(name).is_some_and(|v| spellings.contains(&v.trim().to_ascii_lowercase().as_str()))
        };
        Environment {
            template_file: var("SAM_TEMPLATE_FILE"),
            debug: truthy("SAM_DEBUG", &["1", "true", "t", "yes", "y", "on"]),
            language_extensions: truthy(
                "SAM_CLI_ENABLE_LANGUAGE_EXTENSIONS",
                &["1", "true", "yes"],
            ),
            region: var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")),
            // botocore's order (configprovider.py), which sam follows: AWS_DEFAULT_PROFILE first.
            profile: var("AWS_DEFAULT_PROFILE").or_else(|| var("AWS_PROFILE")),
            max_wait_seconds: var(MAX_WAIT_SECONDS_VARIABLE),
            shown_in_debug: SHOWN_IN_DEBUG
                .iter()
                .filter_map(|name| Some((*name, std::env::var(name).ok()?)))
                .collect(),
            access_key_id: std::env::var("AWS_ACCESS_KEY_ID").ok(),
            handed: HANDED
                .iter()
                .filter_map(|name| Some((*name, var(name)?)))
                .collect(),
        }
    }

    /// A variable samrs reads ([`HANDED`]), when set and not empty.
    pub fn var(&self, name: &str) -> Option<&str> {
        self.handed.get(name).map(String::as_str)
    }

    /// How long an AWS call or registry request goes unanswered before samrs says what it
    /// waits for: [`SLOW_CALL_VARIABLE`]'s positive number of seconds, else 10.
    pub fn slow_call_threshold(&self) -> Duration {
        slow_call_threshold(self.var(SLOW_CALL_VARIABLE))
    }
}

/// The threshold from [`SLOW_CALL_VARIABLE`]'s value: a positive number of seconds, else 10.
pub fn slow_call_threshold(value: Option<&str>) -> Duration {
    value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 86_400.0)
        .map_or(Duration::from_secs(10), Duration::from_secs_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_threshold_comes_from_the_environment() {
        assert_eq!(slow_call_threshold(None), Duration::from_secs(10));
        assert_eq!(slow_call_threshold(Some("0.5")), Duration::from_millis(500));
        for bad in ["0", "-3", "x", "inf", ""] {
            assert_eq!(
                slow_call_threshold(Some(bad)),
                Duration::from_secs(10),
                "{bad}"
            );
        }
    }
}
