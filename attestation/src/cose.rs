//! The COSE_Sign1 envelope (RFC 9052 §4.2), tagged (CBOR tag 18) or untagged.

use coset::{CborSerializable, CoseError, CoseSign1, TaggedCborSerializable, iana};

use crate::error::Malformed;

/// Raw `r || s` ES384 signature length.
pub(crate) const SIGNATURE_LEN: usize = 96;

/// A decoded envelope: the signed payload, the bytes the signature covers, and the signature.
pub(crate) struct Envelope {
    /// The payload byte string (the CBOR attestation map).
    pub(crate) payload: Vec<u8>,
    /// `Sig_structure = ["Signature1", protected, h'', payload]`, CBOR-encoded.
    pub(crate) signed_bytes: Vec<u8>,
    /// Raw `r || s`.
    pub(crate) signature: Vec<u8>,
}

/// Decodes a COSE_Sign1, checks that the protected header names ES384 and that a 96-byte
/// signature and an attached payload are present.
pub(crate) fn decode(bytes: &[u8]) -> Result<Envelope, Malformed> {
    // 0xd2 = tag 18 (COSE_Sign1) in its one-byte form; every other leading byte goes to the
    // untagged decoder, which rejects anything that is not a 4-array.
    let parsed = if bytes.first() == Some(&0xd2) {
        CoseSign1::from_tagged_slice(bytes)
    } else {
        CoseSign1::from_slice(bytes)
    };
    let sign1 = parsed.map_err(envelope_error)?;
    let es384 = coset::RegisteredLabelWithPrivate::Assigned(iana::Algorithm::ES384);
    if sign1.protected.header.alg.as_ref() != Some(&es384) {
        return Err(Malformed::UnsupportedAlgorithm);
    }
    if sign1.signature.len() != SIGNATURE_LEN {
        return Err(Malformed::SignatureLength(sign1.signature.len()));
    }
    let signed_bytes = sign1.tbs_data(&[]);
    let signature = sign1.signature;
    let payload = sign1.payload.ok_or(Malformed::MissingPayload)?;
    Ok(Envelope {
        payload,
        signed_bytes,
        signature,
    })
}

fn envelope_error(e: CoseError) -> Malformed {
    match e {
        CoseError::DecodeFailed(coset::cbor::de::Error::Io(_)) => Malformed::Truncated("envelope"),
        CoseError::ExtraneousData => Malformed::TrailingBytes("envelope"),
        other => Malformed::Envelope(other.to_string()),
    }
}
