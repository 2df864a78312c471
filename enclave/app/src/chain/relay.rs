//! Submitting: the engine's pending assignments are cut into batches, signed with the enclave
//! key (EIP-712, `enclave/engine`), and relayed by the relayer account to `assignBatch`, or to
//! `assignBatchWithKeys` for a batch with a private ask's entry (each entry with its content-key
//! wrap for its generator, signed as `KeyedAssignmentBatch`). The relayer
//! only pays gas: it cannot change a signed batch, and a batch it withholds dies at
//! `validUntil`.
//!
//! Every input of a batch is a function of the chain: the assignments proposed in one block
//! (grouped by [`Engine::pending_by_block`], cut in ask and slot order) and a `validUntil`
//! counted from that block's timestamp ([`valid_until`]). Replicas that share the engine key
//! (RFC 6979 signatures, deterministic key wraps) therefore build byte-identical transactions
//! however their polls fall, and the contract skips whichever copy lands second (`SlotNotOpen`).
//!
//! A [`Turn`] orders who sends: the batch of block `b` is owned by replica `b mod n`; replica `i`
//! sends it only once `grace_blocks × ((i − b) mod n)` blocks have passed with its slots still
//! open. A batch is not sent again while it may still land; after a restart or a reorg
//! everything pending (in its turn) is sent again and the contract skips each slot already
//! filled.

use std::collections::HashMap;

use alloy::primitives::{Address as ChainAddress, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider as _};
use alloy::rpc::types::{Log as RpcLog, TransactionRequest};
use alloy::sol_types::{SolCall as _, SolEvent as _};
use matching_engine::{
    Address, AskId, Assignment, Domain, Engine, ProposedIn, SignedProposal, Signer, Timestamp,
};

use marketplace_bindings::ProofMarketplace;

/// Why a batch was not relayed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum RelayError {
    /// The enclave key could not sign.
    #[error("signing the batch: {0}")]
    Sign(#[from] matching_engine::SignError),
    /// The node refused the transaction (estimation revert, nonce, funds, transport).
    #[error("relaying a batch: {0}")]
    Send(String),
}

/// This replica's place in the turn order of a deployment's replicas.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Turn {
    /// This replica (`0..count`).
    pub(crate) index: u64,
    /// Replicas in the deployment (at least 1).
    pub(crate) count: u64,
    /// Blocks each replica leaves a batch to the ones before it in the order.
    pub(crate) grace_blocks: u64,
}

impl Turn {
    /// One replica: it owns every batch.
    #[cfg(test)]
    pub(crate) const SINGLE: Turn = Turn {
        index: 0,
        count: 1,
        grace_blocks: 0,
    };

    /// How many replicas come before this one for the batch proposed in `block` (0: it owns it).
    #[must_use]
    pub(crate) fn rank(&self, block: u64) -> u64 {
        let n = self.count.max(1);
        (self.index % n + n - block % n) % n
    }

    /// The first block at which this replica sends the batch proposed in `block`.
    #[must_use]
    pub(crate) fn sends_at(&self, block: u64) -> u64 {
        block.saturating_add(self.grace_blocks.saturating_mul(self.rank(block)))
    }
}

/// How batches are built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RelayConfig {
    /// Most assignments per batch.
    pub(crate) batch_size: usize,
    /// Seconds (of block time) a signed batch stays valid.
    pub(crate) validity: u64,
    /// This replica's turn.
    pub(crate) turn: Turn,
}

/// The `validUntil` of the batch for assignments proposed at `proposed` when the engine's clock
/// reads `now`: `proposed + k × validity` for the least `k ≥ 1` that leaves at least half the
/// validity after `now` (the chain is ingested some blocks behind its head, and a batch must
/// still be valid when it is mined). A function of the chain alone: two replicas at the same
/// block compute the same value, and a batch that expired unlanded is re-signed for the next
/// period, never for a moment of a replica's choosing.
#[must_use]
pub(crate) fn valid_until(proposed: Timestamp, now: Timestamp, validity: u64) -> Timestamp {
    let validity = validity.max(1);
    let wanted = now.saturating_add(validity / 2);
    let periods = wanted.saturating_sub(proposed).div_ceil(validity).max(1);
    proposed.saturating_add(periods.saturating_mul(validity))
}

/// Whether this replica sent a batch as the block's owner or after the owner's turn passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// The batch's block is this replica's (`block mod count == index`).
    Owner,
    /// An earlier replica's turn passed without the batch landing.
    Takeover,
}

/// A signed batch ready to send: the exact calldata for the marketplace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Outgoing {
    /// The block whose assignments it carries.
    pub(crate) proposed_in: ProposedIn,
    /// Why this replica sends it.
    pub(crate) role: Role,
    /// Its `validUntil`.
    pub(crate) valid_until: Timestamp,
    /// Its assignments.
    pub(crate) assignments: Vec<Assignment>,
    /// `assignBatch(...)` or `assignBatchWithKeys(...)`, ABI-encoded with the signature.
    pub(crate) calldata: Bytes,
}

/// A relayed batch whose receipt is not read yet.
#[derive(Clone, Debug)]
struct Sent {
    tx: B256,
    /// The `(ask, slot, generator)` of its entries.
    entries: Vec<(AskId, u8, Address)>,
    valid_until: Timestamp,
}

/// What the receipts of relayed batches showed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct RelayStats {
    /// Batches relayed as their block's owner.
    pub(crate) sent_as_owner: u64,
    /// Batches relayed after an earlier replica's turn passed.
    pub(crate) sent_as_takeover: u64,
    /// Assignments relayed.
    pub(crate) assignments_sent: u64,
    /// Receipts read with at least one entry accepted.
    pub(crate) landed: u64,
    /// Receipts read whose every entry came back `SlotNotOpen`: a copy of a batch that another
    /// replica (or an earlier send of this one) had landed.
    pub(crate) duplicates: u64,
    /// Gas those duplicates used.
    pub(crate) duplicate_gas: u64,
    /// Receipts of reverted transactions (e.g. expired before being mined).
    pub(crate) reverted: u64,
    /// Batches whose receipt never came while they could land (dropped by the node).
    pub(crate) unconfirmed: u64,
    /// Batches the node no longer knew (neither mined nor pending) before their `validUntil`:
    /// their assignments were sent again at once.
    pub(crate) dropped: u64,
}

impl RelayStats {
    /// Batches relayed in all.
    #[must_use]
    pub(crate) fn batches_sent(&self) -> u64 {
        self.sent_as_owner + self.sent_as_takeover
    }
}

/// Batches signed and relayed, and what is in flight.
pub(crate) struct Relay {
    marketplace: ChainAddress,
    domain: Domain,
    config: RelayConfig,
    /// Assignments sent, with the `validUntil` of the batch that carried them.
    in_flight: HashMap<(AskId, u8, Address), Timestamp>,
    /// Relayed batches whose receipt is still to be read.
    unreceipted: Vec<Sent>,
    /// Counters for `/status` and the metrics.
    pub(crate) stats: RelayStats,
}

impl Relay {
    /// A relay for `marketplace` on `chain_id`.
    #[must_use]
    pub(crate) fn new(chain_id: u64, marketplace: ChainAddress, config: RelayConfig) -> Self {
        Self {
            marketplace,
            domain: Domain {
                chain_id,
                verifying_contract: Address(marketplace.into_array()),
            },
            config,
            in_flight: HashMap::new(),
            unreceipted: Vec::new(),
            stats: RelayStats::default(),
        }
    }

    /// Forgets what is in flight, so that everything pending is sent again: after a reorg the
    /// transactions that carried earlier batches may be gone (the contract skips slots already
    /// filled, so sending again is safe).
    pub(crate) fn forget_in_flight(&mut self) {
        self.in_flight.clear();
    }

    /// Whether `a` is carried by a batch that may still land at `now`.
    fn in_flight(&self, a: &Assignment, now: Timestamp) -> bool {
        self.in_flight
            .get(&(a.ask, a.slot, a.generator))
            .is_some_and(|until| *until >= now)
    }

    /// The batches this replica sends now for the pending assignments of `engine`: those of
    /// each block whose turn has come for it, not carried by a batch that may still land, cut
    /// in order into batches of at most `batch_size`, signed.
    ///
    /// # Errors
    /// [`RelayError::Sign`].
    pub(crate) fn plan(
        &self,
        engine: &Engine,
        signer: &dyn Signer,
    ) -> Result<Vec<Outgoing>, RelayError> {
        let head = engine.block().unwrap_or(0);
        let now = engine.now();
        let mut out = Vec::new();
        for (proposed_in, pending) in engine.pending_by_block() {
            let turn = self.config.turn;
            if head < turn.sends_at(proposed_in.block) {
                continue;
            }
            let role = if turn.rank(proposed_in.block) == 0 {
                Role::Owner
            } else {
                Role::Takeover
            };
            let due: Vec<Assignment> = pending
                .into_iter()
                .filter(|a| !self.in_flight(a, now))
                .collect();
            if due.is_empty() {
                continue;
            }
            let until = valid_until(proposed_in.timestamp, now, self.config.validity);
            for batch in engine.batches(&due, self.config.batch_size, until) {
                let assignments = batch.assignments().to_vec();
                let calldata = calldata(&assignments, batch.sign(signer, &self.domain)?, until);
                out.push(Outgoing {
                    proposed_in,
                    role,
                    valid_until: until,
                    assignments,
                    calldata,
                });
            }
        }
        Ok(out)
    }

    /// Signs and relays what [`Relay::plan`] gives for `engine` from the relayer account
    /// `from`; returns how many assignments were sent. One round asks the node once for the
    /// account's pending nonce and for fees, estimates every batch's gas at once, then sends
    /// the batches in order with consecutive nonces: the node's answers come back together
    /// rather than one after another per batch, so the batches of a block reach the chain
    /// within its block time. The next round asks for the nonce again (nothing is cached).
    ///
    /// # Errors
    /// [`RelayError`] at the first batch that fails (its estimation reverts, or the node
    /// refuses it); batches before it were sent.
    pub(crate) async fn submit(
        &mut self,
        relayer: &DynProvider,
        from: ChainAddress,
        signer: &dyn Signer,
        engine: &Engine,
    ) -> Result<usize, RelayError> {
        let now = engine.now();
        // Forget what can no longer land.
        self.in_flight.retain(|_, until| *until >= now);
        let batches = self.plan(engine, signer)?;
        if batches.is_empty() {
            return Ok(0);
        }
        let send_error = |e: alloy::transports::TransportError| RelayError::Send(e.to_string());
        let (nonce, fees) = tokio::try_join!(
            async {
                relayer
                    .get_transaction_count(from)
                    .pending()
                    .await
                    .map_err(send_error)
            },
            async { relayer.estimate_eip1559_fees().await.map_err(send_error) },
        )?;
        let request = |batch: &Outgoing| {
            TransactionRequest::default()
                .from(from)
                .to(self.marketplace)
                .input(batch.calldata.clone().into())
        };
        let mut estimates = tokio::task::JoinSet::new();
        for (i, batch) in batches.iter().enumerate() {
            let (relayer, tx) = (relayer.clone(), request(batch));
            estimates.spawn(async move { (i, relayer.estimate_gas(tx).await) });
        }
        let mut gas: Vec<_> = estimates.join_all().await;
        gas.sort_unstable_by_key(|(i, _)| *i);
        let gas = gas.into_iter().map(|(_, g)| g);
        let mut sent = 0;
        for ((batch, gas), nonce) in batches.into_iter().zip(gas).zip(nonce..) {
            let tx = request(&batch)
                .nonce(nonce)
                .gas_limit(gas.map_err(send_error)?)
                .max_fee_per_gas(fees.max_fee_per_gas)
                .max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
            let pending = relayer.send_transaction(tx).await.map_err(send_error)?;
            tracing::info!(
                "relayed a batch of {} assignments of block {} (time {}) as {:?}, valid until {} \
                 (tx {})",
                batch.assignments.len(),
                batch.proposed_in.block,
                batch.proposed_in.timestamp,
                batch.role,
                batch.valid_until,
                pending.tx_hash()
            );
            let entries: Vec<(AskId, u8, Address)> = batch
                .assignments
                .iter()
                .map(|a| (a.ask, a.slot, a.generator))
                .collect();
            for key in &entries {
                self.in_flight.insert(*key, batch.valid_until);
            }
            self.unreceipted.push(Sent {
                tx: *pending.tx_hash(),
                entries,
                valid_until: batch.valid_until,
            });
            match batch.role {
                Role::Owner => self.stats.sent_as_owner += 1,
                Role::Takeover => self.stats.sent_as_takeover += 1,
            }
            self.stats.assignments_sent += batch.assignments.len() as u64;
            sent += batch.assignments.len();
        }
        Ok(sent)
    }

    /// Reads the receipts of relayed batches: counts what landed, what was a duplicate (and
    /// its gas), what reverted; a batch without a receipt once the engine's clock is past its
    /// `validUntil` is counted unconfirmed and forgotten. A batch without a receipt that the node
    /// no longer knows at all (dropped from its pool: the relayer ran out of funds, the node
    /// evicted it or restarted) is counted dropped, and its assignments are no longer in flight:
    /// the next submission sends them again instead of waiting for the `validUntil` of a
    /// transaction that cannot land. (If the node was wrong and the batch lands after all, the
    /// copy is a duplicate the contract skips.)
    pub(crate) async fn read_receipts(&mut self, reader: &DynProvider, now: Timestamp) {
        let mut waiting = Vec::with_capacity(self.unreceipted.len());
        for sent in std::mem::take(&mut self.unreceipted) {
            match reader.get_transaction_receipt(sent.tx).await {
                Ok(Some(receipt)) => {
                    let outcome = if receipt.status() {
                        classify(self.marketplace, receipt.inner.logs(), sent.entries.len())
                    } else {
                        Outcome::Reverted
                    };
                    self.stats.record(outcome, receipt.gas_used);
                    if outcome == Outcome::Duplicate {
                        tracing::info!(
                            "batch tx {} was a duplicate ({} gas): another copy landed first",
                            sent.tx,
                            receipt.gas_used
                        );
                    }
                }
                // Past its `validUntil` it can no longer land: forget it (the node may have
                // dropped it, or not answered).
                Ok(None) | Err(_) if sent.valid_until < now => self.stats.unconfirmed += 1,
                Ok(None) if matches!(reader.get_transaction_by_hash(sent.tx).await, Ok(None)) => {
                    tracing::warn!(
                        "batch tx {} was dropped by the node before it was mined: sending its {} \
                         assignments again",
                        sent.tx,
                        sent.entries.len()
                    );
                    self.stats.dropped += 1;
                    self.forget(&sent);
                }
                // Not mined yet, or the node did not answer: ask again next time.
                Ok(None) | Err(_) => waiting.push(sent),
            }
        }
        self.unreceipted = waiting;
    }

    /// Takes a batch's assignments out of flight, unless a later batch carries them.
    fn forget(&mut self, sent: &Sent) {
        for key in &sent.entries {
            if self.in_flight.get(key) == Some(&sent.valid_until) {
                self.in_flight.remove(key);
            }
        }
    }
}

/// What one relayed batch's receipt shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// At least one entry was accepted.
    Landed,
    /// Every entry was skipped as `SlotNotOpen`.
    Duplicate,
    /// Entries skipped for other reasons (or logs missing): neither.
    Skipped,
    /// The transaction reverted.
    Reverted,
}

impl RelayStats {
    fn record(&mut self, outcome: Outcome, gas_used: u64) {
        match outcome {
            Outcome::Landed => self.landed += 1,
            Outcome::Duplicate => {
                self.duplicates += 1;
                self.duplicate_gas = self.duplicate_gas.saturating_add(gas_used);
            }
            Outcome::Skipped => {}
            Outcome::Reverted => self.reverted += 1,
        }
    }
}

/// Classifies a successful batch transaction of `entries` assignments by the marketplace's logs.
#[must_use]
pub(crate) fn classify(marketplace: ChainAddress, logs: &[RpcLog], entries: usize) -> Outcome {
    let mut accepted = 0usize;
    let mut not_open = 0usize;
    for log in logs.iter().filter(|l| l.address() == marketplace) {
        match log.topic0() {
            Some(t) if *t == ProofMarketplace::AssignmentAccepted::SIGNATURE_HASH => accepted += 1,
            Some(t)
                if *t == ProofMarketplace::AssignmentSkipped::SIGNATURE_HASH
                    && ProofMarketplace::AssignmentSkipped::decode_log_data(log.data())
                        .is_ok_and(|e| e.reason == ProofMarketplace::SkipReason::SlotNotOpen) =>
            {
                not_open += 1;
            }
            _ => {}
        }
    }
    if accepted > 0 {
        Outcome::Landed
    } else if not_open == entries && entries > 0 {
        Outcome::Duplicate
    } else {
        Outcome::Skipped
    }
}

/// The calldata of a signed batch.
fn calldata(assignments: &[Assignment], signed: SignedProposal, valid_until: Timestamp) -> Bytes {
    let entries: Vec<ProofMarketplace::Assignment> = assignments.iter().map(entry).collect();
    let valid_until = U256::from(valid_until);
    match signed {
        SignedProposal::Plain(signed) => ProofMarketplace::assignBatchCall {
            assignments: entries,
            validUntil: valid_until,
            signature: Bytes::copy_from_slice(&signed.signature.0),
        }
        .abi_encode(),
        SignedProposal::Keyed(signed) => ProofMarketplace::assignBatchWithKeysCall {
            assignments: entries,
            keyWraps: signed
                .batch
                .key_wraps()
                .iter()
                .map(|w| Bytes::copy_from_slice(w))
                .collect(),
            validUntil: valid_until,
            signature: Bytes::copy_from_slice(&signed.signature.0),
        }
        .abi_encode(),
    }
    .into()
}

/// The contract's form of an assignment.
fn entry(a: &Assignment) -> ProofMarketplace::Assignment {
    ProofMarketplace::Assignment {
        askId: U256::from(a.ask),
        slot: U256::from(a.slot),
        generator: ChainAddress::from(a.generator.0),
        price: U256::from(a.price),
    }
}

#[cfg(test)]
mod tests;
