//! Code signing of zip artifacts with AWS Signer, as `sam package` does it
//! (samcli/lib/package/code_signer.py): a function or layer named in `--signing-profiles` has its
//! uploaded zip signed by a signing job whose source is that object (bucket, key, version) and
//! whose destination is `<the key's folder>/signed_`; the template then points at the signed
//! object Signer wrote. (The profiles are a setting, [`crate::settings::SigningProfiles`].)

use aws_sdk_signer::types::{Destination, S3Destination, S3Source, Source};

use crate::aws::{AwsError, AwsResultExt};
use crate::cloudformation::poll::{self, Poller};
use crate::settings::SigningProfile;

/// Where Signer writes the signed copy of `key`: `signed_` beside it. (sam takes everything up
/// to the last `/`, so a key without a folder would get `<key>/signed_`; samrs puts it beside
/// the key there too.)
pub fn signed_prefix(key: &str) -> String {
    match key.rsplit_once('/') {
        Some((folder, _)) => format!("{folder}/signed_"),
        None => "signed_".to_string(),
    }
}

/// Why an artifact could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    #[error(transparent)]
    Aws(#[from] AwsError),
    #[error(
        "Failed to sign package: signing job {job_id} for {resource} ended in {status}: {reason}"
    )]
    JobFailed {
        job_id: String,
        resource: String,
        status: String,
        reason: String,
    },
    #[error("Stopped waiting for signing job {job_id} for {resource} after {limit} (--max-wait-duration): AWS Signer goes on; follow it with `aws signer describe-signing-job --job-id {job_id}`")]
    TimedOut {
        job_id: String,
        resource: String,
        limit: String,
    },
}

/// One object to sign: where it is and which profile signs it.
#[derive(Debug, Clone, Copy)]
pub struct SigningRequest<'a> {
    /// The function or layer, for messages.
    pub resource: &'a str,
    pub profile: &'a SigningProfile,
    pub bucket: &'a str,
    pub key: &'a str,
    pub version: &'a str,
}

/// What a finished signing job produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub job_id: String,
    /// The key of the signed object, in the same bucket.
    pub key: String,
}

/// Starts a signing job for the object and waits for it (DescribeSigningJob) until it succeeded.
pub async fn sign(
    signer: &aws_sdk_signer::Client,
    request: SigningRequest<'_>,
    poller: &Poller,
) -> Result<Signed, SigningError> {
    let source = S3Source::builder()
        .bucket_name(request.bucket)
        .key(request.key)
        .version(request.version)
        .build()
        .map_err(|e| AwsError {
            operation: "Signer StartSigningJob".into(),
            code: "request".into(),
            message: e.to_string(),
        })?;
    let destination = S3Destination::builder()
        .bucket_name(request.bucket)
        .prefix(signed_prefix(request.key))
        .build();
    let started = signer
        .start_signing_job()
        .source(Source::builder().s3(source).build())
        .destination(Destination::builder().s3(destination).build())
        .profile_name(&request.profile.profile_name)
        .set_profile_owner(
            Some(request.profile.profile_owner.clone()).filter(|owner| !owner.is_empty()),
        )
        .send()
        .await
        .aws("Signer StartSigningJob")?;
    let job_id = started.job_id().unwrap_or_default().to_string();
    let mut poller = poller.restart();
    loop {
        if !poller.wait().await {
            return Err(SigningError::TimedOut {
                job_id,
                resource: request.resource.to_string(),
                limit: poller
                    .max_wait()
                    .map(poll::describe_limit)
                    .unwrap_or_default(),
            });
        }
        let job = signer
            .describe_signing_job()
            .job_id(&job_id)
            .send()
            .await
            .aws("Signer DescribeSigningJob")?;
        let status = job.status().map(|s| s.as_str()).unwrap_or_default();
        match status {
            "Succeeded" => {
                let key = job
                    .signed_object()
                    .and_then(|o| o.s3())
                    .and_then(|s3| s3.key())
                    .unwrap_or_default();
                if key.is_empty() {
                    return Err(SigningError::JobFailed {
                        job_id,
                        resource: request.resource.to_string(),
                        status: status.to_string(),
                        reason: "it names no signed object".into(),
                    });
                }
                return Ok(Signed {
                    key: key.to_string(),
                    job_id,
                });
            }
            "InProgress" | "" => continue,
            other => {
                return Err(SigningError::JobFailed {
                    reason: job.status_reason().unwrap_or("no reason given").to_string(),
                    job_id,
                    resource: request.resource.to_string(),
                    status: other.to_string(),
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_copies_go_beside_the_key() {
        assert_eq!(signed_prefix("app/dev/abc.zip"), "app/dev/signed_");
        assert_eq!(signed_prefix("abc.zip"), "signed_");
    }
}
