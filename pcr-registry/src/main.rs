//! `pcr-registry`: see README.md. `main` only maps the result to an exit status.
#![forbid(unsafe_code)]

mod cli;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use pcr_registry::ExitStatus;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match cli::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            // If stderr itself is gone there is nowhere left to report; the exit code still says 2.
            let _ = writeln!(std::io::stderr(), "error: {err:#}");
            ExitStatus::Error.into()
        }
    }
}
