//! The hybrid vsock handshake (`host-proxy/src/hvsock.rs`): the proxy writes `CONNECT <port>\n`
//! to a device it does not trust and reads the device's reply. The input's first 4 bytes are
//! the port, the rest is everything the device sends (its reply, then guest bytes). Checks,
//! against a model of the protocol:
//! - the proxy writes exactly `CONNECT <port>\n`;
//! - the handshake succeeds exactly when the bytes before the first newline are `OK <u32>` and
//!   shorter than the reply bound; nothing is sent: `Closed`; else `BadReply` quoting what was
//!   read (at most the bound);
//! - on success nothing after the newline was consumed (the guest's first bytes stay in the
//!   stream); it never panics.
#![no_main]

use std::sync::OnceLock;

use host_proxy::HandshakeError;
use host_proxy::fuzzing::{HVSOCK_MAX_REPLY, hvsock_handshake};
use libfuzzer_sys::fuzz_target;

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a current-thread runtime")
    })
}

/// What the handshake must conclude from `sent`: `Ok(consumed)` or the reply it quotes
/// (`None`: closed before a byte).
fn model(sent: &[u8]) -> Result<usize, Option<Vec<u8>>> {
    let newline = sent.iter().position(|&b| b == b'\n');
    let read = newline.unwrap_or(sent.len()).min(HVSOCK_MAX_REPLY);
    let reply = &sent[..read];
    if newline.is_none_or(|n| n >= HVSOCK_MAX_REPLY) {
        return Err((!reply.is_empty()).then(|| reply.to_vec()));
    }
    let ok = reply
        .strip_prefix(b"OK ")
        .and_then(|n| std::str::from_utf8(n).ok())
        .is_some_and(|n| n.parse::<u32>().is_ok());
    if ok {
        Ok(read + 1)
    } else {
        Err(Some(reply.to_vec()))
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((port, sent)) = data.split_first_chunk::<4>() else {
        return;
    };
    let port = u32::from_le_bytes(*port);
    let mut stream = tokio::io::join(sent, Vec::new());
    let got = runtime().block_on(hvsock_handshake(&mut stream, port));
    let (unread, written) = stream.into_inner();
    assert_eq!(written, format!("CONNECT {port}\n").into_bytes());
    match (model(sent), got) {
        (Ok(consumed), Ok(())) => assert_eq!(unread, &sent[consumed..]),
        (Err(None), Err(HandshakeError::Closed { port: p })) => assert_eq!(p, port),
        (
            Err(Some(reply)),
            Err(HandshakeError::BadReply {
                port: p,
                reply: quoted,
            }),
        ) => {
            assert_eq!(p, port);
            assert_eq!(quoted, String::from_utf8_lossy(&reply));
        }
        (want, got) => panic!("{sent:?}: expected {want:?}, got {got:?}"),
    }
});
