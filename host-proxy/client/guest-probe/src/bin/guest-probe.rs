//! `guest-probe`: runs inside a (qemu) enclave guest, reaches upstreams through the host
//! proxy the way the engine does, prints one console line per check, then optionally
//! replaces itself with the real application (`-- /app/enclave-app …`).
//!
//! Checks, each bounded in time:
//! - `rpc`: alloy provider over `ProxyTransport` (HTTPS with the pinned test root):
//!   `eth_chainId` equals `--chain-id`, `eth_blockNumber` answers;
//! - `bulk`: `--bulk-bytes` of a reproducible stream (length first) to a sink upstream
//!   that answers the byte count and SHA-256 it received; both must match what was sent;
//! - `duplex` (with `--duplex-route`): `--duplex-bytes` of a reproducible stream to an echo
//!   upstream while reading it back, both directions at once on one connection; what came
//!   back must hash the same as what was sent, within `--duplex-timeout-s`, and neither
//!   direction may move nothing for `--duplex-idle-s` (a stall is a named failure);
//! - `refused`: a route whose upstream the proxy does not allow: no byte comes back;
//! - `reset` (with `--reset-route`): a host end that closes with the guest's bytes unread:
//!   the guest must see its end of stream (or a reset), not wait on a connection nobody
//!   serves;
//! - `unrouted`: a port with no route: the connection itself fails.
//!
//! Console lines: `guest-probe: ok NAME: …` / `guest-probe: FAIL NAME: …`, then
//! `guest-probe: all N checks passed` or `guest-probe: K of N checks failed`.
#![forbid(unsafe_code)]
// The console is this program's only output.
#![allow(clippy::print_stdout)]

use std::future::Future;
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use alloy_provider::{Provider, ProviderBuilder};
use alloy_rpc_client::ClientBuilder;
use anyhow::{Context as _, anyhow, bail, ensure};
use clap::Parser;
use host_proxy_client::{Dialer, ProxyTransport, Upstream};
use host_proxy_guest_probe::{Hasher, Limits, MAX_WRITE, Pattern, Receipt};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};

/// Seed of the bulk stream (any fixed value; the sink only hashes what arrives).
const SEED: u64 = 0x5eed_0fb0;

#[derive(Parser, Debug)]
#[command(
    version,
    about = "Reach upstreams through the host proxy from inside the guest"
)]
struct Cli {
    /// Proxy route of the JSON-RPC upstream (`vsock:3:PORT`: the parent, on Nitro and under
    /// qemu's nitro-enclave machine).
    #[arg(long)]
    rpc_route: Dialer,
    /// The JSON-RPC upstream as the enclave names it (TLS server name and Host).
    #[arg(long)]
    rpc_url: String,
    /// Pinned root bundle (PEM) the upstream's certificate must chain to.
    #[arg(long)]
    roots: PathBuf,
    /// Chain id the upstream must report.
    #[arg(long)]
    chain_id: u64,
    /// Proxy route of the hashing sink.
    #[arg(long)]
    bulk_route: Dialer,
    /// Bytes sent to the sink.
    #[arg(long, default_value_t = 64 << 20)]
    bulk_bytes: u64,
    /// Proxy route of the echo upstream, for the duplex check (no check without it).
    #[arg(long)]
    duplex_route: Option<Dialer>,
    /// Bytes sent to the echo while as many come back.
    #[arg(long, default_value_t = 64 << 20, requires = "duplex_route")]
    duplex_bytes: u64,
    /// Bound on the whole duplex check, connecting included (seconds).
    #[arg(long, default_value_t = 120, value_parser = clap::value_parser!(u64).range(1..))]
    duplex_timeout_s: u64,
    /// A direction of the duplex check that moves no byte this long has stalled (seconds).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    duplex_idle_s: u64,
    /// A route whose upstream the proxy refuses.
    #[arg(long)]
    refused_route: Dialer,
    /// A port with no route at all.
    #[arg(long)]
    unrouted: Dialer,
    /// A port whose host end closes without reading what the guest sent (no check without it).
    #[arg(long)]
    reset_route: Option<Dialer>,
    /// Program (and arguments) to become after the checks, whatever their outcome.
    #[arg(last = true)]
    then: Vec<String>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    println!(
        "guest-probe: starting (guest clock {} s after the Unix epoch)",
        since_epoch.as_secs()
    );
    let failed = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt.block_on(run(&cli)),
        Err(e) => {
            println!("guest-probe: FAIL runtime: {e}");
            1
        }
    };
    if let Some((program, args)) = cli.then.split_first() {
        println!("guest-probe: exec {program}");
        let _ = std::io::stdout().flush();
        let e = Command::new(program).args(args).exec();
        println!("guest-probe: FAIL exec {program}: {e}");
        return ExitCode::FAILURE;
    }
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// Runs every check; returns how many failed.
async fn run(cli: &Cli) -> usize {
    let mut failed = 0;
    let mut total = 0;
    let mut report = |name: &str, result: anyhow::Result<String>| {
        total += 1;
        match result {
            Ok(detail) => println!("guest-probe: ok {name}: {detail}"),
            Err(e) => {
                failed += 1;
                println!("guest-probe: FAIL {name}: {e:#}");
            }
        }
    };
    report("rpc", bounded(60, rpc(cli)).await);
    report("bulk", bounded(300, bulk(cli)).await);
    if let Some(route) = &cli.duplex_route {
        report("duplex", duplex(cli, route).await);
    }
    report(
        "refused",
        bounded(30, closed_without_a_byte(&cli.refused_route)).await,
    );
    report("unrouted", bounded(30, unrouted(&cli.unrouted)).await);
    if let Some(route) = &cli.reset_route {
        report("reset", bounded(30, closed_without_a_byte(route)).await);
    }
    if failed == 0 {
        println!("guest-probe: all {total} checks passed");
    } else {
        println!("guest-probe: {failed} of {total} checks failed");
    }
    failed
}

async fn bounded<T>(secs: u64, f: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::time::timeout(Duration::from_secs(secs), f)
        .await
        .unwrap_or_else(|_| bail!("no result within {secs} s"))
}

/// JSON-RPC through the alloy transport, exactly as the engine reaches its chain.
async fn rpc(cli: &Cli) -> anyhow::Result<String> {
    let roots = std::fs::read(&cli.roots)
        .with_context(|| format!("reading the pinned roots {}", cli.roots.display()))?;
    let upstream = Upstream::new(&cli.rpc_url, &roots)?;
    let transport = ProxyTransport::new(cli.rpc_route.clone(), upstream);
    let provider =
        ProviderBuilder::new().connect_client(ClientBuilder::default().transport(transport, false));
    let chain_id = provider.get_chain_id().await.context("eth_chainId")?;
    ensure!(
        chain_id == cli.chain_id,
        "eth_chainId {chain_id}, expected {}",
        cli.chain_id
    );
    let block = provider
        .get_block_number()
        .await
        .context("eth_blockNumber")?;
    Ok(format!(
        "eth_chainId={chain_id} eth_blockNumber={block} via {} (TLS to {})",
        cli.rpc_route.addr(),
        cli.rpc_url
    ))
}

/// A large stream to the sink; its receipt must match what was sent.
async fn bulk(cli: &Cli) -> anyhow::Result<String> {
    let started = Instant::now();
    let io = cli.bulk_route.connect().await?;
    let (rd, mut wr) = tokio::io::split(io);
    wr.write_all(&cli.bulk_bytes.to_be_bytes())
        .await
        .context("sending the length")?;
    let mut pattern = Pattern::new(SEED);
    let mut sent = Hasher::default();
    let mut buf = vec![0u8; MAX_WRITE];
    let mut left = cli.bulk_bytes;
    while left > 0 {
        let chunk = pattern.next_chunk(&mut buf, left);
        sent.update(chunk);
        wr.write_all(chunk).await.context("sending to the sink")?;
        left -= chunk.len() as u64;
    }
    wr.flush().await.context("sending to the sink")?;
    let mut line = String::new();
    BufReader::new(rd.take(200))
        .read_line(&mut line)
        .await
        .context("reading the sink's receipt")?;
    let got: Receipt = line.parse()?;
    let want = sent.finish();
    ensure!(got == want, "sink received `{got}`, sent `{want}`");
    let secs = started.elapsed().as_secs_f64();
    Ok(format!(
        "{} bytes via {}, sha256 {} (sink agrees), {:.1} MiB/s",
        want.bytes,
        cli.bulk_route.addr(),
        want.sha256_hex(),
        want.bytes as f64 / (1 << 20) as f64 / secs.max(1e-9)
    ))
}

/// A stream both ways at once through one connection to the echo upstream: the guest's
/// transmit and receive paths full together must not stall (bounded by its own limits).
async fn duplex(cli: &Cli, route: &Dialer) -> anyhow::Result<String> {
    let limits = Limits::new(
        Duration::from_secs(cli.duplex_timeout_s),
        Duration::from_secs(cli.duplex_idle_s),
    );
    let io = tokio::time::timeout_at(limits.deadline(), route.connect())
        .await
        .map_err(|_| anyhow!("timed out: not connected within {} s", cli.duplex_timeout_s))??;
    let r = host_proxy_guest_probe::duplex(io, cli.duplex_bytes, limits).await?;
    Ok(format!(
        "{} bytes each way, sha256 {} both ways, {:.1} s ({:.1} MiB/s each way) via {}",
        r.receipt.bytes,
        r.receipt.sha256_hex(),
        r.elapsed.as_secs_f64(),
        r.mib_per_s(),
        route.addr()
    ))
}

/// A route whose host end drops the connection (the proxy refusing a destination outside
/// its allowlist, or an end that closes on unread bytes): the guest sends a request and
/// must see the connection end, closed or reset, without a byte; waiting forever instead is
/// a failure of the vsock path (bounded by the caller).
async fn closed_without_a_byte(route: &Dialer) -> anyhow::Result<String> {
    let mut io = match route.connect().await {
        Ok(io) => io,
        Err(e) => return Ok(format!("connection refused at once ({e})")),
    };
    // The request may or may not be written before the proxy drops the connection.
    let _ = io.write_all(b"GET / HTTP/1.0\r\n\r\n").await;
    let mut buf = [0u8; 64];
    match io.read(&mut buf).await {
        Ok(0) => Ok(format!("{} closed without a byte", route.addr())),
        Err(e) => Ok(format!("{} reset without a byte ({e})", route.addr())),
        Ok(n) => bail!(
            "{} answered {n} bytes: {:?}",
            route.addr(),
            String::from_utf8_lossy(&buf[..n])
        ),
    }
}

/// A port without a route: nobody listens, the connection fails.
async fn unrouted(route: &Dialer) -> anyhow::Result<String> {
    match route.connect().await {
        Err(e) => Ok(format!("{e:#}")),
        Ok(mut io) => {
            // Some vsock back-ends accept first and reset afterwards: then no byte may come.
            let mut buf = [0u8; 64];
            match io.read(&mut buf).await {
                Ok(0) | Err(_) => Ok(format!("{} accepted, then closed", route.addr())),
                Ok(n) => bail!("{} answered {n} bytes", route.addr()),
            }
        }
    }
}
