//! EIP-712 hashing and signatures, pinned to vectors computed independently with Foundry's
//! `cast` (`cast wallet sign --data` over the typed-data JSON, and the digest rebuilt from
//! `cast keccak` / `cast abi-encode`). The README repeats them for the Solidity tests.

use crate::{
    Address, Assignment, AssignmentBatch, BatchError, Domain, LocalSigner, SignError, Signature,
    Signer, hash_assignment, keccak256, recover,
};

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
