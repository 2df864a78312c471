//! Off-chain hints for the on-chain Nitro attestation verifier.
//!
//! The contract verifies ECDSA P-384 without any modular inversion on-chain: the caller supplies
//! w = s⁻¹ mod n for every signature and the contract checks s·w ≡ 1 (mod n). n is prime, so the
//! hint is unique and cannot change the verdict, only the gas. This crate extracts the signatures
//! of a COSE_Sign1 attestation document (certificate chain and document) and computes the hints.
#![forbid(unsafe_code)]

mod cbor;
mod error;

pub use error::Error;

use num_bigint::BigUint;

/// The order n of the P-384 group (big-endian).
const N: [u8; 48] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf,
    0x58, 0x1a, 0x0d, 0xb2, 0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73,
];

/// One hint as the contract reads it: two ABI words, the high 128 bits and the low 256 bits.
pub type Hint = [[u8; 32]; 2];

/// w = s⁻¹ mod n as (hi, lo) words. `s` must be in [1, n).
pub fn inverse_hint(s: &[u8]) -> Result<Hint, Error> {
    let n = BigUint::from_bytes_be(&N);
    let s = BigUint::from_bytes_be(s);
    if s == BigUint::ZERO || s >= n {
        return Err(Error::ScalarOutOfRange);
    }
    // Fermat: n is prime.
    let w = s.modpow(&(&n - 2u32), &n);
    Ok(split(&w))
}

fn split(v: &BigUint) -> Hint {
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
    let mut hints = Vec::with_capacity(payload.cabundle.len() + 1);
    for der in payload
        .cabundle
        .iter()
        .skip(1)
        .chain(std::iter::once(&payload.certificate))
    {
        hints.push(certificate_hint(der)?);
    }
    hints.push(inverse_hint(&envelope.signature[48..])?);
    Ok(hints)
}

/// The hint of a certificate's own signature (the s of its ECDSA-Sig-Value).
pub fn certificate_hint(der: &[u8]) -> Result<Hint, Error> {
    use x509_parser::prelude::FromDer;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der)
        .map_err(|e| Error::Certificate(e.to_string()))?;
    let (_, s) = ecdsa_sig_value(&cert.signature_value.data)?;
    inverse_hint(s)
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
    out.extend_from_slice(&word(hints.len() * 2));
    for [hi, lo] in hints {
        out.extend_from_slice(hi);
        out.extend_from_slice(lo);
    }
    out
}

fn word(v: usize) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[24..].copy_from_slice(&(v as u64).to_be_bytes());
    w
}
