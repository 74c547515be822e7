//! OCI image layout directories (`oci:PATH[:TAG]`, as skopeo, buildah and buildx write them).
//! The manifest and blobs are pushed byte for byte, so the digest in the deployed template is
//! the one the layout already has; an index is narrowed to the function's platform first.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

use super::image::{Blob, BlobData, PreparedImage};
use super::manifest::{
    check_config_architecture, is_index, parse, select_manifest, sha256_digest, Descriptor,
    ImageManifest, Index, OCI_MANIFEST,
};

const REF_NAME: &str = "org.opencontainers.image.ref.name";
// Nested indexes deeper than this are not images Lambda can run.
const MAX_INDEX_DEPTH: usize = 4;

/// Reads the image `reference` names (or the layout's only image) for `architecture`.
pub fn read(
    dir: &Path,
    reference: Option<&str>,
    architecture: &str,
) -> anyhow::Result<PreparedImage> {
    let index_path = dir.join("index.json");
    let bytes = std::fs::read(&index_path)
        .with_context(|| format!("{} is not an OCI layout (no index.json)", dir.display()))?;
    let top: Index = parse("index.json", &bytes)?;
    let mut candidates = by_reference(top.manifests, reference)?;
    let mut chosen = None;
    for _ in 0..MAX_INDEX_DEPTH {
        let descriptor = select_manifest(&candidates, architecture)?.clone();
        if !is_index(&descriptor.media_type) {
            chosen = Some(descriptor);
            break;
        }
        let nested: Index = parse("image index", &read_blob(dir, &descriptor)?)?;
        candidates = nested.manifests;
    }
    let descriptor = chosen.context("the layout's indexes nest too deeply")?;
    let manifest_bytes = read_blob(dir, &descriptor)?;
    let manifest: ImageManifest = parse("image manifest", &manifest_bytes)?;
    if let Some(layer) = manifest
        .layers
        .iter()
        .find(|l| l.media_type.contains("zstd"))
    {
        bail!(
            "layer {} is zstd-compressed, which Lambda does not run; rebuild with gzip compression",
            layer.digest
        );
    }
    let config = read_blob(dir, &manifest.config)?;
    check_config_architecture(&config, architecture)?;
    let image_id = manifest.config.digest.clone();
    let mut blobs = vec![Blob {
        data: BlobData::Memory(config.into()),
        descriptor: manifest.config.clone(),
    }];
    for layer in &manifest.layers {
        let path = blob_path(dir, &layer.digest)?;
        let on_disk = std::fs::metadata(&path)
            .with_context(|| format!("layer {} is missing from the layout", layer.digest))?;
        if on_disk.len() != layer.size {
            bail!(
                "layer {} has {} bytes, the manifest says {}",
                layer.digest,
                on_disk.len(),
                layer.size
            );
        }
        blobs.push(Blob {
            descriptor: layer.clone(),
            data: BlobData::File { path, offset: 0 },
        });
    }
    let media_type = manifest
        .media_type
        .clone()
        .or_else(|| Some(descriptor.media_type.clone()).filter(|m| !m.is_empty()))
        .unwrap_or_else(|| OCI_MANIFEST.to_string());
    Ok(PreparedImage {
        image_id,
        manifest_digest: descriptor.digest,
        manifest: manifest_bytes.into(),
        manifest_media_type: media_type,
        blobs,
        _scratch: None,
    })
}

/// The entries of `index.json` named `reference` (all of them when no reference is given).
fn by_reference(
    manifests: Vec<Descriptor>,
    reference: Option<&str>,
) -> anyhow::Result<Vec<Descriptor>> {
    let Some(reference) = reference else {
        return Ok(manifests);
    };
    let names: Vec<String> = manifests
        .iter()
        .filter_map(|d| d.annotations.get(REF_NAME).cloned())
        .collect();
    let named: Vec<Descriptor> = manifests
        .into_iter()
        .filter(|d| d.annotations.get(REF_NAME).is_some_and(|n| n == reference))
        .collect();
    if named.is_empty() {
        bail!(
            "the layout has no image named {reference} (it has: {})",
            names.join(", ")
        );
    }
    Ok(named)
}

fn blob_path(dir: &Path, digest: &str) -> anyhow::Result<PathBuf> {
    let (algorithm, hex) = digest.split_once(':').unwrap_or(("", ""));
    if algorithm != "sha256" || hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        bail!("unsupported digest {digest}: only sha256 blobs can be pushed");
    }
    Ok(dir.join("blobs").join(algorithm).join(hex))
}

/// A small blob (index, manifest, config), checked against its digest.
fn read_blob(dir: &Path, descriptor: &Descriptor) -> anyhow::Result<Vec<u8>> {
    let path = blob_path(dir, &descriptor.digest)?;
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    if sha256_digest(&bytes) != descriptor.digest {
        bail!("{} does not match its digest", path.display());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::super::manifest::ManifestError;
    use super::super::testimage::{layer_tar, oci_layout};
    use super::*;

    fn layout() -> (tempfile::TempDir, Vec<String>) {
        let dir = tempfile::tempdir().unwrap();
        let base = layer_tar("base", 2000);
        let images = oci_layout(
            dir.path(),
            "v1",
            &[
                ("amd64", vec![base.clone(), layer_tar("amd", 100)]),
                ("arm64", vec![base, layer_tar("arm", 100)]),
            ],
        );
        (dir, images.manifests)
    }

    #[test]
    fn picks_each_architecture_from_a_buildx_style_index() {
        let (dir, manifests) = layout();
        let amd = read(dir.path(), Some("v1"), "x86_64").unwrap();
        assert_eq!(amd.manifest_digest, manifests[0]);
        assert_eq!(sha256_digest(&amd.manifest), manifests[0]);
        assert_eq!(amd.manifest_media_type, OCI_MANIFEST);
        assert_eq!(amd.blobs.len(), 3);
        let arm = read(dir.path(), None, "arm64").unwrap();
        assert_eq!(arm.manifest_digest, manifests[1]);
        // The shared base layer has one digest in both images.
        assert_eq!(
            amd.blobs[1].descriptor.digest,
            arm.blobs[1].descriptor.digest
        );
    }

    #[test]
    fn an_arm64_only_layout_fails_for_x86_64() {
        let dir = tempfile::tempdir().unwrap();
        oci_layout(dir.path(), "v1", &[("arm64", vec![layer_tar("a", 10)])]);
        let err = read(dir.path(), Some("v1"), "x86_64").unwrap_err();
        assert_eq!(
            err.downcast_ref::<ManifestError>(),
            Some(&ManifestError::PlatformMissing {
                wanted: "amd64".into(),
                available: "linux/arm64".into()
            })
        );
    }

    #[test]
    fn an_unknown_reference_names_the_known_ones() {
        let (dir, _) = layout();
        let err = read(dir.path(), Some("v2"), "x86_64").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the layout has no image named v2 (it has: v1)"
        );
    }
}
