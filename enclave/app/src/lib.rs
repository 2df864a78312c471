//! `enclave-app`: the matching engine's enclave application.
//!
//! At start it asks the NSM for an attestation document and PCR0/1/2, and serves them with the
//! `STATUS` line protocol (`protocol.rs`). Without a working NSM it does not start: it prints
//! `enclave-app: error: …` and exits with [`status::EXIT_NO_NSM`] (see `status.rs`). With an
//! `engine` section in its configuration it also generates the engine key and the bid key, or
//! receives them from a running replica of its image (`identity.rs`, `handoff.rs`), follows the marketplace through JSON-RPC (`chain/ingest.rs`), relays signed
//! assignment batches (`chain/relay.rs`) and serves the HTTP API (`http.rs`); with a `bridge`
//! section too, it runs the Symbiotic bridge job with the same key (`bridge.rs`). Builds with
//! `danger-dev-nsm` can run on a host with the dev NSM and a plain-HTTP RPC (local simulation);
//! see `enclave/README.md`.
//!
//! This file parses the command line and reports how the run ended ([`main`], which `main.rs`
//! calls: the library exists for the binary and the fuzz targets in `fuzz/`); the wiring is
//! `app.rs`, the console log (`tracing`, one `enclave-app: …` line per event) `log.rs`.
#![forbid(unsafe_code)]

mod admission;
mod app;
mod attest;
mod bridge;
mod chain;
mod config;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod handoff;
mod http;
mod identity;
mod limits;
mod listen;
mod log;
mod nsm;
mod protocol;
mod rpc;
mod service;
mod status;
#[cfg(test)]
mod test_nsm;
mod uploads;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use crate::status::{EXIT_NO_NSM, NsmStartError};

/// Default location of the configuration inside the root file system.
const DEFAULT_CONFIG: &str = "/etc/enclave-app.json";
/// Exit status of a failed start other than [`EXIT_NO_NSM`] (configuration, CA roots,
/// listening) and of an unusable configuration under `--check-config`.
const EXIT_ERROR: u8 = 2;

/// The matching engine's enclave application.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    /// Configuration file (JSON).
    #[arg(long, default_value = DEFAULT_CONFIG)]
    config: PathBuf,
    /// Check the configuration as this build would run it, say what it runs, and exit
    /// (0: usable; 2: not, with the field and the reason). Starts nothing and reads nothing
    /// else, the NSM neither: `ci/build-eif` runs the image's own binary on the image's
    /// configuration, on the build host.
    #[arg(long)]
    check_config: bool,
}

/// The application: parses the command line, runs, and says how the run ended.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(err) = log::init() {
        // The one line written without the subscriber: it is the subscriber that failed.
        #[allow(clippy::print_stderr)]
        {
            eprintln!("enclave-app: error: starting the console log: {err}");
        }
        return ExitCode::from(EXIT_ERROR);
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(err) => {
            tracing::error!("starting the runtime: {err}");
            return ExitCode::from(EXIT_ERROR);
        }
    };
    let result = if cli.check_config {
        app::check_config(&cli.config)
    } else {
        runtime.block_on(app::run(&cli.config))
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{}", error_message(&err));
            ExitCode::from(exit_status(&err))
        }
    }
}

/// What the console says of a failed start (after `enclave-app: error: `).
fn error_message(err: &anyhow::Error) -> String {
    format!("{err:#}")
}

/// The exit status of a failed start: [`EXIT_NO_NSM`] without a working NSM, else
/// [`EXIT_ERROR`].
fn exit_status(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<NsmStartError>().is_some() {
        EXIT_NO_NSM
    } else {
        EXIT_ERROR
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory as _;
        Cli::command().debug_assert();
    }

    #[test]
    fn nsm_failures_have_their_own_exit_status() {
        let refused = anyhow::Error::from(NsmStartError::Attestation(
            nitro_attestation::NsmError::Device("InternalError".into()),
        ));
        assert_eq!(exit_status(&refused), EXIT_NO_NSM);
        assert_eq!(
            error_message(&refused),
            "NSM refused the start-up attestation request: NSM returned error InternalError"
        );
        let other = anyhow::anyhow!("no certificates").context("reading CA roots /x");
        assert_eq!(exit_status(&other), EXIT_ERROR);
        assert_eq!(
            error_message(&other),
            "reading CA roots /x: no certificates"
        );
        assert_ne!(EXIT_NO_NSM, EXIT_ERROR);
    }
}
