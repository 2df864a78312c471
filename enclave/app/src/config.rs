//! The application's configuration file (JSON, in the root file system).
//!
//! Everything in the file is measured with the image (PCR2), so it is **trusted**: the chain
//! id, the marketplace and registry addresses, the start block, and how the chain is
//! followed. What the file names but cannot vouch for, the RPC endpoint, is reached through the
//! untrusted host proxy with TLS ending inside the enclave; see `enclave/README.md`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use alloy::primitives::Address;
use serde::Deserialize;

use crate::listen::ListenAddr;

/// What `/etc/enclave-app.json` holds.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// vsock port of the `STATUS` line protocol (any CID).
    pub(crate) vsock_port: u32,
    /// PEM bundle of the CA roots the enclave trusts for TLS.
    pub(crate) ca_roots: PathBuf,
    /// Where the `STATUS` protocol listens instead of `vsock:any:<vsock_port>` (local runs:
    /// `unix:PATH` or `tcp:IP:PORT`).
    #[serde(default)]
    pub(crate) status_listen: Option<String>,
    /// The matching engine; absent: the application only answers `STATUS`.
    #[serde(default)]
    pub(crate) engine: Option<EngineConfig>,
    /// Local simulation only (builds with `danger-dev-nsm`): the PCR0/1/2 the dev NSM reports.
    #[serde(default)]
    pub(crate) dev_nsm_pcrs: Option<DevPcrs>,
}

/// PCR0/1/2 as hex (the `pcr.json` shape of `ci/build-eif`; other keys are ignored).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct DevPcrs {
    #[serde(rename = "PCR0")]
    pub(crate) pcr0: String,
    #[serde(rename = "PCR1")]
    pub(crate) pcr1: String,
    #[serde(rename = "PCR2")]
    pub(crate) pcr2: String,
}

fn default_confirmations() -> u64 {
    2
}
fn default_reorg_window() -> usize {
    64
}
fn default_max_block_range() -> u64 {
    500
}
fn default_poll_interval_ms() -> u64 {
    1000
}
fn default_batch_size() -> usize {
    50
}
fn default_batch_validity_s() -> u64 {
    300
}
fn default_expiry_margin_s() -> u64 {
    30
}

/// The matching engine's parameters.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EngineConfig {
    /// Chain id (trusted: the EIP-712 domain of every batch).
    pub(crate) chain_id: u64,
    /// The `ProofMarketplace` (trusted: whose events are state, and the EIP-712 domain).
    pub(crate) marketplace: Address,
    /// The `EnclaveRegistry` (trusted: where the engine key's liveness is read).
    pub(crate) registry: Address,
    /// The marketplace's deployment block: where a (re)start replays from.
    pub(crate) start_block: u64,
    /// Blocks below the head that are ingested.
    #[serde(default = "default_confirmations")]
    pub(crate) confirmations: u64,
    /// Blocks kept reversible; a deeper reorg rebuilds from `start_block`.
    #[serde(default = "default_reorg_window")]
    pub(crate) reorg_window: usize,
    /// Most blocks read per poll.
    #[serde(default = "default_max_block_range")]
    pub(crate) max_block_range: u64,
    /// Pause between polls once caught up.
    #[serde(default = "default_poll_interval_ms")]
    pub(crate) poll_interval_ms: u64,
    /// Most assignments per signed batch.
    #[serde(default = "default_batch_size")]
    pub(crate) batch_size: usize,
    /// Seconds a signed batch stays valid (`validUntil = block time + this`).
    #[serde(default = "default_batch_validity_s")]
    pub(crate) batch_validity_s: u64,
    /// Seconds before an ask's expiry at which the engine stops proposing for it.
    #[serde(default = "default_expiry_margin_s")]
    pub(crate) expiry_margin_s: u64,
    /// Where the HTTP API listens (`vsock:any:PORT`, or `unix:PATH` / `tcp:IP:PORT` locally).
    pub(crate) http_listen: String,
    /// The JSON-RPC endpoint.
    pub(crate) rpc: RpcConfig,
}

/// How JSON-RPC is reached.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RpcConfig {
    /// The host proxy's enclave-facing address (`vsock:3:PORT`, or `unix:`/`tcp:` locally).
    /// Absent: `url` is called directly over plain HTTP (local simulation builds only).
    #[serde(default)]
    pub(crate) proxy: Option<String>,
    /// The upstream: `https://…` through the proxy (TLS ends here), `http://…` when direct.
    pub(crate) url: String,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read the file: {0}")]
    Read(#[from] std::io::Error),
    /// The file is not valid configuration JSON.
    #[error("invalid configuration: {0}")]
    Parse(#[from] serde_json::Error),
    /// Port 0 would let the kernel pick a port nobody knows.
    #[error("vsock_port must not be 0")]
    ZeroPort,
    /// A listen or proxy address does not parse.
    #[error("{field}: {detail}")]
    Address {
        /// The field.
        field: &'static str,
        /// Why.
        detail: String,
    },
    /// A numeric setting is out of range.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
}

impl Config {
    pub(crate) fn parse(bytes: &[u8]) -> Result<Self, ConfigError> {
        let config: Config = serde_json::from_slice(bytes)?;
        if config.vsock_port == 0 {
            return Err(ConfigError::ZeroPort);
        }
        config.status_listen()?;
        if let Some(engine) = &config.engine {
            ListenAddr::from_str(&engine.http_listen).map_err(|e| ConfigError::Address {
                field: "engine.http_listen",
                detail: e.to_string(),
            })?;
            if let Some(proxy) = &engine.rpc.proxy {
                host_proxy_client::ProxyAddr::from_str(proxy).map_err(|e| {
                    ConfigError::Address {
                        field: "engine.rpc.proxy",
                        detail: e.to_string(),
                    }
                })?;
            }
            for (name, value) in [
                ("engine.max_block_range", engine.max_block_range),
                ("engine.poll_interval_ms", engine.poll_interval_ms),
                ("engine.batch_size", engine.batch_size as u64),
                ("engine.batch_validity_s", engine.batch_validity_s),
            ] {
                if value == 0 {
                    return Err(ConfigError::Zero(name));
                }
            }
        }
        Ok(config)
    }

    pub(crate) fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::parse(&std::fs::read(path)?)
    }

    /// Where `STATUS` is served.
    pub(crate) fn status_listen(&self) -> Result<ListenAddr, ConfigError> {
        match &self.status_listen {
            None => Ok(ListenAddr::Vsock {
                port: self.vsock_port,
            }),
            Some(s) => ListenAddr::from_str(s).map_err(|e| ConfigError::Address {
                field: "status_listen",
                detail: e.to_string(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_shipped_configuration() {
        let shipped = include_bytes!("../rootfs/etc/enclave-app.json");
        let config = Config::parse(shipped).unwrap();
        assert_eq!(config.vsock_port, 5005);
        assert_eq!(
            config.ca_roots,
            PathBuf::from("/etc/ssl/certs/ca-certificates.crt")
        );
        assert_eq!(
            config.status_listen().unwrap(),
            ListenAddr::Vsock { port: 5005 }
        );
        assert!(config.engine.is_none());
    }

    #[test]
    fn rejects_unknown_fields_port_zero_and_junk() {
        let unknown = br#"{"vsock_port": 1, "ca_roots": "/x", "tls": false}"#;
        assert!(matches!(Config::parse(unknown), Err(ConfigError::Parse(_))));
        let zero = br#"{"vsock_port": 0, "ca_roots": "/x"}"#;
        assert!(matches!(Config::parse(zero), Err(ConfigError::ZeroPort)));
        assert!(matches!(
            Config::parse(b"vsock_port=1"),
            Err(ConfigError::Parse(_))
        ));
        let too_big = br#"{"vsock_port": 4294967296, "ca_roots": "/x"}"#;
        assert!(matches!(Config::parse(too_big), Err(ConfigError::Parse(_))));
    }

    fn engine_json(http: &str, proxy: &str, batch: u64) -> Vec<u8> {
        format!(
            r#"{{"vsock_port": 5005, "ca_roots": "/x", "engine": {{
                "chain_id": 31337,
                "marketplace": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                "registry": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
                "start_block": 0, "batch_size": {batch},
                "http_listen": "{http}",
                "rpc": {{"proxy": "{proxy}", "url": "https://rpc.example:443/v1"}}}}}}"#
        )
        .into_bytes()
    }

    #[test]
    fn parses_an_engine_section_with_defaults() {
        let c = Config::parse(&engine_json("vsock:any:5006", "vsock:3:8545", 50)).unwrap();
        let e = c.engine.unwrap();
        assert_eq!(e.chain_id, 31337);
        assert_eq!(e.confirmations, 2);
        assert_eq!(e.reorg_window, 64);
        assert_eq!(e.batch_validity_s, 300);
        assert_eq!(e.rpc.proxy.as_deref(), Some("vsock:3:8545"));
    }

    #[test]
    fn rejects_bad_addresses_and_zero_settings() {
        for (http, proxy, field) in [
            ("http://x", "vsock:3:8545", "engine.http_listen"),
            ("vsock:any:5006", "vsock:any:8545", "engine.rpc.proxy"),
            ("tcp:localhost:1", "vsock:3:1", "engine.http_listen"),
        ] {
            match Config::parse(&engine_json(http, proxy, 1)) {
                Err(ConfigError::Address { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{http} {proxy}: {other:?}"),
            }
        }
        assert!(matches!(
            Config::parse(&engine_json("vsock:any:1", "vsock:3:1", 0)),
            Err(ConfigError::Zero("engine.batch_size"))
        ));
    }
}
