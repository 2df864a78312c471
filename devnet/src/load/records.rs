//! The record of every ask of a load run, read from the chain (the chain is the truth): the
//! block that created it (`AskCreated`), the block its assignment landed in
//! (`AssignmentAccepted`) and the batch transaction that carried it, the block of its proof and
//! the payout credited with it (`ProofSubmitted`); and, per block, the gas used against the
//! limit. Read incrementally, so the drain can follow progress.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::Path;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{DynProvider, Provider as _};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use serde::Serialize;
use testkit::contracts::ProofMarketplace;

use crate::error::{Error, Result};

/// Blocks per `eth_getLogs`.
const LOG_CHUNK: u64 = 200;
/// `createAsk` and `submitProof` transactions whose receipts are read for their gas.
const GAS_SAMPLE: usize = 200;

/// One ask, as the chain recorded it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct AskRecord {
    pub(crate) ask: u64,
    pub(crate) market: u64,
    pub(crate) requester: Address,
    pub(crate) created_block: u64,
    pub(crate) created_tx: B256,
    /// The first `AssignmentAccepted` of its slot 0 (a slot given back and reassigned keeps the
    /// first).
    pub(crate) assigned_block: Option<u64>,
    pub(crate) assign_tx: Option<B256>,
    pub(crate) generator: Option<Address>,
    pub(crate) price: Option<U256>,
    pub(crate) proved_block: Option<u64>,
    /// What the generator was credited with the proof.
    pub(crate) payout: Option<U256>,
}

impl AskRecord {
    /// Blocks from creation to assignment.
    pub(crate) fn blocks_to_assignment(&self) -> Option<u64> {
        self.assigned_block
            .map(|b| b.saturating_sub(self.created_block))
    }
}

/// One block's gas.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub(crate) struct BlockGas {
    pub(crate) number: u64,
    pub(crate) timestamp: u64,
    pub(crate) gas_used: u64,
    pub(crate) gas_limit: u64,
    pub(crate) transactions: usize,
}

/// Counts over the records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub(crate) created: u64,
    pub(crate) assigned: u64,
    pub(crate) proved: u64,
    pub(crate) paid: u64,
}

/// Every ask and block read so far.
#[derive(Debug)]
pub(crate) struct Records {
    marketplace: Address,
    /// The next block to read.
    next: u64,
    pub(crate) asks: BTreeMap<u64, AskRecord>,
    pub(crate) blocks: BTreeMap<u64, BlockGas>,
    /// Assignment transactions whose receipts are not read yet.
    unread_batches: BTreeSet<B256>,
    /// (gas used, assignments accepted) of each `assignBatch` transaction read.
    pub(crate) batches: BTreeMap<B256, (u64, u64)>,
    /// Logs of asks this run did not see created (before `from`): ignored, counted.
    pub(crate) foreign_logs: u64,
    /// The first `createAsk` and `submitProof` transactions, for their gas.
    sample_creates: Vec<B256>,
    sample_proofs: Vec<B256>,
    /// Gas used by each sampled `createAsk` and `submitProof`.
    pub(crate) create_gas: Vec<u64>,
    pub(crate) proof_gas: Vec<u64>,
}

impl Records {
    /// Nothing read yet; reading starts at block `from`.
    pub(crate) fn new(marketplace: Address, from: u64) -> Records {
        Records {
            marketplace,
            next: from,
            asks: BTreeMap::new(),
            blocks: BTreeMap::new(),
            unread_batches: BTreeSet::new(),
            batches: BTreeMap::new(),
            foreign_logs: 0,
            sample_creates: Vec::new(),
            sample_proofs: Vec::new(),
            create_gas: Vec::new(),
            proof_gas: Vec::new(),
        }
    }

    /// Reads blocks up to `to` (inclusive): their gas, the marketplace's logs, the receipts of
    /// the assignment transactions they carry.
    pub(crate) async fn read_to(&mut self, p: &DynProvider, to: u64) -> Result<()> {
        while self.next <= to {
            let end = to.min(self.next + LOG_CHUNK - 1);
            let filter = Filter::new()
                .address(self.marketplace)
                .event_signature(vec![
                    ProofMarketplace::AskCreated::SIGNATURE_HASH,
                    ProofMarketplace::AssignmentAccepted::SIGNATURE_HASH,
                    ProofMarketplace::ProofSubmitted::SIGNATURE_HASH,
                ])
                .from_block(self.next)
                .to_block(end);
            let logs = p
                .get_logs(&filter)
                .await
                .map_err(|e| Error::rpc("eth_getLogs", e))?;
            for log in &logs {
                self.apply(log)?;
            }
            for number in self.next..=end {
                self.blocks.insert(number, block_gas(p, number).await?);
            }
            self.next = end + 1;
        }
        for tx in std::mem::take(&mut self.sample_creates) {
            self.create_gas.push(receipt(p, tx).await?.gas_used);
        }
        for tx in std::mem::take(&mut self.sample_proofs) {
            self.proof_gas.push(receipt(p, tx).await?.gas_used);
        }
        for tx in std::mem::take(&mut self.unread_batches) {
            let receipt = receipt(p, tx).await?;
            let accepted = receipt
                .inner
                .logs()
                .iter()
                .filter(|l| {
                    l.address() == self.marketplace
                        && l.topic0() == Some(&ProofMarketplace::AssignmentAccepted::SIGNATURE_HASH)
                })
                .count() as u64;
            self.batches.insert(tx, (receipt.gas_used, accepted));
        }
        Ok(())
    }

    /// Applies one marketplace log.
    pub(crate) fn apply(&mut self, log: &Log) -> Result<()> {
        let block = log
            .block_number
            .ok_or_else(|| Error::Check("a mined log without its block number".into()))?;
        let tx = log.transaction_hash.unwrap_or_default();
        let id = |v: U256, what: &str| {
            u64::try_from(v).map_err(|_| Error::Check(format!("{what} {v} above 64 bits")))
        };
        match log.topic0() {
            Some(t) if *t == ProofMarketplace::AskCreated::SIGNATURE_HASH => {
                let e = ProofMarketplace::AskCreated::decode_log(&log.inner)
                    .map_err(|e| Error::Check(format!("AskCreated: {e}")))?;
                let ask = id(e.askId, "ask id")?;
                if self.create_gas.len() + self.sample_creates.len() < GAS_SAMPLE {
                    self.sample_creates.push(tx);
                }
                self.asks.insert(
                    ask,
                    AskRecord {
                        ask,
                        market: id(e.marketId, "market id")?,
                        requester: e.requester,
                        created_block: block,
                        created_tx: tx,
                        ..AskRecord::default()
                    },
                );
            }
            Some(t) if *t == ProofMarketplace::AssignmentAccepted::SIGNATURE_HASH => {
                let e = ProofMarketplace::AssignmentAccepted::decode_log(&log.inner)
                    .map_err(|e| Error::Check(format!("AssignmentAccepted: {e}")))?;
                self.unread_batches.insert(tx);
                match self.asks.get_mut(&id(e.askId, "ask id")?) {
                    Some(r) if r.assigned_block.is_none() => {
                        r.assigned_block = Some(block);
                        r.assign_tx = Some(tx);
                        r.generator = Some(e.generator);
                        r.price = Some(e.price);
                    }
                    Some(_) => {}
                    None => self.foreign_logs += 1,
                }
            }
            Some(t) if *t == ProofMarketplace::ProofSubmitted::SIGNATURE_HASH => {
                let e = ProofMarketplace::ProofSubmitted::decode_log(&log.inner)
                    .map_err(|e| Error::Check(format!("ProofSubmitted: {e}")))?;
                match self.asks.get_mut(&id(e.askId, "ask id")?) {
                    Some(r) if r.proved_block.is_none() => {
                        if self.proof_gas.len() + self.sample_proofs.len() < GAS_SAMPLE {
                            self.sample_proofs.push(tx);
                        }
                        r.proved_block = Some(block);
                        r.payout = Some(e.price);
                    }
                    Some(_) => {}
                    None => self.foreign_logs += 1,
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Asks created, assigned, proved and paid (a non-zero payout credited).
    pub(crate) fn counts(&self) -> Counts {
        let mut c = Counts::default();
        for r in self.asks.values() {
            c.created += 1;
            c.assigned += u64::from(r.assigned_block.is_some());
            c.proved += u64::from(r.proved_block.is_some());
            c.paid += u64::from(r.payout.is_some_and(|p| !p.is_zero()));
        }
        c
    }

    /// Writes one JSON line per ask.
    pub(crate) fn write_jsonl(&self, path: &Path) -> Result<()> {
        let file = std::fs::File::create(path).map_err(|e| Error::file(path, e))?;
        let mut w = std::io::BufWriter::new(file);
        for r in self.asks.values() {
            let line = serde_json::to_string(r)
                .map_err(|e| Error::Check(format!("an ask record as JSON: {e}")))?;
            writeln!(w, "{line}").map_err(|e| Error::file(path, e))?;
        }
        w.flush().map_err(|e| Error::file(path, e))
    }
}

async fn receipt(p: &DynProvider, tx: B256) -> Result<alloy::rpc::types::TransactionReceipt> {
    p.get_transaction_receipt(tx)
        .await
        .map_err(|e| Error::rpc("eth_getTransactionReceipt", e))?
        .ok_or_else(|| Error::rpc("eth_getTransactionReceipt", format!("{tx} unknown")))
}

async fn block_gas(p: &DynProvider, number: u64) -> Result<BlockGas> {
    let b = p
        .get_block_by_number(number.into())
        .await
        .map_err(|e| Error::rpc("eth_getBlockByNumber", e))?
        .ok_or_else(|| Error::rpc("eth_getBlockByNumber", format!("no block {number}")))?;
    Ok(BlockGas {
        number,
        timestamp: b.header.timestamp,
        gas_used: b.header.gas_used,
        gas_limit: b.header.gas_limit,
        transactions: b.transactions.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::{Bytes, LogData};

    const MARKETPLACE: Address = Address::repeat_byte(0x11);

    fn log(block: u64, tx: u8, data: LogData) -> Log {
        Log {
            inner: alloy::primitives::Log {
                address: MARKETPLACE,
                data,
            },
            block_number: Some(block),
            transaction_hash: Some(B256::repeat_byte(tx)),
            ..Log::default()
        }
    }

    fn created(ask: u64, block: u64) -> Log {
        let e = ProofMarketplace::AskCreated {
            askId: U256::from(ask),
            marketId: U256::from(3),
            requester: Address::repeat_byte(0x22),
            reward: alloy::primitives::aliases::U96::from(100),
            expiry: 9,
            provingTime: 60,
            redundancy: 1,
            refundAddress: Address::repeat_byte(0x22),
            proverDataHash: B256::ZERO,
            proverData: Bytes::new(),
        };
        log(block, 1, e.encode_log_data())
    }

    fn accepted(ask: u64, block: u64, tx: u8) -> Log {
        let e = ProofMarketplace::AssignmentAccepted {
            askId: U256::from(ask),
            generator: Address::repeat_byte(0x33),
            slot: 0,
            price: U256::from(40),
            deadline: 99,
        };
        log(block, tx, e.encode_log_data())
    }

    fn proved(ask: u64, block: u64, price: u64) -> Log {
        let e = ProofMarketplace::ProofSubmitted {
            askId: U256::from(ask),
            slot: 0,
            generator: Address::repeat_byte(0x33),
            price: U256::from(price),
            proof: Bytes::new(),
        };
        log(block, 9, e.encode_log_data())
    }

    #[test]
    fn each_ask_keeps_its_creation_first_assignment_and_proof() {
        let mut r = Records::new(MARKETPLACE, 0);
        for l in [
            created(1, 10),
            created(2, 10),
            created(3, 11),
            accepted(1, 12, 5),
            accepted(2, 13, 6),
            accepted(1, 20, 7), // reassigned after a discard: the first one counts
            proved(1, 15, 40),
            proved(2, 16, 0),    // credited nothing: proved, not paid
            accepted(99, 12, 5), // an ask created before the run
        ] {
            r.apply(&l).unwrap();
        }
        let one = &r.asks[&1];
        assert_eq!(
            (one.created_block, one.assigned_block, one.proved_block),
            (10, Some(12), Some(15))
        );
        assert_eq!(one.assign_tx, Some(B256::repeat_byte(5)));
        assert_eq!(one.payout, Some(U256::from(40)));
        assert_eq!(one.market, 3);
        assert_eq!(one.blocks_to_assignment(), Some(2));
        assert_eq!(r.asks[&3].blocks_to_assignment(), None);
        assert_eq!(
            r.counts(),
            Counts {
                created: 3,
                assigned: 2,
                proved: 2,
                paid: 1
            }
        );
        assert_eq!(r.foreign_logs, 1);
        // The three batch transactions are queued for their receipts, and the first creations
        // and proofs for their gas.
        assert_eq!(r.unread_batches.len(), 3);
        assert_eq!((r.sample_creates.len(), r.sample_proofs.len()), (3, 2));
    }

    #[test]
    fn records_are_json_lines() {
        let mut r = Records::new(MARKETPLACE, 0);
        r.apply(&created(7, 4)).unwrap();
        r.apply(&accepted(7, 6, 2)).unwrap();
        let dir = std::env::temp_dir().join(format!("devnet-records-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("asks.jsonl");
        r.write_jsonl(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["ask"], 7);
        assert_eq!(line["created_block"], 4);
        assert_eq!(line["assigned_block"], 6);
        assert_eq!(line["proved_block"], serde_json::Value::Null);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
