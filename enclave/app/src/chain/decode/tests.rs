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
        reason: 2,
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
    let market = |mode: u8| M::MarketCreated {
        marketId: U256::from(3),
        creator: ChainAddress::ZERO,
        verifier: ChainAddress::ZERO,
        mode,
        bidWindow: 30,
        slashingPenalty: U96::from(10u64),
        proverFamily: B256::ZERO,
        activation: alloy::primitives::aliases::U40::from(99u64),
    };
    assert_eq!(
        decode_log(&SOURCES, &log(MARKETPLACE, &market(1))).unwrap(),
        Some(Event::MarketCreated(Market {
            id: 3,
            mode: MatchingMode::SealedBid { bid_window: 30 },
            slashing_penalty: 10,
            prover_family: None,
            activation: 99,
        }))
    );
    assert_eq!(
        decode_log(&SOURCES, &log(MARKETPLACE, &market(2))),
        Err(DecodeError::UnknownMode(2))
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

/// Every event and function declared in `abi.rs` has the signature of the same name in the
/// Solidity interfaces (enums are `uint8` in the ABI).
#[test]
fn abi_matches_the_contracts() {
    let root = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../contracts/src/marketplace/"
    );
    let mut source = String::new();
    for file in ["IProofMarketplace.sol", "IStakingModule.sol"] {
        source += &std::fs::read_to_string(format!("{root}{file}")).unwrap();
    }
    let declared = solidity_events(&source);
    for (name, ours) in [
        ("MarketCreated", M::MarketCreated::SIGNATURE),
        ("GeneratorRegistered", M::GeneratorRegistered::SIGNATURE),
        ("CapacityChanged", M::CapacityChanged::SIGNATURE),
        ("GeneratorDeregistered", M::GeneratorDeregistered::SIGNATURE),
        ("GeneratorJoined", M::GeneratorJoined::SIGNATURE),
        ("GeneratorUpdated", M::GeneratorUpdated::SIGNATURE),
        ("GeneratorLeft", M::GeneratorLeft::SIGNATURE),
        ("AskCreated", M::AskCreated::SIGNATURE),
        ("AskCancelled", M::AskCancelled::SIGNATURE),
        ("BidSubmitted", M::BidSubmitted::SIGNATURE),
        ("AssignmentAccepted", M::AssignmentAccepted::SIGNATURE),
        ("AssignmentSkipped", M::AssignmentSkipped::SIGNATURE),
        ("ProofSubmitted", M::ProofSubmitted::SIGNATURE),
        ("Slashed", M::Slashed::SIGNATURE),
        ("StakeChanged", S::StakeChanged::SIGNATURE),
    ] {
        assert_eq!(
            declared.get(name).map(String::as_str),
            Some(ours),
            "event {name}"
        );
    }
}

/// `event Name(type [indexed] name, …);` declarations, as canonical signatures.
fn solidity_events(source: &str) -> std::collections::HashMap<String, String> {
    let enums = ["MatchingMode", "SlotState", "SkipReason"];
    let mut out = std::collections::HashMap::new();
    let mut rest = source;
    while let Some(i) = rest.find("event ") {
        rest = &rest[i + 6..];
        let Some(end) = rest.find(");") else { break };
        let decl: String = rest[..end].split_whitespace().collect::<Vec<_>>().join(" ");
        let Some((name, params)) = decl.split_once('(') else {
            continue;
        };
        let types: Vec<String> = params
            .split(',')
            .map(|p| {
                let ty = p.split_whitespace().next().unwrap_or_default();
                if enums.contains(&ty) {
                    "uint8".to_owned()
                } else {
                    ty.to_owned()
                }
            })
            .collect();
        out.insert(
            name.trim().to_owned(),
            format!("{}({})", name.trim(), types.join(",")),
        );
    }
    out
}
