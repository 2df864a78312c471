//! `probe-upstreams`: the host-side upstreams of the guest probe, on 127.0.0.1 only.
//!
//! - an HTTPS front for a JSON-RPC server (anvil speaks plain HTTP): a fresh test CA, a
//!   leaf for `--name` signed by it, TLS terminated here and the bytes passed on to
//!   `--rpc`. The CA certificate is written to `--ca-out` for the guest to pin. The test
//!   guest has no real-time clock and boots at the Unix epoch, so both certificates are
//!   valid from 1970-01-01;
//! - a hashing sink: reads a length (8 bytes, big-endian) and that many bytes, answers
//!   `BYTES SHA256HEX\n`;
//! - an echo (the duplex check's other end): writes back everything it reads, reading and
//!   writing at the same time, until the end of the stream; then shuts its sending side;
//! - with `--closer-uds PATH`, a closer on that Unix socket (the guest reaches it directly
//!   through the vsock device, `${UDS}_PORT`, not through the proxy): it reads the first
//!   byte the guest sends and closes with the rest unread, so the device's next read of the
//!   stream fails with a reset instead of returning 0.
//!
//! Prints one JSON line on stdout once all listen
//! (`{"rpc_tls":"127.0.0.1:P","sink":…,"echo":…}`), logs each connection on stderr
//! (`probe-upstreams: sink PEER: received BYTES SHA256HEX`,
//! `probe-upstreams: echo PEER: echoed BYTES bytes, sha256 SHA256HEX`,
//! `probe-upstreams: closer: closed on unread bytes`), and runs until killed.
#![forbid(unsafe_code)]
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use clap::Parser;
use host_proxy_guest_probe::{Hasher, echo};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream, UnixListener, UnixStream};
use tokio_rustls::TlsAcceptor;

/// A connection that moves nothing for this long is dropped.
const IDLE: Duration = Duration::from_secs(120);

#[derive(Parser, Debug)]
#[command(version, about = "Host-side upstreams for the guest probe")]
struct Cli {
    /// Plain-HTTP JSON-RPC server behind the HTTPS front (e.g. anvil).
    #[arg(long)]
    rpc: SocketAddr,
    /// Server name in the front's certificate (the guest's upstream URL names it).
    #[arg(long, default_value = "rpc.test")]
    name: String,
    /// Where to write the test CA certificate (PEM) the guest pins.
    #[arg(long)]
    ca_out: PathBuf,
    /// Unix socket of the closer (created here; no closer without it).
    #[arg(long)]
    closer_uds: Option<PathBuf>,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let tls = TlsAcceptor::from(server_config(&cli)?);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async {
            let front = TcpListener::bind("127.0.0.1:0").await?;
            let sink = TcpListener::bind("127.0.0.1:0").await?;
            let echo = TcpListener::bind("127.0.0.1:0").await?;
            let closer = cli.closer_uds.as_deref().map(bind_unix).transpose()?;
            println!(
                "{}",
                serde_json::json!({
                    "rpc_tls": front.local_addr()?.to_string(),
                    "sink": sink.local_addr()?.to_string(),
                    "echo": echo.local_addr()?.to_string(),
                })
            );
            tokio::try_join!(
                serve_front(front, tls, cli.rpc),
                serve_sink(sink),
                serve_echo(echo),
                serve_closer(closer)
            )?;
            Ok(())
        })
}

fn server_config(cli: &Cli) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let epoch = rcgen::date_time_ymd(1970, 1, 1);
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "guest-probe test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.not_before = epoch;
    let ca = CertifiedIssuer::self_signed(ca, KeyPair::generate()?)?;
    std::fs::write(&cli.ca_out, ca.pem())
        .with_context(|| format!("writing {}", cli.ca_out.display()))?;
    let key = KeyPair::generate()?;
    let mut leaf = CertificateParams::new(vec![cli.name.clone()])?;
    leaf.not_before = epoch;
    let leaf = leaf.signed_by(&key, &ca)?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone(), ca.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

async fn serve_front(l: TcpListener, tls: TlsAcceptor, rpc: SocketAddr) -> anyhow::Result<()> {
    loop {
        let (s, peer) = l.accept().await?;
        let tls = tls.clone();
        tokio::spawn(async move {
            match front(s, tls, rpc).await {
                Ok((up, down)) => {
                    eprintln!("probe-upstreams: rpc {peer}: {up} bytes to the server, {down} back")
                }
                Err(e) => eprintln!("probe-upstreams: rpc {peer}: {e:#}"),
            }
        });
    }
}

async fn front(s: TcpStream, tls: TlsAcceptor, rpc: SocketAddr) -> anyhow::Result<(u64, u64)> {
    let mut client = tokio::time::timeout(IDLE, tls.accept(s))
        .await
        .context("TLS handshake timed out")?
        .context("TLS handshake")?;
    let mut server = TcpStream::connect(rpc)
        .await
        .with_context(|| format!("connecting to {rpc}"))?;
    Ok(tokio::io::copy_bidirectional(&mut client, &mut server).await?)
}

async fn serve_sink(l: TcpListener) -> anyhow::Result<()> {
    loop {
        let (s, peer) = l.accept().await?;
        tokio::spawn(async move {
            match sink(s).await {
                Ok(receipt) => eprintln!("probe-upstreams: sink {peer}: received {receipt}"),
                Err(e) => eprintln!("probe-upstreams: sink {peer}: {e:#}"),
            }
        });
    }
}

async fn sink(mut s: TcpStream) -> anyhow::Result<String> {
    let mut len = [0u8; 8];
    tokio::time::timeout(IDLE, s.read_exact(&mut len))
        .await
        .context("idle")?
        .context("reading the length")?;
    let mut left = u64::from_be_bytes(len);
    let mut h = Hasher::default();
    let mut buf = vec![0u8; 256 << 10];
    while left > 0 {
        let want = usize::try_from(left).map_or(buf.len(), |l| l.min(buf.len()));
        let n = tokio::time::timeout(IDLE, s.read(&mut buf[..want]))
            .await
            .context("idle")??;
        if n == 0 {
            break; // short: the receipt says how much arrived
        }
        h.update(&buf[..n]);
        left -= n as u64;
    }
    let receipt = h.finish().to_string();
    s.write_all(format!("{receipt}\n").as_bytes()).await?;
    s.shutdown().await?;
    Ok(receipt)
}

async fn serve_echo(l: TcpListener) -> anyhow::Result<()> {
    loop {
        let (s, peer) = l.accept().await?;
        tokio::spawn(async move {
            match echo(s, IDLE).await {
                Ok(r) => eprintln!(
                    "probe-upstreams: echo {peer}: echoed {} bytes, sha256 {}",
                    r.bytes,
                    r.sha256_hex()
                ),
                Err(e) => eprintln!("probe-upstreams: echo {peer}: {e:#}"),
            }
        });
    }
}

fn bind_unix(path: &Path) -> anyhow::Result<UnixListener> {
    UnixListener::bind(path).with_context(|| format!("binding {}", path.display()))
}

/// Serves the closer, if there is one; otherwise never returns (a branch of the join).
async fn serve_closer(l: Option<UnixListener>) -> anyhow::Result<()> {
    let Some(l) = l else {
        return std::future::pending().await;
    };
    loop {
        let (s, _) = l.accept().await?;
        tokio::spawn(async move {
            match close_on_unread(s).await {
                Ok(()) => eprintln!("probe-upstreams: closer: closed on unread bytes"),
                Err(e) => eprintln!("probe-upstreams: closer: {e:#}"),
            }
        });
    }
}

/// Reads the peer's first byte and drops the stream with the rest of what it sent unread:
/// the kernel then resets the peer's end (its next read fails with ECONNRESET). Waiting for
/// readiness alone is not enough: tokio may report a fresh stream readable before any byte.
async fn close_on_unread(mut s: UnixStream) -> anyhow::Result<()> {
    let mut first = [0u8; 1];
    tokio::time::timeout(IDLE, s.read_exact(&mut first))
        .await
        .context("no byte arrived")?
        .context("reading the first byte")?;
    drop(s);
    Ok(())
}
