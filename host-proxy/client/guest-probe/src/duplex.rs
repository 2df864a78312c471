//! The duplex check: one connection carrying a stream in both directions at once.
//!
//! The guest writes a reproducible stream ([`Pattern`], seed [`DUPLEX_SEED`]) to an echo
//! upstream while it reads the echo back, hashing both, so that its transmit and receive
//! paths are full at the same time. It exists for the enclave kernel's virtio-vsock
//! transport: upstream Linux stops processing the receive queue while too many replies
//! are queued for transmission, which can deadlock parent and enclave once both transmit
//! queues fill; our kernel removes that pushback, and this check shows that a guest
//! streaming both ways at once does not stall.
//!
//! Nothing here waits without bound: every read and write of the socket has an idle
//! timeout ([`Limits::idle`]), and the whole check a deadline ([`Limits::total`]); a stall
//! is a named [`DuplexError`], not a hang.
//!
//! [`echo`] is the other end (the host's `probe-upstreams` serves it): it reads and
//! writes concurrently, through a bounded buffer, until the client closes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

use crate::{Hasher, Pattern, Receipt};

/// Largest single write to the proxy. Linux 6.12 sends a vsock payload above 32 KiB as a
/// non-linear buffer split over several descriptors, which vhost-device-vsock 0.3.0
/// (virtio-vsock 0.10) rejects; at most 32 KiB per write keeps every packet in one
/// descriptor.
pub const MAX_WRITE: usize = 32 << 10;

/// Seed of the duplex stream (any fixed value: the echo returns whatever arrives).
pub const DUPLEX_SEED: u64 = 0xd0b1_e5ee_d0fb_0001;

/// Read buffer of the receiving direction (reads are not limited like writes).
const READ_BUF: usize = 256 << 10;

/// Bytes the echo holds between reading and writing; when its writing lags this far,
/// it stops reading, so back-pressure reaches the sender.
const ECHO_PIPE: usize = 1 << 20;

/// How long the duplex check may take.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// When the clock started (before connecting, if the caller bounds that too).
    pub started: Instant,
    /// The whole check must be over this long after `started`.
    pub total: Duration,
    /// A direction that moves no byte for this long has stalled.
    pub idle: Duration,
}

impl Limits {
    /// Limits whose clock starts now.
    pub fn new(total: Duration, idle: Duration) -> Self {
        Self {
            started: Instant::now(),
            total,
            idle,
        }
    }

    /// When the check must be over.
    pub fn deadline(&self) -> tokio::time::Instant {
        tokio::time::Instant::from_std(self.started + self.total)
    }
}

/// A passed duplex check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DuplexReport {
    /// What was sent (and, the check having passed, received back).
    pub receipt: Receipt,
    /// From [`Limits::started`] until the last byte came back.
    pub elapsed: Duration,
}

impl DuplexReport {
    /// Throughput in each direction, MiB/s.
    pub fn mib_per_s(&self) -> f64 {
        self.receipt.bytes as f64 / f64::from(1u32 << 20) / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why the duplex check failed. Every variant says how far each direction got.
#[derive(Debug, thiserror::Error)]
pub enum DuplexError {
    /// Nothing came back for [`Limits::idle`].
    #[error(
        "stalled: nothing received for {} s, {received} of {bytes} bytes back ({sent} sent)",
        idle.as_secs_f64()
    )]
    ReceiveStalled {
        /// The idle timeout.
        idle: Duration,
        /// Bytes the check sends each way.
        bytes: u64,
        /// Bytes sent so far.
        sent: u64,
        /// Bytes received so far.
        received: u64,
    },
    /// No byte could be sent for [`Limits::idle`].
    #[error(
        "stalled: nothing could be sent for {} s, {sent} of {bytes} bytes sent ({received} back)",
        idle.as_secs_f64()
    )]
    SendStalled {
        /// The idle timeout.
        idle: Duration,
        /// Bytes the check sends each way.
        bytes: u64,
        /// Bytes sent so far.
        sent: u64,
        /// Bytes received so far.
        received: u64,
    },
    /// Both directions kept moving, but not fast enough to finish within [`Limits::total`].
    #[error(
        "timed out: not done within {} s, {sent} of {bytes} bytes sent, {received} back",
        total.as_secs_f64()
    )]
    TimedOut {
        /// The bound on the whole check.
        total: Duration,
        /// Bytes the check sends each way.
        bytes: u64,
        /// Bytes sent so far.
        sent: u64,
        /// Bytes received so far.
        received: u64,
    },
    /// The echo closed the stream before everything came back.
    #[error("short: the stream ended after {received} of {bytes} bytes back ({sent} sent)")]
    Short {
        /// Bytes the check sends each way.
        bytes: u64,
        /// Bytes sent so far.
        sent: u64,
        /// Bytes received before the end of the stream.
        received: u64,
    },
    /// Everything came back, but not as sent.
    #[error("mismatch: sent `{sent}`, received `{received}`")]
    Mismatch {
        /// Byte count and SHA-256 sent.
        sent: Receipt,
        /// Byte count and SHA-256 received.
        received: Receipt,
    },
    /// Writing failed.
    #[error("sending, {sent} of {bytes} bytes sent ({received} back): {source}")]
    Send {
        /// Bytes the check sends each way.
        bytes: u64,
        /// Bytes sent so far.
        sent: u64,
        /// Bytes received so far.
        received: u64,
        /// The error.
        source: std::io::Error,
    },
    /// Reading failed.
    #[error("receiving, {received} of {bytes} bytes back ({sent} sent): {source}")]
    Receive {
        /// Bytes the check sends each way.
        bytes: u64,
        /// Bytes sent so far.
        sent: u64,
        /// Bytes received so far.
        received: u64,
        /// The error.
        source: std::io::Error,
    },
}

impl DuplexError {
    /// Whether this is a stall or the deadline (rather than an error or wrong data).
    pub fn is_stall(&self) -> bool {
        matches!(
            self,
            Self::ReceiveStalled { .. } | Self::SendStalled { .. } | Self::TimedOut { .. }
        )
    }
}

/// How far each direction got (shared by the two directions of one check).
#[derive(Debug, Default)]
struct Progress {
    bytes: u64,
    sent: AtomicU64,
    received: AtomicU64,
}

impl Progress {
    fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }

    fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }
}

/// Sends `bytes` of the duplex stream through `io` while reading as many back, both at
/// once, within `limits`; passes when what came back is exactly what was sent. Then
/// shuts the sending side down (best effort: vhost-device-vsock ignores a guest's
/// half-close) and drops the connection.
pub async fn duplex<S: AsyncRead + AsyncWrite>(
    io: S,
    bytes: u64,
    limits: Limits,
) -> Result<DuplexReport, DuplexError> {
    let (mut rd, mut wr) = tokio::io::split(io);
    let p = Progress {
        bytes,
        ..Progress::default()
    };
    let both = async {
        tokio::try_join!(
            send(&mut wr, limits.idle, &p),
            receive(&mut rd, limits.idle, &p)
        )
    };
    let (sent, received) = match tokio::time::timeout_at(limits.deadline(), both).await {
        Ok(r) => r?,
        Err(_) => {
            return Err(DuplexError::TimedOut {
                total: limits.total,
                bytes,
                sent: p.sent(),
                received: p.received(),
            });
        }
    };
    let elapsed = limits.started.elapsed();
    let _ = tokio::time::timeout(limits.idle.min(Duration::from_secs(1)), wr.shutdown()).await;
    if sent != received {
        return Err(DuplexError::Mismatch { sent, received });
    }
    Ok(DuplexReport {
        receipt: sent,
        elapsed,
    })
}

/// The sending direction: the pattern, at most [`MAX_WRITE`] per write.
async fn send<W: AsyncWrite + Unpin>(
    wr: &mut W,
    idle: Duration,
    p: &Progress,
) -> Result<Receipt, DuplexError> {
    let send_err = |source| DuplexError::Send {
        bytes: p.bytes,
        sent: p.sent(),
        received: p.received(),
        source,
    };
    let stalled = || DuplexError::SendStalled {
        idle,
        bytes: p.bytes,
        sent: p.sent(),
        received: p.received(),
    };
    let mut pattern = Pattern::new(DUPLEX_SEED);
    let mut hasher = Hasher::default();
    let mut buf = vec![0u8; MAX_WRITE];
    let mut left = p.bytes;
    while left > 0 {
        let chunk = pattern.next_chunk(&mut buf, left);
        hasher.update(chunk);
        let mut off = 0;
        while off < chunk.len() {
            let n = tokio::time::timeout(idle, wr.write(&chunk[off..]))
                .await
                .map_err(|_| stalled())?
                .map_err(send_err)?;
            if n == 0 {
                return Err(send_err(std::io::ErrorKind::WriteZero.into()));
            }
            off += n;
            p.sent.fetch_add(n as u64, Ordering::Relaxed);
        }
        left -= chunk.len() as u64;
    }
    tokio::time::timeout(idle, wr.flush())
        .await
        .map_err(|_| stalled())?
        .map_err(send_err)?;
    Ok(hasher.finish())
}

/// The receiving direction: exactly as many bytes as are sent.
async fn receive<R: AsyncRead + Unpin>(
    rd: &mut R,
    idle: Duration,
    p: &Progress,
) -> Result<Receipt, DuplexError> {
    let mut hasher = Hasher::default();
    let mut buf = vec![0u8; READ_BUF];
    let mut left = p.bytes;
    while left > 0 {
        let want = usize::try_from(left).map_or(READ_BUF, |l| l.min(READ_BUF));
        let n = match tokio::time::timeout(idle, rd.read(&mut buf[..want])).await {
            Err(_) => {
                return Err(DuplexError::ReceiveStalled {
                    idle,
                    bytes: p.bytes,
                    sent: p.sent(),
                    received: p.received(),
                });
            }
            Ok(Err(source)) => {
                return Err(DuplexError::Receive {
                    bytes: p.bytes,
                    sent: p.sent(),
                    received: p.received(),
                    source,
                });
            }
            Ok(Ok(0)) => {
                return Err(DuplexError::Short {
                    bytes: p.bytes,
                    sent: p.sent(),
                    received: p.received(),
                });
            }
            Ok(Ok(n)) => n,
        };
        hasher.update(&buf[..n]);
        left -= n as u64;
        p.received.fetch_add(n as u64, Ordering::Relaxed);
    }
    Ok(hasher.finish())
}

/// The echo upstream: writes back everything it reads until the end of the stream, then
/// shuts its sending side down. Reading and writing run concurrently, through a bounded
/// buffer ([`ECHO_PIPE`]), so both directions of the connection are full at once. Either
/// direction moving no byte for `idle` ends the connection with an error. Returns the
/// byte count and SHA-256 of what it echoed.
pub async fn echo<S: AsyncRead + AsyncWrite>(io: S, idle: Duration) -> anyhow::Result<Receipt> {
    let (mut rd, mut wr) = tokio::io::split(io);
    let (mut pipe_rd, mut pipe_wr) = tokio::io::simplex(ECHO_PIPE);
    let received = AtomicU64::new(0);
    let echoed = AtomicU64::new(0);
    let inbound = async {
        let mut hasher = Hasher::default();
        let mut buf = vec![0u8; READ_BUF];
        loop {
            let n = tokio::time::timeout(idle, rd.read(&mut buf))
                .await
                .map_err(|_| {
                    anyhow::anyhow!("stalled: nothing received for {} s", idle.as_secs_f64())
                })?
                .context("receiving")?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            received.fetch_add(n as u64, Ordering::Relaxed);
            // Waits while the sending side lags by a full pipe; that side's own idle
            // timeout bounds the wait.
            pipe_wr.write_all(&buf[..n]).await?;
        }
        pipe_wr.shutdown().await?;
        anyhow::Ok(hasher.finish())
    };
    let outbound = async {
        let mut buf = vec![0u8; READ_BUF];
        loop {
            let n = pipe_rd.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            tokio::time::timeout(idle, wr.write_all(&buf[..n]))
                .await
                .map_err(|_| {
                    anyhow::anyhow!(
                        "stalled: nothing could be sent for {} s",
                        idle.as_secs_f64()
                    )
                })?
                .context("sending")?;
            echoed.fetch_add(n as u64, Ordering::Relaxed);
        }
        // Everything is written; a peer that has already closed may refuse the FIN.
        let _ = tokio::time::timeout(idle, wr.shutdown()).await;
        anyhow::Ok(())
    };
    let (receipt, ()) = tokio::try_join!(inbound, outbound).with_context(|| {
        format!(
            "{} bytes received, {} echoed",
            received.load(Ordering::Relaxed),
            echoed.load(Ordering::Relaxed)
        )
    })?;
    Ok(receipt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::{TcpListener, TcpStream, UnixStream};

    /// Every test is bounded, whatever the code under test does.
    async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(60), f)
            .await
            .expect("test did not finish within 60 s")
    }

    fn pattern_receipt(bytes: u64) -> Receipt {
        let mut data = vec![0u8; usize::try_from(bytes).unwrap().next_multiple_of(8)];
        Pattern::new(DUPLEX_SEED).fill(&mut data);
        let mut h = Hasher::default();
        // The stream is filled MAX_WRITE at a time; whole words, so chunking does not matter.
        h.update(&data[..usize::try_from(bytes).unwrap()]);
        h.finish()
    }

    /// Over TCP on 127.0.0.1 with the real echo: far more than the socket buffers hold, so
    /// a client that wrote everything before reading would deadlock.
    #[tokio::test]
    async fn passes_through_the_echo_over_tcp() {
        bounded(async {
            let bytes = (16 << 20) + 12_345; // not a whole number of chunks or words
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(async move {
                let (s, _) = listener.accept().await.unwrap();
                echo(s, Duration::from_secs(10)).await
            });
            let client = TcpStream::connect(addr).await.unwrap();
            let limits = Limits::new(Duration::from_secs(30), Duration::from_secs(10));
            let report = duplex(client, bytes, limits).await.unwrap();
            assert_eq!(report.receipt, pattern_receipt(bytes));
            assert!(report.elapsed < Duration::from_secs(30));
            let echoed = server.await.unwrap().unwrap();
            assert_eq!(echoed, report.receipt, "the echo saw what was sent");
        })
        .await;
    }

    #[tokio::test]
    async fn passes_through_the_echo_over_a_unix_pair() {
        bounded(async {
            let bytes = 8 << 20;
            let (client, server) = UnixStream::pair().unwrap();
            let server = tokio::spawn(echo(server, Duration::from_secs(10)));
            let limits = Limits::new(Duration::from_secs(30), Duration::from_secs(10));
            let report = duplex(client, bytes, limits).await.unwrap();
            assert_eq!(report.receipt.bytes, bytes);
            assert_eq!(report.receipt, pattern_receipt(bytes));
            assert_eq!(server.await.unwrap().unwrap(), report.receipt);
        })
        .await;
    }

    /// An echo that writes back the first `keep` bytes, then neither reads nor writes
    /// (but keeps the connection open).
    async fn stalling_echo(mut s: UnixStream, keep: usize) {
        let mut buf = vec![0u8; keep];
        s.read_exact(&mut buf).await.unwrap();
        s.write_all(&buf).await.unwrap();
        tokio::time::sleep(Duration::from_secs(3600)).await;
        drop(s);
    }

    #[tokio::test]
    async fn an_echo_that_stops_halfway_is_a_named_stall_within_the_idle_bound() {
        bounded(async {
            let (client, server) = UnixStream::pair().unwrap();
            tokio::spawn(stalling_echo(server, 1 << 20));
            let idle = Duration::from_millis(300);
            let limits = Limits::new(Duration::from_secs(30), idle);
            let err = duplex(client, 8 << 20, limits).await.unwrap_err();
            let elapsed = limits.started.elapsed();
            assert!(
                matches!(
                    err,
                    DuplexError::ReceiveStalled { received, .. }
                        | DuplexError::SendStalled { received, .. }
                        if received <= 1 << 20
                ),
                "{err}"
            );
            assert!(err.is_stall());
            assert!(err.to_string().starts_with("stalled: "), "{err}");
            assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
        })
        .await;
    }

    #[tokio::test]
    async fn the_deadline_bounds_a_stall_even_when_the_idle_timeout_is_longer() {
        bounded(async {
            let (client, server) = UnixStream::pair().unwrap();
            tokio::spawn(stalling_echo(server, 1 << 20));
            let limits = Limits::new(Duration::from_millis(500), Duration::from_secs(3600));
            let err = duplex(client, 8 << 20, limits).await.unwrap_err();
            let elapsed = limits.started.elapsed();
            assert!(
                matches!(err, DuplexError::TimedOut { received, .. } if received <= 1 << 20),
                "{err}"
            );
            assert!(err.is_stall());
            assert!(err.to_string().starts_with("timed out: "), "{err}");
            assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
        })
        .await;
    }

    #[tokio::test]
    async fn an_echo_that_closes_early_is_short() {
        bounded(async {
            let bytes = 64 << 10; // fits the socket buffers: sending completes
            let (client, mut server) = UnixStream::pair().unwrap();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 << 10];
                server.read_exact(&mut buf).await.unwrap();
                server.write_all(&buf[..1000]).await.unwrap();
            });
            let limits = Limits::new(Duration::from_secs(10), Duration::from_secs(5));
            let err = duplex(client, bytes, limits).await.unwrap_err();
            assert!(
                matches!(err, DuplexError::Short { received: 1000, .. }),
                "{err}"
            );
            assert!(!err.is_stall());
            assert!(err.to_string().starts_with("short: "), "{err}");
        })
        .await;
    }

    #[tokio::test]
    async fn an_echo_that_changes_a_byte_is_a_mismatch() {
        bounded(async {
            let bytes = 64 << 10;
            let (client, mut server) = UnixStream::pair().unwrap();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 << 10];
                server.read_exact(&mut buf).await.unwrap();
                buf[40_000] ^= 1;
                server.write_all(&buf).await.unwrap();
                tokio::time::sleep(Duration::from_secs(3600)).await;
            });
            let limits = Limits::new(Duration::from_secs(10), Duration::from_secs(5));
            let err = duplex(client, bytes, limits).await.unwrap_err();
            assert!(
                matches!(err, DuplexError::Mismatch { sent, received }
                    if sent.bytes == bytes && received.bytes == bytes && sent != received),
                "{err}"
            );
            assert!(err.to_string().starts_with("mismatch: "), "{err}");
        })
        .await;
    }

    /// A client that sends everything before reading (the echo holds it meanwhile) gets it
    /// all back, and its close ends the echo, which reports what it echoed.
    #[tokio::test]
    async fn the_echo_ends_on_the_clients_close_and_reports_what_it_echoed() {
        bounded(async {
            let (mut client, server) = UnixStream::pair().unwrap();
            let server = tokio::spawn(echo(server, Duration::from_secs(10)));
            let data: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
            client.write_all(&data).await.unwrap();
            client.shutdown().await.unwrap();
            let mut back = Vec::new();
            client.read_to_end(&mut back).await.unwrap();
            assert_eq!(back, data);
            let mut h = Hasher::default();
            h.update(&data);
            assert_eq!(server.await.unwrap().unwrap(), h.finish());
        })
        .await;
    }

    #[tokio::test]
    async fn the_echo_gives_up_on_an_idle_client() {
        bounded(async {
            let (_client, server) = UnixStream::pair().unwrap();
            let started = Instant::now();
            let err = echo(server, Duration::from_millis(200)).await.unwrap_err();
            assert!(
                format!("{err:#}").contains("stalled: nothing received"),
                "{err:#}"
            );
            assert!(started.elapsed() < Duration::from_secs(5));
        })
        .await;
    }
}
