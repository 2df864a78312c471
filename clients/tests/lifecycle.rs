//! The clients against a real anvil and the real contracts (forge's artifacts): a requester's
//! ask proven by a generator node, the node killed mid-proof and restarted, an assignment
//! reorganised away, and a private ask sealed, re-wrapped and opened by the node.
//!
//! The matching engine is played by the test: it signs assignment batches with a key that an
//! always-live stand-in registry vouches for (the registry's own checks are the contracts'
//! tests' business), and wraps private asks' content keys with `market-sealing`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use alloy::signers::SignerSync as _;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::{SolEvent, SolValue};
use market_client::ask::{Marketplace, NewAsk, PrivateCommitment};
use market_client::private::AskBinding;
use serde_json::Value;
use testkit::Anvil;
use testkit::contracts::{NativeStaking, ProofMarketplace, TestToken};

const DEPLOYER: &str = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const GENERATOR: &str = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const REQUESTER: &str = "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6";
/// The stand-in enclave registry: answers every call with the word 1 (`isLiveKey` → true).
const ALWAYS_TRUE: &str = "0x600160005260206000f3";

fn signer(key: &str) -> PrivateKeySigner {
    key.parse().unwrap()
}

/// The deployed marketplace and its market.
struct World {
    anvil: Anvil,
    p: DynProvider,
    marketplace: Address,
    market: U256,
    engine: PrivateKeySigner,
    generator: Address,
    requester: Address,
    dir: tempfile::TempDir,
}

async fn deploy(p: &DynProvider, name: &str, args: Vec<u8>) -> Address {
    testkit::contracts::create(p, name, &testkit::artifact(name), &args).await
}

async fn send<P: Provider, D: alloy::contract::CallDecoder>(
    what: &str,
    call: alloy::contract::CallBuilder<P, D>,
) -> alloy::rpc::types::TransactionReceipt {
    let r = call
        .send()
        .await
        .unwrap_or_else(|e| panic!("{what}: {e}"))
        .get_receipt()
        .await
        .unwrap();
    assert!(r.status(), "{what} reverted");
    r
}

impl World {
    async fn new() -> World {
        let anvil = Anvil::start(31337, &["--hardfork", "cancun"]);
        let mut wallet = EthereumWallet::from(signer(DEPLOYER));
        for key in [GENERATOR, REQUESTER] {
            wallet.register_signer(signer(key));
        }
        let p = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(anvil.url.parse().unwrap())
            .erased();
        let deployer = signer(DEPLOYER).address();
        let registry = Address::repeat_byte(0xe1);
        let _: Value = p
            .raw_request("anvil_setCode".into(), (registry, ALWAYS_TRUE))
            .await
            .unwrap();
        let token = deploy(&p, "TestToken", ("Test", "TST").abi_encode_params()).await;
        let staking = deploy(
            &p,
            "NativeStaking",
            (token, deployer, 5_000u16).abi_encode_params(),
        )
        .await;
        let marketplace = deploy(
            &p,
            "ProofMarketplace",
            (registry, keccak256("matching-engine-dev"), token, staking).abi_encode_params(),
        )
        .await;
        send(
            "bind",
            NativeStaking::new(staking, &p).bindMarketplace(marketplace),
        )
        .await;
        let verifier = deploy(&p, "SchnorrBn254Verifier", Vec::new()).await;
        let m = ProofMarketplace::new(marketplace, &p);
        send(
            "createMarket",
            m.createMarket(ProofMarketplace::MarketParams {
                verifier,
                mode: ProofMarketplace::MatchingMode::OrderBook,
                bidWindow: 0,
                slashingPenalty: alloy::primitives::aliases::U96::from(100u64),
                proverFamily: B256::ZERO,
                activationDelay: 0,
            }),
        )
        .await;
        let market = m.marketCount().call().await.unwrap();
        let generator = signer(GENERATOR).address();
        let requester = signer(REQUESTER).address();
        let t = TestToken::new(token, &p);
        for who in [generator, requester] {
            send("mint", t.mint(who, U256::from(1_000_000u64))).await;
        }
        World {
            anvil,
            p,
            marketplace,
            market,
            engine: PrivateKeySigner::random(),
            generator,
            requester,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The node's configuration with `prover` as its command; returns its path.
    fn generator_config(&self, prover: &[&str], confirmations: u64) -> PathBuf {
        std::fs::write(self.path("generator.key"), GENERATOR).unwrap();
        let config = serde_json::json!({
            "rpc": self.anvil.url,
            "marketplace": self.marketplace,
            "key_file": "generator.key",
            "state_dir": "state",
            "capacity": 4,
            "confirmations": confirmations,
            "poll_ms": 100,
            "markets": [{"id": self.market.to_string(), "cost": "10", "proposed_time": 30, "stake": "1000"}],
            "prover": {"command": prover, "timeout_secs": 60},
        });
        let path = self.path("generator.json");
        std::fs::write(&path, config.to_string()).unwrap();
        path
    }

    fn start_generator(&self, config: &Path, metrics: Option<u16>) -> Node {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_generator"));
        cmd.args(["run", "--config"]).arg(config);
        if let Some(port) = metrics {
            cmd.args(["--metrics", &format!("127.0.0.1:{port}")]);
        }
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(self.path("generator.log")).unwrap())
            .spawn()
            .unwrap();
        Node(child)
    }

    /// Waits until the node has joined the market (its setup is done).
    async fn wait_joined(&self) {
        let m = ProofMarketplace::new(self.marketplace, &self.p);
        self.until("the generator joins", || async {
            let offer = m
                .getOffer(self.generator, self.market)
                .call()
                .await
                .unwrap();
            let key = m
                .encryptionKeyHashOf(self.generator, self.market)
                .call()
                .await
                .unwrap();
            offer.joined && key != B256::ZERO
        })
        .await;
    }

    async fn until<F: std::future::Future<Output = bool>>(
        &self,
        what: &str,
        mut check: impl FnMut() -> F,
    ) {
        let started = Instant::now();
        while !check().await {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "timed out waiting until {what}; generator log:\n{}",
                std::fs::read_to_string(self.path("generator.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn requester(&self) -> Marketplace {
        Marketplace::new(self.p.clone(), self.marketplace, Some(self.requester))
    }

    fn new_ask(&self, statement: &[u8]) -> NewAsk {
        NewAsk {
            market_id: self.market,
            reward: U256::from(100),
            expiry_in: 3600,
            proving_time: 60,
            redundancy: 1,
            refund_address: None,
            statement: Bytes::copy_from_slice(statement),
        }
    }

    fn assignment(&self, ask: U256) -> ProofMarketplace::Assignment {
        ProofMarketplace::Assignment {
            askId: ask,
            slot: U256::ZERO,
            generator: self.generator,
            price: U256::from(50),
        }
    }

    /// The engine's signed batch assigning slot 0 of `ask` to the generator.
    async fn assign(&self, ask: U256) -> u64 {
        let m = ProofMarketplace::new(self.marketplace, &self.p);
        let batch = vec![self.assignment(ask)];
        let valid = U256::from(u64::MAX);
        let digest = m.batchDigest(batch.clone(), valid).call().await.unwrap();
        let sig = self.engine.sign_hash_sync(&digest).unwrap();
        let r = send(
            "assignBatch",
            m.assignBatch(batch, valid, Bytes::from(sig.as_bytes().to_vec())),
        )
        .await;
        assert_accepted(&r);
        r.block_number.unwrap()
    }

    /// As [`World::assign`] for a private ask, with the content key wrapped to the node.
    async fn assign_private(&self, ask: U256, wrap: Bytes) {
        let m = ProofMarketplace::new(self.marketplace, &self.p);
        let batch = vec![self.assignment(ask)];
        let wraps = vec![wrap];
        let valid = U256::from(u64::MAX);
        let digest = m
            .keyedBatchDigest(batch.clone(), wraps.clone(), valid)
            .call()
            .await
            .unwrap();
        let sig = self.engine.sign_hash_sync(&digest).unwrap();
        let r = send(
            "assignBatchWithKeys",
            m.assignBatchWithKeys(batch, wraps, valid, Bytes::from(sig.as_bytes().to_vec())),
        )
        .await;
        assert_accepted(&r);
    }

    async fn mine(&self, blocks: u64) {
        let _: Value = self
            .p
            .raw_request("anvil_mine".into(), (U256::from(blocks),))
            .await
            .unwrap();
    }

    async fn proofs_logged(&self, ask: U256) -> Vec<Bytes> {
        let filter = Filter::new()
            .address(self.marketplace)
            .event_signature(ProofMarketplace::ProofSubmitted::SIGNATURE_HASH)
            .topic1(B256::from(ask))
            .from_block(0);
        self.p
            .get_logs(&filter)
            .await
            .unwrap()
            .iter()
            .map(|l| {
                ProofMarketplace::ProofSubmitted::decode_log_data(l.data())
                    .unwrap()
                    .proof
            })
            .collect()
    }

    fn journal(&self) -> Vec<Value> {
        std::fs::read_to_string(self.path("state/journal.jsonl"))
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn journal_has(&self, kind: &str, outcome: Option<&str>) -> usize {
        self.journal()
            .iter()
            .filter(|r| r["kind"] == kind && outcome.is_none_or(|o| r["outcome"] == o))
            .count()
    }

    /// A public ask for `statement`, created, assigned to the node and one block deep.
    async fn assigned_public_ask(&self, statement: &[u8]) -> market_client::ask::Created {
        let created = self
            .requester()
            .create_public(&self.new_ask(statement))
            .await
            .unwrap();
        self.assign(created.ask).await;
        self.mine(1).await;
        created
    }

    /// The requester's part of a private ask: `secret` sealed to `engine_key`, the ask created
    /// with the inputs inline or (for the engine to serve) without them.
    async fn create_sealed(
        &self,
        engine_key: &market_sealing::EncryptionKey,
        statement: &[u8],
        secret: &[u8],
        inline: bool,
    ) -> (market_client::ask::Created, market_sealing::SealedInputs) {
        let market_id = u64::try_from(self.market).unwrap();
        let binding = AskBinding::new(
            31337,
            self.marketplace,
            market_id,
            self.requester,
            statement,
        );
        let sealed = market_client::private::seal(&binding, secret, engine_key.public_key());
        let created = self
            .requester()
            .create_private(
                &self.new_ask(statement),
                &PrivateCommitment {
                    inputs_hash: B256::from(sealed.inputs_hash),
                    engine_key_wrap: Bytes::copy_from_slice(&sealed.engine_key_wrap),
                    inline_inputs: if inline {
                        Bytes::from(sealed.inputs.clone())
                    } else {
                        Bytes::new()
                    },
                },
            )
            .await
            .unwrap();
        (created, sealed)
    }

    /// The engine's part of a private assignment: unwrap the ask's content key with the
    /// engine key and wrap it to the node's key for the market (read from its state dir).
    fn rewrap_for_node(
        &self,
        engine_key: &market_sealing::EncryptionKey,
        sealed: &market_sealing::SealedInputs,
        statement: &[u8],
        ask: U256,
    ) -> [u8; market_sealing::KEY_WRAP_LEN] {
        let ctx = market_sealing::Context {
            chain_id: 31337,
            marketplace: self.marketplace.into_array(),
        };
        let binding = market_sealing::InputsBinding {
            market: u64::try_from(self.market).unwrap(),
            requester: self.requester.into_array(),
            prover_data_hash: keccak256(statement).0,
        };
        let k = market_sealing::unwrap_engine_key(
            engine_key,
            &ctx,
            &binding,
            &sealed.inputs_hash,
            &sealed.engine_key_wrap,
        )
        .unwrap();
        let hex_key =
            std::fs::read_to_string(self.path(&format!("state/encryption-key-{}", self.market)))
                .unwrap();
        let node_key = market_sealing::EncryptionKey::from_bytes(
            &hex::decode(hex_key.trim()).unwrap().try_into().unwrap(),
        )
        .unwrap();
        market_sealing::wrap_for_generator(
            engine_key,
            &ctx,
            &market_sealing::SlotBinding {
                ask: u64::try_from(ask).unwrap(),
                slot: 0,
                generator: self.generator.into_array(),
            },
            &sealed.inputs_hash,
            &k,
            node_key.public_key(),
        )
    }

    /// Runs the requester binary with `--json`; returns its stdout's JSON lines and exit code.
    fn requester_cli(&self, args: &[&str]) -> (Vec<Value>, i32) {
        let out = Command::new(env!("CARGO_BIN_EXE_requester"))
            .args(["--json", "--rpc", &self.anvil.url])
            .args(["--marketplace", &self.marketplace.to_string()])
            .args(args)
            .env("REQUESTER_KEY", REQUESTER)
            .output()
            .unwrap();
        let lines = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON: {l}: {e}")))
            .collect();
        (lines, out.status.code().unwrap_or(-1))
    }
}

fn assert_accepted(r: &alloy::rpc::types::TransactionReceipt) {
    let accepted =
        r.inner.logs().iter().any(|l| {
            l.topics().first() == Some(&ProofMarketplace::AssignmentAccepted::SIGNATURE_HASH)
        });
    assert!(accepted, "the batch was skipped: {:?}", r.inner.logs());
}

/// The node's metrics page.
async fn scrape(port: u16) -> String {
    reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// A generator node process, killed when dropped.
struct Node(Child);

impl Node {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A Schnorr statement and its proof for secret `x`.
fn schnorr(x: u64) -> ([u8; 32], Vec<u8>, Vec<u8>) {
    let secret = U256::from(x).to_be_bytes::<32>();
    let statement = market_client::schnorr::statement(&secret).unwrap();
    let proof = market_client::schnorr::prove(&statement, &secret).unwrap();
    (secret, statement.to_vec(), proof.to_vec())
}

/// A prover command that waits `delay` seconds, then writes `proof` (public asks carry no
/// secret, so the test hands the node the finished proof).
fn canned_prover(w: &World, proof: &[u8], delay: u32) -> Vec<String> {
    let file = w.path("canned.proof");
    std::fs::write(&file, proof).unwrap();
    vec![
        "sh".into(),
        "-c".into(),
        format!("sleep {delay}; cp {} {{proof_file}}", file.display()),
    ]
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/clients-test"]
async fn the_requester_cli_follows_an_ask_to_its_proof() {
    let w = World::new().await;
    let (_, statement, proof) = schnorr(41);
    let prover = canned_prover(&w, &proof, 0);
    let config = w.generator_config(&strs(&prover), 1);
    let metrics = testkit::free_port();
    let _node = w.start_generator(&config, Some(metrics));
    w.wait_joined().await;

    let (created, code) = w.requester_cli(&[
        "create",
        "--market",
        &w.market.to_string(),
        "--statement",
        &format!("0x{}", hex::encode(&statement)),
        "--reward",
        "100",
        "--proving-time",
        "60",
    ]);
    assert_eq!(code, 0, "{created:?}");
    let ask: U256 = created[0]["ask"].as_str().unwrap().parse().unwrap();
    let (status, _) = w.requester_cli(&["status", &ask.to_string()]);
    assert_eq!(status[0]["phase"], "open");
    assert_eq!(status[0]["slots"][0]["state"], "Open");

    w.assign(ask).await;
    w.mine(1).await;
    let (progress, code) = w.requester_cli(&[
        "wait",
        &ask.to_string(),
        "--timeout",
        "60",
        "--poll-ms",
        "100",
    ]);
    assert_eq!(code, 0, "{progress:?}");
    assert_eq!(progress.last().unwrap()["phase"], "proven");
    let generator: Address = progress.last().unwrap()["slots"][0]["generator"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(generator, w.generator);

    let out = w.path("proof.bin");
    let (written, code) =
        w.requester_cli(&["proof", &ask.to_string(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{written:?}");
    assert_eq!(std::fs::read(&out).unwrap(), proof);
    assert_eq!(w.proofs_logged(ask).await, vec![Bytes::from(proof.clone())]);
    assert_eq!(written[0]["slot"], 0);

    // Errors are JSON too, with a stable code.
    let (refused, code) = w.requester_cli(&["cancel", &ask.to_string()]);
    assert_eq!(code, 1);
    assert_eq!(refused[0]["error"], "reverted");
    assert!(
        refused[0]["message"]
            .as_str()
            .unwrap()
            .contains("AskNotCancellable"),
        "{refused:?}"
    );

    // The node counts the proof once its receipt is in, which may be after the chain shows it.
    w.until("the node counts its proof", || async {
        scrape(metrics)
            .await
            .contains("generator_proofs_submitted_total 1\n")
    })
    .await;
    let body = scrape(metrics).await;
    assert!(body.contains("generator_assignments_total 1\n"), "{body}");
    assert!(
        body.contains("generator_prover_seconds_count 1\n"),
        "{body}"
    );
    assert!(
        body.contains("# TYPE generator_head_block gauge\n"),
        "{body}"
    );
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/clients-test"]
async fn a_node_killed_mid_proof_submits_exactly_once_after_restart() {
    let w = World::new().await;
    let (_, statement, proof) = schnorr(42);
    let prover = canned_prover(&w, &proof, 3);
    let config = w.generator_config(&strs(&prover), 1);
    let mut node = w.start_generator(&config, None);
    w.wait_joined().await;
    let created = w.assigned_public_ask(&statement).await;
    w.until("the node journals the assignment", || async {
        w.journal_has("assigned", None) == 1
    })
    .await;
    node.kill(); // mid-proof: the prover sleeps 3 s
    assert!(w.proofs_logged(created.ask).await.is_empty());
    assert_eq!(w.journal_has("submitting", None), 0);

    let _node = w.start_generator(&config, None);
    w.until("the proof is in", || async {
        w.journal_has("done", Some("proven")) == 1
    })
    .await;
    // A third start finds nothing left to do and submits nothing.
    drop(_node);
    let _again = w.start_generator(&config, None);
    w.mine(3).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(w.proofs_logged(created.ask).await, vec![Bytes::from(proof)]);
    assert_eq!(w.journal_has("done", None), 1);
    let status = w.requester().status(created.ask).await.unwrap();
    assert_eq!(status.slots[0].state, "Completed");
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/clients-test"]
async fn an_assignment_reorganised_away_is_dropped() {
    let w = World::new().await;
    let (_, statement, proof) = schnorr(43);
    // The prover outlives the test's reorg: the node must give the slot up, not prove it.
    let prover = canned_prover(&w, &proof, 20);
    let config = w.generator_config(&strs(&prover), 1);
    let _node = w.start_generator(&config, None);
    w.wait_joined().await;
    let created = w
        .requester()
        .create_public(&w.new_ask(&statement))
        .await
        .unwrap();
    let head_before = w.p.get_block_number().await.unwrap();
    let assigned_at = w.assign(created.ask).await;
    w.mine(2).await;
    w.until("the node journals the assignment", || async {
        w.journal_has("assigned", None) == 1
    })
    .await;
    // Replace every block from the assignment's on with empty ones.
    let head = w.p.get_block_number().await.unwrap();
    let depth = head - assigned_at + 1;
    assert!(assigned_at > head_before);
    let _: Value =
        w.p.raw_request("anvil_reorg".into(), (depth, Vec::<Value>::new()))
            .await
            .unwrap();
    w.mine(2).await;
    w.until("the node drops the assignment", || async {
        w.journal_has("done", Some("dropped")) == 1
    })
    .await;
    let status = w.requester().status(created.ask).await.unwrap();
    assert_eq!(status.slots[0].state, "Open");
    assert!(w.proofs_logged(created.ask).await.is_empty());
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/clients-test"]
async fn a_private_ask_is_opened_and_proven_by_the_node() {
    let w = World::new().await;
    let (secret, statement, _) = schnorr(44);
    let prove = env!("CARGO_BIN_EXE_schnorr-prove");
    let config = w.generator_config(
        &[prove, "{statement_file}", "{secret_file}", "{proof_file}"],
        1,
    );
    let _node = w.start_generator(&config, None);
    w.wait_joined().await;

    // The requester seals x to the engine's key; the ask carries the inputs inline.
    let engine_key = market_sealing::EncryptionKey::random(&mut rand_core::OsRng);
    let (created, sealed) = w
        .create_sealed(&engine_key, &statement, &secret, true)
        .await;

    let key_file = w.path(&format!("state/encryption-key-{}", w.market));
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(&key_file).unwrap().permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);
    let wrap = w.rewrap_for_node(&engine_key, &sealed, &statement, created.ask);
    w.assign_private(created.ask, Bytes::copy_from_slice(&wrap))
        .await;
    w.mine(1).await;
    w.until("the private ask is proven", || async {
        w.journal_has("done", Some("proven")) == 1
    })
    .await;
    let proofs = w.proofs_logged(created.ask).await;
    assert_eq!(
        proofs,
        vec![Bytes::from(
            market_client::schnorr::prove(&statement, &secret)
                .unwrap()
                .to_vec()
        )]
    );
    // The secret never stayed on disk.
    assert_eq!(std::fs::read_dir(w.path("state/work")).unwrap().count(), 0);
}

/// What the stand-in engine answers: (status, body) for (method, path-and-query, body).
type Handler = std::sync::Arc<dyn Fn(&str, &str, &[u8]) -> (u16, Vec<u8>) + Send + Sync>;

/// A stand-in for the engine's API on 127.0.0.1; records each request's method and path.
async fn fake_engine(handler: Handler) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        loop {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut raw = Vec::new();
            let mut buf = [0u8; 8192];
            // Headers, then as much body as Content-Length says.
            let (head, body) = loop {
                let n = s.read(&mut buf).await.unwrap();
                raw.extend_from_slice(&buf[..n]);
                let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
                    continue;
                };
                let head = String::from_utf8_lossy(&raw[..end]).to_string();
                let length: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().unwrap())
                    })
                    .unwrap_or(0);
                while raw.len() < end + 4 + length {
                    let n = s.read(&mut buf).await.unwrap();
                    raw.extend_from_slice(&buf[..n]);
                }
                break (head, raw[end + 4..end + 4 + length].to_vec());
            };
            let mut first = head.lines().next().unwrap_or_default().split(' ');
            let (method, path) = (
                first.next().unwrap_or_default(),
                first.next().unwrap_or_default(),
            );
            log.lock().unwrap().push(format!("{method} {path}"));
            let (status, reply) = handler(method, path, &body);
            let header = format!(
                "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                reply.len()
            );
            let _ = s.write_all(&[header.as_bytes(), &reply].concat()).await;
        }
    });
    (url, seen)
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/clients-test"]
async fn invalid_private_inputs_from_the_engine_are_settled_not_proven() {
    let w = World::new().await;
    let (_, statement, _) = schnorr(45);
    let (wrong_secret, _, _) = schnorr(46);
    let engine_key = market_sealing::EncryptionKey::random(&mut rand_core::OsRng);
    // Off-chain inputs: the ask commits to them, the engine serves them.
    let (created, sealed) = w
        .create_sealed(&engine_key, &statement, &wrong_secret, false)
        .await;
    let payment = U256::from(10);
    let m = ProofMarketplace::new(w.marketplace, &w.p);
    let digest = m
        .invalidInputsDigest(created.ask, U256::ZERO, w.generator, payment)
        .call()
        .await
        .unwrap();
    let signature = w.engine.sign_hash_sync(&digest).unwrap();
    let answer = serde_json::json!({
        "ask": u64::try_from(created.ask).unwrap(),
        "slot": 0,
        "generator": w.generator,
        "payment": payment,
        "signature": Bytes::from(signature.as_bytes().to_vec()),
    });
    let inputs_path = format!("/inputs/{}", B256::from(sealed.inputs_hash));
    let inputs = sealed.inputs.clone();
    let (engine_url, seen) = fake_engine(std::sync::Arc::new(move |method, path, _| {
        match (method, path) {
            ("GET", p) if p == inputs_path => (200, inputs.clone()),
            ("POST", "/invalid-inputs") => (200, answer.to_string().into_bytes()),
            _ => (404, b"{}".to_vec()),
        }
    }))
    .await;

    let prove = env!("CARGO_BIN_EXE_schnorr-prove");
    let config = w.generator_config(
        &[prove, "{statement_file}", "{secret_file}", "{proof_file}"],
        1,
    );
    let mut json: Value = serde_json::from_slice(&std::fs::read(&config).unwrap()).unwrap();
    json["engine"] = Value::String(engine_url);
    std::fs::write(&config, json.to_string()).unwrap();
    let _node = w.start_generator(&config, None);
    w.wait_joined().await;

    let wrap = w.rewrap_for_node(&engine_key, &sealed, &statement, created.ask);
    w.assign_private(created.ask, Bytes::copy_from_slice(&wrap))
        .await;
    w.mine(1).await;
    w.until("the node settles the invalid inputs", || async {
        w.journal_has("done", Some("invalid_inputs")) == 1
    })
    .await;
    let status = w.requester().status(created.ask).await.unwrap();
    assert_eq!(status.slots[0].state, "InputsInvalid");
    assert!(w.proofs_logged(created.ask).await.is_empty());
    let seen = seen.lock().unwrap().clone();
    assert!(
        seen.iter().any(|l| l.starts_with("GET /inputs/0x")),
        "{seen:?}"
    );
    assert!(
        seen.iter().any(|l| l.starts_with("POST /invalid-inputs")),
        "{seen:?}"
    );
}

#[tokio::test]
#[ignore = "needs anvil and forge artifacts: run ci/clients-test"]
async fn a_failing_prover_gives_the_slot_back() {
    let w = World::new().await;
    let (_, statement, _) = schnorr(47);
    let config = w.generator_config(&["sh", "-c", "exit 1"], 1);
    let metrics = testkit::free_port();
    let _node = w.start_generator(&config, Some(metrics));
    w.wait_joined().await;
    let created = w.assigned_public_ask(&statement).await;
    w.until("the node discards", || async {
        w.journal_has("done", Some("discarded")) == 1
    })
    .await;
    let status = w.requester().status(created.ask).await.unwrap();
    assert_eq!(status.slots[0].state, "Open");
    w.until("the node counts its discard", || async {
        scrape(metrics)
            .await
            .contains("generator_discards_total 1\n")
    })
    .await;
}

/// EVM code answering every call with `words` (a stand-in registry's `getEnclaveKey`).
fn returning(words: &[[u8; 32]]) -> String {
    let mut code = Vec::new();
    for (i, word) in words.iter().enumerate() {
        code.push(0x7f); // PUSH32 word
        code.extend_from_slice(word);
        code.extend_from_slice(&[0x60, u8::try_from(i * 32).unwrap(), 0x52]); // PUSH1 i*32 MSTORE
    }
    let len = u8::try_from(words.len() * 32).unwrap();
    code.extend_from_slice(&[0x60, len, 0x60, 0x00, 0xf3]); // RETURN(0, len)
    format!("0x{}", hex::encode(code))
}

// Two workers: the stand-in engine answers while the test waits on the requester process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs anvil and forge artifacts: run ci/clients-test"]
async fn the_engine_key_comes_only_from_a_verified_live_attestation() {
    use market_client::engine::{EngineApi, EngineTrust};
    use nitro_attestation::nsm::{AttestationRequest, Nsm as _};
    let w = World::new().await;
    let nsm = std::sync::Arc::new(
        nitro_attestation::dev::DevNsm::new(nitro_attestation::dev::DevNsmConfig::image(
            [1u8; 48], [2u8; 48], [3u8; 48],
        ))
        .unwrap(),
    );
    let image_id = keccak256([[1u8; 48], [2u8; 48], [3u8; 48]].concat());
    let encryption = market_sealing::EncryptionKey::random(&mut rand_core::OsRng);
    let signing_key = w
        .engine
        .credential()
        .verifying_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec();
    let uploaded = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let (url, _) = {
        let (nsm, uploaded) = (nsm.clone(), uploaded.clone());
        let user_data = encryption.public_key().to_bytes().to_vec();
        fake_engine(std::sync::Arc::new(move |method, path, body| {
            if let Some(nonce) = path.strip_prefix("/attestation/raw?nonce=") {
                let request = AttestationRequest {
                    public_key: Some(signing_key.clone()),
                    user_data: Some(user_data.clone()),
                    nonce: Some(hex::decode(nonce).unwrap()),
                };
                return (200, nsm.attestation(&request).unwrap());
            }
            if method == "PUT" && path.starts_with("/inputs/0x") {
                *uploaded.lock().unwrap() = body.to_vec();
                return (200, b"{}".to_vec());
            }
            (404, b"{}".to_vec())
        }))
        .await
    };
    let registry = Address::repeat_byte(0xe1);
    let set_registry = |image: B256, live: bool| {
        let mut expires = [0u8; 32];
        expires[24..].copy_from_slice(&u64::MAX.to_be_bytes());
        let mut live_word = [0u8; 32];
        live_word[31] = u8::from(live);
        let code = returning(&[
            image.0,
            keccak256("matching-engine-dev").0,
            expires,
            [0u8; 32],
            live_word,
        ]);
        let p = w.p.clone();
        async move {
            let _: Value = p
                .raw_request("anvil_setCode".into(), (registry, code))
                .await
                .unwrap();
        }
    };
    let api = EngineApi::new(&url).unwrap();
    let dev = EngineTrust::DangerDevRoot(nsm.trusted_root().der().to_vec());
    set_registry(image_id, true).await;

    // Production pins the AWS root: a dev document is refused.
    let refused = api
        .encryption_key(&w.p, w.marketplace, &EngineTrust::Aws)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, market_client::Error::EngineKey(_)),
        "{refused}"
    );
    // The named dev mode accepts it: the key is the document's user_data.
    let attested = api.encryption_key(&w.p, w.marketplace, &dev).await.unwrap();
    assert_eq!(attested.key.to_bytes(), encryption.public_key().to_bytes());
    assert_eq!(attested.signer, w.engine.address());
    assert_eq!(attested.image_id, image_id);
    // A signer the registry does not call live, or attested by another image, is refused.
    set_registry(image_id, false).await;
    let dead = api
        .encryption_key(&w.p, w.marketplace, &dev)
        .await
        .unwrap_err();
    assert!(dead.to_string().contains("not a live key"), "{dead}");
    set_registry(B256::repeat_byte(9), true).await;
    let other = api
        .encryption_key(&w.p, w.marketplace, &dev)
        .await
        .unwrap_err();
    assert!(other.to_string().contains("attested by image"), "{other}");
    set_registry(image_id, true).await;

    // The requester CLI seals a secret to that key and uploads the inputs.
    let (secret, statement, _) = schnorr(48);
    let secret_file = w.path("secret");
    std::fs::write(&secret_file, format!("0x{}", hex::encode(secret))).unwrap();
    std::fs::write(w.path("root.der"), nsm.trusted_root().der()).unwrap();
    let args = [
        "--engine",
        url.as_str(),
        "create",
        "--market",
        &w.market.to_string(),
        "--statement",
        &format!("0x{}", hex::encode(&statement)),
        "--reward",
        "100",
        "--private",
        secret_file.to_str().unwrap(),
    ];
    let (refused, code) = w.requester_cli(&args);
    assert_eq!(
        (code, refused[0]["error"].as_str()),
        (1, Some("engine_key"))
    );
    let root = w.path("root.der");
    let dev_args: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--dev-engine-key", root.to_str().unwrap()])
        .collect();
    let (created, code) = w.requester_cli(&dev_args);
    assert_eq!(code, 0, "{created:?}");
    assert_eq!(created[0]["private"], true);
    let ask: U256 = created[0]["ask"].as_str().unwrap().parse().unwrap();
    let filter = Filter::new()
        .address(w.marketplace)
        .event_signature(ProofMarketplace::PrivateInputsCommitted::SIGNATURE_HASH)
        .topic1(B256::from(ask))
        .from_block(0);
    let log = w.p.get_logs(&filter).await.unwrap().remove(0);
    let committed = ProofMarketplace::PrivateInputsCommitted::decode_log_data(log.data()).unwrap();
    assert!(committed.inlineInputs.is_empty());
    let inputs = uploaded.lock().unwrap().clone();
    assert_eq!(keccak256(&inputs), committed.inputsHash);
    // The engine opens exactly the secret.
    let ctx = market_sealing::Context {
        chain_id: 31337,
        marketplace: w.marketplace.into_array(),
    };
    let binding = market_sealing::InputsBinding {
        market: u64::try_from(w.market).unwrap(),
        requester: w.requester.into_array(),
        prover_data_hash: keccak256(&statement).0,
    };
    let k = market_sealing::unwrap_engine_key(
        &encryption,
        &ctx,
        &binding,
        &committed.inputsHash.0,
        &committed.engineKeyWrap,
    )
    .unwrap();
    let opened =
        market_sealing::open_inputs(&ctx, &binding, &k, &inputs, &committed.inputsHash.0).unwrap();
    assert_eq!(opened.as_slice(), secret.as_slice());
}
