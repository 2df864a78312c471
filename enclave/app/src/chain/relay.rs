//! Submitting: the engine's pending assignments are cut into batches, signed with the enclave
//! key (EIP-712, `enclave/engine`), and relayed to `assignBatch` by the relayer account, which
//! only pays gas: it cannot change a signed batch, and a batch it withholds dies at
//! `validUntil`. A batch is not sent again while it may still land; after a restart everything
//! pending is sent again and the contract skips each slot already filled (`SlotNotOpen`).

use std::collections::HashMap;

use alloy::primitives::{Address as ChainAddress, Bytes, U256};
use alloy::providers::DynProvider;
use matching_engine::{Address, AskId, Assignment, AssignmentBatch, Domain, Signer, Timestamp};

use crate::chain::abi::IProofMarketplace;

/// Why a batch was not relayed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum RelayError {
    /// The enclave key could not sign.
    #[error("signing the batch: {0}")]
    Sign(#[from] matching_engine::SignError),
    /// The node refused the transaction (estimation revert, nonce, funds, transport).
    #[error("relaying assignBatch: {0}")]
    Send(String),
}

/// How batches are built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RelayConfig {
    /// Most assignments per batch.
    pub(crate) batch_size: usize,
    /// Seconds (of block time) a signed batch stays valid.
    pub(crate) validity: u64,
}

/// Batches signed and relayed, and what is in flight.
pub(crate) struct Relay {
    marketplace: ChainAddress,
    domain: Domain,
    config: RelayConfig,
    /// Assignments sent, with the `validUntil` of the batch that carried them.
    in_flight: HashMap<(AskId, u8, Address), Timestamp>,
    /// Batches relayed so far.
    pub(crate) batches_sent: u64,
    /// Assignments relayed so far.
    pub(crate) assignments_sent: u64,
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
            batches_sent: 0,
            assignments_sent: 0,
        }
    }

    /// Forgets what is in flight, so that everything pending is sent again: after a reorg the
    /// transactions that carried earlier batches may be gone (the contract skips slots already
    /// filled, so sending again is safe).
    pub(crate) fn forget_in_flight(&mut self) {
        self.in_flight.clear();
    }

    /// The assignments of `pending` not carried by a batch that may still land at `now`.
    #[must_use]
    pub(crate) fn due(&self, pending: &[Assignment], now: Timestamp) -> Vec<Assignment> {
        pending
            .iter()
            .filter(|a| {
                self.in_flight
                    .get(&(a.ask, a.slot, a.generator))
                    .is_none_or(|until| *until < now)
            })
            .copied()
            .collect()
    }

    /// Signs and relays the due assignments of `pending`; returns how many were sent.
    ///
    /// # Errors
    /// [`RelayError`] at the first batch that fails; batches before it were sent.
    pub(crate) async fn submit(
        &mut self,
        relayer: &DynProvider,
        signer: &dyn Signer,
        pending: &[Assignment],
        now: Timestamp,
    ) -> Result<usize, RelayError> {
        // Forget what can no longer land.
        self.in_flight.retain(|_, until| *until >= now);
        let due = self.due(pending, now);
        let valid_until = now.saturating_add(self.config.validity);
        let contract = IProofMarketplace::new(self.marketplace, relayer.clone());
        let mut sent = 0;
        for batch in AssignmentBatch::split(&due, self.config.batch_size, valid_until) {
            let signed = batch.sign(signer, &self.domain)?;
            let entries: Vec<IProofMarketplace::Assignment> = signed
                .batch
                .assignments()
                .iter()
                .map(|a| IProofMarketplace::Assignment {
                    askId: U256::from(a.ask),
                    slot: U256::from(a.slot),
                    generator: ChainAddress::from(a.generator.0),
                    price: U256::from(a.price),
                })
                .collect();
            let tx = contract
                .assignBatch(
                    entries,
                    U256::from(valid_until),
                    Bytes::copy_from_slice(&signed.signature.0),
                )
                .send()
                .await
                .map_err(|e| RelayError::Send(e.to_string()))?;
            eprintln!(
                "enclave-app: relayed a batch of {} assignments valid until {valid_until} (tx {})",
                signed.batch.assignments().len(),
                tx.tx_hash()
            );
            for a in signed.batch.assignments() {
                self.in_flight
                    .insert((a.ask, a.slot, a.generator), valid_until);
            }
            self.batches_sent += 1;
            self.assignments_sent += signed.batch.assignments().len() as u64;
            sent += signed.batch.assignments().len();
        }
        Ok(sent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(ask: u64) -> Assignment {
        Assignment {
            ask,
            slot: 0,
            generator: Address::from_low_u64(ask),
            price: 1,
        }
    }

    #[test]
    fn in_flight_assignments_are_not_due_until_their_batch_expires() {
        let mut relay = Relay::new(
            1,
            ChainAddress::ZERO,
            RelayConfig {
                batch_size: 2,
                validity: 60,
            },
        );
        relay.in_flight.insert((1, 0, a(1).generator), 100);
        let pending = [a(1), a(2)];
        assert_eq!(relay.due(&pending, 50), vec![a(2)]);
        assert_eq!(relay.due(&pending, 100), vec![a(2)]);
        assert_eq!(relay.due(&pending, 101), vec![a(1), a(2)]);
        relay.forget_in_flight();
        assert_eq!(relay.due(&pending, 50), vec![a(1), a(2)]);
    }
}
