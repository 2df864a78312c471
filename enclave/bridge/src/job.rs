//! The bridge job: one [`Bridge`] per (L1 middleware, L2 staking module) pair, driven by
//! [`Bridge::tick`]. Every step first reads what is already final on-chain, so a restarted job
//! repeats nothing: a finalised epoch is skipped, a half-submitted snapshot resumes at the next
//! chunk (its capture time is a fixed point of the epoch), a processed slash is not sent again,
//! and a completed veto request is not executed twice.

use std::collections::BTreeMap;
use std::sync::Arc;

use alloy::primitives::aliases::U48;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::sol_types::SolValue;
use matching_engine::Signer;
use serde::Serialize;

use crate::chain::{Chain, VerifiedBlock};
use crate::error::{ConfigError, Error};
use crate::slashes::{ExecuteOutcome, OpenRequest, SlashOutcome, SlashRecord};
use crate::snapshot::{EpochClock, chunks, collect};
use crate::stake::read_stakes;
use crate::typed::{module_domain, sign, signer_address};
use marketplace_bindings::SymbioticStakingModule::{self, StakeSnapshotChunk};

/// Tuning of the job.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// L1 blocks below the head before a block counts as final (stake is read there).
    pub l1_confirmations: u64,
    /// L2 blocks below the head before a slash record is carried.
    pub l2_confirmations: u64,
    /// Seconds after an L2 epoch's start at which its stake is captured on L1 (inside the epoch;
    /// at most the activation offset, so the snapshot can be ready when it activates).
    pub capture_delay: u64,
    /// Entries per snapshot chunk (one transaction each).
    pub stakes_per_chunk: usize,
    /// Most operators read from the `OperatorRegistry` (bounds the work an RPC can demand).
    pub max_operators: u64,
    /// First L1 block to scan for the middleware's veto requests (its deployment block).
    pub l1_start_block: u64,
    /// First L2 block to scan for slash records (the module's deployment block).
    pub l2_start_block: u64,
    /// Widest block range of one `eth_getLogs`.
    pub log_range: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            l1_confirmations: 64,
            l2_confirmations: 0,
            capture_delay: 60,
            stakes_per_chunk: 64,
            max_operators: 1000,
            l1_start_block: 0,
            l2_start_block: 0,
            log_range: 10_000,
        }
    }
}

/// What [`Bridge::sync_snapshot`] did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "snapshot", rename_all = "snake_case")]
#[non_exhaustive]
pub enum SnapshotOutcome {
    /// The L2 clock is before the module's genesis.
    BeforeGenesis,
    /// The current epoch already has its snapshot.
    AlreadyFinalised {
        /// The epoch.
        epoch: u64,
        /// Its capture time.
        capture: u64,
    },
    /// Not yet possible: the capture time has not passed on L2, or no final L1 block follows it.
    Waiting {
        /// The epoch.
        epoch: u64,
        /// The capture time.
        capture: u64,
        /// Why.
        reason: &'static str,
    },
    /// Chunks were submitted and the snapshot is finalised.
    Submitted {
        /// The epoch.
        epoch: u64,
        /// The capture time.
        capture: u64,
        /// The L1 block the stake was read at.
        l1_block: u64,
        /// Entries in the snapshot.
        entries: usize,
        /// Chunks in the snapshot.
        total: u32,
        /// Chunks sent now (fewer than `total` when resuming).
        sent: u32,
    },
}

/// Everything one [`Bridge::tick`] did; a failing step is reported and the others still run.
#[derive(Debug, Default, Serialize)]
pub struct TickReport {
    /// The snapshot step.
    pub snapshot: Option<SnapshotOutcome>,
    /// Slash records carried to L1.
    pub slashes: Vec<SlashOutcome>,
    /// Veto requests looked at.
    pub executions: Vec<ExecuteOutcome>,
    /// Failed steps.
    pub errors: Vec<String>,
}

/// The job's view of its two chains and its memory between ticks.
pub struct Bridge {
    pub(crate) l1: Chain,
    pub(crate) l2: Chain,
    pub(crate) middleware: Address,
    pub(crate) module: Address,
    pub(crate) signer: Arc<dyn Signer + Send + Sync>,
    pub(crate) settings: Settings,
    clock: EpochClock,
    max_vaults: usize,
    /// Next L2 block to scan for slash records.
    pub(crate) l2_cursor: u64,
    /// Slash records not yet accepted or finally refused on L1.
    pub(crate) pending: BTreeMap<(B256, Address), SlashRecord>,
    /// Next L1 block to scan for veto requests.
    pub(crate) l1_cursor: u64,
    /// Veto requests not yet completed.
    pub(crate) open: BTreeMap<(Address, U256), OpenRequest>,
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bridge")
            .field("middleware", &self.middleware)
            .field("module", &self.module)
            .field("signer", &signer_address(&*self.signer))
            .field("clock", &self.clock)
            .finish_non_exhaustive()
    }
}

/// The enclave's clock (s since the Unix epoch).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Bridge {
    /// Checks both contracts exist and reads the module's epochs.
    ///
    /// # Errors
    /// [`ConfigError`] for settings the module's epochs make impossible, or a chain failure.
    pub async fn new(
        l1: Chain,
        l2: Chain,
        middleware: Address,
        module: Address,
        signer: Arc<dyn Signer + Send + Sync>,
        settings: Settings,
    ) -> Result<Self, Error> {
        l1.require_code(middleware).await?;
        l2.require_code(module).await?;
        let m = SymbioticStakingModule::new(module, l2.reader());
        let genesis: u64 = l2.call("GENESIS", m.GENESIS().call()).await?.to();
        let duration: u64 = l2
            .call("EPOCH_DURATION", m.EPOCH_DURATION().call())
            .await?
            .to();
        let offset: u64 = l2
            .call("ACTIVATION_OFFSET", m.ACTIVATION_OFFSET().call())
            .await?
            .to();
        let max_vaults = l2
            .call(
                "MAX_VAULTS_PER_OPERATOR",
                m.MAX_VAULTS_PER_OPERATOR().call(),
            )
            .await?;
        let clock = EpochClock::new(genesis, duration, offset)?;
        if settings.capture_delay >= duration {
            return Err(ConfigError::OutOfRange(format!(
                "capture_delay {} s is not inside the {duration} s epoch",
                settings.capture_delay
            ))
            .into());
        }
        if settings.stakes_per_chunk == 0 || settings.log_range == 0 {
            return Err(ConfigError::OutOfRange(
                "stakes_per_chunk and log_range must be positive".into(),
            )
            .into());
        }
        Ok(Bridge {
            l1,
            l2,
            middleware,
            module,
            signer,
            l2_cursor: settings.l2_start_block,
            l1_cursor: settings.l1_start_block,
            settings,
            clock,
            max_vaults: usize::try_from(max_vaults).unwrap_or(usize::MAX),
            pending: BTreeMap::new(),
            open: BTreeMap::new(),
        })
    }

    /// The module's epochs.
    #[must_use]
    pub fn clock(&self) -> EpochClock {
        self.clock
    }

    /// The enclave key's address.
    #[must_use]
    pub fn signer_address(&self) -> Address {
        signer_address(&*self.signer)
    }

    /// Brings the current L2 epoch's snapshot on-chain if it is not yet: reads L1 at a final block
    /// after the epoch's capture time, signs the chunks and submits those the module lacks.
    ///
    /// # Errors
    /// A chain failure, bad chain data, or a revert (e.g. the key is not live).
    pub async fn sync_snapshot(&self) -> Result<SnapshotOutcome, Error> {
        let now = unix_now();
        let l2_head = self.l2.head().await?;
        let l2_block = self.l2.verified_block(l2_head, now).await?;
        let Some(epoch) = self.clock.epoch_of(l2_block.timestamp) else {
            return Ok(SnapshotOutcome::BeforeGenesis);
        };
        let m = SymbioticStakingModule::new(self.module, self.l2.reader());
        let done = self
            .l2
            .call(
                "snapshotOf",
                m.snapshotOf(epoch).block(l2_block.id()).call(),
            )
            .await?;
        if done.snapshotKey != B256::ZERO {
            return Ok(SnapshotOutcome::AlreadyFinalised {
                epoch,
                capture: done.captureTimestamp.to(),
            });
        }
        let capture = self.clock.capture(epoch, self.settings.capture_delay)?;
        if capture >= l2_block.timestamp {
            return Ok(SnapshotOutcome::Waiting {
                epoch,
                capture,
                reason: "capture time not yet past on L2",
            });
        }
        let Some((block, chunks)) = self.snapshot_chunks(epoch, capture, now).await? else {
            return Ok(SnapshotOutcome::Waiting {
                epoch,
                capture,
                reason: "no final L1 block after the capture time yet",
            });
        };
        let entries: usize = chunks.iter().map(|c| c.stakes.len()).sum();
        let (total, root) = chunks
            .first()
            .map_or((1, B256::ZERO), |c| (c.total, c.snapshotRoot));
        // The key binds the read (its root): chunks of an earlier, different read (a vault changed
        // since) are under another key, and this read is submitted from its first chunk.
        let key = snapshot_key(epoch, capture, total, root, self.signer_address());
        let received = self
            .l2
            .call("chunksReceived", m.chunksReceived(key).call())
            .await?;
        let domain = module_domain(self.l2.chain_id(), self.module);
        let sender = SymbioticStakingModule::new(self.module, self.l2.sender().clone());
        let mut sent = 0u32;
        for chunk in chunks.into_iter().skip(received as usize) {
            let (_, signature) = sign(&*self.signer, &chunk, &domain)?;
            self.l2
                .send(
                    "submitSnapshotChunk",
                    sender.submitSnapshotChunk(
                        chunk.epoch,
                        chunk.captureTimestamp,
                        chunk.index,
                        chunk.total,
                        chunk.snapshotRoot,
                        chunk.stakes,
                        signature,
                    ),
                )
                .await?;
            sent += 1;
        }
        Ok(SnapshotOutcome::Submitted {
            epoch,
            capture,
            l1_block: block.number,
            entries,
            total,
            sent,
        })
    }

    /// The chunks of epoch `epoch`'s snapshot at `capture`, read at the final L1 block (head minus
    /// `l1_confirmations`), or `None` while that block is not after the capture time. The same
    /// inputs give the same chunks on every run: the state at a time before a final block is final.
    ///
    /// # Errors
    /// A chain failure or bad chain data.
    pub async fn snapshot_chunks(
        &self,
        epoch: u64,
        capture: u64,
        now: u64,
    ) -> Result<Option<(VerifiedBlock, Vec<StakeSnapshotChunk>)>, Error> {
        let l1_head = self.l1.head().await?;
        let target = l1_head.saturating_sub(self.settings.l1_confirmations);
        let block = self.l1.verified_block(target, now).await?;
        if block.timestamp <= capture {
            return Ok(None);
        }
        let raw = read_stakes(
            &self.l1,
            self.middleware,
            &block,
            capture,
            self.settings.max_operators,
        )
        .await?;
        self.l1.still_canonical(&block).await?;
        let entries = collect(raw, self.max_vaults)?;
        let chunks = chunks(epoch, capture, &entries, self.settings.stakes_per_chunk)?;
        Ok(Some((block, chunks)))
    }

    /// One round: the snapshot, then slash records to L1, then due veto requests.
    pub async fn tick(&mut self) -> TickReport {
        let mut report = TickReport::default();
        match self.sync_snapshot().await {
            Ok(o) => report.snapshot = Some(o),
            Err(e) => report.errors.push(format!("snapshot: {e}")),
        }
        match self.carry_slashes().await {
            Ok(o) => report.slashes = o,
            Err(e) => report.errors.push(format!("slashes: {e}")),
        }
        match self.execute_requests().await {
            Ok(o) => report.executions = o,
            Err(e) => report.errors.push(format!("executions: {e}")),
        }
        report
    }
}

/// The module's snapshot key:
/// `keccak256(abi.encode(epoch, captureTimestamp, total, snapshotRoot, signer))`.
#[must_use]
pub fn snapshot_key(epoch: u64, capture: u64, total: u32, root: B256, signer: Address) -> B256 {
    let capture = U48::saturating_from(capture);
    keccak256((epoch, capture, total, root, signer).abi_encode_params())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_default_field_by_field_and_refuse_unknown_fields() {
        let s: Settings = serde_json::from_str(r#"{"capture_delay": 5}"#).unwrap();
        assert_eq!(
            s,
            Settings {
                capture_delay: 5,
                ..Settings::default()
            }
        );
        assert!(serde_json::from_str::<Settings>(r#"{"capture_dealy": 5}"#).is_err());
    }

    #[test]
    fn snapshot_key_is_the_modules() {
        // keccak256(abi.encode(uint64 3, uint48 1777600000, uint32 2, bytes32 0xaa…aa, address 0x11…11)).
        let mut words = Vec::new();
        for v in [3u64, 1_777_600_000, 2] {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&v.to_be_bytes());
            words.extend_from_slice(&w);
        }
        words.extend_from_slice(&[0xaa; 32]);
        let mut w = [0u8; 32];
        w[12..].copy_from_slice(&[0x11; 20]);
        words.extend_from_slice(&w);
        let key = snapshot_key(
            3,
            1_777_600_000,
            2,
            B256::repeat_byte(0xaa),
            Address::repeat_byte(0x11),
        );
        assert_eq!(key, keccak256(&words));
        // Another read (root) of the same epoch, capture and count is another key.
        assert_ne!(
            key,
            snapshot_key(3, 1_777_600_000, 2, B256::ZERO, Address::repeat_byte(0x11))
        );
    }
}
