//! Slashes from L2 to L1: `SlashRequested` records of the staking module become enclave-signed
//! `SlashResult`s for `NetworkMiddleware.slash`; the middleware's veto requests are executed once
//! their veto period is over (unless a resolver vetoed them) and while the vault still allows it.

use std::collections::BTreeMap;

use alloy::primitives::aliases::U48;
use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use serde::Serialize;

use crate::chain::Chain;
use crate::error::{DataError, Error};
use crate::job::{Bridge, unix_now};
use crate::typed::{middleware_domain, sign};
use marketplace_bindings::NetworkMiddleware::{self, SlashResult};
use marketplace_bindings::SymbioticStakingModule;
use marketplace_bindings::external::{IVault, IVetoSlasher};

/// One `SlashRequested` record of the staking module (one vault of one slash).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SlashRecord {
    /// The module's slash id.
    pub slash_id: B256,
    /// The operator.
    pub operator: Address,
    /// The L1 vault.
    pub vault: Address,
    /// Collateral units to slash.
    pub amount: U256,
    /// The snapshot's capture time.
    pub capture: u64,
    /// The L2 block that recorded it.
    pub l2_block: u64,
}

/// What became of a slash record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SlashOutcome {
    /// Slashed at once (instant slasher).
    Slashed {
        /// The record.
        record: SlashRecord,
        /// The amount Symbiotic slashed (clipped to the slashable stake).
        slashed: U256,
        /// The L1 transaction.
        tx: B256,
    },
    /// A veto request made (veto slasher): executed by a later round after the veto period.
    Requested {
        /// The record.
        record: SlashRecord,
        /// The VetoSlasher request index.
        index: U256,
        /// The L1 transaction.
        tx: B256,
    },
    /// L1 had already processed it (an earlier run, or another relayer).
    AlreadyProcessed {
        /// The record.
        record: SlashRecord,
    },
    /// Refused for good (outside the capture window, vault removed, …): dropped.
    Refused {
        /// The record.
        record: SlashRecord,
        /// The middleware's reason.
        reason: String,
    },
    /// Failed for now (RPC failure, key not live, …): retried next round.
    Retry {
        /// The record.
        record: SlashRecord,
        /// Why.
        reason: String,
    },
}

/// A veto request the middleware made.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OpenRequest {
    /// The module's slash id.
    pub slash_id: B256,
    /// The vault.
    pub vault: Address,
    /// The VetoSlasher request index.
    pub index: U256,
    /// The capture time.
    pub capture: u64,
}

/// What became of a veto request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ExecuteOutcome {
    /// Executed now.
    Executed {
        /// The request.
        request: OpenRequest,
        /// The L1 transaction.
        tx: B256,
    },
    /// A resolver vetoed it: nothing is slashed.
    Vetoed {
        /// The request.
        request: OpenRequest,
    },
    /// Completed before (by an earlier run or someone else).
    AlreadyCompleted {
        /// The request.
        request: OpenRequest,
    },
    /// Still in its veto period.
    VetoPending {
        /// The request.
        request: OpenRequest,
        /// When it ends (L1 s).
        veto_deadline: u64,
    },
    /// The vault's epoch since the capture is over: it can no longer be executed.
    WindowClosed {
        /// The request.
        request: OpenRequest,
    },
    /// Failed for now: retried next round.
    Retry {
        /// The request.
        request: OpenRequest,
        /// Why.
        reason: String,
    },
}

/// Middleware reverts that will not change by retrying.
const FINAL_REFUSALS: [&str; 5] = [
    "MiddlewareCaptureOutsideWindow",
    "MiddlewareVaultNotRegistered",
    "MiddlewareZeroAmount",
    "MiddlewareZeroSlashId",
    "MiddlewareSlashAlreadyProcessed",
];

fn bad_log(
    chain: &'static str,
    event: &'static str,
    log: &Log,
    reason: impl Into<String>,
) -> Error {
    DataError::BadLog {
        chain,
        event,
        block: log.block_number,
        reason: reason.into(),
    }
    .into()
}

/// Logs of blocks already checked against their receipts root, by block number.
type BlockLogs = BTreeMap<u64, Vec<alloy::primitives::Log>>;

/// Checks a log against the filter that produced it and against the receipts of its block, whose
/// header every read endpoint agreed on.
async fn checked_log<E: SolEvent>(
    chain: &Chain,
    log: &Log,
    address: Address,
    range: (u64, u64),
    now: u64,
    verified: &mut BlockLogs,
) -> Result<Option<E>, Error> {
    let (name, event) = (chain.name(), E::SIGNATURE);
    if log.removed {
        return Ok(None);
    }
    if log.address() != address {
        return Err(bad_log(name, event, log, "from another contract"));
    }
    let number = log
        .block_number
        .filter(|n| (range.0..=range.1).contains(n))
        .ok_or_else(|| bad_log(name, event, log, "block outside the range asked for"))?;
    let decoded =
        E::decode_log(&log.inner).map_err(|e| bad_log(name, event, log, e.to_string()))?;
    if let std::collections::btree_map::Entry::Vacant(slot) = verified.entry(number) {
        let header = chain.verified_block(number, now).await?;
        if log.block_hash != Some(header.hash) {
            return Err(bad_log(
                name,
                event,
                log,
                "block hash differs from the block's header",
            ));
        }
        slot.insert(chain.verified_logs(&header).await?);
    }
    if !verified
        .get(&number)
        .is_some_and(|logs| logs.contains(&log.inner))
    {
        return Err(bad_log(name, event, log, "not in the block's receipts"));
    }
    Ok(Some(decoded.data))
}

/// The `E` events of `address` in blocks `from..=to`, fetched `page` blocks at a time, each checked
/// by [`checked_log`]; with the block of each.
async fn scan<E: SolEvent>(
    chain: &Chain,
    address: Address,
    (from, to): (u64, u64),
    page: u64,
    now: u64,
) -> Result<Vec<(E, u64)>, Error> {
    let mut verified = BlockLogs::new();
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = start.saturating_add(page - 1).min(to);
        let filter = Filter::new()
            .address(address)
            .event_signature(E::SIGNATURE_HASH)
            .from_block(start)
            .to_block(end);
        for log in chain.logs(&filter).await? {
            if let Some(e) =
                checked_log::<E>(chain, &log, address, (start, end), now, &mut verified).await?
            {
                out.push((e, log.block_number.unwrap_or_default()));
            }
        }
        start = end + 1;
    }
    Ok(out)
}

impl Bridge {
    /// Scans new L2 blocks (up to the head minus `l2_confirmations`) for slash records, then
    /// carries every pending record to L1.
    ///
    /// # Errors
    /// A failure while scanning (nothing is lost: the scan resumes where it stopped).
    pub async fn carry_slashes(&mut self) -> Result<Vec<SlashOutcome>, Error> {
        let now = unix_now();
        let safe = self
            .l2
            .head()
            .await?
            .saturating_sub(self.settings.l2_confirmations);
        let found = scan::<SymbioticStakingModule::SlashRequested>(
            &self.l2,
            self.module,
            (self.l2_cursor, safe),
            self.settings.log_range,
            now,
        )
        .await?;
        for (e, l2_block) in found {
            let record = SlashRecord {
                slash_id: e.slashId,
                operator: e.operator,
                vault: e.vault,
                amount: e.amount,
                capture: e.captureTimestamp.to(),
                l2_block,
            };
            self.pending.insert((record.slash_id, record.vault), record);
        }
        self.l2_cursor = self.l2_cursor.max(safe.saturating_add(1));
        let mut out = Vec::new();
        let records: Vec<SlashRecord> = self.pending.values().cloned().collect();
        for record in records {
            let outcome = self.carry(record).await;
            if let SlashOutcome::Slashed { record, .. }
            | SlashOutcome::Requested { record, .. }
            | SlashOutcome::AlreadyProcessed { record }
            | SlashOutcome::Refused { record, .. } = &outcome
            {
                self.pending.remove(&(record.slash_id, record.vault));
            }
            out.push(outcome);
        }
        Ok(out)
    }

    async fn carry(&self, record: SlashRecord) -> SlashOutcome {
        let reader = NetworkMiddleware::new(self.middleware, self.l1.reader());
        match self
            .l1
            .call(
                "isProcessed",
                reader.isProcessed(record.slash_id, record.vault).call(),
            )
            .await
        {
            Ok(true) => return SlashOutcome::AlreadyProcessed { record },
            Ok(false) => {}
            Err(e) => {
                return SlashOutcome::Retry {
                    record,
                    reason: e.to_string(),
                };
            }
        }
        let result = SlashResult {
            slashId: record.slash_id,
            vault: record.vault,
            operator: record.operator,
            amount: record.amount,
            captureTimestamp: U48::saturating_from(record.capture),
        };
        let domain = middleware_domain(self.l1.chain_id(), self.middleware);
        let signature = match sign(&*self.signer, &result, &domain) {
            Ok((_, s)) => s,
            Err(e) => {
                return SlashOutcome::Retry {
                    record,
                    reason: e.to_string(),
                };
            }
        };
        let sender = NetworkMiddleware::new(self.middleware, self.l1.sender().clone());
        let receipt = match self.l1.send("slash", sender.slash(result, signature)).await {
            Ok(r) => r,
            Err(Error::Revert(r)) if FINAL_REFUSALS.contains(&r.name()) => {
                return SlashOutcome::Refused {
                    record,
                    reason: r.reason,
                };
            }
            Err(e) => {
                return SlashOutcome::Retry {
                    record,
                    reason: e.to_string(),
                };
            }
        };
        let tx = receipt.transaction_hash;
        for log in receipt.inner.logs() {
            if log.address() != self.middleware {
                continue;
            }
            if let Ok(e) = log.log_decode::<NetworkMiddleware::SlashExecuted>() {
                return SlashOutcome::Slashed {
                    record,
                    slashed: e.inner.data.slashedAmount,
                    tx,
                };
            }
            if let Ok(e) = log.log_decode::<NetworkMiddleware::SlashRequested>() {
                return SlashOutcome::Requested {
                    record,
                    index: e.inner.data.slashIndex,
                    tx,
                };
            }
        }
        // Accepted (the transaction succeeded) without the middleware's event: not expected from
        // the middleware; a later round finds it processed.
        SlashOutcome::Retry {
            record,
            reason: format!("slash transaction {tx} carried no middleware event"),
        }
    }

    /// Scans L1 for the middleware's veto requests and executes those whose veto period is over.
    ///
    /// # Errors
    /// A failure while scanning (the scan resumes where it stopped).
    pub async fn execute_requests(&mut self) -> Result<Vec<ExecuteOutcome>, Error> {
        let now = unix_now();
        let head = self.l1.head().await?;
        let found = scan::<NetworkMiddleware::SlashRequested>(
            &self.l1,
            self.middleware,
            (self.l1_cursor, head),
            self.settings.log_range,
            now,
        )
        .await?;
        for (e, _) in found {
            let request = OpenRequest {
                slash_id: e.slashId,
                vault: e.vault,
                index: e.slashIndex,
                capture: e.captureTimestamp.to(),
            };
            self.open.insert((request.vault, request.index), request);
        }
        self.l1_cursor = self.l1_cursor.max(head.saturating_add(1));
        let l1_now = self.l1.verified_block(head, now).await?.timestamp;
        let mut out = Vec::new();
        let requests: Vec<OpenRequest> = self.open.values().cloned().collect();
        for request in requests {
            let outcome = match self.execute(request.clone(), l1_now).await {
                Ok(o) => o,
                Err(e) => ExecuteOutcome::Retry {
                    request: request.clone(),
                    reason: e.to_string(),
                },
            };
            if !matches!(
                outcome,
                ExecuteOutcome::VetoPending { .. } | ExecuteOutcome::Retry { .. }
            ) {
                self.open.remove(&(request.vault, request.index));
            }
            out.push(outcome);
        }
        Ok(out)
    }

    async fn execute(&self, request: OpenRequest, l1_now: u64) -> Result<ExecuteOutcome, Error> {
        let p = self.l1.reader();
        let vault = IVault::new(request.vault, p);
        let slasher = self.l1.call("slasher", vault.slasher().call()).await?;
        let veto = IVetoSlasher::new(slasher, p);
        let r = self
            .l1
            .call("slashRequests", veto.slashRequests(request.index).call())
            .await?;
        if r.completed {
            let filter = Filter::new()
                .address(slasher)
                .event_signature(IVetoSlasher::VetoSlash::SIGNATURE_HASH)
                .topic1(B256::from(request.index))
                .from_block(self.settings.l1_start_block);
            let vetoed = !self.l1.logs(&filter).await?.is_empty();
            return Ok(if vetoed {
                ExecuteOutcome::Vetoed { request }
            } else {
                ExecuteOutcome::AlreadyCompleted { request }
            });
        }
        let deadline: u64 = r.vetoDeadline.to();
        if l1_now < deadline {
            return Ok(ExecuteOutcome::VetoPending {
                request,
                veto_deadline: deadline,
            });
        }
        let epoch: u64 = self
            .l1
            .call("epochDuration", vault.epochDuration().call())
            .await?
            .to();
        if l1_now > request.capture.saturating_add(epoch) {
            return Ok(ExecuteOutcome::WindowClosed { request });
        }
        let sender = NetworkMiddleware::new(self.middleware, self.l1.sender().clone());
        let tx = self
            .l1
            .send(
                "executeSlash",
                sender.executeSlash(request.vault, request.index, Bytes::new()),
            )
            .await?;
        Ok(ExecuteOutcome::Executed {
            request,
            tx: tx.transaction_hash,
        })
    }
}
