//! Forge's build output and scripts. Every consumer reads the one output that `ci/lib/common.sh`'s
//! `forge_build` writes (`contracts/out`, forge's default); `FOUNDRY_OUT`, forge's own variable,
//! points elsewhere when set (relative paths are relative to `contracts/`, as for forge).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The Foundry project: `contracts/` of this repository.
#[must_use]
pub fn contracts_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../contracts")
}

/// Forge's output directory: `$FOUNDRY_OUT`, else `contracts/out`.
#[must_use]
pub fn out_dir() -> PathBuf {
    match std::env::var_os("FOUNDRY_OUT") {
        Some(out) => contracts_dir().join(out), // `join` keeps an absolute path as it is
        None => contracts_dir().join("out"),
    }
}

/// Why forge's output or a forge script could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ForgeError {
    /// An artifact is missing or unreadable.
    #[error("{path}: {source} (build the contracts: ci/lib/common.sh forge_build)")]
    Read {
        /// The artifact.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An artifact or a deployment file is not what forge writes.
    #[error("{path}: {reason}")]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `forge` could not be started.
    #[error("forge: {0} (on PATH after `source ci/env.sh`)")]
    Spawn(std::io::Error),
    /// A script ran and failed; its output is in `log`.
    #[error("{script} failed:\n{log}")]
    Script {
        /// The script.
        script: String,
        /// The tail of its standard output and error.
        log: String,
    },
}

/// Creation bytecode of contract `name` (`OUT/NAME.sol/NAME.json`, `bytecode.object`).
///
/// # Errors
/// [`ForgeError::Read`] for a missing artifact, [`ForgeError::Malformed`] for one that holds no
/// deployable bytecode (e.g. unlinked libraries).
pub fn bytecode(out: &Path, name: &str) -> Result<Vec<u8>, ForgeError> {
    let path = out.join(format!("{name}.sol/{name}.json"));
    let malformed = |reason: String| ForgeError::Malformed {
        path: path.clone(),
        reason,
    };
    let bytes = std::fs::read(&path).map_err(|source| ForgeError::Read {
        path: path.clone(),
        source,
    })?;
    let artifact: Value =
        serde_json::from_slice(&bytes).map_err(|e| malformed(format!("not JSON: {e}")))?;
    let object = artifact["bytecode"]["object"]
        .as_str()
        .ok_or_else(|| malformed("no bytecode.object".into()))?;
    let code = hex::decode(object.trim_start_matches("0x"))
        .map_err(|e| malformed(format!("bytecode is not hex (unlinked?): {e}")))?;
    if code.is_empty() {
        return Err(malformed(
            "empty bytecode (an interface or abstract contract)".into(),
        ));
    }
    Ok(code)
}

/// A forge script to broadcast as one key against one node.
#[derive(Debug)]
pub struct Script<'a> {
    /// `script/NAME.s.sol[:Contract]`, relative to `contracts/`.
    pub script: &'a str,
    /// The node's JSON-RPC URL.
    pub rpc_url: &'a str,
    /// The sender's private key (hex).
    pub private_key: &'a str,
    /// Where the broadcast records go (not into `contracts/broadcast`).
    pub broadcast_dir: &'a Path,
    /// Environment the script reads (`vm.env…`).
    pub env: Vec<(&'a str, String)>,
    /// `--slow`: each transaction mined before the next is sent.
    pub slow: bool,
}

impl Script<'_> {
    /// Runs the script and returns the JSON it wrote as `deployments/FILE` (the script writes
    /// the name in `DEPLOYMENT_FILE`; the file is moved to `keep` when given, else removed).
    ///
    /// # Errors
    /// [`ForgeError`] when forge cannot run, the script fails, or writes no JSON.
    pub fn deploy(&self, file: &str, keep: Option<&Path>) -> Result<Value, ForgeError> {
        let mut cmd = Command::new("forge");
        cmd.current_dir(contracts_dir())
            .args(["script", self.script, "--rpc-url", self.rpc_url])
            .args(["--broadcast", "-q"])
            .args(["--private-key", self.private_key])
            .env("FOUNDRY_OUT", out_dir())
            .env("FOUNDRY_BROADCAST", self.broadcast_dir)
            .env("DEPLOYMENT_FILE", file);
        if self.slow {
            cmd.arg("--slow");
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().map_err(ForgeError::Spawn)?;
        if !out.status.success() {
            let log = [out.stdout, out.stderr].concat();
            let log = String::from_utf8_lossy(&log);
            let tail: Vec<&str> = log.lines().rev().take(30).collect();
            return Err(ForgeError::Script {
                script: self.script.into(),
                log: tail.into_iter().rev().collect::<Vec<_>>().join("\n"),
            });
        }
        let path = contracts_dir().join("deployments").join(file);
        let read = std::fs::read(&path).map_err(|source| ForgeError::Read {
            path: path.clone(),
            source,
        })?;
        let value = serde_json::from_slice(&read).map_err(|e| ForgeError::Malformed {
            path: path.clone(),
            reason: format!("not JSON: {e}"),
        })?;
        let moved = match keep {
            Some(dest) => std::fs::rename(&path, dest),
            None => std::fs::remove_file(&path),
        };
        moved.map_err(|source| ForgeError::Read { path, source })?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_creation_bytecode_and_names_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, body: &str| {
            std::fs::create_dir_all(dir.path().join(format!("{name}.sol"))).unwrap();
            std::fs::write(dir.path().join(format!("{name}.sol/{name}.json")), body).unwrap();
        };
        write("Box", r#"{"bytecode":{"object":"0x6001600055"}}"#);
        write("Iface", r#"{"bytecode":{"object":"0x"}}"#);
        write("Linked", r#"{"bytecode":{"object":"0x60__$abc$__"}}"#);
        assert_eq!(
            bytecode(dir.path(), "Box").unwrap(),
            vec![0x60, 0x01, 0x60, 0x00, 0x55]
        );
        assert!(matches!(
            bytecode(dir.path(), "Nope"),
            Err(ForgeError::Read { path, .. }) if path.ends_with("Nope.sol/Nope.json")
        ));
        assert!(matches!(
            bytecode(dir.path(), "Iface"),
            Err(ForgeError::Malformed { .. })
        ));
        assert!(matches!(
            bytecode(dir.path(), "Linked"),
            Err(ForgeError::Malformed { .. })
        ));
    }
}
