use alloy::consensus::{Eip658Value, Receipt, ReceiptWithBloom};
use alloy::primitives::{Address as ChainAddress, B256, Bytes, LogData};

use super::*;

const MARKETPLACE: ChainAddress = ChainAddress::repeat_byte(0xaa);
const STAKING: ChainAddress = ChainAddress::repeat_byte(0xbb);
const OTHER: ChainAddress = ChainAddress::repeat_byte(0xcc);
const SOURCES: Sources = Sources {
    marketplace: MARKETPLACE,
    staking: STAKING,
};

fn log(address: ChainAddress, topic: u8, data: &[u8]) -> PrimitiveLog {
    PrimitiveLog {
        address,
        data: LogData::new_unchecked(
            vec![B256::repeat_byte(topic), B256::repeat_byte(topic ^ 1)],
            Bytes::copy_from_slice(data),
        ),
    }
}

fn receipt(
    ty: u8,
    cumulative_gas_used: u64,
    logs: Vec<PrimitiveLog>,
) -> AnyReceiptEnvelope<PrimitiveLog> {
    let mut logs_bloom = Bloom::default();
    for l in &logs {
        logs_bloom.accrue_log(l);
    }
    AnyReceiptEnvelope {
        inner: ReceiptWithBloom {
            receipt: Receipt {
                status: Eip658Value::Eip658(true),
                cumulative_gas_used,
                logs,
            },
            logs_bloom,
        },
        r#type: ty,
    }
}

/// A block's receipts: a legacy one with another contract's log then the marketplace's, a
/// typed one with the staking module's, one without logs.
fn receipts() -> Receipts {
    vec![
        receipt(
            0,
            21_000,
            vec![log(OTHER, 1, b"x"), log(MARKETPLACE, 2, b"ask")],
        ),
        receipt(2, 60_000, vec![log(STAKING, 3, b"stake")]),
        receipt(2, 81_000, vec![]),
    ]
}

/// A header committing to `receipts` (its bloom and receipts root), with its true hash.
fn header_for(number: u64, receipts: &Receipts) -> alloy::rpc::types::Header {
    let mut logs_bloom = Bloom::default();
    for r in receipts {
        logs_bloom.accrue_bloom(r.bloom_ref());
    }
    let inner = alloy::consensus::Header {
        number,
        parent_hash: B256::repeat_byte(9),
        timestamp: 1_700_000_000,
        gas_limit: 30_000_000,
        base_fee_per_gas: Some(7),
        logs_bloom,
        receipts_root: calculate_receipt_root(receipts),
        ..Default::default()
    };
    alloy::rpc::types::Header::new(inner)
}

#[test]
fn a_header_counts_only_with_the_hash_of_its_fields() {
    let honest = header_for(5, &receipts());
    let checked = checked_header(&honest).unwrap();
    assert_eq!(checked.hash, honest.inner.hash_slow().0);
    assert_eq!(checked.parent, [9; 32]);
    assert_eq!((checked.number, checked.timestamp), (5, 1_700_000_000));

    // Another hash for the same fields, another parent under the same hash, another receipts
    // root: each is refused.
    let mut wrong_hash = honest.clone();
    wrong_hash.hash = B256::repeat_byte(1);
    let mut wrong_parent = honest.clone();
    wrong_parent.inner.parent_hash = B256::repeat_byte(8);
    let mut wrong_root = honest;
    wrong_root.inner.receipts_root = B256::ZERO;
    for lie in [wrong_hash, wrong_parent, wrong_root] {
        assert!(matches!(
            checked_header(&lie),
            Err(IngestError::Inconsistent { block: 5, detail }) if detail.contains("hash")
        ));
    }
}

#[test]
fn the_sources_logs_come_from_receipts_that_hash_to_the_root() {
    let receipts = receipts();
    let header = checked_header(&header_for(5, &receipts)).unwrap();
    let logs = checked_logs(&header, &receipts, &SOURCES).unwrap();
    // Indexes count every log of the block; another contract's log is left out.
    let seen: Vec<(ChainAddress, Option<u64>)> =
        logs.iter().map(|l| (l.address(), l.log_index)).collect();
    assert_eq!(seen, [(MARKETPLACE, Some(1)), (STAKING, Some(2))]);
    assert!(logs.iter().all(|l| l.block_number == Some(5)
        && l.block_hash == Some(header.hash.into())
        && !l.removed));
    assert_eq!(logs[0].inner, log(MARKETPLACE, 2, b"ask"));
}

#[test]
fn an_altered_added_or_missing_log_or_receipt_is_refused() {
    let honest = receipts();
    let header = checked_header(&header_for(5, &honest)).unwrap();
    let mut lies: Vec<Receipts> = Vec::new();
    // One byte of a log's data; one topic; a log left out; a log added; a receipt left out;
    // the order of receipts; a receipt's type.
    let mut data = honest.clone();
    data[0].inner.receipt.logs[1] = log(MARKETPLACE, 2, b"asK");
    lies.push(data);
    let mut topic = honest.clone();
    topic[1].inner.receipt.logs[0] = log(STAKING, 4, b"stake");
    lies.push(topic);
    let mut missing = honest.clone();
    missing[0].inner.receipt.logs.remove(1);
    lies.push(missing);
    let mut added = honest.clone();
    added[2]
        .inner
        .receipt
        .logs
        .push(log(MARKETPLACE, 5, b"fake"));
    lies.push(added);
    let mut dropped = honest.clone();
    dropped.remove(1);
    lies.push(dropped);
    let mut swapped = honest.clone();
    swapped.swap(0, 1);
    lies.push(swapped);
    let mut retyped = honest;
    retyped[1].r#type = 1;
    lies.push(retyped);
    for (i, lie) in lies.iter().enumerate() {
        assert!(
            matches!(
                checked_logs(&header, lie, &SOURCES),
                Err(IngestError::Inconsistent { block: 5, detail }) if detail.contains("receipts root")
            ),
            "lie {i} was believed"
        );
    }
}

#[test]
fn only_blocks_whose_bloom_admits_the_sources_are_read() {
    let with = checked_header(&header_for(5, &receipts())).unwrap();
    assert!(may_hold_logs(&with, &SOURCES));
    let others = vec![receipt(2, 21_000, vec![log(OTHER, 1, b"x")])];
    let without = checked_header(&header_for(6, &others)).unwrap();
    assert!(!may_hold_logs(&without, &SOURCES));
    // A block without receipts has the empty root; nothing to read there.
    let empty = checked_header(&header_for(7, &Vec::new())).unwrap();
    assert!(checked_logs(&empty, &[], &SOURCES).unwrap().is_empty());
}
