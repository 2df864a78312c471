//! Where the application listens: vsock inside the enclave, Unix or TCP (loopback) in a local
//! simulation, one syntax for all (`vsock:any:PORT`, `vsock:CID:PORT`, `unix:PATH`,
//! `tcp:IP:PORT`), parsed by `transport-addr` like every address of the proxy and its client.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use tokio::io::{AsyncRead, AsyncWrite};
use transport_addr::{AddrError, Endpoint};

/// A stream accepted from any listener.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// A listening address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListenAddr {
    /// AF_VSOCK on one CID, or on every CID (`transport_addr::VSOCK_CID_ANY`, written `any`).
    Vsock {
        /// The CID.
        cid: u32,
        /// The port.
        port: u32,
    },
    /// A Unix stream socket (an existing socket file is replaced).
    Unix(PathBuf),
    /// TCP on an IP literal.
    Tcp(SocketAddr),
}

/// What a listen address can be.
const EXPECTED: &str = "`vsock:any:PORT`, `vsock:CID:PORT`, `unix:PATH` or `tcp:IP:PORT`";

impl TryFrom<Endpoint> for ListenAddr {
    type Error = AddrError;

    fn try_from(endpoint: Endpoint) -> Result<Self, AddrError> {
        if let Some(tcp) = endpoint.ip_socket_addr() {
            return tcp.map(ListenAddr::Tcp);
        }
        match endpoint {
            Endpoint::Vsock { cid, port } => Ok(ListenAddr::Vsock { cid, port }),
            Endpoint::Unix(path) => Ok(ListenAddr::Unix(path)),
            other @ (Endpoint::Tcp { .. } | Endpoint::HybridVsock { .. }) => {
                Err(other.not_here(EXPECTED))
            }
        }
    }
}

impl FromStr for ListenAddr {
    type Err = AddrError;

    fn from_str(s: &str) -> Result<Self, AddrError> {
        s.parse::<Endpoint>()?.try_into()
    }
}

impl From<&ListenAddr> for Endpoint {
    fn from(addr: &ListenAddr) -> Self {
        match addr {
            ListenAddr::Vsock { cid, port } => Endpoint::Vsock {
                cid: *cid,
                port: *port,
            },
            ListenAddr::Unix(path) => Endpoint::Unix(path.clone()),
            ListenAddr::Tcp(a) => Endpoint::Tcp {
                host: a.ip().to_string(),
                port: a.port(),
            },
        }
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Endpoint::from(self).fmt(f)
    }
}

/// A bound listener.
pub(crate) enum Listener {
    Vsock(tokio_vsock::VsockListener),
    Unix(tokio::net::UnixListener),
    Tcp(tokio::net::TcpListener),
}

impl Listener {
    /// Binds `addr`.
    pub(crate) async fn bind(addr: &ListenAddr) -> std::io::Result<Self> {
        Ok(match addr {
            ListenAddr::Vsock { cid, port } => Listener::Vsock(tokio_vsock::VsockListener::bind(
                tokio_vsock::VsockAddr::new(*cid, *port),
            )?),
            ListenAddr::Unix(path) => {
                match std::fs::remove_file(path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
                Listener::Unix(tokio::net::UnixListener::bind(path)?)
            }
            ListenAddr::Tcp(a) => Listener::Tcp(tokio::net::TcpListener::bind(a).await?),
        })
    }

    /// The bound address (the real port when TCP port 0 was asked for).
    pub(crate) fn local_addr(&self, asked: &ListenAddr) -> ListenAddr {
        match self {
            Listener::Tcp(l) => l.local_addr().map_or(asked.clone(), ListenAddr::Tcp),
            _ => asked.clone(),
        }
    }

    /// Accepts one connection; returns it and where it comes from.
    pub(crate) async fn accept(&self) -> std::io::Result<(Box<dyn Stream>, PeerAddr)> {
        Ok(match self {
            Listener::Vsock(l) => {
                let (s, peer) = l.accept().await?;
                (
                    Box::new(s),
                    PeerAddr::Vsock {
                        cid: peer.cid(),
                        port: peer.port(),
                    },
                )
            }
            Listener::Unix(l) => (Box::new(l.accept().await?.0), PeerAddr::Unix),
            Listener::Tcp(l) => {
                let (s, peer) = l.accept().await?;
                (Box::new(s), PeerAddr::Tcp(peer))
            }
        })
    }
}

/// Where an accepted connection comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PeerAddr {
    /// A vsock CID and port.
    Vsock {
        /// The CID.
        cid: u32,
        /// The port.
        port: u32,
    },
    /// A Unix socket client (unnamed).
    Unix,
    /// A TCP client.
    Tcp(SocketAddr),
}

impl PeerAddr {
    /// Who the connection counts against (see `limits.rs`): the CID, the IP address, or the
    /// one peer of a Unix socket.
    pub(crate) fn peer(&self) -> Peer {
        match self {
            PeerAddr::Vsock { cid, .. } => Peer::Vsock(*cid),
            PeerAddr::Unix => Peer::Unix,
            PeerAddr::Tcp(a) => Peer::Ip(a.ip()),
        }
    }
}

impl fmt::Display for PeerAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerAddr::Vsock { cid, port } => write!(f, "vsock:{cid}:{port}"),
            PeerAddr::Unix => f.write_str("unix"),
            PeerAddr::Tcp(a) => write!(f, "tcp:{a}"),
        }
    }
}

/// A peer: what per-peer limits count (see `limits.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Peer {
    /// A vsock CID.
    Vsock(u32),
    /// A TCP source address.
    Ip(IpAddr),
    /// A Unix socket's clients.
    Unix,
}

#[cfg(test)]
mod tests {
    use transport_addr::VSOCK_CID_ANY;

    use super::*;

    #[test]
    fn parses_the_three_schemes_and_refuses_the_rest() {
        assert_eq!(
            "vsock:any:5006".parse(),
            Ok(ListenAddr::Vsock {
                cid: VSOCK_CID_ANY,
                port: 5006
            })
        );
        assert_eq!(
            "vsock:16:1".parse(),
            Ok(ListenAddr::Vsock { cid: 16, port: 1 })
        );
        assert_eq!(
            "unix:/tmp/a.sock".parse(),
            Ok(ListenAddr::Unix("/tmp/a.sock".into()))
        );
        assert_eq!(
            "tcp:127.0.0.1:80".parse(),
            Ok(ListenAddr::Tcp("127.0.0.1:80".parse().unwrap()))
        );
        for bad in [
            "",
            "vsock:any",
            "vsock:x:1",
            "vsock:any:99999999999",
            "unix:",
            "http://x",
        ] {
            assert!(bad.parse::<ListenAddr>().is_err(), "{bad}");
        }
        assert!(matches!(
            "tcp:host:1".parse::<ListenAddr>(),
            Err(AddrError::NotAnIp { .. })
        ));
        assert!(matches!(
            "hvsock:/v.sock:1".parse::<ListenAddr>(),
            Err(AddrError::NotHere {
                scheme: "hvsock",
                ..
            })
        ));
        for text in ["tcp:[::1]:8", "vsock:any:5005", "vsock:16:1", "unix:/a"] {
            assert_eq!(text.parse::<ListenAddr>().unwrap().to_string(), text);
        }
    }
}
