//! Listeners and streams over vsock, Unix and TCP sockets behind one type each,
//! so the proxy core never knows which transport it is moving bytes over.

use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream, UnixListener, UnixStream};
use tokio_vsock::{VsockAddr, VsockListener, VsockStream};

use crate::addr::Endpoint;
use crate::error::{DialError, Refusal};
use crate::hvsock;
use crate::policy::{AddressPolicy, canonical};
use crate::timers::Timers;

/// Who connected to a listener.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Peer {
    /// A TCP client's source address.
    Tcp(SocketAddr),
    /// A Unix socket client (no identity beyond the socket file's permissions).
    Unix,
    /// A vsock client.
    Vsock {
        /// The client's context id.
        cid: u32,
        /// The client's port.
        port: u32,
    },
}

/// What per-client limits count by: the source IP, or the vsock CID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum ClientKey {
    Ip(IpAddr),
    Cid(u32),
}

impl Peer {
    /// The client identity limits count by (`None` for Unix sockets).
    pub(crate) fn client_key(&self) -> Option<ClientKey> {
        match self {
            Peer::Tcp(a) => Some(ClientKey::Ip(canonical(a.ip()))),
            Peer::Unix => None,
            Peer::Vsock { cid, .. } => Some(ClientKey::Cid(*cid)),
        }
    }
}

impl fmt::Display for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Peer::Tcp(a) => write!(f, "{a}"),
            Peer::Unix => f.write_str("unix"),
            Peer::Vsock { cid, port } => write!(f, "vsock:{cid}:{port}"),
        }
    }
}

/// Pending connections the kernel queues per listener.
const BACKLOG: u32 = 1024;

/// A bound listener of any transport.
#[derive(Debug)]
#[non_exhaustive]
pub enum Listener {
    /// TCP.
    Tcp(TcpListener),
    /// Unix stream socket; the path is removed on drop.
    Unix(UnixListener, UnixPathGuard),
    /// AF_VSOCK.
    Vsock(VsockListener),
}

/// Removes a Unix socket file when the listener that created it goes away.
#[derive(Debug)]
pub struct UnixPathGuard(PathBuf);

impl Drop for UnixPathGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Listener {
    /// Binds `ep`. TCP listeners set SO_REUSEADDR so a restart does not wait
    /// out TIME_WAIT; a stale Unix socket file is replaced.
    pub async fn bind(ep: &Endpoint) -> io::Result<Self> {
        match ep {
            Endpoint::Tcp { host, port } => {
                let ip = host.parse().map_err(|_| {
                    io::Error::new(io::ErrorKind::InvalidInput, "listen host must be an IP")
                })?;
                let addr = SocketAddr::new(ip, *port);
                let sock = if addr.is_ipv4() {
                    TcpSocket::new_v4()?
                } else {
                    TcpSocket::new_v6()?
                };
                sock.set_reuseaddr(true)?;
                sock.bind(addr)?;
                Ok(Listener::Tcp(sock.listen(BACKLOG)?))
            }
            Endpoint::Unix(path) => {
                if let Ok(meta) = std::fs::symlink_metadata(path) {
                    use std::os::unix::fs::FileTypeExt;
                    if meta.file_type().is_socket() {
                        std::fs::remove_file(path)?;
                    }
                }
                let l = UnixListener::bind(path)?;
                Ok(Listener::Unix(l, UnixPathGuard(path.clone())))
            }
            Endpoint::Vsock { cid, port } => Ok(Listener::Vsock(VsockListener::bind(
                VsockAddr::new(*cid, *port),
            )?)),
            Endpoint::HybridVsock { .. } => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "hvsock: is a destination; listen on unix:PATH_PORT for the guest's connections",
            )),
        }
    }

    /// The address actually bound (the real port when 0 was asked for).
    pub fn local_endpoint(&self) -> io::Result<Endpoint> {
        Ok(match self {
            Listener::Tcp(l) => {
                let a = l.local_addr()?;
                Endpoint::Tcp {
                    host: a.ip().to_string(),
                    port: a.port(),
                }
            }
            Listener::Unix(_, guard) => Endpoint::Unix(guard.0.clone()),
            Listener::Vsock(l) => {
                let a = l.local_addr()?;
                Endpoint::Vsock {
                    cid: a.cid(),
                    port: a.port(),
                }
            }
        })
    }

    /// Accepts one connection, and says who connected.
    pub async fn accept(&self) -> io::Result<(Stream, Peer)> {
        match self {
            Listener::Tcp(l) => {
                let (s, a) = l.accept().await?;
                // Best effort: a peer that already reset makes this fail, and the copy will say so.
                let _ = s.set_nodelay(true);
                Ok((Stream::Tcp(s), Peer::Tcp(a)))
            }
            Listener::Unix(l, _) => {
                let (s, _) = l.accept().await?;
                Ok((Stream::Unix(s), Peer::Unix))
            }
            Listener::Vsock(l) => {
                let (s, a) = l.accept().await?;
                Ok((
                    Stream::Vsock(s),
                    Peer::Vsock {
                        cid: a.cid(),
                        port: a.port(),
                    },
                ))
            }
        }
    }
}

/// A connected byte stream of any transport.
#[derive(Debug)]
#[non_exhaustive]
pub enum Stream {
    /// TCP (TCP_NODELAY set).
    Tcp(TcpStream),
    /// Unix stream socket.
    Unix(UnixStream),
    /// AF_VSOCK.
    Vsock(VsockStream),
}

/// Resolves and dials `ep`. For `tcp:` upstreams every resolved address is
/// checked against `policy`; refused addresses are never dialled.
pub async fn dial(
    ep: &Endpoint,
    policy: &AddressPolicy,
    timeout: Duration,
) -> Result<Stream, DialError> {
    dial_within(ep, policy, timeout, &Timers::in_serving_runtime()).await
}

/// [`dial`], with its `timeout` kept by `timers`.
pub(crate) async fn dial_within(
    ep: &Endpoint,
    policy: &AddressPolicy,
    timeout: Duration,
    timers: &Timers,
) -> Result<Stream, DialError> {
    match timers.timeout(timeout, dial_inner(ep, policy)).await {
        Ok(r) => r,
        Err(_) => Err(DialError::Timeout(timeout)),
    }
}

async fn dial_inner(ep: &Endpoint, policy: &AddressPolicy) -> Result<Stream, DialError> {
    match ep {
        Endpoint::Tcp { host, port } => {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), *port))
                .await
                .map_err(DialError::Resolve)?
                .collect();
            let (allowed, refused): (Vec<_>, Vec<_>) =
                addrs.into_iter().partition(|a| policy.permits(a.ip()));
            if allowed.is_empty() {
                return Err(DialError::Refused(Refusal::DestinationNotAllowed(refused)));
            }
            let mut last = None;
            for a in allowed {
                match TcpStream::connect(a).await {
                    Ok(s) => {
                        let _ = s.set_nodelay(true);
                        return Ok(Stream::Tcp(s));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(DialError::Connect(
                last.unwrap_or_else(|| io::Error::other("no address")),
            ))
        }
        Endpoint::Unix(p) => Ok(Stream::Unix(
            UnixStream::connect(p).await.map_err(DialError::Connect)?,
        )),
        Endpoint::Vsock { cid, port } => Ok(Stream::Vsock(
            VsockStream::connect(VsockAddr::new(*cid, *port))
                .await
                .map_err(DialError::Connect)?,
        )),
        Endpoint::HybridVsock { path, port } => {
            let mut s = UnixStream::connect(path)
                .await
                .map_err(DialError::Connect)?;
            hvsock::handshake(&mut s, *port).await?;
            Ok(Stream::Unix(s))
        }
    }
}

impl Stream {
    /// Whether this stream can feed or drain a pipe with splice(2).
    pub(crate) fn spliceable(&self) -> bool {
        matches!(self, Stream::Tcp(_) | Stream::Unix(_))
    }

    pub(crate) fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        interest: Interest,
    ) -> Poll<io::Result<()>> {
        let read = interest.is_readable();
        match (self, read) {
            (Stream::Tcp(s), true) => s.poll_read_ready(cx),
            (Stream::Tcp(s), false) => s.poll_write_ready(cx),
            (Stream::Unix(s), true) => s.poll_read_ready(cx),
            (Stream::Unix(s), false) => s.poll_write_ready(cx),
            (Stream::Vsock(_), _) => Poll::Ready(Err(unsupported())),
        }
    }

    pub(crate) fn try_io<R>(
        &self,
        interest: Interest,
        f: impl FnOnce() -> io::Result<R>,
    ) -> io::Result<R> {
        match self {
            Stream::Tcp(s) => s.try_io(interest, f),
            Stream::Unix(s) => s.try_io(interest, f),
            Stream::Vsock(_) => Err(unsupported()),
        }
    }

    pub(crate) fn fd(&self) -> BorrowedFd<'_> {
        match self {
            Stream::Tcp(s) => s.as_fd(),
            Stream::Unix(s) => s.as_fd(),
            Stream::Vsock(s) => s.as_fd(),
        }
    }
}

fn unsupported() -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        "splice is not used on vsock streams",
    )
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Vsock(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Unix(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Vsock(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_flush(cx),
            Stream::Unix(s) => Pin::new(s).poll_flush(cx),
            Stream::Vsock(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Tcp(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Unix(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Vsock(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}
