//! Chain logs to engine events.
//!
//! The contracts use `uint256` for market and ask ids and for `AssignmentSkipped.slot`; the
//! engine uses `u64` ids and `u8` slots. The contracts number markets and asks from 1, one by
//! one, so an id above `u64::MAX` cannot come from them, and the engine only ever signs slots
//! below 16. A log with a value that does not fit is therefore not one the engine could act on:
//! it is reported as a [`DecodeError`] and skipped, never truncated and never a panic. A
//! stake above `u128::MAX` is clamped to `u128::MAX`: it exceeds every slashing penalty
//! (`uint96`) either way, so matching cannot tell the difference.

use alloy::primitives::{Address as ChainAddress, B256, U256};
use alloy::rpc::types::Log as RpcLog;
use alloy::sol_types::SolEvent;
use matching_engine::{
    AcceptedAssignment, Address, Ask, Assignment, Event, Market, MatchingMode, Offer,
};

use marketplace_bindings::{IStakingModule as S, ProofMarketplace as M};

/// Why a log could not become an engine event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum DecodeError {
    /// A numeric field does not fit the engine's type.
    #[error("{event}.{field} = {value} does not fit the engine's {ty}")]
    OutOfRange {
        /// The event.
        event: &'static str,
        /// The field.
        field: &'static str,
        /// The value on chain.
        value: U256,
        /// The engine's type.
        ty: &'static str,
    },
    /// The matching mode is not one the contract defines.
    #[error("MarketCreated.mode is not a known matching mode")]
    UnknownMode,
    /// The log's data or topics do not decode as the event its first topic names.
    #[error("{event}: malformed log: {detail}")]
    Malformed {
        /// The event.
        event: &'static str,
        /// What the ABI decoder said.
        detail: String,
    },
}

/// The contracts whose logs are ingested.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Sources {
    /// The `ProofMarketplace`.
    pub(crate) marketplace: ChainAddress,
    /// Its staking module.
    pub(crate) staking: ChainAddress,
}

fn addr(a: ChainAddress) -> Address {
    Address(a.into_array())
}

fn id(event: &'static str, field: &'static str, value: U256) -> Result<u64, DecodeError> {
    u64::try_from(value).map_err(|_| DecodeError::OutOfRange {
        event,
        field,
        value,
        ty: "u64",
    })
}

fn amount(value: U256) -> u128 {
    u128::try_from(value).unwrap_or(u128::MAX)
}

fn decode<E: SolEvent>(log: &RpcLog) -> Result<E, DecodeError> {
    E::decode_log_data(log.data()).map_err(|e| DecodeError::Malformed {
        event: E::SIGNATURE.split('(').next().unwrap_or(E::SIGNATURE),
        detail: e.to_string(),
    })
}

/// Decodes one log. `Ok(None)`: a log the engine does not need (another contract, or an event
/// such as `AskRefunded` or `Withdrawn`).
///
/// # Errors
/// [`DecodeError`] for a log of a known event that the engine cannot represent.
pub(crate) fn decode_log(sources: &Sources, log: &RpcLog) -> Result<Option<Event>, DecodeError> {
    let Some(topic0) = log.topic0().copied() else {
        return Ok(None);
    };
    let from = log.address();
    if from == sources.staking {
        return staking(log, topic0);
    }
    if from != sources.marketplace {
        return Ok(None);
    }
    marketplace(log, topic0)
}

fn staking(log: &RpcLog, topic0: B256) -> Result<Option<Event>, DecodeError> {
    if topic0 != S::StakeChanged::SIGNATURE_HASH {
        return Ok(None);
    }
    let e: S::StakeChanged = decode(log)?;
    Ok(Some(Event::StakeChanged {
        generator: addr(e.generator),
        market: id("StakeChanged", "market", e.market)?,
        stake: amount(e.stake),
    }))
}

fn marketplace(log: &RpcLog, topic0: B256) -> Result<Option<Event>, DecodeError> {
    let event = match topic0 {
        t if t == M::MarketCreated::SIGNATURE_HASH => {
            let e: M::MarketCreated = decode(log)?;
            let mode = match e.mode {
                M::MatchingMode::OrderBook => MatchingMode::OrderBook,
                M::MatchingMode::SealedBid => MatchingMode::SealedBid {
                    bid_window: u64::from(e.bidWindow),
                },
                M::MatchingMode::__Invalid => return Err(DecodeError::UnknownMode),
            };
            Event::MarketCreated(Market {
                id: id("MarketCreated", "marketId", e.marketId)?,
                mode,
                slashing_penalty: e.slashingPenalty.to::<u128>(),
                prover_family: (e.proverFamily != B256::ZERO).then_some(e.proverFamily.0),
                activation: e.activation.to::<u64>(),
                verifier: addr(e.verifier),
            })
        }
        t if t == M::GeneratorRegistered::SIGNATURE_HASH => {
            let e: M::GeneratorRegistered = decode(log)?;
            Event::GeneratorRegistered {
                generator: addr(e.generator),
                capacity: e.capacity,
            }
        }
        t if t == M::CapacityChanged::SIGNATURE_HASH => {
            let e: M::CapacityChanged = decode(log)?;
            Event::CapacityChanged {
                generator: addr(e.generator),
                capacity: e.capacity,
            }
        }
        t if t == M::GeneratorDeregistered::SIGNATURE_HASH => {
            let e: M::GeneratorDeregistered = decode(log)?;
            Event::GeneratorDeregistered {
                generator: addr(e.generator),
            }
        }
        t if t == M::GeneratorJoined::SIGNATURE_HASH => {
            let e: M::GeneratorJoined = decode(log)?;
            Event::GeneratorJoined {
                generator: addr(e.generator),
                market: id("GeneratorJoined", "marketId", e.marketId)?,
                offer: Offer {
                    cost: e.cost.to::<u128>(),
                    proposed_time: u64::from(e.proposedTime),
                },
            }
        }
        t if t == M::GeneratorUpdated::SIGNATURE_HASH => {
            let e: M::GeneratorUpdated = decode(log)?;
            Event::GeneratorUpdated {
                generator: addr(e.generator),
                market: id("GeneratorUpdated", "marketId", e.marketId)?,
                offer: Offer {
                    cost: e.cost.to::<u128>(),
                    proposed_time: u64::from(e.proposedTime),
                },
            }
        }
        t if t == M::GeneratorLeft::SIGNATURE_HASH => {
            let e: M::GeneratorLeft = decode(log)?;
            Event::GeneratorLeft {
                generator: addr(e.generator),
                market: id("GeneratorLeft", "marketId", e.marketId)?,
            }
        }
        t if t == M::AskCreated::SIGNATURE_HASH => {
            let e: M::AskCreated = decode(log)?;
            Event::AskCreated(Ask {
                id: id("AskCreated", "askId", e.askId)?,
                market: id("AskCreated", "marketId", e.marketId)?,
                reward: e.reward.to::<u128>(),
                expiry: e.expiry,
                proving_time: u64::from(e.provingTime),
                redundancy: e.redundancy,
                refund_address: addr(e.refundAddress),
                prover_data_hash: e.proverDataHash.0,
                requester: addr(e.requester),
                prover_data: e.proverData.to_vec(),
            })
        }
        t if t == M::AskCancelled::SIGNATURE_HASH => {
            let e: M::AskCancelled = decode(log)?;
            Event::AskCancelled {
                ask: id("AskCancelled", "askId", e.askId)?,
            }
        }
        t if t == M::BidSubmitted::SIGNATURE_HASH => {
            let e: M::BidSubmitted = decode(log)?;
            Event::BidSubmitted {
                ask: id("BidSubmitted", "askId", e.askId)?,
                generator: addr(e.generator),
                sealed: e.sealedBid.to_vec(),
            }
        }
        t if t == M::AssignmentAccepted::SIGNATURE_HASH => {
            let e: M::AssignmentAccepted = decode(log)?;
            Event::AssignmentsAccepted {
                assignments: vec![AcceptedAssignment {
                    assignment: Assignment {
                        ask: id("AssignmentAccepted", "askId", e.askId)?,
                        slot: e.slot,
                        generator: addr(e.generator),
                        // `price <= reward`, a uint96: always fits.
                        price: amount(e.price),
                    },
                    deadline: e.deadline,
                }],
            }
        }
        t if t == M::AssignmentSkipped::SIGNATURE_HASH => {
            let e: M::AssignmentSkipped = decode(log)?;
            let slot = u8::try_from(e.slot).map_err(|_| DecodeError::OutOfRange {
                event: "AssignmentSkipped",
                field: "slot",
                value: e.slot,
                ty: "u8",
            })?;
            Event::AssignmentSkipped {
                ask: id("AssignmentSkipped", "askId", e.askId)?,
                slot,
                generator: addr(e.generator),
            }
        }
        t if t == M::ProofSubmitted::SIGNATURE_HASH => {
            let e: M::ProofSubmitted = decode(log)?;
            Event::ProofSubmitted {
                ask: id("ProofSubmitted", "askId", e.askId)?,
                slot: e.slot,
                generator: addr(e.generator),
            }
        }
        t if t == M::PrivateInputsCommitted::SIGNATURE_HASH => {
            let e: M::PrivateInputsCommitted = decode(log)?;
            Event::PrivateInputsCommitted {
                ask: id("PrivateInputsCommitted", "askId", e.askId)?,
                inputs_hash: e.inputsHash.0,
                engine_key_wrap: e.engineKeyWrap.to_vec(),
                inline_inputs: e.inlineInputs.to_vec(),
            }
        }
        t if t == M::EncryptionKeySet::SIGNATURE_HASH => {
            let e: M::EncryptionKeySet = decode(log)?;
            Event::EncryptionKeySet {
                generator: addr(e.generator),
                market: id("EncryptionKeySet", "marketId", e.marketId)?,
                public_key: e.publicKey.to_vec(),
            }
        }
        t if t == M::AssignmentDiscarded::SIGNATURE_HASH => {
            let e: M::AssignmentDiscarded = decode(log)?;
            Event::AssignmentDiscarded {
                ask: id("AssignmentDiscarded", "askId", e.askId)?,
                slot: e.slot,
                generator: addr(e.generator),
            }
        }
        t if t == M::InputsInvalid::SIGNATURE_HASH => {
            let e: M::InputsInvalid = decode(log)?;
            Event::InputsInvalid {
                ask: id("InputsInvalid", "askId", e.askId)?,
                slot: e.slot,
                generator: addr(e.generator),
                // `payment <= price <= reward`, a uint96: always fits.
                payment: amount(e.payment),
            }
        }
        t if t == M::Slashed::SIGNATURE_HASH => {
            let e: M::Slashed = decode(log)?;
            Event::Slashed {
                ask: id("Slashed", "askId", e.askId)?,
                slot: e.slot,
                generator: addr(e.generator),
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(event))
}

#[cfg(test)]
mod tests;
