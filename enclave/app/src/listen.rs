//! Where the application listens: vsock inside the enclave, Unix or TCP (loopback) in a local
//! simulation, one syntax for all (`vsock:any:PORT`, `vsock:CID:PORT`, `unix:PATH`,
//! `tcp:IP:PORT`).

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use tokio::io::{AsyncRead, AsyncWrite};

/// A stream accepted from any listener.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Stream for T {}

/// A listening address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ListenAddr {
    /// AF_VSOCK on any CID.
    Vsock {
        /// The port.
        port: u32,
    },
    /// A Unix stream socket (an existing socket file is replaced).
    Unix(PathBuf),
    /// TCP on an IP literal.
    Tcp(SocketAddr),
}

/// Why a listen address does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ListenAddrError {
    /// Not `vsock:`, `unix:` or `tcp:`, or malformed after the scheme.
    #[error("`{0}`: expected `vsock:any:PORT`, `unix:PATH` or `tcp:IP:PORT`")]
    Syntax(String),
}

impl FromStr for ListenAddr {
    type Err = ListenAddrError;

    fn from_str(s: &str) -> Result<Self, ListenAddrError> {
        let bad = || ListenAddrError::Syntax(s.to_owned());
        let (scheme, rest) = s.split_once(':').ok_or_else(bad)?;
        match scheme {
            "vsock" => {
                let (cid, port) = rest.rsplit_once(':').ok_or_else(bad)?;
                if cid != "any" && cid.parse::<u32>().is_err() {
                    return Err(bad());
                }
                Ok(ListenAddr::Vsock {
                    port: port.parse().map_err(|_| bad())?,
                })
            }
            "unix" if !rest.is_empty() => Ok(ListenAddr::Unix(PathBuf::from(rest))),
            "tcp" => Ok(ListenAddr::Tcp(rest.parse().map_err(|_| bad())?)),
            _ => Err(bad()),
        }
    }
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ListenAddr::Vsock { port } => write!(f, "vsock:any:{port}"),
            ListenAddr::Unix(p) => write!(f, "unix:{}", p.display()),
            ListenAddr::Tcp(a) => write!(f, "tcp:{a}"),
        }
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
            ListenAddr::Vsock { port } => Listener::Vsock(tokio_vsock::VsockListener::bind(
                tokio_vsock::VsockAddr::new(tokio_vsock::VMADDR_CID_ANY, *port),
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
    use super::*;

    #[test]
    fn parses_the_three_schemes_and_refuses_the_rest() {
        assert_eq!(
            "vsock:any:5006".parse(),
            Ok(ListenAddr::Vsock { port: 5006 })
        );
        assert_eq!("vsock:16:1".parse(), Ok(ListenAddr::Vsock { port: 1 }));
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
            "tcp:host:1",
            "http://x",
        ] {
            assert!(bad.parse::<ListenAddr>().is_err(), "{bad}");
        }
        assert_eq!(
            "tcp:[::1]:8".parse::<ListenAddr>().unwrap().to_string(),
            "tcp:[::1]:8"
        );
    }
}
