//! Certificate chain validation: `cabundle[0]` (the pinned root) → … → `certificate` (the leaf).
//!
//! Checks per certificate: DER parses completely; ecdsa-with-SHA384 signature and P-384 key;
//! issuer name equals the predecessor's subject; signature verifies with the predecessor's key;
//! validity at the injected clock (including the root); CAs have basicConstraints CA with
//! keyCertSign and a respected pathLenConstraint; intermediates are not self-issued; the leaf is
//! not a CA. No CRLs (AWS publishes none that matter for a ~3 h leaf).

use aws_lc_rs::digest;
use aws_lc_rs::signature::{ECDSA_P384_SHA384_ASN1, UnparsedPublicKey};
use x509_parser::certificate::X509Certificate;
use x509_parser::oid_registry::OID_SIG_ECDSA_WITH_SHA384;
use x509_parser::prelude::FromDer;

use crate::cache::CertCache;
use crate::error::{ChainError, Error, Malformed};

/// DER prefix of a `SubjectPublicKeyInfo` for an uncompressed P-384 key (id-ecPublicKey,
/// secp384r1, BIT STRING of 98 bytes); the 97-byte point follows.
const P384_SPKI_PREFIX: [u8; 23] = [
    0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
    0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00,
];
const P384_POINT_LEN: usize = 97;

/// The root certificate a verifier trusts, pinned by the SHA-256 of its DER.
#[derive(Clone, Debug)]
pub struct TrustedRoot {
    der: Vec<u8>,
    sha256: [u8; 32],
}

/// AWS Nitro Enclaves Root-G1, as published in `AWS_NitroEnclaves_Root-G1.zip`.
const AWS_ROOT_G1_DER: &[u8] = include_bytes!("../data/aws-nitro-enclaves-root-g1.der");

/// SHA-256 of the AWS Nitro Enclaves Root-G1 DER, the pin production verification uses.
pub const AWS_ROOT_G1_SHA256: [u8; 32] = [
    0x64, 0x1a, 0x03, 0x21, 0xa3, 0xe2, 0x44, 0xef, 0xe4, 0x56, 0x46, 0x31, 0x95, 0xd6, 0x06, 0x31,
    0x7e, 0xd7, 0xcd, 0xcc, 0x3c, 0x17, 0x56, 0xe0, 0x98, 0x93, 0xf3, 0xc6, 0x8f, 0x79, 0xbb, 0x5b,
];

impl TrustedRoot {
    /// The AWS Nitro Enclaves Root-G1 (DER SHA-256 `641a0321…bb5b`).
    pub fn aws_nitro_g1() -> Self {
        let root = Self::from_der(AWS_ROOT_G1_DER.to_vec());
        // The embedded file is checked by a unit test; a mismatch here is a build defect.
        assert_eq!(
            root.sha256, AWS_ROOT_G1_SHA256,
            "embedded AWS root differs from its pin"
        );
        root
    }

    /// Trusts the root certificate with exactly these DER bytes (for example a dev CA root).
    pub fn from_der(der: Vec<u8>) -> Self {
        let sha256 = sha256(&der);
        TrustedRoot { der, sha256 }
    }

    /// The pinned DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the pinned DER.
    pub fn sha256(&self) -> [u8; 32] {
        self.sha256
    }

    /// True for the AWS Nitro Enclaves Root-G1.
    pub fn is_aws(&self) -> bool {
        self.sha256 == AWS_ROOT_G1_SHA256
    }
}

pub(crate) fn sha256(bytes: &[u8]) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, bytes);
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// One parsed certificate with what the chain walk needs.
struct Cert<'a> {
    x509: X509Certificate<'a>,
    /// Uncompressed P-384 point (97 bytes).
    point: &'a [u8],
}

fn parse_cert(der: &[u8], index: usize) -> Result<Cert<'_>, Error> {
    let (rest, x509) = X509Certificate::from_der(der).map_err(|e| Malformed::Certificate {
        index,
        reason: if der.iter().all(|b| *b == 0) {
            // What an emulated NSM (qemu) sends instead of certificates.
            format!("{} zero bytes: a placeholder, not a certificate", der.len())
        } else {
            e.to_string()
        },
    })?;
    if !rest.is_empty() {
        return Err(Malformed::Certificate {
            index,
            reason: format!("{} trailing bytes", rest.len()),
        }
        .into());
    }
    let spki = x509.tbs_certificate.subject_pki.raw;
    let p384 = spki.len() == P384_SPKI_PREFIX.len() + P384_POINT_LEN
        && spki.starts_with(&P384_SPKI_PREFIX);
    let ecdsa384 = x509.signature_algorithm.algorithm == OID_SIG_ECDSA_WITH_SHA384
        && x509.signature_algorithm.parameters.is_none()
        && x509.signature_algorithm == x509.tbs_certificate.signature;
    if !p384 || !ecdsa384 || x509.signature_value.unused_bits != 0 {
        return Err(ChainError::UnsupportedAlgorithm { index }.into());
    }
    let point = &spki[P384_SPKI_PREFIX.len()..];
    Ok(Cert { x509, point })
}

fn check_validity(cert: &Cert<'_>, index: usize, now_ms: u64) -> Result<(), ChainError> {
    let now_s = i64::try_from(now_ms / 1000).unwrap_or(i64::MAX);
    let validity = cert.x509.validity();
    let not_before_s = validity.not_before.timestamp();
    let not_after_s = validity.not_after.timestamp();
    if now_s < not_before_s {
        return Err(ChainError::NotYetValid {
            index,
            not_before_s,
            now_ms,
        });
    }
    if now_s > not_after_s {
        return Err(ChainError::Expired {
            index,
            not_after_s,
            now_ms,
        });
    }
    Ok(())
}

/// Checks that `cert` may issue certificates with `cas_below` further CAs beneath it.
fn check_ca(cert: &Cert<'_>, index: usize, cas_below: usize) -> Result<(), ChainError> {
    let not_ca = ChainError::NotCa { index };
    let bc = match cert.x509.basic_constraints() {
        Ok(Some(bc)) if bc.value.ca => bc.value.clone(),
        _ => return Err(not_ca),
    };
    match cert.x509.key_usage() {
        Ok(Some(ku)) if ku.value.key_cert_sign() => {}
        _ => return Err(not_ca),
    }
    if let Some(max) = bc.path_len_constraint
        && cas_below > max as usize
    {
        return Err(ChainError::PathLenExceeded { index });
    }
    Ok(())
}

fn check_leaf(cert: &Cert<'_>) -> Result<(), ChainError> {
    if let Ok(Some(bc)) = cert.x509.basic_constraints()
        && bc.value.ca
    {
        return Err(ChainError::BadLeaf);
    }
    match cert.x509.key_usage() {
        Ok(Some(ku)) if !ku.value.digital_signature() => Err(ChainError::BadLeaf),
        Err(_) => Err(ChainError::BadLeaf),
        _ => Ok(()),
    }
}

fn verify_signed_by(cert: &Cert<'_>, issuer: &Cert<'_>, index: usize) -> Result<(), ChainError> {
    UnparsedPublicKey::new(&ECDSA_P384_SHA384_ASN1, issuer.point)
        .verify(
            cert.x509.tbs_certificate.as_ref(),
            &cert.x509.signature_value.data,
        )
        .map_err(|_| ChainError::BadCertificateSignature { index })
}

/// Walks `cabundle ++ [leaf]` and returns the leaf's uncompressed P-384 point and the leaf's
/// validity end (seconds).
pub(crate) fn verify_chain(
    root: &TrustedRoot,
    cabundle: &[&[u8]],
    leaf: &[u8],
    now_ms: u64,
    cache: Option<&CertCache>,
) -> Result<[u8; P384_POINT_LEN], Error> {
    let presented_root = cabundle
        .first()
        .ok_or(Malformed::MissingField("cabundle"))?;
    if sha256(presented_root) != root.sha256 {
        return Err(ChainError::UntrustedRoot {
            found: hex::encode(sha256(presented_root)),
        }
        .into());
    }
    let n = cabundle.len(); // index of the leaf
    let mut issuer = parse_cert(presented_root, 0)?;
    check_validity(&issuer, 0, now_ms)?;
    check_ca(&issuer, 0, n - 1)?;
    let rest = cabundle.iter().copied().chain(std::iter::once(leaf));
    for (index, der) in rest.enumerate().skip(1) {
        let cert = parse_cert(der, index)?;
        if cert.x509.issuer().as_raw() != issuer.x509.subject().as_raw() {
            return Err(ChainError::IssuerMismatch { index }.into());
        }
        if index < n {
            if cert.x509.issuer().as_raw() == cert.x509.subject().as_raw() {
                return Err(ChainError::SelfIssued { index }.into());
            }
            check_ca(&cert, index, n - 1 - index)?;
        } else {
            check_leaf(&cert)?;
        }
        check_validity(&cert, index, now_ms)?;
        // Intermediates are cached by (issuer key, TBS); the leaf (~3 h lifetime) is always checked.
        let key = (index < n && cache.is_some())
            .then(|| CertCache::key(issuer.point, cert.x509.tbs_certificate.as_ref()));
        let cached = match (&key, cache) {
            (Some(k), Some(c)) => c.contains(k),
            _ => false,
        };
        if !cached {
            verify_signed_by(&cert, &issuer, index)?;
            if let (Some(k), Some(c)) = (key, cache) {
                c.insert(k);
            }
        }
        issuer = cert;
    }
    let mut point = [0u8; P384_POINT_LEN];
    point.copy_from_slice(issuer.point);
    Ok(point)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_aws_root_matches_pin() {
        assert_eq!(sha256(AWS_ROOT_G1_DER), AWS_ROOT_G1_SHA256);
        let root = TrustedRoot::aws_nitro_g1();
        assert!(root.is_aws());
        assert_eq!(
            hex::encode(root.sha256()),
            "641a0321a3e244efe456463195d606317ed7cdcc3c1756e09893f3c68f79bb5b"
        );
        // The root is itself a P-384 ecdsa-with-SHA384 CA.
        let cert = parse_cert(AWS_ROOT_G1_DER, 0).expect("root parses");
        check_ca(&cert, 0, 3).expect("root is a CA");
    }

    #[test]
    fn other_root_is_not_aws() {
        assert!(!TrustedRoot::from_der(vec![1, 2, 3]).is_aws());
    }
}
