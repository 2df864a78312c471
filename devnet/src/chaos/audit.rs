//! The accounting after a chaos run, from the chain alone: the marketplace's events replayed
//! slot by slot, and the invariants every run must keep whatever the faults were.
//!
//! - every slot of every ask was accepted exactly once (again only after its generator gave it
//!   back), or its ask was refunded after expiry, or cancelled: `slot_assigned_twice`,
//!   `ask_not_assigned`, `expired_ask_not_refunded`, `refund_mismatch`;
//! - every proof was paid once, to the slot's generator, at the accepted price:
//!   `proof_paid_twice`, `proof_without_assignment`, `proof_price_mismatch`;
//! - no honest generator was slashed, and none missed a deadline (which would let anyone slash
//!   it): `honest_generator_slashed`, `honest_deadline_missed`; nor held a slot unproven for
//!   longer than the run allows an honest one (its node stopped proving, though its deadline
//!   is still ahead): `honest_proof_stalled`.

use std::collections::{BTreeMap, BTreeSet};

use alloy::primitives::{Address, U256};
use alloy::providers::{DynProvider, Provider as _};
use alloy::rpc::types::{Filter, Log};
use alloy::sol_types::SolEvent;
use serde_json::{Value, json};
use testkit::contracts::ProofMarketplace as M;

use crate::error::{Error, Result};

/// Blocks per `eth_getLogs`.
const LOG_CHUNK: u64 = 500;
/// Examples kept per violated invariant.
const EXAMPLES: usize = 5;

/// A marketplace event the accounting reads, in chain order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ev {
    /// `AskCreated`.
    Created {
        ask: u64,
        redundancy: u8,
        expiry: u64,
        /// Seconds from a slot's acceptance to its deadline.
        proving_time: u32,
    },
    /// `AssignmentAccepted`.
    Accepted {
        ask: u64,
        slot: u8,
        generator: Address,
        price: U256,
        deadline: u64,
    },
    /// `AssignmentDiscarded`: the generator gave the slot back.
    Discarded {
        ask: u64,
        slot: u8,
        generator: Address,
    },
    /// `ProofSubmitted`: the generator was credited `price`.
    Proved {
        ask: u64,
        slot: u8,
        generator: Address,
        price: U256,
    },
    /// `Slashed`.
    Slashed {
        ask: u64,
        slot: u8,
        generator: Address,
    },
    /// `InputsInvalid`: settled on the engine's statement.
    InputsInvalid { ask: u64, slot: u8 },
    /// `AskRefunded`: `slots` never-assigned slots refunded after expiry.
    Refunded { ask: u64, slots: u64 },
    /// `AskCancelled`.
    Cancelled { ask: u64 },
    /// `AssignmentSkipped`: an entry of a batch the contract did not apply (counted, by
    /// reason).
    Skipped {
        ask: u64,
        generator: Address,
        reason: M::SkipReason,
    },
}

/// Where a slot stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Slot {
    Open,
    Held {
        generator: Address,
        price: U256,
        deadline: u64,
    },
    Proved {
        generator: Address,
    },
    Slashed,
    Settled,
    Refunded,
    Cancelled,
}

/// The accounting's figures and the invariants that failed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Accounting {
    pub(crate) asks: u64,
    pub(crate) slots: u64,
    pub(crate) accepted: u64,
    pub(crate) discarded: u64,
    pub(crate) proved: u64,
    pub(crate) slashed: u64,
    pub(crate) refunded_slots: u64,
    pub(crate) cancelled_asks: u64,
    pub(crate) skipped_entries: u64,
    /// Skipped entries by the contract's reason.
    pub(crate) skipped_by_reason: BTreeMap<String, u64>,
    /// The first asks left with an open slot (to look them up in the engine).
    pub(crate) open_asks: Vec<u64>,
    /// Assigned slots whose proof is not in yet, before their deadline.
    pub(crate) proofs_pending: u64,
    /// Invariant name → (how often, first examples).
    pub(crate) violations: BTreeMap<&'static str, (u64, Vec<String>)>,
}

impl Accounting {
    fn violate(&mut self, invariant: &'static str, example: String) {
        let entry = self.violations.entry(invariant).or_default();
        entry.0 += 1;
        if entry.1.len() < EXAMPLES {
            entry.1.push(example);
        }
    }

    /// As JSON: the figures and `violations` (`{name: {count, examples}}`).
    pub(crate) fn to_json(&self) -> Value {
        let violations: serde_json::Map<String, Value> = self
            .violations
            .iter()
            .map(|(name, (count, examples))| {
                (
                    (*name).to_owned(),
                    json!({"count": count, "examples": examples}),
                )
            })
            .collect();
        json!({
            "asks": self.asks,
            "slots": self.slots,
            "accepted": self.accepted,
            "discarded": self.discarded,
            "proved": self.proved,
            "slashed": self.slashed,
            "refunded_slots": self.refunded_slots,
            "cancelled_asks": self.cancelled_asks,
            "skipped_entries": self.skipped_entries,
            "skipped_by_reason": self.skipped_by_reason,
            "proofs_pending": self.proofs_pending,
            "violations": violations,
        })
    }
}

struct AskState {
    expiry: u64,
    proving_time: u32,
    slots: Vec<Slot>,
}

/// Replays `events` (chain order) and checks the invariants as of a chain whose latest block
/// is stamped `now`; `honest`: the generators that must never be slashed nor miss a deadline,
/// nor hold a slot unproven for more than `stall_s` seconds.
pub(crate) fn audit(
    events: &[Ev],
    honest: &BTreeSet<Address>,
    now: u64,
    stall_s: u64,
) -> Accounting {
    let mut acc = Accounting::default();
    let mut asks: BTreeMap<u64, AskState> = BTreeMap::new();
    for ev in events {
        apply(&mut acc, &mut asks, honest, ev);
    }
    for (id, a) in &asks {
        for (slot, state) in a.slots.iter().enumerate() {
            match *state {
                Slot::Open if now > a.expiry => acc.violate(
                    "expired_ask_not_refunded",
                    format!("ask {id} slot {slot}: open after its expiry {}", a.expiry),
                ),
                Slot::Open => {
                    if acc.open_asks.len() < EXAMPLES && acc.open_asks.last() != Some(id) {
                        acc.open_asks.push(*id);
                    }
                    acc.violate(
                        "ask_not_assigned",
                        format!(
                            "ask {id} slot {slot}: open (expiry {} > now {now})",
                            a.expiry
                        ),
                    );
                }
                Slot::Held {
                    generator,
                    deadline,
                    ..
                } if now > deadline && honest.contains(&generator) => acc.violate(
                    "honest_deadline_missed",
                    format!("ask {id} slot {slot}: {generator} held it past {deadline}"),
                ),
                Slot::Held {
                    generator,
                    deadline,
                    ..
                } => {
                    let accepted = deadline.saturating_sub(a.proving_time.into());
                    if honest.contains(&generator) && now.saturating_sub(accepted) > stall_s {
                        acc.violate(
                            "honest_proof_stalled",
                            format!(
                                "ask {id} slot {slot}: {generator} holds it unproven since \
                                 {accepted} (now {now}, deadline {deadline})"
                            ),
                        );
                    } else {
                        acc.proofs_pending += 1;
                    }
                }
                _ => {}
            }
        }
    }
    acc
}

fn apply(
    acc: &mut Accounting,
    asks: &mut BTreeMap<u64, AskState>,
    honest: &BTreeSet<Address>,
    ev: &Ev,
) {
    match *ev {
        Ev::Created {
            ask,
            redundancy,
            expiry,
            proving_time,
        } => {
            acc.asks += 1;
            acc.slots += u64::from(redundancy);
            asks.insert(
                ask,
                AskState {
                    expiry,
                    proving_time,
                    slots: vec![Slot::Open; usize::from(redundancy)],
                },
            );
        }
        Ev::Skipped { reason, .. } => {
            acc.skipped_entries += 1;
            *acc.skipped_by_reason
                .entry(format!("{reason:?}"))
                .or_default() += 1;
        }
        Ev::Refunded { ask, slots } => {
            let Some(a) = asks.get_mut(&ask) else {
                acc.violate("event_for_unknown_slot", format!("{ev:?}"));
                return;
            };
            let open: Vec<&mut Slot> = a.slots.iter_mut().filter(|s| **s == Slot::Open).collect();
            if open.len() as u64 != slots {
                acc.violate(
                    "refund_mismatch",
                    format!("ask {ask}: {slots} slots refunded, {} open", open.len()),
                );
            }
            acc.refunded_slots += slots;
            for s in open {
                *s = Slot::Refunded;
            }
        }
        Ev::Cancelled { ask } => {
            acc.cancelled_asks += 1;
            if let Some(a) = asks.get_mut(&ask) {
                for s in &mut a.slots {
                    if *s == Slot::Open {
                        *s = Slot::Cancelled;
                    }
                }
            }
        }
        Ev::Accepted {
            ask,
            slot,
            generator,
            price,
            deadline,
        } => {
            acc.accepted += 1;
            let Some(s) = slot_mut(acc, asks, ev, ask, slot) else {
                return;
            };
            if *s != Slot::Open {
                let was = *s;
                acc.violate(
                    "slot_assigned_twice",
                    format!("ask {ask} slot {slot}: accepted for {generator} while {was:?}"),
                );
            }
            *s = Slot::Held {
                generator,
                price,
                deadline,
            };
        }
        Ev::Discarded {
            ask,
            slot,
            generator,
        } => {
            acc.discarded += 1;
            let Some(s) = slot_mut(acc, asks, ev, ask, slot) else {
                return;
            };
            match *s {
                Slot::Held { generator: g, .. } if g == generator => *s = Slot::Open,
                was => acc.violate(
                    "discard_without_assignment",
                    format!("ask {ask} slot {slot}: {generator} gave back a slot {was:?}"),
                ),
            }
        }
        Ev::Proved {
            ask,
            slot,
            generator,
            price,
        } => {
            acc.proved += 1;
            let Some(s) = slot_mut(acc, asks, ev, ask, slot) else {
                return;
            };
            match *s {
                Slot::Held {
                    generator: g,
                    price: p,
                    ..
                } if g == generator => {
                    if p != price {
                        acc.violate(
                            "proof_price_mismatch",
                            format!("ask {ask} slot {slot}: paid {price}, accepted at {p}"),
                        );
                    }
                    *s = Slot::Proved { generator };
                }
                Slot::Proved { generator: g } if g == generator => acc.violate(
                    "proof_paid_twice",
                    format!("ask {ask} slot {slot}: {generator} paid again"),
                ),
                was => acc.violate(
                    "proof_without_assignment",
                    format!("ask {ask} slot {slot}: {generator} paid for a slot {was:?}"),
                ),
            }
        }
        Ev::Slashed {
            ask,
            slot,
            generator,
        } => {
            acc.slashed += 1;
            if honest.contains(&generator) {
                acc.violate(
                    "honest_generator_slashed",
                    format!("ask {ask} slot {slot}: {generator}"),
                );
            }
            if let Some(s) = slot_mut(acc, asks, ev, ask, slot) {
                *s = Slot::Slashed;
            }
        }
        Ev::InputsInvalid { ask, slot } => {
            if let Some(s) = slot_mut(acc, asks, ev, ask, slot) {
                *s = Slot::Settled;
            }
        }
    }
}

/// The state of `(ask, slot)`, or a violation when the chain never created it.
fn slot_mut<'a>(
    acc: &mut Accounting,
    asks: &'a mut BTreeMap<u64, AskState>,
    ev: &Ev,
    ask: u64,
    slot: u8,
) -> Option<&'a mut Slot> {
    let found = asks
        .get_mut(&ask)
        .and_then(|a| a.slots.get_mut(usize::from(slot)));
    if found.is_none() {
        acc.violate("event_for_unknown_slot", format!("{ev:?}"));
    }
    found
}

/// One marketplace log as an [`Ev`] (`None`: an event the accounting does not read).
///
/// # Errors
/// [`Error::Check`] for a log of a read event that does not decode, or an id above 64 bits.
pub(crate) fn decode(log: &Log) -> Result<Option<Ev>> {
    let id = |v: U256, what: &str| {
        u64::try_from(v).map_err(|_| Error::Check(format!("{what} {v} above 64 bits")))
    };
    let bad = |what: &str, e: alloy::sol_types::Error| Error::Check(format!("{what}: {e}"));
    let Some(topic0) = log.topic0() else {
        return Ok(None);
    };
    let ev = match *topic0 {
        t if t == M::AskCreated::SIGNATURE_HASH => {
            let e = M::AskCreated::decode_log(&log.inner).map_err(|e| bad("AskCreated", e))?;
            Ev::Created {
                ask: id(e.askId, "ask id")?,
                redundancy: e.redundancy,
                expiry: e.expiry,
                proving_time: e.provingTime,
            }
        }
        t if t == M::AssignmentAccepted::SIGNATURE_HASH => {
            let e = M::AssignmentAccepted::decode_log(&log.inner)
                .map_err(|e| bad("AssignmentAccepted", e))?;
            Ev::Accepted {
                ask: id(e.askId, "ask id")?,
                slot: e.slot,
                generator: e.generator,
                price: e.price,
                deadline: e.deadline,
            }
        }
        t if t == M::AssignmentDiscarded::SIGNATURE_HASH => {
            let e = M::AssignmentDiscarded::decode_log(&log.inner)
                .map_err(|e| bad("AssignmentDiscarded", e))?;
            Ev::Discarded {
                ask: id(e.askId, "ask id")?,
                slot: e.slot,
                generator: e.generator,
            }
        }
        t if t == M::ProofSubmitted::SIGNATURE_HASH => {
            let e =
                M::ProofSubmitted::decode_log(&log.inner).map_err(|e| bad("ProofSubmitted", e))?;
            Ev::Proved {
                ask: id(e.askId, "ask id")?,
                slot: e.slot,
                generator: e.generator,
                price: e.price,
            }
        }
        t if t == M::Slashed::SIGNATURE_HASH => {
            let e = M::Slashed::decode_log(&log.inner).map_err(|e| bad("Slashed", e))?;
            Ev::Slashed {
                ask: id(e.askId, "ask id")?,
                slot: e.slot,
                generator: e.generator,
            }
        }
        t if t == M::InputsInvalid::SIGNATURE_HASH => {
            let e =
                M::InputsInvalid::decode_log(&log.inner).map_err(|e| bad("InputsInvalid", e))?;
            Ev::InputsInvalid {
                ask: id(e.askId, "ask id")?,
                slot: e.slot,
            }
        }
        t if t == M::AskRefunded::SIGNATURE_HASH => {
            let e = M::AskRefunded::decode_log(&log.inner).map_err(|e| bad("AskRefunded", e))?;
            Ev::Refunded {
                ask: id(e.askId, "ask id")?,
                slots: id(e.slots, "refunded slots")?,
            }
        }
        t if t == M::AskCancelled::SIGNATURE_HASH => {
            let e = M::AskCancelled::decode_log(&log.inner).map_err(|e| bad("AskCancelled", e))?;
            Ev::Cancelled {
                ask: id(e.askId, "ask id")?,
            }
        }
        t if t == M::AssignmentSkipped::SIGNATURE_HASH => {
            let e = M::AssignmentSkipped::decode_log(&log.inner)
                .map_err(|e| bad("AssignmentSkipped", e))?;
            Ev::Skipped {
                ask: id(e.askId, "ask id")?,
                generator: e.generator,
                reason: e.reason,
            }
        }
        _ => return Ok(None),
    };
    Ok(Some(ev))
}

/// Every event of `marketplace` in blocks `from..=to`, in chain order.
///
/// # Errors
/// [`Error::Rpc`] when the node does not answer, [`Error::Check`] for a log that does not decode.
pub(crate) async fn read_events(
    p: &DynProvider,
    marketplace: Address,
    from: u64,
    to: u64,
) -> Result<Vec<Ev>> {
    let mut out = Vec::new();
    let mut start = from;
    while start <= to {
        let end = to.min(start + LOG_CHUNK - 1);
        let filter = Filter::new()
            .address(marketplace)
            .from_block(start)
            .to_block(end);
        let logs = p
            .get_logs(&filter)
            .await
            .map_err(|e| Error::rpc("eth_getLogs", e))?;
        for log in &logs {
            if let Some(ev) = decode(log)? {
                out.push(ev);
            }
        }
        start = end + 1;
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
