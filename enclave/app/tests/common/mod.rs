//! What the anvil tests share: a throwaway anvil, the contracts deployed from forge's
//! artifacts, the dev image registered, a market with three generators, and the enclave app
//! (built with `danger-dev-nsm`) run as a child process on Unix sockets.

#![allow(dead_code, unreachable_pub)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, U256, aliases::U96, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, Log, TransactionReceipt};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolEvent, SolValue};
use serde_json::Value;
use testkit::Anvil;
use testkit::contracts::{
    EnclaveRegistry, IAccessControl, IERC20, NativeStaking, ProofMarketplace, TestToken,
};

pub const DEPLOYER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
pub const RELAYER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
pub const FAMILY: &str = "matching-engine-dev";
pub const PENALTY: u64 = 100;
pub const PROVING_TIME: u32 = 4;
pub use ProofMarketplace::{MatchingMode, SlotState};

/// A throwaway anvil (`testkit`): Cancun rules and a 200 M gas block limit, since a cold full
/// Nitro verification costs about 41 M gas in one transaction.
pub fn start_anvil() -> Anvil {
    Anvil::start(31337, &["--hardfork", "cancun", "--gas-limit", "200000000"])
}

pub async fn deploy(provider: &DynProvider, name: &str, args: Vec<u8>) -> Address {
    testkit::contracts::create(provider, name, &testkit::artifact(name), &args).await
}

pub async fn send<P: Provider, D: alloy::contract::CallDecoder>(
    what: &str,
    call: alloy::contract::CallBuilder<P, D>,
) -> TransactionReceipt {
    let receipt = call
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status(), "{what} reverted");
    receipt
}

/// One GET over the app's Unix socket: (status, body).
pub fn get(socket: &Path, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let s = std::os::unix::net::UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    testkit::http::get(s, path).map_err(std::io::Error::other)
}

/// One request with a body over the app's Unix socket: (status, body).
pub fn send_body(socket: &Path, method: &str, path: &str, body: &[u8]) -> (u16, Vec<u8>) {
    use std::io::{Read as _, Write as _};
    let mut s = std::os::unix::net::UnixStream::connect(socket).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: engine\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status = String::from_utf8_lossy(&raw[..split])
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap();
    (status, raw[split + 4..].to_vec())
}

pub fn get_json(socket: &Path, path: &str) -> (u16, Value) {
    let (status, body) = get(socket, path).unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// The dev CA root: `cabundle[0]` of a document from the dev NSM (what it claims; the verifier
/// built on it then checks the chain).
pub fn dev_root(document: &[u8]) -> Vec<u8> {
    let claimed = nitro_attestation::read_unverified(document).expect("a Nitro document");
    claimed.cabundle.first().expect("a cabundle").clone()
}

/// One run of the enclave app (dev NSM, Unix sockets, direct RPC), killed on drop.
pub struct App {
    pub child: Child,
    pub http: PathBuf,
    pub log: PathBuf,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl App {
    pub fn start(dir: &Path, run: u32, world: &World) -> App {
        Self::start_with(dir, run, world, serde_json::json!({}))
    }

    /// Starts run `run` with `extra` merged into the configuration (its `engine` object into
    /// the engine section, every other key at the top level), and waits for its HTTP API.
    pub fn start_with(dir: &Path, run: u32, world: &World, extra: Value) -> App {
        Self::start_as(dir, run, world, extra, RELAYER_KEY)
    }

    /// [`App::start_with`], paying gas with `relayer` (processes that send independently need
    /// accounts of their own: one nonce cannot be shared).
    pub fn start_as(dir: &Path, run: u32, world: &World, extra: Value, relayer: &str) -> App {
        let app = Self::spawn_as(dir, run, world, extra, relayer);
        app.wait_for(
            |s| s["chain"]["marketplace"].is_string(),
            "the app's HTTP API",
        );
        app
    }

    /// Starts run `run` with `extra` merged into the configuration, without waiting.
    pub fn spawn(dir: &Path, run: u32, world: &World, extra: Value) -> App {
        Self::spawn_as(dir, run, world, extra, RELAYER_KEY)
    }

    fn spawn_as(dir: &Path, run: u32, world: &World, extra: Value, relayer: &str) -> App {
        let (url, marketplace, registry) = (&world.url, world.marketplace, world.registry);
        let http = dir.join(format!("http-{run}.sock"));
        let mut config = serde_json::json!({
            "vsock_port": 5005,
            // Unused with a direct RPC, but the app insists on a bundle.
            "ca_roots": "/etc/ssl/certs/ca-certificates.crt",
            "status_listen": format!("unix:{}", dir.join(format!("status-{run}.sock")).display()),
            "dev_nsm_pcrs": {"PCR0": "11".repeat(48), "PCR1": "22".repeat(48), "PCR2": "33".repeat(48)},
            "engine": {
                "chain_id": 31337,
                "marketplace": marketplace.to_string(),
                "registry": registry.to_string(),
                "start_block": 0,
                "confirmations": 0,
                "poll_interval_ms": 200,
                "batch_size": 3,
                "http_listen": format!("unix:{}", http.display()),
                "rpc": {"url": url},
                "input_checks": [{"verifier": world.verifier.to_string(), "check": "schnorr-bn254"}],
            },
        });
        for (key, value) in extra.as_object().expect("an object") {
            match (key.as_str(), value.as_object()) {
                ("engine", Some(fields)) => {
                    for (k, v) in fields {
                        config["engine"][k] = v.clone();
                    }
                }
                _ => config[key] = value.clone(),
            }
        }
        let config_path = dir.join(format!("config-{run}.json"));
        std::fs::write(&config_path, config.to_string()).unwrap();
        let log = dir.join(format!("app-{run}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_enclave-app"))
            .arg("--config")
            .arg(&config_path)
            .env("ENCLAVE_APP_RELAYER_KEY", relayer)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        App { child, http, log }
    }

    /// The exit code of a run that must end (within 60 s), with its log.
    pub fn exit(&mut self) -> (Option<i32>, String) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (
                    status.code(),
                    std::fs::read_to_string(&self.log).unwrap_or_default(),
                );
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the app did not end; log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn status(&self) -> Value {
        get_json(&self.http, "/status").1
    }

    pub fn wait_for(&self, ok: impl Fn(&Value) -> bool, what: &str) -> Value {
        let start = Instant::now();
        loop {
            if let Ok((200, body)) = get(&self.http, "/status") {
                let v: Value = serde_json::from_slice(&body).unwrap();
                if ok(&v) {
                    return v;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "timed out waiting for {what}; log:\n{}",
                std::fs::read_to_string(&self.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

pub struct World {
    pub admin: Address,
    pub provider: DynProvider,
    pub deployer: DynProvider,
    pub registry: Address,
    pub marketplace: Address,
    pub staking: Address,
    pub token: Address,
    pub family: B256,
    pub generators: Vec<Address>,
    pub requester: Address,
    pub url: String,
    pub deployment: PathBuf,
    /// Market 1's verifier, with the `schnorr-bn254` input check in the engine's configuration.
    pub verifier: Address,
}

impl World {
    pub fn market(&self) -> ProofMarketplace::ProofMarketplaceInstance<&DynProvider> {
        ProofMarketplace::new(self.marketplace, &self.provider)
    }

    /// Starts engine `n`, registers its key and waits until the app sees the key live.
    pub async fn live_engine(&self, dir: &Path, n: u32) -> App {
        let app = App::start(dir, n, self);
        self.register_engine(&app).await;
        app.wait_for(
            |s| s["engine"]["key_live"] == true,
            "the engine key to be live",
        );
        app
    }

    /// Registers the running app's key: a verifier rooted in its dev CA for the family, then
    /// `registerEnclaveKey` with a fresh document (pcr-registry's `register-enclave`).
    pub async fn register_engine(&self, app: &App) {
        let (status, document) = get(&app.http, "/attestation/raw").unwrap();
        assert_eq!(status, 200);
        // The registry refuses a document from the future: register on a block stamped after it
        // (block timestamps are whole seconds, the document's milliseconds).
        tokio::time::sleep(Duration::from_millis(1100)).await;
        self.mine().await;
        let p384 = deploy(&self.deployer, "P384Verifier", Vec::new()).await;
        let verifier = deploy(
            &self.deployer,
            "NitroAttestationVerifier",
            (Bytes::from(dev_root(&document)), self.admin, p384).abi_encode_params(),
        )
        .await;
        send(
            "configureFamily",
            EnclaveRegistry::new(self.registry, &self.deployer).configureFamily(
                self.family,
                verifier,
                300,
                86_400,
            ),
        )
        .await;
        let deployment = pcr_registry::deployment::Deployment::read(&self.deployment).unwrap();
        let registry = pcr_registry::client::Registry::connect(
            self.deployer.clone(),
            deployment,
            Some(self.admin),
            &self.url,
        )
        .await
        .unwrap();
        let report = pcr_registry::enclave::register_enclave(&registry, FAMILY, document)
            .await
            .unwrap();
        assert_eq!(report.json["registered"], true, "{}", report.json);
        let key: Address = app.status()["engine_key"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(report.json["key"], key.to_string());
        assert!(
            EnclaveRegistry::new(self.registry, &self.provider)
                .isLiveKey(key, self.family)
                .call()
                .await
                .unwrap()
        );
    }

    /// Registers the dev image with PCR0/1/2 filled with these bytes in the engine family.
    pub async fn register_image(&self, fill: [u8; 3]) {
        let client = pcr_registry::client::Registry::connect(
            self.deployer.clone(),
            pcr_registry::deployment::Deployment::read(&self.deployment).unwrap(),
            Some(self.admin),
            &self.url,
        )
        .await
        .unwrap();
        client
            .register(
                self.family,
                &pcr_registry::pcrs::ImagePcrs {
                    pcr0: [fill[0]; 48].into(),
                    pcr1: [fill[1]; 48].into(),
                    pcr2: [fill[2]; 48].into(),
                    pcr8: None,
                },
                marketplace_bindings::IPcrRegistry::ImageMetadata {
                    name: "matching-engine".into(),
                    version: "dev".into(),
                    sourceRevision: String::new(),
                    eifSha256: B256::ZERO,
                    provenanceUri: String::new(),
                },
            )
            .await
            .unwrap();
    }

    pub async fn ask(&self, redundancy: u8, reward: u64, seed: u64) -> (U256, Bytes) {
        self.ask_from(self.requester, redundancy, reward, seed)
            .await
    }

    pub async fn ask_from(
        &self,
        requester: Address,
        redundancy: u8,
        reward: u64,
        seed: u64,
    ) -> (U256, Bytes) {
        let (params, data) = self
            .ask_params(requester, 1, redundancy, reward, seed)
            .await;
        let receipt = send("createAsk", self.market().createAsk(params).from(requester)).await;
        (ask_id(&receipt, self.marketplace), data)
    }

    pub async fn ask_params(
        &self,
        requester: Address,
        market: u64,
        redundancy: u8,
        reward: u64,
        seed: u64,
    ) -> (ProofMarketplace::AskParams, Bytes) {
        let data = testkit::schnorr::statement_and_proof(&self.provider, seed)
            .await
            .unwrap()
            .statement;
        let now = self
            .provider
            .get_block(alloy::eips::BlockId::latest())
            .await
            .unwrap()
            .unwrap()
            .header
            .timestamp;
        let params = ProofMarketplace::AskParams {
            marketId: U256::from(market),
            reward: U256::from(reward),
            expiry: now + 600,
            provingTime: PROVING_TIME,
            redundancy,
            refundAddress: requester,
            proverData: data.clone(),
        };
        (params, data)
    }

    /// Every log of `event` emitted by `address` since the genesis.
    pub async fn events(&self, address: Address, event: B256) -> Vec<Log> {
        self.provider
            .get_logs(
                &Filter::new()
                    .address(address)
                    .event_signature(event)
                    .from_block(0),
            )
            .await
            .unwrap()
    }

    /// The marketplace's `AssignmentAccepted` logs: how often each (ask, slot) was accepted,
    /// and each ask's generators.
    pub async fn accepted(
        &self,
    ) -> (
        std::collections::BTreeMap<(U256, u8), u32>,
        std::collections::BTreeMap<U256, Vec<Address>>,
    ) {
        let logs = self
            .events(
                self.marketplace,
                ProofMarketplace::AssignmentAccepted::SIGNATURE_HASH,
            )
            .await;
        let mut accepted = std::collections::BTreeMap::<(U256, u8), u32>::new();
        let mut by_ask = std::collections::BTreeMap::<U256, Vec<Address>>::new();
        for log in &logs {
            let e = ProofMarketplace::AssignmentAccepted::decode_log_data(log.data()).unwrap();
            *accepted.entry((e.askId, e.slot)).or_default() += 1;
            by_ask.entry(e.askId).or_default().push(e.generator);
        }
        (accepted, by_ask)
    }

    pub async fn mine(&self) {
        let _: Value = self
            .provider
            .raw_request("evm_mine".into(), ())
            .await
            .unwrap();
    }

    pub async fn automine(&self, on: bool) {
        let _: Value = self
            .provider
            .raw_request("evm_setAutomine".into(), (on,))
            .await
            .unwrap();
    }

    pub async fn slot(&self, ask: U256, slot: u8) -> ProofMarketplace::Slot {
        self.market()
            .getSlot(ask, U256::from(slot))
            .call()
            .await
            .unwrap()
    }

    pub async fn wait_assigned(&self, asks: &[(U256, u8)], app: &App) {
        let start = Instant::now();
        'outer: loop {
            for (ask, k) in asks {
                for s in 0..*k {
                    if matches!(
                        self.slot(*ask, s).await.state,
                        SlotState::None | SlotState::Open
                    ) {
                        assert!(
                            start.elapsed() < Duration::from_secs(60),
                            "ask {ask} slot {s} never assigned; status {}\nlog:\n{}",
                            app.status(),
                            std::fs::read_to_string(&app.log).unwrap_or_default()
                        );
                        tokio::time::sleep(Duration::from_millis(200)).await;
                        continue 'outer;
                    }
                }
            }
            return;
        }
    }
}

/// The id of the ask a `createAsk` receipt created (`AskCreated`'s first indexed topic).
pub fn ask_id(receipt: &TransactionReceipt, marketplace: Address) -> U256 {
    receipt
        .inner
        .logs()
        .iter()
        .find(|l| l.address() == marketplace)
        .map(|l| U256::from_be_bytes(l.topics()[1].0))
        .unwrap()
}

pub async fn setup(dir: &Path, anvil: &Anvil) -> World {
    let deployer_key: PrivateKeySigner = DEPLOYER_KEY.parse().unwrap();
    let admin = deployer_key.address();
    let deployer = ProviderBuilder::new()
        .wallet(EthereumWallet::from(deployer_key))
        .connect_http(anvil.url.parse().unwrap())
        .erased();
    let provider = ProviderBuilder::new()
        .connect_http(anvil.url.parse().unwrap())
        .erased();
    let accounts = provider.get_accounts().await.unwrap();
    let family = keccak256(FAMILY);

    let registry = deploy(
        &deployer,
        "EnclaveRegistry",
        (admin, alloy::primitives::aliases::U48::ZERO).abi_encode_params(),
    )
    .await;
    send(
        "grantRole",
        IAccessControl::new(registry, &deployer).grantRole(keccak256("REGISTRAR_ROLE"), admin),
    )
    .await;
    let token = deploy(&deployer, "TestToken", ("Test", "TST").abi_encode_params()).await;
    let treasury = accounts[9];
    let staking = deploy(
        &deployer,
        "NativeStaking",
        (token, treasury, 5_000u16).abi_encode_params(),
    )
    .await;
    let marketplace = deploy(
        &deployer,
        "ProofMarketplace",
        (registry, family, token, staking).abi_encode_params(),
    )
    .await;
    send(
        "bindMarketplace",
        NativeStaking::new(staking, &deployer).bindMarketplace(marketplace),
    )
    .await;
    let verifier = deploy(&deployer, "SchnorrBn254Verifier", vec![]).await;

    let deployment = dir.join("31337.json");
    std::fs::write(
        &deployment,
        serde_json::json!({"chainId": 31337, "startBlock": 0, "enclaveRegistry": registry.to_string(),
            "pcrRegistry": registry.to_string(), "admin": admin.to_string(), "families": []})
        .to_string(),
    )
    .unwrap();
    // The family needs a configuration before images and keys; its verifier is set per engine run.
    let placeholder = deploy(&deployer, "SchnorrBn254Verifier", vec![]).await;
    send(
        "configureFamily",
        EnclaveRegistry::new(registry, &deployer).configureFamily(family, placeholder, 300, 86_400),
    )
    .await;
    let world = World {
        admin,
        provider,
        deployer,
        registry,
        marketplace,
        staking,
        token,
        family,
        generators: accounts[2..5].to_vec(),
        requester: accounts[5],
        url: anvil.url.clone(),
        deployment,
        verifier,
    };
    world.register_image([0x11, 0x22, 0x33]).await;
    let market = world.market();
    send(
        "createMarket",
        market
            .createMarket(ProofMarketplace::MarketParams {
                verifier,
                mode: MatchingMode::OrderBook,
                bidWindow: 0,
                slashingPenalty: U96::from(PENALTY),
                proverFamily: B256::ZERO,
                activationDelay: 0,
            })
            .from(world.requester),
    )
    .await;
    let t = TestToken::new(token, &world.provider);
    let erc20 = IERC20::new(token, &world.provider);
    let st = NativeStaking::new(staking, &world.provider);
    for (i, g) in world.generators.iter().enumerate() {
        send("registerGenerator", market.registerGenerator(8).from(*g)).await;
        send("mint", t.mint(*g, U256::from(10_000)).from(*g)).await;
        send("approve", erc20.approve(staking, U256::MAX).from(*g)).await;
        send(
            "deposit",
            st.deposit(U256::from(1), U256::from(PENALTY * 10)).from(*g),
        )
        .await;
        let cost = U96::from(10 * (i as u64 + 1));
        send(
            "joinMarket",
            market
                .joinMarket(U256::from(1), cost, PROVING_TIME, Bytes::new())
                .from(*g),
        )
        .await;
    }
    send(
        "mint",
        t.mint(world.requester, U256::from(1_000_000))
            .from(world.requester),
    )
    .await;
    send(
        "approve",
        erc20.approve(marketplace, U256::MAX).from(world.requester),
    )
    .await;
    world
}
