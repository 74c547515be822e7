//! An image made ready to push: its manifest bytes and digest, and where each blob's bytes are.
//! Every source (engine, docker archive, OCI layout) is turned into this before any upload, so
//! the registry side never cares where an image came from and a bad image fails early.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::discovery::EngineEnv;

use anyhow::Context;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tempfile::TempDir;

use super::engine::Engine;
use super::manifest::{format_digest, sha256_digest, Descriptor};
use super::source::ImageSource;
use super::{archive, oci};

/// Where a blob's bytes are.
#[derive(Debug, Clone)]
pub enum BlobData {
    /// Small blobs (configs) held in memory.
    Memory(Bytes),
    /// `size` bytes of a file from `offset` (a layer in an archive, layout or scratch file).
    File { path: PathBuf, offset: u64 },
}

/// One blob to push.
#[derive(Debug, Clone)]
pub struct Blob {
    pub descriptor: Descriptor,
    pub data: BlobData,
}

/// An image ready to push.
#[derive(Debug)]
pub struct PreparedImage {
    /// The id sam puts in the tag: the engine's image id, else the config digest.
    pub image_id: String,
    pub manifest: Bytes,
    pub manifest_media_type: String,
    pub manifest_digest: String,
    /// The config first, then the layers.
    pub blobs: Vec<Blob>,
    /// Keeps spooled archives and gzipped layers until the push is over.
    pub _scratch: Option<TempDir>,
}

impl PreparedImage {
    /// Bytes of all blobs: what a progress bar counts to.
    pub fn total_bytes(&self) -> u64 {
        self.blobs.iter().map(|b| b.descriptor.size).sum()
    }
}

/// Reads `source` into a [`PreparedImage`] for a function on `architecture`, checking the
/// platform. Docker archives are read on the blocking pool (gzip is CPU work).
pub async fn prepare(
    source: &ImageSource,
    architecture: &str,
    engine: &EngineEnv,
) -> anyhow::Result<PreparedImage> {
    let architecture = architecture.to_string();
    match source.clone() {
        ImageSource::Engine(reference) => {
            let engine = Engine::discover(engine)?;
            let image_id = engine.image_id(&reference).await?;
            let scratch = scratch_dir()?;
            let tar = scratch.path().join("image.tar");
            engine.save(&reference, &tar).await?;
            blocking(move || {
                archive::read(&tar, &architecture, Some(image_id), scratch)
                    .with_context(|| format!("reading the engine's export of {reference}"))
            })
            .await
        }
        ImageSource::DockerArchive(path) => {
            blocking(move || {
                archive::read(&path, &architecture, None, scratch_dir()?)
                    .with_context(|| format!("reading docker archive {}", path.display()))
            })
            .await
        }
        ImageSource::OciLayout { path, reference } => {
            blocking(move || {
                oci::read(&path, reference.as_deref(), &architecture)
                    .with_context(|| format!("reading OCI layout {}", path.display()))
            })
            .await
        }
    }
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> anyhow::Result<T> + Send + 'static,
) -> anyhow::Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .context("an image reading task stopped")?
}

/// Opens a new scratch file only its owner can read (image layers may hold secrets), whatever
/// the umask; its directory is private too. (On Windows the user's temp directory already is.)
pub fn create_private(path: &Path) -> io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

fn scratch_dir() -> anyhow::Result<TempDir> {
    let mut builder = tempfile::Builder::new();
    builder.prefix("samrs-push-");
    // tempfile leaves the mode to the umask (often 0755): other users could read the layers.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o700));
    builder
        .tempdir()
        .context("creating a scratch directory for the image push")
}

/// A writer that hashes and counts what passes through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    /// The inner writer, the `sha256:` digest and the byte count.
    pub fn finish(self) -> (W, String, u64) {
        (
            self.inner,
            format_digest(&self.hasher.finalize()),
            self.written,
        )
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The digest of `len` bytes of `path` from `offset`, read in a bounded buffer.
pub fn digest_file_range(path: &Path, offset: u64, len: u64) -> io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(offset))?;
    let mut hashing = HashingWriter::new(io::sink());
    let copied = io::copy(&mut file.take(len), &mut hashing)?;
    if copied != len {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("{} ends before its {len} bytes", path.display()),
        ));
    }
    Ok(hashing.finish().1)
}

/// A config blob held in memory.
pub fn memory_blob(media_type: &str, bytes: Vec<u8>) -> Blob {
    Blob {
        descriptor: Descriptor {
            media_type: media_type.to_string(),
            digest: sha256_digest(&bytes),
            size: bytes.len() as u64,
            platform: None,
            annotations: Default::default(),
        },
        data: BlobData::Memory(Bytes::from(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn scratch_files_and_dirs_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = scratch_dir().unwrap();
        assert_eq!(mode(dir.path()), 0o700);
        let path = dir.path().join("layer-0.tar.gz");
        create_private(&path).unwrap().write_all(b"layer").unwrap();
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn hashing_writer_and_file_ranges_agree_with_sha256() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let mut w = HashingWriter::new(std::fs::File::create(&path).unwrap());
        w.write_all(b"xxabcyy").unwrap();
        let (_, digest, n) = w.finish();
        assert_eq!(n, 7);
        assert_eq!(digest, sha256_digest(b"xxabcyy"));
        assert_eq!(
            digest_file_range(&path, 2, 3).unwrap(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(digest_file_range(&path, 5, 9).is_err());
    }
}
