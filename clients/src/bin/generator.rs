//! `generator run --config FILE [--metrics 127.0.0.1:PORT]`: the generator node.
#![allow(clippy::print_stdout)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use market_client::generator::config::Config;
use market_client::generator::metrics::{self, Metrics};

#[derive(Parser)]
#[command(
    name = "generator",
    about = "A proof generator node of the ProofMarketplace"
)]
struct Cli {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Subcommand)]
enum Verb {
    /// Register, join, and prove the assignments made to this node until interrupted.
    Run {
        /// The configuration (TOML, or JSON for a `.json` name).
        #[arg(long)]
        config: PathBuf,
        /// Serve Prometheus metrics here (e.g. 127.0.0.1:9100).
        #[arg(long)]
        metrics: Option<SocketAddr>,
    },
}

async fn run(config: PathBuf, metrics_addr: Option<SocketAddr>) -> market_client::Result<()> {
    let config = Config::load(&config)?;
    let metrics = Arc::new(Metrics::default());
    let _server = match metrics_addr {
        Some(addr) => Some(metrics::serve(addr, metrics.clone()).await?),
        None => None,
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    market_client::generator::run(config, metrics, shutdown).await
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let Cli {
        verb: Verb::Run { config, metrics },
    } = Cli::parse();
    match run(config, metrics).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("generator: {e}");
            ExitCode::from(1)
        }
    }
}
