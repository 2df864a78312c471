#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub mod contracts;

/// How long a fresh anvil may take to accept connections.
const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Ports tried before giving up (another process may take a free port before anvil binds it).
const START_ATTEMPTS: usize = 5;

/// A port on 127.0.0.1 that nothing listened on a moment ago (bound, then released).
///
/// # Panics
/// When no loopback port can be bound.
#[must_use]
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("binding a loopback port")
        .port()
}

/// A throwaway anvil on 127.0.0.1, killed when dropped.
#[derive(Debug)]
pub struct Anvil {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
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
        for _ in 0..START_ATTEMPTS {
            let port = free_port();
            let child = Command::new("anvil")
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--chain-id", &chain_id.to_string(), "--silent"])
                .args(extra)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("anvil on PATH (source ci/env.sh)");
            let mut anvil = Anvil {
                child,
                url: format!("http://127.0.0.1:{port}"),
                chain_id,
            };
            let started = Instant::now();
            while started.elapsed() < START_TIMEOUT {
                if anvil.child.try_wait().ok().flatten().is_some() {
                    break; // it exited (the port was taken): try another one
                }
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return anvil;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        panic!("anvil did not start on 127.0.0.1 after {START_ATTEMPTS} attempts");
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Forge's output directory: the one in environment variable `var` (set by the ci script that
/// builds the contracts for a test), else `default`.
#[must_use]
pub fn forge_out(var: &str, default: &Path) -> PathBuf {
    std::env::var_os(var).map_or_else(|| default.to_path_buf(), PathBuf::from)
}

/// Creation bytecode of contract `name` (`OUT/NAME.sol/NAME.json`, `bytecode.object`).
///
/// # Panics
/// When the artifact is missing or malformed; `hint` says which command builds it.
#[must_use]
pub fn artifact_bytecode(out: &Path, name: &str, hint: &str) -> Vec<u8> {
    let path = out.join(format!("{name}.sol/{name}.json"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} ({hint})", path.display()));
    let artifact: serde_json::Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|e| panic!("{}: not JSON: {e}", path.display()));
    let object = artifact["bytecode"]["object"]
        .as_str()
        .unwrap_or_else(|| panic!("{}: no bytecode.object", path.display()));
    hex::decode(object.trim_start_matches("0x"))
        .unwrap_or_else(|e| panic!("{}: bytecode is not hex: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_creation_bytecode_and_names_a_missing_artifact() {
        let dir = std::env::temp_dir().join(format!("testkit-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("Box.sol")).unwrap();
        std::fs::write(
            dir.join("Box.sol/Box.json"),
            r#"{"bytecode":{"object":"0x6001600055"}}"#,
        )
        .unwrap();
        assert_eq!(
            artifact_bytecode(&dir, "Box", "build it"),
            vec![0x60, 0x01, 0x60, 0x00, 0x55]
        );
        let missing = std::panic::catch_unwind(|| artifact_bytecode(&dir, "Nope", "run forge"))
            .expect_err("a missing artifact must fail");
        let message = missing.downcast_ref::<String>().unwrap();
        assert!(message.contains("Nope.sol/Nope.json") && message.contains("run forge"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn forge_out_prefers_the_environment() {
        let default = Path::new("/nonexistent/out");
        assert_eq!(
            forge_out("TESTKIT_UNSET_VARIABLE_FOR_TEST", default),
            default
        );
    }
}
