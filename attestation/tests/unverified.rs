//! `read_unverified` reads what a document says, whatever signs it (or nothing does), while the
//! verifier rejects unsigned documents with a named error: the real AWS documents in `tests/data/`
//! (the same files as `shared/testdata/nitro/`), documents with zero-filled certificates, and the
//! shape qemu's emulated NSM produces.

use nitro_attestation::dev::corpus::bad_documents;
use nitro_attestation::dev::{
    DevNsm, DevNsmConfig, DocumentFields, emulated_nsm_document, envelope_with_signature,
};
use nitro_attestation::{
    AttestationDocument, ChainError, Error, Malformed, Policy, UnverifiedDocument, Verifier,
    decode_input, peek_timestamp, read_unverified,
};

fn load(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    decode_input(&bytes).expect("raw or base64").into_owned()
}

/// The genuine documents and their timestamps (ms).
const REAL: [(&str, u64); 4] = [
    (
        "evervault_beta_valid-attestation-doc-bytes.cose",
        1665651482136,
    ),
    ("blocky_nitrite_nitro_attestation.b64", 1725719859545),
    (
        "base_nitro-validator_2026-01-03_repaired.cose",
        1767472867402,
    ),
    (
        "evervault_beta_debug-mode-attestation-doc-bytes.cose",
        1665582606081,
    ),
];
const BASE: (&str, u64) = REAL[2];

fn authentic(file: &str, at_ms: u64) -> AttestationDocument {
    Verifier::aws(Policy::default())
        .authenticate_at(&load(file), at_ms)
        .unwrap_or_else(|e| panic!("{file}: {e}"))
}

/// Field-by-field equality of the claims with an authenticated document's fields.
fn assert_same_claims(read: &UnverifiedDocument, doc: &AttestationDocument, what: &str) {
    assert_eq!(read.module_id, doc.module_id, "{what}");
    assert_eq!(read.digest, doc.digest, "{what}");
    assert_eq!(read.timestamp_ms, doc.timestamp_ms, "{what}");
    assert_eq!(read.pcrs, doc.pcrs, "{what}");
    assert_eq!(read.certificate, doc.certificate, "{what}");
    assert_eq!(read.cabundle, doc.cabundle, "{what}");
    assert_eq!(read.public_key, doc.public_key, "{what}");
    assert_eq!(read.user_data, doc.user_data, "{what}");
    assert_eq!(read.nonce, doc.nonce, "{what}");
}

#[test]
fn real_documents_read_as_verification_reads_them() {
    for (file, ts) in REAL {
        let bytes = load(file);
        let read = read_unverified(&bytes).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_same_claims(&read, &authentic(file, ts), file);
        assert_eq!(read.cose_alg, Some(-35), "{file}: ES384");
        assert_eq!(read.signature.len(), 96, "{file}");
        assert_eq!(read.signature, bytes[bytes.len() - 96..], "{file}");
        assert_eq!(read.pcrs.len(), 16, "{file}");
        // Reading checks no certificate: these chains expired long ago.
        let err = Verifier::aws(Policy::default()).verify(&bytes).unwrap_err();
        assert!(
            matches!(err, Error::Chain(ChainError::Expired { .. })),
            "{file}: {err}"
        );
    }
    // Tagged (tag 18) reads the same as untagged.
    let bytes = load(BASE.0);
    let mut tagged = vec![0xd2];
    tagged.extend_from_slice(&bytes);
    assert_eq!(read_unverified(&tagged), read_unverified(&bytes));
}

/// BASE's payload with `mutate` applied, in an ES384 envelope carrying 96 zero bytes of signature.
fn base_with(mutate: impl FnOnce(&mut DocumentFields)) -> (AttestationDocument, Vec<u8>) {
    let doc = authentic(BASE.0, BASE.1);
    let mut fields = DocumentFields::from_document(&doc);
    mutate(&mut fields);
    (
        doc,
        envelope_with_signature(fields.encode_payload(), vec![0; 96]),
    )
}

#[test]
fn zero_filled_leaf_certificate_reads_but_is_rejected() {
    let (doc, bytes) = base_with(|f| f.certificate = vec![0; 64]);
    let read = read_unverified(&bytes).unwrap();
    assert_eq!(read.certificate, vec![0; 64]);
    let mut expected = doc.clone();
    expected.certificate = vec![0; 64];
    assert_same_claims(&read, &expected, "zero leaf");
    assert_eq!((read.cose_alg, read.signature.len()), (Some(-35), 96));

    // The real AWS bundle leads to the leaf, which is not a certificate (index 4 = the leaf).
    let err = Verifier::aws(Policy::default())
        .verify_at(&bytes, BASE.1)
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Malformed(Malformed::Certificate { index: 4, .. })
        ),
        "{err}"
    );
    assert_eq!(err.code(), "malformed.certificate");
    let message = err.to_string();
    assert!(
        message.contains("leaf")
            && message.contains("64 zero bytes: a placeholder")
            && message.contains("cannot be authenticated"),
        "{message}"
    );
}

#[test]
fn zero_filled_ca_bundle_reads_but_is_rejected() {
    let (_, bytes) = base_with(|f| {
        f.certificate = vec![0; 64];
        f.cabundle = vec![vec![0; 64]];
    });
    let read = read_unverified(&bytes).unwrap();
    assert_eq!(read.cabundle, vec![vec![0; 64]]);
    let err = Verifier::aws(Policy::default())
        .verify_at(&bytes, BASE.1)
        .unwrap_err();
    assert!(
        matches!(err, Error::Chain(ChainError::UntrustedRoot { .. })),
        "{err}"
    );
    assert_eq!(err.code(), "chain.untrusted_root");
    assert!(err.to_string().contains("not signed under"), "{err}");
}

/// Fields as the enclave would request them under qemu: real PCRs (from BASE), a key, a nonce.
fn emulated_fields() -> DocumentFields {
    DocumentFields::emulated_request(&authentic(BASE.0, BASE.1))
}

#[test]
fn emulated_nsm_document_reads_but_is_rejected() {
    let fields = emulated_fields();
    let bytes = emulated_nsm_document(&fields);
    let read = read_unverified(&bytes).unwrap();
    assert_eq!(read.module_id, "i-234-enc5678");
    assert_eq!(read.timestamp_ms, fields.timestamp);
    assert_eq!(read.pcrs.len(), 16);
    for (i, v) in &fields.pcrs {
        assert_eq!(read.pcr(*i as u8).unwrap().as_ref(), v.as_slice());
    }
    assert_eq!(read.public_key, fields.public_key);
    assert_eq!(read.user_data, fields.user_data);
    assert_eq!(read.nonce, fields.nonce);
    assert_eq!(read.certificate, vec![0; 64]);
    assert_eq!(read.cabundle, vec![vec![0; 64]]);
    assert_eq!(read.cose_alg, Some(-1));
    assert_eq!(read.signature, vec![0; 64]);

    // Rejected before any certificate is looked at, whichever root is trusted and at any time.
    let dev_root = DevNsm::new(DevNsmConfig::image([1; 48], [2; 48], [3; 48]))
        .unwrap()
        .trusted_root();
    for verifier in [
        Verifier::aws(Policy::default()),
        Verifier::new(dev_root, Policy::default().danger_allow_debug()),
    ] {
        for at in [fields.timestamp, 0, u64::MAX] {
            let err = verifier.verify_at(&bytes, at).unwrap_err();
            assert_eq!(err, Error::Malformed(Malformed::UnsupportedAlgorithm));
            assert_eq!(err.code(), "malformed.unsupported_algorithm");
        }
    }
    let err = peek_timestamp(&bytes).unwrap_err();
    assert_eq!(err.code(), "malformed.unsupported_algorithm");
    assert!(err.to_string().contains("ES384"), "{err}");
    assert!(err.to_string().contains("cannot be authenticated"), "{err}");
}

#[test]
fn garbage_is_malformed() {
    for input in [
        &b""[..],
        b"hello",
        b"%% not a document %%",
        &[0x84],
        &[0x84, 0x40, 0xa0, 0xf6, 0x40],
        &[0xd2, 0x83, 0x40, 0xa0, 0x40],
        &[0xa1, 0x01, 0x20],
        &[0xff; 100],
    ] {
        assert!(read_unverified(input).is_err(), "{input:02x?}");
    }
    assert_eq!(read_unverified(b""), Err(Malformed::Empty));
    // Every truncation, and every single-byte change of a real document, gives an answer, never
    // a panic; a truncation is always an error.
    let bytes = load(BASE.0);
    for n in 0..bytes.len() {
        assert!(read_unverified(&bytes[..n]).is_err(), "prefix {n}");
    }
    for i in 0..bytes.len() {
        for bit in [0x01, 0x80] {
            let mut b = bytes.clone();
            b[i] ^= bit;
            let _ = read_unverified(&b);
        }
    }
}

#[test]
fn agrees_with_the_verifier_on_the_bad_document_table() {
    // Whatever the verifier rejects for its signature, chain or policy, or for the envelope's
    // algorithm, signature length or a certificate, reads; whatever it rejects as malformed
    // otherwise does not read either, with the same error.
    let mut wrong = Vec::new();
    let (mut reads, mut both_malformed) = (0, 0);
    for entry in bad_documents().unwrap() {
        let code = entry
            .verifier()
            .verify_at(&entry.bytes, entry.now_ms)
            .unwrap_err()
            .code();
        let unverified_only = [
            "malformed.unsupported_algorithm",
            "malformed.signature_length",
            "malformed.certificate",
        ];
        let read = read_unverified(&entry.bytes);
        let ok = if !code.starts_with("malformed.") || unverified_only.contains(&code) {
            read.is_ok()
        } else {
            read.as_ref()
                .is_err_and(|e| Error::from(e.clone()).code() == code)
        };
        if !ok {
            wrong.push(format!("{}: verifier {code}, read {read:?}", entry.name));
        } else if read.is_ok() {
            reads += 1;
        } else {
            both_malformed += 1;
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // The table has both kinds in numbers (33 and 62 today).
    assert!(
        reads >= 30 && both_malformed >= 50,
        "{reads} read, {both_malformed} malformed for both"
    );
}
