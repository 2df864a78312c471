//! The Nitro boot heartbeat: the enclave tells `nitro-cli run-enclave` that it booted.
//!
//! nitro-cli (1.5.2) listens on vsock port [`HEARTBEAT_PORT`] of the parent ([`PARENT_CID`])
//! before it starts the enclave. The enclave connects, writes the single byte [`HEARTBEAT`],
//! reads a single byte back, which must be [`HEARTBEAT`] too, and closes the connection. An
//! enclave that does not do this is killed by nitro-cli after about 180 s
//! (`EnclaveBootFailure`). AWS's own init does it once, right after setting up the console and
//! loading `nsm.ko`, and exits when it fails; this init does the same.

use std::io::{self, Read, Write};
use std::time::Duration;

use crate::sys;

/// The parent instance's vsock CID, where nitro-cli listens (`VMADDR_CID_PARENT` of nitro-cli).
pub(crate) const PARENT_CID: u32 = 3;
/// The vsock port nitro-cli listens on for the heartbeat.
pub(crate) const HEARTBEAT_PORT: u32 = 9000;
/// The byte sent, and expected back.
pub(crate) const HEARTBEAT: u8 = 0xB7;

// Bounded waits. nitro-cli binds its listener before it starts the enclave, so a healthy
// parent accepts and answers at once; the bounds only turn a wedged parent into a clear error
// instead of a hang. They are generous (the kernel's default vsock connect timeout is only
// 2 s) because software-emulated test boots (qemu without KVM) run everything, the host-side
// listener included, many times slower. Together (90 s at most) they stay below nitro-cli's
// ~180 s, so init reports its own error before nitro-cli gives up on the enclave.
/// How long `connect` may wait for the parent to accept (`SO_VM_SOCKETS_CONNECT_TIMEOUT`).
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the write, and the read of the answer, may each wait (`SO_SNDTIMEO`, `SO_RCVTIMEO`).
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the heartbeat failed. Each one ends the enclave: nitro-cli would kill it anyway.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HeartbeatError {
    /// The connection to the parent could not be made (no vsock, nobody listening, timeout).
    #[error("cannot connect to the parent (vsock {cid}:{port}): {source}")]
    Connect {
        /// The CID connected to.
        cid: u32,
        /// The port connected to.
        port: u32,
        /// The OS error.
        source: io::Error,
    },
    /// The heartbeat byte could not be sent.
    #[error("cannot send {HEARTBEAT:#04X} to the parent: {0}")]
    Write(#[source] io::Error),
    /// Nothing came back before the socket's read timeout.
    #[error("the parent did not answer within the read timeout ({} s)", IO_TIMEOUT.as_secs())]
    NoAnswer(#[source] io::Error),
    /// The parent closed the connection without sending a byte back.
    #[error("the parent closed the connection without answering (EOF)")]
    Closed,
    /// Reading the answer failed otherwise.
    #[error("cannot read the parent's answer: {0}")]
    Read(#[source] io::Error),
    /// The parent answered, but not with the heartbeat byte.
    #[error("the parent answered {0:#04X} instead of {HEARTBEAT:#04X}")]
    WrongByte(u8),
}

/// The heartbeat protocol over any connected stream: write [`HEARTBEAT`], read exactly one byte,
/// require it to be [`HEARTBEAT`]. Closing the stream is the caller's (dropping it). Timeouts are
/// the stream's own (a read that times out fails with `WouldBlock` or `TimedOut`).
pub(crate) fn heartbeat<S: Read + Write>(stream: &mut S) -> Result<(), HeartbeatError> {
    stream
        .write_all(&[HEARTBEAT])
        .and_then(|()| stream.flush())
        .map_err(HeartbeatError::Write)?;
    let mut answer = [0u8; 1];
    stream.read_exact(&mut answer).map_err(read_error)?;
    match answer[0] {
        HEARTBEAT => Ok(()),
        other => Err(HeartbeatError::WrongByte(other)),
    }
}

/// Names a failed read of the answer.
fn read_error(e: io::Error) -> HeartbeatError {
    match e.kind() {
        io::ErrorKind::UnexpectedEof => HeartbeatError::Closed,
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => HeartbeatError::NoAnswer(e),
        _ => HeartbeatError::Read(e),
    }
}

/// Sends the heartbeat to nitro-cli: one attempt (its listener exists before the enclave
/// starts), over a vsock connection closed again on return. Runs only inside the enclave.
pub(crate) fn with_parent() -> Result<(), HeartbeatError> {
    let mut stream = sys::vsock_connect(PARENT_CID, HEARTBEAT_PORT, CONNECT_TIMEOUT, IO_TIMEOUT)
        .map_err(|source| HeartbeatError::Connect {
            cid: PARENT_CID,
            port: HEARTBEAT_PORT,
            source,
        })?;
    heartbeat(&mut stream)
}

#[cfg(test)]
mod tests;
