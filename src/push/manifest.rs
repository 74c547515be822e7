//! Image manifests and indexes: the pure decisions of a push. Lambda takes one image manifest
//! per function, so an index is narrowed here to the manifest of the function's architecture
//! (attestation manifests dropped) before anything is uploaded; docker archives get a Docker v2
//! schema 2 manifest built here; and every blob is named by its sha256 digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// An OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// A Docker manifest list (the Docker name for an index).
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// An OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// A Docker v2 schema 2 image manifest: what samrs writes for docker archives.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// A Docker image config blob.
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// A gzip-compressed Docker layer.
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// Why an image cannot be pushed for a function, found before any upload.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ManifestError {
    /// The function's architecture is neither `x86_64` nor `arm64`.
    #[error(
        "unknown Lambda architecture `{0}`: use x86_64 or arm64 in the function's Architectures"
    )]
    UnknownArchitecture(String),
    /// The index has no manifest for the function's platform.
    #[error("the image has no linux/{wanted} manifest (it has: {available}); build it for linux/{wanted} or change the function's Architectures")]
    PlatformMissing { wanted: String, available: String },
    /// The single manifest's config names another architecture.
    #[error("the image is built for {found}, but the function runs on {wanted}; rebuild it with --platform linux/{wanted} or change the function's Architectures")]
    ArchitectureMismatch { wanted: String, found: String },
    /// A manifest, index or config is not the JSON it should be.
    #[error("invalid {what}: {reason}")]
    Invalid { what: &'static str, reason: String },
}

/// A content descriptor, as found in indexes and manifests.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    #[serde(default)]
    pub media_type: String,
    pub digest: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
}

/// The platform of one manifest in an index.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
pub struct Platform {
    #[serde(default)]
    pub architecture: String,
    #[serde(default)]
    pub os: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

/// An OCI image index or Docker manifest list (only what selection needs).
#[derive(Debug, Deserialize)]
pub struct Index {
    pub manifests: Vec<Descriptor>,
}

/// An image manifest (OCI or Docker v2 schema 2; only what a push needs).
#[derive(Debug, Deserialize)]
pub struct ImageManifest {
    #[serde(default, rename = "mediaType")]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
}

/// The Go architecture name of a Lambda architecture (`x86_64` → `amd64`, `arm64` → `arm64`).
pub fn oci_architecture(lambda_architecture: &str) -> Result<&'static str, ManifestError> {
    match lambda_architecture {
        "x86_64" => Ok("amd64"),
        "arm64" => Ok("arm64"),
        other => Err(ManifestError::UnknownArchitecture(other.to_string())),
    }
}

/// Whether a media type names an index rather than an image manifest.
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_LIST
}

fn is_attestation(d: &Descriptor) -> bool {
    d.annotations
        .get("vnd.docker.reference.type")
        .is_some_and(|t| t == "attestation-manifest")
}

/// The one manifest of `manifests` that Lambda runs on `lambda_architecture`: attestation
/// manifests are dropped, and a lone manifest without platform information is taken as is
/// (its config is checked by [`check_config_architecture`]).
pub fn select_manifest<'a>(
    manifests: &'a [Descriptor],
    lambda_architecture: &str,
) -> Result<&'a Descriptor, ManifestError> {
    let wanted = oci_architecture(lambda_architecture)?;
    let images: Vec<&Descriptor> = manifests.iter().filter(|d| !is_attestation(d)).collect();
    if let [only] = images.as_slice() {
        if only.platform.is_none() {
            return Ok(only);
        }
    }
    let matches = |p: &Platform| p.architecture == wanted && (p.os == "linux" || p.os.is_empty());
    images
        .iter()
        .copied()
        .find(|d| d.platform.as_ref().is_some_and(matches))
        .ok_or_else(|| ManifestError::PlatformMissing {
            wanted: wanted.to_string(),
            available: available_platforms(&images),
        })
}

fn available_platforms(images: &[&Descriptor]) -> String {
    let names: Vec<String> = images
        .iter()
        .map(|d| match &d.platform {
            Some(p) => format!("{}/{}", p.os, p.architecture),
            None => "unknown".to_string(),
        })
        .collect();
    if names.is_empty() {
        "no image manifests".to_string()
    } else {
        names.join(", ")
    }
}

/// Checks the `architecture` of an image config against the function's; a config without one
/// passes (hand-made images often omit it).
pub fn check_config_architecture(
    config: &[u8],
    lambda_architecture: &str,
) -> Result<(), ManifestError> {
    #[derive(Deserialize)]
    struct Config {
        #[serde(default)]
        architecture: Option<String>,
    }
    let wanted = oci_architecture(lambda_architecture)?;
    let config: Config = parse("image config", config)?;
    match config.architecture {
        Some(found) if !found.is_empty() && found != wanted => {
            Err(ManifestError::ArchitectureMismatch {
                wanted: wanted.to_string(),
                found,
            })
        }
        _ => Ok(()),
    }
}

/// Parses JSON, naming `what` in the error.
pub fn parse<'a, T: Deserialize<'a>>(
    what: &'static str,
    bytes: &'a [u8],
) -> Result<T, ManifestError> {
    serde_json::from_slice(bytes).map_err(|e| ManifestError::Invalid {
        what,
        reason: e.to_string(),
    })
}

/// A Docker v2 schema 2 manifest for a config and gzip layers, serialized in the field order
/// Docker writes.
pub fn docker_manifest(config: &Descriptor, layers: &[Descriptor]) -> Vec<u8> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Manifest<'a> {
        schema_version: u32,
        media_type: &'a str,
        config: &'a Descriptor,
        layers: &'a [Descriptor],
    }
    let manifest = Manifest {
        schema_version: 2,
        media_type: DOCKER_MANIFEST,
        config,
        layers,
    };
    // Serializing plain structs of strings and integers cannot fail.
    serde_json::to_vec_pretty(&manifest).unwrap_or_default()
}

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format_digest(Sha256::digest(bytes).as_slice())
}

/// `sha256:<hex>` of a finished hash.
pub fn format_digest(hash: &[u8]) -> String {
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    // The shape `docker buildx build --platform linux/amd64,linux/arm64 --provenance=true`
    // pushes: two images and one attestation manifest per image.
    const INDEX: &str = r#"{
      "schemaVersion": 2,
      "mediaType": "application/vnd.oci.image.index.v1+json",
      "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
         "size": 673, "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": "sha256:2222222222222222222222222222222222222222222222222222222222222222",
         "size": 673, "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json",
         "digest": "sha256:3333333333333333333333333333333333333333333333333333333333333333",
         "size": 566, "platform": {"architecture": "unknown", "os": "unknown"},
         "annotations": {
           "vnd.docker.reference.digest": "sha256:1111111111111111111111111111111111111111111111111111111111111111",
           "vnd.docker.reference.type": "attestation-manifest"}}
      ]
    }"#;

    fn index(json: &str) -> Index {
        parse("index", json.as_bytes()).unwrap()
    }

    #[test]
    fn selects_the_manifest_of_each_lambda_architecture() {
        let index = index(INDEX);
        let amd = select_manifest(&index.manifests, "x86_64").unwrap();
        assert!(amd.digest.starts_with("sha256:1111"));
        let arm = select_manifest(&index.manifests, "arm64").unwrap();
        assert!(arm.digest.starts_with("sha256:2222"));
    }

    #[test]
    fn an_arm64_only_index_fails_for_x86_64_naming_what_it_has() {
        let arm_only = index(INDEX);
        let err = select_manifest(&arm_only.manifests[1..], "x86_64").unwrap_err();
        assert_eq!(
            err,
            ManifestError::PlatformMissing {
                wanted: "amd64".into(),
                available: "linux/arm64".into()
            }
        );
        assert!(err.to_string().contains("has no linux/amd64 manifest"));
    }

    #[test]
    fn an_attestation_never_passes_for_the_lone_image() {
        // One image without platform plus its attestation: the image is taken.
        let json = r#"{"manifests": [
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:aa", "size": 1},
            {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:bb", "size": 1,
             "platform": {"architecture": "unknown", "os": "unknown"},
             "annotations": {"vnd.docker.reference.type": "attestation-manifest"}}]}"#;
        let index = index(json);
        let chosen = select_manifest(&index.manifests, "arm64").unwrap();
        assert_eq!(chosen.digest, "sha256:aa");
    }

    #[test]
    fn unknown_architectures_are_rejected() {
        assert_eq!(
            oci_architecture("x86"),
            Err(ManifestError::UnknownArchitecture("x86".into()))
        );
    }

    #[test]
    fn config_architecture_must_match_when_present() {
        assert!(
            check_config_architecture(br#"{"architecture":"amd64","os":"linux"}"#, "x86_64")
                .is_ok()
        );
        assert!(check_config_architecture(br#"{"os":"linux"}"#, "arm64").is_ok());
        let err = check_config_architecture(br#"{"architecture":"amd64"}"#, "arm64").unwrap_err();
        assert!(err
            .to_string()
            .contains("built for amd64, but the function runs on arm64"));
    }

    #[test]
    fn sha256_digest_of_known_vectors() {
        assert_eq!(
            sha256_digest(b""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            sha256_digest(b"abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn docker_manifest_matches_the_v2push_reference_layout() {
        let config = Descriptor {
            media_type: DOCKER_CONFIG.into(),
            digest: sha256_digest(b"{}"),
            size: 2,
            platform: None,
            annotations: BTreeMap::new(),
        };
        let layer = Descriptor {
            media_type: DOCKER_LAYER_GZIP.into(),
            digest: sha256_digest(b"layer"),
            size: 5,
            platform: None,
            annotations: BTreeMap::new(),
        };
        let bytes = docker_manifest(&config, std::slice::from_ref(&layer));
        let back: ImageManifest = parse("manifest", &bytes).unwrap();
        assert_eq!(back.media_type.as_deref(), Some(DOCKER_MANIFEST));
        assert_eq!(back.config, config);
        assert_eq!(back.layers, vec![layer]);
        let text = String::from_utf8(bytes).unwrap();
        assert!(text.starts_with("{\n  \"schemaVersion\": 2,\n  \"mediaType\""));
    }
}
