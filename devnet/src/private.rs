//! The private asks of the devnet, run by the users' own binaries (`clients/`): three generator
//! nodes and the `requester` CLI, against the engine in the enclave app. Only the set-up a
//! faucet would do (minting the test token) and the attacker's copy are direct calls.

use std::path::{Path, PathBuf};
use std::process::Command;

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider as _};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use market_client::private::{AskBinding, SlotInputs};
use market_sealing::EncryptionKey;
use serde_json::Value;
use testkit::contracts::{IERC20, NativeStaking, ProofMarketplace, TestToken};

use crate::chain::{self, keys};
use crate::error::{Error, Result, ensure};
use crate::marketplace::{Market, whole};
use crate::out::{Out, units};
use crate::procs::{Procs, wait_for};

/// The binaries of `clients/`.
#[derive(Clone, Debug)]
pub(crate) struct ClientBins {
    pub(crate) requester: PathBuf,
    pub(crate) generator: PathBuf,
    pub(crate) schnorr_prove: PathBuf,
}

/// One generator node of the step.
struct Node {
    name: &'static str,
    key: &'static str,
    cost: u64,
    /// Whether its prover works (the other one fails, so the node gives its slots back).
    proves: bool,
}

/// anvil's development accounts 5, 6 and 7: three independent generator operators.
const NODES: [Node; 3] = [
    Node {
        name: "generator-a",
        key: "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
        cost: 20,
        proves: true,
    },
    Node {
        name: "generator-b",
        key: "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
        cost: 30,
        proves: true,
    },
    Node {
        name: "generator-c",
        key: "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
        cost: 10,
        proves: false,
    },
];

/// Where the step runs: the chain, the market, the engine's API (through the host proxy).
pub(crate) struct Setting<'a> {
    pub(crate) out: &'a Out,
    pub(crate) procs: &'a mut Procs,
    pub(crate) p: &'a DynProvider,
    pub(crate) rpc: &'a str,
    pub(crate) chain_id: u64,
    pub(crate) market: &'a Market,
    pub(crate) engine_api: u16,
    pub(crate) run: &'a Path,
    pub(crate) bins: &'a ClientBins,
}

/// The step: generator nodes up; a private ask with redundancy 2 created with `requester`,
/// assigned with one key wrap per slot, given back by the node whose prover fails and
/// reassigned, proven by two nodes, its proof read back with `requester proof`; the host and
/// the third node cannot read the secret; a copy of the sealed inputs into another requester's
/// ask is never assigned; an ask whose inputs fail the market's check settles without a slash.
pub(crate) async fn run(s: Setting<'_>) -> Result<()> {
    let Setting {
        out,
        procs,
        p,
        rpc,
        chain_id,
        market,
        engine_api,
        run,
        bins,
    } = s;
    let dir = run.join("private");
    std::fs::create_dir_all(&dir).map_err(|e| Error::file(&dir, e))?;
    let engine = format!("http://127.0.0.1:{engine_api}");
    let token = TestToken::new(market.token, p);
    let mut operators = Vec::new();
    for node in &NODES {
        let address = chain::address(node.key)?;
        chain::send("mint", token.mint(address, whole(1000))).await?;
        start_node(procs, node, market, rpc, &engine, &dir, bins)?;
        operators.push(address);
    }
    for (node, address) in NODES.iter().zip(&operators) {
        wait_for(
            60,
            &format!("{} joined with an encryption key", node.name),
            &format!(" (see {}.log)", node.name),
            || async { has_key(p, market, *address).await },
        )
        .await?;
        out.show(
            node.name,
            &format!(
                "{address}: 1000 dUSD staked, cost {} dUSD, prover {}",
                node.cost,
                if node.proves {
                    "schnorr-prove"
                } else {
                    "`false` (fails: gives slots back)"
                }
            ),
        );
    }

    // The requester's secret x, and the statement P = x·G it proves knowledge of.
    let mut x = [0u8; 32];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut x[1..]);
    let statement = market_client::schnorr::statement(&x)
        .map_err(|e| Error::Check(format!("the demo statement: {e}")))?;
    let requester = chain::address(keys::REQUESTER)?;
    chain::send("mint", token.mint(requester, whole(1000))).await?;
    let req = Requester {
        bin: &bins.requester,
        rpc,
        marketplace: market.marketplace,
        engine: &engine,
        dir: &dir,
        key: keys::REQUESTER,
    };
    let secret_file = write(&dir, "secret", &x)?;
    let created = req.run(&[
        "create",
        "--market",
        &market.id.to_string(),
        "--statement",
        &format!("0x{}", hex::encode(statement)),
        "--reward",
        &whole(50).to_string(),
        "--redundancy",
        "2",
        "--private",
        &path_str(&secret_file),
        "--dev-engine-key",
        &path_str(&run.join("dev-root.der")),
    ])?;
    let ask = json_u256(&created, "ask")?;
    out.show(
        &format!("private ask {ask}"),
        &format!(
            "requester create --private: redundancy 2, inputs sealed to the engine's attested key and uploaded to it (tx {})",
            created["tx"].as_str().unwrap_or("?")
        ),
    );

    let waited = req.run_status(&[
        "wait",
        &ask.to_string(),
        "--timeout",
        "180",
        "--poll-ms",
        "500",
    ])?;
    ensure(waited == 0, || {
        format!("requester wait {ask} ended with exit status {waited}, not proven")
    })?;
    let logs = Logs::read(p, market, ask).await?;
    ensure(logs.discarded.len() == 1, || {
        format!("expected one slot given back, saw {}", logs.discarded.len())
    })?;
    let (discarded_slot, discarder) = logs.discarded[0];
    ensure(discarder == operators[2], || {
        format!("slot {discarded_slot} was given back by {discarder}, not generator-c")
    })?;
    ensure(logs.wraps.len() == 3, || {
        format!(
            "expected 3 key wraps (2 slots, one reassigned), saw {}",
            logs.wraps.len()
        )
    })?;
    let proven: Vec<Address> = logs.proofs.iter().map(|(_, g, _)| *g).collect();
    ensure(
        proven.len() == 2 && proven.contains(&operators[0]) && proven.contains(&operators[1]),
        || format!("the proofs came from {proven:?}, not generator-a and generator-b"),
    )?;
    let distinct: std::collections::BTreeSet<&Bytes> = logs.wraps.iter().map(|w| &w.3).collect();
    ensure(distinct.len() == logs.wraps.len(), || {
        "two slots got the same key wrap".into()
    })?;
    out.show(
        "assignments",
        &format!(
            "slot {discarded_slot} -> generator-c, given back (AssignmentDiscarded), reassigned; {} distinct 81-byte key wraps (InputsKeyWrapped), one per slot and generator",
            logs.wraps.len()
        ),
    );

    // Only the assigned node's key opens its slot's wrap; generator-c's key (it held slot
    // `discarded_slot` before) opens neither of the final slots'.
    let binding = AskBinding::new(
        chain_id,
        market.marketplace,
        market.id.to::<u64>(),
        requester,
        &statement,
    );
    let inputs = fetch_inputs(&engine, logs.inputs_hash)?;
    let c_key = node_key(&dir, &NODES[2], market)?;
    for (slot, generator, _, wrap) in &logs.wraps {
        let Some(i) = operators.iter().position(|a| a == generator) else {
            return Err(Error::Check(format!(
                "a wrap for an unknown generator {generator}"
            )));
        };
        let slot_inputs = SlotInputs {
            ask: ask.to::<u64>(),
            slot: *slot,
            generator: *generator,
            inputs_hash: logs.inputs_hash,
            key_wrap: wrap,
            inputs: &inputs,
        };
        let own = market_client::private::open(
            &binding,
            &node_key(&dir, &NODES[i], market)?,
            &slot_inputs,
        )
        .map_err(|e| {
            Error::Check(format!(
                "{} cannot open its own slot {slot}: {e}",
                NODES[i].name
            ))
        })?;
        ensure(own.as_slice() == x, || {
            format!(
                "{}'s slot {slot} opened to other bytes than the secret",
                NODES[i].name
            )
        })?;
        if i != 2 {
            ensure(
                market_client::private::open(&binding, &c_key, &slot_inputs).is_err(),
                || format!("generator-c opened {}'s slot {slot}", NODES[i].name),
            )?;
        }
    }
    out.show(
        "who can read it",
        "each slot's wrap opens with its generator's key only (generator-c's key fails on the others)",
    );
    let leaks = find_in_run_dir(run, &dir, &x)?;
    ensure(leaks.is_empty(), || {
        format!("the secret appears in host-side files: {leaks:?}")
    })?;
    let tx_input = transaction_input(p, logs.created_tx).await?;
    ensure(!contains(&tx_input, &x), || {
        "the secret appears in createPrivateAsk's calldata".into()
    })?;
    out.show(
        "the host",
        "the secret is in no log or file of the run (proxy, enclave app, anvil, nodes) nor in the transaction",
    );

    let proof_file = dir.join("proof.bin");
    let (slot, _, proof) = &logs.proofs[0];
    req.run(&[
        "proof",
        &ask.to_string(),
        "--slot",
        &slot.to_string(),
        "--out",
        &path_str(&proof_file),
    ])?;
    let written = std::fs::read(&proof_file).map_err(|e| Error::file(&proof_file, e))?;
    ensure(written == proof.as_ref(), || {
        "requester proof wrote other bytes than ProofSubmitted carries".into()
    })?;
    out.show(
        "requester proof",
        &format!(
            "{} bytes of slot {slot} = ProofSubmitted's proof",
            written.len()
        ),
    );

    // Someone copies the sealed inputs and the engine's wrap into an ask of their own: the
    // engine cannot open them for another requester, so it never assigns that ask.
    let copied = copy_ask(p, market, &statement, &logs).await?;
    // An ask whose secret does not prove its statement: the node's prover says so (exit 3),
    // the engine signs that the inputs fail the market's check, the slot settles unslashed.
    let mut bad = x;
    bad[31] ^= 1;
    let bad_file = write(&dir, "bad-secret", &bad)?;
    let stakes = stakes(p, market, &operators).await?;
    let before = withdrawable(p, market, &operators).await?;
    let created = req.run(&[
        "create",
        "--market",
        &market.id.to_string(),
        "--statement",
        &format!("0x{}", hex::encode(statement)),
        "--reward",
        &whole(50).to_string(),
        "--private",
        &path_str(&bad_file),
        "--inline",
        "--dev-engine-key",
        &path_str(&run.join("dev-root.der")),
    ])?;
    let bad_ask = json_u256(&created, "ask")?;
    let settled = wait_for(
        120,
        &format!("ask {bad_ask} settled as invalid inputs"),
        " (see the generator logs and enclave-app.log)",
        || async { invalid(p, market, bad_ask).await },
    )
    .await?;
    let (generator, payment) = settled;
    let i = operators.iter().position(|a| *a == generator).unwrap_or(0);
    let after = withdrawable(p, market, &operators).await?;
    ensure(after[i] - before[i] == payment, || {
        format!(
            "{} was credited {} for the invalid inputs, not {payment}",
            NODES[i].name,
            after[i] - before[i]
        )
    })?;
    ensure(stakes == self::stakes(p, market, &operators).await?, || {
        "a generator's stake changed: someone was slashed".into()
    })?;
    out.show(
        &format!("private ask {bad_ask}"),
        &format!(
            "inline inputs failing x·G = P: {} settled it with the engine's InvalidInputs statement, paid {} dUSD, nobody slashed",
            NODES[i].name,
            units(payment)
        ),
    );
    let copy = ProofMarketplace::new(market.marketplace, p)
        .getAsk(copied)
        .call()
        .await
        .map_err(|e| Error::rpc("getAsk", e))?;
    ensure(copy.assigned == 0, || {
        format!(
            "ask {copied}, a copy of ask {ask}'s sealed inputs by another account, was assigned"
        )
    })?;
    out.show(
        &format!("ask {copied}"),
        &format!("a copy of ask {ask}'s sealed inputs by another account: never assigned (the engine cannot open it for that requester)"),
    );
    for node in &NODES {
        procs.stop(node.name);
    }
    Ok(())
}

/// The `requester` CLI with the devnet's requester key.
struct Requester<'a> {
    bin: &'a Path,
    rpc: &'a str,
    marketplace: Address,
    engine: &'a str,
    dir: &'a Path,
    key: &'a str,
}

impl Requester<'_> {
    fn command(&self, args: &[&str]) -> Result<Command> {
        let key_file = write(self.dir, "requester.key", self.key.as_bytes())?;
        let mut cmd = Command::new(self.bin);
        cmd.args(args)
            .args(["--json", "--rpc", self.rpc, "--engine", self.engine])
            .arg("--marketplace")
            .arg(self.marketplace.to_string())
            .arg("--key-file")
            .arg(key_file);
        Ok(cmd)
    }

    /// Runs a verb that must succeed; its last JSON line.
    fn run(&self, args: &[&str]) -> Result<Value> {
        let output = self
            .command(args)?
            .output()
            .map_err(|source| Error::Process {
                what: format!("requester {}", args[0]),
                source,
            })?;
        let text = String::from_utf8_lossy(&output.stdout);
        let last = text.lines().last().unwrap_or_default();
        let value: Value = serde_json::from_str(last).unwrap_or(Value::Null);
        ensure(output.status.success(), || {
            format!(
                "requester {} failed ({}): {last} {}",
                args[0],
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )
        })?;
        Ok(value)
    }

    /// Runs a verb and returns its exit status (its progress lines go to the run directory).
    fn run_status(&self, args: &[&str]) -> Result<i32> {
        let log = self.dir.join(format!("requester-{}.jsonl", args[0]));
        let file = std::fs::File::create(&log).map_err(|e| Error::file(&log, e))?;
        let status = self
            .command(args)?
            .stdout(file)
            .status()
            .map_err(|source| Error::Process {
                what: format!("requester {}", args[0]),
                source,
            })?;
        Ok(status.code().unwrap_or(-1))
    }
}

/// Writes the node's key and configuration and starts it.
fn start_node(
    procs: &mut Procs,
    node: &Node,
    market: &Market,
    rpc: &str,
    engine: &str,
    dir: &Path,
    bins: &ClientBins,
) -> Result<()> {
    let state = dir.join(node.name);
    std::fs::create_dir_all(&state).map_err(|e| Error::file(&state, e))?;
    let key_file = write(&state, "operator.key", node.key.as_bytes())?;
    let prover: Vec<String> = if node.proves {
        vec![
            path_str(&bins.schnorr_prove),
            "{statement_file}".into(),
            "{secret_file}".into(),
            "{proof_file}".into(),
        ]
    } else {
        vec!["false".into()]
    };
    let config = serde_json::json!({
        "rpc": rpc,
        "marketplace": market.marketplace.to_string(),
        "key_file": key_file,
        "state_dir": state,
        "capacity": 2,
        "markets": [{
            "id": market.id.to_string(),
            "cost": whole(node.cost).to_string(),
            "proposed_time": 60,
            "stake": whole(1000).to_string(),
        }],
        "prover": { "command": prover, "timeout_secs": 60 },
        "engine": engine,
        "confirmations": 1,
        "from_block": market.marketplace_block,
        "poll_ms": 500,
    });
    let path = dir.join(format!("{}.json", node.name));
    std::fs::write(&path, config.to_string()).map_err(|e| Error::file(&path, e))?;
    let mut cmd = Command::new(&bins.generator);
    cmd.arg("run").arg("--config").arg(&path);
    procs.spawn(node.name, cmd, dir)
}

/// A node's encryption key for the market, from its state directory.
fn node_key(dir: &Path, node: &Node, market: &Market) -> Result<EncryptionKey> {
    let path = dir
        .join(node.name)
        .join(format!("encryption-key-{}", market.id));
    let text = std::fs::read_to_string(&path).map_err(|e| Error::file(&path, e))?;
    let bytes: [u8; 32] = hex::decode(text.trim().trim_start_matches("0x"))
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| Error::Check(format!("{} is not a 32-byte hex key", path.display())))?;
    EncryptionKey::from_bytes(&bytes).map_err(|e| Error::Check(format!("{}: {e}", path.display())))
}

async fn has_key(p: &DynProvider, market: &Market, generator: Address) -> Option<()> {
    let hash = ProofMarketplace::new(market.marketplace, p)
        .encryptionKeyHashOf(generator, market.id)
        .call()
        .await
        .ok()?;
    (hash != B256::ZERO).then_some(())
}

/// The private ask's events.
struct Logs {
    created_tx: B256,
    inputs_hash: B256,
    engine_wrap: Bytes,
    /// (slot, generator, block, wrap), every assignment's (a slot given back and reassigned has two)
    wraps: Vec<(u8, Address, u64, Bytes)>,
    /// (slot, generator)
    discarded: Vec<(u8, Address)>,
    /// (slot, generator, proof)
    proofs: Vec<(u8, Address, Bytes)>,
}

impl Logs {
    async fn read(p: &DynProvider, market: &Market, ask: U256) -> Result<Logs> {
        let filter = Filter::new()
            .address(market.marketplace)
            .from_block(market.marketplace_block)
            .topic1(B256::from(ask));
        let logs: Vec<Log> = p
            .get_logs(&filter)
            .await
            .map_err(|e| Error::rpc("eth_getLogs", e))?;
        let mut found = Logs {
            created_tx: B256::ZERO,
            inputs_hash: B256::ZERO,
            engine_wrap: Bytes::new(),
            wraps: Vec::new(),
            discarded: Vec::new(),
            proofs: Vec::new(),
        };
        for log in &logs {
            let block = log.block_number.unwrap_or_default();
            if let Ok(e) = ProofMarketplace::PrivateInputsCommitted::decode_log(&log.inner) {
                found.created_tx = log.transaction_hash.unwrap_or_default();
                found.inputs_hash = e.inputsHash;
                found.engine_wrap = e.engineKeyWrap.clone();
            } else if let Ok(e) = ProofMarketplace::InputsKeyWrapped::decode_log(&log.inner) {
                found
                    .wraps
                    .push((e.slot, e.generator, block, e.keyWrap.clone()));
            } else if let Ok(e) = ProofMarketplace::AssignmentDiscarded::decode_log(&log.inner) {
                found.discarded.push((e.slot, e.generator));
            } else if let Ok(e) = ProofMarketplace::ProofSubmitted::decode_log(&log.inner) {
                found.proofs.push((e.slot, e.generator, e.proof.clone()));
            }
        }
        ensure(found.inputs_hash != B256::ZERO, || {
            format!("ask {ask} has no PrivateInputsCommitted")
        })?;
        Ok(found)
    }
}

/// The copier's ask: the same statement, inputs hash and engine wrap, from another account.
async fn copy_ask(p: &DynProvider, market: &Market, statement: &[u8], logs: &Logs) -> Result<U256> {
    let copier = chain::address(keys::COPIER)?;
    let reward = whole(50);
    chain::send("mint", TestToken::new(market.token, p).mint(copier, reward)).await?;
    chain::send(
        "approve",
        IERC20::new(market.token, p)
            .approve(market.marketplace, reward)
            .from(copier),
    )
    .await?;
    let (_, now) = chain::head(p).await?;
    let mp = ProofMarketplace::new(market.marketplace, p);
    chain::send(
        "createPrivateAsk (a copy)",
        mp.createPrivateAsk(
            ProofMarketplace::AskParams {
                marketId: market.id,
                reward,
                expiry: now + 3600,
                provingTime: 600,
                redundancy: 1,
                refundAddress: copier,
                proverData: Bytes::copy_from_slice(statement),
            },
            logs.inputs_hash,
            logs.engine_wrap.clone(),
            Bytes::new(),
        )
        .from(copier),
    )
    .await?;
    mp.askCount()
        .call()
        .await
        .map_err(|e| Error::rpc("askCount", e))
}

/// The generator and payment of the ask's `InputsInvalid`, once it is on chain.
async fn invalid(p: &DynProvider, market: &Market, ask: U256) -> Option<(Address, U256)> {
    let filter = Filter::new()
        .address(market.marketplace)
        .from_block(market.marketplace_block)
        .event_signature(ProofMarketplace::InputsInvalid::SIGNATURE_HASH)
        .topic1(B256::from(ask));
    let logs = p.get_logs(&filter).await.ok()?;
    let e = ProofMarketplace::InputsInvalid::decode_log(&logs.first()?.inner).ok()?;
    Some((e.generator, e.payment))
}

async fn stakes(p: &DynProvider, market: &Market, who: &[Address]) -> Result<Vec<U256>> {
    let staking = NativeStaking::new(market.staking, p);
    let mut out = Vec::new();
    for a in who {
        out.push(
            staking
                .stakeOf(*a, market.id)
                .call()
                .await
                .map_err(|e| Error::rpc("stakeOf", e))?,
        );
    }
    Ok(out)
}

async fn withdrawable(p: &DynProvider, market: &Market, who: &[Address]) -> Result<Vec<U256>> {
    let mp = ProofMarketplace::new(market.marketplace, p);
    let mut out = Vec::new();
    for a in who {
        out.push(
            mp.withdrawableOf(*a)
                .call()
                .await
                .map_err(|e| Error::rpc("withdrawableOf", e))?,
        );
    }
    Ok(out)
}

/// The sealed inputs as the engine serves them to generators.
fn fetch_inputs(engine: &str, hash: B256) -> Result<Vec<u8>> {
    let port: u16 = engine
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .ok_or_else(|| Error::Check(format!("engine URL {engine}")))?;
    crate::enclave::api(port, &format!("/inputs/{hash}"))
}

async fn transaction_input(p: &DynProvider, tx: B256) -> Result<Vec<u8>> {
    let tx = p
        .get_transaction_by_hash(tx)
        .await
        .map_err(|e| Error::rpc("eth_getTransactionByHash", e))?
        .ok_or_else(|| Error::Check(format!("transaction {tx} not found")))?;
    Ok(alloy::consensus::Transaction::input(&tx).to_vec())
}

/// Files of the run directory (outside the requester's own `private/secret*` files and the
/// nodes' state directories, which hold their keys) whose bytes contain the secret, raw or hex.
fn find_in_run_dir(run: &Path, private_dir: &Path, secret: &[u8]) -> Result<Vec<PathBuf>> {
    let hex_secret = hex::encode(secret);
    let mut hits = Vec::new();
    let mut stack = vec![run.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| Error::file(&dir, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let is_dir = entry.file_type().map(|t| t.is_dir()).unwrap_or(false);
            let requesters_own = path.starts_with(private_dir)
                && path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.contains("secret"));
            if requesters_own {
                continue;
            }
            if is_dir {
                stack.push(path);
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            if contains(&bytes, secret) || contains(&bytes, hex_secret.as_bytes()) {
                hits.push(path);
            }
        }
    }
    Ok(hits)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let path = dir.join(name);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| Error::file(&path, e))?;
    std::io::Write::write_all(&mut file, bytes).map_err(|e| Error::file(&path, e))?;
    Ok(path)
}

fn path_str(path: &Path) -> String {
    path.display().to_string()
}

fn json_u256(value: &Value, field: &str) -> Result<U256> {
    match &value[field] {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64().map(U256::from),
        _ => None,
    }
    .ok_or_else(|| Error::Check(format!("no {field} in the requester's answer {value}")))
}
