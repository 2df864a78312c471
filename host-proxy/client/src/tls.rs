//! TLS to the upstream, end to end through the proxy: roots pinned by the caller, the
//! server name taken from the upstream URL in the enclave's configuration.

use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::dial::Io;
use crate::error::{Error, TlsError};

/// An upstream URL taken apart: the TLS server name, the `Host` header, the request target.
struct ParsedUrl<'a> {
    server_name: ServerName<'static>,
    authority: &'a str,
    path: &'a str,
}

impl<'a> ParsedUrl<'a> {
    fn parse(url: &'a str) -> Result<Self, TlsError> {
        let bad = || TlsError::BadUrl(url.to_owned());
        let rest = url.strip_prefix("https://").ok_or_else(bad)?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') || path.contains('#') {
            return Err(bad());
        }
        let host = match authority.strip_prefix('[') {
            Some(v6) => v6.split_once(']').ok_or_else(bad)?.0,
            None => match authority.rsplit_once(':') {
                Some((h, port)) if port.parse::<u16>().is_ok() => h,
                Some(_) => return Err(bad()),
                None => authority,
            },
        };
        let server_name = ServerName::try_from(host.to_owned()).map_err(|_| bad())?;
        // The request line and Host header must be valid HTTP.
        hyper::http::Uri::try_from(path).map_err(|_| bad())?;
        hyper::http::HeaderValue::try_from(authority).map_err(|_| bad())?;
        Ok(Self {
            server_name,
            authority,
            path,
        })
    }
}

/// One upstream HTTPS endpoint and how to authenticate it.
#[derive(Clone)]
pub struct Upstream {
    connector: TlsConnector,
    server_name: ServerName<'static>,
    authority: String,
    path: String,
}

impl std::fmt::Debug for Upstream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Upstream")
            .field("server_name", &self.server_name)
            .field("authority", &self.authority)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Upstream {
    /// `url` is the upstream as configured in the enclave (`https://HOST[:PORT][/PATH]`);
    /// its host is the TLS server name and the HTTP `Host`. `roots_pem` is the pinned
    /// root bundle (PEM); nothing else is trusted.
    pub fn new(url: &str, roots_pem: &[u8]) -> Result<Self, Error> {
        let mut roots = RootCertStore::empty();
        for (index, cert) in CertificateDer::pem_slice_iter(roots_pem).enumerate() {
            let cert = cert.map_err(TlsError::BadPem)?;
            roots
                .add(cert)
                .map_err(|source| TlsError::BadRoot { index, source })?;
        }
        if roots.is_empty() {
            return Err(TlsError::NoRoots.into());
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Provider)?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Self::with_config(url, Arc::new(config))
    }

    /// Like [`Upstream::new`] with a rustls configuration built by the caller (for
    /// example with client certificates). Its verifier decides what is trusted.
    pub fn with_config(url: &str, config: Arc<ClientConfig>) -> Result<Self, Error> {
        let parsed = ParsedUrl::parse(url)?;
        Ok(Self {
            connector: TlsConnector::from(config),
            server_name: parsed.server_name,
            authority: parsed.authority.to_owned(),
            path: parsed.path.to_owned(),
        })
    }

    /// Checks that `url` is a usable upstream (`https://HOST[:PORT][/PATH]` with a valid
    /// server name) without building a TLS configuration: what [`Upstream::new`] would refuse
    /// as [`TlsError::BadUrl`], for checking a configuration before it runs.
    pub fn check_url(url: &str) -> Result<(), Error> {
        ParsedUrl::parse(url)?;
        Ok(())
    }

    /// The name the upstream's certificate must match.
    pub fn server_name(&self) -> String {
        self.server_name.to_str().into_owned()
    }

    /// `HOST[:PORT]` as sent in the `Host` header.
    pub(crate) fn authority(&self) -> &str {
        &self.authority
    }

    /// The request target (path and query).
    pub(crate) fn path(&self) -> &str {
        &self.path
    }

    /// Runs the TLS handshake over `io` (a stream through the proxy).
    pub async fn handshake(&self, io: Box<dyn Io>) -> Result<TlsStream<Box<dyn Io>>, Error> {
        self.connector
            .connect(self.server_name.clone(), io)
            .await
            .map_err(|e| {
                let server_name = self.server_name();
                let tls = e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                    .cloned();
                match tls {
                    Some(source) => TlsError::Handshake {
                        server_name,
                        source,
                    },
                    None => TlsError::Io {
                        server_name,
                        source: e,
                    },
                }
                .into()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots() -> Vec<u8> {
        let key = rcgen::KeyPair::generate().expect("key generation");
        let params = rcgen::CertificateParams::new(Vec::<String>::new()).expect("params");
        let mut params = params;
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        params
            .self_signed(&key)
            .expect("self-sign")
            .pem()
            .into_bytes()
    }

    #[test]
    fn splits_the_url_into_name_host_and_path() {
        let u = Upstream::new("https://rpc.example.org:8443/v2/key?x=1", &roots()).expect("valid");
        assert_eq!(u.server_name(), "rpc.example.org");
        assert_eq!(u.authority(), "rpc.example.org:8443");
        assert_eq!(u.path(), "/v2/key?x=1");
        let u = Upstream::new("https://rpc.example.org", &roots()).expect("valid");
        assert_eq!((u.authority(), u.path()), ("rpc.example.org", "/"));
        let u = Upstream::new("https://[::1]:8545/", &roots()).expect("valid");
        assert_eq!(u.server_name(), "::1");
        for url in [
            "https://rpc.example.org:8443/v2/key?x=1",
            "https://[::1]:8545/",
        ] {
            Upstream::check_url(url).expect(url);
        }
    }

    #[test]
    fn refuses_bad_urls_and_bundles() {
        for url in [
            "http://rpc.example.org/",
            "https:///x",
            "https://user@rpc.example.org/",
            "https://rpc.example.org:port/",
            "https://bad name/",
            "rpc.example.org",
        ] {
            assert!(
                matches!(
                    Upstream::new(url, &roots()),
                    Err(Error::Tls(TlsError::BadUrl(_)))
                ),
                "{url}"
            );
            assert!(
                matches!(
                    Upstream::check_url(url),
                    Err(Error::Tls(TlsError::BadUrl(_)))
                ),
                "{url}"
            );
        }
        assert!(matches!(
            Upstream::new("https://a.example/", b""),
            Err(Error::Tls(TlsError::NoRoots))
        ));
        assert!(matches!(
            Upstream::new(
                "https://a.example/",
                b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"
            ),
            Err(Error::Tls(TlsError::BadPem(_)))
        ));
    }
}
