//! `docker save` archives (also what an engine's `GET /images/{name}/get` streams): found by
//! `manifest.json`, never by guessed paths, because engines lay them out differently (podman
//! puts `<diffid>.tar` at the top with `<id>/layer.tar` symlinks, dockerd 20.10 real
//! `<id>/layer.tar` files, Docker 25+ `blobs/sha256/…`). Uncompressed layers are gzipped
//! deterministically (mtime 0) into scratch files, so a re-push finds the same digests.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Component, Path, PathBuf};

use anyhow::{bail, Context};
use flate2::{Compression, GzBuilder};
use serde::Deserialize;
use tempfile::TempDir;

use super::image::{digest_file_range, memory_blob, Blob, BlobData, HashingWriter, PreparedImage};
use super::manifest::{
    check_config_architecture, docker_manifest, parse, sha256_digest, Descriptor, DOCKER_CONFIG,
    DOCKER_LAYER_GZIP, DOCKER_MANIFEST,
};

// Following more links than this means a loop.
const MAX_LINKS: usize = 8;

enum Entry {
    File { offset: u64, size: u64 },
    Link(String),
}

/// The entries of an archive by normalized path, and its `manifest.json`.
struct ArchiveIndex {
    entries: HashMap<String, Entry>,
    manifest: Option<Vec<u8>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveImage {
    config: String,
    layers: Vec<String>,
}

/// Reads the one image of the archive at `path` into a Docker v2 schema 2 push, with the
/// engine's `image_id` when known (else the config digest, as `docker load` reports it).
pub fn read(
    path: &Path,
    architecture: &str,
    image_id: Option<String>,
    scratch: TempDir,
) -> anyhow::Result<PreparedImage> {
    let index = index_archive(path)?;
    let manifest = index
        .manifest
        .as_deref()
        .context("the archive has no manifest.json; make it with `docker save` or skopeo")?;
    let mut images: Vec<ArchiveImage> = parse("manifest.json", manifest)?;
    if images.len() != 1 {
        bail!(
            "the archive holds {} images; save exactly one image per archive",
            images.len()
        );
    }
    let image = images.remove(0);
    let (offset, size) = index.locate(&image.config)?;
    let config = read_range(path, offset, size)?;
    check_config_architecture(&config, architecture)?;
    let image_id = image_id.unwrap_or_else(|| sha256_digest(&config));
    let config = memory_blob(DOCKER_CONFIG, config);
    let mut layers = Vec::with_capacity(image.layers.len());
    for (n, name) in image.layers.iter().enumerate() {
        let (offset, size) = index.locate(name)?;
        let gz_path = scratch.path().join(format!("layer-{n}.tar.gz"));
        layers.push(
            layer_blob(path, offset, size, &gz_path).with_context(|| format!("layer {name}"))?,
        );
    }
    let descriptors: Vec<Descriptor> = layers.iter().map(|b| b.descriptor.clone()).collect();
    let manifest = docker_manifest(&config.descriptor, &descriptors);
    let mut blobs = vec![config];
    blobs.extend(layers);
    Ok(PreparedImage {
        image_id,
        manifest_digest: sha256_digest(&manifest),
        manifest: manifest.into(),
        manifest_media_type: DOCKER_MANIFEST.to_string(),
        blobs,
        _scratch: Some(scratch),
    })
}

fn index_archive(path: &Path) -> anyhow::Result<ArchiveIndex> {
    let file = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut archive = tar::Archive::new(file);
    let mut index = ArchiveIndex {
        entries: HashMap::new(),
        manifest: None,
    };
    for entry in archive.entries().context("reading the tar archive")? {
        let mut entry = entry.context("reading the tar archive")?;
        let name = normalize(&entry.path()?);
        let kind = entry.header().entry_type();
        if kind.is_symlink() || kind.is_hard_link() {
            let target = entry.link_name()?.unwrap_or_default().into_owned();
            // Symlinks are relative to their directory; hard links to the archive root.
            let target = if kind.is_symlink() {
                Path::new(&name)
                    .parent()
                    .unwrap_or(Path::new(""))
                    .join(target)
            } else {
                target
            };
            index.entries.insert(name, Entry::Link(normalize(&target)));
        } else if kind.is_file() {
            if name == "manifest.json" {
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes)?;
                index.manifest = Some(bytes);
            }
            let file = Entry::File {
                offset: entry.raw_file_position(),
                size: entry.size(),
            };
            index.entries.insert(name, file);
        }
    }
    Ok(index)
}

impl ArchiveIndex {
    /// Offset and size of the file `name` names, following links.
    fn locate(&self, name: &str) -> anyhow::Result<(u64, u64)> {
        let mut current = normalize(Path::new(name));
        for _ in 0..MAX_LINKS {
            match self.entries.get(&current) {
                Some(Entry::File { offset, size }) => return Ok((*offset, *size)),
                Some(Entry::Link(target)) => current = target.clone(),
                None => bail!("manifest.json names {name}, which is not in the archive"),
            }
        }
        bail!("{name} is a link loop in the archive")
    }
}

/// `a/./b/../c` → `a/c`, without a leading `./` or `/`.
fn normalize(path: &Path) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str().unwrap_or_default()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    parts.join("/")
}

fn read_range(path: &Path, offset: u64, size: u64) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut bytes = Vec::new();
    file.take(size).read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A layer as a gzip blob: pushed as is when already gzipped, else compressed to `gz_path`.
fn layer_blob(archive: &Path, offset: u64, size: u64, gz_path: &Path) -> anyhow::Result<Blob> {
    let mut file = File::open(archive)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut magic = [0u8; 2];
    let gzipped = size >= 2 && file.read_exact(&mut magic).is_ok() && magic == [0x1f, 0x8b];
    let (data, digest, size) = if gzipped {
        let digest = digest_file_range(archive, offset, size)?;
        let data = BlobData::File {
            path: archive.to_path_buf(),
            offset,
        };
        (data, digest, size)
    } else {
        let (digest, written) = gzip_range(archive, offset, size, gz_path)?;
        let data = BlobData::File {
            path: PathBuf::from(gz_path),
            offset: 0,
        };
        (data, digest, written)
    };
    Ok(Blob {
        descriptor: Descriptor {
            media_type: DOCKER_LAYER_GZIP.to_string(),
            digest,
            size,
            platform: None,
            annotations: Default::default(),
        },
        data,
    })
}

/// Gzips `size` bytes of `archive` from `offset` into `dest` with mtime 0 (the same bytes on
/// every run), returning the digest and size of the gzip.
fn gzip_range(
    archive: &Path,
    offset: u64,
    size: u64,
    dest: &Path,
) -> anyhow::Result<(String, u64)> {
    let mut source = File::open(archive)?;
    source.seek(SeekFrom::Start(offset))?;
    let out = super::image::create_private(dest)
        .with_context(|| format!("creating {}", dest.display()))?;
    let hashing = HashingWriter::new(io::BufWriter::new(out));
    let mut gz = GzBuilder::new()
        .mtime(0)
        .write(hashing, Compression::default());
    let copied = io::copy(&mut source.take(size), &mut gz)?;
    if copied != size {
        bail!("the archive ends inside a layer");
    }
    let (mut out, digest, written) = gz.finish()?.finish();
    io::Write::flush(&mut out)?;
    Ok((digest, written))
}

#[cfg(test)]
mod tests {
    use super::super::testimage::{docker_archive, layer_tar, ArchiveLayout};
    use super::*;

    fn read_back(layout: ArchiveLayout) -> (PreparedImage, Vec<Vec<u8>>) {
        let dir = tempfile::tempdir().unwrap();
        let layers = vec![layer_tar("base", 3000), layer_tar("app", 500)];
        let path = dir.path().join("image.tar");
        docker_archive(&path, &layers, "amd64", layout);
        let image = read(&path, "x86_64", None, tempfile::tempdir().unwrap()).unwrap();
        (image, layers)
    }

    fn gunzip(blob: &Blob) -> Vec<u8> {
        let BlobData::File { path, offset } = &blob.data else {
            panic!("layers are files")
        };
        let bytes = read_range(path, *offset, blob.descriptor.size).unwrap();
        assert_eq!(sha256_digest(&bytes), blob.descriptor.digest);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn reads_podman_and_dockerd_layouts_alike() {
        let (podman, layers) = read_back(ArchiveLayout::Podman);
        let (dockerd, _) = read_back(ArchiveLayout::Dockerd);
        // The same content gives the same, deterministic digests whatever the layout.
        assert_eq!(podman.manifest_digest, dockerd.manifest_digest);
        assert_eq!(podman.image_id, podman.blobs[0].descriptor.digest);
        assert_eq!(podman.blobs.len(), 3);
        for (blob, layer) in podman.blobs[1..].iter().zip(&layers) {
            assert_eq!(blob.descriptor.media_type, DOCKER_LAYER_GZIP);
            assert_eq!(&gunzip(blob), layer);
        }
        assert_eq!(sha256_digest(&podman.manifest), podman.manifest_digest);
    }

    #[test]
    fn rejects_an_image_for_another_architecture() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("image.tar");
        docker_archive(&path, &[layer_tar("x", 10)], "arm64", ArchiveLayout::Podman);
        let err = read(&path, "x86_64", None, tempfile::tempdir().unwrap()).unwrap_err();
        assert!(err.to_string().contains("built for arm64"), "{err}");
    }

    #[test]
    fn normalizes_link_targets() {
        assert_eq!(normalize(Path::new("./abc/../x.tar")), "x.tar");
        assert_eq!(normalize(Path::new("id/./layer.tar")), "id/layer.tar");
    }
}
