//! Test images made without a container engine: layer tars with seeded pseudo-random content,
//! `docker save` archives in the layouts podman and dockerd write, and OCI layouts with a
//! multi-platform index and an attestation manifest, as buildx makes them.

use std::io::Write;
use std::path::Path;

use flate2::{Compression, GzBuilder};
use serde_json::json;

use super::manifest::{sha256_digest, OCI_INDEX, OCI_MANIFEST};

/// A tar holding `{name}.bin` with `size` bytes derived from `name` (different names give
/// different layers; the same name the same bytes).
pub fn layer_tar(name: &str, size: usize) -> Vec<u8> {
    let mut state = name.bytes().fold(0x9e37_79b9_7f4a_7c15u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    let content: Vec<u8> = (0..size)
        .map(|_| {
            // xorshift64: incompressible enough that gzip sizes stay close to the input.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    let mut builder = tar::Builder::new(Vec::new());
    append(&mut builder, &format!("{name}.bin"), &content);
    builder.into_inner().unwrap()
}

fn append(builder: &mut tar::Builder<Vec<u8>>, path: &str, content: &[u8]) {
    let mut header = tar::Header::new_gnu();
    header.set_size(content.len() as u64);
    header.set_mode(0o644);
    header.set_mtime(0);
    builder.append_data(&mut header, path, content).unwrap();
}

fn config_json(architecture: &str, layers: &[Vec<u8>]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| sha256_digest(l)).collect();
    serde_json::to_vec(&json!({
        "architecture": architecture,
        "os": "linux",
        "config": {"Cmd": ["app.handler"], "WorkingDir": "/var/task"},
        "rootfs": {"type": "layers", "diff_ids": diff_ids}
    }))
    .unwrap()
}

fn hex(digest: &str) -> &str {
    digest.trim_start_matches("sha256:")
}

/// How an archive places its layers.
#[derive(Clone, Copy)]
pub enum ArchiveLayout {
    /// `<diffid>.tar` at the top, `<n>/layer.tar` symlinks to it; manifest.json names the links.
    Podman,
    /// Real `<n>/layer.tar` files, as dockerd 20.10 writes them.
    Dockerd,
}

/// Writes a `docker save` archive of one image with `layers` to `path`, tagged `testfunction:v1`.
pub fn docker_archive(path: &Path, layers: &[Vec<u8>], architecture: &str, layout: ArchiveLayout) {
    tagged_docker_archive(path, "testfunction:v1", layers, architecture, layout);
}

/// [`docker_archive`] with the repository tag `docker load` gives the image.
pub fn tagged_docker_archive(
    path: &Path,
    repo_tag: &str,
    layers: &[Vec<u8>],
    architecture: &str,
    layout: ArchiveLayout,
) {
    let config = config_json(architecture, layers);
    let config_name = format!("{}.json", hex(&sha256_digest(&config)));
    let mut builder = tar::Builder::new(Vec::new());
    let mut names = Vec::new();
    for (n, layer) in layers.iter().enumerate() {
        let in_dir = format!("{n}/layer.tar");
        match layout {
            ArchiveLayout::Podman => {
                let top = format!("{}.tar", hex(&sha256_digest(layer)));
                append(&mut builder, &top, layer);
                let mut link = tar::Header::new_gnu();
                link.set_entry_type(tar::EntryType::Symlink);
                link.set_size(0);
                link.set_mode(0o777);
                builder
                    .append_link(&mut link, &in_dir, format!("../{top}"))
                    .unwrap();
            }
            ArchiveLayout::Dockerd => append(&mut builder, &in_dir, layer),
        }
        names.push(in_dir);
    }
    append(&mut builder, &config_name, &config);
    let manifest = json!([{"Config": config_name, "RepoTags": [repo_tag], "Layers": names}]);
    append(
        &mut builder,
        "manifest.json",
        manifest.to_string().as_bytes(),
    );
    std::fs::write(path, builder.into_inner().unwrap()).unwrap();
}

/// What [`oci_layout`] wrote.
pub struct OciImages {
    /// The manifest digest of each platform, in the order given.
    pub manifests: Vec<String>,
}

/// Writes an OCI layout at `dir` whose `index.json` names (`ref_name`) one image index with a
/// manifest per `(architecture, layers)` and one attestation manifest.
pub fn oci_layout(dir: &Path, ref_name: &str, platforms: &[(&str, Vec<Vec<u8>>)]) -> OciImages {
    std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let put = |bytes: &[u8]| -> (String, usize) {
        let digest = sha256_digest(bytes);
        std::fs::write(dir.join("blobs/sha256").join(hex(&digest)), bytes).unwrap();
        (digest, bytes.len())
    };
    let mut entries = Vec::new();
    let mut manifests = Vec::new();
    for (architecture, layers) in platforms {
        let (config, config_size) = put(&config_json(architecture, layers));
        let layer_descriptors: Vec<_> = layers
            .iter()
            .map(|layer| {
                // Compressed as archive.rs does, so a layer shared with an archive has one digest.
                let mut gz = GzBuilder::new().mtime(0).write(Vec::new(), Compression::default());
                gz.write_all(layer).unwrap();
                let (digest, size) = put(&gz.finish().unwrap());
                json!({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size})
            })
            .collect();
        let manifest = json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config, "size": config_size},
            "layers": layer_descriptors
        });
        let (digest, size) = put(manifest.to_string().as_bytes());
        entries.push(
            json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": size,
                            "platform": {"architecture": architecture, "os": "linux"}}),
        );
        manifests.push(digest);
    }
    let (statement, statement_size) = put(br#"{"_type":"https://in-toto.io/Statement/v0.1"}"#);
    let (empty, empty_size) = put(b"{}");
    let attestation = json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": empty, "size": empty_size},
        "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": statement, "size": statement_size}]
    });
    let (att_digest, att_size) = put(attestation.to_string().as_bytes());
    entries.push(json!({"mediaType": OCI_MANIFEST, "digest": att_digest, "size": att_size,
        "platform": {"architecture": "unknown", "os": "unknown"},
        "annotations": {"vnd.docker.reference.digest": manifests[0], "vnd.docker.reference.type": "attestation-manifest"}}));
    let index = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries});
    let (index_digest, index_size) = put(index.to_string().as_bytes());
    let top = json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": [
        {"mediaType": OCI_INDEX, "digest": index_digest, "size": index_size,
         "annotations": {"org.opencontainers.image.ref.name": ref_name}}]});
    std::fs::write(dir.join("index.json"), top.to_string()).unwrap();
    OciImages { manifests }
}
