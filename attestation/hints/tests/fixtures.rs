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
    // The workspace sits at <root>/main; the shared test data at <root>/shared/testdata/nitro.
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/testdata/nitro")
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
        let joined: String = hints
            .iter()
            .map(|[hi, lo]| format!("{}{}", hex::encode(hi), hex::encode(lo)))
            .collect();
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
    let hints = [[[1u8; 32], [2u8; 32]]];
    let enc = nitro_hints::verify_input(&[0xaa; 33], &hints);
    // head (2 words) + len + 2 data words + array len + 2 hint words
    assert_eq!(enc.len(), 32 * 8);
    assert_eq!(enc[31], 64);
    assert_eq!(enc[63], 64 + 32 + 64);
    assert_eq!(enc[95], 33);
    assert_eq!(enc[5 * 32 + 31], 2);
}
