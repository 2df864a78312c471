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
    /// The Symbiotic bridge job (needs `engine`: it signs with the engine key, pays gas with
    /// the relayer and reaches L2 through the engine's RPC); absent: no bridge.
    #[serde(default)]
    pub(crate) bridge: Option<BridgeConfig>,
    /// Local simulation only (builds with `danger-dev-nsm`): the PCR0/1/2 the dev NSM reports.
    #[serde(default)]
    pub(crate) dev_nsm_pcrs: Option<DevPcrs>,
    /// Local simulation only: how long each dev NSM attestation takes (milliseconds), to
    /// model a slow NSM.
    #[serde(default)]
    pub(crate) dev_nsm_delay_ms: Option<u64>,
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

fn default_bridge_interval_s() -> u64 {
    12
}
fn default_rpc_timeout_s() -> u64 {
    30
}
fn default_max_future_skew_s() -> u64 {
    15
}

/// The Symbiotic bridge job between Ethereum (L1) and the marketplace chain (the engine's chain).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BridgeConfig {
    /// The L1 chain.
    pub(crate) l1: L1Config,
    /// The L1 `NetworkMiddleware` (trusted: where stake is read and slashes go).
    pub(crate) middleware: Address,
    /// The L2 `SymbioticStakingModule` (trusted: where snapshots go, slash records come from).
    pub(crate) staking_module: Address,
    /// The job's tuning (`symbiotic_bridge::Settings`; missing fields take its defaults).
    #[serde(default)]
    pub(crate) settings: symbiotic_bridge::Settings,
    /// Seconds between rounds.
    #[serde(default = "default_bridge_interval_s")]
    pub(crate) interval_s: u64,
    /// Seconds one RPC call may take.
    #[serde(default = "default_rpc_timeout_s")]
    pub(crate) rpc_timeout_s: u64,
    /// Seconds a block's timestamp may be ahead of the enclave's clock.
    #[serde(default = "default_max_future_skew_s")]
    pub(crate) max_future_skew_s: u64,
}

/// The L1 chain of the bridge.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct L1Config {
    /// Chain id (trusted: checked against every endpoint, and the middleware's EIP-712 domain).
    pub(crate) chain_id: u64,
    /// Read endpoints (at least one); every one must agree on the blocks the job relies on, so
    /// independent providers make a lying one visible. The first also sends transactions.
    pub(crate) rpc: Vec<RpcConfig>,
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
    /// A setting this build cannot run (dev-only settings in the image's build).
    #[error("{field}: {why}")]
    NotInThisBuild {
        /// The field.
        field: &'static str,
        /// Why.
        why: &'static str,
    },
    /// A numeric setting is out of range.
    #[error("{0} must be at least 1")]
    Zero(&'static str),
    /// The bridge section cannot be used as written.
    #[error("bridge: {0}")]
    Bridge(#[from] BridgeConfigError),
}

/// Why the `bridge` section cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum BridgeConfigError {
    /// The bridge signs with the engine key and reaches L2 through the engine's RPC.
    #[error("a bridge section needs an engine section")]
    NoEngine,
    /// No L1 endpoint.
    #[error("l1.rpc lists no endpoint")]
    NoEndpoint,
    /// L1 and L2 must be different chains (snapshots are signed for L2, slashes for L1).
    #[error("l1.chain_id {0} is the engine's chain id")]
    SameChain(u64),
    /// A contract address is zero.
    #[error("{0} is the zero address")]
    ZeroAddress(&'static str),
}

/// Where an RPC route sits in the file: the field names its errors carry.
#[derive(Debug, Clone, Copy)]
struct RpcFields {
    proxy: &'static str,
    url: &'static str,
}

/// `engine.rpc`.
const ENGINE_RPC: RpcFields = RpcFields {
    proxy: "engine.rpc.proxy",
    url: "engine.rpc.url",
};
/// Each entry of `bridge.l1.rpc`.
const L1_RPC: RpcFields = RpcFields {
    proxy: "bridge.l1.rpc.proxy",
    url: "bridge.l1.rpc.url",
};

impl RpcConfig {
    /// Through the proxy, the URL must be one that TLS can end inside the enclave for.
    fn validate(&self, fields: RpcFields) -> Result<(), ConfigError> {
        if let Some(proxy) = &self.proxy {
            host_proxy_client::ProxyAddr::from_str(proxy).map_err(|e| ConfigError::Address {
                field: fields.proxy,
                detail: e.to_string(),
            })?;
            host_proxy_client::Upstream::check_url(&self.url).map_err(|e| {
                ConfigError::Address {
                    field: fields.url,
                    detail: e.to_string(),
                }
            })?;
        }
        Ok(())
    }

    fn check_build(&self, fields: RpcFields, build: Build) -> Result<(), ConfigError> {
        if self.proxy.is_none() && build == Build::Image {
            return Err(ConfigError::NotInThisBuild {
                field: fields.proxy,
                why: "required in the image's build, which reaches JSON-RPC only through the \
                      host proxy with TLS ending inside (without it: plain HTTP from the host)",
            });
        }
        Ok(())
    }
}

/// Which build reads the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Build {
    /// The image's: the NSM device, JSON-RPC only through the host proxy.
    Image,
    /// A host build with `danger-dev-nsm` (local simulation): the dev NSM and plain-HTTP
    /// JSON-RPC are allowed too.
    LocalSimulation,
}

impl Build {
    /// The build this binary is.
    pub(crate) const CURRENT: Build = if cfg!(feature = "danger-dev-nsm") {
        Build::LocalSimulation
    } else {
        Build::Image
    };
}

impl BridgeConfig {
    fn validate(&self, engine: Option<&EngineConfig>) -> Result<(), ConfigError> {
        let engine = engine.ok_or(BridgeConfigError::NoEngine)?;
        if self.l1.rpc.is_empty() {
            return Err(BridgeConfigError::NoEndpoint.into());
        }
        if self.l1.chain_id == engine.chain_id {
            return Err(BridgeConfigError::SameChain(self.l1.chain_id).into());
        }
        for (name, address) in [
            ("bridge.middleware", self.middleware),
            ("bridge.staking_module", self.staking_module),
        ] {
            if address == Address::ZERO {
                return Err(BridgeConfigError::ZeroAddress(name).into());
            }
        }
        for rpc in &self.l1.rpc {
            rpc.validate(L1_RPC)?;
        }
        for (name, value) in [
            ("bridge.interval_s", self.interval_s),
            ("bridge.rpc_timeout_s", self.rpc_timeout_s),
            (
                "bridge.settings.stakes_per_chunk",
                self.settings.stakes_per_chunk as u64,
            ),
            ("bridge.settings.log_range", self.settings.log_range),
        ] {
            if value == 0 {
                return Err(ConfigError::Zero(name));
            }
        }
        Ok(())
    }
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
            engine.rpc.validate(ENGINE_RPC)?;
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
        if let Some(bridge) = &config.bridge {
            bridge.validate(config.engine.as_ref())?;
        }
        Ok(config)
    }

    pub(crate) fn load(path: &Path) -> Result<Self, ConfigError> {
        Self::parse(&std::fs::read(path)?)
    }

    /// Whether `build` can run this configuration: the image's build has no dev NSM and
    /// reaches every JSON-RPC endpoint through the host proxy.
    pub(crate) fn check_build(&self, build: Build) -> Result<(), ConfigError> {
        if self.dev_nsm_pcrs.is_some() && build == Build::Image {
            return Err(ConfigError::NotInThisBuild {
                field: "dev_nsm_pcrs",
                why: "not in the image's build: the dev NSM exists only in local-simulation \
                      builds (danger-dev-nsm)",
            });
        }
        if self.dev_nsm_delay_ms.is_some() && build == Build::Image {
            return Err(ConfigError::NotInThisBuild {
                field: "dev_nsm_delay_ms",
                why: "not in the image's build: the dev NSM exists only in local-simulation \
                      builds (danger-dev-nsm)",
            });
        }
        if let Some(engine) = &self.engine {
            engine.rpc.check_build(ENGINE_RPC, build)?;
        }
        if let Some(bridge) = &self.bridge {
            for rpc in &bridge.l1.rpc {
                rpc.check_build(L1_RPC, build)?;
            }
        }
        Ok(())
    }

    /// One line on what the configuration runs (for `--check-config` and the start log).
    pub(crate) fn summary(&self) -> String {
        let status = match self.status_listen() {
            Ok(addr) => addr.to_string(),
            Err(_) => "?".to_owned(),
        };
        let mut out = format!("STATUS on {status}");
        match &self.engine {
            None => out.push_str("; no engine (STATUS only)"),
            Some(e) => out.push_str(&format!(
                "; engine on chain {} (marketplace {}, registry {}, from block {}), HTTP API on {}",
                e.chain_id, e.marketplace, e.registry, e.start_block, e.http_listen
            )),
        }
        if let Some(b) = &self.bridge {
            out.push_str(&format!(
                "; bridge to L1 chain {} (middleware {}, {} endpoint(s))",
                b.l1.chain_id,
                b.middleware,
                b.l1.rpc.len()
            ));
        }
        if self.dev_nsm_pcrs.is_some() {
            out.push_str("; DEV NSM");
        }
        if let Some(ms) = self.dev_nsm_delay_ms {
            out.push_str(&format!(" ({ms} ms per attestation)"));
        }
        out
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
        assert!(config.bridge.is_none());
        config.check_build(Build::Image).unwrap();
        assert_eq!(
            config.summary(),
            "STATUS on vsock:any:5005; no engine (STATUS only)"
        );
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

    #[test]
    fn behind_the_proxy_the_url_must_be_https() {
        let plain = String::from_utf8(engine_json("vsock:any:5006", "vsock:3:8545", 1))
            .unwrap()
            .replace("https://rpc.example:443/v1", "http://rpc.example/v1");
        match Config::parse(plain.as_bytes()) {
            Err(ConfigError::Address { field, .. }) => assert_eq!(field, "engine.rpc.url"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_image_build_refuses_what_only_a_local_simulation_has() {
        let direct = String::from_utf8(engine_json("tcp:127.0.0.1:8080", "vsock:3:8545", 1))
            .unwrap()
            .replace(r#""proxy": "vsock:3:8545", "#, "")
            .replace("https://rpc.example:443/v1", "http://127.0.0.1:8545");
        let dev = r#"{"vsock_port": 5005, "ca_roots": "/x",
            "dev_nsm_pcrs": {"PCR0": "00", "PCR1": "00", "PCR2": "00"}}"#;
        let slow = r#"{"vsock_port": 5005, "ca_roots": "/x", "dev_nsm_delay_ms": 200}"#;
        let l1_direct = bridge_json(
            true,
            &bridge_section(17000, r#"[{"url": "http://127.0.0.1:8546"}]"#, ""),
        );
        for (json, field) in [
            (direct.as_bytes(), "engine.rpc.proxy"),
            (dev.as_bytes(), "dev_nsm_pcrs"),
            (slow.as_bytes(), "dev_nsm_delay_ms"),
            (l1_direct.as_slice(), "bridge.l1.rpc.proxy"),
        ] {
            let config = Config::parse(json).unwrap();
            config.check_build(Build::LocalSimulation).unwrap();
            match config.check_build(Build::Image) {
                Err(ConfigError::NotInThisBuild { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let engine = Config::parse(&engine_json("vsock:any:5006", "vsock:3:8545", 1)).unwrap();
        engine.check_build(Build::Image).unwrap();
        assert_eq!(
            engine.summary(),
            "STATUS on vsock:any:5005; engine on chain 31337 \
             (marketplace 0x5FbDB2315678afecb367f032d93F642f64180aa3, \
             registry 0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512, from block 0), \
             HTTP API on vsock:any:5006"
        );
    }

    fn bridge_json(engine: bool, bridge: &str) -> Vec<u8> {
        let engine = if engine {
            r#""engine": {"chain_id": 31337,
                "marketplace": "0x5FbDB2315678afecb367f032d93F642f64180aa3",
                "registry": "0xe7f1725E7734CE288F8367e1Bb143E90bb3F0512",
                "start_block": 0, "http_listen": "vsock:any:5006",
                "rpc": {"proxy": "vsock:3:8545", "url": "https://l2.example/"}},"#
        } else {
            ""
        };
        format!(r#"{{"vsock_port": 5005, "ca_roots": "/x", {engine} "bridge": {bridge}}}"#)
            .into_bytes()
    }

    const MIDDLEWARE: &str = "0x9fE46736679d2D9a65F0992F2272dE9f3c7fa6e0";
    const MODULE: &str = "0xCf7Ed3AccA5a147d26D7C8b7ec8C5e4E5fC2F5c4";

    fn bridge_section(chain_id: u64, rpc: &str, extra: &str) -> String {
        format!(
            r#"{{"l1": {{"chain_id": {chain_id}, "rpc": {rpc}}},
                "middleware": "{MIDDLEWARE}", "staking_module": "{MODULE}"{extra}}}"#
        )
    }

    #[test]
    fn parses_a_bridge_section_with_the_jobs_defaults() {
        let rpc = r#"[{"proxy": "vsock:3:8546", "url": "https://l1-a.example/"},
                      {"proxy": "vsock:3:8547", "url": "https://l1-b.example/"}]"#;
        let extra = r#", "settings": {"capture_delay": 5, "l1_confirmations": 2}"#;
        let c = Config::parse(&bridge_json(true, &bridge_section(17000, rpc, extra))).unwrap();
        let b = c.bridge.unwrap();
        assert_eq!(b.l1.chain_id, 17000);
        assert_eq!(b.l1.rpc.len(), 2);
        assert_eq!(b.l1.rpc[1].proxy.as_deref(), Some("vsock:3:8547"));
        assert_eq!(b.middleware, MIDDLEWARE.parse::<Address>().unwrap());
        assert_eq!(b.settings.capture_delay, 5);
        assert_eq!(b.settings.l1_confirmations, 2);
        // Unset settings are the job's own defaults, not zero.
        let defaults = symbiotic_bridge::Settings::default();
        assert_eq!(b.settings.stakes_per_chunk, defaults.stakes_per_chunk);
        assert_eq!(b.settings.log_range, defaults.log_range);
        assert_eq!(
            (b.interval_s, b.rpc_timeout_s, b.max_future_skew_s),
            (12, 30, 15)
        );
    }

    #[test]
    fn rejects_an_unusable_bridge_section() {
        let one = r#"[{"proxy": "vsock:3:8546", "url": "https://l1.example/"}]"#;
        let parse = |engine: bool, bridge: String| Config::parse(&bridge_json(engine, &bridge));
        assert!(matches!(
            parse(false, bridge_section(17000, one, "")),
            Err(ConfigError::Bridge(BridgeConfigError::NoEngine))
        ));
        assert!(matches!(
            parse(true, bridge_section(17000, "[]", "")),
            Err(ConfigError::Bridge(BridgeConfigError::NoEndpoint))
        ));
        assert!(matches!(
            parse(true, bridge_section(31337, one, "")),
            Err(ConfigError::Bridge(BridgeConfigError::SameChain(31337)))
        ));
        let zero = bridge_section(17000, one, "").replace(MODULE, &Address::ZERO.to_string());
        assert!(matches!(
            parse(true, zero),
            Err(ConfigError::Bridge(BridgeConfigError::ZeroAddress(
                "bridge.staking_module"
            )))
        ));
        let bad_proxy = r#"[{"proxy": "vsock:any:8546", "url": "https://l1.example/"}]"#;
        match parse(true, bridge_section(17000, bad_proxy, "")) {
            Err(ConfigError::Address { field, .. }) => assert_eq!(field, "bridge.l1.rpc.proxy"),
            other => panic!("{other:?}"),
        }
        for (extra, field) in [
            (r#", "interval_s": 0"#, "bridge.interval_s"),
            (r#", "rpc_timeout_s": 0"#, "bridge.rpc_timeout_s"),
            (
                r#", "settings": {"stakes_per_chunk": 0}"#,
                "bridge.settings.stakes_per_chunk",
            ),
        ] {
            match parse(true, bridge_section(17000, one, extra)) {
                Err(ConfigError::Zero(f)) => assert_eq!(f, field),
                other => panic!("{extra}: {other:?}"),
            }
        }
        // Unknown fields, in the section and in the job's settings, are refused.
        for extra in [
            r#", "l1_key": "0x01""#,
            r#", "settings": {"confirmations": 1}"#,
        ] {
            assert!(matches!(
                parse(true, bridge_section(17000, one, extra)),
                Err(ConfigError::Parse(_))
            ));
        }
    }
}
