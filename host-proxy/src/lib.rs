#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod addr;
mod admin;
mod config;
mod copy;
mod error;
mod hvsock;
mod metrics;
mod policy;
mod proxy;
mod transport;

pub use addr::{AddrError, Endpoint, VSOCK_CID_ANY};
pub use config::{BUFFER_RANGE, Config, ConfigError, Route};
pub use copy::Transferred;
pub use error::{DialError, Error, Refusal, TransferError};
pub use hvsock::HandshakeError;
pub use metrics::Metrics;
pub use policy::{AddressPolicy, ClientPolicy, is_special_purpose};
pub use proxy::{DrainReport, Proxy};
pub use transport::{Listener, Peer, Stream, dial};
