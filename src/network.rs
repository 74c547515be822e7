//! Whom samrs trusts on the network, the same for AWS calls and registry pushes, as the AWS CLI
//! configures it: the system's CA certificates plus the PEM bundle that `AWS_CA_BUNDLE` (or
//! `ca_bundle` in the profile of `~/.aws/config`) names, which is how a private CA or a
//! TLS-inspecting corporate proxy is trusted. Proxies (`HTTPS_PROXY`, `HTTP_PROXY`, `NO_PROXY`
//! and their lower-case forms) are read the way the SDK's client reads them, by hyper-util's
//! matcher, for both kinds of call.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;

use crate::settings::{Environment, CA_BUNDLE_VARIABLE};

/// The profile key of `~/.aws/config` for an extra CA bundle (as `AWS_CA_BUNDLE`).
pub const CA_BUNDLE_KEY: &str = "ca_bundle";

/// Where the extra CA certificates are read from, and how to name that place in messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaBundleSource {
    pub path: PathBuf,
    /// `AWS_CA_BUNDLE` or `ca_bundle of profile NAME`.
    pub origin: String,
}

/// The CA bundle in force: `AWS_CA_BUNDLE` wins over the profile's `ca_bundle` (the AWS CLI's
/// order); an empty value counts as unset; `~/` is the home directory.
pub fn ca_bundle_source(
    variable: Option<&str>,
    profile: Option<(&str, &str)>,
    home: Option<&Path>,
) -> Option<CaBundleSource> {
    let expand = |value: &str| match (value.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(value),
    };
    if let Some(value) = variable.map(str::trim).filter(|v| !v.is_empty()) {
        return Some(CaBundleSource {
            path: expand(value),
            origin: CA_BUNDLE_VARIABLE.to_string(),
        });
    }
    let (name, value) = profile?;
    let value = value.trim();
    (!value.is_empty()).then(|| CaBundleSource {
        path: expand(value),
        origin: format!("{CA_BUNDLE_KEY} of profile {name}"),
    })
}

/// A loaded CA bundle: its PEM text (what the SDK's trust store takes) and its certificates.
#[derive(Debug)]
pub struct CaBundle {
    pub source: CaBundleSource,
    pem: Vec<u8>,
    certificates: Vec<CertificateDer<'static>>,
}

impl CaBundle {
    /// Parses `pem`; a bundle without a single certificate is a mistake worth stopping for.
    pub fn parse(source: CaBundleSource, pem: Vec<u8>) -> anyhow::Result<CaBundle> {
        let certificates = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                anyhow::anyhow!(
                    "{}={} is not a PEM bundle of CA certificates: {e}",
                    source.origin,
                    source.path.display()
                )
            })?;
        if certificates.is_empty() {
            bail!(
                "{}={} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                source.origin,
                source.path.display()
            );
        }
        Ok(CaBundle {
            source,
            pem,
            certificates,
        })
    }
}

/// Trust settings of one run, shared by every client samrs builds.
#[derive(Debug, Clone, Default)]
pub struct Network {
    pub ca_bundle: Option<Arc<CaBundle>>,
}

impl Network {
    /// Reads the CA bundle that the environment or the profile (`profile`, the one `--profile` or
    /// the environment names, else `default`) names.
    pub async fn load(profile: Option<&str>, env: &Environment) -> anyhow::Result<Network> {
        let variable = env.var(CA_BUNDLE_VARIABLE);
        let profile_value = if variable.is_some_and(|v| !v.trim().is_empty()) {
            None
        } else {
            profile_ca_bundle(profile).await
        };
        let home = env.var("HOME").map(PathBuf::from);
        let source = ca_bundle_source(
            variable,
            profile_value
                .as_ref()
                .map(|(n, v)| (n.as_str(), v.as_str())),
            home.as_deref(),
        );
        let Some(source) = source else {
            return Ok(Network::default());
        };
        let pem = std::fs::read(&source.path).with_context(|| {
            format!(
                "{}={} cannot be read; point it at a PEM file of CA certificates",
                source.origin,
                source.path.display()
            )
        })?;
        Ok(Network {
            ca_bundle: Some(Arc::new(CaBundle::parse(source, pem)?)),
        })
    }

    /// A rustls configuration trusting the system's CAs and the bundle's (for registries and
    /// container engines).
    pub fn rustls_config(&self) -> anyhow::Result<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        // Unreadable system certificates are skipped, as the SDK's client skips them.
        for certificate in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(certificate);
        }
        if let Some(bundle) = &self.ca_bundle {
            for certificate in &bundle.certificates {
                roots.add(certificate.clone()).with_context(|| {
                    format!(
                        "a certificate in {}={} is not a usable CA certificate",
                        bundle.source.origin,
                        bundle.source.path.display()
                    )
                })?;
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        Ok(rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .context("setting up TLS")?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }

    /// Gives the SDK an HTTP client with the bundle's CAs added to the system's, and proxies from
    /// the environment as the SDK's default client has them; without a bundle the SDK keeps its
    /// default client.
    pub fn configure_sdk(
        &self,
        loader: aws_config::ConfigLoader,
    ) -> anyhow::Result<aws_config::ConfigLoader> {
        use aws_smithy_http_client::proxy::ProxyConfig;
        use aws_smithy_http_client::tls::{
            self, rustls_provider::CryptoMode, TlsContext, TrustStore,
        };
        let Some(bundle) = &self.ca_bundle else {
            return Ok(loader);
        };
        let context = TlsContext::builder()
            .with_trust_store(
                TrustStore::default()
                    .with_native_roots(true)
                    .with_pem_certificate(bundle.pem.clone()),
            )
            .build()
            .with_context(|| {
                format!(
                    "{}={} cannot be used as CA certificates",
                    bundle.source.origin,
                    bundle.source.path.display()
                )
            })?;
        // What aws-smithy-runtime's default client does, plus the trust store.
        let client = aws_smithy_http_client::Builder::new().build_with_connector_fn(
            move |settings, components| {
                let mut builder = aws_smithy_http_client::Connector::builder()
                    .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
                    .tls_context(context.clone());
                builder.set_connector_settings(settings.cloned());
                if let Some(components) = components {
                    builder.set_sleep_impl(components.sleep_impl());
                }
                builder.set_proxy_config(Some(ProxyConfig::from_env()));
                builder.build()
            },
        );
        Ok(loader.http_client(client))
    }
}

/// The `ca_bundle` of the selected profile of `~/.aws/config` (or `AWS_CONFIG_FILE`), with the
/// profile's name; a config file that does not parse is left to the SDK to report.
async fn profile_ca_bundle(profile: Option<&str>) -> Option<(String, String)> {
    use aws_types::os_shim_internal::{Env, Fs};
    let selected = profile.map(|p| std::borrow::Cow::Owned(p.to_string()));
    let profiles =
        aws_config::profile::load(&Fs::real(), &Env::real(), &Default::default(), selected)
            .await
            .ok()?;
    let value = profiles.get(CA_BUNDLE_KEY)?.to_string();
    Some((profiles.selected_profile().to_string(), value))
}

/// How rustls words a certificate it does not trust (in an error chain's text): such errors get
/// the hint to set `AWS_CA_BUNDLE`.
pub const UNTRUSTED_CERTIFICATE: &str = "invalid peer certificate";

/// What to do about an untrusted certificate.
pub const UNTRUSTED_HINT: &str = "the server's TLS certificate is not signed by a trusted CA; if a private CA or a TLS-inspecting proxy signs it, set AWS_CA_BUNDLE (or ca_bundle in ~/.aws/config) to its PEM bundle";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_wins_over_the_profile_and_home_is_expanded() {
        let home = Path::new("/home/u");
        let from_variable = ca_bundle_source(
            Some("/etc/corp.pem"),
            Some(("work", "~/ca.pem")),
            Some(home),
        )
        .unwrap();
        assert_eq!(from_variable.path, PathBuf::from("/etc/corp.pem"));
        assert_eq!(from_variable.origin, "AWS_CA_BUNDLE");
        let from_profile =
            ca_bundle_source(Some(" "), Some(("work", "~/ca.pem")), Some(home)).unwrap();
        assert_eq!(from_profile.path, PathBuf::from("/home/u/ca.pem"));
        assert_eq!(from_profile.origin, "ca_bundle of profile work");
        assert_eq!(ca_bundle_source(None, None, Some(home)), None);
        assert_eq!(ca_bundle_source(None, Some(("p", "")), Some(home)), None);
    }

    #[test]
    fn a_bundle_without_certificates_is_refused() {
        let source = CaBundleSource {
            path: "/tmp/x.pem".into(),
            origin: "AWS_CA_BUNDLE".into(),
        };
        let err = CaBundle::parse(source, b"not a certificate\n".to_vec()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "AWS_CA_BUNDLE=/tmp/x.pem holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        );
    }
}
