//! The genuine AWS documents in `tests/data/` verify at their own timestamps, with the PCRs
//! published alongside them; debug documents are authentic but fail the default policy.

use nitro_attestation::{
    AWS_ROOT_G1_SHA256, ChainError, Error, PolicyError, Verifier, decode_input, peek_timestamp,
};
use nitro_attestation::{Pcr, Policy};

fn load(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    decode_input(&bytes).expect("raw or base64").into_owned()
}

fn pcr(hex_str: &str) -> Pcr {
    hex_str.parse().unwrap()
}

struct Real {
    file: &'static str,
    timestamp_ms: u64,
    module_id: &'static str,
    pcrs: &'static [(u8, &'static str)],
}

const EVERVAULT_VALID: Real = Real {
    file: "evervault_beta_valid-attestation-doc-bytes.cose",
    timestamp_ms: 1665651482136,
    module_id: "i-020b6af9246d90e92-enc0183d09086c24190",
    pcrs: &[
        (
            0,
            "f4d48b81a460c9916d1e685119074bf24660afd3e34fae9fca0a0d28d9d5599936332687e6f66fc890ac8cf150142d8b",
        ),
        (
            1,
            "bcdf05fefccaa8e55bf2c8d6dee9e79bbff31e34bf28a99aa19e6b29c37ee80b214a414b7607236edf26fcb78654e63f",
        ),
        (
            2,
            "d8f114da658de5481f8d9ec73907feb553560787522f705c92d7d96beed8e15e2aa611984e098c576832c292e8dc469a",
        ),
        (
            3,
            "4a9329d69c836267b18abbf9f4a38889124490453419e426818626348d21f989dc930b1562682a9082887454e53425aa",
        ),
        (
            4,
            "1f442c86d494a88185642086d904ed89f62fb66ee9997d7b1a4f040faab3bba4244c768a584e5778195b3afc715637c6",
        ),
        (
            8,
            "8790eb3cce6c83d07e84b126dc61ca923333d6f66615c4a79157de48c5ab2418bdc60746ea7b7afbff03a1c6210201cb",
        ),
    ],
};

const BLOCKY: Real = Real {
    file: "blocky_nitrite_nitro_attestation.b64",
    timestamp_ms: 1725719859545,
    module_id: "i-0a22e5c5f24d22174-enc0191cceb4289903f",
    pcrs: &[
        (
            0,
            "e72a46ca80a260fb044a125442f0c7e331813bcbaf9724d9f3857758992766f2d65710a27aa94ae3949dd54e7c9fe86a",
        ),
        (
            1,
            "0343b056cd8485ca7890ddd833476d78460aed2aa161548e4e26bedf321726696257d623e8805f3f605946b3d8b0c6aa",
        ),
        (
            2,
            "d5dcbdea0aa39c802f9d55ced2ea6e4d74ecec5f08fe40c508882639c9090642669106a062a3e24ee2805a3024b9b75c",
        ),
        (
            3,
            "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            4,
            "45706d7b621e4620a332e147a5ddb000b049f73d47d3e61f6b03d2069152d4df6a4a786ad1c10102b955799a9dc96b44",
        ),
    ],
};

const BASE: Real = Real {
    file: "base_nitro-validator_2026-01-03_repaired.cose",
    timestamp_ms: 1767472867402,
    module_id: "i-0368fa67e156d6d23-enc019b8596b1a9dad6",
    pcrs: &[
        (
            0,
            "4b8d4cf2a99e05ce1b5bddaf9d21cb446eb0e606c5bebd1ebf02b473a22165f7b68b0bb0d1ac5a90f0311e493522cfab",
        ),
        (
            1,
            "0343b056cd8485ca7890ddd833476d78460aed2aa161548e4e26bedf321726696257d623e8805f3f605946b3d8b0c6aa",
        ),
        (
            2,
            "16efcc1d6952c5b9737eb2ab1751a08412835c5125818bfb55f6367cb3cdca49b13d2a5b6d771de9db1578242e328c6d",
        ),
        (
            3,
            "000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000",
        ),
        (
            4,
            "245617239e18ae8eb5150c2be45200db1e6b1e483d94c81d8386171eaad6cf641a1c90f1571f185426c82f77783feb37",
        ),
    ],
};

const PRODUCTION: [Real; 3] = [EVERVAULT_VALID, BLOCKY, BASE];
const DEBUG_FILE: &str = "evervault_beta_debug-mode-attestation-doc-bytes.cose";
const DEBUG_TIMESTAMP_MS: u64 = 1665582606081;

fn policy_for(real: &Real) -> Policy {
    real.pcrs
        .iter()
        .fold(Policy::default(), |p, (i, v)| p.expect_pcr(*i, pcr(v)))
}

#[test]
fn production_documents_verify_at_their_timestamp() {
    for real in &PRODUCTION {
        let bytes = load(real.file);
        assert_eq!(
            peek_timestamp(&bytes).unwrap(),
            real.timestamp_ms,
            "{}",
            real.file
        );
        let verifier = Verifier::aws(policy_for(real)).with_cache_capacity(0);
        let verified = verifier
            .verify_at(&bytes, real.timestamp_ms)
            .unwrap_or_else(|e| panic!("{}: {e} ({})", real.file, e.code()));
        let doc = verified.document();
        assert_eq!(doc.module_id, real.module_id);
        assert_eq!(doc.timestamp_ms, real.timestamp_ms);
        assert_eq!(doc.digest, "SHA384");
        assert_eq!(doc.pcrs.len(), 16, "{}", real.file);
        assert_eq!(doc.cabundle.len(), 4);
        assert!(!doc.is_debug_mode());
        for (i, v) in real.pcrs {
            assert_eq!(
                hex::encode(doc.pcr(*i).unwrap()),
                *v,
                "{} PCR{i}",
                real.file
            );
        }
        // PCR4 = SHA384(0^48 ‖ instance id), the instance id being module_id before "-enc".
        let instance = doc.module_id.split("-enc").next().unwrap();
        let mut input = vec![0u8; 48];
        input.extend_from_slice(instance.as_bytes());
        let expected = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, &input);
        assert_eq!(
            doc.pcr(4).unwrap().as_ref(),
            expected.as_ref(),
            "{}",
            real.file
        );
    }
}

#[test]
fn optional_fields_as_published() {
    let ev = Verifier::aws(Policy::default())
        .authenticate_at(&load(EVERVAULT_VALID.file), EVERVAULT_VALID.timestamp_ms)
        .unwrap();
    assert_eq!(
        (ev.public_key.as_ref(), ev.user_data.as_ref()),
        (None, None)
    );
    assert_eq!(ev.nonce.as_ref().map(Vec::len), Some(256));

    let blocky = Verifier::aws(Policy::default())
        .authenticate_at(&load(BLOCKY.file), BLOCKY.timestamp_ms)
        .unwrap();
    for field in [&blocky.public_key, &blocky.user_data, &blocky.nonce] {
        assert_eq!(
            field.as_ref().map(Vec::len),
            Some(1024),
            "1024-byte optional fields accepted"
        );
    }

    let base = Verifier::aws(Policy::default())
        .authenticate_at(&load(BASE.file), BASE.timestamp_ms)
        .unwrap();
    assert_eq!(base.user_data.as_ref().map(Vec::len), Some(20));
}

#[test]
fn debug_document_is_authentic_but_rejected_by_default() {
    let bytes = load(DEBUG_FILE);
    let verifier = Verifier::aws(Policy::default());
    let doc = verifier
        .authenticate_at(&bytes, DEBUG_TIMESTAMP_MS)
        .expect("genuine signature");
    assert!(doc.is_debug_mode());
    assert!(doc.pcr(0).unwrap().is_zero());
    assert_eq!(doc.public_key.as_deref(), Some(&b"my super secret key"[..]));
    assert_eq!(doc.user_data.as_deref(), Some(&b"hello, world!"[..]));
    assert_eq!(doc.nonce, None);

    let err = verifier.verify_at(&bytes, DEBUG_TIMESTAMP_MS).unwrap_err();
    assert_eq!(err, Error::Policy(PolicyError::DebugMode));
    assert_eq!(err.code(), "policy.debug_mode");

    Verifier::aws(Policy::default().danger_allow_debug())
        .verify_at(&bytes, DEBUG_TIMESTAMP_MS)
        .expect("explicitly allowed");
}

#[test]
fn real_documents_are_rejected_today() {
    // All certificates of these documents have long expired.
    for real in &PRODUCTION {
        let err = Verifier::aws(Policy::default())
            .verify(&load(real.file))
            .unwrap_err();
        assert!(
            matches!(err, Error::Chain(ChainError::Expired { .. })),
            "{}: {err}",
            real.file
        );
    }
}

#[test]
fn cache_gives_same_answers() {
    let verifier = Verifier::aws(Policy::default());
    for _ in 0..2 {
        for real in &PRODUCTION {
            verifier
                .verify_at(&load(real.file), real.timestamp_ms)
                .unwrap();
        }
    }
    // 3 intermediates per document (root pinned, leaf never cached).
    assert_eq!(verifier.cache().unwrap().len(), 9);
    // A cached chain still has its validity re-checked.
    let late = BASE.timestamp_ms + 30 * 24 * 3600 * 1000;
    let err = verifier.verify_at(&load(BASE.file), late).unwrap_err();
    assert!(matches!(err, Error::Chain(ChainError::Expired { .. })));
}

#[test]
fn pinned_root_is_cabundle_zero() {
    for real in &PRODUCTION {
        let doc = Verifier::aws(Policy::default())
            .authenticate_at(&load(real.file), real.timestamp_ms)
            .unwrap();
        let d = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &doc.cabundle[0]);
        assert_eq!(d.as_ref(), AWS_ROOT_G1_SHA256);
    }
}

#[test]
fn injected_clock_is_used() {
    use nitro_attestation::FixedClock;
    use std::sync::Arc;
    let bytes = load(BASE.file);
    let at_doc_time =
        Verifier::aws(Policy::default()).with_clock(Arc::new(FixedClock(BASE.timestamp_ms)));
    at_doc_time.verify(&bytes).expect("valid at its own time");
    at_doc_time
        .authenticate(&bytes)
        .expect("valid at its own time");
    // One millisecond before the document: from the future.
    let before =
        Verifier::aws(Policy::default()).with_clock(Arc::new(FixedClock(BASE.timestamp_ms - 1)));
    assert!(matches!(
        before.verify(&bytes),
        Err(Error::Policy(PolicyError::FromFuture { .. }))
    ));
    // A tolerated skew accepts it.
    Verifier::aws(Policy::default().max_future_skew_ms(1))
        .verify_at(&bytes, BASE.timestamp_ms - 1)
        .expect("within skew");
}

#[test]
fn verifier_is_shareable_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Verifier>();
    let verifier = std::sync::Arc::new(Verifier::aws(Policy::default()));
    let bytes = std::sync::Arc::new(load(BLOCKY.file));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (v, b) = (verifier.clone(), bytes.clone());
            std::thread::spawn(move || v.verify_at(&b, BLOCKY.timestamp_ms).is_ok())
        })
        .collect();
    assert!(handles.into_iter().all(|h| h.join().unwrap()));
    assert_eq!(verifier.cache().unwrap().len(), 3);
}
