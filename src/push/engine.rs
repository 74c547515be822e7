//! A Docker-compatible engine (dockerd, podman's `system service`) read over its HTTP API at
//! `DOCKER_HOST`, without the docker CLI: the image id from `GET /images/{name}/json` and the
//! image itself as the docker archive `GET /images/{name}/get` streams, spooled to disk so
//! memory does not grow with the image. Paths carry no API version: every engine then answers
//! with its own newest one (dockerd 20.10 rejects versions above 1.41).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Where the engine listens.
#[derive(Debug, PartialEq, Eq)]
enum Socket {
    Unix(PathBuf),
    Tcp(String),
}

/// A connection recipe for the engine at `DOCKER_HOST`.
#[derive(Debug)]
pub struct Engine {
    socket: Socket,
    docker_host: String,
}

impl Engine {
    /// The engine `DOCKER_HOST` names (default `unix:///var/run/docker.sock`).
    pub fn from_env() -> anyhow::Result<Self> {
        let docker_host = std::env::var("DOCKER_HOST").unwrap_or_default();
        Self::parse(if docker_host.is_empty() {
            DEFAULT_HOST
        } else {
            &docker_host
        })
    }

    fn parse(docker_host: &str) -> anyhow::Result<Self> {
        let socket = if let Some(path) = docker_host.strip_prefix("unix://") {
            Socket::Unix(PathBuf::from(path))
        } else if let Some(address) = docker_host.strip_prefix("tcp://") {
            Socket::Tcp(address.trim_end_matches('/').to_string())
        } else {
            bail!("DOCKER_HOST={docker_host} is not supported; use unix:///path/to.sock or tcp://host:port");
        };
        Ok(Self {
            socket,
            docker_host: docker_host.to_string(),
        })
    }

    /// The engine's id (`sha256:…`) of the image `reference` names.
    pub async fn image_id(&self, reference: &str) -> anyhow::Result<String> {
        #[derive(Deserialize)]
        struct Inspect {
            #[serde(rename = "Id")]
            id: String,
        }
        let response = self
            .get(&format!("/images/{}/json", encode(reference)))
            .await?;
        let response = self.check(response, reference).await?;
        let body = response.into_body().collect().await?.to_bytes();
        let inspect: Inspect = serde_json::from_slice(&body).with_context(|| {
            format!(
                "the engine at {} answered an image inspect with unexpected JSON",
                self.docker_host
            )
        })?;
        Ok(inspect.id)
    }

    /// Streams the docker archive of `reference` into `dest`.
    pub async fn save(&self, reference: &str, dest: &Path) -> anyhow::Result<()> {
        let response = self
            .get(&format!("/images/{}/get", encode(reference)))
            .await?;
        let mut body = self.check(response, reference).await?.into_body();
        let mut file = super::image::create_private(dest)
            .map(tokio::fs::File::from_std)
            .with_context(|| format!("creating {}", dest.display()))?;
        while let Some(frame) = body.frame().await {
            let frame = frame
                .with_context(|| format!("reading the export of {reference} from the engine"))?;
            if let Ok(data) = frame.into_data() {
                file.write_all(&data).await?;
            }
        }
        file.flush().await?;
        Ok(())
    }

    async fn check(
        &self,
        response: Response<Incoming>,
        reference: &str,
    ) -> anyhow::Result<Response<Incoming>> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.into_body().collect().await?.to_bytes();
        let message = serde_json::from_slice::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&body).into_owned());
        if status == StatusCode::NOT_FOUND {
            bail!("image {reference} is not in the container engine at {}: build it first (sam build) or fix the function's ImageUri", self.docker_host);
        }
        bail!(
            "the container engine at {} answered {status}: {message}",
            self.docker_host
        )
    }

    async fn get(&self, path: &str) -> anyhow::Result<Response<Incoming>> {
        let unreachable = || {
            format!(
                "cannot reach a container engine at {}; start Docker or podman (`podman system service`) or set DOCKER_HOST",
                self.docker_host
            )
        };
        match &self.socket {
            Socket::Unix(socket) => {
                let stream = connect_unix(socket).await.with_context(unreachable)?;
                send(stream, path).await
            }
            Socket::Tcp(address) => {
                let stream = tokio::net::TcpStream::connect(address)
                    .await
                    .with_context(unreachable)?;
                send(stream, path).await
            }
        }
    }
}

#[cfg(unix)]
async fn connect_unix(socket: &Path) -> std::io::Result<tokio::net::UnixStream> {
    tokio::net::UnixStream::connect(socket).await
}

#[cfg(not(unix))]
async fn connect_unix(_socket: &Path) -> std::io::Result<tokio::net::TcpStream> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "this system has no Unix sockets: set DOCKER_HOST=tcp://host:port",
    ))
}

async fn send<S>(stream: S, path: &str) -> anyhow::Result<Response<Incoming>>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    // The connection task ends when the response body has been read or dropped.
    tokio::spawn(connection);
    let request = hyper::Request::get(path)
        .header(hyper::header::HOST, "docker")
        .body(Empty::<Bytes>::new())?;
    Ok(sender.send_request(request).await?)
}

/// Percent-encodes what may not stand in a URL path, keeping the `/`, `:` and `@` of references.
fn encode(reference: &str) -> String {
    reference
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'/'
            | b':'
            | b'@' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_docker_host() {
        assert_eq!(
            Engine::parse("unix:///tmp/engine/podman.sock")
                .unwrap()
                .socket,
            Socket::Unix("/tmp/engine/podman.sock".into())
        );
        assert_eq!(
            Engine::parse("tcp://127.0.0.1:2375").unwrap().socket,
            Socket::Tcp("127.0.0.1:2375".into())
        );
        let err = Engine::parse("npipe:////./pipe/docker_engine").unwrap_err();
        assert!(err.to_string().contains("is not supported"));
    }

    #[test]
    fn encodes_references_for_paths() {
        assert_eq!(
            encode("localhost/testfunction:python3.12-v1"),
            "localhost/testfunction:python3.12-v1"
        );
        assert_eq!(encode("a b#c"), "a%20b%23c");
    }
}
