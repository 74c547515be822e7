//! AWS calls in flight, for the UI to say what samrs waits for: an SDK interceptor on every
//! client ([`CallRecorder`]) records when each call starts, each retry of it, and its end, with
//! what it is about (the stack, repository or object the request names), and counts the
//! CloudFormation attempts that were throttled. Nothing here prints: [`crate::output::waiting`]
//! reads [`in_flight`] and draws; the poll schedule reads [`throttled_attempts`] and slows down.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use aws_runtime::retries::classifiers::THROTTLING_ERRORS;
use aws_sdk_cloudformation::config::interceptors::{
    BeforeSerializationInterceptorContextRef, BeforeTransmitInterceptorContextRef,
    FinalizerInterceptorContextRef,
};
use aws_sdk_cloudformation::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_cloudformation::error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_types::config_bag::{Storable, StoreReplace};

/// One AWS call that has not answered yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFlight {
    pub id: u64,
    /// `CloudFormation DescribeStacks`, as errors name calls.
    pub operation: String,
    /// What the request names: `stack my-app`, `repository app/fn`, `s3://bucket/key`.
    pub target: Option<String>,
    /// 1 for the first try, 2 for the first retry...
    pub attempt: u32,
    pub started: Instant,
}

static BOARD: Mutex<Vec<InFlight>> = Mutex::new(Vec::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static THROTTLED: AtomicU64 = AtomicU64::new(0);

/// How many CloudFormation attempts CloudFormation throttled so far (the SDK retries them).
pub fn throttled_attempts() -> u64 {
    THROTTLED.load(Ordering::Relaxed)
}

/// The calls that have not answered yet, oldest first.
pub fn in_flight() -> Vec<InFlight> {
    BOARD.lock().map(|b| b.clone()).unwrap_or_default()
}

/// The interceptor every client gets (see [`crate::aws::connect`]).
#[derive(Debug, Default)]
pub struct CallRecorder;

#[derive(Debug, Clone, Copy)]
struct CallId(u64);

impl Storable for CallId {
    type Storer = StoreReplace<Self>;
}

impl Intercept for CallRecorder {
    fn name(&self) -> &'static str {
        "samrs-call-recorder"
    }

    fn read_before_execution(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        cfg.interceptor_state().store_put(CallId(id));
        if let Ok(mut board) = BOARD.lock() {
            board.push(InFlight {
                id,
                // Named when the request is ready (the operation's metadata is set by then).
                operation: "AWS call".into(),
                target: None,
                attempt: 0,
                started: Instant::now(),
            });
        }
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(CallId(id)) = cfg.load::<CallId>().copied() else {
            return Ok(());
        };
        let request = context.request();
        let metadata = cfg.load::<Metadata>();
        let target = metadata.and_then(|m| {
            target_of(
                m.service(),
                request.uri(),
                request.body().bytes().unwrap_or_default(),
            )
        });
        if let Ok(mut board) = BOARD.lock() {
            if let Some(call) = board.iter_mut().find(|c| c.id == id) {
                call.attempt += 1;
                if let Some(m) = metadata {
                    call.operation = format!("{} {}", m.service(), m.name());
                }
                if call.target.is_none() {
                    call.target = target;
                }
            }
        }
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let cloudformation = cfg
            .load::<Metadata>()
            .is_some_and(|m| m.service() == "CloudFormation");
        if let Some(response) = context.response().filter(|_| cloudformation) {
            let body = response.body().bytes().unwrap_or_default();
            if is_throttling(response.status().as_u16(), body) {
                THROTTLED.fetch_add(1, Ordering::Relaxed);
            }
        }
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if let Some(CallId(id)) = cfg.load::<CallId>().copied() {
            if let Ok(mut board) = BOARD.lock() {
                board.retain(|c| c.id != id);
            }
        }
        Ok(())
    }
}

/// Whether an answer is a throttling error, by the codes the SDK's retry classifies as
/// throttling: HTTP 429, or the error code of a query (`<Code>Throttling</Code>`) or JSON
/// (`"__type": "...#ThrottlingException"`) error body.
pub fn is_throttling(status: u16, body: &[u8]) -> bool {
    if status == 429 {
        return true;
    }
    if status < 400 {
        return false;
    }
    let text = String::from_utf8_lossy(body);
    let xml_code = text
        .split_once("<Code>")
        .and_then(|(_, rest)| rest.split_once("</Code>"))
        .map(|(code, _)| code.trim().to_string());
    let json_code = || {
        let value: serde_json::Value = serde_json::from_str(&text).ok()?;
        let kind = value
            .get("__type")
            .or_else(|| value.get("code"))?
            .as_str()?;
        Some(kind.rsplit('#').next().unwrap_or(kind).to_string())
    };
    xml_code
        .or_else(json_code)
        .is_some_and(|code| THROTTLING_ERRORS.contains(&code.as_str()))
}

/// What a request to `service` is about, read from what it sends: a CloudFormation form's
/// `StackName`, an ECR body's `repositoryName`, an S3 request's bucket and key, a signing job's
/// id (or, to start one, the object it signs).
pub fn target_of(service: &str, uri: &str, body: &[u8]) -> Option<String> {
    match service {
        "CloudFormation" => form_field(std::str::from_utf8(body).ok()?, "StackName")
            .map(|stack| format!("stack {stack}")),
        "ECR" => serde_json::from_slice::<serde_json::Value>(body)
            .ok()?
            .get("repositoryName")?
            .as_str()
            .map(|repo| format!("repository {repo}")),
        "S3" => s3_object(uri),
        "signer" => signing_target(uri, body),
        _ => None,
    }
}

/// `s3://bucket/key` from a path-style (`host/bucket/key`) or virtual-hosted style
/// (`bucket.s3.region.amazonaws.com/key`) URI.
fn s3_object(uri: &str) -> Option<String> {
    let rest = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.split('?').next().unwrap_or_default();
    let bucket_in_host = host
        .split_once(".s3")
        .map(|(bucket, _)| bucket)
        .filter(|b| !b.is_empty());
    let object = match bucket_in_host {
        Some(bucket) if path.is_empty() => bucket.to_string(),
        Some(bucket) => format!("{bucket}/{path}"),
        None if path.is_empty() => return None,
        None => path.to_string(),
    };
    Some(format!("s3://{}", percent_decode(&object)))
}

fn signing_target(uri: &str, body: &[u8]) -> Option<String> {
    let path = uri.split('?').next().unwrap_or(uri);
    if let Some((_, job)) = path.split_once("/signing-jobs/") {
        return (!job.is_empty()).then(|| format!("signing job {}", percent_decode(job)));
    }
    let request = serde_json::from_slice::<serde_json::Value>(body).ok()?;
    let source = request.pointer("/source/s3")?;
    Some(format!(
        "s3://{}/{}",
        source.get("bucketName")?.as_str()?,
        source.get("key")?.as_str()?
    ))
}

fn form_field(body: &str, name: &str) -> Option<String> {
    body.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then(|| percent_decode(&value.replace('+', " ")))
    })
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cloudformation_calls_name_their_stack() {
        let url = "https://cloudformation.us-east-1.amazonaws.com/";
        let body = b"Action=DescribeStacks&Version=2010-05-15&StackName=my-app";
        assert_eq!(
            target_of("CloudFormation", url, body),
            Some("stack my-app".into())
        );
        let arn = b"Action=DescribeStackEvents&StackName=arn%3Aaws%3Acloudformation%3Aus-east-1%3A1%3Astack%2Fapp%2Fx";
        assert_eq!(
            target_of("CloudFormation", url, arn),
            Some("stack arn:aws:cloudformation:us-east-1:1:stack/app/x".into())
        );
        assert_eq!(
            target_of(
                "CloudFormation",
                url,
                b"Action=ListStacks&Version=2010-05-15"
            ),
            None
        );
        assert_eq!(target_of("STS", url, b"Action=GetCallerIdentity"), None);
    }

    #[test]
    fn throttling_answers_are_told_apart_from_other_errors() {
        let query = |code: &str| {
            format!(
                "<ErrorResponse xmlns=\"http://cloudformation.amazonaws.com/doc/2010-05-15/\">\
                 <Error><Type>Sender</Type><Code>{code}</Code><Message>Rate exceeded</Message></Error>\
                 <RequestId>1f2c</RequestId></ErrorResponse>"
            )
        };
        assert!(is_throttling(400, query("Throttling").as_bytes()));
        assert!(!is_throttling(400, query("ValidationError").as_bytes()));
        assert!(!is_throttling(200, query("Throttling").as_bytes()));
        assert!(is_throttling(
            400,
            br#"{"__type":"com.amazonaws.ecr#ThrottlingException","message":"Rate exceeded"}"#
        ));
        assert!(!is_throttling(
            400,
            br#"{"__type":"RepositoryNotFoundException"}"#
        ));
        assert!(is_throttling(429, b""));
        assert!(!is_throttling(500, b"<html>oops</html>"));
    }

    #[test]
    fn ecr_calls_name_their_repository() {
        let url = "https://api.ecr.us-east-1.amazonaws.com/";
        assert_eq!(
            target_of("ECR", url, br#"{"repositoryName":"app1234/fn"}"#),
            Some("repository app1234/fn".into())
        );
        assert_eq!(target_of("ECR", url, b"{}"), None);
    }

    #[test]
    fn signer_calls_name_their_job_or_the_object_to_sign() {
        let url = "https://signer.us-east-1.amazonaws.com";
        assert_eq!(
            target_of("signer", &format!("{url}/signing-jobs/abc-123"), b""),
            Some("signing job abc-123".into())
        );
        let start = br#"{"source":{"s3":{"bucketName":"b","key":"app/f.zip","version":"1"}},"profileName":"P"}"#;
        assert_eq!(
            target_of("signer", &format!("{url}/signing-jobs"), start),
            Some("s3://b/app/f.zip".into())
        );
    }

    #[test]
    fn s3_calls_name_their_object_in_either_addressing_style() {
        assert_eq!(
            target_of(
                "S3",
                "http://127.0.0.1:5101/bucket/app/0a1b.template?x-id=PutObject",
                b"Resources: {}"
            ),
            Some("s3://bucket/app/0a1b.template".into())
        );
        assert_eq!(
            target_of(
                "S3",
                "https://bkt.s3.eu-west-1.amazonaws.com/my%20app/k",
                b""
            ),
            Some("s3://bkt/my app/k".into())
        );
        assert_eq!(
            target_of("S3", "https://bkt.s3.amazonaws.com/?list-type=2", b""),
            Some("s3://bkt".into())
        );
    }
}
