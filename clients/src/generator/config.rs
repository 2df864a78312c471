//! The generator node's configuration file (TOML, or JSON when the name ends in `.json`).

use std::path::{Path, PathBuf};

use alloy::primitives::{Address, U256};
use serde::Deserialize;

use crate::error::{Error, Result};

/// One market the node joins.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarketOffer {
    /// The market id.
    #[serde(deserialize_with = "amount")]
    pub id: U256,
    /// Smallest price accepted (token units).
    #[serde(deserialize_with = "amount")]
    pub cost: U256,
    /// Seconds the node needs per proof.
    pub proposed_time: u32,
    /// Stake deposited into `NativeStaking` for this market before joining (none when absent).
    #[serde(default, deserialize_with = "optional_amount")]
    pub stake: Option<U256>,
    /// The prover enclave's signature for markets with a prover family (hex), else empty.
    #[serde(default)]
    pub enclave_signature: Option<String>,
    /// The prover enclave's `EncryptionKeyBinding` signature of this node's encryption key for
    /// markets with a prover family (hex), else empty.
    #[serde(default)]
    pub encryption_key_signature: Option<String>,
}

/// A number as an integer or a string (decimal, or 0x-hex): token amounts exceed 64 bits.
#[derive(Deserialize)]
#[serde(untagged)]
enum Amount {
    Int(u64),
    Text(String),
}

impl Amount {
    fn value(self) -> std::result::Result<U256, String> {
        match self {
            Amount::Int(n) => Ok(U256::from(n)),
            Amount::Text(t) => match t.strip_prefix("0x") {
                Some(hex) => U256::from_str_radix(hex, 16),
                None => U256::from_str_radix(&t, 10),
            }
            .map_err(|e| format!("{t}: {e}")),
        }
    }
}

fn amount<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<U256, D::Error> {
    Amount::deserialize(d)?
        .value()
        .map_err(serde::de::Error::custom)
}

fn optional_amount<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<U256>, D::Error> {
    Option::<Amount>::deserialize(d)?
        .map(Amount::value)
        .transpose()
        .map_err(serde::de::Error::custom)
}

/// How the node runs its prover.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProverConfig {
    /// A command and its arguments, with `{statement_file}`, `{secret_file}`, `{proof_file}`
    /// placeholders. Exit 0: the proof is in the proof file; exit 3: the inputs are invalid.
    #[serde(default)]
    pub command: Option<Vec<String>>,
    /// An HTTP endpoint taking `POST` JSON `{ask, slot, statement, secret}` and answering
    /// `{"proof": "0x…"}` or `{"invalid_inputs": true}`.
    #[serde(default)]
    pub url: Option<String>,
    /// Seconds the prover may take (also bounded by the slot's deadline).
    #[serde(default = "default_prover_timeout")]
    pub timeout_secs: u64,
}

fn default_prover_timeout() -> u64 {
    600
}

fn default_confirmations() -> u64 {
    2
}

fn default_poll_ms() -> u64 {
    1000
}

/// The whole configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// JSON-RPC URL.
    pub rpc: String,
    /// The `ProofMarketplace`.
    pub marketplace: Address,
    /// File holding the generator's hex private key.
    pub key_file: PathBuf,
    /// Where the journal, the encryption keys and the prover's work files live.
    pub state_dir: PathBuf,
    /// Assignments run at once (registered on chain).
    pub capacity: u32,
    /// Markets to join.
    pub markets: Vec<MarketOffer>,
    /// The prover.
    pub prover: ProverConfig,
    /// The engine's API URL (private asks' off-chain inputs, invalid-inputs signatures).
    #[serde(default)]
    pub engine: Option<String>,
    /// Blocks an assignment must be buried under before the node acts on it.
    #[serde(default = "default_confirmations")]
    pub confirmations: u64,
    /// The first block to scan when the journal is new (the marketplace's creation).
    #[serde(default)]
    pub from_block: u64,
    /// Milliseconds between polls of the chain.
    #[serde(default = "default_poll_ms")]
    pub poll_ms: u64,
}

impl Config {
    /// Reads and checks `path`: JSON when its name ends in `.json`, else TOML. Relative paths in
    /// it are relative to the file's directory.
    ///
    /// # Errors
    /// [`Error::Io`] for an unreadable file, [`Error::Invalid`] for one that does not parse or
    /// holds an inconsistent configuration.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let what = || format!("config {}", path.display());
        let mut config: Config = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(&text).map_err(|e| Error::invalid(what(), e))?
        } else {
            toml::from_str(&text).map_err(|e| Error::invalid(what(), e))?
        };
        let base = path.parent().unwrap_or(Path::new("."));
        config.key_file = base.join(&config.key_file);
        config.state_dir = base.join(&config.state_dir);
        config
            .check()
            .map_err(|reason| Error::invalid(what(), reason))?;
        Ok(config)
    }

    fn check(&self) -> std::result::Result<(), String> {
        if self.capacity == 0 {
            return Err("capacity must be at least 1".into());
        }
        if self.markets.is_empty() {
            return Err("no market to join".into());
        }
        match (&self.prover.command, &self.prover.url) {
            (Some(c), None) if !c.is_empty() => {}
            (None, Some(_)) => {}
            _ => return Err("prover: give exactly one of `command` (non-empty) or `url`".into()),
        }
        if self.prover.timeout_secs == 0 || self.poll_ms == 0 {
            return Err("prover.timeout_secs and poll_ms must be positive".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_toml_and_json_and_names_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let toml_path = dir.path().join("g.toml");
        std::fs::write(
            &toml_path,
            r#"
rpc = "http://127.0.0.1:8545"
marketplace = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
key_file = "key"
state_dir = "state"
capacity = 2
[[markets]]
id = 1
cost = "100"
proposed_time = 60
stake = "0x3e8"
[prover]
command = ["schnorr-prove", "{statement_file}", "{secret_file}", "{proof_file}"]
"#,
        )
        .unwrap();
        let c = Config::load(&toml_path).unwrap();
        assert_eq!(c.markets[0].cost, U256::from(100));
        assert_eq!(c.markets[0].id, U256::from(1));
        assert_eq!(c.markets[0].stake, Some(U256::from(1000)));
        assert_eq!(c.confirmations, 2);
        assert_eq!(c.state_dir, dir.path().join("state"));
        let json_path = dir.path().join("g.json");
        std::fs::write(
            &json_path,
            r#"{"rpc":"x","marketplace":"0x5FbDB2315678afecb367f032d93F642f64180aa3","key_file":"k",
                "state_dir":"s","capacity":1,"markets":[{"id":"1","cost":"0","proposed_time":1}],
                "prover":{"command":["a"],"url":"http://b"}}"#,
        )
        .unwrap();
        let err = Config::load(&json_path).unwrap_err().to_string();
        assert!(err.contains("exactly one of"), "{err}");
    }
}
