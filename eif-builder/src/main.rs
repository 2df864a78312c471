//! `eif-builder`: parse, run, map the result to an exit code (0 ok, 1 negative answer, 2 error).
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use eif_builder::ExitStatus;

mod cli;

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(status) => status.into(),
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitStatus::Error.into()
        }
    }
}
