//! Hybrid vsock: the host side of a guest's vsock ports as Firecracker and
//! vhost-device-vsock expose them. The host connects to one Unix socket, writes
//! `CONNECT <port>\n`, and the device answers `OK <host port>\n` once the guest accepted;
//! from then on the Unix stream is the guest connection. (Guest-initiated connections go
//! the other way, to the Unix socket `<path>_<port>`, which a plain `unix:` listener serves.)
//!
//! The reply is read one byte at a time so that nothing the guest sends right after it is
//! consumed here. Time is bounded by the caller (the route's `connect_timeout`).

use std::io;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// Longest reply accepted (`OK 4294967295\n` is 14 bytes): a reply of `MAX_REPLY` bytes or
/// more without its newline is a [`HandshakeError::BadReply`].
pub(crate) const MAX_REPLY: usize = 64;

/// Why the hybrid vsock handshake failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// The device closed the connection without answering: nothing listens on that
    /// guest port (or the guest is not running).
    #[error("closed before answering CONNECT {port} (does the guest listen on that port?)")]
    Closed {
        /// The guest port asked for.
        port: u32,
    },
    /// The device answered something other than `OK <number>`.
    #[error("answered {reply:?} to CONNECT {port}, expected `OK <port>`")]
    BadReply {
        /// The guest port asked for.
        port: u32,
        /// The reply, up to its newline (or its first bytes when too long).
        reply: String,
    },
    /// Writing the request or reading the reply failed.
    #[error("CONNECT {port}: {source}")]
    Io {
        /// The guest port asked for.
        port: u32,
        /// The socket error.
        source: io::Error,
    },
}

/// Asks the device behind `stream` (the device's Unix socket; any byte stream in the fuzz
/// target) for the guest's `port`. On success the stream carries the guest connection,
/// positioned just after the device's reply.
pub(crate) async fn handshake<S>(stream: &mut S, port: u32) -> Result<(), HandshakeError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let io = |source| HandshakeError::Io { port, source };
    stream
        .write_all(format!("CONNECT {port}\n").as_bytes())
        .await
        .map_err(io)?;
    let mut reply = Vec::with_capacity(16);
    loop {
        let mut byte = [0u8; 1];
        if stream.read(&mut byte).await.map_err(io)? == 0 {
            return Err(if reply.is_empty() {
                HandshakeError::Closed { port }
            } else {
                bad_reply(port, &reply)
            });
        }
        if byte[0] == b'\n' {
            break;
        }
        reply.push(byte[0]);
        if reply.len() >= MAX_REPLY {
            return Err(bad_reply(port, &reply));
        }
    }
    let ok = reply
        .strip_prefix(b"OK ")
        .and_then(|n| std::str::from_utf8(n).ok())
        .is_some_and(|n| n.parse::<u32>().is_ok());
    if ok {
        Ok(())
    } else {
        Err(bad_reply(port, &reply))
    }
}

fn bad_reply(port: u32, reply: &[u8]) -> HandshakeError {
    HandshakeError::BadReply {
        port,
        reply: String::from_utf8_lossy(reply).into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::UnixListener;

    use crate::addr::Endpoint;
    use crate::error::DialError;
    use crate::policy::AddressPolicy;
    use crate::transport::dial;

    use super::HandshakeError;

    const BOUND: Duration = Duration::from_secs(10);

    /// A fake device: accepts one connection, checks the request line, then runs `then`.
    async fn fake_device<F, Fut>(
        then: F,
    ) -> (tempfile::TempDir, Endpoint, tokio::task::JoinHandle<()>)
    where
        F: FnOnce(tokio::net::UnixStream) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send,
    {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("vsock.sock");
        let listener = UnixListener::bind(&path).expect("bind");
        let task = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.expect("accept");
            let mut request = [0u8; 13];
            s.read_exact(&mut request).await.expect("request line");
            assert_eq!(&request, b"CONNECT 5005\n");
            then(s).await;
        });
        let ep = Endpoint::HybridVsock { path, port: 5005 };
        (dir, ep, task)
    }

    async fn dial_it(ep: &Endpoint, timeout: Duration) -> Result<crate::Stream, DialError> {
        tokio::time::timeout(BOUND, dial(ep, &AddressPolicy::PublicOnly, timeout))
            .await
            .expect("dial is bounded")
    }

    #[tokio::test]
    async fn connects_and_keeps_the_bytes_that_follow_the_reply() {
        let (_dir, ep, device) = fake_device(|mut s| async move {
            // The reply and the guest's first bytes in one segment: none may be lost.
            s.write_all(b"OK 1073741824\nfrom guest")
                .await
                .expect("reply");
            let mut got = [0u8; 9];
            s.read_exact(&mut got).await.expect("to guest");
            assert_eq!(&got, b"from host");
        })
        .await;
        let mut s = dial_it(&ep, BOUND).await.expect("handshake accepted");
        let mut got = [0u8; 10];
        s.read_exact(&mut got).await.expect("guest bytes");
        assert_eq!(&got, b"from guest");
        s.write_all(b"from host").await.expect("write");
        device.await.expect("device side");
    }

    #[tokio::test]
    async fn names_a_refused_port_a_bad_reply_and_an_overlong_reply() {
        let (_dir, ep, device) = fake_device(|s| async move { drop(s) }).await;
        let e = dial_it(&ep, BOUND).await.expect_err("closed");
        assert!(
            matches!(
                e,
                DialError::Handshake(HandshakeError::Closed { port: 5005 })
            ),
            "{e:?}"
        );
        assert_eq!(e.upstream_kind(), Some("handshake"));
        device.await.expect("device");

        for (reply, shown) in [
            (&b"ERR connection refused\n"[..], "ERR connection refused"),
            (b"OK\n", "OK"),
            (b"OK 12x\n", "OK 12x"),
            (b"OK 1", "OK 1"), // closed before the newline
        ] {
            let (_dir, ep, device) = fake_device(move |mut s| async move {
                s.write_all(reply).await.expect("reply");
            })
            .await;
            let e = dial_it(&ep, BOUND).await.expect_err("bad reply");
            match &e {
                DialError::Handshake(HandshakeError::BadReply { port: 5005, reply }) => {
                    assert_eq!(reply, shown);
                }
                other => panic!("{shown}: {other:?}"),
            }
            assert!(e.to_string().contains("expected `OK <port>`"), "{e}");
            device.await.expect("device");
        }

        let (_dir, ep, device) = fake_device(|mut s| async move {
            // No newline ever: the reader stops at its bound instead of buffering forever.
            let _ = s.write_all(&[b'O'; 4096]).await;
        })
        .await;
        let e = dial_it(&ep, BOUND).await.expect_err("too long");
        assert!(
            matches!(&e, DialError::Handshake(HandshakeError::BadReply { reply, .. }) if reply.len() == super::MAX_REPLY),
            "{e:?}"
        );
        device.await.expect("device");
    }

    #[tokio::test]
    async fn a_silent_device_times_out_and_a_missing_socket_is_a_connect_error() {
        let (_dir, ep, device) = fake_device(|s| async move {
            tokio::time::sleep(BOUND).await;
            drop(s);
        })
        .await;
        let e = dial_it(&ep, Duration::from_millis(200))
            .await
            .expect_err("silent");
        assert!(matches!(e, DialError::Timeout(_)), "{e:?}");
        assert_eq!(e.upstream_kind(), Some("connect_timeout"));
        device.abort();

        let dir = tempfile::tempdir().expect("tempdir");
        let ep = Endpoint::HybridVsock {
            path: dir.path().join("absent.sock"),
            port: 5005,
        };
        let e = dial_it(&ep, BOUND).await.expect_err("no socket");
        assert!(matches!(e, DialError::Connect(_)), "{e:?}");
    }
}
