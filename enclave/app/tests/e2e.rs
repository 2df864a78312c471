//! End to end on a real anvil with the dev NSM: the enclave app (built with `danger-dev-nsm`)
//! against `EnclaveRegistry`, `ProofMarketplace`, `NativeStaking` and `SchnorrBn254Verifier`
//! deployed from forge's artifacts. Run by `ci/engine-e2e`.
//!
//! The scenario: register the dev image; start the engine; register its key through the
//! family's full Nitro verifier (rooted in the engine's dev CA); create a market; three
//! generators register, stake and join; asks are created; the engine assigns them (signed
//! batches relayed by its relayer); a generator proves one with a real Schnorr proof and
//! withdraws its pay; a missed deadline is slashed; the engine is killed mid-stream, asks keep
//! coming, a new engine (new key, registered again) rebuilds from the chain, and every ask ends
//! up with each slot assigned exactly once.

use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, U256, aliases::U96, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionReceipt};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolEvent, SolValue};
use serde_json::Value;
use testkit::Anvil;
use testkit::contracts::{EnclaveRegistry, NativeStaking, ProofMarketplace, Roles, TestToken};

const DEPLOYER_KEY: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const RELAYER_KEY: &str = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const FAMILY: &str = "matching-engine-dev";
const PENALTY: u64 = 100;
const PROVING_TIME: u32 = 4;
const ASSIGNED: u8 = 2;
const COMPLETED: u8 = 3;
const SLASHED: u8 = 4;

/// A throwaway anvil (`testkit`): Cancun rules and a 200 M gas block limit, since a cold full
/// Nitro verification costs about 41 M gas in one transaction.
fn start_anvil() -> Anvil {
    Anvil::start(31337, &["--hardfork", "cancun", "--gas-limit", "200000000"])
}

/// Creation bytecode from forge's output (`ENGINE_E2E_FORGE_OUT`, as `ci/engine-e2e` sets it).
fn artifact(name: &str) -> Vec<u8> {
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/out");
    testkit::artifact_bytecode(
        &testkit::forge_out("ENGINE_E2E_FORGE_OUT", &default),
        name,
        "run ci/engine-e2e",
    )
}

async fn deploy(provider: &DynProvider, name: &str, args: Vec<u8>) -> Address {
    testkit::contracts::create(provider, name, &artifact(name), &args).await
}

async fn send<P: Provider, D: alloy::contract::CallDecoder>(
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
fn get(socket: &Path, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
    let mut s = std::os::unix::net::UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: engine\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| std::io::Error::other("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status"))?;
    Ok((status, raw[split + 4..].to_vec()))
}

fn get_json(socket: &Path, path: &str) -> (u16, Value) {
    let (status, body) = get(socket, path).unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// The dev CA root: `cabundle[0]` of a document from the dev NSM (a definite-length CBOR map
/// whose `cabundle` array holds 2-byte-length byte strings).
fn dev_root(document: &[u8]) -> Vec<u8> {
    let key = b"\x68cabundle";
    let at = document
        .windows(key.len())
        .position(|w| w == key)
        .expect("cabundle key")
        + key.len();
    assert!((0x81..=0x97).contains(&document[at]), "array header");
    assert_eq!(document[at + 1], 0x59, "byte string with a 2-byte length");
    let len = usize::from(u16::from_be_bytes([document[at + 2], document[at + 3]]));
    document[at + 4..at + 4 + len].to_vec()
}

/// One run of the enclave app (dev NSM, Unix sockets, direct RPC), killed on drop.
struct App {
    child: Child,
    http: PathBuf,
    log: PathBuf,
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl App {
    fn start(dir: &Path, run: u32, url: &str, marketplace: Address, registry: Address) -> App {
        let http = dir.join(format!("http-{run}.sock"));
        let config = serde_json::json!({
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
            },
        });
        let config_path = dir.join(format!("config-{run}.json"));
        std::fs::write(&config_path, config.to_string()).unwrap();
        let log = dir.join(format!("app-{run}.log"));
        let child = Command::new(env!("CARGO_BIN_EXE_enclave-app"))
            .arg("--config")
            .arg(&config_path)
            .env("ENCLAVE_APP_RELAYER_KEY", RELAYER_KEY)
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let app = App { child, http, log };
        app.wait_for(
            |s| s["chain"]["marketplace"].is_string(),
            "the app's HTTP API",
        );
        app
    }

    fn status(&self) -> Value {
        get_json(&self.http, "/status").1
    }

    fn wait_for(&self, ok: impl Fn(&Value) -> bool, what: &str) -> Value {
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

/// BN254 Schnorr proofs through the node's `ecMul` precompile.
struct Schnorr<'a> {
    provider: &'a DynProvider,
}

const BN254_N: U256 = alloy::primitives::uint!(
    0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001_U256
);

impl Schnorr<'_> {
    async fn mul_g(&self, k: U256) -> (U256, U256) {
        let input = (U256::from(1), U256::from(2), k).abi_encode();
        let out = self
            .provider
            .call(
                alloy::rpc::types::TransactionRequest::default()
                    .to(Address::with_last_byte(7))
                    .input(Bytes::from(input).into()),
            )
            .await
            .unwrap();
        <(U256, U256)>::abi_decode(&out).unwrap()
    }

    /// (proverData, proof) for the secret derived from `seed`.
    async fn statement_and_proof(&self, seed: u64) -> (Bytes, Bytes) {
        let x = U256::from_be_bytes(keccak256(seed.to_be_bytes()).0) % BN254_N;
        let k = U256::from_be_bytes(keccak256((seed, "nonce").abi_encode()).0) % BN254_N;
        let (px, py) = self.mul_g(x).await;
        let (rx, ry) = self.mul_g(k).await;
        let c = U256::from_be_bytes(keccak256((px, py, rx, ry).abi_encode()).0) % BN254_N;
        let s = k.add_mod(c.mul_mod(x, BN254_N), BN254_N);
        (
            Bytes::from((px, py).abi_encode()),
            Bytes::from((rx, ry, s).abi_encode()),
        )
    }
}

struct World {
    admin: Address,
    provider: DynProvider,
    deployer: DynProvider,
    registry: Address,
    marketplace: Address,
    staking: Address,
    token: Address,
    family: B256,
    generators: Vec<Address>,
    requester: Address,
    url: String,
    deployment: PathBuf,
}

impl World {
    fn market(&self) -> ProofMarketplace::ProofMarketplaceInstance<&DynProvider> {
        ProofMarketplace::new(self.marketplace, &self.provider)
    }

    /// Starts engine `n`, registers its key and waits until the app sees the key live.
    async fn live_engine(&self, dir: &Path, n: u32) -> App {
        let app = App::start(dir, n, &self.url, self.marketplace, self.registry);
        self.register_engine(&app).await;
        app.wait_for(
            |s| s["engine"]["key_live"] == true,
            "the engine key to be live",
        );
        app
    }

    /// Registers the running app's key: a verifier rooted in its dev CA for the family, then
    /// `registerEnclaveKey` with a fresh document (pcr-registry's `register-enclave`).
    async fn register_engine(&self, app: &App) {
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

    async fn ask(&self, redundancy: u8, reward: u64, seed: u64) -> (U256, Bytes) {
        self.ask_from(self.requester, redundancy, reward, seed)
            .await
    }

    async fn ask_from(
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

    async fn ask_params(
        &self,
        requester: Address,
        market: u64,
        redundancy: u8,
        reward: u64,
        seed: u64,
    ) -> (ProofMarketplace::AskParams, Bytes) {
        let (data, _) = Schnorr {
            provider: &self.provider,
        }
        .statement_and_proof(seed)
        .await;
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

    async fn mine(&self) {
        let _: Value = self
            .provider
            .raw_request("evm_mine".into(), ())
            .await
            .unwrap();
    }

    async fn automine(&self, on: bool) {
        let _: Value = self
            .provider
            .raw_request("evm_setAutomine".into(), (on,))
            .await
            .unwrap();
    }

    async fn slot(&self, ask: U256, slot: u8) -> ProofMarketplace::Slot {
        self.market()
            .getSlot(ask, U256::from(slot))
            .call()
            .await
            .unwrap()
    }

    async fn wait_assigned(&self, asks: &[(U256, u8)], app: &App) {
        let start = Instant::now();
        'outer: loop {
            for (ask, k) in asks {
                for s in 0..*k {
                    if self.slot(*ask, s).await.state < ASSIGNED {
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
fn ask_id(receipt: &TransactionReceipt, marketplace: Address) -> U256 {
    receipt
        .inner
        .logs()
        .iter()
        .find(|l| l.address() == marketplace)
        .map(|l| U256::from_be_bytes(l.topics()[1].0))
        .unwrap()
}

async fn setup(dir: &Path, anvil: &Anvil) -> World {
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
        Roles::new(registry, &deployer).grantRole(keccak256("REGISTRAR_ROLE"), admin),
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
    let client = pcr_registry::client::Registry::connect(
        deployer.clone(),
        pcr_registry::deployment::Deployment::read(&deployment).unwrap(),
        Some(admin),
        &anvil.url,
    )
    .await
    .unwrap();
    client
        .register(
            family,
            &pcr_registry::pcrs::ImagePcrs {
                pcr0: [0x11; 48],
                pcr1: [0x22; 48],
                pcr2: [0x33; 48],
                pcr8: None,
            },
            pcr_registry::bindings::IPcrRegistry::ImageMetadata {
                name: "matching-engine".into(),
                version: "dev".into(),
                sourceRevision: String::new(),
                eifSha256: B256::ZERO,
                provenanceUri: String::new(),
            },
        )
        .await
        .unwrap();

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
    };
    let market = world.market();
    send(
        "createMarket",
        market
            .createMarket(ProofMarketplace::MarketParams {
                verifier,
                mode: 0,
                bidWindow: 0,
                slashingPenalty: U96::from(PENALTY),
                proverFamily: B256::ZERO,
                activationDelay: 0,
            })
            .from(world.requester),
    )
    .await;
    let t = TestToken::new(token, &world.provider);
    let st = NativeStaking::new(staking, &world.provider);
    for (i, g) in world.generators.iter().enumerate() {
        send("registerGenerator", market.registerGenerator(8).from(*g)).await;
        send("mint", t.mint(*g, U256::from(10_000)).from(*g)).await;
        send("approve", t.approve(staking, U256::MAX).from(*g)).await;
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
        t.approve(marketplace, U256::MAX).from(world.requester),
    )
    .await;
    world
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/engine-e2e"]
async fn engine_assigns_proofs_pay_deadlines_slash_and_restart_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let anvil = start_anvil();
    let world = setup(dir.path(), &anvil).await;

    // Engine 1: started, attested, registered.
    let app = world.live_engine(dir.path(), 1).await;

    // The attestation endpoints: the document binds the engine key and the caller's nonce.
    let (status, hex_doc) = get(&app.http, "/attestation/hex?nonce=c0ffee").unwrap();
    assert_eq!(status, 200);
    let document = hex::decode(&hex_doc).unwrap();
    let verified = nitro_attestation::Verifier::new(
        nitro_attestation::TrustedRoot::from_der(dev_root(&document)),
        nitro_attestation::Policy::default(),
    )
    .verify(&document)
    .unwrap();
    let public_key = app.status()["engine_public_key"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        format!(
            "0x{}",
            hex::encode(verified.document().public_key.as_ref().unwrap())
        ),
        public_key
    );
    assert_eq!(
        verified.document().nonce.as_deref(),
        Some(&[0xc0, 0xff, 0xee][..])
    );
    assert_eq!(
        get_json(&app.http, "/attestation/raw?nonce=zz").1["error"],
        "bad_nonce"
    );

    // Asks are assigned (the cheapest generators first), proved, paid.
    let schnorr = Schnorr {
        provider: &world.provider,
    };
    let (a, _) = world.ask(2, 100, 1).await;
    let (b, b_data) = world.ask(1, 50, 2).await;
    world.wait_assigned(&[(a, 2), (b, 1)], &app).await;
    let slot_b = world.slot(b, 0).await;
    assert_eq!(
        slot_b.generator, world.generators[0],
        "price-time priority: the cheapest"
    );
    assert_eq!(slot_b.price, U256::from(10));
    let a_slots = [world.slot(a, 0).await, world.slot(a, 1).await];
    assert_ne!(
        a_slots[0].generator, a_slots[1].generator,
        "distinct generators per ask"
    );
    let (_, market) = get_json(&app.http, "/markets/1");
    assert_eq!(market["mode"], "order_book");

    let (_, proof) = schnorr.statement_and_proof(2).await;
    let market_c = world.market();
    send(
        "submitProof",
        market_c
            .submitProof(b, U256::ZERO, b_data, proof)
            .from(slot_b.generator),
    )
    .await;
    assert_eq!(world.slot(b, 0).await.state, COMPLETED);
    let token = TestToken::new(world.token, &world.provider);
    let before = token.balanceOf(slot_b.generator).call().await.unwrap();
    send("withdraw", market_c.withdraw().from(slot_b.generator)).await;
    let after = token.balanceOf(slot_b.generator).call().await.unwrap();
    assert_eq!(
        after - before,
        U256::from(10),
        "the generator is paid its price"
    );

    // A missed deadline is slashed (by anyone: here the requester).
    let (c, _) = world.ask(1, 80, 3).await;
    world.wait_assigned(&[(c, 1)], &app).await;
    let slot_c = world.slot(c, 0).await;
    let staking = NativeStaking::new(world.staking, &world.provider);
    let stake_before = staking
        .stakeOf(slot_c.generator, U256::from(1))
        .call()
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_secs(u64::from(PROVING_TIME) + 2)).await;
    let _: Value = world
        .provider
        .raw_request("evm_mine".into(), ())
        .await
        .unwrap();
    send("slash", market_c.slash(c, U256::ZERO).from(world.requester)).await;
    assert_eq!(world.slot(c, 0).await.state, SLASHED);
    let stake_after = staking
        .stakeOf(slot_c.generator, U256::from(1))
        .call()
        .await
        .unwrap();
    assert_eq!(stake_before - stake_after, U256::from(PENALTY));

    // Mid-stream restart. Five asks land in one block while blocks are mined only on demand, so
    // the engine's batches for them wait in the mempool; the engine is killed with them in
    // flight, they land after its death; three more asks arrive while no engine runs; a new
    // engine (new key) rebuilds from the chain.
    let before = app.status()["engine"]["assignments_sent"].as_u64().unwrap();
    world.automine(false).await;
    let mut pending = Vec::new();
    for i in 0..5 {
        let (params, _) = world.ask_params(world.requester, 1, 1, 60, 10 + i).await;
        pending.push(
            world
                .market()
                .createAsk(params)
                .from(world.requester)
                .send()
                .await
                .unwrap(),
        );
    }
    world.mine().await;
    let mut stream = Vec::new();
    for p in pending {
        let receipt = p.get_receipt().await.unwrap();
        assert!(receipt.status());
        stream.push((ask_id(&receipt, world.marketplace), 1u8));
    }
    app.wait_for(
        |s| s["engine"]["assignments_sent"].as_u64() == Some(before + 5),
        "the engine to relay the five asks",
    );
    let in_flight: Value = world
        .provider
        .raw_request("txpool_status".into(), ())
        .await
        .unwrap();
    assert_ne!(
        in_flight["pending"], "0x0",
        "batches wait in the mempool: {in_flight}"
    );
    drop(app);
    world.mine().await;
    world.automine(true).await;
    for (ask, _) in &stream {
        assert_eq!(
            world.slot(*ask, 0).await.state,
            ASSIGNED,
            "landed after the kill"
        );
    }
    for i in 0..3 {
        stream.push((world.ask(2, 60, 20 + i).await.0, 2u8));
    }
    let app = App::start(dir.path(), 2, &world.url, world.marketplace, world.registry);
    world.register_engine(&app).await;
    world.wait_assigned(&stream, &app).await;
    let status = app.wait_for(
        |s| s["engine"]["caught_up"] == true,
        "the new engine to catch up",
    );
    assert_eq!(status["engine"]["decode_errors"], 0, "{status}");
    assert_eq!(status["engine"]["rejected_events"], 0, "{status}");

    // Every slot of every ask was accepted exactly once, each ask by distinct generators.
    let logs = world
        .provider
        .get_logs(
            &Filter::new()
                .address(world.marketplace)
                .event_signature(ProofMarketplace::AssignmentAccepted::SIGNATURE_HASH)
                .from_block(0),
        )
        .await
        .unwrap();
    let mut accepted = std::collections::BTreeMap::<(U256, u8), u32>::new();
    let mut by_ask = std::collections::BTreeMap::<U256, Vec<Address>>::new();
    for log in &logs {
        let e = ProofMarketplace::AssignmentAccepted::decode_log_data(log.data()).unwrap();
        *accepted.entry((e.askId, e.slot)).or_default() += 1;
        by_ask.entry(e.askId).or_default().push(e.generator);
    }
    let all: Vec<(U256, u8)> = [(a, 2), (b, 1), (c, 1)]
        .into_iter()
        .chain(stream.iter().copied())
        .collect();
    let expected: u32 = all.iter().map(|(_, k)| u32::from(*k)).sum();
    assert_eq!(accepted.values().sum::<u32>(), expected, "{accepted:?}");
    for (ask, k) in &all {
        for s in 0..*k {
            assert_eq!(accepted.get(&(*ask, s)), Some(&1), "ask {ask} slot {s}");
        }
        let mut gens = by_ask[ask].clone();
        gens.sort();
        gens.dedup();
        assert_eq!(
            gens.len(),
            usize::from(*k),
            "ask {ask}: distinct generators"
        );
    }
    // The new engine's view follows: the asks it rebuilt show as assigned once it has read
    // the acceptances.
    let last = stream[7].0;
    let start = Instant::now();
    loop {
        let (code, view) = get_json(&app.http, &format!("/asks/{last}"));
        assert_eq!(code, 200, "{view}");
        let slots = view["slots"].as_array().unwrap();
        if slots.len() == 2 && slots.iter().all(|s| s["state"] == "assigned") {
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        get_json(&app.http, "/asks/999999").1["error"],
        "unknown_ask"
    );
    assert_eq!(get_json(&app.http, "/asks/x").1["error"], "bad_id");
    let status = app.status();
    assert_eq!(status["engine"]["pending_assignments"], 0, "{status}");
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/engine-e2e"]
async fn a_reorg_rolls_the_engine_back_and_it_follows_the_new_chain() {
    let dir = tempfile::tempdir().unwrap();
    let anvil = start_anvil();
    let world = setup(dir.path(), &anvil).await;
    let app = world.live_engine(dir.path(), 1).await;

    // An ask, assigned, and seen by the engine.
    let fork = world.provider.get_block_number().await.unwrap();
    let (x, _) = world.ask(1, 70, 1).await;
    world.wait_assigned(&[(x, 1)], &app).await;
    let head = world.provider.get_block_number().await.unwrap();
    app.wait_for(
        |s| s["engine"]["synced_block"].as_u64() >= Some(head),
        "the engine to read the acceptance",
    );
    let (_, view) = get_json(&app.http, &format!("/asks/{x}"));
    assert_eq!(view["slots"][0]["state"], "assigned", "{view}");

    // The blocks with the ask and its acceptance are replaced by empty ones (same height).
    let depth = head - fork;
    let _: Value = world
        .provider
        .raw_request("anvil_reorg".into(), (depth, Vec::<Value>::new()))
        .await
        .unwrap();
    assert_eq!(
        world.slot(x, 0).await.state,
        0,
        "the ask is gone from the chain"
    );
    // A new block on top, so the engine sees the new chain at a greater height too.
    let _: Value = world
        .provider
        .raw_request("evm_mine".into(), ())
        .await
        .unwrap();
    let status = app.wait_for(
        |s| {
            s["engine"]["reorgs"].as_u64() >= Some(1) || s["engine"]["rebuilds"].as_u64() >= Some(1)
        },
        "the engine to notice the reorg",
    );
    let (code, view) = get_json(&app.http, &format!("/asks/{x}"));
    assert_eq!(
        (code, &view["error"]),
        (404, &Value::from("unknown_ask")),
        "{view} {status}"
    );

    // On the new chain the next ask takes the same id, with other terms; the engine assigns it.
    // (Another requester: anvil keeps counting the dropped transaction in the first one's nonce.)
    let other = world.provider.get_accounts().await.unwrap()[6];
    let token = TestToken::new(world.token, &world.provider);
    send("mint", token.mint(other, U256::from(1_000)).from(other)).await;
    send(
        "approve",
        token.approve(world.marketplace, U256::MAX).from(other),
    )
    .await;
    let (y, _) = world.ask_from(other, 1, 90, 2).await;
    assert_eq!(y, x);
    world.wait_assigned(&[(y, 1)], &app).await;
    let start = Instant::now();
    loop {
        let (_, view) = get_json(&app.http, &format!("/asks/{y}"));
        if view["slots"][0]["state"] == "assigned" {
            assert_eq!(view["reward"], "90", "{view}");
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(30), "{view}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let status = app.status();
    assert_eq!(status["engine"]["rejected_events"], 0, "{status}");
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/engine-e2e"]
async fn sealed_bids_to_the_attested_key_are_opened_inside_at_the_second_price() {
    let dir = tempfile::tempdir().unwrap();
    let anvil = start_anvil();
    let world = setup(dir.path(), &anvil).await;
    let app = world.live_engine(dir.path(), 1).await;
    let status = app.status();

    // A sealed-bid market (id 2) with a 4-second window; the generators stake and join it.
    let market = world.market();
    let verifier = deploy(&world.deployer, "SchnorrBn254Verifier", vec![]).await;
    send(
        "createMarket",
        market
            .createMarket(ProofMarketplace::MarketParams {
                verifier,
                mode: 1,
                bidWindow: 4,
                slashingPenalty: U96::from(PENALTY),
                proverFamily: B256::ZERO,
                activationDelay: 0,
            })
            .from(world.requester),
    )
    .await;
    let staking = NativeStaking::new(world.staking, &world.provider);
    for g in &world.generators {
        send(
            "deposit",
            staking
                .deposit(U256::from(2), U256::from(PENALTY * 10))
                .from(*g),
        )
        .await;
        send(
            "joinMarket",
            market
                .joinMarket(U256::from(2), U96::from(90u64), PROVING_TIME, Bytes::new())
                .from(*g),
        )
        .await;
    }
    let (params, _) = world.ask_params(world.requester, 2, 1, 100, 7).await;
    let receipt = send("createAsk", market.createAsk(params).from(world.requester)).await;
    let ask = ask_id(&receipt, world.marketplace);

    // Each generator seals its price to the bid key that the engine's attestation carries as
    // user_data (here read from /status; the document binds the same bytes).
    let bid_key = hex::decode(
        status["bid_public_key"]
            .as_str()
            .unwrap()
            .trim_start_matches("0x"),
    )
    .unwrap();
    let (_, document) = get(&app.http, "/attestation/raw").unwrap();
    let verified = nitro_attestation::Verifier::new(
        nitro_attestation::TrustedRoot::from_der(dev_root(&document)),
        nitro_attestation::Policy::default(),
    )
    .verify(&document)
    .unwrap();
    assert_eq!(verified.document().user_data.as_deref(), Some(&bid_key[..]));
    let bid_key = matching_engine::PublicKey::from_sec1_bytes(&bid_key).unwrap();
    let context = matching_engine::BidContext {
        chain_id: 31337,
        marketplace: matching_engine::Address(world.marketplace.into_array()),
    };
    for (g, price) in world.generators.iter().zip([70u128, 40, 55]) {
        let sealed = matching_engine::seal_bid(
            &mut rand_core::OsRng,
            &bid_key,
            &context,
            ask.to::<u64>(),
            matching_engine::Address(g.into_array()),
            price,
        );
        send(
            "submitBid",
            market.submitBid(ask, Bytes::from(sealed)).from(*g),
        )
        .await;
    }
    // Nothing is assigned while the window is open; after it, the lowest bid wins and is paid
    // the second-lowest.
    assert_eq!(world.slot(ask, 0).await.state, 1);
    tokio::time::sleep(Duration::from_secs(5)).await;
    world.mine().await;
    world.wait_assigned(&[(ask, 1)], &app).await;
    let slot = world.slot(ask, 0).await;
    assert_eq!(slot.generator, world.generators[1], "the lowest bid wins");
    assert_eq!(slot.price, U256::from(55), "uniform second price");
}
