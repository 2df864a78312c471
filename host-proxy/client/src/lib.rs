#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]
#![deny(clippy::print_stdout, clippy::print_stderr)]

mod addr;
mod dial;
mod error;
mod tls;
mod transport;

pub use addr::{AddrError, ProxyAddr};
pub use dial::{Dialer, Io};
pub use error::{Error, HttpError, TlsError};
pub use tls::Upstream;
pub use transport::{DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT, ProxyTransport};
