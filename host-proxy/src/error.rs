//! Errors, split by cause: configuration, startup, refusals and upstream failures.

use std::net::SocketAddr;
use std::time::Duration;

use crate::config::ConfigError;
use crate::hvsock::HandshakeError;

/// Everything the library can fail with.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is unusable.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listener could not be bound at startup.
    #[error("route \"{route}\": cannot listen on {endpoint}: {source}")]
    Bind {
        /// Route name (`admin` for the metrics listener).
        route: String,
        /// The address.
        endpoint: String,
        /// The socket error.
        source: std::io::Error,
    },
}

/// Why a connection was refused on purpose. Each is counted in
/// `host_proxy_refused_total{reason}` under [`Refusal::reason`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The route already holds `max_connections` connections.
    #[error("connection limit reached")]
    ConnectionLimit,
    /// The client already holds `max_connections_per_client` connections on the route.
    #[error("per-client connection limit reached")]
    ClientLimit,
    /// The client is not in the route's `clients` list.
    #[error("client not in the route's clients list")]
    ClientNotAllowed,
    /// Every address the upstream name resolved to is outside the route's allowed set.
    #[error("upstream resolved only to addresses outside the route's allowed set: {0:?}")]
    DestinationNotAllowed(Vec<SocketAddr>),
}

impl Refusal {
    /// The metric label.
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::ConnectionLimit => "connection_limit",
            Refusal::ClientLimit => "client_limit",
            Refusal::ClientNotAllowed => "client_not_allowed",
            Refusal::DestinationNotAllowed(_) => "destination_not_allowed",
        }
    }
}

/// Why dialling the upstream failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DialError {
    /// The policy refused every resolved address.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// DNS resolution failed.
    #[error("resolving upstream: {0}")]
    Resolve(std::io::Error),
    /// Every allowed address refused or failed the connection.
    #[error("connecting to upstream: {0}")]
    Connect(std::io::Error),
    /// Resolution plus connection took longer than `connect_timeout`.
    #[error("upstream did not answer within {0:?}")]
    Timeout(Duration),
    /// A hybrid vsock device did not hand over the guest port.
    #[error("hybrid vsock handshake: {0}")]
    Handshake(#[from] HandshakeError),
}

impl DialError {
    /// The `kind` label of `host_proxy_upstream_errors_total`, or `None` for refusals.
    pub fn upstream_kind(&self) -> Option<&'static str> {
        match self {
            DialError::Refused(_) => None,
            DialError::Resolve(_) => Some("resolve"),
            DialError::Connect(_) => Some("connect"),
            DialError::Timeout(_) => Some("connect_timeout"),
            DialError::Handshake(_) => Some("handshake"),
        }
    }
}

/// How an established connection ended abnormally.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// No byte moved in either direction for the route's idle timeout.
    #[error("idle for {0:?}")]
    Idle(Duration),
    /// A direction held bytes its reader did not take for the route's idle timeout.
    #[error("{0} stalled for {1:?} (its reader takes nothing)")]
    Stalled(&'static str, Duration),
    /// The client sent nothing within the route's first-byte timeout.
    #[error("client sent no byte within {0:?}")]
    FirstByte(Duration),
    /// One direction had ended, and the other moved nothing for the half-close timeout.
    #[error("half-closed and quiet for {0:?}")]
    HalfClosed(Duration),
    /// Reading from or writing to the client failed.
    #[error("client side: {0}")]
    Client(std::io::Error),
    /// Reading from or writing to the upstream failed.
    #[error("upstream side: {0}")]
    Upstream(std::io::Error),
    /// The drain deadline passed during shutdown.
    #[error("cut at the end of the drain period")]
    DrainDeadline,
}

impl TransferError {
    /// The `reason` label of `host_proxy_closed_total`.
    pub fn reason(&self) -> &'static str {
        match self {
            TransferError::Idle(_) => "idle_timeout",
            TransferError::Stalled(..) => "stalled",
            TransferError::FirstByte(_) => "first_byte_timeout",
            TransferError::HalfClosed(_) => "half_close_timeout",
            TransferError::Client(_) => "client_error",
            TransferError::Upstream(_) => "upstream_error",
            TransferError::DrainDeadline => "drain_deadline",
        }
    }
}
