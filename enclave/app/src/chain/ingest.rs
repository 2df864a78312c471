//! Chain ingest: reads the marketplace's and the staking module's logs up to `confirmations`
//! blocks below the head, checks that every block links to the one before it, and feeds the
//! engine's [`Replica`]. A changed block within the replica's window rolls back to the fork
//! point; a deeper reorg rebuilds the state from the start block.
//!
//! Nothing is taken on trust from the RPC beyond what the chain commits to. A header counts only
//! if its hash is the hash of its fields, and headers must chain (parent hash); the logs come
//! from the receipts of each block whose logs bloom may hold the contracts' logs, and count only
//! if those receipts hash to the header's receipts root. So an RPC that alters a log (its data,
//! its topics, or leaves one out) or a hash is caught: nothing of the poll is applied, and the
//! next poll starts over. What the engine applies is then a chain of real headers, and a lie
//! that builds a whole different chain is a fork that the reorg handling undoes once the RPC
//! shows the real one.

use std::collections::BTreeMap;

use alloy::consensus::proofs::calculate_receipt_root;
use alloy::eips::BlockNumberOrTag;
use alloy::network::AnyReceiptEnvelope;
use alloy::primitives::{Bloom, BloomInput, Log as PrimitiveLog};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::Log as RpcLog;
use matching_engine::{Block, ChainError, Engine, Log, Replica};

use crate::chain::decode::{DecodeError, Sources, decode_log};

/// Headers asked for in one JSON-RPC batch.
const HEADER_BATCH: u64 = 100;
/// Blocks whose receipts are asked for in one JSON-RPC batch.
const RECEIPT_BATCH: usize = 20;

/// How the chain is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct IngestConfig {
    /// First block to read (the marketplace's deployment block).
    pub(crate) start_block: u64,
    /// Blocks below the head that are ingested (0: up to the head).
    pub(crate) confirmations: u64,
    /// Most blocks read per poll.
    pub(crate) max_range: u64,
    /// Blocks kept reversible in the replica; a deeper reorg rebuilds from `start_block`.
    pub(crate) reorg_window: usize,
}

/// Why a poll did not advance.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum IngestError {
    /// The RPC call failed (transport, timeout, error response).
    #[error("RPC {call}: {detail}")]
    Rpc {
        /// The call.
        call: &'static str,
        /// The error.
        detail: String,
    },
    /// The RPC does not know a block below its own head.
    #[error("the RPC has no block {0}")]
    MissingBlock(u64),
    /// Headers and logs do not describe one chain (the head moved during the poll, or the
    /// RPC is inconsistent). Nothing was applied; the next poll starts over.
    #[error("inconsistent chain data at block {block}: {detail}")]
    Inconsistent {
        /// The block.
        block: u64,
        /// What did not match.
        detail: &'static str,
    },
}

/// Counters and positions, for the status endpoint.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct IngestStats {
    /// Latest head seen.
    pub(crate) head: Option<u64>,
    /// Reorgs handled within the window.
    pub(crate) reorgs: u64,
    /// Rebuilds from the start block (reorgs deeper than the window).
    pub(crate) rebuilds: u64,
    /// Logs that could not be decoded (skipped).
    pub(crate) decode_errors: u64,
    /// Events the engine rejected as contradicting its state (skipped).
    pub(crate) rejected_events: u64,
    /// The last decode error, if any.
    pub(crate) last_decode_error: Option<String>,
}

/// What one poll did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Polled {
    /// Blocks applied.
    pub(crate) blocks: u64,
    /// Whether the ingest reached `head - confirmations`.
    pub(crate) caught_up: bool,
}

/// A header whose hash was checked against its fields.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Header {
    number: u64,
    hash: [u8; 32],
    parent: [u8; 32],
    timestamp: u64,
    logs_bloom: Bloom,
    receipts_root: [u8; 32],
}

/// A block's receipts as the RPC reports them (every transaction type, its logs as consensus
/// logs: the fields the receipts root commits to).
type Receipts = Vec<AnyReceiptEnvelope<PrimitiveLog>>;

/// The header of `block` if its reported hash is the hash of its fields.
///
/// # Errors
/// [`IngestError::Inconsistent`] when it is not: the RPC altered a field or the hash.
fn checked_header(block: &alloy::rpc::types::Header) -> Result<Header, IngestError> {
    if block.inner.hash_slow() != block.hash {
        return Err(IngestError::Inconsistent {
            block: block.number,
            detail: "the block hash is not the hash of the header's fields",
        });
    }
    Ok(Header {
        number: block.number,
        hash: block.hash.0,
        parent: block.parent_hash.0,
        timestamp: block.timestamp,
        logs_bloom: block.logs_bloom,
        receipts_root: block.receipts_root.0,
    })
}

/// The logs of `sources` in the block of `header`, from its `receipts`, each with its block and
/// its index in the block.
///
/// # Errors
/// [`IngestError::Inconsistent`] when the receipts do not hash to the header's receipts root
/// (a log altered, added or left out).
fn checked_logs(
    header: &Header,
    receipts: &[AnyReceiptEnvelope<PrimitiveLog>],
    sources: &Sources,
) -> Result<Vec<RpcLog>, IngestError> {
    if calculate_receipt_root(receipts).0 != header.receipts_root {
        return Err(IngestError::Inconsistent {
            block: header.number,
            detail: "the receipts do not hash to the header's receipts root",
        });
    }
    Ok(receipts
        .iter()
        .flat_map(AnyReceiptEnvelope::logs)
        .zip(0_u64..)
        .filter(|(log, _)| log.address == sources.marketplace || log.address == sources.staking)
        .map(|(log, index)| RpcLog {
            inner: log.clone(),
            block_hash: Some(header.hash.into()),
            block_number: Some(header.number),
            log_index: Some(index),
            ..RpcLog::default()
        })
        .collect())
}

/// Whether the block's logs bloom admits a log of `sources` (a bloom has no false negatives).
fn may_hold_logs(header: &Header, sources: &Sources) -> bool {
    [sources.marketplace, sources.staking].iter().any(|a| {
        header
            .logs_bloom
            .contains_input(BloomInput::Raw(a.as_slice()))
    })
}

/// The ingest state: the replica and where to read next.
pub(crate) struct Ingest {
    sources: Sources,
    config: IngestConfig,
    genesis: Engine,
    replica: Replica,
    next: u64,
    stats: IngestStats,
}

fn rpc(call: &'static str) -> impl FnOnce(alloy::transports::TransportError) -> IngestError {
    move |e| IngestError::Rpc {
        call,
        detail: e.to_string(),
    }
}

impl Ingest {
    /// Starts from `engine` (empty, with its bid opener) at `config.start_block`.
    #[must_use]
    pub(crate) fn new(sources: Sources, config: IngestConfig, engine: Engine) -> Self {
        Self {
            sources,
            config,
            replica: Replica::new(engine.clone(), config.reorg_window),
            genesis: engine,
            next: config.start_block,
            stats: IngestStats::default(),
        }
    }

    /// The engine state.
    #[must_use]
    pub(crate) fn replica(&self) -> &Replica {
        &self.replica
    }

    /// The replica, to hand it uploaded inputs (not chain data: a rebuild from the chain
    /// starts without them).
    pub(crate) fn replica_mut(&mut self) -> &mut Replica {
        &mut self.replica
    }

    /// The counters.
    #[must_use]
    pub(crate) fn stats(&self) -> &IngestStats {
        &self.stats
    }

    async fn header(provider: &DynProvider, number: u64) -> Result<Header, IngestError> {
        Self::headers(provider, number, number)
            .await?
            .remove(&number)
            .ok_or(IngestError::MissingBlock(number))
    }

    /// Headers `from..=to`, fetched in JSON-RPC batches of [`HEADER_BATCH`].
    async fn headers(
        provider: &DynProvider,
        from: u64,
        to: u64,
    ) -> Result<BTreeMap<u64, Header>, IngestError> {
        let mut out = BTreeMap::new();
        let mut start = from;
        while start <= to {
            let end = to.min(start.saturating_add(HEADER_BATCH - 1));
            let client = provider.client();
            let mut batch = alloy::rpc::client::BatchRequest::new(client);
            let mut waiters = Vec::new();
            for number in start..=end {
                let waiter = batch
                    .add_call::<_, Option<alloy::rpc::types::Block>>(
                        "eth_getBlockByNumber",
                        &(BlockNumberOrTag::Number(number), false),
                    )
                    .map_err(rpc("eth_getBlockByNumber"))?;
                waiters.push((number, waiter));
            }
            batch.send().await.map_err(rpc("eth_getBlockByNumber"))?;
            for (number, waiter) in waiters {
                let block = waiter
                    .await
                    .map_err(rpc("eth_getBlockByNumber"))?
                    .ok_or(IngestError::MissingBlock(number))?;
                if block.header.number != number {
                    return Err(IngestError::Inconsistent {
                        block: number,
                        detail: "the RPC answered with another block",
                    });
                }
                out.insert(number, checked_header(&block.header)?);
            }
            start = end + 1;
        }
        Ok(out)
    }

    /// Reads and applies the next range of blocks (at most `max_range`).
    ///
    /// # Errors
    /// [`IngestError`]; nothing of the failed range is applied.
    pub(crate) async fn poll(&mut self, provider: &DynProvider) -> Result<Polled, IngestError> {
        let head = provider
            .get_block_number()
            .await
            .map_err(rpc("eth_blockNumber"))?;
        self.stats.head = Some(head);
        if let Some((tip, hash)) = self.replica.tip()
            && Self::header(provider, tip).await?.hash != hash
        {
            self.recover_from_reorg(provider).await?;
        }
        let target = head.saturating_sub(self.config.confirmations);
        if self.next > target {
            return Ok(Polled {
                blocks: 0,
                caught_up: true,
            });
        }
        let to = target.min(self.next.saturating_add(self.config.max_range.max(1) - 1));
        let headers = Self::headers(provider, self.next, to).await?;
        let mut parent = self.replica.tip().map(|(_, h)| h);
        for (number, h) in &headers {
            if parent.is_some_and(|p| p != h.parent) {
                return Err(IngestError::Inconsistent {
                    block: *number,
                    detail: "parent hash is not the previous block's hash",
                });
            }
            parent = Some(h.hash);
        }
        let mut by_block = self.logs(provider, &headers).await?;
        let mut blocks = 0;
        for (number, h) in headers {
            let raw = by_block.remove(&number).unwrap_or_default();
            let block = Block {
                number,
                hash: h.hash,
                parent_hash: h.parent,
                timestamp: h.timestamp,
                logs: self.decode_all(&raw),
            };
            match self.replica.push_block(block) {
                Ok(outcome) => {
                    self.stats.rejected_events += outcome.rejected.len() as u64;
                }
                Err(ChainError::LogsOutOfOrder(b)) => {
                    return Err(IngestError::Inconsistent {
                        block: b,
                        detail: "two logs with the same index",
                    });
                }
                Err(_) => {
                    // The replica refused a link the headers above promised: start over.
                    return Err(IngestError::Inconsistent {
                        block: number,
                        detail: "block does not link to the applied chain",
                    });
                }
            }
            self.next = number + 1;
            blocks += 1;
        }
        Ok(Polled {
            blocks,
            caught_up: to == target,
        })
    }

    /// The logs of the sources in `headers`' blocks, by block: from the receipts of each block
    /// whose bloom admits them (JSON-RPC batches of [`RECEIPT_BATCH`]), checked against its
    /// receipts root.
    async fn logs(
        &self,
        provider: &DynProvider,
        headers: &BTreeMap<u64, Header>,
    ) -> Result<BTreeMap<u64, Vec<RpcLog>>, IngestError> {
        let wanted: Vec<&Header> = headers
            .values()
            .filter(|h| may_hold_logs(h, &self.sources))
            .collect();
        let mut out = BTreeMap::new();
        for chunk in wanted.chunks(RECEIPT_BATCH) {
            let mut batch = alloy::rpc::client::BatchRequest::new(provider.client());
            let mut waiters = Vec::with_capacity(chunk.len());
            for header in chunk {
                let waiter = batch
                    .add_call::<_, Option<Receipts>>(
                        "eth_getBlockReceipts",
                        &(BlockNumberOrTag::Number(header.number),),
                    )
                    .map_err(rpc("eth_getBlockReceipts"))?;
                waiters.push((*header, waiter));
            }
            batch.send().await.map_err(rpc("eth_getBlockReceipts"))?;
            for (header, waiter) in waiters {
                let receipts = waiter
                    .await
                    .map_err(rpc("eth_getBlockReceipts"))?
                    .ok_or(IngestError::MissingBlock(header.number))?;
                out.insert(
                    header.number,
                    checked_logs(header, &receipts, &self.sources)?,
                );
            }
        }
        Ok(out)
    }

    fn decode_all(&mut self, raw: &[RpcLog]) -> Vec<Log> {
        let mut out = Vec::with_capacity(raw.len());
        for log in raw {
            let Some(index) = log.log_index.and_then(|i| u32::try_from(i).ok()) else {
                self.note(&DecodeError::Malformed {
                    event: "log",
                    detail: "log index missing or above u32".into(),
                });
                continue;
            };
            match decode_log(&self.sources, log) {
                Ok(Some(event)) => out.push(Log { index, event }),
                Ok(None) => {}
                Err(e) => self.note(&e),
            }
        }
        out
    }

    fn note(&mut self, e: &DecodeError) {
        self.stats.decode_errors += 1;
        self.stats.last_decode_error = Some(e.to_string());
    }

    /// The applied tip is no longer canonical: finds the newest applied block that still is and
    /// rolls back to it, or rebuilds from the start block when the fork is below the window.
    async fn recover_from_reorg(&mut self, provider: &DynProvider) -> Result<(), IngestError> {
        let Some((tip, _)) = self.replica.tip() else {
            return Ok(());
        };
        let floor = self
            .replica
            .confirmed_tip()
            .unwrap_or(self.config.start_block);
        let mut number = tip;
        while number >= floor && number > self.config.start_block {
            number -= 1;
            let Some(ours) = self.replica.hash_at(number) else {
                break;
            };
            if Self::header(provider, number).await?.hash == ours {
                if self.replica.rollback_to(number).is_ok() {
                    self.next = number + 1;
                    self.stats.reorgs += 1;
                    return Ok(());
                }
                break;
            }
        }
        self.replica = Replica::new(self.genesis.clone(), self.config.reorg_window);
        self.next = self.config.start_block;
        self.stats.rebuilds += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
