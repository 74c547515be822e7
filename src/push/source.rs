//! Where an image comes from, read off a function's `ImageUri`, and the tag sam gives it in ECR.
//! skopeo's transport prefixes (`oci:PATH[:TAG]`, `docker-archive:PATH`) name files; any other
//! reference that is not already in a registry is an image in the local Docker-compatible engine.

use std::path::PathBuf;

/// An image to push, by where it is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// An image in a Docker-compatible engine (`DOCKER_HOST`), by `name[:tag]` or id.
    Engine(String),
    /// An OCI image layout directory, with the `org.opencontainers.image.ref.name` to pick.
    OciLayout {
        path: PathBuf,
        reference: Option<String>,
    },
    /// A `docker save` archive holding one image.
    DockerArchive(PathBuf),
}

/// Where `image_uri` is read from, or `None` when it is already in a registry (sam's
/// `is_ecr_url`), so there is nothing to push.
pub fn image_source(image_uri: &str) -> Option<ImageSource> {
    if crate::template::is_ecr_url(image_uri) {
        return None;
    }
    if let Some(rest) = image_uri.strip_prefix("oci:") {
        // skopeo splits an oci: reference at its first colon.
        let (path, reference) = match rest.split_once(':') {
            Some((path, reference)) if !reference.is_empty() => (path, Some(reference.to_string())),
            _ => (rest.trim_end_matches(':'), None),
        };
        return Some(ImageSource::OciLayout {
            path: PathBuf::from(path),
            reference,
        });
    }
    if let Some(path) = image_uri.strip_prefix("docker-archive:") {
        return Some(ImageSource::DockerArchive(PathBuf::from(path)));
    }
    Some(ImageSource::Engine(image_uri.to_string()))
}

/// The tag sam pushes an image under: `{name}-{first 12 hex of the image id}-{tag}`, with
/// `latest` when there is no tag (samcli/lib/package/image_utils.py `tag_translation`).
pub fn sam_tag(function_name: &str, image_id: &str, docker_tag: Option<&str>) -> String {
    let hex = image_id.split_once(':').map_or(image_id, |(_, hex)| hex);
    let short: String = hex.chars().take(12).collect();
    format!("{function_name}-{short}-{}", docker_tag.unwrap_or("latest"))
}

impl ImageSource {
    /// The name and tag that [`sam_tag`] joins for this source. sam names an engine image by its
    /// reference (`helloworldfunction:python3.8-v1` → `helloworldfunction`, `python3.8-v1`) and
    /// an image given by id or archive by the function; `default_tag` stands in for a missing
    /// tag. Unlike sam, a reference with a registry path keeps only its last component, since
    /// `/` and `:` cannot appear in a tag.
    pub fn tag_parts(&self, function: &str, image_id: &str, default_tag: &str) -> (String, String) {
        let by_function = || (function.to_string(), default_tag.to_string());
        match self {
            ImageSource::Engine(reference) if reference != image_id => {
                let reference = reference.split('@').next().unwrap_or(reference);
                let (name, tag) = split_tag(reference);
                let name = name.rsplit('/').next().unwrap_or(name);
                (name.to_string(), tag.unwrap_or(default_tag).to_string())
            }
            ImageSource::OciLayout {
                reference: Some(tag),
                ..
            } => (function.to_string(), tag.clone()),
            _ => by_function(),
        }
    }

    /// How the source is named in messages.
    pub fn describe(&self) -> String {
        match self {
            ImageSource::Engine(reference) => format!("local image {reference}"),
            ImageSource::OciLayout { path, reference } => match reference {
                Some(r) => format!("OCI layout {}:{r}", path.display()),
                None => format!("OCI layout {}", path.display()),
            },
            ImageSource::DockerArchive(path) => format!("docker archive {}", path.display()),
        }
    }
}

/// Splits `name:tag`, where the colon is after the last `/` (so `host:5000/name` has no tag).
fn split_tag(reference: &str) -> (&str, Option<&str>) {
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[last_slash..].rfind(':') {
        Some(i) => (
            &reference[..last_slash + i],
            Some(&reference[last_slash + i + 1..]),
        ),
        None => (reference, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "sha256:7bfff073dfcf2e5b4b1c7a3e6e6f1f0f0d9c8b7a6e5d4c3b2a1908f7e6d5c4b3";

    #[test]
    fn sam_tag_matches_the_reference_example() {
        // sam-cli.md 4.8: `helloworldfunction-7bfff073dfcf-python3.8-v1`.
        assert_eq!(
            sam_tag("helloworldfunction", ID, Some("python3.8-v1")),
            "helloworldfunction-7bfff073dfcf-python3.8-v1"
        );
        assert_eq!(
            sam_tag("HelloWorldFunction", ID, None),
            "HelloWorldFunction-7bfff073dfcf-latest"
        );
    }

    #[test]
    fn classifies_image_uris() {
        let ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo/name:tag";
        assert_eq!(image_source(ecr), None);
        assert_eq!(image_source("localhost:5000/testfunction:v1"), None);
        assert_eq!(
            image_source("testfunction:python3.12-v1"),
            Some(ImageSource::Engine("testfunction:python3.12-v1".into()))
        );
        assert_eq!(
            image_source("oci:/tmp/layout:v2"),
            Some(ImageSource::OciLayout {
                path: "/tmp/layout".into(),
                reference: Some("v2".into())
            })
        );
        assert_eq!(
            image_source("oci:build/layout"),
            Some(ImageSource::OciLayout {
                path: "build/layout".into(),
                reference: None
            })
        );
        assert_eq!(
            image_source("docker-archive:out/image.tar"),
            Some(ImageSource::DockerArchive("out/image.tar".into()))
        );
    }

    #[test]
    fn tag_parts_follow_sam_tag_translation() {
        let engine = ImageSource::Engine("testfunction:python3.12-v1".into());
        assert_eq!(
            engine.tag_parts("TestFunction", ID, "latest"),
            ("testfunction".into(), "python3.12-v1".into())
        );
        let untagged = ImageSource::Engine("testfunction".into());
        assert_eq!(untagged.tag_parts("F", ID, "latest").1, "latest");
        let by_id = ImageSource::Engine(ID.into());
        assert_eq!(
            by_id.tag_parts("TestFunction", ID, "latest"),
            ("TestFunction".into(), "latest".into())
        );
        let prefixed = ImageSource::Engine("registry.local:5000/team/app:v3".into());
        assert_eq!(
            prefixed.tag_parts("F", ID, "latest"),
            ("app".into(), "v3".into())
        );
        let archive = ImageSource::DockerArchive("a.tar".into());
        assert_eq!(
            archive.tag_parts("Fn", ID, "latest"),
            ("Fn".into(), "latest".into())
        );
    }
}
