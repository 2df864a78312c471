#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::fs::File;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod contracts;
pub mod faultbox;
pub mod forge;
pub mod http;
pub mod schnorr;

/// How long a fresh anvil may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Ports tried before giving up (another process may take a free port before anvil binds it).
const START_ATTEMPTS: usize = 5;

/// A port on 127.0.0.1 that nothing listened on a moment ago (bound, then released).
///
/// # Errors
/// When no loopback port can be bound.
pub fn try_free_port() -> std::io::Result<u16> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
}

/// [`try_free_port`] for tests.
///
/// # Panics
/// When no loopback port can be bound.
#[must_use]
pub fn free_port() -> u16 {
    try_free_port().expect("binding a loopback port")
}

/// Why an anvil did not start.
#[derive(Debug, thiserror::Error)]
pub enum AnvilError {
    /// `anvil` could not be run, or its log file not created.
    #[error("starting anvil: {0} (anvil is on PATH after `source ci/env.sh`)")]
    Spawn(std::io::Error),
    /// It never accepted connections.
    #[error("anvil did not start on 127.0.0.1 after {START_ATTEMPTS} attempts")]
    NoPort,
    /// It did not come up on the port it was given (taken by another process?).
    #[error("anvil did not start on 127.0.0.1:{0}")]
    PortTaken(u16),
}

/// A throwaway anvil on 127.0.0.1, killed when dropped.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The port it listens on.
    pub port: u16,
    /// The chain id it was started with.
    pub chain_id: u64,
}

impl Anvil {
    /// Starts `anvil --chain-id CHAIN_ID --silent` plus `extra` arguments (e.g. `--timestamp`,
    /// `--hardfork cancun --gas-limit 200000000`) and waits until it accepts connections.
    ///
    /// # Panics
    /// When `anvil` is not on PATH, or does not come up on any of a few ports.
    #[must_use]
    pub fn start(chain_id: u64, extra: &[&str]) -> Anvil {
        Anvil::launch(chain_id, extra, None).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts anvil as [`Anvil::start`] does, logging to `log` when given (else silent), in a
    /// process group of its own (a Ctrl-C at the terminal reaches its owner, which stops it).
    ///
    /// # Errors
    /// [`AnvilError`] when anvil cannot be run or never accepts connections.
    pub fn launch(chain_id: u64, extra: &[&str], log: Option<&Path>) -> Result<Anvil, AnvilError> {
        for _ in 0..START_ATTEMPTS {
            let port = try_free_port().map_err(AnvilError::Spawn)?;
            if let Some(anvil) = Anvil::try_port(port, chain_id, extra, log)? {
                return Ok(anvil);
            }
        }
        Err(AnvilError::NoPort)
    }

    /// As [`Anvil::launch`], on a given port (one that another process was told about).
    ///
    /// # Errors
    /// [`AnvilError::PortTaken`] when anvil does not come up there.
    pub fn launch_on(
        port: u16,
        chain_id: u64,
        extra: &[&str],
        log: Option<&Path>,
    ) -> Result<Anvil, AnvilError> {
        Anvil::try_port(port, chain_id, extra, log)?.ok_or(AnvilError::PortTaken(port))
    }

    /// One attempt on `port`: `None` when anvil exited or did not listen in time.
    fn try_port(
        port: u16,
        chain_id: u64,
        extra: &[&str],
        log: Option<&Path>,
    ) -> Result<Option<Anvil>, AnvilError> {
        let mut cmd = Command::new("anvil");
        cmd.args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--chain-id", &chain_id.to_string()])
            .args(extra)
            .stdin(Stdio::null())
            .process_group(0);
        match log {
            Some(path) => {
                let file = File::create(path).map_err(AnvilError::Spawn)?;
                let err = file.try_clone().map_err(AnvilError::Spawn)?;
                cmd.stdout(file).stderr(err);
            }
            None => {
                cmd.arg("--silent")
                    .stdout(Stdio::null())
                    .stderr(Stdio::null());
            }
        }
        let child = cmd.spawn().map_err(AnvilError::Spawn)?;
        let mut anvil = Anvil {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
            chain_id,
        };
        let started = Instant::now();
        while started.elapsed() < START_TIMEOUT {
            if anvil.child.try_wait().ok().flatten().is_some() {
                return Ok(None); // it exited (the port was taken)
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Ok(Some(anvil));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(None) // dropped: killed
    }

    /// The anvil process's id.
    #[must_use]
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Whether it is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creation bytecode of contract `name` from forge's output ([`forge::out_dir`]).
///
/// # Panics
/// When the artifact is missing or malformed (the message says how to build it).
#[must_use]
pub fn artifact(name: &str) -> Vec<u8> {
    forge::bytecode(&forge::out_dir(), name).unwrap_or_else(|e| panic!("{e}"))
}
