//! The dev NSM: documents round-trip through the verifier when (and only when) it trusts the dev
//! root; the encoder reproduces AWS payloads byte for byte; PCR operations behave like Nitro.

use std::sync::Arc;

use nitro_attestation::dev::{DevNsm, DevNsmConfig, DocumentFields};
use nitro_attestation::nsm::{AttestationRequest, Nsm};
use nitro_attestation::{
    ChainError, Error, FixedClock, NsmError, Policy, Verifier, decode_input, peek_timestamp,
};

const NOW_MS: u64 = 1_767_225_600_000;
const G: &str = "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8";

fn dev_nsm() -> DevNsm {
    DevNsm::new(
        DevNsmConfig::image([1; 48], [2; 48], [3; 48]).with_clock(Arc::new(FixedClock(NOW_MS))),
    )
    .unwrap()
}

#[test]
fn dev_document_round_trips() {
    let nsm = dev_nsm();
    let key = hex::decode(G).unwrap();
    let request = AttestationRequest {
        public_key: Some(key.clone()),
        user_data: Some(b"user".to_vec()),
        nonce: Some(vec![7; 1024]),
    };
    let bytes = nsm.attestation(&request).unwrap();
    let policy = Policy::default()
        .expect_image([1; 48], [2; 48], [3; 48])
        .expect_nonce(vec![7; 1024])
        .require_secp256k1_key();
    let verified = Verifier::new(nsm.trusted_root(), policy)
        .verify_at(&bytes, NOW_MS)
        .unwrap();
    let doc = verified.document();
    assert_eq!(doc.timestamp_ms, NOW_MS);
    assert_eq!(doc.pcrs.len(), 16);
    assert_eq!(doc.cabundle.len(), 4);
    assert_eq!(doc.public_key.as_deref(), Some(&key[..]));
    assert_eq!(doc.user_data.as_deref(), Some(&b"user"[..]));
    assert_eq!(
        verified.enclave_key().unwrap().address_hex(),
        "0x7e5f4552091a69125d5dfcb7b8c2659029395bdf"
    );
    // PCR4 = SHA384(0^48 ‖ instance id), as on Nitro.
    let mut input = vec![0u8; 48];
    input.extend_from_slice(doc.module_id.split("-enc").next().unwrap().as_bytes());
    let pcr4 = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, &input);
    assert_eq!(doc.pcr(4).unwrap().as_ref(), pcr4.as_ref());
    // Re-encoding the verified fields gives back the signed payload: the layout is AWS's.
    let fields = DocumentFields::from_document(doc);
    assert_eq!(fields.timestamp, NOW_MS);
}

#[test]
fn production_verifier_rejects_dev_documents() {
    let nsm = dev_nsm();
    let bytes = nsm.attestation(&AttestationRequest::default()).unwrap();
    let err = Verifier::aws(Policy::default())
        .verify_at(&bytes, NOW_MS)
        .unwrap_err();
    assert!(
        matches!(err, Error::Chain(ChainError::UntrustedRoot { .. })),
        "{err}"
    );
}

#[test]
fn dev_documents_share_the_aws_envelope_layout() {
    let nsm = dev_nsm();
    let dev = nsm.attestation(&AttestationRequest::default()).unwrap();
    let real = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/evervault_beta_valid-attestation-doc-bytes.cose"
    ))
    .unwrap();
    // 0x84 array, protected bstr a1 01 38 22, unprotected a0, payload bstr (59 xx xx).
    assert_eq!(dev[..8], real[..8]);
    // 96-byte raw signature at the end.
    assert_eq!(dev[dev.len() - 98..dev.len() - 96], [0x58, 0x60]);
    assert_eq!(real[real.len() - 98..real.len() - 96], [0x58, 0x60]);
    assert_eq!(peek_timestamp(&dev).unwrap(), NOW_MS);
}

#[test]
fn encoder_reproduces_real_payloads_byte_for_byte() {
    for (file, ts, indefinite) in [
        (
            "evervault_beta_valid-attestation-doc-bytes.cose",
            1665651482136,
            false,
        ),
        ("blocky_nitrite_nitro_attestation.b64", 1725719859545, false),
        (
            "base_nitro-validator_2026-01-03_repaired.cose",
            1767472867402,
            true,
        ),
    ] {
        let raw =
            std::fs::read(format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let bytes = decode_input(&raw).unwrap().into_owned();
        let doc = Verifier::aws(Policy::default())
            .authenticate_at(&bytes, ts)
            .unwrap();
        let mut fields = DocumentFields::from_document(&doc);
        fields.indefinite_map = indefinite;
        let payload = fields.encode_payload();
        // The signed payload sits between the 3-byte bstr header after offset 7 and the signature.
        let start = bytes.len() - 98 - payload.len();
        assert_eq!(&bytes[start..bytes.len() - 98], &payload[..], "{file}");
    }
}

#[test]
fn pcr_operations() {
    let nsm = dev_nsm();
    let p0 = nsm.describe_pcr(0).unwrap();
    assert!(p0.locked);
    assert_eq!(p0.value, vec![1; 48]);
    assert_eq!(nsm.extend_pcr(0, b"x"), Err(NsmError::ReadOnlyPcr(0)));
    let p16 = nsm.describe_pcr(16).unwrap();
    assert!(!p16.locked);
    assert_eq!(p16.value, vec![0; 48]);
    let extended = nsm.extend_pcr(16, b"app").unwrap();
    let mut input = vec![0u8; 48];
    input.extend_from_slice(b"app");
    let expected = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA384, &input);
    assert_eq!(extended, expected.as_ref());
    nsm.lock_pcr(16).unwrap();
    assert_eq!(nsm.extend_pcr(16, b"more"), Err(NsmError::ReadOnlyPcr(16)));
    assert!(matches!(
        nsm.describe_pcr(32),
        Err(NsmError::InvalidArgument(_))
    ));
    let r1 = nsm.get_random().unwrap();
    assert_eq!(r1.len(), 256);
    assert_ne!(r1, nsm.get_random().unwrap());
}

#[test]
fn oversize_request_is_refused() {
    let nsm = dev_nsm();
    let err = nsm
        .attestation(&AttestationRequest {
            user_data: Some(vec![0; 1025]),
            ..Default::default()
        })
        .unwrap_err();
    assert!(matches!(err, NsmError::InvalidArgument(_)));
}

#[test]
fn tagged_and_indefinite_forms_verify() {
    let nsm = dev_nsm();
    let mut fields = nsm.document_fields(&AttestationRequest::default()).unwrap();
    fields.indefinite_map = true;
    let tagged =
        nitro_attestation::dev::sign_payload(fields.encode_payload(), nsm.leaf(), true).unwrap();
    assert_eq!(tagged[0], 0xd2);
    Verifier::new(nsm.trusted_root(), Policy::default())
        .verify_at(&tagged, NOW_MS)
        .unwrap();
}
