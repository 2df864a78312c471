//! The signature section (PCR8): CBOR `[{signing_certificate, signature}]` where `signature` is an
//! untagged COSE_Sign1 (ES384) over CBOR `{register_index: 0, register_value: PCR0}`, exactly as
//! nitro-cli writes it. Signing uses RFC 6979 deterministic ECDSA, so a signed build is as
//! reproducible as an unsigned one.

use std::collections::BTreeMap;

use ciborium::Value;
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::X509;
use serde::{Deserialize, Serialize};

use crate::error::{InvalidEif, SignError};
use crate::hash::{Pcr, pcr_of, sha384};

/// nitro-cli's limit on the signature section.
pub const SIGNATURE_MAX_SIZE: u64 = 32768;
/// COSE algorithm ES384.
const ES384: i64 = -35;

/// One element of the signature section (`PcrSignature`). Byte vectors encode as CBOR arrays
/// of integers, as serde does for `Vec<u8>` (and as QEMU expects).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PcrSignature {
    /// The PEM certificate, verbatim.
    pub signing_certificate: Vec<u8>,
    /// Untagged COSE_Sign1 bytes.
    pub signature: Vec<u8>,
}

/// The signed payload (`PcrInfo`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct PcrInfo {
    /// PCR index (0).
    pub register_index: i32,
    /// PCR value.
    pub register_value: Vec<u8>,
}

fn cbor<T: Serialize>(v: &T) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing plain data into a Vec cannot fail.
    ciborium::into_writer(v, &mut out).expect("CBOR encoding into a Vec is infallible");
    out
}

fn cbor_decode<T: serde::de::DeserializeOwned>(mut bytes: &[u8]) -> Result<T, String> {
    let v = ciborium::from_reader(&mut bytes).map_err(|e| e.to_string())?;
    if !bytes.is_empty() {
        return Err(format!("{} trailing bytes after CBOR value", bytes.len()));
    }
    Ok(v)
}

/// The CBOR payload signed for PCR0.
pub fn pcr0_payload(pcr0: &Pcr) -> Vec<u8> {
    cbor(&PcrInfo {
        register_index: 0,
        register_value: pcr0.as_bytes().to_vec(),
    })
}

fn protected_header() -> Vec<u8> {
    cbor(&Value::Map(vec![(
        Value::Integer(1.into()),
        Value::Integer(ES384.into()),
    )]))
}

fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    cbor(&Value::Array(vec![
        Value::Text("Signature1".into()),
        Value::Bytes(protected.to_vec()),
        Value::Bytes(Vec::new()),
        Value::Bytes(payload.to_vec()),
    ]))
}

/// A P-384 key and its PEM certificate.
pub struct Signer {
    cert_pem: Vec<u8>,
    cert_der: Vec<u8>,
    key: p384::ecdsa::SigningKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("cert_der_len", &self.cert_der.len())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// From PEM texts: an X.509 certificate and its P-384 private key (SEC1 "EC PRIVATE KEY",
    /// optionally after an "EC PARAMETERS" block, or PKCS#8).
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8]) -> Result<Self, SignError> {
        let cert = X509::from_pem(cert_pem).map_err(|e| SignError::Certificate(e.to_string()))?;
        let cert_der = cert
            .to_der()
            .map_err(|e| SignError::Certificate(e.to_string()))?;
        let pkey: PKey<Private> =
            PKey::private_key_from_pem(key_pem).map_err(|e| SignError::Key(e.to_string()))?;
        let ec = pkey
            .ec_key()
            .map_err(|_| SignError::Key("not an EC key".into()))?;
        if ec.group().curve_name() != Some(Nid::SECP384R1) {
            return Err(SignError::Key("not a P-384 (secp384r1) key".into()));
        }
        let cert_key = cert
            .public_key()
            .map_err(|e| SignError::Certificate(e.to_string()))?;
        if !cert_key.public_eq(&pkey) {
            return Err(SignError::KeyCertMismatch);
        }
        let scalar = ec
            .private_key()
            .to_vec_padded(48)
            .map_err(|e| SignError::Key(e.to_string()))?;
        let key = p384::ecdsa::SigningKey::from_slice(&scalar)
            .map_err(|e| SignError::Key(e.to_string()))?;
        Ok(Self {
            cert_pem: cert_pem.to_vec(),
            cert_der,
            key,
        })
    }

    /// PCR8: the measurement of the certificate's DER.
    pub fn pcr8(&self) -> Pcr {
        pcr_of(&self.cert_der)
    }

    /// The signature section bytes for an image whose PCR0 is `pcr0`.
    pub fn signature_section(&self, pcr0: &Pcr) -> Vec<u8> {
        use p384::ecdsa::signature::Signer as _;
        let payload = pcr0_payload(pcr0);
        let protected = protected_header();
        let sig: p384::ecdsa::Signature = self.key.sign(&sig_structure(&protected, &payload));
        let cose = cbor(&Value::Array(vec![
            Value::Bytes(protected),
            Value::Map(Vec::new()),
            Value::Bytes(payload),
            Value::Bytes(sig.to_bytes().to_vec()),
        ]));
        cbor(&vec![PcrSignature {
            signing_certificate: self.cert_pem.clone(),
            signature: cose,
        }])
    }
}

/// `SigningCertificate` as nitro-cli's `describe-eif` prints it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CertificateInfo {
    /// Issuer RDNs.
    #[serde(rename = "IssuerName")]
    pub issuer_name: BTreeMap<String, String>,
    /// Signature algorithm name.
    #[serde(rename = "Algorithm")]
    pub algorithm: String,
    /// Validity start.
    #[serde(rename = "NotBefore")]
    pub not_before: String,
    /// Validity end.
    #[serde(rename = "NotAfter")]
    pub not_after: String,
    /// The certificate's signature, `XX:XX:…`.
    #[serde(rename = "Signature")]
    pub signature: String,
}

/// What a signature section says.
#[derive(Debug, Clone)]
pub struct SignatureReport {
    /// PCR8 (SHA-384 chain over the certificate DER).
    pub pcr8: Pcr,
    /// Certificate details.
    pub certificate: CertificateInfo,
    /// The COSE signature verifies with the certificate key and signs exactly this PCR0.
    pub signature_ok: bool,
}

fn bad(msg: impl Into<String>) -> InvalidEif {
    InvalidEif::Signature(msg.into())
}

/// Parse a signature section and check it against the image's `pcr0`.
pub fn check_signature_section(section: &[u8], pcr0: &Pcr) -> Result<SignatureReport, InvalidEif> {
    let sigs: Vec<PcrSignature> = cbor_decode(section).map_err(bad)?;
    let first = sigs
        .first()
        .ok_or_else(|| bad("no PCR signature in the section"))?;
    let cert =
        X509::from_pem(&first.signing_certificate).map_err(|e| bad(format!("certificate: {e}")))?;
    let der = cert
        .to_der()
        .map_err(|e| bad(format!("certificate: {e}")))?;
    let certificate = certificate_info(&cert);
    let signature_ok = verify_cose(&first.signature, &cert, &pcr0_payload(pcr0))?;
    Ok(SignatureReport {
        pcr8: pcr_of(&der),
        certificate,
        signature_ok,
    })
}

/// Ok(false) on a well-formed COSE_Sign1 that does not verify or signs something else.
fn verify_cose(cose: &[u8], cert: &X509, expected_payload: &[u8]) -> Result<bool, InvalidEif> {
    let mut v: Value = cbor_decode(cose).map_err(|e| bad(format!("COSE_Sign1: {e}")))?;
    if let Value::Tag(18, inner) = v {
        v = *inner;
    }
    let Value::Array(items) = v else {
        return Err(bad("COSE_Sign1 is not an array"));
    };
    let [
        Value::Bytes(protected),
        Value::Map(_),
        Value::Bytes(payload),
        Value::Bytes(sig),
    ] = items.as_slice()
    else {
        return Err(bad("COSE_Sign1 is not [bstr, map, bstr, bstr]"));
    };
    let header: Value =
        cbor_decode(protected).map_err(|e| bad(format!("protected header: {e}")))?;
    let Value::Map(entries) = header else {
        return Err(bad("protected header is not a map"));
    };
    let alg = entries.iter().find_map(|(k, v)| match (k, v) {
        (Value::Integer(k), Value::Integer(a)) if i128::from(*k) == 1 => Some(i128::from(*a)),
        _ => None,
    });
    if alg != Some(i128::from(ES384)) || sig.len() != 96 || payload.as_slice() != expected_payload {
        return Ok(false);
    }
    let Ok(pk) = cert.public_key() else {
        return Ok(false);
    };
    let Ok(ec) = pk.ec_key() else {
        return Ok(false);
    };
    let (Ok(r), Ok(s)) = (
        BigNum::from_slice(&sig[..48]),
        BigNum::from_slice(&sig[48..]),
    ) else {
        return Ok(false);
    };
    let Ok(esig) = EcdsaSig::from_private_components(r, s) else {
        return Ok(false);
    };
    let digest = sha384(&sig_structure(protected, payload));
    Ok(esig.verify(&digest, &ec).unwrap_or(false))
}

/// The same strings nitro-cli derives from the certificate (same OpenSSL calls).
fn certificate_info(cert: &X509) -> CertificateInfo {
    let issuer_name = cert
        .issuer_name()
        .entries()
        .map(|e| {
            (
                e.object().to_string(),
                format!("{:?}", e.data()).replace('"', ""),
            )
        })
        .collect();
    CertificateInfo {
        issuer_name,
        algorithm: format!("{:#?}", cert.signature_algorithm().object()),
        not_before: format!("{:#?}", cert.not_before()),
        not_after: format!("{:#?}", cert.not_after()),
        signature: cert
            .signature()
            .as_slice()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
    }
}

/// Generate a throwaway self-signed P-384 certificate and SEC1 key (PEM), valid between the two
/// Unix times: for development and tests only (a production signing key lives in an HSM/KMS).
pub fn dev_identity(
    cn: &str,
    not_before: i64,
    not_after: i64,
) -> Result<(Vec<u8>, Vec<u8>), SignError> {
    use openssl::asn1::Asn1Time;
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::x509::{X509Builder, X509NameBuilder};
    let e = |e: openssl::error::ErrorStack| SignError::Certificate(e.to_string());
    let group = EcGroup::from_curve_name(Nid::SECP384R1).map_err(e)?;
    let key = PKey::from_ec_key(EcKey::generate(&group).map_err(e)?).map_err(e)?;
    let mut name = X509NameBuilder::new().map_err(e)?;
    name.append_entry_by_text("CN", cn).map_err(e)?;
    name.append_entry_by_text("O", "eif-builder development")
        .map_err(e)?;
    let name = name.build();
    let mut b = X509Builder::new().map_err(e)?;
    b.set_version(2).map_err(e)?;
    b.set_subject_name(&name).map_err(e)?;
    b.set_issuer_name(&name).map_err(e)?;
    b.set_pubkey(&key).map_err(e)?;
    let (nb, na) = (
        Asn1Time::from_unix(not_before).map_err(e)?,
        Asn1Time::from_unix(not_after).map_err(e)?,
    );
    b.set_not_before(&nb).map_err(e)?;
    b.set_not_after(&na).map_err(e)?;
    b.sign(&key, MessageDigest::sha384()).map_err(e)?;
    let cert = b.build().to_pem().map_err(e)?;
    let key = key.ec_key().map_err(e)?.private_key_to_pem().map_err(e)?;
    Ok((cert, key))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn test_identity(cn: &str) -> (Vec<u8>, Vec<u8>) {
        dev_identity(cn, 1_700_000_000, 2_000_000_000).expect("generating a P-384 identity")
    }

    // Byte vectors the reference implementation pins (aws-nitro-enclaves-image-format 0.8.x,
    // src/utils/cbor.rs): PcrInfo{0, 0x00..=0x2f} and a one-entry signature section.
    const PCR_INFO_0_8_0: &str = "a26e72656769737465725f696e646578006e72656769737465725f76616c75659830000102030405060708090a0b0c0d0e0f101112131415161718181819181a181b181c181d181e181f1820182118221823182418251826182718281829182a182b182c182d182e182f";
    const SIGNATURE_0_8_0: &str = "81a2737369676e696e675f6365727469666963617465983b182d182d182d182d182d1842184518471849184e182018431845185218541849184618491843184118541845182d182d182d182d182d0a184d1849184918420a182d182d182d182d182d1845184e1844182018431845185218541849184618491843184118541845182d182d182d182d182d0a697369676e61747572658a18d21884184418a1011838182218a018401840";

    #[test]
    fn cbor_encodings_match_reference_vectors() {
        let mut v = [0u8; 48];
        for (i, b) in v.iter_mut().enumerate() {
            *b = i as u8;
        }
        assert_eq!(hex::encode(pcr0_payload(&Pcr::new(v))), PCR_INFO_0_8_0);
        let section = cbor(&vec![PcrSignature {
            signing_certificate: b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
                .to_vec(),
            signature: vec![0xd2, 0x84, 0x44, 0xa1, 0x01, 0x38, 0x22, 0xa0, 0x40, 0x40],
        }]);
        assert_eq!(hex::encode(&section), SIGNATURE_0_8_0);
        assert_eq!(hex::encode(protected_header()), "a1013822");
    }

    #[test]
    fn sign_then_check_round_trips_and_detects_other_pcr0() {
        let (cert, key) = test_identity("eif-builder test");
        let signer = Signer::from_pem(&cert, &key).unwrap();
        let pcr0 = pcr_of(b"image");
        let section = signer.signature_section(&pcr0);
        assert_eq!(
            section,
            signer.signature_section(&pcr0),
            "RFC 6979 signing is deterministic"
        );
        let report = check_signature_section(&section, &pcr0).unwrap();
        assert!(report.signature_ok);
        assert_eq!(report.pcr8, signer.pcr8());
        assert!(
            report
                .certificate
                .issuer_name
                .values()
                .any(|v| v == "eif-builder test"),
            "{:?}",
            report.certificate
        );
        let other = check_signature_section(&section, &pcr_of(b"other")).unwrap();
        assert!(!other.signature_ok);
    }

    #[test]
    fn openssl_ecparam_genkey_format_is_accepted() {
        // `openssl ecparam -name secp384r1 -genkey` (nitro-cli's documented recipe) writes an
        // EC PARAMETERS block before the key.
        let (cert, key) = test_identity("params");
        let with_params = [
            &b"-----BEGIN EC PARAMETERS-----\nBgUrgQQAIg==\n-----END EC PARAMETERS-----\n"[..],
            &key,
        ]
        .concat();
        let a = Signer::from_pem(&cert, &with_params).unwrap();
        let b = Signer::from_pem(&cert, &key).unwrap();
        let pcr0 = pcr_of(b"x");
        assert_eq!(a.signature_section(&pcr0), b.signature_section(&pcr0));
    }

    #[test]
    fn mismatched_key_and_wrong_curve_are_named_errors() {
        let (cert, _) = test_identity("a");
        let (_, key2) = test_identity("b");
        assert!(matches!(
            Signer::from_pem(&cert, &key2),
            Err(SignError::KeyCertMismatch)
        ));
        let p256 = openssl::ec::EcKey::generate(
            &openssl::ec::EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap(),
        )
        .unwrap()
        .private_key_to_pem()
        .unwrap();
        assert!(matches!(
            Signer::from_pem(&cert, &p256),
            Err(SignError::Key(_))
        ));
        assert!(matches!(
            Signer::from_pem(b"junk", &key2),
            Err(SignError::Certificate(_))
        ));
    }

    #[test]
    fn garbage_sections_are_named_errors() {
        let pcr0 = pcr_of(b"x");
        for bytes in [&b""[..], b"\x80", b"\x81\xa0", b"\xff\xff", b"\x81\xa2\x00"] {
            assert!(matches!(
                check_signature_section(bytes, &pcr0),
                Err(InvalidEif::Signature(_))
            ));
        }
    }
}
