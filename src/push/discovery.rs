//! Where the container engine is, found the way the docker CLI finds it and then some: a
//! decision over (environment, files, existing sockets), so the order is tested without an
//! engine. `DOCKER_HOST` first (with `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH` for TCP), then the
//! docker context (`DOCKER_CONTEXT`, else `currentContext` of `~/.docker/config.json`, its
//! endpoint in `contexts/meta/<sha256 of the name>/meta.json`), then the sockets the common
//! engines create: Docker, rootless Docker, Docker Desktop, Colima, OrbStack, Rancher Desktop,
//! podman (rootless and rootful) and Finch.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::settings::Environment;

/// What discovery reads from the environment (each `None` when unset or empty).
#[derive(Debug, Clone, Default)]
pub struct EngineEnv {
    pub docker_host: Option<String>,
    pub docker_context: Option<String>,
    /// `DOCKER_CONFIG`: the docker CLI's configuration directory (default `~/.docker`).
    pub docker_config: Option<PathBuf>,
    pub docker_tls_verify: Option<String>,
    pub docker_cert_path: Option<PathBuf>,
    pub home: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
}

impl From<&Environment> for EngineEnv {
    fn from(env: &Environment) -> EngineEnv {
        let text = |name: &str| {
            env.var(name)
                .filter(|v| !v.trim().is_empty())
                .map(str::to_string)
        };
        let path = |name: &str| text(name).map(PathBuf::from);
        EngineEnv {
            docker_host: text("DOCKER_HOST"),
            docker_context: text("DOCKER_CONTEXT"),
            docker_config: path("DOCKER_CONFIG"),
            docker_tls_verify: text("DOCKER_TLS_VERIFY"),
            docker_cert_path: path("DOCKER_CERT_PATH"),
            home: path("HOME"),
            xdg_runtime_dir: path("XDG_RUNTIME_DIR"),
        }
    }
}

impl EngineEnv {
    fn config_dir(&self) -> Option<PathBuf> {
        self.docker_config
            .clone()
            .or_else(|| self.home.as_ref().map(|h| h.join(".docker")))
    }
}

/// Client certificates for an engine reached over TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The engine to talk to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `unix:///path/to.sock` or `tcp://host:port`.
    pub host: String,
    pub tls: Option<TlsFiles>,
    /// How it was found, for messages: `DOCKER_HOST`, `docker context colima`, a socket path.
    pub origin: String,
}

/// Why no engine could be used; the message names every place tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiscoveryError {
    #[error("no container engine found (tried {}); start Docker, Colima, OrbStack, Finch or podman (`systemctl --user start podman.socket`), or set DOCKER_HOST", .0.join(", "))]
    NotFound(Vec<String>),
    #[error("docker context {name} ({origin}) has no endpoint in {meta}: run `docker context ls`, or set DOCKER_HOST")]
    UnknownContext {
        name: String,
        origin: String,
        meta: String,
    },
    #[error("{0}")]
    Unsupported(String),
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default, rename = "currentContext")]
    current_context: Option<String>,
}

#[derive(Deserialize)]
struct ContextMeta {
    #[serde(rename = "Endpoints")]
    endpoints: Endpoints,
}

#[derive(Deserialize)]
struct Endpoints {
    docker: DockerEndpoint,
}

#[derive(Deserialize)]
struct DockerEndpoint {
    #[serde(rename = "Host")]
    host: String,
    #[serde(default, rename = "SkipTLSVerify")]
    skip_tls_verify: bool,
}

/// Finds the engine: `read` gives a file's text, `exists` says whether a socket is there.
pub fn discover(
    env: &EngineEnv,
    read: &dyn Fn(&Path) -> Option<String>,
    exists: &dyn Fn(&Path) -> bool,
) -> Result<Endpoint, DiscoveryError> {
    if let Some(host) = &env.docker_host {
        let tls = if env.docker_tls_verify.as_deref().is_some_and(|v| v != "0") {
            let dir = env
                .docker_cert_path
                .clone()
                .or_else(|| env.config_dir())
                .unwrap_or_default();
            Some(tls_files(&dir))
        } else {
            None
        };
        return endpoint(host, tls, "DOCKER_HOST".into());
    }
    let config_dir = env.config_dir();
    let context = match &env.docker_context {
        Some(name) => Some((name.clone(), "DOCKER_CONTEXT".to_string())),
        None => config_dir.as_ref().and_then(|dir| {
            let config: ConfigFile = serde_json::from_str(&read(&dir.join("config.json"))?).ok()?;
            let name = config.current_context.filter(|n| !n.is_empty())?;
            Some((
                name,
                format!("currentContext in {}", dir.join("config.json").display()),
            ))
        }),
    };
    if let (Some((name, origin)), Some(dir)) =
        (context.filter(|(n, _)| n != "default"), &config_dir)
    {
        let id = context_id(&name);
        let meta_path = dir.join("contexts/meta").join(&id).join("meta.json");
        let meta: Option<ContextMeta> =
            read(&meta_path).and_then(|t| serde_json::from_str(&t).ok());
        let Some(meta) = meta else {
            return Err(DiscoveryError::UnknownContext {
                name,
                origin,
                meta: meta_path.display().to_string(),
            });
        };
        let docker = meta.endpoints.docker;
        let tls_dir = dir.join("contexts/tls").join(&id).join("docker");
        let tls = exists(&tls_dir.join("ca.pem")).then(|| tls_files(&tls_dir));
        if docker.skip_tls_verify && tls.is_some() {
            return Err(DiscoveryError::Unsupported(format!(
                "docker context {name} skips TLS verification, which samrs does not do; give it a CA (`docker context update --docker \"host=…,ca=…\"`)"
            )));
        }
        return endpoint(&docker.host, tls, format!("docker context {name}"));
    }
    let mut tried = vec![
        "DOCKER_HOST (unset)".to_string(),
        "docker context (default)".to_string(),
    ];
    for socket in known_sockets(env) {
        if exists(&socket) {
            return Ok(Endpoint {
                host: format!("unix://{}", socket.display()),
                tls: None,
                origin: socket.display().to_string(),
            });
        }
        tried.push(socket.display().to_string());
    }
    Err(DiscoveryError::NotFound(tried))
}

fn endpoint(host: &str, tls: Option<TlsFiles>, origin: String) -> Result<Endpoint, DiscoveryError> {
    let supported = host.starts_with("unix://") || host.starts_with("tcp://");
    if !supported {
        return Err(DiscoveryError::Unsupported(format!(
            "{origin} is {host}, which samrs cannot reach; use unix:///path/to.sock or tcp://host:port"
        )));
    }
    Ok(Endpoint {
        host: host.to_string(),
        tls: tls.filter(|_| host.starts_with("tcp://")),
        origin,
    })
}

fn tls_files(dir: &Path) -> TlsFiles {
    TlsFiles {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}

/// The directory name the docker CLI gives a context: the hex sha256 of its name.
pub fn context_id(name: &str) -> String {
    Sha256::digest(name.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The sockets of the common engines, in the order they are tried.
fn known_sockets(env: &EngineEnv) -> Vec<PathBuf> {
    let mut sockets = vec![PathBuf::from("/var/run/docker.sock")];
    if let Some(runtime) = &env.xdg_runtime_dir {
        sockets.push(runtime.join("docker.sock"));
    }
    if let Some(home) = &env.home {
        for relative in [
            ".docker/run/docker.sock",
            ".docker/desktop/docker.sock",
            ".colima/default/docker.sock",
            ".colima/docker.sock",
            ".orbstack/run/docker.sock",
            ".rd/docker.sock",
        ] {
            sockets.push(home.join(relative));
        }
    }
    if let Some(runtime) = &env.xdg_runtime_dir {
        sockets.push(runtime.join("podman/podman.sock"));
    }
    sockets.push(PathBuf::from("/run/podman/podman.sock"));
    sockets.push(PathBuf::from("/var/run/finch.sock"));
    sockets.push(PathBuf::from(
        "/Applications/Finch/lima/data/finch/sock/finch.sock",
    ));
    sockets
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// A machine: files by path and the sockets that exist.
    struct Machine {
        files: HashMap<PathBuf, String>,
        sockets: Vec<PathBuf>,
    }

    impl Machine {
        fn new() -> Self {
            Self {
                files: HashMap::new(),
                sockets: Vec::new(),
            }
        }

        fn file(mut self, path: &str, text: &str) -> Self {
            self.files.insert(PathBuf::from(path), text.to_string());
            self
        }

        fn socket(mut self, path: &str) -> Self {
            self.sockets.push(PathBuf::from(path));
            self
        }

        fn discover(&self, env: &EngineEnv) -> Result<Endpoint, DiscoveryError> {
            discover(env, &|p| self.files.get(p).cloned(), &|p| {
                self.sockets.iter().any(|s| s == p) || self.files.contains_key(p)
            })
        }
    }

    fn user() -> EngineEnv {
        EngineEnv {
            home: Some("/home/u".into()),
            xdg_runtime_dir: Some("/run/user/1000".into()),
            ..EngineEnv::default()
        }
    }

    fn context(name: &str, host: &str) -> (String, String) {
        (
            format!(
                "/home/u/.docker/contexts/meta/{}/meta.json",
                context_id(name)
            ),
            format!(
                r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
            ),
        )
    }

    #[test]
    fn docker_host_wins_over_contexts_and_sockets() {
        let (meta, text) = context("colima", "unix:///home/u/.colima/default/docker.sock");
        let machine = Machine::new()
            .file(
                "/home/u/.docker/config.json",
                r#"{"currentContext":"colima"}"#,
            )
            .file(&meta, &text)
            .socket("/var/run/docker.sock");
        let env = EngineEnv {
            docker_host: Some("unix:///tmp/podman.sock".into()),
            ..user()
        };
        let found = machine.discover(&env).unwrap();
        assert_eq!(found.host, "unix:///tmp/podman.sock");
        assert_eq!(found.origin, "DOCKER_HOST");
    }

    #[test]
    fn tcp_with_tls_verify_takes_the_cert_path() {
        let env = EngineEnv {
            docker_host: Some("tcp://10.0.0.2:2376".into()),
            docker_tls_verify: Some("1".into()),
            docker_cert_path: Some("/certs".into()),
            ..user()
        };
        let found = Machine::new().discover(&env).unwrap();
        assert_eq!(
            found.tls,
            Some(TlsFiles {
                ca: "/certs/ca.pem".into(),
                cert: "/certs/cert.pem".into(),
                key: "/certs/key.pem".into()
            })
        );
        let plain = EngineEnv {
            docker_tls_verify: None,
            ..env
        };
        assert_eq!(Machine::new().discover(&plain).unwrap().tls, None);
    }

    #[test]
    fn the_current_context_names_the_endpoint() {
        let (meta, text) = context("colima", "unix:///home/u/.colima/default/docker.sock");
        let machine = Machine::new()
            .file(
                "/home/u/.docker/config.json",
                r#"{"auths":{},"currentContext":"colima"}"#,
            )
            .file(&meta, &text)
            .socket("/var/run/docker.sock");
        let found = machine.discover(&user()).unwrap();
        assert_eq!(found.host, "unix:///home/u/.colima/default/docker.sock");
        assert_eq!(found.origin, "docker context colima");
        // DOCKER_CONTEXT wins over the config file; `default` means the default socket.
        let env = EngineEnv {
            docker_context: Some("default".into()),
            ..user()
        };
        assert_eq!(
            machine.discover(&env).unwrap().host,
            "unix:///var/run/docker.sock"
        );
    }

    #[test]
    fn a_context_without_its_meta_file_is_named() {
        let machine = Machine::new().file(
            "/home/u/.docker/config.json",
            r#"{"currentContext":"gone"}"#,
        );
        let err = machine.discover(&user()).unwrap_err();
        assert!(
            matches!(&err, DiscoveryError::UnknownContext { name, .. } if name == "gone"),
            "{err}"
        );
        assert!(err
            .to_string()
            .contains("currentContext in /home/u/.docker/config.json"));
    }

    #[test]
    fn a_context_with_tls_material_uses_it() {
        let (meta, text) = context("remote", "tcp://build.corp:2376");
        let id = context_id("remote");
        let ca = format!("/home/u/.docker/contexts/tls/{id}/docker/ca.pem");
        let machine = Machine::new()
            .file(
                "/home/u/.docker/config.json",
                r#"{"currentContext":"remote"}"#,
            )
            .file(&meta, &text)
            .file(&ca, "PEM");
        let found = machine.discover(&user()).unwrap();
        assert_eq!(found.tls.map(|t| t.ca), Some(PathBuf::from(ca)));
    }

    #[test]
    fn known_sockets_are_tried_in_order() {
        let podman = "/run/user/1000/podman/podman.sock";
        let orbstack = "/home/u/.orbstack/run/docker.sock";
        let both = Machine::new().socket(podman).socket(orbstack);
        assert_eq!(
            both.discover(&user()).unwrap().host,
            format!("unix://{orbstack}")
        );
        let only_podman = Machine::new().socket(podman);
        assert_eq!(only_podman.discover(&user()).unwrap().origin, podman);
        let finch = Machine::new().socket("/var/run/finch.sock");
        assert_eq!(
            finch.discover(&user()).unwrap().host,
            "unix:///var/run/finch.sock"
        );
    }

    #[test]
    fn nothing_found_names_every_place_tried() {
        let err = Machine::new().discover(&user()).unwrap_err();
        let text = err.to_string();
        for place in [
            "DOCKER_HOST (unset)",
            "/var/run/docker.sock",
            "/home/u/.docker/run/docker.sock",
            "/home/u/.colima/default/docker.sock",
            "/home/u/.orbstack/run/docker.sock",
            "/run/user/1000/podman/podman.sock",
            "/var/run/finch.sock",
        ] {
            assert!(text.contains(place), "{place} missing from: {text}");
        }
        assert!(!text.contains('\n'));
    }

    #[test]
    fn unreachable_hosts_are_refused() {
        let env = EngineEnv {
            docker_host: Some("ssh://me@build".into()),
            ..user()
        };
        let err = Machine::new().discover(&env).unwrap_err();
        assert!(err.to_string().contains("ssh://me@build"), "{err}");
    }
}
