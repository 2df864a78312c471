//! EIP-712 hashing and signatures, pinned to vectors computed independently with Foundry's
//! `cast` (`cast wallet sign --data` over the typed-data JSON, and the digest rebuilt from
//! `cast keccak` / `cast abi-encode`). The README repeats them for the Solidity tests.

use crate::{
    Address, Assignment, AssignmentBatch, BatchError, Domain, LocalSigner, SignError, Signature,
    Signer, hash_assignment, keccak256, recover,
};
use crate::{InvalidInputs, KeyedAssignmentBatch};

/// anvil's first development key (never a real key).
const KEY: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const SIGNER: &str = "f39fd6e51aad88f6f4ce6ab8827279cfffb92266";
const DIGEST: &str = "bd3dcc5720f2df5950ccb1bd254a90591054fb3cdd278039104e7689e330eede";
const SIGNATURE: &str = "9c6d542f5ca4244ade0e03bb2f8d4e861126593a17d161c16b17cc66a0e76993370b6ceb4777ba2653a151068fbc7b67661872534bacba59d77914e6b41aef011c";

fn addr(hex_str: &str) -> Address {
    Address(
        hex::decode(hex_str)
            .expect("hex")
            .try_into()
            .expect("20 bytes"),
    )
}

fn h32(hex_str: &str) -> [u8; 32] {
    hex::decode(hex_str)
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

fn vector() -> (Domain, AssignmentBatch) {
    let domain = Domain {
        chain_id: 31337,
        verifying_contract: addr("5fbdb2315678afecb367f032d93f642f64180aa3"),
    };
    let batch = AssignmentBatch::new(
        vec![
            Assignment {
                ask: 1,
                slot: 0,
                generator: addr("70997970c51812dc3a010c7d01b50e0d17dc79c8"),
                price: 1_000_000_000_000_000_000,
            },
            Assignment {
                ask: 2,
                slot: 1,
                generator: addr("3c44cdddb6a900fa2b585dd299e03d12fa4293bc"),
                price: 500_000_000_000_000_000,
            },
        ],
        1_700_000_000,
    )
    .expect("non-empty");
    (domain, batch)
}

fn signer() -> LocalSigner {
    LocalSigner::from_bytes(&h32(KEY)).expect("valid key")
}

#[test]
fn type_hashes_match_the_solidity_type_strings() {
    assert_eq!(
        keccak256(crate::ASSIGNMENT_TYPE.as_bytes()),
        h32("d901ba3559b4c33c7e11daeda76b092903efa7b5f5ed327c674f745c2548ad53")
    );
    assert_eq!(
        keccak256(crate::BATCH_TYPE.as_bytes()),
        h32("300ff8cb02f60b954160c7e493f0645853af931931aa98f9f883ef700397a8d4")
    );
}

#[test]
fn digest_and_signature_match_the_independent_vector() {
    let (domain, batch) = vector();
    assert_eq!(
        domain.separator(),
        h32("d3d68319dc54aa7b3461d1a5b292d667c9c9d35b241deef9652710c1de724d00")
    );
    assert_eq!(
        hash_assignment(&batch.assignments()[0]),
        h32("5053ebae4f71341031ca5b9ef5d3d29d8511b10cbdb98dc1310213fc36834c60")
    );
    assert_eq!(
        batch.struct_hash(),
        h32("9709b2e073d0f1e8490c1522e02cb1e68bfa602de3d385e9e6c008d8c2553e2f")
    );
    assert_eq!(batch.digest(&domain), h32(DIGEST));
    let s = signer();
    assert_eq!(s.address(), addr(SIGNER));
    let signed = batch.sign(&s, &domain).expect("signs");
    assert_eq!(signed.digest, h32(DIGEST));
    assert_eq!(hex::encode(signed.signature.0), SIGNATURE);
    assert_eq!(recover(&signed.digest, &signed.signature), Ok(addr(SIGNER)));
}

#[test]
fn any_change_to_the_batch_or_domain_changes_the_digest() {
    let (domain, batch) = vector();
    let base = batch.digest(&domain);
    let mut other = domain;
    other.chain_id = 1;
    assert_ne!(batch.digest(&other), base);
    let mut list = batch.assignments().to_vec();
    list.swap(0, 1);
    let swapped = AssignmentBatch::new(list, batch.valid_until()).expect("non-empty");
    assert_ne!(swapped.digest(&domain), base, "order is signed");
    let later =
        AssignmentBatch::new(batch.assignments().to_vec(), 1_700_000_001).expect("non-empty");
    assert_ne!(later.digest(&domain), base);
}

#[test]
fn recover_rejects_malleable_and_malformed_signatures() {
    let digest = h32(DIGEST);
    let good = Signature(hex::decode(SIGNATURE).expect("hex").try_into().expect("65"));
    // High-s twin: s' = n - s, v flipped. ecrecover would accept it; we must not.
    let n = h32("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
    let mut s = [0u8; 32];
    s.copy_from_slice(&good.0[32..64]);
    let mut twin = good;
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let d = i16::from(n[i]) - i16::from(s[i]) - borrow;
        twin.0[32 + i] = d.rem_euclid(256) as u8;
        borrow = i16::from(d < 0);
    }
    twin.0[64] = if good.0[64] == 27 { 28 } else { 27 };
    assert_eq!(recover(&digest, &twin), Err(SignError::InvalidSignature));
    let mut bad_v = good;
    bad_v.0[64] = 29;
    assert_eq!(recover(&digest, &bad_v), Err(SignError::InvalidSignature));
    let mut other_digest = digest;
    other_digest[0] ^= 1;
    assert_ne!(recover(&other_digest, &good), Ok(addr(SIGNER)));
}

#[test]
fn empty_batches_are_refused() {
    assert_eq!(AssignmentBatch::new(Vec::new(), 0), Err(BatchError::Empty));
}

#[test]
fn split_keeps_order_and_bounds_batch_size() {
    let (_, batch) = vector();
    let many: Vec<Assignment> = (0..7)
        .map(|i| Assignment {
            ask: i,
            ..batch.assignments()[0]
        })
        .collect();
    let batches = AssignmentBatch::split(&many, 3, 99);
    let sizes: Vec<usize> = batches.iter().map(|b| b.assignments().len()).collect();
    assert_eq!(sizes, vec![3, 3, 1]);
    let flat: Vec<Assignment> = batches
        .iter()
        .flat_map(|b| b.assignments().to_vec())
        .collect();
    assert_eq!(flat, many);
    assert!(batches.iter().all(|b| b.valid_until() == 99));
    assert!(AssignmentBatch::split(&[], 3, 99).is_empty());
    assert_eq!(
        AssignmentBatch::split(&many, 0, 99).len(),
        7,
        "a zero bound means one per batch"
    );
}

/// The keyed batch and the invalid-inputs statement, signed independently with Foundry's
/// `cast wallet sign --data` over their typed-data JSON (same key and domain as above; the
/// second entry's key wrap is 0x02 ‖ 01..20 ‖ 01..20 ‖ 01..10, 81 bytes; the first's is empty).
#[test]
fn keyed_batch_and_invalid_inputs_match_the_independent_vectors() {
    let (domain, batch) = vector();
    let mut wrap = vec![2u8];
    wrap.extend(1..=32u8);
    wrap.extend(1..=32u8);
    wrap.extend(1..=16u8);
    assert_eq!(wrap.len(), 81);
    let entries = vec![
        (batch.assignments()[0], Vec::new()),
        (batch.assignments()[1], wrap),
    ];
    let keyed = KeyedAssignmentBatch::new(entries, batch.valid_until()).expect("non-empty");
    let signed = keyed.sign(&signer(), &domain).expect("signs");
    assert_eq!(
        hex::encode(signed.signature.0),
        "0d58bbdf3b856103c2c229f6f74c3533009d934b33bfc63da4b435f24e2cbdb83e9a81470942918e6b5b266c3efa0d73c54142965539d2bfefdcfb76a73e77ee1c"
    );
    assert_eq!(recover(&signed.digest, &signed.signature), Ok(addr(SIGNER)));
    assert_ne!(
        signed.digest,
        batch.digest(&domain),
        "keyed and plain never collide"
    );

    let statement = InvalidInputs {
        ask: 7,
        slot: 1,
        generator: addr("70997970c51812dc3a010c7d01b50e0d17dc79c8"),
        payment: 250_000_000_000_000_000,
    };
    let signed = statement.sign(&signer(), &domain).expect("signs");
    assert_eq!(
        hex::encode(signed.signature.0),
        "c713b83d455752cea2e4a14453259786c624b6717e49f92bb7ceda6cea5d20973acb7c2025c79c4206e8f326097467d9ce7a92be75a78a20d471643ad213ee9d1c"
    );
}

/// The vector the contract's own tests pin (`contracts/test/marketplace/fixtures/
/// private_eip712_vector.json`, computed with `cast` alone by the script next to it and accepted
/// by `ProofMarketplace` in `Eip712Vector.t.sol`): the engine signs the same bytes.
#[test]
fn keyed_batch_and_invalid_inputs_match_the_contract_tests_vector() {
    let json: serde_json::Value = serde_json::from_str(include_str!(
        "../../../../contracts/test/marketplace/fixtures/private_eip712_vector.json"
    ))
    .expect("the fixture is JSON");
    let hex_of = |v: &serde_json::Value| {
        hex::decode(v.as_str().expect("a hex string").trim_start_matches("0x")).expect("hex")
    };
    let amount = |v: &serde_json::Value| {
        v.as_str()
            .expect("a decimal string")
            .parse::<u128>()
            .expect("an amount")
    };
    let address = |v: &serde_json::Value| Address(hex_of(v).try_into().expect("20 bytes"));
    let (domain, _) = vector();
    assert_eq!(
        address(&json["domain"]["verifyingContract"]),
        domain.verifying_contract
    );
    assert_eq!(json["domain"]["chainId"], domain.chain_id);
    assert_eq!(address(&json["signer"]), addr(SIGNER));

    let keyed = &json["keyedAssignmentBatch"];
    let entries: Vec<(Assignment, Vec<u8>)> = keyed["assignments"]
        .as_array()
        .expect("assignments")
        .iter()
        .zip(keyed["keyWraps"].as_array().expect("keyWraps"))
        .map(|(a, wrap)| {
            let assignment = Assignment {
                ask: a["askId"].as_u64().expect("askId"),
                slot: u8::try_from(a["slot"].as_u64().expect("slot")).expect("a slot"),
                generator: address(&a["generator"]),
                price: amount(&a["price"]),
            };
            assert_eq!(hash_assignment(&assignment).to_vec(), hex_of(&a["hash"]));
            (assignment, hex_of(wrap))
        })
        .collect();
    let batch =
        KeyedAssignmentBatch::new(entries, keyed["validUntil"].as_u64().expect("validUntil"))
            .expect("non-empty");
    let signed = batch.sign(&signer(), &domain).expect("signs");
    assert_eq!(signed.digest.to_vec(), hex_of(&keyed["digest"]));
    assert_eq!(signed.signature.0.to_vec(), hex_of(&keyed["signature"]));

    let invalid = &json["invalidInputs"];
    let statement = InvalidInputs {
        ask: invalid["askId"].as_u64().expect("askId"),
        slot: u8::try_from(invalid["slot"].as_u64().expect("slot")).expect("a slot"),
        generator: address(&invalid["generator"]),
        payment: amount(&invalid["payment"]),
    };
    let signed = statement.sign(&signer(), &domain).expect("signs");
    assert_eq!(signed.digest.to_vec(), hex_of(&invalid["digest"]));
    assert_eq!(signed.signature.0.to_vec(), hex_of(&invalid["signature"]));
}
