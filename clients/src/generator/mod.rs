//! The generator node: registers and joins its markets, follows the assignments made to it
//! (with confirmations and reorg handling), proves them with the configured prover and submits
//! the proofs; gives work back (`discard`) when the prover fails, and settles invalid private
//! inputs with the engine's signature. A journal in the state directory makes it restart-safe.

pub mod config;
pub mod journal;
pub mod metrics;
pub mod prover;
mod setup;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use market_sealing::EncryptionKey;
use marketplace_bindings::ProofMarketplace::{self, SlotState};
use tokio::sync::mpsc;

use self::config::Config;
use self::journal::{Assignment, Journal, Outcome, Record};
use self::metrics::Metrics;
use self::prover::{Job, Verdict};
use crate::chain::{self, SendQueue, call_error};
use crate::engine::EngineApi;
use crate::error::{Error, Result};
use crate::private::{AskBinding, SlotInputs};

/// Blocks per `eth_getLogs` request.
const LOG_CHUNK: u64 = 1000;
/// Seconds kept free before a deadline for the submission itself.
const SUBMIT_MARGIN: u64 = 2;
/// Scan checkpoints kept for reorg detection (besides pending assignments' blocks).
const CHECKPOINTS: usize = 128;

/// Creates `path` (it must not exist) readable by its owner only, writes `bytes` and syncs.
fn create_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::io(path, e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| Error::io(path, e))
}

/// What every job shares.
struct Ctx {
    config: Config,
    provider: DynProvider,
    me: Address,
    chain_id: u64,
    journal: Mutex<Journal>,
    metrics: Arc<Metrics>,
    keys: BTreeMap<U256, EncryptionKey>,
    engine: Option<EngineApi>,
    work_dir: PathBuf,
    /// The jobs' transactions, one fill and broadcast at a time (they share one account).
    sends: SendQueue,
}

impl Ctx {
    fn market(&self) -> ProofMarketplace::ProofMarketplaceInstance<&DynProvider> {
        ProofMarketplace::new(self.config.marketplace, &self.provider)
    }

    fn record(&self, record: &Record) -> Result<()> {
        self.journal
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .append(record)
    }

    fn log(&self, message: &str) {
        eprintln!("generator {}: {message}", self.me);
    }
}

/// A running node's follower state.
struct Follower {
    ctx: Arc<Ctx>,
    /// The next block to scan.
    next: u64,
    /// Block number → hash as scanned (scan ends and assignment blocks).
    checkpoints: BTreeMap<u64, B256>,
    /// Assignments taken and not settled.
    pending: BTreeMap<(U256, u8), Assignment>,
    /// Assignments whose block was reorganised away, until their range is rescanned.
    suspects: BTreeSet<(U256, u8)>,
    jobs: HashMap<(U256, u8), tokio::task::JoinHandle<()>>,
    done_tx: mpsc::UnboundedSender<(U256, u8)>,
    done_rx: mpsc::UnboundedReceiver<(U256, u8)>,
}

/// Runs the node until `shutdown` completes.
///
/// # Errors
/// What setup returns (key, state directory, registration), or a journal that cannot be written.
pub async fn run(
    config: Config,
    metrics: Arc<Metrics>,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let signer = chain::read_key_file(&config.key_file)?;
    let me = signer.address();
    let provider = chain::provider(&config.rpc, Some(signer))?;
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|e| Error::rpc("eth_chainId", e))?;
    let work_dir = setup::state_dirs(&config.state_dir)?;
    let (journal, state) = Journal::open(&config.state_dir)?;
    let keys = setup::encryption_keys(&config)?;
    let engine = config.engine.as_deref().map(EngineApi::new).transpose()?;
    let ctx = Arc::new(Ctx {
        config,
        provider,
        me,
        chain_id,
        journal: Mutex::new(journal),
        metrics,
        keys,
        engine,
        work_dir,
        sends: SendQueue::default(),
    });
    setup::register(&ctx.config, &ctx.provider, me, &ctx.keys).await?;
    let (done_tx, done_rx) = mpsc::unbounded_channel();
    let mut follower = Follower {
        next: state.scanned.map_or(ctx.config.from_block, |(n, _)| n + 1),
        checkpoints: state.scanned.into_iter().collect(),
        pending: BTreeMap::new(),
        suspects: BTreeSet::new(),
        jobs: HashMap::new(),
        done_tx,
        done_rx,
        ctx: ctx.clone(),
    };
    for (key, (assignment, submitted)) in state.pending {
        ctx.log(&format!(
            "resuming ask {} slot {} (submission {}sent before)",
            key.0,
            key.1,
            if submitted { "possibly " } else { "not " }
        ));
        follower
            .checkpoints
            .insert(assignment.block, assignment.block_hash);
        follower.pending.insert(key, assignment.clone());
        follower.start(assignment);
    }
    tokio::pin!(shutdown);
    let poll = Duration::from_millis(ctx.config.poll_ms);
    loop {
        if let Err(e) = follower.tick().await {
            if matches!(e, Error::Journal { .. }) {
                return Err(e);
            }
            ctx.log(&format!("poll failed: {e}"));
        }
        tokio::select! {
            () = &mut shutdown => break,
            () = tokio::time::sleep(poll) => {}
        }
    }
    for (_, job) in follower.jobs.drain() {
        job.abort();
    }
    Ok(())
}

impl Follower {
    fn start(&mut self, assignment: Assignment) {
        let key = (assignment.ask, assignment.slot);
        if let Some(old) = self.jobs.remove(&key) {
            old.abort();
        }
        let ctx = self.ctx.clone();
        let done = self.done_tx.clone();
        self.jobs.insert(
            key,
            tokio::spawn(async move {
                let outcome = settle(&ctx, &assignment).await;
                let record = Record::Done {
                    ask: assignment.ask,
                    slot: assignment.slot,
                    outcome,
                };
                if let Err(e) = ctx.record(&record) {
                    ctx.log(&format!("{e}"));
                    return; // not recorded: the next start resumes it (the chain says how it ended)
                }
                ctx.log(&format!(
                    "ask {} slot {}: {outcome:?}",
                    assignment.ask, assignment.slot
                ));
                let _ = done.send(key);
            }),
        );
    }

    async fn block_hash(&self, number: u64) -> Result<Option<B256>> {
        Ok(self
            .ctx
            .provider
            .get_block_by_number(number.into())
            .await
            .map_err(|e| Error::rpc("eth_getBlockByNumber", e))?
            .map(|b| b.header.hash))
    }

    /// One poll: reap finished jobs, detect reorgs, scan newly confirmed blocks.
    async fn tick(&mut self) -> Result<()> {
        while let Ok(key) = self.done_rx.try_recv() {
            self.pending.remove(&key);
            self.jobs.remove(&key);
        }
        let head = self
            .ctx
            .provider
            .get_block_number()
            .await
            .map_err(|e| Error::rpc("eth_blockNumber", e))?;
        self.ctx
            .metrics
            .head_block
            .store(head, std::sync::atomic::Ordering::Relaxed);
        self.detect_reorg(head).await?;
        let Some(confirmed) = head.checked_sub(self.ctx.config.confirmations) else {
            return Ok(());
        };
        if confirmed < self.next {
            return Ok(());
        }
        let mut from = self.next;
        while from <= confirmed {
            let to = confirmed.min(from + LOG_CHUNK - 1);
            self.scan(from, to).await?;
            from = to + 1;
        }
        // Suspects whose range was rescanned without them are gone.
        let gone: Vec<(U256, u8)> = self
            .suspects
            .iter()
            .filter(|k| self.pending.get(k).is_none_or(|a| a.block <= confirmed))
            .copied()
            .collect();
        for key in gone {
            self.suspects.remove(&key);
            if self.pending.remove(&key).is_some() {
                self.ctx.record(&Record::Done {
                    ask: key.0,
                    slot: key.1,
                    outcome: Outcome::Dropped,
                })?;
                self.ctx.log(&format!(
                    "ask {} slot {}: its block was reorganised away; dropped",
                    key.0, key.1
                ));
            }
        }
        let hash = self
            .block_hash(confirmed)
            .await?
            .ok_or_else(|| Error::rpc("eth_getBlockByNumber", "no confirmed block"))?;
        self.ctx.record(&Record::Scanned {
            number: confirmed,
            hash,
        })?;
        self.checkpoints.insert(confirmed, hash);
        self.next = confirmed + 1;
        self.prune_checkpoints();
        Ok(())
    }

    /// Compares the recorded hashes with the chain, newest first; on a mismatch, rewinds the
    /// scan to the oldest mismatching block and suspects the assignments logged from there on.
    async fn detect_reorg(&mut self, head: u64) -> Result<()> {
        let mut rewind = None;
        let recorded: Vec<(u64, B256)> = self
            .checkpoints
            .iter()
            .rev()
            .map(|(n, h)| (*n, *h))
            .collect();
        for (number, hash) in recorded {
            let actual = if number > head {
                None
            } else {
                self.block_hash(number).await?
            };
            if actual == Some(hash) {
                break;
            }
            rewind = Some(number);
        }
        let Some(from) = rewind else {
            return Ok(());
        };
        self.ctx
            .log(&format!("reorg detected: rescanning from block {from}"));
        self.checkpoints.split_off(&from);
        self.next = self.next.min(from);
        let suspects: Vec<(U256, u8)> = self
            .pending
            .iter()
            .filter(|(_, a)| a.block >= from)
            .map(|(k, _)| *k)
            .collect();
        for key in suspects {
            if let Some(job) = self.jobs.remove(&key) {
                job.abort();
            }
            self.suspects.insert(key);
        }
        Ok(())
    }

    /// Takes the `AssignmentAccepted` logs for this node in `[from, to]`.
    async fn scan(&mut self, from: u64, to: u64) -> Result<()> {
        let filter = Filter::new()
            .address(self.ctx.config.marketplace)
            .event_signature(ProofMarketplace::AssignmentAccepted::SIGNATURE_HASH)
            .topic2(self.ctx.me.into_word())
            .from_block(from)
            .to_block(to);
        let logs = self
            .ctx
            .provider
            .get_logs(&filter)
            .await
            .map_err(|e| Error::rpc("eth_getLogs AssignmentAccepted", e))?;
        for log in logs {
            let assignment = assignment_of(&log)?;
            let key = (assignment.ask, assignment.slot);
            self.checkpoints
                .insert(assignment.block, assignment.block_hash);
            let known = self.pending.get(&key);
            if known == Some(&assignment) && !self.suspects.contains(&key) {
                continue;
            }
            let reappeared = self.suspects.remove(&key) || known.is_some();
            self.ctx.record(&Record::Assigned(assignment.clone()))?;
            if !reappeared {
                self.ctx
                    .metrics
                    .assignments
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            self.ctx.log(&format!(
                "assigned ask {} slot {} at block {} (price {}, deadline {})",
                assignment.ask,
                assignment.slot,
                assignment.block,
                assignment.price,
                assignment.deadline
            ));
            self.pending.insert(key, assignment.clone());
            self.start(assignment);
        }
        Ok(())
    }

    fn prune_checkpoints(&mut self) {
        let keep: BTreeSet<u64> = self.pending.values().map(|a| a.block).collect();
        while self.checkpoints.len() > CHECKPOINTS + keep.len() {
            let Some((&oldest, _)) = self.checkpoints.iter().find(|(n, _)| !keep.contains(n))
            else {
                break;
            };
            self.checkpoints.remove(&oldest);
        }
    }
}

/// An `AssignmentAccepted` log as a journal assignment.
fn assignment_of(log: &Log) -> Result<Assignment> {
    let event = ProofMarketplace::AssignmentAccepted::decode_log_data(log.data())
        .map_err(|e| Error::rpc("AssignmentAccepted", format!("does not decode: {e}")))?;
    Ok(Assignment {
        ask: event.askId,
        slot: event.slot,
        price: event.price,
        deadline: event.deadline,
        block: log
            .block_number
            .ok_or_else(|| Error::rpc("AssignmentAccepted", "pending log"))?,
        block_hash: log
            .block_hash
            .ok_or_else(|| Error::rpc("AssignmentAccepted", "pending log"))?,
    })
}

/// Works on an assignment until it is settled for the node; transient failures (RPC, engine)
/// are retried until the deadline.
async fn settle(ctx: &Ctx, a: &Assignment) -> Outcome {
    let poll = Duration::from_millis(ctx.config.poll_ms);
    loop {
        match attempt(ctx, a).await {
            Ok(outcome) => return outcome,
            Err(e) => {
                ctx.log(&format!("ask {} slot {}: {e}; retrying", a.ask, a.slot));
                match chain::head(&ctx.provider).await {
                    Ok((_, now)) if now > a.deadline => return Outcome::Lost,
                    _ => tokio::time::sleep(poll).await,
                }
            }
        }
    }
}

/// Where the slot stands for this node on chain.
enum SlotView {
    /// Assigned to this node, proof not yet in.
    Mine,
    /// Already settled by this node.
    Settled(Outcome),
    /// Someone else's, reopened, or gone.
    NotMine,
}

async fn slot_view(ctx: &Ctx, a: &Assignment) -> Result<SlotView> {
    let slot = ctx
        .market()
        .getSlot(a.ask, U256::from(a.slot))
        .call()
        .await
        .map_err(|e| call_error("getSlot", e))?;
    if slot.generator != ctx.me {
        return Ok(SlotView::NotMine);
    }
    Ok(match slot.state {
        SlotState::Assigned => SlotView::Mine,
        SlotState::Completed => SlotView::Settled(Outcome::Proven),
        SlotState::InputsInvalid => SlotView::Settled(Outcome::InvalidInputs),
        _ => SlotView::NotMine,
    })
}

/// One attempt: check the chain, gather the statement (and private inputs), prove, submit.
async fn attempt(ctx: &Ctx, a: &Assignment) -> Result<Outcome> {
    match slot_view(ctx, a).await? {
        SlotView::Mine => {}
        SlotView::Settled(outcome) => return Ok(outcome),
        SlotView::NotMine => return Ok(Outcome::Lost),
    }
    let ask = ctx
        .market()
        .getAsk(a.ask)
        .call()
        .await
        .map_err(|e| call_error("getAsk", e))?;
    let created = ask_created(ctx, a).await?;
    let statement = created.proverData.clone();
    let secret = if ask.confidential {
        match private_inputs(ctx, a, &created).await {
            Ok(secret) => secret,
            Err(e @ Error::Sealing(_)) => {
                ctx.log(&format!("ask {} slot {}: {e}", a.ask, a.slot));
                return give_back(ctx, a).await;
            }
            Err(e) => return Err(e),
        }
    } else {
        market_sealing::Zeroizing::new(Vec::new())
    };
    let (_, now) = chain::head(&ctx.provider).await?;
    let left = a.deadline.saturating_sub(now).saturating_sub(SUBMIT_MARGIN);
    if left == 0 {
        return give_back(ctx, a).await;
    }
    let timeout = Duration::from_secs(left.min(ctx.config.prover.timeout_secs));
    let job = Job {
        ask: a.ask,
        slot: a.slot,
        statement: &statement,
        secret: &secret,
    };
    let started = Instant::now();
    let verdict = prover::run(&ctx.config.prover, &ctx.work_dir, &job, timeout).await;
    ctx.metrics.observe_prover(started.elapsed().as_secs_f64());
    drop(secret);
    match verdict {
        Ok(Verdict::Proof(proof)) => submit(ctx, a, statement, proof).await,
        Ok(Verdict::InvalidInputs) if ask.confidential && ctx.engine.is_some() => {
            settle_invalid(ctx, a).await
        }
        Ok(Verdict::InvalidInputs) => {
            ctx.log(&format!(
                "ask {} slot {}: the prover reports invalid inputs of a public ask",
                a.ask, a.slot
            ));
            give_back(ctx, a).await
        }
        Err(e) => {
            ctx.log(&format!("ask {} slot {}: {e}", a.ask, a.slot));
            give_back(ctx, a).await
        }
    }
}

/// The ask's `AskCreated` (its statement).
async fn ask_created(ctx: &Ctx, a: &Assignment) -> Result<ProofMarketplace::AskCreated> {
    let log = one_log(
        ctx,
        ProofMarketplace::AskCreated::SIGNATURE_HASH,
        a,
        "AskCreated",
    )
    .await?;
    ProofMarketplace::AskCreated::decode_log_data(log.data())
        .map_err(|e| Error::rpc("AskCreated", format!("does not decode: {e}")))
}

/// The first log of `signature` for the ask (topic 1) up to the assignment's block, searched
/// back from that block in ranges that grow (see [`log_ranges`]): an ask is mostly assigned a
/// few blocks after it is created. A node answers `eth_getLogs` in time proportional to the
/// range it scans (anvil reads every block of it): one range from `from_block` would cost it
/// more with every block the chain grows. (In a 50 asks/s run of `ci/chaos`, with 1 024-block
/// ranges, anvil spent a fifth of its CPU in `mined_logs_for_block` alone.)
async fn one_log(ctx: &Ctx, signature: B256, a: &Assignment, what: &str) -> Result<Log> {
    for (from, to) in log_ranges(ctx.config.from_block, a.block) {
        let filter = Filter::new()
            .address(ctx.config.marketplace)
            .event_signature(signature)
            .topic1(B256::from(a.ask))
            .from_block(from)
            .to_block(to);
        let found = ctx
            .provider
            .get_logs(&filter)
            .await
            .map_err(|e| Error::rpc(format!("eth_getLogs {what}"), e))?
            .into_iter()
            .next();
        if let Some(log) = found {
            return Ok(log);
        }
    }
    Err(Error::NotFound(format!("{what} of ask {}", a.ask)))
}

/// Blocks searched first for an assigned ask's earlier logs; each later range is
/// [`RANGE_GROWTH`] times the one before.
const FIRST_RANGE: u64 = 16;
/// How much each range of [`log_ranges`] grows over the one before.
const RANGE_GROWTH: u64 = 16;

/// The ranges [`one_log`] searches, newest first: the [`FIRST_RANGE`] blocks up to `to`, then
/// ranges each [`RANGE_GROWTH`] times longer, down to `from` (none when `to < from`). Together
/// they cover `from..=to` once, in few requests when the log is old.
fn log_ranges(from: u64, to: u64) -> Vec<(u64, u64)> {
    let mut ranges = Vec::new();
    let (mut end, mut len) = (Some(to), FIRST_RANGE);
    while let Some(top) = end.filter(|top| *top >= from) {
        let bottom = top.saturating_sub(len - 1).max(from);
        ranges.push((bottom, top));
        end = bottom.checked_sub(1);
        len = len.saturating_mul(RANGE_GROWTH);
    }
    ranges
}

/// Unwraps the slot's key, fetches the inputs (inline or from the engine), checks and opens them.
async fn private_inputs(
    ctx: &Ctx,
    a: &Assignment,
    created: &ProofMarketplace::AskCreated,
) -> Result<market_sealing::Zeroizing<Vec<u8>>> {
    let committed = one_log(
        ctx,
        ProofMarketplace::PrivateInputsCommitted::SIGNATURE_HASH,
        a,
        "PrivateInputsCommitted",
    )
    .await?;
    let committed = ProofMarketplace::PrivateInputsCommitted::decode_log_data(committed.data())
        .map_err(|e| Error::rpc("PrivateInputsCommitted", format!("does not decode: {e}")))?;
    let filter = Filter::new()
        .address(ctx.config.marketplace)
        .event_signature(ProofMarketplace::InputsKeyWrapped::SIGNATURE_HASH)
        .topic1(B256::from(a.ask))
        .topic2(ctx.me.into_word())
        .from_block(a.block)
        .to_block(a.block);
    let wraps = ctx
        .provider
        .get_logs(&filter)
        .await
        .map_err(|e| Error::rpc("eth_getLogs InputsKeyWrapped", e))?;
    let wrap = wraps
        .iter()
        .filter_map(|l| ProofMarketplace::InputsKeyWrapped::decode_log_data(l.data()).ok())
        .find(|w| w.slot == a.slot)
        .ok_or_else(|| {
            Error::NotFound(format!("InputsKeyWrapped of ask {} slot {}", a.ask, a.slot))
        })?;
    let inputs: Vec<u8> = if committed.inlineInputs.is_empty() {
        let engine = ctx.engine.as_ref().ok_or_else(|| {
            Error::invalid(
                "config",
                "a private ask's inputs are off chain: set `engine`",
            )
        })?;
        engine.get_inputs(committed.inputsHash).await?
    } else {
        committed.inlineInputs.to_vec()
    };
    let market = u64::try_from(created.marketId)
        .map_err(|_| Error::Sealing("market id above 64 bits".into()))?;
    let key = ctx
        .keys
        .get(&created.marketId)
        .ok_or_else(|| Error::Sealing(format!("no encryption key for market {market}")))?;
    let binding = AskBinding::new(
        ctx.chain_id,
        ctx.config.marketplace,
        market,
        created.requester,
        &created.proverData,
    );
    let ask = u64::try_from(a.ask).map_err(|_| Error::Sealing("ask id above 64 bits".into()))?;
    crate::private::open(
        &binding,
        key,
        &SlotInputs {
            ask,
            slot: a.slot,
            generator: ctx.me,
            inputs_hash: committed.inputsHash,
            key_wrap: &wrap.keyWrap,
            inputs: &inputs,
        },
    )
}

/// Journals the intent, then sends `submitProof`, unless the chain says the slot is settled.
async fn submit(ctx: &Ctx, a: &Assignment, statement: Bytes, proof: Bytes) -> Result<Outcome> {
    match slot_view(ctx, a).await? {
        SlotView::Mine => {}
        SlotView::Settled(outcome) => return Ok(outcome),
        SlotView::NotMine => return Ok(Outcome::Lost),
    }
    ctx.record(&Record::Submitting {
        ask: a.ask,
        slot: a.slot,
    })?;
    let sent = ctx
        .sends
        .send(
            "submitProof",
            ctx.market()
                .submitProof(a.ask, U256::from(a.slot), statement, proof)
                .from(ctx.me),
        )
        .await;
    match sent {
        Ok(_) => {
            ctx.metrics
                .proofs_submitted
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(Outcome::Proven)
        }
        Err(e @ Error::Reverted { .. }) => {
            ctx.log(&format!("ask {} slot {}: {e}", a.ask, a.slot));
            match slot_view(ctx, a).await? {
                SlotView::Settled(outcome) => Ok(outcome),
                SlotView::NotMine => Ok(Outcome::Lost),
                SlotView::Mine => give_back(ctx, a).await,
            }
        }
        Err(e) => Err(e),
    }
}

/// Asks the engine to sign the invalid inputs and relays `settleInvalidInputs`.
async fn settle_invalid(ctx: &Ctx, a: &Assignment) -> Result<Outcome> {
    let Some(engine) = &ctx.engine else {
        return give_back(ctx, a).await;
    };
    let signed = match engine.invalid_inputs(a.ask, a.slot).await {
        Ok(signed) if signed.generator == ctx.me => signed,
        Ok(_) => {
            return Err(Error::engine(
                "POST /invalid-inputs",
                "signed for another generator",
            ));
        }
        Err(e) => {
            ctx.log(&format!("ask {} slot {}: {e}", a.ask, a.slot));
            return give_back(ctx, a).await;
        }
    };
    ctx.record(&Record::Submitting {
        ask: a.ask,
        slot: a.slot,
    })?;
    ctx.sends
        .send(
            "settleInvalidInputs",
            ctx.market()
                .settleInvalidInputs(a.ask, U256::from(a.slot), signed.payment, signed.signature)
                .from(ctx.me),
        )
        .await?;
    ctx.metrics
        .invalid_inputs
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Ok(Outcome::InvalidInputs)
}

/// Gives the slot back with `discard` while its deadline allows.
async fn give_back(ctx: &Ctx, a: &Assignment) -> Result<Outcome> {
    let (_, now) = chain::head(&ctx.provider).await?;
    if now > a.deadline {
        return Ok(Outcome::Lost);
    }
    match ctx
        .sends
        .send(
            "discard",
            ctx.market().discard(a.ask, U256::from(a.slot)).from(ctx.me),
        )
        .await
    {
        Ok(_) => {
            ctx.metrics
                .discards
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            Ok(Outcome::Discarded)
        }
        Err(Error::Reverted { .. }) => match slot_view(ctx, a).await? {
            SlotView::Settled(outcome) => Ok(outcome),
            _ => Ok(Outcome::Lost),
        },
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_are_searched_back_from_the_assignment_in_growing_ranges() {
        assert_eq!(log_ranges(0, 10), vec![(0, 10)]);
        assert_eq!(log_ranges(0, 15), vec![(0, 15)]);
        assert_eq!(log_ranges(0, 16), vec![(1, 16), (0, 0)]);
        assert_eq!(
            log_ranges(5, 5000),
            vec![(4985, 5000), (4729, 4984), (633, 4728), (5, 632)]
        );
        assert_eq!(log_ranges(4985, 5000), vec![(4985, 5000)]);
        assert_eq!(log_ranges(4984, 5000), vec![(4985, 5000), (4984, 4984)]);
        assert_eq!(log_ranges(9, 8), Vec::<(u64, u64)>::new());
        assert_eq!(log_ranges(7, 7), vec![(7, 7)]);
        // Every block once, newest first, whatever the span.
        for (from, to) in [(0, 0), (3, 300), (0, 70_000), (u64::MAX - 40, u64::MAX)] {
            let ranges = log_ranges(from, to);
            assert_eq!(ranges.first().map(|r| r.1), Some(to));
            assert_eq!(ranges.last().map(|r| r.0), Some(from));
            for pair in ranges.windows(2) {
                assert_eq!(pair[1].1 + 1, pair[0].0, "{ranges:?}");
            }
            assert!(ranges.iter().all(|(lo, hi)| lo <= hi), "{ranges:?}");
        }
    }
}
