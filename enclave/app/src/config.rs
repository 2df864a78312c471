//! The application's configuration file (JSON, in the root file system).
//!
//! Everything in the file is measured with the image (PCR2), so it is **trusted**: the chain
//! id, the marketplace and registry addresses, the start block, and how the chain is
//! followed. What the file names but cannot vouch for, the RPC endpoint, is reached through the
//! untrusted host proxy with TLS ending inside the enclave; see `enclave/README.md`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use alloy::primitives::Address;
use matching_engine::InputCheckKind;
use nitro_attestation::ImagePcrs;
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
    /// Where the engine identity comes from (needs `engine`); absent: generated at start.
    #[serde(default)]
    pub(crate) identity: IdentityConfig,
    /// Local simulation only (builds with `danger-dev-nsm`): the PCR0/1/2 the dev NSM reports,
    /// in the `pcr.json` shape of `ci/build-eif` (other keys are ignored).
    #[serde(default)]
    pub(crate) dev_nsm_pcrs: Option<ImagePcrs>,
    /// Local simulation only: how long each dev NSM attestation takes (milliseconds), to
    /// model a slow NSM.
    #[serde(default)]
    pub(crate) dev_nsm_delay_ms: Option<u64>,
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
fn default_head_check_ms() -> u64 {
    100
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
    /// During that pause, how often the head's number is read (`eth_blockNumber`): a new block
    /// ends the pause at once, so the engine acts on a block within this time of its arrival
    /// rather than up to a whole `poll_interval_ms` later. 0: no reads, the pause is whole.
    #[serde(default = "default_head_check_ms")]
    pub(crate) head_check_ms: u64,
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
    /// The input check of each market verifier, for invalid-inputs statements on private asks
    /// (a market whose verifier is not listed gets none).
    #[serde(default)]
    pub(crate) input_checks: Vec<InputCheckConfig>,
    /// This replica's place among the replicas that share the engine identity (default: the
    /// only one).
    #[serde(default)]
    pub(crate) replica: ReplicaConfig,
}

fn default_grace_blocks() -> u64 {
    10
}

/// `engine.replica`: the turn order of replicas that share one engine identity. The batch of
/// the assignments proposed in block `b` is sent by replica `b mod count`; replica `i` sends it
/// only if it has not landed `grace_blocks × ((i − b) mod count)` blocks later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReplicaConfig {
    /// This replica: a number (`0..count`), or `"cid"` for the enclave's vsock CID modulo
    /// `count`. The configuration is measured into PCR2 and replicas must share one image, so a
    /// deployment uses `"cid"` and gives its enclaves consecutive CIDs (`nitro-cli run-enclave
    /// --enclave-cid`): the untrusted host chooses the turn, which decides only who pays gas.
    pub(crate) index: ReplicaIndex,
    /// Replicas in the deployment.
    pub(crate) count: u64,
    /// Blocks each replica leaves a batch to the ones before it (more than `confirmations`:
    /// a replica sees a batch land only once that block is ingested).
    #[serde(default = "default_grace_blocks")]
    pub(crate) grace_blocks: u64,
}

/// Which replica an enclave is (`engine.replica.index`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplicaIndex {
    /// Given in the configuration (one image per replica: for tests and single engines).
    Fixed(u64),
    /// The enclave's own vsock CID modulo the replica count, read at start.
    Cid,
}

impl<'de> Deserialize<'de> for ReplicaIndex {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(u64),
            Name(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(ReplicaIndex::Fixed(n)),
            Raw::Name(name) if name == "cid" => Ok(ReplicaIndex::Cid),
            Raw::Name(other) => Err(serde::de::Error::custom(format!(
                "index is {other:?}, expected a number or \"cid\""
            ))),
        }
    }
}

impl std::fmt::Display for ReplicaIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplicaIndex::Fixed(n) => write!(f, "{n}"),
            ReplicaIndex::Cid => f.write_str("CID mod count"),
        }
    }
}

impl Default for ReplicaConfig {
    fn default() -> Self {
        Self {
            index: ReplicaIndex::Fixed(0),
            count: 1,
            grace_blocks: default_grace_blocks(),
        }
    }
}

impl ReplicaConfig {
    /// Checks the section against the engine's `confirmations`.
    ///
    /// # Errors
    /// [`ReplicaConfigError`].
    fn validate(&self, confirmations: u64) -> Result<(), ReplicaConfigError> {
        if self.count == 0 {
            return Err(ReplicaConfigError::NoReplicas);
        }
        if let ReplicaIndex::Fixed(index) = self.index
            && index >= self.count
        {
            return Err(ReplicaConfigError::IndexOutOfRange {
                index,
                count: self.count,
            });
        }
        if self.count > 1 && self.grace_blocks <= confirmations {
            return Err(ReplicaConfigError::GraceWithinConfirmations {
                grace_blocks: self.grace_blocks,
                confirmations,
            });
        }
        Ok(())
    }

    /// The relay's turn; `local_cid` is asked for the enclave's vsock CID when the index is
    /// `"cid"` (in the app: `vsock::get_local_cid`, an ioctl on `/dev/vsock`).
    ///
    /// # Errors
    /// [`ReplicaConfigError::Cid`] when the CID cannot be read.
    pub(crate) fn turn(
        &self,
        local_cid: impl FnOnce() -> std::io::Result<u32>,
    ) -> Result<crate::chain::relay::Turn, ReplicaConfigError> {
        let index = match self.index {
            ReplicaIndex::Fixed(index) => index,
            ReplicaIndex::Cid => {
                u64::from(local_cid().map_err(|e| ReplicaConfigError::Cid(e.to_string()))?)
                    % self.count
            }
        };
        Ok(crate::chain::relay::Turn {
            index,
            count: self.count,
            grace_blocks: self.grace_blocks,
        })
    }
}

/// Why `engine.replica` cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum ReplicaConfigError {
    /// `count` is 0.
    #[error("count must be at least 1")]
    NoReplicas,
    /// `index` is `"cid"` and the enclave's vsock CID could not be read.
    #[error("index \"cid\": reading the enclave's vsock CID from /dev/vsock: {0}")]
    Cid(String),
    /// `index` is not below `count`.
    #[error("index {index} is not below count {count}")]
    IndexOutOfRange {
        /// The index.
        index: u64,
        /// The count.
        count: u64,
    },
    /// With several replicas, a takeover must wait longer than a batch takes to be seen.
    #[error(
        "grace_blocks {grace_blocks} must exceed confirmations {confirmations}: a replica sees \
         a batch land only once its block is ingested, so a shorter grace sends every batch twice"
    )]
    GraceWithinConfirmations {
        /// The grace.
        grace_blocks: u64,
        /// `engine.confirmations`.
        confirmations: u64,
    },
}

/// One entry of `engine.input_checks`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InputCheckConfig {
    /// The market verifier contract.
    pub(crate) verifier: Address,
    /// A built-in check's name (`schnorr-bn254`).
    pub(crate) check: String,
}

impl EngineConfig {
    /// `engine.input_checks` by verifier.
    ///
    /// # Errors
    /// [`ConfigError::InputCheck`] for an unknown check, a zero or a repeated verifier.
    pub(crate) fn input_checks(
        &self,
    ) -> Result<BTreeMap<matching_engine::Address, InputCheckKind>, ConfigError> {
        let mut out = BTreeMap::new();
        for entry in &self.input_checks {
            let verifier = matching_engine::Address(entry.verifier.into_array());
            let kind = InputCheckKind::from_name(&entry.check).ok_or_else(|| {
                InputCheckError::UnknownCheck {
                    verifier: entry.verifier,
                    check: entry.check.clone(),
                }
            })?;
            if entry.verifier == Address::ZERO {
                return Err(InputCheckError::ZeroVerifier.into());
            }
            if out.insert(verifier, kind).is_some() {
                return Err(InputCheckError::Repeated(entry.verifier).into());
            }
        }
        Ok(out)
    }
}

/// Why `engine.input_checks` cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum InputCheckError {
    /// Not a built-in check.
    #[error("verifier {verifier}: unknown check {check:?} (built in: schnorr-bn254)")]
    UnknownCheck {
        /// The verifier.
        verifier: Address,
        /// The name given.
        check: String,
    },
    /// The zero address is no verifier.
    #[error("a verifier is the zero address")]
    ZeroVerifier,
    /// A verifier listed twice.
    #[error("verifier {0} is listed twice")]
    Repeated(Address),
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

fn default_handoff_max_age_s() -> u64 {
    300
}

/// Where the engine identity (the engine key and the bid key) comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "source", rename_all = "lowercase", deny_unknown_fields)]
pub(crate) enum IdentityConfig {
    /// Generated inside the enclave at start: the first replica of a deployment, whose key is
    /// then registered on chain once.
    Generate {
        /// Oldest request document this enclave answers when it hands the identity on.
        #[serde(default = "default_handoff_max_age_s")]
        max_age_s: u64,
    },
    /// Received from a running replica of the same registered image (`handoff.rs`), tried in
    /// order; none answering with a verified identity ends the start. Strict: only for images
    /// whose every replica can count on a running peer (the configuration is measured into
    /// PCR2, so the replica that generated the identity runs another image and cannot give it).
    Peer {
        /// Each peer's hand-off route: the host proxy's outbound route to that replica's HTTP
        /// API (`vsock:3:PORT` in an enclave, `tcp:`/`unix:` locally).
        peers: Vec<String>,
        /// Oldest document accepted, either way (seconds).
        #[serde(default = "default_handoff_max_age_s")]
        max_age_s: u64,
    },
    /// What a deployment of several replicas runs, one configuration (one image) for all:
    /// received from a peer as `peer` does; generated here when no peer can be reached at all
    /// (the first replica: its host routes the peers to nobody). A peer that answers but whose
    /// answer does not verify ends the start, as with `peer`: a refusal is never papered over.
    Auto {
        /// Each peer's hand-off route: the host proxy's outbound route to that replica's HTTP
        /// API (`vsock:3:PORT` in an enclave, `tcp:`/`unix:` locally).
        peers: Vec<String>,
        /// Oldest document accepted, either way (seconds).
        #[serde(default = "default_handoff_max_age_s")]
        max_age_s: u64,
    },
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig::Generate {
            max_age_s: default_handoff_max_age_s(),
        }
    }
}

/// Longest freshness window of a hand-off document (seconds).
pub(crate) const MAX_HANDOFF_AGE_S: u64 = 3600;

impl IdentityConfig {
    /// The freshness window of hand-off documents (seconds).
    pub(crate) fn max_age_s(&self) -> u64 {
        match self {
            IdentityConfig::Generate { max_age_s }
            | IdentityConfig::Peer { max_age_s, .. }
            | IdentityConfig::Auto { max_age_s, .. } => *max_age_s,
        }
    }

    /// The peers' routes, parsed (empty when the identity is generated).
    ///
    /// # Errors
    /// [`IdentityConfigError::BadPeer`].
    pub(crate) fn peers(&self) -> Result<Vec<host_proxy_client::ProxyAddr>, IdentityConfigError> {
        match self {
            IdentityConfig::Generate { .. } => Ok(Vec::new()),
            IdentityConfig::Peer { peers, .. } | IdentityConfig::Auto { peers, .. } => peers
                .iter()
                .map(|p| {
                    host_proxy_client::ProxyAddr::from_str(p).map_err(|e| {
                        IdentityConfigError::BadPeer {
                            peer: p.clone(),
                            detail: e.to_string(),
                        }
                    })
                })
                .collect(),
        }
    }

    fn validate(&self, engine: Option<&EngineConfig>) -> Result<(), IdentityConfigError> {
        let max_age_s = self.max_age_s();
        if max_age_s == 0 || max_age_s > MAX_HANDOFF_AGE_S {
            return Err(IdentityConfigError::MaxAge(max_age_s));
        }
        if let IdentityConfig::Peer { peers, .. } | IdentityConfig::Auto { peers, .. } = self {
            if engine.is_none() {
                return Err(IdentityConfigError::NoEngine);
            }
            if peers.is_empty() {
                return Err(IdentityConfigError::NoPeer);
            }
            let parsed = self.peers()?;
            for (i, p) in parsed.iter().enumerate() {
                if parsed[..i].contains(p) {
                    return Err(IdentityConfigError::RepeatedPeer(p.to_string()));
                }
            }
        }
        Ok(())
    }

    /// One phrase for the start log.
    fn summary(&self) -> String {
        match self {
            IdentityConfig::Generate { .. } => "identity generated".to_owned(),
            IdentityConfig::Peer { peers, .. } => {
                format!("identity from a peer ({})", peers.join(", "))
            }
            IdentityConfig::Auto { peers, .. } => format!(
                "identity from a peer ({}), generated if none is reachable",
                peers.join(", ")
            ),
        }
    }
}

/// Why the `identity` section cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum IdentityConfigError {
    /// The hand-off checks the registry through the engine's chain.
    #[error("a peer identity needs an engine section")]
    NoEngine,
    /// `source: peer` without a peer.
    #[error("peers lists no peer")]
    NoPeer,
    /// A peer address does not parse as a proxy route.
    #[error("peer {peer:?}: {detail}")]
    BadPeer {
        /// The address as written.
        peer: String,
        /// Why.
        detail: String,
    },
    /// A peer listed twice.
    #[error("peer {0} is listed twice")]
    RepeatedPeer(String),
    /// The freshness window is zero or longer than [`MAX_HANDOFF_AGE_S`].
    #[error("max_age_s is {0}, expected 1 to {MAX_HANDOFF_AGE_S}")]
    MaxAge(u64),
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
    /// `engine.input_checks` cannot be used as written.
    #[error("engine.input_checks: {0}")]
    InputCheck(#[from] InputCheckError),
    /// The identity section cannot be used as written.
    #[error("identity: {0}")]
    Identity(#[from] IdentityConfigError),
    /// `engine.replica` cannot be used as written.
    #[error("engine.replica: {0}")]
    Replica(#[from] ReplicaConfigError),
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
            engine.input_checks()?;
            engine.replica.validate(engine.confirmations)?;
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
        config.identity.validate(config.engine.as_ref())?;
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
                "; engine on chain {} (marketplace {}, registry {}, from block {}), HTTP API on {}, {}",
                e.chain_id,
                e.marketplace,
                e.registry,
                e.start_block,
                e.http_listen,
                self.identity.summary()
            )),
        }
        if let Some(r) = self.engine.as_ref().map(|e| e.replica)
            && r.count > 1
        {
            out.push_str(&format!(
                "; replica {} of {} (grace {} blocks)",
                r.index, r.count, r.grace_blocks
            ));
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
                cid: transport_addr::VSOCK_CID_ANY,
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
            ListenAddr::Vsock {
                cid: transport_addr::VSOCK_CID_ANY,
                port: 5005
            }
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

    /// An engine configuration with `field: value` inserted after `after`.
    fn engine_with(after: &str, field: &str, value: &str) -> Vec<u8> {
        let base = String::from_utf8(engine_json("vsock:any:5006", "vsock:3:8545", 50)).unwrap();
        base.replacen(after, &format!(r#"{after} "{field}": {value},"#), 1)
            .into_bytes()
    }

    fn with_checks(checks: &str) -> Vec<u8> {
        engine_with(r#""start_block": 0,"#, "input_checks", checks)
    }

    #[test]
    fn input_checks_are_validated_at_load() {
        let v = "0x00000000000000000000000000000000000000aa";
        let c = Config::parse(&with_checks(&format!(
            r#"[{{"verifier": "{v}", "check": "schnorr-bn254"}}]"#
        )))
        .unwrap();
        let checks = c.engine.unwrap().input_checks().unwrap();
        let mut want = [0u8; 20];
        want[19] = 0xaa;
        assert_eq!(
            checks.get(&matching_engine::Address(want)),
            Some(&InputCheckKind::SchnorrBn254)
        );
        assert!(matches!(
            Config::parse(&with_checks(&format!(
                r#"[{{"verifier": "{v}", "check": "groth16"}}]"#
            ))),
            Err(ConfigError::InputCheck(
                InputCheckError::UnknownCheck { .. }
            ))
        ));
        assert!(matches!(
            Config::parse(&with_checks(&format!(
                r#"[{{"verifier": "{v}", "check": "schnorr-bn254"}},
                    {{"verifier": "{v}", "check": "schnorr-bn254"}}]"#
            ))),
            Err(ConfigError::InputCheck(InputCheckError::Repeated(_)))
        ));
        assert!(matches!(
            Config::parse(&with_checks(
                r#"[{"verifier": "0x0000000000000000000000000000000000000000", "check": "schnorr-bn254"}]"#
            )),
            Err(ConfigError::InputCheck(InputCheckError::ZeroVerifier))
        ));
        assert!(matches!(
            Config::parse(&with_checks(
                r#"[{"verifier": "0x01", "check": "schnorr-bn254"}]"#
            )),
            Err(ConfigError::Parse(_))
        ));
    }

    fn with_replica(replica: &str) -> Vec<u8> {
        engine_with(r#""start_block": 0,"#, "replica", replica)
    }

    #[test]
    fn the_replica_section_is_validated_at_load() {
        let c = Config::parse(&with_replica(
            r#"{"index": 2, "count": 3, "grace_blocks": 6}"#,
        ))
        .unwrap();
        let r = c.engine.as_ref().unwrap().replica;
        assert_eq!(
            (r.index, r.count, r.grace_blocks),
            (ReplicaIndex::Fixed(2), 3, 6)
        );
        assert!(
            c.summary().ends_with("; replica 2 of 3 (grace 6 blocks)"),
            "{}",
            c.summary()
        );
        let c = Config::parse(&with_replica(r#"{"index": 1, "count": 2}"#)).unwrap();
        assert_eq!(c.engine.unwrap().replica.grace_blocks, 10);
        // One configuration for every replica: the turn from the enclave's CID (16, 17, 18 on
        // a parent running three enclaves), read only when asked for.
        let c = Config::parse(&with_replica(r#"{"index": "cid", "count": 3}"#)).unwrap();
        let r = c.engine.as_ref().unwrap().replica;
        assert_eq!(r.index, ReplicaIndex::Cid);
        assert!(
            c.summary()
                .ends_with("; replica CID mod count of 3 (grace 10 blocks)")
        );
        for (cid, want) in [(16, 1), (17, 2), (18, 0)] {
            assert_eq!(r.turn(|| Ok(cid)).unwrap().index, want);
        }
        assert!(matches!(
            r.turn(|| Err(std::io::Error::from(std::io::ErrorKind::NotFound))),
            Err(ReplicaConfigError::Cid(_))
        ));
        let fixed = ReplicaConfig::default();
        assert_eq!(
            fixed
                .turn(|| panic!("a fixed index reads no CID"))
                .unwrap()
                .index,
            0
        );
        assert!(matches!(
            Config::parse(&with_replica(r#"{"index": "pid", "count": 3}"#)),
            Err(ConfigError::Parse(_))
        ));
        for (replica, want) in [
            (r#"{"index": 0, "count": 0}"#, "count must be at least 1"),
            (
                r#"{"index": 3, "count": 3}"#,
                "index 3 is not below count 3",
            ),
            (
                r#"{"index": 0, "count": 2, "grace_blocks": 2}"#,
                "grace_blocks 2 must exceed confirmations 2",
            ),
        ] {
            match Config::parse(&with_replica(replica)) {
                Err(e @ ConfigError::Replica(_)) => {
                    assert!(
                        e.to_string()
                            .starts_with(&format!("engine.replica: {want}")),
                        "{e}"
                    );
                }
                other => panic!("{replica}: {other:?}"),
            }
        }
        // One replica needs no grace.
        Config::parse(&with_replica(
            r#"{"index": 0, "count": 1, "grace_blocks": 0}"#,
        ))
        .unwrap();
        assert!(matches!(
            Config::parse(&with_replica(r#"{"index": 0, "count": 1, "turn": 1}"#)),
            Err(ConfigError::Parse(_))
        ));
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
        assert_eq!(e.replica, ReplicaConfig::default());
        assert_eq!(
            e.replica.turn(|| panic!("no CID is read")).unwrap(),
            crate::chain::relay::Turn {
                grace_blocks: 10,
                ..crate::chain::relay::Turn::SINGLE
            }
        );
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
        let dev = format!(
            r#"{{"vsock_port": 5005, "ca_roots": "/x",
            "dev_nsm_pcrs": {{"PCR0": "{}", "PCR1": "{}", "PCR2": "{}"}}}}"#,
            "11".repeat(48),
            "22".repeat(48),
            "33".repeat(48)
        );
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
             HTTP API on vsock:any:5006, identity generated"
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

    fn with_identity(identity: &str) -> Vec<u8> {
        engine_with(r#""vsock_port": 5005,"#, "identity", identity)
    }

    #[test]
    fn the_identity_is_generated_unless_peers_are_named() {
        let c = Config::parse(&engine_json("vsock:any:5006", "vsock:3:8545", 50)).unwrap();
        assert_eq!(c.identity, IdentityConfig::Generate { max_age_s: 300 });
        let c = Config::parse(&with_identity(r#"{"source": "generate"}"#)).unwrap();
        assert_eq!(c.identity, IdentityConfig::Generate { max_age_s: 300 });
        let c = Config::parse(&with_identity(
            r#"{"source": "peer", "peers": ["vsock:3:7001", "tcp:127.0.0.1:7002", "unix:/run/p.sock"], "max_age_s": 120}"#,
        ))
        .unwrap();
        assert_eq!(c.identity.max_age_s(), 120);
        assert_eq!(
            c.identity
                .peers()
                .unwrap()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
            ["vsock:3:7001", "tcp:127.0.0.1:7002", "unix:/run/p.sock"]
        );
        assert!(c.summary().ends_with(
            "identity from a peer (vsock:3:7001, tcp:127.0.0.1:7002, unix:/run/p.sock)"
        ));
        c.check_build(Build::Image).unwrap();
        let c = Config::parse(&with_identity(
            r#"{"source": "auto", "peers": ["vsock:3:7001"]}"#,
        ))
        .unwrap();
        assert_eq!(
            c.identity,
            IdentityConfig::Auto {
                peers: vec!["vsock:3:7001".into()],
                max_age_s: 300
            }
        );
        assert!(
            c.summary()
                .ends_with("identity from a peer (vsock:3:7001), generated if none is reachable")
        );
        for refused in [
            r#"{"source": "auto", "peers": []}"#,
            r#"{"source": "auto", "peers": ["vsock:3:7001", "vsock:3:7001"]}"#,
        ] {
            assert!(Config::parse(&with_identity(refused)).is_err(), "{refused}");
        }
    }

    #[test]
    fn an_unusable_identity_section_is_a_named_error() {
        for (identity, want) in [
            (
                r#"{"source": "peer", "peers": []}"#,
                "identity: peers lists no peer",
            ),
            (
                r#"{"source": "peer", "peers": ["vsock:any:7001"]}"#,
                "identity: peer \"vsock:any:7001\"",
            ),
            (
                r#"{"source": "peer", "peers": ["http://peer"]}"#,
                "identity: peer \"http://peer\"",
            ),
            (
                r#"{"source": "peer", "peers": ["vsock:3:7001", "vsock:3:7001"]}"#,
                "identity: peer vsock:3:7001 is listed twice",
            ),
            (
                r#"{"source": "peer", "peers": ["vsock:3:7001"], "max_age_s": 0}"#,
                "identity: max_age_s is 0, expected 1 to 3600",
            ),
            (
                r#"{"source": "generate", "max_age_s": 3601}"#,
                "identity: max_age_s is 3601, expected 1 to 3600",
            ),
        ] {
            let err = Config::parse(&with_identity(identity)).unwrap_err();
            assert!(
                matches!(err, ConfigError::Identity(_)),
                "{identity}: {err:?}"
            );
            assert!(err.to_string().starts_with(want), "{identity}: {err}");
        }
        for junk in [
            r#"{"source": "disk"}"#,
            r#"{"peers": ["vsock:3:1"]}"#,
            r#"{"source": "peer"}"#,
            r#"{"source": "generate", "peers": ["vsock:3:1"]}"#,
        ] {
            assert!(
                matches!(
                    Config::parse(&with_identity(junk)),
                    Err(ConfigError::Parse(_))
                ),
                "{junk}"
            );
        }
        let no_engine = br#"{"vsock_port": 5005, "ca_roots": "/x",
            "identity": {"source": "peer", "peers": ["vsock:3:7001"]}}"#;
        assert!(matches!(
            Config::parse(no_engine),
            Err(ConfigError::Identity(IdentityConfigError::NoEngine))
        ));
    }
}
