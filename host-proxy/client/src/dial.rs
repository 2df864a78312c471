//! Opens a byte stream to the proxy's enclave-facing listener.

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};
use tokio_vsock::{VsockAddr, VsockStream};

use crate::addr::ProxyAddr;
use crate::error::Error;

/// A connected byte stream of any transport.
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// Connects to one proxy route (each route reaches exactly one upstream).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialer {
    addr: ProxyAddr,
}

impl Dialer {
    /// A dialer for `addr` (`vsock:3:PORT` in production).
    pub fn new(addr: ProxyAddr) -> Self {
        Self { addr }
    }

    /// The address this dialer connects to.
    pub fn addr(&self) -> &ProxyAddr {
        &self.addr
    }

    /// Opens one connection to the proxy.
    pub async fn connect(&self) -> Result<Box<dyn Io>, Error> {
        let dial_err = |source| Error::Dial {
            addr: self.addr.to_string(),
            source,
        };
        Ok(match &self.addr {
            ProxyAddr::Vsock { cid, port } => Box::new(
                VsockStream::connect(VsockAddr::new(*cid, *port))
                    .await
                    .map_err(dial_err)?,
            ),
            ProxyAddr::Unix(path) => Box::new(UnixStream::connect(path).await.map_err(dial_err)?),
            ProxyAddr::Tcp { host, port } => {
                let s = TcpStream::connect((host.as_str(), *port))
                    .await
                    .map_err(dial_err)?;
                // Small JSON-RPC messages: do not wait for Nagle.
                s.set_nodelay(true).map_err(dial_err)?;
                Box::new(s)
            }
        })
    }
}

impl std::str::FromStr for Dialer {
    type Err = crate::addr::AddrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        s.parse().map(Self::new)
    }
}
