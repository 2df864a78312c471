//! The requester's side of an ask: create (public, or private with sealed inputs), read its
//! status, wait for it to settle, fetch its proofs, cancel, refund, withdraw.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256};
use alloy::providers::{DynProvider, Provider};
use alloy::rpc::types::{Filter, TransactionReceipt};
use alloy::sol_types::SolEvent;
use marketplace_bindings::ProofMarketplace;
use serde::Serialize;

use crate::chain::{self, call_error, send};
use crate::error::{Error, Result};

/// The marketplace as one account sees it.
#[derive(Clone, Debug)]
pub struct Marketplace {
    provider: DynProvider,
    address: Address,
    sender: Option<Address>,
}

/// What a new ask asks for.
#[derive(Clone, Debug)]
pub struct NewAsk {
    /// The market.
    pub market_id: U256,
    /// The largest price per slot.
    pub reward: U256,
    /// Seconds from the latest block until the ask stops being assignable.
    pub expiry_in: u64,
    /// Seconds an assigned generator has for its proof.
    pub proving_time: u32,
    /// Distinct generators asked for.
    pub redundancy: u8,
    /// Receives unspent reward; the sender when `None`.
    pub refund_address: Option<Address>,
    /// The statement (`proverData`).
    pub statement: Bytes,
}

impl NewAsk {
    /// What the requester escrows: `reward × redundancy`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the product overflows.
    pub fn escrow(&self) -> Result<U256> {
        self.reward
            .checked_mul(U256::from(self.redundancy))
            .ok_or_else(|| Error::invalid("reward", "reward × redundancy overflows"))
    }

    /// `createAsk`'s parameters for `sender` when the latest block's time is `now` (the expiry
    /// counts from it; the refund address defaults to the sender).
    #[must_use]
    pub fn params(&self, sender: Address, now: u64) -> ProofMarketplace::AskParams {
        ProofMarketplace::AskParams {
            marketId: self.market_id,
            reward: self.reward,
            expiry: now.saturating_add(self.expiry_in),
            provingTime: self.proving_time,
            redundancy: self.redundancy,
            refundAddress: self.refund_address.unwrap_or(sender),
            proverData: self.statement.clone(),
        }
    }
}

/// The on-chain commitment of a private ask's inputs (`createPrivateAsk`'s extra arguments).
#[derive(Clone, Debug)]
pub struct PrivateCommitment {
    /// `keccak256(inputs)`.
    pub inputs_hash: B256,
    /// The content key wrapped to the engine (81 bytes).
    pub engine_key_wrap: Bytes,
    /// `inputs` itself when sent inline, else empty (uploaded to the engine).
    pub inline_inputs: Bytes,
}

/// A created ask.
#[derive(Clone, Debug, Serialize)]
pub struct Created {
    /// Its id.
    pub ask: U256,
    /// The creating transaction.
    pub tx: B256,
    /// Its block.
    pub block: u64,
}

/// Where an ask stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Assignable; no slot running.
    Open,
    /// At least one slot is assigned and not settled.
    Running,
    /// Settled, and at least one slot was proven.
    Proven,
    /// Past its expiry with never-assigned slots not yet refunded, nothing running, no proof.
    Expired,
    /// Its never-assigned slots were refunded, nothing running, no proof.
    Refunded,
    /// Cancelled by the requester.
    Cancelled,
    /// Every slot settled without a proof (slashed or invalid inputs).
    Failed,
}

impl Phase {
    /// Whether nothing more will happen to the ask by itself.
    #[must_use]
    pub fn is_final(self) -> bool {
        !matches!(self, Phase::Open | Phase::Running)
    }
}

/// One slot as stored.
#[derive(Clone, Debug, Serialize)]
pub struct SlotStatus {
    /// Its index.
    pub slot: u8,
    /// `Open`, `Assigned`, `Completed`, …
    pub state: String,
    /// The assigned generator (zero while open).
    pub generator: Address,
    /// Its price.
    pub price: U256,
    /// Its proving deadline (0 while open).
    pub deadline: u64,
}

/// An ask as stored, its slots, and the phase derived from them at `now`.
#[derive(Clone, Debug, Serialize)]
pub struct AskStatus {
    /// The ask.
    pub ask: U256,
    /// Its market.
    pub market_id: U256,
    /// Largest price per slot.
    pub reward: U256,
    /// Last assignable timestamp.
    pub expiry: u64,
    /// Seconds per assignment.
    pub proving_time: u32,
    /// Number of slots.
    pub redundancy: u8,
    /// Whether cancelled.
    pub cancelled: bool,
    /// Whether its never-assigned slots were refunded.
    pub refunded: bool,
    /// Its creator.
    pub requester: Address,
    /// The slots.
    pub slots: Vec<SlotStatus>,
    /// The latest block's timestamp when read.
    pub now: u64,
    /// Where it stands.
    pub phase: Phase,
}

/// A proof as `ProofSubmitted` carries it.
#[derive(Clone, Debug, Serialize)]
pub struct SubmittedProof {
    /// The slot.
    pub slot: u8,
    /// The generator.
    pub generator: Address,
    /// Its price.
    pub price: U256,
    /// The proof bytes.
    pub proof: Bytes,
    /// The transaction.
    pub tx: Option<B256>,
    /// Its block.
    pub block: Option<u64>,
}

/// The phase of an ask from its flags and slot states at `now`.
fn phase(cancelled: bool, refunded: bool, expiry: u64, slots: &[SlotStatus], now: u64) -> Phase {
    let count = |name: &str| slots.iter().filter(|s| s.state == name).count();
    let (running, open) = (count("Assigned"), count("Open"));
    if cancelled {
        return Phase::Cancelled;
    }
    if running > 0 {
        return Phase::Running;
    }
    let proven = count("Completed") > 0;
    if open == 0 || refunded || now > expiry {
        return match (proven, open, refunded) {
            (true, _, _) => Phase::Proven,
            (false, 0, _) => Phase::Failed,
            (false, _, true) => Phase::Refunded,
            (false, _, false) => Phase::Expired,
        };
    }
    Phase::Open
}

impl Marketplace {
    /// The marketplace at `address`, acting as `sender` (calls that send need one).
    #[must_use]
    pub fn new(provider: DynProvider, address: Address, sender: Option<Address>) -> Self {
        Marketplace {
            provider,
            address,
            sender,
        }
    }

    /// The marketplace's address.
    #[must_use]
    pub fn address(&self) -> Address {
        self.address
    }

    /// The provider.
    #[must_use]
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    fn contract(&self) -> ProofMarketplace::ProofMarketplaceInstance<&DynProvider> {
        ProofMarketplace::new(self.address, &self.provider)
    }

    fn sender(&self) -> Result<Address> {
        self.sender
            .ok_or_else(|| Error::invalid("key", "this call sends a transaction: give a key"))
    }

    /// The `AskParams` of `ask` with its expiry set from the latest block, after approving the
    /// escrow (`reward × redundancy`) to the marketplace.
    async fn prepare(&self, ask: &NewAsk) -> Result<ProofMarketplace::AskParams> {
        let sender = self.sender()?;
        let escrow = ask.escrow()?;
        let token = self
            .contract()
            .PAYMENT_TOKEN()
            .call()
            .await
            .map_err(|e| call_error("PAYMENT_TOKEN", e))?;
        chain::ensure_allowance(&self.provider, token, sender, self.address, escrow).await?;
        let (_, now) = chain::head(&self.provider).await?;
        Ok(ask.params(sender, now))
    }

    /// Creates a public ask (approving the escrow first when needed).
    ///
    /// # Errors
    /// [`Error::Reverted`] with the marketplace's reason, [`Error::Rpc`] on transport failures.
    pub async fn create_public(&self, ask: &NewAsk) -> Result<Created> {
        let params = self.prepare(ask).await?;
        let receipt = send(
            "createAsk",
            self.contract().createAsk(params).from(self.sender()?),
        )
        .await?;
        self.created(&receipt)
    }

    /// Creates a private ask with its inputs' commitment.
    ///
    /// # Errors
    /// As [`Marketplace::create_public`].
    pub async fn create_private(
        &self,
        ask: &NewAsk,
        commitment: &PrivateCommitment,
    ) -> Result<Created> {
        let params = self.prepare(ask).await?;
        let receipt = send(
            "createPrivateAsk",
            self.contract()
                .createPrivateAsk(
                    params,
                    commitment.inputs_hash,
                    commitment.engine_key_wrap.clone(),
                    commitment.inline_inputs.clone(),
                )
                .from(self.sender()?),
        )
        .await?;
        self.created(&receipt)
    }

    /// The ask id from the receipt's `AskCreated`.
    fn created(&self, receipt: &TransactionReceipt) -> Result<Created> {
        let ask = receipt
            .inner
            .logs()
            .iter()
            .filter(|l| l.address() == self.address)
            .find_map(|l| match l.topics() {
                [sig, ask, ..] if *sig == ProofMarketplace::AskCreated::SIGNATURE_HASH => {
                    Some(U256::from_be_bytes(ask.0))
                }
                _ => None,
            })
            .ok_or_else(|| Error::NotFound("AskCreated in the creating transaction".into()))?;
        Ok(Created {
            ask,
            tx: receipt.transaction_hash,
            block: receipt.block_number.unwrap_or_default(),
        })
    }

    /// The ask and its slots as stored now.
    ///
    /// # Errors
    /// [`Error::Reverted`] (`ProofMarketplaceUnknownAsk`) for an unknown ask; [`Error::Rpc`].
    pub async fn status(&self, ask: U256) -> Result<AskStatus> {
        let stored = self
            .contract()
            .getAsk(ask)
            .call()
            .await
            .map_err(|e| call_error("getAsk", e))?;
        let mut slots = Vec::with_capacity(usize::from(stored.redundancy));
        for slot in 0..stored.redundancy {
            let s = self
                .contract()
                .getSlot(ask, U256::from(slot))
                .call()
                .await
                .map_err(|e| call_error("getSlot", e))?;
            slots.push(SlotStatus {
                slot,
                state: format!("{:?}", s.state),
                generator: s.generator,
                price: s.price,
                deadline: s.deadline,
            });
        }
        let (_, now) = chain::head(&self.provider).await?;
        Ok(AskStatus {
            ask,
            market_id: stored.marketId,
            reward: stored.reward,
            expiry: stored.expiry,
            proving_time: stored.provingTime,
            redundancy: stored.redundancy,
            cancelled: stored.cancelled,
            refunded: stored.refunded,
            requester: stored.requester,
            phase: phase(
                stored.cancelled,
                stored.refunded,
                stored.expiry,
                &slots,
                now,
            ),
            slots,
            now,
        })
    }

    /// Polls the ask every `poll` until its phase is final, calling `progress` with each status
    /// that differs from the previous one (the first included).
    ///
    /// # Errors
    /// [`Error::Timeout`] after `timeout`; what [`Marketplace::status`] returns.
    pub async fn wait(
        &self,
        ask: U256,
        timeout: Duration,
        poll: Duration,
        mut progress: impl FnMut(&AskStatus),
    ) -> Result<AskStatus> {
        let started = Instant::now();
        let mut last: Option<(Phase, Vec<String>)> = None;
        loop {
            let status = self.status(ask).await?;
            let key = (
                status.phase,
                status.slots.iter().map(|s| s.state.clone()).collect(),
            );
            if last.as_ref() != Some(&key) {
                progress(&status);
                last = Some(key);
            }
            if status.phase.is_final() {
                return Ok(status);
            }
            if started.elapsed() >= timeout {
                return Err(Error::Timeout {
                    what: format!("ask {ask} to settle"),
                    seconds: timeout.as_secs(),
                });
            }
            tokio::time::sleep(poll).await;
        }
    }

    /// The proofs submitted for `ask`, from `ProofSubmitted` logs since `from_block`.
    ///
    /// # Errors
    /// [`Error::Rpc`] when the logs cannot be read or decoded.
    pub async fn proofs(&self, ask: U256, from_block: u64) -> Result<Vec<SubmittedProof>> {
        let filter = Filter::new()
            .address(self.address)
            .event_signature(ProofMarketplace::ProofSubmitted::SIGNATURE_HASH)
            .topic1(B256::from(ask))
            .from_block(from_block);
        let logs = self
            .provider
            .get_logs(&filter)
            .await
            .map_err(|e| Error::rpc("eth_getLogs ProofSubmitted", e))?;
        logs.iter()
            .map(|log| {
                let event = ProofMarketplace::ProofSubmitted::decode_log_data(log.data())
                    .map_err(|e| Error::rpc("ProofSubmitted", format!("does not decode: {e}")))?;
                Ok(SubmittedProof {
                    slot: event.slot,
                    generator: event.generator,
                    price: event.price,
                    proof: event.proof,
                    tx: log.transaction_hash,
                    block: log.block_number,
                })
            })
            .collect()
    }

    /// Cancels an ask none of whose slots was assigned.
    ///
    /// # Errors
    /// [`Error::Reverted`] (e.g. `ProofMarketplaceAskNotCancellable`); [`Error::Rpc`].
    pub async fn cancel(&self, ask: U256) -> Result<B256> {
        let receipt = send(
            "cancelAsk",
            self.contract().cancelAsk(ask).from(self.sender()?),
        )
        .await?;
        Ok(receipt.transaction_hash)
    }

    /// Refunds the never-assigned slots of an expired ask.
    ///
    /// # Errors
    /// [`Error::Reverted`] (e.g. `ProofMarketplaceNothingToRefund`); [`Error::Rpc`].
    pub async fn refund(&self, ask: U256) -> Result<B256> {
        let receipt = send(
            "refundExpired",
            self.contract().refundExpired(ask).from(self.sender()?),
        )
        .await?;
        Ok(receipt.transaction_hash)
    }

    /// What the sender may withdraw.
    ///
    /// # Errors
    /// [`Error::Rpc`].
    pub async fn withdrawable(&self) -> Result<U256> {
        self.contract()
            .withdrawableOf(self.sender()?)
            .call()
            .await
            .map_err(|e| call_error("withdrawableOf", e))
    }

    /// Withdraws the sender's credited payments; returns the amount and the transaction.
    ///
    /// # Errors
    /// [`Error::Reverted`] (`ProofMarketplaceNothingToWithdraw`); [`Error::Rpc`].
    pub async fn withdraw(&self) -> Result<(U256, B256)> {
        let amount = self.withdrawable().await?;
        let receipt = send("withdraw", self.contract().withdraw().from(self.sender()?)).await?;
        Ok((amount, receipt.transaction_hash))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slots(states: &[&str]) -> Vec<SlotStatus> {
        states
            .iter()
            .enumerate()
            .map(|(i, s)| SlotStatus {
                slot: u8::try_from(i).unwrap(),
                state: (*s).into(),
                generator: Address::ZERO,
                price: U256::ZERO,
                deadline: 0,
            })
            .collect()
    }

    #[test]
    fn phases_follow_slots_flags_and_time() {
        let expiry = 100;
        assert_eq!(
            phase(false, false, expiry, &slots(&["Open"]), 50),
            Phase::Open
        );
        assert_eq!(
            phase(false, false, expiry, &slots(&["Assigned"]), 500),
            Phase::Running
        );
        assert_eq!(
            phase(false, false, expiry, &slots(&["Completed", "Open"]), 50),
            Phase::Open
        );
        assert_eq!(
            phase(false, false, expiry, &slots(&["Completed", "Open"]), 101),
            Phase::Proven
        );
        assert_eq!(
            phase(false, false, expiry, &slots(&["Completed"]), 50),
            Phase::Proven
        );
        assert_eq!(
            phase(false, false, expiry, &slots(&["Open"]), 101),
            Phase::Expired
        );
        assert_eq!(
            phase(false, true, expiry, &slots(&["Open"]), 101),
            Phase::Refunded
        );
        assert_eq!(
            phase(true, false, expiry, &slots(&["Open"]), 50),
            Phase::Cancelled
        );
        assert_eq!(
            phase(false, false, expiry, &slots(&["Slashed"]), 50),
            Phase::Failed
        );
        assert!(!Phase::Running.is_final() && Phase::Expired.is_final());
    }
}
