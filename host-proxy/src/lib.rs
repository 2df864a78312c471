#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod addr;
mod admin;
pub mod busy_poll;
mod config;
mod copy;
mod error;
mod hvsock;
mod metrics;
mod policy;
mod proxy;
mod timers;
mod transport;

pub use addr::{AddrError, Endpoint, VSOCK_CID_ANY};
pub use busy_poll::BusyPoll;
pub use config::{BUFFER_RANGE, Config, ConfigError, Route};
pub use copy::Transferred;
pub use error::{DialError, Error, Refusal, TransferError};
pub use hvsock::HandshakeError;
pub use metrics::Metrics;
pub use policy::{AddressPolicy, ClientPolicy, is_special_purpose};
pub use proxy::{DrainReport, Proxy};
pub use timers::Timers;
pub use transport::{Listener, Peer, Stream, dial};

/// What the fuzz targets in `fuzz/` reach that the API does not: the hybrid vsock handshake
/// over any byte stream. Only with the cargo feature `fuzzing`, which no build of the proxy
/// enables; not an API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    use tokio::io::{AsyncRead, AsyncWrite};

    use crate::HandshakeError;

    /// The longest device reply read before giving up (`hvsock.rs`).
    pub const HVSOCK_MAX_REPLY: usize = crate::hvsock::MAX_REPLY;

    /// The hybrid vsock handshake (`hvsock.rs`) on `stream`, as a dial to `hvsock:PATH:port`
    /// runs it on the device's Unix socket.
    ///
    /// # Errors
    /// [`HandshakeError`], as for a dial.
    pub async fn hvsock_handshake<S>(stream: &mut S, port: u32) -> Result<(), HandshakeError>
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        crate::hvsock::handshake(stream, port).await
    }
}
