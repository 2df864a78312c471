//! `ci/bench attest`: microseconds per verification of a real AWS document (blocky/nitrite,
//! 2024-09-07, 1024-byte public_key/user_data/nonce), ours cold (no cache) and with the CA chain
//! cached, against `nitro_attest` 0.2 on the same bytes at the same instant, and the floor of a
//! cold verification: five P-384 ECDSA verifications at this machine's fastest implementation.
//! Prints one JSON line on stdout; progress on stderr.

use std::hint::black_box;
use std::io::Write;
use std::time::Instant;

use nitro_attestation::{Policy, Verifier, decode_input, peek_timestamp};

const DOC: &[u8] = include_bytes!("../tests/data/blocky_nitrite_nitro_attestation.b64");
const ROUNDS: usize = 30;
const ITERS: usize = 20;

/// Mean µs per call of one batch of `ITERS` calls.
fn batch(f: &mut dyn FnMut()) -> f64 {
    let start = Instant::now();
    for _ in 0..ITERS {
        f();
    }
    start.elapsed().as_secs_f64() * 1e6 / ITERS as f64
}

/// For each contender, the fastest of `ROUNDS` batches. Rounds interleave the contenders so that
/// load from other processes on a shared machine hits all of them alike; interference only ever
/// adds time, so the minimum is the best estimate.
fn measure(contenders: &mut [&mut dyn FnMut()]) -> Vec<f64> {
    let mut best = vec![f64::INFINITY; contenders.len()];
    for f in contenders.iter_mut() {
        f(); // warm up
    }
    for _ in 0..ROUNDS {
        for (i, f) in contenders.iter_mut().enumerate() {
            best[i] = best[i].min(batch(*f));
        }
    }
    best
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn main() {
    let doc = decode_input(DOC).expect("embedded document").into_owned();
    let ts = peek_timestamp(&doc).expect("timestamp");
    let now = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ts) * 1_000_000)
        .expect("valid time");

    // Inputs of one P-384 verification: the document's own signature and leaf key.
    let authentic = Verifier::aws(Policy::default())
        .authenticate_at(&doc, ts)
        .expect("document verifies");
    let leaf = leaf_point(&authentic.certificate).expect("leaf key is an uncompressed point");
    let signature = doc[doc.len() - 96..].to_vec();
    let signed = sig_structure(&doc);

    let cold = Verifier::aws(Policy::default()).with_cache_capacity(0);
    let cached = Verifier::aws(Policy::default());
    cached.verify_at(&doc, ts).expect("warm the cache");
    nitro_attest::UnparsedAttestationDoc::from(&doc[..])
        .parse_and_verify(now)
        .expect("nitro_attest accepts the document");

    let mut log = std::io::stderr();
    let _ = writeln!(
        log,
        "attest: measuring ({ROUNDS} rounds x {ITERS} iterations each)"
    );
    let mut p384_aws_lc = || {
        aws_lc_rs::signature::UnparsedPublicKey::new(
            &aws_lc_rs::signature::ECDSA_P384_SHA384_FIXED,
            &leaf,
        )
        .verify(black_box(&signed), &signature)
        .expect("signature verifies");
    };
    let mut p384_ring = || {
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P384_SHA384_FIXED, &leaf)
            .verify(black_box(&signed), &signature)
            .expect("signature verifies");
    };
    let mut ours_cold = || {
        black_box(cold.verify_at(black_box(&doc), ts).expect("verifies"));
    };
    let mut ours_cached = || {
        black_box(cached.verify_at(black_box(&doc), ts).expect("verifies"));
    };
    let mut peer = || {
        black_box(
            nitro_attest::UnparsedAttestationDoc::from(black_box(&doc[..]))
                .parse_and_verify(now)
                .expect("verifies"),
        );
    };
    let t = measure(&mut [
        &mut p384_aws_lc,
        &mut p384_ring,
        &mut ours_cold,
        &mut ours_cached,
        &mut peer,
    ]);
    let (p384_aws_lc, p384_ring, ours_cold, ours_cached, peer) = (t[0], t[1], t[2], t[3], t[4]);

    let fastest = p384_aws_lc.min(p384_ring);
    let limit = 5.0 * fastest;
    let cold_ratio = ours_cold / limit;
    let cached_speedup = peer / ours_cached;
    let line = serde_json::json!({
        "bench": "attest",
        "document": "blocky_nitrite_nitro_attestation (7539 B, 2024-09-07)",
        "unit": "us_per_verification",
        "ours_cold_us": round2(ours_cold),
        "ours_cached_us": round2(ours_cached),
        "peer": "nitro_attest 0.2.0",
        "peer_us": round2(peer),
        "p384_verify_us": {"aws_lc_rs": round2(p384_aws_lc), "ring": round2(p384_ring)},
        "cold_limit_us": round2(limit),
        "cold_vs_limit": round2(cold_ratio),
        "cached_speedup_vs_peer": round2(cached_speedup),
        "cold_speedup_vs_peer": round2(peer / ours_cold),
        "targets": {"cold_vs_limit_max": 1.15, "cached_speedup_vs_peer_min": 2.5},
        "pass": cold_ratio <= 1.15 && cached_speedup >= 2.5,
    });
    let _ = writeln!(std::io::stdout(), "{line}");
}

/// `Sig_structure` of an untagged COSE_Sign1 with protected `a1 01 38 22`, rebuilt from the
/// payload bytes.
fn sig_structure(doc: &[u8]) -> Vec<u8> {
    // Layout: 84 | 44 a1 01 38 22 | a0 | 59 LL LL payload | 58 60 sig
    assert_eq!(doc[..8], [0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x59]);
    let len = usize::from(u16::from_be_bytes([doc[8], doc[9]]));
    let payload = &doc[10..10 + len];
    let mut out = vec![0x84, 0x6a];
    out.extend_from_slice(b"Signature1");
    out.extend_from_slice(&[0x44, 0xa1, 0x01, 0x38, 0x22, 0x40, 0x59]);
    out.extend_from_slice(&(len as u16).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// The uncompressed P-384 point at the end of a leaf certificate's SubjectPublicKeyInfo.
fn leaf_point(cert: &[u8]) -> Option<Vec<u8>> {
    // The SPKI prefix for P-384 is fixed; the 97-byte point follows it.
    const PREFIX: [u8; 23] = [
        0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05,
        0x2b, 0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
    ];
    let at = cert.windows(PREFIX.len()).position(|w| w == PREFIX)?;
    Some(
        cert.get(at + PREFIX.len()..at + PREFIX.len() + 97)?
            .to_vec(),
    )
}
