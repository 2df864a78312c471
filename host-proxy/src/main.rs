//! `host-proxy`: run the proxy from a TOML configuration (see README.md).
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, ValueEnum};
use host_proxy::{BusyPoll, Config, Proxy, Timers};
use tokio::signal::unix::{SignalKind, signal};

/// Forward enclave vsock ports to allowlisted upstreams, and host TCP ports to the enclave.
///
/// Exit codes: 0 = stopped cleanly (or `--check` passed), 2 = error (bad configuration, bind failure).
#[derive(Parser, Debug)]
#[command(version)]
struct Cli {
    /// Configuration file (TOML).
    #[arg(short, long, default_value = "/etc/host-proxy/config.toml")]
    config: PathBuf,
    /// Validate the configuration and exit.
    #[arg(long)]
    check: bool,
    /// Runtime threads. 1 (the default) forwards on one thread: the work is mostly in the
    /// kernel, and one thread avoids cross-thread wake-ups on every hop. Its deadlines are
    /// kept on a second thread, so the forwarding thread does no timer work per message.
    #[arg(long, default_value = "1")]
    worker_threads: std::num::NonZeroUsize,
    /// With one runtime thread: after bytes move, keep polling the sockets for this many µs
    /// before sleeping, so a reply that follows soon finds the thread awake instead of waking
    /// it (on a VM, a wake-up onto a halted vCPU costs tens of µs). Costs CPU only while
    /// traffic flows: at most this window per message, at most one CPU. 0 turns it off;
    /// ignored with more than one thread.
    #[arg(long, default_value_t = host_proxy::busy_poll::DEFAULT_WINDOW_US, value_name = "MICROSECONDS")]
    busy_poll_us: u64,
    /// Log line format (filter with RUST_LOG, default `info`).
    #[arg(long, value_enum, default_value_t = LogFormat::Json)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Json,
    Text,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let config = Config::load(&cli.config)
        .with_context(|| format!("configuration {}", cli.config.display()))?;
    if cli.check {
        eprintln!(
            "{}: {} route(s), ok",
            cli.config.display(),
            config.routes.len()
        );
        return Ok(());
    }
    init_logging(cli.log_format);
    // Each connection holds up to 6 descriptors (two sockets, two pipes); use the hard limit.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::info!(nofile = n, "descriptor limit"),
        Err(e) => tracing::warn!(error = %e, "could not raise the descriptor limit"),
    }
    let (rt, timers, busy_poll) = match cli.worker_threads.get() {
        1 => (
            tokio::runtime::Builder::new_current_thread()
                .enable_io()
                .build()?,
            Timers::on_own_thread().context("timer thread")?,
            BusyPoll::new(Duration::from_micros(cli.busy_poll_us)),
        ),
        n => (
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(n)
                .enable_all()
                .build()?,
            Timers::in_serving_runtime(),
            BusyPoll::off(),
        ),
    };
    rt.block_on(async {
        let proxy = Proxy::bind(config)
            .await?
            .with_timers(timers)
            .with_busy_poll(busy_poll);
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        let report = proxy
            .serve(async move {
                tokio::select! {
                    _ = term.recv() => tracing::info!("SIGTERM"),
                    _ = int.recv() => tracing::info!("SIGINT"),
                }
            })
            .await;
        tracing::info!(cut = report.cut, "exit");
        anyhow::Ok(())
    })
}

fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder.init(),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        super::Cli::command().debug_assert();
    }
}
