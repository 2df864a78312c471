//! The COSE_Sign1 envelope (RFC 9052 §4.2), tagged (CBOR tag 18) or untagged.

use coset::{CborSerializable, CoseError, CoseSign1, TaggedCborSerializable, iana};
use minicbor::Decoder;
use minicbor::data::Type;

use crate::error::Malformed;

/// Raw `r || s` ES384 signature length.
pub(crate) const SIGNATURE_LEN: usize = 96;

/// COSE `alg` value of ES384, the only algorithm an AWS NSM signs with.
pub(crate) const ES384: i64 = -35;

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
    let sign1 = match parsed {
        Ok(sign1) => sign1,
        // coset refuses an `alg` outside IANA's registry and private-use range (qemu's emulated
        // NSM writes -1): when the structure is otherwise a COSE_Sign1, name the algorithm.
        Err(e) => {
            return Err(match decode_structure(bytes) {
                Ok(raw) if raw.alg != Some(ES384) => Malformed::UnsupportedAlgorithm,
                _ => envelope_error(e),
            });
        }
    };
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

/// A COSE_Sign1 taken apart without judging its headers or signature.
pub(crate) struct RawEnvelope<'a> {
    /// The payload byte string.
    pub(crate) payload: &'a [u8],
    /// The signature byte string, whatever its length.
    pub(crate) signature: &'a [u8],
    /// The protected header's `alg` when it is an integer.
    pub(crate) alg: Option<i64>,
}

/// Decodes only the COSE_Sign1 structure: optional tag 18 (one-byte form, as [`decode`]), a
/// 4-array of protected header (a byte string holding a CBOR map, or empty), unprotected header
/// map, attached payload and signature, and nothing after it. Neither the algorithm nor the
/// signature length nor any other header is checked: for reading a document without verifying it.
pub(crate) fn decode_structure(bytes: &[u8]) -> Result<RawEnvelope<'_>, Malformed> {
    let start = usize::from(bytes.first() == Some(&0xd2));
    let mut d = Decoder::new(bytes);
    d.set_position(start);
    let len = match d.datatype().map_err(cbor_error)? {
        Type::Array | Type::ArrayIndef => d.array().map_err(cbor_error)?,
        other => {
            return Err(Malformed::Envelope(format!(
                "a COSE_Sign1 is a 4-array, found {other}"
            )));
        }
    };
    if let Some(n) = len
        && n != 4
    {
        return Err(Malformed::Envelope(format!(
            "a COSE_Sign1 is a 4-array, found {n} items"
        )));
    }
    let protected = definite_bytes(&mut d, "protected header")?;
    let alg = protected_alg(protected)?;
    match d.datatype().map_err(cbor_error)? {
        Type::Map | Type::MapIndef => d.skip().map_err(cbor_error)?,
        other => {
            return Err(Malformed::Envelope(format!(
                "unprotected header is {other}, not a map"
            )));
        }
    }
    if d.datatype().map_err(cbor_error)? == Type::Null {
        return Err(Malformed::MissingPayload);
    }
    let payload = definite_bytes(&mut d, "payload")?;
    let signature = definite_bytes(&mut d, "signature")?;
    if len.is_none() {
        match d.datatype().map_err(cbor_error)? {
            Type::Break => d.set_position(d.position() + 1),
            _ => {
                return Err(Malformed::Envelope(
                    "a COSE_Sign1 is a 4-array, found more items".into(),
                ));
            }
        }
    }
    if d.position() != bytes.len() {
        return Err(Malformed::TrailingBytes("envelope"));
    }
    Ok(RawEnvelope {
        payload,
        signature,
        alg,
    })
}

fn cbor_error(e: minicbor::decode::Error) -> Malformed {
    if e.is_end_of_input() {
        Malformed::Truncated("envelope")
    } else {
        Malformed::Envelope(e.to_string())
    }
}

fn definite_bytes<'a>(d: &mut Decoder<'a>, what: &str) -> Result<&'a [u8], Malformed> {
    match d.datatype().map_err(cbor_error)? {
        Type::Bytes => d.bytes().map_err(cbor_error),
        other => Err(Malformed::Envelope(format!(
            "{what} is {other}, not a byte string"
        ))),
    }
}

/// The integer `alg` (label 1) of a serialized protected header; `None` when the header is empty,
/// has no `alg`, or names it by text.
fn protected_alg(protected: &[u8]) -> Result<Option<i64>, Malformed> {
    if protected.is_empty() {
        return Ok(None);
    }
    let not_a_map = |_| Malformed::Envelope("protected header is not a CBOR map".into());
    let mut d = Decoder::new(protected);
    let mut remaining = match d.datatype().map_err(not_a_map)? {
        Type::Map | Type::MapIndef => d.map().map_err(not_a_map)?,
        _ => {
            return Err(Malformed::Envelope(
                "protected header is not a CBOR map".into(),
            ));
        }
    };
    let mut alg = None;
    loop {
        match &mut remaining {
            Some(0) => break,
            Some(n) => *n -= 1,
            None if d.datatype().map_err(not_a_map)? == Type::Break => {
                d.set_position(d.position() + 1);
                break;
            }
            None => {}
        }
        let key = int_or_skip(&mut d).map_err(not_a_map)?;
        let value = int_or_skip(&mut d).map_err(not_a_map)?;
        if key == Some(1) {
            alg = value;
        }
    }
    if d.position() != protected.len() {
        return Err(Malformed::Envelope(
            "protected header has bytes after its map".into(),
        ));
    }
    Ok(alg)
}

/// Consumes the next item: `Some` when it is an integer that fits an `i64`, else skips it.
fn int_or_skip(d: &mut Decoder<'_>) -> Result<Option<i64>, minicbor::decode::Error> {
    let int = matches!(
        d.datatype()?,
        Type::U8 | Type::U16 | Type::U32 | Type::U64 | Type::I8 | Type::I16 | Type::I32 | Type::I64
    );
    if int && d.probe().i64().is_ok() {
        d.i64().map(Some)
    } else {
        d.skip().map(|()| None)
    }
}
