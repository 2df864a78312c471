//! Whole-document verification (input detection, COSE envelope, payload, chain, signature,
//! policy) against the AWS root at a real document's timestamp, and the unverified reader of the
//! same bytes: must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use nitro_attestation::{Policy, Verifier, decode_input, read_unverified};

/// 2024-09-07T14:37:39.545Z, when the seed documents' chains were valid.
const AT_MS: u64 = 1_725_719_859_545;

fuzz_target!(|data: &[u8]| {
    let Ok(bytes) = decode_input(data) else { return };
    let _ = read_unverified(&bytes);
    let verifier = Verifier::aws(Policy::default().require_secp256k1_key()).with_cache_capacity(0);
    if let Err(e) = verifier.verify_at(&bytes, AT_MS) {
        let _ = e.code();
    }
});
