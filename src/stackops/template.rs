//! Where a template goes: inline (`TemplateBody`, up to CloudFormation's 51,200 bytes) or as an
//! object in the artifacts bucket (`TemplateURL`).

use anyhow::bail;

use super::StackOps;
use crate::events::{Event, Fact};
use crate::s3::{self, Destination, Upload};
use crate::stack_state::{fits_inline, TemplateSource};

/// How a stack's template reaches CloudFormation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Through S3 whenever there is a bucket, as sam sends the main template; inline otherwise.
    S3WhenBucket,
    /// Inline whenever it fits, for samrs's own stacks (one call less); through S3 otherwise.
    InlineWhenFits,
}

impl StackOps<'_> {
    /// The template's source for a change set or a direct create/update, uploading it when it
    /// goes through S3. A dry run's destination uploads nothing: its template goes inline.
    pub async fn place_template(
        &self,
        body: String,
        destination: Option<&Destination>,
        placement: Placement,
    ) -> anyhow::Result<TemplateSource> {
        let destination = destination.filter(|d| !d.dry_run);
        let fits = fits_inline(&body);
        let dest = match (destination, placement) {
            (Some(dest), Placement::S3WhenBucket) => dest,
            (Some(dest), Placement::InlineWhenFits) if !fits => dest,
            (None, _) if !fits => bail!(
                "Templates with a size greater than 51,200 bytes must be deployed via an S3 Bucket (this one is {} bytes): add --s3-bucket or --resolve-s3",
                body.len()
            ),
            _ => return Ok(TemplateSource::Body(body)),
        };
        let key = crate::artifacts::s3_key(
            dest.prefix.as_deref(),
            &crate::artifacts::md5_hex(body.as_bytes()),
            Some("template"),
        );
        let size = body.len();
        match s3::upload_with_dedup(&self.aws.s3, dest, &key, body.into_bytes()).await? {
            Upload::Sent => self.report.record(Fact::Upload {
                key: key.clone(),
                bytes: size,
            }),
            Upload::AlreadyPresent => self.report.event(Event::UploadSkipped { key: key.clone() }),
            Upload::NotSent => {}
        }
        Ok(TemplateSource::Url(crate::artifacts::path_style_url(
            &self.aws.s3_url_base,
            &dest.bucket,
            &key,
            None,
        )))
    }
}
