//! A registry v2 API client, just what a push needs: blob existence, cross-repository mounts,
//! chunked uploads read from disk a chunk at a time, and manifests. Requests that fail with a
//! connection error, 429 or a 5xx are retried with exponential backoff.

use std::time::Duration;

use anyhow::{bail, Context};
use bytes::{Bytes, BytesMut};
use http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, LOCATION};
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::io::{AsyncReadExt, AsyncSeekExt};

use super::image::{Blob, BlobData};
use super::manifest::{DOCKER_LIST, DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST};

/// The shared HTTP(S) client (rustls with the aws-lc-rs provider the AWS SDK already uses).
pub type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
const DIGEST_HEADER: &str = "docker-content-digest";

/// Builds the HTTP client, trusting the system's CA certificates.
pub fn http_client() -> anyhow::Result<HttpClient> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(provider)
        .context("loading the system's CA certificates for the registry connection")?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// A response with its (small) body read.
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The registry's own error text (`{"errors":[{"code","message"}]}`), or the raw body.
    fn error(&self, action: &str) -> anyhow::Error {
        let text = String::from_utf8_lossy(&self.body);
        let detail = serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| {
                let e = &v["errors"][0];
                Some(format!(
                    "{}: {}",
                    e["code"].as_str()?,
                    e["message"].as_str().unwrap_or("")
                ))
            })
            .unwrap_or_else(|| text.chars().take(300).collect());
        anyhow::anyhow!("{action}: the registry answered {} {detail}", self.status)
    }
}

/// Whether a mount took the blob, or where to upload it instead.
pub enum Mount {
    Mounted,
    Upload(String),
}

/// One registry, reached at `base` with basic auth.
#[derive(Clone)]
pub struct Registry {
    client: HttpClient,
    base: String,
    authorization: String,
}

impl Registry {
    /// A registry at `base` (`https://host` or a loopback `http://` test endpoint).
    pub fn new(client: HttpClient, base: String, authorization: String) -> Self {
        Self {
            client,
            base: base.trim_end_matches('/').to_string(),
            authorization,
        }
    }

    /// Whether `repo` already has the blob `digest`.
    pub async fn blob_exists(&self, repo: &str, digest: &str) -> anyhow::Result<bool> {
        let url = format!("{}/v2/{repo}/blobs/{digest}", self.base);
        let answer = self.send(Method::HEAD, &url, &[], Bytes::new()).await?;
        match answer.status {
            s if s.is_success() || s.is_redirection() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(answer.error(&format!("checking blob {digest} in {repo}"))),
        }
    }

    /// Mounts `digest` from `from` into `repo`; registries that cannot mount open an upload.
    pub async fn mount(&self, repo: &str, digest: &str, from: &str) -> anyhow::Result<Mount> {
        let url = format!(
            "{}/v2/{repo}/blobs/uploads/?mount={digest}&from={from}",
            self.base
        );
        let answer = self.send(Method::POST, &url, &[], Bytes::new()).await?;
        match answer.status {
            StatusCode::CREATED => Ok(Mount::Mounted),
            StatusCode::ACCEPTED => Ok(Mount::Upload(self.location(&answer)?)),
            _ => Err(answer.error(&format!("mounting blob {digest} from {from} into {repo}"))),
        }
    }

    /// Opens an upload session in `repo`.
    pub async fn start_upload(&self, repo: &str) -> anyhow::Result<String> {
        let url = format!("{}/v2/{repo}/blobs/uploads/", self.base);
        let answer = self.send(Method::POST, &url, &[], Bytes::new()).await?;
        if answer.status != StatusCode::ACCEPTED {
            return Err(answer.error(&format!("starting an upload to {repo}")));
        }
        self.location(&answer)
    }

    /// Uploads `blob` to the session at `location` in PATCH chunks of `chunk_size` bytes, then
    /// commits it by digest; `progress` hears each chunk's size.
    pub async fn upload(
        &self,
        mut location: String,
        blob: &Blob,
        chunk_size: usize,
        progress: &(dyn Fn(u64) + Send + Sync),
    ) -> anyhow::Result<()> {
        let mut reader = ChunkReader::open(&blob.data, blob.descriptor.size).await?;
        let mut offset = 0u64;
        while let Some(chunk) = reader.next(chunk_size).await? {
            let len = chunk.len() as u64;
            let range = format!("{offset}-{}", offset + len - 1);
            let headers = [
                (CONTENT_TYPE.as_str(), "application/octet-stream"),
                ("content-range", range.as_str()),
            ];
            let answer = self.send(Method::PATCH, &location, &headers, chunk).await?;
            if answer.status != StatusCode::ACCEPTED {
                return Err(answer.error(&format!("uploading blob {}", blob.descriptor.digest)));
            }
            location = self.location(&answer)?;
            offset += len;
            progress(len);
        }
        let separator = if location.contains('?') { '&' } else { '?' };
        let url = format!("{location}{separator}digest={}", blob.descriptor.digest);
        let answer = self.send(Method::PUT, &url, &[], Bytes::new()).await?;
        if answer.status != StatusCode::CREATED {
            return Err(answer.error(&format!("committing blob {}", blob.descriptor.digest)));
        }
        Ok(())
    }

    /// The digest `repo` has under `reference` (a tag or digest), if any.
    pub async fn manifest_digest(
        &self,
        repo: &str,
        reference: &str,
    ) -> anyhow::Result<Option<String>> {
        let url = format!("{}/v2/{repo}/manifests/{reference}", self.base);
        let accept = [DOCKER_MANIFEST, OCI_MANIFEST, OCI_INDEX, DOCKER_LIST].join(", ");
        let answer = self
            .send(
                Method::HEAD,
                &url,
                &[(ACCEPT.as_str(), &accept)],
                Bytes::new(),
            )
            .await?;
        match answer.status {
            s if s.is_success() => Ok(answer.header(DIGEST_HEADER).map(str::to_string)),
            StatusCode::NOT_FOUND => Ok(None),
            _ => Err(answer.error(&format!("looking up {repo}:{reference}"))),
        }
    }

    /// Puts `manifest` as `repo:tag` and returns the digest the registry reports.
    pub async fn put_manifest(
        &self,
        repo: &str,
        tag: &str,
        media_type: &str,
        manifest: Bytes,
    ) -> anyhow::Result<Option<String>> {
        let url = format!("{}/v2/{repo}/manifests/{tag}", self.base);
        let answer = self
            .send(
                Method::PUT,
                &url,
                &[(CONTENT_TYPE.as_str(), media_type)],
                manifest,
            )
            .await?;
        if answer.status != StatusCode::CREATED {
            return Err(answer.error(&format!("putting the manifest of {repo}:{tag}")));
        }
        Ok(answer.header(DIGEST_HEADER).map(str::to_string))
    }

    fn location(&self, answer: &Answer) -> anyhow::Result<String> {
        let location = answer
            .header(LOCATION.as_str())
            .context("the registry opened an upload without a Location header")?;
        Ok(if location.starts_with('/') {
            format!("{}{location}", self.base)
        } else {
            location.to_string()
        })
    }

    /// Sends one request, retrying connection errors, 429 and 5xx answers.
    async fn send(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> anyhow::Result<Answer> {
        let mut backoff = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            let result = self
                .send_once(method.clone(), url, headers, body.clone())
                .await;
            let retry = match &result {
                Ok(a) => a.status == StatusCode::TOO_MANY_REQUESTS || a.status.is_server_error(),
                Err(_) => true,
            };
            if !retry || attempt == ATTEMPTS {
                return result.with_context(|| format!("{method} {}", redact(url)));
            }
            tokio::time::sleep(backoff).await;
            backoff *= 2;
        }
        unreachable!("the last attempt returns")
    }

    async fn send_once(
        &self,
        method: Method,
        url: &str,
        headers: &[(&str, &str)],
        body: Bytes,
    ) -> anyhow::Result<Answer> {
        let mut request = Request::builder()
            .method(method)
            .uri(url)
            .header(AUTHORIZATION, &self.authorization);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(body))
            .context("building a registry request")?;
        let exchange = async {
            let response = self.client.request(request).await?;
            let (parts, body) = response.into_parts();
            let body = body.collect().await?.to_bytes();
            anyhow::Ok(Answer {
                status: parts.status,
                headers: parts.headers,
                body,
            })
        };
        match tokio::time::timeout(REQUEST_TIMEOUT, exchange).await {
            Ok(answer) => answer,
            Err(_) => bail!("no answer within {} s", REQUEST_TIMEOUT.as_secs()),
        }
    }
}

/// Upload session URLs carry state tokens; messages keep only the path.
fn redact(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// Reads a blob's bytes a chunk at a time.
enum ChunkReader {
    Memory(Bytes),
    File { file: tokio::fs::File, left: u64 },
}

impl ChunkReader {
    async fn open(data: &BlobData, size: u64) -> anyhow::Result<Self> {
        Ok(match data {
            BlobData::Memory(bytes) => ChunkReader::Memory(bytes.clone()),
            BlobData::File { path, offset } => {
                let mut file = tokio::fs::File::open(path)
                    .await
                    .with_context(|| format!("opening {}", path.display()))?;
                file.seek(std::io::SeekFrom::Start(*offset)).await?;
                ChunkReader::File { file, left: size }
            }
        })
    }

    async fn next(&mut self, chunk_size: usize) -> anyhow::Result<Option<Bytes>> {
        match self {
            ChunkReader::Memory(bytes) if bytes.is_empty() => Ok(None),
            ChunkReader::Memory(bytes) => Ok(Some(bytes.split_to(chunk_size.min(bytes.len())))),
            ChunkReader::File { left: 0, .. } => Ok(None),
            ChunkReader::File { file, left } => {
                let len = chunk_size.min(usize::try_from(*left).unwrap_or(usize::MAX));
                let mut buffer = BytesMut::zeroed(len);
                file.read_exact(&mut buffer)
                    .await
                    .context("reading a layer for upload")?;
                *left -= len as u64;
                Ok(Some(buffer.freeze()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn chunk_reader_splits_files_and_memory_alike() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("blob");
        std::fs::write(&path, b"..0123456789").unwrap();
        let mut file = ChunkReader::open(&BlobData::File { path, offset: 2 }, 10)
            .await
            .unwrap();
        let mut memory =
            ChunkReader::open(&BlobData::Memory(Bytes::from_static(b"0123456789")), 10)
                .await
                .unwrap();
        for reader in [&mut file, &mut memory] {
            let mut chunks = Vec::new();
            while let Some(chunk) = reader.next(4).await.unwrap() {
                chunks.push(chunk);
            }
            assert_eq!(chunks, [&b"0123"[..], b"4567", b"89"]);
        }
    }

    #[test]
    fn redacts_upload_state() {
        assert_eq!(
            redact("http://127.0.0.1:5102/v2/r/blobs/uploads/u?_state=secret"),
            "http://127.0.0.1:5102/v2/r/blobs/uploads/u"
        );
    }
}
