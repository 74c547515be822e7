//! One place that talks to the AWS SDK's setup: the shared `SdkConfig`, the clients built from it,
//! and the single classifier that turns SDK errors into one-line messages.
//!
//! Everything samrs sends goes through the clients made here, so endpoint overrides
//! (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`), profiles and regions behave the same for
//! every service.

use std::error::Error as StdError;
use std::fmt;

use aws_config::{retry::RetryConfig, timeout::TimeoutConfig, BehaviorVersion, Region, SdkConfig};
use aws_sdk_cloudformation::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::interceptors::context::InterceptorContext;
use aws_smithy_runtime_api::client::retries::classifiers::{
    ClassifyRetry, RetryAction, RetryClassifierPriority,
};
use std::time::Duration;

use crate::calls::CallRecorder;
use crate::settings::{
    Environment, BACKOFF_VARIABLE, CONNECT_TIMEOUT_VARIABLE, MAX_ATTEMPTS_VARIABLE,
    READ_TIMEOUT_VARIABLE,
};

/// The clients of one run, sharing one configuration (credentials are resolved once).
#[derive(Clone, Debug)]
pub struct Aws {
    pub region: String,
    pub cfn: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub sts: aws_sdk_sts::Client,
    pub signer: aws_sdk_signer::Client,
    /// GetFunction: the code a deployed function runs, which a change set is compared with.
    pub lambda: aws_sdk_lambda::Client,
    /// Base URL for path-style S3 object URLs handed to CloudFormation (`TemplateURL`).
    pub s3_url_base: String,
    /// Whom connections trust (the CA bundle), for the registry client too.
    pub network: crate::network::Network,
}

/// Loads the shared configuration and builds every client samrs needs. With a profile, its
/// credentials are used even when `AWS_ACCESS_KEY_ID` is set (the AWS CLI's and sam's order:
/// an explicit profile wins over the environment). Credentials are resolved once here, so a
/// missing or broken source is reported before anything is done, with its real cause.
pub async fn connect(
    region: Option<&str>,
    profile: Option<&str>,
    env: &Environment,
) -> anyhow::Result<Aws> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config(
            env.var(MAX_ATTEMPTS_VARIABLE),
            env.var(BACKOFF_VARIABLE),
        ))
        .timeout_config(timeout_config(
            env.var(CONNECT_TIMEOUT_VARIABLE),
            env.var(READ_TIMEOUT_VARIABLE),
        ));
    if let Some(profile) = profile {
        loader = loader.profile_name(profile).credentials_provider(
            aws_config::profile::ProfileFileCredentialsProvider::builder()
                .profile_name(profile)
                .build(),
        );
    } else if let Some(profile) = &env.profile {
        // The SDK reads AWS_PROFILE only; named here, AWS_DEFAULT_PROFILE counts as sam counts it,
        // behind environment credentials as the default chain puts them.
        loader = loader.profile_name(profile);
    }
    let network = crate::network::Network::load(profile.or(env.profile.as_deref()), env).await?;
    loader = network.configure_sdk(loader)?;
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    let sdk = loader.load().await;
    let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
        anyhow::anyhow!(
            "Unable to resolve a region: pass --region, set region in samconfig.toml, or set AWS_REGION"
        )
    })?;
    check_credentials(&sdk, profile, env).await?;
    let s3_override = s3_endpoint_override(&sdk, env);
    let s3_conf = instrumented(aws_sdk_s3::config::Builder::from(&sdk))
        // Hostname endpoints (localhost, proxies) only work with path-style addressing.
        .force_path_style(s3_override.is_some())
        .build();
    let s3_url_base = s3_override.unwrap_or_else(|| default_s3_url(&region));
    crate::debug::log(&format!("AWS region: {region}"));
    Ok(Aws {
        cfn: aws_sdk_cloudformation::Client::from_conf(
            instrumented(aws_sdk_cloudformation::config::Builder::from(&sdk)).build(),
        ),
        s3: aws_sdk_s3::Client::from_conf(s3_conf),
        ecr: aws_sdk_ecr::Client::from_conf(
            instrumented(aws_sdk_ecr::config::Builder::from(&sdk)).build(),
        ),
        sts: aws_sdk_sts::Client::from_conf(
            instrumented(aws_sdk_sts::config::Builder::from(&sdk)).build(),
        ),
        signer: aws_sdk_signer::Client::from_conf(
            instrumented(aws_sdk_signer::config::Builder::from(&sdk)).build(),
        ),
        lambda: aws_sdk_lambda::Client::from_conf(
            instrumented(aws_sdk_lambda::config::Builder::from(&sdk)).build(),
        ),
        region,
        s3_url_base,
        network,
    })
}

const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect and read timeouts for every call: 5 s to connect and 30 s for an answer by default
/// (AWS answers in well under a second; a silent endpoint costs 30 s a try, not the minute of the
/// SDK's defaults), or the variables' positive numbers of seconds. Uploads get more time to send
/// their bytes ([`upload_timeouts`]).
pub fn timeout_config(connect: Option<&str>, read: Option<&str>) -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(seconds(connect).unwrap_or(DEFAULT_CONNECT_TIMEOUT))
        .read_timeout(seconds(read).unwrap_or(DEFAULT_READ_TIMEOUT))
        .build()
}

/// An upload's timeouts: the read timeout starts once the request is sent, so it also covers
/// sending `bytes`; they get time at 128 KiB/s on top.
pub fn upload_timeouts(base: &TimeoutConfig, bytes: usize) -> TimeoutConfig {
    let read = base.read_timeout().unwrap_or(DEFAULT_READ_TIMEOUT);
    let sending = Duration::from_secs_f64(bytes as f64 / (128.0 * 1024.0));
    TimeoutConfig::builder()
        .connect_timeout(base.connect_timeout().unwrap_or(DEFAULT_CONNECT_TIMEOUT))
        .read_timeout(read + sending)
        .build()
}

/// A positive number of seconds (up to an hour) from a variable's value.
pub fn seconds(value: Option<&str>) -> Option<Duration> {
    value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
        .map(Duration::from_secs_f64)
}

/// Resolves the credentials once; a failure becomes one line naming its cause.
async fn check_credentials(
    sdk: &SdkConfig,
    profile: Option<&str>,
    env: &Environment,
) -> anyhow::Result<()> {
    use aws_sdk_sts::config::ProvideCredentials;
    let source = || {
        let name = profile.or(env.profile.as_deref()).unwrap_or("default");
        let has_env = |name: &str| env.var(name).is_some();
        CredentialSource::configured(&profile_keys(name, env), &has_env)
    };
    let Some(provider) = sdk.credentials_provider() else {
        return Err(CredentialsProblem::NotFound.into());
    };
    match provider.provide_credentials().await {
        Ok(credentials) => {
            crate::debug::log(&format!(
                "AWS credentials: access key {}{}",
                crate::debug::key_hint(credentials.access_key_id()),
                profile.map_or_else(String::new, |p| format!(" from profile {p}"))
            ));
            Ok(())
        }
        Err(err) => {
            Err(CredentialsProblem::classify(profile, source(), &source_chain_of(&err)).into())
        }
    }
}

/// Why no credentials could be had, named as the AWS CLI would name it, with the fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialsProblem {
    #[error("The config profile ({0}) could not be found: add it to ~/.aws/config or ~/.aws/credentials (or AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE), or fix --profile / profile in samconfig")]
    ProfileNotFound(String),
    #[error("The SSO session of {0} has expired or was never started: run `aws sso login{1}` and try again ({2})")]
    SsoTokenExpired(String, String, String),
    #[error("AssumeRole failed for {0}: the role could not be assumed with the source credentials ({1})")]
    AssumeRole(String, String),
    #[error("Web identity credentials failed (AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, or web_identity_token_file in the profile): {0}")]
    WebIdentity(String),
    #[error("Container credentials failed (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / AWS_CONTAINER_CREDENTIALS_FULL_URI): {0}")]
    Container(String),
    #[error("credential_process of {0} failed: {1}")]
    Process(String, String),
    #[error("Unable to locate credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile, or run `aws configure`")]
    NotFound,
    #[error("Credentials could not be loaded{0}: {1}")]
    Other(String, String),
}

/// Where the credentials were to come from: the SDK's errors do not say which source failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialSource {
    Sso,
    WebIdentity,
    AssumeRole,
    Container,
    Process,
    Unknown,
}

impl CredentialSource {
    /// The source configured for `profile` (its keys in the config file), else the environment's.
    pub fn configured(profile_keys: &[String], env: &dyn Fn(&str) -> bool) -> CredentialSource {
        let has = |key: &str| profile_keys.iter().any(|k| k == key);
        if has("sso_start_url") || has("sso_session") {
            CredentialSource::Sso
        } else if has("web_identity_token_file") {
            CredentialSource::WebIdentity
        } else if has("credential_process") {
            CredentialSource::Process
        } else if has("role_arn") {
            CredentialSource::AssumeRole
        } else if env("AWS_WEB_IDENTITY_TOKEN_FILE") {
            CredentialSource::WebIdentity
        } else if env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            || env("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        {
            CredentialSource::Container
        } else {
            CredentialSource::Unknown
        }
    }
}

impl CredentialsProblem {
    /// Names the cause from the configured source and the provider's error text.
    pub fn classify(
        profile: Option<&str>,
        source: CredentialSource,
        text: &str,
    ) -> CredentialsProblem {
        let lower = text.to_ascii_lowercase();
        let who = profile.map_or_else(
            || "the default profile".to_string(),
            |p| format!("profile {p}"),
        );
        let text = text.to_string();
        if lower.contains("was not defined") || lower.contains("no profiles were defined") {
            return CredentialsProblem::ProfileNotFound(profile.unwrap_or("default").to_string());
        }
        if lower.contains("no credentials found in chain")
            || lower.contains("no credentials provider")
        {
            return CredentialsProblem::NotFound;
        }
        match source {
            CredentialSource::Sso => {
                let flag = profile.map_or_else(String::new, |p| format!(" --profile {p}"));
                CredentialsProblem::SsoTokenExpired(who, flag, text)
            }
            CredentialSource::WebIdentity => CredentialsProblem::WebIdentity(text),
            CredentialSource::AssumeRole => CredentialsProblem::AssumeRole(who, text),
            CredentialSource::Container => CredentialsProblem::Container(text),
            CredentialSource::Process => CredentialsProblem::Process(who, text),
            CredentialSource::Unknown => CredentialsProblem::Other(
                profile.map_or_else(String::new, |p| format!(" for profile {p}")),
                text,
            ),
        }
    }
}

/// The keys of `profile`'s section in the AWS config file (`AWS_CONFIG_FILE`, else
/// `~/.aws/config`), to tell which source a failing profile uses.
fn profile_keys(profile: &str, env: &Environment) -> Vec<String> {
    let path = env
        .var("AWS_CONFIG_FILE")
        .map(std::path::PathBuf::from)
        .or_else(|| {
            env.var("HOME")
                .map(|h| std::path::Path::new(h).join(".aws/config"))
        });
    let text = path
        .and_then(|p| std::fs::read_to_string(p).ok())
        .unwrap_or_default();
    section_keys(&text, profile)
}

/// The keys of an INI section `[profile NAME]` (or `[default]`/`[NAME]` for the default).
pub fn section_keys(text: &str, profile: &str) -> Vec<String> {
    let wanted = |header: &str| {
        let header = header.trim();
        header == format!("profile {profile}") || (header == profile && profile == "default")
    };
    let mut inside = false;
    let mut keys = Vec::new();
    for line in text.lines().map(str::trim) {
        if let Some(header) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            inside = wanted(header);
        } else if inside {
            if let Some((key, _)) = line.split_once('=') {
                keys.push(key.trim().to_string());
            }
        }
    }
    keys
}

/// A client configuration whose calls are recorded for the UI's "still waiting" lines, logged
/// when `--debug` is on, and not retried when the server's certificate is not trusted.
fn instrumented<B: Instrument>(builder: B) -> B {
    let builder = builder.instrument();
    if crate::debug::enabled() {
        builder.debug_log()
    } else {
        builder
    }
}

/// The setters every SDK's config builder has, named so [`instrumented`] serves them all.
trait Instrument {
    fn instrument(self) -> Self;
    fn debug_log(self) -> Self;
}

macro_rules! instrument_for {
    ($($builder:ty),*) => {$(
        impl Instrument for $builder {
            fn instrument(self) -> Self {
                self.interceptor(CallRecorder)
                    .retry_classifier(NoRetryForUntrustedCertificate)
            }
            fn debug_log(self) -> Self {
                self.interceptor(CallLog)
            }
        }
    )*};
}
instrument_for!(
    aws_sdk_s3::config::Builder,
    aws_sdk_cloudformation::config::Builder,
    aws_sdk_ecr::config::Builder,
    aws_sdk_sts::config::Builder,
    aws_sdk_signer::config::Builder,
    aws_sdk_lambda::config::Builder
);

/// Logs each attempt of each AWS call (service, operation, method, URL) and its HTTP status.
/// Headers and bodies, where signatures and secrets live, are never read.
#[derive(Debug)]
struct CallLog;

impl CallLog {
    fn operation(cfg: &aws_sdk_sts::config::ConfigBag) -> String {
        cfg.load::<aws_smithy_runtime_api::client::orchestrator::Metadata>()
            .map_or_else(
                || "unknown operation".to_string(),
                |m| format!("{}.{}", m.service(), m.name()),
            )
    }
}

impl aws_sdk_sts::config::Intercept for CallLog {
    fn name(&self) -> &'static str {
        "samrs --debug call log"
    }

    fn read_before_transmit(
        &self,
        context: &aws_sdk_sts::config::interceptors::BeforeTransmitInterceptorContextRef<'_>,
        _components: &aws_sdk_sts::config::RuntimeComponents,
        cfg: &mut aws_sdk_sts::config::ConfigBag,
    ) -> Result<(), aws_sdk_sts::error::BoxError> {
        let request = context.request();
        // The query string can carry presigned values; the path is enough to follow the calls.
        let uri = request.uri();
        let uri = uri.split('?').next().unwrap_or(uri);
        crate::debug::log(&format!(
            "AWS call {}: {} {uri}",
            Self::operation(cfg),
            request.method()
        ));
        Ok(())
    }

    fn read_after_transmit(
        &self,
        context: &aws_sdk_sts::config::interceptors::BeforeDeserializationInterceptorContextRef<'_>,
        _components: &aws_sdk_sts::config::RuntimeComponents,
        cfg: &mut aws_sdk_sts::config::ConfigBag,
    ) -> Result<(), aws_sdk_sts::error::BoxError> {
        crate::debug::log(&format!(
            "AWS call {}: HTTP {}",
            Self::operation(cfg),
            context.response().status().as_u16()
        ));
        Ok(())
    }
}

/// An untrusted certificate fails every attempt the same way: the SDK would retry it as a broken
/// connection (five times, with back-off) before the one line that names `AWS_CA_BUNDLE`.
#[derive(Debug)]
struct NoRetryForUntrustedCertificate;

impl ClassifyRetry for NoRetryForUntrustedCertificate {
    fn classify_retry(&self, ctx: &InterceptorContext) -> RetryAction {
        let Some(Err(error)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        let Some(connector) = error.as_connector_error() else {
            return RetryAction::NoActionIndicated;
        };
        // The same reading of the causes as the one line the error becomes (`classify`).
        if source_chain_of(connector).contains(crate::network::UNTRUSTED_CERTIFICATE) {
            RetryAction::RetryForbidden
        } else {
            RetryAction::NoActionIndicated
        }
    }

    fn name(&self) -> &'static str {
        "samrs: no retry for an untrusted certificate"
    }

    fn priority(&self) -> RetryClassifierPriority {
        // After the transient-error classifier, whose "retry" this overrides.
        RetryClassifierPriority::run_after(RetryClassifierPriority::transient_error_classifier())
    }
}

const DEFAULT_MAX_ATTEMPTS: u32 = 5;

/// The SDK's standard retry (throttling, 5xx, timeouts and broken connections are retried) with
/// five attempts, or `AWS_MAX_ATTEMPTS` when set; `SAMRS_RETRY_BACKOFF` shortens or lengthens the
/// backoff (the SDK's default starts at 1 s). Values that are not positive numbers are ignored.
pub fn retry_config(max_attempts: Option<&str>, backoff: Option<&str>) -> RetryConfig {
    let attempts = max_attempts
        .and_then(|v| v.trim().parse::<u32>().ok())
        .filter(|n| *n > 0)
        .unwrap_or(DEFAULT_MAX_ATTEMPTS);
    let config = RetryConfig::standard().with_max_attempts(attempts);
    match seconds(backoff) {
        Some(backoff) => config.with_initial_backoff(backoff),
        None => config,
    }
}

/// The S3 endpoint in force when one is overridden. `SdkConfig::endpoint_url` does not show the
/// service-specific variable, so it is read here too.
fn s3_endpoint_override(sdk: &SdkConfig, env: &Environment) -> Option<String> {
    env.var("AWS_ENDPOINT_URL_S3")
        .map(str::to_string)
        .or_else(|| sdk.endpoint_url().map(str::to_string))
        .map(|url| url.trim_end_matches('/').to_string())
}

/// The regional S3 endpoint, as the SAM CLI's boto3 client reports it (global for us-east-1).
pub fn default_s3_url(region: &str) -> String {
    match region {
        "us-east-1" => "https://s3.amazonaws.com".to_string(),
        r if r.starts_with("cn-") => format!("https://s3.{r}.amazonaws.com.cn"),
        r => format!("https://s3.{r}.amazonaws.com"),
    }
}

/// An AWS call that failed, reduced to what a person and a caller need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsError {
    /// What samrs was doing, e.g. "CloudFormation DescribeStacks".
    pub operation: String,
    /// AWS's error code (`ValidationError`, `ThrottlingException`) or a transport category.
    pub code: String,
    pub message: String,
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} failed: {}: {}",
            self.operation, self.code, self.message
        )?;
        if let Some(hint) = self.hint() {
            write!(f, " ({hint})")?;
        }
        Ok(())
    }
}

impl StdError for AwsError {}

impl AwsError {
    /// CloudFormation reports a missing stack as a ValidationError with this wording.
    pub fn is_stack_missing(&self) -> bool {
        self.code == "ValidationError" && self.message.contains("does not exist")
    }

    fn hint(&self) -> Option<&'static str> {
        match self.code.as_str() {
            "credentials" => Some(
                "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile, or run `aws configure`",
            ),
            "ExpiredToken" | "ExpiredTokenException" => {
                Some("refresh your credentials, e.g. `aws sso login`")
            }
            "AccessDenied" | "AccessDeniedException" => {
                Some("the credentials in use lack this permission")
            }
            "connection" => Some("check the network, or AWS_ENDPOINT_URL and HTTPS_PROXY/HTTP_PROXY if you set them"),
            "tls" => Some(crate::network::UNTRUSTED_HINT),
            "timeout" => Some(
                "no answer in time: check the network, or allow more seconds with SAMRS_READ_TIMEOUT and SAMRS_CONNECT_TIMEOUT",
            ),
            _ => None,
        }
    }
}

/// Turns any SDK error into an [`AwsError`] naming the operation.
pub fn classify<E, R>(operation: &str, err: &SdkError<E, R>) -> AwsError
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: fmt::Debug,
{
    let (code, message) = match err {
        SdkError::ServiceError(_) => (
            err.code().unwrap_or("Unknown").to_string(),
            err.message().unwrap_or("no message").to_string(),
        ),
        SdkError::TimeoutError(_) => ("timeout".into(), "the request timed out".into()),
        SdkError::DispatchFailure(d) => {
            let text = source_chain(err);
            if text.contains("credentials") || text.contains("no credentials") {
                ("credentials".into(), "no AWS credentials were found".into())
            } else if let Some(at) = text.find(crate::network::UNTRUSTED_CERTIFICATE) {
                ("tls".into(), text[at..].to_string())
            } else if d.is_timeout() {
                ("timeout".into(), text)
            } else if d.is_io() {
                ("connection".into(), text)
            } else {
                ("dispatch".into(), text)
            }
        }
        SdkError::ConstructionFailure(_) => {
            let text = source_chain(err);
            if text.contains("credentials") {
                ("credentials".into(), "no AWS credentials were found".into())
            } else {
                ("request".into(), text)
            }
        }
        _ => ("response".into(), source_chain(err)),
    };
    AwsError {
        operation: operation.to_string(),
        code,
        message,
    }
}

/// An error and its causes, joined.
fn source_chain_of(err: &dyn StdError) -> String {
    let causes = source_chain(err);
    let own = err.to_string();
    if causes.contains(&own) {
        causes
    } else {
        format!("{own}: {causes}")
    }
}

/// The innermost useful causes, joined: the SDK's own Display is only "dispatch failure".
fn source_chain(err: &dyn StdError) -> String {
    let mut parts = Vec::new();
    let mut current = err.source();
    while let Some(e) = current {
        let text = e.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        current = e.source();
    }
    if parts.is_empty() {
        err.to_string()
    } else {
        parts.join(": ")
    }
}

/// `.aws("CloudFormation DescribeStacks")?` on any SDK result.
pub trait AwsResultExt<T> {
    fn aws(self, operation: &str) -> Result<T, AwsError>;
}

impl<T, E, R> AwsResultExt<T> for Result<T, SdkError<E, R>>
where
    E: ProvideErrorMetadata + StdError + 'static,
    R: fmt::Debug,
{
    fn aws(self, operation: &str) -> Result<T, AwsError> {
        self.map_err(|e| classify(operation, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: &str, message: &str) -> AwsError {
        AwsError {
            operation: "CloudFormation DescribeStacks".into(),
            code: code.into(),
            message: message.into(),
        }
    }

    #[test]
    fn missing_stack_is_recognised_from_cloudformation_wording() {
        assert!(error("ValidationError", "Stack with id app does not exist").is_stack_missing());
        assert!(!error("ValidationError", "Template format error").is_stack_missing());
        assert!(!error("AccessDenied", "does not exist").is_stack_missing());
    }

    #[test]
    fn display_is_one_line_with_hint() {
        let text = error("credentials", "no AWS credentials were found").to_string();
        assert_eq!(
            text,
            "CloudFormation DescribeStacks failed: credentials: no AWS credentials were found \
             (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile, or run `aws configure`)"
        );
        assert!(!text.contains('\n'));
    }

    #[test]
    fn retries_default_to_five_attempts_and_follow_the_environment() {
        let default = retry_config(None, None);
        assert_eq!(default.max_attempts(), 5);
        assert_eq!(default.initial_backoff(), Duration::from_secs(1));
        let tuned = retry_config(Some("2"), Some("0.01"));
        assert_eq!(tuned.max_attempts(), 2);
        assert_eq!(tuned.initial_backoff(), Duration::from_millis(10));
        for bad in ["0", "-1", "x", "", "inf"] {
            let config = retry_config(Some(bad), Some(bad));
            assert_eq!(config.max_attempts(), 5, "{bad}");
            assert_eq!(config.initial_backoff(), Duration::from_secs(1), "{bad}");
        }
    }

    #[test]
    fn timeouts_default_to_5_and_30_seconds_and_follow_the_environment() {
        let default = timeout_config(None, None);
        assert_eq!(default.connect_timeout(), Some(Duration::from_secs(5)));
        assert_eq!(default.read_timeout(), Some(Duration::from_secs(30)));
        let tuned = timeout_config(Some("0.5"), Some("2"));
        assert_eq!(tuned.connect_timeout(), Some(Duration::from_millis(500)));
        assert_eq!(tuned.read_timeout(), Some(Duration::from_secs(2)));
        for bad in ["0", "-1", "x", "", "inf"] {
            assert_eq!(timeout_config(Some(bad), Some(bad)), default, "{bad}");
        }
    }

    #[test]
    fn uploads_get_time_to_send_their_bytes() {
        let base = timeout_config(None, Some("2"));
        let upload = upload_timeouts(&base, 1280 * 1024);
        assert_eq!(upload.read_timeout(), Some(Duration::from_secs(12)));
        assert_eq!(upload.connect_timeout(), Some(Duration::from_secs(5)));
    }

    #[test]
    fn credential_failures_name_their_source() {
        let config = "[default]\nregion = x\n[profile sso]\nsso_start_url = u\nsso_region = r\n\
                      [profile wi]\nweb_identity_token_file = /t\nrole_arn = a\n[profile ar]\nrole_arn = a\nsource_profile = b\n";
        let none = |_: &str| false;
        let source = |p: &str| CredentialSource::configured(&section_keys(config, p), &none);
        assert_eq!(source("sso"), CredentialSource::Sso);
        assert_eq!(source("wi"), CredentialSource::WebIdentity);
        assert_eq!(source("ar"), CredentialSource::AssumeRole);
        assert_eq!(source("default"), CredentialSource::Unknown);
        let container = |name: &str| name == "AWS_CONTAINER_CREDENTIALS_FULL_URI";
        assert_eq!(
            CredentialSource::configured(&[], &container),
            CredentialSource::Container
        );

        // Error texts as aws-config words them (seen with these profiles).
        let sso = CredentialsProblem::classify(
            Some("sso"),
            CredentialSource::Sso,
            "an error occurred while loading credentials: failed to read `/h/.aws/sso/cache/e8.json`: No such file or directory (os error 2)",
        );
        assert!(sso.to_string().starts_with("The SSO session of profile sso has expired or was never started: run `aws sso login --profile sso`"), "{sso}");
        let missing = CredentialsProblem::classify(
            Some("nope"),
            CredentialSource::Unknown,
            "the credentials provider was not properly configured: ProfileFile provider could not be built: profile `nope` was not defined: not in the config file",
        );
        assert_eq!(missing, CredentialsProblem::ProfileNotFound("nope".into()));
        let chain = CredentialsProblem::classify(
            None,
            CredentialSource::Unknown,
            "no credentials found in chain. Attempted: Environment: ...",
        );
        assert_eq!(chain, CredentialsProblem::NotFound);
        let role = CredentialsProblem::classify(
            Some("ar"),
            CredentialSource::AssumeRole,
            "AccessDenied: not authorized",
        );
        assert!(
            role.to_string()
                .starts_with("AssumeRole failed for profile ar"),
            "{role}"
        );
        let web = CredentialsProblem::classify(None, CredentialSource::WebIdentity, "No such file");
        assert!(
            web.to_string()
                .starts_with("Web identity credentials failed"),
            "{web}"
        );
    }

    #[test]
    fn regional_s3_urls() {
        assert_eq!(
            default_s3_url("eu-west-1"),
            "https://s3.eu-west-1.amazonaws.com"
        );
        assert_eq!(default_s3_url("us-east-1"), "https://s3.amazonaws.com");
        assert_eq!(
            default_s3_url("cn-north-1"),
            "https://s3.cn-north-1.amazonaws.com.cn"
        );
    }
}
