//! Which registry a repository URI lives in, where to send its requests, and how to log in:
//! ECR's `GetAuthorizationToken` gives `AWS:<password>` (base64) for HTTP basic auth.
//! `SAMRS_REGISTRY_ENDPOINT` redirects pushes (tests, mirrors) but keeps that login flow, and
//! plain HTTP is allowed only to loopback addresses, so credentials never cross a network in
//! clear text.

use std::net::IpAddr;

use anyhow::{bail, Context};
use base64::prelude::{Engine as _, BASE64_STANDARD};

use crate::aws::AwsResultExt;
use crate::settings::REGISTRY_ENDPOINT_VARIABLE as ENDPOINT_VARIABLE;

/// `host/path/to/repo[:tag]` split into the registry host and the repository path.
pub fn split_repository_uri(uri: &str) -> anyhow::Result<(String, String)> {
    let uri = uri.strip_prefix("https://").unwrap_or(uri);
    let (host, path) = uri
        .split_once('/')
        .filter(|(host, path)| !host.is_empty() && !path.is_empty())
        .with_context(|| format!("image repository `{uri}` is not `registry-host/repository`; use the repositoryUri ECR shows"))?;
    // A tag or digest on the repository is not part of the repository's name.
    let path = path.split('@').next().unwrap_or(path);
    let path = path.split(':').next().unwrap_or(path);
    Ok((host.to_string(), path.to_string()))
}

/// The base URL for the registry `host`: the override when one is set, else `https://host`.
pub fn registry_base(host: &str, endpoint_override: Option<&str>) -> anyhow::Result<String> {
    let Some(endpoint) = endpoint_override.filter(|e| !e.is_empty()) else {
        return Ok(format!("https://{host}"));
    };
    let uri: http::Uri = endpoint.parse().with_context(|| {
        format!("{ENDPOINT_VARIABLE}={endpoint} is not a URL like http://127.0.0.1:5000")
    })?;
    match uri.scheme_str() {
        Some("https") => {}
        Some("http") if uri.host().is_some_and(is_loopback) => {}
        Some("http") => bail!(
            "{ENDPOINT_VARIABLE}={endpoint} uses plain HTTP to a non-loopback host; use https:// (plain HTTP is only for 127.0.0.1, ::1 and localhost)"
        ),
        _ => bail!("{ENDPOINT_VARIABLE}={endpoint} must start with https:// (or http:// for a loopback address)"),
    }
    Ok(endpoint.trim_end_matches('/').to_string())
}

fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The credentials of one registry for a run: fetched once, fetched again when the registry
/// refuses them (an ECR token expires after 12 hours, and a push can outlast one).
#[derive(Debug)]
pub struct Login {
    ecr: aws_sdk_ecr::Client,
    current: tokio::sync::Mutex<Credentials>,
}

/// An `Authorization` header and which fetch of the run it came from.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub generation: u64,
    pub header: String,
}

impl Login {
    /// Logs in with a first `GetAuthorizationToken`.
    pub async fn new(ecr: &aws_sdk_ecr::Client) -> anyhow::Result<Login> {
        let header = ecr_authorization(ecr).await?;
        Ok(Login {
            ecr: ecr.clone(),
            current: tokio::sync::Mutex::new(Credentials {
                generation: 0,
                header,
            }),
        })
    }

    pub async fn credentials(&self) -> Credentials {
        self.current.lock().await.clone()
    }

    /// Fetches a fresh token unless another call already replaced `refused` meanwhile.
    pub async fn refresh(&self, refused: &Credentials) -> anyhow::Result<Credentials> {
        let mut current = self.current.lock().await;
        if current.generation == refused.generation {
            current.header = ecr_authorization(&self.ecr).await?;
            current.generation += 1;
        }
        Ok(current.clone())
    }
}

/// The `Authorization` header value for the caller's ECR registry.
async fn ecr_authorization(ecr: &aws_sdk_ecr::Client) -> anyhow::Result<String> {
    let output = ecr
        .get_authorization_token()
        .send()
        .await
        .aws("ECR GetAuthorizationToken")?;
    let token = output
        .authorization_data()
        .first()
        .and_then(|d| d.authorization_token())
        .context("ECR GetAuthorizationToken returned no token")?;
    basic_authorization(token)
}

/// Basic auth from an ECR token (`base64("AWS:<password>")`), checked for its shape.
fn basic_authorization(token: &str) -> anyhow::Result<String> {
    let decoded = BASE64_STANDARD
        .decode(token.trim())
        .context("the ECR authorization token is not base64")?;
    let decoded = String::from_utf8(decoded).context("the ECR authorization token is not text")?;
    let (user, password) = decoded
        .split_once(':')
        .context("the ECR authorization token is not `user:password`")?;
    Ok(format!(
        "Basic {}",
        BASE64_STANDARD.encode(format!("{user}:{password}"))
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_repository_uris() {
        let uri = "123456789012.dkr.ecr.us-east-1.amazonaws.com/stack12345678/fn1a2b3c4drepo";
        assert_eq!(
            split_repository_uri(uri).unwrap(),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com".to_string(),
                "stack12345678/fn1a2b3c4drepo".to_string()
            )
        );
        assert_eq!(
            split_repository_uri("host.example/repo:tag").unwrap().1,
            "repo"
        );
        assert!(split_repository_uri("no-slash").is_err());
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let host = "1.dkr.ecr.us-east-1.amazonaws.com";
        assert_eq!(
            registry_base(host, None).unwrap(),
            format!("https://{host}")
        );
        assert_eq!(
            registry_base(host, Some("http://127.0.0.1:5102/")).unwrap(),
            "http://127.0.0.1:5102"
        );
        assert!(registry_base(host, Some("http://[::1]:5102")).is_ok());
        assert!(registry_base(host, Some("http://localhost:5102")).is_ok());
        assert!(registry_base(host, Some("https://mirror.example")).is_ok());
        let err = registry_base(host, Some("http://10.0.0.5:5000")).unwrap_err();
        assert!(err
            .to_string()
            .contains("plain HTTP to a non-loopback host"));
    }

    #[test]
    fn basic_auth_from_moto_token() {
        // moto's token decodes to `AWS:123456789012-auth-token`, as the emulator's htpasswd expects.
        let token = BASE64_STANDARD.encode("AWS:123456789012-auth-token");
        assert_eq!(
            basic_authorization(&token).unwrap(),
            "Basic QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu"
        );
        assert!(basic_authorization("bm9jb2xvbg==").is_err());
    }
}
