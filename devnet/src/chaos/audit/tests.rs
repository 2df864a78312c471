use alloy::primitives::{B256, Bytes, LogData};

use super::*;

const HONEST: Address = Address::repeat_byte(0x11);
const OTHER: Address = Address::repeat_byte(0x22);
/// The audit's "now": after ask 1's deadlines, before its expiry.
const NOW: u64 = 500;
/// Every ask's proving time: ask 4's slot, accepted with deadline 900, was accepted at 300.
const PROVING_TIME: u32 = 600;
/// Longer than ask 4's slot has been held at `NOW` (200 s).
const STALL_S: u64 = 300;

fn honest() -> BTreeSet<Address> {
    BTreeSet::from([HONEST])
}

fn created(ask: u64, redundancy: u8, expiry: u64) -> Ev {
    Ev::Created {
        ask,
        redundancy,
        expiry,
        proving_time: PROVING_TIME,
    }
}

fn accepted(ask: u64, slot: u8, generator: Address, deadline: u64) -> Ev {
    Ev::Accepted {
        ask,
        slot,
        generator,
        price: U256::from(40),
        deadline,
    }
}

fn proved(ask: u64, slot: u8, generator: Address, price: u64) -> Ev {
    Ev::Proved {
        ask,
        slot,
        generator,
        price: U256::from(price),
    }
}

/// A run with nothing wrong: two asks fully assigned and proved (one slot reassigned after a
/// discard), one expired and refunded, one cancelled, one assigned with its proof not due yet,
/// a dishonest generator slashed, a skipped batch entry.
fn clean() -> Vec<Ev> {
    vec![
        created(1, 2, 1_000),
        created(2, 1, 100),
        created(3, 1, 1_000),
        created(4, 1, 1_000),
        created(5, 1, 1_000),
        accepted(1, 0, HONEST, 400),
        accepted(1, 1, OTHER, 400),
        Ev::Skipped {
            ask: 1,
            generator: OTHER,
            reason: M::SkipReason::NoCapacity,
        },
        Ev::Discarded {
            ask: 1,
            slot: 1,
            generator: OTHER,
        },
        accepted(1, 1, HONEST, 450),
        proved(1, 0, HONEST, 40),
        proved(1, 1, HONEST, 40),
        Ev::Refunded { ask: 2, slots: 1 },
        Ev::Cancelled { ask: 3 },
        accepted(4, 0, HONEST, 900),
        accepted(5, 0, OTHER, 300),
        Ev::Slashed {
            ask: 5,
            slot: 0,
            generator: OTHER,
        },
    ]
}

#[test]
fn a_clean_run_keeps_every_invariant() {
    let acc = audit(&clean(), &honest(), NOW, STALL_S);
    assert!(acc.violations.is_empty(), "{:?}", acc.violations);
    assert_eq!(
        (acc.asks, acc.slots, acc.accepted, acc.discarded, acc.proved),
        (5, 6, 5, 1, 2)
    );
    assert_eq!(
        (
            acc.slashed,
            acc.refunded_slots,
            acc.cancelled_asks,
            acc.skipped_entries
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(acc.proofs_pending, 1);
    assert_eq!(acc.to_json()["skipped_by_reason"], json!({"NoCapacity": 1}));
    assert_eq!(acc.to_json()["violations"], json!({}));
}

/// The invariants `events` break (names), audited at `now`.
fn broken(events: Vec<Ev>, now: u64) -> Vec<&'static str> {
    audit(&events, &honest(), now, STALL_S)
        .violations
        .into_keys()
        .collect()
}

fn with(extra: &[Ev]) -> Vec<Ev> {
    let mut events = clean();
    events.extend_from_slice(extra);
    events
}

#[test]
fn each_broken_invariant_is_named() {
    // A slot accepted twice without a discard between.
    assert_eq!(
        broken(with(&[accepted(4, 0, OTHER, 900)]), NOW),
        ["slot_assigned_twice"]
    );
    // An ask the engine never assigned, before its expiry; after it, not refunded.
    assert_eq!(
        broken(with(&[created(6, 1, 1_000)]), NOW),
        ["ask_not_assigned"]
    );
    assert_eq!(
        broken(with(&[created(6, 1, 450)]), NOW),
        ["expired_ask_not_refunded"]
    );
    // A refund of more slots than were open.
    assert_eq!(
        broken(
            with(&[
                created(6, 2, 100),
                accepted(6, 0, HONEST, 400),
                proved(6, 0, HONEST, 40),
                Ev::Refunded { ask: 6, slots: 2 }
            ]),
            NOW
        ),
        ["refund_mismatch"]
    );
    // A proof paid twice, to another generator, at another price.
    assert_eq!(
        broken(with(&[proved(1, 0, HONEST, 40)]), NOW),
        ["proof_paid_twice"]
    );
    assert_eq!(
        broken(with(&[proved(4, 0, OTHER, 40)]), NOW),
        ["proof_without_assignment"]
    );
    assert_eq!(
        broken(with(&[proved(4, 0, HONEST, 41)]), NOW),
        ["proof_price_mismatch"]
    );
    // An honest generator slashed; one holding a slot past its deadline.
    assert_eq!(
        broken(
            with(&[Ev::Slashed {
                ask: 4,
                slot: 0,
                generator: HONEST
            }]),
            NOW
        ),
        ["honest_generator_slashed"]
    );
    assert_eq!(broken(clean(), 901), ["honest_deadline_missed"]);
    // An honest generator holding a slot unproven longer than the run allows, its deadline
    // still ahead (ask 4's slot, held 200 s at NOW); a dishonest one may (ask 6's slot, held
    // 490 s: its deadline answers for it).
    let stalled = audit(&clean(), &honest(), NOW, 199);
    assert_eq!(
        stalled.violations.keys().copied().collect::<Vec<_>>(),
        ["honest_proof_stalled"]
    );
    assert_eq!(
        stalled.violations["honest_proof_stalled"].1,
        [format!(
            "ask 4 slot 0: {HONEST} holds it unproven since 300 (now 500, deadline 900)"
        )]
    );
    let held_by_other = with(&[created(6, 1, 1_000), accepted(6, 0, OTHER, 610)]);
    assert_eq!(broken(held_by_other.clone(), NOW), Vec::<&str>::new());
    let other = audit(&held_by_other, &honest(), NOW, 199);
    assert_eq!(other.violations["honest_proof_stalled"].0, 1);
    // Events for slots that were never created; a discard of a slot not held.
    assert_eq!(
        broken(with(&[accepted(9, 0, HONEST, 900)]), NOW),
        ["event_for_unknown_slot"]
    );
    assert_eq!(
        broken(
            with(&[Ev::Discarded {
                ask: 4,
                slot: 0,
                generator: OTHER
            }]),
            NOW
        ),
        ["discard_without_assignment"]
    );
}

#[test]
fn violations_are_counted_with_a_few_examples() {
    let mut events = clean();
    for ask in 10..30 {
        events.push(created(ask, 1, 1_000));
    }
    let acc = audit(&events, &honest(), NOW, STALL_S);
    let (count, examples) = &acc.violations["ask_not_assigned"];
    assert_eq!((*count, examples.len()), (20, EXAMPLES));
    assert_eq!(examples[0], "ask 10 slot 0: open (expiry 1000 > now 500)");
    assert_eq!(acc.to_json()["violations"]["ask_not_assigned"]["count"], 20);
    assert_eq!(acc.open_asks, [10, 11, 12, 13, 14]);
}

fn log_of<E: SolEvent>(e: &E) -> Log {
    Log {
        inner: alloy::primitives::Log {
            address: Address::repeat_byte(0xaa),
            data: e.encode_log_data(),
        },
        ..Log::default()
    }
}

#[test]
fn marketplace_logs_decode_to_the_events_read() {
    let created = M::AskCreated {
        askId: U256::from(7),
        marketId: U256::from(1),
        requester: OTHER,
        reward: alloy::primitives::aliases::U96::from(100),
        expiry: 1_234,
        provingTime: 60,
        redundancy: 3,
        refundAddress: OTHER,
        proverDataHash: B256::ZERO,
        proverData: Bytes::new(),
    };
    assert_eq!(
        decode(&log_of(&created)).unwrap(),
        Some(Ev::Created {
            ask: 7,
            redundancy: 3,
            expiry: 1_234,
            proving_time: 60,
        })
    );
    let accepted = M::AssignmentAccepted {
        askId: U256::from(7),
        generator: HONEST,
        slot: 2,
        price: U256::from(40),
        deadline: 99,
    };
    assert_eq!(
        decode(&log_of(&accepted)).unwrap(),
        Some(Ev::Accepted {
            ask: 7,
            slot: 2,
            generator: HONEST,
            price: U256::from(40),
            deadline: 99
        })
    );
    let refunded = M::AskRefunded {
        askId: U256::from(7),
        slots: U256::from(2),
        refund: U256::from(200),
    };
    assert_eq!(
        decode(&log_of(&refunded)).unwrap(),
        Some(Ev::Refunded { ask: 7, slots: 2 })
    );
    // Other events are not read; an id above 64 bits is refused.
    let withdrawn = M::Withdrawn {
        account: OTHER,
        amount: U256::from(1),
    };
    assert_eq!(decode(&log_of(&withdrawn)).unwrap(), None);
    let mut huge = created;
    huge.askId = U256::MAX;
    assert!(decode(&log_of(&huge)).is_err());
    let bare = Log {
        inner: alloy::primitives::Log {
            address: Address::ZERO,
            data: LogData::new_unchecked(vec![], Bytes::new()),
        },
        ..Log::default()
    };
    assert_eq!(decode(&bare).unwrap(), None);
}
