//! The hints committed in the contracts' test fixture are exactly what this crate computes for the
//! real AWS documents, so the Solidity tests exercise the generator's output.

const FIXTURE: &str = include_str!("../../../contracts/test/fixtures/nitro/NitroDocuments.sol");

fn fixture_hex(name: &str) -> String {
    // `bytes internal constant NAME =` then, after any whitespace (forge fmt may wrap), `hex"…"`.
    let key = format!("bytes internal constant {name} =");
    let after = FIXTURE.find(&key).expect("fixture constant") + key.len();
    let start = after + FIXTURE[after..].find("hex\"").expect("hex literal") + 4;
    let end = start + FIXTURE[start..].find('"').expect("closing quote");
    FIXTURE[start..end].to_string()
}

fn real(file: &str) -> Vec<u8> {
    // The real AWS documents committed with the attestation crate (tests/data, with SHA256SUMS).
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/data")
        .join(file);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn hints_match_the_committed_fixture_for_every_real_document() {
    for (name, file) in [
        (
            "EVERVAULT_DEBUG",
            "evervault_beta_debug-mode-attestation-doc-bytes.cose",
        ),
        (
            "EVERVAULT_VALID",
            "evervault_beta_valid-attestation-doc-bytes.cose",
        ),
        ("BASE_2026", "base_nitro-validator_2026-01-03_repaired.cose"),
    ] {
        let doc = real(file);
        assert_eq!(
            hex::encode(&doc),
            fixture_hex(name),
            "{name} document bytes"
        );
        let hints = nitro_hints::document_hints(&doc).expect("hints");
        assert_eq!(hints.len(), 5, "{name}: 3 CAs + leaf + document");
        for h in &hints {
            assert_ne!(
                h[4], [0u8; 32],
                "{name}: every real signature gets a half-size hint"
            );
        }
        let joined: String = hints.iter().flatten().map(hex::encode).collect();
        assert_eq!(
            joined,
            fixture_hex(&format!("{name}_HINTS")),
            "{name} hints"
        );
    }
}

#[test]
fn a_hint_is_the_inverse() {
    // s = 1 → w = 1; s = n − 1 → w = n − 1 (its own inverse).
    let one = nitro_hints::inverse_hint(&[1]).expect("s = 1");
    assert_eq!(one[0], [0u8; 32]);
    assert_eq!(one[1][31], 1);
    let mut n_minus_1 = hex::decode(
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    )
    .expect("hex");
    n_minus_1[47] -= 1;
    let w = nitro_hints::inverse_hint(&n_minus_1).expect("s = n - 1");
    assert_eq!([&w[0][16..], &w[1][..]].concat(), n_minus_1);
}

#[test]
fn out_of_range_scalars_are_rejected() {
    assert!(nitro_hints::inverse_hint(&[0]).is_err());
    let n = hex::decode(
        "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973",
    )
    .expect("hex");
    assert!(nitro_hints::inverse_hint(&n).is_err());
}

#[test]
fn garbage_is_a_named_error_not_a_panic() {
    for input in [&b""[..], &[0x84, 0x40][..], &[0xff; 64][..]] {
        assert!(nitro_hints::document_hints(input).is_err());
    }
}

#[test]
fn verify_input_is_abi_encoded() {
    let mut hint = [[0u8; 32]; nitro_hints::HINT_WORDS];
    for (i, w) in hint.iter_mut().enumerate() {
        w[31] = i as u8 + 1;
    }
    let enc = nitro_hints::verify_input(&[0xaa; 33], &[hint]);
    // head (2 words) + len + 2 data words + array len + 6 hint words
    assert_eq!(enc.len(), 32 * 12);
    assert_eq!(enc[31], 64);
    assert_eq!(enc[63], 64 + 32 + 64);
    assert_eq!(enc[95], 33);
    assert_eq!(enc[5 * 32 + 31], 6);
    assert_eq!(enc[11 * 32 + 31], 6, "words in chain order");
}

/// The OpenSSL test key and signature of the P384Vectors fixture are not at hand here, so this uses
/// the document signature of a real document: its half-size hint satisfies the contract's checks
/// (a·u2 ≡ b mod n, both below 2^192), and a changed digest gets no half-size hint at all.
#[test]
fn half_size_hint_satisfies_the_congruence_and_is_absent_for_a_bad_signature() {
    use num_bigint::BigUint;
    let n = BigUint::from_bytes_be(
        &hex::decode("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973")
            .expect("hex"),
    );
    let doc = real("base_nitro-validator_2026-01-03_repaired.cose");
    let hints = nitro_hints::document_hints(&doc).expect("hints");
    let chain = nitro_hints::chain(&doc).expect("chain");
    let h = hints.last().expect("document hint");
    let w = BigUint::from_bytes_be(&[&h[0][16..], &h[1][..]].concat());
    let a = BigUint::from_bytes_be(&h[4]);
    let mut b_word = h[5];
    let negative = b_word[0] & 0x80 != 0;
    b_word[0] &= 0x7f;
    let b = BigUint::from_bytes_be(&b_word);
    assert!(a > BigUint::ZERO && a.bits() <= 192 && b.bits() <= 192);
    // r of the document signature: the COSE signature is the last 96 bytes of the document.
    let r = BigUint::from_bytes_be(&doc[doc.len() - 96..doc.len() - 48]);
    let s = BigUint::from_bytes_be(&doc[doc.len() - 48..]);
    assert_eq!(&s * &w % &n, BigUint::from(1u8));
    let u2 = &r * &w % &n;
    let expected = if negative { (&n - &b) % &n } else { b.clone() };
    assert_eq!(&a * &u2 % &n, expected);

    // The leaf's key with another digest: the signature is invalid, so no R exists to hint.
    let leaf = chain.last().expect("leaf");
    let (_, cert) = x509_parser::parse_x509_certificate(leaf).expect("leaf");
    let key = cert.public_key().subject_public_key.data.to_vec();
    let r_bytes = &doc[doc.len() - 96..doc.len() - 48];
    let s_bytes = &doc[doc.len() - 48..];
    let bad = nitro_hints::signature_hint(&[7u8; 48], r_bytes, s_bytes, &key).expect("hint");
    assert_eq!(
        bad[..2],
        h[..2],
        "the inverse does not depend on the digest"
    );
    assert_eq!(bad[2..], [[0u8; 32]; 4]);
    assert!(nitro_hints::signature_hint(&[7u8; 48], r_bytes, s_bytes, &key[1..]).is_err());
}
