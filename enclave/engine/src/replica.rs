//! Reorg handling: a confirmed engine plus a window of reversible blocks.
//!
//! The replica keeps two engines: `confirmed`, which has applied every block older than the
//! reorg window, and `head`, which is `confirmed` plus the blocks in the window. Rolling back
//! clones `confirmed` and replays the surviving blocks, so the state after a reorg is, by
//! construction, the state a fresh application of the new chain gives.

use std::collections::VecDeque;

use crate::engine::{BlockOutcome, Engine};
use crate::error::{ChainError, InputsError};
use crate::event::Block;
use crate::store::Uploaded;
use crate::types::Assignment;

/// An engine fed by a chain that may reorganise within `window` blocks.
#[derive(Clone, Debug)]
pub struct Replica {
    confirmed: Engine,
    confirmed_tip: Option<(u64, [u8; 32])>,
    head: Engine,
    unconfirmed: VecDeque<Block>,
    window: usize,
}

impl Replica {
    /// A replica starting from `engine` (usually empty) keeping `window` blocks reversible.
    #[must_use]
    pub fn new(engine: Engine, window: usize) -> Self {
        Self {
            head: engine.clone(),
            confirmed: engine,
            confirmed_tip: None,
            unconfirmed: VecDeque::new(),
            window,
        }
    }

    /// The current state (all blocks applied).
    #[must_use]
    pub fn head(&self) -> &Engine {
        &self.head
    }

    /// The irreversible state (blocks older than the window).
    #[must_use]
    pub fn confirmed(&self) -> &Engine {
        &self.confirmed
    }

    /// Number of the confirmed tip (the newest block that can no longer be rolled back).
    #[must_use]
    pub fn confirmed_tip(&self) -> Option<u64> {
        self.confirmed_tip.map(|(n, _)| n)
    }

    /// Number and hash of the last block applied.
    #[must_use]
    pub fn tip(&self) -> Option<(u64, [u8; 32])> {
        self.unconfirmed
            .back()
            .map(|b| (b.number, b.hash))
            .or(self.confirmed_tip)
    }

    /// Applies the next block. A block already applied (same number and hash) is a no-op; a
    /// block at or below the tip with another hash rolls back to its parent first.
    ///
    /// After a rollback, proposals from replayed blocks are not returned again: read
    /// [`Engine::pending_assignments`] on [`Replica::head`].
    ///
    /// # Errors
    /// [`ChainError`] when the block does not link to the chain applied so far; nothing changes.
    pub fn push_block(&mut self, block: Block) -> Result<BlockOutcome, ChainError> {
        if block.logs.windows(2).any(|w| w[0].index >= w[1].index) {
            return Err(ChainError::LogsOutOfOrder(block.number));
        }
        if let Some((tip, _)) = self.tip()
            && block.number <= tip
        {
            if self.hash_at(block.number) == Some(block.hash) {
                return Ok(BlockOutcome::default());
            }
            self.rollback_to(block.number.saturating_sub(1))?;
        }
        if let Some((tip, tip_hash)) = self.tip() {
            let expected = tip.saturating_add(1);
            if block.number != expected {
                return Err(ChainError::Gap {
                    expected,
                    got: block.number,
                });
            }
            if block.parent_hash != tip_hash {
                return Err(ChainError::ParentMismatch(block.number));
            }
        }
        let outcome = self.head.apply_block(&block);
        self.unconfirmed.push_back(block);
        while self.unconfirmed.len() > self.window {
            let Some(old) = self.unconfirmed.pop_front() else {
                break;
            };
            let _ = self.confirmed.apply_block(&old);
            self.confirmed_tip = Some((old.number, old.hash));
        }
        Ok(outcome)
    }

    /// Uploads a private ask's inputs to both engines (so a rollback keeps them) and returns
    /// what the head proposed because of it (see [`Engine::upload_inputs`]).
    ///
    /// # Errors
    /// The head engine's [`InputsError`]; the confirmed engine's outcome follows the head's.
    pub fn upload_inputs(
        &mut self,
        inputs_hash: [u8; 32],
        inputs: &[u8],
    ) -> Result<(Uploaded, Vec<Assignment>), InputsError> {
        let out = self.head.upload_inputs(inputs_hash, inputs)?;
        // The confirmed engine may not know the ask yet; its proposals are not this block's.
        let _ = self.confirmed.upload_inputs(inputs_hash, inputs);
        Ok(out)
    }

    /// Discards every block above `number`.
    ///
    /// # Errors
    /// [`ChainError::ReorgTooDeep`] when `number` is below the confirmed tip: rebuild from the
    /// chain instead. Nothing changes then.
    pub fn rollback_to(&mut self, number: u64) -> Result<(), ChainError> {
        if let Some((confirmed, _)) = self.confirmed_tip
            && number < confirmed
        {
            return Err(ChainError::ReorgTooDeep {
                target: number,
                confirmed,
            });
        }
        if self.unconfirmed.back().is_none_or(|b| b.number <= number) {
            return Ok(());
        }
        while self.unconfirmed.back().is_some_and(|b| b.number > number) {
            self.unconfirmed.pop_back();
        }
        self.head = self.confirmed.clone();
        for b in &self.unconfirmed {
            let _ = self.head.apply_block(b);
        }
        Ok(())
    }

    /// Hash of the applied block `number`, if it is the confirmed tip or within the window.
    #[must_use]
    pub fn hash_at(&self, number: u64) -> Option<[u8; 32]> {
        self.unconfirmed
            .iter()
            .find(|b| b.number == number)
            .map(|b| b.hash)
            .or(self
                .confirmed_tip
                .filter(|(n, _)| *n == number)
                .map(|(_, h)| h))
    }
}
