//! `nitro-parent`: plays nitro-cli's part in an enclave's boot, for the qemu boot tests.
//!
//! `nitro-cli run-enclave` listens on the parent's vsock port 9000 before it starts the enclave;
//! the enclave must connect, send the byte `0xB7` and read it back, or nitro-cli terminates it
//! (`EnclaveBootFailure`). Under qemu's nitro-enclave machine the parent's port 9000 is the Unix
//! socket `UDS_PATH_9000` of vhost-device-vsock (patched so that the host is CID 3). This program
//! binds that socket, waits for one connection, reads exactly one byte, requires `0xB7` and
//! echoes it, all within `--timeout-s`, then prints one JSON line with the verdict and exits
//! 0 when the heartbeat came, 1 when it did not (none, early close, wrong byte), 2 on a usage or
//! set-up error. `--ready-file` is written once the socket is bound, so the boot may start.

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use host_proxy_guest_probe::heartbeat::{self, Verdict};

#[derive(Debug, Parser)]
#[command(about = "Answers an enclave's boot heartbeat as nitro-cli does (qemu boot tests)")]
struct Cli {
    /// The Unix socket on which the guest's connections to the parent's port 9000 arrive.
    #[arg(long)]
    listen: PathBuf,
    /// How long the enclave has, from the start of this program, to complete the heartbeat.
    #[arg(long, default_value_t = 60)]
    timeout_s: u64,
    /// A file written once the socket is bound.
    #[arg(long)]
    ready_file: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let started = Instant::now();
    let listener = match heartbeat::bind(&cli.listen) {
        Ok(l) => l,
        Err(e) => {
            eprintln!(
                "nitro-parent: cannot listen on {}: {e}",
                cli.listen.display()
            );
            return ExitCode::from(2);
        }
    };
    if let Some(ready) = &cli.ready_file
        && let Err(e) = std::fs::write(ready, b"ready\n")
    {
        eprintln!("nitro-parent: cannot write {}: {e}", ready.display());
        return ExitCode::from(2);
    }
    let verdict = heartbeat::answer(&listener, started + Duration::from_secs(cli.timeout_s));
    println!("{}", verdict.to_json(started.elapsed()));
    match verdict {
        Verdict::Received => ExitCode::SUCCESS,
        _ => ExitCode::from(1),
    }
}
