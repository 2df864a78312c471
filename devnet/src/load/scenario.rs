//! The system a load runs against, started as `devnet run` starts it: anvil (one-second blocks),
//! the registry and an image registered in the dev family, the marketplace with several
//! markets, the host proxy, the enclave app in local simulation with its key registered from
//! its attestation; then generator nodes (the clients' `generator` binary, one process each)
//! proving with the load's statement pool. Everything stops when the scenario is dropped.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};

use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::{DynProvider, Provider as _};
use alloy::signers::local::PrivateKeySigner;
use pcr_registry::pcrs::{ImagePcrs, MeasuredEif};
use serde_json::Value;
use testkit::contracts::{ProofMarketplace, TestToken};

use super::measure::Watched;
use super::prover::{Pool, Prover};
use crate::chain::{self, FAMILY, RegistryChain};
use crate::enclave::{self, AppSpec, Ports};
use crate::error::{Error, Result, ensure};
use crate::marketplace::{self, Market, MarketSpec, whole};
use crate::out::{Out, now_s};
use crate::procs::{ChainNode, Procs, wait_for};

/// The marketplace chain's id (anvil's default).
pub(crate) const CHAIN_ID: u64 = 31_337;
/// Arbitrum One's effective execution gas limit per block (docs.arbitrum.io, "Block gas limit,
/// numbers and time": 32 million), the default block gas limit of a load run.
pub(crate) const ARBITRUM_ONE_BLOCK_GAS: u64 = 32_000_000;
/// The block gas limit while the scenario is set up and while an engine key is registered: a
/// cold on-chain verification of an attestation document takes ~41 M gas in one transaction.
const SETUP_BLOCK_GAS: u64 = 200_000_000;
/// Slashing penalty of every market (token units): each assignment locks it in stake.
const PENALTY: u64 = 1_000;
/// Statements in the prover's pool.
const STATEMENTS: usize = 256;
/// The app's process name in [`Procs`].
const APP: &str = "enclave-app";
/// The proxy's.
const PROXY: &str = "host-proxy";

/// The run directory and the programs a scenario starts, as `devnet load` and `devnet chaos`
/// take them on their command lines.
#[derive(Clone, Debug, clap::Args)]
pub(crate) struct ScenarioPaths {
    /// The run directory (created): logs, configurations, `asks.jsonl`.
    #[arg(long)]
    pub(crate) run_dir: PathBuf,
    /// The host-proxy binary.
    #[arg(long)]
    pub(crate) host_proxy: PathBuf,
    /// The enclave-app binary, built with the dev NSM.
    #[arg(long)]
    pub(crate) enclave_app: PathBuf,
    /// The clients' `generator` binary.
    #[arg(long)]
    pub(crate) generator: PathBuf,
}

/// What to start.
#[derive(Clone, Debug)]
pub(crate) struct ScenarioOpts {
    /// The run directory and the programs.
    pub(crate) paths: ScenarioPaths,
    /// Markets (order book, Schnorr/BN254).
    pub(crate) markets: usize,
    /// Generator nodes; node `i` joins markets `i mod M` and `(i + 1) mod M`.
    pub(crate) generators: usize,
    /// Assignments each generator runs at once (registered on chain).
    pub(crate) generator_capacity: u32,
    /// The block gas limit during the load.
    pub(crate) block_gas_limit: u64,
    /// The engine's `poll_interval_ms`; `None`: the engine's default.
    pub(crate) poll_interval_ms: Option<u64>,
    /// The engine's `head_check_ms`; `None`: the engine's default.
    pub(crate) head_check_ms: Option<u64>,
}

/// What a load needs of a running scenario, cloned out of it ([`Scenario::target`]) so that
/// the scenario stays free for restarts while a load runs.
#[derive(Clone, Debug)]
pub(crate) struct Target {
    /// The deployer's provider, straight to anvil.
    pub(crate) provider: DynProvider,
    /// anvil's JSON-RPC URL.
    pub(crate) rpc_url: String,
    /// The marketplace and its payment token.
    pub(crate) marketplace: Address,
    pub(crate) token: Address,
    /// Every market's id.
    pub(crate) markets: Vec<U256>,
    /// The statements the prover knows.
    pub(crate) pool: Arc<Pool>,
    /// The run directory.
    pub(crate) run_dir: PathBuf,
    /// The processes to measure, kept current by the scenario across restarts.
    pub(crate) watched: Arc<Mutex<Watched>>,
    /// Proofs the prover served.
    pub(crate) proofs_served: Arc<AtomicU64>,
}

/// A running scenario.
pub(crate) struct Scenario {
    pub(crate) opts: ScenarioOpts,
    procs: Procs,
    out: Out,
    /// The chain (anvil).
    pub(crate) node: ChainNode,
    /// The registry.
    pub(crate) l2: RegistryChain,
    /// The marketplace and its first market.
    pub(crate) market: Market,
    /// Every market's id.
    pub(crate) markets: Vec<U256>,
    /// The proxy's ports (`l2_rpc` is the app's RPC, `api` its HTTP API).
    pub(crate) ports: Ports,
    /// Where the proxy's l2-rpc route connects (anvil's port, or a box put in between).
    upstream: u16,
    pcrs: ImagePcrs,
    app_config: Value,
    /// The engine key registered for the running app.
    pub(crate) engine_key: Address,
    /// The statements the prover knows.
    pub(crate) pool: Arc<Pool>,
    /// The generators' prover.
    pub(crate) prover: Prover,
    /// The generator operators.
    pub(crate) generators: Vec<Address>,
    /// The deployer's provider (signs as anvil's development keys).
    pub(crate) provider: DynProvider,
    /// The processes a load measures (updated when one is restarted).
    watched: Arc<Mutex<Watched>>,
}

impl std::fmt::Debug for Scenario {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scenario")
            .field("rpc", &self.node.url)
            .field("marketplace", &self.market.marketplace)
            .field("procs", &self.procs)
            .finish_non_exhaustive()
    }
}

/// The image the dev NSM reports: PCRs of no real EIF (a load needs no image), registered in
/// the dev family like `devnet run` registers a built one.
fn load_pcrs() -> ImagePcrs {
    let pcr = |n: u8| {
        let mut v = [0u8; 48];
        v[..32].copy_from_slice(&keccak256([b'l', b'o', b'a', b'd', n]).0);
        v
    };
    ImagePcrs {
        pcr0: pcr(0).into(),
        pcr1: pcr(1).into(),
        pcr2: pcr(2).into(),
        pcr8: None,
    }
}

impl Scenario {
    /// Starts everything; progress on standard error.
    pub(crate) async fn start(opts: ScenarioOpts) -> Result<Scenario> {
        ensure(opts.markets > 0 && opts.generators > 0, || {
            "a load needs at least one market and one generator".into()
        })?;
        let run = opts.paths.run_dir.clone();
        std::fs::create_dir_all(&run).map_err(|e| Error::file(&run, e))?;
        let mut out = Out::new(0, 6, now_s());
        let mut procs = Procs::default();

        out.step("chain: anvil, one-second blocks");
        let gas = SETUP_BLOCK_GAS.to_string();
        let args = [
            "--block-time",
            "1",
            "--gas-limit",
            &gas,
            "--hardfork",
            "cancun",
            // Fees out of the way: an L2's are negligible, and a base fee rising with full
            // blocks would price the relayer and the generators out within minutes.
            "--base-fee",
            "0",
            "--no-priority-fee",
            // First come, first served, as an L2's sequencer orders (Arbitrum One's does): by
            // fee, the requesters' asks would starve the engine's batches once blocks are full.
            "--order",
            "fifo",
            // A log line per request would cost the node CPU at this rate.
            "--quiet",
        ];
        let node = procs.anvil("anvil", CHAIN_ID, None, &args, &run)?;
        let provider = chain::provider(&node.url)?;
        let l2 = chain::deploy_registry(&node, &run)?;
        let pcrs = load_pcrs();
        chain::register_image(
            &out,
            &l2,
            &MeasuredEif {
                pcrs,
                sha256: B256::ZERO,
            },
            "devnet-load",
        )
        .await?;

        out.step(&format!("marketplace and {} markets", opts.markets));
        let market = marketplace::deploy(
            &provider,
            l2.registry,
            &MarketSpec {
                token_name: "Load USD",
                token_symbol: "lUSD",
                family: FAMILY,
                penalty: U256::from(PENALTY),
            },
        )
        .await?;
        let mut markets = vec![market.id];
        for _ in 1..opts.markets {
            let (id, _) = marketplace::create_market(
                &provider,
                market.marketplace,
                market.verifier,
                U256::from(PENALTY),
            )
            .await?;
            markets.push(id);
        }
        out.show("ProofMarketplace", &market.marketplace.to_string());
        out.show("markets", &format!("{markets:?}"));

        out.step("host proxy and enclave app (dev NSM), key registered");
        let ports = Ports::pick()?;
        let app_config = app_config(&opts, &pcrs, &market, &l2, ports);
        let pool = Arc::new(Pool::generate(STATEMENTS)?);
        let prover = Prover::start(pool.clone()).await?;
        let mut scenario = Scenario {
            upstream: node.port,
            opts,
            procs,
            out,
            node,
            l2,
            market,
            markets,
            ports,
            pcrs,
            app_config,
            engine_key: Address::ZERO,
            pool,
            prover,
            generators: Vec::new(),
            provider,
            watched: Arc::new(Mutex::new(Watched {
                engine: None,
                anvil: None,
                generators: Vec::new(),
                api: ports.api,
            })),
        };
        scenario.start_proxy(scenario.upstream).await?;
        scenario.start_app().await?;

        scenario.out.step(&format!(
            "{} generator nodes (clients' generator binary)",
            scenario.opts.generators
        ));
        scenario.start_generators().await?;

        scenario.out.step(&format!(
            "block gas limit {} (Arbitrum One's per-block execution limit is {ARBITRUM_ONE_BLOCK_GAS})",
            scenario.opts.block_gas_limit
        ));
        scenario
            .set_block_gas_limit(scenario.opts.block_gas_limit)
            .await?;
        scenario.wait_engine_synced().await?;
        Ok(scenario)
    }

    /// What a load needs, sharing the processes' ids with the scenario.
    pub(crate) fn target(&self) -> Target {
        Target {
            provider: self.provider.clone(),
            rpc_url: self.node.url.clone(),
            marketplace: self.market.marketplace,
            token: self.market.token,
            markets: self.markets.clone(),
            pool: self.pool.clone(),
            run_dir: self.opts.paths.run_dir.clone(),
            watched: self.watched.clone(),
            proofs_served: self.prover.served.clone(),
        }
    }

    /// Records the processes' current ids for the load's measurements.
    fn update_watched(&self) {
        let mut w = self
            .watched
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        w.engine = self.app_pid();
        w.anvil = self.anvil_pid();
        w.generators = self.generator_pids();
    }

    /// anvil's JSON-RPC URL (what the proxy forwards to unless a box is put in between).
    #[allow(dead_code)] // a handle for programs that inject faults during a load
    pub(crate) fn rpc_url(&self) -> &str {
        &self.node.url
    }

    /// The port the proxy's l2-rpc route connects to now.
    #[allow(dead_code)] // a handle for programs that inject faults during a load
    pub(crate) fn proxy_upstream(&self) -> u16 {
        self.upstream
    }

    /// The app's process id while it runs.
    pub(crate) fn app_pid(&self) -> Option<u32> {
        self.procs.pid(APP)
    }

    /// The host proxy's process id while it runs.
    pub(crate) fn proxy_pid(&self) -> Option<u32> {
        self.procs.pid(PROXY)
    }

    /// anvil's process id.
    pub(crate) fn anvil_pid(&self) -> Option<u32> {
        self.procs.pid("anvil")
    }

    /// The generator nodes' process ids.
    pub(crate) fn generator_pids(&self) -> Vec<u32> {
        (0..self.generators.len())
            .filter_map(|i| self.procs.pid(&generator_name(i)))
            .collect()
    }

    /// The engine's `/status` through the proxy.
    #[allow(dead_code)] // a handle for programs that inject faults during a load
    pub(crate) fn status(&self) -> Result<Value> {
        enclave::status(self.ports.api)
    }

    /// Sets the chain's block gas limit (`evm_setBlockGasLimit`), from the next block on.
    pub(crate) async fn set_block_gas_limit(&self, limit: u64) -> Result<()> {
        let ok: bool = self
            .provider
            .raw_request("evm_setBlockGasLimit".into(), (U256::from(limit),))
            .await
            .map_err(|e| Error::rpc("evm_setBlockGasLimit", e))?;
        ensure(ok, || "anvil refused evm_setBlockGasLimit".into())
    }

    /// Starts the host proxy with its l2-rpc route connecting to `upstream` (anvil's port, or
    /// a fault box in front of it).
    pub(crate) async fn start_proxy(&mut self, upstream: u16) -> Result<()> {
        let run = &self.opts.paths.run_dir;
        let toml = run.join("host-proxy.toml");
        let socket = run.join("engine-api.sock");
        std::fs::write(&toml, enclave::proxy_config(&self.ports, upstream, &socket))
            .map_err(|e| Error::file(&toml, e))?;
        enclave::start_proxy(
            &mut self.procs,
            &self.opts.paths.host_proxy,
            &toml,
            run,
            self.ports.admin,
        )
        .await?;
        self.upstream = upstream;
        Ok(())
    }

    /// Stops the host proxy (the app loses the chain and its API its door).
    #[allow(dead_code)] // a handle for programs that inject faults during a load
    pub(crate) fn stop_proxy(&mut self) -> Option<u32> {
        self.procs.stop(PROXY)
    }

    /// Stops the proxy and starts it again towards `upstream`.
    #[allow(dead_code)] // a handle for programs that inject faults during a load
    pub(crate) async fn restart_proxy(&mut self, upstream: u16) -> Result<()> {
        self.stop_proxy();
        self.start_proxy(upstream).await
    }

    /// Starts the enclave app and registers its fresh key (the block gas limit is raised for
    /// the registration's on-chain verification, then set back).
    pub(crate) async fn start_app(&mut self) -> Result<()> {
        let run = self.opts.paths.run_dir.clone();
        enclave::start_app(
            &mut self.procs,
            &self.opts.paths.enclave_app,
            APP,
            &self.app_config,
            &run,
            self.ports.api,
        )
        .await?;
        let limit = self.block_gas_limit().await?;
        if limit < SETUP_BLOCK_GAS {
            self.set_block_gas_limit(SETUP_BLOCK_GAS).await?;
        }
        let key =
            enclave::register_key(&self.out, &self.l2, &self.pcrs, self.ports.api, &run).await;
        if limit < SETUP_BLOCK_GAS {
            self.set_block_gas_limit(limit).await?;
        }
        self.engine_key = key?;
        self.update_watched();
        Ok(())
    }

    /// Stops the enclave app.
    #[allow(dead_code)] // a handle for programs that inject faults during a load
    pub(crate) fn stop_app(&mut self) -> Option<u32> {
        let pid = self.procs.stop(APP);
        self.update_watched();
        pid
    }

    /// Stops the app and starts it again (a new key, registered).
    #[allow(dead_code)] // a handle for programs that inject faults during a load
    pub(crate) async fn restart_app(&mut self) -> Result<()> {
        self.stop_app();
        self.start_app().await
    }

    async fn block_gas_limit(&self) -> Result<u64> {
        let block = self
            .provider
            .get_block(alloy::eips::BlockId::latest())
            .await
            .map_err(|e| Error::rpc("eth_getBlockByNumber", e))?
            .ok_or_else(|| Error::rpc("eth_getBlockByNumber", "no latest block"))?;
        Ok(block.header.gas_limit)
    }

    /// Funds fresh generator operators (gas, stake tokens), starts one node each and waits
    /// until every one has joined its markets.
    async fn start_generators(&mut self) -> Result<()> {
        let dir = self.opts.paths.run_dir.join("generators");
        std::fs::create_dir_all(&dir).map_err(|e| Error::file(&dir, e))?;
        let keys: Vec<PrivateKeySigner> = (0..self.opts.generators)
            .map(|_| PrivateKeySigner::random())
            .collect();
        let stake = whole(1_000_000);
        let joins: Vec<Vec<U256>> = (0..keys.len()).map(|i| self.markets_of(i)).collect();
        let addresses: Vec<Address> = keys.iter().map(PrivateKeySigner::address).collect();
        fund(&self.provider, self.market.token, &addresses, |i| {
            stake * U256::from(joins[i].len())
        })
        .await?;
        for (i, key) in keys.iter().enumerate() {
            let name = generator_name(i);
            let state = dir.join(&name);
            std::fs::create_dir_all(&state).map_err(|e| Error::file(&state, e))?;
            let key_file = state.join("operator.key");
            std::fs::write(&key_file, hex::encode(key.to_bytes()))
                .map_err(|e| Error::file(&key_file, e))?;
            let markets: Vec<Value> = joins[i]
                .iter()
                .map(|id| {
                    serde_json::json!({
                        "id": id.to_string(),
                        "cost": (10 + i % 7).to_string(),
                        "proposed_time": 60,
                        "stake": stake.to_string(),
                    })
                })
                .collect();
            let config = serde_json::json!({
                "rpc": self.node.url,
                "marketplace": self.market.marketplace.to_string(),
                "key_file": key_file,
                "state_dir": state,
                "capacity": self.opts.generator_capacity,
                "markets": markets,
                "prover": { "url": self.prover.url, "timeout_secs": 60 },
                "confirmations": 1,
                "from_block": self.market.marketplace_block,
                "poll_ms": 500,
            });
            let path = dir.join(format!("{name}.json"));
            std::fs::write(&path, config.to_string()).map_err(|e| Error::file(&path, e))?;
            let mut cmd = Command::new(&self.opts.paths.generator);
            cmd.arg("run").arg("--config").arg(&path);
            self.procs.spawn(&name, cmd, &dir)?;
        }
        let market = ProofMarketplace::new(self.market.marketplace, &self.provider);
        for (i, address) in addresses.iter().enumerate() {
            for id in &joins[i] {
                let (market, address, id) = (&market, *address, *id);
                wait_for(
                    120,
                    &format!("{} joined market {id}", generator_name(i)),
                    &format!(" (see generators/{}.log)", generator_name(i)),
                    || async move {
                        market
                            .getOffer(address, id)
                            .call()
                            .await
                            .ok()
                            .filter(|o| o.joined)
                            .map(|_| ())
                    },
                )
                .await?;
            }
        }
        self.generators = addresses;
        self.update_watched();
        self.out.show(
            "generators",
            &format!(
                "{} nodes, each in 2 markets, capacity {}, {} lUSD staked per market, HTTP prover {}",
                self.generators.len(),
                self.opts.generator_capacity,
                crate::out::units(stake),
                self.prover.url
            ),
        );
        Ok(())
    }

    /// The markets generator `i` joins.
    fn markets_of(&self, i: usize) -> Vec<U256> {
        let m = self.markets.len();
        let mut joined = vec![self.markets[i % m]];
        if m > 1 {
            joined.push(self.markets[(i + 1) % m]);
        }
        joined
    }

    /// Waits until the engine has ingested the chain up to a block after the set-up.
    async fn wait_engine_synced(&self) -> Result<()> {
        let (head, _) = chain::head(&self.provider).await?;
        let api = self.ports.api;
        wait_for(
            60,
            &format!("engine synced past block {head} with its key live"),
            " (see enclave-app.log)",
            || async move {
                let s = enclave::status(api).ok()?;
                let e = &s["engine"];
                (e["synced_block"].as_u64()? + 1 >= head && e["key_live"] == true).then_some(())
            },
        )
        .await
    }
}

fn generator_name(i: usize) -> String {
    format!("generator-{i:02}")
}

/// The app's configuration: `devnet run`'s, with the engine's poll interval and head check
/// from `opts` (absent: the engine's own defaults).
fn app_config(
    opts: &ScenarioOpts,
    pcrs: &ImagePcrs,
    market: &Market,
    l2: &RegistryChain,
    ports: Ports,
) -> Value {
    let mut config = enclave::app_config(&AppSpec {
        pcrs,
        chain_id: CHAIN_ID,
        marketplace: market.marketplace,
        registry: l2.registry,
        start_block: market.marketplace_block,
        verifier: market.verifier,
        ports,
        run: &opts.paths.run_dir,
    });
    if let Some(engine) = config["engine"].as_object_mut() {
        for (key, value) in [
            ("poll_interval_ms", opts.poll_interval_ms),
            ("head_check_ms", opts.head_check_ms),
        ] {
            match value {
                Some(ms) => engine.insert(key.into(), ms.into()),
                None => engine.remove(key),
            };
        }
    }
    config
}

/// Gives each account 10⁶ ETH (`anvil_setBalance`) and mints it `tokens(i)` of the payment
/// token; the mints are sent back to back and their receipts awaited together.
pub(crate) async fn fund(
    p: &DynProvider,
    token: Address,
    accounts: &[Address],
    tokens: impl Fn(usize) -> U256,
) -> Result<()> {
    let eth = whole(1_000_000);
    for a in accounts {
        let () = p
            .raw_request("anvil_setBalance".into(), (*a, eth))
            .await
            .map_err(|e| Error::rpc("anvil_setBalance", e))?;
    }
    let token = TestToken::new(token, p);
    let mut pending = Vec::with_capacity(accounts.len());
    for (i, a) in accounts.iter().enumerate() {
        pending.push(
            token
                .mint(*a, tokens(i))
                .send()
                .await
                .map_err(|e| Error::rpc("mint", e))?,
        );
    }
    for tx in pending {
        let receipt = tx.get_receipt().await.map_err(|e| Error::rpc("mint", e))?;
        ensure(receipt.status(), || "a mint reverted".into())?;
    }
    Ok(())
}
