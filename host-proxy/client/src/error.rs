//! Errors, split by cause.

use std::io;
use std::time::Duration;

/// Anything that stops a request through the proxy.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The proxy address does not parse.
    #[error(transparent)]
    Addr(#[from] crate::addr::AddrError),
    /// The proxy could not be reached (route not configured, proxy down).
    #[error("connecting to the host proxy at {addr}")]
    Dial {
        /// The proxy address.
        addr: String,
        /// The socket error.
        #[source]
        source: io::Error,
    },
    /// TLS setup or the handshake with the upstream failed.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The HTTP exchange with the upstream failed.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// No complete response within the request timeout.
    #[error("no response from the upstream within {0:?}")]
    Timeout(Duration),
}

/// TLS configuration and handshake failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The pinned root bundle is not valid PEM.
    #[error("pinned roots: invalid PEM")]
    BadPem(#[source] rustls_pki_types::pem::Error),
    /// The pinned root bundle holds no certificate.
    #[error("pinned roots: no certificate in the bundle")]
    NoRoots,
    /// A pinned root is not a usable trust anchor.
    #[error("pinned roots: certificate {index} is not a usable trust anchor")]
    BadRoot {
        /// Position in the bundle, from 0.
        index: usize,
        /// Why.
        #[source]
        source: rustls::Error,
    },
    /// The crypto provider does not support the safe default protocol versions.
    #[error("TLS provider lacks the default protocol versions")]
    Provider(#[source] rustls::Error),
    /// The upstream URL is not `https://HOST[:PORT][/PATH]` with a valid server name.
    #[error("upstream URL `{0}`: expected https://HOST[:PORT][/PATH]")]
    BadUrl(String),
    /// The upstream's certificate or the handshake was refused (wrong root, wrong name,
    /// expired, protocol error).
    #[error("TLS handshake with `{server_name}` refused")]
    Handshake {
        /// The name the certificate had to match.
        server_name: String,
        /// The rustls verdict.
        #[source]
        source: rustls::Error,
    },
    /// The connection failed during the handshake (closed, reset).
    #[error("connection lost during the TLS handshake with `{server_name}`")]
    Io {
        /// The upstream name.
        server_name: String,
        /// The socket error.
        #[source]
        source: io::Error,
    },
}

/// HTTP/1.1 failures after the TLS session is up.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HttpError {
    /// The HTTP/1.1 connection could not be set up.
    #[error("HTTP/1.1 handshake")]
    Handshake(#[source] hyper::Error),
    /// The request could not be built (invalid header value).
    #[error("building the HTTP request")]
    Request(#[source] hyper::http::Error),
    /// The upstream (or the host) closed the connection before the whole response arrived.
    #[error("connection closed before the whole response arrived")]
    Closed(#[source] hyper::Error),
    /// The response body is larger than the transport accepts.
    #[error("response body larger than {0} bytes")]
    TooLarge(usize),
    /// Reading the response body failed for another reason.
    #[error("reading the response body")]
    Body(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Any other HTTP protocol error.
    #[error("HTTP exchange failed")]
    Protocol(#[source] hyper::Error),
}

impl HttpError {
    /// Classifies a hyper error seen while sending or receiving: a connection that ends
    /// early (EOF without TLS close_notify, reset, aborted) is [`HttpError::Closed`].
    pub(crate) fn exchange(e: hyper::Error) -> Self {
        let io_closed = std::error::Error::source(&e)
            .and_then(|s| s.downcast_ref::<io::Error>())
            .is_some_and(|io| {
                matches!(
                    io.kind(),
                    io::ErrorKind::UnexpectedEof
                        | io::ErrorKind::ConnectionReset
                        | io::ErrorKind::ConnectionAborted
                        | io::ErrorKind::BrokenPipe
                )
            });
        if io_closed || e.is_incomplete_message() || e.is_canceled() || e.is_closed() {
            HttpError::Closed(e)
        } else {
            HttpError::Protocol(e)
        }
    }
}
