//! S3 uploads with the SAM CLI's de-duplication: a key that exists is not sent again.

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use serde::Serialize;

use crate::aws::{AwsError, AwsResultExt};

/// Where artifacts go: the bucket, the key prefix, and how objects are encrypted.
#[derive(Debug, Clone, Serialize)]
pub struct Destination {
    pub bucket: String,
    pub prefix: Option<String>,
    pub kms_key_id: Option<String>,
    pub force_upload: bool,
    /// A dry run: keys are computed, nothing is sent.
    pub dry_run: bool,
    /// User metadata set on every object uploaded (`--metadata`).
    pub metadata: Vec<(String, String)>,
}

/// What an upload did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Upload {
    Sent,
    AlreadyPresent,
    /// A dry run would have sent it.
    NotSent,
}

/// Uploads `body` under `key` unless an object with that key exists (keys are content hashes, so
/// an existing key holds the same bytes). `force_upload` sends it anyway.
pub async fn upload_with_dedup(
    s3: &aws_sdk_s3::Client,
    dest: &Destination,
    key: &str,
    body: Vec<u8>,
) -> Result<Upload, AwsError> {
    if dest.dry_run {
        return Ok(Upload::NotSent);
    }
    if !dest.force_upload && object_exists(s3, &dest.bucket, key).await? {
        return Ok(Upload::AlreadyPresent);
    }
    let timeouts = s3
        .config()
        .timeout_config()
        .map(|base| crate::aws::upload_timeouts(base, body.len()));
    let mut put = s3
        .put_object()
        .bucket(&dest.bucket)
        .key(key)
        .body(ByteStream::from(body));
    for (key, value) in &dest.metadata {
        put = put.metadata(key, value);
    }
    put = match &dest.kms_key_id {
        Some(kms) => put
            .server_side_encryption(ServerSideEncryption::AwsKms)
            .ssekms_key_id(kms),
        None => put.server_side_encryption(ServerSideEncryption::Aes256),
    };
    let mut longer = aws_sdk_s3::config::Builder::default();
    longer.set_timeout_config(timeouts);
    put.customize()
        .config_override(longer)
        .send()
        .await
        .aws("S3 PutObject")?;
    Ok(Upload::Sent)
}

/// The version id of an object in a versioned bucket; None in a bucket that keeps no versions.
pub async fn object_version(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Option<String>, AwsError> {
    let head = s3
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .aws("S3 HeadObject")?;
    Ok(head
        .version_id()
        .filter(|v| !v.is_empty() && *v != "null")
        .map(str::to_string))
}

/// Whether an object exists.
pub async fn object_exists(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<bool, AwsError> {
    match s3.head_object().bucket(bucket).key(key).send().await {
        Ok(_) => Ok(true),
        Err(e) => {
            let not_found = e.as_service_error().is_some_and(|se| se.is_not_found())
                || e.raw_response().is_some_and(|r| r.status().as_u16() == 404);
            if not_found {
                Ok(false)
            } else {
                Err(crate::aws::classify("S3 HeadObject", &e))
            }
        }
    }
}
