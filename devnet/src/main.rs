//! The devnet program behind `ci/devnet` (see README.md): every step after the enclave image,
//! with the chains, the proxy and the app it starts stopped on every exit path.

mod chain;
mod chaos;
mod enclave;
mod error;
mod load;
mod marketplace;
mod out;
mod private;
mod procs;
mod steps;
mod symbiotic;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The devnet: the whole system on one machine (`ci/devnet` runs it; `--help` there).
#[derive(Debug, Parser)]
#[command(name = "devnet")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// The steps after the enclave image: chains, registry, marketplace, proxy, app, the demo,
    /// the Symbiotic leg. Exit 0 when every step ran, 1 when one failed.
    Run(steps::RunArgs),
    /// Exit 0 when the EIF's measured PCR0/1/2 equal those of a pcr.json, else 1.
    SamePcrs {
        /// The EIF.
        eif: PathBuf,
        /// The pcr.json written with it.
        pcr_json: PathBuf,
    },
    /// Deploys an `EnclaveRegistry` and the marketplace with one market on a running chain (as
    /// its first development account) and prints their addresses and blocks as JSON.
    Marketplace(steps::MarketplaceArgs),
    /// The whole system under a steady load of asks (`ci/bench market`): prints one JSON line
    /// with the offered and sustained rates, latencies in blocks, the engine's cost, gas, and
    /// what limited the run.
    Load(load::LoadArgs),
    /// Faults during a load run (`ci/chaos`): a stalling, failing and lying RPC, the proxy and
    /// the engine killed and restarted, a reorg, a drained relayer; then an accounting from the
    /// chain and the engine's state against a fresh replay. One JSON line; exit 1 when an
    /// invariant fails, naming it.
    Chaos(chaos::ChaosArgs),
}

/// Exit statuses of a signal: 128 + its number, as a shell reports it.
const INTERRUPTED: u8 = 130;
const TERMINATED: u8 = 143;

fn main() -> ExitCode {
    let cli = Cli::parse(); // bad usage: clap prints it and exits 2
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("devnet: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let code = runtime.block_on(async {
        match cli.command {
            Cmd::Run(args) => until_signal(steps::run(args)).await,
            Cmd::SamePcrs { eif, pcr_json } => steps::same_pcrs(&eif, &pcr_json),
            Cmd::Marketplace(args) => until_signal(steps::marketplace(args)).await,
            Cmd::Load(args) => until_signal(load::command(args)).await,
            Cmd::Chaos(args) => until_signal(chaos::command(args)).await,
        }
    });
    ExitCode::from(code)
}

/// Runs `work` until it ends or SIGINT/SIGTERM arrives; either way `work` is dropped before this
/// returns, so the processes it owns are stopped.
async fn until_signal(work: impl std::future::Future<Output = u8>) -> u8 {
    use tokio::signal::unix::{SignalKind, signal};
    let (mut int, mut term) = match (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
    ) {
        (Ok(i), Ok(t)) => (i, t),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("devnet: cannot handle signals: {e}");
            return 1;
        }
    };
    tokio::select! {
        code = work => code,
        _ = int.recv() => {
            eprintln!("\ndevnet: interrupted; stopping everything");
            INTERRUPTED
        }
        _ = term.recv() => {
            eprintln!("\ndevnet: terminated; stopping everything");
            TERMINATED
        }
    }
}
