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
use std::time::Duration;

/// The clients of one run, sharing one configuration (credentials are resolved once).
#[derive(Clone, Debug)]
pub struct Aws {
    pub region: String,
    pub cfn: aws_sdk_cloudformation::Client,
    pub s3: aws_sdk_s3::Client,
    pub ecr: aws_sdk_ecr::Client,
    pub sts: aws_sdk_sts::Client,
    pub signer: aws_sdk_signer::Client,
    /// Base URL for path-style S3 object URLs handed to CloudFormation (`TemplateURL`).
    pub s3_url_base: String,
}

/// Loads the shared configuration and builds every client samrs needs.
pub async fn connect(region: Option<&str>, profile: Option<&str>) -> anyhow::Result<Aws> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .retry_config(retry_config(
            std::env::var(MAX_ATTEMPTS_VARIABLE).ok().as_deref(),
            std::env::var(BACKOFF_VARIABLE).ok().as_deref(),
        ))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(10))
                .operation_attempt_timeout(Duration::from_secs(60))
                .build(),
        );
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = region {
        loader = loader.region(Region::new(region.to_string()));
    }
    let sdk = loader.load().await;
    let region = sdk.region().map(|r| r.to_string()).ok_or_else(|| {
        anyhow::anyhow!(
            "Unable to resolve a region: pass --region, set region in samconfig.toml, or set AWS_REGION"
        )
    })?;
    let s3_override = s3_endpoint_override(&sdk);
    let s3_conf = aws_sdk_s3::config::Builder::from(&sdk)
        // Hostname endpoints (localhost, proxies) only work with path-style addressing.
        .force_path_style(s3_override.is_some())
        .build();
    let s3_url_base = s3_override.unwrap_or_else(|| default_s3_url(&region));
    Ok(Aws {
        cfn: aws_sdk_cloudformation::Client::new(&sdk),
        s3: aws_sdk_s3::Client::from_conf(s3_conf),
        ecr: aws_sdk_ecr::Client::new(&sdk),
        sts: aws_sdk_sts::Client::new(&sdk),
        signer: aws_sdk_signer::Client::new(&sdk),
        region,
        s3_url_base,
    })
}

/// The AWS SDKs' variable for the number of attempts per call (first try included).
pub const MAX_ATTEMPTS_VARIABLE: &str = "AWS_MAX_ATTEMPTS";
/// samrs's variable for the first retry's backoff in seconds (it doubles per retry, with jitter).
pub const BACKOFF_VARIABLE: &str = "SAMRS_RETRY_BACKOFF";
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
    match backoff
        .and_then(|v| v.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 3600.0)
    {
        Some(seconds) => config.with_initial_backoff(Duration::from_secs_f64(seconds)),
        None => config,
    }
}

/// The S3 endpoint in force when one is overridden. `SdkConfig::endpoint_url` does not show the
/// service-specific variable, so it is read here too.
fn s3_endpoint_override(sdk: &SdkConfig) -> Option<String> {
    std::env::var("AWS_ENDPOINT_URL_S3")
        .ok()
        .filter(|v| !v.is_empty())
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
            "connection" => Some("check the network, or AWS_ENDPOINT_URL if you set one"),
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
            } else if d.is_io() || d.is_timeout() {
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
