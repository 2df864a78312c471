//! Endpoint addresses: `vsock:CID:PORT`, `unix:PATH`, `tcp:HOST:PORT` and `hvsock:PATH:PORT`,
//! parsed by `transport-addr` (the one parser shared with the enclave side).
//!
//! One syntax names both sides of every route, so the same configuration (and the
//! same proxy code) runs over vsock in production and over Unix or TCP sockets in
//! tests.

pub use transport_addr::{AddrError, Endpoint, VSOCK_CID_ANY};
