//! What a deployed template says about what to delete with its stack: the bucket and folder of
//! its artifacts, the repositories it declares, the images its functions run. Pure.

use regex::Regex;

/// The first `s3://bucket/key` (or path-style S3 URL) in a template's text.
pub(super) fn first_s3_location(template: &str) -> Option<(String, String)> {
    let re = Regex::new(r#"(?:s3://|https?://s3[.a-z0-9-]*\.amazonaws\.com(?:\.cn)?/)([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/([^\s"',}]+)"#).ok()?;
    let caps = re.captures(template)?;
    Some((caps[1].to_string(), caps[2].to_string()))
}

/// A template's resources by logical id (none when it has no `Resources` mapping).
fn resources(template: &serde_json::Value) -> impl Iterator<Item = (&String, &serde_json::Value)> {
    template
        .get("Resources")
        .and_then(|r| r.as_object())
        .into_iter()
        .flatten()
}

/// The logical ids of the `AWS::ECR::Repository` resources of a template that are not retained.
pub(super) fn declared_repositories(template: &serde_json::Value) -> Vec<String> {
    resources(template)
        .filter(|(_, r)| {
            r.get("Type").and_then(|t| t.as_str()) == Some("AWS::ECR::Repository")
                && r.get("DeletionPolicy").and_then(|p| p.as_str()) != Some("Retain")
        })
        .map(|(id, _)| id.clone())
        .collect()
}

/// The `RepositoryName`s a template gives its repositories (retained ones included): images in
/// them are the repository's business, not the functions'.
pub(super) fn declared_repository_names(template: &serde_json::Value) -> Vec<String> {
    resources(template)
        .map(|(_, r)| r)
        .filter(|r| r.get("Type").and_then(|t| t.as_str()) == Some("AWS::ECR::Repository"))
        .filter_map(|r| r.pointer("/Properties/RepositoryName")?.as_str())
        .map(str::to_string)
        .collect()
}

/// An image a function of the deployed template runs, in ECR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ImageRef {
    pub function: String,
    pub repository: String,
    pub id: ImageId,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ImageId {
    Tag(String),
    Digest(String),
}

impl ImageId {
    pub fn shown(&self) -> &str {
        match self {
            ImageId::Tag(tag) | ImageId::Digest(tag) => tag,
        }
    }
}

/// The ECR images of the template's functions: `repo@sha256:…` (as samrs deploys pushed images)
/// by digest, `repo:tag` by tag, `repo` as `latest` (sam's `parse_image_url`).
pub(super) fn image_refs(template: &serde_json::Value) -> Vec<ImageRef> {
    resources(template)
        .filter_map(|(logical_id, resource)| {
            let pointer = match resource.get("Type")?.as_str()? {
                "AWS::Serverless::Function" => "/Properties/ImageUri",
                "AWS::Lambda::Function" => "/Properties/Code/ImageUri",
                _ => return None,
            };
            let uri = resource.pointer(pointer)?.as_str()?;
            if !crate::template::is_ecr_url(uri) {
                return None;
            }
            let (_, path) = uri.split_once('/')?;
            let (repository, id) = match path.split_once('@') {
                Some((repository, digest)) => (repository, ImageId::Digest(digest.to_string())),
                None => match path.rsplit_once(':') {
                    Some((repository, tag)) => (repository, ImageId::Tag(tag.to_string())),
                    None => (path, ImageId::Tag("latest".to_string())),
                },
            };
            Some(ImageRef {
                function: logical_id.clone(),
                repository: repository.to_string(),
                id,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_images_in_ecr_by_digest_or_tag() {
        let template = serde_json::json!({"Resources": {
            "Pinned": {"Type": "AWS::Serverless::Function", "Properties": {
                "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:abc"}},
            "Tagged": {"Type": "AWS::Lambda::Function", "Properties": {"Code": {
                "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:fn-1a2b-latest"}}},
            "Bare": {"Type": "AWS::Serverless::Function", "Properties": {
                "ImageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"}},
            "Hub": {"Type": "AWS::Serverless::Function", "Properties": {"ImageUri": "public.ecr.aws/x/y:1"}},
            "Zip": {"Type": "AWS::Serverless::Function", "Properties": {"CodeUri": "s3://b/k"}},
            "Intrinsic": {"Type": "AWS::Serverless::Function", "Properties": {"ImageUri": {"Ref": "Uri"}}}
        }});
        let image = |function: &str, repository: &str, id: ImageId| ImageRef {
            function: function.into(),
            repository: repository.into(),
            id,
        };
        assert_eq!(
            image_refs(&template),
            [
                image("Pinned", "team/app", ImageId::Digest("sha256:abc".into())),
                image("Tagged", "app", ImageId::Tag("fn-1a2b-latest".into())),
                image("Bare", "app", ImageId::Tag("latest".into())),
            ]
        );
    }

    #[test]
    fn declared_repositories_leave_retained_ones_out() {
        let template = serde_json::json!({"Resources": {
            "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "named"}},
            "Kept": {"Type": "AWS::ECR::Repository", "DeletionPolicy": "Retain",
                     "Properties": {"RepositoryName": "kept"}},
            "Unnamed": {"Type": "AWS::ECR::Repository"},
            "Topic": {"Type": "AWS::SNS::Topic"}
        }});
        assert_eq!(declared_repositories(&template), ["Repo", "Unnamed"]);
        assert_eq!(declared_repository_names(&template), ["named", "kept"]);
    }

    #[test]
    fn s3_locations_are_found_in_deployed_templates() {
        let yaml = "CodeUri: s3://my-bucket/app/0123abcd\n";
        assert_eq!(
            first_s3_location(yaml),
            Some(("my-bucket".into(), "app/0123abcd".into()))
        );
        let json = r#"{"TemplateURL": "https://s3.us-east-1.amazonaws.com/bkt/p/x.template"}"#;
        assert_eq!(
            first_s3_location(json),
            Some(("bkt".into(), "p/x.template".into()))
        );
        assert_eq!(first_s3_location("Resources: {}"), None);
    }
}
