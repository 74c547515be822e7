//! A registry v2 API client, just what a push needs: blob existence, cross-repository mounts,
//! upload sessions and manifests. Every call but a layer's streamed PATCH (which
//! [`super::upload`] restarts as a whole) is retried here: lost connections, silence, 429 and
//! 5xx with backoff (`Retry-After` honoured), and a refused login (401/403, an expired ECR
//! token) once with fresh credentials.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION, RETRY_AFTER};
use http::{HeaderMap, Method, Request, StatusCode};

use super::login::{Credentials, Login};
use super::manifest::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};
use super::report::Observer;
use super::transport::{Activity, ExchangeError, Patience, RequestBody, Transport};

const DIGEST_HEADER: &str = "docker-content-digest";
/// A `Retry-After` longer than this is not waited for in full.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How often and how patiently calls are retried: the AWS calls' settings (`AWS_MAX_ATTEMPTS`,
/// `SAMRS_RETRY_BACKOFF`), so one pair of knobs tunes both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// The first backoff; it doubles per retry.
    pub first_backoff: Duration,
}

impl Retry {
    pub fn from_config(config: &aws_config::retry::RetryConfig) -> Retry {
        Retry {
            attempts: config.max_attempts().max(1),
            first_backoff: config.initial_backoff(),
        }
    }
}

/// A response with its (small) body read.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The registry's error code (`BLOB_UPLOAD_INVALID`, `DENIED`, …), if it sent one.
    pub fn code(&self) -> Option<String> {
        let value: serde_json::Value = serde_json::from_slice(&self.body).ok()?;
        Some(value["errors"][0]["code"].as_str()?.to_string())
    }

    /// The registry's own error text (`{"errors":[{"code","message"}]}`), or the raw body.
    pub fn error(&self, action: &str) -> anyhow::Error {
        let text = String::from_utf8_lossy(&self.body);
        let detail = serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| {
                let e = &v["errors"][0];
                Some(format!(
                    "{}: {}",
                    e["code"].as_str()?,
                    e["message"].as_str().unwrap_or("")
                ))
            })
            .unwrap_or_else(|| text.chars().take(300).collect());
        anyhow::anyhow!("{action}: the registry answered {} {detail}", self.status)
    }

    fn retry_after(&self) -> Option<Duration> {
        let seconds: u64 = self.header(RETRY_AFTER.as_str())?.trim().parse().ok()?;
        Some(Duration::from_secs(seconds).min(LONGEST_RETRY_AFTER))
    }
}

/// What to do with the result of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Hand the answer to the caller (success or an error to report).
    Done,
    /// Log in again and repeat the call at once.
    Relogin,
    /// Back off (at least this long when the registry says) and repeat the call.
    Retry(Option<Duration>),
}

/// The retry policy: connection failures, silence, 429 and 5xx are retried; a refused login
/// once (after a fresh token), since an expired token is the usual cause.
pub fn verdict(result: &Result<Answer, ExchangeError>, relogged: bool) -> Verdict {
    match result {
        Err(ExchangeError::Untrusted(_)) => Verdict::Done,
        Err(_) => Verdict::Retry(None),
        Ok(answer) => match answer.status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN if !relogged => Verdict::Relogin,
            StatusCode::TOO_MANY_REQUESTS => Verdict::Retry(answer.retry_after()),
            s if s.is_server_error() => Verdict::Retry(answer.retry_after()),
            _ => Verdict::Done,
        },
    }
}

/// Whether an upload session must be started over: it is gone or out of step with what was
/// sent (a connection lost inside a PATCH leaves the registry with part of it).
pub fn session_lost(answer: &Answer) -> bool {
    matches!(
        answer.status,
        StatusCode::NOT_FOUND | StatusCode::RANGE_NOT_SATISFIABLE | StatusCode::BAD_REQUEST
    ) && answer
        .code()
        .is_none_or(|c| c == "BLOB_UPLOAD_INVALID" || c == "BLOB_UPLOAD_UNKNOWN")
}

/// Whether a mount took the blob, or where to upload it instead.
pub enum Mount {
    Mounted,
    Upload(String),
}

/// One request, rebuildable for each attempt.
struct Call<'a> {
    method: Method,
    url: String,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
    /// What the call does, for messages and quiet-wait reports.
    what: &'a str,
}

/// One registry, reached at `base`.
#[derive(Clone)]
pub struct Registry {
    transport: Transport,
    base: String,
    login: Arc<Login>,
    retry: Retry,
    patience: Patience,
}

impl Registry {
    /// A registry at `base` (`https://host` or a loopback `http://` test endpoint).
    pub fn new(
        transport: Transport,
        base: String,
        login: Arc<Login>,
        retry: Retry,
        patience: Patience,
    ) -> Self {
        Self {
            transport,
            base: base.trim_end_matches('/').to_string(),
            login,
            retry,
            patience,
        }
    }

    pub fn retry(&self) -> Retry {
        self.retry
    }

    /// Whether `repo` already has the blob `digest`.
    pub async fn blob_exists(
        &self,
        repo: &str,
        digest: &str,
        observer: &Observer,
    ) -> anyhow::Result<bool> {
        let what = format!("checking blob {} in {repo}", short(digest));
        let call = self.call(Method::HEAD, format!("/v2/{repo}/blobs/{digest}"), &what);
        let answer = self.send(call, observer).await?;
        match answer.status {
            s if s.is_success() || s.is_redirection() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(answer.error(&what)),
        }
    }

    /// Mounts `digest` from `from` into `repo`; registries that cannot mount open an upload.
    pub async fn mount(
        &self,
        repo: &str,
        digest: &str,
        from: &str,
        observer: &Observer,
    ) -> anyhow::Result<Mount> {
        let what = format!("mounting blob {} from {from} into {repo}", short(digest));
        let path = format!("/v2/{repo}/blobs/uploads/?mount={digest}&from={from}");
        let answer = self
            .send(self.call(Method::POST, path, &what), observer)
            .await?;
        match answer.status {
            StatusCode::CREATED => Ok(Mount::Mounted),
            StatusCode::ACCEPTED => Ok(Mount::Upload(self.location(&answer)?)),
            _ => Err(answer.error(&what)),
        }
    }

    /// Opens an upload session in `repo`.
    pub async fn start_upload(&self, repo: &str, observer: &Observer) -> anyhow::Result<String> {
        let what = format!("starting an upload to {repo}");
        let call = self.call(Method::POST, format!("/v2/{repo}/blobs/uploads/"), &what);
        let answer = self.send(call, observer).await?;
        if answer.status != StatusCode::ACCEPTED {
            return Err(answer.error(&what));
        }
        self.location(&answer)
    }

    /// One PATCH of a whole blob to the session at `location`, not retried: a lost PATCH leaves
    /// the session in a state only a new session recovers from.
    pub async fn patch(
        &self,
        location: &str,
        body: RequestBody,
        activity: &Arc<Activity>,
        what: &str,
        observer: &Observer,
    ) -> (Credentials, Result<Answer, ExchangeError>) {
        let credentials = self.login.credentials().await;
        let request = Request::builder()
            .method(Method::PATCH)
            .uri(location)
            .header(AUTHORIZATION, &credentials.header)
            .header(CONTENT_TYPE, "application/octet-stream")
            .body(body);
        let request = match request {
            Ok(request) => request,
            Err(e) => return (credentials, Err(ExchangeError::Transport(Box::new(e)))),
        };
        let quiet = |q| observer.waiting(self.host(), what, q);
        let result = self
            .transport
            .exchange(request, activity, self.patience, &quiet)
            .await
            .map(answer);
        (credentials, result)
    }

    /// Logs in again after the registry refused `refused`.
    pub async fn relogin(&self, refused: &Credentials) -> anyhow::Result<()> {
        self.login.refresh(refused).await.map(drop)
    }

    /// Commits the session at `location` (whose bytes are all sent) as `digest`.
    pub async fn commit(
        &self,
        location: &str,
        digest: &str,
        observer: &Observer,
    ) -> anyhow::Result<Answer> {
        let separator = if location.contains('?') { '&' } else { '?' };
        let what = format!("committing blob {}", short(digest));
        let call = Call {
            method: Method::PUT,
            url: format!("{location}{separator}digest={digest}"),
            headers: Vec::new(),
            body: Bytes::new(),
            what: &what,
        };
        self.send(call, observer).await
    }

    /// The digest `repo` has under `reference` (a tag or digest), if any.
    pub async fn manifest_digest(
        &self,
        repo: &str,
        reference: &str,
        observer: &Observer,
    ) -> anyhow::Result<Option<String>> {
        let what = format!("looking up {repo}:{reference}");
        let mut call = self.call(
            Method::HEAD,
            format!("/v2/{repo}/manifests/{reference}"),
            &what,
        );
        let accept = [DOCKER_MANIFEST, OCI_MANIFEST, OCI_INDEX, DOCKER_LIST].join(", ");
        call.headers.push((ACCEPT.as_str(), accept));
        let answer = self.send(call, observer).await?;
        match answer.status {
            s if s.is_success() => Ok(answer.header(DIGEST_HEADER).map(str::to_string)),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(answer.error(&what)),
        }
    }

    /// Puts `manifest` as `repo:tag` and returns the digest the registry reports.
    pub async fn put_manifest(
        &self,
        repo: &str,
        tag: &str,
        media_type: &str,
        manifest: Bytes,
        observer: &Observer,
    ) -> anyhow::Result<Option<String>> {
        let what = format!("putting the manifest of {repo}:{tag}");
        let mut call = self.call(Method::PUT, format!("/v2/{repo}/manifests/{tag}"), &what);
        call.headers
            .push((CONTENT_TYPE.as_str(), media_type.to_string()));
        call.body = manifest;
        let answer = self.send(call, observer).await?;
        if answer.status != StatusCode::CREATED {
            return Err(answer.error(&what));
        }
        Ok(answer.header(DIGEST_HEADER).map(str::to_string))
    }

    /// The URL of an upload session from an answer's `Location`.
    pub fn location(&self, answer: &Answer) -> anyhow::Result<String> {
        let location = answer
            .header(LOCATION.as_str())
            .context("the registry opened an upload without a Location header")?;
        Ok(if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location.to_string()
        })
    }

    /// The registry's host, for messages.
    pub fn host(&self) -> &str {
        self.base
            .split_once("://")
            .map_or(self.base.as_str(), |(_, host)| host)
    }

    fn call<'a>(&self, method: Method, path: String, what: &'a str) -> Call<'a> {
        Call {
            method,
            url: format!("{}{path}", self.base),
            headers: Vec::new(),
            body: Bytes::new(),
            what,
        }
    }

    /// Sends `call`, retrying as [`verdict`] says.
    async fn send(&self, call: Call<'_>, observer: &Observer) -> anyhow::Result<Answer> {
        let mut backoff = self.retry.first_backoff;
        let mut relogged = false;
        let mut attempt = 1;
        loop {
            let credentials = self.login.credentials().await;
            let mut request = Request::builder()
                .method(call.method.clone())
                .uri(&call.url)
                .header(AUTHORIZATION, &credentials.header);
            for (name, value) in &call.headers {
                request = request.header(*name, value);
            }
            let request = request
                .body(RequestBody::from(call.body.clone()))
                .context("building a registry request")?;
            let quiet = |q| observer.waiting(self.host(), call.what, q);
            let result = self
                .transport
                .exchange(request, &Activity::new(), self.patience, &quiet)
                .await
                .map(answer);
            match verdict(&result, relogged) {
                Verdict::Done => {
                    return result.with_context(|| {
                        format!("{}: {} {}", call.what, call.method, redact(&call.url))
                    })
                }
                Verdict::Relogin => {
                    self.login.refresh(&credentials).await?;
                    relogged = true;
                }
                Verdict::Retry(_) if attempt >= self.retry.attempts => {
                    let failure = match result {
                        Ok(answer) => answer.error(call.what).to_string(),
                        Err(e) => {
                            format!("{}: {} {}: {e}", call.what, call.method, redact(&call.url))
                        }
                    };
                    anyhow::bail!("{failure} (after {attempt} attempts)");
                }
                Verdict::Retry(after) => {
                    tokio::time::sleep(after.unwrap_or(backoff).max(backoff)).await;
                    backoff *= 2;
                    attempt += 1;
                }
            }
        }
    }
}

fn answer(response: http::Response<Bytes>) -> Answer {
    let (parts, body) = response.into_parts();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// `sha256:0123456789ab` from a full digest, for messages.
pub fn short(digest: &str) -> &str {
    digest.get(..19).unwrap_or(digest)
}

/// Upload session URLs carry state tokens; messages keep only the path.
pub fn redact(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str, retry_after: Option<&str>) -> Answer {
        let mut headers = HeaderMap::new();
        if let Some(value) = retry_after {
            headers.insert(RETRY_AFTER, value.parse().unwrap());
        }
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            headers,
            body: Bytes::from(body.to_string()),
        }
    }

    #[test]
    fn verdicts_follow_the_retry_policy() {
        let lost: Result<Answer, ExchangeError> =
            Err(ExchangeError::Quiet(Duration::from_secs(120)));
        assert_eq!(verdict(&lost, false), Verdict::Retry(None));
        let untrusted = Err(ExchangeError::Untrusted("invalid peer certificate".into()));
        assert_eq!(verdict(&untrusted, false), Verdict::Done);
        assert_eq!(verdict(&Ok(answer(202, "", None)), false), Verdict::Done);
        assert_eq!(verdict(&Ok(answer(404, "", None)), false), Verdict::Done);
        assert_eq!(
            verdict(&Ok(answer(503, "", Some("3"))), false),
            Verdict::Retry(Some(Duration::from_secs(3)))
        );
        assert_eq!(
            verdict(&Ok(answer(429, "", Some("86400"))), false),
            Verdict::Retry(Some(LONGEST_RETRY_AFTER))
        );
        // An expired token: log in again once; a second refusal is the answer.
        let denied = r#"{"errors":[{"code":"DENIED","message":"Your authorization token has expired. Reauthenticate and try again."}]}"#;
        assert_eq!(
            verdict(&Ok(answer(401, denied, None)), false),
            Verdict::Relogin
        );
        assert_eq!(verdict(&Ok(answer(403, denied, None)), true), Verdict::Done);
    }

    #[test]
    fn a_broken_session_is_started_over() {
        let invalid =
            r#"{"errors":[{"code":"BLOB_UPLOAD_INVALID","message":"blob upload invalid"}]}"#;
        assert!(session_lost(&answer(404, invalid, None)));
        assert!(session_lost(&answer(416, "", None)));
        let unknown_repo = r#"{"errors":[{"code":"NAME_UNKNOWN","message":"repository name not known to registry"}]}"#;
        assert!(!session_lost(&answer(404, unknown_repo, None)));
        assert!(!session_lost(&answer(500, "", None)));
    }

    #[test]
    fn errors_quote_the_registry() {
        let body = r#"{"errors":[{"code":"DENIED","message":"not allowed"}]}"#;
        let err = answer(403, body, None).error("putting the manifest of r:t");
        assert_eq!(
            format!("{err:#}"),
            "putting the manifest of r:t: the registry answered 403 Forbidden DENIED: not allowed"
        );
    }

    #[test]
    fn redacts_upload_state() {
        assert_eq!(
            redact("http://127.0.0.1:5102/v2/r/blobs/uploads/u?_state=secret"),
            "http://127.0.0.1:5102/v2/r/blobs/uploads/u"
        );
    }
}
