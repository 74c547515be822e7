//! A Docker-compatible engine (dockerd, podman's `system service`, Docker Desktop, Colima,
//! OrbStack, Finch) read over its HTTP API where [`super::discovery`] finds it, without the
//! docker CLI, over a unix socket, TCP, or TCP with TLS client certificates
//! (`DOCKER_TLS_VERIFY`): the image id from `GET /images/{name}/json` and the
//! image itself as the docker archive `GET /images/{name}/get` streams, spooled to disk so
//! memory does not grow with the image. Paths carry no API version: every engine then answers
//! with its own newest one (dockerd 20.10 rejects versions above 1.41).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::{Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};

use super::discovery::{discover, Endpoint, EngineEnv, TlsFiles};

/// Where the engine listens.
enum Socket {
    Unix(PathBuf),
    Tcp(String),
    /// TCP with TLS: the server's name and the client's TLS setup.
    Tls {
        address: String,
        server: rustls::pki_types::ServerName<'static>,
        config: Arc<rustls::ClientConfig>,
    },
}

/// A connection recipe for the engine.
pub struct Engine {
    socket: Socket,
    /// The engine's address and how it was found, for messages.
    docker_host: String,
}

impl Engine {
    /// The engine the environment, the docker context or a known socket names.
    pub fn discover(env: &EngineEnv) -> anyhow::Result<Self> {
        let found = discover(env, &|path| std::fs::read_to_string(path).ok(), &|path| {
            path.exists()
        })?;
        Self::connect_to(&found)
    }

    fn connect_to(found: &Endpoint) -> anyhow::Result<Self> {
        let docker_host = if found.origin == "DOCKER_HOST" {
            format!("DOCKER_HOST={}", found.host)
        } else {
            format!("{} (from {})", found.host, found.origin)
        };
        let socket = if let Some(path) = found.host.strip_prefix("unix://") {
            Socket::Unix(PathBuf::from(path))
        } else {
            let address = found
                .host
                .strip_prefix("tcp://")
                .unwrap_or(&found.host)
                .trim_end_matches('/')
                .to_string();
            match &found.tls {
                None => Socket::Tcp(address),
                Some(files) => {
                    let host = address
                        .rsplit_once(':')
                        .map_or(address.as_str(), |(h, _)| h);
                    let server = rustls::pki_types::ServerName::try_from(host.to_string())
                        .with_context(|| {
                            format!("{docker_host}: {host} is not a TLS server name")
                        })?;
                    let config = Arc::new(
                        client_tls(files)
                            .with_context(|| format!("TLS for the engine at {docker_host}"))?,
                    );
                    Socket::Tls {
                        address,
                        server,
                        config,
                    }
                }
            }
        };
        Ok(Self {
            socket,
            docker_host,
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
                "cannot reach the container engine at {}; start it, or set DOCKER_HOST",
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
            Socket::Tls {
                address,
                server,
                config,
            } => {
                let stream = tokio::net::TcpStream::connect(address)
                    .await
                    .with_context(unreachable)?;
                let stream = tokio_rustls::TlsConnector::from(Arc::clone(config))
                    .connect(server.clone(), stream)
                    .await
                    .with_context(|| {
                        format!("TLS with the container engine at {}", self.docker_host)
                    })?;
                send(stream, path).await
            }
        }
    }
}

/// TLS trusting only the engine's CA and showing the client certificate, as the docker CLI
/// does with `DOCKER_TLS_VERIFY`.
fn client_tls(files: &TlsFiles) -> anyhow::Result<rustls::ClientConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let read =
        |path: &Path| std::fs::read(path).with_context(|| format!("reading {}", path.display()));
    let mut roots = rustls::RootCertStore::empty();
    for ca in CertificateDer::pem_slice_iter(&read(&files.ca)?) {
        roots.add(ca.with_context(|| format!("{} is not PEM", files.ca.display()))?)?;
    }
    let chain = CertificateDer::pem_slice_iter(&read(&files.cert)?)
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} is not PEM", files.cert.display()))?;
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?)
        .with_context(|| format!("{} holds no PEM private key", files.key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)?)
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
    fn sockets_follow_the_endpoint() {
        let found = |host: &str| Endpoint {
            host: host.into(),
            tls: None,
            origin: "DOCKER_HOST".into(),
        };
        let unix = Engine::connect_to(&found("unix:///tmp/engine/podman.sock")).unwrap();
        assert!(
            matches!(unix.socket, Socket::Unix(p) if p == Path::new("/tmp/engine/podman.sock"))
        );
        let tcp = Engine::connect_to(&found("tcp://127.0.0.1:2375/")).unwrap();
        assert!(matches!(tcp.socket, Socket::Tcp(a) if a == "127.0.0.1:2375"));
        assert_eq!(tcp.docker_host, "DOCKER_HOST=tcp://127.0.0.1:2375/");
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
