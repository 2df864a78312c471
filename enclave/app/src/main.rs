//! `enclave-app`: the minimal enclave application (until the matching engine takes its place).
//!
//! At start it asks the NSM for an attestation document (through the [`Nsm`] trait of
//! `nitro-attestation`), then listens on a vsock port and answers each `STATUS` request with one
//! JSON line: whether the NSM is present and, when it is, the document in base64. Protocol in
//! `protocol.rs` and in the enclave README.
#![forbid(unsafe_code)]

mod config;
mod protocol;
mod status;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use nitro_attestation::nsm::{Nsm, NsmDevice};

use crate::config::Config;
use crate::status::Status;

/// Default location of the configuration inside the root file system.
const DEFAULT_CONFIG: &str = "/etc/enclave-app.json";
/// A client that does not send its request within this time is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("enclave-app: error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn config_path() -> anyhow::Result<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    match (args.next(), args.next(), args.next()) {
        (None, ..) => Ok(PathBuf::from(DEFAULT_CONFIG)),
        (Some(flag), Some(path), None) if flag == "--config" => Ok(PathBuf::from(path)),
        _ => anyhow::bail!("usage: enclave-app [--config PATH] (default {DEFAULT_CONFIG})"),
    }
}

fn run() -> anyhow::Result<()> {
    let path = config_path()?;
    let config = Config::load(&path).with_context(|| format!("loading {}", path.display()))?;
    eprintln!(
        "enclave-app {} starting (config {})",
        env!("CARGO_PKG_VERSION"),
        path.display()
    );

    let ca_roots = status::count_certificates(&config.ca_roots)
        .with_context(|| format!("reading CA roots {}", config.ca_roots.display()))?;
    let nsm = NsmDevice::open();
    let status = Status::collect(nsm.as_ref().map(|device| device as &dyn Nsm), ca_roots);
    eprintln!("enclave-app: {}", status.summary());

    let listener =
        vsock::VsockListener::bind_with_cid_port(vsock::VMADDR_CID_ANY, config.vsock_port)
            .with_context(|| format!("listening on vsock port {}", config.vsock_port))?;
    eprintln!("enclave-app: listening on vsock port {}", config.vsock_port);
    let answer = status.to_json_line();
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(err) => {
                // Transient (descriptor exhaustion, aborted connection): log and keep serving.
                eprintln!("enclave-app: accept failed: {err}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let served = stream
            .set_read_timeout(Some(CLIENT_TIMEOUT))
            .and_then(|()| stream.set_write_timeout(Some(CLIENT_TIMEOUT)))
            .map_err(protocol::ServeError::Io)
            .and_then(|()| protocol::serve(&stream, &answer));
        match served {
            Ok(request) => eprintln!("enclave-app: answered {request:?} from {peer}"),
            Err(err) => eprintln!("enclave-app: client {peer}: {err}"),
        }
    }
}
