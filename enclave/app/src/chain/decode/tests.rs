use alloy::primitives::{Address as ChainAddress, B256, Bytes, Log as PrimLog, U256, aliases::U96};
use alloy::rpc::types::Log as RpcLog;
use alloy::sol_types::SolEvent;

use super::*;

const MARKETPLACE: ChainAddress = ChainAddress::repeat_byte(0xaa);
const STAKING: ChainAddress = ChainAddress::repeat_byte(0xbb);
const SOURCES: Sources = Sources {
    marketplace: MARKETPLACE,
    staking: STAKING,
};

fn log<E: SolEvent>(from: ChainAddress, event: &E) -> RpcLog {
    RpcLog {
        inner: PrimLog {
            address: from,
            data: event.encode_log_data(),
        },
        ..RpcLog::default()
    }
}

fn ask_created(id: U256) -> M::AskCreated {
    M::AskCreated {
        askId: id,
        marketId: U256::from(7),
        requester: ChainAddress::repeat_byte(1),
        reward: U96::from(500u64),
        expiry: 1_000,
        provingTime: 60,
        redundancy: 2,
        refundAddress: ChainAddress::repeat_byte(2),
        proverDataHash: B256::repeat_byte(3),
        proverData: Bytes::from_static(b"statement"),
    }
}

#[test]
fn ask_created_becomes_the_engine_ask() {
    let got = decode_log(&SOURCES, &log(MARKETPLACE, &ask_created(U256::from(9)))).unwrap();
    assert_eq!(
        got,
        Some(Event::AskCreated(Ask {
            id: 9,
            market: 7,
            reward: 500,
            expiry: 1_000,
            proving_time: 60,
            redundancy: 2,
            refund_address: Address([2; 20]),
            prover_data_hash: [3; 32],
            requester: Address([1; 20]),
            prover_data: b"statement".to_vec(),
        }))
    );
}

#[test]
fn ids_above_u64_are_a_named_error_not_a_truncation() {
    let big = U256::from(u64::MAX) + U256::from(1);
    let err = decode_log(&SOURCES, &log(MARKETPLACE, &ask_created(big))).unwrap_err();
    assert_eq!(
        err,
        DecodeError::OutOfRange {
            event: "AskCreated",
            field: "askId",
            value: big,
            ty: "u64"
        }
    );
    let market = M::GeneratorLeft {
        generator: ChainAddress::ZERO,
        marketId: U256::MAX,
    };
    assert!(matches!(
        decode_log(&SOURCES, &log(MARKETPLACE, &market)),
        Err(DecodeError::OutOfRange {
            field: "marketId",
            ..
        })
    ));
}

#[test]
fn skipped_slots_above_u8_are_a_named_error_and_small_ones_decode() {
    let skip = |slot: U256| M::AssignmentSkipped {
        askId: U256::from(4),
        generator: ChainAddress::repeat_byte(5),
        slot,
        reason: M::SkipReason::SlotNotOpen,
    };
    assert_eq!(
        decode_log(&SOURCES, &log(MARKETPLACE, &skip(U256::from(255)))).unwrap(),
        Some(Event::AssignmentSkipped {
            ask: 4,
            slot: 255,
            generator: Address([5; 20])
        })
    );
    assert!(matches!(
        decode_log(&SOURCES, &log(MARKETPLACE, &skip(U256::from(256)))),
        Err(DecodeError::OutOfRange {
            event: "AssignmentSkipped",
            field: "slot",
            ty: "u8",
            ..
        })
    ));
}

#[test]
fn stake_is_read_from_the_staking_module_only_and_clamped() {
    let stake = |v: U256| S::StakeChanged {
        generator: ChainAddress::repeat_byte(6),
        market: U256::from(1),
        stake: v,
    };
    assert_eq!(
        decode_log(&SOURCES, &log(STAKING, &stake(U256::from(42)))).unwrap(),
        Some(Event::StakeChanged {
            generator: Address([6; 20]),
            market: 1,
            stake: 42
        })
    );
    assert_eq!(
        decode_log(&SOURCES, &log(STAKING, &stake(U256::MAX))).unwrap(),
        Some(Event::StakeChanged {
            generator: Address([6; 20]),
            market: 1,
            stake: u128::MAX
        })
    );
    // The same event from the marketplace or any other contract is not stake.
    assert_eq!(
        decode_log(&SOURCES, &log(MARKETPLACE, &stake(U256::from(42)))).unwrap(),
        None
    );
    let other = ChainAddress::repeat_byte(0xcc);
    assert_eq!(
        decode_log(&SOURCES, &log(other, &ask_created(U256::from(1)))).unwrap(),
        None
    );
}

#[test]
fn market_modes_and_malformed_logs() {
    let market = |mode: M::MatchingMode| M::MarketCreated {
        marketId: U256::from(3),
        creator: ChainAddress::ZERO,
        verifier: ChainAddress::repeat_byte(4),
        mode,
        bidWindow: 30,
        slashingPenalty: U96::from(10u64),
        proverFamily: B256::ZERO,
        activation: alloy::primitives::aliases::U40::from(99u64),
    };
    assert_eq!(
        decode_log(
            &SOURCES,
            &log(MARKETPLACE, &market(M::MatchingMode::SealedBid))
        )
        .unwrap(),
        Some(Event::MarketCreated(Market {
            id: 3,
            mode: MatchingMode::SealedBid { bid_window: 30 },
            slashing_penalty: 10,
            prover_family: None,
            activation: 99,
            verifier: Address([4; 20]),
        }))
    );
    // A mode the contract does not define (2): the second data word (after `verifier`).
    let mut unknown = log(MARKETPLACE, &market(M::MatchingMode::OrderBook));
    let mut data = unknown.inner.data.data.to_vec();
    data[63] = 2;
    unknown.inner.data = alloy::primitives::LogData::new_unchecked(
        unknown.inner.data.topics().to_vec(),
        data.into(),
    );
    assert_eq!(
        decode_log(&SOURCES, &unknown),
        Err(DecodeError::UnknownMode)
    );
    let mut truncated = log(MARKETPLACE, &ask_created(U256::from(1)));
    let data = truncated.inner.data.data.slice(..40);
    truncated.inner.data =
        alloy::primitives::LogData::new_unchecked(truncated.inner.data.topics().to_vec(), data);
    assert!(matches!(
        decode_log(&SOURCES, &truncated),
        Err(DecodeError::Malformed {
            event: "AskCreated",
            ..
        })
    ));
}

#[test]
fn private_ask_events_become_engine_events() {
    let decoded = |data: alloy::primitives::LogData| {
        let raw = RpcLog {
            inner: PrimLog {
                address: MARKETPLACE,
                data,
            },
            ..RpcLog::default()
        };
        decode_log(&SOURCES, &raw).unwrap()
    };
    let committed = M::PrivateInputsCommitted {
        askId: U256::from(4),
        inputsHash: B256::repeat_byte(5),
        engineKeyWrap: Bytes::from(vec![6; 81]),
        inlineInputs: Bytes::from_static(b"ciphertext"),
    };
    assert_eq!(
        decoded(committed.encode_log_data()),
        Some(Event::PrivateInputsCommitted {
            ask: 4,
            inputs_hash: [5; 32],
            engine_key_wrap: vec![6; 81],
            inline_inputs: b"ciphertext".to_vec(),
        })
    );
    let key = M::EncryptionKeySet {
        generator: ChainAddress::repeat_byte(7),
        marketId: U256::from(3),
        publicKey: Bytes::from(vec![2; 33]),
    };
    assert_eq!(
        decoded(key.encode_log_data()),
        Some(Event::EncryptionKeySet {
            generator: Address([7; 20]),
            market: 3,
            public_key: vec![2; 33],
        })
    );
    let discarded = M::AssignmentDiscarded {
        askId: U256::from(4),
        slot: 1,
        generator: ChainAddress::repeat_byte(7),
    };
    assert_eq!(
        decoded(discarded.encode_log_data()),
        Some(Event::AssignmentDiscarded {
            ask: 4,
            slot: 1,
            generator: Address([7; 20]),
        })
    );
    let invalid = M::InputsInvalid {
        askId: U256::from(4),
        slot: 1,
        generator: ChainAddress::repeat_byte(7),
        payment: U256::from(9),
    };
    assert_eq!(
        decoded(invalid.encode_log_data()),
        Some(Event::InputsInvalid {
            ask: 4,
            slot: 1,
            generator: Address([7; 20]),
            payment: 9,
        })
    );
    // The generator's copy of its wrap is not engine state.
    let wrapped = M::InputsKeyWrapped {
        askId: U256::from(4),
        slot: 1,
        generator: ChainAddress::repeat_byte(7),
        keyWrap: Bytes::from(vec![6; 81]),
    };
    assert_eq!(decoded(wrapped.encode_log_data()), None);
    // An id beyond u64 is a named error, as for every other event.
    let big = M::PrivateInputsCommitted {
        askId: U256::from(u64::MAX) + U256::from(1),
        ..committed
    };
    let raw = log(MARKETPLACE, &big);
    assert!(matches!(
        decode_log(&SOURCES, &raw),
        Err(DecodeError::OutOfRange { .. })
    ));
}
