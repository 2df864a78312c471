//! Off-chain hints for the on-chain Nitro attestation verifier.
//!
//! The contract verifies ECDSA P-384 without any modular inversion on-chain. For every signature the
//! caller supplies six words (`Hint`):
//! - w = s⁻¹ mod n as (high 128, low 256 bits); the contract checks s·w ≡ 1 (mod n). n is prime, so
//!   the hint is unique and cannot change the verdict.
//! - the half-size hint of Antipa et al.: R = u1·G + u2·Q (its y, and whether x(R) = r + n) and
//!   a, b below 2^192 with a·u2 ≡ b (mod n), from the extended Euclidean algorithm on (n, u2). The
//!   contract checks (a·u1 mod n)·G + b·Q − a·R = O with 192-bit scalars (half the doublings). A wrong
//!   half-size hint only makes the contract fall back to the textbook check; it is all zero when R
//!   does not exist (the signature is invalid).
//!
//! This crate extracts the signatures of a COSE_Sign1 attestation document (certificate chain and
//! document), with their digests and signer keys, and computes the hints.
#![forbid(unsafe_code)]

mod cbor;
mod error;

pub use error::Error;

use num_bigint::{BigInt, BigUint, Sign};
use p384::elliptic_curve::PrimeField;
use p384::elliptic_curve::sec1::{FromEncodedPoint, ToEncodedPoint};
use sha2::{Digest, Sha384};

/// The order n of the P-384 group (big-endian).
const N: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

/// Words per signature in the contract's hint list.
pub const HINT_WORDS: usize = 6;

/// One signature's hint as the contract reads it: w_hi, w_lo (w = s⁻¹ mod n), then h0..h3 (h0: high
/// 128 bits of y(R), bit 255 set iff x(R) = r + n; h1: low 256 bits of y(R); h2: a; h3: |b|, bit 255
/// set iff b < 0).
pub type Hint = [[u8; 32]; HINT_WORDS];

/// w = s⁻¹ mod n as (hi, lo) words. `s` must be in [1, n).
pub fn inverse_hint(s: &[u8]) -> Result<[[u8; 32]; 2], Error> {
    let n = BigUint::from_bytes_be(&N);
    let s = BigUint::from_bytes_be(s);
    if s == BigUint::ZERO || s >= n {
        return Err(Error::ScalarOutOfRange);
    }
    // Fermat: n is prime.
    let w = s.modpow(&(&n - 2u32), &n);
    Ok(split(&w))
}

/// The hint of one ECDSA P-384 signature (r, s) over `digest` (SHA-384) under `key`, the
/// uncompressed SEC1 point 0x04 ‖ x ‖ y. The half-size part is zero when the signature is invalid.
pub fn signature_hint(digest: &[u8; 48], r: &[u8], s: &[u8], key: &[u8]) -> Result<Hint, Error> {
    let [w_hi, w_lo] = inverse_hint(s)?;
    let mut hint = [[0u8; 32]; HINT_WORDS];
    hint[0] = w_hi;
    hint[1] = w_lo;
    if let Some(half) = half_size_hint(digest, r, s, key)? {
        hint[2..].copy_from_slice(&half);
    }
    Ok(hint)
}

/// h0..h3, or None when u1·G + u2·Q is not a point whose x is r mod n (an invalid signature).
fn half_size_hint(
    digest: &[u8; 48],
    r: &[u8],
    s: &[u8],
    key: &[u8],
) -> Result<Option<[[u8; 32]; 4]>, Error> {
    let n = BigUint::from_bytes_be(&N);
    let q = match key {
        [0x04, xy @ ..] if xy.len() == 96 => {
            let point = p384::EncodedPoint::from_affine_coordinates(
                p384::FieldBytes::from_slice(&xy[..48]),
                p384::FieldBytes::from_slice(&xy[48..]),
                false,
            );
            Option::<p384::AffinePoint>::from(p384::AffinePoint::from_encoded_point(&point))
                .ok_or(Error::Key)?
        }
        _ => return Err(Error::Key),
    };
    let r = BigUint::from_bytes_be(r);
    if r == BigUint::ZERO || r >= n {
        return Ok(None);
    }
    let w = BigUint::from_bytes_be(s).modpow(&(&n - 2u32), &n);
    let u1 = BigUint::from_bytes_be(digest) * &w % &n;
    let u2 = &r * &w % &n;
    let sum = p384::ProjectivePoint::GENERATOR * scalar(&u1)
        + p384::ProjectivePoint::from(q) * scalar(&u2);
    let encoded = sum.to_affine().to_encoded_point(false);
    let (Some(x), Some(y)) = (encoded.x(), encoded.y()) else {
        return Ok(None); // the point at infinity
    };
    let x = BigUint::from_bytes_be(x);
    if &x % &n != r {
        return Ok(None);
    }
    let (a, b) = half_size(&u2, &n);
    let mut h = [[0u8; 32]; 4];
    [h[0], h[1]] = split(&BigUint::from_bytes_be(y));
    if x != r {
        h[0][0] |= 0x80;
    }
    h[2] = word_of(&a.magnitude().clone());
    h[3] = word_of(b.magnitude());
    if b.sign() == Sign::Minus {
        h[3][0] |= 0x80;
    }
    Ok(Some(h))
}

/// (a, b) with 0 < a < 2^192, |b| < 2^192 and a·u2 ≡ b (mod n): the extended Euclidean algorithm on
/// (n, u2), stopped at the first remainder below 2^192 (its cofactor is then below n / 2^192).
fn half_size(u2: &BigUint, n: &BigUint) -> (BigInt, BigInt) {
    let bound = BigInt::from(1u8) << 192u32;
    let (mut r0, mut r1) = (BigInt::from(n.clone()), BigInt::from(u2.clone()));
    let (mut t0, mut t1) = (BigInt::ZERO, BigInt::from(1u8));
    while r1 >= bound {
        let q = &r0 / &r1;
        let r2 = &r0 - &q * &r1;
        let t2 = &t0 - &q * &t1;
        (r0, r1) = (r1, r2);
        (t0, t1) = (t1, t2);
    }
    if t1.sign() == Sign::Minus {
        (-t1, -r1)
    } else {
        (t1, r1)
    }
}

/// A value below n as a P-384 scalar.
fn scalar(v: &BigUint) -> p384::Scalar {
    let mut bytes = [0u8; 48];
    let be = v.to_bytes_be();
    bytes[48 - be.len()..].copy_from_slice(&be);
    // Every caller reduces mod n first, so the encoding is canonical.
    Option::<p384::Scalar>::from(p384::Scalar::from_repr(bytes.into()))
        .unwrap_or(p384::Scalar::ZERO)
}

/// A value below 2^256 as one big-endian word.
fn word_of(v: &BigUint) -> [u8; 32] {
    let be = v.to_bytes_be();
    let mut w = [0u8; 32];
    w[32 - be.len()..].copy_from_slice(&be);
    w
}

fn split(v: &BigUint) -> [[u8; 32]; 2] {
    let bytes = v.to_bytes_be();
    let mut full = [0u8; 48];
    full[48 - bytes.len()..].copy_from_slice(&bytes);
    let mut hi = [0u8; 32];
    hi[16..].copy_from_slice(&full[..16]);
    let mut lo = [0u8; 32];
    lo.copy_from_slice(&full[16..]);
    [hi, lo]
}

/// The DER of the certificates of a document, in chain order (cabundle, root first, then the leaf).
pub fn chain(document: &[u8]) -> Result<Vec<Vec<u8>>, Error> {
    let envelope = cbor::envelope(document)?;
    let payload = cbor::payload(&envelope.payload)?;
    let mut certs = payload.cabundle;
    certs.push(payload.certificate);
    Ok(certs)
}

/// The hints of a document in the contract's order: cabundle[1..], the leaf, the document.
pub fn document_hints(document: &[u8]) -> Result<Vec<Hint>, Error> {
    let envelope = cbor::envelope(document)?;
    let payload = cbor::payload(&envelope.payload)?;
    let mut certs = payload.cabundle;
    certs.push(payload.certificate);
    let mut hints = Vec::with_capacity(certs.len());
    for pair in certs.windows(2) {
        hints.push(certificate_hint(&pair[1], &pair[0])?);
    }
    let digest: [u8; 48] =
        Sha384::digest(cbor::sig_structure(&envelope.protected, &envelope.payload)).into();
    let leaf = certs
        .last()
        .ok_or(Error::Malformed("certificate missing"))?;
    let (r, s) = envelope.signature.split_at(48);
    hints.push(signature_hint(&digest, r, s, &public_key(leaf)?)?);
    Ok(hints)
}

/// The hint of a certificate's own signature (the r, s of its ECDSA-Sig-Value, over SHA-384 of its
/// TBSCertificate) under the key of `issuer` (the certificate above it in the chain).
pub fn certificate_hint(der: &[u8], issuer: &[u8]) -> Result<Hint, Error> {
    let cert = parse(der)?;
    let (r, s) = ecdsa_sig_value(&cert.signature_value.data)?;
    let digest: [u8; 48] = Sha384::digest(cert.tbs_certificate.as_ref()).into();
    signature_hint(&digest, r, s, &public_key(issuer)?)
}

fn parse(der: &[u8]) -> Result<x509_parser::certificate::X509Certificate<'_>, Error> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|e| Error::Certificate(e.to_string()))?;
    Ok(cert)
}

/// The subject public key of a certificate (the SEC1 point of its SubjectPublicKeyInfo).
fn public_key(der: &[u8]) -> Result<Vec<u8>, Error> {
    Ok(parse(der)?.public_key().subject_public_key.data.to_vec())
}

/// Splits a DER ECDSA-Sig-Value SEQUENCE { INTEGER r, INTEGER s } (short-form lengths only, as
/// P-384 signatures always are) into the unsigned big-endian r and s.
fn ecdsa_sig_value(der: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    let body = match der {
        [0x30, len, rest @ ..] if usize::from(*len) == rest.len() => rest,
        _ => return Err(Error::Signature),
    };
    let (r, rest) = der_integer(body)?;
    let (s, rest) = der_integer(rest)?;
    if !rest.is_empty() {
        return Err(Error::Signature);
    }
    Ok((r, s))
}

fn der_integer(b: &[u8]) -> Result<(&[u8], &[u8]), Error> {
    match b {
        [0x02, len, rest @ ..] if usize::from(*len) <= rest.len() => {
            let (v, rest) = rest.split_at(usize::from(*len));
            let v = match v {
                [0, tail @ ..] => tail,
                v => v,
            };
            Ok((v, rest))
        }
        _ => Err(Error::Signature),
    }
}

/// ABI encoding of `(bytes document, uint256[] hints)`, the argument of `verify(bytes)`.
pub fn verify_input(document: &[u8], hints: &[Hint]) -> Vec<u8> {
    let mut out = Vec::new();
    let doc_words = document.len().div_ceil(32);
    out.extend_from_slice(&word(64)); // offset of `document`
    out.extend_from_slice(&word(64 + 32 + 32 * doc_words)); // offset of `hints`
    out.extend_from_slice(&word(document.len()));
    out.extend_from_slice(document);
    out.resize(out.len() + doc_words * 32 - document.len(), 0);
    out.extend_from_slice(&word(hints.len() * HINT_WORDS));
    for hint in hints {
        for w in hint {
            out.extend_from_slice(w);
        }
    }
    out
}

fn word(v: usize) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&(v as u64).to_be_bytes());
    w
}
