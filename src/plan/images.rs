//! Which function images are pushed where: every function whose `ImageUri` names a local image
//! (an engine image, an archive, an OCI layout; not one already in ECR) goes to its repository
//! from the mapping (explicit or managed) or the single `--image-repository`.

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};

use crate::settings::UsageError;
use crate::template::{is_ecr_url, repository_entry, ImageFunction};

/// One function's image to push.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagePush {
    /// The function's full path.
    pub function: String,
    /// Where the image is read from: the function's `ImageUri`.
    pub image_uri: String,
    /// The ECR repository URI it goes to.
    pub repository_uri: String,
    /// The tag's last part when the image reference has none (sam: `latest`).
    pub tag: String,
    /// The function's architecture: `x86_64` or `arm64`.
    pub architecture: String,
    /// The manifest digest the push gives, when known before it (a saved plan's, computed from
    /// the local image): the image is deployed as `repository_uri@digest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// The pushes of a deploy.
pub fn pushes(
    functions: &[ImageFunction],
    mapping: &IndexMap<String, String>,
    single_repository: Option<&str>,
) -> Result<Vec<ImagePush>, UsageError> {
    let paths: Vec<&str> = functions.iter().map(|f| f.full_path.as_str()).collect();
    let mut pushes = Vec::new();
    for function in functions {
        let Some(image_uri) = function.image_uri.as_deref().filter(|u| !is_ecr_url(u)) else {
            continue;
        };
        let repository_uri = repository_entry(mapping, &paths, &function.full_path)
            .map(|(_, uri)| uri.as_str())
            .or(single_repository)
            .ok_or_else(|| {
                UsageError(format!(
                    "No image repository for function {}: add --resolve-image-repos, or --image-repositories {}=<ECR repository URI>",
                    function.full_path, function.full_path
                ))
            })?;
        pushes.push(ImagePush {
            function: function.full_path.clone(),
            image_uri: image_uri.to_string(),
            repository_uri: repository_uri.to_string(),
            tag: function
                .docker_tag
                .clone()
                .unwrap_or_else(|| "latest".into()),
            architecture: function
                .architectures
                .first()
                .cloned()
                .unwrap_or_else(|| "x86_64".into()),
            digest: None,
        });
    }
    Ok(pushes)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn function(path: &str, image_uri: Option<&str>) -> ImageFunction {
        ImageFunction {
            full_path: path.into(),
            logical_id: path.rsplit('/').next().unwrap_or(path).into(),
            image_uri: image_uri.map(str::to_string),
            docker_tag: Some("python3.12-v1".into()),
            docker_context: Some("./fn".into()),
            architectures: vec!["arm64".into()],
            template_path: PathBuf::from("/app/template.yaml"),
        }
    }

    const REPO: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app/fn";

    #[test]
    fn local_images_are_pushed_to_their_mapped_repository() {
        let functions = [
            function("Fn", Some("fn:python3.12-v1")),
            function("Child/Other", Some("docker-archive:./other.tar")),
            function(
                "InEcr",
                Some("123456789012.dkr.ecr.us-east-1.amazonaws.com/prebuilt:v1"),
            ),
        ];
        let mapping: IndexMap<String, String> = [("Fn", REPO), ("Child/Other", REPO)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let jobs = pushes(&functions, &mapping, None).unwrap();
        assert_eq!(jobs.len(), 2, "the ECR image is not pushed");
        assert_eq!(jobs[0].function, "Fn");
        assert_eq!(jobs[0].repository_uri, REPO);
        assert_eq!(jobs[0].tag, "python3.12-v1");
        assert_eq!(jobs[0].architecture, "arm64");
        assert_eq!(jobs[1].image_uri, "docker-archive:./other.tar");
    }

    #[test]
    fn a_single_repository_serves_all_and_a_missing_one_is_named() {
        let functions = [function("Fn", Some("fn:latest"))];
        let jobs = pushes(&functions, &IndexMap::new(), Some(REPO)).unwrap();
        assert_eq!(jobs[0].repository_uri, REPO);
        let err = pushes(&functions, &IndexMap::new(), None).unwrap_err();
        assert!(
            err.0.starts_with("No image repository for function Fn"),
            "{}",
            err.0
        );
    }
}
