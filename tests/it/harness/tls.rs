//! TLS for one test: private CAs made with the `openssl` CLI (a CA and a certificate for
//! 127.0.0.1 it signs), and tests/emulator/tls_proxy.py as an HTTPS endpoint in front of moto or
//! the registry, or as an HTTP CONNECT proxy (blind or TLS-inspecting). Every process dies with
//! its handle (killed by PID) or, at the latest, with the test process.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use super::faults::spawn_listening;

/// A private CA and a server certificate for 127.0.0.1 and localhost that it signs.
pub struct Ca {
    /// The CA's certificate: what AWS_CA_BUNDLE points at.
    pub cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

impl Ca {
    /// Makes the CA `name` in `dir`; None when openssl is missing.
    pub fn new(dir: &Path, name: &str) -> Option<Ca> {
        Command::new("openssl").arg("version").output().ok()?;
        let path = |file: &str| dir.join(format!("{name}-{file}"));
        let ca = Ca {
            cert: path("ca.pem"),
            server_cert: path("server.pem"),
            server_key: path("server.key"),
        };
        let ext = path("server.ext");
        std::fs::write(
            &ext,
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
        )
        .expect("write the certificate extensions");
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        let subject = format!("/CN=samrs test CA {name}");
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &["-keyout"],
                &[&s(&path("ca.key"))],
                &[
                    "-out",
                    &s(&ca.cert),
                    "-days",
                    "2",
                    "-subj",
                    &subject,
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign,cRLSign",
                ],
            ]
            .concat(),
        );
        openssl(
            &[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    &s(&ca.server_key),
                    "-out",
                    &s(&path("server.csr")),
                    "-subj",
                    "/CN=127.0.0.1",
                ],
            ]
            .concat(),
        );
        openssl(&[
            "x509",
            "-req",
            "-in",
            &s(&path("server.csr")),
            "-CA",
            &s(&ca.cert),
            "-CAkey",
            &s(&path("ca.key")),
            "-CAcreateserial",
            "-out",
            &s(&ca.server_cert),
            "-days",
            "2",
            "-extfile",
            &s(&ext),
        ]);
        Some(ca)
    }
}

fn s(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

fn openssl(args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A running tests/emulator/tls_proxy.py.
pub struct TlsProxy {
    pub port: u16,
    child: Child,
}

impl TlsProxy {
    /// An HTTPS endpoint with `ca`'s certificate in front of 127.0.0.1:`upstream_port`.
    pub fn terminate(ca: &Ca, upstream_port: u16) -> TlsProxy {
        let (child, port) = spawn_listening(
            "tls_proxy.py",
            &[
                "terminate",
                &s(&ca.server_cert),
                &s(&ca.server_key),
                &upstream_port.to_string(),
            ],
        );
        TlsProxy { port, child }
    }

    /// An HTTP CONNECT proxy writing each tunnel's target to `log`; with `inspect` = (its own
    /// CA, the CA the destinations' certificates come from) it decrypts and re-encrypts.
    pub fn connect(log: &Path, inspect: Option<(&Ca, &Ca)>) -> TlsProxy {
        let mut args = vec!["connect".to_string(), s(log)];
        if let Some((own, upstream)) = inspect {
            args.extend([s(&own.server_cert), s(&own.server_key), s(&upstream.cert)]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (child, port) = spawn_listening("tls_proxy.py", &args);
        TlsProxy { port, child }
    }

    /// `https://127.0.0.1:<port>` for an endpoint, `http://127.0.0.1:<port>` for a proxy.
    pub fn url(&self, scheme: &str) -> String {
        format!("{scheme}://127.0.0.1:{}", self.port)
    }
}

impl Drop for TlsProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
