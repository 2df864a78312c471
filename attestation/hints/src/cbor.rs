//! Just enough CBOR to find the signatures of a Nitro attestation document.

use minicbor::Decoder;
use minicbor::data::Type;

use crate::Error;

pub(crate) struct Envelope {
    pub(crate) protected: Vec<u8>,
    pub(crate) payload: Vec<u8>,
    pub(crate) signature: Vec<u8>,
}

pub(crate) struct Payload {
    pub(crate) certificate: Vec<u8>,
    pub(crate) cabundle: Vec<Vec<u8>>,
}

fn bad(what: &'static str) -> impl Fn(minicbor::decode::Error) -> Error {
    move |_| Error::Malformed(what)
}

/// COSE_Sign1, tagged (18) or untagged: `[protected, unprotected, payload, signature]`.
pub(crate) fn envelope(bytes: &[u8]) -> Result<Envelope, Error> {
    let mut d = Decoder::new(bytes);
    if d.datatype().map_err(bad("envelope"))? == Type::Tag {
        d.tag().map_err(bad("tag"))?;
    }
    d.array().map_err(bad("envelope"))?;
    let protected = d.bytes().map_err(bad("protected"))?.to_vec();
    d.skip().map_err(bad("unprotected"))?;
    let payload = d.bytes().map_err(bad("payload"))?.to_vec();
    let signature = d.bytes().map_err(bad("signature"))?.to_vec();
    if signature.len() != 96 {
        return Err(Error::Malformed("signature length"));
    }
    Ok(Envelope {
        protected,
        payload,
        signature,
    })
}

/// The `certificate` and `cabundle` fields of the payload map (definite or indefinite).
pub(crate) fn payload(bytes: &[u8]) -> Result<Payload, Error> {
    let mut d = Decoder::new(bytes);
    let len = d.map().map_err(bad("payload"))?;
    let mut certificate = None;
    let mut cabundle = None;
    let mut i = 0u64;
    loop {
        match len {
            Some(n) if i == n => break,
            None if d.datatype().map_err(bad("payload"))? == Type::Break => break,
            _ => {}
        }
        i += 1;
        match d.str().map_err(bad("payload key"))? {
            "certificate" => certificate = Some(d.bytes().map_err(bad("certificate"))?.to_vec()),
            "cabundle" => {
                let mut certs = Vec::new();
                for cert in d
                    .array_iter::<&minicbor::bytes::ByteSlice>()
                    .map_err(bad("cabundle"))?
                {
                    certs.push(cert.map_err(bad("cabundle"))?.to_vec());
                }
                cabundle = Some(certs);
            }
            _ => d.skip().map_err(bad("payload value"))?,
        }
    }
    Ok(Payload {
        certificate: certificate.ok_or(Error::Malformed("certificate missing"))?,
        cabundle: cabundle
            .filter(|c| !c.is_empty())
            .ok_or(Error::Malformed("cabundle missing"))?,
    })
}

/// CBOR of the COSE Sig_structure `["Signature1", protected, h'', payload]`, the bytes the document
/// signature signs (hashed with SHA-384).
pub(crate) fn sig_structure(protected: &[u8], payload: &[u8]) -> Vec<u8> {
    let mut out = vec![0x84];
    head(&mut out, 3, 10);
    out.extend_from_slice(b"Signature1");
    head(&mut out, 2, protected.len());
    out.extend_from_slice(protected);
    head(&mut out, 2, 0);
    head(&mut out, 2, payload.len());
    out.extend_from_slice(payload);
    out
}

/// A CBOR item head: major type and length (shortest form).
fn head(out: &mut Vec<u8>, major: u8, len: usize) {
    let m = major << 5;
    match len {
        0..=23 => out.push(m | len as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, len as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend_from_slice(&(len as u32).to_be_bytes());
        }
    }
}
